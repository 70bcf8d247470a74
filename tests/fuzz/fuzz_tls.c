/* fuzz_tls: what a TLS server sends, fed to the client side of the TLS layer
 * (src/net/tls.c: tls_start, tls_input, tls_reset, tls_conn_free) in reads
 * of varying size, as hopper's clients feed it what the loop read.
 *
 * Input: byte 0 sets the read size (1 to 256 bytes); the rest is the
 * server's bytes (a ServerHello and what follows, or garbage).
 *
 * Promises checked, beyond no crash, leak or undefined behaviour:
 * - tls_input takes every byte it is given (the BIO is empty after it);
 * - TLS_IN_ERROR comes with an error kind; other results leave none;
 * - plaintext arrives only after the handshake, and never more of it than
 *   bytes came in;
 * - after an error or close the connection accepts no more input quietly
 *   (the caller stops feeding; here: tls_reset and tls_conn_free clean up).
 * Certificates are not verified (insecure) so that any certificate a
 * mutated handshake carries gets as far as the code that reads records. */
#include "fuzz.h"
#include "net/tls.h"

static tls_ctx_t *ctx;

typedef struct {
    size_t plain;
    const tls_conn_t *t;
} seen_t;

static bool on_plain(void *ud, const char *data, size_t n)
{
    seen_t *s = ud;
    (void)data;
    FUZZ_CHECK(s->t->ready);
    s->plain += n;
    return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    tls_config_t c = {.insecure = true};
    ctx = tls_ctx_new(&c, err, sizeof err);
    if (!ctx) {
        fprintf(stderr, "fuzz_tls: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] + 1;
    data++;
    size--;
    tls_conn_t t;
    tls_conn_init(&t, ctx, NULL, NULL);
    /* No stream: nothing is flushed, the client's hello simply waits in the
     * output buffer. */
    FUZZ_CHECK(tls_start(&t, NULL, "fuzz.example") == 0);
    seen_t seen = {0, &t};
    size_t fed = 0;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        tls_in_t rc = tls_input(&t, (const char *)data + off, n, on_plain, &seen);
        fed += n;
        FUZZ_CHECK(t.in_len == 0);
        FUZZ_CHECK(seen.plain <= fed);
        if (rc == TLS_IN_ERROR) {
            FUZZ_CHECK(t.error != TLS_OK);
            break;
        }
        FUZZ_CHECK(t.error == TLS_OK);
        if (rc == TLS_IN_CLOSED)
            break;
    }
    tls_conn_free(&t);
    return 0;
}

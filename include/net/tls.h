/* tls: TLS on a libuv stream, through OpenSSL with memory buffers, for both
 * ends: hopper's own clients (src/http) and hopper-target (src/target).
 *
 * OpenSSL never touches the socket. Ciphertext that the loop read is handed
 * to tls_input, which lets OpenSSL read it in place (a BIO of our own reads
 * straight from the caller's buffer: no copy into a memory BIO) and gives
 * the plaintext back through a callback; plaintext to send goes through
 * tls_write, whose records pile up in the connection's output buffer, and
 * tls_flush sends that with uv_try_write (uv_write only for what the kernel
 * did not take). So a kept-alive request costs the same system calls as in
 * the clear: one write and the reads.
 *
 * A tls_ctx_t is one per event loop and role (its plaintext buffer is
 * shared by every connection of the loop, since input is handled at once);
 * a tls_conn_t is embedded in each connection and survives reconnects: its
 * SSL object lives from tls_start to tls_reset, and a client keeps the last
 * session the server gave it, so that the user's next connection resumes
 * (an abbreviated handshake) unless resumption is off.
 *
 * Idle connections hold no record buffers (SSL_MODE_RELEASE_BUFFERS), and
 * an output buffer grown past TLS_OUT_KEEP_MAX by a large request is freed
 * once it has gone out. That is a trade: OpenSSL then allocates its read and
 * write record buffers (about 17 KB each) for each request and frees them
 * after, two malloc/free pairs per request (measured at about 4% of the
 * client's CPU per HTTPS request), so that an idle user holds about 23 KB
 * instead of about 57 KB. Everything else on the hot path allocates nothing. */
#ifndef HOPPER_NET_TLS_H
#define HOPPER_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define TLS_OUT_KEEP_MAX 16384

typedef struct tls_ctx tls_ctx_t;
typedef struct tls_conn tls_conn_t;

typedef struct {
    bool server;
    const char *cert_file;   /* server: its certificate chain (PEM); client: --cert, or NULL */
    const char *key_file;    /* the key of cert_file (NULL: in cert_file) */
    const char *ca_file;     /* client: --cacert (PEM); NULL: the system's store */
    bool insecure;           /* client: no verification at all (--insecure) */
    bool no_resume;          /* client: every connection makes a full handshake */
    bool h2;                 /* client: offer h2 before http/1.1 (ALPN); server: accept h2 */
    const unsigned char *ticket_keys; /* server: TLS_TICKET_KEYS_LEN random bytes that every
                                       * process serving the port shares, so that a session
                                       * one made resumes on another; NULL: OpenSSL's own */
} tls_config_t;

#define TLS_TICKET_KEYS_LEN 80

/* How a connection's TLS failed (tls_conn_t.error). */
typedef enum {
    TLS_OK = 0,
    TLS_E_UNTRUSTED,   /* the peer's certificate did not verify: reason says why */
    TLS_E_HANDSHAKE,   /* the handshake failed otherwise (a plain-HTTP server, an alert,
                        * no common protocol): reason is OpenSSL's */
    TLS_E_PROTOCOL     /* after the handshake: a bad record, a refused renegotiation */
} tls_error_t;

/* What tls_input did with its bytes. */
typedef enum {
    TLS_IN_OK,        /* all taken; any plaintext was given to the callback */
    TLS_IN_STOPPED,   /* the callback returned false: the rest was dropped */
    TLS_IN_CLOSED,    /* the peer sent close_notify: no more data will come */
    TLS_IN_ERROR      /* conn->error and conn->reason say what */
} tls_in_t;

/* Plaintext that arrived; false stops tls_input (the caller closed or
 * finished with the connection). */
typedef bool (*tls_plain_cb)(void *ud, const char *data, size_t len);
/* A queued write (the part uv_try_write did not take) ended: status as
 * libuv's write callback's. Not called for writes uv_try_write finished. */
typedef void (*tls_written_cb)(tls_conn_t *t, int status);

struct tls_conn {
    struct ssl_st *ssl;                /* from tls_start to tls_reset; NULL between */
    struct ssl_session_st *session;    /* client: the session to resume, or NULL */
    tls_ctx_t *ctx;
    uv_stream_t *stream;               /* where ciphertext goes */
    uv_write_t write_req;              /* data: this tls_conn_t */
    tls_written_cb on_written;
    void *user;                        /* the owner's, for its callbacks */
    const char *in;                    /* ciphertext being handed to OpenSSL */
    size_t in_len;
    char *out[2];                      /* [back] fills; [!back] is being written */
    size_t out_len[2], out_cap[2], out_sent;
    unsigned back;
    bool writing;                      /* a uv_write of out[!back] is queued */
    bool flush_sent;                   /* the last tls_flush sent some bytes before it failed */
    bool ready;                        /* the handshake is done */
    bool resumed;                      /* ... and it resumed a session */
    tls_error_t error;
    const char *reason;                /* static text for error */
};

/* NULL with a message naming the file or the problem. */
tls_ctx_t *tls_ctx_new(const tls_config_t *cfg, char *err, size_t errlen);
void tls_ctx_free(tls_ctx_t *ctx);

/* Handshakes so far over every connection of the context, and how many of
 * them resumed a session (clients). */
uint64_t tls_ctx_handshakes(const tls_ctx_t *ctx);
uint64_t tls_ctx_resumed(const tls_ctx_t *ctx);

/* Once, when the connection's owner is set up: on_written and user are the
 * owner's. Allocates nothing. */
void tls_conn_init(tls_conn_t *t, tls_ctx_t *ctx, tls_written_cb on_written, void *user);

/* A new TCP connection on stream: a client starts its handshake (its hello
 * waits in the output: tls_flush it) naming host (SNI, unless it is an
 * address, and the name the certificate must carry); a server waits for
 * the client's hello (host NULL). 0, or -1 when OpenSSL cannot make one. */
int tls_start(tls_conn_t *t, uv_stream_t *stream, const char *host);

/* Ciphertext that arrived: handshake, then plaintext to on_plain (any
 * number of calls). Output that OpenSSL made (handshake messages, alerts)
 * waits for tls_flush. */
tls_in_t tls_input(tls_conn_t *t, const char *data, size_t len, tls_plain_cb on_plain, void *ud);

/* Plaintext to send, gathered from n pieces into as few records as
 * possible. Only once the handshake is done. 0, or -1 (OpenSSL refused:
 * conn->error says why). */
int tls_write(tls_conn_t *t, const uv_buf_t *bufs, unsigned n);

/* Sends what waits in the output: 0 when all of it went out or is queued
 * (on_written follows then), or libuv's negative error when the socket
 * refused it (flush_sent says whether some of it had gone out before). */
int tls_flush(tls_conn_t *t);

/* Whether a queued write is still under way. */
static inline bool tls_writing(const tls_conn_t *t) { return t->writing; }

/* The protocol the peer chose by ALPN ("h2", "http/1.1"), or NULL. */
const char *tls_alpn(const tls_conn_t *t);

/* Adds close_notify to the output (a polite close: tls_flush it). */
void tls_close_notify(tls_conn_t *t);

/* The TCP connection is gone: frees the SSL object (the session stays for
 * the next tls_start). A queued write's memory stays until its callback,
 * which libuv runs (with UV_ECANCELED) before the stream's close callback. */
void tls_reset(tls_conn_t *t);

/* The owner is going: tls_reset, and the session and buffers go too. */
void tls_conn_free(tls_conn_t *t);

/* The text of a certificate verification result (X509_V_ERR_*), the same
 * for hopper's clients and libcurl: "certificate has expired", "self-signed
 * certificate", "unknown issuer", "host name mismatch", ... */
const char *tls_verify_reason(long x509_result);

#endif

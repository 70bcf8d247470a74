/* test_tls: the TLS layer (src/net/tls.c) with both of its ends on one libuv
 * loop over a real loopback TCP connection: the handshake, certificate
 * verification and its reasons (self-signed, expired, another host, an
 * unknown CA, --insecure), a payload of many records both ways through the
 * queued-write path, session resumption on a second connection (and none
 * with no_resume), ALPN, and close_notify. The certificates are made here
 * with OpenSSL's API, so the test needs no files but its own. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"
#include "net/tls.h"

static char dir[] = "/tmp/hopper-tls-XXXXXX";

/* ---- certificates ----------------------------------------------------------- */

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by (issuer, issuer_key) or by itself,
 * valid from days_from to days_to (relative to now), naming san. */
static X509 *make_cert(EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, const char *cn,
                       const char *san, long days_from, long days_to, bool ca)
{
    X509 *c = X509_new();
    X509_set_version(c, 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c), days_from * 86400);
    X509_gmtime_adj(X509_getm_notAfter(c), days_to * 86400);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *signer = issuer ? issuer : c;
    if (ca) {
        add_ext(c, signer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (san)
        add_ext(c, signer, NID_subject_alt_name, san);
    X509_sign(c, issuer ? issuer_key : key, EVP_sha256());
    return c;
}

static void write_pem(const char *file, X509 *cert, EVP_PKEY *key)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (cert)
        PEM_write_X509(f, cert);
    if (key)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static const char *path_of(const char *file)
{
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "%s/%s", dir, file);
    return p;
}

static void make_certs(void)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
    EVP_PKEY *other_key = EVP_EC_gen("P-256");
    X509 *ca = make_cert(ca_key, NULL, NULL, "hopper test CA", NULL, -1, 2, true);
    X509 *other = make_cert(other_key, NULL, NULL, "another CA", NULL, -1, 2, true);
    X509 *good = make_cert(key, ca, ca_key, "127.0.0.1", "IP:127.0.0.1,DNS:localhost", -1, 2, false);
    X509 *expired = make_cert(key, ca, ca_key, "127.0.0.1", "IP:127.0.0.1", -10, -5, false);
    X509 *wrong = make_cert(key, ca, ca_key, "wrong", "DNS:wrong.example", -1, 2, false);
    X509 *unknown = make_cert(key, other, other_key, "127.0.0.1", "IP:127.0.0.1", -1, 2, false);
    X509 *self = make_cert(key, NULL, NULL, "127.0.0.1", "IP:127.0.0.1", -1, 2, false);
    write_pem("ca.crt", ca, NULL);
    write_pem("key.pem", NULL, key);
    write_pem("good.crt", good, NULL);
    write_pem("expired.crt", expired, NULL);
    write_pem("wrong.crt", wrong, NULL);
    write_pem("unknown.crt", unknown, NULL);
    write_pem("self.crt", self, NULL);
    X509 *all[] = {ca, other, good, expired, wrong, unknown, self};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        X509_free(all[i]);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other_key);
}

/* ---- one connection, both ends -------------------------------------------------- */

#define PAYLOAD (200 * 1000) /* many records, more than a socket buffer takes at once */

typedef struct {
    uv_loop_t loop;
    uv_tcp_t listener, server_tcp, client_tcp;
    uv_connect_t connect_req;
    uv_timer_t deadline;
    tls_ctx_t *server_ctx, *client_ctx;
    tls_conn_t server, client;
    const char *host;
    char *payload;
    size_t server_got, client_got;   /* plaintext bytes each end received */
    bool server_echoed, client_closed_notify, failed_timeout;
    tls_in_t client_result;
    int handles;
} pair_t;

static char read_buf[65536];

static void on_alloc(uv_handle_t *h, size_t n, uv_buf_t *b)
{
    (void)h;
    (void)n;
    b->base = read_buf;
    b->len = sizeof read_buf;
}

static void on_closed(uv_handle_t *h)
{
    pair_t *p = h->loop->data;
    p->handles--;
}

static void close_all(pair_t *p)
{
    uv_handle_t *hs[] = {(uv_handle_t *)&p->listener, (uv_handle_t *)&p->server_tcp,
                         (uv_handle_t *)&p->client_tcp, (uv_handle_t *)&p->deadline};
    for (size_t i = 0; i < 4; i++)
        if (hs[i]->type != UV_UNKNOWN_HANDLE && !uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
}

static bool server_plain(void *ud, const char *data, size_t n)
{
    pair_t *p = ud;
    (void)data;
    p->server_got += n;
    if (p->server_got == PAYLOAD && !p->server_echoed) {
        /* Answer with the whole payload, then close_notify. */
        p->server_echoed = true;
        uv_buf_t b = uv_buf_init(p->payload, PAYLOAD);
        CHECK_INT(tls_write(&p->server, &b, 1), 0);
        tls_close_notify(&p->server);
    }
    return true;
}

static void on_server_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    pair_t *p = s->loop->data;
    if (n <= 0)
        return;
    tls_input(&p->server, b->base, (size_t)n, server_plain, p);
    tls_flush(&p->server);
}

static bool client_plain(void *ud, const char *data, size_t n)
{
    pair_t *p = ud;
    CHECK(memcmp(data, p->payload + p->client_got, n) == 0);
    p->client_got += n;
    return true;
}

static void on_client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    pair_t *p = s->loop->data;
    if (n < 0) {
        close_all(p);
        return;
    }
    if (n == 0)
        return;
    bool was_ready = p->client.ready;
    tls_in_t rc = tls_input(&p->client, b->base, (size_t)n, client_plain, p);
    tls_flush(&p->client);
    if (rc == TLS_IN_ERROR || rc == TLS_IN_CLOSED) {
        p->client_result = rc;
        p->client_closed_notify = rc == TLS_IN_CLOSED;
        close_all(p);
        return;
    }
    if (!was_ready && p->client.ready) {
        /* The payload in three pieces: tls_write gathers what fits. */
        uv_buf_t parts[3] = {uv_buf_init(p->payload, 100), uv_buf_init(p->payload + 100, 1000),
                             uv_buf_init(p->payload + 1100, PAYLOAD - 1100)};
        CHECK_INT(tls_write(&p->client, parts, 3), 0);
        CHECK_INT(tls_flush(&p->client), 0);
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    pair_t *p = l->loop->data;
    CHECK_INT(status, 0);
    uv_tcp_init(&p->loop, &p->server_tcp);
    p->handles++;
    uv_accept(l, (uv_stream_t *)&p->server_tcp);
    CHECK_INT(tls_start(&p->server, (uv_stream_t *)&p->server_tcp, NULL), 0);
    uv_read_start((uv_stream_t *)&p->server_tcp, on_alloc, on_server_read);
}

static void on_connect(uv_connect_t *req, int status)
{
    pair_t *p = req->handle->loop->data;
    CHECK_INT(status, 0);
    uv_read_start((uv_stream_t *)&p->client_tcp, on_alloc, on_client_read);
    CHECK_INT(tls_start(&p->client, (uv_stream_t *)&p->client_tcp, p->host), 0);
    CHECK_INT(tls_flush(&p->client), 0);
}

static void on_deadline(uv_timer_t *t)
{
    pair_t *p = t->loop->data;
    p->failed_timeout = true;
    close_all(p);
}

/* One connection from a client context to a server context: what the
 * client saw. The client's tls_conn_t (its session) survives in *keep. */
static pair_t *run_pair(tls_ctx_t *server_ctx, tls_ctx_t *client_ctx, const char *host,
                        tls_conn_t *keep)
{
    pair_t *p = calloc(1, sizeof *p);
    p->payload = malloc(PAYLOAD);
    for (size_t i = 0; i < PAYLOAD; i++)
        p->payload[i] = (char)('a' + i % 26);
    p->host = host;
    uv_loop_init(&p->loop);
    p->loop.data = p;
    tls_conn_init(&p->server, server_ctx, NULL, p);
    if (keep)
        p->client = *keep;
    else
        tls_conn_init(&p->client, client_ctx, NULL, p);
    p->client.user = p;
    p->client.write_req.data = &p->client;
    uv_tcp_init(&p->loop, &p->listener);
    uv_tcp_init(&p->loop, &p->client_tcp);
    uv_timer_init(&p->loop, &p->deadline);
    p->handles = 3;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_bind(&p->listener, (const struct sockaddr *)&a, 0);
    uv_listen((uv_stream_t *)&p->listener, 8, on_connection);
    int len = sizeof a;
    uv_tcp_getsockname(&p->listener, (struct sockaddr *)&a, &len);
    uv_tcp_connect(&p->connect_req, &p->client_tcp, (const struct sockaddr *)&a, on_connect);
    uv_timer_start(&p->deadline, on_deadline, 5000, 0);
    uv_run(&p->loop, UV_RUN_DEFAULT);
    tls_conn_free(&p->server);
    tls_reset(&p->client);
    if (keep)
        *keep = p->client;
    else
        tls_conn_free(&p->client);
    CHECK_INT(uv_loop_close(&p->loop), 0);
    return p;
}

static void pair_free(pair_t *p)
{
    free(p->payload);
    free(p);
}

static tls_ctx_t *server_ctx(const char *crt)
{
    char err[256] = "";
    tls_config_t c = {.server = true, .cert_file = path_of(crt), .key_file = path_of("key.pem"),
                      .h2 = true};
    tls_ctx_t *ctx = tls_ctx_new(&c, err, sizeof err);
    if (!ctx)
        printf("#   server context: %s\n", err);
    return ctx;
}

static tls_ctx_t *client_ctx(const char *ca, bool insecure, bool no_resume)
{
    char err[256] = "";
    tls_config_t c = {.ca_file = ca ? path_of(ca) : NULL, .insecure = insecure,
                      .no_resume = no_resume};
    tls_ctx_t *ctx = tls_ctx_new(&c, err, sizeof err);
    if (!ctx)
        printf("#   client context: %s\n", err);
    return ctx;
}

/* ---- the tests ------------------------------------------------------------------- */

TEST(payload_both_ways_and_close_notify)
{
    tls_ctx_t *s = server_ctx("good.crt"), *c = client_ctx("ca.crt", false, false);
    pair_t *p = run_pair(s, c, "127.0.0.1", NULL);
    CHECK(!p->failed_timeout);
    CHECK_INT(p->server_got, PAYLOAD);
    CHECK_INT(p->client_got, PAYLOAD);
    CHECK(p->client_closed_notify);
    CHECK_INT(tls_ctx_handshakes(c), 1);
    pair_free(p);
    tls_ctx_free(s);
    tls_ctx_free(c);
}

/* Each bad certificate fails the handshake with its own reason; --insecure
 * passes them all. */
TEST(verification_reasons)
{
    static const struct {
        const char *crt, *host, *reason;
    } cases[] = {
        {"self.crt", "127.0.0.1", "self-signed certificate"},
        {"expired.crt", "127.0.0.1", "certificate has expired"},
        {"wrong.crt", "127.0.0.1", "host name mismatch"},
        {"good.crt", "wrong.example", "host name mismatch"},
        {"unknown.crt", "127.0.0.1", "unknown issuer"},
    };
    tls_ctx_t *c = client_ctx("ca.crt", false, false), *insecure = client_ctx(NULL, true, false);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tls_ctx_t *s = server_ctx(cases[i].crt);
        pair_t *p = run_pair(s, c, cases[i].host, NULL);
        CHECK(!p->failed_timeout);
        CHECK_INT(p->client_result, TLS_IN_ERROR);
        CHECK_INT(p->client.error, TLS_E_UNTRUSTED);
        CHECK_STR(p->client.reason, cases[i].reason);
        CHECK_INT(p->client_got, 0);
        pair_free(p);
        p = run_pair(s, insecure, cases[i].host, NULL);
        CHECK_INT(p->client_got, PAYLOAD);
        pair_free(p);
        tls_ctx_free(s);
    }
    tls_ctx_free(c);
    tls_ctx_free(insecure);
}

/* A user's second connection resumes the session its first one got;
 * with no_resume it makes a full handshake again. */
TEST(resumption)
{
    tls_ctx_t *s = server_ctx("good.crt");
    for (int no_resume = 0; no_resume <= 1; no_resume++) {
        tls_ctx_t *c = client_ctx("ca.crt", false, no_resume);
        tls_conn_t keep;
        tls_conn_init(&keep, c, NULL, NULL);
        for (int i = 0; i < 3; i++) {
            pair_t *p = run_pair(s, c, "127.0.0.1", &keep);
            CHECK_INT(p->client_got, PAYLOAD);
            pair_free(p);
        }
        CHECK_INT(tls_ctx_handshakes(c), 3);
        CHECK_INT(tls_ctx_resumed(c), no_resume ? 0 : 2);
        tls_conn_free(&keep);
        tls_ctx_free(c);
    }
    tls_ctx_free(s);
}

TEST(bad_files_are_named)
{
    char err[256] = "";
    tls_config_t c = {.server = true, .cert_file = "/nonexistent/cert.pem"};
    CHECK(tls_ctx_new(&c, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/cert.pem") != NULL);
    tls_config_t k = {.server = true, .cert_file = path_of("good.crt"),
                      .key_file = path_of("ca.crt")};
    CHECK(tls_ctx_new(&k, err, sizeof err) == NULL);
    CHECK(strstr(err, "ca.crt") != NULL);
    tls_config_t ca = {.ca_file = path_of("missing.crt")};
    CHECK(tls_ctx_new(&ca, err, sizeof err) == NULL);
    CHECK(strstr(err, "missing.crt") != NULL);
}

int main(void)
{
    check_prog = "tls";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    make_certs();
    RUN(payload_both_ways_and_close_notify);
    RUN(verification_reasons);
    RUN(resumption);
    RUN(bad_files_are_named);
    const char *files[] = {"ca.crt", "key.pem", "good.crt", "expired.crt", "wrong.crt",
                           "unknown.crt", "self.crt"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(path_of(files[i]));
    rmdir(dir);
    return check_done();
}

/* tls: see include/net/tls.h.
 *
 * The BIO: OpenSSL reads and writes through a BIO of our own rather than a
 * pair of memory BIOs. Its read takes bytes straight from the buffer the loop
 * just read into (t->in), so ciphertext is never copied before OpenSSL
 * decrypts it; its write appends records to the connection's output buffer
 * (t->out[t->back]), which tls_flush hands to the socket. OpenSSL reads one
 * record at a time (no read-ahead), and tls_input calls it until the BIO is
 * empty, so no byte is left behind in t->in when tls_input returns: a
 * partial record is kept inside OpenSSL for the next read.
 *
 * The output has two buffers: while a uv_write sends one (its memory must
 * not move), new records go to the other, and the write callback sends
 * those next. A request that uv_try_write takes whole (the usual case on a
 * kept-alive connection) never swaps.
 *
 * Certificate checks (clients): the system's CA store or --cacert, the host
 * name or IP address of the URL (X509_VERIFY_PARAM), and failures classified
 * by the verify result, so that the reason is OpenSSL's own and not a
 * guess from an error string. */
#include "net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Plaintext is read in pieces of this size (a record's worth). */
#define TLS_PLAIN_BUF 16384

struct tls_ctx {
    SSL_CTX *ssl_ctx;
    BIO_METHOD *bio_method;
    bool server, no_resume, h2;
    uint64_t handshakes, resumed;
    char plain[TLS_PLAIN_BUF];    /* every connection's plaintext lands here, in turn */
    char gather[TLS_PLAIN_BUF];   /* a request's pieces, joined into one record: apart from
                                   * plain, as a request may be written from the callback
                                   * that plaintext is handed to */
};

/* ALPN, in its wire format (length-prefixed names). */
static const unsigned char alpn_h2[] = "\x02h2\x08http/1.1";
static const unsigned char alpn_h1[] = "\x08http/1.1";

/* ---- the BIO ---------------------------------------------------------------- */

static int bio_write(BIO *b, const char *data, int len)
{
    tls_conn_t *t = BIO_get_data(b);
    unsigned k = t->back;
    size_t need = t->out_len[k] + (size_t)len;
    if (need > t->out_cap[k]) {
        size_t cap = t->out_cap[k] ? t->out_cap[k] : 1024;
        while (cap < need)
            cap *= 2;
        t->out[k] = xrealloc(t->out[k], cap);
        t->out_cap[k] = cap;
    }
    memcpy(t->out[k] + t->out_len[k], data, (size_t)len);
    t->out_len[k] = need;
    return len;
}

static int bio_read(BIO *b, char *data, int len)
{
    tls_conn_t *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (t->in_len == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = (size_t)len < t->in_len ? (size_t)len : t->in_len;
    memcpy(data, t->in, n);
    t->in += n;
    t->in_len -= n;
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    /* Records are flushed by tls_flush, not by OpenSSL; every other control
     * is one a plain socket-less BIO does not answer. */
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- the context ------------------------------------------------------------- */

/* A client keeps the newest session the server gave this connection: TLS 1.3
 * servers send it after the handshake, so this is the only place to catch it. */
static int on_new_session(SSL *ssl, SSL_SESSION *session)
{
    tls_conn_t *t = SSL_get_app_data(ssl);
    if (!t)
        return 0;
    if (t->session)
        SSL_SESSION_free(t->session);
    t->session = session;
    return 1; /* the reference is ours */
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

static int on_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    const tls_ctx_t *ctx = arg;
    const unsigned char *ours = ctx->h2 ? alpn_h2 : alpn_h1;
    unsigned ours_len = ctx->h2 ? sizeof alpn_h2 - 1 : sizeof alpn_h1 - 1;
    if (SSL_select_next_proto((unsigned char **)out, outlen, ours, ours_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no ALPN answer: the client assumes HTTP/1.1 */
    return SSL_TLSEXT_ERR_OK;
}

/* OpenSSL's reason for a PEM file it could not use, in plainer words where
 * its own are about its insides ("PEM lib", "no start line"). */
static const char *pem_problem(const char *reason)
{
    if (strcmp(reason, "PEM lib") == 0 || strcmp(reason, "no start line") == 0 ||
        strcmp(reason, "bad end line") == 0 || strcmp(reason, "bad base64 decode") == 0)
        return "not a PEM file of that kind (BEGIN CERTIFICATE, BEGIN PRIVATE KEY)";
    if (strcmp(reason, "key values mismatch") == 0)
        return "the key does not belong to the certificate";
    if (strcmp(reason, "bad decrypt") == 0 || strcmp(reason, "bad password read") == 0 ||
        strcmp(reason, "interrupted or cancelled") == 0 || strcmp(reason, "problems getting password") == 0)
        return "an encrypted key, which hopper cannot use (decrypt it: openssl pkey -in KEY -out KEY2)";
    return reason;
}

/* OpenSSL's reason for the last error, or a fallback. */
static const char *last_reason(const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : fallback;
}

/* The message names the file and says what is wrong with it in words: the
 * system's for a file that cannot be opened, else what OpenSSL found. */
static tls_ctx_t *ctx_fail(tls_ctx_t *ctx, char *err, size_t errlen, const char *what,
                           const char *file)
{
    FILE *f = file ? fopen(file, "r") : NULL;
    if (file && !f)
        snprintf(err, errlen, "%s '%s': %s", what, file, strerror(errno));
    else if (file)
        snprintf(err, errlen, "%s '%s': %s", what, file,
                 pem_problem(last_reason("not usable")));
    else
        snprintf(err, errlen, "%s: %s", what, last_reason("unknown error"));
    if (f)
        fclose(f);
    ERR_clear_error();
    tls_ctx_free(ctx);
    return NULL;
}

tls_ctx_t *tls_ctx_new(const tls_config_t *cfg, char *err, size_t errlen)
{
    tls_ctx_t *ctx = xcalloc(1, sizeof *ctx);
    ctx->server = cfg->server;
    ctx->no_resume = cfg->no_resume;
    ctx->h2 = cfg->h2;
    ctx->ssl_ctx = SSL_CTX_new(cfg->server ? TLS_server_method() : TLS_client_method());
    if (!ctx->ssl_ctx)
        return ctx_fail(ctx, err, errlen, "cannot make a TLS context", NULL);
    SSL_CTX *s = ctx->ssl_ctx;
    SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION);
    /* Idle connections give their record buffers back: a user that thinks
     * for seconds holds a few KB of TLS state, not 34 KB of buffers. */
    SSL_CTX_set_mode(s, SSL_MODE_RELEASE_BUFFERS);
    /* A peer's renegotiation is refused (a warning alert), never followed. */
    SSL_CTX_set_options(s, SSL_OP_NO_RENEGOTIATION);

    ctx->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hopper-uv");
    if (!ctx->bio_method)
        return ctx_fail(ctx, err, errlen, "cannot make a TLS context", NULL);
    BIO_meth_set_write(ctx->bio_method, bio_write);
    BIO_meth_set_read(ctx->bio_method, bio_read);
    BIO_meth_set_ctrl(ctx->bio_method, bio_ctrl);
    BIO_meth_set_create(ctx->bio_method, bio_create);

    /* An encrypted key would make OpenSSL prompt on the terminal (in every
     * worker): it fails instead, and the message says why. */
    SSL_CTX_set_default_passwd_cb(s, no_password);
    if (cfg->server) {
        if (cfg->ticket_keys &&
            SSL_CTX_set_tlsext_ticket_keys(s, (void *)cfg->ticket_keys, TLS_TICKET_KEYS_LEN) != 1)
            return ctx_fail(ctx, err, errlen, "cannot set the session ticket keys", NULL);
        if (SSL_CTX_use_certificate_chain_file(s, cfg->cert_file) != 1)
            return ctx_fail(ctx, err, errlen, "the certificate", cfg->cert_file);
        const char *key = cfg->key_file ? cfg->key_file : cfg->cert_file;
        if (SSL_CTX_use_PrivateKey_file(s, key, SSL_FILETYPE_PEM) != 1)
            return ctx_fail(ctx, err, errlen, "the key", key);
        if (SSL_CTX_check_private_key(s) != 1)
            return ctx_fail(ctx, err, errlen, "the key", key);
        SSL_CTX_set_alpn_select_cb(s, on_alpn_select, ctx);
        return ctx;
    }

    if (cfg->insecure) {
        SSL_CTX_set_verify(s, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(s, SSL_VERIFY_PEER, NULL);
        if (cfg->ca_file) {
            if (SSL_CTX_load_verify_locations(s, cfg->ca_file, NULL) != 1)
                return ctx_fail(ctx, err, errlen, "the CA file", cfg->ca_file);
        } else if (SSL_CTX_set_default_verify_paths(s) != 1) {
            return ctx_fail(ctx, err, errlen, "cannot load the system's CA store", NULL);
        }
    }
    if (cfg->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(s, cfg->cert_file) != 1)
            return ctx_fail(ctx, err, errlen, "the client certificate", cfg->cert_file);
        const char *key = cfg->key_file ? cfg->key_file : cfg->cert_file;
        if (SSL_CTX_use_PrivateKey_file(s, key, SSL_FILETYPE_PEM) != 1)
            return ctx_fail(ctx, err, errlen, "the client key", key);
        if (SSL_CTX_check_private_key(s) != 1)
            return ctx_fail(ctx, err, errlen, "the client key", key);
    }
    if (cfg->h2)
        SSL_CTX_set_alpn_protos(s, alpn_h2, sizeof alpn_h2 - 1);
    else
        SSL_CTX_set_alpn_protos(s, alpn_h1, sizeof alpn_h1 - 1);
    if (!cfg->no_resume) {
        /* Sessions are kept per connection (per user, as each browser keeps
         * its own), not in OpenSSL's shared cache. */
        SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(s, on_new_session);
    } else {
        SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
    }
    return ctx;
}

void tls_ctx_free(tls_ctx_t *ctx)
{
    if (!ctx)
        return;
    if (ctx->ssl_ctx)
        SSL_CTX_free(ctx->ssl_ctx);
    if (ctx->bio_method)
        BIO_meth_free(ctx->bio_method);
    free(ctx);
}

uint64_t tls_ctx_handshakes(const tls_ctx_t *ctx) { return ctx ? ctx->handshakes : 0; }
uint64_t tls_ctx_resumed(const tls_ctx_t *ctx) { return ctx ? ctx->resumed : 0; }

/* ---- a connection ------------------------------------------------------------------ */

void tls_conn_init(tls_conn_t *t, tls_ctx_t *ctx, tls_written_cb on_written, void *user)
{
    memset(t, 0, sizeof *t);
    t->ctx = ctx;
    t->on_written = on_written;
    t->user = user;
    t->write_req.data = t;
}

int tls_start(tls_conn_t *t, uv_stream_t *stream, const char *host)
{
    tls_reset(t);
    t->stream = stream;
    t->error = TLS_OK;
    t->reason = NULL;
    t->ready = t->resumed = false;
    SSL *ssl = SSL_new(t->ctx->ssl_ctx);
    if (!ssl)
        return -1;
    BIO *bio = BIO_new(t->ctx->bio_method);
    if (!bio) {
        SSL_free(ssl);
        return -1;
    }
    BIO_set_data(bio, t);
    SSL_set_bio(ssl, bio, bio); /* one BIO both ways: the SSL owns it */
    SSL_set_app_data(ssl, t);
    t->ssl = ssl;
    if (t->ctx->server) {
        SSL_set_accept_state(ssl);
        return 0;
    }
    SSL_set_connect_state(ssl);
    if (host && *host) {
        unsigned char ip[16];
        bool is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        if (is_ip) {
            /* RFC 6066: no SNI for an address; the certificate must name
             * the address itself. */
            X509_VERIFY_PARAM_set1_ip_asc(param, host);
        } else {
            SSL_set_tlsext_host_name(ssl, host);
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            X509_VERIFY_PARAM_set1_host(param, host, 0);
        }
    }
    if (t->session && !t->ctx->no_resume)
        SSL_set_session(ssl, t->session);
    /* The ClientHello goes into the output now; tls_flush sends it. */
    int rc = SSL_do_handshake(ssl);
    if (rc <= 0 && SSL_get_error(ssl, rc) != SSL_ERROR_WANT_READ) {
        t->error = TLS_E_HANDSHAKE;
        t->reason = last_reason(NULL);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* Why the handshake failed: a certificate that did not verify, or anything
 * else (OpenSSL's reason: "wrong version number" for a plain-HTTP server,
 * an alert's name for a server that refused us). */
static void handshake_failed(tls_conn_t *t)
{
    long v = t->ctx->server ? X509_V_OK : SSL_get_verify_result(t->ssl);
    if (v != X509_V_OK) {
        t->error = TLS_E_UNTRUSTED;
        t->reason = tls_verify_reason(v);
    } else {
        t->error = TLS_E_HANDSHAKE;
        t->reason = last_reason(NULL);
    }
    ERR_clear_error();
}

static void handshake_done(tls_conn_t *t)
{
    t->ready = true;
    t->ctx->handshakes++;
    if (SSL_session_reused(t->ssl)) {
        t->resumed = true;
        t->ctx->resumed++;
    }
}

tls_in_t tls_input(tls_conn_t *t, const char *data, size_t len, tls_plain_cb on_plain, void *ud)
{
    if (!t->ssl)
        return TLS_IN_ERROR;
    t->in = data;
    t->in_len = len;
    SSL *ssl = t->ssl;
    tls_in_t result = TLS_IN_OK;
    if (!t->ready) {
        int rc = SSL_do_handshake(ssl);
        if (rc != 1) {
            int e = SSL_get_error(ssl, rc);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                goto out;
            handshake_failed(t);
            result = TLS_IN_ERROR;
            goto out;
        }
        handshake_done(t);
    }
    char *plain = t->ctx->plain;
    for (;;) {
        int n = SSL_read(ssl, plain, TLS_PLAIN_BUF);
        if (n > 0) {
            if (!on_plain(ud, plain, (size_t)n)) {
                result = TLS_IN_STOPPED;
                break;
            }
            if (!t->ssl) {
                result = TLS_IN_STOPPED; /* the callback reset the connection */
                goto out;
            }
            continue;
        }
        int e = SSL_get_error(ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            result = TLS_IN_CLOSED;
        } else {
            t->error = TLS_E_PROTOCOL;
            t->reason = last_reason(NULL);
            ERR_clear_error();
            result = TLS_IN_ERROR;
        }
        break;
    }
out:
    t->in = NULL;
    t->in_len = 0;
    return result;
}

int tls_write(tls_conn_t *t, const uv_buf_t *bufs, unsigned n)
{
    if (!t->ssl || !t->ready)
        return -1;
    /* One record for the whole request when it fits. */
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += bufs[i].len;
    if (n > 1 && total <= TLS_PLAIN_BUF) {
        char *p = t->ctx->gather;
        for (unsigned i = 0; i < n; i++) {
            memcpy(p, bufs[i].base, bufs[i].len);
            p += bufs[i].len;
        }
        uv_buf_t one = uv_buf_init(t->ctx->gather, (unsigned)total);
        return tls_write(t, &one, 1);
    }
    for (unsigned i = 0; i < n; i++) {
        if (bufs[i].len == 0)
            continue;
        int rc = SSL_write(t->ssl, bufs[i].base, (int)bufs[i].len);
        if (rc <= 0) {
            t->error = TLS_E_PROTOCOL;
            t->reason = last_reason(NULL);
            ERR_clear_error();
            return -1;
        }
    }
    return 0;
}

static void on_write(uv_write_t *w, int status)
{
    tls_conn_t *t = w->data;
    unsigned front = !t->back;
    t->writing = false;
    t->out_len[front] = 0;
    t->out_sent = 0;
    if (t->out_cap[front] > TLS_OUT_KEEP_MAX) {
        free(t->out[front]);
        t->out[front] = NULL;
        t->out_cap[front] = 0;
    }
    if (status == 0 && t->out_len[t->back] && t->ssl) {
        int rc = tls_flush(t);
        if (rc < 0)
            status = rc;
    }
    if (t->on_written)
        t->on_written(t, status);
}

int tls_flush(tls_conn_t *t)
{
    unsigned k = t->back;
    t->flush_sent = false;
    if (t->writing || t->out_len[k] == 0 || !t->stream)
        return 0; /* a queued write sends the rest from its callback */
    uv_buf_t b = uv_buf_init(t->out[k], (unsigned)t->out_len[k]);
    int n = uv_try_write(t->stream, &b, 1);
    if (n >= 0 && (size_t)n == t->out_len[k]) {
        t->out_len[k] = 0;
        if (t->out_cap[k] > TLS_OUT_KEEP_MAX) {
            free(t->out[k]);
            t->out[k] = NULL;
            t->out_cap[k] = 0;
        }
        return 0;
    }
    if (n < 0 && n != UV_EAGAIN) {
        t->out_len[k] = 0;
        return n;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    t->flush_sent = done > 0;
    /* This buffer is now the one being written: new records go to the other. */
    t->out_sent = done;
    t->back = !k;
    b = uv_buf_init(t->out[k] + done, (unsigned)(t->out_len[k] - done));
    int err = uv_write(&t->write_req, t->stream, &b, 1, on_write);
    if (err) {
        t->back = k;
        t->out_len[k] = 0;
        return err;
    }
    t->writing = true;
    return 0;
}

const char *tls_alpn(const tls_conn_t *t)
{
    if (!t->ssl)
        return NULL;
    const unsigned char *p = NULL;
    unsigned n = 0;
    SSL_get0_alpn_selected(t->ssl, &p, &n);
    if (n == 2 && memcmp(p, "h2", 2) == 0)
        return "h2";
    if (n == 8 && memcmp(p, "http/1.1", 8) == 0)
        return "http/1.1";
    return NULL;
}

void tls_close_notify(tls_conn_t *t)
{
    if (t->ssl && t->ready) {
        SSL_shutdown(t->ssl);
        ERR_clear_error();
    }
}

void tls_reset(tls_conn_t *t)
{
    if (t->ssl) {
        SSL_set_app_data(t->ssl, NULL);
        /* OpenSSL takes a connection freed before its shutdown for a bad
         * one and spoils its session (not resumable). A connection that
         * worked keeps its session good for the user's next one, as
         * browsers do whether or not close_notify went both ways. */
        if (t->ready && t->error == TLS_OK)
            SSL_set_shutdown(t->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(t->ssl);
        t->ssl = NULL;
    }
    ERR_clear_error();
    t->ready = false;
    /* Output that did not go out belongs to the dead connection; a queued
     * write's buffer stays until its callback. */
    t->out_len[t->back] = 0;
    t->stream = t->writing ? t->stream : NULL;
}

void tls_conn_free(tls_conn_t *t)
{
    tls_reset(t);
    if (t->session) {
        SSL_SESSION_free(t->session);
        t->session = NULL;
    }
    for (unsigned k = 0; k < 2; k++) {
        free(t->out[k]);
        t->out[k] = NULL;
        t->out_cap[k] = t->out_len[k] = 0;
    }
}

const char *tls_verify_reason(long v)
{
    switch (v) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return "certificate has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "certificate is not yet valid";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return "self-signed certificate";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return "unknown issuer";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return "host name mismatch";
    case X509_V_ERR_CERT_REVOKED:
        return "certificate revoked";
    default:
        return X509_verify_cert_error_string(v);
    }
}

/* curl_client: see include/http/curl_client.h.
 *
 * The hot path is on_transfer_done -> the owner's on_done -> cc_send: no
 * allocation (easy handles come from the step's pool), no system call of our
 * own (libcurl measures the time).
 *
 * A send with a fill (http_fill_t) changes three options of the pooled
 * handle for one transfer, pointing them into the user's connection, whose
 * buffers grow to the largest request and stay: CURLOPT_HTTPHEADER (a list
 * of our own nodes: the prepared lines, then the fill's), CURLOPT_POSTFIELDS
 * (a copy of the body) and CURLOPT_URL (the origin and the fill's target;
 * libcurl copies it, its one allocation per filled send). The first two are
 * set back to the prepared values when the handle returns to its pool, so
 * no handle keeps a pointer into a connection that may be freed; the URL
 * is set back lazily, before the next send without a target (at release it
 * would free the effective URL the result points to). */
#include "http/curl_client.h"

#include <openssl/x509_vfy.h>
#include <strings.h>

#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"
#include "hopper.h"
#include "http/curluv.h"
#include "http/method.h"
#include "util/xalloc.h"

#define SENT_MAX 8192
/* libcurl (7.88) gives up its own retry with CURLE_SEND_ERROR ("Connection
 * died, tried 5 times") once an easy handle has retried 5 times, counting
 * over all of the handle's transfers: the count is reset only when it gives
 * up. A pooled handle that has reached it is replaced (rare: 1 in 5 retries),
 * so that a retry is never refused by an old count. */
#define CURL_HANDLE_RETRIES_MAX 5
/* A connection keeps its copy of a fill's body between requests up to this
 * size; a larger one goes after its request. */
#define CURL_FILL_KEEP_MAX 16384

typedef struct curl_client curl_client_t;
typedef struct curl_conn curl_conn_t;
typedef struct curl_req curl_req_t;

/* A step's request: the URL and headers, and its pool of easy handles. */
struct http_request {
    curl_client_t *client;
    const plan_step_t *step;
    char *url;
    size_t origin_len;             /* url's "scheme://authority": a fill's target follows it */
    uint64_t timeout_us;
    struct curl_slist *headers;    /* the static ones (a dynamic one comes with each send) */
    size_t n_headers;
    bool posts;                    /* its handles send a body (CURLOPT_POSTFIELDS) */
    bool keep_headers;             /* its handles give every response header to on_header */
    curl_req_t *pool;              /* easy handles ready for this step */
};

/* One easy handle, in flight or waiting in its step's pool. */
struct curl_req {
    CURL *easy;
    char errbuf[CURL_ERROR_SIZE];  /* libcurl's words for a failure: OpenSSL's reason is read
                                    * from them, so that TLS failures say what the native
                                    * client says */
    http_request_t *prep;
    curl_conn_t *conn;             /* in flight for this user, else NULL */
    curl_req_t *next_free;
    uint64_t body_bytes;
    char *sent;                    /* with failure detail: the headers sent */
    size_t sent_len;
    unsigned sends;                /* requests of this transfer that went out (on_prereq) */
    unsigned retried;              /* of them, libcurl's retries we allowed */
    bool retry_refused;            /* on_prereq stopped a retry: the transfer failed so */
    unsigned lifetime_retries;     /* libcurl's retries over the handle's life, refused or not */
    bool url_filled;               /* CURLOPT_URL is a fill's: set back before a send without */
    bool headers_filled;           /* CURLOPT_HTTPHEADER, ... */
    bool body_filled;              /* ... CURLOPT_POSTFIELDS point into conn: set back at release */
    bool header_block_done;        /* on_curl_header: the response's header block has ended */
};

struct curl_conn {
    http_conn_t base;
    curl_client_t *client;
    void *user;
    CURLSH *share;                 /* the user's connection cache and cookie jar */
    const char *iface;             /* "host!ADDR" for CURLOPT_INTERFACE, or NULL */
    curl_req_t *req;               /* in flight */
    /* A filled send's parts, read by the handle in flight; each grows to
     * the largest request and stays (freed with the connection). */
    char *url_buf;                 /* the origin and the fill's target */
    size_t url_cap;
    char *hdr_buf;                 /* the fill's header lines, each NUL-terminated */
    size_t hdr_cap;
    struct curl_slist *nodes;      /* the prepared header list copied, then the fill's lines */
    size_t nodes_cap;
    char *body_buf;                /* the fill's body */
    size_t body_cap;
};

struct curl_client {
    http_client_t base;
    http_client_config_t cfg;
    curluv_t cu;
    char (*iface)[56];             /* "host!ADDR" per --source-addrs address */
    size_t n_iface;
    size_t next_iface;             /* users take them round-robin */
    uint64_t retries;              /* libcurl's retries, allowed and counted */
};

/* ---- errors ------------------------------------------------------------------ */

http_error_t curl_client_error(CURLcode rc, long os_errno)
{
    switch (rc) {
    case CURLE_OK:
        return HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return HTTP_E_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        return http_connect_error((int)os_errno);
    case CURLE_COULDNT_RESOLVE_HOST:
        return HTTP_E_RESOLVE;
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* The URL was checked before the run: this comes from a response
         * that is not HTTP (a garbled status line). */
        return HTTP_E_MALFORMED;
    case CURLE_RECV_ERROR:
        if (os_errno == 0) {
            /* No system error: libcurl could not read the response itself
             * (a bad chunk size, say). */
            return HTTP_E_MALFORMED;
        }
        /* fall through */
    case CURLE_SEND_ERROR:
        if (os_errno == ECONNRESET)
            return HTTP_E_RESET;
        if (os_errno == EPIPE)
            return HTTP_E_CLOSED_SENDING;
        return rc == CURLE_SEND_ERROR ? HTTP_E_SEND : HTTP_E_RECV;
    case CURLE_GOT_NOTHING:
        return HTTP_E_NO_RESPONSE;
    case CURLE_PARTIAL_FILE:
        return HTTP_E_MID_BODY;
    case CURLE_WEIRD_SERVER_REPLY:
        return HTTP_E_MALFORMED;
    case CURLE_TOO_MANY_REDIRECTS:
        return HTTP_E_TOO_MANY_REDIRECTS;
    case CURLE_PEER_FAILED_VERIFICATION:
        return HTTP_E_TLS_UNTRUSTED;
    case CURLE_SSL_CONNECT_ERROR:
        return HTTP_E_TLS_HANDSHAKE;
    case CURLE_HTTP2_STREAM:
        return HTTP_E_STREAM_RESET;
    default:
        return HTTP_E_OTHER;
    }
}

/* The detail of a failed TLS handshake in the native client's words.
 * libcurl gives OpenSSL's reason only inside its message ("OpenSSL/3.0:
 * error:0A00010B:SSL routines::wrong version number"), so that is where it
 * is read; the kind is libcurl's code's, never decided from the text (the
 * one place hopper reads an error message: tests/e2e/tree.sh knows it). The
 * reason is cut in place in the handle's own buffer, which outlives the
 * result. */
static void tls_handshake_reason(char *message, http_result_t *res)
{
    static const char mark[] = "SSL routines::";
    char *reason = strstr(message, mark);
    if (reason) {
        reason += sizeof mark - 1;
        reason[strcspn(reason, ",")] = '\0';
        res->detail = reason;
    } else if (strstr(message, "SSL_ERROR_SYSCALL")) {
        res->detail = HTTP_TLS_CLOSED_IN_HANDSHAKE;
    }
}

/* ---- easy handles -------------------------------------------------------------- */

static size_t on_curl_body(char *data, size_t size, size_t nmemb, void *ud)
{
    curl_req_t *r = ud;
    size_t n = size * nmemb;
    r->body_bytes += n;
    curl_client_t *cc = r->prep->client;
    cc->cfg.on_body(r->conn->user, data, n);
    return n;
}

/* For a step that keeps headers: each header line of each response (libcurl
 * hands over whole lines, every response's: redirects' and 1xx ones too).
 * A status line starts a response, so on_header hears NULL; lines after the
 * header block (trailers) and continuation lines are not headers given. */
static size_t on_curl_header(char *data, size_t size, size_t nmemb, void *ud)
{
    curl_req_t *r = ud;
    size_t n = size * nmemb;
    http_header_cb on_header = r->prep->client->cfg.on_header;
    void *user = r->conn->user;
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
        r->header_block_done = false;
        on_header(user, NULL, 0, NULL, 0);
        return n;
    }
    size_t len = n;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len == 0)
        r->header_block_done = true;
    if (len == 0 || r->header_block_done || data[0] == ' ' || data[0] == '\t')
        return n;
    const char *colon = memchr(data, ':', len);
    if (!colon || colon == data)
        return n;
    const char *v = colon + 1, *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    on_header(user, data, (size_t)(colon - data), v, (size_t)(end - v));
    return n;
}

/* With failure detail, the header block each request sent (the last one,
 * after redirects), as libcurl reports it. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    curl_req_t *r = ud;
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    size_t k = size < SENT_MAX ? size : SENT_MAX;
    memcpy(r->sent, data, k);
    r->sent_len = k;
    return 0;
}

/* libcurl runs this each time a request of the transfer is about to go out
 * on a connection: once, once more per redirect followed, and once more per
 * retry of its own ("Connection died, retrying a fresh connect": a
 * kept-alive connection closed before a byte of the answer), which no option
 * turns off. A call beyond the redirects is such a retry. The rule of
 * http/client.h applies: allowed and counted for an idempotent method,
 * refused otherwise or with --no-retry (the transfer then ends with
 * CURLE_ABORTED_BY_CALLBACK, reported as the connection closed without a
 * response). Costs one call per request; getinfo only on a second one. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    curl_req_t *r = ud;
    if (++r->sends == 1)
        return CURL_PREREQFUNC_OK;
    long redirects = 0;
    curl_easy_getinfo(r->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    if ((long)r->sends <= 1 + redirects + (long)r->retried)
        return CURL_PREREQFUNC_OK; /* the next hop of a redirect */
    r->lifetime_retries++;
    curl_client_t *cc = r->prep->client;
    const char *method = NULL;
    if (curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_METHOD, &method) != CURLE_OK || !method)
        method = r->prep->step->method;
    if (cc->cfg.no_retry || !http_method_idempotent(method)) {
        r->retry_refused = true;
        return CURL_PREREQFUNC_ABORT;
    }
    r->retried++;
    cc->retries++;
    return CURL_PREREQFUNC_OK;
}

/* The method's options, with the prepared body (a fill's is set per send
 * and set back with this): a GET or DELETE without a body is a plain
 * request with no POSTFIELDS (set back to none); with a body, or a POST,
 * the body goes as POSTFIELDS (Content-Length and a default Content-Type)
 * under the method's own name. */
static void set_method(CURL *e, const http_request_t *p)
{
    const plan_step_t *t = p->step;
    bool get = strcmp(t->method, "GET") == 0;
    if (strcmp(t->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (!p->posts) {
        /* POSTFIELDS first: setting it makes the request a POST, which
         * HTTPGET then undoes (a CUSTOMREQUEST name stays). */
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, get ? NULL : t->method);
    } else {
        if (strcmp(t->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body ? t->body : "");
    }
}

/* A new easy handle with every option of the step set: a request later only
 * attaches the user's share (and source address), and a fill's parts. */
static curl_req_t *req_new(http_request_t *p)
{
    const http_client_config_t *cfg = &p->client->cfg;
    curl_req_t *r = xcalloc(1, sizeof *r);
    r->prep = p;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return NULL;
    }
    CURL *e = r->easy;
    if (cfg->failure_detail) {
        r->sent = xmalloc(SENT_MAX);
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, r);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    /* No signals: libcurl would otherwise install and remove a SIGPIPE
     * handler around every request (three rt_sigaction calls each). */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    if (p->keep_headers) {
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_curl_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    }
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(e, CURLOPT_PREREQDATA, r);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, HOPPER_USER_AGENT);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)((p->timeout_us + 999) / 1000));
    /* Redirects are followed as Locust's HttpUser does, counted under the
     * step's name with the whole chain's time. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)HOPPER_MAX_REDIRECTS);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* No proxy from the environment (http_proxy and friends), as Locust's
     * HttpUser does: load must go where the hopperfile says, not silently
     * through a proxy. */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (cfg->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (cfg->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->cert_file)
        curl_easy_setopt(e, CURLOPT_SSLCERT, cfg->cert_file);
    if (cfg->key_file)
        curl_easy_setopt(e, CURLOPT_SSLKEY, cfg->key_file);
    if (cfg->no_tls_resume)
        curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    /* HTTP/2 as the native client speaks it: by ALPN over TLS, with prior
     * knowledge in the clear (there is no Upgrade dance to measure). */
    if (cfg->http2)
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, strncasecmp(cfg->host, "https://", 8) == 0
                                                      ? (long)CURL_HTTP_VERSION_2TLS
                                                      : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    else
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* The cookie engine on; the jar itself is the user's share. */
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    set_method(e, p);
    return r;
}

static void req_free(curl_req_t *r)
{
    curl_easy_cleanup(r->easy);
    free(r->sent);
    free(r);
}

static curl_req_t *req_acquire(http_request_t *p)
{
    curl_req_t *r = p->pool;
    if (r) {
        p->pool = r->next_free;
        if (r->lifetime_retries >= CURL_HANDLE_RETRIES_MAX) {
            req_free(r); /* see CURL_HANDLE_RETRIES_MAX */
            r = NULL;
        }
    }
    if (!r) {
        r = req_new(p);
        if (!r)
            return NULL;
    }
    r->body_bytes = 0;
    r->sent_len = 0;
    r->sends = r->retried = 0;
    r->retry_refused = false;
    return r;
}

/* Back to the pool. What the result points into (the effective URL, the
 * headers sent) stays as it is until the handle is acquired again. */
static void req_release(curl_req_t *r)
{
    /* Detach the user's share so a stopped user's share can be freed while
     * this handle waits in the pool; the same for a fill's parts. */
    curl_easy_setopt(r->easy, CURLOPT_SHARE, NULL);
    if (r->headers_filled)
        curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->prep->headers);
    if (r->body_filled)
        set_method(r->easy, r->prep);
    r->headers_filled = r->body_filled = false;
    r->conn = NULL;
    r->next_free = r->prep->pool;
    r->prep->pool = r;
}

static void on_transfer_done(curluv_t *cu, CURL *easy, CURLcode rc, void *arg)
{
    (void)cu;
    curl_client_t *cc = arg;
    curl_req_t *r = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
    curl_conn_t *conn = r->conn;

    curl_off_t total_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
    long os_errno = 0;
    if (rc != CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    http_result_t res = {
        .error = curl_client_error(rc, os_errno),
        .sys_errno = (int)os_errno,
        .timeout_us = r->prep->timeout_us,
        .latency_us = (uint64_t)total_us,
        .body_bytes = r->body_bytes,
    };
    if (rc == CURLE_ABORTED_BY_CALLBACK && r->retry_refused)
        res.error = HTTP_E_NO_RESPONSE; /* what libcurl was about to retry */
    if (res.error == HTTP_E_OTHER)
        res.detail = curl_easy_strerror(rc);
    if (res.error == HTTP_E_TLS_HANDSHAKE)
        tls_handshake_reason(r->errbuf, &res);
    if (res.error == HTTP_E_TLS_UNTRUSTED) {
        /* The reason in the native client's words. libcurl checks the host
         * name itself, after OpenSSL's verification passed: a failure with
         * a clean (0) or unspecified (1) verify result is that check. */
        long v = 0;
        curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &v);
        res.detail = tls_verify_reason(v > X509_V_ERR_UNSPECIFIED ? v : X509_V_ERR_HOSTNAME_MISMATCH);
    }
    if (res.error == HTTP_OK && cc->cfg.http2) {
        /* libcurl falls back to HTTP/1.1 when the server's ALPN does; a
         * run that asked for HTTP/2 must not measure another protocol. */
        long version = 0;
        curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
        if (version != CURL_HTTP_VERSION_2_0)
            res.error = HTTP_E_NO_H2;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &res.status);
    if (cc->cfg.failure_detail) {
        char *url = NULL;
        res.url = r->prep->url;
        if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
            res.url = url;
        res.sent = r->sent;
        res.sent_len = r->sent_len;
    }
    /* The handle goes back first: the owner may send again from on_done. */
    req_release(r);
    conn->req = NULL;
    /* The handle no longer points at a fill's body (req_release): a large
     * one is not kept while the user idles. Before on_done, which may free
     * the connection. */
    if (conn->body_cap > CURL_FILL_KEEP_MAX) {
        free(conn->body_buf);
        conn->body_buf = NULL;
        conn->body_cap = 0;
    }
    cc->cfg.on_done(conn->user, &res);
}

/* ---- the interface ----------------------------------------------------------------- */

/* Appends a header line to the prepared list, counting it. */
static void add_header(http_request_t *p, const char *line)
{
    struct curl_slist *l = curl_slist_append(p->headers, line);
    if (l) {
        p->headers = l;
        p->n_headers++;
    }
}

static http_request_t *cc_request_new(http_client_t *c, const plan_t *plan, const plan_step_t *t,
                                      const char *url, uint64_t timeout_us, char *err,
                                      size_t errlen)
{
    curl_client_t *cc = (curl_client_t *)c;
    http_request_t *p = xcalloc(1, sizeof *p);
    p->client = cc;
    p->step = t;
    p->url = xstrdup(url);
    const char *auth = strstr(url, "://");
    p->origin_len = auth ? (size_t)(auth + 3 - url) + strcspn(auth + 3, "/?#") : strlen(url);
    p->timeout_us = timeout_us;
    p->posts = strcmp(t->method, "HEAD") != 0 && (t->body || strcmp(t->method, "POST") == 0);
    p->keep_headers = t->keep_headers && cc->cfg.on_header;
    /* A plan's Content-Length equals the body's (the hopperfile checks it):
     * libcurl sets the same one itself, and drops it when a redirect makes
     * the request a GET, which a header of ours would not be. A header
     * whose value is a template comes with each send (its name needs no
     * care here: libcurl adds a default only for a header not in the list
     * it is given, which the send's list is). */
    for (int l = 0; l < 2; l++) {
        char *const *list = l == 0 ? plan->headers : t->headers;
        const tmpl_t *tmpls = l == 0 ? plan->header_t : t->header_t;
        size_t n = l == 0 ? plan->n_headers : t->n_headers;
        for (size_t h = 0; h < n; h++)
            if (strncasecmp(list[h], "Content-Length:", 15) != 0 && !(tmpls && tmpls[h].dynamic))
                add_header(p, list[h]);
    }
    /* No "Expect: 100-continue" round trip for large bodies; a fill may
     * bring a body to any step, and libcurl never sends the empty line. */
    add_header(p, "Expect:");
    /* Make the first handle now, so that a bad option shows before load. */
    curl_req_t *r = req_new(p);
    if (!r) {
        snprintf(err, errlen, "libcurl could not create a request");
        http_request_free(c, p);
        return NULL;
    }
    r->next_free = p->pool;
    p->pool = r;
    return p;
}

static void cc_request_free(http_client_t *c, http_request_t *p)
{
    (void)c;
    while (p->pool) {
        curl_req_t *r = p->pool;
        p->pool = r->next_free;
        req_free(r);
    }
    curl_slist_free_all(p->headers);
    free(p->url);
    free(p);
}

static const http_client_ops_t cc_ops;

static http_conn_t *cc_conn_new(http_client_t *c, void *user)
{
    curl_client_t *cc = (curl_client_t *)c;
    CURLSH *share = curl_share_init();
    if (!share || curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK) {
        if (share)
            curl_share_cleanup(share);
        return NULL;
    }
    curl_conn_t *conn = xcalloc(1, sizeof *conn);
    conn->base.ops = &cc_ops;
    conn->client = cc;
    conn->user = user;
    conn->share = share;
    if (cc->n_iface)
        conn->iface = cc->iface[cc->next_iface++ % cc->n_iface];
    return &conn->base;
}

/* Grows a connection's buffer to need items of unit bytes (doubling): the
 * buffers grow to the largest request and stay, so filled sends stop
 * allocating. Their old contents are not kept. */
static void *grow(void *buf, size_t *cap, size_t need, size_t unit)
{
    if (need <= *cap)
        return buf;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    free(buf);
    *cap = n;
    return xmalloc(n * unit);
}

/* The URL: the prepared one's origin and the fill's target. */
static void fill_url(curl_conn_t *conn, curl_req_t *r, const http_fill_t *f)
{
    const http_request_t *p = r->prep;
    size_t need = p->origin_len + f->target_len + 1;
    conn->url_buf = grow(conn->url_buf, &conn->url_cap, need, 1);
    memcpy(conn->url_buf, p->url, p->origin_len);
    memcpy(conn->url_buf + p->origin_len, f->target, f->target_len);
    conn->url_buf[need - 1] = '\0';
    curl_easy_setopt(r->easy, CURLOPT_URL, conn->url_buf);
    r->url_filled = true;
}

/* The header list: our own nodes (struct curl_slist is public; libcurl
 * only reads the list) for the prepared lines, then for the fill's, which
 * are copied with each line's CRLF made its end. A line with an empty value
 * is written "Name;", which libcurl sends as "Name:" (it drops "Name:"). */
static void fill_headers(curl_conn_t *conn, curl_req_t *r, const http_fill_t *f)
{
    const http_request_t *p = r->prep;
    size_t lines = 0;
    for (const char *s = f->headers, *end = s + f->headers_len; s < end; lines++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        s = nl ? nl + 1 : end;
    }
    conn->nodes = grow(conn->nodes, &conn->nodes_cap, p->n_headers + lines, sizeof *conn->nodes);
    conn->hdr_buf = grow(conn->hdr_buf, &conn->hdr_cap, f->headers_len, 1);
    size_t k = 0;
    for (const struct curl_slist *h = p->headers; h; h = h->next, k++) {
        conn->nodes[k].data = h->data;
        conn->nodes[k].next = &conn->nodes[k + 1];
    }
    memcpy(conn->hdr_buf, f->headers, f->headers_len);
    char *s = conn->hdr_buf, *end = s + f->headers_len;
    while (s < end) {
        /* client.c has checked the lines: each has a ':' and ends in CRLF. */
        char *cr = memchr(s, '\r', (size_t)(end - s));
        *cr = '\0';
        char *colon = memchr(s, ':', (size_t)(cr - s));
        char *v = colon + 1;
        while (v < cr && (*v == ' ' || *v == '\t'))
            v++;
        if (v == cr) {
            colon[0] = ';';
            colon[1] = '\0';
        }
        conn->nodes[k].data = s;
        conn->nodes[k].next = &conn->nodes[k + 1];
        k++;
        s = cr + 2;
    }
    conn->nodes[k - 1].next = NULL;
    curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, conn->nodes);
    r->headers_filled = true;
}

/* The body, copied, as POSTFIELDS; a method prepared without one keeps its
 * name (POSTFIELDS alone would make it a POST). Not for a HEAD. */
static void fill_body(curl_conn_t *conn, curl_req_t *r, const http_fill_t *f)
{
    const http_request_t *p = r->prep;
    if (strcmp(p->step->method, "HEAD") == 0)
        return;
    conn->body_buf = grow(conn->body_buf, &conn->body_cap, f->body_len + 1, 1);
    if (f->body_len)
        memcpy(conn->body_buf, f->body, f->body_len);
    if (!p->posts)
        curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, p->step->method);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->body_len);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, conn->body_buf);
    r->body_filled = true;
}

static int cc_send(http_conn_t *hc, http_request_t *p, const http_fill_t *fill,
                   http_result_t *failed)
{
    curl_conn_t *conn = (curl_conn_t *)hc;
    curl_req_t *r = req_acquire(p);
    if (!r) {
        /* libcurl could not make a handle (out of memory inside curl). */
        *failed = (http_result_t){.error = HTTP_E_CANNOT_CREATE};
        return -1;
    }
    if (fill && fill->target) {
        fill_url(conn, r, fill);
    } else if (r->url_filled) {
        curl_easy_setopt(r->easy, CURLOPT_URL, p->url);
        r->url_filled = false;
    }
    if (fill && fill->headers_len)
        fill_headers(conn, r, fill);
    if (fill && fill->has_body)
        fill_body(conn, r, fill);
    r->header_block_done = false;
    curl_easy_setopt(r->easy, CURLOPT_SHARE, conn->share);
    if (conn->iface)
        curl_easy_setopt(r->easy, CURLOPT_INTERFACE, conn->iface);
    r->conn = conn;
    conn->req = r;
    CURLMcode mc = curluv_add(&conn->client->cu, r->easy);
    if (mc != CURLM_OK) {
        conn->req = NULL;
        req_release(r);
        *failed = (http_result_t){.error = HTTP_E_OTHER, .detail = curl_multi_strerror(mc)};
        return -1;
    }
    return 0;
}

static void cc_cancel(http_conn_t *hc)
{
    curl_conn_t *conn = (curl_conn_t *)hc;
    if (!conn->req)
        return;
    curluv_cancel(&conn->client->cu, conn->req->easy);
    req_release(conn->req);
    conn->req = NULL;
}

/* Nothing of libuv's to wait for: the share goes at once. */
static void cc_conn_close(http_conn_t *hc, http_closed_cb on_closed)
{
    curl_conn_t *conn = (curl_conn_t *)hc;
    cc_cancel(hc);
    void *user = conn->user;
    curl_share_cleanup(conn->share);
    free(conn->url_buf);
    free(conn->hdr_buf);
    free(conn->nodes);
    free(conn->body_buf);
    free(conn);
    if (on_closed)
        on_closed(user);
}

static void cc_close(http_client_t *c)
{
    curluv_close(&((curl_client_t *)c)->cu);
}

static void cc_free(http_client_t *c)
{
    curl_client_t *cc = (curl_client_t *)c;
    curluv_free(&cc->cu);
    free(cc->iface);
    free(cc);
}

static uint64_t cc_retries(const http_client_t *c)
{
    return ((const curl_client_t *)c)->retries;
}

static const http_client_ops_t cc_ops = {
    .request_new = cc_request_new,
    .request_free = cc_request_free,
    .conn_new = cc_conn_new,
    .send = cc_send,
    .cancel = cc_cancel,
    .conn_close = cc_conn_close,
    .close = cc_close,
    .free = cc_free,
    .retries = cc_retries,
};

http_client_t *curl_client_new(const http_client_config_t *cfg, char *err, size_t errlen)
{
    curl_client_t *cc = xcalloc(1, sizeof *cc);
    cc->base.ops = &cc_ops;
    cc->cfg = *cfg;
    if (curluv_init(&cc->cu, cfg->loop, on_transfer_done, cc) != 0) {
        snprintf(err, errlen, "libcurl could not create a multi handle");
        free(cc);
        return NULL;
    }
    if (cfg->sources && cfg->sources->n) {
        cc->n_iface = cfg->sources->n;
        cc->iface = xcalloc(cc->n_iface, sizeof *cc->iface);
        for (size_t i = 0; i < cc->n_iface; i++)
            snprintf(cc->iface[i], sizeof cc->iface[i], "host!%s", cfg->sources->text[i]);
    }
    return &cc->base;
}

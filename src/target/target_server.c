/* target_server: see include/target/target_server.h.
 *
 * The life of a connection:
 *
 *   accept -> read -> parse -> answer -> (keep-alive) read ...
 *                                     -> (close)  shutdown -> drain -> close
 *
 * Reads land in the connection's own buffer and the parser walks it. Each
 * complete request is answered by queueing a pointer to a preformatted
 * response (target_routes); the queue is flushed with one uv_try_write when
 * the buffer has been parsed, so a burst of pipelined requests costs one
 * write. Only what the kernel did not take goes to uv_write, with the one
 * uv_write_t the connection owns. While that write, or a --delay timer, is
 * pending the parser is paused and reading stopped: nothing else is needed to
 * keep answers in order, and memory per connection stays fixed.
 *
 * The hot path (no --delay) therefore costs one read and one write system
 * call per batch of requests, no allocation and no clock reads.
 *
 * The login flow's routes (target_api) are the exception: their answers are
 * made per request (a token, a page of movies), so each is a buffer of its
 * own. It waits on the connection's "queued" list until a flush; if the
 * kernel took everything it is freed there, else it moves to the "writing"
 * list and is freed when the uv_write is done. For these routes the server
 * also keeps the first TARGET_API_BODY_MAX bytes of every request body and
 * the token a request carries (Authorization: Bearer, or the session
 * cookie).
 *
 * TLS (--tls): the same state machine with one more layer. Ciphertext is
 * read into the server's one read buffer (input is handled at once, so one
 * per loop is enough), net/tls decrypts it into the connection's input
 * buffer, and answers go through tls_write and tls_flush instead of
 * uv_try_write; "writing" is then net/tls's queued write. A read of
 * ciphertext can yield more plaintext than it holds (a record begun in an
 * earlier read ends in it), so a TLS connection's input buffer may grow
 * past CONN_READ_SIZE, up to CONN_PLAIN_MAX; a kept-alive TLS request still
 * allocates nothing.
 *
 * HTTP/2: a connection whose ALPN is "h2", or whose first bytes are the
 * HTTP/2 preface (h2c with prior knowledge; one memcmp per connection),
 * hands its input to target_h2 and sends what that gives back; see
 * conn_h2_pump. */
#include "target/target_server.h"

#include <errno.h>
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target/target_api.h"
#include "target/target_counts.h"
#include "target/target_h2.h"
#include "target/target_routes.h"
#include "util/rng.h"
#include "util/xalloc.h"

#define CONN_READ_SIZE 4096 /* requests from a load generator are a few hundred bytes */
#define CONN_URL_MAX 2048   /* longer request targets get 414 and count as "other" */
#define CONN_OUT_MAX 16     /* answers queued before a flush is forced */
#define LINGER_MS 2000      /* how long a closing connection waits for the client's FIN */
#define LISTEN_BACKLOG 1024 /* the kernel caps this at net.core.somaxconn */
#define HEADER_VALUE_MAX 512 /* longer Authorization or Cookie values are not looked into */
#define TLS_READ_SIZE 16384  /* ciphertext read at once: a whole record */
#define CONN_PLAIN_MAX 65536 /* a TLS connection's input buffer never grows past this */
#define H2_WRITE_ROUND 65536 /* HTTP/2 output gathered into one write */

/* The request headers the server reads; the rest are skipped. */
enum kept_header { KEPT_NONE, KEPT_EXPECT, KEPT_AUTHORIZATION, KEPT_COOKIE };

/* An answer made for one request (target_api), owned by its connection. */
struct dyn_answer {
    struct dyn_answer *next;
    struct target_response response;
};

struct conn {
    uv_tcp_t tcp;     /* data = this connection */
    uv_timer_t timer; /* the --delay wait, then the linger of a graceful close */
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    http_parser parser; /* data = this connection */
    struct target_server *server;
    struct conn *prev, *next; /* the server's list, for closing all at stop */
    int open_handles;         /* tcp and timer; freed when both have closed */
    tls_conn_t tls;           /* in use when the server has a TLS context (server->tls) */
    struct target_h2 *h2;     /* once the connection speaks HTTP/2 */
    bool sniffing;            /* the protocol is not known yet (the HTTP/2 preface, ALPN) */

    /* The request being parsed. */
    size_t url_len;
    bool url_too_long;
    bool in_header_value;      /* the parser is in a value, not a field name */
    enum kept_header kept;     /* the current header, if it is one we read */
    bool expect_continue;      /* it said "Expect: 100-continue" */
    unsigned header_field_len; /* saturates just above sizeof(header_field) */
    unsigned header_value_len; /* saturates just above sizeof(header_value) */
    char header_field[16];
    char header_value[HEADER_VALUE_MAX]; /* as sent, not lowercased */
    struct target_api_token bearer;       /* Authorization: Bearer TOKEN */
    struct target_api_token session;      /* Cookie: session=TOKEN */
    size_t body_len;
    bool body_truncated;
    char body[TARGET_API_BODY_MAX];

    /* The answer decided when the request completed; sent at once or when the
     * --delay timer fires. */
    enum target_reply reply;
    enum target_framing framing;
    unsigned method;
    bool head;
    size_t path_off, path_len; /* the raw path inside url */
    uint64_t answer_at_ns;     /* uv_hrtime() deadline of a delayed answer */

    /* Answers queued since the last flush; they point into target_routes,
     * or into the dynamic answers of dyn_queued. */
    uv_buf_t out[CONN_OUT_MAX];
    unsigned nout;
    struct dyn_answer *dyn_queued;  /* referred to by out[] */
    struct dyn_answer *dyn_writing; /* referred to by the uv_write in flight */

    /* States. */
    bool reading;  /* uv_read_start is in effect */
    bool writing;  /* write_req is in flight */
    bool delayed;  /* the timer holds an answer */
    bool ending;   /* no more requests: flush, then close gracefully */
    bool draining; /* shut down; discarding input until the client's FIN */
    bool peer_eof; /* the client has sent its FIN */
    bool closing;  /* uv_close has been called */

    size_t in_len, in_off; /* bytes in `in`, and how far the parser has got */
    char *in;              /* in_fixed, or (TLS only) a larger heap buffer */
    size_t in_cap;
    char url[CONN_URL_MAX];
    char in_fixed[CONN_READ_SIZE];
};

struct target_server {
    uv_loop_t *loop;
    uv_tcp_t listener; /* data = this server */
    struct target_config cfg;
    struct target_routes routes;
    struct target_counts *counts;
    struct conn *conns;
    uint64_t rng;
    uint64_t accepted;
    uint64_t dropped;
    bool stopping;
    bool warned_accept;
    struct target_stall stall;     /* --stall: the whole loop freezes on a schedule */
    tls_ctx_t *tls;                /* cfg.tls: every connection speaks TLS */
    struct target_h2_env *h2_env;  /* what HTTP/2 connections share */
    char tls_read[TLS_READ_SIZE];  /* ciphertext of the connection being read (TLS) */
};

static void conn_pump(struct conn *c);
static void conn_read_stop(struct conn *c);

/* Failures and delays draw from splitmix64 (util/rng.h): one word of state,
 * tiny and fast, and good enough to decide which requests fail. */
static double draw_unit(struct target_server *s)
{
    return rng_bits_unit(rng_splitmix(&s->rng));
}

/* ---- closing ---- */

static void dyn_free_list(struct dyn_answer **list)
{
    while (*list != NULL) {
        struct dyn_answer *d = *list;
        *list = d->next;
        free(d->response.data);
        free(d);
    }
}

static void on_conn_closed(uv_handle_t *handle)
{
    struct conn *c = handle->data;
    if (--c->open_handles == 0) {
        /* A cancelled write's callback has run by now: nothing refers to these. */
        dyn_free_list(&c->dyn_queued);
        dyn_free_list(&c->dyn_writing);
        if (c->server->tls != NULL)
            tls_conn_free(&c->tls);
        target_h2_free(c->h2); /* a plain HTTP/2 write pointed into its buffer: done by now */
        if (c->in != c->in_fixed)
            free(c->in);
        free(c);
    }
}

/* Abrupt close: pending writes are cancelled (their callbacks run, with
 * UV_ECANCELED, before ours). */
static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->server->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->server->tls != NULL)
        tls_reset(&c->tls); /* a queued write keeps its buffer until its callback */
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_linger_timeout(uv_timer_t *timer)
{
    conn_close(timer->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    if (status < 0)
        conn_close(c); /* also fine when already closing: it is idempotent */
}

/* Graceful close, once every answer has been written. Closing at once while
 * the client still has requests in flight would make our kernel send a RST,
 * which can destroy answers the client has not read yet. So: send our FIN,
 * read and discard until the client's FIN, and give up after LINGER_MS. */
static void conn_end(struct conn *c)
{
    if (c->draining)
        return;
    if (c->peer_eof) {
        conn_close(c);
        return;
    }
    c->draining = true;
    c->in_len = c->in_off = 0; /* unparsed requests are dropped with the connection */
    if (c->server->tls != NULL && !c->server->cfg.tls_no_close_notify && c->tls.ready) {
        /* The polite TLS close before our FIN; uv_shutdown waits for it. */
        tls_close_notify(&c->tls);
        if (tls_flush(&c->tls) < 0) {
            conn_close(c);
            return;
        }
    }
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_linger_timeout, LINGER_MS, 0);
    /* conn_pump, our caller, starts reading again; on_read now discards. */
}

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    c->writing = false;
    dyn_free_list(&c->dyn_writing); /* written, failed or cancelled: done with either way */
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_pump(c);
}

/* net/tls's queued write ended (the TLS twin of on_write). */
static void on_tls_written(tls_conn_t *t, int status)
{
    struct conn *c = t->user;
    c->writing = tls_writing(t); /* its callback may have queued what piled up meanwhile */
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_pump(c);
}

/* TLS: the queued answers become records (copied, so the dynamic ones can
 * go at once), then whatever waits in the output, handshake messages
 * included, goes out. */
static void conn_flush_tls(struct conn *c)
{
    if (c->nout > 0) {
        int err = tls_write(&c->tls, c->out, c->nout);
        c->nout = 0;
        dyn_free_list(&c->dyn_queued);
        if (err < 0) {
            conn_close(c);
            return;
        }
    }
    if (tls_flush(&c->tls) < 0) {
        conn_close(c);
        return;
    }
    c->writing = tls_writing(&c->tls);
}

/* Writes the queued answers: uv_try_write first (the usual case: the kernel
 * takes it all), uv_write for the rest, which sets c->writing until done. */
static void conn_flush(struct conn *c)
{
    if (c->closing || c->writing)
        return;
    if (c->server->tls != NULL) {
        conn_flush_tls(c);
        return;
    }
    if (c->nout == 0)
        return;
    uv_stream_t *stream = (uv_stream_t *)&c->tcp;
    int n = uv_try_write(stream, c->out, c->nout);
    if (n == UV_EAGAIN)
        n = 0;
    if (n < 0) {
        c->nout = 0;
        conn_close(c);
        return;
    }
    size_t done = (size_t)n;
    unsigned i = 0;
    while (i < c->nout && done >= c->out[i].len)
        done -= c->out[i++].len;
    unsigned left = c->nout - i;
    c->nout = 0;
    if (left == 0) {
        dyn_free_list(&c->dyn_queued);
        return;
    }
    /* Not writing, so dyn_writing is empty: the queued answers go with the write. */
    c->dyn_writing = c->dyn_queued;
    c->dyn_queued = NULL;
    c->out[i].base += done;
    c->out[i].len -= done;
    /* uv_write copies the uv_buf_t array; the bytes are in target_routes or
     * in dyn_writing, freed in on_write. */
    if (uv_write(&c->write_req, stream, c->out + i, left, on_write) < 0) {
        conn_close(c);
        return;
    }
    c->writing = true;
}

static void conn_queue(struct conn *c, const struct target_response *r, bool head)
{
    c->out[c->nout++] = uv_buf_init(r->data, (unsigned)(head ? r->head_len : r->len));
    if (c->nout == CONN_OUT_MAX)
        conn_flush(c);
}

/* ---- answering ---- */

/* The token the request carries: the Bearer one if it has an Authorization:
 * Bearer header, else its session cookie; NULL if neither. */
static const struct target_api_token *conn_token(const struct conn *c)
{
    if (c->bearer.given)
        return &c->bearer;
    if (c->session.given)
        return &c->session;
    return NULL;
}

/* The answer of a login-flow route, from target_api. Reads the raw path, so
 * it must run before conn_answer decodes it. */
static const struct target_response *conn_api_answer(struct conn *c)
{
    struct target_server *s = c->server;
    const char *path = c->url + c->path_off;
    size_t after = c->path_off + c->path_len;
    struct target_api_request req = {
        .route = c->reply,
        .framing = c->framing,
        .path = path,
        .path_len = c->path_len,
        .body = c->body,
        .body_len = c->body_len,
        .body_truncated = c->body_truncated,
    };
    if (after < c->url_len && c->url[after] == '?') {
        const char *q = c->url + after + 1;
        const char *hash = memchr(q, '#', c->url_len - after - 1);
        req.query = q;
        req.query_len = hash != NULL ? (size_t)(hash - q) : c->url_len - after - 1;
    }
    const struct target_api_token *t = conn_token(c);
    if (t != NULL) {
        req.token = t->text;
        req.token_len = t->len;
    }
    struct target_response dynamic = {NULL, 0, 0};
    const struct target_response *r = target_api_answer(&s->routes, s->cfg.auth, s->counts, &req, &dynamic);
    if (r != &dynamic)
        return r;
    struct dyn_answer *d = xmalloc(sizeof(*d));
    d->response = dynamic;
    d->next = c->dyn_queued;
    c->dyn_queued = d;
    return &d->response;
}

/* Counts the request and queues its answer. */
static void conn_answer(struct conn *c)
{
    struct target_server *s = c->server;
    const struct target_response *r = target_routes_is_api(c->reply)
                                          ? conn_api_answer(c)
                                          : target_routes_response(&s->routes, c->reply, c->framing);
    if (c->reply == TARGET_REPLY_BAD_REQUEST) {
        target_counts_add_malformed(s->counts);
    } else if (c->url_too_long) {
        target_counts_add_other(s->counts);
    } else {
        /* Routing is done, so the raw path may be decoded where it lies. */
        char *path = c->url + c->path_off;
        target_counts_add(s->counts, c->method, path, target_routes_decode_path(path, c->path_len));
    }
    if (c->reply == TARGET_REPLY_ERROR)
        target_counts_add_failed(s->counts);
    conn_queue(c, r, c->head);
    if (c->framing == TARGET_FRAMING_CLOSE)
        c->ending = true;
}

static void on_delay_done(uv_timer_t *timer)
{
    struct conn *c = timer->data;
    /* libuv timers count whole milliseconds of a clock that may be coarse;
     * --delay promises at least the delay, so check the precise clock. */
    uint64_t now = uv_hrtime();
    if (now < c->answer_at_ns) {
        uv_timer_start(&c->timer, on_delay_done, (c->answer_at_ns - now + 999999) / 1000000, 0);
        return;
    }
    c->delayed = false;
    conn_answer(c);
    conn_pump(c);
}

static void conn_delay(struct conn *c)
{
    struct target_server *s = c->server;
    uint64_t us = s->cfg.delay_min_us;
    if (s->cfg.delay_max_us > us)
        us += rng_splitmix(&s->rng) % (s->cfg.delay_max_us - us + 1);
    /* The loop's cached time may be stale by however long this iteration has
     * run; refresh it so the timer does not fire early. */
    uv_update_time(s->loop);
    c->answer_at_ns = uv_hrtime() + us * 1000;
    c->delayed = true;
    uv_timer_start(&c->timer, on_delay_done, (us + 999) / 1000, 0);
}

/* ---- parser callbacks (parser->data is the connection) ---- */

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    c->url_len = 0;
    c->url_too_long = false;
    c->in_header_value = false;
    c->kept = KEPT_NONE;
    c->expect_continue = false;
    c->header_field_len = 0;
    c->bearer.given = false;
    c->session.given = false;
    c->body_len = 0;
    c->body_truncated = false;
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (len > sizeof(c->url) - c->url_len) {
        c->url_too_long = true;
        return 0;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    return 0;
}

/* Keeps up to sizeof(dst) lowercase bytes; *len counts on to one past that so
 * a longer name never matches. The parser may hand a name over in pieces. */
static void header_append(char *dst, size_t cap, unsigned *len, const char *at, size_t n)
{
    for (size_t i = 0; i < n && *len <= cap; i++, (*len)++)
        if (*len < cap)
            dst[*len] = (char)((at[i] >= 'A' && at[i] <= 'Z') ? at[i] + 32 : at[i]);
}

/* Keeps a value as sent (a token's case matters), up to cap bytes; *len
 * then stops one past cap, like header_append, so a value cut short is
 * known to be. */
static void value_append(char *dst, size_t cap, unsigned *len, const char *at, size_t n)
{
    if (*len > cap)
        return;
    if (n > cap - *len) {
        memcpy(dst + *len, at, cap - *len);
        *len = (unsigned)cap + 1;
        return;
    }
    memcpy(dst + *len, at, n);
    *len += (unsigned)n;
}

static void header_value_done(struct conn *c)
{
    const char *v = c->header_value;
    size_t len = c->header_value_len;
    if (len > sizeof(c->header_value))
        return; /* cut short: not looked into (see HEADER_VALUE_MAX) */
    switch (c->kept) {
    case KEPT_EXPECT:
        if (len == 12 && strncasecmp(v, "100-continue", 12) == 0)
            c->expect_continue = true;
        break;
    case KEPT_AUTHORIZATION:
        target_api_read_authorization(&c->bearer, v, len);
        break;
    case KEPT_COOKIE:
        target_api_read_cookie(&c->session, v, len);
        break;
    case KEPT_NONE:
        break;
    }
}

static enum kept_header kept_header(const char *name, unsigned len)
{
    if (len == 6 && memcmp(name, "expect", 6) == 0)
        return KEPT_EXPECT;
    if (len == 13 && memcmp(name, "authorization", 13) == 0)
        return KEPT_AUTHORIZATION;
    if (len == 6 && memcmp(name, "cookie", 6) == 0)
        return KEPT_COOKIE;
    return KEPT_NONE;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (c->in_header_value) {
        header_value_done(c);
        c->in_header_value = false;
        c->header_field_len = 0;
    }
    header_append(c->header_field, sizeof(c->header_field), &c->header_field_len, at, len);
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (!c->in_header_value) {
        c->in_header_value = true;
        c->kept = kept_header(c->header_field, c->header_field_len);
        c->header_value_len = 0;
    }
    if (c->kept != KEPT_NONE)
        value_append(c->header_value, sizeof(c->header_value), &c->header_value_len, at, len);
    return 0;
}

/* Keeps the start of the body, for POST /login; the rest is skipped. */
static int on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    size_t room = sizeof(c->body) - c->body_len;
    if (len > room) {
        c->body_truncated = true;
        len = room;
    }
    memcpy(c->body + c->body_len, at, len);
    c->body_len += len;
    return 0;
}

/* A client that sent "Expect: 100-continue" waits (curl: one second) for a
 * go-ahead before it sends the body we are going to discard anyway. */
static int on_headers_complete(http_parser *p)
{
    struct conn *c = p->data;
    if (c->in_header_value)
        header_value_done(c);
    bool has_body = (p->flags & F_CHUNKED) || p->content_length > 0;
    if (c->expect_continue && has_body && p->http_major == 1 && p->http_minor >= 1) {
        conn_queue(c, &c->server->routes.continue_100, false);
        if (c->writing || c->closing)
            http_parser_pause(p, 1);
    }
    return 0;
}

/* The request is complete (its body, if any, read and discarded): decide
 * the answer, then send it now or after the delay. Pausing the parser makes
 * http_parser_execute return right after this request, leaving pipelined
 * requests in the buffer until conn_pump resumes. */
static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    struct target_server *s = c->server;
    const struct target_config *cfg = &s->cfg;

    if (cfg->close_rate > 0 && draw_unit(s) < cfg->close_rate) {
        s->dropped++;
        c->ending = true; /* answers already queued still go out first */
        http_parser_pause(p, 1);
        return 0;
    }

    bool keep_alive = http_should_keep_alive(p) && !p->upgrade;
    c->method = p->method;
    c->head = p->method == HTTP_HEAD;
    if (!keep_alive)
        c->framing = TARGET_FRAMING_CLOSE;
    else if (p->http_major == 1 && p->http_minor == 0)
        c->framing = TARGET_FRAMING_KEEP_ALIVE_10;
    else
        c->framing = TARGET_FRAMING_KEEP_ALIVE_11;

    if (c->url_too_long) {
        c->reply = TARGET_REPLY_URI_TOO_LONG;
    } else {
        target_routes_split_target(c->url, c->url_len, &c->path_off, &c->path_len);
        c->reply = target_routes_check_method(target_routes_match(c->url + c->path_off, c->path_len),
                                              p->method);
    }
    if (cfg->fail_rate > 0 && draw_unit(s) < cfg->fail_rate)
        c->reply = TARGET_REPLY_ERROR;

    if (cfg->delay_max_us > 0) {
        conn_delay(c);
        http_parser_pause(p, 1);
        return 0;
    }
    conn_answer(c);
    if (c->writing || c->ending || c->closing)
        http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- reading ---- */

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = handle->data;
    (void)suggested;
    /* TLS: ciphertext goes to the server's buffer, which on_read empties
     * before anything else is read. */
    if (c->server->tls != NULL) {
        *buf = uv_buf_init(c->server->tls_read, sizeof(c->server->tls_read));
        return;
    }
    /* Reading only runs once the buffer has been parsed to the end, so this
     * is normally the whole buffer. */
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

/* Makes room for more bytes of plaintext in a TLS connection's input. Only
 * a record split across reads needs it; false past CONN_PLAIN_MAX. */
static bool conn_in_reserve(struct conn *c, size_t more)
{
    size_t need = c->in_len + more;
    if (need <= c->in_cap)
        return true;
    if (need > CONN_PLAIN_MAX)
        return false;
    size_t cap = c->in_cap * 2;
    while (cap < need)
        cap *= 2;
    if (c->in == c->in_fixed) {
        char *heap = xmalloc(cap);
        memcpy(heap, c->in, c->in_len);
        c->in = heap;
    } else {
        c->in = xrealloc(c->in, cap);
    }
    c->in_cap = cap;
    return true;
}

/* net/tls's plaintext: appended to the input for conn_pump. Nothing is
 * parsed or written here, since net/tls's buffer holds these bytes. */
static bool on_plain(void *ud, const char *data, size_t len)
{
    struct conn *c = ud;
    if (!conn_in_reserve(c, len))
        return false;
    memcpy(c->in + c->in_len, data, len);
    c->in_len += len;
    return true;
}

static void conn_tls_input(struct conn *c, const char *data, size_t len)
{
    switch (tls_input(&c->tls, data, len, on_plain, c)) {
    case TLS_IN_OK:
        break;
    case TLS_IN_CLOSED: /* close_notify: answer what came, then close, as at EOF */
        c->peer_eof = true;
        conn_read_stop(c);
        break;
    case TLS_IN_STOPPED: /* more input than a client should ever send unread */
        conn_close(c);
        return;
    case TLS_IN_ERROR:
        /* Not TLS (a plain-HTTP client), or a broken record: send the
         * alert OpenSSL made, if the socket takes it, and drop. */
        tls_flush(&c->tls);
        conn_close(c);
        return;
    }
    conn_pump(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = stream->data;
    if (nread > 0) {
        if (c->draining)
            return;
        if (c->server->tls != NULL) {
            conn_tls_input(c, buf->base, (size_t)nread);
        } else {
            c->in_len += (size_t)nread;
            conn_pump(c);
        }
    } else if (nread == UV_EOF) {
        c->peer_eof = true;
        c->reading = false; /* libuv stops reading at EOF */
        if (c->draining)
            conn_close(c);
        else
            conn_pump(c); /* answers pending for a half-closed client still go out */
    } else if (nread < 0) {
        conn_close(c);
    }
}

static void conn_read_start(struct conn *c)
{
    if (c->reading || c->peer_eof)
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
        conn_close(c);
        return;
    }
    c->reading = true;
}

static void conn_read_stop(struct conn *c)
{
    if (!c->reading)
        return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
}

/* ---- HTTP/2 ---- */

/* Which protocol the connection speaks, once that can be known: ALPN "h2"
 * over TLS, or the HTTP/2 preface as its first bytes; anything else is
 * HTTP/1.x. False while it cannot be known yet (the TLS handshake is under
 * way, or the bytes so far are a beginning of the preface). */
static bool conn_choose_protocol(struct conn *c)
{
    struct target_server *s = c->server;
    if (s->tls != NULL) {
        if (!c->tls.ready)
            return false;
        const char *alpn = tls_alpn(&c->tls);
        if (alpn != NULL && strcmp(alpn, "h2") == 0) {
            c->sniffing = false;
            c->h2 = target_h2_new(s->h2_env);
            return true;
        }
    }
    size_t n = c->in_len < TARGET_H2_PREFACE_LEN ? c->in_len : TARGET_H2_PREFACE_LEN;
    if (memcmp(c->in, TARGET_H2_PREFACE, n) != 0) {
        c->sniffing = false;
        return true;
    }
    if (c->in_len < TARGET_H2_PREFACE_LEN)
        return false;
    c->sniffing = false;
    c->h2 = target_h2_new(s->h2_env);
    return true;
}

/* Sends what the session has to say, a round of at most H2_WRITE_ROUND
 * bytes at a time, until it has nothing more or a write is pending (the
 * session's buffer must then stay as it is: no new output until on_write). */
static void conn_h2_send(struct conn *c)
{
    while (!c->writing && !c->closing) {
        const char *data;
        long n = target_h2_output(c->h2, H2_WRITE_ROUND, &data);
        if (n < 0) {
            conn_close(c);
            return;
        }
        if (n == 0)
            return;
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)n);
        if (c->server->tls != NULL) {
            if (tls_write(&c->tls, &b, 1) < 0) {
                conn_close(c);
                return;
            }
            conn_flush_tls(c);
            continue;
        }
        int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (w == UV_EAGAIN)
            w = 0;
        if (w < 0) {
            conn_close(c);
            return;
        }
        if ((size_t)w == b.len)
            continue;
        b.base += w;
        b.len -= (size_t)w;
        if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write) < 0) {
            conn_close(c);
            return;
        }
        c->writing = true;
    }
}

static void on_h2_delay_done(uv_timer_t *timer)
{
    struct conn *c = timer->data;
    target_h2_run_due(c->h2, uv_hrtime());
    conn_pump(c);
}

/* The connection's timer waits for the earliest delayed answer. */
static void conn_h2_arm_delay(struct conn *c)
{
    uint64_t due = target_h2_next_deadline(c->h2);
    if (due == 0) {
        uv_timer_stop(&c->timer);
        return;
    }
    uv_update_time(c->server->loop);
    uint64_t now = uv_hrtime();
    /* Whole milliseconds, rounded up; a timer that fires early finds
     * nothing due and comes back here. */
    uint64_t ms = due > now ? (due - now + 999999) / 1000000 : 0;
    uv_timer_start(&c->timer, on_h2_delay_done, ms, 0);
}

/* The HTTP/2 twin of conn_pump: everything read goes to the session (it
 * takes it all), its answers go out, and the connection ends gracefully
 * once the session is over (a GOAWAY sent or received and every stream
 * closed). Reading goes on while answers wait for --delay; it stops only
 * while a write is pending. */
static void conn_h2_pump(struct conn *c)
{
    if (c->in_len > 0 && !c->draining) {
        target_h2_input(c->h2, c->in, c->in_len, uv_hrtime()); /* a failure shows in _finished */
        c->in_len = c->in_off = 0;
    }
    conn_h2_send(c);
    if (c->closing)
        return;
    if (!c->draining)
        conn_h2_arm_delay(c);
    if (c->writing) {
        conn_read_stop(c);
        return;
    }
    if (target_h2_finished(c->h2)) {
        conn_end(c);
        if (c->closing)
            return;
    } else if (c->peer_eof) {
        conn_close(c);
        return;
    }
    conn_read_start(c);
}

/* Parses what is buffered as far as the connection's state allows, flushes
 * the answers, and decides whether to read on, wait, or close. Called after
 * every read, finished write and fired delay timer. */
static void conn_pump(struct conn *c)
{
    if (c->closing)
        return;
    if (c->sniffing && !c->draining && !conn_choose_protocol(c)) {
        conn_flush(c); /* the TLS handshake's messages */
        if (c->closing)
            return;
        if (c->peer_eof) {
            conn_close(c);
            return;
        }
        if (c->writing)
            conn_read_stop(c);
        else
            conn_read_start(c);
        return;
    }
    if (c->h2 != NULL) {
        conn_h2_pump(c);
        return;
    }
    while (!c->closing && !c->writing && !c->delayed && !c->ending && c->in_off < c->in_len) {
        size_t n = http_parser_execute(&c->parser, &parser_settings, c->in + c->in_off, c->in_len - c->in_off);
        c->in_off += n;
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (err == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
        } else if (err != HPE_OK) {
            c->reply = TARGET_REPLY_BAD_REQUEST;
            c->framing = TARGET_FRAMING_CLOSE;
            c->head = false;
            conn_answer(c);
        } else if (c->parser.upgrade) {
            c->ending = true; /* what follows is another protocol, which we do not speak */
        }
    }
    if (c->closing)
        return;
    if (c->in_off == c->in_len)
        c->in_off = c->in_len = 0;
    conn_flush(c);
    if (c->closing)
        return;
    if (c->writing || c->delayed) {
        conn_read_stop(c);
        return;
    }
    if (c->ending) {
        conn_end(c);
        if (c->closing)
            return;
    } else if (c->peer_eof) {
        conn_close(c);
        return;
    }
    conn_read_start(c);
}

/* ---- accepting ---- */

static void on_connection(uv_stream_t *listener, int status)
{
    struct target_server *s = listener->data;
    if (status < 0) {
        /* Usually EMFILE under a connection storm; libuv already sheds the
         * waiting connection. Say it once, not once per attempt. */
        if (!s->cfg.quiet && !s->warned_accept)
            fprintf(stderr, "hopper-target: accept: %s (further accept errors are not shown)\n",
                    uv_strerror(status));
        s->warned_accept = true;
        return;
    }

    struct conn *c = xcalloc(1, sizeof(*c));
    c->server = s;
    c->tcp.data = c;
    c->timer.data = c;
    c->write_req.data = c;
    c->shutdown_req.data = c;
    c->in = c->in_fixed;
    c->in_cap = sizeof(c->in_fixed);
    c->sniffing = true;
    if (s->tls != NULL)
        tls_conn_init(&c->tls, s->tls, on_tls_written, c);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;

    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    s->accepted++;
    /* Answers are whole; waiting for more to coalesce would only add latency. */
    uv_tcp_nodelay(&c->tcp, 1);
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    if (s->tls != NULL && tls_start(&c->tls, (uv_stream_t *)&c->tcp, NULL) < 0) {
        conn_close(c);
        return;
    }
    conn_read_start(c);
}

/* ---- the server ---- */

static void server_free(struct target_server *s)
{
    target_h2_env_free(s->h2_env);
    target_routes_free(&s->routes);
    target_counts_free(s->counts);
    free(s);
}

static void on_listener_failed(uv_handle_t *handle)
{
    server_free(handle->data);
}

/* Lets other sockets of this user bind the same address and port, each with
 * its own accept queue; the kernel spreads new connections across them. */
static int listener_reuse_port(uv_tcp_t *listener)
{
    uv_os_fd_t fd;
    int err = uv_fileno((const uv_handle_t *)listener, &fd);
    if (err < 0)
        return err;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0)
        return uv_translate_sys_error(errno);
    return 0;
}

int target_server_new(uv_loop_t *loop, const struct target_config *cfg, struct target_server **out)
{
    struct target_server *s = xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->cfg = *cfg;
    s->rng = cfg->seed;
    s->counts = target_counts_new();
    s->tls = cfg->tls;
    target_routes_init(&s->routes);
    if (cfg->fail_status)
        target_routes_set_fail_status(&s->routes, cfg->fail_status);
    s->h2_env = target_h2_env_new(&(struct target_h2_config){
        .routes = &s->routes,
        .auth = cfg->auth,
        .counts = s->counts,
        .rng = &s->rng,
        .dropped = &s->dropped,
        .delay_min_us = cfg->delay_min_us,
        .delay_max_us = cfg->delay_max_us,
        .fail_rate = cfg->fail_rate,
        .close_rate = cfg->close_rate,
        .rst_rate = cfg->h2_rst_rate,
        .goaway_after = cfg->h2_goaway_after,
    });

    /* With reuse_port the socket must exist before the bind, to set the
     * option on it (libuv 1.44 has no flag for it). */
    int err = cfg->reuse_port ? uv_tcp_init_ex(loop, &s->listener, cfg->addr.ss_family)
                              : uv_tcp_init(loop, &s->listener);
    if (err < 0) {
        server_free(s);
        return err;
    }
    s->listener.data = s;
    if (cfg->reuse_port)
        err = listener_reuse_port(&s->listener);
    if (err == 0)
        err = uv_tcp_bind(&s->listener, (const struct sockaddr *)&cfg->addr, 0);
    if (err == 0)
        err = uv_listen((uv_stream_t *)&s->listener, LISTEN_BACKLOG, on_connection);
    if (err < 0) {
        uv_close((uv_handle_t *)&s->listener, on_listener_failed);
        return err;
    }
    target_stall_start(&s->stall, loop, &cfg->stall);
    *out = s;
    return 0;
}

int target_server_address(const struct target_server *s, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    int namelen = sizeof(ss);
    int err = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &namelen);
    if (err < 0)
        return err;
    return target_server_format_address(&ss, buf, len);
}

int target_server_format_address(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char host[64];
    int err;
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        err = uv_ip6_name(a, host, sizeof(host));
        if (err == 0)
            snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        err = uv_ip4_name(a, host, sizeof(host));
        if (err == 0)
            snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    }
    return err;
}

void target_server_stop(struct target_server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    uv_close((uv_handle_t *)&s->listener, NULL);
    target_stall_stop(&s->stall);
    /* conn_close unlinks the connection, so take the head each time. */
    while (s->conns != NULL)
        conn_close(s->conns);
}

void target_server_report(const struct target_server *s, FILE *out)
{
    struct target_counts_totals totals;
    target_counts_print(target_server_counts(s, &totals), &totals, out);
}

const struct target_counts *target_server_counts(const struct target_server *s,
                                                 struct target_counts_totals *totals)
{
    totals->connections_accepted = s->accepted;
    totals->connections_dropped = s->dropped;
    totals->show_dropped = s->cfg.close_rate > 0;
    return s->counts;
}

void target_server_free(struct target_server *s)
{
    if (s != NULL)
        server_free(s);
}

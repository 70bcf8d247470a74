/* target_h2: see include/target/target_h2.h.
 *
 * nghttp2 does the framing, HPACK, flow control and the protocol's rules
 * (it refuses a request without :method or :path, an uppercase header
 * name, a stream that breaks the state machine); this file only reads the
 * few headers the server needs, keeps the start of a body, and answers.
 *
 * A stream's state lives from its first HEADERS frame (on_begin_headers)
 * to nghttp2's stream close callback, which frees it; the session also
 * keeps every stream on a list of its own so that target_h2_free, whose
 * nghttp2_session_del calls no callbacks, can free the rest, and so that
 * delayed answers and a GOAWAY's refusals can be found. Streams number at
 * most H2_MAX_STREAMS at a time (our SETTINGS), so the walks are short.
 *
 * Answers are target_routes' HTTP/1.1 responses taken apart: the status
 * code from the status line, each header line as a name and value
 * (nghttp2 copies them and lower-cases the names), the Connection header
 * dropped (HTTP/2 forbids it), and the body served from where it lies by
 * the data provider. One source of truth for every answer's bytes. */
#include "target/target_h2.h"

#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target/target_api.h"
#include "util/rng.h"
#include "util/xalloc.h"

#define H2_URL_MAX 2048    /* as HTTP/1.1: a longer :path is answered 414 and counted as "other" */
#define H2_MAX_STREAMS 100 /* concurrent streams a client may open (SETTINGS) */
#define H2_NV_MAX 16       /* header fields of an answer: ours have at most six */
#define H2_OUT_START 4096  /* first size of the output buffer; it grows to what a round needs */

struct target_h2_env {
    struct target_h2_config cfg;
    nghttp2_session_callbacks *callbacks;
    nghttp2_mem mem; /* nghttp2 wants it writable */
};

struct h2_stream {
    struct h2_stream *prev, *next; /* the session's streams */
    int32_t id;

    /* The request, as its headers and body arrive. */
    unsigned method;
    bool method_known; /* :method is one http_parser knows */
    bool expect_continue;
    bool url_too_long;
    size_t url_len;
    char *url; /* :path, raw; NULL until it comes */
    struct target_api_token bearer, session;
    size_t body_len;
    bool body_truncated;
    char body[TARGET_API_BODY_MAX];

    /* The answer. */
    bool taken;   /* the request is complete and was answered, reset, refused or delayed */
    bool delayed; /* waits for answer_at_ns */
    bool head;
    enum target_reply reply;
    uint64_t answer_at_ns;
    struct target_response dynamic; /* target_api's answer when it made one (data owned) */
    const char *send;               /* the body still to go, for the data provider */
    size_t send_len, send_off;
};

struct target_h2 {
    struct target_h2_env *env;
    nghttp2_session *session;
    struct h2_stream *streams;
    uint64_t now_ns;
    uint64_t requests;     /* requests taken on this connection (goaway_after) */
    int32_t last_accepted; /* the newest stream whose request is ours to answer */
    int32_t goaway_last;   /* after our GOAWAY: the last stream id it named */
    bool goaway_sent;      /* ours is submitted: later streams are refused */
    bool broken;           /* the client broke the protocol */
    char *out;             /* target_h2_output's gathering buffer */
    size_t out_cap;
};

/* Same draw as HTTP/1.1's (target_server): one generator per server. */
static double draw_unit(const struct target_h2_config *cfg)
{
    return rng_bits_unit(rng_splitmix(cfg->rng));
}

static struct h2_stream *stream_of(nghttp2_session *session, int32_t id)
{
    return nghttp2_session_get_stream_user_data(session, id);
}

static void stream_free(struct target_h2 *h, struct h2_stream *st)
{
    if (st->prev != NULL)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next != NULL)
        st->next->prev = st->prev;
    free(st->dynamic.data);
    free(st->url);
    free(st);
}

/* The http_parser number of a method name, so counts read "GET /status"
 * whichever protocol carried the request. */
static bool method_number(const uint8_t *name, size_t len, unsigned *out)
{
#define XX(num, label, string)                                                                               \
    if (len == sizeof(#string) - 1 && memcmp(name, #string, len) == 0) {                                     \
        *out = num;                                                                                          \
        return true;                                                                                         \
    }
    HTTP_METHOD_MAP(XX)
#undef XX
    return false;
}

/* ---- answering ---- */

/* target_routes' HTTP/1.1 response as HTTP/2 header fields: ":status" from
 * the status line, then each header but Connection. The pointers are into
 * r, which nghttp2 copies from at submit. */
static size_t response_fields(const struct target_response *r, nghttp2_nv *nv)
{
    const char *p = r->data, *end = r->data + r->head_len;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    size_t n = 0;
    nv[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)(sp + 1), 7, 3, NGHTTP2_NV_FLAG_NONE};
    p = memmem(p, (size_t)(end - p), "\r\n", 2) + 2;
    while (p + 2 < end && n < H2_NV_MAX) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL) {
            const char *v = colon + 1;
            while (v < eol && *v == ' ')
                v++;
            size_t name_len = (size_t)(colon - p);
            if (!(name_len == 10 && strncasecmp(p, "connection", 10) == 0))
                nv[n++] = (nghttp2_nv){(uint8_t *)p, (uint8_t *)v, name_len, (size_t)(eol - v),
                                       NGHTTP2_NV_FLAG_NONE};
        }
        p = eol + 2;
    }
    return n;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    struct h2_stream *st = source->ptr;
    (void)session;
    (void)stream_id;
    (void)user_data;
    size_t n = st->send_len - st->send_off;
    if (n > length)
        n = length;
    memcpy(buf, st->send + st->send_off, n);
    st->send_off += n;
    if (st->send_off == st->send_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* The login flow's answer (target_api), from the raw path and query. */
static const struct target_response *api_answer(struct target_h2 *h, struct h2_stream *st, size_t path_off,
                                                size_t path_len)
{
    const struct target_h2_config *cfg = &h->env->cfg;
    struct target_api_request req = {
        .route = st->reply,
        .framing = TARGET_FRAMING_KEEP_ALIVE_11,
        .path = st->url + path_off,
        .path_len = path_len,
        .body = st->body,
        .body_len = st->body_len,
        .body_truncated = st->body_truncated,
    };
    size_t after = path_off + path_len;
    if (after < st->url_len && st->url[after] == '?') {
        const char *q = st->url + after + 1;
        const char *hash = memchr(q, '#', st->url_len - after - 1);
        req.query = q;
        req.query_len = hash != NULL ? (size_t)(hash - q) : st->url_len - after - 1;
    }
    const struct target_api_token *t = st->bearer.given ? &st->bearer : st->session.given ? &st->session : NULL;
    if (t != NULL) {
        req.token = t->text;
        req.token_len = t->len;
    }
    return target_api_answer(cfg->routes, cfg->auth, cfg->counts, &req, &st->dynamic);
}

/* Counts the request and submits its answer, as HTTP/1.1's conn_answer. */
static void stream_answer(struct target_h2 *h, struct h2_stream *st)
{
    const struct target_h2_config *cfg = &h->env->cfg;
    size_t path_off = 0, path_len = 0;
    if (st->url != NULL && !st->url_too_long)
        target_routes_split_target(st->url, st->url_len, &path_off, &path_len);
    const struct target_response *r = target_routes_is_api(st->reply)
                                          ? api_answer(h, st, path_off, path_len)
                                          : target_routes_response(cfg->routes, st->reply,
                                                                   TARGET_FRAMING_KEEP_ALIVE_11);
    if (st->reply == TARGET_REPLY_BAD_REQUEST)
        target_counts_add_malformed(cfg->counts);
    else if (st->url_too_long)
        target_counts_add_other(cfg->counts);
    else
        target_counts_add(cfg->counts, st->method, st->url + path_off,
                          target_routes_decode_path(st->url + path_off, path_len));
    if (st->reply == TARGET_REPLY_ERROR)
        target_counts_add_failed(cfg->counts);

    nghttp2_nv nv[H2_NV_MAX];
    size_t n = response_fields(r, nv);
    st->send = r->data + r->head_len;
    st->send_len = st->head ? 0 : r->len - r->head_len;
    st->send_off = 0;
    nghttp2_data_provider body = {.source.ptr = st, .read_callback = read_body};
    /* Fails only when the stream is already gone (the client reset it). */
    nghttp2_submit_response(h->session, st->id, nv, n, st->send_len > 0 ? &body : NULL);
}

/* Refuses a request that came after our GOAWAY: the client may send it
 * again on a new connection. */
static void stream_refuse(struct target_h2 *h, struct h2_stream *st)
{
    nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
}

/* Our GOAWAY (NO_ERROR): streams up to last are still answered, the rest
 * refused now (including those whose request is still arriving, so that
 * none keeps the session open). */
static void send_goaway(struct target_h2 *h, int32_t last)
{
    h->goaway_sent = true;
    h->goaway_last = last;
    nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE, last, NGHTTP2_NO_ERROR, NULL, 0);
    for (struct h2_stream *st = h->streams; st != NULL; st = st->next)
        if (st->id > last && !st->taken) {
            st->taken = true;
            stream_refuse(h, st);
        }
}

/* A request is complete: decide what it gets, in the draw order of
 * target_h2.h, then answer now or at its deadline. */
static void request_complete(struct target_h2 *h, struct h2_stream *st)
{
    const struct target_h2_config *cfg = &h->env->cfg;
    if (st->taken)
        return;
    st->taken = true;
    if (h->goaway_sent && st->id > h->goaway_last) {
        stream_refuse(h, st);
        return;
    }
    if (cfg->close_rate > 0 && !h->goaway_sent && draw_unit(cfg) < cfg->close_rate) {
        (*cfg->dropped)++;
        send_goaway(h, h->last_accepted);
        stream_refuse(h, st);
        return;
    }
    if (st->id > h->last_accepted)
        h->last_accepted = st->id;
    h->requests++;
    if (cfg->rst_rate > 0 && draw_unit(cfg) < cfg->rst_rate) {
        target_counts_add_reset(cfg->counts);
        nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
    } else {
        if (!st->method_known || st->url == NULL)
            st->reply = TARGET_REPLY_BAD_REQUEST;
        else if (st->url_too_long)
            st->reply = TARGET_REPLY_URI_TOO_LONG;
        else {
            size_t off, len;
            target_routes_split_target(st->url, st->url_len, &off, &len);
            st->reply = target_routes_check_method(target_routes_match(st->url + off, len), st->method);
        }
        if (cfg->fail_rate > 0 && draw_unit(cfg) < cfg->fail_rate)
            st->reply = TARGET_REPLY_ERROR;
        st->head = st->method_known && st->method == HTTP_HEAD;
        if (cfg->delay_max_us > 0) {
            uint64_t us = cfg->delay_min_us;
            if (cfg->delay_max_us > us)
                us += rng_splitmix(cfg->rng) % (cfg->delay_max_us - us + 1);
            st->delayed = true;
            st->answer_at_ns = h->now_ns + us * 1000;
        } else {
            stream_answer(h, st);
        }
    }
    if (cfg->goaway_after > 0 && h->requests >= cfg->goaway_after && !h->goaway_sent)
        send_goaway(h, st->id);
}

/* ---- nghttp2's callbacks (user_data is the target_h2) ---- */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct target_h2 *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = xcalloc(1, sizeof(*st));
    st->id = frame->hd.stream_id;
    st->next = h->streams;
    if (h->streams != NULL)
        h->streams->prev = st;
    h->streams = st;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
}

static bool name_is(const uint8_t *name, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    return len == n && memcmp(name, lit, n) == 0;
}

/* Names arrive lower-cased (nghttp2 refuses others). Only what the server
 * reads is kept; trailers (a later header block) are not looked into. */
static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    (void)flags;
    (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct h2_stream *st = stream_of(session, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    if (name_is(name, namelen, ":method")) {
        st->method_known = method_number(value, valuelen, &st->method);
    } else if (name_is(name, namelen, ":path")) {
        if (valuelen > H2_URL_MAX) {
            st->url_too_long = true;
            valuelen = 0;
        }
        free(st->url);
        st->url = xmalloc(valuelen + 1);
        memcpy(st->url, value, valuelen);
        st->url_len = valuelen;
    } else if (name_is(name, namelen, "authorization")) {
        target_api_read_authorization(&st->bearer, (const char *)value, valuelen);
    } else if (name_is(name, namelen, "cookie")) {
        target_api_read_cookie(&st->session, (const char *)value, valuelen);
    } else if (name_is(name, namelen, "expect")) {
        st->expect_continue = valuelen == 12 && strncasecmp((const char *)value, "100-continue", 12) == 0;
    }
    return 0;
}

/* Keeps the start of the body, for POST /login; the rest is skipped. */
static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *user_data)
{
    (void)flags;
    (void)user_data;
    struct h2_stream *st = stream_of(session, stream_id);
    if (st == NULL)
        return 0;
    size_t room = sizeof(st->body) - st->body_len;
    if (len > room) {
        st->body_truncated = true;
        len = room;
    }
    memcpy(st->body + st->body_len, data, len);
    st->body_len += len;
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct target_h2 *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    struct h2_stream *st = stream_of(session, frame->hd.stream_id);
    if (st == NULL)
        return 0;
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        request_complete(h, st);
    } else if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST &&
               st->expect_continue) {
        /* The go-ahead a client that asked for it waits for (curl: a second). */
        static const nghttp2_nv status_100 = {(uint8_t *)":status", (uint8_t *)"100", 7, 3,
                                              NGHTTP2_NV_FLAG_NONE};
        nghttp2_submit_headers(session, NGHTTP2_FLAG_NONE, st->id, NULL, &status_100, 1, NULL);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
    (void)error_code;
    struct h2_stream *st = stream_of(session, stream_id);
    if (st != NULL) {
        nghttp2_session_set_stream_user_data(session, stream_id, NULL);
        stream_free(user_data, st);
    }
    return 0;
}

/* ---- the env and the session ---- */

/* nghttp2 allocates through our wrappers, so that running out of memory
 * ends the process the one way every other allocation does. */
static void *mem_malloc(size_t size, void *ud)
{
    (void)ud;
    return xmalloc(size ? size : 1);
}

static void mem_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static void *mem_calloc(size_t n, size_t size, void *ud)
{
    (void)ud;
    return xcalloc(n ? n : 1, size ? size : 1);
}

static void *mem_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    return xrealloc(p, size ? size : 1);
}


/* nghttp2's constructors fail only for want of memory. */
static void out_of_memory(void) __attribute__((noreturn));
static void out_of_memory(void)
{
    fputs("hopper-target: out of memory\n", stderr);
    abort();
}

struct target_h2_env *target_h2_env_new(const struct target_h2_config *cfg)
{
    struct target_h2_env *env = xcalloc(1, sizeof(*env));
    env->cfg = *cfg;
    env->mem = (nghttp2_mem){env, mem_malloc, mem_free, mem_calloc, mem_realloc};
    if (nghttp2_session_callbacks_new(&env->callbacks) != 0)
        out_of_memory();
    nghttp2_session_callbacks *cb = env->callbacks;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    return env;
}

void target_h2_env_free(struct target_h2_env *env)
{
    if (env == NULL)
        return;
    nghttp2_session_callbacks_del(env->callbacks);
    free(env);
}

struct target_h2 *target_h2_new(struct target_h2_env *env)
{
    struct target_h2 *h = xcalloc(1, sizeof(*h));
    h->env = env;
    if (nghttp2_session_server_new3(&h->session, env->callbacks, h, NULL, &env->mem) != 0)
        out_of_memory();
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
    };
    nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, settings, sizeof(settings) / sizeof(settings[0]));
    return h;
}

void target_h2_free(struct target_h2 *h)
{
    if (h == NULL)
        return;
    nghttp2_session_del(h->session); /* calls no callbacks: the streams are ours to free */
    while (h->streams != NULL)
        stream_free(h, h->streams);
    free(h->out);
    free(h);
}

int target_h2_input(struct target_h2 *h, const char *data, size_t len, uint64_t now_ns)
{
    h->now_ns = now_ns;
    ssize_t n = nghttp2_session_mem_recv(h->session, (const uint8_t *)data, len);
    if (n < 0) {
        h->broken = true;
        return -1;
    }
    return 0;
}

long target_h2_output(struct target_h2 *h, size_t max, const char **data)
{
    size_t len = 0;
    while (len < max) {
        const uint8_t *frame;
        ssize_t n = nghttp2_session_mem_send(h->session, &frame);
        if (n < 0) {
            h->broken = true;
            return -1;
        }
        if (n == 0)
            break;
        if (len + (size_t)n > h->out_cap) {
            size_t cap = h->out_cap ? h->out_cap : H2_OUT_START;
            while (cap < len + (size_t)n)
                cap *= 2;
            h->out = xrealloc(h->out, cap);
            h->out_cap = cap;
        }
        memcpy(h->out + len, frame, (size_t)n);
        len += (size_t)n;
    }
    *data = h->out;
    return (long)len;
}

uint64_t target_h2_next_deadline(const struct target_h2 *h)
{
    uint64_t next = 0;
    for (const struct h2_stream *st = h->streams; st != NULL; st = st->next)
        if (st->delayed && (next == 0 || st->answer_at_ns < next))
            next = st->answer_at_ns;
    return next;
}

void target_h2_run_due(struct target_h2 *h, uint64_t now_ns)
{
    h->now_ns = now_ns;
    /* Submitting closes no stream (that happens while sending), so the
     * list stays as it is during the walk. */
    for (struct h2_stream *st = h->streams; st != NULL; st = st->next)
        if (st->delayed && st->answer_at_ns <= now_ns) {
            st->delayed = false;
            stream_answer(h, st);
        }
}

bool target_h2_finished(const struct target_h2 *h)
{
    return h->broken || (!nghttp2_session_want_read(h->session) && !nghttp2_session_want_write(h->session));
}

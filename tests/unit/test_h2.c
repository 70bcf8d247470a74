/* test_h2: the native HTTP/2 client (src/http/h2_*.c) on a real loop.
 *
 * Against a small scripted HTTP/2 server made with libnghttp2's server
 * session in this process, on the same loop (h2c, over loopback TCP): it
 * does what hopper-target never does on purpose - RST_STREAM with a chosen
 * code, GOAWAY naming the request as processed or not, a header block too
 * large, a request left unanswered, a connection cut under a request - and
 * echoes what it received so a test sees what the client sent. Then
 * against the real hopper-target, over h2c and over TLS (a throw-away
 * self-signed certificate from openssl), with its counts compared. Every
 * wait has a deadline, and every test closes its connection and proves
 * uv_loop_close() == 0. */
#include "check.h"
#include "hopper.h"
#include "http/h2.h"
#include "../../src/http/h2_internal.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "target_proc.h"

#define UA HOPPER_USER_AGENT
#define SEC 1000000ULL

/* ---- the scripted server ----------------------------------------------------------------- */

/* Routes, by path:
 *   /hello             200 "hello"
 *   /echo              200, the request as the body: "method=M\npath=P\n", each
 *                      header "name: value\n", then "body=" and the body
 *   /cookie            200 with set-cookie: sid=abc; Path=/
 *   /headers           200 with x-one: 1 and x-two: 2
 *   /r302, /r303       302/303 to /echo;  /r307 307 to /echo
 *   /loop              302 to /loop;  /away  302 to http://elsewhere.test/x
 *   /slow              never answered
 *   /rst               RST_STREAM INTERNAL_ERROR
 *   /refuse-once       RST_STREAM REFUSED_STREAM the first time, then 200
 *   /goaway-unproc     the first time: GOAWAY (last stream id below this one),
 *                      then the connection closes; then 200
 *   /goaway-proc       GOAWAY INTERNAL_ERROR naming this stream, then closes
 *   /cut-once          the first time: the connection closes with no answer
 *   /big-headers       a header block of about 400 KB
 *   /big-body          200 with 300,000 bytes
 *   /bad-length        200 saying content-length: 3, with 5 bytes of body */
typedef struct srv srv_t;

typedef struct sstream sstream_t;

typedef struct sconn {
    srv_t *srv;
    sstream_t *streams;      /* open streams: freed with the connection if never closed */
    uv_tcp_t tcp;
    nghttp2_session *session;
    struct sconn *next;
    bool closing;
    bool close_after_write;
    int writes_in_flight;
} sconn_t;

struct sstream {
    sstream_t *next;
    char method[16];
    char path[256];
    char headers[4096];
    size_t headers_len;
    char body[8192];
    size_t body_len;
    char *reply;
    size_t reply_len, reply_off;
};

struct srv {
    uv_loop_t *loop;
    uv_tcp_t listener;
    unsigned port;
    char url[64];
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    sconn_t *conns;
    int connections, requests;
    int refuse_hits, goaway_hits, cut_hits;
};

typedef struct {
    uv_write_t req;
    char data[];
} swrite_t;

static void s_on_closed(uv_handle_t *h)
{
    sconn_t *sc = h->data;
    srv_t *s = sc->srv;
    for (sconn_t **p = &s->conns; *p; p = &(*p)->next)
        if (*p == sc) {
            *p = sc->next;
            break;
        }
    nghttp2_session_del(sc->session);
    while (sc->streams) {
        sstream_t *st = sc->streams;
        sc->streams = st->next;
        free(st->reply);
        free(st);
    }
    free(sc);
}

static void s_close(sconn_t *sc)
{
    if (!sc->closing) {
        sc->closing = true;
        uv_close((uv_handle_t *)&sc->tcp, s_on_closed);
    }
}

static void s_on_write(uv_write_t *w, int status)
{
    (void)status;
    sconn_t *sc = w->data;
    free(w);
    sc->writes_in_flight--;
    if (sc->close_after_write && sc->writes_in_flight == 0)
        s_close(sc);
}

static void s_flush(sconn_t *sc)
{
    if (sc->closing)
        return;
    char *buf = NULL;
    size_t len = 0;
    for (;;) {
        const uint8_t *d;
        ssize_t n = nghttp2_session_mem_send(sc->session, &d);
        if (n <= 0)
            break;
        buf = realloc(buf, len + (size_t)n);
        memcpy(buf + len, d, (size_t)n);
        len += (size_t)n;
    }
    if (len) {
        swrite_t *w = malloc(sizeof *w + len);
        memcpy(w->data, buf, len);
        w->req.data = sc;
        uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
        sc->writes_in_flight++;
        if (uv_write(&w->req, (uv_stream_t *)&sc->tcp, &b, 1, s_on_write) != 0) {
            sc->writes_in_flight--;
            free(w);
        }
    }
    free(buf);
    if (sc->close_after_write && sc->writes_in_flight == 0)
        s_close(sc);
}

static ssize_t s_read_reply(nghttp2_session *session, int32_t id, uint8_t *buf, size_t len,
                            uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)session;
    (void)id;
    (void)ud;
    sstream_t *st = src->ptr;
    size_t n = st->reply_len - st->reply_off;
    if (n > len)
        n = len;
    memcpy(buf, st->reply + st->reply_off, n);
    st->reply_off += n;
    if (st->reply_off == st->reply_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

static void s_reply(sconn_t *sc, int32_t id, sstream_t *st, const char *status,
                    const nghttp2_nv *extra, size_t n_extra, const char *body, size_t body_len)
{
    nghttp2_nv nv[400];
    size_t n = 0;
    nv[n++] = (nghttp2_nv)NV(":status", status);
    for (size_t i = 0; i < n_extra && n < 400; i++)
        nv[n++] = extra[i];
    free(st->reply);
    st->reply = malloc(body_len + 1);
    memcpy(st->reply, body, body_len);
    st->reply_len = body_len;
    st->reply_off = 0;
    nghttp2_data_provider dp = {.source.ptr = st, .read_callback = s_read_reply};
    bool head = strcmp(st->method, "HEAD") == 0;
    nghttp2_submit_response(sc->session, id, nv, n, body_len && !head ? &dp : NULL);
}

static void s_answer(sconn_t *sc, int32_t id, sstream_t *st)
{
    srv_t *s = sc->srv;
    s->requests++;
    const char *p = st->path;
    if (strcmp(p, "/hello") == 0) {
        s_reply(sc, id, st, "200", NULL, 0, "hello", 5);
    } else if (strcmp(p, "/echo") == 0 || strncmp(p, "/echo?", 6) == 0 ||
               strncmp(p, "/echo/", 6) == 0) {
        char out[16384];
        int n = snprintf(out, sizeof out, "method=%s\npath=%s\n%.*sbody=%.*s", st->method, st->path,
                         (int)st->headers_len, st->headers, (int)st->body_len, st->body);
        s_reply(sc, id, st, "200", NULL, 0, out, (size_t)n);
    } else if (strcmp(p, "/cookie") == 0) {
        nghttp2_nv h[] = {NV("set-cookie", "sid=abc; Path=/")};
        s_reply(sc, id, st, "200", h, 1, "c", 1);
    } else if (strcmp(p, "/headers") == 0) {
        nghttp2_nv h[] = {NV("x-one", "1"), NV("x-two", "2")};
        s_reply(sc, id, st, "200", h, 2, "h", 1);
    } else if (strcmp(p, "/r302") == 0 || strcmp(p, "/r303") == 0 || strcmp(p, "/r307") == 0) {
        nghttp2_nv h[] = {NV("location", "/echo")};
        s_reply(sc, id, st, p + 2, h, 1, "moved", 5);
    } else if (strcmp(p, "/loop") == 0) {
        nghttp2_nv h[] = {NV("location", "/loop")};
        s_reply(sc, id, st, "302", h, 1, "", 0);
    } else if (strcmp(p, "/away") == 0) {
        nghttp2_nv h[] = {NV("location", "http://elsewhere.test/x")};
        s_reply(sc, id, st, "302", h, 1, "", 0);
    } else if (strcmp(p, "/slow") == 0) {
        /* never answered */
    } else if (strcmp(p, "/rst") == 0) {
        nghttp2_submit_rst_stream(sc->session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    } else if (strcmp(p, "/refuse-once") == 0 && s->refuse_hits++ == 0) {
        nghttp2_submit_rst_stream(sc->session, NGHTTP2_FLAG_NONE, id, NGHTTP2_REFUSED_STREAM);
    } else if (strcmp(p, "/goaway-unproc") == 0 && s->goaway_hits++ == 0) {
        nghttp2_submit_goaway(sc->session, NGHTTP2_FLAG_NONE, id - 2, NGHTTP2_NO_ERROR, NULL, 0);
        sc->close_after_write = true;
    } else if (strcmp(p, "/goaway-proc") == 0) {
        nghttp2_submit_goaway(sc->session, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR, NULL, 0);
        sc->close_after_write = true;
    } else if (strcmp(p, "/cut-once") == 0 && s->cut_hits++ == 0) {
        s_close(sc);
    } else if (strcmp(p, "/big-headers") == 0) {
        static char value[1001];
        memset(value, 'x', 1000);
        nghttp2_nv h[390];
        static char names[390][8];
        for (unsigned i = 0; i < 390; i++) {
            snprintf(names[i], sizeof names[i], "x-%03u", i % 1000u);
            h[i] = (nghttp2_nv){(uint8_t *)names[i], (uint8_t *)value, 5, 1000, NGHTTP2_NV_FLAG_NONE};
        }
        s_reply(sc, id, st, "200", h, 390, "b", 1);
    } else if (strcmp(p, "/bad-length") == 0) {
        nghttp2_nv h[] = {NV("content-length", "3")};
        s_reply(sc, id, st, "200", h, 1, "12345", 5);
    } else if (strcmp(p, "/big-body") == 0) {
        char *b = malloc(300000);
        memset(b, 'z', 300000);
        s_reply(sc, id, st, "200", NULL, 0, b, 300000);
        free(b);
    } else {
        s_reply(sc, id, st, strcmp(p, "/refuse-once") == 0 || strcmp(p, "/goaway-unproc") == 0 ||
                                    strcmp(p, "/cut-once") == 0 ? "200" : "404",
                NULL, 0, "ok", 2);
    }
}

static int s_begin_headers(nghttp2_session *session, const nghttp2_frame *f, void *ud)
{
    sconn_t *sc = ud;
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
        sstream_t *st = calloc(1, sizeof *st);
        st->next = sc->streams;
        sc->streams = st;
        nghttp2_session_set_stream_user_data(session, f->hd.stream_id, st);
    }
    return 0;
}

static int s_header(nghttp2_session *session, const nghttp2_frame *f, const uint8_t *name,
                    size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    sstream_t *st = nghttp2_session_get_stream_user_data(session, f->hd.stream_id);
    if (!st)
        return 0;
    if (namelen == 7 && memcmp(name, ":method", 7) == 0)
        snprintf(st->method, sizeof st->method, "%.*s", (int)valuelen, value);
    else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
        snprintf(st->path, sizeof st->path, "%.*s", (int)valuelen, value);
    size_t room = sizeof st->headers - st->headers_len;
    int n = snprintf(st->headers + st->headers_len, room, "%.*s: %.*s\n", (int)namelen, name,
                     (int)valuelen, value);
    if (n > 0 && (size_t)n < room)
        st->headers_len += (size_t)n;
    return 0;
}

static int s_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
                  size_t len, void *ud)
{
    (void)flags;
    (void)ud;
    sstream_t *st = nghttp2_session_get_stream_user_data(session, id);
    if (st && st->body_len + len <= sizeof st->body) {
        memcpy(st->body + st->body_len, data, len);
        st->body_len += len;
    }
    return 0;
}

static int s_frame_recv(nghttp2_session *session, const nghttp2_frame *f, void *ud)
{
    sconn_t *sc = ud;
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        sstream_t *st = nghttp2_session_get_stream_user_data(session, f->hd.stream_id);
        if (st)
            s_answer(sc, f->hd.stream_id, st);
    }
    return 0;
}

static int s_stream_close(nghttp2_session *session, int32_t id, uint32_t code, void *ud)
{
    (void)code;
    sconn_t *sc = ud;
    sstream_t *st = nghttp2_session_get_stream_user_data(session, id);
    if (st) {
        for (sstream_t **p = &sc->streams; *p; p = &(*p)->next)
            if (*p == st) {
                *p = st->next;
                break;
            }
        free(st->reply);
        free(st);
    }
    return 0;
}

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(suggested);
    b->len = suggested;
}

static void s_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
    sconn_t *sc = stream->data;
    if (nread < 0) {
        s_close(sc);
    } else if (nread > 0 && !sc->closing) {
        if (nghttp2_session_mem_recv(sc->session, (const uint8_t *)b->base, (size_t)nread) < 0)
            s_close(sc);
        else
            s_flush(sc);
    }
    free(b->base);
}

static void s_on_connection(uv_stream_t *l, int status)
{
    srv_t *s = l->data;
    if (status < 0)
        return;
    sconn_t *sc = calloc(1, sizeof *sc);
    sc->srv = s;
    uv_tcp_init(s->loop, &sc->tcp);
    sc->tcp.data = sc;
    if (uv_accept(l, (uv_stream_t *)&sc->tcp) != 0) {
        uv_close((uv_handle_t *)&sc->tcp, (uv_close_cb)free);
        return;
    }
    s->connections++;
    nghttp2_session_server_new2(&sc->session, s->cb, sc, s->opt);
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    nghttp2_submit_settings(sc->session, NGHTTP2_FLAG_NONE, iv, 1);
    sc->next = s->conns;
    s->conns = sc;
    uv_read_start((uv_stream_t *)&sc->tcp, s_alloc, s_read);
    s_flush(sc);
}

static int srv_start(srv_t *s, uv_loop_t *loop)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    nghttp2_session_callbacks_new(&s->cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(s->cb, s_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(s->cb, s_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(s->cb, s_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(s->cb, s_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(s->cb, s_stream_close);
    nghttp2_option_new(&s->opt);
    nghttp2_option_set_max_send_header_block_length(s->opt, 1u << 20);
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    if (uv_tcp_bind(&s->listener, (const struct sockaddr *)&a, 0) != 0 ||
        uv_listen((uv_stream_t *)&s->listener, 64, s_on_connection) != 0)
        return -1;
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&got, &len);
    s->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", s->port);
    return 0;
}

static void srv_stop(srv_t *s)
{
    while (s->conns) {
        sconn_t *sc = s->conns;
        s->conns = sc->next;
        sc->next = NULL;
        if (!sc->closing) {
            sc->closing = true;
            uv_close((uv_handle_t *)&sc->tcp, s_on_closed);
        }
    }
    uv_close((uv_handle_t *)&s->listener, NULL);
}

/* After the loop has run the close callbacks. */
static void srv_free(srv_t *s)
{
    nghttp2_session_callbacks_del(s->cb);
    nghttp2_option_del(s->opt);
}

/* ---- a loop with one client connection ------------------------------------------------------ */

typedef struct {
    uv_loop_t loop;
    uv_timer_t tick;   /* keeps uv_run(ONCE) returning while we wait */
    srv_t srv;
    bool with_srv;
    h2_origin_t origin;
    h2_conn_t conn;
    int done_count;
    bool in_send, done_inside_send, closed;
    bool cancel_in_body, cancel_in_header;
    long status;
    uint64_t latency_us, body_bytes;
    http_error_t kind;
    const char *error;
    char error_text[200];
    char path[256];
    char sent[8192];
    char body[16384];
    size_t body_len;
    char headers[4096];
    size_t headers_len;
} rig_t;

static void on_tick(uv_timer_t *t) { (void)t; }

static void rig_on_body(void *arg, const char *d, size_t n)
{
    rig_t *g = arg;
    if (g->cancel_in_body) {
        g->cancel_in_body = false;
        h2_cancel(&g->conn);
        return;
    }
    size_t k = n < sizeof g->body - 1 - g->body_len ? n : sizeof g->body - 1 - g->body_len;
    memcpy(g->body + g->body_len, d, k);
    g->body_len += k;
    g->body[g->body_len] = '\0';
}

static void rig_on_header(void *arg, const char *name, size_t name_len, const char *value,
                          size_t value_len)
{
    rig_t *g = arg;
    if (g->cancel_in_header && name) {
        g->cancel_in_header = false;
        h2_cancel(&g->conn);
        return;
    }
    size_t room = sizeof g->headers - g->headers_len;
    int n = name ? snprintf(g->headers + g->headers_len, room, "%.*s=%.*s\n", (int)name_len, name,
                            (int)value_len, value)
                 : snprintf(g->headers + g->headers_len, room, "--\n");
    if (n > 0 && (size_t)n < room)
        g->headers_len += (size_t)n;
}

static void rig_on_done(void *arg, const http_result_t *r)
{
    rig_t *g = arg;
    if (g->in_send)
        g->done_inside_send = true;
    g->status = r->status;
    g->latency_us = r->latency_us;
    g->body_bytes = r->body_bytes;
    g->kind = r->error;
    g->error = http_error_text(r, g->error_text, sizeof g->error_text);
    snprintf(g->path, sizeof g->path, "%s", r->url ? r->url : "");
    snprintf(g->sent, sizeof g->sent, "%.*s", (int)r->sent_len, r->sent ? r->sent : "");
    g->done_count++;
}

static void rig_on_closed(h2_conn_t *c)
{
    ((rig_t *)c->user)->closed = true;
}

/* The loop alone: servers may go on it before the client. */
static void rig_loop_init(rig_t *g)
{
    memset(g, 0, sizeof *g);
    uv_loop_init(&g->loop);
    uv_timer_init(&g->loop, &g->tick);
    uv_timer_start(&g->tick, on_tick, 20, 20);
}

/* The client's origin (base, with extra's TLS options) and connection. */
static int rig_client_init(rig_t *g, const char *base, const http_client_config_t *extra)
{
    http_client_config_t cfg = extra ? *extra : (http_client_config_t){0};
    cfg.loop = &g->loop;
    cfg.host = base;
    cfg.failure_detail = true;
    char err[256];
    if (h2_origin_init(&g->origin, &cfg, err, sizeof err) != 0) {
        printf("#   origin: %s\n", err);
        return -1;
    }
    h2_conn_init(&g->conn, &g->origin, rig_on_body, rig_on_done, g);
    g->conn.on_header = rig_on_header;
    return 0;
}

/* A loop, the scripted server on it (unless base is given), and a client
 * connection to base or to the server. */
static int rig_init_cfg(rig_t *g, const char *base, const http_client_config_t *extra)
{
    rig_loop_init(g);
    if (!base) {
        if (srv_start(&g->srv, &g->loop) != 0)
            return -1;
        g->with_srv = true;
        base = g->srv.url;
    }
    return rig_client_init(g, base, extra);
}

static int rig_init(rig_t *g, const char *base)
{
    return rig_init_cfg(g, base, NULL);
}

static void rig_run(rig_t *g, uint64_t ms)
{
    uint64_t until = uv_now(&g->loop) + ms;
    while (uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
}

static bool rig_send_fill(rig_t *g, const h2_request_t *r, const http_fill_t *fill,
                          uint64_t deadline_ms)
{
    int before = g->done_count;
    g->body_len = 0;
    g->body[0] = '\0';
    g->headers_len = 0;
    g->headers[0] = '\0';
    g->in_send = true;
    h2_send(&g->conn, r, fill);
    g->in_send = false;
    uint64_t until = uv_now(&g->loop) + deadline_ms;
    while (g->done_count == before && uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
    CHECK(!g->done_inside_send);
    return g->done_count == before + 1;
}

static bool rig_send(rig_t *g, const h2_request_t *r, uint64_t deadline_ms)
{
    return rig_send_fill(g, r, NULL, deadline_ms);
}

static void rig_close(rig_t *g)
{
    h2_conn_close(&g->conn, rig_on_closed);
    uint64_t until = uv_now(&g->loop) + 2000;
    while (!g->closed && uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
    CHECK(g->closed);
    /* Let the server see the client's GOAWAY and EOF. */
    rig_run(g, 30);
    if (g->with_srv)
        srv_stop(&g->srv);
    uv_close((uv_handle_t *)&g->tick, NULL);
    uv_run(&g->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&g->loop), 0);
    if (g->with_srv)
        srv_free(&g->srv);
    h2_origin_free(&g->origin);
}

static void prep_body(h2_request_t *r, const h2_origin_t *o, const char *method, const char *target,
                      char *const *headers, size_t n_headers, const char *body, uint64_t timeout_us)
{
    char err[256];
    memset(r, 0, sizeof *r);
    int rc = h1_request_prepare(&r->h1, &o->h1, method, target, headers, n_headers, NULL, 0, body,
                                body ? strlen(body) : 0, timeout_us, UA, err, sizeof err);
    if (rc != 0)
        printf("#   prepare %s %s: %s\n", method, target, err);
    CHECK_INT(rc, 0);
    if (rc == 0)
        h2_request_init_nv(r, o);
}

static void prep(h2_request_t *r, const h2_origin_t *o, const char *method, const char *target,
                 uint64_t timeout_us)
{
    prep_body(r, o, method, target, NULL, 0, NULL, timeout_us);
}

/* ---- the header list (no network) ------------------------------------------------------------ */

static bool has_nv(const h2_request_t *r, const char *name, const char *value)
{
    for (size_t i = 0; i < r->n_nv; i++)
        if (r->nv[i].namelen == strlen(name) && memcmp(r->nv[i].name, name, strlen(name)) == 0 &&
            r->nv[i].valuelen == strlen(value) && memcmp(r->nv[i].value, value, strlen(value)) == 0)
            return true;
    return false;
}

static bool has_name(const h2_request_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_nv; i++)
        if (r->nv[i].namelen == strlen(name) && memcmp(r->nv[i].name, name, strlen(name)) == 0)
            return true;
    return false;
}

TEST(header_list)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    h2_origin_t o;
    char err[256];
    http_client_config_t cfg = {.loop = &loop, .host = "http://127.0.0.1:8082"};
    CHECK_INT(h2_origin_init(&o, &cfg, err, sizeof err), 0);
    char *headers[] = {"X-Trace:  abc  ", "Connection: keep-alive", "Keep-Alive: 5",
                       "Transfer-Encoding: chunked", "Upgrade: h2c", "TE: gzip", "Te: trailers",
                       "Proxy-Connection: x", "Accept: text/html"};
    h2_request_t r;
    prep_body(&r, &o, "POST", "/a?b=1", headers, 9, "x=1", 5 * SEC);
    CHECK(r.n_nv >= 4);
    CHECK(r.nv[0].namelen == 7 && memcmp(r.nv[0].name, ":method", 7) == 0);
    CHECK(has_nv(&r, ":method", "POST"));
    CHECK(has_nv(&r, ":scheme", "http"));
    CHECK(has_nv(&r, ":authority", "127.0.0.1:8082"));
    CHECK(has_nv(&r, ":path", "/a?b=1"));
    CHECK(has_nv(&r, "x-trace", "abc"));
    CHECK(has_nv(&r, "accept", "text/html"));
    CHECK(has_nv(&r, "te", "trailers"));
    CHECK(has_nv(&r, "user-agent", UA));
    CHECK(!has_name(&r, "host"));
    CHECK(!has_name(&r, "connection"));
    CHECK(!has_name(&r, "keep-alive"));
    CHECK(!has_name(&r, "transfer-encoding"));
    CHECK(!has_name(&r, "upgrade"));
    CHECK(!has_name(&r, "proxy-connection"));
    CHECK(!has_nv(&r, "te", "gzip"));
    /* The framing comes last: dropped by a 303. */
    CHECK_INT(r.n_framing, 2);
    CHECK(r.nv[r.n_nv - 1].namelen == 14 && memcmp(r.nv[r.n_nv - 1].name, "content-length", 14) == 0);
    CHECK(has_nv(&r, "content-length", "3"));
    CHECK(has_nv(&r, "content-type", "application/x-www-form-urlencoded"));
    for (size_t i = 0; i < r.n_nv; i++)
        for (size_t k = 0; k < r.nv[i].namelen; k++)
            CHECK(!(r.nv[i].name[k] >= 'A' && r.nv[i].name[k] <= 'Z'));
    h2_request_free(&r);

    char *host[] = {"Host: example.test"};
    prep_body(&r, &o, "GET", "/", host, 1, NULL, 5 * SEC);
    CHECK(has_nv(&r, ":authority", "example.test"));
    CHECK_INT(r.n_framing, 0);
    h2_request_free(&r);
    h2_origin_free(&o);
    CHECK_INT(uv_loop_close(&loop), 0);

    CHECK(h2_usable("http://a"));
    CHECK(h2_usable("https://a:8443/x"));
    CHECK(!h2_usable("ftp://a"));
    CHECK(!h2_usable("http://u:p@a"));
}

/* ---- against the scripted server ------------------------------------------------------------- */

TEST(get_keep_alive_head_404)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t hello, head, missing;
    prep(&hello, &g.origin, "GET", "/hello", 5 * SEC);
    prep(&head, &g.origin, "HEAD", "/hello", 5 * SEC);
    prep(&missing, &g.origin, "GET", "/nope", 5 * SEC);
    CHECK(rig_send(&g, &hello, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.body_bytes, 5);
    CHECK_STR(g.body, "hello");
    CHECK_STR(g.path, "/hello");
    CHECK(strstr(g.sent, ":method: GET\r\n:scheme: http\r\n") == g.sent);
    CHECK(g.latency_us > 0 && g.latency_us < 3 * SEC);
    int ok = 1;
    for (int i = 0; i < 99 && ok; i++)
        ok = rig_send(&g, &hello, 3000) && g.error == NULL && g.status == 200 && g.body_bytes == 5;
    CHECK(ok);
    CHECK(rig_send(&g, &head, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.body_bytes, 0);
    CHECK(rig_send(&g, &missing, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 404);
    CHECK_INT(g.srv.connections, 1);
    CHECK_INT(g.srv.requests, 102);
    rig_close(&g);
    h2_request_free(&hello);
    h2_request_free(&head);
    h2_request_free(&missing);
}

TEST(post_body_and_large_bodies)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t post, big;
    prep_body(&post, &g.origin, "POST", "/echo", NULL, 0, "name=hopper&x=1", 5 * SEC);
    prep(&big, &g.origin, "GET", "/big-body", 5 * SEC);
    CHECK(rig_send(&g, &post, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK(strstr(g.body, "method=POST\n") != NULL);
    CHECK(strstr(g.body, "content-length: 15\n") != NULL);
    CHECK(strstr(g.body, "content-type: application/x-www-form-urlencoded\n") != NULL);
    CHECK(strstr(g.body, "body=name=hopper&x=1") != NULL);
    CHECK(strstr(g.body, ":authority: 127.0.0.1:") != NULL);
    CHECK(strstr(g.body, "user-agent: " UA "\n") != NULL);
    /* A body larger than HTTP/2's default window arrives whole. */
    CHECK(rig_send(&g, &big, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.body_bytes, 300000);
    CHECK(rig_send(&g, &post, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.srv.connections, 1);
    rig_close(&g);
    h2_request_free(&post);
    h2_request_free(&big);
}

TEST(cookies_per_user)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t set, echo;
    prep(&set, &g.origin, "GET", "/cookie", 5 * SEC);
    prep(&echo, &g.origin, "GET", "/echo", 5 * SEC);
    CHECK(rig_send(&g, &echo, 3000));
    CHECK(strstr(g.body, "cookie:") == NULL);
    CHECK(rig_send(&g, &set, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.conn.cookies.n, 1);
    CHECK(rig_send(&g, &echo, 3000));
    CHECK(strstr(g.body, "cookie: sid=abc\n") != NULL);
    /* The failure detail does not repeat the cookie, as h1's does not. */
    CHECK(strstr(g.sent, "cookie") == NULL);
    rig_close(&g);
    h2_request_free(&set);
    h2_request_free(&echo);
}

TEST(redirects)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t r302, post303, post307, loop, away;
    prep(&r302, &g.origin, "GET", "/r302", 5 * SEC);
    prep_body(&post303, &g.origin, "POST", "/r303", NULL, 0, "a=1", 5 * SEC);
    prep_body(&post307, &g.origin, "POST", "/r307", NULL, 0, "a=1", 5 * SEC);
    prep(&loop, &g.origin, "GET", "/loop", 5 * SEC);
    prep(&away, &g.origin, "GET", "/away", 5 * SEC);

    CHECK(rig_send(&g, &r302, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_STR(g.path, "/echo");
    CHECK(strstr(g.body, "method=GET\npath=/echo\n") != NULL);
    CHECK_INT(g.body_bytes, strlen(g.body)); /* the redirect's own body is not counted */

    /* 303 after a POST: a GET without the body and its framing. */
    CHECK(rig_send(&g, &post303, 3000));
    CHECK(g.error == NULL);
    CHECK(strstr(g.body, "method=GET\n") != NULL);
    CHECK(strstr(g.body, "content-length") == NULL);
    CHECK(strstr(g.body, "content-type") == NULL);
    CHECK(strstr(g.body, "body=\0") != NULL || strstr(g.body, "body=") != NULL);
    CHECK(strstr(g.body, "a=1") == NULL);

    /* 307 keeps the method and the body. */
    CHECK(rig_send(&g, &post307, 3000));
    CHECK(g.error == NULL);
    CHECK(strstr(g.body, "method=POST\n") != NULL);
    CHECK(strstr(g.body, "body=a=1") != NULL);

    CHECK(rig_send(&g, &loop, 3000));
    CHECK_INT(g.kind, HTTP_E_TOO_MANY_REDIRECTS);
    CHECK_INT(g.status, 302);

    CHECK(rig_send(&g, &away, 3000));
    CHECK_INT(g.kind, HTTP_E_CROSS_ORIGIN);
    CHECK(strstr(g.error_text, "http://elsewhere.test/x") != NULL);

    /* All on one connection: a redirect is another stream. */
    CHECK_INT(g.srv.connections, 1);
    CHECK_INT(g.srv.requests, 2 + 2 + 2 + 1 + HOPPER_MAX_REDIRECTS + 1);
    rig_close(&g);
    h2_request_free(&r302);
    h2_request_free(&post303);
    h2_request_free(&post307);
    h2_request_free(&loop);
    h2_request_free(&away);
}

TEST(keep_headers_and_cancel)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t hdrs, r302, echo, big;
    prep(&hdrs, &g.origin, "GET", "/headers", 5 * SEC);
    prep(&r302, &g.origin, "GET", "/r302", 5 * SEC);
    prep(&echo, &g.origin, "GET", "/echo", 5 * SEC);
    prep(&big, &g.origin, "GET", "/big-body", 5 * SEC);
    hdrs.h1.keep_headers = true;
    r302.h1.keep_headers = true;
    CHECK(rig_send(&g, &hdrs, 3000));
    CHECK(g.error == NULL);
    CHECK_STR(g.headers, "--\nx-one=1\nx-two=2\n");
    /* Without keep_headers, on_header hears nothing. */
    CHECK(rig_send(&g, &echo, 3000));
    CHECK_STR(g.headers, "");
    /* A redirect's headers come first, then "a new response". */
    CHECK(rig_send(&g, &r302, 3000));
    CHECK(strncmp(g.headers, "--\nlocation=/echo\n--\n", 21) == 0);

    /* Cancelled from on_body: no on_done, the stream is reset and the
     * connection stays for the next request. */
    int before = g.done_count;
    g.cancel_in_body = true;
    h2_send(&g.conn, &big, NULL);
    rig_run(&g, 200);
    CHECK_INT(g.done_count, before);
    CHECK(!g.cancel_in_body);
    CHECK(rig_send(&g, &echo, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    /* ... and from on_header. */
    g.cancel_in_header = true;
    h2_send(&g.conn, &hdrs, NULL);
    rig_run(&g, 100);
    CHECK_INT(g.done_count, before + 1);
    CHECK(rig_send(&g, &echo, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.srv.connections, 1);
    rig_close(&g);
    h2_request_free(&hdrs);
    h2_request_free(&r302);
    h2_request_free(&echo);
    h2_request_free(&big);
}

TEST(fill)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t get, post;
    prep(&get, &g.origin, "GET", "/", 5 * SEC);
    char *typed[] = {"Content-Type: application/json"};
    prep_body(&post, &g.origin, "POST", "/", typed, 1, "{}", 5 * SEC);
    char target[] = "/echo?user=7";
    char headers[] = "X-Token: t0k3n\r\nConnection: close\r\n";
    http_fill_t f = {.target = target, .target_len = strlen(target), .headers = headers,
                     .headers_len = strlen(headers)};
    CHECK(rig_send_fill(&g, &get, &f, 3000));
    CHECK(g.error == NULL);
    CHECK(strstr(g.body, "path=/echo?user=7\n") != NULL);
    CHECK(strstr(g.body, "x-token: t0k3n\n") != NULL);
    CHECK(strstr(g.body, "connection") == NULL);
    CHECK_STR(g.path, "/echo?user=7");
    CHECK(strstr(g.sent, ":path: /echo?user=7\r\n") != NULL);

    char target2[] = "/echo/2";
    char body[] = "{\"id\":2}";
    http_fill_t f2 = {.target = target2, .target_len = strlen(target2), .body = body,
                      .body_len = strlen(body), .has_body = true};
    CHECK(rig_send_fill(&g, &post, &f2, 3000));
    CHECK(g.error == NULL);
    CHECK(strstr(g.body, "method=POST\npath=/echo/2\n") != NULL);
    CHECK(strstr(g.body, "content-type: application/json\n") != NULL);
    CHECK(strstr(g.body, "content-length: 8\n") != NULL);
    CHECK(strstr(g.body, "content-length: 2\n") == NULL);
    CHECK(strstr(g.body, "body={\"id\":2}") != NULL);

    /* The same prepared request without a fill is itself again. */
    CHECK(rig_send(&g, &get, 3000));
    CHECK_INT(g.status, 404);
    CHECK_STR(g.path, "/");
    rig_close(&g);
    h2_request_free(&get);
    h2_request_free(&post);
}

TEST(timeout)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t slow, hello;
    prep(&slow, &g.origin, "GET", "/slow", 200000);
    prep(&hello, &g.origin, "GET", "/hello", 5 * SEC);
    CHECK(rig_send(&g, &slow, 3000));
    CHECK_INT(g.kind, HTTP_E_TIMEOUT);
    CHECK_STR(g.error, "timeout after 200ms");
    CHECK(g.latency_us >= 190000);
    CHECK(rig_send(&g, &hello, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.srv.connections, 2);
    rig_close(&g);
    h2_request_free(&slow);
    h2_request_free(&hello);
}

TEST(rst_stream)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t rst, refuse, hello;
    prep(&rst, &g.origin, "GET", "/rst", 5 * SEC);
    prep(&refuse, &g.origin, "GET", "/refuse-once", 5 * SEC);
    prep(&hello, &g.origin, "GET", "/hello", 5 * SEC);
    CHECK(rig_send(&g, &rst, 3000));
    CHECK_INT(g.kind, HTTP_E_STREAM_RESET);
    CHECK_STR(g.error, "HTTP/2 stream reset by the server: INTERNAL_ERROR");
    /* The connection stays: a stream's reset is the stream's. */
    CHECK(rig_send(&g, &hello, 3000));
    CHECK(g.error == NULL);
    /* REFUSED_STREAM: not processed, so sent once more, uncounted. */
    CHECK(rig_send(&g, &refuse, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.srv.refuse_hits, 2);
    CHECK_INT(g.origin.h1.retries, 0);
    CHECK_INT(g.srv.connections, 1);
    rig_close(&g);
    h2_request_free(&rst);
    h2_request_free(&refuse);
    h2_request_free(&hello);
}

TEST(goaway)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t unproc, proc, hello;
    prep(&unproc, &g.origin, "GET", "/goaway-unproc", 5 * SEC);
    prep(&proc, &g.origin, "GET", "/goaway-proc", 5 * SEC);
    prep(&hello, &g.origin, "GET", "/hello", 5 * SEC);
    CHECK(rig_send(&g, &hello, 3000));
    /* Above the GOAWAY's last stream id: never processed, so it goes again
     * on a new connection, not as a retry. */
    CHECK(rig_send(&g, &unproc, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.srv.goaway_hits, 2);
    CHECK_INT(g.srv.connections, 2);
    CHECK_INT(g.origin.h1.retries, 0);
    /* Named as processed, then the connection ends without an answer. */
    CHECK(rig_send(&g, &proc, 3000));
    CHECK_INT(g.kind, HTTP_E_GOAWAY);
    CHECK_STR(g.error, "HTTP/2 connection ended by the server (GOAWAY: INTERNAL_ERROR)");
    CHECK(rig_send(&g, &hello, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.srv.connections, 3);
    rig_close(&g);
    h2_request_free(&unproc);
    h2_request_free(&proc);
    h2_request_free(&hello);
}

TEST(connection_cut_retry_and_big_headers)
{
    rig_t g;
    CHECK_INT(rig_init(&g, NULL), 0);
    h2_request_t cut, big, hello, bad;
    prep(&bad, &g.origin, "GET", "/bad-length", 5 * SEC);
    prep(&cut, &g.origin, "GET", "/cut-once", 5 * SEC);
    prep(&big, &g.origin, "GET", "/big-headers", 5 * SEC);
    prep(&hello, &g.origin, "GET", "/hello", 5 * SEC);
    CHECK(rig_send(&g, &hello, 3000));
    /* A kept-alive connection closes under an idempotent request before any
     * answer: once more on a new connection, counted. */
    CHECK(rig_send(&g, &cut, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.origin.h1.retries, 1);
    CHECK_INT(g.srv.connections, 2);
    /* A header block past H2_MAX_HEADER_LIST fails cleanly. */
    CHECK(rig_send(&g, &big, 3000));
    CHECK_INT(g.kind, HTTP_E_MALFORMED);
    CHECK_STR(g.error, "malformed response");
    CHECK(rig_send(&g, &hello, 3000));
    CHECK(g.error == NULL);
    /* A body longer than its Content-Length: nghttp2 resets the stream, and
     * the request fails at once (not at its timeout). */
    uint64_t t0 = uv_now(&g.loop);
    CHECK(rig_send(&g, &bad, 3000));
    CHECK_INT(g.kind, HTTP_E_MALFORMED);
    CHECK(uv_now(&g.loop) - t0 < 1000);
    CHECK(rig_send(&g, &hello, 3000));
    CHECK(g.error == NULL);
    rig_close(&g);
    h2_request_free(&bad);
    h2_request_free(&cut);
    h2_request_free(&big);
    h2_request_free(&hello);
}

TEST(connect_refused)
{
    /* A port nobody listens on: bind one, close it. */
    uv_loop_t tmp;
    uv_loop_init(&tmp);
    uv_tcp_t l;
    uv_tcp_init(&tmp, &l);
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_bind(&l, (const struct sockaddr *)&a, 0);
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(&l, (struct sockaddr *)&got, &len);
    unsigned port = ntohs(((struct sockaddr_in *)&got)->sin_port);
    uv_close((uv_handle_t *)&l, NULL);
    uv_run(&tmp, UV_RUN_DEFAULT);
    uv_loop_close(&tmp);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
    rig_t g;
    CHECK_INT(rig_init(&g, url), 0);
    h2_request_t hello;
    prep(&hello, &g.origin, "GET", "/hello", 5 * SEC);
    CHECK(rig_send(&g, &hello, 3000));
    CHECK_INT(g.kind, HTTP_E_CONNECT_REFUSED);
    rig_close(&g);
    h2_request_free(&hello);
}

/* ---- against hopper-target ------------------------------------------------------------------- */

TEST(target_h2c_counts)
{
    target_t t;
    if (target_start(&t, "--h2-goaway", "10") != 0) {
        printf("#   hopper-target did not start\n");
        CHECK(0);
        return;
    }
    rig_t g;
    CHECK_INT(rig_init(&g, t.url), 0);
    h2_request_t status;
    prep(&status, &g.origin, "GET", "/status", 5 * SEC);
    int ok = 1;
    for (int i = 0; i < 25 && ok; i++) {
        ok = rig_send(&g, &status, 3000) && g.error == NULL && g.status == 200 &&
             g.body_bytes == 15;
        if (!ok)
            printf("#   request %d: %s (status %ld)\n", i, g.error ? g.error : "-", g.status);
    }
    CHECK(ok);
    CHECK_STR(g.body, "{\"status\":\"OK\"}");
    rig_close(&g);
    h2_request_free(&status);
    target_stop(&t);
    CHECK_INT(report_count(&t, "requests answered: "), 25);
    CHECK_INT(report_count(&t, "connections accepted: "), 3); /* a GOAWAY after each 10 */
    CHECK_INT(g.origin.h1.retries, 0);
}

/* hopper-target --port 0 --tls CERT KEY, for the TLS tests. */
static int target_start_tls(target_t *t, const char *cert, const char *key)
{
    char *args[] = {"--tls", (char *)cert, (char *)key, NULL};
    return target_start_args(t, "https", args);
}

/* A throw-away self-signed certificate for 127.0.0.1 in dir. */
static int make_cert(const char *dir, char *cert, char *key, size_t len)
{
    snprintf(cert, len, "%s/cert.pem", dir);
    snprintf(key, len, "%s/key.pem", dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
             "-addext subjectAltName=IP:127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
             key, cert);
    return system(cmd) == 0 ? 0 : -1;
}

TEST(target_tls)
{
    char dir[] = "/tmp/test_h2.XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    char cert[256], key[256];
    if (make_cert(dir, cert, key, sizeof cert) != 0) {
        printf("#   openssl could not make a certificate\n");
        CHECK(0);
        return;
    }
    target_t t;
    if (target_start_tls(&t, cert, key) != 0) {
        printf("#   hopper-target --tls did not start\n");
        CHECK(0);
        return;
    }
    /* Trusted through --cacert: h2 by ALPN, kept alive. */
    http_client_config_t cfg = {.ca_file = cert};
    rig_t g;
    CHECK_INT(rig_init_cfg(&g, t.url, &cfg), 0);
    h2_request_t status, post;
    prep(&status, &g.origin, "GET", "/status", 5 * SEC);
    prep_body(&post, &g.origin, "POST", "/login", NULL, 0, "username=a&password=b", 5 * SEC);
    int ok = 1;
    for (int i = 0; i < 20 && ok; i++) {
        ok = rig_send(&g, &status, 3000) && g.error == NULL && g.status == 200;
        if (!ok)
            printf("#   request %d: %s (status %ld)\n", i, g.error ? g.error : "-", g.status);
    }
    CHECK(ok);
    CHECK_STR(g.body, "{\"status\":\"OK\"}");
    CHECK(strstr(g.sent, ":scheme: https\r\n") != NULL);
    CHECK(rig_send(&g, &post, 3000));
    CHECK(g.error == NULL);
    CHECK(g.status > 0);
    rig_close(&g);
    h2_request_free(&status);
    h2_request_free(&post);

    /* Not trusted without it: the certificate is self-signed. */
    CHECK_INT(rig_init(&g, t.url), 0);
    prep(&status, &g.origin, "GET", "/status", 5 * SEC);
    CHECK(rig_send(&g, &status, 3000));
    CHECK_INT(g.kind, HTTP_E_TLS_UNTRUSTED);
    if (g.error)
        CHECK(strstr(g.error, "self-signed") != NULL);
    rig_close(&g);
    h2_request_free(&status);

    /* --insecure: no check at all. */
    http_client_config_t insecure = {.insecure = true};
    CHECK_INT(rig_init_cfg(&g, t.url, &insecure), 0);
    prep(&status, &g.origin, "GET", "/status", 5 * SEC);
    CHECK(rig_send(&g, &status, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    rig_close(&g);
    h2_request_free(&status);

    target_stop(&t);
    CHECK_INT(report_count(&t, "requests answered: "), 22);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

/* A TLS server on the loop that offers only http/1.1 by ALPN (net/tls.h's
 * server side with h2 off): it handshakes and answers nothing. */
typedef struct {
    uv_tcp_t listener;
    uv_tcp_t conn;
    tls_ctx_t *ctx;
    tls_conn_t tls;
    bool accepted;
    char url[64];
} tls_srv_t;

static bool ts_plain(void *ud, const char *d, size_t n)
{
    (void)ud;
    (void)d;
    (void)n;
    return true;
}

static void ts_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)h;
    b->base = malloc(suggested);
    b->len = suggested;
}

static void ts_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b)
{
    tls_srv_t *ts = stream->data;
    if (nread > 0) {
        tls_input(&ts->tls, b->base, (size_t)nread, ts_plain, ts);
        tls_flush(&ts->tls);
    }
    free(b->base);
}

static void ts_on_connection(uv_stream_t *l, int status)
{
    tls_srv_t *ts = l->data;
    if (status < 0 || ts->accepted)
        return;
    uv_tcp_init(l->loop, &ts->conn);
    ts->conn.data = ts;
    if (uv_accept(l, (uv_stream_t *)&ts->conn) != 0)
        return;
    ts->accepted = true;
    tls_start(&ts->tls, (uv_stream_t *)&ts->conn, NULL);
    uv_read_start((uv_stream_t *)&ts->conn, ts_alloc, ts_read);
}

static int tls_srv_start(tls_srv_t *ts, uv_loop_t *loop, const char *cert, const char *key)
{
    memset(ts, 0, sizeof *ts);
    char err[256];
    tls_config_t tc = {.server = true, .cert_file = cert, .key_file = key, .h2 = false};
    ts->ctx = tls_ctx_new(&tc, err, sizeof err);
    if (!ts->ctx) {
        printf("#   tls server: %s\n", err);
        return -1;
    }
    tls_conn_init(&ts->tls, ts->ctx, NULL, ts);
    uv_tcp_init(loop, &ts->listener);
    ts->listener.data = ts;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_bind(&ts->listener, (const struct sockaddr *)&a, 0);
    if (uv_listen((uv_stream_t *)&ts->listener, 8, ts_on_connection) != 0)
        return -1;
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(&ts->listener, (struct sockaddr *)&got, &len);
    snprintf(ts->url, sizeof ts->url, "https://127.0.0.1:%u", ntohs(((struct sockaddr_in *)&got)->sin_port));
    return 0;
}

static void tls_srv_stop(tls_srv_t *ts)
{
    if (ts->accepted)
        uv_close((uv_handle_t *)&ts->conn, NULL);
    uv_close((uv_handle_t *)&ts->listener, NULL);
}

TEST(tls_no_h2_and_plain_port)
{
    char dir[] = "/tmp/test_h2.XXXXXX";
    char cert[256], key[256];
    if (!mkdtemp(dir) || make_cert(dir, cert, key, sizeof cert) != 0) {
        CHECK(0);
        return;
    }
    /* ALPN chose http/1.1: --http2 asked for HTTP/2, so the request fails. */
    rig_t g;
    tls_srv_t ts;
    http_client_config_t insecure = {.insecure = true};
    rig_loop_init(&g);
    CHECK_INT(tls_srv_start(&ts, &g.loop, cert, key), 0);
    CHECK_INT(rig_client_init(&g, ts.url, &insecure), 0);
    h2_request_t status;
    prep(&status, &g.origin, "GET", "/status", 5 * SEC);
    CHECK(rig_send(&g, &status, 3000));
    CHECK_INT(g.kind, HTTP_E_NO_H2);
    CHECK_STR(g.error, "the server does not speak HTTP/2 (ALPN chose http/1.1)");
    tls_srv_stop(&ts);
    rig_close(&g);
    tls_conn_free(&ts.tls);
    tls_ctx_free(ts.ctx);
    h2_request_free(&status);

    /* https:// to a port that speaks h2c: the handshake fails, promptly. */
    rig_t p;
    rig_loop_init(&p);
    CHECK_INT(srv_start(&p.srv, &p.loop), 0);
    p.with_srv = true;
    char url[80];
    snprintf(url, sizeof url, "https://127.0.0.1:%u", p.srv.port);
    CHECK_INT(rig_client_init(&p, url, &insecure), 0);
    prep(&status, &p.origin, "GET", "/hello", 5 * SEC);
    CHECK(rig_send(&p, &status, 3000));
    CHECK_INT(p.kind, HTTP_E_TLS_HANDSHAKE);
    CHECK(strncmp(p.error_text, "TLS handshake failed", 20) == 0);
    rig_close(&p);
    h2_request_free(&status);
    unlink(cert);
    unlink(key);
    rmdir(dir);
}

int main(void)
{
    check_prog = "h2";
    signal(SIGPIPE, SIG_IGN);
    RUN(header_list);
    RUN(get_keep_alive_head_404);
    RUN(post_body_and_large_bodies);
    RUN(cookies_per_user);
    RUN(redirects);
    RUN(keep_headers_and_cancel);
    RUN(fill);
    RUN(timeout);
    RUN(rst_stream);
    RUN(goaway);
    RUN(connection_cut_retry_and_big_headers);
    RUN(connect_refused);
    RUN(target_h2c_counts);
    RUN(target_tls);
    RUN(tls_no_h2_and_plain_port);
    return check_done();
}

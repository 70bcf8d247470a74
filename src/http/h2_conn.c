/* h2_conn: one connection of the native HTTP/2 client, its nghttp2 session
 * and the request on it (see src/http/h2_internal.h for the calls,
 * include/http/h2.h for what it costs).
 *
 * The socket's states (h2_state_t) and the only ways between them:
 *
 *   CLOSED     --h2_send, or a close while a request waits--> CONNECTING
 *   CONNECTING --connected, https://--> HANDSHAKE --TLS done, ALPN h2--> OPEN
 *   CONNECTING --connected, http:// (prior knowledge)--> OPEN
 *   CONNECTING, HANDSHAKE, OPEN --close_tcp: an error, a GOAWAY, a request to
 *              send again on a new connection--> CLOSING
 *   CLOSING    --the tcp handle's close callback (the session and the SSL
 *              object go there)--> CLOSED, and at once CONNECTING again if a
 *              request is waiting (and no error is)
 *   any        --h2_conn_close--> SHUTDOWN, for good.
 *
 * Input is handled in two steps, so that nothing is freed under a library
 * that is still working: the bytes go through tls_input (https://) and
 * nghttp2_session_mem_recv, whose callbacks only mark what happened to the
 * current stream (flags, the status, the server's codes) and hand body
 * bytes and kept headers to the owner; then, once both have returned,
 * after_input acts on the marks: completes, follows a redirect, fails, sends
 * again. So on_done never runs inside nghttp2 or OpenSSL, and the session
 * and SSL object are freed only in the tcp handle's close callback. The
 * owner's on_body and on_header run inside, and may only cancel there (a
 * RST_STREAM, sent once the input is handled), as with h1.
 *
 * Output: every frame nghttp2 has to send is gathered into one buffer
 * (nghttp2_session_mem_send) and written at once - with uv_try_write over
 * h2c, as one TLS record over https:// - so a request on an open connection
 * is one write: HEADERS, and DATA when it has a body; on a new connection the
 * preface, SETTINGS and WINDOW_UPDATE go in the same write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "h2_internal.h"
#include "util/url.h"
#include "util/xalloc.h"

/* Connection bits. */
#define F_WRITING (1u << 0)       /* h2c: a uv_write is queued (write_req in use) */
#define F_IN_INPUT (1u << 1)      /* inside tls_input or nghttp2_session_mem_recv */
#define F_SERVED (1u << 2)        /* a response completed on this connection */
#define F_GOAWAY (1u << 3)        /* the server sent GOAWAY: no new stream here */
/* Request bits, for one h2_send. */
#define F_RETRIED (1u << 4)       /* the one new connection for this request is used */
#define F_REFUSED (1u << 5)       /* the one resend after REFUSED_STREAM is used */
#define F_NO_BODY (1u << 6)       /* a 301/302/303 turned the request into a GET (or HEAD) */
#define F_ALL_HEADERS (1u << 7)   /* the request keeps headers: each goes to on_header */
/* Stream bits, for one attempt of the request on one stream. */
#define F_REUSED (1u << 8)        /* sent on a connection that had served a response */
#define F_GOT_BYTES (1u << 9)     /* a frame of the answer arrived */
#define F_HEADERS_DONE (1u << 10) /* the final (non-1xx) header block arrived */
#define F_TRAILERS (1u << 11)     /* a header block after it: not kept */
#define F_ENDED (1u << 12)        /* END_STREAM after the final headers: complete */
#define F_STREAM_CLOSED (1u << 13) /* the stream closed without ending */
#define F_RST (1u << 14)          /* ... by the server's RST_STREAM (rst_code) */
#define F_TOO_BIG (1u << 15)      /* the header block passed H2_MAX_HEADER_LIST */

#define F_STREAM (F_REUSED | F_GOT_BYTES | F_HEADERS_DONE | F_TRAILERS | F_ENDED | \
                  F_STREAM_CLOSED | F_RST | F_TOO_BIG)
#define F_REQUEST (F_RETRIED | F_REFUSED | F_NO_BODY | F_ALL_HEADERS | F_STREAM)

#define HDR_NAME_MAX 1024   /* a longer header name is not given to on_header (as h1) */
#define HDR_VAL_MAX 65536   /* ... nor a longer value */

static const char default_type[] = "application/x-www-form-urlencoded";

static void connect_start(h2_conn_t *c);
static void send_current(h2_conn_t *c);
static void flush(h2_conn_t *c);

/* ---- small helpers --------------------------------------------------------------- */

static bool attached(const h2_conn_t *c)
{
    return c->state == H2_CONNECTING || c->state == H2_HANDSHAKE || c->state == H2_OPEN;
}

/* Whether a new stream may start on this connection. */
static bool usable(const h2_conn_t *c)
{
    return c->state == H2_OPEN && !(c->flags & F_GOAWAY);
}

static const char *current_path(const h2_conn_t *c)
{
    if (c->redirect_path)
        return c->redirect_path;
    return c->fill_path ? c->fill_path : c->req->h1.path;
}

/* Grows a buffer to hold need bytes, by doubling, keeping its contents: a
 * connection's buffers grow to the largest use and stay. */
static void reserve(char **buf, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : first;
    while (n < need)
        n *= 2;
    *buf = xrealloc(*buf, n);
    *cap = n;
}

static void reserve_nv(nghttp2_nv **nv, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    *nv = xrealloc(*nv, n * sizeof **nv);
    *cap = n;
}

static nghttp2_nv copied_nv(const char *name, size_t name_len, const char *value, size_t value_len)
{
    return (nghttp2_nv){.name = (uint8_t *)name, .namelen = name_len, .value = (uint8_t *)value,
                        .valuelen = value_len, .flags = NGHTTP2_NV_FLAG_NONE};
}

static http_error_t send_error(int code)
{
    if (code == UV_EPIPE)
        return HTTP_E_CLOSED_SENDING;
    return code == UV_ECONNRESET ? HTTP_E_RESET : HTTP_E_SEND;
}

/* ---- the header list of a send ---------------------------------------------------------- */

/* The Cookie header's value for the current path (without "Cookie: " and
 * CRLF), in the connection's buffer; 0 when none applies. */
static size_t cookie_value(h2_conn_t *c, const char **value)
{
    size_t need = cookie_jar_header_max(&c->cookies);
    if (need > c->cookie_cap) {
        c->cookie_buf = xrealloc(c->cookie_buf, need);
        c->cookie_cap = need;
    }
    size_t n = cookie_jar_header(&c->cookies, current_path(c), time(NULL), c->cookie_buf,
                                 c->cookie_cap);
    if (n < 10)
        return 0;
    *value = c->cookie_buf + 8;
    return n - 10;
}

/* The current send's header list in c->nv: the prepared one with the
 * method a redirect made, the path of the redirect or fill, fill's headers,
 * the framing of fill's body (or none after a 301/302/303), the cookies.
 * Entries of the prepared request are not copied by nghttp2 (they live
 * until the client goes); the others are, at submit. */
static size_t build_nv(h2_conn_t *c, bool with_cookie)
{
    const h2_request_t *r = c->req;
    size_t base = r->n_nv - r->n_framing;
    reserve_nv(&c->nv, &c->nv_cap, r->n_nv + c->n_fill_nv + 3);
    nghttp2_nv *nv = c->nv;
    memcpy(nv, r->nv, base * sizeof *nv);
    if (c->flags & F_NO_BODY) {
        const char *m = r->h1.is_head ? "HEAD" : "GET";
        nv[H2_NV_METHOD] = copied_nv(":method", 7, m, strlen(m));
    }
    if (c->redirect_path || c->fill_path) {
        const char *p = current_path(c);
        nv[H2_NV_PATH] = copied_nv(":path", 5, p, strlen(p));
    }
    size_t n = base;
    if (c->n_fill_nv) {
        memcpy(nv + n, c->fill_nv, c->n_fill_nv * sizeof *nv);
        n += c->n_fill_nv;
    }
    if (c->flags & F_NO_BODY) {
        /* no framing: the body is gone */
    } else if (c->fill_has_body) {
        if (!r->h1.custom_type)
            nv[n++] = copied_nv("content-type", 12, default_type, sizeof default_type - 1);
        nv[n++] = copied_nv("content-length", 14, c->fill_length, c->fill_length_len);
    } else {
        memcpy(nv + n, r->nv + base, r->n_framing * sizeof *nv);
        n += r->n_framing;
    }
    const char *cookie;
    size_t cookie_len = with_cookie && c->cookies.n ? cookie_value(c, &cookie) : 0;
    if (cookie_len)
        nv[n++] = copied_nv("cookie", 6, cookie, cookie_len);
    return n;
}

/* The header list as CRLF lines, for a failure log (only when the client
 * was made for one); the Cookie header is not repeated, as h1 does not. */
static size_t render_sent(h2_conn_t *c)
{
    size_t n = build_nv(c, false), need = 1;
    for (size_t i = 0; i < n; i++)
        need += c->nv[i].namelen + c->nv[i].valuelen + 4;
    reserve(&c->sent_buf, &c->sent_cap, need, 256);
    char *p = c->sent_buf;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, c->nv[i].name, c->nv[i].namelen);
        p += c->nv[i].namelen;
        memcpy(p, ": ", 2);
        memcpy(p + 2, c->nv[i].value, c->nv[i].valuelen);
        p += 2 + c->nv[i].valuelen;
        memcpy(p, "\r\n", 2);
        p += 2;
    }
    return (size_t)(p - c->sent_buf);
}

/* fill's parts copied into the connection (fill's memory may change once
 * h2_send returns): the target, NUL-terminated (the path redirects and
 * cookies read); each header line as a list entry, its name lowercased,
 * connection-specific ones dropped; the body. Nothing in fill_buf is kept
 * from the last send, so a larger one is a new buffer, not a realloc. */
static void copy_fill(h2_conn_t *c, const h2_request_t *r, const http_fill_t *f)
{
    bool body = f->has_body && !r->h1.is_head;
    size_t lines = 0;
    for (size_t i = 0; i < f->headers_len; i++)
        lines += f->headers[i] == '\n';
    size_t need = (f->target ? f->target_len + 1 : 0) + f->headers_len + (body ? f->body_len : 0) + 1;
    if (need > c->fill_cap) {
        free(c->fill_buf);
        c->fill_buf = NULL;
        c->fill_cap = 0;
        reserve(&c->fill_buf, &c->fill_cap, need, 128);
    }
    reserve_nv(&c->fill_nv, &c->fill_nv_cap, lines + 1);
    char *p = c->fill_buf;
    c->fill_path = NULL;
    if (f->target) {
        memcpy(p, f->target, f->target_len);
        p[f->target_len] = '\0';
        c->fill_path = p;
        p += f->target_len + 1;
    }
    c->n_fill_nv = 0;
    /* client.c checked the lines: "Name: value\r\n" each. */
    for (size_t pos = 0; pos < f->headers_len;) {
        const char *line = f->headers + pos;
        const char *eol = memchr(line, '\n', f->headers_len - pos);
        size_t full = eol ? (size_t)(eol - line) + 1 : f->headers_len - pos;
        pos += full;
        const char *colon = memchr(line, ':', full);
        if (!colon)
            continue;
        size_t name_len = (size_t)(colon - line);
        const char *v = colon + 1, *end = line + full;
        while (end > v && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
            end--;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        size_t value_len = (size_t)(end - v);
        if (name_len == 0 || h2_header_dropped(line, name_len, v, value_len))
            continue;
        char *name = p;
        for (size_t i = 0; i < name_len; i++) {
            char ch = line[i];
            p[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
        }
        p += name_len;
        memcpy(p, v, value_len);
        c->fill_nv[c->n_fill_nv++] = copied_nv(name, name_len, p, value_len);
        p += value_len;
    }
    c->fill_has_body = body;
    c->fill_body = NULL;
    c->fill_body_len = 0;
    if (body) {
        if (f->body_len)
            memcpy(p, f->body, f->body_len);
        c->fill_body = p;
        c->fill_body_len = f->body_len;
        c->fill_length_len = (size_t)snprintf(c->fill_length, sizeof c->fill_length, "%zu",
                                              f->body_len);
    }
}

static void clear_fill(h2_conn_t *c)
{
    c->fill_path = NULL;
    c->n_fill_nv = 0;
    c->fill_has_body = false;
    c->fill_body = NULL;
    c->fill_body_len = 0;
}

/* ---- errors and completion -------------------------------------------------------------- */

static void on_tcp_closed(uv_handle_t *h);

/* Closes the socket if one is open; the session and SSL object go in the
 * close callback, never under a library call still running. */
static void close_tcp(h2_conn_t *c)
{
    if (attached(c)) {
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
        c->state = H2_CLOSING;
    }
}

static void free_redirect(h2_conn_t *c)
{
    free(c->redirect_path);
    free(c->location);
    c->redirect_path = c->location = NULL;
}

static void result_fill(h2_conn_t *c, http_result_t *r)
{
    r->latency_us = (uv_hrtime() - c->start_ns) / 1000;
    r->body_bytes = c->body_bytes;
    r->timeout_us = c->req->h1.timeout_us;
    if (c->origin->h1.failure_detail) {
        r->url_origin = c->origin->h1.origin_url;
        r->url = current_path(c);
        r->sent_len = render_sent(c); /* first: it may move sent_buf */
        r->sent = c->sent_buf;
    }
}

/* Ends the request in flight and tells the owner, who may send again,
 * cancel or close from on_done: the connection is idle before the call, and
 * what the result points to is freed only after it. */
static void finish(h2_conn_t *c, const http_result_t *r)
{
    uv_timer_stop(&c->timer);
    char *path = c->redirect_path, *location = c->location;
    c->redirect_path = c->location = NULL;
    c->req = NULL;
    c->stream_id = -1;
    c->flags &= ~F_REQUEST;
    c->pending = HTTP_OK;
    c->on_done(c->user, r);
    /* A big fill's buffer does not stay with an idle user. */
    if (c->req == NULL && c->state != H2_SHUTDOWN && c->fill_cap > H2_KEEP_MAX) {
        free(c->fill_buf);
        c->fill_buf = NULL;
        c->fill_cap = 0;
        clear_fill(c);
    }
    free(path);
    free(location);
}

/* Reports an error; close says whether the connection goes too (not for a
 * stream's own end: the other streams of the session are fine). */
static void fail_as(h2_conn_t *c, http_error_t kind, int sys_errno, const char *detail, bool close)
{
    http_result_t r = {.error = kind, .sys_errno = sys_errno, .detail = detail};
    if (kind == HTTP_E_CROSS_ORIGIN)
        r.detail = c->location;
    r.status = (c->flags & F_HEADERS_DONE) ? c->status : 0;
    result_fill(c, &r);
    if (close)
        close_tcp(c);
    finish(c, &r);
}

static void fail(h2_conn_t *c, http_error_t kind, int sys_errno, const char *detail)
{
    fail_as(c, kind, sys_errno, detail, true);
}

static void on_timer(uv_timer_t *t);

/* An error found where on_done may not run (inside h2_send): the timer
 * reports it on the loop's next turn. */
static void fail_later(h2_conn_t *c, http_error_t kind, int sys_errno, const char *detail)
{
    close_tcp(c);
    c->pending = kind;
    c->pending_errno = sys_errno;
    c->pending_detail = detail;
    uv_timer_start(&c->timer, on_timer, 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    h2_conn_t *c = t->data;
    if (!c->req)
        return;
    if (c->pending != HTTP_OK)
        fail(c, c->pending, c->pending_errno, c->pending_detail);
    else
        fail(c, HTTP_E_TIMEOUT, 0, NULL);
}

/* The request goes again on a new connection, with its original start time
 * and timeout (once per request: F_RETRIED). */
static void resend(h2_conn_t *c)
{
    c->flags |= F_RETRIED;
    close_tcp(c); /* on_tcp_closed connects and sends again */
}

/* h1's rule (http/client.h): a kept-alive connection found dead before any
 * frame of the answer: an idempotent request goes again, once, counted. */
static bool can_retry(const h2_conn_t *c)
{
    if ((c->flags & (F_REUSED | F_RETRIED | F_GOT_BYTES)) != F_REUSED || c->origin->h1.no_retry)
        return false;
    return c->req->h1.idempotent || (c->flags & F_NO_BODY);
}

static void retry(h2_conn_t *c)
{
    c->origin->h1.retries++;
    resend(c);
}

/* Whether the current stream is one the server's GOAWAY says it never
 * processed. */
static bool unprocessed(const h2_conn_t *c)
{
    return (c->flags & F_GOAWAY) && c->stream_id > c->goaway_last;
}

/* ---- redirects -------------------------------------------------------------------------- */

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The Location against the current path: the new path (xmalloc'd), or NULL
 * for another origin (or scheme), with c->location trimmed for the error's
 * text. */
static char *resolve_location(h2_conn_t *c)
{
    const char *loc = c->location;
    while (*loc == ' ' || *loc == '\t')
        loc++;
    size_t n = strcspn(loc, "#");
    while (n > 0 && (loc[n - 1] == ' ' || loc[n - 1] == '\t'))
        n--;
    char *path = url_resolve_reference(c->origin->h1.origin_url, current_path(c), loc, n);
    if (!path) {
        memmove(c->location, loc, n);
        c->location[n] = '\0';
    }
    return path;
}

static void follow_redirect(h2_conn_t *c)
{
    char *path = resolve_location(c);
    if (!path) {
        fail_as(c, HTTP_E_CROSS_ORIGIN, 0, NULL, false);
        return;
    }
    if (c->status == 301 || c->status == 302 || c->status == 303)
        c->flags |= F_NO_BODY;
    free(c->redirect_path);
    c->redirect_path = path;
    free(c->location);
    c->location = NULL;
    c->redirects++;
    c->stream_id = -1;
    if (usable(c))
        send_current(c);
    else
        close_tcp(c); /* on_tcp_closed connects and sends the redirect */
}

/* ---- after the input: acting on what the callbacks marked ------------------------------------ */

/* The current stream's end, as the callbacks marked it. */
static void stream_events(h2_conn_t *c)
{
    unsigned f = c->flags;
    if (f & F_TOO_BIG) {
        fail(c, HTTP_E_MALFORMED, 0, NULL);
    } else if (f & F_ENDED) {
        c->flags |= F_SERVED;
        if (c->answer == H2_ANSWER_TOO_MANY) {
            fail_as(c, HTTP_E_TOO_MANY_REDIRECTS, 0, NULL, false);
        } else if (c->answer == H2_ANSWER_FOLLOW) {
            follow_redirect(c);
        } else {
            http_result_t r = {.error = HTTP_OK, .status = c->status};
            result_fill(c, &r);
            finish(c, &r);
        }
    } else if (f & F_STREAM_CLOSED) {
        if (unprocessed(c)) {
            /* Never processed: as a request that never left, it goes on a
             * new connection, not counted as a retry. */
            if (!(f & F_RETRIED))
                resend(c);
            else
                fail(c, HTTP_E_GOAWAY, 0, nghttp2_http2_strerror(c->goaway_code));
        } else if ((f & F_RST) && c->rst_code == NGHTTP2_REFUSED_STREAM && !(f & F_REFUSED)) {
            /* Refused before any processing (RFC 9113 8.7): once more. */
            c->flags = (c->flags & ~F_STREAM) | F_REFUSED;
            c->stream_id = -1;
            if (usable(c))
                send_current(c);
            else
                close_tcp(c);
        } else if (f & F_RST) {
            fail_as(c, HTTP_E_STREAM_RESET, 0, nghttp2_http2_strerror(c->rst_code), false);
        } else {
            /* nghttp2 reset it: the answer broke the protocol (a bad header,
             * a body longer than its Content-Length, ...). */
            fail(c, HTTP_E_MALFORMED, 0, NULL);
        }
    }
}

/* The connection is gone under the request (EOF, a reset, a read error). */
static void connection_lost(h2_conn_t *c, int err)
{
    if (!c->req) {
        close_tcp(c);
        return;
    }
    if (c->state == H2_HANDSHAKE) {
        if (err == UV_ECONNRESET)
            fail(c, HTTP_E_RESET, 0, NULL);
        else
            fail(c, HTTP_E_TLS_HANDSHAKE, err && err != UV_EOF ? -err : 0,
                 HTTP_TLS_CLOSED_IN_HANDSHAKE);
        return;
    }
    if (c->flags & F_GOAWAY) {
        if (unprocessed(c) && !(c->flags & F_RETRIED))
            resend(c);
        else
            fail(c, HTTP_E_GOAWAY, 0, nghttp2_http2_strerror(c->goaway_code));
        return;
    }
    if (!(c->flags & F_GOT_BYTES)) {
        if (can_retry(c))
            retry(c);
        else if (err && err != UV_EOF)
            fail(c, err == UV_ECONNRESET ? HTTP_E_RESET : HTTP_E_RECV, -err, NULL);
        else
            fail(c, HTTP_E_NO_RESPONSE, 0, NULL);
        return;
    }
    if (err && err != UV_EOF)
        fail(c, err == UV_ECONNRESET ? HTTP_E_RESET : HTTP_E_RECV, -err, NULL);
    else
        fail(c, HTTP_E_MID_BODY, 0, NULL);
}

/* An error of the connection found during input (pending): the request
 * fails with it, or an idle connection just closes. */
static void input_failed(h2_conn_t *c)
{
    http_error_t kind = c->pending;
    c->pending = HTTP_OK;
    if (c->req)
        fail(c, kind, c->pending_errno, c->pending_detail);
    else
        close_tcp(c);
}

static void tls_send_pending(h2_conn_t *c)
{
    tls_conn_t *t = &c->tls;
    if (!tls_writing(t) && t->out_len[t->back] > 0) {
        int rc = tls_flush(t);
        if (rc < 0) {
            if (c->req)
                fail(c, send_error(rc), -rc, NULL);
            else
                close_tcp(c);
        }
    }
}

/* What the marks say, once tls_input and nghttp2 have returned. */
static void after_input(h2_conn_t *c)
{
    if (!attached(c))
        return; /* closed meanwhile, by the owner or an error */
    if (c->pending != HTTP_OK) {
        input_failed(c);
        return;
    }
    /* nghttp2 closes a stream it resets itself (a response that broke the
     * protocol) only once its RST_STREAM is sent: so the marks are read
     * again after the flush, or the request would wait for its timeout. */
    for (int round = 0; round < 2 && c->state == H2_OPEN; round++) {
        if (c->req)
            stream_events(c);
        if (c->state != H2_OPEN)
            break;
        flush(c);
        if (!c->req || !(c->flags & (F_ENDED | F_STREAM_CLOSED | F_TOO_BIG)))
            break;
    }
    if (c->state == H2_OPEN) {
        if (!c->req &&
            ((c->flags & F_GOAWAY) ||
             (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))))
            close_tcp(c); /* the server ends it: the next send opens another */
        else if (c->state == H2_OPEN && c->req && !nghttp2_session_want_read(c->session) &&
                 !nghttp2_session_want_write(c->session)) {
            /* The session ended under the request: the server's GOAWAY, or
             * nghttp2's own after a frame that broke the protocol. */
            if (c->flags & F_GOAWAY)
                connection_lost(c, UV_EOF);
            else
                fail(c, HTTP_E_MALFORMED, 0, NULL);
        }
    } else if (c->state == H2_HANDSHAKE) {
        tls_send_pending(c);
    }
}

/* ---- nghttp2's callbacks: they only mark ------------------------------------------------------ */

static bool our_stream(const h2_conn_t *c, int32_t id)
{
    return c->req && id == c->stream_id;
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    (void)s;
    h2_conn_t *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || !our_stream(c, frame->hd.stream_id))
        return 0;
    c->flags |= F_GOT_BYTES;
    if (c->flags & F_HEADERS_DONE) {
        c->flags |= F_TRAILERS;
        return 0;
    }
    /* A new response (after a 1xx): what came before is forgotten. */
    c->status = 0;
    free(c->location);
    c->location = NULL;
    if (c->flags & F_ALL_HEADERS)
        c->on_header(c->user, NULL, 0, NULL, 0);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)s;
    (void)flags;
    h2_conn_t *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || !our_stream(c, frame->hd.stream_id))
        return 0;
    c->header_bytes += namelen + valuelen + 32;
    if (c->header_bytes > H2_MAX_HEADER_LIST) {
        /* Resets the stream: nghttp2 decodes what follows only for HPACK's
         * state, and nothing more is kept. */
        c->flags |= F_TOO_BIG;
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (c->flags & F_TRAILERS)
        return 0; /* trailers are not kept, as h1 does not */
    const char *n = (const char *)name, *v = (const char *)value;
    if (namelen == 7 && memcmp(n, ":status", 7) == 0) {
        long st = 0;
        for (size_t i = 0; i < valuelen && i < 3; i++)
            st = st * 10 + (v[i] - '0');
        c->status = st;
        return 0;
    }
    if (namelen == 10 && memcmp(n, "set-cookie", 10) == 0) {
        cookie_jar_set(&c->cookies, v, valuelen, current_path(c), time(NULL));
    } else if (namelen == 8 && memcmp(n, "location", 8) == 0) {
        free(c->location);
        c->location = xstrndup(v, valuelen);
    }
    if ((c->flags & F_ALL_HEADERS) && namelen <= HDR_NAME_MAX && valuelen <= HDR_VAL_MAX &&
        namelen > 0 && n[0] != ':')
        c->on_header(c->user, n, namelen, v, valuelen);
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    (void)s;
    h2_conn_t *c = ud;
    switch (frame->hd.type) {
    case NGHTTP2_GOAWAY:
        c->flags |= F_GOAWAY;
        c->goaway_last = frame->goaway.last_stream_id;
        c->goaway_code = frame->goaway.error_code;
        return 0;
    case NGHTTP2_RST_STREAM:
        if (our_stream(c, frame->hd.stream_id)) {
            c->flags |= F_RST;
            c->rst_code = frame->rst_stream.error_code;
        }
        return 0;
    case NGHTTP2_HEADERS:
        if (!our_stream(c, frame->hd.stream_id))
            return 0;
        if (!(c->flags & (F_HEADERS_DONE | F_TOO_BIG)) && c->status >= 200) {
            c->flags |= F_HEADERS_DONE;
            if (is_redirect(c->status) && c->location)
                c->answer = c->redirects >= HOPPER_MAX_REDIRECTS ? H2_ANSWER_TOO_MANY
                                                                  : H2_ANSWER_FOLLOW;
            else
                c->answer = H2_ANSWER_FINAL;
        }
        break;
    case NGHTTP2_DATA:
        if (!our_stream(c, frame->hd.stream_id))
            return 0;
        break;
    default:
        return 0;
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && (c->flags & F_HEADERS_DONE))
        c->flags |= F_ENDED;
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)s;
    (void)flags;
    h2_conn_t *c = ud;
    if (!our_stream(c, stream_id))
        return 0;
    c->flags |= F_GOT_BYTES;
    if (c->answer != H2_ANSWER_FINAL)
        return 0;
    c->body_bytes += len;
    if (c->on_body)
        c->on_body(c->user, (const char *)data, len); /* may cancel: c->req is NULL then */
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *ud)
{
    (void)s;
    (void)error_code;
    h2_conn_t *c = ud;
    if (our_stream(c, stream_id) && !(c->flags & F_ENDED))
        c->flags |= F_STREAM_CLOSED;
    return 0;
}

/* The body of the request on the current stream. */
static ssize_t read_body(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t len,
                         uint32_t *data_flags, nghttp2_data_source *source, void *ud)
{
    (void)s;
    (void)source;
    h2_conn_t *c = ud;
    if (!our_stream(c, stream_id))
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* abandoned: resets that stream */
    size_t left = c->body_len - c->body_off;
    size_t n = left < len ? left : len;
    if (n)
        memcpy(buf, c->body + c->body_off, n);
    c->body_off += n;
    if (c->body_off == c->body_len)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

/* ---- output ------------------------------------------------------------------------------- */

static void write_failed(h2_conn_t *c, int err, bool unsent);

static void on_write(uv_write_t *w, int status)
{
    h2_conn_t *c = w->data;
    c->flags &= ~F_WRITING;
    if (c->wout_cap > H2_KEEP_MAX) {
        free(c->wout);
        c->wout = NULL;
        c->wout_cap = 0;
    }
    if (status == UV_ECANCELED || c->state != H2_OPEN)
        return;
    if (status < 0)
        write_failed(c, status, false);
    else if (c->out_len)
        flush(c);
}

static void on_tls_written(tls_conn_t *t, int status)
{
    h2_conn_t *c = t->user;
    if (status == UV_ECANCELED || !attached(c))
        return;
    if (status < 0)
        write_failed(c, status, false);
    else
        tls_send_pending(c);
}

/* h2c: c->out to the socket, at once when the kernel takes it; the rest
 * through uv_write from wout, while new frames gather in out. */
static void write_plain(h2_conn_t *c)
{
    if (c->flags & F_WRITING)
        return; /* on_write sends what gathered meanwhile */
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n >= 0 && (size_t)n == c->out_len) {
        c->out_len = 0;
        if (c->out_cap > H2_KEEP_MAX) {
            free(c->out);
            c->out = NULL;
            c->out_cap = 0;
        }
        return;
    }
    if (n < 0 && n != UV_EAGAIN) {
        c->out_len = 0;
        write_failed(c, n, true);
        return;
    }
    size_t done = n > 0 ? (size_t)n : 0;
    char *tmp = c->wout;
    size_t tmp_cap = c->wout_cap;
    c->wout = c->out;
    c->wout_cap = c->out_cap;
    c->out = tmp;
    c->out_cap = tmp_cap;
    b = uv_buf_init(c->wout + done, (unsigned)(c->out_len - done));
    c->out_len = 0;
    c->write_req.data = c;
    int err = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (err) {
        write_failed(c, err, false);
        return;
    }
    c->flags |= F_WRITING;
}

/* Everything nghttp2 has to send, in one write. Not inside input (after_input
 * flushes then). */
static void flush(h2_conn_t *c)
{
    if (c->state != H2_OPEN || (c->flags & F_IN_INPUT))
        return;
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->session, &data);
        if (n < 0) {
            c->out_len = 0;
            if (c->req)
                fail_later(c, HTTP_E_OTHER, 0, nghttp2_strerror((int)n));
            else
                close_tcp(c);
            return;
        }
        if (n == 0)
            break;
        reserve(&c->out, &c->out_cap, c->out_len + (size_t)n, 1024);
        memcpy(c->out + c->out_len, data, (size_t)n);
        c->out_len += (size_t)n;
    }
    if (c->out_len == 0) {
        /* Nothing of HTTP/2's, but OpenSSL may have made records of its own
         * while reading (an alert, a key update's answer). */
        if (c->origin->h1.https)
            tls_send_pending(c);
        return;
    }
    if (!c->origin->h1.https) {
        write_plain(c);
        return;
    }
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
    c->out_len = 0;
    if (tls_write(&c->tls, &b, 1) != 0) {
        if (c->req)
            fail_later(c, HTTP_E_TLS, 0, c->tls.reason);
        else
            close_tcp(c);
        return;
    }
    if (c->out_cap > H2_KEEP_MAX) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    if (!tls_writing(&c->tls)) {
        int rc = tls_flush(&c->tls);
        if (rc < 0)
            write_failed(c, rc, !c->tls.flush_sent);
    }
}

/* unsent: nothing of this write reached the socket, so on a kept-alive
 * connection the request provably never left: a new connection for it is no
 * retry (h1's rule). Never reports from here: the caller may be h2_send. */
static void write_failed(h2_conn_t *c, int err, bool unsent)
{
    if (!c->req)
        close_tcp(c);
    else if (unsent && (c->flags & (F_REUSED | F_RETRIED)) == F_REUSED)
        resend(c);
    else if (can_retry(c))
        retry(c);
    else
        fail_later(c, send_error(err), -err, NULL);
}

/* Submits the current request (prepared, filled or a redirect's) as a new
 * stream on the open session, and sends it. */
static void send_current(h2_conn_t *c)
{
    c->flags &= ~F_STREAM;
    if (c->flags & F_SERVED)
        c->flags |= F_REUSED;
    c->answer = H2_ANSWER_PENDING;
    c->status = 0;
    c->header_bytes = 0;
    c->rst_code = 0;
    const h2_request_t *r = c->req;
    if (c->flags & F_NO_BODY) {
        c->body = NULL;
        c->body_len = 0;
    } else if (c->fill_has_body) {
        c->body = c->fill_body;
        c->body_len = c->fill_body_len;
    } else {
        c->body = r->h1.body;
        c->body_len = r->h1.body ? r->h1.body_len : 0;
    }
    c->body_off = 0;
    size_t n = build_nv(c, true);
    nghttp2_data_provider dp = {.source.ptr = c, .read_callback = read_body};
    int32_t id = nghttp2_submit_request(c->session, NULL, c->nv, n, c->body_len ? &dp : NULL, c);
    if (id < 0) {
        /* Stream ids used up (2^30 requests on one connection), say: a new
         * connection, unless this one is new itself. */
        if ((c->flags & F_SERVED) && !(c->flags & F_RETRIED))
            resend(c);
        else
            fail_later(c, HTTP_E_CANNOT_CREATE, 0, NULL);
        return;
    }
    c->stream_id = id;
    flush(c);
}

/* ---- input -------------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    h2_conn_t *c = h->data;
    buf->base = c->origin->h1.read_buf;
    buf->len = H1_READ_BUF;
}

/* Plaintext frames into the session. An error of nghttp2's is the
 * connection's: marked for after_input. */
static void feed(h2_conn_t *c, const char *data, size_t n)
{
    ssize_t rv = nghttp2_session_mem_recv(c->session, (const uint8_t *)data, n);
    if (rv < 0 && c->pending == HTTP_OK) {
        c->pending = HTTP_E_MALFORMED;
        c->pending_errno = 0;
        c->pending_detail = NULL;
    }
}

static bool open_session(h2_conn_t *c);

/* The handshake is done (inside tls_input): the session starts if the
 * server chose h2. false when it did not. */
static bool handshake_done(h2_conn_t *c)
{
    const char *alpn = tls_alpn(&c->tls);
    if (!alpn || strcmp(alpn, "h2") != 0) {
        c->pending = HTTP_E_NO_H2;
        c->pending_errno = 0;
        c->pending_detail = NULL;
        return false;
    }
    if (!open_session(c)) {
        c->pending = HTTP_E_CANNOT_CREATE;
        c->pending_errno = 0;
        c->pending_detail = NULL;
        return false;
    }
    return true;
}

static bool on_plain(void *ud, const char *data, size_t len)
{
    h2_conn_t *c = ud;
    if (c->state == H2_HANDSHAKE && !handshake_done(c))
        return false;
    if (c->state != H2_OPEN || c->pending != HTTP_OK)
        return false;
    feed(c, data, len);
    return c->state == H2_OPEN && c->pending == HTTP_OK;
}

static void tls_failed(h2_conn_t *c)
{
    const tls_conn_t *t = &c->tls;
    http_error_t kind = t->error == TLS_E_UNTRUSTED   ? HTTP_E_TLS_UNTRUSTED
                        : t->error == TLS_E_HANDSHAKE ? HTTP_E_TLS_HANDSHAKE
                                                      : HTTP_E_TLS;
    if (c->req)
        fail(c, kind, 0, t->reason);
    else
        close_tcp(c);
}

static void input(h2_conn_t *c, const char *data, size_t n)
{
    c->flags |= F_IN_INPUT;
    if (!c->origin->h1.https) {
        if (c->state == H2_OPEN)
            feed(c, data, n);
        c->flags &= ~F_IN_INPUT;
        after_input(c);
        return;
    }
    tls_in_t in = tls_input(&c->tls, data, n, on_plain, c);
    c->flags &= ~F_IN_INPUT;
    if (!attached(c))
        return;
    if (in == TLS_IN_ERROR) {
        tls_failed(c);
        return;
    }
    if (c->state == H2_HANDSHAKE && c->tls.ready && c->pending == HTTP_OK)
        handshake_done(c);
    after_input(c);
    if (in == TLS_IN_CLOSED && attached(c))
        connection_lost(c, UV_EOF);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    h2_conn_t *c = s->data;
    if (nread == 0 || !attached(c))
        return;
    if (nread > 0)
        input(c, buf->base, (size_t)nread);
    else
        connection_lost(c, (int)nread);
}

/* ---- the connection ---------------------------------------------------------------------- */

/* The session on a new connection (prior knowledge, or ALPN said h2); the
 * request waiting, if any, goes with its SETTINGS. false if nghttp2 could
 * not make one (out of memory). */
static bool open_session(h2_conn_t *c)
{
    if (nghttp2_session_client_new2(&c->session, c->origin->callbacks, c, c->origin->option) != 0) {
        c->session = NULL;
        return false;
    }
    c->state = H2_OPEN;
    c->flags &= ~(F_SERVED | F_GOAWAY);
    c->stream_id = -1;
    /* No pushes; windows so large that bodies never wait; the header list
     * bound we enforce, said to the server. */
    const nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, H2_MAX_HEADER_LIST},
    };
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]);
    nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, H2_WINDOW);
    if (c->req)
        send_current(c); /* flushed now, or after the input this came with */
    else
        flush(c);
    return true;
}

static void on_connect(uv_connect_t *req, int status)
{
    h2_conn_t *c = req->data;
    if (status == UV_ECANCELED || c->state != H2_CONNECTING || !c->req)
        return;
    h1_origin_t *o = &c->origin->h1;
    if (status < 0) {
        if (c->addr_try + 1 < o->n_addrs) {
            c->addr_try++;
            close_tcp(c); /* on_tcp_closed tries the next address */
            return;
        }
        c->addr_try = 0;
        fail(c, http_connect_error(-status), -status, NULL);
        return;
    }
    h1_origin_connected(o, c->addr_try);
    c->addr_try = 0;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (!c->origin->h1.https) {
        if (!open_session(c))
            fail(c, HTTP_E_CANNOT_CREATE, 0, NULL);
        return;
    }
    c->state = H2_HANDSHAKE;
    if (tls_start(&c->tls, (uv_stream_t *)&c->tcp, c->origin->h1.tls_host) != 0) {
        fail(c, HTTP_E_TLS_HANDSHAKE, 0, c->tls.reason);
        return;
    }
    tls_send_pending(c); /* the ClientHello */
}

static void all_closed(h2_conn_t *c)
{
    free(c->nv);
    free(c->fill_nv);
    free(c->fill_buf);
    free(c->cookie_buf);
    free(c->sent_buf);
    free(c->out);
    free(c->wout);
    free_redirect(c);
    c->nv = c->fill_nv = NULL;
    c->fill_buf = c->cookie_buf = c->sent_buf = c->out = c->wout = NULL;
    if (c->origin->h1.https)
        tls_conn_free(&c->tls);
    cookie_jar_free(&c->cookies);
    if (c->on_closed)
        c->on_closed(c);
}

static void on_tcp_closed(uv_handle_t *h)
{
    h2_conn_t *c = h->data;
    c->flags &= ~(F_WRITING | F_SERVED | F_GOAWAY);
    c->open_handles--;
    if (c->session) {
        nghttp2_session_del(c->session);
        c->session = NULL;
    }
    if (c->origin->h1.https)
        tls_reset(&c->tls);
    c->out_len = 0;
    if (c->state == H2_SHUTDOWN) {
        if (c->open_handles == 0)
            all_closed(c);
        return;
    }
    c->state = H2_CLOSED;
    if (c->req && c->pending == HTTP_OK)
        connect_start(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    h2_conn_t *c = h->data;
    if (--c->open_handles == 0)
        all_closed(c);
}

/* As h1_conn.c connects: the source addresses round-robin, the origin's
 * addresses in turn until one answers. */
static void connect_start(h2_conn_t *c)
{
    h1_origin_t *o = &c->origin->h1;
    bool opened;
    c->connect_req.data = c;
    int err = h1_origin_connect(o, &c->tcp, &c->connect_req, c->addr_try, on_connect, &opened);
    if (opened) {
        c->tcp.data = c;
        c->open_handles++;
        c->state = H2_CONNECTING;
    }
    if (!err)
        return;
    if (opened && c->addr_try + 1 < o->n_addrs) {
        c->addr_try++;
        close_tcp(c);
        return;
    }
    c->addr_try = 0;
    fail_later(c, http_connect_error(-err), -err, NULL);
}

/* ---- the origin --------------------------------------------------------------------------- */

/* The same URLs as the HTTP/1.1 client's: one rule. */
bool h2_usable(const char *base_url)
{
    return h1_usable(base_url);
}

int h2_origin_init(h2_origin_t *o, const http_client_config_t *cfg, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (!h2_usable(cfg->host))
        return h1_errf(err, errlen,
                       "\"%s\": the native HTTP/2 client needs an http:// or https:// URL without credentials",
                       cfg->host ? cfg->host : "");
    if (h1_origin_init(&o->h1, cfg->loop, cfg->host, cfg->sources, err, errlen) != 0)
        return -1;
    o->scheme = o->h1.https ? "https" : "http";
    o->h1.failure_detail = cfg->failure_detail;
    o->h1.no_retry = cfg->no_retry;
    if (h1_origin_use_tls(&o->h1, cfg, true, err, errlen) != 0)
        return -1;
    if (nghttp2_session_callbacks_new(&o->callbacks) != 0 || nghttp2_option_new(&o->option) != 0)
        return h1_errf(err, errlen, "nghttp2: out of memory");
    nghttp2_session_callbacks *cb = o->callbacks;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    /* A client has no use for closed streams' priority state. */
    nghttp2_option_set_no_closed_streams(o->option, 1);
    return 0;
}

void h2_origin_free(h2_origin_t *o)
{
    if (o->h1.tls)
        tls_ctx_free(o->h1.tls);
    o->h1.tls = NULL;
    h1_origin_free(&o->h1);
    if (o->callbacks)
        nghttp2_session_callbacks_del(o->callbacks);
    if (o->option)
        nghttp2_option_del(o->option);
    memset(o, 0, sizeof *o);
}

/* ---- the calls ------------------------------------------------------------------------------ */

void h2_conn_init(h2_conn_t *c, h2_origin_t *o, http_body_cb on_body_cb, http_done_cb on_done,
                  void *user)
{
    memset(c, 0, sizeof *c);
    c->origin = o;
    c->on_body = on_body_cb;
    c->on_done = on_done;
    c->user = user;
    c->state = H2_CLOSED;
    c->stream_id = -1;
    uv_timer_init(o->h1.loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    c->connect_req.data = c;
    c->write_req.data = c;
    if (o->h1.https)
        tls_conn_init(&c->tls, o->h1.tls, on_tls_written, c);
    cookie_jar_init(&c->cookies);
}

void h2_send(h2_conn_t *c, const h2_request_t *r, const http_fill_t *fill)
{
    if (fill && (fill->target || fill->headers_len || fill->has_body))
        copy_fill(c, r, fill);
    else
        clear_fill(c);
    free_redirect(c);
    c->req = r;
    c->start_ns = uv_hrtime();
    c->body_bytes = 0;
    c->redirects = 0;
    c->flags &= ~F_REQUEST;
    if (r->h1.keep_headers && c->on_header)
        c->flags |= F_ALL_HEADERS;
    c->pending = HTTP_OK;
    c->addr_try = 0;
    c->stream_id = -1;
    if (r->h1.timeout_us)
        uv_timer_start(&c->timer, on_timer, (r->h1.timeout_us + 999) / 1000, 0);
    if (usable(c))
        send_current(c);
    else if (c->state == H2_OPEN)
        close_tcp(c); /* after a GOAWAY: on_tcp_closed connects */
    else if (c->state == H2_CLOSED)
        connect_start(c);
    /* CONNECTING, HANDSHAKE: the session sends it once open; CLOSING:
     * on_tcp_closed connects. */
}

void h2_cancel(h2_conn_t *c)
{
    if (!c->req)
        return;
    uv_timer_stop(&c->timer);
    int32_t id = c->stream_id;
    c->req = NULL;
    c->stream_id = -1;
    c->flags &= ~F_REQUEST;
    c->pending = HTTP_OK;
    free_redirect(c);
    if (c->state == H2_OPEN && id > 0) {
        /* The stream goes, the connection stays: a RST_STREAM, sent now or
         * after the input being handled. */
        nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
        flush(c);
    } else {
        close_tcp(c);
    }
}

void h2_conn_close(h2_conn_t *c, h2_closed_cb on_closed)
{
    h2_cancel(c);
    if (c->state == H2_OPEN && !(c->flags & F_IN_INPUT)) {
        /* A polite end: GOAWAY (and close_notify), with whatever the kernel
         * takes at once; closing cancels the rest. */
        nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
        flush(c);
        if (c->origin->h1.https && c->state == H2_OPEN) {
            tls_close_notify(&c->tls);
            tls_send_pending(c);
        }
    }
    close_tcp(c);
    c->state = H2_SHUTDOWN;
    c->on_closed = on_closed;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

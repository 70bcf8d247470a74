/* h1_conn: one connection of the native HTTP/1.1 client, and the request on
 * it (see src/http/h1_internal.h for the calls, include/http/h1.h for what
 * it costs).
 *
 * The socket's states (h1_state_t) and the only ways between them:
 *
 *   CLOSED     --h1_send, or a close while a request waits--> CONNECTING
 *   CONNECTING --connected--> OPEN
 *   OPEN, KEPT --a response ends and the connection may serve again--> KEPT
 *   CONNECTING, OPEN, KEPT --close_tcp: an error, a retry, a redirect after
 *              "Connection: close", h1_cancel, the server closing an idle
 *              connection--> CLOSING
 *   CLOSING    --the tcp handle's close callback--> CLOSED, and at once
 *              CONNECTING again if a request is waiting (and no error is)
 *   any        --h1_conn_close--> SHUTDOWN, for good: once the tcp handle
 *              (if any) and the timer are closed, on_closed runs.
 *
 * A connection is only ever reopened from the tcp handle's close callback
 * (the handle is embedded and cannot be initialised again before then):
 * whoever wants a new connection for the request in flight - a retry, a
 * redirect after "Connection: close", an h1_send right after an error -
 * closes the handle and on_tcp_closed connects again while c->req is set.
 *
 * The socket is watched for reading from connect to close (uv_read_start
 * once), so a kept-alive request costs no epoll_ctl: the request goes out with
 * uv_try_write (uv_write only for what the kernel did not take) and the answer
 * comes back through on_read into http_parser. The timer is the request's
 * timeout, and doubles as the "report later" path for errors found inside
 * h1_send (c->pending), which must never call on_done itself.
 *
 * Besides the state, a request carries a few independent bits (flags) and
 * the response being parsed its answer (h1_answer_t). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h1_internal.h"
#include "util/url.h"
#include "util/xalloc.h"

/* The connection's one bit beside its state. */
#define F_WRITING (1u << 0)       /* a uv_write is queued (write_req in use) */
/* Request bits, for one h1_send. */
#define F_RETRIED (1u << 1)       /* the one new connection for this request is used */
#define F_NO_BODY (1u << 2)       /* a 301/302/303 turned the request into a GET (or HEAD) */
/* Attempt bits, for one write of the request on one connection. */
#define F_REUSED (1u << 3)        /* sent on a KEPT connection */
#define F_GOT_BYTES (1u << 4)     /* a byte of the answer arrived */
#define F_EARLY (1u << 8)         /* ... while the request was still being written */
#define F_ALL_HEADERS (1u << 9)   /* the request keeps headers: each goes to on_header */
#define F_TLS_CLOSED (1u << 10)   /* https: the server ended TLS with close_notify */
#define F_WROTE (1u << 11)        /* this attempt's request was written (or queued) */
/* Response bits, reset at each response (a 100 Continue is one). */
#define F_IN_VALUE (1u << 5)      /* the parser is inside a header value */
#define F_HEADERS_DONE (1u << 6)
#define F_KEEP_ALIVE (1u << 7)    /* set at message end: the connection may serve again */

#define F_RESPONSE (F_IN_VALUE | F_HEADERS_DONE | F_KEEP_ALIVE)
#define F_ATTEMPT (F_REUSED | F_GOT_BYTES | F_EARLY | F_TLS_CLOSED | F_WROTE | F_RESPONSE)
#define F_REQUEST (F_RETRIED | F_NO_BODY | F_ALL_HEADERS | F_ATTEMPT)

/* The response headers kept; everything else is only parsed past, unless
 * the request keeps every header (F_ALL_HEADERS): then K_EVERY gathers each
 * name and value for on_header as well. */
#define K_SET_COOKIE 1u
#define K_LOCATION 2u
#define K_ALL (K_SET_COOKIE | K_LOCATION)
#define K_EVERY (1u << 2)
static const char *const kept_names[2] = {"set-cookie", "location"};
static const unsigned kept_lens[2] = {10, 8};

#define HDR_VAL_MAX 65536 /* a longer value is not kept (nor given to on_header) */
#define HDR_NAME_MAX 1024 /* a longer name is not given to on_header */

static const char crlf[] = "\r\n";

static void connect_start(h1_conn_t *c);
static void write_request(h1_conn_t *c);

/* ---- small helpers --------------------------------------------------------- */

static const char *current_path(const h1_conn_t *c)
{
    return c->redirect_path ? c->redirect_path : c->req->path;
}

static char lower(char ch) { return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch; }

static bool connected(const h1_conn_t *c) { return c->state == H1_OPEN || c->state == H1_KEPT; }

/* After a callback of the owner's that may cancel (on_body, on_header):
 * whether the request still runs. */
static bool still_running(const h1_conn_t *c) { return connected(c) && c->req != NULL; }

/* Grows a buffer to hold need bytes, by doubling: a connection's buffers
 * grow to the largest use and stay. */
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

/* The length of a prepared head's request line: its header lines follow. */
static size_t request_line_len(const h1_request_t *r)
{
    const char *nl = memchr(r->head, '\n', r->head_len);
    return nl ? (size_t)(nl - r->head) + 1 : r->head_len;
}

/* Clears the bits in mask, and the answer with the response's bits. */
static void clear_bits(h1_conn_t *c, unsigned mask)
{
    c->flags &= ~mask;
    if (mask & F_RESPONSE)
        c->answer = H1_ANSWER_PENDING;
}

/* libuv's codes of a failed write or read, as error kinds. */
static http_error_t send_error(int code)
{
    if (code == UV_EPIPE)
        return HTTP_E_CLOSED_SENDING;
    return code == UV_ECONNRESET ? HTTP_E_RESET : HTTP_E_SEND;
}

static http_error_t recv_error(int code)
{
    return code == UV_ECONNRESET ? HTTP_E_RESET : HTTP_E_RECV;
}

/* ---- errors and completion ------------------------------------------------- */

static void on_tcp_closed(uv_handle_t *h);

/* Closes the socket if one is open; nothing else. Over TLS that is working,
 * close_notify goes first (one write, never waited for), as a browser
 * closes. */
static void close_tcp(h1_conn_t *c)
{
    if (c->state == H1_CONNECTING || connected(c)) {
        if (c->origin->tls) {
            if (c->tls.ready && c->tls.error == TLS_OK) {
                tls_close_notify(&c->tls);
                (void)tls_flush(&c->tls);
            }
            tls_reset(&c->tls);
        }
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
        c->state = H1_CLOSING;
    }
}

static void free_redirect(h1_conn_t *c)
{
    free(c->redirect_head);
    free(c->redirect_path);
    free(c->location);
    c->redirect_head = c->redirect_path = c->location = NULL;
    c->redirect_head_len = 0;
}

/* What every result says besides its kind. With failure detail, where the
 * request went: the origin and the path, joined only if it failed. */
static void result_fill(h1_conn_t *c, http_result_t *r)
{
    r->latency_us = (uv_hrtime() - c->start_ns) / 1000;
    r->body_bytes = c->body_bytes;
    r->timeout_us = c->req->timeout_us;
    if (c->origin->failure_detail) {
        r->url_origin = c->origin->origin_url;
        r->url = current_path(c);
        /* The headers as prepared; the Cookie header, if any, is added per
         * user when sending and is not repeated here. */
        r->sent = c->req->head;
        r->sent_len = c->req->head_len;
    }
}

/* Ends the request in flight and tells the owner. The owner may send again,
 * cancel or close from on_done, so the connection is in its idle state
 * before the call, and the redirect path and Location the result points to
 * are freed only after it. */
static void finish(h1_conn_t *c, const http_result_t *r)
{
    uv_timer_stop(&c->timer);
    char *head = c->redirect_head, *path = c->redirect_path, *location = c->location;
    c->redirect_head = c->redirect_path = c->location = NULL;
    c->redirect_head_len = 0;
    c->req = NULL;
    clear_bits(c, F_REQUEST);
    c->pending = HTTP_OK;
    c->on_done(c->user, r);
    /* A filled request's buffer stays for the user's next one, unless a
     * large body grew it: an idle user does not keep that (the memory is
     * still ours until the close callbacks run, even after a close here). */
    if (c->req == NULL && c->state != H1_SHUTDOWN && c->fill_cap > H1_FILL_KEEP_MAX) {
        free(c->fill_buf);
        c->fill_buf = NULL;
        c->fill_cap = 0;
    }
    free(head);
    free(path);
    free(location);
}

/* Reports an error, closing the connection first: after an error nothing
 * about its state can be trusted. */
static void fail(h1_conn_t *c, http_error_t kind, int sys_errno)
{
    http_result_t r = {.error = kind, .sys_errno = sys_errno};
    if (kind == HTTP_E_CROSS_ORIGIN)
        r.detail = c->location;     /* trimmed by resolve_location */
    else
        r.detail = c->detail;       /* a static text, or NULL */
    c->detail = NULL;
    r.status = (c->flags & F_HEADERS_DONE) ? (long)c->parser.status_code : 0;
    result_fill(c, &r);
    close_tcp(c);
    finish(c, &r);
}

static void on_timer(uv_timer_t *t);

/* An error found where on_done may not run (inside h1_send, or a callback
 * the owner called into): the timer reports it on the loop's next turn. */
static void fail_later(h1_conn_t *c, http_error_t kind, int sys_errno)
{
    close_tcp(c);
    c->pending = kind;
    c->pending_errno = sys_errno;
    uv_timer_start(&c->timer, on_timer, 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    h1_conn_t *c = t->data;
    if (!c->req)
        return;
    if (c->pending != HTTP_OK)
        fail(c, c->pending, c->pending_errno);
    else
        fail(c, HTTP_E_TIMEOUT, 0);
}

/* The request goes again on a new connection, with its original start time
 * (once per request: F_RETRIED). */
static void resend(h1_conn_t *c)
{
    c->flags |= F_RETRIED;
    close_tcp(c); /* on_tcp_closed connects and sends again */
}

/* libcurl's rule, narrowed: a kept-alive connection found dead before any
 * byte of the answer is most likely a race with the server's idle timeout,
 * but the server may also have read the request and acted on it. So only an
 * idempotent request (RFC 9110 9.2.2; a GET a 301/302/303 made is one) goes
 * again, once, and never with --no-retry; anything else fails as it ended. */
static bool can_retry(const h1_conn_t *c)
{
    if ((c->flags & (F_REUSED | F_RETRIED | F_GOT_BYTES)) != F_REUSED || c->origin->no_retry)
        return false;
    return c->req->idempotent || (c->flags & F_NO_BODY);
}

/* A retry is counted: the server may have seen the request twice, and
 * requests + retries is what it may have seen. */
static void retry(h1_conn_t *c)
{
    c->origin->retries++;
    resend(c);
}

/* Whether the connection may serve the next request: kept alive by the
 * server, and the answer did not begin while a write of ours was queued (the
 * server answered before reading all of the request: the framing is
 * unknown, even if the rest of the write has gone out since). */
static bool keep_connection(h1_conn_t *c)
{
    if ((c->flags & F_KEEP_ALIVE) && !(c->flags & (F_WRITING | F_EARLY))) {
        c->state = H1_KEPT;
        return true;
    }
    close_tcp(c);
    return false;
}

static void complete(h1_conn_t *c)
{
    http_result_t r = {.error = HTTP_OK, .status = (long)c->parser.status_code};
    result_fill(c, &r);
    keep_connection(c);
    finish(c, &r);
}

/* ---- redirects ---------------------------------------------------------------- */

static bool is_redirect(unsigned status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The Location of the response against the current path: the new path
 * (percent-encoded, xmalloc'd), or NULL for another origin, with c->location
 * trimmed to the URL for the error's text (no buffer per connection for a
 * rare event). */
static char *resolve_location(h1_conn_t *c)
{
    const char *loc = c->location;
    while (*loc == ' ' || *loc == '\t')
        loc++;
    size_t n = strcspn(loc, "#");
    while (n > 0 && (loc[n - 1] == ' ' || loc[n - 1] == '\t'))
        n--;
    char *path = url_resolve_reference(c->origin->origin_url, current_path(c), loc, n);
    if (!path) {
        memmove(c->location, loc, n);
        c->location[n] = '\0';
    }
    return path;
}

/* The next request of a redirect chain: the prepared head with a new request
 * line, without its body framing when a 301/302/303 made it a GET. */
static void build_redirect(h1_conn_t *c, char *path)
{
    const h1_request_t *r = c->req;
    bool no_body = (c->flags & F_NO_BODY) != 0;
    const char *method = no_body ? (r->is_head ? "HEAD" : "GET") : r->method;
    size_t first = request_line_len(r);
    size_t tail = r->head_len - first - (no_body ? r->framing_len : 0);
    size_t body = no_body ? 0 : r->body_len;
    size_t line = strlen(method) + 1 + strlen(path) + sizeof " HTTP/1.1\r\n" - 1;
    char *block = xmalloc(line + tail + 2 + body + 1);
    snprintf(block, line + 1, "%s %s HTTP/1.1\r\n", method, path);
    memcpy(block + line, r->head + first, tail);
    memcpy(block + line + tail, crlf, 2);
    if (body)
        memcpy(block + line + tail + 2, r->body, body);
    free(c->redirect_head);
    free(c->redirect_path);
    c->redirect_head = block;
    c->redirect_head_len = line + tail;
    c->redirect_path = path;
}

static void follow_redirect(h1_conn_t *c)
{
    char *path = resolve_location(c);
    if (!path) {
        fail(c, HTTP_E_CROSS_ORIGIN, 0);
        return;
    }
    unsigned status = c->parser.status_code;
    if (status == 301 || status == 302 || status == 303)
        c->flags |= F_NO_BODY;
    build_redirect(c, path);
    free(c->location);
    c->location = NULL;
    c->redirects++;
    if (keep_connection(c))
        write_request(c);
    /* else on_tcp_closed connects and sends the redirect */
}

/* ---- parsing the answer ------------------------------------------------------------ */

/* The headers a response starts by keeping. */
static unsigned kept_kinds(const h1_conn_t *c)
{
    return K_ALL | ((c->flags & F_ALL_HEADERS) ? K_EVERY : 0);
}

/* A header is complete: into the jar, as the Location, and to on_header.
 * false if the owner cancelled from on_header. */
static bool header_flush(h1_conn_t *c)
{
    unsigned kind = c->hdr_kind;
    if (kind & K_SET_COOKIE) {
        cookie_jar_set(&c->cookies, c->hdr_val, c->hdr_val_len, current_path(c), time(NULL));
    } else if (kind & K_LOCATION) {
        free(c->location);
        c->location = xstrndup(c->hdr_val ? c->hdr_val : "", c->hdr_val_len);
    }
    size_t name_len = c->hdr_name_len, val_len = c->hdr_val_len;
    c->hdr_kind = 0;
    c->hdr_val_len = 0;
    c->hdr_name_len = 0;
    if (!(kind & K_EVERY))
        return true;
    /* The parser has skipped the spaces before the value; those after it
     * are no part of it either (RFC 9110 5.5), as libcurl's client trims. */
    while (val_len > 0 && (c->hdr_val[val_len - 1] == ' ' || c->hdr_val[val_len - 1] == '\t'))
        val_len--;
    c->on_header(c->user, c->hdr_name ? c->hdr_name : "", name_len, c->hdr_val ? c->hdr_val : "",
                 val_len);
    return still_running(c);
}

static int on_message_begin(http_parser *p)
{
    h1_conn_t *c = p->data;
    clear_bits(c, F_RESPONSE);
    c->hdr_kind = kept_kinds(c);
    c->hdr_pos = 0;
    c->hdr_val_len = 0;
    c->hdr_name_len = 0;
    if (c->flags & F_ALL_HEADERS) {
        /* A new response (after a redirect, or a 1xx): the owner forgets
         * the headers it heard so far. */
        c->on_header(c->user, NULL, 0, NULL, 0);
        if (!still_running(c))
            return -1;
    }
    return 0;
}

/* Matches the name against the kept ones as its bytes arrive; most names
 * fail on their first or second byte. When every header is kept, the name
 * is gathered too. */
static int on_header_field(http_parser *p, const char *at, size_t len)
{
    h1_conn_t *c = p->data;
    if (c->flags & F_IN_VALUE) {
        bool running = header_flush(c);
        c->flags &= ~F_IN_VALUE;
        if (!running)
            return -1;
        c->hdr_kind = (c->flags & F_HEADERS_DONE) ? 0 : kept_kinds(c); /* trailers are not kept */
        c->hdr_pos = 0;
    }
    unsigned kind = c->hdr_kind, pos = c->hdr_pos;
    if ((kind & K_EVERY) && len > 0) {
        if (c->hdr_name_len + len > HDR_NAME_MAX) {
            kind &= ~K_EVERY;
        } else {
            reserve(&c->hdr_name, &c->hdr_name_cap, c->hdr_name_len + len, 64);
            memcpy(c->hdr_name + c->hdr_name_len, at, len);
            c->hdr_name_len += len;
        }
    }
    for (size_t i = 0; i < len && (kind & K_ALL); i++, pos++) {
        char ch = lower(at[i]);
        for (unsigned k = 0; k < 2; k++)
            if ((kind & (1u << k)) && (pos >= kept_lens[k] || kept_names[k][pos] != ch))
                kind &= ~(1u << k);
    }
    c->hdr_kind = kind;
    c->hdr_pos = pos;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    h1_conn_t *c = p->data;
    if (!(c->flags & F_IN_VALUE)) {
        c->flags |= F_IN_VALUE;
        unsigned kind = c->hdr_kind & K_EVERY;
        for (unsigned k = 0; k < 2; k++)
            if ((c->hdr_kind & (1u << k)) && c->hdr_pos == kept_lens[k])
                kind |= 1u << k;
        c->hdr_kind = kind;
        c->hdr_val_len = 0;
    }
    if (!c->hdr_kind)
        return 0;
    if (c->hdr_val_len + len > HDR_VAL_MAX) {
        c->hdr_kind = 0;
        return 0;
    }
    if (len == 0)
        return 0;       /* an empty value: nothing to add (and hdr_val may be NULL) */
    reserve(&c->hdr_val, &c->hdr_val_cap, c->hdr_val_len + len, 256);
    memcpy(c->hdr_val + c->hdr_val_len, at, len);
    c->hdr_val_len += len;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    h1_conn_t *c = p->data;
    if (c->flags & F_IN_VALUE) {
        bool running = header_flush(c);
        c->flags &= ~F_IN_VALUE;
        if (!running)
            return -1;
    }
    c->hdr_kind = 0;
    c->flags |= F_HEADERS_DONE;
    unsigned status = p->status_code;
    /* 101 Switching Protocols: hopper never asks for an upgrade, and what
     * follows is not HTTP: a malformed response (-1 stops the parser). */
    if (status == 101)
        return -1;
    /* RFC 9112 6.3: the answer to a HEAD, and every 1xx, 204 and 304, ends
     * with its header block whatever Content-Length or Transfer-Encoding
     * say (they describe the representation). 1 tells http_parser so: it
     * would otherwise wait for a 304's Content-Length of body. */
    bool no_body = c->req->is_head || status / 100 == 1 || status == 204 || status == 304;
    if (status / 100 == 1)
        return 1; /* 100 Continue, 103 Early Hints: the real answer follows */
    if (is_redirect(status) && c->location)
        c->answer = c->redirects >= HOPPER_MAX_REDIRECTS ? H1_ANSWER_TOO_MANY : H1_ANSWER_FOLLOW;
    else
        c->answer = H1_ANSWER_FINAL;
    return no_body ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    h1_conn_t *c = p->data;
    if (c->answer != H1_ANSWER_FINAL)
        return 0;
    c->body_bytes += len;
    if (c->on_body) {
        c->on_body(c->user, at, len);
        if (!still_running(c))
            return 1; /* the owner cancelled: stop parsing */
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    h1_conn_t *c = p->data;
    unsigned status = p->status_code;
    if (status / 100 == 1)
        return 0; /* an interim answer: the parser goes on to the real one */
    if (http_should_keep_alive(p))
        c->flags |= F_KEEP_ALIVE;
    /* Stop here: what follows (nothing, normally) is not for this request,
     * and the request's end is handled outside the parser's callbacks. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void response_done(h1_conn_t *c)
{
    if (c->answer == H1_ANSWER_TOO_MANY)
        fail(c, HTTP_E_TOO_MANY_REDIRECTS, 0);
    else if (c->answer == H1_ANSWER_FOLLOW)
        follow_redirect(c);
    else
        complete(c);
}

static void parse(h1_conn_t *c, const char *data, size_t n)
{
    http_parser_execute(&c->parser, &parser_settings, data, n);
    if (!connected(c) || !c->req)
        return; /* cancelled from on_body */
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
        response_done(c);
    } else if (e != HPE_OK) {
        fail(c, HTTP_E_MALFORMED, 0);
    }
}

static void on_eof(h1_conn_t *c)
{
    if (!(c->flags & F_GOT_BYTES)) {
        if (can_retry(c))
            retry(c);
        else
            fail(c, HTTP_E_NO_RESPONSE, 0);
        return;
    }
    /* A body without length ends with the connection: tell the parser. */
    http_parser_execute(&c->parser, &parser_settings, NULL, 0);
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
        c->flags &= ~F_KEEP_ALIVE;
        /* Over TLS a body that ends with the connection is only whole if
         * the server said so (close_notify): else it may have been cut. */
        if (c->origin->tls && !(c->flags & F_TLS_CLOSED)) {
            fail(c, HTTP_E_TLS_TRUNCATED, 0);
            return;
        }
        response_done(c);
        return;
    }
    fail(c, HTTP_E_MID_BODY, 0);
}

/* ---- the socket ------------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    h1_conn_t *c = h->data;
    buf->base = c->origin->read_buf;
    buf->len = H1_READ_BUF;
}

static void write_failed(h1_conn_t *c, int err, bool unsent);

/* https: plaintext out of TLS is an answer's bytes, as a plain read's are.
 * After the answer is complete (the user now idles) OpenSSL goes on with the
 * rest of the read, so that records after the response (a session ticket, a
 * key update, close_notify) are taken in order; plaintext then is bytes
 * nobody asked for, which stops the input and the connection (tls_read). */
static bool on_plain(void *ud, const char *data, size_t n)
{
    h1_conn_t *c = ud;
    if (!c->req)
        return false;
    c->flags |= F_GOT_BYTES | ((c->flags & F_WRITING) ? F_EARLY : 0);
    parse(c, data, n);
    return connected(c);
}

/* https: ciphertext that arrived while a request is in flight. The
 * handshake's end sends the request; OpenSSL's own output (handshake
 * messages, alerts) goes out after each read. */
static void tls_read(h1_conn_t *c, const char *data, size_t n)
{
    bool was_ready = c->tls.ready;
    tls_in_t rc = tls_input(&c->tls, data, n, on_plain, c);
    if (!connected(c))
        return; /* closed or cancelled from a callback */
    if (!c->req) {
        /* The answer came and the user idles: what followed it must have
         * been TLS's own (else the connection is done). */
        if (rc != TLS_IN_OK || tls_flush(&c->tls) != 0)
            close_tcp(c);
        return;
    }
    if (rc == TLS_IN_STOPPED)
        return;
    if (rc == TLS_IN_ERROR) {
        c->detail = c->tls.reason;
        fail(c, c->tls.error == TLS_E_UNTRUSTED ? HTTP_E_TLS_UNTRUSTED
                : was_ready || c->tls.ready   ? HTTP_E_TLS
                                              : HTTP_E_TLS_HANDSHAKE, 0);
        return;
    }
    int err = tls_flush(&c->tls);
    if (rc == TLS_IN_CLOSED) {
        c->flags |= F_TLS_CLOSED;
        on_eof(c);
        return;
    }
    if (err) {
        fail(c, send_error(err), -err);
        return;
    }
    /* The handshake is done: the request goes, unless an answer that came
     * with the handshake's end already led to the next one being written. */
    if (!was_ready && c->tls.ready && !(c->flags & F_WROTE))
        write_request(c);
}

/* https, idle: plaintext nobody asked for ends the connection. */
static bool on_idle_plain(void *ud, const char *data, size_t n)
{
    (void)ud;
    (void)data;
    (void)n;
    return false;
}

/* A queued TLS write ended (tls.h): as on_write for a plain one. */
static void on_tls_written(tls_conn_t *t, int status)
{
    h1_conn_t *c = t->user;
    c->flags &= ~F_WRITING;
    if (tls_writing(t))
        c->flags |= F_WRITING;
    if (status == 0 || status == UV_ECANCELED || !c->req || !connected(c))
        return;
    write_failed(c, status, false);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    h1_conn_t *c = s->data;
    if (nread == 0)
        return;
    if (!c->req) {
        /* Idle: the server closed its end (its keep-alive timeout), or sent
         * bytes nobody asked for. Either way this connection is done; the
         * next h1_send opens another. Over TLS the server may also send
         * what is no answer at all (a late session ticket, a key update):
         * OpenSSL takes those, and the connection stays. */
        if (nread > 0 && c->origin->tls && c->tls.ready &&
            tls_input(&c->tls, buf->base, (size_t)nread, on_idle_plain, c) == TLS_IN_OK &&
            tls_flush(&c->tls) == 0)
            return;
        close_tcp(c);
        return;
    }
    if (nread > 0 && c->origin->tls) {
        tls_read(c, buf->base, (size_t)nread);
    } else if (nread > 0) {
        c->flags |= F_GOT_BYTES | ((c->flags & F_WRITING) ? F_EARLY : 0);
        parse(c, buf->base, (size_t)nread);
    } else if (nread == UV_EOF && c->origin->tls && !c->tls.ready) {
        c->detail = HTTP_TLS_CLOSED_IN_HANDSHAKE;
        fail(c, HTTP_E_TLS_HANDSHAKE, 0);
    } else if (nread == UV_EOF) {
        on_eof(c);
    } else if (!(c->flags & F_GOT_BYTES) && can_retry(c)) {
        retry(c);
    } else {
        fail(c, recv_error((int)nread), (int)-nread);
    }
}

/* unsent: not a byte of the request reached the socket (uv_try_write
 * failed outright), so on a kept-alive connection the request provably never
 * left: a new connection for it is a fresh connect, not a retry, whatever the
 * method, and is not counted. */
static void write_failed(h1_conn_t *c, int err, bool unsent)
{
    if (unsent && (c->flags & (F_REUSED | F_RETRIED)) == F_REUSED)
        resend(c);
    else if (can_retry(c))
        retry(c);
    else
        fail_later(c, send_error(err), -err);
}

static void on_write(uv_write_t *w, int status)
{
    h1_conn_t *c = w->data;
    c->flags &= ~F_WRITING;
    if (status == 0 || status == UV_ECANCELED || !c->req || !connected(c))
        return;
    write_failed(c, status, false);
}

/* The Cookie header for the current path into the connection's buffer,
 * grown to the jar's size first (rare: only when the jar grew). */
static size_t cookie_header(h1_conn_t *c)
{
    size_t need = cookie_jar_header_max(&c->cookies);
    if (need > c->cookie_cap) {
        c->cookie_buf = xrealloc(c->cookie_buf, need);
        c->cookie_cap = need;
    }
    return cookie_jar_header(&c->cookies, current_path(c), time(NULL), c->cookie_buf,
                             c->cookie_cap);
}

/* Writes the current request (the prepared one, or a redirect's) on the open
 * connection: one buffer when no cookie applies, else head + cookie +
 * blank line and body. What uv_try_write leaves goes to uv_write from the
 * same memory, which stays valid until the request ends. */
static void write_request(h1_conn_t *c)
{
    const h1_request_t *r = c->req;
    const char *block = r->head;
    size_t head_len = r->head_len, body_len = r->body_len;
    if (c->redirect_head) {
        block = c->redirect_head;
        head_len = c->redirect_head_len;
        if (c->flags & F_NO_BODY)
            body_len = 0;
    }
    clear_bits(c, F_ATTEMPT);
    if (c->state == H1_KEPT)
        c->flags |= F_REUSED;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;

    uv_buf_t bufs[3];
    unsigned nb;
    size_t cookie_len = c->cookies.n ? cookie_header(c) : 0;
    if (cookie_len) {
        bufs[0] = uv_buf_init((char *)block, (unsigned)head_len);
        bufs[1] = uv_buf_init(c->cookie_buf, (unsigned)cookie_len);
        bufs[2] = uv_buf_init((char *)block + head_len, (unsigned)(2 + body_len));
        nb = 3;
    } else {
        bufs[0] = uv_buf_init((char *)block, (unsigned)(head_len + 2 + body_len));
        nb = 1;
    }
    size_t total = head_len + cookie_len + 2 + body_len;
    if (c->origin->tls) {
        /* The same bytes, sealed into records; what the kernel does not
         * take at once is queued by the TLS layer. */
        if (tls_write(&c->tls, bufs, nb) != 0) {
            c->detail = c->tls.reason;
            fail_later(c, HTTP_E_TLS, 0);
            return;
        }
        c->flags |= F_WROTE;
        int err = tls_flush(&c->tls);
        if (err) {
            write_failed(c, err, !c->tls.flush_sent);
            return;
        }
        if (tls_writing(&c->tls))
            c->flags |= F_WRITING;
        return;
    }
    uv_stream_t *s = (uv_stream_t *)&c->tcp;
    int n = uv_try_write(s, bufs, nb);
    if (n >= 0 && (size_t)n == total)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        write_failed(c, n, true);
        return;
    }
    /* The rare partial write: skip what went out, queue the rest. */
    size_t done = n > 0 ? (size_t)n : 0;
    unsigned first = 0;
    while (done >= bufs[first].len) {
        done -= bufs[first].len;
        first++;
    }
    bufs[first].base += done;
    bufs[first].len -= (unsigned)done;
    c->write_req.data = c;
    int err = uv_write(&c->write_req, s, bufs + first, nb - first, on_write);
    if (err) {
        write_failed(c, err, false);
        return;
    }
    c->flags |= F_WRITING;
}

static void on_connect(uv_connect_t *req, int status)
{
    h1_conn_t *c = req->data;
    if (status == UV_ECANCELED || c->state != H1_CONNECTING || !c->req)
        return;
    h1_origin_t *o = c->origin;
    if (status < 0) {
        if (c->addr_try + 1 < o->n_addrs) {
            c->addr_try++;
            close_tcp(c); /* on_tcp_closed tries the next address */
            return;
        }
        c->addr_try = 0;
        fail(c, http_connect_error(-status), -status);
        return;
    }
    h1_origin_connected(o, c->addr_try);
    c->addr_try = 0;
    c->state = H1_OPEN;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (o->tls) {
        /* The hello goes now; the request once the handshake is done. */
        if (tls_start(&c->tls, (uv_stream_t *)&c->tcp, o->tls_host) != 0) {
            c->detail = c->tls.reason;
            fail(c, HTTP_E_TLS_HANDSHAKE, 0);
            return;
        }
        int err = tls_flush(&c->tls);
        if (err)
            fail(c, send_error(err), -err);
        return;
    }
    write_request(c);
}

static void all_closed(h1_conn_t *c)
{
    free(c->hdr_val);
    free(c->hdr_name);
    free(c->cookie_buf);
    free(c->fill_buf);
    free_redirect(c);
    tls_conn_free(&c->tls);
    c->hdr_val = c->hdr_name = c->cookie_buf = c->fill_buf = NULL;
    c->hdr_val_cap = c->hdr_name_cap = c->cookie_cap = c->fill_cap = 0;
    cookie_jar_free(&c->cookies);
    if (c->on_closed)
        c->on_closed(c);
}

static void on_tcp_closed(uv_handle_t *h)
{
    h1_conn_t *c = h->data;
    c->flags &= ~F_WRITING;
    c->open_handles--;
    if (c->state == H1_SHUTDOWN) {
        if (c->open_handles == 0)
            all_closed(c);
        return;
    }
    c->state = H1_CLOSED;
    if (c->req && c->pending == HTTP_OK)
        connect_start(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    h1_conn_t *c = h->data;
    if (--c->open_handles == 0)
        all_closed(c);
}

static void connect_start(h1_conn_t *c)
{
    h1_origin_t *o = c->origin;
    bool opened;
    c->connect_req.data = c;
    int err = h1_origin_connect(o, &c->tcp, &c->connect_req, c->addr_try, on_connect, &opened);
    if (opened) {
        c->tcp.data = c;
        c->open_handles++;
        c->state = H1_CONNECTING;
    }
    if (!err)
        return;
    /* No IPv6 on this host, say: the next address may still do. */
    if (opened && c->addr_try + 1 < o->n_addrs) {
        c->addr_try++;
        close_tcp(c);
        return;
    }
    c->addr_try = 0;
    fail_later(c, http_connect_error(-err), -err);
}

/* ---- the calls ------------------------------------------------------------------- */

void h1_conn_init(h1_conn_t *c, h1_origin_t *o, http_body_cb on_body_cb, http_done_cb on_done,
                  void *user)
{
    memset(c, 0, sizeof *c);
    c->origin = o;
    c->on_body = on_body_cb;
    c->on_done = on_done;
    c->user = user;
    c->state = H1_CLOSED;
    uv_timer_init(o->loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    c->connect_req.data = c;
    c->write_req.data = c;
    cookie_jar_init(&c->cookies);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    tls_conn_init(&c->tls, o->tls, on_tls_written, c);
}

/* The request with fill's parts, built in the connection's buffer in the
 * layout of a prepared one: the request line (with fill's target, or the
 * prepared line), the prepared header lines, fill's lines, the framing (of
 * fill's body, or the prepared framing), "\r\n" and the body; then fill's
 * target again, NUL-terminated, as the path that redirects and cookies
 * read. The buffer grows to the largest request and stays, so a user's
 * filled sends stop allocating once it has sent its largest. Redirects,
 * retries and the failure detail use the result as they use a prepared
 * request, until the next h1_send. */
static const h1_request_t *fill_request(h1_conn_t *c, const h1_request_t *r, const http_fill_t *f)
{
    static const char version[] = " HTTP/1.1\r\n";
    size_t first = request_line_len(r);
    size_t headers_len = r->head_len - first - r->framing_len;
    const char *body = r->body;
    size_t body_len = r->body_len;
    size_t type_len = 0, length_len = 0, framing_len = r->framing_len;
    char length[48];
    bool new_body = f->has_body && !r->is_head;
    if (new_body) {
        /* The framing of the prepared body, made for this one: the default
         * Content-Type unless a header names one, and its length. */
        body = f->body;
        body_len = f->body_len;
        type_len = r->custom_type ? 0 : sizeof H1_DEFAULT_CONTENT_TYPE - 1;
        length_len = (size_t)snprintf(length, sizeof length, "Content-Length: %zu\r\n", body_len);
        framing_len = type_len + length_len;
    }
    size_t method_len = strlen(r->method);
    size_t line_len = f->target ? method_len + 1 + f->target_len + sizeof version - 1 : first;
    size_t head_len = line_len + headers_len + f->headers_len + framing_len;
    size_t need = head_len + 2 + body_len + (f->target ? f->target_len + 1 : 0);
    if (need > c->fill_cap) {
        /* Nothing in it is kept: a new buffer rather than a copying realloc.
         * It stays with the connection while its user idles, so it starts
         * small (a typical filled GET is 150-300 bytes) and doubles only
         * as far as the user's largest request. */
        free(c->fill_buf);
        c->fill_buf = NULL;
        c->fill_cap = 0;
        reserve(&c->fill_buf, &c->fill_cap, need, 128);
    }
    char *p = c->fill_buf;
    if (f->target) {
        memcpy(p, r->method, method_len);
        p[method_len] = ' ';
        memcpy(p + method_len + 1, f->target, f->target_len);
        memcpy(p + method_len + 1 + f->target_len, version, sizeof version - 1);
    } else {
        memcpy(p, r->head, first);
    }
    p += line_len;
    memcpy(p, r->head + first, headers_len);
    p += headers_len;
    if (f->headers_len) {
        memcpy(p, f->headers, f->headers_len);
        p += f->headers_len;
    }
    if (new_body) {
        memcpy(p, H1_DEFAULT_CONTENT_TYPE, type_len);
        memcpy(p + type_len, length, length_len);
    } else {
        memcpy(p, r->head + r->head_len - r->framing_len, framing_len);
    }
    p += framing_len;
    memcpy(p, crlf, 2);
    p += 2;
    if (body_len)
        memcpy(p, body, body_len);
    p += body_len;

    h1_request_t *out = &c->filled;
    *out = *r;  /* the method, the bits, the timeout and (without a target) the path */
    out->head = c->fill_buf;
    out->head_len = head_len;
    out->body = c->fill_buf + head_len + 2;
    out->body_len = body_len;
    out->framing_len = framing_len;
    if (f->target) {
        memcpy(p, f->target, f->target_len);
        p[f->target_len] = '\0';
        out->path = p;
    }
    return out;
}

void h1_send(h1_conn_t *c, const h1_request_t *r)
{
    h1_send_fill(c, r, NULL);
}

void h1_send_fill(h1_conn_t *c, const h1_request_t *r, const http_fill_t *fill)
{
    if (fill && (fill->target || fill->headers_len || fill->has_body))
        r = fill_request(c, r, fill);
    c->req = r;
    c->start_ns = uv_hrtime();
    c->body_bytes = 0;
    c->redirects = 0;
    clear_bits(c, F_REQUEST);
    if (r->keep_headers && c->on_header)
        c->flags |= F_ALL_HEADERS;
    c->pending = HTTP_OK;
    c->detail = NULL;
    c->addr_try = 0;
    if (r->timeout_us)
        uv_timer_start(&c->timer, on_timer, (r->timeout_us + 999) / 1000, 0);
    if (connected(c))
        write_request(c);
    else if (c->state == H1_CLOSED)
        connect_start(c);
    /* CLOSING: on_tcp_closed connects. */
}

void h1_cancel(h1_conn_t *c)
{
    if (c->req) {
        uv_timer_stop(&c->timer);
        c->req = NULL;
        clear_bits(c, F_REQUEST);
        c->pending = HTTP_OK;
        free_redirect(c);
    }
    close_tcp(c);
}

void h1_conn_close(h1_conn_t *c, h1_closed_cb on_closed)
{
    h1_cancel(c);
    c->state = H1_SHUTDOWN;
    c->on_closed = on_closed;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* h1: see include/http/h1.h.
 *
 * One connection's life: CLOSED -> CONNECTING -> OPEN -> CLOSING -> CLOSED.
 * The socket is watched for reading from connect to close (uv_read_start
 * once), so a kept-alive request costs no epoll_ctl: the request goes out with
 * uv_try_write (uv_write only for what the kernel did not take) and the answer
 * comes back through on_read into http_parser. The timer is the request's
 * timeout, and doubles as the "report later" path for errors found inside
 * h1_send, which must never call on_done itself.
 *
 * A connection is only ever reopened from the tcp handle's close callback
 * (the handle is embedded and cannot be initialised again before then):
 * whoever wants a new connection for the request in flight - a retry, a
 * redirect after "Connection: close", an h1_send right after an error -
 * closes the handle and on_tcp_closed connects again while c->req is set. */
#include "http/h1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/duration.h"
#include "http/srcaddr.h"
#include "util/url.h"
#include "util/xalloc.h"

enum { ST_CLOSED, ST_CONNECTING, ST_OPEN, ST_CLOSING };

/* Connection flags. */
#define F_SERVED (1u << 0)        /* a response completed on this connection: the next request reuses it */
#define F_WRITING (1u << 1)       /* a uv_write is queued (write_req in use) */
#define F_CLOSING_ALL (1u << 2)   /* h1_conn_close was called */
/* Request flags, for one h1_send. */
#define F_RETRIED (1u << 3)       /* the one silent retry is used */
#define F_NO_BODY (1u << 4)       /* a 301/302/303 turned the request into a GET (or HEAD) */
/* Attempt flags, for one write of the request on one connection. */
#define F_REUSED (1u << 5)        /* sent on a connection that had served a response */
#define F_GOT_BYTES (1u << 6)     /* a byte of the answer arrived */
/* Response flags, reset at each response (a 100 Continue is one). */
#define F_IN_VALUE (1u << 7)      /* the parser is inside a header value */
#define F_HEADERS_DONE (1u << 8)
#define F_FINAL (1u << 9)         /* the answer the caller gets: its body is counted */
#define F_FOLLOW (1u << 10)       /* a redirect to follow */
#define F_TOO_MANY (1u << 11)     /* a redirect beyond H1_MAX_REDIRECTS */
#define F_KEEP_ALIVE (1u << 12)   /* set at message end: the connection may serve again */

#define F_RESPONSE (F_IN_VALUE | F_HEADERS_DONE | F_FINAL | F_FOLLOW | F_TOO_MANY | F_KEEP_ALIVE)
#define F_ATTEMPT (F_REUSED | F_GOT_BYTES | F_RESPONSE)
#define F_REQUEST (F_RETRIED | F_NO_BODY | F_ATTEMPT)

/* Error kinds: the text is made when the error is reported. */
enum {
    E_NONE,
    E_CONNECT,
    E_SEND,
    E_RECV,
    E_NO_RESPONSE,
    E_MID_BODY,
    E_MALFORMED,
    E_TIMEOUT,
    E_TOO_MANY,
};

/* The response headers kept; everything else is only parsed past. */
#define K_SET_COOKIE 1u
#define K_LOCATION 2u
#define K_ALL (K_SET_COOKIE | K_LOCATION)
static const char *const kept_names[2] = {"set-cookie", "location"};
static const unsigned kept_lens[2] = {10, 8};

#define HDR_VAL_MAX 65536 /* a longer Set-Cookie or Location is ignored */

static const char crlf[] = "\r\n";

static void connect_start(h1_conn_t *c);
static void write_request(h1_conn_t *c);

/* ---- small helpers --------------------------------------------------------- */

static const char *current_path(const h1_conn_t *c)
{
    return c->redirect_path ? c->redirect_path : c->req->path;
}

static char lower(char ch) { return (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch; }

/* host and port of an authority "host[:port]" or "[v6][:port]" of n bytes;
 * false if it is not one (credentials included: the native client has none). */
static bool split_authority(const char *a, size_t n, const char **host, size_t *host_len,
                            unsigned *port)
{
    if (n == 0 || memchr(a, '@', n))
        return false;
    size_t h_end;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return false;
        *host = a + 1;
        *host_len = (size_t)(close - a) - 1;
        h_end = (size_t)(close - a) + 1;
    } else {
        const char *colon = memchr(a, ':', n);
        h_end = colon ? (size_t)(colon - a) : n;
        *host = a;
        *host_len = h_end;
    }
    if (*host_len == 0)
        return false;
    *port = 80;
    if (h_end == n)
        return true;
    if (a[h_end] != ':' || h_end + 1 == n)
        return false;
    unsigned v = 0;
    for (size_t i = h_end + 1; i < n; i++) {
        if (a[i] < '0' || a[i] > '9' || v > 65535)
            return false;
        v = v * 10 + (unsigned)(a[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = v;
    return true;
}

/* Whether authority a (n bytes) names the origin: same host, compared without
 * case, and same port (80 when absent). */
static bool same_origin(const h1_origin_t *o, const char *a, size_t n)
{
    const char *h1, *h2;
    size_t l1, l2;
    unsigned p1, p2;
    if (!split_authority(a, n, &h1, &l1, &p1) ||
        !split_authority(o->origin_host, strlen(o->origin_host), &h2, &l2, &p2))
        return false;
    return l1 == l2 && p1 == p2 && strncasecmp(h1, h2, l1) == 0;
}

/* ---- errors and completion ------------------------------------------------- */

static void error_text(const h1_conn_t *c, int kind, int code, char *buf, size_t len)
{
    char d[32];
    switch (kind) {
    case E_CONNECT:
        if (code == UV_ECONNREFUSED)
            snprintf(buf, len, "connection refused");
        else
            snprintf(buf, len, "cannot connect: %s", strerror(-code));
        break;
    case E_SEND:
        if (code == UV_EPIPE)
            snprintf(buf, len, "connection closed while sending");
        else if (code == UV_ECONNRESET)
            snprintf(buf, len, "connection reset");
        else
            snprintf(buf, len, "send error: %s", strerror(-code));
        break;
    case E_RECV:
        if (code == UV_ECONNRESET)
            snprintf(buf, len, "connection reset");
        else
            snprintf(buf, len, "receive error: %s", strerror(-code));
        break;
    case E_NO_RESPONSE:
        snprintf(buf, len, "connection closed without a response");
        break;
    case E_MID_BODY:
        snprintf(buf, len, "connection closed mid-body");
        break;
    case E_MALFORMED:
        snprintf(buf, len, "malformed response");
        break;
    case E_TIMEOUT:
        snprintf(buf, len, "timeout after %s", duration_format(c->req->timeout_us, d, sizeof d));
        break;
    case E_TOO_MANY:
        snprintf(buf, len, "too many redirects");
        break;
    default:
        snprintf(buf, len, "internal error");
        break;
    }
}

static void on_tcp_closed(uv_handle_t *h);

/* Closes the socket if one is open; nothing else. */
static void close_tcp(h1_conn_t *c)
{
    if (c->state == ST_OPEN || c->state == ST_CONNECTING) {
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
        c->state = ST_CLOSING;
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

/* Ends the request in flight and tells the owner. The owner may send again,
 * cancel or close from on_done, so the connection is in its idle state
 * before the call, and the redirect path the result points to is freed only
 * after it. */
static void finish(h1_conn_t *c, const h1_result_t *r)
{
    uv_timer_stop(&c->timer);
    char *head = c->redirect_head, *path = c->redirect_path;
    c->redirect_head = c->redirect_path = NULL;
    c->redirect_head_len = 0;
    if (c->location) {
        free(c->location);
        c->location = NULL;
    }
    c->req = NULL;
    c->flags &= ~F_REQUEST;
    c->err_kind = E_NONE;
    c->on_done(c, r, c->arg);
    free(head);
    free(path);
}

/* Reports an error, closing the connection first: after an error nothing
 * about its state can be trusted. */
static void fail_text(h1_conn_t *c, const char *text)
{
    h1_result_t r;
    snprintf(r.error_buf, sizeof r.error_buf, "%s", text);
    r.error = r.error_buf;
    r.status = (c->flags & F_HEADERS_DONE) ? (long)c->parser.status_code : 0;
    r.latency_us = (uv_hrtime() - c->start_ns) / 1000;
    r.body_bytes = c->body_bytes;
    r.url_path = current_path(c);
    close_tcp(c);
    finish(c, &r);
}

static void fail(h1_conn_t *c, int kind, int code)
{
    char text[96];
    error_text(c, kind, code, text, sizeof text);
    fail_text(c, text);
}

static void on_timer(uv_timer_t *t);

/* An error found where on_done may not run (inside h1_send, or a callback
 * the owner called into): the timer reports it on the loop's next turn. */
static void fail_later(h1_conn_t *c, int kind, int code)
{
    close_tcp(c);
    c->err_kind = kind;
    c->err_code = code;
    uv_timer_start(&c->timer, on_timer, 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    h1_conn_t *c = t->data;
    if (!c->req)
        return;
    if (c->err_kind != E_NONE)
        fail(c, c->err_kind, c->err_code);
    else
        fail(c, E_TIMEOUT, 0);
}

/* libcurl's rule: a kept-alive connection found dead before any byte of the
 * answer is not the server's failure but a race with its idle timeout, so the
 * request goes again once on a new connection, with its original start time. */
static bool can_retry(const h1_conn_t *c)
{
    return (c->flags & (F_REUSED | F_RETRIED | F_GOT_BYTES)) == F_REUSED;
}

static void retry(h1_conn_t *c)
{
    c->flags |= F_RETRIED;
    close_tcp(c); /* on_tcp_closed connects and sends again */
}

static void complete(h1_conn_t *c)
{
    uint64_t end = uv_hrtime();
    h1_result_t r;
    r.error = NULL;
    r.error_buf[0] = '\0';
    r.status = (long)c->parser.status_code;
    r.latency_us = (end - c->start_ns) / 1000;
    r.body_bytes = c->body_bytes;
    r.url_path = current_path(c);
    /* A write still queued means the server answered before reading all of
     * the request: the connection's framing is unknown, do not reuse it. */
    if ((c->flags & F_KEEP_ALIVE) && !(c->flags & F_WRITING))
        c->flags |= F_SERVED;
    else
        close_tcp(c);
    finish(c, &r);
}

/* ---- redirects ---------------------------------------------------------------- */

static bool is_redirect(unsigned status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* RFC 3986 5.2.4 on the path part (up to '?'); returns a new string. */
static char *remove_dot_segments(const char *s)
{
    size_t plen = strcspn(s, "?");
    size_t qlen = strlen(s + plen);
    char *out = xmalloc(plen + qlen + 2);
    size_t o = 0;
    const char *in = s, *end = s + plen;
    while (in < end) {
        const char *seg = in + 1;
        const char *next = memchr(seg, '/', (size_t)(end - seg));
        if (!next)
            next = end;
        size_t sl = (size_t)(next - seg);
        if (sl == 1 && seg[0] == '.') {
            if (next == end)
                out[o++] = '/';
        } else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;
            if (next == end)
                out[o++] = '/';
        } else {
            out[o++] = '/';
            memcpy(out + o, seg, sl);
            o += sl;
        }
        in = next;
    }
    if (o == 0)
        out[o++] = '/';
    memcpy(out + o, s + plen, qlen + 1);
    return out;
}

/* Whether s (n bytes) starts with a URI scheme and ':' (RFC 3986 3.1). */
static bool has_scheme(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (ch == ':')
            return true;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '-' || ch == '.'))
            return false;
    }
    return false;
}

/* The Location of the response against the current path: the new path
 * (percent-encoded, xmalloc'd) or NULL with an error text for another origin. */
static char *resolve_location(h1_conn_t *c, char *err, size_t errlen)
{
    const char *loc = c->location;
    while (*loc == ' ' || *loc == '\t')
        loc++;
    size_t n = strcspn(loc, "#");
    while (n > 0 && (loc[n - 1] == ' ' || loc[n - 1] == '\t'))
        n--;
    const char *cur = current_path(c);
    size_t cur_path = strcspn(cur, "?#");
    const char *auth = NULL;
    if (n >= 2 && loc[0] == '/' && loc[1] == '/') {
        auth = loc + 2;
    } else if (has_scheme(loc, n)) {
        if (n < 7 || strncasecmp(loc, "http://", 7) != 0)
            goto other_origin;
        auth = loc + 7;
    }

    char *joined;
    if (auth) {
        size_t rest = n - (size_t)(auth - loc);
        size_t auth_len = strcspn(auth, "/?#");
        if (auth_len > rest)
            auth_len = rest;
        if (!same_origin(c->origin, auth, auth_len))
            goto other_origin;
        const char *p = auth + auth_len;
        size_t pl = rest - auth_len;
        bool slash = pl == 0 || p[0] != '/';
        joined = xmalloc(pl + 2);
        snprintf(joined, pl + 2, "%s%.*s", slash ? "/" : "", (int)pl, p);
    } else if (n > 0 && loc[0] == '/') {
        joined = xstrndup(loc, n);
    } else if (n > 0 && loc[0] == '?') {
        joined = xmalloc(cur_path + n + 1);
        memcpy(joined, cur, cur_path);
        memcpy(joined + cur_path, loc, n);
        joined[cur_path + n] = '\0';
    } else if (n == 0) {
        joined = xstrndup(cur, strcspn(cur, "#"));
    } else {
        size_t dir = cur_path;
        while (dir > 0 && cur[dir - 1] != '/')
            dir--;
        joined = xmalloc(dir + n + 2);
        memcpy(joined, cur, dir);
        memcpy(joined + dir, loc, n);
        joined[dir + n] = '\0';
        if (dir == 0) { /* a current path without '/' cannot happen, but stay rooted */
            memmove(joined + 1, joined, n + 1);
            joined[0] = '/';
        }
    }
    char *clean = remove_dot_segments(joined);
    free(joined);
    /* Servers do send spaces and UTF-8 in Location; libcurl encodes them. */
    char *encoded = url_encode_path(clean);
    free(clean);
    return encoded;

other_origin:;
    int shown = n > 80 ? 77 : (int)n;
    snprintf(err, errlen, "redirect to another origin (%.*s%s): not followed by the native client",
             shown, loc, n > 80 ? "..." : "");
    return NULL;
}

/* The next request of a redirect chain: the prepared head with a new request
 * line, without its body framing when a 301/302/303 made it a GET. */
static void build_redirect(h1_conn_t *c, char *path)
{
    const h1_request_t *r = c->req;
    bool no_body = (c->flags & F_NO_BODY) != 0;
    const char *method = no_body ? (r->is_head ? "HEAD" : "GET") : r->method;
    const char *line_end = memchr(r->head, '\n', r->head_len);
    size_t first = line_end ? (size_t)(line_end - r->head) + 1 : r->head_len;
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
    char err[160];
    char *path = resolve_location(c, err, sizeof err);
    if (!path) {
        fail_text(c, err);
        return;
    }
    unsigned status = c->parser.status_code;
    if (status == 301 || status == 302 || status == 303)
        c->flags |= F_NO_BODY;
    build_redirect(c, path);
    free(c->location);
    c->location = NULL;
    c->redirects++;
    if ((c->flags & F_KEEP_ALIVE) && !(c->flags & F_WRITING)) {
        c->flags |= F_SERVED;
        write_request(c);
    } else {
        close_tcp(c); /* on_tcp_closed connects and sends the redirect */
    }
}

/* ---- parsing the answer ------------------------------------------------------------ */

static void header_flush(h1_conn_t *c)
{
    if (c->hdr_kind == K_SET_COOKIE) {
        cookie_jar_set(&c->cookies, c->hdr_val, c->hdr_val_len, current_path(c), time(NULL));
    } else if (c->hdr_kind == K_LOCATION) {
        free(c->location);
        c->location = xstrndup(c->hdr_val ? c->hdr_val : "", c->hdr_val_len);
    }
    c->hdr_kind = 0;
    c->hdr_val_len = 0;
}

static int on_message_begin(http_parser *p)
{
    h1_conn_t *c = p->data;
    c->flags &= ~F_RESPONSE;
    c->hdr_kind = K_ALL;
    c->hdr_pos = 0;
    c->hdr_val_len = 0;
    return 0;
}

/* Matches the name against the kept ones as its bytes arrive; most names
 * fail on their first or second byte. */
static int on_header_field(http_parser *p, const char *at, size_t len)
{
    h1_conn_t *c = p->data;
    if (c->flags & F_IN_VALUE) {
        header_flush(c);
        c->flags &= ~F_IN_VALUE;
        c->hdr_kind = (c->flags & F_HEADERS_DONE) ? 0 : K_ALL; /* trailers are not kept */
        c->hdr_pos = 0;
    }
    unsigned kind = c->hdr_kind, pos = c->hdr_pos;
    for (size_t i = 0; i < len && kind; i++, pos++) {
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
        unsigned kind = 0;
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
    if (c->hdr_val_len + len > c->hdr_val_cap) {
        size_t cap = c->hdr_val_cap ? c->hdr_val_cap : 256;
        while (cap < c->hdr_val_len + len)
            cap *= 2;
        c->hdr_val = xrealloc(c->hdr_val, cap);
        c->hdr_val_cap = cap;
    }
    if (len == 0)
        return 0;       /* an empty value: nothing to add (and hdr_val may be NULL) */
    memcpy(c->hdr_val + c->hdr_val_len, at, len);
    c->hdr_val_len += len;
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    h1_conn_t *c = p->data;
    if (c->flags & F_IN_VALUE) {
        header_flush(c);
        c->flags &= ~F_IN_VALUE;
    }
    c->hdr_kind = 0;
    c->flags |= F_HEADERS_DONE;
    unsigned status = p->status_code;
    if (status / 100 == 1 && status != 101)
        return 0; /* 100 Continue and friends: the real answer follows */
    if (is_redirect(status) && c->location)
        c->flags |= c->redirects >= H1_MAX_REDIRECTS ? F_TOO_MANY : F_FOLLOW;
    else
        c->flags |= F_FINAL;
    /* 1 tells http_parser that no body follows, which it cannot know for HEAD. */
    return c->req->is_head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    h1_conn_t *c = p->data;
    if (!(c->flags & F_FINAL))
        return 0;
    c->body_bytes += len;
    if (c->on_body) {
        c->on_body(c, at, len, c->arg);
        if (c->state != ST_OPEN)
            return 1; /* the owner cancelled: stop parsing */
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    h1_conn_t *c = p->data;
    unsigned status = p->status_code;
    if (status / 100 == 1 && status != 101)
        return 0;
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
    if (c->flags & F_TOO_MANY)
        fail(c, E_TOO_MANY, 0);
    else if (c->flags & F_FOLLOW)
        follow_redirect(c);
    else
        complete(c);
}

static void parse(h1_conn_t *c, const char *data, size_t n)
{
    http_parser_execute(&c->parser, &parser_settings, data, n);
    if (c->state != ST_OPEN || !c->req)
        return; /* cancelled from on_body */
    enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
    if (e == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
        response_done(c);
    } else if (e != HPE_OK) {
        fail(c, E_MALFORMED, 0);
    }
}

static void on_eof(h1_conn_t *c)
{
    if (!(c->flags & F_GOT_BYTES)) {
        if (can_retry(c))
            retry(c);
        else
            fail(c, E_NO_RESPONSE, 0);
        return;
    }
    /* A body without length ends with the connection: tell the parser. */
    http_parser_execute(&c->parser, &parser_settings, NULL, 0);
    if (HTTP_PARSER_ERRNO(&c->parser) == HPE_PAUSED) {
        http_parser_pause(&c->parser, 0);
        c->flags &= ~F_KEEP_ALIVE;
        response_done(c);
        return;
    }
    fail(c, E_MID_BODY, 0);
}

/* ---- the socket ------------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    h1_conn_t *c = h->data;
    buf->base = c->origin->read_buf;
    buf->len = H1_READ_BUF;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    h1_conn_t *c = s->data;
    if (nread == 0)
        return;
    if (!c->req) {
        /* Idle: the server closed its end (its keep-alive timeout), or sent
         * bytes nobody asked for. Either way this connection is done; the
         * next h1_send opens another. */
        close_tcp(c);
        return;
    }
    if (nread > 0) {
        c->flags |= F_GOT_BYTES;
        parse(c, buf->base, (size_t)nread);
    } else if (nread == UV_EOF) {
        on_eof(c);
    } else if (!(c->flags & F_GOT_BYTES) && can_retry(c)) {
        retry(c);
    } else {
        fail(c, E_RECV, (int)nread);
    }
}

static void write_failed(h1_conn_t *c, int err)
{
    if (can_retry(c))
        retry(c);
    else
        fail_later(c, E_SEND, err);
}

static void on_write(uv_write_t *w, int status)
{
    h1_conn_t *c = w->data;
    c->flags &= ~F_WRITING;
    if (status == 0 || status == UV_ECANCELED || !c->req || c->state != ST_OPEN)
        return;
    write_failed(c, status);
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
    c->flags &= ~F_ATTEMPT;
    if (c->flags & F_SERVED)
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
    uv_stream_t *s = (uv_stream_t *)&c->tcp;
    int n = uv_try_write(s, bufs, nb);
    if (n >= 0 && (size_t)n == total)
        return;
    if (n < 0 && n != UV_EAGAIN) {
        write_failed(c, n);
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
        write_failed(c, err);
        return;
    }
    c->flags |= F_WRITING;
}

static void on_connect(uv_connect_t *req, int status)
{
    h1_conn_t *c = req->data;
    if (status == UV_ECANCELED || c->state != ST_CONNECTING || !c->req)
        return;
    h1_origin_t *o = c->origin;
    if (status < 0) {
        if (c->addr_try + 1 < o->n_addrs) {
            c->addr_try++;
            close_tcp(c); /* on_tcp_closed tries the next address */
            return;
        }
        c->addr_try = 0;
        fail(c, E_CONNECT, status);
        return;
    }
    if (c->addr_try) {
        /* Later connections go straight to the address that answered. */
        o->preferred = (o->preferred + c->addr_try) % o->n_addrs;
        memcpy(&o->addr, &o->addrs[o->preferred], sizeof o->addr);
        o->addrlen = o->addrs[o->preferred].ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                  : sizeof(struct sockaddr_in);
        c->addr_try = 0;
    }
    c->state = ST_OPEN;
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    write_request(c);
}

static void all_closed(h1_conn_t *c)
{
    free(c->hdr_val);
    free(c->cookie_buf);
    free_redirect(c);
    c->hdr_val = c->cookie_buf = NULL;
    c->hdr_val_cap = c->cookie_cap = 0;
    cookie_jar_clear(&c->cookies);
    if (c->on_closed)
        c->on_closed(c, c->arg);
}

static void on_tcp_closed(uv_handle_t *h)
{
    h1_conn_t *c = h->data;
    c->state = ST_CLOSED;
    c->flags &= ~(F_SERVED | F_WRITING);
    if (--c->open_handles == 0 && (c->flags & F_CLOSING_ALL)) {
        all_closed(c);
        return;
    }
    if (c->req && c->err_kind == E_NONE && !(c->flags & F_CLOSING_ALL))
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
    int err;
    if (o->n_sources) {
        /* Each source address has its own ephemeral ports: round-robin over
         * them lifts the ~28k connections one address pair allows. */
        const struct sockaddr *src = (const struct sockaddr *)&o->sources[o->next_source];
        o->next_source = (o->next_source + 1) % o->n_sources;
        err = uv_tcp_init_ex(o->loop, &c->tcp, src->sa_family);
        if (err) {
            fail_later(c, E_CONNECT, err);
            return;
        }
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
            /* Pick the port at connect, not bind: then it only has to be
             * unique per destination, not per source address. */
            int on = 1;
            (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
        }
        err = uv_tcp_bind(&c->tcp, src, 0);
    } else {
        err = uv_tcp_init(o->loop, &c->tcp);
        if (err) {
            fail_later(c, E_CONNECT, err);
            return;
        }
    }
    c->tcp.data = c;
    c->open_handles++;
    c->state = ST_CONNECTING;
    if (!err)
        err = uv_tcp_nodelay(&c->tcp, 1);
    c->connect_req.data = c;
    const struct sockaddr_storage *to = &o->addr;
    if (c->addr_try && o->n_addrs)
        to = &o->addrs[(o->preferred + c->addr_try) % o->n_addrs];
    if (!err)
        err = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)to, on_connect);
    if (err) {
        /* No IPv6 on this host, say: the next address may still do. */
        if (c->addr_try + 1 < o->n_addrs) {
            c->addr_try++;
            close_tcp(c);
            return;
        }
        c->addr_try = 0;
        fail_later(c, E_CONNECT, err);
    }
}

/* ---- the public calls ------------------------------------------------------------ */

void h1_conn_init(h1_conn_t *c, h1_origin_t *o, h1_body_cb on_body_cb, h1_done_cb on_done, void *arg)
{
    memset(c, 0, sizeof *c);
    c->origin = o;
    c->on_body = on_body_cb;
    c->on_done = on_done;
    c->arg = arg;
    c->state = ST_CLOSED;
    uv_timer_init(o->loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 1;
    c->connect_req.data = c;
    c->write_req.data = c;
    cookie_jar_init(&c->cookies);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
}

void h1_send(h1_conn_t *c, const h1_request_t *r)
{
    c->req = r;
    c->start_ns = uv_hrtime();
    c->body_bytes = 0;
    c->redirects = 0;
    c->flags &= ~F_REQUEST;
    c->err_kind = E_NONE;
    c->addr_try = 0;
    if (r->timeout_us)
        uv_timer_start(&c->timer, on_timer, (r->timeout_us + 999) / 1000, 0);
    if (c->state == ST_OPEN)
        write_request(c);
    else if (c->state == ST_CLOSED)
        connect_start(c);
    /* CLOSING: on_tcp_closed connects. */
}

void h1_cancel(h1_conn_t *c)
{
    if (c->req) {
        uv_timer_stop(&c->timer);
        c->req = NULL;
        c->flags &= ~F_REQUEST;
        c->err_kind = E_NONE;
        free_redirect(c);
    }
    close_tcp(c);
}

void h1_conn_close(h1_conn_t *c, h1_closed_cb on_closed)
{
    h1_cancel(c);
    c->flags |= F_CLOSING_ALL;
    c->on_closed = on_closed;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

/* ---- origin and requests ------------------------------------------------------------ */

bool h1_usable(const char *base_url)
{
    if (base_url == NULL || url_check_base(base_url, NULL) != 0 || strncasecmp(base_url, "http://", 7) != 0)
        return false;
    const char *auth = base_url + 7;
    size_t n = strcspn(auth, "/?#");
    return memchr(auth, '@', n) == NULL;
}

static int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* --source-addrs, parsed by srcaddr (the libcurl path reads the same list),
 * all of one family: the target's address is resolved in it. */
static int parse_sources(h1_origin_t *o, const char *list, char *err, size_t errlen)
{
    srcaddr_list_t *l = xmalloc(sizeof *l);
    if (srcaddr_parse(list, l, err, errlen) != 0) {
        free(l);
        return -1;
    }
    o->sources = xcalloc(l->n, sizeof *o->sources);
    for (size_t i = 0; i < l->n; i++) {
        if (l->addr[i].ss_family != l->addr[0].ss_family) {
            errf(err, errlen, "--source-addrs: \"%s\": IPv4 and IPv6 cannot be mixed", l->text[i]);
            free(l);
            return -1;
        }
        o->sources[i] = l->addr[i];
    }
    o->n_sources = l->n;
    free(l);
    return 0;
}

int h1_origin_init(h1_origin_t *o, uv_loop_t *loop, const char *base_url, const char *source_addrs,
                   char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->loop = loop;
    if (!h1_usable(base_url))
        return errf(err, errlen, "\"%s\": the native HTTP/1.1 client needs a plain http:// URL without credentials",
                    base_url ? base_url : "");
    const char *auth = base_url + 7;
    size_t auth_len = strcspn(auth, "/?#");
    const char *host;
    size_t host_len;
    unsigned port;
    if (!split_authority(auth, auth_len, &host, &host_len, &port))
        return errf(err, errlen, "\"%s\": cannot read the host and port", base_url);

    if (source_addrs && *source_addrs && parse_sources(o, source_addrs, err, errlen) != 0) {
        h1_origin_free(o);
        return -1;
    }

    char node[256], service[8];
    if (host_len >= sizeof node) {
        h1_origin_free(o);
        return errf(err, errlen, "\"%s\": the host name is too long", base_url);
    }
    memcpy(node, host, host_len);
    node[host_len] = '\0';
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    hints.ai_family = o->n_sources ? o->sources[0].ss_family : AF_UNSPEC;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(node, service, &hints, &res);
    if (rc != 0 || !res) {
        h1_origin_free(o);
        if (hints.ai_family != AF_UNSPEC)
            return errf(err, errlen, "cannot resolve host \"%s\" to an %s address (the family of the source addresses): %s",
                        node, hints.ai_family == AF_INET ? "IPv4" : "IPv6", gai_strerror(rc));
        return errf(err, errlen, "cannot resolve host \"%s\": %s", node, gai_strerror(rc));
    }
    o->addrs = xcalloc(8, sizeof *o->addrs);
    for (struct addrinfo *ai = res; ai && o->n_addrs < 8; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof *o->addrs)
            continue;
        memcpy(&o->addrs[o->n_addrs++], ai->ai_addr, ai->ai_addrlen);
        if (o->n_addrs == 1) {
            memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
            o->addrlen = (socklen_t)ai->ai_addrlen;
        }
    }
    freeaddrinfo(res);
    if (o->n_addrs == 0) {
        h1_origin_free(o);
        return errf(err, errlen, "cannot resolve host \"%s\": no IPv4 or IPv6 address", node);
    }

    /* The Host header as libcurl writes it: the host as given, the port only
     * when it is not 80. */
    bool v6 = auth[0] == '[';
    size_t cap = host_len + 16;
    o->origin_host = xmalloc(cap);
    if (port == 80)
        snprintf(o->origin_host, cap, "%s%s%s", v6 ? "[" : "", node, v6 ? "]" : "");
    else
        snprintf(o->origin_host, cap, "%s%s%s:%u", v6 ? "[" : "", node, v6 ? "]" : "", port);
    o->read_buf = xmalloc(H1_READ_BUF);
    return 0;
}

void h1_origin_free(h1_origin_t *o)
{
    free(o->origin_host);
    free(o->sources);
    free(o->read_buf);
    free(o->addrs);
    o->addrs = NULL;
    o->n_addrs = 0;
    o->origin_host = NULL;
    o->sources = NULL;
    o->read_buf = NULL;
    o->n_sources = 0;
}

/* A growing byte string, for building request heads (not on the hot path). */
typedef struct {
    char *p;
    size_t len, cap;
} strbuf_t;

static void sb_add(strbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(strbuf_t *b, const char *s) { sb_add(b, s, strlen(s)); }

static bool header_named(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

int h1_request_prepare(h1_request_t *r, const h1_origin_t *o, const char *method,
                       const char *target, char *const *headers, size_t n_headers,
                       char *const *task_headers, size_t n_task_headers, const char *body,
                       size_t body_len, uint64_t timeout_us, const char *user_agent, char *err,
                       size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (method == NULL || *method == '\0' || strpbrk(method, " \t\r\n"))
        return errf(err, errlen, "\"%s\" is not a request method", method ? method : "");
    if (target == NULL || *target == '\0')
        return errf(err, errlen, "the target is empty");

    const char *path = target;
    if (url_is_absolute(target)) {
        const char *auth = target + 7;
        size_t auth_len = strncasecmp(target, "http://", 7) == 0 ? strcspn(auth, "/?#") : 0;
        if (auth_len == 0 || !same_origin(o, auth, auth_len))
            return errf(err, errlen,
                        "\"%s\" is not on %s: the native HTTP/1.1 client sends to one origin over plain http",
                        target, o->origin_host);
        path = auth + auth_len;
    } else if (target[0] != '/') {
        return errf(err, errlen, "\"%s\": a target must be a path starting with '/' or an http:// URL", target);
    }
    size_t path_len = strcspn(path, "#"); /* fragments stay on the client, as with libcurl */
    for (size_t i = 0; i < path_len; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return errf(err, errlen, "\"%s\": the target must be percent-encoded", target);
    }

    /* Plan headers that replace the ones libcurl would add. */
    char *const *lists[2] = {headers, task_headers};
    size_t counts[2] = {n_headers, n_task_headers};
    const char *custom_host = NULL;
    bool custom_ua = false, custom_accept = false, custom_type = false, custom_length = false;
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            const char *h = lists[l][i];
            const char *colon = h ? strchr(h, ':') : NULL;
            if (!colon || colon == h || strpbrk(h, "\r\n"))
                return errf(err, errlen, "header \"%s\": expected \"Name: value\"", h ? h : "");
            if (header_named(h, "Host"))
                custom_host = h;
            custom_ua |= header_named(h, "User-Agent");
            custom_accept |= header_named(h, "Accept");
            custom_type |= header_named(h, "Content-Type");
            custom_length |= header_named(h, "Content-Length");
        }

    bool is_head = strcmp(method, "HEAD") == 0;
    if (is_head)
        body = NULL;
    /* As the engine sets libcurl up: a body, or a POST even without one, is
     * sent as POSTFIELDS (Content-Length and a default Content-Type); a PUT or
     * PATCH without a body says Content-Length: 0 so servers need not wait. */
    bool sends_body = body != NULL || strcmp(method, "POST") == 0;
    bool zero_length = !sends_body && (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0);
    if (!body)
        body_len = 0;

    strbuf_t b = {0};
    sb_str(&b, method);
    sb_add(&b, " ", 1);
    if (path_len == 0 || path[0] != '/')
        sb_add(&b, "/", 1);
    sb_add(&b, path, path_len);
    size_t path_start = strlen(method) + 1;
    size_t path_end = b.len;
    sb_str(&b, " HTTP/1.1\r\n");
    if (custom_host) {
        sb_str(&b, custom_host);
        sb_add(&b, crlf, 2);
    } else {
        sb_str(&b, "Host: ");
        sb_str(&b, o->origin_host);
        sb_add(&b, crlf, 2);
    }
    if (!custom_ua && user_agent) {
        sb_str(&b, "User-Agent: ");
        sb_str(&b, user_agent);
        sb_add(&b, crlf, 2);
    }
    if (!custom_accept)
        sb_str(&b, "Accept: */*\r\n");
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            if (lists[l][i] == custom_host)
                continue;
            sb_str(&b, lists[l][i]);
            sb_add(&b, crlf, 2);
        }
    size_t framing_start = b.len;
    if (sends_body && !custom_type)
        sb_str(&b, "Content-Type: application/x-www-form-urlencoded\r\n");
    if ((sends_body || zero_length) && !custom_length) {
        char line[48];
        snprintf(line, sizeof line, "Content-Length: %zu\r\n", body_len);
        sb_str(&b, line);
    }
    r->head_len = b.len;
    r->framing_len = b.len - framing_start;
    sb_add(&b, crlf, 2);
    if (body_len)
        sb_add(&b, body, body_len);
    r->head = b.p;
    r->body = body ? r->head + r->head_len + 2 : NULL;
    r->body_len = body_len;
    r->method = xstrdup(method);
    r->path = xstrndup(b.p + path_start, path_end - path_start);
    r->is_head = is_head;
    r->timeout_us = timeout_us;
    return 0;
}

void h1_request_free(h1_request_t *r)
{
    free(r->head);
    free((char *)r->method);
    free((char *)r->path);
    memset(r, 0, sizeof *r);
}

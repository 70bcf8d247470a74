/* metrics: see include/metrics/metrics.h. */
#include "metrics/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hopper.h"
#include "util/xalloc.h"

struct metrics_conn {
    uv_tcp_t tcp;                /* tcp.data = timer.data = this */
    uv_timer_t timer;
    uv_write_t write;
    uv_shutdown_t shutdown;
    metrics_server_t *srv;
    metrics_conn_t *prev, *next;
    int handles;                 /* open libuv handles: freed when both have closed */
    bool closing;
    bool answered;               /* what comes after the request is read and dropped */
    uint64_t since;              /* uv_now at the accept */
    char head[256];              /* the answer's status line and headers */
    prom_buf_t body;
    size_t len;                  /* bytes of req */
    char req[METRICS_MAX_REQUEST];
};

/* ---- the listen address ------------------------------------------------- */

/* "0".."65535", digits only. */
static int parse_port(const char *s, unsigned *port)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
        return -1;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

int metrics_parse_listen(const char *text, struct sockaddr_storage *addr, char *err,
                         size_t errlen)
{
    char host[64];
    const char *port_text;
    bool v6 = text[0] == '[';
    memset(addr, 0, sizeof *addr);
    if (v6) {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':') {
            snprintf(err, errlen, "--metrics-listen '%.80s': expected [IPv6]:PORT, such as "
                     "[::1]:9646", text);
            return -1;
        }
        size_t n = (size_t)(close - text - 1);
        if (n == 0 || n >= sizeof host) {
            snprintf(err, errlen, "--metrics-listen '%.80s': not an IPv6 address in the "
                     "brackets", text);
            return -1;
        }
        memcpy(host, text + 1, n);
        host[n] = '\0';
        port_text = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (!colon) {
            snprintf(err, errlen, "--metrics-listen '%.80s': expected ADDR:PORT, such as "
                     "127.0.0.1:9646", text);
            return -1;
        }
        if (strchr(text, ':') != colon) {
            snprintf(err, errlen, "--metrics-listen '%.80s': an IPv6 address goes in brackets, "
                     "such as [::1]:9646", text);
            return -1;
        }
        size_t n = (size_t)(colon - text);
        if (n == 0) {
            snprintf(err, errlen, "--metrics-listen '%.80s': give the address to listen on: "
                     "127.0.0.1:PORT (this machine only) or 0.0.0.0:PORT (every interface)",
                     text);
            return -1;
        }
        if (n >= sizeof host) {
            snprintf(err, errlen, "--metrics-listen '%.80s': not a numeric IPv4 address",
                     text);
            return -1;
        }
        memcpy(host, text, n);
        host[n] = '\0';
        port_text = colon + 1;
    }
    unsigned port;
    if (parse_port(port_text, &port) != 0) {
        snprintf(err, errlen, "--metrics-listen '%.80s': the port must be a number from 0 to "
                 "65535", text);
        return -1;
    }
    /* Numeric only: a name would resolve to who knows which of its addresses. */
    int rc = v6 ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)addr)
                : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics-listen '%.80s': '%s' is not a numeric %s address%s",
                 text, host, v6 ? "IPv6" : "IPv4",
                 v6 ? "" : " (such as 127.0.0.1; IPv6 goes in brackets: [::1]:9646)");
        return -1;
    }
    return 0;
}

/* ---- connections ---------------------------------------------------------- */

static void on_conn_closed(uv_handle_t *h)
{
    metrics_conn_t *c = h->data;
    if (--c->handles > 0)
        return;
    prom_buf_free(&c->body);
    free(c);
}

/* Closes both handles; the memory goes when the last close callback runs. */
static void conn_close(metrics_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    metrics_server_t *m = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        m->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    m->n_conns--;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    metrics_conn_t *c = req->data;
    if (status < 0)
        conn_close(c);
    /* Else the peer's EOF (on_read) or the timeout closes it: closing now
     * could reset the connection before the peer has read the answer, if it
     * had sent anything more. */
}

static void on_written(uv_write_t *req, int status)
{
    metrics_conn_t *c = req->data;
    if (c->closing)
        return;
    if (status < 0 || uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        conn_close(c);
}

static void answer(metrics_conn_t *c, const char *status, const char *type, bool head_only)
{
    c->answered = true;
    /* The request is in: the rest of the connection's life is the answer's
     * write and the peer's EOF. */
    uint64_t lived = uv_now(c->srv->loop) - c->since;
    uv_timer_start(&c->timer, on_timeout,
                   lived < METRICS_TIMEOUT_MS ? METRICS_TIMEOUT_MS - lived : 1, 0);
    int n = snprintf(c->head, sizeof c->head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", status, type, c->body.len);
    uv_buf_t bufs[2] = {uv_buf_init(c->head, (unsigned)n),
                        uv_buf_init(c->body.data, (unsigned)c->body.len)};
    unsigned nbufs = head_only || c->body.len == 0 ? 1 : 2;
    c->write.data = c;
    c->shutdown.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, bufs, nbufs, on_written) != 0)
        conn_close(c);
}

static void answer_text(metrics_conn_t *c, const char *status, const char *text, bool head_only)
{
    c->body.len = 0;
    size_t n = strlen(text);
    c->body.data = xrealloc(c->body.data, n + 1);
    c->body.cap = n + 1;
    memcpy(c->body.data, text, n + 1);
    c->body.len = n;
    answer(c, status, "text/plain; charset=utf-8", head_only);
}

/* The request line of req[0, end): "METHOD TARGET HTTP/1.x". */
static void handle_request(metrics_conn_t *c, size_t end)
{
    const char *p = c->req, *line_end = memchr(p, '\n', end);
    size_t n = (size_t)(line_end - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    const char *sp1 = memchr(p, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p)) : NULL;
    size_t method_len = sp1 ? (size_t)(sp1 - p) : 0;
    const char *target = sp1 ? sp1 + 1 : NULL;
    size_t target_len = sp2 ? (size_t)(sp2 - target) : 0;
    const char *version = sp2 ? sp2 + 1 : NULL;
    size_t version_len = version ? (size_t)(p + n - version) : 0;
    if (!sp2 || method_len == 0 || target_len == 0 || version_len != 8 ||
        (memcmp(version, "HTTP/1.1", 8) != 0 && memcmp(version, "HTTP/1.0", 8) != 0)) {
        answer_text(c, "400 Bad Request", "bad request: expected GET /metrics HTTP/1.1\n", false);
        return;
    }
    bool head = method_len == 4 && memcmp(p, "HEAD", 4) == 0;
    bool get = method_len == 3 && memcmp(p, "GET", 3) == 0;
    size_t path_len = target_len;
    const char *q = memchr(target, '?', target_len);
    if (q)
        path_len = (size_t)(q - target);
    if (!(path_len == 8 && memcmp(target, "/metrics", 8) == 0)) {
        answer_text(c, "404 Not Found", "not found: hopper serves its metrics at /metrics\n",
                    head);
        return;
    }
    if (!get && !head) {
        answer_text(c, "405 Method Not Allowed", "only GET and HEAD\n", false);
        return;
    }
    metrics_server_t *m = c->srv;
    if (m->held) {
        prom_render(m->held, &c->body);
    } else {
        m->snapshot(m->ctx, &m->snap);
        prom_render(&m->snap, &c->body);
    }
    m->scrapes++;
    answer(c, "200 OK", PROM_CONTENT_TYPE, head);
}

/* Where the request's headers end (just past the blank line), or 0. */
static size_t headers_end(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] != '\n')
            continue;
        if (s[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    metrics_conn_t *c = h->data;
    /* Once answered, whatever else comes is read into req and dropped. */
    size_t at = c->answered ? 0 : c->len;
    *buf = uv_buf_init(c->req + at, (unsigned)(sizeof c->req - at));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    metrics_conn_t *c = s->data;
    if (nread < 0) {
        conn_close(c);   /* EOF (after the answer, the normal end) or an error */
        return;
    }
    if (c->answered || nread == 0)
        return;
    size_t before = c->len;
    c->len += (size_t)nread;
    /* The blank line may straddle two reads: look from a little before. */
    size_t from = before > 3 ? before - 3 : 0;
    size_t end = headers_end(c->req + from, c->len - from);
    if (end) {
        handle_request(c, from + end);
        return;
    }
    if (c->len == sizeof c->req)
        answer_text(c, "431 Request Header Fields Too Large",
                    "request too large: at most " HOPPER_STR(METRICS_MAX_REQUEST) " bytes\n",
                    false);
}

/* The connection to give up for a new one when all are taken: the oldest
 * still waiting for its request (a scrape answered is nearly done), else
 * the oldest. The list is newest first; at most METRICS_MAX_CONNS long. */
static metrics_conn_t *oldest_conn(metrics_server_t *m)
{
    metrics_conn_t *waiting = NULL, *any = NULL;
    for (metrics_conn_t *c = m->conns; c; c = c->next) {
        any = c;
        if (!c->answered)
            waiting = c;
    }
    return waiting ? waiting : any;
}

static void on_connection(uv_stream_t *server, int status)
{
    metrics_server_t *m = server->data;
    if (status < 0)
        return;
    if (m->n_conns >= METRICS_MAX_CONNS)
        conn_close(oldest_conn(m));
    metrics_conn_t *c = xcalloc(1, sizeof *c);
    c->srv = m;
    c->since = uv_now(m->loop);
    uv_tcp_init(m->loop, &c->tcp);
    uv_timer_init(m->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = m->conns;
    if (m->conns)
        m->conns->prev = c;
    m->conns = c;
    m->n_conns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timeout, METRICS_REQUEST_TIMEOUT_MS, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        conn_close(c);
}

/* ---- the server ------------------------------------------------------------ */

int metrics_open(metrics_server_t *m, uv_loop_t *loop, const struct sockaddr *addr,
                 metrics_snapshot_cb snapshot, void *ctx, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    snap_init(&m->snap);
    m->loop = loop;
    m->snapshot = snapshot;
    m->ctx = ctx;
    char name[INET6_ADDRSTRLEN + 8] = "?";
    unsigned port = ntohs(addr->sa_family == AF_INET6
                              ? ((const struct sockaddr_in6 *)addr)->sin6_port
                              : ((const struct sockaddr_in *)addr)->sin_port);
    if (addr->sa_family == AF_INET6) {
        char a[INET6_ADDRSTRLEN];
        uv_ip6_name((const struct sockaddr_in6 *)addr, a, sizeof a);
        snprintf(name, sizeof name, "[%s]", a);
    } else {
        uv_ip4_name((const struct sockaddr_in *)addr, name, sizeof name);
    }
    /* The socket is made and bound here, not by uv_tcp_bind, so that a bind
     * that fails leaves no libuv handle to close: main can stop before the
     * loop ever runs. */
    socklen_t len = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                 : sizeof(struct sockaddr_in);
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    const char *why = NULL;
    if (fd < 0)
        why = strerror(errno);
    else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
             bind(fd, addr, len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        why = e == EADDRINUSE ? "the address is in use (is another program, or another hopper, "
                                "listening there?)"
            : e == EADDRNOTAVAIL ? "not an address of this machine"
            : e == EACCES ? "permission denied (ports below 1024 need privileges)"
            : strerror(e);
    }
    if (why) {
        snprintf(err, errlen, "--metrics-listen %s:%u: cannot listen: %s", name, port, why);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    uv_tcp_init(loop, &m->listener);
    m->listener.data = m;
    m->open = true;
    int rc = uv_tcp_open(&m->listener, fd);
    if (rc != 0)
        close(fd);   /* not adopted by the handle, so not closed with it */
    else
        rc = uv_listen((uv_stream_t *)&m->listener, 128, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics-listen %s:%u: cannot listen: %s", name, port,
                 uv_strerror(rc));
        metrics_close(m);
        return -1;
    }
    return 0;
}

const char *metrics_url(const metrics_server_t *m, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int n = sizeof ss;
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (m->open && uv_tcp_getsockname(&m->listener, (struct sockaddr *)&ss, &n) == 0) {
        if (ss.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&ss, a, sizeof a);
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        } else {
            uv_ip4_name((struct sockaddr_in *)&ss, a, sizeof a);
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
    }
    bool v6 = ss.ss_family == AF_INET6 && m->open;
    snprintf(buf, len, "http://%s%s%s:%u/metrics", v6 ? "[" : "", a, v6 ? "]" : "", port);
    return buf;
}

void metrics_hold(metrics_server_t *m, const snap_t *final)
{
    m->held = final;
}

void metrics_close(metrics_server_t *m)
{
    if (!m->open)
        return;
    m->open = false;
    uv_close((uv_handle_t *)&m->listener, NULL);
    while (m->conns)
        conn_close(m->conns);
    snap_free(&m->snap);
    m->held = NULL;
}

/*
 * faultserver: a small hostile HTTP/1.1 server for hopper's end-to-end tests
 * (tests/e2e/faults.sh). Each --mode plays one way a server can misbehave.
 *
 *   faultserver --port 0 --mode MODE [--accept N]
 *   faultserver --port 0 --mode tls-MODE --cert CERT --key KEY [--client-ca CA] [--tls12]
 *
 * The first line on stdout is "listening on 127.0.0.1:PORT" (flushed). It
 * serves until SIGTERM or SIGINT, then prints its counts and exits 0:
 *
 *   requests seen: N          requests whose head it read in full
 *   connections accepted: N
 *   unauthorized: N           401s sent (cookies mode)
 *   sessions issued: N        Set-Cookie headers sent (cookies mode)
 *   seen N METHOD PATH        one line per distinct request line
 *
 * and, in the tls-* modes:
 *
 *   handshakes: N             TLS handshakes completed
 *   handshakes failed: N      connections whose handshake failed (an alert, a
 *                             client that gave up, plain text on the port)
 *   renegotiations: N         completed (tls-renegotiate)
 *   renegotiations refused: N the client answered the HelloRequest with an alert
 *                             or closed (tls-renegotiate)
 *
 * Modes (the path does not matter unless said):
 *   ok                 200, 3-byte body, keep-alive
 *   silent             reads requests, never answers
 *   stall-body         Content-Length: 100, then 10 bytes, then nothing
 *   trickle            Content-Length: 20, then one body byte a second
 *   bad-status         a malformed status line
 *   bad-chunked        chunked body with an invalid chunk size
 *   lying-length       Content-Length: 1000, 10 bytes, then close
 *   big-body           100 MiB body (Content-Length), made on the fly, keep-alive
 *   reset-mid-body     Content-Length: 1000, 100 bytes, then RST (SO_LINGER 0)
 *   close-always       200 with "Connection: close", then close
 *   close-unannounced  200 without saying so, then close
 *   redirect           /start -> 302 /step1 -> 302 /final -> 200; /loop -> 302
 *                      /loop forever; anything else 404
 *   cookies            a connection's first request without a cookie gets 200
 *                      and Set-Cookie: session=<id of the connection>; any other
 *                      request without that connection's cookie gets 401
 *   backlog            listen backlog 1; accepts only the first --accept N
 *                      (default 1) connections (served as ok), never the rest
 *   control-chars      500 with <script> and C1 escapes in the reason phrase, a
 *                      body with C0 terminal escapes (ESC, BEL) and <script>;
 *                      /redirect -> 302 to another origin with the same in the
 *                      Location; /bad-reason, /bad-header -> ESC and BEL in the
 *                      reason phrase, in a header value
 *   no-body            answers that end at their header block (RFC 9112 6.3),
 *                      keep-alive: HEAD of anything -> 200 with Content-Length:
 *                      100; /304 and /204 -> Content-Length: 100, /304-chunked
 *                      and /204-chunked -> Transfer-Encoding: chunked, no body
 *                      either way; /1xx -> 100 Continue and 103 Early Hints,
 *                      then 200 with a 3-byte body; /101 -> 101 Switching
 *                      Protocols (not asked for), then nothing; else as ok
 *   drop-second        on each connection: the first request as ok, then the
 *                      second is read in full (head and body) and the
 *                      connection closed without an answer
 *
 * TLS modes (tests/e2e/tls.sh): TLS 1.2 or 1.3 with --cert CERT --key KEY (PEM);
 * --tls12 caps the version at TLS 1.2; --client-ca CA requires a client
 * certificate that CA signed. ALPN: http/1.1 when the client offers it, never
 * h2. A stalled handshake is the plain `silent` mode (it reads the
 * ClientHello and never answers).
 *   tls-ok             200, 3-byte body, keep-alive
 *   tls-no-close-notify
 *                      200 with "Connection: close" and a body delimited by the
 *                      end of the connection (no Content-Length), then the TCP
 *                      connection closed without close_notify; /length: the
 *                      same with Content-Length: 3 (nothing is cut: a client
 *                      must accept it)
 *   tls-renegotiate    TLS 1.2 only: after reading a request, SSL_renegotiate
 *                      and SSL_do_handshake (a HelloRequest); the answer (200,
 *                      keep-alive) follows a completed renegotiation; a client
 *                      that refuses (no_renegotiation: the server ends the
 *                      connection with a fatal handshake_failure alert) or says
 *                      nothing for 3 s gets none, the connection is closed
 *   tls-huge-header    200 with a 1 MiB header block (1024 X-Filler headers of
 *                      1 KiB), then Content-Length: 3 and "ok\n", keep-alive
 *
 * Plain modes: POSIX sockets and poll(2), one thread, non-blocking sockets.
 * Bodies are written as the socket takes them; the big body is cut from one
 * static chunk. TLS modes: one thread per connection, blocking OpenSSL on the
 * accepted socket (receive timeouts of 200 ms, so that each thread sees a
 * stop in time), counts under a mutex.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode {
    M_OK, M_SILENT, M_STALL_BODY, M_TRICKLE, M_BAD_STATUS, M_BAD_CHUNKED, M_LYING_LENGTH,
    M_BIG_BODY, M_RESET_MID_BODY, M_CLOSE_ALWAYS, M_CLOSE_UNANNOUNCED, M_REDIRECT, M_COOKIES,
    M_BACKLOG, M_CONTROL_CHARS, M_NO_BODY, M_DROP_SECOND,
    M_TLS_OK, M_TLS_NO_CLOSE_NOTIFY, M_TLS_RENEGOTIATE, M_TLS_HUGE_HEADER
};
#define FIRST_TLS_MODE M_TLS_OK

static const char *const mode_names[] = {
    "ok", "silent", "stall-body", "trickle", "bad-status", "bad-chunked", "lying-length",
    "big-body", "reset-mid-body", "close-always", "close-unannounced", "redirect", "cookies",
    "backlog", "control-chars", "no-body", "drop-second",
    "tls-ok", "tls-no-close-notify", "tls-renegotiate", "tls-huge-header"
};

#define BIG_BODY_BYTES (100ull * 1024 * 1024)
#define TRICKLE_BYTES 20
#define RESET_DELAY_MS 200
#define HEAD_MAX 16384
#define PATHS_MAX 64

/* What happens once the pending output is written. */
enum after { AFTER_NEXT, AFTER_CLOSE, AFTER_RESET, AFTER_STALL, AFTER_TRICKLE };

struct conn {
    int fd;
    unsigned id;            /* 1, 2, ... in accept order */
    char in[HEAD_MAX];
    size_t in_len;
    size_t discard;         /* request body bytes still to skip */
    char *out;              /* pending response bytes */
    size_t out_len, out_off;
    uint64_t gen_left;      /* big-body bytes still to generate */
    uint64_t gen_pos;
    enum after after;
    bool busy;              /* a response is in progress: no new request parsed */
    bool stalled;           /* never answers again: input is read and dropped */
    bool served;            /* answered a request already (cookies, drop-second modes) */
    bool drop_when_read;    /* close once this request's body is read (drop-second mode) */
    int trickle_left;
    int64_t due_ms;         /* a timed action (trickle byte, reset), or 0 */
    bool closing;           /* reap at the end of this loop turn */
};

struct path_count {
    char line[128];
    unsigned long long n;
};

static volatile sig_atomic_t stop_requested;

static enum mode mode = M_OK;
static unsigned accept_limit = 1;
static unsigned long long requests_seen, connections_accepted, unauthorized, sessions_issued;
static struct path_count paths[PATHS_MAX];
static size_t n_paths;
static char big_chunk[65536];

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *what)
{
    fprintf(stderr, "faultserver: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fprintf(stderr, "faultserver: out of memory\n");
        abort();
    }
    return p;
}

static void out_append(struct conn *c, const char *s, size_t n)
{
    c->out = xrealloc(c->out, c->out_len + n);
    memcpy(c->out + c->out_len, s, n);
    c->out_len += n;
}

static void out_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct conn *c, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        fprintf(stderr, "faultserver: response head too long\n");
        abort();
    }
    out_append(c, buf, (size_t)n);
}

static void count_path(const char *method, size_t ml, const char *path, size_t pl)
{
    char line[128];
    snprintf(line, sizeof line, "%.*s %.*s", (int)(ml > 16 ? 16 : ml), method, (int)(pl > 100 ? 100 : pl), path);
    for (size_t i = 0; i < n_paths; i++)
        if (strcmp(paths[i].line, line) == 0) {
            paths[i].n++;
            return;
        }
    if (n_paths < PATHS_MAX) {
        snprintf(paths[n_paths].line, sizeof paths[n_paths].line, "%s", line);
        paths[n_paths++].n = 1;
    }
}

/* The value of header NAME in the head [h, h + n), or NULL; *len gets its length. */
static const char *header_value(const char *h, size_t n, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *end = h + n;
    const char *line = memchr(h, '\n', n);
    while (line && line + 1 < end) {
        line++;
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            break;
        if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (v < eol && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

/* Terminal escapes (clear the screen, set the title) and HTML. */
static const char control_text[] = "evil \x1b[2J\x1b]0;pwned\x07 <script>alert(1)</script>";
static const char html_text[] = "evil \xc2\x9b" "2J \x9b" "2J <script>alert(1)</script>";

/* Builds the answer to one request (the head [h, h + n)) for the mode. */
static void answer(struct conn *c, const char *h, size_t n)
{
    const char *sp1 = memchr(h, ' ', n);
    const char *path = sp1 ? sp1 + 1 : h;
    const char *sp2 = sp1 ? memchr(path, ' ', n - (size_t)(path - h)) : NULL;
    size_t path_len = sp2 ? (size_t)(sp2 - path) : 0;
    count_path(h, sp1 ? (size_t)(sp1 - h) : 0, path, path_len);
#define PATH_IS(s) (path_len == strlen(s) && memcmp(path, s, path_len) == 0)

    c->busy = true;
    c->after = AFTER_NEXT;
    switch (mode) {
    case M_OK:
    case M_BACKLOG:
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
        break;
    case M_SILENT:
        c->stalled = true;
        break;
    case M_STALL_BODY:
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        c->after = AFTER_STALL;
        break;
    case M_TRICKLE:
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", TRICKLE_BYTES);
        c->trickle_left = TRICKLE_BYTES;
        c->after = AFTER_TRICKLE;
        break;
    case M_BAD_STATUS:
        out_printf(c, "HTTP/1.1 2x0 Not A Status\r\nContent-Length: 3\r\n\r\nok\n");
        c->after = AFTER_STALL;
        break;
    case M_BAD_CHUNKED:
        out_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n");
        c->after = AFTER_STALL;
        break;
    case M_LYING_LENGTH:
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
        c->after = AFTER_CLOSE;
        break;
    case M_BIG_BODY:
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %llu\r\n\r\n",
                   (unsigned long long)BIG_BODY_BYTES);
        c->gen_left = BIG_BODY_BYTES;
        c->gen_pos = 0;
        break;
    case M_RESET_MID_BODY:
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        for (int i = 0; i < 10; i++)
            out_printf(c, "0123456789");
        c->after = AFTER_RESET;
        break;
    case M_CLOSE_ALWAYS:
        out_printf(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nok\n");
        c->after = AFTER_CLOSE;
        break;
    case M_CLOSE_UNANNOUNCED:
        out_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
        c->after = AFTER_CLOSE;
        break;
    case M_REDIRECT:
        if (PATH_IS("/start"))
            out_printf(c, "HTTP/1.1 302 Found\r\nLocation: /step1\r\nContent-Length: 0\r\n\r\n");
        else if (PATH_IS("/step1"))
            out_printf(c, "HTTP/1.1 302 Found\r\nLocation: /final\r\nContent-Length: 0\r\n\r\n");
        else if (PATH_IS("/final"))
            out_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfinal\n");
        else if (PATH_IS("/loop"))
            out_printf(c, "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n");
        else
            out_printf(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        break;
    case M_COOKIES: {
        char want[32];
        snprintf(want, sizeof want, "session=c%u", c->id);
        size_t cl;
        const char *cookie = header_value(h, n, "Cookie", &cl);
        bool has_own = false;
        if (cookie) {
            /* "a=1; session=c7; b=2": look for the exact pair. */
            size_t wl = strlen(want);
            for (const char *p = cookie; p + wl <= cookie + cl; p++)
                if (memcmp(p, want, wl) == 0 && (p == cookie || p[-1] == ' ' || p[-1] == ';') &&
                    (p + wl == cookie + cl || p[wl] == ';')) {
                    has_own = true;
                    break;
                }
        }
        if (has_own) {
            out_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
        } else if (!cookie && !c->served) {
            out_printf(c, "HTTP/1.1 200 OK\r\nSet-Cookie: %s; Path=/\r\nContent-Length: 3\r\n\r\nok\n", want);
            sessions_issued++;
        } else {
            out_printf(c, "HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nno\n");
            unauthorized++;
        }
        break;
    }
    case M_CONTROL_CHARS:
        /* Legal HTTP first: the reason phrase and header values may carry
         * obs-text (bytes 0x80-0xff, here the C1 CSI, U+009B, in UTF-8 and
         * raw) but no C0 control; the body may carry anything. */
        if (PATH_IS("/redirect"))
            out_printf(c, "HTTP/1.1 302 %s\r\nLocation: http://[::1]:1/%s\r\nContent-Length: %zu\r\n\r\n%s",
                       html_text, html_text, sizeof control_text - 1, control_text);
        else if (PATH_IS("/bad-reason")) /* C0 controls in the reason phrase: not HTTP */
            out_printf(c, "HTTP/1.1 500 %s\r\nContent-Length: %zu\r\n\r\n%s",
                       control_text, sizeof control_text - 1, control_text);
        else if (PATH_IS("/bad-header")) /* C0 controls in a header value: not HTTP */
            out_printf(c, "HTTP/1.1 500 Error\r\nX-Evil: %s\r\nContent-Length: %zu\r\n\r\n%s",
                       control_text, sizeof control_text - 1, control_text);
        else
            out_printf(c, "HTTP/1.1 500 %s\r\nContent-Type: text/html\r\nX-Evil: %s\r\n"
                       "Content-Length: %zu\r\n\r\n%s",
                       html_text, html_text, sizeof control_text - 1, control_text);
        break;
    case M_NO_BODY:
        if (sp1 && (size_t)(sp1 - h) == 4 && memcmp(h, "HEAD", 4) == 0)
            out_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n");
        else if (PATH_IS("/304"))
            out_printf(c, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 100\r\n\r\n");
        else if (PATH_IS("/304-chunked"))
            out_printf(c, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nTransfer-Encoding: chunked\r\n\r\n");
        else if (PATH_IS("/204"))
            out_printf(c, "HTTP/1.1 204 No Content\r\nContent-Length: 100\r\n\r\n");
        else if (PATH_IS("/204-chunked"))
            out_printf(c, "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n");
        else if (PATH_IS("/1xx"))
            out_printf(c, "HTTP/1.1 100 Continue\r\n\r\n"
                          "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                          "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
        else if (PATH_IS("/101")) {
            out_printf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n");
            c->after = AFTER_STALL;
        } else
            out_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
        break;
    case M_TLS_OK:
    case M_TLS_NO_CLOSE_NOTIFY:
    case M_TLS_RENEGOTIATE:
    case M_TLS_HUGE_HEADER:
        abort(); /* served by tls_main */
    case M_DROP_SECOND:
        if (!c->served) {
            out_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n");
        } else {
            c->drop_when_read = true; /* take_requests closes once the body is in */
        }
        break;
    }
    c->served = true;
#undef PATH_IS
}

/* Parses the complete request heads in the input buffer, one at a time. */
static void take_requests(struct conn *c)
{
    for (;;) {
        if (c->discard) {
            size_t d = c->discard < c->in_len ? c->discard : c->in_len;
            memmove(c->in, c->in + d, c->in_len - d);
            c->in_len -= d;
            c->discard -= d;
        }
        if (c->drop_when_read) {
            if (!c->discard)
                c->closing = true; /* read in full: close without an answer */
            return;
        }
        if (c->stalled) {
            c->in_len = 0;
            return;
        }
        if (c->busy || c->discard)
            return;
        char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end) {
            if (c->in_len == sizeof c->in)
                c->closing = true; /* a head too large for the tests' clients */
            return;
        }
        size_t head_len = (size_t)(end - c->in) + 4;
        requests_seen++;
        size_t cl_len;
        const char *cl = header_value(c->in, head_len, "Content-Length", &cl_len);
        size_t body = cl ? strtoul(cl, NULL, 10) : 0;
        answer(c, c->in, head_len);
        memmove(c->in, c->in + head_len, c->in_len - head_len);
        c->in_len -= head_len;
        c->discard = body;
    }
}

static void reset_conn(struct conn *c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    c->closing = true;
}

/* The output is written: do what the mode says comes next. */
static void response_done(struct conn *c, int64_t now)
{
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_off = 0;
    switch (c->after) {
    case AFTER_NEXT:
        c->busy = false;
        take_requests(c);
        break;
    case AFTER_CLOSE:
        c->closing = true;
        break;
    case AFTER_RESET:
        /* Later, so that the client has read the part sent: the RST, not a
         * lost segment, is what it sees. */
        c->due_ms = now + RESET_DELAY_MS;
        break;
    case AFTER_STALL:
        c->stalled = true;
        c->in_len = 0;
        break;
    case AFTER_TRICKLE:
        if (c->trickle_left > 0) {
            if (!c->due_ms)
                c->due_ms = now + 1000;
        } else {
            c->busy = false;
            c->after = AFTER_NEXT;
            take_requests(c);
        }
        break;
    }
}

static bool wants_write(const struct conn *c)
{
    return c->out_off < c->out_len || c->gen_left > 0;
}

static void on_writable(struct conn *c, int64_t now)
{
    while (wants_write(c)) {
        ssize_t w;
        if (c->out_off < c->out_len) {
            w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
            if (w > 0)
                c->out_off += (size_t)w;
        } else {
            size_t off = (size_t)(c->gen_pos % sizeof big_chunk);
            size_t len = sizeof big_chunk - off;
            if (len > c->gen_left)
                len = (size_t)c->gen_left;
            w = send(c->fd, big_chunk + off, len, MSG_NOSIGNAL);
            if (w > 0) {
                c->gen_pos += (uint64_t)w;
                c->gen_left -= (uint64_t)w;
            }
        }
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return;
            c->closing = true;
            return;
        }
    }
    if (c->busy && !c->due_ms)
        response_done(c, now);
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->in_len == sizeof c->in) {
            take_requests(c); /* may free room (or drop input, when stalled) */
            if (c->in_len == sizeof c->in || c->closing)
                return;       /* busy with a full buffer: read later */
        }
        ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
        if (r > 0) {
            c->in_len += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            c->closing = true;
        break;
    }
    take_requests(c);
}

static void on_due(struct conn *c, int64_t now)
{
    c->due_ms = 0;
    if (c->after == AFTER_RESET) {
        reset_conn(c);
    } else if (c->after == AFTER_TRICKLE && c->trickle_left > 0) {
        char byte = (char)('a' + (TRICKLE_BYTES - c->trickle_left));
        c->trickle_left--;
        out_append(c, &byte, 1);
        on_writable(c, now);
    }
}

static int listen_on(unsigned port, int backlog)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
        die("SO_REUSEADDR");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        die("bind");
    if (listen(fd, backlog) != 0)
        die("listen");
    socklen_t al = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        die("getsockname");
    printf("listening on 127.0.0.1:%u\n", ntohs(a.sin_port));
    fflush(stdout);
    return fd;
}

/* ---- TLS modes: one thread per connection, blocking OpenSSL ---------------- */

#define TLS_IO_TIMEOUT_MS 200      /* each blocking read/write wakes up this often */
#define TLS_HANDSHAKE_MAX_MS 10000 /* a handshake the client never finishes */
#define TLS_RENEG_WAIT_MS 3000     /* a client that ignores the HelloRequest */
#define TLS_WRITE_MAX_MS 10000     /* a client that stops reading */
#define HUGE_HEADER_BYTES (1024 * 1024)

static SSL_CTX *tls_ctx;
static pthread_mutex_t counts_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long handshakes, handshakes_failed, renegotiations, renegotiations_refused;
static unsigned tls_threads; /* running connection threads, under counts_lock */
static char *huge_head;      /* tls-huge-header's answer, made once */
static size_t huge_head_len;

static void count(unsigned long long *n)
{
    pthread_mutex_lock(&counts_lock);
    (*n)++;
    pthread_mutex_unlock(&counts_lock);
}

/* ALPN: http/1.1 when offered; never h2 (the NO_H2 check needs a server
 * that does not speak it). */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    static const unsigned char h1[] = "\x08http/1.1";
    unsigned char *o;
    if (SSL_select_next_proto(&o, outlen, h1, sizeof h1 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = o;
    return SSL_TLSEXT_ERR_OK;
}

static void tls_die(const char *what)
{
    fprintf(stderr, "faultserver: %s:\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static void tls_setup(const char *cert, const char *key, const char *client_ca, bool tls12)
{
    tls_ctx = SSL_CTX_new(TLS_server_method());
    if (!tls_ctx)
        tls_die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_2_VERSION);
    if (tls12 || mode == M_TLS_RENEGOTIATE)
        SSL_CTX_set_max_proto_version(tls_ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(tls_ctx, cert) != 1)
        tls_die(cert);
    if (SSL_CTX_use_PrivateKey_file(tls_ctx, key, SSL_FILETYPE_PEM) != 1)
        tls_die(key);
    if (client_ca) {
        if (SSL_CTX_load_verify_locations(tls_ctx, client_ca, NULL) != 1)
            tls_die(client_ca);
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (!names)
            tls_die(client_ca);
        SSL_CTX_set_client_CA_list(tls_ctx, names);
        SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    /* Resumption with client certificates needs a session id context. */
    SSL_CTX_set_session_id_context(tls_ctx, (const unsigned char *)"faultserver", 11);
    SSL_CTX_set_alpn_select_cb(tls_ctx, alpn_select, NULL);
    if (mode == M_TLS_HUGE_HEADER) {
        /* "X-Filler-NNNN: " + 1006 x's + CRLF = 1024 bytes, 1024 times. */
        static const char start[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
        static const char end[] = "Content-Length: 3\r\n\r\nok\n";
        huge_head_len = sizeof start - 1 + HUGE_HEADER_BYTES + sizeof end - 1;
        huge_head = xrealloc(NULL, huge_head_len + 1);
        char *p = huge_head;
        memcpy(p, start, sizeof start - 1);
        p += sizeof start - 1;
        for (int i = 0; i < HUGE_HEADER_BYTES / 1024; i++) {
            int n = sprintf(p, "X-Filler-%04d: ", i);
            memset(p + n, 'x', (size_t)(1024 - 2 - n));
            memcpy(p + 1022, "\r\n", 2);
            p += 1024;
        }
        memcpy(p, end, sizeof end);
    }
}

/* Whether an SSL call that returned r should simply be tried again (the
 * receive timeout fired) before the deadline. */
static bool tls_retry(SSL *ssl, int r, int64_t deadline)
{
    int e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return false;
    return !stop_requested && now_ms() < deadline;
}

/* Writes all of [p, p + n): false when the client is gone or stopped reading. */
static bool tls_write_all(SSL *ssl, const char *p, size_t n)
{
    int64_t deadline = now_ms() + TLS_WRITE_MAX_MS;
    while (n > 0) {
        int chunk = n > 65536 ? 65536 : (int)n;
        int w = SSL_write(ssl, p, chunk);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (!tls_retry(ssl, w, deadline)) {
            return false;
        }
    }
    return true;
}

/* Reads one request head into buf (NUL-terminated; any body is skipped):
 * its length, or 0 when the connection ended or failed. */
static size_t tls_read_request(SSL *ssl, char *buf, size_t cap, size_t *have)
{
    for (;;) {
        buf[*have] = '\0';
        char *end = memmem(buf, *have, "\r\n\r\n", 4);
        if (end) {
            size_t head_len = (size_t)(end - buf) + 4;
            size_t cl_len;
            const char *cl = header_value(buf, head_len, "Content-Length", &cl_len);
            size_t body = cl ? strtoul(cl, NULL, 10) : 0;
            /* The body follows the head; the tests send none, or a small one. */
            while (*have < head_len + body && *have < cap) {
                int r = SSL_read(ssl, buf + *have, (int)(cap - *have));
                if (r > 0)
                    *have += (size_t)r;
                else if (!tls_retry(ssl, r, INT64_MAX))
                    return 0;
            }
            return head_len;
        }
        if (*have == cap)
            return 0; /* a head too large for the tests' clients */
        int r = SSL_read(ssl, buf + *have, (int)(cap - *have));
        if (r > 0)
            *have += (size_t)r;
        else if (!tls_retry(ssl, r, INT64_MAX))
            return 0;
    }
}

/* Drops what was consumed (head + body) from the front of buf. */
static void tls_consume(char *buf, size_t *have, size_t head_len)
{
    size_t cl_len, body = 0;
    const char *cl = header_value(buf, head_len, "Content-Length", &cl_len);
    if (cl)
        body = strtoul(cl, NULL, 10);
    size_t used = head_len + body > *have ? *have : head_len + body;
    memmove(buf, buf + used, *have - used);
    *have -= used;
}

/* The HelloRequest, then the client's answer: true once it renegotiated. */
static bool tls_renegotiate(SSL *ssl)
{
    if (SSL_renegotiate(ssl) != 1 || SSL_do_handshake(ssl) != 1) {
        count(&renegotiations_refused);
        return false;
    }
    /* The server's part of the new handshake runs inside SSL_read; the
     * client sends no application data until it has its answer, so a read
     * that times out with nothing pending means the handshake is done. */
    int64_t deadline = now_ms() + TLS_RENEG_WAIT_MS;
    char scratch[256];
    /* Short reads meanwhile: the end of the handshake is seen at once. */
    int fd = SSL_get_fd(ssl);
    struct timeval quick = {.tv_sec = 0, .tv_usec = 5000};
    struct timeval normal = {.tv_sec = 0, .tv_usec = TLS_IO_TIMEOUT_MS * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &quick, sizeof quick);
    for (;;) {
        int r = SSL_read(ssl, scratch, sizeof scratch);
        if (r > 0)
            continue; /* pipelined bytes: not expected, dropped */
        if (!SSL_renegotiate_pending(ssl)) {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &normal, sizeof normal);
            count(&renegotiations);
            return true;
        }
        if (!tls_retry(ssl, r, deadline)) {
            count(&renegotiations_refused);
            return false;
        }
    }
}

static void *tls_conn_main(void *arg)
{
    int fd = (int)(intptr_t)arg;
    struct timeval tv = {.tv_sec = 0, .tv_usec = TLS_IO_TIMEOUT_MS * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *ssl = SSL_new(tls_ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1)
        abort();
    int64_t deadline = now_ms() + TLS_HANDSHAKE_MAX_MS;
    int r;
    while ((r = SSL_accept(ssl)) != 1)
        if (!tls_retry(ssl, r, deadline))
            break;
    ERR_clear_error();
    if (r != 1) {
        count(&handshakes_failed);
        /* The alert OpenSSL sent, then a FIN; what the client sent is read
         * (for up to 1 s) before the close, so that no RST overtakes the
         * alert. */
        shutdown(fd, SHUT_WR);
        char drain[4096];
        for (int i = 0; i < 5 && !stop_requested; i++) {
            ssize_t d = recv(fd, drain, sizeof drain, 0);
            if (d == 0 || (d < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
                break;
        }
        goto out;
    }
    count(&handshakes);

    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
    char buf[HEAD_MAX + 1];
    size_t have = 0, head_len;
    while (!stop_requested && (head_len = tls_read_request(ssl, buf, HEAD_MAX, &have)) > 0) {
        const char *sp1 = memchr(buf, ' ', head_len);
        const char *path = sp1 ? sp1 + 1 : buf;
        const char *sp2 = sp1 ? memchr(path, ' ', head_len - (size_t)(path - buf)) : NULL;
        size_t path_len = sp2 ? (size_t)(sp2 - path) : 0;
        pthread_mutex_lock(&counts_lock);
        requests_seen++;
        count_path(buf, sp1 ? (size_t)(sp1 - buf) : 0, path, path_len);
        pthread_mutex_unlock(&counts_lock);
        bool length = path_len == 7 && memcmp(path, "/length", 7) == 0;
        tls_consume(buf, &have, head_len);
        switch (mode) {
        case M_TLS_NO_CLOSE_NOTIFY: {
            static const char by_close[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                           "Connection: close\r\n\r\nthe body ends with the connection\n";
            static const char with_length[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                              "Connection: close\r\nContent-Length: 3\r\n\r\nok\n";
            if (length)
                tls_write_all(ssl, with_length, sizeof with_length - 1);
            else
                tls_write_all(ssl, by_close, sizeof by_close - 1);
            /* Let the client read it all before the FIN: no close_notify, a
             * plain close (no RST from unread input). */
            shutdown(fd, SHUT_WR);
            goto out;
        }
        case M_TLS_RENEGOTIATE:
            if (!tls_renegotiate(ssl))
                goto out;
            if (!tls_write_all(ssl, ok, sizeof ok - 1))
                goto out;
            break;
        case M_TLS_HUGE_HEADER:
            if (!tls_write_all(ssl, huge_head, huge_head_len))
                goto out;
            break;
        default:
            if (!tls_write_all(ssl, ok, sizeof ok - 1))
                goto out;
            break;
        }
    }
    /* The client closed, or the run stops: a polite close. */
    if (!stop_requested && mode != M_TLS_NO_CLOSE_NOTIFY)
        SSL_shutdown(ssl);
out:
    ERR_clear_error();
    SSL_free(ssl);
    close(fd);
    pthread_mutex_lock(&counts_lock);
    tls_threads--;
    pthread_mutex_unlock(&counts_lock);
    OPENSSL_thread_stop();
    return NULL;
}

static void tls_report(void)
{
    pthread_mutex_lock(&counts_lock);
    printf("requests seen: %llu\n", requests_seen);
    printf("connections accepted: %llu\n", connections_accepted);
    printf("handshakes: %llu\n", handshakes);
    printf("handshakes failed: %llu\n", handshakes_failed);
    printf("renegotiations: %llu\n", renegotiations);
    printf("renegotiations refused: %llu\n", renegotiations_refused);
    for (size_t i = 0; i < n_paths; i++)
        printf("seen %llu %s\n", paths[i].n, paths[i].line);
    pthread_mutex_unlock(&counts_lock);
}

/* The accept loop of the TLS modes; returns at SIGTERM once every
 * connection's thread has ended (they see the stop within 200 ms). */
static int tls_main(int lfd)
{
    /* Only this thread takes SIGTERM and SIGINT. */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (!stop_requested) {
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        int rc = poll(&p, 1, 200);
        if (rc < 0 && errno != EINTR)
            die("poll");
        if (rc <= 0)
            continue;
        for (;;) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC); /* blocking */
            if (fd < 0)
                break;
            pthread_mutex_lock(&counts_lock);
            connections_accepted++;
            tls_threads++;
            pthread_mutex_unlock(&counts_lock);
            pthread_t t;
            pthread_sigmask(SIG_BLOCK, &block, &old);
            int e = pthread_create(&t, &attr, tls_conn_main, (void *)(intptr_t)fd);
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            if (e != 0) {
                errno = e;
                die("pthread_create");
            }
        }
    }
    pthread_attr_destroy(&attr);
    /* Each thread notices within its I/O timeout; a write to a client that
     * stopped reading may take TLS_IO_TIMEOUT_MS more. */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&counts_lock);
        unsigned left = tls_threads;
        pthread_mutex_unlock(&counts_lock);
        if (!left)
            break;
        usleep(20000);
    }
    close(lfd);
    tls_report();
    SSL_CTX_free(tls_ctx);
    free(huge_head);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: faultserver [--port N] --mode MODE [--accept N]\n"
                    "       faultserver [--port N] --mode tls-MODE --cert CERT --key KEY [--client-ca CA] [--tls12]\n"
                    "modes:");
    for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
        fprintf(stderr, " %s", mode_names[i]);
    fprintf(stderr, "\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned port = 0;
    bool have_mode = false, tls12 = false;
    const char *cert = NULL, *key = NULL, *client_ca = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--accept") == 0 && i + 1 < argc) {
            accept_limit = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc) {
            cert = argv[++i];
        } else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc) {
            key = argv[++i];
        } else if (strcmp(argv[i], "--client-ca") == 0 && i + 1 < argc) {
            client_ca = argv[++i];
        } else if (strcmp(argv[i], "--tls12") == 0) {
            tls12 = true;
        } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            size_t k;
            for (k = 0; k < sizeof mode_names / sizeof mode_names[0]; k++)
                if (strcmp(m, mode_names[k]) == 0)
                    break;
            if (k == sizeof mode_names / sizeof mode_names[0])
                usage();
            mode = (enum mode)k;
            have_mode = true;
        } else {
            usage();
        }
    }
    if (!have_mode || port > 65535)
        usage();
    bool tls = mode >= FIRST_TLS_MODE;
    if (tls != (cert && key) || (!tls && (client_ca || tls12)))
        usage(); /* the tls-* modes, and only they, take --cert and --key */
    if (tls)
        tls_setup(cert, key, client_ca, tls12);

    for (size_t i = 0; i < sizeof big_chunk; i++)
        big_chunk[i] = "abcdefghijklmnopqrstuvwxyz012345"[i % 32];

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = listen_on(port, mode == M_BACKLOG ? 1 : 128);
    if (tls)
        return tls_main(lfd);

    struct conn **conns = NULL;
    size_t n_conns = 0, cap = 0;
    struct pollfd *pfds = NULL;
    unsigned next_id = 1;

    while (!stop_requested) {
        int64_t now = now_ms();
        bool listening = mode != M_BACKLOG || connections_accepted < accept_limit;
        size_t np = 0;
        pfds = xrealloc(pfds, (n_conns + 1) * sizeof *pfds);
        if (listening)
            pfds[np++] = (struct pollfd){.fd = lfd, .events = POLLIN};
        size_t first_conn = np;
        /* 200 ms at most: the stop flag is checked at least that often. */
        int64_t timeout = 200;
        for (size_t i = 0; i < n_conns; i++) {
            struct conn *c = conns[i];
            short ev = (short)(c->in_len < sizeof c->in || c->stalled ? POLLIN : 0);
            if (wants_write(c))
                ev |= POLLOUT;
            pfds[np++] = (struct pollfd){.fd = c->fd, .events = ev};
            if (c->due_ms) {
                int64_t left = c->due_ms - now;
                if (left < timeout)
                    timeout = left < 0 ? 0 : left;
            }
        }
        int rc = poll(pfds, np, (int)timeout);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        now = now_ms();
        for (size_t i = 0; i < n_conns; i++) {
            struct conn *c = conns[i];
            short re = pfds[first_conn + i].revents;
            if (re & (POLLIN | POLLHUP | POLLERR))
                on_readable(c);
            if (!c->closing && (re & POLLOUT))
                on_writable(c, now);
            if (!c->closing && c->due_ms && c->due_ms <= now)
                on_due(c, now);
        }
        /* Reap, then accept: new connections join the next turn. */
        size_t kept = 0;
        for (size_t i = 0; i < n_conns; i++) {
            struct conn *c = conns[i];
            if (c->closing) {
                close(c->fd);
                free(c->out);
                free(c);
            } else {
                conns[kept++] = c;
            }
        }
        n_conns = kept;
        if (listening && (pfds[0].revents & POLLIN)) {
            for (;;) {
                if (mode == M_BACKLOG && connections_accepted >= accept_limit)
                    break;
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0)
                    break;
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct conn *c = calloc(1, sizeof *c);
                if (!c)
                    abort();
                c->fd = fd;
                c->id = next_id++;
                connections_accepted++;
                if (n_conns == cap) {
                    cap = cap ? cap * 2 : 64;
                    conns = xrealloc(conns, cap * sizeof *conns);
                }
                conns[n_conns++] = c;
            }
        }
    }

    for (size_t i = 0; i < n_conns; i++) {
        close(conns[i]->fd);
        free(conns[i]->out);
        free(conns[i]);
    }
    free(conns);
    free(pfds);
    close(lfd);
    printf("requests seen: %llu\n", requests_seen);
    printf("connections accepted: %llu\n", connections_accepted);
    printf("unauthorized: %llu\n", unauthorized);
    printf("sessions issued: %llu\n", sessions_issued);
    for (size_t i = 0; i < n_paths; i++)
        printf("seen %llu %s\n", paths[i].n, paths[i].line);
    return 0;
}

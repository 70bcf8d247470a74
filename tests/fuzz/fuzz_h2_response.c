/* fuzz_h2_response: what the native HTTP/2 client (src/http/h2_conn.c) does
 * with whatever bytes a server sends: nghttp2's client session with h2's
 * own callbacks, the marks they leave and after_input acting on them (the
 * response's end, a redirect followed as a new stream, RST_STREAM, GOAWAY,
 * the header-block bound), the Set-Cookie headers into the user's jar, kept
 * headers, and the connection's end.
 *
 * The functions are static, so this file includes h2_conn.c. The connection
 * is real but its peer is not a server: the client's socket is one end of a
 * socketpair (uv_tcp_open), so the preface, SETTINGS, the request and
 * whatever the client answers (SETTINGS ACK, WINDOW_UPDATE, RST_STREAM,
 * GOAWAY) are written for real and read back and dropped; the input is
 * handed to the same function on_read calls, in reads of a chosen size;
 * the end of the input is the server closing the connection. A request
 * that must go on a new connection (a GOAWAY that did not process it, a
 * retry) is abandoned there: the client would connect to 127.0.0.1:1.
 * Plain h2c only: TLS has its own parser (OpenSSL).
 *
 * Input: byte 0 picks the method (bits 0-1: GET, POST, HEAD, PUT), the size
 * of each read (bits 2-4: everything at once, 1, 2, 3, 7, 16, 64 or 512
 * bytes), whether the request keeps headers (bit 5) and whether it carries a
 * fill (bit 6: another target, a header, a body); the rest is the server's
 * bytes, from its SETTINGS on (the seeds were made by libnghttp2's server).
 *
 * Promises checked: at most one on_done per send, and exactly one unless
 * the request is waiting for a new connection; a success has a status of
 * 200..999 and counts every body byte on_body was given; an error has a
 * known kind, the HTTP/2 kinds and a cross-origin redirect carry a detail,
 * and its text is a NUL-terminated line; on_header's "new response" comes
 * before any header and names are lowercase, without ':'; a response's
 * header bytes stay within H2_MAX_HEADER_LIST (plus one field); a followed
 * redirect's path is origin-form; the jar stays bounded; the failure
 * detail is CRLF lines of "name: value". */
#include "../../src/http/h2_conn.c"

#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

static const size_t read_sizes[8] = {0, 1, 2, 3, 7, 16, 64, 512};
static const char *const methods[4] = {"GET", "POST", "HEAD", "PUT"};

typedef struct {
    int done;
    bool waiting;            /* on_done not yet come */
    bool in_response;        /* on_header said a response began */
    uint64_t body_seen;
    bool closed;
} watch_t;

static uv_loop_t loop;
static h2_origin_t origin;
static h2_request_t reqs[4];

static void fz_body(void *u, const char *d, size_t n)
{
    watch_t *w = u;
    (void)d;
    w->body_seen += n;
}

static void fz_header(void *u, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    watch_t *w = u;
    (void)value;
    (void)value_len;
    if (!name) {
        w->in_response = true;
        return;
    }
    FUZZ_CHECK(w->in_response);
    FUZZ_CHECK(name_len > 0 && name_len <= HDR_NAME_MAX && name[0] != ':');
    for (size_t i = 0; i < name_len; i++)
        FUZZ_CHECK(!(name[i] >= 'A' && name[i] <= 'Z'));
}

static void check_sent(const http_result_t *r)
{
    if (!r->sent)
        return;
    const char *p = r->sent, *end = r->sent + r->sent_len;
    FUZZ_CHECK(r->sent_len >= 2 && end[-2] == '\r' && end[-1] == '\n');
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        FUZZ_CHECK(eol && eol > p && eol[-1] == '\r');
        FUZZ_CHECK(memchr(p, ':', (size_t)(eol - p)) != NULL);
        p = eol + 1;
    }
}

static void fz_done(void *u, const http_result_t *r)
{
    watch_t *w = u;
    FUZZ_CHECK(w->waiting);
    w->waiting = false;
    w->done++;
    char text[256];
    const char *t = http_error_text(r, text, sizeof text);
    if (r->error == HTTP_OK) {
        FUZZ_CHECK(t == NULL);
        FUZZ_CHECK(r->status >= 200 && r->status <= 999);
        FUZZ_CHECK(r->body_bytes == w->body_seen);
    } else {
        FUZZ_CHECK(t != NULL && memchr(t, '\0', 256) != NULL);
        switch (r->error) {
        case HTTP_E_STREAM_RESET:
        case HTTP_E_GOAWAY:
        case HTTP_E_CROSS_ORIGIN:
            FUZZ_CHECK(r->detail != NULL);
            break;
        case HTTP_E_MALFORMED:
        case HTTP_E_TOO_MANY_REDIRECTS:
        case HTTP_E_NO_RESPONSE:
        case HTTP_E_MID_BODY:
        case HTTP_E_RESET:
        case HTTP_E_RECV:
        case HTTP_E_SEND:
        case HTTP_E_CLOSED_SENDING:
        case HTTP_E_CONNECT:
        case HTTP_E_CONNECT_REFUSED:
        case HTTP_E_OTHER:
            break;
        default:
            fprintf(stderr, "unexpected kind %d\n", (int)r->error);
            FUZZ_CHECK(0);
        }
    }
    FUZZ_CHECK(r->url_origin != NULL && r->url != NULL && r->url[0] == '/');
    check_sent(r);
}

static void fz_closed(h2_conn_t *c)
{
    ((watch_t *)c->user)->closed = true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    http_client_config_t cfg = {.loop = &loop, .host = "http://127.0.0.1:1",
                                .failure_detail = true};
    char err[256];
    if (h2_origin_init(&origin, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "origin: %s\n", err);
        abort();
    }
    for (int i = 0; i < 4; i++) {
        const char *body = i == 1 || i == 3 ? "a=1&b=2" : NULL;
        if (h1_request_prepare(&reqs[i].h1, &origin.h1, methods[i], "/dir/page?q=1", NULL, 0,
                               NULL, 0, body, body ? strlen(body) : 0, 0, "fuzz", err,
                               sizeof err) != 0)
            abort();
        h2_request_init_nv(&reqs[i], &origin);
    }
    return 0;
}

/* Reads and drops what the client wrote (nonblocking). */
static void drain(int fd)
{
    char buf[65536];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opts = data[0];
    data++;
    size--;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
        return 0;
    watch_t w = {0};
    h2_conn_t c;
    h2_conn_init(&c, &origin, fz_body, fz_done, &w);
    c.on_header = fz_header;
    const h2_request_t *r = &reqs[opts & 3];
    bool keep = (opts >> 5) & 1;
    ((h2_request_t *)r)->h1.keep_headers = keep;

    /* A socket of our own instead of a connect: what connect_start sets up,
     * then the request waits for on_connect as on a connect in progress. */
    uv_tcp_init(&loop, &c.tcp);
    if (uv_tcp_open(&c.tcp, fds[0]) != 0)
        abort();
    c.tcp.data = &c;
    c.open_handles++;
    c.state = H2_CONNECTING;
    char target[] = "/other/x?y=2";
    char headers[] = "X-Fill: 1\r\n";
    char body[] = "{\"k\":1}";
    http_fill_t fill = {.target = target, .target_len = strlen(target), .headers = headers,
                        .headers_len = strlen(headers), .body = body, .body_len = strlen(body),
                        .has_body = true};
    w.waiting = true;
    h2_send(&c, r, (opts >> 6) & 1 ? &fill : NULL);
    on_connect(&c.connect_req, 0);
    drain(fds[1]);

    size_t step = read_sizes[(opts >> 2) & 7];
    for (size_t off = 0; off < size && attached(&c);) {
        size_t n = step && step < size - off ? step : size - off;
        input(&c, (const char *)data + off, n);
        off += n;
        drain(fds[1]);
        FUZZ_CHECK(c.header_bytes <= H2_MAX_HEADER_LIST + 32 + 2 * 65536);
        FUZZ_CHECK(c.cookies.n <= COOKIES_MAX);
        FUZZ_CHECK(c.redirects <= HOPPER_MAX_REDIRECTS);
        if (c.redirect_path) {
            FUZZ_CHECK(c.redirect_path[0] == '/');
            FUZZ_CHECK(strchr(c.redirect_path, '#') == NULL);
            FUZZ_CHECK(!fuzz_has_wire_unsafe(c.redirect_path, strlen(c.redirect_path)));
        }
    }
    if (attached(&c))
        connection_lost(&c, UV_EOF);
    /* Errors reported from the timer (fail_later) come on the next turn. */
    uv_run(&loop, UV_RUN_NOWAIT);
    FUZZ_CHECK(w.done <= 1);
    FUZZ_CHECK(w.done == 1 || c.req != NULL);
    h2_conn_close(&c, fz_closed);
    while (!w.closed)
        uv_run(&loop, UV_RUN_ONCE);
    close(fds[1]);
    return 0;
}

/* fuzz_response: what the native HTTP/1.1 client (src/http/h1_conn.c) does with the
 * text of a server's answer, without a socket: http-parser with h1's own
 * callbacks, the Set-Cookie headers into the user's cookie jar, and the
 * Location of a redirect resolved against the current path and turned into
 * the next request (a chain of at most HOPPER_MAX_REDIRECTS).
 *
 * Those functions are static in h1_conn.c, so this file includes it; the
 * socket and timer paths are compiled but never called. The Location is
 * resolved by url_resolve_reference (src/util/url.c), the request built by
 * h1_request.c, the error text made by http_error_text (src/http/errors.c).
 *
 * Input: byte 0 picks the method (bits 0-1), the size of each simulated read
 * (bits 2-4: everything at once, 1, 2, 3, 7, 16, 64 or 512 bytes) and the
 * origin (bits 5-6); then the request target up to the first newline; then
 * the bytes the server sends. Each read goes to the parser as on_read hands
 * it over. A redirect makes the next request, and whatever followed the
 * redirect in its read is taken as the start of the next answer (h1 itself
 * drops it, but then a chain of redirects could only be reached with reads
 * that end exactly at each answer's end); any other answer, or a malformed
 * one, ends the exchange. The end of the input is the server closing the
 * connection.
 *
 * Promises checked: a resolved Location is an origin-form path (starts with
 * '/', no fragment, nothing that may not go on a request line, no "." or
 * ".." segment left), or NULL with a "redirect to another origin" error;
 * the redirect's request line is "METHOD SP PATH SP HTTP/1.1 CRLF" and a
 * 301/302/303 drops the body's framing headers; the Cookie header built for
 * the next request is one well-formed line; the jar stays bounded. */
#include "../../src/http/h1_conn.c"

#include "fuzz.h"

static const size_t read_sizes[8] = {0, 1, 2, 3, 7, 16, 64, 512};
static char *const origins[4] = {"http://127.0.0.1:8082", "http://localhost", "http://[::1]:8080",
                                  "http://Example.TEST:80"};
static const char *const methods[4] = {"GET", "POST", "HEAD", "PUT"};

static bool is_dot_segment(const char *seg, size_t n)
{
    return (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.');
}

static void check_path(const char *path)
{
    FUZZ_CHECK(path[0] == '/');
    FUZZ_CHECK(strchr(path, '#') == NULL);
    for (const char *p = path; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        FUZZ_CHECK(ch > 0x20 && ch < 0x7f && strchr("\"<>\\^`{|}", ch) == NULL);
    }
    size_t plen = strcspn(path, "?");
    for (size_t i = 0; i < plen;) {
        size_t j = i + 1;
        while (j < plen && path[j] != '/')
            j++;
        if (is_dot_segment(path + i + 1, j - i - 1))
            fprintf(stderr, "dot segment left in \"%s\"\n", path);
        FUZZ_CHECK(!is_dot_segment(path + i + 1, j - i - 1));
        i = j;
    }
}

static bool contains(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    for (size_t i = 0; i + l <= n; i++)
        if (strncasecmp(s + i, lit, l) == 0)
            return true;
    return false;
}

static void check_redirect_head(const h1_conn_t *c)
{
    const char *h = c->redirect_head;
    size_t len = c->redirect_head_len;
    const char *nl = memchr(h, '\n', len);
    FUZZ_CHECK(nl != NULL && nl > h && nl[-1] == '\r');
    size_t line = (size_t)(nl - h) + 1;
    const char *method = (c->flags & F_NO_BODY) ? (c->req->is_head ? "HEAD" : "GET") : c->req->method;
    size_t ml = strlen(method), pl = strlen(c->redirect_path);
    FUZZ_CHECK(line == ml + 1 + pl + sizeof " HTTP/1.1\r\n" - 1);
    FUZZ_CHECK(memcmp(h, method, ml) == 0 && h[ml] == ' ');
    FUZZ_CHECK(memcmp(h + ml + 1, c->redirect_path, pl) == 0);
    FUZZ_CHECK(memcmp(h + ml + 1 + pl, " HTTP/1.1\r\n", 11) == 0);
    /* The head goes on with the blank line (and any body) in one block. */
    FUZZ_CHECK(memcmp(h + len, "\r\n", 2) == 0);
    FUZZ_CHECK(len >= 2 && memcmp(h + len - 2, "\r\n", 2) == 0);
    if (c->flags & F_NO_BODY) {
        /* In the header lines, not the path: a Location may say anything. */
        FUZZ_CHECK(!contains(h + line - 1, len - line + 1, "\nContent-Length:"));
        FUZZ_CHECK(!contains(h + line - 1, len - line + 1, "\nContent-Type:"));
    }
}

static void check_cookie_header(h1_conn_t *c)
{
    FUZZ_CHECK(c->cookies.n <= COOKIES_MAX);
    if (c->cookies.n == 0)
        return;
    size_t n = cookie_header(c);
    FUZZ_CHECK(n <= c->cookie_cap);
    if (n == 0)
        return;
    FUZZ_CHECK(n >= 10 && memcmp(c->cookie_buf, "Cookie: ", 8) == 0);
    FUZZ_CHECK(memcmp(c->cookie_buf + n - 2, "\r\n", 2) == 0);
    for (size_t i = 0; i + 2 < n; i++)
        FUZZ_CHECK(c->cookie_buf[i] != '\r' && c->cookie_buf[i] != '\n' && c->cookie_buf[i] != '\0');
}

/* What write_request does before a request goes out, minus the socket. */
static void start_request(h1_conn_t *c)
{
    clear_bits(c, F_ATTEMPT);
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    check_cookie_header(c);
}

/* response_done without the socket: false when the exchange is over. */
static bool response_finished(h1_conn_t *c)
{
    FUZZ_CHECK(c->redirects <= HOPPER_MAX_REDIRECTS);
    if (c->answer != H1_ANSWER_FOLLOW)
        return false; /* a final answer, or too many redirects */
    FUZZ_CHECK(c->location != NULL);
    char err[160];
    memset(err, 0, sizeof err);
    char *path = resolve_location(c);
    if (path == NULL) {
        http_result_t r = {.error = HTTP_E_CROSS_ORIGIN, .detail = c->location};
        FUZZ_CHECK(http_error_text(&r, err, sizeof err) == err);
        FUZZ_CHECK(strncmp(err, "redirect to another origin (", 28) == 0);
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        return false;
    }
    check_path(path);
    unsigned status = c->parser.status_code;
    if (status == 301 || status == 302 || status == 303)
        c->flags |= F_NO_BODY;
    build_redirect(c, path);
    check_redirect_head(c);
    free(c->location);
    c->location = NULL;
    c->redirects++;
    start_request(c);
    return true;
}

/* One read's worth of bytes, as parse() handles it; false when the exchange
 * is over. */
static bool feed(h1_conn_t *c, const char *data, size_t n)
{
    c->flags |= F_GOT_BYTES;
    size_t done = 0;
    for (;;) {
        size_t used = http_parser_execute(&c->parser, &parser_settings, data + done, n - done);
        FUZZ_CHECK(used <= n - done);
        FUZZ_CHECK(c->hdr_val_len <= HDR_VAL_MAX);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
        if (e != HPE_PAUSED)
            return e == HPE_OK;
        http_parser_pause(&c->parser, 0);
        if (!response_finished(c))
            return false;
        done += used;
        if (done == n)
            return true;
        c->flags |= F_GOT_BYTES;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    data++;
    size--;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t target_len = nl ? (size_t)(nl - data) : size;
    char *raw_target = fuzz_cstr(data, target_len);
    data += nl ? target_len + 1 : size;
    size -= nl ? target_len + 1 : size;

    h1_origin_t origin;
    memset(&origin, 0, sizeof origin);
    origin.origin_url = origins[(flags >> 5) & 3];
    origin.origin_host = origin.origin_url + strlen("http://");

    /* The target as the engine hands it over: percent-encoded. */
    bool usable = raw_target[0] == '/' || url_is_absolute(raw_target);
    char *target = url_encode_path(usable ? raw_target : "/");
    h1_request_t req;
    char err[256];
    static const char body[] = "a=1&b=2";
    const char *method = methods[flags & 3];
    if (h1_request_prepare(&req, &origin, method, target, NULL, 0, NULL, 0,
                           strcmp(method, "POST") == 0 ? body : NULL, sizeof body - 1, 0,
                           "hopper-fuzz", err, sizeof err) != 0)
        FUZZ_CHECK(h1_request_prepare(&req, &origin, method, "/", NULL, 0, NULL, 0, NULL, 0, 0,
                                      NULL, err, sizeof err) == 0);

    h1_conn_t c;
    memset(&c, 0, sizeof c);
    c.origin = &origin;
    c.state = H1_OPEN;
    c.req = &req;
    cookie_jar_init(&c.cookies);
    start_request(&c);

    size_t step = read_sizes[(flags >> 2) & 7];
    size_t pos = 0;
    bool going = true;
    while (going && pos < size) {
        size_t n = step == 0 || step > size - pos ? size - pos : step;
        /* Each read in its own exact-size buffer, as ASan should see it. */
        char *chunk = malloc(n);
        FUZZ_CHECK(chunk != NULL);
        memcpy(chunk, data + pos, n);
        going = feed(&c, chunk, n);
        free(chunk);
        pos += n;
    }
    if (going && (c.flags & F_GOT_BYTES)) {
        /* The server closes: a body without a length ends here (on_eof). */
        http_parser_execute(&c.parser, &parser_settings, NULL, 0);
        if (HTTP_PARSER_ERRNO(&c.parser) == HPE_PAUSED) {
            http_parser_pause(&c.parser, 0);
            response_finished(&c);
        }
    }
    check_cookie_header(&c);

    free(c.hdr_val);
    free(c.cookie_buf);
    free_redirect(&c);
    cookie_jar_free(&c.cookies);
    h1_request_free(&req);
    free(target);
    free(raw_target);
    return 0;
}

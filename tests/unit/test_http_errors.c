/* test_http_errors: the one table of error texts (http/errors.h) for every
 * kind, byte for byte what users have always seen; the kinds both clients
 * give to hopper's own shortages (EMFILE, ENFILE -> out of file descriptors,
 * EADDRNOTAVAIL -> out of local ports): libcurl's through its pure mapping,
 * the native client's on real sockets. */
#include "check.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

#include "http/curl_client.h"
#include "http/errors.h"
#include "http/srcaddr.h"
#include "../../src/http/h1_internal.h"

static const char *text_of(http_error_t kind, int sys_errno, char *buf, size_t len)
{
    http_result_t r = {.error = kind, .sys_errno = sys_errno, .timeout_us = 300000};
    return http_error_text(&r, buf, len);
}

TEST(every_kind_has_its_text)
{
    static const struct {
        http_error_t kind;
        int sys_errno;
        const char *text;
    } want[] = {
        {HTTP_E_CONNECT_REFUSED, ECONNREFUSED, "connection refused"},
        {HTTP_E_CONNECT, EHOSTUNREACH, "cannot connect: No route to host"},
        {HTTP_E_CONNECT, 0, "cannot connect"},
        {HTTP_E_OUT_OF_FDS, EMFILE, "cannot connect: Too many open files"},
        {HTTP_E_OUT_OF_FDS, ENFILE, "cannot connect: Too many open files in system"},
        {HTTP_E_OUT_OF_PORTS, EADDRNOTAVAIL, "cannot connect: Cannot assign requested address"},
        {HTTP_E_RESOLVE, 0, "cannot resolve host"},
        {HTTP_E_TIMEOUT, 0, "timeout after 300ms"},
        {HTTP_E_RESET, ECONNRESET, "connection reset"},
        {HTTP_E_NO_RESPONSE, 0, "connection closed without a response"},
        {HTTP_E_MID_BODY, 0, "connection closed mid-body"},
        {HTTP_E_CLOSED_SENDING, EPIPE, "connection closed while sending"},
        {HTTP_E_SEND, ENOBUFS, "send error: No buffer space available"},
        {HTTP_E_SEND, 0, "send error"},
        {HTTP_E_RECV, EIO, "receive error: Input/output error"},
        {HTTP_E_RECV, 0, "receive error"},
        {HTTP_E_MALFORMED, 0, "malformed response"},
        {HTTP_E_TLS_UNTRUSTED, 0, "TLS certificate not trusted (--insecure skips the check)"},
        {HTTP_E_TLS_HANDSHAKE, 0, "TLS handshake failed"},
        {HTTP_E_TOO_MANY_REDIRECTS, 0, "too many redirects"},
        {HTTP_E_CANNOT_CREATE, 0, "cannot create request"},
    };
    char buf[256];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_STR(text_of(want[i].kind, want[i].sys_errno, buf, sizeof buf), want[i].text);
    CHECK(text_of(HTTP_OK, 0, buf, sizeof buf) == NULL);

    /* The timeout is the request's, as duration_format writes it. */
    http_result_t r = {.error = HTTP_E_TIMEOUT, .timeout_us = 60000000};
    CHECK_STR(http_error_text(&r, buf, sizeof buf), "timeout after 1m");

    /* Another origin's redirect names the Location, cut past 80 bytes. */
    r = (http_result_t){.error = HTTP_E_CROSS_ORIGIN, .detail = "http://example.com/elsewhere"};
    CHECK_STR(http_error_text(&r, buf, sizeof buf),
              "redirect to another origin (http://example.com/elsewhere): not followed by the native client");
    char long_loc[120];
    memset(long_loc, 'a', sizeof long_loc - 1);
    long_loc[sizeof long_loc - 1] = '\0';
    r.detail = long_loc;
    char want_long[200];
    snprintf(want_long, sizeof want_long,
             "redirect to another origin (%.77s...): not followed by the native client", long_loc);
    CHECK_STR(http_error_text(&r, buf, sizeof buf), want_long);

    /* libcurl's own words for what has no kind of its own. */
    r = (http_result_t){.error = HTTP_E_OTHER, .detail = "Failed binding local connection end"};
    CHECK_STR(http_error_text(&r, buf, sizeof buf), "Failed binding local connection end");
}

TEST(connect_errnos)
{
    CHECK_INT(http_connect_error(ECONNREFUSED), HTTP_E_CONNECT_REFUSED);
    CHECK_INT(http_connect_error(EMFILE), HTTP_E_OUT_OF_FDS);
    CHECK_INT(http_connect_error(ENFILE), HTTP_E_OUT_OF_FDS);
    CHECK_INT(http_connect_error(EADDRNOTAVAIL), HTTP_E_OUT_OF_PORTS);
    CHECK_INT(http_connect_error(ENETUNREACH), HTTP_E_CONNECT);
    CHECK_INT(http_connect_error(0), HTTP_E_CONNECT);
}

TEST(curl_codes)
{
    CHECK_INT(curl_client_error(CURLE_OK, 0), HTTP_OK);
    CHECK_INT(curl_client_error(CURLE_COULDNT_CONNECT, EMFILE), HTTP_E_OUT_OF_FDS);
    CHECK_INT(curl_client_error(CURLE_COULDNT_CONNECT, ENFILE), HTTP_E_OUT_OF_FDS);
    CHECK_INT(curl_client_error(CURLE_COULDNT_CONNECT, EADDRNOTAVAIL), HTTP_E_OUT_OF_PORTS);
    CHECK_INT(curl_client_error(CURLE_COULDNT_CONNECT, ECONNREFUSED), HTTP_E_CONNECT_REFUSED);
    CHECK_INT(curl_client_error(CURLE_COULDNT_CONNECT, EHOSTUNREACH), HTTP_E_CONNECT);
    CHECK_INT(curl_client_error(CURLE_COULDNT_CONNECT, 0), HTTP_E_CONNECT);
    CHECK_INT(curl_client_error(CURLE_OPERATION_TIMEDOUT, 0), HTTP_E_TIMEOUT);
    CHECK_INT(curl_client_error(CURLE_COULDNT_RESOLVE_HOST, 0), HTTP_E_RESOLVE);
    CHECK_INT(curl_client_error(CURLE_UNSUPPORTED_PROTOCOL, 0), HTTP_E_MALFORMED);
    CHECK_INT(curl_client_error(CURLE_WEIRD_SERVER_REPLY, 0), HTTP_E_MALFORMED);
    CHECK_INT(curl_client_error(CURLE_RECV_ERROR, 0), HTTP_E_MALFORMED);
    CHECK_INT(curl_client_error(CURLE_RECV_ERROR, ECONNRESET), HTTP_E_RESET);
    CHECK_INT(curl_client_error(CURLE_RECV_ERROR, EPIPE), HTTP_E_CLOSED_SENDING);
    CHECK_INT(curl_client_error(CURLE_RECV_ERROR, EIO), HTTP_E_RECV);
    CHECK_INT(curl_client_error(CURLE_SEND_ERROR, ECONNRESET), HTTP_E_RESET);
    CHECK_INT(curl_client_error(CURLE_SEND_ERROR, EPIPE), HTTP_E_CLOSED_SENDING);
    CHECK_INT(curl_client_error(CURLE_SEND_ERROR, 0), HTTP_E_SEND);
    CHECK_INT(curl_client_error(CURLE_GOT_NOTHING, 0), HTTP_E_NO_RESPONSE);
    CHECK_INT(curl_client_error(CURLE_PARTIAL_FILE, 0), HTTP_E_MID_BODY);
    CHECK_INT(curl_client_error(CURLE_TOO_MANY_REDIRECTS, 0), HTTP_E_TOO_MANY_REDIRECTS);
    CHECK_INT(curl_client_error(CURLE_PEER_FAILED_VERIFICATION, 0), HTTP_E_TLS_UNTRUSTED);
    CHECK_INT(curl_client_error(CURLE_SSL_CONNECT_ERROR, 0), HTTP_E_TLS_HANDSHAKE);
    CHECK_INT(curl_client_error(CURLE_INTERFACE_FAILED, 0), HTTP_E_OTHER);
}

/* ---- the native client on real sockets ---------------------------------------- */

typedef struct {
    h1_conn_t conn;
    http_result_t res;
    char text[256];
    bool done, closed;
} native_t;

static void on_done(void *user, const http_result_t *r)
{
    native_t *n = user;
    n->res = *r;
    http_error_text(r, n->text, sizeof n->text);
    n->done = true;
}

static void on_closed(h1_conn_t *c)
{
    ((native_t *)c->user)->closed = true;
}

/* One GET of base from the given source addresses (text, or NULL); the
 * result's kind. fds_left: when >= 0, the process may open only that many
 * more descriptors while the request starts. */
static http_error_t native_get(const char *base, const char *sources, int fds_left, native_t *n)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    static srcaddr_list_t list;
    char err[256];
    if (sources)
        CHECK_INT(srcaddr_parse(sources, &list, err, sizeof err), 0);
    h1_origin_t o;
    CHECK_INT(h1_origin_init(&o, &loop, base, sources ? &list : NULL, err, sizeof err), 0);
    h1_request_t r;
    CHECK_INT(h1_request_prepare(&r, &o, "GET", "/", NULL, 0, NULL, 0, NULL, 0, 5000000, NULL, err,
                                 sizeof err), 0);
    memset(n, 0, sizeof *n);
    h1_conn_init(&n->conn, &o, NULL, on_done, n);

    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    if (fds_left >= 0) {
        /* The lowest free descriptor plus fds_left is all there is. */
        int probe = dup(0);
        struct rlimit low = {.rlim_cur = (rlim_t)(probe + fds_left), .rlim_max = old.rlim_max};
        close(probe);
        CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
    }
    h1_send(&n->conn, &r);
    if (fds_left >= 0)
        CHECK_INT(setrlimit(RLIMIT_NOFILE, &old), 0);
    for (int i = 0; i < 500 && !n->done; i++)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK(n->done);
    h1_conn_close(&n->conn, on_closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(n->closed);
    h1_request_free(&r);
    h1_origin_free(&o);
    CHECK_INT(uv_loop_close(&loop), 0);
    return n->res.error;
}

TEST(native_out_of_ports)
{
    /* A source address this host does not have: bind says EADDRNOTAVAIL,
     * the same errno as an exhausted port range. */
    native_t n;
    CHECK_INT(native_get("http://127.0.0.1:9", "192.0.2.1", -1, &n), HTTP_E_OUT_OF_PORTS);
    CHECK_STR(n.text, "cannot connect: Cannot assign requested address");
}

TEST(native_out_of_fds)
{
    native_t n;
    CHECK_INT(native_get("http://127.0.0.1:9", NULL, 0, &n), HTTP_E_OUT_OF_FDS);
    CHECK_STR(n.text, "cannot connect: Too many open files");
}

int main(void)
{
    check_prog = "http_errors";
    RUN(every_kind_has_its_text);
    RUN(connect_errnos);
    RUN(curl_codes);
    RUN(native_out_of_ports);
    RUN(native_out_of_fds);
    return check_done();
}

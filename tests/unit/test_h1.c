/* test_h1: the native HTTP/1.1 client against the real hopper-target (status,
 * bodies, keep-alive, encoded paths, HEAD, 404, timeouts) and against a small
 * scripted fault server in a forked child (what hopper-target never does:
 * closing idle connections, dying mid-body, malformed answers, chunked and
 * EOF-delimited bodies, redirects, cookies, source addresses). Every wait has
 * a deadline, and every test closes its connection and proves
 * uv_loop_close() == 0. */
#include "check.h"
#include "hopper.h"
#include "http/h1.h"
#include "http/method.h"
#include "http/srcaddr.h"
#include "../../src/http/h1_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#define UA HOPPER_USER_AGENT
#define SEC 1000000ULL

#include "fault_proc.h"
#include "target_proc.h"

/* ---- a loop with one connection ------------------------------------------------- */

typedef struct {
    uv_loop_t loop;
    uv_timer_t tick;   /* keeps uv_run(ONCE) returning while we wait */
    h1_origin_t origin;
    h1_conn_t conn;
    int done_count;
    bool in_send, done_inside_send, closed;
    bool cancel_in_body;     /* h1_cancel from on_body, as an owner stopping may */
    bool cancel_in_header;   /* ... and from on_header */
    long status;
    uint64_t latency_us, body_bytes;
    const char *error;
    char error_text[200];
    char path[256];
    char body[8192];
    size_t body_len;
    char sent[8192];         /* the head the result says was sent */
    char headers[4096];      /* what on_header heard: "Name=value\n", "--\n" at a response */
    size_t headers_len;
    int header_calls;
} rig_t;

static void on_tick(uv_timer_t *t) { (void)t; }

static void rig_on_body(void *arg, const char *d, size_t n)
{
    rig_t *g = arg;
    if (g->cancel_in_body) {
        g->cancel_in_body = false;
        h1_cancel(&g->conn);
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
    g->header_calls++;
    if (g->cancel_in_header && name) {
        g->cancel_in_header = false;
        h1_cancel(&g->conn);
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
    g->error = http_error_text(r, g->error_text, sizeof g->error_text);
    /* The URL is the origin ("http://" host) and the path requested last. */
    bool origin_ok = r->url_origin && strncmp(r->url_origin, "http://", 7) == 0 &&
                     strcmp(r->url_origin + 7, g->origin.origin_host) == 0;
    snprintf(g->path, sizeof g->path, "%s", origin_ok && r->url ? r->url : "");
    snprintf(g->sent, sizeof g->sent, "%.*s", (int)r->sent_len, r->sent ? r->sent : "");
    g->done_count++;
}

static void rig_on_closed(h1_conn_t *c)
{
    ((rig_t *)c->user)->closed = true;
}

/* h1_origin_init with --source-addrs as text, parsed as main parses it; the
 * list lives as long as the test's one origin at a time. */
static int origin_init(h1_origin_t *o, uv_loop_t *loop, const char *base, const char *sources,
                       char *err, size_t errlen)
{
    static srcaddr_list_t list;
    memset(o, 0, sizeof *o);
    if (sources && srcaddr_parse(sources, &list, err, errlen) != 0)
        return -1;
    return h1_origin_init(o, loop, base, sources ? &list : NULL, err, errlen);
}

static int rig_init(rig_t *g, const char *base, const char *sources)
{
    memset(g, 0, sizeof *g);
    uv_loop_init(&g->loop);
    uv_timer_init(&g->loop, &g->tick);
    uv_timer_start(&g->tick, on_tick, 20, 20);
    char err[256];
    if (origin_init(&g->origin, &g->loop, base, sources, err, sizeof err) != 0) {
        printf("#   origin: %s\n", err);
        return -1;
    }
    g->origin.failure_detail = true;   /* results carry the URL, for g->path */
    h1_conn_init(&g->conn, &g->origin, rig_on_body, rig_on_done, g);
    g->conn.on_header = rig_on_header;
    return 0;
}

static void rig_run(rig_t *g, uint64_t ms)
{
    uint64_t until = uv_now(&g->loop) + ms;
    while (uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
}

/* Sends r with fill (may be NULL) and waits for its on_done (at most
 * deadline_ms); whether it came. */
static bool rig_send_fill(rig_t *g, const h1_request_t *r, const http_fill_t *fill,
                          uint64_t deadline_ms)
{
    int before = g->done_count;
    g->body_len = 0;
    g->body[0] = '\0';
    g->headers_len = 0;
    g->headers[0] = '\0';
    g->header_calls = 0;
    g->in_send = true;
    h1_send_fill(&g->conn, r, fill);
    g->in_send = false;
    uint64_t until = uv_now(&g->loop) + deadline_ms;
    while (g->done_count == before && uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
    CHECK(!g->done_inside_send);
    return g->done_count == before + 1;
}

static bool rig_send(rig_t *g, const h1_request_t *r, uint64_t deadline_ms)
{
    return rig_send_fill(g, r, NULL, deadline_ms);
}

static void rig_close(rig_t *g)
{
    h1_conn_close(&g->conn, rig_on_closed);
    uint64_t until = uv_now(&g->loop) + 2000;
    while (!g->closed && uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
    CHECK(g->closed);
    uv_close((uv_handle_t *)&g->tick, NULL);
    uv_run(&g->loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&g->loop), 0);
    h1_origin_free(&g->origin);
}

static void prep(h1_request_t *r, const h1_origin_t *o, const char *method, const char *target,
                 uint64_t timeout_us)
{
    char err[256];
    int rc = h1_request_prepare(r, o, method, target, NULL, 0, NULL, 0, NULL, 0, timeout_us, UA,
                                err, sizeof err);
    if (rc != 0)
        printf("#   prepare %s %s: %s\n", method, target, err);
    CHECK_INT(rc, 0);
}

/* ---- preparing requests and origins (no network) ----------------------------------- */

TEST(request_heads)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    h1_origin_t o;
    char err[256];
    CHECK_INT(origin_init(&o, &loop, "http://127.0.0.1:8082/v1", NULL, err, sizeof err), 0);
    CHECK_STR(o.origin_host, "127.0.0.1:8082");
    h1_request_t r;

    prep(&r, &o, "GET", "/status", 5 * SEC);
    CHECK_STR(r.head, "GET /status HTTP/1.1\r\nHost: 127.0.0.1:8082\r\nUser-Agent: " UA "\r\n"
                      "Accept: */*\r\n\r\n");
    CHECK_INT(r.head_len, strlen(r.head) - 2);
    CHECK_STR(r.path, "/status");
    CHECK(r.body == NULL);
    CHECK(!r.is_head);
    CHECK_INT(r.timeout_us, 5 * SEC);
    h1_request_free(&r);

    /* Plan headers; the ones named like a default replace it. */
    char *global[] = {"X-Run: 1", "user-agent: mine/2"};
    char *task[] = {"HOST: other:1", "Accept: text/html", "Content-Type: application/json"};
    CHECK_INT(h1_request_prepare(&r, &o, "POST", "http://127.0.0.1:8082/v1/items?x=1#frag", global, 2,
                                 task, 3, "{\"a\":1}", 7, SEC, UA, err, sizeof err), 0);
    CHECK_STR(r.head, "POST /v1/items?x=1 HTTP/1.1\r\nHOST: other:1\r\nX-Run: 1\r\nuser-agent: mine/2\r\n"
                      "Accept: text/html\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
                      "\r\n{\"a\":1}");
    CHECK_INT(r.head_len, strlen(r.head) - 2 - 7);
    CHECK_INT(r.body_len, 7);
    CHECK(r.body != NULL && memcmp(r.body, "{\"a\":1}", 7) == 0);
    CHECK_INT(r.framing_len, strlen("Content-Length: 7\r\n"));
    CHECK_STR(r.path, "/v1/items?x=1");
    h1_request_free(&r);

    /* A plan's Content-Length (the hopperfile has checked it equals the
     * body's) is sent once, as hopper's own framing: a redirect to a GET
     * drops it with the body instead of promising bytes that never come. */
    char *length[] = {"Content-Length: 3", "X-After: 1"};
    CHECK_INT(h1_request_prepare(&r, &o, "POST", "/f", length, 2, NULL, 0, "a=1", 3, SEC, UA, err,
                                 sizeof err), 0);
    CHECK(strstr(r.head, "Content-Length: 3") == strstr(r.head + r.head_len - r.framing_len,
                                                         "Content-Length: 3"));
    CHECK(strstr(strstr(r.head, "Content-Length: 3") + 1, "Content-Length") == NULL);
    CHECK(strstr(r.head, "\r\nX-After: 1\r\n") != NULL);
    h1_request_free(&r);

    /* A POST body without a Content-Type gets libcurl's default. */
    CHECK_INT(h1_request_prepare(&r, &o, "POST", "/f", NULL, 0, NULL, 0, "a=1", 3, SEC, UA, err,
                                 sizeof err), 0);
    CHECK(strstr(r.head, "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1"));
    h1_request_free(&r);

    prep(&r, &o, "POST", "/empty", SEC);
    CHECK(strstr(r.head, "Content-Length: 0\r\n\r\n") != NULL);
    h1_request_free(&r);
    prep(&r, &o, "PUT", "/empty", SEC);
    CHECK(strstr(r.head, "\r\nAccept: */*\r\nContent-Length: 0\r\n\r\n") != NULL);
    h1_request_free(&r);
    prep(&r, &o, "DELETE", "/x", SEC);
    CHECK(strstr(r.head, "Content-Length") == NULL);
    h1_request_free(&r);
    prep(&r, &o, "HEAD", "/status", SEC);
    CHECK(r.is_head);
    h1_request_free(&r);
    prep(&r, &o, "GET", "http://127.0.0.1:8082", SEC);   /* no path: "/" */
    CHECK_STR(r.path, "/");
    h1_request_free(&r);

    /* What cannot go on this client. */
    err[0] = '\0';
    CHECK_INT(h1_request_prepare(&r, &o, "GET", "http://example.com/x", NULL, 0, NULL, 0, NULL, 0,
                                 SEC, UA, err, sizeof err), -1);
    CHECK(strstr(err, "http://example.com/x") != NULL);
    CHECK_INT(h1_request_prepare(&r, &o, "GET", "https://127.0.0.1:8082/x", NULL, 0, NULL, 0, NULL,
                                 0, SEC, UA, err, sizeof err), -1);
    CHECK_INT(h1_request_prepare(&r, &o, "GET", "http://127.0.0.1:8083/x", NULL, 0, NULL, 0, NULL, 0,
                                 SEC, UA, err, sizeof err), -1);
    CHECK_INT(h1_request_prepare(&r, &o, "GET", "/not encoded", NULL, 0, NULL, 0, NULL, 0, SEC, UA,
                                 err, sizeof err), -1);
    CHECK_INT(h1_request_prepare(&r, &o, "GET", "relative", NULL, 0, NULL, 0, NULL, 0, SEC, UA, err,
                                 sizeof err), -1);
    char *bad[] = {"no colon"};
    CHECK_INT(h1_request_prepare(&r, &o, "GET", "/", bad, 1, NULL, 0, NULL, 0, SEC, UA, err,
                                 sizeof err), -1);
    CHECK(strstr(err, "no colon") != NULL);
    h1_origin_free(&o);

    /* Port 80 stays out of the Host header, as with libcurl; IPv6 keeps its brackets. */
    CHECK_INT(origin_init(&o, &loop, "http://127.0.0.1:80", NULL, err, sizeof err), 0);
    CHECK_STR(o.origin_host, "127.0.0.1");
    h1_origin_free(&o);
    CHECK_INT(origin_init(&o, &loop, "http://[::1]:8082/", NULL, err, sizeof err), 0);
    CHECK_STR(o.origin_host, "[::1]:8082");
    h1_origin_free(&o);
    CHECK_INT(uv_loop_close(&loop), 0);
}

TEST(origins_and_sources)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    h1_origin_t o;
    char err[256];
    CHECK(h1_usable("http://127.0.0.1:8082"));
    CHECK(h1_usable("HTTP://localhost/v1"));
    CHECK(h1_usable("https://127.0.0.1"));
    CHECK(!h1_usable("http://user:pw@127.0.0.1"));
    CHECK(!h1_usable("https://user:pw@127.0.0.1"));
    CHECK(!h1_usable("ftp://x"));
    CHECK(!h1_usable(NULL));
    CHECK_INT(origin_init(&o, &loop, "ftp://127.0.0.1", NULL, err, sizeof err), -1);
    h1_origin_free(&o);
    /* https: the default port is 443 and is not written in the Host. */
    CHECK_INT(origin_init(&o, &loop, "HTTPS://127.0.0.1:443/v1", NULL, err, sizeof err), 0);
    CHECK(o.https);
    CHECK_STR(o.origin_url, "https://127.0.0.1");
    CHECK_STR(o.tls_host, "127.0.0.1");
    CHECK_INT(((struct sockaddr_in *)&o.addr)->sin_port, htons(443));
    CHECK(h1_origin_same(&o, "127.0.0.1:443", 13));
    h1_origin_free(&o);
    CHECK_INT(origin_init(&o, &loop, "https://[::1]:8443", NULL, err, sizeof err), 0);
    CHECK_STR(o.origin_url, "https://[::1]:8443");
    CHECK_STR(o.tls_host, "::1");
    h1_origin_free(&o);

    CHECK_INT(origin_init(&o, &loop, "http://127.0.0.1:8082", "127.0.0.1-127.0.0.4", err, sizeof err), 0);
    CHECK_INT(o.n_sources, 4);
    char a[64];
    inet_ntop(AF_INET, &((struct sockaddr_in *)&o.sources[3])->sin_addr, a, sizeof a);
    CHECK_STR(a, "127.0.0.4");
    CHECK_INT(((struct sockaddr_in *)&o.sources[3])->sin_port, 0);
    h1_origin_free(&o);

    CHECK_INT(origin_init(&o, &loop, "http://127.0.0.1:8082", " 127.0.0.2-3 , 127.0.0.9", err,
                             sizeof err), 0);
    CHECK_INT(o.n_sources, 3);
    inet_ntop(AF_INET, &((struct sockaddr_in *)&o.sources[2])->sin_addr, a, sizeof a);
    CHECK_STR(a, "127.0.0.9");
    h1_origin_free(&o);

    CHECK_INT(origin_init(&o, &loop, "http://127.0.0.1:8082", "10.0.0.0-10.0.0.255", err, sizeof err), 0);
    CHECK_INT(o.n_sources, 256);
    h1_origin_free(&o);

    static const struct {
        const char *list, *named;
    } bad[] = {
        {"bogus", "'bogus'"},
        {"127.0.0.1,,127.0.0.2", "empty"},
        {"127.0.0.1-300", "300"},
        {"127.0.0.5-127.0.0.1", "127.0.0.5-127.0.0.1"},
        {"10.0.0.0-10.0.1.0", "more than 256"},
        {"10.0.0.0-255,10.0.1.1", "10.0.1.1"},
        {"127.0.0.1,::1", "::1"},
        {"x-2", "'x-2'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_INT(origin_init(&o, &loop, "http://127.0.0.1:8082", bad[i].list, err, sizeof err), -1);
        if (!strstr(err, bad[i].named))
            printf("#   \"%s\": \"%s\" does not name %s\n", bad[i].list, err, bad[i].named);
        CHECK(strstr(err, bad[i].named) != NULL);
        h1_origin_free(&o);
    }
    CHECK_INT(uv_loop_close(&loop), 0);
}

/* ---- against hopper-target ------------------------------------------------------------- */

TEST(target_status_keep_alive_paths)
{
    target_t t;
    CHECK_INT(target_start(&t, NULL, NULL), 0);
    rig_t g;
    CHECK_INT(rig_init(&g, t.url, NULL), 0);
    h1_request_t status, head, missing, title;
    prep(&status, &g.origin, "GET", "/status", 5 * SEC);
    prep(&head, &g.origin, "HEAD", "/status", 5 * SEC);
    prep(&missing, &g.origin, "GET", "/nope", 5 * SEC);
    prep(&title, &g.origin, "GET", "/api/title/The%20Godfather/1972", 5 * SEC);

    CHECK(rig_send(&g, &status, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.body_bytes, 15);
    CHECK_STR(g.body, "{\"status\":\"OK\"}");
    CHECK_STR(g.path, "/status");
    CHECK(g.latency_us > 0 && g.latency_us < 3 * SEC);

    int ok = 1;
    for (int i = 0; i < 99; i++) {
        if (!rig_send(&g, &status, 3000) || g.error || g.status != 200 || g.body_bytes != 15) {
            ok = 0;
            break;
        }
    }
    CHECK(ok);

    CHECK(rig_send(&g, &head, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.body_bytes, 0);

    CHECK(rig_send(&g, &missing, 3000));
    CHECK(g.error == NULL);                  /* a status is not a transport error */
    CHECK_INT(g.status, 404);
    CHECK(g.body_bytes > 0);

    CHECK(rig_send(&g, &title, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK(strstr(g.body, "Godfather") != NULL);

    /* Cancelled from on_body: no on_done, and the next request goes out on
     * a new connection. */
    int before = g.done_count;
    g.cancel_in_body = true;
    h1_send(&g.conn, &status);
    rig_run(&g, 200);
    CHECK_INT(g.done_count, before);
    CHECK(!g.cancel_in_body);
    CHECK(rig_send(&g, &status, 3000));
    CHECK(g.error == NULL);
    CHECK_STR(g.body, "{\"status\":\"OK\"}");

    rig_close(&g);
    h1_request_free(&status);
    h1_request_free(&head);
    h1_request_free(&missing);
    h1_request_free(&title);
    target_stop(&t);
    CHECK_INT(report_count(&t, "requests answered: "), 105);
    CHECK_INT(report_count(&t, "connections accepted: "), 2); /* one until the cancel */
    CHECK(strstr(t.report, "  HEAD /status\n") != NULL);
    CHECK(strstr(t.report, "  GET /api/title/The Godfather/1972\n") != NULL);
    CHECK(strstr(t.report, "   102  GET /status\n") != NULL);
}

TEST(connection_refused)
{
    /* A port nobody listens on: bind one, read it, close it. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    close(fd);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));

    rig_t g;
    CHECK_INT(rig_init(&g, url, NULL), 0);
    h1_request_t r;
    prep(&r, &g.origin, "GET", "/status", 5 * SEC);
    for (int i = 0; i < 2; i++) {            /* the second one connects again */
        CHECK(rig_send(&g, &r, 3000));
        CHECK_STR(g.error, "connection refused");
        CHECK_INT(g.status, 0);
    }
    rig_close(&g);
    h1_request_free(&r);
}

TEST(next_address_after_refusal)
{
    /* A name with two addresses (localhost as ::1 and 127.0.0.1) where only
     * the second listens: the connection falls through to it, and later
     * connections go there first. Made by hand: this host's localhost has
     * one address. */
    target_t t;
    CHECK_INT(target_start(&t, NULL, NULL), 0);
    rig_t g;
    CHECK_INT(rig_init(&g, t.url, NULL), 0);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in dead = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof dead;
    CHECK(bind(fd, (struct sockaddr *)&dead, sizeof dead) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&dead, &al) == 0);
    close(fd);
    CHECK_INT(g.origin.n_addrs, 1);
    g.origin.addrs[1] = g.origin.addrs[0];
    memcpy(&g.origin.addrs[0], &dead, sizeof dead);
    memcpy(&g.origin.addr, &dead, sizeof dead);
    g.origin.n_addrs = 2;

    h1_request_t r, close_req;
    prep(&r, &g.origin, "GET", "/status", 5 * SEC);
    char *hdr[] = {"Connection: close"};
    char err[256];
    CHECK_INT(h1_request_prepare(&close_req, &g.origin, "GET", "/status", hdr, 1, NULL, 0, NULL, 0,
                                 5 * SEC, UA, err, sizeof err), 0);
    CHECK(rig_send(&g, &close_req, 3000));
    CHECK(g.error == NULL);
    CHECK_INT(g.status, 200);
    CHECK_INT(g.origin.preferred, 1);
    CHECK(memcmp(&g.origin.addr, &g.origin.addrs[1], sizeof g.origin.addr) == 0);
    CHECK(rig_send(&g, &r, 3000));                 /* a new connection, straight to it */
    CHECK(g.error == NULL);
    rig_close(&g);
    h1_request_free(&r);
    h1_request_free(&close_req);
    target_stop(&t);
    CHECK_INT(report_count(&t, "connections accepted: "), 2);
}

TEST(connect_error_reported_later)
{
    /* Binding to an address this host does not have fails inside h1_send; the
     * error must still come through on_done on a later turn of the loop. */
    rig_t g;
    CHECK_INT(rig_init(&g, "http://127.0.0.1:9", "192.0.2.1"), 0);
    h1_request_t r;
    prep(&r, &g.origin, "GET", "/status", 5 * SEC);
    CHECK(rig_send(&g, &r, 3000));
    CHECK(g.error != NULL && strncmp(g.error, "cannot connect: ", 16) == 0);
    CHECK(!g.done_inside_send);
    rig_close(&g);
    h1_request_free(&r);
}

TEST(timeout_and_cancel)
{
    target_t t;
    CHECK_INT(target_start(&t, "--delay", "2s"), 0);
    rig_t g;
    CHECK_INT(rig_init(&g, t.url, NULL), 0);
    h1_request_t quick, slow;
    prep(&quick, &g.origin, "GET", "/status", 300000);
    prep(&slow, &g.origin, "GET", "/status", 10 * SEC);

    CHECK(rig_send(&g, &quick, 3000));
    CHECK_STR(g.error, "timeout after 300ms");
    CHECK(g.latency_us >= 290000 && g.latency_us < 1500000);

    /* Cancel: no on_done, and the connection sends again afterwards. */
    int before = g.done_count;
    h1_send(&g.conn, &slow);
    rig_run(&g, 100);
    h1_cancel(&g.conn);
    rig_run(&g, 200);
    CHECK_INT(g.done_count, before);
    CHECK(rig_send(&g, &quick, 3000));
    CHECK_STR(g.error, "timeout after 300ms");

    rig_close(&g);
    h1_request_free(&quick);
    h1_request_free(&slow);
    target_stop(&t);
    CHECK_INT(report_count(&t, "connections accepted: "), 3);
}

/* ---- against the fault server ----------------------------------------------------------- */

#define OK_FIRST "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst"
#define OK_SECOND "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond"

/* Runs the script: sends path n times (or until one fails to end), checking
 * nothing; the caller checks g after each via the callback below. */
typedef struct {
    rig_t g;
    fault_t f;
    h1_request_t req;
} fault_rig_t;

static int fault_rig(fault_rig_t *fr, const fault_conn_t *conns, size_t n, const char *method,
                     const char *path, const char *sources)
{
    if (fault_start(&fr->f, conns, n) != 0 || rig_init(&fr->g, fr->f.url, sources) != 0)
        return -1;
    prep(&fr->req, &fr->g.origin, method, path, 5 * SEC);
    return 0;
}

/* Closes everything; the fault script's exit status (0: it ran to its end). */
static int fault_rig_done(fault_rig_t *fr)
{
    rig_close(&fr->g);
    h1_request_free(&fr->req);
    return fault_stop(&fr->f);
}

TEST(server_closes_connection)
{
    /* Connection: close is honoured, and so is HTTP/1.0: the next request
     * opens a new connection (the script's second connection answers it). */
    static const fault_conn_t conns[] = {
        {{"r" "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfirst"}},
        {{"r" "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nsecond"}},
        {{"c" "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthird"}}, /* closes, idle */
        {{"r" OK_SECOND}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 4, "GET", "/", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "first");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "second");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.body, "third");
    rig_run(&fr.g, 100);                     /* the server's close arrives while idle */
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "second");
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(reused_connection_retried_once)
{
    /* The server answers one request, then closes (x) or resets (R) the
     * connection on the next without a byte: libcurl's silent retry. */
    static const fault_conn_t conns[] = {
        {{"r" OK_FIRST, "x"}},
        {{"r" OK_SECOND, "R"}},
        {{"r" OK_FIRST}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 3, "GET", "/", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.body, "first");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "second");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "first");
    CHECK_INT(fr.g.origin.retries, 2);             /* each one counted */
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(no_retry_for_post_nor_with_no_retry)
{
    /* The server may have read a request on a connection that then closed
     * unanswered: a POST (not idempotent) fails as it ended, never goes
     * twice; nor does a GET once retries are off. Nothing is counted. */
    static const fault_conn_t conns[] = {
        {{"r" OK_FIRST, "x"}},
        {{"r" OK_SECOND, "R"}},
        {{"r" OK_FIRST, "x"}},                     /* GET with no_retry */
        {{"r" OK_SECOND}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 4, "POST", "/form", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.body, "first");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.error, "connection closed without a response");
    CHECK(rig_send(&fr.g, &fr.req, 3000));         /* a new connection */
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "second");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.error, "connection reset");
    CHECK_INT(fr.g.origin.retries, 0);

    h1_request_t get;
    prep(&get, &fr.g.origin, "GET", "/", 5 * SEC);
    fr.g.origin.no_retry = true;
    CHECK(rig_send(&fr.g, &get, 3000));
    CHECK_STR(fr.g.body, "first");
    CHECK(rig_send(&fr.g, &get, 3000));
    CHECK_STR(fr.g.error, "connection closed without a response");
    CHECK(rig_send(&fr.g, &get, 3000));
    CHECK_STR(fr.g.body, "second");
    CHECK_INT(fr.g.origin.retries, 0);
    h1_request_free(&get);
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(idempotent_methods)
{
    static const char *const yes[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    static const char *const no[] = {"POST", "PATCH", "CONNECT", "PROPFIND", "get", "LOCK", ""};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        CHECK(http_method_idempotent(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        CHECK(!http_method_idempotent(no[i]));
}

TEST(responses_without_a_body)
{
    /* RFC 9112 6.3: the answer to a HEAD, and every 1xx, 204 and 304, ends
     * at its header block whatever Content-Length or Transfer-Encoding say;
     * interim 1xx answers are skipped for the real one. All on one kept-alive
     * connection (the script has no other), each followed by a request that
     * must be answered on it. */
    static const fault_conn_t conns[] = {
        {{"r" "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 100\r\n\r\n",
          "r" "HTTP/1.1 204 No Content\r\nContent-Length: 100\r\n\r\n",
          "r" "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n",
          "r" "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
          "r" "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n"
              "Content-Length: 7\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n",
          "r" "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",   /* to a HEAD */
          "r" "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfirst"}},
        /* 101 Switching Protocols is not asked for: a malformed response. */
        {{"r" "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 2, "GET", "/", NULL), 0);
    static const long statuses[] = {304, 204, 204, 304, 200};
    for (size_t i = 0; i < 5; i++) {
        CHECK(rig_send(&fr.g, &fr.req, 1500));
        if (fr.g.error)
            printf("#   answer %zu: %s\n", i, fr.g.error);
        CHECK(fr.g.error == NULL);
        CHECK_INT(fr.g.status, statuses[i]);
        CHECK_INT(fr.g.body_bytes, i == 4 ? 3 : 0);
    }
    h1_request_t head;
    prep(&head, &fr.g.origin, "HEAD", "/", 5 * SEC);
    CHECK(rig_send(&fr.g, &head, 1500));
    CHECK(fr.g.error == NULL);
    CHECK_INT(fr.g.status, 200);
    CHECK_INT(fr.g.body_bytes, 0);
    CHECK(rig_send(&fr.g, &fr.req, 1500));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "first");
    CHECK(rig_send(&fr.g, &fr.req, 1500));
    CHECK_STR(fr.g.error, "malformed response");
    CHECK_INT(fr.g.status, 101);
    h1_request_free(&head);
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(fresh_connection_failures_reported)
{
    static const fault_conn_t conns[] = {
        {{"x"}},
        {{"R"}},
        {{"c" "<html>not HTTP at all</html>\r\n\r\n"}},
        {{"c" "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"}},
        {{"c" "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"}},
        {{"r" OK_FIRST, "x"}},                     /* reused, then a fresh one that fails too */
        {{"x"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 7, "GET", "/", NULL), 0);
    static const char *const want[] = {
        "connection closed without a response",
        "connection reset",
        "malformed response",
        "connection closed mid-body",
        "connection closed mid-body",
    };
    for (size_t i = 0; i < 5; i++) {
        CHECK(rig_send(&fr.g, &fr.req, 3000));
        CHECK_STR(fr.g.error, want[i]);
    }
    CHECK_INT(fr.g.status, 200);                   /* the headers had arrived */
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK(rig_send(&fr.g, &fr.req, 3000));         /* retried once, and only once */
    CHECK_STR(fr.g.error, "connection closed without a response");
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(body_framings)
{
    static const fault_conn_t conns[] = {
        {{"r" "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
          "r" "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
          "r" "HTTP/1.1 204 No Content\r\n\r\n",
          "c" "HTTP/1.1 200 OK\r\n\r\nbody until close"}},
        {{"r" OK_FIRST}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 2, "GET", "/", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_INT(fr.g.body_bytes, 11);
    CHECK_STR(fr.g.body, "hello world");
    CHECK(rig_send(&fr.g, &fr.req, 3000));         /* same connection after a chunked body */
    CHECK(fr.g.error == NULL);
    CHECK_INT(fr.g.status, 201);
    CHECK_STR(fr.g.body, "ok");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_INT(fr.g.status, 204);
    CHECK_INT(fr.g.body_bytes, 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "body until close");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.body, "first");
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(redirects_followed)
{
    static const fault_conn_t conns[] = {
        {{"d" "HTTP/1.1 302 Found\r\nLocation: /final\r\nSet-Cookie: hop=1\r\nContent-Length: 13\r\n\r\nredirect body",
          "d" "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfinal!",
          /* POST + 303: a GET without body; then 307 keeps the method */
          "r" "HTTP/1.1 303 See Other\r\nLocation: /seen\r\nContent-Length: 0\r\n\r\n",
          "e",
          "r" "HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"}},
        {{"e"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 2, "GET", "/start", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_INT(fr.g.status, 200);
    CHECK_STR(fr.g.body, "final!");                /* the final body only */
    CHECK_INT(fr.g.body_bytes, 6);
    CHECK_STR(fr.g.path, "/final");
    CHECK(fr.g.latency_us >= 300000);              /* both answers, 150 ms each */

    h1_request_t post;
    char err[256];
    CHECK_INT(h1_request_prepare(&post, &fr.g.origin, "POST", "/form", NULL, 0, NULL, 0, "a=1&b=2", 7,
                                 5 * SEC, UA, err, sizeof err), 0);
    CHECK(rig_send(&fr.g, &post, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.path, "/seen");
    CHECK(strstr(fr.g.body, "\nGET /seen HTTP/1.1\r\n") != NULL);
    CHECK(strstr(fr.g.body, "Content-Length") == NULL);
    CHECK(strstr(fr.g.body, "Content-Type") == NULL);
    CHECK(strstr(fr.g.body, "Cookie: hop=1\r\n") != NULL); /* set by the first redirect */

    CHECK(rig_send(&fr.g, &post, 3000));           /* 307 after Connection: close */
    CHECK(fr.g.error == NULL);
    CHECK(strstr(fr.g.body, "\nPOST /again HTTP/1.1\r\n") != NULL);
    CHECK(strstr(fr.g.body, "Content-Length: 7\r\n") != NULL);
    CHECK(strstr(fr.g.body, "\r\n\r\na=1&b=2") != NULL);
    h1_request_free(&post);
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(redirect_locations_resolved)
{
    /* Relative, query-only, dot segments with a space and a fragment, then
     * absolute of the same origin ({PORT} is the fault server's). */
    static const fault_conn_t conns[] = {
        {{"r" "HTTP/1.1 301 Moved\r\nLocation: next\r\nContent-Length: 0\r\n\r\n",
          "r" "HTTP/1.1 302 Found\r\nLocation: ?q=1\r\nContent-Length: 0\r\n\r\n",
          "r" "HTTP/1.1 308 Permanent\r\nLocation: ../up/a b#frag\r\nContent-Length: 0\r\n\r\n",
          "r" "HTTP/1.1 302 Found\r\nLocation: HTTP://127.0.0.1:{PORT}/abs/./x/..?y=2\r\nContent-Length: 0\r\n\r\n",
          "e"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 1, "GET", "/a/b", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(fr.g.error == NULL);
    if (fr.g.error)
        printf("#   %s\n", fr.g.error);
    CHECK_STR(fr.g.path, "/abs/?y=2");
    CHECK(strstr(fr.g.body, "\nGET /abs/?y=2 HTTP/1.1\r\n") != NULL);
    CHECK_INT(fault_rig_done(&fr), 0);

    /* Each step on its own, to see the intermediate paths. */
    static const fault_conn_t one[] = {
        {{"r" "HTTP/1.1 301 Moved\r\nLocation: next\r\nContent-Length: 0\r\n\r\n", "e",
          "r" "HTTP/1.1 301 Moved\r\nLocation: ?q=1\r\nContent-Length: 0\r\n\r\n", "e",
          "r" "HTTP/1.1 301 Moved\r\nLocation: ../up/a b#frag\r\nContent-Length: 0\r\n\r\n", "e"}},
    };
    static const char *const paths[] = {"/a/next", "/a/b?q=1", "/up/a%20b"};
    CHECK_INT(fault_rig(&fr, one, 1, "GET", "/a/b", NULL), 0);
    for (int i = 0; i < 3; i++) {
        CHECK(rig_send(&fr.g, &fr.req, 3000));
        CHECK_STR(fr.g.path, paths[i]);
    }
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(redirect_limits)
{
    static const fault_conn_t conns[] = {
        {{"*" "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n"}},
        /* An error closes the connection, so one connection each. */
        {{"r" "HTTP/1.1 302 Found\r\nLocation: http://example.com/elsewhere\r\nContent-Length: 0\r\n\r\n"}},
        {{"r" "HTTP/1.1 301 Moved\r\nLocation: https://127.0.0.1/\r\nContent-Length: 0\r\n\r\n"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 3, "GET", "/loop", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.error, "too many redirects");
    CHECK_INT(fr.g.status, 302);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.error,
              "redirect to another origin (http://example.com/elsewhere): not followed by the native client");
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.error, "redirect to another origin (https://127.0.0.1/): not followed by the native client");
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(cookies_sent_back)
{
    static const fault_conn_t conns[] = {
        {{"e",
          "r" "HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc=1; Path=/\r\nset-cookie: other=2; Path=/elsewhere\r\n"
              "Content-Length: 0\r\n\r\n",
          "e",
          "r" "HTTP/1.1 200 OK\r\nSet-Cookie: sid=; Max-Age=0; Path=/\r\nContent-Length: 0\r\n\r\n",
          "e"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 1, "GET", "/app", NULL), 0);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(strstr(fr.g.body, "Cookie:") == NULL);
    char want[128];
    snprintf(want, sizeof want, "\nGET /app HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: " UA "\r\n"
                                "Accept: */*\r\n\r\n", fr.f.port);
    CHECK(strstr(fr.g.body, want) != NULL);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(strstr(fr.g.body, "\r\nAccept: */*\r\nCookie: sid=abc=1\r\n\r\n") != NULL);
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(strstr(fr.g.body, "Cookie:") == NULL);   /* deleted */
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(source_addresses)
{
    static const fault_conn_t conns[] = {
        {{"E"}},
        {{"E"}},
        {{"E"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 3, "GET", "/", "127.0.0.2-3"), 0);
    static const char *const peers[] = {"peer=127.0.0.2\n", "peer=127.0.0.3\n", "peer=127.0.0.2\n"};
    for (int i = 0; i < 3; i++) {
        CHECK(rig_send(&fr.g, &fr.req, 3000));
        CHECK(fr.g.error == NULL);
        if (strncmp(fr.g.body, peers[i], strlen(peers[i])) != 0)
            printf("#   connection %d: %.20s\n", i, fr.g.body);
        CHECK(strncmp(fr.g.body, peers[i], strlen(peers[i])) == 0);
        rig_run(&fr.g, 50); /* the server's close arrives */
    }
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(large_bodies_and_early_answers)
{
    /* 16 MB does not fit the socket buffers: the request goes out through
     * uv_write after a partial uv_try_write. An answer that comes before the
     * whole body was taken ends the request and the connection. */
    static const fault_conn_t conns[] = {
        {{"s" OK_FIRST, "s" OK_SECOND,
          "h" "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"}},
        {{"s" OK_FIRST}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 2, "GET", "/", NULL), 0);
    size_t big = 16u << 20;
    char *body = malloc(big);
    memset(body, 'b', big);
    h1_request_t post;
    char err[256];
    CHECK_INT(h1_request_prepare(&post, &fr.g.origin, "POST", "/upload", NULL, 0, NULL, 0, body, big,
                                 10 * SEC, UA, err, sizeof err), 0);
    free(body);                                    /* the request holds its own copy */
    CHECK(rig_send(&fr.g, &post, 8000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "first");
    CHECK(rig_send(&fr.g, &post, 8000));           /* kept alive after a queued write */
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "second");
    CHECK(rig_send(&fr.g, &post, 8000));
    CHECK(fr.g.error == NULL);
    CHECK_INT(fr.g.status, 413);
    CHECK(rig_send(&fr.g, &post, 8000));           /* on a new connection */
    if (fr.g.error)
        printf("#   %s\n", fr.g.error);
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "first");
    h1_request_free(&post);
    CHECK_INT(fault_rig_done(&fr), 0);
}

/* ---- templated requests: dynamic headers, fills, response headers ------------------------ */

/* A fill from C strings (NULL: that part is not filled). */
static http_fill_t fill_of(const char *target, const char *headers, const char *body)
{
    http_fill_t f = {0};
    if (target) {
        f.target = target;
        f.target_len = strlen(target);
    }
    if (headers) {
        f.headers = headers;
        f.headers_len = strlen(headers);
    }
    if (body) {
        f.body = body;
        f.body_len = strlen(body);
        f.has_body = true;
    }
    return f;
}

/* The request an echo answer carries, after its "peer=ADDR\n" line. */
static const char *echoed(const rig_t *g)
{
    const char *nl = strchr(g->body, '\n');
    return nl ? nl + 1 : "";
}

TEST(request_heads_with_dynamic_headers)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    h1_origin_t o;
    char err[256];
    CHECK_INT(origin_init(&o, &loop, "http://127.0.0.1:8082", NULL, err, sizeof err), 0);

    /* The plan's and the step's templated headers are not in the bytes,
     * but their names still replace the defaults. */
    char *plan_headers[] = {"X-Run: 1", "Authorization: Bearer {{token}}"};
    tmpl_t plan_t_[2] = {{.dynamic = false}, {.dynamic = true}};
    char *step_headers[] = {"Content-Type: {{type}}", "Accept: {{accept}}", "User-Agent: x/{{v}}",
                            "X-Static: yes"};
    tmpl_t step_t_[4] = {{.dynamic = true}, {.dynamic = true}, {.dynamic = true}, {.dynamic = false}};
    plan_t plan;
    memset(&plan, 0, sizeof plan);
    plan.headers = plan_headers;
    plan.header_t = plan_t_;
    plan.n_headers = 2;
    plan_step_t step;
    memset(&step, 0, sizeof step);
    step.method = "POST";
    step.target = "/f";
    step.headers = step_headers;
    step.header_t = step_t_;
    step.n_headers = 4;
    step.body = "a=1";
    step.body_len = 3;
    step.keep_headers = true;
    h1_request_t r;
    CHECK_INT(h1_request_prepare_step(&r, &o, &plan, &step, "http://127.0.0.1:8082/f", SEC, UA, err,
                                      sizeof err), 0);
    CHECK_STR(r.head, "POST /f HTTP/1.1\r\nHost: 127.0.0.1:8082\r\nX-Run: 1\r\nX-Static: yes\r\n"
                      "Content-Length: 3\r\n\r\na=1");
    CHECK_INT(r.framing_len, strlen("Content-Length: 3\r\n"));
    CHECK(r.custom_type);
    CHECK(r.keep_headers);
    h1_request_free(&r);

    /* Without templates (a plan made by hand: NULL arrays) all are static. */
    plan.header_t = NULL;
    step.header_t = NULL;
    step.keep_headers = false;
    CHECK_INT(h1_request_prepare_step(&r, &o, &plan, &step, "http://127.0.0.1:8082/f", SEC, UA, err,
                                      sizeof err), 0);
    CHECK(strstr(r.head, "\r\nAuthorization: Bearer {{token}}\r\n") != NULL);
    CHECK(strstr(r.head, "\r\nContent-Type: {{type}}\r\nAccept: {{accept}}\r\n") != NULL);
    CHECK(strstr(r.head, "User-Agent: " UA) == NULL);
    CHECK(!r.keep_headers);
    h1_request_free(&r);

    /* A dynamic Host (client.c refuses it before a client sees it) is not
     * doubled by the default. */
    char *host[] = {"Host: {{h}}"};
    tmpl_t host_t[1] = {{.dynamic = true}};
    memset(&plan, 0, sizeof plan);
    step.headers = host;
    step.header_t = host_t;
    step.n_headers = 1;
    step.method = "GET";
    step.body = NULL;
    step.body_len = 0;
    CHECK_INT(h1_request_prepare_step(&r, &o, &plan, &step, "http://127.0.0.1:8082/", SEC, UA, err,
                                      sizeof err), 0);
    CHECK_STR(r.head, "GET / HTTP/1.1\r\nUser-Agent: " UA "\r\nAccept: */*\r\n\r\n");
    CHECK(!r.custom_type);
    h1_request_free(&r);
    h1_origin_free(&o);
    CHECK_INT(uv_loop_close(&loop), 0);
}

TEST(filled_sends)
{
    static const fault_conn_t conns[] = {
        {{"e", "e", "e", "e", "e", "s" OK_FIRST, "e", "e"}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 1, "GET", "/root", NULL), 0);
    char host[64], want[1024];
    snprintf(host, sizeof host, "Host: 127.0.0.1:%u\r\n", fr.f.port);

    /* The target replaced, header lines added after the prepared ones. */
    http_fill_t f = fill_of("/items/42?x=1", "X-Token: abc\r\nX-Two: 2\r\n", NULL);
    CHECK(rig_send_fill(&fr.g, &fr.req, &f, 3000));
    CHECK(fr.g.error == NULL);
    snprintf(want, sizeof want, "GET /items/42?x=1 HTTP/1.1\r\n%sUser-Agent: " UA "\r\n"
                                "Accept: */*\r\nX-Token: abc\r\nX-Two: 2\r\n\r\n", host);
    CHECK_STR(echoed(&fr.g), want);
    CHECK_STR(fr.g.path, "/items/42?x=1");
    want[strlen(want) - 2] = '\0';                 /* the head sent, without the blank line */
    CHECK_STR(fr.g.sent, want);

    /* No fill: the prepared bytes, exactly, on the same connection. */
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    snprintf(want, sizeof want, "GET /root HTTP/1.1\r\n%sUser-Agent: " UA "\r\nAccept: */*\r\n\r\n",
             host);
    CHECK_STR(echoed(&fr.g), want);
    CHECK_STR(fr.g.path, "/root");

    /* A body replaced: its Content-Length, and a templated Content-Type
     * (in the fill) instead of the default. */
    char *type[] = {"Content-Type: {{type}}"};
    tmpl_t type_t[1] = {{.dynamic = true}};
    plan_t plan;
    memset(&plan, 0, sizeof plan);
    plan_step_t step;
    memset(&step, 0, sizeof step);
    step.method = "POST";
    step.headers = type;
    step.header_t = type_t;
    step.n_headers = 1;
    step.body = "a=1";
    step.body_len = 3;
    h1_request_t post;
    char err[256];
    char url[96];
    snprintf(url, sizeof url, "%s/form", fr.f.url);
    CHECK_INT(h1_request_prepare_step(&post, &fr.g.origin, &plan, &step, url, 5 * SEC, UA, err,
                                      sizeof err), 0);
    f = fill_of(NULL, "Content-Type: application/json\r\n", "{\"n\":12345}");
    CHECK(rig_send_fill(&fr.g, &post, &f, 3000));
    snprintf(want, sizeof want, "POST /form HTTP/1.1\r\n%sUser-Agent: " UA "\r\nAccept: */*\r\n"
                                "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
                                "{\"n\":12345}", host);
    CHECK_STR(echoed(&fr.g), want);
    CHECK_STR(fr.g.path, "/form");

    /* A PUT prepared without a body ("Content-Length: 0") gets the framing
     * of the filled one, the default Content-Type included. */
    h1_request_t put, plain_post;
    prep(&put, &fr.g.origin, "PUT", "/put", 5 * SEC);
    f = fill_of("/put/1", NULL, "x=1");
    CHECK(rig_send_fill(&fr.g, &put, &f, 3000));
    snprintf(want, sizeof want, "PUT /put/1 HTTP/1.1\r\n%sUser-Agent: " UA "\r\nAccept: */*\r\n"
                                "Content-Type: application/x-www-form-urlencoded\r\n"
                                "Content-Length: 3\r\n\r\nx=1", host);
    CHECK_STR(echoed(&fr.g), want);

    /* An empty filled body is still a body: Content-Length: 0. */
    CHECK_INT(h1_request_prepare(&plain_post, &fr.g.origin, "POST", "/p", NULL, 0, NULL, 0, "a=1", 3,
                                 5 * SEC, UA, err, sizeof err), 0);
    f = fill_of(NULL, NULL, "");
    CHECK(rig_send_fill(&fr.g, &plain_post, &f, 3000));
    snprintf(want, sizeof want, "POST /p HTTP/1.1\r\n%sUser-Agent: " UA "\r\nAccept: */*\r\n"
                                "Content-Type: application/x-www-form-urlencoded\r\n"
                                "Content-Length: 0\r\n\r\n", host);
    CHECK_STR(echoed(&fr.g), want);

    /* A large body needs a large buffer (through uv_write), which goes
     * once its request is done: an idle user does not keep it. A small
     * request's buffer stays for the next one. */
    size_t big = 1u << 20;
    char *body = malloc(big + 1);
    memset(body, 'b', big);
    body[big] = '\0';
    f = fill_of("/upload", NULL, body);
    CHECK(rig_send_fill(&fr.g, &plain_post, &f, 8000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "first");
    CHECK_INT(fr.g.conn.fill_cap, 0);
    free(body);
    f = fill_of("/small", "X-A: 1\r\n", NULL);
    CHECK(rig_send_fill(&fr.g, &fr.req, &f, 3000));
    snprintf(want, sizeof want, "GET /small HTTP/1.1\r\n%sUser-Agent: " UA "\r\nAccept: */*\r\n"
                                "X-A: 1\r\n\r\n", host);
    CHECK_STR(echoed(&fr.g), want);
    CHECK(fr.g.conn.fill_cap > 0 && fr.g.conn.fill_cap <= H1_FILL_KEEP_MAX);

    /* Headers only: the prepared request line. */
    f = fill_of(NULL, "X-B: 2\r\n", NULL);
    CHECK(rig_send_fill(&fr.g, &fr.req, &f, 3000));
    snprintf(want, sizeof want, "GET /root HTTP/1.1\r\n%sUser-Agent: " UA "\r\nAccept: */*\r\n"
                                "X-B: 2\r\n\r\n", host);
    CHECK_STR(echoed(&fr.g), want);
    CHECK_STR(fr.g.path, "/root");

    h1_request_free(&post);
    h1_request_free(&put);
    h1_request_free(&plain_post);
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(filled_redirects_cookies_retries)
{
    static const fault_conn_t conns[] = {
        {{"r" "HTTP/1.1 303 See Other\r\nLocation: next\r\nSet-Cookie: sid=1; Path=/a\r\n"
              "Content-Length: 0\r\n\r\n",
          "e",
          "r" "HTTP/1.1 307 Temporary Redirect\r\nLocation: /a/again\r\nContent-Length: 0\r\n\r\n",
          "e", "e", "e", "r" OK_FIRST, "x"}},
        {{"e"}},                                   /* the retry's new connection */
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 2, "GET", "/root", NULL), 0);
    h1_request_t post;
    char err[256];
    CHECK_INT(h1_request_prepare(&post, &fr.g.origin, "POST", "/start", NULL, 0, NULL, 0, "a=1", 3,
                                 5 * SEC, UA, err, sizeof err), 0);

    /* 303: a GET of the resolved Location without the filled body or its
     * framing, the fill's header lines kept (libcurl keeps them too). */
    http_fill_t f = fill_of("/a/b", "X-Token: abc\r\n", "{\"k\":\"v\"}");
    CHECK(rig_send_fill(&fr.g, &post, &f, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.path, "/a/next");
    CHECK(strncmp(echoed(&fr.g), "GET /a/next HTTP/1.1\r\n", 22) == 0);
    CHECK(strstr(fr.g.body, "Content-Length") == NULL);
    CHECK(strstr(fr.g.body, "Content-Type") == NULL);
    CHECK(strstr(fr.g.body, "\r\nX-Token: abc\r\n") != NULL);
    CHECK(strstr(fr.g.body, "\r\nCookie: sid=1\r\n") != NULL); /* set for /a by the 303 */

    /* 307: the same method with the filled body. */
    f = fill_of("/a/c", "X-Token: abc\r\n", "{\"k\":\"v\"}");
    CHECK(rig_send_fill(&fr.g, &post, &f, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.path, "/a/again");
    CHECK(strncmp(echoed(&fr.g), "POST /a/again HTTP/1.1\r\n", 24) == 0);
    CHECK(strstr(fr.g.body, "\r\nX-Token: abc\r\nContent-Type: application/x-www-form-urlencoded"
                            "\r\nContent-Length: 9\r\nCookie: sid=1\r\n\r\n{\"k\":\"v\"}") != NULL);
    CHECK(strstr(fr.g.body, "a=1") == NULL);

    /* Cookies go by the filled target's path. */
    f = fill_of("/b/x", NULL, NULL);
    CHECK(rig_send_fill(&fr.g, &fr.req, &f, 3000));
    CHECK(strncmp(echoed(&fr.g), "GET /b/x HTTP/1.1\r\n", 19) == 0);
    CHECK(strstr(fr.g.body, "Cookie:") == NULL);
    f = fill_of("/a/y?q=1", NULL, NULL);
    CHECK(rig_send_fill(&fr.g, &fr.req, &f, 3000));
    CHECK(strncmp(echoed(&fr.g), "GET /a/y?q=1 HTTP/1.1\r\n", 23) == 0);
    CHECK(strstr(fr.g.body, "\r\nCookie: sid=1\r\n\r\n") != NULL);

    /* A retry sends the same filled bytes again on a new connection. */
    f = fill_of("/first", NULL, NULL);
    CHECK(rig_send_fill(&fr.g, &fr.req, &f, 3000));
    CHECK_STR(fr.g.body, "first");
    f = fill_of("/retry/me", "X-Again: 1\r\n", NULL);
    CHECK(rig_send_fill(&fr.g, &fr.req, &f, 3000));
    CHECK(fr.g.error == NULL);
    CHECK(strncmp(echoed(&fr.g), "GET /retry/me HTTP/1.1\r\n", 24) == 0);
    CHECK(strstr(fr.g.body, "\r\nX-Again: 1\r\n") != NULL);
    CHECK_INT(fr.g.origin.retries, 1);
    h1_request_free(&post);
    CHECK_INT(fault_rig_done(&fr), 0);
}

TEST(response_headers_heard)
{
    /* Answers written a byte at a time: each name and value arrives split
     * over several reads. */
    static const fault_conn_t conns[] = {
        {{"p" "HTTP/1.1 302 Found\r\nLocation: /final\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n",
          "p" "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Token:   abc123  \r\n"
              "Set-Cookie: s=1\r\nX-Empty:\r\nContent-Length: 2\r\n\r\nok",
          "r" "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer: t\r\n\r\n",
          "r" "HTTP/1.1 200 OK\r\nX-Not: heard\r\nContent-Length: 5\r\n\r\nfirst",
          "e",
          "r" "HTTP/1.1 200 OK\r\nX-Cancel: here\r\nContent-Length: 5\r\n\r\nfirst"}},
        {{"r" OK_SECOND}},
    };
    fault_rig_t fr;
    CHECK_INT(fault_rig(&fr, conns, 2, "GET", "/start", NULL), 0);
    h1_request_t keep;
    prep(&keep, &fr.g.origin, "GET", "/start", 5 * SEC);
    keep.keep_headers = true;

    CHECK(rig_send(&fr.g, &keep, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "ok");
    CHECK_STR(fr.g.headers, "--\nLocation=/final\nX-Hop=1\nContent-Length=0\n"
                            "--\n--\nX-Token=abc123\nSet-Cookie=s=1\nX-Empty=\nContent-Length=2\n");
    /* Trailers are not response headers. */
    CHECK(rig_send(&fr.g, &keep, 3000));
    CHECK_STR(fr.g.body, "ok");
    CHECK_STR(fr.g.headers, "--\nTransfer-Encoding=chunked\n");
    /* A request that does not keep headers: not one call. */
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK_STR(fr.g.body, "first");
    CHECK_INT(fr.g.header_calls, 0);
    /* The cookie was still taken while the headers were heard. */
    CHECK(rig_send(&fr.g, &fr.req, 3000));
    CHECK(strstr(fr.g.body, "\r\nCookie: s=1\r\n") != NULL);

    /* Cancelled from on_header: no on_done; the next request goes out on a
     * new connection. */
    int before = fr.g.done_count;
    fr.g.cancel_in_header = true;
    h1_send(&fr.g.conn, &keep);
    rig_run(&fr.g, 200);
    CHECK_INT(fr.g.done_count, before);
    CHECK(!fr.g.cancel_in_header);
    CHECK(rig_send(&fr.g, &keep, 3000));
    CHECK(fr.g.error == NULL);
    CHECK_STR(fr.g.body, "second");
    CHECK_STR(fr.g.headers, "--\nContent-Length=6\n");
    h1_request_free(&keep);
    CHECK_INT(fault_rig_done(&fr), 0);
}

int main(void)
{
    check_prog = "h1";
    signal(SIGPIPE, SIG_IGN);
    RUN(request_heads);
    RUN(origins_and_sources);
    RUN(target_status_keep_alive_paths);
    RUN(connection_refused);
    RUN(next_address_after_refusal);
    RUN(connect_error_reported_later);
    RUN(timeout_and_cancel);
    RUN(server_closes_connection);
    RUN(reused_connection_retried_once);
    RUN(no_retry_for_post_nor_with_no_retry);
    RUN(idempotent_methods);
    RUN(responses_without_a_body);
    RUN(fresh_connection_failures_reported);
    RUN(body_framings);
    RUN(redirects_followed);
    RUN(redirect_locations_resolved);
    RUN(redirect_limits);
    RUN(cookies_sent_back);
    RUN(source_addresses);
    RUN(large_bodies_and_early_answers);
    RUN(request_heads_with_dynamic_headers);
    RUN(filled_sends);
    RUN(filled_redirects_cookies_retries);
    RUN(response_headers_heard);
    return check_done();
}

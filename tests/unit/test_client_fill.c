/* test_client_fill: templated requests through the client interface
 * (http/client.h), the same sends through both clients - hopper's own
 * HTTP/1.1 client and libcurl's - against the scripted fault server, which
 * echoes what it received: a fill's target, header lines and body; the
 * prepared request's bytes again after a filled send (the libcurl handle's
 * options set back); redirects and cookies of filled requests; the response
 * headers heard for a step that keeps them; and the checks both clients
 * share (client.c): a fill that is not HTTP, a templated Host. What each
 * client sent is compared with what the other sent, header lines in order of
 * name (the clients order them differently), and with what the test
 * expects. */
#include "check.h"
#include "hopper.h"
#include "http/client.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "fault_proc.h"

#define SEC 1000000ULL

/* ---- a loop with one client and one user ---------------------------------------- */

typedef struct {
    uv_loop_t loop;
    uv_timer_t tick;         /* keeps uv_run(ONCE) returning while we wait */
    http_client_t *client;
    http_conn_t *conn;
    int done_count;
    bool closed;
    long status;
    const char *error;
    char error_text[200];
    char body[8192];
    size_t body_len;
    char headers[4096];      /* what on_header heard: "Name=value\n", "--\n" at a response */
    size_t headers_len;
    int header_calls;
} rig_t;

static void on_tick(uv_timer_t *t) { (void)t; }

static void rig_on_body(void *arg, const char *d, size_t n)
{
    rig_t *g = arg;
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
    g->status = r->status;
    g->error = http_error_text(r, g->error_text, sizeof g->error_text);
    g->done_count++;
}

static void rig_on_closed(void *arg)
{
    ((rig_t *)arg)->closed = true;
}

static int rig_init(rig_t *g, http_client_kind_t kind, const char *host)
{
    memset(g, 0, sizeof *g);
    uv_loop_init(&g->loop);
    uv_timer_init(&g->loop, &g->tick);
    uv_timer_start(&g->tick, on_tick, 20, 20);
    http_client_config_t cfg = {
        .kind = kind,
        .loop = &g->loop,
        .host = host,
        .on_body = rig_on_body,
        .on_header = rig_on_header,
        .on_done = rig_on_done,
    };
    char err[256];
    g->client = http_client_new(&cfg, err, sizeof err);
    if (!g->client) {
        printf("#   client: %s\n", err);
        return -1;
    }
    g->conn = http_conn_new(g->client, g);
    return g->conn ? 0 : -1;
}

/* Sends r with fill (may be NULL), waits for on_done; whether it came. */
static bool rig_send(rig_t *g, http_request_t *r, const http_fill_t *fill)
{
    int before = g->done_count;
    g->body_len = 0;
    g->body[0] = '\0';
    g->headers_len = 0;
    g->headers[0] = '\0';
    g->header_calls = 0;
    http_result_t failed;
    if (http_send(g->conn, r, fill, &failed) != 0) {
        g->error = http_error_text(&failed, g->error_text, sizeof g->error_text);
        return false;
    }
    uint64_t until = uv_now(&g->loop) + 5000;
    while (g->done_count == before && uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
    return g->done_count == before + 1;
}

static void rig_close(rig_t *g)
{
    http_conn_close(g->conn, rig_on_closed);
    uint64_t until = uv_now(&g->loop) + 2000;
    while (!g->closed && uv_now(&g->loop) < until)
        uv_run(&g->loop, UV_RUN_ONCE);
    CHECK(g->closed);
    http_client_close(g->client);
    uv_close((uv_handle_t *)&g->tick, NULL);
    uv_run(&g->loop, UV_RUN_DEFAULT);
}

static void rig_free(rig_t *g)
{
    http_client_free(g->client);
    CHECK_INT(uv_loop_close(&g->loop), 0);
}

/* ---- requests ---------------------------------------------------------------------- */

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

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An echoed request (after the echo's "peer=ADDR\n" line) made comparable
 * between the clients: the request line, the header lines sorted (spaces
 * at a line's end dropped: an empty value is "Name: " from one client and
 * "Name:" from the other; the Host line "Host: ORIGIN", as each client has a
 * server of its own), a blank line, the body. */
static void normalize(const char *echo, char *out, size_t cap)
{
    const char *nl = strchr(echo, '\n');
    const char *p = nl ? nl + 1 : echo;
    char copy[8192];
    snprintf(copy, sizeof copy, "%s", p);
    char *end = strstr(copy, "\r\n\r\n");
    const char *body = end ? end + 4 : "";
    if (end)
        end[2] = '\0';
    const char *lines[64];
    size_t n = 0;
    for (char *s = copy; *s && n < 64;) {
        char *cr = strstr(s, "\r\n");
        if (!cr)
            break;
        *cr = '\0';
        for (char *t = cr; t > s && t[-1] == ' '; t--)
            t[-1] = '\0';
        lines[n++] = strncmp(s, "Host: 127.0.0.1:", 16) == 0 ? "Host: ORIGIN" : s;
        s = cr + 2;
    }
    size_t used = 0;
    out[0] = '\0';
    if (n == 0)
        return;
    qsort(lines + 1, n - 1, sizeof *lines, cmp_lines);
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "%s\n", lines[i]);
    snprintf(out + used, used < cap ? cap - used : 0, "\n%s", body);
}

/* The plan of the test: its headers, one static and one templated
 * (NULL templates: a plan made by hand, all static, is tested by test_h1). */
static char *plan_headers[] = {"X-Run: 7", "Authorization: Bearer {{token}}"};
static tmpl_t plan_tmpls[2] = {{.dynamic = false}, {.dynamic = true}};

static void plan_make(plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->headers = plan_headers;
    plan->header_t = plan_tmpls;
    plan->n_headers = 2;
}

static void step_make(plan_step_t *s, const char *method, const char *target, char **headers,
                      tmpl_t *tmpls, size_t n, const char *body, bool keep_headers)
{
    memset(s, 0, sizeof *s);
    s->method = (char *)method;
    s->name = (char *)target;
    s->target = (char *)target;
    s->headers = headers;
    s->header_t = tmpls;
    s->n_headers = n;
    s->body = (char *)body;
    s->body_len = body ? strlen(body) : 0;
    s->keep_headers = keep_headers;
    s->line = 12;
}

/* ---- the same sends through each client --------------------------------------------- */

#define N_SENDS 10

/* What each send of run_sends saw, to compare between the clients. */
typedef struct {
    char sent[N_SENDS][8192];
    char heard[N_SENDS][8300];
    int ok[N_SENDS];
} seen_t;

static const fault_conn_t script[] = {
    {{"e", "e", "e", "e",
      "r" "HTTP/1.1 303 See Other\r\nLocation: next\r\nSet-Cookie: sid=1; Path=/a\r\n"
          "Content-Length: 0\r\n\r\n",
      "e",
      "r" "HTTP/1.1 307 Temporary Redirect\r\nLocation: /a/again\r\nContent-Length: 0\r\n\r\n",
      "e", "e"}},
    {{"r" "HTTP/1.1 302 Found\r\nLocation: /final\r\nX-Hop: 1\r\nContent-Length: 0\r\n\r\n",
      "r" "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-Token:  abc123 \r\nX-Empty:\r\n"
          "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer: t\r\n\r\n",
      "r" "HTTP/1.1 200 OK\r\nX-Not: heard\r\nContent-Length: 5\r\n\r\nfirst"}},
};

static void run_sends(http_client_kind_t kind, seen_t *seen)
{
    memset(seen, 0, sizeof *seen);
    const char *name = kind == HTTP_CLIENT_NATIVE ? "native" : "curl";
    fault_t f;
    CHECK_INT(fault_start(&f, script, 1), 0);
    rig_t g;
    CHECK_INT(rig_init(&g, kind, f.url), 0);
    plan_t plan;
    plan_make(&plan);

    char *get_headers[] = {"X-Static: 1", "X-Token: {{t}}", "X-Empty: {{e}}"};
    tmpl_t get_tmpls[3] = {{.dynamic = false}, {.dynamic = true}, {.dynamic = true}};
    char *post_headers[] = {"Content-Type: {{type}}"};
    tmpl_t post_tmpls[1] = {{.dynamic = true}};
    plan_step_t get, post, form;
    step_make(&get, "GET", "/items/{{id}}", get_headers, get_tmpls, 3, NULL, false);
    step_make(&post, "POST", "/form", post_headers, post_tmpls, 1, "a=1", false);
    step_make(&form, "POST", "/start", NULL, NULL, 0, "a=1", false);
    char root[96], url_post[96], url_form[96], err[256];
    snprintf(root, sizeof root, "%s/", f.url);
    snprintf(url_post, sizeof url_post, "%s/form", f.url);
    snprintf(url_form, sizeof url_form, "%s/start", f.url);
    http_request_t *rget = http_request_new(g.client, &plan, &get, root, 5 * SEC, err, sizeof err);
    http_request_t *rpost = http_request_new(g.client, &plan, &post, url_post, 5 * SEC, err, sizeof err);
    http_request_t *rform = http_request_new(g.client, &plan, &form, url_form, 5 * SEC, err, sizeof err);
    CHECK(rget && rpost && rform);

    static const char auth[] = "Authorization: Bearer zz\r\n";
    char lines[256];
    http_fill_t fills[8];
    snprintf(lines, sizeof lines, "%sX-Token: abc\r\nX-Empty: \r\n", auth);
    /* 0: a templated target (its fragment stays here), header lines */
    fills[0] = fill_of("/items/42?x=1#frag", lines, NULL);
    /* 1: a templated Content-Type and body */
    static char post_lines[128];
    snprintf(post_lines, sizeof post_lines, "%sContent-Type: application/json\r\n", auth);
    fills[1] = fill_of(NULL, post_lines, "{\"n\":12345}");
    /* 2: a static step filled, 3: then not (the prepared request again) */
    fills[2] = fill_of("/other", "X-A: 1\r\n", "b=22");
    /* 4: 303 of a filled POST; 5: 307 */
    fills[4] = fill_of("/a/b", "X-A: 1\r\n", "{\"k\":\"v\"}");
    fills[5] = fill_of("/a/c", "X-A: 1\r\n", "{\"k\":\"v\"}");

    struct {
        http_request_t *r;
        const http_fill_t *fill;
    } sends[6] = {{rget, &fills[0]}, {rpost, &fills[1]}, {rform, &fills[2]}, {rform, NULL},
                  {rform, &fills[4]}, {rform, &fills[5]}};
    for (int i = 0; i < 6; i++) {
        seen->ok[i] = rig_send(&g, sends[i].r, sends[i].fill) && g.error == NULL && g.status == 200;
        if (!seen->ok[i])
            printf("#   %s send %d: %s (status %ld)\n", name, i, g.error ? g.error : "-", g.status);
        normalize(g.body, seen->sent[i], sizeof seen->sent[i]);
    }
    /* 6: cookies by the filled target's path (sid=1 is for /a) */
    fills[6] = fill_of("/a/y?q=1", lines, NULL);
    seen->ok[6] = rig_send(&g, rget, &fills[6]) && g.error == NULL;
    normalize(g.body, seen->sent[6], sizeof seen->sent[6]);

    rig_close(&g);
    http_request_free(g.client, rget);
    http_request_free(g.client, rpost);
    http_request_free(g.client, rform);
    rig_free(&g);
    CHECK_INT(fault_stop(&f), 0);

    /* The response headers of a step that keeps them. */
    CHECK_INT(fault_start(&f, script + 1, 1), 0);
    CHECK_INT(rig_init(&g, kind, f.url), 0);
    plan_step_t keep, plain;
    step_make(&keep, "GET", "/start", NULL, NULL, 0, NULL, true);
    step_make(&plain, "GET", "/plain", NULL, NULL, 0, NULL, false);
    snprintf(url_form, sizeof url_form, "%s/start", f.url);
    snprintf(url_post, sizeof url_post, "%s/plain", f.url);
    http_request_t *rkeep = http_request_new(g.client, &plan, &keep, url_form, 5 * SEC, err, sizeof err);
    http_request_t *rplain = http_request_new(g.client, &plan, &plain, url_post, 5 * SEC, err, sizeof err);
    CHECK(rkeep && rplain);
    fills[7] = fill_of(NULL, auth, NULL);
    seen->ok[7] = rig_send(&g, rkeep, &fills[7]) && g.error == NULL;
    snprintf(seen->heard[7], sizeof seen->heard[7], "%s", g.headers);
    seen->ok[8] = rig_send(&g, rplain, &fills[7]) && g.error == NULL;
    snprintf(seen->heard[8], sizeof seen->heard[8], "%s|%d", g.body, g.header_calls);
    rig_close(&g);
    http_request_free(g.client, rkeep);
    http_request_free(g.client, rplain);
    rig_free(&g);
    CHECK_INT(fault_stop(&f), 0);
}

TEST(same_sends_through_both_clients)
{
    static seen_t native, curl;
    run_sends(HTTP_CLIENT_NATIVE, &native);
    run_sends(HTTP_CLIENT_CURL, &curl);
    for (int i = 0; i < 9; i++) {
        CHECK(native.ok[i]);
        CHECK(curl.ok[i]);
        if (strcmp(native.sent[i], curl.sent[i]) != 0)
            printf("#   send %d, native:\n%s\n#   curl:\n%s\n", i, native.sent[i], curl.sent[i]);
        CHECK(strcmp(native.sent[i], curl.sent[i]) == 0);
        CHECK(strcmp(native.heard[i], curl.heard[i]) == 0);
    }
    CHECK_STR(native.sent[0],
              "GET /items/42?x=1 HTTP/1.1\nAccept: */*\nAuthorization: Bearer zz\nHost: ORIGIN\n"
              "User-Agent: " HOPPER_USER_AGENT "\nX-Empty:\nX-Run: 7\nX-Static: 1\nX-Token: abc\n\n");
    /* The templated Content-Type instead of the default; the length of the filled body. */
    CHECK_STR(native.sent[1],
              "POST /form HTTP/1.1\nAccept: */*\nAuthorization: Bearer zz\nContent-Length: 11\n"
              "Content-Type: application/json\nHost: ORIGIN\nUser-Agent: " HOPPER_USER_AGENT
              "\nX-Run: 7\n\n{\"n\":12345}");
    CHECK(strstr(native.sent[2], "POST /other HTTP/1.1\n") == native.sent[2]);
    CHECK(strstr(native.sent[2], "\nContent-Length: 4\n") != NULL);
    CHECK(strstr(native.sent[2], "\n\nb=22") != NULL);
    /* After a filled send, the prepared request as it was. */
    CHECK_STR(native.sent[3], "POST /start HTTP/1.1\nAccept: */*\nContent-Length: 3\n"
                              "Content-Type: application/x-www-form-urlencoded\nHost: ORIGIN\n"
                              "User-Agent: " HOPPER_USER_AGENT "\nX-Run: 7\n\na=1");
    /* 303: a GET without body; 307: the method and the filled body. */
    CHECK(strstr(native.sent[4], "GET /a/next HTTP/1.1\n") == native.sent[4]);
    CHECK(strstr(native.sent[4], "Content-") == NULL);
    CHECK(strstr(native.sent[4], "\nX-A: 1\n") != NULL);
    CHECK(strstr(native.sent[4], "\nCookie: sid=1\n") != NULL);
    CHECK(strstr(native.sent[5], "POST /a/again HTTP/1.1\n") == native.sent[5]);
    CHECK(strstr(native.sent[5], "\nContent-Length: 9\n") != NULL);
    CHECK(strstr(native.sent[5], "\n\n{\"k\":\"v\"}") != NULL);
    CHECK(strstr(native.sent[6], "GET /a/y?q=1 HTTP/1.1\n") == native.sent[6]);
    CHECK(strstr(native.sent[6], "\nCookie: sid=1\n") != NULL);
    /* Headers heard: each response's (a redirect's, a 1xx), no trailer;
     * none for a step that does not keep them. */
    CHECK_STR(native.heard[7], "--\nLocation=/final\nX-Hop=1\nContent-Length=0\n--\n--\n"
                               "X-Token=abc123\nX-Empty=\nTransfer-Encoding=chunked\n");
    CHECK_STR(native.heard[8], "first|0");
}

TEST(fills_that_are_not_http_fail_to_start)
{
    fault_t f;
    static const fault_conn_t none[] = {{{NULL}}};
    CHECK_INT(fault_start(&f, none, 1), 0);
    for (int k = 0; k < 2; k++) {
        rig_t g;
        CHECK_INT(rig_init(&g, k ? HTTP_CLIENT_CURL : HTTP_CLIENT_NATIVE, f.url), 0);
        plan_t plan;
        plan_make(&plan);
        plan_step_t step;
        step_make(&step, "GET", "/x/{{id}}", NULL, NULL, 0, NULL, false);
        char err[256], root[96];
        snprintf(root, sizeof root, "%s/", f.url);
        http_request_t *r = http_request_new(g.client, &plan, &step, root, SEC, err, sizeof err);
        CHECK(r != NULL);
        static const char *const targets[] = {"relative", "", "/a b", "/tab\there", "/\x80", "#/x"};
        for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
            http_fill_t fill = fill_of(targets[i], NULL, NULL);
            CHECK(!rig_send(&g, r, &fill));
            CHECK_STR(g.error, "cannot create request");
        }
        static const char *const lines[] = {"X-A: 1", "X-A: 1\n", "X-A: 1\r", "X-A: a\nb\r\n",
                                            "X-A: a\rb\r\n", "\r\n", ": v\r\n", "X A: 1\r\n",
                                            "NoColon\r\n", "X-A: 1\r\n\r\n", "X-A: \x01\r\n"};
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            http_fill_t fill = fill_of("/ok", lines[i], NULL);
            CHECK(!rig_send(&g, r, &fill));
            CHECK_STR(g.error, "cannot create request");
        }
        CHECK_INT(g.done_count, 0);

        /* A templated Host or Content-Length is refused when the request
         * is made, naming the step. */
        char *host[] = {"Host: {{h}}"};
        char *length[] = {"content-length: {{n}}"};
        tmpl_t dyn[1] = {{.dynamic = true}};
        step_make(&step, "GET", "/h", host, dyn, 1, NULL, false);
        err[0] = '\0';
        CHECK(http_request_new(g.client, &plan, &step, root, SEC, err, sizeof err) == NULL);
        CHECK(strncmp(err, "request 'GET /h' (line 12): the Host header cannot be a template", 64) == 0);
        step_make(&step, "POST", "/l", length, dyn, 1, "x", false);
        err[0] = '\0';
        CHECK(http_request_new(g.client, &plan, &step, root, SEC, err, sizeof err) == NULL);
        CHECK(strstr(err, "request 'POST /l' (line 12): the Content-Length header") == err);
        /* The same in the plan's headers. */
        plan.headers = host;
        plan.header_t = dyn;
        plan.n_headers = 1;
        step_make(&step, "GET", "/p", NULL, NULL, 0, NULL, false);
        CHECK(http_request_new(g.client, &plan, &step, root, SEC, err, sizeof err) == NULL);
        CHECK(strstr(err, "the Host header cannot be a template") != NULL);
        rig_close(&g);
        http_request_free(g.client, r);
        rig_free(&g);
    }
    kill(f.pid, SIGKILL);
    fault_stop(&f);
}

int main(void)
{
    check_prog = "client_fill";
    signal(SIGPIPE, SIG_IGN);
    RUN(same_sends_through_both_clients);
    RUN(fills_that_are_not_http_fail_to_start);
    return check_done();
}

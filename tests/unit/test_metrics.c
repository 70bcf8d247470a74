/* Unit tests for the live metrics: the Prometheus text exposition of a
 * crafted snapshot (exact lines, escaping, the histogram's invariants, the
 * format's structure), --metrics-listen's parser, and the HTTP server on a
 * real loop and socket (200, HEAD, 404, 405, 400, 431, a request cut across
 * writes, a port in use, every handle closed at the end). */
#include "check.h"
#include "metrics/metrics.h"
#include "metrics/prom.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- the exposition ------------------------------------------------------- */

static snap_entry_t entries[2];

/* Two endpoints, one with every character a label must escape and a byte
 * that is not UTF-8, and the Aggregated row. */
static void craft(snap_t *s)
{
    snap_init(s);
    memset(entries, 0, sizeof entries);
    entries[0].method = "GET";
    entries[0].name = "/a \"q\" \\b\nc\xff";
    entries[0].requests = 11;         /* one took over a minute: above every bound */
    entries[0].failures = 2;
    entries[0].content_bytes = 1234;
    entries[0].sum_us = 62500500;     /* 62.5005 s */
    uint64_t le[SNAP_LE_N] = {1, 3, 3, 5, 6, 8, 9, 9, 10, 10, 10, 10, 10, 10, 10};
    memcpy(entries[0].le, le, sizeof le);
    entries[0].codes[0] = (snap_code_t){200, 7};
    entries[0].codes[1] = (snap_code_t){503, 2};
    entries[0].n_codes = 2;
    entries[0].codes_other = 1;
    for (int i = 0; i < SNAP_NPCT; i++)
        entries[0].pct_us[i] = 1000 * (uint64_t)(i + 1);
    entries[1].method = "POST";
    entries[1].name = "/never";      /* never called: zeros, NaN quantiles */
    s->entries = entries;
    s->n_entries = 2;
    s->total = entries[0];
    s->total.method = "";
    s->total.name = "Aggregated";
    s->users = 7;
    s->target_users = 9;
    s->spawn_rate = 2.5;
    s->in_flight = 3;
    s->elapsed_ms = 61500;
    s->state = RUN_RAMPING_UP;
    s->self = (snap_worker_t){.cpu_pct = 12.5f, .lag_ms = 2.5f, .alive = true};
    s->client = "native HTTP/1.1";
}

static char *render(const snap_t *s)
{
    prom_buf_t b = {0};
    prom_render(s, &b);
    return b.data;
}

/* Whether text has this exact line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

/* The number at the end of the line that starts with prefix, or -1. */
static double value_of(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}

#define EP0 "method=\"GET\",name=\"/a \\\"q\\\" \\\\b\\nc?\""

TEST(counters_exact_lines_and_escaping)
{
    snap_t s;
    craft(&s);
    char *t = render(&s);
    CHECK(has_line(t, "# HELP hopper_requests_total Requests completed per endpoint, failures "
                      "included, since the start or the last statistics reset."));
    CHECK(has_line(t, "# TYPE hopper_requests_total counter"));
    CHECK(has_line(t, "hopper_requests_total{" EP0 "} 11"));
    CHECK(has_line(t, "hopper_requests_total{method=\"POST\",name=\"/never\"} 0"));
    CHECK(has_line(t, "hopper_failures_total{" EP0 "} 2"));
    CHECK(has_line(t, "hopper_response_bytes_total{" EP0 "} 1234"));
    CHECK(has_line(t, "# TYPE hopper_responses_total counter"));
    CHECK(has_line(t, "hopper_responses_total{" EP0 ",code=\"200\"} 7"));
    CHECK(has_line(t, "hopper_responses_total{" EP0 ",code=\"503\"} 2"));
    CHECK(has_line(t, "hopper_responses_total{" EP0 ",code=\"other\"} 1"));
    /* Counters leave the Aggregated row out: sum() over them is the total. */
    CHECK(strstr(t, "hopper_requests_total{method=\"\"") == NULL);
    free(t);
}

TEST(histogram_buckets)
{
    snap_t s;
    craft(&s);
    char *t = render(&s);
    CHECK(has_line(t, "# TYPE hopper_request_duration_seconds histogram"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"0.001\"} 1"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"0.0025\"} 3"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"0.25\"} 9"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"1\"} 10"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"60\"} 10"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"+Inf\"} 11"));
    CHECK(has_line(t, "hopper_request_duration_seconds_sum{" EP0 "} 62.5005"));
    CHECK(has_line(t, "hopper_request_duration_seconds_count{" EP0 "} 11"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{method=\"POST\",name=\"/never\","
                      "le=\"+Inf\"} 0"));
    CHECK(has_line(t, "hopper_request_duration_seconds_sum{method=\"POST\",name=\"/never\"} 0"));

    /* Every bound, in order, cumulative, and +Inf equal to _count. */
    static const char *const bounds[SNAP_LE_N] = {
        "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
        "5", "10", "30", "60"};
    char prefix[256];
    double prev = 0;
    for (int k = 0; k < SNAP_LE_N; k++) {
        snprintf(prefix, sizeof prefix, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"%s\"}",
                 bounds[k]);
        double v = value_of(t, prefix);
        CHECK(v >= prev);
        prev = v;
    }
    double inf = value_of(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"+Inf\"}");
    CHECK(inf >= prev);
    CHECK(inf == value_of(t, "hopper_request_duration_seconds_count{" EP0 "}"));
    CHECK(inf == value_of(t, "hopper_requests_total{" EP0 "}"));
    free(t);

    /* Buckets that went down, or past the count, are kept valid. */
    craft(&s);
    entries[0].le[3] = 2;             /* below le[2] = 3 */
    entries[0].le[14] = 12;           /* above requests = 11 */
    t = render(&s);
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"0.01\"} 3"));
    CHECK(has_line(t, "hopper_request_duration_seconds_bucket{" EP0 ",le=\"60\"} 11"));
    free(t);
}

TEST(quantiles)
{
    snap_t s;
    craft(&s);
    char *t = render(&s);
    /* A real summary (Prometheus refuses a quantile label elsewhere), named
     * apart from the histogram. */
    CHECK(has_line(t, "# TYPE hopper_request_latency_seconds summary"));
    /* pct_us[i] = 1 ms * (i + 1): 50% is 1 ms, 90% (index 4) 5 ms, 95% 6 ms,
     * 99% 8 ms, 99.9% 9 ms. */
    CHECK(has_line(t, "hopper_request_latency_seconds{" EP0 ",quantile=\"0.5\"} 0.001"));
    CHECK(has_line(t, "hopper_request_latency_seconds{" EP0 ",quantile=\"0.9\"} 0.005"));
    CHECK(has_line(t, "hopper_request_latency_seconds{" EP0 ",quantile=\"0.95\"} 0.006"));
    CHECK(has_line(t, "hopper_request_latency_seconds{" EP0 ",quantile=\"0.99\"} 0.008"));
    CHECK(has_line(t, "hopper_request_latency_seconds{" EP0 ",quantile=\"0.999\"} 0.009"));
    CHECK(has_line(t, "hopper_request_latency_seconds_sum{" EP0 "} 62.5005"));
    CHECK(has_line(t, "hopper_request_latency_seconds_count{" EP0 "} 11"));
    CHECK(has_line(t, "hopper_request_latency_seconds{method=\"POST\",name=\"/never\","
                      "quantile=\"0.99\"} NaN"));
    CHECK(has_line(t, "hopper_request_latency_seconds_count{method=\"POST\",name=\"/never\"} 0"));
    /* The Aggregated row: a family of its own, without endpoint labels. */
    CHECK(strstr(t, "name=\"Aggregated\"") == NULL);
    CHECK(has_line(t, "# TYPE hopper_aggregated_latency_seconds summary"));
    CHECK(has_line(t, "hopper_aggregated_latency_seconds{quantile=\"0.99\"} 0.008"));
    CHECK(has_line(t, "hopper_aggregated_latency_seconds_sum 62.5005"));
    CHECK(has_line(t, "hopper_aggregated_latency_seconds_count 11"));
    /* The labels say which percentile: the table of indexes must agree. */
    CHECK(snap_pct_fraction[4] == 0.90 && snap_pct_fraction[5] == 0.95 &&
          snap_pct_fraction[7] == 0.99 && snap_pct_fraction[8] == 0.999);
    free(t);
}

TEST(run_gauges)
{
    snap_t s;
    craft(&s);
    char *t = render(&s);
    CHECK(has_line(t, "# TYPE hopper_users gauge"));
    CHECK(has_line(t, "hopper_users 7"));
    CHECK(has_line(t, "hopper_target_users 9"));
    CHECK(has_line(t, "hopper_spawn_rate 2.5"));
    CHECK(has_line(t, "hopper_in_flight 3"));
    CHECK(has_line(t, "hopper_elapsed_seconds 61.5"));
    CHECK(has_line(t, "hopper_paused 0"));
    CHECK(has_line(t, "hopper_run_state{state=\"ramping_up\"} 1"));
    CHECK(has_line(t, "hopper_run_state{state=\"running\"} 0"));
    CHECK(has_line(t, "hopper_run_state{state=\"done\"} 0"));
    CHECK(has_line(t, "hopper_cpu_ratio{process=\"main\"} 0.125"));
    CHECK(has_line(t, "hopper_loop_lag_seconds{process=\"main\"} 0.0025"));
    CHECK(has_line(t, "hopper_stats_resets_total 0"));
    CHECK(has_line(t, "hopper_info{version=\"" HOPPER_VERSION "\",client=\"native HTTP/1.1\"} 1"));
    /* Closed model, no workers: their families are left out. */
    CHECK(strstr(t, "hopper_arrival_rate") == NULL);
    CHECK(strstr(t, "worker1") == NULL);
    CHECK(strstr(t, "hopper_workers_alive") == NULL);
    free(t);

    craft(&s);
    s.open = true;
    s.arrival_rate = 200;
    s.arrivals = 1000;
    s.dropped = 4;
    s.pool_users = 12;
    s.max_users = 500;
    s.n_workers = 2;
    s.workers[0] = (snap_worker_t){.cpu_pct = 50, .lag_ms = 1, .alive = true};
    s.workers[1] = (snap_worker_t){.cpu_pct = 150, .lag_ms = 0, .alive = false};
    snap_event_t ev[3] = {{.kind = EVENT_RESET_STATS}, {.kind = EVENT_PAUSE},
                          {.kind = EVENT_RESET_STATS}};
    s.events = ev;
    s.n_events = 3;
    t = render(&s);
    CHECK(has_line(t, "# TYPE hopper_arrival_rate gauge"));
    CHECK(has_line(t, "hopper_arrival_rate 200"));
    CHECK(has_line(t, "# TYPE hopper_dropped_arrivals_total counter"));
    CHECK(has_line(t, "hopper_dropped_arrivals_total 4"));
    CHECK(has_line(t, "hopper_arrivals_total 1000"));
    CHECK(has_line(t, "hopper_pool_users 12"));
    CHECK(has_line(t, "hopper_max_users 500"));
    CHECK(has_line(t, "hopper_cpu_ratio{process=\"worker1\"} 0.5"));
    CHECK(has_line(t, "hopper_cpu_ratio{process=\"worker2\"} 1.5"));
    CHECK(has_line(t, "hopper_loop_lag_seconds{process=\"worker1\"} 0.001"));
    CHECK(has_line(t, "hopper_workers_alive 1"));
    CHECK(has_line(t, "hopper_stats_resets_total 2"));
    free(t);
}

/* The format's structure: every sample belongs to a family announced by
 * # HELP then # TYPE, a family's samples are together, each family appears
 * once, the text ends with a newline and has no empty line; a quantile label
 * only in a summary, an le label only in a histogram's _bucket (what
 * promtool checks; tests/e2e/metrics.sh runs it on this text too, written
 * to $TEST_METRICS_DUMP). */
TEST(structure)
{
    snap_t s;
    craft(&s);
    s.open = true;
    s.n_workers = 1;
    char *t = render(&s);
    CHECK(t[strlen(t) - 1] == '\n');
    CHECK(strstr(t, "\n\n") == NULL);
    char seen[64][80];
    size_t n_seen = 0;
    char family[80] = "", type[16] = "", help_for[80] = "";
    int samples = 0;
    for (char *line = t; *line;) {
        char *end = strchr(line, '\n');
        size_t len = (size_t)(end - line);
        char name[80];
        if (strncmp(line, "# HELP ", 7) == 0) {
            sscanf(line + 7, "%79s", help_for);
            CHECK(len > 8 + strlen(help_for));          /* some text */
        } else if (strncmp(line, "# TYPE ", 7) == 0) {
            CHECK(sscanf(line + 7, "%79s %15s", family, type) == 2);
            CHECK_STR(family, help_for);                 /* HELP just before */
            CHECK(strcmp(type, "counter") == 0 || strcmp(type, "gauge") == 0 ||
                  strcmp(type, "histogram") == 0 || strcmp(type, "summary") == 0);
            if (strcmp(type, "counter") == 0)
                CHECK(strlen(family) > 6 && strcmp(family + strlen(family) - 6, "_total") == 0);
            for (size_t i = 0; i < n_seen; i++)
                CHECK(strcmp(seen[i], family) != 0);     /* once only */
            if (n_seen < 64)
                snprintf(seen[n_seen++], sizeof seen[0], "%s", family);
            CHECK(strncmp(family, "hopper_", 7) == 0);
        } else {
            CHECK(line[0] != '#');
            size_t nl = strcspn(line, "{ ");
            CHECK(nl < sizeof name);
            snprintf(name, sizeof name, "%.*s", (int)nl, line);
            size_t fl = strlen(family);
            bool mine = strcmp(name, family) == 0;
            bool histogram = strcmp(type, "histogram") == 0, summary = strcmp(type, "summary") == 0;
            if (!mine && (histogram || summary) && strncmp(name, family, fl) == 0)
                mine = (histogram && strcmp(name + fl, "_bucket") == 0) ||
                       strcmp(name + fl, "_sum") == 0 || strcmp(name + fl, "_count") == 0;
            if (!mine)
                printf("#   sample of %s under family %s\n", name, family);
            CHECK(mine);
            const char *labels_end = line[nl] == '{' ? memchr(line, '}', len) : NULL;
            size_t ll = labels_end ? (size_t)(labels_end - line) : 0;
            bool quantile = ll && (memmem(line, ll, "{quantile=\"", 11) ||
                                   memmem(line, ll, ",quantile=\"", 11));
            bool le = ll && (memmem(line, ll, "{le=\"", 5) || memmem(line, ll, ",le=\"", 5));
            if (quantile && !(summary && strcmp(name, family) == 0))
                printf("#   a quantile label in %s, of type %s\n", name, type);
            CHECK(!quantile || (summary && strcmp(name, family) == 0));
            CHECK(!le || (histogram && strcmp(name + fl, "_bucket") == 0));
            samples++;
        }
        line = end + 1;
    }
    CHECK(samples > 50);
    CHECK(n_seen >= 20);
    const char *dump = getenv("TEST_METRICS_DUMP");
    if (dump) {
        FILE *f = fopen(dump, "w");
        CHECK(f != NULL);
        if (f) {
            fputs(t, f);
            fclose(f);
        }
    }
    free(t);
}

TEST(label_value_escaping)
{
    prom_buf_t b = {0};
    prom_label_value(&b, "a\\b\"c\nd");
    CHECK_STR(b.data, "a\\\\b\\\"c\\nd");
    b.len = 0;
    prom_label_value(&b, "caf\xc3\xa9 \xc3(");   /* UTF-8 kept, a cut sequence replaced */
    CHECK_STR(b.data, "caf\xc3\xa9 ?(");
    prom_buf_free(&b);
}

/* ---- --metrics-listen ------------------------------------------------------- */

static int parse(const char *text, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    err[0] = '\0';
    return metrics_parse_listen(text, &ss, err, errlen);
}

TEST(parse_listen)
{
    struct sockaddr_storage ss;
    char err[256];
    CHECK_INT(metrics_parse_listen("127.0.0.1:9646", &ss, err, sizeof err), 0);
    CHECK_INT(ss.ss_family, AF_INET);
    CHECK_INT(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9646);
    CHECK_INT(metrics_parse_listen("0.0.0.0:0", &ss, err, sizeof err), 0);
    CHECK_INT(metrics_parse_listen("[::1]:65535", &ss, err, sizeof err), 0);
    CHECK_INT(ss.ss_family, AF_INET6);
    CHECK_INT(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 65535);
    CHECK_INT(metrics_parse_listen("[::]:9646", &ss, err, sizeof err), 0);

    static const struct {
        const char *text, *says;
    } bad[] = {
        {"127.0.0.1", "expected ADDR:PORT"},
        {"127.0.0.1:", "the port must be a number from 0 to 65535"},
        {"127.0.0.1:65536", "the port must be"},
        {"127.0.0.1:+80", "the port must be"},
        {"127.0.0.1:80x", "the port must be"},
        {"127.0.0.1:123456", "the port must be"},
        {":9646", "give the address to listen on"},
        {"localhost:9646", "'localhost' is not a numeric IPv4 address"},
        {"256.0.0.1:9646", "not a numeric IPv4 address"},
        {"::1:9646", "an IPv6 address goes in brackets"},
        {"[::1]9646", "expected [IPv6]:PORT"},
        {"[::1", "expected [IPv6]:PORT"},
        {"[]:9646", "not an IPv6 address in the brackets"},
        {"[127.0.0.1]:9646", "not a numeric IPv6 address"},
        {"", "expected ADDR:PORT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i].text, err, sizeof err);
        if (rc == 0 || !strstr(err, bad[i].says) || strncmp(err, "--metrics-listen '", 18) != 0)
            printf("#   '%s': rc %d, '%s'\n", bad[i].text, rc, err);
        CHECK(rc == -1);
        CHECK(strstr(err, bad[i].says) != NULL);
        CHECK(strncmp(err, "--metrics-listen '", 18) == 0);
    }
}

/* ---- the server, on a real loop ------------------------------------------------ */

static void fake_snapshot(void *ctx, snap_t *out)
{
    int *calls = ctx;
    (*calls)++;
    out->entries = snap_reserve(out->entries, &out->cap_entries, 1, sizeof *out->entries);
    memset(out->entries, 0, sizeof *out->entries);
    out->entries[0].method = "GET";
    out->entries[0].name = "/x";
    out->entries[0].requests = 42;
    out->n_entries = 1;
    out->total = out->entries[0];
    out->total.method = "";
    out->total.name = "Aggregated";
}

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t later;
    const char *first, *second;   /* the request, in one or two writes */
    char resp[65536];
    size_t len;
    bool ended;
    int closed;
} client_t;

static void client_closed(uv_handle_t *h) { ((client_t *)h->data)->closed++; }

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    client_t *c = h->data;
    *buf = uv_buf_init(c->resp + c->len, (unsigned)(sizeof c->resp - 1 - c->len));
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf;
    client_t *c = s->data;
    if (n > 0) {
        c->len += (size_t)n;
        c->resp[c->len] = '\0';
    } else if (n < 0) {
        c->ended = true;
        uv_close((uv_handle_t *)&c->tcp, client_closed);
        uv_close((uv_handle_t *)&c->later, client_closed);
    }
}

static void client_send(client_t *c, const char *text)
{
    uv_buf_t b = uv_buf_init((char *)text, (unsigned)strlen(text));
    uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
}

static void client_later(uv_timer_t *t)
{
    client_t *c = t->data;
    client_send(c, c->second);
}

static void client_connected(uv_connect_t *req, int status)
{
    client_t *c = req->data;
    if (status < 0) {
        c->ended = true;
        uv_close((uv_handle_t *)&c->tcp, client_closed);
        uv_close((uv_handle_t *)&c->later, client_closed);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_read);
    client_send(c, c->first);
    if (c->second)
        uv_timer_start(&c->later, client_later, 30, 0);
}

/* One request to the server on port; the answer is in c->resp. */
static void request(uv_loop_t *loop, unsigned port, client_t *c, const char *first,
                    const char *second)
{
    memset(c, 0, sizeof *c);
    c->first = first;
    c->second = second;
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->later);
    c->tcp.data = c->later.data = c->connect.data = c;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", (int)port, &a);
    uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&a, client_connected);
    while (c->closed < 2)
        uv_run(loop, UV_RUN_ONCE);
}

static unsigned port_of(const metrics_server_t *m)
{
    char url[128];
    metrics_url(m, url, sizeof url);
    const char *colon = strrchr(url, ':');
    return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

TEST(server)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    metrics_server_t m;
    struct sockaddr_storage ss;
    char err[256];
    int calls = 0;
    CHECK_INT(metrics_parse_listen("127.0.0.1:0", &ss, err, sizeof err), 0);
    CHECK_INT(metrics_open(&m, &loop, (struct sockaddr *)&ss, fake_snapshot, &calls, err,
                           sizeof err), 0);
    unsigned port = port_of(&m);
    CHECK(port > 0);
    char url[128];
    CHECK(strncmp(metrics_url(&m, url, sizeof url), "http://127.0.0.1:", 17) == 0);

    client_t *c = malloc(sizeof *c);
    request(&loop, port, c, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(c->resp, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != NULL);
    CHECK(strstr(c->resp, "\r\nConnection: close\r\n") != NULL);
    CHECK(strstr(c->resp, "\nhopper_requests_total{method=\"GET\",name=\"/x\"} 42\n") != NULL);
    const char *body = strstr(c->resp, "\r\n\r\n");
    const char *cl = strstr(c->resp, "Content-Length: ");
    CHECK(body && cl && strtoul(cl + 16, NULL, 10) == strlen(body + 4));
    CHECK_INT(calls, 1);

    /* A query string is fine; the request cut in two writes too. */
    request(&loop, port, c, "GET /metrics?x=1 HTTP/1.0\r\nHo", "st: x\r\n\r\n");
    CHECK(strncmp(c->resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK_INT(calls, 2);

    request(&loop, port, c, "HEAD /metrics HTTP/1.1\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    body = strstr(c->resp, "\r\n\r\n");
    CHECK(body && body[4] == '\0');
    cl = strstr(c->resp, "Content-Length: ");
    CHECK(cl && strtoul(cl + 16, NULL, 10) > 100);

    request(&loop, port, c, "GET / HTTP/1.1\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    CHECK(strstr(c->resp, "\r\n\r\nnot found: hopper serves its metrics at /metrics\n") != NULL);
    request(&loop, port, c, "GET /metricsx HTTP/1.1\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 404 ", 13) == 0);
    request(&loop, port, c, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 405 ", 13) == 0);
    request(&loop, port, c, "hello\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    request(&loop, port, c, "GET /metrics HTTP/2.0\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 400 ", 13) == 0);
    request(&loop, port, c, "GET  /metrics HTTP/1.1\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 400 ", 13) == 0);
    CHECK_INT(calls, 3);   /* only the GETs and the HEAD of /metrics took a snapshot */

    /* Headers that never end: 431 once the bound is reached. */
    static char big[METRICS_MAX_REQUEST + 100];
    memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
    memset(big + 26, 'a', sizeof big - 27);
    request(&loop, port, c, big, NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 431 ", 13) == 0);
    /* Each connection ends at the client's EOF (at worst at the timeout). */
    while (m.n_conns)
        uv_run(&loop, UV_RUN_ONCE);

    /* The port is taken now: a second server says so. */
    metrics_server_t m2;
    struct sockaddr_in taken;
    uv_ip4_addr("127.0.0.1", (int)port, &taken);
    CHECK_INT(metrics_open(&m2, &loop, (struct sockaddr *)&taken, fake_snapshot, &calls, err,
                           sizeof err), -1);
    CHECK(strstr(err, "--metrics-listen 127.0.0.1:") != NULL);
    CHECK(strstr(err, "the address is in use") != NULL);
    metrics_close(&m2);   /* harmless on a server that failed to open */

    /* A connection left open is closed with the server. */
    client_t *idle = malloc(sizeof *idle);
    memset(idle, 0, sizeof *idle);
    uv_tcp_init(&loop, &idle->tcp);
    uv_timer_init(&loop, &idle->later);
    idle->tcp.data = idle->later.data = idle->connect.data = idle;
    idle->first = "GET /met";
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", (int)port, &a);
    uv_tcp_connect(&idle->connect, &idle->tcp, (struct sockaddr *)&a, client_connected);
    while (m.n_conns == 0)
        uv_run(&loop, UV_RUN_ONCE);
    metrics_close(&m);
    metrics_close(&m);    /* twice is harmless */
    while (idle->closed < 2)
        uv_run(&loop, UV_RUN_ONCE);
    CHECK(idle->len == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    free(idle);
    free(c);
}

/* Starts a client that connects and sends only the start of a request, and
 * runs the loop until the server has accepted it (so that the order of
 * the server's connections is the order of the calls). */
static void connect_idle(uv_loop_t *loop, const metrics_server_t *m, unsigned port, client_t *c)
{
    memset(c, 0, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    uv_timer_init(loop, &c->later);
    c->tcp.data = c->later.data = c->connect.data = c;
    c->first = "GET /met";
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", (int)port, &a);
    unsigned before = m->n_conns;
    uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&a, client_connected);
    while (m->n_conns == before && !c->ended)
        uv_run(loop, UV_RUN_ONCE);
}

/* Clients that connect and never finish their request fill the server: a
 * scraper that comes then is still answered, and the oldest of them goes. */
TEST(server_full_gives_up_the_oldest_idle)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    metrics_server_t m;
    struct sockaddr_storage ss;
    char err[256];
    int calls = 0;
    CHECK_INT(metrics_parse_listen("127.0.0.1:0", &ss, err, sizeof err), 0);
    CHECK_INT(metrics_open(&m, &loop, (struct sockaddr *)&ss, fake_snapshot, &calls, err,
                           sizeof err), 0);
    unsigned port = port_of(&m);
    client_t *idle = calloc(METRICS_MAX_CONNS + 1, sizeof *idle);
    for (unsigned i = 0; i < METRICS_MAX_CONNS; i++)
        connect_idle(&loop, &m, port, &idle[i]);
    CHECK_INT(m.n_conns, METRICS_MAX_CONNS);
    CHECK(!idle[0].ended);

    client_t *c = malloc(sizeof *c);
    for (int k = 0; k < 2; k++) {
        if (k == 1) {
            /* Full again: the scrape's connection is gone, one more idle. */
            while (m.n_conns == METRICS_MAX_CONNS)
                uv_run(&loop, UV_RUN_ONCE);
            connect_idle(&loop, &m, port, &idle[METRICS_MAX_CONNS]);
            CHECK_INT(m.n_conns, METRICS_MAX_CONNS);
        }
        request(&loop, port, c, "GET /metrics HTTP/1.1\r\n\r\n", NULL);
        CHECK(strncmp(c->resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
        /* The k-th oldest was closed for it, without an answer. */
        while (idle[k].closed < 2)
            uv_run(&loop, UV_RUN_ONCE);
        CHECK(idle[k].ended);
        CHECK_INT(idle[k].len, 0);
    }
    CHECK_INT(calls, 2);

    metrics_close(&m);
    for (unsigned i = 0; i <= METRICS_MAX_CONNS; i++)
        while (idle[i].closed < 2)
            uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    free(idle);
    free(c);
}

/* A final snapshot held (--metrics-linger): served instead of asking the
 * callback, which may no longer be called. */
TEST(server_holds_the_final_snapshot)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    metrics_server_t m;
    struct sockaddr_storage ss;
    char err[256];
    int calls = 0;
    CHECK_INT(metrics_parse_listen("127.0.0.1:0", &ss, err, sizeof err), 0);
    CHECK_INT(metrics_open(&m, &loop, (struct sockaddr *)&ss, fake_snapshot, &calls, err,
                           sizeof err), 0);
    unsigned port = port_of(&m);
    snap_t final;
    craft(&final);
    final.state = RUN_DONE;
    metrics_hold(&m, &final);
    client_t *c = malloc(sizeof *c);
    request(&loop, port, c, "GET /metrics HTTP/1.1\r\n\r\n", NULL);
    CHECK(strncmp(c->resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(c->resp, "\nhopper_requests_total{method=\"POST\",name=\"/never\"} 0\n") != NULL);
    CHECK(strstr(c->resp, "\nhopper_run_state{state=\"done\"} 1\n") != NULL);
    CHECK_INT(calls, 0);
    metrics_close(&m);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    free(c);
}

int main(void)
{
    check_prog = "test_metrics";
    RUN(counters_exact_lines_and_escaping);
    RUN(histogram_buckets);
    RUN(quantiles);
    RUN(run_gauges);
    RUN(structure);
    RUN(label_value_escaping);
    RUN(parse_listen);
    RUN(server);
    RUN(server_full_gives_up_the_oldest_idle);
    RUN(server_holds_the_final_snapshot);
    return check_done();
}

/* Unit tests for the HTML report: the page's parts, escaping of hostile text,
 * self-containment (nothing fetched from the network), the charts' edge cases
 * (no data, one sample, all zero, a very long run), numbers under a locale
 * with a decimal comma, and write errors.
 *
 *   test_report_html                      runs the tests
 *   test_report_html --write-sample PATH  writes a realistic report to PATH
 *                                         (tests/e2e/html_render.sh renders it
 *                                         with headless Chromium)
 *   test_report_html --write-sample-open PATH
 *                                         the same run in the open model, with
 *                                         stages and corrected and raw times */
#include "check.h"
#include "util/text.h"
#include "report/report_html.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>

#define HOST "http://127.0.0.1:8082"
#define HOSTILE "<script>alert(1)</script>"

/* Everything a report reads, owned by the test. */
typedef struct {
    snap_t s;
    snap_entry_t entries[5];
    snap_error_t errors[3];
    snap_sample_t *history;
    snap_event_t events[8];
    plan_t plan;
    check_t checks[2];
    check_result_t results[2];
    report_meta_t meta;
} fixture_t;

static void entry(snap_entry_t *e, const char *method, const char *name, uint64_t requests,
                  uint64_t failures, uint64_t base_us, double rps)
{
    *e = (snap_entry_t){.method = method, .name = name, .requests = requests, .failures = failures,
                        .content_bytes = requests * 1234, .min_us = base_us / 3,
                        .max_us = base_us * 20, .avg_us = base_us * 1.3, .total_rps = rps,
                        .total_fps = requests ? rps * (double)failures / (double)requests : 0};
    static const double shape[SNAP_NPCT] = {1, 1.2, 1.35, 1.5, 1.9, 2.4, 3.1, 3.8, 6, 9, 20};
    for (int i = 0; i < SNAP_NPCT; i++)
        e->pct_us[i] = requests ? (uint64_t)(base_us * shape[i]) : 0;
}

/* The unit tests' snapshot: two endpoints (one with a hostile name), errors
 * with hostile text, n_history one-second samples and three events. */
static void fixture_init(fixture_t *fx, size_t n_history)
{
    memset(fx, 0, sizeof *fx);
    snap_t *s = &fx->s;
    snap_init(s);
    s->host = HOST;
    s->state = RUN_DONE;
    s->users = 0;
    s->peak_users = 50;
    s->target_users = 50;
    s->spawn_rate = 5;
    s->elapsed_ms = n_history * 1000;
    s->stats_ms = n_history * 1000;
    s->start_unix = 1714564800;     /* 2024-05-01T12:00:00Z */
    s->cancelled = 3;

    entry(&fx->entries[0], "GET", "/api/" HOSTILE, 10, 1, 430, 4);
    entry(&fx->entries[1], "POST", "/status", 20, 0, 3450, 0.5);
    s->entries = fx->entries;
    s->n_entries = 2;
    entry(&s->total, "", "Aggregated", 30, 1, 12000, 4.5);

    fx->errors[0] = (snap_error_t){.method = "GET", .name = "/api/" HOSTILE, .count = 7,
                                   .first_seen = 1714564805.5, .last_seen = 1714564890};
    snprintf(fx->errors[0].error, sizeof fx->errors[0].error, "HTTP 500: " HOSTILE);
    fx->errors[1] = (snap_error_t){.method = "POST", .name = "/a?b=\"c\"&d='e'", .count = 2,
                                   .first_seen = 1714564810, .last_seen = 1714564811};
    snprintf(fx->errors[1].error, sizeof fx->errors[1].error, "bad \"quote\" & \x1b[31mred\x07");
    s->errors = fx->errors;
    s->n_errors = 2;

    fx->history = n_history ? calloc(n_history, sizeof *fx->history) : NULL;
    for (size_t i = 0; i < n_history; i++) {
        double users = i < 10 ? 5.0 * (double)(i + 1) : 50;
        fx->history[i] = (snap_sample_t){.t = (uint32_t)(i + 1), .span = 1, .users = (uint32_t)users,
                                         .rps = (float)(users * 1.8), .fps = i % 30 == 0 ? 2.0f : 0,
                                         .p50_us = 20000 + (uint32_t)users * 300,
                                         .p95_us = 60000 + (uint32_t)users * 900};
    }
    s->history = fx->history;
    s->n_history = n_history;

    fx->events[0] = (snap_event_t){.t_ms = 30000, .kind = EVENT_TARGET_USERS, .value = 200};
    fx->events[1] = (snap_event_t){.t_ms = 45500, .kind = EVENT_SPAWN_RATE, .value = 2.5};
    fx->events[2] = (snap_event_t){.t_ms = 90000, .kind = EVENT_STOP};
    s->events = fx->events;
    s->n_events = 3;

    plan_init(&fx->plan);
    fx->plan.wait = (wait_spec_t){.kind = WAIT_BETWEEN, .a_us = 5000000, .b_us = 9000000};
    fx->checks[0].text = "p95<300ms";
    fx->checks[1].text = "fail-ratio<1% & 'x'";
    fx->results[0] = (check_result_t){.check = &fx->checks[0], .evaluated = true, .passed = true};
    snprintf(fx->results[0].measured, sizeof fx->results[0].measured, "231ms");
    fx->results[1] = (check_result_t){.check = &fx->checks[1], .evaluated = true, .passed = false};
    snprintf(fx->results[1].measured, sizeof fx->results[1].measured, "3.33%%");
    fx->meta = (report_meta_t){.version = "0.9.0", .hopperfile = "/tmp/a & b/<x>.hopperfile",
                               .plan = &fx->plan, .host = HOST, .users = 50, .spawn_rate = 5,
                               .run_time_us = 120000000, .end_unix = 1714564920,
                               .checks = fx->results, .n_checks = 2};
}

static void fixture_free(fixture_t *fx)
{
    free(fx->history);
    plan_free(&fx->plan);
}

/* The report as a string (the caller frees it); rc gets the writer's result. */
static char *render(const fixture_t *fx, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int r = report_html_write(f, &fx->s, &fx->meta);
    fclose(f);
    if (rc)
        *rc = r;
    return buf;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + strlen(needle), needle))
        n++;
    return n;
}

TEST(page_skeleton)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    int rc;
    char *out = render(&fx, &rc);
    CHECK_INT(rc, 0);
    CHECK(strncmp(out, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    CHECK(strstr(out, "<meta charset=\"utf-8\">") != NULL);
    CHECK(strstr(out, "<style>") != NULL);
    CHECK(strstr(out, "</html>\n") != NULL);
    CHECK_INT(count(out, "<svg"), 3);
    CHECK_INT(count(out, "</svg>"), 3);
    CHECK_INT(count(out, "<section class=\"chart\">"), 3);
    CHECK(strstr(out, "no data") == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(hostile_text_is_escaped)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    char *out = render(&fx, NULL);
    CHECK(strstr(out, "<script") == NULL);
    CHECK(strstr(out, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(out, "HTTP 500: &lt;script&gt;") != NULL);
    CHECK(strstr(out, "/a?b=&quot;c&quot;&amp;d=&#39;e&#39;") != NULL);
    CHECK(strstr(out, "bad &quot;quote&quot; &amp; ?[31mred?") != NULL);
    CHECK(strchr(out, '\x1b') == NULL);
    CHECK(strchr(out, '\x07') == NULL);
    CHECK(strstr(out, "/tmp/a &amp; b/&lt;x&gt;.hopperfile") != NULL);
    CHECK(strstr(out, "fail-ratio&lt;1% &amp; &#39;x&#39;") != NULL);
    free(out);
    fixture_free(&fx);
}

TEST(control_characters_and_bad_utf8)
{
    fixture_t fx;
    fixture_init(&fx, 0);
    fx.entries[1].name = "/caf\xc3\xa9/\xe2\x82\xac/\xff\xc3(/\xc2\x85/\xed\xa0\x80/tab\there\r\n";
    char *out = render(&fx, NULL);
    /* é and € stay; a lone 0xff and a truncated sequence become U+FFFD; NEL (a
     * C1 control) and the C0 controls become '?'; a surrogate is not UTF-8. */
    CHECK(strstr(out, "/caf\xc3\xa9/\xe2\x82\xac/\xef\xbf\xbd\xef\xbf\xbd(/?/"
                      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd/tab?here??") != NULL);
    CHECK(strchr(out, '\t') == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(nothing_is_fetched)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    char *out = render(&fx, NULL);
    /* The host is text from outside and may be a URL: take it out, then no
     * URL of any kind may be left. */
    for (char *p = strstr(out, HOST); p; p = strstr(p, HOST))
        memset(p, 'x', strlen(HOST));
    CHECK(strstr(out, "http://") == NULL);
    CHECK(strstr(out, "https://") == NULL);
    CHECK(strstr(out, "<link") == NULL);
    CHECK(strstr(out, "<script") == NULL);
    CHECK(strstr(out, "<img") == NULL);
    CHECK(strstr(out, "<iframe") == NULL);
    CHECK(strstr(out, "src=") == NULL);
    CHECK(strstr(out, "href=") == NULL);
    CHECK(strstr(out, "@import") == NULL);
    CHECK(strstr(out, "url(") == NULL);
    CHECK(strstr(out, "@font-face") == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(settings)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    char *out = render(&fx, NULL);
    CHECK(strstr(out, "<dt>Host</dt><dd>" HOST "</dd>") != NULL);
    CHECK(strstr(out, "<dt>Users</dt><dd>50</dd>") != NULL);
    CHECK(strstr(out, "<dt>Spawn rate</dt><dd>5 users/s</dd>") != NULL);
    CHECK(strstr(out, "<dt>Run time</dt><dd>2m</dd>") != NULL);
    CHECK(strstr(out, "<dt>Wait</dt><dd>between 5s 9s</dd>") != NULL);
    CHECK(strstr(out, "<dt>Request timeout</dt><dd>1m</dd>") != NULL);
    CHECK(strstr(out, "<dt>Start (UTC)</dt><dd>2024-05-01T12:00:00Z</dd>") != NULL);
    CHECK(strstr(out, "<dt>End (UTC)</dt><dd>2024-05-01T12:02:00Z</dd>") != NULL);
    CHECK(strstr(out, "<dt>Statistics cover</dt><dd>2m</dd>") != NULL);
    CHECK(strstr(out, "<dt>Peak users</dt><dd>50</dd>") != NULL);
    CHECK(strstr(out, "<dt>hopper version</dt><dd>0.9.0</dd>") != NULL);
    CHECK(strstr(out, "<dt>Cancelled requests</dt><dd>3 ") != NULL);
    free(out);

    fx.meta.run_time_us = 0;
    fx.meta.end_unix = 0;
    fx.s.cancelled = 0;
    out = render(&fx, NULL);
    CHECK(strstr(out, "<dt>Run time</dt><dd>until stopped</dd>") != NULL);
    CHECK(strstr(out, "<dt>End (UTC)</dt><dd>still running</dd>") != NULL);
    CHECK(strstr(out, "Cancelled") == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(tables)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    char *out = render(&fx, NULL);
    /* Endpoint table: times as text_ms writes them, failures with a
     * percentage, whole-run rates, the Aggregated row marked. */
    CHECK(strstr(out, "<tr><td class=\"l\">GET</td><td class=\"name\">/api/&lt;script&gt;alert(1)"
                      "&lt;/script&gt;</td><td>10</td><td>1 (10.00%)</td><td>0.43</td><td>0.56</td>"
                      "<td>0.14</td><td>8.6</td><td>1.0</td><td>1.6</td><td>1234</td><td>4.00</td>"
                      "<td>0.40</td></tr>") != NULL);
    CHECK(strstr(out, "<td class=\"name\">/status</td><td>20</td><td>0 (0.00%)</td><td>3.5</td>") != NULL);
    CHECK(strstr(out, "<tr class=\"total\"><td class=\"l\"></td><td class=\"name\">Aggregated</td>"
                      "<td>30</td><td>1 (3.33%)</td><td>12</td>") != NULL);
    /* Percentile table: every label, one row per endpoint with requests. */
    for (int k = 0; k < SNAP_NPCT; k++) {
        char th[32];
        snprintf(th, sizeof th, "<th>%s</th>", snap_pct_label[k]);
        CHECK(strstr(out, th) != NULL);
    }
    char *pct = strstr(out, "id=\"percentiles\"");
    CHECK(pct != NULL);
    if (pct) {
        CHECK(strstr(pct, "<td>240</td><td>30</td></tr>") != NULL);   /* Aggregated 100%, requests */
        CHECK_INT(count(pct, "<td class=\"name\">/status</td>"), 1);
    }
    /* Failures: most frequent first, with their first and last time. */
    char *fail = strstr(out, "id=\"failures\"");
    CHECK(fail != NULL);
    if (fail) {
        CHECK(strstr(fail, "<tr><td>7</td><td class=\"l\">GET</td>") != NULL);
        CHECK(strstr(fail, "<time datetime=\"2024-05-01T12:00:05Z\">12:00:05</time>") != NULL);
        CHECK(strstr(fail, "<time datetime=\"2024-05-01T12:01:30Z\">12:01:30</time>") != NULL);
        CHECK(strstr(fail, "<tr><td>7</td>") < strstr(fail, "<tr><td>2</td>"));
    }
    free(out);

    /* An endpoint never called: dashes, and no percentile row. */
    fx.entries[1].requests = 0;
    fx.entries[1].failures = 0;
    out = render(&fx, NULL);
    CHECK(strstr(out, "<td class=\"name\">/status</td><td>0</td><td>0 (0.00%)</td><td>-</td>") != NULL);
    pct = strstr(out, "id=\"percentiles\"");
    CHECK(pct && strstr(pct, "/status") == NULL);
    free(out);

    fx.s.n_errors = 0;
    out = render(&fx, NULL);
    CHECK(strstr(out, "No failures.") != NULL);
    free(out);
    fixture_free(&fx);
}

TEST(checks_section_and_banner)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    char *out = render(&fx, NULL);
    CHECK(strstr(out, "id=\"checks\"") != NULL);
    CHECK(strstr(out, "<div class=\"banner fail\"><b>FAILED</b>1 of 2 checks failed</div>") != NULL);
    CHECK(strstr(out, "PASSED") == NULL);
    CHECK(strstr(out, "<td class=\"name\">p95&lt;300ms</td><td class=\"l pass\">pass</td>"
                      "<td class=\"l\">231ms</td>") != NULL);
    CHECK(strstr(out, "<td class=\"l fail\">FAIL</td><td class=\"l\">3.33%</td>") != NULL);
    free(out);

    fx.results[1].passed = true;
    out = render(&fx, NULL);
    CHECK(strstr(out, "<div class=\"banner pass\"><b>PASSED</b>all 2 checks passed</div>") != NULL);
    CHECK(strstr(out, "FAILED") == NULL);
    free(out);

    /* A check that measured nothing says so. */
    fx.results[1] = (check_result_t){.check = &fx.checks[1], .evaluated = false, .passed = false};
    snprintf(fx.results[1].measured, sizeof fx.results[1].measured, "no requests");
    out = render(&fx, NULL);
    CHECK(strstr(out, "no requests (not evaluated)") != NULL);
    free(out);

    fx.meta.n_checks = 0;
    out = render(&fx, NULL);
    CHECK(strstr(out, "id=\"checks\"") == NULL);
    CHECK(strstr(out, "class=\"banner") == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(charts_have_series_axes_legend_and_events)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    char *out = render(&fx, NULL);
    CHECK_INT(count(out, "<path class=\"s rps\""), 1);
    CHECK_INT(count(out, "<path class=\"s fps\""), 1);
    CHECK_INT(count(out, "<path class=\"s p50\""), 1);
    CHECK_INT(count(out, "<path class=\"s p95\""), 1);
    CHECK_INT(count(out, "<path class=\"s users\""), 1);
    CHECK(strstr(out, ">failures/s</text>") != NULL);     /* legends */
    CHECK(strstr(out, ">p95</text>") != NULL);
    CHECK(strstr(out, ">02:00</text>") != NULL);          /* a time tick */
    /* Each event on each chart, with a tooltip, and listed once in a table. */
    CHECK_INT(count(out, "<title>00:30 target users 200</title>"), 3);
    CHECK_INT(count(out, "<title>00:45 spawn rate 2.5/s</title>"), 3);
    CHECK_INT(count(out, "<title>01:30 stop</title>"), 3);
    CHECK_INT(count(out, "text-anchor=\"middle\">U</text>"), 3);
    CHECK_INT(count(out, "text-anchor=\"middle\">R</text>"), 3);
    CHECK_INT(count(out, "text-anchor=\"middle\">S</text>"), 3);
    CHECK(strstr(out, "<tr><td>00:30</td><td class=\"l\">U</td><td class=\"l\">target users 200</td></tr>") != NULL);
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(empty_history_says_no_data)
{
    fixture_t fx;
    fixture_init(&fx, 0);
    fx.s.n_events = 0;
    int rc;
    char *out = render(&fx, &rc);
    CHECK_INT(rc, 0);
    CHECK_INT(count(out, "<section class=\"chart\">"), 3);
    CHECK_INT(count(out, "<svg"), 3);
    CHECK_INT(count(out, ">no data</text>"), 3);
    CHECK(strstr(out, "<path") == NULL);
    CHECK(strstr(out, "id=\"events\"") == NULL);
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(one_sample_is_a_dot)
{
    fixture_t fx;
    fixture_init(&fx, 1);
    fx.s.n_events = 0;
    char *out = render(&fx, NULL);
    CHECK_INT(count(out, "<svg"), 3);
    CHECK(strstr(out, "no data") == NULL);
    /* A single point: drawn as a small ring, on each of the five series. */
    CHECK_INT(count(out, "a2.5 2.5 0 1 0-5 0\"/>"), 5);
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    free(out);
    fixture_free(&fx);
}

TEST(all_zero_values)
{
    fixture_t fx;
    fixture_init(&fx, 60);
    for (size_t i = 0; i < 60; i++)
        fx.history[i] = (snap_sample_t){.t = (uint32_t)(i + 1), .span = 1};
    memset(&fx.s.total, 0, sizeof fx.s.total);
    fx.s.total.method = "";
    fx.s.total.name = "Aggregated";
    char *out = render(&fx, NULL);
    CHECK_INT(count(out, "<svg"), 3);
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    /* Flat lines on the axis; response times unknown, so no line at all. */
    CHECK_INT(count(out, "<path class=\"s rps\""), 1);
    CHECK_INT(count(out, "<path class=\"s p50\""), 0);
    CHECK_INT(count(out, ">no data</text>"), 1);
    free(out);
    fixture_free(&fx);
}

TEST(gaps_in_response_times)
{
    fixture_t fx;
    fixture_init(&fx, 20);
    for (size_t i = 5; i < 10; i++)
        fx.history[i].rps = fx.history[i].fps = 0;    /* paused: no completions */
    char *out = render(&fx, NULL);
    char *p = strstr(out, "<path class=\"s p50\" d=\"");
    CHECK(p != NULL);
    if (p) {
        char *end = strstr(p, "/>");
        int pieces = 0;
        for (char *q = p; q < end; q++)
            pieces += *q == 'M';
        CHECK_INT(pieces, 2);
    }
    free(out);
    fixture_free(&fx);
}

TEST(long_run)
{
    fixture_t fx;
    fixture_init(&fx, 8192);
    for (size_t i = 0; i < 8192; i++) {
        fx.history[i].t = (uint32_t)((i + 1) * 8);   /* compacted: 8 s each */
        fx.history[i].span = 8;
    }
    fx.s.elapsed_ms = 8192 * 8 * 1000;
    int rc;
    char *out = render(&fx, &rc);
    CHECK_INT(rc, 0);
    CHECK(strlen(out) < 2000000);
    CHECK(strstr(out, ">12:00:00</text>") != NULL);   /* hour ticks past an hour */
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    free(out);
    fixture_free(&fx);
}

/* hopper leaves LC_NUMERIC at "C", but a report must not depend on it: under a
 * decimal-comma locale every number (and every SVG coordinate) keeps its '.'. */
TEST(numbers_ignore_the_locale)
{
    static const char *const locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fa_IR.UTF-8"};
    int tried = 0;
    for (size_t i = 0; i < sizeof locales / sizeof locales[0]; i++) {
        if (setlocale(LC_NUMERIC, locales[i]) == NULL)
            continue;
        if (strcmp(localeconv()->decimal_point, ".") == 0) {
            setlocale(LC_NUMERIC, "C");
            continue;
        }
        tried++;
        fixture_t fx;
        fixture_init(&fx, 120);
        fx.plan.wait = (wait_spec_t){.kind = WAIT_THROUGHPUT, .a_us = 400000, .rate = 2.5};
        fx.meta.spawn_rate = 0.5;
        char *out = render(&fx, NULL);
        setlocale(LC_NUMERIC, "C");
        CHECK(strstr(out, "<td>1 (10.00%)</td><td>0.43</td>") != NULL);
        CHECK(strstr(out, "<dt>Spawn rate</dt><dd>0.5 users/s</dd>") != NULL);
        CHECK(strstr(out, "<dt>Wait</dt><dd>throughput 2.5/s</dd>") != NULL);
        CHECK(strstr(out, "spawn rate 2.5/s") != NULL);
        /* No decimal comma anywhere in the charts. */
        const char *svg = strstr(out, "<svg");
        const char *end = strstr(out, "id=\"stats\"");
        for (const char *q = svg; q && end && q < end; q++)
            if (*q == ',' && q[1] >= '0' && q[1] <= '9') {
                CHECK(!"a decimal comma in a chart");
                break;
            }
        CHECK(strstr(out, "\xd9\xab") == NULL);        /* U+066B, the Persian decimal point */
        free(out);
        fixture_free(&fx);
    }
    if (!tried)
        printf("# no decimal-comma locale installed: checked under C only\n");
}

TEST(write_error_is_reported)
{
    FILE *f = fopen("/dev/full", "w");
    if (f == NULL) {
        printf("# /dev/full missing: not checked\n");
        return;
    }
    fixture_t fx;
    fixture_init(&fx, 120);
    errno = 0;
    CHECK_INT(report_html_write(f, &fx.s, &fx.meta), -1);
    CHECK_INT(errno, ENOSPC);
    fclose(f);
    fixture_free(&fx);
}

/* ---- the open model, stages and intended starts (issue 13) -------------- */

/* A closed run without intended starts shows none of them: no stages, no
 * second latency, no lag, no arrivals, and the same three charts. */
TEST(closed_report_has_nothing_new)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    char *out = render(&fx, NULL);
    CHECK_INT(count(out, "<svg"), 3);
    CHECK(strstr(out, "id=\"stages\"") == NULL);
    CHECK(strstr(out, "id=\"lag\"") == NULL);
    CHECK(strstr(out, "corrected") == NULL);
    CHECK(strstr(out, "<td class=\"l\">raw</td>") == NULL);
    CHECK(strstr(out, "Load model") == NULL);
    CHECK(strstr(out, "rrival") == NULL);           /* arrivals, Arrival rate */
    CHECK(strstr(out, "<path class=\"s p95raw\"") == NULL);
    CHECK(strstr(out, "<b>S</b> stop.</p>") != NULL);
    free(out);
    fixture_free(&fx);
}

/* The fixture as an open-model run with stages and intended starts. */
static void make_open(fixture_t *fx)
{
    snap_t *s = &fx->s;
    s->open = true;
    s->dual = true;
    s->arrival_rate = 100;
    s->max_users = 400;
    s->pool_users = 40;
    s->arrivals = 11990;
    s->dropped = 10;
    s->lag_count = 12000;
    s->lag_max_us = 31000;
    for (int i = 0; i < SNAP_NPCT; i++)
        s->lag_pct_us[i] = 20 + (uint64_t)i * 300;
    static const snap_stage_t stages[] = {{.dur_us = 60000000, .from = 0, .to = 500, .from_set = true},
                                          {.dur_us = 30000000, .from = 500, .to = 500},
                                          {.dur_us = 30000000, .from = 500, .to = 0}};
    s->stages = stages;
    s->n_stages = 3;
    s->stage = 3;
    snap_entry_t *rows[] = {&fx->entries[0], &fx->entries[1], &s->total};
    for (int k = 0; k < 3; k++) {
        snap_entry_t *e = rows[k];
        e->raw_min_us = e->min_us;
        e->raw_max_us = e->max_us / 10;
        e->raw_avg_us = e->avg_us / 10;
        for (int i = 0; i < SNAP_NPCT; i++)
            e->raw_pct_us[i] = e->pct_us[i] / 10;
    }
    for (size_t i = 0; i < s->n_history; i++) {
        fx->history[i].p95_raw_us = fx->history[i].p95_us / 10;
        fx->history[i].lag_p99_us = 400;
        fx->history[i].arrivals = 100;
        fx->history[i].dropped = i == 50 ? 3.0f : 0;
    }
    fx->events[3] = (snap_event_t){.t_ms = 60000, .kind = EVENT_STAGE, .value = 2};
    fx->events[4] = (snap_event_t){.t_ms = 75000, .kind = EVENT_ARRIVAL_RATE, .value = 100};
    s->n_events = 5;
}

TEST(open_model_stages_and_two_latencies)
{
    fixture_t fx;
    fixture_init(&fx, 120);
    make_open(&fx);
    int rc;
    char *out = render(&fx, &rc);
    CHECK_INT(rc, 0);
    /* Figures and settings. */
    CHECK(strstr(out, "<span>p99 raw (ms)</span><b>") != NULL);
    CHECK(strstr(out, "<span>p99 corrected (ms)</span><b>") != NULL);
    CHECK(strstr(out, "<span>Dropped arrivals</span><b class=\"bad\">10 (0.08%)</b>") != NULL);
    CHECK(strstr(out, "<dt>Load model</dt><dd>open ") != NULL);
    /* With stages, the target is the stages as written, not the rate at the end. */
    CHECK(strstr(out, "<dt>Arrival rate</dt><dd>stages 1m:0-500/s, 30s:500/s, 30s:0/s (even "
                      "arrivals)</dd>") != NULL);
    CHECK(strstr(out, "<dt>Max users</dt><dd>400</dd>") != NULL);
    CHECK(strstr(out, "<dt>Arrivals started</dt><dd>11990 (99.92/s achieved)</dd>") != NULL);
    CHECK(strstr(out, "<dt>Dropped arrivals</dt><dd>10 (0.08%): found no free user") != NULL);
    /* The stages, in a table with when each starts. */
    char *st = strstr(out, "id=\"stages\"");
    CHECK(st != NULL);
    if (st) {
        CHECK(strstr(st, "<th>From</th>") != NULL);
        CHECK(strstr(st, "<tr><td>1</td><td>00:00</td><td>1m</td><td>0/s</td><td>500/s</td></tr>") != NULL);
        CHECK(strstr(st, "<tr><td>2</td><td>01:00</td><td>30s</td><td>500/s</td><td>500/s</td></tr>") != NULL);
        CHECK(strstr(st, "<tr><td>3</td><td>01:30</td><td>30s</td><td>500/s</td><td>0/s</td></tr>") != NULL);
        CHECK(strstr(st, "ended in stage") == NULL);
    }
    /* Four charts: arrivals and drops have their own; stage changes ('|')
     * and arrival-rate keys ('A') marked on every chart, explained once. */
    CHECK_INT(count(out, "<svg"), 4);
    CHECK_INT(count(out, "<path class=\"s arr\""), 1);
    CHECK_INT(count(out, "<path class=\"s drop\""), 1);
    CHECK_INT(count(out, "<path class=\"s p95raw\""), 1);
    CHECK_INT(count(out, "<path class=\"s lag\""), 1);
    CHECK(strstr(out, ">schedule lag p99</text>") != NULL);
    CHECK_INT(count(out, "text-anchor=\"middle\">|</text>"), 4);
    CHECK_INT(count(out, "text-anchor=\"middle\">A</text>"), 4);
    CHECK_INT(count(out, "<title>01:00 stage 2 begins</title>"), 4);
    CHECK_INT(count(out, "<title>01:15 arrival rate 100/s</title>"), 4);
    CHECK(strstr(out, "<b>A</b> arrival rate; <b>|</b> a stage begins.</p>") != NULL);
    CHECK(strstr(out, "<tr><td>01:00</td><td class=\"l\">|</td><td class=\"l\">stage 2 begins</td></tr>") != NULL);
    /* Percentiles: each row corrected, then raw. */
    char *pct = strstr(out, "id=\"percentiles\"");
    CHECK(pct != NULL);
    if (pct) {
        CHECK(strstr(pct, "<th class=\"l\">Latency</th>") != NULL);
        CHECK(strstr(pct, "<td class=\"name\">/status</td><td class=\"l\">corrected</td><td>3.5</td>") != NULL);
        CHECK(strstr(pct, "<tr class=\"raw\"><td class=\"l\">POST</td><td class=\"name\">/status</td>"
                          "<td class=\"l\">raw</td><td>0.34</td>") != NULL);
        CHECK(strstr(pct, "<tr class=\"total raw\">") != NULL);
    }
    /* The lag. */
    char *lag = strstr(out, "id=\"lag\"");
    CHECK(lag != NULL);
    if (lag)
        CHECK(strstr(lag, "<td>0.02</td><td>0.32</td>") != NULL && strstr(lag, "<td>12000</td>") != NULL);
    CHECK(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL);
    free(out);

    /* Ended before the last stage's end: said so. */
    fx.s.stage = 1;
    fx.s.stage_left_ms = 5000;
    out = render(&fx, NULL);
    CHECK(strstr(out, "The run ended in stage 2.") != NULL);
    free(out);

    /* Without stages, the rate in force; a key changed it, so "at the end";
     * a rate no one types per second is written per hour, no exponent. */
    fx.s.n_stages = 0;
    out = render(&fx, NULL);
    CHECK(strstr(out, "<dt>Arrival rate</dt><dd>100/s at the end (even arrivals)</dd>") != NULL);
    free(out);
    fx.s.arrival_rate = 0.1 / 3600;
    fx.s.n_events = 3;
    out = render(&fx, NULL);
    CHECK(strstr(out, "<dt>Arrival rate</dt><dd>0.1/h (even arrivals)</dd>") != NULL);
    free(out);
    fixture_free(&fx);
}

/* ---- --write-sample: a realistic five-minute run ------------------------ */

/* A small deterministic noise source, so the sample is the same every time. */
static double noise(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (double)(*state >> 8) / (double)(1u << 24);   /* [0, 1) */
}

/* The sample as an open-model run with stages: arrivals at the requests'
 * pace, a few dropped in the slow stretch, raw times a third of the
 * corrected ones there and equal elsewhere, a small schedule lag. */
static void sample_open(fixture_t *fx)
{
    snap_t *s = &fx->s;
    s->open = true;
    s->dual = true;
    s->arrival_rate = 200;
    s->max_users = 400;
    s->pool_users = 100;
    static const snap_stage_t stages[] = {{.dur_us = 60000000, .from = 0, .to = 200, .from_set = true},
                                          {.dur_us = 180000000, .from = 200, .to = 200},
                                          {.dur_us = 60000000, .from = 200, .to = 0}};
    s->stages = stages;
    s->n_stages = 3;
    s->stage = 3;
    uint64_t arrivals = 0, dropped = 0;
    for (size_t i = 0; i < s->n_history; i++) {
        snap_sample_t *h = &fx->history[i];
        bool slow = h->t > 110 && h->t < 135;
        h->arrivals = h->rps;
        h->dropped = slow ? h->rps * 0.05f : 0;
        h->p95_raw_us = slow ? h->p95_us / 3 : h->p95_us;
        h->lag_p99_us = 150 + h->t % 7 * 20;
        arrivals += (uint64_t)h->arrivals;
        dropped += (uint64_t)h->dropped;
    }
    s->arrivals = arrivals;
    s->dropped = dropped;
    for (size_t k = 0; k <= s->n_entries; k++) {
        snap_entry_t *e = k < s->n_entries ? &fx->entries[k] : &s->total;
        e->raw_min_us = e->min_us;
        e->raw_max_us = e->max_us / 3;
        e->raw_avg_us = e->avg_us * 0.8;
        for (int i = 0; i < SNAP_NPCT; i++)
            e->raw_pct_us[i] = i < SNAP_P95 ? e->pct_us[i] : e->pct_us[i] / 3;
    }
    s->lag_count = arrivals;
    s->lag_max_us = 4200;
    for (int i = 0; i < SNAP_NPCT; i++)
        s->lag_pct_us[i] = 60 + (uint64_t)i * 25;
    static const snap_event_t events[] = {
        {60000, EVENT_STAGE, 2}, {150000, EVENT_ARRIVAL_RATE, 100}, {240000, EVENT_STAGE, 3},
        {300000, EVENT_STOP, 0}};
    memcpy(fx->events, events, sizeof events);
    s->n_events = sizeof events / sizeof events[0];
}

static int write_sample(const char *path, bool open_model)
{
    fixture_t fx;
    fixture_init(&fx, 300);
    snap_t *s = &fx.s;
    uint32_t rng = 42;

    /* Users: 5/s up to 50; statistics reset at 0:30, after the ramp; at 0:55
     * the spawn rate goes to 20/s and at 1:00 the target to 100; paused
     * 2:30-2:45; down to 40 at 4:00; stopped at 5:00. A failure burst around
     * 2:00 while response times climb. */
    const uint32_t reset_at = 30;
    double users = 0, requests = 0, failures = 0, p50_sum = 0, p95_sum = 0;
    for (uint32_t i = 0; i < 300; i++) {
        double t = i + 1, target = t <= 60 ? 50 : t <= 240 ? 100 : 40, rate = t <= 55 ? 5 : 20;
        users = users < target ? fmin(target, users + rate) : target;
        bool paused = t > 150 && t <= 165;
        bool trouble = t > 110 && t < 135;
        double rt_ms = 18 + users * 0.35 + (trouble ? 60 : 0) + noise(&rng) * 4;
        double rps = paused ? 0 : users / (0.5 + rt_ms / 1000) * (0.92 + 0.16 * noise(&rng));
        double fail = trouble ? 0.08 + 0.05 * noise(&rng) : 0.003 * noise(&rng);
        double p95_ms = rt_ms * (2.2 + 0.6 * noise(&rng));
        fx.history[i] = (snap_sample_t){
            .t = i + 1, .span = 1, .users = (uint32_t)users, .rps = (float)rps,
            .fps = (float)(rps * fail), .p50_us = (uint32_t)(rt_ms * 1000),
            .p95_us = (uint32_t)(p95_ms * 1000)};
        if (t > reset_at) {
            requests += rps;
            failures += rps * fail;
            p50_sum += rps * rt_ms;
            p95_sum += rps * p95_ms;
        }
    }
    double stats_s = 300 - reset_at;
    s->elapsed_ms = 300000;
    s->stats_ms = (uint64_t)stats_s * 1000;
    s->peak_users = 100;
    s->target_users = 40;
    s->cancelled = 0;

    /* The endpoints share the requests by their weights; search has most of
     * the failures and is the slow one. */
    static const char *const names[] = {"/", "/api/search?q=[query]", "/api/title/[id]",
                                        "/login", "/static/app.css"};
    static const char *const methods[] = {"GET", "GET", "GET", "POST", "GET"};
    static const double share[] = {0.14, 0.28, 0.42, 0.02, 0.14};
    static const double fail_share[] = {0.01, 0.86, 0.08, 0.05, 0};
    static const double slowness[] = {0.7, 1.6, 1.0, 2.6, 0.02};
    static const uint64_t body_bytes[] = {5120, 2310, 1830, 412, 18432};
    double p50_ms = p50_sum / requests;
    uint64_t all = 0, all_fails = 0, all_bytes = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t n = (uint64_t)(requests * share[i]), nf = (uint64_t)(failures * fail_share[i]);
        entry(&fx.entries[i], methods[i], names[i], n, nf, (uint64_t)(p50_ms * slowness[i] * 1000),
              (double)n / stats_s);
        fx.entries[i].content_bytes = n * body_bytes[i];
        all += n;
        all_fails += nf;
        all_bytes += n * body_bytes[i];
    }
    s->n_entries = 5;
    entry(&s->total, "", "Aggregated", all, all_fails, (uint64_t)(p50_ms * 1000), (double)all / stats_s);
    s->total.pct_us[SNAP_P95] = (uint64_t)(p95_sum / requests * 1000);
    s->total.content_bytes = all_bytes;
    for (int i = 0; i < 5; i++) {      /* the Aggregated row's extremes are the endpoints' */
        if (fx.entries[i].min_us < s->total.min_us)
            s->total.min_us = fx.entries[i].min_us;
        if (fx.entries[i].max_us > s->total.max_us)
            s->total.max_us = s->total.pct_us[SNAP_NPCT - 1] = fx.entries[i].max_us;
    }

    fx.errors[0] = (snap_error_t){.method = "GET", .name = "/api/search?q=[query]",
                                  .count = fx.entries[1].failures,
                                  .first_seen = s->start_unix + 111, .last_seen = s->start_unix + 291};
    snprintf(fx.errors[0].error, SNAP_ERROR_TEXT, "HTTP 503 Service Unavailable");
    fx.errors[1] = (snap_error_t){.method = "GET", .name = "/api/title/[id]",
                                  .count = fx.entries[2].failures,
                                  .first_seen = s->start_unix + 112, .last_seen = s->start_unix + 134};
    snprintf(fx.errors[1].error, SNAP_ERROR_TEXT, "timeout after 5s");
    fx.errors[2] = (snap_error_t){.method = "POST", .name = "/login", .count = fx.entries[3].failures,
                                  .first_seen = s->start_unix + 41, .last_seen = s->start_unix + 297};
    snprintf(fx.errors[2].error, SNAP_ERROR_TEXT, "body does not contain \"Welcome\"");
    s->n_errors = 3;

    static const snap_event_t events[] = {
        {30000, EVENT_RESET_STATS, 0},  {55000, EVENT_SPAWN_RATE, 20}, {60000, EVENT_TARGET_USERS, 100},
        {150000, EVENT_PAUSE, 1},       {165000, EVENT_PAUSE, 0},      {240000, EVENT_TARGET_USERS, 40},
        {300000, EVENT_STOP, 0}};
    memcpy(fx.events, events, sizeof events);
    s->n_events = sizeof events / sizeof events[0];

    if (open_model)
        sample_open(&fx);
    fx.meta.hopperfile = "examples/shop.hopperfile";
    fx.meta.users = 50;
    fx.meta.run_time_us = 300000000;
    fx.meta.end_unix = s->start_unix + 300;
    /* The checks as check_eval would judge this run. */
    char v[32];
    fx.checks[0].text = "p95<300ms";
    snprintf(fx.results[0].measured, sizeof fx.results[0].measured, "%sms",
             text_ms(s->total.pct_us[SNAP_P95], v, sizeof v));
    fx.results[0].passed = s->total.pct_us[SNAP_P95] < 300000;
    fx.checks[1].text = "GET /api/search?q=[query]:fail-ratio<1%";
    double ratio = (double)fx.entries[1].failures / (double)fx.entries[1].requests;
    snprintf(fx.results[1].measured, sizeof fx.results[1].measured, "%.2f%%", 100 * ratio);
    fx.results[1].passed = ratio < 0.01;

    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        fixture_free(&fx);
        return 1;
    }
    int rc = report_html_write(f, s, &fx.meta);
    if (fclose(f) != 0)
        rc = -1;
    fixture_free(&fx);
    if (rc != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-sample") == 0)
        return write_sample(argv[2], false);
    if (argc == 3 && strcmp(argv[1], "--write-sample-open") == 0)
        return write_sample(argv[2], true);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--write-sample PATH | --write-sample-open PATH]\n", argv[0]);
        return 2;
    }
    check_prog = "report_html";
    RUN(page_skeleton);
    RUN(hostile_text_is_escaped);
    RUN(control_characters_and_bad_utf8);
    RUN(nothing_is_fetched);
    RUN(settings);
    RUN(tables);
    RUN(checks_section_and_banner);
    RUN(charts_have_series_axes_legend_and_events);
    RUN(empty_history_says_no_data);
    RUN(one_sample_is_a_dot);
    RUN(all_zero_values);
    RUN(gaps_in_response_times);
    RUN(long_run);
    RUN(numbers_ignore_the_locale);
    RUN(write_error_is_reported);
    RUN(closed_report_has_nothing_new);
    RUN(open_model_stages_and_two_latencies);
    return check_done();
}

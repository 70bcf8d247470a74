/* Unit tests for the text views: millisecond formatting, sanitising text that
 * came from a server, and the tables' content. */
#include "check.h"
#include "view/console.h"
#include "util/text.h"

#include <stdlib.h>

TEST(ms_formatting)
{
    char b[32];
    CHECK_STR(text_ms(0, b, sizeof b), "0.00");
    CHECK_STR(text_ms(43, b, sizeof b), "0.04");
    CHECK_STR(text_ms(430, b, sizeof b), "0.43");
    CHECK_STR(text_ms(999, b, sizeof b), "1.0");    /* no "1.00" */
    CHECK_STR(text_ms(1049, b, sizeof b), "1.0");
    CHECK_STR(text_ms(3450, b, sizeof b), "3.5");
    CHECK_STR(text_ms(9960, b, sizeof b), "10");
    CHECK_STR(text_ms(123456, b, sizeof b), "123");
    CHECK_STR(text_ms(60000000, b, sizeof b), "60000");
}

TEST(sanitize_strips_control_characters)
{
    char b[64];
    CHECK_STR(text_sanitize("ok \x1b[2Jcleared\r\n\x07", b, sizeof b), "ok ?[2Jcleared???");
    CHECK_STR(text_sanitize("caf\xc3\xa9", b, sizeof b), "caf\xc3\xa9");
    CHECK_STR(text_sanitize("abcdef", b, 4), "abc");
}

static void fill(snap_t *s, snap_entry_t *e)
{
    snap_init(s);
    s->host = "http://127.0.0.1:1";
    s->entries = e;
    s->n_entries = 2;
    e[0] = (snap_entry_t){.method = "GET", .name = "/api/title/The godfather/1972", .requests = 10,
                          .failures = 1, .min_us = 400, .max_us = 12000, .avg_us = 1500,
                          .content_bytes = 10260, .cur_rps = 5, .total_rps = 4};
    for (int i = 0; i < SNAP_NPCT; i++)
        e[0].pct_us[i] = 1000 + (uint64_t)i * 1000;
    e[1] = (snap_entry_t){.method = "GET", .name = "/never", .requests = 0};
    s->total = e[0];
    s->total.method = "";
    s->total.name = "Aggregated";
    static snap_error_t err = {.method = "GET", .name = "/x", .error = "HTTP 503\x1b[31m", .count = 3};
    s->errors = &err;
    s->n_errors = 1;
}

static char *render(void (*fn)(FILE *, const snap_t *), const snap_t *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f, s);
    fclose(f);
    return buf;
}

TEST(periodic_table)
{
    snap_t s;
    snap_entry_t e[2];
    fill(&s, e);
    char *out = render(console_print_stats, &s);
    CHECK(strstr(out, "/api/title/The godfather/1972") != NULL);
    CHECK(strstr(out, "1(10.00%)") != NULL);
    CHECK(strstr(out, "Aggregated") != NULL);
    CHECK(strstr(out, "last 10 s") != NULL);
    CHECK(strstr(out, "    5.00") != NULL);          /* current, not total */
    free(out);
}

TEST(summary_tables)
{
    snap_t s;
    snap_entry_t e[2];
    fill(&s, e);
    char *out = render(console_print_summary, &s);
    CHECK(strstr(out, "whole-run") != NULL);
    CHECK(strstr(out, "    4.00") != NULL);          /* total rate */
    CHECK(strstr(out, "99.99%") != NULL);
    CHECK(strstr(out, "HTTP 503?[31m") != NULL);      /* escape sequence defused */
    CHECK(strchr(out, '\x1b') == NULL);
    /* An endpoint never called has no percentile row. */
    char *pct = strstr(out, "Response time percentiles");
    CHECK(pct && strstr(pct, "/never") == NULL);
    CHECK(strstr(out, "Retries:") == NULL);          /* none: no line */
    free(out);

    /* Retries: the count, and what the server may have seen with them. */
    s.retries = 4;
    out = render(console_print_summary, &s);
    char want[160];
    snprintf(want, sizeof want, "\nRetries: 4 requests went out again on a new connection after a "
             "kept-alive one closed without an answer (the server may have seen %llu)\n",
             (unsigned long long)(s.total.requests + 4));
    CHECK(strstr(out, want) != NULL);
    free(out);
}

TEST(long_names_are_shortened_in_the_middle)
{
    snap_t s;
    snap_entry_t e[2];
    fill(&s, e);
    char longname[200];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "/start", 6);
    memcpy(longname + 190, "/the-end", 9);
    e[1].name = longname;
    char *out = render(console_print_stats, &s);
    CHECK(strstr(out, "/start") != NULL);
    CHECK(strstr(out, "...") != NULL);
    CHECK(strstr(out, "the-end") != NULL);
    free(out);
}

/* ---- the closed model as it always printed; intended starts, lag, the
 * open model and stages (issue 13) ---------------------------------------- */

/* A closed run without intended starts, as every earlier version filled it. */
static void fill_closed(snap_t *s, snap_entry_t *e, snap_sample_t *h, snap_event_t *ev)
{
    snap_init(s);
    s->host = "http://127.0.0.1:1";
    s->entries = e;
    s->n_entries = 2;
    s->state = RUN_RUNNING;
    s->users = 5;
    s->target_users = 10;
    s->spawn_rate = 2;
    s->elapsed_ms = 61000;
    s->run_time_ms = 120000;
    s->stats_ms = 61000;
    s->peak_users = 10;
    s->start_unix = 1714564800;
    e[0] = (snap_entry_t){.method = "GET", .name = "/api/title/The godfather/1972", .requests = 10,
                          .failures = 1, .min_us = 400, .max_us = 12000, .avg_us = 1500,
                          .content_bytes = 10260, .cur_rps = 5, .total_rps = 4};
    for (int i = 0; i < SNAP_NPCT; i++)
        e[0].pct_us[i] = 1000 + (uint64_t)i * 1000;
    e[1] = (snap_entry_t){.method = "GET", .name = "/never", .requests = 0};
    s->total = e[0];
    s->total.method = "";
    s->total.name = "Aggregated";
    static snap_error_t err = {.method = "GET", .name = "/x", .error = "HTTP 503", .count = 3};
    s->errors = &err;
    s->n_errors = 1;
    for (int i = 0; i < 5; i++)
        h[i] = (snap_sample_t){.t = (uint32_t)i + 1, .span = 1, .users = 5, .rps = 10,
                               .p50_us = 1000, .p95_us = 3000};
    s->history = h;
    s->n_history = 5;
    ev[0] = (snap_event_t){.t_ms = 2000, .kind = EVENT_TARGET_USERS, .value = 10};
    s->events = ev;
    s->n_events = 1;
}

/* Byte for byte what hopper printed for this snapshot before the open model
 * and intended starts existed (captured from that version's build). */
static const char closed_golden[] =
    "[00:01:01] http://127.0.0.1:1 running, users 5/10, spawn rate 2/s, 59s left  (req/s and fail/s: last 10 s)\n"
    "generator: libcurl client, cpu 0% lag 0.0ms\n"
    "Type     Name                          |  # reqs |         # fails |  Med ms |  Avg ms |  Min ms |  Max ms |  Size |    req/s |    fail/s\n"
    "--------|------------------------------|---------|-----------------|---------|---------|---------|---------|-------|----------|-----------\n"
    "GET      /api/title/The godfather/1972 |      10 |       1(10.00%) |     1.0 |     1.5 |    0.40 |      12 |  1026 |     5.00 |      0.00\n"
    "GET      /never                        |       0 |        0(0.00%) |       - |       - |       - |       - |     0 |     0.00 |      0.00\n"
    "--------|------------------------------|---------|-----------------|---------|---------|---------|---------|-------|----------|-----------\n"
    "         Aggregated                    |      10 |       1(10.00%) |     1.0 |     1.5 |    0.40 |      12 |  1026 |     5.00 |      0.00\n"
    "\n"
    "\n"
    "=== hopper summary: http://127.0.0.1:1, 1m1s of statistics ===\n"
    "Response time statistics (req/s and fail/s: whole-run averages; times in ms)\n"
    "Type     Name                          |  # reqs |         # fails |  Med ms |  Avg ms |  Min ms |  Max ms |  Size |    req/s |    fail/s\n"
    "--------|------------------------------|---------|-----------------|---------|---------|---------|---------|-------|----------|-----------\n"
    "GET      /api/title/The godfather/1972 |      10 |       1(10.00%) |     1.0 |     1.5 |    0.40 |      12 |  1026 |     4.00 |      0.00\n"
    "GET      /never                        |       0 |        0(0.00%) |       - |       - |       - |       - |     0 |     0.00 |      0.00\n"
    "--------|------------------------------|---------|-----------------|---------|---------|---------|---------|-------|----------|-----------\n"
    "         Aggregated                    |      10 |       1(10.00%) |     1.0 |     1.5 |    0.40 |      12 |  1026 |     4.00 |      0.00\n"
    "\n"
    "Response time percentiles (ms)\n"
    "Type     Name                              50%     66%     75%     80%     90%     95%     98%     99%   99.9%  99.99%    100%   # reqs\n"
    "--------|-----------------------------|-------|-------|-------|-------|-------|-------|-------|-------|-------|-------|-------|--------\n"
    "GET      /api/title/The godfather/1972     1.0     2.0     3.0     4.0     5.0     6.0     7.0     8.0     9.0      10      11       10\n"
    "         Aggregated                        1.0     2.0     3.0     4.0     5.0     6.0     7.0     8.0     9.0      10      11       10\n"
    "\n"
    "Error report\n"
    "# occurrences  | Error\n"
    "---------------|------------------------------------------------------------\n"
    "3              | GET /x: HTTP 503\n"
    "\n"
    "Run: 1m1s, 10 requests (1 failed), peak 10 users (target 10)\n"
;

static char *render_both(const snap_t *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    console_print_stats(f, s);
    console_print_summary(f, s);
    fclose(f);
    return buf;
}

TEST(closed_output_is_unchanged)
{
    snap_t s;
    snap_entry_t e[2];
    snap_sample_t h[5];
    snap_event_t ev[1];
    fill_closed(&s, e, h, ev);
    char *out = render_both(&s);
    CHECK_STR(out, closed_golden);
    free(out);
}

/* The snapshot of a run with intended starts: corrected times 100x the raw. */
static void fill_dual(snap_t *s, snap_entry_t *e, snap_sample_t *h, snap_event_t *ev)
{
    fill_closed(s, e, h, ev);
    s->dual = true;
    for (size_t k = 0; k < 2; k++) {
        snap_entry_t *x = k ? &s->total : &e[0];
        x->raw_min_us = 300;
        x->raw_max_us = 12000;
        x->raw_avg_us = 1500;
        for (int i = 0; i < SNAP_NPCT; i++) {
            x->raw_pct_us[i] = 1000 + (uint64_t)i * 1000;
            x->pct_us[i] = 100000 + (uint64_t)i * 100000;
        }
        x->max_us = 1100000;
        x->avg_us = 250000;
    }
    s->lag_count = 1234;
    s->lag_max_us = 900;
    for (int i = 0; i < SNAP_NPCT; i++)
        s->lag_pct_us[i] = 20 + (uint64_t)i * 10;
}

static int widest_line(const char *from, const char *to)
{
    int w = 0, cur = 0;
    for (const char *p = from; *p && p < to; p++) {
        if (*p == '\n') {
            cur = 0;
            continue;
        }
        if (++cur > w)
            w = cur;
    }
    return w;
}

TEST(corrected_and_raw_side_by_side)
{
    snap_t s;
    snap_entry_t e[2];
    snap_sample_t h[5];
    snap_event_t ev[1];
    fill_dual(&s, e, h, ev);
    char *out = render(console_print_stats, &s);
    /* The 80-column table: labelled, a corrected and a raw row per called row. */
    const char *t = strstr(out, "Response times (ms): corrected = from the intended start, raw = "
                                "from the send\n");
    CHECK(t != NULL);
    if (t) {
        const char *end = strstr(t, "\n\n");
        CHECK(widest_line(t, end ? end : t + strlen(t)) <= 80);
        CHECK(strstr(t, "GET     /api/titl...ther/1972 corrected     100     250     600     800    1100\n") != NULL);
        CHECK(strstr(t, "\n                              raw           1.0     1.5     6.0     8.0      12\n") != NULL);
        CHECK(strstr(t, "        Aggregated            corrected") != NULL);
        CHECK(strstr(t, "/never") == NULL);
    }
    /* The lag, with nothing alarming to say about it. */
    CHECK(strstr(out, "Schedule lag (how late hopper started what was due): p50 0.02 ms, p99 0.09 ms, "
                      "max 0.90 ms over 1234 sends\n") != NULL);
    CHECK(strstr(out, "hopper, not the server, is behind") == NULL);
    free(out);

    out = render(console_print_summary, &s);
    CHECK(strstr(out, "times in ms, corrected to the intended start)") != NULL);
    CHECK(strstr(out, "Response times (ms): corrected = from the intended start") != NULL);
    CHECK(strstr(out, "Response time percentiles (ms): corrected (from the intended start), then raw "
                      "(from the send)\n") != NULL);
    /* Each percentile row, then its raw one. */
    CHECK(strstr(out, "GET      /api/title/The godfather/1972     100     200     300     400     500     600     700     800     900    1000    1100       10\n"
                      "           raw (from the send)             1.0     2.0     3.0     4.0     5.0     6.0     7.0     8.0     9.0      10      11       10\n") != NULL);
    CHECK(strstr(out, "Schedule lag (how late hopper started what was due)") != NULL);
    free(out);
}

/* A high lag: hopper says that it, not the server, is behind. */
TEST(high_schedule_lag_is_called_so)
{
    snap_t s;
    snap_entry_t e[2];
    snap_sample_t h[5];
    snap_event_t ev[1];
    fill_dual(&s, e, h, ev);
    s.lag_pct_us[SNAP_P99] = 90000;         /* 90 ms against a corrected p99 of 800 ms */
    s.lag_max_us = 120000;
    char *out = render(console_print_stats, &s);
    CHECK(strstr(out, "The schedule lag is high: hopper, not the server, is behind") != NULL);
    free(out);
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "The schedule lag is high: hopper, not the server, is behind") != NULL);
    free(out);
    /* 10 ms or more, but small next to what the server took: not worth a word. */
    s.lag_pct_us[SNAP_P99] = 50000;
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "is behind") == NULL);
    free(out);
    /* A fast server: a few ms of lag are the timers' own grain, 10 ms are not. */
    s.total.pct_us[SNAP_P99] = 1000;
    s.lag_pct_us[SNAP_P99] = 9999;
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "is behind") == NULL);
    free(out);
    s.lag_pct_us[SNAP_P99] = 10000;
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "is behind") != NULL);
    free(out);
}

TEST(open_model_and_stages)
{
    snap_t s;
    snap_entry_t e[2];
    snap_sample_t h[5];
    snap_event_t ev[1];
    fill_dual(&s, e, h, ev);
    s.open = true;
    s.arrival_rate = 200;
    s.max_users = 400;
    s.pool_users = 40;
    s.users = 12;
    s.peak_users = 30;
    s.stats_ms = 60000;
    s.arrivals = 11990;
    s.dropped = 10;
    s.cur_arrival_rate = 199.5;
    s.cur_drop_rate = 0.3;
    /* As the engine copies them from the plan: a start not written is the
     * previous stage's target. */
    static const snap_stage_t stages[] = {{.dur_us = 60000000, .from = 0, .to = 500, .from_set = true},
                                          {.dur_us = 300000000, .from = 500, .to = 500},
                                          {.dur_us = 30000000, .from = 500, .to = 0}};
    s.stages = stages;
    s.n_stages = 3;
    s.stage = 0;
    s.stage_left_ms = 42000;
    char *out = render(console_print_stats, &s);
    CHECK(strstr(out, " running, open model at 200/s, users 12 busy of 40 pooled (max 400), 59s left") != NULL);
    CHECK(strstr(out, "\nstage 1 of 3: 1m:0-500/s, 42s left\n") != NULL);
    CHECK(strstr(out, "\narrivals: 199.5/s started, 0.3/s dropped (last 10 s); 11990 started, 10 dropped "
                      "(0.08%) in all\n") != NULL);
    CHECK(strstr(out, "spawn rate") == NULL);
    free(out);
    /* A key took over; then the stages are over. */
    s.stage = 1;
    s.manual = true;
    out = render(console_print_stats, &s);
    CHECK(strstr(out, "\nstage 2 of 3: 5m:500/s, 42s left; manual: a key has taken over until the "
                      "next stage\n") != NULL);
    free(out);
    s.stage = 3;
    s.manual = false;
    out = render(console_print_stats, &s);
    CHECK(strstr(out, "\nstages: all 3 done\n") != NULL);
    free(out);

    s.poisson = true;
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "\nRun: 1m1s, 10 requests (1 failed), peak 30 users (pool max 400)\n") != NULL);
    /* With stages, the target is the stages (not a rate of the moment). */
    CHECK(strstr(out, "\nOpen model: stages 1m:0-500/s, 5m:500/s, 30s:0/s, poisson arrivals: 11990 "
                      "started (199.8/s achieved), 10 dropped (0.08%)\n") != NULL);
    CHECK(strstr(out, "\nDropped arrivals found no free user in the pool (max-users 400)") != NULL);
    CHECK(strstr(out, "Stages (") == NULL);
    CHECK(strstr(out, "target") == NULL);
    free(out);
    /* The last stage alone ramps from the stored start. */
    s.stage = 2;
    out = render(console_print_stats, &s);
    CHECK(strstr(out, "\nstage 3 of 3: 30s:500-0/s, 42s left\n") != NULL);
    free(out);
    /* Without stages, the rate in force; one no one would type in /s is
     * written per hour, never with an exponent. */
    s.n_stages = 0;
    s.arrival_rate = 0.1 / 3600;
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "\nOpen model: target 0.1/h, poisson arrivals: 11990 started") != NULL);
    free(out);
    out = render(console_print_stats, &s);
    CHECK(strstr(out, " running, open model at 0.1/h (poisson), users 12 busy") != NULL);
    free(out);
    s.arrival_rate = 123.456789;
    out = render(console_print_stats, &s);
    CHECK(strstr(out, " open model at 123/s (poisson), ") != NULL);
    free(out);
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "\nOpen model: target 123.456789/s, poisson") != NULL);
    free(out);
    s.stages = stages;
    s.n_stages = 3;
    s.stage = 1;

    /* The closed model's stages are in users. */
    s.open = false;
    s.dual = false;
    s.stage = 1;
    s.target_users = 100;
    static const snap_stage_t users[] = {{.dur_us = 30000000, .to = 100},
                                         {.dur_us = 90000000, .from = 100, .to = 100}};
    s.stages = users;
    s.n_stages = 2;
    out = render(console_print_stats, &s);
    CHECK(strstr(out, "users 12/100, spawn rate 2/s") != NULL);
    CHECK(strstr(out, "\nstage 2 of 2: 1m30s:100 users, 42s left\n") != NULL);
    CHECK(strstr(out, "arrivals:") == NULL);
    CHECK(strstr(out, "Schedule lag") == NULL);
    CHECK(strstr(out, "corrected") == NULL);
    free(out);
    out = render(console_print_summary, &s);
    CHECK(strstr(out, "\nStages (users): 30s:100, 1m30s:100 (stopped in stage 2, 42s before its end)\n") != NULL);
    CHECK(strstr(out, "Open model") == NULL);
    free(out);
}

int main(void)
{
    check_prog = "console";
    RUN(ms_formatting);
    RUN(sanitize_strips_control_characters);
    RUN(periodic_table);
    RUN(summary_tables);
    RUN(long_names_are_shortened_in_the_middle);
    RUN(closed_output_is_unchanged);
    RUN(corrected_and_raw_side_by_side);
    RUN(high_schedule_lag_is_called_so);
    RUN(open_model_and_stages);
    return check_done();
}

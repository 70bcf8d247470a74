/* Unit tests for the statistics: counts, failures, the Aggregated row, the
 * 10-second current rates (which fall to zero when traffic stops), errors
 * grouped per endpoint, reset, and the bounded per-second history. */
#include "check.h"
#include "stats/hist.h"
#include "stats/history.h"
#include "stats/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const char *methods[] = {"GET", "POST", "GET"};
static const char *names[] = {"/status", "/api", "/api"};

TEST(counts_and_aggregated)
{
    stats_t *st = stats_new(3, methods, names, 1000.0, false);
    snap_t s;
    snap_init(&s);
    stats_record(st, 0, 100, 1000, 15, 200, NULL);
    stats_record(st, 0, 200, 3000, 15, 200, "HTTP 500");
    stats_record(st, 1, 300, 2000, 100, 200, NULL);
    stats_fill(st, 1000, &s);
    CHECK_INT(s.n_entries, 3);
    /* Sorted by name, then method: GET /api, POST /api, GET /status. */
    CHECK_STR(s.entries[0].name, "/api");
    CHECK_STR(s.entries[0].method, "GET");
    CHECK_STR(s.entries[1].method, "POST");
    CHECK_STR(s.entries[2].name, "/status");
    CHECK_INT(s.entries[2].requests, 2);
    CHECK_INT(s.entries[2].failures, 1);
    CHECK_INT(s.entries[2].min_us, 1000);
    CHECK_INT(s.entries[2].max_us, 3000);
    CHECK(s.entries[2].avg_us == 2000.0);
    CHECK_INT(s.entries[0].requests, 0);
    CHECK_INT(s.entries[0].min_us, 0);
    CHECK_INT(s.total.requests, 3);
    CHECK_INT(s.total.failures, 1);
    CHECK_INT(s.total.content_bytes, 130);
    CHECK_STR(s.total.name, "Aggregated");
    CHECK_STR(s.total.method, "");
    CHECK(s.total.pct_us[SNAP_P50] >= 1990 && s.total.pct_us[SNAP_P50] <= 2010); /* bucket midpoint */
    CHECK_INT(s.total.pct_us[SNAP_NPCT - 1], 3000);
    CHECK(fabs(s.total.total_rps - 3.0) < 1e-9);   /* 3 requests in 1 s */
    snap_free(&s);
    stats_free(st);
}

TEST(current_rate_is_last_ten_seconds_and_falls_to_zero)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    snap_t s;
    snap_init(&s);
    /* 20 requests a second for 30 seconds. */
    for (uint64_t sec = 0; sec < 30; sec++)
        for (int i = 0; i < 20; i++)
            stats_record(st, 0, sec * 1000 + (uint64_t)i * 50, 500, 0, 200, i == 0 ? "x" : NULL);
    stats_fill(st, 30000, &s);
    CHECK(fabs(s.total.cur_rps - 20.0) < 1e-9);
    CHECK(fabs(s.total.cur_fps - 1.0) < 1e-9);
    CHECK(fabs(s.entries[0].cur_rps - 20.0) < 1e-9);
    /* Early on, the window is the seconds elapsed so far. */
    stats_fill(st, 30500, &s);
    CHECK(fabs(s.total.cur_rps - 20.0) < 1e-9);
    /* Traffic stops at 30 s: after 5 s the window holds half of it ... */
    stats_fill(st, 35000, &s);
    CHECK(fabs(s.total.cur_rps - 10.0) < 1e-9);
    /* ... and after 10 s none: the rate reads 0, unlike Locust's. */
    stats_fill(st, 40000, &s);
    CHECK(s.total.cur_rps == 0.0);
    CHECK(s.total.cur_fps == 0.0);
    CHECK_INT(s.total.requests, 600);
    snap_free(&s);
    stats_free(st);
}

TEST(early_window)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    snap_t s;
    snap_init(&s);
    for (int i = 0; i < 30; i++)
        stats_record(st, 0, (uint64_t)i * 100, 500, 0, 200, NULL);   /* 10/s for 3 s */
    stats_fill(st, 3000, &s);
    CHECK(fabs(s.total.cur_rps - 10.0) < 1e-9);
    stats_fill(st, 500, &s);
    CHECK(s.total.cur_rps == 0.0);     /* no whole second yet */
    snap_free(&s);
    stats_free(st);
}

TEST(errors_grouped_per_endpoint_and_sorted)
{
    stats_t *st = stats_new(3, methods, names, 1000.0, false);
    snap_t s;
    snap_init(&s);
    for (int i = 0; i < 5; i++)
        stats_record(st, 0, 1000 + (uint64_t)i, 10, 0, 200, "connection refused");
    for (int i = 0; i < 7; i++)
        stats_record(st, 2, 2000, 10, 0, 200, "HTTP 503");
    stats_record(st, 0, 3000, 10, 0, 200, "HTTP 503");
    stats_fill(st, 4000, &s);
    CHECK_INT(s.n_errors, 3);
    CHECK_INT(s.errors[0].count, 7);
    CHECK_STR(s.errors[0].error, "HTTP 503");
    CHECK_STR(s.errors[0].name, "/api");
    CHECK_INT(s.errors[1].count, 5);
    CHECK_STR(s.errors[1].error, "connection refused");
    CHECK(s.errors[1].first_seen == 1001.0);
    CHECK(s.errors[1].last_seen == 1001.004);
    CHECK_INT(s.errors[2].count, 1);
    snap_free(&s);
    stats_free(st);
}

TEST(error_table_is_bounded)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    snap_t s;
    snap_init(&s);
    char text[64];
    for (int i = 0; i < STATS_MAX_ERRORS + 500; i++) {
        snprintf(text, sizeof text, "error %d", i);
        stats_record(st, 0, 10, 10, 0, 200, text);
    }
    stats_fill(st, 1000, &s);
    CHECK_INT(s.n_errors, STATS_MAX_ERRORS + 1);
    CHECK_INT(s.total.failures, STATS_MAX_ERRORS + 500);
    uint64_t sum = 0;
    for (size_t i = 0; i < s.n_errors; i++)
        sum += s.errors[i].count;
    CHECK_INT(sum, STATS_MAX_ERRORS + 500);       /* every failure is somewhere */
    snap_free(&s);
    stats_free(st);
}

TEST(reset_forgets_counts_but_keeps_history)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    snap_t s;
    snap_init(&s);
    stats_record(st, 0, 500, 100, 1, 200, "x");
    stats_tick(st, 1000, 3);
    stats_reset(st, 1500);
    stats_event(st, 1500, EVENT_RESET_STATS, 0);
    stats_record(st, 0, 1700, 200, 1, 200, NULL);
    stats_fill(st, 2500, &s);
    CHECK_INT(s.total.requests, 1);
    CHECK_INT(s.total.failures, 0);
    CHECK_INT(s.n_errors, 0);
    CHECK_INT(s.stats_ms, 1000);
    CHECK(fabs(s.total.total_rps - 1.0) < 1e-9);
    CHECK_INT(s.n_history, 1);
    CHECK_INT(s.history[0].users, 3);
    CHECK_INT(s.n_events, 1);
    CHECK_INT(s.events[0].kind, EVENT_RESET_STATS);
    snap_free(&s);
    stats_free(st);
}

TEST(per_second_samples)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    snap_t s;
    snap_init(&s);
    for (int i = 0; i < 100; i++)
        stats_record(st, 0, 100, 1000 + (uint64_t)i * 10, 0, 200, i < 4 ? "x" : NULL);
    stats_tick(st, 1000, 7);
    stats_tick(st, 2000, 8);      /* an idle second */
    stats_fill(st, 2000, &s);
    CHECK_INT(s.n_recent, 2);
    CHECK_INT(s.recent[0].t, 1);
    CHECK(s.recent[0].rps == 100.0f);
    CHECK(s.recent[0].fps == 4.0f);
    CHECK_INT(s.recent[0].users, 7);
    CHECK(s.recent[0].p50_us >= 1480 && s.recent[0].p50_us <= 1500);
    CHECK(s.recent[0].p95_us >= 1930 && s.recent[0].p95_us <= 1950);
    CHECK(s.recent[1].rps == 0.0f);
    CHECK_INT(s.recent[1].p50_us, 0);
    snap_free(&s);
    stats_free(st);
}

/* A second's p50/p95 above 2^32 us (71 minutes) is kept whole: in the
 * sample, through a worker's delta, and through the history's merging. */
TEST(per_second_percentiles_past_32_bits)
{
    const uint64_t slow = 5000000000ull;          /* 83 minutes */
    stats_t *st = stats_new(1, methods, names, 0, false), *w = stats_new(1, methods, names, 0, false);
    stats_t *eng = stats_new(1, methods, names, 0, false);
    for (int i = 0; i < 10; i++) {
        stats_record(st, 0, 100, slow + (uint64_t)i, 0, 200, NULL);
        stats_record(w, 0, 100, slow + (uint64_t)i, 0, 200, NULL);
    }
    frame_buf_t b;
    frame_buf_init(&b);
    stats_delta_take(w, &b);
    CHECK_INT(stats_delta_apply(eng, b.data, b.len, 100), 0);
    frame_buf_free(&b);
    stats_tick(st, 1000, 1);
    stats_tick(eng, 1000, 1);
    snap_t s, e;
    snap_init(&s);
    snap_init(&e);
    stats_fill(st, 1000, &s);
    stats_fill(eng, 1000, &e);
    CHECK(s.recent[0].p50_us > UINT32_MAX);
    CHECK(s.recent[0].p50_us >= slow - slow / 100 && s.recent[0].p50_us <= slow + slow / 100);
    CHECK(s.recent[0].p95_us >= slow - slow / 100 && s.recent[0].p95_us <= slow + slow / 100);
    CHECK_INT(e.recent[0].p50_us, s.recent[0].p50_us);
    CHECK_INT(e.recent[0].p95_us, s.recent[0].p95_us);
    CHECK_INT(s.history[0].p95_us, s.recent[0].p95_us);
    snap_free(&s);
    snap_free(&e);
    stats_free(st);
    stats_free(w);
    stats_free(eng);

    /* Merging two samples keeps the worse percentile, still 64-bit. */
    history_t *h = malloc(sizeof *h);
    history_init(h);
    for (uint32_t t = 1; t <= 3 * HISTORY_RUN_MAX; t++) {
        snap_sample_t x = {.t = t, .span = 1, .p50_us = t == 1 ? slow : 1000,
                           .p95_us = t == 1 ? 2 * slow : 2000};
        history_add(h, &x);
    }
    snap_init(&s);
    history_fill(h, &s);
    CHECK(s.history[0].span > 1);        /* compacted at least once */
    CHECK_INT(s.history[0].p50_us, slow);
    CHECK_INT(s.history[0].p95_us, 2 * slow);
    snap_free(&s);
    history_free(h);
    free(h);
}

/* What a snapshot says about the stats, for "unchanged" comparisons. */
static void snap_same(const snap_t *x, const snap_t *y)
{
    CHECK_INT(x->n_entries, y->n_entries);
    for (size_t i = 0; i < x->n_entries && i < y->n_entries; i++) {
        CHECK_INT(x->entries[i].requests, y->entries[i].requests);
        CHECK_INT(x->entries[i].failures, y->entries[i].failures);
        CHECK_INT(x->entries[i].content_bytes, y->entries[i].content_bytes);
        CHECK_INT(x->entries[i].min_us, y->entries[i].min_us);
        CHECK_INT(x->entries[i].max_us, y->entries[i].max_us);
        for (int k = 0; k < SNAP_NPCT; k++)
            CHECK_INT(x->entries[i].pct_us[k], y->entries[i].pct_us[k]);
        CHECK(x->entries[i].cur_rps == y->entries[i].cur_rps);
    }
    CHECK_INT(x->total.requests, y->total.requests);
    CHECK_INT(x->total.failures, y->total.failures);
    for (int k = 0; k < SNAP_NPCT; k++)
        CHECK_INT(x->total.pct_us[k], y->total.pct_us[k]);
    CHECK_INT(x->n_errors, y->n_errors);
    for (size_t i = 0; i < x->n_errors && i < y->n_errors; i++)
        CHECK_INT(x->errors[i].count, y->errors[i].count);
    CHECK_INT(x->n_recent, y->n_recent);
    for (size_t i = 0; i < x->n_recent && i < y->n_recent; i++) {
        CHECK(x->recent[i].rps == y->recent[i].rps);
        CHECK_INT(x->recent[i].p95_us, y->recent[i].p95_us);
    }
}

/* A delta found bad near its end changes nothing: it is checked whole
 * before any of it is applied (counts, histograms, rates, errors, and the
 * second in progress, seen through the next tick). */
TEST(bad_delta_changes_nothing)
{
    stats_t *w = stats_new(2, methods, names, 0, false);
    for (int i = 0; i < 100; i++)
        stats_record(w, (size_t)(i % 2), 10, (uint64_t)i * 100, 1, 200, i % 10 ? NULL : "HTTP 500");
    frame_buf_t b;
    frame_buf_init(&b);
    stats_delta_take(w, &b);
    /* The end of a delta: ... entry u32, count u64, first f64, last f64,
     * text length u16, "HTTP 500", errors dropped u64. */
    size_t entry_at = b.len - 8 - strlen("HTTP 500") - 2 - 8 - 8 - 8 - 4;
    struct {
        const char *what;
        size_t len;
        size_t poke_at;     /* SIZE_MAX: none */
    } cases[] = {
        {"the last byte missing", b.len - 1, SIZE_MAX},
        {"a byte too many", b.len + 1, SIZE_MAX},
        {"an error row on no endpoint", b.len, entry_at},
    };
    uint8_t *bytes = malloc(b.len + 1);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        printf("#   %s\n", cases[k].what);
        stats_t *eng = stats_new(2, methods, names, 0, false);
        stats_t *ref = stats_new(2, methods, names, 0, false);
        for (int i = 0; i < 20; i++) {
            stats_record(eng, (size_t)(i % 2), 500, 3000 + (uint64_t)i, 5, 200, i % 4 ? NULL : "timeout");
            stats_record(ref, (size_t)(i % 2), 500, 3000 + (uint64_t)i, 5, 200, i % 4 ? NULL : "timeout");
        }
        memcpy(bytes, b.data, b.len);
        bytes[b.len] = 0;
        if (cases[k].poke_at != SIZE_MAX)
            memset(bytes + cases[k].poke_at, 0xff, 4);
        CHECK_INT(stats_delta_apply(eng, bytes, cases[k].len, 900), -1);
        stats_tick(eng, 1000, 1);
        stats_tick(ref, 1000, 1);
        snap_t x, y;
        snap_init(&x);
        snap_init(&y);
        stats_fill(eng, 1500, &x);
        stats_fill(ref, 1500, &y);
        snap_same(&x, &y);
        snap_free(&x);
        snap_free(&y);
        stats_free(eng);
        stats_free(ref);
    }
    /* The same bytes untouched are a good delta. */
    stats_t *eng = stats_new(2, methods, names, 0, false);
    CHECK_INT(stats_delta_apply(eng, b.data, b.len, 900), 0);
    stats_free(eng);
    free(bytes);
    frame_buf_free(&b);
    stats_free(w);
}

TEST(history_stays_bounded_over_a_long_run)
{
    history_t *h = malloc(sizeof *h);
    history_init(h);
    /* Nine days of seconds. */
    uint32_t n = 9 * 86400;
    for (uint32_t t = 1; t <= n; t++) {
        snap_sample_t s = {.t = t, .span = 1, .users = 100, .rps = 50, .p50_us = t % 1000, .p95_us = 2000};
        history_add(h, &s);
    }
    snap_t s;
    snap_init(&s);
    history_fill(h, &s);
    CHECK(s.n_history <= HISTORY_RUN_MAX);
    CHECK(s.n_history > HISTORY_RUN_MAX / 2);
    CHECK_INT(s.n_recent, HISTORY_RECENT);
    CHECK_INT(s.recent[HISTORY_RECENT - 1].t, n);
    CHECK_INT(s.recent[0].t, n - HISTORY_RECENT + 1);
    uint64_t covered = 0;
    for (size_t i = 0; i < s.n_history; i++) {
        covered += s.history[i].span;
        CHECK(s.history[i].rps == 50.0f);
        CHECK_INT(s.history[i].users, 100);
        CHECK_INT(s.history[i].p95_us, 2000);
    }
    CHECK_INT(covered, n);                    /* every second is in some sample */
    CHECK_INT(s.history[s.n_history - 1].t, n);
    snap_free(&s);
    history_free(h);
    free(h);
}

TEST(malformed_deltas_are_refused)
{
    stats_t *w = stats_new(2, methods, names, 0, false), *eng = stats_new(2, methods, names, 0, false);
    stats_t *other = stats_new(1, methods, names, 0, false);
    for (int i = 0; i < 100; i++)
        stats_record(w, (size_t)(i % 2), 10, (uint64_t)i * 100, 1, 200, i % 10 ? NULL : "HTTP 500");
    frame_buf_t b;
    frame_buf_init(&b);
    stats_delta_take(w, &b);
    for (size_t cut = 0; cut < b.len; cut += 7) {
        /* Cut anywhere: refused, and never read past the end (ASan). */
        stats_t *scratch = stats_new(2, methods, names, 0, false);
        CHECK_INT(stats_delta_apply(scratch, b.data, cut, 10), -1);
        stats_free(scratch);
    }
    CHECK_INT(stats_delta_apply(other, b.data, b.len, 10), -1);     /* wrong shape */
    CHECK_INT(stats_delta_apply(eng, b.data, b.len, 10), 0);
    frame_buf_free(&b);
    stats_free(w);
    stats_free(eng);
    stats_free(other);
}

TEST(clean_deltas_equal_one_place)
{
    stats_t *w1 = stats_new(2, methods, names, 1000.0, false), *w2 = stats_new(2, methods, names, 1000.0, false);
    stats_t *one = stats_new(2, methods, names, 1000.0, false), *eng = stats_new(2, methods, names, 1000.0, false);
    srand(9);
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 3000; i++) {
            uint64_t us = (uint64_t)(rand() % 5000000);
            size_t e = (size_t)(rand() % 2);
            const char *err = rand() % 40 == 0 ? (rand() % 2 ? "HTTP 500" : "connection reset") : NULL;
            stats_record(i % 3 ? w1 : w2, e, 100, us, (uint64_t)i, 200, err);
            stats_record(one, e, 100, us, (uint64_t)i, 200, err);
        }
        frame_buf_t b;
        frame_buf_init(&b);
        stats_delta_take(w1, &b);
        CHECK_INT(stats_delta_apply(eng, b.data, b.len, 100), 0);
        b.len = 0;
        stats_delta_take(w2, &b);
        CHECK_INT(stats_delta_apply(eng, b.data, b.len, 100), 0);
        frame_buf_free(&b);
    }
    snap_t a, c;
    snap_init(&a);
    snap_init(&c);
    stats_fill(one, 1000, &a);
    stats_fill(eng, 1000, &c);
    for (size_t i = 0; i < 2; i++) {
        CHECK_INT(c.entries[i].requests, a.entries[i].requests);
        CHECK_INT(c.entries[i].failures, a.entries[i].failures);
        CHECK_INT(c.entries[i].content_bytes, a.entries[i].content_bytes);
        CHECK_INT(c.entries[i].min_us, a.entries[i].min_us);
        CHECK_INT(c.entries[i].max_us, a.entries[i].max_us);
        CHECK(c.entries[i].avg_us == a.entries[i].avg_us);
        for (int k = 0; k < SNAP_NPCT; k++)
            CHECK_INT(c.entries[i].pct_us[k], a.entries[i].pct_us[k]);
    }
    CHECK_INT(c.total.requests, a.total.requests);
    for (int k = 0; k < SNAP_NPCT; k++)
        CHECK_INT(c.total.pct_us[k], a.total.pct_us[k]);
    CHECK_INT(c.n_errors, a.n_errors);
    for (size_t i = 0; i < a.n_errors && i < c.n_errors; i++) {
        CHECK_STR(c.errors[i].error, a.errors[i].error);
        CHECK_INT(c.errors[i].count, a.errors[i].count);
    }
    /* The per-second sample sees the merged requests too. */
    stats_tick(eng, 1000, 3);
    stats_tick(one, 1000, 3);
    snap_free(&a);
    snap_free(&c);
    snap_init(&a);
    snap_init(&c);
    stats_fill(one, 1000, &a);
    stats_fill(eng, 1000, &c);
    CHECK(a.recent[0].rps == c.recent[0].rps);
    CHECK_INT(a.recent[0].p95_us, c.recent[0].p95_us);
    snap_free(&a);
    snap_free(&c);
    stats_free(w1);
    stats_free(w2);
    stats_free(one);
    stats_free(eng);
}

/* ---- intended starts, schedule lag, arrivals (issue 13) ---------------- */

/* Dual stats: the main histograms get raw + late (the corrected latency),
 * the raw ones the raw latency; stats_record is the late = 0 case. */
TEST(dual_records_corrected_and_raw)
{
    stats_t *st = stats_new(3, methods, names, 0, true);
    snap_t s;
    snap_init(&s);
    /* Endpoint 0 (GET /status, row 2): raw 1000..1099 us, each sent 5000 us late. */
    for (uint64_t i = 0; i < 100; i++)
        stats_record_late(st, 0, 500, 1000 + i, 5000, 10, 200, NULL);
    /* Endpoint 1 (POST /api, row 1): on time, through the plain call. */
    stats_record(st, 1, 600, 200, 10, 200, NULL);
    stats_fill(st, 1000, &s);
    CHECK(s.dual);
    const snap_entry_t *e = &s.entries[2];
    CHECK_STR(e->name, "/status");
    CHECK_INT(e->requests, 100);
    CHECK_INT(e->min_us, 6000);
    CHECK_INT(e->max_us, 6099);
    CHECK(fabs(e->avg_us - 6049.5) < 1e-9);
    CHECK_INT(e->raw_min_us, 1000);
    CHECK_INT(e->raw_max_us, 1099);
    CHECK(fabs(e->raw_avg_us - 1049.5) < 1e-9);
    /* Percentiles within the histogram's 0.4%: p50 of 6000..6099 and 1000..1099. */
    CHECK(e->pct_us[SNAP_P50] >= 6025 && e->pct_us[SNAP_P50] <= 6075);
    CHECK(e->raw_pct_us[SNAP_P50] >= 1045 && e->raw_pct_us[SNAP_P50] <= 1055);
    CHECK_INT(e->pct_us[SNAP_NPCT - 1], 6099);
    CHECK_INT(e->raw_pct_us[SNAP_NPCT - 1], 1099);
    /* On time: both the same. */
    CHECK_INT(s.entries[1].min_us, 200);
    CHECK_INT(s.entries[1].raw_min_us, 200);
    CHECK_INT(s.entries[1].raw_max_us, 200);
    /* Aggregated holds both kinds too. */
    CHECK_INT(s.total.requests, 101);
    CHECK_INT(s.total.max_us, 6099);
    CHECK_INT(s.total.raw_max_us, 1099);
    CHECK_INT(s.total.raw_min_us, 200);
    /* An endpoint never called: zeros in both. */
    CHECK_INT(s.entries[0].raw_min_us, 0);
    CHECK_INT(s.entries[0].raw_max_us, 0);
    /* The second's sample: p95 corrected and raw. */
    stats_tick(st, 1000, 4);
    stats_fill(st, 1000, &s);
    CHECK(s.recent[0].p95_us >= 6070 && s.recent[0].p95_us <= 6120);
    CHECK(s.recent[0].p95_raw_us >= 1070 && s.recent[0].p95_raw_us <= 1100);
    snap_free(&s);
    stats_free(st);
}

/* Not dual: late_us is ignored, raw_* are a copy of the main fields, and a
 * sample's raw p95 is its p95. */
TEST(not_dual_keeps_one_latency)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    snap_t s;
    snap_init(&s);
    for (uint64_t i = 0; i < 50; i++)
        stats_record_late(st, 0, 100, 1000 + i * 10, 7000, 0, 200, NULL);
    stats_tick(st, 1000, 1);
    stats_fill(st, 1000, &s);
    CHECK(!s.dual);
    CHECK_INT(s.total.min_us, 1000);
    CHECK_INT(s.total.max_us, 1490);
    CHECK_INT(s.total.raw_min_us, s.total.min_us);
    CHECK_INT(s.total.raw_max_us, s.total.max_us);
    CHECK(s.total.raw_avg_us == s.total.avg_us);
    for (int k = 0; k < SNAP_NPCT; k++)
        CHECK_INT(s.entries[0].raw_pct_us[k], s.entries[0].pct_us[k]);
    CHECK_INT(s.recent[0].p95_raw_us, s.recent[0].p95_us);
    CHECK(s.recent[0].p95_us > 0);
    CHECK_INT(s.lag_count, 0);
    snap_free(&s);
    stats_free(st);
}

TEST(schedule_lag)
{
    stats_t *st = stats_new(1, methods, names, 0, true);
    snap_t s;
    snap_init(&s);
    /* 98 sends on time to 97 us late, two badly late ones. */
    for (uint64_t i = 0; i < 98; i++)
        stats_lag(st, i);
    stats_lag(st, 40000);
    stats_lag(st, 90000);
    stats_tick(st, 1000, 1);
    stats_lag(st, 5);               /* the next second: small again */
    stats_tick(st, 2000, 1);
    stats_fill(st, 2000, &s);
    CHECK_INT(s.lag_count, 101);
    CHECK_INT(s.lag_max_us, 90000);
    CHECK(s.lag_pct_us[SNAP_P50] >= 48 && s.lag_pct_us[SNAP_P50] <= 50);
    /* p99 of 101: the 100th smallest, 40000 us, within its bucket. */
    CHECK(s.lag_pct_us[SNAP_P99] >= 39800 && s.lag_pct_us[SNAP_P99] <= 40200);
    CHECK_INT(s.lag_pct_us[SNAP_NPCT - 1], 90000);
    /* Per second: the first second's p99 (rank 99 of 100: 40000), then 5. */
    CHECK_INT(s.n_recent, 2);
    CHECK(s.recent[0].lag_p99_us >= 39800 && s.recent[0].lag_p99_us <= 40200);
    CHECK_INT(s.recent[1].lag_p99_us, 5);
    /* A reset forgets the lag (the samples stay, like the history). */
    stats_reset(st, 2000);
    stats_fill(st, 2500, &s);
    CHECK_INT(s.lag_count, 0);
    CHECK_INT(s.lag_max_us, 0);
    CHECK_INT(s.lag_pct_us[SNAP_P99], 0);
    CHECK_INT(s.n_recent, 2);
    snap_free(&s);
    stats_free(st);
}

TEST(arrivals_and_dropped)
{
    stats_t *st = stats_new(1, methods, names, 0, true);
    snap_t s;
    snap_init(&s);
    /* 20 arrivals a second for 30 s, 2 of them dropped each second. */
    for (uint64_t sec = 0; sec < 30; sec++) {
        for (uint64_t i = 0; i < 20; i++) {
            if (i < 2)
                stats_dropped(st, sec * 1000 + i * 50);
            else
                stats_arrival(st, sec * 1000 + i * 50);
        }
        stats_tick(st, (sec + 1) * 1000, 5);
    }
    stats_fill(st, 30000, &s);
    CHECK_INT(s.arrivals, 540);
    CHECK_INT(s.dropped, 60);
    CHECK(fabs(s.cur_arrival_rate - 18.0) < 1e-9);
    CHECK(fabs(s.cur_drop_rate - 2.0) < 1e-9);
    CHECK_INT(s.n_recent, 30);
    CHECK(s.recent[29].arrivals == 18.0f);
    CHECK(s.recent[29].dropped == 2.0f);
    /* Like the request rates, the current ones fall to zero when arrivals stop. */
    stats_fill(st, 35000, &s);
    CHECK(fabs(s.cur_arrival_rate - 9.0) < 1e-9);
    stats_fill(st, 40000, &s);
    CHECK(s.cur_arrival_rate == 0.0);
    CHECK(s.cur_drop_rate == 0.0);
    /* A reset forgets the totals and the window. */
    stats_reset(st, 40000);
    stats_arrival(st, 40100);
    stats_fill(st, 41000, &s);
    CHECK_INT(s.arrivals, 1);
    CHECK_INT(s.dropped, 0);
    CHECK(fabs(s.cur_arrival_rate - 1.0) < 1e-9);
    snap_free(&s);
    stats_free(st);
}

/* Compacting the whole-run series: arrivals and dropped per second are
 * averaged, the raw p95 and the lag p99 keep the worse. */
TEST(history_merges_the_new_fields)
{
    history_t *h = malloc(sizeof *h);
    history_init(h);
    for (uint32_t t = 1; t <= HISTORY_RUN_MAX + 2; t++) {
        snap_sample_t x = {.t = t, .span = 1, .arrivals = t % 2 ? 10.0f : 30.0f,
                           .dropped = t % 2 ? 0.0f : 4.0f,
                           .p95_raw_us = t == 2 ? 9000 : 100, .lag_p99_us = t == 1 ? 700 : 3};
        history_add(h, &x);
    }
    snap_t s;
    snap_init(&s);
    history_fill(h, &s);
    CHECK_INT(s.history[0].span, 2);
    CHECK(s.history[0].arrivals == 20.0f);
    CHECK(s.history[0].dropped == 2.0f);
    CHECK_INT(s.history[0].p95_raw_us, 9000);
    CHECK_INT(s.history[0].lag_p99_us, 700);
    CHECK_INT(s.history[1].p95_raw_us, 100);
    CHECK_INT(s.history[1].lag_p99_us, 3);
    snap_free(&s);
    history_free(h);
    free(h);
}

/* Everything a snapshot holds of dual stats, compared exactly. */
static void dual_same(const snap_t *x, const snap_t *y)
{
    CHECK(x->dual == y->dual);
    CHECK_INT(x->n_entries, y->n_entries);
    for (size_t i = 0; i <= x->n_entries && i <= y->n_entries; i++) {
        const snap_entry_t *a = snap_row(x, i), *b = snap_row(y, i);
        CHECK_INT(a->requests, b->requests);
        CHECK_INT(a->failures, b->failures);
        CHECK_INT(a->content_bytes, b->content_bytes);
        CHECK_INT(a->min_us, b->min_us);
        CHECK_INT(a->max_us, b->max_us);
        CHECK(a->avg_us == b->avg_us);
        CHECK_INT(a->raw_min_us, b->raw_min_us);
        CHECK_INT(a->raw_max_us, b->raw_max_us);
        CHECK(a->raw_avg_us == b->raw_avg_us);
        for (int k = 0; k < SNAP_NPCT; k++) {
            CHECK_INT(a->pct_us[k], b->pct_us[k]);
            CHECK_INT(a->raw_pct_us[k], b->raw_pct_us[k]);
        }
        CHECK(a->cur_rps == b->cur_rps);
    }
    CHECK_INT(x->lag_count, y->lag_count);
    CHECK_INT(x->lag_max_us, y->lag_max_us);
    for (int k = 0; k < SNAP_NPCT; k++)
        CHECK_INT(x->lag_pct_us[k], y->lag_pct_us[k]);
    CHECK_INT(x->arrivals, y->arrivals);
    CHECK_INT(x->dropped, y->dropped);
    CHECK(x->cur_arrival_rate == y->cur_arrival_rate);
    CHECK(x->cur_drop_rate == y->cur_drop_rate);
    CHECK_INT(x->n_errors, y->n_errors);
    CHECK_INT(x->n_recent, y->n_recent);
    for (size_t i = 0; i < x->n_recent && i < y->n_recent; i++) {
        const snap_sample_t *a = &x->recent[i], *b = &y->recent[i];
        CHECK(a->rps == b->rps);
        CHECK(a->fps == b->fps);
        CHECK_INT(a->p50_us, b->p50_us);
        CHECK_INT(a->p95_us, b->p95_us);
        CHECK_INT(a->p95_raw_us, b->p95_raw_us);
        CHECK_INT(a->lag_p99_us, b->lag_p99_us);
        CHECK(a->arrivals == b->arrivals);
        CHECK(a->dropped == b->dropped);
    }
}

/* Workers' deltas of dual stats, merged, equal one stats that saw every
 * request, lag, arrival and drop: the raw histograms, the lag, the
 * arrivals and the drops travel exactly. */
TEST(dual_deltas_equal_one_place)
{
    stats_t *w1 = stats_new(2, methods, names, 1000.0, true);
    stats_t *w2 = stats_new(2, methods, names, 1000.0, true);
    stats_t *one = stats_new(2, methods, names, 1000.0, true);
    stats_t *eng = stats_new(2, methods, names, 1000.0, true);
    srand(13);
    for (uint64_t sec = 0; sec < 3; sec++) {
        uint64_t at = sec * 1000 + 500;
        for (int i = 0; i < 2000; i++) {
            stats_t *w = rand() % 3 ? w1 : w2;
            uint64_t us = (uint64_t)(rand() % 300000), late = (uint64_t)(rand() % 4 ? 0 : rand() % 2000000);
            size_t e = (size_t)(rand() % 2);
            const char *err = rand() % 50 == 0 ? "HTTP 500" : NULL;
            stats_record_late(w, e, at, us, late, (uint64_t)i, 200, err);
            stats_record_late(one, e, at, us, late, (uint64_t)i, 200, err);
            uint64_t lag = (uint64_t)(rand() % 5000);
            stats_lag(w, lag);
            stats_lag(one, lag);
            if (rand() % 10) {
                stats_arrival(w, at);
                stats_arrival(one, at);
            } else {
                stats_dropped(w, at);
                stats_dropped(one, at);
            }
        }
        frame_buf_t b;
        frame_buf_init(&b);
        stats_delta_take(w1, &b);
        CHECK_INT(stats_delta_apply(eng, b.data, b.len, at), 0);
        b.len = 0;
        stats_delta_take(w2, &b);
        CHECK_INT(stats_delta_apply(eng, b.data, b.len, at), 0);
        frame_buf_free(&b);
        stats_tick(eng, (sec + 1) * 1000, 3);
        stats_tick(one, (sec + 1) * 1000, 3);
    }
    snap_t a, c;
    snap_init(&a);
    snap_init(&c);
    stats_fill(one, 3000, &a);
    stats_fill(eng, 3000, &c);
    CHECK_INT(a.total.requests, 6000);
    CHECK_INT(a.arrivals + a.dropped, 6000);
    CHECK(a.total.max_us > a.total.raw_max_us);     /* lateness was recorded */
    CHECK(a.lag_count == 6000);
    dual_same(&a, &c);
    /* A taken worker is empty: a second delta adds nothing. */
    frame_buf_t b;
    frame_buf_init(&b);
    stats_delta_take(w1, &b);
    CHECK_INT(stats_delta_apply(eng, b.data, b.len, 3000), 0);
    frame_buf_free(&b);
    stats_fill(eng, 3000, &c);
    dual_same(&a, &c);
    snap_free(&a);
    snap_free(&c);
    stats_free(w1);
    stats_free(w2);
    stats_free(one);
    stats_free(eng);
}

/* A delta of dual stats is refused by stats that are not (and the reverse),
 * cut anywhere it is refused, and a raw histogram that does not count the
 * requests its corrected one counts makes the delta bad: nothing applied. */
TEST(dual_deltas_are_checked)
{
    stats_t *w = stats_new(2, methods, names, 0, true);
    stats_t *plain = stats_new(2, methods, names, 0, false);
    for (int i = 0; i < 40; i++) {
        stats_record_late(w, (size_t)(i % 2), 10, 1000 + (uint64_t)i, 300, 1, 200, NULL);
        stats_record(plain, (size_t)(i % 2), 10, 1000 + (uint64_t)i, 1, 200, NULL);
    }
    stats_lag(w, 77);
    stats_arrival(w, 10);
    frame_buf_t d, p;
    frame_buf_init(&d);
    frame_buf_init(&p);
    stats_delta_take(w, &d);
    stats_delta_take(plain, &p);
    stats_t *eng_plain = stats_new(2, methods, names, 0, false);
    stats_t *eng_dual = stats_new(2, methods, names, 0, true);
    CHECK_INT(stats_delta_apply(eng_plain, d.data, d.len, 10), -1);
    CHECK_INT(stats_delta_apply(eng_dual, p.data, p.len, 10), -1);
    for (size_t cut = 0; cut < d.len; cut += 5)
        CHECK_INT(stats_delta_apply(eng_dual, d.data, cut, 10), -1);

    /* A raw histogram that does not count the requests its corrected one
     * counts, though each is whole: written by hand, as no stats can. */
    for (int same = 0; same < 2; same++) {
        frame_buf_t h;
        frame_buf_init(&h);
        frame_put_u32(&h, 2);           /* endpoints */
        frame_put_u32(&h, 1);           /* dual */
        for (int e = 0; e < 2; e++) {
            frame_put_u64(&h, e == 0);  /* requests, failures, bytes */
            frame_put_u64(&h, 0);
            frame_put_u64(&h, 0);
            for (int k = 0; k < 2; k++) {   /* corrected, then raw */
                bool one = e == 0 && (k == 0 || same);
                frame_put_u64(&h, one);         /* count */
                if (!one)
                    continue;
                frame_put_u64(&h, 5);           /* sum, min, max */
                frame_put_u64(&h, 5);
                frame_put_u64(&h, 5);
                frame_put_u32(&h, 1);           /* one bucket: 5 us, once */
                frame_put_u16(&h, (uint16_t)hist_bucket_of(5));
                frame_put_u64(&h, 1);
            }
            frame_put_u32(&h, 0);           /* no status codes */
        }
        for (int k = 0; k < 5; k++)     /* lag, arrivals, dropped, errors, dropped errors */
            k == 3 ? frame_put_u32(&h, 0) : frame_put_u64(&h, 0);
        stats_t *scratch = stats_new(2, methods, names, 0, true);
        CHECK_INT(stats_delta_apply(scratch, h.data, h.len, 10), same ? 0 : -1);
        stats_free(scratch);
        frame_buf_free(&h);
    }
    snap_t s;
    snap_init(&s);
    stats_fill(eng_dual, 1000, &s);
    CHECK_INT(s.total.requests, 0);
    CHECK_INT(s.lag_count, 0);
    CHECK_INT(s.arrivals, 0);
    /* Untouched, it applies. */
    CHECK_INT(stats_delta_apply(eng_dual, d.data, d.len, 10), 0);
    stats_fill(eng_dual, 1000, &s);
    CHECK_INT(s.total.requests, 40);
    CHECK_INT(s.total.raw_max_us, 1039);
    CHECK_INT(s.total.max_us, 1339);
    CHECK_INT(s.lag_count, 1);
    CHECK_INT(s.lag_max_us, 77);
    CHECK_INT(s.arrivals, 1);
    snap_free(&s);
    frame_buf_free(&d);
    frame_buf_free(&p);
    stats_free(w);
    stats_free(plain);
    stats_free(eng_plain);
    stats_free(eng_dual);
}

int main(void)
{
    check_prog = "stats";
    RUN(clean_deltas_equal_one_place);
    RUN(malformed_deltas_are_refused);
    RUN(counts_and_aggregated);
    RUN(current_rate_is_last_ten_seconds_and_falls_to_zero);
    RUN(early_window);
    RUN(errors_grouped_per_endpoint_and_sorted);
    RUN(error_table_is_bounded);
    RUN(reset_forgets_counts_but_keeps_history);
    RUN(per_second_samples);
    RUN(history_stays_bounded_over_a_long_run);
    RUN(per_second_percentiles_past_32_bits);
    RUN(bad_delta_changes_nothing);
    RUN(dual_records_corrected_and_raw);
    RUN(not_dual_keeps_one_latency);
    RUN(schedule_lag);
    RUN(arrivals_and_dropped);
    RUN(history_merges_the_new_fields);
    RUN(dual_deltas_equal_one_place);
    RUN(dual_deltas_are_checked);
    return check_done();
}

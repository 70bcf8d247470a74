/* Unit tests for what every statistics row carries besides its counts: the
 * HTTP status codes, the exact latency sum and the fixed bounds (le), the
 * coarse distributions (whole run and last 10 s), the row's own timelines;
 * and that a worker's deltas carry all of it exactly. */
#include "check.h"
#include "stats/hist.h"
#include "stats/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static const char *methods[] = {"GET", "POST"};
static const char *names[] = {"/a", "/b"};

static uint64_t code_count(const snap_entry_t *e, unsigned code)
{
    for (unsigned i = 0; i < e->n_codes; i++)
        if (e->codes[i].code == code)
            return e->codes[i].count;
    return 0;
}

TEST(status_codes_per_row)
{
    stats_t *st = stats_new(2, methods, names, 0, false);
    for (int i = 0; i < 5; i++)
        stats_record(st, 0, 100, 1000, 0, 200, NULL);
    stats_record(st, 0, 100, 1000, 0, 503, "HTTP 503");
    stats_record(st, 0, 100, 1000, 0, 503, "HTTP 503");
    stats_record(st, 0, 100, 1000, 0, 0, "connection refused");  /* no response */
    stats_record(st, 0, 100, 1000, 0, 999, "HTTP 999");          /* outside 100..599 */
    stats_record(st, 0, 100, 1000, 0, 99, "HTTP 99");
    stats_record(st, 1, 100, 1000, 0, 404, "HTTP 404");
    stats_record(st, 1, 100, 1000, 0, 200, NULL);
    snap_t s;
    snap_init(&s);
    stats_fill(st, 1000, &s);
    const snap_entry_t *a = &s.entries[0], *b = &s.entries[1];
    CHECK_STR(a->name, "/a");
    CHECK_INT(a->n_codes, 2);
    CHECK_INT(a->codes[0].code, 200);     /* sorted by code */
    CHECK_INT(a->codes[0].count, 5);
    CHECK_INT(a->codes[1].code, 503);
    CHECK_INT(a->codes[1].count, 2);
    CHECK_INT(a->codes_other, 2);
    CHECK_INT(b->n_codes, 2);
    CHECK_INT(code_count(b, 404), 1);
    CHECK_INT(code_count(b, 200), 1);
    CHECK_INT(b->codes_other, 0);
    CHECK_INT(s.total.n_codes, 3);
    CHECK_INT(s.total.codes[0].code, 200);
    CHECK_INT(s.total.codes[0].count, 6);
    CHECK_INT(s.total.codes[1].code, 404);
    CHECK_INT(s.total.codes[2].code, 503);
    CHECK_INT(s.total.codes_other, 2);

    /* A reset forgets them, as it forgets the counts. */
    stats_reset(st, 1000);
    stats_fill(st, 1500, &s);
    CHECK_INT(s.total.n_codes, 0);
    CHECK_INT(s.total.codes_other, 0);
    CHECK_INT(s.entries[0].n_codes, 0);
    snap_free(&s);
    stats_free(st);
}

/* More distinct codes than SNAP_CODES: the most frequent are kept (ties go
 * to the lower code), sorted by code; the rest add up in codes_other. */
TEST(status_codes_beyond_the_kept_ones)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    /* Codes 200..219, code 200+k seen k+1 times, plus 500 and 501 twice. */
    for (unsigned k = 0; k < 20; k++)
        for (unsigned i = 0; i <= k; i++)
            stats_record(st, 0, 10, 5, 0, 200 + k, NULL);
    stats_record(st, 0, 10, 5, 0, 501, NULL);
    stats_record(st, 0, 10, 5, 0, 501, NULL);
    stats_record(st, 0, 10, 5, 0, 500, NULL);
    stats_record(st, 0, 10, 5, 0, 500, NULL);
    snap_t s;
    snap_init(&s);
    stats_fill(st, 1000, &s);
    const snap_entry_t *e = &s.entries[0];
    CHECK_INT(e->n_codes, SNAP_CODES);
    /* The 16 most frequent: 204..219 (5..20 times each). 200..203 (1..4
     * times) and 500, 501 (2 times each) are the rest. */
    for (unsigned i = 0; i < SNAP_CODES; i++) {
        CHECK_INT(e->codes[i].code, 204 + i);
        CHECK_INT(e->codes[i].count, 5 + i);
    }
    CHECK_INT(e->codes_other, 1 + 2 + 3 + 4 + 2 + 2);
    uint64_t sum = e->codes_other;
    for (unsigned i = 0; i < e->n_codes; i++)
        sum += e->codes[i].count;
    CHECK_INT(sum, e->requests);

    /* A tie at the edge: 16 codes seen twice, two more seen twice too. */
    stats_t *t = stats_new(1, methods, names, 0, false);
    for (unsigned k = 0; k < 18; k++) {
        stats_record(t, 0, 10, 5, 0, 300 + k, NULL);
        stats_record(t, 0, 10, 5, 0, 300 + k, NULL);
    }
    stats_fill(t, 1000, &s);
    CHECK_INT(s.entries[0].codes[0].code, 300);
    CHECK_INT(s.entries[0].codes[SNAP_CODES - 1].code, 315);
    CHECK_INT(s.entries[0].codes_other, 4);
    snap_free(&s);
    stats_free(st);
    stats_free(t);
}

/* sum_us is exact; le counts, per bound, the histogram buckets that lie
 * wholly at or below it. By hand: 999 us is bucket 996..999 (in), 1000 us
 * is bucket 1000..1003 (past 1 ms, in 2.5 ms), 2500 us is bucket
 * 2496..2511 (past 2.5 ms, in 5 ms), 70 s is past every bound. */
TEST(sum_and_fixed_bounds)
{
    stats_t *st = stats_new(2, methods, names, 0, false);
    const uint64_t us[] = {500, 999, 1000, 1003, 1004, 2500, 70000000};
    uint64_t sum = 0;
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++) {
        stats_record(st, 0, 100, us[i], 0, 200, NULL);
        sum += us[i];
    }
    stats_record(st, 1, 100, 40000, 0, 200, NULL);   /* 40 ms: in 50 ms and up */
    snap_t s;
    snap_init(&s);
    stats_fill(st, 1000, &s);
    const snap_entry_t *e = &s.entries[0];
    CHECK_INT(e->sum_us, sum);
    CHECK_INT(s.total.sum_us, sum + 40000);
    const uint64_t want[SNAP_LE_N] = {2, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6};
    const uint64_t want_total[SNAP_LE_N] = {2, 5, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
    for (int i = 0; i < SNAP_LE_N; i++) {
        CHECK_INT(e->le[i], want[i]);
        CHECK_INT(s.total.le[i], want_total[i]);
    }
    CHECK_INT(snap_le_us[0], 1000);
    CHECK_INT(snap_le_us[SNAP_LE_N - 1], 60000000);
    CHECK_INT(s.entries[1].le[4], 0);    /* 25 ms */
    CHECK_INT(s.entries[1].le[5], 1);    /* 50 ms */

    /* Dual stats: the corrected latency (raw + late) is the one summed. */
    stats_t *d = stats_new(1, methods, names, 0, true);
    stats_record_late(d, 0, 100, 700, 300, 0, 200, NULL);
    stats_fill(d, 1000, &s);
    CHECK_INT(s.entries[0].sum_us, 1000);
    CHECK_INT(s.entries[0].le[0], 0);    /* 1000 us: its bucket reaches 1003 */
    CHECK_INT(s.entries[0].le[1], 1);
    snap_free(&s);
    stats_free(st);
    stats_free(d);
}

TEST(distribution_bucket_edges)
{
    CHECK_INT(snap_dist_bucket(0), 0);
    CHECK_INT(snap_dist_bucket(1), 1);
    CHECK_INT(snap_dist_bucket(2), 5);
    CHECK_INT(snap_dist_bucket(3), 7);      /* 3 / 2 = 1.5 >= 2^(2/4) */
    CHECK_INT(snap_dist_bucket(4), 9);
    CHECK_INT(snap_dist_bucket(5), 10);     /* 1.25 >= 2^(1/4) = 1.189 */
    CHECK_INT(snap_dist_bucket(6), 11);
    CHECK_INT(snap_dist_bucket(7), 12);     /* 1.75 >= 2^(3/4) = 1.682 */
    CHECK_INT(snap_dist_bucket(8), 13);
    CHECK_INT(snap_dist_bucket(1000), 40);  /* 2^9 * 1.953 */
    CHECK_INT(snap_dist_bucket(1ull << 37), 149);
    CHECK_INT(snap_dist_bucket((1ull << 38) - 1), SNAP_DIST_BUCKETS - 1);
    CHECK_INT(snap_dist_bucket(1ull << 38), SNAP_DIST_BUCKETS - 1);
    CHECK_INT(snap_dist_bucket(UINT64_MAX), SNAP_DIST_BUCKETS - 1);
    CHECK(snap_dist_lower_us(0) == 0);
    CHECK(snap_dist_lower_us(1) == 1);
    CHECK(snap_dist_lower_us(5) == 2);
    CHECK(snap_dist_lower_us(13) == 8);
    /* Every value lies within its bucket's edges. */
    const uint64_t v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 1000, 123456, 1ull << 36};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        unsigned b = snap_dist_bucket(v[i]);
        CHECK(snap_dist_lower_us(b) <= (double)v[i]);
        CHECK((double)v[i] < snap_dist_lower_us(b + 1));
    }
}

/* dist_run from the exact histogram, each histogram bucket whole into the
 * distribution bucket of its lowest value: 609 us is in the histogram's
 * 608..611, which starts below 2^9.25 = 608.9, so it is drawn in bucket 37
 * although 609 itself is in 38 (the documented 0.8%). */
TEST(distribution_of_the_run)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    const uint64_t us[] = {1, 3, 1000, 1000, 609, 0};
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++)
        stats_record(st, 0, 500, us[i], 0, 200, NULL);
    snap_t s;
    snap_init(&s);
    stats_fill(st, 900, &s);
    const snap_entry_t *e = &s.entries[0];
    CHECK_INT(e->dist_run[0], 1);
    CHECK_INT(e->dist_run[1], 1);
    CHECK_INT(e->dist_run[7], 1);
    CHECK_INT(e->dist_run[40], 2);
    CHECK_INT(snap_dist_bucket(609), 38);
    CHECK_INT(e->dist_run[37], 1);
    CHECK_INT(e->dist_run[38], 0);
    uint64_t n = 0;
    for (unsigned b = 0; b < SNAP_DIST_BUCKETS; b++)
        n += e->dist_run[b];
    CHECK_INT(n, 6);
    CHECK(memcmp(s.total.dist_run, e->dist_run, sizeof e->dist_run) == 0);
    /* Within the second in progress: not yet in the last 10 s. */
    for (unsigned b = 0; b < SNAP_DIST_BUCKETS; b++)
        CHECK_INT(e->dist_recent[b], 0);
    /* Past it, the last 10 s holds the same; as the recent one maps the
     * same way, it agrees bucket for bucket. */
    stats_fill(st, 1000, &s);
    CHECK(memcmp(s.entries[0].dist_recent, s.entries[0].dist_run, sizeof e->dist_run) == 0);
    snap_free(&s);
    stats_free(st);
}

static uint64_t dist_sum(const uint64_t *d)
{
    uint64_t n = 0;
    for (unsigned b = 0; b < SNAP_DIST_BUCKETS; b++)
        n += d[b];
    return n;
}

/* dist_recent covers the same seconds as cur_rps: it falls to zero 10 quiet
 * seconds after the last request, and a reset empties it. */
TEST(recent_distribution_falls_to_zero)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    for (uint64_t sec = 0; sec < 5; sec++)
        for (int i = 0; i < 10; i++)
            stats_record(st, 0, sec * 1000 + (uint64_t)i * 10, 2000 + sec, 0, 200, NULL);
    snap_t s;
    snap_init(&s);
    stats_fill(st, 5000, &s);
    CHECK_INT(dist_sum(s.entries[0].dist_recent), 50);
    CHECK_INT(dist_sum(s.total.dist_recent), 50);
    CHECK(fabs(s.entries[0].cur_rps - 10.0) < 1e-9);
    stats_fill(st, 14999, &s);          /* seconds 4..13: second 4's 10 */
    CHECK_INT(dist_sum(s.entries[0].dist_recent), 10);
    stats_fill(st, 15000, &s);          /* seconds 5..14: none */
    CHECK_INT(dist_sum(s.entries[0].dist_recent), 0);
    CHECK_INT(dist_sum(s.total.dist_recent), 0);
    CHECK(s.entries[0].cur_rps == 0);
    CHECK_INT(dist_sum(s.entries[0].dist_run), 50);   /* the run keeps them */

    /* A reset, then a quiet second: nothing recent, nothing in the run. */
    for (int i = 0; i < 10; i++)
        stats_record(st, 0, 20000, 2000, 0, 200, NULL);
    stats_reset(st, 20500);
    stats_fill(st, 22000, &s);
    CHECK_INT(dist_sum(s.entries[0].dist_recent), 0);
    CHECK_INT(dist_sum(s.entries[0].dist_run), 0);
    snap_free(&s);
    stats_free(st);
}

/* Each row's timeline: one point per second with its requests, failures and
 * percentiles of the requests that finished in it. */
TEST(row_timelines_per_second)
{
    stats_t *st = stats_new(2, methods, names, 0, false);
    stats_record(st, 0, 100, 1000, 0, 200, NULL);
    stats_record(st, 0, 200, 2000, 0, 200, NULL);
    stats_record(st, 0, 300, 3000, 0, 503, "HTTP 503");
    stats_record(st, 1, 400, 100, 0, 200, NULL);
    stats_tick(st, 1000, 1);
    stats_tick(st, 2000, 1);            /* an idle second */
    stats_record(st, 1, 2100, 50, 0, 200, NULL);
    stats_tick(st, 3000, 1);
    snap_t s;
    snap_init(&s);
    stats_fill(st, 3000, &s);
    const snap_entry_t *a = &s.entries[0], *b = &s.entries[1], *t = &s.total;
    CHECK_INT(a->n_recent, 3);
    CHECK_INT(b->n_recent, 3);
    CHECK_INT(t->n_recent, 3);
    const snap_point_t *ar = snap_row_recent(&s, a), *br = snap_row_recent(&s, b);
    const snap_point_t *tr = snap_row_recent(&s, t);
    CHECK_INT(ar[0].t, 1);
    CHECK_INT(ar[0].span, 1);
    CHECK(ar[0].rps == 3.0f);
    CHECK(ar[0].fps == 1.0f);
    CHECK(ar[0].p50_us >= 1990 && ar[0].p50_us <= 2010);
    CHECK_INT(ar[0].p95_us, 3000);      /* clamped to the exact max */
    CHECK_INT(ar[0].p99_us, 3000);
    CHECK_INT(ar[1].t, 2);
    CHECK(ar[1].rps == 0.0f);
    CHECK_INT(ar[1].p50_us, 0);
    CHECK(ar[2].rps == 0.0f);
    CHECK(br[0].rps == 1.0f);
    CHECK_INT(br[0].p50_us, 100);
    CHECK(br[2].rps == 1.0f);
    CHECK_INT(br[2].p99_us, 50);
    CHECK(tr[0].rps == 4.0f);
    CHECK(tr[0].fps == 1.0f);
    CHECK_INT(tr[0].p99_us, 3000);
    CHECK_INT(tr[2].t, 3);
    CHECK(tr[2].rps == 1.0f);
    /* The run's timeline agrees with the Aggregated row's. */
    CHECK(s.recent[0].rps == tr[0].rps);
    CHECK_INT(s.recent[0].p95_us, tr[0].p95_us);
    /* The whole-run series: the same three seconds, not compacted yet. */
    CHECK_INT(a->n_history, 3);
    const snap_point_t *ah = snap_row_history(&s, a);
    CHECK_INT(ah[0].t, 1);
    CHECK(ah[0].rps == 3.0f);
    CHECK_INT(ah[2].t, 3);
    /* Every row's points lie inside the snapshot's array. */
    CHECK(t->history_at + t->n_history <= s.n_points);
    snap_free(&s);
    stats_free(st);
}

/* Past SNAP_ROW_RECENT seconds the ring keeps the last ones; past
 * SNAP_ROW_HISTORY samples the whole-run series is compacted by pairs
 * (rates averaged, percentiles the worse); both go on across a reset and
 * are emptied by a restart. */
TEST(row_timelines_bounded_and_kept_across_reset)
{
    stats_t *st = stats_new(1, methods, names, 0, false);
    const uint32_t n = 2 * SNAP_ROW_HISTORY + 3;
    for (uint32_t sec = 0; sec < n; sec++) {
        /* 2 requests in even seconds, 4 in odd ones; second 1 is slow (the
         * later of its pair: merging must keep its p99). */
        int k = sec % 2 ? 4 : 2;
        for (int i = 0; i < k; i++)
            stats_record(st, 0, sec * 1000 + 10, sec == 1 ? 900000 : 1000, 0, 200, NULL);
        stats_tick(st, (sec + 1) * 1000, 1);
    }
    snap_t s;
    snap_init(&s);
    stats_fill(st, n * 1000, &s);
    const snap_entry_t *e = &s.entries[0];
    CHECK_INT(e->n_recent, SNAP_ROW_RECENT);
    const snap_point_t *r = snap_row_recent(&s, e);
    CHECK_INT(r[0].t, n - SNAP_ROW_RECENT + 1);
    CHECK_INT(r[SNAP_ROW_RECENT - 1].t, n);
    CHECK(e->n_history <= SNAP_ROW_HISTORY);
    CHECK(e->n_history > SNAP_ROW_HISTORY / 2);
    const snap_point_t *h = snap_row_history(&s, e);
    uint64_t covered = 0;
    for (uint32_t i = 0; i < e->n_history; i++)
        covered += h[i].span;
    CHECK_INT(covered, n);
    CHECK_INT(h[e->n_history - 1].t, n);
    CHECK(h[0].span >= 2);
    CHECK(h[0].rps == 3.0f);            /* 2 and 4 averaged */
    CHECK(h[0].p99_us >= 891000);       /* the slow second's, kept */
    CHECK(h[1].p99_us <= 1010);
    uint32_t n_hist = e->n_history, first_t = r[0].t;

    stats_reset(st, n * 1000);
    stats_fill(st, n * 1000 + 500, &s);
    e = &s.entries[0];
    CHECK_INT(e->requests, 0);
    CHECK_INT(e->n_recent, SNAP_ROW_RECENT);
    CHECK_INT(snap_row_recent(&s, e)[0].t, first_t);
    CHECK_INT(e->n_history, n_hist);
    CHECK_INT(s.total.n_history, n_hist);

    stats_restart(st, 0);
    stats_fill(st, 0, &s);
    CHECK_INT(s.entries[0].n_recent, 0);
    CHECK_INT(s.entries[0].n_history, 0);
    CHECK_INT(s.total.n_recent, 0);
    CHECK_INT(s.n_points, 0);
    snap_free(&s);
    stats_free(st);
}

/* Everything a row carries besides the counts, compared between stats fed
 * directly and stats fed through workers' deltas. */
static void rows_same(const snap_t *x, const snap_t *y)
{
    CHECK_INT(x->n_entries, y->n_entries);
    CHECK_INT(x->n_points, y->n_points);
    for (size_t i = 0; i < snap_row_count(x) && i < snap_row_count(y); i++) {
        const snap_entry_t *a = snap_row(x, i), *b = snap_row(y, i);
        CHECK_INT(a->requests, b->requests);
        CHECK_INT(a->sum_us, b->sum_us);
        CHECK(memcmp(a->le, b->le, sizeof a->le) == 0);
        CHECK_INT(a->n_codes, b->n_codes);
        CHECK(memcmp(a->codes, b->codes, sizeof a->codes) == 0);
        CHECK_INT(a->codes_other, b->codes_other);
        CHECK(memcmp(a->dist_run, b->dist_run, sizeof a->dist_run) == 0);
        CHECK(memcmp(a->dist_recent, b->dist_recent, sizeof a->dist_recent) == 0);
        CHECK_INT(a->recent_at, b->recent_at);
        CHECK_INT(a->n_recent, b->n_recent);
        CHECK_INT(a->history_at, b->history_at);
        CHECK_INT(a->n_history, b->n_history);
    }
    if (x->n_points == y->n_points)
        CHECK(memcmp(x->points, y->points, x->n_points * sizeof *x->points) == 0);
}

TEST(worker_deltas_carry_the_rows_exactly)
{
    for (int dual = 0; dual < 2; dual++) {
        stats_t *one = stats_new(2, methods, names, 1000.0, dual);
        stats_t *eng = stats_new(2, methods, names, 1000.0, dual);
        stats_t *w1 = stats_new(2, methods, names, 1000.0, dual);
        stats_t *w2 = stats_new(2, methods, names, 1000.0, dual);
        stats_set_worker(w1);   /* as worker processes' are */
        stats_set_worker(w2);
        static const unsigned codes[] = {200, 200, 200, 201, 304, 404, 503, 0, 999, 302};
        srand(14);
        uint64_t sum = 0;
        for (uint64_t sec = 0; sec < 14; sec++) {
            /* Quiet seconds 6..8, so the recent window moves past some. */
            int n = sec >= 6 && sec <= 8 ? 0 : 400;
            for (int i = 0; i < n; i++) {
                uint64_t at = sec * 1000 + (uint64_t)(i * 2);
                uint64_t us = (uint64_t)(rand() % 3000000), late = (uint64_t)(rand() % 500);
                size_t e = (size_t)(rand() % 2);
                /* 30 distinct codes now and then: more than SNAP_CODES. */
                unsigned code = rand() % 7 ? codes[rand() % 10] : 100 + (unsigned)(rand() % 30) * 15;
                const char *err = code >= 400 || code == 0 ? "bad" : NULL;
                stats_record_late(i % 3 ? w1 : w2, e, at, us, late, 1, code, err);
                stats_record_late(one, e, at, us, late, 1, code, err);
                sum += us + (dual ? late : 0);
            }
            /* Workers report within the second (the engine's clock). */
            frame_buf_t b;
            frame_buf_init(&b);
            stats_delta_take(w1, &b);
            CHECK_INT(stats_delta_apply(eng, b.data, b.len, sec * 1000 + 900), 0);
            b.len = 0;
            stats_delta_take(w2, &b);
            CHECK_INT(stats_delta_apply(eng, b.data, b.len, sec * 1000 + 950), 0);
            frame_buf_free(&b);
            stats_tick(one, (sec + 1) * 1000, 2);
            stats_tick(eng, (sec + 1) * 1000, 2);
        }
        snap_t x, y;
        snap_init(&x);
        snap_init(&y);
        stats_fill(one, 14000, &x);
        stats_fill(eng, 14000, &y);
        rows_same(&x, &y);
        CHECK_INT(x.total.sum_us, sum);
        CHECK_INT(x.total.n_codes, SNAP_CODES);
        CHECK(x.total.codes_other > 0);
        CHECK(dist_sum(x.total.dist_recent) > 0);
        CHECK(dist_sum(x.total.dist_recent) < x.total.requests);
        CHECK_INT(dist_sum(x.total.dist_run), x.total.requests);
        /* And after a reset, the same again. */
        stats_reset(one, 14000);
        stats_reset(eng, 14000);
        stats_record(one, 1, 14100, 777, 0, 418, "HTTP 418");
        stats_record(w1, 1, 14100, 777, 0, 418, "HTTP 418");
        frame_buf_t b;
        frame_buf_init(&b);
        stats_delta_take(w1, &b);
        CHECK_INT(stats_delta_apply(eng, b.data, b.len, 14100), 0);
        frame_buf_free(&b);
        stats_fill(one, 16000, &x);
        stats_fill(eng, 16000, &y);
        rows_same(&x, &y);
        CHECK_INT(x.total.n_codes, 1);
        CHECK_INT(x.total.codes[0].code, 418);
        snap_free(&x);
        snap_free(&y);
        stats_free(one);
        stats_free(eng);
        stats_free(w1);
        stats_free(w2);
    }
}

/* A worker's stats (stats_set_worker) record only what its deltas carry:
 * the deltas are the same bytes as those of stats that record everything,
 * and the parts only the engine reads (the Aggregated row, the rates, the
 * last seconds' distributions, the second in progress) stay empty. */
TEST(worker_mode_records_only_what_deltas_carry)
{
    for (int dual = 0; dual < 2; dual++) {
        stats_t *full = stats_new(2, methods, names, 1000.0, dual);
        stats_t *w = stats_new(2, methods, names, 1000.0, dual);
        stats_set_worker(w);
        static const unsigned codes[] = {200, 201, 404, 503, 0, 999};
        srand(5);
        for (int round = 0; round < 2; round++) {
            for (int i = 0; i < 3000; i++) {
                uint64_t at = (uint64_t)round * 3000 + (uint64_t)i;
                uint64_t us = (uint64_t)(rand() % 2000000), late = (uint64_t)(rand() % 900);
                size_t e = (size_t)(rand() % 2);
                unsigned code = codes[rand() % 6];
                const char *err = code >= 400 || code == 0 ? (rand() % 2 ? "x" : "y") : NULL;
                stats_t *both[2] = {full, w};
                for (int k = 0; k < 2; k++) {
                    stats_record_late(both[k], e, at, us, late, (uint64_t)i, code, err);
                    if (i % 7 == 0)
                        stats_lag(both[k], us / 3);
                    if (i % 5 == 0)
                        stats_arrival(both[k], at);
                    if (i % 11 == 0)
                        stats_dropped(both[k], at);
                }
            }
            snap_t s;
            snap_init(&s);
            stats_fill(w, (uint64_t)round * 3000 + 3000, &s);
            CHECK(s.entries[0].requests > 0);
            CHECK_INT(s.total.requests, 0);
            CHECK(s.entries[0].cur_rps == 0);
            CHECK_INT(dist_sum(s.entries[0].dist_recent), 0);
            CHECK(s.cur_arrival_rate == 0);
            stats_tick(w, (uint64_t)round * 3000 + 3000, 1);
            stats_fill(w, (uint64_t)round * 3000 + 3000, &s);
            unsigned ticks = (unsigned)round + 1;
            CHECK(s.entries[0].n_recent == ticks &&
                  snap_row_recent(&s, &s.entries[0])[ticks - 1].rps == 0);
            CHECK(s.n_recent == ticks && s.recent[ticks - 1].rps == 0 &&
                  s.recent[ticks - 1].arrivals == 0 && s.recent[ticks - 1].lag_p99_us == 0);
            /* ... and the stats that record everything did fill them. */
            stats_fill(full, (uint64_t)round * 3000 + 3000, &s);
            CHECK(s.total.requests > 0 && s.entries[0].cur_rps > 0);
            snap_free(&s);

            frame_buf_t a, b;
            frame_buf_init(&a);
            frame_buf_init(&b);
            stats_delta_take(full, &a);
            stats_delta_take(w, &b);
            CHECK(a.len > 100);
            CHECK_INT(a.len, b.len);
            CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
            frame_buf_free(&a);
            frame_buf_free(&b);
        }
        stats_free(full);
        stats_free(w);
    }
}

/* A delta whose status codes are not possible is refused whole: a slot out
 * of range, or more responses than the row's requests. */
TEST(bad_codes_in_a_delta_are_refused)
{
    for (int k = 0; k < 3; k++) {
        frame_buf_t h;
        frame_buf_init(&h);
        frame_put_u32(&h, 1);               /* endpoints */
        frame_put_u32(&h, 0);               /* not dual */
        frame_put_u64(&h, 2);               /* requests, failures, bytes */
        frame_put_u64(&h, 0);
        frame_put_u64(&h, 0);
        frame_put_u64(&h, 2);               /* histogram: 2 x 5 us */
        frame_put_u64(&h, 10);
        frame_put_u64(&h, 5);
        frame_put_u64(&h, 5);
        frame_put_u32(&h, 1);
        frame_put_u16(&h, (uint16_t)hist_bucket_of(5));
        frame_put_u64(&h, 2);
        frame_put_u32(&h, 1);               /* one code slot */
        frame_put_u16(&h, k == 1 ? 501 : 100);   /* 200, or out of range */
        frame_put_u64(&h, k == 2 ? 3 : 2);  /* 3: more than the requests */
        for (int i = 0; i < 5; i++)         /* lag, arrivals, dropped, errors, dropped errors */
            i == 3 ? frame_put_u32(&h, 0) : frame_put_u64(&h, 0);
        stats_t *st = stats_new(1, methods, names, 0, false);
        CHECK_INT(stats_delta_apply(st, h.data, h.len, 10), k == 0 ? 0 : -1);
        snap_t s;
        snap_init(&s);
        stats_fill(st, 1000, &s);
        CHECK_INT(s.total.requests, k == 0 ? 2 : 0);
        CHECK_INT(s.total.n_codes, k == 0 ? 1 : 0);
        CHECK_INT(code_count(&s.entries[0], 200), k == 0 ? 2 : 0);
        snap_free(&s);
        stats_free(st);
        frame_buf_free(&h);
    }
}

int main(void)
{
    check_prog = "stats_rows";
    RUN(status_codes_per_row);
    RUN(status_codes_beyond_the_kept_ones);
    RUN(sum_and_fixed_bounds);
    RUN(distribution_bucket_edges);
    RUN(distribution_of_the_run);
    RUN(recent_distribution_falls_to_zero);
    RUN(row_timelines_per_second);
    RUN(row_timelines_bounded_and_kept_across_reset);
    RUN(worker_deltas_carry_the_rows_exactly);
    RUN(worker_mode_records_only_what_deltas_carry);
    RUN(bad_codes_in_a_delta_are_refused);
    return check_done();
}

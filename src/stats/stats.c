/* stats: see include/stats/stats.h. */
#include "stats/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats/hist.h"
#include "stats/history.h"
#include "util/text.h"
#include "util/xalloc.h"

/* A ring of per-second counts, one slot more than the window so the second in
 * progress never overwrites one still inside the window. Two counts a
 * second: requests and failures of an endpoint, or arrivals and dropped
 * arrivals of the open model. */
#define RING (STATS_WINDOW_S + 1)

typedef struct {
    uint64_t sec[RING];
    uint32_t a[RING];
    uint32_t b[RING];
} ring_t;

/* The coarse latency distribution (snap_dist_bucket) per second, over the
 * same window as ring_t: what dist_recent sums. 612 bytes a second. */
typedef struct {
    uint64_t sec[RING];
    uint32_t n[RING][SNAP_DIST_BUCKETS];
} dist_ring_t;

/* Status codes 100..599 are counted each in its slot (code - CODE_FIRST),
 * any other in the last: one increment, whatever the code. */
#define CODE_FIRST 100
#define CODE_SLOTS 500
#define CODE_OTHER CODE_SLOTS

typedef struct {
    const char *method;
    const char *name;
    uint64_t requests, failures, bytes;
    hist_t hist;               /* corrected latency in dual stats, else the one latency */
    hist_t *raw;               /* dual stats only: the raw latency (from the send) */
    ring_t ring;               /* requests, failures */
    uint64_t codes[CODE_SLOTS + 1];   /* responses per status code, CODE_OTHER the rest */
    dist_ring_t dist;          /* the last seconds' distribution */
    /* The second in progress (the Aggregated row's is the run's): what the
     * row's timeline gets at the next tick. */
    hist_t *second;            /* corrected latency */
    uint64_t second_req, second_fail;
    history_row_t timeline;    /* the row's per-second points; they go on across a reset */
} entry_t;

typedef struct {
    size_t entry;              /* SIZE_MAX: slot unused */
    char text[SNAP_ERROR_TEXT];
    uint64_t hash;
    uint64_t count;
    double first_seen, last_seen;
} error_row_t;

#define ERROR_SLOTS (STATS_MAX_ERRORS * 2)   /* open addressing, half full at most */

struct stats {
    size_t n;
    bool dual;                 /* corrected and raw latencies (stats_new) */
    bool worker;               /* only feeds deltas (stats_set_worker) */
    entry_t *entries;          /* n of them */
    size_t *order;             /* indices sorted by name, method */
    entry_t total;             /* total.second: the second in progress, aggregated */
    hist_t *second_raw;        /* dual stats only: its raw latencies */
    hist_t second_lag;         /* the schedule lag of the second in progress */
    uint64_t second_arrivals, second_dropped;
    hist_t lag;                /* schedule lag over the statistics' span */
    uint64_t arrivals, dropped;    /* the open model, over the statistics' span */
    ring_t arrival_ring;       /* arrivals, dropped */
    history_t history;
    error_row_t *errors;       /* ERROR_SLOTS */
    size_t n_errors;
    uint64_t errors_dropped;   /* failures whose text did not fit the table */
    snap_event_t *events;
    size_t n_events, cap_events;
    uint64_t reset_ms;         /* start of the statistics' span */
    double start_unix;
    /* Which distribution bucket each histogram bucket goes into (that of its
     * lowest value), and for each of snap_le_us the first histogram bucket
     * that reaches past it: made once, read by recording and filling. */
    uint8_t dist_of[HIST_BUCKETS];
    unsigned le_end[SNAP_LE_N];
};

_Static_assert(SNAP_DIST_BUCKETS <= 256, "dist_of holds a bucket in a byte");

static void ring_reset(ring_t *r)
{
    memset(r->sec, 0xff, sizeof r->sec);
    memset(r->a, 0, sizeof r->a);
    memset(r->b, 0, sizeof r->b);
}

/* The raw histogram of dual stats: allocated once here, so recording never
 * allocates. */
static hist_t *raw_new(bool dual)
{
    if (!dual)
        return NULL;
    hist_t *h = xmalloc(sizeof *h);
    hist_reset(h);
    return h;
}

static void dist_ring_reset(dist_ring_t *r)
{
    /* The counts of a slot are cleared when a second first writes to it. */
    memset(r->sec, 0xff, sizeof r->sec);
}

/* Forgets the counts of the statistics' span (not the second in progress
 * nor the timeline: they go on across a reset). */
static void entry_reset(entry_t *e)
{
    e->requests = e->failures = e->bytes = 0;
    hist_reset(&e->hist);
    if (e->raw)
        hist_reset(e->raw);
    ring_reset(&e->ring);
    memset(e->codes, 0, sizeof e->codes);
    dist_ring_reset(&e->dist);
}

static void entry_second_reset(entry_t *e)
{
    /* 32 KB to clear: only when something was recorded. */
    if (e->second->count)
        hist_reset(e->second);
    e->second_req = e->second_fail = 0;
}

static void entry_init(entry_t *e, const char *method, const char *name, bool dual)
{
    e->method = method;
    e->name = name;
    e->raw = raw_new(dual);
    e->second = xmalloc(sizeof *e->second);
    hist_reset(e->second);
    history_row_init(&e->timeline);
    entry_reset(e);
}

static void entry_done(entry_t *e)
{
    free(e->raw);
    free(e->second);
    history_row_free(&e->timeline);
}

static int by_name_method(const void *a, const void *b, void *arg)
{
    const entry_t *base = arg;
    const entry_t *x = &base[*(const size_t *)a], *y = &base[*(const size_t *)b];
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->method, y->method);
}

stats_t *stats_new(size_t n, const char *const *methods, const char *const *names,
                   double start_unix, bool dual)
{
    stats_t *st = xcalloc(1, sizeof *st);
    st->n = n;
    st->dual = dual;
    st->entries = xcalloc(n ? n : 1, sizeof *st->entries);
    st->order = xcalloc(n ? n : 1, sizeof *st->order);
    for (size_t i = 0; i < n; i++) {
        entry_init(&st->entries[i], methods[i], names[i], dual);
        st->order[i] = i;
    }
    /* Rows are shown sorted, as Locust does; the order is fixed, so sort once. */
    qsort_r(st->order, n, sizeof *st->order, by_name_method, st->entries);
    entry_init(&st->total, "", "Aggregated", dual);
    st->second_raw = raw_new(dual);
    for (unsigned b = 0; b < HIST_BUCKETS; b++) {
        uint64_t lo, hi;
        hist_bucket_range(b, &lo, &hi);
        st->dist_of[b] = (uint8_t)snap_dist_bucket(lo);
    }
    for (int i = 0; i < SNAP_LE_N; i++) {
        uint64_t lo, hi;
        unsigned b = hist_bucket_of(snap_le_us[i]);
        hist_bucket_range(b, &lo, &hi);
        st->le_end[i] = hi <= snap_le_us[i] ? b + 1 : b;
    }
    hist_reset(&st->second_lag);
    hist_reset(&st->lag);
    ring_reset(&st->arrival_ring);
    history_init(&st->history);
    st->errors = xcalloc(ERROR_SLOTS, sizeof *st->errors);
    for (size_t i = 0; i < ERROR_SLOTS; i++)
        st->errors[i].entry = SIZE_MAX;
    st->start_unix = start_unix;
    return st;
}

void stats_free(stats_t *st)
{
    if (!st)
        return;
    history_free(&st->history);
    for (size_t i = 0; i < st->n; i++)
        entry_done(&st->entries[i]);
    entry_done(&st->total);
    free(st->second_raw);
    free(st->entries);
    free(st->order);
    free(st->errors);
    free(st->events);
    free(st);
}

static void ring_add_n(ring_t *r, uint64_t sec, uint64_t a, uint64_t b)
{
    size_t slot = sec % RING;
    if (r->sec[slot] != sec) {
        r->sec[slot] = sec;
        r->a[slot] = 0;
        r->b[slot] = 0;
    }
    r->a[slot] += (uint32_t)a;
    r->b[slot] += (uint32_t)b;
}

/* The seconds [from, sec) that the "current" figures cover: the last
 * STATS_WINDOW_S whole seconds before now's, within the statistics' span
 * (which starts at reset_ms). */
static void window(uint64_t now_ms, uint64_t reset_ms, uint64_t *from, uint64_t *sec)
{
    uint64_t first = reset_ms / 1000;
    *sec = now_ms / 1000;
    *from = *sec >= STATS_WINDOW_S ? *sec - STATS_WINDOW_S : 0;
    if (*from < first)
        *from = first;
}

/* The two counts of a ring per second over the window: the "current"
 * rates. */
static void ring_rates(const ring_t *r, uint64_t now_ms, uint64_t reset_ms, double *a, double *b)
{
    uint64_t sec, from;
    window(now_ms, reset_ms, &from, &sec);
    uint64_t na = 0, nb = 0;
    for (int i = 0; i < RING; i++) {
        if (r->sec[i] >= from && r->sec[i] < sec) {
            na += r->a[i];
            nb += r->b[i];
        }
    }
    double span = (double)(sec - from);
    *a = span > 0 ? (double)na / span : 0;
    *b = span > 0 ? (double)nb / span : 0;
}

static void dist_add(dist_ring_t *r, uint64_t sec, unsigned b, uint64_t n)
{
    size_t slot = sec % RING;
    if (r->sec[slot] != sec) {
        r->sec[slot] = sec;
        memset(r->n[slot], 0, sizeof r->n[slot]);
    }
    r->n[slot][b] += (uint32_t)n;
}

/* The distribution over the same seconds as ring_rates. */
static void dist_window(const dist_ring_t *r, uint64_t now_ms, uint64_t reset_ms, uint64_t *out)
{
    uint64_t sec, from;
    window(now_ms, reset_ms, &from, &sec);
    memset(out, 0, SNAP_DIST_BUCKETS * sizeof *out);
    for (int i = 0; i < RING; i++)
        if (r->sec[i] >= from && r->sec[i] < sec)
            for (unsigned b = 0; b < SNAP_DIST_BUCKETS; b++)
                out[b] += r->n[i][b];
}

/* The slot of a status code (CODE_OTHER outside 100..599); none for 0. */
#define NO_CODE (CODE_SLOTS + 1)
static unsigned code_slot(unsigned status)
{
    if (status == 0)
        return NO_CODE;
    return status - CODE_FIRST < CODE_SLOTS ? status - CODE_FIRST : CODE_OTHER;
}

/* What a row's span counts, all a worker's delta carries of it: raw_us goes
 * into the raw histogram of dual stats (ignored otherwise), code is its
 * slot (NO_CODE: no response). */
static void entry_count(entry_t *e, uint64_t us, uint64_t raw_us, uint64_t bytes, int failed,
                        unsigned code)
{
    e->requests++;
    e->failures += (uint64_t)failed;
    e->bytes += bytes;
    hist_record(&e->hist, us);
    if (e->raw)
        hist_record(e->raw, raw_us);
    if (code != NO_CODE)
        e->codes[code]++;
}

/* entry_count, and what the views read of the last seconds: the rates'
 * ring, the distribution's (dist: us's bucket) and the second in progress. */
static void entry_add(entry_t *e, uint64_t sec, uint64_t us, uint64_t raw_us, uint64_t bytes,
                      int failed, unsigned dist, unsigned code)
{
    entry_count(e, us, raw_us, bytes, failed, code);
    ring_add_n(&e->ring, sec, 1, (uint64_t)failed);
    dist_add(&e->dist, sec, dist, 1);
    hist_record(e->second, us);
    e->second_req++;
    e->second_fail += (uint64_t)failed;
}

/* FNV-1a over the entry index and the text. */
static uint64_t error_hash(size_t entry, const char *text)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)entry;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h;
}

static void error_add_n(stats_t *st, size_t entry, const char *raw, uint64_t n, double first,
                        double last)
{
    /* Error texts may quote the server (a Location, a reason): they are
     * cleaned once, here, so every view and report agrees. */
    char text[SNAP_ERROR_TEXT];
    text_sanitize(raw, text, sizeof text);
    uint64_t h = error_hash(entry, text);
    for (size_t i = h % ERROR_SLOTS;; i = (i + 1) % ERROR_SLOTS) {
        error_row_t *r = &st->errors[i];
        if (r->entry == SIZE_MAX) {
            if (st->n_errors >= STATS_MAX_ERRORS) {
                st->errors_dropped += n;
                return;
            }
            r->entry = entry;
            r->hash = h;
            memcpy(r->text, text, sizeof r->text);
            r->count = 0;
            r->first_seen = first;
            r->last_seen = last;
            st->n_errors++;
        } else if (r->hash != h || r->entry != entry ||
                   strncmp(r->text, text, sizeof r->text - 1) != 0) {
            continue;
        }
        r->count += n;
        if (first < r->first_seen)
            r->first_seen = first;
        if (last > r->last_seen)
            r->last_seen = last;
        return;
    }
}

static void error_add(stats_t *st, size_t entry, const char *text, uint64_t now_ms)
{
    double now = st->start_unix + (double)now_ms / 1000.0;
    error_add_n(st, entry, text, 1, now, now);
}

void stats_record_late(stats_t *st, size_t e, uint64_t now_ms, uint64_t latency_us,
                       uint64_t late_us, uint64_t bytes, unsigned status, const char *error)
{
    uint64_t sec = now_ms / 1000;
    int failed = error != NULL;
    /* Dual: the main histograms hold the latency from the intended start,
     * the raw ones the latency from the send. A sum past 2^64 us cannot come
     * from a clock; saturate rather than wrap. */
    uint64_t corrected = latency_us;
    if (st->dual)
        corrected = late_us > UINT64_MAX - latency_us ? UINT64_MAX : latency_us + late_us;
    if (st->worker) {
        /* The engine makes the Aggregated row, the rates, the distributions
         * and the seconds from the deltas: recording them here too would
         * cost three more histogram records per request (five in dual
         * stats), two rate rings and two distribution slots. */
        entry_count(&st->entries[e], corrected, latency_us, bytes, failed, code_slot(status));
        if (failed)
            error_add(st, e, error, now_ms);
        return;
    }
    /* The distribution goes by histogram bucket, as a worker's delta and
     * dist_run must (stats_new). */
    unsigned dist = st->dist_of[hist_bucket_of(corrected)], code = code_slot(status);
    entry_add(&st->entries[e], sec, corrected, latency_us, bytes, failed, dist, code);
    entry_add(&st->total, sec, corrected, latency_us, bytes, failed, dist, code);
    if (st->second_raw)
        hist_record(st->second_raw, latency_us);
    if (failed)
        error_add(st, e, error, now_ms);
}

void stats_record(stats_t *st, size_t e, uint64_t now_ms, uint64_t latency_us,
                  uint64_t bytes, unsigned status, const char *error)
{
    stats_record_late(st, e, now_ms, latency_us, 0, bytes, status, error);
}

void stats_set_worker(stats_t *st)
{
    st->worker = true;
}

void stats_lag(stats_t *st, uint64_t lag_us)
{
    hist_record(&st->lag, lag_us);
    if (!st->worker)
        hist_record(&st->second_lag, lag_us);
}

void stats_arrival(stats_t *st, uint64_t now_ms)
{
    st->arrivals++;
    if (st->worker)
        return;
    st->second_arrivals++;
    ring_add_n(&st->arrival_ring, now_ms / 1000, 1, 0);
}

void stats_dropped(stats_t *st, uint64_t now_ms)
{
    st->dropped++;
    if (st->worker)
        return;
    st->second_dropped++;
    ring_add_n(&st->arrival_ring, now_ms / 1000, 0, 1);
}

/* Empties what the second in progress has gathered. */
static void second_reset(stats_t *st)
{
    for (size_t i = 0; i < st->n; i++)
        entry_second_reset(&st->entries[i]);
    entry_second_reset(&st->total);
    if (st->second_raw)
        hist_reset(st->second_raw);
    hist_reset(&st->second_lag);
    st->second_arrivals = st->second_dropped = 0;
}

/* Closes a row's second: one point of its timeline. */
static void entry_tick(entry_t *e, uint32_t t)
{
    snap_point_t p = {
        .t = t,
        .span = 1,
        .rps = (float)e->second_req,
        .fps = (float)e->second_fail,
        .p50_us = hist_percentile(e->second, 0.50),
        .p95_us = hist_percentile(e->second, 0.95),
        .p99_us = hist_percentile(e->second, 0.99),
    };
    history_row_add(&e->timeline, &p);
}

void stats_tick(stats_t *st, uint64_t now_ms, uint32_t users)
{
    snap_sample_t s = {
        .t = (uint32_t)(now_ms / 1000),
        .span = 1,
        .users = users,
        .p50_us = hist_percentile(st->total.second, 0.50),
        .p95_us = hist_percentile(st->total.second, 0.95),
        .lag_p99_us = hist_percentile(&st->second_lag, 0.99),
        .rps = (float)st->total.second_req,
        .fps = (float)st->total.second_fail,
        .arrivals = (float)st->second_arrivals,
        .dropped = (float)st->second_dropped,
    };
    s.p95_raw_us = st->second_raw ? hist_percentile(st->second_raw, 0.95) : s.p95_us;
    history_add(&st->history, &s);
    for (size_t i = 0; i < st->n; i++)
        entry_tick(&st->entries[i], s.t);
    entry_tick(&st->total, s.t);
    second_reset(st);
}

void stats_reset(stats_t *st, uint64_t now_ms)
{
    for (size_t i = 0; i < st->n; i++)
        entry_reset(&st->entries[i]);
    entry_reset(&st->total);
    hist_reset(&st->lag);
    st->arrivals = st->dropped = 0;
    ring_reset(&st->arrival_ring);
    for (size_t i = 0; i < ERROR_SLOTS; i++)
        st->errors[i].entry = SIZE_MAX;
    st->n_errors = 0;
    st->errors_dropped = 0;
    st->reset_ms = now_ms;
}

void stats_restart(stats_t *st, double start_unix)
{
    stats_reset(st, 0);
    second_reset(st);
    history_free(&st->history);
    history_init(&st->history);
    for (size_t i = 0; i < st->n; i++) {
        history_row_free(&st->entries[i].timeline);
        history_row_init(&st->entries[i].timeline);
    }
    history_row_free(&st->total.timeline);
    history_row_init(&st->total.timeline);
    st->n_events = 0;
    st->start_unix = start_unix;
}

void stats_event(stats_t *st, uint64_t now_ms, event_kind_t kind, double value)
{
    /* Operator actions come from a person at a keyboard: a bound of 100,000
     * keeps a stuck key from growing memory without limit. */
    if (st->n_events >= 100000)
        return;
    st->events = snap_reserve(st->events, &st->cap_events, st->n_events + 1, sizeof *st->events);
    st->events[st->n_events++] = (snap_event_t){.t_ms = now_ms, .kind = kind, .value = value};
}

/* le and dist_run from the exact histogram: one walk up to its max. A
 * histogram bucket counts towards a bound when all of it is at or below
 * the bound (to 0.8%), and goes whole into the distribution bucket of its
 * lowest value (stats_new). */
static void spread_fill(const stats_t *st, const hist_t *h, snap_entry_t *out)
{
    memset(out->le, 0, sizeof out->le);
    memset(out->dist_run, 0, sizeof out->dist_run);
    if (!h->count)
        return;
    unsigned top = hist_bucket_of(h->max_us), li = 0;
    uint64_t below = 0;
    for (unsigned b = 0; b <= top; b++) {
        while (li < SNAP_LE_N && st->le_end[li] == b)
            out->le[li++] = below;
        uint64_t c = h->buckets[b];
        if (!c)
            continue;
        below += c;
        out->dist_run[st->dist_of[b]] += c;
    }
    while (li < SNAP_LE_N)
        out->le[li++] = below;
}

static int code_by_count(const void *a, const void *b)
{
    const snap_code_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return (int)x->code - (int)y->code;
}

static int code_by_code(const void *a, const void *b)
{
    const snap_code_t *x = a, *y = b;
    return (int)x->code - (int)y->code;
}

/* The SNAP_CODES most frequent codes (ties: the lower code), by code; the
 * rest, and codes outside 100..599, in codes_other. */
static void codes_fill(const uint64_t *codes, snap_entry_t *out)
{
    snap_code_t all[CODE_SLOTS];
    size_t n = 0;
    for (unsigned i = 0; i < CODE_SLOTS; i++)
        if (codes[i])
            all[n++] = (snap_code_t){.code = (uint16_t)(i + CODE_FIRST), .count = codes[i]};
    out->codes_other = codes[CODE_OTHER];
    if (n > SNAP_CODES) {
        qsort(all, n, sizeof *all, code_by_count);
        for (size_t i = SNAP_CODES; i < n; i++)
            out->codes_other += all[i].count;
        n = SNAP_CODES;
        qsort(all, n, sizeof *all, code_by_code);
    }
    memset(out->codes, 0, sizeof out->codes);
    memcpy(out->codes, all, n * sizeof *all);
    out->n_codes = (unsigned)n;
}

static void entry_fill(const stats_t *st, const entry_t *e, uint64_t now_ms, snap_t *snap,
                       snap_entry_t *out)
{
    out->method = e->method;
    out->name = e->name;
    out->requests = e->requests;
    out->failures = e->failures;
    out->content_bytes = e->bytes;
    out->min_us = e->requests ? e->hist.min_us : 0;
    out->max_us = e->hist.max_us;
    out->avg_us = hist_mean(&e->hist);
    for (int i = 0; i < SNAP_NPCT; i++)
        out->pct_us[i] = hist_percentile(&e->hist, snap_pct_fraction[i]);
    if (e->raw) {
        out->raw_min_us = e->requests ? e->raw->min_us : 0;
        out->raw_max_us = e->raw->max_us;
        out->raw_avg_us = hist_mean(e->raw);
        for (int i = 0; i < SNAP_NPCT; i++)
            out->raw_pct_us[i] = hist_percentile(e->raw, snap_pct_fraction[i]);
    } else {
        /* One latency: raw and main are the same (snapshot.h). */
        out->raw_min_us = out->min_us;
        out->raw_max_us = out->max_us;
        out->raw_avg_us = out->avg_us;
        memcpy(out->raw_pct_us, out->pct_us, sizeof out->raw_pct_us);
    }

    ring_rates(&e->ring, now_ms, st->reset_ms, &out->cur_rps, &out->cur_fps);

    double total_s = (double)(now_ms - st->reset_ms) / 1000.0;
    out->total_rps = total_s > 0 ? (double)e->requests / total_s : 0;
    out->total_fps = total_s > 0 ? (double)e->failures / total_s : 0;

    out->sum_us = e->hist.sum_us;
    spread_fill(st, &e->hist, out);
    codes_fill(e->codes, out);
    dist_window(&e->dist, now_ms, st->reset_ms, out->dist_recent);
    history_row_fill(&e->timeline, snap, out);
}

static int by_count_desc(const void *a, const void *b)
{
    const snap_error_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->error, y->error);
}

void stats_fill(const stats_t *st, uint64_t now_ms, snap_t *out)
{
    out->entries = snap_reserve(out->entries, &out->cap_entries, st->n, sizeof *out->entries);
    out->n_points = 0;
    for (size_t i = 0; i < st->n; i++)
        entry_fill(st, &st->entries[st->order[i]], now_ms, out, &out->entries[i]);
    out->n_entries = st->n;
    entry_fill(st, &st->total, now_ms, out, &out->total);
    out->stats_ms = now_ms - st->reset_ms;

    out->dual = st->dual;
    out->lag_count = st->lag.count;
    out->lag_max_us = st->lag.max_us;
    for (int i = 0; i < SNAP_NPCT; i++)
        out->lag_pct_us[i] = hist_percentile(&st->lag, snap_pct_fraction[i]);
    out->arrivals = st->arrivals;
    out->dropped = st->dropped;
    ring_rates(&st->arrival_ring, now_ms, st->reset_ms, &out->cur_arrival_rate,
               &out->cur_drop_rate);

    size_t n = st->n_errors + (st->errors_dropped ? 1 : 0);
    out->errors = snap_reserve(out->errors, &out->cap_errors, n, sizeof *out->errors);
    size_t k = 0;
    for (size_t i = 0; i < ERROR_SLOTS; i++) {
        const error_row_t *r = &st->errors[i];
        if (r->entry == SIZE_MAX)
            continue;
        snap_error_t *o = &out->errors[k++];
        o->method = st->entries[r->entry].method;
        o->name = st->entries[r->entry].name;
        memcpy(o->error, r->text, sizeof o->error);
        o->count = r->count;
        o->first_seen = r->first_seen;
        o->last_seen = r->last_seen;
    }
    if (st->errors_dropped) {
        snap_error_t *o = &out->errors[k++];
        o->method = "";
        o->name = "(any)";
        snprintf(o->error, sizeof o->error, "other errors (more than %d distinct)",
                 STATS_MAX_ERRORS);
        o->count = st->errors_dropped;
        o->first_seen = o->last_seen = 0;
    }
    out->n_errors = k;
    if (k > 1)
        qsort(out->errors, k, sizeof *out->errors, by_count_desc);

    history_fill(&st->history, out);
    out->events = snap_reserve(out->events, &out->cap_events, st->n_events, sizeof *out->events);
    if (st->n_events)
        memcpy(out->events, st->events, st->n_events * sizeof *st->events);
    out->n_events = st->n_events;
}

/* ---- deltas between processes ------------------------------------------ */

static void hist_write(frame_buf_t *b, const hist_t *h)
{
    frame_put_u64(b, h->count);
    if (!h->count)
        return;
    frame_put_u64(b, h->sum_us);
    frame_put_u64(b, h->min_us);
    frame_put_u64(b, h->max_us);
    uint32_t n = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        n += h->buckets[i] != 0;
    frame_put_u32(b, n);
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        if (h->buckets[i]) {
            frame_put_u16(b, (uint16_t)i);
            frame_put_u64(b, h->buckets[i]);
        }
}

/* Where a histogram read from a delta goes: into each histogram of h (a
 * NULL one adds nowhere), and, bucket by bucket, into the distribution of
 * second sec of each ring (by st's dist_of). All NULL: the validating pass. */
typedef struct {
    hist_t *h[4];
    dist_ring_t *ring[2];
    const stats_t *st;
    uint64_t sec;
} hist_dst_t;

/* Reads a histogram written by hist_write and adds it into dst. Returns its
 * count. Sets r->bad when it is not one: a bucket out of range, or buckets
 * that do not add up to its count or lie outside its [min, max]. */
static uint64_t hist_read_add(frame_rd_t *r, const hist_dst_t *dst)
{
    uint64_t count = frame_get_u64(r);
    if (!count)
        return 0;
    uint64_t sum = frame_get_u64(r), min = frame_get_u64(r), max = frame_get_u64(r);
    uint32_t n = frame_get_u32(r);
    uint64_t total = 0;
    if (min > max)
        r->bad = true;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint16_t idx = frame_get_u16(r);
        uint64_t c = frame_get_u64(r);
        if (idx >= HIST_BUCKETS || c > count - total ||
            idx < hist_bucket_of(min) || idx > hist_bucket_of(max)) {
            r->bad = true;
            return 0;
        }
        for (size_t k = 0; k < 4; k++)
            if (dst->h[k])
                dst->h[k]->buckets[idx] += c;
        for (size_t k = 0; k < 2; k++)
            if (dst->ring[k])
                dist_add(dst->ring[k], dst->sec, dst->st->dist_of[idx], c);
        total += c;
    }
    if (r->bad || total != count) {
        r->bad = true;
        return 0;
    }
    for (size_t k = 0; k < 4; k++) {
        hist_t *h = dst->h[k];
        if (!h)
            continue;
        h->count += count;
        h->sum_us += sum;
        if (min < h->min_us)
            h->min_us = min;
        if (max > h->max_us)
            h->max_us = max;
    }
    return count;
}

/* Status codes, sparse: how many slots, then each slot and its count. */
static void codes_write(frame_buf_t *b, const uint64_t *codes)
{
    uint32_t n = 0;
    for (unsigned i = 0; i <= CODE_OTHER; i++)
        n += codes[i] != 0;
    frame_put_u32(b, n);
    for (unsigned i = 0; i <= CODE_OTHER; i++)
        if (codes[i]) {
            frame_put_u16(b, (uint16_t)i);
            frame_put_u64(b, codes[i]);
        }
}

/* Reads codes_write's and adds them into the non-NULL of dst. Bad: a slot
 * out of range, or more responses than the row's requests. */
static void codes_read_add(frame_rd_t *r, uint64_t requests, uint64_t *const dst[2])
{
    uint32_t n = frame_get_u32(r);
    uint64_t total = 0;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint16_t slot = frame_get_u16(r);
        uint64_t c = frame_get_u64(r);
        if (r->bad || slot > CODE_OTHER || c > requests - total) {
            r->bad = true;
            return;
        }
        total += c;
        for (int k = 0; k < 2; k++)
            if (dst[k])
                dst[k][slot] += c;
    }
}

/* The delta, in order: the endpoint count and whether the stats are dual;
 * per endpoint its counts, its histogram, (dual) its raw histogram and its
 * status codes; the schedule lag; the arrivals and dropped arrivals; the
 * errors; the failures whose error text did not fit. A worker never ticks,
 * so all it recorded since its last delta is its second in progress: the
 * engine adds each endpoint's histogram into the endpoint's and the
 * aggregated second, and into the last seconds' distributions, and the lag
 * into its second's, without any of it being sent twice. */
void stats_delta_take(stats_t *st, frame_buf_t *b)
{
    frame_put_u32(b, (uint32_t)st->n);
    frame_put_u32(b, st->dual ? 1u : 0u);
    for (size_t i = 0; i < st->n; i++) {
        entry_t *e = &st->entries[i];
        frame_put_u64(b, e->requests);
        frame_put_u64(b, e->failures);
        frame_put_u64(b, e->bytes);
        hist_write(b, &e->hist);
        if (e->raw)
            hist_write(b, e->raw);
        codes_write(b, e->codes);
        entry_reset(e);
    }
    hist_write(b, &st->lag);
    frame_put_u64(b, st->arrivals);
    frame_put_u64(b, st->dropped);
    second_reset(st);
    entry_reset(&st->total);
    hist_reset(&st->lag);
    st->arrivals = st->dropped = 0;
    ring_reset(&st->arrival_ring);

    frame_put_u32(b, (uint32_t)st->n_errors);
    for (size_t i = 0; i < ERROR_SLOTS; i++) {
        error_row_t *r = &st->errors[i];
        if (r->entry == SIZE_MAX)
            continue;
        size_t len = strnlen(r->text, sizeof r->text);
        frame_put_u32(b, (uint32_t)r->entry);
        frame_put_u64(b, r->count);
        frame_put_f64(b, r->first_seen);
        frame_put_f64(b, r->last_seen);
        frame_put_u16(b, (uint16_t)len);
        frame_put_bytes(b, r->text, len);
        r->entry = SIZE_MAX;
    }
    frame_put_u64(b, st->errors_dropped);
    st->n_errors = 0;
    st->errors_dropped = 0;
}

/* One walk over a delta, in the order stats_delta_take wrote it. With
 * st == NULL it only reads and checks (n and dual are the shape to expect);
 * with st it adds everything in. Returns 0 if the bytes are a whole, valid
 * delta and nothing is left over, else -1. */
static int delta_walk(stats_t *st, size_t n, bool dual, const uint8_t *p, size_t len,
                      uint64_t now_ms)
{
    frame_rd_t r;
    frame_rd_init(&r, p, len);
    uint64_t sec = now_ms / 1000;
    if (frame_get_u32(&r) != n || frame_get_u32(&r) != (dual ? 1u : 0u) || r.bad)
        return -1;
    for (size_t i = 0; i < n && !r.bad; i++) {
        uint64_t req = frame_get_u64(&r), fail = frame_get_u64(&r), bytes = frame_get_u64(&r);
        if (fail > req)
            r.bad = true;
        /* The same histogram goes into the row and into Aggregated, their
         * seconds in progress and their last seconds' distributions; a raw
         * one also into the second in progress, and it must count the same
         * requests as the corrected one. */
        entry_t *e = st ? &st->entries[i] : NULL;
        hist_dst_t main_dst = {{NULL}, {NULL}, st, sec}, raw_dst = {{NULL}, {NULL}, st, sec};
        if (st) {
            main_dst = (hist_dst_t){{&e->hist, &st->total.hist, e->second, st->total.second},
                                    {&e->dist, &st->total.dist}, st, sec};
            raw_dst = (hist_dst_t){{e->raw, st->total.raw, st->second_raw, NULL}, {NULL}, st, sec};
        }
        uint64_t count = hist_read_add(&r, &main_dst);
        if (count != req)
            r.bad = true;
        if (dual && !r.bad && hist_read_add(&r, &raw_dst) != count)
            r.bad = true;
        uint64_t *const codes_dst[2] = {e ? e->codes : NULL, st ? st->total.codes : NULL};
        if (!r.bad)
            codes_read_add(&r, req, codes_dst);
        if (r.bad || !st)
            continue;
        e->requests += req;
        e->failures += fail;
        e->bytes += bytes;
        st->total.requests += req;
        st->total.failures += fail;
        st->total.bytes += bytes;
        if (req) {
            ring_add_n(&e->ring, sec, req, fail);
            ring_add_n(&st->total.ring, sec, req, fail);
        }
        e->second_req += req;
        e->second_fail += fail;
        st->total.second_req += req;
        st->total.second_fail += fail;
    }
    hist_dst_t lag_dst = {{st ? &st->lag : NULL, st ? &st->second_lag : NULL, NULL, NULL},
                          {NULL}, st, sec};
    hist_read_add(&r, &lag_dst);
    uint64_t arrivals = frame_get_u64(&r), dropped = frame_get_u64(&r);
    if (st && !r.bad) {
        st->arrivals += arrivals;
        st->dropped += dropped;
        st->second_arrivals += arrivals;
        st->second_dropped += dropped;
        if (arrivals || dropped)
            ring_add_n(&st->arrival_ring, sec, arrivals, dropped);
    }
    uint32_t n_err = frame_get_u32(&r);
    for (uint32_t i = 0; i < n_err && !r.bad; i++) {
        uint32_t entry = frame_get_u32(&r);
        uint64_t count = frame_get_u64(&r);
        double first = frame_get_f64(&r), last = frame_get_f64(&r);
        uint16_t tlen = frame_get_u16(&r);
        const uint8_t *text;
        if (!frame_get_bytes(&r, &text, tlen) || entry >= n || tlen >= SNAP_ERROR_TEXT ||
            memchr(text, '\0', tlen) != NULL) {
            r.bad = true;
            break;
        }
        if (!st)
            continue;
        char buf[SNAP_ERROR_TEXT];
        memcpy(buf, text, tlen);
        buf[tlen] = '\0';
        error_add_n(st, entry, buf, count, first, last);
    }
    uint64_t errors_dropped = frame_get_u64(&r);
    if (r.bad || r.p != r.end)
        return -1;
    if (st)
        st->errors_dropped += errors_dropped;
    return 0;
}

int stats_delta_apply(stats_t *st, const uint8_t *p, size_t len, uint64_t now_ms)
{
    /* Checked whole first, then applied: a delta found bad near its end must
     * not leave its first half in the statistics (the worker is dropped, and
     * the counts must stay what the engine can vouch for). */
    if (delta_walk(NULL, st->n, st->dual, p, len, now_ms) != 0)
        return -1;
    return delta_walk(st, st->n, st->dual, p, len, now_ms);
}

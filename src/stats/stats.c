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

typedef struct {
    const char *method;
    const char *name;
    uint64_t requests, failures, bytes;
    hist_t hist;               /* corrected latency in dual stats, else the one latency */
    hist_t *raw;               /* dual stats only: the raw latency (from the send) */
    ring_t ring;               /* requests, failures */
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
    entry_t *entries;          /* n of them */
    size_t *order;             /* indices sorted by name, method */
    entry_t total;
    hist_t second;             /* aggregated, for the second in progress */
    hist_t *second_raw;        /* dual stats only: its raw latencies */
    hist_t second_lag;         /* the schedule lag of the second in progress */
    uint64_t second_req, second_fail;
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
};

static void ring_reset(ring_t *r)
{
    memset(r->sec, 0xff, sizeof r->sec);
    memset(r->a, 0, sizeof r->a);
    memset(r->b, 0, sizeof r->b);
}

static void entry_reset(entry_t *e)
{
    e->requests = e->failures = e->bytes = 0;
    hist_reset(&e->hist);
    if (e->raw)
        hist_reset(e->raw);
    ring_reset(&e->ring);
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
        st->entries[i].method = methods[i];
        st->entries[i].name = names[i];
        st->entries[i].raw = raw_new(dual);
        entry_reset(&st->entries[i]);
        st->order[i] = i;
    }
    /* Rows are shown sorted, as Locust does; the order is fixed, so sort once. */
    qsort_r(st->order, n, sizeof *st->order, by_name_method, st->entries);
    st->total.method = "";
    st->total.name = "Aggregated";
    st->total.raw = raw_new(dual);
    entry_reset(&st->total);
    hist_reset(&st->second);
    st->second_raw = raw_new(dual);
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
        free(st->entries[i].raw);
    free(st->total.raw);
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

/* The two counts of a ring per second over the last STATS_WINDOW_S whole
 * seconds before now's, within the statistics' span (which starts at
 * reset_ms): the "current" rates. */
static void ring_rates(const ring_t *r, uint64_t now_ms, uint64_t reset_ms, double *a, double *b)
{
    uint64_t sec = now_ms / 1000, first = reset_ms / 1000;
    uint64_t from = sec >= STATS_WINDOW_S ? sec - STATS_WINDOW_S : 0;
    if (from < first)
        from = first;
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

/* raw_us goes into the raw histogram of dual stats (ignored otherwise). */
static void entry_add(entry_t *e, uint64_t sec, uint64_t us, uint64_t raw_us, uint64_t bytes,
                      int failed)
{
    e->requests++;
    e->failures += (uint64_t)failed;
    e->bytes += bytes;
    hist_record(&e->hist, us);
    if (e->raw)
        hist_record(e->raw, raw_us);
    ring_add_n(&e->ring, sec, 1, (uint64_t)failed);
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
                       uint64_t late_us, uint64_t bytes, const char *error)
{
    uint64_t sec = now_ms / 1000;
    int failed = error != NULL;
    /* Dual: the main histograms hold the latency from the intended start,
     * the raw ones the latency from the send. A sum past 2^64 us cannot come
     * from a clock; saturate rather than wrap. */
    uint64_t corrected = latency_us;
    if (st->dual)
        corrected = late_us > UINT64_MAX - latency_us ? UINT64_MAX : latency_us + late_us;
    entry_add(&st->entries[e], sec, corrected, latency_us, bytes, failed);
    entry_add(&st->total, sec, corrected, latency_us, bytes, failed);
    hist_record(&st->second, corrected);
    if (st->second_raw)
        hist_record(st->second_raw, latency_us);
    st->second_req++;
    st->second_fail += (uint64_t)failed;
    if (failed)
        error_add(st, e, error, now_ms);
}

void stats_record(stats_t *st, size_t e, uint64_t now_ms, uint64_t latency_us,
                  uint64_t bytes, const char *error)
{
    stats_record_late(st, e, now_ms, latency_us, 0, bytes, error);
}

void stats_lag(stats_t *st, uint64_t lag_us)
{
    hist_record(&st->lag, lag_us);
    hist_record(&st->second_lag, lag_us);
}

void stats_arrival(stats_t *st, uint64_t now_ms)
{
    st->arrivals++;
    st->second_arrivals++;
    ring_add_n(&st->arrival_ring, now_ms / 1000, 1, 0);
}

void stats_dropped(stats_t *st, uint64_t now_ms)
{
    st->dropped++;
    st->second_dropped++;
    ring_add_n(&st->arrival_ring, now_ms / 1000, 0, 1);
}

/* Empties what the second in progress has gathered. */
static void second_reset(stats_t *st)
{
    hist_reset(&st->second);
    if (st->second_raw)
        hist_reset(st->second_raw);
    hist_reset(&st->second_lag);
    st->second_req = st->second_fail = 0;
    st->second_arrivals = st->second_dropped = 0;
}

void stats_tick(stats_t *st, uint64_t now_ms, uint32_t users)
{
    snap_sample_t s = {
        .t = (uint32_t)(now_ms / 1000),
        .span = 1,
        .users = users,
        .p50_us = hist_percentile(&st->second, 0.50),
        .p95_us = hist_percentile(&st->second, 0.95),
        .lag_p99_us = hist_percentile(&st->second_lag, 0.99),
        .rps = (float)st->second_req,
        .fps = (float)st->second_fail,
        .arrivals = (float)st->second_arrivals,
        .dropped = (float)st->second_dropped,
    };
    s.p95_raw_us = st->second_raw ? hist_percentile(st->second_raw, 0.95) : s.p95_us;
    history_add(&st->history, &s);
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

static void entry_fill(const stats_t *st, const entry_t *e, uint64_t now_ms, snap_entry_t *out)
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
    for (size_t i = 0; i < st->n; i++)
        entry_fill(st, &st->entries[st->order[i]], now_ms, &out->entries[i]);
    out->n_entries = st->n;
    entry_fill(st, &st->total, now_ms, &out->total);
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

/* Reads a histogram written by hist_write and adds it into each of the
 * n_dst histograms of dst (a NULL one, or n_dst 0, adds it nowhere: the
 * validating pass). Returns its count. Sets r->bad when it is not one: a
 * bucket out of range, or buckets that do not add up to its count or lie
 * outside its [min, max]. */
static uint64_t hist_read_add(frame_rd_t *r, hist_t *const *dst, size_t n_dst)
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
        for (size_t k = 0; k < n_dst; k++)
            if (dst[k])
                dst[k]->buckets[idx] += c;
        total += c;
    }
    if (r->bad || total != count) {
        r->bad = true;
        return 0;
    }
    for (size_t k = 0; k < n_dst; k++) {
        hist_t *h = dst[k];
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

/* The delta, in order: the endpoint count and whether the stats are dual;
 * per endpoint its counts, its histogram and (dual) its raw histogram; the
 * second in progress; the schedule lag; the arrivals and dropped arrivals;
 * the errors; the failures whose error text did not fit. A worker never
 * ticks, so all it recorded since its last delta is its second in progress:
 * the raw histograms and the lag go into the engine's second from the
 * endpoints' and the run's, without being sent twice. */
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
        entry_reset(e);
    }
    hist_write(b, &st->second);
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
        /* The same histogram goes into the row and into Aggregated; a raw
         * one also into the second in progress, and it must count the same
         * requests as the corrected one. */
        entry_t *e = st ? &st->entries[i] : NULL;
        hist_t *main_dst[2] = {e ? &e->hist : NULL, st ? &st->total.hist : NULL};
        uint64_t count = hist_read_add(&r, main_dst, 2);
        if (dual && !r.bad) {
            hist_t *raw_dst[3] = {e ? e->raw : NULL, st ? st->total.raw : NULL,
                                  st ? st->second_raw : NULL};
            if (hist_read_add(&r, raw_dst, 3) != count)
                r.bad = true;
        }
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
        st->second_req += req;
        st->second_fail += fail;
    }
    hist_t *second_dst[1] = {st ? &st->second : NULL};
    hist_read_add(&r, second_dst, 1);
    hist_t *lag_dst[2] = {st ? &st->lag : NULL, st ? &st->second_lag : NULL};
    hist_read_add(&r, lag_dst, 2);
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

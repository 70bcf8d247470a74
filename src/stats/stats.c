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
 * progress never overwrites one still inside the window. */
#define RING (STATS_WINDOW_S + 1)

typedef struct {
    const char *method;
    const char *name;
    uint64_t requests, failures, bytes;
    hist_t hist;
    uint64_t ring_sec[RING];
    uint32_t ring_req[RING];
    uint32_t ring_fail[RING];
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
    entry_t *entries;          /* n of them */
    size_t *order;             /* indices sorted by name, method */
    entry_t total;
    hist_t second;             /* aggregated, for the second in progress */
    uint64_t second_req, second_fail;
    history_t history;
    error_row_t *errors;       /* ERROR_SLOTS */
    size_t n_errors;
    uint64_t errors_dropped;   /* failures whose text did not fit the table */
    snap_event_t *events;
    size_t n_events, cap_events;
    uint64_t reset_ms;         /* start of the statistics' span */
    double start_unix;
};

static void entry_reset(entry_t *e)
{
    e->requests = e->failures = e->bytes = 0;
    hist_reset(&e->hist);
    memset(e->ring_sec, 0xff, sizeof e->ring_sec);
    memset(e->ring_req, 0, sizeof e->ring_req);
    memset(e->ring_fail, 0, sizeof e->ring_fail);
}

static int by_name_method(const void *a, const void *b, void *arg)
{
    const entry_t *base = arg;
    const entry_t *x = &base[*(const size_t *)a], *y = &base[*(const size_t *)b];
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->method, y->method);
}

stats_t *stats_new(size_t n, const char *const *methods, const char *const *names,
                   double start_unix)
{
    stats_t *st = xcalloc(1, sizeof *st);
    st->n = n;
    st->entries = xcalloc(n ? n : 1, sizeof *st->entries);
    st->order = xcalloc(n ? n : 1, sizeof *st->order);
    for (size_t i = 0; i < n; i++) {
        st->entries[i].method = methods[i];
        st->entries[i].name = names[i];
        entry_reset(&st->entries[i]);
        st->order[i] = i;
    }
    /* Rows are shown sorted, as Locust does; the order is fixed, so sort once. */
    qsort_r(st->order, n, sizeof *st->order, by_name_method, st->entries);
    st->total.method = "";
    st->total.name = "Aggregated";
    entry_reset(&st->total);
    hist_reset(&st->second);
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
    free(st->entries);
    free(st->order);
    free(st->errors);
    free(st->events);
    free(st);
}

static void ring_add_n(entry_t *e, uint64_t sec, uint64_t req, uint64_t failed)
{
    size_t slot = sec % RING;
    if (e->ring_sec[slot] != sec) {
        e->ring_sec[slot] = sec;
        e->ring_req[slot] = 0;
        e->ring_fail[slot] = 0;
    }
    e->ring_req[slot] += (uint32_t)req;
    e->ring_fail[slot] += (uint32_t)failed;
}

static void ring_add(entry_t *e, uint64_t sec, int failed)
{
    ring_add_n(e, sec, 1, (uint64_t)failed);
}

static void entry_add(entry_t *e, uint64_t sec, uint64_t us, uint64_t bytes, int failed)
{
    e->requests++;
    e->failures += (uint64_t)failed;
    e->bytes += bytes;
    hist_record(&e->hist, us);
    ring_add(e, sec, failed);
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

void stats_record(stats_t *st, size_t e, uint64_t now_ms, uint64_t latency_us,
                  uint64_t bytes, const char *error)
{
    uint64_t sec = now_ms / 1000;
    int failed = error != NULL;
    entry_add(&st->entries[e], sec, latency_us, bytes, failed);
    entry_add(&st->total, sec, latency_us, bytes, failed);
    hist_record(&st->second, latency_us);
    st->second_req++;
    st->second_fail += (uint64_t)failed;
    if (failed)
        error_add(st, e, error, now_ms);
}

void stats_tick(stats_t *st, uint64_t now_ms, uint32_t users)
{
    snap_sample_t s = {
        .t = (uint32_t)(now_ms / 1000),
        .span = 1,
        .users = users,
        .p50_us = hist_percentile(&st->second, 0.50),
        .p95_us = hist_percentile(&st->second, 0.95),
        .rps = (float)st->second_req,
        .fps = (float)st->second_fail,
    };
    history_add(&st->history, &s);
    hist_reset(&st->second);
    st->second_req = st->second_fail = 0;
}

void stats_reset(stats_t *st, uint64_t now_ms)
{
    for (size_t i = 0; i < st->n; i++)
        entry_reset(&st->entries[i]);
    entry_reset(&st->total);
    for (size_t i = 0; i < ERROR_SLOTS; i++)
        st->errors[i].entry = SIZE_MAX;
    st->n_errors = 0;
    st->errors_dropped = 0;
    st->reset_ms = now_ms;
}

void stats_restart(stats_t *st, double start_unix)
{
    stats_reset(st, 0);
    hist_reset(&st->second);
    st->second_req = st->second_fail = 0;
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

    /* Current rates: the last STATS_WINDOW_S whole seconds before this one,
     * within the statistics' span. */
    uint64_t sec = now_ms / 1000, first = st->reset_ms / 1000;
    uint64_t from = sec >= STATS_WINDOW_S ? sec - STATS_WINDOW_S : 0;
    if (from < first)
        from = first;
    uint64_t req = 0, fail = 0;
    for (int i = 0; i < RING; i++) {
        if (e->ring_sec[i] >= from && e->ring_sec[i] < sec) {
            req += e->ring_req[i];
            fail += e->ring_fail[i];
        }
    }
    double span = (double)(sec - from);
    out->cur_rps = span > 0 ? (double)req / span : 0;
    out->cur_fps = span > 0 ? (double)fail / span : 0;

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

/* Reads a histogram written by hist_write and adds it into a and b (either
 * may be NULL: the validating pass adds it nowhere). Sets r->bad when it is
 * not one: a bucket out of range, or buckets that do not add up to its count
 * or lie outside its [min, max]. */
static void hist_read_add(frame_rd_t *r, hist_t *a, hist_t *b)
{
    uint64_t count = frame_get_u64(r);
    if (!count)
        return;
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
            return;
        }
        if (a)
            a->buckets[idx] += c;
        if (b)
            b->buckets[idx] += c;
        total += c;
    }
    if (r->bad || total != count) {
        r->bad = true;
        return;
    }
    hist_t *hs[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        hist_t *h = hs[k];
        if (!h)
            continue;
        h->count += count;
        h->sum_us += sum;
        if (min < h->min_us)
            h->min_us = min;
        if (max > h->max_us)
            h->max_us = max;
    }
}

void stats_delta_take(stats_t *st, frame_buf_t *b)
{
    frame_put_u32(b, (uint32_t)st->n);
    for (size_t i = 0; i < st->n; i++) {
        entry_t *e = &st->entries[i];
        frame_put_u64(b, e->requests);
        frame_put_u64(b, e->failures);
        frame_put_u64(b, e->bytes);
        hist_write(b, &e->hist);
        entry_reset(e);
    }
    hist_write(b, &st->second);
    hist_reset(&st->second);
    st->second_req = st->second_fail = 0;
    entry_reset(&st->total);

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
 * st == NULL it only reads and checks (n is the endpoint count to expect);
 * with st it adds everything in. Returns 0 if the bytes are a whole, valid
 * delta and nothing is left over, else -1. */
static int delta_walk(stats_t *st, size_t n, const uint8_t *p, size_t len, uint64_t now_ms)
{
    frame_rd_t r;
    frame_rd_init(&r, p, len);
    uint64_t sec = now_ms / 1000;
    if (frame_get_u32(&r) != n)
        return -1;
    for (size_t i = 0; i < n && !r.bad; i++) {
        uint64_t req = frame_get_u64(&r), fail = frame_get_u64(&r), bytes = frame_get_u64(&r);
        if (fail > req)
            r.bad = true;
        /* The same histogram goes into the row and into Aggregated. */
        hist_read_add(&r, st ? &st->entries[i].hist : NULL, st ? &st->total.hist : NULL);
        if (r.bad || !st)
            continue;
        entry_t *e = &st->entries[i];
        e->requests += req;
        e->failures += fail;
        e->bytes += bytes;
        st->total.requests += req;
        st->total.failures += fail;
        st->total.bytes += bytes;
        if (req) {
            ring_add_n(e, sec, req, fail);
            ring_add_n(&st->total, sec, req, fail);
        }
        st->second_req += req;
        st->second_fail += fail;
    }
    hist_read_add(&r, st ? &st->second : NULL, NULL);
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
    uint64_t dropped = frame_get_u64(&r);
    if (r.bad || r.p != r.end)
        return -1;
    if (st)
        st->errors_dropped += dropped;
    return 0;
}

int stats_delta_apply(stats_t *st, const uint8_t *p, size_t len, uint64_t now_ms)
{
    /* Checked whole first, then applied: a delta found bad near its end must
     * not leave its first half in the statistics (the worker is dropped, and
     * the counts must stay what the engine can vouch for). */
    if (delta_walk(NULL, st->n, p, len, now_ms) != 0)
        return -1;
    return delta_walk(st, st->n, p, len, now_ms);
}

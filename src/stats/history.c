/* history: see include/stats/history.h. */
#include "stats/history.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* What a timeline holds: its sample's size, its two bounds, the seconds a
 * sample covers, and how a sample folds in the one that follows it. */
struct history_kind {
    size_t item;
    size_t recent_cap, run_cap;
    uint32_t (*span)(const void *sample);
    void (*merge)(void *into, const void *next);
};

static float span_average(float a, double wa, float b, double wb)
{
    return (float)((a * wa + b * wb) / (wa + wb));
}

static void keep_worse(uint64_t *a, uint64_t b)
{
    if (b > *a)
        *a = b;
}

/* ---- the run's samples ---- */

static uint32_t sample_span(const void *x)
{
    return ((const snap_sample_t *)x)->span;
}

/* Folds b (which follows a in time) into a: counts per second are averaged
 * over the seconds each covers, percentiles keep the worse of the two. */
static void sample_merge(void *into, const void *next)
{
    snap_sample_t *a = into;
    const snap_sample_t *b = next;
    double wa = a->span, wb = b->span, w = wa + wb;
    a->users = (uint32_t)((a->users * wa + b->users * wb) / w + 0.5);
    a->rps = span_average(a->rps, wa, b->rps, wb);
    a->fps = span_average(a->fps, wa, b->fps, wb);
    a->arrivals = span_average(a->arrivals, wa, b->arrivals, wb);
    a->dropped = span_average(a->dropped, wa, b->dropped, wb);
    keep_worse(&a->p50_us, b->p50_us);
    keep_worse(&a->p95_us, b->p95_us);
    keep_worse(&a->p95_raw_us, b->p95_raw_us);
    keep_worse(&a->lag_p99_us, b->lag_p99_us);
    a->t = b->t;
    a->span += b->span;
}

static const struct history_kind run_kind = {
    sizeof(snap_sample_t), HISTORY_RECENT, HISTORY_RUN_MAX, sample_span, sample_merge};

/* ---- a row's points ---- */

static uint32_t point_span(const void *x)
{
    return ((const snap_point_t *)x)->span;
}

static void point_merge(void *into, const void *next)
{
    snap_point_t *a = into;
    const snap_point_t *b = next;
    double wa = a->span, wb = b->span;
    a->rps = span_average(a->rps, wa, b->rps, wb);
    a->fps = span_average(a->fps, wa, b->fps, wb);
    keep_worse(&a->p50_us, b->p50_us);
    keep_worse(&a->p95_us, b->p95_us);
    keep_worse(&a->p99_us, b->p99_us);
    a->t = b->t;
    a->span += b->span;
}

static const struct history_kind row_kind = {
    sizeof(snap_point_t), SNAP_ROW_RECENT, SNAP_ROW_HISTORY, point_span, point_merge};

/* ---- the series, whatever the kind ---- */

static void series_init(history_series_t *s, const struct history_kind *k)
{
    memset(s, 0, sizeof *s);
    s->kind = k;
    s->recent = xcalloc(k->recent_cap, k->item);
    s->run = xcalloc(k->run_cap, k->item);
    s->pending = xcalloc(1, k->item);
    s->run_span = 1;
}

static void series_free(history_series_t *s)
{
    free(s->recent);
    free(s->run);
    free(s->pending);
    s->recent = s->run = s->pending = NULL;
}

static unsigned char *at(unsigned char *base, const struct history_kind *k, size_t i)
{
    return base + i * k->item;
}

/* Halves the whole-run series: each pair of neighbours becomes one sample. */
static void compact_run(history_series_t *s)
{
    const struct history_kind *k = s->kind;
    size_t j = 0;
    for (size_t i = 0; i + 1 < s->n_run; i += 2) {
        memmove(at(s->run, k, j), at(s->run, k, i), k->item);
        k->merge(at(s->run, k, j), at(s->run, k, i + 1));
        j++;
    }
    if (s->n_run % 2)
        memmove(at(s->run, k, j++), at(s->run, k, s->n_run - 1), k->item);
    s->n_run = j;
    s->run_span *= 2;
}

static void series_add(history_series_t *s, const void *x)
{
    const struct history_kind *k = s->kind;
    memcpy(at(s->recent, k, (s->recent_head + s->n_recent) % k->recent_cap), x, k->item);
    if (s->n_recent < k->recent_cap)
        s->n_recent++;
    else
        s->recent_head = (s->recent_head + 1) % k->recent_cap;

    if (s->pending_n == 0)
        memcpy(s->pending, x, k->item);
    else
        k->merge(s->pending, x);
    s->pending_n += k->span(x);
    if (s->pending_n >= s->run_span) {
        if (s->n_run == k->run_cap)
            compact_run(s);
        memcpy(at(s->run, k, s->n_run++), s->pending, k->item);
        s->pending_n = 0;
    }
}

/* Copies the recent ring, oldest first, to dst (n_recent samples). */
static void series_copy_recent(const history_series_t *s, void *dst)
{
    const struct history_kind *k = s->kind;
    size_t first = k->recent_cap - s->recent_head;
    if (first > s->n_recent)
        first = s->n_recent;
    if (first)
        memcpy(dst, at(s->recent, k, s->recent_head), first * k->item);
    if (s->n_recent > first)
        memcpy(at(dst, k, first), s->recent, (s->n_recent - first) * k->item);
}

static size_t series_run_len(const history_series_t *s)
{
    return s->n_run + (s->pending_n ? 1 : 0);
}

/* Copies the whole-run series and its pending sample to dst. */
static void series_copy_run(const history_series_t *s, void *dst)
{
    const struct history_kind *k = s->kind;
    if (s->n_run)
        memcpy(dst, s->run, s->n_run * k->item);
    if (s->pending_n)
        memcpy(at(dst, k, s->n_run), s->pending, k->item);
}

/* ---- the public kinds ---- */

void history_init(history_t *h)
{
    series_init(&h->s, &run_kind);
}

void history_free(history_t *h)
{
    series_free(&h->s);
}

void history_add(history_t *h, const snap_sample_t *s)
{
    series_add(&h->s, s);
}

void history_fill(const history_t *h, snap_t *out)
{
    out->recent = snap_reserve(out->recent, &out->cap_recent, h->s.n_recent, sizeof *out->recent);
    series_copy_recent(&h->s, out->recent);
    out->n_recent = h->s.n_recent;

    size_t n = series_run_len(&h->s);
    out->history = snap_reserve(out->history, &out->cap_history, n, sizeof *out->history);
    series_copy_run(&h->s, out->history);
    out->n_history = n;
}

void history_row_init(history_row_t *h)
{
    series_init(&h->s, &row_kind);
}

void history_row_free(history_row_t *h)
{
    series_free(&h->s);
}

void history_row_add(history_row_t *h, const snap_point_t *p)
{
    series_add(&h->s, p);
}

void history_row_fill(const history_row_t *h, snap_t *out, snap_entry_t *e)
{
    size_t n_run = series_run_len(&h->s);
    size_t base = out->n_points;
    out->points = snap_reserve(out->points, &out->cap_points, base + h->s.n_recent + n_run,
                               sizeof *out->points);
    e->recent_at = (uint32_t)base;
    e->n_recent = (uint32_t)h->s.n_recent;
    series_copy_recent(&h->s, out->points + base);
    e->history_at = (uint32_t)(base + h->s.n_recent);
    e->n_history = (uint32_t)n_run;
    series_copy_run(&h->s, out->points + e->history_at);
    out->n_points = base + h->s.n_recent + n_run;
}

/* history: see include/stats/history.h. */
#include "stats/history.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void history_init(history_t *h)
{
    memset(h, 0, sizeof *h);
    h->run = xcalloc(HISTORY_RUN_MAX, sizeof *h->run);
    h->run_span = 1;
}

void history_free(history_t *h)
{
    free(h->run);
    h->run = NULL;
}

static float span_average(float a, double wa, float b, double wb)
{
    return (float)((a * wa + b * wb) / (wa + wb));
}

static void keep_worse(uint64_t *a, uint64_t b)
{
    if (b > *a)
        *a = b;
}

/* Folds b (which follows a in time) into a: counts per second are averaged
 * over the seconds each covers, percentiles keep the worse of the two. */
static void merge_into(snap_sample_t *a, const snap_sample_t *b)
{
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

static void compact_run(history_t *h)
{
    size_t j = 0;
    for (size_t i = 0; i + 1 < h->n_run; i += 2) {
        snap_sample_t m = h->run[i];
        merge_into(&m, &h->run[i + 1]);
        h->run[j++] = m;
    }
    if (h->n_run % 2)
        h->run[j++] = h->run[h->n_run - 1];
    h->n_run = j;
    h->run_span *= 2;
}

void history_add(history_t *h, const snap_sample_t *s)
{
    size_t slot = (h->recent_head + h->n_recent) % HISTORY_RECENT;
    h->recent[slot] = *s;
    if (h->n_recent < HISTORY_RECENT)
        h->n_recent++;
    else
        h->recent_head = (h->recent_head + 1) % HISTORY_RECENT;

    if (h->pending_n == 0)
        h->pending = *s;
    else
        merge_into(&h->pending, s);
    h->pending_n += s->span;
    if (h->pending_n >= h->run_span) {
        if (h->n_run == HISTORY_RUN_MAX)
            compact_run(h);
        h->run[h->n_run++] = h->pending;
        h->pending_n = 0;
    }
}

void history_fill(const history_t *h, snap_t *out)
{
    out->recent = snap_reserve(out->recent, &out->cap_recent, h->n_recent, sizeof *out->recent);
    for (size_t i = 0; i < h->n_recent; i++)
        out->recent[i] = h->recent[(h->recent_head + i) % HISTORY_RECENT];
    out->n_recent = h->n_recent;

    size_t n = h->n_run + (h->pending_n ? 1 : 0);
    out->history = snap_reserve(out->history, &out->cap_history, n, sizeof *out->history);
    if (h->n_run)
        memcpy(out->history, h->run, h->n_run * sizeof *h->run);
    if (h->pending_n)
        out->history[h->n_run] = h->pending;
    out->n_history = n;
}

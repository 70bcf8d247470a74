/* history: the per-second timeline of a run, in bounded memory.
 *
 * Two views of the same samples: a ring of the last HISTORY_RECENT seconds at
 * one-second resolution (what the dashboard's sparklines draw), and the whole
 * run at most HISTORY_RUN_MAX samples long (what the reports draw). When the
 * whole-run series fills up, neighbouring samples are merged in pairs, so its
 * resolution halves (2 s, 4 s, ...) and its memory never grows: a week-long run
 * keeps 8192 samples of 74 s each. Merging averages users and rates (requests,
 * failures, arrivals, dropped arrivals per second) and keeps the worse
 * (higher) of the two percentiles (p50, p95, raw p95, schedule lag p99). */
#ifndef HOPPER_HISTORY_H
#define HOPPER_HISTORY_H

#include <stddef.h>

#include "snapshot/snapshot.h"

#define HISTORY_RECENT  1024
#define HISTORY_RUN_MAX 8192

typedef struct {
    snap_sample_t recent[HISTORY_RECENT];
    size_t recent_head;       /* index of the oldest */
    size_t n_recent;
    snap_sample_t *run;       /* HISTORY_RUN_MAX of them */
    size_t n_run;
    uint32_t run_span;        /* seconds per whole-run sample (a power of two) */
    snap_sample_t pending;    /* the whole-run sample being filled */
    uint32_t pending_n;       /* seconds in pending */
} history_t;

void history_init(history_t *h);
void history_free(history_t *h);

/* Appends one second. */
void history_add(history_t *h, const snap_sample_t *s);

/* Copies both series into the snapshot (recent oldest first; the whole run
 * including the partly filled last sample). */
void history_fill(const history_t *h, snap_t *out);

#endif

/* history: the per-second timelines of a run, in bounded memory.
 *
 * Two views of the same samples: a ring of the last seconds at one-second
 * resolution (what the dashboard's charts draw), and the whole run at a
 * bounded length (what the reports and the whole-run charts draw). When the
 * whole-run series fills up, neighbouring samples are merged in pairs, so its
 * resolution halves (2 s, 4 s, ...) and its memory never grows: a week-long run
 * keeps 8192 samples of 74 s each. Merging averages users and rates (requests,
 * failures, arrivals, dropped arrivals per second) and keeps the worse
 * (higher) of the two percentiles.
 *
 * Two kinds share that code: the run's timeline (history_t, snap_sample_t:
 * HISTORY_RECENT seconds, HISTORY_RUN_MAX samples) and one statistics row's
 * (history_row_t, snap_point_t: SNAP_ROW_RECENT seconds, SNAP_ROW_HISTORY
 * samples, about 44 KB a row). Everything is allocated at init: adding a
 * second never allocates. */
#ifndef HOPPER_HISTORY_H
#define HOPPER_HISTORY_H

#include <stddef.h>

#include "snapshot/snapshot.h"

#define HISTORY_RECENT  1024
#define HISTORY_RUN_MAX 8192

struct history_kind;

/* The two series of one timeline, whatever its sample type (the kind says
 * its size, bounds and how two samples merge). */
typedef struct {
    const struct history_kind *kind;
    unsigned char *recent;    /* a ring of kind->recent_cap samples */
    size_t recent_head;       /* index of the oldest */
    size_t n_recent;
    unsigned char *run;       /* kind->run_cap samples */
    size_t n_run;
    uint32_t run_span;        /* seconds per whole-run sample (a power of two) */
    unsigned char *pending;   /* the whole-run sample being filled */
    uint32_t pending_n;       /* seconds in pending */
} history_series_t;

typedef struct {
    history_series_t s;
} history_t;

typedef struct {
    history_series_t s;
} history_row_t;

void history_init(history_t *h);
void history_free(history_t *h);

/* Appends one second. */
void history_add(history_t *h, const snap_sample_t *s);

/* Copies both series into the snapshot (recent oldest first; the whole run
 * including the partly filled last sample). */
void history_fill(const history_t *h, snap_t *out);

void history_row_init(history_row_t *h);
void history_row_free(history_row_t *h);

/* Appends one second of a row. */
void history_row_add(history_row_t *h, const snap_point_t *p);

/* Appends the row's two series to out->points (recent oldest first, then the
 * whole run with its partly filled last sample) and sets e's recent_at,
 * n_recent, history_at and n_history. */
void history_row_fill(const history_row_t *h, snap_t *out, snap_entry_t *e);

#endif

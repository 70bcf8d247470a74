/* panels: the dashboard's detail panels, each drawn into a rectangle of the
 * screen from a const snapshot: a row's latency distribution, its status
 * codes and error kinds, its percentile table, and hopper's own log.
 *
 * The dashboard (dash.c) decides where a panel goes and which row it is
 * about (the selected endpoint, or the Aggregated row for the whole run);
 * a panel only draws. Every panel fits whatever rectangle it gets: fewer
 * rows show fewer lines (never a line cut in the middle of a number), and
 * one too small for anything useful says so in one line. */
#ifndef HOPPER_PANELS_H
#define HOPPER_PANELS_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshot/snapshot.h"
#include "util/log.h"
#include "view/term.h"

typedef struct {
    int y, x;       /* top-left cell */
    int h, w;       /* rows and columns */
} view_rect_t;

/* The latency distribution of row e: histograms on log buckets (snapshot.h,
 * SNAP_DIST_*) for the last 10 s and for the run (side by side when r is
 * wide enough, else stacked), from the fastest to the slowest bucket with
 * any request in either (one axis for both), neighbouring buckets merged
 * to fit the rows; each bucket a bar proportional to its share (one scale
 * for both), with its range, count and share, so that two modes are two
 * humps at a glance; the run's p50, p95 and p99 are tagged on their
 * buckets when the width allows. */
void panel_dist_draw(view_rect_t r, const snap_entry_t *e, const term_t *t);

/* The status codes of row e (its codes, codes_other, and the requests with
 * no response), with counts, shares and bars, then the error kinds: the
 * errors of s for that row grouped by text (for the Aggregated row, total
 * true: every row's errors grouped by text), most frequent first. */
void panel_codes_draw(view_rect_t r, const snap_t *s, const snap_entry_t *e, bool total,
                      const term_t *t);

/* Row e's percentile table (50% .. 100%, as the console's), with the raw
 * latencies beside the corrected ones when s->dual; and its min, avg, max. */
void panel_pct_draw(view_rect_t r, const snap_t *s, const snap_entry_t *e, const term_t *t);

/* hopper's own messages with their local times (HH:MM:SS), newest at the
 * bottom; scroll lines back from the newest. Returns the largest useful
 * scroll for this rectangle (so the caller can clamp). */
size_t panel_log_draw(view_rect_t r, const log_t *log, size_t scroll, const term_t *t);

#endif

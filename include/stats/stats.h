/* stats: the request statistics of one run, per endpoint and aggregated.
 *
 * Owned by the engine and fed from its completion path, so stats_record() is
 * the hot path: O(1), no allocation (errors are the exception: a new distinct
 * error text is copied once into a bounded table). Endpoints are fixed when the
 * stats are made (one per distinct method and name among the plan's tasks).
 * Each endpoint, and the Aggregated row, costs about 120 KB (150 KB in dual
 * stats), all allocated by stats_new: two histograms (the span's and the
 * second's), a table of status codes, the last seconds' distributions and
 * the row's timelines (history.h). Recording one request touches each a
 * constant number of times, whatever the number of endpoints or users.
 *
 * Time is milliseconds since the start of the run (the engine passes the
 * loop's cached clock, so recording costs no system call). The "current" rates
 * are the requests completed in the last 10 whole seconds of wall-clock time,
 * divided by 10 (or by the seconds elapsed, early on): unlike Locust's window,
 * which is anchored to the last request, they fall to zero when traffic stops. */
#ifndef HOPPER_STATS_H
#define HOPPER_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "snapshot/snapshot.h"
#include "util/frame.h"

#define STATS_WINDOW_S   10      /* seconds in the "current" rate window */
#define STATS_MAX_ERRORS 1024    /* distinct (endpoint, error) rows kept */

typedef struct stats stats_t;

/* n endpoints with their methods and names (strings must outlive the stats).
 * dual: requests have intended starts (open model, pacing, throughput), so
 * every endpoint keeps two histograms, corrected and raw (snapshot.h). */
stats_t *stats_new(size_t n, const char *const *methods, const char *const *names,
                   double start_unix, bool dual);
void stats_free(stats_t *st);

/* One finished request of endpoint e. status is the HTTP status of its
 * response (any code; 0 when no response was received: it is then counted
 * under no code). error is NULL for a success, else the failure's text
 * ("HTTP 503", "connection refused"). */
void stats_record(stats_t *st, size_t e, uint64_t now_ms, uint64_t latency_us,
                  uint64_t bytes, unsigned status, const char *error);

/* The same for a request with an intended start: latency_us is the raw
 * latency (from the send), late_us how much later than intended it was sent;
 * the corrected latency is their sum. In stats that are not dual, late_us is
 * ignored (one latency, the raw one). */
void stats_record_late(stats_t *st, size_t e, uint64_t now_ms, uint64_t latency_us,
                       uint64_t late_us, uint64_t bytes, unsigned status, const char *error);

/* The open model and paced users: one send that was due at a time, started
 * lag_us after it (the generator's own lateness: the schedule lag). */
void stats_lag(stats_t *st, uint64_t lag_us);

/* The open model: an iteration started on its arrival (arrival), or an
 * arrival found no free user and was dropped (dropped), at now_ms. */
void stats_arrival(stats_t *st, uint64_t now_ms);
void stats_dropped(stats_t *st, uint64_t now_ms);

/* Closes the second that ends at now_ms (the engine calls it once a second):
 * appends a history sample with the given user count, and a point to every
 * row's timeline (Aggregated included). */
void stats_tick(stats_t *st, uint64_t now_ms, uint32_t users);

/* Forgets every count, histogram, status code, distribution and error
 * (Locust's "reset stats"); the history, the rows' timelines and the events
 * go on. */
void stats_reset(stats_t *st, uint64_t now_ms);

/* Empties everything (history and events too) and sets the wall-clock time
 * that now_ms 0 stands for: the start of the run. */
void stats_restart(stats_t *st, double start_unix);

/* Notes an operator action on the timeline. */
void stats_event(stats_t *st, uint64_t now_ms, event_kind_t kind, double value);

/* Worker processes report what they recorded as deltas: stats_delta_take()
 * appends everything recorded since its last call to buf (sparse histograms,
 * counts, new errors) and forgets it; stats_delta_apply() adds such a delta
 * into the engine's stats as if those requests finished at now_ms, exactly
 * (histograms merge bucket by bucket). Returns 0, or -1 if the bytes are not
 * a whole delta for stats of this shape; the delta is checked completely
 * before any of it is applied, so on -1 the stats are unchanged. */
void stats_delta_take(stats_t *st, frame_buf_t *buf);

/* Marks stats that only feed deltas (a worker process's): from now on,
 * recording keeps only what a delta carries (each row's counts, histograms
 * and status codes, the schedule lag, the arrivals, the errors), and leaves
 * out the Aggregated row, the rates, the last seconds' distributions and
 * the second in progress, which the engine makes from the deltas. The
 * deltas are the same byte for byte; stats_fill and stats_tick then show
 * only part of what was recorded. */
void stats_set_worker(stats_t *st);
int stats_delta_apply(stats_t *st, const uint8_t *p, size_t len, uint64_t now_ms);

/* Fills the statistics parts of a snapshot: entries (with their raw_*
 * fields: a copy of the main ones unless dual), total, errors, history,
 * events, stats_ms, dual, the schedule lag (lag_*), arrivals, dropped and
 * their current rates, and for every row (total too) sum_us, le, the status
 * codes, dist_run, dist_recent and its timelines (in points). The engine
 * fills the rest.
 *
 * Resolution: le counts a histogram bucket when all of it is at or below
 * the bound, so latencies less than 0.8% below a bound (in the bucket that
 * holds the bound) may be left out of it; dist_run and dist_recent put each histogram bucket (0.8% wide) whole
 * into the distribution bucket of its lowest value, so their edges are
 * exact to 0.8% (exact below 256 us). */
void stats_fill(const stats_t *st, uint64_t now_ms, snap_t *out);

#endif

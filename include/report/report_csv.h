/* report_csv: Locust-compatible CSV files (--csv PREFIX).
 *
 *   PREFIX_stats.csv          one row per endpoint and Aggregated; rewritten
 *                             every second and at the end
 *   PREFIX_stats_history.csv  one Aggregated row per second (with
 *                             full_history, a row per endpoint too), appended
 *   PREFIX_failures.csv       Method,Name,Error,Occurrences (when each error was
 *                             first and last seen is in the JSON report)
 *   PREFIX_exceptions.csv     Count,Message,Traceback,Nodes: the header only, as
 *                             hopper's tasks raise no exceptions
 *   PREFIX_stats_raw.csv      runs with intended starts only (the open model,
 *                             wait = pacing or throughput): _stats.csv's
 *                             columns with the raw response times (from the
 *                             send), rewritten with it
 *
 * In runs with intended starts the response times of the Locust files are
 * the corrected ones (from when the request should have started), so a tool
 * that reads Locust's files sees the latency visitors would; the raw ones
 * are in _stats_raw.csv.
 *
 * Headers and column order are exactly Locust's. Response times are in
 * milliseconds as Locust writes them, but with hopper's precision (three
 * decimals, not Locust's rounding to buckets). Requests/s in _stats.csv are
 * whole-run rates, in _stats_history.csv the current (last 10 s) ones, as in
 * Locust. The files are complete at exit: the final counts equal the
 * summary's. */
#ifndef HOPPER_REPORT_CSV_H
#define HOPPER_REPORT_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "snapshot/snapshot.h"

extern const char report_csv_stats_header[];
extern const char report_csv_history_header[];
extern const char report_csv_failures_header[];
extern const char report_csv_exceptions_header[];

typedef struct {
    FILE *stats, *history, *failures, *exceptions;
    FILE *stats_raw;        /* NULL unless opened with raw */
    bool full_history;
    bool failed;            /* a write failed: reported once */
} report_csv_t;

/* Opens (creates, truncates) the four files, and _stats_raw.csv too when
 * raw (the run has intended starts). 0, or -1 with err. */
int report_csv_open(report_csv_t *c, const char *prefix, bool full_history, bool raw, char *err,
                    size_t errlen);

/* Rewrites _stats.csv, _stats_raw.csv and _failures.csv (_exceptions.csv has
 * nothing to rewrite) and appends this second's history rows. Returns 0, or
 * -1 on a write error (errno set). */
int report_csv_update(report_csv_t *c, const snap_t *s);

/* The final write, then closes. Returns 0 or -1 as above. */
int report_csv_close(report_csv_t *c, const snap_t *s);

/* Writes one CSV cell: quoted when it holds a comma, quote or line break;
 * control characters dropped. Exposed for tests. */
void report_csv_cell(FILE *f, const char *s);

#endif

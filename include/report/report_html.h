/* report_html: the run as one self-contained HTML file (--html FILE).
 *
 * The file needs nothing but itself: no scripts, fonts, style sheets or
 * images are fetched, so it opens from a mail attachment or an archived CI
 * artifact. It holds the settings, the checks (when there are any) with a
 * PASSED/FAILED banner, the endpoint and percentile tables, the failures,
 * the operator events, and three charts drawn as inline SVG from the
 * whole-run history: requests/s with failures/s, p50 and p95 response time,
 * and users, with the operator events (and stage changes) marked on the time
 * axis. Runs with stages get a table of them; the open model its arrivals,
 * dropped arrivals and pool in the settings and a chart of arrivals/s and
 * dropped/s; runs with intended starts (snap_t.dual) corrected and raw
 * percentiles row under row, the raw p95 and the schedule lag p99 on the
 * response-time chart, and a table of the schedule lag.
 *
 * Reads a const snapshot only and streams straight to the FILE: nothing is
 * allocated. Text that came from outside (names, error messages, host,
 * paths, check text) is HTML-escaped and stripped of control characters;
 * numbers use a '.' decimal point whatever LC_NUMERIC says. */
#ifndef HOPPER_REPORT_HTML_H
#define HOPPER_REPORT_HTML_H

#include <stdio.h>

#include "report/report.h"

/* Writes the whole report to f. Returns 0, or -1 on a write error (errno set). */
int report_html_write(FILE *f, const snap_t *s, const report_meta_t *m);

#endif

/* console: the statistics as plain-text tables, for --no-tui runs and for the
 * summary every run prints at its end (the dashboard prints it too, after it
 * has restored the terminal). Reads a const snapshot only.
 *
 * Times are shown in milliseconds as text_ms writes them (util/text.h). Text
 * printed to a terminal goes through text_sanitize: names and the host come
 * from the operator and are cleaned nowhere else; error texts were already
 * cleaned by stats, and are cleaned again here only because a terminal is
 * the one place where a stray escape sequence does harm. */
#ifndef HOPPER_CONSOLE_H
#define HOPPER_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/checks.h"
#include "snapshot/snapshot.h"

/* The periodic table: one row per endpoint and Aggregated, with the current
 * (last 10 s) rates, preceded by a status line (and, with stages, the stage
 * and the time left in it; in the open model, the arrivals started and
 * dropped). With intended starts (snap_t.dual) the table's times are the
 * corrected ones, followed by the schedule lag and an 80-column table of
 * corrected and raw times, row under row. A closed run without intended
 * starts prints exactly what it always has. */
void console_print_stats(FILE *f, const snap_t *s);

/* One line on the load generator itself: its client, each process's CPU and
 * event-loop lag, and whether hopper is the bottleneck. */
void console_print_health(FILE *f, const snap_t *s);

/* The final summary: the statistics with whole-run rates, the percentile
 * table, the error report and a closing line about the run. With intended
 * starts, the corrected-and-raw table, a raw row under each percentile row
 * and the schedule lag (with a plain word when hopper itself was behind);
 * in the open model, the arrivals (target, started, achieved rate,
 * dropped); with stages, the stages as a plan writes them. */
void console_print_summary(FILE *f, const snap_t *s);

/* The checks, one line each: "PASS  p95<300ms  (measured 231ms)". */
void console_print_checks(FILE *f, const check_result_t *r, size_t n);

#endif

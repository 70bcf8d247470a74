/* layout: where each part of the dashboard goes for a terminal size.
 *
 * Pure arithmetic over the size and how much there is to show, so it can be
 * tested at any size without a terminal. From top to bottom: the status line,
 * the endpoint table (header, endpoint rows that scroll, the Aggregated row
 * that always stays), a note line when there are checks or the table
 * scrolls, the charts, the failures panel, the key bar.
 *
 * Narrow terminals drop table columns rather than wrap, in this order: size,
 * min, max, p99, avg, fail/s, type, p95, req/s. With corrected and raw
 * latencies (LAYOUT_RAW) two raw columns come after p99 and the order is
 * size, min, max, raw p95, avg, fail/s, type, p95, req/s, raw p99, p99: the
 * corrected p99 and its raw twin, the pair that shows coordinated omission,
 * stay longest after the median. Short terminals draw one-line sparklines
 * (COMPACT) or no chart at all. Below LAYOUT_MIN_COLS x LAYOUT_MIN_ROWS
 * there is only a one-line notice. */
#ifndef HOPPER_LAYOUT_H
#define HOPPER_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#define LAYOUT_MIN_COLS 40
#define LAYOUT_MIN_ROWS 10
#define LAYOUT_NAME_MIN 12

typedef enum {
    COL_TYPE, COL_NAME, COL_REQS, COL_FAILS, COL_MED, COL_AVG, COL_MIN, COL_MAX,
    COL_P95, COL_P99, COL_RAW_P95, COL_RAW_P99, COL_SIZE, COL_RPS, COL_FPS, COL_COUNT
} layout_col_t;

typedef enum { SPARKS_NONE, SPARKS_COMPACT, SPARKS_FULL } spark_mode_t;

/* FULL: charts several rows tall (view/chart.h), one per quantity: requests/s
 * with failures/s, response times, users, and in the open model
 * (LAYOUT_OPEN) arrivals/s with dropped/s: LAYOUT_CHARTS or
 * LAYOUT_CHARTS_OPEN of them. Each takes CHART_CHROME lines (title, time
 * axis) and at least LAYOUT_CHART_MIN_PLOT rows of plot; once the table has
 * its first rows and the failures panel its own, each chart grows to
 * LAYOUT_CHART_PREF_PLOT rows, then the table takes the endpoints it has,
 * then the charts take every row left: no row is wasted. COMPACT (fewer than
 * 24 rows, or no room for FULL): one-line sparklines, a line each (label then
 * strip), after a blank line; the open model's arrivals add one. */
#define LAYOUT_CHARTS 3
#define LAYOUT_CHARTS_OPEN 4
#define LAYOUT_MAX_CHARTS 4
#define LAYOUT_CHART_CHROME 2
#define LAYOUT_CHART_MIN_PLOT 2
#define LAYOUT_CHART_PREF_PLOT 5
#define SPARKS_COMPACT_LINES 3
#define SPARKS_OPEN_EXTRA_COMPACT 1

/* What there is to show besides sizes (layout_compute's content, or-ed):
 * LAYOUT_RAW corrected and raw latencies (snap_t.dual): the raw columns;
 * LAYOUT_OPEN the open model (snap_t.open): the arrivals chart;
 * LAYOUT_CHECKS checks to show live: a line under the table. */
#define LAYOUT_RAW  1u
#define LAYOUT_OPEN 2u
#define LAYOUT_CHECKS 4u

typedef struct {
    int cols, rows;
    bool too_small;
    bool show[COL_COUNT];
    int width[COL_COUNT];       /* cells, not counting the space before each */
    int status_row;
    int header_row;
    int first_entry_row;
    int entry_rows;             /* endpoint rows visible; fewer than n means scrolling */
    int aggregated_row;
    int note_row;               /* under the table: the checks, "1-5 of 20"; -1 if none */
    int spark_row;              /* the charts' (or sparklines') first line */
    spark_mode_t sparks;
    int spark_lines;            /* lines the charts take (0 with SPARKS_NONE) */
    int n_charts;               /* FULL: the charts, and the lines of each */
    int chart_lines[LAYOUT_MAX_CHARTS];
    int fail_row;               /* the failures panel's title row; -1 if hidden */
    int fail_rows;              /* error rows visible under it */
    int keybar_row;
} layout_t;

/* Lays out a cols x rows screen for n_entries endpoints and n_errors error
 * rows; show_failures asks for the failures panel (it gets what room is left
 * after a minimum of table and sparklines); content: LAYOUT_* flags. */
void layout_compute(layout_t *l, int cols, int rows, size_t n_entries, size_t n_errors,
                    bool show_failures, unsigned content);

/* The table's column header text for a column. */
const char *layout_col_title(layout_col_t c);

#endif

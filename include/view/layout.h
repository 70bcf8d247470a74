/* layout: where each part of the dashboard goes for a terminal size.
 *
 * Pure arithmetic over the size and how much there is to show, so it can be
 * tested at any size without a terminal. From top to bottom: the status line,
 * the endpoint table (header, endpoint rows that scroll, the Aggregated row
 * that always stays), the sparklines, the failures panel, the key bar.
 *
 * Narrow terminals drop table columns rather than wrap, in this order: size,
 * min, max, p99, avg, fail/s, type, p95, req/s. With corrected and raw
 * latencies (LAYOUT_RAW) two raw columns come after p99 and the order is
 * size, min, max, raw p95, avg, fail/s, type, p95, req/s, raw p99, p99: the
 * corrected p99 and its raw twin, the pair that shows coordinated omission,
 * stay longest after the median. Short terminals draw the sparklines one
 * line each (COMPACT) or not at all. Below LAYOUT_MIN_COLS x LAYOUT_MIN_ROWS
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

/* Lines the sparklines take in each mode. FULL: a label line and a strip for
 * requests/s, a label and two strips (p95, p50; corrected and raw p95 with
 * LAYOUT_RAW) for response time, a label and a strip for users, and the
 * operator-event marks. COMPACT: one line each (label then strip), no marks.
 * The open model (LAYOUT_OPEN) adds a chart of arrivals/s with dropped/s: a
 * label and a strip in FULL, a line in COMPACT. */
#define SPARKS_FULL_LINES 8
#define SPARKS_COMPACT_LINES 3
#define SPARKS_OPEN_EXTRA_FULL 2
#define SPARKS_OPEN_EXTRA_COMPACT 1

/* What there is to show besides sizes (layout_compute's content, or-ed):
 * LAYOUT_RAW corrected and raw latencies (snap_t.dual): the raw columns;
 * LAYOUT_OPEN the open model (snap_t.open): the arrivals chart. */
#define LAYOUT_RAW  1u
#define LAYOUT_OPEN 2u

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
    int spark_row;
    spark_mode_t sparks;
    int spark_lines;            /* lines the sparklines take (0 with SPARKS_NONE) */
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

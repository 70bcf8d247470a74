/* layout: see include/view/layout.h. */
#include "view/layout.h"

#include <string.h>

static const int natural_width[COL_COUNT] = {
    [COL_TYPE] = 6, [COL_NAME] = 0, [COL_REQS] = 6, [COL_FAILS] = 11, [COL_MED] = 6,
    [COL_AVG] = 6, [COL_MIN] = 6, [COL_MAX] = 6, [COL_P95] = 6, [COL_P99] = 6,
    [COL_RAW_P95] = 7, [COL_RAW_P99] = 7, [COL_SIZE] = 5, [COL_RPS] = 6, [COL_FPS] = 6,
};

static const char *const titles[COL_COUNT] = {
    [COL_TYPE] = "Type", [COL_NAME] = "Name", [COL_REQS] = "Reqs", [COL_FAILS] = "Fails",
    [COL_MED] = "Median", [COL_AVG] = "Avg", [COL_MIN] = "Min", [COL_MAX] = "Max",
    [COL_P95] = "p95", [COL_P99] = "p99", [COL_RAW_P95] = "raw p95", [COL_RAW_P99] = "raw p99",
    [COL_SIZE] = "Size", [COL_RPS] = "req/s", [COL_FPS] = "fail/s",
};

/* Which columns go first when the terminal is too narrow (layout.h says why
 * the raw pair has an order of its own). */
static const layout_col_t drop_order[] = {COL_SIZE, COL_MIN, COL_MAX, COL_P99,
                                          COL_AVG, COL_FPS, COL_TYPE, COL_P95, COL_RPS};
static const layout_col_t drop_order_raw[] = {COL_SIZE, COL_MIN, COL_MAX, COL_RAW_P95, COL_AVG,
                                              COL_FPS, COL_TYPE, COL_P95, COL_RPS, COL_RAW_P99,
                                              COL_P99};

const char *layout_col_title(layout_col_t c)
{
    return titles[c];
}

static int fixed_width(const layout_t *l)
{
    int w = 0;
    for (int c = 0; c < COL_COUNT; c++)
        if (l->show[c] && c != COL_NAME)
            w += l->width[c] + 1;
    return w;
}

void layout_compute(layout_t *l, int cols, int rows, size_t n_entries, size_t n_errors,
                    bool show_failures, unsigned content)
{
    memset(l, 0, sizeof *l);
    l->cols = cols;
    l->rows = rows;
    l->fail_row = -1;
    l->note_row = -1;
    if (cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS) {
        l->too_small = true;
        return;
    }

    /* Columns: all of them, then drop until the name keeps its minimum. */
    bool raw = content & LAYOUT_RAW;
    for (int c = 0; c < COL_COUNT; c++) {
        l->show[c] = raw || (c != COL_RAW_P95 && c != COL_RAW_P99);
        l->width[c] = natural_width[c];
    }
    const layout_col_t *order = raw ? drop_order_raw : drop_order;
    size_t n_order = raw ? sizeof drop_order_raw / sizeof drop_order_raw[0]
                         : sizeof drop_order / sizeof drop_order[0];
    for (size_t i = 0; i < n_order; i++) {
        if (cols - fixed_width(l) >= LAYOUT_NAME_MIN)
            break;
        l->show[order[i]] = false;
    }
    int name = cols - fixed_width(l);
    l->width[COL_NAME] = name > LAYOUT_NAME_MIN ? name : LAYOUT_NAME_MIN;

    /* Rows. Fixed: status, table header, Aggregated, key bar. */
    int avail = rows - 4;
    int want_entries = (int)n_entries;
    int min_entries = want_entries < 3 ? want_entries : 3;
    if (min_entries < 1)
        min_entries = 1;
    int entries = min_entries;
    avail -= entries;
    int note = content & LAYOUT_CHECKS ? 1 : 0;
    avail -= note;

    bool open = content & LAYOUT_OPEN;
    int n_charts = open ? LAYOUT_CHARTS_OPEN : LAYOUT_CHARTS;
    int chart_min = n_charts * (LAYOUT_CHART_CHROME + LAYOUT_CHART_MIN_PLOT);
    int chart_pref = n_charts * (LAYOUT_CHART_CHROME + LAYOUT_CHART_PREF_PLOT);
    int compact = SPARKS_COMPACT_LINES + (open ? SPARKS_OPEN_EXTRA_COMPACT : 0);
    int charts = 0;
    if (rows >= 24 && avail >= chart_min) {
        l->sparks = SPARKS_FULL;
        charts = chart_min;
    } else if (avail >= compact + 1) {
        l->sparks = SPARKS_COMPACT;
        charts = compact + 1;         /* with a blank line above them */
    } else {
        l->sparks = SPARKS_NONE;
    }
    avail -= charts;

    /* The failures panel: a title and at least one row, at most five, before
     * the table takes the rest. */
    int fails = 0;
    bool panel = show_failures && n_errors > 0 && avail >= 2;
    if (panel) {
        fails = (int)n_errors < 5 ? (int)n_errors : 5;
        if (fails > avail - 1)
            fails = avail - 1;
        avail -= fails + 1;
    }
    /* The charts grow to a readable height before the table grows. */
    if (l->sparks == SPARKS_FULL) {
        int grow = chart_pref - charts;
        if (grow > avail)
            grow = avail;
        charts += grow;
        avail -= grow;
    }
    int more = want_entries - entries;
    if (more > avail)
        more = avail;
    if (more > 0) {
        entries += more;
        avail -= more;
    }
    /* A table that scrolls says where it is, on the note line. */
    if (entries < want_entries && !note) {
        if (avail > 0) {
            avail--;
            note = 1;
        } else if (entries > 1) {
            entries--;
            note = 1;
        }
    }
    if (panel && avail > 0 && (size_t)fails < n_errors) {
        int extra = (int)n_errors - fails;
        if (extra > avail)
            extra = avail;
        fails += extra;
        avail -= extra;
    }
    if (l->sparks == SPARKS_FULL) {
        charts += avail;
        avail = 0;
        l->n_charts = n_charts;
        for (int i = 0; i < n_charts; i++)
            l->chart_lines[i] = charts / n_charts + (i < charts % n_charts ? 1 : 0);
    }

    l->status_row = 0;
    l->header_row = 1;
    l->first_entry_row = 2;
    l->entry_rows = entries;
    l->aggregated_row = 2 + entries;
    l->note_row = note ? l->aggregated_row + 1 : -1;
    l->spark_row = l->aggregated_row + 1 + note + (l->sparks == SPARKS_COMPACT ? 1 : 0);
    /* Compact: the rows nothing else took make the strips taller. */
    if (l->sparks == SPARKS_COMPACT) {
        compact += avail;
        avail = 0;
    }
    l->spark_lines = l->sparks == SPARKS_FULL ? charts : l->sparks == SPARKS_COMPACT ? compact : 0;
    int next = l->spark_row + l->spark_lines;
    if (panel) {
        l->fail_row = next;
        l->fail_rows = fails;
    }
    l->keybar_row = rows - 1;
}

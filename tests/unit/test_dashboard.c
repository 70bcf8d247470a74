/* Unit tests for the dashboard's pure parts: number formatting with units,
 * the 1-2-5 steps of the spawn rate, middle shortening, sparkline scaling,
 * and the layout at several terminal sizes; then whole screens drawn by
 * dash_draw into ncurses' virtual screen (a vt100 writing to /dev/null, so
 * no terminal is needed) and read back: the open model, stages, corrected and
 * raw latencies at 120x40 and 80x24, and the status line at every width. */
#include "check.h"
#include "screen.h"
#include "util/text.h"
#include "view/chart.h"
#include "view/dash.h"
#include "view/layout.h"
#include "view/spark.h"

#include <curses.h>
#include <stdlib.h>

TEST(counts_fit_six_columns)
{
    char b[32];
    CHECK_STR(text_count(0, b, sizeof b), "0");
    CHECK_STR(text_count(999, b, sizeof b), "999");
    CHECK_STR(text_count(1000, b, sizeof b), "1.0k");
    CHECK_STR(text_count(1234, b, sizeof b), "1.2k");
    CHECK_STR(text_count(9949, b, sizeof b), "9.9k");
    CHECK_STR(text_count(9950, b, sizeof b), "10k");
    CHECK_STR(text_count(123456, b, sizeof b), "123k");
    CHECK_STR(text_count(999499, b, sizeof b), "999k");
    CHECK_STR(text_count(999500, b, sizeof b), "1.00M");
    CHECK_STR(text_count(12345678, b, sizeof b), "12.3M");
    CHECK_STR(text_count(5000000000ULL, b, sizeof b), "5.00G");
    for (uint64_t n = 1; n < 100000000000ULL; n = n * 3 + 1)
        CHECK(strlen(text_count(n, b, sizeof b)) <= 6);
}

TEST(rates)
{
    char b[32];
    CHECK_STR(text_rate(0, b, sizeof b), "0.0");
    CHECK_STR(text_rate(12.34, b, sizeof b), "12.3");
    CHECK_STR(text_rate(456.7, b, sizeof b), "457");
    CHECK_STR(text_rate(14300, b, sizeof b), "14k");
    CHECK_STR(text_rate(-1, b, sizeof b), "0.0");
}

TEST(times_with_units)
{
    char b[32];
    CHECK_STR(text_time_us(850, true, b, sizeof b), "850\xc2\xb5s");
    CHECK_STR(text_time_us(850, false, b, sizeof b), "850us");
    CHECK_STR(text_time_us(1234, true, b, sizeof b), "1.2ms");
    CHECK_STR(text_time_us(12345, true, b, sizeof b), "12ms");
    CHECK_STR(text_time_us(999400, true, b, sizeof b), "999ms");
    CHECK_STR(text_time_us(1234567, true, b, sizeof b), "1.23s");
    CHECK_STR(text_time_us(12345678, true, b, sizeof b), "12.3s");
    CHECK_STR(text_time_us(123456789, true, b, sizeof b), "123s");
    for (uint64_t us = 1; us < 1000000000ULL; us = us * 2 + 1)
        CHECK(text_columns(text_time_us(us, true, b, sizeof b)) <= 6);
}

TEST(clock)
{
    char b[32];
    CHECK_STR(text_clock(0, b, sizeof b), "00:00");
    CHECK_STR(text_clock(83500, b, sizeof b), "01:23");
    CHECK_STR(text_clock(3723000, b, sizeof b), "1:02:03");
}

TEST(spawn_rate_steps_are_1_2_5)
{
    CHECK(text_step_125(10, +1) == 20);
    CHECK(text_step_125(20, +1) == 50);
    CHECK(text_step_125(50, +1) == 100);
    CHECK(text_step_125(100, -1) == 50);
    CHECK(text_step_125(1, -1) == 0.5);
    CHECK(text_step_125(7, +1) == 10);     /* off the series: the next one up */
    CHECK(text_step_125(7, -1) == 5);
    CHECK(text_step_125(0.001, -1) == 0.001);  /* the floor holds */
}

TEST(middle_shortening)
{
    char b[64];
    CHECK_STR(text_fit_middle("/status", 20, true, b, sizeof b), "/status");
    CHECK_STR(text_fit_middle("/api/title/The godfather/1972", 12, false, b, sizeof b), "/api/~r/1972");
    text_fit_middle("/api/title/The godfather/1972", 12, true, b, sizeof b);
    CHECK_INT(text_columns(b), 12);
    CHECK(strstr(b, "\xe2\x80\xa6") != NULL);
    text_fit_middle("caf\xc3\xa9/caf\xc3\xa9/caf\xc3\xa9", 7, true, b, sizeof b);
    CHECK_INT(text_columns(b), 7);
}

TEST(sparkline_scaling)
{
    CHECK_INT(spark_level(0, 100, 9), 0);
    CHECK_INT(spark_level(100, 100, 9), 8);
    CHECK_INT(spark_level(150, 100, 9), 8);
    CHECK_INT(spark_level(0.01, 100, 9), 1);      /* a trickle is not silence */
    CHECK_INT(spark_level(50, 100, 9), 5);
    CHECK_INT(spark_level(5, 0, 9), 0);
    CHECK_INT(spark_level(100, 100, 10), 9);
    CHECK_STR(spark_glyph(8, true), "\xe2\x96\x88");
    CHECK_STR(spark_glyph(1, true), "\xe2\x96\x81");
    CHECK_STR(spark_glyph(0, true), " ");
    CHECK_STR(spark_glyph(9, false), "@");
    CHECK_STR(spark_glyph(99, false), "@");
    double v[] = {5, 1, 9, 2, 3};
    CHECK(spark_window_max(v, 5, 5) == 9);
    CHECK(spark_window_max(v, 5, 2) == 3);
    CHECK(spark_window_max(v, 0, 2) == 0);
}

static int row_span_ok(const layout_t *l)
{
    /* Nothing overlaps and everything is on screen. */
    int end_table = l->aggregated_row;
    int end_sparks = l->sparks != SPARKS_NONE ? l->spark_row + l->spark_lines - 1 : end_table;
    int end_fail = l->fail_row >= 0 ? l->fail_row + l->fail_rows : end_sparks;
    return end_table < l->keybar_row && end_sparks < l->keybar_row && end_fail < l->keybar_row &&
           (l->fail_row < 0 || l->fail_row > end_sparks) && l->keybar_row == l->rows - 1;
}

static int table_width(const layout_t *l)
{
    int w = 0;
    for (int c = 0; c < COL_COUNT; c++)
        if (l->show[c])
            w += l->width[c] + 1;
    return w - 1;
}

TEST(layout_at_120x40_shows_everything)
{
    layout_t l;
    layout_compute(&l, 120, 40, 3, 0, false, 0);
    CHECK(!l.too_small);
    for (int c = 0; c < COL_COUNT; c++)
        CHECK(l.show[c] == (c != COL_RAW_P95 && c != COL_RAW_P99));   /* one latency: no raw columns */
    CHECK(l.width[COL_NAME] >= 30);
    CHECK(table_width(&l) <= 120);
    CHECK_INT(l.entry_rows, 3);
    CHECK_INT(l.sparks, SPARKS_FULL);
    CHECK_INT(l.fail_row, -1);
    CHECK(row_span_ok(&l));
}

TEST(layout_at_80x24_drops_size_min_max_first)
{
    layout_t l;
    layout_compute(&l, 80, 24, 3, 2, true, 0);
    CHECK(!l.show[COL_SIZE] && !l.show[COL_MIN] && !l.show[COL_MAX]);
    CHECK(l.show[COL_P99] && l.show[COL_P95] && l.show[COL_MED] && l.show[COL_RPS]);
    CHECK(l.width[COL_NAME] >= LAYOUT_NAME_MIN);
    CHECK(table_width(&l) <= 80);
    CHECK_INT(l.sparks, SPARKS_FULL);
    CHECK(l.fail_row > 0);
    CHECK_INT(l.fail_rows, 2);
    CHECK(row_span_ok(&l));
}

TEST(layout_narrow_and_short)
{
    layout_t l;
    layout_compute(&l, 50, 12, 10, 5, true, 0);
    CHECK(!l.too_small);
    CHECK(table_width(&l) <= 50);
    CHECK(l.show[COL_NAME] && l.show[COL_REQS] && l.show[COL_FAILS] && l.show[COL_MED]);
    CHECK(!l.show[COL_TYPE]);
    CHECK(l.entry_rows >= 1 && l.entry_rows < 10);   /* the table scrolls */
    CHECK(row_span_ok(&l));
}

TEST(layout_many_endpoints_scroll_and_aggregated_stays)
{
    layout_t l;
    layout_compute(&l, 120, 40, 200, 0, false, 0);
    CHECK(l.entry_rows < 200);
    CHECK_INT(l.aggregated_row, l.first_entry_row + l.entry_rows);
    CHECK(l.aggregated_row < l.keybar_row);
    CHECK_INT(l.sparks, SPARKS_FULL);                /* the sparklines keep their room */
    CHECK(row_span_ok(&l));
}

TEST(layout_too_small)
{
    layout_t l;
    layout_compute(&l, 30, 8, 3, 0, false, 0);
    CHECK(l.too_small);
    layout_compute(&l, 39, 24, 3, 0, false, 0);
    CHECK(l.too_small);
    layout_compute(&l, 80, 9, 3, 0, false, 0);
    CHECK(l.too_small);
    layout_compute(&l, 40, 10, 3, 0, false, 0);
    CHECK(!l.too_small);
    CHECK(row_span_ok(&l));
    CHECK(table_width(&l) <= 40);
}

TEST(layout_every_size_is_consistent)
{
    layout_t l;
    for (unsigned content = 0; content <= (LAYOUT_RAW | LAYOUT_OPEN); content++)
        for (int cols = 40; cols <= 240; cols += 7)
            for (int rows = 10; rows <= 80; rows += 3)
                for (size_t n = 1; n <= 30; n += 9) {
                    layout_compute(&l, cols, rows, n, n / 2, true, content);
                    if (!row_span_ok(&l) || table_width(&l) > cols || l.entry_rows < 1 ||
                        (!(content & LAYOUT_RAW) && (l.show[COL_RAW_P95] || l.show[COL_RAW_P99]))) {
                        printf("#   bad layout at %dx%d with %zu endpoints, content %u\n", cols, rows, n,
                               content);
                        CHECK(0);
                        return;
                    }
                }
}

TEST(layout_dual_keeps_the_p99_pair_at_80)
{
    layout_t l;
    layout_compute(&l, 120, 40, 3, 0, false, LAYOUT_RAW);
    CHECK(l.show[COL_P95] && l.show[COL_P99] && l.show[COL_RAW_P95] && l.show[COL_RAW_P99]);
    CHECK(table_width(&l) <= 120);
    layout_compute(&l, 80, 24, 3, 0, false, LAYOUT_RAW);
    CHECK(l.show[COL_P99] && l.show[COL_RAW_P99] && l.show[COL_P95] && l.show[COL_MED]);
    CHECK(l.show[COL_RPS] && l.show[COL_REQS] && l.show[COL_FAILS]);
    CHECK(!l.show[COL_SIZE] && !l.show[COL_MIN] && !l.show[COL_MAX] && !l.show[COL_RAW_P95]);
    CHECK(l.width[COL_NAME] >= LAYOUT_NAME_MIN);
    CHECK(table_width(&l) <= 80);
    /* Narrower: the pair stays longest, then the raw p99 goes before the
     * corrected one, the median last. */
    layout_compute(&l, 58, 24, 3, 0, false, LAYOUT_RAW);
    CHECK(l.show[COL_P99] && l.show[COL_RAW_P99] && l.show[COL_MED] && !l.show[COL_RPS]);
    layout_compute(&l, 50, 24, 3, 0, false, LAYOUT_RAW);
    CHECK(l.show[COL_P99] && !l.show[COL_RAW_P99] && l.show[COL_MED]);
    CHECK(table_width(&l) <= 50);
    layout_compute(&l, 40, 24, 3, 0, false, LAYOUT_RAW);
    CHECK(!l.show[COL_P99] && l.show[COL_MED]);
}

TEST(layout_open_model_has_the_arrivals_chart)
{
    layout_t l;
    layout_compute(&l, 80, 24, 3, 0, false, LAYOUT_OPEN);
    CHECK_INT(l.sparks, SPARKS_FULL);
    CHECK_INT(l.n_charts, LAYOUT_CHARTS_OPEN);
    CHECK(row_span_ok(&l));
    layout_compute(&l, 80, 20, 3, 0, false, LAYOUT_OPEN);
    CHECK_INT(l.sparks, SPARKS_COMPACT);
    CHECK(l.spark_lines >= SPARKS_COMPACT_LINES + SPARKS_OPEN_EXTRA_COMPACT);
    CHECK_INT(l.spark_row + l.spark_lines, l.keybar_row);     /* the strips take the rest */
    CHECK(row_span_ok(&l));
    layout_compute(&l, 80, 24, 3, 0, false, 0);
    CHECK_INT(l.n_charts, LAYOUT_CHARTS);
}

/* The lines of the charts, each at least title + axis + the minimum plot,
 * adding up to the region. */
static int charts_ok(const layout_t *l)
{
    int sum = 0;
    for (int i = 0; i < l->n_charts; i++) {
        if (l->chart_lines[i] < LAYOUT_CHART_CHROME + LAYOUT_CHART_MIN_PLOT)
            return 0;
        sum += l->chart_lines[i];
    }
    return sum == l->spark_lines;
}

TEST(layout_charts_take_the_rows_the_table_leaves)
{
    layout_t l;
    /* 120x40, 3 endpoints: status, header, 3 rows, Aggregated, the charts,
     * the key bar: every row used, each chart several rows tall. */
    layout_compute(&l, 120, 40, 3, 0, false, 0);
    CHECK_INT(l.sparks, SPARKS_FULL);
    CHECK_INT(l.n_charts, 3);
    CHECK_INT(l.spark_row, l.aggregated_row + 1);
    CHECK_INT(l.spark_row + l.spark_lines, l.keybar_row);
    CHECK(charts_ok(&l));
    for (int i = 0; i < 3; i++)
        CHECK(l.chart_lines[i] >= 10);
    /* Taller screens, taller charts; 24 rows, short ones; fewer, one-line
     * sparklines (as before). */
    int h40 = l.chart_lines[0];
    layout_compute(&l, 160, 50, 3, 0, false, 0);
    CHECK(l.chart_lines[0] > h40);
    CHECK_INT(l.spark_row + l.spark_lines, l.keybar_row);
    layout_compute(&l, 80, 24, 3, 0, false, 0);
    CHECK_INT(l.sparks, SPARKS_FULL);
    CHECK(l.chart_lines[0] < h40 && charts_ok(&l));
    CHECK_INT(l.spark_row + l.spark_lines, l.keybar_row);
    layout_compute(&l, 80, 23, 3, 0, false, 0);
    CHECK_INT(l.sparks, SPARKS_COMPACT);
    CHECK(l.spark_lines >= SPARKS_COMPACT_LINES);
    /* The compact sizes waste no row either: the strips grow taller, with
     * or without a failures panel under them. */
    CHECK_INT(l.spark_row + l.spark_lines, l.keybar_row);
    layout_compute(&l, 60, 20, 3, 0, false, 0);
    CHECK_INT(l.sparks, SPARKS_COMPACT);
    CHECK_INT(l.spark_row + l.spark_lines, l.keybar_row);
    layout_compute(&l, 60, 20, 3, 2, true, 0);
    CHECK_INT(l.sparks, SPARKS_COMPACT);
    CHECK(l.fail_row > 0 && l.fail_rows == 2);
    CHECK_INT(l.fail_row + l.fail_rows + 1, l.keybar_row);
    layout_compute(&l, 80, 10, 3, 0, false, 0);
    CHECK_INT(l.sparks, SPARKS_NONE);
    /* Checks take a line under the table; a failures panel its rows under
     * the charts; still nothing wasted. */
    layout_compute(&l, 120, 40, 3, 4, true, LAYOUT_CHECKS);
    CHECK_INT(l.note_row, l.aggregated_row + 1);
    CHECK_INT(l.spark_row, l.aggregated_row + 2);
    CHECK_INT(l.fail_row, l.spark_row + l.spark_lines);
    CHECK_INT(l.fail_row + l.fail_rows + 1, l.keybar_row);
    CHECK_INT(l.fail_rows, 4);
    CHECK(charts_ok(&l));
    /* Many endpoints: the charts keep a readable height, the table scrolls
     * and says where it is on the note line. */
    layout_compute(&l, 120, 40, 200, 0, false, 0);
    CHECK(l.chart_lines[0] >= LAYOUT_CHART_CHROME + LAYOUT_CHART_PREF_PLOT);
    CHECK(l.note_row > 0 && l.entry_rows > 3);
    CHECK_INT(l.spark_row + l.spark_lines, l.keybar_row);
    CHECK(charts_ok(&l));
    /* Every size: the charts' lines add up. */
    for (unsigned content = 0; content <= (LAYOUT_RAW | LAYOUT_OPEN | LAYOUT_CHECKS); content++)
        for (int rows = 24; rows <= 80; rows += 5)
            for (size_t n = 1; n <= 40; n += 13) {
                layout_compute(&l, 100, rows, n, n / 3, n > 10, content);
                if (l.sparks == SPARKS_FULL && (!charts_ok(&l) || !row_span_ok(&l))) {
                    printf("#   bad charts at 100x%d, %zu endpoints, content %u\n", rows, n, content);
                    CHECK(0);
                    return;
                }
            }
}

/* ---- whole screens ---------------------------------------------------------- */

typedef struct {
    snap_t s;
    snap_entry_t entries[2];
    snap_sample_t recent[90];
    snap_event_t events[4];
    snap_stage_t stages[4];
} scene_t;

static void entry(snap_entry_t *e, const char *method, const char *name, uint64_t reqs, uint64_t p99_us,
                  uint64_t raw_p99_us)
{
    e->method = method;
    e->name = name;
    e->requests = reqs;
    e->min_us = e->raw_min_us = 800;
    e->max_us = p99_us + 1000;
    e->raw_max_us = raw_p99_us + 1000;
    e->avg_us = e->raw_avg_us = 3000;
    for (int i = 0; i < SNAP_NPCT; i++) {
        e->pct_us[i] = 2000 + (p99_us - 2000) * (uint64_t)i / (SNAP_NPCT - 1);
        e->raw_pct_us[i] = 2000 + (raw_p99_us - 2000) * (uint64_t)i / (SNAP_NPCT - 1);
    }
    e->pct_us[SNAP_P95] = p99_us / 2;
    e->raw_pct_us[SNAP_P95] = raw_p99_us / 2;
    e->pct_us[SNAP_P99] = p99_us;
    e->raw_pct_us[SNAP_P99] = raw_p99_us;
    e->content_bytes = reqs * 100;
    e->cur_rps = 48.7;
}

/* An open-model run with four stages in the second one, with manual control
 * taken, dropping arrivals, with corrected and raw latencies (dual) and a
 * schedule lag past the highlight; closed() turns it back into Locust's
 * model with one latency and no stages. */
static void scene_open(scene_t *sc)
{
    memset(sc, 0, sizeof *sc);
    snap_t *s = &sc->s;
    s->host = "http://127.0.0.1:8089";
    s->state = RUN_RUNNING;
    s->elapsed_ms = 70000;
    s->run_time_ms = 400000;
    s->users = 12;
    s->target_users = 12;
    s->spawn_rate = 5;
    s->open = true;
    s->arrival_rate = 50;
    s->cur_arrival_rate = 48.7;
    s->max_users = 200;
    s->pool_users = 20;
    s->arrivals = 3400;
    s->dropped = 120;
    s->cur_drop_rate = 3;
    sc->stages[0] = (snap_stage_t){.dur_us = 30000000, .from = 0, .to = 50, .from_set = true};
    sc->stages[1] = (snap_stage_t){.dur_us = 300000000, .from = 50, .to = 50};
    sc->stages[2] = (snap_stage_t){.dur_us = 60000000, .from = 50, .to = 200};
    sc->stages[3] = (snap_stage_t){.dur_us = 30000000, .from = 200, .to = 0};
    s->stages = sc->stages;
    s->n_stages = 4;
    s->stage = 1;
    s->stage_left_ms = 191200;      /* 3m11.2s: shown rounded up, 3m12s */
    s->manual = true;
    s->dual = true;
    s->lag_count = 3400;
    s->lag_pct_us[SNAP_P99] = 150000;     /* hopper itself far behind: past a tenth of the p99 */
    s->lag_max_us = 400000;
    entry(&sc->entries[0], "GET", "/status", 2000, 1230000, 9100);
    entry(&sc->entries[1], "GET", "/api/title/The godfather/1972", 1400, 1250000, 9900);
    entry(&s->total, "", "Aggregated", 3400, 1240000, 9500);
    s->entries = sc->entries;
    s->n_entries = 2;
    for (size_t i = 0; i < 60; i++) {
        snap_sample_t *x = &sc->recent[i];
        x->t = (uint32_t)(11 + i);
        x->span = 1;
        x->users = 12;
        x->p50_us = 3000;
        x->p95_us = 600000;
        x->p95_raw_us = 8000;
        x->lag_p99_us = 300;
        x->rps = 48;
        x->arrivals = 48;
        x->dropped = i % 10 == 0 ? 3 : 0;
    }
    s->recent = sc->recent;
    s->n_recent = 60;
    sc->events[0] = (snap_event_t){30000, EVENT_STAGE, 2};
    sc->events[1] = (snap_event_t){50000, EVENT_ARRIVAL_RATE, 50};
    s->events = sc->events;
    s->n_events = 2;
}

static void closed(scene_t *sc)
{
    snap_t *s = &sc->s;
    s->open = false;
    s->dual = false;
    s->n_stages = 0;
    s->manual = false;
    s->target_users = 20;
    sc->events[1].kind = EVENT_TARGET_USERS;
}

/* screen_open, screen_close, screen_term: screen.h */

/* Draws sc at cols x rows with keys pressed first (a string of them). */
static int draw_at(scene_t *sc, dash_t *d, int cols, int rows, const char *keys)
{
    if (screen_open(cols, rows, false) != 0)
        return -1;
    dash_init(d, &screen_term, NULL);
    dash_draw(d, &sc->s, NULL, 0);          /* a first draw sets the layout the keys see */
    for (const char *k = keys; k && *k; k++)
        dash_key(d, (unsigned char)*k, &sc->s);
    dash_draw(d, &sc->s, NULL, 0);
    return 0;
}

static const char *line_at(int y, char *buf, size_t len)
{
    buf[0] = '\0';
    if (y >= 0 && y < LINES && (size_t)COLS < len)
        mvinnstr(y, 0, buf, COLS);
    return buf;
}

/* The row where text is on the screen, or -1; *x gets its column. */
static int find(const char *text, int *x)
{
    char buf[512];
    for (int y = 0; y < LINES; y++) {
        const char *p = strstr(line_at(y, buf, sizeof buf), text);
        if (p) {
            if (x)
                *x = (int)(p - buf);
            return y;
        }
    }
    return -1;
}

static int attr_at(int y, int x)
{
    return (int)(mvinch(y, x) & A_ATTRIBUTES);
}

#define CHECK_SHOWN(text)                                                         \
    do {                                                                          \
        if (find(text, NULL) < 0) {                                               \
            printf("#   %s:%d: '%s' is not on the %dx%d screen:\n", __FILE__,     \
                   __LINE__, text, COLS, LINES);                                  \
            dump();                                                               \
            check_failed_in_test = 1;                                             \
        }                                                                         \
    } while (0)

#define CHECK_NOT_SHOWN(text)                                                     \
    do {                                                                          \
        if (find(text, NULL) >= 0) {                                              \
            printf("#   %s:%d: '%s' is on the %dx%d screen\n", __FILE__, __LINE__, \
                   text, COLS, LINES);                                            \
            check_failed_in_test = 1;                                             \
        }                                                                         \
    } while (0)

static void dump(void)
{
    char buf[512];
    for (int y = 0; y < LINES; y++)
        printf("#   |%s|\n", line_at(y, buf, sizeof buf));
}

TEST(open_dual_staged_at_120x40)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    char line[512];
    line_at(0, line, sizeof line);
    /* The status line: arrivals achieved/target, drops, the pool, the stage
     * with manual control, the schedule lag. */
    CHECK_SHOWN(" hopper ");
    CHECK(strstr(line, "arrivals 48.7/50/s") != NULL);
    CHECK(strstr(line, "dropped 120 (3.0/s)") != NULL);
    CHECK(strstr(line, "stage 2/4 - 3m12s left") != NULL);
    CHECK(strstr(line, " manual") != NULL);
    CHECK(strstr(line, "lag p99 150ms") != NULL);
    CHECK(strstr(line, "users 12/") == NULL);           /* not the closed model's users */
    CHECK(strstr(line, "rate 5/s") == NULL);            /* nor its spawn rate */
    if (strstr(line, "dropped") == NULL || strstr(line, "lag p99") == NULL)
        dump();
    /* Highlights: drops and the late schedule in the failure role, manual in
     * the highlight role, the rest in the status line's. */
    int x = 0;
    int y = find("dropped 120", &x);
    CHECK_INT(attr_at(y, x), A_BOLD);
    y = find("lag p99 150ms", &x);
    CHECK_INT(attr_at(y, x), A_BOLD);
    y = find(" manual", &x);
    CHECK_INT(attr_at(y, x + 1), A_UNDERLINE);
    y = find("arrivals 48", &x);
    CHECK_INT(attr_at(y, x), A_REVERSE);
    /* The table: corrected columns, raw ones beside them, and a header
     * that says which is which. */
    CHECK_SHOWN("Name (corrected)");
    CHECK_SHOWN("raw p95");
    CHECK_SHOWN("raw p99");
    y = find("Aggregated", NULL);
    line_at(y, line, sizeof line);
    CHECK(strstr(line, "1.24s") != NULL);             /* corrected p99 */
    CHECK(strstr(line, "9.5ms") != NULL);             /* raw p99 */
    /* The charts: corrected and raw p95, arrivals with drops, the pool. */
    CHECK_SHOWN("response time p95 corrected 600ms");
    CHECK_SHOWN("raw 8.0ms");
    CHECK_SHOWN("arrivals/s 48.0");
    CHECK_SHOWN("dropped/s 0.0");
    CHECK_SHOWN("lag p99 300us");
    CHECK_SHOWN("users busy 12");
    CHECK_SHOWN("pool 20/200");
    CHECK_SHOWN("q stop  +/- arrival rate");
    /* The marks of the stage and of the key on the time axis under each
     * chart, at 30 s and 50 s into the run (the whole run: 0 to 70 s). */
    line_at(d.layout.keybar_row - 1, line, sizeof line);
    char *corner = strstr(line, "0 +");
    CHECK(corner != NULL);
    if (corner) {
        int px = (int)(corner - line) + 3, w = COLS - px;
        CHECK(line[px + chart_column(30, 0, 70, w)] == '|');
        CHECK(line[px + chart_column(50, 0, 70, w)] == 'A');
        CHECK(strncmp(corner + 2, "+0s", 3) == 0);
        if (line[px + chart_column(50, 0, 70, w)] != 'A')
            dump();
    }
    /* Several rows tall, with a scale with units. */
    CHECK_SHOWN("    50/s +");
    CHECK_SHOWN("   500ms +");
    CHECK_SHOWN("10 users +");
    CHECK_SHOWN("whole run (t)");
    screen_close();

    /* The target as plan/stages.h writes it, short: a rate mid-ramp cut to
     * 3 digits; one per minute says that the achieved one is per second. */
    static const struct { double rate; const char *want; } targets[] = {
        {123.456789, "arrivals 48.7/123/s |"}, {20.0 / 60, "arrivals 48.7/s of 20/m |"}};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        sc.s.arrival_rate = targets[i].rate;
        if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
            CHECK(0);
            return;
        }
        line_at(0, line, sizeof line);
        CHECK(strstr(line, targets[i].want) != NULL);
        if (strstr(line, targets[i].want) == NULL)
            dump();
        screen_close();
    }
}

TEST(open_dual_staged_at_80x24)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    if (draw_at(&sc, &d, 80, 24, NULL) != 0) {
        CHECK(0);
        return;
    }
    char line[512];
    line_at(0, line, sizeof line);
    /* What must not be missed stays; whole fields go, none is cut. */
    CHECK(strstr(line, "arrivals 48.7/50/s") != NULL);
    CHECK(strstr(line, "dropped 120 (3.0/s)") != NULL);
    CHECK(strstr(line, " manual") != NULL);
    CHECK(strstr(line, "stage 2/4 - 3m12s left") != NULL);
    CHECK(line[79] == ' ');
    /* The table keeps the corrected p95 and p99 and the raw p99. */
    int y = find("Aggregated", NULL);
    CHECK(y > 0);
    CHECK_SHOWN("raw p99");
    CHECK_NOT_SHOWN("raw p95");
    CHECK_NOT_SHOWN(" Size");
    line_at(y, line, sizeof line);
    CHECK(strstr(line, "1.24s") != NULL && strstr(line, "9.5ms") != NULL);
    CHECK_SHOWN("arrivals/s");
    CHECK_SHOWN("response time p95 corrected");
    screen_close();
}

TEST(closed_run_looks_as_before)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    closed(&sc);
    if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    char line[512];
    line_at(0, line, sizeof line);
    CHECK(strstr(line, " hopper  http://127.0.0.1:8089 | running | users 12/20 | rate 5/s | ") == line);
    CHECK(strstr(line, "arrivals") == NULL && strstr(line, "dropped") == NULL);
    CHECK(strstr(line, "stage") == NULL && strstr(line, "lag") == NULL);
    CHECK_NOT_SHOWN("raw p9");
    CHECK_NOT_SHOWN("arrivals/s");
    CHECK_NOT_SHOWN("(times");
    CHECK_SHOWN(" Size");
    CHECK_SHOWN("response time p95 600ms");
    CHECK_SHOWN("users 12/20");
    CHECK_SHOWN("q stop  w/W s/S users");
    /* The Aggregated row shows the one latency (its p99 field). */
    line_at(find("Aggregated", NULL), line, sizeof line);
    CHECK(strstr(line, "1.24s") != NULL && strstr(line, "9.5ms") == NULL);
    screen_close();

    /* Stages in users: the stage and manual control show in the closed model too. */
    sc.s.n_stages = 4;
    sc.s.stage = 3;
    sc.s.stage_left_ms = 5000;
    sc.s.manual = true;
    if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK_SHOWN("stage 4/4 - 5s left manual");
    screen_close();
    sc.s.stage = 4;
    sc.s.manual = false;
    if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK_SHOWN("stages done");
    screen_close();
}

TEST(quiet_open_run_highlights_nothing)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    sc.s.dropped = 0;
    sc.s.cur_drop_rate = 0;
    sc.s.manual = false;
    sc.s.lag_pct_us[SNAP_P99] = 400;
    /* At 120 columns a quiet run has room for the pool on the status line. */
    if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    char line[512];
    line_at(0, line, sizeof line);
    CHECK(strstr(line, "arrivals 48.7/50/s | dropped 0 | pool 12 busy/20 (max 200) | stage 2/4 - 3m12s left |"));
    screen_close();
    /* Wide enough for every field: none highlighted. */
    if (draw_at(&sc, &d, 240, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    int x = 0, y;
    y = find("dropped 0", &x);
    CHECK(y == 0 && attr_at(y, x) == A_REVERSE);
    y = find("lag p99 400us", &x);
    CHECK(y == 0 && attr_at(y, x) == A_REVERSE);
    CHECK_NOT_SHOWN(" manual");
    CHECK_SHOWN("Name (times from the intended start; raw: from the send)");
    if (y != 0)
        dump();
    screen_close();
    /* The lag highlight begins at SNAP_LAG_HIGH_US when that is a tenth of
     * the corrected p99 too, not below either (snap_lag_high). */
    static const struct { uint64_t lag, p99; const char *text; int attr; } cases[] = {
        {SNAP_LAG_HIGH_US, 100000, "lag p99 10", A_BOLD},
        {9000, 50000, "lag p99 9.0ms", A_REVERSE},
        {20000, 300000, "lag p99 20", A_REVERSE},        /* noise next to a 300 ms p99 */
        {30000, 300000, "lag p99 30", A_BOLD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc.s.lag_pct_us[SNAP_P99] = cases[i].lag;
        sc.s.total.pct_us[SNAP_P99] = cases[i].p99;
        if (draw_at(&sc, &d, 240, 40, NULL) != 0) {
            CHECK(0);
            return;
        }
        y = find(cases[i].text, &x);
        if (y != 0 || attr_at(y, x) != cases[i].attr) {
            printf("#   lag %llu us with a p99 of %llu us: row %d, attribute %d, expected %d\n",
                   (unsigned long long)cases[i].lag, (unsigned long long)cases[i].p99, y,
                   y == 0 ? attr_at(y, x) : -1, cases[i].attr);
            CHECK(0);
        }
        screen_close();
    }
}

TEST(status_line_drops_whole_fields_at_every_width)
{
    scene_t sc;
    dash_t d;
    static const char *const fields[] = {
        "hopper", "http://127.0.0.1:8089", "running", "arrivals 48.7/50/s", "dropped 120 (3.0/s)",
        "pool 12 busy/20 (max 200)", "stage 2/4 - 3m12s left manual", "lag p99 150ms",
        "users 12/20", "rate 5/s", "01:10, 05:30 left", "3.4k reqs", "48.7 req/s", "0.00% fail",
        "cpu 0%",
    };
    for (int model = 0; model < 2; model++)
        for (int cols = 40; cols <= 240; cols += 3) {
            scene_open(&sc);
            if (model)
                closed(&sc);
            if (draw_at(&sc, &d, cols, 24, NULL) != 0) {
                CHECK(0);
                return;
            }
            char line[512];
            line_at(0, line, sizeof line);
            /* The left part never reaches the edge (it ends with a space),
             * and what is left of it is made of whole fields. */
            int width = 0;
            for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
                if (strstr(line, fields[i]))
                    for (const char *p = fields[i]; *p; p++)
                        width += *p != ' ' && *p != '|';
            bool ok = line[cols - 1] == ' ';
            /* Everything that is not a field is separators and padding. */
            for (char *p = line; *p; p++)
                if (*p != ' ' && *p != '|')
                    width--;
            if (!ok || width != 0 || strstr(line, model ? "users 12/20" : "arrivals 48.7/50/s") == NULL) {
                printf("#   status line at %d columns (%d left over): |%s|\n", cols, width, line);
                check_failed_in_test = 1;
                screen_close();
                return;
            }
            screen_close();
        }
}

/* The status line drops strictly by priority: never a less important
 * field kept while a more important one went (e.g. "cpu" kept and "fail"
 * dropped). The priorities are status_fields's. */
TEST(status_line_drops_by_priority)
{
    scene_t sc;
    dash_t d;
    static const struct { const char *text; int prio; } open_f[] = {
        {"hopper", 3}, {"http://127.0.0.1:8089", 4}, {"running", 2}, {"arrivals 48.7/50/s", 0},
        {"dropped 120 (3.0/s)", 1}, {"pool 12 busy/20 (max 200)", 3}, {"stage 2/4", 1},
        {"lag p99 150ms", 2}, {"01:10, 05:30 left", 3}, {"3.4k reqs", 6}, {"48.7 req/s", 5},
        {"9.62% fail", 3}, {"cpu 0%", 5},
    }, closed_f[] = {
        {"hopper", 3}, {"http://127.0.0.1:8089", 4}, {"running", 2}, {"users 12/20", 0},
        {"rate 5/s", 4}, {"01:10, 05:30 left", 3}, {"3.4k reqs", 6}, {"48.7 req/s", 5},
        {"9.62% fail", 3}, {"cpu 0%", 5},
    };
    for (int model = 0; model < 2; model++)
        for (int cols = 40; cols <= 240; cols++) {
            scene_open(&sc);
            if (model)
                closed(&sc);
            sc.s.total.failures = 327;      /* 9.62% of 3400 */
            if (draw_at(&sc, &d, cols, 24, NULL) != 0) {
                CHECK(0);
                return;
            }
            char line[512];
            line_at(0, line, sizeof line);
            const __typeof__(open_f[0]) *f = model ? closed_f : open_f;
            size_t n = model ? sizeof closed_f / sizeof closed_f[0] : sizeof open_f / sizeof open_f[0];
            int kept_max = -1, dropped_min = 99;
            for (size_t i = 0; i < n; i++) {
                bool kept = strstr(line, f[i].text) != NULL;
                if (kept && f[i].prio > kept_max)
                    kept_max = f[i].prio;
                if (!kept && f[i].prio < dropped_min)
                    dropped_min = f[i].prio;
            }
            screen_close();
            if (kept_max > dropped_min) {
                printf("#   %d columns: a field of prio %d kept, one of %d dropped: |%s|\n", cols, kept_max,
                       dropped_min, line);
                CHECK(0);
                return;
            }
        }
}

/* The compact sizes: the strips take the rows the table leaves, taller
 * than one line, none blank (60x20: 2 endpoints leave 13 rows to 3 strips:
 * 5, 4 and 4). */
TEST(compact_strips_take_the_rows)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    closed(&sc);
    if (draw_at(&sc, &d, 60, 20, NULL) != 0) {
        CHECK(0);
        return;
    }
    const layout_t *l = &d.layout;
    int blank = 0;
    char line[512];
    for (int y = l->spark_row; y < l->keybar_row; y++) {
        line_at(y, line, sizeof line);
        bool any = false;
        for (char *p = line; *p; p++)
            any |= *p != ' ';
        blank += !any;
    }
    int yu = find("users 12 ", NULL), yp = find("p95 600ms", NULL);
    bool ok = l->sparks == SPARKS_COMPACT && blank == 0 && l->spark_row + l->spark_lines == l->keybar_row &&
              yp - find("req/s 48", NULL) == 5 && yu - yp == 4 && l->keybar_row - yu == 4;
    /* The users strip: 12 of 12 fills its four rows. */
    for (int y = yu; y < yu + 4; y++)
        ok = ok && (mvinch(y, 59) & A_CHARTEXT) == '#';
    if (!ok)
        dump();
    CHECK(ok);
    screen_close();
}

/* The whole-run zoom draws the compacted history, but the titles' latest
 * values are the last second's (the recent series), not a compacted
 * sample's average over many. */
TEST(chart_titles_show_the_last_second)
{
    scene_t sc;
    dash_t d;
    static snap_sample_t hist[7];
    scene_open(&sc);
    closed(&sc);
    memset(hist, 0, sizeof hist);
    for (int i = 0; i < 7; i++) {
        hist[i].t = (uint32_t)(10 * (i + 1));
        hist[i].span = 10;
        hist[i].rps = 10;           /* averaged: not the last second's 48 */
        hist[i].users = 3;
        hist[i].p95_us = 1000;
    }
    sc.s.history = hist;
    sc.s.n_history = 7;
    if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK_SHOWN("whole run (t)");
    CHECK_SHOWN("requests/s 48.0 ");
    CHECK_SHOWN("response time p95 600ms ");
    CHECK_SHOWN("users 12 ");
    CHECK_NOT_SHOWN("requests/s 10.0");
    screen_close();
}

/* The charts' columns are those of the label width drawn: a second pass
 * that changes the width again (here 70 -> 10 -> 9: a one-second trickle
 * averaged over wide columns is below 0.001/s, over narrow ones not) fills
 * them once more. Columns left from before (poisoned here) must not show. */
TEST(chart_columns_follow_the_label_width)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    closed(&sc);
    for (int i = 0; i < 60; i++) {
        snap_sample_t *x = &sc.recent[i];
        x->t = (uint32_t)(i + 1);
        x->users = 1;
        x->p50_us = x->p95_us = 0;
        x->rps = i + 1 == 20 ? 0.0009765625f : 0;   /* 2^-10: exact in a float */
        x->fps = 0;
    }
    if (screen_open(120, 40, false) != 0) {
        CHECK(0);
        return;
    }
    dash_init(&d, &screen_term, NULL);
    d.chart_label_w = 70;
    for (int c = 0; c < LAYOUT_MAX_CHARTS; c++)
        for (int k = 0; k < CHART_SERIES; k++)
            for (int x = 0; x < CHART_MAX_COLS; x++)
                d.chart_buf[c].col[k][x] = 1e9;
    dash_draw(&d, &sc.s, NULL, 0);
    int y = find("requests/s ", NULL);
    CHECK(y > 0);
    CHECK_INT(d.chart_label_w, 9);                 /* "0.0005/s" and a space */
    /* The last column (the 60th second: no requests) is blank. */
    bool ok = y > 0;
    for (int r = y + 1; ok && r < y + d.layout.chart_lines[0] - 1; r++)
        ok = (mvinch(r, 119) & A_CHARTEXT) == ' ' || (mvinch(r, 119) & A_CHARTEXT) == '-';
    if (!ok)
        dump();
    CHECK(ok);
    screen_close();
}

TEST(help_fits_each_model)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    if (draw_at(&sc, &d, 80, 24, "?") != 0) {
        CHECK(0);
        return;
    }
    CHECK_SHOWN("open model: arrivals");
    CHECK_SHOWN("arrival rate up / down: 1, 2, 5, 10, 20, 50...");
    CHECK_SHOWN("Marks: A arrival rate, | stage,");
    CHECK_SHOWN("late hopper sent what was due (highlighted past 1 ms)");   /* dual: all of it fits */
    screen_close();
    closed(&sc);
    if (draw_at(&sc, &d, 80, 24, "?") != 0) {
        CHECK(0);
        return;
    }
    CHECK_SHOWN("closed model: users");
    CHECK_SHOWN("spawn rate up / down (1-2-5 steps)");
    CHECK_SHOWN("Marks: U users, R rate, P pause, Z reset, S stop, | stage");
    CHECK_NOT_SHOWN("arrival rate");
    CHECK_NOT_SHOWN("raw p95 / raw p99");                 /* one latency */
    screen_close();
    /* The r prompt of the open model says what it takes. */
    scene_open(&sc);
    if (draw_at(&sc, &d, 80, 24, "r30") != 0) {
        CHECK(0);
        return;
    }
    CHECK_SHOWN("Arrival rate, e.g. 300 or 300/s (Enter applies, Esc cancels): 30_");
    screen_close();
}

/* Keys then a draw, on the screen draw_at opened. */
static void press(dash_t *d, scene_t *sc, int key)
{
    dash_key(d, key, &sc->s);
    dash_draw(d, &sc->s, NULL, 0);
}

TEST(rows_views_and_viewer_keys)
{
    scene_t sc;
    dash_t d;
    scene_open(&sc);
    closed(&sc);
    if (draw_at(&sc, &d, 120, 40, NULL) != 0) {
        CHECK(0);
        return;
    }
    /* Aggregated is selected at first: its row in reverse video. */
    int ya = find("Aggregated", NULL), yt = find("/api/title", NULL);
    CHECK(ya > 0 && yt > 0);
    CHECK((attr_at(ya, 0) & A_REVERSE) != 0);
    CHECK((attr_at(yt, 0) & A_REVERSE) == 0);
    /* Up: the last endpoint instead. */
    press(&d, &sc, KEY_UP);
    CHECK((attr_at(ya, 0) & A_REVERSE) == 0);
    CHECK((attr_at(yt, 0) & A_REVERSE) != 0);
    /* Enter: its view, its row under the header, its own charts. */
    press(&d, &sc, '\n');
    char line[512];
    line_at(2, line, sizeof line);
    CHECK(strstr(line, "GET    /api/title/The godfather/1972") == line);
    CHECK(strstr(line, "1.4k") != NULL);
    CHECK_NOT_SHOWN("/status");
    CHECK_SHOWN("requests/s ");
    CHECK_SHOWN("p99 ");
    CHECK_SHOWN("Esc back");
    /* t: the zoom, said on the charts. */
    press(&d, &sc, 't');
    CHECK_SHOWN("last 10m (t)");
    /* Esc: the main screen again, the selection kept. */
    d.flash[0] = '\0';
    press(&d, &sc, 27);
    CHECK_SHOWN("/status");
    CHECK((attr_at(yt, 0) & A_REVERSE) != 0);
    CHECK_SHOWN("q stop  w/W s/S users");
    /* X asks before stopping. */
    press(&d, &sc, 'X');
    CHECK_SHOWN("stop the test? (y/n)");
    press(&d, &sc, 'n');
    CHECK_NOT_SHOWN("stop the test? (y/n)");
    /* A viewer's key bar and help: q leaves, X stops. */
    d.attached = true;
    d.flash[0] = '\0';
    dash_draw(&d, &sc.s, NULL, 0);
    CHECK_SHOWN("q detach  X stop");
    press(&d, &sc, '?');
    CHECK_SHOWN("leave this viewer (the test goes on)");
    screen_close();
}

/* Enter at the compact sizes: panels that fit whole (no "too small", no
 * heading cut), the percentiles and the codes at least. */
TEST(drill_down_fits_compact_sizes)
{
    static const int sizes[][2] = {{120, 40}, {80, 24}, {60, 20}};
    static snap_error_t errs[2];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        scene_t sc;
        dash_t d;
        scene_open(&sc);
        closed(&sc);
        snap_entry_t *e = &sc.entries[1];
        e->codes[0].code = 200;
        e->codes[0].count = 1300;
        e->codes[1].code = 503;
        e->codes[1].count = 100;
        e->n_codes = 2;
        e->failures = 100;
        errs[0] = (snap_error_t){.method = "GET", .name = e->name, .error = "HTTP 503 Service Unavailable",
                                 .count = 90};
        errs[1] = (snap_error_t){.method = "GET", .name = e->name, .error = "timeout", .count = 10};
        sc.s.errors = errs;
        sc.s.n_errors = 2;
        int cols = sizes[k][0], rows = sizes[k][1];
        if (draw_at(&sc, &d, cols, rows, NULL) != 0) {
            CHECK(0);
            return;
        }
        press(&d, &sc, KEY_UP);
        press(&d, &sc, '\n');
        int before = check_failed_in_test;
        CHECK_NOT_SHOWN("too small");
        CHECK_NOT_SHOWN("too s");
        CHECK_SHOWN("requests  1400");
        CHECK_SHOWN("failures  100 (7.14%)");
        CHECK_SHOWN("errors (2 kinds)");
        CHECK_SHOWN(cols >= 80 ? "90  HTTP 503 Service Unavailable" : "90  HTTP 503 S");
        CHECK_SHOWN(" Unavailable");   /* whole, or shortened in its middle: never cut at the edge */
        int x, y = find("503 ", &x);
        char line[512];
        CHECK(y > 0 && strstr(line_at(y, line, sizeof line), "100") != NULL);
        if (cols >= 90)
            CHECK_SHOWN("latency distribution");   /* beside them */
        if (check_failed_in_test != before) {
            printf("#   at %dx%d:\n", cols, rows);
            dump();
        }
        screen_close();
    }
}

int main(void)
{
    check_prog = "dashboard";
    RUN(counts_fit_six_columns);
    RUN(rates);
    RUN(times_with_units);
    RUN(clock);
    RUN(spawn_rate_steps_are_1_2_5);
    RUN(middle_shortening);
    RUN(sparkline_scaling);
    RUN(layout_at_120x40_shows_everything);
    RUN(layout_at_80x24_drops_size_min_max_first);
    RUN(layout_narrow_and_short);
    RUN(layout_many_endpoints_scroll_and_aggregated_stays);
    RUN(layout_too_small);
    RUN(layout_every_size_is_consistent);
    RUN(layout_dual_keeps_the_p99_pair_at_80);
    RUN(layout_open_model_has_the_arrivals_chart);
    RUN(layout_charts_take_the_rows_the_table_leaves);
    RUN(open_dual_staged_at_120x40);
    RUN(open_dual_staged_at_80x24);
    RUN(closed_run_looks_as_before);
    RUN(quiet_open_run_highlights_nothing);
    RUN(status_line_drops_whole_fields_at_every_width);
    RUN(status_line_drops_by_priority);
    RUN(compact_strips_take_the_rows);
    RUN(chart_titles_show_the_last_second);
    RUN(chart_columns_follow_the_label_width);
    RUN(help_fits_each_model);
    RUN(rows_views_and_viewer_keys);
    RUN(drill_down_fits_compact_sizes);
    return check_done();
}

/* Unit tests for the charts' arithmetic (src/view/chart.c), without a
 * terminal: the zoom windows, samples merged into columns (rates averaged,
 * percentiles the worst), nice scale maxima, the eighths of stacked cells,
 * time columns, tick steps and their labels, the scale's labels with units;
 * then one chart drawn into ncurses' virtual screen (a vt100 writing to
 * /dev/null) and read back: its scale, gridline, axis labels and marks. */
#include "check.h"
#include "screen.h"
#include "view/chart.h"

#include <curses.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

static double v_rps(const void *x) { return ((const snap_sample_t *)x)->rps; }
static double v_p95(const void *x) { return (double)((const snap_sample_t *)x)->p95_us; }
static double pt_rps(const void *x) { return ((const snap_point_t *)x)->rps; }

static chart_src_t src_of(const snap_sample_t *a, size_t n, double (*f)(const void *))
{
    return (chart_src_t){a, n, sizeof *a, offsetof(snap_sample_t, t), offsetof(snap_sample_t, span), f};
}

TEST(windows)
{
    double t0, t1;
    /* The whole run: at least a minute, then the run so far. */
    chart_window(CHART_ZOOM_RUN, 10, &t0, &t1);
    CHECK(t0 == 0 && t1 == 60);
    chart_window(CHART_ZOOM_RUN, 3600, &t0, &t1);
    CHECK(t0 == 0 && t1 == 3600);
    /* The last minute / 10 minutes: from the start until they are full. */
    chart_window(CHART_ZOOM_1M, 30, &t0, &t1);
    CHECK(t0 == 0 && t1 == 60);
    chart_window(CHART_ZOOM_1M, 500, &t0, &t1);
    CHECK(t0 == 440 && t1 == 500);
    chart_window(CHART_ZOOM_10M, 700, &t0, &t1);
    CHECK(t0 == 100 && t1 == 700);
    chart_window(CHART_ZOOM_10M, -5, &t0, &t1);
    CHECK(t0 == 0 && t1 == 600);
    CHECK_STR(chart_zoom_name(CHART_ZOOM_RUN), "whole run");
    CHECK_STR(chart_zoom_name(CHART_ZOOM_1M), "last 1m");
}

TEST(bucketing_merges_rates_by_mean_and_percentiles_by_max)
{
    /* 8 one-second samples over 4 columns: two per column. */
    snap_sample_t a[8];
    memset(a, 0, sizeof a);
    for (int i = 0; i < 8; i++) {
        a[i].t = (uint32_t)(i + 1);
        a[i].span = 1;
        a[i].rps = (float)(10 * (i + 1));
        a[i].p95_us = (uint64_t)(i % 2 ? 100 : 900);
    }
    double out[4];
    chart_src_t rps = src_of(a, 8, v_rps), p95 = src_of(a, 8, v_p95);
    chart_bucket(&rps, CHART_MEAN, 0, 8, 4, out);
    CHECK(out[0] == 15 && out[1] == 35 && out[2] == 55 && out[3] == 75);
    chart_bucket(&p95, CHART_MAX, 0, 8, 4, out);
    for (int c = 0; c < 4; c++)
        CHECK(out[c] == 900);
    /* A short run over many columns: each second fills the columns it
     * covers, and columns past the data are empty (NAN). */
    double wide[16];
    chart_bucket(&rps, CHART_MEAN, 0, 16, 16, wide);
    CHECK(wide[0] == 10 && wide[7] == 80);
    CHECK(isnan(wide[8]) && isnan(wide[15]));
    chart_bucket(&rps, CHART_MEAN, 0, 4, 16, wide);        /* 4 columns a second */
    CHECK(wide[0] == 10 && wide[3] == 10 && wide[4] == 20 && wide[15] == 40);
    /* Compacted samples (span 4) weigh by the time they cover. */
    snap_sample_t b[2];
    memset(b, 0, sizeof b);
    b[0] = (snap_sample_t){.t = 4, .span = 4, .rps = 100};
    b[1] = (snap_sample_t){.t = 6, .span = 2, .rps = 40};
    chart_src_t rb = src_of(b, 2, v_rps);
    chart_bucket(&rb, CHART_MEAN, 0, 6, 1, out);
    CHECK(fabs(out[0] - 80) < 1e-9);
    /* A window that leaves samples out, and nothing at all. */
    chart_bucket(&rps, CHART_MEAN, 6, 8, 2, out);
    CHECK(out[0] == 70 && out[1] == 80);
    chart_bucket(&rps, CHART_MEAN, 100, 200, 2, out);
    CHECK(isnan(out[0]) && isnan(out[1]));
    chart_src_t none = src_of(a, 0, v_rps);
    chart_bucket(&none, CHART_MAX, 0, 8, 4, out);
    CHECK(isnan(out[0]) && isnan(out[3]));
    /* snap_point_t timelines work the same way. */
    snap_point_t p[2] = {{.t = 1, .span = 1, .rps = 3}, {.t = 2, .span = 1, .rps = 5}};
    chart_src_t ps = {p, 2, sizeof p[0], offsetof(snap_point_t, t), offsetof(snap_point_t, span), pt_rps};
    chart_bucket(&ps, CHART_MEAN, 0, 2, 1, out);
    CHECK(out[0] == 4);
    CHECK_INT((int)chart_src_t_end(&ps, 1), 2);
}

TEST(nice_maxima)
{
    CHECK(chart_nice_max(0, false) == 1);
    CHECK(chart_nice_max(-3, false) == 1);
    CHECK(chart_nice_max(1, false) == 1);
    CHECK(chart_nice_max(1.01, false) == 2);
    CHECK(chart_nice_max(3, false) == 4);
    CHECK(chart_nice_max(4.5, false) == 5);
    CHECK(chart_nice_max(48.7, false) == 50);
    CHECK(chart_nice_max(50, false) == 50);
    CHECK(chart_nice_max(51, false) == 100);
    CHECK(chart_nice_max(100, false) == 100);
    CHECK(chart_nice_max(1234, false) == 2000);
    CHECK(chart_nice_max(0.03, false) == 0.04);
    CHECK(chart_nice_max(600000, false) == 1000000);
    /* Counts: whole numbers, at least 2 (so that half of the scale is 1). */
    CHECK(chart_nice_max(0, true) == 2);
    CHECK(chart_nice_max(1, true) == 2);
    CHECK(chart_nice_max(5, true) == 6);
    CHECK(chart_nice_max(45, true) == 60);
    CHECK(chart_nice_max(12, true) == 20);
    /* Always at least the value, for any value. */
    for (double v = 0.001; v < 1e9; v *= 1.37)
        if (chart_nice_max(v, false) < v || chart_nice_max(v, false) > 2.5 * v) {
            printf("#   nice max of %g: %g\n", v, chart_nice_max(v, false));
            CHECK(0);
            break;
        }
}

TEST(eighths_stack_over_rows)
{
    /* 4 rows: 32 eighths in all. Half the scale fills two rows. */
    CHECK_INT(chart_eighths(50, 100, 4, 0), 8);
    CHECK_INT(chart_eighths(50, 100, 4, 1), 8);
    CHECK_INT(chart_eighths(50, 100, 4, 2), 0);
    /* 60%: 19.2 eighths -> 19: two full rows and 3 eighths of the third. */
    CHECK_INT(chart_eighths(60, 100, 4, 2), 3);
    CHECK_INT(chart_eighths(60, 100, 4, 3), 0);
    CHECK_INT(chart_eighths(100, 100, 4, 3), 8);
    CHECK_INT(chart_eighths(250, 100, 4, 3), 8);      /* clipped at the top */
    CHECK_INT(chart_eighths(0.001, 100, 4, 0), 1);    /* a trickle is not silence */
    CHECK_INT(chart_eighths(0, 100, 4, 0), 0);
    CHECK_INT(chart_eighths(NAN, 100, 4, 0), 0);
    CHECK_INT(chart_eighths(5, 0, 4, 0), 0);
}

TEST(columns_and_ticks)
{
    CHECK_INT(chart_column(0.5, 0, 60, 60), 0);
    CHECK_INT(chart_column(1, 0, 60, 60), 0);        /* the second ending at 1 */
    CHECK_INT(chart_column(1.01, 0, 60, 60), 1);
    CHECK_INT(chart_column(60, 0, 60, 60), 59);
    CHECK_INT(chart_column(0, 0, 60, 60), -1);
    CHECK_INT(chart_column(61, 0, 60, 60), -1);
    CHECK_INT(chart_column(30, 0, 60, 120), 59);
    /* Ticks at least 10 columns apart. */
    CHECK(chart_tick_step(60, 110, 10) == 10);       /* 1.8 columns a second */
    CHECK(chart_tick_step(60, 50, 10) == 15);
    CHECK(chart_tick_step(600, 110, 10) == 60);
    CHECK(chart_tick_step(3600, 110, 10) == 600);
    CHECK(chart_tick_step(86400 * 10, 100, 10) == 86400);
    CHECK(chart_tick_step(86400 * 40, 100, 10) >= 4 * 86400);
    char b[32];
    CHECK_STR(chart_elapsed(0, b, sizeof b), "0s");
    CHECK_STR(chart_elapsed(45, b, sizeof b), "45s");
    CHECK_STR(chart_elapsed(60, b, sizeof b), "1m");
    CHECK_STR(chart_elapsed(150, b, sizeof b), "2m30s");
    CHECK_STR(chart_elapsed(3600, b, sizeof b), "1h");
    CHECK_STR(chart_elapsed(5400, b, sizeof b), "1h30m");
    CHECK_STR(chart_elapsed(2 * 86400, b, sizeof b), "2d");
    CHECK_STR(chart_elapsed(86400 + 7200, b, sizeof b), "1d2h");
}

TEST(scale_labels_have_units)
{
    char b[32];
    CHECK_STR(chart_scale_label(50, CHART_RATE, true, b, sizeof b), "50/s");
    CHECK_STR(chart_scale_label(2.5, CHART_RATE, true, b, sizeof b), "2.5/s");
    CHECK_STR(chart_scale_label(2000, CHART_RATE, true, b, sizeof b), "2.0k/s");
    CHECK_STR(chart_scale_label(250000, CHART_TIME_US, true, b, sizeof b), "250ms");
    CHECK_STR(chart_scale_label(1500000, CHART_TIME_US, true, b, sizeof b), "1.5s");
    CHECK_STR(chart_scale_label(500, CHART_TIME_US, true, b, sizeof b), "500\xc2\xb5s");
    CHECK_STR(chart_scale_label(500, CHART_TIME_US, false, b, sizeof b), "500us");
    CHECK_STR(chart_scale_label(500, CHART_USERS, false, b, sizeof b), "500 users");
    CHECK_STR(chart_scale_label(1, CHART_USERS, false, b, sizeof b), "1 user");
}

/* ---- a chart on a screen ------------------------------------------------------ */

/* screen_open, screen_close: screen.h */

static const char *line_at(int y, char *buf, size_t len)
{
    buf[0] = '\0';
    if (y >= 0 && y < LINES && (size_t)COLS < len)
        mvinnstr(y, 0, buf, COLS);
    return buf;
}

static void dump(void)
{
    char buf[512];
    for (int y = 0; y < LINES; y++)
        printf("#   |%s|\n", line_at(y, buf, sizeof buf));
}

TEST(a_chart_on_screen)
{
    static snap_sample_t a[60];
    memset(a, 0, sizeof a);
    for (int i = 0; i < 60; i++) {
        a[i].t = (uint32_t)(i + 1);
        a[i].span = 1;
        a[i].rps = i < 30 ? 20 : 80;
    }
    snap_event_t ev[2] = {{30500, EVENT_TARGET_USERS, 10}, {10000, EVENT_STAGE, 2}};
    if (screen_open(80, 12, false) != 0) {
        printf("#   ncurses cannot start a vt100 on /dev/null\n");
        CHECK(0);
        return;
    }
    term_t t;
    memset(&t, 0, sizeof t);
    t.open = true;
    t.attrs[ROLE_FAIL] = A_BOLD;
    t.attrs[ROLE_DIM] = A_DIM;
    chart_t c;
    memset(&c, 0, sizeof c);
    c.series[0] = (chart_series_t){"requests/s", src_of(a, 60, v_rps), CHART_MEAN, A_NORMAL, false, {0}};
    c.series[1] = (chart_series_t){"failures/s", src_of(a, 60, v_rps), CHART_MEAN, A_BOLD, true, {0}};
    c.series[1].src.value = v_rps;
    c.n_series = 1;
    c.unit = CHART_RATE;
    chart_window(CHART_ZOOM_1M, 60, &c.t0, &c.t1);
    c.events = ev;
    c.n_events = 2;
    c.note = "last 1m (t)";
    static chart_buf_t buf;
    double max = chart_fill(&c, chart_plot_width(80, 6), &buf);
    CHECK(max == 100);                             /* 80/s at most */
    c.label_w = chart_label_width(&c, max, false);
    CHECK_INT(c.label_w, 6);                       /* "100/s" and a space */
    CHECK_INT(chart_plot_width(80, 6), 73);
    CHECK_INT(chart_plot_width(1000, 6), CHART_MAX_COLS);
    erase();
    chart_draw((view_rect_t){1, 0, 10, 80}, &c, &buf, max, &t);   /* rows 1..10: title, 8 rows, axis */
    char l[512];
    CHECK(strstr(line_at(1, l, sizeof l), "requests/s 80.0") == l);
    CHECK(strstr(l, "last 1m (t)") != NULL);
    /* The scale: 100/s at the top, 50/s at the gridline (half of 8 rows). */
    CHECK(strncmp(line_at(2, l, sizeof l), "100/s +", 7) == 0);
    CHECK(strncmp(line_at(6, l, sizeof l), " 50/s +", 7) == 0);
    CHECK(strncmp(line_at(9, l, sizeof l), "      |", 7) == 0);
    /* 80/s from the 31st second: 80% of 8 rows is 51 eighths: six full
     * rows, 3 eighths of the seventh (a low step), nothing above. */
    int w = 80 - 7;
    int col31 = 7 + chart_column(31, 0, 60, w);
    CHECK((mvinch(9, col31) & A_CHARTEXT) == '#');
    CHECK((mvinch(4, col31) & A_CHARTEXT) == '#');
    CHECK((mvinch(3, col31) & A_CHARTEXT) == '.');
    CHECK((mvinch(2, col31) & A_CHARTEXT) == ' ');
    /* 20/s before: 13 eighths: a row and a middle step; the gridline's
     * dashes above it. */
    CHECK((mvinch(9, 8) & A_CHARTEXT) == '#');
    CHECK((mvinch(8, 8) & A_CHARTEXT) == ':');
    CHECK((mvinch(6, 8) & A_CHARTEXT) == '-');
    /* The time axis: 0 at the corner, ticks labelled, the marks at 10 s and 30.5 s. */
    line_at(10, l, sizeof l);
    CHECK(strncmp(l, "    0 +0s", 9) == 0);
    CHECK(strstr(l, "20s") != NULL && strstr(l, "40s") != NULL);
    CHECK(strstr(l, "10s") == NULL && strstr(l, "30s") == NULL);   /* they give way to the marks */
    CHECK(l[7 + chart_column(10, 0, 60, w)] == '|');
    CHECK(l[7 + chart_column(30.5, 0, 60, w)] == 'U');
    if (strncmp(l, "    0 +0s", 9) != 0 || l[7 + chart_column(30.5, 0, 60, w)] != 'U')
        dump();
    /* Failures overlaid (here: every request failed): without colours,
     * their cells are '!' (in ASCII), in the failure's attribute. */
    c.n_series = 2;
    max = chart_fill(&c, chart_plot_width(80, 6), &buf);
    erase();
    chart_draw((view_rect_t){1, 0, 10, 80}, &c, &buf, max, &t);
    CHECK((mvinch(9, col31) & A_CHARTEXT) == '!');
    CHECK((mvinch(9, col31) & A_BOLD) != 0);
    screen_close();
}

static double v_fps(const void *x) { return ((const snap_sample_t *)x)->fps; }
static double v_p50(const void *x) { return (double)((const snap_sample_t *)x)->p50_us; }
static double v_p95_raw(const void *x) { return (double)((const snap_sample_t *)x)->p95_raw_us; }

/* The glyph and whether it has attribute a, at (y, x). */
static int glyph_at(int y, int x) { return (int)(mvinch(y, x) & A_CHARTEXT); }
static bool attr_at(int y, int x, int a) { return (mvinch(y, x) & (chtype)a) != 0; }

/* A failure rate of a few percent must show: 100/s with failures at 5% and
 * 10% on 8 rows (64 eighths) are 3 and 6 eighths of the bottom cell, drawn
 * in the failure's attribute (with colours: its own partial step; without:
 * the failure glyph), the requests above it in theirs. */
TEST(failures_show_at_a_few_percent)
{
    static snap_sample_t a[60];
    if (screen_open(80, 12, false) != 0) {
        CHECK(0);
        return;
    }
    term_t t;
    memset(&t, 0, sizeof t);
    t.open = true;
    t.attrs[ROLE_DIM] = A_DIM;
    const double fracs[] = {0.05, 0.10, 0.20};
    for (int mono = 0; mono < 2; mono++) {
        t.color = !mono;
        for (size_t f = 0; f < sizeof fracs / sizeof fracs[0]; f++) {
            memset(a, 0, sizeof a);
            for (int i = 0; i < 60; i++) {
                a[i].t = (uint32_t)(i + 1);
                a[i].span = 1;
                a[i].rps = 100;
                a[i].fps = (float)(100 * fracs[f]);
            }
            chart_t c;
            memset(&c, 0, sizeof c);
            c.series[0] = (chart_series_t){"requests/s", src_of(a, 60, v_rps), CHART_MEAN, A_NORMAL, false, {0}};
            c.series[1] = (chart_series_t){"failures/s", src_of(a, 60, v_fps), CHART_MEAN, A_UNDERLINE, true, {0}};
            c.n_series = 2;
            c.unit = CHART_RATE;
            chart_window(CHART_ZOOM_1M, 60, &c.t0, &c.t1);
            static chart_buf_t buf;
            double max = chart_fill(&c, chart_plot_width(80, 6), &buf);
            c.label_w = chart_label_width(&c, max, false);
            erase();
            chart_draw((view_rect_t){1, 0, 10, 80}, &c, &buf, max, &t);   /* plot rows 2..9 */
            int x = 7 + 30;
            bool ok;
            if (mono) {
                /* The failure glyph on every cell failures reach, '#' above. */
                int fail_rows = f == 2 ? 2 : 1;
                ok = glyph_at(9, x) == '!' && attr_at(9, x, A_UNDERLINE);
                ok = ok && (fail_rows < 2 || glyph_at(8, x) == '!');
                ok = ok && glyph_at(9 - fail_rows, x) == '#' && !attr_at(9 - fail_rows, x, A_UNDERLINE);
                /* The title says which glyph is which. */
                char l[512];
                ok = ok && strstr(line_at(1, l, sizeof l), "! failures/s") != NULL;
            } else {
                /* 3 eighths (a low step), 6 (a middle one), 13 (a row and 5). */
                int want9 = f == 0 ? '.' : f == 1 ? ':' : '#';
                ok = glyph_at(9, x) == want9 && attr_at(9, x, A_UNDERLINE);
                if (f == 2)
                    ok = ok && glyph_at(8, x) == ':' && attr_at(8, x, A_UNDERLINE) && glyph_at(7, x) == '#'
                         && !attr_at(7, x, A_UNDERLINE);
                else
                    ok = ok && glyph_at(8, x) == '#' && !attr_at(8, x, A_UNDERLINE);
            }
            if (!ok) {
                printf("#   %s, failures at %.0f%%:\n", mono ? "no colour" : "colour", 100 * fracs[f]);
                dump();
            }
            CHECK(ok);
        }
    }
    screen_close();
}

/* The percentile chart's inner series (raw and p50 under p95) read apart
 * without colours: each its own glyph. */
TEST(inner_series_read_apart_without_colours)
{
    static snap_sample_t a[60];
    memset(a, 0, sizeof a);
    for (int i = 0; i < 60; i++) {
        a[i].t = (uint32_t)(i + 1);
        a[i].span = 1;
        a[i].p95_us = 100000;      /* 100ms: the top */
        a[i].p95_raw_us = 50000;   /* half: 4 rows */
        a[i].p50_us = 20000;       /* a fifth: 12.8 eighths, 2 rows */
    }
    if (screen_open(80, 12, false) != 0) {
        CHECK(0);
        return;
    }
    term_t t;
    memset(&t, 0, sizeof t);
    t.open = true;
    chart_t c;
    memset(&c, 0, sizeof c);
    c.series[0] = (chart_series_t){"p95", src_of(a, 60, v_p95), CHART_MAX, A_DIM, false, {0}};
    c.series[1] = (chart_series_t){"raw", src_of(a, 60, v_p95_raw), CHART_MAX, A_NORMAL, false, {0}};
    c.series[2] = (chart_series_t){"p50", src_of(a, 60, v_p50), CHART_MAX, A_BOLD, false, {0}};
    c.n_series = 3;
    c.unit = CHART_TIME_US;
    chart_window(CHART_ZOOM_1M, 60, &c.t0, &c.t1);
    static chart_buf_t buf;
    double max = chart_fill(&c, chart_plot_width(80, 8), &buf);
    c.label_w = chart_label_width(&c, max, false);
    erase();
    chart_draw((view_rect_t){1, 0, 10, 80}, &c, &buf, max, &t);
    int x = c.label_w + 1 + 30;
    bool ok = glyph_at(9, x) == 'o' && glyph_at(8, x) == 'o'     /* p50: 2 rows */
              && glyph_at(7, x) == '=' && glyph_at(6, x) == '='  /* raw: up to half */
              && glyph_at(5, x) == '#' && glyph_at(2, x) == '#'; /* p95 to the top */
    char l[512];
    ok = ok && strstr(line_at(1, l, sizeof l), "= raw") && strstr(l, "o p50");
    if (!ok)
        dump();
    CHECK(ok);
    screen_close();
}

int main(void)
{
    check_prog = "chart";
    RUN(windows);
    RUN(bucketing_merges_rates_by_mean_and_percentiles_by_max);
    RUN(nice_maxima);
    RUN(eighths_stack_over_rows);
    RUN(columns_and_ticks);
    RUN(scale_labels_have_units);
    RUN(a_chart_on_screen);
    RUN(failures_show_at_a_few_percent);
    RUN(inner_series_read_apart_without_colours);
    return check_done();
}

/* chart: the dashboard's charts: several rows tall, with a y scale and a
 * time axis, drawn into a rectangle of the screen.
 *
 * A chart shows one to CHART_SERIES series of a timeline (snap_t.recent or
 * .history, a row's snap_point_t timelines) over a window of the run's time,
 * one screen column per slice of it. Samples are merged into columns the way
 * the history compacts them (history.h): rates averaged over the seconds
 * they cover, percentiles the worst of them. Bars are stacked block elements
 * with eighth steps (UTF-8) or an ASCII ramp; the first series is the
 * envelope and a later (smaller) one is drawn over it from the bottom at its
 * own eighth-step resolution in its colour (without colours: in a glyph of
 * its own over every cell it reaches), so requests/s with failures/s at 5%,
 * or p95 over p50, read in one chart.
 *
 * The rectangle's rows, top to bottom: a title line (each series' name and
 * its latest value), the plot (the scale's maximum labelled at its top row,
 * a dotted gridline at half of it, labelled), and the time axis: elapsed
 * time under its ticks (0s, 30s, 1m, 2m30s, 1h) and the operator's actions
 * and stage changes as their snap_event_mark letters, at their time.
 *
 * The arithmetic (windows, columns, scales, ticks) is pure and tested without
 * a terminal; chart_draw is the only part that writes to the screen. Nothing
 * here allocates: the caller lends a chart_buf_t per chart. */
#ifndef HOPPER_CHART_H
#define HOPPER_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot/snapshot.h"
#include "view/panels.h"
#include "view/term.h"

#define CHART_SERIES 3
#define CHART_MAX_COLS 512       /* plot columns; a wider screen gets this many */
#define CHART_MIN_PLOT 2         /* plot rows at the least */
#define CHART_CHROME 2           /* the title line and the axis line */

/* Zoom: the window of time the charts show (the t key cycles them). */
typedef enum { CHART_ZOOM_RUN, CHART_ZOOM_10M, CHART_ZOOM_1M, CHART_ZOOM_COUNT } chart_zoom_t;

const char *chart_zoom_name(chart_zoom_t z);   /* "whole run", "last 10m", "last 1m" */

/* The window (t0, t1] in seconds since the start for a zoom, with newest the
 * end of the newest sample: t1 = max(newest, length), t0 = t1 - length, the
 * length being 60 s or 10 minutes, or for the whole run the run so far (at
 * least a minute, so the first seconds are not a few giant columns). */
void chart_window(chart_zoom_t z, double newest, double *t0, double *t1);

typedef enum { CHART_MEAN, CHART_MAX } chart_merge_t;

/* A timeline in memory: n samples stride bytes apart, each with a uint32_t
 * end time t (seconds since the start) and span (seconds it covers) at the
 * given offsets (snap_sample_t and snap_point_t alike), and the value drawn. */
typedef struct {
    const void *base;
    size_t n, stride;
    size_t t_off, span_off;
    double (*value)(const void *sample);
} chart_src_t;

/* Sample i's end time, span and value. */
uint32_t chart_src_t_end(const chart_src_t *src, size_t i);
double chart_src_value(const chart_src_t *src, size_t i);

/* The value of each of w columns splitting (t0, t1] evenly, from the samples
 * (sample (t - span, t]) that overlap it: the mean weighted by overlap or the
 * largest; NAN for a column no sample reaches. */
void chart_bucket(const chart_src_t *src, chart_merge_t how, double t0, double t1, int w, double *out);

/* The top of a scale for values up to v: 1, 2, 4, 5 or 10 times a power of
 * ten (so that half of it is a round number too), at least v; 1 when v <= 0.
 * With whole true (counts: users), 1, 2, 4, 6 or 8 times a power of ten,
 * at least 2: half of it is a whole number too. */
double chart_nice_max(double v, bool whole);

/* The filled eighths (0..8) of the cell at row r from the bottom of a plot h
 * rows high, for value v on a scale whose top is max: v is rounded to the
 * nearest eighth of a row, and a value above zero shows at least one. */
int chart_eighths(double v, double max, int h, int r);

/* The glyph of a cell filled e eighths (0..8) from the bottom: a block
 * element in UTF-8, else " . : #" (a low, a middle and a full step). */
const char *chart_cell_glyph(int e, bool utf8);

/* The column (0..w-1) whose slice of (t0, t1] holds time t, or -1 when t is
 * outside the window. */
int chart_column(double t, double t0, double t1, int w);

/* The step between the time axis's ticks, in seconds: the smallest of 1 2 5
 * 10 15 30 s, 1 2 5 10 15 30 min, 1 2 3 6 12 h, 1 day... that puts at least
 * min_gap columns between ticks for a window of len seconds over w columns. */
double chart_tick_step(double len, int w, int min_gap);

/* Elapsed time as a tick's label: 0s 45s 1m 2m30s 1h 1h30m 2d. */
const char *chart_elapsed(uint64_t s, char *buf, size_t len);

/* Units of a chart's values and their labels on the scale. */
typedef enum {
    CHART_RATE,         /* per second: "1.2k/s", "50/s", "0.5/s" */
    CHART_TIME_US,      /* microseconds: "250ms", "1.5s", "800µs" */
    CHART_USERS,        /* a count: "500 users" */
} chart_unit_t;

/* A value of the scale (a nice maximum or half of one) with its unit. */
const char *chart_scale_label(double v, chart_unit_t u, bool utf8, char *buf, size_t len);

typedef struct {
    const char *name;         /* in the title line: "requests/s" */
    chart_src_t src;
    chart_merge_t how;
    int attr;
    bool fail;                /* failures: without colours a shade (UTF-8) or '!' */
    chart_src_t latest;       /* the title's value: its last sample (a 1 s one
                               * when src is compacted); base NULL: src's last */
} chart_series_t;

/* Without colours, the glyph of every cell an inner series (depth 1 or 2,
 * series[depth]) reaches, so that each reads apart from the envelope's
 * blocks and from the other: failures a medium shade or '!', else a dark
 * shade or '=' (depth 1) and a light shade or 'o' (depth 2). The title
 * line shows each glyph before its series' name. */
const char *chart_inner_glyph(const chart_series_t *se, int depth, bool utf8);

typedef struct {
    chart_series_t series[CHART_SERIES];   /* [0] the largest, the envelope */
    int n_series;
    chart_unit_t unit;
    double t0, t1;            /* chart_window */
    const snap_event_t *events;
    size_t n_events;
    int label_w;              /* columns of the scale's labels (the same for every
                               * chart of a screen, so their time axes line up) */
    const char *note;         /* at the right end of the title line, or NULL */
} chart_t;

typedef struct {
    double col[CHART_SERIES][CHART_MAX_COLS];
} chart_buf_t;

/* The plot's columns for a rectangle rect_w wide with label_w columns of
 * scale labels (at most CHART_MAX_COLS). */
int chart_plot_width(int rect_w, int label_w);

/* Merges c's series into w plot columns (into buf) and returns the top of
 * its scale. The work of a chart: O(samples + columns). */
double chart_fill(const chart_t *c, int w, chart_buf_t *buf);

/* The scale's labels' width for a scale topped at max (the wider of the top
 * and its half, and a space). A screen of several charts gives them all the
 * widest, so that their time axes line up. */
int chart_label_width(const chart_t *c, double max, bool utf8);

/* Draws c into r from buf as chart_fill left it for
 * chart_plot_width(r.w, c->label_w) columns, on a scale topped at max
 * (r.h >= CHART_CHROME + CHART_MIN_PLOT, else nothing). */
void chart_draw(view_rect_t r, const chart_t *c, const chart_buf_t *buf, double max, const term_t *t);

#endif

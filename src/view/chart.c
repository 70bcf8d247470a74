/* chart: see include/view/chart.h. */
#include "view/chart.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "view/draw.h"

const char *chart_zoom_name(chart_zoom_t z)
{
    switch (z) {
    case CHART_ZOOM_10M: return "last 10m";
    case CHART_ZOOM_1M: return "last 1m";
    default: return "whole run";
    }
}

void chart_window(chart_zoom_t z, double newest, double *t0, double *t1)
{
    if (!(newest > 0))
        newest = 0;
    double len = z == CHART_ZOOM_10M ? 600 : z == CHART_ZOOM_1M ? 60 : (newest > 60 ? newest : 60);
    *t1 = newest > len ? newest : len;
    *t0 = *t1 - len;
}

uint32_t chart_src_t_end(const chart_src_t *src, size_t i)
{
    uint32_t v;
    memcpy(&v, (const char *)src->base + i * src->stride + src->t_off, sizeof v);
    return v;
}

static uint32_t src_span(const chart_src_t *src, size_t i)
{
    uint32_t v;
    memcpy(&v, (const char *)src->base + i * src->stride + src->span_off, sizeof v);
    return v ? v : 1;
}

double chart_src_value(const chart_src_t *src, size_t i)
{
    return src->value((const char *)src->base + i * src->stride);
}

void chart_bucket(const chart_src_t *src, chart_merge_t how, double t0, double t1, int w, double *out)
{
    if (w <= 0)
        return;
    /* Sums and weights: out holds the sum (or the max) and a second pass
     * divides; the weights go in a small array on the stack. */
    double weight[CHART_MAX_COLS];
    if (w > CHART_MAX_COLS)
        w = CHART_MAX_COLS;
    for (int c = 0; c < w; c++) {
        out[c] = 0;
        weight[c] = 0;
    }
    double dt = (t1 - t0) / w;
    if (!(dt > 0) || !src || src->n == 0) {
        for (int c = 0; c < w; c++)
            out[c] = NAN;
        return;
    }
    double inv = 1 / dt;
    for (size_t i = 0; i < src->n; i++) {
        double b = chart_src_t_end(src, i), a = b - src_span(src, i);
        if (b <= t0 || a >= t1)
            continue;
        double v = chart_src_value(src, i);
        if (!isfinite(v))
            continue;
        int c0 = (int)floor((a - t0) * inv), c1 = (int)ceil((b - t0) * inv) - 1;
        if (c0 < 0)
            c0 = 0;
        if (c1 > w - 1)
            c1 = w - 1;
        for (int c = c0; c <= c1; c++) {
            double lo = t0 + c * dt, hi = lo + dt;
            double ov = (b < hi ? b : hi) - (a > lo ? a : lo);
            if (ov <= 0)
                continue;
            if (how == CHART_MAX) {
                if (weight[c] == 0 || v > out[c])
                    out[c] = v;
            } else {
                out[c] += v * ov;
            }
            weight[c] += ov;
        }
    }
    for (int c = 0; c < w; c++)
        if (weight[c] == 0)
            out[c] = NAN;
        else if (how == CHART_MEAN)
            out[c] /= weight[c];
}

double chart_nice_max(double v, bool whole)
{
    if (whole && v < 2)
        return 2;
    if (!(v > 0) || !isfinite(v))
        return 1;
    double p = pow(10, floor(log10(v)));
    /* Counts skip 5 for 6: half of 5 users is not a count. */
    static const double steps[] = {1, 2, 4, 5, 10}, whole_steps[] = {1, 2, 4, 6, 8, 10};
    const double *st = whole ? whole_steps : steps;
    size_t n = whole ? sizeof whole_steps / sizeof whole_steps[0] : sizeof steps / sizeof steps[0];
    for (size_t i = 0; i < n; i++) {
        double m = st[i] * p;
        /* Round-off of pow/log10: 100 must stay 100. */
        if (m >= v * (1 - 1e-9)) {
            if (whole && m < 2)
                continue;
            return whole ? ceil(m - 1e-9) : m;
        }
    }
    return 10 * p;
}

int chart_eighths(double v, double max, int h, int r)
{
    if (!(v > 0) || !(max > 0) || h <= 0)
        return 0;
    double total = v / max * h * 8;
    long e = lround(total);
    if (e < 1)
        e = 1;
    if (e > (long)h * 8)
        e = (long)h * 8;
    long cell = e - (long)r * 8;
    return cell < 0 ? 0 : cell > 8 ? 8 : (int)cell;
}

int chart_column(double t, double t0, double t1, int w)
{
    if (w <= 0 || !(t1 > t0) || t <= t0 || t > t1)
        return -1;
    int c = (int)ceil((t - t0) / (t1 - t0) * w) - 1;
    return c < 0 ? 0 : c > w - 1 ? w - 1 : c;
}

double chart_tick_step(double len, int w, int min_gap)
{
    static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
                                   3600, 7200, 10800, 21600, 43200, 86400};
    if (w <= 0 || !(len > 0))
        return 86400;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] / len * w >= min_gap)
            return steps[i];
    /* Days, as many as it takes. */
    double d = 86400;
    while (d / len * w < min_gap)
        d *= 2;
    return d;
}

const char *chart_elapsed(uint64_t s, char *buf, size_t len)
{
    if (s < 60)
        snprintf(buf, len, "%llus", (unsigned long long)s);
    else if (s < 3600)
        snprintf(buf, len, s % 60 ? "%llum%02llus" : "%llum", (unsigned long long)(s / 60),
                 (unsigned long long)(s % 60));
    else if (s < 86400)
        snprintf(buf, len, s % 3600 / 60 ? "%lluh%02llum" : "%lluh", (unsigned long long)(s / 3600),
                 (unsigned long long)(s % 3600 / 60));
    else
        snprintf(buf, len, s % 86400 / 3600 ? "%llud%lluh" : "%llud", (unsigned long long)(s / 86400),
                 (unsigned long long)(s % 86400 / 3600));
    return buf;
}

/* A short number: %g for the round values of a scale, text_rate's k and M
 * above a thousand. */
static const char *short_number(double v, char *buf, size_t len)
{
    if (v >= 1000)
        return text_rate(v, buf, len);
    snprintf(buf, len, "%.3g", v);
    return buf;
}

const char *chart_scale_label(double v, chart_unit_t u, bool utf8, char *buf, size_t len)
{
    char n[32];
    switch (u) {
    case CHART_RATE:
        snprintf(buf, len, "%s/s", short_number(v, n, sizeof n));
        break;
    case CHART_TIME_US:
        if (v >= 1e6)
            snprintf(buf, len, "%ss", short_number(v / 1e6, n, sizeof n));
        else if (v >= 1e3)
            snprintf(buf, len, "%sms", short_number(v / 1e3, n, sizeof n));
        else
            snprintf(buf, len, "%s%s", short_number(v, n, sizeof n), utf8 ? "\xc2\xb5s" : "us");
        break;
    case CHART_USERS:
        snprintf(buf, len, "%s %s", short_number(v, n, sizeof n), v == 1 ? "user" : "users");
        break;
    }
    return buf;
}

double chart_fill(const chart_t *c, int w, chart_buf_t *buf)
{
    if (w > CHART_MAX_COLS)
        w = CHART_MAX_COLS;
    double top = 0;
    for (int s = 0; s < c->n_series && s < CHART_SERIES; s++) {
        chart_bucket(&c->series[s].src, c->series[s].how, c->t0, c->t1, w, buf->col[s]);
        for (int x = 0; x < w; x++)
            if (buf->col[s][x] > top)
                top = buf->col[s][x];
    }
    return chart_nice_max(top, c->unit == CHART_USERS);
}

/* The gridline: half the scale, on the row whose middle is nearest to it
 * (exactly at it with an odd number of rows, half a row low with an even
 * one), where the dotted line is drawn at the middle of the cell. */
static double grid_value(double max, int h, int *row_from_bottom)
{
    *row_from_bottom = (h - 1) / 2;
    return max / 2;
}

int chart_label_width(const chart_t *c, double max, bool utf8)
{
    char a[32], b[32];
    /* The half, too: "2.5/s" is wider than "5/s". */
    int wa = text_columns(chart_scale_label(max, c->unit, utf8, a, sizeof a));
    int wb = text_columns(chart_scale_label(max / 2, c->unit, utf8, b, sizeof b));
    return (wa > wb ? wa : wb) + 1;
}

static const char *const blocks[9] = {
    " ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
    "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};

const char *chart_cell_glyph(int e, bool utf8)
{
    if (utf8)
        return blocks[e < 0 ? 0 : e > 8 ? 8 : e];
    /* ASCII: a low, a middle and a full step. */
    return e <= 0 ? " " : e <= 3 ? "." : e <= 6 ? ":" : "#";
}

const char *chart_inner_glyph(const chart_series_t *se, int depth, bool utf8)
{
    if (se->fail)
        return utf8 ? "\xe2\x96\x92" : "!";
    if (depth <= 1)
        return utf8 ? "\xe2\x96\x93" : "=";
    return utf8 ? "\xe2\x96\x91" : "o";
}

/* The title line: each series' name and its newest value, in its colour. */
static void draw_title(view_rect_t r, const chart_t *c, const term_t *t)
{
    int x = r.x, end = r.x + r.w;
    for (int s = 0; s < c->n_series; s++) {
        const chart_series_t *se = &c->series[s];
        char v[32], text[96];
        const chart_src_t *ls = se->latest.base && se->latest.n ? &se->latest : &se->src;
        double now = ls->n ? chart_src_value(ls, ls->n - 1) : 0;
        if (c->unit == CHART_TIME_US)
            text_time_us(now > 0 ? (uint64_t)(now + 0.5) : 0, t->utf8, v, sizeof v);
        else if (c->unit == CHART_USERS)
            text_count(now > 0 ? (uint64_t)(now + 0.5) : 0, v, sizeof v);
        else
            text_rate(now, v, sizeof v);
        if (s && !t->color)
            snprintf(text, sizeof text, "  %s %s ", chart_inner_glyph(se, s, t->utf8), se->name);
        else
            snprintf(text, sizeof text, "%s%s ", s ? "  " : "", se->name);
        int need = text_columns(text) + text_columns(v);
        if (x + need > end)
            break;
        draw_put(r.y, x, term_attr(t, ROLE_DIM), text, end - x);
        x += text_columns(text);
        draw_put(r.y, x, se->attr | A_BOLD, v, end - x);
        x += text_columns(v);
    }
    if (c->note) {
        int nw = text_columns(c->note);
        if (x + 2 + nw <= end)
            draw_put(r.y, end - nw, term_attr(t, ROLE_DIM), c->note, nw);
    }
}

int chart_plot_width(int rect_w, int label_w)
{
    int w = rect_w - label_w - 1;
    return w > CHART_MAX_COLS ? CHART_MAX_COLS : w;
}

void chart_draw(view_rect_t r, const chart_t *c, const chart_buf_t *buf, double max, const term_t *t)
{
    int h = r.h - CHART_CHROME;
    int lw = c->label_w;
    int w = chart_plot_width(r.w, lw);
    if (h < CHART_MIN_PLOT || w < 4 || c->n_series < 1)
        return;
    bool utf8 = t->utf8;
    int dim = term_attr(t, ROLE_DIM);
    draw_title(r, c, t);

    int grid_rb;
    double grid = grid_value(max, h, &grid_rb);
    int top = r.y + 1, axis_y = top + h, px = r.x + lw + 1;
    char lab[32];

    /* The scale: its top, the gridline, 0 on the axis. */
    for (int row = 0; row < h; row++) {
        int rb = h - 1 - row;
        const char *tick = utf8 ? "\xe2\x94\x82" : "|";
        if (row == 0 || rb == grid_rb) {
            chart_scale_label(row == 0 ? max : grid, c->unit, utf8, lab, sizeof lab);
            draw_put_right(top + row, r.x, lw - 1, dim, lab);
            tick = utf8 ? "\xe2\x94\xa4" : "+";
        }
        draw_put(top + row, r.x + lw, dim, tick, 1);
    }
    draw_put_right(axis_y, r.x, lw - 1, dim, "0");

    /* The bars: the envelope's shape (the largest series), and over it each
     * inner series from the bottom at its own resolution: its full cells,
     * then its top cell as a partial block of its own eighths, in its
     * attribute. Without colours an inner series draws its own glyph over
     * every cell it reaches (a failure of 1/s shows on a 1000/s chart). */
    bool mono = !t->color;
    for (int x = 0; x < w; x++) {
        double env = NAN;
        for (int s = 0; s < c->n_series; s++)
            if (!isnan(buf->col[s][x]) && (isnan(env) || buf->col[s][x] > env))
                env = buf->col[s][x];
        for (int row = 0; row < h; row++) {
            int rb = h - 1 - row;
            int e = isnan(env) ? 0 : chart_eighths(env, max, h, rb);
            if (e == 0) {
                if (rb == grid_rb)
                    draw_put(top + row, px + x, dim, utf8 ? "\xe2\x94\x88" : "-", 1);
                continue;
            }
            int who = 0, es = e;
            for (int s = c->n_series - 1; s > 0; s--) {
                double v = buf->col[s][x];
                int k = isnan(v) ? 0 : chart_eighths(v, max, h, rb);
                if (k > 0) {
                    who = s;
                    es = k;
                    break;
                }
            }
            const char *g = who && mono ? chart_inner_glyph(&c->series[who], who, utf8) : chart_cell_glyph(es, utf8);
            draw_put(top + row, px + x, c->series[who].attr, g, 1);
        }
    }

    /* The time axis: a line, elapsed time at its ticks, then the marks. */
    draw_put(axis_y, r.x + lw, dim, utf8 ? "\xe2\x94\x94" : "+", 1);
    for (int x = 0; x < w; x++)
        draw_put(axis_y, px + x, dim, utf8 ? "\xe2\x94\x80" : "-", 1);
    /* The marks' columns first: a tick's label gives way to a mark. */
    bool marked[CHART_MAX_COLS] = {false};
    for (size_t i = 0; i < c->n_events; i++) {
        int col = chart_column((double)c->events[i].t_ms / 1000.0, c->t0, c->t1, w);
        if (col >= 0)
            marked[col] = true;
    }
    double len = c->t1 - c->t0;
    double step = chart_tick_step(len, w, 10);
    int free_from = px;          /* the first column a label may use */
    for (double tk = ceil(c->t0 / step) * step; tk <= c->t1; tk += step) {
        int col = tk <= c->t0 ? 0 : chart_column(tk, c->t0, c->t1, w);
        int at = px + col;
        char el[24];
        chart_elapsed((uint64_t)(tk + 0.5), el, sizeof el);
        int lwid = text_columns(el);
        bool clear = at >= free_from && col + lwid <= w;
        for (int k = col; clear && k < col + lwid; k++)
            clear = !marked[k];
        if (!clear)
            continue;
        draw_put(axis_y, at, dim, el, lwid);
        free_from = at + lwid + 1;
    }
    int hl = term_attr(t, ROLE_HIGHLIGHT);
    for (size_t i = 0; i < c->n_events; i++) {
        int col = chart_column((double)c->events[i].t_ms / 1000.0, c->t0, c->t1, w);
        if (col < 0)
            continue;
        char m[2] = {snap_event_mark(c->events[i].kind), '\0'};
        draw_put(axis_y, px + col, hl, m, 1);
    }
}

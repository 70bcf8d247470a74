/* dash: see include/view/dash.h.
 *
 * Everything is drawn from the snapshot into ncurses' virtual screen with
 * erase() first; ncurses then compares with what the terminal shows and
 * sends only the difference, which keeps a refresh over SSH to a few bytes
 * when little changed. Everything drawn that did not come from hopper itself
 * (names, the host, check texts, log lines, and error messages, which stats
 * has already cleaned once) goes through text_sanitize() first: a hostile
 * server must not be able to move the cursor or retitle the terminal. */
#include "view/dash.h"

#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "plan/stages.h"
#include "util/duration.h"
#include "util/text.h"
#include "view/chart.h"
#include "view/draw.h"
#include "view/panels.h"
#include "view/spark.h"

#define FLASH_MS 3000
#define LOG_SHOW_MS 10000

void dash_init(dash_t *d, const term_t *term, const log_t *log)
{
    memset(d, 0, sizeof *d);
    d->term = term;
    d->log = log;
    d->log_seq = log ? log->seq : 0;
}

size_t dash_selected(const dash_t *d, const snap_t *s)
{
    size_t last = snap_row_count(s) - 1;
    return d->sel_set && d->sel < last ? d->sel : last;
}

/* ---- drawing helpers ----------------------------------------------------- */

static int attr_of(const dash_t *d, term_role_t r)
{
    return term_attr(d->term, r);
}

/* ---- the status line ------------------------------------------------------ */

/* The status line is a row of fields. When the terminal is too narrow for all
 * of them, whole fields go, the least needed first (the highest prio; the
 * priorities are in status_fields), rather than the line being cut in the
 * middle of a number. */
#define STATUS_FIELDS 20
#define STATUS_PRIO_NONE 1000   /* above every field's prio */

typedef struct {
    char text[112];           /* with its separator in front (" | ...") */
    int attr;
    const char *tail;         /* drawn after text in tail_attr ("manual"), or NULL */
    int tail_attr;
    int prio;
    bool right;               /* at the right end of the line */
    bool keep;
} status_field_t;

typedef struct {
    status_field_t f[STATUS_FIELDS];
    int n;
} status_line_t;

static void field(status_line_t *st, int attr, int prio, bool right, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void field(status_line_t *st, int attr, int prio, bool right, const char *fmt, ...)
{
    if (st->n == STATUS_FIELDS)
        return;
    status_field_t *f = &st->f[st->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof f->text, fmt, ap);
    va_end(ap);
    f->attr = attr;
    f->tail = NULL;
    f->prio = prio;
    f->right = right;
    f->keep = true;
}

/* Its width (counting its separator: a first field without one is narrower,
 * never wider). */
static int field_width(const status_field_t *f)
{
    return text_columns(f->text) + (f->tail ? text_columns(f->tail) : 0);
}

/* Draws a field at x; returns the column after it. The first field of the
 * line goes without its separator (" | running" as " running"). */
static int field_draw(const status_field_t *f, int y, int x)
{
    const char *text = f->text;
    if (x == 0 && strncmp(text, " | ", 3) == 0)
        text += 2;
    draw_put(y, x, f->attr, text, COLS - x);
    x += text_columns(text);
    if (f->tail) {
        draw_put(y, x, f->tail_attr, f->tail, COLS - x);
        x += text_columns(f->tail);
    }
    return x;
}

/* An alarm inside the (reverse video) status line: with colours the role's
 * colour as background, like the overload warning; without, the role's
 * attribute alone, so it shows as normal video in the reverse bar. */
static int alarm_attr(const dash_t *d, term_role_t r)
{
    return d->term->color ? (int)(attr_of(d, r) | (int)A_REVERSE) : attr_of(d, r);
}

/* The load shape's stage: "stage 2/4 · 3m12s left", "stages done". */
static void stage_text(const dash_t *d, const snap_t *s, char *buf, size_t len)
{
    if (s->stage >= s->n_stages) {
        snprintf(buf, len, "stages done");
        return;
    }
    char left[32];
    /* Whole seconds, rounded up: "0s left" only once it is over. */
    duration_format((s->stage_left_ms + 999) / 1000 * 1000000, left, sizeof left);
    snprintf(buf, len, "stage %zu/%zu %s %s left", s->stage + 1, s->n_stages,
             d->term->utf8 ? "\xc2\xb7" : "-", left);
}

static void status_fields(dash_t *d, const snap_t *s, status_line_t *st)
{
    int hdr = attr_of(d, ROLE_HEADER);
    char a[48], b[48];

    /* Priorities: 0 the users (closed) or the arrivals (open), and a state
     * other than running; 1 what the operator must not miss (drops, the
     * stage and manual control, an overload); 2 a late schedule, "running";
     * 3 the name, the pool, time and failures; 4 the host and spawn rate;
     * 5 throughput and cpu; 6 the rest. The pool and the lag also head
     * their charts below. */
    field(st, hdr, 3, false, " hopper");
    char host[100];
    text_sanitize(s->host ? s->host : "", host, sizeof host);
    field(st, hdr, 4, false, "  %s", host);
    /* Running is the state that says least: it may go before the stage. */
    bool usual = s->state == RUN_RUNNING && !s->paused;
    field(st, hdr, usual ? 2 : 0, false, " | %s%s", snap_state_name(s->state), s->paused ? " (paused)" : "");

    if (s->open) {
        /* Achieved over the last 10 s, then the target now (short: it moves
         * with the stages): "arrivals 48.7/50/s"; a target per minute or
         * hour says so apart, "arrivals 0.0/s of 20/m". */
        const char *target = stages_rate_describe(s->arrival_rate, STAGES_SHORT, b, sizeof b);
        size_t tn = strlen(target);
        bool per_s = tn >= 2 && strcmp(target + tn - 2, "/s") == 0;
        field(st, hdr, 0, false, per_s ? " | arrivals %s/%s" : " | arrivals %s/s of %s",
              text_rate(s->cur_arrival_rate, a, sizeof a), target);
        if (s->dropped)
            field(st, alarm_attr(d, ROLE_FAIL), 1, false, " | dropped %s (%s/s)",
                  text_count(s->dropped, a, sizeof a), text_rate(s->cur_drop_rate, b, sizeof b));
        else
            field(st, hdr, 1, false, " | dropped 0");
        field(st, hdr, 3, false, " | pool %llu busy/%llu (max %llu)", (unsigned long long)s->users,
              (unsigned long long)s->pool_users, (unsigned long long)s->max_users);
    } else {
        char nli[48] = "";
        if (s->not_logged_in)
            snprintf(nli, sizeof nli, " (%llu not logged in)", (unsigned long long)s->not_logged_in);
        field(st, hdr, 0, false, " | users %llu/%llu%s", (unsigned long long)s->users,
              (unsigned long long)s->target_users, nli);
        field(st, hdr, 4, false, " | rate %g/s", s->spawn_rate);
    }
    if (s->n_stages) {
        char stage[96];
        stage_text(d, s, stage, sizeof stage);
        /* "manual" goes with the stage it overrides: never one without
         * the other. */
        field(st, hdr, 1, false, " | %s", stage);
        if (s->manual && st->n) {
            st->f[st->n - 1].tail = " manual";
            st->f[st->n - 1].tail_attr = alarm_attr(d, ROLE_HIGHLIGHT);
        }
    }
    if (s->dual) {
        /* Schedule lag over the statistics' span; when high (snap_lag_high) it
         * is highlighted and kept longer. */
        uint64_t lag = s->lag_pct_us[SNAP_P99];
        bool late = snap_lag_high(s);
        field(st, late ? alarm_attr(d, ROLE_FAIL) : hdr, late ? 2 : 6, false, " | lag p99 %s",
              s->lag_count ? text_time_us(lag, d->term->utf8, a, sizeof a) : "-");
    }

    char el[24], left[48] = "";
    text_clock(s->elapsed_ms, el, sizeof el);
    if (s->run_time_ms) {
        uint64_t l = s->run_time_ms > s->elapsed_ms ? s->run_time_ms - s->elapsed_ms : 0;
        char t[24];
        snprintf(left, sizeof left, ", %s left", text_clock(l + 999, t, sizeof t));
    }
    field(st, hdr, 3, false, " | %s%s", el, left);
    field(st, hdr, 6, false, " | %s reqs", text_count(s->total.requests, a, sizeof a));
    field(st, hdr, 5, false, " | %s req/s", text_rate(s->total.cur_rps, a, sizeof a));
    double fail_pct = s->total.requests ? 100.0 * (double)s->total.failures / (double)s->total.requests : 0;
    field(st, hdr, 3, false, " | %.2f%% fail", fail_pct);

    /* The generator's own health at the right end: the busiest process. */
    double cpu = s->self.cpu_pct, lag = s->self.lag_ms;
    for (unsigned i = 0; i < s->n_workers; i++)
        if (s->workers[i].alive) {
            if (s->workers[i].cpu_pct > cpu)
                cpu = s->workers[i].cpu_pct;
            if (s->workers[i].lag_ms > lag)
                lag = s->workers[i].lag_ms;
        }
    if (s->overloaded)
        field(st, alarm_attr(d, ROLE_FAIL), 1, true, " HOPPER OVERLOADED cpu %.0f%% lag %.0fms ", cpu, lag);
    else if (s->n_workers)
        field(st, hdr, 5, true, " %u workers, cpu %.0f%% ", s->n_workers, cpu);
    else
        field(st, hdr, 5, true, " cpu %.0f%% ", cpu);
}

/* Chooses the fields that fit in cols: all of them, then the least
 * important dropped first (of one priority, the rightmost first) until the
 * rest fits; never a less important field kept while a more important one
 * goes. prio 0 always stays; draw_put() cuts what must stay at the edge of
 * a terminal too narrow even for that. */
static void status_fit(status_line_t *st, int cols)
{
    int w = 1;                    /* the space that ends the left part */
    for (int i = 0; i < st->n; i++) {
        st->f[i].keep = true;
        w += field_width(&st->f[i]);
    }
    while (w > cols) {
        int drop = -1;
        for (int i = 0; i < st->n; i++)
            if (st->f[i].keep && st->f[i].prio > 0 && (drop < 0 || st->f[i].prio >= st->f[drop].prio))
                drop = i;
        if (drop < 0)
            break;
        st->f[drop].keep = false;
        w -= field_width(&st->f[drop]);
    }
    /* The room a long field left may take a shorter one of the same
     * priority (the most important dropped): still none less important. */
    int p = STATUS_PRIO_NONE;
    for (int i = 0; i < st->n; i++)
        if (!st->f[i].keep && st->f[i].prio < p)
            p = st->f[i].prio;
    for (int i = 0; i < st->n; i++)
        if (!st->f[i].keep && st->f[i].prio == p && w + field_width(&st->f[i]) <= cols) {
            st->f[i].keep = true;
            w += field_width(&st->f[i]);
        }
}

static void draw_status(dash_t *d, const snap_t *s, int y)
{
    status_line_t st = {.n = 0};
    status_fields(d, s, &st);
    status_fit(&st, COLS);
    draw_fill_line(y, attr_of(d, ROLE_HEADER));
    int x = 0;
    for (int i = 0; i < st.n; i++)
        if (st.f[i].keep && !st.f[i].right)
            x = field_draw(&st.f[i], y, x);
    int rw = 0;
    for (int i = 0; i < st.n; i++)
        if (st.f[i].keep && st.f[i].right)
            rw += field_width(&st.f[i]);
    int rx = COLS - rw > x ? COLS - rw : x + 1;
    for (int i = 0; i < st.n; i++)
        if (st.f[i].keep && st.f[i].right)
            rx = field_draw(&st.f[i], y, rx);
}

/* ---- the endpoint table --------------------------------------------------- */

static const layout_col_t col_order[COL_COUNT] = {
    COL_TYPE, COL_NAME, COL_REQS, COL_FAILS, COL_MED, COL_AVG, COL_MIN, COL_MAX,
    COL_P95, COL_P99, COL_RAW_P95, COL_RAW_P99, COL_SIZE, COL_RPS, COL_FPS,
};

/* The Name column's title. With corrected and raw latencies it says which
 * is which, as far as the column is wide: every time column is corrected
 * (from the intended start) except those titled raw (from the send). */
static const char *name_title(const snap_t *s, int w)
{
    static const char *const dual_titles[] = {
        "Name (times from the intended start; raw: from the send)",
        "Name (times corrected; raw: from the send)",
        "Name (times corrected)",
        "Name (corrected)",
    };
    if (s->dual)
        for (size_t i = 0; i < sizeof dual_titles / sizeof dual_titles[0]; i++)
            if (text_columns(dual_titles[i]) <= w)
                return dual_titles[i];
    return layout_col_title(COL_NAME);
}

static void draw_row(dash_t *d, const layout_t *l, int y, const snap_entry_t *e, bool total,
                     bool selected)
{
    bool utf8 = d->term->utf8;
    int x = 0, base = total ? A_BOLD : A_NORMAL;
    /* The selected row: a bar across the screen (the highlight colour in
     * reverse, or reverse video alone), its cells keeping their meaning. */
    int sel = selected ? (int)A_REVERSE | (d->term->color ? attr_of(d, ROLE_HIGHLIGHT) : 0) : 0;
    if (selected)
        draw_fill_line(y, sel);
    base |= sel;
    for (int i = 0; i < COL_COUNT; i++) {
        layout_col_t c = col_order[i];
        if (!l->show[c])
            continue;
        int w = l->width[c];
        char buf[160], t[32];
        int attr = base;
        bool none = !snap_row_has_times(e);
        buf[0] = '\0';
        switch (c) {
        case COL_TYPE:
            snprintf(buf, sizeof buf, "%s", e->method);
            break;
        case COL_NAME: {
            char clean[512];
            text_sanitize(e->name, clean, sizeof clean);
            text_fit_middle(clean, w, utf8, buf, sizeof buf);
            break;
        }
        case COL_REQS:
            text_count(e->requests, buf, sizeof buf);
            break;
        case COL_FAILS: {
            double pct = e->requests ? 100.0 * (double)e->failures / (double)e->requests : 0;
            snprintf(buf, sizeof buf, "%s(%.*f%%)", text_count(e->failures, t, sizeof t),
                     pct > 0 && pct < 10 ? 1 : 0, pct);
            if (e->failures)
                attr = attr_of(d, ROLE_FAIL) | (selected ? (int)A_REVERSE : 0);
            break;
        }
        case COL_MED: if (!none) text_time_us(e->pct_us[SNAP_P50], utf8, buf, sizeof buf); break;
        case COL_AVG: if (!none) text_time_us((uint64_t)(e->avg_us + 0.5), utf8, buf, sizeof buf); break;
        case COL_MIN: if (!none) text_time_us(e->min_us, utf8, buf, sizeof buf); break;
        case COL_MAX: if (!none) text_time_us(e->max_us, utf8, buf, sizeof buf); break;
        case COL_P95: if (!none) text_time_us(e->pct_us[SNAP_P95], utf8, buf, sizeof buf); break;
        case COL_P99: if (!none) text_time_us(e->pct_us[SNAP_P99], utf8, buf, sizeof buf); break;
        case COL_RAW_P95: if (!none) text_time_us(e->raw_pct_us[SNAP_P95], utf8, buf, sizeof buf); break;
        case COL_RAW_P99: if (!none) text_time_us(e->raw_pct_us[SNAP_P99], utf8, buf, sizeof buf); break;
        case COL_SIZE:
            if (!none)
                text_count((uint64_t)((double)e->content_bytes / (double)e->requests + 0.5), buf, sizeof buf);
            break;
        case COL_RPS:
            text_rate(e->cur_rps, buf, sizeof buf);
            break;
        case COL_FPS:
            text_rate(e->cur_fps, buf, sizeof buf);
            if (e->cur_fps > 0)
                attr = attr_of(d, ROLE_FAIL) | (selected ? (int)A_REVERSE : 0);
            break;
        case COL_COUNT:
            break;
        }
        if (none && buf[0] == '\0' && c != COL_TYPE && c != COL_NAME)
            snprintf(buf, sizeof buf, "-");
        if (c == COL_NAME || c == COL_TYPE)
            draw_put(y, x, attr, buf, w);
        else
            draw_put_right(y, x, w, attr, buf);
        x += w + 1;
    }
}

static void draw_table(dash_t *d, const snap_t *s, const layout_t *l)
{
    int hdr = attr_of(d, ROLE_HEADER);
    draw_fill_line(l->header_row, hdr);
    int x = 0;
    for (int i = 0; i < COL_COUNT; i++) {
        layout_col_t c = col_order[i];
        if (!l->show[c])
            continue;
        if (c == COL_NAME)
            draw_put(l->header_row, x, hdr, name_title(s, l->width[c]), l->width[c]);
        else if (c == COL_TYPE)
            draw_put(l->header_row, x, hdr, layout_col_title(c), l->width[c]);
        else
            draw_put_right(l->header_row, x, l->width[c], hdr, layout_col_title(c));
        x += l->width[c] + 1;
    }
    /* Keep the scroll position valid for this size, with the selected
     * endpoint in view. */
    size_t rows = (size_t)l->entry_rows;
    size_t last = snap_row_count(s) - 1, sel = dash_selected(d, s);
    if (sel < last) {
        if (sel < d->scroll)
            d->scroll = sel;
        else if (sel >= d->scroll + rows)
            d->scroll = sel - rows + 1;
    }
    if (s->n_entries <= rows)
        d->scroll = 0;
    else if (d->scroll > s->n_entries - rows)
        d->scroll = s->n_entries - rows;
    /* The rows of snap_row: a window of the endpoints, then Aggregated on its
     * own line, which never scrolls away. */
    for (size_t i = 0; i < rows && d->scroll + i < last; i++)
        draw_row(d, l, l->first_entry_row + (int)i, snap_row(s, d->scroll + i), false,
                 d->scroll + i == sel);
    draw_row(d, l, l->aggregated_row, snap_row(s, last), true, sel == last);
    if (s->n_entries > rows && l->note_row >= 0) {
        char more[48];
        snprintf(more, sizeof more, " %zu-%zu of %zu ", d->scroll + 1, d->scroll + rows, s->n_entries);
        draw_put_right(l->note_row, 0, COLS, attr_of(d, ROLE_DIM), more);
    }
}

/* ---- charts ------------------------------------------------------------------ */

static double c_rps(const void *x) { return ((const snap_sample_t *)x)->rps; }
static double c_fps(const void *x) { return ((const snap_sample_t *)x)->fps; }
static double c_p50(const void *x) { return (double)((const snap_sample_t *)x)->p50_us; }
static double c_p95(const void *x) { return (double)((const snap_sample_t *)x)->p95_us; }
static double c_p95_raw(const void *x) { return (double)((const snap_sample_t *)x)->p95_raw_us; }
static double c_users(const void *x) { return ((const snap_sample_t *)x)->users; }
static double c_arrivals(const void *x) { return ((const snap_sample_t *)x)->arrivals; }
static double c_dropped(const void *x) { return ((const snap_sample_t *)x)->dropped; }
static double p_rps(const void *x) { return ((const snap_point_t *)x)->rps; }
static double p_fps(const void *x) { return ((const snap_point_t *)x)->fps; }
static double p_p50(const void *x) { return (double)((const snap_point_t *)x)->p50_us; }
static double p_p95(const void *x) { return (double)((const snap_point_t *)x)->p95_us; }
static double p_p99(const void *x) { return (double)((const snap_point_t *)x)->p99_us; }

static chart_src_t sample_src(const snap_sample_t *a, size_t n, double (*f)(const void *))
{
    return (chart_src_t){a, n, sizeof *a, offsetof(snap_sample_t, t), offsetof(snap_sample_t, span), f};
}

static chart_src_t point_src(const snap_point_t *a, size_t n, double (*f)(const void *))
{
    return (chart_src_t){a, n, sizeof *a, offsetof(snap_point_t, t), offsetof(snap_point_t, span), f};
}

static chart_series_t series(const char *name, chart_src_t src, chart_merge_t how, int attr, bool fail)
{
    return (chart_series_t){.name = name, .src = src, .how = how, .attr = attr, .fail = fail};
}

/* The run's timeline for the zoom: the whole run (compacted) or the last
 * seconds at one-second resolution; and the window it is drawn over. */
static void run_timeline(const dash_t *d, const snap_t *s, const snap_sample_t **a, size_t *n,
                         double *t0, double *t1)
{
    if (d->zoom == CHART_ZOOM_RUN && s->n_history) {
        *a = s->history;
        *n = s->n_history;
    } else {
        *a = s->recent;
        *n = s->n_recent;
    }
    double newest = *n ? (*a)[*n - 1].t : (double)s->elapsed_ms / 1000.0;
    chart_window(d->zoom, newest, t0, t1);
}

static void row_timeline(const dash_t *d, const snap_t *s, const snap_entry_t *e, const snap_point_t **a,
                         size_t *n, double *t0, double *t1)
{
    if (d->zoom == CHART_ZOOM_RUN && e->n_history) {
        *a = snap_row_history(s, e);
        *n = e->n_history;
    } else {
        *a = snap_row_recent(s, e);
        *n = e->n_recent;
    }
    double newest = *n ? (*a)[*n - 1].t : (double)s->elapsed_ms / 1000.0;
    chart_window(d->zoom, newest, t0, t1);
}

/* Draws n charts stacked in the rectangle r, lines[i] lines each, with one
 * scale width for all so that their time axes line up. The columns are
 * merged once a draw: for the width the labels had last time, again only
 * when the widest label changed. */
static void draw_chart_stack(dash_t *d, chart_t *c, int n, view_rect_t r, const int *lines)
{
    double max[LAYOUT_MAX_CHARTS];
    int lw = d->chart_label_w > 0 ? d->chart_label_w : 6, filled = -1;
    for (int pass = 0; pass < 2; pass++) {
        int want = 2;
        for (int i = 0; i < n; i++) {
            max[i] = chart_fill(&c[i], chart_plot_width(r.w, lw), &d->chart_buf[i]);
            int w = chart_label_width(&c[i], max[i], d->term->utf8);
            if (w > want)
                want = w;
        }
        filled = lw;
        if (want == lw)
            break;
        lw = want;
    }
    /* The columns must be those of the width drawn: the second pass may
     * have asked for yet another width (a scale that crossed a boundary
     * with the new columns); fill once more for the one kept. */
    if (filled != lw)
        for (int i = 0; i < n; i++)
            max[i] = chart_fill(&c[i], chart_plot_width(r.w, lw), &d->chart_buf[i]);
    d->chart_label_w = lw;
    int y = r.y;
    for (int i = 0; i < n; i++) {
        c[i].label_w = lw;
        chart_draw((view_rect_t){y, r.x, lines[i], r.w}, &c[i], &d->chart_buf[i], max[i], d->term);
        y += lines[i];
    }
}

static const char *zoom_text(const dash_t *d, char *buf, size_t len)
{
    snprintf(buf, len, "%s (t)", chart_zoom_name(d->zoom));
    return buf;
}

static void draw_charts(dash_t *d, const snap_t *s, const layout_t *l)
{
    const snap_sample_t *a;
    size_t n;
    double t0, t1;
    run_timeline(d, s, &a, &n, &t0, &t1);
    chart_t c[LAYOUT_MAX_CHARTS];
    memset(c, 0, sizeof c);
    int k = 0;
    for (int i = 0; i < LAYOUT_MAX_CHARTS; i++) {
        c[i].t0 = t0;
        c[i].t1 = t1;
        c[i].events = s->events;
        c[i].n_events = s->n_events;
    }
    c[k].series[0] = series("requests/s", sample_src(a, n, c_rps), CHART_MEAN, attr_of(d, ROLE_OK), false);
    c[k].series[1] = series("failures/s", sample_src(a, n, c_fps), CHART_MEAN, attr_of(d, ROLE_FAIL), true);
    c[k].n_series = 2;
    c[k].unit = CHART_RATE;
    char zn[48];
    c[k].note = zoom_text(d, zn, sizeof zn);
    k++;
    if (s->dual) {
        c[k].series[0] = series("response time p95 corrected", sample_src(a, n, c_p95), CHART_MAX,
                                attr_of(d, ROLE_DIM), false);
        c[k].series[1] = series("raw", sample_src(a, n, c_p95_raw), CHART_MAX, attr_of(d, ROLE_NORMAL), false);
        c[k].series[2] = series("p50", sample_src(a, n, c_p50), CHART_MAX, attr_of(d, ROLE_OK), false);
        c[k].n_series = 3;
    } else {
        c[k].series[0] = series("response time p95", sample_src(a, n, c_p95), CHART_MAX,
                                attr_of(d, ROLE_DIM), false);
        c[k].series[1] = series("p50", sample_src(a, n, c_p50), CHART_MAX, attr_of(d, ROLE_OK), false);
        c[k].n_series = 2;
    }
    c[k].unit = CHART_TIME_US;
    k++;
    char lag[64] = "", pool[64];
    if (s->open) {
        c[k].series[0] = series("arrivals/s", sample_src(a, n, c_arrivals), CHART_MEAN, attr_of(d, ROLE_OK), false);
        c[k].series[1] = series("dropped/s", sample_src(a, n, c_dropped), CHART_MEAN, attr_of(d, ROLE_FAIL), true);
        c[k].n_series = 2;
        c[k].unit = CHART_RATE;
        if (s->dual) {
            char t[32];
            snprintf(lag, sizeof lag, "lag p99 %s",
                     text_time_us(n ? a[n - 1].lag_p99_us : 0, d->term->utf8, t, sizeof t));
            c[k].note = lag;
        }
        k++;
        snprintf(pool, sizeof pool, "pool %llu/%llu", (unsigned long long)s->pool_users,
                 (unsigned long long)s->max_users);
        c[k].series[0] = series("users busy", sample_src(a, n, c_users), CHART_MEAN,
                                attr_of(d, ROLE_HIGHLIGHT), false);
    } else {
        snprintf(pool, sizeof pool, "target %llu", (unsigned long long)s->target_users);
        c[k].series[0] = series("users", sample_src(a, n, c_users), CHART_MEAN, attr_of(d, ROLE_HIGHLIGHT), false);
    }
    c[k].n_series = 1;
    c[k].unit = CHART_USERS;
    c[k].note = pool;
    k++;
    if (k > l->n_charts)
        k = l->n_charts;
    /* The titles' latest values from the last second, not from a compacted
     * sample averaged (or maxed) over many. */
    if (a != s->recent)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < c[i].n_series; j++)
                c[i].series[j].latest = sample_src(s->recent, s->n_recent, c[i].series[j].src.value);
    draw_chart_stack(d, c, k, (view_rect_t){l->spark_row, 0, l->spark_lines, COLS}, l->chart_lines);
}

/* A row's own charts: requests/s with failures/s, and p99 over p95 over p50. */
static void draw_row_charts(dash_t *d, const snap_t *s, const snap_entry_t *e, view_rect_t r, const int *lines)
{
    const snap_point_t *a;
    size_t n;
    double t0, t1;
    row_timeline(d, s, e, &a, &n, &t0, &t1);
    chart_t c[2];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 2; i++) {
        c[i].t0 = t0;
        c[i].t1 = t1;
        c[i].events = s->events;
        c[i].n_events = s->n_events;
    }
    c[0].series[0] = series("requests/s", point_src(a, n, p_rps), CHART_MEAN, attr_of(d, ROLE_OK), false);
    c[0].series[1] = series("failures/s", point_src(a, n, p_fps), CHART_MEAN, attr_of(d, ROLE_FAIL), true);
    c[0].n_series = 2;
    c[0].unit = CHART_RATE;
    char zn[48];
    c[0].note = zoom_text(d, zn, sizeof zn);
    c[1].series[0] = series("p99", point_src(a, n, p_p99), CHART_MAX, attr_of(d, ROLE_DIM), false);
    c[1].series[1] = series("p95", point_src(a, n, p_p95), CHART_MAX, attr_of(d, ROLE_NORMAL), false);
    c[1].series[2] = series("p50", point_src(a, n, p_p50), CHART_MAX, attr_of(d, ROLE_OK), false);
    c[1].n_series = 3;
    c[1].unit = CHART_TIME_US;
    const snap_point_t *recent = snap_row_recent(s, e);
    if (a != recent)
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < c[i].n_series; j++)
                c[i].series[j].latest = point_src(recent, e->n_recent, c[i].series[j].src.value);
    draw_chart_stack(d, c, 2, r, lines);
}

/* ---- sparklines ------------------------------------------------------------ */

typedef double (*sample_value_fn)(const snap_sample_t *);
static double v_rps(const snap_sample_t *x) { return x->rps; }
static double v_fps(const snap_sample_t *x) { return x->fps; }
static double v_p95(const snap_sample_t *x) { return x->p95_us; }
static double v_arrivals(const snap_sample_t *x) { return x->arrivals; }
static double v_dropped(const snap_sample_t *x) { return x->dropped; }
static double v_users(const snap_sample_t *x) { return x->users; }

/* The largest value of the last w samples. */
static double window_max(const snap_t *s, size_t w, sample_value_fn f)
{
    double m = 0;
    for (size_t i = s->n_recent > w ? s->n_recent - w : 0; i < s->n_recent; i++)
        if (f(&s->recent[i]) > m)
            m = f(&s->recent[i]);
    return m;
}

/* One strip of w columns from x and h rows from y, newest sample at the
 * right: one row of sparkline levels, or taller, bars in eighths of a row.
 * With fail_fn, seconds that had failures are drawn in the failure colour
 * (or, without colour, with '!' at the bottom). */
static void draw_strip(dash_t *d, const snap_t *s, int y, int h, int x, int w, sample_value_fn f,
                       double max, int attr, sample_value_fn fail_fn)
{
    bool utf8 = d->term->utf8;
    int levels = utf8 ? SPARK_UTF8_LEVELS : SPARK_ASCII_LEVELS;
    size_t n = s->n_recent, shown = n < (size_t)w ? n : (size_t)w;
    int start = x + w - (int)shown;
    for (size_t i = 0; i < shown; i++) {
        const snap_sample_t *smp = &s->recent[n - shown + i];
        bool failed = fail_fn && fail_fn(smp) > 0;
        int a = failed ? attr_of(d, ROLE_FAIL) : attr;
        if (h <= 1) {
            const char *g = spark_glyph(spark_level(f(smp), max, levels), utf8);
            draw_put(y, start + (int)i, a, failed && !d->term->color ? "!" : g, 1);
            continue;
        }
        for (int rb = 0; rb < h; rb++) {
            const char *g = chart_cell_glyph(chart_eighths(f(smp), max, h, rb), utf8);
            if (failed && rb == 0 && !d->term->color)
                g = "!";
            draw_put(y + h - 1 - rb, start + (int)i, a, g, 1);
        }
    }
}

static void draw_sparks(dash_t *d, const snap_t *s, const layout_t *l)
{
    if (l->sparks == SPARKS_NONE)
        return;
    bool utf8 = d->term->utf8;
    const snap_sample_t *last = s->n_recent ? &s->recent[s->n_recent - 1] : NULL;
    char a[32], lab[128];
    int y = l->spark_row;

    if (l->sparks == SPARKS_FULL) {
        draw_charts(d, s, l);
        return;
    }
    /* Compact: a short label, then the strip on the same line; the lines
     * the layout has beyond one a strip make them taller, the first ones
     * first. */
    int lw = 16, w = COLS - lw;
    int n = s->open ? 4 : 3, hs[4];
    for (int i = 0; i < n; i++)
        hs[i] = l->spark_lines / n + (i < l->spark_lines % n ? 1 : 0);
    double rmax = window_max(s, (size_t)w, v_rps), tmax = window_max(s, (size_t)w, v_p95);
    double umax = window_max(s, (size_t)w, v_users);
    int k = 0;
    snprintf(lab, sizeof lab, "req/s %s", text_rate(last ? last->rps : 0, a, sizeof a));
    draw_put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y, hs[k], lw, w, v_rps, rmax, attr_of(d, ROLE_OK), v_fps);
    y += hs[k++];
    snprintf(lab, sizeof lab, "p95 %s", text_time_us(last ? last->p95_us : 0, utf8, a, sizeof a));
    draw_put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y, hs[k], lw, w, v_p95, tmax, attr_of(d, ROLE_NORMAL), NULL);
    y += hs[k++];
    if (s->open) {
        double amax = window_max(s, (size_t)w, v_arrivals);
        snprintf(lab, sizeof lab, "arr/s %s", text_rate(last ? last->arrivals : 0, a, sizeof a));
        draw_put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
        draw_strip(d, s, y, hs[k], lw, w, v_arrivals, amax, attr_of(d, ROLE_OK), v_dropped);
        y += hs[k++];
    }
    snprintf(lab, sizeof lab, "%s %llu", s->open ? "busy" : "users", (unsigned long long)s->users);
    draw_put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y, hs[k], lw, w, v_users, umax, attr_of(d, ROLE_HIGHLIGHT), NULL);
}

/* ---- failures, key bar, help ---------------------------------------------- */

static void draw_failures(dash_t *d, const snap_t *s, const layout_t *l)
{
    if (l->fail_row < 0)
        return;
    char line[512], name[256], err[SNAP_ERROR_TEXT], n[24];
    snprintf(line, sizeof line, "Failures (%zu kinds; f hides)", s->n_errors);
    draw_put(l->fail_row, 0, attr_of(d, ROLE_FAIL), line, COLS);
    for (int i = 0; i < l->fail_rows && (size_t)i < s->n_errors; i++) {
        const snap_error_t *e = &s->errors[i];
        text_sanitize(e->name, name, sizeof name);
        text_sanitize(e->error, err, sizeof err);
        snprintf(line, sizeof line, "%7s  %-6s %s: %s", text_count(e->count, n, sizeof n), e->method,
                 name, err);
        draw_put(l->fail_row + 1 + i, 0, A_NORMAL, line, COLS);
    }
}

/* The help of each model: the keys that do something in it, then the keys
 * of the views, the same in both. */
static const char *const help_closed[] = {
    "hopper dashboard keys (closed model: users)",
    "",
    "w / W     target users +1 / +10;  s / S  -1 / -10",
    "u         type a target user count",
    "+ / -     spawn rate up / down (1-2-5 steps); r types one",
    "p         pause / resume the ramp;  z  reset the statistics",
};

static const char *const help_open[] = {
    "hopper dashboard keys (open model: arrivals)",
    "",
    "+ / -     arrival rate up / down: 1, 2, 5, 10, 20, 50...",
    "r         type an arrival rate (300 or 300/s; 0 stops)",
    "w s u     nothing: the pool's users follow the arrivals",
    "p         pause / resume the ramp;  z  reset the statistics",
};

static const char *const help_views[] = {
    "Up/Down   select a row (PgUp/PgDn, Home/End); Enter opens",
    "          its view: charts, percentiles, codes, errors",
    "d c l     distribution, status codes, log (full screen)",
    "t         charts: whole run / last 10 min / last minute",
    "f         show / hide the failures panel;  Esc  back",
    "Ctrl-L    repaint the whole screen",
};

static const char *const help_stop_local[] = {
    "q, Ctrl-C stop the test;  X  the same after a y/n question",
    "?         this help (any key closes it)",
};

static const char *const help_stop_viewer[] = {
    "q         leave this viewer (the test goes on)",
    "X         stop the test, after a y/n question",
    "?         this help (any key closes it)",
};

static const char *const help_marks_closed[] = {
    "A key holds the users until the next stage (\"manual\")",
    "Marks: U users, R rate, P pause, Z reset, S stop, | stage",
};

static const char *const help_marks_open[] = {
    "arrivals: achieved/target; dropped: found no free user",
    "Marks: A arrival rate, | stage, P pause, Z reset, S stop",
};

/* With corrected and raw latencies, in either model. */
static const char *const help_dual[] = {
    "Times are corrected: from when each request was due;",
    "raw p95 / raw p99: from when it was sent. lag p99: how",
    "late hopper sent what was due (highlighted past 1 ms)",
};

#define HELP_ADD(arr)                                                     \
    for (size_t i_ = 0; i_ < sizeof(arr) / sizeof(arr)[0] && n < 48; i_++) \
        lines[n++] = (arr)[i_]

static void draw_help(dash_t *d, const snap_t *s)
{
    const char *lines[48];
    int n = 0;
    if (s->open) {
        HELP_ADD(help_open);
    } else {
        HELP_ADD(help_closed);
    }
    HELP_ADD(help_views);
    if (d->attached) {
        HELP_ADD(help_stop_viewer);
    } else {
        HELP_ADD(help_stop_local);
    }
    if (s->open) {
        HELP_ADD(help_marks_open);
    } else {
        HELP_ADD(help_marks_closed);
    }
    if (s->dual)
        HELP_ADD(help_dual);
    int w = 62;             /* lines of up to 58 columns */
    /* A frame of one blank line above and below when there is room. */
    int pad = n + 2 <= LINES ? 1 : 0;
    int y0 = (LINES - n - 2 * pad) / 2, x0 = (COLS - w) / 2;
    if (y0 < 0)
        y0 = 0;
    if (x0 < 0)
        x0 = 0;
    int a = attr_of(d, ROLE_HEADER);
    for (int i = 0; i < n + 2 * pad && y0 + i < LINES; i++) {
        attron(a);
        mvhline(y0 + i, x0, ' ', w < COLS ? w : COLS);
        attroff(a);
        if (i >= pad && i < n + pad)
            draw_put(y0 + i, x0 + 2, a, lines[i - pad], w - 4);
    }
}

/* The key bar's items for the view, most needed first: as many as fit,
 * whole, with "? help" always last. */
static void draw_keybar_items(dash_t *d, const snap_t *s, int y)
{
    const char *items[24];
    int n = 0;
    bool up_down = d->view == DASH_VIEW_LOG;
    if (d->view != DASH_VIEW_MAIN)
        items[n++] = "Esc back";
    items[n++] = d->attached ? "q detach" : "q stop";
    if (d->attached)
        items[n++] = "X stop";
    if (s->open) {
        items[n++] = "+/- arrival rate";
        items[n++] = "r type a rate";
    } else {
        items[n++] = "w/W s/S users";
        items[n++] = "+/- rate";
        items[n++] = "u/r type";
    }
    if (up_down)
        items[n++] = d->term->utf8 ? "\xe2\x86\x91\xe2\x86\x93 PgUp/PgDn scroll" : "Up/Dn PgUp/PgDn scroll";
    else if (d->view == DASH_VIEW_MAIN)
        items[n++] = d->term->utf8 ? "\xe2\x86\x91\xe2\x86\x93 Enter row" : "Up/Dn Enter row";
    else
        items[n++] = d->term->utf8 ? "\xe2\x86\x91\xe2\x86\x93 row" : "Up/Dn row";
    items[n++] = "d dist";
    items[n++] = "c codes";
    items[n++] = "l log";
    if (d->view == DASH_VIEW_MAIN || d->view == DASH_VIEW_ENDPOINT)
        items[n++] = "t zoom";
    items[n++] = "p pause";
    items[n++] = "z reset";
    if (d->view == DASH_VIEW_MAIN)
        items[n++] = "f failures";
    const char *help = "? help";
    int x = 0, hw = text_columns(help);
    for (int i = 0; i < n; i++) {
        int w = text_columns(items[i]);
        if (x + w + 2 + hw > COLS)
            break;
        draw_put(y, x, attr_of(d, ROLE_DIM), items[i], w);
        x += w + 2;
    }
    draw_put(y, x, attr_of(d, ROLE_DIM), help, COLS - x);
}

static void draw_keybar(dash_t *d, const snap_t *s, int y)
{
    char line[256];
    if (d->prompt) {
        const char *what = d->prompt == 'u' ? "Target users"
                         : d->prompt == 'a' ? "Arrival rate, e.g. 300 or 300/s"
                         : "Spawn rate per second";
        snprintf(line, sizeof line, "%s (Enter applies, Esc cancels): %s_", what, d->input);
        draw_fill_line(y, A_NORMAL);
        draw_put(y, 0, attr_of(d, ROLE_HIGHLIGHT), line, COLS);
        return;
    }
    if (d->confirm_stop) {
        draw_fill_line(y, A_NORMAL);
        draw_put(y, 0, attr_of(d, ROLE_HIGHLIGHT), "stop the test? (y/n)", COLS);
        return;
    }
    /* While stopping, the drain's progress matters more than any flash. */
    if (s->state == RUN_STOPPING) {
        char progress[160];
        snprintf(line, sizeof line, "%s; %s", snap_stop_progress(s, progress, sizeof progress),
                 d->attached ? "X: cancel them now" : "q: cancel them now");
        draw_put(y, 0, attr_of(d, ROLE_HIGHLIGHT), line, COLS);
        return;
    }
    if (d->flash[0] && s->elapsed_ms < d->flash_until_ms) {
        draw_put(y, 0, attr_of(d, ROLE_HIGHLIGHT), d->flash, COLS);
        return;
    }
    draw_keybar_items(d, s, y);
}

/* ---- the screen ----------------------------------------------------------- */

/* The checks' live state on the line under the table: "checks 2/3  ok p95<300ms 231ms  FAIL ...". */
static void draw_checks(dash_t *d, int y, const check_result_t *r, size_t n)
{
    if (n == 0 || y < 0)
        return;
    size_t ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += r[i].passed;
    char buf[256];
    snprintf(buf, sizeof buf, "checks %zu/%zu", ok, n);
    draw_put(y, 0, attr_of(d, ok == n ? ROLE_OK : ROLE_FAIL) | A_BOLD, buf, COLS);
    int x = text_columns(buf) + 2;
    for (size_t i = 0; i < n && x < COLS - 4; i++) {
        char text[128];
        text_sanitize(r[i].check->text, text, sizeof text);
        snprintf(buf, sizeof buf, "%s %s %s", r[i].passed ? (d->term->utf8 ? "\xe2\x9c\x93" : "ok")
                                                          : (d->term->utf8 ? "\xe2\x9c\x97" : "FAIL"),
                 text, r[i].measured);
        draw_put(y, x, attr_of(d, r[i].passed ? ROLE_OK : ROLE_FAIL), buf, COLS - x);
        x += text_columns(buf) + 2;
    }
}

/* The header of the table and the selected row under it, for the views of
 * one row. */
static void draw_row_header(dash_t *d, const snap_t *s, const layout_t *l, size_t sel, int y)
{
    int hdr = attr_of(d, ROLE_HEADER);
    draw_fill_line(y, hdr);
    int x = 0;
    for (int i = 0; i < COL_COUNT; i++) {
        layout_col_t c = col_order[i];
        if (!l->show[c])
            continue;
        if (c == COL_NAME || c == COL_TYPE)
            draw_put(y, x, hdr, layout_col_title(c), l->width[c]);
        else
            draw_put_right(y, x, l->width[c], hdr, layout_col_title(c));
        x += l->width[c] + 1;
    }
    size_t last = snap_row_count(s) - 1;
    draw_row(d, l, y + 1, snap_row(s, sel), sel == last, false);
}

/* Enter: one row's charts above, its percentiles, status codes and errors,
 * and distribution side by side below (below DASH_DRILL_THREE_COLS columns
 * the percentiles and codes only: a third of 80 columns cuts every panel). */
#define DASH_DRILL_THREE_COLS 90

static void draw_endpoint_view(dash_t *d, const snap_t *s, const layout_t *l)
{
    size_t sel = dash_selected(d, s), last = snap_row_count(s) - 1;
    const snap_entry_t *e = snap_row(s, sel);
    draw_row_header(d, s, l, sel, 1);
    int top = 3, h = LINES - 1 - top;
    if (h < 4)
        return;
    /* The charts get half, at least CHART_CHROME + CHART_MIN_PLOT each. */
    int ch = h / 2, min = CHART_CHROME + CHART_MIN_PLOT;
    if (ch < 2 * min)
        ch = h >= 2 * min ? 2 * min : 0;
    if (ch) {
        int lines[2] = {ch - ch / 2, ch / 2};
        draw_row_charts(d, s, e, (view_rect_t){top, 0, ch, COLS}, lines);
    }
    int py = top + ch, ph = h - ch;
    if (ph < 2)
        return;
    if (COLS >= DASH_DRILL_THREE_COLS) {
        int w1 = COLS / 3, w2 = COLS / 3, w3 = COLS - w1 - w2 - 2;
        panel_pct_draw((view_rect_t){py, 0, ph, w1}, s, e, d->term);
        panel_codes_draw((view_rect_t){py, w1 + 1, ph, w2}, s, e, sel == last, d->term);
        panel_dist_draw((view_rect_t){py, w1 + w2 + 2, ph, w3}, e, d->term);
        return;
    }
    /* Narrower, thirds are too small for any of them: the percentiles and
     * the codes side by side (the distribution has its own view, d). */
    int w1 = 28;
    if (COLS - w1 - 1 < w1)
        w1 = (COLS - 1) / 2;
    panel_pct_draw((view_rect_t){py, 0, ph, w1}, s, e, d->term);
    panel_codes_draw((view_rect_t){py, w1 + 1, ph, COLS - w1 - 1}, s, e, sel == last, d->term);
}

/* d, c, l: one panel on the whole screen between the status line and the
 * key bar (the row's name on the line above d and c). */
static void draw_panel_view(dash_t *d, const snap_t *s, const layout_t *l)
{
    size_t sel = dash_selected(d, s), last = snap_row_count(s) - 1;
    const snap_entry_t *e = snap_row(s, sel);
    view_rect_t r = {1, 0, LINES - 2, COLS};
    if (d->view == DASH_VIEW_LOG) {
        d->log_scroll_max = d->log ? panel_log_draw(r, d->log, d->log_scroll, d->term) : 0;
        if (d->log_scroll > d->log_scroll_max)
            d->log_scroll = d->log_scroll_max;
        return;
    }
    draw_row_header(d, s, l, sel, 1);
    r.y = 3;
    r.h = LINES - 4;
    if (d->view == DASH_VIEW_DIST)
        panel_dist_draw(r, e, d->term);
    else
        panel_codes_draw(r, s, e, sel == last, d->term);
}

void dash_draw(dash_t *d, const snap_t *s, const check_result_t *checks, size_t n_checks)
{
    /* Newest log message: shown as a flash, held in full until the screen closes. */
    if (d->log && d->log->seq != d->log_seq) {
        d->log_seq = d->log->seq;
        char clean[LOG_LINE_MAX];
        text_sanitize(d->log->last, clean, sizeof clean);
        snprintf(d->flash, sizeof d->flash, "! %s", clean);
        d->flash_until_ms = s->elapsed_ms + LOG_SHOW_MS;
    }
    /* The failures panel opens by itself at the first failure, unless the
     * operator has already chosen. */
    if (!d->failures_chosen && s->n_errors > 0)
        d->show_failures = true;

    erase();
    layout_compute(&d->layout, COLS, LINES, s->n_entries, s->n_errors, d->show_failures,
                   (s->dual ? LAYOUT_RAW : 0u) | (s->open ? LAYOUT_OPEN : 0u) |
                   (n_checks ? LAYOUT_CHECKS : 0u));
    const layout_t *l = &d->layout;
    if (l->too_small) {
        char line[128];
        /* One line, short enough for any width: the test runs on. */
        snprintf(line, sizeof line, "%dx%d too small (%dx%d); %s; %s", COLS, LINES,
                 LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS, snap_state_name(s->state),
                 d->attached ? "q leaves" : "q stops");
        draw_put(0, 0, A_NORMAL, line, COLS);
        refresh();
        return;
    }
    draw_status(d, s, l->status_row);
    switch (d->view) {
    case DASH_VIEW_MAIN:
        draw_table(d, s, l);
        draw_checks(d, l->note_row, checks, n_checks);
        draw_sparks(d, s, l);
        draw_failures(d, s, l);
        break;
    case DASH_VIEW_ENDPOINT:
        draw_endpoint_view(d, s, l);
        break;
    case DASH_VIEW_DIST:
    case DASH_VIEW_CODES:
    case DASH_VIEW_LOG:
        draw_panel_view(d, s, l);
        break;
    }
    draw_keybar(d, s, l->keybar_row);
    if (d->help)
        draw_help(d, s);
    refresh();
}

static void say(dash_t *d, const snap_t *s, const char *text)
{
    snprintf(d->flash, sizeof d->flash, "%s", text);
    d->flash_until_ms = s->elapsed_ms + FLASH_MS;
}

/* What a key that sets the stages' quantity adds to its feedback: the
 * stages take over again at the next one. */
static const char *manual_note(const snap_t *s)
{
    return s->n_stages && s->stage + 1 < s->n_stages ? " (manual until the next stage)" : "";
}

static dash_cmd_t set_users(dash_t *d, const snap_t *s, double users)
{
    if (users < 0)
        users = 0;
    if (users > (double)HOPPER_MAX_USERS)
        users = (double)HOPPER_MAX_USERS;
    char t[96];
    snprintf(t, sizeof t, "target users -> %.0f%s", users, manual_note(s));
    say(d, s, t);
    return (dash_cmd_t){DASH_SET_USERS, users};
}

static dash_cmd_t set_rate(dash_t *d, const snap_t *s, double rate)
{
    /* + and - step within the limits (a viewer's test refuses others). */
    rate = rate < HOPPER_MIN_SPAWN_RATE ? HOPPER_MIN_SPAWN_RATE
         : rate > HOPPER_MAX_SPAWN_RATE ? HOPPER_MAX_SPAWN_RATE : rate;
    char t[64];
    snprintf(t, sizeof t, "spawn rate -> %g/s", rate);
    say(d, s, t);
    return (dash_cmd_t){DASH_SET_RATE, rate};
}

static dash_cmd_t set_arrival_rate(dash_t *d, const snap_t *s, double rate)
{
    char t[128], r[48];
    snprintf(t, sizeof t, "arrival rate -> %s%s",
             stages_rate_describe(rate, STAGES_EXACT, r, sizeof r), manual_note(s));
    say(d, s, t);
    return (dash_cmd_t){DASH_SET_ARRIVAL_RATE, rate};
}

/* The open model's users are the pool's: they follow the arrivals. A user
 * key says so instead of doing something the operator did not mean. */
static dash_cmd_t open_users_key(dash_t *d, const snap_t *s)
{
    char t[160];
    /* 80 columns with a max-users of up to 5 digits. */
    snprintf(t, sizeof t,
             "open model: users come from the pool (max-users %llu); +/- set the arrival rate",
             (unsigned long long)s->max_users);
    say(d, s, t);
    return (dash_cmd_t){DASH_NONE, 0};
}

double dash_arrival_step(double rate, int dir, double max)
{
    double v;
    if (!(rate >= 0))
        rate = 0;
    /* The series starts at 1/s; below it there is only 0 (no arrivals). */
    if (dir > 0)
        v = rate < 1 ? 1 : text_step_125(rate, +1);
    else
        v = rate <= 1 ? 0 : text_step_125(rate, -1);
    return v > max ? max : v;
}

int dash_parse_rate(const char *text, double *out, char *err, size_t errlen)
{
    /* The plan's rule for a rate (plan/stages.h: N/s, N/m, N/h, the limit),
     * so that the prompt takes what --arrival-rate takes; and two of the
     * prompt's own: a bare number is per second, and 0 (which a plan
     * refuses: a test without arrivals) stops the arrivals for now. */
    char buf[40];
    const char *p = text;
    while (*p == ' ')
        p++;
    size_t n = strlen(p);
    while (n && p[n - 1] == ' ')
        n--;
    if (n + sizeof "/s" > sizeof buf) {
        snprintf(err, errlen, "too long for a rate");
        return -1;
    }
    memcpy(buf, p, n);
    buf[n] = '\0';
    size_t num = strspn(buf, "0123456789.");
    if (num == n && n > 0)
        memcpy(buf + n, "/s", sizeof "/s");
    if (stages_parse_rate(buf, out, err, errlen) == 0)
        return 0;
    /* Zero: a number of zeros with at most one point, then a unit that the
     * plan takes for a rate of 1. */
    size_t zeros = strspn(buf, "0.");
    const char *point = memchr(buf, '.', zeros);
    bool one_point = !point || !memchr(point + 1, '.', zeros - (size_t)(point + 1 - buf));
    if (zeros > 0 && zeros == num && memchr(buf, '0', zeros) && one_point) {
        char one[48];
        double ignored;
        snprintf(one, sizeof one, "1%s", buf + zeros);
        if (stages_parse_rate(one, &ignored, NULL, 0) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

static dash_cmd_t arrival_prompt_enter(dash_t *d, const snap_t *s)
{
    double v;
    char why[200], t[sizeof why + 32];
    if (dash_parse_rate(d->input, &v, why, sizeof why) != 0) {
        snprintf(t, sizeof t, "%s: nothing changed", why);
        say(d, s, t);
        return (dash_cmd_t){DASH_NONE, 0};
    }
    return set_arrival_rate(d, s, v);
}

static dash_cmd_t prompt_key(dash_t *d, int key, const snap_t *s)
{
    dash_cmd_t none = {DASH_NONE, 0};
    if (key == 27) {                      /* Esc */
        d->prompt = 0;
        return none;
    }
    if (key == KEY_BACKSPACE || key == 127 || key == 8) {
        if (d->input_len)
            d->input[--d->input_len] = '\0';
        return none;
    }
    if (key == '\n' || key == '\r' || key == KEY_ENTER) {
        int which = d->prompt;
        d->prompt = 0;
        if (which == 'a')
            return arrival_prompt_enter(d, s);
        char *end;
        double v = strtod(d->input, &end);
        if (d->input_len == 0 || *end || !isfinite(v)) {
            say(d, s, "not a number: nothing changed");
            return none;
        }
        if (which == 'u')
            return set_users(d, s, floor(v));
        if (v < HOPPER_MIN_SPAWN_RATE || v > HOPPER_MAX_SPAWN_RATE) {
            say(d, s, "the spawn rate must be from " HOPPER_STR(HOPPER_MIN_SPAWN_RATE_N) " to "
                HOPPER_STR(HOPPER_MAX_SPAWN_RATE_N));
            return none;
        }
        return set_rate(d, s, v);
    }
    /* The arrival rate takes any printable text and judges it at Enter, so
     * that "3x0" is refused rather than read as 30; the other prompts take
     * only what a number of theirs can hold. */
    bool ok = d->prompt == 'a' ? key >= ' ' && key <= '~'
                               : (key >= '0' && key <= '9') || (key == '.' && d->prompt == 'r');
    if (ok && d->input_len + 1 < sizeof d->input) {
        d->input[d->input_len++] = (char)key;
        d->input[d->input_len] = '\0';
    }
    return none;
}

static void open_prompt(dash_t *d, int which)
{
    d->prompt = which;
    d->input[0] = '\0';
    d->input_len = 0;
}

/* Moves the selection by delta rows, within the table (Aggregated last). */
static void select_move(dash_t *d, const snap_t *s, long delta)
{
    long last = (long)snap_row_count(s) - 1, v = (long)dash_selected(d, s) + delta;
    d->sel = (size_t)(v < 0 ? 0 : v > last ? last : v);
    d->sel_set = true;
}

/* The log view's scrolling: Up, PgUp and Home go back in time. */
static void log_key(dash_t *d, int key)
{
    size_t page = LINES > 4 ? (size_t)LINES - 4 : 1;
    switch (key) {
    case KEY_UP: d->log_scroll++; break;
    case KEY_DOWN: if (d->log_scroll) d->log_scroll--; break;
    case KEY_PPAGE: d->log_scroll += page; break;
    case KEY_NPAGE: d->log_scroll = d->log_scroll > page ? d->log_scroll - page : 0; break;
    case KEY_HOME: d->log_scroll = d->log_scroll_max; break;
    case KEY_END: d->log_scroll = 0; break;
    }
    /* Clamped at the next draw too, which knows the rectangle. */
    if (d->log_scroll_max && d->log_scroll > d->log_scroll_max)
        d->log_scroll = d->log_scroll_max;
}

static void open_view(dash_t *d, dash_view_t v)
{
    d->view = v;
    d->log_scroll = 0;
}

dash_cmd_t dash_key(dash_t *d, int key, const snap_t *s)
{
    dash_cmd_t none = {DASH_NONE, 0};
    if (d->prompt)
        return prompt_key(d, key, s);
    if (d->confirm_stop && key != ERR) {
        d->confirm_stop = false;
        if (key == 'y' || key == 'Y') {
            say(d, s, s->state == RUN_STOPPING ? "cancelling the requests in flight" : "stopping the test");
            return (dash_cmd_t){DASH_STOP, 0};
        }
        say(d, s, "the test goes on");
        return none;
    }
    if (d->help && key != ERR) {
        d->help = false;
        return none;
    }
    size_t rows = d->layout.entry_rows > 0 ? (size_t)d->layout.entry_rows : 1;
    if (d->view == DASH_VIEW_LOG && (key == KEY_UP || key == KEY_DOWN || key == KEY_PPAGE ||
                                     key == KEY_NPAGE || key == KEY_HOME || key == KEY_END)) {
        log_key(d, key);
        return none;
    }
    switch (key) {
    case 'q': case 'Q': case 3:           /* 3: Ctrl-C arriving as a key */
        if (d->attached) {
            /* A viewer leaves; the test it watched goes on. */
            say(d, s, "detaching: the test goes on");
            return (dash_cmd_t){DASH_DETACH, 0};
        }
        /* A second q reaches the engine too: it cancels what is in flight. */
        say(d, s, s->state == RUN_STOPPING ? "cancelling the requests in flight" : "stopping");
        return (dash_cmd_t){DASH_STOP, 0};
    case 'X':
        d->confirm_stop = true;
        return none;
    case 27:                              /* Esc */
        open_view(d, DASH_VIEW_MAIN);
        return none;
    case 12:                              /* Ctrl-L: repaint the whole screen */
        clearok(curscr, TRUE);
        return none;
    case 'w': case 'W': case 's': case 'S': case 'u':
        if (s->open)
            return open_users_key(d, s);
        if (key == 'u') {
            open_prompt(d, 'u');
            return none;
        }
        return set_users(d, s, (double)s->target_users + (key == 'w' ? 1 : key == 'W' ? 10
                                                            : key == 's' ? -1 : -10));
    case KEY_UP:
        select_move(d, s, -1);
        return none;
    case KEY_DOWN:
        select_move(d, s, +1);
        return none;
    case KEY_PPAGE:
        select_move(d, s, -(long)rows);
        return none;
    case KEY_NPAGE:
        select_move(d, s, (long)rows);
        return none;
    case KEY_HOME:
        select_move(d, s, -(long)snap_row_count(s));
        return none;
    case KEY_END:
        select_move(d, s, (long)snap_row_count(s));
        return none;
    case '\n': case '\r': case KEY_ENTER:
        open_view(d, DASH_VIEW_ENDPOINT);
        return none;
    case 'd': case 'D':
        open_view(d, DASH_VIEW_DIST);
        return none;
    case 'c': case 'C':
        open_view(d, DASH_VIEW_CODES);
        return none;
    case 'l': case 'L':
        open_view(d, DASH_VIEW_LOG);
        return none;
    case 't': case 'T':
        d->zoom = (chart_zoom_t)((d->zoom + 1) % CHART_ZOOM_COUNT);
        {
            char t[64];
            snprintf(t, sizeof t, "charts: %s", chart_zoom_name(d->zoom));
            say(d, s, t);
        }
        return none;
    case '+': case '=':
        if (s->open)
            return set_arrival_rate(d, s, dash_arrival_step(s->arrival_rate, +1, HOPPER_MAX_ARRIVAL_RATE));
        return set_rate(d, s, text_step_125(s->spawn_rate, +1));
    case '-': case '_':
        if (s->open)
            return set_arrival_rate(d, s, dash_arrival_step(s->arrival_rate, -1, HOPPER_MAX_ARRIVAL_RATE));
        return set_rate(d, s, text_step_125(s->spawn_rate, -1));
    case 'r':
        open_prompt(d, s->open ? 'a' : 'r');
        return none;
    case 'p': case 'P':
        say(d, s, s->paused ? "ramp resumed" : "ramp paused");
        return (dash_cmd_t){DASH_PAUSE, s->paused ? 0 : 1};
    case 'z': case 'Z':
        say(d, s, "statistics reset");
        return (dash_cmd_t){DASH_RESET, 0};
    case 'f': case 'F':
        d->show_failures = !d->show_failures;
        d->failures_chosen = true;
        return none;
    case '?': case 'h': case 'H':
        d->help = true;
        return none;
    default:
        return none;
    }
}

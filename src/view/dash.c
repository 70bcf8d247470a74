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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "plan/stages.h"
#include "util/duration.h"
#include "util/text.h"
#include "view/draw.h"
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
#define STATUS_PRIO_MAX 6

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

/* Chooses the fields that fit in cols: by priority, then from the left,
 * each one that still fits (so a short field of a lower priority can take
 * the room a long one left). prio 0 always stays; draw_put() cuts what must stay
 * at the edge of a terminal too narrow even for that. */
static void status_fit(status_line_t *st, int cols)
{
    int w = 1;                    /* the space that ends the left part */
    for (int i = 0; i < st->n; i++)
        st->f[i].keep = false;
    for (int prio = 0; prio <= STATUS_PRIO_MAX; prio++)
        for (int i = 0; i < st->n; i++) {
            status_field_t *f = &st->f[i];
            int fw = field_width(f);
            if (f->prio == prio && (prio == 0 || w + fw <= cols)) {
                f->keep = true;
                w += fw;
            }
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

static void draw_row(dash_t *d, const layout_t *l, int y, const snap_entry_t *e, bool total)
{
    bool utf8 = d->term->utf8;
    int x = 0, base = total ? A_BOLD : A_NORMAL;
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
                attr = attr_of(d, ROLE_FAIL);
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
                attr = attr_of(d, ROLE_FAIL);
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
    /* Keep the scroll position valid for this size. */
    size_t rows = (size_t)l->entry_rows;
    if (s->n_entries <= rows)
        d->scroll = 0;
    else if (d->scroll > s->n_entries - rows)
        d->scroll = s->n_entries - rows;
    /* The rows of snap_row: a window of the endpoints, then Aggregated on its
     * own line, which never scrolls away. */
    size_t last = snap_row_count(s) - 1;
    for (size_t i = 0; i < rows && d->scroll + i < last; i++)
        draw_row(d, l, l->first_entry_row + (int)i, snap_row(s, d->scroll + i), false);
    draw_row(d, l, l->aggregated_row, snap_row(s, last), true);
    if (s->n_entries > rows) {
        char more[48];
        snprintf(more, sizeof more, " %zu-%zu of %zu ", d->scroll + 1, d->scroll + rows, s->n_entries);
        draw_put_right(l->aggregated_row + 1, 0, COLS, attr_of(d, ROLE_DIM), more);
    }
}

/* ---- sparklines ------------------------------------------------------------ */

typedef double (*sample_value_fn)(const snap_sample_t *);
static double v_rps(const snap_sample_t *x) { return x->rps; }
static double v_fps(const snap_sample_t *x) { return x->fps; }
static double v_p50(const snap_sample_t *x) { return x->p50_us; }
static double v_p95(const snap_sample_t *x) { return x->p95_us; }
static double v_p95_raw(const snap_sample_t *x) { return x->p95_raw_us; }
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

/* One strip of w columns from x, newest sample at the right. With fail_fn,
 * seconds that had failures are drawn in the failure colour (or, without
 * colour, with '!'). */
static void draw_strip(dash_t *d, const snap_t *s, int y, int x, int w, sample_value_fn f,
                       double max, int attr, sample_value_fn fail_fn)
{
    bool utf8 = d->term->utf8;
    int levels = utf8 ? SPARK_UTF8_LEVELS : SPARK_ASCII_LEVELS;
    size_t n = s->n_recent, shown = n < (size_t)w ? n : (size_t)w;
    int start = x + w - (int)shown;
    for (size_t i = 0; i < shown; i++) {
        const snap_sample_t *smp = &s->recent[n - shown + i];
        int level = spark_level(f(smp), max, levels);
        const char *g = spark_glyph(level, utf8);
        int a = attr;
        if (fail_fn && fail_fn(smp) > 0) {
            a = attr_of(d, ROLE_FAIL);
            if (!d->term->color)
                g = "!";
        }
        draw_put(y, start + (int)i, a, g, 1);
    }
}

/* "name value (max m)   name2 value2 (max m2)": labels dim, values bright. */
static int draw_pair(dash_t *d, int y, int x, const char *name, const char *now, const char *max)
{
    char buf[64];
    draw_put(y, x, attr_of(d, ROLE_DIM), name, COLS - x);
    x += text_columns(name) + 1;
    draw_put(y, x, attr_of(d, ROLE_HIGHLIGHT), now, COLS - x);
    x += text_columns(now) + 1;
    if (max) {
        snprintf(buf, sizeof buf, "(max %s)", max);
        draw_put(y, x, attr_of(d, ROLE_DIM), buf, COLS - x);
        x += text_columns(buf);
    }
    return x + 3;
}

static void draw_events(dash_t *d, const snap_t *s, int y, int w)
{
    if (s->n_recent == 0)
        return;
    uint32_t newest = s->recent[s->n_recent - 1].t;
    for (size_t i = 0; i < s->n_events; i++) {
        /* An action at 12.3 s happened during the second that ends at 13. */
        uint32_t t = (uint32_t)(s->events[i].t_ms / 1000) + 1;
        if (t > newest)
            t = newest;
        if (newest - t >= (uint32_t)w)
            continue;
        char m[2] = {snap_event_mark(s->events[i].kind), '\0'};
        draw_put(y, w - 1 - (int)(newest - t), attr_of(d, ROLE_HIGHLIGHT), m, 1);
    }
}

/* The open model's chart: arrivals started per second, seconds with
 * dropped arrivals in the failure colour (or '!'), and the schedule lag. */
static void draw_arrivals_full(dash_t *d, const snap_t *s, int y, int w)
{
    const snap_sample_t *last = s->n_recent ? &s->recent[s->n_recent - 1] : NULL;
    char a[32], b[32], c[32], e[32];
    double amax = window_max(s, (size_t)w, v_arrivals), dmax = window_max(s, (size_t)w, v_dropped);
    int x = draw_pair(d, y, 0, "arrivals/s", text_rate(last ? last->arrivals : 0, a, sizeof a),
                      text_rate(amax, b, sizeof b));
    x = draw_pair(d, y, x, "dropped/s", text_rate(last ? last->dropped : 0, c, sizeof c),
                  text_rate(dmax, e, sizeof e));
    if (s->dual)
        draw_pair(d, y, x, "lag p99", text_time_us(last ? last->lag_p99_us : 0, d->term->utf8, a, sizeof a),
                  NULL);
    draw_strip(d, s, y + 1, 0, w, v_arrivals, amax, attr_of(d, ROLE_OK), v_dropped);
}

static void draw_sparks(dash_t *d, const snap_t *s, const layout_t *l)
{
    if (l->sparks == SPARKS_NONE)
        return;
    bool utf8 = d->term->utf8;
    const snap_sample_t *last = s->n_recent ? &s->recent[s->n_recent - 1] : NULL;
    char a[32], b[32], c[32], e[32], lab[128];
    int y = l->spark_row;

    if (l->sparks == SPARKS_FULL) {
        int w = COLS, x;
        double rmax = window_max(s, (size_t)w, v_rps), fmax = window_max(s, (size_t)w, v_fps);
        double tmax = window_max(s, (size_t)w, v_p95), umax = window_max(s, (size_t)w, v_users);
        x = draw_pair(d, y, 0, "requests/s", text_rate(last ? last->rps : 0, a, sizeof a),
                      text_rate(rmax, b, sizeof b));
        draw_pair(d, y, x, "failures/s", text_rate(last ? last->fps : 0, c, sizeof c),
                  text_rate(fmax, e, sizeof e));
        draw_strip(d, s, y + 1, 0, w, v_rps, rmax, attr_of(d, ROLE_OK), v_fps);

        if (s->dual) {
            /* Corrected p95 above raw p95 on one scale: the gap between
             * them is, mostly, time the requests waited to be sent. */
            double rawmax = window_max(s, (size_t)w, v_p95_raw);
            if (rawmax > tmax)
                tmax = rawmax;
            x = draw_pair(d, y + 2, 0, "response time p95 corrected",
                          text_time_us(last ? last->p95_us : 0, utf8, a, sizeof a),
                          text_time_us((uint64_t)tmax, utf8, b, sizeof b));
            draw_pair(d, y + 2, x, "raw", text_time_us(last ? last->p95_raw_us : 0, utf8, c, sizeof c), NULL);
            draw_strip(d, s, y + 3, 0, w, v_p95, tmax, attr_of(d, ROLE_DIM), NULL);
            draw_strip(d, s, y + 4, 0, w, v_p95_raw, tmax, attr_of(d, ROLE_NORMAL), NULL);
        } else {
            x = draw_pair(d, y + 2, 0, "response time p95", text_time_us(last ? last->p95_us : 0, utf8, a, sizeof a),
                          text_time_us((uint64_t)tmax, utf8, b, sizeof b));
            draw_pair(d, y + 2, x, "p50", text_time_us(last ? last->p50_us : 0, utf8, c, sizeof c), NULL);
            /* Both strips share the p95 scale, so p50 reads against it. */
            draw_strip(d, s, y + 3, 0, w, v_p95, tmax, attr_of(d, ROLE_DIM), NULL);
            draw_strip(d, s, y + 4, 0, w, v_p50, tmax, attr_of(d, ROLE_NORMAL), NULL);
        }
        y += 5;
        if (s->open) {
            draw_arrivals_full(d, s, y, w);
            y += 2;
            /* The pool: busy users now, and how many it holds of its bound. */
            snprintf(lab, sizeof lab, "%llu", (unsigned long long)s->users);
            x = draw_pair(d, y, 0, "users busy", lab, text_count((uint64_t)umax, c, sizeof c));
            snprintf(lab, sizeof lab, "%llu/%llu", (unsigned long long)s->pool_users,
                     (unsigned long long)s->max_users);
            draw_pair(d, y, x, "pool", lab, NULL);
        } else {
            snprintf(lab, sizeof lab, "%llu/%llu", (unsigned long long)s->users,
                     (unsigned long long)s->target_users);
            draw_pair(d, y, 0, "users", lab, text_count((uint64_t)umax, c, sizeof c));
        }
        draw_strip(d, s, y + 1, 0, w, v_users, umax, attr_of(d, ROLE_HIGHLIGHT), NULL);
        draw_events(d, s, y + 2, w);
        return;
    }
    /* Compact: a short label, then the strip on the same line. */
    int lw = 16, w = COLS - lw;
    double rmax = window_max(s, (size_t)w, v_rps), tmax = window_max(s, (size_t)w, v_p95);
    double umax = window_max(s, (size_t)w, v_users);
    snprintf(lab, sizeof lab, "req/s %s", text_rate(last ? last->rps : 0, a, sizeof a));
    draw_put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y, lw, w, v_rps, rmax, attr_of(d, ROLE_OK), v_fps);
    snprintf(lab, sizeof lab, "p95 %s", text_time_us(last ? last->p95_us : 0, utf8, a, sizeof a));
    draw_put(y + 1, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y + 1, lw, w, v_p95, tmax, attr_of(d, ROLE_NORMAL), NULL);
    y += 2;
    if (s->open) {
        double amax = window_max(s, (size_t)w, v_arrivals);
        snprintf(lab, sizeof lab, "arr/s %s", text_rate(last ? last->arrivals : 0, a, sizeof a));
        draw_put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
        draw_strip(d, s, y, lw, w, v_arrivals, amax, attr_of(d, ROLE_OK), v_dropped);
        y++;
    }
    snprintf(lab, sizeof lab, "%s %llu", s->open ? "busy" : "users", (unsigned long long)s->users);
    draw_put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y, lw, w, v_users, umax, attr_of(d, ROLE_HIGHLIGHT), NULL);
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

/* The help of each model: the keys that do something in it. */
static const char *const help_closed[] = {
    "hopper dashboard keys (closed model: users)",
    "",
    "w / W     target users +1 / +10",
    "s / S     target users -1 / -10",
    "Up/Down   same as w / s when the table fits",
    "+ / -     spawn rate up / down (1-2-5 steps)",
    "u         type a target user count",
    "r         type a spawn rate",
    "p         pause / resume the ramp",
    "z         reset the statistics",
    "f         show / hide the failures panel",
    "PgUp/PgDn scroll the endpoint table",
    "q, Ctrl-C stop the test and print the summary",
    "?         this help (any key closes it)",
    "",
    "With stages, a key holds the users until the next stage",
    "begins (\"manual\" on the status line)",
    "Marks: U users, R rate, P pause, Z reset, S stop, | stage",
};

static const char *const help_open[] = {
    "hopper dashboard keys (open model: arrivals)",
    "",
    "+ / -     arrival rate up / down: 1, 2, 5, 10, 20, 50...",
    "r         type an arrival rate (300 or 300/s; 0 stops)",
    "w s u     nothing: the pool's users follow the arrivals",
    "          (up to max-users); + and - set the load",
    "p         pause / resume the ramp",
    "z         reset the statistics",
    "f         show / hide the failures panel",
    "Up/Down   PgUp/PgDn scroll the endpoint table",
    "q, Ctrl-C stop the test and print the summary",
    "?         this help (any key closes it)",
    "",
    "arrivals: achieved/target per second; dropped: arrivals",
    "that found no free user. With stages, + - r hold the",
    "rate until the next stage (\"manual\" on the status line)",
    "Marks: A arrival rate, | stage, P pause, Z reset, S stop",
};

/* With corrected and raw latencies, in either model. */
static const char *const help_dual[] = {
    "",
    "Times are corrected: from when each request was due;",
    "raw p95 / raw p99: from when it was sent. lag p99: how",
    "late hopper sent what was due (highlighted past 1 ms)",
};

static void draw_help(dash_t *d, const snap_t *s)
{
    const char *lines[48];
    int n = 0;
    const char *const *model = s->open ? help_open : help_closed;
    size_t n_model = s->open ? sizeof help_open / sizeof help_open[0]
                             : sizeof help_closed / sizeof help_closed[0];
    for (size_t i = 0; i < n_model; i++)
        lines[n++] = model[i];
    if (s->dual)
        for (size_t i = 0; i < sizeof help_dual / sizeof help_dual[0]; i++)
            lines[n++] = help_dual[i];
    int w = 62;             /* lines of up to 58 columns */
    int y0 = (LINES - n - 2) / 2, x0 = (COLS - w) / 2;
    if (y0 < 0)
        y0 = 0;
    if (x0 < 0)
        x0 = 0;
    int a = attr_of(d, ROLE_HEADER);
    for (int i = 0; i < n + 2 && y0 + i < LINES; i++) {
        attron(a);
        mvhline(y0 + i, x0, ' ', w < COLS ? w : COLS);
        attroff(a);
        if (i > 0 && i <= n)
            draw_put(y0 + i, x0 + 2, a, lines[i - 1], w - 4);
    }
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
    /* While stopping, the drain's progress matters more than any flash. */
    if (s->state == RUN_STOPPING) {
        char progress[160];
        snprintf(line, sizeof line, "%s; q: cancel them now",
                 snap_stop_progress(s, progress, sizeof progress));
        draw_put(y, 0, attr_of(d, ROLE_HIGHLIGHT), line, COLS);
        return;
    }
    if (d->flash[0] && s->elapsed_ms < d->flash_until_ms) {
        draw_put(y, 0, attr_of(d, ROLE_HIGHLIGHT), d->flash, COLS);
        return;
    }
    draw_put(y, 0, attr_of(d, ROLE_DIM),
        s->open ? "q stop  +/- arrival rate  r type a rate  p pause  z reset  f failures  ? help"
                : "q stop  w/W s/S users  +/- rate  u/r type  p pause  z reset  f failures  ? help",
        COLS);
}

/* ---- the screen ----------------------------------------------------------- */

/* The checks' live state on the line under the table: "checks 2/3  ok p95<300ms 231ms  FAIL ...". */
static void draw_checks(dash_t *d, int y, const check_result_t *r, size_t n)
{
    if (n == 0)
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
                   (s->dual ? LAYOUT_RAW : 0u) | (s->open ? LAYOUT_OPEN : 0u));
    const layout_t *l = &d->layout;
    if (l->too_small) {
        char line[128];
        /* One line, short enough for any width: the test runs on. */
        snprintf(line, sizeof line, "%dx%d too small (%dx%d); %s; q stops", COLS, LINES,
                 LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS, snap_state_name(s->state));
        draw_put(0, 0, A_NORMAL, line, COLS);
        refresh();
        return;
    }
    draw_status(d, s, l->status_row);
    draw_table(d, s, l);
    draw_checks(d, l->aggregated_row + 1, checks, n_checks);
    draw_sparks(d, s, l);
    draw_failures(d, s, l);
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
        if (v <= 0 || v > HOPPER_MAX_SPAWN_RATE) {
            say(d, s, "the spawn rate must be above 0 and at most " HOPPER_STR(HOPPER_MAX_SPAWN_RATE_N));
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

dash_cmd_t dash_key(dash_t *d, int key, const snap_t *s)
{
    dash_cmd_t none = {DASH_NONE, 0};
    if (d->prompt)
        return prompt_key(d, key, s);
    if (d->help && key != ERR) {
        d->help = false;
        return none;
    }
    size_t rows = d->layout.entry_rows > 0 ? (size_t)d->layout.entry_rows : 1;
    bool scrolls = s->n_entries > rows;
    switch (key) {
    case 'q': case 'Q': case 3:           /* 3: Ctrl-C arriving as a key */
        /* A second q reaches the engine too: it cancels what is in flight. */
        say(d, s, s->state == RUN_STOPPING ? "cancelling the requests in flight" : "stopping");
        return (dash_cmd_t){DASH_STOP, 0};
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
        if (!scrolls)
            return s->open ? open_users_key(d, s) : set_users(d, s, (double)s->target_users + 1);
        if (d->scroll)
            d->scroll--;
        return none;
    case KEY_DOWN:
        if (!scrolls)
            return s->open ? open_users_key(d, s) : set_users(d, s, (double)s->target_users - 1);
        if (d->scroll + rows < s->n_entries)
            d->scroll++;
        return none;
    case KEY_PPAGE:
        d->scroll = d->scroll > rows ? d->scroll - rows : 0;
        return none;
    case KEY_NPAGE:
        d->scroll += rows;       /* clamped at the next draw */
        return none;
    case KEY_HOME:
        d->scroll = 0;
        return none;
    case KEY_END:
        d->scroll = s->n_entries;
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

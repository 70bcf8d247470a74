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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "util/duration.h"
#include "util/text.h"
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

/* Writes s at (y, x), at most w columns, with an attribute. */
static void put(int y, int x, int attr, const char *s, int w)
{
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return;
    if (x + w > COLS)
        w = COLS - x;
    /* Cut at w columns (UTF-8 aware): ncurses' n counts bytes. */
    int cols = 0;
    size_t bytes = 0;
    for (const char *p = s; *p; p++) {
        bool starts = ((unsigned char)*p & 0xc0) != 0x80;
        if (starts && cols == w)
            break;
        cols += starts;
        bytes++;
    }
    attron(attr);
    mvaddnstr(y, x, s, (int)bytes);
    attroff(attr);
}

/* Writes s right-aligned in a cell of w columns ending at column x + w. */
static void put_right(int y, int x, int w, int attr, const char *s)
{
    int c = text_columns(s);
    if (c > w)
        c = w;
    put(y, x + w - c, attr, s, c);
}

static void fill_line(int y, int attr)
{
    attron(attr);
    mvhline(y, 0, ' ', COLS);
    attroff(attr);
}

static int attr_of(const dash_t *d, term_role_t r)
{
    return term_attr(d->term, r);
}

/* ---- the status line ------------------------------------------------------ */

static void draw_status(dash_t *d, const snap_t *s, int y)
{
    char host[128], el[24], left[24], reqs[24], rps[24], line[512];
    text_sanitize(s->host ? s->host : "", host, sizeof host);
    text_clock(s->elapsed_ms, el, sizeof el);
    if (s->run_time_ms) {
        uint64_t l = s->run_time_ms > s->elapsed_ms ? s->run_time_ms - s->elapsed_ms : 0;
        char t[24];
        snprintf(left, sizeof left, ", %s left", text_clock(l + 999, t, sizeof t));
    } else {
        left[0] = '\0';
    }
    double fail_pct = s->total.requests ? 100.0 * (double)s->total.failures / (double)s->total.requests : 0;
    char nli[48] = "";
    if (s->not_logged_in)
        snprintf(nli, sizeof nli, " (%llu not logged in)", (unsigned long long)s->not_logged_in);
    snprintf(line, sizeof line,
             " hopper  %s | %s%s | users %llu/%llu%s | rate %g/s | %s%s | %s reqs | %s req/s | %.2f%% fail ",
             host, snap_state_name(s->state), s->paused ? " (paused)" : "",
             (unsigned long long)s->users, (unsigned long long)s->target_users, nli, s->spawn_rate,
             el, left, text_count(s->total.requests, reqs, sizeof reqs),
             text_rate(s->total.cur_rps, rps, sizeof rps), fail_pct);
    /* The generator's own health at the right end: the busiest process. */
    double cpu = s->self.cpu_pct, lag = s->self.lag_ms;
    for (unsigned i = 0; i < s->n_workers; i++)
        if (s->workers[i].alive) {
            if (s->workers[i].cpu_pct > cpu)
                cpu = s->workers[i].cpu_pct;
            if (s->workers[i].lag_ms > lag)
                lag = s->workers[i].lag_ms;
        }
    char gen[96];
    if (s->overloaded)
        snprintf(gen, sizeof gen, " HOPPER OVERLOADED cpu %.0f%% lag %.0fms ", cpu, lag);
    else if (s->n_workers)
        snprintf(gen, sizeof gen, " %u workers, cpu %.0f%% ", s->n_workers, cpu);
    else
        snprintf(gen, sizeof gen, " cpu %.0f%% ", cpu);
    fill_line(y, attr_of(d, ROLE_HEADER));
    int gw = text_columns(gen);
    put(y, 0, attr_of(d, ROLE_HEADER), line, COLS - gw > 20 ? COLS - gw : COLS);
    if (COLS - gw > 20)
        put(y, COLS - gw, s->overloaded ? (int)(attr_of(d, ROLE_FAIL) | (int)A_REVERSE) : attr_of(d, ROLE_HEADER),
            gen, gw);
}

/* ---- the endpoint table --------------------------------------------------- */

static const layout_col_t col_order[COL_COUNT] = {
    COL_TYPE, COL_NAME, COL_REQS, COL_FAILS, COL_MED, COL_AVG, COL_MIN, COL_MAX,
    COL_P95, COL_P99, COL_SIZE, COL_RPS, COL_FPS,
};

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
            put(y, x, attr, buf, w);
        else
            put_right(y, x, w, attr, buf);
        x += w + 1;
    }
}

static void draw_table(dash_t *d, const snap_t *s, const layout_t *l)
{
    int hdr = attr_of(d, ROLE_HEADER);
    fill_line(l->header_row, hdr);
    int x = 0;
    for (int i = 0; i < COL_COUNT; i++) {
        layout_col_t c = col_order[i];
        if (!l->show[c])
            continue;
        if (c == COL_NAME || c == COL_TYPE)
            put(l->header_row, x, hdr, layout_col_title(c), l->width[c]);
        else
            put_right(l->header_row, x, l->width[c], hdr, layout_col_title(c));
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
        put_right(l->aggregated_row + 1, 0, COLS, attr_of(d, ROLE_DIM), more);
    }
}

/* ---- sparklines ------------------------------------------------------------ */

typedef double (*sample_value_fn)(const snap_sample_t *);
static double v_rps(const snap_sample_t *x) { return x->rps; }
static double v_fps(const snap_sample_t *x) { return x->fps; }
static double v_p50(const snap_sample_t *x) { return x->p50_us; }
static double v_p95(const snap_sample_t *x) { return x->p95_us; }
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
        put(y, start + (int)i, a, g, 1);
    }
}

/* "name value (max m)   name2 value2 (max m2)": labels dim, values bright. */
static int draw_pair(dash_t *d, int y, int x, const char *name, const char *now, const char *max)
{
    char buf[64];
    put(y, x, attr_of(d, ROLE_DIM), name, COLS - x);
    x += text_columns(name) + 1;
    put(y, x, attr_of(d, ROLE_HIGHLIGHT), now, COLS - x);
    x += text_columns(now) + 1;
    if (max) {
        snprintf(buf, sizeof buf, "(max %s)", max);
        put(y, x, attr_of(d, ROLE_DIM), buf, COLS - x);
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
        put(y, w - 1 - (int)(newest - t), attr_of(d, ROLE_HIGHLIGHT), m, 1);
    }
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

        x = draw_pair(d, y + 2, 0, "response time p95", text_time_us(last ? last->p95_us : 0, utf8, a, sizeof a),
                      text_time_us((uint64_t)tmax, utf8, b, sizeof b));
        draw_pair(d, y + 2, x, "p50", text_time_us(last ? last->p50_us : 0, utf8, c, sizeof c), NULL);
        /* Both strips share the p95 scale, so p50 reads against it. */
        draw_strip(d, s, y + 3, 0, w, v_p95, tmax, attr_of(d, ROLE_DIM), NULL);
        draw_strip(d, s, y + 4, 0, w, v_p50, tmax, attr_of(d, ROLE_NORMAL), NULL);

        snprintf(lab, sizeof lab, "%llu/%llu", (unsigned long long)s->users,
                 (unsigned long long)s->target_users);
        draw_pair(d, y + 5, 0, "users", lab, text_count((uint64_t)umax, c, sizeof c));
        draw_strip(d, s, y + 6, 0, w, v_users, umax, attr_of(d, ROLE_HIGHLIGHT), NULL);
        draw_events(d, s, y + 7, w);
        return;
    }
    /* Compact: a short label, then the strip on the same line. */
    int lw = 16, w = COLS - lw;
    double rmax = window_max(s, (size_t)w, v_rps), tmax = window_max(s, (size_t)w, v_p95);
    double umax = window_max(s, (size_t)w, v_users);
    snprintf(lab, sizeof lab, "req/s %s", text_rate(last ? last->rps : 0, a, sizeof a));
    put(y, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y, lw, w, v_rps, rmax, attr_of(d, ROLE_OK), v_fps);
    snprintf(lab, sizeof lab, "p95 %s", text_time_us(last ? last->p95_us : 0, utf8, a, sizeof a));
    put(y + 1, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y + 1, lw, w, v_p95, tmax, attr_of(d, ROLE_NORMAL), NULL);
    snprintf(lab, sizeof lab, "users %llu", (unsigned long long)s->users);
    put(y + 2, 0, attr_of(d, ROLE_DIM), lab, lw - 1);
    draw_strip(d, s, y + 2, lw, w, v_users, umax, attr_of(d, ROLE_HIGHLIGHT), NULL);
}

/* ---- failures, key bar, help ---------------------------------------------- */

static void draw_failures(dash_t *d, const snap_t *s, const layout_t *l)
{
    if (l->fail_row < 0)
        return;
    char line[512], name[256], err[SNAP_ERROR_TEXT], n[24];
    snprintf(line, sizeof line, "Failures (%zu kinds; f hides)", s->n_errors);
    put(l->fail_row, 0, attr_of(d, ROLE_FAIL), line, COLS);
    for (int i = 0; i < l->fail_rows && (size_t)i < s->n_errors; i++) {
        const snap_error_t *e = &s->errors[i];
        text_sanitize(e->name, name, sizeof name);
        text_sanitize(e->error, err, sizeof err);
        snprintf(line, sizeof line, "%7s  %-6s %s: %s", text_count(e->count, n, sizeof n), e->method,
                 name, err);
        put(l->fail_row + 1 + i, 0, A_NORMAL, line, COLS);
    }
}

static const char *const help_lines[] = {
    "hopper dashboard keys",
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
    "Marks under the sparklines: U users, R rate,",
    "P pause/resume, Z reset, S stop",
};

static void draw_help(dash_t *d)
{
    int n = (int)(sizeof help_lines / sizeof help_lines[0]), w = 50;
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
            put(y0 + i, x0 + 2, a, help_lines[i - 1], w - 4);
    }
}

static void draw_keybar(dash_t *d, const snap_t *s, int y)
{
    char line[256];
    if (d->prompt) {
        snprintf(line, sizeof line, "%s (Enter applies, Esc cancels): %s_",
                 d->prompt == 'u' ? "Target users" : "Spawn rate per second", d->input);
        fill_line(y, A_NORMAL);
        put(y, 0, attr_of(d, ROLE_HIGHLIGHT), line, COLS);
        return;
    }
    /* While stopping, the drain's progress matters more than any flash. */
    if (s->state == RUN_STOPPING) {
        char progress[160];
        snprintf(line, sizeof line, "%s; q: cancel them now",
                 snap_stop_progress(s, progress, sizeof progress));
        put(y, 0, attr_of(d, ROLE_HIGHLIGHT), line, COLS);
        return;
    }
    if (d->flash[0] && s->elapsed_ms < d->flash_until_ms) {
        put(y, 0, attr_of(d, ROLE_HIGHLIGHT), d->flash, COLS);
        return;
    }
    put(y, 0, attr_of(d, ROLE_DIM),
        "q stop  w/W s/S users  +/- rate  u/r type  p pause  z reset  f failures  ? help", COLS);
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
    put(y, 0, attr_of(d, ok == n ? ROLE_OK : ROLE_FAIL) | A_BOLD, buf, COLS);
    int x = text_columns(buf) + 2;
    for (size_t i = 0; i < n && x < COLS - 4; i++) {
        char text[128];
        text_sanitize(r[i].check->text, text, sizeof text);
        snprintf(buf, sizeof buf, "%s %s %s", r[i].passed ? (d->term->utf8 ? "\xe2\x9c\x93" : "ok")
                                                          : (d->term->utf8 ? "\xe2\x9c\x97" : "FAIL"),
                 text, r[i].measured);
        put(y, x, attr_of(d, r[i].passed ? ROLE_OK : ROLE_FAIL), buf, COLS - x);
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
    layout_compute(&d->layout, COLS, LINES, s->n_entries, s->n_errors, d->show_failures);
    const layout_t *l = &d->layout;
    if (l->too_small) {
        char line[128];
        /* One line, short enough for any width: the test runs on. */
        snprintf(line, sizeof line, "%dx%d too small (%dx%d); %s; q stops", COLS, LINES,
                 LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS, snap_state_name(s->state));
        put(0, 0, A_NORMAL, line, COLS);
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
        draw_help(d);
    refresh();
}

static void say(dash_t *d, const snap_t *s, const char *text)
{
    snprintf(d->flash, sizeof d->flash, "%s", text);
    d->flash_until_ms = s->elapsed_ms + FLASH_MS;
}

static dash_cmd_t set_users(dash_t *d, const snap_t *s, double users)
{
    if (users < 0)
        users = 0;
    if (users > (double)HOPPER_MAX_USERS)
        users = (double)HOPPER_MAX_USERS;
    char t[64];
    snprintf(t, sizeof t, "target users -> %.0f", users);
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
    bool ok = (key >= '0' && key <= '9') || (key == '.' && d->prompt == 'r');
    if (ok && d->input_len + 1 < sizeof d->input) {
        d->input[d->input_len++] = (char)key;
        d->input[d->input_len] = '\0';
    }
    return none;
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
    case 'w': return set_users(d, s, (double)s->target_users + 1);
    case 'W': return set_users(d, s, (double)s->target_users + 10);
    case 's': return set_users(d, s, (double)s->target_users - 1);
    case 'S': return set_users(d, s, (double)s->target_users - 10);
    case KEY_UP:
        if (!scrolls)
            return set_users(d, s, (double)s->target_users + 1);
        if (d->scroll)
            d->scroll--;
        return none;
    case KEY_DOWN:
        if (!scrolls)
            return set_users(d, s, (double)s->target_users - 1);
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
        return set_rate(d, s, text_step_125(s->spawn_rate, +1));
    case '-': case '_':
        return set_rate(d, s, text_step_125(s->spawn_rate, -1));
    case 'u': case 'r':
        d->prompt = key;
        d->input[0] = '\0';
        d->input_len = 0;
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

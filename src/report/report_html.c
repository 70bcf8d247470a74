/* report_html: see include/report/report_html.h.
 *
 * Everything is written through one small writer (html_out_t) that keeps the
 * first write error, so a full disk ends up as -1 with the right errno rather
 * than a silently truncated report, and nothing is written after it.
 *
 * Numbers: printf's "%f" and "%g" follow LC_NUMERIC, and a decimal comma
 * ("0,43") would corrupt both the tables and the SVG coordinates. term.c puts
 * LC_NUMERIC back to "C" after setlocale(LC_ALL, ""), but a report should not
 * depend on every caller having done so: every formatted fraction goes
 * through fix_decimal_point(), and SVG coordinates are written from integers. */
#include "report/report_html.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "plan/stages.h"
#include "util/duration.h"
#include "util/text.h"

/* The charts' geometry, in SVG user units (the SVG scales with the page).
 * The left margin holds y tick labels up to 7 digits; the top margin the
 * legend and, below it, the events' letters, so that neither hides data. */
#define CHART_W 900
#define CHART_H 230
#define PLOT_L 62
#define PLOT_R (CHART_W - 16)
#define PLOT_T 46
#define PLOT_B (CHART_H - 28)
#define EVENT_ROWS 2        /* letter rows, for events closer than a letter apart */

typedef struct {
    FILE *f;
    int err;                /* errno of the first failed write; 0 while all is well */
    char dp[8];             /* the locale's decimal point, to turn back into '.' */
    size_t dp_len;
} html_out_t;

/* ---- writing ---------------------------------------------------------- */

static void out_write(html_out_t *o, const char *p, size_t n)
{
    if (o->err || n == 0)
        return;
    if (fwrite(p, 1, n, o->f) != n)
        o->err = errno ? errno : EIO;
}

static void out_puts(html_out_t *o, const char *s)
{
    out_write(o, s, strlen(s));
}

/* For integers and strings we produced ourselves only: never "%f" here (see
 * the top of the file) and never text from outside (see html_escape). */
__attribute__((format(printf, 2, 3)))
static void out_printf(html_out_t *o, const char *fmt, ...)
{
    if (o->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(o->f, fmt, ap);
    va_end(ap);
    if (n < 0)
        o->err = errno ? errno : EIO;
}

/* Writes text that came from outside (a server's error message, a name from a
 * hopperfile, a path) so that it can only ever be text, in an element or in a
 * quoted attribute: the five HTML specials become entities, control
 * characters (C0, DEL and C1) become '?' as on the console, and bytes that are
 * not UTF-8 become U+FFFD instead of making the document ill-formed. */
static void html_escape(html_out_t *o, const char *s)
{
    char buf[256];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t left = strlen((const char *)p);
    while (*p) {
        if (n + 8 > sizeof buf) {
            out_write(o, buf, n);
            n = 0;
        }
        const char *entity = NULL;
        switch (*p) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default: break;
        }
        size_t l = entity ? 1 : text_utf8_len((const char *)p, left);
        if (entity) {
            size_t e = strlen(entity);
            memcpy(buf + n, entity, e);
            n += e;
        } else if (l == 0) {
            memcpy(buf + n, "\xef\xbf\xbd", 3);
            n += 3;
            l = 1;
        } else if (text_is_control((const char *)p, l)) {
            buf[n++] = '?';
        } else {
            memcpy(buf + n, p, l);
            n += l;
        }
        p += l;
        left -= l;
    }
    out_write(o, buf, n);
}

/* ---- numbers ---------------------------------------------------------- */

/* Turns the locale's decimal point (",", or a multibyte one such as U+066B)
 * in a number printf just wrote back into '.'. printf never groups
 * thousands without the ' flag, so that is the only difference. */
static char *fix_decimal_point(const html_out_t *o, char *buf)
{
    if (o->dp_len == 0 || (o->dp_len == 1 && o->dp[0] == '.'))
        return buf;
    char *at = strstr(buf, o->dp);
    if (at) {
        *at = '.';
        memmove(at + 1, at + o->dp_len, strlen(at + o->dp_len) + 1);
    }
    return buf;
}

static const char *num_fixed(const html_out_t *o, char *buf, size_t len, int decimals, double v)
{
    if (!isfinite(v))
        v = 0;
    snprintf(buf, len, "%.*f", decimals, v);
    return fix_decimal_point(o, buf);
}

/* "%g"-style, for settings as the user wrote them: "10", "0.5". */
static const char *num_short(const html_out_t *o, char *buf, size_t len, double v)
{
    if (!isfinite(v))
        v = 0;
    snprintf(buf, len, "%.6g", v);
    return fix_decimal_point(o, buf);
}

/* A time in microseconds as milliseconds, exactly as the console shows it. */
static const char *ms(const html_out_t *o, char *buf, size_t len, uint64_t us)
{
    text_ms(us, buf, len);
    return fix_decimal_point(o, buf);
}

/* An SVG coordinate with one decimal, from integers so no locale can reach
 * it. The plot never leaves [0, 10^6]. */
static const char *coord(char *buf, size_t len, double v)
{
    if (!(v > 0))
        v = 0;                 /* also NaN */
    if (v > 1e6)
        v = 1e6;
    long t = lround(v * 10);
    if (t % 10)
        snprintf(buf, len, "%ld.%ld", t / 10, t % 10);
    else
        snprintf(buf, len, "%ld", t / 10);
    return buf;
}

static double percent(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* ---- times ------------------------------------------------------------ */

#define ISO_UTC "%Y-%m-%dT%H:%M:%SZ"

/* ---- events ----------------------------------------------------------- */

/* "target users 200", "spawn rate 5/s", "paused", ... */
static const char *event_text(const html_out_t *o, const snap_event_t *e, char *buf, size_t len)
{
    char v[32];
    switch (e->kind) {
    case EVENT_TARGET_USERS:
        snprintf(buf, len, "target users %.0f", e->value >= 0 && isfinite(e->value) ? e->value : 0);
        break;
    case EVENT_SPAWN_RATE:
        snprintf(buf, len, "spawn rate %s/s", num_short(o, v, sizeof v, e->value));
        break;
    case EVENT_PAUSE:
        snprintf(buf, len, "%s", e->value != 0 ? "paused" : "resumed");
        break;
    case EVENT_RESET_STATS:
        snprintf(buf, len, "statistics reset");
        break;
    case EVENT_STOP:
        snprintf(buf, len, "stop");
        break;
    case EVENT_ARRIVAL_RATE:
        snprintf(buf, len, "arrival rate %s",
                 stages_rate_describe(e->value, STAGES_EXACT, v, sizeof v));
        break;
    case EVENT_STAGE:
        snprintf(buf, len, "stage %.0f begins", e->value >= 0 && isfinite(e->value) ? e->value : 0);
        break;
    default:
        snprintf(buf, len, "event");
        break;
    }
    return buf;
}

/* ---- charts ----------------------------------------------------------- */

typedef enum {
    SERIES_RPS, SERIES_FPS, SERIES_P50, SERIES_P95, SERIES_USERS,
    SERIES_P95_RAW,         /* runs with intended starts: the raw p95 beside the corrected */
    SERIES_LAG_P99,         /* ... and the schedule lag */
    SERIES_ARRIVALS,        /* the open model: iterations started per second */
    SERIES_DROPPED          /* ... and arrivals dropped */
} series_t;

typedef struct {
    series_t which;
    const char *css;        /* class of its line and of its legend mark */
    const char *label;
} series_spec_t;

typedef struct {
    const char *title;
    const series_spec_t *series;
    size_t n_series;
    bool whole_numbers;     /* a y step of 2.5 users means nothing */
    bool area;              /* shade under the first series */
} chart_spec_t;

/* Response times of a second without a single completion are not zero, they
 * are unknown: the line has a gap there instead of a dive to the axis. */
static bool sample_has(const snap_sample_t *p, series_t which)
{
    if (which == SERIES_P50 || which == SERIES_P95 || which == SERIES_P95_RAW)
        return p->rps > 0 || p->fps > 0;
    return true;
}

static double sample_value(const snap_sample_t *p, series_t which)
{
    double v = 0;
    switch (which) {
    case SERIES_RPS: v = p->rps; break;
    case SERIES_FPS: v = p->fps; break;
    case SERIES_P50: v = p->p50_us / 1000.0; break;
    case SERIES_P95: v = p->p95_us / 1000.0; break;
    case SERIES_USERS: v = p->users; break;
    case SERIES_P95_RAW: v = p->p95_raw_us / 1000.0; break;
    case SERIES_LAG_P99: v = p->lag_p99_us / 1000.0; break;
    case SERIES_ARRIVALS: v = p->arrivals; break;
    case SERIES_DROPPED: v = p->dropped; break;
    }
    return isfinite(v) && v > 0 ? v : 0;
}

/* The middle of the time a sample covers, in seconds since the start. */
static double sample_time(const snap_sample_t *p)
{
    double span = p->span ? p->span : 1;
    double t = (double)p->t - span / 2;
    return t > 0 ? t : 0;
}

/* A y axis from 0 in 1-2-2.5-5 steps with at most 4 intervals; an empty or
 * all-zero series gets 0..1 rather than a division by zero. */
static double y_step(double max, bool whole_numbers)
{
    if (!(max > 0))
        max = 1;
    double raw = max / 4, mag = pow(10, floor(log10(raw))), n = raw / mag;
    double step = (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * mag;
    if (whole_numbers)
        step = step < 1 ? 1 : ceil(step);
    return step;
}

/* The decimals a tick label needs to show multiples of step exactly. */
static int step_decimals(double step)
{
    int d = 0;
    for (double s = step; d < 6 && fabs(s - round(s)) > 1e-6 * (s > 1 ? s : 1); s *= 10)
        d++;
    return d;
}

/* At most about 8 labelled ticks on the time axis, at round times. */
static double x_step(double xmax)
{
    static const double steps[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                                   7200, 10800, 21600, 43200, 86400, 172800, 604800};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (xmax / steps[i] <= 8)
            return steps[i];
    return ceil(xmax / 8 / 604800) * 604800;
}

typedef struct {
    double xmax, ymax;
} chart_scale_t;

static double px_x(const chart_scale_t *sc, double t)
{
    return PLOT_L + t / sc->xmax * (PLOT_R - PLOT_L);
}

static double px_y(const chart_scale_t *sc, double v)
{
    double y = PLOT_B - v / sc->ymax * (PLOT_B - PLOT_T);
    return y < PLOT_T ? PLOT_T : y > PLOT_B ? PLOT_B : y;
}

/* A point with no neighbour would draw nothing as a line: it becomes a small
 * ring (two arcs) in the same path. That is what a one-second run, or one
 * second with completions between two without, looks like. */
#define LONE_POINT "m-2.5 0a2.5 2.5 0 1 0 5 0a2.5 2.5 0 1 0-5 0"

/* One series as a path, split into pieces where it has no value. */
static void chart_series(html_out_t *o, const snap_t *s, const chart_scale_t *sc,
                         const series_spec_t *ss)
{
    size_t points = 0;
    for (size_t i = 0; i < s->n_history; i++)
        points += sample_has(&s->history[i], ss->which);
    if (points == 0)
        return;
    out_printf(o, "<path class=\"s %s\" d=\"", ss->css);
    size_t piece = 0;
    char x[24], y[24];
    for (size_t i = 0; i < s->n_history; i++) {
        const snap_sample_t *p = &s->history[i];
        if (!sample_has(p, ss->which)) {
            if (piece == 1)
                out_puts(o, LONE_POINT);
            piece = 0;
            continue;
        }
        coord(x, sizeof x, px_x(sc, sample_time(p)));
        coord(y, sizeof y, px_y(sc, sample_value(p, ss->which)));
        out_printf(o, piece ? " %s %s" : "M%s %s", x, y);
        piece++;
    }
    if (piece == 1)
        out_puts(o, LONE_POINT);
    out_puts(o, "\"/>\n");
}

/* The shaded area under a series that always has a value (users). */
static void chart_area(html_out_t *o, const snap_t *s, const chart_scale_t *sc,
                       const series_spec_t *ss)
{
    if (s->n_history < 2)
        return;
    char x[24], y[24], base[24];
    coord(base, sizeof base, PLOT_B);
    out_printf(o, "<path class=\"a %s\" d=\"M%s %s", ss->css,
               coord(x, sizeof x, px_x(sc, sample_time(&s->history[0]))), base);
    for (size_t i = 0; i < s->n_history; i++) {
        const snap_sample_t *p = &s->history[i];
        coord(x, sizeof x, px_x(sc, sample_time(p)));
        coord(y, sizeof y, px_y(sc, sample_value(p, ss->which)));
        out_printf(o, " %s %s", x, y);
    }
    coord(x, sizeof x, px_x(sc, sample_time(&s->history[s->n_history - 1])));
    out_printf(o, " %s %sZ\"/>\n", x, base);
}

/* Dashed vertical lines with a letter above the plot, the full text in a
 * tooltip. The letter of an event closer than a letter's width to the
 * previous one goes one row up; a third goes over the first. */
static void chart_events(html_out_t *o, const snap_t *s, const chart_scale_t *sc)
{
    double last_x[EVENT_ROWS];
    for (int r = 0; r < EVENT_ROWS; r++)
        last_x[r] = -1e9;
    for (size_t i = 0; i < s->n_events; i++) {
        const snap_event_t *e = &s->events[i];
        double t = (double)e->t_ms / 1000.0, x = px_x(sc, t);
        int row = 0;
        while (row < EVENT_ROWS && x - last_x[row] < 12)
            row++;
        if (row == EVENT_ROWS)
            row = 0;
        last_x[row] = x;
        char xs[24], ys[24], when[32], what[96];
        coord(xs, sizeof xs, x);
        coord(ys, sizeof ys, PLOT_T - 5 - 11 * row);
        text_clock(e->t_ms, when, sizeof when);
        event_text(o, e, what, sizeof what);
        out_puts(o, "<g class=\"ev\"><title>");
        html_escape(o, when);
        out_puts(o, " ");
        html_escape(o, what);
        /* The wide transparent line is there to be hovered: a 1px dash is hard to hit. */
        out_printf(o, "</title><line x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\"/>"
                      "<line class=\"hit\" x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\"/>"
                      "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%c</text></g>\n",
                   xs, PLOT_T, xs, PLOT_B, xs, PLOT_T, xs, PLOT_B, xs, ys, snap_event_mark(e->kind));
    }
}

static void chart_axes(html_out_t *o, const chart_scale_t *sc, double ystep, bool whole_numbers)
{
    char a[24], b[24], label[32];
    int decimals = whole_numbers ? 0 : step_decimals(ystep);
    /* Horizontal grid lines with the y labels. */
    for (int k = 0; k * ystep <= sc->ymax * (1 + 1e-9); k++) {
        double v = k * ystep;
        coord(a, sizeof a, px_y(sc, v));
        out_printf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%s\" x2=\"%d\" y2=\"%s\"/>", PLOT_L, a, PLOT_R, a);
        coord(b, sizeof b, px_y(sc, v) + 4);
        num_fixed(o, label, sizeof label, decimals, v);
        out_printf(o, "<text class=\"tick\" x=\"%d\" y=\"%s\" text-anchor=\"end\">%s</text>\n",
                   PLOT_L - 6, b, label);
    }
    /* Time ticks at round seconds: the last label is kept inside the picture. */
    double xs = x_step(sc->xmax);
    for (int k = 0; k * xs <= sc->xmax * (1 + 1e-9); k++) {
        double x = px_x(sc, k * xs);
        coord(a, sizeof a, x);
        text_clock((uint64_t)(k * xs) * 1000, label, sizeof label);
        out_printf(o, "<line class=\"axis\" x1=\"%s\" y1=\"%d\" x2=\"%s\" y2=\"%d\"/>"
                      "<text class=\"tick\" x=\"%s\" y=\"%d\" text-anchor=\"%s\">%s</text>\n",
                   a, PLOT_B, a, PLOT_B + 4, a, PLOT_B + 17,
                   x > CHART_W - 24 ? "end" : "middle", label);
    }
    out_printf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
                  "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
               PLOT_L, PLOT_T, PLOT_L, PLOT_B, PLOT_L, PLOT_B, PLOT_R, PLOT_B);
}

static void chart_legend(html_out_t *o, const chart_spec_t *c)
{
    double x = PLOT_L;
    char a[24], b[24], t[24];
    for (size_t i = 0; i < c->n_series; i++) {
        const series_spec_t *ss = &c->series[i];
        out_printf(o, "<line class=\"s %s\" x1=\"%s\" y1=\"11\" x2=\"%s\" y2=\"11\"/>"
                      "<text x=\"%s\" y=\"15\">%s</text>\n",
                   ss->css, coord(a, sizeof a, x), coord(b, sizeof b, x + 18),
                   coord(t, sizeof t, x + 23), ss->label);
        /* Labels are ours and short: about 6.5 units a character at 11px. */
        x += 23 + 6.5 * (double)strlen(ss->label) + 18;
    }
}

static void write_chart(html_out_t *o, const snap_t *s, const chart_spec_t *c, double xmax)
{
    double max = 0;
    size_t points = 0;
    for (size_t i = 0; i < s->n_history; i++)
        for (size_t k = 0; k < c->n_series; k++)
            if (sample_has(&s->history[i], c->series[k].which)) {
                double v = sample_value(&s->history[i], c->series[k].which);
                if (v > max)
                    max = v;
                points++;
            }
    double step = y_step(max, c->whole_numbers);
    chart_scale_t sc = {.xmax = xmax, .ymax = step * ceil((max > 0 ? max : 1) / step - 1e-9)};
    if (!(sc.ymax > 0))
        sc.ymax = step;

    out_puts(o, "<section class=\"chart\"><h3>");
    out_puts(o, c->title);
    out_printf(o, "</h3>\n<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                  "role=\"img\" aria-label=\"%s\">\n", CHART_W, CHART_H, CHART_W, CHART_H, c->title);
    chart_axes(o, &sc, step, c->whole_numbers);
    if (points == 0) {          /* no history, or no second with a completion */
        out_printf(o, "<text class=\"nodata\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">no data</text>\n",
                   (PLOT_L + PLOT_R) / 2, (PLOT_T + PLOT_B) / 2 + 5);
    } else {
        if (c->area)
            chart_area(o, s, &sc, &c->series[0]);
        for (size_t k = 0; k < c->n_series; k++)
            chart_series(o, s, &sc, &c->series[k]);
    }
    chart_events(o, s, &sc);
    chart_legend(o, c);
    out_puts(o, "</svg></section>\n");
}

static bool has_event(const snap_t *s, event_kind_t kind)
{
    for (size_t i = 0; i < s->n_events; i++)
        if (s->events[i].kind == kind)
            return true;
    return false;
}

static void write_charts(html_out_t *o, const snap_t *s)
{
    static const series_spec_t rps[] = {{SERIES_RPS, "rps", "requests/s"},
                                        {SERIES_FPS, "fps", "failures/s"}};
    static const series_spec_t rt[] = {{SERIES_P50, "p50", "p50 (median)"},
                                       {SERIES_P95, "p95", "p95"}};
    /* With intended starts the p50 and p95 are corrected; the raw p95 and
     * the schedule lag go beside them, on the same scale. */
    static const series_spec_t rt_dual[] = {{SERIES_P50, "p50", "p50 corrected"},
                                            {SERIES_P95, "p95", "p95 corrected"},
                                            {SERIES_P95_RAW, "p95raw", "p95 raw"},
                                            {SERIES_LAG_P99, "lag", "schedule lag p99"}};
    static const series_spec_t arrivals[] = {{SERIES_ARRIVALS, "arr", "arrivals/s"},
                                             {SERIES_DROPPED, "drop", "dropped/s"}};
    static const series_spec_t users[] = {{SERIES_USERS, "users", "users"}};
    chart_spec_t charts[4];
    size_t n_charts = 0;
    charts[n_charts++] = (chart_spec_t){"Requests per second", rps, 2, false, false};
    if (s->open)
        charts[n_charts++] = (chart_spec_t){"Arrivals per second", arrivals, 2, false, false};
    if (s->dual)
        charts[n_charts++] = (chart_spec_t){"Response time (ms): corrected (from the intended "
                                            "start), raw (from the send)", rt_dual, 4, false, false};
    else
        charts[n_charts++] = (chart_spec_t){"Response time (ms)", rt, 2, false, false};
    charts[n_charts++] = (chart_spec_t){s->open ? "Users (busy)" : "Users", users, 1, true, true};

    /* One time axis for all three, long enough for the data, the events and
     * the run itself, so the charts line up one under the other. */
    double xmax = (double)s->elapsed_ms / 1000.0;
    if (s->n_history && s->history[s->n_history - 1].t > xmax)
        xmax = s->history[s->n_history - 1].t;
    for (size_t i = 0; i < s->n_events; i++)
        if ((double)s->events[i].t_ms / 1000.0 > xmax)
            xmax = (double)s->events[i].t_ms / 1000.0;
    if (xmax < 1)
        xmax = 1;

    out_puts(o, "<section id=\"charts\"><h2>Charts</h2>\n<p class=\"note\">Per second over the "
                "whole run; time since the start (mm:ss). Dashed lines mark what the operator "
                "did: <b>U</b> target users, <b>R</b> spawn rate, <b>P</b> pause or resume, "
                "<b>Z</b> statistics reset, <b>S</b> stop");
    if (s->open || has_event(s, EVENT_ARRIVAL_RATE))
        out_puts(o, ", <b>A</b> arrival rate");
    if (s->n_stages || has_event(s, EVENT_STAGE))
        out_puts(o, "; <b>|</b> a stage begins");
    out_puts(o, ".</p>\n");
    for (size_t i = 0; i < n_charts; i++)
        write_chart(o, s, &charts[i], xmax);
    out_puts(o, "</section>\n");
}

/* ---- page parts ------------------------------------------------------- */

static const char html_style[] =
    ":root{color-scheme:light}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#f5f6f8;color:#1c2230;"
    "font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,"
    "\"Noto Sans\",\"Liberation Sans\",sans-serif}\n"
    "main{max-width:1080px;margin:0 auto;padding:20px 24px 32px}\n"
    "h1{font-size:22px;margin:0 0 2px}\n"
    "h2{font-size:16px;margin:26px 0 8px;padding-bottom:4px;border-bottom:1px solid #d6dae1}\n"
    "h3{font-size:13px;margin:12px 0 4px;color:#394152}\n"
    ".sub,.note{color:#586174;margin:0 0 6px}\n"
    ".note{font-size:12.5px}\n"
    ".banner{margin:14px 0 0;padding:10px 14px;border:2px solid;border-radius:6px;font-size:15px}\n"
    ".banner b{font-size:20px;letter-spacing:.06em;margin-right:10px}\n"
    ".banner.pass{background:#e6f4ea;border-color:#2e7d4f;color:#1e5e3a}\n"
    ".banner.fail{background:#fdecec;border-color:#c62828;color:#9e1c1c}\n"
    ".figs{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0 0}\n"
    ".fig{background:#fff;border:1px solid #e0e3e9;border-radius:6px;padding:8px 14px;min-width:120px}\n"
    ".fig span{display:block;font-size:12px;color:#586174}\n"
    ".fig b{font-size:19px;font-variant-numeric:tabular-nums}\n"
    "dl.kv{display:grid;grid-template-columns:max-content 1fr max-content 1fr;gap:3px 14px;margin:0;"
    "background:#fff;border:1px solid #e0e3e9;border-radius:6px;padding:10px 14px}\n"
    "dl.kv dt{color:#586174}\n"
    "dl.kv dd{margin:0;overflow-wrap:anywhere}\n"
    ".wrap{overflow-x:auto}\n"
    "table{border-collapse:collapse;background:#fff;font-variant-numeric:tabular-nums;font-size:13px;"
    "border:1px solid #e0e3e9}\n"
    "th,td{padding:4px 8px;border-bottom:1px solid #e8eaee;text-align:right;white-space:nowrap;"
    "vertical-align:top}\n"
    "th{background:#eef1f5;font-weight:600;font-size:12px}\n"
    "th.l,td.l{text-align:left}\n"
    "td.name,td.text{text-align:left;white-space:normal;overflow-wrap:anywhere;min-width:10em}\n"
    "td.name{font-family:ui-monospace,\"SFMono-Regular\",Menlo,Consolas,\"Liberation Mono\",monospace;"
    "font-size:12.5px}\n"
    "tr.total td{font-weight:700;border-top:2px solid #c5cbd5;background:#fafbfc}\n"
    "tr.raw td{color:#586174;border-top:none}\n"
    "td.pass{color:#1e7a45;font-weight:700}\n"
    "td.fail,.bad{color:#b3261e;font-weight:700}\n"
    "section.chart{margin:0 0 8px}\n"
    "svg.chart{display:block;width:100%;height:auto;background:#fff;"
    "border:1px solid #e0e3e9;border-radius:6px}\n"
    "svg text{font:11px system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,\"Liberation Sans\",sans-serif;"
    "fill:#3d4555}\n"
    "svg .tick{fill:#6a7384}\n"
    "svg .axis{stroke:#8d95a4;stroke-width:1}\n"
    "svg .grid{stroke:#eceef2;stroke-width:1}\n"
    "svg .s{fill:none;stroke-width:1.7;stroke-linejoin:round;stroke-linecap:round}\n"
    "svg .s.rps{stroke:#2563c9}\n"
    "svg .s.fps{stroke:#d32f2f}\n"
    "svg .s.p50{stroke:#2563c9}\n"
    "svg .s.p95{stroke:#e07800}\n"
    "svg .s.users{stroke:#6b3fb3}\n"
    "svg .s.p95raw{stroke:#e07800;stroke-dasharray:5 3}\n"
    "svg .s.lag{stroke:#5b6472;stroke-dasharray:2 2}\n"
    "svg .s.arr{stroke:#1f8a5b}\n"
    "svg .s.drop{stroke:#d32f2f}\n"
    "svg .a{stroke:none;fill-opacity:.12}\n"
    "svg .a.users{fill:#6b3fb3}\n"
    "svg .ev line{stroke:#6f7889;stroke-width:1;stroke-dasharray:4 3}\n"
    "svg .ev text{font-weight:700;fill:#2b3240}\n"
    "svg .ev .hit{stroke:transparent;stroke-width:9;stroke-dasharray:none}\n"
    "svg .nodata{font-size:15px;fill:#8d95a4}\n"
    "footer{margin-top:28px;color:#7a8292;font-size:12px}\n"
    "@media print{body{background:#fff;font-size:11px}main{max-width:none;padding:0}"
    ".wrap{overflow:visible}section.chart,tr,.banner,.figs{break-inside:avoid}"
    "h2,h3{break-after:avoid}}\n";

static void write_head(html_out_t *o, const report_meta_t *m, const char *host)
{
    out_puts(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                "<meta name=\"generator\" content=\"hopper ");
    html_escape(o, m->version ? m->version : "");
    out_puts(o, "\">\n<title>hopper report: ");
    html_escape(o, host);
    out_puts(o, "</title>\n<style>\n");
    out_puts(o, html_style);
    out_puts(o, "</style>\n</head>\n<body>\n<main>\n");
}

static bool all_checks_passed(const report_meta_t *m)
{
    for (size_t i = 0; i < m->n_checks; i++)
        if (!m->checks[i].passed)
            return false;
    return true;
}

static void write_header(html_out_t *o, const snap_t *s, const report_meta_t *m, const char *host)
{
    char start[40], dur[32];
    out_puts(o, "<header><h1>hopper load test report</h1>\n<p class=\"sub\">");
    html_escape(o, host);
    out_printf(o, " &middot; started %s UTC &middot; %s of statistics</p>\n",
               text_utc(s->start_unix, "%Y-%m-%d %H:%M:%S", start, sizeof start),
               duration_format(s->stats_ms * 1000, dur, sizeof dur));
    if (m->n_checks > 0 && m->checks) {
        size_t failed = 0;
        for (size_t i = 0; i < m->n_checks; i++)
            failed += !m->checks[i].passed;
        if (all_checks_passed(m))
            out_printf(o, "<div class=\"banner pass\"><b>PASSED</b>all %zu check%s passed</div>\n",
                       m->n_checks, m->n_checks == 1 ? "" : "s");
        else
            out_printf(o, "<div class=\"banner fail\"><b>FAILED</b>%zu of %zu check%s failed</div>\n",
                       failed, m->n_checks, m->n_checks == 1 ? "" : "s");
    }
    out_puts(o, "</header>\n");
}

static void fig(html_out_t *o, const char *label, const char *value, bool bad)
{
    out_printf(o, "<div class=\"fig\"><span>%s</span><b%s>%s</b></div>\n", label,
               bad ? " class=\"bad\"" : "", value);
}

/* The few numbers people look for first, from the Aggregated row. */
static void write_figures(html_out_t *o, const snap_t *s)
{
    const snap_entry_t *t = &s->total;
    char v[64], a[32];
    out_puts(o, "<div class=\"figs\">\n");
    snprintf(v, sizeof v, "%llu", (unsigned long long)t->requests);
    fig(o, "Requests", v, false);
    snprintf(v, sizeof v, "%llu (%s%%)", (unsigned long long)t->failures,
             num_fixed(o, a, sizeof a, 2, percent(t->failures, t->requests)));
    fig(o, "Failures", v, t->failures > 0);
    fig(o, "Requests/s", num_fixed(o, v, sizeof v, 2, t->total_rps), false);
    if (t->requests && s->dual) {
        fig(o, "Median corrected (ms)", ms(o, v, sizeof v, t->pct_us[SNAP_P50]), false);
        fig(o, "p99 corrected (ms)", ms(o, v, sizeof v, t->pct_us[SNAP_P99]), false);
        fig(o, "p99 raw (ms)", ms(o, v, sizeof v, t->raw_pct_us[SNAP_P99]), false);
    } else if (t->requests) {
        fig(o, "Median (ms)", ms(o, v, sizeof v, t->pct_us[SNAP_P50]), false);
        fig(o, "p95 (ms)", ms(o, v, sizeof v, t->pct_us[SNAP_P95]), false);
        fig(o, "p99 (ms)", ms(o, v, sizeof v, t->pct_us[SNAP_P99]), false);
    }
    if (s->dual && s->lag_count)
        fig(o, "Schedule lag p99 (ms)", ms(o, v, sizeof v, s->lag_pct_us[SNAP_P99]), false);
    if (s->open) {
        snprintf(v, sizeof v, "%llu", (unsigned long long)s->arrivals);
        fig(o, "Arrivals", v, false);
        snprintf(v, sizeof v, "%llu (%s%%)", (unsigned long long)s->dropped,
                 num_fixed(o, a, sizeof a, 2, percent(s->dropped, s->arrivals + s->dropped)));
        fig(o, "Dropped arrivals", v, s->dropped > 0);
    }
    snprintf(v, sizeof v, "%llu", (unsigned long long)s->peak_users);
    fig(o, "Peak users", v, false);
    out_puts(o, "</div>\n");
}

static void kv_begin(html_out_t *o, const char *key)
{
    out_printf(o, "<dt>%s</dt><dd>", key);
}

static void kv_text(html_out_t *o, const char *key, const char *value)
{
    kv_begin(o, key);
    html_escape(o, value);
    out_puts(o, "</dd>\n");
}

/* The stages as the plan wrote them, escaped ("1m:0-500/s, 5m:500/s"). */
static void stage_list(html_out_t *o, const snap_t *s)
{
    for (size_t i = 0; i < s->n_stages; i++) {
        const snap_stage_t *st = &s->stages[i];
        char one[192];
        if (i)
            out_puts(o, STAGES_SEPARATOR);
        html_escape(o, stages_stage_describe(st->dur_us, st->from, st->from_set, st->to,
                                             s->open ? STAGES_RATE : STAGES_USERS,
                                             STAGES_IN_LIST, one, sizeof one));
    }
}

/* The load shape among the settings: only for the open model, stages or
 * intended starts, so a closed run's settings read as they always have.
 * The open model's target is its stages, or else the rate in force at the
 * end (a key may have changed it). */
static void write_shape_settings(html_out_t *o, const snap_t *s)
{
    char b[128], v[48], a[48];
    bool stages = s->n_stages && s->stages;
    if (s->open) {
        kv_text(o, "Load model", "open (arrivals on a clock, each run by a free user of a pool)");
        kv_begin(o, "Arrival rate");
        if (stages) {
            out_puts(o, "stages ");
            stage_list(o, s);
        } else {
            html_escape(o, stages_rate_describe(s->arrival_rate, STAGES_EXACT, v, sizeof v));
            if (has_event(s, EVENT_ARRIVAL_RATE))
                out_puts(o, " at the end");
        }
        out_printf(o, " (%s arrivals)</dd>\n", s->poisson ? "poisson" : "even");
        snprintf(b, sizeof b, "%llu", (unsigned long long)s->max_users);
        kv_text(o, "Max users", b);
        double secs = (double)s->stats_ms / 1000.0;
        snprintf(b, sizeof b, "%llu (%s/s achieved)", (unsigned long long)s->arrivals,
                 num_fixed(o, v, sizeof v, 2, secs > 0 ? (double)s->arrivals / secs : 0));
        kv_text(o, "Arrivals started", b);
        snprintf(b, sizeof b, "%llu (%s%%): found no free user, never sent",
                 (unsigned long long)s->dropped,
                 num_fixed(o, a, sizeof a, 2, percent(s->dropped, s->arrivals + s->dropped)));
        kv_text(o, "Dropped arrivals", b);
    } else if (stages) {
        kv_text(o, "Load model", "closed (users, each asking again after its answer)");
        kv_begin(o, "Stages (users)");
        stage_list(o, s);
        out_puts(o, "</dd>\n");
    }
    if (s->dual)
        kv_text(o, "Response times", "corrected: from when each request should have started "
                                     "(raw, from the send, beside them)");
}

static void write_settings(html_out_t *o, const snap_t *s, const report_meta_t *m, const char *host)
{
    char b[96], v[48];
    out_puts(o, "<section id=\"settings\"><h2>Settings</h2>\n<dl class=\"kv\">\n");
    kv_text(o, "Host", host);
    kv_text(o, "Hopperfile", m->hopperfile ? m->hopperfile : "-");
    snprintf(b, sizeof b, "%llu", (unsigned long long)m->users);
    kv_text(o, "Users", b);
    snprintf(b, sizeof b, "%s users/s", num_short(o, v, sizeof v, m->spawn_rate));
    kv_text(o, "Spawn rate", b);
    kv_text(o, "Run time", m->run_time_us ? duration_format(m->run_time_us, b, sizeof b)
                                          : "until stopped");
    write_shape_settings(o, s);
    if (m->plan) {
        plan_wait_describe(&m->plan->wait, b, sizeof b);     /* "throughput 0.5/s": %g inside */
        kv_text(o, "Wait", fix_decimal_point(o, b));
        kv_text(o, "Request timeout", duration_format(m->plan->timeout_us, b, sizeof b));
    }
    kv_text(o, "Start (UTC)", text_utc(s->start_unix, ISO_UTC, b, sizeof b));
    kv_text(o, "End (UTC)", m->end_unix > 0 ? text_utc(m->end_unix, ISO_UTC, b, sizeof b)
                                            : "still running");
    kv_text(o, "Statistics cover", duration_format(s->stats_ms * 1000, b, sizeof b));
    snprintf(b, sizeof b, "%llu", (unsigned long long)s->peak_users);
    kv_text(o, "Peak users", b);
    kv_text(o, "hopper version", m->version ? m->version : "-");
    if (s->drained) {
        snprintf(b, sizeof b, "%llu (in flight at the stop, finished and counted)",
                 (unsigned long long)s->drained);
        kv_text(o, "Drained requests", b);
    }
    if (s->cancelled) {
        snprintf(b, sizeof b, "%llu (in flight at the stop, not counted)",
                 (unsigned long long)s->cancelled);
        kv_text(o, "Cancelled requests", b);
    }
    if (s->spawn_failures) {
        snprintf(b, sizeof b, "%llu", (unsigned long long)s->spawn_failures);
        kv_text(o, "Users not started", b);
    }
    if (s->not_logged_in) {
        snprintf(b, sizeof b, "%llu", (unsigned long long)s->not_logged_in);
        kv_text(o, "Users not logged in at the stop", b);
    }
    if (s->data_exhausted)
        kv_text(o, "Unique data", "every row handed out: the test stopped there");
    out_puts(o, "</dl>\n</section>\n");
}

static void write_checks(html_out_t *o, const report_meta_t *m)
{
    if (m->n_checks == 0 || m->checks == NULL)
        return;
    out_puts(o, "<section id=\"checks\"><h2>Checks</h2>\n<div class=\"wrap\"><table>\n"
                "<thead><tr><th class=\"l\">Check</th><th class=\"l\">Result</th>"
                "<th class=\"l\">Measured</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < m->n_checks; i++) {
        const check_result_t *r = &m->checks[i];
        out_puts(o, "<tr><td class=\"name\">");
        html_escape(o, r->check && r->check->text ? r->check->text : "?");
        out_printf(o, "</td><td class=\"l %s\">%s</td><td class=\"l\">", r->passed ? "pass" : "fail",
                   r->passed ? "pass" : "FAIL");
        /* measured is a fixed array: never trust it to be terminated. */
        char measured[sizeof r->measured + 1];
        memcpy(measured, r->measured, sizeof r->measured);
        measured[sizeof r->measured] = '\0';
        html_escape(o, measured);
        if (!r->evaluated)
            out_puts(o, " (not evaluated)");
        out_puts(o, "</td></tr>\n");
    }
    out_puts(o, "</tbody></table></div>\n</section>\n");
}

static void name_cells(html_out_t *o, const snap_entry_t *e)
{
    out_puts(o, "<td class=\"l\">");
    html_escape(o, e->method);
    out_puts(o, "</td><td class=\"name\">");
    html_escape(o, e->name);
    out_puts(o, "</td>");
}

static void stats_row(html_out_t *o, const snap_entry_t *e, bool total)
{
    char a[32], b[32], c[32], d[32], p95[32], p99[32], pct[32], rps[32], fps[32];
    out_puts(o, total ? "<tr class=\"total\">" : "<tr>");
    name_cells(o, e);
    out_printf(o, "<td>%llu</td><td>%llu (%s%%)</td>", (unsigned long long)e->requests,
               (unsigned long long)e->failures,
               num_fixed(o, pct, sizeof pct, 2, percent(e->failures, e->requests)));
    if (snap_row_has_times(e))
        out_printf(o, "<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%llu</td>",
                   ms(o, a, sizeof a, e->pct_us[SNAP_P50]),
                   ms(o, b, sizeof b, (uint64_t)(e->avg_us + 0.5)),
                   ms(o, c, sizeof c, e->min_us), ms(o, d, sizeof d, e->max_us),
                   ms(o, p95, sizeof p95, e->pct_us[SNAP_P95]),
                   ms(o, p99, sizeof p99, e->pct_us[SNAP_P99]),
                   (unsigned long long)((e->content_bytes + e->requests / 2) / e->requests));
    else
        out_puts(o, "<td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td><td>-</td>");
    out_printf(o, "<td>%s</td><td>%s</td></tr>\n", num_fixed(o, rps, sizeof rps, 2, e->total_rps),
               num_fixed(o, fps, sizeof fps, 2, e->total_fps));
}

/* The stages of the load shape, when the run had any: their values written
 * as --stages reads them (plan/stages.h). */
static void write_stages(html_out_t *o, const snap_t *s)
{
    if (s->n_stages == 0 || s->stages == NULL)
        return;
    stages_unit_t unit = s->open ? STAGES_RATE : STAGES_USERS;
    const char *head = s->open ? "" : " (users)";
    out_printf(o, "<section id=\"stages\"><h2>Stages</h2>\n<p class=\"note\">Linear from each "
                  "stage's start to its end, in %s; the charts mark where each begins "
                  "(<b>|</b>).", stages_unit_name(unit));
    if (s->stage < s->n_stages && s->stage_left_ms > 0)
        out_printf(o, " The run ended in stage %zu.", s->stage + 1);
    out_printf(o, "</p>\n<div class=\"wrap\"><table>\n<thead><tr><th>Stage</th><th>Starts at</th>"
                  "<th>Duration</th><th>From%s</th><th>To%s</th></tr></thead>\n<tbody>\n",
               head, head);
    uint64_t at_us = 0;
    for (size_t i = 0; i < s->n_stages; i++) {
        const snap_stage_t *st = &s->stages[i];
        char when[32], dur[32], a[64], b[64];
        text_clock(at_us / 1000, when, sizeof when);
        out_printf(o, "<tr><td>%zu</td><td>%s</td><td>%s</td><td>", i + 1, when,
                   duration_format(st->dur_us, dur, sizeof dur));
        html_escape(o, stages_value_describe(st->from, unit, STAGES_EXACT, a, sizeof a));
        out_puts(o, "</td><td>");
        html_escape(o, stages_value_describe(st->to, unit, STAGES_EXACT, b, sizeof b));
        out_puts(o, "</td></tr>\n");
        at_us += st->dur_us;
    }
    out_puts(o, "</tbody></table></div>\n</section>\n");
}

/* How late hopper itself started what was due, in runs with intended starts. */
static void write_lag(html_out_t *o, const snap_t *s)
{
    if (!s->dual)
        return;
    out_puts(o, "<section id=\"lag\"><h2>Schedule lag (ms)</h2>\n<p class=\"note\">How late "
                "hopper itself started the sends that were due. It is part of the corrected "
                "response times: when it is high, hopper, not the server, was behind.</p>\n");
    if (s->lag_count == 0) {
        out_puts(o, "<p>Nothing was due.</p>\n</section>\n");
        return;
    }
    out_puts(o, "<div class=\"wrap\"><table>\n<thead><tr>");
    for (int k = 0; k < SNAP_NPCT; k++)
        out_printf(o, "<th>%s</th>", snap_pct_label[k]);
    out_puts(o, "<th>Sends</th></tr></thead>\n<tbody>\n<tr>");
    char v[32];
    for (int k = 0; k < SNAP_NPCT; k++)
        out_printf(o, "<td>%s</td>", ms(o, v, sizeof v, s->lag_pct_us[k]));
    out_printf(o, "<td>%llu</td></tr>\n</tbody></table></div>\n</section>\n",
               (unsigned long long)s->lag_count);
}

static void write_stats(html_out_t *o, const snap_t *s)
{
    out_puts(o, "<section id=\"stats\"><h2>Requests</h2>\n<p class=\"note\">Times in milliseconds");
    if (s->dual)
        out_puts(o, ", corrected: from when each request should have started (the raw ones, from "
                    "the send, are in the percentiles below)");
    out_puts(o, ", sizes in bytes; requests/s and failures/s are whole-run averages.</p>\n"
                "<div class=\"wrap\"><table>\n<thead><tr><th class=\"l\">Type</th>"
                "<th class=\"l\">Name</th><th>Requests</th><th>Failures</th><th>Median</th>"
                "<th>Average</th><th>Min</th><th>Max</th><th>p95</th><th>p99</th>"
                "<th>Avg size</th><th>req/s</th><th>failures/s</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < snap_row_count(s); i++)
        stats_row(o, snap_row(s, i), snap_row_is_total(s, i));
    out_puts(o, "</tbody></table></div>\n</section>\n");
}

static void write_percentiles(html_out_t *o, const snap_t *s)
{
    out_puts(o, "<section id=\"percentiles\"><h2>Response time percentiles (ms)</h2>\n");
    if (s->dual)
        out_puts(o, "<p class=\"note\">Each row twice: <b>corrected</b>, from when the request "
                    "should have started, and <b>raw</b>, from when it was sent.</p>\n");
    out_puts(o, "<div class=\"wrap\"><table>\n<thead><tr><th class=\"l\">Type</th>"
                "<th class=\"l\">Name</th>");
    if (s->dual)
        out_puts(o, "<th class=\"l\">Latency</th>");
    for (int k = 0; k < SNAP_NPCT; k++)
        out_printf(o, "<th>%s</th>", snap_pct_label[k]);
    out_puts(o, "<th>Requests</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < snap_row_count(s); i++) {
        const snap_entry_t *e = snap_row(s, i);
        if (!snap_row_has_times(e))
            continue;       /* nothing to say about an endpoint never called */
        bool total = snap_row_is_total(s, i);
        out_puts(o, total ? "<tr class=\"total\">" : "<tr>");
        name_cells(o, e);
        if (s->dual)
            out_puts(o, "<td class=\"l\">corrected</td>");
        char v[32];
        for (int k = 0; k < SNAP_NPCT; k++)
            out_printf(o, "<td>%s</td>", ms(o, v, sizeof v, e->pct_us[k]));
        out_printf(o, "<td>%llu</td></tr>\n", (unsigned long long)e->requests);
        if (!s->dual)
            continue;
        out_puts(o, total ? "<tr class=\"total raw\">" : "<tr class=\"raw\">");
        name_cells(o, e);
        out_puts(o, "<td class=\"l\">raw</td>");
        for (int k = 0; k < SNAP_NPCT; k++)
            out_printf(o, "<td>%s</td>", ms(o, v, sizeof v, e->raw_pct_us[k]));
        out_printf(o, "<td>%llu</td></tr>\n", (unsigned long long)e->requests);
    }
    out_puts(o, "</tbody></table></div>\n</section>\n");
}

static void seen_cell(html_out_t *o, double unix_s)
{
    char iso[40], clock[16];
    if (unix_s > 0)
        out_printf(o, "<td><time datetime=\"%s\">%s</time></td>",
                   text_utc(unix_s, ISO_UTC, iso, sizeof iso),
                   text_utc(unix_s, "%H:%M:%S", clock, sizeof clock));
    else
        out_puts(o, "<td>-</td>");
}

static void write_failures(html_out_t *o, const snap_t *s)
{
    out_puts(o, "<section id=\"failures\"><h2>Failures</h2>\n");
    if (s->n_errors == 0) {
        out_puts(o, "<p>No failures.</p>\n</section>\n");
        return;
    }
    out_puts(o, "<div class=\"wrap\"><table>\n<thead><tr><th>Occurrences</th><th class=\"l\">Type</th>"
                "<th class=\"l\">Name</th><th class=\"l\">Error</th><th>First seen (UTC)</th>"
                "<th>Last seen (UTC)</th></tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < s->n_errors; i++) {
        const snap_error_t *e = &s->errors[i];
        /* error is a fixed array filled from a server's reply: bound it. */
        char err[SNAP_ERROR_TEXT + 1];
        memcpy(err, e->error, SNAP_ERROR_TEXT);
        err[SNAP_ERROR_TEXT] = '\0';
        out_printf(o, "<tr><td>%llu</td><td class=\"l\">", (unsigned long long)e->count);
        html_escape(o, e->method);
        out_puts(o, "</td><td class=\"name\">");
        html_escape(o, e->name);
        out_puts(o, "</td><td class=\"text\">");
        html_escape(o, err);
        out_puts(o, "</td>");
        seen_cell(o, e->first_seen);
        seen_cell(o, e->last_seen);
        out_puts(o, "</tr>\n");
    }
    out_puts(o, "</tbody></table></div>\n</section>\n");
}

/* The events again as a list: tooltips do not print. */
static void write_events(html_out_t *o, const snap_t *s)
{
    if (s->n_events == 0)
        return;
    out_puts(o, "<section id=\"events\"><h2>Operator events</h2>\n<div class=\"wrap\"><table>\n"
                "<thead><tr><th>Time</th><th class=\"l\">Mark</th><th class=\"l\">Event</th></tr>"
                "</thead>\n<tbody>\n");
    for (size_t i = 0; i < s->n_events; i++) {
        char when[32], what[96];
        text_clock(s->events[i].t_ms, when, sizeof when);
        out_printf(o, "<tr><td>%s</td><td class=\"l\">%c</td><td class=\"l\">", when,
                   snap_event_mark(s->events[i].kind));
        html_escape(o, event_text(o, &s->events[i], what, sizeof what));
        out_puts(o, "</td></tr>\n");
    }
    out_puts(o, "</tbody></table></div>\n</section>\n");
}

int report_html_write(FILE *f, const snap_t *s, const report_meta_t *m)
{
    static const report_meta_t no_meta;
    if (f == NULL || s == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (m == NULL)
        m = &no_meta;
    html_out_t o = {.f = f};
    const char *dp = localeconv()->decimal_point;
    if (dp && strlen(dp) < sizeof o.dp) {
        strcpy(o.dp, dp);
        o.dp_len = strlen(dp);
    }
    const char *host = m->host ? m->host : s->host ? s->host : "-";

    write_head(&o, m, host);
    write_header(&o, s, m, host);
    write_figures(&o, s);
    write_settings(&o, s, m, host);
    write_checks(&o, m);
    write_stages(&o, s);
    write_charts(&o, s);
    write_stats(&o, s);
    write_percentiles(&o, s);
    write_lag(&o, s);
    write_failures(&o, s);
    write_events(&o, s);
    out_puts(&o, "<footer>Written by hopper ");
    html_escape(&o, m->version ? m->version : "");
    out_puts(&o, ". This file is self-contained: it fetches nothing.</footer>\n</main>\n</body>\n</html>\n");

    if (!o.err && fflush(f) != 0)
        o.err = errno ? errno : EIO;
    if (!o.err && ferror(f))
        o.err = EIO;
    if (o.err) {
        errno = o.err;
        return -1;
    }
    return 0;
}

/* panels: see include/view/panels.h.
 *
 * Every panel writes through put(), which clips to the panel's rectangle as
 * well as to the screen, so a long error message or log line ends at the
 * panel's edge and never runs into its neighbour. Text that did not come
 * from hopper itself (error messages, endpoint names, log lines, which may
 * quote a server) goes through text_sanitize() first. */
#include "view/panels.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/text.h"
#include "util/xalloc.h"
#include "view/draw.h"

/* ---- shared helpers ---------------------------------------------------------- */

/* Writes s on row `row` of r (0-based), from column `col` of r, at most w
 * columns and never past r's right edge. */
static void put(view_rect_t r, int row, int col, int attr, const char *s, int w)
{
    if (row < 0 || row >= r.h || col < 0 || col >= r.w)
        return;
    if (w > r.w - col)
        w = r.w - col;
    draw_put(r.y + row, r.x + col, attr, s, w);
}

static void put_right(view_rect_t r, int row, int col, int w, int attr, const char *s)
{
    int c = text_columns(s);
    if (c > w)
        c = w;
    put(r, row, col + w - c, attr, s, c);
}

/* A line drawn whole or not at all: a heading cut mid-word misleads. */
static bool put_whole(view_rect_t r, int row, int col, int attr, const char *s)
{
    int c = text_columns(s);
    if (row < 0 || row >= r.h || col < 0 || c > r.w - col)
        return false;
    put(r, row, col, attr, s, c);
    return true;
}

/* A rectangle with nothing useful to show says so on its first line, as
 * much of it as fits whole: "20x8: too small for the log", "too small for
 * the log", "too small", or nothing. */
static void too_small(view_rect_t r, const term_t *t, const char *what)
{
    char line[96];
    int dim = term_attr(t, ROLE_DIM);
    snprintf(line, sizeof line, "%dx%d: too small for %s", r.w, r.h, what);
    if (put_whole(r, 0, 0, dim, line))
        return;
    snprintf(line, sizeof line, "too small for %s", what);
    if (!put_whole(r, 0, 0, dim, line))
        put_whole(r, 0, 0, dim, "too small");
}

/* A bar of frac (0..1) of w columns: eighth-steps in UTF-8, '#' in ASCII. A
 * count that is not zero shows at least the thinnest step, so a trickle is
 * not mistaken for nothing. */
static const char *bar(double frac, int w, bool utf8, bool nonzero, char *buf, size_t len)
{
    static const char *const eighths[8] = {
        "", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
        "\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89"};
    size_t n = 0;
    buf[0] = '\0';
    if (w <= 0 || len < 5)
        return buf;
    if (frac > 1)
        frac = 1;
    if (!(frac > 0))
        frac = 0;
    int steps = utf8 ? 8 : 1;
    long units = lround(frac * w * steps);
    if (units == 0 && nonzero)
        units = 1;
    for (long i = 0; i < units / steps && n + 4 < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s", utf8 ? "\xe2\x96\x88" : "#");
    if (utf8 && units % steps && n + 4 < len)
        snprintf(buf + n, len - n, "%s", eighths[units % steps]);
    return buf;
}

/* A share of a whole, in 6 columns: "100.0%", " 3.5%", "<0.1%". */
static const char *share(uint64_t part, uint64_t whole, char *buf, size_t len)
{
    double p = whole ? 100.0 * (double)part / (double)whole : 0;
    if (part > 0 && p < 0.05)
        snprintf(buf, len, "<0.1%%");
    else
        snprintf(buf, len, "%.1f%%", p);
    return buf;
}

/* ---- the latency distribution ------------------------------------------------ */

/* Side by side from this width; stacked below it. */
#define DIST_SIDE_MIN_W 100
#define DIST_GAP 3
#define DIST_COUNT_W 6
#define DIST_SHARE_W 6
#define DIST_BAR_MIN 4

/* The buckets lo..hi, shown in groups of `merge` neighbours. */
typedef struct {
    unsigned lo, hi, merge;
    int label_w;
    double max_share;     /* the largest group's share, in either histogram */
} dist_axis_t;

static uint64_t group_count(const uint64_t *dist, unsigned b0, unsigned b1)
{
    uint64_t n = 0;
    for (unsigned b = b0; b <= b1; b++)
        n += dist[b];
    return n;
}

static uint64_t dist_total(const uint64_t *dist)
{
    return group_count(dist, 0, SNAP_DIST_BUCKETS - 1);
}

/* The smallest whole microsecond in bucket b (its lower edge rounded up:
 * bucket b holds lower_us(b) <= us < lower_us(b + 1)). */
static uint64_t bucket_floor_us(unsigned b)
{
    return (uint64_t)ceil(snap_dist_lower_us(b) - 1e-9);
}

/* "12ms–15ms": the group's lowest latency to the next group's lowest
 * (exclusive); the last bucket holds everything above its edge: "≥60s". */
static const char *group_label(unsigned b0, unsigned b1, bool utf8, char *buf, size_t len)
{
    char lo[32], hi[32];
    text_time_us(bucket_floor_us(b0), utf8, lo, sizeof lo);
    if (b1 + 1 >= SNAP_DIST_BUCKETS) {
        snprintf(buf, len, "%s%s", utf8 ? "\xe2\x89\xa5" : ">=", lo);
        return buf;
    }
    text_time_us(bucket_floor_us(b1 + 1), utf8, hi, sizeof hi);
    if (b0 == 0 && b1 == 0)
        snprintf(buf, len, "%s", lo);
    else
        snprintf(buf, len, "%s%s%s", lo, utf8 ? "\xe2\x80\x93" : "-", hi);
    return buf;
}

static void dist_axis(dist_axis_t *ax, const uint64_t *a, const uint64_t *b, int lines, bool utf8)
{
    ax->lo = SNAP_DIST_BUCKETS;
    ax->hi = 0;
    for (unsigned i = 0; i < SNAP_DIST_BUCKETS; i++)
        if (a[i] || b[i]) {
            if (ax->lo == SNAP_DIST_BUCKETS)
                ax->lo = i;
            ax->hi = i;
        }
    unsigned n = ax->hi - ax->lo + 1;
    ax->merge = (n + (unsigned)lines - 1) / (unsigned)lines;
    ax->label_w = 0;
    ax->max_share = 0;
    uint64_t ta = dist_total(a), tb = dist_total(b);
    for (unsigned g = ax->lo; g <= ax->hi; g += ax->merge) {
        unsigned g1 = g + ax->merge - 1 < SNAP_DIST_BUCKETS ? g + ax->merge - 1 : SNAP_DIST_BUCKETS - 1;
        char lab[64];
        int w = text_columns(group_label(g, g1, utf8, lab, sizeof lab));
        if (w > ax->label_w)
            ax->label_w = w;
        double sa = ta ? (double)group_count(a, g, g1) / (double)ta : 0;
        double sb = tb ? (double)group_count(b, g, g1) / (double)tb : 0;
        if (sa > ax->max_share)
            ax->max_share = sa;
        if (sb > ax->max_share)
            ax->max_share = sb;
    }
}

/* Which of the run's p50, p95, p99 (pct, the exact histogram's) fall in the
 * buckets b0..b1: "p50", "p95 p99", or "". */
static const char *pct_tags(const uint64_t *pct, unsigned b0, unsigned b1, char *buf, size_t len)
{
    static const struct { int k; const char *tag; } marks[] = {
        {SNAP_P50, "p50"}, {SNAP_P95, "p95"}, {SNAP_P99, "p99"}};
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof marks / sizeof marks[0] && n < len; i++) {
        unsigned b = snap_dist_bucket(pct[marks[i].k]);
        if (b >= b0 && b <= b1)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", marks[i].tag);
    }
    return buf;
}

/* The bar's width in a histogram w columns wide, and whether there is room
 * for the counts (else the shares alone) and for the percentile tags; both
 * histograms alike, so that their bars share one scale. */
#define DIST_TAG_W 12     /* " p50 p95 p99" */
static int dist_bar_w(const dist_axis_t *ax, int w, bool *count, bool *tags)
{
    int bar_w = w - (ax->label_w + 1) - 1 - DIST_SHARE_W;
    *count = bar_w - (DIST_COUNT_W + 1) >= DIST_BAR_MIN;
    if (*count)
        bar_w -= DIST_COUNT_W + 1;
    *tags = bar_w - DIST_TAG_W >= DIST_TAG_W;
    return *tags ? bar_w - DIST_TAG_W : bar_w;
}

/* One histogram in r: a title, then a line per group of the axis; with
 * pct (the run's percentiles), the groups that hold p50, p95, p99 say so
 * at the right when the width allows. */
static void dist_one(view_rect_t r, const char *title, const char *empty, const uint64_t *dist,
                     const uint64_t *pct, const dist_axis_t *ax, const term_t *t)
{
    bool utf8 = t->utf8;
    uint64_t total = dist_total(dist);
    char line[160], a[32], b[32];
    snprintf(line, sizeof line, "%s: %llu request%s", title, (unsigned long long)total,
             total == 1 ? "" : "s");
    put(r, 0, 0, term_attr(t, ROLE_HEADER) | A_BOLD, line, r.w);
    if (total == 0) {
        put(r, 1, 0, term_attr(t, ROLE_DIM), empty, r.w);
        return;
    }
    int bar_x = ax->label_w + 1;
    bool counts, tags;
    int bar_w = dist_bar_w(ax, r.w, &counts, &tags);
    if (!tags)
        pct = NULL;
    int row = 1;
    for (unsigned g = ax->lo; g <= ax->hi && row < r.h; g += ax->merge, row++) {
        unsigned g1 = g + ax->merge - 1 < SNAP_DIST_BUCKETS ? g + ax->merge - 1 : SNAP_DIST_BUCKETS - 1;
        uint64_t n = group_count(dist, g, g1);
        put_right(r, row, 0, ax->label_w, term_attr(t, ROLE_DIM), group_label(g, g1, utf8, line, sizeof line));
        if (pct)
            put(r, row, r.w - DIST_TAG_W + 1, term_attr(t, ROLE_HIGHLIGHT),
                pct_tags(pct, g, g1, line, sizeof line), DIST_TAG_W - 1);
        if (n == 0)
            continue;
        double sh = (double)n / (double)total;
        /* One scale for both histograms: the fullest group of either is a
         * full bar, so the last 10 s and the run compare bar for bar. */
        char bars[2048];          /* 3 bytes a column: any terminal's width */
        bar(ax->max_share > 0 ? sh / ax->max_share : 0, bar_w, utf8, true, bars, sizeof bars);
        put(r, row, bar_x, term_attr(t, ROLE_OK), bars, bar_w);
        int x = bar_x + bar_w + 1;
        if (counts) {
            put_right(r, row, x, DIST_COUNT_W, A_NORMAL, text_count(n, a, sizeof a));
            x += DIST_COUNT_W + 1;
        }
        put_right(r, row, x, DIST_SHARE_W, A_NORMAL, share(n, total, b, sizeof b));
    }
}

void panel_dist_draw(view_rect_t r, const snap_entry_t *e, const term_t *t)
{
    bool side = r.w >= DIST_SIDE_MIN_W;
    /* Each histogram: a title and at least one line; the widest label
     * ("9.7ms–12ms": two times of at most 6 columns and a dash), a short
     * bar and a share (the count when there is room). */
    int min_w = 13 + 1 + DIST_BAR_MIN + 1 + DIST_SHARE_W;
    if (r.h < (side ? 2 : 4) || r.w < min_w) {
        too_small(r, t, "the distribution");
        return;
    }
    view_rect_t ra = r, rb = r;
    if (side) {
        ra.w = rb.w = (r.w - DIST_GAP) / 2;
        rb.x = r.x + ra.w + DIST_GAP;
    } else {
        ra.h = rb.h = r.h / 2;
        rb.y = r.y + ra.h;
    }
    const uint64_t *recent = e->dist_recent, *run = e->dist_run;
    if (dist_total(recent) == 0 && dist_total(run) == 0) {
        put(ra, 0, 0, term_attr(t, ROLE_HEADER) | A_BOLD, "latency distribution", ra.w);
        put(ra, 1, 0, term_attr(t, ROLE_DIM), "no requests yet", ra.w);
        return;
    }
    /* One axis for both, from the fastest to the slowest bucket of either,
     * with as many neighbours merged as it takes to fit the shorter. */
    dist_axis_t ax;
    dist_axis(&ax, recent, run, (ra.h < rb.h ? ra.h : rb.h) - 1, t->utf8);
    dist_one(ra, "last 10 s", "no requests in the last 10 s", recent, NULL, &ax, t);
    dist_one(rb, "run", "no requests yet", run, snap_row_has_times(e) ? e->pct_us : NULL, &ax, t);
}

/* ---- status codes and error kinds ------------------------------------------------ */

static const char *reason_phrase(unsigned code)
{
    switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

/* One error kind: a text and how often, summed over the rows it came from. */
typedef struct {
    const char *text;
    uint64_t count;
    unsigned rows;
} error_kind_t;

static int kind_by_text(const void *a, const void *b)
{
    return strcmp(((const error_kind_t *)a)->text, ((const error_kind_t *)b)->text);
}

static int kind_by_count(const void *a, const void *b)
{
    const error_kind_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->text, y->text);
}

/* The error kinds of row e (all rows' when total), most frequent first,
 * into a new array (xmalloc'd, the caller frees it); their number. Sorting
 * by text then merging keeps this n log n for the 1024 kinds stats may
 * keep. */
static size_t error_kinds(const snap_t *s, const snap_entry_t *e, bool total, error_kind_t **out)
{
    error_kind_t *k = xmalloc((s->n_errors ? s->n_errors : 1) * sizeof *k);
    size_t n = 0;
    for (size_t i = 0; i < s->n_errors; i++) {
        const snap_error_t *er = &s->errors[i];
        if (!total && (strcmp(er->method, e->method) != 0 || strcmp(er->name, e->name) != 0))
            continue;
        k[n++] = (error_kind_t){er->error, er->count, 1};
    }
    qsort(k, n, sizeof *k, kind_by_text);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && strcmp(k[m - 1].text, k[i].text) == 0) {
            k[m - 1].count += k[i].count;
            k[m - 1].rows++;
        } else {
            k[m++] = k[i];
        }
    }
    qsort(k, m, sizeof *k, kind_by_count);
    *out = k;
    return m;
}

#define CODES_SHARE_W 6
#define CODES_BAR_MIN 3
#define CODES_BAR_MAX 40    /* past this a bar is harder to read against its count */

void panel_codes_draw(view_rect_t r, const snap_t *s, const snap_entry_t *e, bool total,
                      const term_t *t)
{
    char line[256], a[32], b[64];
    /* A count as wide as the requests' (every count is at most that), and
     * the shortest label, "no response": less than that cuts a number. */
    int count_w = snprintf(a, sizeof a, "%llu", (unsigned long long)e->requests);
    if (count_w < 5)
        count_w = 5;
    int fixed = 1 + count_w + 1 + CODES_SHARE_W;
    if (r.h < 2 || r.w < 11 + fixed) {
        too_small(r, t, "status codes");
        return;
    }
    bool utf8 = t->utf8;
    int hdr = term_attr(t, ROLE_HEADER) | A_BOLD, dim = term_attr(t, ROLE_DIM);

    /* What the code lines say: each code, the codes not kept apart, and
     * the requests that got no response at all (their errors say why). */
    uint64_t answered = e->codes_other;
    for (unsigned i = 0; i < e->n_codes && i < SNAP_CODES; i++)
        answered += e->codes[i].count;
    uint64_t no_response = e->requests > answered ? e->requests - answered : 0;
    unsigned n_codes = e->n_codes < SNAP_CODES ? e->n_codes : SNAP_CODES;
    int code_lines = 1 + (int)n_codes + (e->codes_other > 0) + (no_response > 0);
    if (e->requests == 0)
        code_lines = 2;

    error_kind_t *kinds;
    size_t n_kinds = error_kinds(s, e, total, &kinds);
    int err_lines = 2 + (n_kinds ? (int)n_kinds : 1);     /* a blank, the heading, the kinds */

    /* Both parts when both fit; else the codes keep their lines but for
     * the error kinds' heading and first three. */
    int code_rows = code_lines, err_rows = err_lines;
    if (code_rows + err_rows > r.h) {
        int err_min = err_lines < 5 ? err_lines : 5;
        code_rows = r.h - err_min < code_lines ? r.h - err_min : code_lines;
        if (code_rows < 2)
            code_rows = r.h < 2 ? r.h : 2;
        err_rows = r.h - code_rows;
    }

    /* Columns: the code and its phrase, the count, the share, the bar;
     * the phrases only when they fit whole. */
    int label_w = 11;                     /* "no response" */
    int full_w = 0;
    for (unsigned i = 0; i < n_codes; i++) {
        snprintf(b, sizeof b, "%u %s", e->codes[i].code, reason_phrase(e->codes[i].code));
        if (text_columns(b) > full_w)
            full_w = text_columns(b);
    }
    bool phrases = full_w + fixed + 1 + CODES_BAR_MIN <= r.w;
    if (phrases && full_w > label_w)
        label_w = full_w;
    int bar_x = label_w + fixed + 1;
    int bar_w = r.w - bar_x < CODES_BAR_MAX ? r.w - bar_x : CODES_BAR_MAX;

    int row = 0;
    snprintf(line, sizeof line, "%-*s %*s %*s", label_w, "status", count_w, "count",
             CODES_SHARE_W, "share");
    put(r, row++, 0, hdr, line, r.w);
    if (e->requests == 0) {
        put(r, row++, 0, dim, "no requests yet", r.w);
    } else {
        /* The largest count is a full bar. */
        uint64_t max = e->codes_other > no_response ? e->codes_other : no_response;
        for (unsigned i = 0; i < n_codes; i++)
            if (e->codes[i].count > max)
                max = e->codes[i].count;
        int shown = 0, want = code_lines - 1, room = code_rows - 1;
        for (int i = 0; i < want && row < code_rows; i++) {
            if (want > room && shown == room - 1) {
                snprintf(line, sizeof line, "+%d more", want - shown);
                put(r, row++, 0, dim, line, r.w);
                break;
            }
            uint64_t n;
            int attr = A_NORMAL;
            if (i < (int)n_codes) {
                unsigned code = e->codes[i].code;
                n = e->codes[i].count;
                snprintf(b, sizeof b, "%u %s", code, phrases ? reason_phrase(code) : "");
                if (code >= 400)
                    attr = term_attr(t, ROLE_FAIL);
            } else if (i == (int)n_codes && e->codes_other > 0) {
                n = e->codes_other;
                snprintf(b, sizeof b, "other");
            } else {
                n = no_response;
                snprintf(b, sizeof b, "no response");
                attr = term_attr(t, ROLE_FAIL);
            }
            char count[32], sh[16], bars[256];
            snprintf(count, sizeof count, "%llu", (unsigned long long)n);
            put(r, row, 0, attr, b, label_w);
            put_right(r, row, label_w + 1, count_w, attr, count);
            put_right(r, row, label_w + 1 + count_w + 1, CODES_SHARE_W, A_NORMAL,
                      share(n, e->requests, sh, sizeof sh));
            bar(max ? (double)n / (double)max : 0, bar_w, utf8, n > 0, bars, sizeof bars);
            put(r, row, bar_x, attr == A_NORMAL ? term_attr(t, ROLE_OK) : attr, bars, bar_w);
            row++;
            shown++;
        }
    }

    /* The error kinds, most frequent first. */
    if (err_rows >= 2) {
        row = code_rows + 1;
        int kinds_rows = err_rows - 2;
        if (n_kinds == 0) {
            put_whole(r, row, 0, hdr, "errors: none");
        } else {
            /* Short enough for a third of 80 columns; the panel's row
             * header already names the endpoint. */
            snprintf(line, sizeof line, "errors (%zu kind%s)", n_kinds, n_kinds == 1 ? "" : "s");
            if (!put_whole(r, row, 0, hdr, line))
                put_whole(r, row, 0, hdr, "errors");
            row++;
            int cw = 1;
            for (size_t i = 0; i < n_kinds; i++) {
                snprintf(a, sizeof a, "%llu", (unsigned long long)kinds[i].count);
                if ((int)strlen(a) > cw)
                    cw = (int)strlen(a);
            }
            for (size_t i = 0; i < n_kinds && (int)i < kinds_rows; i++) {
                if (n_kinds > (size_t)kinds_rows && (int)i == kinds_rows - 1) {
                    snprintf(line, sizeof line, "+%zu more kinds", n_kinds - i);
                    put(r, row++, 0, dim, line, r.w);
                    break;
                }
                char text[SNAP_ERROR_TEXT], where[48] = "";
                text_sanitize(kinds[i].text, text, sizeof text);
                if (total && kinds[i].rows > 1)
                    snprintf(where, sizeof where, " (%u endpoints)", kinds[i].rows);
                /* The text shortened in its middle to fit (its start and
                 * its end both say something), never cut at the edge. */
                int room = r.w - cw - 2 - text_columns(where);
                if (room < 8) {
                    where[0] = '\0';
                    room = r.w - cw - 2;
                }
                char fit[SNAP_ERROR_TEXT];
                snprintf(line, sizeof line, "%*llu  %s%s", cw, (unsigned long long)kinds[i].count,
                         room > 0 ? text_fit_middle(text, room, utf8, fit, sizeof fit) : "", where);
                put(r, row++, 0, term_attr(t, ROLE_FAIL), line, r.w);
            }
        }
    }
    free(kinds);
}

/* ---- the percentile table ------------------------------------------------------- */

#define PCT_LINES (SNAP_NPCT + 7)

typedef struct {
    char text[128];
    int attr;
    int prio;             /* 0 stays longest */
    bool keep;
} pct_line_t;

/* Which percentiles stay when the rows are few, by SNAP_* index: 50, 95,
 * 99, 100 first, the fine steps last. */
static int pct_prio(int k)
{
    static const int prio[SNAP_NPCT] = {0, 4, 3, 4, 2, 0, 4, 0, 2, 3, 0};
    return prio[k];
}

/* A row of the table: a label and one or two times, each right-aligned in
 * cw columns (by columns, not bytes: "µs" is two bytes in one column). */
static void pct_row(pct_line_t *l, const char *label, uint64_t us, uint64_t raw_us, bool dual,
                    int cw, bool utf8)
{
    char a[32], b[32];
    text_time_us(us, utf8, a, sizeof a);
    text_time_us(raw_us, utf8, b, sizeof b);
    int pa = cw - text_columns(a), pb = cw - text_columns(b);
    if (dual)
        snprintf(l->text, sizeof l->text, "%-6s %*s%s %*s%s", label, pa > 0 ? pa : 0, "", a,
                 pb > 0 ? pb : 0, "", b);
    else
        snprintf(l->text, sizeof l->text, "%-6s %*s%s", label, pa > 0 ? pa : 0, "", a);
}

void panel_pct_draw(view_rect_t r, const snap_t *s, const snap_entry_t *e, const term_t *t)
{
    bool utf8 = t->utf8, dual = s->dual;
    int cw = dual ? 9 : 8;      /* a time column */
    /* The table's width ("99.99%" and its columns), and the longest of the
     * lines above it at the usual magnitudes ("failures  1234567 (12.34%)"). */
    int min_w = 6 + (1 + cw) * (dual ? 2 : 1);
    if (min_w < 26)
        min_w = 26;
    if (r.h < 2 || r.w < min_w) {
        too_small(r, t, "the percentiles");
        return;
    }
    pct_line_t lines[PCT_LINES];
    int n = 0;
    char a[32], b[32];
    double fail_pct = e->requests ? 100.0 * (double)e->failures / (double)e->requests : 0;

    lines[n++] = (pct_line_t){.attr = A_NORMAL, .prio = 1};
    snprintf(lines[n - 1].text, sizeof lines[0].text, "requests  %llu", (unsigned long long)e->requests);
    lines[n++] = (pct_line_t){.attr = e->failures ? term_attr(t, ROLE_FAIL) : (int)A_NORMAL, .prio = 1};
    snprintf(lines[n - 1].text, sizeof lines[0].text, "failures  %llu (%.*f%%)",
             (unsigned long long)e->failures, fail_pct > 0 && fail_pct < 10 ? 2 : 0, fail_pct);
    /* Over the last 10 s, as the table's columns. */
    lines[n++] = (pct_line_t){.attr = A_NORMAL, .prio = 2};
    snprintf(lines[n - 1].text, sizeof lines[0].text, "req/s     %s", text_rate(e->cur_rps, a, sizeof a));
    lines[n++] = (pct_line_t){.attr = e->cur_fps > 0 ? term_attr(t, ROLE_FAIL) : (int)A_NORMAL, .prio = 3};
    snprintf(lines[n - 1].text, sizeof lines[0].text, "fail/s    %s", text_rate(e->cur_fps, b, sizeof b));

    bool times = snap_row_has_times(e);
    if (!times) {
        lines[n++] = (pct_line_t){.attr = term_attr(t, ROLE_DIM), .prio = 0};
        snprintf(lines[n - 1].text, sizeof lines[0].text, "no response times yet");
    } else {
        lines[n++] = (pct_line_t){.attr = term_attr(t, ROLE_HEADER) | A_BOLD, .prio = 0};
        if (dual)
            snprintf(lines[n - 1].text, sizeof lines[0].text, "%-6s %*s %*s", "", cw, "corrected",
                     cw, "raw");
        else
            snprintf(lines[n - 1].text, sizeof lines[0].text, "%-6s %*s", "", cw, "latency");
        /* avg and min, then the percentiles (100% is the max). */
        lines[n++] = (pct_line_t){.attr = A_NORMAL, .prio = 2};
        pct_row(&lines[n - 1], "avg", (uint64_t)(e->avg_us + 0.5), (uint64_t)(e->raw_avg_us + 0.5),
                dual, cw, utf8);
        lines[n++] = (pct_line_t){.attr = A_NORMAL, .prio = 3};
        pct_row(&lines[n - 1], "min", e->min_us, e->raw_min_us, dual, cw, utf8);
        for (int k = 0; k < SNAP_NPCT; k++) {
            lines[n++] = (pct_line_t){.attr = A_NORMAL, .prio = pct_prio(k)};
            pct_row(&lines[n - 1], k == SNAP_NPCT - 1 ? "max" : snap_pct_label[k], e->pct_us[k],
                    e->raw_pct_us[k], dual, cw, utf8);
        }
    }
    /* As many lines as the rows hold, the most important first, each kept
     * in its place. */
    int left = r.h;
    for (int p = 0; p <= 4; p++)
        for (int i = 0; i < n; i++)
            if (lines[i].prio == p) {
                lines[i].keep = left > 0;
                left -= left > 0;
            }
    int row = 0;
    for (int i = 0; i < n; i++)
        if (lines[i].keep) {
            /* Trailing blanks of a single time column are no text. */
            size_t len = strlen(lines[i].text);
            while (len && lines[i].text[len - 1] == ' ')
                lines[i].text[--len] = '\0';
            put(r, row++, 0, lines[i].attr, lines[i].text, r.w);
        }
}

/* ---- hopper's log ------------------------------------------------------------------ */

#define LOG_TIME_W 8      /* HH:MM:SS */

size_t panel_log_draw(view_rect_t r, const log_t *log, size_t scroll, const term_t *t)
{
    if (r.h < 1 || r.w < LOG_TIME_W + 2 + 4) {
        too_small(r, t, "the log");
        return 0;
    }
    size_t n = log ? log->n_ring : 0;
    size_t rows = (size_t)r.h;
    size_t max_scroll = n > rows ? n - rows : 0;
    if (n == 0) {
        put(r, 0, 0, term_attr(t, ROLE_DIM), "no messages yet", r.w);
        return 0;
    }
    if (scroll > max_scroll)
        scroll = max_scroll;
    /* The newest shown sits on the last row (or under the last message
     * when they are fewer than the rows). */
    size_t last = n - 1 - scroll;
    size_t shown = last + 1 < rows ? last + 1 : rows;
    size_t first = last + 1 - shown;
    for (size_t i = 0; i < shown; i++) {
        const log_line_t *m = log_ring_at(log, first + i);
        char when[16] = "--:--:--", text[LOG_LINE_MAX];
        time_t secs = (time_t)m->t_unix;
        struct tm tm;
        if (m->t_unix > 0 && localtime_r(&secs, &tm))
            strftime(when, sizeof when, "%H:%M:%S", &tm);
        text_sanitize(m->text, text, sizeof text);
        put(r, (int)i, 0, term_attr(t, ROLE_DIM), when, LOG_TIME_W);
        put(r, (int)i, LOG_TIME_W + 2, A_NORMAL, text, r.w - LOG_TIME_W - 2);
    }
    return max_scroll;
}

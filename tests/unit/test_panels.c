/* Unit tests for the dashboard's detail panels (view/panels.c) and the log's
 * ring of messages (util/log.c).
 *
 * Each panel is drawn into ncurses' virtual screen (a vt100 writing to
 * /dev/null, as test_dashboard.c does; in the C.UTF-8 locale so that the
 * eighth-step bars are real characters) and the screen is read back as
 * text: a bimodal latency shows as two humps with empty rows between, the
 * status codes and their shares, error kinds grouped across rows, the log
 * in order with its times after the ring wrapped, rectangles too small,
 * ASCII terminals, and that no panel ever writes outside its rectangle. */
#include "check.h"
#include "screen.h"
#include "util/log.h"
#include "util/text.h"
#include "view/panels.h"

#include <curses.h>
#include <locale.h>
#include <stdlib.h>
#include <time.h>
#include <wchar.h>

/* ---- a screen to draw on ----------------------------------------------------- */

/* screen_open, screen_close, screen_term: screen.h */

/* Row y from column x0, w columns (to the end of the line when w < 0), as
 * UTF-8 text. */
static const char *cells(int y, int x0, int w, char *buf, size_t len)
{
    buf[0] = '\0';
    if (w < 0 || x0 + w > COLS)
        w = COLS - x0;
    if (y < 0 || y >= LINES || w <= 0)
        return buf;
    wchar_t wbuf[1024];
    size_t n = 0;
    for (int x = x0; x < x0 + w && n + 1 < sizeof wbuf / sizeof wbuf[0]; x++) {
        cchar_t cc;
        wchar_t wc[CCHARW_MAX + 1];
        attr_t a;
        short pair;
        if (mvin_wch(y, x, &cc) == ERR || getcchar(&cc, wc, &a, &pair, NULL) == ERR || !wc[0])
            wbuf[n++] = L'?';
        else
            wbuf[n++] = wc[0];
    }
    wbuf[n] = L'\0';
    if (wcstombs(buf, wbuf, len) == (size_t)-1)
        snprintf(buf, len, "(not text)");
    return buf;
}

static const char *line_at(int y, char *buf, size_t len)
{
    return cells(y, 0, -1, buf, len);
}

static void dump(void)
{
    char buf[4096];
    for (int y = 0; y < LINES; y++)
        printf("#   |%s|\n", line_at(y, buf, sizeof buf));
}

/* The row where text is, at or below row from, or -1. */
static int find_from(const char *text, int from)
{
    char buf[4096];
    for (int y = from; y < LINES; y++)
        if (strstr(line_at(y, buf, sizeof buf), text))
            return y;
    return -1;
}

static int find(const char *text)
{
    return find_from(text, 0);
}

#define CHECK_SHOWN(text)                                                         \
    do {                                                                          \
        if (find(text) < 0) {                                                     \
            printf("#   %s:%d: '%s' is not on the %dx%d screen:\n", __FILE__,     \
                   __LINE__, text, COLS, LINES);                                  \
            dump();                                                               \
            check_failed_in_test = 1;                                             \
        }                                                                         \
    } while (0)

#define CHECK_NOT_SHOWN(text)                                                     \
    do {                                                                          \
        if (find(text) >= 0) {                                                    \
            printf("#   %s:%d: '%s' is on the %dx%d screen:\n", __FILE__, __LINE__,\
                   text, COLS, LINES);                                            \
            dump();                                                               \
            check_failed_in_test = 1;                                             \
        }                                                                         \
    } while (0)

/* Whether row y holds both texts, a before b. */
static bool row_has(int y, const char *a, const char *b)
{
    char buf[4096];
    const char *line = line_at(y, buf, sizeof buf);
    const char *p = strstr(line, a);
    return p && (!b || strstr(p + strlen(a), b));
}

/* ---- histograms ---------------------------------------------------------------- */

static const char *const bar_glyphs[] = {
    "\xe2\x96\x88", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
    "\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89", "#"};

static bool has_bar(const char *s)
{
    for (size_t i = 0; i < sizeof bar_glyphs / sizeof bar_glyphs[0]; i++)
        if (strstr(s, bar_glyphs[i]))
            return true;
    return false;
}

/* How many columns of bar s holds. */
static int bar_cols(const char *s)
{
    int n = 0;
    for (const char *p = s; *p;) {
        size_t k = 0;
        for (size_t i = 0; i < sizeof bar_glyphs / sizeof bar_glyphs[0]; i++)
            if (strncmp(p, bar_glyphs[i], strlen(bar_glyphs[i])) == 0)
                k = strlen(bar_glyphs[i]);
        n += k > 0;
        p += k ? k : 1;
    }
    return n;
}

/* The humps of the histogram in rows y0..y1-1, columns x0..x0+w-1: runs
 * of rows with a bar, each after a row without one. gap: the most rows
 * without a bar seen between two rows with one. */
static int humps(int y0, int y1, int x0, int w, int *gap)
{
    char buf[4096];
    int n = 0, blank = 0, seen = 0;
    bool in = false;
    *gap = 0;
    for (int y = y0; y < y1; y++) {
        bool b = has_bar(cells(y, x0, w, buf, sizeof buf));
        if (b && !in) {
            n++;
            if (seen && blank > *gap)
                *gap = blank;
        }
        if (b) {
            seen = 1;
            blank = 0;
        } else {
            blank++;
        }
        in = b;
    }
    return n;
}

static snap_entry_t entry;

static void bimodal(snap_entry_t *e, uint64_t fast, uint64_t slow)
{
    memset(e, 0, sizeof *e);
    e->method = "GET";
    e->name = "/movies";
    e->dist_run[snap_dist_bucket(2000)] = fast;
    e->dist_run[snap_dist_bucket(200000)] = slow;
    e->dist_recent[snap_dist_bucket(2000)] = fast / 10;
    e->dist_recent[snap_dist_bucket(200000)] = slow / 10;
}

TEST(dist_bimodal_side_by_side_has_two_humps)
{
    if (screen_open(120, 40, true) != 0) {
        CHECK(0);
        return;
    }
    bimodal(&entry, 500, 500);
    panel_dist_draw((view_rect_t){0, 0, 40, 120}, &entry, &screen_term);
    /* Titles side by side on the first row. */
    CHECK(row_has(0, "last 10 s: 100 requests", "run: 1000 requests"));
    /* 40 rows hold the 28 buckets from 2 ms to 200 ms one by one: each
     * hump is one bucket, labelled with its edges. */
    int fast = find("1.7ms\xe2\x80\x93" "2.0ms"), slow = find("185ms\xe2\x80\x93" "220ms");
    CHECK(fast > 0);
    CHECK(slow > fast);
    CHECK(row_has(fast, "1.7ms", "500  50.0%"));
    CHECK(row_has(slow, "185ms", "500  50.0%"));
    CHECK(row_has(fast, "50  50.0%", "500  50.0%"));
    int gap, left = humps(1, 40, 0, 58, &gap);
    CHECK_INT(left, 2);
    CHECK(gap >= 20);
    int right = humps(1, 40, 61, 59, &gap);
    CHECK_INT(right, 2);
    CHECK(gap >= 20);
    if (left != 2 || right != 2)
        dump();
    /* A full bar for the fullest bucket: eight eighths all through. */
    char buf[4096];
    CHECK(strstr(cells(fast, 0, 58, buf, sizeof buf), "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88") != NULL);
    screen_close();
}

TEST(dist_bimodal_stacked_merges_buckets_and_keeps_the_gap)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    bimodal(&entry, 300, 700);
    panel_dist_draw((view_rect_t){0, 0, 24, 80}, &entry, &screen_term);
    int top = find("last 10 s: 100 requests"), bottom = find("run: 1000 requests");
    CHECK_INT(top, 0);
    CHECK_INT(bottom, 12);
    int gap;
    CHECK_INT(humps(1, 12, 0, 80, &gap), 2);
    CHECK(gap >= 3);
    CHECK_INT(humps(13, 24, 0, 80, &gap), 2);
    CHECK(gap >= 3);
    /* 11 rows for 28 buckets: three to a row, and the shares stay. */
    CHECK(find_from("30.0%", 13) > 12);
    CHECK(find_from("70.0%", 13) > 12);
    /* One scale for both: the slow hump of the last 10 s is as long as
     * the run's (both 70%). */
    char a[4096], b[4096];
    int ys = find_from("70.0%", 1), yr = find_from("70.0%", 13);
    CHECK(ys > 0 && ys < 12 && yr > 12);
    CHECK(bar_cols(cells(ys, 0, 80, a, sizeof a)) >= 40);
    CHECK_INT(bar_cols(a), bar_cols(cells(yr, 0, 80, b, sizeof b)));
    screen_close();
}

TEST(dist_narrow_keeps_the_shares_and_drops_the_counts)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    bimodal(&entry, 500, 500);
    /* The endpoint view's third at 80 columns. */
    panel_dist_draw((view_rect_t){0, 54, 20, 26}, &entry, &screen_term);
    int y = find_from("50.0%", 11);
    CHECK(y > 10);
    CHECK(row_has(y, "1.7ms", "50.0%"));
    CHECK(has_bar(line_at(y, (char[4096]){0}, 4096)));
    CHECK_NOT_SHOWN("500");
    int gap;
    CHECK_INT(humps(11, 20, 54, 26, &gap), 2);
    erase();
    panel_dist_draw((view_rect_t){0, 56, 20, 24}, &entry, &screen_term);
    CHECK_SHOWN("too small");        /* whole: "24x20: too small for ..." does not fit */
    CHECK_NOT_SHOWN("24x20");
    screen_close();
}

TEST(dist_both_histograms_share_one_scale)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    /* The last 10 s all fast, the run half and half: the run's fast bar is
     * half as long as the last 10 s', not as long (each on its own scale
     * would make both full). */
    bimodal(&entry, 500, 500);
    entry.dist_recent[snap_dist_bucket(200000)] = 0;
    panel_dist_draw((view_rect_t){0, 0, 24, 80}, &entry, &screen_term);
    char a[4096], b[4096];
    int yr = find_from("100.0%", 1), yn = find_from("50.0%", 13);
    CHECK(yr > 0 && yr < 12 && yn > 12);
    int full = bar_cols(cells(yr, 0, 80, a, sizeof a)), half = bar_cols(cells(yn, 0, 80, b, sizeof b));
    CHECK(full >= 40);
    CHECK(half * 2 >= full - 1 && half * 2 <= full + 1);
    screen_close();
}

TEST(dist_one_mode_is_one_hump_and_empty_states)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    memset(&entry, 0, sizeof entry);
    entry.dist_run[snap_dist_bucket(5000)] = 10;
    entry.dist_run[snap_dist_bucket(6000)] = 30;
    entry.dist_run[snap_dist_bucket(7000)] = 10;
    panel_dist_draw((view_rect_t){0, 0, 24, 80}, &entry, &screen_term);
    CHECK_SHOWN("no requests in the last 10 s");
    int gap;
    CHECK_INT(humps(13, 24, 0, 80, &gap), 1);
    CHECK_SHOWN("60.0%");
    erase();
    memset(&entry, 0, sizeof entry);
    panel_dist_draw((view_rect_t){0, 0, 24, 80}, &entry, &screen_term);
    CHECK_SHOWN("no requests yet");
    screen_close();
}

/* ---- status codes and errors ----------------------------------------------------- */

static snap_t snap;
static snap_error_t errors[4];

static void codes_scene(void)
{
    memset(&snap, 0, sizeof snap);
    memset(&entry, 0, sizeof entry);
    entry.method = "";
    entry.name = "Aggregated";
    entry.requests = 1000;
    entry.failures = 50;
    entry.codes[0] = (snap_code_t){200, 950};
    entry.codes[1] = (snap_code_t){503, 40};
    entry.n_codes = 2;                 /* and 10 with no response */
    errors[0] = (snap_error_t){.method = "GET", .name = "/a", .error = "HTTP 503 Service Unavailable", .count = 30};
    errors[1] = (snap_error_t){.method = "GET", .name = "/a", .error = "timeout", .count = 6};
    errors[2] = (snap_error_t){.method = "GET", .name = "/b", .error = "HTTP 503 Service Unavailable", .count = 10};
    errors[3] = (snap_error_t){.method = "POST", .name = "/c", .error = "connection refused", .count = 4};
    snap.errors = errors;
    snap.n_errors = 4;
}

TEST(codes_counts_shares_and_no_response)
{
    if (screen_open(100, 30, true) != 0) {
        CHECK(0);
        return;
    }
    codes_scene();
    panel_codes_draw((view_rect_t){2, 3, 20, 80}, &snap, &entry, true, &screen_term);
    int ok = find("200 OK"), unavailable = find("503 Service Unavailable"), none = find("no response");
    CHECK(ok > 0 && unavailable > ok && none > unavailable);
    CHECK(row_has(ok, "200 OK", " 950  95.0%"));
    CHECK(row_has(unavailable, "503", " 40   4.0%"));
    CHECK(row_has(none, "no response", " 10   1.0%"));
    CHECK(has_bar(line_at(ok, (char[4096]){0}, 4096)));
    CHECK_NOT_SHOWN("other");
    /* Error kinds of every row, grouped by text, most frequent first. */
    int head = find("errors (3 kinds)");
    CHECK(head > none);
    CHECK(row_has(head + 1, "40  HTTP 503 Service Unavailable", "(2 endpoints)"));
    CHECK(row_has(head + 2, " 6  timeout", NULL));
    CHECK(row_has(head + 3, " 4  connection refused", NULL));
    screen_close();
}

TEST(codes_of_one_row_show_its_errors_only)
{
    if (screen_open(100, 30, true) != 0) {
        CHECK(0);
        return;
    }
    codes_scene();
    entry.method = "GET";
    entry.name = "/a";
    entry.codes_other = 5;
    entry.codes[0].count = 945;
    panel_codes_draw((view_rect_t){0, 0, 30, 100}, &snap, &entry, false, &screen_term);
    CHECK(row_has(find("other"), "other", "5   0.5%"));
    int head = find("errors (2 kinds)");
    CHECK(head > 0);
    CHECK(row_has(head + 1, "30  HTTP 503 Service Unavailable", NULL));
    CHECK(row_has(head + 2, " 6  timeout", NULL));
    CHECK_NOT_SHOWN("connection refused");
    CHECK_NOT_SHOWN("endpoints)");
    screen_close();
}

TEST(codes_short_rectangle_keeps_codes_and_says_how_many_more)
{
    if (screen_open(80, 24, false) != 0) {
        CHECK(0);
        return;
    }
    codes_scene();
    for (unsigned i = 0; i < 12; i++)
        entry.codes[i] = (snap_code_t){(uint16_t)(200 + i), 10};
    entry.n_codes = 12;
    entry.requests = 200;
    panel_codes_draw((view_rect_t){0, 0, 10, 80}, &snap, &entry, true, &screen_term);
    CHECK_SHOWN("200 OK");
    CHECK_SHOWN("more");
    CHECK_SHOWN("errors (3 kinds)");
    CHECK_SHOWN("HTTP 503");
    CHECK_INT(find("errors (3 kinds)") < 10, 1);
    screen_close();
}

TEST(codes_narrow_drop_the_phrases_whole)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    codes_scene();
    panel_codes_draw((view_rect_t){0, 0, 12, 34}, &snap, &entry, true, &screen_term);
    int y = find("503");
    CHECK(row_has(y, "503", " 40   4.0%"));
    CHECK(!row_has(y, "503 S", NULL));
    CHECK(row_has(find("no response"), "no response", "10   1.0%"));
    erase();
    /* Too narrow for the count and the share beside the shortest label. */
    panel_codes_draw((view_rect_t){0, 0, 12, 23}, &snap, &entry, true, &screen_term);
    CHECK(row_has(0, "too small", NULL) && !row_has(0, "23x12", NULL));
    CHECK_NOT_SHOWN("503");
    screen_close();
}

/* ---- percentiles ------------------------------------------------------------------- */

TEST(pct_table_corrected_and_raw)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    memset(&snap, 0, sizeof snap);
    memset(&entry, 0, sizeof entry);
    snap.dual = true;
    entry.requests = 1234;
    entry.failures = 12;
    entry.cur_rps = 98.5;
    entry.min_us = 900;
    entry.raw_min_us = 800;
    entry.max_us = entry.pct_us[SNAP_NPCT - 1] = 2500000;
    entry.raw_max_us = entry.raw_pct_us[SNAP_NPCT - 1] = 1500000;
    entry.avg_us = 12000;
    entry.raw_avg_us = 9000;
    for (int k = 0; k < SNAP_NPCT - 1; k++) {
        entry.pct_us[k] = 10000 + 1000 * (uint64_t)k;
        entry.raw_pct_us[k] = 5000 + 100 * (uint64_t)k;
    }
    panel_pct_draw((view_rect_t){0, 0, 24, 40}, &snap, &entry, &screen_term);
    CHECK_SHOWN("requests  1234");
    CHECK_SHOWN("failures  12 (0.97%)");
    CHECK_SHOWN("req/s     98.5");
    CHECK(row_has(find("corrected"), "corrected", "raw"));
    CHECK(row_has(find("50%"), "10ms", "5.0ms"));
    CHECK(row_has(find("99.99%"), "19ms", "5.9ms"));
    CHECK(row_has(find("max"), "2.50s", "1.50s"));
    CHECK(row_has(find("min"), "min        900\xc2\xb5s     800\xc2\xb5s", NULL));   /* aligned by columns */
    CHECK(row_has(find("avg"), "12ms", "9.0ms"));
    /* Short: the fine steps go first, 50/95/99/max stay, in order. */
    erase();
    snap.dual = false;
    panel_pct_draw((view_rect_t){0, 0, 5, 40}, &snap, &entry, &screen_term);
    CHECK(find("latency") == 0);
    CHECK(find("50%") == 1 && find("95%") == 2 && find("99%") == 3 && find("max") == 4);
    CHECK(find("66%") < 0);
    CHECK_NOT_SHOWN("5.0ms");         /* no raw column without intended starts */
    screen_close();
}

/* ---- the log ------------------------------------------------------------------------- */

static log_t lg;

TEST(log_ring_keeps_order_and_wraps)
{
    log_open(&lg, NULL);
    CHECK_INT(lg.n_ring, 0);
    log_keep(&lg, 1000.5, "first");
    log_keep(&lg, 1001.5, "second");
    CHECK_INT(lg.n_ring, 2);
    CHECK_INT(lg.seq, 2);
    CHECK_STR(log_ring_at(&lg, 0)->text, "first");
    CHECK_STR(log_ring_at(&lg, 1)->text, "second");
    CHECK(log_ring_at(&lg, 1)->t_unix == 1001.5);
    CHECK_STR(lg.last, "second");
    char t[32];
    for (int i = 2; i < LOG_RING + 44; i++) {
        snprintf(t, sizeof t, "m%d", i);
        log_keep(&lg, 1000.0 + i, t);
    }
    /* 300 kept in a ring of 256: the first 44 are gone, the rest in order. */
    CHECK_INT(lg.n_ring, LOG_RING);
    CHECK_INT(lg.seq, LOG_RING + 44);
    CHECK_STR(log_ring_at(&lg, 0)->text, "m44");
    CHECK(log_ring_at(&lg, 0)->t_unix == 1044.0);
    CHECK_STR(log_ring_at(&lg, LOG_RING - 1)->text, "m299");
    bool ordered = true;
    for (size_t i = 1; i < LOG_RING; i++)
        ordered &= log_ring_at(&lg, i)->t_unix == log_ring_at(&lg, i - 1)->t_unix + 1;
    CHECK(ordered);
    /* log_keep never holds lines for stderr: a viewer's copy is not its own
     * message. */
    CHECK_INT(lg.n_held, 0);
    /* Too long for a line: cut, still terminated. */
    char longer[LOG_LINE_MAX * 2];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    log_keep(&lg, 2000, longer);
    CHECK_INT(strlen(log_ring_at(&lg, LOG_RING - 1)->text), LOG_LINE_MAX - 1);
    log_close(&lg);
}

TEST(log_msg_goes_into_the_ring_with_its_time)
{
    log_open(&lg, NULL);
    log_hold(&lg, true);                       /* held, not printed */
    time_t before = time(NULL);
    log_msg(&lg, "warning %d", 7);
    time_t after = time(NULL);
    CHECK_INT(lg.n_ring, 1);
    CHECK_STR(log_ring_at(&lg, 0)->text, "warning 7");
    CHECK(log_ring_at(&lg, 0)->t_unix >= (double)before && log_ring_at(&lg, 0)->t_unix < (double)after + 1);
    CHECK_INT(lg.n_held, 1);
    lg.n_held = 0;                             /* nothing for stderr at the close */
    log_close(&lg);
}

TEST(log_panel_newest_at_the_bottom_with_times_and_scroll)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    log_open(&lg, NULL);
    char t[64];
    /* 1700000000 is 2023-11-14 22:13:20 UTC. */
    for (int i = 0; i < 300; i++) {
        snprintf(t, sizeof t, "message %d", i);
        log_keep(&lg, 1700000000.0 + i, t);
    }
    view_rect_t r = {2, 0, 10, 80};
    size_t max = panel_log_draw(r, &lg, 0, &screen_term);
    CHECK_INT(max, LOG_RING - 10);
    CHECK(row_has(11, "22:18:19  message 299", NULL));   /* 1700000299 */
    CHECK(row_has(2, "22:18:10  message 290", NULL));
    CHECK(find("message 289") < 0);
    erase();
    panel_log_draw(r, &lg, 5, &screen_term);
    CHECK(row_has(11, "message 294", NULL));
    CHECK(row_has(2, "message 285", NULL));
    erase();
    /* Past the oldest: clamped, the oldest kept (message 44) on top. */
    panel_log_draw(r, &lg, 100000, &screen_term);
    CHECK(row_has(2, "22:14:04  message 44", NULL));
    CHECK(row_has(11, "message 53", NULL));
    log_close(&lg);

    /* Fewer messages than rows: from the top; a terminal's escape shown
     * as text; a long line ends at the panel's edge. */
    erase();
    log_open(&lg, NULL);
    log_keep(&lg, 1700000000.0, "server said \x1b[2J\x07 bye");
    char longer[200];
    memset(longer, 'y', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    log_keep(&lg, 1700000001.0, longer);
    mvaddstr(4, 40, "NEIGHBOUR");
    CHECK_INT(panel_log_draw((view_rect_t){3, 0, 5, 40}, &lg, 0, &screen_term), 0);
    CHECK(row_has(3, "22:13:20  server said ?[2J? bye", NULL));
    CHECK(row_has(4, "yyyyNEIGHBOUR", NULL));
    CHECK(!row_has(5, "y", NULL));                       /* never wrapped */
    log_close(&lg);

    erase();
    log_open(&lg, NULL);
    panel_log_draw((view_rect_t){0, 0, 5, 40}, &lg, 3, &screen_term);
    CHECK_SHOWN("no messages yet");
    log_close(&lg);
    screen_close();
}

/* ---- every panel, any rectangle ---------------------------------------------------------- */

static void full_scene(void)
{
    bimodal(&entry, 500, 500);
    snap_entry_t dist = entry;
    codes_scene();
    memcpy(entry.dist_run, dist.dist_run, sizeof entry.dist_run);
    memcpy(entry.dist_recent, dist.dist_recent, sizeof entry.dist_recent);
    entry.min_us = 1900;
    entry.max_us = 210000;
    entry.avg_us = 101000;
    for (int k = 0; k < SNAP_NPCT; k++)
        entry.pct_us[k] = entry.raw_pct_us[k] = k ? 200000 : 2000;
    log_open(&lg, NULL);
    for (int i = 0; i < 30; i++)
        log_keep(&lg, 1700000000.0 + i, "a message that is rather long, longer than most panels are wide "
                                        "on a terminal of eighty columns");
}

static void draw_panel(int which, view_rect_t r)
{
    switch (which) {
    case 0: panel_dist_draw(r, &entry, &screen_term); break;
    case 1: panel_codes_draw(r, &snap, &entry, true, &screen_term); break;
    case 2: panel_pct_draw(r, &snap, &entry, &screen_term); break;
    default: panel_log_draw(r, &lg, 2, &screen_term); break;
    }
}

/* Whether anything is drawn outside r. */
static bool outside(view_rect_t r)
{
    for (int y = 0; y < LINES; y++)
        for (int x = 0; x < COLS; x++) {
            if (y >= r.y && y < r.y + r.h && x >= r.x && x < r.x + r.w)
                continue;
            if ((mvinch(y, x) & A_CHARTEXT) != ' ')
                return true;
        }
    return false;
}

TEST(panels_stay_inside_their_rectangle)
{
    static const char *const names[] = {"dist", "codes", "pct", "log"};
    for (int utf8 = 0; utf8 <= 1; utf8++) {
        if (screen_open(130, 45, utf8) != 0) {
            CHECK(0);
            return;
        }
        full_scene();
        for (int which = 0; which < 4; which++)
            for (int h = 0; h <= 30; h += 3)
                for (int w = 0; w <= 120; w += 7) {
                    view_rect_t r = {7, 5, h, w};
                    erase();
                    draw_panel(which, r);
                    if (outside(r)) {
                        printf("#   %s at %dx%d (utf8 %d) draws outside its rectangle\n", names[which], w,
                               h, utf8);
                        dump();
                        CHECK(0);
                        goto next;
                    }
                }
    next:
        log_close(&lg);
        screen_close();
    }
}

TEST(too_small_says_so_in_one_line)
{
    if (screen_open(80, 24, true) != 0) {
        CHECK(0);
        return;
    }
    full_scene();
    static const char *const what[] = {"the distribution", "status codes", "the percentiles", "the log"};
    for (int which = 0; which < 4; which++) {
        erase();
        draw_panel(which, (view_rect_t){0, 0, 1, 60});
        if (which == 3)
            CHECK(!row_has(0, "too small", NULL));       /* one row holds a message */
        else
            CHECK(row_has(0, "60x1: too small for", what[which]));
        /* Narrower: the message shortens to what fits whole, never cut
         * mid-word, down to nothing. */
        erase();
        draw_panel(which, (view_rect_t){0, 0, 10, 12});
        CHECK(row_has(0, "too small", NULL) && !row_has(0, "12x", NULL) && !row_has(0, "for", NULL));
        CHECK(find_from("t", 1) < 0);
        if (which < 3) {
            char want[64];
            snprintf(want, sizeof want, "too small for %s", what[which]);
            int w = (int)strlen(want);
            erase();
            draw_panel(which, (view_rect_t){0, 0, 1, w});
            CHECK(row_has(0, want, NULL) && !row_has(0, "x1:", NULL));
        }
        erase();
        draw_panel(which, (view_rect_t){0, 0, 10, 8});
        CHECK(!row_has(0, "too", NULL));
        CHECK(find_from("t", 1) < 0);
    }
    log_close(&lg);
    screen_close();
}

TEST(ascii_terminal_gets_ascii_only)
{
    if (screen_open(120, 40, false) != 0) {
        CHECK(0);
        return;
    }
    full_scene();
    view_rect_t r = {0, 0, 40, 120};
    char buf[4096];
    for (int which = 0; which < 4; which++) {
        erase();
        draw_panel(which, r);
        bool ascii = true;
        for (int y = 0; y < LINES; y++)
            for (const char *p = line_at(y, buf, sizeof buf); *p; p++)
                ascii &= (unsigned char)*p < 0x80;
        CHECK(ascii);
        if (!ascii)
            dump();
    }
    erase();
    panel_dist_draw(r, &entry, &screen_term);
    int fast = find("1.7ms-2.0ms");
    CHECK(fast > 0);
    CHECK(row_has(fast, "###", "500  50.0%"));
    int gap;
    CHECK_INT(humps(1, 40, 0, 58, &gap), 2);
    erase();
    panel_codes_draw(r, &snap, &entry, true, &screen_term);
    CHECK(row_has(find("200 OK"), "950", "###"));
    log_close(&lg);
    screen_close();
}

int main(void)
{
    check_prog = "panels";
    /* Wide characters on the virtual screen, and times in UTC. */
    if (!setlocale(LC_ALL, "C.UTF-8"))
        setlocale(LC_ALL, "C.utf8");
    setenv("TZ", "UTC", 1);
    tzset();
    RUN(dist_bimodal_side_by_side_has_two_humps);
    RUN(dist_bimodal_stacked_merges_buckets_and_keeps_the_gap);
    RUN(dist_narrow_keeps_the_shares_and_drops_the_counts);
    RUN(dist_both_histograms_share_one_scale);
    RUN(dist_one_mode_is_one_hump_and_empty_states);
    RUN(codes_counts_shares_and_no_response);
    RUN(codes_of_one_row_show_its_errors_only);
    RUN(codes_short_rectangle_keeps_codes_and_says_how_many_more);
    RUN(codes_narrow_drop_the_phrases_whole);
    RUN(pct_table_corrected_and_raw);
    RUN(log_ring_keeps_order_and_wraps);
    RUN(log_msg_goes_into_the_ring_with_its_time);
    RUN(log_panel_newest_at_the_bottom_with_times_and_scroll);
    RUN(panels_stay_inside_their_rectangle);
    RUN(too_small_says_so_in_one_line);
    RUN(ascii_terminal_gets_ascii_only);
    return check_done();
}

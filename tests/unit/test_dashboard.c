/* Unit tests for the dashboard's pure parts: number formatting with units,
 * the 1-2-5 steps of the spawn rate, middle shortening, sparkline scaling,
 * and the layout at several terminal sizes. */
#include "check.h"
#include "util/text.h"
#include "view/layout.h"
#include "view/spark.h"

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
    int end_sparks = l->sparks == SPARKS_FULL ? l->spark_row + SPARKS_FULL_LINES - 1
                   : l->sparks == SPARKS_COMPACT ? l->spark_row + SPARKS_COMPACT_LINES - 1 : end_table;
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
    layout_compute(&l, 120, 40, 3, 0, false);
    CHECK(!l.too_small);
    for (int c = 0; c < COL_COUNT; c++)
        CHECK(l.show[c]);
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
    layout_compute(&l, 80, 24, 3, 2, true);
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
    layout_compute(&l, 50, 12, 10, 5, true);
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
    layout_compute(&l, 120, 40, 200, 0, false);
    CHECK(l.entry_rows < 200);
    CHECK_INT(l.aggregated_row, l.first_entry_row + l.entry_rows);
    CHECK(l.aggregated_row < l.keybar_row);
    CHECK_INT(l.sparks, SPARKS_FULL);                /* the sparklines keep their room */
    CHECK(row_span_ok(&l));
}

TEST(layout_too_small)
{
    layout_t l;
    layout_compute(&l, 30, 8, 3, 0, false);
    CHECK(l.too_small);
    layout_compute(&l, 39, 24, 3, 0, false);
    CHECK(l.too_small);
    layout_compute(&l, 80, 9, 3, 0, false);
    CHECK(l.too_small);
    layout_compute(&l, 40, 10, 3, 0, false);
    CHECK(!l.too_small);
    CHECK(row_span_ok(&l));
    CHECK(table_width(&l) <= 40);
}

TEST(layout_every_size_is_consistent)
{
    layout_t l;
    for (int cols = 40; cols <= 240; cols += 7)
        for (int rows = 10; rows <= 80; rows += 3)
            for (size_t n = 1; n <= 30; n += 9) {
                layout_compute(&l, cols, rows, n, n / 2, true);
                if (!row_span_ok(&l) || table_width(&l) > cols || l.entry_rows < 1) {
                    printf("#   bad layout at %dx%d with %zu endpoints\n", cols, rows, n);
                    CHECK(0);
                    return;
                }
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
    return check_done();
}

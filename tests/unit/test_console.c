/* Unit tests for the text views: millisecond formatting, sanitising text that
 * came from a server, and the tables' content. */
#include "check.h"
#include "view/console.h"
#include "util/text.h"

#include <stdlib.h>

TEST(ms_formatting)
{
    char b[32];
    CHECK_STR(text_ms(0, b, sizeof b), "0.00");
    CHECK_STR(text_ms(43, b, sizeof b), "0.04");
    CHECK_STR(text_ms(430, b, sizeof b), "0.43");
    CHECK_STR(text_ms(999, b, sizeof b), "1.0");    /* no "1.00" */
    CHECK_STR(text_ms(1049, b, sizeof b), "1.0");
    CHECK_STR(text_ms(3450, b, sizeof b), "3.5");
    CHECK_STR(text_ms(9960, b, sizeof b), "10");
    CHECK_STR(text_ms(123456, b, sizeof b), "123");
    CHECK_STR(text_ms(60000000, b, sizeof b), "60000");
}

TEST(sanitize_strips_control_characters)
{
    char b[64];
    CHECK_STR(text_sanitize("ok \x1b[2Jcleared\r\n\x07", b, sizeof b), "ok ?[2Jcleared???");
    CHECK_STR(text_sanitize("caf\xc3\xa9", b, sizeof b), "caf\xc3\xa9");
    CHECK_STR(text_sanitize("abcdef", b, 4), "abc");
}

static void fill(snap_t *s, snap_entry_t *e)
{
    snap_init(s);
    s->host = "http://127.0.0.1:1";
    s->entries = e;
    s->n_entries = 2;
    e[0] = (snap_entry_t){.method = "GET", .name = "/api/title/The godfather/1972", .requests = 10,
                          .failures = 1, .min_us = 400, .max_us = 12000, .avg_us = 1500,
                          .content_bytes = 10260, .cur_rps = 5, .total_rps = 4};
    for (int i = 0; i < SNAP_NPCT; i++)
        e[0].pct_us[i] = 1000 + (uint64_t)i * 1000;
    e[1] = (snap_entry_t){.method = "GET", .name = "/never", .requests = 0};
    s->total = e[0];
    s->total.method = "";
    s->total.name = "Aggregated";
    static snap_error_t err = {.method = "GET", .name = "/x", .error = "HTTP 503\x1b[31m", .count = 3};
    s->errors = &err;
    s->n_errors = 1;
}

static char *render(void (*fn)(FILE *, const snap_t *), const snap_t *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fn(f, s);
    fclose(f);
    return buf;
}

TEST(periodic_table)
{
    snap_t s;
    snap_entry_t e[2];
    fill(&s, e);
    char *out = render(console_print_stats, &s);
    CHECK(strstr(out, "/api/title/The godfather/1972") != NULL);
    CHECK(strstr(out, "1(10.00%)") != NULL);
    CHECK(strstr(out, "Aggregated") != NULL);
    CHECK(strstr(out, "last 10 s") != NULL);
    CHECK(strstr(out, "    5.00") != NULL);          /* current, not total */
    free(out);
}

TEST(summary_tables)
{
    snap_t s;
    snap_entry_t e[2];
    fill(&s, e);
    char *out = render(console_print_summary, &s);
    CHECK(strstr(out, "whole-run") != NULL);
    CHECK(strstr(out, "    4.00") != NULL);          /* total rate */
    CHECK(strstr(out, "99.99%") != NULL);
    CHECK(strstr(out, "HTTP 503?[31m") != NULL);      /* escape sequence defused */
    CHECK(strchr(out, '\x1b') == NULL);
    /* An endpoint never called has no percentile row. */
    char *pct = strstr(out, "Response time percentiles");
    CHECK(pct && strstr(pct, "/never") == NULL);
    CHECK(strstr(out, "Retries:") == NULL);          /* none: no line */
    free(out);

    /* Retries: the count, and what the server may have seen with them. */
    s.retries = 4;
    out = render(console_print_summary, &s);
    char want[160];
    snprintf(want, sizeof want, "\nRetries: 4 requests went out again on a new connection after a "
             "kept-alive one closed without an answer (the server may have seen %llu)\n",
             (unsigned long long)(s.total.requests + 4));
    CHECK(strstr(out, want) != NULL);
    free(out);
}

TEST(long_names_are_shortened_in_the_middle)
{
    snap_t s;
    snap_entry_t e[2];
    fill(&s, e);
    char longname[200];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "/start", 6);
    memcpy(longname + 190, "/the-end", 9);
    e[1].name = longname;
    char *out = render(console_print_stats, &s);
    CHECK(strstr(out, "/start") != NULL);
    CHECK(strstr(out, "...") != NULL);
    CHECK(strstr(out, "the-end") != NULL);
    free(out);
}

int main(void)
{
    check_prog = "console";
    RUN(ms_formatting);
    RUN(sanitize_strips_control_characters);
    RUN(periodic_table);
    RUN(summary_tables);
    RUN(long_names_are_shortened_in_the_middle);
    return check_done();
}

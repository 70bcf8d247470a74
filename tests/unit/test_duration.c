/* test_duration: duration_parse and duration_format. */
#include <stdint.h>

#include "check.h"
#include "util/duration.h"

#define S  1000000ULL
#define MS 1000ULL

TEST(parse_good)
{
    static const struct {
        const char *text;
        uint64_t us;
    } cases[] = {
        { "0", 0 },
        { "0s", 0 },
        { "5", 5 * S },              /* a bare number is seconds */
        { "5s", 5 * S },
        { "0.5", S / 2 },
        { "7.25", 7 * S + S / 4 },
        { "1.5s", 3 * S / 2 },
        { "0.1s", 100 * MS },        /* exact, not 99999 */
        { "250ms", 250 * MS },
        { "1.5ms", 1500 },
        { "750us", 750 },
        { "1m", 60 * S },
        { "30m", 1800 * S },
        { "1h", 3600 * S },
        { "1.5h", 5400 * S },
        { "1h30m", 5400 * S },
        { "1m30s", 90 * S },
        { "2s500ms", 2500 * MS },
        { "1h2m3s4ms5us", 3723 * S + 4 * MS + 5 },
        { "1h5s", 3605 * S },        /* parts may be skipped */
        { "1m30.5s", 90 * S + S / 2 },
        { "007s", 7 * S },
        { "0.0000005", 1 },          /* rounded to the nearest microsecond */
        { "0.0000004", 0 },
        { "1.0000000000001s", S },   /* digits beyond nine are read, not kept */
        { "8760h", 8760 * 3600 * S },/* exactly 365 days */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t us = 12345;
        const char *why = NULL;
        int rc = duration_parse(cases[i].text, &us, &why);
        if (rc != 0 || us != cases[i].us)
            printf("#   case '%s': rc %d, %llu us (%s)\n", cases[i].text, rc,
                   (unsigned long long)us, why ? why : "");
        CHECK_INT(rc, 0);
        CHECK_INT(us, cases[i].us);
    }
}

TEST(parse_bad)
{
    static const struct {
        const char *text;
        const char *why; /* a word the reason must contain */
    } cases[] = {
        { "", "empty" },
        { "-5s", "negative" },
        { "-0", "negative" },
        { "abc", "number" },
        { "s", "number" },
        { ".5", "number" },
        { "5.", "decimal point" },
        { "5.s", "decimal point" },
        { "5x", "unit" },
        { "5 s", "unit" },
        { " 5s", "number" },
        { "5s ", "unit" },
        { "5S", "unit" },
        { "5sec", "unit" },
        { "5d", "unit" },
        { "1m30", "missing unit" },
        { "30m1h", "larger to smaller" },
        { "1s1m", "larger to smaller" },
        { "1s1s", "repeated" },
        { "1m2m", "repeated" },
        { "nan", "number" },
        { "inf", "number" },
        { "1e3", "unit" },
        { "0x10", "unit" },
        { "+5s", "number" },
        { "8760h1us", "365 days" },
        { "366d", "unit" },
        { "8761h", "365 days" },
        { "525601m", "365 days" },
        { "31536001", "365 days" },
        { "99999999999999999999", "365 days" },
        { "99999999999999999999999999999999999999h", "365 days" },
        { "18446744073709551616us", "365 days" },
        { "5000000h", "365 days" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t us = 12345;
        const char *why = NULL;
        int rc = duration_parse(cases[i].text, &us, &why);
        if (rc != -1 || why == NULL || strstr(why, cases[i].why) == NULL)
            printf("#   case '%s': rc %d, why '%s', wanted '%s'\n", cases[i].text, rc,
                   why ? why : "(null)", cases[i].why);
        CHECK_INT(rc, -1);
        CHECK(why != NULL && strstr(why, cases[i].why) != NULL);
        CHECK_INT(us, 12345); /* untouched on error */
    }
    /* why may be NULL */
    uint64_t us = 0;
    CHECK_INT(duration_parse("bad", &us, NULL), -1);
    CHECK_INT(duration_parse(NULL, &us, NULL), -1);
}

TEST(format)
{
    static const struct {
        uint64_t us;
        const char *text;
    } cases[] = {
        { 0, "0s" },
        { 1, "1us" },
        { 999, "999us" },
        { 1000, "1ms" },
        { 1500, "1.5ms" },
        { 1001, "1.001ms" },
        { 250 * MS, "250ms" },
        { S, "1s" },
        { 5 * S, "5s" },
        { 3 * S / 2, "1.5s" },
        { S + 1, "1.000001s" },
        { 59 * S, "59s" },
        { 60 * S, "1m" },
        { 90 * S, "1m30s" },
        { 90 * S + S / 2, "1m30.5s" },
        { 1800 * S, "30m" },
        { 3600 * S, "1h" },
        { 5400 * S, "1h30m" },
        { 3605 * S, "1h5s" },
        { 3723 * S + 4 * MS + 5, "1h2m3.004005s" },
        { 8760 * 3600 * S, "8760h" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        CHECK_STR(duration_format(cases[i].us, buf, sizeof buf), cases[i].text);
    }
}

/* Whatever duration_format writes, duration_parse reads back exactly. */
TEST(round_trip)
{
    uint64_t us = 1;
    for (int i = 0; i < 2000; i++) {
        char buf[64];
        uint64_t back = 0;
        duration_format(us, buf, sizeof buf);
        if (duration_parse(buf, &back, NULL) != 0 || back != us)
            printf("#   %llu -> '%s' -> %llu\n", (unsigned long long)us, buf,
                   (unsigned long long)back);
        CHECK_INT(back, us);
        us = us * 7 / 3 + (uint64_t)i; /* spreads over every unit */
        if (us > 365ULL * 24 * 3600 * S)
            us = (uint64_t)i + 1;
    }
}

TEST(format_small_buffer)
{
    char buf[4];
    duration_format(5400 * S, buf, sizeof buf); /* "1h30m" cut short, still a string */
    CHECK_INT(strlen(buf), 3);
    CHECK_STR(buf, "1h3");
    char one[1];
    CHECK_STR(duration_format(5 * S, one, sizeof one), "");
}

int main(void)
{
    check_prog = "test_duration";
    RUN(parse_good);
    RUN(parse_bad);
    RUN(format);
    RUN(round_trip);
    RUN(format_small_buffer);
    return check_done();
}

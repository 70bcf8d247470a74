/* test_stages: the stage list and rate parser shared by the hopperfile and
 * the command line, what stages mean over time, and their text form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "plan/stages.h"

#define S 1000000ULL

static int near(double a, double b) { return fabs(a - b) < 1e-9 * (fabs(b) + 1); }

/* Parses text; expects success with n stages of that unit. The caller frees. */
static plan_stage_t *good(const char *text, size_t want_n, stages_unit_t want_unit)
{
    plan_stage_t *st = NULL;
    size_t n = 0;
    stages_unit_t unit = STAGES_USERS;
    char err[256] = "";
    int rc = stages_parse(text, &st, &n, &unit, err, sizeof err);
    if (rc != 0)
        printf("#   '%s': %s\n", text, err);
    CHECK_INT(rc, 0);
    CHECK_INT(n, want_n);
    CHECK_INT(unit, want_unit);
    return rc == 0 && n == want_n ? st : (free(st), NULL);
}

/* Expects text to be refused with exactly the message want. */
static void bad(const char *text, const char *want)
{
    plan_stage_t *st = (plan_stage_t *)&st; /* must be left alone */
    size_t n = 77;
    stages_unit_t unit = (stages_unit_t)5;
    char err[256] = "";
    int rc = stages_parse(text, &st, &n, &unit, err, sizeof err);
    CHECK_INT(rc, -1);
    CHECK_STR(err, want);
    CHECK(st == (plan_stage_t *)&st && n == 77 && unit == (stages_unit_t)5);
}

TEST(users_as_in_k6)
{
    plan_stage_t *st = good("30s:100, 5m:100, 1m:500, 30s:0", 4, STAGES_USERS);
    if (st == NULL)
        return;
    CHECK_INT(st[0].dur_us, 30 * S);
    CHECK(st[0].from == 0 && st[0].to == 100 && !st[0].from_set);
    CHECK_INT(st[1].dur_us, 300 * S);
    CHECK(st[1].from == 100 && st[1].to == 100 && !st[1].from_set);
    CHECK(st[2].from == 100 && st[2].to == 500);
    CHECK(st[3].from == 500 && st[3].to == 0);
    CHECK_INT(stages_total_us(st, 4), 420 * S);
    CHECK(stages_peak(st, 4) == 500);
    free(st);
}

TEST(rates_with_units_and_ranges)
{
    plan_stage_t *st = good("1m:0-500/s, 5m:500/s, 30s:0/s", 3, STAGES_RATE);
    if (st != NULL) {
        CHECK(st[0].from == 0 && st[0].to == 500 && st[0].from_set);
        CHECK(st[1].from == 500 && st[1].to == 500 && !st[1].from_set);
        CHECK(st[2].from == 500 && st[2].to == 0);
        CHECK_INT(stages_total_us(st, 3), 390 * S);
    }
    free(st);
    /* /m and /h are kept per second; a unit on both ends may differ. */
    st = good("10s:60/m, 1h:3600/h, 2s:1/m-2/s, 1s:0.5-1.5/s", 4, STAGES_RATE);
    if (st != NULL) {
        CHECK(near(st[0].to, 1.0));
        CHECK(near(st[1].from, 1.0) && near(st[1].to, 1.0));
        CHECK(near(st[2].from, 1.0 / 60) && near(st[2].to, 2.0) && st[2].from_set);
        CHECK(near(st[3].from, 0.5) && near(st[3].to, 1.5));
    }
    free(st);
    /* Blanks around every part, a range in users, durations of every form. */
    st = good("  1m30s : 10 - 20 ,2.5s:20,250ms:0  ", 3, STAGES_USERS);
    if (st != NULL) {
        CHECK_INT(st[0].dur_us, 90 * S);
        CHECK(st[0].from == 10 && st[0].to == 20 && st[0].from_set);
        CHECK_INT(st[1].dur_us, 2500000);
        CHECK_INT(st[2].dur_us, 250000);
        CHECK(stages_peak(st, 3) == 20);
    }
    free(st);
    st = good("5:7", 1, STAGES_USERS);   /* a bare duration is seconds */
    if (st != NULL)
        CHECK_INT(st[0].dur_us, 5 * S);
    free(st);
    st = good("1s:1000000/s", 1, STAGES_RATE);   /* the limit itself */
    free(st);
    st = good("1s:10000000", 1, STAGES_USERS);
    free(st);
}

TEST(bad_lists)
{
    bad("", "no stages (write DURATION:TARGET, ..., such as 30s:100, 5m:100 or 1m:0-500/s, "
            "5m:500/s)");
    bad("   ", "no stages (write DURATION:TARGET, ..., such as 30s:100, 5m:100 or 1m:0-500/s, "
               "5m:500/s)");
    bad("30s:100,", "stage 2 is empty (a comma too many?)");
    bad(",30s:100", "stage 1 is empty (a comma too many?)");
    bad("30s:100,,1m:0", "stage 2 is empty (a comma too many?)");
    bad("30s", "stage 1 '30s': expected DURATION:TARGET, such as 5m:100 or 5m:100/s");
    bad("30s:100, 5m", "stage 2 '5m': expected DURATION:TARGET, such as 5m:100 or 5m:100/s");
    bad(":100", "stage 1 ':100': the duration is missing");
    bad("30s:", "stage 1 '30s:': the target is missing");
    bad("0s:100", "stage 1 '0s:100': the duration must be greater than 0");
    bad("30s:10, 0:10", "stage 2 '0:10': the duration must be greater than 0");
    bad("-30s:100", "stage 1 '-30s:100': '-30s': a duration cannot be negative");
    bad("30q:100", "stage 1 '30q:100': '30q': unknown unit (use us, ms, s, m or h)");
    bad("400d:1", "stage 1 '400d:1': '400d': unknown unit (use us, ms, s, m or h)");
    bad("9000h:1", "stage 1 '9000h:1': '9000h': longer than 365 days");
    bad("200d:1", "stage 1 '200d:1': '200d': unknown unit (use us, ms, s, m or h)");
    bad("5000h:1, 5000h:1", "the stages last longer than 365 days");
    bad("30s:abc", "stage 1 '30s:abc': 'abc' is not a number of users or a rate (such as 100, "
                   "0-100, 100/s or 0-100/s)");
    bad("30s:1e3", "stage 1 '30s:1e3': '1e3' is not a number of users or a rate (such as 100, "
                   "0-100, 100/s or 0-100/s)");
    bad("30s:nan/s", "stage 1 '30s:nan/s': 'nan/s' is not a number of users or a rate (such as "
                     "100, 0-100, 100/s or 0-100/s)");
    bad("30s:-5", "stage 1 '30s:-5': '-5': a target cannot be negative");
    bad("30s:-5/s", "stage 1 '30s:-5/s': '-5/s': a target cannot be negative");
    bad("30s:-5-10", "stage 1 '30s:-5-10': '-5': a target cannot be negative");
    bad("30s:5--10", "stage 1 '30s:5--10': '-10': a target cannot be negative");
    bad("30s:1.5", "stage 1 '30s:1.5': '1.5': a number of users is whole (a rate needs a unit: "
                   "1.5/s)");
    bad("30s:100/min", "stage 1 '30s:100/min': '100/min': unknown rate unit (use /s, /m or /h)");
    bad("30s:100/", "stage 1 '30s:100/': '100/': unknown rate unit (use /s, /m or /h)");
    bad("30s:0/s-500", "stage 1 '30s:0/s-500': the rate '500' needs a unit (write FROM-TO/s, "
                       "such as 0-500/s)");
    bad("30s:0-", "stage 1 '30s:0-': a target is missing");
    bad("30s:100, 1m:500/s", "stage 2 '1m:500/s' is in arrivals per second but stage 1 is in "
                             "users: write every stage in one unit");
    bad("30s:100/s, 1m:5", "stage 2 '1m:5' is in users but stage 1 is in arrivals per second: "
                           "write every stage in one unit");
    bad("1s:10000001", "stage 1 '1s:10000001': '10000001': too many users (the limit is "
                       "10000000)");
    bad("1s:1000001/s", "stage 1 '1s:1000001/s': '1000001/s': above the limit of 1000000 "
                        "arrivals per second");
    bad("1s:0-1000001/s", "stage 1 '1s:0-1000001/s': '1000001/s': above the limit of 1000000 "
                          "arrivals per second");
    bad("1s:2000000-1/s", "stage 1 '1s:2000000-1/s': '2000000': above the limit of 1000000 "
                          "arrivals per second");
    bad("1s:99999999999999999999999999999999999999999999999999999999999999999999999/s",
        "stage 1 '1s:9999999999999999999999999999999999999...': '"
        "9999999999999999999999999999999999999999...': above the limit of 1000000 arrivals per second");
    bad("1s:0.00000001/s", "stage 1 '1s:0.00000001/s': '0.00000001/s': too low (less than one "
                           "arrival a year)");
    /* Control bytes from argv are not echoed as they are. */
    bad("1s:\x1b[31m", "stage 1 '1s:?[31m': '?[31m' is not a number of users or a rate (such as "
                       "100, 0-100, 100/s or 0-100/s)");
    /* More than STAGES_MAX stages. */
    size_t n = (STAGES_MAX + 1) * 5;
    char *many = malloc(n + 1);
    for (size_t i = 0; i < STAGES_MAX + 1; i++)
        memcpy(many + i * 5, "1s:1,", 5);
    many[n - 1] = '\0';
    bad(many, "more than 1000 stages");
    many[STAGES_MAX * 5 - 1] = '\0';   /* exactly STAGES_MAX */
    free(good(many, STAGES_MAX, STAGES_USERS));
    free(many);
}

TEST(single_rates)
{
    double r = 0;
    char err[256] = "";
    CHECK_INT(stages_parse_rate("200/s", &r, err, sizeof err), 0);
    CHECK(r == 200);
    CHECK_INT(stages_parse_rate(" 30/m ", &r, err, sizeof err), 0);
    CHECK(near(r, 0.5));
    CHECK_INT(stages_parse_rate("0.5/h", &r, err, sizeof err), 0);
    CHECK(near(r, 0.5 / 3600));
    CHECK_INT(stages_parse_rate("1000000/s", &r, err, sizeof err), 0);
    static const struct { const char *in, *want; } cases[] = {
        { "200", "'200': a rate needs a unit: 200/s, 200/m or 200/h" },
        { "2.5", "'2.5': a rate needs a unit: 2.5/s, 2.5/m or 2.5/h" },
        { "", "a rate is missing (such as 200/s)" },
        { "fast", "'fast' is not a rate (such as 200/s, 30/m or 0.5/h)" },
        { "0-5/s", "'0-5/s' is not a rate (such as 200/s, 30/m or 0.5/h)" },
        { "0/s", "'0/s': the rate must be greater than 0" },
        { "-3/s", "'-3/s': a target cannot be negative" },
        { "3/d", "'3/d': unknown rate unit (use /s, /m or /h)" },
        { "1000001/s", "'1000001/s': above the limit of 1000000 arrivals per second" },
        { "inf/s", "'inf/s' is not a rate (such as 200/s, 30/m or 0.5/h)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = -1;
        err[0] = '\0';
        CHECK_INT(stages_parse_rate(cases[i].in, &r, err, sizeof err), -1);
        CHECK_STR(err, cases[i].want);
        CHECK(r == -1);
    }
    CHECK_INT(stages_parse_rate(NULL, &r, err, sizeof err), -1);
}

/* Linear within a stage, from the previous target, the last one past the
 * end: what the engine drives and the dashboard shows. */
TEST(value_over_time)
{
    plan_stage_t *st = good("10s:100, 10s:100, 5s:0-50, 10s:0", 4, STAGES_USERS);
    if (st == NULL)
        return;
    size_t stage = 99;
    uint64_t left = 99;
    CHECK(stages_at(st, 4, 0, &stage, &left) == 0);
    CHECK_INT(stage, 0);
    CHECK_INT(left, 10 * S);
    CHECK(near(stages_at(st, 4, 5 * S, &stage, &left), 50));
    CHECK_INT(left, 5 * S);
    CHECK(stages_at(st, 4, 10 * S, &stage, NULL) == 100);
    CHECK_INT(stage, 1);
    CHECK(stages_at(st, 4, 20 * S, &stage, NULL) == 0);    /* a written start: a jump */
    CHECK_INT(stage, 2);
    CHECK(near(stages_at(st, 4, 24 * S, NULL, NULL), 40));
    CHECK(near(stages_at(st, 4, 30 * S, &stage, &left), 25));  /* 50 down to 0 over 10 s */
    CHECK_INT(stage, 3);
    CHECK_INT(left, 5 * S);
    CHECK(stages_at(st, 4, 35 * S, &stage, &left) == 0);
    CHECK_INT(stage, 4);
    CHECK_INT(left, 0);
    CHECK(stages_at(st, 0, 5, &stage, &left) == 0);
    CHECK_INT(stage, 0);
    free(st);
}

TEST(describe_reads_back)
{
    static const struct { const char *in, *want; stages_unit_t unit; } cases[] = {
        { "30s:100, 5m:100, 1m:500, 30s:0", "30s:100, 5m:100, 1m:500, 30s:0", STAGES_USERS },
        { "1m:0-500/s, 5m:500/s, 30s:0/s", "1m:0-500/s, 5m:500/s, 30s:0/s", STAGES_RATE },
        { "90s:30/m, 1h30m:0.5-2.25/s", "1m30s:0.5/s, 1h30m:0.5-2.25/s", STAGES_RATE },
        { "250ms:3-4", "250ms:3-4", STAGES_USERS },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        plan_stage_t *st = NULL, *back = NULL;
        size_t n = 0, n2 = 0;
        stages_unit_t unit, unit2;
        char err[256], buf[256];
        CHECK_INT(stages_parse(cases[i].in, &st, &n, &unit, err, sizeof err), 0);
        CHECK_STR(stages_describe(st, n, unit, buf, sizeof buf), cases[i].want);
        CHECK_INT(unit, cases[i].unit);
        CHECK_INT(stages_parse(buf, &back, &n2, &unit2, err, sizeof err), 0);
        CHECK(n2 == n && unit2 == unit);
        for (size_t k = 0; k < n && k < n2; k++)
            CHECK(back[k].dur_us == st[k].dur_us && near(back[k].to, st[k].to) &&
                  near(back[k].from, st[k].from) && back[k].from_set == st[k].from_set);
        plan_stage_t *c = stages_copy(st, n);
        CHECK(c != NULL && memcmp(c, st, n * sizeof *st) == 0);
        free(c);
        free(st);
        free(back);
    }
    char buf[8];
    plan_stage_t one = { .dur_us = 30 * S, .to = 123456789 };
    CHECK_STR(stages_describe(&one, 1, STAGES_USERS, buf, sizeof buf), "30s:123");  /* cut */
    CHECK(stages_copy(NULL, 0) == NULL);
    CHECK_STR(stages_rate_describe(200, STAGES_EXACT, buf, sizeof buf), "200/s");
    CHECK_STR(stages_rate_describe(0.25, STAGES_EXACT, buf, sizeof buf), "0.25/s");
    CHECK_STR(stages_unit_name(STAGES_USERS), "users");
    CHECK_STR(stages_unit_name(STAGES_RATE), "arrivals per second");
}

/* Reads a rate back; -1 when stages_parse_rate refuses it. */
static double reread_rate(const char *text)
{
    double v = -1;
    char err[256] = "";
    if (stages_parse_rate(text, &v, err, sizeof err) != 0) {
        printf("#   '%s' does not read back: %s\n", text, err);
        return -1;
    }
    return v;
}

TEST(rates_read_back_without_exponents)
{
    /* Written text, what describe makes of it: per second while 3 decimals
     * do, else per minute or per hour. */
    static const struct { const char *in, *exact, *shrt; } cases[] = {
        { "200/s", "200/s", "200/s" },
        { "0.5/s", "0.5/s", "0.5/s" },
        { "30/m", "0.5/s", "0.5/s" },
        { "0.001/s", "0.001/s", "0.001/s" },
        { "20/m", "20/m", "20/m" },
        { "1/m", "1/m", "1/m" },
        { "0.1/h", "0.1/h", "0.1/h" },
        { "7/h", "7/h", "7/h" },
        { "1000000/s", "1000000/s", "1000000/s" },
        { "123.456789/s", "123.456789/s", "123/s" },
        { "0.001/h", "0.001/h", "0.001/h" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = reread_rate(cases[i].in);
        char buf[64];
        CHECK_STR(stages_rate_describe(v, STAGES_EXACT, buf, sizeof buf), cases[i].exact);
        CHECK(reread_rate(buf) == v);
        CHECK_STR(stages_rate_describe(v, STAGES_SHORT, buf, sizeof buf), cases[i].shrt);
        CHECK(near(reread_rate(buf), v) || fabs(reread_rate(buf) - v) <= 0.005 * v);
    }
    /* Values no one typed (a ramp's rate now, 1/7, a year's single
     * arrival): no exponent, and they read back, exactly for EXACT. */
    double odd[] = { 1.0 / 7, 2.0 / 3, 0.1 / 3600, 1e-3 / 3600, 1.0 / (365.0 * 24 * 3600),
                     1.0 / (365.0 * 24 * 3600) * 1.0000001, 123.45678912345678, 999999.999,
                     0.0004, 0.01234567 };
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        for (int f = 0; f < 2; f++) {
            char buf[64];
            stages_form_t form = f ? STAGES_SHORT : STAGES_EXACT;
            stages_rate_describe(odd[i], form, buf, sizeof buf);
            CHECK(strpbrk(buf, "eE") == NULL);
            double back = reread_rate(buf);
            if (form == STAGES_EXACT)
                CHECK(near(back, odd[i]));
            else
                CHECK(fabs(back - odd[i]) <= 0.005 * odd[i]);
            if (!(form == STAGES_EXACT ? near(back, odd[i]) : fabs(back - odd[i]) <= 0.005 * odd[i]))
                printf("#   %.17g written \"%s\", read back %.17g\n", odd[i], buf, back);
            /* Short: 3 digits, more only right above the floor. */
            if (form == STAGES_SHORT && odd[i] > 2 * odd[4])
                CHECK(strlen(buf) <= 10);
        }
    }
    char buf[64];
    CHECK_STR(stages_rate_describe(1.0 / 7, STAGES_EXACT, buf, sizeof buf), "0.14285714285714285/s");
    CHECK_STR(stages_rate_describe(1.0 / 7, STAGES_SHORT, buf, sizeof buf), "0.143/s");
    CHECK_STR(stages_rate_describe(0, STAGES_EXACT, buf, sizeof buf), "0/s");
    CHECK_STR(stages_value_describe(500, STAGES_USERS, STAGES_EXACT, buf, sizeof buf), "500");
    CHECK_STR(stages_value_describe(0.5, STAGES_RATE, STAGES_EXACT, buf, sizeof buf), "0.5/s");
}

TEST(one_stage_reads_back)
{
    /* Alone, a ramp says where it starts; in a list, only a written start. */
    char buf[96];
    CHECK_STR(stages_stage_describe(30 * S, 500, false, 0, STAGES_RATE, STAGES_ALONE, buf,
                                    sizeof buf), "30s:500-0/s");
    CHECK_STR(stages_stage_describe(30 * S, 500, false, 0, STAGES_RATE, STAGES_IN_LIST, buf,
                                    sizeof buf), "30s:0/s");
    CHECK_STR(stages_stage_describe(300 * S, 500, false, 500, STAGES_RATE, STAGES_ALONE, buf,
                                    sizeof buf), "5m:500/s");
    CHECK_STR(stages_stage_describe(90 * S, 100, false, 100, STAGES_USERS, STAGES_ALONE, buf,
                                    sizeof buf), "1m30s:100");
    CHECK_STR(stages_stage_describe(60 * S, 100, true, 500, STAGES_USERS, STAGES_IN_LIST, buf,
                                    sizeof buf), "1m:100-500");
    /* Both ends in the unit that suits both: 0.1/h and 1/h, not seconds. */
    CHECK_STR(stages_stage_describe(3600 * S, 0.1 / 3600, true, 1.0 / 3600, STAGES_RATE,
                                    STAGES_ALONE, buf, sizeof buf), "1h:0.1-1/h");
    CHECK_STR(stages_stage_describe(60 * S, 0, true, 1.0 / 3, STAGES_RATE, STAGES_ALONE, buf,
                                    sizeof buf), "1m:0-20/m");

    /* Every stage of a parsed list, written alone, reads back as itself. */
    static const char *lists[] = { "1m:0-500/s, 5m:500/s, 30s:0/s", "30s:100, 5m:100, 1m:500, 30s:0",
                                   "1h:0.1/h, 2h:0.1-20/m, 10m:7/s, 250ms:2.5/s",
                                   "1m:30/m, 1m:0.5-7/h" };
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        plan_stage_t *st = NULL;
        size_t n = 0;
        stages_unit_t unit;
        char err[256];
        CHECK_INT(stages_parse(lists[l], &st, &n, &unit, err, sizeof err), 0);
        for (size_t i = 0; i < n; i++) {
            stages_stage_describe(st[i].dur_us, st[i].from, st[i].from_set, st[i].to, unit,
                                  STAGES_ALONE, buf, sizeof buf);
            CHECK(strpbrk(buf, "eE") == NULL);
            plan_stage_t *back = NULL;
            size_t n2 = 0;
            stages_unit_t unit2;
            int rc = stages_parse(buf, &back, &n2, &unit2, err, sizeof err);
            if (rc != 0)
                printf("#   '%s' does not read back: %s\n", buf, err);
            CHECK_INT(rc, 0);
            if (rc == 0) {
                CHECK(n2 == 1 && unit2 == unit && back[0].dur_us == st[i].dur_us);
                /* A start not written: the stage holds (alone, it reads as from 0). */
                bool ramp = strchr(buf, '-') != NULL;
                CHECK(ramp || st[i].from == st[i].to);
                CHECK(near(back[0].from, ramp ? st[i].from : 0) && near(back[0].to, st[i].to));
            }
            free(back);
        }
        free(st);
    }
}

int main(void)
{
    check_prog = "stages";
    RUN(users_as_in_k6);
    RUN(rates_with_units_and_ranges);
    RUN(bad_lists);
    RUN(single_rates);
    RUN(value_over_time);
    RUN(describe_reads_back);
    RUN(rates_read_back_without_exponents);
    RUN(one_stage_reads_back);
    return check_done();
}

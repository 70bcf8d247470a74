/* Unit tests for pass/fail checks: the expression syntax, its errors, and
 * evaluation against a snapshot (Aggregated and per endpoint). */
#include "check.h"
#include "plan/checks.h"

#include <math.h>

static check_t c;
static char err[512];

TEST(parses_the_documented_forms)
{
    CHECK_INT(check_parse("p95<300ms", &c, err, sizeof err), 0);
    CHECK_INT(c.metric, METRIC_PERCENTILE);
    CHECK(fabs(c.arg - 0.95) < 1e-12);
    CHECK_INT(c.op, CHECK_LT);
    CHECK(c.threshold == 300000);
    CHECK(c.endpoint == NULL);
    check_free(&c);

    CHECK_INT(check_parse("p99 <= 1s", &c, err, sizeof err), 0);
    CHECK_INT(c.op, CHECK_LE);
    CHECK(c.threshold == 1e6);
    check_free(&c);

    CHECK_INT(check_parse("avg<100ms", &c, err, sizeof err), 0);
    CHECK_INT(c.metric, METRIC_AVG);
    check_free(&c);

    CHECK_INT(check_parse("fail-ratio<1%", &c, err, sizeof err), 0);
    CHECK_INT(c.metric, METRIC_FAIL_RATIO);
    CHECK(fabs(c.threshold - 0.01) < 1e-12);
    check_free(&c);

    CHECK_INT(check_parse("fail-ratio<0.05", &c, err, sizeof err), 0);
    CHECK(fabs(c.threshold - 0.05) < 1e-12);
    check_free(&c);

    CHECK_INT(check_parse("rps>100", &c, err, sizeof err), 0);
    CHECK_INT(c.metric, METRIC_RPS);
    CHECK_INT(c.op, CHECK_GT);
    check_free(&c);

    CHECK_INT(check_parse("/api/id/tt0068646:p95<200ms", &c, err, sizeof err), 0);
    CHECK_STR(c.endpoint, "/api/id/tt0068646");
    CHECK(c.method == NULL);
    CHECK_STR(c.text, "/api/id/tt0068646:p95<200ms");
    check_free(&c);

    CHECK_INT(check_parse("GET /api/title/The godfather/1972 : p99.9 < 2s", &c, err, sizeof err), 0);
    CHECK_STR(c.method, "GET");
    CHECK_STR(c.endpoint, "/api/title/The godfather/1972");
    CHECK(fabs(c.arg - 0.999) < 1e-12);
    check_free(&c);

    CHECK_INT(check_parse("median>=250us", &c, err, sizeof err), 0);
    CHECK(fabs(c.arg - 0.5) < 1e-12);
    CHECK_INT(c.op, CHECK_GE);
    check_free(&c);
}

TEST(rejects_malformed_expressions)
{
    static const struct { const char *text, *why; } bad[] = {
        {"p95", "no comparison"},
        {"p95<", "no value"},
        {"p95<300", "needs a unit"},
        {"p95<fast", "not a duration"},
        {"p97<1s", "unknown metric"},
        {"speed>1", "unknown metric"},
        {"rps>lots", "not a number"},
        {"rps>10%", "not a number"},
        {"fail-ratio<150%", "at most 100%"},
        {":p95<1s", "nothing before"},
        {"p95<-5ms", "not a duration"},
        {"", "no comparison"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = check_parse(bad[i].text, &c, err, sizeof err);
        if (rc == 0 || !strstr(err, bad[i].why)) {
            printf("#   '%s': rc %d, message '%s'\n", bad[i].text, rc, rc ? err : "");
            CHECK(0);
        }
        if (rc == 0)
            check_free(&c);
    }
}

static snap_t snap;
static snap_entry_t entries[2];

static void fill(void)
{
    snap_init(&snap);
    entries[0] = (snap_entry_t){.method = "GET", .name = "/fast", .requests = 100, .failures = 0,
                                .min_us = 100, .max_us = 900, .avg_us = 400, .total_rps = 50};
    entries[1] = (snap_entry_t){.method = "GET", .name = "/slow", .requests = 100, .failures = 5,
                                .min_us = 100000, .max_us = 900000, .avg_us = 400000, .total_rps = 50};
    for (int i = 0; i < SNAP_NPCT; i++) {
        entries[0].pct_us[i] = 300 + (uint64_t)i * 50;
        entries[1].pct_us[i] = 300000 + (uint64_t)i * 50000;
    }
    snap.entries = entries;
    snap.n_entries = 2;
    snap.total = entries[1];
    snap.total.name = "Aggregated";
    snap.total.requests = 200;
    snap.total.total_rps = 100;
}

static bool eval(const char *text, check_result_t *r)
{
    CHECK_INT(check_parse(text, &c, err, sizeof err), 0);
    check_eval(&c, &snap, r);
    bool passed = r->passed;
    check_free(&c);
    return passed;
}

TEST(evaluates_against_a_snapshot)
{
    fill();
    check_result_t r;
    CHECK(eval("rps>99", &r));
    CHECK_STR(r.measured, "100.0/s");
    CHECK(!eval("rps>100", &r));
    CHECK(eval("fail-ratio<3%", &r));          /* 5 of 200 = 2.5% */
    CHECK_STR(r.measured, "2.50%");
    CHECK(!eval("fail-ratio<2%", &r));
    CHECK(eval("/fast:p95<1ms", &r));          /* 550 us */
    CHECK_STR(r.measured, "0.55ms");
    CHECK(!eval("/slow:p95<500ms", &r));       /* 550 ms */
    CHECK(r.evaluated);
    CHECK(eval("GET /slow:max<=900ms", &r));
    CHECK(!eval("POST /slow:max<=900ms", &r)); /* no such row */
    CHECK(!r.evaluated);
    CHECK_STR(r.measured, "no such endpoint");
    CHECK(eval("/slow:failures<6", &r));
    CHECK(eval("requests>=200", &r));
}

TEST(an_endpoint_without_requests_fails)
{
    fill();
    entries[0].requests = 0;
    check_result_t r;
    CHECK(!eval("/fast:p95<1s", &r));
    CHECK_STR(r.measured, "no requests");
    CHECK(eval("/fast:requests<1", &r));        /* counting still works */
}

int main(void)
{
    check_prog = "checks";
    RUN(parses_the_documented_forms);
    RUN(rejects_malformed_expressions);
    RUN(evaluates_against_a_snapshot);
    RUN(an_endpoint_without_requests_fails);
    return check_done();
}

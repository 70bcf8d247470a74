/* fuzz_checks: check_parse and check_eval (include/plan/checks.h).
 *
 * The bytes are one check as written on the command line or in a hopperfile
 * ("p95<300ms", "GET /x:fail-ratio<1%"). Promises checked: a success keeps
 * the text as written, names a known metric and operator, and has a finite,
 * non-negative threshold (a fraction of at most 1 for fail-ratio); a method
 * only comes with an endpoint. A failure leaves the check empty (check_free
 * is still safe) and explains itself in err, within any err size. A parsed
 * check is evaluated against a small snapshot, and its measured text stays
 * NUL-terminated. */
#include <math.h>
#include <stdbool.h>

#include "plan/checks.h"
#include "fuzz.h"

static void check_parsed(const char *text, const check_t *c)
{
    FUZZ_CHECK(c->text != NULL && strcmp(c->text, text) == 0);
    FUZZ_CHECK(c->text != text);
    FUZZ_CHECK(c->metric >= METRIC_PERCENTILE && c->metric <= METRIC_REQUESTS);
    FUZZ_CHECK(c->op >= CHECK_LT && c->op <= CHECK_GE);
    FUZZ_CHECK(isfinite(c->threshold) && c->threshold >= 0);
    if (c->metric == METRIC_FAIL_RATIO)
        FUZZ_CHECK(c->threshold <= 1);
    if (c->metric == METRIC_PERCENTILE)
        FUZZ_CHECK(c->arg > 0 && c->arg <= 1);
    if (c->method != NULL) {
        FUZZ_CHECK(c->endpoint != NULL);
        FUZZ_CHECK(c->method[0] != '\0');
    }
    /* The endpoint is what came before the last ':'. */
    if (c->endpoint != NULL)
        FUZZ_CHECK(strchr(text, ':') != NULL);
    else
        FUZZ_CHECK(strchr(text, ':') == NULL);
}

static void check_evaluates(const check_t *c)
{
    snap_entry_t rows[2];
    memset(rows, 0, sizeof rows);
    rows[0].method = "GET";
    rows[0].name = "/x";
    rows[0].requests = 10;
    rows[0].failures = 1;
    rows[0].min_us = 100;
    rows[0].max_us = 90000;
    rows[0].avg_us = 1234.5;
    for (int k = 0; k < SNAP_NPCT; k++)
        rows[0].pct_us[k] = 1000 * (uint64_t)(k + 1);
    rows[0].total_rps = 3.5;
    rows[1] = rows[0];
    rows[1].method = "POST";
    rows[1].requests = 0;

    snap_t s;
    memset(&s, 0, sizeof s);
    s.entries = rows;
    s.n_entries = 2;
    s.total = rows[0];
    s.total.method = "";
    s.total.name = "Aggregated";

    check_result_t r;
    check_eval(c, &s, &r);
    FUZZ_CHECK(r.check == c);
    FUZZ_CHECK(memchr(r.measured, '\0', sizeof r.measured) != NULL);
    if (!r.evaluated)
        FUZZ_CHECK(!r.passed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the size of the error buffer (1-256 bytes, on
     * the heap so ASan sees an overrun); the rest is the check. */
    if (size < 1)
        return 0;
    size_t errlen = (size_t)data[0] + 1;
    char *text = fuzz_cstr(data + 1, size - 1);
    char *err = malloc(errlen);
    FUZZ_CHECK(err != NULL);
    err[0] = '\0';

    check_t c;
    memset(&c, 0xa5, sizeof c); /* whatever was there before must not matter */
    int rc = check_parse(text, &c, err, errlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        check_parsed(text, &c);
        check_evaluates(&c);
    } else {
        FUZZ_CHECK(c.text == NULL && c.method == NULL && c.endpoint == NULL);
        FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
        if (errlen > 8)
            FUZZ_CHECK(strncmp(err, "check '", 7) == 0);
    }
    check_free(&c);
    check_free(&c); /* check_free leaves the check empty: twice is safe */
    free(err);
    free(text);
    return 0;
}

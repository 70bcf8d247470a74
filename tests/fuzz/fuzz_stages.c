/* fuzz_stages: stages_parse, stages_parse_rate, stages_describe, stages_at
 * (include/plan/stages.h).
 *
 * The bytes are a stage list as typed in a hopperfile or after --stages,
 * and the same bytes as a rate (--arrival-rate). Promises checked:
 *   - failure: err says why (a NUL-terminated message within errlen, never
 *     empty) and the outputs are untouched;
 *   - success: 1 to STAGES_MAX stages, each longer than 0, with targets
 *     finite, >= 0 and within HOPPER_MAX_USERS (users, whole numbers) or
 *     HOPPER_MAX_ARRIVAL_RATE (rates); a stage without a written start
 *     starts from the previous target (0 for the first); the sum lasts at
 *     most 365 days;
 *   - stages_describe writes a list that reads back to the same stages (the
 *     same durations, starts and unit; targets within rounding);
 *   - stages_at stays between 0 and the peak, and names a stage in order;
 *   - a rate is above 0 and at most HOPPER_MAX_ARRIVAL_RATE. */
#include <math.h>
#include <stdbool.h>

#include "hopper.h"
#include "fuzz.h"
#include "plan/stages.h"

#define YEAR_US (365ULL * 24 * 3600 * 1000000)

static bool close_to(double a, double b) { return fabs(a - b) <= 1e-6 * (fabs(b) + 1); }

static void check_failure(int rc, const char *err, size_t errlen)
{
    FUZZ_CHECK(rc == -1);
    FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
    FUZZ_CHECK(err[0] != '\0');
}

static void check_stages(const plan_stage_t *st, size_t n, stages_unit_t unit)
{
    FUZZ_CHECK(n >= 1 && n <= STAGES_MAX);
    double max = unit == STAGES_RATE ? HOPPER_MAX_ARRIVAL_RATE : (double)HOPPER_MAX_USERS;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(st[i].dur_us > 0);
        FUZZ_CHECK(isfinite(st[i].from) && st[i].from >= 0 && st[i].from <= max);
        FUZZ_CHECK(isfinite(st[i].to) && st[i].to >= 0 && st[i].to <= max);
        if (unit == STAGES_USERS)
            FUZZ_CHECK(st[i].to == floor(st[i].to) && st[i].from == floor(st[i].from));
        if (!st[i].from_set)
            FUZZ_CHECK(st[i].from == (i > 0 ? st[i - 1].to : 0));
    }
    FUZZ_CHECK(stages_total_us(st, n) <= YEAR_US);

    /* The text form reads back. 48 bytes a stage is room for any of them. */
    size_t len = n * 96 + 1;
    char *text = malloc(len);
    FUZZ_CHECK(text != NULL);
    FUZZ_CHECK(stages_describe(st, n, unit, text, len) == text);
    plan_stage_t *back = NULL;
    size_t n2 = 0;
    stages_unit_t unit2 = STAGES_USERS;
    char err[256];
    int rc = stages_parse(text, &back, &n2, &unit2, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "stages_describe wrote \"%s\", which does not read back: %s\n", text, err);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(n2 == n && unit2 == unit);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(back[i].dur_us == st[i].dur_us && back[i].from_set == st[i].from_set);
        FUZZ_CHECK(close_to(back[i].to, st[i].to) && close_to(back[i].from, st[i].from));
    }
    free(back);
    free(text);

    /* Small buffers: always terminated, never overrun. */
    for (size_t k = 1; k <= 16; k++) {
        char *small = malloc(k);
        FUZZ_CHECK(small != NULL);
        stages_describe(st, n, unit, small, k);
        FUZZ_CHECK(memchr(small, '\0', k) != NULL);
        free(small);
    }

    /* Over time: within [0, peak], stages in order. */
    double peak = stages_peak(st, n);
    uint64_t total = stages_total_us(st, n);
    size_t last = 0;
    for (int k = 0; k <= 16; k++) {
        size_t stage = SIZE_MAX;
        uint64_t left = UINT64_MAX;
        double v = stages_at(st, n, total / 16 * (uint64_t)k + (k == 16 ? total % 16 : 0), &stage,
                             &left);
        FUZZ_CHECK(v >= 0 && v <= peak * (1 + 1e-12));
        FUZZ_CHECK(stage >= last && stage <= n);
        FUZZ_CHECK(stage == n ? left == 0 : left > 0 && left <= st[stage].dur_us);
        last = stage;
    }
    FUZZ_CHECK(last == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    char err[200];
    memset(err, 'x', sizeof err);

    plan_stage_t *st = (plan_stage_t *)&st;
    size_t n = 12345;
    stages_unit_t unit = (stages_unit_t)7;
    int rc = stages_parse(s, &st, &n, &unit, err, sizeof err);
    if (rc == 0) {
        FUZZ_CHECK(unit == STAGES_USERS || unit == STAGES_RATE);
        check_stages(st, n, unit);
        free(st);
    } else {
        check_failure(rc, err, sizeof err);
        FUZZ_CHECK(st == (plan_stage_t *)&st && n == 12345 && unit == (stages_unit_t)7);
    }

    double rate = -1;
    memset(err, 'x', sizeof err);
    rc = stages_parse_rate(s, &rate, err, sizeof err);
    if (rc == 0)
        FUZZ_CHECK(rate > 0 && rate <= HOPPER_MAX_ARRIVAL_RATE);
    else {
        check_failure(rc, err, sizeof err);
        FUZZ_CHECK(rate == -1);
    }
    /* A tiny err buffer is fine too. */
    char tiny[1];
    (void)stages_parse_rate(s, &rate, tiny, sizeof tiny);
    free(s);
    return 0;
}

/* Unit tests for the open model's clock: even spacing, exact counts over a
 * linear ramp, rate changes that neither burst nor gap, workers whose
 * interleaved schedules add up to the one schedule, Poisson's mean. The
 * clock is simulated: no sleeping. */
#include <math.h>

#include "check.h"
#include "engine/arrivals.h"

/* Takes every arrival due before until_us; returns how many, their times in t. */
static int drain(arrivals_t *a, uint64_t until_us, uint64_t *t, int max)
{
    int n = 0;
    while (arrivals_next(a) < until_us && n < 10000000) {
        if (n < max)
            t[n] = arrivals_next(a);
        n++;
        arrivals_take(a);
    }
    return n;
}

TEST(constant_rate_is_evenly_spaced)
{
    arrivals_t a;
    arrivals_init(&a, 0, 1, false, 1);
    arrival_seg_t seg = {.t0_us = 1000, .r0 = 200, .r1 = 200};
    arrivals_set(&a, &seg);
    uint64_t t[300];
    int n = drain(&a, 1000 + 1000000, t, 300);
    CHECK_INT(n, 200);
    CHECK_INT(t[0], 1000);                  /* the first arrival at once */
    for (int i = 1; i < n; i++)
        CHECK_INT(t[i] - t[i - 1], 5000);
}

TEST(twenty_thousand_per_second)
{
    arrivals_t a;
    arrivals_init(&a, 0, 1, false, 1);
    arrival_seg_t seg = {.t0_us = 0, .r0 = 20000, .r1 = 20000};
    arrivals_set(&a, &seg);
    static uint64_t t[1300000];
    int n = drain(&a, 60000000, t, 1300000);
    CHECK_INT(n, 1200000);
    for (int i = 1; i < n; i++)
        if (t[i] - t[i - 1] != 50) {
            CHECK_INT(t[i] - t[i - 1], 50);
            break;
        }
}

TEST(zero_rate_has_no_arrival)
{
    arrivals_t a;
    arrivals_init(&a, 0, 1, false, 1);
    arrival_seg_t seg = {.t0_us = 0, .r0 = 0, .r1 = 0};
    arrivals_set(&a, &seg);
    CHECK(arrivals_next(&a) == ARRIVALS_NONE);
}

/* 0 to 500/s over 60 s: 15,000 arrivals, the k-th at sqrt(k / 500 * 2 * 60 / 500)... */
TEST(linear_ramp_counts_the_integral)
{
    arrivals_t a;
    arrivals_init(&a, 0, 1, false, 1);
    arrival_seg_t seg = {.t0_us = 0, .dur_us = 60000000, .r0 = 0, .r1 = 500};
    arrivals_set(&a, &seg);
    static uint64_t t[20000];
    int n = drain(&a, 60000000, t, 20000);
    /* C(60 s) = 500 * 60 / 2 = 15000 arrivals, at C = 0 .. 14999. */
    CHECK_INT(n, 15000);
    /* C(t) = 500 t^2 / 120: arrival k at t = sqrt(120 k / 500) s. */
    for (int k = 1; k < n; k += 997) {
        double want = sqrt(120.0 * k / 500.0) * 1e6;
        CHECK(fabs((double)t[k] - want) <= 1.0);
    }
    /* After the ramp the end rate holds: 500/s. */
    uint64_t before = arrivals_next(&a);
    arrivals_take(&a);
    CHECK_INT(arrivals_next(&a) - before, 2000);
}

TEST(ramp_down_to_zero_ends)
{
    arrivals_t a;
    arrivals_init(&a, 0, 1, false, 1);
    arrival_seg_t seg = {.t0_us = 0, .dur_us = 10000000, .r0 = 100, .r1 = 0};
    arrivals_set(&a, &seg);
    static uint64_t t[1000];
    int n = drain(&a, 10000000, t, 1000);
    CHECK_INT(n, 500);                      /* 100 * 10 / 2 in [0, 10 s) */
    /* C reaches 500 exactly as the rate reaches 0, and never more. */
    CHECK_INT(arrivals_next(&a), 10000000);
    arrivals_take(&a);
    CHECK(arrivals_next(&a) == ARRIVALS_NONE);
}

/* A change of rate mid-gap: the progress made carries over. At 10/s an
 * arrival is due every 100 ms; 40 ms after one, the rate doubles: 60% of
 * the gap is left, which takes 30 ms at 20/s. */
TEST(rate_change_carries_progress)
{
    arrivals_t a;
    arrivals_init(&a, 0, 1, false, 1);
    arrival_seg_t s1 = {.t0_us = 0, .r0 = 10, .r1 = 10};
    arrivals_set(&a, &s1);
    uint64_t t[10];
    CHECK_INT(drain(&a, 1, t, 10), 1);      /* the one at 0 */
    CHECK_INT(arrivals_next(&a), 100000);
    arrival_seg_t s2 = {.t0_us = 40000, .r0 = 20, .r1 = 20};
    arrivals_set(&a, &s2);
    CHECK_INT(arrivals_next(&a), 70000);
    arrivals_take(&a);
    CHECK_INT(arrivals_next(&a), 120000);
    /* Down to 0 and back up: the gap resumes where it stopped. */
    arrival_seg_t s3 = {.t0_us = 100000, .r0 = 0, .r1 = 0};
    arrivals_set(&a, &s3);
    CHECK(arrivals_next(&a) == ARRIVALS_NONE);
    arrival_seg_t s4 = {.t0_us = 500000, .r0 = 20, .r1 = 20};
    arrivals_set(&a, &s4);
    CHECK_INT(arrivals_next(&a), 520000);
}

/* Three workers' schedules merge into the one schedule of the full rate:
 * evenly spaced, no two at once, the same count. */
TEST(workers_interleave_into_the_target_rate)
{
    static uint64_t all[4000];
    int total = 0;
    for (unsigned w = 0; w < 3; w++) {
        arrivals_t a;
        arrivals_init(&a, w, 3, false, 1);
        arrival_seg_t seg = {.t0_us = 0, .r0 = 3000, .r1 = 3000};
        arrivals_set(&a, &seg);
        total += drain(&a, 1000000, all + total, 4000 - total);
    }
    CHECK_INT(total, 3000);
    /* Sorted, they are 1/3000 s apart (333 or 334 us after rounding). */
    for (int i = 1; i < total; i++)
        for (int j = i; j > 0 && all[j] < all[j - 1]; j--) {
            uint64_t x = all[j];
            all[j] = all[j - 1];
            all[j - 1] = x;
        }
    for (int i = 1; i < total; i++) {
        uint64_t d = all[i] - all[i - 1];
        if (d < 333 || d > 334) {
            CHECK_INT(d, 333);
            break;
        }
    }
}

TEST(poisson_has_the_rate_on_average)
{
    arrivals_t a;
    arrivals_init(&a, 0, 1, true, 42);
    arrival_seg_t seg = {.t0_us = 0, .r0 = 1000, .r1 = 1000};
    arrivals_set(&a, &seg);
    static uint64_t t[200000];
    int n = drain(&a, 100000000, t, 200000);   /* 100 s: 100,000 expected, sd 316 */
    CHECK(n > 100000 - 1500 && n < 100000 + 1500);
    /* Gaps are not all alike (else it would be the even schedule). */
    int same = 0;
    for (int i = 2; i < 1000; i++)
        same += t[i] - t[i - 1] == t[i - 1] - t[i - 2];
    CHECK(same < 100);
}

TEST(rate_at_follows_the_line)
{
    arrival_seg_t seg = {.t0_us = 1000000, .dur_us = 2000000, .r0 = 100, .r1 = 300};
    CHECK(arrivals_rate_at(&seg, 0) == 100);
    CHECK(arrivals_rate_at(&seg, 2000000) == 200);
    CHECK(arrivals_rate_at(&seg, 5000000) == 300);
}

int main(void)
{
    check_prog = "arrivals";
    RUN(constant_rate_is_evenly_spaced);
    RUN(twenty_thousand_per_second);
    RUN(zero_rate_has_no_arrival);
    RUN(linear_ramp_counts_the_integral);
    RUN(ramp_down_to_zero_ends);
    RUN(rate_change_carries_progress);
    RUN(workers_interleave_into_the_target_rate);
    RUN(poisson_has_the_rate_on_average);
    RUN(rate_at_follows_the_line);
    return check_done();
}

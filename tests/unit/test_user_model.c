/* Unit tests for what a simulated user does between requests: which task it
 * picks (weights) and how long it waits (Locust's wait_time semantics). */
#include "check.h"
#include "engine/picker.h"
#include "engine/wait.h"

#include <math.h>

TEST(picker_follows_the_weights)
{
    unsigned w[] = {100, 100, 100, 0, 300};
    picker_t p;
    CHECK_INT(picker_init(&p, w, 5), 0);
    rng_t r;
    rng_seed(&r, 42);
    unsigned counts[5] = {0};
    const int N = 600000;
    for (int i = 0; i < N; i++)
        counts[picker_pick(&p, &r)]++;
    CHECK_INT(counts[3], 0);                       /* weight 0: never */
    /* Expected shares 1/6, 1/6, 1/6, 0, 1/2; 5 sigma is about 0.25%. */
    CHECK(fabs(counts[0] / (double)N - 1.0 / 6) < 0.005);
    CHECK(fabs(counts[1] / (double)N - 1.0 / 6) < 0.005);
    CHECK(fabs(counts[2] / (double)N - 1.0 / 6) < 0.005);
    CHECK(fabs(counts[4] / (double)N - 0.5) < 0.005);
    picker_free(&p);
}

TEST(picker_single_task_and_all_zero)
{
    unsigned one[] = {7}, zero[] = {0, 0};
    picker_t p;
    rng_t r;
    rng_seed(&r, 1);
    CHECK_INT(picker_init(&p, one, 1), 0);
    for (int i = 0; i < 1000; i++)
        CHECK_INT(picker_pick(&p, &r), 0);
    picker_free(&p);
    CHECK_INT(picker_init(&p, zero, 2), -1);
    picker_free(&p);
}

TEST(picker_uneven_weights)
{
    unsigned w[] = {1, 999};
    picker_t p;
    CHECK_INT(picker_init(&p, w, 2), 0);
    rng_t r;
    rng_seed(&r, 3);
    unsigned c0 = 0;
    for (int i = 0; i < 1000000; i++)
        c0 += picker_pick(&p, &r) == 0;
    CHECK(c0 > 800 && c0 < 1200);                  /* 1000 expected */
    picker_free(&p);
}

TEST(between_is_uniform_within_bounds)
{
    wait_spec_t w = {.kind = WAIT_BETWEEN, .a_us = 5000000, .b_us = 9000000};
    rng_t r;
    rng_seed(&r, 9);
    double sum = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    const int N = 200000;
    for (int i = 0; i < N; i++) {
        uint64_t v = wait_next(&w, &r, 0, 123);
        sum += (double)v;
        if (v < lo)
            lo = v;
        if (v > hi)
            hi = v;
    }
    CHECK(lo >= 5000000 && hi <= 9000000);
    CHECK(lo < 5010000 && hi > 8990000);
    CHECK(fabs(sum / N - 7000000) < 20000);        /* mean 7 s */
}

TEST(constant_ignores_task_time)
{
    wait_spec_t w = {.kind = WAIT_CONSTANT, .a_us = 2000000};
    rng_t r;
    rng_seed(&r, 1);
    CHECK_INT(wait_next(&w, &r, 0, 0), 2000000);
    CHECK_INT(wait_next(&w, &r, 0, 5000000), 2000000);
}

TEST(pacing_subtracts_task_time_without_catch_up)
{
    wait_spec_t w = {.kind = WAIT_PACING, .a_us = 1000000};
    rng_t r;
    rng_seed(&r, 1);
    CHECK_INT(wait_next(&w, &r, 100, 300100), 700000);   /* took 300 ms */
    CHECK_INT(wait_next(&w, &r, 0, 1000000), 0);         /* took exactly 1 s */
    CHECK_INT(wait_next(&w, &r, 0, 2500000), 0);         /* overran: no catch-up */
}

TEST(throughput_is_pacing_of_one_over_rate)
{
    /* throughput 4 = pacing 250 ms (the parser stores a_us = 1e6 / rate). */
    wait_spec_t w = {.kind = WAIT_THROUGHPUT, .a_us = 250000, .rate = 4};
    rng_t r;
    rng_seed(&r, 1);
    CHECK_INT(wait_next(&w, &r, 0, 50000), 200000);
    CHECK_INT(wait_next(&w, &r, 0, 400000), 0);
}

int main(void)
{
    check_prog = "user_model";
    RUN(picker_follows_the_weights);
    RUN(picker_single_task_and_all_zero);
    RUN(picker_uneven_weights);
    RUN(between_is_uniform_within_bounds);
    RUN(constant_ignores_task_time);
    RUN(pacing_subtracts_task_time_without_catch_up);
    RUN(throughput_is_pacing_of_one_over_rate);
    return check_done();
}

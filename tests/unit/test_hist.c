/* Unit tests for the latency histogram: bucket layout, error bound,
 * percentile definition, clamping and exact merging. */
#include "check.h"
#include "stats/hist.h"

#include <math.h>
#include <stdlib.h>

static hist_t a, b, c;

TEST(empty_reports_zero)
{
    hist_reset(&a);
    CHECK_INT(a.count, 0);
    CHECK_INT(hist_percentile(&a, 0.5), 0);
    CHECK(hist_mean(&a) == 0.0);
}

TEST(small_values_are_exact)
{
    hist_reset(&a);
    for (uint64_t v = 0; v < 256; v++)
        hist_record(&a, v);
    CHECK_INT(hist_percentile(&a, 0.5), 127);
    CHECK_INT(hist_percentile(&a, 1.0), 255);
    CHECK_INT(hist_percentile(&a, 0.0), 0);
    CHECK_INT(hist_bucket_of(255), 255);
}

TEST(buckets_are_contiguous_and_cover_the_range)
{
    uint64_t prev_hi = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        uint64_t lo, hi;
        hist_bucket_range(i, &lo, &hi);
        if (i > 0)
            CHECK_INT(lo, prev_hi + 1);
        CHECK_INT(hist_bucket_of(lo), i);
        CHECK_INT(hist_bucket_of(hi), i);
        prev_hi = hi;
    }
    CHECK_INT(prev_hi, (1ull << HIST_TOP_EXP) - 1);
    CHECK_INT(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
}

TEST(relative_error_is_below_one_percent)
{
    /* Every value from 1 us to 10 minutes, sampled geometrically. */
    for (double v = 1; v < 600e6; v *= 1.013) {
        hist_reset(&a);
        uint64_t x = (uint64_t)v;
        hist_record(&a, x);
        hist_record(&a, x + 1000000000ull); /* keeps max away so no clamping */
        hist_record(&a, 0);
        uint64_t got = hist_percentile(&a, 0.5);
        double err = fabs((double)got - (double)x) / (double)(x ? x : 1);
        if (err > 0.01) {
            printf("#   value %llu reported as %llu\n", (unsigned long long)x,
                   (unsigned long long)got);
            CHECK(err <= 0.01);
            break;
        }
    }
}

TEST(percentile_is_nearest_rank_and_median_is_p50)
{
    hist_reset(&a);
    for (uint64_t v = 1; v <= 4; v++)
        hist_record(&a, v * 10);     /* 10 20 30 40 */
    CHECK_INT(hist_percentile(&a, 0.5), 20);  /* rank ceil(2) = 2 */
    CHECK_INT(hist_percentile(&a, 0.75), 30);
    CHECK_INT(hist_percentile(&a, 0.76), 40);
    CHECK_INT(hist_percentile(&a, 0.25), 10);
    CHECK(hist_mean(&a) == 25.0);
}

/* Fills h with count copies of us (count a power of two times k), by
 * doubling with hist_merge: 2^27 samples in 27 merges, not 2^27 records. */
static void fill_copies(hist_t *h, uint64_t us, unsigned doublings)
{
    static hist_t tmp;
    hist_reset(h);
    hist_record(h, us);
    for (unsigned i = 0; i < doublings; i++) {
        tmp = *h;
        hist_merge(h, &tmp);
    }
}

/* The rank is ceil(q*n) exactly at any count. At n = 2^27 and q = 0.5 the
 * rank is 2^26: a floating q*n - 1e-9 rounds back to 2^26 (doubles there are
 * 2^-26 apart) and made it 2^26 + 1, the first sample of the upper half. */
TEST(rank_is_exact_past_two_to_the_26)
{
    fill_copies(&a, 100, 26);            /* 2^26 samples of 100 us */
    fill_copies(&b, 200, 26);            /* 2^26 samples of 200 us */
    hist_merge(&a, &b);
    CHECK_INT(a.count, 1ull << 27);
    CHECK_INT(hist_percentile(&a, 0.5), 100);   /* rank 2^26: the last 100 */
    CHECK_INT(hist_percentile(&a, 0.5000001), 200);

    /* q = 0.75: 3 * 2^25 samples of 100, then 2^25 of 200; rank 3 * 2^25. */
    fill_copies(&a, 100, 25);
    c = a;
    hist_merge(&a, &c);
    hist_merge(&a, &c);
    fill_copies(&b, 200, 25);
    hist_merge(&a, &b);
    CHECK_INT(a.count, 1ull << 27);
    CHECK_INT(hist_percentile(&a, 0.75), 100);

    /* Far past 2^53 samples, where a double cannot hold q*n: 99 * 2^53
     * samples of 100 us and 2^53 of 200 us. p99's rank is exactly
     * 99 * 2^53, the last 100; one rank more (what the float rank gave) is
     * the first 200. */
    fill_copies(&c, 100, 53);
    hist_reset(&a);
    for (int i = 0; i < 99; i++)
        hist_merge(&a, &c);
    fill_copies(&b, 200, 53);
    hist_merge(&a, &b);
    CHECK_INT(a.count, 100ull << 53);
    CHECK_INT(hist_percentile(&a, 0.99), 100);
    CHECK_INT(hist_percentile(&a, 0.9901), 200);
}

/* Tiny fractions still pick a sample: the rank is at least 1. */
TEST(rank_is_at_least_one)
{
    hist_reset(&a);
    for (uint64_t v = 1; v <= 10; v++)
        hist_record(&a, v * 10);
    CHECK_INT(hist_percentile(&a, 1e-12), 10);
    CHECK_INT(hist_percentile(&a, 0.1), 10);     /* rank ceil(1) = 1 */
    CHECK_INT(hist_percentile(&a, 0.11), 20);    /* rank ceil(1.1) = 2 */
    CHECK_INT(hist_percentile(&a, 0.999), 100);
}

TEST(percentiles_are_clamped_to_min_and_max)
{
    hist_reset(&a);
    hist_record(&a, 100000);   /* bucket width here is 1024 us */
    hist_record(&a, 100001);
    CHECK_INT(hist_percentile(&a, 0.99), 100001);
    CHECK_INT(hist_percentile(&a, 1.0), 100001);
    CHECK_INT(hist_percentile(&a, 0.01), 100000);
    CHECK(hist_percentile(&a, 0.5) >= 100000 && hist_percentile(&a, 0.5) <= 100001);
}

TEST(known_delay_comes_out_at_that_delay)
{
    /* A server with a 50 ms delay: samples 50.0-50.9 ms. */
    hist_reset(&a);
    srand(7);
    for (int i = 0; i < 100000; i++)
        hist_record(&a, 50000 + (uint64_t)(rand() % 900));
    uint64_t p50 = hist_percentile(&a, 0.5), p99 = hist_percentile(&a, 0.99);
    CHECK(p50 >= 50000 && p50 <= 51000);
    CHECK(p99 >= 50000 && p99 <= 50900);
}

/* wrk2's demonstration as numbers: one request every 1 ms, each answered in
 * 1 ms, but every 10 s the server freezes for 1 s. The requests due during
 * a freeze are sent late, when it ends, and answered at once: late by up to
 * 1 s, their raw latency 1 ms. What the stall pattern predicts, and what the
 * stall test compares against: a fraction f = 1/10 of the requests is late
 * by an amount spread evenly over (0, 1 s], so the corrected percentile q
 * (q > 1 - f) is 1 ms + 1 s * (1 - (1 - q) / f): p95 ~ 501 ms, p99 ~ 901 ms;
 * the raw p99 stays 1 ms and the corrected p50 1 ms. */
TEST(a_stall_shows_in_corrected_latency_only)
{
    hist_t raw, corrected;
    hist_reset(&raw);
    hist_reset(&corrected);
    const uint64_t service = 1000, stall = 1000000, period = 10000000, every = 1000;
    for (uint64_t t = 0; t < 6 * period; t += every) {
        uint64_t in_period = t % period, late = 0;
        if (in_period >= period - stall)            /* due while the server is frozen */
            late = period - in_period;
        hist_record(&raw, service);
        hist_record(&corrected, service + late);
    }
    uint64_t p50 = hist_percentile(&corrected, 0.50), p95 = hist_percentile(&corrected, 0.95);
    uint64_t p99 = hist_percentile(&corrected, 0.99);
    CHECK(p50 >= service && p50 <= service + service / 200);   /* its bucket: 0.4% */
    CHECK(p95 >= 501000 - 5010 && p95 <= 501000 + 5010);     /* within 1% */
    CHECK(p99 >= 901000 - 9010 && p99 <= 901000 + 9010);
    CHECK_INT(hist_percentile(&raw, 0.99), service);
    CHECK_INT(corrected.max_us, service + stall);
}

TEST(merge_is_exact)
{
    hist_reset(&a);
    hist_reset(&b);
    hist_reset(&c);
    srand(11);
    for (int i = 0; i < 50000; i++) {
        uint64_t v = (uint64_t)(rand() % 5000000);
        hist_record(i % 3 ? &a : &b, v);
        hist_record(&c, v);
    }
    hist_merge(&a, &b);
    CHECK_INT(a.count, c.count);
    CHECK_INT(a.sum_us, c.sum_us);
    CHECK_INT(a.min_us, c.min_us);
    CHECK_INT(a.max_us, c.max_us);
    static const double qs[] = {0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1};
    for (unsigned i = 0; i < sizeof qs / sizeof qs[0]; i++)
        CHECK_INT(hist_percentile(&a, qs[i]), hist_percentile(&c, qs[i]));
    hist_reset(&b);
    hist_merge(&a, &b);            /* merging an empty one changes nothing */
    CHECK_INT(a.min_us, c.min_us);
}

int main(void)
{
    check_prog = "hist";
    RUN(empty_reports_zero);
    RUN(small_values_are_exact);
    RUN(buckets_are_contiguous_and_cover_the_range);
    RUN(relative_error_is_below_one_percent);
    RUN(percentile_is_nearest_rank_and_median_is_p50);
    RUN(percentiles_are_clamped_to_min_and_max);
    RUN(known_delay_comes_out_at_that_delay);
    RUN(merge_is_exact);
    RUN(a_stall_shows_in_corrected_latency_only);
    RUN(rank_is_exact_past_two_to_the_26);
    RUN(rank_is_at_least_one);
    return check_done();
}

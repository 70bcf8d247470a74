/* hist: see include/stats/hist.h for the layout and its error bound. */
#include "stats/hist.h"

#include <math.h>
#include <string.h>

void hist_reset(hist_t *h)
{
    memset(h, 0, sizeof *h);
    h->min_us = UINT64_MAX;
}

unsigned hist_bucket_of(uint64_t us)
{
    if (us < HIST_LINEAR)
        return (unsigned)us;
    unsigned exp = 63u - (unsigned)__builtin_clzll(us);   /* 2^exp <= us */
    if (exp >= HIST_TOP_EXP)
        return HIST_BUCKETS - 1;
    /* The top HIST_SUB_BITS bits below the leading one pick the sub-bucket. */
    unsigned sub = (unsigned)(us >> (exp - HIST_SUB_BITS)) & (HIST_SUB - 1);
    return HIST_LINEAR + (exp - HIST_SUB_BITS - 1) * HIST_SUB + sub;
}

void hist_bucket_range(unsigned bucket, uint64_t *lo, uint64_t *hi)
{
    if (bucket < HIST_LINEAR) {
        *lo = *hi = bucket;
        return;
    }
    unsigned octave = (bucket - HIST_LINEAR) / HIST_SUB;
    unsigned sub = (bucket - HIST_LINEAR) % HIST_SUB;
    unsigned exp = octave + HIST_SUB_BITS + 1;
    uint64_t width = 1ull << (exp - HIST_SUB_BITS);
    *lo = (1ull << exp) + sub * width;
    *hi = *lo + width - 1;
}

void hist_record(hist_t *h, uint64_t us)
{
    h->buckets[hist_bucket_of(us)]++;
    h->count++;
    h->sum_us += us;
    if (us < h->min_us)
        h->min_us = us;
    if (us > h->max_us)
        h->max_us = us;
}

void hist_merge(hist_t *dst, const hist_t *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum_us += src->sum_us;
    if (src->min_us < dst->min_us)
        dst->min_us = src->min_us;
    if (src->max_us > dst->max_us)
        dst->max_us = src->max_us;
}

uint64_t hist_percentile(const hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min_us;
    if (q >= 1)
        return h->max_us;
    /* Nearest rank: the smallest sample with at least ceil(q*n) samples at or
     * below it, computed in integers: q as parts per 10^9 (rounded, so 0.95
     * is exactly 950000000), then ceil(k*n / 10^9) in 128 bits. A floating
     * q*n loses the fraction past 2^53 and any nudge against noise past 2^26
     * samples, where ranks came out one too high. */
    const uint64_t scale = 1000000000u;
    uint64_t k = (uint64_t)llround(q * (double)scale);
    uint64_t rank = (uint64_t)(((unsigned __int128)k * h->count + scale - 1) / scale);
    if (rank < 1)
        rank = 1;
    if (rank >= h->count)
        return h->max_us;   /* the largest sample is known exactly */
    if (rank == 1)
        return h->min_us;   /* and so is the smallest */
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo, hi;
            hist_bucket_range(i, &lo, &hi);
            uint64_t v = lo + (hi - lo) / 2;
            if (v < h->min_us)
                v = h->min_us;
            if (v > h->max_us)
                v = h->max_us;
            return v;
        }
    }
    return h->max_us;
}

double hist_mean(const hist_t *h)
{
    return h->count ? (double)h->sum_us / (double)h->count : 0.0;
}

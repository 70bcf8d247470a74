/* hist: a log-linear (HDR-style) latency histogram in microseconds.
 *
 * Values below 256 us are counted exactly; above that each power of two is cut
 * into 128 equal sub-buckets, so any value is known to within 1/128 (0.8%) and
 * the reported bucket midpoint to within 0.4%. Values of 2^37 us (38 hours) and
 * more share the top bucket. min, max, count and sum are exact.
 *
 * Recording is O(1) with no allocation (one clz and an increment); merging two
 * histograms is exact, which is what lets per-worker and per-second
 * histograms add up to the same totals as one big one. */
#ifndef HOPPER_HIST_H
#define HOPPER_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define HIST_SUB_BITS   7                        /* 128 sub-buckets per octave */
#define HIST_SUB        (1u << HIST_SUB_BITS)
#define HIST_LINEAR     (2u * HIST_SUB)          /* 0..255 us counted exactly */
#define HIST_TOP_EXP    37                       /* last octave: 2^36..2^37 us */
#define HIST_BUCKETS    (HIST_LINEAR + (HIST_TOP_EXP - HIST_SUB_BITS - 1) * HIST_SUB)

typedef struct {
    uint64_t count;
    uint64_t sum_us;     /* exact; 2^64 us is 584,000 years of latency */
    uint64_t min_us;     /* UINT64_MAX while empty */
    uint64_t max_us;
    uint64_t buckets[HIST_BUCKETS];
} hist_t;

/* Empties the histogram (also the initialiser). */
void hist_reset(hist_t *h);

/* Counts one value. */
void hist_record(hist_t *h, uint64_t us);

/* Adds every count of src into dst (exact). */
void hist_merge(hist_t *dst, const hist_t *src);

/* The value at fraction q (0..1) of the samples: the nearest-rank sample at
 * rank ceil(q * count) (at least 1), q taken to 9 decimals and the rank
 * computed in integers so it is exact at any count, reported as its bucket's midpoint and clamped to
 * [min, max] so that p100 is the exact max and p0 the exact min. The median is
 * hist_percentile(h, 0.5): one definition for both. 0 when empty. */
uint64_t hist_percentile(const hist_t *h, double q);

/* Exact mean in us (sum / count); 0 when empty. */
double hist_mean(const hist_t *h);

/* The bucket index of a value and the range of values it holds, for tests. */
unsigned hist_bucket_of(uint64_t us);
void hist_bucket_range(unsigned bucket, uint64_t *lo, uint64_t *hi);

#endif

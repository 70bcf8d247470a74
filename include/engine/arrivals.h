/* arrivals: the open model's clock, when each iteration is due.
 *
 * The rate is given in segments: from r0 arrivals per second at t0 to r1 at
 * t0 + dur, linearly (a stage of `stages = 1m:0-500/s`), and r1 from then on
 * (dur 0: r0 for ever). The expected number of arrivals since t0 is the
 * integral of the rate, C(t); arrival k is due when C reaches k (evenly
 * spaced), or at the sums of exponential draws of mean 1 (a Poisson process
 * of that rate). Solving C(t) = k is a quadratic: O(1) per arrival.
 *
 * A process may run only a share of the arrivals (--workers N): worker i of
 * N runs arrivals i, i + N, i + 2N, ... of the whole schedule, so it counts
 * at rate/N with its first arrival at C = i/N. The workers' schedules then
 * interleave into exactly the target rate, evenly, with no shared state.
 *
 * A new segment (the next stage, or a key that sets a rate) carries the
 * progress towards the next arrival over, so a change never bursts nor
 * leaves a gap. Pure arithmetic on microseconds of the run's clock, no
 * clock of its own: tests drive it. */
#ifndef HOPPER_ARRIVALS_H
#define HOPPER_ARRIVALS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/rng.h"

#define ARRIVALS_NONE UINT64_MAX

typedef struct {
    uint64_t t0_us;      /* when it begins, on the run's clock */
    uint64_t dur_us;     /* 0: r0 for ever */
    double r0, r1;       /* arrivals per second (the whole run's), >= 0 */
} arrival_seg_t;

typedef struct {
    arrival_seg_t seg;
    bool set;            /* a segment has been given */
    double share;        /* this process's part of the rate: 1/N */
    double target;       /* C (in this process's units) of the next arrival */
    bool poisson;
    rng_t rng;
    uint64_t next_us;    /* when it is due, ARRIVALS_NONE: not in this segment */
} arrivals_t;

/* index of count processes (0 of 1 alone); seed for the Poisson draws. */
void arrivals_init(arrivals_t *a, unsigned index, unsigned count, bool poisson, uint64_t seed);

/* From seg->t0_us on, the rate follows seg. */
void arrivals_set(arrivals_t *a, const arrival_seg_t *seg);

/* When the next arrival is due (ARRIVALS_NONE: none at the present rate). */
static inline uint64_t arrivals_next(const arrivals_t *a)
{
    return a->next_us;
}

/* The next arrival has been dealt with: work out the one after it. */
void arrivals_take(arrivals_t *a);

/* The rate of seg at time t (arrivals per second, the whole run's). */
double arrivals_rate_at(const arrival_seg_t *seg, uint64_t t_us);

#endif

/* arrivals: see include/engine/arrivals.h. */
#include "engine/arrivals.h"

#include <math.h>

/* C(tau): expected arrivals of this process tau seconds into the segment. */
static double count_at(const arrivals_t *a, double tau)
{
    const arrival_seg_t *s = &a->seg;
    double d = (double)s->dur_us / 1e6;
    if (s->dur_us == 0)
        return a->share * s->r0 * tau;
    if (tau <= d)
        return a->share * (s->r0 * tau + (s->r1 - s->r0) * tau * tau / (2 * d));
    return a->share * ((s->r0 + s->r1) * d / 2 + s->r1 * (tau - d));
}

/* The tau (seconds) at which C reaches c, or -1 if it never does. */
static double time_of(const arrivals_t *a, double c)
{
    const arrival_seg_t *s = &a->seg;
    if (c <= 0)
        return s->r0 > 0 || (s->dur_us && s->r1 > 0) ? 0 : -1;
    double b = a->share * s->r0;
    if (s->dur_us == 0)
        return b > 0 ? c / b : -1;
    double d = (double)s->dur_us / 1e6;
    double cd = count_at(a, d);
    if (c > cd) {
        /* After the ramp: the end rate holds. */
        double r = a->share * s->r1;
        return r > 0 ? d + (c - cd) / r : -1;
    }
    double q = a->share * (s->r1 - s->r0) / (2 * d);
    /* q tau^2 + b tau - c = 0, in the form that does not cancel when q is
     * small: tau = 2c / (b + sqrt(b^2 + 4qc)). c <= C(d) makes the root real. */
    double disc = b * b + 4 * q * c;
    double den = b + sqrt(disc > 0 ? disc : 0);
    return den > 0 ? 2 * c / den : -1;
}

static void place(arrivals_t *a)
{
    double tau = time_of(a, a->target);
    /* Beyond 30 years is never: it also keeps the timerfd's nanoseconds
     * (runner.c) far from overflowing. */
    if (tau < 0 || tau > 1e9) {
        a->next_us = ARRIVALS_NONE;
        return;
    }
    a->next_us = a->seg.t0_us + (uint64_t)llround(tau * 1e6);
}

/* The gap to the next arrival in units of C: 1, or an exponential draw. */
static double gap(arrivals_t *a)
{
    if (!a->poisson)
        return 1.0;
    double u = rng_unit(&a->rng);
    return -log1p(-u);     /* u in [0, 1): finite */
}

void arrivals_init(arrivals_t *a, unsigned index, unsigned count, bool poisson, uint64_t seed)
{
    *a = (arrivals_t){0};
    if (count == 0)
        count = 1;
    a->share = 1.0 / count;
    a->poisson = poisson;
    rng_seed(&a->rng, seed);
    /* Even: this process's first arrival is arrival `index` of the run. A
     * Poisson process split in N independent ones of rate/N is one of the
     * full rate: each starts with its own draw. */
    a->target = poisson ? gap(a) : (double)index / count;
    a->next_us = ARRIVALS_NONE;
}

void arrivals_set(arrivals_t *a, const arrival_seg_t *seg)
{
    if (a->set) {
        /* Progress towards the next arrival carries over: what the old
         * segment counted up to the new one's start. */
        uint64_t t = seg->t0_us > a->seg.t0_us ? seg->t0_us - a->seg.t0_us : 0;
        double done = count_at(a, (double)t / 1e6);
        a->target = a->target > done ? a->target - done : 0;
    }
    a->seg = *seg;
    if (a->seg.dur_us == 0)
        a->seg.r1 = a->seg.r0;
    a->set = true;
    place(a);
}

void arrivals_take(arrivals_t *a)
{
    a->target += gap(a);
    place(a);
}

double arrivals_rate_at(const arrival_seg_t *seg, uint64_t t_us)
{
    if (seg->dur_us == 0 || t_us <= seg->t0_us)
        return seg->r0;
    uint64_t tau = t_us - seg->t0_us;
    if (tau >= seg->dur_us)
        return seg->r1;
    return seg->r0 + (seg->r1 - seg->r0) * (double)tau / (double)seg->dur_us;
}

/* picker: picks a task at random by weight in O(1) (Vose's alias method).
 *
 * Locust picks with random.choice over a list holding each task weight times;
 * the alias table gives exactly the same distribution with one random draw and
 * no work that grows with the number of tasks. Tasks of weight 0 are never
 * picked. */
#ifndef HOPPER_PICKER_H
#define HOPPER_PICKER_H

#include <stddef.h>

#include "util/rng.h"

typedef struct {
    size_t n;
    double *prob;     /* chance of keeping column i */
    size_t *alias;    /* where column i sends the rest */
} picker_t;

/* Builds the table; at least one weight must be positive. Returns 0, or -1 if
 * all weights are zero. */
int picker_init(picker_t *p, const unsigned *weights, size_t n);
void picker_free(picker_t *p);

static inline size_t picker_pick(const picker_t *p, rng_t *r)
{
    double u = rng_unit(r) * (double)p->n;
    size_t i = (size_t)u;
    if (i >= p->n)
        i = p->n - 1;
    return (u - (double)i) < p->prob[i] ? i : p->alias[i];
}

#endif

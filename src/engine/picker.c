/* picker: see include/engine/picker.h. */
#include "engine/picker.h"

#include <stdlib.h>

#include "util/xalloc.h"

int picker_init(picker_t *p, const unsigned *weights, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += weights[i];
    p->n = n;
    p->prob = NULL;
    p->alias = NULL;
    if (n == 0 || sum <= 0)
        return -1;
    p->prob = xmalloc(n * sizeof *p->prob);
    p->alias = xmalloc(n * sizeof *p->alias);
    size_t *small = xmalloc(n * sizeof *small), *large = xmalloc(n * sizeof *large);
    size_t ns = 0, nl = 0;
    double *scaled = xmalloc(n * sizeof *scaled);
    for (size_t i = 0; i < n; i++) {
        scaled[i] = weights[i] * (double)n / sum;
        p->alias[i] = i;
        if (scaled[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns && nl) {
        size_t s = small[--ns], l = large[nl - 1];
        p->prob[s] = scaled[s];
        p->alias[s] = l;
        scaled[l] = (scaled[l] + scaled[s]) - 1.0;
        if (scaled[l] < 1.0) {
            nl--;
            small[ns++] = l;
        }
    }
    /* What is left is 1 up to rounding error. */
    while (nl)
        p->prob[large[--nl]] = 1.0;
    while (ns) {
        size_t s = small[--ns];
        p->prob[s] = weights[s] ? 1.0 : 0.0;
        if (!weights[s]) {
            /* A zero-weight column left over by rounding: send it to any
             * positive one so that it is never picked itself. */
            for (size_t j = 0; j < n; j++)
                if (weights[j]) {
                    p->alias[s] = j;
                    break;
                }
        }
    }
    free(small);
    free(large);
    free(scaled);
    return 0;
}

void picker_free(picker_t *p)
{
    free(p->prob);
    free(p->alias);
    p->prob = NULL;
    p->alias = NULL;
    p->n = 0;
}

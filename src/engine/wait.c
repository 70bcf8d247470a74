/* wait: see include/engine/wait.h. */
#include "engine/wait.h"

uint64_t wait_next(const wait_spec_t *w, rng_t *r, uint64_t task_start_us, uint64_t now_us)
{
    switch (w->kind) {
    case WAIT_CONSTANT:
        return w->a_us;
    case WAIT_BETWEEN:
        return w->a_us + (uint64_t)(rng_unit(r) * (double)(w->b_us - w->a_us + 1));
    case WAIT_PACING:
    case WAIT_THROUGHPUT: {
        uint64_t took = now_us > task_start_us ? now_us - task_start_us : 0;
        return took >= w->a_us ? 0 : w->a_us - took;
    }
    }
    return 0;
}

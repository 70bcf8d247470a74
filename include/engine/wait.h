/* wait: how long a user thinks after a task (Locust's wait_time functions).
 *
 *   between A B   uniform in [A, B], drawn after each task
 *   constant S    S
 *   pacing S      max(0, S - time the task took): start-to-start spacing S,
 *                 no catch-up after an overrun (Locust's constant_pacing)
 *   throughput R  pacing 1/R (Locust's constant_throughput)
 */
#ifndef HOPPER_WAIT_H
#define HOPPER_WAIT_H

#include <stdint.h>

#include "plan/plan.h"
#include "util/rng.h"

/* The wait in microseconds after a task that started at task_start_us and
 * ended at now_us (both on the same clock). */
uint64_t wait_next(const wait_spec_t *w, rng_t *r, uint64_t task_start_us, uint64_t now_us);

#endif

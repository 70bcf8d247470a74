/* health: how the load generator itself is doing.
 *
 * A generator that runs out of CPU, or whose event loop falls behind, delays
 * its own requests and measures itself instead of the server. Each process
 * samples its CPU use (getrusage) and its event-loop lag (how late a 100 ms
 * timer fires) and reports them; the views show them and hopper warns, with
 * the figures, when the generator is the bottleneck. */
#ifndef HOPPER_HEALTH_H
#define HOPPER_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#define HEALTH_TICK_MS 100

typedef struct {
    uv_timer_t timer;
    uint64_t last_tick_ns;     /* when the timer last fired */
    double lag_ms_max;         /* the worst lateness since the last sample */
    uint64_t cpu_us_last;      /* process CPU time at the last sample */
    uint64_t wall_ns_last;
} health_t;

typedef struct {
    double cpu_pct;            /* of one core, since the last sample */
    double lag_ms;             /* worst event-loop lag since the last sample */
} health_sample_t;

void health_start(health_t *h, uv_loop_t *loop);
/* Takes a sample and starts the next period. */
health_sample_t health_sample(health_t *h);
void health_close(health_t *h);

#endif

/* health: see include/engine/health.h. */
#include "engine/health.h"

#include <sys/resource.h>

static uint64_t cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void on_tick(uv_timer_t *t)
{
    health_t *h = t->data;
    uint64_t now = uv_hrtime();
    double late = (double)(now - h->last_tick_ns) / 1e6 - HEALTH_TICK_MS;
    if (late > h->lag_ms_max)
        h->lag_ms_max = late;
    h->last_tick_ns = now;
}

void health_start(health_t *h, uv_loop_t *loop)
{
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->last_tick_ns = h->wall_ns_last = uv_hrtime();
    h->cpu_us_last = cpu_us();
    h->lag_ms_max = 0;
    uv_timer_start(&h->timer, on_tick, HEALTH_TICK_MS, HEALTH_TICK_MS);
    /* A timer is not a reason to keep the loop alive. */
    uv_unref((uv_handle_t *)&h->timer);
}

health_sample_t health_sample(health_t *h)
{
    uint64_t now = uv_hrtime(), cpu = cpu_us();
    double wall_us = (double)(now - h->wall_ns_last) / 1e3;
    health_sample_t s = {
        .cpu_pct = wall_us > 0 ? 100.0 * (double)(cpu - h->cpu_us_last) / wall_us : 0,
        .lag_ms = h->lag_ms_max > 0 ? h->lag_ms_max : 0,
    };
    h->cpu_us_last = cpu;
    h->wall_ns_last = now;
    h->lag_ms_max = 0;
    return s;
}

void health_close(health_t *h)
{
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->timer, NULL);
}

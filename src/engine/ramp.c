/* ramp: see include/engine/ramp.h. */
#include "engine/ramp.h"

static uint64_t interval_us(const ramp_t *r)
{
    double us = 1e6 / r->rate;
    return us < 1 ? 1 : (uint64_t)us;
}

void ramp_init(ramp_t *r, double rate)
{
    r->rate = rate;
    r->last_step_us = 0;
    r->stepped = false;
}

void ramp_set_rate(ramp_t *r, double rate)
{
    r->rate = rate;
}

void ramp_restart(ramp_t *r)
{
    r->stepped = false;
}

static uint64_t next_due(const ramp_t *r)
{
    return r->stepped ? r->last_step_us + interval_us(r) : 0;
}

int64_t ramp_steps(ramp_t *r, uint64_t now_us, uint64_t current, uint64_t target)
{
    if (current == target)
        return 0;
    uint64_t want = current < target ? target - current : current - target;
    uint64_t n, iv = interval_us(r);
    if (!r->stepped || now_us < r->last_step_us) {
        /* The first step of a ramp happens at once. */
        n = 1;
        r->last_step_us = now_us;
        r->stepped = true;
    } else {
        uint64_t due = r->last_step_us + iv;
        if (now_us < due)
            return 0;
        n = 1 + (now_us - due) / iv;
        /* Keep the spacing grid: the last step taken is the latest one due,
         * not "now", so a late timer does not shift every later step. */
        if (n > want)
            n = want;
        r->last_step_us = due + (n - 1) * iv;
        /* A ramp that fell far behind (a stopped process, say) does not owe
         * the past: re-anchor on now. */
        if (now_us - r->last_step_us > 1000000)
            r->last_step_us = now_us;
    }
    if (n > want)
        n = want;
    return current < target ? (int64_t)n : -(int64_t)n;
}

uint64_t ramp_delay_us(const ramp_t *r, uint64_t now_us)
{
    uint64_t due = next_due(r);
    return due > now_us ? due - now_us : 0;
}

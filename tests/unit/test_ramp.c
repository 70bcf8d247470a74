/* Unit tests for the ramp: even spacing, exact catch-up, ramping down, rate
 * changes and restarts. The clock is simulated: no sleeping. */
#include "check.h"
#include "engine/ramp.h"

/* Drives a ramp with a timer that fires exactly when asked (or late by
 * `late_us`), recording when each step happened. */
static int simulate(ramp_t *r, uint64_t *now, uint64_t *cur, uint64_t target,
                    uint64_t late_us, uint64_t *times, int max)
{
    int n = 0;
    for (int guard = 0; guard < 100000 && *cur != target; guard++) {
        int64_t s = ramp_steps(r, *now, *cur, target);
        for (; s > 0; s--, (*cur)++)
            if (n < max)
                times[n++] = *now;
        for (; s < 0; s++, (*cur)--)
            if (n < max)
                times[n++] = *now;
        if (*cur == target)
            break;
        uint64_t d = ramp_delay_us(r, *now);
        *now += (d ? d : 1) + late_us;
    }
    return n;
}

TEST(ten_per_second_is_one_every_100ms)
{
    ramp_t r;
    ramp_init(&r, 10);
    uint64_t now = 5000, cur = 0, t[64];
    int n = simulate(&r, &now, &cur, 20, 0, t, 64);
    CHECK_INT(n, 20);
    CHECK_INT(cur, 20);
    CHECK_INT(t[0], 5000);                 /* the first user starts at once */
    for (int i = 1; i < n; i++)
        CHECK_INT(t[i] - t[i - 1], 100000);
}

TEST(late_timer_catches_up_on_the_grid)
{
    ramp_t r;
    ramp_init(&r, 10);
    uint64_t cur = 0;
    CHECK_INT(ramp_steps(&r, 0, cur, 100), 1);
    cur = 1;
    /* The loop was busy for 350 ms: three steps were due (100, 200, 300). */
    CHECK_INT(ramp_steps(&r, 350000, cur, 100), 3);
    cur = 4;
    CHECK_INT(ramp_delay_us(&r, 350000), 50000);   /* next at 400 ms, not 450 */
    CHECK_INT(ramp_steps(&r, 399999, cur, 100), 0);
    CHECK_INT(ramp_steps(&r, 400000, cur, 100), 1);
}

TEST(never_overshoots_the_target)
{
    ramp_t r;
    ramp_init(&r, 1000);
    CHECK_INT(ramp_steps(&r, 0, 0, 5), 1);
    CHECK_INT(ramp_steps(&r, 10000000, 1, 5), 4);  /* far behind: only what is wanted */
    CHECK_INT(ramp_steps(&r, 20000000, 5, 5), 0);
}

TEST(ramps_down_at_the_same_rate)
{
    ramp_t r;
    ramp_init(&r, 4);
    uint64_t now = 0, cur = 10, t[16];
    int n = simulate(&r, &now, &cur, 6, 0, t, 16);
    CHECK_INT(n, 4);
    CHECK_INT(cur, 6);
    for (int i = 1; i < n; i++)
        CHECK_INT(t[i] - t[i - 1], 250000);
}

TEST(rate_change_applies_from_the_last_step)
{
    ramp_t r;
    ramp_init(&r, 1);
    CHECK_INT(ramp_steps(&r, 0, 0, 10), 1);
    ramp_set_rate(&r, 10);
    CHECK_INT(ramp_delay_us(&r, 0), 100000);
    CHECK_INT(ramp_steps(&r, 100000, 1, 10), 1);
}

TEST(fractional_rate)
{
    ramp_t r;
    ramp_init(&r, 0.5);
    CHECK_INT(ramp_steps(&r, 0, 0, 3), 1);
    CHECK_INT(ramp_delay_us(&r, 0), 2000000);
    CHECK_INT(ramp_steps(&r, 1999999, 1, 3), 0);
    CHECK_INT(ramp_steps(&r, 2000000, 1, 3), 1);
}

TEST(restart_after_pause_steps_at_once)
{
    ramp_t r;
    ramp_init(&r, 1);
    CHECK_INT(ramp_steps(&r, 0, 0, 10), 1);
    ramp_restart(&r);
    CHECK_INT(ramp_delay_us(&r, 10), 0);
    CHECK_INT(ramp_steps(&r, 10, 1, 10), 1);
}

TEST(far_behind_reanchors_on_now)
{
    ramp_t r;
    ramp_init(&r, 10);
    CHECK_INT(ramp_steps(&r, 0, 0, 1000), 1);
    /* Ten seconds late (a suspended process): 100 users are due at once, and
     * the grid restarts from now rather than owing more. */
    CHECK_INT(ramp_steps(&r, 10000000, 1, 1000), 100);
    CHECK_INT(ramp_delay_us(&r, 10000000), 100000);
}

int main(void)
{
    check_prog = "ramp";
    RUN(ten_per_second_is_one_every_100ms);
    RUN(late_timer_catches_up_on_the_grid);
    RUN(never_overshoots_the_target);
    RUN(ramps_down_at_the_same_rate);
    RUN(rate_change_applies_from_the_last_step);
    RUN(fractional_rate);
    RUN(restart_after_pause_steps_at_once);
    RUN(far_behind_reanchors_on_now);
    return check_done();
}

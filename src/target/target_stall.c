/* target_stall: see include/target/target_stall.h.
 *
 * One timer per serving process: it waits for the next window's start,
 * then the callback sleeps through the window and arms the timer for the
 * next one. libuv timers count whole milliseconds of a clock read once per
 * loop iteration, so the callback checks the precise clock and comes back a
 * millisecond later when it fired early; a window therefore begins up to
 * about a millisecond late (later when the loop is busy), and always ends
 * on time. A window the loop missed entirely (it was busy past its end) is
 * skipped, not made up. */
#include "target/target_stall.h"

#include <stdio.h>
#include <time.h>

#define NS_PER_S 1000000000ULL
#define NS_PER_MS 1000000ULL

const char *target_stall_check(uint64_t stall_us, uint64_t every_us)
{
    if (stall_us == 0)
        return "a stall must last more than 0";
    if (every_us == 0)
        return "the period must be more than 0";
    if (stall_us > TARGET_STALL_MAX_US || every_us > TARGET_STALL_MAX_US)
        return "longer than an hour";
    if (stall_us >= every_us)
        return "the stall must be shorter than the period (--stall-every)";
    return NULL;
}

void target_stall_window(const struct target_stall_schedule *sched, uint64_t now_ns, uint64_t *start,
                         uint64_t *end)
{
    uint64_t p = sched->every_ns;
    /* Periods begun since the anchor; now lies in period k = done + 1, whose
     * window is its last stall_ns. A clock before the anchor (cannot happen
     * for a monotonic clock read later, but costs nothing) is period 1. */
    uint64_t done = now_ns > sched->anchor_ns ? (now_ns - sched->anchor_ns) / p : 0;
    uint64_t period_end = sched->anchor_ns + (done + 1) * p;
    *end = period_end;
    *start = period_end - sched->stall_ns;
}

void target_stall_describe(const struct target_stall_schedule *sched, char *buf, size_t len)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    uint64_t mono = uv_hrtime();
    /* The first window's start, moved from the monotonic clock to the wall
     * clock by the two clocks' difference now. */
    int64_t ahead = (int64_t)(sched->anchor_ns + sched->every_ns - sched->stall_ns) - (int64_t)mono;
    int64_t first_ns = (int64_t)wall.tv_sec * (int64_t)NS_PER_S + wall.tv_nsec + ahead;
    int64_t first_us = first_ns / 1000;
    snprintf(buf, len, "stall %.3f s every %.3f s, the first at unix %lld.%06lld",
             (double)sched->stall_ns / NS_PER_S, (double)sched->every_ns / NS_PER_S,
             (long long)(first_us / 1000000), (long long)(first_us % 1000000));
}

/* Milliseconds from now_ns to at_ns, rounded up, at least 1: the timer then
 * never fires before at_ns by more than the loop clock's truncation, and
 * never spins. */
static uint64_t ms_until(uint64_t at_ns, uint64_t now_ns)
{
    if (at_ns <= now_ns)
        return 1;
    uint64_t ms = (at_ns - now_ns + NS_PER_MS - 1) / NS_PER_MS;
    return ms > 0 ? ms : 1;
}

/* The freeze itself: the whole process sleeps until end_ns on the clock
 * uv_hrtime reads. A signal handler that runs (a stop signal) ends it
 * early. */
static void freeze_until(uint64_t end_ns)
{
    struct timespec until = {.tv_sec = (time_t)(end_ns / NS_PER_S), .tv_nsec = (long)(end_ns % NS_PER_S)};
    /* EINTR is the stop signal: return to the loop, which acts on it. A
     * stop-and-continue (SIGSTOP, SIGCONT) runs no handler, and the kernel
     * resumes the sleep by itself. */
    (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
}

static void on_stall_timer(uv_timer_t *timer)
{
    struct target_stall *st = timer->data;
    uint64_t now = uv_hrtime();
    uint64_t start, end;
    target_stall_window(&st->sched, now, &start, &end);
    if (now >= start) {
        freeze_until(end);
        st->stalls++;
        /* Timers that fell due during the window (--delay answers) run in
         * this same pass of the loop, before it reads anything new. */
        uv_update_time(timer->loop);
        now = uv_hrtime();
        target_stall_window(&st->sched, now, &start, &end);
        if (now >= start) /* a signal cut the window short: the stop is coming */
            start = end;
    }
    uv_timer_start(timer, on_stall_timer, ms_until(start, now), 0);
}

void target_stall_start(struct target_stall *st, uv_loop_t *loop, const struct target_stall_schedule *sched)
{
    st->sched = *sched;
    st->stalls = 0;
    st->started = false;
    st->stopped = false;
    if (sched->stall_ns == 0)
        return;
    uv_timer_init(loop, &st->timer);
    st->timer.data = st;
    st->started = true;
    uv_update_time(loop);
    uint64_t now = uv_hrtime(), start, end;
    target_stall_window(sched, now, &start, &end);
    /* Started inside a window (a worker slow to start): freeze from now. */
    uv_timer_start(&st->timer, on_stall_timer, now >= start ? 0 : ms_until(start, now), 0);
}

static void on_stall_closed(uv_handle_t *handle)
{
    (void)handle; /* embedded in its owner: nothing to free */
}

void target_stall_stop(struct target_stall *st)
{
    if (!st->started || st->stopped)
        return;
    st->stopped = true;
    uv_close((uv_handle_t *)&st->timer, on_stall_closed);
}

/* target_stall: hopper-target --stall S --stall-every P, a server that
 * freezes on a schedule, the way wrk2's demonstration of coordinated
 * omission pauses its server with SIGSTOP (^Z).
 *
 * The schedule: time is cut into periods of P counted from an anchor, one
 * uv_hrtime() (CLOCK_MONOTONIC, one clock for the whole machine) taken at
 * start before any fork, so that every --workers process freezes at the
 * same moments. Each period ends with a window of S:
 *
 *   window k (k = 1, 2, ...) = [anchor + k*P - S, anchor + k*P)
 *
 * so the server answers normally for P - S after it starts, and a run of n
 * periods sees n whole stalls.
 *
 * The freeze: when a window begins, the serving process's event loop sleeps
 * (clock_nanosleep to the window's end). Nothing is read, answered or timed
 * meanwhile, on any connection, whatever its protocol (HTTP/1.1, HTTP/2,
 * TLS): exactly what a stopped process does. The kernel still completes
 * connections into the listen backlog and buffers what clients send; when
 * the window ends the loop reads it all and answers at once, and answers
 * that fell due during the window (--delay) go out then too. Blocking is
 * the point here; it costs the hot path nothing (one timer per process).
 *
 * A stop signal (SIGINT, SIGTERM: the only signals a serving process has
 * handlers for) interrupts the sleep, so that a stop is never held up by a
 * stall; the loop then handles the signal as usual. A signal that lands in
 * the instant between the timer's check and the sleep waits for the
 * window's end.
 *
 * Call order: target_stall_start on a loop, then uv_run; target_stall_stop
 * (idempotent) closes the timer so the loop can end. The struct is embedded
 * in its owner, which must outlive the loop run. */
#ifndef HOPPER_TARGET_STALL_H
#define HOPPER_TARGET_STALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Both at most this long (an hour): beyond that it is a typo. */
#define TARGET_STALL_MAX_US (3600ULL * 1000000ULL)

/* The schedule. stall_ns == 0 means no stalls. */
struct target_stall_schedule {
    uint64_t stall_ns; /* S: 0 < S < P when set */
    uint64_t every_ns; /* P */
    uint64_t anchor_ns; /* uv_hrtime() at start */
};

struct target_stall {
    uv_timer_t timer; /* data = this */
    struct target_stall_schedule sched;
    uint64_t stalls; /* windows frozen through, for tests and curiosity */
    bool started;
    bool stopped;
};

/* NULL if stall_us and every_us make a schedule (0 < stall < every, both at
 * most TARGET_STALL_MAX_US), else why not, for a message naming --stall. */
const char *target_stall_check(uint64_t stall_us, uint64_t every_us);

/* The window that holds now_ns, or else the next one: *start <= now_ns <
 * *end, or now_ns < *start. The schedule must have stall_ns > 0. */
void target_stall_window(const struct target_stall_schedule *sched, uint64_t now_ns, uint64_t *start,
                         uint64_t *end);

/* The line hopper-target prints after "listening on", for a test or a
 * person to know when the windows are:
 *   "stall 1.000 s every 10.000 s, the first at unix 1718000009.123456"
 * (the wall-clock time the first window begins, microseconds; later ones
 * begin a period apart). Reads the clocks now. */
void target_stall_describe(const struct target_stall_schedule *sched, char *buf, size_t len);

/* Arms the freezes on loop (does nothing when sched->stall_ns is 0). Cannot
 * fail: a libuv timer's init and start only fail on a closing handle. */
void target_stall_start(struct target_stall *st, uv_loop_t *loop, const struct target_stall_schedule *sched);

/* Closes the timer; the owner may go once the loop has run dry. */
void target_stall_stop(struct target_stall *st);

#endif

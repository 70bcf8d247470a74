/* ramp: when to start or stop the next user, so that users come and go evenly
 * spaced at the spawn rate (10/s: one every 100 ms, not bursts of 10).
 *
 * The ramp keeps the due time of its next step. ramp_steps() says how many
 * users to start (positive) or stop (negative) now, catching up exactly if the
 * loop was late; ramp_delay_us() says how long to sleep until the next step. A
 * new target or rate takes effect from the last step, so spacing stays even:
 * the next step is due one interval after the previous one (or at once if that
 * is already past). Pure arithmetic, no clock of its own: tests drive it. */
#ifndef HOPPER_RAMP_H
#define HOPPER_RAMP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double rate;            /* users per second, > 0 */
    uint64_t last_step_us;  /* time of the previous step */
    bool stepped;           /* whether there was one */
} ramp_t;

void ramp_init(ramp_t *r, double rate);

/* Changes the rate; the next step is due one new interval after the last. */
void ramp_set_rate(ramp_t *r, double rate);

/* Forget the last step (after a pause): the next one is due at once. */
void ramp_restart(ramp_t *r);

/* Steps due at now_us to move current towards target: > 0 start that many,
 * < 0 stop that many, 0 nothing due yet (or already at target). Records them
 * as taken. */
int64_t ramp_steps(ramp_t *r, uint64_t now_us, uint64_t current, uint64_t target);

/* Microseconds from now_us until the next step is due (0 if due now). */
uint64_t ramp_delay_us(const ramp_t *r, uint64_t now_us);

#endif

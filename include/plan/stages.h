/* stages: the text of a load shape, and what it means over time.
 *
 *   stages = 30s:100, 5m:100, 1m:500, 30s:0          users (the closed model)
 *   stages = 1m:0-500/s, 5m:500/s, 30s:0/s           arrivals (the open model)
 *
 * A list of DURATION:TARGET or DURATION:FROM-TO, comma-separated. Each stage
 * goes linearly to its target over its duration (k6's ramping semantics),
 * starting from the previous stage's target (0 for the first) unless it
 * names its start. A target is a whole number of users, or a rate with a
 * unit: N/s, N/m or N/h, kept in arrivals per second. One list is in one unit.
 * Durations are util/duration.h's. The hopperfile (stages =, arrival-rate =)
 * and the command line (--stages, --arrival-rate) share this parser, so a
 * value accepted in one is never refused in the other; which unit belongs to
 * which model is their business (plan/hopperfile.c, plan/cli.c).
 *
 * Errors are plain messages ("stage 2 '5m': expected DURATION:TARGET ...")
 * that the caller prefixes with FILE:LINE or the option. */
#ifndef HOPPER_STAGES_H
#define HOPPER_STAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

/* More stages than this is not a test shape anyone wrote by hand. */
#define STAGES_MAX 1000

/* What a stage list counts: users (closed model) or arrivals per second
 * (open model). */
typedef enum { STAGES_USERS, STAGES_RATE } stages_unit_t;

/* Parses a stage list. On success returns 0 with *out a new array of *n_out
 * stages (free() it) and *unit what they count; a stage without a written
 * start has from set to the previous stage's to (0 for the first) and
 * from_set false. On error returns -1, writes the reason into err and leaves
 * the outputs alone. Refused: an empty list or item, a missing ':', a
 * duration that does not parse or is 0, a negative target, users that are
 * not whole, a rate without a unit, users and rates mixed, targets above
 * HOPPER_MAX_USERS or HOPPER_MAX_ARRIVAL_RATE, more than STAGES_MAX stages,
 * stages that last more than 365 days. */
int stages_parse(const char *text, plan_stage_t **out, size_t *n_out, stages_unit_t *unit,
                 char *err, size_t errlen);

/* Parses one rate ("200/s", "30/m", "0.5/h") into arrivals per second, above
 * 0 and at most HOPPER_MAX_ARRIVAL_RATE. 0, or -1 with the reason in err
 * (a bare number: "a rate needs a unit: 200/s, 200/m or 200/h"). */
int stages_parse_rate(const char *text, double *per_s, char *err, size_t errlen);

/* A copy of n stages (NULL when n is 0); free() it. */
plan_stage_t *stages_copy(const plan_stage_t *s, size_t n);

/* How long the stages last together (their durations' sum). */
uint64_t stages_total_us(const plan_stage_t *s, size_t n);

/* The highest value they reach (their from's and to's); 0 when n is 0. */
double stages_peak(const plan_stage_t *s, size_t n);

/* The value the stages set t_us after they began: linear within a stage,
 * the last target once past the end. *stage gets the running stage's index
 * (n once past the end) and *left_us the time left in it (0 past the end);
 * either may be NULL. 0 when n is 0. */
double stages_at(const plan_stage_t *s, size_t n, uint64_t t_us, size_t *stage,
                 uint64_t *left_us);

/* The text of stages and rates, written here only: every view and report
 * shows a stage, a list or a rate through these functions, so that what
 * hopper prints is what --stages and --arrival-rate read back.
 *
 * A rate is written per second when that takes at most 3 decimals ("200/s",
 * "0.5/s"), else per minute or per hour when that does ("20/m", "0.1/h"),
 * else (a rate no one typed: mid-ramp, 1/7) in the first of the three in
 * which 3 significant digits take at most 3 decimals; never with an
 * exponent. STAGES_EXACT writes as many digits as reading back to the same
 * double needs (at most 17 significant: a rate computed mid-ramp may take
 * them all); STAGES_SHORT, for a status line, cuts to 3 significant digits
 * ("123/s", "0.143/s") a rate that would need more, which reads back to
 * within that rounding (and never below the parser's floor). */
typedef enum { STAGES_EXACT, STAGES_SHORT } stages_form_t;

/* Where a stage's start is written. STAGES_IN_LIST: only where the plan
 * wrote one (from_set), the previous stage's target being implied, as in
 * "30s:100, 1m:500". STAGES_ALONE: also whenever the stage ramps (from !=
 * to), so that one stage read by itself says where it goes from
 * ("1m:100-500"). */
typedef enum { STAGES_IN_LIST, STAGES_ALONE } stages_context_t;

/* What goes between two stages of a list. */
#define STAGES_SEPARATOR ", "

/* Writes one stage from its fields (a plan_stage_t's, or a snapshot's copy
 * of them) as stages_parse reads it: "1m:0-500/s", "5m:500/s", "30s:100".
 * from is the stored start (the parser fills it with the previous stage's
 * target when none was written). Values in users are whole numbers; rates
 * are exact (STAGES_EXACT), and a ramp's two ends share one unit. Into buf,
 * always terminated (cut when short); returns buf. */
const char *stages_stage_describe(uint64_t dur_us, double from, bool from_set, double to,
                                  stages_unit_t unit, stages_context_t ctx, char *buf,
                                  size_t len);

/* Writes the stages back as a list stages_parse reads ("30s:100, 1m:0-500/s";
 * a start only where one was written: STAGES_IN_LIST) into buf; returns
 * buf. */
const char *stages_describe(const plan_stage_t *s, size_t n, stages_unit_t unit, char *buf,
                            size_t len);

/* Writes a rate in arrivals per second as stages_parse_rate reads it
 * ("200/s", "20/m", "0.1/h"; 0 as "0/s") into buf; returns buf. */
const char *stages_rate_describe(double per_s, stages_form_t form, char *buf, size_t len);

/* Writes one value of the unit: a whole number of users ("500"), or a rate
 * as stages_rate_describe does. Into buf; returns buf. */
const char *stages_value_describe(double v, stages_unit_t unit, stages_form_t form, char *buf,
                                  size_t len);

/* "users" or "arrivals per second", for messages. */
const char *stages_unit_name(stages_unit_t unit);

#endif

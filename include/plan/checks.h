/* checks: pass/fail criteria for CI ("p95<300ms", "fail-ratio<1%").
 *
 *   [ENDPOINT:]METRIC OP VALUE
 *   METRIC  p50 p66 p75 p80 p90 p95 p98 p99 p99.9 p99.99 p100 (the reported
 *           percentiles), median, avg, min, max,
 *           fail-ratio, failures, rps, requests
 *   OP      <  <=  >  >=
 *   VALUE   a duration with a unit for time metrics (300ms, 1s, 250us), a
 *           percentage or a fraction for fail-ratio (1% or 0.01), a number
 *           for rps, failures and requests
 *   ENDPOINT a statistics row name, optionally with its method
 *           ("/api/id/tt0068646" or "GET /api/id/tt0068646"); without one the
 *           check is on the Aggregated row
 *
 * Checks are parsed before the test starts (a malformed one is a usage
 * error) and evaluated against a snapshot: live on the dashboard, finally at
 * the end, where any failed check makes the exit status 3. */
#ifndef HOPPER_CHECKS_H
#define HOPPER_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "snapshot/snapshot.h"

typedef enum {
    METRIC_PERCENTILE,   /* arg: the fraction, 0.95 */
    METRIC_AVG,
    METRIC_MIN,
    METRIC_MAX,
    METRIC_FAIL_RATIO,
    METRIC_FAILURES,
    METRIC_RPS,
    METRIC_REQUESTS
} check_metric_t;

typedef enum { CHECK_LT, CHECK_LE, CHECK_GT, CHECK_GE } check_op_t;

typedef struct {
    char *text;          /* as written, for messages and reports */
    char *method;        /* NULL: any method with that name */
    char *endpoint;      /* NULL: the Aggregated row */
    check_metric_t metric;
    double arg;
    check_op_t op;
    double threshold;    /* us for times, a fraction for fail-ratio, else as is */
} check_t;

typedef struct {
    const check_t *check;
    bool evaluated;      /* the endpoint exists and had requests */
    bool passed;
    double value;        /* in the threshold's unit */
    char measured[48];   /* the value for people: "231ms", "0.42%", "no requests" */
} check_result_t;

/* Parses one check; 0, or -1 with a message ("'p95<300': a time needs a
 * unit, e.g. 300ms") in err. */
int check_parse(const char *text, check_t *out, char *err, size_t errlen);
void check_free(check_t *c);

/* Whether the endpoint a check names is one of the plan's n endpoints (its
 * statistics rows, plan_t's endpoint_methods/endpoint_names): a check
 * without an endpoint always is. 0, or -1 with a message listing the
 * endpoints there are. Called when the plan is read, so a check on a name
 * that can never have requests stops the run before any load. */
int check_endpoint_known(const check_t *c, const char *const *methods, const char *const *names,
                         size_t n, char *err, size_t errlen);

/* Evaluates a check against a snapshot. A check on an endpoint that does not
 * exist, or had no requests, fails (a gate that measured nothing must not
 * pass). */
void check_eval(const check_t *c, const snap_t *s, check_result_t *out);

#endif

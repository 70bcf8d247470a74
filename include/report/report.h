/* report: what every report needs besides the snapshot: the run's settings
 * and the checks' results. The CSV, JSON and HTML writers (report_csv.h,
 * report_json.h, report_html.h) all take a const snapshot and this. */
#ifndef HOPPER_REPORT_H
#define HOPPER_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "plan/checks.h"
#include "plan/plan.h"
#include "snapshot/snapshot.h"

typedef struct {
    const char *version;          /* hopper's */
    const char *hopperfile;       /* path */
    const plan_t *plan;           /* tasks, wait, timeout, headers */
    const char *host;
    uint64_t users;               /* target at start */
    double spawn_rate;            /* at start */
    uint64_t run_time_us;         /* 0: none */
    double end_unix;              /* when the run ended (0 while running) */
    const check_result_t *checks;
    size_t n_checks;
} report_meta_t;

#endif

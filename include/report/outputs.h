/* outputs: everything a run was asked to leave behind, and its verdict.
 *
 * Holds the checks (from the hopperfile and --check) and the report files
 * (--csv, --json, --html, --log-failures). Every file is opened before the
 * test starts, so one that cannot be written stops the run before any load;
 * the CSV files are refreshed every second; at the end, whatever the way out
 * (run time, q, Ctrl-C, SIGTERM, SIGHUP), outputs_finish() writes them all
 * from the same final snapshot the summary is printed from. */
#ifndef HOPPER_OUTPUTS_H
#define HOPPER_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "plan/checks.h"
#include "plan/cli.h"
#include "report/faillog.h"
#include "util/log.h"
#include "plan/plan.h"
#include "report/report.h"
#include "report/report_csv.h"

typedef struct {
    check_t *checks;
    check_result_t *results;
    size_t n_checks;
    report_csv_t csv;
    bool csv_on;
    FILE *json;              /* NULL, stdout ("-"), or the file */
    FILE *html;
    faillog_t faillog;
    bool faillog_on;
} outputs_t;

/* Parses the checks and opens the files. 0, or -1 with a message. */
int outputs_open(outputs_t *o, const cli_opts_t *opts, const plan_t *plan, char *err,
                 size_t errlen);

/* Whether the text summary must go to stderr (the JSON report is on stdout). */
bool outputs_json_on_stdout(const outputs_t *o);

/* Once a second: refreshes the CSV files. */
void outputs_tick(outputs_t *o, const snap_t *s, log_t *log);

/* Evaluates the checks against s (live, for the dashboard); returns how many. */
size_t outputs_eval_checks(outputs_t *o, const snap_t *s);

/* The verdict for a final snapshot: 3 if a check failed, else
 * exit_code_on_error if a request failed, else 0. Evaluates the checks. */
int outputs_status(outputs_t *o, const snap_t *s, int exit_code_on_error);

/* Writes every report and closes the files. Problems are logged; returns -1
 * if any file could not be written completely. */
int outputs_finish(outputs_t *o, const snap_t *s, const report_meta_t *meta, int status,
                   log_t *log);

/* Frees the checks (after outputs_finish, or on an early exit). */
void outputs_free(outputs_t *o);

#endif

/* outputs: see include/report/outputs.h. */
#include "hopper.h"
#include "report/outputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/outfile.h"
#include "report/report_html.h"
#include "report/report_json.h"
#include "util/xalloc.h"

static int add_check(outputs_t *o, const char *text, const char *where, char *err, size_t errlen)
{
    char why[512];
    check_t c;
    if (check_parse(text, &c, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", where, why);
        return -1;
    }
    o->checks = xrealloc(o->checks, (o->n_checks + 1) * sizeof *o->checks);
    o->checks[o->n_checks++] = c;
    return 0;
}

int outputs_open(outputs_t *o, const cli_opts_t *opts, const plan_t *plan, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < plan->n_checks; i++)
        if (add_check(o, plan->checks[i], plan->path ? plan->path : "hopperfile", err, errlen) != 0)
            goto fail;
    for (size_t i = 0; i < opts->n_checks; i++)
        if (add_check(o, opts->checks[i], "--check", err, errlen) != 0)
            goto fail;
    o->results = xcalloc(o->n_checks ? o->n_checks : 1, sizeof *o->results);

    if (opts->csv_prefix) {
        if (report_csv_open(&o->csv, opts->csv_prefix, opts->csv_full_history,
                            /* _stats_raw.csv must exist before the run,
                             * so it is decided from the plan. */
                            plan_intended_starts(plan), err, errlen) != 0)
            goto fail;
        o->csv_on = true;
    }
    if (opts->json_path) {
        o->json = strcmp(opts->json_path, "-") == 0 ? stdout
                                                    : outfile_open(opts->json_path, false, err, errlen);
        if (!o->json)
            goto fail;
    }
    if (opts->html_path && !(o->html = outfile_open(opts->html_path, false, err, errlen)))
        goto fail;
    if (opts->faillog_path) {
        if (faillog_open(&o->faillog, opts->faillog_path, opts->log_secrets, err, errlen) != 0)
            goto fail;
        o->faillog_on = true;
    }
    return 0;
fail:
    /* Close what was opened; the files stay (empty) as a sign of the attempt. */
    if (o->csv_on) {
        snap_t empty;
        snap_init(&empty);
        report_csv_close(&o->csv, &empty);
    }
    if (o->json && o->json != stdout)
        fclose(o->json);
    if (o->html)
        fclose(o->html);
    if (o->faillog_on)
        faillog_close(&o->faillog);
    o->json = o->html = NULL;
    o->csv_on = o->faillog_on = false;
    outputs_free(o);
    return -1;
}

bool outputs_json_on_stdout(const outputs_t *o)
{
    return o->json == stdout;
}

void outputs_tick(outputs_t *o, const snap_t *s, log_t *log)
{
    if (o->csv_on && report_csv_update(&o->csv, s) != 0 && !o->csv.failed) {
        o->csv.failed = true;
        log_msg(log, "--csv: cannot write: %s (retrying every second; the final write is at the end)",
                strerror(errno));
    }
}

size_t outputs_eval_checks(outputs_t *o, const snap_t *s)
{
    for (size_t i = 0; i < o->n_checks; i++)
        check_eval(&o->checks[i], s, &o->results[i]);
    return o->n_checks;
}

int outputs_status(outputs_t *o, const snap_t *s, int exit_code_on_error)
{
    outputs_eval_checks(o, s);
    for (size_t i = 0; i < o->n_checks; i++)
        if (!o->results[i].passed)
            return HOPPER_EXIT_CHECKS;
    return s->total.failures ? exit_code_on_error : HOPPER_EXIT_OK;
}

static int finish_file(FILE *f, int rc, const char *what, log_t *log)
{
    int e = errno;
    if (f != stdout) {
        if (fclose(f) != 0 && rc == 0) {
            rc = -1;
            e = errno;
        }
    } else if (fflush(f) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc != 0)
        log_msg(log, "%s: the report could not be written completely: %s", what, strerror(e));
    return rc;
}

int outputs_finish(outputs_t *o, const snap_t *s, const report_meta_t *meta, int status, log_t *log)
{
    int rc = 0;
    /* Each file on its own: one that fails does not stop the others. */
    if (o->csv_on) {
        if (report_csv_close(&o->csv, s) != 0) {
            log_msg(log, "--csv: the files could not be written completely: %s", strerror(errno));
            rc = -1;
        }
        o->csv_on = false;
    }
    if (o->json) {
        if (finish_file(o->json, report_json_write(o->json, s, meta, status), "--json", log) != 0)
            rc = -1;
        o->json = NULL;
    }
    if (o->html) {
        if (finish_file(o->html, report_html_write(o->html, s, meta), "--html", log) != 0)
            rc = -1;
        o->html = NULL;
    }
    if (o->faillog_on) {
        if (faillog_close(&o->faillog) != 0) {
            log_msg(log, "--log-failures: the log could not be written completely");
            rc = -1;
        }
        o->faillog_on = false;
    }
    return rc;
}

void outputs_free(outputs_t *o)
{
    for (size_t i = 0; i < o->n_checks; i++)
        check_free(&o->checks[i]);
    free(o->checks);
    free(o->results);
    o->checks = NULL;
    o->results = NULL;
    o->n_checks = 0;
}

/* Unit tests for the command line: options, aliases, bad values, and how the
 * command line overrides the hopperfile. */
#include "check.h"
#include "plan/cli.h"
#include "plan/hopperfile.h"

#include <stdarg.h>
#include <stdlib.h>

static cli_result_t parse(cli_opts_t *o, char *err, const char *a0, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "hopper";
    va_list ap;
    va_start(ap, a0);
    for (const char *a = a0; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    FILE *devnull = fopen("/dev/null", "w");
    cli_free(o);      /* what the previous parse allocated */
    cli_result_t r = cli_parse(argc, argv, o, devnull, err, 512);
    fclose(devnull);
    return r;
}

TEST(defaults_and_basic_options)
{
    cli_opts_t o = {0};
    char err[512] = "";
    CHECK_INT(parse(&o, err, "-f", "x.hf", "-H", "http://127.0.0.1:8082", "-u", "1000", "-r",
                    "10", "-t", "30m", "--no-tui", NULL), CLI_RUN);
    CHECK_STR(o.hopperfile, "x.hf");
    CHECK_STR(o.host, "http://127.0.0.1:8082");
    CHECK_INT(o.users, 1000);
    CHECK(o.spawn_rate == 10.0);
    CHECK_INT(o.run_time_us, 1800000000ULL);
    CHECK(o.no_tui && o.users_set && o.spawn_rate_set && o.run_time_set);
    CHECK(!o.stop_timeout_set);
    CHECK_INT(o.stop_timeout_us, 10000000);       /* the default drain: hopper(1), STOPPING */
    CHECK_INT(o.print_interval_us, 2000000);
    CHECK_INT(o.exit_code_on_error, 1);
    CHECK(!o.no_retry);                           /* idempotent requests may be retried */
    CHECK_INT(parse(&o, err, "--no-retry", NULL), CLI_RUN);
    CHECK(o.no_retry);
    CHECK_INT(parse(&o, err, NULL), CLI_RUN);
    CHECK_STR(o.hopperfile, "hopperfile");
}

TEST(aliases)
{
    cli_opts_t o = {0};
    char err[512];
    CHECK_INT(parse(&o, err, "--hatch-rate", "2.5", "--headless", "--stop-timeout", "5s",
                    "--exit-code-on-error", "7", "--only-summary", NULL), CLI_RUN);
    CHECK(o.spawn_rate == 2.5);
    CHECK(o.no_tui && o.only_summary && o.stop_timeout_set);
    CHECK_INT(o.stop_timeout_us, 5000000);
    CHECK_INT(o.exit_code_on_error, 7);
}

TEST(bad_values_are_usage_errors)
{
    cli_opts_t o = {0};
    char err[512];
    CHECK_INT(parse(&o, err, "-u", "ten", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "-u 'ten'") != NULL);
    CHECK_INT(parse(&o, err, "-u", "-5", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "-u", "0", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "-u", "99999999999999999999999", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "-r", "0", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "-r", "nan", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "-t", "soon", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "-t 'soon'") != NULL);
    CHECK_INT(parse(&o, err, "-t", "0", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "-H", "ftp://x", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "-H") != NULL);
    CHECK_INT(parse(&o, err, "--exit-code-on-error", "300", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "--frobnicate", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "--frobnicate") != NULL);
    CHECK_INT(parse(&o, err, "-u", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "needs a value") != NULL);
    CHECK_INT(parse(&o, err, "stray", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "--print-interval", "1ms", NULL), CLI_USAGE_ERROR);
}

TEST(help_and_version_exit_ok)
{
    cli_opts_t o = {0};
    char err[512];
    CHECK_INT(parse(&o, err, "--help", NULL), CLI_EXIT_OK);
    CHECK_INT(parse(&o, err, "-V", NULL), CLI_EXIT_OK);
}

TEST(command_line_overrides_the_file)
{
    plan_t p;
    plan_init(&p);
    p.host = strdup("http://127.0.0.1:1");
    p.users = 5;
    p.tasks = calloc(1, sizeof *p.tasks);
    p.n_tasks = 1;
    p.tasks[0].steps = calloc(1, sizeof *p.tasks[0].steps);
    p.tasks[0].n_steps = 1;
    p.tasks[0].steps[0].target = strdup("/status");
    p.tasks[0].id = strdup("status");
    cli_opts_t o = {0};
    char err[512];
    CHECK_INT(parse(&o, err, "-H", "http://127.0.0.1:2", "-u", "9", NULL), CLI_RUN);
    CHECK_INT(cli_apply(&o, &p, err, sizeof err), 0);
    CHECK_STR(p.host, "http://127.0.0.1:2");
    CHECK_INT(p.users, 9);
    CHECK(p.spawn_rate == 1.0);            /* untouched: the plan's default */
    free(p.host);
    p.host = NULL;
    CHECK_INT(parse(&o, err, NULL), CLI_RUN);
    CHECK_INT(cli_apply(&o, &p, err, sizeof err), -1);
    CHECK(strstr(err, "no host") != NULL);
    plan_free(&p);
    cli_free(&o);
}

/* A --check on an endpoint the plan lacks is a usage error at start (exit
 * 2 before any load), naming the endpoints there are; one on a row the plan
 * has, or on Aggregated, passes. */
TEST(check_endpoints_known_at_start)
{
    static const char text[] = "host = http://127.0.0.1:1\n[task t]\nrequest = GET /a\n"
                               "[task u]\nrequest = POST /b\nname = bee\n";
    plan_t p;
    char err[512] = "";
    CHECK_INT(hopperfile_parse("t.hopperfile", text, sizeof text - 1, &p, err, sizeof err), 0);
    cli_opts_t o = {0};
    CHECK_INT(parse(&o, err, "--check", "p95<1s", "--check", "/a:p95<1s", "--check",
                    "POST bee:rps>1", NULL), CLI_RUN);
    CHECK_INT(cli_apply(&o, &p, err, sizeof err), 0);
    CHECK_INT(parse(&o, err, "--check", "/a:p95<1s", "--check", "/nope:p95<10ms", NULL), CLI_RUN);
    err[0] = '\0';
    CHECK_INT(cli_apply(&o, &p, err, sizeof err), -1);
    CHECK_STR(err, "--check: check '/nope:p95<10ms': the plan has no endpoint '/nope' "
                   "(its endpoints: GET /a, POST bee)");
    CHECK_INT(parse(&o, err, "--check", "GET bee:p95<1s", NULL), CLI_RUN);
    CHECK_INT(cli_apply(&o, &p, err, sizeof err), -1);
    CHECK(strstr(err, "no endpoint 'GET bee'") != NULL);
    plan_free(&p);
    cli_free(&o);
}

TEST(reports_and_checks)
{
    cli_opts_t o = {0};
    char err[512];
    CHECK_INT(parse(&o, err, "--csv", "out/run", "--csv-full-history", "--json", "-", "--html",
                    "r.html", "--log-failures", "f.jsonl", "--log-secrets", "--check", "p95<300ms",
                    "--check", "/api/id/tt0068646:p99<1s", NULL), CLI_RUN);
    CHECK_STR(o.csv_prefix, "out/run");
    CHECK(o.csv_full_history && o.log_secrets);
    CHECK_STR(o.json_path, "-");
    CHECK_STR(o.html_path, "r.html");
    CHECK_STR(o.faillog_path, "f.jsonl");
    CHECK_INT(o.n_checks, 2);
    CHECK_STR(o.checks[1], "/api/id/tt0068646:p99<1s");
    CHECK_INT(parse(&o, err, "--check", "p95<300", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "needs a unit") != NULL);
    CHECK_INT(parse(&o, err, "--check", "speed>9000", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "unknown metric") != NULL);
    CHECK_INT(parse(&o, err, "--csv-full-history", NULL), CLI_USAGE_ERROR);
    CHECK_INT(parse(&o, err, "--log-secrets", NULL), CLI_USAGE_ERROR);
    cli_free(&o);
}

int main(void)
{
    check_prog = "cli";
    RUN(reports_and_checks);
    RUN(check_endpoints_known_at_start);
    RUN(defaults_and_basic_options);
    RUN(aliases);
    RUN(bad_values_are_usage_errors);
    RUN(help_and_version_exit_ok);
    RUN(command_line_overrides_the_file);
    return check_done();
}

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
    /* Below the least rate: the ramp's interval would not be a number. */
    CHECK_INT(parse(&o, err, "-r", "1e-300", NULL), CLI_USAGE_ERROR);
    CHECK(strstr(err, "-r '1e-300': expected users per second, from 0.001 to 1000000") != NULL);
    CHECK_INT(parse(&o, err, "-r", "0.001", NULL), CLI_RUN);
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

/* ---- the load shape (hopper(1), LOAD MODELS) ------------------------------ */

#define S 1000000ULL

TEST(shape_options_accepted)
{
    cli_opts_t o = {0};
    char err[512] = "";
    CHECK_INT(parse(&o, err, NULL), CLI_RUN);
    CHECK(!o.model_set && !o.arrival_rate_set && !o.stages_set && !o.max_users_set &&
          !o.arrivals_set);
    CHECK_INT(parse(&o, err, "--model", "open", "--arrival-rate", "200/s", "--max-users", "500",
                    "--arrivals", "poisson", "-u", "20", NULL), CLI_RUN);
    CHECK(o.model_set && o.model == MODEL_OPEN && o.arrival_rate == 200);
    CHECK(o.max_users_set && o.max_users == 500 && o.arrivals_set && o.arrivals == ARRIVALS_POISSON);
    CHECK_INT(parse(&o, err, "--arrival-rate", "30/m", "--arrivals", "even", NULL), CLI_RUN);
    CHECK(!o.model_set && o.arrival_rate_set && o.arrival_rate == 0.5);
    CHECK_INT(o.arrivals, ARRIVALS_EVEN);
    CHECK_INT(parse(&o, err, "--model", "closed", "--stages", "30s:100, 5m:100, 1m:500, 30s:0",
                    NULL), CLI_RUN);
    CHECK(o.model == MODEL_CLOSED && o.stages_set && o.stages_unit == STAGES_USERS);
    CHECK_INT(o.n_stages, 4);
    /* Given twice, the last wins (and the first is not leaked). */
    CHECK_INT(parse(&o, err, "--stages", "1m:5", "--stages", "1m:0-500/s, 5m:500/s, 30s:0/s",
                    "--model", "open", "-u", "10", "-r", "2", NULL), CLI_RUN);
    CHECK_INT(o.n_stages, 3);
    CHECK_INT(o.stages_unit, STAGES_RATE);
    CHECK(o.users_set && o.spawn_rate_set);     /* the pool's initial size and its ramp */
    CHECK_INT(parse(&o, err, "--stages", "1m:0-5/s", "--max-users", "3", NULL), CLI_RUN);
    cli_free(&o);
    CHECK(o.stages == NULL && o.n_stages == 0);
}

TEST(shape_options_refused)
{
    static const struct { const char *a[8]; const char *want; } cases[] = {
        { { "--model", "opne" }, "--model 'opne': expected closed or open" },
        { { "--arrival-rate", "200" }, "--arrival-rate: '200': a rate needs a unit: 200/s, 200/m "
                                       "or 200/h" },
        { { "--arrival-rate", "0/s" }, "--arrival-rate: '0/s': the rate must be greater than 0" },
        { { "--arrival-rate", "fast" }, "--arrival-rate: 'fast' is not a rate (such as 200/s, "
                                        "30/m or 0.5/h)" },
        { { "--arrival-rate", "5/d" }, "--arrival-rate: '5/d': unknown rate unit (use /s, /m or "
                                       "/h)" },
        { { "--arrival-rate", "1000001/s" }, "--arrival-rate: '1000001/s': above the limit of "
                                             "1000000 arrivals per second" },
        { { "--stages", "" }, "--stages: no stages (write DURATION:TARGET, ..., such as 30s:100, "
                              "5m:100 or 1m:0-500/s, 5m:500/s)" },
        { { "--stages", "30s:100, 0s:5" }, "--stages: stage 2 '0s:5': the duration must be "
                                           "greater than 0" },
        { { "--stages", "-5s:5" }, "--stages: stage 1 '-5s:5': '-5s': a duration cannot be "
                                   "negative" },
        { { "--stages", "30s:x" }, "--stages: stage 1 '30s:x': 'x' is not a number of users or a "
                                   "rate (such as 100, 0-100, 100/s or 0-100/s)" },
        { { "--stages", "30s:5, 1m:5/s" }, "--stages: stage 2 '1m:5/s' is in arrivals per second "
                                           "but stage 1 is in users: write every stage in one "
                                           "unit" },
        { { "--max-users", "0" }, "--max-users '0': expected a whole number of users from 1 to "
                                  "10000000" },
        { { "--max-users", "-4" }, "--max-users '-4': expected a whole number of users from 1 to "
                                   "10000000" },
        { { "--arrivals", "burst" }, "--arrivals 'burst': expected even or poisson" },
        { { "--model", "closed", "--arrival-rate", "5/s" },
          "--arrival-rate belongs to the open model, not to --model closed" },
        { { "--model", "closed", "--max-users", "5" }, "--max-users belongs to the open model "
                                                       "(the bound of its pool of users), not to "
                                                       "--model closed" },
        { { "--arrivals", "poisson", "--model", "closed" },
          "--arrivals belongs to the open model, not to --model closed" },
        { { "--arrival-rate", "5/s", "--stages", "1m:5/s" },
          "--arrival-rate and --stages: give one (stages set the arrival rate over time)" },
        { { "--model", "closed", "--stages", "1m:5/s" }, "--stages: these are arrivals per "
                                                         "second, which belong to the open model, "
                                                         "not to --model closed (the closed "
                                                         "model's stages are users, such as "
                                                         "30s:100)" },
        { { "--model", "open", "--stages", "1m:5" }, "--stages: these are users, but the open "
                                                     "model's stages are arrival rates: give "
                                                     "each a unit, such as 30s:100/s" },
        { { "--stages", "1m:5", "-u", "5" }, "-u and --stages: in the closed model the stages "
                                             "set the number of users; leave -u out" },
        { { "-r", "3", "--stages", "1m:5" }, "-r and --stages: in the closed model the stages "
                                             "set how fast users start and stop; leave -r out" },
        { { "--arrival-rate", "5/s", "-u", "9", "--max-users", "8" },
          "-u and --max-users: the users are more than max-users (the pool starts with -u users "
          "and grows up to --max-users)" },
        { { "--stages" }, "--stages needs a value" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cli_opts_t o = {0};
        char err[512] = "";
        const char *const *a = cases[i].a;
        CHECK_INT(parse(&o, err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]),
                  CLI_USAGE_ERROR);
        CHECK_STR(err, cases[i].want);
        /* cli_parse freed what it had allocated: nothing left to leak. */
        CHECK(o.stages == NULL && o.vars == NULL && o.checks == NULL);
    }
}

/* hopperfile text, then the command line over it: cli_apply's result
 * (0) or its message (want). */
static int shape_apply(const char *text, plan_t *p, char *err, const char *a0, ...)
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
    err[0] = '\0';
    if (hopperfile_parse("t.hopperfile", text, strlen(text), p, err, 512) != 0) {
        printf("#   parse: %s\n", err);
        return -2;
    }
    cli_opts_t o = {0};
    FILE *devnull = fopen("/dev/null", "w");
    cli_result_t r = cli_parse(argc, argv, &o, devnull, err, 512);
    fclose(devnull);
    if (r != CLI_RUN) {
        printf("#   options: %s\n", err);
        return -3;
    }
    int rc = cli_apply(&o, p, err, 512);
    cli_free(&o);
    return rc;
}

#define HOST "host = http://127.0.0.1:1\n"
#define TASK "[task a]\nrequest = GET /\n"

TEST(shape_command_line_over_the_plan)
{
    plan_t p;
    char err[512];
    static const char closed_stages[] = HOST "stages = 10s:5, 20s:5\n" TASK;
    static const char open_rate[] = HOST "model = open\narrival-rate = 50/s\nusers = 4\n"
                                    "max-users = 40\n" TASK;

    /* --stages replaces the plan's users, and sets the run time. */
    CHECK_INT(shape_apply(HOST "users = 50\nrun-time = 1h\n" TASK, &p, err, "--stages",
                          "1m:0-100, 30s:0", NULL), 0);
    CHECK_INT(p.n_stages, 2);
    CHECK_INT(p.users, 100);
    CHECK_INT(p.run_time_us, 90 * S);
    CHECK_INT(p.model, MODEL_CLOSED);
    plan_free(&p);
    /* ... unless -t is given. */
    CHECK_INT(shape_apply(closed_stages, &p, err, "--stages", "1m:3", "-t", "5s", NULL), 0);
    CHECK_INT(p.run_time_us, 5 * S);
    CHECK_INT(p.users, 3);
    plan_free(&p);
    CHECK_INT(shape_apply(closed_stages, &p, err, "-t", "7s", NULL), 0);
    CHECK_INT(p.run_time_us, 7 * S);
    CHECK_INT(p.n_stages, 2);
    plan_free(&p);
    /* -u over the plan's stages: a steady number of users instead, and the
     * stages' run time goes with them. */
    CHECK_INT(shape_apply(closed_stages, &p, err, "-u", "7", "-r", "2", NULL), 0);
    CHECK_INT(p.n_stages, 0);
    CHECK(p.stages == NULL);
    CHECK_INT(p.users, 7);
    CHECK_INT(p.run_time_us, 0);
    plan_free(&p);
    /* -r with the closed model's stages: they set the ramp. */
    CHECK_INT(shape_apply(closed_stages, &p, err, "-r", "2", NULL), -1);
    CHECK_STR(err, "-r: the stages of t.hopperfile set how fast users start and stop in the "
                   "closed model; leave -r out (or give -u for a steady number of users)");
    plan_free(&p);
    /* --arrival-rate makes it open and replaces the stages; the users the
     * stages had set go back to the default pool of 1. */
    CHECK_INT(shape_apply(closed_stages, &p, err, "--arrival-rate", "20/s", "--max-users", "9",
                          "--arrivals", "poisson", NULL), 0);
    CHECK_INT(p.model, MODEL_OPEN);
    CHECK(p.model_set && p.arrival_rate == 20 && p.n_stages == 0);
    CHECK_INT(p.users, 1);
    CHECK_INT(p.max_users, 9);
    CHECK_INT(p.arrivals, ARRIVALS_POISSON);
    CHECK_INT(p.run_time_us, 0);
    plan_free(&p);
    /* --model open alone: the plan's users stages are set aside, and a rate
     * is missing. */
    CHECK_INT(shape_apply(closed_stages, &p, err, "--model", "open", NULL), -1);
    CHECK_STR(err, "--model open: the open model needs an arrival rate: give --arrival-rate "
                   "RATE or --stages LIST (such as 200/s or 1m:0-100/s)");
    plan_free(&p);
    CHECK_INT(shape_apply(closed_stages, &p, err, "--model", "open", "--stages", "1m:0-9/s",
                          NULL), 0);
    CHECK(p.model == MODEL_OPEN && p.n_stages == 1 && p.stages[0].to == 9 && p.users == 1);
    CHECK_INT(p.run_time_us, 60 * S);
    plan_free(&p);
    /* Rate stages on a closed plan, the open model's options in it. */
    CHECK_INT(shape_apply(closed_stages, &p, err, "--stages", "1m:5/s", NULL), -1);
    CHECK_STR(err, "--stages: these are arrivals per second, which belong to the open model: "
                   "add --model open (the closed model's stages are users, such as 30s:100)");
    plan_free(&p);
    CHECK_INT(shape_apply(HOST TASK, &p, err, "--max-users", "5", NULL), -1);
    CHECK_STR(err, "--max-users belongs to the open model (the bound of its pool of users): add "
                   "--model open or --arrival-rate");
    plan_free(&p);
    CHECK_INT(shape_apply(HOST TASK, &p, err, "--arrivals", "poisson", NULL), -1);
    CHECK_STR(err, "--arrivals belongs to the open model: add --model open or --arrival-rate");
    plan_free(&p);

    /* The open plan: -u is its pool's initial size, allowed with stages. */
    CHECK_INT(shape_apply(open_rate, &p, err, "-u", "8", "--stages", "1m:0-100/s, 1m:100/s",
                          NULL), 0);
    CHECK(p.model == MODEL_OPEN && p.n_stages == 2 && !p.arrival_rate_set && p.arrival_rate == 0);
    CHECK_INT(p.users, 8);
    CHECK_INT(p.max_users, 40);
    CHECK_INT(p.run_time_us, 120 * S);
    plan_free(&p);
    CHECK_INT(shape_apply(open_rate, &p, err, "--arrival-rate", "7/s", NULL), 0);
    CHECK(p.arrival_rate == 7 && p.model == MODEL_OPEN);
    plan_free(&p);
    CHECK_INT(shape_apply(HOST "model = open\nstages = 1m:5/s\n" TASK, &p, err,
                          "--arrival-rate", "7/s", NULL), 0);
    CHECK(p.arrival_rate == 7 && p.n_stages == 0 && p.run_time_us == 0);
    plan_free(&p);
    CHECK_INT(shape_apply(open_rate, &p, err, "--stages", "1m:5", NULL), -1);
    CHECK_STR(err, "--stages: these are users, but t.hopperfile uses the open model, whose "
                   "stages are arrival rates: give each a unit, such as 30s:100/s (or add "
                   "--model closed)");
    plan_free(&p);
    CHECK_INT(shape_apply(open_rate, &p, err, "--max-users", "3", NULL), -1);
    CHECK_STR(err, "--max-users: max-users (3) is below the users (4): the pool starts with the "
                   "users and grows up to max-users");
    plan_free(&p);
    CHECK_INT(shape_apply(open_rate, &p, err, "-u", "41", NULL), -1);
    CHECK_STR(err, "-u: max-users (40) is below the users (41): the pool starts with the users "
                   "and grows up to max-users");
    plan_free(&p);
    /* --model closed sets the open model's settings of the plan aside. */
    CHECK_INT(shape_apply(open_rate, &p, err, "--model", "closed", NULL), 0);
    CHECK(p.model == MODEL_CLOSED && !p.arrival_rate_set && !p.max_users_set);
    CHECK_INT(p.users, 4);
    plan_free(&p);
    /* An open plan with no rate, and none given: the plan's model line. */
    CHECK_INT(shape_apply(HOST "\nmodel = open\n" TASK, &p, err, NULL), -1);
    CHECK_STR(err, "t.hopperfile:3: the open model needs an arrival rate: add 'arrival-rate = "
                   "200/s' or 'stages = ...' in arrivals per second (or give --arrival-rate or "
                   "--stages)");
    plan_free(&p);
    CHECK_INT(shape_apply(HOST "model = open\n" TASK, &p, err, "--arrival-rate", "1/s", NULL), 0);
    plan_free(&p);
    /* The plan's wait, once the command line makes the model open. */
    CHECK_INT(shape_apply(HOST "wait = constant 1s\n" TASK, &p, err, "--arrival-rate", "1/s",
                          NULL), 0);
    CHECK_INT(p.n_warnings, 1);
    if (p.n_warnings == 1)
        CHECK_STR(p.warnings[0], "t.hopperfile: warning: wait does not apply in the open model: "
                  "arrivals start the iterations, on their schedule (the steps' think times "
                  "still apply)");
    plan_free(&p);
}

TEST(default_workers_by_model)
{
    plan_t p;
    plan_init(&p);
    p.users = 10;
    /* Closed, no think: every core. */
    CHECK_INT(cli_default_workers(&p, 1024, 8), 8);
    p.wait.kind = WAIT_BETWEEN;
    p.wait.a_us = 1;
    CHECK_INT(cli_default_workers(&p, 1024, 8), 1);
    /* Open: the arrival rate bounds the load, not the (unused) wait. */
    p.model = MODEL_OPEN;
    p.wait.kind = WAIT_CONSTANT;
    p.wait.a_us = 0;
    CHECK_INT(cli_default_workers(&p, 1024, 8), 1);
    /* ... and the pool's bound, not -u, sizes the connections. */
    p.max_users = 5000;            /* 960 per process */
    CHECK_INT(cli_default_workers(&p, 1024, 8), 6);
    p.max_users = 0;               /* not worked out yet: the users */
    p.users = 2000;
    CHECK_INT(cli_default_workers(&p, 1024, 8), 3);
    plan_free(&p);
}

int main(void)
{
    check_prog = "cli";
    RUN(shape_options_accepted);
    RUN(shape_options_refused);
    RUN(shape_command_line_over_the_plan);
    RUN(default_workers_by_model);
    RUN(reports_and_checks);
    RUN(check_endpoints_known_at_start);
    RUN(defaults_and_basic_options);
    RUN(aliases);
    RUN(bad_values_are_usage_errors);
    RUN(help_and_version_exit_ok);
    RUN(command_line_overrides_the_file);
    return check_done();
}

/* cli: hopper's command line, and how it overrides the hopperfile.
 *
 * Every option is checked here, before anything runs: a bad value is a usage
 * error (exit status 2) with a message that names the option and the value. */
#ifndef HOPPER_CLI_H
#define HOPPER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/plan.h"
#include "plan/stages.h"


typedef struct {
    const char *hopperfile;        /* -f, default "hopperfile" */
    const char *host;              /* -H, NULL if not given */
    uint64_t users;                /* -u */
    double spawn_rate;             /* -r */
    uint64_t run_time_us;          /* -t */
    uint64_t stop_timeout_us;      /* --stop-timeout, default HOPPER_STOP_TIMEOUT_DEFAULT_S; 0: cancel */
    uint64_t print_interval_us;    /* --print-interval, default 2 s */
    uint64_t seed;                 /* --seed */
    int exit_code_on_error;        /* default 1 */
    bool users_set, spawn_rate_set, run_time_set, stop_timeout_set, seed_set;
    bool no_tui;                   /* --no-tui / --headless */
    bool only_summary;
    bool ascii;                    /* --ascii: no Unicode in the dashboard */
    bool no_color;                 /* --no-color (NO_COLOR in the environment too) */
    uint64_t refresh_us;           /* --refresh, default 500 ms */
    const char *logfile;           /* --logfile */
    const char *csv_prefix;        /* --csv */
    bool csv_full_history;         /* --csv-full-history */
    const char *json_path;         /* --json ("-": stdout) */
    const char *html_path;         /* --html */
    const char *faillog_path;      /* --log-failures */
    bool log_secrets;              /* --log-secrets */
    const char **checks;           /* --check, repeatable */
    size_t n_checks;
    unsigned workers;              /* --workers, 0: choose (see cli_default_workers) */
    const char *source_addrs;      /* --source-addrs */
    const char *http_client;       /* --http-client: "auto" (default), "native", "curl" */
    bool insecure;                 /* --insecure: do not verify TLS certificates */
    bool no_retry;                 /* --no-retry: a request never goes twice */
    const char *ca_file;           /* --cacert */
    const char *cert_file;         /* --cert */
    const char *key_file;          /* --key */
    bool no_tls_resume;            /* --no-tls-resume */
    bool http2;                    /* --http2 (else the plan's protocol) */
    plan_var_t *vars;              /* --var NAME=VALUE, repeatable (owned; cli_free) */
    size_t n_vars;
    /* The load shape (hopper(1), LOAD MODELS). --arrival-rate implies the
     * open model (model_set stays false unless --model is given). */
    load_model_t model;            /* --model closed|open */
    double arrival_rate;           /* --arrival-rate, arrivals per second */
    plan_stage_t *stages;          /* --stages (owned; cli_free) */
    size_t n_stages;
    stages_unit_t stages_unit;     /* what they count: users or arrivals per second */
    uint64_t max_users;            /* --max-users */
    arrivals_kind_t arrivals;      /* --arrivals even|poisson */
    bool model_set, arrival_rate_set, stages_set, max_users_set, arrivals_set;
    const char *metrics_listen;    /* --metrics-listen ADDR:PORT (metrics/metrics.h) */
    uint64_t metrics_linger_us;    /* --metrics-linger: serve the final numbers this long */
    const char *control_path;      /* --control PATH (control/control.h) */
    bool mpi;                      /* --mpi: started by mpirun or srun (cluster/cluster.h) */
    unsigned ranks;                /* --ranks N: start N user ranks with MPI_Comm_spawn */
    const char *hostfile;          /* --hostfile FILE: where --ranks start */
    uint64_t spawn_timeout_us;     /* --spawn-timeout, default HOPPER_SPAWN_TIMEOUT_DEFAULT_S */
    bool spawn_timeout_set;
} cli_opts_t;

typedef enum { CLI_RUN, CLI_EXIT_OK, CLI_USAGE_ERROR } cli_result_t;

/* Parses argv. CLI_EXIT_OK: --help or --version was printed to out.
 * CLI_USAGE_ERROR: err holds the message. */
cli_result_t cli_parse(int argc, char **argv, cli_opts_t *o, FILE *out, char *err, size_t errlen);

/* Lays the command line over the plan (the command line wins) and checks the
 * result: a host must be known from one or the other, and each --check that
 * names an endpoint must name one of the plan's. The load shape: --model or
 * --arrival-rate set the model; --stages replaces the plan's stages and its
 * arrival-rate, --arrival-rate the plan's stages, and -u the plan's stages
 * in the closed model; the stages' unit must match the model, the open
 * model needs a rate from one or the other, the open model's keys are
 * refused in the closed one, and -r with the closed model's stages is
 * refused (they set the ramp). With stages the run time is their sum unless
 * -t is given, and in the closed model the users are their peak. 0 or -1
 * with err. */
int cli_apply(const cli_opts_t *o, plan_t *plan, char *err, size_t errlen);

void cli_usage(FILE *f);

/* The number of worker processes when --workers is not given: enough for
 * every user to have a connection within the open-file limit per process
 * (fd_per_process), and every core when users do not think between tasks
 * (the load is then bound by CPU, not by users); 1 otherwise. In the open
 * model the users are the pool's bound (max_users, or users while main has
 * not worked it out), and the arrival rate, not think times, bounds the
 * load: enough for the pool's connections, no more. */
unsigned cli_default_workers(const plan_t *plan, uint64_t fd_per_process, unsigned cores);

/* Frees what cli_parse allocated (the checks, the vars, the stages). */
void cli_free(cli_opts_t *o);

#endif

/* cli: see include/plan/cli.h. */
#include "plan/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "plan/checks.h"
#include "util/duration.h"
#include "util/url.h"
#include "util/xalloc.h"

enum {
    OPT_STOP_TIMEOUT = 1000,
    OPT_NO_TUI,
    OPT_ONLY_SUMMARY,
    OPT_PRINT_INTERVAL,
    OPT_EXIT_CODE,
    OPT_SEED,
    OPT_ASCII,
    OPT_NO_COLOR,
    OPT_REFRESH,
    OPT_LOGFILE,
    OPT_CSV,
    OPT_CSV_FULL,
    OPT_JSON,
    OPT_HTML,
    OPT_LOG_FAILURES,
    OPT_LOG_SECRETS,
    OPT_CHECK,
    OPT_WORKERS,
    OPT_SOURCE_ADDRS,
    OPT_HTTP_CLIENT,
    OPT_INSECURE,
    OPT_NO_RETRY,
    OPT_VAR,
    OPT_CACERT,
    OPT_CERT,
    OPT_KEY,
    OPT_NO_TLS_RESUME,
    OPT_HTTP2,
    OPT_MODEL,
    OPT_ARRIVAL_RATE,
    OPT_STAGES,
    OPT_MAX_USERS,
    OPT_ARRIVALS,
    OPT_METRICS_LISTEN,
    OPT_METRICS_LINGER,
    OPT_CONTROL,
    OPT_MPI,
    OPT_RANKS,
    OPT_HOSTFILE,
    OPT_SPAWN_TIMEOUT,
};

static const struct option long_options[] = {
    {"hopperfile", required_argument, NULL, 'f'},
    {"host", required_argument, NULL, 'H'},
    {"users", required_argument, NULL, 'u'},
    {"spawn-rate", required_argument, NULL, 'r'},
    {"hatch-rate", required_argument, NULL, 'r'},
    {"run-time", required_argument, NULL, 't'},
    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
    {"no-tui", no_argument, NULL, OPT_NO_TUI},
    {"headless", no_argument, NULL, OPT_NO_TUI},
    {"only-summary", no_argument, NULL, OPT_ONLY_SUMMARY},
    {"print-interval", required_argument, NULL, OPT_PRINT_INTERVAL},
    {"exit-code-on-error", required_argument, NULL, OPT_EXIT_CODE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"ascii", no_argument, NULL, OPT_ASCII},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {"refresh", required_argument, NULL, OPT_REFRESH},
    {"logfile", required_argument, NULL, OPT_LOGFILE},
    {"csv", required_argument, NULL, OPT_CSV},
    {"csv-full-history", no_argument, NULL, OPT_CSV_FULL},
    {"json", required_argument, NULL, OPT_JSON},
    {"html", required_argument, NULL, OPT_HTML},
    {"log-failures", required_argument, NULL, OPT_LOG_FAILURES},
    {"log-secrets", no_argument, NULL, OPT_LOG_SECRETS},
    {"check", required_argument, NULL, OPT_CHECK},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"source-addrs", required_argument, NULL, OPT_SOURCE_ADDRS},
    {"http-client", required_argument, NULL, OPT_HTTP_CLIENT},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"no-retry", no_argument, NULL, OPT_NO_RETRY},
    {"cacert", required_argument, NULL, OPT_CACERT},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"no-tls-resume", no_argument, NULL, OPT_NO_TLS_RESUME},
    {"http2", no_argument, NULL, OPT_HTTP2},
    {"var", required_argument, NULL, OPT_VAR},
    {"model", required_argument, NULL, OPT_MODEL},
    {"arrival-rate", required_argument, NULL, OPT_ARRIVAL_RATE},
    {"stages", required_argument, NULL, OPT_STAGES},
    {"max-users", required_argument, NULL, OPT_MAX_USERS},
    {"arrivals", required_argument, NULL, OPT_ARRIVALS},
    {"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
    {"metrics-linger", required_argument, NULL, OPT_METRICS_LINGER},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"mpi", no_argument, NULL, OPT_MPI},
    {"ranks", required_argument, NULL, OPT_RANKS},
    {"hostfile", required_argument, NULL, OPT_HOSTFILE},
    {"spawn-timeout", required_argument, NULL, OPT_SPAWN_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void cli_usage(FILE *f)
{
    fputs(
        "usage: hopper [-f HOPPERFILE] [-H URL] [-u USERS] [-r RATE] [-t TIME] [options]\n"
        "       hopper attach PATH [--ascii] [--no-color]\n"
        "\n"
        "Load-tests an HTTP service with simulated users described in a hopperfile.\n"
        "\n"
        "  -f, --hopperfile FILE      the test plan (default: ./hopperfile)\n"
        "  -H, --host URL             base URL, e.g. http://127.0.0.1:8082 (overrides 'host')\n"
        "  -u, --users N              peak number of concurrent users (overrides 'users')\n"
        "  -r, --spawn-rate RATE      users started (or stopped) per second; --hatch-rate too\n"
        "  -t, --run-time TIME        stop after TIME (30s, 10m, 1h30m; default: until stopped)\n"
        "      --stop-timeout TIME    at the stop, let requests in flight finish for up to TIME\n"
        "                             (default " HOPPER_STR(HOPPER_STOP_TIMEOUT_DEFAULT_S) "s; 0 cancels them at once)\n"
        "      --no-tui, --headless   print tables instead of the dashboard (automatic when\n"
        "                             stdin or stdout is not a terminal)\n"
        "      --only-summary         print only the final summary\n"
        "      --print-interval TIME  how often --no-tui prints the table (default 2s)\n"
        "      --exit-code-on-error N exit status when any request failed (default 1)\n"
        "      --seed N               seed for task picks and wait times (default: random)\n"
        "      --var NAME=VALUE       set {{NAME}} in the hopperfile's templates (wins over\n"
        "                             its 'var = NAME VALUE'); repeatable\n"
        "      --logfile FILE         append hopper's own messages to FILE as well\n"
        "\n"
        "Load shape (see LOAD MODELS in hopper(1)):\n"
        "      --model closed|open    closed (default): users that each wait for their answer,\n"
        "                             then think, then ask again; open: iterations arrive at a\n"
        "                             rate whatever the answers do (coordinated omission)\n"
        "      --arrival-rate RATE    the open model's arrivals, e.g. 200/s, 30/m (implies\n"
        "                             --model open); each is run by a free user of a pool\n"
        "      --stages LIST          a shape, k6-style: 30s:100, 5m:100, 1m:0 in users (closed)\n"
        "                             or 1m:0-500/s, 5m:500/s in arrivals (open); replaces the\n"
        "                             plan's; the run time is their sum unless -t is given\n"
        "      --max-users N          the open model's pool bound: an arrival that finds no\n"
        "                             free user when the pool is full is dropped and counted\n"
        "                             (default: what the open-file limit allows); -u is the\n"
        "                             pool's initial size\n"
        "      --arrivals KIND        the open model's spacing: even (default) or poisson\n"
        "\n"
        "Scale:\n"
        "      --workers N            run the users in N worker processes (default: one, or\n"
        "                             enough for the open-file limit, or every core when\n"
        "                             users do not wait between tasks)\n"
        "      --http-client KIND     auto (default: hopper's own client for http:// and\n"
        "                             https:// to one origin, libcurl otherwise), native, or curl\n"
        "      --http2                speak HTTP/2 (h2 by ALPN over https://, prior knowledge\n"
        "                             over http://); the plan's 'protocol = http2' does the same\n"
        "      --insecure             do not verify TLS certificates (https://); verification\n"
        "                             is on by default, with the system's CA store\n"
        "      --cacert FILE          trust the CA certificates in FILE (PEM) instead\n"
        "      --cert FILE            a client certificate (PEM) for servers that ask for one\n"
        "      --key FILE             its private key (PEM; default: in the --cert file)\n"
        "      --no-tls-resume        a full TLS handshake for every new connection (by default\n"
        "                             a user's next connection resumes its last session)\n"
        "      --no-retry             never send a request twice: no retry of a GET, PUT, ...\n"
        "                             whose kept-alive connection closed unanswered (POST and\n"
        "                             PATCH are never retried)\n"
        "      --source-addrs LIST    local addresses to connect from, e.g.\n"
        "                             127.0.0.1-127.0.0.4 (past ~28,000 connections to one\n"
        "                             server address the ephemeral ports run out); in an MPI\n"
        "                             run HOST=LIST;HOST=LIST gives each host its own, and\n"
        "                             ranks on one host share its list\n"
        "\n"
        "Many machines (MPI; hopper(1), MANY MACHINES):\n"
        "      --ranks N              conduct from here and start N user ranks with MPI (the\n"
        "                             dashboard stays in this terminal); each rank runs\n"
        "                             --workers processes (default: enough for its share of\n"
        "                             the users within the open-file limit)\n"
        "      --hostfile FILE        where --ranks start (Open MPI's hostfile: HOST slots=N)\n"
        "      --spawn-timeout TIME   how long --ranks waits for MPI to start them (default\n"
        "                             " HOPPER_STR(HOPPER_SPAWN_TIMEOUT_DEFAULT_S) "s); a host ssh cannot reach ends it here\n"
        "      --mpi                  started by mpirun or srun: rank 0 conducts, the other\n"
        "                             ranks run users (mpirun -np N+1 hopper --mpi ...)\n"
        "\n"
        "Reports (written on every way out: run time, q, Ctrl-C, SIGTERM, SIGHUP):\n"
        "      --csv PREFIX           Locust-compatible PREFIX_stats.csv, _stats_history.csv,\n"
        "                             _failures.csv, _exceptions.csv, rewritten every second\n"
        "      --csv-full-history     a history row per endpoint too\n"
        "      --json FILE            a JSON summary at the end (- for stdout)\n"
        "      --html FILE            a self-contained HTML report with charts\n"
        "      --log-failures FILE    one JSON line per failed request (secrets redacted)\n"
        "      --log-secrets          do not redact Authorization, Cookie, ... in that log\n"
        "      --check EXPR           pass/fail gate, repeatable: p95<300ms, fail-ratio<1%,\n"
        "                             rps>100, /api/x:p99<1s; a failed check exits 3\n"
        "      --metrics-listen ADDR:PORT  serve live metrics for Prometheus at\n"
        "                             http://ADDR:PORT/metrics (127.0.0.1:9646, [::1]:9646)\n"
        "      --metrics-linger TIME  after the run and its reports, keep serving the final\n"
        "                             numbers for TIME (for a last scrape); Ctrl-C or q ends it\n"
        "\n"
        "Dashboard (the default when stdin and stdout are a terminal):\n"
        "      --refresh TIME         how often the dashboard redraws (default 500ms)\n"
        "      --ascii                ASCII charts instead of Unicode blocks\n"
        "      --no-color             no colours (NO_COLOR in the environment does the same)\n"
        "      --control PATH         serve the test on a Unix socket (mode 0600, this user\n"
        "                             and root only): `hopper attach PATH` shows its\n"
        "                             dashboard from another terminal and steers it; q there\n"
        "                             detaches, X then y stops the test\n"
        "  keys: w/W s/S users +-1/10, +/- spawn rate, u/r type them, p pause, z reset stats,\n"
        "        f failures, ? help, q stop; in the open model +/- change the arrival rate in\n"
        "        1-2-5 steps and r types one; during stages a key takes over until the next stage\n"
        "  -h, --help                 this help\n"
        "  -V, --version              the version\n"
        "\n"
        "Exit status: 0 clean run, 1 some request failed (--exit-code-on-error),\n"
        "2 bad usage or a bad hopperfile, 3 a check failed, 4 a report could not be written,\n"
        "5 an MPI rank was lost during the run.\n"
        "See hopper(1) and hopperfile(5).\n",
        f);
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v) || v < HOPPER_MIN_SPAWN_RATE || v > HOPPER_MAX_SPAWN_RATE)
        return -1;
    *out = v;
    return 0;
}

/* What the load-shape options say among themselves, before the plan is read.
 * What they say against the plan is cli_apply's. */
static cli_result_t check_shape_options(const cli_opts_t *o, char *err, size_t errlen)
{
    bool closed = o->model_set && o->model == MODEL_CLOSED;
    bool open = (o->model_set && o->model == MODEL_OPEN) || o->arrival_rate_set;
    bool user_stages = o->stages_set && o->stages_unit == STAGES_USERS;
    bool rate_stages = o->stages_set && o->stages_unit == STAGES_RATE;
    const char *msg = NULL;
    if (closed && o->arrival_rate_set)
        msg = "--arrival-rate belongs to the open model, not to --model closed";
    else if (closed && o->max_users_set)
        msg = "--max-users belongs to the open model (the bound of its pool of users), not to "
              "--model closed";
    else if (closed && o->arrivals_set)
        msg = "--arrivals belongs to the open model, not to --model closed";
    else if (o->arrival_rate_set && o->stages_set)
        msg = "--arrival-rate and --stages: give one (stages set the arrival rate over time)";
    else if (closed && rate_stages)
        msg = "--stages: these are arrivals per second, which belong to the open model, not "
              "to --model closed (the closed model's stages are users, such as 30s:100)";
    else if (open && user_stages)
        msg = "--stages: these are users, but the open model's stages are arrival rates: "
              "give each a unit, such as 30s:100/s";
    else if (user_stages && o->users_set)
        msg = "-u and --stages: in the closed model the stages set the number of users; "
              "leave -u out";
    else if (user_stages && o->spawn_rate_set)
        msg = "-r and --stages: in the closed model the stages set how fast users start and "
              "stop; leave -r out";
    else if (o->max_users_set && o->users_set && o->users > o->max_users)
        msg = "-u and --max-users: the users are more than max-users (the pool starts with -u "
              "users and grows up to --max-users)";
    if (msg == NULL)
        return CLI_RUN;
    snprintf(err, errlen, "%s", msg);
    return CLI_USAGE_ERROR;
}

static cli_result_t parse_args(int argc, char **argv, cli_opts_t *o, FILE *out, char *err,
                               size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->hopperfile = "hopperfile";
    o->print_interval_us = 2000000;
    o->stop_timeout_us = HOPPER_STOP_TIMEOUT_DEFAULT_S * 1000000ULL;
    o->refresh_us = 500000;
    o->exit_code_on_error = HOPPER_EXIT_FAILURES;
    optind = 0;      /* GNU: start over, so tests can parse several times */
    opterr = 0;
    int c;
    const char *why = NULL;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":f:H:u:r:t:hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'f':
            o->hopperfile = optarg;
            break;
        case 'H':
            if (url_check_base(optarg, &why) != 0) {
                snprintf(err, errlen, "-H '%.200s': %s", optarg, why);
                return CLI_USAGE_ERROR;
            }
            o->host = optarg;
            break;
        case 'u':
            if (parse_count(optarg, HOPPER_MAX_USERS, &o->users) != 0 || o->users == 0) {
                snprintf(err, errlen, "-u '%.40s': expected a whole number of users from 1 to %llu",
                         optarg, HOPPER_MAX_USERS);
                return CLI_USAGE_ERROR;
            }
            o->users_set = true;
            break;
        case 'r':
            if (parse_rate(optarg, &o->spawn_rate) != 0) {
                snprintf(err, errlen, "-r '%.40s': expected users per second, from %g to %.0f (e.g. 10 or 0.5)",
                         optarg, HOPPER_MIN_SPAWN_RATE, HOPPER_MAX_SPAWN_RATE);
                return CLI_USAGE_ERROR;
            }
            o->spawn_rate_set = true;
            break;
        case 't':
            why = NULL;
            if (duration_parse(optarg, &o->run_time_us, &why) != 0) {
                snprintf(err, errlen, "-t '%.40s': %s", optarg, why ? why : "bad duration");
                return CLI_USAGE_ERROR;
            }
            if (o->run_time_us == 0) {
                snprintf(err, errlen, "-t '%.40s': the run time must be above 0", optarg);
                return CLI_USAGE_ERROR;
            }
            o->run_time_set = true;
            break;
        case OPT_STOP_TIMEOUT:
            why = NULL;
            if (duration_parse(optarg, &o->stop_timeout_us, &why) != 0) {
                snprintf(err, errlen, "--stop-timeout '%.40s': %s", optarg, why ? why : "bad duration");
                return CLI_USAGE_ERROR;
            }
            o->stop_timeout_set = true;
            break;
        case OPT_NO_TUI:
            o->no_tui = true;
            break;
        case OPT_ONLY_SUMMARY:
            o->only_summary = true;
            break;
        case OPT_PRINT_INTERVAL:
            if (duration_parse(optarg, &o->print_interval_us, &why) != 0 || o->print_interval_us < 100000) {
                snprintf(err, errlen, "--print-interval '%.40s': expected a duration of at least 100ms", optarg);
                return CLI_USAGE_ERROR;
            }
            break;
        case OPT_EXIT_CODE:
            if (parse_count(optarg, 255, &v) != 0) {
                snprintf(err, errlen, "--exit-code-on-error '%.40s': expected a number from 0 to 255", optarg);
                return CLI_USAGE_ERROR;
            }
            o->exit_code_on_error = (int)v;
            break;
        case OPT_SEED:
            if (parse_count(optarg, UINT64_MAX, &o->seed) != 0) {
                snprintf(err, errlen, "--seed '%.40s': expected a whole number", optarg);
                return CLI_USAGE_ERROR;
            }
            o->seed_set = true;
            break;
        case OPT_ASCII:
            o->ascii = true;
            break;
        case OPT_NO_COLOR:
            o->no_color = true;
            break;
        case OPT_REFRESH:
            if (duration_parse(optarg, &o->refresh_us, &why) != 0 || o->refresh_us < 50000 ||
                o->refresh_us > 60000000) {
                snprintf(err, errlen, "--refresh '%.40s': expected a duration from 50ms to 1m", optarg);
                return CLI_USAGE_ERROR;
            }
            break;
        case OPT_LOGFILE:
            o->logfile = optarg;
            break;
        case OPT_CSV:
            o->csv_prefix = optarg;
            break;
        case OPT_CSV_FULL:
            o->csv_full_history = true;
            break;
        case OPT_JSON:
            o->json_path = optarg;
            break;
        case OPT_HTML:
            o->html_path = optarg;
            break;
        case OPT_LOG_FAILURES:
            o->faillog_path = optarg;
            break;
        case OPT_LOG_SECRETS:
            o->log_secrets = true;
            break;
        case OPT_VAR: {
            const char *eq = strchr(optarg, '=');
            size_t n = eq ? (size_t)(eq - optarg) : 0;
            bool ok = n > 0 && !(optarg[0] >= '0' && optarg[0] <= '9');
            for (size_t i = 0; ok && i < n; i++) {
                char ch = optarg[i];
                ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '_' || ch == '-';
            }
            if (!ok) {
                snprintf(err, errlen, "--var '%s': expected NAME=VALUE, NAME of letters, digits, "
                         "'-' and '_' (not starting with a digit)", optarg);
                return CLI_USAGE_ERROR;
            }
            for (size_t i = 0; i < o->n_vars; i++)
                if (strlen(o->vars[i].name) == n && strncmp(o->vars[i].name, optarg, n) == 0) {
                    snprintf(err, errlen, "--var '%.*s' is given twice", (int)n, optarg);
                    return CLI_USAGE_ERROR;
                }
            o->vars = xrealloc(o->vars, (o->n_vars + 1) * sizeof *o->vars);
            o->vars[o->n_vars++] = (plan_var_t){ xstrndup(optarg, n), xstrdup(eq + 1), 0 };
            break;
        }
        case OPT_CHECK: {
            check_t parsed;
            if (check_parse(optarg, &parsed, err, errlen) != 0)
                return CLI_USAGE_ERROR;
            check_free(&parsed);
            o->checks = xrealloc(o->checks, (o->n_checks + 1) * sizeof *o->checks);
            o->checks[o->n_checks++] = optarg;
            break;
        }
        case OPT_WORKERS:
            if (parse_count(optarg, HOPPER_MAX_WORKERS, &v) != 0 || v == 0) {
                snprintf(err, errlen, "--workers '%.40s': expected a number from 1 to %d", optarg,
                         HOPPER_MAX_WORKERS);
                return CLI_USAGE_ERROR;
            }
            o->workers = (unsigned)v;
            break;
        case OPT_INSECURE:
            o->insecure = true;
            break;
        case OPT_NO_RETRY:
            o->no_retry = true;
            break;
        case OPT_CACERT:
            o->ca_file = optarg;
            break;
        case OPT_CERT:
            o->cert_file = optarg;
            break;
        case OPT_KEY:
            o->key_file = optarg;
            break;
        case OPT_NO_TLS_RESUME:
            o->no_tls_resume = true;
            break;
        case OPT_HTTP2:
            o->http2 = true;
            break;
        case OPT_SOURCE_ADDRS:
            o->source_addrs = optarg;
            break;
        case OPT_MODEL:
            if (strcmp(optarg, "closed") == 0)
                o->model = MODEL_CLOSED;
            else if (strcmp(optarg, "open") == 0)
                o->model = MODEL_OPEN;
            else {
                snprintf(err, errlen, "--model '%.40s': expected closed or open", optarg);
                return CLI_USAGE_ERROR;
            }
            o->model_set = true;
            break;
        case OPT_ARRIVAL_RATE: {
            char problem[256];
            if (stages_parse_rate(optarg, &o->arrival_rate, problem, sizeof problem) != 0) {
                snprintf(err, errlen, "--arrival-rate: %s", problem);
                return CLI_USAGE_ERROR;
            }
            o->arrival_rate_set = true;
            break;
        }
        case OPT_STAGES: {
            char problem[512];
            free(o->stages);
            o->stages = NULL;
            o->n_stages = 0;
            if (stages_parse(optarg, &o->stages, &o->n_stages, &o->stages_unit, problem,
                             sizeof problem) != 0) {
                snprintf(err, errlen, "--stages: %s", problem);
                return CLI_USAGE_ERROR;
            }
            o->stages_set = true;
            break;
        }
        case OPT_MAX_USERS:
            if (parse_count(optarg, HOPPER_MAX_USERS, &o->max_users) != 0 || o->max_users == 0) {
                snprintf(err, errlen, "--max-users '%.40s': expected a whole number of users "
                         "from 1 to %llu", optarg, HOPPER_MAX_USERS);
                return CLI_USAGE_ERROR;
            }
            o->max_users_set = true;
            break;
        case OPT_ARRIVALS:
            if (strcmp(optarg, "even") == 0)
                o->arrivals = ARRIVALS_EVEN;
            else if (strcmp(optarg, "poisson") == 0)
                o->arrivals = ARRIVALS_POISSON;
            else {
                snprintf(err, errlen, "--arrivals '%.40s': expected even or poisson", optarg);
                return CLI_USAGE_ERROR;
            }
            o->arrivals_set = true;
            break;
        case OPT_MPI:
            o->mpi = true;
            break;
        case OPT_RANKS:
            if (parse_count(optarg, HOPPER_MAX_RANKS, &v) != 0 || v == 0) {
                snprintf(err, errlen, "--ranks '%.40s': expected a number from 1 to %d", optarg,
                         HOPPER_MAX_RANKS);
                return CLI_USAGE_ERROR;
            }
            o->ranks = (unsigned)v;
            break;
        case OPT_SPAWN_TIMEOUT:
            why = NULL;
            if (duration_parse(optarg, &o->spawn_timeout_us, &why) != 0 || o->spawn_timeout_us == 0) {
                snprintf(err, errlen, "--spawn-timeout '%.40s': %s", optarg,
                         why ? why : "expected a time above 0, e.g. 30s");
                return CLI_USAGE_ERROR;
            }
            o->spawn_timeout_set = true;
            break;
        case OPT_HOSTFILE:
            /* Its lines are checked by main (cluster_check_hostfile). */
            o->hostfile = optarg;
            break;
        case OPT_CONTROL:
            /* Checked by main (control_path_check), before anything runs. */
            o->control_path = optarg;
            break;
        case OPT_METRICS_LISTEN:
            /* Checked by main (metrics_parse_listen), before anything runs. */
            o->metrics_listen = optarg;
            break;
        case OPT_METRICS_LINGER:
            why = NULL;
            if (duration_parse(optarg, &o->metrics_linger_us, &why) != 0) {
                snprintf(err, errlen, "--metrics-linger '%.40s': %s", optarg, why ? why : "bad duration");
                return CLI_USAGE_ERROR;
            }
            break;
        case OPT_HTTP_CLIENT:
            if (strcmp(optarg, "auto") && strcmp(optarg, "native") && strcmp(optarg, "curl")) {
                snprintf(err, errlen, "--http-client '%.40s': expected auto, native or curl", optarg);
                return CLI_USAGE_ERROR;
            }
            o->http_client = optarg;
            break;
        case 'h':
            cli_usage(out);
            return CLI_EXIT_OK;
        case 'V':
            fprintf(out, "hopper %s\n", HOPPER_VERSION);
            return CLI_EXIT_OK;
        case ':':
            snprintf(err, errlen, "%s needs a value", argv[optind - 1]);
            return CLI_USAGE_ERROR;
        default:
            if (optopt)
                snprintf(err, errlen, "unknown option -%c", optopt);
            else
                snprintf(err, errlen, "unknown option %.100s", argv[optind - 1]);
            return CLI_USAGE_ERROR;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%.100s'", argv[optind]);
        return CLI_USAGE_ERROR;
    }
    if (o->csv_full_history && !o->csv_prefix) {
        snprintf(err, errlen, "--csv-full-history needs --csv PREFIX");
        return CLI_USAGE_ERROR;
    }
    if (o->metrics_linger_us && !o->metrics_listen) {
        snprintf(err, errlen, "--metrics-linger needs --metrics-listen ADDR:PORT");
        return CLI_USAGE_ERROR;
    }
    if (o->hostfile && !o->ranks) {
        snprintf(err, errlen, "--hostfile needs --ranks N (under mpirun, give mpirun the hostfile)");
        return CLI_USAGE_ERROR;
    }
    if (o->spawn_timeout_set && !o->ranks) {
        snprintf(err, errlen, "--spawn-timeout needs --ranks N");
        return CLI_USAGE_ERROR;
    }
    if (!o->spawn_timeout_set)
        o->spawn_timeout_us = HOPPER_SPAWN_TIMEOUT_DEFAULT_S * 1000000ull;
    if (o->mpi && o->ranks) {
        snprintf(err, errlen, "--mpi and --ranks do not go together: --mpi is for a hopper started "
                 "by mpirun or srun, --ranks starts the ranks itself");
        return CLI_USAGE_ERROR;
    }
    if (o->log_secrets && !o->faillog_path) {
        snprintf(err, errlen, "--log-secrets needs --log-failures FILE");
        return CLI_USAGE_ERROR;
    }
    return check_shape_options(o, err, errlen);
}

cli_result_t cli_parse(int argc, char **argv, cli_opts_t *o, FILE *out, char *err, size_t errlen)
{
    cli_result_t r = parse_args(argc, argv, o, out, err, errlen);
    /* main exits unless the run goes on: what was allocated on the way
     * (--var, --check, --stages) goes now, so nothing leaks. */
    if (r != CLI_RUN)
        cli_free(o);
    return r;
}

unsigned cli_default_workers(const plan_t *plan, uint64_t fd_per_process, unsigned cores)
{
    uint64_t per = fd_per_process > HOPPER_FD_RESERVE ? fd_per_process - HOPPER_FD_RESERVE : 1;
    bool open = plan->model == MODEL_OPEN;
    uint64_t users = open && plan->max_users > plan->users ? plan->max_users : plan->users;
    uint64_t for_fds = (users + per - 1) / per;
    /* The plan's wait does not apply in the open model: its load is set by
     * the arrival rate, not by how little users think. */
    bool no_think = !open && plan->wait.kind == WAIT_CONSTANT && plan->wait.a_us == 0;
    uint64_t w = no_think && cores > for_fds ? cores : for_fds;
    if (w < 1)
        w = 1;
    if (w > HOPPER_MAX_WORKERS)
        w = HOPPER_MAX_WORKERS;
    return (unsigned)w;
}

void cli_free(cli_opts_t *o)
{
    for (size_t i = 0; i < o->n_vars; i++) {
        free(o->vars[i].name);
        free(o->vars[i].value);
    }
    free(o->vars);
    o->vars = NULL;
    o->n_vars = 0;
    free(o->checks);
    o->checks = NULL;
    o->n_checks = 0;
    free(o->stages);
    o->stages = NULL;
    o->n_stages = 0;
}

/* Drops the plan's stages (another shape replaces them) and what they had
 * set: the run time unless one was given, the users unless given. */
static void drop_stages(const cli_opts_t *o, plan_t *plan)
{
    if (plan->n_stages == 0)
        return;
    free(plan->stages);
    plan->stages = NULL;
    plan->n_stages = 0;
    if (!plan->run_time_set)
        plan->run_time_us = 0;
    if (!plan->users_set && !o->users_set)
        plan->users = 1;
}

static void add_warning(plan_t *plan, const char *path, const char *msg)
{
    size_t n = strlen(path) + strlen(msg) + 16;
    char *w = xmalloc(n);
    snprintf(w, n, "%s: warning: %s", path, msg);
    plan->warnings = xrealloc(plan->warnings, (plan->n_warnings + 1) * sizeof *plan->warnings);
    plan->warnings[plan->n_warnings++] = w;
}

/* The load shape of the command line over the plan's (cli_apply). The
 * plan alone passed hopperfile_parse's checks: its stages are in its
 * model's unit and its keys belong to its model. A model chosen here sets
 * the plan's settings of the other model aside; --stages, --arrival-rate
 * and (closed) -u replace the plan's shape. */
static int apply_shape(const cli_opts_t *o, plan_t *plan, char *err, size_t errlen)
{
    const char *path = plan->path ? plan->path : o->hopperfile;
    load_model_t model = o->model_set ? o->model
                       : o->arrival_rate_set ? MODEL_OPEN : plan->model;
    const char *switched = model == plan->model ? NULL
                         : o->model_set ? (model == MODEL_OPEN ? "--model open" : "--model closed")
                         : "--arrival-rate";
    if (switched != NULL) {
        drop_stages(o, plan);
        plan->arrival_rate = 0;
        plan->arrival_rate_set = false;
        plan->max_users = 0;
        plan->max_users_set = false;
        plan->arrivals = ARRIVALS_EVEN;
        plan->arrivals_set = false;
    }
    stages_unit_t unit = model == MODEL_OPEN ? STAGES_RATE : STAGES_USERS;
    if (o->stages_set) {
        free(plan->stages);
        plan->stages = stages_copy(o->stages, o->n_stages);
        plan->n_stages = o->n_stages;
        unit = o->stages_unit;
        plan->arrival_rate = 0;
        plan->arrival_rate_set = false;
        if (!o->run_time_set)
            plan->run_time_us = stages_total_us(plan->stages, plan->n_stages);
    } else if (o->arrival_rate_set) {
        drop_stages(o, plan);
        plan->arrival_rate = o->arrival_rate;
        plan->arrival_rate_set = true;
    } else if (model == MODEL_CLOSED && o->users_set) {
        drop_stages(o, plan);   /* -u: a steady number of users instead */
    }
    bool user_stages = plan->n_stages > 0 && unit == STAGES_USERS;
    bool rate_stages = plan->n_stages > 0 && unit == STAGES_RATE;
    if (o->max_users_set) {
        plan->max_users = o->max_users;
        plan->max_users_set = true;
    }
    if (o->arrivals_set) {
        plan->arrivals = o->arrivals;
        plan->arrivals_set = true;
    }

    if (model == MODEL_CLOSED) {
        err[0] = '\0';
        if (rate_stages)
            snprintf(err, errlen, "--stages: these are arrivals per second, which belong to the "
                     "open model: add --model open (the closed model's stages are users, such "
                     "as 30s:100)");
        else if (o->max_users_set)
            snprintf(err, errlen, "--max-users belongs to the open model (the bound of its pool "
                     "of users): add --model open or --arrival-rate");
        else if (o->arrivals_set)
            snprintf(err, errlen, "--arrivals belongs to the open model: add --model open or "
                     "--arrival-rate");
        else if (user_stages && o->spawn_rate_set && !o->stages_set)
            snprintf(err, errlen, "-r: the stages of %s set how fast users start and stop in "
                     "the closed model; leave -r out (or give -u for a steady number of users)",
                     path);
        if (err[0])
            return -1;
        if (user_stages) {
            double peak = ceil(stages_peak(plan->stages, plan->n_stages));
            plan->users = peak >= 1 ? (uint64_t)peak : 1;
        }
    } else {
        if (user_stages) {
            /* The command line's own model was checked with the options:
             * this is the plan's. */
            snprintf(err, errlen, "--stages: these are users, but %s uses the open model, "
                     "whose stages are arrival rates: give each a unit, such as 30s:100/s (or "
                     "add --model closed)", path);
            return -1;
        }
        if (!plan->arrival_rate_set && !rate_stages) {
            if (switched != NULL)
                snprintf(err, errlen, "%s: the open model needs an arrival rate: give "
                         "--arrival-rate RATE or --stages LIST (such as 200/s or 1m:0-100/s)",
                         switched);
            else
                snprintf(err, errlen, "%s:%u: the open model needs an arrival rate: add "
                         "'arrival-rate = 200/s' or 'stages = ...' in arrivals per second (or "
                         "give --arrival-rate or --stages)", path, plan->model_line);
            return -1;
        }
        if (plan->max_users_set && plan->users > plan->max_users) {
            snprintf(err, errlen, "%s: max-users (%llu) is below the users (%llu): the pool "
                     "starts with the users and grows up to max-users",
                     o->max_users_set ? "--max-users" : "-u",
                     (unsigned long long)plan->max_users, (unsigned long long)plan->users);
            return -1;
        }
        if (switched != NULL && plan->wait_set)
            add_warning(plan, path, "wait does not apply in the open model: arrivals start the "
                        "iterations, on their schedule (the steps' think times still apply)");
    }
    if (o->model_set || o->arrival_rate_set)
        plan->model_set = true;
    plan->model = model;
    return 0;
}

int cli_apply(const cli_opts_t *o, plan_t *plan, char *err, size_t errlen)
{
    if (o->http2)
        plan->http2 = true;
    if (o->host) {
        free(plan->host);
        plan->host = xstrdup(o->host);
        plan->host_set = true;
    }
    if (o->users_set) {
        plan->users = o->users;
        plan->users_set = true;
    }
    if (o->spawn_rate_set) {
        plan->spawn_rate = o->spawn_rate;
        plan->spawn_rate_set = true;
    }
    if (o->run_time_set) {
        plan->run_time_us = o->run_time_us;
        plan->run_time_set = true;
    }
    if (apply_shape(o, plan, err, errlen) != 0)
        return -1;
    if (!plan->host) {
        /* A step with an absolute URL needs no host; any path needs one. */
        for (size_t q = 0; q < plan_n_sequences(plan); q++) {
            const plan_task_t *t = plan_sequence(plan, q);
            for (size_t k = 0; k < t->n_steps; k++)
                if (!url_is_absolute(t->steps[k].target)) {
                    snprintf(err, errlen,
                             "%s:%u: no host: give -H URL or 'host = URL' (this request is to "
                             "a path)", plan->path ? plan->path : o->hopperfile,
                             t->steps[k].line);
                    return -1;
                }
        }
    }
    /* Each --check was parsed with the options; the endpoint it names is
     * known only now, with the plan, and still before any load. */
    for (size_t i = 0; i < o->n_checks; i++) {
        check_t c;
        char why[900];
        int rc = check_parse(o->checks[i], &c, why, sizeof why);
        if (rc == 0) {
            rc = check_endpoint_known(&c, plan->endpoint_methods, plan->endpoint_names,
                                      plan->n_endpoints, why, sizeof why);
            check_free(&c);
        }
        if (rc != 0) {
            snprintf(err, errlen, "--check: %s", why);
            return -1;
        }
    }
    return 0;
}

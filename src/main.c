/* hopper: the program. The only file that sees both the engine and a view:
 * it reads the command line and the hopperfile, starts the engine on a libuv
 * loop, chooses the view (the dashboard on a terminal, the headless printer
 * otherwise), wires the dashboard's commands to the engine, turns signals
 * into a stop, and prints the summary on every way out, after the terminal
 * has been restored. */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <termios.h>
#include <netdb.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "hopper.h"
#include "plan/cli.h"
#include "view/console.h"
#include "engine/engine.h"
#include "http/h1.h"
#include "plan/hopperfile.h"
#include "plan/plan.h"
#include "util/log.h"
#include "report/outputs.h"
#include "snapshot/snapshot.h"
#include "http/srcaddr.h"
#include "metrics/metrics.h"
#include "control/attach.h"
#include "control/control.h"
#include "cluster/cluster.h"
#include "engine/worker.h"
#include "net/tls.h"
#include "view/tui.h"
#include "util/duration.h"
#include "util/fdlimit.h"
#include "util/url.h"
#include "util/xalloc.h"

typedef struct {
    uv_loop_t loop;
    cli_opts_t opts;
    plan_t plan;
    engine_t *eng;
    snap_t snap;
    uv_signal_t sig_int, sig_term, sig_hup;
    bool hup_on;                /* sig_hup watches: SIGHUP was not ignored at start (nohup) */
    uv_timer_t print_timer;
    unsigned stop_requests;
    log_t log;
    tui_t tui;
    bool tui_on;
    outputs_t out;
    uv_timer_t csv_timer;
    int status;
    unsigned workers;
    http_client_kind_t client;   /* libcurl or hopper's HTTP/1.1 client */
    /* --source-addrs, parsed once here for every check and both clients
     * (n == 0 without the option); lives as long as the run. */
    srcaddr_list_t sources;
    /* --metrics-listen: parsed with the options, listening from just
     * before the load until the run is over (the stop's drain included). */
    struct sockaddr_storage metrics_addr;
    metrics_server_t metrics;
    /* --metrics-linger: once the run is over and reported, /metrics serves
     * the final numbers this long (linger_start); a signal or q ends it. */
    bool lingering, linger_keys_on;
    uv_timer_t linger_timer;
    uv_poll_t linger_keys;       /* q at the terminal (stdin) */
    struct termios linger_tio;   /* the terminal's mode, restored after */
    int linger_fl;               /* stdin's flags, restored after */
    /* --control PATH: viewers (hopper attach) from just before the load
     * until the end of the run; NULL without the option. */
    control_t *control;
    /* --mpi or --ranks: the MPI run this process conducts (NULL otherwise);
     * rank_lost once a rank was lost (the run then exits 5). */
    cluster_t *cluster;
    bool rank_lost;
    int argc;                    /* the command line, which every rank compares */
    char **argv;
} app_t;

static void usage_error(const char *msg)
{
    fprintf(stderr, "hopper: %s\nTry 'hopper --help' for more information.\n", msg);
}

/* Says plainly when the users cannot fit: a connection (an open file) each,
 * per worker process. */
static int check_users_fit(uint64_t users, unsigned workers, uint64_t limit, char *err,
                           size_t errlen)
{
    uint64_t per = limit > HOPPER_FD_RESERVE ? limit - HOPPER_FD_RESERVE : 0;
    /* per * workers only once per < users (at most HOPPER_MAX_USERS): an
     * unlimited limit (UINT64_MAX / 2) times the workers would wrap. */
    if (per >= users || users <= per * workers)
        return 0;
    snprintf(err, errlen,
             "%llu users need %llu open files (a connection each), but each process may open "
             "only %llu (ulimit -n, hard limit included): %u worker%s hold at most %llu users; "
             "use --workers %llu or more, lower -u, or raise the limit",
             (unsigned long long)users, (unsigned long long)users, (unsigned long long)limit,
             workers, workers == 1 ? "" : "s", (unsigned long long)(per * workers),
             (unsigned long long)(per ? (users + per - 1) / per : 0));
    return -1;
}

/* Which HTTP client the run uses: hopper's own for plain http:// to the one
 * origin every task goes to, libcurl for anything else (TLS, user:password@,
 * tasks on other origins). --http-client native insists, curl declines. */
static int choose_client(const plan_t *plan, const char *want, http_client_kind_t *client,
                         char *err, size_t errlen)
{
    const char *why = NULL;
    if (!h1_usable(plan->host))
        why = "the host is not an http:// or https:// URL without user:password@";
    /* "http://host:port" of the base URL: absolute targets must share it. */
    const char *sep = plan->host ? strstr(plan->host, "://") : NULL;
    size_t origin_len = sep ? (size_t)(sep - plan->host) + 3 + strcspn(sep + 3, "/?#") : 0;
    for (size_t q = 0; !why && q < plan_n_sequences(plan); q++) {
        const plan_task_t *task = plan_sequence(plan, q);
        for (size_t k = 0; !why && k < task->n_steps; k++) {
            const char *t = task->steps[k].target;
            if (url_is_absolute(t) && (strncasecmp(t, plan->host, origin_len) != 0 ||
                                       (t[origin_len] && !strchr("/?#", t[origin_len]))))
                why = "a request goes to another origin";
        }
    }
    /* hopper's client resolves the host once, at start; a host that does not
     * resolve yet is left to libcurl, which tries for every connection and
     * counts "cannot resolve host" failures. */
    if (!why && !(want && strcmp(want, "native") == 0)) {
        char host[256];
        const char *port = NULL;
        if (url_host(plan->host, host, sizeof host) == 0) {
            struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
            if (getaddrinfo(host, port, &hints, &res) != 0)
                why = "the host does not resolve";
            else
                freeaddrinfo(res);
        }
    }
    bool is_native = want && strcmp(want, "native") == 0;
    if (want && strcmp(want, "curl") == 0) {
        *client = HTTP_CLIENT_CURL;
        return 0;
    }
    if (why && is_native) {
        snprintf(err, errlen, "--http-client native: %s; use --http-client curl (or auto)", why);
        return -1;
    }
    *client = why ? HTTP_CLIENT_CURL : HTTP_CLIENT_NATIVE;
    return 0;
}

/* "Connection: close" makes an HTTP/1.1 user reconnect for every request;
 * HTTP/2 sends no connection headers, so with it the header would be
 * dropped without a word. */
static bool is_connection_close(const char *h)
{
    if (strncasecmp(h, "Connection:", 11) != 0)
        return false;
    h += 11;
    h += strspn(h, " \t");
    return strncasecmp(h, "close", 5) == 0;
}

static int check_http2_headers(const plan_t *plan, char *err, size_t errlen)
{
    if (!plan->http2)
        return 0;
    bool found = false;
    for (size_t i = 0; i < plan->n_headers && !found; i++)
        found = is_connection_close(plan->headers[i]);
    for (size_t q = 0; !found && q < plan_n_sequences(plan); q++) {
        const plan_task_t *task = plan_sequence(plan, q);
        for (size_t k = 0; !found && k < task->n_steps; k++)
            for (size_t i = 0; i < task->steps[k].n_headers && !found; i++)
                found = is_connection_close(task->steps[k].headers[i]);
    }
    if (!found)
        return 0;
    snprintf(err, errlen, "%s: header 'Connection: close' does not apply to HTTP/2 (--http2, "
             "protocol = http2), which sends no connection headers: leave it out, or use HTTP/1.1 "
             "to open a connection per request", plan->path ? plan->path : "hopperfile");
    return -1;
}

/* --cacert, --cert and --key are read once here, so that a file that cannot
 * be used stops hopper before the run, named, whichever client and however
 * many workers would have read it. */
static int check_tls_files(const cli_opts_t *o, char *err, size_t errlen)
{
    if (o->key_file && !o->cert_file) {
        snprintf(err, errlen, "--key '%s': give the certificate it belongs to with --cert",
                 o->key_file);
        return -1;
    }
    if (!o->ca_file && !o->cert_file)
        return 0;
    char why[512];
    tls_config_t c = {.ca_file = o->ca_file, .cert_file = o->cert_file, .key_file = o->key_file};
    tls_ctx_t *ctx = tls_ctx_new(&c, why, sizeof why);
    if (!ctx) {
        snprintf(err, errlen, "%s", why);
        return -1;
    }
    tls_ctx_free(ctx);
    return 0;
}

/* The ephemeral port range (net.ipv4.ip_local_port_range). */
static uint64_t port_range(unsigned *lo, unsigned *hi)
{
    *lo = 32768, *hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%u %u", lo, hi) != 2)
            *lo = 32768, *hi = 60999;
        fclose(f);
    }
    return *hi >= *lo ? *hi - *lo + 1 : 0;
}

/* The users a run may comfortably hold at once: each has a connection, so
 * an open file in its process (the limit less the reserve, times the
 * processes) and a local port: half the ephemeral range per source address,
 * past which connecting gets slow (check_ports). The open model's pool
 * defaults to this, so it can grow under a slow server without exhausting
 * the machine. (Memory is not the bound: an idle pooled user holds about
 * 2 KB, bench/README.md.) */
static uint64_t users_capacity(const srcaddr_list_t *sources, unsigned workers, uint64_t fd_limit)
{
    unsigned lo, hi;
    uint64_t ports = port_range(&lo, &hi) / 2 * (sources->n ? sources->n : 1);
    uint64_t per = fd_limit > HOPPER_FD_RESERVE ? fd_limit - HOPPER_FD_RESERVE : 0;
    uint64_t fds = per > HOPPER_MAX_USERS ? HOPPER_MAX_USERS : per * (workers ? workers : 1);
    uint64_t cap = fds < ports ? fds : ports;
    return cap < HOPPER_MAX_USERS ? cap : HOPPER_MAX_USERS;
}

/* The open model's pool bound when the plan and the command line leave it
 * out: what the machine can hold (users_capacity), and at least -u. */
static void default_max_users(plan_t *plan, const srcaddr_list_t *sources, unsigned workers,
                              uint64_t fd_limit)
{
    if (plan->model != MODEL_OPEN || plan->max_users)
        return;
    uint64_t cap = users_capacity(sources, workers, fd_limit);
    plan->max_users = cap > plan->users ? cap : plan->users;
    if (plan->max_users == 0)
        plan->max_users = 1;
}

/* The most users the run may hold at once: -u in the closed model, the
 * pool's bound in the open one. */
static uint64_t peak_users(const plan_t *plan)
{
    return plan->model == MODEL_OPEN && plan->max_users > plan->users ? plan->max_users
                                                                      : plan->users;
}

/* Each connection to one server address needs a local port of its own:
 * without --source-addrs the users must fit the ephemeral port range. */
static int check_ports(const plan_t *plan, const srcaddr_list_t *sources, uint64_t users, char *err,
                       size_t errlen)
{
    size_t addrs = sources->n ? sources->n : 1;
    unsigned lo, hi;
    uint64_t range = port_range(&lo, &hi), ports = range * addrs;
    uint64_t start = plan->users < users ? plan->users : users;
    if (users > ports) {
        snprintf(err, errlen,
                 "%llu users need %llu connections to one server address, but %zu local "
                 "address%s give%s only %llu ports (net.ipv4.ip_local_port_range %u-%u); add "
                 "local addresses with --source-addrs, e.g. 127.0.0.1-127.0.0.%llu",
                 (unsigned long long)users, (unsigned long long)users, addrs,
                 addrs == 1 ? "" : "es", addrs == 1 ? "s" : "", (unsigned long long)ports, lo, hi,
                 (unsigned long long)(users / (range / 2) + 1));
        return -1;
    }
    /* Linux's connect() searches for a free port, and past about half the
     * range per local address each search costs close to a millisecond of
     * kernel time (measured: bench/README.md): the ramp then stalls and
     * latencies grow. Not an error, but worth saying before it happens. */
    if (start > ports / 2)
        fprintf(stderr, "hopper: note: %llu users on %zu local address%s use over half of the "
                "ephemeral ports; connecting gets slow past that (bench/README.md): "
                "--source-addrs 127.0.0.1-127.0.0.%llu keeps it fast\n",
                (unsigned long long)start, addrs, addrs == 1 ? "" : "es",
                (unsigned long long)(start / (range / 2) + 1));
    return 0;
}

static void on_print(uv_timer_t *t)
{
    app_t *app = t->data;
    engine_snapshot(app->eng, &app->snap);
    /* With the JSON report on stdout, the tables must not mix into it. */
    console_print_stats(outputs_json_on_stdout(&app->out) ? stderr : stdout, &app->snap);
}

static void close_signals(app_t *app)
{
    uv_close((uv_handle_t *)&app->sig_int, NULL);
    uv_close((uv_handle_t *)&app->sig_term, NULL);
    if (app->hup_on)
        uv_close((uv_handle_t *)&app->sig_hup, NULL);
}

/* --metrics-linger: the run is over, its summary and reports written, and
 * /metrics goes on serving its final numbers, so that Prometheus' next
 * scrape (the run ends between two) takes them. The time running out, a
 * signal or q at the terminal ends it; then the loop runs empty. */
static void linger_end(app_t *app)
{
    if (!app->lingering)
        return;
    app->lingering = false;
    uv_timer_stop(&app->linger_timer);
    uv_close((uv_handle_t *)&app->linger_timer, NULL);
    if (app->linger_keys_on) {
        app->linger_keys_on = false;
        uv_close((uv_handle_t *)&app->linger_keys, NULL);
        tcsetattr(0, TCSANOW, &app->linger_tio);
        fcntl(0, F_SETFL, app->linger_fl);
    }
    close_signals(app);
    metrics_close(&app->metrics);
}

static void on_linger_done(uv_timer_t *t) { linger_end(t->data); }

static void on_linger_key(uv_poll_t *p, int status, int events)
{
    (void)events;
    app_t *app = p->data;
    char buf[64];
    ssize_t n = status < 0 ? -1 : read(0, buf, sizeof buf);
    if (n < 0 && status >= 0 && (errno == EAGAIN || errno == EINTR))
        return;
    /* q, or the terminal's end of file (or an error): nobody waits there. */
    if (n <= 0 || memchr(buf, 'q', (size_t)n) || memchr(buf, 'Q', (size_t)n))
        linger_end(app);
}

static void linger_start(app_t *app)
{
    app->lingering = true;
    metrics_hold(&app->metrics, &app->snap);
    uv_timer_init(&app->loop, &app->linger_timer);
    app->linger_timer.data = app;
    uv_timer_start(&app->linger_timer, on_linger_done, (app->opts.metrics_linger_us + 999) / 1000, 0);
    /* q without Enter at the terminal (not echoed; Ctrl-C stays a signal),
     * when hopper is its foreground (in the background, touching the mode
     * would stop it). The dashboard, if any, has restored the mode. */
    if (isatty(0) && tcgetpgrp(0) == getpgrp() && tcgetattr(0, &app->linger_tio) == 0) {
        struct termios t = app->linger_tio;
        t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        app->linger_fl = fcntl(0, F_GETFL);
        if (tcsetattr(0, TCSANOW, &t) == 0 && uv_poll_init(&app->loop, &app->linger_keys, 0) == 0) {
            app->linger_keys.data = app;
            uv_poll_start(&app->linger_keys, UV_READABLE, on_linger_key);
            app->linger_keys_on = true;
        } else {
            tcsetattr(0, TCSANOW, &app->linger_tio);
            fcntl(0, F_SETFL, app->linger_fl);
        }
    }
    char url[128], dur[32];
    log_msg(&app->log, "metrics: serving the final numbers at %s for %s more (%s ends it)",
            metrics_url(&app->metrics, url, sizeof url),
            duration_format(app->opts.metrics_linger_us, dur, sizeof dur),
            app->linger_keys_on ? "q or Ctrl-C" : "a signal");
}

/* Ctrl-C, SIGTERM and SIGHUP (a dropped SSH session) all stop the test the
 * same way as the run time and the dashboard's q: requests in flight may
 * finish within the stop timeout, and the summary and every report follow; a
 * second one (or a q after one) cancels what is still in flight. */
static void on_signal(uv_signal_t *s, int signum)
{
    app_t *app = s->data;
    if (app->lingering) {
        linger_end(app);   /* the run is over: only the linger was left */
        return;
    }
    app->stop_requests++;
    if (signum == SIGHUP && app->tui_on) {
        /* The terminal is gone: nothing more to draw, nobody to ask. */
        tui_close(&app->tui);
        app->tui_on = false;
        if (app->cluster)
            cluster_quiet(app->cluster, false);
    }
    if (app->stop_requests == 1)
        log_msg(&app->log, "%s: stopping%s", strsignal(signum),
                app->opts.stop_timeout_us ? " (again to stop at once)" : "");
    else if (app->stop_requests == 2)
        log_msg(&app->log, "%s again: cancelling the requests still in flight", strsignal(signum));
    engine_stop(app->eng);
    if (app->tui_on)
        tui_redraw(&app->tui);
}

/* Messages from the engine (a worker died, hopper is the bottleneck). */
static void engine_log(void *arg, const char *msg)
{
    app_t *app = arg;
    log_msg(&app->log, "%s", msg);
}

/* Before an abort for lack of memory: the terminal first. */
static void restore_terminal(void *arg)
{
    app_t *app = arg;
    if (app->tui_on)
        term_close(&app->tui.term);
}

/* The dashboard's commands, applied to the engine: the dashboard itself only
 * knows this table. */
static void ctl_snapshot(void *ctx, snap_t *out) { engine_snapshot(((app_t *)ctx)->eng, out); }
static void ctl_users(void *ctx, uint64_t n) { engine_set_target_users(((app_t *)ctx)->eng, n); }
static void ctl_rate(void *ctx, double r) { engine_set_spawn_rate(((app_t *)ctx)->eng, r); }
static void ctl_arrival_rate(void *ctx, double r) { engine_set_arrival_rate(((app_t *)ctx)->eng, r); }
static void ctl_pause(void *ctx, bool p) { engine_pause(((app_t *)ctx)->eng, p); }
static void ctl_reset(void *ctx) { engine_reset_stats(((app_t *)ctx)->eng); }
static size_t ctl_checks(void *ctx, const snap_t *s, const check_result_t **out)
{
    app_t *app = ctx;
    size_t n = outputs_eval_checks(&app->out, s);
    *out = app->out.results;
    return n;
}
static void ctl_stop(void *ctx)
{
    app_t *app = ctx;
    app->stop_requests++;
    engine_stop(app->eng);
}

static void on_csv_tick(uv_timer_t *t)
{
    app_t *app = t->data;
    engine_snapshot(app->eng, &app->snap);
    outputs_tick(&app->out, &app->snap, &app->log);
}

/* Every way out of the run ends here: restore the terminal, print the
 * summary, write every report from the same final snapshot. */
static void on_engine_done(engine_t *eng, void *arg)
{
    app_t *app = arg;
    if (app->tui_on) {
        /* Restore the terminal first, then print. */
        tui_close(&app->tui);
        app->tui_on = false;
        if (app->cluster)
            cluster_quiet(app->cluster, false);
    }
    engine_snapshot(eng, &app->snap);
    app->status = outputs_status(&app->out, &app->snap, app->opts.exit_code_on_error);
    if (app->cluster) {
        /* The bridge goes on alone (goodbyes); the loop may end. */
        cluster_unwatch(app->cluster);
        if (app->rank_lost)
            app->status = HOPPER_EXIT_RANK_LOST;
    }
    FILE *text = outputs_json_on_stdout(&app->out) ? stderr : stdout;
    console_print_summary(text, &app->snap);
    console_print_checks(text, app->out.results, app->out.n_checks);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    report_meta_t meta = {
        .version = HOPPER_VERSION,
        .hopperfile = app->opts.hopperfile,
        .plan = &app->plan,
        .host = app->plan.host,
        .users = app->plan.users,
        .spawn_rate = app->plan.spawn_rate,
        .run_time_us = app->plan.run_time_us,
        .end_unix = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9,
        .checks = app->out.results,
        .n_checks = app->out.n_checks,
    };
    /* A report that could not be written is evidence lost: the run fails
     * with its own status, whatever else happened. */
    if (outputs_finish(&app->out, &app->snap, &meta, app->status, &app->log) != 0)
        app->status = HOPPER_EXIT_REPORT;
    uv_timer_stop(&app->csv_timer);
    uv_close((uv_handle_t *)&app->csv_timer, NULL);
    uv_timer_stop(&app->print_timer);
    uv_close((uv_handle_t *)&app->print_timer, NULL);
    if (app->opts.metrics_linger_us && app->metrics.open) {
        linger_start(app);
    } else {
        close_signals(app);
        metrics_close(&app->metrics);
    }
    if (app->control) {
        /* Viewers get the final numbers and a goodbye; the socket goes. */
        control_close(app->control, &app->snap);
        app->control = NULL;
    }
    engine_close(eng);
}

static void start_signal(app_t *app, uv_signal_t *s, int signum)
{
    uv_signal_init(&app->loop, s);
    s->data = app;
    uv_signal_start(s, on_signal, signum);
}

/* A listener of the run (--metrics-listen, --control) cannot start: the
 * engine exists (its workers are forked) but nothing was sent. Everything is
 * given back in order, the loop runs the close callbacks, and the run ends
 * as a usage error. */
static int refuse_after_engine(app_t *app, const char *err)
{
    fprintf(stderr, "hopper: %s\n", err);
    metrics_close(&app->metrics);
    engine_close(app->eng);
    if (app->cluster)
        cluster_unwatch(app->cluster);
    uv_run(&app->loop, UV_RUN_DEFAULT);
    if (app->cluster)
        cluster_close(app->cluster);   /* the ranks were told goodbye: nothing was sent */
    engine_free(app->eng);
    uv_loop_close(&app->loop);
    snap_free(&app->snap);
    outputs_free(&app->out);
    log_close(&app->log);
    curl_global_cleanup();
    plan_free(&app->plan);
    cli_free(&app->opts);
    return HOPPER_EXIT_USAGE;
}

/* ---- an MPI run (cluster/cluster.h) ---- */

/* A problem at the start of an MPI run's conductor: every rank leaves. */
static void abort_cluster(app_t *app)
{
    if (app->cluster)
        cluster_abort(app->cluster);
    app->cluster = NULL;
}

/* A rank was lost (cluster.c has said which): the test ends with what
 * arrived, and exits HOPPER_EXIT_RANK_LOST. */
static void on_rank_lost(void *arg)
{
    app_t *app = arg;
    app->rank_lost = true;
    if (app->stop_requests == 0) {
        app->stop_requests++;
        engine_stop(app->eng);
    }
}

/* The engine's settings, the same on the conductor and on every rank. */
static void fill_engine_config(app_t *app, uint64_t seed, engine_config_t *cfg)
{
    *cfg = (engine_config_t){
        .loop = &app->loop,
        .plan = &app->plan,
        .host = app->plan.host,
        .users = app->plan.users,
        .spawn_rate = app->plan.spawn_rate,
        .run_time_us = app->plan.run_time_us,
        .stop_timeout_us = app->opts.stop_timeout_us,
        .seed = seed,
        .done = on_engine_done,
        .arg = app,
        .on_failure = app->out.faillog_on ? faillog_write : NULL,
        .failure_arg = &app->out.faillog,
        .workers = app->workers,
        .client = app->client,
        .insecure = app->opts.insecure,
        .ca_file = app->opts.ca_file,
        .cert_file = app->opts.cert_file,
        .key_file = app->opts.key_file,
        .no_tls_resume = app->opts.no_tls_resume,
        .http2 = app->plan.http2,
        .no_retry = app->opts.no_retry,
        .sources = app->sources.n ? &app->sources : NULL,
        .log = engine_log,
        .log_arg = app,
    };
}

/* What a machine that runs users checks before any load: users against
 * open files and ports (users: the most it holds), data, the HTTP client,
 * TLS files, HTTP/2 headers; and it shares the plan's run-wide state with
 * the workers it forks. */
static int check_run(app_t *app, uint64_t fd_limit, uint64_t users, uint64_t start_users,
                     uint64_t seed, char *err, size_t errlen)
{
    if (check_users_fit(users, app->workers, fd_limit, err, errlen) != 0 ||
        plan_check_data(&app->plan, start_users, err, errlen) != 0 ||
        plan_share(&app->plan, seed, err, errlen) != 0 ||
        check_ports(&app->plan, &app->sources, users, err, errlen) != 0 ||
        choose_client(&app->plan, app->opts.http_client, &app->client, err, errlen) != 0 ||
        check_tls_files(&app->opts, err, errlen) != 0 ||
        check_http2_headers(&app->plan, err, errlen) != 0)
        return -1;
    return 0;
}

/* The command line (every rank must run the same) and the plan with its
 * data files as read (every host must have the same). */
static uint64_t options_fingerprint(int argc, char **argv)
{
    uint64_t h = 0;
    for (int i = 1; i < argc; i++) {
        int skip = cluster_conductor_option(argv[i]);
        if (skip)
            i += skip - 1;   /* the conductor's alone: its ranks do not have it */
        else
            h = cluster_fingerprint(h, argv[i], strlen(argv[i]) + 1);
    }
    return h;
}

static uint64_t plan_fingerprint(const char *path, const plan_t *plan)
{
    uint64_t h = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            h = cluster_fingerprint(h, buf, n);
        fclose(f);
    }
    for (size_t d = 0; d < plan->n_data; d++) {
        const data_source_t *src = &plan->data[d];
        size_t cells = src->n_rows * src->n_columns;
        if (src->offsets)
            h = cluster_fingerprint(h, src->cells, src->offsets[cells]);
    }
    /* Bodies as read (a body-file's bytes are not in the hopperfile). */
    for (size_t q = 0; q < plan_n_sequences(plan); q++) {
        const plan_task_t *task = plan_sequence(plan, q);
        for (size_t k = 0; k < task->n_steps; k++)
            if (task->steps[k].body)
                h = cluster_fingerprint(h, task->steps[k].body, task->steps[k].body_len);
    }
    return h;
}

static void fill_hello(cluster_hello_t *h, int argc, char **argv, const app_t *app, bool plan_ok,
                       uint64_t fd_limit, unsigned workers)
{
    memset(h, 0, sizeof *h);
    snprintf(h->version, sizeof h->version, "%s", HOPPER_VERSION);
    h->proto = CLUSTER_PROTO;
    if (gethostname(h->host, sizeof h->host) != 0)
        snprintf(h->host, sizeof h->host, "?");
    h->host[sizeof h->host - 1] = 0;
    h->pid = (uint32_t)getpid();
    h->options = options_fingerprint(argc, argv);
    h->plan = plan_ok ? plan_fingerprint(app->opts.hopperfile, &app->plan) : 0;
    h->workers = workers;
    h->fd_limit = fd_limit;
}

/* What slots first .. first + n - 1 of total hold of count things spread
 * evenly, the first slots taking the remainder (as the pool does). */
static uint64_t slots_share(uint64_t count, uint64_t first, uint64_t n, uint64_t total)
{
    uint64_t share = 0;
    for (uint64_t i = first; i < first + n; i++)
        share += count / total + (i < count % total);
    return share;
}

/* The conductor's start: every rank's hello against ours, each rank's
 * setup (its users, slots, data rows and addresses), every rank ready. */
static int conduct_start(app_t *app, uint64_t fd_limit, uint64_t seed, char *err, size_t errlen)
{
    cluster_t *c = app->cluster;
    unsigned n = cluster_ranks(c);
    cluster_hello_t mine;
    fill_hello(&mine, app->argc, app->argv, app, true, fd_limit, 0);
    const cluster_hello_t *hellos;
    if (cluster_gather(c, &mine, &hellos, err, errlen) != 0)
        return -1;
    uint64_t slots = 0, min_fds = UINT64_MAX;
    for (unsigned r = 0; r < n; r++) {
        slots += hellos[r].workers;
        if (hellos[r].fd_limit < min_fds)
            min_fds = hellos[r].fd_limit;
    }
    if (slots > HOPPER_MAX_SLOTS) {
        snprintf(err, errlen, "%u ranks of %u workers are %llu worker processes, over %d: fewer "
                 "ranks or fewer --workers", n, hellos[0].workers, (unsigned long long)slots,
                 HOPPER_MAX_SLOTS);
        return -1;
    }
    /* The open model's pool bound by default: what the ranks can hold. */
    srcaddr_list_t none = {.n = 0};
    default_max_users(&app->plan, &none, (unsigned)slots, min_fds);
    uint64_t peak = peak_users(&app->plan);
    cluster_setup_t *setups = xcalloc(n, sizeof *setups);
    int rc = cluster_sources(app->opts.source_addrs, hellos, n, setups, err, errlen);
    uint64_t first = 0;
    for (unsigned r = 0; rc == 0 && r < n; r++) {
        cluster_setup_t *su = &setups[r];
        su->go = 1;
        su->seed = seed;
        su->rank_index = r;
        su->rank_count = n;
        su->slot_first = (uint32_t)first;
        su->slot_total = (uint32_t)slots;
        /* Its share of the users: the pool spreads them evenly over every
         * worker of every rank, the first slots taking the remainder. */
        su->users = slots_share(peak, first, hellos[r].workers, slots);
        su->start_users = slots_share(app->plan.users, first, hellos[r].workers, slots);
        su->max_users = app->plan.max_users;
        first += hellos[r].workers;
    }
    if (rc == 0)
        rc = cluster_setup(c, setups, err, errlen);
    free(setups);
    return rc;
}

/* A user rank: the same plan, checked on this host with this rank's share;
 * then its workers, relayed to the conductor until the end. Says nothing
 * itself: the conductor reports every problem with the rank and host. */
static int rank_main(app_t *app, int argc, char **argv)
{
    char err[CLUSTER_TEXT_MAX] = "";
    cluster_t *c = app->cluster;
    /* The conductor decides when to stop (as for a worker process). */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    uint64_t fd_limit = fdlimit_raise(NULL);
    plan_init(&app->plan);
    bool plan_ok = hopperfile_load_with(app->opts.hopperfile, app->opts.vars, app->opts.n_vars,
                                        &app->plan, err, sizeof err) == 0;
    if (plan_ok && cli_apply(&app->opts, &app->plan, err, sizeof err) != 0)
        plan_ok = false;
    /* Without --workers: enough processes for this rank's share of the
     * users within the open-file limit (its cores are other ranks' too). */
    unsigned workers = app->opts.workers;
    if (!workers && plan_ok) {
        uint64_t all = app->plan.users, ranks = cluster_ranks(c);
        app->plan.users = (all + ranks - 1) / ranks;
        workers = cli_default_workers(&app->plan, fd_limit, 1);
        app->plan.users = all;
    }
    cluster_hello_t hello;
    fill_hello(&hello, argc, argv, app, plan_ok, fd_limit, workers ? workers : 1);
    snprintf(hello.error, sizeof hello.error, "%s", plan_ok ? "" : err);
    cluster_setup_t su;
    int rc = cluster_hello(c, &hello, &su, err, sizeof err);
    if (rc != 0) {
        plan_free(&app->plan);
        cli_free(&app->opts);
        return cluster_leave(c, rc == 1);
    }
    app->workers = hello.workers;
    app->plan.max_users = su.max_users;
    plan_window(&app->plan, su.rank_index, su.rank_count, su.slot_first, hello.workers,
                su.slot_total);
    err[0] = 0;
    if (su.sources[0] && srcaddr_parse(su.sources, &app->sources, err, sizeof err) == 0) {
        /* Ranks on one host: this one's part of the host's addresses. */
        size_t n = app->sources.n, parts = su.source_parts, k = su.source_part;
        if (n < parts) {
            snprintf(err, sizeof err, "--source-addrs gives host %s %zu address%s for %zu ranks: "
                     "each needs one at least", hello.host, n, n == 1 ? "" : "es", parts);
        } else {
            size_t from = n * k / parts, to = n * (k + 1) / parts;
            memmove(app->sources.addr, app->sources.addr + from, (to - from) * sizeof app->sources.addr[0]);
            memmove(app->sources.text, app->sources.text + from, (to - from) * sizeof app->sources.text[0]);
            app->sources.n = to - from;
        }
    }
    if (!err[0])
        check_run(app, fd_limit, su.users, su.start_users, su.seed, err, sizeof err);
    if (!err[0] && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        snprintf(err, sizeof err, "libcurl could not start");
    bool curl_on = !err[0];
    /* --log-failures: each rank writes its own failures on its own host,
     * FILE.rank-R (the conductor's FILE has none: it sends nothing). */
    char faillog[4096];
    if (!err[0] && app->opts.faillog_path) {
        snprintf(faillog, sizeof faillog, "%s.rank-%u", app->opts.faillog_path, cluster_rank(c));
        if (faillog_open(&app->out.faillog, faillog, app->opts.log_secrets, err, sizeof err) == 0)
            app->out.faillog_on = true;
    }
    if (cluster_ready(c, err[0] ? err : NULL) != 0) {
        if (app->out.faillog_on)
            faillog_close(&app->out.faillog);
        if (curl_on)
            curl_global_cleanup();
        plan_free(&app->plan);
        cli_free(&app->opts);
        return cluster_leave(c, true);
    }
    engine_config_t cfg;
    fill_engine_config(app, su.seed, &cfg);
    runner_config_t rc_tmpl;
    engine_runner_config(&cfg, &rc_tmpl);
    int fds[HOPPER_MAX_WORKERS];
    unsigned forked = 0;
    for (unsigned i = 0; i < app->workers; i++) {
        fds[i] = -1;   /* one that cannot start: the conductor sees its slot end at once */
        if (forked == i && worker_fork(&rc_tmpl, su.slot_first + i, su.slot_total, fds, i, &fds[i],
                                       err, sizeof err) >= 0)
            forked++;
    }
    int status = cluster_relay(c, fds, app->workers);
    if (app->out.faillog_on && faillog_close(&app->out.faillog) != 0 && status == 0)
        status = HOPPER_EXIT_REPORT;
    curl_global_cleanup();
    plan_free(&app->plan);
    cli_free(&app->opts);
    return status;
}

int main(int argc, char **argv)
{
    app_t app;
    memset(&app, 0, sizeof app);
    char err[1024] = "";
    app.argc = argc;
    app.argv = argv;

    /* libcurl runs with CURLOPT_NOSIGNAL, so a peer closing a socket mid-write
     * must not kill the process. */
    signal(SIGPIPE, SIG_IGN);

    /* `hopper attach PATH`: a viewer of a test started with --control
     * PATH, a program of its own (control/attach.h). */
    if (argc > 1 && strcmp(argv[1], "attach") == 0)
        return attach_main(argc - 1, argv + 1);

    switch (cli_parse(argc, argv, &app.opts, stdout, err, sizeof err)) {
    case CLI_EXIT_OK:
        return HOPPER_EXIT_OK;
    case CLI_USAGE_ERROR:
        usage_error(err);
        return HOPPER_EXIT_USAGE;
    case CLI_RUN:
        break;
    }
    /* An MPI run: MPI starts first (spawning the ranks, with --ranks), and
     * a user rank goes its own way; the conductor goes on as below. */
    if (app.opts.mpi || app.opts.ranks) {
        if (app.opts.hostfile && cluster_check_hostfile(app.opts.hostfile, err, sizeof err) != 0) {
            fprintf(stderr, "hopper: %s\n", err);
            cli_free(&app.opts);
            return HOPPER_EXIT_USAGE;
        }
        /* With the dashboard coming, MPI's own output goes to the log. */
        bool dashboard = !app.opts.no_tui && isatty(0) && isatty(1);
        app.cluster = cluster_open(app.opts.mpi ? "mpi" : "spawn", argc, argv, app.opts.ranks,
                                   app.opts.hostfile, dashboard, app.opts.spawn_timeout_us / 1000,
                                   err, sizeof err);
        if (!app.cluster) {
            fprintf(stderr, "hopper: %s\n", err);
            cli_free(&app.opts);
            return HOPPER_EXIT_USAGE;
        }
        if (!cluster_is_conductor(app.cluster))
            return rank_main(&app, argc, argv);
    }
    if (app.opts.metrics_listen &&
        metrics_parse_listen(app.opts.metrics_listen, &app.metrics_addr, err, sizeof err) != 0) {
        usage_error(err);
        abort_cluster(&app);
        cli_free(&app.opts);
        return HOPPER_EXIT_USAGE;
    }
    /* A --control path that is taken stops hopper before anything else (a
     * stale socket of ours is removed here). */
    if (app.opts.control_path && control_path_check(app.opts.control_path, err, sizeof err) != 0) {
        fprintf(stderr, "hopper: %s\n", err);
        abort_cluster(&app);
        cli_free(&app.opts);
        return HOPPER_EXIT_USAGE;
    }
    plan_init(&app.plan);
    if (hopperfile_load_with(app.opts.hopperfile, app.opts.vars, app.opts.n_vars, &app.plan, err,
                             sizeof err) != 0) {
        fprintf(stderr, "hopper: %s\n", err);
        abort_cluster(&app);
        plan_free(&app.plan);
        cli_free(&app.opts);
        return HOPPER_EXIT_USAGE;
    }
    uint64_t fd_limit = fdlimit_raise(NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cli_apply(&app.opts, &app.plan, err, sizeof err) == 0) {
        app.workers = app.opts.workers ? app.opts.workers
                                       : cli_default_workers(&app.plan, fd_limit, cores > 0 ? (unsigned)cores : 1);
    }
    /* After the command line is laid over the plan: it may add one (a
     * plan's wait under --arrival-rate). */
    for (size_t i = 0; i < app.plan.n_warnings; i++)
        fprintf(stderr, "hopper: %s\n", app.plan.warnings[i]);
    uint64_t seed = app.opts.seed_set ? app.opts.seed : (uv_hrtime() ^ ((uint64_t)getpid() << 32));
    if (app.cluster) {
        /* The users run on the ranks, which check what they hold. */
        if (err[0] || plan_check_data(&app.plan, app.plan.users, err, sizeof err) != 0 ||
            choose_client(&app.plan, app.opts.http_client, &app.client, err, sizeof err) != 0 ||
            conduct_start(&app, fd_limit, seed, err, sizeof err) != 0) {
            fprintf(stderr, "hopper: %s\n", err);
            abort_cluster(&app);
            plan_free(&app.plan);
            cli_free(&app.opts);
            return HOPPER_EXIT_USAGE;
        }
    } else {
        if (!err[0] && (!app.opts.source_addrs ||
                        srcaddr_parse(app.opts.source_addrs, &app.sources, err, sizeof err) == 0))
            default_max_users(&app.plan, &app.sources, app.workers, fd_limit);
        if (err[0] || check_run(&app, fd_limit, peak_users(&app.plan), app.plan.users, seed, err,
                                 sizeof err) != 0) {
            fprintf(stderr, "hopper: %s\n", err);
            plan_free(&app.plan);
            cli_free(&app.opts);
            return HOPPER_EXIT_USAGE;
        }
    }

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "hopper: libcurl could not start\n");
        abort_cluster(&app);
        plan_free(&app.plan);
        return HOPPER_EXIT_USAGE;
    }
    if (log_open(&app.log, app.opts.logfile) != 0) {
        fprintf(stderr, "hopper: --logfile %s: %s\n", app.opts.logfile, strerror(errno));
        abort_cluster(&app);
        curl_global_cleanup();
        plan_free(&app.plan);
        cli_free(&app.opts);
        return HOPPER_EXIT_USAGE;
    }
    /* The plan's warnings were on stderr before anything else; the log
     * (the dashboard's message line, --logfile) keeps them for the run. */
    for (size_t i = 0; i < app.plan.n_warnings; i++)
        log_keep(&app.log, (double)time(NULL), app.plan.warnings[i]);
    /* Every file asked for is opened now: one that cannot be written stops
     * the run before any load is sent. */
    if (outputs_open(&app.out, &app.opts, &app.plan, err, sizeof err) != 0) {
        fprintf(stderr, "hopper: %s\n", err);
        abort_cluster(&app);
        log_close(&app.log);
        curl_global_cleanup();
        plan_free(&app.plan);
        cli_free(&app.opts);
        return HOPPER_EXIT_USAGE;
    }
    uv_loop_init(&app.loop);
    snap_init(&app.snap);

    engine_config_t cfg;
    fill_engine_config(&app, seed, &cfg);
    /* The conductor's slots: every worker of every rank, from here on
     * relayed by the cluster's bridge thread. */
    int *slot_fds = NULL;
    const char *const *slot_names = NULL;
    if (app.cluster && cluster_go(app.cluster, &app.loop, engine_log, on_rank_lost, &app, &slot_fds,
                                  &slot_names, &cfg.remote_n, err, sizeof err) != 0) {
        abort_cluster(&app);   /* app.cluster is NULL now, and err says why */
    } else {
        cfg.remote_fds = slot_fds;
        cfg.remote_names = slot_names;
        app.eng = engine_new(&cfg, err, sizeof err);
    }
    if (!app.eng) {
        fprintf(stderr, "hopper: %s\n", err);
        uv_loop_close(&app.loop);
        outputs_free(&app.out);
        log_close(&app.log);
        curl_global_cleanup();
        plan_free(&app.plan);
        cli_free(&app.opts);
        return HOPPER_EXIT_USAGE;
    }

    /* After engine_new, whose workers must not inherit the socket, and
     * before any load: a port in use stops the run with nothing sent. */
    if (app.opts.metrics_listen) {
        if (metrics_open(&app.metrics, &app.loop, (struct sockaddr *)&app.metrics_addr,
                         ctl_snapshot, &app, err, sizeof err) != 0) {
            return refuse_after_engine(&app, err);
        }
        char url[128];
        log_msg(&app.log, "metrics: serving %s", metrics_url(&app.metrics, url, sizeof url));
    }
    /* The same moment for the control socket, for the same reasons. */
    if (app.opts.control_path) {
        control_config_t cc = {
            .path = app.opts.control_path,
            .refresh_ms = app.opts.refresh_us / 1000,
            .steer = {.snapshot = ctl_snapshot, .set_target_users = ctl_users,
                      .set_spawn_rate = ctl_rate, .set_arrival_rate = ctl_arrival_rate,
                      .pause = ctl_pause, .reset_stats = ctl_reset, .stop = ctl_stop,
                      .checks = ctl_checks, .ctx = &app},
            .log = &app.log,
        };
        app.control = control_new(&app.loop, &cc, err, sizeof err);
        if (!app.control) {
            return refuse_after_engine(&app, err);
        }
    }
    start_signal(&app, &app.sig_int, SIGINT);
    start_signal(&app, &app.sig_term, SIGTERM);
    /* Started under nohup (SIGHUP ignored, as setsid's children never get
     * it): the hangup stays ignored, so that a test started headless over
     * SSH outlives the session (and is watched later with hopper attach). */
    struct sigaction hup;
    app.hup_on = sigaction(SIGHUP, NULL, &hup) != 0 || hup.sa_handler != SIG_IGN;
    if (app.hup_on)
        start_signal(&app, &app.sig_hup, SIGHUP);
    else
        log_msg(&app.log, "SIGHUP is ignored (nohup): the test goes on when its terminal closes");
    uv_timer_init(&app.loop, &app.print_timer);
    app.print_timer.data = &app;
    uv_timer_init(&app.loop, &app.csv_timer);
    app.csv_timer.data = &app;
    if (app.out.csv_on)
        uv_timer_start(&app.csv_timer, on_csv_tick, 1000, 1000);
    engine_start(app.eng);

    /* The view: the dashboard when a person is at a terminal, else (or with
     * --no-tui) the headless tables. */
    if (!app.opts.no_tui && isatty(0) && isatty(1)) {
        tui_options_t to = {.ascii = app.opts.ascii, .no_color = app.opts.no_color,
                            .refresh_ms = app.opts.refresh_us / 1000};
        steer_t ctl = {.snapshot = ctl_snapshot, .set_target_users = ctl_users,
                             .set_spawn_rate = ctl_rate, .set_arrival_rate = ctl_arrival_rate,
                             .pause = ctl_pause,
                             .reset_stats = ctl_reset, .stop = ctl_stop,
                             .checks = ctl_checks, .ctx = &app};
        app.tui_on = tui_open(&app.tui, &app.loop, &to, &ctl, &app.log) == 0;
        if (app.tui_on && app.cluster)
            cluster_quiet(app.cluster, true);
        xalloc_on_fatal(restore_terminal, &app);
        if (!app.tui_on)
            log_msg(&app.log, "the terminal cannot show the dashboard; printing tables instead");
    }
    if (!app.tui_on && !app.opts.only_summary) {
        uint64_t every = app.opts.print_interval_us / 1000;
        uv_timer_start(&app.print_timer, on_print, every, every);
    }

    uv_run(&app.loop, UV_RUN_DEFAULT);

    int status = app.status;
    if (app.cluster && cluster_close(app.cluster) && status != HOPPER_EXIT_REPORT)
        status = HOPPER_EXIT_RANK_LOST;
    engine_free(app.eng);
    outputs_free(&app.out);
    snap_free(&app.snap);
    if (uv_loop_close(&app.loop) != 0) {
        /* A handle left open is a bug; say so rather than hide it. */
        fprintf(stderr, "hopper: internal error: the event loop did not close cleanly\n");
        status = status ? status : HOPPER_EXIT_INTERNAL;
    }
    log_close(&app.log);
    curl_global_cleanup();
    plan_free(&app.plan);
    cli_free(&app.opts);
    return status;
}

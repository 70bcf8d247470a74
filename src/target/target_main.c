/* hopper-target: the demo HTTP server hopper is tested and benchmarked
 * against. This file owns the process: options, resource limits, signals, the
 * loop, the TLS context of each serving process, and the exit report; the
 * server itself is target_server (HTTP/2 in target_h2), and --workers
 * (several processes on one port) is target_workers. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "hopper.h"
#include "net/tls.h"
#include "target/target_auth.h"
#include "target/target_server.h"
#include "target/target_stall.h"
#include "target/target_workers.h"
#include "util/child.h"
#include "util/fdlimit.h"



#define DEFAULT_PORT 8082
#define DEFAULT_BIND "127.0.0.1"
#define MAX_DELAY_US (3600ULL * 1000000ULL) /* an hour: beyond that it is a typo */

struct options {
    struct target_config cfg;
    bool seed_given;
    unsigned workers; /* processes; 1 serves from this one */
    uint64_t stall_us, stall_every_us; /* --stall, --stall-every; 0 = not given */
};

/* Everything the signal callbacks need, reached through handle->data. */
struct shutdown_watch {
    uv_signal_t sigint;
    uv_signal_t sigterm;
    struct target_server *server;
    struct target_workers *worker; /* NULL without --workers */
};

static const char usage_text[] =
    "Usage: hopper-target [OPTIONS]\n"
    "A small HTTP/1.1 and HTTP/2 server that plays a movie API, for load testing\n"
    "with hopper. HTTP/2 comes with prior knowledge (h2c) on the plain port, and by\n"
    "ALPN (\"h2\", else \"http/1.1\") with --tls.\n"
    "\n"
    "Routes: GET|HEAD /status, /api/id/:id, /api/title/:title/:year\n"
    "\n"
    "A login flow (see hopper-target(1) for the JSON shapes):\n"
    "  POST /login {\"user\": \"user001\", \"password\": \"pass001\"}\n"
    "                        200 {\"token\": \"<32 hex>\", \"user\": \"user001\"} and the\n"
    "                        cookie session=<token>; 401 bad credentials; 400 bad body\n"
    "  with the token as \"Authorization: Bearer <token>\" or the session cookie\n"
    "  (else 401 {\"error\": \"no valid token\"}):\n"
    "  GET|HEAD /api/movies?page=N   10 of 1000 movies, tt0000001..tt0001000\n"
    "  GET|HEAD /api/movie/:id       one movie\n"
    "  POST /api/movie/:id/rating    201 {\"ok\": true, \"id\": \"...\"}\n"
    "  POST /logout                  200 {\"ok\": true}; the token is refused after\n"
    "Accounts: user001 .. user050, passwords pass001 .. pass050 (same number).\n"
    "Tokens are checked by every --workers process alike; they change each run.\n"
    "\n"
    "Options:\n"
    "  -p, --port N          TCP port (default 8082; 0 picks a free port)\n"
    "  -b, --bind ADDR       IPv4 or IPv6 address to listen on (default 127.0.0.1)\n"
    "      --delay D         wait before each answer: 20ms, or a range 10ms-30ms;\n"
    "                        units us, ms, s (a bare number is milliseconds)\n"
    "      --fail-rate F     answer this share (0..1) of requests with 500\n"
    "      --fail-status N   ... or with this status instead (400-599), e.g. 503\n"
    "      --close-rate F    close the connection instead of answering this share\n"
    "                        (HTTP/2: GOAWAY, the request refused, then close)\n"
    "      --seed N          random seed for the rates and delays (default: the time)\n"
    "      --workers N       serve from N processes (1-64) sharing the port, for\n"
    "                        more connections than one process may open (default 1)\n"
    "      --tls CERT KEY    speak TLS only, with this certificate chain and key\n"
    "                        (PEM files): HTTP/1.1 and HTTP/2 over TLS\n"
    "      --tls-no-close-notify\n"
    "                        when the server closes a TLS connection (--close-rate,\n"
    "                        Connection: close), no close_notify before the FIN\n"
    "      --h2-goaway N     HTTP/2: after N requests on a connection, GOAWAY\n"
    "                        (NO_ERROR) naming the last one, then close\n"
    "      --h2-rst-rate F   HTTP/2: answer this share (0..1) of requests with\n"
    "                        RST_STREAM (INTERNAL_ERROR), counted as \"reset\"\n"
    "      --stall S --stall-every P\n"
    "                        freeze the whole server for S at the end of every\n"
    "                        period P from start (1s and 10s: 9 s of answers,\n"
    "                        then 1 s of none), like a server paused with SIGSTOP;\n"
    "                        the same moments in every --workers process\n"
    "  -q, --quiet           print only the \"listening on\" line, no exit report\n"
    "  -h, --help            show this help\n"
    "  -V, --version         show the version\n"
    "\n"
    "The first line on stdout is \"listening on ADDR:PORT\"; with --stall the second\n"
    "is \"stall S s every P s, the first at unix T\". SIGINT or SIGTERM stops\n"
    "the server and prints requests answered per method and path (and, once the\n"
    "login flow was used: tokens issued, token ok, token bad, logouts, logins refused;\n"
    "and requests reset, once --h2-rst-rate reset any).\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hopper-target: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'hopper-target --help' for more information.\n", stderr);
    va_end(ap);
    exit(HOPPER_EXIT_USAGE);
}

/* A whole unsigned decimal number, no sign, no trailing bytes. */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool parse_rate(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 || v > 1)
        return false;
    *out = v;
    return true;
}

/* One duration: a number with an optional fraction, then us, ms or s; no
 * unit means default_unit_us (which is 0 when the caller wants to know). */
static const char *parse_one_delay(const char *s, uint64_t default_unit_us, uint64_t *out_us,
                                   bool *had_unit)
{
    const char *p = s;
    if (!(*p >= '0' && *p <= '9') && *p != '.')
        return "expected a number";
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno != 0 || !isfinite(v) || v < 0)
        return "expected a number";
    uint64_t unit = default_unit_us;
    *had_unit = true;
    if (strcmp(end, "us") == 0)
        unit = 1;
    else if (strcmp(end, "ms") == 0)
        unit = 1000;
    else if (strcmp(end, "s") == 0)
        unit = 1000000;
    else if (*end == '\0')
        *had_unit = false;
    else
        return "unknown unit (use us, ms or s)";
    double us = v * (double)unit;
    if (us > (double)MAX_DELAY_US)
        return "longer than an hour";
    *out_us = (uint64_t)(us + 0.5);
    return NULL;
}

/* "20ms", "20" (ms), "500us", "1.5s", or a range "10ms-30ms". In a range
 * whose low end has no unit, the high end's unit applies ("10-30us"). */
static const char *parse_delay(const char *s, uint64_t *min_us, uint64_t *max_us)
{
    char low[64];
    if (*s == '-')
        return "a delay cannot be negative";
    const char *dash = strchr(s, '-');
    if (dash == NULL) {
        bool had_unit;
        const char *why = parse_one_delay(s, 1000, min_us, &had_unit);
        *max_us = *min_us;
        return why;
    }
    size_t low_len = (size_t)(dash - s);
    if (low_len == 0 || low_len >= sizeof(low))
        return "a range needs a low and a high end, like 10ms-30ms";
    memcpy(low, s, low_len);
    low[low_len] = '\0';

    bool high_unit, low_unit;
    const char *why = parse_one_delay(dash + 1, 1000, max_us, &high_unit);
    if (why != NULL)
        return why;
    uint64_t high_unit_us = 1000;
    if (high_unit) {
        const char *u = dash + 1 + strspn(dash + 1, "0123456789.");
        high_unit_us = strcmp(u, "us") == 0 ? 1 : strcmp(u, "s") == 0 ? 1000000 : 1000;
    }
    why = parse_one_delay(low, high_unit_us, min_us, &low_unit);
    if (why != NULL)
        return why;
    if (*min_us > *max_us)
        return "the low end of the range is above the high end";
    return NULL;
}

static void parse_bind(const char *s, int port, struct sockaddr_storage *addr)
{
    char host[INET6_ADDRSTRLEN + 2];
    size_t len = strlen(s);
    /* Accept "[::1]" too, the way it appears in URLs. */
    if (len >= 2 && s[0] == '[' && s[len - 1] == ']' && len - 2 < sizeof(host)) {
        memcpy(host, s + 1, len - 2);
        host[len - 2] = '\0';
    } else if (len < sizeof(host)) {
        memcpy(host, s, len + 1);
    } else {
        usage_error("--bind: '%s' is not an IPv4 or IPv6 address", s);
    }
    memset(addr, 0, sizeof(*addr));
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)addr) == 0)
        return;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)addr) == 0)
        return;
    usage_error("--bind: '%s' is not an IPv4 or IPv6 address (names are not looked up)", s);
}

/* One duration of --stall or --stall-every: the units of --delay, no range. */
static void parse_stall_option(const char *name, const char *s, uint64_t *out_us)
{
    bool had_unit;
    const char *why = *s == '-'              ? "a duration cannot be negative"
                      : strchr(s, '-') != NULL ? "one duration, not a range"
                                               : parse_one_delay(s, 1000, out_us, &had_unit);
    if (why == NULL && *out_us == 0)
        why = "must be more than 0";
    if (why != NULL)
        usage_error("%s: '%s': %s", name, s, why);
}

/* --stall and --stall-every come together, and the stall fits in the period. */
static void check_stall(struct options *o)
{
    if (o->stall_us == 0 && o->stall_every_us == 0)
        return;
    if (o->stall_every_us == 0)
        usage_error("--stall needs --stall-every P: how often to stall");
    if (o->stall_us == 0)
        usage_error("--stall-every needs --stall S: how long each stall lasts");
    const char *why = target_stall_check(o->stall_us, o->stall_every_us);
    if (why != NULL)
        usage_error("--stall: %s", why);
    o->cfg.stall.stall_ns = o->stall_us * 1000;
    o->cfg.stall.every_ns = o->stall_every_us * 1000;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    enum {
        OPT_DELAY = 256,
        OPT_FAIL_RATE,
        OPT_FAIL_STATUS,
        OPT_CLOSE_RATE,
        OPT_SEED,
        OPT_WORKERS,
        OPT_TLS,
        OPT_TLS_NO_CLOSE_NOTIFY,
        OPT_H2_GOAWAY,
        OPT_H2_RST_RATE,
        OPT_STALL,
        OPT_STALL_EVERY
    };
    static const struct option long_options[] = {
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"delay", required_argument, NULL, OPT_DELAY},
        {"fail-rate", required_argument, NULL, OPT_FAIL_RATE},
        {"fail-status", required_argument, NULL, OPT_FAIL_STATUS},
        {"close-rate", required_argument, NULL, OPT_CLOSE_RATE},
        {"seed", required_argument, NULL, OPT_SEED},
        {"workers", required_argument, NULL, OPT_WORKERS},
        {"tls", required_argument, NULL, OPT_TLS},
        {"tls-no-close-notify", no_argument, NULL, OPT_TLS_NO_CLOSE_NOTIFY},
        {"h2-goaway", required_argument, NULL, OPT_H2_GOAWAY},
        {"h2-rst-rate", required_argument, NULL, OPT_H2_RST_RATE},
        {"stall", required_argument, NULL, OPT_STALL},
        {"stall-every", required_argument, NULL, OPT_STALL_EVERY},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *bind_addr = DEFAULT_BIND;
    uint64_t port = DEFAULT_PORT;
    uint64_t workers = 1;
    const char *why;

    memset(o, 0, sizeof(*o));
    opterr = 0; /* our own messages, which name the option and exit 2 */
    int opt;
    while ((opt = getopt_long(argc, argv, ":p:b:qhV", long_options, NULL)) != -1) {
        switch (opt) {
        case 'p':
            if (!parse_u64(optarg, &port) || port > 65535)
                usage_error("--port: '%s' is not a port number (0-65535)", optarg);
            break;
        case 'b':
            bind_addr = optarg;
            break;
        case OPT_DELAY:
            why = parse_delay(optarg, &o->cfg.delay_min_us, &o->cfg.delay_max_us);
            if (why != NULL)
                usage_error("--delay: '%s': %s", optarg, why);
            break;
        case OPT_FAIL_RATE:
            if (!parse_rate(optarg, &o->cfg.fail_rate))
                usage_error("--fail-rate: '%s' is not a number from 0 to 1", optarg);
            break;
        case OPT_FAIL_STATUS: {
            uint64_t code;
            if (!parse_u64(optarg, &code) || code < 400 || code > 599)
                usage_error("--fail-status: '%s' is not an error status (400-599)", optarg);
            o->cfg.fail_status = (unsigned)code;
            break;
        }
        case OPT_CLOSE_RATE:
            if (!parse_rate(optarg, &o->cfg.close_rate))
                usage_error("--close-rate: '%s' is not a number from 0 to 1", optarg);
            break;
        case OPT_SEED:
            if (!parse_u64(optarg, &o->cfg.seed))
                usage_error("--seed: '%s' is not a whole number", optarg);
            o->seed_given = true;
            break;
        case OPT_WORKERS:
            if (!parse_u64(optarg, &workers) || workers < 1 || workers > TARGET_WORKERS_MAX)
                usage_error("--workers: '%s' is not a number of processes from 1 to %d", optarg,
                            TARGET_WORKERS_MAX);
            break;
        case OPT_TLS:
            /* Two values: getopt gives the first, the key is the next word. */
            if (optind >= argc || argv[optind][0] == '-' || argv[optind][0] == '\0')
                usage_error("--tls needs two files: --tls CERT KEY");
            o->cfg.tls_cert = optarg;
            o->cfg.tls_key = argv[optind++];
            break;
        case OPT_TLS_NO_CLOSE_NOTIFY:
            o->cfg.tls_no_close_notify = true;
            break;
        case OPT_H2_GOAWAY:
            if (!parse_u64(optarg, &o->cfg.h2_goaway_after) || o->cfg.h2_goaway_after == 0)
                usage_error("--h2-goaway: '%s' is not a number of requests (1 or more)", optarg);
            break;
        case OPT_H2_RST_RATE:
            if (!parse_rate(optarg, &o->cfg.h2_rst_rate))
                usage_error("--h2-rst-rate: '%s' is not a number from 0 to 1", optarg);
            break;
        case OPT_STALL:
            parse_stall_option("--stall", optarg, &o->stall_us);
            break;
        case OPT_STALL_EVERY:
            parse_stall_option("--stall-every", optarg, &o->stall_every_us);
            break;
        case 'q':
            o->cfg.quiet = true;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        case 'V':
            printf("hopper-target %s\n", HOPPER_VERSION);
            exit(0);
        case ':':
            usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            /* glibc leaves the offending word at optind - 1; a long option
             * may also be known but given a value it does not take. */
            if (strncmp(argv[optind - 1], "--", 2) == 0)
                usage_error("unknown option, or an option that takes no value: '%s'", argv[optind - 1]);
            usage_error("unknown option '-%c'", optopt);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument '%s'", argv[optind]);
    if (o->cfg.tls_no_close_notify && o->cfg.tls_cert == NULL)
        usage_error("--tls-no-close-notify needs --tls CERT KEY");
    check_stall(o);
    parse_bind(bind_addr, (int)port, &o->cfg.addr);
    o->workers = (unsigned)workers;
    if (!o->seed_given)
        o->cfg.seed = (uint64_t)time(NULL) ^ uv_hrtime() ^ ((uint64_t)getpid() << 32);
}

/* A load test opens many connections: raise the open-file limit. */
static void raise_open_file_limit(bool quiet)
{
    int err = 0;
    fdlimit_raise(&err);
    if (err && !quiet)
        fprintf(stderr, "hopper-target: could not raise the open file limit: %s\n", strerror(err));
}

static void on_signal_closed(uv_handle_t *handle)
{
    (void)handle; /* embedded in main's shutdown_watch: nothing to free */
}

static void on_stop_signal(uv_signal_t *sig, int signum)
{
    struct shutdown_watch *w = sig->data;
    (void)signum;
    target_server_stop(w->server);
    if (w->worker != NULL)
        target_workers_stopping(w->worker);
    /* Closing the watchers lets the loop end; a second signal then gets the
     * default action, which is a way out if shutdown ever hangs. A worker
     * blocks SIGTERM instead: its parent is its way out. */
    if (!uv_is_closing((uv_handle_t *)&w->sigint))
        uv_close((uv_handle_t *)&w->sigint, on_signal_closed);
    if (!uv_is_closing((uv_handle_t *)&w->sigterm))
        uv_close((uv_handle_t *)&w->sigterm, on_signal_closed);
}

static void print_listen_error(const struct sockaddr_storage *addr, int err)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port;
    if (addr->ss_family == AF_INET6) {
        uv_ip6_name((const struct sockaddr_in6 *)addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    } else {
        uv_ip4_name((const struct sockaddr_in *)addr, host, sizeof(host));
        port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
    }
    fprintf(stderr, "hopper-target: cannot listen on %s port %d: %s\n", host, port, uv_strerror(err));
}

/* Stops as on a signal, for a worker whose parent is gone before it began. */
static void stop_now(struct shutdown_watch *w)
{
    on_stop_signal(&w->sigterm, SIGTERM);
}

/* The TLS context of one serving process (net/tls: one per loop), or NULL
 * without --tls. NULL with a message naming the file when it cannot be made. */
static bool make_tls(const struct target_config *cfg, tls_ctx_t **out)
{
    *out = NULL;
    if (cfg->tls_cert == NULL)
        return true;
    char why[512];
    tls_config_t tc = {.server = true, .cert_file = cfg->tls_cert, .key_file = cfg->tls_key, .h2 = true,
                       .ticket_keys = cfg->tls_ticket_keys};
    *out = tls_ctx_new(&tc, why, sizeof(why));
    if (*out == NULL) {
        fprintf(stderr, "hopper-target: --tls: %s\n", why);
        return false;
    }
    return true;
}

/* The schedule line after "listening on", unless --quiet: a test reads the
 * windows from it. */
static void print_stall_schedule(const struct target_config *cfg, FILE *out)
{
    if (cfg->stall.stall_ns == 0 || cfg->quiet)
        return;
    char line[128];
    target_stall_describe(&cfg->stall, line, sizeof(line));
    fprintf(out, "%s\n", line);
}

/* Runs one server on a loop of its own until SIGINT or SIGTERM: the whole of
 * hopper-target without --workers, and each worker with it. Without a
 * worker, it prints the listening line and the exit report itself; a worker
 * tells its parent instead, which prints both for all the workers. Returns
 * the exit status. */
static int serve(const struct target_config *cfg_in, struct target_workers *worker)
{
    struct target_config config = *cfg_in;
    const struct target_config *cfg = &config;
    raise_open_file_limit(cfg->quiet);
    if (!make_tls(cfg_in, &config.tls)) {
        if (worker != NULL)
            target_workers_failed(worker, UV_EINVAL);
        return 1;
    }

    uv_loop_t loop;
    int err = uv_loop_init(&loop);
    if (err < 0) {
        fprintf(stderr, "hopper-target: cannot start the event loop: %s\n", uv_strerror(err));
        tls_ctx_free(config.tls);
        return 1;
    }

    struct target_server *server = NULL;
    err = target_server_new(&loop, cfg, &server);
    if (err < 0) {
        if (worker != NULL)
            target_workers_failed(worker, err);
        else
            print_listen_error(&cfg->addr, err);
        uv_run(&loop, UV_RUN_DEFAULT); /* lets the half-made server close */
        uv_loop_close(&loop);
        tls_ctx_free(config.tls);
        return 1;
    }

    int status = 0;
    struct shutdown_watch watch = {.server = server, .worker = worker};
    uv_signal_init(&loop, &watch.sigint);
    uv_signal_init(&loop, &watch.sigterm);
    watch.sigint.data = &watch;
    watch.sigterm.data = &watch;
    uv_signal_start(&watch.sigint, on_stop_signal, SIGINT);
    uv_signal_start(&watch.sigterm, on_stop_signal, SIGTERM);

    if (worker != NULL) {
        if (target_workers_ready(worker) < 0) {
            stop_now(&watch);
            status = 1;
        }
    } else {
        char address[96];
        err = target_server_address(server, address, sizeof(address));
        if (err < 0) {
            fprintf(stderr, "hopper-target: cannot read the bound address: %s\n", uv_strerror(err));
            stop_now(&watch);
            status = 1;
        } else {
            printf("listening on %s\n", address);
            print_stall_schedule(cfg, stdout);
            fflush(stdout);
        }
    }

    uv_run(&loop, UV_RUN_DEFAULT);

    /* Every handle is closed by now; EBUSY here would mean one leaked. */
    err = uv_loop_close(&loop);
    if (worker != NULL) {
        struct target_counts_totals totals;
        const struct target_counts *counts = target_server_counts(server, &totals);
        if (status == 0 && target_workers_send(worker, counts, &totals) < 0)
            status = 1; /* the parent is gone: nobody to tell */
    } else if (!cfg->quiet && status == 0) {
        target_server_report(server, stdout);
    }
    target_server_free(server);
    tls_ctx_free(config.tls); /* after the connections that used it */
    if (err != 0) {
        fprintf(stderr, "hopper-target: event loop did not close cleanly: %s\n", uv_strerror(err));
        return 1;
    }
    if (fflush(stdout) != 0)
        return 1;
    return status;
}

int main(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);

    /* A bad certificate or key is the command line's mistake: say which file,
     * before anything listens or forks. Each serving process then makes its
     * own context. */
    tls_ctx_t *tls_check;
    if (o.cfg.tls_cert &&
        getrandom(o.cfg.tls_ticket_keys, sizeof o.cfg.tls_ticket_keys, 0) !=
            (ssize_t)sizeof o.cfg.tls_ticket_keys) {
        fprintf(stderr, "hopper-target: no random bytes for the session ticket keys: %s\n",
                strerror(errno));
        return 1;
    }
    if (!make_tls(&o.cfg, &tls_check))
        return HOPPER_EXIT_USAGE;
    tls_ctx_free(tls_check);

    /* A client that disconnects mid-write must cost us an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);

    /* Before the fork: the workers must share the token keys and the set of
     * logged-out tokens (target_auth.h). */
    int err = target_auth_new(&o.cfg.auth);
    if (err < 0) {
        fprintf(stderr, "hopper-target: cannot map the token store: %s\n", strerror(-err));
        return 1;
    }
    /* The stall windows' anchor: here, before any fork, so that every worker
     * freezes at the same moments (target_stall.h). */
    o.cfg.stall.anchor_ns = uv_hrtime();
    if (o.workers == 1) {
        int status = serve(&o.cfg, NULL);
        target_auth_free(o.cfg.auth);
        return status;
    }

    /* Before any loop exists: every process makes its own after the fork. */
    struct target_workers *workers = NULL;
    err = target_workers_new(&o.cfg, o.workers, &workers);
    if (err < 0) {
        print_listen_error(&o.cfg.addr, err);
        target_auth_free(o.cfg.auth);
        return 1;
    }
    err = target_workers_fork(workers);
    if (err < 0) {
        fprintf(stderr, "hopper-target: cannot start the workers: %s\n", uv_strerror(err));
        target_workers_free(workers);
        target_auth_free(o.cfg.auth);
        return 1;
    }
    if (target_workers_index(workers) >= 0) {
        struct target_config cfg;
        target_workers_worker_config(workers, &cfg);
        int status = serve(&cfg, workers);
        target_workers_free(workers);
        target_auth_free(cfg.auth); /* this process's mapping; the others keep theirs */
        child_exit(status); /* a fork of the parent: no exit(), see util/child.h */
    }
    int status = target_workers_supervise(workers, stdout);
    target_workers_free(workers);
    target_auth_free(o.cfg.auth);
    return status;
}

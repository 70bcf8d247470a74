/* attach: see include/control/attach.h. */
#include "control/attach.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "hopper.h"
#include "control/proto.h"
#include "control/snapwire.h"
#include "util/frame.h"
#include "util/log.h"
#include "util/text.h"
#include "view/dash.h"
#include "view/tui.h"

typedef struct {
    uv_loop_t loop;
    attach_opts_t opts;
    frame_conn_t conn;            /* conn.data = this */
    frame_buf_t out;
    /* Two decoded snapshots: the one shown, and the one the next frame is
     * decoded into. The dashboard's copy points at the strings of the one
     * shown, so a new one is decoded into the other, swapped in, and drawn
     * at once (which moves the dashboard's copy onto it). */
    snapwire_t snaps[2];
    int cur;
    bool have_snap;
    snapwire_checks_t checks;
    log_t log;                    /* the test's lines, kept (log_keep) */
    unsigned long log_seq;        /* the test's newest line received */
    tui_t tui;
    bool tui_on;
    bool hello_ok;
    bool conn_open;
    bool done;                    /* finishing: the handles are closing */
    proto_focus_t focus;          /* the selected row the test was last told of */
    uv_signal_t sig_hup, sig_int, sig_term;
    uv_timer_t finish;            /* closes everything outside the callback that decided to */
    int status;
    char msg[LOG_LINE_MAX + 256]; /* said once the terminal is back */
} attach_t;

static const struct option attach_options[] = {
    {"ascii", no_argument, NULL, 'a'},
    {"no-color", no_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void attach_usage(FILE *f)
{
    fputs("usage: hopper attach PATH [--ascii] [--no-color]\n"
          "\n"
          "Shows the dashboard of a test started with --control PATH, and steers it.\n"
          "q detaches (the test goes on); X then y stops the test; every other key works\n"
          "as in the test's own dashboard. Closing the terminal or Ctrl-C detaches too.\n"
          "The viewer redraws with each snapshot the test sends (the test's --refresh).\n"
          "\n"
          "      --ascii                ASCII charts instead of Unicode blocks\n"
          "      --no-color             no colours (NO_COLOR in the environment does the same)\n"
          "  -h, --help                 this help\n"
          "\n"
          "Exit status: 0 detached, or the test ended; 2 bad usage, no such socket, not\n"
          "allowed (or served by another user), another protocol version; 1 the\n"
          "connection failed or was lost, or the test refused it (too many viewers).\n",
          f);
}

attach_parse_t attach_parse(int argc, char **argv, attach_opts_t *o, FILE *out, char *err,
                            size_t errlen)
{
    memset(o, 0, sizeof *o);
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", attach_options, NULL)) != -1) {
        switch (c) {
        case 'a':
            o->ascii = true;
            break;
        case 'c':
            o->no_color = true;
            break;
        case 'h':
            attach_usage(out);
            return ATTACH_EXIT_OK;
        case ':':
            snprintf(err, errlen, "attach: %s needs a value", argv[optind - 1]);
            return ATTACH_USAGE_ERROR;
        default:
            snprintf(err, errlen, "attach: unknown option %.100s", argv[optind - 1]);
            return ATTACH_USAGE_ERROR;
        }
    }
    if (optind >= argc) {
        snprintf(err, errlen, "attach: give the socket of the test: hopper attach PATH (the "
                 "test's --control PATH)");
        return ATTACH_USAGE_ERROR;
    }
    if (optind + 1 < argc) {
        snprintf(err, errlen, "attach: unexpected argument '%.100s'", argv[optind + 1]);
        return ATTACH_USAGE_ERROR;
    }
    o->path = argv[optind];
    return ATTACH_RUN;
}

/* ---- the end ---- */

static void on_finish(uv_timer_t *t);

/* Decides how the viewer ends; the closing itself runs from a timer, outside
 * whatever callback (a key, a frame) got here. The first reason wins. */
static void finish(attach_t *a, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish(attach_t *a, int status, const char *fmt, ...)
{
    if (a->done)
        return;
    a->done = true;
    a->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->msg, sizeof a->msg, fmt, ap);
    va_end(ap);
    if (a->conn_open)
        frame_conn_stop(&a->conn);
    uv_timer_start(&a->finish, on_finish, 0, 0);
}

static void on_finish(uv_timer_t *t)
{
    attach_t *a = t->data;
    if (a->tui_on) {
        tui_close(&a->tui);
        a->tui_on = false;
    }
    if (a->conn_open)
        frame_conn_close(&a->conn, NULL);
    uv_close((uv_handle_t *)&a->sig_hup, NULL);
    uv_close((uv_handle_t *)&a->sig_int, NULL);
    uv_close((uv_handle_t *)&a->sig_term, NULL);
    uv_close((uv_handle_t *)&a->finish, NULL);
}

static void send_frame(attach_t *a)
{
    if (a->conn_open && !a->done)
        frame_conn_send(&a->conn, &a->out);
    a->out.len = 0;
}

static void detach(void *arg)
{
    attach_t *a = arg;
    proto_put_bye(&a->out, "detached");
    send_frame(a);
    finish(a, HOPPER_EXIT_OK, "detached from %s: the test goes on", a->opts.path);
}

static void on_signal(uv_signal_t *s, int signum)
{
    attach_t *a = s->data;
    proto_put_bye(&a->out, strsignal(signum));
    send_frame(a);
    finish(a, HOPPER_EXIT_OK, "%s: detached from %s: the test goes on", strsignal(signum),
           a->opts.path);
}

/* ---- the steer_t of the dashboard: the socket ---- */

/* Tells the test which row is selected when that changed (a key moved it,
 * or the rows did): the snapshots then carry that row's timelines, so its
 * endpoint view has charts whatever its place in the table. Checked at
 * each draw, which follows every key: the dashboard needs no hook. */
static void tell_focus(attach_t *a, const snap_t *s)
{
    if (!a->tui.open)
        return;
    size_t sel = dash_selected(&a->tui.dash, s);
    proto_focus_t f = {.row = sel < s->n_entries};
    if (f.row) {
        f.index = (uint32_t)sel;
        f.key = proto_row_key(s->entries[sel].method, s->entries[sel].name);
    }
    if (f.row == a->focus.row && f.index == a->focus.index && f.key == a->focus.key)
        return;
    a->focus = f;
    proto_put_focus(&a->out, f);
    send_frame(a);
}

static void copy_array(void **dst, size_t *cap, const void *src, size_t n, size_t item)
{
    *dst = snap_reserve(*dst, cap, n, item);
    if (n)
        memcpy(*dst, src, n * item);
}

/* A deep copy of the arrays; the strings and stages stay the decoded
 * snapshot's (see attach_t.snaps). */
static void ctl_snapshot(void *ctx, snap_t *out)
{
    attach_t *a = ctx;
    const snap_t *s = &a->snaps[a->cur].snap;
    snap_t keep = *out;
    *out = *s;
    out->entries = keep.entries, out->cap_entries = keep.cap_entries;
    out->errors = keep.errors, out->cap_errors = keep.cap_errors;
    out->recent = keep.recent, out->cap_recent = keep.cap_recent;
    out->history = keep.history, out->cap_history = keep.cap_history;
    out->events = keep.events, out->cap_events = keep.cap_events;
    out->points = keep.points, out->cap_points = keep.cap_points;
    copy_array((void **)&out->entries, &out->cap_entries, s->entries, s->n_entries, sizeof *s->entries);
    copy_array((void **)&out->errors, &out->cap_errors, s->errors, s->n_errors, sizeof *s->errors);
    copy_array((void **)&out->recent, &out->cap_recent, s->recent, s->n_recent, sizeof *s->recent);
    copy_array((void **)&out->history, &out->cap_history, s->history, s->n_history, sizeof *s->history);
    copy_array((void **)&out->events, &out->cap_events, s->events, s->n_events, sizeof *s->events);
    copy_array((void **)&out->points, &out->cap_points, s->points, s->n_points, sizeof *s->points);
    tell_focus(a, s);
}

/* A command goes to the test, and the snapshot shown takes its value at
 * once, so that the next key of a burst (W W W) counts from it, as in the
 * test's own dashboard; the test's next snapshot says what really is. */
static void command(attach_t *a, proto_cmd_kind_t kind, double value)
{
    proto_put_command(&a->out, (proto_cmd_t){kind, value});
    send_frame(a);
}

static void ctl_users(void *ctx, uint64_t n)
{
    attach_t *a = ctx;
    command(a, PROTO_CMD_USERS, (double)n);
    a->snaps[a->cur].snap.target_users = n;
}

static void ctl_rate(void *ctx, double r)
{
    attach_t *a = ctx;
    command(a, PROTO_CMD_SPAWN_RATE, r);
    a->snaps[a->cur].snap.spawn_rate = r;
}

static void ctl_arrival_rate(void *ctx, double r)
{
    attach_t *a = ctx;
    command(a, PROTO_CMD_ARRIVAL_RATE, r);
    a->snaps[a->cur].snap.arrival_rate = r;
}

static void ctl_pause(void *ctx, bool p)
{
    attach_t *a = ctx;
    command(a, PROTO_CMD_PAUSE, p ? 1 : 0);
    a->snaps[a->cur].snap.paused = p;
}

static void ctl_reset(void *ctx) { command(ctx, PROTO_CMD_RESET, 0); }

static void ctl_stop(void *ctx)
{
    attach_t *a = ctx;
    command(a, PROTO_CMD_STOP, 0);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    log_keep(&a->log, (double)tv.tv_sec + tv.tv_usec / 1e6, "stopping the test");
}

static size_t ctl_checks(void *ctx, const snap_t *s, const check_result_t **out)
{
    (void)s;
    attach_t *a = ctx;
    *out = a->checks.results;
    return a->checks.n;
}

/* ---- the socket ---- */

static void open_dashboard(attach_t *a)
{
    tui_options_t to = {.ascii = a->opts.ascii, .no_color = a->opts.no_color,
                        .detach = detach, .detach_arg = a};
    steer_t ctl = {.snapshot = ctl_snapshot, .set_target_users = ctl_users,
                   .set_spawn_rate = ctl_rate, .set_arrival_rate = ctl_arrival_rate,
                   .pause = ctl_pause, .reset_stats = ctl_reset, .stop = ctl_stop,
                   .checks = ctl_checks, .ctx = a};
    if (tui_open(&a->tui, &a->loop, &to, &ctl, &a->log) != 0) {
        finish(a, HOPPER_EXIT_USAGE, "the terminal cannot show the dashboard");
        return;
    }
    a->tui_on = true;
    /* A viewer draws once per snapshot received (on_msg) and after each
     * key (the dashboard's own): its timer would only draw the same again. */
    uv_timer_stop(&a->tui.refresh);
}

static void on_msg(frame_conn_t *c, unsigned type, const uint8_t *p, size_t n)
{
    attach_t *a = c->data;
    if (a->done)
        return;
    if (!a->hello_ok) {
        proto_hello_t h;
        char why[512];
        if (type != PROTO_HELLO || proto_get_hello(p, n, &h) != 0)
            finish(a, HOPPER_EXIT_USAGE, "%s: not a hopper test's control socket", a->opts.path);
        else if (!proto_compatible(&h, false, why, sizeof why))
            finish(a, HOPPER_EXIT_USAGE, "%s: %s", a->opts.path, why);
        else
            a->hello_ok = true;
        return;
    }
    int rc = 0;
    char reason[LOG_LINE_MAX];
    switch (type) {
    case PROTO_SNAPSHOT: {
        int next = !a->cur;
        rc = snapwire_get_snapshot(&a->snaps[next], p, n);
        if (rc != 0)
            break;
        a->cur = next;
        a->have_snap = true;
        if (!a->tui_on)
            open_dashboard(a);
        else
            tui_redraw(&a->tui);
        return;
    }
    case PROTO_CHECKS:
        rc = snapwire_get_checks(&a->checks, p, n);
        break;
    case PROTO_LOG:
        rc = proto_get_log(p, n, &a->log, &a->log_seq);
        break;
    case PROTO_BYE:
        rc = proto_get_bye(p, n, reason, sizeof reason);
        if (rc == 0) {
            const snap_entry_t *t = &a->snaps[a->cur].snap.total;
            /* reason is sanitised (proto_get_bye): it reaches the terminal. */
            if (a->have_snap)
                finish(a, HOPPER_EXIT_OK, "%s: %llu requests, %llu failures", reason,
                       (unsigned long long)t->requests, (unsigned long long)t->failures);
            else if (strcmp(reason, "the test has ended") == 0)
                finish(a, HOPPER_EXIT_OK, "%s", reason);
            else
                /* Refused before anything was shown ("too many viewers"). */
                finish(a, HOPPER_EXIT_FAILURES, "%s: %s", a->opts.path, reason);
        }
        break;
    default:
        rc = -1;
        break;
    }
    if (rc != 0)
        finish(a, HOPPER_EXIT_FAILURES, "%s: the test sent a frame this viewer cannot read (type %u, "
               "%zu bytes): use the hopper that started the test", a->opts.path, type, n);
}

static void on_end(frame_conn_t *c, int err)
{
    attach_t *a = c->data;
    if (err == UV_EPROTO)
        finish(a, HOPPER_EXIT_FAILURES, "%s: the test sent a malformed frame", a->opts.path);
    else if (!a->hello_ok)
        finish(a, HOPPER_EXIT_FAILURES, "%s: the test closed the connection before its hello (it "
               "may have refused this user: see its log)", a->opts.path);
    else if (a->have_snap)
        /* No goodbye, so no final snapshot: the test was killed, or its
         * machine went away. */
        finish(a, HOPPER_EXIT_OK, "the test has ended without a goodbye (killed?): %llu requests, "
               "%llu failures when last seen",
               (unsigned long long)a->snaps[a->cur].snap.total.requests,
               (unsigned long long)a->snaps[a->cur].snap.total.failures);
    else
        finish(a, HOPPER_EXIT_OK, "the test has ended");
}

bool attach_server_allowed(uid_t server, uid_t self)
{
    return server == self || server == 0;
}

/* Connects, or says why not: 0, or the exit status with the message in err. */
static int connect_to(const char *path, int *fd_out, char *err, size_t errlen)
{
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof addr.sun_path) {
        snprintf(err, errlen, "%.200s: a Unix socket's path is 1 to %zu bytes long", path,
                 sizeof addr.sun_path - 1);
        return HOPPER_EXIT_USAGE;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
        return HOPPER_EXIT_FAILURES;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
        /* Who serves it: in a shared directory, anyone may have made the
         * socket at that path. Only our own test (or root's) is believed. */
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
            snprintf(err, errlen, "%s: the user serving the socket cannot be known: %s", path,
                     strerror(errno));
            close(fd);
            return HOPPER_EXIT_USAGE;
        }
        if (!attach_server_allowed(cred.uid, geteuid())) {
            snprintf(err, errlen, "%s: served by uid %u (pid %d), not by this user (uid %u) or "
                     "root: refused (another user may have made the socket)", path,
                     (unsigned)cred.uid, (int)cred.pid, (unsigned)geteuid());
            close(fd);
            return HOPPER_EXIT_USAGE;
        }
        *fd_out = fd;
        return 0;
    }
    int why = errno;
    close(fd);
    struct stat st;
    bool is_sock = lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
    switch (why) {
    case ENOENT:
        snprintf(err, errlen, "%s: no such socket: is a test running with --control %s?", path, path);
        return HOPPER_EXIT_USAGE;
    case EACCES:
    case EPERM:
        snprintf(err, errlen, "%s: permission denied: only the user who started the test (or "
                 "root) may attach", path);
        return HOPPER_EXIT_USAGE;
    case ECONNREFUSED:
        if (!is_sock) {
            snprintf(err, errlen, "%s: not a socket (a test's --control PATH is)", path);
            return HOPPER_EXIT_USAGE;
        }
        snprintf(err, errlen, "%s: no test is listening on it (it has ended, or was killed)", path);
        return HOPPER_EXIT_FAILURES;
    default:
        snprintf(err, errlen, "%s: %s", path, strerror(why));
        return why == ENOTDIR || why == ENAMETOOLONG || why == ELOOP ? HOPPER_EXIT_USAGE
                                                                     : HOPPER_EXIT_FAILURES;
    }
}

static void start_signal(attach_t *a, uv_signal_t *s, int signum)
{
    uv_signal_init(&a->loop, s);
    s->data = a;
    uv_signal_start(s, on_signal, signum);
}

int attach_main(int argc, char **argv)
{
    attach_t *a = calloc(1, sizeof *a);
    if (!a)
        return HOPPER_EXIT_INTERNAL;
    char err[1024];
    switch (attach_parse(argc, argv, &a->opts, stdout, err, sizeof err)) {
    case ATTACH_EXIT_OK:
        free(a);
        return HOPPER_EXIT_OK;
    case ATTACH_USAGE_ERROR:
        fprintf(stderr, "hopper: %s\nTry 'hopper attach --help' for more information.\n", err);
        free(a);
        return HOPPER_EXIT_USAGE;
    case ATTACH_RUN:
        break;
    }
    /* The socket first: what is wrong with PATH is the more useful news. */
    int fd = -1;
    int rc = connect_to(a->opts.path, &fd, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "hopper attach: %s\n", err);
        free(a);
        return rc;
    }
    if (!isatty(0) || !isatty(1)) {
        fprintf(stderr, "hopper attach: the dashboard needs a terminal (stdin and stdout)\n");
        close(fd);
        free(a);
        return HOPPER_EXIT_USAGE;
    }
    uv_loop_init(&a->loop);
    log_open(&a->log, NULL);
    snapwire_init(&a->snaps[0]);
    snapwire_init(&a->snaps[1]);
    snapwire_checks_init(&a->checks);
    frame_buf_init(&a->out);
    uv_timer_init(&a->loop, &a->finish);
    a->finish.data = a;
    start_signal(a, &a->sig_hup, SIGHUP);
    start_signal(a, &a->sig_int, SIGINT);
    start_signal(a, &a->sig_term, SIGTERM);
    a->conn_open = true;
    if (frame_conn_start(&a->conn, &a->loop, fd, on_msg, on_end, a) != 0)
        finish(a, HOPPER_EXIT_FAILURES, "%s: cannot read the socket", a->opts.path);
    proto_put_hello(&a->out);
    send_frame(a);
    /* Until the first snapshot (the test's next tick) draws the dashboard. */
    char shown[600];
    printf("hopper attach: waiting for the first snapshot from %s\n",
           text_sanitize(a->opts.path, shown, sizeof shown));
    fflush(stdout);

    uv_run(&a->loop, UV_RUN_DEFAULT);

    int status = a->status;
    /* The way it ended, once the terminal is back: an error on stderr. It
     * may quote the test (a goodbye, its version): sanitised, whatever
     * the decoders did. */
    if (a->msg[0]) {
        char clean[sizeof a->msg];
        fprintf(status ? stderr : stdout, "hopper attach: %s\n",
                text_sanitize(a->msg, clean, sizeof clean));
    }
    if (uv_loop_close(&a->loop) != 0) {
        fprintf(stderr, "hopper attach: internal error: the event loop did not close cleanly\n");
        status = status ? status : HOPPER_EXIT_INTERNAL;
    }
    snapwire_free(&a->snaps[0]);
    snapwire_free(&a->snaps[1]);
    snapwire_checks_free(&a->checks);
    frame_buf_free(&a->out);
    log_close(&a->log);
    free(a);
    return status;
}

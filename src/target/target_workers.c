/* target_workers: see include/target/target_workers.h.
 *
 * The parent's view of one worker goes through these states, each driven by
 * a libuv callback (the channel's reads, its close, SIGCHLD):
 *
 *   started -> ready (READY read) -> counts read, then EOF -> reaped
 *           -> failed (FAILED read, or EOF or a bad frame before READY)
 *
 * The channel carries frames (util/frame.h): READY (or FAILED with a u32
 * libuv error), then, at the end, COUNTS with the counts in target_counts'
 * encoding; the worker closes it by exiting. A worker is done when its
 * channel is closed and waitpid has reaped it; when every worker is done the
 * parent closes its signal watchers, the loop runs dry, and the counts are
 * merged and printed. */
#include "target/target_workers.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "target/target_stall.h"
#include "util/frame.h"
#include "util/xalloc.h"

/* The frames a worker sends its parent. */
enum {
    CHANNEL_READY = 1,   /* listening */
    CHANNEL_FAILED,      /* u32: the libuv error that kept it from listening */
    CHANNEL_COUNTS,      /* target_counts_put's table, once, at the end */
};
/* timeout(1) signals both the process and its group, and a process-group
 * kill plus our own can come as two signals a moment apart: only a signal
 * this long after the first counts as a second one, which kills the workers. */
#define SECOND_SIGNAL_NS (300ULL * 1000000ULL)

/* The parent's record of one worker. */
struct worker {
    struct target_workers *owner;
    frame_conn_t channel; /* data = this worker; the parent's end of the socketpair */
    int fd;               /* that end, until the channel takes it */
    pid_t pid;
    unsigned index;
    bool ready;          /* sent READY */
    int start_error;     /* sent FAILED: why it could not listen (a libuv error) */
    bool channel_closed; /* EOF read and the pipe handle closed */
    bool reaped;
    bool ended_early; /* exited before it was told to stop */
    bool counts_ok;   /* its counts arrived whole and are in the report */
    int wait_status;  /* from waitpid, once reaped */
    char *counts;     /* COUNTS' payload, copied; NULL until it came */
    size_t counts_len;
    bool garbled;     /* sent something that is not the protocol: counts untrusted */
};

struct target_workers {
    struct target_config cfg; /* the port resolved */
    unsigned count;
    int index;      /* -1 in the parent */
    int channel_fd; /* a worker's end of its socketpair */
    int reserve_fd; /* the parent's hold on the port until every worker listens */
    sigset_t saved_mask;
    char address[96]; /* "127.0.0.1:PORT", for messages and the listening line */

    /* The parent's. */
    struct worker *workers;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm, sigchld; /* data = this */
    FILE *out;
    unsigned ready;
    bool announced;     /* "listening on" printed */
    bool start_failed;  /* a worker could not listen: no report */
    bool stopping;      /* the workers have been sent SIGTERM */
    bool killing;       /* ... and SIGKILL, after a second signal */
    uint64_t stop_ns;   /* uv_hrtime() of the first stop signal */
    bool watchers_closed;
};

/* ---- reserving the port ---- */

static socklen_t addr_len(const struct sockaddr_storage *addr)
{
    return addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* A socket bound to addr, with SO_REUSEADDR (as libuv's listeners have, so
 * that connections in TIME_WAIT do not hold the port) and optionally
 * SO_REUSEPORT. Returns the fd or a negative errno. */
static int bound_socket(const struct sockaddr_storage *addr, bool reuse_port)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0) ||
        bind(fd, (const struct sockaddr *)addr, addr_len(addr)) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* Binds addr once without SO_REUSEPORT: that fails if anyone listens on the
 * port, even another hopper-target with workers (whose SO_REUSEPORT group
 * we would otherwise join and share connections with), and turns port 0
 * into a real port. Then holds the port with an SO_REUSEPORT socket that
 * does not listen, so only our workers can bind it until they all have. */
static int reserve_port(struct sockaddr_storage *addr, int *out_fd)
{
    int fd = bound_socket(addr, false);
    if (fd < 0)
        return fd;
    socklen_t len = sizeof(*addr);
    int err = getsockname(fd, (struct sockaddr *)addr, &len) == 0 ? 0 : -errno;
    close(fd);
    if (err < 0)
        return err;
    fd = bound_socket(addr, true);
    if (fd < 0)
        return fd;
    *out_fd = fd;
    return 0;
}

/* ---- forking ---- */

static void workers_free_parent_side(struct target_workers *w)
{
    if (w->workers != NULL)
        for (unsigned i = 0; i < w->count; i++)
            free(w->workers[i].counts);
    free(w->workers);
    w->workers = NULL;
}

/* In the new worker, still inside target_workers_fork. */
static void become_worker(struct target_workers *w, unsigned index, int fd, pid_t parent)
{
    for (unsigned i = 0; i < index; i++)
        close(w->workers[i].fd); /* the parent's ends of the earlier workers */
    close(w->reserve_fd);
    w->reserve_fd = -1;
    workers_free_parent_side(w);
    w->index = (int)index;
    w->channel_fd = fd;
#ifdef __linux__
    /* No worker outlives the parent; the SIGTERM waits, blocked, until the
     * worker can stop cleanly. If the parent died before prctl, do the same. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    if (getppid() != parent)
        raise(SIGTERM);
}

/* Undoes a half-done fork in the parent: the workers forked so far get
 * SIGTERM (they act on it once they listen) and are waited for. */
static void abandon_start(struct target_workers *w, unsigned forked)
{
    for (unsigned i = 0; i < forked; i++) {
        close(w->workers[i].fd);
        kill(w->workers[i].pid, SIGTERM);
    }
    for (unsigned i = 0; i < forked; i++)
        while (waitpid(w->workers[i].pid, NULL, 0) < 0 && errno == EINTR)
            ;
    sigprocmask(SIG_SETMASK, &w->saved_mask, NULL);
    workers_free_parent_side(w);
}

int target_workers_new(const struct target_config *cfg, unsigned count, struct target_workers **out)
{
    if (count < 1 || count > TARGET_WORKERS_MAX)
        return -EINVAL;
    struct target_workers *w = xcalloc(1, sizeof(*w));
    w->cfg = *cfg;
    w->count = count;
    w->index = -1;
    w->channel_fd = -1;
    w->reserve_fd = -1;
    int err = reserve_port(&w->cfg.addr, &w->reserve_fd);
    if (err < 0) {
        free(w);
        return err;
    }
    if (target_server_format_address(&w->cfg.addr, w->address, sizeof(w->address)) != 0)
        snprintf(w->address, sizeof(w->address), "?");
    *out = w;
    return 0;
}

int target_workers_fork(struct target_workers *w)
{
    w->workers = xcalloc(w->count, sizeof(*w->workers));
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &w->saved_mask);
    /* Whatever stdio holds would otherwise be written once per process. */
    fflush(stdout);
    fflush(stderr);

    pid_t parent = getpid();
    for (unsigned i = 0; i < w->count; i++) {
        int pair[2], err;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
            err = -errno;
            abandon_start(w, i);
            return err;
        }
        pid_t pid = fork();
        if (pid < 0) {
            err = -errno;
            close(pair[0]);
            close(pair[1]);
            abandon_start(w, i);
            return err;
        }
        if (pid == 0) {
            close(pair[0]);
            become_worker(w, i, pair[1], parent);
            return 0;
        }
        close(pair[1]);
        struct worker *wk = &w->workers[i];
        wk->owner = w;
        wk->pid = pid;
        wk->index = i;
        wk->fd = pair[0];
    }
    return 0;
}

int target_workers_index(const struct target_workers *w)
{
    return w->index;
}

void target_workers_worker_config(const struct target_workers *w, struct target_config *cfg)
{
    *cfg = w->cfg;
    cfg->reuse_port = true;
    cfg->seed += (uint64_t)(w->index < 0 ? 0 : w->index);
}

/* ---- the worker's side of the channel ---- */

/* A frame begun in b, finished and written whole (the worker's loop is gone,
 * or the frame is a few bytes), then b freed. 0 or a negative errno. */
static int send_frame(struct target_workers *w, frame_buf_t *b)
{
    int err = frame_end(b);
    if (err == 0)
        err = frame_write_fd(w->channel_fd, b);
    frame_buf_free(b);
    return err;
}

/* b with a frame of a type begun. */
static frame_buf_t *begin(frame_buf_t *b, unsigned type)
{
    frame_buf_init(b);
    frame_begin(b, type);
    return b;
}

int target_workers_ready(struct target_workers *w)
{
    frame_buf_t b;
    int err = send_frame(w, begin(&b, CHANNEL_READY));
    sigset_t mask = w->saved_mask;
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_SETMASK, &mask, NULL);
    return err;
}

void target_workers_stopping(struct target_workers *w)
{
    (void)w;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, NULL);
}

void target_workers_failed(struct target_workers *w, int err)
{
    frame_buf_t b;
    frame_put_u32(begin(&b, CHANNEL_FAILED), (uint32_t)err);
    send_frame(w, &b); /* if the parent is gone, nobody is left to tell */
}

int target_workers_send(struct target_workers *w, const struct target_counts *c,
                        const struct target_counts_totals *totals)
{
    frame_buf_t b;
    target_counts_put(c, totals, begin(&b, CHANNEL_COUNTS));
    return send_frame(w, &b);
}

/* ---- the parent ---- */

/* "killed by signal 9 (Killed)" or "exited with status 1". */
static void describe_end(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(buf, len, "ended (wait status %#x)", (unsigned)status);
}

static bool ended_cleanly(const struct worker *wk)
{
    return wk->reaped && WIFEXITED(wk->wait_status) && WEXITSTATUS(wk->wait_status) == 0;
}

static void signal_workers(struct target_workers *w, int signum)
{
    /* A worker not yet reaped still owns its pid, even as a zombie, so the
     * signal cannot reach some other process. */
    for (unsigned i = 0; i < w->count; i++)
        if (!w->workers[i].reaped)
            kill(w->workers[i].pid, signum);
}

static void stop_workers(struct target_workers *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    signal_workers(w, SIGTERM);
}

static void on_watcher_closed(uv_handle_t *handle)
{
    (void)handle; /* embedded in target_workers: nothing to free */
}

/* Reacts to whatever just changed: announces, stops on a failed start, and
 * lets the loop end once every worker is done. */
static void supervise_update(struct target_workers *w)
{
    unsigned done = 0, reaped = 0;
    for (unsigned i = 0; i < w->count; i++) {
        struct worker *wk = &w->workers[i];
        if (!wk->ready && !w->start_failed && (wk->start_error != 0 || wk->channel_closed || wk->reaped)) {
            if (wk->start_error != 0)
                fprintf(stderr, "hopper-target: worker %u cannot listen on %s: %s\n", wk->index, w->address,
                        uv_strerror(wk->start_error));
            else
                fprintf(stderr, "hopper-target: worker %u (pid %d) ended before it was listening\n", wk->index,
                        (int)wk->pid);
            w->start_failed = true;
            stop_workers(w);
        }
        reaped += wk->reaped;
        done += wk->reaped && wk->channel_closed;
    }
    if (!w->announced && !w->start_failed && w->ready == w->count) {
        /* Every worker listens, so the reservation has done its job. */
        close(w->reserve_fd);
        w->reserve_fd = -1;
        fprintf(w->out, "listening on %s\n", w->address);
        if (w->cfg.stall.stall_ns > 0 && !w->cfg.quiet) {
            /* The workers' schedule: the anchor was taken before the fork. */
            char line[128];
            target_stall_describe(&w->cfg.stall, line, sizeof(line));
            fprintf(w->out, "%s\n", line);
        }
        fflush(w->out);
        w->announced = true;
    }
    if (reaped == w->count && !w->stopping) {
        fprintf(stderr, "hopper-target: no worker is left, stopping\n");
        w->stopping = true;
    }
    if (done == w->count && !w->watchers_closed) {
        w->watchers_closed = true;
        uv_close((uv_handle_t *)&w->sigint, on_watcher_closed);
        uv_close((uv_handle_t *)&w->sigterm, on_watcher_closed);
        uv_close((uv_handle_t *)&w->sigchld, on_watcher_closed);
    }
}

static void on_channel_closed(frame_conn_t *c)
{
    struct worker *wk = c->data;
    wk->channel_closed = true;
    supervise_update(wk->owner);
}

/* Before READY, anything but FAILED is a worker that cannot have started;
 * after it, anything but one COUNTS leaves its counts untrusted. */
static void on_channel_message(frame_conn_t *c, unsigned type, const uint8_t *payload, size_t len)
{
    struct worker *wk = c->data;
    struct target_workers *w = wk->owner;
    if (!wk->ready && wk->start_error == 0) {
        frame_rd_t r;
        frame_rd_init(&r, payload, len);
        if (type == CHANNEL_READY && len == 0) {
            wk->ready = true;
            w->ready++;
        } else if (type == CHANNEL_FAILED) {
            int32_t e = (int32_t)frame_get_u32(&r);
            wk->start_error = e < 0 && !r.bad ? e : UV_EPROTO;
        } else {
            wk->start_error = UV_EPROTO;
        }
        supervise_update(w);
    } else if (wk->ready && type == CHANNEL_COUNTS && wk->counts == NULL && !wk->garbled) {
        /* Copied: the payload lives in the channel's buffer only until this
         * returns, and the counts are merged once every worker has ended. */
        wk->counts = xmalloc(len ? len : 1);
        memcpy(wk->counts, payload, len);
        wk->counts_len = len;
    } else {
        wk->garbled = true;
    }
}

/* EOF: the worker has exited (or closed its end, which is the same to us);
 * or a frame that cannot be read (UV_EPROTO), after which nothing it sends is. */
static void on_channel_end(frame_conn_t *c, int err)
{
    struct worker *wk = c->data;
    if (err == UV_EPROTO) {
        wk->garbled = true;
        if (!wk->ready && wk->start_error == 0)
            wk->start_error = UV_EPROTO;
    }
    frame_conn_close(c, on_channel_closed);
}

static void on_sigchld(uv_signal_t *sig, int signum)
{
    struct target_workers *w = sig->data;
    (void)signum;
    /* Signals coalesce: look at every worker not yet reaped. Only our own
     * pids are waited for, never -1, so nobody else's child is taken. */
    for (unsigned i = 0; i < w->count; i++) {
        struct worker *wk = &w->workers[i];
        if (wk->reaped)
            continue;
        int status;
        pid_t r = waitpid(wk->pid, &status, WNOHANG);
        if (r != wk->pid)
            continue;
        wk->reaped = true;
        wk->wait_status = status;
        if (!w->stopping) {
            char how[96];
            describe_end(status, how, sizeof(how));
            wk->ended_early = true;
            if (wk->ready)
                fprintf(stderr, "hopper-target: worker %u (pid %d) %s before the server was stopped%s\n",
                        wk->index, (int)wk->pid, how,
                        ended_cleanly(wk) ? "" : "; its counts will be missing from the report");
        }
    }
    supervise_update(w);
}

static void on_stop_signal(uv_signal_t *sig, int signum)
{
    struct target_workers *w = sig->data;
    (void)signum;
    if (!w->stopping) {
        w->stop_ns = uv_hrtime();
        stop_workers(w);
    } else if (!w->killing && uv_hrtime() - w->stop_ns >= SECOND_SIGNAL_NS) {
        /* A second signal: the user wants out now. */
        w->killing = true;
        signal_workers(w, SIGKILL);
    }
}

/* Adds each worker's counts to one table and prints the report, then a line
 * per worker. Returns false if any worker's counts are missing. */
static bool report(struct target_workers *w, bool print)
{
    struct target_counts *merged = target_counts_new();
    struct target_counts_totals totals = {.show_dropped = w->cfg.close_rate > 0};
    struct {
        bool ok;
        uint64_t accepted, answered;
    } each[TARGET_WORKERS_MAX];
    bool complete = true;
    for (unsigned i = 0; i < w->count; i++) {
        struct worker *wk = &w->workers[i];
        struct target_counts_totals one = {0};
        uint64_t before = target_counts_answered(merged);
        each[i].ok = wk->ready && wk->counts != NULL && !wk->garbled &&
                     target_counts_merge_payload(merged, &one, wk->counts, wk->counts_len) == 0;
        each[i].accepted = one.connections_accepted;
        each[i].answered = target_counts_answered(merged) - before;
        totals.connections_accepted += one.connections_accepted;
        totals.connections_dropped += one.connections_dropped;
        wk->counts_ok = each[i].ok;
        complete = complete && each[i].ok;
    }
    if (print) {
        target_counts_print(merged, &totals, w->out);
        fprintf(w->out, "workers: %u\n", w->count);
        for (unsigned i = 0; i < w->count; i++) {
            if (each[i].ok) {
                fprintf(w->out, "  worker %u: %llu connections accepted, %llu requests answered\n", i,
                        (unsigned long long)each[i].accepted, (unsigned long long)each[i].answered);
            } else {
                char how[96];
                describe_end(w->workers[i].wait_status, how, sizeof(how));
                fprintf(w->out, "  worker %u: counts missing: it %s\n", i, how);
            }
        }
    }
    for (unsigned i = 0; i < w->count; i++) {
        if (each[i].ok)
            continue;
        char how[96];
        describe_end(w->workers[i].wait_status, how, sizeof(how));
        fprintf(stderr, "hopper-target: the counts of worker %u (pid %d) are missing from the report: it %s\n", i,
                (int)w->workers[i].pid, how);
    }
    target_counts_free(merged);
    return complete;
}

int target_workers_supervise(struct target_workers *w, FILE *out)
{
    w->out = out;
    int err = uv_loop_init(&w->loop);
    if (err < 0) {
        fprintf(stderr, "hopper-target: cannot start the event loop: %s\n", uv_strerror(err));
        stop_workers(w);
        for (unsigned i = 0; i < w->count; i++)
            while (waitpid(w->workers[i].pid, NULL, 0) < 0 && errno == EINTR)
                ;
        return 1;
    }
    for (unsigned i = 0; i < w->count; i++) {
        struct worker *wk = &w->workers[i];
        err = frame_conn_start(&wk->channel, &w->loop, wk->fd, on_channel_message, on_channel_end, wk);
        if (err < 0) /* cannot happen with a fresh socketpair; count it as a worker that never started */
            frame_conn_close(&wk->channel, on_channel_closed);
        wk->fd = -1; /* the channel owns it now */
    }
    w->sigint.data = w->sigterm.data = w->sigchld.data = w;
    uv_signal_init(&w->loop, &w->sigint);
    uv_signal_init(&w->loop, &w->sigterm);
    uv_signal_init(&w->loop, &w->sigchld);
    uv_signal_start(&w->sigint, on_stop_signal, SIGINT);
    uv_signal_start(&w->sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&w->sigchld, on_sigchld, SIGCHLD);
    /* Whatever arrived while blocked is delivered now, to the watchers. */
    sigprocmask(SIG_SETMASK, &w->saved_mask, NULL);

    uv_run(&w->loop, UV_RUN_DEFAULT);
    err = uv_loop_close(&w->loop);

    int status = 0;
    if (w->start_failed) {
        status = 1;
    } else {
        if (!report(w, !w->cfg.quiet))
            status = 1;
        for (unsigned i = 0; i < w->count; i++) {
            const struct worker *wk = &w->workers[i];
            if (wk->ended_early) {
                status = 1; /* said so when it happened */
            } else if (wk->counts_ok && !ended_cleanly(wk)) { /* else report() said so */
                char how[96];
                describe_end(wk->wait_status, how, sizeof(how));
                fprintf(stderr, "hopper-target: worker %u (pid %d) %s\n", i, (int)wk->pid, how);
                status = 1;
            }
        }
    }
    if (err != 0) {
        fprintf(stderr, "hopper-target: event loop did not close cleanly: %s\n", uv_strerror(err));
        status = 1;
    }
    if (fflush(out) != 0)
        status = 1;
    return status;
}

void target_workers_free(struct target_workers *w)
{
    if (w == NULL)
        return;
    if (w->channel_fd >= 0)
        close(w->channel_fd);
    if (w->reserve_fd >= 0)
        close(w->reserve_fd);
    if (w->workers != NULL)
        for (unsigned i = 0; i < w->count; i++)
            if (w->workers[i].fd >= 0)
                close(w->workers[i].fd);
    workers_free_parent_side(w);
    free(w);
}

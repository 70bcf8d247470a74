/* worker: see include/engine/worker.h. */
#include "engine/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hopper.h"
#include "engine/health.h"
#include "engine/wire.h"
#include "util/child.h"
#include "util/fdlimit.h"
#include "util/xalloc.h"

typedef struct {
    uv_loop_t loop;
    frame_conn_t ipc;            /* ipc.data = this */
    uv_timer_t report;
    health_t health;
    runner_t *run;
    stats_t *stats;
    frame_buf_t out;
    bool stopping, done, closing;
    int status;
} worker_t;

static void send_report(worker_t *w)
{
    runner_status_t st;
    runner_status(w->run, &st);
    health_sample_t h = health_sample(&w->health);
    wire_report_t r = {.status = st, .cpu_pct = h.cpu_pct, .lag_ms = h.lag_ms};
    wire_put_report(&w->out, &r, w->stats);
    frame_conn_send(&w->ipc, &w->out);
}

static void on_report(uv_timer_t *t)
{
    send_report(t->data);
}

static void shut_down(worker_t *w)
{
    if (w->closing)
        return;
    w->closing = true;
    uv_timer_stop(&w->report);
    uv_close((uv_handle_t *)&w->report, NULL);
    health_close(&w->health);
    runner_close(w->run);
    /* Closing cancels writes still queued. The last report and DONE have
     * normally gone out whole through uv_try_write (the socket buffer holds
     * many reports); only an engine that stopped reading loses them. */
    frame_conn_close(&w->ipc, NULL);
}

/* The runner has stopped: the last report, then DONE, then leave. */
static void on_runner_idle(runner_t *r, void *arg)
{
    (void)r;
    worker_t *w = arg;
    send_report(w);
    wire_put_empty(&w->out, WIRE_DONE);
    frame_conn_send(&w->ipc, &w->out);
    w->done = true;
    shut_down(w);
}

/* The engine is gone, or cannot be understood: stop at once. */
static void lost_engine(worker_t *w)
{
    w->status = EXIT_FAILURE;
    shut_down(w);
}

static void on_message(frame_conn_t *c, unsigned type, const uint8_t *p, size_t len)
{
    worker_t *w = c->data;
    switch (type) {
    case WIRE_SET_USERS: {
        uint64_t users;
        if (wire_get_users(p, len, &users) != 0)
            lost_engine(w);
        else
            runner_set_users(w->run, users);
        break;
    }
    case WIRE_STOP:
        w->stopping = true;
        runner_stop(w->run);
        break;
    case WIRE_RESET: {
        frame_buf_t scratch;
        frame_buf_init(&scratch);
        stats_delta_take(w->stats, &scratch);   /* taken and dropped */
        frame_buf_free(&scratch);
        break;
    }
    case WIRE_EPOCH: {
        double epoch_unix;
        uint64_t age_us;
        if (wire_get_epoch(p, len, &epoch_unix, &age_us) != 0) {
            lost_engine(w);
        } else {
            /* On this machine's monotonic clock: the engine's may be
             * another machine's. */
            uint64_t now_us = uv_hrtime() / 1000;
            uv_update_time(&w->loop);
            uint64_t age_ms = age_us / 1000, now_ms = uv_now(&w->loop);
            runner_set_epoch(w->run, now_ms > age_ms ? now_ms - age_ms : 0,
                             now_us > age_us ? now_us - age_us : 0, epoch_unix);
        }
        break;
    }
    case WIRE_ARRIVALS: {
        arrival_seg_t seg;
        if (wire_get_arrivals(p, len, &seg) != 0)
            lost_engine(w);
        else
            runner_set_arrivals(w->run, &seg);
        break;
    }
    default:
        break;
    }
}

/* EOF (the engine went away or closed our end), or a malformed frame. After
 * DONE the pipe is closed already and nothing more comes. */
static void on_end(frame_conn_t *c, int err)
{
    (void)err;
    lost_engine(c->data);
}

int worker_main(int fd, const runner_config_t *tmpl, unsigned index)
{
    /* The engine decides when to stop, and its stop drains: Ctrl-C on the
     * terminal reaches the whole process group, SIGHUP too when the session
     * drops, and SIGTERM when a service manager stops the group; a worker
     * that died of them would lose the requests it was draining. If the
     * engine itself dies, the kernel kills the worker (and its socket's EOF
     * would stop it anyway). */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fdlimit_raise(NULL);

    worker_t *w = xcalloc(1, sizeof *w);
    uv_loop_init(&w->loop);
    frame_buf_init(&w->out);

    const plan_t *plan = tmpl->plan;
    w->stats = stats_new(plan->n_endpoints, plan->endpoint_methods, plan->endpoint_names,
                         (double)time(NULL), plan_intended_starts(plan));
    stats_set_worker(w->stats);   /* it only sends deltas */

    runner_config_t cfg = *tmpl;
    cfg.loop = &w->loop;
    cfg.stats = w->stats;
    cfg.seed = tmpl->seed + index * 0x9e3779b97f4a7c15ull;
    cfg.idle = on_runner_idle;
    cfg.arg = w;
    char err[512];
    w->run = runner_new(&cfg, err, sizeof err);
    if (!w->run) {
        fprintf(stderr, "hopper: worker %u: %s\n", index, err);
        w->status = HOPPER_EXIT_USAGE;
    } else {
        frame_conn_start(&w->ipc, &w->loop, fd, on_message, on_end, w);
        uv_timer_init(&w->loop, &w->report);
        w->report.data = w;
        uv_timer_start(&w->report, on_report, WORKER_REPORT_MS, WORKER_REPORT_MS);
        health_start(&w->health, &w->loop);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        runner_free(w->run);
    }
    int status = w->status;
    if (uv_loop_close(&w->loop) != 0 && status == 0)
        status = HOPPER_EXIT_INTERNAL;
    stats_free(w->stats);
    frame_buf_free(&w->out);
    free(w);
    return status;
}

pid_t worker_fork(const runner_config_t *tmpl, unsigned index, unsigned count,
                  const int *close_fds, unsigned n_close, int *fd, char *err, size_t errlen)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, "cannot create a worker's socket: %s", strerror(errno));
        return -1;
    }
    /* Everything the child should not see is flushed first, or it would
     * print the parent's buffered output again at exit. */
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot start worker %u: %s", index, strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        /* The child: only its own end of its own pair. */
        close(sv[0]);
        for (unsigned j = 0; j < n_close; j++)
            close(close_fds[j]);
        runner_config_t mine = *tmpl;
        /* {{user.id}} unique across workers: worker i numbers its users
         * i + 1, i + 1 + n, ... */
        mine.user_id_first = index + 1;
        mine.user_id_step = count;
        /* The open model: arrivals i, i + n, ... of the schedule, and its
         * part of the pool's bound (at least one user). */
        mine.arrival_index = index;
        mine.arrival_count = count;
        if (tmpl->max_users) {
            mine.max_users = tmpl->max_users / count + (index < tmpl->max_users % count);
            if (mine.max_users == 0)
                mine.max_users = 1;
        }
        child_exit(worker_main(sv[1], &mine, index));
    }
    close(sv[1]);
    *fd = sv[0];
    return pid;
}

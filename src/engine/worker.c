/* worker: see include/engine/worker.h. */
#include "engine/worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "hopper.h"
#include "engine/health.h"
#include "engine/wire.h"
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
        uint64_t epoch_hr_us;
        if (wire_get_epoch(p, len, &epoch_unix, &epoch_hr_us) != 0)
            lost_engine(w);
        else
            runner_set_epoch(w->run, uv_now(&w->loop), epoch_hr_us, epoch_unix);
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

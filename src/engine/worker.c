/* worker: see include/engine/worker.h. */
#include "engine/worker.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "hopper.h"
#include "engine/health.h"
#include "engine/wire.h"
#include "util/fdlimit.h"
#include "util/xalloc.h"

typedef struct {
    uv_loop_t loop;
    uv_pipe_t ipc;
    uv_timer_t report;
    health_t health;
    runner_t *run;
    stats_t *stats;
    wire_reader_t in;
    wbuf_t out;
    bool stopping, done, closing;
    int status;
    char read_buf[65536];        /* commands are small: one buffer serves */
} worker_t;

static void send_report(worker_t *w)
{
    runner_status_t st;
    runner_status(w->run, &st);
    health_sample_t h = health_sample(&w->health);
    wbuf_begin(&w->out, MSG_REPORT);
    wbuf_u64(&w->out, st.users);
    wbuf_u64(&w->out, st.in_flight);
    wbuf_u64(&w->out, st.cancelled);
    wbuf_u64(&w->out, st.spawn_failures);
    wbuf_u64(&w->out, st.out_of_fds);
    wbuf_u64(&w->out, st.out_of_ports);
    wbuf_f64(&w->out, h.cpu_pct);
    wbuf_f64(&w->out, h.lag_ms);
    stats_delta_take(w->stats, &w->out);
    wbuf_end(&w->out);
    wire_send((uv_stream_t *)&w->ipc, &w->out);
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
    uv_read_stop((uv_stream_t *)&w->ipc);
    uv_close((uv_handle_t *)&w->ipc, NULL);
}

/* The runner has stopped: the last report, then DONE, then leave. */
static void on_runner_idle(runner_t *r, void *arg)
{
    (void)r;
    worker_t *w = arg;
    send_report(w);
    wbuf_begin(&w->out, MSG_DONE);
    wbuf_end(&w->out);
    wire_send((uv_stream_t *)&w->ipc, &w->out);
    w->done = true;
    shut_down(w);
}

static void handle(worker_t *w, wire_msg_t type, const uint8_t *p, size_t len)
{
    rbuf_t r;
    rbuf_init(&r, p, len);
    switch (type) {
    case MSG_SET_USERS:
        runner_set_users(w->run, rbuf_u64(&r));
        break;
    case MSG_STOP:
        w->stopping = true;
        runner_stop(w->run);
        break;
    case MSG_RESET: {
        wbuf_t scratch;
        wbuf_init(&scratch);
        stats_delta_take(w->stats, &scratch);   /* taken and dropped */
        wbuf_free(&scratch);
        break;
    }
    case MSG_EPOCH:
        runner_set_epoch(w->run, uv_now(&w->loop), rbuf_f64(&r));
        break;
    default:
        break;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    worker_t *w = h->data;
    buf->base = w->read_buf;
    buf->len = sizeof w->read_buf;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    worker_t *w = s->data;
    if (n < 0) {
        /* The engine went away (or closed our end): stop at once. */
        if (!w->done) {
            w->status = 1;
            shut_down(w);
        }
        return;
    }
    wire_reader_feed(&w->in, buf->base, (size_t)n);
    wire_msg_t type;
    const uint8_t *p;
    size_t len;
    bool bad;
    while (!w->closing && wire_next(&w->in, &type, &p, &len, &bad))
        handle(w, type, p, len);
    if (bad) {
        w->status = 1;
        shut_down(w);
    }
}

int worker_main(int fd, const runner_config_t *tmpl, unsigned index)
{
    /* The engine decides when to stop: Ctrl-C on the terminal reaches the
     * whole process group, and SIGHUP too when the session drops. */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    fdlimit_raise(NULL);

    worker_t *w = xcalloc(1, sizeof *w);
    uv_loop_init(&w->loop);
    wire_reader_init(&w->in);
    wbuf_init(&w->out);

    const plan_t *plan = tmpl->plan;
    w->stats = stats_new(plan->n_endpoints, plan->endpoint_methods, plan->endpoint_names,
                         (double)time(NULL));

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
        w->status = 2;
    } else {
        uv_pipe_init(&w->loop, &w->ipc, 0);
        uv_pipe_open(&w->ipc, fd);
        w->ipc.data = w;
        uv_read_start((uv_stream_t *)&w->ipc, on_alloc, on_read);
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
    wire_reader_free(&w->in);
    wbuf_free(&w->out);
    free(w);
    return status;
}

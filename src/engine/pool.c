/* pool: see include/engine/pool.h. */
#include "engine/pool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/wire.h"
#include "engine/worker.h"
#include "util/child.h"
#include "util/xalloc.h"

typedef struct {
    pool_t *pool;
    unsigned index;
    pid_t pid;                   /* a forked worker; 0 for a remote one */
    char name[POOL_NAME_MAX];    /* "worker 3 (pid 1234)", "rank 2 worker 0 on host (pid 99)" */
    bool changed;                /* pool_set_users: its share changed */
    frame_conn_t ipc;            /* ipc.data = this */
    uint64_t assigned;           /* users asked of it */
    runner_status_t status;      /* its last report */
    double cpu_pct, lag_ms;
    bool alive, done;
} slot_t;

struct pool {
    uv_loop_t *loop;
    slot_t *slots;
    unsigned n;
    stats_t *stats;
    uint64_t epoch_ms;
    pool_done_cb done;
    pool_log_cb log;
    void *arg;
    uv_timer_t done_timer;
    bool stopping, finished, closing;
    bool remote;                 /* pool_new_remote: each worker has rows of its own */
    frame_buf_t out;
};

/* Sends what p->out holds to one worker, or drops it if that worker is gone. */
static void send_out(slot_t *s)
{
    frame_buf_t *b = &s->pool->out;
    if (!s->alive || s->done) {
        b->len = 0;
        return;
    }
    frame_conn_send(&s->ipc, b);
}

static void send_empty(slot_t *s, wire_msg_t type)
{
    wire_put_empty(&s->pool->out, type);
    send_out(s);
}

static void on_done_timer(uv_timer_t *t)
{
    pool_t *p = t->data;
    if (p->done)
        p->done(p, p->arg);
}

static void check_finished(pool_t *p)
{
    if (!p->stopping || p->finished)
        return;
    for (unsigned i = 0; i < p->n; i++)
        if (p->slots[i].alive && !p->slots[i].done)
            return;
    p->finished = true;
    uv_timer_start(&p->done_timer, on_done_timer, 0, 0);
}

static void worker_lost(slot_t *s, const char *why)
{
    if (!s->alive)
        return;
    s->alive = false;
    if (!s->done) {
        char msg[POOL_NAME_MAX + 160];
        snprintf(msg, sizeof msg, "%s %s: its users are gone and its last "
                 "statistics (up to %d ms) are missing", s->name, why, WORKER_REPORT_MS);
        s->pool->log(s->pool->arg, msg);
        s->status.users = 0;
        s->status.in_flight = 0;
    }
    frame_conn_stop(&s->ipc);
    check_finished(s->pool);
}

static void on_message(frame_conn_t *c, unsigned type, const uint8_t *data, size_t len)
{
    slot_t *s = c->data;
    pool_t *p = s->pool;
    switch (type) {
    case WIRE_REPORT: {
        wire_report_t r;
        const uint8_t *delta;
        size_t delta_len;
        /* Nothing of a report is used until all of it has been read:
         * stats_delta_apply checks the whole delta before it changes
         * anything, and the status is taken only after that. */
        uint64_t now = uv_now(p->loop), at = now > p->epoch_ms ? now - p->epoch_ms : 0;
        if (wire_get_report(data, len, &r, &delta, &delta_len) != 0 ||
            stats_delta_apply(p->stats, delta, delta_len, at) != 0) {
            worker_lost(s, "sent a malformed report");
            break;
        }
        s->status = r.status;
        s->cpu_pct = r.cpu_pct;
        s->lag_ms = r.lag_ms;
        break;
    }
    case WIRE_DONE:
        s->done = true;
        s->status.users = 0;
        s->status.in_flight = 0;
        check_finished(p);
        break;
    default:
        break;
    }
}

static void on_end(frame_conn_t *c, int err)
{
    slot_t *s = c->data;
    if (err == UV_EPROTO)
        worker_lost(s, "sent a malformed frame");
    else
        worker_lost(s, s->done ? "closed" : "went away");
}

/* The parts of pool_new and pool_new_remote that do not depend on where
 * the workers run. */
static pool_t *pool_alloc(uv_loop_t *loop, unsigned n, stats_t *stats, pool_done_cb done,
                          pool_log_cb log, void *arg)
{
    pool_t *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->n = n;
    p->slots = xcalloc(n, sizeof *p->slots);
    p->stats = stats;
    p->done = done;
    p->log = log;
    p->arg = arg;
    p->epoch_ms = uv_now(loop);
    frame_buf_init(&p->out);
    return p;
}

/* Every slot's pipe onto the loop, once all exist. */
static void pool_start(pool_t *p, const int *fds)
{
    for (unsigned i = 0; i < p->n; i++) {
        slot_t *s = &p->slots[i];
        s->pool = p;
        s->index = i;
        s->alive = true;
        /* A fresh socketpair end: this cannot fail, and if it did, the
         * worker would be reported lost at the first read. */
        frame_conn_start(&s->ipc, p->loop, fds[i], on_message, on_end, s);
    }
    uv_timer_init(p->loop, &p->done_timer);
    p->done_timer.data = p;
}

pool_t *pool_new(uv_loop_t *loop, unsigned workers, const runner_config_t *tmpl, stats_t *stats,
                 pool_done_cb done, pool_log_cb log, void *arg, char *err, size_t errlen)
{
    pool_t *p = pool_alloc(loop, workers, stats, done, log, arg);
    int fds[HOPPER_MAX_WORKERS];
    for (unsigned i = 0; i < workers; i++) {
        pid_t pid = worker_fork(tmpl, i, workers, fds, i, &fds[i], err, errlen);
        if (pid < 0)
            goto fail;
        p->slots[i].pid = pid;
        snprintf(p->slots[i].name, sizeof p->slots[i].name, "worker %u (pid %d)", i, (int)pid);
    }
    pool_start(p, fds);
    return p;
fail:
    for (unsigned i = 0; i < workers; i++)
        if (p->slots[i].pid > 0) {
            kill(p->slots[i].pid, SIGKILL);     /* workers ignore SIGTERM */
            waitpid(p->slots[i].pid, NULL, 0);
            close(fds[i]);
        }
    frame_buf_free(&p->out);
    free(p->slots);
    free(p);
    return NULL;
}

pool_t *pool_new_remote(uv_loop_t *loop, unsigned n, const int *fds, const char *const *names,
                        stats_t *stats, pool_done_cb done, pool_log_cb log, void *arg)
{
    pool_t *p = pool_alloc(loop, n, stats, done, log, arg);
    p->remote = true;
    for (unsigned i = 0; i < n; i++)
        snprintf(p->slots[i].name, sizeof p->slots[i].name, "%s", names[i]);
    pool_start(p, fds);
    return p;
}

void pool_set_epoch(pool_t *p, uint64_t epoch_ms, uint64_t epoch_hr_us, double epoch_unix)
{
    p->epoch_ms = epoch_ms;
    for (unsigned i = 0; i < p->n; i++) {
        /* The epoch travels as its age: a worker on another machine has
         * another monotonic clock. */
        uint64_t now_us = uv_hrtime() / 1000;
        wire_put_epoch(&p->out, epoch_unix, now_us > epoch_hr_us ? now_us - epoch_hr_us : 0);
        send_out(&p->slots[i]);
    }
}

void pool_set_arrivals(pool_t *p, const arrival_seg_t *seg)
{
    if (p->stopping)
        return;
    for (unsigned i = 0; i < p->n; i++) {
        wire_put_arrivals(&p->out, seg);
        send_out(&p->slots[i]);
    }
}

void pool_set_users(pool_t *p, uint64_t total)
{
    if (p->stopping)
        return;
    uint64_t have = 0;
    for (unsigned i = 0; i < p->n; i++)
        have += p->slots[i].alive ? p->slots[i].assigned : 0;
    /* One user at a time to the least loaded live worker, or from the most
     * loaded: the spread stays even whatever the order of changes. */
    while (have != total) {
        slot_t *best = NULL;
        for (unsigned i = 0; i < p->n; i++) {
            slot_t *s = &p->slots[i];
            if (!s->alive)
                continue;
            if (!best || (have < total ? s->assigned < best->assigned : s->assigned >= best->assigned))
                best = s;
        }
        if (!best)
            break;                 /* no live worker left */
        if (have < total) {
            best->assigned++;
            have++;
        } else {
            best->assigned--;
            have--;
        }
        best->changed = true;
    }
    for (unsigned i = 0; i < p->n; i++) {
        if (p->slots[i].changed) {
            p->slots[i].changed = false;
            wire_put_users(&p->out, p->slots[i].assigned);
            send_out(&p->slots[i]);
        }
    }
}

void pool_stop(pool_t *p)
{
    p->stopping = true;
    for (unsigned i = 0; i < p->n; i++)
        send_empty(&p->slots[i], WIRE_STOP);
    check_finished(p);
}

void pool_reset(pool_t *p)
{
    for (unsigned i = 0; i < p->n; i++)
        send_empty(&p->slots[i], WIRE_RESET);
}

void pool_status(const pool_t *p, runner_status_t *sum)
{
    memset(sum, 0, sizeof *sum);
    for (unsigned i = 0; i < p->n; i++) {
        const runner_status_t *s = &p->slots[i].status;
        sum->users += s->users;
        sum->in_flight += s->in_flight;
        sum->cancelled += s->cancelled;
        sum->drained += s->drained;
        sum->spawn_failures += s->spawn_failures;
        sum->out_of_fds += s->out_of_fds;
        sum->out_of_ports += s->out_of_ports;
        sum->retries += s->retries;
        sum->tls_handshakes += s->tls_handshakes;
        sum->tls_resumed += s->tls_resumed;
        sum->not_started += s->not_started;
        sum->data_exhausted += s->data_exhausted;
        sum->free_users += s->free_users;
    }
}

bool pool_data_exhausted(const pool_t *p)
{
    bool any = false, all = true;
    for (unsigned i = 0; i < p->n; i++) {
        const slot_t *s = &p->slots[i];
        if (!s->alive || s->assigned == 0)
            continue;   /* no user of its can draw a row */
        any = any || s->status.data_exhausted > 0;
        all = all && s->status.data_exhausted > 0;
    }
    return p->remote ? any && all : any;
}

size_t pool_health(const pool_t *p, worker_health_t *out, size_t max)
{
    size_t n = p->n < max ? p->n : max;
    for (size_t i = 0; i < n; i++) {
        const slot_t *s = &p->slots[i];
        out[i] = (worker_health_t){.users = s->status.users, .cpu_pct = s->cpu_pct,
                                   .lag_ms = s->lag_ms, .alive = s->alive};
    }
    return n;
}

void pool_close(pool_t *p)
{
    if (p->closing)
        return;
    p->closing = true;
    uv_timer_stop(&p->done_timer);
    uv_close((uv_handle_t *)&p->done_timer, NULL);
    /* Each pipe's read buffer is freed in its close callback. */
    for (unsigned i = 0; i < p->n; i++)
        frame_conn_close(&p->slots[i].ipc, NULL);
}

void pool_free(pool_t *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n; i++) {
        slot_t *s = &p->slots[i];
        /* Closing the pipe tells a worker still running to stop; wait for it. */
        if (s->pid > 0) {
            int st;
            while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
                ;
        }
    }
    frame_buf_free(&p->out);
    free(p->slots);
    free(p);
}

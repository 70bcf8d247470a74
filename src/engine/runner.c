/* runner: see include/engine/runner.h.
 *
 * The hot path is on_request_done -> stats_record -> wait -> user_run ->
 * http_send: no allocation (a user's connection and body watch are made when
 * it starts), no scan of users or endpoints, no system call of our own (time
 * comes from the loop's cached clock and from the client's own measurement).
 * Which HTTP client runs is the client's business (http/client.h): the
 * runner only sees requests, connections and results. */
#include "engine/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/body.h"
#include "engine/picker.h"
#include "engine/wait.h"
#include "http/client.h"
#include "util/rng.h"
#include "util/url.h"
#include "util/xalloc.h"

typedef struct user user_t;

/* A task's request, prepared once. */
typedef struct {
    const plan_task_t *task;
    size_t entry;                /* statistics row */
    char *url;
    size_t needle_len;
    http_request_t *req;         /* the client's prepared request */
} prep_t;

struct user {
    uv_timer_t timer;            /* think time; timer.data = the user */
    runner_t *run;
    http_conn_t *conn;           /* its connection and cookie jar */
    prep_t *prep;                /* the task in flight, or NULL while waiting */
    body_t body;                 /* the body in flight */
    user_t *prev, *next;         /* in the runner's in-flight list */
    int open_handles;            /* closing: the timer and the connection */
    bool stopping;               /* close once the request in flight finishes */
};

struct runner {
    runner_config_t cfg;
    uv_loop_t *loop;
    http_client_t *client;
    prep_t *preps;
    size_t n_preps;
    picker_t picker;
    stats_t *stats;
    rng_t rng;
    uint64_t epoch_ms;
    double epoch_unix;

    user_t **users;              /* running users, oldest first */
    size_t n_users, cap_users;
    size_t open_users;           /* allocated and not yet closed */
    bool stopping, closing, idle_sent;
    uv_timer_t stop_timer, idle_timer;
    size_t max_needle;           /* the longest expect-body */

    user_t in_flight;            /* list head: users with a request out */
    uint64_t n_in_flight;
    uint64_t cancelled;          /* in flight at the stop, cancelled */
    uint64_t drained;            /* in flight at the stop, finished and counted */
    uint64_t spawn_failures;
    uint64_t out_of_fds, out_of_ports;
};

static uint64_t now_ms(const runner_t *run)
{
    uint64_t now = uv_now(run->loop);
    return now > run->epoch_ms ? now - run->epoch_ms : 0;
}

/* ---- requests ---------------------------------------------------------- */

static void inflight_link(runner_t *run, user_t *u)
{
    u->next = run->in_flight.next;
    u->prev = &run->in_flight;
    run->in_flight.next->prev = u;
    run->in_flight.next = u;
    run->n_in_flight++;
}

static void inflight_unlink(runner_t *run, user_t *u)
{
    u->prev->next = u->next;
    u->next->prev = u->prev;
    u->prev = u->next = NULL;
    run->n_in_flight--;
    u->prep = NULL;
}

/* Whether a finished response passes: the task's statuses, then its
 * expect-body. The failure text, or NULL. */
static const char *verdict(const prep_t *p, long status, bool matched, char *buf, size_t len)
{
    const plan_task_t *t = p->task;
    if (!plan_status_ok(t, status)) {
        snprintf(buf, len, "HTTP %ld", status);
        return buf;
    }
    if (p->needle_len && !matched) {
        snprintf(buf, len, "body lacks \"%.60s%s\"", t->expect_body, p->needle_len > 60 ? "..." : "");
        return buf;
    }
    return NULL;
}

/* Failures that are hopper's own lack of resources, not the server's doing:
 * counted apart so the engine can say so. */
static void note_resource_error(runner_t *run, http_error_t kind)
{
    if (kind == HTTP_E_OUT_OF_FDS)
        run->out_of_fds++;
    else if (kind == HTTP_E_OUT_OF_PORTS)
        run->out_of_ports++;
}

static void report_failure(runner_t *run, const user_t *u, const http_result_t *res, const char *err)
{
    const prep_t *p = u->prep;
    char joined[2048];
    const char *url = res->url ? res->url : p->url;
    if (res->url && res->url_origin) {
        snprintf(joined, sizeof joined, "%s%s", res->url_origin, res->url);
        url = joined;
    }
    failure_t f = {
        .time_unix = run->epoch_unix + (double)now_ms(run) / 1000.0,
        .method = p->task->method,
        .name = p->task->name,
        .url = url,
        .status = res->status,
        .error = err,
        .request_headers = res->sent,
        .request_headers_len = res->sent_len,
        .body = u->body.capture,
        .body_len = u->body.capture_len,
    };
    run->cfg.on_failure(&f, run->cfg.failure_arg);
}

/* ---- users ------------------------------------------------------------- */

static void user_run(user_t *u);
static void maybe_idle(runner_t *run);

/* The user's timer and its connection close asynchronously; the last close
 * frees it. */
static void user_closed_one(user_t *u)
{
    if (--u->open_handles > 0)
        return;
    runner_t *run = u->run;
    body_free(&u->body);
    free(u);
    run->open_users--;
}

static void on_user_timer_closed(uv_handle_t *h)
{
    user_closed_one(h->data);
}

static void on_user_conn_closed(void *user)
{
    user_closed_one(user);
}

static void user_close(user_t *u)
{
    uv_timer_stop(&u->timer);
    u->open_handles = 2;
    uv_close((uv_handle_t *)&u->timer, on_user_timer_closed);
    http_conn_close(u->conn, on_user_conn_closed);
}

static void on_user_timer(uv_timer_t *t)
{
    user_run(t->data);
}

static void on_body(void *user, const char *data, size_t len)
{
    user_t *u = user;
    body_feed(&u->body, u->prep->task->expect_body, u->prep->needle_len, data, len);
}

/* A request ended: record it, then think or stop. */
static void on_request_done(void *user, const http_result_t *res)
{
    user_t *u = user;
    runner_t *run = u->run;
    const prep_t *p = u->prep;
    char ebuf[SNAP_ERROR_TEXT];
    const char *err = res->error != HTTP_OK ? http_error_text(res, ebuf, sizeof ebuf)
                                            : verdict(p, res->status, u->body.matched, ebuf, sizeof ebuf);
    stats_record(run->stats, p->entry, now_ms(run), res->latency_us, res->body_bytes, err);
    note_resource_error(run, res->error);
    if (err && run->cfg.on_failure)
        report_failure(run, u, res, err);

    inflight_unlink(run, u);
    if (run->stopping && !run->closing)
        run->drained++;         /* finished after the stop: counted all the same */
    if (u->stopping || run->stopping) {
        user_close(u);
        maybe_idle(run);
        return;
    }
    uint64_t wait_us = wait_next(&run->cfg.plan->wait, &run->rng, 0, res->latency_us);
    if (wait_us == 0)
        user_run(u);
    else
        uv_timer_start(&u->timer, on_user_timer, (wait_us + 500) / 1000, 0);
}

static void user_run(user_t *u)
{
    runner_t *run = u->run;
    prep_t *p = &run->preps[picker_pick(&run->picker, &run->rng)];
    u->prep = p;
    inflight_link(run, u);
    body_reset(&u->body);
    http_result_t failed;
    if (http_send(u->conn, p->req, &failed) != 0) {
        /* The client could not even start it (out of memory inside it, say):
         * count it against the task and let the user think before trying
         * again. */
        char ebuf[SNAP_ERROR_TEXT];
        stats_record(run->stats, p->entry, now_ms(run), 0, 0, http_error_text(&failed, ebuf, sizeof ebuf));
        inflight_unlink(run, u);
        uv_timer_start(&u->timer, on_user_timer, 1000, 0);
    }
}

static void user_spawn(runner_t *run)
{
    user_t *u = xcalloc(1, sizeof *u);
    u->run = run;
    u->conn = http_conn_new(run->client, u);
    if (!u->conn) {
        free(u);
        run->spawn_failures++;
        return;
    }
    body_alloc(&u->body, run->max_needle, run->cfg.on_failure != NULL);
    uv_timer_init(run->loop, &u->timer);
    u->timer.data = u;
    run->open_users++;
    run->users = snap_reserve(run->users, &run->cap_users, run->n_users + 1, sizeof *run->users);
    run->users[run->n_users++] = u;
    user_run(u);     /* a new user runs its first task at once, as Locust's do */
}

/* The newest user stops: at once if it is waiting, after its request if not. */
static void user_retire_newest(runner_t *run)
{
    user_t *u = run->users[--run->n_users];
    if (u->prep)
        u->stopping = true;
    else
        user_close(u);
}

/* ---- the interface ------------------------------------------------------ */

static void cancel_in_flight(runner_t *run)
{
    while (run->in_flight.next != &run->in_flight) {
        user_t *u = run->in_flight.next;
        http_cancel(u->conn);
        inflight_unlink(run, u);
        run->cancelled++;
        user_close(u);
    }
}

static void on_idle_timer(uv_timer_t *t)
{
    runner_t *run = t->data;
    if (run->cfg.idle)
        run->cfg.idle(run, run->cfg.arg);
}

static void maybe_idle(runner_t *run)
{
    if (!run->stopping || run->n_in_flight || run->idle_sent)
        return;
    run->idle_sent = true;
    uv_timer_stop(&run->stop_timer);
    /* From its own timer, never from inside a client's completion path. */
    uv_timer_start(&run->idle_timer, on_idle_timer, 0, 0);
}

static void on_stop_timeout(uv_timer_t *t)
{
    runner_t *run = t->data;
    cancel_in_flight(run);
    maybe_idle(run);
}

static int prepare(runner_t *run, char *err, size_t errlen)
{
    const plan_t *plan = run->cfg.plan;
    run->n_preps = plan->n_tasks;
    run->preps = xcalloc(plan->n_tasks, sizeof *run->preps);
    unsigned *weights = xcalloc(plan->n_tasks, sizeof *weights);
    int rc = 0;
    for (size_t i = 0; i < plan->n_tasks && rc == 0; i++) {
        const plan_task_t *t = &plan->tasks[i];
        prep_t *p = &run->preps[i];
        p->task = t;
        p->entry = t->entry;
        weights[i] = t->weight;
        p->url = url_resolve(run->cfg.host, t->target);
        p->needle_len = t->expect_body ? strlen(t->expect_body) : 0;
        if (p->needle_len > run->max_needle)
            run->max_needle = p->needle_len;
        uint64_t timeout_us = t->timeout_us ? t->timeout_us : plan->timeout_us;
        p->req = http_request_new(run->client, plan, t, p->url, timeout_us, err, errlen);
        if (!p->req)
            rc = -1;
    }
    if (rc == 0 && picker_init(&run->picker, weights, plan->n_tasks) != 0) {
        snprintf(err, errlen, "every task has weight 0: nothing to run");
        rc = -1;
    }
    free(weights);
    return rc;
}

runner_t *runner_new(const runner_config_t *cfg, char *err, size_t errlen)
{
    runner_t *run = xcalloc(1, sizeof *run);
    run->cfg = *cfg;
    run->loop = cfg->loop;
    run->stats = cfg->stats;
    run->in_flight.next = run->in_flight.prev = &run->in_flight;
    rng_seed(&run->rng, cfg->seed);
    run->epoch_ms = uv_now(run->loop);
    http_client_config_t hc = {
        .kind = cfg->client,
        .loop = cfg->loop,
        .host = cfg->host,
        .sources = cfg->sources,
        .insecure = cfg->insecure,
        .no_retry = cfg->no_retry,
        .failure_detail = cfg->on_failure != NULL,
        .on_body = on_body,
        .on_done = on_request_done,
    };
    run->client = http_client_new(&hc, err, errlen);
    if (!run->client) {
        free(run);
        return NULL;
    }
    uv_timer_init(run->loop, &run->stop_timer);
    uv_timer_init(run->loop, &run->idle_timer);
    run->stop_timer.data = run->idle_timer.data = run;
    if (prepare(run, err, errlen) != 0) {
        runner_close(run);
        uv_run(run->loop, UV_RUN_DEFAULT);
        runner_free(run);
        return NULL;
    }
    return run;
}

void runner_set_epoch(runner_t *run, uint64_t epoch_ms, double epoch_unix)
{
    run->epoch_ms = epoch_ms;
    run->epoch_unix = epoch_unix;
}

void runner_set_users(runner_t *run, uint64_t n)
{
    if (run->stopping)
        return;
    while (run->n_users < n) {
        size_t before = run->n_users;
        user_spawn(run);
        if (run->n_users == before)
            break;      /* could not start one: counted in spawn_failures */
    }
    while (run->n_users > n)
        user_retire_newest(run);
}

void runner_stop(runner_t *run)
{
    if (run->closing)
        return;
    if (run->stopping) {
        /* Asked twice: stop waiting for requests in flight. */
        cancel_in_flight(run);
        maybe_idle(run);
        return;
    }
    run->stopping = true;
    while (run->n_users)
        user_retire_newest(run);
    if (run->cfg.stop_timeout_us == 0)
        cancel_in_flight(run);
    else if (run->n_in_flight)
        uv_timer_start(&run->stop_timer, on_stop_timeout, (run->cfg.stop_timeout_us + 999) / 1000, 0);
    maybe_idle(run);
}

void runner_status(const runner_t *run, runner_status_t *out)
{
    out->users = run->n_users;
    out->in_flight = run->n_in_flight;
    out->cancelled = run->cancelled;
    out->drained = run->drained;
    out->spawn_failures = run->spawn_failures;
    out->out_of_fds = run->out_of_fds;
    out->out_of_ports = run->out_of_ports;
    out->retries = http_client_retries(run->client);
}

void runner_close(runner_t *run)
{
    if (run->closing)
        return;
    run->closing = true;
    run->stopping = true;
    while (run->n_users)
        user_retire_newest(run);
    cancel_in_flight(run);
    uv_timer_stop(&run->stop_timer);
    uv_timer_stop(&run->idle_timer);
    uv_close((uv_handle_t *)&run->stop_timer, NULL);
    uv_close((uv_handle_t *)&run->idle_timer, NULL);
    http_client_close(run->client);
}

void runner_free(runner_t *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->n_preps; i++) {
        http_request_free(run->client, run->preps[i].req);
        free(run->preps[i].url);
    }
    http_client_free(run->client);
    picker_free(&run->picker);
    free(run->preps);
    free(run->users);
    free(run);
}

/* runner: see include/engine/runner.h.
 *
 * The hot path is on_request_done -> stats_record -> wait -> user_run ->
 * http_send: no allocation (a user's connection, body watch and session are
 * made when it starts; response buffers come from a pool), no scan of users
 * or endpoints, no system call of our own (time comes from the loop's cached
 * clock and from the client's own measurement). A step without templates
 * sends its prepared bytes; one with templates is rendered into the runner's
 * scratch first (engine/session.h). Which HTTP client runs is the client's
 * business (http/client.h): the runner only sees requests, connections and
 * results.
 *
 * A user goes through phases: START runs the plan's on-start steps (until
 * they pass: a failure waits the wait time and starts over), TASK picks a
 * task and runs its steps as one iteration, STOP runs the on-stop steps once
 * when the user is stopped, then it closes.
 *
 * In the closed model a user waits after each iteration and starts the next.
 * In the open model it goes back to the pool's free list instead, and the
 * arrivals' clock (engine/arrivals.h) hands each due arrival to the free
 * user that waited longest (so the pool's users, their connections and
 * cookies all take turns, as visitors do), to a new user while the pool is
 * below max_users, or counts it as dropped. The clock is checked before the
 * loop polls (a prepare handle) and woken by a timerfd set to the next
 * arrival to the microsecond: libuv's millisecond timers would bunch
 * arrivals that are 50 us apart into bursts.
 *
 * Requests with an intended start (open-model arrivals; pacing and
 * throughput users) record how late they were sent beside their latency:
 * the corrected latency is the sum (stats_record_late). An iteration that
 * started late makes each of its steps that late; the generator's own part
 * of it (a due arrival or timer handled late) is the schedule lag. */
#include "engine/runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "hopper.h"
#include "engine/body.h"
#include "engine/picker.h"
#include "engine/session.h"
#include "engine/wait.h"
#include "http/client.h"
#include "util/rng.h"
#include "util/url.h"
#include "util/xalloc.h"

typedef struct user user_t;

/* A step's request, prepared once. */
typedef struct {
    const plan_step_t *step;
    size_t entry;                /* statistics row */
    char *url;                   /* the static URL; a templated target's origin root */
    size_t needle_len;
    http_request_t *req;         /* the client's prepared request */
} prep_t;

/* A sequence of steps: a task, on-start or on-stop. */
typedef struct {
    prep_t *preps;
    size_t n;
} seq_t;

typedef enum { PHASE_START, PHASE_TASK, PHASE_STOP } phase_t;

struct user {
    uv_timer_t timer;            /* think and wait time; timer.data = the user */
    runner_t *run;
    http_conn_t *conn;           /* its connection and cookie jar */
    prep_t *prep;                /* the step in flight, or NULL */
    const seq_t *seq;            /* the sequence it is in */
    size_t step;                 /* the step of seq that is next or in flight */
    phase_t phase;
    uint64_t iter_us;            /* time spent in this iteration (for pacing) */
    body_t body;                 /* the body in flight */
    session_t sess;
    user_t *prev, *next;         /* in the runner's in-flight list */
    int open_handles;            /* closing: the timer and the connection */
    bool stopping;               /* stop once the request in flight finishes */
    bool started;                /* on-start has passed (or there is none) */
    bool unsent;                 /* the last step could not be sent: wait on the timer */
    bool counted_not_started;    /* counted in run->not_started (running, on-start not passed) */
    /* Intended starts: the open model's arrival, or a paced user's timer. */
    user_t *free_prev, *free_next; /* in the pool's free list (open model) */
    bool in_free;
    bool arrival;                /* an arrival waits for this user's next iteration to send */
    bool timed;                  /* the user waits on its timer for an iteration due at due_us */
    uint64_t intended_us;        /* the arrival's due time (run clock, us) */
    uint64_t due_us;
    uint64_t late_us;            /* how late this iteration started */
};

struct runner {
    runner_config_t cfg;
    uv_loop_t *loop;
    http_client_t *client;
    seq_t *tasks;                /* plan->n_tasks */
    seq_t on_start, on_stop;
    picker_t picker;
    stats_t *stats;
    rng_t rng;
    scratch_t scratch;
    uint64_t epoch_ms;
    double epoch_unix;
    uint64_t next_user_id;

    user_t **users;              /* running users, oldest first */
    size_t n_users, cap_users;
    size_t open_users;           /* allocated and not yet closed */
    bool stopping, closing, idle_sent;
    bool no_drain;               /* stopped with a stop timeout of 0: no on-stop either */
    uv_timer_t stop_timer, idle_timer;
    size_t max_needle;           /* the longest expect-body */

    user_t in_flight;            /* list head: users with a request out */
    uint64_t n_in_flight;
    uint64_t cancelled;          /* in flight at the stop, cancelled */
    uint64_t drained;            /* in flight at the stop, finished and counted */
    uint64_t spawn_failures;
    uint64_t out_of_fds, out_of_ports;
    uint64_t not_started;        /* running users whose on-start has not passed */
    uint64_t data_exhausted;     /* users stopped for want of a unique data row */
    uint64_t epoch_hr_us;        /* the run's start on uv_hrtime's clock, us */
    bool paced;                  /* wait = pacing or throughput: iterations have due times */

    /* The open model. */
    bool open;
    arrivals_t arr;
    uv_prepare_t arr_prep;       /* checks the clock before each poll */
    uv_poll_t arr_poll;          /* the timerfd, readable when the next arrival is due */
    int arr_fd;
    bool arr_handles;            /* arr_prep and arr_poll are initialised */
    uint64_t armed_us;           /* what the timerfd is set to, ARRIVALS_NONE: nothing */
    uint64_t woke_us;            /* when it last woke the loop */
    user_t free_list;            /* list head: free users, longest waiting first */
    uint64_t n_free;
};

/* Arrivals handled in one go: a loop that fell far behind (a stopped
 * process) catches up over several turns rather than starving its I/O. */
#define ARRIVALS_BATCH 4096
/* The clock wakes the loop at most this often. Arrivals further apart than
 * this (below 1/ARRIVALS_WAKE_US, 2,000/s) each get their own wakeup, on
 * time to the scheduler's precision; closer ones, due within one such
 * span, go out together at its end, each late by less than it (recorded
 * as schedule lag, and in corrected latencies). A wakeup costs a context
 * switch and a timerfd system call: one per 50 us arrival at 20,000/s
 * spent more CPU on waking than on HTTP (bench/README.md). */
#define ARRIVALS_WAKE_US 500

static uint64_t now_ms(const runner_t *run)
{
    uint64_t now = uv_now(run->loop);
    return now > run->epoch_ms ? now - run->epoch_ms : 0;
}

/* Microseconds since the start of the run, on the clock every process of the
 * run shares (CLOCK_MONOTONIC through the vDSO: no system call). */
static uint64_t run_us(const runner_t *run)
{
    uint64_t now = uv_hrtime() / 1000;
    return now > run->epoch_hr_us ? now - run->epoch_hr_us : 0;
}

static uint64_t wall_ms(const runner_t *run)
{
    return (uint64_t)(run->epoch_unix * 1000.0) + now_ms(run);
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

/* The open model's pool: free users wait in a list, longest waiting first. */
static void free_push(runner_t *run, user_t *u)
{
    u->free_next = &run->free_list;
    u->free_prev = run->free_list.free_prev;
    run->free_list.free_prev->free_next = u;
    run->free_list.free_prev = u;
    u->in_free = true;
    run->n_free++;
}

static void free_unlink(runner_t *run, user_t *u)
{
    if (!u->in_free)
        return;
    u->free_prev->free_next = u->free_next;
    u->free_next->free_prev = u->free_prev;
    u->free_prev = u->free_next = NULL;
    u->in_free = false;
    run->n_free--;
}

static user_t *free_pop(runner_t *run)
{
    user_t *u = run->free_list.free_next;
    if (u == &run->free_list)
        return NULL;
    free_unlink(run, u);
    return u;
}

/* Whether a finished response passes: the step's statuses, then its
 * expect-body. The failure text, or NULL. */
static const char *verdict(const prep_t *p, long status, bool matched, char *buf, size_t len)
{
    const plan_step_t *t = p->step;
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

static void report_failure(runner_t *run, const user_t *u, const prep_t *p,
                           const http_result_t *res, const char *err)
{
    char joined[2048];
    /* Not sent at all: the target as written (a templated one's prepared
     * URL is only its origin). */
    const char *url = !res ? p->step->target : res->url ? res->url : p->url;
    if (res && res->url && res->url_origin) {
        snprintf(joined, sizeof joined, "%s%s", res->url_origin, res->url);
        url = joined;
    }
    failure_t f = {
        .time_unix = run->epoch_unix + (double)now_ms(run) / 1000.0,
        .method = p->step->method,
        .name = p->step->name,
        .url = url,
        .status = res ? res->status : 0,
        .error = err,
        .request_headers = res ? res->sent : NULL,
        .request_headers_len = res ? res->sent_len : 0,
        .body = res ? u->body.capture : NULL,
        .body_len = res ? u->body.capture_len : 0,
    };
    run->cfg.on_failure(&f, run->cfg.failure_arg);
}

/* ---- users ------------------------------------------------------------- */

static void user_next(user_t *u, bool ok);
static void maybe_idle(runner_t *run);

/* "Not logged in" counts running users only: a user leaves the count when
 * its on-start passes, when it is retired, or when it closes. */
static void uncount_not_started(user_t *u)
{
    if (u->counted_not_started) {
        u->counted_not_started = false;
        u->run->not_started--;
    }
}

/* The user's timer and its connection close asynchronously; the last close
 * frees it. */
static void user_closed_one(user_t *u)
{
    if (--u->open_handles > 0)
        return;
    runner_t *run = u->run;
    body_free(&u->body);
    session_free(&u->sess, &run->scratch);
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
    uncount_not_started(u);
    free_unlink(u->run, u);
    u->open_handles = 2;
    uv_close((uv_handle_t *)&u->timer, on_user_timer_closed);
    http_conn_close(u->conn, on_user_conn_closed);
}

/* Sends the user's current step, or records why it could not go. */
static void user_send(user_t *u)
{
    runner_t *run = u->run;
    prep_t *p = &u->seq->preps[u->step];
    if (u->arrival && u->phase == PHASE_TASK) {
        /* The arrival's iteration goes out now: how late, from its due time
         * (the generator's lag, and a new user's on-start if it had one). */
        uint64_t now = run_us(run);
        u->late_us = now > u->intended_us ? now - u->intended_us : 0;
        u->arrival = false;
        /* Started: counted now, so that an arrival given to a new user
         * that is stopped before its on-start passed is not. */
        stats_arrival(run->stats, now_ms(run));
    }
    u->prep = p;
    inflight_link(run, u);
    body_reset(&u->body);
    http_fill_t fill, *f = NULL;
    char why[SNAP_ERROR_TEXT];
    if (p->step->dynamic) {
        if (session_render(&u->sess, &run->scratch, p->step, wall_ms(run), &run->rng, &fill, why,
                           sizeof why) != 0) {
            /* Nothing went out: counted as a failure of the step, with the
             * reason, so a plan that uses a value before it is set shows. */
            stats_record(run->stats, p->entry, now_ms(run), 0, 0, 0, why);
            if (run->cfg.on_failure)
                report_failure(run, u, p, NULL, why);
            inflight_unlink(run, u);
            u->unsent = true;
            user_next(u, false);
            return;
        }
        f = &fill;
    }
    session_begin(&u->sess, &run->scratch, p->step);
    http_result_t failed;
    if (http_send(u->conn, p->req, f, &failed) != 0) {
        /* The client could not even start it (out of memory inside it, say):
         * count it against the step and let the user think before trying
         * again. */
        session_end(&u->sess, &run->scratch);
        const char *err = http_error_text(&failed, why, sizeof why);
        stats_record(run->stats, p->entry, now_ms(run), 0, 0, 0, err);
        note_resource_error(run, failed.error);
        if (run->cfg.on_failure)
            report_failure(run, u, p, NULL, err);
        inflight_unlink(run, u);
        u->unsent = true;
        user_next(u, false);
    }
}

static void user_stop(user_t *u);
static void user_free(user_t *u);
static void user_wait(user_t *u);

/* Takes a user out of the running ones (it stops by itself). Rare: a scan. */
static void user_detach(runner_t *run, user_t *u)
{
    for (size_t i = 0; i < run->n_users; i++)
        if (run->users[i] == u) {
            memmove(&run->users[i], &run->users[i + 1], (run->n_users - i - 1) * sizeof *run->users);
            run->n_users--;
            return;
        }
}

static void on_user_timer(uv_timer_t *t)
{
    user_t *u = t->data;
    runner_t *run = u->run;
    if (u->step == 0)
        u->iter_us = 0;          /* a sequence begins: its time for pacing */
    if (u->timed) {
        /* A paced iteration that waited for its due time: the timer's own
         * lateness is the generator's (schedule lag), and the iteration's. */
        u->timed = false;
        uint64_t now = run_us(run), lag = now > u->due_us ? now - u->due_us : 0;
        stats_lag(run->stats, lag);
        u->late_us += lag;
    }
    if (u->phase == PHASE_TASK && u->step == 0) {
        /* A new iteration: pick a task. */
        if (session_next_iteration(&u->sess, run->cfg.plan, &run->rng) != 0) {
            /* No unique row left for this iteration: the user stops (and
             * the engine ends the test, as the data is used up). */
            run->data_exhausted++;
            user_detach(run, u);
            uncount_not_started(u);
            user_stop(u);
            return;
        }
        u->seq = &run->tasks[picker_pick(&run->picker, &run->rng)];
    }
    user_send(u);
}

/* Waits us (0: at once, without the timer) and then goes on with the step
 * the user is at. After a step that could not be sent, always through the
 * timer: a plan whose every request fails before sending would otherwise
 * recurse without end. */
static void user_after(user_t *u, uint64_t us)
{
    bool unsent = u->unsent;
    u->unsent = false;
    /* On-stop steps follow each other at once, never on the timer: a
     * stopping user is neither running nor waiting, and the drain ends when
     * nothing is in flight. Their number bounds the depth. */
    if (u->phase == PHASE_STOP || (us == 0 && !unsent)) {
        on_user_timer(&u->timer);
        return;
    }
    /* After a request that could not go, at least a second: a plan whose
     * requests all fail before sending must not spin. */
    if (unsent && us < 1000000)
        us = 1000000;
    u->iter_us += us;
    uv_timer_start(&u->timer, on_user_timer, (us + 500) / 1000, 0);
}

/* The user is to stop: its on-stop steps if it has logged in (or there is
 * no on-start), else it closes. It is no longer among the running users. */
static void user_stop(user_t *u)
{
    runner_t *run = u->run;
    uv_timer_stop(&u->timer);
    free_unlink(run, u);
    u->timed = false;
    if (u->phase != PHASE_STOP && u->started && run->on_stop.n && !run->closing &&
        !run->no_drain) {
        u->phase = PHASE_STOP;
        u->seq = &run->on_stop;
        u->step = 0;
        user_send(u);
        return;
    }
    user_close(u);
    maybe_idle(run);
}

/* The open model: the iteration is over, the user waits for an arrival. */
static void user_free(user_t *u)
{
    u->late_us = 0;
    u->unsent = false;
    free_push(u->run, u);
}

/* The closed model: the plan's wait after an iteration. Paced users have a
 * due time for the next one: the previous start plus the pacing. If this
 * iteration overran it, the next starts at once, late by the overrun (Locust
 * does not catch up, so neither do we: the lateness is what corrected
 * latencies add); else it is due when the wait ends. */
static void user_wait(user_t *u)
{
    runner_t *run = u->run;
    uint64_t us = wait_next(&run->cfg.plan->wait, &run->rng, 0, u->iter_us);
    if (run->paced) {
        uint64_t pace = run->cfg.plan->wait.a_us;
        u->late_us = u->iter_us > pace ? u->iter_us - pace : 0;
        if (us > 0 && !u->unsent) {
            u->timed = true;
            u->due_us = run_us(run) + us;
        }
    }
    user_after(u, us);
}

/* Where the user goes after a step: the next step (after its think time),
 * or the end of the sequence. ok says whether the step passed. */
static void user_next(user_t *u, bool ok)
{
    runner_t *run = u->run;
    const plan_step_t *st = u->seq->preps[u->step].step;
    bool go_on = ok || st->on_fail_continue;
    bool last = u->step + 1 >= u->seq->n;
    if (u->phase == PHASE_START && go_on && last && !u->started) {
        /* Logged in, even if the user is stopping now: its on-stop runs. */
        u->started = true;
        uncount_not_started(u);
    }
    if ((u->stopping || run->stopping) && u->phase != PHASE_STOP) {
        user_stop(u);
        return;
    }
    if (go_on && !last) {
        u->step++;
        /* On-stop steps follow each other at once: the stop is draining. */
        uint64_t think = st->has_think && u->phase != PHASE_STOP
                             ? wait_next(&st->think, &run->rng, 0, 0) : 0;
        user_after(u, think);
        return;
    }
    switch (u->phase) {
    case PHASE_STOP:
        user_close(u);
        maybe_idle(run);
        return;
    case PHASE_START:
        u->step = 0;
        if (go_on) {
            /* Logged in: the first task at once, as after Locust's on_start;
             * in the open model, the arrival it was started for, or the
             * pool's free list. */
            u->phase = PHASE_TASK;
            if (run->open && !u->arrival)
                user_free(u);
            else
                user_after(u, 0);
        } else {
            /* Failed: wait, then log in again. */
            user_after(u, wait_next(&run->cfg.plan->wait, &run->rng, 0, u->iter_us));
        }
        return;
    case PHASE_TASK:
        u->step = 0;
        if (run->open) {
            user_free(u);
            return;
        }
        user_wait(u);
        return;
    }
}

static void on_body(void *user, const char *data, size_t len)
{
    user_t *u = user;
    body_feed(&u->body, u->prep->step->expect_body, u->prep->needle_len, data, len);
    if (u->sess.keep)
        session_body(&u->sess, data, len);
}

static void on_header(void *user, const char *name, size_t name_len, const char *value,
                      size_t value_len)
{
    user_t *u = user;
    session_header(&u->sess, name, name_len, value, value_len);
}

/* A request ended: judge and record it, then the next step, think or stop. */
static void on_request_done(void *user, const http_result_t *res)
{
    user_t *u = user;
    runner_t *run = u->run;
    const prep_t *p = u->prep;
    char ebuf[SNAP_ERROR_TEXT];
    const char *err = res->error != HTTP_OK ? http_error_text(res, ebuf, sizeof ebuf)
                                            : verdict(p, res->status, u->body.matched, ebuf, sizeof ebuf);
    if (!err)
        err = session_judge(&u->sess, &run->scratch, p->step, res->status, &run->rng, ebuf,
                            sizeof ebuf);
    else
        session_end(&u->sess, &run->scratch);
    /* The status of any response received, whatever the verdict (0: none). */
    stats_record_late(run->stats, p->entry, now_ms(run), res->latency_us,
                      u->phase == PHASE_TASK ? u->late_us : 0, res->body_bytes,
                      res->status > 0 ? (unsigned)res->status : 0, err);
    note_resource_error(run, res->error);
    if (err && run->cfg.on_failure)
        report_failure(run, u, p, res, err);

    inflight_unlink(run, u);
    if (run->stopping && !run->closing)
        run->drained++;         /* finished after the stop: counted all the same */
    u->iter_us += res->latency_us;
    user_next(u, err == NULL);
}

/* A new user; in the open model, for an arrival due at *due (its iteration
 * runs once the user has passed on-start), or for the pool (NULL: it waits
 * free once through on-start). */
static void user_spawn(runner_t *run, const uint64_t *due)
{
    user_t *u = xcalloc(1, sizeof *u);
    u->run = run;
    /* The connection first: a user that cannot have one must not use up a
     * unique data row. */
    u->conn = http_conn_new(run->client, u);
    if (!u->conn) {
        free(u);
        run->spawn_failures++;
        return;
    }
    uint64_t id = run->cfg.user_id_first + run->next_user_id * run->cfg.user_id_step;
    if (session_init(&u->sess, run->cfg.plan, id, &run->rng) != 0) {
        /* A unique data file has no row left for a new user: the data is
         * used up, and the engine ends the test (not a failure to start).
         * The unused connection closes; its callback frees the user. */
        run->data_exhausted++;
        run->open_users++;
        u->open_handles = 1;
        u->started = true;
        http_conn_close(u->conn, on_user_conn_closed);
        return;
    }
    run->next_user_id++;
    body_alloc(&u->body, run->max_needle, run->cfg.on_failure != NULL);
    uv_timer_init(run->loop, &u->timer);
    u->timer.data = u;
    run->open_users++;
    run->users = snap_reserve(run->users, &run->cap_users, run->n_users + 1, sizeof *run->users);
    run->users[run->n_users++] = u;
    if (due) {
        u->arrival = true;
        u->intended_us = *due;
    }
    /* A new user runs its on-start, or its first task, at once, as Locust's do. */
    if (run->on_start.n) {
        u->phase = PHASE_START;
        u->seq = &run->on_start;
        run->not_started++;
        u->counted_not_started = true;
        user_send(u);
    } else {
        u->started = true;
        u->phase = PHASE_TASK;
        if (run->open && !due)
            user_free(u);
        else
            on_user_timer(&u->timer);
    }
}

/* ---- the open model's arrivals ------------------------------------------- */

/* One arrival, due at due: a free user runs an iteration now, or a new one
 * joins the pool for it, or it is dropped: never kept waiting for a user,
 * which would hide the server's slowness in the schedule. */
static void arrival_dispatch(runner_t *run, uint64_t due, uint64_t now)
{
    user_t *u = free_pop(run);
    if (u) {
        stats_lag(run->stats, now > due ? now - due : 0);
        u->arrival = true;
        u->intended_us = due;
        on_user_timer(&u->timer);
        return;
    }
    size_t before = run->n_users;
    if (run->n_users < run->cfg.max_users) {
        user_spawn(run, &due);
        if (run->n_users > before) {
            stats_lag(run->stats, now > due ? now - due : 0);
            return;
        }
        /* It could not start (no descriptor, no data row left): dropped. */
    }
    stats_dropped(run->stats, now_ms(run));
}

static void arrivals_arm(runner_t *run);

/* Every arrival due by now, then the timerfd set for the next. */
static void arrivals_run(runner_t *run)
{
    if (!run->open || run->stopping)
        return;
    uint64_t now = run_us(run);
    for (unsigned n = 0; n < ARRIVALS_BATCH && arrivals_next(&run->arr) <= now; n++) {
        uint64_t due = arrivals_next(&run->arr);
        arrivals_take(&run->arr);
        arrival_dispatch(run, due, now);
        if (run->stopping)
            return;
    }
    arrivals_arm(run);
}

/* Sets the timerfd to the next arrival unless it will wake us sooner anyway
 * (arrivals only move later): at most one system call per wakeup. */
static void arrivals_arm(runner_t *run)
{
    uint64_t next = arrivals_next(&run->arr);
    if (next == ARRIVALS_NONE)
        return;
    if (next < run->woke_us + ARRIVALS_WAKE_US)
        next = run->woke_us + ARRIVALS_WAKE_US;
    if (run->armed_us != ARRIVALS_NONE && run->armed_us <= next)
        return;
    uint64_t at = (run->epoch_hr_us + next) * 1000;
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / 1000000000),
                                          .tv_nsec = (long)(at % 1000000000)}};
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;     /* zero would disarm it */
    if (timerfd_settime(run->arr_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
        run->armed_us = next;
}

static void arrivals_disarm(runner_t *run)
{
    if (run->arr_fd < 0)
        return;
    struct itimerspec off = {0};
    timerfd_settime(run->arr_fd, 0, &off, NULL);
    run->armed_us = ARRIVALS_NONE;
}

static void on_arrivals_prepare(uv_prepare_t *h)
{
    arrivals_run(h->data);
}

static void on_arrivals_timer(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    runner_t *run = h->data;
    /* No read: setting the timer again (or disarming it) clears its
     * readiness, one system call per wakeup rather than two. */
    run->armed_us = ARRIVALS_NONE;
    run->woke_us = run_us(run);
    arrivals_run(run);
    if (run->armed_us == ARRIVALS_NONE)
        arrivals_disarm(run);
}

/* The newest user stops: at once if it is waiting, after its request if not. */
static void user_retire_newest(runner_t *run)
{
    user_t *u = run->users[--run->n_users];
    uncount_not_started(u);
    if (u->prep)
        u->stopping = true;
    else if (!u->stopping)
        user_stop(u);
}

/* ---- the interface ------------------------------------------------------ */

static void cancel_in_flight(runner_t *run)
{
    while (run->in_flight.next != &run->in_flight) {
        user_t *u = run->in_flight.next;
        http_cancel(u->conn);
        session_end(&u->sess, &run->scratch);
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

static int prepare_seq(runner_t *run, const plan_task_t *t, seq_t *out, char *err, size_t errlen)
{
    const plan_t *plan = run->cfg.plan;
    out->n = t->n_steps;
    out->preps = xcalloc(t->n_steps ? t->n_steps : 1, sizeof *out->preps);
    for (size_t i = 0; i < t->n_steps; i++) {
        const plan_step_t *st = &t->steps[i];
        prep_t *p = &out->preps[i];
        p->step = st;
        p->entry = st->entry;
        /* A templated target gets its path with each send: the prepared
         * request knows only its origin. */
        if (st->target_t.dynamic) {
            const char *field = strstr(st->target, "{{");
            char *fixed = xstrndup(st->target, (size_t)(field - st->target));
            if (url_is_absolute(fixed)) {
                const char *auth = strstr(fixed, "://") + 3;
                fixed[(size_t)(auth - fixed) + strcspn(auth, "/")] = '\0';
                p->url = url_resolve(fixed, "/");
            } else {
                p->url = url_resolve(run->cfg.host, "/");
            }
            free(fixed);
        } else {
            p->url = url_resolve(run->cfg.host, st->target);
        }
        p->needle_len = st->expect_body ? strlen(st->expect_body) : 0;
        if (p->needle_len > run->max_needle)
            run->max_needle = p->needle_len;
        uint64_t timeout_us = st->timeout_us ? st->timeout_us : plan->timeout_us;
        p->req = http_request_new(run->client, plan, st, p->url, timeout_us, err, errlen);
        if (!p->req)
            return -1;
    }
    return 0;
}

static void free_seq(runner_t *run, seq_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        http_request_free(run->client, s->preps[i].req);
        free(s->preps[i].url);
    }
    free(s->preps);
    s->preps = NULL;
    s->n = 0;
}

static int prepare(runner_t *run, char *err, size_t errlen)
{
    const plan_t *plan = run->cfg.plan;
    run->tasks = xcalloc(plan->n_tasks ? plan->n_tasks : 1, sizeof *run->tasks);
    unsigned *weights = xcalloc(plan->n_tasks ? plan->n_tasks : 1, sizeof *weights);
    int rc = prepare_seq(run, &plan->on_start, &run->on_start, err, errlen);
    if (rc == 0)
        rc = prepare_seq(run, &plan->on_stop, &run->on_stop, err, errlen);
    for (size_t i = 0; i < plan->n_tasks && rc == 0; i++) {
        weights[i] = plan->tasks[i].weight;
        rc = prepare_seq(run, &plan->tasks[i], &run->tasks[i], err, errlen);
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
    if (run->cfg.user_id_first == 0)
        run->cfg.user_id_first = 1;
    if (run->cfg.user_id_step == 0)
        run->cfg.user_id_step = 1;
    run->loop = cfg->loop;
    run->stats = cfg->stats;
    run->in_flight.next = run->in_flight.prev = &run->in_flight;
    rng_seed(&run->rng, cfg->seed);
    run->epoch_ms = uv_now(run->loop);
    scratch_init(&run->scratch, cfg->plan, cfg->host);
    http_client_config_t hc = {
        .kind = cfg->client,
        .loop = cfg->loop,
        .host = cfg->host,
        .sources = cfg->sources,
        .insecure = cfg->insecure,
        .ca_file = cfg->ca_file,
        .cert_file = cfg->cert_file,
        .key_file = cfg->key_file,
        .no_tls_resume = cfg->no_tls_resume,
        .http2 = cfg->http2,
        .no_retry = cfg->no_retry,
        .failure_detail = cfg->on_failure != NULL,
        .on_body = on_body,
        .on_header = on_header,
        .on_done = on_request_done,
    };
    run->client = http_client_new(&hc, err, errlen);
    if (!run->client) {
        scratch_free(&run->scratch);
        free(run);
        return NULL;
    }
    uv_timer_init(run->loop, &run->stop_timer);
    uv_timer_init(run->loop, &run->idle_timer);
    run->stop_timer.data = run->idle_timer.data = run;
    run->epoch_hr_us = uv_hrtime() / 1000;
    const plan_t *plan = cfg->plan;
    run->open = plan->model == MODEL_OPEN;
    run->paced = !run->open && plan_intended_starts(plan);
    run->free_list.free_next = run->free_list.free_prev = &run->free_list;
    run->arr_fd = -1;
    run->armed_us = ARRIVALS_NONE;
    if (run->open) {
        if (run->cfg.max_users == 0)
            run->cfg.max_users = HOPPER_MAX_USERS;
        arrivals_init(&run->arr, cfg->arrival_index, cfg->arrival_count,
                      plan->arrivals == ARRIVALS_POISSON, cfg->seed ^ 0xa5a5a5a5a5a5a5a5ull);
        run->arr_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (run->arr_fd < 0) {
            snprintf(err, errlen, "the open model's clock (timerfd): %s", strerror(errno));
            runner_close(run);
            uv_run(run->loop, UV_RUN_DEFAULT);
            runner_free(run);
            return NULL;
        }
        uv_prepare_init(run->loop, &run->arr_prep);
        uv_poll_init(run->loop, &run->arr_poll, run->arr_fd);
        run->arr_prep.data = run->arr_poll.data = run;
        run->arr_handles = true;
    }
    if (prepare(run, err, errlen) != 0) {
        runner_close(run);
        uv_run(run->loop, UV_RUN_DEFAULT);
        runner_free(run);
        return NULL;
    }
    return run;
}

void runner_set_epoch(runner_t *run, uint64_t epoch_ms, uint64_t epoch_hr_us, double epoch_unix)
{
    run->epoch_ms = epoch_ms;
    run->epoch_hr_us = epoch_hr_us;
    run->epoch_unix = epoch_unix;
}

void runner_set_arrivals(runner_t *run, const arrival_seg_t *seg)
{
    if (!run->open || run->stopping || run->closing)
        return;
    arrivals_set(&run->arr, seg);
    if (!uv_is_active((uv_handle_t *)&run->arr_prep)) {
        uv_prepare_start(&run->arr_prep, on_arrivals_prepare);
        uv_poll_start(&run->arr_poll, UV_READABLE, on_arrivals_timer);
    }
    /* A new segment may bring the next arrival forward. */
    arrivals_disarm(run);
    arrivals_run(run);
}

static void arrivals_stop(runner_t *run)
{
    if (!run->arr_handles)
        return;
    uv_prepare_stop(&run->arr_prep);
    uv_poll_stop(&run->arr_poll);
    arrivals_disarm(run);
}

void runner_set_users(runner_t *run, uint64_t n)
{
    if (run->stopping)
        return;
    /* The open model's pool only grows: users that joined for arrivals
     * stay until the stop, whatever the initial size was. */
    if (run->open && n < run->n_users)
        return;
    while (run->n_users < n) {
        size_t before = run->n_users;
        user_spawn(run, NULL);
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
    arrivals_stop(run);
    if (run->cfg.stop_timeout_us == 0) {
        /* No drain: nothing in flight finishes, and no on-stop runs. */
        run->no_drain = true;
        while (run->n_users)
            user_retire_newest(run);
        cancel_in_flight(run);
    } else {
        while (run->n_users)
            user_retire_newest(run);
        if (run->n_in_flight)
            uv_timer_start(&run->stop_timer, on_stop_timeout, (run->cfg.stop_timeout_us + 999) / 1000, 0);
    }
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
    http_client_tls_counts(run->client, &out->tls_handshakes, &out->tls_resumed);
    out->not_started = run->not_started;
    out->data_exhausted = run->data_exhausted;
    out->free_users = run->n_free;
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
    if (run->arr_handles) {
        arrivals_stop(run);
        uv_close((uv_handle_t *)&run->arr_prep, NULL);
        uv_close((uv_handle_t *)&run->arr_poll, NULL);
        run->arr_handles = false;
    }
    /* The poll is out of epoll once uv_close has run: the fd may go. */
    if (run->arr_fd >= 0) {
        close(run->arr_fd);
        run->arr_fd = -1;
    }
    http_client_close(run->client);
}

void runner_free(runner_t *run)
{
    if (!run)
        return;
    for (size_t i = 0; run->tasks && i < run->cfg.plan->n_tasks; i++)
        free_seq(run, &run->tasks[i]);
    free_seq(run, &run->on_start);
    free_seq(run, &run->on_stop);
    http_client_free(run->client);
    picker_free(&run->picker);
    scratch_free(&run->scratch);
    free(run->tasks);
    free(run->users);
    free(run);
}

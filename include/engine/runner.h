/* runner: the simulated users of one process, and their requests.
 *
 * The engine decides how many users should run and when (the ramp); a runner
 * makes it so at once: runner_set_users() starts users or stops the newest
 * ones. Each user runs the plan's [on-start] steps once (again after its
 * wait until they pass), then loops: pick a task by weight, run its steps in
 * order on its own keep-alive connection with its own cookie jar (each
 * step's think time between them), record each result into the stats it was
 * given, wait, repeat; when it stops, it runs the [on-stop] steps within the
 * stop drain. Per-user variables, data rows and the rendering of templated
 * requests are its session (engine/session.h). With one worker the runner lives in the
 * engine's process; with --workers N, one runner runs in each worker process
 * (worker.c) and the engine talks to it through the pool (pool.c).
 *
 * The requests go through the HTTP client interface (http/client.h): libcurl
 * or hopper's own HTTP/1.1 client, chosen once per run by main; the runner
 * treats both alike. It keeps per user what is watched of a body (the
 * expect-body match, the start kept for a failure log: engine/body.h), judges
 * each response against the step's expectations, and counts failures that
 * are hopper's own shortage (file descriptors, local ports) by error kind. */
#ifndef HOPPER_RUNNER_H
#define HOPPER_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "engine/arrivals.h"
#include "snapshot/failure.h"
#include "http/client.h"
#include "http/srcaddr.h"
#include "plan/plan.h"
#include "stats/stats.h"

typedef struct runner runner_t;

/* After runner_stop: every user has stopped and nothing is in flight. */
typedef void (*runner_idle_cb)(runner_t *r, void *arg);

typedef struct {
    uv_loop_t *loop;
    const plan_t *plan;
    const char *host;
    stats_t *stats;                /* results go here */
    http_client_kind_t client;
    const srcaddr_list_t *sources; /* --source-addrs, parsed; NULL: the kernel picks */
    bool insecure;                 /* https://: do not verify TLS certificates */
    const char *ca_file;           /* --cacert, --cert, --key (NULL: none) */
    const char *cert_file;
    const char *key_file;
    bool no_tls_resume;            /* --no-tls-resume */
    bool http2;                    /* speak HTTP/2 */
    bool no_retry;                 /* --no-retry: a request never goes twice */
    uint64_t stop_timeout_us;      /* at the stop, requests in flight may finish for this long; 0: cancel at once */
    uint64_t seed;
    /* {{user.id}}: the users of this runner are numbered first, first + step,
     * ... (workers interleave so that numbers are unique in the run); 0: 1. */
    uint64_t user_id_first, user_id_step;
    failure_cb on_failure;
    void *failure_arg;
    runner_idle_cb idle;
    void *arg;
    /* The open model (plan->model): iterations start on the arrivals' clock
     * (runner_set_arrivals), each run by a free user of the pool; the pool
     * grows on demand up to max_users (this process's bound), and an
     * arrival that finds no free user then is dropped. This process runs
     * arrivals arrival_index, + arrival_count, ... of the run's schedule. */
    uint64_t max_users;
    unsigned arrival_index, arrival_count;
} runner_config_t;

typedef struct {
    uint64_t users;                /* running (not counting those finishing a request to stop) */
    uint64_t in_flight;
    uint64_t cancelled;            /* in flight at the stop, cancelled: not counted */
    uint64_t drained;              /* in flight at the stop, finished within the stop timeout: counted */
    uint64_t spawn_failures;
    uint64_t out_of_fds;           /* requests that found no file descriptor for a socket */
    uint64_t out_of_ports;         /* requests that found no free local port */
    uint64_t retries;              /* requests sent again on a new connection (http/client.h) */
    uint64_t tls_handshakes;       /* https: TLS handshakes, and how many resumed a session */
    uint64_t tls_resumed;
    uint64_t not_started;          /* running users whose on-start has not passed (not logged in) */
    uint64_t data_exhausted;       /* iterations that found no `unique` data row left */
    uint64_t free_users;           /* open model: users of the pool waiting for an arrival */
} runner_status_t;

runner_t *runner_new(const runner_config_t *cfg, char *err, size_t errlen);

/* The clock the runner records with: ms since epoch_ms on the loop's clock,
 * and epoch_unix for wall-clock times (errors' first and last seen);
 * epoch_hr_us is the same instant on uv_hrtime's clock (in microseconds),
 * which every process of a run shares: the schedules of arrivals and paced
 * users are kept on it to the microsecond. */
void runner_set_epoch(runner_t *r, uint64_t epoch_ms, uint64_t epoch_hr_us, double epoch_unix);

/* The open model: arrivals follow seg from seg->t0_us (run clock) on. */
void runner_set_arrivals(runner_t *r, const arrival_seg_t *seg);

/* Starts or stops users at once to have n running; a stopped user that is
 * mid-request finishes that request first (and it is counted). */
void runner_set_users(runner_t *r, uint64_t n);

/* Stops every user: no request starts any more; requests in flight may finish
 * (and are counted as drained) for up to the stop timeout, then what is left is
 * cancelled (counted as cancelled); a stop timeout of 0 cancels at once. A
 * second call cancels what is left. The idle callback follows (never from
 * inside this call). */
void runner_stop(runner_t *r);

void runner_status(const runner_t *r, runner_status_t *out);

/* Closes every handle (after idle); runner_free once the loop has run the
 * close callbacks. */
void runner_close(runner_t *r);
void runner_free(runner_t *r);

#endif

/* engine: runs the simulated users of a plan on a libuv loop.
 *
 * Each user loops: pick a task by weight, send its request on the user's own
 * keep-alive connection with the user's own cookie jar (whichever HTTP client
 * runs, http/client.h: each gives every user its own), record the result, wait (the plan's wait), repeat. Users start and
 * stop evenly spaced at the spawn rate; lowering the target stops the newest
 * users first, each after its request in flight (if any) has finished.
 *
 * The interface is narrow on purpose, so that views stay views and the engine
 * can later run in several worker processes behind it: commands in
 * (engine_start, engine_set_target_users, engine_set_spawn_rate, engine_pause,
 * engine_reset_stats, engine_stop) and a plain-data snapshot out
 * (engine_snapshot). No view ever reads engine structures.
 *
 * Lifetime: engine_new, engine_start, ... the run ... done callback (after
 * engine_stop, or when --run-time is reached), engine_close, run the loop until
 * it is empty, engine_free. */
#ifndef HOPPER_ENGINE_H
#define HOPPER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "engine/runner.h"
#include "http/client.h"
#include "http/srcaddr.h"
#include "plan/plan.h"
#include "snapshot/failure.h"
#include "snapshot/snapshot.h"

typedef struct engine engine_t;

/* The run is over: every user stopped and no request in flight. */
typedef void (*engine_done_cb)(engine_t *eng, void *arg);


typedef struct {
    uv_loop_t *loop;
    const plan_t *plan;        /* must outlive the engine */
    const char *host;          /* base URL (plan host or -H) */
    uint64_t users;            /* initial target */
    double spawn_rate;
    uint64_t run_time_us;      /* 0: until engine_stop */
    uint64_t stop_timeout_us;  /* how long in-flight requests may finish at stop; 0: cancel at once */
    uint64_t seed;
    engine_done_cb done;
    void *arg;
    /* With on_failure, every request keeps what a failure report needs (the
     * headers it sent, the start of the body): a cost paid only when asked. */
    failure_cb on_failure;
    void *failure_arg;
    /* --workers: 0 or 1 runs the users in this process; N > 1 forks N worker
     * processes (pool.c) before anything else starts. */
    unsigned workers;
    http_client_kind_t client; /* libcurl or hopper's HTTP/1.1 client */
    const srcaddr_list_t *sources; /* --source-addrs, parsed (must outlive the engine), or NULL */
    bool insecure;             /* --insecure: TLS certificates are not verified */
    const char *ca_file;       /* --cacert, --cert, --key (NULL: none) */
    const char *cert_file;
    const char *key_file;
    bool no_tls_resume;        /* --no-tls-resume */
    bool http2;                /* --http2, or the plan's protocol = http2 */
    bool no_retry;             /* --no-retry: a request never goes twice (http/client.h) */
    /* An MPI run's conductor (cluster/cluster.h): remote_n worker slots, each
     * a stream to a worker on a rank, configured there; the engine runs no
     * users itself and forks nothing. 0: workers as above. */
    unsigned remote_n;
    const int *remote_fds;
    const char *const *remote_names;
    /* Messages for the operator (a worker died, hopper is the bottleneck). */
    void (*log)(void *arg, const char *msg);
    void *log_arg;
} engine_config_t;

/* Prepares every task's request. Returns NULL with a message in err on a
 * problem (libcurl refused an option, for example). */
engine_t *engine_new(const engine_config_t *cfg, char *err, size_t errlen);

/* The settings every runner of the run shares (an MPI rank's workers are
 * forked from these): the caller sets loop, stats, idle and arg. */
void engine_runner_config(const engine_config_t *cfg, runner_config_t *rc);

/* Starts the ramp and the clock. */
void engine_start(engine_t *eng);

/* Moves the ramp towards a new user count at the current spawn rate. */
void engine_set_target_users(engine_t *eng, uint64_t users);

/* Changes the spawn rate (users per second, > 0) of the ramp. */
void engine_set_spawn_rate(engine_t *eng, double rate);

/* The open model: the arrival rate (arrivals per second, >= 0) from now on;
 * with stages, until the next stage begins (manual control). */
void engine_set_arrival_rate(engine_t *eng, double rate);

/* Pauses or resumes the ramp; users already running keep running. */
void engine_pause(engine_t *eng, bool paused);

/* Forgets the statistics so far (Locust's "reset stats"). */
void engine_reset_stats(engine_t *eng);

/* Stops the test: no new requests; requests in flight may finish (and are
 * counted, as drained) for up to the stop timeout, and what is left then is
 * cancelled (counted as cancelled, not as requests); a stop timeout of 0
 * cancels at once. With workers, each worker drains the same way and its last
 * report carries what it drained. A second call cancels whatever is still in
 * flight. The done callback follows. */
void engine_stop(engine_t *eng);

/* Fills *out with the state and statistics now. */
void engine_snapshot(engine_t *eng, snap_t *out);

/* Starts closing every libuv handle the engine owns (after the done callback). */
void engine_close(engine_t *eng);

/* Frees the engine; call once the loop has run the close callbacks. */
void engine_free(engine_t *eng);

#endif

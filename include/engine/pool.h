/* pool: the engine's side of a --workers N run.
 *
 * pool_new() forks N worker processes (worker.c), each with one end of a
 * socketpair. The pool hands out users (pool_set_users: the total, spread
 * evenly; taking users back takes them from the busiest worker, so the newest
 * go first), forwards stop and reset, merges every report's statistics delta
 * into the engine's stats (exact: histograms add bucket by bucket), and keeps
 * each worker's last status and health. When every worker has finished after
 * a stop (or died), the done callback runs. Fork early: before the loop has
 * other handles, so the workers inherit nothing they should not own.
 *
 * pool_new_remote is the same conversation with workers that are not this
 * process's children: each slot is given as one end of a stream whose other
 * end reaches a worker somewhere else (an MPI rank's worker, through
 * cluster/cluster.h's relay), and a name for the operator's messages. */
#ifndef HOPPER_POOL_H
#define HOPPER_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hopper.h"
#include "engine/runner.h"
#include "stats/stats.h"

#define POOL_NAME_MAX 128

typedef struct pool pool_t;
typedef void (*pool_done_cb)(pool_t *p, void *arg);
typedef void (*pool_log_cb)(void *arg, const char *msg);

typedef struct {
    uint64_t users;
    double cpu_pct;
    double lag_ms;
    bool alive;
} worker_health_t;

/* tmpl: the runners' settings (loop, stats and idle are the workers' own). */
pool_t *pool_new(uv_loop_t *loop, unsigned workers, const runner_config_t *tmpl, stats_t *stats,
                 pool_done_cb done, pool_log_cb log, void *arg, char *err, size_t errlen);

/* n slots over fds (taken: the pool closes them), named names[i] in its
 * messages; the workers behind them are configured already (worker_fork's
 * index and count are theirs in the whole run). */
pool_t *pool_new_remote(uv_loop_t *loop, unsigned n, const int *fds, const char *const *names,
                        stats_t *stats, pool_done_cb done, pool_log_cb log, void *arg);

/* The run's clock: merged requests are placed at uv_now - epoch_ms; the
 * workers keep their schedules on epoch_hr_us (runner_set_epoch). */
void pool_set_epoch(pool_t *p, uint64_t epoch_ms, uint64_t epoch_hr_us, double epoch_unix);

/* The open model: every worker follows seg with its share of the rate
 * (each runs its interleaved part of the schedule: engine/arrivals.h). */
void pool_set_arrivals(pool_t *p, const arrival_seg_t *seg);

void pool_set_users(pool_t *p, uint64_t total);
void pool_stop(pool_t *p);
void pool_reset(pool_t *p);

/* Whether the run's `unique` data is used up: forked workers share one
 * position in the rows, so one worker that found none means none is left;
 * remote workers (an MPI run) each have their own part of the rows, so all
 * of those that run users must have found none. */
bool pool_data_exhausted(const pool_t *p);

/* The workers' status added up, and each worker's health. */
void pool_status(const pool_t *p, runner_status_t *sum);
size_t pool_health(const pool_t *p, worker_health_t *out, size_t max);

/* Closes the pipes (after done), then pool_free once the loop has drained:
 * it also reaps the worker processes. */
void pool_close(pool_t *p);
void pool_free(pool_t *p);

#endif

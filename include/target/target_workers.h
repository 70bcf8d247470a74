/* target_workers: hopper-target --workers N, several processes on one port.
 *
 * A process can hold only as many connections as its RLIMIT_NOFILE allows,
 * and the hard limit may sit far below what a load test needs (20,000 on
 * some machines, where not even root may raise it). So the parent forks N
 * workers; each raises its own soft limit, binds its own SO_REUSEPORT
 * listener on the same address and port and runs an ordinary target_server
 * on its own loop. The kernel hashes each new connection to one listener.
 *
 * The parent serves nothing. Before forking it reserves the port (which also
 * resolves --port 0 and fails early when the port is taken), then creates
 * one socketpair per worker. Over it a worker says it is listening, or why it
 * could not, and at the end sends its counts (target_counts_put). The
 * parent prints "listening on" once every worker listens, turns SIGINT and
 * SIGTERM into one SIGTERM for each worker, and prints one exit report: the
 * workers' counts added up, in the single-process format, then a line per
 * worker. A worker that dies is reported on stderr when it happens; its
 * counts are then missing from the report and the exit status is 1.
 *
 * Signals: from target_workers_fork on, SIGINT, SIGTERM and SIGCHLD are
 * blocked, so that none is lost or kills a process before its watchers are
 * in place. A worker unblocks SIGTERM in target_workers_ready and blocks it
 * again once it is stopping; it keeps SIGINT blocked for good, because a
 * Ctrl-C reaches the whole process group and only the parent acts on it. A
 * worker also gets SIGTERM when the parent dies, so none is left behind.
 *
 * Call order:
 *   target_workers_new, then target_workers_fork, which returns in the parent
 *     and in each worker.
 *   In a worker (target_workers_index >= 0): target_workers_worker_config, a
 *     server on a fresh loop with its SIGTERM watcher, then
 *     target_workers_ready (or target_workers_failed); target_workers_stopping
 *     when the stop signal comes; after the loop, target_workers_send; then
 *     target_workers_free.
 *   In the parent: target_workers_supervise, then target_workers_free. */
#ifndef HOPPER_TARGET_WORKERS_H
#define HOPPER_TARGET_WORKERS_H

#include <stdio.h>

#include "target/target_counts.h"
#include "target/target_server.h"

#define TARGET_WORKERS_MAX 64

struct target_workers;

/* Reserves cfg->addr's port for count (1..TARGET_WORKERS_MAX) workers,
 * resolving port 0. 0 and *out set, or a negative errno (the port is taken,
 * say) and nothing to free. */
int target_workers_new(const struct target_config *cfg, unsigned count, struct target_workers **out);

/* Forks the workers. Call it before any libuv loop exists: each process
 * makes its own afterwards. Returns 0 in the parent and in every worker; or,
 * in the parent only, a negative errno with no worker left running (w still
 * needs target_workers_free). */
int target_workers_fork(struct target_workers *w);

/* -1 in the parent, 0..count-1 in a worker. */
int target_workers_index(const struct target_workers *w);

/* A worker's configuration: the parent's, with the port the parent reserved,
 * SO_REUSEPORT, and the seed plus the worker's index, so that each worker
 * draws differently and a run with a given --seed repeats per worker. */
void target_workers_worker_config(const struct target_workers *w, struct target_config *cfg);

/* Worker: the listener is up and the SIGTERM watcher is in place. Tells the
 * parent and unblocks SIGTERM. 0, or a negative errno when the parent is
 * gone (the worker should then stop). */
int target_workers_ready(struct target_workers *w);

/* Worker: call from the stop signal's callback, before closing the signal
 * watchers. Keeps SIGTERM blocked from then on: a signal to the whole
 * process group (timeout(1) sends one) and the parent's forwarded SIGTERM
 * are two signals, and the second must not end the worker before it has
 * sent its counts. The parent's SIGKILL stays the way out. */
void target_workers_stopping(struct target_workers *w);

/* Worker: the listener could not be made (err is a libuv error); the parent
 * prints why and stops. */
void target_workers_failed(struct target_workers *w, int err);

/* Worker: sends the counts to the parent, once, after the loop has ended.
 * Blocks until they are written. 0 or a negative errno. */
int target_workers_send(struct target_workers *w, const struct target_counts *c,
                        const struct target_counts_totals *totals);

/* Parent: runs until every worker has ended, and returns the exit status
 * (0 or 1). Prints "listening on ADDR:PORT" to out once every worker
 * listens, and at the end the merged exit report to out (unless --quiet);
 * problems go to stderr. */
int target_workers_supervise(struct target_workers *w, FILE *out);

/* Frees w and closes what it holds; in either process. */
void target_workers_free(struct target_workers *w);

#endif

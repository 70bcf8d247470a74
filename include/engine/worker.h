/* worker: one worker process of a --workers N run.
 *
 * The engine's pool forks each worker with one end of a socketpair. The
 * worker runs its own libuv loop with a runner and its own statistics, does
 * what the engine asks (how many users, stop, reset), and every
 * WORKER_REPORT_MS sends a report: its users, requests in flight, its own
 * health (CPU, event-loop lag) and a delta of its statistics, which the
 * engine merges exactly. It ignores Ctrl-C and SIGHUP (the engine decides
 * when to stop) and stops at once if the engine goes away. */
#ifndef HOPPER_WORKER_H
#define HOPPER_WORKER_H

#include <sys/types.h>

#include "engine/runner.h"

#define WORKER_REPORT_MS 250

/* Runs the worker on fd until it is told to stop and has finished; returns
 * the process's exit status. tmpl gives the runner's settings (its loop,
 * stats and idle callback are the worker's own). */
int worker_main(int fd, const runner_config_t *tmpl, unsigned index);

/* Forks the worker that is number index of count in the whole run (user ids
 * index + 1, index + 1 + count, ...; arrivals index, index + count, ...;
 * its share of max_users), over a new socket pair: *fd is the parent's end.
 * The child closes close_fds[0, n_close) (its elder siblings' ends) and
 * never returns. The pid, or -1 with a message in err. */
pid_t worker_fork(const runner_config_t *tmpl, unsigned index, unsigned count,
                  const int *close_fds, unsigned n_close, int *fd, char *err, size_t errlen);

#endif

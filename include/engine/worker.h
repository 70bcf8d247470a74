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

#include "engine/runner.h"

#define WORKER_REPORT_MS 250

/* Runs the worker on fd until it is told to stop and has finished; returns
 * the process's exit status. tmpl gives the runner's settings (its loop,
 * stats and idle callback are the worker's own). */
int worker_main(int fd, const runner_config_t *tmpl, unsigned index);

#endif

/* hopper.h: the rules every layer shares, written once.
 *
 * The version and the User-Agent it sends, the limits that the command line,
 * the hopperfile and the dashboard all enforce (so that a value accepted in
 * one place is never refused in another), and the exit statuses that main
 * returns and the man page documents. Plain macros and an enum: no code. */
#ifndef HOPPER_H
#define HOPPER_H

#define HOPPER_VERSION    "0.1.0"
#define HOPPER_USER_AGENT "hopper/" HOPPER_VERSION

/* Users of one run (-u, users =, the dashboard's u and W). The _N forms are
 * the bare numbers, for messages built at compile time (HOPPER_STR). */
#define HOPPER_MAX_USERS_N 10000000
#define HOPPER_MAX_USERS   ((unsigned long long)HOPPER_MAX_USERS_N)
/* Users started or stopped per second (-r, spawn-rate =, the dashboard's r). */
#define HOPPER_MAX_SPAWN_RATE_N 1000000
#define HOPPER_MAX_SPAWN_RATE   ((double)HOPPER_MAX_SPAWN_RATE_N)
/* The slowest: one user per 1000 s. Slower is no ramp anyone waits for, and
 * the ramp's interval (1/rate) must stay a number of microseconds. */
#define HOPPER_MIN_SPAWN_RATE_N 0.001
#define HOPPER_MIN_SPAWN_RATE   ((double)HOPPER_MIN_SPAWN_RATE_N)
/* Arrivals per second of the open model (arrival-rate =, --arrival-rate,
 * rate stages, the dashboard's r), summed over every worker. */
#define HOPPER_MAX_ARRIVAL_RATE_N 1000000
#define HOPPER_MAX_ARRIVAL_RATE   ((double)HOPPER_MAX_ARRIVAL_RATE_N)
/* Worker processes (--workers), per machine or per MPI rank. */
#define HOPPER_MAX_WORKERS 64
/* User ranks of an MPI run (--ranks, or mpirun's -np less the conductor),
 * and the worker processes of all of them together: the conductor keeps a
 * slot (a few hundred bytes and a socket pair) per worker process. */
#define HOPPER_MAX_RANKS 1024
#define HOPPER_MAX_SLOTS 4096
/* An MPI rank that has said nothing for this long (it sends a beat every
 * quarter of it) is lost: dead, hung, or cut off by the network. */
#define HOPPER_RANK_SILENCE_MS 3000
/* How long --ranks waits for MPI to start its ranks by default
 * (--spawn-timeout): Open MPI's spawn can wait for ever on a host that ssh
 * cannot reach. */
#define HOPPER_SPAWN_TIMEOUT_DEFAULT_S 60
/* How long requests in flight may finish at a stop when --stop-timeout is not
 * given (seconds; hopper(1), STOPPING). A request ends by its own timeout
 * sooner, so only plans with a request timeout above this see a request
 * cancelled at the stop; the cap keeps a stop from hanging for a minute. */
#define HOPPER_STOP_TIMEOUT_DEFAULT_S 10
/* Redirects followed for one request, by either HTTP client; one more is
 * the failure "too many redirects". */
#define HOPPER_MAX_REDIRECTS 10
/* What a step that extracts from or checks its response keeps of it: the
 * body up to this many bytes (a longer one fails that step, plainly), the
 * headers up to HOPPER_MAX_KEPT_HEADERS. */
#define HOPPER_MAX_KEPT_BODY    (8u * 1024 * 1024)
#define HOPPER_MAX_KEPT_HEADERS (256u * 1024)
/* Open files a process keeps beside one connection per user: the loop, its
 * pipes, the reports, the terminal. */
#define HOPPER_FD_RESERVE 64

#define HOPPER_STR_(x) #x
#define HOPPER_STR(x)  HOPPER_STR_(x)

/* Exit statuses (hopper(1), EXIT STATUS). */
enum {
    HOPPER_EXIT_OK = 0,
    HOPPER_EXIT_FAILURES = 1,     /* requests failed (the --exit-code-on-error default) */
    HOPPER_EXIT_USAGE = 2,        /* bad options or hopperfile: nothing was sent */
    HOPPER_EXIT_CHECKS = 3,       /* a pass/fail check failed */
    HOPPER_EXIT_REPORT = 4,       /* a report could not be written */
    HOPPER_EXIT_RANK_LOST = 5,    /* an MPI rank died or went silent: its last statistics are missing */
    HOPPER_EXIT_INTERNAL = 70     /* a bug in hopper (sysexits' EX_SOFTWARE) */
};

#endif

/* cluster: one test across many machines, on MPI.
 *
 * One process conducts (rank 0 under mpirun or srun, or the hopper in your
 * terminal that spawned the ranks with --ranks): it runs the engine, whose
 * pool has a slot for every worker process of every user rank. A user rank
 * runs no engine: it forks its --workers processes (engine/worker.h, as on
 * one machine) and relays each one's byte stream to and from the conductor
 * over MPI. The conversation is the one the pool has with local workers
 * (engine/wire.h): exact statistics deltas every 250 ms, users, stop, reset.
 *
 * At the start, before anything is sent to the target, every rank says
 * hello (version, protocol, host, a fingerprint of its command line and of
 * the plan and data files it read, or why it cannot run); the conductor
 * checks them against its own and gives each rank its setup (the seed, its
 * part of the data rows, its worker slots, its source addresses); each rank
 * checks what it was given (ports, files, TLS) and answers ready, or why
 * not. Any problem: every rank is told to leave, the conductor names the
 * rank and the host, nothing was sent.
 *
 * During the run, the conductor's side runs on a thread of its own (the
 * bridge) between the slots' socket pairs and MPI, so the event loop never
 * waits on MPI; ranks and conductor send each other a beat every
 * HOPPER_RANK_SILENCE_MS / 4, and a rank silent for HOPPER_RANK_SILENCE_MS is
 * lost: its slots are closed (the pool reports its workers gone), the test
 * ends with the statistics that arrived, and the run's exit status is
 * HOPPER_EXIT_RANK_LOST. At the end every rank is told goodbye and MPI ends
 * cleanly (or is left, when a rank is gone and MPI_Finalize could hang). */
#ifndef HOPPER_CLUSTER_H
#define HOPPER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CLUSTER_PROTO 1
#define CLUSTER_HOST_MAX 64
#define CLUSTER_TEXT_MAX 1024     /* an error, or a rank's source addresses */
/* How long the conductor waits for every rank's hello and ready. */
#define CLUSTER_START_TIMEOUT_MS 60000

typedef struct cluster cluster_t;

/* What a rank says at the start (and what the conductor compares). */
typedef struct {
    char version[32];
    uint32_t proto;
    char host[CLUSTER_HOST_MAX];
    uint32_t pid;
    uint64_t options;             /* cluster_fingerprint of the command line */
    uint64_t plan;                /* of the plan and its data files, as read */
    uint32_t workers;             /* the processes it forks */
    uint64_t fd_limit;
    char error[CLUSTER_TEXT_MAX]; /* "" or why it cannot run */
} cluster_hello_t;

/* What the conductor gives each rank. */
typedef struct {
    uint32_t go;                  /* 0: leave (another rank or the conductor has a problem) */
    uint64_t seed;
    uint32_t rank_index, rank_count;
    uint32_t slot_first, slot_total;  /* its workers are slots first.. of total */
    uint64_t users;               /* the most users it may hold (its checks) */
    uint64_t start_users;         /* its share of -u (its unique data rows must cover them) */
    uint64_t max_users;           /* the open model's pool bound for the whole run */
    char sources[CLUSTER_TEXT_MAX];   /* its --source-addrs, "" for none */
    uint32_t source_part, source_parts; /* it keeps this part of them (ranks sharing a host) */
} cluster_setup_t;

/* Whether argv[i] is an option that only the conductor reads (--hostfile,
 * --spawn-timeout: where the ranks go and how long to wait for them): the
 * ranks are spawned without it (a host need not have the hostfile) and it
 * is left out of the comparison. The count of arguments it takes (2 for
 * "--hostfile FILE", 1 for "--hostfile=FILE"), or 0. */
int cluster_conductor_option(const char *arg);

/* A 64-bit FNV-1a over bytes, chained from h (start with 0). */
uint64_t cluster_fingerprint(uint64_t h, const void *p, size_t n);

/* The messages' layout (hello.c); decoders return -1 for a payload that is
 * not exactly one well-formed message, and always leave strings terminated. */
void cluster_put_hello(uint8_t **buf, size_t *len, const cluster_hello_t *h);
int cluster_get_hello(const uint8_t *p, size_t n, cluster_hello_t *h);
void cluster_put_setup(uint8_t **buf, size_t *len, const cluster_setup_t *s);
int cluster_get_setup(const uint8_t *p, size_t n, cluster_setup_t *s);

/* ---- before MPI (hosts.c) ---- */

/* A hostfile's lines: "HOST [slots=N] [max_slots=N]", # comments. 0, or -1
 * with "FILE:LINE: problem". */
int cluster_check_hostfile(const char *path, char *err, size_t errlen);
/* Each rank's --source-addrs from spec: a plain list for every host, or
 * "HOST=LIST;HOST=LIST" (HOST as hostname prints it; a short name matches
 * too); ranks on one host take parts of its list. Fills out[r].sources,
 * source_part and source_parts. 0, or -1 with a message naming the rank. */
int cluster_sources(const char *spec, const cluster_hello_t *hellos, unsigned n,
                    cluster_setup_t *out, char *err, size_t errlen);

/* Starts MPI. mode "mpi" (--mpi: under mpirun/srun) or "spawn" (--ranks:
 * this process spawns ranks user ranks of this program with argv's
 * options, on hostfile's hosts). capture (spawn, with the dashboard): what
 * MPI's runtime and the ranks print goes to the log (lines "mpi: ...") once
 * the run is watched (cluster_go), to stderr before and after, never over
 * the dashboard. timeout_ms (spawn): MPI must have started the ranks by
 * then, or the process says so and exits HOPPER_EXIT_USAGE (Open MPI's
 * spawn can wait for ever for a host that cannot be reached). NULL with a
 * message. */
cluster_t *cluster_open(const char *mode, int argc, char **argv, unsigned ranks,
                        const char *hostfile, bool capture, uint64_t timeout_ms, char *err,
                        size_t errlen);
/* While the dashboard is up: this process's own stderr (where the MPI
 * library itself writes its warnings) goes to the capture too (on), or is
 * the terminal again (off). Nothing without a capture. */
void cluster_quiet(cluster_t *c, bool on);
bool cluster_is_conductor(const cluster_t *c);
unsigned cluster_ranks(const cluster_t *c);      /* the conductor: user ranks */
unsigned cluster_rank(const cluster_t *c);       /* a user rank: MPI's number for it */

/* ---- the conductor ---- */

/* Waits for every rank's hello (*hellos: an array of cluster_ranks, the
 * cluster's), and compares each with mine. 0, or -1 with "rank R on host
 * H: ..." in err. */
int cluster_gather(cluster_t *c, const cluster_hello_t *mine, const cluster_hello_t **hellos,
                   char *err, size_t errlen);
/* Gives rank r setups[r], waits for every ready. 0, or -1 with the first
 * rank's problem in err. */
int cluster_setup(cluster_t *c, const cluster_setup_t *setups, char *err, size_t errlen);
/* Tells every rank to start (the slots: *fds and *names, n of them, for
 * pool_new_remote; the engine takes the fds) and starts the bridge. log
 * runs on loop's thread with the cluster's messages (a rank lost). */
int cluster_go(cluster_t *c, uv_loop_t *loop, void (*log)(void *arg, const char *msg),
               void (*on_lost)(void *arg), void *arg, int **fds, const char *const **names,
               unsigned *n, char *err, size_t errlen);
/* The run is over (from the engine's done callback): the loop may end. */
void cluster_unwatch(cluster_t *c);
/* Tells every rank to leave (after a problem at the start); ends MPI. */
void cluster_abort(cluster_t *c);
/* After the loop has ended: goodbyes, MPI ends. The number of ranks lost
 * during the run. Frees c. */
unsigned cluster_close(cluster_t *c);

/* ---- a user rank ---- */

/* Says hello, waits for the setup. 0: go on with *setup; 1: the conductor
 * said leave (it reports why); -1: the conductor is gone (err). */
int cluster_hello(cluster_t *c, const cluster_hello_t *mine, cluster_setup_t *setup, char *err,
                  size_t errlen);
/* Says ready (problem NULL or "") or why not, waits for the start. 0: go;
 * 1: leave. */
int cluster_ready(cluster_t *c, const char *problem);
/* Leaves without running (after cluster_hello or cluster_ready said so):
 * ends MPI (cleanly if clean: the conductor asked) and frees c. The exit
 * status: the conductor reports the problem. */
int cluster_leave(cluster_t *c, bool clean);
/* Relays the worker streams fds[0, n) (-1: a worker that could not start) until the conductor says goodbye (or
 * goes silent); closes them. The process's exit status. Frees c. */
int cluster_relay(cluster_t *c, const int *fds, unsigned n);

#endif

/* cluster: see include/cluster/cluster.h. */
#include "cluster/cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hopper.h"
#include "cluster/mpilink.h"
#include "util/xalloc.h"

/* What an MPI message is (its tag). A worker's stream travels as chunks
 * tagged TAG_SLOT + its index on its rank; MPI keeps the order of messages
 * between two processes that one receive could match, and the receive here
 * matches any tag, so a stream's chunks, and its TAG_END, arrive in order. */
enum {
    TAG_HELLO = 1,   /* rank -> conductor: cluster_put_hello */
    TAG_SETUP,       /* conductor -> rank: cluster_put_setup */
    TAG_READY,       /* rank -> conductor: "" or why it cannot run */
    TAG_GO,          /* conductor -> rank: 1 start, 0 leave */
    TAG_BEAT,        /* either way: still here */
    TAG_END,         /* either way: u32 slot index on the rank: that stream has ended */
    TAG_BYE,         /* conductor -> rank: u8 1 if MPI may end cleanly */
    TAG_BYE_ACK,     /* rank -> conductor */
    TAG_SLOT = 100,  /* + slot index on the rank: a chunk of that worker's stream */
};

#define BEAT_MS (HOPPER_RANK_SILENCE_MS / 4)
/* How often the bridge and the relay look at MPI: every millisecond while
 * messages flow, backing off to every POLL_MAX_MS when idle (a report is
 * due every 250 ms; an idle look costs a system call or two). */
#define POLL_MS 2
#define POLL_MAX_MS 8
/* Below Open MPI's TCP eager limit (64 KiB with its header): a probed
 * message is then all here, and MPI_Recv never waits on the sender. */
#define CHUNK (32 * 1024)
#define BYE_TIMEOUT_MS 5000

typedef struct {
    int fd;                  /* the bridge's end (the engine has the other) */
    unsigned rank, local;
    bool open;
} slot_t;

typedef struct {
    bool said_hello, ready;   /* it answered the hello, the setup */
    unsigned slot_first, n_slots;
    uint64_t heard_ms;
    bool lost, acked;
} rank_t;

struct cluster {
    mpilink_t *link;
    bool conductor;
    unsigned n;              /* user ranks */
    unsigned base;           /* MPI's number for user rank 0 (1 under mpirun: 0 conducts) */
    bool setup_sent;
    rank_t *ranks;
    cluster_hello_t *hellos;
    /* the conductor during the run */
    slot_t *slots;
    unsigned n_slots;
    int *engine_fds;
    char **names;
    pthread_t thread;
    bool thread_on;
    uv_async_t async;
    bool async_on;
    pthread_mutex_t mu;
    char **msgs;             /* for the loop's thread, under mu */
    size_t n_msgs;
    bool lost_pending;       /* under mu: tell the loop a rank was lost */
    void (*log)(void *arg, const char *msg);
    void (*on_lost)(void *arg);
    void *arg;
    unsigned lost;
    /* cluster_open(capture): what MPI's runtime and the ranks print goes
     * through this pipe to the log, not over the dashboard. */
    int out_pipe[2];             /* -1: no capture */
    int real_err;                /* the terminal's stderr, kept */
    pthread_t reader;
    bool reader_on;
    volatile bool reader_stop;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nap_ms(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void nap(void)
{
    nap_ms(POLL_MS);
}

/* The next wait: short again after anything happened, else twice as long. */
static unsigned next_wait(unsigned wait, bool busy)
{
    return busy ? 1 : wait * 2 > POLL_MAX_MS ? POLL_MAX_MS : wait * 2;
}

static void send_u32(cluster_t *c, unsigned peer, int tag, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    mpilink_send(c->link, peer, tag, b, sizeof b);
}

static int get_u32(const uint8_t *p, size_t n, uint32_t *v)
{
    if (n != 4)
        return -1;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 0;
}

/* How long a stream may refuse bytes before it is given up: its reader
 * (the engine's pool, or a worker) has stopped reading, and waiting longer
 * would stop every other stream, the beats and MPI with it. */
#define WRITE_TIMEOUT_MS 2000

/* Writes all of p; -1 if the other end is gone or has not taken it within
 * WRITE_TIMEOUT_MS (the stream is then of no more use). */
static int write_all(int fd, const uint8_t *p, size_t n)
{
    uint64_t end = now_ms() + WRITE_TIMEOUT_MS;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uint64_t now = now_ms();
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (now >= end || poll(&pf, 1, (int)(end - now)) <= 0)
                return -1;
            continue;
        }
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Waits (a bounded while) until every queued send has gone. */
static bool flush_sends(cluster_t *c, uint64_t ms)
{
    uint64_t end = now_ms() + ms;
    while (mpilink_progress(c->link) > 0) {
        if (now_ms() > end)
            return false;
        nap();
    }
    return true;
}

static void tell(cluster_t *c, bool lost, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whether a line of MPI's says anything (its boxes are made of dashes). */
static bool worth_a_line(const char *s)
{
    for (; *s; s++)
        if (*s != '-' && *s != ' ' && *s != '\t' && *s != '\r')
            return true;
    return false;
}

/* The capture's reader: each line to the log once the run is watched,
 * else to the real stderr (before the dashboard, after it). */
static void *reader_main(void *arg)
{
    cluster_t *c = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    char line[512];
    size_t len = 0;
    for (;;) {
        struct pollfd p = {.fd = c->out_pipe[0], .events = POLLIN};
        int rc = poll(&p, 1, 100);
        if (rc == 0) {
            if (c->reader_stop)
                break;
            continue;
        }
        char ch;
        ssize_t got = read(c->out_pipe[0], &ch, 1);
        if (got <= 0)
            break;
        if (ch != '\n' && len < sizeof line - 1) {
            line[len++] = ch;
            continue;
        }
        line[len] = 0;
        len = 0;
        if (!worth_a_line(line))
            continue;
        pthread_mutex_lock(&c->mu);
        bool watched = c->async_on;
        pthread_mutex_unlock(&c->mu);
        if (watched) {
            tell(c, false, "mpi: %s", line);
        } else {
            dprintf(c->real_err, "%s\n", line);
        }
    }
    return NULL;
}

/* After MPI has ended (its runtime has printed its last): the reader reads
 * what is left and stops; stderr is the terminal's again. */
static void end_capture(cluster_t *c)
{
    if (c->real_err < 0)
        return;
    dup2(c->real_err, STDERR_FILENO);
    close(c->out_pipe[1]);
    c->reader_stop = true;
    if (c->reader_on)
        pthread_join(c->reader, NULL);
    close(c->out_pipe[0]);
    close(c->real_err);
    c->real_err = -1;
}

void cluster_quiet(cluster_t *c, bool on)
{
    if (c->out_pipe[1] >= 0)
        dup2(on ? c->out_pipe[1] : c->real_err, STDERR_FILENO);
}

/* A bound on MPI's start (cluster_open): the watchdog ends the process if
 * MPI has not come back by the deadline. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    uint64_t ms;
    int fd;                  /* where to say so */
    unsigned ranks;
    const char *hostfile;
} watch_t;

static void *watchdog(void *arg)
{
    watch_t *w = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(w->ms / 1000);
    until.tv_nsec += (long)(w->ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) == ETIMEDOUT)
            break;
    bool done = w->done;
    pthread_mutex_unlock(&w->mu);
    if (!done) {
        /* MPI is stuck inside its spawn: nothing was sent, and nothing
         * else can end it. Its runtime goes when this process does. */
        dprintf(w->fd, "hopper: MPI did not start the %u ranks within %.0f s%s%s: is every host "
                "reachable by ssh, with hopper at the same path? (--spawn-timeout; Open MPI's "
                "messages above say more)\n", w->ranks, (double)w->ms / 1000,
                w->hostfile ? " on the hosts of " : "", w->hostfile ? w->hostfile : "");
        _exit(HOPPER_EXIT_USAGE);
    }
    return NULL;
}

cluster_t *cluster_open(const char *mode, int argc, char **argv, unsigned ranks,
                        const char *hostfile, bool capture, uint64_t timeout_ms, char *err,
                        size_t errlen)
{
    cluster_t *c = xcalloc(1, sizeof *c);
    c->out_pipe[0] = c->out_pipe[1] = c->real_err = -1;
    pthread_mutex_init(&c->mu, NULL);
    /* With --ranks and the dashboard: MPI's runtime (started at MPI_Init)
     * and the ranks it starts inherit the pipe for their output. */
    bool spawn = strcmp(mode, "spawn") == 0;
    int saved_out = -1;
    if (capture && spawn && pipe2(c->out_pipe, O_CLOEXEC) == 0) {
        c->real_err = dup(STDERR_FILENO);
        saved_out = dup(STDOUT_FILENO);
        fflush(stdout);
        fflush(stderr);
        dup2(c->out_pipe[1], STDOUT_FILENO);
        dup2(c->out_pipe[1], STDERR_FILENO);
    }
    /* The same program, wherever the ranks run: this one's path. */
    char self[4096];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    if (k <= 0)
        snprintf(self, sizeof self, "%s", argv[0]);
    else
        self[k] = 0;
    watch_t w = {.ms = timeout_ms, .fd = c->real_err >= 0 ? c->real_err : STDERR_FILENO,
                 .ranks = ranks, .hostfile = hostfile};
    pthread_t dog;
    bool dog_on = false;
    if (spawn && timeout_ms) {
        pthread_mutex_init(&w.mu, NULL);
        pthread_cond_init(&w.cv, NULL);
        dog_on = pthread_create(&dog, NULL, watchdog, &w) == 0;
    }
    /* The ranks' arguments: this command line less what only the
     * conductor reads (a rank's host need not have the hostfile). */
    char **args = xcalloc((size_t)argc + 1, sizeof *args);
    for (int i = 1, na = 0; i < argc; i++) {
        int skip = cluster_conductor_option(argv[i]);
        if (skip)
            i += skip - 1;
        else
            args[na++] = argv[i];
    }
    mpilink_t *l = mpilink_open(mode, &argc, &argv, self, args, ranks, hostfile, err, errlen);
    free(args);
    if (dog_on) {
        pthread_mutex_lock(&w.mu);
        w.done = true;
        pthread_cond_signal(&w.cv);
        pthread_mutex_unlock(&w.mu);
        pthread_join(dog, NULL);
    }
    if (spawn && timeout_ms) {
        pthread_cond_destroy(&w.cv);
        pthread_mutex_destroy(&w.mu);
    }
    if (saved_out >= 0) {
        dup2(saved_out, STDOUT_FILENO);
        dup2(c->real_err, STDERR_FILENO);
        close(saved_out);
        c->reader_on = pthread_create(&c->reader, NULL, reader_main, c) == 0;
    }
    if (!l) {
        end_capture(c);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return NULL;
    }
    c->link = l;
    c->conductor = mpilink_role(l) == MPILINK_CONDUCTOR;
    c->n = mpilink_ranks(l);
    c->base = mpilink_first_rank(l);
    if (c->conductor) {
        c->ranks = xcalloc(c->n, sizeof *c->ranks);
        c->hellos = xcalloc(c->n, sizeof *c->hellos);
    }
    return c;
}

bool cluster_is_conductor(const cluster_t *c) { return c->conductor; }
unsigned cluster_ranks(const cluster_t *c) { return c->n; }
unsigned cluster_rank(const cluster_t *c) { return mpilink_index(c->link) + c->base; }

/* ---- the conductor: the start ---- */

static int hello_problem(const cluster_hello_t *mine, const cluster_hello_t *h, unsigned r, char *err,
                         size_t errlen)
{
    /* r: MPI's own number for the rank (what mpirun and ps show). */
    if (h->error[0]) {
        snprintf(err, errlen, "rank %u on host %s: %s", r, h->host, h->error);
        return -1;
    }
    if (strcmp(h->version, mine->version) != 0 || h->proto != mine->proto) {
        snprintf(err, errlen, "rank %u on host %s runs hopper %s (cluster protocol %u), the "
                 "conductor hopper %s (protocol %u): install the same hopper on every host",
                 r, h->host, h->version, h->proto, mine->version, mine->proto);
        return -1;
    }
    if (h->options != mine->options) {
        snprintf(err, errlen, "rank %u on host %s was started with other options than the "
                 "conductor: every rank must run the same command line", r, h->host);
        return -1;
    }
    if (h->workers == 0 || h->workers > HOPPER_MAX_WORKERS) {
        snprintf(err, errlen, "rank %u on host %s says it runs %u workers (1 to %d)", r, h->host,
                 h->workers, HOPPER_MAX_WORKERS);
        return -1;
    }
    if (h->plan != mine->plan) {
        snprintf(err, errlen, "rank %u on host %s read another plan or other data files than the "
                 "conductor: copy the same hopperfile and data files to every host", r, h->host);
        return -1;
    }
    return 0;
}

/* Takes every rank's answer of a tag (TAG_HELLO or TAG_READY) into got[],
 * until all have answered or the start's time is up. A rank's problem (or
 * a malformed hello) is kept in err, the first one; the others' answers are
 * still awaited a little (they are alive and leave cleanly when told). -1
 * with err on a problem or a rank that did not answer. */
static int gather_until(cluster_t *c, int tag, bool *got, char *err, size_t errlen)
{
    uint64_t end = now_ms() + CLUSTER_START_TIMEOUT_MS;
    bool failed = false;
    for (;;) {
        unsigned missing = c->n;
        for (unsigned r = 0; r < c->n; r++)
            if (got[r])
                missing--;
        if (missing == 0)
            return failed ? -1 : 0;
        unsigned peer;
        int t;
        uint8_t *buf;
        size_t n;
        int rc = mpilink_recv(c->link, &peer, &t, &buf, &n);
        if (rc < 0) {
            if (!failed)
                snprintf(err, errlen, "MPI failed while the ranks were starting");
            return -1;
        }
        if (rc == 0) {
            mpilink_progress(c->link);
            if (now_ms() > end) {
                for (unsigned r = 0; r < c->n && !failed; r++)
                    if (!got[r]) {
                        if (tag == TAG_HELLO)
                            snprintf(err, errlen, "rank %u did not say hello within %d s (is "
                                     "hopper at the same path on its host?)", r + c->base,
                                     CLUSTER_START_TIMEOUT_MS / 1000);
                        else
                            snprintf(err, errlen, "rank %u on host %s did not answer its setup "
                                     "within %d s", r + c->base, c->hellos[r].host,
                                     CLUSTER_START_TIMEOUT_MS / 1000);
                        break;
                    }
                return -1;
            }
            nap();
            continue;
        }
        if (peer < c->n && t == tag && !got[peer]) {
            bool bad = false;
            if (tag == TAG_HELLO) {
                bad = cluster_get_hello(buf, n, &c->hellos[peer]) != 0;
                if (bad && !failed)
                    snprintf(err, errlen, "rank %u sent a malformed hello (another program, or "
                             "another version of hopper?)", peer + c->base);
            } else if (n > 0 && !failed) {
                /* TAG_READY: "" or the rank's problem. */
                snprintf(err, errlen, "rank %u on host %s: %.*s", peer + c->base,
                         c->hellos[peer].host, (int)(n < CLUSTER_TEXT_MAX ? n : CLUSTER_TEXT_MAX),
                         (const char *)buf);
                failed = true;
            }
            /* A rank that spoke garbage may not leave when told: it does not
             * count as answered, so MPI is not ended cleanly with it. */
            got[peer] = !bad;
            if (bad)
                failed = true;
            c->ranks[peer].heard_ms = now_ms();
            /* Past a problem, the others get a few seconds more, not the
             * start's whole time. */
            if (failed && end > now_ms() + BYE_TIMEOUT_MS)
                end = now_ms() + BYE_TIMEOUT_MS;
        }
        free(buf);
    }
}

int cluster_gather(cluster_t *c, const cluster_hello_t *mine, const cluster_hello_t **hellos,
                   char *err, size_t errlen)
{
    bool *got = xcalloc(c->n, sizeof *got);
    int rc = gather_until(c, TAG_HELLO, got, err, errlen);
    for (unsigned r = 0; r < c->n; r++)
        c->ranks[r].said_hello = got[r];
    free(got);
    if (rc != 0)
        return -1;
    for (unsigned r = 0; r < c->n; r++)
        if (hello_problem(mine, &c->hellos[r], r + c->base, err, errlen) != 0)
            return -1;
    *hellos = c->hellos;
    return 0;
}

int cluster_setup(cluster_t *c, const cluster_setup_t *setups, char *err, size_t errlen)
{
    unsigned first = 0;
    for (unsigned r = 0; r < c->n; r++) {
        uint8_t *buf;
        size_t n;
        cluster_put_setup(&buf, &n, &setups[r]);
        mpilink_send(c->link, r, TAG_SETUP, buf, n);
        free(buf);
        c->ranks[r].slot_first = first;
        c->ranks[r].n_slots = c->hellos[r].workers;
        first += c->hellos[r].workers;
    }
    bool *got = xcalloc(c->n, sizeof *got);
    int rc = gather_until(c, TAG_READY, got, err, errlen);
    c->setup_sent = true;
    for (unsigned r = 0; r < c->n; r++)
        c->ranks[r].ready = got[r];
    free(got);
    return rc;
}

void cluster_abort(cluster_t *c)
{
    bool all = true;
    for (unsigned r = 0; r < c->n; r++) {
        send_u32(c, r, TAG_GO, 0);
        all = all && c->ranks[r].said_hello && (!c->setup_sent || c->ranks[r].ready);
    }
    /* Everyone alive leaves through MPI_Finalize; a rank that did not
     * answer the last question may be stuck, and a finalize would wait for
     * it for ever. */
    bool sent = flush_sends(c, BYE_TIMEOUT_MS);
    mpilink_close(c->link, all && sent);
    end_capture(c);
    pthread_mutex_destroy(&c->mu);
    for (unsigned g = 0; c->names && g < c->n_slots; g++)
        free(c->names[g]);
    free(c->names);
    free(c->engine_fds);
    free(c->slots);
    free(c->ranks);
    free(c->hellos);
    free(c);
}

/* ---- the conductor: the bridge ---- */

/* From the bridge's thread: a message for the operator, on the loop's. */
static void tell(cluster_t *c, bool lost, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&c->mu);
    if (c->async_on) {
        c->msgs = xrealloc(c->msgs, (c->n_msgs + 1) * sizeof *c->msgs);
        c->msgs[c->n_msgs++] = xstrdup(msg);
        c->lost_pending = c->lost_pending || lost;
        uv_async_send(&c->async);
    }
    pthread_mutex_unlock(&c->mu);
}

static void on_async(uv_async_t *a)
{
    cluster_t *c = a->data;
    pthread_mutex_lock(&c->mu);
    char **msgs = c->msgs;
    size_t n = c->n_msgs;
    bool lost = c->lost_pending;
    c->msgs = NULL;
    c->n_msgs = 0;
    c->lost_pending = false;
    pthread_mutex_unlock(&c->mu);
    for (size_t i = 0; i < n; i++) {
        c->log(c->arg, msgs[i]);
        free(msgs[i]);
    }
    free(msgs);
    if (lost && c->on_lost)
        c->on_lost(c->arg);
}

/* Closes a stream; tell: the other side learns it has ended (TAG_END). */
static void close_slot(cluster_t *c, slot_t *s, bool tell)
{
    if (!s->open)
        return;
    s->open = false;
    close(s->fd);
    if (tell)
        send_u32(c, s->rank, TAG_END, s->local);
}

/* One look at the open streams of slots[0, n) (waiting up to wait ms): each
 * chunk that can be read goes to its peer over MPI; a stream that ended is
 * closed and its peer told. Whether anything moved. The bridge and the
 * relay both pump this way (a relay's slots all have the conductor, peer 0,
 * as their peer). */
static bool pump(cluster_t *c, slot_t *slots, unsigned n, struct pollfd *pfd, unsigned *which,
                 uint8_t *chunk, unsigned wait)
{
    unsigned np = 0;
    for (unsigned i = 0; i < n; i++)
        if (slots[i].open) {
            pfd[np] = (struct pollfd){.fd = slots[i].fd, .events = POLLIN};
            which[np++] = i;
        }
    if (np == 0) {
        nap_ms(wait);
        return false;
    }
    int rc = poll(pfd, np, (int)wait);
    for (unsigned j = 0; rc > 0 && j < np; j++) {
        if (!(pfd[j].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        slot_t *s = &slots[which[j]];
        ssize_t got = read(s->fd, chunk, CHUNK);
        if (got > 0)
            mpilink_send(c->link, s->rank, TAG_SLOT + (int)s->local, chunk, (size_t)got);
        else if (got == 0 || (errno != EINTR && errno != EAGAIN))
            close_slot(c, s, !(c->ranks && c->ranks[s->rank].lost));   /* after its last bytes */
    }
    return rc > 0;
}

static void rank_lost(cluster_t *c, unsigned r, const char *why)
{
    rank_t *k = &c->ranks[r];
    if (k->lost)
        return;
    k->lost = true;
    bool had_open = false;
    for (unsigned i = 0; i < k->n_slots; i++)
        had_open = had_open || c->slots[k->slot_first + i].open;
    /* If it is alive after all (cut off, hung for a while), it must not go
     * on loading the target uncounted: it is told to stop. */
    uint8_t unclean = 0;
    mpilink_send(c->link, r, TAG_BYE, &unclean, 1);
    /* Once the run is over (every report written), a rank that goes
     * silent in the goodbyes has cost nothing: it is not counted. */
    pthread_mutex_lock(&c->mu);
    bool watched = c->async_on;
    pthread_mutex_unlock(&c->mu);
    if (had_open && watched) {
        /* Said first: the pool's messages about its workers follow. */
        c->lost++;
        tell(c, true, "rank %u on host %s (pid %u) %s: it is lost with its users; the statistics "
             "it sent so far are kept, and the test ends", r + c->base, c->hellos[r].host, c->hellos[r].pid,
             why);
    }
    for (unsigned i = 0; i < k->n_slots; i++)
        close_slot(c, &c->slots[k->slot_first + i], false);
}

static void bridge_message(cluster_t *c, unsigned peer, int tag, const uint8_t *p, size_t n)
{
    if (peer >= c->n)
        return;
    rank_t *k = &c->ranks[peer];
    k->heard_ms = now_ms();
    if (k->lost)
        return;
    uint32_t local;
    if (tag >= TAG_SLOT) {
        local = (uint32_t)(tag - TAG_SLOT);
        slot_t *s = local < k->n_slots ? &c->slots[k->slot_first + local] : NULL;
        if (s && s->open && write_all(s->fd, p, n) != 0)
            close_slot(c, s, true);   /* the pool stopped reading it: that worker is done */
    } else if (tag == TAG_END) {
        if (get_u32(p, n, &local) == 0 && local < k->n_slots)
            close_slot(c, &c->slots[k->slot_first + local], false);
    } else if (tag == TAG_BYE_ACK) {
        k->acked = true;
    }
}

static void *bridge_main(void *arg)
{
    cluster_t *c = arg;
    /* Signals are the loop's business (uv_signal); this thread takes none. */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct pollfd *pfd = xcalloc(c->n_slots ? c->n_slots : 1, sizeof *pfd);
    unsigned *which = xcalloc(c->n_slots ? c->n_slots : 1, sizeof *which);
    uint8_t *chunk = xmalloc(CHUNK);
    uint64_t next_beat = 0, bye_deadline = 0;
    bool bye = false;
    for (unsigned r = 0; r < c->n; r++)
        send_u32(c, r, TAG_GO, 1);
    for (unsigned r = 0; r < c->n; r++)
        c->ranks[r].heard_ms = now_ms();
    unsigned wait = 1;
    for (;;) {
        /* A slot the engine closed: the engine is done with that worker. */
        bool busy = pump(c, c->slots, c->n_slots, pfd, which, chunk, wait);
        unsigned peer;
        int tag;
        uint8_t *buf;
        size_t n;
        while (mpilink_recv(c->link, &peer, &tag, &buf, &n) == 1) {
            bridge_message(c, peer, tag, buf, n);
            free(buf);
            busy = true;
        }
        wait = next_wait(wait, busy);
        mpilink_progress(c->link);
        uint64_t now = now_ms();
        if (now >= next_beat) {
            for (unsigned r = 0; r < c->n; r++)
                if (!c->ranks[r].lost && !c->ranks[r].acked)
                    mpilink_send(c->link, r, TAG_BEAT, "", 0);
            next_beat = now + BEAT_MS;
        }
        for (unsigned r = 0; r < c->n; r++) {
            rank_t *k = &c->ranks[r];
            if (!k->lost && !k->acked && now - k->heard_ms > HOPPER_RANK_SILENCE_MS) {
                char why[64];
                snprintf(why, sizeof why, "has said nothing for %.1f s",
                         (double)(now - k->heard_ms) / 1000);
                rank_lost(c, r, why);
            }
        }
        bool any_open = false;
        for (unsigned i = 0; i < c->n_slots && !any_open; i++)
            any_open = c->slots[i].open;
        if (!any_open && !bye) {
            /* The engine has closed every slot: the run is over. */
            uint8_t clean = c->lost == 0;
            for (unsigned r = 0; r < c->n; r++)
                if (!c->ranks[r].lost)
                    mpilink_send(c->link, r, TAG_BYE, &clean, 1);
            bye = true;
            bye_deadline = now + BYE_TIMEOUT_MS;
        }
        if (bye) {
            bool every = true;
            for (unsigned r = 0; r < c->n; r++)
                every = every && (c->ranks[r].lost || c->ranks[r].acked);
            if (every || now > bye_deadline) {
                for (unsigned r = 0; r < c->n; r++)
                    if (!c->ranks[r].lost && !c->ranks[r].acked)
                        c->ranks[r].lost = true;   /* MPI must not wait for it */
                break;
            }
        }
    }
    free(chunk);
    free(which);
    free(pfd);
    return NULL;
}

int cluster_go(cluster_t *c, uv_loop_t *loop, void (*log)(void *arg, const char *msg),
               void (*on_lost)(void *arg), void *arg, int **fds, const char *const **names,
               unsigned *n, char *err, size_t errlen)
{
    unsigned total = 0;
    for (unsigned r = 0; r < c->n; r++)
        total += c->ranks[r].n_slots;
    c->n_slots = total;
    c->slots = xcalloc(total ? total : 1, sizeof *c->slots);
    c->engine_fds = xcalloc(total ? total : 1, sizeof *c->engine_fds);
    c->names = xcalloc(total ? total : 1, sizeof *c->names);
    for (unsigned r = 0; r < c->n; r++) {
        const rank_t *k = &c->ranks[r];
        for (unsigned i = 0; i < k->n_slots; i++) {
            unsigned g = k->slot_first + i;
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
                snprintf(err, errlen, "cannot create a rank's socket pair: %s", strerror(errno));
                for (unsigned j = 0; j < g; j++) {
                    close(c->slots[j].fd);
                    close(c->engine_fds[j]);
                }
                return -1;
            }
            c->slots[g] = (slot_t){.fd = sv[1], .rank = r, .local = i, .open = true};
            c->engine_fds[g] = sv[0];
            char name[160];
            snprintf(name, sizeof name, "rank %u worker %u on host %s", r + c->base, i,
                     c->hellos[r].host);
            c->names[g] = xstrdup(name);
        }
    }
    c->log = log;
    c->on_lost = on_lost;
    c->arg = arg;
    /* The bridge first (it says GO: from here on only it calls MPI); if it
     * cannot start, nothing is on the loop yet and the ranks can still be
     * told to leave. */
    if (pthread_create(&c->thread, NULL, bridge_main, c) != 0) {
        snprintf(err, errlen, "cannot start the MPI bridge thread");
        for (unsigned g = 0; g < total; g++) {
            close(c->slots[g].fd);
            close(c->engine_fds[g]);
            c->slots[g].open = false;
        }
        return -1;
    }
    c->thread_on = true;
    uv_async_init(loop, &c->async, on_async);
    c->async.data = c;
    pthread_mutex_lock(&c->mu);
    c->async_on = true;
    pthread_mutex_unlock(&c->mu);
    *fds = c->engine_fds;
    *names = (const char *const *)c->names;
    *n = total;
    return 0;
}

void cluster_unwatch(cluster_t *c)
{
    pthread_mutex_lock(&c->mu);
    bool on = c->async_on;
    c->async_on = false;
    pthread_mutex_unlock(&c->mu);
    if (on)
        uv_close((uv_handle_t *)&c->async, NULL);
}

unsigned cluster_close(cluster_t *c)
{
    if (c->thread_on)
        pthread_join(c->thread, NULL);
    bool clean = true;
    for (unsigned r = 0; r < c->n; r++)
        clean = clean && !c->ranks[r].lost && c->ranks[r].acked;
    if (clean)
        clean = flush_sends(c, BYE_TIMEOUT_MS);
    for (unsigned i = 0; i < c->n_slots; i++)
        if (c->slots[i].open)
            close(c->slots[i].fd);
    unsigned lost = c->lost;
    mpilink_close(c->link, clean);
    end_capture(c);
    for (unsigned i = 0; i < c->n_slots; i++)
        free(c->names[i]);
    for (size_t i = 0; i < c->n_msgs; i++)
        free(c->msgs[i]);
    free(c->msgs);
    free(c->names);
    free(c->engine_fds);
    free(c->slots);
    free(c->ranks);
    free(c->hellos);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return lost;
}

/* ---- a user rank ---- */

/* Waits for the conductor's message of a tag (TAG_GO 0 means leave, at any
 * time). 1 with *buf; 0 told to leave; -1 the conductor is silent. */
static int wait_for(cluster_t *c, int want, uint8_t **out, size_t *out_n)
{
    uint64_t heard = now_ms();
    for (;;) {
        unsigned peer;
        int tag;
        uint8_t *buf;
        size_t n;
        int rc = mpilink_recv(c->link, &peer, &tag, &buf, &n);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            mpilink_progress(c->link);
            if (now_ms() - heard > CLUSTER_START_TIMEOUT_MS + HOPPER_RANK_SILENCE_MS)
                return -1;
            nap();
            continue;
        }
        heard = now_ms();
        uint32_t v;
        if (tag == TAG_GO && get_u32(buf, n, &v) == 0 && v == 0) {
            free(buf);
            return 0;
        }
        if (tag == want) {
            *out = buf;
            *out_n = n;
            return 1;
        }
        free(buf);
    }
}

int cluster_leave(cluster_t *c, bool clean)
{
    clean = flush_sends(c, BYE_TIMEOUT_MS) && clean;
    mpilink_close(c->link, clean);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return HOPPER_EXIT_USAGE;
}

int cluster_hello(cluster_t *c, const cluster_hello_t *mine, cluster_setup_t *setup, char *err,
                  size_t errlen)
{
    uint8_t *buf;
    size_t n;
    cluster_put_hello(&buf, &n, mine);
    mpilink_send(c->link, 0, TAG_HELLO, buf, n);
    free(buf);
    int rc = wait_for(c, TAG_SETUP, &buf, &n);
    if (rc <= 0) {
        snprintf(err, errlen, rc == 0 ? "the conductor ended the run" : "the conductor is silent");
        return rc == 0 ? 1 : -1;
    }
    rc = cluster_get_setup(buf, n, setup);
    free(buf);
    if (rc != 0) {
        snprintf(err, errlen, "a malformed setup from the conductor");
        return -1;
    }
    return setup->go ? 0 : 1;
}

int cluster_ready(cluster_t *c, const char *problem)
{
    size_t n = problem ? strlen(problem) : 0;
    mpilink_send(c->link, 0, TAG_READY, problem ? problem : "", n);
    uint8_t *buf;
    size_t len;
    /* GO 1 starts; GO 0 (wait_for's 0) leaves. */
    int rc = wait_for(c, TAG_GO, &buf, &len);
    if (rc == 1)
        free(buf);
    return rc == 1 ? 0 : 1;
}

int cluster_relay(cluster_t *c, const int *fds, unsigned n)
{
    slot_t *w = xcalloc(n ? n : 1, sizeof *w);
    struct pollfd *pfd = xcalloc(n ? n : 1, sizeof *pfd);
    unsigned *which = xcalloc(n ? n : 1, sizeof *which);
    uint8_t *chunk = xmalloc(CHUNK);
    for (unsigned i = 0; i < n; i++) {
        w[i] = (slot_t){.fd = fds[i], .rank = 0, .local = i, .open = fds[i] >= 0};
        if (!w[i].open)
            send_u32(c, 0, TAG_END, i);   /* never started */
    }
    uint64_t heard = now_ms(), next_beat = 0;
    bool bye = false, clean = false, silent = false;
    unsigned wait = 1;
    while (!bye && !silent) {
        /* A worker's stream that ended: it has finished (or died). */
        bool busy = pump(c, w, n, pfd, which, chunk, wait);
        unsigned peer;
        int tag;
        uint8_t *buf;
        size_t len;
        int rc;
        while ((rc = mpilink_recv(c->link, &peer, &tag, &buf, &len)) == 1) {
            heard = now_ms();
            busy = true;
            uint32_t i;
            if (tag >= TAG_SLOT) {
                i = (uint32_t)(tag - TAG_SLOT);
                if (i < n && w[i].open && write_all(w[i].fd, buf, len) != 0)
                    close_slot(c, &w[i], true);   /* a worker that stopped reading */
            } else if (tag == TAG_END) {
                /* The conductor is done with that worker: its EOF stops it. */
                if (get_u32(buf, len, &i) == 0 && i < n)
                    close_slot(c, &w[i], false);
            } else if (tag == TAG_BYE) {
                clean = len == 1 && buf[0] == 1;
                bye = true;
            }
            free(buf);
        }
        wait = next_wait(wait, busy);
        mpilink_progress(c->link);
        uint64_t now = now_ms();
        if (now >= next_beat) {
            mpilink_send(c->link, 0, TAG_BEAT, "", 0);
            next_beat = now + BEAT_MS;
        }
        if (rc < 0 || now - heard > HOPPER_RANK_SILENCE_MS)
            silent = true;
    }
    /* Whatever is still running stops now: a closed stream stops a worker. */
    for (unsigned i = 0; i < n; i++)
        close_slot(c, &w[i], false);
    int status = 0;
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
        ;
    if (bye) {
        mpilink_send(c->link, 0, TAG_BYE_ACK, "", 0);
        clean = flush_sends(c, BYE_TIMEOUT_MS) && clean;
    } else {
        status = EXIT_FAILURE;   /* the conductor is gone */
        clean = false;
    }
    free(chunk);
    free(which);
    free(pfd);
    free(w);
    mpilink_close(c->link, clean);
    pthread_mutex_destroy(&c->mu);
    free(c);
    return status;
}

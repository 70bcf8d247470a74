/* control: see include/control/control.h. */
#include "control/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/proto.h"
#include "control/snapwire.h"
#include "util/frame.h"
#include "util/xalloc.h"

/* How long the end waits for viewers to read the final snapshot and the
 * goodbye before it closes them anyway (a stopped viewer reads nothing). */
#define CLOSE_GRACE_MS 1000
/* After accept fails for lack of descriptors, listening pauses this long:
 * the socket stays readable, and polling it at once again would spin. */
#define ACCEPT_PAUSE_MS 1000
/* A peer that has not said hello by then is dropped (it holds a slot). */
#define HELLO_DEADLINE_MS 5000
/* The endpoint rows whose timelines (their charts in the endpoint view)
 * travel with each snapshot, besides the Aggregated row's and those of the
 * rows viewers have selected (PROTO_FOCUS): a row's are up to 1112
 * points, some 20 KB, and every row's on every tick would be some 2 MB a
 * tick at 100 rows. So a tick carries at most TIMELINE_ROWS +
 * CONTROL_MAX_VIEWERS rows' timelines, and the endpoint view a viewer
 * opens always has its charts. */
#define TIMELINE_ROWS 8
/* A snapshot larger than this is sent without the endpoint rows'
 * timelines (said once in the log), so that a viewer is never left blank. */
#define SNAPSHOT_BUDGET (16u << 20)

typedef struct viewer viewer_t;

struct viewer {
    frame_conn_t conn;             /* conn.data = this */
    control_t *ctl;
    viewer_t *next;
    uv_shutdown_t shutdown;
    bool ready;                    /* past the hello */
    unsigned long log_seq;         /* the test's newest log line it was sent */
    int pid;                       /* from SO_PEERCRED, for messages */
    uint64_t skipped;              /* snapshots skipped while it was behind */
    uint64_t since;                /* uv_now when accepted: its hello's deadline counts from it */
    proto_focus_t focus;           /* the row it has selected; focus.index: where it was last found */
    size_t focus_lost;             /* 1 + the rows of the snapshot in which focus was not found */
};

struct control {
    uv_loop_t *loop;
    char *path;
    int fd;
    uid_t uid;
    uv_poll_t listen;              /* the listening socket, readable: a viewer waits */
    uv_timer_t tick;               /* runs only while viewers are attached */
    uv_timer_t pause;              /* accept's pause, then the end's grace */
    uv_timer_t hello;              /* runs while peers have not said hello: their deadline */
    uint64_t hello_ms;
    size_t budget;                 /* SNAPSHOT_BUDGET, or the config's */
    dev_t dev;                     /* the socket's file, removed at the end only if still it */
    ino_t ino;
    bool said_trimmed;             /* the log told of a snapshot over the budget */
    steer_t steer;
    log_t *log;
    uint64_t refresh_ms;
    viewer_t *viewers;
    size_t n_viewers, n_ready;
    snap_t snap;
    frame_buf_t enc;               /* one tick's frames, the same for every viewer */
    frame_buf_t out;               /* one viewer's own frames (hello, log, bye) */
    bool *with;                    /* per endpoint row: its timelines travel this tick */
    size_t cap_with;
    unsigned handles;              /* open handles; the last close frees this */
    bool closing;
    bool pause_closed;
};

static void on_handle_closed(uv_handle_t *h);

bool control_peer_allowed(uid_t peer, uid_t self)
{
    return peer == self || peer == 0;
}

static int set_path(struct sockaddr_un *a, const char *path, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof a->sun_path) {
        snprintf(err, errlen, "--control '%.200s': a Unix socket's path must be 1 to %zu bytes "
                 "long: choose a shorter one", path, sizeof a->sun_path - 1);
        return -1;
    }
    memcpy(a->sun_path, path, strlen(path) + 1);
    return 0;
}

int control_path_check(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un a;
    if (set_path(&a, path, err, errlen) != 0)
        return -1;
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "--control %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "--control %s: exists and is not a socket: remove it or choose "
                 "another path", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, errlen, "--control %s: is another user's socket (uid %u): choose another "
                 "path", path, (unsigned)st.st_uid);
        return -1;
    }
    /* Ours: stale if nobody listens on it (a test that was killed). Not
     * blocking: a listener whose backlog is full would hold this connect
     * (and the test's start) until it accepts; EAGAIN says someone listens. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "--control %s: cannot create a socket: %s", path, strerror(errno));
        return -1;
    }
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
    int why = errno;
    close(fd);
    if (rc == 0 || why == EAGAIN || why == EINPROGRESS) {
        snprintf(err, errlen, "--control %s: another test is listening on it (hopper attach %s "
                 "watches it): choose another path", path, path);
        return -1;
    }
    if (why != ECONNREFUSED) {
        snprintf(err, errlen, "--control %s: %s", path, strerror(why));
        return -1;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "--control %s: a stale socket that cannot be removed: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the viewers ---- */

static void maybe_free(control_t *c)
{
    if (c->closing && c->handles == 0 && c->viewers == NULL) {
        snap_free(&c->snap);
        frame_buf_free(&c->enc);
        frame_buf_free(&c->out);
        free(c->with);
        free(c->path);
        free(c);
    }
}

static void on_viewer_closed(frame_conn_t *conn)
{
    viewer_t *v = conn->data;
    control_t *c = v->ctl;
    free(v);
    c->handles--;
    maybe_free(c);
}

/* Unlinks the viewer and closes it; its memory goes in the close callback.
 * Safe from the viewer's own callbacks (frame_conn_close stops reading). */
static void drop(viewer_t *v)
{
    control_t *c = v->ctl;
    for (viewer_t **p = &c->viewers; *p; p = &(*p)->next)
        if (*p == v) {
            *p = v->next;
            break;
        }
    c->n_viewers--;
    if (!v->ready && c->n_viewers == c->n_ready && !c->closing)
        uv_timer_stop(&c->hello);
    if (v->ready) {
        c->n_ready--;
        if (c->n_ready == 0 && !c->closing)
            uv_timer_stop(&c->tick);
    }
    /* The list no longer holds it, but its handle is open until closed. */
    c->handles++;
    frame_conn_close(&v->conn, on_viewer_closed);
    /* At the end, the grace timer goes with the last viewer. */
    if (c->closing && c->viewers == NULL && !c->pause_closed) {
        c->pause_closed = true;
        uv_timer_stop(&c->pause);
        uv_close((uv_handle_t *)&c->pause, on_handle_closed);
    }
}

static void send_own(viewer_t *v)
{
    frame_conn_send(&v->conn, &v->ctl->out);
}

static bool behind(viewer_t *v)
{
    return uv_stream_get_write_queue_size((uv_stream_t *)&v->conn.pipe) > 0;
}

/* The endpoint row v has selected in s, or SIZE_MAX: where it was last
 * seen, else searched by its key (once per snapshot size: a row that is
 * not there is not searched for again at every tick). */
static size_t focused_row(viewer_t *v, const snap_t *s)
{
    if (!v->focus.row)
        return SIZE_MAX;
    size_t i = v->focus.index;
    if (i < s->n_entries &&
        proto_row_key(s->entries[i].method, s->entries[i].name) == v->focus.key)
        return i;
    if (v->focus_lost == s->n_entries + 1)
        return SIZE_MAX;
    for (i = 0; i < s->n_entries; i++)
        if (proto_row_key(s->entries[i].method, s->entries[i].name) == v->focus.key) {
            v->focus.index = (uint32_t)i;
            v->focus_lost = 0;
            return i;
        }
    v->focus_lost = s->n_entries + 1;
    return SIZE_MAX;
}

/* The snapshot and the checks into c->enc: the timelines of the first
 * TIMELINE_ROWS rows and of every row a viewer has selected; none but the
 * Aggregated row's if that is over the budget (or over a frame's limit). */
static void encode(control_t *c, const snap_t *s, const check_result_t *res, size_t n)
{
    c->enc.len = 0;
    c->with = snap_reserve(c->with, &c->cap_with, s->n_entries, sizeof *c->with);
    for (size_t i = 0; i < s->n_entries; i++)
        c->with[i] = i < TIMELINE_ROWS;
    for (viewer_t *v = c->viewers; v; v = v->next) {
        size_t i = v->ready ? focused_row(v, s) : SIZE_MAX;
        if (i != SIZE_MAX)
            c->with[i] = true;
    }
    int rc = snapwire_put_snapshot_rows(&c->enc, s, c->with);
    if (rc != 0 || c->enc.len > c->budget) {
        c->enc.len = 0;
        rc = snapwire_put_snapshot_rows(&c->enc, s, NULL);
        if (!c->said_trimmed) {
            c->said_trimmed = true;
            log_msg(c->log, "control: the snapshot of %zu rows is over %u bytes: viewers get the "
                    "endpoint rows without their charts%s", s->n_entries, (unsigned)c->budget,
                    rc ? " (and nothing, it is still too large)" : "");
        }
    }
    snapwire_put_checks(&c->enc, res, n);
}

/* One tick: the snapshot and the checks encoded once, the same bytes to
 * every viewer that has read what it was sent before; log lines to each. */
static void tick(control_t *c)
{
    if (c->n_ready == 0)
        return;
    c->steer.snapshot(c->steer.ctx, &c->snap);
    const check_result_t *res = NULL;
    size_t n = c->steer.checks ? c->steer.checks(c->steer.ctx, &c->snap, &res) : 0;
    encode(c, &c->snap, res, n);
    for (viewer_t *v = c->viewers; v; v = v->next) {
        if (!v->ready)
            continue;
        if (behind(v)) {
            /* It has not read the last one: skip this one rather than
             * queue it (a stopped viewer would grow the queue forever). */
            v->skipped++;
            continue;
        }
        proto_put_log(&c->out, c->log, &v->log_seq);
        send_own(v);
        /* frame_conn_send empties the buffer it is given (len = 0) and
         * copies only what the socket did not take: a borrowed view keeps
         * the encoded bytes for the next viewer. */
        frame_buf_t view = c->enc;
        frame_conn_send(&v->conn, &view);
    }
}

static void on_tick(uv_timer_t *t)
{
    tick(t->data);
}

static void apply(viewer_t *v, proto_cmd_t cmd)
{
    control_t *c = v->ctl;
    steer_t *s = &c->steer;
    switch (cmd.kind) {
    case PROTO_CMD_USERS:
        log_msg(c->log, "control: viewer %d: target users %.0f", v->pid, cmd.value);
        s->set_target_users(s->ctx, (uint64_t)cmd.value);
        break;
    case PROTO_CMD_SPAWN_RATE:
        log_msg(c->log, "control: viewer %d: spawn rate %g/s", v->pid, cmd.value);
        s->set_spawn_rate(s->ctx, cmd.value);
        break;
    case PROTO_CMD_ARRIVAL_RATE:
        log_msg(c->log, "control: viewer %d: arrival rate %g/s", v->pid, cmd.value);
        if (s->set_arrival_rate)
            s->set_arrival_rate(s->ctx, cmd.value);
        break;
    case PROTO_CMD_PAUSE:
        log_msg(c->log, "control: viewer %d: %s the ramp", v->pid, cmd.value ? "pauses" : "resumes");
        s->pause(s->ctx, cmd.value != 0);
        break;
    case PROTO_CMD_RESET:
        log_msg(c->log, "control: viewer %d: statistics reset", v->pid);
        s->reset_stats(s->ctx);
        break;
    case PROTO_CMD_STOP:
        log_msg(c->log, "control: viewer %d stops the test", v->pid);
        s->stop(s->ctx);
        break;
    }
}

/* A viewer over the limit is told so (after the hello, so that it reads
 * the goodbye as a hopper's) and closed. */
static void refuse_full(viewer_t *v)
{
    control_t *c = v->ctl;
    char msg[128];
    snprintf(msg, sizeof msg, "too many viewers: %d are attached to this test already",
             CONTROL_MAX_VIEWERS);
    log_msg(c->log, "control: refused viewer %d: %s", v->pid, msg);
    proto_put_bye(&c->out, msg);
    send_own(v);
    drop(v);
}

/* Peers that have not said hello in time are dropped: each holds a slot. */
static void on_hello_deadline(uv_timer_t *t)
{
    control_t *c = t->data;
    uint64_t now = uv_now(c->loop);
    viewer_t *next;
    for (viewer_t *v = c->viewers; v; v = next) {
        next = v->next;
        if (!v->ready && now - v->since >= c->hello_ms) {
            log_msg(c->log, "control: dropped a peer (pid %d) that did not say hello within %llu ms",
                    v->pid, (unsigned long long)c->hello_ms);
            drop(v);
        }
    }
}

static void on_viewer_msg(frame_conn_t *conn, unsigned type, const uint8_t *p, size_t n)
{
    viewer_t *v = conn->data;
    control_t *c = v->ctl;
    if (c->closing)
        return;
    if (!v->ready) {
        proto_hello_t h;
        char msg[LOG_LINE_MAX];
        if (type != PROTO_HELLO || proto_get_hello(p, n, &h) != 0) {
            log_msg(c->log, "control: dropped a peer (pid %d) that is not a hopper viewer", v->pid);
            drop(v);
            return;
        }
        if (!proto_compatible(&h, true, msg, sizeof msg)) {
            log_msg(c->log, "control: %s", msg);
            proto_put_bye(&c->out, msg);
            send_own(v);
            drop(v);
            return;
        }
        if (c->n_ready >= CONTROL_MAX_VIEWERS) {
            refuse_full(v);
            return;
        }
        v->ready = true;
        c->n_ready++;
        if (c->n_viewers == c->n_ready)
            uv_timer_stop(&c->hello);
        /* Everything still in the ring, so its log panel starts full. */
        v->log_seq = c->log->seq - c->log->n_ring;
        log_msg(c->log, "control: viewer %d attached (hopper %s; %zu attached)", v->pid, h.hopper,
                c->n_ready);
        if (!uv_is_active((uv_handle_t *)&c->tick))
            uv_timer_start(&c->tick, on_tick, c->refresh_ms, c->refresh_ms);
        tick(c);
        return;
    }
    proto_cmd_t cmd;
    proto_focus_t focus;
    char reason[LOG_LINE_MAX];
    switch (type) {
    case PROTO_FOCUS:
        if (proto_get_focus(p, n, &focus) == 0) {
            /* Taken into account from the next tick on. */
            v->focus = focus;
            v->focus_lost = 0;
            return;
        }
        break;
    case PROTO_COMMAND:
        if (proto_get_command(p, n, &cmd) == 0) {
            apply(v, cmd);
            return;
        }
        break;
    case PROTO_BYE:
        if (proto_get_bye(p, n, reason, sizeof reason) == 0) {
            log_msg(c->log, "control: viewer %d detached", v->pid);
            drop(v);
            return;
        }
        break;
    default:
        break;
    }
    log_msg(c->log, "control: dropped viewer %d: a malformed frame (type %u, %zu bytes)", v->pid,
            type, n);
    drop(v);
}

static void on_viewer_end(frame_conn_t *conn, int err)
{
    viewer_t *v = conn->data;
    control_t *c = v->ctl;
    if (err == UV_EPROTO)
        log_msg(c->log, "control: dropped viewer %d: a malformed or oversized frame (over %u "
                "bytes)", v->pid, PROTO_VIEWER_FRAME_MAX);
    else if (v->ready && !c->closing)
        log_msg(c->log, "control: viewer %d is gone%s%s", v->pid, err == UV_EOF ? "" : ": ",
                err == UV_EOF ? "" : uv_strerror(err));
    drop(v);
}

static void accept_viewers(control_t *c);

static void on_listen(uv_poll_t *h, int status, int events)
{
    (void)events;
    if (status < 0)
        return;
    accept_viewers(h->data);
}

static void on_pause_over(uv_timer_t *t)
{
    control_t *c = t->data;
    if (c->closing) {
        /* The grace is over: whoever has not read the end is closed. */
        while (c->viewers)
            drop(c->viewers);
        return;
    }
    uv_poll_start(&c->listen, UV_READABLE, on_listen);
}

static void accept_viewers(control_t *c)
{
    for (;;) {
        int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                log_msg(c->log, "control: cannot accept a viewer: %s", strerror(errno));
                uv_poll_stop(&c->listen);
                uv_timer_start(&c->pause, on_pause_over, ACCEPT_PAUSE_MS, 0);
            }
            return;
        }
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
            log_msg(c->log, "control: refused a peer whose user cannot be known: %s", strerror(errno));
            close(fd);
            continue;
        }
        if (!control_peer_allowed(cred.uid, c->uid)) {
            char who[64] = "root";
            if (c->uid != 0)
                snprintf(who, sizeof who, "uid %u (the test's user) or root", (unsigned)c->uid);
            log_msg(c->log, "control: refused a viewer of uid %u (pid %d): only %s may attach",
                    (unsigned)cred.uid, (int)cred.pid, who);
            close(fd);
            continue;
        }
        /* Peers still to say hello have their own bound (and a deadline). */
        if (c->n_viewers - c->n_ready >= CONTROL_MAX_VIEWERS) {
            log_msg(c->log, "control: refused a peer (pid %d): %d others have not said hello yet",
                    (int)cred.pid, CONTROL_MAX_VIEWERS);
            close(fd);
            continue;
        }
        viewer_t *v = xcalloc(1, sizeof *v);
        v->ctl = c;
        v->pid = (int)cred.pid;
        v->since = uv_now(c->loop);
        v->next = c->viewers;
        c->viewers = v;
        c->n_viewers++;
        int err = frame_conn_start(&v->conn, c->loop, fd, on_viewer_msg, on_viewer_end, v);
        /* A viewer's frames are small: a larger header is refused as soon
         * as it is seen, before anything is buffered for it. */
        v->conn.in.max = PROTO_VIEWER_FRAME_MAX;
        if (err < 0) {
            log_msg(c->log, "control: cannot take viewer %d: %s", v->pid, uv_strerror(err));
            drop(v);
            continue;
        }
        proto_put_hello(&c->out);
        if (c->n_ready >= CONTROL_MAX_VIEWERS) {
            refuse_full(v);   /* sends the hello with the goodbye */
            continue;
        }
        send_own(v);
        if (!uv_is_active((uv_handle_t *)&c->hello)) {
            uint64_t every = c->hello_ms / 5 ? c->hello_ms / 5 : 1;
            uv_timer_start(&c->hello, on_hello_deadline, every, every);
        }
    }
}

/* ---- the socket ---- */

static void on_handle_closed(uv_handle_t *h)
{
    control_t *c = h->data;
    if (h == (uv_handle_t *)&c->listen)
        close(c->fd);
    c->handles--;
    maybe_free(c);
}

control_t *control_new(uv_loop_t *loop, const control_config_t *cfg, char *err, size_t errlen)
{
    struct sockaddr_un a;
    if (set_path(&a, cfg->path, err, errlen) != 0)
        return NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "--control %s: cannot create a socket: %s", cfg->path, strerror(errno));
        return NULL;
    }
    /* Linux gives the socket's file the mode of the socket (less the
     * umask) at bind: set before, it never exists with a wider one. */
    if (fchmod(fd, 0600) != 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        snprintf(err, errlen, "--control %s: %s%s", cfg->path, strerror(errno),
                 errno == EADDRINUSE ? " (it exists: another program made it just now?)" : "");
        close(fd);
        return NULL;
    }
    struct stat st;
    errno = 0;
    if (lstat(cfg->path, &st) != 0 || !S_ISSOCK(st.st_mode) || (st.st_mode & 0077) != 0 ||
        st.st_uid != geteuid() ||
        listen(fd, 16) != 0) {
        snprintf(err, errlen, "--control %s: the socket could not be made private and listening%s%s",
                 cfg->path, errno ? ": " : "", errno ? strerror(errno) : "");
        close(fd);
        unlink(cfg->path);
        return NULL;
    }
    control_t *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->path = xstrdup(cfg->path);
    c->fd = fd;
    c->uid = geteuid();
    c->steer = cfg->steer;
    c->log = cfg->log;
    c->refresh_ms = cfg->refresh_ms ? cfg->refresh_ms : 500;
    c->hello_ms = cfg->hello_ms ? cfg->hello_ms : HELLO_DEADLINE_MS;
    c->budget = cfg->snapshot_budget ? cfg->snapshot_budget : SNAPSHOT_BUDGET;
    /* What the end removes: this socket, not whatever took the path since. */
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    snap_init(&c->snap);
    frame_buf_init(&c->enc);
    frame_buf_init(&c->out);
    uv_poll_init(loop, &c->listen, fd);
    c->listen.data = c;
    uv_poll_start(&c->listen, UV_READABLE, on_listen);
    uv_timer_init(loop, &c->tick);
    c->tick.data = c;
    uv_timer_init(loop, &c->pause);
    c->pause.data = c;
    uv_timer_init(loop, &c->hello);
    c->hello.data = c;
    c->handles = 4;
    return c;
}

size_t control_viewers(const control_t *c)
{
    return c->n_ready;
}

static void on_viewer_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    viewer_t *v = req->data;
    /* Written out: the viewer closes its end when it has read it, and its
     * EOF (on_viewer_end) drops it. */
    (void)v;
}

void control_close(control_t *c, const snap_t *final)
{
    if (c->closing)
        return;
    c->closing = true;
    /* Only if the path still is this socket: someone may have removed it
     * and made something else there (another test's socket, a file). */
    struct stat st;
    if (lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == c->dev &&
        st.st_ino == c->ino)
        unlink(c->path);
    uv_timer_stop(&c->tick);
    uv_timer_stop(&c->hello);
    uv_poll_stop(&c->listen);
    uv_timer_stop(&c->pause);
    c->enc.len = 0;
    if (final && c->n_ready) {
        const check_result_t *res = NULL;
        size_t n = c->steer.checks ? c->steer.checks(c->steer.ctx, final, &res) : 0;
        encode(c, final, res, n);
    }
    proto_put_bye(&c->enc, "the test has ended");
    viewer_t *next;
    for (viewer_t *v = c->viewers; v; v = next) {
        next = v->next;
        if (!v->ready) {
            drop(v);
            continue;
        }
        /* Whatever it was behind on, the end is the one thing it must read. */
        proto_put_log(&c->out, c->log, &v->log_seq);
        send_own(v);
        frame_buf_t view = c->enc;
        frame_conn_send(&v->conn, &view);
        v->shutdown.data = v;
        if (uv_shutdown(&v->shutdown, (uv_stream_t *)&v->conn.pipe, on_viewer_shutdown) != 0)
            drop(v);
    }
    uv_close((uv_handle_t *)&c->listen, on_handle_closed);
    uv_close((uv_handle_t *)&c->tick, on_handle_closed);
    uv_close((uv_handle_t *)&c->hello, on_handle_closed);
    if (c->viewers) {
        /* The pause timer is the grace: what is left then is closed, and
         * the timer with the last viewer (drop). */
        uv_timer_start(&c->pause, on_pause_over, CLOSE_GRACE_MS, 0);
    } else if (!c->pause_closed) {
        c->pause_closed = true;
        uv_close((uv_handle_t *)&c->pause, on_handle_closed);
    }
}

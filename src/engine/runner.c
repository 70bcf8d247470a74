/* runner: see include/engine/runner.h.
 *
 * The hot path is on_transfer_done -> stats_record -> wait -> user_run: no
 * allocation (easy handles come from per-task pools whose options were set
 * once when the handle was made; a request only attaches the user's share),
 * no scan of users or endpoints, no system call of our own (time comes from
 * the loop's cached clock and from libcurl's own measurement). */
#include "engine/runner.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "http/curluv.h"
#include "http/h1.h"
#include "util/duration.h"
#include "engine/picker.h"
#include "util/rng.h"
#include "http/srcaddr.h"
#include "util/url.h"
#include "engine/wait.h"
#include "util/xalloc.h"

typedef struct prep prep_t;
typedef struct user user_t;

/* What is watched of a response body as it streams past: its size, the
 * expect-body text (which may straddle two chunks), and with a failure log
 * its first bytes. */
typedef struct {
    uint64_t bytes;
    bool matched;                /* expect-body found */
    size_t tail_len;             /* bytes of the body kept for a match across chunks */
    char *tail;                  /* needle_len - 1 bytes */
    char *scratch;               /* 2 * needle_len bytes */
    char *capture;               /* with a failure log: the body's start */
    size_t capture_len;
} body_t;

/* One libcurl request in flight (or ready in its task's pool). */
typedef struct req {
    CURL *easy;
    prep_t *prep;
    user_t *user;
    struct req *next_free;
    body_t body;
    char *sent;                  /* with a failure log: the headers sent */
    size_t sent_len;
} req_t;

/* A task's request, prepared once. */
struct prep {
    runner_t *run;
    const plan_task_t *task;
    size_t entry;                /* statistics row */
    char *url;
    struct curl_slist *headers;  /* libcurl */
    h1_request_t h1;             /* hopper's client */
    uint64_t timeout_us;
    size_t needle_len;
    req_t *pool;                 /* easy handles ready for this task */
};

struct user {
    uv_timer_t timer;            /* think time; timer.data = the user */
    runner_t *run;
    CURLSH *share;               /* libcurl: the user's connection and cookie jar */
    h1_conn_t conn;              /* hopper's client: the same, in one struct */
    req_t *req;                  /* libcurl: in flight */
    prep_t *prep;                /* the task in flight, or NULL while waiting */
    body_t body;                 /* hopper's client: the body in flight */
    user_t *prev, *next;         /* in the runner's in-flight list */
    unsigned src;                /* its --source-addrs address */
    int open_handles;            /* closing: handles not yet closed */
    bool stopping;               /* close once the request in flight finishes */
};

struct runner {
    runner_config_t cfg;
    uv_loop_t *loop;
    curluv_t cu;
    prep_t *preps;
    size_t n_preps;
    picker_t picker;
    stats_t *stats;
    rng_t rng;
    uint64_t epoch_ms;
    double epoch_unix;

    user_t **users;              /* running users, oldest first */
    size_t n_users, cap_users;
    size_t open_users;           /* allocated and not yet closed */
    bool stopping, closing, idle_sent;
    uv_timer_t stop_timer, idle_timer;

    srcaddr_list_t *src;         /* --source-addrs, or NULL */
    char (*src_curl)[56];        /* "host!ADDR" for CURLOPT_INTERFACE */
    unsigned next_src;
    bool native;                 /* hopper's HTTP/1.1 client, not libcurl */
    h1_origin_t origin;
    size_t max_needle;           /* the longest expect-body */

    user_t in_flight;            /* list head: users with a request out */
    uint64_t n_in_flight;
    uint64_t cancelled;
    uint64_t spawn_failures;
    uint64_t out_of_fds, out_of_ports;
};

static uint64_t now_ms(const runner_t *run)
{
    uint64_t now = uv_now(run->loop);
    return now > run->epoch_ms ? now - run->epoch_ms : 0;
}

/* ---- requests ---------------------------------------------------------- */

static void body_match(body_t *r, const prep_t *p, const char *data, size_t n)
{
    const char *needle = p->task->expect_body;
    size_t L = p->needle_len;
    if (memmem(data, n, needle, L)) {
        r->matched = true;
        return;
    }
    if (L < 2)
        return;
    /* A match across the chunk boundary: the kept tail plus the start of this
     * chunk. */
    if (r->tail_len) {
        size_t k = n < L - 1 ? n : L - 1;
        memcpy(r->scratch, r->tail, r->tail_len);
        memcpy(r->scratch + r->tail_len, data, k);
        if (memmem(r->scratch, r->tail_len + k, needle, L)) {
            r->matched = true;
            return;
        }
    }
    /* Keep the last L-1 bytes of everything seen so far. */
    if (n >= L - 1) {
        memcpy(r->tail, data + n - (L - 1), L - 1);
        r->tail_len = L - 1;
    } else {
        size_t keep = r->tail_len + n > L - 1 ? L - 1 - n : r->tail_len;
        memmove(r->tail, r->tail + r->tail_len - keep, keep);
        memcpy(r->tail + keep, data, n);
        r->tail_len = keep + n;
    }
}

/* Bodies are counted, searched when the task expects something, and dropped:
 * hopper never holds a response in memory. */
static void body_feed(body_t *b, const prep_t *p, const char *data, size_t n)
{
    b->bytes += n;
    if (p->needle_len && !b->matched)
        body_match(b, p, data, n);
    if (b->capture && b->capture_len < ENGINE_CAPTURE_BODY) {
        size_t k = ENGINE_CAPTURE_BODY - b->capture_len;
        if (k > n)
            k = n;
        memcpy(b->capture + b->capture_len, data, k);
        b->capture_len += k;
    }
}

static void body_alloc(body_t *b, size_t needle, bool capture)
{
    if (needle) {
        b->tail = xmalloc(needle);
        b->scratch = xmalloc(2 * needle);
    }
    if (capture)
        b->capture = xmalloc(ENGINE_CAPTURE_BODY);
}

static void body_reset(body_t *b)
{
    b->bytes = 0;
    b->matched = false;
    b->tail_len = 0;
    b->capture_len = 0;
}

static void body_free(body_t *b)
{
    free(b->tail);
    free(b->scratch);
    free(b->capture);
}

static size_t on_curl_body(char *data, size_t size, size_t nmemb, void *ud)
{
    req_t *r = ud;
    body_feed(&r->body, r->prep, data, size * nmemb);
    return size * nmemb;
}

#define SENT_MAX 8192

/* With a failure log, the header block each request sent (the last one, after
 * redirects), as libcurl reports it. */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    req_t *r = ud;
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    size_t k = size < SENT_MAX ? size : SENT_MAX;
    memcpy(r->sent, data, k);
    r->sent_len = k;
    return 0;
}

static req_t *req_new(prep_t *p)
{
    const plan_task_t *t = p->task;
    req_t *r = xcalloc(1, sizeof *r);
    r->prep = p;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return NULL;
    }
    body_alloc(&r->body, p->needle_len, p->run->cfg.on_failure != NULL);
    CURL *e = r->easy;
    if (p->run->cfg.on_failure) {
        r->sent = xmalloc(SENT_MAX);
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, r);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_URL, p->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    /* No signals: libcurl would otherwise install and remove a SIGPIPE
     * handler around every request (three rt_sigaction calls each). */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_curl_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, HOPPER_USER_AGENT);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)((p->timeout_us + 999) / 1000));
    /* Redirects are followed as Locust's HttpUser does, counted under the
     * task's name with the whole chain's time. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    /* No proxy from the environment (http_proxy and friends), as Locust's
     * HttpUser does: load must go where the hopperfile says, not silently
     * through a proxy. */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    if (p->run->cfg.insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    /* The cookie engine on; the jar itself is the user's share. */
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    if (strcmp(t->method, "GET") == 0 && !t->body) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(t->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(t->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t->method);
        if (t->body || strcmp(t->method, "POST") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->body_len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body ? t->body : "");
        }
    }
        return r;
}

static void req_free(req_t *r)
{
    curl_easy_cleanup(r->easy);
    body_free(&r->body);
    free(r->sent);
    free(r);
}

static req_t *req_acquire(prep_t *p)
{
    req_t *r = p->pool;
    if (r) {
        p->pool = r->next_free;
        return r;
    }
    return req_new(p);
}

static void req_release(req_t *r)
{
    /* Detach the user's share so a stopped user's share can be freed while
     * this handle waits in the pool. */
    curl_easy_setopt(r->easy, CURLOPT_SHARE, NULL);
    r->user = NULL;
    body_reset(&r->body);
    r->sent_len = 0;
    r->next_free = r->prep->pool;
    r->prep->pool = r;
}

static void inflight_link(runner_t *run, user_t *u)
{
    u->next = run->in_flight.next;
    u->prev = &run->in_flight;
    run->in_flight.next->prev = u;
    run->in_flight.next = u;
    run->n_in_flight++;
}

static void inflight_unlink(runner_t *run, user_t *u)
{
    u->prev->next = u->next;
    u->next->prev = u->prev;
    u->prev = u->next = NULL;
    run->n_in_flight--;
}

/* Whether a finished response passes: the task's statuses, then its
 * expect-body. The failure text, or NULL. Shared by both clients. */
static const char *verdict(const prep_t *p, long status, bool matched, char *buf, size_t len)
{
    const plan_task_t *t = p->task;
    if (!plan_status_ok(t, status)) {
        snprintf(buf, len, "HTTP %ld", status);
        return buf;
    }
    if (p->needle_len && !matched) {
        snprintf(buf, len, "body lacks \"%.60s%s\"", t->expect_body, p->needle_len > 60 ? "..." : "");
        return buf;
    }
    return NULL;
}

/* The failure text of a finished request, or NULL if it passed. */
static const char *failure_text(const req_t *r, CURLcode rc, char *buf, size_t len)
{
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        return verdict(r->prep, status, r->body.matched, buf, len);
    }
    long os_errno = 0;
    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &os_errno);
    char dbuf[32];
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(buf, len, "timeout after %s", duration_format(r->prep->timeout_us, dbuf, sizeof dbuf));
        break;
    case CURLE_COULDNT_CONNECT:
        if (os_errno == ECONNREFUSED)
            snprintf(buf, len, "connection refused");
        else if (os_errno)
            snprintf(buf, len, "cannot connect: %s", strerror((int)os_errno));
        else
            snprintf(buf, len, "cannot connect");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(buf, len, "cannot resolve host");
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        /* The URL was checked before the run: this comes from a response
         * that is not HTTP (a garbled status line). */
        snprintf(buf, len, "malformed response");
        break;
    case CURLE_RECV_ERROR:
        if (os_errno == 0) {
            /* No system error: libcurl could not read the response itself
             * (a bad chunk size, say). */
            snprintf(buf, len, "malformed response");
            break;
        }
        /* fall through */
    case CURLE_SEND_ERROR:
        if (os_errno == ECONNRESET)
            snprintf(buf, len, "connection reset");
        else if (os_errno == EPIPE)
            snprintf(buf, len, "connection closed while sending");
        else
            snprintf(buf, len, "%s error%s%s", rc == CURLE_SEND_ERROR ? "send" : "receive",
                     os_errno ? ": " : "", os_errno ? strerror((int)os_errno) : "");
        break;
    case CURLE_GOT_NOTHING:
        snprintf(buf, len, "connection closed without a response");
        break;
    case CURLE_PARTIAL_FILE:
        snprintf(buf, len, "connection closed mid-body");
        break;
    case CURLE_WEIRD_SERVER_REPLY:
        snprintf(buf, len, "malformed response");
        break;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(buf, len, "too many redirects");
        break;
    case CURLE_PEER_FAILED_VERIFICATION:
        snprintf(buf, len, "TLS certificate not trusted (--insecure skips the check)");
        break;
    case CURLE_SSL_CONNECT_ERROR:
        snprintf(buf, len, "TLS handshake failed");
        break;
    default:
        snprintf(buf, len, "%s", curl_easy_strerror(rc));
        break;
    }
    return buf;
}

static void report_failure(runner_t *run, const req_t *r, const char *err)
{
    engine_failure_t f = {
        .time_unix = run->epoch_unix + (double)now_ms(run) / 1000.0,
        .method = r->prep->task->method,
        .name = r->prep->task->name,
        .url = r->prep->url,
        .error = err,
        .request_headers = r->sent,
        .request_headers_len = r->sent_len,
        .body = r->body.capture,
        .body_len = r->body.capture_len,
    };
    char *url = NULL;
    if (curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
        f.url = url;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &f.status);
    run->cfg.on_failure(&f, run->cfg.failure_arg);
}

/* ---- users ------------------------------------------------------------- */

static void user_run(user_t *u);
static void maybe_idle(runner_t *run);

static void user_free(user_t *u)
{
    runner_t *run = u->run;
    if (u->share)
        curl_share_cleanup(u->share);
    body_free(&u->body);
    free(u);
    run->open_users--;
}

/* The user's handles (its timer, and its connection with hopper's client)
 * close asynchronously; the last close frees it. */
static void on_user_timer_closed(uv_handle_t *h)
{
    user_t *u = h->data;
    if (--u->open_handles == 0)
        user_free(u);
}

static void on_user_conn_closed(h1_conn_t *c, void *arg)
{
    (void)c;
    user_t *u = arg;
    if (--u->open_handles == 0)
        user_free(u);
}

static void user_close(user_t *u)
{
    uv_timer_stop(&u->timer);
    u->open_handles = u->run->native ? 2 : 1;
    uv_close((uv_handle_t *)&u->timer, on_user_timer_closed);
    if (u->run->native)
        h1_conn_close(&u->conn, on_user_conn_closed);
}

static void on_user_timer(uv_timer_t *t)
{
    user_run(t->data);
}

/* Failures that are hopper's own lack of resources, not the server's doing:
 * counted apart so the engine can say so (both clients word them with
 * strerror, in the C locale). */
static void note_resource_error(runner_t *run, const char *err)
{
    if (!err)
        return;
    if (strstr(err, "Too many open files"))
        run->out_of_fds++;
    else if (strstr(err, "Cannot assign requested address"))
        run->out_of_ports++;
}

/* A request ended (either client): record it, then think or stop. */
static void user_finished(user_t *u, uint64_t latency_us)
{
    runner_t *run = u->run;
    inflight_unlink(run, u);
    u->prep = NULL;
    if (u->stopping || run->stopping) {
        user_close(u);
        maybe_idle(run);
        return;
    }
    uint64_t wait_us = wait_next(&run->cfg.plan->wait, &run->rng, 0, latency_us);
    if (wait_us == 0)
        user_run(u);
    else
        uv_timer_start(&u->timer, on_user_timer, (wait_us + 500) / 1000, 0);
}

static void on_conn_body(h1_conn_t *c, const char *data, size_t len, void *arg)
{
    (void)c;
    user_t *u = arg;
    body_feed(&u->body, u->prep, data, len);
}

static void on_conn_done(h1_conn_t *c, const h1_result_t *res, void *arg)
{
    (void)c;
    user_t *u = arg;
    runner_t *run = u->run;
    const prep_t *p = u->prep;
    char ebuf[SNAP_ERROR_TEXT];
    const char *err = res->error ? res->error : verdict(p, res->status, u->body.matched, ebuf, sizeof ebuf);
    stats_record(run->stats, p->entry, now_ms(run), res->latency_us, res->body_bytes, err);
    note_resource_error(run, err);
    if (err && run->cfg.on_failure) {
        char url[2048];
        snprintf(url, sizeof url, "http://%s%s", run->origin.origin_host,
                 res->url_path ? res->url_path : p->h1.path);
        engine_failure_t f = {
            .time_unix = run->epoch_unix + (double)now_ms(run) / 1000.0,
            .method = p->task->method,
            .name = p->task->name,
            .url = url,
            .status = res->status,
            .error = err,
            /* The headers as prepared; the Cookie header, if any, is added
             * per user when sending and is not repeated here. */
            .request_headers = p->h1.head,
            .request_headers_len = p->h1.head_len,
            .body = u->body.capture,
            .body_len = u->body.capture_len,
        };
        run->cfg.on_failure(&f, run->cfg.failure_arg);
    }
    user_finished(u, res->latency_us);
}

static void user_run(user_t *u)
{
    runner_t *run = u->run;
    prep_t *p = &run->preps[picker_pick(&run->picker, &run->rng)];
    u->prep = p;
    inflight_link(run, u);
    if (run->native) {
        body_reset(&u->body);
        h1_send(&u->conn, &p->h1);
        return;
    }
    req_t *r = req_acquire(p);
    if (!r) {
        /* libcurl could not make a handle (out of memory inside curl): count
         * it against the task and let the user think before trying again. */
        stats_record(run->stats, p->entry, now_ms(run), 0, 0, "cannot create request");
        inflight_unlink(run, u);
        u->prep = NULL;
        uv_timer_start(&u->timer, on_user_timer, 1000, 0);
        return;
    }
    curl_easy_setopt(r->easy, CURLOPT_SHARE, u->share);
    if (run->src)
        curl_easy_setopt(r->easy, CURLOPT_INTERFACE, run->src_curl[u->src]);
    r->user = u;
    u->req = r;
    CURLMcode mc = curluv_add(&run->cu, r->easy);
    if (mc != CURLM_OK) {
        u->req = NULL;
        req_release(r);
        stats_record(run->stats, p->entry, now_ms(run), 0, 0, curl_multi_strerror(mc));
        inflight_unlink(run, u);
        u->prep = NULL;
        uv_timer_start(&u->timer, on_user_timer, 1000, 0);
    }
}

static void user_spawn(runner_t *run)
{
    user_t *u = xcalloc(1, sizeof *u);
    u->run = run;
    if (run->native) {
        h1_conn_init(&u->conn, &run->origin, on_conn_body, on_conn_done, u);
        body_alloc(&u->body, run->max_needle, run->cfg.on_failure != NULL);
    } else {
        u->share = curl_share_init();
        if (!u->share ||
            curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
            curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK) {
            if (u->share)
                curl_share_cleanup(u->share);
            free(u);
            run->spawn_failures++;
            return;
        }
    }
    uv_timer_init(run->loop, &u->timer);
    u->timer.data = u;
    if (run->src)
        u->src = run->next_src++ % (unsigned)run->src->n;
    run->open_users++;
    run->users = snap_reserve(run->users, &run->cap_users, run->n_users + 1, sizeof *run->users);
    run->users[run->n_users++] = u;
    user_run(u);     /* a new user runs its first task at once, as Locust's do */
}

/* The newest user stops: at once if it is waiting, after its request if not. */
static void user_retire_newest(runner_t *run)
{
    user_t *u = run->users[--run->n_users];
    if (u->prep)
        u->stopping = true;
    else
        user_close(u);
}

static void on_transfer_done(curluv_t *cu, CURL *easy, CURLcode rc, void *arg)
{
    (void)cu;
    runner_t *run = arg;
    req_t *r = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
    user_t *u = r->user;
    const prep_t *p = r->prep;

    curl_off_t total_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
    char ebuf[SNAP_ERROR_TEXT];
    const char *err = failure_text(r, rc, ebuf, sizeof ebuf);
    stats_record(run->stats, p->entry, now_ms(run), (uint64_t)total_us, r->body.bytes, err);
    note_resource_error(run, err);
    if (err && run->cfg.on_failure)
        report_failure(run, r, err);
    req_release(r);
    u->req = NULL;
    user_finished(u, (uint64_t)total_us);
}

/* ---- the interface ------------------------------------------------------ */

static void cancel_in_flight(runner_t *run)
{
    while (run->in_flight.next != &run->in_flight) {
        user_t *u = run->in_flight.next;
        if (u->req) {
            curluv_cancel(&run->cu, u->req->easy);
            req_release(u->req);
            u->req = NULL;
        } else if (run->native) {
            h1_cancel(&u->conn);
        }
        inflight_unlink(run, u);
        u->prep = NULL;
        run->cancelled++;
        user_close(u);
    }
}

static void on_idle_timer(uv_timer_t *t)
{
    runner_t *run = t->data;
    if (run->cfg.idle)
        run->cfg.idle(run, run->cfg.arg);
}

static void maybe_idle(runner_t *run)
{
    if (!run->stopping || run->n_in_flight || run->idle_sent)
        return;
    run->idle_sent = true;
    uv_timer_stop(&run->stop_timer);
    /* From its own timer, never from inside libcurl's completion path. */
    uv_timer_start(&run->idle_timer, on_idle_timer, 0, 0);
}

static void on_stop_timeout(uv_timer_t *t)
{
    runner_t *run = t->data;
    cancel_in_flight(run);
    maybe_idle(run);
}

static int prepare(runner_t *run, char *err, size_t errlen)
{
    const plan_t *plan = run->cfg.plan;
    run->n_preps = plan->n_tasks;
    run->preps = xcalloc(plan->n_tasks, sizeof *run->preps);
    unsigned *weights = xcalloc(plan->n_tasks, sizeof *weights);
    int rc = 0;
    for (size_t i = 0; i < plan->n_tasks && rc == 0; i++) {
        const plan_task_t *t = &plan->tasks[i];
        prep_t *p = &run->preps[i];
        p->run = run;
        p->task = t;
        p->entry = t->entry;
        weights[i] = t->weight;
        p->url = url_resolve(run->cfg.host, t->target);
        p->timeout_us = t->timeout_us ? t->timeout_us : plan->timeout_us;
        p->needle_len = t->expect_body ? strlen(t->expect_body) : 0;
        if (p->needle_len > run->max_needle)
            run->max_needle = p->needle_len;
        if (run->native) {
            /* The request's bytes, once: the same absolute, percent-encoded
             * URL libcurl would be given (a base path prefix included). */
            char why[256];
            rc = h1_request_prepare(&p->h1, &run->origin, t->method, p->url, plan->headers,
                                    plan->n_headers, t->headers, t->n_headers, t->body, t->body_len,
                                    p->timeout_us, HOPPER_USER_AGENT, why, sizeof why);
            if (rc != 0) {
                snprintf(err, errlen, "task '%s': %s", t->id, why);
                break;
            }
            continue;
        }
        for (size_t h = 0; h < plan->n_headers; h++)
            p->headers = curl_slist_append(p->headers, plan->headers[h]);
        for (size_t h = 0; h < t->n_headers; h++)
            p->headers = curl_slist_append(p->headers, t->headers[h]);
        /* No "Expect: 100-continue" round trip for large bodies. */
        if (t->body)
            p->headers = curl_slist_append(p->headers, "Expect:");
        /* Make the first handle now, so that a bad option shows before load. */
        req_t *r = req_new(p);
        if (!r) {
            snprintf(err, errlen, "libcurl could not create a request for task '%s'", t->id);
            rc = -1;
            break;
        }
        r->next_free = p->pool;
        p->pool = r;
    }
    if (rc == 0 && picker_init(&run->picker, weights, plan->n_tasks) != 0) {
        snprintf(err, errlen, "every task has weight 0: nothing to run");
        rc = -1;
    }
    free(weights);
    return rc;
}

runner_t *runner_new(const runner_config_t *cfg, char *err, size_t errlen)
{
    runner_t *run = xcalloc(1, sizeof *run);
    run->cfg = *cfg;
    run->loop = cfg->loop;
    run->stats = cfg->stats;
    run->in_flight.next = run->in_flight.prev = &run->in_flight;
    rng_seed(&run->rng, cfg->seed);
    run->epoch_ms = uv_now(run->loop);
    if (curluv_init(&run->cu, run->loop, on_transfer_done, run) != 0) {
        snprintf(err, errlen, "libcurl could not create a multi handle");
        free(run);
        return NULL;
    }
    uv_timer_init(run->loop, &run->stop_timer);
    uv_timer_init(run->loop, &run->idle_timer);
    run->stop_timer.data = run->idle_timer.data = run;
    int rc = 0;
    run->native = cfg->client == CLIENT_H1;
    if (run->native)
        rc = h1_origin_init(&run->origin, run->loop, cfg->host, cfg->source_addrs, err, errlen);
    if (rc == 0 && cfg->source_addrs && !run->native) {
        run->src = xmalloc(sizeof *run->src);
        rc = srcaddr_parse(cfg->source_addrs, run->src, err, errlen);
        if (rc == 0) {
            run->src_curl = xcalloc(run->src->n, sizeof *run->src_curl);
            for (size_t i = 0; i < run->src->n; i++)
                snprintf(run->src_curl[i], sizeof run->src_curl[i], "host!%s", run->src->text[i]);
        }
    }
    if (rc != 0 || prepare(run, err, errlen) != 0) {
        runner_close(run);
        uv_run(run->loop, UV_RUN_DEFAULT);
        runner_free(run);
        return NULL;
    }
    return run;
}

void runner_set_epoch(runner_t *run, uint64_t epoch_ms, double epoch_unix)
{
    run->epoch_ms = epoch_ms;
    run->epoch_unix = epoch_unix;
}

void runner_set_users(runner_t *run, uint64_t n)
{
    if (run->stopping)
        return;
    while (run->n_users < n) {
        size_t before = run->n_users;
        user_spawn(run);
        if (run->n_users == before)
            break;      /* could not start one: counted in spawn_failures */
    }
    while (run->n_users > n)
        user_retire_newest(run);
}

void runner_stop(runner_t *run)
{
    if (run->closing)
        return;
    if (run->stopping) {
        /* Asked twice: stop waiting for requests in flight. */
        cancel_in_flight(run);
        maybe_idle(run);
        return;
    }
    run->stopping = true;
    while (run->n_users)
        user_retire_newest(run);
    if (!run->cfg.stop_timeout_set)
        cancel_in_flight(run);
    else if (run->n_in_flight)
        uv_timer_start(&run->stop_timer, on_stop_timeout, (run->cfg.stop_timeout_us + 999) / 1000, 0);
    maybe_idle(run);
}

void runner_status(const runner_t *run, runner_status_t *out)
{
    out->users = run->n_users;
    out->in_flight = run->n_in_flight;
    out->cancelled = run->cancelled;
    out->spawn_failures = run->spawn_failures;
    out->out_of_fds = run->out_of_fds;
    out->out_of_ports = run->out_of_ports;
}

void runner_close(runner_t *run)
{
    if (run->closing)
        return;
    run->closing = true;
    run->stopping = true;
    while (run->n_users)
        user_retire_newest(run);
    cancel_in_flight(run);
    uv_timer_stop(&run->stop_timer);
    uv_timer_stop(&run->idle_timer);
    uv_close((uv_handle_t *)&run->stop_timer, NULL);
    uv_close((uv_handle_t *)&run->idle_timer, NULL);
    curluv_close(&run->cu);
}

void runner_free(runner_t *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->n_preps; i++) {
        prep_t *p = &run->preps[i];
        while (p->pool) {
            req_t *r = p->pool;
            p->pool = r->next_free;
            req_free(r);
        }
        free(p->url);
        curl_slist_free_all(p->headers);
        if (run->native)
            h1_request_free(&p->h1);
    }
    if (run->native)
        h1_origin_free(&run->origin);
    curluv_free(&run->cu);
    picker_free(&run->picker);
    free(run->src);
    free(run->src_curl);
    free(run->preps);
    free(run->users);
    free(run);
}

/* engine: see include/engine.h.
 *
 * The hot path is on_transfer_done -> stats_record -> user_next -> user_run:
 * no allocation (easy handles come from per-task pools whose options were set
 * once when the handle was made; a request only attaches the user's share),
 * no scan of users or endpoints, no system call of our own (time comes from
 * the loop's cached clock and from libcurl's own measurement). */
#include "engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curluv.h"
#include "duration.h"
#include "picker.h"
#include "ramp.h"
#include "rng.h"
#include "stats.h"
#include "url.h"
#include "wait.h"
#include "xalloc.h"

#define HOPPER_USER_AGENT "hopper/0.1"

typedef struct prep prep_t;
typedef struct user user_t;

/* One request in flight (or ready in its task's pool). */
typedef struct req {
    CURL *easy;
    prep_t *prep;
    user_t *user;
    struct req *next_free;
    struct req *prev, *next;     /* in the engine's in-flight list */
    uint64_t bytes;
    bool matched;                /* expect-body found */
    size_t tail_len;             /* bytes of the body kept for a match across chunks */
    char *tail;                  /* needle_len - 1 bytes */
    char *scratch;               /* 2 * needle_len bytes */
    char *capture;               /* with a failure log: the body's start */
    size_t capture_len;
    char *sent;                  /* with a failure log: the headers sent */
    size_t sent_len;
} req_t;

/* A task's request, prepared once. */
struct prep {
    engine_t *eng;
    const plan_task_t *task;
    size_t entry;                /* statistics row */
    char *url;
    struct curl_slist *headers;
    uint64_t timeout_us;
    size_t needle_len;
    req_t *pool;                 /* easy handles ready for this task */
    size_t made;                 /* handles made, for the pool's cleanup */
};

struct user {
    uv_timer_t timer;            /* timer.data = the user */
    engine_t *eng;
    CURLSH *share;               /* the user's connection and cookie jar */
    req_t *req;                  /* in flight, or NULL while waiting */
    bool stopping;               /* close once req finishes */
};

struct engine {
    engine_config_t cfg;
    uv_loop_t *loop;
    curluv_t cu;
    prep_t *preps;
    size_t n_preps;
    picker_t picker;
    stats_t *stats;
    const char **entry_methods, **entry_names;
    size_t n_entries;
    rng_t rng;

    user_t **users;              /* running users, oldest first */
    size_t n_users, cap_users;
    size_t peak_users;
    size_t open_users;           /* allocated and not yet closed */
    uint64_t target;
    double rate;
    bool paused;
    ramp_t ramp;

    uv_timer_t ramp_timer, tick_timer, run_timer, stop_timer, done_timer;
    uint64_t start_ms;           /* uv_now at start */
    uint64_t start_hr_us;        /* uv_hrtime at start, for the ramp's precision */
    uint64_t end_ms;             /* run-relative time at DONE */
    uint64_t ticks;
    double start_unix;
    run_state_t state;
    bool started, closing;

    req_t in_flight;             /* list head */
    uint64_t n_in_flight;
    uint64_t cancelled;
    uint64_t spawn_failures;
};

static uint64_t now_ms(const engine_t *eng)
{
    if (eng->state == RUN_DONE)
        return eng->end_ms;
    return eng->started ? uv_now(eng->loop) - eng->start_ms : 0;
}

/* ---- requests ---------------------------------------------------------- */

static void body_match(req_t *r, const char *data, size_t n)
{
    const char *needle = r->prep->task->expect_body;
    size_t L = r->prep->needle_len;
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
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    req_t *r = ud;
    size_t n = size * nmemb;
    r->bytes += n;
    if (r->prep->needle_len && !r->matched)
        body_match(r, data, n);
    if (r->capture && r->capture_len < ENGINE_CAPTURE_BODY) {
        size_t k = ENGINE_CAPTURE_BODY - r->capture_len;
        if (k > n)
            k = n;
        memcpy(r->capture + r->capture_len, data, k);
        r->capture_len += k;
    }
    return n;
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
    if (p->needle_len) {
        r->tail = xmalloc(p->needle_len);
        r->scratch = xmalloc(2 * p->needle_len);
    }
    CURL *e = r->easy;
    if (p->eng->cfg.on_failure) {
        r->capture = xmalloc(ENGINE_CAPTURE_BODY);
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
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
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
    p->made++;
    return r;
}

static void req_free(req_t *r)
{
    curl_easy_cleanup(r->easy);
    free(r->tail);
    free(r->scratch);
    free(r->capture);
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
    r->bytes = 0;
    r->matched = false;
    r->tail_len = 0;
    r->capture_len = 0;
    r->sent_len = 0;
    r->next_free = r->prep->pool;
    r->prep->pool = r;
}

static void inflight_link(engine_t *eng, req_t *r)
{
    r->next = eng->in_flight.next;
    r->prev = &eng->in_flight;
    eng->in_flight.next->prev = r;
    eng->in_flight.next = r;
    eng->n_in_flight++;
}

static void inflight_unlink(engine_t *eng, req_t *r)
{
    r->prev->next = r->next;
    r->next->prev = r->prev;
    r->prev = r->next = NULL;
    eng->n_in_flight--;
}

/* The failure text of a finished request, or NULL if it passed. */
static const char *failure_text(const req_t *r, CURLcode rc, char *buf, size_t len)
{
    const plan_task_t *t = r->prep->task;
    if (rc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        if (!plan_status_ok(t, status)) {
            snprintf(buf, len, "HTTP %ld", status);
            return buf;
        }
        if (r->prep->needle_len && !r->matched) {
            snprintf(buf, len, "body lacks \"%.60s%s\"", t->expect_body,
                     r->prep->needle_len > 60 ? "..." : "");
            return buf;
        }
        return NULL;
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
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
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
    default:
        snprintf(buf, len, "%s", curl_easy_strerror(rc));
        break;
    }
    return buf;
}

static void report_failure(engine_t *eng, const req_t *r, const char *err)
{
    engine_failure_t f = {
        .time_unix = eng->start_unix + (double)now_ms(eng) / 1000.0,
        .method = r->prep->task->method,
        .name = r->prep->task->name,
        .url = r->prep->url,
        .error = err,
        .request_headers = r->sent,
        .request_headers_len = r->sent_len,
        .body = r->capture,
        .body_len = r->capture_len,
    };
    char *url = NULL;
    if (curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK && url)
        f.url = url;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &f.status);
    eng->cfg.on_failure(&f, eng->cfg.failure_arg);
}

/* ---- users ------------------------------------------------------------- */

static void user_run(user_t *u);
static void maybe_finish(engine_t *eng);
static void update_state(engine_t *eng);

static void on_user_closed(uv_handle_t *h)
{
    user_t *u = h->data;
    engine_t *eng = u->eng;
    curl_share_cleanup(u->share);
    free(u);
    eng->open_users--;
}

static void user_close(user_t *u)
{
    uv_timer_stop(&u->timer);
    uv_close((uv_handle_t *)&u->timer, on_user_closed);
}

static void on_user_timer(uv_timer_t *t)
{
    user_run(t->data);
}

static void user_run(user_t *u)
{
    engine_t *eng = u->eng;
    prep_t *p = &eng->preps[picker_pick(&eng->picker, &eng->rng)];
    req_t *r = req_acquire(p);
    if (!r) {
        /* libcurl could not make a handle (out of memory inside curl): count
         * it against the task and let the user think before trying again. */
        stats_record(eng->stats, p->entry, now_ms(eng), 0, 0, "cannot create request");
        uv_timer_start(&u->timer, on_user_timer, 1000, 0);
        return;
    }
    curl_easy_setopt(r->easy, CURLOPT_SHARE, u->share);
    r->user = u;
    u->req = r;
    inflight_link(eng, r);
    CURLMcode mc = curluv_add(&eng->cu, r->easy);
    if (mc != CURLM_OK) {
        inflight_unlink(eng, r);
        u->req = NULL;
        req_release(r);
        stats_record(eng->stats, p->entry, now_ms(eng), 0, 0, curl_multi_strerror(mc));
        uv_timer_start(&u->timer, on_user_timer, 1000, 0);
    }
}

static void user_spawn(engine_t *eng)
{
    user_t *u = xcalloc(1, sizeof *u);
    u->eng = eng;
    u->share = curl_share_init();
    if (!u->share ||
        curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        curl_share_setopt(u->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) != CURLSHE_OK) {
        if (u->share)
            curl_share_cleanup(u->share);
        free(u);
        eng->spawn_failures++;
        return;
    }
    uv_timer_init(eng->loop, &u->timer);
    u->timer.data = u;
    eng->open_users++;
    eng->users = snap_reserve(eng->users, &eng->cap_users, eng->n_users + 1, sizeof *eng->users);
    eng->users[eng->n_users++] = u;
    if (eng->n_users > eng->peak_users)
        eng->peak_users = eng->n_users;
    user_run(u);     /* a new user runs its first task at once, as Locust's do */
}

/* The newest user stops: at once if it is waiting, after its request if not. */
static void user_retire_newest(engine_t *eng)
{
    user_t *u = eng->users[--eng->n_users];
    if (u->req)
        u->stopping = true;
    else
        user_close(u);
}

static void on_transfer_done(curluv_t *cu, CURL *easy, CURLcode rc, void *arg)
{
    (void)cu;
    engine_t *eng = arg;
    req_t *r = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
    user_t *u = r->user;
    const prep_t *p = r->prep;

    curl_off_t total_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
    char ebuf[SNAP_ERROR_TEXT];
    const char *err = failure_text(r, rc, ebuf, sizeof ebuf);
    uint64_t t = now_ms(eng);
    stats_record(eng->stats, p->entry, t, (uint64_t)total_us, r->bytes, err);
    if (err && eng->cfg.on_failure)
        report_failure(eng, r, err);

    inflight_unlink(eng, r);
    req_release(r);
    u->req = NULL;

    if (u->stopping || eng->state >= RUN_STOPPING) {
        user_close(u);
        maybe_finish(eng);
        return;
    }
    uint64_t wait_us = wait_next(&eng->cfg.plan->wait, &eng->rng, 0, (uint64_t)total_us);
    if (wait_us == 0)
        user_run(u);
    else
        uv_timer_start(&u->timer, on_user_timer, (wait_us + 500) / 1000, 0);
}

/* ---- the ramp and the clock --------------------------------------------- */

static void update_state(engine_t *eng)
{
    if (eng->state >= RUN_STOPPING || !eng->started)
        return;
    if (eng->n_users < eng->target)
        eng->state = RUN_RAMPING_UP;
    else if (eng->n_users > eng->target)
        eng->state = RUN_RAMPING_DOWN;
    else
        eng->state = RUN_RUNNING;
}

static uint64_t ramp_now_us(const engine_t *eng)
{
    return uv_hrtime() / 1000 - eng->start_hr_us;
}

static void on_ramp(uv_timer_t *t)
{
    engine_t *eng = t->data;
    if (eng->state >= RUN_STOPPING || eng->paused)
        return;
    uint64_t now = ramp_now_us(eng);
    int64_t steps = ramp_steps(&eng->ramp, now, eng->n_users, eng->target);
    for (; steps > 0; steps--)
        user_spawn(eng);
    for (; steps < 0; steps++)
        user_retire_newest(eng);
    update_state(eng);
    if (eng->n_users != eng->target) {
        uint64_t d = ramp_delay_us(&eng->ramp, ramp_now_us(eng));
        uv_timer_start(&eng->ramp_timer, on_ramp, d ? (d + 999) / 1000 : 1, 0);
    }
}

static void ramp_kick(engine_t *eng)
{
    if (!eng->started || eng->state >= RUN_STOPPING || eng->paused)
        return;
    update_state(eng);
    if (eng->n_users == eng->target) {
        uv_timer_stop(&eng->ramp_timer);
        return;
    }
    uint64_t d = ramp_delay_us(&eng->ramp, ramp_now_us(eng));
    uv_timer_start(&eng->ramp_timer, on_ramp, (d + 999) / 1000, 0);
}

static void on_tick(uv_timer_t *t)
{
    engine_t *eng = t->data;
    eng->ticks++;
    stats_tick(eng->stats, eng->ticks * 1000, (uint32_t)eng->n_users);
    /* Aligned to whole seconds since the start, whatever the timer's drift. */
    uint64_t next = (eng->ticks + 1) * 1000, now = uv_now(eng->loop) - eng->start_ms;
    uv_timer_start(&eng->tick_timer, on_tick, next > now ? next - now : 0, 0);
}

static void on_run_time(uv_timer_t *t)
{
    engine_stop(t->data);
}

static void cancel_in_flight(engine_t *eng)
{
    while (eng->in_flight.next != &eng->in_flight) {
        req_t *r = eng->in_flight.next;
        user_t *u = r->user;
        curluv_cancel(&eng->cu, r->easy);
        inflight_unlink(eng, r);
        req_release(r);
        eng->cancelled++;
        u->req = NULL;
        user_close(u);
    }
}

static void on_stop_timeout(uv_timer_t *t)
{
    engine_t *eng = t->data;
    cancel_in_flight(eng);
    maybe_finish(eng);
}

static void on_done_timer(uv_timer_t *t)
{
    engine_t *eng = t->data;
    if (eng->cfg.done)
        eng->cfg.done(eng, eng->cfg.arg);
}

static void maybe_finish(engine_t *eng)
{
    if (eng->state != RUN_STOPPING || eng->n_in_flight)
        return;
    eng->end_ms = now_ms(eng);
    eng->state = RUN_DONE;
    uv_timer_stop(&eng->stop_timer);
    uv_timer_stop(&eng->tick_timer);
    /* The done callback runs from its own timer, never from inside libcurl's
     * completion path, so it may close the engine. */
    uv_timer_start(&eng->done_timer, on_done_timer, 0, 0);
}

/* ---- the interface ------------------------------------------------------ */

static int prepare(engine_t *eng, char *err, size_t errlen)
{
    const plan_t *plan = eng->cfg.plan;
    eng->n_preps = plan->n_tasks;
    eng->preps = xcalloc(plan->n_tasks, sizeof *eng->preps);
    eng->entry_methods = xcalloc(plan->n_tasks, sizeof *eng->entry_methods);
    eng->entry_names = xcalloc(plan->n_tasks, sizeof *eng->entry_names);
    unsigned *weights = xcalloc(plan->n_tasks, sizeof *weights);

    for (size_t i = 0; i < plan->n_tasks; i++) {
        const plan_task_t *t = &plan->tasks[i];
        prep_t *p = &eng->preps[i];
        p->eng = eng;
        p->task = t;
        weights[i] = t->weight;
        /* Tasks with the same method and name share a statistics row. */
        size_t e;
        for (e = 0; e < eng->n_entries; e++)
            if (!strcmp(eng->entry_methods[e], t->method) && !strcmp(eng->entry_names[e], t->name))
                break;
        if (e == eng->n_entries) {
            eng->entry_methods[e] = t->method;
            eng->entry_names[e] = t->name;
            eng->n_entries++;
        }
        p->entry = e;
        p->url = url_resolve(eng->cfg.host, t->target);
        p->timeout_us = t->timeout_us ? t->timeout_us : plan->timeout_us;
        p->needle_len = t->expect_body ? strlen(t->expect_body) : 0;
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
            free(weights);
            return -1;
        }
        r->next_free = p->pool;
        p->pool = r;
    }
    int rc = picker_init(&eng->picker, weights, plan->n_tasks);
    free(weights);
    if (rc != 0) {
        snprintf(err, errlen, "every task has weight 0: nothing to run");
        return -1;
    }
    return 0;
}

engine_t *engine_new(const engine_config_t *cfg, char *err, size_t errlen)
{
    engine_t *eng = xcalloc(1, sizeof *eng);
    eng->cfg = *cfg;
    eng->loop = cfg->loop;
    eng->target = cfg->users;
    eng->rate = cfg->spawn_rate;
    eng->in_flight.next = eng->in_flight.prev = &eng->in_flight;
    rng_seed(&eng->rng, cfg->seed);
    ramp_init(&eng->ramp, cfg->spawn_rate);
    if (curluv_init(&eng->cu, eng->loop, on_transfer_done, eng) != 0) {
        snprintf(err, errlen, "libcurl could not create a multi handle");
        free(eng);
        return NULL;
    }
    uv_timer_t *timers[] = {&eng->ramp_timer, &eng->tick_timer, &eng->run_timer,
                            &eng->stop_timer, &eng->done_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        uv_timer_init(eng->loop, timers[i]);
        timers[i]->data = eng;
    }
    if (prepare(eng, err, errlen) != 0) {
        engine_close(eng);
        uv_run(eng->loop, UV_RUN_DEFAULT);
        engine_free(eng);
        return NULL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    eng->start_unix = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    eng->stats = stats_new(eng->n_entries, eng->entry_methods, eng->entry_names, eng->start_unix);
    return eng;
}

void engine_start(engine_t *eng)
{
    if (eng->started)
        return;
    uv_update_time(eng->loop);
    eng->start_ms = uv_now(eng->loop);
    eng->start_hr_us = uv_hrtime() / 1000;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    eng->start_unix = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    stats_free(eng->stats);
    eng->stats = stats_new(eng->n_entries, eng->entry_methods, eng->entry_names, eng->start_unix);
    eng->started = true;
    eng->state = RUN_RAMPING_UP;
    uv_timer_start(&eng->tick_timer, on_tick, 1000, 0);
    if (eng->cfg.run_time_us)
        uv_timer_start(&eng->run_timer, on_run_time, (eng->cfg.run_time_us + 999) / 1000, 0);
    ramp_kick(eng);
}

void engine_set_target_users(engine_t *eng, uint64_t users)
{
    if (eng->state >= RUN_STOPPING || users == eng->target)
        return;
    eng->target = users;
    stats_event(eng->stats, now_ms(eng), EVENT_TARGET_USERS, (double)users);
    ramp_kick(eng);
}

void engine_set_spawn_rate(engine_t *eng, double rate)
{
    if (eng->state >= RUN_STOPPING || !(rate > 0) || rate == eng->rate)
        return;
    eng->rate = rate;
    ramp_set_rate(&eng->ramp, rate);
    stats_event(eng->stats, now_ms(eng), EVENT_SPAWN_RATE, rate);
    ramp_kick(eng);
}

void engine_pause(engine_t *eng, bool paused)
{
    if (eng->state >= RUN_STOPPING || paused == eng->paused)
        return;
    eng->paused = paused;
    stats_event(eng->stats, now_ms(eng), EVENT_PAUSE, paused ? 1 : 0);
    if (paused) {
        uv_timer_stop(&eng->ramp_timer);
    } else {
        ramp_restart(&eng->ramp);
        ramp_kick(eng);
    }
}

void engine_reset_stats(engine_t *eng)
{
    uint64_t t = now_ms(eng);
    stats_reset(eng->stats, t);
    stats_event(eng->stats, t, EVENT_RESET_STATS, 0);
}

void engine_stop(engine_t *eng)
{
    if (eng->state == RUN_DONE || eng->closing)
        return;
    if (!eng->started) {
        eng->started = true;
        uv_update_time(eng->loop);
        eng->start_ms = uv_now(eng->loop);
    }
    if (eng->state == RUN_STOPPING) {
        /* Asked twice: stop waiting for requests in flight. */
        cancel_in_flight(eng);
        maybe_finish(eng);
        return;
    }
    eng->state = RUN_STOPPING;
    stats_event(eng->stats, now_ms(eng), EVENT_STOP, 0);
    uv_timer_stop(&eng->ramp_timer);
    uv_timer_stop(&eng->run_timer);
    while (eng->n_users)
        user_retire_newest(eng);
    if (!eng->cfg.stop_timeout_set)
        cancel_in_flight(eng);
    else if (eng->n_in_flight)
        uv_timer_start(&eng->stop_timer, on_stop_timeout,
                       (eng->cfg.stop_timeout_us + 999) / 1000, 0);
    maybe_finish(eng);
}

void engine_snapshot(engine_t *eng, snap_t *out)
{
    out->host = eng->cfg.host;
    out->state = eng->state;
    out->paused = eng->paused;
    out->users = eng->n_users;
    out->peak_users = eng->peak_users;
    out->target_users = eng->target;
    out->spawn_rate = eng->rate;
    out->elapsed_ms = now_ms(eng);
    out->run_time_ms = eng->cfg.run_time_us / 1000;
    out->start_unix = eng->start_unix;
    out->in_flight = eng->n_in_flight;
    out->cancelled = eng->cancelled;
    out->spawn_failures = eng->spawn_failures;
    stats_fill(eng->stats, now_ms(eng), out);
}

void engine_close(engine_t *eng)
{
    if (eng->closing)
        return;
    eng->closing = true;
    if (eng->state != RUN_DONE) {
        /* Closing without a stop (an error path): cancel quietly. */
        eng->state = RUN_STOPPING;
        while (eng->n_users)
            user_retire_newest(eng);
        cancel_in_flight(eng);
        eng->state = RUN_DONE;
    }
    uv_timer_t *timers[] = {&eng->ramp_timer, &eng->tick_timer, &eng->run_timer,
                            &eng->stop_timer, &eng->done_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        uv_timer_stop(timers[i]);
        uv_close((uv_handle_t *)timers[i], NULL);
    }
    curluv_close(&eng->cu);
}

void engine_free(engine_t *eng)
{
    if (!eng)
        return;
    for (size_t i = 0; i < eng->n_preps; i++) {
        prep_t *p = &eng->preps[i];
        while (p->pool) {
            req_t *r = p->pool;
            p->pool = r->next_free;
            req_free(r);
        }
        free(p->url);
        curl_slist_free_all(p->headers);
    }
    curluv_free(&eng->cu);
    picker_done(&eng->picker);
    stats_free(eng->stats);
    free(eng->preps);
    free(eng->entry_methods);
    free(eng->entry_names);
    free(eng->users);
    free(eng);
}

/* engine: see include/engine/engine.h.
 *
 * The engine is the run's conductor: the ramp (how many users, when), the
 * load shape (stages: the target users, or the open model's arrival rate,
 * as a line from one stage boundary to the next), the clock (run time, one
 * statistics tick a second), the statistics every view reads, and the
 * state. The users themselves live in a runner: one in this
 * process, or one in each of N worker processes behind the pool, which
 * reports deltas that are merged into the same statistics. Either way the
 * views see one snapshot. */
#include "engine/engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/arrivals.h"
#include "engine/health.h"
#include "engine/pool.h"
#include "engine/ramp.h"
#include "engine/runner.h"
#include "stats/stats.h"
#include "util/xalloc.h"

/* The generator is the bottleneck when a process spends this much of a core,
 * or its event loop runs this late, for OVERLOAD_SAMPLES seconds in a row. */
#define OVERLOAD_CPU_PCT 90.0
#define OVERLOAD_LAG_MS 100.0
#define OVERLOAD_SAMPLES 3

struct engine {
    engine_config_t cfg;
    uv_loop_t *loop;
    stats_t *stats;

    runner_t *local;             /* users in this process, or */
    pool_t *pool;                /* in worker processes */
    health_t health;             /* this process's */
    snap_worker_t self;
    unsigned overload_run;       /* consecutive overloaded samples */
    bool overloaded, overload_said, fds_said, ports_said, data_said;
    uint64_t not_logged_in;       /* users not through on-start, as of the last snapshot before the stop */

    uint64_t assigned;           /* users the ramp has asked for so far */
    uint64_t peak_users;
    uint64_t target;
    double rate;
    bool paused;
    ramp_t ramp;

    /* The load shape. open: the open model, whose rate follows seg (what
     * the runners were last given; rate 0 while paused). Stages: the one
     * running (n_stages once past the last) and whether a key has taken
     * over its quantity until the next boundary. */
    bool open;
    arrival_seg_t seg;
    snap_stage_t *stages;
    size_t n_stages, stage;
    bool manual;

    uv_timer_t ramp_timer, tick_timer, run_timer, done_timer, stage_timer;
    uint64_t start_ms;           /* uv_now at start */
    uint64_t start_hr_us;        /* uv_hrtime at start, for the ramp's precision */
    uint64_t end_ms;             /* run-relative time at DONE */
    uint64_t ticks;
    double start_unix;
    run_state_t state;
    bool started, closing;
};

static uint64_t now_ms(const engine_t *eng)
{
    if (eng->state == RUN_DONE)
        return eng->end_ms;
    return eng->started ? uv_now(eng->loop) - eng->start_ms : 0;
}

static void say(engine_t *eng, const char *msg)
{
    if (eng->cfg.log)
        eng->cfg.log(eng->cfg.log_arg, msg);
}

static void backend_users(engine_t *eng, uint64_t n)
{
    if (eng->local)
        runner_set_users(eng->local, n);
    else
        pool_set_users(eng->pool, n);
}

static void backend_arrivals(engine_t *eng, const arrival_seg_t *seg)
{
    if (eng->local)
        runner_set_arrivals(eng->local, seg);
    else
        pool_set_arrivals(eng->pool, seg);
}

static void backend_status(const engine_t *eng, runner_status_t *st)
{
    if (eng->local)
        runner_status(eng->local, st);
    else
        pool_status(eng->pool, st);
}

/* ---- the ramp and the clock --------------------------------------------- */

static void update_state(engine_t *eng)
{
    if (eng->state >= RUN_STOPPING || !eng->started)
        return;
    if (eng->assigned < eng->target)
        eng->state = RUN_RAMPING_UP;
    else if (eng->assigned > eng->target)
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
    int64_t steps = ramp_steps(&eng->ramp, ramp_now_us(eng), eng->assigned, eng->target);
    if (steps) {
        eng->assigned = (uint64_t)((int64_t)eng->assigned + steps);
        if (eng->assigned > eng->peak_users)
            eng->peak_users = eng->assigned;
        backend_users(eng, eng->assigned);
    }
    update_state(eng);
    if (eng->assigned != eng->target) {
        uint64_t d = ramp_delay_us(&eng->ramp, ramp_now_us(eng));
        uv_timer_start(&eng->ramp_timer, on_ramp, d ? (d + 999) / 1000 : 1, 0);
    }
}

static void ramp_kick(engine_t *eng)
{
    if (!eng->started || eng->state >= RUN_STOPPING || eng->paused)
        return;
    update_state(eng);
    if (eng->assigned == eng->target) {
        uv_timer_stop(&eng->ramp_timer);
        return;
    }
    uint64_t d = ramp_delay_us(&eng->ramp, ramp_now_us(eng));
    uv_timer_start(&eng->ramp_timer, on_ramp, (d + 999) / 1000, 0);
}

/* ---- the load shape ------------------------------------------------------ */

/* When stage i begins, in us of the run's clock (i = n_stages: the end). */
static uint64_t stage_begin_us(const engine_t *eng, size_t i)
{
    uint64_t t = 0;
    for (size_t k = 0; k < i && k < eng->n_stages; k++)
        t += eng->stages[k].dur_us;
    return t;
}

/* The open model's rate in force now: the stage's line or what a key set
 * (a pause holds the arrivals back, not the rate: the keys step from it). */
static double arrival_rate_now(const engine_t *eng)
{
    if (!eng->open)
        return 0;
    return arrivals_rate_at(&eng->seg, eng->started ? ramp_now_us(eng) : 0);
}

static void set_segment(engine_t *eng, const arrival_seg_t *seg)
{
    eng->seg = *seg;
    if (!eng->paused)
        backend_arrivals(eng, seg);
}

static void on_stage_timer(uv_timer_t *t);

/* Stage i begins (at its boundary, even if the timer is late): its line
 * starts from its own "from", or from where the quantity is now (the
 * previous stage's end, or what a key set), and runs to its "to". */
static void enter_stage(engine_t *eng, size_t i)
{
    eng->stage = i;
    eng->manual = false;
    if (i >= eng->n_stages)
        return;                 /* past the last: its end value holds */
    const snap_stage_t *st = &eng->stages[i];
    uint64_t begin = stage_begin_us(eng, i);
    if (i > 0)
        stats_event(eng->stats, begin / 1000, EVENT_STAGE, (double)(i + 1));
    if (eng->open) {
        arrival_seg_t seg = {.t0_us = begin, .dur_us = st->dur_us,
                             .r0 = st->from_set ? st->from : arrivals_rate_at(&eng->seg, begin),
                             .r1 = st->to};
        set_segment(eng, &seg);
    } else {
        if (st->from_set && (uint64_t)llround(st->from) != eng->assigned && !eng->paused) {
            /* An explicit start: there at once (paused: the ramp gets
             * there when it resumes). */
            eng->assigned = (uint64_t)llround(st->from);
            if (eng->assigned > eng->peak_users)
                eng->peak_users = eng->assigned;
            backend_users(eng, eng->assigned);
        }
        uint64_t to = (uint64_t)llround(st->to);
        uint64_t diff = to > eng->assigned ? to - eng->assigned : eng->assigned - to;
        if (diff) {
            /* Evenly over the stage: diff users in its duration. */
            double rate = (double)diff / ((double)st->dur_us / 1e6);
            eng->rate = rate > HOPPER_MAX_SPAWN_RATE ? HOPPER_MAX_SPAWN_RATE : rate;
            ramp_set_rate(&eng->ramp, eng->rate);
            ramp_restart(&eng->ramp);
        }
        eng->target = to;
        ramp_kick(eng);
    }
    uint64_t end = stage_begin_us(eng, i + 1), now = ramp_now_us(eng);
    uv_timer_start(&eng->stage_timer, on_stage_timer, end > now ? (end - now + 999) / 1000 : 0, 0);
}

static void on_stage_timer(uv_timer_t *t)
{
    engine_t *eng = t->data;
    if (eng->state >= RUN_STOPPING)
        return;
    enter_stage(eng, eng->stage + 1);
}

/* Once a second: the health of every process, and the warning when hopper
 * itself (not the server) is the bottleneck, with the figures. */
static void sample_health(engine_t *eng)
{
    health_sample_t h = health_sample(&eng->health);
    runner_status_t st;
    backend_status(eng, &st);
    eng->self = (snap_worker_t){.users = eng->local ? st.users : 0, .cpu_pct = (float)h.cpu_pct,
                                .lag_ms = (float)h.lag_ms, .alive = true};
    char worst[160] = "";
    bool over = h.cpu_pct >= OVERLOAD_CPU_PCT || h.lag_ms >= OVERLOAD_LAG_MS;
    if (over)
        snprintf(worst, sizeof worst, "hopper's %s process at %.0f%% CPU, event loop %.0f ms late",
                 eng->pool ? "main" : "only", h.cpu_pct, h.lag_ms);
    if (eng->pool) {
        worker_health_t w[HOPPER_MAX_WORKERS];
        size_t n = pool_health(eng->pool, w, HOPPER_MAX_WORKERS);
        for (size_t i = 0; i < n; i++)
            if (w[i].alive && (w[i].cpu_pct >= OVERLOAD_CPU_PCT || w[i].lag_ms >= OVERLOAD_LAG_MS)) {
                over = true;
                snprintf(worst, sizeof worst, "worker %zu at %.0f%% CPU, event loop %.0f ms late",
                         i, w[i].cpu_pct, w[i].lag_ms);
            }
    }
    /* Running out of descriptors or ports is hopper's problem, not the
     * server's: say so once each, plainly. */
    if (st.out_of_fds && !eng->fds_said) {
        eng->fds_said = true;
        say(eng, "out of file descriptors: requests fail with \"Too many open files\" (ulimit -n); "
                 "fewer users, more --workers, or a higher limit");
    }
    if (st.out_of_ports && !eng->ports_said) {
        eng->ports_said = true;
        say(eng, "out of local ports: requests fail with \"Cannot assign requested address\"; "
                 "add local addresses with --source-addrs (e.g. 127.0.0.1-127.0.0.4)");
    }
    /* A `unique` data file that has run out ends the test, as a queue
     * feeder does in Gatling: the rows were the test's budget. */
    bool exhausted = eng->pool ? pool_data_exhausted(eng->pool) : st.data_exhausted > 0;
    if (exhausted && !eng->data_said && eng->state < RUN_STOPPING) {
        eng->data_said = true;
        say(eng, "a data file with order = unique has handed out every row: stopping the test");
        engine_stop(eng);
    }
    eng->overload_run = over ? eng->overload_run + 1 : 0;
    eng->overloaded = eng->overload_run >= OVERLOAD_SAMPLES;
    if (eng->overloaded && !eng->overload_said && eng->state < RUN_STOPPING) {
        eng->overload_said = true;
        char msg[512];
        snprintf(msg, sizeof msg,
                 "hopper itself is the bottleneck: %s for %d s; response times include hopper's "
                 "own delay (more --workers, fewer users, more --source-addrs if connecting is slow, or a "
                 "bigger machine)", worst,
                 OVERLOAD_SAMPLES);
        say(eng, msg);
    }
}

static void on_tick(uv_timer_t *t)
{
    engine_t *eng = t->data;
    eng->ticks++;
    runner_status_t st;
    backend_status(eng, &st);
    /* The open model's timeline shows the users at work, not the pool. */
    uint64_t users = eng->open ? st.users - (st.free_users < st.users ? st.free_users : st.users)
                               : st.users;
    if (eng->open && st.users > eng->peak_users)
        eng->peak_users = st.users;
    stats_tick(eng->stats, eng->ticks * 1000, (uint32_t)users);
    sample_health(eng);
    /* Aligned to whole seconds since the start, whatever the timer's drift. */
    uint64_t next = (eng->ticks + 1) * 1000, now = uv_now(eng->loop) - eng->start_ms;
    uv_timer_start(&eng->tick_timer, on_tick, next > now ? next - now : 0, 0);
}

static void on_run_time(uv_timer_t *t)
{
    engine_stop(t->data);
}

static void on_done_timer(uv_timer_t *t)
{
    engine_t *eng = t->data;
    if (eng->cfg.done)
        eng->cfg.done(eng, eng->cfg.arg);
}

/* The backend has stopped: every user gone, nothing in flight. */
static void finish(engine_t *eng)
{
    if (eng->state == RUN_DONE)
        return;
    eng->end_ms = now_ms(eng);
    eng->state = RUN_DONE;
    uv_timer_stop(&eng->tick_timer);
    uv_timer_start(&eng->done_timer, on_done_timer, 0, 0);
}

static void on_local_idle(runner_t *r, void *arg)
{
    (void)r;
    finish(arg);
}

static void on_pool_done(pool_t *p, void *arg)
{
    (void)p;
    finish(arg);
}

static void on_pool_log(void *arg, const char *msg)
{
    say(arg, msg);
}

/* ---- the interface ------------------------------------------------------ */

void engine_runner_config(const engine_config_t *cfg, runner_config_t *rc)
{
    *rc = (runner_config_t){
        .plan = cfg->plan,
        .host = cfg->host,
        .client = cfg->client,
        .sources = cfg->sources,
        .insecure = cfg->insecure,
        .ca_file = cfg->ca_file,
        .cert_file = cfg->cert_file,
        .key_file = cfg->key_file,
        .no_tls_resume = cfg->no_tls_resume,
        .http2 = cfg->http2,
        .no_retry = cfg->no_retry,
        .stop_timeout_us = cfg->stop_timeout_us,
        .seed = cfg->seed,
        .on_failure = cfg->on_failure,
        .failure_arg = cfg->failure_arg,
        .max_users = cfg->plan->max_users,
        .arrival_index = 0,
        .arrival_count = 1,
    };
}

engine_t *engine_new(const engine_config_t *cfg, char *err, size_t errlen)
{
    engine_t *eng = xcalloc(1, sizeof *eng);
    eng->cfg = *cfg;
    eng->loop = cfg->loop;
    eng->target = cfg->users;
    eng->rate = cfg->spawn_rate;
    ramp_init(&eng->ramp, cfg->spawn_rate);

    const plan_t *plan = cfg->plan;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    eng->start_unix = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    eng->stats = stats_new(plan->n_endpoints, plan->endpoint_methods, plan->endpoint_names,
                           eng->start_unix, plan_intended_starts(plan));
    eng->open = plan->model == MODEL_OPEN;
    eng->n_stages = plan->n_stages;
    if (eng->n_stages) {
        eng->stages = xcalloc(eng->n_stages, sizeof *eng->stages);
        for (size_t i = 0; i < eng->n_stages; i++)
            eng->stages[i] = (snap_stage_t){.dur_us = plan->stages[i].dur_us,
                                            .from = plan->stages[i].from,
                                            .to = plan->stages[i].to,
                                            .from_set = plan->stages[i].from_set};
        /* Closed-model stages set the users from 0 (k6's startVUs). */
        if (!eng->open)
            eng->target = 0;
    }

    runner_config_t rc;
    engine_runner_config(cfg, &rc);
    rc.loop = eng->loop;
    rc.stats = eng->stats;
    rc.idle = on_local_idle;
    rc.arg = eng;
    /* Workers are forked first, while the loop has nothing they could
     * inherit by mistake. */
    if (cfg->remote_n) {
        eng->pool = pool_new_remote(eng->loop, cfg->remote_n, cfg->remote_fds, cfg->remote_names,
                                    eng->stats, on_pool_done, on_pool_log, eng);
    } else if (cfg->workers > 1) {
        eng->pool = pool_new(eng->loop, cfg->workers, &rc, eng->stats, on_pool_done, on_pool_log,
                             eng, err, errlen);
        if (!eng->pool)
            goto fail;
    } else {
        eng->local = runner_new(&rc, err, errlen);
        if (!eng->local)
            goto fail;
    }
    uv_timer_t *timers[] = {&eng->ramp_timer, &eng->tick_timer, &eng->run_timer, &eng->done_timer,
                            &eng->stage_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        uv_timer_init(eng->loop, timers[i]);
        timers[i]->data = eng;
    }
    health_start(&eng->health, eng->loop);
    return eng;
fail:
    stats_free(eng->stats);
    free(eng->stages);
    free(eng);
    return NULL;
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
    /* The clock starts now: nothing before this counts. */
    stats_restart(eng->stats, eng->start_unix);
    if (eng->local)
        runner_set_epoch(eng->local, eng->start_ms, eng->start_hr_us, eng->start_unix);
    else
        pool_set_epoch(eng->pool, eng->start_ms, eng->start_hr_us, eng->start_unix);
    eng->started = true;
    eng->state = RUN_RAMPING_UP;
    uv_timer_start(&eng->tick_timer, on_tick, 1000, 0);
    if (eng->cfg.run_time_us)
        uv_timer_start(&eng->run_timer, on_run_time, (eng->cfg.run_time_us + 999) / 1000, 0);
    if (eng->open && !eng->n_stages) {
        arrival_seg_t seg = {.t0_us = 0, .dur_us = 0, .r0 = eng->cfg.plan->arrival_rate,
                             .r1 = eng->cfg.plan->arrival_rate};
        set_segment(eng, &seg);
    }
    if (eng->n_stages)
        enter_stage(eng, 0);
    ramp_kick(eng);
}

/* A key changed what the stages drive: it holds until the next stage. */
static void take_manual(engine_t *eng)
{
    if (eng->stage < eng->n_stages)
        eng->manual = true;
}

void engine_set_target_users(engine_t *eng, uint64_t users)
{
    if (eng->state >= RUN_STOPPING || users == eng->target || eng->open)
        return;
    take_manual(eng);
    eng->target = users;
    stats_event(eng->stats, now_ms(eng), EVENT_TARGET_USERS, (double)users);
    ramp_kick(eng);
}

void engine_set_spawn_rate(engine_t *eng, double rate)
{
    if (eng->state >= RUN_STOPPING || !(rate > 0) || rate == eng->rate)
        return;
    if (!eng->open)
        take_manual(eng);
    eng->rate = rate;
    ramp_set_rate(&eng->ramp, rate);
    stats_event(eng->stats, now_ms(eng), EVENT_SPAWN_RATE, rate);
    ramp_kick(eng);
}

void engine_set_arrival_rate(engine_t *eng, double rate)
{
    if (eng->state >= RUN_STOPPING || !eng->open || !(rate >= 0) || rate > HOPPER_MAX_ARRIVAL_RATE)
        return;
    take_manual(eng);
    arrival_seg_t seg = {.t0_us = eng->started ? ramp_now_us(eng) : 0, .r0 = rate, .r1 = rate};
    set_segment(eng, &seg);
    stats_event(eng->stats, now_ms(eng), EVENT_ARRIVAL_RATE, rate);
}

void engine_pause(engine_t *eng, bool paused)
{
    if (eng->state >= RUN_STOPPING || paused == eng->paused)
        return;
    eng->paused = paused;
    stats_event(eng->stats, now_ms(eng), EVENT_PAUSE, paused ? 1 : 0);
    if (eng->open && eng->started) {
        /* Arrivals stop while paused; on resume the rate line goes on
         * from where it is now (the stage's clock did not stop). */
        uint64_t now = ramp_now_us(eng);
        arrival_seg_t seg = {.t0_us = now, .r0 = 0, .r1 = 0};
        if (!paused) {
            seg.r0 = arrivals_rate_at(&eng->seg, now);
            uint64_t end = eng->seg.t0_us + eng->seg.dur_us;
            if (eng->seg.dur_us && end > now) {
                seg.dur_us = end - now;
                seg.r1 = eng->seg.r1;
            } else {
                seg.r0 = seg.r1 = eng->seg.dur_us ? eng->seg.r1 : eng->seg.r0;
            }
            eng->seg = seg;
        }
        backend_arrivals(eng, &seg);
    }
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
    if (eng->pool)
        pool_reset(eng->pool);
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
    if (eng->state != RUN_STOPPING) {
        eng->state = RUN_STOPPING;
        stats_event(eng->stats, now_ms(eng), EVENT_STOP, 0);
        uv_timer_stop(&eng->ramp_timer);
        uv_timer_stop(&eng->run_timer);
        uv_timer_stop(&eng->stage_timer);
    }
    /* A second stop cancels what is still in flight: the backends know. */
    if (eng->local)
        runner_stop(eng->local);
    else
        pool_stop(eng->pool);
}

/* Which client speaks which protocol, as the status line and the summary
 * say it ("generator: native HTTPS client"). */
static const char *client_name(const engine_config_t *cfg)
{
    bool tls = cfg->host && strncasecmp(cfg->host, "https://", 8) == 0;
    if (cfg->client == HTTP_CLIENT_NATIVE) {
        if (cfg->http2)
            return tls ? "native HTTP/2 over TLS" : "native HTTP/2 (h2c)";
        return tls ? "native HTTP/1.1 over TLS" : "native HTTP/1.1";
    }
    return cfg->http2 ? "libcurl (HTTP/2)" : "libcurl";
}

void engine_snapshot(engine_t *eng, snap_t *out)
{
    runner_status_t st;
    backend_status(eng, &st);
    out->host = eng->cfg.host;
    out->state = eng->state;
    out->paused = eng->paused;
    /* The users actually running (with workers, as last reported: the
     * ramp's own count would run ahead of workers that are slow to start
     * them), and the state says "ramping" until they are all there. */
    out->users = st.users;
    if (out->state == RUN_RUNNING && st.users < eng->target)
        out->state = RUN_RAMPING_UP;
    out->open = eng->open;
    out->pool_users = eng->open ? st.users : 0;
    if (eng->open) {
        /* Users at work: the pool's users not waiting for an arrival. */
        out->users = st.users - (st.free_users < st.users ? st.free_users : st.users);
        if (st.users > eng->peak_users)
            eng->peak_users = st.users;
    }
    out->max_users = eng->open ? eng->cfg.plan->max_users : 0;
    out->arrival_rate = arrival_rate_now(eng);
    out->poisson = eng->open && eng->cfg.plan->arrivals == ARRIVALS_POISSON;
    out->stages = eng->stages;
    out->n_stages = eng->n_stages;
    out->stage = eng->stage;
    out->manual = eng->manual && eng->state < RUN_STOPPING;
    out->stage_left_ms = 0;
    if (eng->stage < eng->n_stages && eng->state < RUN_STOPPING) {
        uint64_t end = stage_begin_us(eng, eng->stage + 1) / 1000, t = now_ms(eng);
        out->stage_left_ms = end > t ? end - t : 0;
    }
    out->peak_users = eng->peak_users;
    out->target_users = eng->target;
    out->spawn_rate = eng->rate;
    out->elapsed_ms = now_ms(eng);
    out->run_time_ms = eng->cfg.run_time_us / 1000;
    out->start_unix = eng->start_unix;
    out->in_flight = st.in_flight;
    out->cancelled = st.cancelled;
    out->drained = st.drained;
    out->stop_timeout_ms = eng->cfg.stop_timeout_us / 1000;
    out->spawn_failures = st.spawn_failures;
    out->out_of_fds = st.out_of_fds;
    out->out_of_ports = st.out_of_ports;
    out->retries = st.retries;
    out->tls_handshakes = st.tls_handshakes;
    out->tls_resumed = st.tls_resumed;
    /* After the stop, users close as they finish: the count at the stop is
     * what the summary reports. */
    if (eng->state < RUN_STOPPING)
        eng->not_logged_in = st.not_started;
    out->not_logged_in = eng->not_logged_in;
    out->data_exhausted = st.data_exhausted;
    out->self = eng->self;
    out->n_workers = 0;
    if (eng->pool) {
        worker_health_t w[HOPPER_MAX_WORKERS];
        size_t n = pool_health(eng->pool, w, HOPPER_MAX_WORKERS);
        for (size_t i = 0; i < n && i < HOPPER_MAX_WORKERS; i++)
            out->workers[i] = (snap_worker_t){.users = w[i].users, .cpu_pct = (float)w[i].cpu_pct,
                                              .lag_ms = (float)w[i].lag_ms, .alive = w[i].alive};
        out->n_workers = (unsigned)n;
    }
    out->overloaded = eng->overloaded;
    out->client = client_name(&eng->cfg);
    stats_fill(eng->stats, now_ms(eng), out);
}

void engine_close(engine_t *eng)
{
    if (eng->closing)
        return;
    eng->closing = true;
    uv_timer_t *timers[] = {&eng->ramp_timer, &eng->tick_timer, &eng->run_timer, &eng->done_timer,
                            &eng->stage_timer};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++) {
        uv_timer_stop(timers[i]);
        uv_close((uv_handle_t *)timers[i], NULL);
    }
    health_close(&eng->health);
    if (eng->local)
        runner_close(eng->local);
    else
        pool_close(eng->pool);
}

void engine_free(engine_t *eng)
{
    if (!eng)
        return;
    runner_free(eng->local);
    pool_free(eng->pool);
    stats_free(eng->stats);
    free(eng->stages);
    free(eng);
}

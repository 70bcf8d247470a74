/* The engine's command interface, driven against a real hopper-target:
 * set target users (up and down), set spawn rate, pause, reset statistics,
 * stop with a stop timeout, and a clean shutdown (uv_loop_close == 0). This is
 * the API the dashboard calls. Every wait is a generous upper bound on when
 * the ramp must have got there: nothing depends on tight timing. */
#include "check.h"
#include "engine/engine.h"
#include "plan/hopperfile.h"

#include <curl/curl.h>

#include "target_proc.h"

static target_t target;

/* A scripted operator: each step runs at its time and may check the snapshot. */
typedef struct {
    uv_loop_t loop;
    engine_t *eng;
    snap_t snap;
    uv_timer_t timer;
    int step;
    bool done;
    unsigned long long requests_at_stop;
} script_t;

static uint64_t users_now(script_t *s)
{
    engine_snapshot(s->eng, &s->snap);
    return s->snap.users;
}

/* Polls every 50 ms until cond holds or deadline_ms passes. */
static bool wait_users(script_t *s, uint64_t want, uint64_t deadline_ms)
{
    uint64_t until = uv_now(&s->loop) + deadline_ms;
    while (uv_now(&s->loop) < until) {
        if (users_now(s) == want)
            return true;
        uv_run(&s->loop, UV_RUN_ONCE);
    }
    return users_now(s) == want;
}

static void run_for(script_t *s, uint64_t ms)
{
    uint64_t until = uv_now(&s->loop) + ms;
    while (uv_now(&s->loop) < until && !s->done)
        uv_run(&s->loop, UV_RUN_ONCE);
}

static void on_tick(uv_timer_t *t) { (void)t; }

static void on_done(engine_t *eng, void *arg)
{
    script_t *s = arg;
    engine_snapshot(eng, &s->snap);
    s->requests_at_stop = s->snap.total.requests;
    s->done = true;
    engine_close(eng);
    uv_close((uv_handle_t *)&s->timer, NULL);
}

static void steer(unsigned workers)
{
    CHECK(target_start(&target, NULL, NULL) == 0);
    char text[512];
    snprintf(text, sizeof text,
             "host = %s\nusers = 4\nspawn-rate = 20\nwait = constant 50ms\n"
             "[task status]\nrequest = GET /status\n", target.url);
    plan_t plan;
    plan_init(&plan);
    char err[512];
    CHECK_INT(hopperfile_parse("engine-test", text, strlen(text), &plan, err, sizeof err), 0);

    script_t s;
    memset(&s, 0, sizeof s);
    uv_loop_init(&s.loop);
    snap_init(&s.snap);
    /* A timer that keeps the loop turning between polls. */
    uv_timer_init(&s.loop, &s.timer);
    uv_timer_start(&s.timer, on_tick, 20, 20);
    engine_config_t cfg = {.loop = &s.loop, .plan = &plan, .host = plan.host, .users = 4,
                           .spawn_rate = 20,
                           .stop_timeout_us = 5000000, .seed = 1, .done = on_done, .arg = &s,
                           .workers = workers};
    s.eng = engine_new(&cfg, err, sizeof err);
    CHECK(s.eng != NULL);
    engine_start(s.eng);

    CHECK(wait_users(&s, 4, 3000));
    CHECK_INT(s.snap.state, RUN_RUNNING);

    engine_set_target_users(s.eng, 8);                 /* up */
    CHECK(wait_users(&s, 8, 3000));

    engine_set_spawn_rate(s.eng, 5);
    engine_set_target_users(s.eng, 2);                 /* down, 5 a second */
    run_for(&s, 50);
    engine_snapshot(s.eng, &s.snap);
    CHECK_INT(s.snap.state, RUN_RAMPING_DOWN);
    CHECK(s.snap.users > 2);                           /* not all at once */
    CHECK(s.snap.spawn_rate == 5.0);
    CHECK(wait_users(&s, 2, 4000));
    CHECK_INT(s.snap.state, RUN_RUNNING);

    engine_pause(s.eng, true);                         /* the ramp holds */
    engine_set_target_users(s.eng, 6);
    run_for(&s, 600);
    CHECK_INT(users_now(&s), 2);
    CHECK(s.snap.paused);
    engine_pause(s.eng, false);
    CHECK(wait_users(&s, 6, 4000));

    run_for(&s, 300);
    engine_snapshot(s.eng, &s.snap);
    CHECK(s.snap.total.requests > 0);
    engine_reset_stats(s.eng);
    engine_snapshot(s.eng, &s.snap);
    /* Only what finished since (with workers, a report already on its way). */
    CHECK(s.snap.total.requests <= (workers > 1 ? 30u : 6u));

    /* The timeline holds every operator action, in order. */
    int kinds[16], n = 0;
    for (size_t i = 0; i < s.snap.n_events && n < 16; i++)
        kinds[n++] = s.snap.events[i].kind;
    CHECK(n >= 6);
    if (n >= 6) {
        CHECK_INT(kinds[0], EVENT_TARGET_USERS);
        CHECK_INT(kinds[1], EVENT_SPAWN_RATE);
        CHECK_INT(kinds[2], EVENT_TARGET_USERS);
        CHECK_INT(kinds[3], EVENT_PAUSE);
        CHECK_INT(kinds[n - 1], EVENT_RESET_STATS);
    }

    run_for(&s, 300);
    engine_stop(s.eng);
    run_for(&s, 8000);
    CHECK(s.done);
    uv_run(&s.loop, UV_RUN_DEFAULT);
    engine_free(s.eng);
    CHECK_INT(uv_loop_close(&s.loop), 0);              /* every handle closed */
    snap_free(&s.snap);
    plan_free(&plan);
    target_stop(&target);
    long long server = report_count(&target, "requests answered:");
    /* Statistics were reset mid-run, so only a lower bound here; the exact
     * equality is the end-to-end tests' job. */
    CHECK(server >= (long long)s.requests_at_stop);
    CHECK(s.requests_at_stop > 0);
}

TEST(commands_steer_a_real_run)
{
    steer(1);
}

TEST(commands_steer_a_run_in_two_workers)
{
    steer(2);
}

int main(void)
{
    check_prog = "engine";
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    RUN(commands_steer_a_real_run);
    RUN(commands_steer_a_run_in_two_workers);
    curl_global_cleanup();
    return check_done();
}

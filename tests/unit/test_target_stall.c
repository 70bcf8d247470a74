/* Unit tests of target_stall: the window arithmetic, the checks behind
 * hopper-target's --stall options, the schedule line, and a real loop that
 * freezes. hopper-target's objects are in none of the libraries the unit
 * programs link, and this module needs only libuv, so the source is
 * compiled in here. */
#include "../../src/target/target_stall.c"

#include <stdlib.h>

#include "check.h"

#define MS 1000000ULL
#define S 1000000000ULL

TEST(windows_end_each_period)
{
    /* 1 s every 10 s from an anchor at 100 s: [109, 110), [119, 120), ... */
    struct target_stall_schedule sch = {.stall_ns = 1 * S, .every_ns = 10 * S, .anchor_ns = 100 * S};
    uint64_t start, end;
    target_stall_window(&sch, 100 * S, &start, &end);
    CHECK_INT(start, 109 * S);
    CHECK_INT(end, 110 * S);
    target_stall_window(&sch, 109 * S - 1, &start, &end); /* just before: the same, upcoming */
    CHECK_INT(start, 109 * S);
    target_stall_window(&sch, 109 * S, &start, &end); /* its first instant is in it */
    CHECK_INT(start, 109 * S);
    CHECK_INT(end, 110 * S);
    target_stall_window(&sch, 110 * S - 1, &start, &end); /* its last nanosecond */
    CHECK_INT(start, 109 * S);
    target_stall_window(&sch, 110 * S, &start, &end); /* its end is the next period's start */
    CHECK_INT(start, 119 * S);
    CHECK_INT(end, 120 * S);
    target_stall_window(&sch, 1000 * S + 5 * MS, &start, &end); /* period 91 */
    CHECK_INT(start, 1009 * S);
    target_stall_window(&sch, 50 * S, &start, &end); /* before the anchor: the first */
    CHECK_INT(start, 109 * S);
}

TEST(check_refuses_what_is_not_a_schedule)
{
    CHECK(target_stall_check(1000000, 10000000) == NULL);
    CHECK(target_stall_check(1, 2) == NULL);
    CHECK(target_stall_check(0, 10000000) != NULL);
    CHECK(target_stall_check(1000000, 0) != NULL);
    CHECK(target_stall_check(1000000, 1000000) != NULL); /* the whole period: never answers */
    CHECK(target_stall_check(2000000, 1000000) != NULL);
    CHECK(target_stall_check(1, TARGET_STALL_MAX_US + 1) != NULL);
}

TEST(describe_names_the_first_window_on_the_wall_clock)
{
    uint64_t now = uv_hrtime();
    struct target_stall_schedule sch = {.stall_ns = 1500 * MS, .every_ns = 4 * S, .anchor_ns = now};
    char line[128];
    target_stall_describe(&sch, line, sizeof(line));
    double first = 0;
    char tail = 0;
    CHECK(sscanf(line, "stall 1.500 s every 4.000 s, the first at unix %lf%c", &first, &tail) == 1);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    double in = first - ((double)wall.tv_sec + (double)wall.tv_nsec / 1e9);
    /* 2.5 s ahead, less the moment since the anchor. */
    CHECK(in > 2.0 && in <= 2.5 + 1e-3);
}

/* A loop with a 200 ms stall every 400 ms: a timer due 250 ms after the
 * anchor, inside the first window, can run only once it has ended. */
struct frozen_loop {
    uv_timer_t probe, stop;
    struct target_stall stall;
    uint64_t anchor, probe_ran;
};

static void on_probe(uv_timer_t *t)
{
    struct frozen_loop *f = t->data;
    f->probe_ran = uv_hrtime();
}

static void on_stop(uv_timer_t *t)
{
    struct frozen_loop *f = t->data;
    target_stall_stop(&f->stall);
    target_stall_stop(&f->stall); /* idempotent */
    uv_close((uv_handle_t *)&f->probe, NULL);
    uv_close((uv_handle_t *)&f->stop, NULL);
}

TEST(loop_freezes_through_a_window)
{
    uv_loop_t loop;
    CHECK_INT(uv_loop_init(&loop), 0);
    struct frozen_loop f = {0};
    uv_update_time(&loop);
    f.anchor = uv_hrtime();
    struct target_stall_schedule sch = {.stall_ns = 200 * MS, .every_ns = 400 * MS, .anchor_ns = f.anchor};
    target_stall_start(&f.stall, &loop, &sch);
    uv_timer_init(&loop, &f.probe);
    uv_timer_init(&loop, &f.stop);
    f.probe.data = f.stop.data = &f;
    uv_timer_start(&f.probe, on_probe, 250, 0);
    uv_timer_start(&f.stop, on_stop, 500, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    CHECK(f.probe_ran != 0);
    /* The window ends 400 ms after the anchor; nothing could run before. */
    CHECK(f.probe_ran >= f.anchor + 400 * MS);
    CHECK_INT(f.stall.stalls, 1);
}

TEST(no_schedule_no_timer)
{
    uv_loop_t loop;
    CHECK_INT(uv_loop_init(&loop), 0);
    struct target_stall st;
    struct target_stall_schedule none = {0};
    target_stall_start(&st, &loop, &none);
    target_stall_stop(&st);
    CHECK_INT(uv_run(&loop, UV_RUN_DEFAULT), 0);
    CHECK_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    check_prog = "target_stall";
    RUN(windows_end_each_period);
    RUN(check_refuses_what_is_not_a_schedule);
    RUN(describe_names_the_first_window_on_the_wall_clock);
    RUN(loop_freezes_through_a_window);
    RUN(no_schedule_no_timer);
    return check_done();
}

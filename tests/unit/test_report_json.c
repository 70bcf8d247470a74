/* Unit tests for the JSON report (src/report/report_json.c) against a
 * snapshot built by hand, parsed back with jansson: the fields, the numbers
 * (times in ms), the uncalled endpoint's nulls, the failures, the history,
 * the events and the checks. */
#include "check.h"
#include "report/report_json.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>

typedef struct {
    snap_t s;
    snap_entry_t entries[2];
    snap_error_t errors[1];
    snap_sample_t history[2];
    snap_event_t events[2];
    plan_t plan;
    check_t checks[2];
    check_result_t results[2];
    report_meta_t meta;
} fixture_t;

static void fixture_init(fixture_t *fx)
{
    memset(fx, 0, sizeof *fx);
    snap_t *s = &fx->s;
    snap_init(s);
    s->host = "http://127.0.0.1:8082";
    s->start_unix = 1714564800.25;  /* 2024-05-01T12:00:00.250Z */
    s->elapsed_ms = 61500;
    s->stats_ms = 60000;
    s->peak_users = 20;
    s->retries = 7;
    s->cancelled = 3;
    s->drained = 5;

    fx->entries[0] = (snap_entry_t){.method = "GET", .name = "/a", .requests = 8, .failures = 2,
                                    .content_bytes = 800, .min_us = 500, .max_us = 9000,
                                    .avg_us = 2500, .cur_rps = 1.5, .cur_fps = 0.25,
                                    .total_rps = 2, .total_fps = 0.5};
    for (int i = 0; i < SNAP_NPCT; i++)
        fx->entries[0].pct_us[i] = (uint64_t)(i + 1) * 1000;
    fx->entries[1] = (snap_entry_t){.method = "POST", .name = "/never"};
    s->entries = fx->entries;
    s->n_entries = 2;
    s->total = fx->entries[0];
    s->total.method = "";
    s->total.name = "Aggregated";

    fx->errors[0] = (snap_error_t){.method = "GET", .name = "/a", .count = 2,
                                   .first_seen = 1714564801.5, .last_seen = 1714564802};
    snprintf(fx->errors[0].error, sizeof fx->errors[0].error, "HTTP 500: \"oops\"");
    s->errors = fx->errors;
    s->n_errors = 1;

    fx->history[0] = (snap_sample_t){.t = 1, .span = 1, .users = 5, .rps = 4, .fps = 1,
                                     .p50_us = 2000, .p95_us = 7500};
    fx->history[1] = (snap_sample_t){.t = 3, .span = 2, .users = 10, .rps = 8, .fps = 0,
                                     .p50_us = 2500, .p95_us = 8000};
    s->history = fx->history;
    s->n_history = 2;
    fx->events[0] = (snap_event_t){.t_ms = 30000, .kind = EVENT_TARGET_USERS, .value = 20};
    fx->events[1] = (snap_event_t){.t_ms = 45500, .kind = EVENT_PAUSE, .value = 1};
    s->events = fx->events;
    s->n_events = 2;

    plan_init(&fx->plan);
    fx->plan.timeout_us = 5000000;
    fx->checks[0] = (check_t){.text = "p95<300ms", .metric = METRIC_PERCENTILE, .arg = 0.95};
    fx->checks[1] = (check_t){.text = "fail-ratio<1%", .metric = METRIC_FAIL_RATIO};
    fx->results[0] = (check_result_t){.check = &fx->checks[0], .evaluated = true, .passed = true,
                                      .value = 6000};
    snprintf(fx->results[0].measured, sizeof fx->results[0].measured, "6.0ms");
    fx->results[1] = (check_result_t){.check = &fx->checks[1], .evaluated = true, .passed = false,
                                      .value = 0.25};
    snprintf(fx->results[1].measured, sizeof fx->results[1].measured, "25.00%%");
    fx->meta = (report_meta_t){.version = "0.9.0", .hopperfile = "a.hopperfile", .plan = &fx->plan,
                               .host = s->host, .users = 20, .spawn_rate = 2.5,
                               .end_unix = 1714564861.75, .checks = fx->results, .n_checks = 2};
}

/* The report written and parsed back (the caller decrefs it). */
static json_t *render(fixture_t *fx, int exit_status)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_INT(report_json_write(f, &fx->s, &fx->meta, exit_status), 0);
    fclose(f);
    json_error_t err;
    json_t *doc = json_loads(buf, 0, &err);
    if (!doc)
        printf("#   not JSON: %s at line %d\n", err.text, err.line);
    CHECK(doc != NULL);
    free(buf);
    return doc ? doc : json_object();
}

static bool near(json_t *j, double want)
{
    return json_is_number(j) && fabs(json_number_value(j) - want) < 1e-9;
}

static const char *str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "(not a string)";
}

TEST(run_fields)
{
    fixture_t fx;
    fixture_init(&fx);
    json_t *doc = render(&fx, 3);
    CHECK_INT(json_integer_value(json_object_get(doc, "version")), REPORT_JSON_VERSION);
    CHECK_STR(str(doc, "hopper"), "0.9.0");
    CHECK_STR(str(doc, "start"), "2024-05-01T12:00:00.250Z");
    CHECK_STR(str(doc, "end"), "2024-05-01T12:01:01.750Z");
    CHECK(near(json_object_get(doc, "duration_s"), 61.5));
    CHECK(near(json_object_get(doc, "stats_duration_s"), 60));
    CHECK_INT(json_integer_value(json_object_get(doc, "peak_users")), 20);
    CHECK_INT(json_integer_value(json_object_get(doc, "retries")), 7);
    CHECK_INT(json_integer_value(json_object_get(doc, "cancelled_requests")), 3);
    CHECK_INT(json_integer_value(json_object_get(doc, "drained_requests")), 5);
    json_t *set = json_object_get(doc, "settings");
    CHECK_STR(str(set, "host"), "http://127.0.0.1:8082");
    CHECK_STR(str(set, "hopperfile"), "a.hopperfile");
    CHECK_INT(json_integer_value(json_object_get(set, "users")), 20);
    CHECK(near(json_object_get(set, "spawn_rate"), 2.5));
    CHECK(json_is_null(json_object_get(set, "run_time_s")));
    CHECK(near(json_object_get(set, "timeout_s"), 5));
    json_t *res = json_object_get(doc, "result");
    CHECK_INT(json_integer_value(json_object_get(res, "requests")), 8);
    CHECK_INT(json_integer_value(json_object_get(res, "failures")), 2);
    CHECK(json_is_false(json_object_get(res, "checks_passed")));
    CHECK_INT(json_integer_value(json_object_get(res, "exit_status")), 3);
    json_decref(doc);
    plan_free(&fx.plan);
}

TEST(entries_and_aggregated)
{
    fixture_t fx;
    fixture_init(&fx);
    json_t *doc = render(&fx, 0);
    json_t *entries = json_object_get(doc, "entries");
    /* Every endpoint, the uncalled one too; Aggregated apart. */
    CHECK_INT(json_array_size(entries), 2);
    json_t *a = json_array_get(entries, 0);
    CHECK_STR(str(a, "method"), "GET");
    CHECK_STR(str(a, "name"), "/a");
    CHECK_INT(json_integer_value(json_object_get(a, "requests")), 8);
    CHECK_INT(json_integer_value(json_object_get(a, "failures")), 2);
    CHECK(near(json_object_get(a, "fail_ratio"), 0.25));
    CHECK(near(json_object_get(a, "min_ms"), 0.5));
    CHECK(near(json_object_get(a, "avg_ms"), 2.5));
    CHECK(near(json_object_get(a, "max_ms"), 9));
    CHECK(near(json_object_get(a, "median_ms"), 1));
    json_t *p = json_object_get(a, "percentiles_ms");
    CHECK_INT(json_object_size(p), SNAP_NPCT);
    CHECK(near(json_object_get(p, "50"), 1));
    CHECK(near(json_object_get(p, "95"), 6));
    CHECK(near(json_object_get(p, "99.99"), 10));
    CHECK(near(json_object_get(p, "100"), 11));
    CHECK_INT(json_integer_value(json_object_get(a, "content_bytes")), 800);
    CHECK(near(json_object_get(a, "avg_content_size"), 100));
    CHECK(near(json_object_get(a, "rps"), 2));
    CHECK(near(json_object_get(a, "fails_per_s"), 0.5));
    CHECK(near(json_object_get(a, "current_rps"), 1.5));
    CHECK(near(json_object_get(a, "current_fails_per_s"), 0.25));

    json_t *never = json_array_get(entries, 1);
    CHECK_STR(str(never, "name"), "/never");
    CHECK_INT(json_integer_value(json_object_get(never, "requests")), 0);
    CHECK(near(json_object_get(never, "fail_ratio"), 0));
    CHECK(json_is_null(json_object_get(never, "min_ms")));
    CHECK(json_is_null(json_object_get(never, "median_ms")));
    CHECK(json_is_null(json_object_get(json_object_get(never, "percentiles_ms"), "95")));
    CHECK(near(json_object_get(never, "avg_content_size"), 0));

    json_t *agg = json_object_get(doc, "aggregated");
    CHECK_STR(str(agg, "method"), "");
    CHECK_STR(str(agg, "name"), "Aggregated");
    CHECK_INT(json_integer_value(json_object_get(agg, "requests")), 8);
    json_decref(doc);
    plan_free(&fx.plan);
}

TEST(failures_history_events_checks)
{
    fixture_t fx;
    fixture_init(&fx);
    json_t *doc = render(&fx, 0);
    json_t *fails = json_object_get(doc, "failures");
    CHECK_INT(json_array_size(fails), 1);
    json_t *f = json_array_get(fails, 0);
    CHECK_STR(str(f, "error"), "HTTP 500: \"oops\"");
    CHECK_INT(json_integer_value(json_object_get(f, "occurrences")), 2);
    CHECK_STR(str(f, "first_seen"), "2024-05-01T12:00:01.500Z");
    CHECK_STR(str(f, "last_seen"), "2024-05-01T12:00:02.000Z");

    json_t *hist = json_object_get(doc, "history");
    CHECK_INT(json_array_size(hist), 2);
    json_t *h = json_array_get(hist, 1);
    CHECK_INT(json_integer_value(json_object_get(h, "t")), 3);
    CHECK_INT(json_integer_value(json_object_get(h, "span_s")), 2);
    CHECK_INT(json_integer_value(json_object_get(h, "users")), 10);
    CHECK(near(json_object_get(h, "rps"), 8));
    CHECK(near(json_object_get(h, "p50_ms"), 2.5));
    CHECK(near(json_object_get(h, "p95_ms"), 8));

    json_t *ev = json_object_get(doc, "events");
    CHECK_INT(json_array_size(ev), 2);
    CHECK_STR(str(json_array_get(ev, 0), "kind"), "target_users");
    CHECK(near(json_object_get(json_array_get(ev, 0), "value"), 20));
    CHECK_STR(str(json_array_get(ev, 1), "kind"), "pause");
    CHECK(near(json_object_get(json_array_get(ev, 1), "t_s"), 45.5));

    json_t *checks = json_object_get(doc, "checks");
    CHECK_INT(json_array_size(checks), 2);
    json_t *c0 = json_array_get(checks, 0), *c1 = json_array_get(checks, 1);
    CHECK_STR(str(c0, "check"), "p95<300ms");
    CHECK(json_is_true(json_object_get(c0, "passed")));
    CHECK(near(json_object_get(c0, "value"), 6));      /* us in the result, ms here */
    CHECK_STR(str(c0, "unit"), "ms");
    CHECK_STR(str(c0, "measured"), "6.0ms");
    CHECK(json_is_false(json_object_get(c1, "passed")));
    CHECK(near(json_object_get(c1, "value"), 0.25));
    CHECK_STR(str(c1, "unit"), "ratio");
    json_decref(doc);
    plan_free(&fx.plan);
}

TEST(text_that_is_not_utf8)
{
    fixture_t fx;
    fixture_init(&fx);
    /* jansson refuses invalid UTF-8: the writer must still write a document. */
    fx.meta.hopperfile = "bad\xff.hopperfile";
    json_t *doc = render(&fx, 0);
    CHECK_STR(str(json_object_get(doc, "settings"), "hopperfile"), "bad?.hopperfile");
    json_decref(doc);
    plan_free(&fx.plan);
}

/* A closed run without intended starts: the load-shape fields say so, the
 * dual ones are null, the samples' raw p95 is their p95. */
TEST(closed_run_shape_fields)
{
    fixture_t fx;
    fixture_init(&fx);
    json_t *doc = render(&fx, 0);
    json_t *set = json_object_get(doc, "settings");
    CHECK_STR(str(set, "model"), "closed");
    CHECK(json_is_null(json_object_get(set, "arrival_rate")));
    CHECK(json_is_null(json_object_get(set, "max_users")));
    CHECK(json_is_null(json_object_get(set, "arrivals")));
    CHECK(json_is_array(json_object_get(set, "stages")));
    CHECK_INT(json_array_size(json_object_get(set, "stages")), 0);
    CHECK_STR(str(set, "stage_unit"), "users");
    CHECK(json_is_false(json_object_get(doc, "latency_corrected")));
    CHECK_INT(json_integer_value(json_object_get(doc, "arrivals")), 0);
    CHECK_INT(json_integer_value(json_object_get(doc, "dropped_arrivals")), 0);
    CHECK(json_is_null(json_object_get(doc, "schedule_lag")));
    CHECK(json_is_null(json_object_get(json_array_get(json_object_get(doc, "entries"), 0), "raw")));
    CHECK(json_is_null(json_object_get(json_object_get(doc, "aggregated"), "raw")));
    json_t *h = json_array_get(json_object_get(doc, "history"), 1);
    CHECK(near(json_object_get(h, "p95_raw_ms"), 8));
    CHECK(near(json_object_get(h, "lag_p99_ms"), 0));
    CHECK(near(json_object_get(h, "arrivals_per_s"), 0));
    CHECK(near(json_object_get(h, "dropped_per_s"), 0));
    json_decref(doc);
    plan_free(&fx.plan);
}

/* An open-model run with stages and intended starts: the settings from the
 * plan, corrected and raw latencies, the schedule lag, arrivals, drops, the
 * samples' new fields and the new events' names. */
TEST(open_run_with_stages)
{
    fixture_t fx;
    fixture_init(&fx);
    fx.plan.model = MODEL_OPEN;
    fx.plan.arrivals = ARRIVALS_POISSON;
    fx.plan.max_users = 0;          /* hopper's default: the run's bound is reported */
    fx.plan.stages = calloc(2, sizeof *fx.plan.stages);
    fx.plan.stages[0] = (plan_stage_t){.dur_us = 60000000, .from = 0, .to = 500, .from_set = true};
    fx.plan.stages[1] = (plan_stage_t){.dur_us = 1500000, .to = 250};
    fx.plan.n_stages = 2;
    snap_t *s = &fx.s;
    s->open = true;
    s->max_users = 400;
    s->dual = true;
    s->arrivals = 1234;
    s->dropped = 5;
    s->lag_count = 1239;
    s->lag_max_us = 4500;
    for (int i = 0; i < SNAP_NPCT; i++) {
        s->lag_pct_us[i] = (uint64_t)(i + 1) * 100;
        fx.entries[0].raw_pct_us[i] = (uint64_t)(i + 1) * 500;
    }
    fx.entries[0].raw_min_us = 250;
    fx.entries[0].raw_max_us = 6000;
    fx.entries[0].raw_avg_us = 1250;
    s->total = fx.entries[0];
    s->total.method = "";
    s->total.name = "Aggregated";
    fx.history[1].p95_raw_us = 3500;
    fx.history[1].lag_p99_us = 750;
    fx.history[1].arrivals = 20.5f;
    fx.history[1].dropped = 0.5f;
    fx.events[0] = (snap_event_t){.t_ms = 60000, .kind = EVENT_STAGE, .value = 2};
    fx.events[1] = (snap_event_t){.t_ms = 70000, .kind = EVENT_ARRIVAL_RATE, .value = 100};

    json_t *doc = render(&fx, 0);
    json_t *set = json_object_get(doc, "settings");
    CHECK_STR(str(set, "model"), "open");
    CHECK(json_is_null(json_object_get(set, "arrival_rate")));     /* stages set the rate */
    CHECK_INT(json_integer_value(json_object_get(set, "max_users")), 400);
    CHECK_STR(str(set, "arrivals"), "poisson");
    CHECK_STR(str(set, "stage_unit"), "per_s");
    json_t *stages = json_object_get(set, "stages");
    CHECK_INT(json_array_size(stages), 2);
    CHECK(near(json_object_get(json_array_get(stages, 0), "duration_s"), 60));
    CHECK(near(json_object_get(json_array_get(stages, 0), "from"), 0));
    CHECK(near(json_object_get(json_array_get(stages, 0), "to"), 500));
    CHECK(near(json_object_get(json_array_get(stages, 1), "duration_s"), 1.5));
    CHECK(json_is_null(json_object_get(json_array_get(stages, 1), "from")));
    CHECK(near(json_object_get(json_array_get(stages, 1), "to"), 250));

    CHECK(json_is_true(json_object_get(doc, "latency_corrected")));
    CHECK_INT(json_integer_value(json_object_get(doc, "arrivals")), 1234);
    CHECK_INT(json_integer_value(json_object_get(doc, "dropped_arrivals")), 5);
    json_t *lag = json_object_get(doc, "schedule_lag");
    CHECK_INT(json_integer_value(json_object_get(lag, "count")), 1239);
    CHECK(near(json_object_get(lag, "median_ms"), 0.1));
    CHECK(near(json_object_get(lag, "p99_ms"), 0.8));
    CHECK(near(json_object_get(lag, "max_ms"), 4.5));
    CHECK_INT(json_object_size(json_object_get(lag, "percentiles_ms")), SNAP_NPCT);
    CHECK(near(json_object_get(json_object_get(lag, "percentiles_ms"), "99.9"), 0.9));

    /* Main fields corrected, raw beside them, with the same keys. */
    json_t *a = json_array_get(json_object_get(doc, "entries"), 0);
    CHECK(near(json_object_get(a, "median_ms"), 1));
    json_t *raw = json_object_get(a, "raw");
    CHECK(near(json_object_get(raw, "min_ms"), 0.25));
    CHECK(near(json_object_get(raw, "avg_ms"), 1.25));
    CHECK(near(json_object_get(raw, "max_ms"), 6));
    CHECK(near(json_object_get(raw, "median_ms"), 0.5));
    CHECK(near(json_object_get(json_object_get(raw, "percentiles_ms"), "99"), 4));
    CHECK_INT(json_object_size(json_object_get(raw, "percentiles_ms")), SNAP_NPCT);
    /* The uncalled endpoint: raw times null, as its main ones are. */
    json_t *never_raw = json_object_get(json_array_get(json_object_get(doc, "entries"), 1), "raw");
    CHECK(json_is_object(never_raw));
    CHECK(json_is_null(json_object_get(never_raw, "median_ms")));
    CHECK(json_is_null(json_object_get(json_object_get(never_raw, "percentiles_ms"), "50")));
    CHECK(near(json_object_get(json_object_get(json_object_get(doc, "aggregated"), "raw"),
                               "max_ms"), 6));

    json_t *h = json_array_get(json_object_get(doc, "history"), 1);
    CHECK(near(json_object_get(h, "p95_ms"), 8));
    CHECK(near(json_object_get(h, "p95_raw_ms"), 3.5));
    CHECK(near(json_object_get(h, "lag_p99_ms"), 0.75));
    CHECK(near(json_object_get(h, "arrivals_per_s"), 20.5));
    CHECK(near(json_object_get(h, "dropped_per_s"), 0.5));

    json_t *ev = json_object_get(doc, "events");
    CHECK_STR(str(json_array_get(ev, 0), "kind"), "stage");
    CHECK(near(json_object_get(json_array_get(ev, 0), "value"), 2));
    CHECK_STR(str(json_array_get(ev, 1), "kind"), "arrival_rate");
    CHECK(near(json_object_get(json_array_get(ev, 1), "value"), 100));
    json_decref(doc);

    /* Without stages, the plan's arrival rate. */
    free(fx.plan.stages);
    fx.plan.stages = NULL;
    fx.plan.n_stages = 0;
    fx.plan.arrival_rate = 200;
    fx.plan.max_users = 50;
    fx.plan.arrivals = ARRIVALS_EVEN;
    doc = render(&fx, 0);
    set = json_object_get(doc, "settings");
    CHECK(near(json_object_get(set, "arrival_rate"), 200));
    CHECK_INT(json_integer_value(json_object_get(set, "max_users")), 50);
    CHECK_STR(str(set, "arrivals"), "even");
    CHECK_INT(json_array_size(json_object_get(set, "stages")), 0);
    json_decref(doc);
    plan_free(&fx.plan);
}

int main(void)
{
    check_prog = "report_json";
    RUN(run_fields);
    RUN(entries_and_aggregated);
    RUN(failures_history_events_checks);
    RUN(text_that_is_not_utf8);
    RUN(closed_run_shape_fields);
    RUN(open_run_with_stages);
    return check_done();
}

/* report_json: see include/report/report_json.h. */
#include "report/report_json.h"

#include <jansson.h>
#include <string.h>

#include "util/text.h"

/* A JSON string from text that may not be valid UTF-8 (an error message from
 * a server, say): jansson refuses invalid UTF-8, so fall back to a copy with
 * every non-ASCII byte replaced. */
static json_t *jstr(const char *s)
{
    json_t *j = json_string(s ? s : "");
    if (j)
        return j;
    char buf[1024];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof buf; i++)
        buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    buf[i] = '\0';
    return json_string(buf);
}

static json_t *iso_time(double unix_s)
{
    if (unix_s <= 0)
        return json_null();
    char buf[64];
    return json_string(text_utc_ms(unix_s, buf, sizeof buf));
}

static json_t *ms(double us)
{
    return json_real(us / 1000.0);
}

/* The percentiles of a row, or of the lag: {"50": ms, ..., "100": ms}. */
static json_t *percentiles(const uint64_t *pct_us, bool any)
{
    json_t *p = json_object();
    for (int i = 0; i < SNAP_NPCT; i++) {
        char key[16];
        snprintf(key, sizeof key, "%.*s", (int)strlen(snap_pct_label[i]) - 1, snap_pct_label[i]);
        json_object_set_new(p, key, any ? ms((double)pct_us[i]) : json_null());
    }
    return p;
}

/* An entry's raw latencies (from the send): null unless the run has
 * intended starts, whose main fields are then the corrected ones. */
static json_t *entry_raw(const snap_entry_t *e, bool dual)
{
    if (!dual)
        return json_null();
    bool any = snap_row_has_times(e);
    json_t *o = json_object();
    json_object_set_new(o, "min_ms", any ? ms((double)e->raw_min_us) : json_null());
    json_object_set_new(o, "avg_ms", any ? ms(e->raw_avg_us) : json_null());
    json_object_set_new(o, "max_ms", any ? ms((double)e->raw_max_us) : json_null());
    json_object_set_new(o, "median_ms", any ? ms((double)e->raw_pct_us[SNAP_P50]) : json_null());
    json_object_set_new(o, "percentiles_ms", percentiles(e->raw_pct_us, any));
    return o;
}

/* The responses per HTTP status code: {"200": n, "503": m}, the codes the
 * snapshot keeps (snapshot.h), with "other" for the rest when there are any. */
static json_t *status_codes(const snap_entry_t *e)
{
    json_t *o = json_object();
    for (unsigned i = 0; i < e->n_codes; i++) {
        char key[8];
        snprintf(key, sizeof key, "%u", (unsigned)e->codes[i].code);
        json_object_set_new(o, key, json_integer((json_int_t)e->codes[i].count));
    }
    if (e->codes_other)
        json_object_set_new(o, "other", json_integer((json_int_t)e->codes_other));
    return o;
}

static json_t *entry(const snap_entry_t *e, bool dual)
{
    json_t *o = json_object();
    json_object_set_new(o, "method", jstr(e->method));
    json_object_set_new(o, "name", jstr(e->name));
    json_object_set_new(o, "requests", json_integer((json_int_t)e->requests));
    json_object_set_new(o, "failures", json_integer((json_int_t)e->failures));
    json_object_set_new(o, "fail_ratio",
                        json_real(e->requests ? (double)e->failures / (double)e->requests : 0));
    bool any = snap_row_has_times(e);
    json_object_set_new(o, "min_ms", any ? ms((double)e->min_us) : json_null());
    json_object_set_new(o, "avg_ms", any ? ms(e->avg_us) : json_null());
    json_object_set_new(o, "max_ms", any ? ms((double)e->max_us) : json_null());
    json_object_set_new(o, "median_ms", any ? ms((double)e->pct_us[SNAP_P50]) : json_null());
    json_object_set_new(o, "percentiles_ms", percentiles(e->pct_us, any));
    json_object_set_new(o, "content_bytes", json_integer((json_int_t)e->content_bytes));
    json_object_set_new(o, "avg_content_size",
                        json_real(any ? (double)e->content_bytes / (double)e->requests : 0));
    json_object_set_new(o, "rps", json_real(e->total_rps));
    json_object_set_new(o, "fails_per_s", json_real(e->total_fps));
    json_object_set_new(o, "current_rps", json_real(e->cur_rps));
    json_object_set_new(o, "current_fails_per_s", json_real(e->cur_fps));
    json_object_set_new(o, "raw", entry_raw(e, dual));
    json_object_set_new(o, "status_codes", status_codes(e));
    return o;
}

/* The schedule lag: null unless the run has intended starts. */
static json_t *schedule_lag(const snap_t *s)
{
    if (!s->dual)
        return json_null();
    bool any = s->lag_count > 0;
    json_t *o = json_object();
    json_object_set_new(o, "count", json_integer((json_int_t)s->lag_count));
    json_object_set_new(o, "median_ms", any ? ms((double)s->lag_pct_us[SNAP_P50]) : json_null());
    json_object_set_new(o, "p99_ms", any ? ms((double)s->lag_pct_us[SNAP_P99]) : json_null());
    json_object_set_new(o, "max_ms", any ? ms((double)s->lag_max_us) : json_null());
    json_object_set_new(o, "percentiles_ms", percentiles(s->lag_pct_us, any));
    return o;
}

/* The load shape's settings, from the plan as the run used it. max-users
 * left to hopper's default (0 in the plan) is the bound the run had. */
static void shape_settings(json_t *set, const plan_t *plan, const snap_t *s)
{
    bool open = plan->model == MODEL_OPEN;
    json_object_set_new(set, "model", json_string(open ? "open" : "closed"));
    json_object_set_new(set, "arrival_rate", open && plan->n_stages == 0
                                                 ? json_real(plan->arrival_rate) : json_null());
    uint64_t max_users = plan->max_users ? plan->max_users : s->max_users;
    json_object_set_new(set, "max_users", open ? json_integer((json_int_t)max_users)
                                               : json_null());
    json_object_set_new(set, "arrivals", open ? json_string(plan->arrivals == ARRIVALS_POISSON
                                                                ? "poisson" : "even")
                                              : json_null());
    json_t *stages = json_array();
    for (size_t i = 0; i < plan->n_stages; i++) {
        const plan_stage_t *st = &plan->stages[i];
        json_t *o = json_object();
        json_object_set_new(o, "duration_s", json_real((double)st->dur_us / 1e6));
        json_object_set_new(o, "from", st->from_set ? json_real(st->from) : json_null());
        json_object_set_new(o, "to", json_real(st->to));
        json_array_append_new(stages, o);
    }
    json_object_set_new(set, "stages", stages);
    json_object_set_new(set, "stage_unit", json_string(open ? "per_s" : "users"));
}

/* A sequence's requests, in order. */
static json_t *json_steps(const plan_task_t *t)
{
    json_t *a = json_array();
    for (size_t k = 0; k < t->n_steps; k++) {
        const plan_step_t *st = &t->steps[k];
        json_t *o = json_object();
        json_object_set_new(o, "method", jstr(st->method));
        json_object_set_new(o, "target", jstr(st->target));
        json_object_set_new(o, "name", jstr(st->name));
        json_array_append_new(a, o);
    }
    return a;
}

static const char *event_name(event_kind_t k)
{
    switch (k) {
    case EVENT_TARGET_USERS: return "target_users";
    case EVENT_SPAWN_RATE: return "spawn_rate";
    case EVENT_PAUSE: return "pause";
    case EVENT_RESET_STATS: return "reset_stats";
    case EVENT_STOP: return "stop";
    case EVENT_ARRIVAL_RATE: return "arrival_rate";
    case EVENT_STAGE: return "stage";
    }
    return "unknown";
}

int report_json_write(FILE *f, const snap_t *s, const report_meta_t *m, int exit_status)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "version", json_integer(REPORT_JSON_VERSION));
    json_object_set_new(doc, "hopper", jstr(m->version));

    json_t *set = json_object();
    char wait[64];
    json_object_set_new(set, "host", jstr(m->host));
    json_object_set_new(set, "hopperfile", jstr(m->hopperfile));
    json_object_set_new(set, "users", json_integer((json_int_t)m->users));
    json_object_set_new(set, "spawn_rate", json_real(m->spawn_rate));
    json_object_set_new(set, "run_time_s", m->run_time_us ? json_real((double)m->run_time_us / 1e6) : json_null());
    json_object_set_new(set, "wait", jstr(plan_wait_describe(&m->plan->wait, wait, sizeof wait)));
    json_object_set_new(set, "timeout_s", json_real((double)m->plan->timeout_us / 1e6));
    json_t *tasks = json_array();
    for (size_t i = 0; i < m->plan->n_tasks; i++) {
        const plan_task_t *t = &m->plan->tasks[i];
        json_t *o = json_object();
        json_object_set_new(o, "task", jstr(t->id));
        /* The first step's request at the task's level, as before tasks had
         * steps; every step under "steps". */
        json_object_set_new(o, "method", jstr(t->steps[0].method));
        json_object_set_new(o, "target", jstr(t->steps[0].target));
        json_object_set_new(o, "name", jstr(t->steps[0].name));
        json_object_set_new(o, "weight", json_integer(t->weight));
        json_object_set_new(o, "steps", json_steps(t));
        json_array_append_new(tasks, o);
    }
    json_object_set_new(set, "tasks", tasks);
    json_object_set_new(set, "on_start", json_steps(&m->plan->on_start));
    json_object_set_new(set, "on_stop", json_steps(&m->plan->on_stop));
    shape_settings(set, m->plan, s);
    json_object_set_new(doc, "settings", set);

    json_object_set_new(doc, "start", iso_time(s->start_unix));
    json_object_set_new(doc, "end", iso_time(m->end_unix));
    json_object_set_new(doc, "duration_s", json_real((double)s->elapsed_ms / 1000.0));
    json_object_set_new(doc, "stats_duration_s", json_real((double)s->stats_ms / 1000.0));
    json_object_set_new(doc, "peak_users", json_integer((json_int_t)s->peak_users));
    json_object_set_new(doc, "retries", json_integer((json_int_t)s->retries));
    json_object_set_new(doc, "tls_handshakes", json_integer((json_int_t)s->tls_handshakes));
    json_object_set_new(doc, "tls_resumed", json_integer((json_int_t)s->tls_resumed));
    json_object_set_new(doc, "not_logged_in", json_integer((json_int_t)s->not_logged_in));
    json_object_set_new(doc, "data_exhausted", json_integer((json_int_t)s->data_exhausted));
    json_object_set_new(doc, "cancelled_requests", json_integer((json_int_t)s->cancelled));
    json_object_set_new(doc, "drained_requests", json_integer((json_int_t)s->drained));
    json_object_set_new(doc, "latency_corrected", json_boolean(s->dual));
    json_object_set_new(doc, "arrivals", json_integer((json_int_t)s->arrivals));
    json_object_set_new(doc, "dropped_arrivals", json_integer((json_int_t)s->dropped));
    json_object_set_new(doc, "schedule_lag", schedule_lag(s));

    json_t *entries = json_array(), *aggregated = NULL;
    for (size_t i = 0; i < snap_row_count(s); i++) {
        if (snap_row_is_total(s, i))
            aggregated = entry(snap_row(s, i), s->dual);
        else
            json_array_append_new(entries, entry(snap_row(s, i), s->dual));
    }
    json_object_set_new(doc, "entries", entries);
    json_object_set_new(doc, "aggregated", aggregated);

    json_t *fails = json_array();
    for (size_t i = 0; i < s->n_errors; i++) {
        const snap_error_t *e = &s->errors[i];
        json_t *o = json_object();
        /* Sanitised when it was recorded (stats); a fixed array: bound it. */
        char err[SNAP_ERROR_TEXT + 1];
        memcpy(err, e->error, SNAP_ERROR_TEXT);
        err[SNAP_ERROR_TEXT] = '\0';
        json_object_set_new(o, "method", jstr(e->method));
        json_object_set_new(o, "name", jstr(e->name));
        json_object_set_new(o, "error", jstr(err));
        json_object_set_new(o, "occurrences", json_integer((json_int_t)e->count));
        json_object_set_new(o, "first_seen", iso_time(e->first_seen));
        json_object_set_new(o, "last_seen", iso_time(e->last_seen));
        json_array_append_new(fails, o);
    }
    json_object_set_new(doc, "failures", fails);

    json_t *hist = json_array();
    for (size_t i = 0; i < s->n_history; i++) {
        const snap_sample_t *x = &s->history[i];
        json_t *o = json_object();
        json_object_set_new(o, "t", json_integer(x->t));
        json_object_set_new(o, "span_s", json_integer(x->span));
        json_object_set_new(o, "users", json_integer(x->users));
        json_object_set_new(o, "rps", json_real(x->rps));
        json_object_set_new(o, "fails_per_s", json_real(x->fps));
        json_object_set_new(o, "p50_ms", ms(x->p50_us));
        json_object_set_new(o, "p95_ms", ms(x->p95_us));
        /* Without intended starts there is one latency (snapshot.h). */
        json_object_set_new(o, "p95_raw_ms", ms(s->dual ? x->p95_raw_us : x->p95_us));
        json_object_set_new(o, "lag_p99_ms", ms(x->lag_p99_us));
        json_object_set_new(o, "arrivals_per_s", json_real(x->arrivals));
        json_object_set_new(o, "dropped_per_s", json_real(x->dropped));
        json_array_append_new(hist, o);
    }
    json_object_set_new(doc, "history", hist);

    json_t *events = json_array();
    for (size_t i = 0; i < s->n_events; i++) {
        const snap_event_t *e = &s->events[i];
        json_t *o = json_object();
        json_object_set_new(o, "t_s", json_real((double)e->t_ms / 1000.0));
        json_object_set_new(o, "kind", json_string(event_name(e->kind)));
        json_object_set_new(o, "value", json_real(e->value));
        json_array_append_new(events, o);
    }
    json_object_set_new(doc, "events", events);

    json_t *checks = json_array();
    bool all_passed = true;
    for (size_t i = 0; i < m->n_checks; i++) {
        const check_result_t *r = &m->checks[i];
        json_t *o = json_object();
        json_object_set_new(o, "check", jstr(r->check->text));
        json_object_set_new(o, "passed", json_boolean(r->passed));
        json_object_set_new(o, "evaluated", json_boolean(r->evaluated));
        /* Times in ms, like every other time in the document. */
        bool time = r->check->metric == METRIC_PERCENTILE || r->check->metric == METRIC_AVG ||
                    r->check->metric == METRIC_MIN || r->check->metric == METRIC_MAX;
        json_object_set_new(o, "value", r->evaluated ? json_real(time ? r->value / 1000.0 : r->value)
                                                     : json_null());
        json_object_set_new(o, "unit", json_string(time ? "ms" : r->check->metric == METRIC_FAIL_RATIO
                                                                  ? "ratio" : r->check->metric == METRIC_RPS
                                                                  ? "per_s" : "count"));
        json_object_set_new(o, "measured", jstr(r->measured));
        json_array_append_new(checks, o);
        all_passed = all_passed && r->passed;
    }
    json_object_set_new(doc, "checks", checks);

    json_t *result = json_object();
    json_object_set_new(result, "requests", json_integer((json_int_t)s->total.requests));
    json_object_set_new(result, "failures", json_integer((json_int_t)s->total.failures));
    json_object_set_new(result, "checks_passed", json_boolean(all_passed));
    json_object_set_new(result, "exit_status", json_integer(exit_status));
    json_object_set_new(doc, "result", result);

    int rc = json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (rc == 0 && fputc('\n', f) == EOF)
        rc = -1;
    if (fflush(f) != 0)
        rc = -1;
    return rc;
}

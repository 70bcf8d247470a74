/* prom: see include/metrics/prom.h. */
#include "metrics/prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "util/text.h"
#include "util/xalloc.h"

/* The percentiles exported as quantiles: indexes into pct_us, with the
 * label Prometheus' own summaries would write. */
static const struct {
    unsigned pct;
    const char *label;
} quantiles[] = {{0, "0.5"}, {4, "0.9"}, {5, "0.95"}, {7, "0.99"}, {8, "0.999"}};

static void reserve(prom_buf_t *b, size_t more)
{
    if (b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

static void put(prom_buf_t *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(prom_buf_t *b, const char *s) { put(b, s, strlen(s)); }

static void putf(prom_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(prom_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void prom_label_value(prom_buf_t *b, const char *v)
{
    size_t n = strlen(v);
    for (size_t i = 0; i < n;) {
        size_t k = text_utf8_len(v + i, n - i);
        if (k == 0) {
            /* Prometheus refuses a scrape with a label that is not UTF-8. */
            put(b, "?", 1);
            i++;
            continue;
        }
        if (v[i] == '\\')
            put(b, "\\\\", 2);
        else if (v[i] == '"')
            put(b, "\\\"", 2);
        else if (v[i] == '\n')
            put(b, "\\n", 2);
        else
            put(b, v + i, k);
        i += k;
    }
}

/* A family's header: every family has both lines. */
static void family(prom_buf_t *b, const char *name, const char *type, const char *help)
{
    putf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Microseconds as seconds, exactly ("0.0025", "1", "60"): the same text Go's
 * client libraries write for a bucket bound, since an le label is compared
 * as text. */
static void put_seconds_us(prom_buf_t *b, uint64_t us)
{
    char frac[8];
    snprintf(frac, sizeof frac, "%06" PRIu64, us % 1000000);
    size_t n = 6;
    while (n > 0 && frac[n - 1] == '0')
        n--;
    frac[n] = '\0';
    putf(b, "%" PRIu64 "%s%s", us / 1000000, n ? "." : "", frac);
}

static void put_double(prom_buf_t *b, double v)
{
    if (isnan(v))
        puts_(b, "NaN");
    else if (isinf(v))
        puts_(b, v > 0 ? "+Inf" : "-Inf");
    else
        putf(b, "%.10g", v);
}

/* name{method="...",name="..."  (the caller closes the brace) */
static void open_endpoint(prom_buf_t *b, const char *metric, const snap_entry_t *e)
{
    putf(b, "%s{method=\"", metric);
    prom_label_value(b, e->method);
    puts_(b, "\",name=\"");
    prom_label_value(b, e->name);
    puts_(b, "\"");
}

/* One counter per endpoint, read from the row by get. */
static void endpoint_counter(prom_buf_t *b, const snap_t *s, const char *metric, const char *help,
                             uint64_t (*get)(const snap_entry_t *))
{
    family(b, metric, "counter", help);
    for (size_t i = 0; i < s->n_entries; i++) {
        open_endpoint(b, metric, &s->entries[i]);
        putf(b, "} %" PRIu64 "\n", get(&s->entries[i]));
    }
}

static uint64_t get_requests(const snap_entry_t *e) { return e->requests; }
static uint64_t get_failures(const snap_entry_t *e) { return e->failures; }
static uint64_t get_bytes(const snap_entry_t *e) { return e->content_bytes; }

static void responses(prom_buf_t *b, const snap_t *s)
{
    family(b, "hopper_responses_total", "counter",
           "Responses received per endpoint and HTTP status code (a request that got no "
           "response has none); code=\"other\" sums the codes outside 100..599 and, when an "
           "endpoint sees more than " HOPPER_STR(SNAP_CODES) " distinct codes, those past "
           "its " HOPPER_STR(SNAP_CODES) " most frequent (then a count can move between a "
           "code and \"other\").");
    for (size_t i = 0; i < s->n_entries; i++) {
        const snap_entry_t *e = &s->entries[i];
        unsigned n = e->n_codes < SNAP_CODES ? e->n_codes : SNAP_CODES;
        for (unsigned c = 0; c < n; c++) {
            open_endpoint(b, "hopper_responses_total", e);
            putf(b, ",code=\"%u\"} %" PRIu64 "\n", e->codes[c].code, e->codes[c].count);
        }
        if (e->codes_other) {
            open_endpoint(b, "hopper_responses_total", e);
            putf(b, ",code=\"other\"} %" PRIu64 "\n", e->codes_other);
        }
    }
}

static void histogram(prom_buf_t *b, const snap_t *s)
{
    family(b, "hopper_request_duration_seconds", "histogram",
           "Response times per endpoint (from the intended start when requests have one), "
           "failures included.");
    for (size_t i = 0; i < s->n_entries; i++) {
        const snap_entry_t *e = &s->entries[i];
        /* Buckets must be cumulative and at most the count, or Prometheus'
         * histogram_quantile reads garbage; the snapshot's are, and this
         * keeps the exposition valid whatever a future change does. */
        uint64_t prev = 0;
        for (unsigned k = 0; k < SNAP_LE_N; k++) {
            uint64_t v = e->le[k] < e->requests ? e->le[k] : e->requests;
            if (v < prev)
                v = prev;
            prev = v;
            open_endpoint(b, "hopper_request_duration_seconds_bucket", e);
            puts_(b, ",le=\"");
            put_seconds_us(b, snap_le_us[k]);
            putf(b, "\"} %" PRIu64 "\n", v);
        }
        open_endpoint(b, "hopper_request_duration_seconds_bucket", e);
        putf(b, ",le=\"+Inf\"} %" PRIu64 "\n", e->requests);
        open_endpoint(b, "hopper_request_duration_seconds_sum", e);
        puts_(b, "} ");
        put_seconds_us(b, e->sum_us);
        puts_(b, "\n");
        open_endpoint(b, "hopper_request_duration_seconds_count", e);
        putf(b, "} %" PRIu64 "\n", e->requests);
    }
}

/* A summary's samples for one row: its quantiles (NaN before the row's
 * first request, as Prometheus' own clients write an empty summary), then
 * _sum and _count. labels: the row's endpoint labels, or NULL for none. */
static void summary_rows(prom_buf_t *b, const char *metric, const snap_entry_t *e,
                         bool labels)
{
    char name[96];
    for (size_t q = 0; q < sizeof quantiles / sizeof quantiles[0]; q++) {
        if (labels) {
            open_endpoint(b, metric, e);
            putf(b, ",quantile=\"%s\"} ", quantiles[q].label);
        } else {
            putf(b, "%s{quantile=\"%s\"} ", metric, quantiles[q].label);
        }
        if (snap_row_has_times(e))
            put_seconds_us(b, e->pct_us[quantiles[q].pct]);
        else
            puts_(b, "NaN");
        puts_(b, "\n");
    }
    snprintf(name, sizeof name, "%s_sum", metric);
    if (labels) {
        open_endpoint(b, name, e);
        puts_(b, "} ");
    } else {
        putf(b, "%s ", name);
    }
    put_seconds_us(b, e->sum_us);
    puts_(b, "\n");
    snprintf(name, sizeof name, "%s_count", metric);
    if (labels) {
        open_endpoint(b, name, e);
        puts_(b, "} ");
    } else {
        putf(b, "%s ", name);
    }
    putf(b, "%" PRIu64 "\n", e->requests);
}

/* The exact percentiles of the tables as summaries: per endpoint, and the
 * Aggregated row's in a family of its own, so that sum() over the
 * per-endpoint family is the total and counts nothing twice. */
static void summaries(prom_buf_t *b, const snap_t *s)
{
    family(b, "hopper_request_latency_seconds", "summary",
           "Response time percentiles per endpoint since the start or the last statistics "
           "reset, as hopper's tables show them (exact, from the same histogram).");
    for (size_t i = 0; i < s->n_entries; i++)
        summary_rows(b, "hopper_request_latency_seconds", &s->entries[i], true);
    family(b, "hopper_aggregated_latency_seconds", "summary",
           "Response time percentiles of every request (the tables' Aggregated row).");
    summary_rows(b, "hopper_aggregated_latency_seconds", &s->total, false);
}

static void gauge_u64(prom_buf_t *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "gauge", help);
    putf(b, "%s %" PRIu64 "\n", name, v);
}

static void gauge_double(prom_buf_t *b, const char *name, const char *help, double v)
{
    family(b, name, "gauge", help);
    putf(b, "%s ", name);
    put_double(b, v);
    puts_(b, "\n");
}

static void counter_u64(prom_buf_t *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    putf(b, "%s %" PRIu64 "\n", name, v);
}

/* A run state's name as a label value: "ramping up" -> "ramping_up". */
static void state_label(prom_buf_t *b, run_state_t st)
{
    for (const char *p = snap_state_name(st); *p; p++)
        put(b, *p == ' ' ? "_" : p, 1);
}

static void run_state(prom_buf_t *b, const snap_t *s)
{
    family(b, "hopper_run_state", "gauge",
           "1 for the state the run is in, 0 for the others.");
    for (int st = RUN_STARTING; st <= RUN_DONE; st++) {
        puts_(b, "hopper_run_state{state=\"");
        state_label(b, (run_state_t)st);
        putf(b, "\"} %d\n", s->state == (run_state_t)st);
    }
}

static void process_label(prom_buf_t *b, const char *metric, unsigned worker)
{
    if (worker == 0)
        putf(b, "%s{process=\"main\"} ", metric);
    else
        putf(b, "%s{process=\"worker%u\"} ", metric, worker);
}

static void generator(prom_buf_t *b, const snap_t *s)
{
    unsigned n = s->n_workers < HOPPER_MAX_WORKERS ? s->n_workers : HOPPER_MAX_WORKERS;
    family(b, "hopper_cpu_ratio", "gauge",
           "CPU time the load generator's process used over the last sample, as a share of "
           "one core (process \"main\", and each worker with --workers).");
    for (unsigned w = 0; w <= n; w++) {
        const snap_worker_t *p = w == 0 ? &s->self : &s->workers[w - 1];
        process_label(b, "hopper_cpu_ratio", w);
        put_double(b, (double)p->cpu_pct / 100.0);
        puts_(b, "\n");
    }
    family(b, "hopper_loop_lag_seconds", "gauge",
           "The worst delay of the process' event loop in the last sample.");
    for (unsigned w = 0; w <= n; w++) {
        const snap_worker_t *p = w == 0 ? &s->self : &s->workers[w - 1];
        process_label(b, "hopper_loop_lag_seconds", w);
        put_double(b, (double)p->lag_ms / 1000.0);
        puts_(b, "\n");
    }
    if (n) {
        unsigned alive = 0;
        for (unsigned w = 0; w < n; w++)
            alive += s->workers[w].alive;
        gauge_u64(b, "hopper_workers_alive", "Worker processes running (--workers).", alive);
    }
}

static size_t resets(const snap_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_events; i++)
        n += s->events[i].kind == EVENT_RESET_STATS;
    return n;
}

void prom_render(const snap_t *s, prom_buf_t *b)
{
    b->len = 0;
    reserve(b, 0);
    b->data[0] = '\0';

    endpoint_counter(b, s, "hopper_requests_total",
                     "Requests completed per endpoint, failures included, since the start or "
                     "the last statistics reset.", get_requests);
    endpoint_counter(b, s, "hopper_failures_total",
                     "Requests that failed per endpoint, since the start or the last statistics "
                     "reset.", get_failures);
    endpoint_counter(b, s, "hopper_response_bytes_total",
                     "Bytes of response bodies received per endpoint.", get_bytes);
    responses(b, s);
    histogram(b, s);
    summaries(b, s);

    gauge_u64(b, "hopper_users", "Users running now.", s->users);
    gauge_u64(b, "hopper_target_users", "The number of users the run is heading for.",
              s->target_users);
    gauge_double(b, "hopper_spawn_rate", "Users started or stopped per second.", s->spawn_rate);
    gauge_u64(b, "hopper_in_flight", "Requests sent and not yet answered.", s->in_flight);
    if (s->open) {
        gauge_double(b, "hopper_arrival_rate",
                     "The open model's target arrival rate, iterations per second.",
                     s->arrival_rate);
        counter_u64(b, "hopper_arrivals_total", "Iterations the open model started.",
                    s->arrivals);
        counter_u64(b, "hopper_dropped_arrivals_total",
                    "Arrivals of the open model that found no free user and were dropped.",
                    s->dropped);
        gauge_u64(b, "hopper_pool_users", "Users in the open model's pool.", s->pool_users);
        gauge_u64(b, "hopper_max_users", "The bound of the open model's pool.", s->max_users);
    }
    family(b, "hopper_elapsed_seconds", "gauge", "Time since the run started.");
    puts_(b, "hopper_elapsed_seconds ");
    put_seconds_us(b, s->elapsed_ms * 1000);
    puts_(b, "\n");
    gauge_u64(b, "hopper_paused", "1 while the run is paused.", s->paused);
    run_state(b, s);
    generator(b, s);
    gauge_u64(b, "hopper_overloaded",
              "1 while hopper itself is the bottleneck (its CPU or its event loop).",
              s->overloaded);
    counter_u64(b, "hopper_stats_resets_total",
                "Statistics resets (the dashboard's z): each one restarts the per-endpoint "
                "counters from zero.", resets(s));
    family(b, "hopper_info", "gauge", "hopper's version and the HTTP client of the run.");
    puts_(b, "hopper_info{version=\"");
    prom_label_value(b, HOPPER_VERSION);
    puts_(b, "\",client=\"");
    prom_label_value(b, s->client ? s->client : "");
    puts_(b, "\"} 1\n");
}

void prom_buf_free(prom_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

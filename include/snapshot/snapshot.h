/* snapshot: the plain-data picture of a running test that every view reads.
 *
 * This folder is the contract between the two sides of the tree: the engine
 * side (src/engine, src/http, src/stats) writes it, the view side (src/view,
 * src/report) only reads it, and neither includes the other's headers.
 *
 * The engine fills one (engine_snapshot) whenever a view asks; the headless
 * printer, the final summary, the dashboard and the reports draw from a
 * const snapshot and never from the engine's live structures. A
 * snapshot owns its arrays and is reused from fill to fill, so refreshing one
 * allocates only when something grew. Strings of endpoint names point into the
 * plan, which outlives every snapshot. */
#ifndef HOPPER_SNAPSHOT_H
#define HOPPER_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hopper.h"

/* Locust's PERCENTILES_TO_REPORT: 50 66 75 80 90 95 98 99 99.9 99.99 100. */
#define SNAP_NPCT 11
extern const double snap_pct_fraction[SNAP_NPCT];
extern const char *const snap_pct_label[SNAP_NPCT];
#define SNAP_P50 0
#define SNAP_P95 5
#define SNAP_P99 7

#define SNAP_ERROR_TEXT 160

/* Status codes of a row: the HTTP statuses of the responses it received
 * (a request that got no response has no code; its error says why). The
 * SNAP_CODES most frequent codes are kept, sorted by code; the rest are
 * summed in codes_other. */
#define SNAP_CODES 16
typedef struct {
    uint16_t code;
    uint64_t count;
} snap_code_t;

/* Latency distribution of a row on log buckets, SNAP_DIST_PER_OCTAVE per
 * power of two: bucket 0 holds 0 us, bucket b >= 1 the latencies us with
 * 2^((b-1)/SNAP_DIST_PER_OCTAVE) <= us < 2^(b/SNAP_DIST_PER_OCTAVE) (the last
 * bucket also everything above). Coarse on purpose (19% wide): it is drawn,
 * not read for percentiles, which come from the exact histogram. */
#define SNAP_DIST_PER_OCTAVE 4
#define SNAP_DIST_BUCKETS (1 + 38 * SNAP_DIST_PER_OCTAVE)
unsigned snap_dist_bucket(uint64_t us);
/* The lowest latency of bucket b (0 for bucket 0), in us, as a double since
 * the edges fall between whole microseconds. */
double snap_dist_lower_us(unsigned b);

/* Fixed latency bounds, for monitoring systems' histograms (Prometheus
 * "le"): 1ms 2.5ms 5ms 10ms 25ms 50ms 100ms 250ms 500ms 1s 2.5s 5s 10s 30s
 * 60s. */
#define SNAP_LE_N 15
extern const uint64_t snap_le_us[SNAP_LE_N];

/* One second of one row (or, once the run is long, several merged, as
 * snap_sample_t): the drill-down's charts. */
typedef struct {
    uint32_t t;               /* seconds since start, at the end of the sample */
    uint32_t span;            /* seconds it covers */
    float rps, fps;
    uint64_t p50_us, p95_us, p99_us;   /* of the requests that finished in it */
} snap_point_t;

typedef enum {
    RUN_STARTING,     /* before the first user */
    RUN_RAMPING_UP,
    RUN_RUNNING,      /* at the target user count */
    RUN_RAMPING_DOWN,
    RUN_STOPPING,     /* no new requests; letting in-flight ones finish */
    RUN_DONE
} run_state_t;

const char *snap_state_name(run_state_t s);

/* One statistics row: (method, name) or the Aggregated row. */
typedef struct {
    const char *method;       /* "" for Aggregated */
    const char *name;
    uint64_t requests;        /* includes failures, as Locust counts */
    uint64_t failures;
    uint64_t content_bytes;   /* sum of body sizes */
    uint64_t min_us, max_us;  /* 0 when no requests */
    double avg_us;
    uint64_t pct_us[SNAP_NPCT];
    /* With intended starts (snap_t.dual), the fields above hold the latency
     * corrected to the intended start, and these the raw one (from the
     * send); without, these are a copy of the above. */
    uint64_t raw_min_us, raw_max_us;
    double raw_avg_us;
    uint64_t raw_pct_us[SNAP_NPCT];
    double cur_rps, cur_fps;     /* over the last 10 seconds of wall clock */
    double total_rps, total_fps; /* since the start (or the last reset) */
    /* Since the start (or the last reset) like the counts above: the exact
     * sum of the (corrected) latencies, and how many were at most each of
     * snap_le_us (to the histogram's resolution, 0.8%). */
    uint64_t sum_us;
    uint64_t le[SNAP_LE_N];
    snap_code_t codes[SNAP_CODES];
    unsigned n_codes;
    uint64_t codes_other;
    /* The (corrected) latency distribution: since the start (or the last
     * reset), and over the last 10 seconds (as cur_rps). */
    uint64_t dist_run[SNAP_DIST_BUCKETS];
    uint64_t dist_recent[SNAP_DIST_BUCKETS];
    /* The row's timelines, in snap_t.points: the last seconds at 1 s
     * (SNAP_ROW_RECENT at most, oldest first) and the whole run compacted
     * (SNAP_ROW_HISTORY at most); the history goes on across a reset, as
     * snap_t's. */
    uint32_t recent_at, n_recent;
    uint32_t history_at, n_history;
} snap_entry_t;

#define SNAP_ROW_RECENT 600
#define SNAP_ROW_HISTORY 512

typedef struct {
    const char *method;
    const char *name;
    char error[SNAP_ERROR_TEXT];
    uint64_t count;
    double first_seen, last_seen; /* unix time, seconds */
} snap_error_t;

/* One second of the run (or, once the run is long, several merged: see
 * history.h). rps/fps are completions in that second; p50/p95 of those. */
typedef struct {
    uint32_t t;               /* seconds since start, at the end of the sample */
    uint32_t span;            /* seconds this sample covers (1 until compacted) */
    uint32_t users;
    uint64_t p50_us, p95_us;  /* 64-bit: a second's p95 may exceed 2^32 us (71 min) */
    uint64_t p95_raw_us;      /* the raw p95 (with intended starts; else = p95_us) */
    uint64_t lag_p99_us;      /* schedule lag p99 of the sends in that second */
    float rps, fps;
    float arrivals, dropped;  /* open model: iterations started / arrivals dropped per second */
} snap_sample_t;

typedef enum {
    EVENT_TARGET_USERS,       /* value: new target */
    EVENT_SPAWN_RATE,         /* value: new rate */
    EVENT_PAUSE,              /* value: 1 paused, 0 resumed */
    EVENT_RESET_STATS,
    EVENT_STOP,
    EVENT_ARRIVAL_RATE,       /* value: new arrival rate (open model, by key) */
    EVENT_STAGE               /* value: the stage that begins (1-based) */
} event_kind_t;

/* The letter that marks an operator action on every timeline (the
 * dashboard's sparklines, the HTML charts): U target users, R spawn rate,
 * P pause/resume, Z statistics reset, S stop, A arrival rate, | a stage
 * begins. */
char snap_event_mark(event_kind_t k);

typedef struct {
    uint64_t t_ms;            /* since start */
    event_kind_t kind;
    double value;
} snap_event_t;


/* A stage of the load shape as the views show it (plan_stage_t's meaning). */
typedef struct {
    uint64_t dur_us;
    double from, to;
    bool from_set;
} snap_stage_t;

/* How one process of the load generator is doing (see health.h). */
typedef struct {
    uint64_t users;
    float cpu_pct;            /* of one core */
    float lag_ms;             /* worst event-loop lag in the last sample */
    bool alive;
} snap_worker_t;

typedef struct {
    /* Settings and state. */
    const char *host;
    run_state_t state;
    bool paused;
    uint64_t users;           /* running now */
    uint64_t peak_users;      /* the most that ran at once */
    uint64_t target_users;
    double spawn_rate;
    uint64_t elapsed_ms;      /* since start */
    uint64_t run_time_ms;     /* 0: no limit */
    uint64_t stats_ms;        /* span the statistics cover (since the last reset) */
    double start_unix;        /* wall-clock start, seconds */
    uint64_t in_flight;
    /* At the stop, requests in flight may finish for up to stop_timeout_ms
     * (0: cancelled at once): each one then either finished and is counted
     * (drained) or was cancelled when the time ran out or a second stop came
     * (cancelled: not counted, the server may or may not have answered it). */
    uint64_t stop_timeout_ms;
    uint64_t drained;         /* in flight at the stop, finished, counted */
    uint64_t cancelled;       /* in flight at the stop, cancelled, not counted */
    uint64_t spawn_failures;  /* users that could not be started */
    uint64_t out_of_fds;      /* requests that found no file descriptor (hopper's limit) */
    uint64_t out_of_ports;    /* requests that found no free local port */
    uint64_t retries;         /* idempotent requests sent again after a kept-alive connection
                               * closed without an answer: the server may have seen
                               * requests + retries */
    uint64_t tls_handshakes;  /* https, hopper's client: TLS handshakes made, and how many
                               * of them resumed a session (a user's reconnect) */
    uint64_t tls_resumed;
    uint64_t not_logged_in;   /* running users whose [on-start] has not passed yet */
    uint64_t data_exhausted;  /* iterations that found no `unique` data row left (the
                               * test stops at the first) */

    /* The generator's own health: the engine's process, and each worker
     * (with --workers; n_workers is 0 when the users run in the engine's
     * process). overloaded: hopper itself is the bottleneck now. */
    snap_worker_t self;
    snap_worker_t workers[HOPPER_MAX_WORKERS];
    unsigned n_workers;
    bool overloaded;
    const char *client;       /* "libcurl" or "native HTTP/1.1" */

    /* The load shape (hopper(1), LOAD MODELS). open: the open model, with
     * arrival_rate the target now (arrivals per second), max_users the
     * pool's bound, pool_users the users in the pool (users: those busy
     * with an iteration or their on-start). arrivals: iterations started;
     * dropped: arrivals that found no free user (never delayed, never run);
     * cur_arrival_rate and cur_drop_rate over the last 10 s. */
    bool open;
    double arrival_rate;
    uint64_t max_users, pool_users;
    uint64_t arrivals, dropped;
    double cur_arrival_rate, cur_drop_rate;
    bool poisson;             /* arrivals = poisson */
    /* Stages (n_stages 0: none), the one running (0-based; n_stages once
     * past the last) and the time left in it; manual: a key has taken over
     * the quantity the stages drive, until the next stage begins. */
    const snap_stage_t *stages;
    size_t n_stages;
    size_t stage;
    uint64_t stage_left_ms;
    bool manual;
    /* dual: requests have an intended start (open model, wait = pacing or
     * throughput), so latencies come in two: corrected (from the intended
     * start: the entries' main fields) and raw (from the send: raw_*).
     * lag: how late the generator started what was due (schedule lag),
     * over the same span as the statistics; lag_count sends measured. */
    bool dual;
    uint64_t lag_count;
    uint64_t lag_max_us;
    uint64_t lag_pct_us[SNAP_NPCT];

    /* Statistics. entries are sorted by name then method. */
    snap_entry_t *entries;
    size_t n_entries, cap_entries;
    snap_entry_t total;       /* the Aggregated row */
    snap_error_t *errors;     /* most frequent first */
    size_t n_errors, cap_errors;

    /* Timelines. recent: the last seconds at 1 s resolution, oldest first;
     * history: the whole run, compacted to bounded length. */
    snap_sample_t *recent;
    size_t n_recent, cap_recent;
    snap_sample_t *history;
    size_t n_history, cap_history;
    snap_event_t *events;
    size_t n_events, cap_events;
    /* Every row's timelines (snap_entry_t's recent_at, history_at). */
    snap_point_t *points;
    size_t n_points, cap_points;
} snap_t;

void snap_init(snap_t *s);
void snap_free(snap_t *s);

/* The statistics rows, in the order every table shows them: each endpoint of
 * the plan, called or not (one never called is a row of zeros), then the
 * Aggregated row. Row i is valid for i < snap_row_count(s); the last is
 * the Aggregated one. Console, dashboard, CSV, JSON and HTML all walk these,
 * so every output shows the same rows:
 *
 *     for (size_t i = 0; i < snap_row_count(s); i++)
 *         draw(snap_row(s, i), snap_row_is_total(s, i));
 */
size_t snap_row_count(const snap_t *s);
const snap_entry_t *snap_row(const snap_t *s, size_t i);
bool snap_row_is_total(const snap_t *s, size_t i);

/* Whether a row has response times to show (it was called at least once):
 * a row without them shows "-", N/A or null in its time columns, and is left
 * out of the percentile tables. */
bool snap_row_has_times(const snap_entry_t *e);

/* A row's timelines (snap_entry_t.recent_at / history_at into s->points). */
static inline const snap_point_t *snap_row_recent(const snap_t *s, const snap_entry_t *e)
{
    return s->points + e->recent_at;
}
static inline const snap_point_t *snap_row_history(const snap_t *s, const snap_entry_t *e)
{
    return s->points + e->history_at;
}

/* The drain's progress while a run stops, for every status line: "stopping:
 * 3 in flight (up to 10s), 17 drained, 0 cancelled"; into buf, returned. */
const char *snap_stop_progress(const snap_t *s, char *buf, size_t len);

/* Whether hopper itself, not the server, is behind: the schedule lag's p99
 * reaches SNAP_LAG_HIGH_US and a tenth of the corrected p99. Below either,
 * hopper's own lateness is noise (the machine's scheduler, a busy loop) or
 * small next to what the server took. The summary says so in words, the
 * dashboard highlights the lag. */
#define SNAP_LAG_HIGH_US 10000
bool snap_lag_high(const snap_t *s);

/* Grows an array of the snapshot to hold n items (realloc only when needed). */
void *snap_reserve(void *arr, size_t *cap, size_t n, size_t item);

#endif

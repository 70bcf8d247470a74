/* prom: a snapshot as Prometheus' text exposition format, version 0.0.4.
 *
 * What `--metrics-listen` serves at /metrics (metrics/metrics.h does the
 * HTTP); pure: a const snapshot in, text out, so that the unit test reads
 * exactly what a scraper gets. Every family has its # HELP and # TYPE and
 * its samples together; names are prefixed hopper_. hopper(1), LIVE METRICS,
 * lists them; in short:
 *
 *   per endpoint (labels method, name):
 *     hopper_requests_total, hopper_failures_total, hopper_response_bytes_total
 *     hopper_responses_total{code}          counter; code "other": codes outside
 *         100..599, and past the SNAP_CODES most frequent (a code's series
 *         only rises while an endpoint sees at most SNAP_CODES distinct codes)
 *     hopper_request_duration_seconds       histogram, le at snap_le_us
 *     hopper_request_latency_seconds{quantile}  summary: the exact
 *         percentiles of the tables (0.5 0.9 0.95 0.99 0.999; NaN before the
 *         first request), with _sum and _count
 *   the Aggregated row: hopper_aggregated_latency_seconds{quantile}, a
 *     summary of its own (the counters leave the row out, so that sum() over
 *     an endpoint family is the total)
 *   the run: hopper_users, hopper_target_users, hopper_spawn_rate,
 *     hopper_in_flight, hopper_elapsed_seconds, hopper_paused,
 *     hopper_run_state{state} (1 for the current state, 0 for the others),
 *     hopper_overloaded, hopper_stats_resets_total, hopper_info{version,client}
 *   the open model only: hopper_arrival_rate, hopper_arrivals_total,
 *     hopper_dropped_arrivals_total, hopper_pool_users, hopper_max_users
 *   the generator (label process: "main", "worker1", ...): hopper_cpu_ratio
 *     (of one core), hopper_loop_lag_seconds; hopper_workers_alive with
 *     --workers
 *
 * The counters count since the start or the last statistics reset (the
 * dashboard's z), as every table does: a reset drops them to zero, which
 * Prometheus' rate() and increase() read as a counter reset;
 * hopper_stats_resets_total counts the resets. */
#ifndef HOPPER_PROM_H
#define HOPPER_PROM_H

#include <stddef.h>

#include "snapshot/snapshot.h"

/* The content type of the format, for the HTTP answer. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A growing text buffer; zero-initialised is empty. */
typedef struct {
    char *data;
    size_t len, cap;
} prom_buf_t;

/* Writes the exposition of s into b (replacing what b held; NUL-terminated,
 * len without the NUL). Allocates only when b must grow. */
void prom_render(const snap_t *s, prom_buf_t *b);

/* Appends v as the inside of a label value: backslash, double quote and
 * newline escaped as the format says, bytes that are not UTF-8 as '?'. */
void prom_label_value(prom_buf_t *b, const char *v);

void prom_buf_free(prom_buf_t *b);

#endif

/* wire: the messages between the engine and its worker processes.
 *
 * Each message is one frame (util/frame.h) of a wire_msg_t type on the
 * socketpair between the pool (engine side) and a worker; this module only
 * knows what each message carries and how it is laid out. Both sides are the
 * same binary, so the layout needs no versioning. A decoder returns -1 for a
 * payload of the wrong length: the other side is then not to be trusted. */
#ifndef HOPPER_WIRE_H
#define HOPPER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/runner.h"
#include "stats/stats.h"
#include "util/frame.h"

typedef enum {
    /* engine -> worker */
    WIRE_SET_USERS = 1,  /* u64 users this worker should run */
    WIRE_STOP,           /* stop: drain within the stop timeout (a second one cancels) */
    WIRE_RESET,          /* drop the statistics not yet reported */
    WIRE_EPOCH,          /* f64 the run's start, unix time; u64 how long ago it was at sending, us */
    WIRE_ARRIVALS,       /* the open model's rate from now on: an arrival_seg_t */
    /* worker -> engine */
    WIRE_REPORT = 16,    /* status, health and a statistics delta */
    WIRE_DONE,           /* stopped: the last report has been sent */
} wire_msg_t;

/* What a worker reports besides its statistics. */
typedef struct {
    runner_status_t status;
    double cpu_pct, lag_ms;
} wire_report_t;

/* Appends one message to b. */
void wire_put_empty(frame_buf_t *b, wire_msg_t type);           /* STOP, RESET, DONE: no payload */
void wire_put_users(frame_buf_t *b, uint64_t users);
void wire_put_epoch(frame_buf_t *b, double epoch_unix, uint64_t age_us);
void wire_put_arrivals(frame_buf_t *b, const arrival_seg_t *seg);
/* The report and stats_delta_take(st): st's counts are taken (and reset). */
void wire_put_report(frame_buf_t *b, const wire_report_t *r, stats_t *st);

/* Decode a payload of the given type; 0 or -1. */
int wire_get_users(const uint8_t *p, size_t len, uint64_t *users);
int wire_get_epoch(const uint8_t *p, size_t len, double *epoch_unix, uint64_t *age_us);
int wire_get_arrivals(const uint8_t *p, size_t len, arrival_seg_t *seg);
/* *delta, *delta_len: the statistics delta, for stats_delta_apply. */
int wire_get_report(const uint8_t *p, size_t len, wire_report_t *r, const uint8_t **delta, size_t *delta_len);

#endif

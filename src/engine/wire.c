/* wire: see include/engine/wire.h. */
#include "engine/wire.h"

void wire_put_empty(frame_buf_t *b, wire_msg_t type)
{
    frame_begin(b, type);
    frame_end(b);
}

void wire_put_users(frame_buf_t *b, uint64_t users)
{
    frame_begin(b, WIRE_SET_USERS);
    frame_put_u64(b, users);
    frame_end(b);
}

void wire_put_epoch(frame_buf_t *b, double epoch_unix, uint64_t age_us)
{
    frame_begin(b, WIRE_EPOCH);
    frame_put_f64(b, epoch_unix);
    frame_put_u64(b, age_us);
    frame_end(b);
}

void wire_put_arrivals(frame_buf_t *b, const arrival_seg_t *seg)
{
    frame_begin(b, WIRE_ARRIVALS);
    frame_put_u64(b, seg->t0_us);
    frame_put_u64(b, seg->dur_us);
    frame_put_f64(b, seg->r0);
    frame_put_f64(b, seg->r1);
    frame_end(b);
}

void wire_put_report(frame_buf_t *b, const wire_report_t *r, stats_t *st)
{
    frame_begin(b, WIRE_REPORT);
    frame_put_u64(b, r->status.users);
    frame_put_u64(b, r->status.in_flight);
    frame_put_u64(b, r->status.cancelled);
    frame_put_u64(b, r->status.drained);
    frame_put_u64(b, r->status.spawn_failures);
    frame_put_u64(b, r->status.out_of_fds);
    frame_put_u64(b, r->status.out_of_ports);
    frame_put_u64(b, r->status.retries);
    frame_put_u64(b, r->status.tls_handshakes);
    frame_put_u64(b, r->status.tls_resumed);
    frame_put_u64(b, r->status.not_started);
    frame_put_u64(b, r->status.data_exhausted);
    frame_put_u64(b, r->status.free_users);
    frame_put_f64(b, r->cpu_pct);
    frame_put_f64(b, r->lag_ms);
    stats_delta_take(st, b);
    frame_end(b);
}

/* A payload that is exactly what was read: nothing short, nothing left. */
static int read_whole(const frame_rd_t *r)
{
    return r->bad || r->p != r->end ? -1 : 0;
}

int wire_get_users(const uint8_t *p, size_t len, uint64_t *users)
{
    frame_rd_t r;
    frame_rd_init(&r, p, len);
    *users = frame_get_u64(&r);
    return read_whole(&r);
}

int wire_get_epoch(const uint8_t *p, size_t len, double *epoch_unix, uint64_t *age_us)
{
    frame_rd_t r;
    frame_rd_init(&r, p, len);
    *epoch_unix = frame_get_f64(&r);
    *age_us = frame_get_u64(&r);
    return read_whole(&r);
}

int wire_get_arrivals(const uint8_t *p, size_t len, arrival_seg_t *seg)
{
    frame_rd_t r;
    frame_rd_init(&r, p, len);
    seg->t0_us = frame_get_u64(&r);
    seg->dur_us = frame_get_u64(&r);
    seg->r0 = frame_get_f64(&r);
    seg->r1 = frame_get_f64(&r);
    /* Rates come from our own engine, but a NaN would stall the clock. */
    if (!(seg->r0 >= 0) || !(seg->r1 >= 0))
        return -1;
    return read_whole(&r);
}

int wire_get_report(const uint8_t *p, size_t len, wire_report_t *r, const uint8_t **delta, size_t *delta_len)
{
    frame_rd_t rd;
    frame_rd_init(&rd, p, len);
    r->status.users = frame_get_u64(&rd);
    r->status.in_flight = frame_get_u64(&rd);
    r->status.cancelled = frame_get_u64(&rd);
    r->status.drained = frame_get_u64(&rd);
    r->status.spawn_failures = frame_get_u64(&rd);
    r->status.out_of_fds = frame_get_u64(&rd);
    r->status.out_of_ports = frame_get_u64(&rd);
    r->status.retries = frame_get_u64(&rd);
    r->status.tls_handshakes = frame_get_u64(&rd);
    r->status.tls_resumed = frame_get_u64(&rd);
    r->status.not_started = frame_get_u64(&rd);
    r->status.data_exhausted = frame_get_u64(&rd);
    r->status.free_users = frame_get_u64(&rd);
    r->cpu_pct = frame_get_f64(&rd);
    r->lag_ms = frame_get_f64(&rd);
    *delta = rd.p;
    *delta_len = (size_t)(rd.end - rd.p);
    return rd.bad ? -1 : 0;
}

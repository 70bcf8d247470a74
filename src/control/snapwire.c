/* snapwire: see include/control/snapwire.h.
 *
 * A PROTO_SNAPSHOT payload is
 *
 *   u32 body length, the body, the string table
 *
 * where the string table is the strings the body names, each ended by a NUL,
 * and the body refers to one as a varint: 0 for NULL (decoded as "": the
 * views print every name), else its offset + 1. A row's timelines are its
 * own stretch of the points (rows whose timelines are left out have none):
 * the encoder lays them out again, row after row, recent then history.
 * The body holds snap_t's fields in the order of put_snapshot below:
 * integers as varints, floats as f32, doubles as f64, bools and enums as a
 * byte, arrays as a varint count and their items, a distribution as its
 * non-zero buckets (count, then gap from the previous bucket and value). */
#include "control/snapwire.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "control/proto.h"
#include "util/text.h"
#include "util/xalloc.h"
#include "varint.h"

/* ---- encoding ---- */

typedef struct {
    frame_buf_t *b;          /* the body, in the frame */
    frame_buf_t strtab;
    size_t n_points;         /* the snapshot's */
} enc_t;

static void put_str(enc_t *e, const char *s)
{
    if (!s) {
        varint_put(e->b, 0);
        return;
    }
    varint_put(e->b, (uint64_t)e->strtab.len + 1);
    frame_put_bytes(&e->strtab, s, strnlen(s, SNAPWIRE_MAX_STR));
    u8_put(&e->strtab, 0);
}

static void put_bool(frame_buf_t *b, bool v) { u8_put(b, v ? 1 : 0); }

static void put_dist(frame_buf_t *b, const uint64_t *d)
{
    unsigned nz = 0;
    for (unsigned i = 0; i < SNAP_DIST_BUCKETS; i++)
        nz += d[i] != 0;
    varint_put(b, nz);
    unsigned next = 0;
    for (unsigned i = 0; i < SNAP_DIST_BUCKETS; i++)
        if (d[i]) {
            varint_put(b, i - next);
            varint_put(b, d[i]);
            next = i + 1;
        }
}

/* A row's timelines, if they lie within the points (a snapshot that says
 * otherwise is a bug elsewhere: its row goes without, rather than crash). */
static bool sends_timelines(const snap_entry_t *x, size_t n_points)
{
    return (uint64_t)x->recent_at + x->n_recent <= n_points &&
           (uint64_t)x->history_at + x->n_history <= n_points;
}

/* with: whether this row's timelines travel; *at: where they go in the
 * points sent (moved past them). */
static void put_entry(enc_t *e, const snap_entry_t *x, bool with, uint64_t *at)
{
    with = with && sends_timelines(x, e->n_points);
    frame_buf_t *b = e->b;
    put_str(e, x->method);
    put_str(e, x->name);
    varint_put(b, x->requests);
    varint_put(b, x->failures);
    varint_put(b, x->content_bytes);
    varint_put(b, x->min_us);
    varint_put(b, x->max_us);
    frame_put_f64(b, x->avg_us);
    for (unsigned i = 0; i < SNAP_NPCT; i++)
        varint_put(b, x->pct_us[i]);
    varint_put(b, x->raw_min_us);
    varint_put(b, x->raw_max_us);
    frame_put_f64(b, x->raw_avg_us);
    for (unsigned i = 0; i < SNAP_NPCT; i++)
        varint_put(b, x->raw_pct_us[i]);
    frame_put_f64(b, x->cur_rps);
    frame_put_f64(b, x->cur_fps);
    frame_put_f64(b, x->total_rps);
    frame_put_f64(b, x->total_fps);
    varint_put(b, x->sum_us);
    for (unsigned i = 0; i < SNAP_LE_N; i++)
        varint_put(b, x->le[i]);
    unsigned nc = x->n_codes < SNAP_CODES ? x->n_codes : SNAP_CODES;
    varint_put(b, nc);
    for (unsigned i = 0; i < nc; i++) {
        varint_put(b, x->codes[i].code);
        varint_put(b, x->codes[i].count);
    }
    varint_put(b, x->codes_other);
    put_dist(b, x->dist_run);
    put_dist(b, x->dist_recent);
    uint32_t nr = with ? x->n_recent : 0, nh = with ? x->n_history : 0;
    varint_put(b, nr ? *at : 0);
    varint_put(b, nr);
    varint_put(b, nh ? *at + nr : 0);
    varint_put(b, nh);
    *at += (uint64_t)nr + nh;
}

static void put_worker(frame_buf_t *b, const snap_worker_t *w)
{
    varint_put(b, w->users);
    f32_put(b, w->cpu_pct);
    f32_put(b, w->lag_ms);
    put_bool(b, w->alive);
}

static void put_sample(frame_buf_t *b, const snap_sample_t *x)
{
    varint_put(b, x->t);
    varint_put(b, x->span);
    varint_put(b, x->users);
    varint_put(b, x->p50_us);
    varint_put(b, x->p95_us);
    varint_put(b, x->p95_raw_us);
    varint_put(b, x->lag_p99_us);
    f32_put(b, x->rps);
    f32_put(b, x->fps);
    f32_put(b, x->arrivals);
    f32_put(b, x->dropped);
}

static void put_point(frame_buf_t *b, const snap_point_t *x)
{
    varint_put(b, x->t);
    varint_put(b, x->span);
    f32_put(b, x->rps);
    f32_put(b, x->fps);
    varint_put(b, x->p50_us);
    varint_put(b, x->p95_us);
    varint_put(b, x->p99_us);
}

static int put_snapshot(frame_buf_t *b, const snap_t *s, const bool *with, bool all);

void snapwire_put_snapshot(frame_buf_t *b, const snap_t *s)
{
    (void)put_snapshot(b, s, NULL, true);
}

int snapwire_put_snapshot_rows(frame_buf_t *b, const snap_t *s, const bool *with)
{
    return put_snapshot(b, s, with, false);
}

/* all, or with[i] (NULL: none), says whether endpoint row i's timelines
 * travel; the Aggregated row's always do. */
static int put_snapshot(frame_buf_t *b, const snap_t *s, const bool *with, bool all)
{
    enc_t e = {.b = b, .n_points = s->n_points};
    frame_buf_init(&e.strtab);
    frame_begin(b, PROTO_SNAPSHOT);
    size_t body_at = b->len;
    frame_put_u32(b, 0);

    put_str(&e, s->host);
    u8_put(b, (uint8_t)s->state);
    put_bool(b, s->paused);
    varint_put(b, s->users);
    varint_put(b, s->peak_users);
    varint_put(b, s->target_users);
    frame_put_f64(b, s->spawn_rate);
    varint_put(b, s->elapsed_ms);
    varint_put(b, s->run_time_ms);
    varint_put(b, s->stats_ms);
    frame_put_f64(b, s->start_unix);
    const uint64_t counters[] = {s->in_flight, s->stop_timeout_ms, s->drained, s->cancelled,
                                 s->spawn_failures, s->out_of_fds, s->out_of_ports, s->retries,
                                 s->tls_handshakes, s->tls_resumed, s->not_logged_in,
                                 s->data_exhausted};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        varint_put(b, counters[i]);

    put_worker(b, &s->self);
    unsigned nw = s->n_workers < HOPPER_MAX_WORKERS ? s->n_workers : HOPPER_MAX_WORKERS;
    varint_put(b, nw);
    for (unsigned i = 0; i < nw; i++)
        put_worker(b, &s->workers[i]);
    put_bool(b, s->overloaded);
    put_str(&e, s->client);

    put_bool(b, s->open);
    frame_put_f64(b, s->arrival_rate);
    varint_put(b, s->max_users);
    varint_put(b, s->pool_users);
    varint_put(b, s->arrivals);
    varint_put(b, s->dropped);
    frame_put_f64(b, s->cur_arrival_rate);
    frame_put_f64(b, s->cur_drop_rate);
    put_bool(b, s->poisson);

    varint_put(b, s->n_stages);
    for (size_t i = 0; i < s->n_stages; i++) {
        varint_put(b, s->stages[i].dur_us);
        frame_put_f64(b, s->stages[i].from);
        frame_put_f64(b, s->stages[i].to);
        put_bool(b, s->stages[i].from_set);
    }
    varint_put(b, s->stage);
    varint_put(b, s->stage_left_ms);
    put_bool(b, s->manual);

    put_bool(b, s->dual);
    varint_put(b, s->lag_count);
    varint_put(b, s->lag_max_us);
    for (unsigned i = 0; i < SNAP_NPCT; i++)
        varint_put(b, s->lag_pct_us[i]);

    varint_put(b, s->n_entries);
    uint64_t at = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        put_entry(&e, &s->entries[i], all || (with && with[i]), &at);
    put_entry(&e, &s->total, true, &at);

    varint_put(b, s->n_errors);
    for (size_t i = 0; i < s->n_errors; i++) {
        const snap_error_t *x = &s->errors[i];
        put_str(&e, x->method);
        put_str(&e, x->name);
        text_put(b, x->error, SNAP_ERROR_TEXT - 1);
        varint_put(b, x->count);
        frame_put_f64(b, x->first_seen);
        frame_put_f64(b, x->last_seen);
    }
    varint_put(b, s->n_recent);
    for (size_t i = 0; i < s->n_recent; i++)
        put_sample(b, &s->recent[i]);
    varint_put(b, s->n_history);
    for (size_t i = 0; i < s->n_history; i++)
        put_sample(b, &s->history[i]);
    varint_put(b, s->n_events);
    for (size_t i = 0; i < s->n_events; i++) {
        varint_put(b, s->events[i].t_ms);
        u8_put(b, (uint8_t)s->events[i].kind);
        frame_put_f64(b, s->events[i].value);
    }
    /* The points of the rows sent, in put_entry's order. */
    varint_put(b, at);
    for (size_t i = 0; i <= s->n_entries; i++) {
        const snap_entry_t *x = i < s->n_entries ? &s->entries[i] : &s->total;
        if ((i < s->n_entries && !all && !(with && with[i])) || !sends_timelines(x, s->n_points))
            continue;
        const snap_point_t *r = snap_row_recent(s, x), *h = snap_row_history(s, x);
        for (uint32_t k = 0; k < x->n_recent; k++)
            put_point(b, &r[k]);
        for (uint32_t k = 0; k < x->n_history; k++)
            put_point(b, &h[k]);
    }

    uint32_t body_len = (uint32_t)(b->len - body_at - 4);
    for (unsigned i = 0; i < 4; i++)
        b->data[body_at + i] = (uint8_t)(body_len >> (8 * i));
    frame_put_bytes(b, e.strtab.data, e.strtab.len);
    int rc = frame_end(b);
    frame_buf_free(&e.strtab);
    return rc;
}

/* ---- decoding ---- */

typedef struct {
    frame_rd_t r;
    const char *strings;
    size_t n_strings;
} dec_t;

static void bad(dec_t *d)
{
    d->r.bad = true;
    d->r.p = d->r.end;
}

/* Never NULL: the views print every name, host and client. */
static const char *get_str(dec_t *d)
{
    uint64_t ref = varint_get(&d->r);
    if (ref == 0 || d->r.bad)
        return "";
    /* Within the table, at the start of one of its strings (the middle of
     * one could begin with half a UTF-8 character). */
    if (ref - 1 >= d->n_strings || (ref > 1 && d->strings[ref - 2] != '\0')) {
        bad(d);
        return "";
    }
    const char *s = d->strings + (ref - 1);
    /* The table ends with a NUL, so this stops within it. */
    if (strlen(s) > SNAPWIRE_MAX_STR) {
        bad(d);
        return "";
    }
    return s;
}

/* Text from the test, made safe to print where it enters the viewer
 * (util/text.h): control characters and bytes that are not UTF-8 become
 * '?', byte for byte, so lengths and offsets stay. */
static void sanitize(char *s, size_t cap)
{
    char tmp[SNAPWIRE_CHECK_TEXT > SNAP_ERROR_TEXT ? SNAPWIRE_CHECK_TEXT : SNAP_ERROR_TEXT];
    if (cap > sizeof tmp)
        cap = sizeof tmp;
    text_sanitize(s, tmp, cap);
    memcpy(s, tmp, strlen(tmp) + 1);
}

/* A count of items that take at least min_bytes each: at most max, and no
 * more than the bytes left could hold. */
static size_t get_count(dec_t *d, size_t max, size_t min_bytes)
{
    uint64_t n = varint_get(&d->r);
    size_t left = (size_t)(d->r.end - d->r.p);
    if (d->r.bad || n > max || n > left / min_bytes) {
        bad(d);
        return 0;
    }
    return (size_t)n;
}

static uint32_t get_u32v(dec_t *d)
{
    uint64_t v = varint_get(&d->r);
    if (v > UINT32_MAX)
        bad(d);
    return (uint32_t)v;
}

static void get_dist(dec_t *d, uint64_t *out)
{
    memset(out, 0, SNAP_DIST_BUCKETS * sizeof *out);
    size_t nz = get_count(d, SNAP_DIST_BUCKETS, 2);
    uint64_t next = 0;
    for (size_t i = 0; i < nz && !d->r.bad; i++) {
        uint64_t at = next + varint_get(&d->r);
        if (at < next || at >= SNAP_DIST_BUCKETS) {
            bad(d);
            return;
        }
        out[at] = varint_get(&d->r);
        next = at + 1;
    }
}

static void get_entry(dec_t *d, snap_entry_t *x)
{
    frame_rd_t *r = &d->r;
    memset(x, 0, sizeof *x);
    x->method = get_str(d);
    x->name = get_str(d);
    x->requests = varint_get(r);
    x->failures = varint_get(r);
    x->content_bytes = varint_get(r);
    x->min_us = varint_get(r);
    x->max_us = varint_get(r);
    x->avg_us = f64_get(r);
    for (unsigned i = 0; i < SNAP_NPCT; i++)
        x->pct_us[i] = varint_get(r);
    x->raw_min_us = varint_get(r);
    x->raw_max_us = varint_get(r);
    x->raw_avg_us = f64_get(r);
    for (unsigned i = 0; i < SNAP_NPCT; i++)
        x->raw_pct_us[i] = varint_get(r);
    x->cur_rps = f64_get(r);
    x->cur_fps = f64_get(r);
    x->total_rps = f64_get(r);
    x->total_fps = f64_get(r);
    x->sum_us = varint_get(r);
    for (unsigned i = 0; i < SNAP_LE_N; i++)
        x->le[i] = varint_get(r);
    x->n_codes = (unsigned)get_count(d, SNAP_CODES, 2);
    for (unsigned i = 0; i < x->n_codes; i++) {
        uint64_t code = varint_get(r);
        if (code > UINT16_MAX)
            bad(d);
        x->codes[i].code = (uint16_t)code;
        x->codes[i].count = varint_get(r);
    }
    x->codes_other = varint_get(r);
    get_dist(d, x->dist_run);
    get_dist(d, x->dist_recent);
    x->recent_at = get_u32v(d);
    x->n_recent = get_u32v(d);
    x->history_at = get_u32v(d);
    x->n_history = get_u32v(d);
    if (x->n_recent > SNAP_ROW_RECENT || x->n_history > SNAP_ROW_HISTORY)
        bad(d);
}

static void get_worker(dec_t *d, snap_worker_t *w)
{
    w->users = varint_get(&d->r);
    w->cpu_pct = f32_get(&d->r);
    w->lag_ms = f32_get(&d->r);
    w->alive = bool_get(&d->r);
}

static void get_sample(dec_t *d, snap_sample_t *x)
{
    frame_rd_t *r = &d->r;
    x->t = get_u32v(d);
    x->span = get_u32v(d);
    x->users = get_u32v(d);
    x->p50_us = varint_get(r);
    x->p95_us = varint_get(r);
    x->p95_raw_us = varint_get(r);
    x->lag_p99_us = varint_get(r);
    x->rps = f32_get(r);
    x->fps = f32_get(r);
    x->arrivals = f32_get(r);
    x->dropped = f32_get(r);
}

static void get_point(dec_t *d, snap_point_t *x)
{
    frame_rd_t *r = &d->r;
    x->t = get_u32v(d);
    x->span = get_u32v(d);
    x->rps = f32_get(r);
    x->fps = f32_get(r);
    x->p50_us = varint_get(r);
    x->p95_us = varint_get(r);
    x->p99_us = varint_get(r);
}

/* A row's timelines lie within the points. */
static bool row_points_ok(const snap_entry_t *x, size_t n_points)
{
    return (uint64_t)x->recent_at + x->n_recent <= n_points &&
           (uint64_t)x->history_at + x->n_history <= n_points;
}

void snapwire_init(snapwire_t *w)
{
    memset(w, 0, sizeof *w);
    snap_init(&w->snap);
}

void snapwire_free(snapwire_t *w)
{
    snap_free(&w->snap);
    free(w->strings);
    free(w->stages);
    snapwire_init(w);
}

/* After a refusal: empty, but every array still owned and reusable. */
static void empty(snapwire_t *w)
{
    snap_t *s = &w->snap;
    s->host = s->client = "";
    s->stages = NULL;
    s->n_stages = s->stage = 0;
    s->n_workers = 0;
    s->n_entries = s->n_errors = s->n_recent = s->n_history = s->n_events = s->n_points = 0;
    memset(&s->total, 0, sizeof s->total);
}

static int decode(snapwire_t *w, dec_t *d)
{
    snap_t *s = &w->snap;
    frame_rd_t *r = &d->r;
    s->host = get_str(d);
    unsigned state = u8_get(r);
    if (state > RUN_DONE)
        return -1;
    s->state = (run_state_t)state;
    s->paused = bool_get(r);
    s->users = varint_get(r);
    s->peak_users = varint_get(r);
    s->target_users = varint_get(r);
    s->spawn_rate = f64_get(r);
    s->elapsed_ms = varint_get(r);
    s->run_time_ms = varint_get(r);
    s->stats_ms = varint_get(r);
    s->start_unix = f64_get(r);
    uint64_t *counters[] = {&s->in_flight, &s->stop_timeout_ms, &s->drained, &s->cancelled,
                            &s->spawn_failures, &s->out_of_fds, &s->out_of_ports, &s->retries,
                            &s->tls_handshakes, &s->tls_resumed, &s->not_logged_in,
                            &s->data_exhausted};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        *counters[i] = varint_get(r);

    get_worker(d, &s->self);
    memset(s->workers, 0, sizeof s->workers);
    size_t nw = get_count(d, HOPPER_MAX_WORKERS, 4);
    for (size_t i = 0; i < nw; i++)
        get_worker(d, &s->workers[i]);
    s->n_workers = (unsigned)nw;
    s->overloaded = bool_get(r);
    s->client = get_str(d);

    s->open = bool_get(r);
    s->arrival_rate = f64_get(r);
    s->max_users = varint_get(r);
    s->pool_users = varint_get(r);
    s->arrivals = varint_get(r);
    s->dropped = varint_get(r);
    s->cur_arrival_rate = f64_get(r);
    s->cur_drop_rate = f64_get(r);
    s->poisson = bool_get(r);

    size_t ns = get_count(d, SNAPWIRE_MAX_STAGES, 18);
    w->stages = snap_reserve(w->stages, &w->cap_stages, ns, sizeof *w->stages);
    for (size_t i = 0; i < ns; i++) {
        w->stages[i].dur_us = varint_get(r);
        w->stages[i].from = f64_get(r);
        w->stages[i].to = f64_get(r);
        w->stages[i].from_set = bool_get(r);
    }
    s->stages = ns ? w->stages : NULL;
    s->n_stages = ns;
    uint64_t stage = varint_get(r);
    if (stage > ns)
        return -1;
    s->stage = (size_t)stage;
    s->stage_left_ms = varint_get(r);
    s->manual = bool_get(r);

    s->dual = bool_get(r);
    s->lag_count = varint_get(r);
    s->lag_max_us = varint_get(r);
    for (unsigned i = 0; i < SNAP_NPCT; i++)
        s->lag_pct_us[i] = varint_get(r);

    /* A row takes over a hundred bytes; 64 is a safe floor. */
    size_t ne = get_count(d, SNAPWIRE_MAX_ROWS, 64);
    s->entries = snap_reserve(s->entries, &s->cap_entries, ne, sizeof *s->entries);
    for (size_t i = 0; i < ne && !r->bad; i++)
        get_entry(d, &s->entries[i]);
    if (r->bad)
        return -1;
    s->n_entries = ne;
    get_entry(d, &s->total);

    size_t nerr = get_count(d, SNAPWIRE_MAX_ITEMS, 20);
    s->errors = snap_reserve(s->errors, &s->cap_errors, nerr, sizeof *s->errors);
    for (size_t i = 0; i < nerr && !r->bad; i++) {
        snap_error_t *x = &s->errors[i];
        x->method = get_str(d);
        x->name = get_str(d);
        text_get(r, x->error, sizeof x->error);
        sanitize(x->error, sizeof x->error);
        x->count = varint_get(r);
        x->first_seen = f64_get(r);
        x->last_seen = f64_get(r);
    }
    if (r->bad)
        return -1;
    s->n_errors = nerr;

    size_t nr = get_count(d, SNAPWIRE_MAX_ITEMS, 23);
    s->recent = snap_reserve(s->recent, &s->cap_recent, nr, sizeof *s->recent);
    for (size_t i = 0; i < nr && !r->bad; i++)
        get_sample(d, &s->recent[i]);
    if (r->bad)
        return -1;
    s->n_recent = nr;
    size_t nh = get_count(d, SNAPWIRE_MAX_ITEMS, 23);
    s->history = snap_reserve(s->history, &s->cap_history, nh, sizeof *s->history);
    for (size_t i = 0; i < nh && !r->bad; i++)
        get_sample(d, &s->history[i]);
    if (r->bad)
        return -1;
    s->n_history = nh;

    size_t nev = get_count(d, SNAPWIRE_MAX_ITEMS, 10);
    s->events = snap_reserve(s->events, &s->cap_events, nev, sizeof *s->events);
    for (size_t i = 0; i < nev && !r->bad; i++) {
        s->events[i].t_ms = varint_get(r);
        unsigned kind = u8_get(r);
        if (kind > EVENT_STAGE)
            return -1;
        s->events[i].kind = (event_kind_t)kind;
        s->events[i].value = f64_get(r);
    }
    if (r->bad)
        return -1;
    s->n_events = nev;

    size_t max_points = (ne + 1) * (size_t)(SNAP_ROW_RECENT + SNAP_ROW_HISTORY);
    size_t np = get_count(d, max_points, 12);
    /* Never NULL, even for none: snap_row_recent adds an offset to it. */
    s->points = snap_reserve(s->points, &s->cap_points, np ? np : 1, sizeof *s->points);
    for (size_t i = 0; i < np && !r->bad; i++)
        get_point(d, &s->points[i]);
    if (r->bad || r->p != r->end)
        return -1;
    s->n_points = np;
    for (size_t i = 0; i < ne; i++)
        if (!row_points_ok(&s->entries[i], np))
            return -1;
    return row_points_ok(&s->total, np) ? 0 : -1;
}

int snapwire_get_snapshot(snapwire_t *w, const uint8_t *p, size_t n)
{
    empty(w);
    frame_rd_t head;
    frame_rd_init(&head, p, n);
    uint32_t body_len = frame_get_u32(&head);
    if (head.bad || body_len > n - 4)
        return -1;
    const uint8_t *table = p + 4 + body_len;
    size_t table_len = n - 4 - body_len;
    if (table_len > 0 && table[table_len - 1] != '\0')
        return -1;
    if (table_len > w->cap_strings) {
        w->strings = xrealloc(w->strings, table_len);
        w->cap_strings = table_len;
    }
    /* Each string of the table, sanitised on the way in (the same length:
     * the references stay valid). */
    for (size_t at = 0; at < table_len;) {
        size_t len = strlen((const char *)table + at);
        text_sanitize((const char *)table + at, w->strings + at, len + 1);
        at += len + 1;
    }
    dec_t d = {.strings = w->strings, .n_strings = table_len};
    frame_rd_init(&d.r, p + 4, body_len);
    if (decode(w, &d) != 0 || d.r.bad) {
        empty(w);
        return -1;
    }
    return 0;
}

/* ---- checks ---- */

void snapwire_checks_init(snapwire_checks_t *c)
{
    memset(c, 0, sizeof *c);
}

void snapwire_checks_free(snapwire_checks_t *c)
{
    free(c->checks);
    free(c->results);
    free(c->texts);
    snapwire_checks_init(c);
}

void snapwire_put_checks(frame_buf_t *b, const check_result_t *r, size_t n)
{
    frame_begin(b, PROTO_CHECKS);
    if (n > SNAPWIRE_MAX_CHECKS)
        n = SNAPWIRE_MAX_CHECKS;
    varint_put(b, n);
    for (size_t i = 0; i < n; i++) {
        text_put(b, r[i].check && r[i].check->text ? r[i].check->text : "",
                 SNAPWIRE_CHECK_TEXT - 1);
        put_bool(b, r[i].evaluated);
        put_bool(b, r[i].passed);
        frame_put_f64(b, r[i].value);
        text_put(b, r[i].measured, sizeof r[i].measured - 1);
    }
    frame_end(b);
}

int snapwire_get_checks(snapwire_checks_t *c, const uint8_t *p, size_t n)
{
    c->n = 0;
    dec_t d = {0};
    frame_rd_init(&d.r, p, n);
    size_t count = get_count(&d, SNAPWIRE_MAX_CHECKS, 12);
    if (d.r.bad)
        return -1;
    if (count > c->cap) {
        c->checks = xrealloc(c->checks, count * sizeof *c->checks);
        c->results = xrealloc(c->results, count * sizeof *c->results);
        c->cap = count;
    }
    /* Each text is in the payload, so the payload's size (and a NUL each)
     * holds them all. */
    size_t need = n + count + 1;
    if (need > c->cap_texts) {
        c->texts = xrealloc(c->texts, need);
        c->cap_texts = need;
    }
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        char *text = c->texts + used;
        uint64_t len = varint_get(&d.r);
        const uint8_t *at;
        if (d.r.bad || len >= SNAPWIRE_CHECK_TEXT || !frame_get_bytes(&d.r, &at, (size_t)len) ||
            memchr(at, '\0', (size_t)len))
            return -1;
        memcpy(text, at, (size_t)len);
        text[len] = '\0';
        sanitize(text, (size_t)len + 1);
        used += (size_t)len + 1;
        memset(&c->checks[i], 0, sizeof c->checks[i]);
        c->checks[i].text = text;
        check_result_t *res = &c->results[i];
        memset(res, 0, sizeof *res);
        res->check = &c->checks[i];
        res->evaluated = bool_get(&d.r);
        res->passed = bool_get(&d.r);
        res->value = f64_get(&d.r);
        text_get(&d.r, res->measured, sizeof res->measured);
        sanitize(res->measured, sizeof res->measured);
        if (d.r.bad)
            return -1;
    }
    if (d.r.p != d.r.end)
        return -1;
    c->n = count;
    return 0;
}

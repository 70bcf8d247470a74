/* test_control: the control socket (src/control): the snapshot's encoding
 * round trip field by field, what the decoders refuse, the hello and its
 * versions, commands and log lines, the path rule (stale sockets), the
 * peer rule, and a real server on a real loop: a viewer of another
 * version, an oversized or malformed frame drop that viewer only, commands
 * reach the steer_t, the socket is 0600 and goes at the end; a viewer's
 * focus brings its row's timelines into every viewer's snapshots. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"
#include "hopper.h"
#include "control/attach.h"
#include "control/control.h"
#include "control/proto.h"
#include "control/snapwire.h"
#include "util/frame.h"
#include "util/log.h"

/* ---- a snapshot with every field set, each to a different value ---- */

static uint64_t seedv = 1;
static uint64_t nextv(void)
{
    seedv = seedv * 6364136223846793005ull + 1442695040888963407ull;
    return seedv >> 11;
}
/* Mostly small numbers, some huge (all 64 bits must travel). */
static uint64_t val(void)
{
    uint64_t v = nextv();
    return v % 7 == 0 ? UINT64_MAX - v % 100 : v % 100000;
}
static double dval(void) { return (double)(nextv() % 1000000) / 7.0; }
static float fval(void) { return (float)(nextv() % 100000) / 3.0f; }

static const char *names[] = {"/status", "/api/id/tt0068646", "/api/title/The godfather/1972",
                              "/ünïcode"};
static const char *methods[] = {"GET", "POST", "PUT", "DELETE"};

static void fill_entry(snap_entry_t *e, size_t i, size_t *at, size_t n_points)
{
    memset(e, 0, sizeof *e);
    e->method = i < 4 ? methods[i] : "";
    e->name = i < 4 ? names[i] : "Aggregated";
    e->requests = val(), e->failures = val(), e->content_bytes = val();
    e->min_us = val(), e->max_us = val(), e->avg_us = dval();
    for (int k = 0; k < SNAP_NPCT; k++)
        e->pct_us[k] = val(), e->raw_pct_us[k] = val();
    e->raw_min_us = val(), e->raw_max_us = val(), e->raw_avg_us = dval();
    e->cur_rps = dval(), e->cur_fps = dval(), e->total_rps = dval(), e->total_fps = dval();
    e->sum_us = val();
    for (int k = 0; k < SNAP_LE_N; k++)
        e->le[k] = val();
    e->n_codes = (unsigned)(i % 3 == 0 ? SNAP_CODES : i + 1);
    for (unsigned k = 0; k < e->n_codes; k++)
        e->codes[k] = (snap_code_t){(uint16_t)(100 + k * 37 + i), val()};
    e->codes_other = val();
    for (int k = 0; k < SNAP_DIST_BUCKETS; k++) {
        e->dist_run[k] = k % 5 == 0 ? val() : 0;
        e->dist_recent[k] = k % 3 == 0 ? val() : 0;
    }
    e->dist_run[SNAP_DIST_BUCKETS - 1] = 12345;   /* the last bucket too */
    e->n_recent = (uint32_t)(3 + i);
    e->recent_at = (uint32_t)*at;
    *at += e->n_recent;
    e->n_history = (uint32_t)(2 + i);
    e->history_at = (uint32_t)*at;
    *at += e->n_history;
    CHECK(*at <= n_points);
}

static void fill_sample(snap_sample_t *x)
{
    x->t = (uint32_t)val(), x->span = (uint32_t)val(), x->users = (uint32_t)val();
    x->p50_us = val(), x->p95_us = val(), x->p95_raw_us = val(), x->lag_p99_us = val();
    x->rps = fval(), x->fps = fval(), x->arrivals = fval(), x->dropped = fval();
}

static snap_stage_t stages[3] = {{30000000, 0, 100, false}, {60000000, 100, 100, true},
                                 {10000000, 100, 0, false}};

static void fill_snap(snap_t *s)
{
    snap_init(s);
    s->host = "http://127.0.0.1:8082";
    s->state = RUN_RAMPING_DOWN;
    s->paused = true;
    s->users = val(), s->peak_users = val(), s->target_users = val();
    s->spawn_rate = dval();
    s->elapsed_ms = val(), s->run_time_ms = val(), s->stats_ms = val();
    s->start_unix = 1764684000.25;
    s->in_flight = val(), s->stop_timeout_ms = val(), s->drained = val(), s->cancelled = val();
    s->spawn_failures = val(), s->out_of_fds = val(), s->out_of_ports = val();
    s->retries = val(), s->tls_handshakes = val(), s->tls_resumed = val();
    s->not_logged_in = val(), s->data_exhausted = val();
    s->self = (snap_worker_t){val(), fval(), fval(), true};
    s->n_workers = 3;
    for (unsigned i = 0; i < 3; i++)
        s->workers[i] = (snap_worker_t){val(), fval(), fval(), i != 1};
    s->overloaded = true;
    s->client = "native HTTP/1.1";
    s->open = true;
    s->arrival_rate = dval();
    s->max_users = val(), s->pool_users = val(), s->arrivals = val(), s->dropped = val();
    s->cur_arrival_rate = dval(), s->cur_drop_rate = dval();
    s->poisson = true;
    s->stages = stages;
    s->n_stages = 3;
    s->stage = 1;
    s->stage_left_ms = val();
    s->manual = true;
    s->dual = true;
    s->lag_count = val(), s->lag_max_us = val();
    for (int k = 0; k < SNAP_NPCT; k++)
        s->lag_pct_us[k] = val();

    s->n_points = 100;
    s->points = snap_reserve(s->points, &s->cap_points, s->n_points, sizeof *s->points);
    for (size_t i = 0; i < s->n_points; i++)
        s->points[i] = (snap_point_t){(uint32_t)val(), (uint32_t)val(), fval(), fval(), val(), val(), val()};
    size_t at = 0;
    s->n_entries = 4;
    s->entries = snap_reserve(s->entries, &s->cap_entries, 4, sizeof *s->entries);
    for (size_t i = 0; i < 4; i++)
        fill_entry(&s->entries[i], i, &at, s->n_points);
    fill_entry(&s->total, 4, &at, s->n_points);
    /* The points the rows cover (the encoder sends only those). */
    s->n_points = at;

    s->n_errors = 2;
    s->errors = snap_reserve(s->errors, &s->cap_errors, 2, sizeof *s->errors);
    for (size_t i = 0; i < 2; i++) {
        snap_error_t *x = &s->errors[i];
        memset(x, 0, sizeof *x);
        x->method = methods[i];
        x->name = names[i];
        snprintf(x->error, sizeof x->error, "HTTP 503 Service Unavailable (%zu)", i);
        x->count = val(), x->first_seen = 1764684001.5, x->last_seen = 1764684009.75;
    }
    s->n_recent = 7;
    s->recent = snap_reserve(s->recent, &s->cap_recent, 7, sizeof *s->recent);
    for (size_t i = 0; i < 7; i++)
        fill_sample(&s->recent[i]);
    s->n_history = 5;
    s->history = snap_reserve(s->history, &s->cap_history, 5, sizeof *s->history);
    for (size_t i = 0; i < 5; i++)
        fill_sample(&s->history[i]);
    s->n_events = 7;
    s->events = snap_reserve(s->events, &s->cap_events, 7, sizeof *s->events);
    for (size_t i = 0; i < 7; i++)
        s->events[i] = (snap_event_t){val(), (event_kind_t)i, dval()};
}

/* ---- field by field ---- */

#define SAME(f) CHECK(a->f == b->f)
#define SAME_F(f) CHECK(memcmp(&a->f, &b->f, sizeof a->f) == 0)   /* bit for bit */
/* A NULL string travels as "" (the views print every name). */
#define SAME_STR(f) CHECK(b->f != NULL && strcmp(a->f ? a->f : "", b->f) == 0)

static void same_entry(const snap_entry_t *a, const snap_entry_t *b)
{
    SAME_STR(method); SAME_STR(name);
    SAME(requests); SAME(failures); SAME(content_bytes); SAME(min_us); SAME(max_us); SAME_F(avg_us);
    SAME_F(pct_us); SAME(raw_min_us); SAME(raw_max_us); SAME_F(raw_avg_us); SAME_F(raw_pct_us);
    SAME_F(cur_rps); SAME_F(cur_fps); SAME_F(total_rps); SAME_F(total_fps);
    SAME(sum_us); SAME_F(le);
    SAME(n_codes);
    for (unsigned k = 0; k < a->n_codes && k < SNAP_CODES; k++) {
        SAME(codes[k].code);
        SAME(codes[k].count);
    }
    SAME(codes_other); SAME_F(dist_run); SAME_F(dist_recent);
    SAME(recent_at); SAME(n_recent); SAME(history_at); SAME(n_history);
}

static void same_sample(const snap_sample_t *a, const snap_sample_t *b)
{
    SAME(t); SAME(span); SAME(users); SAME(p50_us); SAME(p95_us); SAME(p95_raw_us); SAME(lag_p99_us);
    SAME_F(rps); SAME_F(fps); SAME_F(arrivals); SAME_F(dropped);
}

static void same_worker(const snap_worker_t *a, const snap_worker_t *b)
{
    SAME(users); SAME_F(cpu_pct); SAME_F(lag_ms); SAME(alive);
}

static void same_snap(const snap_t *a, const snap_t *b)
{
    SAME_STR(host); SAME(state); SAME(paused); SAME(users); SAME(peak_users); SAME(target_users);
    SAME_F(spawn_rate); SAME(elapsed_ms); SAME(run_time_ms); SAME(stats_ms); SAME_F(start_unix);
    SAME(in_flight); SAME(stop_timeout_ms); SAME(drained); SAME(cancelled); SAME(spawn_failures);
    SAME(out_of_fds); SAME(out_of_ports); SAME(retries); SAME(tls_handshakes); SAME(tls_resumed);
    SAME(not_logged_in); SAME(data_exhausted);
    same_worker(&a->self, &b->self);
    SAME(n_workers);
    for (unsigned i = 0; i < a->n_workers && i < b->n_workers; i++)
        same_worker(&a->workers[i], &b->workers[i]);
    SAME(overloaded); SAME_STR(client);
    SAME(open); SAME_F(arrival_rate); SAME(max_users); SAME(pool_users); SAME(arrivals); SAME(dropped);
    SAME_F(cur_arrival_rate); SAME_F(cur_drop_rate); SAME(poisson);
    SAME(n_stages);
    for (size_t i = 0; i < a->n_stages && i < b->n_stages; i++) {
        SAME(stages[i].dur_us); SAME_F(stages[i].from); SAME_F(stages[i].to); SAME(stages[i].from_set);
    }
    SAME(stage); SAME(stage_left_ms); SAME(manual);
    SAME(dual); SAME(lag_count); SAME(lag_max_us); SAME_F(lag_pct_us);
    SAME(n_entries);
    for (size_t i = 0; i < a->n_entries && i < b->n_entries; i++)
        same_entry(&a->entries[i], &b->entries[i]);
    same_entry(&a->total, &b->total);
    SAME(n_errors);
    for (size_t i = 0; i < a->n_errors && i < b->n_errors; i++) {
        SAME_STR(errors[i].method); SAME_STR(errors[i].name);
        CHECK(strcmp(a->errors[i].error, b->errors[i].error) == 0);
        SAME(errors[i].count); SAME_F(errors[i].first_seen); SAME_F(errors[i].last_seen);
    }
    SAME(n_recent);
    for (size_t i = 0; i < a->n_recent && i < b->n_recent; i++)
        same_sample(&a->recent[i], &b->recent[i]);
    SAME(n_history);
    for (size_t i = 0; i < a->n_history && i < b->n_history; i++)
        same_sample(&a->history[i], &b->history[i]);
    SAME(n_events);
    for (size_t i = 0; i < a->n_events && i < b->n_events; i++) {
        SAME(events[i].t_ms); SAME(events[i].kind); SAME_F(events[i].value);
    }
    SAME(n_points);
    for (size_t i = 0; i < a->n_points && i < b->n_points; i++) {
        SAME(points[i].t); SAME(points[i].span); SAME_F(points[i].rps); SAME_F(points[i].fps);
        SAME(points[i].p50_us); SAME(points[i].p95_us); SAME(points[i].p99_us);
    }
}

/* The payload of the one frame in b. */
static const uint8_t *payload_of(const frame_buf_t *b, unsigned type, size_t *n)
{
    frame_in_t in;
    frame_in_init(&in);
    CHECK_INT(b->data[4], type);
    *n = b->len - FRAME_HEADER;
    return b->data + FRAME_HEADER;
}

TEST(snapshot_round_trip_field_by_field)
{
    snap_t s;
    fill_snap(&s);
    frame_buf_t b;
    frame_buf_init(&b);
    snapwire_put_snapshot(&b, &s);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_SNAPSHOT, &n);
    snapwire_t w;
    snapwire_init(&w);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    same_snap(&s, &w.snap);
    /* The decoded strings are the decoder's own, not the original's. */
    CHECK(w.snap.host != s.host);
    CHECK(w.snap.entries[1].name != s.entries[1].name);
    CHECK(snap_row_recent(&w.snap, &w.snap.entries[2])[1].p99_us ==
          snap_row_recent(&s, &s.entries[2])[1].p99_us);
    /* Decoding again into the same holder reuses it. */
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    same_snap(&s, &w.snap);

    /* NULL strings, no stages, no rows: an empty snapshot travels too. */
    snap_t empty;
    snap_init(&empty);
    b.len = 0;
    snapwire_put_snapshot(&b, &empty);
    p = payload_of(&b, PROTO_SNAPSHOT, &n);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    same_snap(&empty, &w.snap);
    CHECK(w.snap.host != NULL && w.snap.host[0] == '\0' && w.snap.stages == NULL);
    CHECK(w.snap.client != NULL && w.snap.total.method != NULL && w.snap.total.name != NULL);

    snapwire_free(&w);
    frame_buf_free(&b);
    snap_free(&s);
}

TEST(every_cut_and_corruption_is_refused_or_safe)
{
    snap_t s;
    fill_snap(&s);
    frame_buf_t b;
    frame_buf_init(&b);
    snapwire_put_snapshot(&b, &s);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_SNAPSHOT, &n);
    snapwire_t w;
    snapwire_init(&w);
    /* Every shorter payload (in an exactly sized copy, for ASan) is refused. */
    size_t refused = 0;
    for (size_t cut = 0; cut < n; cut += (cut < 200 ? 1 : 7)) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, p, cut);
        refused += snapwire_get_snapshot(&w, copy, cut) != 0;
        CHECK(w.snap.n_entries == 0 && w.snap.n_points == 0);
        free(copy);
    }
    CHECK(refused > 0);
    size_t tries = 0;
    for (size_t cut = 0; cut < n; cut += (cut < 200 ? 1 : 7))
        tries++;
    CHECK_INT(refused, tries);
    /* Every single byte flipped: refused or decoded, never a crash; a
     * decoded one's rows lie within its points. */
    uint8_t *copy = malloc(n);
    for (size_t i = 0; i < n; i += 3) {
        memcpy(copy, p, n);
        copy[i] ^= 0xa5;
        if (snapwire_get_snapshot(&w, copy, n) == 0) {
            for (size_t r = 0; r < snap_row_count(&w.snap); r++) {
                const snap_entry_t *e = snap_row(&w.snap, r);
                CHECK(e->recent_at + e->n_recent <= w.snap.n_points);
                CHECK(e->history_at + e->n_history <= w.snap.n_points);
                CHECK(e->n_codes <= SNAP_CODES);
            }
            CHECK(w.snap.stage <= w.snap.n_stages);
            CHECK(w.snap.state <= RUN_DONE);
        }
    }
    free(copy);
    snapwire_free(&w);
    frame_buf_free(&b);
    snap_free(&s);
}

/* Hand-made payloads that break one rule each. */
TEST(decoder_rules)
{
    snapwire_t w;
    snapwire_init(&w);
    snap_t s;
    snap_init(&s);
    frame_buf_t b;
    frame_buf_init(&b);
    size_t n;
    const uint8_t *p;

    /* A row whose timeline points past the points: the encoder sends it
     * without (never reads past the points). */
    s.total.n_recent = 2;
    s.total.recent_at = 0;
    snapwire_put_snapshot(&b, &s);
    p = payload_of(&b, PROTO_SNAPSHOT, &n);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    CHECK_INT(w.snap.total.n_recent, 0);
    /* ... and a payload that says so is refused: the Aggregated row's
     * n_recent (the byte before the last three varints and the points'
     * count, all small) made 2 with no points. */
    uint8_t *said = malloc(n);
    memcpy(said, p, n);
    CHECK_INT(said[n - 5], 0);
    said[n - 5] = 2;
    CHECK(snapwire_get_snapshot(&w, said, n) != 0);
    said[n - 5] = 0;
    CHECK_INT(snapwire_get_snapshot(&w, said, n), 0);
    free(said);
    /* ... and with the points there, accepted. */
    s.n_points = 2;
    s.points = snap_reserve(s.points, &s.cap_points, 2, sizeof *s.points);
    memset(s.points, 0, 2 * sizeof *s.points);
    b.len = 0;
    snapwire_put_snapshot(&b, &s);
    p = payload_of(&b, PROTO_SNAPSHOT, &n);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    /* More per-row points than a row may have (all within the points). */
    s.n_points = SNAP_ROW_RECENT + 1;
    s.points = snap_reserve(s.points, &s.cap_points, s.n_points, sizeof *s.points);
    memset(s.points, 0, s.n_points * sizeof *s.points);
    s.total.n_recent = SNAP_ROW_RECENT;
    b.len = 0;
    snapwire_put_snapshot(&b, &s);
    p = payload_of(&b, PROTO_SNAPSHOT, &n);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    s.total.n_recent = SNAP_ROW_RECENT + 1;
    b.len = 0;
    snapwire_put_snapshot(&b, &s);
    p = payload_of(&b, PROTO_SNAPSHOT, &n);
    CHECK(snapwire_get_snapshot(&w, p, n) != 0);
    s.total.n_recent = 0;
    s.n_points = 2;
    /* A state out of range (the byte after the host's reference). */
    b.len = 0;
    snapwire_put_snapshot(&b, &s);
    p = payload_of(&b, PROTO_SNAPSHOT, &n);
    uint8_t *copy = malloc(n);
    memcpy(copy, p, n);
    copy[4 + 1] = RUN_DONE + 1;
    CHECK(snapwire_get_snapshot(&w, copy, n) != 0);
    copy[4 + 1] = RUN_DONE;
    CHECK_INT(snapwire_get_snapshot(&w, copy, n), 0);
    /* A bool that is not 0 or 1 (paused, right after the state). */
    copy[4 + 2] = 2;
    CHECK(snapwire_get_snapshot(&w, copy, n) != 0);
    free(copy);
    /* A string reference past the table, and a table without its NUL. */
    s.host = "h";
    b.len = 0;
    snapwire_put_snapshot(&b, &s);
    p = payload_of(&b, PROTO_SNAPSHOT, &n);
    copy = malloc(n);
    memcpy(copy, p, n);
    CHECK_INT(copy[4], 1);      /* host: offset 0 + 1 */
    copy[4] = 3;                /* past the 2-byte table "h\0" */
    CHECK(snapwire_get_snapshot(&w, copy, n) != 0);
    copy[4] = 1;
    copy[n - 1] = 'x';
    CHECK(snapwire_get_snapshot(&w, copy, n) != 0);
    copy[n - 1] = '\0';
    CHECK_INT(snapwire_get_snapshot(&w, copy, n), 0);
    CHECK_STR(w.snap.host, "h");
    free(copy);
    /* A huge count with few bytes left is refused before any allocation. */
    static const uint8_t huge[] = {5, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f};
    CHECK(snapwire_get_snapshot(&w, huge, sizeof huge) != 0);
    snapwire_free(&w);
    frame_buf_free(&b);
    snap_free(&s);
}

TEST(checks_round_trip)
{
    check_t c[2] = {{.text = "p95<300ms"}, {.text = "/api/x:fail-ratio<1%"}};
    check_result_t r[2] = {{.check = &c[0], .evaluated = true, .passed = true, .value = 231000},
                           {.check = &c[1], .evaluated = false, .passed = false, .value = 0.5}};
    snprintf(r[0].measured, sizeof r[0].measured, "231ms");
    snprintf(r[1].measured, sizeof r[1].measured, "no requests");
    frame_buf_t b;
    frame_buf_init(&b);
    snapwire_put_checks(&b, r, 2);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_CHECKS, &n);
    snapwire_checks_t got;
    snapwire_checks_init(&got);
    CHECK_INT(snapwire_get_checks(&got, p, n), 0);
    CHECK_INT(got.n, 2);
    for (size_t i = 0; i < 2 && i < got.n; i++) {
        CHECK_STR(got.results[i].check->text, c[i].text);
        CHECK(got.results[i].evaluated == r[i].evaluated && got.results[i].passed == r[i].passed);
        CHECK(got.results[i].value == r[i].value);
        CHECK_STR(got.results[i].measured, r[i].measured);
    }
    /* Every cut is refused. */
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, p, cut);
        CHECK(snapwire_get_checks(&got, copy, cut) != 0);
        free(copy);
    }
    snapwire_checks_free(&got);
    frame_buf_free(&b);
}

/* ---- the protocol ---- */

TEST(hello_and_versions)
{
    frame_buf_t b;
    frame_buf_init(&b);
    proto_put_hello(&b);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_HELLO, &n);
    proto_hello_t h;
    CHECK_INT(proto_get_hello(p, n, &h), 0);
    CHECK_INT(h.version, PROTO_VERSION);
    CHECK_STR(h.hopper, HOPPER_VERSION);
    char msg[512] = "";
    CHECK(proto_compatible(&h, false, msg, sizeof msg));
    /* Another version: the viewer's message names both and says what to do. */
    h.version = PROTO_VERSION + 1;
    CHECK(!proto_compatible(&h, false, msg, sizeof msg));
    char want[512];
    snprintf(want, sizeof want, "this test speaks control protocol %u (hopper %s), this hopper "
             "speaks %u (hopper %s): use the hopper that started the test", PROTO_VERSION + 1,
             HOPPER_VERSION, PROTO_VERSION, HOPPER_VERSION);
    CHECK_STR(msg, want);
    CHECK(!proto_compatible(&h, true, msg, sizeof msg));
    CHECK(strstr(msg, "refused") != NULL);
    /* Not a hopper at all. */
    static const uint8_t http[] = "GET / HTTP/1.1\r\n";
    CHECK(proto_get_hello(http, sizeof http - 1, &h) != 0);
    CHECK(proto_get_hello(p, 5, &h) != 0);
    frame_buf_free(&b);
}

static int get_cmd(proto_cmd_kind_t kind, double v, proto_cmd_t *out)
{
    frame_buf_t b;
    frame_buf_init(&b);
    proto_put_command(&b, (proto_cmd_t){kind, v});
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_COMMAND, &n);
    int rc = proto_get_command(p, n, out);
    frame_buf_free(&b);
    return rc;
}

TEST(commands_are_checked)
{
    proto_cmd_t c;
    CHECK_INT(get_cmd(PROTO_CMD_USERS, 30, &c), 0);
    CHECK(c.kind == PROTO_CMD_USERS && c.value == 30);
    CHECK_INT(get_cmd(PROTO_CMD_SPAWN_RATE, 0.5, &c), 0);
    CHECK_INT(get_cmd(PROTO_CMD_ARRIVAL_RATE, 0, &c), 0);
    CHECK_INT(get_cmd(PROTO_CMD_PAUSE, 1, &c), 0);
    CHECK_INT(get_cmd(PROTO_CMD_STOP, 0, &c), 0);
    CHECK(get_cmd(PROTO_CMD_USERS, (double)HOPPER_MAX_USERS + 1, &c) != 0);
    CHECK(get_cmd(PROTO_CMD_USERS, -1, &c) != 0);
    CHECK(get_cmd(PROTO_CMD_USERS, NAN, &c) != 0);
    CHECK(get_cmd(PROTO_CMD_SPAWN_RATE, 0, &c) != 0);
    /* Below the least spawn rate (its interval would not be a number). */
    CHECK(get_cmd(PROTO_CMD_SPAWN_RATE, 1e-300, &c) != 0);
    CHECK(get_cmd(PROTO_CMD_SPAWN_RATE, HOPPER_MIN_SPAWN_RATE / 2, &c) != 0);
    CHECK_INT(get_cmd(PROTO_CMD_SPAWN_RATE, HOPPER_MIN_SPAWN_RATE, &c), 0);
    CHECK(get_cmd(PROTO_CMD_ARRIVAL_RATE, INFINITY, &c) != 0);
    CHECK(get_cmd(PROTO_CMD_PAUSE, 2, &c) != 0);
    CHECK(get_cmd((proto_cmd_kind_t)0, 0, &c) != 0);
    CHECK(get_cmd((proto_cmd_kind_t)7, 0, &c) != 0);
    static const uint8_t longer[10] = {PROTO_CMD_RESET};
    CHECK(proto_get_command(longer, 10, &c) != 0);   /* a byte too many */
    CHECK_INT(proto_get_command(longer, 9, &c), 0);
}

TEST(log_lines_since_a_sequence_number)
{
    log_t test, viewer;
    log_open(&test, NULL);
    log_open(&viewer, NULL);
    log_hold(&test, true);   /* nothing on stderr */
    for (int i = 0; i < LOG_RING + 10; i++)
        log_msg(&test, "message %d", i);
    frame_buf_t b;
    frame_buf_init(&b);
    unsigned long sent = 0, got = 0;
    proto_put_log(&b, &test, &sent);
    CHECK(sent == test.seq);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_LOG, &n);
    CHECK_INT(proto_get_log(p, n, &viewer, &got), 0);
    CHECK(got == test.seq);
    CHECK_INT(viewer.n_ring, LOG_RING);     /* the ring's lines: the oldest ones are gone */
    CHECK_STR(log_ring_at(&viewer, 0)->text, "message 10");
    CHECK_STR(viewer.last, "message 265");
    CHECK(log_ring_at(&viewer, 0)->t_unix == log_ring_at(&test, 0)->t_unix);
    /* Nothing new, nothing sent; then one line. */
    b.len = 0;
    proto_put_log(&b, &test, &sent);
    CHECK_INT(b.len, 0);
    log_msg(&test, "one more");
    proto_put_log(&b, &test, &sent);
    p = payload_of(&b, PROTO_LOG, &n);
    CHECK_INT(proto_get_log(p, n, &viewer, &got), 0);
    CHECK_STR(viewer.last, "one more");
    /* The same frame again adds nothing (sequence numbers). */
    unsigned long before = viewer.seq;
    CHECK_INT(proto_get_log(p, n, &viewer, &got), 0);
    CHECK(viewer.seq == before);
    /* A cut frame keeps nothing. */
    for (size_t cut = 0; cut < n; cut++)
        CHECK(proto_get_log(p, cut, &viewer, &got) != 0);
    CHECK(viewer.seq == before);
    frame_buf_free(&b);
    log_close(&viewer);
    test.hold = false;
    test.n_held = 0;
    test.dropped = 0;
    log_close(&test);
}

/* ---- the path and the peer ---- */

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
    static char buf[100];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static int bind_at(const char *path, bool do_listen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strnlen(path, sizeof a.sun_path - 1));
    CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (do_listen)
        CHECK_INT(listen(fd, 1), 0);
    return fd;
}

TEST(path_rule_and_stale_sockets)
{
    char err[512];
    /* Nothing there: fine. */
    CHECK_INT(control_path_check(tmp_path("none.sock"), err, sizeof err), 0);
    /* A regular file: refused, left alone. */
    const char *file = tmp_path("file");
    FILE *f = fopen(file, "w");
    fputs("keep me\n", f);
    fclose(f);
    CHECK(control_path_check(file, err, sizeof err) != 0);
    CHECK(strstr(err, "exists and is not a socket") != NULL);
    CHECK(access(file, F_OK) == 0);
    /* A socket nobody listens on (a killed test): stale, removed. */
    const char *stale = tmp_path("stale.sock");
    close(bind_at(stale, false));
    CHECK_INT(control_path_check(stale, err, sizeof err), 0);
    CHECK(access(stale, F_OK) != 0);
    /* A socket a test listens on: refused, left alone. */
    const char *live = tmp_path("live.sock");
    int fd = bind_at(live, true);
    CHECK(control_path_check(live, err, sizeof err) != 0);
    CHECK(strstr(err, "another test is listening") != NULL);
    CHECK(access(live, F_OK) == 0);
    close(fd);
    unlink(live);
    /* Too long for a socket. */
    char longp[200];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    CHECK(control_path_check(longp, err, sizeof err) != 0);
    CHECK(strstr(err, "bytes long") != NULL);
    unlink(file);
}

TEST(peer_rule)
{
    CHECK(control_peer_allowed(1000, 1000));
    CHECK(control_peer_allowed(0, 1000));       /* root may */
    CHECK(control_peer_allowed(0, 0));
    CHECK(!control_peer_allowed(1001, 1000));
    CHECK(!control_peer_allowed(1000, 0));      /* a test of root's: root only */
    /* The viewer's side: it believes its own user's test, or root's. */
    CHECK(attach_server_allowed(1000, 1000));
    CHECK(attach_server_allowed(0, 1000));
    CHECK(!attach_server_allowed(1001, 1000));
    CHECK(!attach_server_allowed(1000, 0));
}

/* ---- a server on a loop ---- */

typedef struct {
    snap_t snap;
    uint64_t target;
    double rate;
    int pauses, resets, stops;
    unsigned snapshots;
    check_t check;
    check_result_t result;
} fake_test_t;

static void f_snapshot(void *ctx, snap_t *out)
{
    fake_test_t *t = ctx;
    t->snapshots++;
    out->host = t->snap.host;
    out->target_users = t->target;
    out->total.requests = 4242;
}
static void f_users(void *ctx, uint64_t n) { ((fake_test_t *)ctx)->target = n; }
static void f_rate(void *ctx, double r) { ((fake_test_t *)ctx)->rate = r; }
static void f_pause(void *ctx, bool p) { ((fake_test_t *)ctx)->pauses += p; }
static void f_reset(void *ctx) { ((fake_test_t *)ctx)->resets++; }
static void f_stop(void *ctx) { ((fake_test_t *)ctx)->stops++; }
static size_t f_checks(void *ctx, const snap_t *s, const check_result_t **out)
{
    (void)s;
    fake_test_t *t = ctx;
    *out = &t->result;
    return 1;
}

typedef struct {
    int fd;
    frame_in_t in;
    bool eof;
    unsigned seen[8];            /* frames seen by type */
    uint64_t last_requests;
    uint32_t row0_recent, total_recent;   /* the last snapshot's timelines */
    uint32_t row_recent[32];               /* rows' n_recent in the last snapshot */
    size_t rows;                           /* its endpoint rows */
    char bye[256];
} client_t;

static void client_connect(client_t *c, const char *path)
{
    memset(c, 0, sizeof *c);
    frame_in_init(&c->in);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, path, strnlen(path, sizeof a.sun_path - 1));
    CHECK_INT(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
}

static void client_send(client_t *c, frame_buf_t *b)
{
    CHECK(write(c->fd, b->data, b->len) == (ssize_t)b->len);
    b->len = 0;
}

/* Reads what is there and sorts the frames. */
static void client_read(client_t *c)
{
    for (;;) {
        size_t room;
        uint8_t *at = frame_in_space(&c->in, 65536, &room);
        ssize_t n = read(c->fd, at, room);
        if (n == 0) {
            c->eof = true;
            break;
        }
        if (n < 0)
            break;
        frame_in_commit(&c->in, (size_t)n);
    }
    frame_t f;
    while (frame_in_next(&c->in, &f) == FRAME_WHOLE) {
        if (f.type < 8)
            c->seen[f.type]++;
        if (f.type == PROTO_SNAPSHOT) {
            snapwire_t w;
            snapwire_init(&w);
            CHECK_INT(snapwire_get_snapshot(&w, f.payload, f.len), 0);
            c->last_requests = w.snap.total.requests;
            c->row0_recent = w.snap.n_entries ? w.snap.entries[0].n_recent : UINT32_MAX;
            c->total_recent = w.snap.total.n_recent;
            c->rows = w.snap.n_entries;
            for (size_t i = 0; i < 32; i++)
                c->row_recent[i] = i < w.snap.n_entries ? w.snap.entries[i].n_recent : UINT32_MAX;
            snapwire_free(&w);
        }
        if (f.type == PROTO_BYE)
            proto_get_bye(f.payload, f.len, c->bye, sizeof c->bye);
    }
}

static void spin(uv_loop_t *loop, client_t **cs, size_t n, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        for (size_t k = 0; k < n; k++)
            client_read(cs[k]);
        usleep(2000);
    }
}

static void hello_with(frame_buf_t *b, unsigned version)
{
    frame_begin(b, PROTO_HELLO);
    frame_put_bytes(b, PROTO_MAGIC, PROTO_MAGIC_LEN);
    frame_put_u16(b, (uint16_t)version);
    uint8_t len = 5;
    frame_put_bytes(b, &len, 1);
    frame_put_bytes(b, "9.9.9", 5);
    frame_end(b);
}

TEST(server_with_viewers)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    log_t log;
    log_open(&log, NULL);
    log_hold(&log, true);
    log_msg(&log, "before any viewer");
    fake_test_t t;
    memset(&t, 0, sizeof t);
    snap_init(&t.snap);
    t.snap.host = "http://test";
    t.target = 5;
    t.check.text = "p95<1s";
    t.result = (check_result_t){.check = &t.check, .evaluated = true, .passed = true};
    const char *path = tmp_path("ctl.sock");
    control_config_t cfg = {.path = path, .refresh_ms = 20, .log = &log,
                            .steer = {.snapshot = f_snapshot, .set_target_users = f_users,
                                      .set_spawn_rate = f_rate, .pause = f_pause,
                                      .reset_stats = f_reset, .stop = f_stop, .checks = f_checks,
                                      .ctx = &t}};
    char err[512];
    control_t *ctl = control_new(&loop, &cfg, err, sizeof err);
    CHECK(ctl != NULL);
    if (!ctl)
        return;
    struct stat st;
    CHECK_INT(lstat(path, &st), 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_INT(st.st_mode & 0777, 0600);
    /* A second test on the same path is refused. */
    CHECK(control_path_check(path, err, sizeof err) != 0);

    client_t good, old, big, bad, bye;
    client_t *all[] = {&good, &old, &big, &bad, &bye};
    frame_buf_t b;
    frame_buf_init(&b);
    client_connect(&good, path);
    client_connect(&old, path);
    client_connect(&big, path);
    client_connect(&bad, path);
    client_connect(&bye, path);
    hello_with(&b, PROTO_VERSION);
    client_send(&good, &b);
    hello_with(&b, PROTO_VERSION + 1);
    client_send(&old, &b);
    hello_with(&b, PROTO_VERSION);
    client_send(&big, &b);
    hello_with(&b, PROTO_VERSION);
    client_send(&bad, &b);
    hello_with(&b, PROTO_VERSION);
    client_send(&bye, &b);
    spin(&loop, all, 5, 20);
    CHECK_INT(control_viewers(ctl), 4);
    CHECK(good.seen[PROTO_HELLO] == 1 && good.seen[PROTO_SNAPSHOT] >= 1 && good.seen[PROTO_CHECKS] >= 1);
    CHECK(good.seen[PROTO_LOG] >= 1);
    CHECK(good.last_requests == 4242);
    /* The viewer of another version: told why, and dropped. */
    CHECK(old.eof);
    char said[64];
    snprintf(said, sizeof said, "control protocol %u", PROTO_VERSION + 1);
    CHECK(strstr(old.bye, said) != NULL);
    CHECK(old.seen[PROTO_SNAPSHOT] == 0);

    /* An oversized header, a malformed command, a goodbye: each drops its
     * viewer only. */
    uint8_t header[5] = {0x89, 0x13, 0, 0, PROTO_COMMAND};   /* 5001 bytes announced */
    CHECK(write(big.fd, header, 5) == 5);
    frame_begin(&b, PROTO_COMMAND);
    frame_put_bytes(&b, "\x63", 1);
    frame_put_f64(&b, 1);
    frame_end(&b);
    client_send(&bad, &b);
    proto_put_bye(&b, "detached");
    client_send(&bye, &b);
    proto_put_command(&b, (proto_cmd_t){PROTO_CMD_USERS, 30});
    proto_put_command(&b, (proto_cmd_t){PROTO_CMD_SPAWN_RATE, 2.5});
    proto_put_command(&b, (proto_cmd_t){PROTO_CMD_PAUSE, 1});
    proto_put_command(&b, (proto_cmd_t){PROTO_CMD_RESET, 0});
    client_send(&good, &b);
    unsigned before = good.seen[PROTO_SNAPSHOT];
    spin(&loop, all, 5, 30);
    CHECK(big.eof);
    CHECK(bad.eof);
    CHECK(bye.eof);
    CHECK(!good.eof);
    CHECK_INT(control_viewers(ctl), 1);
    CHECK(good.seen[PROTO_SNAPSHOT] > before);     /* still served */
    CHECK_INT(t.target, 30);
    CHECK(t.rate == 2.5);
    CHECK_INT(t.pauses, 1);
    CHECK_INT(t.resets, 1);
    CHECK_INT(t.stops, 0);
    bool said_oversized = false, said_malformed = false;
    for (size_t i = 0; i < log.n_ring; i++) {
        said_oversized |= strstr(log_ring_at(&log, i)->text, "oversized") != NULL;
        said_malformed |= strstr(log_ring_at(&log, i)->text, "malformed frame (type 5") != NULL;
    }
    CHECK(said_oversized);
    CHECK(said_malformed);
    /* The snapshot goes to viewers that read; a stop command stops. */
    proto_put_command(&b, (proto_cmd_t){PROTO_CMD_STOP, 0});
    client_send(&good, &b);
    spin(&loop, all, 5, 5);
    CHECK_INT(t.stops, 1);

    /* The end: the final snapshot and a goodbye, the socket removed. */
    snap_t final;
    snap_init(&final);
    final.total.requests = 9999;
    control_close(ctl, &final);
    CHECK(access(path, F_OK) != 0);
    spin(&loop, all, 5, 20);
    CHECK(good.last_requests == 9999);
    CHECK_STR(good.bye, "the test has ended");
    CHECK(good.eof);
    for (size_t k = 0; k < 5; k++) {
        close(all[k]->fd);
        frame_in_free(&all[k]->in);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    frame_buf_free(&b);
    snap_free(&final);
    log.hold = false;
    log.n_held = 0;
    log_close(&log);
}

/* A viewer that does not read skips snapshots instead of queueing them. */
TEST(slow_viewer_skips)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    log_t log;
    log_open(&log, NULL);
    log_hold(&log, true);
    fake_test_t t;
    memset(&t, 0, sizeof t);
    /* A big snapshot each tick (a 60 KB host), so that the socket fills. */
    snap_init(&t.snap);
    char *host = malloc(60000);
    memset(host, 'h', 59999);
    host[59999] = '\0';
    t.snap.host = host;
    const char *path = tmp_path("slow.sock");
    control_config_t cfg = {.path = path, .refresh_ms = 1, .log = &log,
                            .steer = {.snapshot = f_snapshot, .set_target_users = f_users,
                                      .set_spawn_rate = f_rate, .pause = f_pause,
                                      .reset_stats = f_reset, .stop = f_stop, .ctx = &t}};
    char err[512];
    control_t *ctl = control_new(&loop, &cfg, err, sizeof err);
    CHECK(ctl != NULL);
    if (!ctl)
        return;
    client_t slow;
    client_connect(&slow, path);
    int small = 4096;
    setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    frame_buf_t b;
    frame_buf_init(&b);
    hello_with(&b, PROTO_VERSION);
    client_send(&slow, &b);
    /* Ticks for a while without reading: snapshots are skipped, not
     * queued (what it finally reads is a few socket buffers' worth). */
    for (int i = 0; i < 400; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    CHECK_INT(control_viewers(ctl), 1);
    unsigned ticks = t.snapshots;
    /* Everything that was queued for it, to the end: a few snapshots, not
     * one per tick. */
    client_t *one[] = {&slow};
    spin(&loop, one, 1, 1);
    unsigned got = slow.seen[PROTO_SNAPSHOT];
    /* Reading again, it is served again. */
    spin(&loop, one, 1, 50);
    unsigned more = slow.seen[PROTO_SNAPSHOT];
    CHECK(more > got);
    control_close(ctl, NULL);
    for (int i = 0; i < 500 && !slow.eof; i++)
        spin(&loop, one, 1, 1);
    unsigned total = slow.seen[PROTO_SNAPSHOT] - (more - got);
    printf("# %u ticks while it did not read; what had been sent for them: %u snapshots\n",
           ticks, total);
    CHECK(slow.eof);
    CHECK(ticks > 100);
    CHECK(total < ticks / 4);
    close(slow.fd);
    frame_in_free(&slow.in);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    frame_buf_free(&b);
    free(host);
    log.hold = false;
    log.n_held = 0;
    log_close(&log);
}

/* ---- what the reviewer found: names, text, limits, the path at the end ---- */

/* A snapshot whose rows and errors have no names (string reference 0), as
 * a buggy or hostile test may send: decoded as "", never NULL (the views
 * print them). */
TEST(missing_names_decode_as_empty)
{
    snap_t s;
    snap_init(&s);
    s.n_entries = 2;
    s.entries = snap_reserve(s.entries, &s.cap_entries, 2, sizeof *s.entries);
    memset(s.entries, 0, 2 * sizeof *s.entries);    /* method, name: NULL */
    s.n_errors = 1;
    s.errors = snap_reserve(s.errors, &s.cap_errors, 1, sizeof *s.errors);
    memset(s.errors, 0, sizeof *s.errors);
    frame_buf_t b;
    frame_buf_init(&b);
    snapwire_put_snapshot(&b, &s);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_SNAPSHOT, &n);
    /* Every reference is 0: no string table at all. */
    uint32_t body = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    CHECK_INT(n - 4 - body, 0);
    snapwire_t w;
    snapwire_init(&w);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    const snap_t *d = &w.snap;
    CHECK(d->host && d->client && !d->host[0] && !d->client[0]);
    for (size_t i = 0; i < snap_row_count(d); i++) {
        const snap_entry_t *e = snap_row(d, i);
        CHECK(e->method != NULL && e->name != NULL);
        if (e->method && e->name)
            CHECK(strlen(e->method) + strlen(e->name) == 0);
    }
    CHECK_INT(d->n_errors, 1);
    CHECK(d->errors[0].method != NULL && d->errors[0].name != NULL);
    snapwire_free(&w);
    frame_buf_free(&b);
    snap_free(&s);
}

/* Text from the test reaches the viewer's terminal: every kind of it is
 * sanitised where it is decoded (an escape sequence becomes '?'). */
TEST(text_from_the_test_is_sanitised)
{
    const char *evil = "\x1b]0;pwned\x07\x1b[2J\xc2\x9b" "31m ok";
    const char *clean = "?]0;pwned??[2J??31m ok";
    snap_t s;
    snap_init(&s);
    s.host = evil;
    s.client = evil;
    s.n_entries = 1;
    s.entries = snap_reserve(s.entries, &s.cap_entries, 1, sizeof *s.entries);
    memset(s.entries, 0, sizeof *s.entries);
    s.entries[0].method = "GET";
    s.entries[0].name = evil;
    s.n_errors = 1;
    s.errors = snap_reserve(s.errors, &s.cap_errors, 1, sizeof *s.errors);
    memset(s.errors, 0, sizeof *s.errors);
    s.errors[0].name = evil;
    snprintf(s.errors[0].error, sizeof s.errors[0].error, "%s", evil);
    frame_buf_t b;
    frame_buf_init(&b);
    snapwire_put_snapshot(&b, &s);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_SNAPSHOT, &n);
    snapwire_t w;
    snapwire_init(&w);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    CHECK_STR(w.snap.host, clean);
    CHECK_STR(w.snap.client, clean);
    CHECK_STR(w.snap.entries[0].name, clean);
    CHECK_STR(w.snap.entries[0].method, "GET");
    CHECK_STR(w.snap.errors[0].name, clean);
    CHECK_STR(w.snap.errors[0].error, clean);
    snapwire_free(&w);

    /* The checks' texts and measured values. */
    char evil_text[64];
    snprintf(evil_text, sizeof evil_text, "%s", evil);
    check_t c = {.text = evil_text};
    check_result_t r = {.check = &c, .evaluated = true};
    snprintf(r.measured, sizeof r.measured, "\x1b[1m1s");
    b.len = 0;
    snapwire_put_checks(&b, &r, 1);
    p = payload_of(&b, PROTO_CHECKS, &n);
    snapwire_checks_t got;
    snapwire_checks_init(&got);
    CHECK_INT(snapwire_get_checks(&got, p, n), 0);
    CHECK_STR(got.checks[0].text, clean);
    CHECK_STR(got.results[0].measured, "?[1m1s");
    snapwire_checks_free(&got);

    /* The goodbye, which the viewer prints after the dashboard closes. */
    b.len = 0;
    proto_put_bye(&b, evil);
    p = payload_of(&b, PROTO_BYE, &n);
    char reason[256];
    CHECK_INT(proto_get_bye(p, n, reason, sizeof reason), 0);
    CHECK_STR(reason, clean);

    /* Log lines, which the log view and the status line show. */
    log_t test, viewer;
    log_open(&test, NULL);
    log_open(&viewer, NULL);
    log_hold(&test, true);
    log_msg(&test, "%s", evil);
    b.len = 0;
    unsigned long sent = 0, seen = 0;
    proto_put_log(&b, &test, &sent);
    p = payload_of(&b, PROTO_LOG, &n);
    CHECK_INT(proto_get_log(p, n, &viewer, &seen), 0);
    CHECK_STR(viewer.last, clean);
    CHECK_STR(log_ring_at(&viewer, viewer.n_ring - 1)->text, clean);
    log_close(&viewer);
    test.hold = false;
    test.n_held = 0;
    log_close(&test);

    /* The other side's version, quoted in the version message. */
    b.len = 0;
    frame_begin(&b, PROTO_HELLO);
    frame_put_bytes(&b, PROTO_MAGIC, PROTO_MAGIC_LEN);
    frame_put_u16(&b, 9);
    uint8_t len = 3;
    frame_put_bytes(&b, &len, 1);
    frame_put_bytes(&b, "\x1b[H", 3);
    frame_end(&b);
    p = payload_of(&b, PROTO_HELLO, &n);
    proto_hello_t h;
    CHECK_INT(proto_get_hello(p, n, &h), 0);
    CHECK_STR(h.hopper, "?[H");
    frame_buf_free(&b);
    snap_free(&s);
}

/* Only the first rows' timelines travel when asked; the Aggregated row's
 * always do, and each travelling timeline is the same points. */
TEST(timelines_of_the_first_rows_only)
{
    snap_t s;
    fill_snap(&s);
    frame_buf_t b;
    frame_buf_init(&b);
    const bool first[4] = {true, false, false, false};
    CHECK_INT(snapwire_put_snapshot_rows(&b, &s, first), 0);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_SNAPSHOT, &n);
    size_t small = n;
    snapwire_t w;
    snapwire_init(&w);
    CHECK_INT(snapwire_get_snapshot(&w, p, n), 0);
    const snap_t *d = &w.snap;
    CHECK_INT(d->n_entries, 4);
    for (size_t i = 0; i < snap_row_count(d); i++) {
        const snap_entry_t *e = snap_row(d, i), *o = snap_row(&s, i);
        bool with = i == 0 || i == snap_row_count(d) - 1;
        CHECK_INT(e->n_recent, with ? o->n_recent : 0);
        CHECK_INT(e->n_history, with ? o->n_history : 0);
        for (uint32_t k = 0; k < e->n_recent && with; k++)
            CHECK(snap_row_recent(d, e)[k].p99_us == snap_row_recent(&s, o)[k].p99_us);
        for (uint32_t k = 0; k < e->n_history && with; k++)
            CHECK(snap_row_history(d, e)[k].t == snap_row_history(&s, o)[k].t);
        CHECK(e->requests == o->requests);   /* the numbers travel all the same */
    }
    CHECK_INT(d->n_points, s.entries[0].n_recent + s.entries[0].n_history + s.total.n_recent +
                               s.total.n_history);
    b.len = 0;
    snapwire_put_snapshot(&b, &s);
    CHECK(b.len - FRAME_HEADER > small);
    snapwire_free(&w);
    frame_buf_free(&b);
    snap_free(&s);
}

static bool log_has(const log_t *log, const char *text);

TEST(focus_frames)
{
    frame_buf_t b;
    frame_buf_init(&b);
    proto_focus_t f = {.row = true, .index = 15, .key = proto_row_key("GET", "/r15")}, g;
    proto_put_focus(&b, f);
    size_t n;
    const uint8_t *p = payload_of(&b, PROTO_FOCUS, &n);
    CHECK_INT(proto_get_focus(p, n, &g), 0);
    CHECK(g.row && g.index == 15 && g.key == f.key);
    /* Cut anywhere, or with a byte more: refused. */
    for (size_t k = 0; k < n; k++)
        CHECK(proto_get_focus(p, k, &g) != 0);
    uint8_t more[32];
    memcpy(more, p, n);
    more[n] = 0;
    CHECK(proto_get_focus(more, n + 1, &g) != 0);
    more[0] = 2;   /* a flag neither 0 nor 1 */
    CHECK(proto_get_focus(more, n, &g) != 0);
    b.len = 0;
    proto_put_focus(&b, (proto_focus_t){.row = true, .index = SNAPWIRE_MAX_ROWS});
    p = payload_of(&b, PROTO_FOCUS, &n);
    CHECK(proto_get_focus(p, n, &g) != 0);
    /* The Aggregated row: a flag alone. */
    b.len = 0;
    proto_put_focus(&b, (proto_focus_t){.row = false, .index = 3, .key = 9});
    p = payload_of(&b, PROTO_FOCUS, &n);
    CHECK_INT(n, 1);
    CHECK_INT(proto_get_focus(p, n, &g), 0);
    CHECK(!g.row);
    /* The key tells rows apart by method and name, and where one ends. */
    CHECK(proto_row_key("GET", "/a") != proto_row_key("POST", "/a"));
    CHECK(proto_row_key("AB", "C") != proto_row_key("A", "BC"));
    CHECK(proto_row_key(NULL, NULL) == proto_row_key("", ""));
    frame_buf_free(&b);
}

/* A test of 20 rows, each with timelines of its own. */
static void f_rows_snapshot(void *ctx, snap_t *out)
{
    static char names20[20][8];
    ((fake_test_t *)ctx)->snapshots++;
    out->n_entries = 20;
    out->entries = snap_reserve(out->entries, &out->cap_entries, 20, sizeof *out->entries);
    out->n_points = 21 * 5;
    out->points = snap_reserve(out->points, &out->cap_points, out->n_points, sizeof *out->points);
    for (size_t i = 0; i < out->n_points; i++)
        out->points[i] = (snap_point_t){.t = (uint32_t)i, .span = 1, .rps = 1};
    for (size_t i = 0; i <= 20; i++) {
        snap_entry_t *e = i < 20 ? &out->entries[i] : &out->total;
        memset(e, 0, sizeof *e);
        if (i < 20)
            snprintf(names20[i], sizeof names20[i], "/r%02zu", i);
        e->method = i < 20 ? "GET" : "";
        e->name = i < 20 ? names20[i] : "Aggregated";
        e->requests = 100 + i;
        e->recent_at = (uint32_t)(i * 5);
        e->n_recent = 3;
        e->history_at = (uint32_t)(i * 5 + 3);
        e->n_history = 2;
    }
}

static void focus_on(client_t *c, frame_buf_t *b, bool row, uint32_t index, const char *name)
{
    proto_put_focus(b, (proto_focus_t){.row = row, .index = index,
                                       .key = proto_row_key("GET", name)});
    client_send(c, b);
}

/* The rows past the first 8 travel with their timelines while a viewer
 * focuses them: in every viewer's snapshot (the same bytes for all), found
 * by their key wherever the viewer thought they were; a bad focus frame
 * drops its viewer only. */
TEST(focused_rows_bring_their_timelines)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    log_t log;
    log_open(&log, NULL);
    log_hold(&log, true);
    fake_test_t t;
    memset(&t, 0, sizeof t);
    const char *path = tmp_path("focus.sock");
    control_config_t cfg = {.path = path, .refresh_ms = 20, .log = &log,
                            .steer = {.snapshot = f_rows_snapshot, .set_target_users = f_users,
                                      .set_spawn_rate = f_rate, .pause = f_pause,
                                      .reset_stats = f_reset, .stop = f_stop, .ctx = &t}};
    char err[512];
    control_t *ctl = control_new(&loop, &cfg, err, sizeof err);
    CHECK(ctl != NULL);
    if (!ctl)
        return;
    client_t va, vb, bad, big;
    client_t *all[] = {&va, &vb, &bad, &big};
    frame_buf_t b;
    frame_buf_init(&b);
    for (size_t k = 0; k < 4; k++) {
        client_connect(all[k], path);
        hello_with(&b, PROTO_VERSION);
        client_send(all[k], &b);
    }
    spin(&loop, all, 4, 20);
    CHECK_INT(control_viewers(ctl), 4);
    CHECK_INT(va.rows, 20);
    /* Nobody focuses: the first 8 rows and the Aggregated row only. */
    CHECK_INT(va.row_recent[7], 3);
    CHECK_INT(va.row_recent[8], 0);
    CHECK_INT(va.row_recent[15], 0);
    CHECK_INT(va.total_recent, 3);

    /* va selects row 15: both viewers get its timelines. */
    focus_on(&va, &b, true, 15, "/r15");
    spin(&loop, all, 4, 15);
    CHECK_INT(va.row_recent[15], 3);
    CHECK_INT(vb.row_recent[15], 3);
    CHECK_INT(va.row_recent[14], 0);
    CHECK_INT(va.row_recent[16], 0);
    /* vb names row 18 at the wrong place: found by its key. A key of no
     * row brings nothing and drops nobody. */
    focus_on(&vb, &b, true, 2, "/r18");
    spin(&loop, all, 4, 15);
    CHECK_INT(va.row_recent[18], 3);
    CHECK_INT(vb.row_recent[18], 3);
    CHECK_INT(vb.row_recent[15], 3);   /* va's still */
    focus_on(&vb, &b, true, 19, "/nothing");
    spin(&loop, all, 4, 15);
    CHECK_INT(vb.row_recent[18], 0);
    CHECK_INT(vb.row_recent[19], 0);
    CHECK_INT(vb.row_recent[15], 3);
    CHECK(!vb.eof);

    /* A malformed focus (flag 2), an oversized one: that viewer only. */
    uint8_t frame[6] = {2, 0, 0, 0, PROTO_FOCUS, 2};
    CHECK(write(bad.fd, frame, 6) == 6);
    uint8_t header[5] = {0x89, 0x13, 0, 0, PROTO_FOCUS};   /* 5001 bytes announced */
    CHECK(write(big.fd, header, 5) == 5);
    spin(&loop, all, 4, 20);
    CHECK(bad.eof);
    CHECK(big.eof);
    CHECK(!va.eof && !vb.eof);
    CHECK_INT(control_viewers(ctl), 2);
    CHECK(log_has(&log, "malformed frame (type 7"));

    /* va back on the Aggregated row: row 15 goes back to numbers only. */
    unsigned before = va.seen[PROTO_SNAPSHOT];
    focus_on(&va, &b, false, 0, "");
    spin(&loop, all, 2, 15);
    CHECK(va.seen[PROTO_SNAPSHOT] > before);
    CHECK_INT(va.row_recent[15], 0);
    CHECK_INT(vb.row_recent[15], 0);
    CHECK_INT(va.row_recent[0], 3);

    control_close(ctl, NULL);
    for (int i = 0; i < 200 && !(va.eof && vb.eof); i++)
        spin(&loop, all, 2, 1);
    for (size_t k = 0; k < 4; k++) {
        close(all[k]->fd);
        frame_in_free(&all[k]->in);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    frame_buf_free(&b);
    log.hold = false;
    log.n_held = 0;
    log.dropped = 0;
    log_close(&log);
}

static void f_full_snapshot(void *ctx, snap_t *out)
{
    ((fake_test_t *)ctx)->snapshots++;
    snap_free(out);
    fill_snap(out);
}

static bool log_has(const log_t *log, const char *text)
{
    for (size_t i = 0; i < log->n_ring; i++)
        if (strstr(log_ring_at(log, i)->text, text))
            return true;
    return false;
}

/* A snapshot over the budget still reaches viewers, without the rows'
 * charts, said once in the log; a peer that never says hello is dropped at
 * its deadline; the limit counts viewers past their hello, and the one too
 * many is told so; the end removes the path only if it is still the socket. */
TEST(server_limits_and_the_end)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    log_t log;
    log_open(&log, NULL);
    log_hold(&log, true);
    fake_test_t t;
    memset(&t, 0, sizeof t);
    const char *path = tmp_path("limits.sock");
    control_config_t cfg = {.path = path, .refresh_ms = 20, .log = &log, .hello_ms = 100,
                            .snapshot_budget = 2000,
                            .steer = {.snapshot = f_full_snapshot, .set_target_users = f_users,
                                      .set_spawn_rate = f_rate, .pause = f_pause,
                                      .reset_stats = f_reset, .stop = f_stop, .ctx = &t}};
    char err[512];
    control_t *ctl = control_new(&loop, &cfg, err, sizeof err);
    CHECK(ctl != NULL);
    if (!ctl)
        return;
    enum { N = CONTROL_MAX_VIEWERS + 1 };
    client_t *cs = calloc(N + 1, sizeof *cs);
    client_t *all[N + 1];
    for (size_t i = 0; i < N + 1; i++)
        all[i] = &cs[i];
    frame_buf_t b;
    frame_buf_init(&b);
    /* A silent peer first: it does not count towards the limit. */
    client_t *silent = &cs[N];
    client_connect(silent, path);
    for (size_t i = 0; i < N; i++) {
        client_connect(&cs[i], path);
        hello_with(&b, PROTO_VERSION);
        client_send(&cs[i], &b);
        spin(&loop, all, 0, 2);   /* one at a time: the last is the one too many */
    }
    spin(&loop, all, N + 1, 30);
    CHECK_INT(control_viewers(ctl), CONTROL_MAX_VIEWERS);
    size_t refused = 0, served = 0;
    for (size_t i = 0; i < N; i++) {
        if (strstr(cs[i].bye, "too many viewers")) {
            refused++;
            CHECK(cs[i].eof && cs[i].seen[PROTO_SNAPSHOT] == 0);
        } else {
            served += !cs[i].eof && cs[i].seen[PROTO_SNAPSHOT] > 0;
        }
    }
    CHECK_INT(refused, 1);
    CHECK_INT(served, CONTROL_MAX_VIEWERS);
    /* Over the budget: snapshots still go, without the rows' charts (the
     * Aggregated row keeps its own). */
    CHECK_INT(cs[0].row0_recent, 0);
    CHECK_INT(cs[0].total_recent, 7);
    CHECK(log_has(&log, "viewers get the endpoint rows without their charts"));
    size_t said = 0;
    for (size_t i = 0; i < log.n_ring; i++)
        said += strstr(log_ring_at(&log, i)->text, "without their charts") != NULL;
    CHECK_INT(said, 1);
    /* The silent peer is gone by its deadline (100 ms). */
    for (int i = 0; i < 100 && !silent->eof; i++)
        spin(&loop, all, N + 1, 1);
    CHECK(silent->eof);
    CHECK(log_has(&log, "did not say hello within 100 ms"));
    CHECK_INT(control_viewers(ctl), CONTROL_MAX_VIEWERS);

    /* Someone replaced the path: the end leaves what is there now. */
    CHECK_INT(unlink(path), 0);
    FILE *f = fopen(path, "w");
    fputs("not yours\n", f);
    fclose(f);
    control_close(ctl, NULL);
    CHECK(access(path, F_OK) == 0);
    unlink(path);
    for (int i = 0; i < 200; i++) {
        bool open = false;
        for (size_t k = 0; k < N; k++)
            open |= !cs[k].eof;
        if (!open)
            break;
        spin(&loop, all, N, 1);
    }
    for (size_t k = 0; k < N + 1; k++) {
        close(cs[k].fd);
        frame_in_free(&cs[k].in);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(uv_loop_close(&loop), 0);
    free(cs);
    frame_buf_free(&b);
    log.hold = false;
    log.n_held = 0;
    log.dropped = 0;
    log_close(&log);
}

/* A listener whose backlog is full is someone listening: the check says so
 * at once instead of waiting in connect (alarm: a hang kills the test). */
TEST(path_check_does_not_wait_on_a_full_backlog)
{
    const char *live = tmp_path("full.sock");
    int fd = bind_at(live, false);
    CHECK_INT(listen(fd, 0), 0);
    int peers[64], np = 0;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    memcpy(a.sun_path, live, strlen(live));
    for (; np < 64; np++) {
        peers[np] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(peers[np], (struct sockaddr *)&a, sizeof a) != 0) {
            CHECK(errno == EAGAIN);
            np++;
            break;
        }
    }
    char err[512];
    alarm(10);
    CHECK(control_path_check(live, err, sizeof err) != 0);
    alarm(0);
    CHECK(strstr(err, "another test is listening") != NULL);
    CHECK(access(live, F_OK) == 0);
    for (int i = 0; i < np; i++)
        close(peers[i]);
    close(fd);
    unlink(live);
}

/* A directory or a symlink at the path: refused, left alone. */
TEST(path_rule_directory_and_symlink)
{
    char err[512];
    const char *dir = tmp_path("adir");
    CHECK_INT(mkdir(dir, 0700), 0);
    CHECK(control_path_check(dir, err, sizeof err) != 0);
    CHECK(strstr(err, "exists and is not a socket") != NULL);
    struct stat st;
    CHECK(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    rmdir(dir);
    /* A symlink to a stale socket of ours: still not a socket itself, so
     * neither it nor its target is removed. */
    char target[100];
    snprintf(target, sizeof target, "%s", tmp_path("target.sock"));
    close(bind_at(target, false));
    const char *link = tmp_path("link.sock");
    CHECK_INT(symlink(target, link), 0);
    CHECK(control_path_check(link, err, sizeof err) != 0);
    CHECK(strstr(err, "exists and is not a socket") != NULL);
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(lstat(target, &st) == 0 && S_ISSOCK(st.st_mode));
    unlink(link);
    unlink(target);
}

TEST(attach_command_line)
{
    attach_opts_t o;
    char err[256];
    char *ok_args[] = {"attach", "/tmp/x.sock", "--ascii", "--no-color", NULL};
    CHECK_INT(attach_parse(4, ok_args, &o, stdout, err, sizeof err), ATTACH_RUN);
    CHECK_STR(o.path, "/tmp/x.sock");
    CHECK(o.ascii && o.no_color);
    char *plain[] = {"attach", "s", NULL};
    CHECK_INT(attach_parse(2, plain, &o, stdout, err, sizeof err), ATTACH_RUN);
    CHECK(!o.ascii && !o.no_color);
    char *none[] = {"attach", NULL};
    CHECK_INT(attach_parse(1, none, &o, stdout, err, sizeof err), ATTACH_USAGE_ERROR);
    CHECK(strstr(err, "hopper attach PATH") != NULL);
    char *two[] = {"attach", "a", "b", NULL};
    CHECK_INT(attach_parse(3, two, &o, stdout, err, sizeof err), ATTACH_USAGE_ERROR);
    CHECK(strstr(err, "unexpected argument 'b'") != NULL);
    /* The viewer draws per snapshot: the test's --refresh is the one. */
    char *fast[] = {"attach", "a", "--refresh", "1s", NULL};
    CHECK_INT(attach_parse(4, fast, &o, stdout, err, sizeof err), ATTACH_USAGE_ERROR);
    CHECK(strstr(err, "unknown option --refresh") != NULL);
    char *unknown[] = {"attach", "a", "--users", "5", NULL};
    CHECK_INT(attach_parse(4, unknown, &o, stdout, err, sizeof err), ATTACH_USAGE_ERROR);
    CHECK(strstr(err, "unknown option --users") != NULL);
    FILE *devnull = fopen("/dev/null", "w");
    char *help[] = {"attach", "--help", NULL};
    CHECK_INT(attach_parse(2, help, &o, devnull, err, sizeof err), ATTACH_EXIT_OK);
    fclose(devnull);
}

int main(void)
{
    check_prog = "test_control";
    /* As hopper's main: a viewer gone mid-write is an error, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hopper-control.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(snapshot_round_trip_field_by_field);
    RUN(every_cut_and_corruption_is_refused_or_safe);
    RUN(decoder_rules);
    RUN(checks_round_trip);
    RUN(hello_and_versions);
    RUN(commands_are_checked);
    RUN(log_lines_since_a_sequence_number);
    RUN(path_rule_and_stale_sockets);
    RUN(peer_rule);
    RUN(server_with_viewers);
    RUN(slow_viewer_skips);
    RUN(missing_names_decode_as_empty);
    RUN(text_from_the_test_is_sanitised);
    RUN(timelines_of_the_first_rows_only);
    RUN(focus_frames);
    RUN(focused_rows_bring_their_timelines);
    RUN(server_limits_and_the_end);
    RUN(path_check_does_not_wait_on_a_full_backlog);
    RUN(path_rule_directory_and_symlink);
    RUN(attach_command_line);
    rmdir(tmpdir);
    return check_done();
}

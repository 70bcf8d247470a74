/* test_frame: util/frame - the encoding, the framing of a byte stream, and a
 * connection over a real socketpair on a real libuv loop. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "check.h"
#include "util/frame.h"

/* ---- encoding ---- */

TEST(every_field_round_trips)
{
    static const uint16_t u16[] = {0, 1, 0x1234, UINT16_MAX};
    static const uint32_t u32[] = {0, 1, 0x12345678u, UINT32_MAX};
    static const uint64_t u64[] = {0, 1, 0x0123456789abcdefull, UINT64_MAX};
    const double f64[] = {0.0, -0.0, 1.5, -1e300, DBL_MIN, DBL_MAX, INFINITY, 1.0 / 3.0};
    frame_buf_t b;
    frame_buf_init(&b);
    for (size_t i = 0; i < 4; i++) {
        frame_put_u16(&b, u16[i]);
        frame_put_u32(&b, u32[i]);
        frame_put_u64(&b, u64[i]);
    }
    for (size_t i = 0; i < sizeof f64 / sizeof f64[0]; i++)
        frame_put_f64(&b, f64[i]);
    frame_put_f64(&b, NAN);
    frame_put_bytes(&b, "hello", 5);
    frame_put_bytes(&b, NULL, 0);
    CHECK_INT(b.len, 4 * (2 + 4 + 8) + 9 * 8 + 5);

    frame_rd_t r;
    frame_rd_init(&r, b.data, b.len);
    for (size_t i = 0; i < 4; i++) {
        CHECK_INT(frame_get_u16(&r), u16[i]);
        CHECK_INT(frame_get_u32(&r), u32[i]);
        CHECK(frame_get_u64(&r) == u64[i]);
    }
    for (size_t i = 0; i < sizeof f64 / sizeof f64[0]; i++) {
        double v = frame_get_f64(&r);
        CHECK(memcmp(&v, &f64[i], sizeof v) == 0);   /* bit for bit, -0.0 too */
    }
    CHECK(isnan(frame_get_f64(&r)));
    const uint8_t *text;
    CHECK(frame_get_bytes(&r, &text, 5));
    CHECK(text != NULL && memcmp(text, "hello", 5) == 0);
    CHECK(frame_get_bytes(&r, &text, 0));
    CHECK(!r.bad);
    CHECK(r.p == r.end);
    frame_buf_free(&b);
}

TEST(numbers_are_little_endian)
{
    frame_buf_t b;
    frame_buf_init(&b);
    frame_put_u32(&b, 0x04030201u);
    frame_put_u16(&b, 0x0605);
    static const uint8_t want[] = {1, 2, 3, 4, 5, 6};
    CHECK_INT(b.len, 6);
    CHECK(memcmp(b.data, want, 6) == 0);
    frame_buf_free(&b);
}

TEST(reads_past_the_end_flag_bad)
{
    /* Exactly sized heap copies, so ASan sees any read past them. */
    uint8_t *seven = malloc(7);
    memset(seven, 0xff, 7);
    frame_rd_t r;
    frame_rd_init(&r, seven, 7);
    CHECK(frame_get_u64(&r) == 0);      /* 7 bytes are not a u64: 0, bad */
    CHECK(r.bad);
    CHECK(r.p == r.end);

    frame_rd_init(&r, seven, 7);
    CHECK_INT(frame_get_u32(&r), UINT32_MAX);
    CHECK_INT(frame_get_u16(&r), UINT16_MAX);
    CHECK(!r.bad);
    CHECK_INT(frame_get_u16(&r), 0);    /* one byte left */
    CHECK(r.bad);
    CHECK_INT(frame_get_u32(&r), 0);    /* and it stays bad */
    CHECK(frame_get_f64(&r) == 0.0);
    CHECK(r.bad);

    const uint8_t *out = seven;
    frame_rd_init(&r, seven, 7);
    CHECK(!frame_get_bytes(&r, &out, 8));
    CHECK(out == NULL);
    CHECK(r.bad);

    frame_rd_init(&r, NULL, 0);
    CHECK_INT(frame_get_u16(&r), 0);
    CHECK(r.bad);
    free(seven);
}

/* ---- framing ---- */

/* Three frames: an empty one, one with a u64, one with 1000 bytes. */
static void three_frames(frame_buf_t *b)
{
    frame_begin(b, 1);
    CHECK_INT(frame_end(b), 0);
    frame_begin(b, 2);
    frame_put_u64(b, 42);
    CHECK_INT(frame_end(b), 0);
    frame_begin(b, 255);
    for (unsigned i = 0; i < 1000; i++)
        frame_put_bytes(b, &(uint8_t){(uint8_t)i}, 1);
    CHECK_INT(frame_end(b), 0);
}

/* Takes every whole frame from in and checks them against three_frames,
 * from the *seen'th on. */
static void take_frames(frame_in_t *in, int *seen)
{
    frame_t f;
    frame_status_t st;
    while ((st = frame_in_next(in, &f)) == FRAME_WHOLE) {
        switch (*seen) {
        case 0:
            CHECK_INT(f.type, 1);
            CHECK_INT(f.len, 0);
            break;
        case 1: {
            CHECK_INT(f.type, 2);
            frame_rd_t r;
            frame_rd_init(&r, f.payload, f.len);
            CHECK(frame_get_u64(&r) == 42);
            CHECK(!r.bad && r.p == r.end);
            break;
        }
        case 2:
            CHECK_INT(f.type, 255);
            CHECK_INT(f.len, 1000);
            for (unsigned i = 0; i < f.len; i++)
                if (f.payload[i] != (uint8_t)i) {
                    CHECK(f.payload[i] == (uint8_t)i);
                    break;
                }
            break;
        default:
            CHECK(!"a fourth frame");
        }
        (*seen)++;
    }
    CHECK(st == FRAME_PARTIAL);
}

TEST(several_frames_in_one_buffer)
{
    frame_buf_t b;
    frame_buf_init(&b);
    three_frames(&b);
    CHECK_INT(b.len, 3 * FRAME_HEADER + 8 + 1000);
    frame_in_t in;
    frame_in_init(&in);
    frame_in_feed(&in, b.data, b.len);
    int seen = 0;
    take_frames(&in, &seen);
    CHECK_INT(seen, 3);
    frame_in_free(&in);
    frame_buf_free(&b);
}

TEST(frames_fed_byte_by_byte)
{
    frame_buf_t b;
    frame_buf_init(&b);
    three_frames(&b);
    frame_in_t in;
    frame_in_init(&in);
    int seen = 0;
    for (size_t i = 0; i < b.len; i++) {
        frame_in_feed(&in, b.data + i, 1);
        take_frames(&in, &seen);
        /* Each frame comes out with its last byte, not before. */
        if (i == FRAME_HEADER - 1)
            CHECK_INT(seen, 1);
        if (i == 2 * FRAME_HEADER + 8 - 2)
            CHECK_INT(seen, 1);
        if (i == 2 * FRAME_HEADER + 8 - 1)
            CHECK_INT(seen, 2);
    }
    CHECK_INT(seen, 3);
    frame_in_free(&in);
    frame_buf_free(&b);
}

TEST(frames_cut_mid_header_and_mid_payload)
{
    frame_buf_t b;
    frame_buf_init(&b);
    three_frames(&b);
    /* Cut inside the second frame's header, then inside the third's payload. */
    size_t cuts[] = {FRAME_HEADER + 3, 2 * FRAME_HEADER + 8 + FRAME_HEADER + 500, b.len};
    frame_in_t in;
    frame_in_init(&in);
    int seen = 0, want[] = {1, 2, 3};
    size_t from = 0;
    for (size_t i = 0; i < 3; i++) {
        frame_in_feed(&in, b.data + from, cuts[i] - from);
        from = cuts[i];
        take_frames(&in, &seen);
        CHECK_INT(seen, want[i]);
    }
    frame_in_free(&in);
    frame_buf_free(&b);
}

/* The first n bytes of a header alone in a buffer of exactly that size on
 * the heap, so that ASan sees any read past them. */
static frame_status_t next_of_header_cut(const uint8_t head[FRAME_HEADER], size_t n)
{
    frame_in_t in;
    frame_in_init(&in);
    in.data = malloc(n ? n : 1);
    memcpy(in.data, head, n);
    in.len = in.cap = n;
    frame_t f;
    frame_status_t st = frame_in_next(&in, &f);
    /* Bad stays bad: more bytes do not make the stream readable again. */
    if (st == FRAME_BAD) {
        frame_in_feed(&in, "\x01\x00\x00\x00\x01", FRAME_HEADER);
        CHECK(frame_in_next(&in, &f) == FRAME_BAD);
    }
    frame_in_free(&in);
    return st;
}

static frame_status_t next_of_header(const uint8_t head[FRAME_HEADER])
{
    return next_of_header_cut(head, FRAME_HEADER);
}

TEST(corrupt_headers_are_bad)
{
    static const uint8_t zero_len[FRAME_HEADER] = {0, 0, 0, 0, 1};
    static const uint8_t zero_type[FRAME_HEADER] = {1, 0, 0, 0, 0};
    static const uint8_t huge[FRAME_HEADER] = {0xff, 0xff, 0xff, 0xff, 1};
    uint8_t over[FRAME_HEADER] = {0, 0, 0, 0, 1}, at_max[FRAME_HEADER] = {0, 0, 0, 0, 1};
    uint32_t n = FRAME_MAX + 1;
    for (int i = 0; i < 4; i++) {
        over[i] = (uint8_t)(n >> (8 * i));
        at_max[i] = (uint8_t)((n - 1) >> (8 * i));
    }
    CHECK(next_of_header(zero_len) == FRAME_BAD);
    CHECK(next_of_header(zero_type) == FRAME_BAD);
    CHECK(next_of_header(huge) == FRAME_BAD);
    CHECK(next_of_header(over) == FRAME_BAD);
    /* The largest allowed length is a frame still to come, not a bad one. */
    CHECK(next_of_header(at_max) == FRAME_PARTIAL);
    /* A header cut short is not judged yet, whatever it will say. */
    for (size_t cut = 0; cut < FRAME_HEADER; cut++) {
        CHECK(next_of_header_cut(huge, cut) == FRAME_PARTIAL);
        CHECK(next_of_header_cut(zero_len, cut) == FRAME_PARTIAL);
    }

    /* A good frame, then a corrupt header: the good one, then bad. */
    frame_buf_t b;
    frame_buf_init(&b);
    frame_begin(&b, 7);
    frame_put_u32(&b, 9);
    frame_end(&b);
    frame_put_bytes(&b, zero_type, FRAME_HEADER);
    frame_in_t in;
    frame_in_init(&in);
    frame_in_feed(&in, b.data, b.len);
    frame_t f;
    CHECK(frame_in_next(&in, &f) == FRAME_WHOLE);
    CHECK_INT(f.type, 7);
    CHECK(frame_in_next(&in, &f) == FRAME_BAD);
    frame_in_free(&in);
    frame_buf_free(&b);
}

TEST(a_frame_over_the_maximum_is_not_built)
{
    frame_buf_t b;
    frame_buf_init(&b);
    frame_begin(&b, 1);
    frame_put_u32(&b, 5);
    CHECK_INT(frame_end(&b), 0);
    size_t before = b.len;
    frame_begin(&b, 2);
    uint8_t *big = calloc(1, FRAME_MAX);
    frame_put_bytes(&b, big, FRAME_MAX);    /* with the type byte: one over */
    free(big);
    CHECK_INT(frame_end(&b), -EMSGSIZE);
    CHECK_INT(b.len, before);               /* dropped; the first frame stays */
    frame_in_t in;
    frame_in_init(&in);
    frame_in_feed(&in, b.data, b.len);
    frame_t f;
    CHECK(frame_in_next(&in, &f) == FRAME_WHOLE);
    CHECK(frame_in_next(&in, &f) == FRAME_PARTIAL);
    frame_in_free(&in);
    frame_buf_free(&b);
}

/* ---- a connection on a loop ---- */

#define CONN_MESSAGES 2000

typedef struct {
    uv_loop_t loop;
    frame_conn_t conn;
    uv_timer_t guard;               /* ends a hung test */
    unsigned got, in_order, ends, closed;
    int end_err;
    size_t bytes;
} conn_test_t;

static void on_conn_msg(frame_conn_t *c, unsigned type, const uint8_t *payload, size_t len)
{
    conn_test_t *t = c->data;
    frame_rd_t r;
    frame_rd_init(&r, payload, len);
    uint32_t seq = frame_get_u32(&r);
    const uint8_t *rest;
    /* Message i: type 1 + i % 200, its number, then i % 3000 bytes of it. */
    if (type == 1 + seq % 200 && seq == t->got && frame_get_bytes(&r, &rest, seq % 3000) && r.p == r.end)
        t->in_order++;
    t->got++;
    t->bytes += len;
}

static void on_guard_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_conn_closed(frame_conn_t *c)
{
    conn_test_t *t = c->data;
    t->closed++;
    uv_close((uv_handle_t *)&t->guard, on_guard_closed);
}

static void on_conn_end(frame_conn_t *c, int err)
{
    conn_test_t *t = c->data;
    t->ends++;
    t->end_err = err;
    frame_conn_close(c, on_conn_closed);
}

static void on_guard(uv_timer_t *tm)
{
    conn_test_t *t = tm->data;
    CHECK(!"the test hung");
    frame_conn_close(&t->conn, on_conn_closed);
}

/* A loop with a reading connection on sv[0] of a new socketpair, and a
 * guard timer that ends the test if it hangs (unreferenced: it does not
 * keep the loop alive). sv[1] is the test's. */
static void reader_start(conn_test_t *t, int sv[2])
{
    memset(t, 0, sizeof *t);
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    CHECK_INT(uv_loop_init(&t->loop), 0);
    CHECK_INT(frame_conn_start(&t->conn, &t->loop, sv[0], on_conn_msg, on_conn_end, t), 0);
    uv_timer_init(&t->loop, &t->guard);
    t->guard.data = t;
    uv_timer_start(&t->guard, on_guard, 10000, 0);
    uv_unref((uv_handle_t *)&t->guard);
}

/* The writer: another connection on the same loop, sending with
 * frame_conn_send, then closing its end. */
typedef struct {
    frame_conn_t conn;
    frame_buf_t out;
    uv_idle_t idle;
    unsigned sent;
    size_t most_queued;             /* proves the uv_write path ran too */
} writer_t;

static void on_writer_msg(frame_conn_t *c, unsigned type, const uint8_t *p, size_t len)
{
    (void)c, (void)type, (void)p, (void)len;
}

static void on_writer_end(frame_conn_t *c, int err)
{
    (void)c, (void)err;
}

static void on_idle_closed(uv_handle_t *h)
{
    (void)h;
}

/* A batch per loop turn, some larger than the socket's buffer: the reader
 * sees many frames per read and frames cut across reads, and uv_write
 * queues what uv_try_write could not put in the socket. */
static void on_writer_idle(uv_idle_t *idle)
{
    writer_t *w = idle->data;
    for (unsigned k = 0; k < 300 && w->sent < CONN_MESSAGES; k++, w->sent++) {
        frame_begin(&w->out, 1 + w->sent % 200);
        frame_put_u32(&w->out, w->sent);
        for (unsigned i = 0; i < w->sent % 3000; i++)
            frame_put_bytes(&w->out, &(uint8_t){(uint8_t)i}, 1);
        frame_end(&w->out);
    }
    frame_conn_send(&w->conn, &w->out);
    CHECK_INT(w->out.len, 0);
    size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&w->conn.pipe);
    if (queued > w->most_queued)
        w->most_queued = queued;
    if (w->sent == CONN_MESSAGES) {
        uv_idle_stop(idle);
        uv_close((uv_handle_t *)idle, on_idle_closed);
        /* uv_close on a stream with writes queued would cancel them; shut
         * down first, which waits for the queue. */
        frame_conn_stop(&w->conn);
    }
}

static void on_writer_shutdown(uv_shutdown_t *req, int status)
{
    CHECK_INT(status, 0);
    writer_t *w = req->data;
    frame_conn_close(&w->conn, NULL);
    free(req);
}

TEST(a_connection_delivers_in_order_and_ends_once)
{
    int sv[2];
    conn_test_t t;
    reader_start(&t, sv);

    writer_t w;
    frame_buf_init(&w.out);
    w.sent = 0;
    w.most_queued = 0;
    CHECK_INT(frame_conn_start(&w.conn, &t.loop, sv[1], on_writer_msg, on_writer_end, &w), 0);
    uv_idle_init(&t.loop, &w.idle);
    w.idle.data = &w;
    uv_idle_start(&w.idle, on_writer_idle);

    /* Run until the writer has queued everything, then shut its end down. */
    while (w.sent < CONN_MESSAGES)
        uv_run(&t.loop, UV_RUN_ONCE);
    uv_shutdown_t *req = malloc(sizeof *req);
    req->data = &w;
    CHECK_INT(uv_shutdown(req, (uv_stream_t *)&w.conn.pipe, on_writer_shutdown), 0);

    uv_run(&t.loop, UV_RUN_DEFAULT);
    CHECK_INT(t.got, CONN_MESSAGES);
    CHECK_INT(t.in_order, CONN_MESSAGES);
    CHECK_INT(t.ends, 1);
    CHECK_INT(t.end_err, UV_EOF);
    CHECK_INT(t.closed, 1);
    CHECK(w.most_queued > 0);
    CHECK_INT(uv_loop_close(&t.loop), 0);
    frame_buf_free(&w.out);
}

TEST(a_corrupt_frame_ends_the_connection)
{
    int sv[2];
    conn_test_t t;
    reader_start(&t, sv);

    /* One good message (number 0, type 1), a corrupt header, one more good
     * one that must not be delivered; the writer stays open, so the end
     * comes from the corrupt frame, not from EOF. */
    frame_buf_t b;
    frame_buf_init(&b);
    frame_begin(&b, 1);
    frame_put_u32(&b, 0);
    frame_end(&b);
    frame_put_bytes(&b, "\x00\x00\x00\x00\x01", FRAME_HEADER);
    frame_begin(&b, 2);
    frame_put_u32(&b, 1);
    frame_end(&b);
    CHECK_INT(frame_write_fd(sv[1], &b), 0);
    CHECK_INT(b.len, 0);
    frame_buf_free(&b);

    uv_run(&t.loop, UV_RUN_DEFAULT);
    CHECK_INT(t.got, 1);
    CHECK_INT(t.in_order, 1);
    CHECK_INT(t.ends, 1);
    CHECK_INT(t.end_err, UV_EPROTO);
    CHECK_INT(t.closed, 1);
    CHECK_INT(uv_loop_close(&t.loop), 0);
    close(sv[1]);
}

TEST(frame_write_fd_reports_a_gone_peer)
{
    int sv[2];
    CHECK_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    close(sv[0]);
    frame_buf_t b;
    frame_buf_init(&b);
    frame_begin(&b, 1);
    frame_end(&b);
    CHECK_INT(frame_write_fd(sv[1], &b), -EPIPE);   /* SIGPIPE is ignored in main */
    frame_buf_free(&b);
    close(sv[1]);
}

int main(void)
{
    check_prog = "frame";
    signal(SIGPIPE, SIG_IGN);
    RUN(every_field_round_trips);
    RUN(numbers_are_little_endian);
    RUN(reads_past_the_end_flag_bad);
    RUN(several_frames_in_one_buffer);
    RUN(frames_fed_byte_by_byte);
    RUN(frames_cut_mid_header_and_mid_payload);
    RUN(corrupt_headers_are_bad);
    RUN(a_frame_over_the_maximum_is_not_built);
    RUN(a_connection_delivers_in_order_and_ends_once);
    RUN(a_corrupt_frame_ends_the_connection);
    RUN(frame_write_fd_reports_a_gone_peer);
    return check_done();
}

/* frame: see include/util/frame.h. */
#include "util/frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

/* What a connection asks of libuv per read: a report with its statistics
 * delta fits many times over, and the kernel's socket buffer is about this. */
#define CONN_READ_SIZE 65536

/* ---- building frames ---- */

void frame_buf_init(frame_buf_t *b)
{
    b->data = NULL;
    b->len = b->cap = b->start = 0;
}

void frame_buf_free(frame_buf_t *b)
{
    free(b->data);
    frame_buf_init(b);
}

/* Doubling: a buffer is reused for every frame, so it soon stops growing. */
static void grow(uint8_t **data, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return;
    size_t c = *cap ? *cap : first;
    while (c < need)
        c *= 2;
    *data = xrealloc(*data, c);
    *cap = c;
}

static void store_le(uint8_t *at, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        at[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t load_le(const uint8_t *at, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = v << 8 | at[i];
    return v;
}

void frame_put_bytes(frame_buf_t *b, const void *p, size_t n)
{
    grow(&b->data, &b->cap, b->len + n, 256);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_le(frame_buf_t *b, uint64_t v, unsigned n)
{
    grow(&b->data, &b->cap, b->len + n, 256);
    store_le(b->data + b->len, v, n);
    b->len += n;
}

void frame_put_u16(frame_buf_t *b, uint16_t v) { put_le(b, v, 2); }
void frame_put_u32(frame_buf_t *b, uint32_t v) { put_le(b, v, 4); }
void frame_put_u64(frame_buf_t *b, uint64_t v) { put_le(b, v, 8); }

void frame_put_f64(frame_buf_t *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_le(b, u, 8);
}

void frame_begin(frame_buf_t *b, unsigned type)
{
    b->start = b->len;
    put_le(b, 0, 4);
    put_le(b, (uint8_t)type, 1);
}

int frame_end(frame_buf_t *b)
{
    size_t n = b->len - b->start - 4;
    if (n > FRAME_MAX) {
        b->len = b->start;
        return -EMSGSIZE;
    }
    store_le(b->data + b->start, n, 4);
    return 0;
}

/* ---- reading a payload ---- */

void frame_rd_init(frame_rd_t *r, const void *p, size_t n)
{
    r->p = p;
    r->end = r->p + n;
    r->bad = false;
}

bool frame_get_bytes(frame_rd_t *r, const uint8_t **out, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        r->p = r->end;
        *out = NULL;
        return false;
    }
    *out = r->p;
    r->p += n;
    return true;
}

static uint64_t get_le(frame_rd_t *r, unsigned n)
{
    const uint8_t *at;
    return frame_get_bytes(r, &at, n) ? load_le(at, n) : 0;
}

uint16_t frame_get_u16(frame_rd_t *r) { return (uint16_t)get_le(r, 2); }
uint32_t frame_get_u32(frame_rd_t *r) { return (uint32_t)get_le(r, 4); }
uint64_t frame_get_u64(frame_rd_t *r) { return get_le(r, 8); }

double frame_get_f64(frame_rd_t *r)
{
    uint64_t u = get_le(r, 8);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* ---- incoming bytes to frames ---- */

void frame_in_init(frame_in_t *in)
{
    memset(in, 0, sizeof *in);
}

void frame_in_free(frame_in_t *in)
{
    free(in->data);
    frame_in_init(in);
}

uint8_t *frame_in_space(frame_in_t *in, size_t want, size_t *room)
{
    /* Drop what was handed out, so the buffer holds one partial frame at
     * most: the move is of that partial frame only, usually nothing. */
    if (in->consumed) {
        memmove(in->data, in->data + in->consumed, in->len - in->consumed);
        in->len -= in->consumed;
        in->consumed = 0;
    }
    grow(&in->data, &in->cap, in->len + want, 4096);
    *room = in->cap - in->len;
    return in->data + in->len;
}

void frame_in_commit(frame_in_t *in, size_t n)
{
    in->len += n;
}

void frame_in_feed(frame_in_t *in, const void *p, size_t n)
{
    size_t room;
    uint8_t *at = frame_in_space(in, n, &room);
    if (n)
        memcpy(at, p, n);
    frame_in_commit(in, n);
}

frame_status_t frame_in_next(frame_in_t *in, frame_t *out)
{
    if (in->bad)
        return FRAME_BAD;
    size_t avail = in->len - in->consumed;
    if (avail < FRAME_HEADER)
        return FRAME_PARTIAL;
    const uint8_t *p = in->data + in->consumed;
    uint32_t n = (uint32_t)load_le(p, 4);
    if (n < 1 || n > (in->max ? in->max : FRAME_MAX) || p[4] == 0) {
        in->bad = true;
        return FRAME_BAD;
    }
    if (avail - 4 < n)
        return FRAME_PARTIAL;
    out->type = p[4];
    out->payload = p + FRAME_HEADER;
    out->len = n - 1;
    in->consumed += 4 + (size_t)n;
    return FRAME_WHOLE;
}

/* ---- a connection on a libuv loop ---- */

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    frame_conn_t *c = h->data;
    size_t room;
    uint8_t *at = frame_in_space(&c->in, CONN_READ_SIZE, &room);
    /* libuv reads at most UINT_MAX at once; room never comes near it. */
    *buf = uv_buf_init((char *)at, (unsigned)room);
}

static void conn_end(frame_conn_t *c, int err)
{
    frame_conn_stop(c);
    c->on_end(c, err);
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    (void)buf; /* the tail of c->in, which conn_alloc handed out */
    frame_conn_t *c = s->data;
    if (n < 0) {
        conn_end(c, (int)n);
        return;
    }
    frame_in_commit(&c->in, (size_t)n);
    frame_t f;
    frame_status_t st = FRAME_PARTIAL;
    /* on_msg may stop or close the connection: check before each frame. */
    while (c->reading && (st = frame_in_next(&c->in, &f)) == FRAME_WHOLE)
        c->on_msg(c, f.type, f.payload, f.len);
    if (c->reading && st == FRAME_BAD)
        conn_end(c, UV_EPROTO);
}

int frame_conn_start(frame_conn_t *c, uv_loop_t *loop, int fd, frame_msg_cb on_msg, frame_end_cb on_end,
                     void *data)
{
    memset(c, 0, sizeof *c);
    frame_in_init(&c->in);
    c->on_msg = on_msg;
    c->on_end = on_end;
    c->data = data;
    uv_pipe_init(loop, &c->pipe, 0); /* cannot fail on Unix */
    c->pipe.data = c;
    int err = uv_pipe_open(&c->pipe, fd);
    if (err < 0) {
        close(fd);
        return err;
    }
    err = uv_read_start((uv_stream_t *)&c->pipe, conn_alloc, conn_read);
    if (err < 0)
        return err;
    c->reading = true;
    return 0;
}

void frame_conn_stop(frame_conn_t *c)
{
    if (!c->reading)
        return;
    c->reading = false;
    uv_read_stop((uv_stream_t *)&c->pipe);
}

/* The buffer goes with the handle: conn_read may still be iterating it when
 * frame_conn_close is called, but never when this runs. */
static void conn_closed(uv_handle_t *h)
{
    frame_conn_t *c = h->data;
    frame_in_free(&c->in);
    if (c->on_closed)
        c->on_closed(c);
}

void frame_conn_close(frame_conn_t *c, frame_closed_cb on_closed)
{
    if (c->closing)
        return;
    frame_conn_stop(c);
    c->closing = true;
    c->on_closed = on_closed;
    uv_close((uv_handle_t *)&c->pipe, conn_closed);
}

typedef struct {
    uv_write_t req;
    uint8_t *data;
} pending_write_t;

static void on_written(uv_write_t *w, int status)
{
    (void)status; /* a lost peer shows as EOF on the read side */
    pending_write_t *p = (pending_write_t *)w;
    free(p->data);
    free(p);
}

void frame_conn_send(frame_conn_t *c, frame_buf_t *b)
{
    if (c->closing || b->len == 0) {
        b->len = 0;
        return;
    }
    uv_stream_t *s = (uv_stream_t *)&c->pipe;
    uv_buf_t buf = uv_buf_init((char *)b->data, (unsigned)b->len);
    int n = uv_try_write(s, &buf, 1);
    size_t done = n > 0 ? (size_t)n : 0;
    if (done < b->len) {
        pending_write_t *p = xmalloc(sizeof *p);
        p->data = xmalloc(b->len - done);
        memcpy(p->data, b->data + done, b->len - done);
        uv_buf_t rest = uv_buf_init((char *)p->data, (unsigned)(b->len - done));
        if (uv_write(&p->req, s, &rest, 1, on_written) != 0) {
            free(p->data);
            free(p);
        }
    }
    b->len = 0;
}

int frame_write_fd(int fd, frame_buf_t *b)
{
    const uint8_t *p = b->data;
    size_t left = b->len;
    b->len = 0;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        left -= (size_t)n;
    }
    return 0;
}

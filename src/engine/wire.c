/* wire: see include/engine/wire.h. */
#include "engine/wire.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void wbuf_init(wbuf_t *b)
{
    b->data = NULL;
    b->len = b->cap = b->frame = 0;
}

void wbuf_free(wbuf_t *b)
{
    free(b->data);
    wbuf_init(b);
}

static void grow(wbuf_t *b, size_t n)
{
    if (b->len + n <= b->cap)
        return;
    size_t c = b->cap ? b->cap : 256;
    while (c < b->len + n)
        c *= 2;
    b->data = xrealloc(b->data, c);
    b->cap = c;
}

void wbuf_bytes(wbuf_t *b, const void *p, size_t n)
{
    grow(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

void wbuf_u8(wbuf_t *b, uint8_t v) { wbuf_bytes(b, &v, 1); }

void wbuf_u16(wbuf_t *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    wbuf_bytes(b, x, 2);
}

void wbuf_u32(wbuf_t *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    wbuf_bytes(b, x, 4);
}

void wbuf_u64(wbuf_t *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    wbuf_bytes(b, x, 8);
}

void wbuf_f64(wbuf_t *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    wbuf_u64(b, u);
}

void wbuf_begin(wbuf_t *b, wire_msg_t type)
{
    b->frame = b->len;
    wbuf_u32(b, 0);
    wbuf_u8(b, (uint8_t)type);
}

void wbuf_end(wbuf_t *b)
{
    size_t at = b->frame;
    uint32_t n = (uint32_t)(b->len - at - 4);
    for (int i = 0; i < 4; i++)
        b->data[at + (size_t)i] = (uint8_t)(n >> (8 * i));
}

void rbuf_init(rbuf_t *r, const void *p, size_t n)
{
    r->p = p;
    r->end = r->p + n;
    r->bad = false;
}

static bool take(rbuf_t *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(out, 0, n);
        r->p = r->end;
        return false;
    }
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}

uint8_t rbuf_u8(rbuf_t *r)
{
    uint8_t v;
    take(r, &v, 1);
    return v;
}

uint16_t rbuf_u16(rbuf_t *r)
{
    uint8_t x[2];
    take(r, x, 2);
    return (uint16_t)(x[0] | x[1] << 8);
}

uint32_t rbuf_u32(rbuf_t *r)
{
    uint8_t x[4];
    take(r, x, 4);
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

uint64_t rbuf_u64(rbuf_t *r)
{
    uint8_t x[8];
    take(r, x, 8);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | x[i];
    return v;
}

double rbuf_f64(rbuf_t *r)
{
    uint64_t u = rbuf_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

bool rbuf_bytes(rbuf_t *r, const uint8_t **out, size_t n)
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

void wire_reader_init(wire_reader_t *w)
{
    memset(w, 0, sizeof *w);
}

void wire_reader_free(wire_reader_t *w)
{
    free(w->data);
    memset(w, 0, sizeof *w);
}

void wire_reader_feed(wire_reader_t *w, const void *p, size_t n)
{
    /* Drop what was consumed before appending, so the buffer stays small. */
    if (w->consumed) {
        memmove(w->data, w->data + w->consumed, w->len - w->consumed);
        w->len -= w->consumed;
        w->consumed = 0;
    }
    if (w->len + n > w->cap) {
        size_t c = w->cap ? w->cap : 4096;
        while (c < w->len + n)
            c *= 2;
        w->data = xrealloc(w->data, c);
        w->cap = c;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
}

bool wire_next(wire_reader_t *w, wire_msg_t *type, const uint8_t **payload, size_t *len, bool *bad)
{
    *bad = false;
    size_t avail = w->len - w->consumed;
    if (avail < 5)
        return false;
    const uint8_t *p = w->data + w->consumed;
    uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (n < 1 || n > WIRE_MAX_FRAME) {
        *bad = true;
        return false;
    }
    if (avail < 4 + (size_t)n)
        return false;
    *type = (wire_msg_t)p[4];
    *payload = p + 5;
    *len = n - 1;
    w->consumed += 4 + n;
    return true;
}

typedef struct {
    uv_write_t req;
    uint8_t *data;
} pending_write_t;

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    pending_write_t *p = (pending_write_t *)w;
    free(p->data);
    free(p);
}

void wire_send(uv_stream_t *s, wbuf_t *b)
{
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

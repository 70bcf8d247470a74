/* hello: the start of an MPI run's conversation (see include/cluster/cluster.h):
 * the hello a rank says, the setup the conductor gives, and the fingerprint
 * that compares command lines and plans. Frames of util/frame.h, so the
 * bounds checks are the ones every other message of hopper has. */
#include "cluster/cluster.h"

#include <string.h>

#include "util/frame.h"

enum { MSG_HELLO = 1, MSG_SETUP = 2 };

uint64_t cluster_fingerprint(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (h == 0)
        h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void put_str(frame_buf_t *b, const char *s, size_t max)
{
    size_t n = strnlen(s, max - 1);
    frame_put_u32(b, (uint32_t)n);
    frame_put_bytes(b, s, n);
}

/* A string of at most max - 1 bytes with no NUL inside, into out. */
static void get_str(frame_rd_t *r, char *out, size_t max)
{
    uint32_t n = frame_get_u32(r);
    const uint8_t *p;
    out[0] = 0;
    if (n >= max || !frame_get_bytes(r, &p, n) || memchr(p, 0, n)) {
        r->bad = true;
        return;
    }
    memcpy(out, p, n);
    out[n] = 0;
}

/* The frame's payload, handed over as a malloc'd buffer. */
static void take(frame_buf_t *b, uint8_t **buf, size_t *len)
{
    *buf = b->data;
    *len = b->len;
}

/* Exactly one frame of the type (util/frame.h: a 4-byte little-endian
 * length of what follows, the type byte, the payload), its payload in *r. */
static int open_frame(const uint8_t *p, size_t n, unsigned type, frame_rd_t *r)
{
    if (n < FRAME_HEADER)
        return -1;
    uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    if (len != n - 4 || p[4] != type)
        return -1;
    frame_rd_init(r, p + FRAME_HEADER, n - FRAME_HEADER);
    return 0;
}

static int done(const frame_rd_t *r)
{
    return r->bad || r->p != r->end ? -1 : 0;
}

void cluster_put_hello(uint8_t **buf, size_t *len, const cluster_hello_t *h)
{
    frame_buf_t b;
    frame_buf_init(&b);
    frame_begin(&b, MSG_HELLO);
    put_str(&b, h->version, sizeof h->version);
    frame_put_u32(&b, h->proto);
    put_str(&b, h->host, sizeof h->host);
    frame_put_u32(&b, h->pid);
    frame_put_u64(&b, h->options);
    frame_put_u64(&b, h->plan);
    frame_put_u32(&b, h->workers);
    frame_put_u64(&b, h->fd_limit);
    put_str(&b, h->error, sizeof h->error);
    frame_end(&b);
    take(&b, buf, len);
}

int cluster_get_hello(const uint8_t *p, size_t n, cluster_hello_t *h)
{
    memset(h, 0, sizeof *h);
    frame_rd_t r;
    if (open_frame(p, n, MSG_HELLO, &r) != 0)
        return -1;
    get_str(&r, h->version, sizeof h->version);
    h->proto = frame_get_u32(&r);
    get_str(&r, h->host, sizeof h->host);
    h->pid = frame_get_u32(&r);
    h->options = frame_get_u64(&r);
    h->plan = frame_get_u64(&r);
    h->workers = frame_get_u32(&r);
    h->fd_limit = frame_get_u64(&r);
    get_str(&r, h->error, sizeof h->error);
    return done(&r);
}

void cluster_put_setup(uint8_t **buf, size_t *len, const cluster_setup_t *s)
{
    frame_buf_t b;
    frame_buf_init(&b);
    frame_begin(&b, MSG_SETUP);
    frame_put_u32(&b, s->go);
    frame_put_u64(&b, s->seed);
    frame_put_u32(&b, s->rank_index);
    frame_put_u32(&b, s->rank_count);
    frame_put_u32(&b, s->slot_first);
    frame_put_u32(&b, s->slot_total);
    frame_put_u64(&b, s->users);
    frame_put_u64(&b, s->start_users);
    frame_put_u64(&b, s->max_users);
    put_str(&b, s->sources, sizeof s->sources);
    frame_put_u32(&b, s->source_part);
    frame_put_u32(&b, s->source_parts);
    frame_end(&b);
    take(&b, buf, len);
}

int cluster_get_setup(const uint8_t *p, size_t n, cluster_setup_t *s)
{
    memset(s, 0, sizeof *s);
    frame_rd_t r;
    if (open_frame(p, n, MSG_SETUP, &r) != 0)
        return -1;
    s->go = frame_get_u32(&r);
    s->seed = frame_get_u64(&r);
    s->rank_index = frame_get_u32(&r);
    s->rank_count = frame_get_u32(&r);
    s->slot_first = frame_get_u32(&r);
    s->slot_total = frame_get_u32(&r);
    s->users = frame_get_u64(&r);
    s->start_users = frame_get_u64(&r);
    s->max_users = frame_get_u64(&r);
    get_str(&r, s->sources, sizeof s->sources);
    s->source_part = frame_get_u32(&r);
    s->source_parts = frame_get_u32(&r);
    if (done(&r) != 0)
        return -1;
    /* Numbers that index anything must be in range. */
    if (s->go && (s->rank_count == 0 || s->rank_index >= s->rank_count || s->slot_total == 0 ||
                  s->slot_first >= s->slot_total || s->source_parts == 0 ||
                  s->source_part >= s->source_parts))
        return -1;
    return 0;
}

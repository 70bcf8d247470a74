/* varint: unsigned LEB128 numbers on frame buffers, for the control
 * protocol (private to src/control). Most numbers of a snapshot are small
 * (counts, microseconds, buckets mostly zero): seven bits a byte makes a
 * snapshot about a third of its fixed-width size. A reader refuses a
 * number longer than ten bytes or past 64 bits (sets bad, as frame_rd
 * does for a short payload). */
#ifndef HOPPER_CONTROL_VARINT_H
#define HOPPER_CONTROL_VARINT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "util/frame.h"

static inline void varint_put(frame_buf_t *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    frame_put_bytes(b, tmp, n);
}

static inline uint64_t varint_get(frame_rd_t *r)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 10; i++) {
        const uint8_t *at;
        if (!frame_get_bytes(r, &at, 1))
            return 0;
        uint64_t bits = *at & 0x7f;
        if (i == 9 && bits > 1)
            break;   /* past 64 bits */
        v |= bits << (7 * i);
        if (!(*at & 0x80))
            return v;
    }
    r->bad = true;
    r->p = r->end;
    return 0;
}

static inline void f32_put(frame_buf_t *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    frame_put_u32(b, u);
}

/* Numbers that are not finite read as 0: the views compute with them (and
 * cast some to integers, where a NaN would be undefined). */
static inline float f32_get(frame_rd_t *r)
{
    uint32_t u = frame_get_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return isfinite(f) ? f : 0.0f;
}

static inline double f64_get(frame_rd_t *r)
{
    double d = frame_get_f64(r);
    return isfinite(d) ? d : 0.0;
}

static inline uint8_t u8_get(frame_rd_t *r)
{
    const uint8_t *at;
    return frame_get_bytes(r, &at, 1) ? *at : 0;
}

static inline void u8_put(frame_buf_t *b, uint8_t v)
{
    frame_put_bytes(b, &v, 1);
}

/* A bool is one byte, 0 or 1; anything else makes the payload bad. */
static inline bool bool_get(frame_rd_t *r)
{
    uint8_t v = u8_get(r);
    if (v > 1) {
        r->bad = true;
        r->p = r->end;
    }
    return v == 1;
}

/* A short text: its length (a varint) and its bytes, no NUL. */
static inline void text_put(frame_buf_t *b, const char *s, size_t max)
{
    size_t n = s ? strnlen(s, max) : 0;
    varint_put(b, n);
    frame_put_bytes(b, s, n);
}

/* Into out (cap bytes, NUL-terminated): false (and bad) if it is longer
 * than cap - 1 or holds a NUL. */
static inline bool text_get(frame_rd_t *r, char *out, size_t cap)
{
    uint64_t n = varint_get(r);
    const uint8_t *at;
    if (r->bad || n >= cap || !frame_get_bytes(r, &at, (size_t)n) || memchr(at, '\0', (size_t)n)) {
        r->bad = true;
        r->p = r->end;
        out[0] = '\0';
        return false;
    }
    memcpy(out, at, (size_t)n);
    out[n] = '\0';
    return true;
}

#endif

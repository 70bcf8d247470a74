/* proto: see include/control/proto.h. */
#include "control/proto.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hopper.h"
#include "control/snapwire.h"
#include "util/text.h"
#include "varint.h"

void proto_put_hello(frame_buf_t *b)
{
    frame_begin(b, PROTO_HELLO);
    frame_put_bytes(b, PROTO_MAGIC, PROTO_MAGIC_LEN);
    frame_put_u16(b, PROTO_VERSION);
    text_put(b, HOPPER_VERSION, PROTO_VERSION_TEXT - 1);
    frame_end(b);
}

int proto_get_hello(const uint8_t *p, size_t n, proto_hello_t *out)
{
    frame_rd_t r;
    frame_rd_init(&r, p, n);
    const uint8_t *magic;
    if (!frame_get_bytes(&r, &magic, PROTO_MAGIC_LEN) || memcmp(magic, PROTO_MAGIC, PROTO_MAGIC_LEN))
        return -1;
    out->version = frame_get_u16(&r);
    /* A later version may add fields after these: only what is known is read. */
    char raw[PROTO_VERSION_TEXT];
    if (!text_get(&r, raw, sizeof raw))
        return -1;
    /* The other side's text goes into messages people read. */
    text_sanitize(raw, out->hopper, sizeof out->hopper);
    return r.bad ? -1 : 0;
}

bool proto_compatible(const proto_hello_t *h, bool local_is_test, char *msg, size_t len)
{
    if (h->version == PROTO_VERSION)
        return true;
    if (local_is_test)
        snprintf(msg, len, "a viewer speaking control protocol %u (hopper %s) was refused: this "
                 "test speaks protocol %u", h->version, h->hopper, PROTO_VERSION);
    else
        snprintf(msg, len, "this test speaks control protocol %u (hopper %s), this hopper speaks "
                 "%u (hopper %s): use the hopper that started the test", h->version, h->hopper,
                 PROTO_VERSION, HOPPER_VERSION);
    return false;
}

void proto_put_command(frame_buf_t *b, proto_cmd_t c)
{
    frame_begin(b, PROTO_COMMAND);
    u8_put(b, (uint8_t)c.kind);
    frame_put_f64(b, c.value);
    frame_end(b);
}

int proto_get_command(const uint8_t *p, size_t n, proto_cmd_t *out)
{
    frame_rd_t r;
    frame_rd_init(&r, p, n);
    unsigned kind = u8_get(&r);
    double v = frame_get_f64(&r);
    if (r.bad || r.p != r.end || !isfinite(v))
        return -1;
    bool ok;
    switch (kind) {
    case PROTO_CMD_USERS: ok = v >= 0 && v <= (double)HOPPER_MAX_USERS; break;
    case PROTO_CMD_SPAWN_RATE: ok = v >= HOPPER_MIN_SPAWN_RATE && v <= HOPPER_MAX_SPAWN_RATE; break;
    case PROTO_CMD_ARRIVAL_RATE: ok = v >= 0 && v <= HOPPER_MAX_ARRIVAL_RATE; break;
    case PROTO_CMD_PAUSE: ok = v == 0 || v == 1; break;
    case PROTO_CMD_RESET:
    case PROTO_CMD_STOP: ok = v == 0; break;
    default: ok = false; break;
    }
    if (!ok)
        return -1;
    out->kind = (proto_cmd_kind_t)kind;
    out->value = v;
    return 0;
}

uint64_t proto_row_key(const char *method, const char *name)
{
    uint64_t h = 14695981039346656037ull;
    for (const char *p = method ? method : ""; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = h * 1099511628211ull;   /* the NUL between: ("AB", "C") is not ("A", "BC") */
    for (const char *p = name ? name : ""; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    return h;
}

void proto_put_focus(frame_buf_t *b, proto_focus_t f)
{
    frame_begin(b, PROTO_FOCUS);
    u8_put(b, f.row ? 1 : 0);
    if (f.row) {
        varint_put(b, f.index);
        frame_put_u64(b, f.key);
    }
    frame_end(b);
}

int proto_get_focus(const uint8_t *p, size_t n, proto_focus_t *out)
{
    frame_rd_t r;
    frame_rd_init(&r, p, n);
    unsigned row = u8_get(&r);
    proto_focus_t f = {.row = row == 1};
    if (f.row) {
        uint64_t index = varint_get(&r);
        f.key = frame_get_u64(&r);
        if (index >= SNAPWIRE_MAX_ROWS)
            return -1;
        f.index = (uint32_t)index;
    }
    if (r.bad || r.p != r.end || row > 1)
        return -1;
    *out = f;
    return 0;
}

void proto_put_bye(frame_buf_t *b, const char *reason)
{
    frame_begin(b, PROTO_BYE);
    text_put(b, reason ? reason : "", LOG_LINE_MAX - 1);
    frame_end(b);
}

int proto_get_bye(const uint8_t *p, size_t n, char *reason, size_t len)
{
    frame_rd_t r;
    frame_rd_init(&r, p, n);
    char text[LOG_LINE_MAX];
    if (!text_get(&r, text, sizeof text) || r.p != r.end)
        return -1;
    /* Printed as it is by the viewer: no escape sequence gets through. */
    text_sanitize(text, reason, len);
    return 0;
}

void proto_put_log(frame_buf_t *b, const log_t *log, unsigned long *seq)
{
    if (log->seq == *seq)
        return;
    /* Ring line i has the sequence number log->seq - (n_ring - 1 - i). */
    unsigned long first = log->seq - (log->n_ring - 1);
    size_t from = *seq >= first ? (size_t)(*seq - first + 1) : 0;
    if (from >= log->n_ring) {
        *seq = log->seq;
        return;
    }
    frame_begin(b, PROTO_LOG);
    varint_put(b, log->n_ring - from);
    for (size_t i = from; i < log->n_ring; i++) {
        const log_line_t *l = log_ring_at(log, i);
        frame_put_u64(b, first + i);
        frame_put_f64(b, l->t_unix);
        text_put(b, l->text, LOG_LINE_MAX - 1);
    }
    frame_end(b);
    *seq = log->seq;
}

int proto_get_log(const uint8_t *p, size_t n, log_t *log, unsigned long *seq)
{
    /* Read it all first: a malformed payload keeps nothing. */
    frame_rd_t r;
    frame_rd_init(&r, p, n);
    uint64_t count = varint_get(&r);
    if (r.bad || count > LOG_RING)
        return -1;
    char text[LOG_LINE_MAX];
    uint64_t prev = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t s = frame_get_u64(&r);
        (void)frame_get_f64(&r);
        if (!text_get(&r, text, sizeof text) || (i > 0 && s <= prev))
            return -1;
        prev = s;
    }
    if (r.bad || r.p != r.end)
        return -1;
    frame_rd_init(&r, p, n);
    (void)varint_get(&r);
    for (uint64_t i = 0; i < count; i++) {
        uint64_t s = frame_get_u64(&r);
        double t = f64_get(&r);
        text_get(&r, text, sizeof text);
        if (s > *seq) {
            char clean[LOG_LINE_MAX];
            log_keep(log, t, text_sanitize(text, clean, sizeof clean));
            *seq = (unsigned long)s;
        }
    }
    return 0;
}

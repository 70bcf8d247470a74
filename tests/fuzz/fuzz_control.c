/* fuzz_control: the control socket's decoders (include/control/proto.h,
 * include/control/snapwire.h): what a viewer reads from a test and a test
 * from a viewer.
 *
 * The first byte picks the frame type, the rest is its payload. Promises
 * checked, beyond "no crash, no leak, no read out of bounds":
 *   - a snapshot that decodes is consistent: every row's timelines lie
 *     within the points, its codes within SNAP_CODES, the stage within the
 *     stages, the state and the events' kinds in range, every string the
 *     views print (host, client, rows' and errors' method and name) is
 *     non-NULL and either "" or a NUL-terminated string of the decoder's
 *     own table, and every text is sanitised (well-formed UTF-8 without a
 *     control character); and encoding it
 *     again gives a payload that decodes to the same encoding (stable);
 *   - checks that decode: each result points at its own check and a
 *     non-NULL, sanitised text; goodbyes, hellos and log lines sanitised;
 *   - a command that decodes has a known kind and a finite value in range;
 *   - a focus that decodes names a row within SNAPWIRE_MAX_ROWS, and
 *     encoding it again gives a payload that decodes to the same focus;
 *   - log lines that decode only ever move the sequence number forward;
 *   - a refused payload leaves the decoder reusable (decoded again). */
#include <math.h>
#include <stdbool.h>

#include "fuzz.h"
#include "hopper.h"
#include "control/proto.h"
#include "control/snapwire.h"
#include "util/frame.h"
#include "util/log.h"
#include "util/text.h"

/* What a terminal may be sent: well-formed UTF-8, no control character. */
static void check_clean(const char *s)
{
    size_t left = strlen(s);
    while (left) {
        size_t n = text_utf8_len(s, left);
        FUZZ_CHECK(n > 0 && !text_is_control(s, n));
        s += n;
        left -= n;
    }
}

static void check_str(const snapwire_t *w, const char *s)
{
    FUZZ_CHECK(s != NULL);
    if (s[0] == '\0')
        return;   /* a missing string: "" (possibly not the table's) */
    FUZZ_CHECK(s >= w->strings && s < w->strings + w->cap_strings);
    FUZZ_CHECK(memchr(s, '\0', (size_t)(w->strings + w->cap_strings - s)) != NULL);
    check_clean(s);
}

static void check_snapshot(const snapwire_t *w)
{
    const snap_t *s = &w->snap;
    FUZZ_CHECK(s->state <= RUN_DONE);
    FUZZ_CHECK(s->stage <= s->n_stages);
    FUZZ_CHECK(s->n_workers <= HOPPER_MAX_WORKERS);
    check_str(w, s->host);
    check_str(w, s->client);
    for (size_t i = 0; i < snap_row_count(s); i++) {
        const snap_entry_t *e = snap_row(s, i);
        FUZZ_CHECK((uint64_t)e->recent_at + e->n_recent <= s->n_points);
        FUZZ_CHECK((uint64_t)e->history_at + e->n_history <= s->n_points);
        FUZZ_CHECK(e->n_codes <= SNAP_CODES);
        check_str(w, e->method);
        check_str(w, e->name);
        /* Reading the timelines touches only what they cover. */
        const snap_point_t *r = snap_row_recent(s, e);
        for (uint32_t k = 0; k < e->n_recent; k++)
            FUZZ_CHECK(isfinite(r[k].rps));
    }
    for (size_t i = 0; i < s->n_errors; i++) {
        check_str(w, s->errors[i].method);
        check_str(w, s->errors[i].name);
        FUZZ_CHECK(memchr(s->errors[i].error, '\0', SNAP_ERROR_TEXT) != NULL);
        check_clean(s->errors[i].error);
    }
    for (size_t i = 0; i < s->n_events; i++)
        FUZZ_CHECK(s->events[i].kind <= EVENT_STAGE);
    FUZZ_CHECK(isfinite(s->spawn_rate) && isfinite(s->arrival_rate));

    /* Stable: encode, decode, encode again: the same bytes. */
    frame_buf_t a, b;
    frame_buf_init(&a);
    frame_buf_init(&b);
    snapwire_put_snapshot(&a, s);
    snapwire_t w2;
    snapwire_init(&w2);
    FUZZ_CHECK(snapwire_get_snapshot(&w2, a.data + FRAME_HEADER, a.len - FRAME_HEADER) == 0);
    snapwire_put_snapshot(&b, &w2.snap);
    FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    snapwire_free(&w2);
    frame_buf_free(&a);
    frame_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned type = data[0];
    /* The payload in an allocation of its own, so ASan sees any read past it. */
    size_t n = size - 1;
    uint8_t *p = malloc(n ? n : 1);
    FUZZ_CHECK(p != NULL);
    if (n)
        memcpy(p, data + 1, n);

    switch (type % 7) {
    case 0: {
        snapwire_t w;
        snapwire_init(&w);
        if (snapwire_get_snapshot(&w, p, n) == 0)
            check_snapshot(&w);
        else
            FUZZ_CHECK(w.snap.n_entries == 0 && w.snap.n_points == 0);
        /* Reusable after either. */
        if (snapwire_get_snapshot(&w, p, n) == 0)
            check_snapshot(&w);
        snapwire_free(&w);
        break;
    }
    case 1: {
        snapwire_checks_t c;
        snapwire_checks_init(&c);
        if (snapwire_get_checks(&c, p, n) == 0) {
            FUZZ_CHECK(c.n <= SNAPWIRE_MAX_CHECKS);
            for (size_t i = 0; i < c.n; i++) {
                FUZZ_CHECK(c.results[i].check == &c.checks[i]);
                FUZZ_CHECK(c.checks[i].text != NULL);
                FUZZ_CHECK(strlen(c.checks[i].text) < SNAPWIRE_CHECK_TEXT);
                FUZZ_CHECK(memchr(c.results[i].measured, '\0', sizeof c.results[i].measured));
                check_clean(c.checks[i].text);
                check_clean(c.results[i].measured);
            }
        } else {
            FUZZ_CHECK(c.n == 0);
        }
        snapwire_checks_free(&c);
        break;
    }
    case 2: {
        proto_hello_t h;
        if (proto_get_hello(p, n, &h) == 0) {
            FUZZ_CHECK(memchr(h.hopper, '\0', sizeof h.hopper) != NULL);
            check_clean(h.hopper);
            char msg[512];
            if (!proto_compatible(&h, false, msg, sizeof msg))
                FUZZ_CHECK(strstr(msg, "use the hopper that started the test") != NULL);
        }
        break;
    }
    case 3: {
        proto_cmd_t c;
        if (proto_get_command(p, n, &c) == 0) {
            FUZZ_CHECK(c.kind >= PROTO_CMD_USERS && c.kind <= PROTO_CMD_STOP);
            FUZZ_CHECK(isfinite(c.value) && c.value >= 0);
            FUZZ_CHECK(c.kind != PROTO_CMD_USERS || c.value <= (double)HOPPER_MAX_USERS);
            FUZZ_CHECK(c.kind != PROTO_CMD_SPAWN_RATE || c.value >= HOPPER_MIN_SPAWN_RATE);
        }
        break;
    }
    case 4: {
        log_t log;
        log_open(&log, NULL);
        unsigned long seq = 7;
        unsigned long before = log.seq;
        if (proto_get_log(p, n, &log, &seq) == 0)
            FUZZ_CHECK(seq >= 7);
        else
            FUZZ_CHECK(seq == 7 && log.seq == before);
        FUZZ_CHECK(log.n_ring <= LOG_RING);
        for (size_t i = 0; i < log.n_ring; i++)
        {
            FUZZ_CHECK(memchr(log_ring_at(&log, i)->text, '\0', LOG_LINE_MAX) != NULL);
            check_clean(log_ring_at(&log, i)->text);
        }
        log_close(&log);
        break;
    }
    case 6: {
        proto_focus_t f;
        if (proto_get_focus(p, n, &f) == 0) {
            FUZZ_CHECK(f.index < SNAPWIRE_MAX_ROWS);
            frame_buf_t b;
            frame_buf_init(&b);
            proto_put_focus(&b, f);
            proto_focus_t g;
            FUZZ_CHECK(proto_get_focus(b.data + FRAME_HEADER, b.len - FRAME_HEADER, &g) == 0);
            FUZZ_CHECK(g.row == f.row);
            FUZZ_CHECK(!f.row || (g.index == f.index && g.key == f.key));
            frame_buf_free(&b);
        }
        break;
    }
    case 5: {
        char reason[64];
        if (proto_get_bye(p, n, reason, sizeof reason) == 0) {
            FUZZ_CHECK(memchr(reason, '\0', sizeof reason) != NULL);
            check_clean(reason);
        }
        break;
    }
    }
    free(p);
    return 0;
}

/* target_counts: see include/target/target_counts.h. */
#include "target/target_counts.h"

#include <errno.h>
#include <http_parser.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/frame.h"
#include "util/xalloc.h"

/* Twice the key limit keeps the table at most half full, so probes stay short
 * even when it is full. Must be a power of two. */
#define SLOT_COUNT (2 * TARGET_COUNTS_MAX_KEYS)

struct slot {
    uint64_t hash;
    uint64_t count;
    char *path; /* NULL: empty slot */
    uint32_t path_len;
    unsigned method;
};

struct target_counts {
    struct slot *slots;
    size_t keys;
    uint64_t answered;
    uint64_t other;
    uint64_t malformed;
    uint64_t reset; /* HTTP/2 requests refused with RST_STREAM (--h2-rst-rate): not answered */
    uint64_t failed; /* answered with --fail-rate's status (also in answered) */
    uint64_t auth[TARGET_COUNTS_AUTH_KINDS];
};

/* The report's names of the login-flow counters. */
static const char *const auth_names[TARGET_COUNTS_AUTH_KINDS] = {
    [TARGET_COUNTS_TOKENS_ISSUED] = "tokens issued",
    [TARGET_COUNTS_TOKEN_OK] = "token ok",
    [TARGET_COUNTS_TOKEN_BAD] = "token bad",
    [TARGET_COUNTS_LOGOUTS] = "logouts",
    [TARGET_COUNTS_LOGINS_REFUSED] = "logins refused",
};

struct target_counts *target_counts_new(void)
{
    struct target_counts *c = xcalloc(1, sizeof(*c));
    c->slots = xcalloc(SLOT_COUNT, sizeof(*c->slots));
    return c;
}

void target_counts_free(struct target_counts *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < SLOT_COUNT; i++)
        free(c->slots[i].path);
    free(c->slots);
    free(c);
}

/* FNV-1a: a few cycles per byte, and the paths are short. The method is mixed
 * in last so GET and HEAD of one path land in different slots. */
static uint64_t key_hash(unsigned method, const char *path, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)path[i];
        h *= 0x100000001b3ULL;
    }
    h ^= method + 1;
    h *= 0x100000001b3ULL;
    return h;
}

/* Adds n to the key's count, making the key if it is new and there is room;
 * past TARGET_COUNTS_MAX_KEYS keys, n goes to "other". Does not touch
 * `answered`: the callers decide what that counts. */
static inline void count_key(struct target_counts *c, unsigned method, const char *path, uint32_t len,
                             uint64_t n)
{
    uint64_t h = key_hash(method, path, len);
    for (size_t i = h & (SLOT_COUNT - 1);; i = (i + 1) & (SLOT_COUNT - 1)) {
        struct slot *s = &c->slots[i];
        if (s->path == NULL) {
            if (c->keys >= TARGET_COUNTS_MAX_KEYS) {
                c->other += n;
                return;
            }
            /* +1 so an empty path still gets a non-NULL pointer. */
            s->path = xmalloc((size_t)len + 1);
            memcpy(s->path, path, len);
            s->path_len = len;
            s->hash = h;
            s->method = method;
            s->count = n;
            c->keys++;
            return;
        }
        if (s->hash == h && s->method == method && s->path_len == len &&
            memcmp(s->path, path, len) == 0) {
            s->count += n;
            return;
        }
    }
}

void target_counts_add(struct target_counts *c, unsigned method, const char *path, size_t len)
{
    c->answered++;
    if (len > UINT32_MAX) {
        c->other++;
        return;
    }
    count_key(c, method, path, (uint32_t)len, 1);
}

void target_counts_add_other(struct target_counts *c)
{
    c->answered++;
    c->other++;
}

void target_counts_add_malformed(struct target_counts *c)
{
    c->answered++;
    c->malformed++;
}

void target_counts_add_reset(struct target_counts *c)
{
    c->reset++;
}

void target_counts_add_failed(struct target_counts *c)
{
    c->failed++;
}

void target_counts_add_auth(struct target_counts *c, enum target_counts_auth what)
{
    c->auth[what]++;
}

uint64_t target_counts_answered(const struct target_counts *c)
{
    return c->answered;
}

static int slot_order(const void *a, const void *b)
{
    const struct slot *x = *(const struct slot *const *)a;
    const struct slot *y = *(const struct slot *const *)b;
    size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
    int d = memcmp(x->path, y->path, n);
    if (d != 0)
        return d;
    if (x->path_len != y->path_len)
        return x->path_len < y->path_len ? -1 : 1;
    return strcmp(http_method_str(x->method), http_method_str(y->method));
}

/* Bytes that would break a report line (newline, carriage return, other
 * control bytes) are printed as %XX; everything else, including spaces and
 * UTF-8, is printed as the client meant it. */
static void print_path(const char *path, size_t len, FILE *out)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "%%%02X", ch);
        else
            fputc(ch, out);
    }
}

void target_counts_print(const struct target_counts *c, const struct target_counts_totals *totals,
                         FILE *out)
{
    fprintf(out, "requests answered: %llu\n", (unsigned long long)c->answered);
    if (c->reset > 0)
        fprintf(out, "requests reset: %llu\n", (unsigned long long)c->reset);
    if (c->failed > 0)
        fprintf(out, "requests failed: %llu\n", (unsigned long long)c->failed);
    fprintf(out, "connections accepted: %llu\n", (unsigned long long)totals->connections_accepted);
    if (totals->show_dropped)
        fprintf(out, "connections dropped: %llu\n", (unsigned long long)totals->connections_dropped);
    /* All five or none: a run that never touched the login flow keeps the
     * report it always had, and a test reads absent lines as 0. */
    bool auth_used = false;
    for (int i = 0; i < TARGET_COUNTS_AUTH_KINDS; i++)
        auth_used = auth_used || c->auth[i] > 0;
    for (int i = 0; auth_used && i < TARGET_COUNTS_AUTH_KINDS; i++)
        fprintf(out, "%s: %llu\n", auth_names[i], (unsigned long long)c->auth[i]);

    const struct slot **sorted = xmalloc((c->keys + 1) * sizeof(*sorted));
    size_t n = 0;
    for (size_t i = 0; i < SLOT_COUNT; i++)
        if (c->slots[i].path != NULL)
            sorted[n++] = &c->slots[i];
    qsort(sorted, n, sizeof(*sorted), slot_order);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%6llu  %s ", (unsigned long long)sorted[i]->count,
                http_method_str(sorted[i]->method));
        print_path(sorted[i]->path, sorted[i]->path_len, out);
        fputc('\n', out);
    }
    free(sorted);
    if (c->other > 0)
        fprintf(out, "%6llu  other\n", (unsigned long long)c->other);
    if (c->malformed > 0)
        fprintf(out, "%6llu  malformed\n", (unsigned long long)c->malformed);
}

/* ---- handing counts from a worker process to its parent ----
 *
 * One frame (util/frame.h) whose payload is
 *
 *   u64 answered, other, malformed, reset, failed, accepted, dropped
 *   u64 x TARGET_COUNTS_AUTH_KINDS  (the login-flow counters, in enum order)
 *   u32 keys
 *   keys x  (u32 method, u32 path_len, u64 count, path bytes)
 *
 * The frame's own length tells a whole table from one cut short. */

void target_counts_put(const struct target_counts *c, const struct target_counts_totals *totals,
                       frame_buf_t *b)
{
    frame_put_u64(b, c->answered);
    frame_put_u64(b, c->other);
    frame_put_u64(b, c->malformed);
    frame_put_u64(b, c->reset);
    frame_put_u64(b, c->failed);
    frame_put_u64(b, totals->connections_accepted);
    frame_put_u64(b, totals->connections_dropped);
    for (int i = 0; i < TARGET_COUNTS_AUTH_KINDS; i++)
        frame_put_u64(b, c->auth[i]);
    frame_put_u32(b, (uint32_t)c->keys);
    for (size_t i = 0; i < SLOT_COUNT; i++) {
        const struct slot *s = &c->slots[i];
        if (s->path == NULL)
            continue;
        frame_put_u32(b, s->method);
        frame_put_u32(b, s->path_len);
        frame_put_u64(b, s->count);
        frame_put_bytes(b, s->path, s->path_len);
    }
}

/* One walk over a payload: checks it (apply false) or adds it (apply true). */
static int walk_payload(struct target_counts *c, struct target_counts_totals *totals,
                        const void *payload, size_t len, bool apply)
{
    frame_rd_t r;
    frame_rd_init(&r, payload, len);
    uint64_t answered = frame_get_u64(&r), other = frame_get_u64(&r), malformed = frame_get_u64(&r);
    uint64_t reset = frame_get_u64(&r), failed = frame_get_u64(&r);
    uint64_t accepted = frame_get_u64(&r), dropped = frame_get_u64(&r);
    uint64_t auth[TARGET_COUNTS_AUTH_KINDS];
    for (int i = 0; i < TARGET_COUNTS_AUTH_KINDS; i++)
        auth[i] = frame_get_u64(&r);
    uint32_t keys = frame_get_u32(&r);
    if (apply) {
        c->answered += answered;
        c->other += other;
        c->malformed += malformed;
        c->reset += reset;
        c->failed += failed;
        totals->connections_accepted += accepted;
        totals->connections_dropped += dropped;
        for (int i = 0; i < TARGET_COUNTS_AUTH_KINDS; i++)
            c->auth[i] += auth[i];
    }
    for (uint32_t k = 0; k < keys && !r.bad; k++) {
        unsigned method = frame_get_u32(&r);
        uint32_t path_len = frame_get_u32(&r);
        uint64_t count = frame_get_u64(&r);
        const uint8_t *path;
        if (frame_get_bytes(&r, &path, path_len) && apply)
            count_key(c, method, (const char *)path, path_len, count);
    }
    return r.bad || r.p != r.end ? -EINVAL : 0;
}

int target_counts_merge_payload(struct target_counts *c, struct target_counts_totals *totals,
                                const void *payload, size_t len)
{
    /* Check the whole payload before changing anything, so that a bad one
     * leaves c and totals as they were. */
    if (walk_payload(c, totals, payload, len, false) != 0)
        return -EINVAL;
    return walk_payload(c, totals, payload, len, true);
}

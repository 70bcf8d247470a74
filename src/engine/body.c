/* body: see include/engine/body.h. Costs per chunk: one memmem when a
 * needle is set and not yet found, a copy of at most needle_len - 1 bytes
 * kept for the next chunk, and a capped copy with a failure log. */
#include "engine/body.h"

#include <stdlib.h>
#include <string.h>

#include "snapshot/failure.h"
#include "util/xalloc.h"

static void body_match(body_t *r, const char *needle, size_t L, const char *data, size_t n)
{
    if (memmem(data, n, needle, L)) {
        r->matched = true;
        return;
    }
    if (L < 2)
        return;
    /* A match across the chunk boundary: the kept tail plus the start of this
     * chunk. */
    if (r->tail_len) {
        size_t k = n < L - 1 ? n : L - 1;
        memcpy(r->scratch, r->tail, r->tail_len);
        memcpy(r->scratch + r->tail_len, data, k);
        if (memmem(r->scratch, r->tail_len + k, needle, L)) {
            r->matched = true;
            return;
        }
    }
    /* Keep the last L-1 bytes of everything seen so far. */
    if (n >= L - 1) {
        memcpy(r->tail, data + n - (L - 1), L - 1);
        r->tail_len = L - 1;
    } else {
        size_t keep = r->tail_len + n > L - 1 ? L - 1 - n : r->tail_len;
        memmove(r->tail, r->tail + r->tail_len - keep, keep);
        memcpy(r->tail + keep, data, n);
        r->tail_len = keep + n;
    }
}

void body_feed(body_t *b, const char *needle, size_t needle_len, const char *data, size_t n)
{
    if (needle_len && !b->matched)
        body_match(b, needle, needle_len, data, n);
    if (b->capture && b->capture_len < FAILURE_CAPTURE_BODY) {
        size_t k = FAILURE_CAPTURE_BODY - b->capture_len;
        if (k > n)
            k = n;
        memcpy(b->capture + b->capture_len, data, k);
        b->capture_len += k;
    }
}

void body_alloc(body_t *b, size_t max_needle, bool capture)
{
    memset(b, 0, sizeof *b);
    if (max_needle) {
        b->tail = xmalloc(max_needle);
        b->scratch = xmalloc(2 * max_needle);
    }
    if (capture)
        b->capture = xmalloc(FAILURE_CAPTURE_BODY);
}

void body_reset(body_t *b)
{
    b->matched = false;
    b->tail_len = 0;
    b->capture_len = 0;
}

void body_free(body_t *b)
{
    free(b->tail);
    free(b->scratch);
    free(b->capture);
}

/* body: what is watched of a response body as it streams past.
 *
 * Its expect-body text (which may straddle two chunks) and, with a failure
 * log, its first FAILURE_CAPTURE_BODY bytes. hopper never holds a response in
 * memory: everything else is dropped as it arrives. One body_t per user,
 * allocated when the user starts; a request only resets it. */
#ifndef HOPPER_BODY_H
#define HOPPER_BODY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    bool matched;                /* expect-body found */
    size_t tail_len;             /* bytes of the body kept for a match across chunks */
    char *tail;                  /* needle_len - 1 bytes */
    char *scratch;               /* 2 * needle_len bytes */
    char *capture;               /* with a failure log: the body's start */
    size_t capture_len;
} body_t;

/* Room for needles up to max_needle bytes, and a capture buffer if asked. */
void body_alloc(body_t *b, size_t max_needle, bool capture);

/* Before each request. */
void body_reset(body_t *b);

/* A chunk of the body: searched for needle (needle_len 0: none), captured. */
void body_feed(body_t *b, const char *needle, size_t needle_len, const char *data, size_t n);

void body_free(body_t *b);

#endif

/* session: one simulated user's scenario state, and the work a scenario adds
 * to a request: rendering a step's templates before it is sent, keeping what
 * its checks and extracts read of the response, and judging it after.
 *
 * A user holds its per-user variables (set by extracts), its current row of
 * each data file, its number and its iteration. What a request in flight
 * keeps of its response (the body, the headers) lives in a buffer taken from
 * the runner's pool for the length of the request, and only for steps that
 * read it: an idle user holds no response memory, and a step that neither
 * extracts nor checks JSON or headers costs nothing here. Rendering writes
 * into the runner's scratch buffers (the HTTP client copies what it sends),
 * so its memory is per runner, not per user. */
#ifndef HOPPER_SESSION_H
#define HOPPER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/client.h"
#include "plan/plan.h"
#include "plan/template.h"
#include "util/rng.h"

/* A response's body and headers, kept while its request is in flight. */
typedef struct keep keep_t;
struct keep {
    char *body;
    size_t body_len, body_cap;
    bool body_over;              /* longer than HOPPER_MAX_KEPT_BODY: cut */
    char *headers;               /* "Name: value\r\n" lines */
    size_t headers_len, headers_cap;
    keep_t *next_free;
};

/* The runner's: buffers shared by its users for one call at a time. */
typedef struct {
    tbuf_t target, headers, body, value;
    char *enc;                   /* the percent-encoded target */
    size_t enc_cap;
    char *scratch;               /* extract values that need building */
    size_t scratch_cap;
    keep_t *free_keeps;          /* the pool */
    uint64_t *seq;               /* the plan's run-wide {{seq}} */
    const plan_t *plan;
    char *base_path;             /* the host's path ("/api" of http://h/api), "" for none */
    size_t base_path_len;
} scratch_t;

typedef struct {
    tvar_t *vars;                /* plan->n_user_vars */
    int64_t *rows;               /* per data source: the user's current row */
    uint64_t user_id;
    uint64_t iteration;          /* task iterations begun; 0 during on-start */
    keep_t *keep;                /* while a step that keeps something is in flight */
} session_t;

void scratch_init(scratch_t *s, const plan_t *plan, const char *host);
void scratch_free(scratch_t *s);

/* Fills in a new user. -1 when a `unique` data file has no row left for it
 * (nothing to free then). */
int session_init(session_t *u, const plan_t *plan, uint64_t user_id, rng_t *rng);
void session_free(session_t *u, scratch_t *s);

/* A new task iteration: the iteration number, and new rows of the data
 * files read per iteration. -1 when a `unique` one has no row left. */
int session_next_iteration(session_t *u, const plan_t *plan, rng_t *rng);

/* Renders a dynamic step into *fill (pointing into s). now_ms is wall-clock
 * time. 0; or -1 with why ("{{token}} is not set") when the request cannot
 * be sent. A plan header whose variable is not set yet is left out (so a
 * global Authorization header is simply absent before the login). */
int session_render(session_t *u, scratch_t *s, const plan_step_t *step, uint64_t now_ms,
                   rng_t *rng, http_fill_t *fill, char *why, size_t whylen);

/* Before a step is sent: takes a keep buffer if the step reads its response. */
void session_begin(session_t *u, scratch_t *s, const plan_step_t *step);
/* Response parts as they arrive (only while a keep buffer is held). */
void session_body(session_t *u, const char *data, size_t n);
void session_header(session_t *u, const char *name, size_t name_len, const char *value,
                    size_t value_len);

/* After the response passed its status and expect-body: runs the step's
 * expectations, then its extracts (setting variables). NULL, or the
 * failure's reason in buf. Gives the keep buffer back. */
const char *session_judge(session_t *u, scratch_t *s, const plan_step_t *step, long status,
                          rng_t *rng, char *buf, size_t len);

/* Gives the keep buffer back without judging (a failed or cancelled request). */
void session_end(session_t *u, scratch_t *s);

#endif

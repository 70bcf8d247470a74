/* template: the {{...}} fields of a request target, a header value or a body,
 * compiled once when the plan is read and rendered per request.
 *
 *   GET /api/id/{{movie}}?page={{rand.int 1 20}}
 *   {"user": "{{accounts.user|json}}", "id": "{{uuid}}"}
 *
 * A template is a list of pieces: literal text, or a field with up to
 * TMPL_MAX_FILTERS filters (|url percent-encodes, |json escapes for a JSON
 * string, |base64). Fields are either built-ins, whose arguments are checked
 * here (user.id, iteration, seq, uuid, now, rand.int A B, rand.str N,
 * rand.pick a,b,c), or names that the plan resolves (tmpl_resolve): a plan or
 * command-line variable or environment variable (then the field becomes
 * literal text), a data file's column, or a per-user variable set by an
 * extract. Nothing is looked up by name when rendering: rendering copies
 * literals and reads slots, with no allocation beyond the growth of the
 * caller's buffer. A text without "{{" compiles to one literal piece and is
 * not dynamic: its request keeps its prebuilt bytes. A literal "{{" is
 * written "\{{" (the one escape). */
#ifndef HOPPER_TEMPLATE_H
#define HOPPER_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

#define TMPL_MAX_FILTERS 4
#define TMPL_RAND_STR_MAX 4096     /* rand.str N: N at most this */

typedef enum {
    TP_LIT,         /* lit, lit_len */
    TP_NAME,        /* not resolved yet: name (tmpl_parse leaves these) */
    TP_VAR,         /* a per-user variable: slot */
    TP_DATA,        /* a data file's column: source, column */
    TP_USER_ID,     /* the user's number, from 1 */
    TP_ITERATION,   /* the user's task iteration, from 1 (0 in on-start) */
    TP_SEQ,         /* a run-wide counter, from 1, across worker processes */
    TP_UUID,        /* a random version 4 UUID */
    TP_NOW,         /* wall-clock time in ms since 1970 */
    TP_RAND_INT,    /* uniform integer in [a, b] */
    TP_RAND_STR,    /* a random alphanumeric string of a characters */
    TP_RAND_PICK    /* one of picks, uniform */
} tpiece_kind_t;

typedef enum { TF_URL = 1, TF_JSON, TF_BASE64 } tfilter_t;

typedef struct {
    tpiece_kind_t kind;
    char *lit;                     /* TP_LIT: the text (owned), any bytes, with a NUL
                                    * after lit_len (not counted); else NULL */
    size_t lit_len;
    char *name;                    /* a field's name as written ("accounts.user"), owned */
    size_t slot;                   /* TP_VAR: variable slot; TP_DATA: data source index */
    size_t column;                 /* TP_DATA */
    int64_t a, b;                  /* TP_RAND_INT bounds; TP_RAND_STR length in a */
    char **picks;                  /* TP_RAND_PICK, owned */
    size_t n_picks;
    unsigned char filters[TMPL_MAX_FILTERS];   /* tfilter_t, applied left to right */
    unsigned n_filters;
} tpiece_t;

typedef struct {
    tpiece_t *pieces;
    size_t n;
    bool dynamic;                  /* anything but literal text (after tmpl_resolve) */
} tmpl_t;

/* Compiles len bytes of text (any bytes). Built-in names and their
 * arguments, filters and the braces are checked here; other names stay
 * TP_NAME for tmpl_resolve. Blanks may surround the name, the arguments and
 * each filter: {{ rand.int 1 6 | url }}. "\{{" stands for a literal "{{"; a
 * field ends at the first "}}", and in a run of three or more opening braces
 * the field is the last two ("{{{x}}}" is "{", x, "}"). 0, or -1 with a
 * message (without file and line: the caller adds them) in err, which may be
 * NULL, and out left empty. */
int tmpl_parse(const char *text, size_t len, tmpl_t *out, char *err, size_t errlen);

/* The plan's answer for one name: fills the piece (kind TP_VAR with slot,
 * TP_DATA with slot and column, or TP_LIT with lit a malloc'd copy of the
 * value and lit_len its length, 0 meaning strlen(lit)) and returns 0, or
 * returns -1 with why filled ("unknown variable 'tokn' (did you mean
 * 'token'?)"). It leaves name and the filters alone; the piece is freed with
 * the template either way. */
typedef int (*tmpl_lookup_cb)(void *arg, const char *name, tpiece_t *piece, char *why,
                              size_t whylen);

/* Resolves every TP_NAME through lookup, merges adjacent literals (a
 * literal piece with filters is filtered once, here), drops empty ones, and
 * sets dynamic. Literal pieces then have no name and no filters; a template
 * left without fields is one literal piece, or none for empty text. 0, or -1
 * with the lookup's message in err (t is then partly resolved: tmpl_free
 * it). Resolving twice is harmless. */
int tmpl_resolve(tmpl_t *t, tmpl_lookup_cb lookup, void *arg, char *err, size_t errlen);

void tmpl_free(tmpl_t *t);

/* The built-in names (user.id, iteration, ...), once for every module that
 * must not let a plan's name shadow them. */
const char *const *tmpl_builtins(size_t *n);
bool tmpl_is_builtin(const char *name);

/* Cuts a resolved template at the first c in its literal text: c and
 * everything after it (fields included) go. For a target's '#': the
 * fragment stays on the client. */
void tmpl_cut(tmpl_t *t, char c);

/* A growing output buffer, owned by whoever renders (one per runner): it only
 * grows, so a user's requests stop allocating once it is large enough. */
typedef struct {
    char *p;
    size_t len, cap;
} tbuf_t;

void tbuf_reserve(tbuf_t *b, size_t extra);
void tbuf_add(tbuf_t *b, const char *s, size_t n);
void tbuf_free(tbuf_t *b);

/* One per-user variable's value. */
typedef struct {
    char *p;                       /* owned by the user; grows */
    uint32_t len, cap;
    bool set;
} tvar_t;

/* What a render reads: the user's state and the run's shared counter. */
typedef struct {
    const tvar_t *vars;            /* per-user variables, by slot */
    /* A data column's value: the source's current row for this user. */
    const char *(*cell)(const void *arg, size_t source, size_t column, size_t *len);
    const void *cell_arg;
    uint64_t user_id;
    uint64_t iteration;
    uint64_t *seq;                 /* shared across processes; atomically incremented */
    /* An MPI run: this rank's number and the ranks' count (0: one machine);
     * the rank's counter k gives (k - 1) * ranks + rank + 1, unique in the run. */
    uint64_t seq_rank, seq_ranks;
    uint64_t now_ms;               /* wall clock, ms since 1970 */
    rng_t *rng;
} tmpl_ctx_t;

/* Appends the rendering of t to out. 0; or -1 when a per-user variable is not
 * set yet (or a name was never resolved), with *unset pointing at its name
 * (out is then incomplete). A data cell that reads NULL adds nothing. Filters
 * work in out itself, past the value: no allocation once out has grown to
 * hold a value and its filtered form. */
int tmpl_render(const tmpl_t *t, const tmpl_ctx_t *ctx, tbuf_t *out, const char **unset);

/* The filters alone, appending to out (tests, and tmpl_resolve for
 * literals); s must not point into out, which may move. */
void tmpl_filter(tfilter_t f, const char *s, size_t n, tbuf_t *out);

#endif

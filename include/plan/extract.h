/* extract: what a step takes from its response, and what it checks of it
 * beyond the status, compiled once when the plan is read.
 *
 *   extract       = NAME json $.items[0].id | regex RE | header NAME | cookie NAME | status
 *   expect-json   = PATH == VALUE | PATH != VALUE | PATH exists
 *   expect-header = NAME: substring
 *
 * JSON paths: "$" then members (.name or ["name"]), array indexes ([0], and
 * [-1] or [last] for the last) and [*] (every element). In an extract, [*]
 * takes one of the matching values at random (a random ID from a list); in
 * expect-json, == holds when at least one value is selected and every one
 * equals VALUE, != when none does, exists when at least one is selected.
 * VALUE is JSON (true, 42, "text", null); numbers compare by value (10 ==
 * 10.0). A JSON value extracted is its text for a string (unescaped), a
 * number's text as the body writes it ("1972", "4.30", an integer of any
 * size), "true", "false" or "null", and an array or object's compact JSON
 * ("[1,2]", "{\"a\":1}").
 *
 * Bodies are read with yajl's event parser as a stream, and the reading
 * stops once the answer is known: at the value for a path of members and
 * indexes (with [last] or [-N] too), at the first match for `exists`, at
 * the value for == and != without [*] (and at the first value that breaks
 * them with [*]). What comes after is not read, so a body broken after the
 * value is not noticed (hopper reads a value, it does not validate
 * documents); a body broken before it is "not JSON (...)", with yajl's
 * reason, the byte and the text near it. Otherwise a [*] reads the whole
 * body (an extract's [*] without a generator takes the first and stops).
 * A member named twice in one object: the first is taken. Arrays and
 * objects may nest 100 levels deep, as far as the reading goes ("the body
 * nests arrays and objects too deeply (more than 100 levels)").
 * Regexes are POSIX extended (regcomp), and
 * the first capture group is the value (the whole match without a group).
 * Header names compare without case; `cookie NAME` is the value of a
 * Set-Cookie of that name in the response. */
#ifndef HOPPER_EXTRACT_H
#define HOPPER_EXTRACT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

/* ---- JSON paths ---------------------------------------------------------- */

typedef enum { JP_MEMBER, JP_INDEX, JP_LAST, JP_ALL } jstep_kind_t;

typedef struct {
    jstep_kind_t kind;
    char *member;               /* JP_MEMBER, owned */
    int64_t index;              /* JP_INDEX; negative counts from the end */
} jstep_t;

typedef struct {
    jstep_t *steps;
    size_t n;
    char *text;                 /* as written, for messages */
} jpath_t;

/* Compiles a path ("$.items[0].id"). 0, or -1 with a message in err. */
int jpath_parse(const char *text, jpath_t *out, char *err, size_t errlen);
void jpath_free(jpath_t *p);

/* ---- a parsed response ----------------------------------------------------- */

/* What one response offers to the extracts and expectations of its step:
 * the status, the kept body (NULL if the step keeps none), the kept headers
 * ("Name: value\r\n" lines, NULL if none kept). Nothing is cached in it:
 * each extract and expectation reads the body as far as it needs. */
typedef struct {
    long status;
    const char *body;
    size_t body_len;
    const char *headers;
    size_t headers_len;
} resp_t;

/* Releases what r holds: nothing now; safe to call any number of times. */
void resp_clear(resp_t *r);

/* ---- extracts --------------------------------------------------------------- */

typedef enum { EX_JSON, EX_REGEX, EX_HEADER, EX_COOKIE, EX_STATUS } extract_kind_t;

typedef struct {
    extract_kind_t kind;
    char *var;                  /* the per-user variable it sets */
    size_t slot;                /* its slot (the plan resolves it) */
    jpath_t path;               /* EX_JSON */
    regex_t re;                 /* EX_REGEX */
    bool re_compiled;
    char *name;                 /* EX_HEADER, EX_COOKIE */
    char *text;                 /* as written after the variable, for messages */
    unsigned line;
} extract_t;

/* Parses the value of an extract key ("token json $.token"). 0, or -1 with a
 * message. */
int extract_parse(const char *v, extract_t *out, char *err, size_t errlen);
void extract_free(extract_t *e);

/* Runs e on the response: 0 with the value at *val (len *len, not always
 * NUL-terminated: it may lie in the body or the headers; valid while they
 * are and until the next call, as scratch is used, and grown, for values
 * that need building); or -1 with the reason in why ("no $.items[0].id in
 * the response", "the body is not JSON (...)", "regex did not match"). */
int extract_run(const extract_t *e, resp_t *r, rng_t *rng, char **scratch, size_t *scratch_cap,
                const char **val, size_t *len, char *why, size_t whylen);

/* Whether this extract needs the body, or the headers, kept. */
bool extract_needs_body(const extract_t *e);
bool extract_needs_headers(const extract_t *e);

/* ---- expectations ------------------------------------------------------------- */

typedef enum { EXPECT_JSON_EQ, EXPECT_JSON_NE, EXPECT_JSON_EXISTS, EXPECT_HEADER } expect_kind_t;

typedef struct {
    expect_kind_t kind;
    jpath_t path;               /* EXPECT_JSON_* */
    void *value;                /* json_t *: EXPECT_JSON_EQ and _NE, owned */
    char *name;                 /* EXPECT_HEADER: the header's name */
    char *substring;            /* EXPECT_HEADER: what its value must contain */
    char *text;                 /* as written, for messages */
    unsigned line;
} expect_t;

/* Parses "PATH == VALUE" and friends (json true) or "Name: substring" (json
 * false). 0, or -1 with a message. */
int expect_parse(const char *v, bool json, expect_t *out, char *err, size_t errlen);
void expect_free(expect_t *x);

/* 0 when the response meets x, else -1 with the reason in why
 * ("$.ok is false, expected true", "no header X-Id", "header X-Id lacks
 * \"abc\""). */
int expect_check(const expect_t *x, resp_t *r, char *why, size_t whylen);

#endif

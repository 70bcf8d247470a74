/* target_counts: how many requests hopper-target answered, per (method, path).
 *
 * The table is what the exit report prints, so tests can check that hopper
 * sent exactly the requests it claims. It sits on the server's hot path, so a
 * lookup is one FNV-1a hash of the path and a short linear probe in an open
 * addressing table; memory is only allocated the first time a key is seen.
 * A hostile client could send endless distinct paths, so the table holds at
 * most TARGET_COUNTS_MAX_KEYS keys; anything past that is added to a single
 * "other" count. Paths are stored decoded and without the query string.
 *
 * With --workers, each worker process keeps its own table and hands it to the
 * parent with target_counts_put; the parent adds every worker's table into
 * one with target_counts_merge_payload and prints that, so the merged report
 * has the same form and the same bounds as a single process's.
 *
 * Besides the table it adds up what the login flow did with tokens
 * (enum target_counts_auth), so a test can prove that the tokens a client
 * sends back are the ones the server issued.
 *
 * Call order: target_counts_new, any number of target_counts_add* and
 * target_counts_merge_payload, then target_counts_print (any number of
 * times), then target_counts_free. */
#ifndef HOPPER_TARGET_COUNTS_H
#define HOPPER_TARGET_COUNTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/frame.h"

#define TARGET_COUNTS_MAX_KEYS 4096

struct target_counts;

/* The login flow's counters (target_api). Every request on a login-flow
 * route that is not answered 405 or 500 adds to at least one of them. */
enum target_counts_auth {
    TARGET_COUNTS_TOKENS_ISSUED,  /* "tokens issued": logins that got a token */
    TARGET_COUNTS_TOKEN_OK,       /* "token ok": protected requests with a valid token */
    TARGET_COUNTS_TOKEN_BAD,      /* "token bad": protected requests with none, or not a valid one */
    TARGET_COUNTS_LOGOUTS,        /* "logouts": tokens given back (also counted in token ok) */
    TARGET_COUNTS_LOGINS_REFUSED, /* "logins refused": 401 bad credentials and 400 bad bodies */
    TARGET_COUNTS_AUTH_KINDS
};

/* The totals printed above the per-path table. */
struct target_counts_totals {
    uint64_t connections_accepted;
    uint64_t connections_dropped;
    int show_dropped; /* print "connections dropped:" (only when --close-rate is set) */
};

struct target_counts *target_counts_new(void);
void target_counts_free(struct target_counts *c);

/* One answered request. method is an http_parser method number; path is the
 * decoded path (any bytes, not NUL-terminated). */
void target_counts_add(struct target_counts *c, unsigned method, const char *path, size_t len);

/* One answered request that has no (method, path) line of its own: its URL
 * was too long to keep. It goes to the "other" line. */
void target_counts_add_other(struct target_counts *c);

/* One request answered "400 Bad Request" because it could not be parsed. */
void target_counts_add_malformed(struct target_counts *c);

/* One HTTP/2 request refused with RST_STREAM instead of an answer
 * (--h2-rst-rate). It is not answered: neither "requests answered" nor a
 * path line counts it, only "requests reset". */
void target_counts_add_reset(struct target_counts *c);

/* One answer that --fail-rate made a failure (--fail-status). It is counted
 * as answered by target_counts_add* too; this says how many of them were
 * the injected status. */
void target_counts_add_failed(struct target_counts *c);

/* One login-flow event; it is not a request of its own (target_counts_add
 * counts the request). */
void target_counts_add_auth(struct target_counts *c, enum target_counts_auth what);

/* Every request counted so far (all of the above but target_counts_add_auth). */
uint64_t target_counts_answered(const struct target_counts *c);

/* The exit report: "requests answered: N", "requests reset: N" when it is
 * not zero, "requests failed: N" (--fail-rate's answers) when it is not zero,
 * "connections accepted: N",
 * optionally "connections dropped: N"; then, when any of them is not zero,
 * the five login-flow counters, one "NAME: N" line each in the order of
 * enum target_counts_auth ("tokens issued: 3"); then one "%6llu  METHOD PATH"
 * line per key sorted by path then method, then "other" and "malformed"
 * lines when they are not zero. Control bytes in paths are printed as %XX so a client cannot
 * forge report lines. */
void target_counts_print(const struct target_counts *c, const struct target_counts_totals *totals,
                         FILE *out);

/* Puts the table, the reset, failed and login-flow counters and the two connection totals
 * into the frame being built in b, for another process running this same
 * binary (util/frame.h). A few bytes per key plus the paths: at most some
 * megabytes when the table is full of long paths. */
void target_counts_put(const struct target_counts *c, const struct target_counts_totals *totals,
                       frame_buf_t *b);

/* Adds what a frame's payload from target_counts_put holds to c and to
 * totals' connection counts (not show_dropped): the login-flow counters to
 * c's, each key's count to the same key, making it if needed, past
 * TARGET_COUNTS_MAX_KEYS keys to "other", like target_counts_add. Returns
 * 0, or -EINVAL when the payload is not exactly one whole table, in which
 * case nothing is changed. */
int target_counts_merge_payload(struct target_counts *c, struct target_counts_totals *totals,
                                const void *payload, size_t len);

#endif

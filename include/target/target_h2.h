/* target_h2: HTTP/2 for hopper-target, on libnghttp2's server session.
 *
 * A connection that speaks HTTP/2 (ALPN "h2" over TLS, or the connection
 * preface in the clear: h2c with prior knowledge) hands every byte it reads
 * to target_h2_input and sends what target_h2_output gives it; the
 * connection (target_server) owns the socket, TLS and the timer, this module
 * owns the session and its streams. Nothing here touches libuv.
 *
 * Each request is routed, answered and counted exactly as over HTTP/1.1:
 * the same routes (target_routes_match), the same answers (target_routes'
 * preformatted HTTP/1.1 responses, whose status line and headers become
 * the HEADERS frame and whose body becomes DATA), the same login flow
 * (target_api) and the same counts (target_counts). So an HTTP/2 answer
 * costs a parse of a ~150-byte header block and nghttp2's own allocations:
 * HTTP/2 is not the zero-allocation path HTTP/1.1 is.
 *
 * The server's fault modes, drawn per request from the server's generator
 * in the order close, reset, fail (a request drawn for one is not drawn for
 * the next):
 *   close_rate  GOAWAY (NO_ERROR) naming the last request accepted; this one
 *               and any later are refused (RST_STREAM REFUSED_STREAM), and
 *               the connection closes once the ones accepted are answered.
 *   rst_rate    RST_STREAM (INTERNAL_ERROR) instead of an answer; counted as
 *               "requests reset", not as answered.
 *   fail_rate   500, counted like any answer.
 *   goaway_after  after that many requests on the connection, GOAWAY
 *               (NO_ERROR, last-stream-id = the last request), then closed
 *               as for close_rate.
 *   delay       each answer waits; the connection's timer asks
 *               target_h2_next_deadline and calls target_h2_run_due.
 *
 * Call order: target_h2_env_new once per server; per connection
 * target_h2_new, then any number of target_h2_input, target_h2_output,
 * target_h2_run_due, and target_h2_free; target_h2_env_free last. */
#ifndef HOPPER_TARGET_H2_H
#define HOPPER_TARGET_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/target_auth.h"
#include "target/target_counts.h"
#include "target/target_routes.h"

/* The HTTP/2 connection preface a client with prior knowledge starts with. */
#define TARGET_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define TARGET_H2_PREFACE_LEN 24

struct target_h2;
struct target_h2_env;

/* What every HTTP/2 connection of one server shares. The pointers are the
 * server's and must outlive the env. */
struct target_h2_config {
    const struct target_routes *routes;
    struct target_auth *auth;
    struct target_counts *counts;
    uint64_t *rng;     /* the server's generator (util/rng.h), shared with HTTP/1.1 */
    uint64_t *dropped; /* the server's "connections dropped" (close_rate) */
    uint64_t delay_min_us, delay_max_us;
    double fail_rate, close_rate, rst_rate;
    uint64_t goaway_after; /* 0: never */
};

/* Aborts on allocation failure, like every allocation of this module. */
struct target_h2_env *target_h2_env_new(const struct target_h2_config *cfg);
void target_h2_env_free(struct target_h2_env *env);

/* A session for a connection whose client is about to send the preface;
 * its SETTINGS frame waits in the output. */
struct target_h2 *target_h2_new(struct target_h2_env *env);

/* Frees the session and its streams (pending delayed answers are dropped
 * uncounted, as an HTTP/1.1 connection's are). */
void target_h2_free(struct target_h2 *h);

/* Bytes the client sent (all of them are taken). now_ns is uv_hrtime(), for
 * the deadlines of delayed answers. 0, or -1 when the client broke the
 * protocol: send what target_h2_output still has (a GOAWAY), then close. */
int target_h2_input(struct target_h2 *h, const char *data, size_t len, uint64_t now_ns);

/* The next bytes to send, gathered from the session's frames up to about
 * max bytes, in a buffer of the session's that stays valid until the next
 * call; 0 when there is nothing to send now. -1 on a session error (close). */
long target_h2_output(struct target_h2 *h, size_t max, const char **data);

/* The uv_hrtime() time the earliest delayed answer is due, or 0 if none. */
uint64_t target_h2_next_deadline(const struct target_h2 *h);

/* Answers every delayed request whose time has come. */
void target_h2_run_due(struct target_h2 *h, uint64_t now_ns);

/* Whether the session is over: a GOAWAY went out (or came in) and every
 * stream is closed, or the client broke the protocol; with nothing left to
 * send, the connection should close. */
bool target_h2_finished(const struct target_h2 *h);

#endif

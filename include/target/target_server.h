/* target_server: hopper-target's HTTP server on libuv: HTTP/1.1 through
 * http_parser, HTTP/2 through target_h2 (ALPN "h2" over TLS, or the
 * connection preface in the clear), either over TLS (net/tls) when the
 * configuration has a TLS context: then the port speaks TLS only.
 *
 * One listening socket, one struct per accepted connection (allocated at
 * accept, freed in its close callback), preformatted responses from
 * target_routes, the login flow's answers from target_api, and per-path
 * counts in target_counts. HTTP/1.1 requests are answered
 * in order, keep-alive by default, pipelined requests included. While a
 * connection has an answer pending (a --delay timer, or a write the kernel
 * did not take at once) the server stops reading from it, so pipelined
 * answers cannot overtake each other and a client that never reads cannot
 * make the server buffer without bound. An HTTP/2 connection reads on while
 * its streams wait for their --delay (that is what streams are for) and
 * stops only while a write is pending.
 *
 * With a stall schedule (--stall, target_stall) the whole loop freezes in
 * each window, for every connection and protocol alike.
 *
 * Call order: target_server_new, then uv_run on the loop; target_server_stop
 * (from a signal handler callback, say) lets the loop run dry; after uv_run
 * returns, target_server_report and target_server_free. */
#ifndef HOPPER_TARGET_SERVER_H
#define HOPPER_TARGET_SERVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <uv.h>

#include "net/tls.h"
#include "target/target_auth.h"
#include "target/target_counts.h"
#include "target/target_stall.h"

struct target_server;

struct target_config {
    struct sockaddr_storage addr; /* IPv4 or IPv6 address and port (0 = any free port) */
    uint64_t delay_min_us;        /* each answer waits a uniform draw from [min, max]; */
    uint64_t delay_max_us;        /*   both 0 = answer at once */
    double fail_rate;             /* share of requests answered 500 (0..1) */
    unsigned fail_status;         /* --fail-status: their status instead of 500 (0: 500) */
    double close_rate;            /* share of requests dropped by closing the connection */
    uint64_t seed;                /* for the fail, close and delay draws */
    bool quiet;                   /* no warnings on stderr */
    bool reuse_port;              /* SO_REUSEPORT: share the port with the other --workers */
    struct target_auth *auth;     /* the login flow's keys and revoked tokens: required, made
                                     before any fork so every worker shares it */
    const char *tls_cert;         /* --tls CERT KEY: PEM files, or NULL for plain HTTP */
    const char *tls_key;
    tls_ctx_t *tls;               /* the serving process's context made from them (one per
                                     loop: each worker makes its own), or NULL */
    bool tls_no_close_notify;     /* close TLS connections without close_notify */
    unsigned char tls_ticket_keys[TLS_TICKET_KEYS_LEN]; /* made before any fork, so that a
                                     session one worker gave resumes on any other */
    uint64_t h2_goaway_after;     /* HTTP/2: GOAWAY after this many requests on a connection */
    double h2_rst_rate;           /* HTTP/2: share of requests answered with RST_STREAM */
    struct target_stall_schedule stall; /* --stall, --stall-every (stall_ns 0: none); its
                                     anchor is taken before any fork, so every worker
                                     freezes at the same moments (target_stall.h) */
};

/* Allocates the server, binds and listens. Returns 0 and sets *out, or a
 * negative libuv error; on error nothing is left to free once the loop has
 * run (the half-made listener is closed and frees the server when it is). */
int target_server_new(uv_loop_t *loop, const struct target_config *cfg, struct target_server **out);

/* The bound address as "127.0.0.1:8082" or "[::1]:8082". 0 or a libuv error. */
int target_server_address(const struct target_server *s, char *buf, size_t len);

/* Any IPv4 or IPv6 address and port in that form. 0 or a libuv error. */
int target_server_format_address(const struct sockaddr_storage *ss, char *buf, size_t len);

/* Stops accepting and closes every connection, answered or not. Idempotent;
 * the loop ends once the close callbacks have run. */
void target_server_stop(struct target_server *s);

/* The exit report (format in target_counts.h). */
void target_server_report(const struct target_server *s, FILE *out);

/* What the report is made of, for a --workers worker to hand to its parent:
 * the per-path table, and the totals filled in. Valid until target_server_free. */
const struct target_counts *target_server_counts(const struct target_server *s,
                                                 struct target_counts_totals *totals);

/* Frees the server; only after uv_run has returned. */
void target_server_free(struct target_server *s);

#endif

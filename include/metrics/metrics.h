/* metrics: the `--metrics-listen ADDR:PORT` endpoint, a small HTTP/1.1
 * server on the run's libuv loop for Prometheus (or anything that reads its
 * text format) to scrape.
 *
 * GET (or HEAD) /metrics answers 200 with a fresh snapshot rendered by
 * metrics/prom.h; any other path 404, another method 405, a request that is
 * not HTTP/1.x 400, one whose headers pass METRICS_MAX_REQUEST 431. Every
 * answer closes its connection (Connection: close; Prometheus opens a new one
 * per scrape). A connection whose request has not arrived within
 * METRICS_REQUEST_TIMEOUT_MS, or that has not finished within
 * METRICS_TIMEOUT_MS, is closed; and when METRICS_MAX_CONNS are open, a new
 * one closes the oldest still waiting for its request (else the oldest), so
 * clients that connect and say nothing (on 0.0.0.0, anyone's) never lock a
 * scraper out for long. Nothing here blocks: the snapshot and the render
 * take microseconds to a few milliseconds (the endpoints times a few lines),
 * once per scrape, and writes go out through libuv.
 *
 * The snapshot comes through a callback (the same one the dashboard uses,
 * steer_t.snapshot), so this side of the tree never sees the engine.
 *
 * Lifetime: metrics_parse_listen (no side effect), metrics_open after the
 * engine's workers are forked (they must not inherit the socket) and before
 * the load starts, so that a port in use stops the run before anything is
 * sent; metrics_hold when the run is over and its final snapshot is taken,
 * if the numbers are to be served on for a while (--metrics-linger);
 * metrics_close when the run is over, or after the linger (it stops listening and closes
 * every connection; libuv frees them in its close callbacks, so the loop
 * must run on to empty, as it does at the end of every run). */
#ifndef HOPPER_METRICS_H
#define HOPPER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "metrics/prom.h"
#include "snapshot/snapshot.h"

#define METRICS_MAX_REQUEST 8192     /* request line and headers */
#define METRICS_MAX_CONNS   64       /* open at once; a new one closes the oldest */
#define METRICS_REQUEST_TIMEOUT_MS 2000   /* from the connect to the request's end */
#define METRICS_TIMEOUT_MS  10000    /* a connection's whole life */

typedef void (*metrics_snapshot_cb)(void *ctx, snap_t *out);

typedef struct metrics_conn metrics_conn_t;

typedef struct {
    uv_loop_t *loop;
    uv_tcp_t listener;           /* listener.data = this */
    bool open;                   /* the listener is initialised and not closed */
    metrics_snapshot_cb snapshot;
    void *ctx;
    snap_t snap;                 /* reused from scrape to scrape */
    const snap_t *held;          /* metrics_hold's: served instead of a fresh one */
    metrics_conn_t *conns;       /* the open connections */
    unsigned n_conns;
    uint64_t scrapes;            /* 200 answers to GET /metrics */
} metrics_server_t;

/* Parses "ADDR:PORT" (a numeric IPv4 address, or an IPv6 one in brackets:
 * "[::1]:9646"; port 0 picks a free one) into addr. 0, or -1 with a message
 * that names --metrics-listen and the value in err. */
int metrics_parse_listen(const char *text, struct sockaddr_storage *addr, char *err,
                         size_t errlen);

/* Listens on addr on loop. 0, or -1 with the reason in err (the address in
 * use, not an address of this machine, a privileged port...). A bind that
 * fails leaves nothing open; only if libuv then refused the bound socket
 * (never seen) is the handle left closing, for the loop's next run. */
int metrics_open(metrics_server_t *m, uv_loop_t *loop, const struct sockaddr *addr,
                 metrics_snapshot_cb snapshot, void *ctx, char *err, size_t errlen);

/* The URL it serves, with the port it actually got: "http://[::1]:9646/metrics". */
const char *metrics_url(const metrics_server_t *m, char *buf, size_t len);

/* From now on, every scrape is rendered from final (which must stay valid
 * until metrics_close) and the snapshot callback is no longer called: the
 * run is over and its engine may be gone. */
void metrics_hold(metrics_server_t *m, const snap_t *final);

/* Stops listening and closes every connection (a scrape in progress is cut).
 * Safe to call twice, or on a server never opened (zeroed). */
void metrics_close(metrics_server_t *m);

#endif

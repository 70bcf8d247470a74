/* h1: hopper's own HTTP/1.1 keep-alive client, for plain http:// targets.
 *
 * libcurl costs about three times wrk's CPU per request (see bench/README.md):
 * it re-arms its socket watch and timer for every transfer, polls a reused
 * connection twice for liveness, and looks up proxy variables each time. For
 * the common case - plain HTTP/1.1 to one origin - this module does the same
 * job with one write and one read per request on a connection that stays
 * registered with the loop: the request bytes are prepared once per task, the
 * response is parsed with Debian's http-parser, the body is streamed to a
 * callback and never held. libcurl stays for everything else (TLS, HTTP/2,
 * proxies, authentication), and the engine picks one client per run.
 *
 * Its observable behaviour matches the libcurl path: the same latency
 * definition (request start, including any connect, to the last body byte),
 * the same error texts, redirects followed (up to 10, the whole chain timed
 * and counted under the first request), cookies kept per user, and one silent
 * retry on a fresh connection when a reused keep-alive connection turns out
 * to be closed before any byte of the response arrived (what libcurl does).
 *
 * Lifetime: h1_conn_init (embedded in its owner, the user), any number of
 * h1_send, each ended by exactly one done callback, then h1_conn_close; the
 * owner's memory must live until the close callback. h1_cancel may end a
 * request instead of its done callback; the connection can send again after
 * it. Writes may raise SIGPIPE: the process must ignore it (main does).
 *
 * Cost per request on a kept-alive connection: one write (writev only when
 * cookies are sent), the reads, two uv_hrtime (and a time() when the user
 * holds cookies), one uv_timer_start and one uv_timer_stop; no allocation (redirects and Set-Cookie allocate, they are
 * rare) and no epoll_ctl (the socket stays registered for reading from
 * connect to close). */
#ifndef HOPPER_H1_H
#define HOPPER_H1_H

#include <http_parser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "http/cookies.h"

/* What every connection of a run shares: where to connect, from which local
 * addresses, and the buffer reads land in (reads are handled at once, so one
 * buffer serves every connection of a loop). */
typedef struct {
    uv_loop_t *loop;
    struct sockaddr_storage addr;     /* the origin's address, resolved once */
    socklen_t addrlen;
    struct sockaddr_storage *addrs;   /* every address the name resolved to: a connection
                                       * that fails on one tries the next (localhost as ::1,
                                       * then 127.0.0.1), as libcurl does */
    size_t n_addrs;
    size_t preferred;                 /* the one that last worked; addr is a copy of it */
    char *origin_host;                /* "127.0.0.1:8082" as in the Host header */
    struct sockaddr_storage *sources; /* --source-addrs; NULL/0: the kernel picks */
    size_t n_sources;
    size_t next_source;               /* round-robin */
    char *read_buf;                   /* H1_READ_BUF bytes */
} h1_origin_t;

#define H1_READ_BUF 65536
#define H1_MAX_REDIRECTS 10
#define H1_MAX_SOURCES 256

/* A task's request, prepared once (h1_request_prepare). */
typedef struct {
    char *head;             /* "GET /p HTTP/1.1\r\nHost: ..\r\n...headers..\r\n" without the
                             * blank line: a Cookie header may follow. The one allocation
                             * goes on with "\r\n" and the body, so a request without
                             * cookies is written from one buffer. */
    size_t head_len;
    const char *body;       /* NULL if none, else inside head's allocation (a copy);
                             * Content-Length is in head */
    size_t body_len;
    size_t framing_len;     /* the last bytes of head that frame the body (the default
                             * Content-Type and Content-Length), dropped when a redirect
                             * turns the request into a GET */
    const char *method;
    const char *path;       /* percent-encoded path and query, for redirects */
    bool is_head;           /* HEAD: the response has no body */
    uint64_t timeout_us;
} h1_request_t;

/* How a request ended. error is NULL on success (any status; the caller
 * decides what passes), else a text as the libcurl path words it:
 * "connection refused", "cannot connect: ...", "connection reset",
 * "timeout after 60s", "connection closed without a response",
 * "connection closed mid-body", "malformed response", "too many redirects",
 * "redirect to another origin (URL): not followed by the native client",
 * "connection closed while sending", "send error: ...", "receive error: ...". */
typedef struct {
    const char *error;
    char error_buf[160];    /* room for a cross-origin redirect's URL */
    long status;            /* the final response's, 0 if none */
    uint64_t latency_us;
    uint64_t body_bytes;    /* of the final response */
    const char *url_path;   /* the last path requested (after redirects) */
} h1_result_t;

typedef struct h1_conn h1_conn_t;

/* Body bytes of the final response as they arrive (not of redirects). */
typedef void (*h1_body_cb)(h1_conn_t *c, const char *data, size_t len, void *arg);
typedef void (*h1_done_cb)(h1_conn_t *c, const h1_result_t *r, void *arg);
typedef void (*h1_closed_cb)(h1_conn_t *c, void *arg);

struct h1_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;        /* the request timeout */
    uv_connect_t connect_req;
    uv_write_t write_req;
    http_parser parser;
    h1_origin_t *origin;
    cookie_jar_t cookies;    /* this user's */
    const h1_request_t *req; /* in flight, or NULL */
    h1_body_cb on_body;
    h1_done_cb on_done;
    h1_closed_cb on_closed;
    void *arg;
    uint64_t start_ns;
    uint64_t body_bytes;
    char *redirect_head;     /* a redirect's own request, only while following one */
    size_t redirect_head_len;
    char *redirect_path;
    unsigned redirects;
    unsigned state;          /* internal */
    unsigned flags;          /* internal */
    int open_handles;
    /* Internal. Response headers: only Set-Cookie and Location are kept, the
     * name matched byte by byte as it arrives (it may be split across reads). */
    unsigned hdr_kind, hdr_pos;
    char *hdr_val;           /* the value of a kept header, grown as needed */
    size_t hdr_val_len, hdr_val_cap;
    char *location;          /* a redirect's Location, until it is followed */
    char *cookie_buf;        /* the Cookie header, sized to the jar */
    size_t cookie_cap;
    int err_kind, err_code;  /* an error found inside h1_send, reported by the timer */
    unsigned addr_try;       /* how many of the origin's addresses this connect has tried */
};

/* Resolves host:port of an http:// base URL (blocking getaddrinfo, once, at
 * start; of the sources' family when there are sources; up to 8 addresses)
 * and parses --source-addrs: a comma-separated list of addresses and IPv4
 * ranges ("127.0.0.1-127.0.0.4", "127.0.0.1-4"), at most H1_MAX_SOURCES
 * addresses, all of the target address's family. source_addrs may be NULL.
 * 0, or -1 with a message that names the bad part. */
int h1_origin_init(h1_origin_t *o, uv_loop_t *loop, const char *base_url, const char *source_addrs,
                   char *err, size_t errlen);
void h1_origin_free(h1_origin_t *o);

/* Builds a task's request for the origin: method, the percent-encoded target
 * (a path, or an absolute http:// URL of the same origin), the headers ("Name:
 * value", global then task), an optional body, the timeout. Adds Host,
 * User-Agent (user_agent; none if NULL), an Accept header for any type and,
 * as libcurl does for a body or a POST, Content-Length and a default
 * Content-Type (application/x-www-form-urlencoded); PUT and PATCH without a
 * body say Content-Length: 0. A plan header named Host, User-Agent, Accept,
 * Content-Type or Content-Length replaces the default (names compared
 * without case). The body is copied. A fragment is not sent.
 * Returns 0 or -1 with a message (an absolute URL of another origin, say). */
int h1_request_prepare(h1_request_t *r, const h1_origin_t *o, const char *method,
                       const char *target, char *const *headers, size_t n_headers,
                       char *const *task_headers, size_t n_task_headers, const char *body,
                       size_t body_len, uint64_t timeout_us, const char *user_agent, char *err,
                       size_t errlen);
void h1_request_free(h1_request_t *r);

/* Whether a base URL and targets can use this client (plain http://). */
bool h1_usable(const char *base_url);

void h1_conn_init(h1_conn_t *c, h1_origin_t *o, h1_body_cb on_body, h1_done_cb on_done, void *arg);

/* Sends a request; connects first when there is no open connection. Exactly
 * one on_done follows (never from inside h1_send), unless h1_cancel or
 * h1_conn_close abandons it. r must stay valid until then. May be called from
 * on_done. */
void h1_send(h1_conn_t *c, const h1_request_t *r);

/* Abandons the request in flight, if any (no on_done), and closes the
 * connection; a later h1_send reconnects. Safe from on_body and on_done. */
void h1_cancel(h1_conn_t *c);

/* Closes the connection and the timer, abandoning a request in flight (no
 * on_done) and freeing the cookie jar; on_closed (may be NULL) runs once both
 * handles are closed, and may free the memory c lives in. */
void h1_conn_close(h1_conn_t *c, h1_closed_cb on_closed);

#endif

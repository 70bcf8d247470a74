/* h1_internal: the native HTTP/1.1 client's own types, shared by its files
 * (h1_origin.c, h1_request.c, h1_conn.c, h1_client.c) and by the tests that
 * reach inside it. Nothing outside src/http and tests includes this: the
 * engine sees only http/client.h. */
#ifndef HOPPER_H1_INTERNAL_H
#define HOPPER_H1_INTERNAL_H

#include <http_parser.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "client_impl.h"
#include "hopper.h"
#include "http/cookies.h"
#include "http/errors.h"
#include "http/h1.h"
#include "http/srcaddr.h"
#include "net/tls.h"

#define H1_READ_BUF 65536
/* A connection keeps its filled-request buffer between requests up to this
 * size; a larger one (a big templated body) goes after its request. */
#define H1_FILL_KEEP_MAX 16384
/* libcurl's default for a body sent without a Content-Type header. */
#define H1_DEFAULT_CONTENT_TYPE "Content-Type: application/x-www-form-urlencoded\r\n"

/* Formats a message into err (if any) and returns -1: the set-up calls'
 * error path in one line. */
int h1_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- the origin (h1_origin.c) ---------------------------------------------------- */

/* What every connection of a run shares: where to connect, from which local
 * addresses, and the buffer reads land in (reads are handled at once, so one
 * buffer serves every connection of a loop). */
typedef struct {
    uv_loop_t *loop;
    struct sockaddr_storage addr;     /* the address to connect to: addrs[preferred] */
    struct sockaddr_storage *addrs;   /* every address the name resolved to: a connection
                                       * that fails on one tries the next (localhost as ::1,
                                       * then 127.0.0.1), as libcurl does */
    size_t n_addrs;
    size_t preferred;                 /* the one that last worked */
    char *origin_url;                 /* "http://127.0.0.1:8082": a failure's URL starts so */
    char *origin_host;                /* "127.0.0.1:8082" as in the Host header (inside origin_url) */
    bool https;                       /* the base URL is https://: connections speak TLS */
    char *tls_host;                   /* the host alone, unbracketed: SNI and the name the
                                       * certificate must carry */
    tls_ctx_t *tls;                   /* https: the client's (its owner makes and frees it) */
    const struct sockaddr_storage *sources; /* --source-addrs (the caller's list); NULL: the kernel picks */
    size_t n_sources;
    size_t next_source;               /* round-robin, per connection */
    char *read_buf;                   /* H1_READ_BUF bytes */
    bool failure_detail;              /* results carry the URL and the headers sent */
    bool no_retry;                    /* --no-retry: a request never goes twice */
    uint64_t retries;                 /* requests sent again after a kept-alive connection
                                       * closed without an answer (every connection's) */
} h1_origin_t;

/* Resolves host:port of an http:// or https:// base URL (blocking getaddrinfo, once, at
 * start; in the family of the sources when there are some; up to 8
 * addresses). sources (may be NULL) must be of one family and outlive the
 * origin. 0, or -1 with a message. */
int h1_origin_init(h1_origin_t *o, uv_loop_t *loop, const char *base_url,
                   const srcaddr_list_t *sources, char *err, size_t errlen);
void h1_origin_free(h1_origin_t *o);

/* https: makes the origin's TLS context from the client's options, offering
 * h2 by ALPN when h2 (the HTTP/2 client); nothing for http://. 0, or -1 with
 * a message. The client frees it (tls_ctx_free) before h1_origin_free. */
int h1_origin_use_tls(h1_origin_t *o, const http_client_config_t *cfg, bool h2, char *err,
                      size_t errlen);

/* Starts a connection of either client: tcp initialised (bound to the next
 * --source-addrs address, if any), no Nagle, connecting to the origin's
 * address addr_try places after the preferred one, cb when done. 0, or
 * libuv's error; *opened says whether tcp was initialised (then it must be
 * closed, and the next address may be tried). */
int h1_origin_connect(h1_origin_t *o, uv_tcp_t *tcp, uv_connect_t *req, unsigned addr_try,
                      uv_connect_cb cb, bool *opened);

/* A connection to address addr_try answered: later ones start there. */
void h1_origin_connected(h1_origin_t *o, unsigned addr_try);

/* Whether authority a (n bytes) names the origin. */
bool h1_origin_same(const h1_origin_t *o, const char *a, size_t n);

/* ---- a prepared request (h1_request.c) -------------------------------------------- */

/* A step's request, prepared once (h1_request_prepare), or one send's
 * request with a fill's parts (h1_send builds it in the connection's
 * buffer, in the same layout). */
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
    bool idempotent;        /* RFC 9110's idempotent methods: may be retried */
    bool custom_type;       /* a header (maybe a dynamic one) names the Content-Type:
                             * a filled body gets no default one */
    bool keep_headers;      /* every response header goes to the connection's on_header */
    uint64_t timeout_us;
} h1_request_t;

/* Builds a request for the origin: method, the percent-encoded target (a
 * path, or an absolute http:// URL of the same origin), the headers ("Name:
 * value", global then task), an optional body, the timeout. Adds Host,
 * User-Agent (user_agent; none if NULL), an Accept header for any type and,
 * as libcurl does for a body or a POST, Content-Length and a default
 * Content-Type (application/x-www-form-urlencoded); PUT and PATCH without a
 * body say Content-Length: 0. A plan header named Host, User-Agent, Accept
 * or Content-Type replaces the default (names compared without case); a
 * plan's Content-Length is left out, as hopper's own says the same (the
 * hopperfile checks it) and goes with the body when a redirect makes a GET. The body is copied. A fragment is not sent.
 * Returns 0 or -1 with a message (an absolute URL of another origin, say). */
int h1_request_prepare(h1_request_t *r, const h1_origin_t *o, const char *method,
                       const char *target, char *const *headers, size_t n_headers,
                       char *const *task_headers, size_t n_task_headers, const char *body,
                       size_t body_len, uint64_t timeout_us, const char *user_agent, char *err,
                       size_t errlen);

/* The same for a plan's step, sent to url (its target resolved, or the
 * origin's root when a fill brings the target): the plan's and the step's
 * headers, except those whose value is a template (header_t[i].dynamic; a
 * NULL header_t array has none), whose bytes come with each send but whose
 * names still replace the defaults (a dynamic Host too: the fill brings
 * it). keep_headers as the step says. */
int h1_request_prepare_step(h1_request_t *r, const h1_origin_t *o, const plan_t *plan,
                            const plan_step_t *step, const char *url, uint64_t timeout_us,
                            const char *user_agent, char *err, size_t errlen);
void h1_request_free(h1_request_t *r);

/* ---- a connection (h1_conn.c) ------------------------------------------------------ */

/* The socket's life; the transitions are written down in h1_conn.c. */
typedef enum {
    H1_CLOSED,      /* no socket: a send connects */
    H1_CONNECTING,  /* connect in progress; a request waits */
    H1_OPEN,        /* connected, no response completed on it yet */
    H1_KEPT,        /* connected, and it has served a response: a request now reuses it */
    H1_CLOSING,     /* the socket is closing; its close callback connects again if a
                     * request is still waiting */
    H1_SHUTDOWN     /* h1_conn_close: the socket and timer close for good */
} h1_state_t;

/* What the response being parsed turns out to be, once its headers are in. */
typedef enum {
    H1_ANSWER_PENDING,   /* headers not complete, or an interim 1xx */
    H1_ANSWER_FINAL,     /* the answer the caller gets: its body is counted */
    H1_ANSWER_FOLLOW,    /* a redirect to follow */
    H1_ANSWER_TOO_MANY   /* a redirect beyond HOPPER_MAX_REDIRECTS */
} h1_answer_t;

typedef struct h1_conn h1_conn_t;

/* Both of the connection's handles are closed: its memory may go. */
typedef void (*h1_closed_cb)(h1_conn_t *c);

struct h1_conn {
    http_conn_t base;        /* the client interface's view (h1_client.c sets it) */
    uv_tcp_t tcp;
    uv_timer_t timer;        /* the request timeout; also reports errors found inside h1_send */
    uv_connect_t connect_req;
    uv_write_t write_req;
    http_parser parser;
    h1_origin_t *origin;
    cookie_jar_t cookies;    /* this user's */
    const h1_request_t *req; /* in flight (the prepared one, or &filled), or NULL */
    http_body_cb on_body;
    http_header_cb on_header; /* NULL (h1_conn_init's), or set after it: hears the
                             * response headers of requests that keep them, and
                             * may cancel, as on_body may */
    http_done_cb on_done;
    h1_closed_cb on_closed;
    void *user;
    h1_state_t state;
    h1_answer_t answer;
    unsigned flags;          /* the request's and response's bits (h1_conn.c) */
    int open_handles;        /* tcp and timer not yet closed, during H1_SHUTDOWN */
    uint64_t start_ns;
    uint64_t body_bytes;
    char *redirect_head;     /* a redirect's own request, only while following one */
    size_t redirect_head_len;
    char *redirect_path;
    unsigned redirects;
    unsigned addr_try;       /* how many of the origin's addresses this connect has tried */
    http_error_t pending;    /* an error found inside h1_send, reported by the timer */
    int pending_errno;
    const char *detail;      /* a static text for the error being reported (TLS's reason) */
    tls_conn_t tls;          /* https: the connection's TLS, and the session it resumes */
    /* Response headers: only Set-Cookie and Location are kept, the name
     * matched byte by byte as it arrives (it may be split across reads);
     * every header too when the request keeps headers (its name gathered
     * in hdr_name, which is never allocated otherwise). */
    unsigned hdr_kind, hdr_pos;
    char *hdr_val;           /* the value of a kept header, grown as needed */
    size_t hdr_val_len, hdr_val_cap;
    char *hdr_name;          /* the name of the header, when all are kept */
    size_t hdr_name_len, hdr_name_cap;
    char *location;          /* a redirect's Location, until it is followed */
    char *cookie_buf;        /* the Cookie header, sized to the jar */
    size_t cookie_cap;
    /* A send with a fill: its whole request (head, "\r\n", body, then the
     * NUL-terminated path) in fill_buf, which grows to the largest and
     * stays; filled points into it (and at the prepared request's method)
     * until the next h1_send. */
    h1_request_t filled;
    char *fill_buf;
    size_t fill_cap;
};

/* Embedded in its owner; the owner's memory must live until on_closed. */
void h1_conn_init(h1_conn_t *c, h1_origin_t *o, http_body_cb on_body, http_done_cb on_done,
                  void *user);

/* Sends a request; connects first when there is no open connection. Exactly
 * one on_done follows (never from inside h1_send), unless h1_cancel or
 * h1_conn_close abandons it. r must stay valid until then. May be called from
 * on_done. */
void h1_send(h1_conn_t *c, const h1_request_t *r);

/* The same with fill's parts (NULL: none), copied into the connection:
 * fill's memory may change once the call returns. Its target must be an
 * origin-form path without a fragment, its headers whole CRLF lines
 * (client.c checks). */
void h1_send_fill(h1_conn_t *c, const h1_request_t *r, const http_fill_t *fill);

/* Abandons the request in flight, if any (no on_done), and closes the
 * connection; a later h1_send reconnects. Safe from on_body and on_done. */
void h1_cancel(h1_conn_t *c);

/* Closes the connection and the timer, abandoning a request in flight (no
 * on_done) and freeing the cookie jar; on_closed (may be NULL) runs once both
 * handles are closed, and may free the memory c lives in. */
void h1_conn_close(h1_conn_t *c, h1_closed_cb on_closed);

#endif

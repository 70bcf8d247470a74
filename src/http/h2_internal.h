/* h2_internal: the native HTTP/2 client's own types, shared by its files
 * (h2_request.c, h2_conn.c, h2_client.c) and by the tests that reach inside
 * it. It builds on the HTTP/1.1 client's origin (addresses, source
 * addresses, the read buffer, the retry count) and prepared request (whose
 * head becomes an HTTP/2 header list once). Nothing outside src/http and
 * tests includes this. */
#ifndef HOPPER_H2_INTERNAL_H
#define HOPPER_H2_INTERNAL_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "h1_internal.h"
#include "http/h2.h"
#include "net/tls.h"

/* Our stream and connection flow-control windows, as h2load's: a body never
 * waits for a WINDOW_UPDATE, and nghttp2 sends one only after half of it. */
#define H2_WINDOW ((1u << 30) - 1)
/* A response's header block (names, values and 32 bytes each, as RFC 9113
 * counts them) past this fails the request: memory stays bounded whatever
 * the server sends. Also announced in SETTINGS_MAX_HEADER_LIST_SIZE. */
#define H2_MAX_HEADER_LIST (256u * 1024)
/* Buffers a large request grew past this are freed once it has gone out. */
#define H2_KEEP_MAX 16384

/* ---- the origin (h2_conn.c) ---------------------------------------------------------- */

/* What every connection of a client shares. */
typedef struct {
    h1_origin_t h1;               /* where to connect, from where; https, tls_host and the
                                   * TLS context (offering h2, made and freed here); the
                                   * read buffer; retries */
    const char *scheme;           /* ":scheme": "http" or "https" */
    nghttp2_session_callbacks *callbacks;
    nghttp2_option *option;
} h2_origin_t;

/* The h1 origin of cfg->host (http:// or https://), TLS set up from cfg
 * for https://, nghttp2's callbacks and options. 0, or -1 with a message;
 * h2_origin_free either way. */
int h2_origin_init(h2_origin_t *o, const http_client_config_t *cfg, char *err, size_t errlen);
void h2_origin_free(h2_origin_t *o);

/* ---- a prepared request (h2_request.c) ------------------------------------------------ */

/* The pseudo-headers come first, in this order. */
enum { H2_NV_METHOD, H2_NV_SCHEME, H2_NV_AUTHORITY, H2_NV_PATH, H2_NV_PSEUDO };

/* A step's request: the HTTP/1.1 one (its bytes, body, method, path, bits)
 * and its head as an HTTP/2 header list, built once. */
typedef struct {
    h1_request_t h1;
    nghttp2_nv *nv;         /* :method :scheme :authority :path, then the headers with
                             * lowercase names (Host became :authority; Connection,
                             * Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade
                             * and a TE other than "trailers" dropped); names and values
                             * point into h1 and names, flagged not to be copied */
    size_t n_nv;
    size_t n_framing;       /* the last entries frame the body (the default Content-Type,
                             * Content-Length): dropped when a redirect makes a GET */
    char *names;            /* the lowercase names */
} h2_request_t;

/* h1_request_prepare_step, then the header list for origin o. */
int h2_request_prepare_step(h2_request_t *r, const h2_origin_t *o, const plan_t *plan,
                            const plan_step_t *step, const char *url, uint64_t timeout_us,
                            const char *user_agent, char *err, size_t errlen);
/* The header list of an h1 request already prepared in r->h1 (the tests
 * prepare with h1_request_prepare). */
void h2_request_init_nv(h2_request_t *r, const h2_origin_t *o);
void h2_request_free(h2_request_t *r);

/* Whether header name n (len bytes, any case) may not appear in HTTP/2
 * (RFC 9113 8.2.2); TE only with value "trailers". */
bool h2_header_dropped(const char *n, size_t len, const char *value, size_t value_len);

/* ---- a connection (h2_conn.c) ---------------------------------------------------------- */

/* The socket's life; the transitions are written down in h2_conn.c. */
typedef enum {
    H2_CLOSED,      /* no socket: a send connects */
    H2_CONNECTING,  /* TCP connect in progress */
    H2_HANDSHAKE,   /* https://: the TLS handshake is under way */
    H2_OPEN,        /* the session exists: requests go as streams */
    H2_CLOSING,     /* the socket is closing; its close callback connects again if a
                     * request is waiting */
    H2_SHUTDOWN     /* h2_conn_close: the socket and timer close for good */
} h2_state_t;

/* What the response on the current stream turns out to be. */
typedef enum {
    H2_ANSWER_PENDING,   /* no final header block yet */
    H2_ANSWER_FINAL,     /* the answer the caller gets: its body is counted */
    H2_ANSWER_FOLLOW,    /* a redirect to follow */
    H2_ANSWER_TOO_MANY   /* a redirect beyond HOPPER_MAX_REDIRECTS */
} h2_answer_t;

typedef struct h2_conn h2_conn_t;

/* Both of the connection's handles are closed: its memory may go. */
typedef void (*h2_closed_cb)(h2_conn_t *c);

struct h2_conn {
    http_conn_t base;          /* the client interface's view (h2_client.c sets it) */
    uv_tcp_t tcp;
    uv_timer_t timer;          /* the request timeout; also reports errors found where
                                * on_done may not run */
    uv_connect_t connect_req;
    uv_write_t write_req;      /* h2c: a write the kernel did not take at once */
    tls_conn_t tls;            /* https:// only */
    h2_origin_t *origin;
    nghttp2_session *session;  /* from connect (or handshake) to the socket's close callback */
    cookie_jar_t cookies;      /* this user's */
    const h2_request_t *req;   /* in flight, or NULL */
    http_body_cb on_body;
    http_header_cb on_header;  /* NULL, or set after h2_conn_init (as h1's) */
    http_done_cb on_done;
    h2_closed_cb on_closed;
    void *user;
    h2_state_t state;
    h2_answer_t answer;
    unsigned flags;            /* the connection's, request's and stream's bits (h2_conn.c) */
    int open_handles;
    int32_t stream_id;         /* the current request's stream, -1 if none */
    int32_t goaway_last;       /* the server's GOAWAY: its last stream id and code */
    uint32_t goaway_code;
    uint32_t rst_code;         /* the server's RST_STREAM code for the stream */
    long status;               /* of the response block being read */
    uint64_t start_ns;
    uint64_t body_bytes;
    size_t header_bytes;       /* of the response so far, bounded by H2_MAX_HEADER_LIST */
    unsigned redirects;
    unsigned addr_try;         /* how many of the origin's addresses this connect has tried */
    http_error_t pending;      /* an error to report from the timer (or found during input) */
    int pending_errno;
    const char *pending_detail;
    char *location;            /* a redirect's Location, until it is followed */
    char *redirect_path;       /* the path of a redirect's request */
    /* The request body being sent (the prepared one, a fill's, none). */
    const char *body;
    size_t body_len, body_off;
    /* The header list of the current send, built from the prepared one at
     * each submit; grows to the largest and stays. */
    nghttp2_nv *nv;
    size_t nv_cap;
    /* A fill's parts, copied into fill_buf (grows to the largest, stays up
     * to H2_KEEP_MAX): its target (NUL-terminated), its headers as list
     * entries in fill_nv, its body and the body's length in digits. */
    char *fill_buf;
    size_t fill_cap;
    nghttp2_nv *fill_nv;
    size_t n_fill_nv, fill_nv_cap;
    const char *fill_path;     /* NULL: the prepared path */
    const char *fill_body;     /* when fill_has_body */
    size_t fill_body_len;
    bool fill_has_body;
    char fill_length[24];
    size_t fill_length_len;
    char *cookie_buf;          /* the Cookie header, sized to the jar */
    size_t cookie_cap;
    char *sent_buf;            /* the failure detail's header block, rendered on demand */
    size_t sent_cap;
    /* Frames to send, gathered from nghttp2 so that a request is one write;
     * h2c: wout is what a queued uv_write still sends. */
    char *out;
    size_t out_len, out_cap;
    char *wout;
    size_t wout_cap;
};

/* Embedded in its owner; the owner's memory must live until on_closed. */
void h2_conn_init(h2_conn_t *c, h2_origin_t *o, http_body_cb on_body, http_done_cb on_done,
                  void *user);

/* Sends r with fill's parts (NULL: none; copied), connecting first when
 * there is no open connection. Exactly one on_done follows (never from
 * inside h2_send), unless h2_cancel or h2_conn_close abandons it. r must stay
 * valid until then. May be called from on_done. */
void h2_send(h2_conn_t *c, const h2_request_t *r, const http_fill_t *fill);

/* Abandons the request in flight, if any (no on_done): its stream is reset
 * (CANCEL) and the connection stays. Safe from on_body and on_header. */
void h2_cancel(h2_conn_t *c);

/* Closes the connection (a GOAWAY first when it is open) and the timer,
 * abandoning a request in flight and freeing the cookie jar; on_closed (may
 * be NULL) runs once both handles are closed, and may free c's memory. */
void h2_conn_close(h2_conn_t *c, h2_closed_cb on_closed);

#endif

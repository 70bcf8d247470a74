/* client: the one interface the engine sends HTTP requests through.
 *
 * Two implementations, chosen once per run: libcurl (curl_client.c: TLS,
 * HTTP/2, proxies, redirects anywhere) and hopper's own HTTP/1.1 client
 * (h1_*.c: plain http:// to one origin, at a fraction of libcurl's CPU per
 * request). The engine never knows which one runs: it prepares each task's
 * request once, gives each user a connection, sends, and hears back through
 * two callbacks that reach the user through its user pointer.
 *
 * Lifetime: http_client_new; http_request_new for each task; per user
 * http_conn_new, any number of http_send (each ended by exactly one on_done,
 * never from inside http_send, unless http_cancel abandons it), then
 * http_conn_close, whose callback may free the user. Then
 * http_client_close, run the loop until it is empty, http_request_free for
 * each task, http_client_free.
 *
 * Retries, the same rule in both clients: a request that went out on a
 * kept-alive connection which then closed (or reset) before a byte of the
 * answer goes once more on a new connection, only if its method is
 * idempotent (http_method_idempotent) and retries are not turned off
 * (no_retry); any other such request fails ("connection closed without a
 * response"). A request that provably never left (the connection was seen
 * closed before it was written) simply goes on a new connection: that is no
 * retry. Retries are counted per client (http_client_retries), so that
 * requests + retries is what the server may have seen.
 *
 * Cost: one indirect call per request on top of the implementation's own;
 * no allocation per request (a connection is allocated once, per user). */
#ifndef HOPPER_HTTP_CLIENT_H
#define HOPPER_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/errors.h"
#include "http/srcaddr.h"
#include "plan/plan.h"

typedef struct http_client http_client_t;     /* one per run */
typedef struct http_request http_request_t;   /* one per task, prepared once */
typedef struct http_conn http_conn_t;         /* one per user: its connection and cookie jar */

/* Body bytes of the final response as they arrive (not of redirects). */
typedef void (*http_body_cb)(void *user, const char *data, size_t len);
/* A response header, for a request whose step keeps headers
 * (plan_step_t.keep_headers): name NULL (lengths 0) says a new response
 * begins, so what came before (a redirect's) is to be forgotten. */
typedef void (*http_header_cb)(void *user, const char *name, size_t name_len, const char *value,
                               size_t value_len);
/* The request ended; r is valid during the call. May send, cancel or close. */
typedef void (*http_done_cb)(void *user, const http_result_t *r);
/* The connection is closed; its user's memory may go. */
typedef void (*http_closed_cb)(void *user);

typedef enum { HTTP_CLIENT_CURL, HTTP_CLIENT_NATIVE } http_client_kind_t;

typedef struct {
    http_client_kind_t kind;
    uv_loop_t *loop;
    const char *host;               /* the base URL */
    const srcaddr_list_t *sources;  /* --source-addrs, parsed; NULL: the kernel picks */
    bool insecure;                  /* https://: do not verify TLS certificates */
    const char *ca_file;            /* --cacert: trust these CAs (PEM) instead of the system's */
    const char *cert_file;          /* --cert: a client certificate (PEM), or NULL */
    const char *key_file;           /* --key: its key (NULL: in cert_file) */
    bool no_tls_resume;             /* --no-tls-resume: every connection a full handshake */
    bool http2;                     /* --http2 (plan: protocol = http2): HTTP/2, h2 by ALPN
                                     * over https://, prior knowledge over http:// */
    bool failure_detail;            /* results carry the URL and headers sent (a failure log) */
    bool no_retry;                  /* --no-retry: never send a request twice */
    http_body_cb on_body;
    http_header_cb on_header;
    http_done_cb on_done;
} http_client_config_t;

/* The parts of a templated request rendered for one send (the runner
 * renders them, engine/session.h): the rest is the prepared request's. */
typedef struct {
    const char *target;             /* percent-encoded path and query ("/a?b=1"), or NULL:
                                     * the prepared one */
    size_t target_len;
    const char *headers;            /* "Name: value\r\n" lines sent after the prepared
                                     * request's own headers; NULL or "" for none */
    size_t headers_len;
    const char *body;               /* replaces the prepared body when has_body */
    size_t body_len;
    bool has_body;
} http_fill_t;

/* NULL with a message (the host does not resolve, libcurl has no multi
 * handle, the source addresses mix families for the native client). */
http_client_t *http_client_new(const http_client_config_t *cfg, char *err, size_t errlen);

/* A step's request: url is the absolute, percent-encoded URL (url_resolve;
 * for a templated target, the origin's root: the path comes with each send),
 * timeout_us its timeout; the plan's and the step's headers and body are
 * used, except headers whose value is a template (plan->header_t[i].dynamic,
 * step->header_t[i].dynamic): those come with each send, but their names
 * still replace the defaults (Content-Type, Accept, ...). NULL with a message
 * naming the step. */
http_request_t *http_request_new(http_client_t *c, const plan_t *plan, const plan_step_t *step,
                                 const char *url, uint64_t timeout_us, char *err, size_t errlen);
void http_request_free(http_client_t *c, http_request_t *r);

/* A user's connection (not opened until the first send). NULL if the client
 * could not make one. */
http_conn_t *http_conn_new(http_client_t *c, void *user);

/* Starts r on the connection, with fill's parts when not NULL (copied or
 * kept by the connection as it needs: fill's memory may change once
 * http_send returns). 0; or -1 when it could not even start, with *failed
 * filled (no on_done follows). r must live until on_done. */
int http_send(http_conn_t *conn, http_request_t *r, const http_fill_t *fill, http_result_t *failed);

/* Abandons the request in flight, if any (no on_done). Safe from on_body. */
void http_cancel(http_conn_t *conn);

/* Closes the connection (nothing may be in flight, or it is abandoned) and
 * frees it; on_closed(user) follows, maybe from inside this call. */
void http_conn_close(http_conn_t *conn, http_closed_cb on_closed);

/* Retries so far, over all of the client's connections (see above). */
uint64_t http_client_retries(const http_client_t *c);

/* TLS handshakes so far over all of the client's connections, and how many
 * of them resumed a session (0 and 0 in the clear, and for libcurl, which
 * does not tell). */
void http_client_tls_counts(const http_client_t *c, uint64_t *handshakes, uint64_t *resumed);

/* Starts closing the client's own handles; every connection must be closed. */
void http_client_close(http_client_t *c);
/* Once the loop has run the close callbacks; NULL is fine. */
void http_client_free(http_client_t *c);

#endif

/* client_impl: what an HTTP client implementation provides (private to
 * src/http). Each implementation's client struct starts with a
 * http_client_t, so the dispatch in client.c needs no other knowledge. */
#ifndef HOPPER_CLIENT_IMPL_H
#define HOPPER_CLIENT_IMPL_H

#include "http/client.h"

/* request_new's message says what is wrong, without naming the step:
 * client.c does. send gets a fill that client.c has checked (an origin-form
 * target without its fragment, whole header lines), or NULL when there is
 * nothing to fill. */
typedef struct {
    http_request_t *(*request_new)(http_client_t *c, const plan_t *plan, const plan_step_t *step,
                                   const char *url, uint64_t timeout_us, char *err, size_t errlen);
    void (*request_free)(http_client_t *c, http_request_t *r);
    http_conn_t *(*conn_new)(http_client_t *c, void *user);
    int (*send)(http_conn_t *conn, http_request_t *r, const http_fill_t *fill,
                http_result_t *failed);
    void (*cancel)(http_conn_t *conn);
    void (*conn_close)(http_conn_t *conn, http_closed_cb on_closed);
    void (*close)(http_client_t *c);
    void (*free)(http_client_t *c);
    uint64_t (*retries)(const http_client_t *c);
    /* TLS handshakes so far, and how many resumed a session; NULL for a
     * client that does not count them (libcurl). */
    void (*tls_counts)(const http_client_t *c, uint64_t *handshakes, uint64_t *resumed);
} http_client_ops_t;

struct http_client {
    const http_client_ops_t *ops;
};

/* Every connection starts with this, so http_send finds its client's ops
 * in one load. */
struct http_conn {
    const http_client_ops_t *ops;
};

http_client_t *h1_client_new(const http_client_config_t *cfg, char *err, size_t errlen);
http_client_t *h2_client_new(const http_client_config_t *cfg, char *err, size_t errlen);
http_client_t *curl_client_new(const http_client_config_t *cfg, char *err, size_t errlen);

#endif

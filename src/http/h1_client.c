/* h1_client: the native HTTP/1.1 client behind the client interface
 * (http/client.h). A thin layer: a prepared request is an h1_request_t, a
 * connection an h1_conn_t (allocated once per user), and the callbacks are
 * the interface's own, so a request costs one indirect call more than
 * calling h1_send directly. */
#include <stdio.h>
#include <stdlib.h>

#include "h1_internal.h"
#include "hopper.h"
#include "util/xalloc.h"

typedef struct {
    http_client_t base;
    http_client_config_t cfg;
    h1_origin_t origin;
} h1_client_t;

struct http_request {
    h1_request_t h1;
};

/* A user's connection, and whom to tell when it is closed. */
typedef struct {
    h1_conn_t conn;          /* first: a http_conn_t * is an h1c_conn_t * */
    http_closed_cb on_closed;
} h1c_conn_t;

/* The message names the step: client.c adds which. */
static http_request_t *h1c_request_new(http_client_t *c, const plan_t *plan, const plan_step_t *step,
                                       const char *url, uint64_t timeout_us, char *err, size_t errlen)
{
    h1_client_t *hc = (h1_client_t *)c;
    http_request_t *r = xcalloc(1, sizeof *r);
    /* The request's bytes, once: the same absolute, percent-encoded URL
     * libcurl would be given (a base path prefix included). */
    if (h1_request_prepare_step(&r->h1, &hc->origin, plan, step, url, timeout_us,
                                HOPPER_USER_AGENT, err, errlen) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

static void h1c_request_free(http_client_t *c, http_request_t *r)
{
    (void)c;
    h1_request_free(&r->h1);
    free(r);
}

static const http_client_ops_t h1_ops;

static http_conn_t *h1c_conn_new(http_client_t *c, void *user)
{
    h1_client_t *hc = (h1_client_t *)c;
    h1c_conn_t *w = xmalloc(sizeof *w);
    h1_conn_init(&w->conn, &hc->origin, hc->cfg.on_body, hc->cfg.on_done, user);
    w->conn.on_header = hc->cfg.on_header;
    w->conn.base.ops = &h1_ops;
    w->on_closed = NULL;
    return &w->conn.base;
}

static int h1c_send(http_conn_t *c, http_request_t *r, const http_fill_t *fill,
                    http_result_t *failed)
{
    (void)failed; /* errors come through on_done */
    h1_send_fill((h1_conn_t *)c, &r->h1, fill);
    return 0;
}

static void h1c_cancel(http_conn_t *c)
{
    h1_cancel((h1_conn_t *)c);
}

/* The connection's memory goes once both its handles are closed; then the
 * owner hears of it. */
static void h1c_closed(h1_conn_t *conn)
{
    h1c_conn_t *w = (h1c_conn_t *)conn;
    http_closed_cb on_closed = w->on_closed;
    void *user = conn->user;
    free(w);
    if (on_closed)
        on_closed(user);
}

static void h1c_conn_close(http_conn_t *c, http_closed_cb on_closed)
{
    h1c_conn_t *w = (h1c_conn_t *)c;
    w->on_closed = on_closed;
    h1_conn_close(&w->conn, h1c_closed);
}

static void h1c_close(http_client_t *c)
{
    (void)c; /* the connections own every handle */
}

static void h1c_free(http_client_t *c)
{
    h1_client_t *hc = (h1_client_t *)c;
    tls_ctx_free(hc->origin.tls);
    h1_origin_free(&hc->origin);
    free(hc);
}

static uint64_t h1c_retries(const http_client_t *c)
{
    return ((const h1_client_t *)c)->origin.retries;
}

static void h1c_tls_counts(const http_client_t *c, uint64_t *handshakes, uint64_t *resumed)
{
    const h1_client_t *hc = (const h1_client_t *)c;
    *handshakes = tls_ctx_handshakes(hc->origin.tls);
    *resumed = tls_ctx_resumed(hc->origin.tls);
}

static const http_client_ops_t h1_ops = {
    .request_new = h1c_request_new,
    .request_free = h1c_request_free,
    .conn_new = h1c_conn_new,
    .send = h1c_send,
    .cancel = h1c_cancel,
    .conn_close = h1c_conn_close,
    .close = h1c_close,
    .free = h1c_free,
    .retries = h1c_retries,
    .tls_counts = h1c_tls_counts,
};

http_client_t *h1_client_new(const http_client_config_t *cfg, char *err, size_t errlen)
{
    h1_client_t *hc = xcalloc(1, sizeof *hc);
    hc->base.ops = &h1_ops;
    hc->cfg = *cfg;
    if (h1_origin_init(&hc->origin, cfg->loop, cfg->host, cfg->sources, err, errlen) != 0) {
        h1_origin_free(&hc->origin);
        free(hc);
        return NULL;
    }
    hc->origin.failure_detail = cfg->failure_detail;
    hc->origin.no_retry = cfg->no_retry;
    if (h1_origin_use_tls(&hc->origin, cfg, false, err, errlen) != 0) {
        h1_origin_free(&hc->origin);
        free(hc);
        return NULL;
    }
    return &hc->base;
}

/* h2_client: the native HTTP/2 client behind the client interface
 * (http/client.h). A thin layer, as h1_client.c is: a prepared request is
 * an h2_request_t, a connection an h2_conn_t (allocated once per user), and
 * the callbacks are the interface's own. */
#include <stdio.h>
#include <stdlib.h>

#include "h2_internal.h"
#include "hopper.h"
#include "util/xalloc.h"

typedef struct {
    http_client_t base;
    http_client_config_t cfg;
    h2_origin_t origin;
} h2_client_t;

struct http_request {
    h2_request_t h2;
};

/* A user's connection, and whom to tell when it is closed. */
typedef struct {
    h2_conn_t conn;          /* first: a http_conn_t * is an h2c_conn_t * */
    http_closed_cb on_closed;
} h2c_conn_t;

static http_request_t *h2c_request_new(http_client_t *c, const plan_t *plan, const plan_step_t *step,
                                       const char *url, uint64_t timeout_us, char *err, size_t errlen)
{
    h2_client_t *hc = (h2_client_t *)c;
    http_request_t *r = xcalloc(1, sizeof *r);
    if (h2_request_prepare_step(&r->h2, &hc->origin, plan, step, url, timeout_us,
                                HOPPER_USER_AGENT, err, errlen) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

static void h2c_request_free(http_client_t *c, http_request_t *r)
{
    (void)c;
    h2_request_free(&r->h2);
    free(r);
}

static const http_client_ops_t h2_ops;

static http_conn_t *h2c_conn_new(http_client_t *c, void *user)
{
    h2_client_t *hc = (h2_client_t *)c;
    h2c_conn_t *w = xmalloc(sizeof *w);
    h2_conn_init(&w->conn, &hc->origin, hc->cfg.on_body, hc->cfg.on_done, user);
    w->conn.on_header = hc->cfg.on_header;
    w->conn.base.ops = &h2_ops;
    w->on_closed = NULL;
    return &w->conn.base;
}

static int h2c_send(http_conn_t *c, http_request_t *r, const http_fill_t *fill,
                    http_result_t *failed)
{
    (void)failed; /* errors come through on_done */
    h2_send((h2_conn_t *)c, &r->h2, fill);
    return 0;
}

static void h2c_cancel(http_conn_t *c)
{
    h2_cancel((h2_conn_t *)c);
}

static void h2c_closed(h2_conn_t *conn)
{
    h2c_conn_t *w = (h2c_conn_t *)conn;
    http_closed_cb on_closed = w->on_closed;
    void *user = conn->user;
    free(w);
    if (on_closed)
        on_closed(user);
}

static void h2c_conn_close(http_conn_t *c, http_closed_cb on_closed)
{
    h2c_conn_t *w = (h2c_conn_t *)c;
    w->on_closed = on_closed;
    h2_conn_close(&w->conn, h2c_closed);
}

static void h2c_close(http_client_t *c)
{
    (void)c; /* the connections own every handle */
}

static void h2c_free(http_client_t *c)
{
    h2_client_t *hc = (h2_client_t *)c;
    h2_origin_free(&hc->origin);
    free(hc);
}

static uint64_t h2c_retries(const http_client_t *c)
{
    return ((const h2_client_t *)c)->origin.h1.retries;
}

static void h2c_tls_counts(const http_client_t *c, uint64_t *handshakes, uint64_t *resumed)
{
    const tls_ctx_t *ctx = ((const h2_client_t *)c)->origin.h1.tls; /* NULL over h2c: 0 */
    *handshakes = tls_ctx_handshakes(ctx);
    *resumed = tls_ctx_resumed(ctx);
}

static const http_client_ops_t h2_ops = {
    .request_new = h2c_request_new,
    .request_free = h2c_request_free,
    .conn_new = h2c_conn_new,
    .send = h2c_send,
    .cancel = h2c_cancel,
    .conn_close = h2c_conn_close,
    .close = h2c_close,
    .free = h2c_free,
    .retries = h2c_retries,
    .tls_counts = h2c_tls_counts,
};

http_client_t *h2_client_new(const http_client_config_t *cfg, char *err, size_t errlen)
{
    h2_client_t *hc = xcalloc(1, sizeof *hc);
    hc->base.ops = &h2_ops;
    hc->cfg = *cfg;
    if (h2_origin_init(&hc->origin, cfg, err, errlen) != 0) {
        h2_origin_free(&hc->origin);
        free(hc);
        return NULL;
    }
    return &hc->base;
}

/* client: see include/http/client.h. Dispatch only: each call goes to the
 * implementation chosen at http_client_new through its ops table. */
#include "http/client.h"


#include "client_impl.h"

http_client_t *http_client_new(const http_client_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->kind == HTTP_CLIENT_NATIVE)
        return h1_client_new(cfg, err, errlen);
    return curl_client_new(cfg, err, errlen);
}

http_request_t *http_request_new(http_client_t *c, const plan_t *plan, const plan_task_t *task,
                                 const char *url, uint64_t timeout_us, char *err, size_t errlen)
{
    return c->ops->request_new(c, plan, task, url, timeout_us, err, errlen);
}

void http_request_free(http_client_t *c, http_request_t *r)
{
    if (r)
        c->ops->request_free(c, r);
}

http_conn_t *http_conn_new(http_client_t *c, void *user)
{
    return c->ops->conn_new(c, user);
}

int http_send(http_conn_t *conn, http_request_t *r, http_result_t *failed)
{
    return conn->ops->send(conn, r, failed);
}

void http_cancel(http_conn_t *conn)
{
    conn->ops->cancel(conn);
}

void http_conn_close(http_conn_t *conn, http_closed_cb on_closed)
{
    conn->ops->conn_close(conn, on_closed);
}

void http_client_close(http_client_t *c)
{
    c->ops->close(c);
}

void http_client_free(http_client_t *c)
{
    if (c)
        c->ops->free(c);
}

uint64_t http_client_retries(const http_client_t *c)
{
    return c->ops->retries(c);
}

/* client: see include/http/client.h. Dispatch, and the rules both clients
 * share: which templated headers a step may not have, and what a fill must
 * look like before either client puts it on the wire. */
#include "http/client.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client_impl.h"

http_client_t *http_client_new(const http_client_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->kind == HTTP_CLIENT_NATIVE && cfg->http2)
        return h2_client_new(cfg, err, errlen);
    if (cfg->kind == HTTP_CLIENT_NATIVE)
        return h1_client_new(cfg, err, errlen);
    return curl_client_new(cfg, err, errlen);
}

/* Whether header h ("Name: value") is named name (without case). */
static bool header_named(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* The message for a templated header that cannot be one, or NULL. Host
 * names the origin each request goes to (and the native client's
 * connection), Content-Length is hopper's own framing of the body. A NULL
 * template array (a plan made by hand) has no templates. */
static const char *templated_header_refused(char *const *headers, const tmpl_t *tmpls, size_t n)
{
    for (size_t i = 0; tmpls && i < n; i++) {
        if (!tmpls[i].dynamic)
            continue;
        if (header_named(headers[i], "Host"))
            return "the Host header cannot be a template: it names the origin the request "
                   "goes to (templates go in the target's path and query)";
        if (header_named(headers[i], "Content-Length"))
            return "the Content-Length header cannot be a template: hopper sets it from the "
                   "body (leave it out)";
    }
    return NULL;
}

http_request_t *http_request_new(http_client_t *c, const plan_t *plan, const plan_step_t *step,
                                 const char *url, uint64_t timeout_us, char *err, size_t errlen)
{
    char why[512] = "";
    const char *refused = templated_header_refused(plan->headers, plan->header_t, plan->n_headers);
    if (!refused)
        refused = templated_header_refused(step->headers, step->header_t, step->n_headers);
    http_request_t *r = NULL;
    if (!refused)
        r = c->ops->request_new(c, plan, step, url, timeout_us, why, sizeof why);
    if (!r)
        snprintf(err, errlen, "request '%s %s' (line %u): %s", step->method, step->target,
                 step->line, refused ? refused : why);
    return r;
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

/* Header lines as a fill brings them: each "Name: value\r\n", the name
 * without space or control bytes, the value without control bytes but tab
 * (no CR or LF but at the line's end: nothing can end the head early or
 * start a line of its own). */
static bool fill_headers_ok(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        for (; i < n && s[i] != ':'; i++) {
            unsigned char ch = (unsigned char)s[i];
            if (ch <= 0x20 || ch >= 0x7f)
                return false;
        }
        if (i == start || i == n)
            return false;
        for (i++; i < n && s[i] != '\r'; i++) {
            unsigned char ch = (unsigned char)s[i];
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return false;
        }
        if (i + 1 >= n || s[i + 1] != '\n')
            return false;
        i += 2;
    }
    return true;
}

/* The fill as the clients take it, in *out: the target without its
 * fragment (it stays on the client, as a prepared target's does), no
 * header bytes without a pointer, no body without has_body. false when it
 * cannot go on the wire as HTTP: a target that is not an origin-form path
 * of request-line bytes (the runner percent-encodes it), header lines not
 * as fill_headers_ok says. One pass over the target and the headers. */
static bool fill_check(const http_fill_t *in, http_fill_t *out)
{
    *out = *in;
    if (out->target) {
        const char *hash = memchr(out->target, '#', out->target_len);
        if (hash)
            out->target_len = (size_t)(hash - out->target);
        if (out->target_len == 0 || out->target[0] != '/')
            return false;
        for (size_t i = 1; i < out->target_len; i++) {
            unsigned char ch = (unsigned char)out->target[i];
            if (ch <= 0x20 || ch >= 0x7f)
                return false;
        }
    }
    if (!out->headers)
        out->headers_len = 0;
    if (!out->has_body) {
        out->body = NULL;
        out->body_len = 0;
    }
    return fill_headers_ok(out->headers, out->headers_len);
}

/* A fill that cannot go out as HTTP fails here, before either client
 * could send broken bytes: the request "could not even start" (see
 * http_send), and the server never sees it. */
int http_send(http_conn_t *conn, http_request_t *r, const http_fill_t *fill, http_result_t *failed)
{
    if (!fill)
        return conn->ops->send(conn, r, NULL, failed);
    http_fill_t f;
    if (!fill_check(fill, &f)) {
        *failed = (http_result_t){.error = HTTP_E_CANNOT_CREATE};
        return -1;
    }
    bool empty = !f.target && f.headers_len == 0 && !f.has_body;
    return conn->ops->send(conn, r, empty ? NULL : &f, failed);
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

void http_client_tls_counts(const http_client_t *c, uint64_t *handshakes, uint64_t *resumed)
{
    *handshakes = *resumed = 0;
    if (c->ops->tls_counts)
        c->ops->tls_counts(c, handshakes, resumed);
}

uint64_t http_client_retries(const http_client_t *c)
{
    return c->ops->retries(c);
}

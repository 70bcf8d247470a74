/* h1_request: a step's request bytes, built once before the run (see
 * src/http/h1_internal.h). Not on the hot path: it may allocate freely. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h1_internal.h"
#include "http/method.h"
#include "util/url.h"
#include "util/xalloc.h"

static const char crlf[] = "\r\n";

/* A growing byte string, for building request heads (not on the hot path). */
typedef struct {
    char *p;
    size_t len, cap;
} strbuf_t;

static void sb_add(strbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(strbuf_t *b, const char *s) { sb_add(b, s, strlen(s)); }

static bool header_named(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* Whether header i of a list is sent with each request instead (its value
 * is a template); a list without templates (NULL) has none. */
static bool is_dynamic(const tmpl_t *tmpls, size_t i)
{
    return tmpls != NULL && tmpls[i].dynamic;
}

/* h1_request_prepare with two header lists (plan, then step), each with its
 * templates or NULL. */
static int prepare(h1_request_t *r, const h1_origin_t *o, const char *method, const char *target,
                   char *const *const lists[2], const tmpl_t *const tmpls[2],
                   const size_t counts[2], const char *body, size_t body_len, uint64_t timeout_us,
                   const char *user_agent, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (method == NULL || *method == '\0' || strpbrk(method, " \t\r\n"))
        return h1_errf(err, errlen, "\"%s\" is not a request method", method ? method : "");
    if (target == NULL || *target == '\0')
        return h1_errf(err, errlen, "the target is empty");

    const char *path = target;
    if (url_is_absolute(target)) {
        /* Only the origin's own scheme: "http://" + authority, or "https://". */
        size_t scheme = (size_t)(o->origin_host - o->origin_url);
        const char *auth = target + scheme;
        size_t auth_len = strncasecmp(target, o->origin_url, scheme) == 0 ? strcspn(auth, "/?#") : 0;
        if (auth_len == 0 || !h1_origin_same(o, auth, auth_len))
            return h1_errf(err, errlen,
                        "\"%s\" is not on %s: hopper's own client sends to one origin",
                        target, o->origin_url);
        path = auth + auth_len;
    } else if (target[0] != '/') {
        return h1_errf(err, errlen, "\"%s\": a target must be a path starting with '/' or an http(s):// URL", target);
    }
    size_t path_len = strcspn(path, "#"); /* fragments stay on the client, as with libcurl */
    for (size_t i = 0; i < path_len; i++) {
        unsigned char ch = (unsigned char)path[i];
        if (ch <= 0x20 || ch >= 0x7f)
            return h1_errf(err, errlen, "\"%s\": the target must be percent-encoded", target);
    }

    /* Plan headers that replace the ones libcurl would add; a dynamic one
     * replaces it too, though its line comes with each send (a dynamic Host
     * is refused before: client.c). */
    const char *custom_host = NULL;
    bool dynamic_host = false, custom_ua = false, custom_accept = false, custom_type = false;
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            const char *h = lists[l][i];
            const char *colon = h ? strchr(h, ':') : NULL;
            if (!colon || colon == h || strpbrk(h, "\r\n"))
                return h1_errf(err, errlen, "header \"%s\": expected \"Name: value\"", h ? h : "");
            if (header_named(h, "Host")) {
                custom_host = h;
                dynamic_host = is_dynamic(tmpls[l], i);
            }
            custom_ua |= header_named(h, "User-Agent");
            custom_accept |= header_named(h, "Accept");
            custom_type |= header_named(h, "Content-Type");
        }

    bool is_head = strcmp(method, "HEAD") == 0;
    if (is_head)
        body = NULL;
    /* As the engine sets libcurl up: a body, or a POST even without one, is
     * sent as POSTFIELDS (Content-Length and a default Content-Type); a PUT or
     * PATCH without a body says Content-Length: 0 so servers need not wait. */
    bool sends_body = body != NULL || strcmp(method, "POST") == 0;
    bool zero_length = !sends_body && (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0);
    if (!body)
        body_len = 0;

    strbuf_t b = {0};
    sb_str(&b, method);
    sb_add(&b, " ", 1);
    if (path_len == 0 || path[0] != '/')
        sb_add(&b, "/", 1);
    sb_add(&b, path, path_len);
    size_t path_start = strlen(method) + 1;
    size_t path_end = b.len;
    sb_str(&b, " HTTP/1.1\r\n");
    if (custom_host && !dynamic_host) {
        sb_str(&b, custom_host);
        sb_add(&b, crlf, 2);
    } else if (!custom_host) {
        sb_str(&b, "Host: ");
        sb_str(&b, o->origin_host);
        sb_add(&b, crlf, 2);
    }
    if (!custom_ua && user_agent) {
        sb_str(&b, "User-Agent: ");
        sb_str(&b, user_agent);
        sb_add(&b, crlf, 2);
    }
    if (!custom_accept)
        sb_str(&b, "Accept: */*\r\n");
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < counts[l]; i++) {
            /* A plan's Content-Length equals the body's (the hopperfile
             * checks it): hopper's own, in the framing below, says the same
             * and is dropped with the body when a redirect makes a GET. */
            if (lists[l][i] == custom_host || header_named(lists[l][i], "Content-Length") ||
                is_dynamic(tmpls[l], i))
                continue;
            sb_str(&b, lists[l][i]);
            sb_add(&b, crlf, 2);
        }
    size_t framing_start = b.len;
    if (sends_body && !custom_type)
        sb_str(&b, H1_DEFAULT_CONTENT_TYPE);
    if (sends_body || zero_length) {
        char line[48];
        snprintf(line, sizeof line, "Content-Length: %zu\r\n", body_len);
        sb_str(&b, line);
    }
    r->head_len = b.len;
    r->framing_len = b.len - framing_start;
    sb_add(&b, crlf, 2);
    if (body_len)
        sb_add(&b, body, body_len);
    r->head = b.p;
    r->body = body ? r->head + r->head_len + 2 : NULL;
    r->body_len = body_len;
    r->method = xstrdup(method);
    r->path = xstrndup(b.p + path_start, path_end - path_start);
    r->is_head = is_head;
    r->idempotent = http_method_idempotent(method);
    r->custom_type = custom_type;
    r->timeout_us = timeout_us;
    return 0;
}

int h1_request_prepare(h1_request_t *r, const h1_origin_t *o, const char *method,
                       const char *target, char *const *headers, size_t n_headers,
                       char *const *task_headers, size_t n_task_headers, const char *body,
                       size_t body_len, uint64_t timeout_us, const char *user_agent, char *err,
                       size_t errlen)
{
    char *const *const lists[2] = {headers, task_headers};
    const tmpl_t *const tmpls[2] = {NULL, NULL};
    const size_t counts[2] = {n_headers, n_task_headers};
    return prepare(r, o, method, target, lists, tmpls, counts, body, body_len, timeout_us,
                   user_agent, err, errlen);
}

int h1_request_prepare_step(h1_request_t *r, const h1_origin_t *o, const plan_t *plan,
                            const plan_step_t *step, const char *url, uint64_t timeout_us,
                            const char *user_agent, char *err, size_t errlen)
{
    char *const *const lists[2] = {plan->headers, step->headers};
    const tmpl_t *const tmpls[2] = {plan->header_t, step->header_t};
    const size_t counts[2] = {plan->n_headers, step->n_headers};
    int rc = prepare(r, o, step->method, url, lists, tmpls, counts, step->body, step->body_len,
                     timeout_us, user_agent, err, errlen);
    if (rc == 0)
        r->keep_headers = step->keep_headers;
    return rc;
}

void h1_request_free(h1_request_t *r)
{
    free(r->head);
    free((char *)r->method);
    free((char *)r->path);
    memset(r, 0, sizeof *r);
}

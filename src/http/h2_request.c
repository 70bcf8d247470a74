/* h2_request: a step's request as an HTTP/2 header list, built once before
 * the run from the HTTP/1.1 client's prepared head (see
 * src/http/h2_internal.h). Not on the hot path: it may allocate freely. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h2_internal.h"
#include "util/xalloc.h"

#define NO_COPY (NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE)

static bool named(const char *n, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(n, lit, len) == 0;
}

bool h2_header_dropped(const char *n, size_t len, const char *value, size_t value_len)
{
    /* Connection-specific fields make an HTTP/2 message malformed (RFC 9113
     * 8.2.2); Host is said by :authority. */
    if (named(n, len, "connection") || named(n, len, "keep-alive") ||
        named(n, len, "proxy-connection") || named(n, len, "transfer-encoding") ||
        named(n, len, "upgrade") || named(n, len, "host"))
        return true;
    return named(n, len, "te") && !(value_len == 8 && strncasecmp(value, "trailers", 8) == 0);
}

static nghttp2_nv make_nv(const char *name, size_t name_len, const char *value, size_t value_len)
{
    return (nghttp2_nv){.name = (uint8_t *)name, .namelen = name_len, .value = (uint8_t *)value,
                        .valuelen = value_len, .flags = NO_COPY};
}

/* One "Name: value" line of a head (without its CRLF): the name, and the
 * value without the blanks around it. */
static void split_line(const char *line, size_t len, size_t *name_len, const char **value,
                       size_t *value_len)
{
    const char *colon = memchr(line, ':', len);
    size_t n = colon ? (size_t)(colon - line) : len;
    const char *v = colon ? colon + 1 : line + len;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *name_len = n;
    *value = v;
    *value_len = (size_t)(end - v);
}

void h2_request_init_nv(h2_request_t *r, const h2_origin_t *o)
{
    const h1_request_t *h = &r->h1;
    size_t lines = 0;
    for (size_t i = 0; i < h->head_len; i++)
        lines += h->head[i] == '\n';
    r->nv = xcalloc(lines + H2_NV_PSEUDO, sizeof *r->nv);
    r->names = xmalloc(h->head_len + 1);
    r->nv[H2_NV_METHOD] = make_nv(":method", 7, h->method, strlen(h->method));
    r->nv[H2_NV_SCHEME] = make_nv(":scheme", 7, o->scheme, strlen(o->scheme));
    r->nv[H2_NV_AUTHORITY] = make_nv(":authority", 10, o->h1.origin_host, strlen(o->h1.origin_host));
    r->nv[H2_NV_PATH] = make_nv(":path", 5, h->path, strlen(h->path));
    size_t n = H2_NV_PSEUDO;
    size_t framing_start = h->head_len - h->framing_len;
    const char *nl = memchr(h->head, '\n', h->head_len);
    size_t pos = nl ? (size_t)(nl - h->head) + 1 : h->head_len; /* past the request line */
    char *names = r->names;
    r->n_framing = 0;
    while (pos < h->head_len) {
        const char *line = h->head + pos;
        const char *eol = memchr(line, '\n', h->head_len - pos);
        size_t full = eol ? (size_t)(eol - line) + 1 : h->head_len - pos;
        size_t len = full;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        size_t name_len, value_len;
        const char *value;
        split_line(line, len, &name_len, &value, &value_len);
        if (named(line, name_len, "host")) {
            r->nv[H2_NV_AUTHORITY] = make_nv(":authority", 10, value, value_len);
        } else if (name_len > 0 && !h2_header_dropped(line, name_len, value, value_len)) {
            for (size_t i = 0; i < name_len; i++) {
                char ch = line[i];
                names[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
            }
            r->nv[n++] = make_nv(names, name_len, value, value_len);
            names += name_len;
            if (pos >= framing_start)
                r->n_framing++;
        }
        pos += full;
    }
    r->n_nv = n;
}

int h2_request_prepare_step(h2_request_t *r, const h2_origin_t *o, const plan_t *plan,
                            const plan_step_t *step, const char *url, uint64_t timeout_us,
                            const char *user_agent, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    if (h1_request_prepare_step(&r->h1, &o->h1, plan, step, url, timeout_us, user_agent, err,
                                errlen) != 0)
        return -1;
    h2_request_init_nv(r, o);
    return 0;
}

void h2_request_free(h2_request_t *r)
{
    h1_request_free(&r->h1);
    free(r->nv);
    free(r->names);
    memset(r, 0, sizeof *r);
}

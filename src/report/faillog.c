/* faillog: see include/report/faillog.h. */
#include "report/faillog.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/outfile.h"
#include "util/text.h"

int faillog_open(faillog_t *l, const char *path, bool secrets, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->secrets = secrets;
    l->f = outfile_open(path, true, err, errlen);
    /* Line buffered: with --workers each worker process writes its own lines
     * to the same O_APPEND file, and a line must go out in one write. */
    if (l->f)
        setvbuf(l->f, NULL, _IOLBF, 1 << 16);
    return l->f ? 0 : -1;
}

bool faillog_is_secret(const char *name, size_t len)
{
    static const char *const secret[] = {"authorization", "cookie", "set-cookie",
                                         "proxy-authorization"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        if (strlen(secret[i]) == len && strncasecmp(name, secret[i], len) == 0)
            return true;
    return false;
}

/* Text that may not be UTF-8 (a server's body) as a JSON string: valid UTF-8
 * is kept, anything else becomes \ufffd. */
static json_t *text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    char *buf = malloc(n * 3 + 1);
    if (!buf)
        return json_null();
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            buf[k++] = (char)c;
        } else {
            memcpy(buf + k, "\xef\xbf\xbd", 3);
            k += 3;
        }
    }
    j = json_stringn(buf, k);
    free(buf);
    return j ? j : json_null();
}

/* A URL with the password of user:password@ replaced. */
static json_t *url_value(const char *url, bool secrets)
{
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    if (secrets || !at || (slash && slash < at))
        return text(url, strlen(url));
    const char *colon = memchr(scheme + 3, ':', (size_t)(at - (scheme + 3)));
    if (!colon)
        return text(url, strlen(url));
    char buf[2048];
    snprintf(buf, sizeof buf, "%.*s[redacted]%s", (int)(colon + 1 - url), url, at);
    return text(buf, strlen(buf));
}

static json_t *headers(const char *block, size_t len, bool secrets)
{
    json_t *arr = json_array();
    const char *p = block, *end = block + len;
    bool first = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 0)
            break;                      /* the blank line ends the block */
        if (first) {
            first = false;              /* the request line: "GET /x HTTP/1.1" */
        } else {
            const char *colon = memchr(p, ':', n);
            if (colon && !secrets && faillog_is_secret(p, (size_t)(colon - p))) {
                char buf[256];
                snprintf(buf, sizeof buf, "%.*s: [redacted]", (int)(colon - p), p);
                json_array_append_new(arr, text(buf, strlen(buf)));
                p = nl ? nl + 1 : end;
                continue;
            }
        }
        json_array_append_new(arr, text(p, n));
        p = nl ? nl + 1 : end;
    }
    return arr;
}

void faillog_write(const failure_t *f, void *arg)
{
    faillog_t *l = arg;
    if (!l->f)
        return;
    json_t *o = json_object();
    char ts[64];
    json_object_set_new(o, "time", json_string(text_utc_ms(f->time_unix, ts, sizeof ts)));
    json_object_set_new(o, "method", text(f->method, strlen(f->method)));
    json_object_set_new(o, "name", text(f->name, strlen(f->name)));
    json_object_set_new(o, "url", url_value(f->url, l->secrets));
    json_object_set_new(o, "status", f->status ? json_integer(f->status) : json_null());
    json_object_set_new(o, "error", text(f->error, strlen(f->error)));
    json_object_set_new(o, "request_headers",
                        headers(f->request_headers ? f->request_headers : "", f->request_headers_len,
                                l->secrets));
    json_object_set_new(o, "response_body", text(f->body ? f->body : "", f->body_len));
    if (json_dumpf(o, l->f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || fputc('\n', l->f) == EOF)
        l->write_failed = true;
    json_decref(o);
    l->lines++;
}

int faillog_close(faillog_t *l)
{
    if (!l->f)
        return 0;
    int rc = l->write_failed ? -1 : 0;
    if (fclose(l->f) != 0)
        rc = -1;
    l->f = NULL;
    return rc;
}

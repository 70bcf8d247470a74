/* errors: see include/http/errors.h. */
#include "http/errors.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/duration.h"

/* The kinds whose text never varies. */
static const char *const fixed_text[] = {
    [HTTP_E_CONNECT_REFUSED] = "connection refused",
    [HTTP_E_RESOLVE] = "cannot resolve host",
    [HTTP_E_RESET] = "connection reset",
    [HTTP_E_NO_RESPONSE] = "connection closed without a response",
    [HTTP_E_MID_BODY] = "connection closed mid-body",
    [HTTP_E_CLOSED_SENDING] = "connection closed while sending",
    [HTTP_E_MALFORMED] = "malformed response",
    [HTTP_E_TLS_TRUNCATED] = "TLS connection closed without close_notify",
    [HTTP_E_NO_H2] = "the server does not speak HTTP/2 (ALPN chose http/1.1)",
    [HTTP_E_TOO_MANY_REDIRECTS] = "too many redirects",
    [HTTP_E_CANNOT_CREATE] = "cannot create request",
};

/* "what" alone, or "what: strerror" when there is an errno. */
static const char *with_errno(const char *what, int sys_errno, char *buf, size_t len)
{
    if (sys_errno)
        snprintf(buf, len, "%s: %s", what, strerror(sys_errno));
    else
        snprintf(buf, len, "%s", what);
    return buf;
}

/* "what" alone, or "what: detail". */
static const char *with_detail(const char *what, const char *detail, char *buf, size_t len)
{
    if (detail)
        snprintf(buf, len, "%s: %s", what, detail);
    else
        snprintf(buf, len, "%s", what);
    return buf;
}

const char *http_error_text(const http_result_t *r, char *buf, size_t len)
{
    char d[32];
    switch (r->error) {
    case HTTP_OK:
        return NULL;
    case HTTP_E_CONNECT:
    case HTTP_E_OUT_OF_FDS:
    case HTTP_E_OUT_OF_PORTS:
        return with_errno("cannot connect", r->sys_errno, buf, len);
    case HTTP_E_SEND:
        return with_errno("send error", r->sys_errno, buf, len);
    case HTTP_E_RECV:
        return with_errno("receive error", r->sys_errno, buf, len);
    case HTTP_E_TIMEOUT:
        snprintf(buf, len, "timeout after %s", duration_format(r->timeout_us, d, sizeof d));
        return buf;
    case HTTP_E_CROSS_ORIGIN: {
        /* Long Locations are cut: the text is an error summary's key. */
        const char *loc = r->detail ? r->detail : "";
        size_t n = strlen(loc);
        int shown = n > 80 ? 77 : (int)n;
        snprintf(buf, len, "redirect to another origin (%.*s%s): not followed by the native client",
                 shown, loc, n > 80 ? "..." : "");
        return buf;
    }
    case HTTP_E_TLS_UNTRUSTED:
        if (r->detail)
            snprintf(buf, len, "TLS certificate not trusted: %s (--insecure skips the check)",
                     r->detail);
        else
            snprintf(buf, len, "TLS certificate not trusted (--insecure skips the check)");
        return buf;
    case HTTP_E_TLS_HANDSHAKE:
        return with_detail("TLS handshake failed", r->detail, buf, len);
    case HTTP_E_TLS:
        return with_detail("TLS error", r->detail, buf, len);
    case HTTP_E_STREAM_RESET:
        return with_detail("HTTP/2 stream reset by the server", r->detail, buf, len);
    case HTTP_E_GOAWAY:
        snprintf(buf, len, "HTTP/2 connection ended by the server (GOAWAY: %s)",
                 r->detail ? r->detail : "no error");
        return buf;
    case HTTP_E_OTHER:
        snprintf(buf, len, "%s", r->detail ? r->detail : "internal error");
        return buf;
    default:
        if ((size_t)r->error < sizeof fixed_text / sizeof fixed_text[0] && fixed_text[r->error])
            snprintf(buf, len, "%s", fixed_text[r->error]);
        else
            snprintf(buf, len, "internal error");
        return buf;
    }
}

http_error_t http_connect_error(int sys_errno)
{
    switch (sys_errno) {
    case ECONNREFUSED:
        return HTTP_E_CONNECT_REFUSED;
    case EMFILE:
    case ENFILE:
        return HTTP_E_OUT_OF_FDS;
    case EADDRNOTAVAIL:
        return HTTP_E_OUT_OF_PORTS;
    default:
        return HTTP_E_CONNECT;
    }
}

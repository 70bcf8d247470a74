/* cookies: a user's cookie jar for the native HTTP/1.1 client.
 *
 * A browser-like subset of RFC 6265 for one origin: Set-Cookie's name=value,
 * Path (default: the request path's folder), Max-Age and Expires (a cookie
 * that has expired, or Max-Age <= 0, is removed), HttpOnly and Secure accepted
 * (Secure cookies are not sent over plain http, as browsers do); Domain is
 * accepted and ignored (one origin per run). Small and allocation-light: a
 * user with no cookies costs one pointer.
 *
 * A cookie is the pair (name, path): a Set-Cookie with the same name and path
 * replaces the value in place, one with a new pair is added at the end. A jar
 * that is full (COOKIES_MAX) drops its expired cookies first, then its oldest,
 * as browsers do. A Set-Cookie that cannot be read (no '=', no name, control
 * bytes, more than 4096 bytes of name and value) is ignored. */
#ifndef HOPPER_COOKIES_H
#define HOPPER_COOKIES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef struct cookie cookie_t;

typedef struct {
    cookie_t *head;
    size_t n;
} cookie_jar_t;

#define COOKIES_MAX 50          /* per user, as browsers bound them per domain */

void cookie_jar_init(cookie_jar_t *j);
void cookie_jar_free(cookie_jar_t *j);

/* Applies one Set-Cookie header value received for request_path at time now. */
void cookie_jar_set(cookie_jar_t *j, const char *value, size_t len, const char *request_path,
                    time_t now);

/* Writes "Cookie: a=1; b=2\r\n" for a request to path into buf (len bytes);
 * returns the length written, 0 when no cookie applies (or it does not fit).
 * Cookies with longer paths come first, then in the order they were set. The
 * path may carry a query; only the part before '?' is matched. */
size_t cookie_jar_header(const cookie_jar_t *j, const char *path, time_t now, char *buf, size_t len);

/* The size of a buffer that always holds cookie_jar_header's output for this
 * jar (every cookie sent), 0 for an empty jar: lets a caller size its buffer
 * once and grow it only when the jar grows. */
size_t cookie_jar_header_max(const cookie_jar_t *j);

#endif

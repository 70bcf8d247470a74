/* cookies: a user's cookie jar for the native HTTP/1.1 client.
 *
 * A browser-like subset of RFC 6265 for one origin: Set-Cookie's name=value,
 * Path (default: the request path's folder), Max-Age and Expires (a cookie
 * that has expired, or Max-Age <= 0, is removed), HttpOnly and Secure accepted
 * (Secure cookies are not sent over plain http, as browsers do); Domain is
 * accepted and ignored (one origin per run). Small and allocation-light: a
 * user with no cookies costs one pointer. */
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
void cookie_jar_clear(cookie_jar_t *j);

/* Applies one Set-Cookie header value received for request_path at time now. */
void cookie_jar_set(cookie_jar_t *j, const char *value, size_t len, const char *request_path,
                    time_t now);

/* Writes "Cookie: a=1; b=2\r\n" for a request to path into buf (len bytes);
 * returns the length written, 0 when no cookie applies (or it does not fit). */
size_t cookie_jar_header(const cookie_jar_t *j, const char *path, time_t now, char *buf, size_t len);

#endif

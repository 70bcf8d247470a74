/* url: the base URL check and the request URL a task sends.
 *
 * hopper sends paths the way Locust does: characters that may not appear in a
 * request target (space, control bytes, non-ASCII bytes, and " < > \ ^ ` { | })
 * go on the wire percent-encoded ("/api/title/The godfather/1972" is sent as
 * "/api/title/The%20godfather/1972"). Existing %XX escapes and the reserved
 * characters (/ ? # [ ] @ ! $ & ' ( ) * + , ; = : %) are kept as written. */
#ifndef HOPPER_URL_H
#define HOPPER_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Checks a base URL: scheme http or https, a host (name, IPv4 or [IPv6]), an
 * optional port 1-65535, an optional path; no spaces or control characters.
 * Returns 0, or -1 with a short reason in *why (static string). */
int url_check_base(const char *url, const char **why);

/* Checks a task's target: an absolute http(s) URL (checked as a base URL) or a
 * path that starts with '/'. Control characters are refused. Returns 0 or -1
 * with *why. */
int url_check_target(const char *target, const char **why);

/* Whether target is an absolute http:// or https:// URL. */
bool url_is_absolute(const char *target);

/* The absolute, percent-encoded URL for target against base (base may end in
 * '/' or carry a path prefix: "http://h:1/v1" + "/status" = "http://h:1/v1/status").
 * An absolute target ignores base. Returns a string from xmalloc. */
char *url_resolve(const char *base, const char *target);

/* Percent-encodes the characters described above; returns an xmalloc'd string. */
char *url_encode_path(const char *s);

/* The host part of a base URL ("127.0.0.1", "::1", "localhost") into buf, for
 * checks such as "is this loopback"; returns 0 or -1 if none. */
int url_host(const char *url, char *buf, size_t len);

#endif

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
 * optional port 1-65535, an optional path; no spaces or control characters,
 * and every '%' starts a %XX escape. Returns 0, or -1 with a short reason in
 * *why (static string). */
int url_check_base(const char *url, const char **why);

/* Checks a task's target: an absolute http(s) URL (checked as a base URL) or a
 * path that starts with '/'. Control characters, and a '%' that does not start
 * a %XX escape, are refused. Returns 0 or -1 with *why. */
int url_check_target(const char *target, const char **why);

/* Whether target is an absolute http:// or https:// URL. */
bool url_is_absolute(const char *target);

/* The absolute, percent-encoded URL for target against base (base may end in
 * '/' or carry a path prefix: "http://h:1/v1" + "/status" = "http://h:1/v1/status").
 * An absolute target ignores base. Returns a string from xmalloc. */
char *url_resolve(const char *base, const char *target);

/* Percent-encodes the characters described above; returns an xmalloc'd string. */
char *url_encode_path(const char *s);

/* The same for len bytes of s into out, which has room for 3 * len bytes
 * (no NUL added); returns the length written. No allocation: for targets
 * rendered per request. */
size_t url_encode_path_to(const char *s, size_t len, char *out);

/* The host part of a base URL ("127.0.0.1", "::1", "localhost") into buf, for
 * checks such as "is this loopback"; returns 0 or -1 if none. */
int url_host(const char *url, char *buf, size_t len);

/* ---- references (RFC 3986 section 5), for following redirects ---- */

/* Whether s (n bytes) starts with a URI scheme and ':' (RFC 3986 3.1). */
bool url_has_scheme(const char *s, size_t n);

/* RFC 3986 5.2.4 on the path part of s (up to '?'; the query is kept as
 * is): "/a/./b/../c?x" is "/a/c?x". Returns an xmalloc'd string. */
char *url_remove_dot_segments(const char *s);

/* Splits an http authority "host[:port]" or "[v6][:port]" of n bytes: the
 * host without brackets and the port (80 when absent). false if it is not
 * one; credentials ("user@") are refused. */
bool url_split_authority(const char *a, size_t n, const char **host, size_t *host_len,
                         unsigned *port);

/* The same with the scheme's default port (443 for https://). */
bool url_split_authority_in(const char *a, size_t n, unsigned default_port, const char **host,
                            size_t *host_len, unsigned *port);

/* Whether two http authorities name the same origin: the host compared
 * without case, the port with 80 for none. */
bool url_same_authority(const char *a, size_t an, const char *b, size_t bn);
/* The same with another default port (443 for https://). */
bool url_same_authority_in(const char *a, size_t an, const char *b, size_t bn,
                           unsigned default_port);

/* 443 for an https:// URL, else 80. */
unsigned url_default_port(const char *url);

/* Resolves a redirect's Location (ref, n bytes: no surrounding blanks, no
 * fragment) against the current request target cur ("/path?query") of the
 * origin ("http://host[:port]" or "https://..."): the new origin-form target,
 * dot segments removed and percent-encoded as url_encode_path does
 * (xmalloc'd), or NULL when ref names another origin or scheme. */
char *url_resolve_reference(const char *origin, const char *cur, const char *ref, size_t n);

#endif

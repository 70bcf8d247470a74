/* url: see include/util/url.h.
 *
 * This is deliberately not a general URL parser. hopper needs three things:
 * refuse a host that can never work before the test starts, join a task's path
 * to it, and encode what may not go on the wire. libcurl parses the result
 * again when it sends it, so the checks here aim at clear messages for
 * mistakes a person makes in a hopperfile, not at RFC 3986 completeness. */
#include "util/url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Bytes that may never appear in a URL as written: they would end the
 * request line or corrupt it. */
static bool is_space_or_control(unsigned char c) { return c <= 0x20 || c == 0x7f; }

static int fail(const char **why, const char *reason)
{
    if (why != NULL)
        *why = reason;
    return -1;
}

/* Whether every '%' in s starts a %XX escape (RFC 3986 2.1). A stray '%'
 * would otherwise be sent as written and read by the server as whatever the
 * next two bytes happen to be; a literal '%' is written %25. */
static int check_percent_escapes(const char *s, const char **why)
{
    for (const char *p = s; *p != '\0'; p++)
        if (*p == '%' && (!is_hex(p[1]) || !is_hex(p[2])))
            return fail(why, "a '%' must start a %XX escape such as %20 (write a literal % as %25)");
    return 0;
}

/* Length of "http://" or "https://" at the start of s, or 0. */
static size_t scheme_len(const char *s)
{
    if (strncasecmp(s, "http://", 7) == 0)
        return 7;
    if (strncasecmp(s, "https://", 8) == 0)
        return 8;
    return 0;
}

bool url_is_absolute(const char *target)
{
    return target != NULL && scheme_len(target) > 0;
}

/* A host name or IPv4 address: letters, digits and the few punctuation
 * characters DNS names use ('_' appears in real internal names). */
static bool is_host_char(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

/* Checks an authority "[user[:pw]@]host[:port]" of n bytes. */
static int check_authority(const char *a, size_t n, const char **why)
{
    /* The last '@' ends the userinfo: a password may itself contain '@'
     * only percent-encoded, but be lenient about which one it is. */
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '@')
            at = a + i;
    if (at != NULL) {
        n -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    if (n == 0)
        return fail(why, "the host is missing");

    size_t host_end;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close == NULL)
            return fail(why, "an IPv6 address needs a closing ']'");
        host_end = (size_t)(close - a) + 1;
        if (host_end == 2)
            return fail(why, "the host is missing");
        for (size_t i = 1; i + 1 < host_end; i++)
            if (!is_hex(a[i]) && a[i] != ':' && a[i] != '.')
                return fail(why, "an IPv6 address may only contain hex digits, ':' and '.'");
    } else {
        host_end = 0;
        while (host_end < n && a[host_end] != ':') {
            unsigned char c = (unsigned char)a[host_end];
            if (c >= 0x80)
                return fail(why, "the host name is not ASCII (write it in its xn-- form)");
            if (!is_host_char((char)c))
                return fail(why, "the host name contains a character that is not allowed");
            host_end++;
        }
        if (host_end == 0)
            return fail(why, "the host is missing");
    }

    if (host_end == n)
        return 0;
    if (a[host_end] != ':')
        return fail(why, "unexpected text after the IPv6 address");
    const char *port = a + host_end + 1;
    size_t port_len = n - host_end - 1;
    if (port_len == 0)
        return fail(why, "the port is empty");
    unsigned long value = 0;
    for (size_t i = 0; i < port_len; i++) {
        if (!is_digit(port[i]))
            return fail(why, "the port must be a number");
        value = value * 10 + (unsigned long)(port[i] - '0');
        if (value > 65535)
            return fail(why, "the port must be from 1 to 65535");
    }
    if (value == 0)
        return fail(why, "the port must be from 1 to 65535");
    return 0;
}

/* The shared check behind url_check_base and url_check_target: a base URL is
 * joined with paths, so a query or fragment in it would end up in the middle
 * of every request; an absolute target may carry both. */
static int check_absolute(const char *url, bool allow_query, const char **why)
{
    size_t skip = scheme_len(url);
    if (skip == 0) {
        if (strstr(url, "://") != NULL)
            return fail(why, "the scheme must be http:// or https://");
        return fail(why, "it must start with http:// or https://");
    }
    for (const char *p = url; *p != '\0'; p++)
        if (is_space_or_control((unsigned char)*p))
            return fail(why, "spaces and control characters are not allowed (write a space as %20)");
    if (check_percent_escapes(url, why) != 0)
        return -1;

    const char *auth = url + skip;
    size_t auth_len = strcspn(auth, "/?#");
    if (check_authority(auth, auth_len, why) != 0)
        return -1;
    if (!allow_query && strpbrk(auth + auth_len, "?#") != NULL)
        return fail(why, "a base URL cannot have a query or a fragment");
    return 0;
}

int url_check_base(const char *url, const char **why)
{
    if (url == NULL || *url == '\0')
        return fail(why, "empty URL");
    return check_absolute(url, false, why);
}

int url_check_target(const char *target, const char **why)
{
    if (target == NULL || *target == '\0')
        return fail(why, "empty target");
    if (url_is_absolute(target))
        return check_absolute(target, true, why);
    if (target[0] != '/') {
        if (strstr(target, "://") != NULL)
            return fail(why, "the scheme must be http:// or https://");
        return fail(why, "a target must be a path starting with '/' or an http(s):// URL");
    }
    /* Spaces and non-ASCII bytes are fine in a path: url_encode_path sends
     * them encoded. Control bytes are not: they are almost always a mistake
     * and would be invisible in the statistics. */
    for (const char *p = target; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 || c == 0x7f)
            return fail(why, "control characters are not allowed");
    }
    return check_percent_escapes(target, why);
}

/* Whether byte c must be sent as %XX (see the header for the list). */
static bool needs_encoding(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return true;
    return strchr("\"<>\\^`{|}", c) != NULL;
}

size_t url_encode_path_to(const char *s, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < len && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            /* An escape already written is kept as it is (also its case). */
            memcpy(out + o, s + i, 3);
            o += 3;
            i += 2;
        } else if (c == '%' || needs_encoding(c)) {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0f];
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

char *url_encode_path(const char *s)
{
    if (s == NULL)
        s = "";
    size_t len = strlen(s);
    char *out = xmalloc(len * 3 + 1); /* every byte may become %XX */
    out[url_encode_path_to(s, len, out)] = '\0';
    return out;
}

char *url_resolve(const char *base, const char *target)
{
    if (target == NULL)
        target = "";
    if (url_is_absolute(target) || base == NULL)
        return url_encode_path(target);

    size_t base_len = strlen(base), target_len = strlen(target);
    bool base_slash = base_len > 0 && base[base_len - 1] == '/';
    bool target_slash = target[0] == '/';
    if (base_slash && target_slash)
        base_len--;                 /* "http://h/" + "/x": one slash */
    bool add_slash = !base_slash && !target_slash && target_len > 0;

    char *joined = xmalloc(base_len + target_len + 2);
    memcpy(joined, base, base_len);
    size_t o = base_len;
    if (add_slash)
        joined[o++] = '/';
    memcpy(joined + o, target, target_len + 1);
    char *encoded = url_encode_path(joined);
    free(joined);
    return encoded;
}

int url_host(const char *url, char *buf, size_t len)
{
    if (url == NULL || buf == NULL || len == 0)
        return -1;
    const char *sep = strstr(url, "://");
    if (sep == NULL)
        return -1;
    const char *auth = sep + 3;
    size_t auth_len = strcspn(auth, "/?#");

    const char *host = auth;
    for (size_t i = 0; i < auth_len; i++)
        if (auth[i] == '@')
            host = auth + i + 1;
    size_t rest = auth_len - (size_t)(host - auth);

    size_t host_len;
    if (rest > 0 && host[0] == '[') {
        const char *close = memchr(host, ']', rest);
        if (close == NULL)
            return -1;
        host++;
        host_len = (size_t)(close - host);
    } else {
        const char *colon = memchr(host, ':', rest);
        host_len = colon != NULL ? (size_t)(colon - host) : rest;
    }
    if (host_len == 0 || host_len >= len)
        return -1;
    /* Host names are case-insensitive; lower case lets callers compare with
     * strcmp ("LOCALHOST" is loopback too). */
    for (size_t i = 0; i < host_len; i++) {
        char c = host[i];
        buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    buf[host_len] = '\0';
    return 0;
}

/* ---- references ------------------------------------------------------------ */

bool url_has_scheme(const char *s, size_t n)
{
    if (n == 0 || !is_alpha(s[0]))
        return false;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (ch == ':')
            return true;
        if (!(is_alpha(ch) || is_digit(ch) || ch == '+' || ch == '-' || ch == '.'))
            return false;
    }
    return false;
}

char *url_remove_dot_segments(const char *s)
{
    size_t plen = strcspn(s, "?");
    size_t qlen = strlen(s + plen);
    char *out = xmalloc(plen + qlen + 2);
    size_t o = 0;
    const char *in = s, *end = s + plen;
    while (in < end) {
        const char *seg = in + 1;
        const char *next = memchr(seg, '/', (size_t)(end - seg));
        if (!next)
            next = end;
        size_t sl = (size_t)(next - seg);
        if (sl == 1 && seg[0] == '.') {
            if (next == end)
                out[o++] = '/';
        } else if (sl == 2 && seg[0] == '.' && seg[1] == '.') {
            while (o > 0 && out[--o] != '/')
                ;
            if (next == end)
                out[o++] = '/';
        } else {
            out[o++] = '/';
            memcpy(out + o, seg, sl);
            o += sl;
        }
        in = next;
    }
    if (o == 0)
        out[o++] = '/';
    memcpy(out + o, s + plen, qlen + 1);
    return out;
}

bool url_split_authority(const char *a, size_t n, const char **host, size_t *host_len,
                         unsigned *port)
{
    return url_split_authority_in(a, n, 80, host, host_len, port);
}

bool url_split_authority_in(const char *a, size_t n, unsigned default_port, const char **host,
                            size_t *host_len, unsigned *port)
{
    if (n == 0 || memchr(a, '@', n))
        return false;
    size_t h_end;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return false;
        *host = a + 1;
        *host_len = (size_t)(close - a) - 1;
        h_end = (size_t)(close - a) + 1;
    } else {
        const char *colon = memchr(a, ':', n);
        h_end = colon ? (size_t)(colon - a) : n;
        *host = a;
        *host_len = h_end;
    }
    if (*host_len == 0)
        return false;
    *port = default_port;
    if (h_end == n)
        return true;
    if (a[h_end] != ':' || h_end + 1 == n)
        return false;
    unsigned v = 0;
    for (size_t i = h_end + 1; i < n; i++) {
        if (!is_digit(a[i]) || v > 65535)
            return false;
        v = v * 10 + (unsigned)(a[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = v;
    return true;
}

bool url_same_authority(const char *a, size_t an, const char *b, size_t bn)
{
    return url_same_authority_in(a, an, b, bn, 80);
}

bool url_same_authority_in(const char *a, size_t an, const char *b, size_t bn,
                           unsigned default_port)
{
    const char *h1, *h2;
    size_t l1, l2;
    unsigned p1, p2;
    if (!url_split_authority_in(a, an, default_port, &h1, &l1, &p1) ||
        !url_split_authority_in(b, bn, default_port, &h2, &l2, &p2))
        return false;
    return l1 == l2 && p1 == p2 && strncasecmp(h1, h2, l1) == 0;
}

unsigned url_default_port(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 ? 443 : 80;
}

char *url_resolve_reference(const char *origin, const char *cur, const char *ref, size_t n)
{
    size_t cur_path = strcspn(cur, "?#");
    size_t scheme = scheme_len(origin);
    const char *authority = origin + scheme;
    unsigned default_port = url_default_port(origin);
    const char *auth = NULL;
    if (n >= 2 && ref[0] == '/' && ref[1] == '/') {
        auth = ref + 2;
    } else if (url_has_scheme(ref, n)) {
        /* Only the origin's own scheme: http:// from an https:// origin is
         * another origin (and a downgrade). */
        if (n < scheme || scheme == 0 || strncasecmp(ref, origin, scheme) != 0)
            return NULL;
        auth = ref + scheme;
    }

    char *joined;
    if (auth) {
        size_t rest = n - (size_t)(auth - ref);
        size_t auth_len = strcspn(auth, "/?#");
        if (auth_len > rest)
            auth_len = rest;
        if (!url_same_authority_in(auth, auth_len, authority, strlen(authority), default_port))
            return NULL;
        const char *p = auth + auth_len;
        size_t pl = rest - auth_len;
        bool slash = pl == 0 || p[0] != '/';
        joined = xmalloc(pl + 2);
        joined[0] = '/';
        memcpy(joined + (slash ? 1 : 0), p, pl);
        joined[pl + (slash ? 1 : 0)] = '\0';
    } else if (n > 0 && ref[0] == '/') {
        joined = xstrndup(ref, n);
    } else if (n > 0 && ref[0] == '?') {
        joined = xmalloc(cur_path + n + 1);
        memcpy(joined, cur, cur_path);
        memcpy(joined + cur_path, ref, n);
        joined[cur_path + n] = '\0';
    } else if (n == 0) {
        joined = xstrndup(cur, strcspn(cur, "#"));
    } else {
        size_t dir = cur_path;
        while (dir > 0 && cur[dir - 1] != '/')
            dir--;
        joined = xmalloc(dir + n + 2);
        memcpy(joined, cur, dir);
        memcpy(joined + dir, ref, n);
        joined[dir + n] = '\0';
        if (dir == 0) { /* a current path without '/' cannot happen, but stay rooted */
            memmove(joined + 1, joined, n + 1);
            joined[0] = '/';
        }
    }
    char *clean = url_remove_dot_segments(joined);
    free(joined);
    /* Servers do send spaces and UTF-8 in Location; libcurl encodes them. */
    char *encoded = url_encode_path(clean);
    free(clean);
    return encoded;
}

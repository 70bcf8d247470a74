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
    return 0;
}

/* Whether byte c must be sent as %XX (see the header for the list). */
static bool needs_encoding(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return true;
    return strchr("\"<>\\^`{|}", c) != NULL;
}

char *url_encode_path(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    if (s == NULL)
        s = "";
    size_t len = strlen(s);
    char *out = xmalloc(len * 3 + 1); /* every byte may become %XX */
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
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
    out[o] = '\0';
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

/* cookies: see include/http/cookies.h.
 *
 * A jar holds at most COOKIES_MAX cookies in a singly linked list in the
 * order they were first set; each cookie is one allocation (the struct with
 * its name, value and path after it). Lookups walk the list: with at most 50
 * entries that is cheaper than any index, and a user without cookies pays
 * nothing but the empty check. */
#include "http/cookies.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

#define COOKIE_MAX_BYTES 4096   /* name + value, the limit browsers apply */

struct cookie {
    cookie_t *next;
    char *name, *value, *path;  /* all three inside this allocation */
    size_t name_len, value_len, path_len;
    time_t expires;             /* 0: a session cookie */
    bool secure;
};

void cookie_jar_init(cookie_jar_t *j)
{
    j->head = NULL;
    j->n = 0;
}

void cookie_jar_free(cookie_jar_t *j)
{
    cookie_t *c = j->head;
    while (c) {
        cookie_t *next = c->next;
        free(c);
        c = next;
    }
    cookie_jar_init(j);
}

/* ---- reading a Set-Cookie value ------------------------------------------ */

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* [*s, *e) without blanks at either end. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && is_blank(**s))
        (*s)++;
    while (*e > *s && is_blank((*e)[-1]))
        (*e)--;
}

static bool name_is(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && strncasecmp(s, lit, n) == 0;
}

/* RFC 6265 5.1.1's delimiters between the tokens of a cookie date. */
static bool is_date_delimiter(unsigned char c)
{
    return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
           (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/* Leading digits of a token: how many (at most max + 1, to tell too many). */
static size_t digits(const char *s, size_t n, size_t max, int *value)
{
    size_t i = 0;
    *value = 0;
    while (i < n && i <= max && is_digit(s[i]))
        *value = *value * 10 + (s[i++] - '0');
    return i;
}

/* A token of 1-2 digits, then a non-digit or its end (RFC 6265's pattern). */
static bool date_number(const char *s, size_t n, size_t min, size_t max, int *value)
{
    size_t k = digits(s, n, max, value);
    return k >= min && k <= max && (k == n || !is_digit(s[k]));
}

static bool date_time(const char *s, size_t n, int *h, int *m, int *sec)
{
    int *parts[3] = {h, m, sec};
    size_t i = 0;
    for (int p = 0; p < 3; p++) {
        size_t k = digits(s + i, n - i, 2, parts[p]);
        if (k < 1 || k > 2)
            return false;
        i += k;
        if (p < 2) {
            if (i >= n || s[i] != ':')
                return false;
            i++;
        }
    }
    return i == n || !is_digit(s[i]);
}

/* 0-11 for a token that starts with a month's three letters, else -1. */
static int month_index(const char *s, size_t n)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    if (n < 3)
        return -1;
    for (int m = 0; m < 12; m++)
        if (strncasecmp(s, months + 3 * m, 3) == 0)
            return m;
    return -1;
}

/* An Expires date by RFC 6265's lenient algorithm, which reads the formats
 * servers really send (RFC 1123, RFC 850, asctime) alike. -1 if unreadable. */
static time_t parse_cookie_date(const char *s, size_t n)
{
    bool have_time = false, have_day = false, have_month = false, have_year = false;
    int hour = 0, min = 0, sec = 0, day = 0, month = 0, year = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && is_date_delimiter((unsigned char)s[i]))
            i++;
        size_t start = i;
        while (i < n && !is_date_delimiter((unsigned char)s[i]))
            i++;
        const char *tok = s + start;
        size_t len = i - start;
        if (len == 0)
            continue;
        int v;
        if (!have_time && date_time(tok, len, &hour, &min, &sec)) {
            have_time = true;
        } else if (!have_day && date_number(tok, len, 1, 2, &v)) {
            have_day = true;
            day = v;
        } else if (!have_month && (v = month_index(tok, len)) >= 0) {
            have_month = true;
            month = v;
        } else if (!have_year && date_number(tok, len, 2, 4, &v)) {
            have_year = true;
            year = v;
        }
    }
    if (have_year && year >= 70 && year <= 99)
        year += 1900;
    else if (have_year && year < 70)
        year += 2000;
    if (!have_time || !have_day || !have_month || !have_year || day < 1 || day > 31 ||
        year < 1601 || hour > 23 || min > 59 || sec > 59)
        return -1;
    struct tm tm = {.tm_sec = sec, .tm_min = min, .tm_hour = hour, .tm_mday = day,
                    .tm_mon = month, .tm_year = year - 1900};
    return timegm(&tm);
}

/* The default path (RFC 6265 5.1.4): the request path up to, not including,
 * its last '/', or "/" when that leaves nothing. */
static void default_path(const char *request_path, const char **p, size_t *n)
{
    size_t len = request_path ? strcspn(request_path, "?#") : 0;
    if (len == 0 || request_path[0] != '/') {
        *p = "/";
        *n = 1;
        return;
    }
    size_t last = len;
    while (last > 0 && request_path[last - 1] != '/')
        last--;
    /* last is one past the rightmost '/' */
    if (last <= 1) {
        *p = "/";
        *n = 1;
        return;
    }
    *p = request_path;
    *n = last - 1;
}

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

/* ---- the list -------------------------------------------------------------- */

static bool expired(const cookie_t *c, time_t now) { return c->expires != 0 && c->expires <= now; }

static void unlink_and_free(cookie_jar_t *j, cookie_t **link)
{
    cookie_t *c = *link;
    *link = c->next;
    free(c);
    j->n--;
}

static void drop_expired(cookie_jar_t *j, time_t now)
{
    cookie_t **link = &j->head;
    while (*link) {
        if (expired(*link, now))
            unlink_and_free(j, link);
        else
            link = &(*link)->next;
    }
}

static cookie_t *cookie_make(const char *name, size_t name_len, const char *value, size_t value_len,
                             const char *path, size_t path_len)
{
    cookie_t *c = xmalloc(sizeof *c + name_len + value_len + path_len + 3);
    c->next = NULL;
    c->name = (char *)(c + 1);
    c->value = c->name + name_len + 1;
    c->path = c->value + value_len + 1;
    memcpy(c->name, name, name_len);
    c->name[name_len] = '\0';
    memcpy(c->value, value, value_len);
    c->value[value_len] = '\0';
    memcpy(c->path, path, path_len);
    c->path[path_len] = '\0';
    c->name_len = name_len;
    c->value_len = value_len;
    c->path_len = path_len;
    c->expires = 0;
    c->secure = false;
    return c;
}

void cookie_jar_set(cookie_jar_t *j, const char *value, size_t len, const char *request_path,
                    time_t now)
{
    if (value == NULL)
        return;
    const char *end = value + len;
    const char *semi = memchr(value, ';', len);
    const char *pair_end = semi ? semi : end;
    const char *eq = memchr(value, '=', (size_t)(pair_end - value));
    if (eq == NULL)
        return;                                 /* no name=value: ignored (RFC 6265 5.2) */
    const char *name = value, *name_end = eq;
    const char *val = eq + 1, *val_end = pair_end;
    trim(&name, &name_end);
    trim(&val, &val_end);
    size_t name_len = (size_t)(name_end - name), val_len = (size_t)(val_end - val);
    if (name_len == 0 || name_len + val_len > COOKIE_MAX_BYTES || has_control(name, name_len) ||
        has_control(val, val_len) || memchr(name, ' ', name_len) || memchr(name, '\t', name_len))
        return;

    const char *path = NULL;
    size_t path_len = 0;
    bool secure = false, have_max_age = false, have_expires = false;
    long long max_age = 0;
    time_t expires = 0;
    /* Attributes: "; Name[=value]" each; unknown ones and unreadable values
     * are skipped, as RFC 6265 says. */
    for (const char *a = semi; a && a < end;) {
        a++;
        const char *a_end = memchr(a, ';', (size_t)(end - a));
        const char *next = a_end;
        if (a_end == NULL)
            a_end = end;
        const char *a_eq = memchr(a, '=', (size_t)(a_end - a));
        const char *an = a, *an_end = a_eq ? a_eq : a_end;
        const char *av = a_eq ? a_eq + 1 : a_end, *av_end = a_end;
        trim(&an, &an_end);
        trim(&av, &av_end);
        size_t an_len = (size_t)(an_end - an), av_len = (size_t)(av_end - av);
        if (name_is(an, an_len, "path")) {
            if (av_len > 0 && av[0] == '/' && !has_control(av, av_len)) {
                path = av;
                path_len = av_len;
            } else {
                path = NULL;                    /* not a path: the default applies */
            }
        } else if (name_is(an, an_len, "max-age")) {
            size_t i = (av_len > 0 && av[0] == '-') ? 1 : 0;
            if (i < av_len) {
                long long v = 0;
                size_t k = i;
                while (k < av_len && is_digit(av[k])) {
                    if (v < 1000000000000LL)   /* saturate: beyond ~31,000 years is forever */
                        v = v * 10 + (av[k] - '0');
                    k++;
                }
                if (k == av_len) {
                    have_max_age = true;
                    max_age = i ? -v : v;
                }
            }
        } else if (name_is(an, an_len, "expires")) {
            time_t t = parse_cookie_date(av, av_len);
            if (t != (time_t)-1) {
                have_expires = true;
                expires = t;
            }
        } else if (name_is(an, an_len, "secure")) {
            secure = true;
        }
        /* Domain, HttpOnly, SameSite and the rest: accepted, nothing to do. */
        a = next;
    }
    if (path == NULL)
        default_path(request_path, &path, &path_len);

    /* Max-Age wins over Expires (RFC 6265 5.3 step 3). A date before now
     * removes the cookie; so does Max-Age <= 0. */
    bool remove = false;
    if (have_max_age) {
        if (max_age <= 0)
            remove = true;
        else
            expires = now + (time_t)max_age;
    } else if (have_expires) {
        if (expires <= now)
            remove = true;
    } else {
        expires = 0;
    }

    cookie_t **link = &j->head;
    for (; *link; link = &(*link)->next) {
        cookie_t *c = *link;
        if (c->name_len == name_len && memcmp(c->name, name, name_len) == 0 &&
            c->path_len == path_len && memcmp(c->path, path, path_len) == 0)
            break;
    }
    if (remove) {
        if (*link)
            unlink_and_free(j, link);
        return;
    }
    cookie_t *fresh = cookie_make(name, name_len, val, val_len, path, path_len);
    fresh->expires = expires;
    fresh->secure = secure;
    if (*link) {
        /* Replace in place: the original creation order stays (RFC 6265 5.3
         * step 11.3 keeps the old creation time). */
        fresh->next = (*link)->next;
        free(*link);
        *link = fresh;
        return;
    }
    if (j->n >= COOKIES_MAX) {
        drop_expired(j, now);
        if (j->n >= COOKIES_MAX)
            unlink_and_free(j, &j->head);       /* the oldest */
        for (link = &j->head; *link; link = &(*link)->next)
            ;
    }
    *link = fresh;
    j->n++;
}

/* ---- the request header ------------------------------------------------------ */

/* RFC 6265 5.1.4: "/a" matches "/a", "/a/" and "/a/b", not "/ab". */
static bool path_matches(const cookie_t *c, const char *path, size_t path_len)
{
    if (path_len < c->path_len || memcmp(path, c->path, c->path_len) != 0)
        return false;
    return path_len == c->path_len || c->path[c->path_len - 1] == '/' || path[c->path_len] == '/';
}

size_t cookie_jar_header(const cookie_jar_t *j, const char *path, time_t now, char *buf, size_t len)
{
    if (j->n == 0 || buf == NULL)
        return 0;
    if (path == NULL || path[0] != '/')
        path = "/";
    size_t path_len = strcspn(path, "?#");

    /* Pick the cookies that apply and order them by path length, longest
     * first; an insertion sort keeps equal lengths in creation order. */
    const cookie_t *pick[COOKIES_MAX];
    size_t n = 0;
    for (const cookie_t *c = j->head; c && n < COOKIES_MAX; c = c->next) {
        if (c->secure || expired(c, now) || !path_matches(c, path, path_len))
            continue;
        size_t k = n++;
        while (k > 0 && pick[k - 1]->path_len < c->path_len) {
            pick[k] = pick[k - 1];
            k--;
        }
        pick[k] = c;
    }
    if (n == 0)
        return 0;

    size_t o = 0;
#define PUT(p, l)                                                                               \
    do {                                                                                        \
        if ((l) > len - o)                                                                      \
            return 0;                                                                           \
        memcpy(buf + o, (p), (l));                                                              \
        o += (l);                                                                               \
    } while (0)
    PUT("Cookie: ", 8);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            PUT("; ", 2);
        PUT(pick[i]->name, pick[i]->name_len);
        PUT("=", 1);
        PUT(pick[i]->value, pick[i]->value_len);
    }
    PUT("\r\n", 2);
#undef PUT
    return o;
}

size_t cookie_jar_header_max(const cookie_jar_t *j)
{
    if (j->n == 0)
        return 0;
    size_t total = 8 + 2;                       /* "Cookie: " and "\r\n" */
    for (const cookie_t *c = j->head; c; c = c->next)
        total += c->name_len + 1 + c->value_len + 2;
    return total;
}

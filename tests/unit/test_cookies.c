/* test_cookies: the native client's cookie jar - set, replace, delete,
 * path matching, the default path, Secure, the 50-cookie bound, malformed
 * input and the Cookie header's form. */
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "http/cookies.h"

#define NOW ((time_t)1700000000) /* 2023-11-14 */

static void set(cookie_jar_t *j, const char *v, const char *path)
{
    cookie_jar_set(j, v, strlen(v), path, NOW);
}

/* The Cookie header for path, as a string ("" when none applies). */
static const char *header(const cookie_jar_t *j, const char *path, char *buf, size_t len)
{
    size_t n = cookie_jar_header(j, path, NOW, buf, len - 1);
    buf[n] = '\0';
    return buf;
}

TEST(set_replace_delete)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    char buf[512];
    CHECK_STR(header(&j, "/", buf, sizeof buf), "");
    CHECK_INT(cookie_jar_header_max(&j), 0);

    set(&j, "sid=abc", "/");
    set(&j, "theme=dark; Path=/", "/");
    CHECK_INT(j.n, 2);
    CHECK_STR(header(&j, "/", buf, sizeof buf), "Cookie: sid=abc; theme=dark\r\n");
    CHECK(cookie_jar_header_max(&j) >= strlen(buf));

    set(&j, "sid=xyz", "/");                            /* same name and path: replaced */
    CHECK_INT(j.n, 2);
    CHECK_STR(header(&j, "/", buf, sizeof buf), "Cookie: sid=xyz; theme=dark\r\n");

    set(&j, "sid=gone; Max-Age=0", "/");                /* deleted */
    CHECK_INT(j.n, 1);
    CHECK_STR(header(&j, "/", buf, sizeof buf), "Cookie: theme=dark\r\n");

    set(&j, "theme=x; Expires=Thu, 01 Jan 1970 00:00:01 GMT", "/"); /* a past date deletes */
    CHECK_INT(j.n, 0);
    CHECK_STR(header(&j, "/", buf, sizeof buf), "");

    set(&j, "late=1; Max-Age=-5", "/");                 /* never added */
    CHECK_INT(j.n, 0);
    cookie_jar_free(&j);
}

TEST(expiry)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    char buf[256];
    set(&j, "a=1; Max-Age=60", "/");
    set(&j, "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "/");
    set(&j, "c=3; expires=Sunday, 06-Nov-94 08:49:37 GMT", "/"); /* RFC 850, past */
    set(&j, "d=4; Expires=not a date", "/");            /* unreadable: a session cookie */
    set(&j, "e=5; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:01 GMT", "/"); /* Max-Age wins */
    CHECK_INT(j.n, 4);
    CHECK_STR(header(&j, "/", buf, sizeof buf), "Cookie: a=1; b=2; d=4; e=5\r\n");
    /* 61 s later a has expired and is not sent; e (10 s) neither. */
    size_t n = cookie_jar_header(&j, "/", NOW + 61, buf, sizeof buf - 1);
    buf[n] = '\0';
    CHECK_STR(buf, "Cookie: b=2; d=4\r\n");
    cookie_jar_free(&j);
}

TEST(path_matching)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    char buf[256];
    set(&j, "a=1; Path=/a", "/");
    CHECK_STR(header(&j, "/a", buf, sizeof buf), "Cookie: a=1\r\n");
    CHECK_STR(header(&j, "/a/b", buf, sizeof buf), "Cookie: a=1\r\n");
    CHECK_STR(header(&j, "/a/", buf, sizeof buf), "Cookie: a=1\r\n");
    CHECK_STR(header(&j, "/a?x=1", buf, sizeof buf), "Cookie: a=1\r\n");
    CHECK_STR(header(&j, "/ab", buf, sizeof buf), "");
    CHECK_STR(header(&j, "/", buf, sizeof buf), "");
    CHECK_STR(header(&j, "/b/a", buf, sizeof buf), "");

    set(&j, "s=2; Path=/a/", "/");                      /* a path ending in '/' */
    CHECK_STR(header(&j, "/a/b", buf, sizeof buf), "Cookie: s=2; a=1\r\n"); /* longer path first */
    CHECK_STR(header(&j, "/a", buf, sizeof buf), "Cookie: a=1\r\n");

    set(&j, "r=3; Path=/", "/a/b");
    CHECK_STR(header(&j, "/zzz", buf, sizeof buf), "Cookie: r=3\r\n");
    CHECK_STR(header(&j, "/a/b", buf, sizeof buf), "Cookie: s=2; a=1; r=3\r\n");

    /* The same name on two paths is two cookies. */
    set(&j, "a=other; Path=/", "/");
    CHECK_INT(j.n, 4);
    CHECK_STR(header(&j, "/a", buf, sizeof buf), "Cookie: a=1; r=3; a=other\r\n");
    cookie_jar_free(&j);
}

TEST(default_path)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    char buf[256];
    set(&j, "d=1", "/shop/cart/add?id=7");              /* default: "/shop/cart" */
    CHECK_STR(header(&j, "/shop/cart", buf, sizeof buf), "Cookie: d=1\r\n");
    CHECK_STR(header(&j, "/shop/cart/x", buf, sizeof buf), "Cookie: d=1\r\n");
    CHECK_STR(header(&j, "/shop", buf, sizeof buf), "");
    cookie_jar_free(&j);

    set(&j, "t=1", "/login");                           /* one segment: "/" */
    CHECK_STR(header(&j, "/anything", buf, sizeof buf), "Cookie: t=1\r\n");
    cookie_jar_free(&j);

    set(&j, "u=1; Path=relative", "/a/b/c");            /* not a path: the default */
    CHECK_STR(header(&j, "/a/b/z", buf, sizeof buf), "Cookie: u=1\r\n");
    CHECK_STR(header(&j, "/a/z", buf, sizeof buf), "");
    cookie_jar_free(&j);

    set(&j, "v=1", NULL);                               /* no request path: "/" */
    CHECK_STR(header(&j, "/x", buf, sizeof buf), "Cookie: v=1\r\n");
    cookie_jar_free(&j);
}

TEST(secure_and_attributes)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    char buf[256];
    set(&j, "s=1; Secure", "/");
    set(&j, "h=2; HttpOnly; Domain=example.com; SameSite=Lax; Unknown=x", "/");
    CHECK_INT(j.n, 2);
    CHECK_STR(header(&j, "/", buf, sizeof buf), "Cookie: h=2\r\n"); /* Secure: not over http */
    set(&j, "only=1; secure", "/");
    CHECK_STR(header(&j, "/", buf, sizeof buf), "Cookie: h=2\r\n");
    cookie_jar_free(&j);
}

TEST(limit_of_fifty)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    char v[32];
    for (int i = 0; i < 60; i++) {
        snprintf(v, sizeof v, "c%d=%d", i, i);
        set(&j, v, "/");
    }
    CHECK_INT(j.n, COOKIES_MAX);
    char *buf = malloc(4096);
    header(&j, "/", buf, 4096);
    CHECK(strstr(buf, "Cookie: c10=10; c11=11;") == buf); /* the oldest ten went */
    CHECK(strstr(buf, "c9=9") == NULL);
    CHECK(strstr(buf, "; c59=59\r\n") != NULL);
    CHECK(cookie_jar_header_max(&j) >= strlen(buf));

    /* Expired ones go before live ones. */
    cookie_jar_free(&j);
    set(&j, "short=1; Max-Age=1", "/");
    for (int i = 0; i < 49; i++) {
        snprintf(v, sizeof v, "k%d=%d", i, i);
        set(&j, v, "/");
    }
    CHECK_INT(j.n, 50);
    cookie_jar_set(&j, "new=1", 5, "/", NOW + 5);
    CHECK_INT(j.n, 50);
    size_t n = cookie_jar_header(&j, "/", NOW + 5, buf, 4095);
    buf[n] = '\0';
    CHECK(strstr(buf, "Cookie: k0=0;") == buf);
    CHECK(strstr(buf, "; new=1\r\n") != NULL);
    free(buf);
    cookie_jar_free(&j);
}

TEST(malformed_ignored)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    static const char *const bad[] = {
        "", "novalue", "=value", "  =x", ";", "; Path=/", "a b=1", "bad\x01=1", "x=\x7f",
        "x=ok\r\nInjected: 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        set(&j, bad[i], "/");
    cookie_jar_set(&j, NULL, 0, "/", NOW);
    cookie_jar_set(&j, "a=1", 0, "/", NOW);             /* zero length */
    CHECK_INT(j.n, 0);

    /* More than 4096 bytes of name and value. */
    char *big = malloc(5000);
    memset(big, 'v', 4999);
    big[0] = 'b';
    big[1] = '=';
    big[4999] = '\0';
    set(&j, big, "/");
    CHECK_INT(j.n, 0);
    free(big);

    /* Odd but readable attributes do not break the cookie. */
    set(&j, "ok=1; Max-Age=abc; Expires=; Path; =; ;;", "/");
    CHECK_INT(j.n, 1);
    char buf[64];
    CHECK_STR(header(&j, "/", buf, sizeof buf), "Cookie: ok=1\r\n");
    cookie_jar_free(&j);

    /* A value longer than the buffer: no header rather than half of one. */
    set(&j, "long=0123456789012345678901234567890123456789", "/");
    CHECK_INT(cookie_jar_header(&j, "/", NOW, buf, 20), 0);
    cookie_jar_free(&j);
}

TEST(values_and_format)
{
    cookie_jar_t j;
    cookie_jar_init(&j);
    char buf[256];
    set(&j, "token=abc==; Path=/", "/");                /* '=' inside the value */
    set(&j, "  spaced  =  v w  ; Path=/", "/");         /* trimmed, inner space kept */
    set(&j, "empty=", "/");
    set(&j, "q=\"quoted\"", "/");
    CHECK_INT(j.n, 4);
    CHECK_STR(header(&j, "/", buf, sizeof buf),
              "Cookie: token=abc==; spaced=v w; empty=; q=\"quoted\"\r\n");
    /* Not a prefix of the Set-Cookie: only len bytes count. */
    cookie_jar_set(&j, "token=zzzzz", 8, "/", NOW);
    CHECK_STR(header(&j, "/", buf, sizeof buf),
              "Cookie: token=zz; spaced=v w; empty=; q=\"quoted\"\r\n");
    cookie_jar_free(&j);
    CHECK_INT(j.n, 0);
    CHECK(j.head == NULL);
}

int main(void)
{
    check_prog = "cookies";
    RUN(set_replace_delete);
    RUN(expiry);
    RUN(path_matching);
    RUN(default_path);
    RUN(secure_and_attributes);
    RUN(limit_of_fifty);
    RUN(malformed_ignored);
    RUN(values_and_format);
    return check_done();
}

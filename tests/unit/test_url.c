/* test_url: base URL and target checks, percent-encoding, joining, hosts, and
 * RFC 3986 reference resolution (dot segments, schemes, authorities, Locations). */
#include <stdlib.h>

#include "check.h"
#include "util/url.h"

TEST(check_base_good)
{
    static const char *const good[] = {
        "http://127.0.0.1:8082",
        "http://127.0.0.1:8082/",
        "https://example.com",
        "HTTP://EXAMPLE.COM",
        "HtTpS://example.com:443/v1",
        "http://localhost",
        "http://localhost:1",
        "http://localhost:65535",
        "http://[::1]:8080",
        "http://[::1]",
        "http://[2001:db8::7]/api/",
        "http://[::ffff:127.0.0.1]:80",
        "http://user:pw@host:8080",        /* userinfo is accepted, as in Locust */
        "http://user@host",
        "http://my_host.internal:8080/a/b",
        "http://h/The%20path",
        "http://h/caf\xc3\xa9",            /* non-ASCII in the path is encoded later */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = NULL;
        int rc = url_check_base(good[i], &why);
        if (rc != 0)
            printf("#   '%s': %s\n", good[i], why);
        CHECK_INT(rc, 0);
    }
}

TEST(check_base_bad)
{
    static const struct {
        const char *url;
        const char *why;
    } bad[] = {
        { "", "empty" },
        { "127.0.0.1:8082", "http:// or https://" },
        { "localhost", "http:// or https://" },
        { "ftp://example.com", "scheme" },
        { "ws://example.com", "scheme" },
        { "http:/example.com", "http:// or https://" },
        { "http://", "host is missing" },
        { "http:///path", "host is missing" },
        { "http://:8080", "host is missing" },
        { "http://user@", "host is missing" },
        { "http://[]:80", "host is missing" },
        { "http://[::1", "closing ']'" },
        { "http://[::g]", "IPv6" },
        { "http://[::1]x", "after the IPv6" },
        { "http://host:", "port is empty" },
        { "http://host:0", "1 to 65535" },
        { "http://host:65536", "1 to 65535" },
        { "http://host:99999999999999999999", "1 to 65535" },
        { "http://host:80a", "port must be a number" },
        { "http://host:-1", "port must be a number" },
        { "http://ho st", "spaces" },
        { "http://host/a b", "spaces" },
        { "http://host\t", "spaces" },
        { "http://host/\x7f", "control" },
        { "http://ho\x01st", "control" },
        { "http://h\xc3\xa9st", "ASCII" },
        { "http://host,x", "not allowed" },
        { "http://host/?q=1", "query" },
        { "http://host/#frag", "fragment" },
        { "http://host?q", "query" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        int rc = url_check_base(bad[i].url, &why);
        if (rc != -1 || why == NULL || strstr(why, bad[i].why) == NULL)
            printf("#   '%s': rc %d, why '%s', wanted '%s'\n", bad[i].url, rc,
                   why ? why : "(null)", bad[i].why);
        CHECK_INT(rc, -1);
        CHECK(why != NULL && strstr(why, bad[i].why) != NULL);
    }
    CHECK_INT(url_check_base(NULL, NULL), -1);
    CHECK_INT(url_check_base("nope", NULL), -1); /* why may be NULL */
}

TEST(check_target)
{
    static const char *const good[] = {
        "/",
        "/status",
        "/api/title/The godfather/1972",  /* spaces are sent encoded */
        "/search?q=a b&x=1#top",
        "/caf\xc3\xa9",
        "/a%20b",
        "http://other:9000/x?y=1",        /* absolute URLs may carry a query */
        "https://example.com",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *why = NULL;
        int rc = url_check_target(good[i], &why);
        if (rc != 0)
            printf("#   '%s': %s\n", good[i], why);
        CHECK_INT(rc, 0);
    }
    static const struct {
        const char *target;
        const char *why;
    } bad[] = {
        { "", "empty" },
        { "status", "starting with '/'" },
        { "api/x", "starting with '/'" },
        { "ftp://host/x", "scheme" },
        { "/a\tb", "control" },
        { "/a\x1b[31m", "control" },
        { "/a\x7f", "control" },
        { "http://", "host is missing" },
        { "http://h/a b", "spaces" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *why = NULL;
        int rc = url_check_target(bad[i].target, &why);
        if (rc != -1 || why == NULL || strstr(why, bad[i].why) == NULL)
            printf("#   '%s': rc %d, why '%s'\n", bad[i].target, rc, why ? why : "(null)");
        CHECK_INT(rc, -1);
        CHECK(why != NULL && strstr(why, bad[i].why) != NULL);
    }
    CHECK_INT(url_check_target(NULL, NULL), -1);
}

TEST(is_absolute)
{
    CHECK(url_is_absolute("http://h"));
    CHECK(url_is_absolute("https://h/x"));
    CHECK(url_is_absolute("HTTPS://h/x"));
    CHECK(!url_is_absolute("/http://h"));
    CHECK(!url_is_absolute("ftp://h"));
    CHECK(!url_is_absolute("http:/h"));
    CHECK(!url_is_absolute(""));
    CHECK(!url_is_absolute(NULL));
}

TEST(encode_path)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "", "" },
        { "/status", "/status" },
        { "/api/title/The godfather/1972", "/api/title/The%20godfather/1972" },
        { "/a%20b", "/a%20b" },                 /* existing escapes are kept */
        { "/a%2fb", "/a%2fb" },                 /* ... in their own case */
        { "/100%", "/100%25" },                 /* '%' without two hex digits */
        { "/100%2", "/100%252" },
        { "/%zz", "/%25zz" },
        { "/\"<>\\^`{|}", "/%22%3C%3E%5C%5E%60%7B%7C%7D" },
        { "/\t\x01\x7f", "/%09%01%7F" },
        { "/caf\xc3\xa9", "/caf%C3%A9" },       /* upper-case hex */
        { "/\xff", "/%FF" },
        /* reserved characters are kept as written */
        { "/a?b=c&d=e#f", "/a?b=c&d=e#f" },
        { "/[x]@!$&'()*+,;=:~-._", "/[x]@!$&'()*+,;=:~-._" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = url_encode_path(cases[i].in);
        CHECK_STR(got, cases[i].out);
        free(got);
    }
    char *null = url_encode_path(NULL);
    CHECK_STR(null, "");
    free(null);
}

TEST(resolve)
{
    static const struct {
        const char *base, *target, *out;
    } cases[] = {
        { "http://127.0.0.1:8082", "/status", "http://127.0.0.1:8082/status" },
        { "http://127.0.0.1:8082/", "/status", "http://127.0.0.1:8082/status" },
        { "http://h:1/v1", "/status", "http://h:1/v1/status" },
        { "http://h:1/v1/", "/status", "http://h:1/v1/status" },
        { "http://h//", "/x", "http://h//x" },            /* only one '/' is dropped */
        { "http://h", "/", "http://h/" },
        { "http://h/", "/", "http://h/" },
        { "http://127.0.0.1:8082", "/api/title/The godfather/1972",
          "http://127.0.0.1:8082/api/title/The%20godfather/1972" },
        { "http://h", "/q?a=1 2", "http://h/q?a=1%202" },
        { "http://h/base", "http://other:9/x y", "http://other:9/x%20y" }, /* absolute wins */
        { "http://h", "HTTPS://other/", "HTTPS://other/" },
        { "http://h/caf\xc3\xa9", "/x", "http://h/caf%C3%A9/x" },
        { "http://[::1]:80", "/x", "http://[::1]:80/x" },
        { "http://h", "x", "http://h/x" },                /* not a checked target, still joined */
        { "http://h/", "x", "http://h/x" },
        { "http://h", "", "http://h" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = url_resolve(cases[i].base, cases[i].target);
        CHECK_STR(got, cases[i].out);
        free(got);
    }
}

TEST(host)
{
    static const struct {
        const char *url, *host;
    } cases[] = {
        { "http://127.0.0.1:8082", "127.0.0.1" },
        { "http://localhost", "localhost" },
        { "http://LocalHost:80/x", "localhost" },
        { "http://[::1]:8080/", "::1" },
        { "http://[::1]", "::1" },
        { "https://user:pw@example.com:443/a", "example.com" },
        { "http://a@b@host/x", "host" },
        { "http://host?x", "host" },
        { "http://host#x", "host" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64] = "unset";
        CHECK_INT(url_host(cases[i].url, buf, sizeof buf), 0);
        CHECK_STR(buf, cases[i].host);
    }
    char buf[64];
    CHECK_INT(url_host("no scheme", buf, sizeof buf), -1);
    CHECK_INT(url_host("http://", buf, sizeof buf), -1);
    CHECK_INT(url_host("http://:80", buf, sizeof buf), -1);
    CHECK_INT(url_host("http://[::1", buf, sizeof buf), -1);
    CHECK_INT(url_host("http://[]", buf, sizeof buf), -1);
    CHECK_INT(url_host(NULL, buf, sizeof buf), -1);
    char small[5];
    CHECK_INT(url_host("http://localhost", small, sizeof small), -1); /* does not fit */
    CHECK_INT(url_host("http://host", small, sizeof small), 0);       /* "host" + NUL fits */
    CHECK_STR(small, "host");
}

TEST(remove_dot_segments)
{
    static const char *const cases[][2] = {
        {"/a/b/c/./../../g", "/a/g"},          /* RFC 3986 5.2.4's example */
        {"/mid/content=5/../6", "/mid/6"},
        {"/a/./b", "/a/b"},
        {"/a/b/.", "/a/b/"},
        {"/a/b/..", "/a/"},
        {"/..", "/"},
        {"/../../x", "/x"},
        {"/", "/"},
        {"/a/../b?x=/../y", "/b?x=/../y"},     /* the query is left alone */
        {"/a/.b/..c", "/a/.b/..c"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = url_remove_dot_segments(cases[i][0]);
        CHECK_STR(got, cases[i][1]);
        free(got);
    }
}

TEST(has_scheme)
{
    CHECK(url_has_scheme("http://x", 8));
    CHECK(url_has_scheme("HTTPS://x", 9));
    CHECK(url_has_scheme("a+b-c.d:rest", 12));
    CHECK(url_has_scheme("mailto:x", 8));
    CHECK(!url_has_scheme("/path:x", 7));
    CHECK(!url_has_scheme("1http://x", 9));
    CHECK(!url_has_scheme("rel/a:b", 7));
    CHECK(!url_has_scheme("http", 4));          /* no ':' */
    CHECK(!url_has_scheme("http://x", 4));      /* only n bytes count */
    CHECK(!url_has_scheme("", 0));
}

TEST(authorities)
{
    const char *h;
    size_t hl;
    unsigned port;
    CHECK(url_split_authority("127.0.0.1:8082", 14, &h, &hl, &port));
    CHECK_INT(hl, 9);
    CHECK_INT(port, 8082);
    CHECK(url_split_authority("Example.com", 11, &h, &hl, &port));
    CHECK_INT(port, 80);
    CHECK(url_split_authority("[::1]:8080", 10, &h, &hl, &port));
    CHECK_INT(hl, 3);
    CHECK(strncmp(h, "::1", 3) == 0);
    CHECK_INT(port, 8080);
    CHECK(!url_split_authority("user@host", 9, &h, &hl, &port));
    CHECK(!url_split_authority("host:", 5, &h, &hl, &port));
    CHECK(!url_split_authority("host:0", 6, &h, &hl, &port));
    CHECK(!url_split_authority("host:65536", 10, &h, &hl, &port));
    CHECK(!url_split_authority(":80", 3, &h, &hl, &port));
    CHECK(!url_split_authority("[::1", 4, &h, &hl, &port));
    CHECK(!url_split_authority("", 0, &h, &hl, &port));

    CHECK(url_same_authority("LOCALHOST:80", 12, "localhost", 9));
    CHECK(url_same_authority("127.0.0.1:8082", 14, "127.0.0.1:8082", 14));
    CHECK(!url_same_authority("127.0.0.1:8083", 14, "127.0.0.1:8082", 14));
    CHECK(!url_same_authority("example.com", 11, "example.org", 11));
}

TEST(resolve_reference)
{
    static const struct {
        const char *cur, *ref, *want;   /* want NULL: another origin */
    } cases[] = {
        {"/a/b?q=1", "/x/y", "/x/y"},
        {"/a/b?q=1", "c", "/a/c"},
        {"/a/b", "../c/./d", "/c/d"},
        {"/a/b", "?z=2", "/a/b?z=2"},
        {"/a/b?q=1", "", "/a/b?q=1"},
        {"/a/b", "//127.0.0.1:8082/abs", "/abs"},
        {"/a/b", "http://127.0.0.1:8082", "/"},
        {"/a/b", "HTTP://127.0.0.1:8082?y=2", "/?y=2"},
        {"/a/b", "/with space/\xc3\xa9", "/with%20space/%C3%A9"},
        {"/a/b", "http://example.com/elsewhere", NULL},
        {"/a/b", "https://127.0.0.1:8082/", NULL},
        {"/a/b", "//127.0.0.1:9/x", NULL},
        {"/a/b", "mailto:x@y", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = url_resolve_reference("http://127.0.0.1:8082", cases[i].cur, cases[i].ref, strlen(cases[i].ref));
        if (cases[i].want == NULL) {
            if (got)
                printf("#   \"%s\" resolved to \"%s\"\n", cases[i].ref, got);
            CHECK(got == NULL);
        } else {
            CHECK_STR(got ? got : "(null)", cases[i].want);
        }
        free(got);
    }
    /* Only the n bytes given: a fragment or trailing blanks are the caller's. */
    char *got = url_resolve_reference("http://127.0.0.1:8082", "/a", "/x#frag", 2);
    CHECK_STR(got, "/x");
    free(got);
}

/* An https origin: its default port is 443, and only https:// Locations
 * stay on it. */
TEST(resolve_reference_https)
{
    char *got = url_resolve_reference("https://example.com", "/a", "https://EXAMPLE.com:443/b", 25);
    CHECK_STR(got ? got : "(null)", "/b");
    free(got);
    got = url_resolve_reference("https://example.com", "/a", "//example.com/c", 15);
    CHECK_STR(got ? got : "(null)", "/c");
    free(got);
    CHECK(url_resolve_reference("https://example.com", "/a", "http://example.com/b", 20) == NULL);
    CHECK(url_resolve_reference("https://example.com", "/a", "https://example.com:80/b", 24) == NULL);
    CHECK(url_same_authority_in("h", 1, "h:443", 5, 443));
    CHECK(!url_same_authority_in("h", 1, "h:443", 5, 80));
    CHECK(url_default_port("HTTPS://h") == 443 && url_default_port("http://h") == 80);
}

int main(void)
{
    check_prog = "test_url";
    RUN(check_base_good);
    RUN(resolve_reference_https);
    RUN(check_base_bad);
    RUN(check_target);
    RUN(is_absolute);
    RUN(encode_path);
    RUN(resolve);
    RUN(host);
    RUN(remove_dot_segments);
    RUN(has_scheme);
    RUN(authorities);
    RUN(resolve_reference);
    return check_done();
}

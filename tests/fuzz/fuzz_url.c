/* fuzz_url: the URL checks and encoders of include/util/url.h.
 *
 * The whole input is one URL or target; split at its first newline it is
 * also a base URL and a task target for url_resolve. Promises checked:
 *   - url_check_base / url_check_target: a failure says why; a base URL that
 *     passes has a host url_host can read (lower case, no ':' outside [v6]);
 *     a target that passes is an absolute http(s) URL or a path without
 *     control bytes;
 *   - url_encode_path: nothing that may not go on a request line comes out,
 *     every '%' starts a %XX escape, and where the input had no '%' the
 *     output percent-decodes to exactly the input;
 *   - url_resolve: an absolute target is url_encode_path(target); otherwise
 *     the result starts with the encoded base and is as safe to send. */
#include <stdbool.h>

#include "fuzz.h"
#include "util/url.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* What url.h says never leaves url_encode_path unencoded. */
static void check_encoded(const char *out)
{
    for (const char *p = out; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        FUZZ_CHECK(c > 0x20 && c < 0x7f);
        FUZZ_CHECK(strchr("\"<>\\^`{|}", c) == NULL);
        if (c == '%')
            FUZZ_CHECK(hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0);
    }
}

static void check_encode_path(const char *s)
{
    size_t len = strlen(s);
    char *out = url_encode_path(s);
    size_t out_len = strlen(out);
    FUZZ_CHECK(out_len <= 3 * len);
    check_encoded(out);
    if (strchr(s, '%') == NULL) {
        /* Decodes back to the input, byte for byte. */
        size_t i = 0, o = 0;
        while (out[o] != '\0') {
            int c;
            if (out[o] == '%') {
                c = hex_value(out[o + 1]) * 16 + hex_value(out[o + 2]);
                o += 3;
            } else {
                c = (unsigned char)out[o++];
            }
            FUZZ_CHECK(i < len && (unsigned char)s[i] == c);
            i++;
        }
        FUZZ_CHECK(i == len);
    } else {
        /* Existing escapes are kept: encoding twice changes nothing. */
        char *again = url_encode_path(out);
        FUZZ_CHECK(strcmp(again, out) == 0);
        free(again);
    }
    free(out);
}

static void check_base(const char *s)
{
    const char *why = NULL;
    int rc = url_check_base(s, &why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK(url_check_base(s, NULL) == rc);
    if (rc != 0) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        return;
    }
    FUZZ_CHECK(url_is_absolute(s));
    for (const char *p = s; *p != '\0'; p++)
        FUZZ_CHECK((unsigned char)*p > 0x20 && (unsigned char)*p != 0x7f);
    /* A base URL that passes names a host. */
    size_t cap = strlen(s) + 1;
    char *host = malloc(cap);
    FUZZ_CHECK(host != NULL);
    FUZZ_CHECK(url_host(s, host, cap) == 0);
    FUZZ_CHECK(host[0] != '\0');
    bool v6 = strchr(host, ':') != NULL;
    for (const char *p = host; *p != '\0'; p++) {
        FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
        FUZZ_CHECK(*p != '/' && *p != '@' && *p != '[' && *p != ']');
    }
    if (v6)
        FUZZ_CHECK(strstr(s, "[") != NULL);
    free(host);
}

static void check_target(const char *s)
{
    const char *why = NULL;
    int rc = url_check_target(s, &why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
        return;
    }
    if (url_is_absolute(s)) {
        FUZZ_CHECK(url_check_base(s, NULL) == 0 || strpbrk(s, "?#") != NULL);
    } else {
        FUZZ_CHECK(s[0] == '/');
        for (const char *p = s; *p != '\0'; p++)
            FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
    }
}

static void check_resolve(const char *base, const char *target)
{
    char *out = url_resolve(base, target);
    check_encoded(out);
    if (url_is_absolute(target) || base == NULL) {
        char *direct = url_encode_path(target);
        FUZZ_CHECK(strcmp(out, direct) == 0);
        free(direct);
    } else {
        /* The base as written (less a slash the target brings) comes first. */
        size_t bl = strlen(base);
        if (bl > 0 && base[bl - 1] == '/' && target[0] == '/')
            bl--;
        char *b = strndup(base, bl);
        FUZZ_CHECK(b != NULL);
        char *eb = url_encode_path(b);
        FUZZ_CHECK(strncmp(out, eb, strlen(eb)) == 0);
        free(eb);
        free(b);
    }
    free(out);
}

static void check_host_buffers(const char *s)
{
    /* url_host must respect any buffer size, down to one byte. */
    for (size_t len = 1; len <= 8; len++) {
        char *buf = malloc(len);
        FUZZ_CHECK(buf != NULL);
        if (url_host(s, buf, len) == 0)
            FUZZ_CHECK(memchr(buf, '\0', len) != NULL);
        free(buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    check_base(s);
    check_target(s);
    check_encode_path(s);
    check_host_buffers(s);

    char *nl = strchr(s, '\n');
    if (nl != NULL) {
        *nl = '\0';
        check_resolve(s, nl + 1);
        check_base(nl + 1);
    } else {
        check_resolve(NULL, s);
        check_resolve("http://127.0.0.1:8082/v1", s);
    }
    free(s);
    return 0;
}

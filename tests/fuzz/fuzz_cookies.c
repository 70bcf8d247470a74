/* fuzz_cookies: the native client's cookie jar (include/http/cookies.h), which
 * stores whatever a server sends in Set-Cookie.
 *
 * The bytes are a script, one line per step:
 *   "> PATH"   a request to PATH: its Cookie header is checked, and the
 *              following Set-Cookie lines answer it;
 *   "+ N"      the clock moves N seconds on;
 *   any other  a Set-Cookie value, applied for the current path.
 * Promises checked after every step (and at each request and at the end
 * for every buffer size): the jar holds at most COOKIES_MAX cookies;
 * cookie_jar_header never writes past the buffer it is given (heap buffers
 * of exact sizes, so ASan sees one byte too many), returns 0 or a whole
 * "Cookie: ...\r\n" line without CR, LF or NUL inside (no header injection
 * from a server's cookie), never more than cookie_jar_header_max, and gives
 * the same bytes into any buffer large enough for them. */
#include <stdbool.h>
#include <time.h>

#include "http/cookies.h"
#include "fuzz.h"

#define START ((time_t)1700000000) /* 2023-11-14 */

static size_t header_into(const cookie_jar_t *j, const char *path, time_t now, size_t len,
                          char *copy, size_t copy_len)
{
    /* malloc(0) gives a pointer ASan lets nobody write through. */
    char *buf = malloc(len);
    FUZZ_CHECK(buf != NULL);
    size_t n = cookie_jar_header(j, path, now, buf, len);
    FUZZ_CHECK(n <= len);
    if (n > 0) {
        FUZZ_CHECK(n >= 8 + 2 && memcmp(buf, "Cookie: ", 8) == 0);
        FUZZ_CHECK(buf[n - 2] == '\r' && buf[n - 1] == '\n');
        for (size_t i = 0; i + 2 < n; i++)
            FUZZ_CHECK(buf[i] != '\r' && buf[i] != '\n' && buf[i] != '\0');
        if (copy != NULL && n <= copy_len)
            memcpy(copy, buf, n);
    }
    free(buf);
    return n;
}

/* After each step: the bound, and the header into a buffer of the promised
 * size. */
static void check_step(const cookie_jar_t *j, const char *path, time_t now)
{
    FUZZ_CHECK(j->n <= COOKIES_MAX);
    FUZZ_CHECK((j->n == 0) == (j->head == NULL));
    size_t max = cookie_jar_header_max(j);
    header_into(j, path, now, max, NULL, 0);
}

/* At a request, and at the end: every buffer size, all or nothing. */
static void check_jar(const cookie_jar_t *j, const char *path, time_t now)
{
    FUZZ_CHECK(j->n <= COOKIES_MAX);
    FUZZ_CHECK((j->n == 0) == (j->head == NULL));
    size_t max = cookie_jar_header_max(j);
    FUZZ_CHECK((max == 0) == (j->n == 0));
    char *full = malloc(max);
    FUZZ_CHECK(full != NULL);
    size_t n = header_into(j, path, now, max, full, max);
    FUZZ_CHECK(n <= max);
    /* Smaller buffers: all or nothing, and the same bytes when it fits. */
    size_t sizes[] = {0, 1, 8, 10, n ? n - 1 : 0, n, n + 1};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t len = sizes[k];
        char *copy = malloc(len);
        FUZZ_CHECK(copy != NULL);
        size_t got = header_into(j, path, now, len, copy, len);
        FUZZ_CHECK(got == 0 || got == n);
        if (got > 0)
            FUZZ_CHECK(memcmp(copy, full, n) == 0);
        if (n > 0 && len >= n)
            FUZZ_CHECK(got == n);
        free(copy);
    }
    free(full);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cookie_jar_t jar;
    cookie_jar_init(&jar);
    char *path = strdup("/");
    FUZZ_CHECK(path != NULL);
    time_t now = START;

    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        size_t n = end - start;
        /* Each value in its own exact-size allocation, not NUL-terminated:
         * cookie_jar_set takes a length. */
        char *line = malloc(n ? n : 1);
        FUZZ_CHECK(line != NULL);
        if (n > 0)
            memcpy(line, data + start, n);

        if (n >= 2 && line[0] == '>' && line[1] == ' ') {
            free(path);
            path = fuzz_cstr((const uint8_t *)line + 2, n - 2);
            check_jar(&jar, path, now);
        } else if (n >= 2 && line[0] == '+' && line[1] == ' ') {
            char *num = fuzz_cstr((const uint8_t *)line + 2, n - 2);
            now += (time_t)(strtoul(num, NULL, 10) % (100ULL * 365 * 86400));
            free(num);
            check_step(&jar, path, now);
        } else {
            cookie_jar_set(&jar, line, n, path, now);
            check_step(&jar, path, now);
        }
        free(line);
        start = end + 1;
    }
    check_jar(&jar, path, now);
    check_jar(&jar, "/", now);
    check_jar(&jar, NULL, now);
    cookie_jar_free(&jar);
    FUZZ_CHECK(jar.n == 0 && jar.head == NULL);
    free(path);
    return 0;
}

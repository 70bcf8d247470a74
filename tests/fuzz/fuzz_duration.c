/* fuzz_duration: duration_parse and duration_format (include/util/duration.h).
 *
 * The bytes are a duration as a person would type it ("1h30m", "0.5").
 * Promises checked: a failure always says why; a success is at most 365 days,
 * and duration_format of it reads back to the same microseconds. The first 8
 * bytes are also taken as a raw microsecond count and formatted into buffers
 * of every small size, which must stay NUL-terminated and in bounds. */
#include <stdbool.h>

#include "util/duration.h"
#include "fuzz.h"

#define YEAR_US (365ULL * 24 * 3600 * 1000000)

static void format_into_small_buffers(uint64_t us)
{
    /* Exact-size heap buffers: ASan reports a write one byte past any of them. */
    for (size_t len = 1; len <= 24; len++) {
        char *buf = malloc(len);
        FUZZ_CHECK(buf != NULL);
        FUZZ_CHECK(duration_format(us, buf, len) == buf);
        FUZZ_CHECK(memchr(buf, '\0', len) != NULL);
        free(buf);
    }
}

static void check_round_trip(uint64_t us)
{
    char text[64];
    duration_format(us, text, sizeof text);
    uint64_t back = UINT64_MAX;
    const char *why = NULL;
    int rc = duration_parse(text, &back, &why);
    if (rc != 0 || back != us)
        fprintf(stderr, "duration_format(%llu) = \"%s\" reads back as %llu (%s)\n",
                (unsigned long long)us, text, (unsigned long long)back, why ? why : "ok");
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(back == us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    uint64_t us = 0;
    const char *why = NULL;
    if (duration_parse(s, &us, &why) == 0) {
        FUZZ_CHECK(us <= YEAR_US);
        check_round_trip(us);
    } else {
        FUZZ_CHECK(why != NULL && why[0] != '\0');
    }
    /* NULL for why must be accepted too. */
    (void)duration_parse(s, &us, NULL);
    free(s);

    if (size >= 8) {
        uint64_t raw;
        memcpy(&raw, data, sizeof raw);
        format_into_small_buffers(raw);
        if (raw <= YEAR_US)
            check_round_trip(raw);
    }
    return 0;
}

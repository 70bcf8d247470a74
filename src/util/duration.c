/* duration: see include/util/duration.h.
 *
 * Durations are parsed by hand rather than with strtod: strtod accepts "nan",
 * "inf", hex floats, exponents and leading spaces, none of which belong in a
 * hopperfile, and its rounding would make "0.1s" come out as 99999 us. Here the
 * integer part and up to nine fraction digits are kept as integers, so every
 * value a person can write is exact to the microsecond. */
#include "util/duration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define US_PER_MS 1000ULL
#define US_PER_S  1000000ULL
#define US_PER_M  (60ULL * US_PER_S)
#define US_PER_H  (60ULL * US_PER_M)

/* Anything longer than a year is a typo ("30000m" for "30m"?), and the cap
 * keeps every sum below far from uint64 overflow. */
#define DURATION_MAX_US (365ULL * 24ULL * US_PER_H)

/* Fraction digits kept: nine is exact for every unit down to us (1e9 * 3.6e9
 * still fits in 64 bits); further digits are checked but cannot matter. */
#define FRACTION_DIGITS 9

typedef struct {
    const char *name;
    uint64_t us;
} duration_unit_t;

/* Longest names first, so "ms" is not read as "m" followed by junk. */
static const duration_unit_t duration_units[] = {
    { "us", 1ULL },
    { "ms", US_PER_MS },
    { "h", US_PER_H },
    { "m", US_PER_M },
    { "s", US_PER_S },
};

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* The unit at s, or NULL; *name_len gets its length. */
static const duration_unit_t *unit_at(const char *s, size_t *name_len)
{
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++) {
        size_t n = strlen(duration_units[i].name);
        if (strncmp(s, duration_units[i].name, n) == 0) {
            *name_len = n;
            return &duration_units[i];
        }
    }
    return NULL;
}

static int fail(const char **why, const char *reason)
{
    if (why != NULL)
        *why = reason;
    return -1;
}

int duration_parse(const char *s, uint64_t *out_us, const char **why)
{
    if (s == NULL || *s == '\0')
        return fail(why, "empty duration");
    if (*s == '-')
        return fail(why, "a duration cannot be negative");

    uint64_t total = 0;
    uint64_t last_unit = UINT64_MAX; /* units must shrink from part to part */
    const char *p = s;

    while (*p != '\0') {
        if (!is_digit(*p) && p == s)
            return fail(why, "expected a number such as 5s, 250ms or 1h30m");
        if (!is_digit(*p)) /* "5sec", "5s ": text after a unit */
            return fail(why, "unknown unit (use us, ms, s, m or h)");

        /* Integer part. Anything above the cap in microseconds is above the
         * cap in every unit, so stopping there also rules out overflow. */
        uint64_t whole = 0;
        while (is_digit(*p)) {
            whole = whole * 10 + (uint64_t)(*p - '0');
            if (whole > DURATION_MAX_US)
                return fail(why, "longer than 365 days");
            p++;
        }

        uint64_t frac = 0, frac_scale = 1;
        bool has_fraction = false;
        if (*p == '.') {
            p++;
            if (!is_digit(*p))
                return fail(why, "expected digits after the decimal point");
            has_fraction = true;
            for (int kept = 0; is_digit(*p); p++, kept++) {
                if (kept < FRACTION_DIGITS) {
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    frac_scale *= 10;
                }
            }
        }

        uint64_t unit_us;
        if (*p == '\0' && last_unit == UINT64_MAX) {
            unit_us = US_PER_S; /* a bare number is seconds */
        } else if (*p == '\0') {
            return fail(why, "missing unit after the last number (1m30s, not 1m30)");
        } else {
            size_t name_len = 0;
            const duration_unit_t *unit = unit_at(p, &name_len);
            if (unit == NULL)
                return fail(why, "unknown unit (use us, ms, s, m or h)");
            if (unit->us == last_unit)
                return fail(why, "a unit is repeated");
            if (unit->us > last_unit)
                return fail(why, "units must go from larger to smaller (1h30m, not 30m1h)");
            unit_us = unit->us;
            last_unit = unit->us;
            p += name_len;
        }

        /* whole <= cap and unit <= 1h: whole * unit <= 3.2e13 * 3.6e9 would
         * overflow, so compare by division first. */
        if (whole > DURATION_MAX_US / unit_us)
            return fail(why, "longer than 365 days");
        uint64_t part = whole * unit_us;
        if (has_fraction)
            part += (frac * unit_us + frac_scale / 2) / frac_scale;
        if (part > DURATION_MAX_US || total > DURATION_MAX_US - part)
            return fail(why, "longer than 365 days");
        total += part;
    }

    *out_us = total;
    return 0;
}

/* "1.5", "2.25", "7": seconds (or any unit) with the fraction's trailing
 * zeros dropped. frac_digits is how many digits the fraction has. */
static int format_fixed(char *buf, size_t len, uint64_t whole, uint64_t frac,
                        int frac_digits, const char *unit)
{
    if (frac == 0)
        return snprintf(buf, len, "%llu%s", (unsigned long long)whole, unit);
    while (frac % 10 == 0) {
        frac /= 10;
        frac_digits--;
    }
    return snprintf(buf, len, "%llu.%0*llu%s", (unsigned long long)whole,
                    frac_digits, (unsigned long long)frac, unit);
}

const char *duration_format(uint64_t us, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return buf;
    if (us == 0) {
        snprintf(buf, len, "0s");
        return buf;
    }
    if (us < US_PER_MS) {
        snprintf(buf, len, "%lluus", (unsigned long long)us);
        return buf;
    }
    if (us < US_PER_S) {
        format_fixed(buf, len, us / US_PER_MS, us % US_PER_MS, 3, "ms");
        return buf;
    }

    /* Hours and minutes as whole units, then seconds with their fraction;
     * zero parts are left out ("1h5s"), which duration_parse reads back. */
    size_t used = 0;
    uint64_t hours = us / US_PER_H, minutes = us % US_PER_H / US_PER_M;
    uint64_t rest = us % US_PER_M;
    if (hours > 0) {
        int n = snprintf(buf, len, "%lluh", (unsigned long long)hours);
        used = n < 0 ? len : (size_t)n;
    }
    if (minutes > 0 && used < len) {
        int n = snprintf(buf + used, len - used, "%llum", (unsigned long long)minutes);
        used += n < 0 ? len : (size_t)n;
    }
    if (rest > 0 && used < len)
        format_fixed(buf + used, len - used, rest / US_PER_S, rest % US_PER_S, 6, "s");
    return buf;
}

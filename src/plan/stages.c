/* stages: see include/plan/stages.h.
 *
 * Numbers are checked character by character before strtod sees them, as in
 * the hopperfile: strtod would take "nan", "inf", "1e3", "0x10" and a
 * leading sign, none of which a person means in a load shape. */
#include "plan/stages.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hopper.h"
#include "util/duration.h"
#include "util/text.h"
#include "util/xalloc.h"

/* duration.h's cap for one duration, kept for the whole list too: the run
 * time is their sum. */
#define STAGES_MAX_TOTAL_US (365ULL * 24 * 3600 * 1000000)

/* Text of the list shown in a message: at most this many bytes. */
#define CLIP_BYTES 40
#define CLIP_SIZE  (CLIP_BYTES + 4)

/* A rate below one arrival a year is a typo, and its gap would not fit the
 * engine's microsecond clock. */
#define MIN_RATE (1.0 / (365.0 * 24 * 3600))

typedef struct {
    const char *name;   /* after the '/' */
    double seconds;     /* the unit's length */
} rate_unit_t;

static const rate_unit_t rate_units[] = { { "s", 1.0 }, { "m", 60.0 }, { "h", 3600.0 } };

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* [s, s + n) without blanks at either end: *start and the new length. */
static size_t trim_n(const char **s, size_t n)
{
    while (n > 0 && is_blank(**s)) {
        (*s)++;
        n--;
    }
    while (n > 0 && is_blank((*s)[n - 1]))
        n--;
    return n;
}

/* Copies at most CLIP_BYTES of [s, s + n) for a message: control bytes
 * become '?', a longer text ends in "..." and a UTF-8 sequence is never cut.
 * The text may come from argv, where anything goes. */
static const char *clip(char buf[CLIP_SIZE], const char *s, size_t n)
{
    size_t k = n;
    if (k > CLIP_BYTES) {
        k = CLIP_BYTES;
        while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
    }
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (k < n) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
    return buf;
}


typedef enum { NUM_OK, NUM_GARBAGE, NUM_NEGATIVE } num_status_t;

/* A plain decimal ("10", "0.5") in [s, s + n); *whole tells whether it had
 * no fraction. */
static num_status_t parse_decimal_n(const char *s, size_t n, double *out, bool *whole)
{
    if (n > 0 && s[0] == '-') {
        double ignored;
        bool w;
        return parse_decimal_n(s + 1, n - 1, &ignored, &w) == NUM_OK ? NUM_NEGATIVE : NUM_GARBAGE;
    }
    size_t i = 0;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == 0)
        return NUM_GARBAGE;
    *whole = true;
    if (i < n && s[i] == '.') {
        size_t f = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == f)
            return NUM_GARBAGE;
        *whole = false;
    }
    if (i != n)
        return NUM_GARBAGE;
    /* Digits only, so strtod reads exactly them; a copy bounds it to n. */
    char buf[64];
    if (n >= sizeof buf) {
        *out = INFINITY; /* far above every limit: refused as too large */
        return NUM_OK;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    return NUM_OK;
}

/* The rate unit named by [s, s + n), or NULL. */
static const rate_unit_t *rate_unit(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof rate_units / sizeof rate_units[0]; i++)
        if (n == strlen(rate_units[i].name) && memcmp(s, rate_units[i].name, n) == 0)
            return &rate_units[i];
    return NULL;
}

/* One quantity of a stage ("100", "500/s", "30/m") in [s, s + n), trimmed.
 * A rate is converted to per second and *unit_out set to its unit; users
 * leave it NULL. implied: the unit of a bare number (the "0" of "0-500/s");
 * rate_only: a bare number without one is refused (arrival-rate). On error
 * writes the reason (without the stage) into why. */
static int parse_quantity(const char *s, size_t n, bool rate_only, const rate_unit_t *implied,
                          double *out, const rate_unit_t **unit_out, char *why, size_t whylen)
{
    char q[CLIP_SIZE], q2[CLIP_SIZE];
    n = trim_n(&s, n);
    if (n == 0)
        return text_fail(why, whylen, "a target is missing");
    const char *slash = memchr(s, '/', n);
    const char *num = s;
    size_t num_n = trim_n(&num, slash != NULL ? (size_t)(slash - s) : n);
    double v = 0;
    bool whole = true;
    num_status_t st = parse_decimal_n(num, num_n, &v, &whole);
    if (st == NUM_NEGATIVE)
        return text_fail(why, whylen, "'%s': a target cannot be negative", clip(q, s, n));
    if (st == NUM_GARBAGE && rate_only)
        return text_fail(why, whylen, "'%s' is not a rate (such as 200/s, 30/m or 0.5/h)",
                    clip(q, s, n));
    if (st == NUM_GARBAGE)
        return text_fail(why, whylen, "'%s' is not a number of users or a rate (such as 100, "
                    "0-100, 100/s or 0-100/s)", clip(q, s, n));

    const rate_unit_t *unit = implied;
    if (slash != NULL) {
        const char *u = slash + 1;
        unit = rate_unit(u, trim_n(&u, (size_t)(s + n - u)));
        if (unit == NULL)
            return text_fail(why, whylen, "'%s': unknown rate unit (use /s, /m or /h)", clip(q, s, n));
    }
    if (unit == NULL && rate_only)
        return text_fail(why, whylen, "'%s': a rate needs a unit: %s/s, %s/m or %s/h", clip(q, s, n),
                    clip(q2, num, num_n), q2, q2);
    if (unit == NULL) {
        if (!whole)
            return text_fail(why, whylen, "'%s': a number of users is whole (a rate needs a unit: "
                        "%s/s)", clip(q, s, n), clip(q2, num, num_n));
        if (v > HOPPER_MAX_USERS)
            return text_fail(why, whylen, "'%s': too many users (the limit is "
                        HOPPER_STR(HOPPER_MAX_USERS_N) ")", clip(q, s, n));
        *out = v;
        *unit_out = NULL;
        return 0;
    }
    double per_s = v / unit->seconds;
    if (!(per_s <= HOPPER_MAX_ARRIVAL_RATE))
        return text_fail(why, whylen, "'%s': above the limit of " HOPPER_STR(HOPPER_MAX_ARRIVAL_RATE_N)
                    " arrivals per second", clip(q, s, n));
    if (per_s > 0 && per_s < MIN_RATE)
        return text_fail(why, whylen, "'%s': too low (less than one arrival a year)", clip(q, s, n));
    *out = per_s;
    *unit_out = unit;
    return 0;
}

int stages_parse_rate(const char *text, double *per_s, char *err, size_t errlen)
{
    char q[CLIP_SIZE];
    const char *s = text != NULL ? text : "";
    size_t n = trim_n(&s, strlen(s));
    double v = 0;
    const rate_unit_t *unit = NULL;
    if (n == 0)
        return text_fail(err, errlen, "a rate is missing (such as 200/s)");
    if (parse_quantity(s, n, true, NULL, &v, &unit, err, errlen) != 0)
        return -1;
    if (v <= 0)
        return text_fail(err, errlen, "'%s': the rate must be greater than 0", clip(q, s, n));
    *per_s = v;
    return 0;
}

/* One stage, [s, s + n), the idx-th (1-based), after prev_to. */
static int parse_stage(const char *s, size_t n, size_t idx, double prev_to, plan_stage_t *st,
                       bool *is_rate, char *err, size_t errlen)
{
    char q[CLIP_SIZE], q2[CLIP_SIZE], why[256];
    const char *item = s;
    size_t item_n = n;
    const char *colon = memchr(s, ':', n);
    if (colon == NULL)
        return text_fail(err, errlen, "stage %zu '%s': expected DURATION:TARGET, such as 5m:100 or "
                    "5m:100/s", idx, clip(q, item, item_n));

    /* The duration. */
    const char *d = s;
    size_t d_n = trim_n(&d, (size_t)(colon - s));
    char dbuf[64];
    const char *dwhy = NULL;
    uint64_t dur = 0;
    if (d_n == 0)
        return text_fail(err, errlen, "stage %zu '%s': the duration is missing", idx,
                    clip(q, item, item_n));
    if (d_n >= sizeof dbuf)
        return text_fail(err, errlen, "stage %zu '%s': '%s' is not a duration", idx,
                    clip(q, item, item_n), clip(q2, d, d_n));
    memcpy(dbuf, d, d_n);
    dbuf[d_n] = '\0';
    if (duration_parse(dbuf, &dur, &dwhy) != 0)
        return text_fail(err, errlen, "stage %zu '%s': '%s': %s", idx, clip(q, item, item_n),
                    clip(q2, d, d_n), dwhy != NULL ? dwhy : "not a duration");
    if (dur == 0)
        return text_fail(err, errlen, "stage %zu '%s': the duration must be greater than 0", idx,
                    clip(q, item, item_n));

    /* The target, or FROM-TO. A '-' at the very start is a sign. */
    const char *v = colon + 1;
    size_t v_n = trim_n(&v, (size_t)(s + n - v));
    if (v_n == 0)
        return text_fail(err, errlen, "stage %zu '%s': the target is missing", idx,
                    clip(q, item, item_n));
    const char *dash = v_n > 1 ? memchr(v + 1, '-', v_n - 1) : NULL;
    double from = prev_to, to = 0;
    const rate_unit_t *from_unit = NULL, *to_unit = NULL;
    if (dash != NULL) {
        /* FROM-TO: a unit written once at the end ("0-500/s") is both
         * ends'; one written only at the start is a mistake. */
        const char *a = v, *b = dash + 1;
        size_t a_n = trim_n(&a, (size_t)(dash - v)), b_n = trim_n(&b, (size_t)(v + v_n - b));
        char why_to[256];
        int rc_to = parse_quantity(b, b_n, false, NULL, &to, &to_unit, why_to, sizeof why_to);
        const rate_unit_t *implied = rc_to == 0 && memchr(a, '/', a_n) == NULL ? to_unit : NULL;
        if (parse_quantity(a, a_n, false, implied, &from, &from_unit, why, sizeof why) != 0)
            return text_fail(err, errlen, "stage %zu '%s': %s", idx, clip(q, item, item_n), why);
        if (rc_to != 0)
            return text_fail(err, errlen, "stage %zu '%s': %s", idx, clip(q, item, item_n), why_to);
        if (from_unit != NULL && to_unit == NULL)
            return text_fail(err, errlen, "stage %zu '%s': the rate '%s' needs a unit (write "
                        "FROM-TO/s, such as 0-500/s)", idx, clip(q, item, item_n),
                        clip(q2, b, b_n));
    } else if (parse_quantity(v, v_n, false, NULL, &to, &to_unit, why, sizeof why) != 0) {
        return text_fail(err, errlen, "stage %zu '%s': %s", idx, clip(q, item, item_n), why);
    }
    *st = (plan_stage_t){ .dur_us = dur, .from = from, .to = to, .from_set = dash != NULL };
    *is_rate = to_unit != NULL;
    return 0;
}

int stages_parse(const char *text, plan_stage_t **out, size_t *n_out, stages_unit_t *unit,
                 char *err, size_t errlen)
{
    char q[CLIP_SIZE];
    const char *s = text != NULL ? text : "";
    size_t len = strlen(s);
    const char *all = s;
    if (trim_n(&all, len) == 0)
        return text_fail(err, errlen, "no stages (write DURATION:TARGET, ..., such as "
                    "30s:100, 5m:100 or 1m:0-500/s, 5m:500/s)");

    plan_stage_t *st = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    bool first_rate = false;
    const char *p = s, *end = s + len;
    while (p <= end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma != NULL ? comma : end;
        const char *item = p;
        size_t item_n = trim_n(&item, (size_t)(stop - p));
        size_t idx = n + 1;
        if (item_n == 0) {
            free(st);
            return text_fail(err, errlen, "stage %zu is empty (a comma too many?)", idx);
        }
        if (n == STAGES_MAX) {
            free(st);
            return text_fail(err, errlen, "more than %d stages", STAGES_MAX);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            st = xrealloc(st, cap * sizeof *st);
        }
        bool is_rate = false;
        if (parse_stage(item, item_n, idx, n > 0 ? st[n - 1].to : 0, &st[n], &is_rate, err,
                        errlen) != 0) {
            free(st);
            return -1;
        }
        if (n == 0)
            first_rate = is_rate;
        else if (is_rate != first_rate) {
            free(st);
            return text_fail(err, errlen, "stage %zu '%s' is in %s but stage 1 is in %s: write "
                        "every stage in one unit", idx, clip(q, item, item_n),
                        stages_unit_name(is_rate ? STAGES_RATE : STAGES_USERS),
                        stages_unit_name(first_rate ? STAGES_RATE : STAGES_USERS));
        }
        total += st[n].dur_us; /* each <= a year, at most STAGES_MAX of them: no overflow */
        n++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    if (total > STAGES_MAX_TOTAL_US) {
        free(st);
        return text_fail(err, errlen, "the stages last longer than 365 days");
    }
    *out = xrealloc(st, n * sizeof *st);
    *n_out = n;
    *unit = first_rate ? STAGES_RATE : STAGES_USERS;
    return 0;
}

plan_stage_t *stages_copy(const plan_stage_t *s, size_t n)
{
    if (n == 0)
        return NULL;
    plan_stage_t *c = xmalloc(n * sizeof *c);
    memcpy(c, s, n * sizeof *c);
    return c;
}

uint64_t stages_total_us(const plan_stage_t *s, size_t n)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += s[i].dur_us;
    return total;
}

double stages_peak(const plan_stage_t *s, size_t n)
{
    double peak = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].from > peak)
            peak = s[i].from;
        if (s[i].to > peak)
            peak = s[i].to;
    }
    return peak;
}

double stages_at(const plan_stage_t *s, size_t n, uint64_t t_us, size_t *stage,
                 uint64_t *left_us)
{
    uint64_t start = 0;
    for (size_t i = 0; i < n; i++) {
        if (t_us < start + s[i].dur_us) {
            uint64_t in = t_us - start;
            if (stage != NULL)
                *stage = i;
            if (left_us != NULL)
                *left_us = s[i].dur_us - in;
            return s[i].from + (s[i].to - s[i].from) * ((double)in / (double)s[i].dur_us);
        }
        start += s[i].dur_us;
    }
    if (stage != NULL)
        *stage = n;
    if (left_us != NULL)
        *left_us = 0;
    return n > 0 ? s[n - 1].to : 0;
}

/* ---- the text form ---------------------------------------------------- */

/* v (clamped to [0, 1e15]: no limit comes near) with that many decimals,
 * trailing zeros and a bare point dropped ("500", "0.5"). printf writes the
 * locale's decimal point, which the parser would not read: whatever it
 * wrote between the digits becomes '.'. */
static const char *decimals_text(double v, int decimals, char *buf, size_t len)
{
    char tmp[64], out[64];
    if (!(v >= 0))
        v = 0;                 /* also NaN */
    if (v > 1e15)
        v = 1e15;
    snprintf(tmp, sizeof tmp, "%.*f", decimals < 0 ? 0 : decimals > 24 ? 24 : decimals, v);
    size_t o = 0;
    bool point = false;
    for (const char *p = tmp; *p != '\0' && o + 1 < sizeof out;) {
        if (is_digit(*p)) {
            out[o++] = *p++;
            continue;
        }
        if (!point)
            out[o++] = '.';
        point = true;
        while (*p != '\0' && !is_digit(*p))
            p++;
    }
    while (point && o > 0 && out[o - 1] == '0')
        o--;
    if (o > 0 && out[o - 1] == '.')
        o--;
    out[o] = '\0';
    snprintf(buf, len, "%s", o > 0 ? out : "0");
    return buf;
}

/* The decimals that keep sig significant digits of v (> 0). */
static int decimals_for(double v, int sig)
{
    return v > 0 ? sig - 1 - (int)floor(log10(v)) : 0;
}

/* Whether v, written in the given form, takes at most 3 decimals: exactly
 * (to within a rounding of its double), or once cut to 3 significant digits. */
static bool fits_3_decimals(double v, stages_form_t form)
{
    if (!(v > 0))
        return true;
    if (form == STAGES_SHORT) {
        char t[64];
        decimals_text(v, decimals_for(v, 3), t, sizeof t);
        const char *point = strchr(t, '.');
        return point == NULL || strlen(point + 1) <= 3;
    }
    /* In thousandths, whole to within the few ulps that the parser's
     * division and this multiplication may have lost. */
    double x = v * 1000;
    return fabs(x - nearbyint(x)) <= fmax(1e-6, 16 * DBL_EPSILON * x);
}

/* The unit that writes all n rates (per second) best: the first of /s, /m,
 * /h in which each takes at most 3 decimals exactly; else (a rate no one
 * typed: mid-ramp, 1/7) the first in which each cut to 3 significant
 * digits does, so that both forms of a rate share its unit; else /h. */
static const rate_unit_t *describe_unit(const double *per_s, size_t n)
{
    size_t nu = sizeof rate_units / sizeof rate_units[0];
    for (int pass = 0; pass < 2; pass++) {
        stages_form_t f = pass == 0 ? STAGES_EXACT : STAGES_SHORT;
        for (size_t u = 0; u < nu; u++) {
            bool fits = true;
            for (size_t k = 0; k < n; k++)
                fits = fits && fits_3_decimals(per_s[k] * rate_units[u].seconds, f);
            if (fits)
                return &rate_units[u];
        }
    }
    return &rate_units[nu - 1];
}

/* A rate in a given unit, without the unit. EXACT: 3 decimals when they are
 * enough, else the fewest significant digits that read back (what the
 * parser computes: the number over the unit's length) to the same double. */
static const char *rate_number(double per_s, const rate_unit_t *u, stages_form_t form,
                               char *buf, size_t len)
{
    double v = per_s * u->seconds;
    if (!(v > 0) || !isfinite(v))
        return decimals_text(0, 0, buf, len);
    if (form == STAGES_SHORT) {
        /* 3 digits; more only for a rate so close above the parser's floor
         * that 3 would take it below. */
        for (int sig = 3; sig < 17; sig++) {
            decimals_text(v, decimals_for(v, sig), buf, len);
            if (!(per_s >= MIN_RATE) || strtod(buf, NULL) / u->seconds >= MIN_RATE)
                return buf;
        }
    }
    if (fits_3_decimals(v, STAGES_EXACT))
        return decimals_text(v, 3, buf, len);
    char t[64];
    for (int sig = 1; sig <= 17; sig++) {
        decimals_text(v, decimals_for(v, sig), t, sizeof t);
        double back = strtod(t, NULL) / u->seconds;
        if (back == per_s)
            break;
    }
    snprintf(buf, len, "%s", t);
    return buf;
}

const char *stages_rate_describe(double per_s, stages_form_t form, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return buf;
    char num[64];
    const rate_unit_t *u = describe_unit(&per_s, 1);
    snprintf(buf, len, "%s/%s", rate_number(per_s, u, form, num, sizeof num), u->name);
    return buf;
}

const char *stages_value_describe(double v, stages_unit_t unit, stages_form_t form, char *buf,
                                  size_t len)
{
    if (unit == STAGES_RATE)
        return stages_rate_describe(v, form, buf, len);
    if (buf != NULL && len > 0)
        decimals_text(v, 0, buf, len);
    return buf;
}

const char *stages_stage_describe(uint64_t dur_us, double from, bool from_set, double to,
                                  stages_unit_t unit, stages_context_t ctx, char *buf,
                                  size_t len)
{
    if (buf == NULL || len == 0)
        return buf;
    char d[32], a[64], b[64];
    duration_format(dur_us, d, sizeof d);
    bool show_from = from_set || (ctx == STAGES_ALONE && from != to);
    const char *suffix = "";
    if (unit == STAGES_RATE) {
        /* One unit for both ends: "0-500/s" reads as one rate range. */
        double ends[2] = { to, from };
        const rate_unit_t *u = describe_unit(ends, show_from ? 2 : 1);
        rate_number(from, u, STAGES_EXACT, a, sizeof a);
        rate_number(to, u, STAGES_EXACT, b, sizeof b);
        suffix = u->name;
    } else {
        decimals_text(from, 0, a, sizeof a);
        decimals_text(to, 0, b, sizeof b);
    }
    if (show_from)
        snprintf(buf, len, "%s:%s-%s%s%s", d, a, b, *suffix ? "/" : "", suffix);
    else
        snprintf(buf, len, "%s:%s%s%s", d, b, *suffix ? "/" : "", suffix);
    return buf;
}

const char *stages_describe(const plan_stage_t *s, size_t n, stages_unit_t unit, char *buf,
                            size_t len)
{
    if (buf == NULL || len == 0)
        return buf;
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n && used < len; i++) {
        char one[192];
        stages_stage_describe(s[i].dur_us, s[i].from, s[i].from_set, s[i].to, unit,
                              STAGES_IN_LIST, one, sizeof one);
        int k = snprintf(buf + used, len - used, "%s%s", i ? STAGES_SEPARATOR : "", one);
        used += k < 0 ? len : (size_t)k;
    }
    return buf;
}

const char *stages_unit_name(stages_unit_t unit)
{
    return unit == STAGES_RATE ? "arrivals per second" : "users";
}

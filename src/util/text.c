/* text: see include/util/text.h. */
#include "util/text.h"

#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* ---- UTF-8 ------------------------------------------------------------------ */

static bool continuation(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

size_t text_utf8_len(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0)
        return 0;
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    /* The second byte's range is narrower after some lead bytes: that is
     * what refuses overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4). */
    unsigned char lo = 0x80, hi = 0xbf;
    size_t len;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (!continuation(p[i]))
            return 0;
    return len;
}

bool text_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t l = text_utf8_len(s + i, n - i);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

bool text_is_control(const char *s, size_t seq_len)
{
    const unsigned char *p = (const unsigned char *)s;
    if (seq_len == 1)
        return p[0] < 0x20 || p[0] == 0x7f;
    return seq_len == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

char *text_sanitize(const char *src, char *dst, size_t len)
{
    if (len == 0)
        return dst;
    size_t j = 0, left = strlen(src);
    const char *p = src;
    while (left && j + 1 < len) {
        size_t n = text_utf8_len(p, left);
        if (n == 0 || text_is_control(p, n)) {
            dst[j++] = '?';
            p++;
            left--;
            continue;
        }
        if (j + n >= len)
            break;
        memcpy(dst + j, p, n);
        j += n;
        p += n;
        left -= n;
    }
    dst[j] = '\0';
    return dst;
}

/* ---- columns -------------------------------------------------------------- */

int text_columns(const char *s)
{
    int c = 0;
    for (; *s; s++)
        c += !continuation((unsigned char)*s);
    return c;
}

const char *text_fit_middle_with(const char *s, int w, const char *ellipsis, char *buf, size_t len)
{
    int cols = text_columns(s);
    if (cols <= w || w < 1) {
        snprintf(buf, len, "%s", s);
        if (w < 1 && len)
            buf[0] = '\0';
        return buf;
    }
    /* Keep the head and the tail, which is where paths differ; whole
     * characters only, so the result is still UTF-8. */
    int room = w - text_columns(ellipsis);
    if (room < 0)
        room = 0;
    int head = room / 2, tail = room - head;
    size_t j = 0;
    const char *p = s;
    for (int c = 0; *p; p++) {
        bool starts = !continuation((unsigned char)*p);
        if (starts && c == head)
            break;
        c += starts;
        if (j + 1 < len)
            buf[j++] = *p;
    }
    const char *q = s + strlen(s);
    for (int c = 0; q > s && c < tail;) {
        q--;
        if (!continuation((unsigned char)*q))
            c++;
    }
    snprintf(buf + j, len - j, "%s%s", ellipsis, q);
    return buf;
}

const char *text_fit_middle(const char *s, int w, bool utf8, char *buf, size_t len)
{
    return text_fit_middle_with(s, w, utf8 ? "\xe2\x80\xa6" : "~", buf, len);
}

/* ---- clocks --------------------------------------------------------------- */

static const char *clock_of(uint64_t ms, bool always_hours, char *buf, size_t len)
{
    unsigned long long s = ms / 1000;
    if (always_hours || s >= 3600)
        snprintf(buf, len, always_hours ? "%02llu:%02llu:%02llu" : "%llu:%02llu:%02llu", s / 3600,
                 s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%02llu:%02llu", s / 60, s % 60);
    return buf;
}

const char *text_clock(uint64_t ms, char *buf, size_t len)
{
    return clock_of(ms, false, buf, len);
}

const char *text_clock_hms(uint64_t ms, char *buf, size_t len)
{
    return clock_of(ms, true, buf, len);
}

const char *text_utc(double unix_s, const char *fmt, char *buf, size_t len)
{
    struct tm tm;
    time_t t = (time_t)unix_s;
    if (!(unix_s > 0) || gmtime_r(&t, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
        snprintf(buf, len, "-");
    return buf;
}

const char *text_utc_ms(double unix_s, char *buf, size_t len)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((unix_s - (double)t) * 1000));
    return buf;
}

/* ---- numbers -------------------------------------------------------------- */

const char *text_count(uint64_t n, char *buf, size_t len)
{
    if (n < 1000)
        snprintf(buf, len, "%llu", (unsigned long long)n);
    else if (n < 9950)
        snprintf(buf, len, "%.1fk", (double)n / 1e3);
    else if (n < 999500)
        snprintf(buf, len, "%.0fk", (double)n / 1e3);
    else if (n < 9995000)
        snprintf(buf, len, "%.2fM", (double)n / 1e6);
    else if (n < 99950000)
        snprintf(buf, len, "%.1fM", (double)n / 1e6);
    else if (n < 999500000)
        snprintf(buf, len, "%.0fM", (double)n / 1e6);
    else
        snprintf(buf, len, "%.2fG", (double)n / 1e9);
    return buf;
}

const char *text_rate(double r, char *buf, size_t len)
{
    if (r < 0)
        r = 0;
    if (r < 99.95)
        snprintf(buf, len, "%.1f", r);
    else if (r < 999.5)
        snprintf(buf, len, "%.0f", r);
    else
        text_count((uint64_t)(r + 0.5), buf, len);
    return buf;
}

const char *text_time_us(uint64_t us, bool utf8, char *buf, size_t len)
{
    double v = (double)us;
    if (us < 1000)
        snprintf(buf, len, "%llu%s", (unsigned long long)us, utf8 ? "\xc2\xb5s" : "us");
    else if (v < 9950)
        snprintf(buf, len, "%.1fms", v / 1e3);
    else if (v < 999500)
        snprintf(buf, len, "%.0fms", v / 1e3);
    else if (v < 9995000)
        snprintf(buf, len, "%.2fs", v / 1e6);
    else if (v < 99950000)
        snprintf(buf, len, "%.1fs", v / 1e6);
    else
        snprintf(buf, len, "%.0fs", v / 1e6);
    return buf;
}

const char *text_ms(uint64_t us, char *buf, size_t len)
{
    double ms = (double)us / 1000.0;
    /* Thresholds on the rounded value, so 999.6 us reads 1.0, not 1.00. */
    if (ms < 0.995)
        snprintf(buf, len, "%.2f", ms);
    else if (ms < 9.95)
        snprintf(buf, len, "%.1f", ms);
    else
        snprintf(buf, len, "%.0f", ms);
    return buf;
}

double text_step_125(double x, int dir)
{
    /* Walk the series from far below, so any x (even off-series) lands on the
     * next series value in the chosen direction. */
    static const double m[] = {1, 2, 5};
    double prev = 0;
    for (int e = -3; e <= 7; e++) {
        for (int i = 0; i < 3; i++) {
            double v = m[i] * pow(10, e);
            v = round(v * 1000) / 1000;
            if (dir > 0 && v > x * (1 + 1e-9))
                return v;
            if (dir < 0 && v >= x * (1 - 1e-9))
                return prev > 0 ? prev : v;
            prev = v;
        }
    }
    return x;
}

static char text_lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* Optimal string alignment distance (Levenshtein plus adjacent swaps),
 * without case; words longer than 32 bytes are never close. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
    enum { MAXW = 32 };
    size_t lb = strlen(b);
    if (la > MAXW || lb > MAXW)
        return SIZE_MAX;
    size_t d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (text_lower(a[i - 1]) == text_lower(b[j - 1]) ? 0 : 1);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && text_lower(a[i - 1]) == text_lower(b[j - 2]) &&
                text_lower(a[i - 2]) == text_lower(b[j - 1]) && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *text_closest(const char *w, size_t wlen, const char *const *words, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(w, wlen, words[i]);
        if (dist < best_d) {
            best_d = dist;
            best = words[i];
        }
    }
    return best;
}

int text_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

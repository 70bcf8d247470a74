/* fmt: see include/util/fmt.h. */
#include "util/fmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *fmt_count(uint64_t n, char *buf, size_t len)
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

const char *fmt_rate(double r, char *buf, size_t len)
{
    if (r < 0)
        r = 0;
    if (r < 99.95)
        snprintf(buf, len, "%.1f", r);
    else if (r < 999.5)
        snprintf(buf, len, "%.0f", r);
    else
        fmt_count((uint64_t)(r + 0.5), buf, len);
    return buf;
}

const char *fmt_time_us(uint64_t us, bool utf8, char *buf, size_t len)
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

const char *fmt_clock(uint64_t ms, char *buf, size_t len)
{
    uint64_t s = ms / 1000;
    if (s >= 3600)
        snprintf(buf, len, "%llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
    else
        snprintf(buf, len, "%02llu:%02llu", (unsigned long long)(s / 60), (unsigned long long)(s % 60));
    return buf;
}

double fmt_step_125(double x, int dir)
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

int fmt_columns(const char *s)
{
    int c = 0;
    for (; *s; s++)
        c += ((unsigned char)*s & 0xc0) != 0x80;
    return c;
}

const char *fmt_fit_middle(const char *s, int w, bool utf8, char *buf, size_t len)
{
    int cols = fmt_columns(s);
    if (cols <= w || w < 1) {
        snprintf(buf, len, "%s", s);
        if (w < 1 && len)
            buf[0] = '\0';
        return buf;
    }
    const char *ell = utf8 ? "\xe2\x80\xa6" : "~";
    int head = (w - 1) / 2, tail = w - 1 - head;
    size_t j = 0;
    const char *p = s;
    for (int c = 0; *p; p++) {
        bool starts = ((unsigned char)*p & 0xc0) != 0x80;
        if (starts && c == head)
            break;
        c += starts;
        if (j + 1 < len)
            buf[j++] = *p;
    }
    const char *q = s + strlen(s);
    for (int c = 0; q > s && c < tail;) {
        q--;
        if (((unsigned char)*q & 0xc0) != 0x80)
            c++;
    }
    snprintf(buf + j, len - j, "%s%s", ell, q);
    return buf;
}

/* spark: see include/view/spark.h. */
#include "view/spark.h"

#include <math.h>

static const char *const utf8_glyphs[SPARK_UTF8_LEVELS] = {
    " ", "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
    "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
static const char *const ascii_glyphs[SPARK_ASCII_LEVELS] = {
    " ", ".", ":", "-", "=", "+", "*", "#", "%", "@"};

int spark_level(double v, double max, int n)
{
    if (!(v > 0) || !(max > 0) || n < 2)
        return 0;
    if (v >= max)
        return n - 1;
    int l = 1 + (int)floor(v / max * (n - 1));
    return l > n - 1 ? n - 1 : l;
}

const char *spark_glyph(int level, bool utf8)
{
    int n = utf8 ? SPARK_UTF8_LEVELS : SPARK_ASCII_LEVELS;
    if (level < 0)
        level = 0;
    if (level >= n)
        level = n - 1;
    return utf8 ? utf8_glyphs[level] : ascii_glyphs[level];
}

double spark_window_max(const double *values, size_t n, size_t w)
{
    double m = 0;
    for (size_t i = n > w ? n - w : 0; i < n; i++)
        if (values[i] > m)
            m = values[i];
    return m;
}

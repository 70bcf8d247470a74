/* spark: sparklines, the one-line charts of the dashboard.
 *
 * A value becomes a level from 0 (nothing: a blank) to n-1 (the window's
 * maximum); any value above zero gets at least level 1, so a trickle of
 * traffic is never drawn as silence. Glyphs: Unicode blocks when the terminal
 * is UTF-8, an ASCII ramp otherwise (or with --ascii). */
#ifndef HOPPER_SPARK_H
#define HOPPER_SPARK_H

#include <stdbool.h>
#include <stddef.h>

#define SPARK_UTF8_LEVELS 9     /* blank and ▁▂▃▄▅▆▇█ */
#define SPARK_ASCII_LEVELS 10   /* " .:-=+*#%@" */

/* The level of v on a scale whose top is max, with n levels. */
int spark_level(double v, double max, int n);

/* The glyph (a NUL-terminated UTF-8 or ASCII string) of a level. */
const char *spark_glyph(int level, bool utf8);

/* The largest of the last w of n values (0 when none). */
double spark_window_max(const double *values, size_t n, size_t w);

#endif

/* fmt: numbers that fit a narrow table cell, with units.
 *
 * The dashboard's columns are a few characters wide, so every number is
 * written in at most 6 characters: counts as 999, 1.2k, 12.3k, 123k, 1.23M;
 * times as 850µs, 1.2ms, 12ms, 123ms, 1.23s, 12.3s, 123s; rates like counts
 * but with one decimal below 100 (12.5). µs is written "us" when the
 * terminal is not UTF-8. */
#ifndef HOPPER_FMT_H
#define HOPPER_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

const char *fmt_count(uint64_t n, char *buf, size_t len);
const char *fmt_rate(double r, char *buf, size_t len);
const char *fmt_time_us(uint64_t us, bool utf8, char *buf, size_t len);
/* Elapsed time as 1:02:03 or 02:03. */
const char *fmt_clock(uint64_t ms, char *buf, size_t len);

/* The next and previous value in the 1-2-5 series (…, 0.5, 1, 2, 5, 10, 20,
 * 50, …) from x, for stepping the spawn rate. */
double fmt_step_125(double x, int dir);

/* Display columns of a UTF-8 string (continuation bytes are not columns). */
int fmt_columns(const char *s);

/* s shortened in the middle to at most w columns ("/api/ti…1972"), into buf. */
const char *fmt_fit_middle(const char *s, int w, bool utf8, char *buf, size_t len);

#endif

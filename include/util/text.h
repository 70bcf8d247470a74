/* text: how hopper turns data into text a person reads, in one place.
 *
 * Every view and report takes its rules from here, so the console, the
 * dashboard, the checks and the reports cannot drift apart:
 *
 * - UTF-8: what counts as well-formed (strict: no overlong forms, no
 *   surrogates, nothing above U+10FFFF), for the hopperfile parser, the HTML
 *   escaper and the sanitiser alike.
 * - Sanitising: text from outside (a server's error message) is made safe to
 *   print once, where it enters (stats records errors through text_sanitize);
 *   escaping for a format (HTML, JSON, CSV) is a different job and stays with
 *   each writer.
 * - Clocks: elapsed time as 02:03 / 1:02:03 or 00:02:03, wall-clock time in UTC.
 * - Numbers for narrow cells (the dashboard: at most 6 characters) and for
 *   the tables (milliseconds: two decimals below 1 ms, one below 10 ms, whole
 *   numbers above; Locust truncates to whole ms, so a fast service reads 0).
 *
 * Every function writes into the caller's buffer (len bytes, NUL included)
 * and returns it; nothing here allocates. */
#ifndef HOPPER_TEXT_H
#define HOPPER_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 ------------------------------------------------------------------ */

/* The length (1-4) of the well-formed UTF-8 sequence at s, which has n bytes
 * left, or 0 if it is not one (a stray continuation byte, an overlong form, a
 * surrogate, a code point above U+10FFFF, a sequence cut short). Any ASCII
 * byte, control or not, is a sequence of 1. */
size_t text_utf8_len(const char *s, size_t n);

/* Whether the n bytes at s are well-formed UTF-8 throughout. */
bool text_utf8_valid(const char *s, size_t n);

/* Whether the well-formed sequence at s (of seq_len bytes, as text_utf8_len
 * found it) is a control character a terminal would obey: C0, DEL or C1
 * (U+0080-U+009F, 0x9b being an escape of its own). */
bool text_is_control(const char *s, size_t seq_len);

/* Copies src into dst, replacing each control character and each byte that
 * is not UTF-8 with '?', so that a hostile server cannot move the cursor or
 * retitle the terminal. Stops early rather than split a character. */
char *text_sanitize(const char *src, char *dst, size_t len);

/* ---- columns -------------------------------------------------------------- */

/* Display columns of a UTF-8 string (continuation bytes are not columns). */
int text_columns(const char *s);

/* s shortened in the middle to at most w columns ("/api/ti…1972"), into buf;
 * the ellipsis is "…" on a UTF-8 terminal, "~" otherwise. */
const char *text_fit_middle(const char *s, int w, bool utf8, char *buf, size_t len);

/* The same with an ellipsis of one's own ("..." in the console's tables). */
const char *text_fit_middle_with(const char *s, int w, const char *ellipsis, char *buf, size_t len);

/* ---- clocks --------------------------------------------------------------- */

/* Elapsed time as 02:03, or 1:02:03 past an hour (dashboard, HTML charts). */
const char *text_clock(uint64_t ms, char *buf, size_t len);

/* Elapsed time as 00:02:03, hours always shown (the console's status line). */
const char *text_clock_hms(uint64_t ms, char *buf, size_t len);

/* A wall-clock time in UTC with strftime's format (whose numeric fields do
 * not depend on the locale); "-" when unix_s is not a time. */
const char *text_utc(double unix_s, const char *fmt, char *buf, size_t len);

/* A wall-clock time in UTC to the millisecond: 2024-05-01T12:00:00.123Z. */
const char *text_utc_ms(double unix_s, char *buf, size_t len);

/* ---- numbers -------------------------------------------------------------- */

/* Narrow cells, at most 6 characters: counts as 999, 1.2k, 12.3k, 123k,
 * 1.23M; rates like counts but with one decimal below 100 (12.5); times as
 * 850µs, 1.2ms, 12ms, 123ms, 1.23s, 12.3s, 123s (µs is "us" when the
 * terminal is not UTF-8). */
const char *text_count(uint64_t n, char *buf, size_t len);
const char *text_rate(double r, char *buf, size_t len);
const char *text_time_us(uint64_t us, bool utf8, char *buf, size_t len);

/* A time in microseconds as milliseconds for the tables: 0.43, 3.5, 123. */
const char *text_ms(uint64_t us, char *buf, size_t len);

/* The next and previous value in the 1-2-5 series (…, 0.5, 1, 2, 5, 10, 20,
 * 50, …) from x, for stepping the spawn rate. */
double text_step_125(double x, int dir);

/* "Did you mean": the word of words (n of them) within two edits of the
 * wlen bytes at w (letters compared without case), the closest first, or
 * NULL. For short words: keys, built-ins, filters, names. */
/* A message for the caller (printf's format into err, when err is not
 * NULL) and -1: `return text_fail(err, errlen, "...", ...);`. */
__attribute__((format(printf, 3, 4)))
int text_fail(char *err, size_t errlen, const char *fmt, ...);

const char *text_closest(const char *w, size_t wlen, const char *const *words, size_t n);

#endif

/* duration: "1h30m", "250ms", "5s", "5" (seconds), "0.5" into microseconds.
 *
 * Units: ms, s, m, h; several can follow each other in decreasing order of
 * size ("1h30m", "1m30s", "2s500ms"). A bare number is seconds and may have a
 * fraction ("0.5", "7.25"); a number with a unit may too ("1.5s"). Negative
 * values, empty strings, unknown units, repeated units and overflow are errors. */
#ifndef HOPPER_DURATION_H
#define HOPPER_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* 0 and *out_us set on success; -1 on error, with a short reason in *why (a
 * static string) when why is not NULL. */
int duration_parse(const char *s, uint64_t *out_us, const char **why);

/* Writes a duration the way a person reads it ("1h30m", "5s", "250ms",
 * "1.5s") into buf; returns buf. */
const char *duration_format(uint64_t us, char *buf, size_t len);

#endif

/* hopperfile: the plain-text test plan format (documented in hopperfile(5), man/hopperfile.5).
 *
 *   # comment
 *   host       = http://127.0.0.1:8082
 *   users      = 1000
 *   spawn-rate = 10          (hatch-rate is accepted too)
 *   run-time   = 30m
 *   wait       = between 5s 9s | constant S | pacing S | throughput R
 *   timeout    = 60s
 *   header     = Name: value (repeatable)
 *
 *   [task NAME]
 *   weight, request = METHOD PATH-OR-URL, header, body | body-file, name,
 *   expect-status, expect-body, timeout
 *
 * Errors are reported as "FILE:LINE: what is wrong" and nothing is half-filled. */
#ifndef HOPPER_HOPPERFILE_H
#define HOPPER_HOPPERFILE_H

#include <stddef.h>

#include "plan/plan.h"

/* Parses text (len bytes; NUL bytes are an error) as a hopperfile named path.
 * body-file names are read relative to the folder of path. On success returns 0
 * and fills *plan (which the caller plan_free()s). On error returns -1, leaves
 * *plan as plan_init() left it, and writes "PATH:LINE: message" into err. */
int hopperfile_parse(const char *path, const char *text, size_t len,
                     plan_t *plan, char *err, size_t errlen);

/* Reads the file at path and parses it; an unreadable file is an error
 * "PATH: cannot read: strerror". */
int hopperfile_load(const char *path, plan_t *plan, char *err, size_t errlen);

#endif

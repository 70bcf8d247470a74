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
 *   model      = closed | open
 *   arrival-rate = 200/s          (open; also /m, /h)
 *   stages     = 30s:100, 5m:100, 30s:0  (closed: users)
 *              | 1m:0-500/s, 5m:500/s    (open: arrivals per second)
 *   max-users  = N                (open: the pool's bound)
 *   arrivals   = even | poisson   (open)
 *
 *   var        = NAME VALUE (repeatable)
 *
 *   [data NAME]      file = F.csv, order = sequential|random|shuffle|unique,
 *                    per = user|iteration
 *   [on-start]       steps run once per user before its first task
 *   [task NAME]      weight, then steps
 *   [on-stop]        steps run when the user stops
 *
 *   a step: request = METHOD PATH-OR-URL, then header, body | body-file, name,
 *   expect-status, expect-body, expect-json, expect-header, extract, think,
 *   on-fail, timeout (templates {{...}} in the target, header values, bodies)
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

/* The same with the command line's --var NAME=VALUE (which win over the
 * plan's var lines; templates are resolved against them as the file is read). */
int hopperfile_parse_with(const char *path, const char *text, size_t len, const plan_var_t *vars,
                          size_t n_vars, plan_t *plan, char *err, size_t errlen);
int hopperfile_load_with(const char *path, const plan_var_t *vars, size_t n_vars, plan_t *plan,
                         char *err, size_t errlen);

#endif

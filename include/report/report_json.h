/* report_json: one JSON document at the end of the run (--json FILE).
 *
 * Written with jansson, so every string is escaped by a library that gets it
 * right. The schema is documented in hopper(1) under JSON REPORT; its
 * "version" field (REPORT_JSON_VERSION) changes whenever a field changes
 * meaning or goes away (adding fields does not change it). */
#ifndef HOPPER_REPORT_JSON_H
#define HOPPER_REPORT_JSON_H

#include <stdio.h>

#include "report/report.h"

#define REPORT_JSON_VERSION 1

/* Writes the document and a newline to f. 0, or -1 on a write error. */
int report_json_write(FILE *f, const snap_t *s, const report_meta_t *m, int exit_status);

#endif

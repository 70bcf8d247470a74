/* faillog: one JSON line per failed request (--log-failures FILE), the
 * tutorial's on_failure hook built in.
 *
 *   {"time": "...Z", "method": "GET", "name": "/status", "url": "http://...",
 *    "status": 503, "error": "HTTP 503", "request_headers": ["Host: ...", ...],
 *    "response_body": "first 512 bytes"}
 *
 * The values of Authorization, Cookie, Set-Cookie and Proxy-Authorization
 * headers, and a password in the URL, are written as [redacted] unless
 * secrets is set (--log-secrets). */
#ifndef HOPPER_FAILLOG_H
#define HOPPER_FAILLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot/failure.h"

typedef struct {
    FILE *f;
    bool secrets;
    uint64_t lines;
    bool write_failed;
} faillog_t;

int faillog_open(faillog_t *l, const char *path, bool secrets, char *err, size_t errlen);

/* Appends one line (an failure_cb). */
void faillog_write(const failure_t *f, void *arg);

/* Returns 0, or -1 if any write failed. */
int faillog_close(faillog_t *l);

/* Whether a header's value is a secret (case-insensitive name). */
bool faillog_is_secret(const char *name, size_t len);

#endif

/* failure: one failed request, as the engine hands it to the failure log.
 *
 * Beside the snapshot because it is the same kind of contract: the engine
 * side fills it, the report side (report/faillog.c, --log-failures) reads
 * it, and neither includes the other. Unlike a snapshot it is a stream, one
 * record per failed request, passed to a callback; its pointers are valid
 * only during the call. */
#ifndef HOPPER_FAILURE_H
#define HOPPER_FAILURE_H

#include <stddef.h>

#define FAILURE_CAPTURE_BODY 512    /* bytes of a failed response kept for the log */

typedef struct {
    double time_unix;
    const char *method;
    const char *name;
    const char *url;               /* the last URL requested (after redirects) */
    long status;                   /* 0: no response */
    const char *error;
    const char *request_headers;   /* the header block as sent, CRLF lines */
    size_t request_headers_len;
    const char *body;              /* the first FAILURE_CAPTURE_BODY bytes */
    size_t body_len;
} failure_t;

typedef void (*failure_cb)(const failure_t *f, void *arg);

#endif

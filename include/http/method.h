/* method: what HTTP says about a request method, for both clients.
 *
 * Today one rule: which methods may be sent again when a kept-alive
 * connection turns out to be closed (hopper(1), RETRIES). Its own module so
 * that the clients, and the fuzz targets that link only parts of them, share
 * the one list. */
#ifndef HOPPER_METHOD_H
#define HOPPER_METHOD_H

#include <stdbool.h>

/* Whether a request with this method may be retried: RFC 9110 9.2.2's
 * idempotent methods, GET, HEAD, OPTIONS, TRACE, PUT and DELETE (case
 * sensitive, as methods are). Not POST, PATCH, nor any other method. */
bool http_method_idempotent(const char *method);

#endif

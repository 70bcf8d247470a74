/* curl_client: the HTTP client interface (http/client.h) over libcurl.
 *
 * Everything the native client does not do: TLS, HTTP/2, credentials in the
 * URL, tasks and redirects on any origin. Each task owns a pool of easy
 * handles whose options are set once when the handle is made; a request
 * only attaches the user's CURLSH share (its connection cache and cookie
 * jar) and, with --source-addrs, the user's CURLOPT_INTERFACE. The pool
 * grows to the number of users running the task at once, then a request
 * allocates nothing. Made through http_client_new (HTTP_CLIENT_CURL). */
#ifndef HOPPER_CURL_CLIENT_H
#define HOPPER_CURL_CLIENT_H

#include <curl/curl.h>

#include "http/errors.h"

/* The kind of a finished transfer's result, from libcurl's code and the
 * CURLINFO_OS_ERRNO it reported. Pure: exposed for the tests. */
http_error_t curl_client_error(CURLcode rc, long os_errno);

#endif

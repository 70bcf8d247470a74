/* h1: hopper's own HTTP/1.1 keep-alive client, for plain http:// targets.
 *
 * libcurl costs about three times wrk's CPU per request (see bench/README.md):
 * it re-arms its socket watch and timer for every transfer, polls a reused
 * connection twice for liveness, and looks up proxy variables each time. For
 * the common case - plain HTTP/1.1 to one origin - this client does the same
 * job with one write and one read per request on a connection that stays
 * registered with the loop: the request bytes are prepared once per task, the
 * response is parsed with Debian's http-parser, the body is streamed to a
 * callback and never held. libcurl stays for everything else (TLS, HTTP/2,
 * proxies, authentication), and main picks one client per run.
 *
 * Its observable behaviour matches the libcurl client: the same latency
 * definition (request start, including any connect, to the last body byte),
 * the same error kinds (http/errors.h), redirects followed (up to HOPPER_MAX_REDIRECTS, the
 * whole chain timed and counted under the first request; another origin's is
 * not followed), cookies kept per user, responses without a body after
 * HEAD, 1xx, 204 and 304, and the same retry rule (http/method.h): when a
 * reused keep-alive connection turns out to be closed before any byte of the
 * answer, an idempotent request goes again once on a fresh connection and is
 * counted as a retry; any other fails.
 *
 * It is used through http/client.h (HTTP_CLIENT_NATIVE). Its files:
 * h1_origin.c (where to connect, from which addresses), h1_request.c (a
 * task's bytes, built once), h1_conn.c (a connection's state machine),
 * h1_client.c (the client interface); their shared types are private
 * (src/http/h1_internal.h).
 *
 * Cost per request on a kept-alive connection: one write (writev only when
 * cookies are sent), the reads, two uv_hrtime (and a time() when the user
 * holds cookies), one uv_timer_start and one uv_timer_stop; no allocation
 * (redirects and Set-Cookie allocate, they are rare) and no epoll_ctl (the
 * socket stays registered for reading from connect to close). Writes may
 * raise SIGPIPE: the process must ignore it (main does). */
#ifndef HOPPER_H1_H
#define HOPPER_H1_H

#include <stdbool.h>

/* Whether a base URL can use this client (plain http://, no credentials). */
bool h1_usable(const char *base_url);

#endif

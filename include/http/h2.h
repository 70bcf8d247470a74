/* h2: hopper's own HTTP/2 client, on libnghttp2, for --http2.
 *
 * Each user has its own connection and its own nghttp2 session, as a
 * browser does: over https:// the protocol is chosen by ALPN (and a server
 * that picks http/1.1 fails the request with "the server does not speak
 * HTTP/2": --http2 asks for HTTP/2, and a load test must not silently
 * measure another protocol); over http:// it is spoken with prior knowledge
 * (h2c). The engine sends one request of a user at a time, so a user's
 * streams follow each other on its connection (1, 3, 5, ...): one stream in
 * flight per connection, as `h2load -m1` measures.
 *
 * Its observable behaviour is the HTTP/1.1 client's (http/h1.h): the same
 * latency (start, any connect and TLS handshake included, to the last body
 * byte), error kinds, cookies per user, redirects on the same origin (up to
 * HOPPER_MAX_REDIRECTS; 301/302/303 become a GET without body), kept
 * headers, fills and retry rule. What HTTP/2 adds: a RST_STREAM from the
 * server fails the request with its code's name ("HTTP/2 stream reset by
 * the server: INTERNAL_ERROR"), except REFUSED_STREAM, which says the
 * request was not processed: it goes once more, uncounted; a GOAWAY fails
 * the requests it names as processed but unfinished ("... (GOAWAY:
 * PROTOCOL_ERROR)"), while one above its last stream id was never processed
 * and goes again on a new connection, uncounted, as a request that never
 * left. A response whose header block passes H2_MAX_HEADER_LIST bytes, and
 * any frame that breaks the protocol, fail as "malformed response".
 *
 * Cost per request on an open connection: the request's header list copied
 * from the prepared one (pointers only; names and values are not copied by
 * hopper, and nghttp2 copies them once into one allocation for the stream),
 * one write of the HEADERS (and DATA) frames - over TLS one record, one
 * write - the reads, two uv_hrtime, one timer start and stop; nghttp2
 * allocates its stream. The stream and connection windows are 2^30 - 1, as
 * h2load's, so bodies never wait for a WINDOW_UPDATE. The socket stays
 * registered for reading from connect to close. Measured against
 * hopper-target on loopback, 50 users: 0.74 CPU s per 100,000 requests over
 * h2c (h2load -c50 -m1: 0.86), 1.13 over TLS (h2load: 1.42).
 *
 * Memory per idle user: about 16 KB resident over h2c, about 49 KB over TLS
 * (2,000 and 1,000 users). Most of it is the nghttp2 session (25 KB
 * allocated, of which a 16 KB frame buffer that stays mostly untouched)
 * and, over TLS, the SSL object and the session kept for resumption.
 *
 * Files: h2_request.c (a prepared request's header list, built once),
 * h2_conn.c (a connection's life: connect, TLS, the session), h2_client.c
 * (the client interface); their types are in src/http/h2_internal.h. */
#ifndef HOPPER_H2_H
#define HOPPER_H2_H

#include <stdbool.h>

/* Whether a base URL can use this client (http:// or https://, no
 * credentials). */
bool h2_usable(const char *base_url);

#endif

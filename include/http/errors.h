/* errors: how a request ended, the same for every HTTP client.
 *
 * A client reports a kind (and an errno or a detail where the kind needs
 * one); the words users see are made from it in one place, http_error_text,
 * so that the libcurl client and the native one say the same thing for the
 * same event and the engine can count hopper's own shortage of file
 * descriptors or local ports by kind, never by reading a text. */
#ifndef HOPPER_HTTP_ERRORS_H
#define HOPPER_HTTP_ERRORS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    HTTP_OK = 0,                /* a response arrived (any status: the engine judges it) */
    HTTP_E_CONNECT_REFUSED,     /* "connection refused" */
    HTTP_E_CONNECT,             /* "cannot connect: <errno>", or "cannot connect" without one */
    HTTP_E_OUT_OF_FDS,          /* connect found no descriptor (EMFILE, ENFILE): hopper's shortage */
    HTTP_E_OUT_OF_PORTS,        /* connect found no local port (EADDRNOTAVAIL): hopper's shortage */
    HTTP_E_RESOLVE,             /* "cannot resolve host" */
    HTTP_E_TIMEOUT,             /* "timeout after <the request's timeout>" */
    HTTP_E_RESET,               /* "connection reset" */
    HTTP_E_NO_RESPONSE,         /* "connection closed without a response" */
    HTTP_E_MID_BODY,            /* "connection closed mid-body" */
    HTTP_E_CLOSED_SENDING,      /* "connection closed while sending" */
    HTTP_E_SEND,                /* "send error[: <errno>]" */
    HTTP_E_RECV,                /* "receive error[: <errno>]" */
    HTTP_E_MALFORMED,           /* "malformed response" */
    HTTP_E_TLS_UNTRUSTED,       /* "TLS certificate not trusted: <detail> (--insecure skips the
                                 * check)"; detail: tls_verify_reason's text, or NULL */
    HTTP_E_TLS_HANDSHAKE,       /* "TLS handshake failed[: <detail>]" */
    HTTP_E_TLS,                 /* "TLS error[: <detail>]": after the handshake (a bad record,
                                 * a renegotiation refused) */
    HTTP_E_TLS_TRUNCATED,       /* "TLS connection closed without close_notify": a body that
                                 * ends with the connection may have been cut */
    HTTP_E_STREAM_RESET,        /* "HTTP/2 stream reset by the server: <detail>" (the code's name) */
    HTTP_E_GOAWAY,              /* "HTTP/2 connection ended by the server (GOAWAY: <detail>)" */
    HTTP_E_NO_H2,               /* "the server does not speak HTTP/2 (ALPN chose http/1.1)" */
    HTTP_E_TOO_MANY_REDIRECTS,  /* "too many redirects" */
    HTTP_E_CROSS_ORIGIN,        /* a redirect the native client does not follow; detail: the Location */
    HTTP_E_CANNOT_CREATE,       /* "cannot create request" (the client could not make one) */
    HTTP_E_OTHER                /* detail: the library's own text */
} http_error_t;

/* The detail of HTTP_E_TLS_HANDSHAKE when the server closed the connection
 * before the handshake was done (every client says it so). */
#define HTTP_TLS_CLOSED_IN_HANDSHAKE "the server closed the connection during the handshake"

/* One request's outcome, handed to the done callback. Pointers stay valid
 * until the callback returns or the connection sends again. */
typedef struct {
    http_error_t error;
    int sys_errno;              /* positive errno, for the kinds that show one; 0 if none */
    const char *detail;         /* HTTP_E_CROSS_ORIGIN, HTTP_E_OTHER, and the TLS and HTTP/2
                                 * kinds (a static text); else NULL */
    uint64_t timeout_us;        /* the request's timeout, for HTTP_E_TIMEOUT */
    long status;                /* the last response's status, 0 if none */
    uint64_t latency_us;        /* start (any connect included) to the last body byte */
    uint64_t body_bytes;        /* of the final response */
    /* Only when the client was made for a failure log (else NULL / 0): */
    const char *url_origin;     /* NULL, or "http://host:port" that url (a path) follows */
    const char *url;            /* the last URL requested (after redirects) */
    const char *sent;           /* the header block sent, CRLF lines */
    size_t sent_len;
} http_result_t;

/* The text users see for r's kind (NULL for HTTP_OK), in buf or a static
 * string. Byte for byte what both clients have always said. */
const char *http_error_text(const http_result_t *r, char *buf, size_t len);

/* The kind of a failed connect (socket, bind or connect) with this positive
 * errno: refused, out of descriptors, out of ports, or a plain connect error. */
http_error_t http_connect_error(int sys_errno);

#endif

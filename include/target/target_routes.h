/* target_routes: hopper-target's URL routes and its preformatted responses.
 *
 * Every response the server can send is built once at start: status line,
 * headers and body in one buffer, so answering a request is one pointer
 * lookup and one write, with no formatting or allocation. A HEAD answer is the
 * same buffer cut after the headers. Each response exists in three framings
 * (see enum target_framing) because the Connection header depends on the
 * request.
 *
 * Routes (matched on the raw, still percent-encoded path):
 *   /status                   {"status":"OK"}
 *   /api/id/:id               a JSON list of similar movies, about 1 KB
 *   /api/title/:title/:year   the same kind of list
 * The movie lists are a handful of fixed bodies; the path picks one by hash,
 * so different ids get different (but stable) answers. */
#ifndef HOPPER_TARGET_ROUTES_H
#define HOPPER_TARGET_ROUTES_H

#include <stddef.h>

#define TARGET_MOVIE_BODIES 4

enum target_reply {
    TARGET_REPLY_STATUS,
    TARGET_REPLY_MOVIES, /* TARGET_MOVIE_BODIES entries from here */
    TARGET_REPLY_NOT_FOUND = TARGET_REPLY_MOVIES + TARGET_MOVIE_BODIES,
    TARGET_REPLY_NOT_ALLOWED, /* 405, Allow: GET, HEAD */
    TARGET_REPLY_ERROR,       /* 500, for --fail-rate */
    TARGET_REPLY_URI_TOO_LONG,
    TARGET_REPLY_BAD_REQUEST,
    TARGET_REPLY_COUNT
};

/* How the response tells the client about the connection. */
enum target_framing {
    TARGET_FRAMING_KEEP_ALIVE_11, /* HTTP/1.1 keep-alive: no Connection header needed */
    TARGET_FRAMING_KEEP_ALIVE_10, /* HTTP/1.0 client asked for keep-alive */
    TARGET_FRAMING_CLOSE,         /* "Connection: close"; the server closes after it */
    TARGET_FRAMING_COUNT
};

struct target_response {
    char *data;      /* headers then body */
    size_t len;      /* the whole response */
    size_t head_len; /* the headers only: what a HEAD request gets */
};

struct target_routes {
    struct target_response responses[TARGET_REPLY_COUNT][TARGET_FRAMING_COUNT];
    struct target_response continue_100; /* the interim answer to "Expect: 100-continue" */
};

/* Builds every response; aborts on allocation failure. */
void target_routes_init(struct target_routes *r);
void target_routes_free(struct target_routes *r);

/* The reply for a GET or HEAD of path (raw, without the query string):
 * TARGET_REPLY_STATUS, one of the movie replies, or TARGET_REPLY_NOT_FOUND
 * when path is none of the routes. */
enum target_reply target_routes_match(const char *path, size_t len);

static inline const struct target_response *
target_routes_response(const struct target_routes *r, enum target_reply reply, enum target_framing framing)
{
    return &r->responses[reply][framing];
}

#endif

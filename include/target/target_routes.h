/* target_routes: hopper-target's URL routes and its preformatted responses.
 *
 * Every fixed response the server can send is built once at start: status line,
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
 * so different ids get different (but stable) answers.
 *
 * The login flow's routes (target_api answers them, mostly with bodies made
 * per request through target_routes_format; its fixed answers, the errors
 * and the logout, are built here with the others):
 *   POST /login                        GET|HEAD /api/movies?page=N
 *   POST /logout                       GET|HEAD /api/movie/:id
 *   POST /api/movie/:id/rating
 * A route answers 405 to any other method: Allow: GET, HEAD or Allow: POST. */
#ifndef HOPPER_TARGET_ROUTES_H
#define HOPPER_TARGET_ROUTES_H

#include <stddef.h>

#define TARGET_MOVIE_BODIES 4

enum target_reply {
    TARGET_REPLY_STATUS,
    TARGET_REPLY_MOVIES, /* TARGET_MOVIE_BODIES entries from here */
    TARGET_REPLY_NOT_FOUND = TARGET_REPLY_MOVIES + TARGET_MOVIE_BODIES,
    TARGET_REPLY_NOT_ALLOWED, /* 405, Allow: GET, HEAD */
    TARGET_REPLY_ERROR,       /* 500 (or --fail-status), for --fail-rate */
    TARGET_REPLY_URI_TOO_LONG,
    TARGET_REPLY_BAD_REQUEST,
    /* The login flow's fixed answers, which target_api picks. */
    TARGET_REPLY_POST_ONLY,       /* 405, Allow: POST */
    TARGET_REPLY_BAD_LOGIN_BODY,  /* 400 {"error": "malformed login body"} */
    TARGET_REPLY_BAD_CREDENTIALS, /* 401 {"error": "bad credentials"} */
    TARGET_REPLY_NO_TOKEN,        /* 401 {"error": "no valid token"}, WWW-Authenticate: Bearer */
    TARGET_REPLY_LOGGED_OUT,      /* 200 {"ok": true}, and the session cookie cleared */
    TARGET_REPLY_NO_MOVIE,        /* 404 {"error": "no such movie"} */
    TARGET_REPLY_BAD_PAGE,        /* 400 {"error": "bad page"} */
    /* The login flow's routes: no fixed response, target_api answers. */
    TARGET_REPLY_API_LOGIN,
    TARGET_REPLY_API_LOGOUT,
    TARGET_REPLY_API_MOVIE_PAGE,
    TARGET_REPLY_API_MOVIE,
    TARGET_REPLY_API_RATING,
    TARGET_REPLY_COUNT
};
#define TARGET_REPLY_API_FIRST TARGET_REPLY_API_LOGIN

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

/* Makes --fail-rate's answer (TARGET_REPLY_ERROR, 500 by default) this
 * status, 400 to 599 (--fail-status). */
void target_routes_set_fail_status(struct target_routes *r, unsigned status);

/* The route of path (raw, without the query string), whatever the method:
 * TARGET_REPLY_STATUS, one of the movie replies, one of the TARGET_REPLY_API
 * routes, or TARGET_REPLY_NOT_FOUND when path is none of the routes. */
enum target_reply target_routes_match(const char *path, size_t len);

/* The route's reply if it takes this method (an http_parser method number),
 * else TARGET_REPLY_NOT_ALLOWED or TARGET_REPLY_POST_ONLY (405).
 * TARGET_REPLY_NOT_FOUND stays what it is. */
enum target_reply target_routes_check_method(enum target_reply route, unsigned method);

/* Whether target_api makes the answer (a login-flow route). */
static inline int target_routes_is_api(enum target_reply reply)
{
    return reply >= TARGET_REPLY_API_FIRST && reply < TARGET_REPLY_COUNT;
}

/* A response with the headers every answer has (Server, Content-Type:
 * application/json, Content-Length, the framing's Connection), in a buffer
 * of its own: free out->data. status_line is "200 OK"; extra_headers is ""
 * or whole lines, each ending in \r\n. Aborts on allocation failure. */
void target_routes_format(struct target_response *out, const char *status_line, const char *extra_headers,
                          const char *body, size_t body_len, enum target_framing framing);

/* Where the path is in a request target: "/p?q" (origin form),
 * "http://host/p?q" (absolute form) or "*": its offset and length, without
 * the query or fragment. The same for HTTP/1.1's target and HTTP/2's :path. */
void target_routes_split_target(const char *url, size_t len, size_t *off, size_t *path_len);

/* Decodes %XX escapes in place (for counting: routing reads the raw path);
 * returns the new length. Malformed escapes are kept as they are. */
size_t target_routes_decode_path(char *s, size_t len);

static inline const struct target_response *
target_routes_response(const struct target_routes *r, enum target_reply reply, enum target_framing framing)
{
    return &r->responses[reply][framing];
}

#endif

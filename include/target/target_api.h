/* target_api: the answers of hopper-target's login flow, a small API that
 * needs a session the way real ones do, so hopper's scenarios (log in once,
 * carry the token, log out) have something to test against.
 *
 *   POST /login  {"user": "user001", "password": "pass001"}
 *       200 {"token": "<32 hex>", "user": "user001"}
 *           and Set-Cookie: session=<the token>; Path=/; HttpOnly
 *       401 {"error": "bad credentials"}     400 {"error": "malformed login body"}
 *   Protected: the token as "Authorization: Bearer <token>" or as the
 *   session cookie; without a valid one, 401 {"error": "no valid token"}.
 *       GET /api/movies?page=N   200 {"page": N, "items": [10 movies], "total": 1000}
 *       GET /api/movie/:id       200 {"id": ..., "title": ..., "year": ..., ...}
 *       POST /api/movie/:id/rating (any body)   201 {"ok": true, "id": "..."}
 *       POST /logout             200 {"ok": true}; the token is refused from then on
 *
 * The login body must be exactly one JSON object whose members are "user"
 * and "password", each once, in either order, each a string of at most
 * TARGET_API_FIELD_MAX bytes (escapes \" \\ \/ \b \f \n \r \t; no \u, no
 * control bytes), with JSON whitespace between tokens and nothing after the
 * object. Anything else is 400: a purpose-built scan of a demo server, not a
 * JSON parser. Only the first TARGET_API_BODY_MAX bytes of a body are kept;
 * a longer login body is 400.
 *
 * There are 1000 movies, tt0000001 .. tt0001000, ten a page (pages 1 to 100;
 * a page past the last has no items). Titles, years, genres and ratings are
 * made from the number, so the same id always reads the same. An id of any
 * other form is 404 {"error": "no such movie"}, after the token is checked.
 * page must be a whole number from 1 (no page= means 1), else 400.
 *
 * Accounts and tokens are target_auth's. Every answer counts what it did in
 * target_counts' login-flow counters. */
#ifndef HOPPER_TARGET_API_H
#define HOPPER_TARGET_API_H

#include <stdbool.h>
#include <stddef.h>

#include "target/target_auth.h"
#include "target/target_counts.h"
#include "target/target_routes.h"

#define TARGET_API_BODY_MAX 512 /* request body bytes kept for POST /login */
#define TARGET_API_FIELD_MAX 64 /* longest user name or password, decoded */
#define TARGET_API_MOVIES 1000
#define TARGET_API_PAGE_SIZE 10

/* One request on a login-flow route, as the server parsed it. Pointers are
 * into the connection's buffers and need only live through the call. */
struct target_api_request {
    enum target_reply route; /* a TARGET_REPLY_API route, its method already checked */
    enum target_framing framing;
    const char *path; /* raw (still percent-encoded) path, no query */
    size_t path_len;
    const char *query; /* what follows '?', without it; NULL when there is none */
    size_t query_len;
    const char *body; /* the first TARGET_API_BODY_MAX bytes of the body */
    size_t body_len;
    bool body_truncated; /* the body was longer than that */
    const char *token;   /* the Bearer token, else the session cookie; NULL: none */
    size_t token_len;
};

/* A token as a request presented it: up to TARGET_AUTH_TOKEN_LEN bytes
 * kept, len counting on past that so a longer one never passes. */
struct target_api_token {
    bool given;
    unsigned len;
    char text[TARGET_AUTH_TOKEN_LEN];
};

/* An Authorization value: "Bearer TOKEN" (the scheme in any case) sets t;
 * other schemes are not ours and leave it as it was. */
void target_api_read_authorization(struct target_api_token *t, const char *v, size_t len);

/* A Cookie value, "a=1; session=TOKEN; b=2": the first session cookie of
 * the request sets t (so HTTP/2's split cookie headers can each be read). */
void target_api_read_cookie(struct target_api_token *t, const char *v, size_t len);

/* Answers a request: returns either one of routes' fixed responses, or
 * dynamic after filling it with a response of its own (dynamic->data is then
 * the caller's to free; it is left untouched otherwise). Counts in counts. */
const struct target_response *target_api_answer(const struct target_routes *routes, struct target_auth *auth,
                                                struct target_counts *counts,
                                                const struct target_api_request *req,
                                                struct target_response *dynamic);

#endif

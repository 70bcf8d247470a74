/* target_api: see include/target/target_api.h.
 *
 * Bodies are written by hand with snprintf into a fixed buffer: the largest
 * (a page of ten movies) is about 1 KB, far below BODY_BUF, and everything
 * in them is made here (ids, titles, user names) or checked before it gets
 * there, so nothing needs JSON escaping. The response is then framed by
 * target_routes_format into a buffer the server frees once it is written. */
#include "target/target_api.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BODY_BUF 2048

/* ---- the login body ---- */

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* A JSON string starting at *p (its opening quote), decoded into out (at
 * most TARGET_API_FIELD_MAX bytes); *p moves past the closing quote. Only
 * the accepted subset: printable bytes (UTF-8 passes through as it is) and
 * the two-character escapes. */
static bool scan_string(const char **pp, const char *end, char *out, size_t *out_len)
{
    const char *p = *pp;
    size_t n = 0;
    if (p >= end || *p++ != '"')
        return false;
    for (;;) {
        if (p >= end)
            return false;
        unsigned char ch = (unsigned char)*p++;
        if (ch == '"')
            break;
        if (ch < 0x20)
            return false; /* JSON forbids raw control bytes in strings */
        if (ch == '\\') {
            if (p >= end)
                return false;
            switch (*p++) {
            case '"': ch = '"'; break;
            case '\\': ch = '\\'; break;
            case '/': ch = '/'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            default: return false; /* \u and anything else */
            }
        }
        if (n == TARGET_API_FIELD_MAX)
            return false;
        out[n++] = (char)ch;
    }
    *out_len = n;
    *pp = p;
    return true;
}

/* {"user": "...", "password": "..."} in either order, nothing more (the
 * accepted shape is in target_api.h). */
static bool parse_login(const char *body, size_t len, char *user, size_t *user_len, char *password,
                        size_t *password_len)
{
    const char *p = body, *end = body + len;
    bool have_user = false, have_password = false;
    p = skip_space(p, end);
    if (p >= end || *p++ != '{')
        return false;
    for (int member = 0; member < 2; member++) {
        char key[TARGET_API_FIELD_MAX];
        size_t key_len;
        p = skip_space(p, end);
        if (!scan_string(&p, end, key, &key_len))
            return false;
        p = skip_space(p, end);
        if (p >= end || *p++ != ':')
            return false;
        p = skip_space(p, end);
        if (key_len == 4 && memcmp(key, "user", 4) == 0 && !have_user) {
            if (!scan_string(&p, end, user, user_len))
                return false;
            have_user = true;
        } else if (key_len == 8 && memcmp(key, "password", 8) == 0 && !have_password) {
            if (!scan_string(&p, end, password, password_len))
                return false;
            have_password = true;
        } else {
            return false; /* an unknown member, or one given twice */
        }
        p = skip_space(p, end);
        if (p >= end || *p++ != (member == 0 ? ',' : '}'))
            return false;
    }
    return skip_space(p, end) == end;
}

/* ---- the movies ---- */

static const char *const adjectives[20] = {
    "Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight", "Lonely", "Savage", "Quiet",
    "Burning", "Frozen", "Wild", "Secret", "Distant", "Electric", "Forgotten", "Restless", "Hollow", "Final",
};
static const char *const nouns[50] = {
    "Harbor", "Witness", "Empire", "Road", "Garden", "Frontier", "Verdict", "Horizon", "Shadow", "River",
    "Contract", "Station", "Heist", "Mirror", "Season", "Signal", "Kingdom", "Alibi", "Island", "Promise",
    "Orchard", "Engine", "Letter", "Canyon", "Detective", "Symphony", "Border", "Circus", "Avenue", "Hunter",
    "Lighthouse", "Stranger", "Carnival", "Passage", "Summer", "Cartel", "Voyage", "Tenant", "Courtroom",
    "Inheritance", "Ballroom", "Refinery", "Saint", "Outpost", "Gambler", "Chauffeur", "Tide", "Vault",
    "Prairie", "Confession",
};
static const char *const genres[8] = {
    "Crime", "Drama", "Thriller", "Comedy", "Western", "Mystery", "Romance", "Noir",
};

/* Movie n (1 .. TARGET_API_MOVIES) as a JSON object. 337 is prime to 1000,
 * so n -> k is a permutation: every movie gets its own title, and
 * neighbours do not look alike. */
static int movie_json(char *buf, size_t len, unsigned n)
{
    unsigned k = ((n - 1) * 337u) % TARGET_API_MOVIES;
    unsigned year = 1925 + (n * 7919u) % 100;
    unsigned rating = 10 + (n * 40503u) % 90; /* tenths: 1.0 .. 9.9 */
    return snprintf(buf, len,
                    "{\"id\": \"tt%07u\", \"title\": \"The %s %s\", \"year\": %u, \"genre\": \"%s\", "
                    "\"rating\": %u.%u}",
                    n, adjectives[k % 20], nouns[k / 20], year, genres[(n * 5u) % 8], rating / 10,
                    rating % 10);
}

/* The movie number of an id "tt0000001" .. "tt0001000", or 0. */
static unsigned movie_number(const char *id, size_t len)
{
    if (len != 9 || id[0] != 't' || id[1] != 't')
        return 0;
    unsigned n = 0;
    for (size_t i = 2; i < len; i++) {
        if (id[i] < '0' || id[i] > '9')
            return 0;
        n = n * 10 + (unsigned)(id[i] - '0');
    }
    return n >= 1 && n <= TARGET_API_MOVIES ? n : 0;
}

/* The movie number in /api/movie/:id[/rating]. */
static unsigned movie_in_path(const char *path, size_t len)
{
    static const char prefix[] = "/api/movie/";
    size_t plen = sizeof(prefix) - 1;
    if (len <= plen || memcmp(path, prefix, plen) != 0)
        return 0;
    const char *id = path + plen;
    const char *slash = memchr(id, '/', len - plen);
    return movie_number(id, slash != NULL ? (size_t)(slash - id) : len - plen);
}

/* The page in a query string: the first page=N, N a whole number from 1;
 * 1 when there is no page=; 0 when it is there but not such a number. */
static unsigned long page_in_query(const char *q, size_t len)
{
    const char *end = q + len;
    while (q != NULL && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *param_end = amp != NULL ? amp : end;
        if (param_end - q > 5 && memcmp(q, "page=", 5) == 0) {
            const char *d = q + 5;
            if (param_end - d > 9)
                return 0; /* keeps the number far from overflow */
            unsigned long page = 0;
            for (; d < param_end; d++) {
                if (*d < '0' || *d > '9')
                    return 0;
                page = page * 10 + (unsigned long)(*d - '0');
            }
            return page;
        }
        if (param_end - q == 5 && memcmp(q, "page=", 5) == 0)
            return 0; /* "page=" with nothing */
        q = amp != NULL ? amp + 1 : NULL;
    }
    return 1;
}

/* ---- answering ---- */

/* A body under construction: fixed room, formatted in place. */
struct body {
    char text[BODY_BUF];
    size_t len;
};

static void body_addf(struct body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void body_addf(struct body *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->text + b->len, sizeof(b->text) - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(b->text) - b->len)
        abort(); /* every body here is bounded far below BODY_BUF */
    b->len += (size_t)n;
}

static void body_add_movie(struct body *b, unsigned n)
{
    int w = movie_json(b->text + b->len, sizeof(b->text) - b->len, n);
    if (w < 0 || (size_t)w >= sizeof(b->text) - b->len)
        abort();
    b->len += (size_t)w;
}

static const struct target_response *login(const struct target_routes *routes, struct target_auth *auth,
                                           struct target_counts *counts, const struct target_api_request *req,
                                           struct target_response *dynamic)
{
    char user[TARGET_API_FIELD_MAX], password[TARGET_API_FIELD_MAX];
    size_t user_len, password_len;
    if (req->body_truncated ||
        !parse_login(req->body, req->body_len, user, &user_len, password, &password_len)) {
        target_counts_add_auth(counts, TARGET_COUNTS_LOGINS_REFUSED);
        return target_routes_response(routes, TARGET_REPLY_BAD_LOGIN_BODY, req->framing);
    }
    unsigned account = target_auth_login(user, user_len, password, password_len);
    if (account == 0) {
        target_counts_add_auth(counts, TARGET_COUNTS_LOGINS_REFUSED);
        return target_routes_response(routes, TARGET_REPLY_BAD_CREDENTIALS, req->framing);
    }

    char token[TARGET_AUTH_TOKEN_LEN], name[16], cookie[96];
    target_auth_issue(auth, account, token);
    target_auth_user_name(account, name, sizeof(name));
    target_counts_add_auth(counts, TARGET_COUNTS_TOKENS_ISSUED);

    struct body b = {.len = 0};
    body_addf(&b, "{\"token\": \"%.*s\", \"user\": \"%s\"}", TARGET_AUTH_TOKEN_LEN, token, name);
    snprintf(cookie, sizeof(cookie), "Set-Cookie: session=%.*s; Path=/; HttpOnly\r\n", TARGET_AUTH_TOKEN_LEN,
             token);
    target_routes_format(dynamic, "200 OK", cookie, b.text, b.len, req->framing);
    return dynamic;
}

static const struct target_response *movie_page(const struct target_routes *routes,
                                                const struct target_api_request *req,
                                                struct target_response *dynamic)
{
    unsigned long page = req->query != NULL ? page_in_query(req->query, req->query_len) : 1;
    if (page == 0)
        return target_routes_response(routes, TARGET_REPLY_BAD_PAGE, req->framing);
    struct body b = {.len = 0};
    body_addf(&b, "{\"page\": %lu, \"items\": [", page);
    unsigned long first = (page - 1) * TARGET_API_PAGE_SIZE + 1;
    for (unsigned long n = first; n < first + TARGET_API_PAGE_SIZE && n <= TARGET_API_MOVIES; n++) {
        if (n != first)
            body_addf(&b, ", ");
        body_add_movie(&b, (unsigned)n);
    }
    body_addf(&b, "], \"total\": %d}", TARGET_API_MOVIES);
    target_routes_format(dynamic, "200 OK", "", b.text, b.len, req->framing);
    return dynamic;
}

const struct target_response *target_api_answer(const struct target_routes *routes, struct target_auth *auth,
                                                struct target_counts *counts,
                                                const struct target_api_request *req,
                                                struct target_response *dynamic)
{
    if (req->route == TARGET_REPLY_API_LOGIN)
        return login(routes, auth, counts, req, dynamic);

    /* Every other route is protected. */
    if (req->token == NULL || !target_auth_valid(auth, req->token, req->token_len)) {
        target_counts_add_auth(counts, TARGET_COUNTS_TOKEN_BAD);
        return target_routes_response(routes, TARGET_REPLY_NO_TOKEN, req->framing);
    }
    target_counts_add_auth(counts, TARGET_COUNTS_TOKEN_OK);

    struct body b = {.len = 0};
    unsigned movie;
    switch (req->route) {
    case TARGET_REPLY_API_LOGOUT:
        /* A full revoked set leaves the token valid: see target_auth.h. */
        target_auth_revoke(auth, req->token);
        target_counts_add_auth(counts, TARGET_COUNTS_LOGOUTS);
        return target_routes_response(routes, TARGET_REPLY_LOGGED_OUT, req->framing);
    case TARGET_REPLY_API_MOVIE_PAGE:
        return movie_page(routes, req, dynamic);
    case TARGET_REPLY_API_MOVIE:
        movie = movie_in_path(req->path, req->path_len);
        if (movie == 0)
            return target_routes_response(routes, TARGET_REPLY_NO_MOVIE, req->framing);
        body_add_movie(&b, movie);
        target_routes_format(dynamic, "200 OK", "", b.text, b.len, req->framing);
        return dynamic;
    case TARGET_REPLY_API_RATING:
        movie = movie_in_path(req->path, req->path_len);
        if (movie == 0)
            return target_routes_response(routes, TARGET_REPLY_NO_MOVIE, req->framing);
        body_addf(&b, "{\"ok\": true, \"id\": \"tt%07u\"}", movie);
        target_routes_format(dynamic, "201 Created", "", b.text, b.len, req->framing);
        return dynamic;
    default:
        abort(); /* not a login-flow route: the server's mistake */
    }
}

/* ---- tokens in request headers ---- */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

static void token_keep(struct target_api_token *t, const char *s, size_t len)
{
    t->given = true;
    t->len = len > TARGET_AUTH_TOKEN_LEN ? TARGET_AUTH_TOKEN_LEN + 1 : (unsigned)len;
    memcpy(t->text, s, len < TARGET_AUTH_TOKEN_LEN ? len : TARGET_AUTH_TOKEN_LEN);
}

void target_api_read_authorization(struct target_api_token *t, const char *v, size_t len)
{
    if (len < 7 || strncasecmp(v, "bearer", 6) != 0 || !is_space(v[6]))
        return;
    size_t start = 7;
    while (start < len && is_space(v[start]))
        start++;
    while (len > start && is_space(v[len - 1]))
        len--;
    token_keep(t, v + start, len - start);
}

void target_api_read_cookie(struct target_api_token *t, const char *v, size_t len)
{
    size_t i = 0;
    while (i < len && !t->given) {
        const char *semi = memchr(v + i, ';', len - i);
        size_t end = semi != NULL ? (size_t)(semi - v) : len;
        while (i < end && is_space(v[i]))
            i++;
        size_t stop = end;
        while (stop > i && is_space(v[stop - 1]))
            stop--;
        if (stop - i >= 8 && memcmp(v + i, "session=", 8) == 0)
            token_keep(t, v + i + 8, stop - i - 8);
        i = end + 1;
    }
}

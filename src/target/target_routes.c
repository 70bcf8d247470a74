/* target_routes: see include/target/target_routes.h. */
#include "target/target_routes.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct movie {
    const char *id;
    const char *title;
    int year;
};

/* Crime classics, so "similar to The Godfather" reads plausibly. */
static const struct movie movies[] = {
    {"tt0068646", "The Godfather", 1972},
    {"tt0071562", "The Godfather Part II", 1974},
    {"tt0099674", "The Godfather Part III", 1990},
    {"tt0099685", "Goodfellas", 1990},
    {"tt0112641", "Casino", 1995},
    {"tt0086250", "Scarface", 1983},
    {"tt0075314", "Taxi Driver", 1976},
    {"tt0081398", "Raging Bull", 1980},
    {"tt0407887", "The Departed", 2006},
    {"tt0113277", "Heat", 1995},
    {"tt0070666", "Serpico", 1973},
    {"tt0072890", "Dog Day Afternoon", 1975},
    {"tt0105236", "Reservoir Dogs", 1992},
    {"tt0110912", "Pulp Fiction", 1994},
    {"tt0114814", "The Usual Suspects", 1995},
    {"tt0119488", "L.A. Confidential", 1997},
    {"tt0071315", "Chinatown", 1974},
    {"tt0094226", "The Untouchables", 1987},
    {"tt0114369", "Se7en", 1995},
    {"tt0102926", "The Silence of the Lambs", 1991},
};
#define MOVIE_COUNT (sizeof(movies) / sizeof(movies[0]))
#define MOVIES_PER_LIST 14

/* A growable string, used only while building responses at start. */
struct text {
    char *buf;
    size_t len, cap;
};

static void text_addf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_addf(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            abort();
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)n + 64;
        t->buf = xrealloc(t->buf, t->cap);
    }
}

/* List `variant` starts at a different movie so the bodies differ; scores
 * fall along the list the way a similarity ranking would. */
static char *movie_list_body(unsigned variant)
{
    struct text t = {xmalloc(64), 0, 64};
    text_addf(&t, "[");
    for (unsigned i = 0; i < MOVIES_PER_LIST; i++) {
        const struct movie *m = &movies[(variant * 5 + i) % MOVIE_COUNT];
        text_addf(&t, "%s{\"id\":\"%s\",\"title\":\"%s\",\"year\":%d,\"similarity\":0.%02u}",
                  i == 0 ? "" : ",", m->id, m->title, m->year, 97 - i * 3 - variant);
    }
    text_addf(&t, "]");
    return t.buf;
}

static const char *const connection_headers[TARGET_FRAMING_COUNT] = {
    [TARGET_FRAMING_KEEP_ALIVE_11] = "",
    [TARGET_FRAMING_KEEP_ALIVE_10] = "Connection: keep-alive\r\n",
    [TARGET_FRAMING_CLOSE] = "Connection: close\r\n",
};

void target_routes_format(struct target_response *out, const char *status_line, const char *extra_headers,
                          const char *body, size_t body_len, enum target_framing framing)
{
    struct text t = {xmalloc(256 + body_len), 0, 256 + body_len};
    text_addf(&t,
              "HTTP/1.1 %s\r\n"
              "Server: hopper-target\r\n"
              "Content-Type: application/json\r\n"
              "Content-Length: %zu\r\n"
              "%s%s\r\n",
              status_line, body_len, extra_headers, connection_headers[framing]);
    size_t head_len = t.len;
    text_addf(&t, "%.*s", (int)body_len, body);
    *out = (struct target_response){t.buf, t.len, head_len};
}

static void response_build(struct target_routes *r, enum target_reply reply, const char *status_line,
                           const char *extra_headers, const char *body)
{
    for (int f = 0; f < TARGET_FRAMING_COUNT; f++)
        target_routes_format(&r->responses[reply][f], status_line, extra_headers, body, strlen(body), f);
}

void target_routes_init(struct target_routes *r)
{
    memset(r, 0, sizeof(*r));
    response_build(r, TARGET_REPLY_STATUS, "200 OK", "", "{\"status\":\"OK\"}");
    for (unsigned v = 0; v < TARGET_MOVIE_BODIES; v++) {
        char *body = movie_list_body(v);
        response_build(r, TARGET_REPLY_MOVIES + v, "200 OK", "", body);
        free(body);
    }
    response_build(r, TARGET_REPLY_NOT_FOUND, "404 Not Found", "",
                   "{\"error\":\"not found\",\"status\":404}");
    response_build(r, TARGET_REPLY_NOT_ALLOWED, "405 Method Not Allowed", "Allow: GET, HEAD\r\n",
                   "{\"error\":\"method not allowed\",\"status\":405}");
    response_build(r, TARGET_REPLY_ERROR, "500 Internal Server Error", "",
                   "{\"error\":\"internal server error (injected by --fail-rate)\",\"status\":500}");
    response_build(r, TARGET_REPLY_URI_TOO_LONG, "414 URI Too Long", "",
                   "{\"error\":\"URI too long\",\"status\":414}");
    response_build(r, TARGET_REPLY_BAD_REQUEST, "400 Bad Request", "",
                   "{\"error\":\"bad request\",\"status\":400}");

    /* The login flow's: these bodies are spaced the way its documentation
     * (hopper-target(1)) writes them. */
    response_build(r, TARGET_REPLY_POST_ONLY, "405 Method Not Allowed", "Allow: POST\r\n",
                   "{\"error\":\"method not allowed\",\"status\":405}");
    response_build(r, TARGET_REPLY_BAD_LOGIN_BODY, "400 Bad Request", "",
                   "{\"error\": \"malformed login body\"}");
    response_build(r, TARGET_REPLY_BAD_CREDENTIALS, "401 Unauthorized", "",
                   "{\"error\": \"bad credentials\"}");
    response_build(r, TARGET_REPLY_NO_TOKEN, "401 Unauthorized", "WWW-Authenticate: Bearer\r\n",
                   "{\"error\": \"no valid token\"}");
    response_build(r, TARGET_REPLY_LOGGED_OUT, "200 OK",
                   "Set-Cookie: session=; Path=/; HttpOnly; Max-Age=0\r\n", "{\"ok\": true}");
    response_build(r, TARGET_REPLY_NO_MOVIE, "404 Not Found", "", "{\"error\": \"no such movie\"}");
    response_build(r, TARGET_REPLY_BAD_PAGE, "400 Bad Request", "", "{\"error\": \"bad page\"}");
    /* The TARGET_REPLY_API routes have no fixed response: data stays NULL. */

    static const char continue_100[] = "HTTP/1.1 100 Continue\r\n\r\n";
    r->continue_100.data = xstrdup(continue_100);
    r->continue_100.len = r->continue_100.head_len = sizeof(continue_100) - 1;
}

void target_routes_set_fail_status(struct target_routes *r, unsigned status)
{
    static const struct { unsigned code; const char *phrase; } phrases[] = {
        {429, "Too Many Requests"}, {500, "Internal Server Error"}, {502, "Bad Gateway"},
        {503, "Service Unavailable"}, {504, "Gateway Timeout"}};
    const char *phrase = status < 500 ? "Client Error" : "Server Error";
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (phrases[i].code == status)
            phrase = phrases[i].phrase;
    char line[64], body[160];
    snprintf(line, sizeof line, "%u %s", status, phrase);
    snprintf(body, sizeof body, "{\"error\":\"%s (injected by --fail-rate)\",\"status\":%u}", phrase, status);
    for (int f = 0; f < TARGET_FRAMING_COUNT; f++)
        free(r->responses[TARGET_REPLY_ERROR][f].data);
    response_build(r, TARGET_REPLY_ERROR, line, "", body);
}

void target_routes_free(struct target_routes *r)
{
    for (int i = 0; i < TARGET_REPLY_COUNT; i++)
        for (int f = 0; f < TARGET_FRAMING_COUNT; f++)
            free(r->responses[i][f].data);
    free(r->continue_100.data);
    memset(r, 0, sizeof(*r));
}

/* Length of the path segment at s (up to the next '/' or the end). */
static size_t segment_len(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);
    return slash ? (size_t)(slash - s) : len;
}

static enum target_reply movie_reply(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return TARGET_REPLY_MOVIES + h % TARGET_MOVIE_BODIES;
}

#define HAS_PREFIX(p, n, lit) ((n) >= sizeof(lit) - 1 && memcmp((p), (lit), sizeof(lit) - 1) == 0)

#define IS(p, n, lit) ((n) == sizeof(lit) - 1 && memcmp((p), (lit), sizeof(lit) - 1) == 0)

/* /api/movie/:id and /api/movie/:id/rating, given what follows "/api/movie/". */
static enum target_reply movie_route(const char *rest, size_t len)
{
    size_t id_len = segment_len(rest, len);
    if (id_len == 0)
        return TARGET_REPLY_NOT_FOUND;
    if (id_len == len)
        return TARGET_REPLY_API_MOVIE;
    if (IS(rest + id_len, len - id_len, "/rating"))
        return TARGET_REPLY_API_RATING;
    return TARGET_REPLY_NOT_FOUND;
}

enum target_reply target_routes_match(const char *path, size_t len)
{
    if (IS(path, len, "/status"))
        return TARGET_REPLY_STATUS;
    if (IS(path, len, "/login"))
        return TARGET_REPLY_API_LOGIN;
    if (IS(path, len, "/logout"))
        return TARGET_REPLY_API_LOGOUT;
    if (IS(path, len, "/api/movies"))
        return TARGET_REPLY_API_MOVIE_PAGE;
    if (HAS_PREFIX(path, len, "/api/movie/"))
        return movie_route(path + 11, len - 11);

    if (HAS_PREFIX(path, len, "/api/id/")) {
        const char *id = path + 8;
        size_t id_len = len - 8;
        if (id_len > 0 && segment_len(id, id_len) == id_len)
            return movie_reply(id, id_len);
        return TARGET_REPLY_NOT_FOUND;
    }

    if (HAS_PREFIX(path, len, "/api/title/")) {
        const char *rest = path + 11;
        size_t rest_len = len - 11;
        size_t title_len = segment_len(rest, rest_len);
        if (title_len == 0 || title_len + 1 >= rest_len)
            return TARGET_REPLY_NOT_FOUND; /* no title, or no year after it */
        const char *year = rest + title_len + 1;
        size_t year_len = rest_len - title_len - 1;
        if (segment_len(year, year_len) != year_len)
            return TARGET_REPLY_NOT_FOUND;
        return movie_reply(rest, rest_len);
    }
    return TARGET_REPLY_NOT_FOUND;
}

enum target_reply target_routes_check_method(enum target_reply route, unsigned method)
{
    switch (route) {
    case TARGET_REPLY_NOT_FOUND:
        return route;
    case TARGET_REPLY_API_LOGIN:
    case TARGET_REPLY_API_LOGOUT:
    case TARGET_REPLY_API_RATING:
        return method == HTTP_POST ? route : TARGET_REPLY_POST_ONLY;
    default:
        return method == HTTP_GET || method == HTTP_HEAD ? route : TARGET_REPLY_NOT_ALLOWED;
    }
}

/* ---- request targets ---- */

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

size_t target_routes_decode_path(char *s, size_t len)
{
    char *pct = memchr(s, '%', len);
    if (pct == NULL)
        return len;
    size_t w = (size_t)(pct - s);
    for (size_t r = w; r < len;) {
        int hi, lo;
        if (s[r] == '%' && r + 2 < len && (hi = hex_digit(s[r + 1])) >= 0 &&
            (lo = hex_digit(s[r + 2])) >= 0) {
            s[w++] = (char)(hi * 16 + lo);
            r += 3;
        } else {
            s[w++] = s[r++];
        }
    }
    return w;
}

void target_routes_split_target(const char *url, size_t len, size_t *off, size_t *path_len)
{
    size_t start = 0;
    if (len > 0 && url[0] != '/') {
        const char *scheme_end = memmem(url, len, "://", 3);
        if (scheme_end != NULL) {
            size_t host = (size_t)(scheme_end - url) + 3;
            const char *slash = memchr(url + host, '/', len - host);
            start = slash != NULL ? (size_t)(slash - url) : len;
        }
    }
    size_t end = start;
    while (end < len && url[end] != '?' && url[end] != '#')
        end++;
    *off = start;
    *path_len = end - start;
}

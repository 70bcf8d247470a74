/* hopperfile: see include/plan/hopperfile.h and man/hopperfile.5.
 *
 * The parser works line by line on a private plan_t and copies it to the
 * caller's only when the whole file is good, so an error never leaves a half
 * filled plan behind. Every message names the line it is about and quotes the
 * offending text through quote(), because the text may be anything: a
 * hopperfile is typed by people and sometimes is not a hopperfile at all. */
#include "plan/hopperfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hopper.h"
#include "plan/checks.h"
#include "util/duration.h"
#include "util/text.h"
#include "util/url.h"
#include "util/xalloc.h"

/* A line longer than this is not something a person wrote; refusing it
 * early bounds the work and the copy each line needs. */
#define LINE_MAX_BYTES (64 * 1024)

/* Files read whole into memory: a hopperfile, or a task's body-file. The cap
 * keeps a path such as /dev/zero from eating the machine. */
#define FILE_MAX_BYTES (64 * 1024 * 1024)

#define WEIGHT_MAX      1000000ULL   /* a ratio: more is a typo, and sums stay exact */
#define THROUGHPUT_MAX  1000000.0
#define YEAR_US         (365ULL * 24 * 3600 * 1000000)

/* Text from the file shown in a message: at most this many characters. */
#define QUOTE_CHARS 60
#define QUOTE_SIZE  (QUOTE_CHARS * 4 + 4)

#define ERR_MSG_SIZE 1024

typedef enum {
    KEY_HOST,
    KEY_USERS,
    KEY_SPAWN_RATE,
    KEY_RUN_TIME,
    KEY_WAIT,
    KEY_TIMEOUT,
    KEY_HEADER,
    KEY_WEIGHT,
    KEY_REQUEST,
    KEY_BODY,
    KEY_BODY_FILE,
    KEY_NAME,
    KEY_EXPECT_STATUS,
    KEY_EXPECT_BODY,
    KEY_CHECK,
    KEY_COUNT
} key_id_t;

enum { AT_TOP = 1, IN_TASK = 2 };

typedef struct {
    const char *name;
    key_id_t id;
    unsigned where;   /* AT_TOP, IN_TASK or both */
    bool repeatable;
} key_def_t;

static const key_def_t key_defs[] = {
    { "host", KEY_HOST, AT_TOP, false },
    { "users", KEY_USERS, AT_TOP, false },
    { "spawn-rate", KEY_SPAWN_RATE, AT_TOP, false },
    { "hatch-rate", KEY_SPAWN_RATE, AT_TOP, false }, /* Locust's old name */
    { "run-time", KEY_RUN_TIME, AT_TOP, false },
    { "wait", KEY_WAIT, AT_TOP, false },
    { "timeout", KEY_TIMEOUT, AT_TOP | IN_TASK, false },
    { "header", KEY_HEADER, AT_TOP | IN_TASK, true },
    { "weight", KEY_WEIGHT, IN_TASK, false },
    { "request", KEY_REQUEST, IN_TASK, false },
    { "body", KEY_BODY, IN_TASK, false },
    { "body-file", KEY_BODY_FILE, IN_TASK, false },
    { "name", KEY_NAME, IN_TASK, false },
    { "expect-status", KEY_EXPECT_STATUS, IN_TASK, false },
    { "expect-body", KEY_EXPECT_BODY, IN_TASK, false },
    { "check", KEY_CHECK, AT_TOP, true },
};
#define N_KEY_DEFS (sizeof key_defs / sizeof key_defs[0])

static const char *const wait_kinds[] = { "between", "constant", "pacing", "throughput" };
#define N_WAIT_KINDS (sizeof wait_kinds / sizeof wait_kinds[0])

/* The headers that say how a request is framed or where it goes, in one
 * scope (the top level, or one task), with their lines: they are checked
 * against each other and against the task's body when the task is closed. */
typedef struct {
    unsigned length_line;     /* 0: no Content-Length header */
    uint64_t length;
    unsigned host_line;       /* 0: no Host header */
} framing_t;

/* Where a key was first set in the current scope, for "duplicate key". */
typedef struct {
    unsigned line;        /* 0: not set */
    const char *spelling; /* which alias, so the message can say */
} key_seen_t;

typedef struct {
    const char *path;
    plan_t plan;              /* built here, handed over only on success */
    size_t tasks_cap;
    bool in_task;             /* plan.tasks[plan.n_tasks - 1] is open */
    unsigned line;
    key_seen_t top_seen[KEY_COUNT];
    key_seen_t task_seen[KEY_COUNT];
    char *line_buf;           /* LINE_MAX_BYTES + 1: the current line, editable */
    unsigned *check_lines;    /* the line of each of plan.checks */
    framing_t top_framing;    /* Content-Length and Host at the top level */
    framing_t task_framing;   /* ... and in the open task */
    char *err;
    size_t errlen;
} parser_t;

/* ---- messages ------------------------------------------------------------ */

/* Copies n bytes of file text into buf for a message: control bytes and
 * bytes that are not UTF-8 become \xNN, and after QUOTE_CHARS characters the
 * rest is replaced by "...". Never splits a UTF-8 sequence. */
static const char *quote_n(char buf[QUOTE_SIZE], const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0, chars = 0, i = 0;
    while (i < n) {
        if (chars == QUOTE_CHARS) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        size_t seq = text_utf8_len(s + i, n - i);
        if (seq > 1 && !text_is_control(s + i, seq)) {
            memcpy(buf + o, s + i, seq);
            o += seq;
            i += seq;
        } else if (c < 0x20 || c >= 0x7f) {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[c >> 4];
            buf[o++] = hex[c & 0x0f];
            i++;
        } else {
            buf[o++] = (char)c;
            i++;
        }
        chars++;
    }
    buf[o] = '\0';
    return buf;
}

static const char *quote(char buf[QUOTE_SIZE], const char *s)
{
    return quote_n(buf, s, strlen(s));
}

/* Writes "PATH:LINE: message" into the caller's buffer; returns -1 so that
 * error paths read "return fail(...)". */
__attribute__((format(printf, 3, 4)))
static int fail_at(parser_t *p, unsigned line, const char *fmt, ...)
{
    char msg[ERR_MSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->err != NULL && p->errlen > 0)
        snprintf(p->err, p->errlen, "%s:%u: %s", p->path, line, msg);
    return -1;
}

#define fail(p, ...) fail_at((p), (p)->line, __VA_ARGS__)

/* Optimal string alignment distance (Levenshtein plus adjacent swaps), for
 * "did you mean". Only short words are compared; keys are all short. */
static size_t edit_distance(const char *a, const char *b)
{
    enum { MAXW = 32 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > MAXW || lb > MAXW)
        return SIZE_MAX;
    size_t d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* The closest of n words to w within two edits, or NULL. */
static const char *closest(const char *w, const char *const *words, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(w, words[i]);
        if (dist < best_d) {
            best_d = dist;
            best = words[i];
        }
    }
    return best;
}

/* ---- small parsers -------------------------------------------------------- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static char *trim(char *s)
{
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

typedef enum { NUM_OK, NUM_GARBAGE, NUM_NEGATIVE, NUM_TOO_LARGE } num_status_t;

/* Digits only: no sign, no spaces, no hex, no exponent. */
static num_status_t parse_whole(const char *s, uint64_t *out)
{
    if (s[0] == '-' && is_digit(s[1]))
        return strspn(s + 1, "0123456789") == strlen(s + 1) ? NUM_NEGATIVE : NUM_GARBAGE;
    if (!is_digit(s[0]))
        return NUM_GARBAGE;
    uint64_t v = 0;
    bool overflow = false;
    for (; *s != '\0'; s++) {
        if (!is_digit(*s))
            return NUM_GARBAGE;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (overflow)
        return NUM_TOO_LARGE;
    *out = v;
    return NUM_OK;
}

/* A plain decimal ("10", "0.5"). The text is checked before strtod sees it,
 * so "nan", "inf", "0x10" and "1e3" never get through. */
static num_status_t parse_decimal(const char *s, double *out)
{
    bool negative = s[0] == '-';
    const char *p = negative ? s + 1 : s;
    size_t int_digits = strspn(p, "0123456789");
    if (int_digits == 0)
        return NUM_GARBAGE;
    p += int_digits;
    if (*p == '.') {
        p++;
        size_t frac_digits = strspn(p, "0123456789");
        if (frac_digits == 0)
            return NUM_GARBAGE;
        p += frac_digits;
    }
    if (*p != '\0')
        return NUM_GARBAGE;
    if (negative)
        return NUM_NEGATIVE;
    double v = strtod(s, NULL);
    if (!isfinite(v))
        return NUM_TOO_LARGE;
    *out = v;
    return NUM_OK;
}

/* A whole number in [min, max] for key; too_big names the limit. */
static int value_whole(parser_t *p, const char *key, const char *v, uint64_t min,
                       uint64_t max, const char *too_big, uint64_t *out)
{
    char q[QUOTE_SIZE];
    uint64_t n = 0;
    num_status_t st = parse_whole(v, &n);
    if (st == NUM_GARBAGE)
        return fail(p, "%s: '%s': not a whole number", key, quote(q, v));
    if (st == NUM_NEGATIVE)
        return fail(p, "%s: '%s': cannot be negative", key, quote(q, v));
    if (st == NUM_TOO_LARGE || n > max) /* above UINT64_MAX is above max too */
        return fail(p, "%s: '%s': %s", key, quote(q, v), too_big);
    if (n < min)
        return fail(p, "%s: '%s': must be at least %llu", key, quote(q, v),
                    (unsigned long long)min);
    *out = n;
    return 0;
}

/* A duration for key; when positive, 0 is refused with hint appended. */
static int value_duration(parser_t *p, const char *key, const char *v, bool positive,
                          const char *hint, uint64_t *out)
{
    char q[QUOTE_SIZE];
    const char *why = NULL;
    uint64_t us = 0;
    if (duration_parse(v, &us, &why) != 0)
        return fail(p, "%s: '%s': %s", key, quote(q, v), why);
    if (positive && us == 0)
        return fail(p, "%s: '%s': must be greater than 0%s", key, quote(q, v), hint);
    *out = us;
    return 0;
}

/* A rate: a positive decimal up to max. */
static int value_rate(parser_t *p, const char *key, const char *v, double max, double *out)
{
    char q[QUOTE_SIZE];
    double r = 0;
    switch (parse_decimal(v, &r)) {
    case NUM_GARBAGE:
        return fail(p, "%s: '%s': not a number", key, quote(q, v));
    case NUM_NEGATIVE:
        return fail(p, "%s: '%s': cannot be negative", key, quote(q, v));
    case NUM_TOO_LARGE:
        return fail(p, "%s: '%s': number too large (the limit is %.0f)", key,
                    quote(q, v), max);
    case NUM_OK:
        break;
    }
    if (r <= 0)
        return fail(p, "%s: '%s': must be greater than 0", key, quote(q, v));
    if (r > max)
        return fail(p, "%s: '%s': too large (the limit is %.0f)", key, quote(q, v), max);
    *out = r;
    return 0;
}

/* ---- top-level values ------------------------------------------------------ */

/* Splits s (edited in place) into at most max blank-separated words; returns
 * how many there were, which may be more than max. */
static size_t split_words(char *s, char **words, size_t max)
{
    size_t n = 0;
    while (*s != '\0') {
        while (is_blank(*s))
            s++;
        if (*s == '\0')
            break;
        if (n < max)
            words[n] = s;
        n++;
        while (*s != '\0' && !is_blank(*s))
            s++;
        if (*s != '\0')
            *s++ = '\0';
    }
    return n;
}

static int parse_wait(parser_t *p, const char *v, wait_spec_t *out)
{
    char q[QUOTE_SIZE], q2[QUOTE_SIZE];
    char *copy = xstrdup(v);
    char *w[3];
    size_t n = split_words(copy, w, 3);
    size_t args = n - 1;
    wait_spec_t spec = { .kind = WAIT_CONSTANT };
    uint64_t a = 0, b = 0;
    const char *why = NULL;
    int rc = -1;

    if (strcmp(w[0], "between") == 0) {
        if (args != 2) {
            fail(p, "wait: '%s': between takes two durations, e.g. 'between 5s 9s'", quote(q, v));
        } else if (duration_parse(w[1], &a, &why) != 0) {
            fail(p, "wait: '%s': '%s': %s", quote(q, v), quote(q2, w[1]), why);
        } else if (duration_parse(w[2], &b, &why) != 0) {
            fail(p, "wait: '%s': '%s': %s", quote(q, v), quote(q2, w[2]), why);
        } else if (a > b) {
            fail(p, "wait: '%s': the first bound is larger than the second", quote(q, v));
        } else {
            spec = (wait_spec_t){ .kind = WAIT_BETWEEN, .a_us = a, .b_us = b };
            rc = 0;
        }
    } else if (strcmp(w[0], "constant") == 0 || strcmp(w[0], "pacing") == 0) {
        bool pacing = w[0][0] == 'p';
        if (args != 1) {
            fail(p, "wait: '%s': %s takes one duration, e.g. '%s 2s'", quote(q, v), w[0], w[0]);
        } else if (duration_parse(w[1], &a, &why) != 0) {
            fail(p, "wait: '%s': '%s': %s", quote(q, v), quote(q2, w[1]), why);
        } else if (pacing && a == 0) {
            fail(p, "wait: '%s': pacing must be greater than 0 (use 'constant 0' for no wait)",
                 quote(q, v));
        } else {
            spec = (wait_spec_t){ .kind = pacing ? WAIT_PACING : WAIT_CONSTANT, .a_us = a };
            rc = 0;
        }
    } else if (strcmp(w[0], "throughput") == 0) {
        double r = 0;
        size_t len = args == 1 ? strlen(w[1]) : 0;
        /* "0.5/s" is accepted too: it is how plan_wait_describe writes it. */
        if (len > 2 && strcmp(w[1] + len - 2, "/s") == 0)
            w[1][len - 2] = '\0';
        num_status_t st = args == 1 ? parse_decimal(w[1], &r) : NUM_GARBAGE;
        if (args != 1)
            fail(p, "wait: '%s': throughput takes one rate in tasks per second per user, "
                    "e.g. 'throughput 0.5'", quote(q, v));
        else if (st == NUM_GARBAGE)
            fail(p, "wait: '%s': the rate is not a number", quote(q, v));
        else if (st == NUM_NEGATIVE)
            fail(p, "wait: '%s': the rate cannot be negative", quote(q, v));
        else if (st == NUM_TOO_LARGE || r > THROUGHPUT_MAX)
            fail(p, "wait: '%s': the rate is too high (the limit is %.0f per second)", quote(q, v),
                 THROUGHPUT_MAX);
        else if (r <= 0)
            fail(p, "wait: '%s': the rate must be greater than 0", quote(q, v));
        else if (round(1e6 / r) > (double)YEAR_US)
            fail(p, "wait: '%s': the rate is too low (less than one task a year)", quote(q, v));
        else {
            spec = (wait_spec_t){ .kind = WAIT_THROUGHPUT, .a_us = (uint64_t)round(1e6 / r),
                                  .rate = r };
            rc = 0;
        }
    } else {
        const char *guess = closest(w[0], wait_kinds, N_WAIT_KINDS);
        if (guess != NULL)
            fail(p, "wait: unknown kind '%s' (did you mean '%s'?)", quote(q, w[0]), guess);
        else
            fail(p, "wait: unknown kind '%s' (use between, constant, pacing or throughput)",
                 quote(q, w[0]));
    }
    free(copy);
    if (rc == 0)
        *out = spec;
    return rc;
}

/* RFC 9110 token characters, which a header name is made of. */
static bool is_tchar(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool header_is(const char *name, size_t name_len, const char *want)
{
    return strlen(want) == name_len && strncasecmp(name, want, name_len) == 0;
}

/* The headers hopper's clients write themselves, or that would change how a
 * request is framed on the connection (man/hopperfile.5, "HEADERS"): some are
 * refused, Content-Length and Host are kept once per request and checked.
 * scope is where this header is (the top level or the open task); outer is the
 * top level when scope is a task, whose headers a task's are sent with. */
static int check_header_rules(parser_t *p, const char *v, const char *name, size_t name_len,
                              const char *value, framing_t *scope, const framing_t *outer)
{
    char q[QUOTE_SIZE];
    if (header_is(name, name_len, "Transfer-Encoding"))
        return fail(p, "header: '%s': hopper frames every body with Content-Length and cannot "
                       "send Transfer-Encoding (leave it out)", quote(q, v));
    if (header_is(name, name_len, "Expect"))
        return fail(p, "header: '%s': hopper sends a body at once and does not wait for "
                       "100 Continue (leave Expect out)", quote(q, v));
    if (header_is(name, name_len, "Upgrade"))
        return fail(p, "header: '%s': hopper speaks HTTP/1.1 only and cannot switch protocols "
                       "(leave Upgrade out)", quote(q, v));
    if (header_is(name, name_len, "Connection") && strcasecmp(value, "keep-alive") != 0)
        return fail(p, "header: '%s': each user keeps its connection open and reuses it; "
                       "only 'Connection: keep-alive' can be set", quote(q, v));
    if (header_is(name, name_len, "Content-Length")) {
        uint64_t n = 0;
        if (parse_whole(value, &n) != NUM_OK)
            return fail(p, "header: '%s': Content-Length must be a whole number of bytes",
                        quote(q, v));
        unsigned first = scope->length_line ? scope->length_line
                                            : outer != NULL ? outer->length_line : 0;
        if (first != 0)
            return fail(p, "header: '%s': a second Content-Length (the first is at line %u)",
                        quote(q, v), first);
        scope->length_line = p->line;
        scope->length = n;
    }
    if (header_is(name, name_len, "Host")) {
        const char *host = NULL;
        size_t host_len = 0;
        unsigned port = 0;
        if (strpbrk(value, " \t") != NULL ||
            !url_split_authority(value, strlen(value), &host, &host_len, &port))
            return fail(p, "header: '%s': Host must be a host name with an optional port, "
                           "e.g. 'Host: example.com:8080'", quote(q, v));
        unsigned first = scope->host_line ? scope->host_line
                                          : outer != NULL ? outer->host_line : 0;
        if (first != 0)
            return fail(p, "header: '%s': a second Host (the first is at line %u)", quote(q, v),
                        first);
        scope->host_line = p->line;
    }
    return 0;
}

/* "Name: value" into a new string "Name: value" with one space, after the
 * rules of check_header_rules. */
static int parse_header(parser_t *p, const char *v, char **out, framing_t *scope,
                        const framing_t *outer)
{
    char q[QUOTE_SIZE], q2[QUOTE_SIZE];
    const char *colon = strchr(v, ':');
    if (colon == NULL)
        return fail(p, "header: '%s': expected 'Name: value'", quote(q, v));
    size_t name_len = (size_t)(colon - v);
    if (name_len == 0)
        return fail(p, "header: '%s': the header name is missing", quote(q, v));
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar(v[i]))
            return fail(p, "header: '%s': '%s' is not a valid header name", quote(q, v),
                        quote_n(q2, v, name_len));
    const char *value = colon + 1;
    while (is_blank(*value))
        value++;
    if (*value == '\0')
        return fail(p, "header: '%s': the value is empty", quote(q, v));
    if (check_header_rules(p, v, v, name_len, value, scope, outer) != 0)
        return -1;
    size_t value_len = strlen(value);
    char *h = xmalloc(name_len + 2 + value_len + 1);
    memcpy(h, v, name_len);
    memcpy(h + name_len, ": ", 2);
    memcpy(h + name_len + 2, value, value_len + 1);
    *out = h;
    return 0;
}

static void push_string(char ***v, size_t *n, char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    (*v)[(*n)++] = s;
}

/* ---- task values ----------------------------------------------------------- */

static bool is_upper_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return false;
    return true;
}

static int parse_request(parser_t *p, plan_task_t *t, const char *v)
{
    char q[QUOTE_SIZE], q2[QUOTE_SIZE];
    size_t method_len = strcspn(v, " \t");
    const char *target = v + method_len;
    while (is_blank(*target))
        target++;
    if (v[method_len] == '\0' || *target == '\0')
        return fail(p, "request: '%s': expected 'METHOD TARGET', e.g. 'GET /status'",
                    quote(q, v));
    if (!is_upper_token(v, method_len))
        return fail(p, "request: '%s': the method must be an upper-case word such as GET or POST",
                    quote_n(q, v, method_len));
    const char *why = NULL;
    if (url_check_target(target, &why) != 0)
        return fail(p, "request: '%s': %s", quote(q2, target), why);
    t->method = xstrndup(v, method_len);
    t->target = xstrdup(target);
    return 0;
}

/* "200-299, 304" into ranges. */
static int parse_expect_status(parser_t *p, plan_task_t *t, const char *v)
{
    char q[QUOTE_SIZE], item_q[QUOTE_SIZE];
    char *copy = xstrdup(v);
    status_range_t *ranges = NULL;
    size_t n = 0;
    int rc = 0;
    for (char *item = copy; rc == 0 && item != NULL;) {
        char *comma = strchr(item, ',');
        if (comma != NULL)
            *comma = '\0';
        char *it = trim(item);
        item = comma != NULL ? comma + 1 : NULL;
        if (*it == '\0') {
            rc = fail(p, "expect-status: '%s': an item of the list is empty", quote(q, v));
            break;
        }
        quote(item_q, it); /* before the range is cut in two */
        char *lo_s = it, *hi_s = it;
        char *dash = strchr(it, '-');
        if (dash != NULL) {
            *dash = '\0';
            lo_s = trim(it);
            hi_s = trim(dash + 1);
        }
        uint64_t lo = 0, hi = 0;
        if (parse_whole(lo_s, &lo) != NUM_OK || parse_whole(hi_s, &hi) != NUM_OK)
            rc = fail(p, "expect-status: '%s': not a status or a range such as 200-299", item_q);
        else if (lo < 100 || lo > 599 || hi < 100 || hi > 599)
            rc = fail(p, "expect-status: '%s': a status must be from 100 to 599", item_q);
        else if (lo > hi)
            rc = fail(p, "expect-status: '%s': the range is reversed", item_q);
        else {
            ranges = xrealloc(ranges, (n + 1) * sizeof *ranges);
            ranges[n++] = (status_range_t){ (unsigned)lo, (unsigned)hi };
        }
    }
    free(copy);
    if (rc != 0) {
        free(ranges);
        return -1;
    }
    t->expect_status = ranges;
    t->n_expect_status = n;
    return 0;
}

/* What a file that is not a regular file is, for a message. */
static const char *file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

/* Reads a whole file of at most max bytes; returns 0, or -1 with errno set
 * (EFBIG when it is larger than max). The buffer gets a NUL after the data.
 * With regular_only, the file is opened without blocking (a FIFO with no
 * writer would otherwise hang the start) and anything but a regular file is
 * refused: -1 with errno ENOTSUP and *kind saying what it is. */
static int read_whole_file(const char *path, size_t max, bool regular_only, const char **kind,
                           char **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | (regular_only ? O_NONBLOCK : 0));
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        errno = EISDIR;
        return -1;
    }
    if (regular_only && !S_ISREG(st.st_mode)) {
        close(fd);
        *kind = file_kind(st.st_mode);
        errno = ENOTSUP;
        return -1;
    }
    /* Read at most max + 1 bytes: one more than allowed tells "too large"
     * without reading (or allocating) the rest. */
    size_t cap = 4096 < max + 1 ? 4096 : max + 1, len = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (len == cap) {
            if (cap == max + 1) {
                free(buf);
                close(fd);
                errno = EFBIG;
                return -1;
            }
            cap = cap > (max + 1) / 2 ? max + 1 : cap * 2;
            buf = xrealloc(buf, cap + 1);
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int saved = errno;
            free(buf);
            close(fd);
            errno = saved;
            return -1;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return 0;
}

/* name relative to the folder of the hopperfile, as an xmalloc'd path. */
static char *beside_hopperfile(const char *hopperfile, const char *name)
{
    const char *slash = strrchr(hopperfile, '/');
    if (name[0] == '/' || slash == NULL)
        return xstrdup(name);
    size_t dir_len = (size_t)(slash - hopperfile) + 1;
    char *path = xmalloc(dir_len + strlen(name) + 1);
    memcpy(path, hopperfile, dir_len);
    strcpy(path + dir_len, name);
    return path;
}

static int parse_body_file(parser_t *p, plan_task_t *t, const char *v)
{
    char q[QUOTE_SIZE];
    char *path = beside_hopperfile(p->path, v);
    char *data = NULL;
    size_t len = 0;
    const char *kind = NULL;
    if (read_whole_file(path, FILE_MAX_BYTES, true, &kind, &data, &len) != 0) {
        if (errno == EFBIG)
            fail(p, "body-file: '%s': larger than %d MiB", quote(q, path),
                 FILE_MAX_BYTES / (1024 * 1024));
        else if (kind != NULL)
            fail(p, "body-file: '%s' is %s: a body must be read from a regular file",
                 quote(q, path), kind);
        else
            fail(p, "body-file: cannot read '%s': %s", quote(q, path), strerror(errno));
        free(path);
        return -1;
    }
    free(path);
    t->body = data;
    t->body_len = len;
    return 0;
}

/* ---- sections and lines ------------------------------------------------------ */

static plan_task_t *current_task(parser_t *p)
{
    return p->in_task ? &p->plan.tasks[p->plan.n_tasks - 1] : NULL;
}

/* Checks the open task is complete and fills its defaults. */
static int close_task(parser_t *p)
{
    plan_task_t *t = current_task(p);
    if (t == NULL)
        return 0;
    p->in_task = false;
    if (t->method == NULL)
        return fail_at(p, t->line, "task '%s' has no request (add e.g. 'request = GET /')", t->id);
    if (t->name == NULL)
        t->name = xstrdup(t->target);
    /* A Content-Length is sent as written, so it must be the length of the
     * body that goes out (none for HEAD): any other desynchronises the
     * connection. The top level's applies to every task. */
    const framing_t *f = p->task_framing.length_line ? &p->task_framing : &p->top_framing;
    size_t sent = strcmp(t->method, "HEAD") == 0 ? 0 : t->body_len;
    if (f->length_line != 0 && f->length != sent)
        return fail_at(p, f->length_line,
                       "header: 'Content-Length: %llu' does not match the %zu-byte body that "
                       "task '%s' sends (hopper sets Content-Length itself: leave it out)",
                       (unsigned long long)f->length, sent, t->id);
    return 0;
}

static bool is_task_name_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
}

static int parse_section(parser_t *p, char *s)
{
    char q[QUOTE_SIZE];
    size_t n = strlen(s);
    if (n < 2 || s[n - 1] != ']')
        return fail(p, "malformed section header '%s' (expected '[task NAME]')", quote(q, s));
    s[n - 1] = '\0';
    char *inner = trim(s + 1);
    size_t type_len = strcspn(inner, " \t");
    char *name = inner + type_len;
    if (*name != '\0')
        *name++ = '\0';
    name = trim(name);
    if (*inner == '\0')
        return fail(p, "empty section header (expected '[task NAME]')");
    if (strcmp(inner, "task") != 0)
        return fail(p, "unknown section type '%s' (only [task NAME] sections exist)",
                    quote(q, inner));
    if (*name == '\0')
        return fail(p, "the task name is missing (write '[task NAME]')");
    for (const char *c = name; *c != '\0'; c++)
        if (!is_task_name_char(*c))
            return fail(p, "task name '%s' may only contain letters, digits, '-', '_' and '.'",
                        quote(q, name));

    if (close_task(p) != 0)
        return -1;
    for (size_t i = 0; i < p->plan.n_tasks; i++)
        if (strcmp(p->plan.tasks[i].id, name) == 0)
            return fail(p, "task '%s' is defined twice (first at line %u)", name,
                        p->plan.tasks[i].line);

    if (p->plan.n_tasks == p->tasks_cap) {
        p->tasks_cap = p->tasks_cap ? p->tasks_cap * 2 : 8;
        p->plan.tasks = xrealloc(p->plan.tasks, p->tasks_cap * sizeof *p->plan.tasks);
    }
    plan_task_t *t = &p->plan.tasks[p->plan.n_tasks++];
    memset(t, 0, sizeof *t);
    t->id = xstrdup(name);
    t->weight = 1;
    t->line = p->line;
    p->in_task = true;
    memset(p->task_seen, 0, sizeof p->task_seen);
    memset(&p->task_framing, 0, sizeof p->task_framing);
    return 0;
}

static int set_top_key(parser_t *p, key_id_t id, const char *key, const char *v)
{
    plan_t *plan = &p->plan;
    char q[QUOTE_SIZE];
    const char *why = NULL;
    switch (id) {
    case KEY_HOST:
        if (url_check_base(v, &why) != 0)
            return fail(p, "host: '%s': %s", quote(q, v), why);
        plan->host = xstrdup(v);
        plan->host_set = true;
        return 0;
    case KEY_USERS:
        if (value_whole(p, key, v, 1, HOPPER_MAX_USERS, "too many users (the limit is " HOPPER_STR(HOPPER_MAX_USERS_N) ")",
                        &plan->users) != 0)
            return -1;
        plan->users_set = true;
        return 0;
    case KEY_SPAWN_RATE:
        if (value_rate(p, key, v, HOPPER_MAX_SPAWN_RATE, &plan->spawn_rate) != 0)
            return -1;
        plan->spawn_rate_set = true;
        return 0;
    case KEY_RUN_TIME:
        if (value_duration(p, key, v, true, " (leave run-time out to run until stopped)",
                           &plan->run_time_us) != 0)
            return -1;
        plan->run_time_set = true;
        return 0;
    case KEY_WAIT:
        if (parse_wait(p, v, &plan->wait) != 0)
            return -1;
        plan->wait_set = true;
        return 0;
    case KEY_TIMEOUT:
        if (value_duration(p, key, v, true, "", &plan->timeout_us) != 0)
            return -1;
        plan->timeout_set = true;
        return 0;
    case KEY_HEADER: {
        char *h = NULL;
        if (parse_header(p, v, &h, &p->top_framing, NULL) != 0)
            return -1;
        push_string(&plan->headers, &plan->n_headers, h);
        return 0;
    }
    case KEY_CHECK: {
        /* Checked now, so a malformed gate stops the run before any load. */
        check_t c;
        char problem[ERR_MSG_SIZE];
        if (check_parse(v, &c, problem, sizeof problem) != 0)
            return fail(p, "%s", problem);
        check_free(&c);
        p->check_lines = xrealloc(p->check_lines, (plan->n_checks + 1) * sizeof *p->check_lines);
        p->check_lines[plan->n_checks] = p->line;
        push_string(&plan->checks, &plan->n_checks, xstrdup(v));
        return 0;
    }
    default:
        return fail(p, "'%s' cannot be used here", key); /* not reached: see key_defs */
    }
}

static int set_task_key(parser_t *p, key_id_t id, const char *key, const char *v)
{
    plan_task_t *t = current_task(p);
    uint64_t n = 0;
    switch (id) {
    case KEY_WEIGHT:
        if (value_whole(p, key, v, 0, WEIGHT_MAX, "too large (the limit is 1000000)", &n) != 0)
            return -1;
        t->weight = (unsigned)n;
        return 0;
    case KEY_REQUEST:
        return parse_request(p, t, v);
    case KEY_HEADER: {
        char *h = NULL;
        if (parse_header(p, v, &h, &p->task_framing, &p->top_framing) != 0)
            return -1;
        push_string(&t->headers, &t->n_headers, h);
        return 0;
    }
    case KEY_BODY:
    case KEY_BODY_FILE: {
        key_id_t other = id == KEY_BODY ? KEY_BODY_FILE : KEY_BODY;
        if (p->task_seen[other].line != 0)
            return fail(p, "%s: this task already has %s (line %u); use one or the other", key,
                        other == KEY_BODY ? "a body" : "a body-file", p->task_seen[other].line);
        if (id == KEY_BODY_FILE)
            return parse_body_file(p, t, v);
        t->body = xstrdup(v);
        t->body_len = strlen(v);
        return 0;
    }
    case KEY_NAME:
        t->name = xstrdup(v);
        return 0;
    case KEY_EXPECT_STATUS:
        return parse_expect_status(p, t, v);
    case KEY_EXPECT_BODY:
        t->expect_body = xstrdup(v);
        return 0;
    case KEY_TIMEOUT:
        return value_duration(p, key, v, true, "", &t->timeout_us);
    default:
        return fail(p, "'%s' cannot be used here", key); /* not reached: see key_defs */
    }
}

static int parse_key_value(parser_t *p, char *s, char *eq)
{
    char q[QUOTE_SIZE];
    *eq = '\0';
    char *key = trim(s);
    char *value = trim(eq + 1);
    if (*key == '\0')
        return fail(p, "missing key before '='");

    const key_def_t *def = NULL;
    for (size_t i = 0; i < N_KEY_DEFS; i++)
        if (strcmp(key, key_defs[i].name) == 0)
            def = &key_defs[i];
    if (def == NULL) {
        const char *names[N_KEY_DEFS];
        for (size_t i = 0; i < N_KEY_DEFS; i++)
            names[i] = key_defs[i].name;
        const char *guess = closest(key, names, N_KEY_DEFS);
        if (guess != NULL)
            return fail(p, "unknown key '%s' (did you mean '%s'?)", quote(q, key), guess);
        return fail(p, "unknown key '%s'", quote(q, key));
    }

    unsigned here = p->in_task ? IN_TASK : AT_TOP;
    if (!(def->where & here)) {
        if (here == AT_TOP)
            return fail(p, "'%s' is a task key: put it in a [task NAME] section", key);
        return fail(p, "'%s' is a top-level key: put it before the first [task] section", key);
    }
    if (*value == '\0')
        return fail(p, "%s: the value is missing", key);

    key_seen_t *seen = p->in_task ? &p->task_seen[def->id] : &p->top_seen[def->id];
    if (seen->line != 0 && !def->repeatable) {
        if (strcmp(seen->spelling, key) != 0)
            return fail(p, "duplicate key '%s' (first set at line %u as '%s')", key, seen->line,
                        seen->spelling);
        return fail(p, "duplicate key '%s' (first set at line %u)", key, seen->line);
    }
    int rc = p->in_task ? set_task_key(p, def->id, key, value)
                        : set_top_key(p, def->id, key, value);
    if (rc == 0 && seen->line == 0) {
        seen->line = p->line;
        seen->spelling = def->name;
    }
    return rc;
}

/* Refuses bytes a hopperfile line may not hold. Tabs are fine; every other
 * control byte is refused so nothing invisible ends up in a request. */
static int check_line_bytes(parser_t *p, const char *line, size_t n)
{
    const unsigned char *s = (const unsigned char *)line;
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c == 0)
            return fail(p, "NUL byte at column %zu", i + 1);
        if (c == '\r')
            return fail(p, "carriage return at column %zu (only LF and CRLF line ends are "
                           "accepted)", i + 1);
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(p, "control character \\x%02x at column %zu", c, i + 1);
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len = text_utf8_len(line + i, n - i);   /* strict: see util/text.h */
        if (len == 0)
            return fail(p, "invalid UTF-8 (byte \\x%02x at column %zu); a hopperfile must be "
                           "UTF-8 text", c, i + 1);
        i += len;
    }
    return 0;
}

static int parse_line(parser_t *p, const char *raw, size_t n)
{
    char q[QUOTE_SIZE];
    if (n > LINE_MAX_BYTES)
        return fail(p, "line too long (%zu bytes; the limit is %d)", n, LINE_MAX_BYTES);
    if (check_line_bytes(p, raw, n) != 0)
        return -1;
    memcpy(p->line_buf, raw, n);
    p->line_buf[n] = '\0';
    char *s = trim(p->line_buf);
    if (*s == '\0' || *s == '#')
        return 0;
    if (*s == '[')
        return parse_section(p, s);
    char *eq = strchr(s, '=');
    if (eq == NULL)
        return fail(p, "expected 'key = value' or '[task NAME]', got '%s'", quote(q, s));
    return parse_key_value(p, s, eq);
}

static int parse_text(parser_t *p, const char *text, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        if (p->line == UINT_MAX)
            return fail(p, "too many lines");
        p->line++;
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;
        pos += n + (nl != NULL ? 1 : 0);
        if (n > 0 && start[n - 1] == '\r')
            n--;
        /* A byte order mark some editors write is not part of the text. */
        if (p->line == 1 && n >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) {
            start += 3;
            n -= 3;
        }
        if (parse_line(p, start, n) != 0)
            return -1;
    }
    if (p->line == 0)
        p->line = 1; /* file-level errors of an empty file point at line 1 */

    if (close_task(p) != 0)
        return -1;
    if (p->plan.n_tasks == 0)
        return fail(p, "no tasks (add a [task NAME] section with a request)");
    bool any_weight = false;
    for (size_t i = 0; i < p->plan.n_tasks; i++)
        if (p->plan.tasks[i].weight > 0)
            any_weight = true;
    if (!any_weight)
        return fail(p, "every task has weight 0, so none would ever run");

    /* The statistics rows are known now, so a check on an endpoint the plan
     * does not have is found before any load, not after the run. */
    plan_index_endpoints(&p->plan);
    for (size_t i = 0; i < p->plan.n_checks; i++) {
        check_t c;
        char problem[ERR_MSG_SIZE];
        if (check_parse(p->plan.checks[i], &c, problem, sizeof problem) != 0)
            return fail_at(p, p->check_lines[i], "%s", problem); /* not reached: checked as read */
        int rc = check_endpoint_known(&c, p->plan.endpoint_methods, p->plan.endpoint_names,
                                      p->plan.n_endpoints, problem, sizeof problem);
        check_free(&c);
        if (rc != 0)
            return fail_at(p, p->check_lines[i], "%s", problem);
    }
    return 0;
}

int hopperfile_parse(const char *path, const char *text, size_t len, plan_t *plan, char *err,
                     size_t errlen)
{
    parser_t p;
    memset(&p, 0, sizeof p);
    p.path = path != NULL ? path : "(hopperfile)";
    p.err = err;
    p.errlen = errlen;
    plan_init(&p.plan);
    p.plan.path = xstrdup(p.path);
    p.line_buf = xmalloc(LINE_MAX_BYTES + 1);

    int rc = parse_text(&p, text != NULL ? text : "", text != NULL ? len : 0);
    free(p.line_buf);
    free(p.check_lines);
    if (rc != 0) {
        plan_free(&p.plan);
        plan_init(plan);
        return -1;
    }
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    /* Trim the spare capacity so the plan owns exactly what it says. */
    p.plan.tasks = xrealloc(p.plan.tasks, p.plan.n_tasks * sizeof *p.plan.tasks);
    plan_index_endpoints(&p.plan);   /* again: the tasks moved */
    *plan = p.plan;
    return 0;
}

int hopperfile_load(const char *path, plan_t *plan, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    /* The plan itself may come from a pipe ("-f /dev/stdin", "-f <(...)"):
     * the person running hopper is its writer. */
    if (read_whole_file(path, FILE_MAX_BYTES, false, NULL, &text, &len) != 0) {
        if (err != NULL && errlen > 0) {
            if (errno == EFBIG)
                snprintf(err, errlen, "%s: cannot read: larger than %d MiB", path,
                         FILE_MAX_BYTES / (1024 * 1024));
            else
                snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        }
        plan_init(plan);
        return -1;
    }
    int rc = hopperfile_parse(path, text, len, plan, err, errlen);
    free(text);
    return rc;
}

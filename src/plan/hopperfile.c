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
#include "plan/stages.h"
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
    KEY_EXPECT_JSON,
    KEY_EXPECT_HEADER,
    KEY_EXTRACT,
    KEY_THINK,
    KEY_ON_FAIL,
    KEY_CHECK,
    KEY_VAR,
    KEY_PROTOCOL,
    KEY_FILE,
    KEY_ORDER,
    KEY_PER,
    KEY_MODEL,
    KEY_ARRIVAL_RATE,
    KEY_STAGES,
    KEY_MAX_USERS,
    KEY_ARRIVALS,
    KEY_COUNT
} key_id_t;

/* Where a key may stand: at the top, in a [task] before or among its steps
 * (weight), in a step (after a `request =` line), in a [data] section. */
enum { AT_TOP = 1, IN_TASK = 2, IN_STEP = 4, IN_DATA = 8 };

typedef struct {
    const char *name;
    key_id_t id;
    unsigned where;
    bool repeatable;
} key_def_t;

static const key_def_t key_defs[] = {
    { "host", KEY_HOST, AT_TOP, false },
    { "users", KEY_USERS, AT_TOP, false },
    { "spawn-rate", KEY_SPAWN_RATE, AT_TOP, false },
    { "hatch-rate", KEY_SPAWN_RATE, AT_TOP, false }, /* Locust's old name */
    { "run-time", KEY_RUN_TIME, AT_TOP, false },
    { "wait", KEY_WAIT, AT_TOP, false },
    { "timeout", KEY_TIMEOUT, AT_TOP | IN_STEP, false },
    { "header", KEY_HEADER, AT_TOP | IN_STEP, true },
    { "weight", KEY_WEIGHT, IN_TASK, false },
    { "request", KEY_REQUEST, IN_TASK | IN_STEP, true },
    { "body", KEY_BODY, IN_STEP, false },
    { "body-file", KEY_BODY_FILE, IN_STEP, false },
    { "name", KEY_NAME, IN_STEP, false },
    { "expect-status", KEY_EXPECT_STATUS, IN_STEP, false },
    { "expect-body", KEY_EXPECT_BODY, IN_STEP, false },
    { "expect-json", KEY_EXPECT_JSON, IN_STEP, true },
    { "expect-header", KEY_EXPECT_HEADER, IN_STEP, true },
    { "extract", KEY_EXTRACT, IN_STEP, true },
    { "think", KEY_THINK, IN_STEP, false },
    { "on-fail", KEY_ON_FAIL, IN_STEP, false },
    { "check", KEY_CHECK, AT_TOP, true },
    { "var", KEY_VAR, AT_TOP, true },
    { "protocol", KEY_PROTOCOL, AT_TOP, false },
    { "file", KEY_FILE, IN_DATA, false },
    { "order", KEY_ORDER, IN_DATA, false },
    { "per", KEY_PER, IN_DATA, false },
    { "model", KEY_MODEL, AT_TOP, false },
    { "arrival-rate", KEY_ARRIVAL_RATE, AT_TOP, false },
    { "stages", KEY_STAGES, AT_TOP, false },
    { "max-users", KEY_MAX_USERS, AT_TOP, false },
    { "arrivals", KEY_ARRIVALS, AT_TOP, false },
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

/* The kind of section being read. */
typedef enum { SEC_TOP, SEC_TASK, SEC_ON_START, SEC_ON_STOP, SEC_DATA } section_t;

/* Where a template lives, so that it can be resolved when the whole file is
 * read (a data section or an extract may come after its first use) and its
 * errors still name its line. Sequences are named by index because the task
 * array moves as it grows. */
enum { SEQ_PLAN = -3, SEQ_ON_STOP = -2, SEQ_ON_START = -1 };
enum { FIELD_TARGET = -1, FIELD_BODY = -2 };
typedef struct {
    long seq;                 /* a task index, or SEQ_* */
    size_t step;
    long field;               /* a header index, or FIELD_* */
    unsigned line;
} tmpl_site_t;

typedef struct {
    const char *path;
    plan_t plan;              /* built here, handed over only on success */
    const plan_var_t *cli_vars; /* --var NAME=VALUE: win over the plan's */
    size_t n_cli_vars;
    bool *cli_used;           /* which --var a template used (an unused one is a warning) */
    size_t tasks_cap;
    section_t sec;
    plan_task_t *seq;         /* the open task, on-start or on-stop; NULL otherwise */
    long seq_id;              /* its index or SEQ_* */
    data_source_t *data;      /* the open [data] section */
    unsigned line;
    key_seen_t top_seen[KEY_COUNT];
    key_seen_t sec_seen[KEY_COUNT];  /* keys of the section itself (weight, file, ...) */
    key_seen_t step_seen[KEY_COUNT];
    char *line_buf;           /* LINE_MAX_BYTES + 1: the current line, editable */
    unsigned *check_lines;    /* the line of each of plan.checks */
    framing_t top_framing;    /* Content-Length and Host at the top level */
    framing_t step_framing;   /* ... and in the open step */
    stages_unit_t stages_unit; /* what plan.stages count, checked against the model at the end */
    tmpl_site_t *sites;       /* every template, for tmpl_resolve at the end */
    size_t n_sites;
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

/* The closest of n words to w within two edits, or NULL. */
static const char *closest(const char *w, const char *const *words, size_t n)
{
    return text_closest(w, strlen(w), words, n);
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
        return fail(p, "header: '%s': hopper cannot switch protocols on a connection "
                       "(leave Upgrade out; 'protocol = http2' speaks HTTP/2)", quote(q, v));
    /* close: the user opens a new connection (and TLS handshake) for every
     * request, to measure what new connections cost. */
    if (header_is(name, name_len, "Connection") && strcasecmp(value, "keep-alive") != 0 &&
        strcasecmp(value, "close") != 0)
        return fail(p, "header: '%s': each user keeps its connection open and reuses it "
                       "('Connection: keep-alive'), or opens a new one for every request "
                       "('Connection: close'); nothing else can be set", quote(q, v));
    if ((header_is(name, name_len, "Content-Length") || header_is(name, name_len, "Host")) &&
        strstr(value, "{{") != NULL)
        return fail(p, "header: '%s': %.*s cannot be a template (hopper sets it from the %s)",
                    quote(q, v), (int)name_len, name,
                    header_is(name, name_len, "Host") ? "host" : "body");
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

static int parse_request(parser_t *p, plan_step_t *t, const char *v)
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
    /* A target with fields is checked up to its first field here (the
     * origin must be written out: it decides where the connection goes) and
     * percent-encoded as rendered, per request. */
    const char *field = strstr(target, "{{");
    char *fixed = xstrndup(target, field ? (size_t)(field - target) : strlen(target));
    int bad = 0;
    if (field != NULL && fixed[0] != '/' &&
        (!url_is_absolute(fixed) || strchr(strstr(fixed, "//") + 2, '/') == NULL))
        bad = fail(p, "request: '%s': a target with {{fields}} must start with '/' or with "
                      "'http://host/' written out (fields may follow the first '/' of the path)",
                   quote(q2, target));
    else if (url_check_target(field != NULL && fixed[0] == '/' && fixed[1] == '\0' ? "/" : fixed,
                              &why) != 0)
        bad = fail(p, "request: '%s': %s", quote(q2, target), why);
    free(fixed);
    if (bad)
        return -1;
    t->method = xstrndup(v, method_len);
    t->target = xstrdup(target);
    return 0;
}

/* "200-299, 304" into ranges. */
static int parse_expect_status(parser_t *p, plan_step_t *t, const char *v)
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

static int parse_body_file(parser_t *p, plan_step_t *t, const char *v)
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

/* ---- templates ------------------------------------------------------------ */

/* Compiles a template now (its syntax is this line's business) and notes
 * where it is, so that its names are resolved when the whole file is read. */
static int add_template(parser_t *p, const char *key, const char *text, size_t len,
                        tmpl_t *out, long field)
{
    char why[ERR_MSG_SIZE];
    if (tmpl_parse(text, len, out, why, sizeof why) != 0)
        return fail(p, "%s: %s", key, why);
    p->sites = xrealloc(p->sites, (p->n_sites + 1) * sizeof *p->sites);
    p->sites[p->n_sites++] = (tmpl_site_t){
        .seq = p->seq ? p->seq_id : SEQ_PLAN,
        .step = p->seq && p->seq->n_steps ? p->seq->n_steps - 1 : 0,
        .field = field,
        .line = p->line,
    };
    return 0;
}

/* ---- sections and lines ------------------------------------------------------ */

static plan_step_t *current_step(parser_t *p)
{
    return p->seq && p->seq->n_steps ? &p->seq->steps[p->seq->n_steps - 1] : NULL;
}

static const char *seq_label(const parser_t *p, const plan_task_t *t, char *buf, size_t len)
{
    if (t == &p->plan.on_start)
        return "[on-start]";
    if (t == &p->plan.on_stop)
        return "[on-stop]";
    snprintf(buf, len, "task '%s'", t->id);
    return buf;
}

/* Checks the open step is complete and fills its defaults. */
static int close_step(parser_t *p)
{
    plan_step_t *t = current_step(p);
    if (t == NULL)
        return 0;
    char label[160];
    seq_label(p, p->seq, label, sizeof label);
    /* On-start and on-stop rows stand apart from the tasks' rows, even for
     * the same request or name. */
    const char *prefix = p->seq == &p->plan.on_start ? "[on-start] "
                       : p->seq == &p->plan.on_stop  ? "[on-stop] " : "";
    const char *base = t->name ? t->name : t->target;
    size_t n = strlen(prefix) + strlen(base) + 1;
    char *name = xmalloc(n);
    snprintf(name, n, "%s%s", prefix, base);
    free(t->name);
    t->name = name;
    /* A Content-Length is sent as written, so it must be the length of the
     * body that goes out (none for HEAD): any other desynchronises the
     * connection. The top level's applies to every step. */
    const framing_t *f = p->step_framing.length_line ? &p->step_framing : &p->top_framing;
    size_t sent = strcmp(t->method, "HEAD") == 0 ? 0 : t->body_len;
    bool fields = false;
    for (size_t i = 0; i < t->body_t.n; i++)
        fields |= t->body_t.pieces[i].kind != TP_LIT;
    if (f->length_line != 0 && (fields || f->length != sent))
        return fail_at(p, f->length_line,
                       "header: 'Content-Length: %llu' does not match the %zu-byte body that "
                       "%s sends at line %u (hopper sets Content-Length itself: leave it out)",
                       (unsigned long long)f->length, sent, label, t->line);
    return 0;
}

/* Closes the open section: its last step, and what the section must have. */
static int close_section(parser_t *p)
{
    if (close_step(p) != 0)
        return -1;
    if (p->seq != NULL && p->seq->n_steps == 0) {
        char label[160];
        return fail_at(p, p->seq->line, "%s has no request (add e.g. 'request = GET /')",
                       seq_label(p, p->seq, label, sizeof label));
    }
    if (p->sec == SEC_DATA) {
        data_source_t *d = p->data;
        if (p->sec_seen[KEY_FILE].line == 0)
            return fail_at(p, d->line, "data '%s' has no file (add 'file = NAME.csv')", d->name);
        char why[ERR_MSG_SIZE];
        char *path = d->path;
        d->path = NULL;
        int rc = data_load(d, path, why, sizeof why);
        free(path);
        if (rc != 0) {
            /* The message names the data file's own line when the problem is
             * inside it; the hopperfile's line says which section read it. */
            return fail_at(p, p->sec_seen[KEY_FILE].line, "data '%s': %s", d->name, why);
        }
    }
    p->seq = NULL;
    p->data = NULL;
    p->sec = SEC_TOP;
    return 0;
}

static bool is_task_name_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == '.';
}

static int check_section_name(parser_t *p, const char *what, const char *name)
{
    char q[QUOTE_SIZE];
    if (*name == '\0')
        return fail(p, "the %s name is missing (write '[%s NAME]')", what, what);
    for (const char *c = name; *c != '\0'; c++)
        if (!is_task_name_char(*c))
            return fail(p, "%s name '%s' may only contain letters, digits, '-', '_' and '.'",
                        what, quote(q, name));
    return 0;
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
    section_t sec;
    if (strcmp(inner, "task") == 0)
        sec = SEC_TASK;
    else if (strcmp(inner, "data") == 0)
        sec = SEC_DATA;
    else if (strcmp(inner, "on-start") == 0)
        sec = SEC_ON_START;
    else if (strcmp(inner, "on-stop") == 0)
        sec = SEC_ON_STOP;
    else
        return fail(p, "unknown section type '%s' (sections are [task NAME], [data NAME], "
                       "[on-start] and [on-stop])", quote(q, inner));
    if ((sec == SEC_ON_START || sec == SEC_ON_STOP) && *name != '\0')
        return fail(p, "[%s] takes no name", inner);
    if ((sec == SEC_TASK || sec == SEC_DATA) && check_section_name(p, inner, name) != 0)
        return -1;
    if (sec == SEC_DATA && strchr(name, '.') != NULL)
        return fail(p, "data name '%s' may not contain '.' (its columns are written "
                       "{{%s.COLUMN}})", quote(q, name), quote(q, name));
    if (sec == SEC_DATA && (!strcmp(name, "user") || !strcmp(name, "rand") || !strcmp(name, "env")))
        return fail(p, "data name '%s' is taken by the built-ins ({{%s.*}}); choose another",
                    name, name);

    if (close_section(p) != 0)
        return -1;
    memset(p->sec_seen, 0, sizeof p->sec_seen);
    memset(p->step_seen, 0, sizeof p->step_seen);
    memset(&p->step_framing, 0, sizeof p->step_framing);
    p->sec = sec;
    if (sec == SEC_DATA) {
        for (size_t i = 0; i < p->plan.n_data; i++)
            if (strcmp(p->plan.data[i].name, name) == 0)
                return fail(p, "data '%s' is defined twice (first at line %u)", name,
                            p->plan.data[i].line);
        p->plan.data = xrealloc(p->plan.data, (p->plan.n_data + 1) * sizeof *p->plan.data);
        p->data = &p->plan.data[p->plan.n_data++];
        memset(p->data, 0, sizeof *p->data);
        p->data->name = xstrdup(name);
        p->data->line = p->line;
        p->data->order = DATA_SEQUENTIAL;
        p->data->per = DATA_PER_USER;
        return 0;
    }
    if (sec != SEC_TASK) {
        plan_task_t *t = sec == SEC_ON_START ? &p->plan.on_start : &p->plan.on_stop;
        if (t->id != NULL)
            return fail(p, "[%s] is defined twice (first at line %u)", inner, t->line);
        t->id = xstrdup(inner);
        t->line = p->line;
        p->seq = t;
        p->seq_id = sec == SEC_ON_START ? SEQ_ON_START : SEQ_ON_STOP;
        return 0;
    }
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
    p->seq = t;
    p->seq_id = (long)p->plan.n_tasks - 1;
    return 0;
}

/* var = NAME VALUE: the value is the rest of the line. */
static int parse_var(parser_t *p, const char *v)
{
    char q[QUOTE_SIZE];
    size_t n = strcspn(v, " \t");
    const char *value = v + n;
    while (is_blank(*value))
        value++;
    if (v[n] == '\0' || *value == '\0')
        return fail(p, "var: '%s': expected 'NAME VALUE', e.g. 'var = api_key abc123'",
                    quote(q, v));
    char *name = xstrndup(v, n);
    for (size_t i = 0; i < n; i++)
        if (!is_task_name_char(name[i]) || name[i] == '.' || (i == 0 && is_digit(name[i]))) {
            fail(p, "var: '%s': a name is letters, digits, '-' and '_', not starting with a "
                    "digit", quote(q, name));
            free(name);
            return -1;
        }
    for (size_t i = 0; i < p->plan.n_vars; i++)
        if (strcmp(p->plan.vars[i].name, name) == 0) {
            fail(p, "var: '%s' is set twice (first at line %u)", name, p->plan.vars[i].line);
            free(name);
            return -1;
        }
    p->plan.vars = xrealloc(p->plan.vars, (p->plan.n_vars + 1) * sizeof *p->plan.vars);
    p->plan.vars[p->plan.n_vars++] = (plan_var_t){ name, xstrdup(value), p->line };
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
    case KEY_PROTOCOL:
        if (strcmp(v, "http2") == 0 || strcmp(v, "h2") == 0)
            plan->http2 = true;
        else if (strcmp(v, "http/1.1") == 0 || strcmp(v, "http1") == 0)
            plan->http2 = false;
        else
            return fail(p, "protocol: '%s': use http/1.1 (the default) or http2", quote(q, v));
        return 0;
    case KEY_SPAWN_RATE:
        if (value_rate(p, key, v, HOPPER_MAX_SPAWN_RATE, &plan->spawn_rate) != 0)
            return -1;
        if (plan->spawn_rate < HOPPER_MIN_SPAWN_RATE)
            return fail(p, "%s: '%s': too small (the least is %g users per second)", key,
                        quote(q, v), HOPPER_MIN_SPAWN_RATE);
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
        plan->header_t = xrealloc(plan->header_t, (plan->n_headers + 1) * sizeof *plan->header_t);
        memset(&plan->header_t[plan->n_headers], 0, sizeof *plan->header_t);
        size_t at = plan->n_headers;
        push_string(&plan->headers, &plan->n_headers, h);
        const char *value = strchr(h, ':') + 2;
        return add_template(p, key, value, strlen(value), &plan->header_t[at], (long)at);
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
    case KEY_VAR:
        return parse_var(p, v);
    case KEY_MODEL:
        /* Which keys belong to which model is checked when the whole top
         * is known (check_shape): the order of the lines must not matter. */
        if (strcmp(v, "closed") == 0)
            plan->model = MODEL_CLOSED;
        else if (strcmp(v, "open") == 0)
            plan->model = MODEL_OPEN;
        else
            return fail(p, "model: '%s': use closed (the default: users that each wait for "
                           "their answer) or open (arrivals at a rate)", quote(q, v));
        plan->model_set = true;
        plan->model_line = p->line;
        return 0;
    case KEY_ARRIVAL_RATE: {
        char problem[ERR_MSG_SIZE];
        if (stages_parse_rate(v, &plan->arrival_rate, problem, sizeof problem) != 0)
            return fail(p, "arrival-rate: %s", problem);
        plan->arrival_rate_set = true;
        return 0;
    }
    case KEY_STAGES: {
        char problem[ERR_MSG_SIZE];
        if (stages_parse(v, &plan->stages, &plan->n_stages, &p->stages_unit, problem,
                         sizeof problem) != 0)
            return fail(p, "stages: %s", problem);
        return 0;
    }
    case KEY_MAX_USERS:
        if (value_whole(p, key, v, 1, HOPPER_MAX_USERS,
                        "too many users (the limit is " HOPPER_STR(HOPPER_MAX_USERS_N) ")",
                        &plan->max_users) != 0)
            return -1;
        plan->max_users_set = true;
        return 0;
    case KEY_ARRIVALS:
        if (strcmp(v, "even") == 0)
            plan->arrivals = ARRIVALS_EVEN;
        else if (strcmp(v, "poisson") == 0)
            plan->arrivals = ARRIVALS_POISSON;
        else
            return fail(p, "arrivals: '%s': use even (the default: 1/rate apart) or poisson",
                        quote(q, v));
        plan->arrivals_set = true;
        return 0;
    default:
        return fail(p, "'%s' cannot be used here", key); /* not reached: see key_defs */
    }
}

/* A new step: `request =` in a task, on-start or on-stop. */
static int start_step(parser_t *p, const char *key, const char *v)
{
    if (close_step(p) != 0)
        return -1;
    plan_task_t *t = p->seq;
    t->steps = xrealloc(t->steps, (t->n_steps + 1) * sizeof *t->steps);
    plan_step_t *st = &t->steps[t->n_steps++];
    memset(st, 0, sizeof *st);
    st->line = p->line;
    memset(p->step_seen, 0, sizeof p->step_seen);
    memset(&p->step_framing, 0, sizeof p->step_framing);
    if (parse_request(p, st, v) != 0)
        return -1;
    return add_template(p, key, st->target, strlen(st->target), &st->target_t, FIELD_TARGET);
}

static int parse_think(parser_t *p, plan_step_t *t, const char *v)
{
    char q[QUOTE_SIZE];
    char *copy = xstrdup(v);
    char *w[3];
    size_t n = split_words(copy, w, 3);
    uint64_t a = 0, b = 0;
    const char *why = NULL;
    int rc = 0;
    if (n < 1 || n > 2)
        rc = fail(p, "think: '%s': expected a duration or two ('think = 1s', "
                     "'think = 500ms 1s')", quote(q, v));
    else if (duration_parse(w[0], &a, &why) != 0 || (n == 2 && duration_parse(w[1], &b, &why) != 0))
        rc = fail(p, "think: '%s': %s", quote(q, v), why);
    else if (n == 2 && a > b)
        rc = fail(p, "think: '%s': the first bound is larger than the second", quote(q, v));
    free(copy);
    if (rc != 0)
        return -1;
    t->think = n == 2 ? (wait_spec_t){ .kind = WAIT_BETWEEN, .a_us = a, .b_us = b }
                      : (wait_spec_t){ .kind = WAIT_CONSTANT, .a_us = a };
    t->has_think = true;
    return 0;
}

static int set_step_key(parser_t *p, key_id_t id, const char *key, const char *v)
{
    plan_step_t *t = current_step(p);
    char q[QUOTE_SIZE], why[ERR_MSG_SIZE];
    switch (id) {
    case KEY_HEADER: {
        char *h = NULL;
        if (parse_header(p, v, &h, &p->step_framing, &p->top_framing) != 0)
            return -1;
        t->header_t = xrealloc(t->header_t, (t->n_headers + 1) * sizeof *t->header_t);
        memset(&t->header_t[t->n_headers], 0, sizeof *t->header_t);
        size_t at = t->n_headers;
        push_string(&t->headers, &t->n_headers, h);
        const char *value = strchr(h, ':') + 2;
        return add_template(p, key, value, strlen(value), &t->header_t[at], (long)at);
    }
    case KEY_BODY:
    case KEY_BODY_FILE: {
        key_id_t other = id == KEY_BODY ? KEY_BODY_FILE : KEY_BODY;
        if (p->step_seen[other].line != 0)
            return fail(p, "%s: this request already has %s (line %u); use one or the other", key,
                        other == KEY_BODY ? "a body" : "a body-file", p->step_seen[other].line);
        if (id == KEY_BODY_FILE) {
            if (parse_body_file(p, t, v) != 0)
                return -1;
        } else {
            t->body = xstrdup(v);
            t->body_len = strlen(v);
        }
        return add_template(p, key, t->body, t->body_len, &t->body_t, FIELD_BODY);
    }
    case KEY_NAME:
        t->name = xstrdup(v);
        return 0;
    case KEY_EXPECT_STATUS:
        return parse_expect_status(p, t, v);
    case KEY_EXPECT_BODY:
        t->expect_body = xstrdup(v);
        return 0;
    case KEY_EXPECT_JSON:
    case KEY_EXPECT_HEADER: {
        expect_t x;
        if (expect_parse(v, id == KEY_EXPECT_JSON, &x, why, sizeof why) != 0)
            return fail(p, "%s: '%s': %s", key, quote(q, v), why);
        x.line = p->line;
        t->expects = xrealloc(t->expects, (t->n_expects + 1) * sizeof *t->expects);
        t->expects[t->n_expects++] = x;
        return 0;
    }
    case KEY_EXTRACT: {
        extract_t e;
        if (extract_parse(v, &e, why, sizeof why) != 0)
            return fail(p, "extract: '%s': %s", quote(q, v), why);
        e.line = p->line;
        t->extracts = xrealloc(t->extracts, (t->n_extracts + 1) * sizeof *t->extracts);
        t->extracts[t->n_extracts++] = e;
        return 0;
    }
    case KEY_THINK:
        return parse_think(p, t, v);
    case KEY_ON_FAIL:
        if (strcmp(v, "continue") == 0)
            t->on_fail_continue = true;
        else if (strcmp(v, "stop") != 0)
            return fail(p, "on-fail: '%s': use 'continue' (go on with the next step) or 'stop' "
                           "(end the iteration, the default)", quote(q, v));
        return 0;
    case KEY_TIMEOUT:
        return value_duration(p, key, v, true, "", &t->timeout_us);
    default:
        return fail(p, "'%s' cannot be used here", key); /* not reached: see key_defs */
    }
}

static int set_data_key(parser_t *p, key_id_t id, const char *key, const char *v)
{
    char q[QUOTE_SIZE];
    data_source_t *d = p->data;
    switch (id) {
    case KEY_FILE:
        d->path = beside_hopperfile(p->path, v);
        return 0;
    case KEY_ORDER:
        if (strcmp(v, "sequential") == 0)
            d->order = DATA_SEQUENTIAL;
        else if (strcmp(v, "random") == 0)
            d->order = DATA_RANDOM;
        else if (strcmp(v, "shuffle") == 0)
            d->order = DATA_SHUFFLE;
        else if (strcmp(v, "unique") == 0)
            d->order = DATA_UNIQUE;
        else
            return fail(p, "order: '%s': use sequential, random, shuffle or unique", quote(q, v));
        return 0;
    case KEY_PER:
        if (strcmp(v, "user") == 0)
            d->per = DATA_PER_USER;
        else if (strcmp(v, "iteration") == 0)
            d->per = DATA_PER_ITERATION;
        else
            return fail(p, "per: '%s': use user (one row for the user's life) or iteration "
                           "(a new row each iteration)", quote(q, v));
        return 0;
    default:
        return fail(p, "'%s' cannot be used here", key); /* not reached: see key_defs */
    }
    (void)key;
}

static int set_task_key(parser_t *p, key_id_t id, const char *key, const char *v)
{
    uint64_t n = 0;
    if (id == KEY_REQUEST)
        return start_step(p, key, v);
    if (id == KEY_WEIGHT) {
        if (value_whole(p, key, v, 0, WEIGHT_MAX, "too large (the limit is 1000000)", &n) != 0)
            return -1;
        p->seq->weight = (unsigned)n;
        return 0;
    }
    return set_step_key(p, id, key, v);
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

    bool in_step = current_step(p) != NULL;
    unsigned here = p->sec == SEC_TOP ? AT_TOP : p->sec == SEC_DATA ? IN_DATA
                  : in_step ? (IN_STEP | (p->sec == SEC_TASK ? IN_TASK : 0))
                  : p->sec == SEC_TASK ? IN_TASK : 0;
    if (def->id == KEY_REQUEST && p->seq != NULL)
        here |= IN_TASK; /* on-start and on-stop are sequences of requests too */
    if (!(def->where & here)) {
        if (p->seq != NULL && !in_step && (def->where & IN_STEP))
            return fail(p, "'%s' belongs to a request: put it after a 'request =' line (each "
                           "request starts a step, and the keys after it are that step's)", key);
        if (here == AT_TOP && (def->where & (IN_TASK | IN_STEP)))
            return fail(p, "'%s' is a task key: put it in a [task NAME] section", key);
        if (here == AT_TOP)
            return fail(p, "'%s' belongs in a [data NAME] section", key);
        if (def->where & AT_TOP)
            return fail(p, "'%s' is a top-level key: put it before the first section", key);
        if (def->where & IN_DATA)
            return fail(p, "'%s' belongs in a [data NAME] section", key);
        if (p->sec == SEC_DATA)
            return fail(p, "'%s' cannot be used in a [data] section (its keys are file, order "
                           "and per)", key);
        if (def->id == KEY_WEIGHT)
            return fail(p, "'weight' belongs to a [task NAME] section: on-start and on-stop "
                           "always run");
        return fail(p, "'%s' belongs to a request: put it after a 'request =' line (each "
                       "request starts a step, and the keys after it are that step's)", key);
    }
    if (*value == '\0')
        return fail(p, "%s: the value is missing", key);

    key_seen_t *seen = p->sec == SEC_TOP ? &p->top_seen[def->id]
                     : (def->where & IN_STEP) && in_step && def->id != KEY_REQUEST
                         ? &p->step_seen[def->id]
                         : &p->sec_seen[def->id];
    if (seen->line != 0 && !def->repeatable) {
        const char *what = seen == &p->step_seen[def->id] ? " in this request" : "";
        if (strcmp(seen->spelling, key) != 0)
            return fail(p, "duplicate key '%s'%s (first set at line %u as '%s')", key, what,
                        seen->line, seen->spelling);
        return fail(p, "duplicate key '%s'%s (first set at line %u)", key, what, seen->line);
    }
    int rc;
    if (p->sec == SEC_TOP)
        rc = set_top_key(p, def->id, key, value);
    else if (p->sec == SEC_DATA)
        rc = set_data_key(p, def->id, key, value);
    else
        rc = set_task_key(p, def->id, key, value);
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

/* ---- the whole plan: names, flow, data ------------------------------------- */


/* Every variable an extract sets becomes a per-user slot. */
static bool is_builtin(const char *name)
{
    return tmpl_is_builtin(name);
}

static int collect_user_vars(parser_t *p)
{
    plan_t *plan = &p->plan;
    for (size_t v = 0; v < plan->n_vars; v++)
        if (is_builtin(plan->vars[v].name))
            return fail_at(p, plan->vars[v].line, "var: '%s' is a built-in ({{%s}}); choose "
                                                  "another name", plan->vars[v].name,
                           plan->vars[v].name);
    for (size_t v = 0; v < p->n_cli_vars; v++)
        if (is_builtin(p->cli_vars[v].name))
            return fail_at(p, 1, "--var %s: '%s' is a built-in ({{%s}}); choose another name",
                           p->cli_vars[v].name, p->cli_vars[v].name, p->cli_vars[v].name);
    for (size_t q = 0; q < plan_n_sequences(plan); q++) {
        plan_task_t *t = plan_sequence(plan, q);
        for (size_t k = 0; k < t->n_steps; k++)
            for (size_t e = 0; e < t->steps[k].n_extracts; e++) {
                extract_t *x = &t->steps[k].extracts[e];
                if (is_builtin(x->var) || strncmp(x->var, "env.", 4) == 0 || strchr(x->var, '.'))
                    return fail_at(p, x->line, "extract: '%s' is a built-in name or has a '.'; "
                                               "choose another name", x->var);
                for (size_t v = 0; v < plan->n_vars; v++)
                    if (strcmp(plan->vars[v].name, x->var) == 0)
                        return fail_at(p, x->line, "extract: '%s' is also a var (line %u); a "
                                                   "name is either fixed or extracted", x->var,
                                       plan->vars[v].line);
                for (size_t v = 0; v < p->n_cli_vars; v++)
                    if (strcmp(p->cli_vars[v].name, x->var) == 0)
                        return fail_at(p, x->line, "extract: '%s' is also given with --var; a "
                                                   "name is either fixed or extracted", x->var);
                size_t slot;
                for (slot = 0; slot < plan->n_user_vars; slot++)
                    if (strcmp(plan->user_vars[slot], x->var) == 0)
                        break;
                if (slot == plan->n_user_vars)
                    push_string(&plan->user_vars, &plan->n_user_vars, xstrdup(x->var));
                x->slot = slot;
            }
    }
    return 0;
}

static const char *var_value(parser_t *p, const char *name)
{
    for (size_t i = 0; i < p->n_cli_vars; i++)
        if (strcmp(p->cli_vars[i].name, name) == 0) {
            p->cli_used[i] = true;
            return p->cli_vars[i].value;
        }
    for (size_t i = 0; i < p->plan.n_vars; i++)
        if (strcmp(p->plan.vars[i].name, name) == 0)
            return p->plan.vars[i].value;
    return NULL;
}

/* tmpl_lookup_cb: a name in a template, in the order the man page gives:
 * env.NAME, DATA.COLUMN, a var (--var first), a per-user variable. */
static int lookup_name(void *arg, const char *name, tpiece_t *piece, char *why, size_t whylen)
{
    parser_t *p = arg;
    plan_t *plan = &p->plan;
    if (strncmp(name, "env.", 4) == 0) {
        const char *v = getenv(name + 4);
        if (v == NULL) {
            snprintf(why, whylen, "{{%s}}: the environment variable %s is not set", name,
                     name + 4);
            return -1;
        }
        piece->kind = TP_LIT;
        piece->lit = xstrdup(v);
        piece->lit_len = strlen(v);
        return 0;
    }
    const char *dot = strchr(name, '.');
    if (dot != NULL) {
        size_t n = (size_t)(dot - name);
        for (size_t d = 0; d < plan->n_data; d++) {
            data_source_t *src = &plan->data[d];
            if (strlen(src->name) != n || strncmp(src->name, name, n) != 0)
                continue;
            long col = data_column(src, dot + 1);
            if (col < 0) {
                char cols[256] = "";
                for (size_t c = 0; c < src->n_columns; c++) {
                    size_t used = strlen(cols);
                    snprintf(cols + used, sizeof cols - used, "%s%s", c ? ", " : "",
                             src->columns[c]);
                }
                snprintf(why, whylen, "{{%s}}: data '%s' (line %u) has no column '%s' (its "
                         "columns: %s)", name, src->name, src->line, dot + 1, cols);
                return -1;
            }
            piece->kind = TP_DATA;
            piece->slot = d;
            piece->column = (size_t)col;
            return 0;
        }
        snprintf(why, whylen, "{{%s}}: no [data %.*s] section, no built-in of that name", name,
                 (int)n, name);
        return -1;
    }
    const char *v = var_value(p, name);
    if (v != NULL) {
        piece->kind = TP_LIT;
        piece->lit = xstrdup(v);
        piece->lit_len = strlen(v);
        return 0;
    }
    for (size_t i = 0; i < plan->n_user_vars; i++)
        if (strcmp(plan->user_vars[i], name) == 0) {
            piece->kind = TP_VAR;
            piece->slot = i;
            return 0;
        }
    /* Unknown: suggest the nearest name that would have worked. */
    size_t n_builtins = 0;
    const char *const *builtins = tmpl_builtins(&n_builtins);
    size_t n_words = n_builtins + plan->n_vars + p->n_cli_vars + plan->n_user_vars;
    const char **words = xcalloc(n_words + 1, sizeof *words);
    size_t w = 0;
    for (size_t i = 0; i < n_builtins; i++)
        words[w++] = builtins[i];
    for (size_t i = 0; i < plan->n_vars; i++)
        words[w++] = plan->vars[i].name;
    for (size_t i = 0; i < p->n_cli_vars; i++)
        words[w++] = p->cli_vars[i].name;
    for (size_t i = 0; i < plan->n_user_vars; i++)
        words[w++] = plan->user_vars[i];
    const char *guess = closest(name, words, w);
    if (guess != NULL)
        snprintf(why, whylen, "{{%s}}: unknown variable (did you mean '%s'?)", name, guess);
    else
        snprintf(why, whylen, "{{%s}}: unknown variable (not a built-in, a var, --var, env.NAME, "
                 "a data column or a variable set by an extract)", name);
    free(words);
    return -1;
}

static plan_task_t *site_seq(parser_t *p, long seq)
{
    if (seq == SEQ_ON_START)
        return &p->plan.on_start;
    if (seq == SEQ_ON_STOP)
        return &p->plan.on_stop;
    return &p->plan.tasks[seq];
}

static tmpl_t *site_tmpl(parser_t *p, const tmpl_site_t *s)
{
    if (s->seq == SEQ_PLAN)
        return &p->plan.header_t[s->field];
    plan_step_t *st = &site_seq(p, s->seq)->steps[s->step];
    if (s->field == FIELD_TARGET)
        return &st->target_t;
    if (s->field == FIELD_BODY)
        return &st->body_t;
    return &st->header_t[s->field];
}

/* A template left with literal text only (its fields were vars, --var or
 * env.NAME, or it had a "\{{" escape): the request's text becomes that
 * text, so the prepared request sends what the template says. */
static int settle_literal(parser_t *p, const tmpl_site_t *s, const tmpl_t *t)
{
    char q[QUOTE_SIZE];
    const char *lit = t->n ? t->pieces[0].lit : "";
    size_t len = t->n ? t->pieces[0].lit_len : 0;
    if (s->seq == SEQ_PLAN || s->field >= 0) {
        char **h = s->seq == SEQ_PLAN ? &p->plan.headers[s->field]
                                      : &site_seq(p, s->seq)->steps[s->step].headers[s->field];
        size_t name_len = strcspn(*h, ":");
        if (strlen(*h) == name_len + 2 + len && memcmp(*h + name_len + 2, lit, len) == 0)
            return 0;
        if (len == 0)
            return fail_at(p, s->line, "header: the value of '%.*s' would be empty",
                           (int)name_len, *h);
        for (size_t i = 0; i < len; i++)
            if (((unsigned char)lit[i] < 0x20 && lit[i] != '\t') || lit[i] == 0x7f)
                return fail_at(p, s->line, "header: the value of '%.*s' would carry a control "
                                           "character", (int)name_len, *h);
        char *nh = xmalloc(name_len + 2 + len + 1);
        memcpy(nh, *h, name_len + 2);
        memcpy(nh + name_len + 2, lit, len);
        nh[name_len + 2 + len] = '\0';
        free(*h);
        *h = nh;
        return 0;
    }
    plan_step_t *st = &site_seq(p, s->seq)->steps[s->step];
    if (s->field == FIELD_BODY) {
        if (st->body_len == len && memcmp(st->body, lit, len) == 0)
            return 0;
        free(st->body);
        st->body = xmalloc(len + 1);
        memcpy(st->body, lit, len);
        st->body[len] = '\0';
        st->body_len = len;
        return 0;
    }
    if (strlen(st->target) == len && memcmp(st->target, lit, len) == 0)
        return 0;
    const char *why = NULL;
    /* The written fragment is gone (drop_fragment): a '#' left came from a
     * value and is sent as %23. */
    size_t hashes = 0;
    for (size_t i = 0; i < len; i++)
        hashes += lit[i] == '#';
    char *target = xmalloc(len + 2 * hashes + 1), *o = target;
    for (size_t i = 0; i < len; i++) {
        if (lit[i] == '#') {
            memcpy(o, "%23", 3);
            o += 3;
        } else {
            *o++ = lit[i];
        }
    }
    *o = '\0';
    if (memchr(lit, '\0', len) != NULL || url_check_target(target, &why) != 0) {
        fail_at(p, s->line, "request: '%s': %s", quote(q, target),
                why ? why : "the target would carry a NUL byte");
        free(target);
        return -1;
    }
    free(st->target);
    st->target = target;
    return 0;
}

/* A '#' written in a templated target starts its fragment, which stays on
 * the client: it and everything after it (fields included) go now, so that
 * a '#' rendered from a value is one of its characters (sent as %23). */
static void drop_fragment(tmpl_t *t)
{
    bool fields = false;
    for (size_t i = 0; i < t->n; i++)
        fields |= t->pieces[i].kind != TP_LIT;
    if (fields)             /* a target without fields keeps its text as written */
        tmpl_cut(t, '#');
}

static int resolve_templates(parser_t *p)
{
    char why[ERR_MSG_SIZE];
    for (size_t i = 0; i < p->n_sites; i++) {
        const tmpl_site_t *s = &p->sites[i];
        tmpl_t *t = site_tmpl(p, s);
        /* The fragment written in a target goes before names are resolved,
         * so that a '#' a value brings is one of its characters. */
        if (s->field == FIELD_TARGET && s->seq != SEQ_PLAN)
            drop_fragment(t);
        if (tmpl_resolve(t, lookup_name, p, why, sizeof why) != 0)
            return fail_at(p, s->line, "%s", why);
        if (!t->dynamic && settle_literal(p, s, t) != 0)
            return -1;
    }
    return 0;
}

/* Where a per-user variable is set, for messages: the first extract of it. */
static const char *var_setter(const plan_t *plan, size_t slot, char *buf, size_t len)
{
    for (size_t q = 0; q < plan_n_sequences(plan); q++) {
        const plan_task_t *t = plan_sequence(plan, q);
        for (size_t k = 0; k < t->n_steps; k++)
            for (size_t e = 0; e < t->steps[k].n_extracts; e++)
                if (t->steps[k].extracts[e].slot == slot) {
                    if (t == &plan->on_start || t == &plan->on_stop)
                        snprintf(buf, len, "[%s] (line %u)", t->id, t->steps[k].extracts[e].line);
                    else
                        snprintf(buf, len, "task '%s' (line %u)", t->id,
                                 t->steps[k].extracts[e].line);
                    return buf;
                }
    }
    return "nowhere";
}

static bool sets_in(const plan_task_t *t, size_t slot)
{
    for (size_t k = 0; k < t->n_steps; k++)
        for (size_t e = 0; e < t->steps[k].n_extracts; e++)
            if (t->steps[k].extracts[e].slot == slot)
                return true;
    return false;
}

static bool only_on_stop_sets(const plan_t *plan, size_t slot)
{
    for (size_t q = 0; q + 1 < plan_n_sequences(plan); q++) {
        const plan_task_t *t = plan_sequence(plan, q);
        for (size_t k = 0; k < t->n_steps; k++)
            for (size_t e = 0; e < t->steps[k].n_extracts; e++)
                if (t->steps[k].extracts[e].slot == slot)
                    return false;
    }
    return true;
}

/* Checks each use of a per-user variable in a step against the variables
 * certainly set when it runs. Not certainly set: a warning (another task
 * may set it first: the request then fails as "not sent" until one has),
 * or an error when only [on-stop] ever sets it. */
static int check_uses(parser_t *p, const plan_task_t *t, const plan_step_t *st, const bool *set)
{
    const tmpl_t *ts[2] = { &st->target_t, &st->body_t };
    for (size_t h = 0; h < st->n_headers + 2; h++) {
        const tmpl_t *tm = h < 2 ? ts[h] : &st->header_t[h - 2];
        for (size_t i = 0; i < tm->n; i++) {
            const tpiece_t *pc = &tm->pieces[i];
            if (pc->kind != TP_VAR || set[pc->slot])
                continue;
            char where[200];
            var_setter(&p->plan, pc->slot, where, sizeof where);
            if (only_on_stop_sets(&p->plan, pc->slot) && t != &p->plan.on_stop)
                return fail_at(p, st->line, "{{%s}} is only set in [on-stop] (%s), which runs "
                                            "after this request", pc->name, where);
            if (t == &p->plan.on_start && !sets_in(&p->plan.on_start, pc->slot))
                return fail_at(p, st->line, "{{%s}} is used in [on-start] but set in %s, which "
                                            "runs only after [on-start] has passed", pc->name,
                               where);
            char msg[ERR_MSG_SIZE];
            snprintf(msg, sizeof msg, "%s:%u: warning: {{%s}} may not be set yet when this "
                     "request runs (it is set in %s); until it is, the request is not sent and "
                     "counts as failed", p->path, st->line, pc->name, where);
            push_string(&p->plan.warnings, &p->plan.n_warnings, xstrdup(msg));
            break;
        }
    }
    return 0;
}

/* Walks a sequence from the variables set before it; leaves in set those set
 * after it. A step that may fail and go on (on-fail = continue) sets
 * nothing for certain. */
static int walk_sequence(parser_t *p, const plan_task_t *t, bool *set)
{
    for (size_t k = 0; k < t->n_steps; k++) {
        const plan_step_t *st = &t->steps[k];
        if (check_uses(p, t, st, set) != 0)
            return -1;
        if (!st->on_fail_continue)
            for (size_t e = 0; e < st->n_extracts; e++)
                set[st->extracts[e].slot] = true;
    }
    return 0;
}

static int check_flow(parser_t *p)
{
    size_t n = p->plan.n_user_vars ? p->plan.n_user_vars : 1;
    bool *start = xcalloc(n, sizeof *start), *set = xcalloc(n, sizeof *set);
    int rc = walk_sequence(p, &p->plan.on_start, start);
    for (size_t i = 0; rc == 0 && i < p->plan.n_tasks; i++) {
        memcpy(set, start, n * sizeof *set);
        rc = walk_sequence(p, &p->plan.tasks[i], set);
    }
    if (rc == 0) {
        memcpy(set, start, n * sizeof *set);
        rc = walk_sequence(p, &p->plan.on_stop, set);
    }
    free(start);
    free(set);
    return rc;
}

static void warn(parser_t *p, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(parser_t *p, unsigned line, const char *fmt, ...)
{
    char msg[ERR_MSG_SIZE], full[ERR_MSG_SIZE + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s:%u: warning: %s", p->path, line, msg);
    push_string(&p->plan.warnings, &p->plan.n_warnings, xstrdup(full));
}

/* What is legal but almost surely not meant. */
static void check_lint(parser_t *p)
{
    for (size_t i = 0; i < p->plan.n_tasks; i++) {
        const plan_task_t *t = &p->plan.tasks[i];
        const plan_step_t *last = &t->steps[t->n_steps - 1];
        if (last->has_think)
            warn(p, last->line, "the think of task '%s''s last request has no next request "
                 "to wait for (the plan's wait follows the last one)", t->id);
    }
    for (size_t i = 0; i < p->n_cli_vars; i++)
        if (!p->cli_used[i])
            warn(p, 1, "--var %s: no template uses {{%s}}", p->cli_vars[i].name,
                 p->cli_vars[i].name);
}

/* The later of two lines, where a conflict between them shows. */
static unsigned later(unsigned a, unsigned b) { return a > b ? a : b; }

/* The load shape's keys against the model, once the whole top level is
 * known (a model line may come after the keys it rules). Then the stages'
 * consequences: the run time is their sum unless run-time is given, and in
 * the closed model the users are their peak. */
static int check_shape(parser_t *p)
{
    plan_t *plan = &p->plan;
    const key_seen_t *seen = p->top_seen;
    unsigned users = seen[KEY_USERS].line, spawn = seen[KEY_SPAWN_RATE].line;
    unsigned rate = seen[KEY_ARRIVAL_RATE].line, stages = seen[KEY_STAGES].line;
    unsigned max_users = seen[KEY_MAX_USERS].line, arrivals = seen[KEY_ARRIVALS].line;
    bool rate_stages = plan->n_stages > 0 && p->stages_unit == STAGES_RATE;
    bool user_stages = plan->n_stages > 0 && p->stages_unit == STAGES_USERS;

    if (plan->model == MODEL_CLOSED) {
        if (rate)
            return fail_at(p, rate, "arrival-rate belongs to the open model: add 'model = open'");
        if (rate_stages)
            return fail_at(p, stages, "stages: these are arrivals per second, which belong to "
                           "the open model: add 'model = open' (the closed model's stages are "
                           "users, such as 30s:100)");
        if (max_users)
            return fail_at(p, max_users, "max-users belongs to the open model (the bound of its "
                           "pool of users): add 'model = open'");
        if (arrivals)
            return fail_at(p, arrivals, "arrivals belongs to the open model: add 'model = open'");
        if (user_stages && users)
            return fail_at(p, later(users, stages), "users (line %u) and stages (line %u): in "
                           "the closed model the stages set the number of users; leave "
                           "users out", users, stages);
        if (user_stages && spawn)
            return fail_at(p, later(spawn, stages), "%s (line %u) and stages (line %u): in "
                           "the closed model the stages set how fast users start and stop; "
                           "leave %s out", seen[KEY_SPAWN_RATE].spelling, spawn, stages,
                           seen[KEY_SPAWN_RATE].spelling);
    } else {
        if (user_stages)
            return fail_at(p, stages, "stages: these are users, but the open model's stages "
                           "are arrival rates: give each a unit, such as 30s:100/s (or leave "
                           "out 'model = open')");
        if (rate && rate_stages)
            return fail_at(p, later(rate, stages), "arrival-rate (line %u) and stages (line "
                           "%u): give one (stages set the arrival rate over time)", rate, stages);
        if (max_users && plan->users_set && plan->max_users < plan->users)
            return fail_at(p, later(max_users, users), "max-users (%llu, line %u) is below "
                           "users (%llu, line %u): the pool starts with users and grows up to "
                           "max-users", (unsigned long long)plan->max_users, max_users,
                           (unsigned long long)plan->users, users);
        if (plan->wait_set)
            warn(p, seen[KEY_WAIT].line, "wait does not apply in the open model: arrivals "
                 "start the iterations, on their schedule (the steps' think times still "
                 "apply)");
    }
    if (plan->n_stages > 0 && !plan->run_time_set)
        plan->run_time_us = stages_total_us(plan->stages, plan->n_stages);
    if (user_stages) {
        double peak = ceil(stages_peak(plan->stages, plan->n_stages));
        plan->users = peak >= 1 ? (uint64_t)peak : 1;
    }
    return 0;
}

static int check_data_rows(parser_t *p, uint64_t users)
{
    char why[ERR_MSG_SIZE];
    if (plan_check_data(&p->plan, users, why, sizeof why) != 0) {
        if (p->err != NULL && p->errlen > 0)
            snprintf(p->err, p->errlen, "%s", why);
        return -1;
    }
    return 0;
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

    if (close_section(p) != 0)
        return -1;
    if (p->plan.n_tasks == 0)
        return fail(p, "no tasks (add a [task NAME] section with a request)");
    bool any_weight = false;
    for (size_t i = 0; i < p->plan.n_tasks; i++)
        if (p->plan.tasks[i].weight > 0)
            any_weight = true;
    if (!any_weight)
        return fail(p, "every task has weight 0, so none would ever run");
    if (check_shape(p) != 0 || collect_user_vars(p) != 0 || resolve_templates(p) != 0 ||
        check_flow(p) != 0)
        return -1;
    /* The most users that can run at once, each needing its rows: users
     * (the closed model's stages' peak), or in the open model the pool's
     * bound when given (main checks the default it works out). */
    uint64_t most_users = p->plan.users;
    if (p->plan.model == MODEL_OPEN && p->plan.max_users > most_users)
        most_users = p->plan.max_users;
    if (check_data_rows(p, most_users) != 0)
        return -1;
    check_lint(p);
    plan_finish(&p->plan);

    /* The statistics rows are known now, so a check on an endpoint the plan
     * does not have is found before any load, not after the run. */
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

int hopperfile_parse_with(const char *path, const char *text, size_t len, const plan_var_t *vars,
                          size_t n_vars, plan_t *plan, char *err, size_t errlen)
{
    parser_t p;
    memset(&p, 0, sizeof p);
    p.path = path != NULL ? path : "(hopperfile)";
    p.err = err;
    p.errlen = errlen;
    p.cli_vars = vars;
    p.n_cli_vars = n_vars;
    p.cli_used = xcalloc(n_vars ? n_vars : 1, sizeof *p.cli_used);
    plan_init(&p.plan);
    p.plan.path = xstrdup(p.path);
    p.line_buf = xmalloc(LINE_MAX_BYTES + 1);

    int rc = parse_text(&p, text != NULL ? text : "", text != NULL ? len : 0);
    free(p.line_buf);
    free(p.check_lines);
    free(p.sites);
    free(p.cli_used);
    if (rc != 0) {
        plan_free(&p.plan);
        plan_init(plan);
        return -1;
    }
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    /* Trim the spare capacity so the plan owns exactly what it says. */
    p.plan.tasks = xrealloc(p.plan.tasks, p.plan.n_tasks * sizeof *p.plan.tasks);
    plan_finish(&p.plan);   /* again: the tasks moved */
    *plan = p.plan;
    return 0;
}

int hopperfile_parse(const char *path, const char *text, size_t len, plan_t *plan, char *err,
                     size_t errlen)
{
    return hopperfile_parse_with(path, text, len, NULL, 0, plan, err, errlen);
}

int hopperfile_load(const char *path, plan_t *plan, char *err, size_t errlen)
{
    return hopperfile_load_with(path, NULL, 0, plan, err, errlen);
}

int hopperfile_load_with(const char *path, const plan_var_t *vars, size_t n_vars, plan_t *plan,
                         char *err, size_t errlen)
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
    int rc = hopperfile_parse_with(path, text, len, vars, n_vars, plan, err, errlen);
    free(text);
    return rc;
}

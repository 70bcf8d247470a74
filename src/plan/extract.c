/* extract: JSON paths, extracts and expectations (include/plan/extract.h).
 *
 * Everything here is compiled once when the plan is read. Per response, an
 * extract or expectation that reads JSON runs yajl's event parser over the
 * kept body and follows the path as the events stream by: a small stack
 * holds the state of the arrays and objects on the path (at most
 * JPATH_MAX_STEPS), anything off the path only moves a depth counter, and
 * the value at the path is taken from the events themselves (a string's
 * unescaped bytes, a number's text, an array or object written back as
 * compact JSON by yajl_gen). The parse stops once the answer is known: a
 * path of members and indexes ends at its value, `exists` at the first
 * match, == and != without [*] at the one value; a [*] reads to the end.
 * What comes after the value is not read, so a body broken after it is
 * not noticed. [-N] and [last] learn the array's length when it opens from a
 * second, counting parse of that array alone (see count_elements).
 *
 * Nothing is allocated per response once warm: yajl's handle, lexer and
 * buffers come from a per-thread bump arena (parse_arena), reset after each
 * parse, and values are handed back pointing into the body or into the
 * caller's scratch. For a 1 KB body $.items[0].id costs well under 1 us of
 * CPU and a full read (a member at the end) about 4 us, against 27-31 us
 * for the jansson parse this replaced. jansson still reads expect-json's
 * VALUE when the plan is compiled, and an object or array compared with it.
 *
 * Reasons and messages quote what they show through show(): at most
 * SHOW_MAX characters, control bytes and bytes that are not UTF-8 escaped,
 * so that a hostile body cannot write to the terminal or flood a log. */
#include "plan/extract.h"

#include <errno.h>
#include <jansson.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "util/text.h"
#include "util/xalloc.h"

/* A path's steps, at most. A path is written by a person; 64 levels is far
 * beyond any real document and bounds the parse's stack of levels. */
#define JPATH_MAX_STEPS 64

/* How deeply a body may nest arrays and objects. Far beyond real documents;
 * it bounds yajl's own stack, and stays below the depth yajl_gen can write
 * back (YAJL_MAX_DEPTH, 128) so that any value read can be written. */
#define JSON_MAX_DEPTH 100

/* What a message shows of a value, a path or a name, in characters. */
#define SHOW_MAX 60
#define SHOW_SIZE (SHOW_MAX * 4 + 8)

/* ---- messages ------------------------------------------------------------- */

/* n bytes of s for a message, into dst: cut to SHOW_MAX characters with
 * "..." (also when more says s was cut already), control bytes and bytes
 * that are not UTF-8 written as \n, \t, \xHH; with quoted, '"' and '\'
 * escaped too, so that the quotes around it stay unambiguous. */
static const char *show_ex(const char *s, size_t n, bool more, bool quoted, char *dst,
                           size_t dstlen)
{
    size_t o = 0, chars = 0, i = 0;
    if (dstlen == 0)
        return dst;
    while (i < n && chars < SHOW_MAX) {
        size_t seq = text_utf8_len(s + i, n - i);
        char esc[8];
        const char *piece = s + i;
        size_t plen = seq;
        unsigned char c = (unsigned char)s[i];
        if (seq == 0 || text_is_control(s + i, seq)) {
            if (seq == 0)
                seq = 1;
            plen = 2;
            if (c == '\n')
                memcpy(esc, "\\n", 2);
            else if (c == '\r')
                memcpy(esc, "\\r", 2);
            else if (c == '\t')
                memcpy(esc, "\\t", 2);
            else {
                /* A C1 control is two bytes: escape the first, the second
                 * (a continuation byte) follows on the next turn. */
                snprintf(esc, sizeof esc, "\\x%02x", c);
                plen = 4;
                seq = 1;
            }
            piece = esc;
        } else if (quoted && (c == '"' || c == '\\')) {
            esc[0] = '\\';
            esc[1] = (char)c;
            piece = esc;
            plen = 2;
        }
        if (o + plen + 4 > dstlen)
            break;
        memcpy(dst + o, piece, plen);
        o += plen;
        i += seq;
        chars++;
    }
    if ((i < n || more) && o + 4 <= dstlen) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
    return dst;
}

static const char *show(const char *s, size_t n, char *dst, size_t dstlen)
{
    return show_ex(s, n, false, false, dst, dstlen);
}

static const char *show_str(const char *s, char *dst, size_t dstlen)
{
    return show(s, strlen(s), dst, dstlen);
}

/* For a message that puts it inside double quotes. */
static const char *show_quoted(const char *s, size_t n, char *dst, size_t dstlen)
{
    return show_ex(s, n, false, true, dst, dstlen);
}

/* Collects the start of a JSON dump for a message, and stops the dump once
 * there is enough: a failing [*] over a large array costs no allocation. */
typedef struct {
    char buf[SHOW_MAX + 8];
    size_t n;
    bool cut;
} dump_head_t;

static int dump_head(const char *s, size_t n, void *arg)
{
    dump_head_t *h = arg;
    size_t room = sizeof h->buf - h->n;
    if (n > room) {
        memcpy(h->buf + h->n, s, room);
        h->n += room;
        h->cut = true;
        return -1;
    }
    memcpy(h->buf + h->n, s, n);
    h->n += n;
    return 0;
}

/* A JSON value as compact JSON for a message ("true", "\"error\"", "[1,2]"). */
static const char *show_json(const json_t *v, char *dst, size_t dstlen)
{
    dump_head_t h = { .n = 0 };
    if (json_dump_callback(v, dump_head, &h, JSON_COMPACT | JSON_ENCODE_ANY) != 0 && !h.cut)
        return show_str("(a value jansson cannot write)", dst, dstlen);
    return show_ex(h.buf, h.n, h.cut, false, dst, dstlen);
}

/* The length of the character at s (a stray byte counts as one). */
static size_t char_len(const char *s)
{
    size_t n = text_utf8_len(s, strlen(s));
    return n ? n : 1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_blanks(const char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

/* The length of s less trailing blanks. */
static size_t trimmed_len(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    return n;
}

/* ---- JSON paths ------------------------------------------------------------- */

static void jpath_add(jpath_t *p, jstep_kind_t kind, char *member, int64_t index)
{
    p->steps = xrealloc(p->steps, (p->n + 1) * sizeof *p->steps);
    p->steps[p->n++] = (jstep_t){ .kind = kind, .member = member, .index = index };
}

/* A quoted member name at s (s[0] is the quote), unescaped into *out; the
 * position after the closing quote, or NULL with a message. */
static const char *parse_quoted_name(const char *s, char **out, char *err, size_t errlen)
{
    char quote = s[0];
    const char *p = s + 1;
    size_t n = 0;
    char *name = xmalloc(strlen(p) + 1);
    for (;; p++) {
        if (*p == '\0') {
            free(name);
            snprintf(err, errlen, "unclosed '%c' in a member name", quote);
            return NULL;
        }
        if (*p == quote)
            break;
        if (*p == '\\') {
            p++;
            if (*p != '\\' && *p != quote) {
                char c[SHOW_SIZE];
                free(name);
                if (*p == '\0')
                    snprintf(err, errlen, "unclosed '%c' in a member name", quote);
                else
                    snprintf(err, errlen, "unknown escape '\\%s' in a member name (only \\%c "
                             "and \\\\)", show(p, char_len(p), c, sizeof c), quote);
                return NULL;
            }
        }
        name[n++] = *p;
    }
    name[n] = '\0';
    *out = name;
    return p + 1;
}

/* The index in [...] at s: digits with an optional '-'. The position after
 * it, or NULL with a message. */
static const char *parse_index(const char *s, int64_t *out, char *err, size_t errlen)
{
    bool neg = *s == '-';
    const char *p = s + neg;
    if (*p < '0' || *p > '9') {
        snprintf(err, errlen, "expected a number after '-' in [...]");
        return NULL;
    }
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > (uint64_t)INT64_MAX) {
            snprintf(err, errlen, "the index in [...] is too large");
            return NULL;
        }
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return p;
}

/* Parses a path at text up to its end or to the first blank outside
 * brackets; *end is where it stopped. On failure out is left empty. */
static int jpath_parse_prefix(const char *text, const char **end, jpath_t *out, char *err,
                              size_t errlen)
{
    char q[SHOW_SIZE];
    memset(out, 0, sizeof *out);
    if (text[0] != '$') {
        if (text[0] == '\0')
            snprintf(err, errlen, "the path is empty (write e.g. $.token)");
        else if (text[0] == '.' || text[0] == '[')
            snprintf(err, errlen, "expected '$' at the start (write $%s)",
                     show_str(text, q, sizeof q));
        else
            snprintf(err, errlen, "expected '$' at the start (write e.g. $.%s)",
                     show_str(text, q, sizeof q));
        return -1;
    }
    const char *p = text + 1;
    while (*p != '\0' && !is_blank(*p)) {
        if (out->n == JPATH_MAX_STEPS) {
            snprintf(err, errlen, "the path is too deep (at most %d steps)", JPATH_MAX_STEPS);
            goto fail;
        }
        if (*p == '.') {
            p++;
            if (*p == '.') {
                snprintf(err, errlen, "'..' (recursive descent) is not supported: name each "
                         "step, or use [*]");
                goto fail;
            }
            size_t n = strcspn(p, ".[ \t");
            if (n == 0) {
                snprintf(err, errlen, "a member name is missing after '.' at offset %zu",
                         (size_t)(p - text - 1));
                goto fail;
            }
            jpath_add(out, JP_MEMBER, xstrndup(p, n), 0);
            p += n;
        } else if (*p == '[') {
            const char *open = p++;
            if (*p == '*') {
                jpath_add(out, JP_ALL, NULL, 0);
                p++;
            } else if (strncmp(p, "last", 4) == 0) {
                jpath_add(out, JP_LAST, NULL, -1);
                p += 4;
            } else if (*p == '"' || *p == '\'') {
                char *name;
                p = parse_quoted_name(p, &name, err, errlen);
                if (p == NULL)
                    goto fail;
                jpath_add(out, JP_MEMBER, name, 0);
            } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
                int64_t index;
                p = parse_index(p, &index, err, errlen);
                if (p == NULL)
                    goto fail;
                jpath_add(out, JP_INDEX, NULL, index);
            } else if (*p == ']') {
                snprintf(err, errlen, "empty [] at offset %zu (write [0], [-1], [last], [*] "
                         "or [\"name\"])", (size_t)(open - text));
                goto fail;
            } else if (*p == '\0') {
                snprintf(err, errlen, "unclosed '[' at offset %zu", (size_t)(open - text));
                goto fail;
            } else {
                snprintf(err, errlen, "expected a number, *, last or a quoted name in [...] "
                         "at offset %zu", (size_t)(p - text));
                goto fail;
            }
            if (*p != ']') {
                if (*p == '\0')
                    snprintf(err, errlen, "unclosed '[' at offset %zu", (size_t)(open - text));
                else
                    snprintf(err, errlen, "expected ']' at offset %zu", (size_t)(p - text));
                goto fail;
            }
            p++;
        } else {
            snprintf(err, errlen, "unexpected '%s' at offset %zu (expected .name or [...])",
                     show(p, char_len(p), q, sizeof q),
                     (size_t)(p - text));
            goto fail;
        }
    }
    out->text = xstrndup(text, (size_t)(p - text));
    *end = p;
    return 0;
fail:
    jpath_free(out);
    return -1;
}

int jpath_parse(const char *text, jpath_t *out, char *err, size_t errlen)
{
    const char *end;
    if (jpath_parse_prefix(text, &end, out, err, errlen) != 0)
        return -1;
    if (*end != '\0') {
        char q[SHOW_SIZE], q2[SHOW_SIZE];
        snprintf(err, errlen, "unexpected '%s' after the path %s (a member name with blanks "
                 "is written [\"a b\"])", show_str(skip_blanks(end), q, sizeof q),
                 show_str(out->text, q2, sizeof q2));
        jpath_free(out);
        return -1;
    }
    return 0;
}

void jpath_free(jpath_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->steps[i].member);
    free(p->steps);
    free(p->text);
    memset(p, 0, sizeof *p);
}

/* ---- memory for the parser ------------------------------------------------- */

/* yajl allocates its handle, its lexer, a state stack and a buffer for
 * strings with escapes for every parse (yajl 2.1 has no reset), a yajl_gen
 * when a value is written back, and a second handle to count an array for
 * [-N]: all from this bump arena, which each parse gives back whole when it
 * ends. A free of the last block gives it back at once (yajl frees a buffer
 * it outgrows); a request the arena cannot hold goes to the heap, and yajl
 * frees it there. One per thread, so that nothing is shared. */
#define ARENA_SIZE 16384
#define ARENA_ALIGN 16

typedef struct {
    _Alignas(ARENA_ALIGN) unsigned char buf[ARENA_SIZE];
    size_t used;
} arena_t;

static _Thread_local arena_t parse_arena;

static size_t arena_round(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

static bool arena_owns(const arena_t *a, const void *p)
{
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->buf;
    return u >= b && u < b + ARENA_SIZE;
}

/* Each block is preceded by its size, in a header of ARENA_ALIGN bytes. */
static size_t arena_block_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - ARENA_ALIGN, sizeof n);
    return n;
}

static void *arena_malloc(void *ctx, size_t size)
{
    arena_t *a = ctx;
    if (size <= ARENA_SIZE && ARENA_ALIGN + arena_round(size) <= ARENA_SIZE - a->used) {
        unsigned char *h = a->buf + a->used;
        memcpy(h, &size, sizeof size);
        a->used += ARENA_ALIGN + arena_round(size);
        return h + ARENA_ALIGN;
    }
    return xmalloc(size ? size : 1);
}

static void arena_free(void *ctx, void *p)
{
    arena_t *a = ctx;
    if (p == NULL)
        return;
    if (!arena_owns(a, p)) {
        free(p);
        return;
    }
    size_t at = (size_t)((unsigned char *)p - a->buf);
    if (at + arena_round(arena_block_size(p)) == a->used)
        a->used = at - ARENA_ALIGN;
}

static void *arena_realloc(void *ctx, void *p, size_t size)
{
    arena_t *a = ctx;
    if (p == NULL)
        return arena_malloc(ctx, size);
    if (!arena_owns(a, p))
        return xrealloc(p, size ? size : 1);
    size_t at = (size_t)((unsigned char *)p - a->buf);
    size_t old = arena_block_size(p);
    if (at + arena_round(old) == a->used && size <= ARENA_SIZE &&
        arena_round(size) <= ARENA_SIZE - at) {
        /* The last block grows (or shrinks) where it is. */
        memcpy((unsigned char *)p - ARENA_ALIGN, &size, sizeof size);
        a->used = at + arena_round(size);
        return p;
    }
    void *q = arena_malloc(ctx, size);
    memcpy(q, p, old < size ? old : size);
    arena_free(ctx, p);
    return q;
}

/* ---- growing buffers -------------------------------------------------------- */

static void scratch_reserve(char **scratch, size_t *cap, size_t need)
{
    if (*cap >= need)
        return;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    *scratch = xrealloc(*scratch, n);
    *cap = n;
}

/* Where yajl_gen writes a value back: a growing buffer, kept NUL-terminated
 * (an extract's is the caller's scratch). */
typedef struct {
    char **buf;
    size_t *cap;
    size_t len;
} sink_t;

static void sink_print(void *ctx, const char *s, size_t n)
{
    sink_t *k = ctx;
    scratch_reserve(k->buf, k->cap, k->len + n + 1);
    memcpy(*k->buf + k->len, s, n);
    k->len += n;
    (*k->buf)[k->len] = '\0';
}

/* ---- following a path through a body's events ---------------------------------- */

typedef enum { JV_STRING, JV_NUMBER, JV_TRUE, JV_FALSE, JV_NULL, JV_OBJECT, JV_ARRAY } jv_kind_t;

/* What to do with a value the path selects, as it starts: pass over it,
 * take it (its text is then handed to the value callback), or stop. */
typedef enum { MATCH_SKIP, MATCH_TAKE, MATCH_STOP } match_t;

/* How a parse ended. */
typedef enum {
    SCAN_DONE,                  /* read to the end */
    SCAN_STOPPED,               /* a callback had the answer */
    SCAN_NOT_JSON,              /* err says why */
    SCAN_DEEP,                  /* nested beyond JSON_MAX_DEPTH */
    SCAN_FAILED                 /* err says why */
} scan_end_t;

/* A [*] over an object remembers the member it is in, for messages: a
 * pointer into the body, or for a name with escapes (which yajl unescapes
 * into a buffer it reuses) a copy of its start. */
#define KEY_COPY 48

/* An array or object on the path: level i is the value the first i steps
 * select, and steps[i] picks among its children. */
typedef struct {
    bool array;
    bool all;                   /* steps[i] is [*] */
    bool child_on;              /* the child that comes next is on the path */
    int64_t next;               /* an array's next element */
    int64_t want;               /* the element steps[i] takes; -1 for none */
    size_t index;               /* the element we are in, for messages */
    const char *key;            /* the member we are in ([*]), for messages */
    size_t key_len;
    char key_copy[KEY_COPY];
} level_t;

typedef struct jscan jscan_t;
struct jscan {
    const jpath_t *path;
    const char *body;
    size_t body_len;
    yajl_handle h;
    yajl_alloc_funcs *afs;
    unsigned depth;             /* arrays and objects open */
    unsigned on;                /* how many of them, from the outside, are on the path */
    bool taking;                /* inside an array or object being written back */
    unsigned take_depth;        /* its depth */
    jv_kind_t take_kind;
    yajl_gen gen;               /* allocated on first use */
    sink_t sink;
    match_t (*begin)(jscan_t *s);
    /* A value taken, whole: false stops the parse. An array or object is
     * its compact JSON (in the sink). */
    bool (*value)(jscan_t *s, jv_kind_t kind, const char *v, size_t n);
    void *arg;
    scan_end_t end;
    char err[2 * SHOW_SIZE + 48];
    level_t lv[JPATH_MAX_STEPS];
};

static bool jpath_has_all(const jpath_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->steps[i].kind == JP_ALL)
            return true;
    return false;
}

static bool is_plain_member(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The path as written, or with a [*] the value it reached ($.items[3].ok),
 * from the levels of a parse, shown for a message. */
static const char *show_path(const jpath_t *p, const level_t *lv, char *dst, size_t dstlen)
{
    if (lv == NULL || !jpath_has_all(p))
        return show_str(p->text, dst, dstlen);
    char raw[512];
    size_t o = 0;
    raw[o++] = '$';
    for (size_t i = 0; i < p->n && o < sizeof raw - 1; i++) {
        const jstep_t *st = &p->steps[i];
        const char *key = st->kind == JP_MEMBER ? st->member : NULL;
        size_t key_len = key ? strlen(key) : 0;
        if (st->kind == JP_ALL && !lv[i].array) {
            key = lv[i].key ? lv[i].key : "";
            key_len = lv[i].key_len;
        }
        int n;
        if (key != NULL && is_plain_member(key, key_len))
            n = snprintf(raw + o, sizeof raw - o, ".%.*s", (int)key_len, key);
        else if (key != NULL)
            n = snprintf(raw + o, sizeof raw - o, "[\"%.*s\"]", (int)key_len, key);
        else if (st->kind == JP_ALL)
            n = snprintf(raw + o, sizeof raw - o, "[%zu]", lv[i].index);
        else if (st->kind == JP_LAST)
            n = snprintf(raw + o, sizeof raw - o, "[last]");
        else
            n = snprintf(raw + o, sizeof raw - o, "[%lld]", (long long)st->index);
        o = n < 0 ? o : o + (size_t)n;
    }
    if (o > sizeof raw - 1)
        o = sizeof raw - 1;
    return show(raw, o, dst, dstlen);
}

/* yajl's reason for an error ("lexical error: invalid char in json text"),
 * where it is and the body around it, into dst; base is where h's text
 * starts in the body, and at_end says the error came from
 * yajl_complete_parse (its position is then the body's end). yajl's
 * position is that of the token or just past it, hence bytes of both sides. */
#define NEAR_BEFORE 10
#define NEAR_BYTES 24

static void describe_error(const jscan_t *s, yajl_handle h, size_t base, bool at_end,
                           char *dst, size_t dstlen)
{
    unsigned char *e = yajl_get_error(h, 0, NULL, 0);
    const char *t = e ? (const char *)e : "unknown error";
    size_t n = strlen(t);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '.'))
        n--;
    size_t at = at_end ? s->body_len : base + yajl_get_bytes_consumed(h);
    if (at > s->body_len)
        at = s->body_len;
    size_t from = at > NEAR_BEFORE ? at - NEAR_BEFORE : 0;
    size_t near = s->body_len - from < NEAR_BYTES ? s->body_len - from : NEAR_BYTES;
    char q[SHOW_SIZE], q2[SHOW_SIZE];
    snprintf(dst, dstlen, "%s at byte %zu, near '%s'", show(t, n, q, sizeof q), at,
             show_ex(s->body + from, near, from + near < s->body_len, false, q2, sizeof q2));
    if (e)
        yajl_free_error(h, e);
}

/* Whether n bytes at p lie in the body (yajl hands over text without
 * escapes where it is). */
static bool in_body(const jscan_t *s, const char *p, size_t n)
{
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)s->body;
    return u >= b && u - b <= s->body_len && n <= s->body_len - (u - b);
}

static int scan_stop(jscan_t *s, scan_end_t end)
{
    s->end = end;
    return 0;
}

/* A yajl_gen call's status as a callback's answer. */
static int gen_ok(jscan_t *s, yajl_gen_status st)
{
    if (st == yajl_gen_status_ok)
        return 1;
    snprintf(s->err, sizeof s->err, "yajl_gen could not write the value back (status %d)",
             (int)st);
    return scan_stop(s, SCAN_FAILED);
}

/* Where a value that starts now stands. */
typedef enum { AT_OFF, AT_PATH, AT_MATCH } at_t;

static at_t value_starts(jscan_t *s)
{
    unsigned d = s->depth;
    if (d != s->on)
        return AT_OFF;
    if (d > 0) {
        level_t *l = &s->lv[d - 1];
        if (l->array) {
            int64_t i = l->next++;
            l->index = (size_t)i;
            l->child_on = l->all || i == l->want;
        }
        if (!l->child_on)
            return AT_OFF;
    }
    return d == s->path->n ? AT_MATCH : AT_PATH;
}

static int on_scalar(jscan_t *s, jv_kind_t kind, const char *v, size_t n)
{
    if (s->taking) {
        yajl_gen g = s->gen;
        switch (kind) {
        case JV_STRING:
            return gen_ok(s, yajl_gen_string(g, (const unsigned char *)v, n));
        case JV_NUMBER:
            return gen_ok(s, yajl_gen_number(g, v, n));
        case JV_TRUE:
        case JV_FALSE:
            return gen_ok(s, yajl_gen_bool(g, kind == JV_TRUE));
        default:
            return gen_ok(s, yajl_gen_null(g));
        }
    }
    if (value_starts(s) != AT_MATCH)
        return 1;
    match_t m = s->begin(s);
    if (m == MATCH_SKIP)
        return 1;
    if (m == MATCH_STOP || !s->value(s, kind, v, n))
        return scan_stop(s, SCAN_STOPPED);
    return 1;
}

static int cb_null(void *ctx)
{
    return on_scalar(ctx, JV_NULL, "null", 4);
}

static int cb_boolean(void *ctx, int b)
{
    return b ? on_scalar(ctx, JV_TRUE, "true", 4) : on_scalar(ctx, JV_FALSE, "false", 5);
}

/* With yajl_number set, yajl hands over a number's text as written: "1972"
 * stays 1972, 4.30 stays 4.30, and an integer of any size is fine. */
static int cb_number(void *ctx, const char *v, size_t n)
{
    return on_scalar(ctx, JV_NUMBER, v, n);
}

static int cb_string(void *ctx, const unsigned char *v, size_t n)
{
    return on_scalar(ctx, JV_STRING, (const char *)v, n);
}

static int cb_map_key(void *ctx, const unsigned char *key, size_t n)
{
    jscan_t *s = ctx;
    if (s->taking)
        return gen_ok(s, yajl_gen_string(s->gen, key, n));
    if (s->depth == 0 || s->depth != s->on)
        return 1;
    level_t *l = &s->lv[s->depth - 1];
    const char *k = (const char *)key;
    if (l->all) {
        l->child_on = true;
        if (in_body(s, k, n)) {
            l->key = k;
            l->key_len = n;
        } else {
            l->key_len = n < KEY_COPY ? n : KEY_COPY;
            memcpy(l->key_copy, k, l->key_len);
            l->key = l->key_copy;
        }
    } else {
        const char *m = s->path->steps[s->depth - 1].member;
        l->child_on = strlen(m) == n && memcmp(m, k, n) == 0;
    }
    return 1;
}

/* The length of the array whose '[' yajl has just read: a second parse,
 * of that array alone, that counts its elements and stops at its ']'.
 * yajl reports how far it has read while it calls back, so the '[' is the
 * byte before. This reads the array twice, for the simplicity of knowing
 * the length before the first element: [-N] then costs what [N] does. */
typedef struct {
    unsigned depth, max;
    int64_t count;
    bool closed, deep;
} counter_t;

static int count_value(void *ctx)
{
    counter_t *c = ctx;
    if (c->depth == 1)
        c->count++;
    return 1;
}

static int count_null(void *ctx)
{
    return count_value(ctx);
}

static int count_boolean(void *ctx, int b)
{
    (void)b;
    return count_value(ctx);
}

static int count_number(void *ctx, const char *v, size_t n)
{
    (void)v;
    (void)n;
    return count_value(ctx);
}

static int count_string(void *ctx, const unsigned char *v, size_t n)
{
    (void)v;
    (void)n;
    return count_value(ctx);
}

static int count_start(void *ctx)
{
    counter_t *c = ctx;
    count_value(c);
    if (c->depth == c->max) {
        c->deep = true;
        return 0;
    }
    c->depth++;
    return 1;
}

static int count_end(void *ctx)
{
    counter_t *c = ctx;
    if (--c->depth == 0) {
        c->closed = true;
        return 0;
    }
    return 1;
}

static const yajl_callbacks count_callbacks = {
    .yajl_null = count_null,
    .yajl_boolean = count_boolean,
    .yajl_number = count_number,
    .yajl_string = count_string,
    .yajl_start_map = count_start,
    .yajl_end_map = count_end,
    .yajl_start_array = count_start,
    .yajl_end_array = count_end,
};

/* 0 with the count, or -1 with s->end set (the scan then stops). */
static int count_elements(jscan_t *s, int64_t *count)
{
    size_t at = yajl_get_bytes_consumed(s->h);
    if (at == 0 || at > s->body_len || s->body[at - 1] != '[') {
        snprintf(s->err, sizeof s->err, "cannot find where an array starts (at byte %zu)", at);
        s->end = SCAN_FAILED;
        return -1;
    }
    at--;
    /* The array is at depth s->depth already; its contents may go as deep
     * as the body may. */
    counter_t c = { .depth = 0, .max = JSON_MAX_DEPTH - s->depth + 1 };
    arena_t *a = s->afs->ctx;
    size_t mark = a->used;
    yajl_handle h = yajl_alloc(&count_callbacks, s->afs, &c);
    yajl_status st = yajl_parse(h, (const unsigned char *)s->body + at, s->body_len - at);
    bool at_end = st == yajl_status_ok;
    if (at_end)
        st = yajl_complete_parse(h);
    int rc = 0;
    if (st == yajl_status_client_canceled && c.closed) {
        *count = c.count;
    } else if (st == yajl_status_client_canceled) {
        s->end = SCAN_DEEP;
        rc = -1;
    } else {
        describe_error(s, h, at, at_end, s->err, sizeof s->err);
        s->end = SCAN_NOT_JSON;
        rc = -1;
    }
    yajl_free(h);
    a->used = mark;
    return rc;
}

static int on_start(jscan_t *s, bool array)
{
    if (s->depth == JSON_MAX_DEPTH)
        return scan_stop(s, SCAN_DEEP);
    if (s->taking) {
        s->depth++;
        return gen_ok(s, array ? yajl_gen_array_open(s->gen) : yajl_gen_map_open(s->gen));
    }
    at_t at = value_starts(s);
    s->depth++;
    if (at == AT_MATCH) {
        match_t m = s->begin(s);
        if (m == MATCH_SKIP)
            return 1;
        if (m == MATCH_STOP)
            return scan_stop(s, SCAN_STOPPED);
        if (s->gen == NULL) {
            s->gen = yajl_gen_alloc(s->afs);
            yajl_gen_config(s->gen, yajl_gen_print_callback, sink_print, &s->sink);
        } else {
            yajl_gen_reset(s->gen, NULL);
        }
        s->sink.len = 0;
        s->taking = true;
        s->take_depth = s->depth;
        s->take_kind = array ? JV_ARRAY : JV_OBJECT;
        return gen_ok(s, array ? yajl_gen_array_open(s->gen) : yajl_gen_map_open(s->gen));
    }
    if (at == AT_OFF)
        return 1;
    /* On the path: an array or object the next step can go into. */
    unsigned i = s->depth - 1;
    const jstep_t *st = &s->path->steps[i];
    if (st->kind != JP_ALL && (st->kind == JP_MEMBER) == array)
        return 1;
    level_t *l = &s->lv[i];
    l->array = array;
    l->all = st->kind == JP_ALL;
    l->child_on = false;
    l->next = 0;
    l->want = -1;
    l->index = 0;
    l->key = NULL;
    l->key_len = 0;
    if (array && !l->all) {
        int64_t want = st->index;
        if (want < 0) {
            int64_t n;
            if (count_elements(s, &n) != 0)
                return 0;
            want = want >= -n ? n + want : -1;
        }
        l->want = want;
    }
    s->on++;
    return 1;
}

static int on_end(jscan_t *s, bool array)
{
    if (s->taking) {
        if (!gen_ok(s, array ? yajl_gen_array_close(s->gen) : yajl_gen_map_close(s->gen)))
            return 0;
        if (s->depth-- == s->take_depth) {
            s->taking = false;
            if (!s->value(s, s->take_kind, *s->sink.buf, s->sink.len))
                return scan_stop(s, SCAN_STOPPED);
        }
        return 1;
    }
    if (s->depth == s->on)
        s->on--;
    s->depth--;
    return 1;
}

static int cb_start_map(void *ctx)
{
    return on_start(ctx, false);
}

static int cb_end_map(void *ctx)
{
    return on_end(ctx, false);
}

static int cb_start_array(void *ctx)
{
    return on_start(ctx, true);
}

static int cb_end_array(void *ctx)
{
    return on_end(ctx, true);
}

static const yajl_callbacks scan_callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end_map,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end_array,
};

/* Sets up s for path; the caller sets begin, value, arg and the sink. The
 * levels are set as the parse reaches them. */
static void scan_init(jscan_t *s, const jpath_t *path)
{
    s->path = path;
    s->depth = s->on = 0;
    s->taking = false;
    s->take_depth = 0;
    s->take_kind = JV_NULL;
    s->gen = NULL;
    s->end = SCAN_DONE;
    s->err[0] = '\0';
}

/* Parses the body, calling s->begin and s->value for what the path selects,
 * until the end or until they stop it; s->end says how it ended. */
static void scan(jscan_t *s, const resp_t *r)
{
    if (r->body == NULL || r->body_len == 0) {
        snprintf(s->err, sizeof s->err, "it is empty");
        s->end = SCAN_NOT_JSON;
        return;
    }
    s->body = r->body;
    s->body_len = r->body_len;
    arena_t *a = &parse_arena;
    size_t mark = a->used;
    yajl_alloc_funcs afs = { arena_malloc, arena_realloc, arena_free, a };
    s->afs = &afs;
    s->h = yajl_alloc(&scan_callbacks, &afs, s);
    yajl_status st = yajl_parse(s->h, (const unsigned char *)r->body, r->body_len);
    bool at_end = st == yajl_status_ok;
    if (at_end)
        st = yajl_complete_parse(s->h);
    if (st == yajl_status_ok) {
        s->end = SCAN_DONE;
    } else if (st == yajl_status_error) {
        describe_error(s, s->h, 0, at_end, s->err, sizeof s->err);
        s->end = SCAN_NOT_JSON;
    }
    /* Else a callback stopped it, and set s->end. */
    if (s->gen != NULL)
        yajl_gen_free(s->gen);
    yajl_free(s->h);
    s->gen = NULL;
    s->h = NULL;
    a->used = mark;
}

/* The reason for a parse that ended without an answer, into why: 0, or -1
 * when there is one. */
static int scan_failure(const jscan_t *s, char *why, size_t whylen)
{
    switch (s->end) {
    case SCAN_NOT_JSON:
        snprintf(why, whylen, "the body is not JSON (%s)", s->err);
        return -1;
    case SCAN_DEEP:
        snprintf(why, whylen, "the body nests arrays and objects too deeply (more than %d "
                 "levels)", JSON_MAX_DEPTH);
        return -1;
    case SCAN_FAILED:
        snprintf(why, whylen, "cannot read the body's JSON (%s)", s->err);
        return -1;
    default:
        return 0;
    }
}

/* ---- a response ------------------------------------------------------------------ */

void resp_clear(resp_t *r)
{
    /* Nothing is kept between calls any more: each extract and expectation
     * parses what it needs. Kept so that callers need not change. */
    (void)r;
}

/* Iterates over the headers named name: true with the next one's value
 * (blanks trimmed) from *cur on, advancing *cur. */
static bool header_next(const char **cur, const char *end, const char *name, size_t name_len,
                        const char **val, size_t *vlen)
{
    const char *p = *cur;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon != NULL && (size_t)(colon - p) == name_len && name_len > 0 &&
            strncasecmp(p, name, name_len) == 0) {
            const char *v = colon + 1;
            const char *ve = eol;
            while (v < ve && is_blank(*v))
                v++;
            while (ve > v && (is_blank(ve[-1]) || ve[-1] == '\r'))
                ve--;
            *val = v;
            *vlen = (size_t)(ve - v);
            *cur = next;
            return true;
        }
        p = next;
    }
    *cur = end;
    return false;
}

static bool header_first(const resp_t *r, const char *name, const char **val, size_t *vlen)
{
    if (r->headers == NULL)
        return false;
    const char *cur = r->headers;
    return header_next(&cur, r->headers + r->headers_len, name, strlen(name), val, vlen);
}

/* The value of the first Set-Cookie whose cookie-name is name. */
static bool cookie_find(const resp_t *r, const char *name, const char **val, size_t *vlen)
{
    if (r->headers == NULL)
        return false;
    const char *cur = r->headers, *end = r->headers + r->headers_len;
    const char *h;
    size_t hlen;
    size_t name_len = strlen(name);
    while (header_next(&cur, end, "Set-Cookie", 10, &h, &hlen)) {
        const char *semi = memchr(h, ';', hlen);
        const char *pair_end = semi ? semi : h + hlen;
        const char *eq = memchr(h, '=', (size_t)(pair_end - h));
        if (eq == NULL)
            continue;
        const char *ne = eq;
        while (ne > h && is_blank(ne[-1]))
            ne--;
        if ((size_t)(ne - h) != name_len || memcmp(h, name, name_len) != 0)
            continue;
        const char *v = eq + 1, *ve = pair_end;
        while (v < ve && is_blank(*v))
            v++;
        while (ve > v && is_blank(ve[-1]))
            ve--;
        *val = v;
        *vlen = (size_t)(ve - v);
        return true;
    }
    return false;
}

/* ---- extracts -------------------------------------------------------------------- */

/* A per-user variable's name: the rule of `var` in the hopperfile. */
static bool valid_var_name(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* An HTTP header name (RFC 9110 token). */
static bool valid_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c) != NULL)
            return false;
    }
    return true;
}

/* How many parts a regex has once glibc's regcomp has copied out each
 * repetition: it copies the repeated part for + and for each count of
 * {n,m}, so a nested (a{99}){99}{99} grows exponentially and can take
 * gigabytes before regcomp returns. A rough count (an atom is 1, a group
 * the sum of its parts, + doubles, {n,m} multiplies by m + 1) that only has
 * to be large when regcomp's tree would be; it saturates.
 * *stacked is set for a repetition right after another (a**, a+*, a{2}+):
 * POSIX leaves those undefined, and glibc takes seconds to minutes to
 * compile a few dozen of them (found by fuzz_jsonpath). */
#define REGEX_MAX_SIZE 20000
#define REGEX_MAX_DEPTH 64

static uint64_t regex_expanded_size(const char *re, bool *stacked)
{
    const uint64_t cap = (uint64_t)REGEX_MAX_SIZE * 1000;
    uint64_t total[REGEX_MAX_DEPTH + 1] = { 0 }, last[REGEX_MAX_DEPTH + 1] = { 0 };
    int depth = 0;
    bool after_repetition = false;
    *stacked = false;
    for (const char *p = re; *p != '\0'; p++) {
        uint64_t times = 0;
        bool repetition = *p == '+' || *p == '*' || *p == '?' ||
                          (*p == '{' && p[1] >= '0' && p[1] <= '9');
        if (repetition && after_repetition) {
            *stacked = true;
            return 0;
        }
        after_repetition = repetition;
        if (*p == '(') {
            if (depth == REGEX_MAX_DEPTH)
                return cap;
            depth++;
            total[depth] = last[depth] = 0;
            continue;
        }
        if (*p == ')' && depth > 0) {
            uint64_t g = total[depth--] + 1;
            total[depth] += g;
            last[depth] = g;
        } else if (*p == '|') {
            last[depth] = 0;
        } else if (*p == '+') {
            times = 2;
        } else if (*p == '*' || *p == '?') {
            times = 1;
        } else if (*p == '{' && p[1] >= '0' && p[1] <= '9') {
            uint64_t lo = 0, hi = 0;
            const char *q = p + 1;
            while (*q >= '0' && *q <= '9' && lo < 100000)
                lo = lo * 10 + (uint64_t)(*q++ - '0');
            hi = lo;
            if (*q == ',') {
                q++;
                hi = 0;
                while (*q >= '0' && *q <= '9' && hi < 100000)
                    hi = hi * 10 + (uint64_t)(*q++ - '0');
                if (hi < lo)
                    hi = lo;
            }
            if (*q != '}') {
                /* Not a bound: a literal '{'. */
                total[depth]++;
                last[depth] = 1;
                after_repetition = false;
                continue;
            }
            times = hi + 1;
            p = q;
        } else {
            if (*p == '\\' && p[1] != '\0') {
                p++;
            } else if (*p == '[') {
                /* A bracket expression is one atom: [^]x], [[:digit:]]. */
                const char *q = p + 1;
                if (*q == '^')
                    q++;
                if (*q == ']')
                    q++;
                while (*q != '\0' && *q != ']') {
                    if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.')) {
                        const char *close = strchr(q + 2, q[1]);
                        q = close != NULL && close[1] == ']' ? close + 2 : q + 1;
                    } else {
                        q++;
                    }
                }
                p = *q == ']' ? q : q - 1;
            }
            total[depth]++;
            last[depth] = 1;
        }
        if (times > 1) {
            /* The last part is there `times` times instead of once. */
            uint64_t more = last[depth] > cap / times ? cap : last[depth] * (times - 1);
            total[depth] = total[depth] > cap - more ? cap : total[depth] + more;
            last[depth] = last[depth] > cap / times ? cap : last[depth] * times;
        }
        if (total[depth] >= cap)
            return cap;
    }
    uint64_t sum = 0;
    for (int d = 0; d <= depth; d++)
        sum += total[d];
    return sum;
}

/* What regcomp is not given: 0, or -1 with a message. */
static int regex_check(const char *re, char *err, size_t errlen)
{
    char q[SHOW_SIZE];
    bool stacked;
    uint64_t size = regex_expanded_size(re, &stacked);
    if (stacked) {
        snprintf(err, errlen, "regex \"%s\" has a repetition right after another (a** or "
                 "a+*): write one, or group the first: (a+)*",
                 show_quoted(re, strlen(re), q, sizeof q));
        return -1;
    }
    if (size > REGEX_MAX_SIZE) {
        snprintf(err, errlen, "regex \"%s\" is too large once its repetitions are counted "
                 "out (at most %d parts; a{100} counts 100)",
                 show_quoted(re, strlen(re), q, sizeof q), REGEX_MAX_SIZE);
        return -1;
    }
    return 0;
}

/* The one word argument of header and cookie, checked. */
static int one_name(const char *kind, const char *arg, bool cookie, char **out, char *err,
                    size_t errlen)
{
    char q[SHOW_SIZE];
    size_t n = strcspn(arg, " \t");
    if (n == 0) {
        snprintf(err, errlen, "%s needs a name (e.g. '%s')", kind,
                 cookie ? "sid cookie session" : "id header X-Request-Id");
        return -1;
    }
    if (*skip_blanks(arg + n) != '\0') {
        snprintf(err, errlen, "%s takes one name, not '%s'", kind, show_str(arg, q, sizeof q));
        return -1;
    }
    if (!valid_token(arg, n)) {
        snprintf(err, errlen, "'%s' is not a %s name", show(arg, n, q, sizeof q),
                 cookie ? "cookie" : "header");
        return -1;
    }
    *out = xstrndup(arg, n);
    return 0;
}

int extract_parse(const char *v, extract_t *out, char *err, size_t errlen)
{
    char q[SHOW_SIZE];
    memset(out, 0, sizeof *out);
    v = skip_blanks(v);
    size_t vn = strcspn(v, " \t");
    const char *kind = skip_blanks(v + vn);
    size_t kn = strcspn(kind, " \t");
    const char *arg = skip_blanks(kind + kn);
    if (vn == 0 || kn == 0) {
        snprintf(err, errlen, "expected 'NAME KIND ...' with KIND json, regex, header, cookie "
                 "or status (e.g. 'token json $.token')");
        return -1;
    }
    if (!valid_var_name(v, vn)) {
        snprintf(err, errlen, "'%s' is not a variable name: letters, digits, '-' and '_', not "
                 "starting with a digit", show(v, vn, q, sizeof q));
        return -1;
    }
    /* The argument, less trailing blanks (a regex keeps its inner ones). */
    char *a = xstrndup(arg, trimmed_len(arg));
    int rc = -1;
    if (kn == 4 && strncmp(kind, "json", 4) == 0) {
        out->kind = EX_JSON;
        if (*a == '\0')
            snprintf(err, errlen, "json needs a path (e.g. 'token json $.token')");
        else
            rc = jpath_parse(a, &out->path, err, errlen);
    } else if (kn == 5 && strncmp(kind, "regex", 5) == 0) {
        out->kind = EX_REGEX;
        if (*a == '\0') {
            snprintf(err, errlen, "regex needs an expression (e.g. 'id regex id=([0-9]+)')");
        } else if (regex_check(a, err, errlen) == 0) {
            int e = regcomp(&out->re, a, REG_EXTENDED);
            if (e != 0) {
                char why[128];
                regerror(e, &out->re, why, sizeof why);
                snprintf(err, errlen, "regex \"%s\": %s", show_quoted(a, strlen(a), q, sizeof q),
                         why);
            } else {
                out->re_compiled = true;
                rc = 0;
            }
        }
    } else if (kn == 6 && strncmp(kind, "header", 6) == 0) {
        out->kind = EX_HEADER;
        rc = one_name("header", a, false, &out->name, err, errlen);
    } else if (kn == 6 && strncmp(kind, "cookie", 6) == 0) {
        out->kind = EX_COOKIE;
        rc = one_name("cookie", a, true, &out->name, err, errlen);
    } else if (kn == 6 && strncmp(kind, "status", 6) == 0) {
        out->kind = EX_STATUS;
        if (*a != '\0')
            snprintf(err, errlen, "status takes no argument (found '%s')",
                     show_str(a, q, sizeof q));
        else
            rc = 0;
    } else {
        snprintf(err, errlen, "unknown kind '%s' (use json, regex, header, cookie or status)",
                 show(kind, kn, q, sizeof q));
    }
    free(a);
    if (rc != 0) {
        extract_free(out);
        return -1;
    }
    out->var = xstrndup(v, vn);
    out->text = xstrndup(kind, trimmed_len(kind));
    return 0;
}

void extract_free(extract_t *e)
{
    jpath_free(&e->path);
    if (e->re_compiled)
        regfree(&e->re);
    free(e->var);
    free(e->name);
    free(e->text);
    memset(e, 0, sizeof *e);
}

bool extract_needs_body(const extract_t *e)
{
    return e->kind == EX_JSON || e->kind == EX_REGEX;
}

bool extract_needs_headers(const extract_t *e)
{
    return e->kind == EX_HEADER || e->kind == EX_COOKIE;
}

/* One value chosen uniformly among all the path selects: reservoir sampling
 * (the k-th is kept with probability 1/k), decided as each one starts, so
 * that a [*] over n values takes only the ones it keeps and keeps no list. */
typedef struct {
    rng_t *rng;                 /* [*] with a generator; else the first ends it */
    uint64_t seen;
    bool got;
    const char *val;
    size_t len;
    char **scratch;
    size_t *cap;
} pick_t;

static match_t pick_begin(jscan_t *s)
{
    pick_t *pk = s->arg;
    pk->seen++;
    if (pk->seen == 1 || (pk->rng != NULL && rng_next(pk->rng) % pk->seen == 0))
        return MATCH_TAKE;
    return MATCH_SKIP;
}

/* Text yajl hands over from the body is used where it is; anything else
 * (a string with escapes, a number that ends the body, true, false, null)
 * is copied into the scratch, NUL-terminated. */
static bool pick_value(jscan_t *s, jv_kind_t kind, const char *v, size_t n)
{
    pick_t *pk = s->arg;
    pk->got = true;
    if (kind == JV_OBJECT || kind == JV_ARRAY) {
        /* Already written into the scratch (the sink). */
        pk->val = v;
        pk->len = n;
    } else if ((kind == JV_STRING || kind == JV_NUMBER) && in_body(s, v, n)) {
        pk->val = v;
        pk->len = n;
    } else {
        scratch_reserve(pk->scratch, pk->cap, n + 1);
        memcpy(*pk->scratch, v, n);
        (*pk->scratch)[n] = '\0';
        pk->val = *pk->scratch;
        pk->len = n;
    }
    return pk->rng != NULL;
}

/* The regex as written, for messages: the text after "regex". */
static const char *regex_source(const extract_t *e)
{
    return skip_blanks(e->text + 5);
}

int extract_run(const extract_t *e, resp_t *r, rng_t *rng, char **scratch, size_t *scratch_cap,
                const char **val, size_t *len, char *why, size_t whylen)
{
    char q[SHOW_SIZE];
    switch (e->kind) {
    case EX_JSON: {
        pick_t pk = { .rng = jpath_has_all(&e->path) ? rng : NULL, .scratch = scratch,
                      .cap = scratch_cap };
        jscan_t s;
        scan_init(&s, &e->path);
        s.begin = pick_begin;
        s.value = pick_value;
        s.arg = &pk;
        s.sink = (sink_t){ .buf = scratch, .cap = scratch_cap, .len = 0 };
        scan(&s, r);
        if (scan_failure(&s, why, whylen) != 0)
            return -1;
        if (!pk.got) {
            snprintf(why, whylen, "no %s in the response", show_path(&e->path, NULL, q, sizeof q));
            return -1;
        }
        *val = pk.val;
        *len = pk.len;
        return 0;
    }
    case EX_REGEX: {
        const char *body = r->body ? r->body : "";
        size_t n = r->body ? r->body_len : 0;
        regmatch_t m[2];
        int rc;
#ifdef REG_STARTEND
        /* The body's length, not its first NUL, ends the search. */
        m[0].rm_so = 0;
        m[0].rm_eo = (regoff_t)n;
        rc = regexec(&e->re, body, 2, m, REG_STARTEND);
#else
        rc = regexec(&e->re, body, 2, m, 0);
#endif
        if (rc != 0) {
            snprintf(why, whylen, "regex \"%s\" did not match",
                     show_quoted(regex_source(e), strlen(regex_source(e)), q, sizeof q));
            return -1;
        }
        int g = e->re.re_nsub >= 1 ? 1 : 0;
        if (m[g].rm_so < 0) {
            snprintf(why, whylen, "regex \"%s\" matched, but not its group",
                     show_quoted(regex_source(e), strlen(regex_source(e)), q, sizeof q));
            return -1;
        }
        *val = body + m[g].rm_so;
        *len = (size_t)(m[g].rm_eo - m[g].rm_so);
        return 0;
    }
    case EX_HEADER:
        if (!header_first(r, e->name, val, len)) {
            snprintf(why, whylen, "no header %s", show_str(e->name, q, sizeof q));
            return -1;
        }
        return 0;
    case EX_COOKIE:
        if (!cookie_find(r, e->name, val, len)) {
            snprintf(why, whylen, "no Set-Cookie for %s", show_str(e->name, q, sizeof q));
            return -1;
        }
        return 0;
    case EX_STATUS:
        scratch_reserve(scratch, scratch_cap, 24);
        *len = (size_t)snprintf(*scratch, *scratch_cap, "%ld", r->status);
        *val = *scratch;
        return 0;
    }
    snprintf(why, whylen, "unknown extract");
    return -1;
}

/* ---- expectations -------------------------------------------------------------------- */

int expect_parse(const char *v, bool json, expect_t *out, char *err, size_t errlen)
{
    char q[SHOW_SIZE];
    memset(out, 0, sizeof *out);
    v = skip_blanks(v);
    if (!json) {
        const char *colon = strchr(v, ':');
        size_t n = colon ? (size_t)(colon - v) : 0;
        while (n > 0 && is_blank(v[n - 1]))
            n--;
        if (colon == NULL || n == 0) {
            snprintf(err, errlen, "expected 'Name: text' (e.g. 'Content-Type: json')");
            return -1;
        }
        if (!valid_token(v, n)) {
            snprintf(err, errlen, "'%s' is not a header name", show(v, n, q, sizeof q));
            return -1;
        }
        const char *sub = skip_blanks(colon + 1);
        out->kind = EXPECT_HEADER;
        out->name = xstrndup(v, n);
        out->substring = xstrndup(sub, trimmed_len(sub));
        out->text = xstrndup(v, trimmed_len(v));
        return 0;
    }

    const char *end;
    if (jpath_parse_prefix(v, &end, &out->path, err, errlen) != 0)
        return -1;
    const char *op = skip_blanks(end);
    const char *value = NULL;
    if (strncmp(op, "==", 2) == 0 || strncmp(op, "!=", 2) == 0) {
        out->kind = op[0] == '=' ? EXPECT_JSON_EQ : EXPECT_JSON_NE;
        value = skip_blanks(op + 2);
    } else if (strncmp(op, "exists", 6) == 0 && *skip_blanks(op + 6) == '\0') {
        out->kind = EXPECT_JSON_EXISTS;
    } else {
        if (strstr(out->path.text, "==") || strstr(out->path.text, "!="))
            snprintf(err, errlen, "expected blanks around the operator (e.g. '$.ok == true')");
        else
            snprintf(err, errlen, "expected '==', '!=' or 'exists' after the path %s",
                     show_str(out->path.text, q, sizeof q));
        goto fail;
    }
    if (value != NULL) {
        size_t n = trimmed_len(value);
        if (n == 0) {
            snprintf(err, errlen, "a value is missing after '%.2s' (JSON: true, 42, \"text\", "
                     "null)", op);
            goto fail;
        }
        json_error_t e;
        out->value = json_loadb(value, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (out->value == NULL) {
            snprintf(err, errlen, "'%s' is not a JSON value (strings take double quotes: "
                     "\"text\")", show(value, n, q, sizeof q));
            goto fail;
        }
    }
    out->text = xstrndup(v, trimmed_len(v));
    return 0;
fail:
    expect_free(out);
    return -1;
}

void expect_free(expect_t *x)
{
    jpath_free(&x->path);
    json_decref(x->value);
    free(x->name);
    free(x->substring);
    free(x->text);
    memset(x, 0, sizeof *x);
}

/* JSON equality where numbers compare by value: 10 == 10.0, as a person
 * writing the expectation means (jansson's json_equal tells them apart). */
static bool json_same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!json_same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *key;
        const json_t *va;
        json_object_foreach((json_t *)a, key, va) {
            const json_t *vb = json_object_get(b, key);
            if (vb == NULL || !json_same(va, vb))
                return false;
        }
        return true;
    }
    return json_equal(a, b);
}

/* Walks every selected value: counts them and stops at the first one that
 * breaks the expectation (equal for !=, different for ==). */

/* ---- comparing a value read from the body with VALUE --------------------------- */

/* Numbers with a decimal point are read in the C locale, whatever the
 * process's LC_NUMERIC. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;

static void c_numeric_init(void)
{
    c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* A JSON number's text as jansson would read it: an integer when it is
 * written as one and fits 64 bits, else a double. */
static void number_value(const char *v, size_t n, bool *is_int, long long *i, double *d)
{
    char small[64];
    char *t = n < sizeof small ? small : xmalloc(n + 1);
    memcpy(t, v, n);
    t[n] = '\0';
    *is_int = strcspn(t, ".eE") == n;
    if (*is_int) {
        errno = 0;
        *i = strtoll(t, NULL, 10);
        *is_int = errno != ERANGE;
        *d = (double)*i;
    }
    if (!*is_int) {
        pthread_once(&c_numeric_once, c_numeric_init);
        *d = c_numeric != (locale_t)0 ? strtod_l(t, NULL, c_numeric) : strtod(t, NULL);
    }
    if (t != small)
        free(t);
}

/* Whether a value read from the body equals want, as json_same has it
 * (numbers by value: 10 == 10.0). An array or object arrives as compact
 * JSON: jansson reads it back to compare, which is rare and small. */
static bool value_same(const json_t *want, jv_kind_t kind, const char *v, size_t n)
{
    switch (json_typeof(want)) {
    case JSON_STRING:
        return kind == JV_STRING && n == json_string_length(want) &&
               memcmp(v, json_string_value(want), n) == 0;
    case JSON_INTEGER:
    case JSON_REAL: {
        if (kind != JV_NUMBER)
            return false;
        bool is_int;
        long long i;
        double d;
        number_value(v, n, &is_int, &i, &d);
        if (is_int && json_is_integer(want))
            return i == json_integer_value(want);
        return d == json_number_value(want);
    }
    case JSON_TRUE:
        return kind == JV_TRUE;
    case JSON_FALSE:
        return kind == JV_FALSE;
    case JSON_NULL:
        return kind == JV_NULL;
    case JSON_OBJECT:
    case JSON_ARRAY: {
        if (kind != (json_is_object(want) ? JV_OBJECT : JV_ARRAY))
            return false;
        json_t *got = json_loadb(v, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        /* jansson refuses what yajl reads (an integer beyond 64 bits):
         * then it is not what VALUE, which jansson read, is. */
        bool same = got != NULL && json_same(got, want);
        json_decref(got);
        return same;
    }
    }
    return false;
}

/* Walks every selected value: counts them and stops at the first one that
 * breaks the expectation (equal for !=, different for ==), whose path and
 * value it shows for the message then, while the parse's levels say where
 * it is. Without a [*] the one value decides. */
typedef struct {
    const expect_t *x;
    bool all;
    size_t seen;
    bool bad;
    char *buf;                  /* the sink's: arrays and objects written back */
    size_t cap;
    char path[SHOW_SIZE];
    char value[SHOW_SIZE];
} judge_t;

static match_t judge_begin(jscan_t *s)
{
    judge_t *j = s->arg;
    j->seen++;
    return j->x->kind == EXPECT_JSON_EXISTS ? MATCH_STOP : MATCH_TAKE;
}

/* A value for a message, as compact JSON: a string is written with its
 * quotes and escapes by yajl_gen, into the sink. */
static void show_value(jscan_t *s, jv_kind_t kind, const char *v, size_t n, char *dst,
                       size_t dstlen)
{
    if (kind == JV_STRING) {
        if (s->gen == NULL) {
            s->gen = yajl_gen_alloc(s->afs);
            yajl_gen_config(s->gen, yajl_gen_print_callback, sink_print, &s->sink);
        } else {
            yajl_gen_reset(s->gen, NULL);
        }
        s->sink.len = 0;
        if (yajl_gen_string(s->gen, (const unsigned char *)v, n) == yajl_gen_status_ok) {
            v = *s->sink.buf;
            n = s->sink.len;
        }
    }
    show(v, n, dst, dstlen);
}

static bool judge_value(jscan_t *s, jv_kind_t kind, const char *v, size_t n)
{
    judge_t *j = s->arg;
    bool same = value_same(j->x->value, kind, v, n);
    if (same == (j->x->kind == EXPECT_JSON_NE)) {
        j->bad = true;
        show_path(&j->x->path, s->lv, j->path, sizeof j->path);
        show_value(s, kind, v, n, j->value, sizeof j->value);
        return false;
    }
    return j->all;
}

int expect_check(const expect_t *x, resp_t *r, char *why, size_t whylen)
{
    char q1[SHOW_SIZE], q2[SHOW_SIZE], q3[SHOW_SIZE];
    if (x->kind == EXPECT_HEADER) {
        /* Any header of that name may carry the text (Set-Cookie comes
         * several times); the message shows the first. */
        const char *cur = r->headers ? r->headers : "";
        const char *end = cur + (r->headers ? r->headers_len : 0);
        const char *val, *first = NULL;
        size_t vlen, first_len = 0, sublen = strlen(x->substring);
        while (header_next(&cur, end, x->name, strlen(x->name), &val, &vlen)) {
            if (memmem(val, vlen, x->substring, sublen) != NULL)
                return 0;
            if (first == NULL) {
                first = val;
                first_len = vlen;
            }
        }
        if (first == NULL) {
            snprintf(why, whylen, "no header %s", show_str(x->name, q1, sizeof q1));
            return -1;
        }
        snprintf(why, whylen, "header %s lacks \"%s\" (it is \"%s\")",
                 show_str(x->name, q1, sizeof q1),
                 show_quoted(x->substring, strlen(x->substring), q2, sizeof q2),
                 show_quoted(first, first_len, q3, sizeof q3));
        return -1;
    }

    judge_t j;
    j.x = x;
    j.all = jpath_has_all(&x->path);
    j.seen = 0;
    j.bad = false;
    j.buf = NULL;
    j.cap = 0;
    jscan_t s;
    scan_init(&s, &x->path);
    s.begin = judge_begin;
    s.value = judge_value;
    s.arg = &j;
    s.sink = (sink_t){ .buf = &j.buf, .cap = &j.cap, .len = 0 };
    scan(&s, r);
    free(j.buf);
    if (scan_failure(&s, why, whylen) != 0)
        return -1;
    if (j.bad) {
        if (x->kind == EXPECT_JSON_EQ)
            snprintf(why, whylen, "%s is %s, expected %s", j.path, j.value,
                     show_json(x->value, q3, sizeof q3));
        else
            snprintf(why, whylen, "%s is %s, expected anything else", j.path, j.value);
        return -1;
    }
    if (j.seen == 0 && x->kind != EXPECT_JSON_NE) {
        snprintf(why, whylen, "no %s in the response", show_path(&x->path, NULL, q1, sizeof q1));
        return -1;
    }
    return 0;
}

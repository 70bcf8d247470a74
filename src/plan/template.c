/* template: see include/plan/template.h.
 *
 * The work is split by when it happens. tmpl_parse and tmpl_resolve run once,
 * when the plan is read: they do every check, every lookup by name and every
 * allocation a template needs. tmpl_render runs per request and per user, so
 * it only walks the pieces: a literal is one memcpy, a variable one slot
 * read, a built-in a few draws from the user's generator. Its one allocation
 * is the growth of the caller's buffer, which stops once the buffer fits. */
#include "plan/template.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "util/xalloc.h"

/* How much of a field the messages quote: enough to find it in a long body. */
#define QUOTE_MAX 48

/* ---- text helpers ---------------------------------------------------------- */

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* The bytes of a field, trimmed of blanks at both ends. */
typedef struct {
    const char *s;
    size_t n;
} span_t;

static span_t trim(const char *s, size_t n)
{
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    return (span_t){ s, n };
}

static bool span_is(span_t sp, const char *word)
{
    size_t wl = strlen(word);
    return sp.n == wl && memcmp(sp.s, word, wl) == 0;
}

/* A template can be any bytes (a body file), so what a message quotes is made
 * printable: other bytes become '?', and a long text is cut with "...". */
static const char *quote(char buf[QUOTE_MAX + 4], const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n > QUOTE_MAX) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}


/* The closest of n words to w within two edits, or NULL. */
static const char *closest(span_t w, const char *const *words, size_t n)
{
    return text_closest(w.s, w.n, words, n);
}

/* ---- the output buffer ----------------------------------------------------- */

void tbuf_reserve(tbuf_t *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return;
    /* Past SIZE_MAX the request cannot be met: asking for SIZE_MAX makes
     * xrealloc abort with its out-of-memory message. */
    size_t need = extra > SIZE_MAX - b->len ? SIZE_MAX : b->len + extra;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void tbuf_add(tbuf_t *b, const char *s, size_t n)
{
    if (n == 0)
        return;
    tbuf_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

void tbuf_free(tbuf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- filters --------------------------------------------------------------- */

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* In tfilter_t order: filter k is TF_URL + k. */
static const char *const FILTER_NAMES[] = { "url", "json", "base64" };
#define N_FILTERS (sizeof FILTER_NAMES / sizeof FILTER_NAMES[0])

/* The most bytes filter f can make of n: the room reserved before filtering,
 * so that filtering itself never reallocates under its own input. */
static size_t filter_max(tfilter_t f, size_t n)
{
    size_t per = f == TF_URL ? 3 : f == TF_JSON ? 6 : f == TF_BASE64 ? 2 : 1;
    if (n > SIZE_MAX / per - 4)
        return SIZE_MAX;            /* tbuf_reserve turns this into the abort */
    return f == TF_BASE64 ? (n + 2) / 3 * 4 : n * per;
}

static bool url_unreserved(unsigned char c)
{
    return is_alpha((char)c) || is_digit((char)c) || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* Writes the filtered bytes of s at dst (filter_max(f, n) bytes of room);
 * returns how many. s and dst must not overlap. */
static size_t filter_into(tfilter_t f, const char *s, size_t n, char *dst)
{
    const unsigned char *in = (const unsigned char *)s;
    char *o = dst;
    switch (f) {
    case TF_URL:
        for (size_t i = 0; i < n; i++) {
            unsigned char c = in[i];
            if (url_unreserved(c)) {
                *o++ = (char)c;
            } else {
                *o++ = '%';
                *o++ = HEX_UPPER[c >> 4];
                *o++ = HEX_UPPER[c & 15];
            }
        }
        break;
    case TF_JSON:
        /* Inside a JSON string: the quote, the backslash and the control
         * characters (RFC 8259 7). Bytes above ASCII go through as they are:
         * they are the caller's UTF-8, and JSON carries UTF-8 as is. */
        for (size_t i = 0; i < n; i++) {
            unsigned char c = in[i];
            char esc = 0;
            switch (c) {
            case '"': esc = '"'; break;
            case '\\': esc = '\\'; break;
            case '\n': esc = 'n'; break;
            case '\r': esc = 'r'; break;
            case '\t': esc = 't'; break;
            case '\b': esc = 'b'; break;
            case '\f': esc = 'f'; break;
            default: break;
            }
            if (esc != 0) {
                *o++ = '\\';
                *o++ = esc;
            } else if (c < 0x20) {
                memcpy(o, "\\u00", 4);
                o[4] = HEX_LOWER[c >> 4];
                o[5] = HEX_LOWER[c & 15];
                o += 6;
            } else {
                *o++ = (char)c;
            }
        }
        break;
    case TF_BASE64: {
        static const char B64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        size_t i = 0;
        for (; i + 3 <= n; i += 3) {
            uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
            *o++ = B64[v >> 18];
            *o++ = B64[(v >> 12) & 63];
            *o++ = B64[(v >> 6) & 63];
            *o++ = B64[v & 63];
        }
        if (n - i == 1) {
            uint32_t v = (uint32_t)in[i] << 16;
            *o++ = B64[v >> 18];
            *o++ = B64[(v >> 12) & 63];
            *o++ = '=';
            *o++ = '=';
        } else if (n - i == 2) {
            uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
            *o++ = B64[v >> 18];
            *o++ = B64[(v >> 12) & 63];
            *o++ = B64[(v >> 6) & 63];
            *o++ = '=';
        }
        break;
    }
    default:
        /* Not a filter: the bytes go through unchanged. */
        if (n > 0)
            memcpy(o, s, n);
        o += n;
        break;
    }
    return (size_t)(o - dst);
}

void tmpl_filter(tfilter_t f, const char *s, size_t n, tbuf_t *out)
{
    /* At least one byte, so that out->p is never NULL below (even for an
     * empty input: pointer arithmetic on NULL is undefined). */
    tbuf_reserve(out, n > 0 ? filter_max(f, n) : 1);
    out->len += filter_into(f, s, n, out->p + out->len);
}

/* Filters in place the bytes of out from start to its end, through each of
 * the piece's filters in turn. Each pass writes past the end of the value and
 * moves the result down: no second buffer, and once out is large enough for
 * the value and its longest filtered form, no allocation either. */
static void filter_tail(const tpiece_t *pc, tbuf_t *out, size_t start)
{
    for (unsigned k = 0; k < pc->n_filters; k++) {
        size_t n = out->len - start;
        tbuf_reserve(out, n > 0 ? filter_max((tfilter_t)pc->filters[k], n) : 1);
        size_t m = filter_into((tfilter_t)pc->filters[k], out->p + start, n, out->p + out->len);
        if (m > 0)
            memmove(out->p + start, out->p + out->len, m);
        out->len = start + m;
    }
}

/* ---- parsing --------------------------------------------------------------- */

/* The built-ins: their names, and the kind of piece each one is. */
static const char *const BUILTIN_NAMES[] = {
    "user.id", "iteration", "seq", "uuid", "now", "rand.int", "rand.str", "rand.pick",
};
#define N_BUILTINS (sizeof BUILTIN_NAMES / sizeof BUILTIN_NAMES[0])

const char *const *tmpl_builtins(size_t *n)
{
    *n = N_BUILTINS;
    return BUILTIN_NAMES;
}

bool tmpl_is_builtin(const char *name)
{
    for (size_t i = 0; i < N_BUILTINS; i++)
        if (strcmp(name, BUILTIN_NAMES[i]) == 0)
            return true;
    return false;
}
static const tpiece_kind_t BUILTIN_KINDS[] = {
    TP_USER_ID, TP_ITERATION, TP_SEQ, TP_UUID, TP_NOW, TP_RAND_INT, TP_RAND_STR, TP_RAND_PICK,
};
_Static_assert(sizeof BUILTIN_KINDS / sizeof BUILTIN_KINDS[0] == N_BUILTINS,
               "one kind per built-in name");

/* A piece appended to t, zeroed. */
static tpiece_t *add_piece(tmpl_t *t, size_t *cap)
{
    if (t->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        t->pieces = xrealloc(t->pieces, *cap * sizeof *t->pieces);
    }
    tpiece_t *pc = &t->pieces[t->n++];
    memset(pc, 0, sizeof *pc);
    return pc;
}

/* Ends the literal text gathered in lit as a piece of its own. */
static void flush_literal(tmpl_t *t, size_t *cap, tbuf_t *lit)
{
    if (lit->len == 0)
        return;
    tpiece_t *pc = add_piece(t, cap);
    pc->kind = TP_LIT;
    pc->lit = xmalloc(lit->len + 1);
    memcpy(pc->lit, lit->p, lit->len);
    pc->lit[lit->len] = '\0';   /* not counted: for whoever prints it */
    pc->lit_len = lit->len;
    lit->len = 0;
}

/* A decimal integer of int64_t, with an optional '-'; the whole span. */
static int parse_int64(span_t sp, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (sp.n > 0 && sp.s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == sp.n)
        return -1;
    /* Accumulate the magnitude unsigned: INT64_MIN's is one more than
     * INT64_MAX's, and signed overflow would be undefined. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < sp.n; i++) {
        if (!is_digit(sp.s[i]))
            return -1;
        unsigned d = (unsigned)(sp.s[i] - '0');
        if (v > (limit - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* The next word of args (blank-separated), moving args past it. */
static span_t next_word(span_t *args)
{
    *args = trim(args->s, args->n);
    size_t i = 0;
    while (i < args->n && !is_space(args->s[i]))
        i++;
    span_t w = { args->s, i };
    args->s += i;
    args->n -= i;
    *args = trim(args->s, args->n);
    return w;
}

static int int_arg(span_t w, const char *what, int64_t *v, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4];
    int rc = parse_int64(w, v);
    if (rc == -1)
        return text_fail(err, errlen, "%s: '%s' is not an integer", what, quote(q, w.s, w.n));
    if (rc == -2)
        return text_fail(err, errlen, "%s: %s is out of range (64-bit integers)", what,
                    quote(q, w.s, w.n));
    return 0;
}

/* The arguments of a built-in that takes some, into pc. */
static int builtin_args(tpiece_t *pc, span_t args, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4];
    switch (pc->kind) {
    case TP_RAND_INT: {
        span_t a = next_word(&args), b = next_word(&args);
        if (a.n == 0 || b.n == 0 || args.n != 0)
            return text_fail(err, errlen, "rand.int takes two integers, the bounds: {{rand.int 1 100}}");
        if (int_arg(a, "rand.int", &pc->a, err, errlen) != 0 ||
            int_arg(b, "rand.int", &pc->b, err, errlen) != 0)
            return -1;
        if (pc->a > pc->b)
            return text_fail(err, errlen, "rand.int: the lower bound comes first (%lld > %lld)",
                        (long long)pc->a, (long long)pc->b);
        return 0;
    }
    case TP_RAND_STR: {
        span_t a = next_word(&args);
        if (a.n == 0 || args.n != 0)
            return text_fail(err, errlen, "rand.str takes one integer, the length: {{rand.str 16}}");
        if (parse_int64(a, &pc->a) != 0 || pc->a < 1 || pc->a > TMPL_RAND_STR_MAX)
            return text_fail(err, errlen, "rand.str: the length must be from 1 to %d, not '%s'",
                        TMPL_RAND_STR_MAX, quote(q, a.s, a.n));
        return 0;
    }
    case TP_RAND_PICK: {
        if (args.n == 0)
            return text_fail(err, errlen, "rand.pick takes a comma-separated list: {{rand.pick a,b,c}}");
        size_t n = 1;
        for (size_t i = 0; i < args.n; i++)
            n += args.s[i] == ',';
        pc->picks = xcalloc(n, sizeof *pc->picks);
        const char *p = args.s, *end = args.s + args.n;
        for (size_t k = 0; k < n; k++) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *stop = comma ? comma : end;
            span_t item = trim(p, (size_t)(stop - p));
            if (item.n == 0)
                return text_fail(err, errlen, "rand.pick: item %zu of '%s' is empty", k + 1,
                            quote(q, args.s, args.n));
            pc->picks[k] = xstrndup(item.s, item.n);
            pc->n_picks = k + 1;
            p = stop + 1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* The name, arguments and filters of one field, the bytes between "{{" and
 * "}}", into a new piece of t. */
static int parse_field(tmpl_t *t, size_t *cap, const char *f, size_t n, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4], q2[QUOTE_MAX + 4];
    /* The field as written, for messages. */
    const char *whole = f - 2;
    size_t whole_n = n + 4;

    if (memchr(f, '\0', n) != NULL)
        return text_fail(err, errlen, "a NUL byte inside the field '%s'", quote(q, whole, whole_n));

    const char *bar = memchr(f, '|', n);
    span_t head = trim(f, bar ? (size_t)(bar - f) : n);
    span_t args = head;
    span_t name = next_word(&args);
    if (name.n == 0)
        return text_fail(err, errlen, "empty field '%s': a field names a value, as in {{uuid}}",
                    quote(q, whole, whole_n));
    if (!is_alpha(name.s[0]) && name.s[0] != '_')
        return text_fail(err, errlen, "bad field name '%s': a name starts with a letter or '_'",
                    quote(q, name.s, name.n));
    for (size_t i = 0; i < name.n; i++) {
        char c = name.s[i];
        if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' && c != '.')
            return text_fail(err, errlen,
                        "bad field name '%s': letters, digits, '_', '-' and '.' only",
                        quote(q, name.s, name.n));
    }

    tpiece_t *pc = add_piece(t, cap);
    pc->kind = TP_NAME;
    pc->name = xstrndup(name.s, name.n);

    size_t bi = 0;
    while (bi < N_BUILTINS && !span_is(name, BUILTIN_NAMES[bi]))
        bi++;
    if (bi < N_BUILTINS) {
        pc->kind = BUILTIN_KINDS[bi];
        bool takes_args = pc->kind == TP_RAND_INT || pc->kind == TP_RAND_STR ||
                          pc->kind == TP_RAND_PICK;
        if (!takes_args && args.n != 0)
            return text_fail(err, errlen, "%s takes no arguments (in '%s')", pc->name,
                        quote(q, whole, whole_n));
        if (takes_args && builtin_args(pc, args, err, errlen) != 0)
            return -1;
    } else {
        /* "rand." is the built-ins' own prefix: a name under it is a typo,
         * never a variable. */
        const char *guess = closest(name, BUILTIN_NAMES, N_BUILTINS);
        if (name.n >= 5 && memcmp(name.s, "rand.", 5) == 0) {
            if (guess != NULL)
                return text_fail(err, errlen, "unknown built-in '%s' (did you mean '%s'?)",
                            quote(q, name.s, name.n), guess);
            return text_fail(err, errlen,
                        "unknown built-in '%s' (rand.int A B, rand.str N, rand.pick a,b,c)",
                        quote(q, name.s, name.n));
        }
        if (args.n != 0) {
            if (guess != NULL)
                return text_fail(err, errlen,
                            "unexpected '%s' after '%s': only built-ins take arguments "
                            "(did you mean '%s'?)",
                            quote(q, args.s, args.n), pc->name, guess);
            return text_fail(err, errlen, "unexpected '%s' after '%s': only built-ins take arguments",
                        quote(q, args.s, args.n), quote(q2, name.s, name.n));
        }
    }

    /* The filters, left to right. */
    while (bar != NULL) {
        const char *p = bar + 1, *end = f + n;
        bar = memchr(p, '|', (size_t)(end - p));
        span_t fw = trim(p, (size_t)((bar ? bar : end) - p));
        if (fw.n == 0)
            return text_fail(err, errlen, "empty filter after '|' in '%s' (filters: url, json, base64)",
                        quote(q, whole, whole_n));
        size_t k = 0;
        while (k < N_FILTERS && !span_is(fw, FILTER_NAMES[k]))
            k++;
        if (k == N_FILTERS) {
            const char *guess = closest(fw, FILTER_NAMES, N_FILTERS);
            if (guess != NULL)
                return text_fail(err, errlen, "unknown filter '%s' (did you mean '%s'?)",
                            quote(q, fw.s, fw.n), guess);
            return text_fail(err, errlen, "unknown filter '%s' (filters: url, json, base64)",
                        quote(q, fw.s, fw.n));
        }
        if (pc->n_filters == TMPL_MAX_FILTERS)
            return text_fail(err, errlen, "more than %d filters in '%s'", TMPL_MAX_FILTERS,
                        quote(q, whole, whole_n));
        pc->filters[pc->n_filters++] = (unsigned char)(TF_URL + k);
    }
    return 0;
}

static bool is_field_start(const char *text, size_t len, size_t i)
{
    return i + 1 < len && text[i] == '{' && text[i + 1] == '{';
}

int tmpl_parse(const char *text, size_t len, tmpl_t *out, char *err, size_t errlen)
{
    char q[QUOTE_MAX + 4];
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    tbuf_t lit = { 0 };          /* the literal text since the last field */
    size_t i = 0;
    while (i < len) {
        /* Copy the run of plain text up to the next '{' or '\' at once. */
        size_t j = i;
        while (j < len && text[j] != '{' && text[j] != '\\')
            j++;
        tbuf_add(&lit, text + i, j - i);
        i = j;
        if (i == len)
            break;
        if (text[i] == '\\') {
            if (is_field_start(text, len, i + 1)) {
                tbuf_add(&lit, "{{", 2);
                i += 3;
            } else {
                tbuf_add(&lit, "\\", 1);
                i++;
            }
            continue;
        }
        /* A run of three or more braces: the field is the last two, the
         * others are text ("{{{x}}}" is "{", the field x, "}"). */
        if (!is_field_start(text, len, i) || is_field_start(text, len, i + 1)) {
            tbuf_add(&lit, "{", 1);
            i++;
            continue;
        }
        size_t f = i + 2, e = f;
        while (e + 1 < len && !(text[e] == '}' && text[e + 1] == '}') &&
               !is_field_start(text, len, e))
            e++;
        if (e + 1 >= len || text[e] == '{') {
            text_fail(err, errlen, "unclosed '{{' at '%s' (a field ends with '}}'; "
                              "write a literal '{{' as '\\{{')",
                 quote(q, text + i, len - i));
            goto fail;
        }
        flush_literal(out, &cap, &lit);
        if (parse_field(out, &cap, text + f, e - f, err, errlen) != 0)
            goto fail;
        i = e + 2;
    }
    flush_literal(out, &cap, &lit);
    tbuf_free(&lit);
    out->dynamic = false;
    for (size_t k = 0; k < out->n; k++)
        if (out->pieces[k].kind != TP_LIT)
            out->dynamic = true;
    return 0;
fail:
    tbuf_free(&lit);
    tmpl_free(out);
    return -1;
}

/* ---- resolving --------------------------------------------------------------- */

static void piece_free(tpiece_t *pc)
{
    free(pc->lit);
    free(pc->name);
    for (size_t i = 0; i < pc->n_picks; i++)
        free(pc->picks[i]);
    free(pc->picks);
    memset(pc, 0, sizeof *pc);
}

void tmpl_free(tmpl_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        piece_free(&t->pieces[i]);
    free(t->pieces);
    memset(t, 0, sizeof *t);
}

void tmpl_cut(tmpl_t *t, char c)
{
    for (size_t i = 0; i < t->n; i++) {
        tpiece_t *pc = &t->pieces[i];
        char *at = pc->kind == TP_LIT ? memchr(pc->lit, c, pc->lit_len) : NULL;
        if (!at)
            continue;
        pc->lit_len = (size_t)(at - pc->lit);
        *at = '\0';
        for (size_t j = i + 1; j < t->n; j++)
            piece_free(&t->pieces[j]);
        t->n = i + 1;
        t->dynamic = false;
        for (size_t j = 0; j < t->n; j++)
            if (t->pieces[j].kind != TP_LIT)
                t->dynamic = true;
        return;
    }
}

int tmpl_resolve(tmpl_t *t, tmpl_lookup_cb lookup, void *arg, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->n; i++) {
        tpiece_t *pc = &t->pieces[i];
        if (pc->kind != TP_NAME)
            continue;
        char why[256];
        why[0] = '\0';
        if (lookup(arg, pc->name, pc, why, sizeof why) != 0) {
            if (why[0] != '\0')
                return text_fail(err, errlen, "%s", why);
            return text_fail(err, errlen, "unknown name '%s'", pc->name);
        }
        if (pc->kind == TP_LIT) {
            if (pc->lit == NULL)
                pc->lit_len = 0;
            else if (pc->lit_len == 0)
                pc->lit_len = strlen(pc->lit);
            /* A copy of our own, so that every literal ends with a NUL past
             * lit_len whatever the lookup allocated (a value given by length
             * may have none). Once per field, when the plan is read. */
            char *copy = xmalloc(pc->lit_len + 1);
            if (pc->lit_len > 0)
                memcpy(copy, pc->lit, pc->lit_len);
            copy[pc->lit_len] = '\0';
            free(pc->lit);
            pc->lit = copy;
        } else if (pc->kind != TP_VAR && pc->kind != TP_DATA) {
            /* A lookup bug, but a plan error is the kinder way to find it. */
            return text_fail(err, errlen, "'%s' was not resolved", pc->name);
        }
    }

    /* Literals with filters are filtered now, once; then each run of
     * literals becomes one piece, and empty ones go. A literal is no field
     * any more: it keeps no name and no filters. */
    tbuf_t buf = { 0 };
    size_t w = 0;
    for (size_t i = 0; i < t->n; i++) {
        tpiece_t *pc = &t->pieces[i];
        if (pc->kind != TP_LIT) {
            t->pieces[w++] = *pc;
            continue;
        }
        if (pc->n_filters > 0) {
            buf.len = 0;
            tbuf_add(&buf, pc->lit, pc->lit_len);
            filter_tail(pc, &buf, 0);
            free(pc->lit);
            pc->lit = xmalloc(buf.len + 1);
            memcpy(pc->lit, buf.p, buf.len);
            pc->lit[buf.len] = '\0';
            pc->lit_len = buf.len;
            pc->n_filters = 0;
        }
        free(pc->name);
        pc->name = NULL;
        tpiece_t *prev = w > 0 && t->pieces[w - 1].kind == TP_LIT ? &t->pieces[w - 1] : NULL;
        if (pc->lit_len == 0) {
            piece_free(pc);
        } else if (prev != NULL) {
            prev->lit = xrealloc(prev->lit, prev->lit_len + pc->lit_len + 1);
            memcpy(prev->lit + prev->lit_len, pc->lit, pc->lit_len);
            prev->lit_len += pc->lit_len;
            prev->lit[prev->lit_len] = '\0';
            piece_free(pc);
        } else {
            t->pieces[w++] = *pc;
        }
    }
    tbuf_free(&buf);
    t->n = w;
    if (w == 0) {
        free(t->pieces);
        t->pieces = NULL;
    }
    t->dynamic = false;
    for (size_t i = 0; i < t->n; i++)
        if (t->pieces[i].kind != TP_LIT)
            t->dynamic = true;
    return 0;
}

/* ---- rendering --------------------------------------------------------------- */

static void add_u64(tbuf_t *out, uint64_t v)
{
    char d[20];
    size_t n = 0;
    do {
        d[sizeof d - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    tbuf_add(out, d + sizeof d - n, n);
}

static void add_i64(tbuf_t *out, int64_t v)
{
    if (v < 0) {
        tbuf_add(out, "-", 1);
        /* The magnitude unsigned: -INT64_MIN does not fit an int64_t. */
        add_u64(out, 0 - (uint64_t)v);
    } else {
        add_u64(out, (uint64_t)v);
    }
}

/* Uniform in [0, n), n > 0, without modulo bias: Lemire's multiply-shift,
 * redrawing in the rare case that lands in the short stretch (at most n of
 * 2^64 values). */
static uint64_t uniform_below(rng_t *rng, uint64_t n)
{
    __extension__ typedef unsigned __int128 u128;
    u128 m = (u128)rng_next(rng) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (u128)rng_next(rng) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

static int64_t rand_between(rng_t *rng, int64_t a, int64_t b)
{
    /* The width in unsigned arithmetic, which wraps where signed would be
     * undefined; [INT64_MIN, INT64_MAX] is every 64-bit value. */
    uint64_t span = (uint64_t)b - (uint64_t)a;
    uint64_t off = span == UINT64_MAX ? rng_next(rng) : uniform_below(rng, span + 1);
    uint64_t v = (uint64_t)a + off;
    /* Back to signed: values above INT64_MAX stand for negatives. Written
     * out so as not to rely on the implementation-defined conversion. */
    return v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(UINT64_MAX - v) - 1;
}

static void add_uuid(tbuf_t *out, rng_t *rng)
{
    unsigned char b[16];
    uint64_t hi = rng_next(rng), lo = rng_next(rng);
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(hi >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(lo >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4: random */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* variant: RFC 4122 */
    tbuf_reserve(out, 36);
    char *o = out->p + out->len;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = HEX_LOWER[b[i] >> 4];
        *o++ = HEX_LOWER[b[i] & 15];
    }
    out->len += 36;
}

static void add_rand_str(tbuf_t *out, rng_t *rng, size_t n)
{
    static const char ALNUM[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    tbuf_reserve(out, n);
    char *o = out->p + out->len;
    size_t made = 0;
    /* Ten 6-bit draws per 64 bits, the two of 64 values beyond the 62
     * characters thrown away: exactly uniform, one draw per ~9.7 characters. */
    while (made < n) {
        uint64_t bits = rng_next(rng);
        for (int k = 0; k < 10 && made < n; k++, bits >>= 6)
            if ((bits & 63) < 62)
                o[made++] = ALNUM[bits & 63];
    }
    out->len += n;
}

/* Appends one piece's value, before its filters. */
static int render_value(const tpiece_t *pc, const tmpl_ctx_t *ctx, tbuf_t *out,
                        const char **unset)
{
    switch (pc->kind) {
    case TP_LIT:
        tbuf_add(out, pc->lit, pc->lit_len);
        return 0;
    case TP_VAR: {
        const tvar_t *v = &ctx->vars[pc->slot];
        if (!v->set) {
            *unset = pc->name;
            return -1;
        }
        tbuf_add(out, v->p, v->len);
        return 0;
    }
    case TP_DATA: {
        size_t n = 0;
        const char *s = ctx->cell(ctx->cell_arg, pc->slot, pc->column, &n);
        if (s != NULL)
            tbuf_add(out, s, n);
        return 0;
    }
    case TP_USER_ID:
        add_u64(out, ctx->user_id);
        return 0;
    case TP_ITERATION:
        add_u64(out, ctx->iteration);
        return 0;
    case TP_SEQ:
    {
        uint64_t k = __atomic_add_fetch(ctx->seq, 1, __ATOMIC_RELAXED);
        add_u64(out, ctx->seq_ranks > 1 ? (k - 1) * ctx->seq_ranks + ctx->seq_rank + 1 : k);
    }
        return 0;
    case TP_UUID:
        add_uuid(out, ctx->rng);
        return 0;
    case TP_NOW:
        add_u64(out, ctx->now_ms);
        return 0;
    case TP_RAND_INT:
        add_i64(out, rand_between(ctx->rng, pc->a, pc->b));
        return 0;
    case TP_RAND_STR:
        add_rand_str(out, ctx->rng, (size_t)pc->a);
        return 0;
    case TP_RAND_PICK: {
        const char *s = pc->picks[uniform_below(ctx->rng, pc->n_picks)];
        tbuf_add(out, s, strlen(s));
        return 0;
    }
    case TP_NAME:
    default:
        /* Never resolved: the caller skipped tmpl_resolve. Reported like a
         * variable without a value rather than rendered as nothing. */
        *unset = pc->name;
        return -1;
    }
}

int tmpl_render(const tmpl_t *t, const tmpl_ctx_t *ctx, tbuf_t *out, const char **unset)
{
    for (size_t i = 0; i < t->n; i++) {
        const tpiece_t *pc = &t->pieces[i];
        if (pc->kind == TP_LIT && pc->n_filters == 0) {
            tbuf_add(out, pc->lit, pc->lit_len);
            continue;
        }
        size_t start = out->len;
        if (render_value(pc, ctx, out, unset) != 0)
            return -1;
        filter_tail(pc, out, start);
    }
    return 0;
}

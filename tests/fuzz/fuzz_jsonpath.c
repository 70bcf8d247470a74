/* fuzz_jsonpath: JSON paths, extracts and expectations (include/plan/extract.h).
 *
 * Byte 0 picks the size of the error buffer (1-256 bytes, on the heap so
 * ASan sees an overrun). The rest, up to its first newline, is one text
 * given to jpath_parse, extract_parse and expect_parse (both kinds); after
 * the newline comes a response body, which every parsed extract and
 * expectation is run on (with a fixed set of headers), and so are a fixed
 * set of JSON extracts and expectations (FIXED_EXTRACTS, FIXED_EXPECTS).
 * Promises checked:
 *   - a failure leaves the output empty (its _free still safe) and explains
 *     itself in err, NUL-terminated within any err size;
 *   - a parsed path keeps its text as written, has at most 64 steps, and
 *     written back in canonical form (["name"], [N], [last], [*]) parses to
 *     the same steps;
 *   - a parsed extract names a variable (letters, digits, '-', '_', not a
 *     digit first) and says which parts of a response it needs;
 *   - extract_run and expect_check answer 0 or -1; a value is non-NULL,
 *     lies in the body, the headers or the scratch and has the length
 *     given; a reason is non-empty, short, and free of control bytes,
 *     whatever the body held; the same call again gives the same answer
 *     (nothing is kept between calls);
 *   - where jansson reads the whole body as JSON (no member named twice,
 *     no NUL byte, not nested past hopper's 100 levels), the fixed extracts and
 *     expectations agree with a walk of jansson's document: the same value
 *     (a string's bytes; a number, array or object reading back equal), the
 *     same "no ... in the response", the same verdict. yajl reads the body
 *     as a stream and stops at the value, so this is what keeps the two
 *     honest. */
#include <jansson.h>
#include <stdbool.h>

#include "fuzz.h"
#include "plan/extract.h"

static const char HEADERS[] = "Content-Type: application/json\r\n"
                              "Set-Cookie: session=abc; Path=/\r\n"
                              "Set-Cookie: theme = dark\r\n"
                              "X-Request-Id: 42\r\n";

static void check_err(const char *err, size_t errlen)
{
    FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
    if (errlen > 1)
        FUZZ_CHECK(err[0] != '\0');
}

/* A reason a person reads: short, and nothing a terminal would obey. */
static void check_reason(const char *why)
{
    size_t n = strlen(why);
    FUZZ_CHECK(n > 0 && n < 900);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)why[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7f);
    }
}

static char *canonical(const jpath_t *p)
{
    size_t cap = 8;
    for (size_t i = 0; i < p->n; i++)
        cap += 32 + (p->steps[i].member ? 2 * strlen(p->steps[i].member) : 0);
    char *s = malloc(cap);
    FUZZ_CHECK(s != NULL);
    size_t o = 0;
    s[o++] = '$';
    for (size_t i = 0; i < p->n; i++) {
        const jstep_t *st = &p->steps[i];
        if (st->kind == JP_MEMBER) {
            s[o++] = '[';
            s[o++] = '"';
            for (const char *c = st->member; *c; c++) {
                if (*c == '"' || *c == '\\')
                    s[o++] = '\\';
                s[o++] = *c;
            }
            s[o++] = '"';
            s[o++] = ']';
        } else if (st->kind == JP_INDEX) {
            o += (size_t)snprintf(s + o, cap - o, "[%lld]", (long long)st->index);
        } else if (st->kind == JP_LAST) {
            memcpy(s + o, "[last]", 6);
            o += 6;
        } else {
            memcpy(s + o, "[*]", 3);
            o += 3;
        }
    }
    s[o] = '\0';
    return s;
}

static void check_path(const char *text, size_t errlen)
{
    char *err = malloc(errlen);
    FUZZ_CHECK(err != NULL);
    jpath_t p;
    int rc = jpath_parse(text, &p, err, errlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        check_err(err, errlen);
        FUZZ_CHECK(p.steps == NULL && p.n == 0 && p.text == NULL);
        jpath_free(&p);
        free(err);
        return;
    }
    FUZZ_CHECK(p.text != NULL && strcmp(p.text, text) == 0);
    FUZZ_CHECK(p.n <= 64);
    for (size_t i = 0; i < p.n; i++) {
        const jstep_t *st = &p.steps[i];
        FUZZ_CHECK(st->kind >= JP_MEMBER && st->kind <= JP_ALL);
        FUZZ_CHECK((st->kind == JP_MEMBER) == (st->member != NULL));
    }
    char *canon = canonical(&p);
    jpath_t q;
    char err2[256];
    FUZZ_CHECK(jpath_parse(canon, &q, err2, sizeof err2) == 0);
    FUZZ_CHECK(q.n == p.n);
    for (size_t i = 0; i < p.n; i++) {
        FUZZ_CHECK(q.steps[i].kind == p.steps[i].kind);
        if (p.steps[i].kind == JP_MEMBER)
            FUZZ_CHECK(strcmp(q.steps[i].member, p.steps[i].member) == 0);
        if (p.steps[i].kind == JP_INDEX)
            FUZZ_CHECK(q.steps[i].index == p.steps[i].index);
    }
    jpath_free(&q);
    free(canon);
    jpath_free(&p);
    FUZZ_CHECK(p.steps == NULL && p.text == NULL);
    free(err);
}

/* Whether a value of n bytes at v lies inside [base, base + len]. */
static bool inside(const char *v, size_t n, const char *base, size_t len)
{
    return base != NULL && v >= base && v + n <= base + len;
}

/* A regex with a back-reference can take exponential time on a body: not
 * what this target is after. */
static bool has_backref(const char *re)
{
    for (const char *p = re; *p; p++)
        if (p[0] == '\\' && p[1] >= '1' && p[1] <= '9')
            return true;
    return false;
}

/* Runs a parsed extract on r twice (with and without a generator) and
 * checks what it answers; returns the answer of the run without one, its
 * value copied into *copy (malloc'd, or NULL) or its reason into why. */
static int run_extract(const extract_t *e, resp_t *r, size_t errlen)
{
    rng_t rng;
    rng_seed(&rng, 1);
    char *scratch = NULL;
    size_t cap = 0;
    int first = 0;
    for (int round = 0; round < 2; round++) {
        const char *val = NULL;
        size_t len = 0;
        char why[1024];
        int rc = extract_run(e, r, round ? &rng : NULL, &scratch, &cap, &val, &len, why,
                             sizeof why);
        FUZZ_CHECK(rc == 0 || rc == -1);
        if (round == 0)
            first = rc;
        char *copy = NULL;
        if (rc != 0) {
            check_reason(why);
        } else {
            FUZZ_CHECK(val != NULL);
            FUZZ_CHECK(inside(val, len, r->body, r->body_len) ||
                       inside(val, len, r->headers, r->headers_len) ||
                       inside(val, len, scratch, cap));
            /* Every byte of it readable (ASan reports it otherwise). */
            copy = malloc(len + 1);
            FUZZ_CHECK(copy != NULL);
            memcpy(copy, val, len);
        }
        /* The same again, without a generator: the same answer (with [*]
         * and no generator, the first value); nothing was kept. */
        const char *v2 = NULL;
        size_t l2 = 0;
        char why2[1024];
        int rc2 = extract_run(e, r, NULL, &scratch, &cap, &v2, &l2, why2, sizeof why2);
        if (round == 0) {
            FUZZ_CHECK(rc2 == rc);
            if (rc == 0)
                FUZZ_CHECK(l2 == len && memcmp(v2, copy, len) == 0);
            else
                FUZZ_CHECK(strcmp(why, why2) == 0);
        }
        free(copy);
        /* Small reason buffers are respected. */
        const char *v3;
        size_t l3;
        char *small = malloc(errlen);
        FUZZ_CHECK(small != NULL);
        if (extract_run(e, r, NULL, &scratch, &cap, &v3, &l3, small, errlen) != 0)
            FUZZ_CHECK(memchr(small, '\0', errlen) != NULL);
        free(small);
    }
    free(scratch);
    return first;
}

static void check_extract(const char *text, size_t errlen, resp_t *r)
{
    char *err = malloc(errlen);
    FUZZ_CHECK(err != NULL);
    extract_t e;
    int rc = extract_parse(text, &e, err, errlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        check_err(err, errlen);
        FUZZ_CHECK(e.var == NULL && e.text == NULL && e.name == NULL && e.path.steps == NULL);
        FUZZ_CHECK(!e.re_compiled);
        extract_free(&e);
        free(err);
        return;
    }
    FUZZ_CHECK(e.var != NULL && e.var[0] != '\0' && !(e.var[0] >= '0' && e.var[0] <= '9'));
    for (const char *c = e.var; *c; c++)
        FUZZ_CHECK((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_');
    FUZZ_CHECK(e.text != NULL && strstr(text, e.text) != NULL);
    FUZZ_CHECK(extract_needs_body(&e) == (e.kind == EX_JSON || e.kind == EX_REGEX));
    FUZZ_CHECK(extract_needs_headers(&e) == (e.kind == EX_HEADER || e.kind == EX_COOKIE));
    FUZZ_CHECK((e.kind == EX_REGEX) == e.re_compiled);
    FUZZ_CHECK((e.kind == EX_HEADER || e.kind == EX_COOKIE) == (e.name != NULL));

    if (e.kind != EX_REGEX || !has_backref(e.text))
        run_extract(&e, r, errlen);
    extract_free(&e);
    FUZZ_CHECK(e.var == NULL && e.text == NULL);
    free(err);
}

static void check_expect(const char *text, bool json, size_t errlen, resp_t *r)
{
    char *err = malloc(errlen);
    FUZZ_CHECK(err != NULL);
    expect_t x;
    int rc = expect_parse(text, json, &x, err, errlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        check_err(err, errlen);
        FUZZ_CHECK(x.value == NULL && x.text == NULL && x.name == NULL && x.substring == NULL &&
                   x.path.steps == NULL);
        expect_free(&x);
        free(err);
        return;
    }
    FUZZ_CHECK(x.text != NULL);
    if (json) {
        FUZZ_CHECK(x.kind == EXPECT_JSON_EQ || x.kind == EXPECT_JSON_NE ||
                   x.kind == EXPECT_JSON_EXISTS);
        FUZZ_CHECK((x.value != NULL) == (x.kind != EXPECT_JSON_EXISTS));
        FUZZ_CHECK(x.path.text != NULL && x.path.text[0] == '$');
    } else {
        FUZZ_CHECK(x.kind == EXPECT_HEADER);
        FUZZ_CHECK(x.name != NULL && x.name[0] != '\0' && x.substring != NULL);
        FUZZ_CHECK(strchr(x.name, ':') == NULL);
    }
    char why[1024];
    rc = expect_check(&x, r, why, sizeof why);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0)
        check_reason(why);
    /* The same answer again, from the parsed document, in any buffer size. */
    char *small = malloc(errlen);
    FUZZ_CHECK(small != NULL);
    FUZZ_CHECK(expect_check(&x, r, small, errlen) == rc);
    if (rc != 0)
        FUZZ_CHECK(memchr(small, '\0', errlen) != NULL);
    free(small);
    expect_free(&x);
    FUZZ_CHECK(x.text == NULL && x.value == NULL);
    free(err);
}

/* ---- fixed paths, against jansson ------------------------------------------------- */

static const char *const FIXED_EXTRACTS[] = {
    "v json $",          "v json $.a",        "v json $.a.b",     "v json $[0]",
    "v json $[1].x",     "v json $[-1]",      "v json $[last].a", "v json $.a[-2]",
    "v json $[\"\"]",    "v json $.a[0][1]",  "v json $[*]",      "v json $.a[*].b",
    "v json $[*][*]",    "v json $[-2][-1]",
};

static const char *const FIXED_EXPECTS[] = {
    "$.a == 1",          "$.a == \"x\"",      "$[0] == true",     "$.a != null",
    "$ exists",          "$[-1] exists",      "$[*] == 1",        "$[*] != 0",
    "$.a[*].b exists",   "$ == [1, {\"a\": 2.0}]", "$.a == {\"b\": [1, \"x\"]}",
    "$[last] != [1]",    "$.a[*] == 1.5",     "$[*][*] != \"\"",
};

/* JSON equality as hopper's expect-json has it: numbers by value. */
static bool same(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b))
            return json_integer_value(a) == json_integer_value(b);
        return json_number_value(a) == json_number_value(b);
    }
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_array(a)) {
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!same(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    if (json_is_object(a)) {
        if (json_object_size(a) != json_object_size(b))
            return false;
        const char *key;
        json_t *va;
        json_object_foreach((json_t *)a, key, va) {
            json_t *vb = json_object_get(b, key);
            if (vb == NULL || !same(va, vb))
                return false;
        }
        return true;
    }
    return json_equal(a, b);
}

/* What a path selects in jansson's document: the first value, how many,
 * and how many equal want (if given). */
typedef struct {
    const json_t *want;
    json_t *first;
    size_t total, equal;
} found_t;

static void walk(json_t *node, const jpath_t *p, size_t i, found_t *f)
{
    for (; i < p->n; i++) {
        const jstep_t *st = &p->steps[i];
        if (st->kind == JP_MEMBER) {
            node = json_is_object(node) ? json_object_get(node, st->member) : NULL;
        } else if (st->kind == JP_INDEX || st->kind == JP_LAST) {
            if (!json_is_array(node))
                return;
            int64_t k = st->index, n = (int64_t)json_array_size(node);
            if (k < 0)
                k += n;
            node = k >= 0 && k < n ? json_array_get(node, (size_t)k) : NULL;
        } else {
            size_t k;
            const char *key;
            json_t *el;
            if (json_is_array(node)) {
                json_array_foreach(node, k, el) walk(el, p, i + 1, f);
            } else if (json_is_object(node)) {
                json_object_foreach(node, key, el) walk(el, p, i + 1, f);
            }
            return;
        }
        if (node == NULL)
            return;
    }
    if (f->total++ == 0)
        f->first = node;
    if (f->want != NULL && same(node, f->want))
        f->equal++;
}

static bool too_deep(const char *why)
{
    return strstr(why, "too deeply") != NULL;
}

static void check_fixed(resp_t *r)
{
    /* The oracle: jansson, where it reads the whole body, with no member
     * named twice (yajl's stream takes the first, jansson the last) and no
     * NUL byte (jansson 2.14 passes over one between tokens; yajl does not). */
    bool nul = r->body_len > 0 && memchr(r->body, '\0', r->body_len) != NULL;
    json_t *doc = r->body_len > 0 && !nul ? json_loadb(r->body, r->body_len,
                                               JSON_DECODE_ANY | JSON_ALLOW_NUL |
                                               JSON_REJECT_DUPLICATES, NULL)
                                  : NULL;
    for (size_t i = 0; i < sizeof FIXED_EXTRACTS / sizeof FIXED_EXTRACTS[0]; i++) {
        extract_t e;
        char err[256];
        FUZZ_CHECK(extract_parse(FIXED_EXTRACTS[i], &e, err, sizeof err) == 0);
        run_extract(&e, r, 64);
        char *scratch = NULL;
        size_t cap = 0;
        const char *val = NULL;
        size_t len = 0;
        char why[1024];
        int rc = extract_run(&e, r, NULL, &scratch, &cap, &val, &len, why, sizeof why);
        if (rc != 0 && doc == NULL)
            FUZZ_CHECK(strncmp(why, "the body is not JSON (", 22) == 0 || too_deep(why) ||
                       strncmp(why, "no ", 3) == 0);
        if (doc != NULL && !(rc != 0 && too_deep(why))) {
            found_t f = { 0 };
            walk(doc, &e.path, 0, &f);
            if (f.total == 0) {
                FUZZ_CHECK(rc == -1 && strncmp(why, "no ", 3) == 0);
            } else {
                FUZZ_CHECK(rc == 0);
                /* Without a generator, [*] takes the first in the body. */
                const json_t *w = f.first;
                if (json_is_string(w)) {
                    FUZZ_CHECK(len == json_string_length(w) &&
                               memcmp(val, json_string_value(w), len) == 0);
                } else if (json_is_true(w) || json_is_false(w) || json_is_null(w)) {
                    const char *lit = json_is_true(w) ? "true" : json_is_false(w) ? "false"
                                                                                 : "null";
                    FUZZ_CHECK(len == strlen(lit) && memcmp(val, lit, len) == 0);
                } else {
                    json_t *back = json_loadb(val, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                    FUZZ_CHECK(back != NULL && json_equal(back, w));
                    json_decref(back);
                }
            }
        }
        free(scratch);
        extract_free(&e);
    }
    for (size_t i = 0; i < sizeof FIXED_EXPECTS / sizeof FIXED_EXPECTS[0]; i++) {
        expect_t x;
        char err[256];
        FUZZ_CHECK(expect_parse(FIXED_EXPECTS[i], true, &x, err, sizeof err) == 0);
        char why[1024];
        int rc = expect_check(&x, r, why, sizeof why);
        FUZZ_CHECK(rc == 0 || rc == -1);
        if (rc != 0)
            check_reason(why);
        char why2[1024];
        FUZZ_CHECK(expect_check(&x, r, why2, sizeof why2) == rc);
        if (rc != 0)
            FUZZ_CHECK(strcmp(why, why2) == 0);
        if (doc != NULL && !(rc != 0 && too_deep(why))) {
            found_t f = { .want = x.value };
            walk(doc, &x.path, 0, &f);
            bool holds = x.kind == EXPECT_JSON_EXISTS ? f.total > 0
                         : x.kind == EXPECT_JSON_EQ   ? f.total > 0 && f.equal == f.total
                                                      : f.equal == 0;
            if (holds != (rc == 0))
                fprintf(stderr, "%s: rc %d (%s), jansson: %zu selected, %zu equal\n",
                        FIXED_EXPECTS[i], rc, rc ? why : "", f.total, f.equal);
            FUZZ_CHECK(holds == (rc == 0));
        }
        expect_free(&x);
    }
    json_decref(doc);
}

/* Random bodies rarely are JSON, and the comparison with jansson above
 * needs JSON: so the body's bytes also drive a small generator of
 * documents (members a, b, x and odd ones; nested arrays and objects;
 * strings with escapes and a NUL; integers up to 64 bits; reals), which
 * jansson writes out in a style the last byte picks (compact or indented,
 * ASCII-only or not), and check_fixed runs on that text too. */
typedef struct {
    const uint8_t *p, *end;
    int nodes;
} gen_t;

static uint8_t gen_byte(gen_t *g)
{
    return g->p < g->end ? *g->p++ : 0;
}

static json_t *gen_value(gen_t *g, int depth)
{
    static const char *const names[] = { "a", "b", "x", "", "\xc3\xa9", "q\"k", "a b", "0" };
    static const double reals[] = { 0.5, -1.25, 1e300, 3.0, 0.1, 1.0, -0.0, 2.5e-8 };
    static const long long ints[] = { 0, 1, -1, 2, 10, 9223372036854775807LL,
                                      -9223372036854775807LL - 1, 1972 };
    uint8_t b = gen_byte(g);
    g->nodes++;
    bool leaf = depth >= 8 || g->nodes > 200;
    switch (b % 10) {
    case 0:
        return json_integer(ints[(b >> 4) % 8]);
    case 1:
        return json_real(reals[(b >> 4) % 8]);
    case 2:
        if ((b >> 4) == 15)
            return json_stringn("a\0b", 3);
        if ((b >> 4) == 14)
            return json_string("line\n\x1b[2J \\ / \xf0\x9f\x98\x80");
        return json_string(names[(b >> 4) % 8]);
    case 3:
        return json_boolean(b & 16);
    case 4:
        return json_null();
    case 5:
    case 6:
    case 7: {
        if (leaf)
            return json_integer(b);
        json_t *a = json_array();
        for (int n = gen_byte(g) % 5; n > 0; n--)
            json_array_append_new(a, gen_value(g, depth + 1));
        return a;
    }
    default: {
        if (leaf)
            return json_string("leaf");
        json_t *o = json_object();
        for (int n = gen_byte(g) % 5; n > 0; n--)
            json_object_set_new(o, names[gen_byte(g) % 8], gen_value(g, depth + 1));
        return o;
    }
    }
}

static void check_generated(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    gen_t g = { data, data + size - 1, 0 };
    json_t *doc = gen_value(&g, 0);
    uint8_t style = data[size - 1];
    size_t flags = JSON_ENCODE_ANY | ((style & 1) ? JSON_COMPACT : JSON_INDENT(style % 4)) |
                   ((style & 8) ? JSON_ENSURE_ASCII : 0) | ((style & 16) ? JSON_ESCAPE_SLASH : 0);
    char *text = json_dumps(doc, flags);
    json_decref(doc);
    FUZZ_CHECK(text != NULL);
    /* In its own allocation, exactly its length, so ASan sees an overrun. */
    size_t n = strlen(text);
    char *body = fuzz_cstr((const uint8_t *)text, n);
    free(text);
    resp_t r = { .status = 200, .body = body, .body_len = n };
    check_fixed(&r);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t errlen = (size_t)data[0] + 1;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    const uint8_t *nl = memchr(rest, '\n', n);
    size_t text_len = nl ? (size_t)(nl - rest) : n;
    char *text = fuzz_cstr(rest, text_len);
    /* The body keeps every byte (NULs too), NUL-terminated as the engine
     * hands it over; in its own allocation so ASan sees any overrun. */
    size_t body_len = nl ? n - text_len - 1 : 0;
    char *body = fuzz_cstr(nl ? nl + 1 : rest, body_len);
    resp_t r = { .status = 200, .body = body, .body_len = body_len, .headers = HEADERS,
                 .headers_len = sizeof HEADERS - 1 };

    check_path(text, errlen);
    check_extract(text, errlen, &r);
    check_expect(text, true, errlen, &r);
    check_expect(text, false, errlen, &r);
    check_fixed(&r);
    check_generated(nl ? nl + 1 : rest, body_len);
    resp_clear(&r);

    free(body);
    free(text);
    return 0;
}

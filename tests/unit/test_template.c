/* test_template: tmpl_parse, tmpl_resolve, tmpl_render and the filters. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "plan/template.h"

/* ---- helpers ------------------------------------------------------------- */

static int parse(const char *text, tmpl_t *t, char *err, size_t errlen)
{
    return tmpl_parse(text, strlen(text), t, err, errlen);
}

/* Parses text, which must fail with a message containing word. */
static void expect_parse_error(const char *text, const char *word)
{
    tmpl_t t;
    char err[256] = "";
    int rc = parse(text, &t, err, sizeof err);
    if (rc != -1 || strstr(err, word) == NULL)
        printf("#   '%s': rc %d, message '%s' (expected one with '%s')\n", text, rc, err, word);
    CHECK_INT(rc, -1);
    CHECK(strstr(err, word) != NULL);
    /* A failed parse leaves nothing to free. */
    CHECK(t.pieces == NULL);
    CHECK_INT(t.n, 0);
}

/* The rendering of t as a C string in buf (the tbuf is NUL-terminated here,
 * which tmpl_render does not promise). */
static const char *render_str(const tmpl_t *t, const tmpl_ctx_t *ctx, tbuf_t *buf)
{
    const char *unset = NULL;
    buf->len = 0;
    int rc = tmpl_render(t, ctx, buf, &unset);
    CHECK_INT(rc, 0);
    tbuf_add(buf, "", 1);
    buf->len--;
    return buf->p;
}

static const char *filter_str(tfilter_t f, const char *s, size_t n, tbuf_t *buf)
{
    buf->len = 0;
    tmpl_filter(f, s, n, buf);
    tbuf_add(buf, "", 1);
    buf->len--;
    return buf->p;
}

/* The plan's side of tmpl_resolve, as a test stands in for it. */
static int test_lookup(void *arg, const char *name, tpiece_t *piece, char *why, size_t whylen)
{
    int *calls = arg;
    (*calls)++;
    if (strcmp(name, "token") == 0) {
        piece->kind = TP_VAR;
        piece->slot = 0;
    } else if (strcmp(name, "name") == 0) {
        piece->kind = TP_VAR;
        piece->slot = 1;
    } else if (strcmp(name, "accounts.user") == 0) {
        piece->kind = TP_DATA;
        piece->slot = 1;
        piece->column = 2;
    } else if (strcmp(name, "host") == 0) {
        piece->kind = TP_LIT;
        piece->lit = strdup("example.com");
        piece->lit_len = strlen(piece->lit);
    } else if (strcmp(name, "greet") == 0) {
        piece->kind = TP_LIT;
        piece->lit = strdup("a b&c");
        piece->lit_len = 0;            /* 0: strlen(lit) */
    } else if (strcmp(name, "empty") == 0) {
        piece->kind = TP_LIT;
        piece->lit = strdup("");
    } else if (strcmp(name, "bin") == 0) {
        piece->kind = TP_LIT;
        piece->lit = malloc(3);
        memcpy(piece->lit, "a\0b", 3);
        piece->lit_len = 3;
    } else if (strcmp(name, "silent") == 0) {
        return -1;
    } else {
        snprintf(why, whylen, "unknown variable '%s'", name);
        return -1;
    }
    return 0;
}

static const char *test_cell(const void *arg, size_t source, size_t column, size_t *len)
{
    (void)arg;
    static char cell[32];
    snprintf(cell, sizeof cell, "cell%zu.%zu", source, column);
    *len = strlen(cell);
    return cell;
}

/* A context with two variables: token = "abc" (set), name (unset). */
typedef struct {
    tvar_t vars[2];
    uint64_t seq;
    rng_t rng;
    tmpl_ctx_t ctx;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    f->vars[0].p = strdup("abc");
    f->vars[0].len = 3;
    f->vars[0].cap = 4;
    f->vars[0].set = true;
    rng_seed(&f->rng, 42);
    f->ctx.vars = f->vars;
    f->ctx.cell = test_cell;
    f->ctx.user_id = 7;
    f->ctx.iteration = 3;
    f->ctx.seq = &f->seq;
    f->ctx.now_ms = 1700000000123ULL;
    f->ctx.rng = &f->rng;
}

static void fixture_done(fixture_t *f)
{
    free(f->vars[0].p);
    free(f->vars[1].p);
}

/* Parses and resolves text, which must succeed. */
static void compile(const char *text, tmpl_t *t)
{
    char err[256] = "";
    int calls = 0;
    int rc = parse(text, t, err, sizeof err);
    if (rc == 0)
        rc = tmpl_resolve(t, test_lookup, &calls, err, sizeof err);
    if (rc != 0)
        printf("#   '%s': %s\n", text, err);
    CHECK_INT(rc, 0);
}

/* ---- literal text -------------------------------------------------------- */

TEST(literal_only)
{
    tmpl_t t;
    char err[128] = "";
    CHECK_INT(parse("GET /plain?a=1", &t, err, sizeof err), 0);
    CHECK_INT(t.n, 1);
    CHECK(!t.dynamic);
    CHECK_INT(t.pieces[0].kind, TP_LIT);
    CHECK_INT(t.pieces[0].lit_len, 14);
    CHECK_STR(t.pieces[0].lit, "GET /plain?a=1");
    CHECK(t.pieces[0].name == NULL);
    int calls = 0;
    CHECK_INT(tmpl_resolve(&t, test_lookup, &calls, err, sizeof err), 0);
    CHECK_INT(calls, 0);
    CHECK_INT(t.n, 1);
    CHECK(!t.dynamic);
    tmpl_free(&t);

    /* Empty text: no pieces at all. */
    CHECK_INT(tmpl_parse("", 0, &t, err, sizeof err), 0);
    CHECK_INT(t.n, 0);
    CHECK(!t.dynamic);
    fixture_t f;
    fixture_init(&f);
    tbuf_t buf = { 0 };
    CHECK_STR(render_str(&t, &f.ctx, &buf), "");
    tmpl_free(&t);

    /* Any bytes, braces that are no field, and a NUL: one literal, exactly. */
    static const char bin[] = "{\"a\":{\"b\":1}}\0\xff\xfe { } }} {x}\\";
    size_t n = sizeof bin - 1;
    CHECK_INT(tmpl_parse(bin, n, &t, err, sizeof err), 0);
    CHECK_INT(t.n, 1);
    CHECK(!t.dynamic);
    CHECK_INT(t.pieces[0].lit_len, n);
    CHECK(memcmp(t.pieces[0].lit, bin, n) == 0);
    const char *unset = NULL;
    buf.len = 0;
    CHECK_INT(tmpl_render(&t, &f.ctx, &buf, &unset), 0);
    CHECK_INT(buf.len, n);
    CHECK(memcmp(buf.p, bin, n) == 0);
    tmpl_free(&t);
    tmpl_free(&t);               /* twice is harmless */
    tbuf_free(&buf);
    fixture_done(&f);
}

TEST(escapes)
{
    tmpl_t t;
    char err[128] = "";
    CHECK_INT(parse("a \\{{uuid}} b", &t, err, sizeof err), 0);
    CHECK_INT(t.n, 1);
    CHECK(!t.dynamic);
    CHECK_STR(t.pieces[0].lit, "a {{uuid}} b");
    tmpl_free(&t);

    /* A backslash before anything else is itself. */
    CHECK_INT(parse("a\\b\\{c\\", &t, err, sizeof err), 0);
    CHECK_INT(t.n, 1);
    CHECK_STR(t.pieces[0].lit, "a\\b\\{c\\");
    tmpl_free(&t);

    /* An escape next to a field. */
    CHECK_INT(parse("\\{{{{seq}}", &t, err, sizeof err), 0);
    CHECK_INT(t.n, 2);
    CHECK_STR(t.pieces[0].lit, "{{");
    CHECK_INT(t.pieces[1].kind, TP_SEQ);
    tmpl_free(&t);

    /* Three braces: the outer ones are text. */
    CHECK_INT(parse("{{{seq}}}", &t, err, sizeof err), 0);
    CHECK_INT(t.n, 3);
    CHECK_STR(t.pieces[0].lit, "{");
    CHECK_INT(t.pieces[1].kind, TP_SEQ);
    CHECK_STR(t.pieces[2].lit, "}");
    tmpl_free(&t);

    /* A JSON object around a field. */
    CHECK_INT(parse("{\"a\":{\"n\":{{seq}}}}", &t, err, sizeof err), 0);
    CHECK_INT(t.n, 3);
    CHECK_STR(t.pieces[0].lit, "{\"a\":{\"n\":");
    CHECK_INT(t.pieces[1].kind, TP_SEQ);
    CHECK_STR(t.pieces[2].lit, "}}");
    tmpl_free(&t);
}

/* ---- built-ins ------------------------------------------------------------ */

TEST(builtins)
{
    static const struct {
        const char *text;
        tpiece_kind_t kind;
        const char *name;
    } cases[] = {
        { "{{user.id}}", TP_USER_ID, "user.id" },
        { "{{iteration}}", TP_ITERATION, "iteration" },
        { "{{seq}}", TP_SEQ, "seq" },
        { "{{uuid}}", TP_UUID, "uuid" },
        { "{{now}}", TP_NOW, "now" },
        { "{{ \t now \n }}", TP_NOW, "now" },
        { "{{rand.int 1 2}}", TP_RAND_INT, "rand.int" },
        { "{{rand.str 8}}", TP_RAND_STR, "rand.str" },
        { "{{rand.pick a}}", TP_RAND_PICK, "rand.pick" },
        { "{{accounts.user}}", TP_NAME, "accounts.user" },
        { "{{ _x-1.y }}", TP_NAME, "_x-1.y" },
        { "{{rand}}", TP_NAME, "rand" },      /* only "rand." is the built-ins' */
        { "{{uuid2}}", TP_NAME, "uuid2" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tmpl_t t;
        char err[256] = "";
        int rc = parse(cases[i].text, &t, err, sizeof err);
        if (rc != 0)
            printf("#   '%s': %s\n", cases[i].text, err);
        CHECK_INT(rc, 0);
        if (rc != 0)
            continue;
        CHECK_INT(t.n, 1);
        CHECK(t.dynamic);
        CHECK_INT(t.pieces[0].kind, cases[i].kind);
        CHECK_STR(t.pieces[0].name, cases[i].name);
        CHECK(t.pieces[0].lit == NULL);
        CHECK_INT(t.pieces[0].n_filters, 0);
        tmpl_free(&t);
    }
}

TEST(builtin_arguments)
{
    tmpl_t t;
    char err[256] = "";
    CHECK_INT(parse("{{rand.int -5   10}}", &t, err, sizeof err), 0);
    CHECK_INT(t.pieces[0].a, -5);
    CHECK_INT(t.pieces[0].b, 10);
    tmpl_free(&t);

    CHECK_INT(parse("{{ rand.int -9223372036854775808 9223372036854775807 }}", &t, err,
                    sizeof err), 0);
    CHECK(t.pieces[0].a == INT64_MIN);
    CHECK(t.pieces[0].b == INT64_MAX);
    tmpl_free(&t);

    CHECK_INT(parse("{{rand.int 007 7}}", &t, err, sizeof err), 0);
    CHECK_INT(t.pieces[0].a, 7);
    CHECK_INT(t.pieces[0].b, 7);
    tmpl_free(&t);

    CHECK_INT(parse("{{rand.str 4096}}", &t, err, sizeof err), 0);
    CHECK_INT(t.pieces[0].a, TMPL_RAND_STR_MAX);
    tmpl_free(&t);

    CHECK_INT(parse("{{rand.pick red, green ,blue, New York }}", &t, err, sizeof err), 0);
    CHECK_INT(t.pieces[0].n_picks, 4);
    CHECK_STR(t.pieces[0].picks[0], "red");
    CHECK_STR(t.pieces[0].picks[1], "green");
    CHECK_STR(t.pieces[0].picks[2], "blue");
    CHECK_STR(t.pieces[0].picks[3], "New York");
    tmpl_free(&t);
}

TEST(parse_errors)
{
    static const struct {
        const char *text;
        const char *word;
    } cases[] = {
        { "{{uuid 1}}", "uuid takes no arguments" },
        { "{{seq x}}", "seq takes no arguments" },
        { "{{user.id 1}}", "no arguments" },
        { "{{rand.int}}", "two integers" },
        { "{{rand.int 1}}", "two integers" },
        { "{{rand.int 1 2 3}}", "two integers" },
        { "{{rand.int x 2}}", "'x' is not an integer" },
        { "{{rand.int 1 2x}}", "'2x' is not an integer" },
        { "{{rand.int - 1}}", "'-' is not an integer" },
        { "{{rand.int +1 2}}", "not an integer" },
        { "{{rand.int 1.5 2}}", "not an integer" },
        { "{{rand.int 0x10 20}}", "not an integer" },
        { "{{rand.int 9223372036854775808 9223372036854775808}}", "out of range" },
        { "{{rand.int -9223372036854775809 0}}", "out of range" },
        { "{{rand.int 0 99999999999999999999999999}}", "out of range" },
        { "{{rand.int 5 1}}", "lower bound comes first" },
        { "{{rand.int 0 -1}}", "lower bound comes first" },
        { "{{rand.str}}", "one integer" },
        { "{{rand.str 1 2}}", "one integer" },
        { "{{rand.str 0}}", "from 1 to 4096" },
        { "{{rand.str -1}}", "from 1 to 4096" },
        { "{{rand.str 4097}}", "from 1 to 4096" },
        { "{{rand.str ten}}", "from 1 to 4096" },
        { "{{rand.pick}}", "comma-separated" },
        { "{{rand.pick  }}", "comma-separated" },
        { "{{rand.pick a,,b}}", "item 2" },
        { "{{rand.pick a,}}", "item 2" },
        { "{{rand.pick ,a}}", "item 1" },
        { "{{rand.pick a, ,b}}", "empty" },
        { "{{rand.foo}}", "unknown built-in 'rand.foo'" },
        { "{{rand.itn 1 2}}", "did you mean 'rand.int'" },
        { "{{rand.}}", "unknown built-in" },
        { "{{rnd.int 1 2}}", "only built-ins take arguments (did you mean 'rand.int'" },
        { "{{token x}}", "unexpected 'x' after 'token'" },
        { "{{}}", "empty field" },
        { "{{   }}", "empty field" },
        { "{{ |url}}", "empty field" },
        { "{{1abc}}", "starts with a letter" },
        { "{{-x}}", "starts with a letter" },
        { "{{a$b}}", "letters, digits" },
        { "{{a/b}}", "letters, digits" },
        { "{{uuid|}}", "empty filter" },
        { "{{uuid||url}}", "empty filter" },
        { "{{uuid| }}", "empty filter" },
        { "{{uuid|jsn}}", "unknown filter 'jsn' (did you mean 'json'?)" },
        { "{{uuid|base46}}", "did you mean 'base64'" },
        { "{{uuid|upper}}", "unknown filter 'upper' (filters: url, json, base64)" },
        { "{{uuid|URL}}", "did you mean 'url'" },
        { "{{uuid|url|url|url|url|url}}", "more than 4 filters" },
        { "{{uuid", "unclosed '{{'" },
        { "abc {{uuid}", "unclosed '{{'" },
        { "abc {{", "unclosed" },
        { "{{a {{b}}", "unclosed" },
        { "ok {{seq}} then {{x", "unclosed '{{' at '{{x'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_parse_error(cases[i].text, cases[i].word);

    /* Four filters are allowed. */
    tmpl_t t;
    char err[256];
    CHECK_INT(parse("{{uuid | url| json |base64|url }}", &t, err, sizeof err), 0);
    CHECK_INT(t.pieces[0].n_filters, 4);
    CHECK_INT(t.pieces[0].filters[0], TF_URL);
    CHECK_INT(t.pieces[0].filters[1], TF_JSON);
    CHECK_INT(t.pieces[0].filters[2], TF_BASE64);
    CHECK_INT(t.pieces[0].filters[3], TF_URL);
    tmpl_free(&t);

    /* A NUL byte inside a field, and a message that quotes binary text. */
    static const char nul[] = "{{a\0b}}";
    CHECK_INT(tmpl_parse(nul, sizeof nul - 1, &t, err, sizeof err), -1);
    CHECK(strstr(err, "NUL") != NULL);
    static const char bad[] = "{{\x01\xff}}";
    CHECK_INT(tmpl_parse(bad, sizeof bad - 1, &t, err, sizeof err), -1);
    CHECK(strstr(err, "'?" "?'") != NULL);

    /* A small or absent message buffer is respected. */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    CHECK_INT(parse("{{uuid|nope}}", &t, tiny, sizeof tiny), -1);
    CHECK(memchr(tiny, '\0', sizeof tiny) != NULL);
    CHECK_INT(parse("{{uuid|nope}}", &t, NULL, 0), -1);

    /* A very long field is quoted cut short. */
    char longf[300];
    memset(longf, 'a', sizeof longf);
    memcpy(longf, "{{x ", 4);
    memcpy(longf + sizeof longf - 3, "}}", 3);
    CHECK_INT(parse(longf, &t, err, sizeof err), -1);
    CHECK(strstr(err, "...") != NULL);
    CHECK(strlen(err) < 200);
}

/* ---- filters -------------------------------------------------------------- */

TEST(filter_url)
{
    tbuf_t b = { 0 };
    CHECK_STR(filter_str(TF_URL, "", 0, &b), "");
    CHECK_STR(filter_str(TF_URL, "AZaz09-._~", 10, &b), "AZaz09-._~");
    const char *s = "a b&c=d/e?f#g%h+i\"é";
    CHECK_STR(filter_str(TF_URL, s, strlen(s), &b),
              "a%20b%26c%3Dd%2Fe%3Ff%23g%25h%2Bi%22%C3%A9");
    CHECK_STR(filter_str(TF_URL, "\0\n\xff", 3, &b), "%00%0A%FF");
    /* Every byte: unreserved ones once, the others as three. */
    char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    b.len = 0;
    tmpl_filter(TF_URL, all, sizeof all, &b);
    CHECK_INT(b.len, 66 + 190 * 3);
    /* Appends to what is there. */
    b.len = 0;
    tbuf_add(&b, "x=", 2);
    tmpl_filter(TF_URL, "1 2", 3, &b);
    CHECK_INT(b.len, 7);
    CHECK(memcmp(b.p, "x=1%202", 7) == 0);
    tbuf_free(&b);
}

TEST(filter_json)
{
    tbuf_t b = { 0 };
    CHECK_STR(filter_str(TF_JSON, "", 0, &b), "");
    const char *s = "he said \"hi\" \\o/";
    CHECK_STR(filter_str(TF_JSON, s, strlen(s), &b), "he said \\\"hi\\\" \\\\o/");
    CHECK_STR(filter_str(TF_JSON, "\n\r\t\b\f", 5, &b), "\\n\\r\\t\\b\\f");
    CHECK_STR(filter_str(TF_JSON, "\x01\x1f\x7f", 3, &b), "\\u0001\\u001f\x7f");
    b.len = 0;
    tmpl_filter(TF_JSON, "a\0b", 3, &b);
    CHECK_INT(b.len, 8);
    CHECK(memcmp(b.p, "a\\u0000b", 8) == 0);
    /* UTF-8 (and any byte above ASCII) goes through unchanged. */
    const char *u = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xff";
    CHECK_STR(filter_str(TF_JSON, u, strlen(u), &b), u);
    CHECK_STR(filter_str(TF_JSON, "'</script>'", 11, &b), "'</script>'");
    tbuf_free(&b);
}

TEST(filter_base64)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "", "" },           { "f", "Zg==" },         { "fo", "Zm8=" },
        { "foo", "Zm9v" },    { "foob", "Zm9vYg==" },  { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
        { "user:pass", "dXNlcjpwYXNz" },
        { "caf\xc3\xa9", "Y2Fmw6k=" },
    };
    tbuf_t b = { 0 };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_STR(filter_str(TF_BASE64, cases[i].in, strlen(cases[i].in), &b), cases[i].out);
    /* Binary, and both alphabet ends. */
    CHECK_STR(filter_str(TF_BASE64, "\x00\xff\xfe", 3, &b), "AP/+");
    CHECK_STR(filter_str(TF_BASE64, "\xfb\xff", 2, &b), "+/8=");
    CHECK_STR(filter_str(TF_BASE64, "\0", 1, &b), "AA==");
    tbuf_free(&b);
}

TEST(filter_chain)
{
    fixture_t f;
    fixture_init(&f);
    free(f.vars[0].p);
    f.vars[0].p = strdup("\"x y\"");
    f.vars[0].len = 5;
    tbuf_t b = { 0 };
    tmpl_t t;

    /* json then base64: base64 of \"x y\" */
    compile("{{token|json|base64}}", &t);
    CHECK(t.dynamic);
    CHECK_STR(render_str(&t, &f.ctx, &b), "XCJ4IHlcIg==");
    tmpl_free(&t);

    /* base64 then url: the '=' and '+' are encoded, left to right. */
    compile("<{{ token | base64 | url }}>", &t);
    CHECK_STR(render_str(&t, &f.ctx, &b), "<InggeSI%3D>");
    tmpl_free(&t);

    compile("{{token|url|url}}", &t);
    CHECK_STR(render_str(&t, &f.ctx, &b), "%2522x%2520y%2522");
    tmpl_free(&t);

    /* A built-in through a filter. */
    compile("{{user.id|base64}}-{{rand.pick a b|url}}", &t);
    CHECK_STR(render_str(&t, &f.ctx, &b), "Nw==-a%20b");
    tmpl_free(&t);

    /* The four filters, on text after other text in the buffer. */
    compile("pre {{token|url|json|base64|url}} post", &t);
    b.len = 0;
    tbuf_add(&b, "head ", 5);
    const char *unset = NULL;
    CHECK_INT(tmpl_render(&t, &f.ctx, &b, &unset), 0);
    tbuf_add(&b, "", 1);
    /* url: %22x%20y%22; json: same; base64: JTIyeCUyMHklMjI=; url: ...%3D */
    CHECK_STR(b.p, "head pre JTIyeCUyMHklMjI%3D post");
    tmpl_free(&t);
    tbuf_free(&b);
    fixture_done(&f);
}

/* ---- resolving ------------------------------------------------------------ */

TEST(resolve_pieces)
{
    fixture_t f;
    fixture_init(&f);
    tbuf_t b = { 0 };
    tmpl_t t;
    char err[256] = "";
    int calls = 0;

    CHECK_INT(parse("/u/{{token}}/{{accounts.user}}?h={{host}}&x={{empty}}y", &t, err,
                    sizeof err), 0);
    CHECK_INT(t.n, 9);
    CHECK_INT(t.pieces[1].kind, TP_NAME);
    CHECK(t.dynamic);
    CHECK_INT(tmpl_resolve(&t, test_lookup, &calls, err, sizeof err), 0);
    CHECK_INT(calls, 4);
    CHECK(t.dynamic);
    CHECK_INT(t.n, 5);
    CHECK_INT(t.pieces[0].kind, TP_LIT);
    CHECK_STR(t.pieces[0].lit, "/u/");
    CHECK_INT(t.pieces[1].kind, TP_VAR);
    CHECK_INT(t.pieces[1].slot, 0);
    CHECK_STR(t.pieces[1].name, "token");
    CHECK_INT(t.pieces[2].kind, TP_LIT);
    CHECK_STR(t.pieces[2].lit, "/");
    CHECK_INT(t.pieces[3].kind, TP_DATA);
    CHECK_INT(t.pieces[3].slot, 1);
    CHECK_INT(t.pieces[3].column, 2);
    CHECK_STR(t.pieces[3].name, "accounts.user");
    /* The substituted host and the empty value merged with the text around. */
    CHECK_INT(t.pieces[4].kind, TP_LIT);
    CHECK_STR(t.pieces[4].lit, "?h=example.com&x=y");
    CHECK_INT(t.pieces[4].lit_len, 18);
    CHECK(t.pieces[4].name == NULL);
    CHECK_STR(render_str(&t, &f.ctx, &b), "/u/abc/cell1.2?h=example.com&x=y");
    /* Resolving again changes nothing. */
    calls = 0;
    CHECK_INT(tmpl_resolve(&t, test_lookup, &calls, err, sizeof err), 0);
    CHECK_INT(calls, 0);
    CHECK_INT(t.n, 5);
    tmpl_free(&t);

    /* Only literal substitutions: one literal, not dynamic. */
    compile("http://{{host}}:{{host}}/{{greet}}", &t);
    CHECK(!t.dynamic);
    CHECK_INT(t.n, 1);
    CHECK_STR(t.pieces[0].lit, "http://example.com:example.com/a b&c");
    tmpl_free(&t);

    /* A literal's filter runs once, at resolve. */
    compile("q={{greet|url}}&j=\"{{greet | json | base64}}\"", &t);
    CHECK(!t.dynamic);
    CHECK_INT(t.n, 1);
    CHECK_INT(t.pieces[0].n_filters, 0);
    CHECK_STR(t.pieces[0].lit, "q=a%20b%26c&j=\"YSBiJmM=\"");
    tmpl_free(&t);

    /* Nothing left: no pieces. */
    compile("{{empty}}{{empty|base64}}", &t);
    CHECK(!t.dynamic);
    CHECK_INT(t.n, 0);
    CHECK_STR(render_str(&t, &f.ctx, &b), "");
    tmpl_free(&t);

    /* A value with a NUL, given by length; merged with the variable around. */
    compile("[{{bin}}]{{token}}[{{bin|base64}}]", &t);
    CHECK_INT(t.n, 3);
    CHECK_INT(t.pieces[0].lit_len, 5);
    CHECK(memcmp(t.pieces[0].lit, "[a\0b]", 5) == 0);
    CHECK_STR(t.pieces[2].lit, "[YQBi]");
    b.len = 0;
    const char *unset = NULL;
    CHECK_INT(tmpl_render(&t, &f.ctx, &b, &unset), 0);
    CHECK_INT(b.len, 14);
    CHECK(memcmp(b.p, "[a\0b]abc[YQBi]", 14) == 0);
    tmpl_free(&t);

    /* A variable's filter stays for the render. */
    compile("{{token|base64}}", &t);
    CHECK(t.dynamic);
    CHECK_INT(t.n, 1);
    CHECK_INT(t.pieces[0].n_filters, 1);
    CHECK_STR(render_str(&t, &f.ctx, &b), "YWJj");
    tmpl_free(&t);

    tbuf_free(&b);
    fixture_done(&f);
}

TEST(resolve_errors)
{
    tmpl_t t;
    char err[256] = "";
    int calls = 0;
    CHECK_INT(parse("a {{token}} {{tokn}} {{host}}", &t, err, sizeof err), 0);
    CHECK_INT(tmpl_resolve(&t, test_lookup, &calls, err, sizeof err), -1);
    CHECK_STR(err, "unknown variable 'tokn'");
    CHECK_INT(calls, 2);
    tmpl_free(&t);               /* partly resolved: still freed whole */

    /* A lookup that says nothing: a message all the same. */
    CHECK_INT(parse("{{silent}}", &t, err, sizeof err), 0);
    CHECK_INT(tmpl_resolve(&t, test_lookup, &calls, err, sizeof err), -1);
    CHECK(strstr(err, "silent") != NULL);
    tmpl_free(&t);
}

/* ---- rendering ------------------------------------------------------------ */

TEST(render_unset)
{
    fixture_t f;
    fixture_init(&f);
    tbuf_t b = { 0 };
    tmpl_t t;
    compile("x={{token}}&n={{name|url}}", &t);
    const char *unset = NULL;
    CHECK_INT(tmpl_render(&t, &f.ctx, &b, &unset), -1);
    CHECK_STR(unset, "name");

    /* Once set, it renders. */
    f.vars[1].p = strdup("J D");
    f.vars[1].len = 3;
    f.vars[1].set = true;
    unset = NULL;
    CHECK_STR(render_str(&t, &f.ctx, &b), "x=abc&n=J%20D");
    tmpl_free(&t);

    /* An unresolved name is never rendered as nothing. */
    char err[128];
    CHECK_INT(parse("{{token}}", &t, err, sizeof err), 0);
    b.len = 0;
    unset = NULL;
    CHECK_INT(tmpl_render(&t, &f.ctx, &b, &unset), -1);
    CHECK_STR(unset, "token");
    tmpl_free(&t);
    tbuf_free(&b);
    fixture_done(&f);
}

TEST(render_counters)
{
    fixture_t f;
    fixture_init(&f);
    f.seq = 41;
    tbuf_t b = { 0 };
    tmpl_t t;
    compile("{{user.id}}/{{iteration}}/{{now}}/{{seq}}", &t);
    CHECK_STR(render_str(&t, &f.ctx, &b), "7/3/1700000000123/42");
    CHECK_STR(render_str(&t, &f.ctx, &b), "7/3/1700000000123/43");
    tmpl_free(&t);
    compile("{{seq}}-{{seq}}", &t);
    CHECK_STR(render_str(&t, &f.ctx, &b), "44-45");
    CHECK_INT(f.seq, 45);
    tmpl_free(&t);

    /* The extremes of the counters. */
    f.ctx.user_id = 0;
    f.ctx.iteration = UINT64_MAX;
    f.seq = UINT64_MAX - 1;
    compile("{{user.id}} {{iteration}} {{seq}}", &t);
    CHECK_STR(render_str(&t, &f.ctx, &b), "0 18446744073709551615 18446744073709551615");
    tmpl_free(&t);
    tbuf_free(&b);
    fixture_done(&f);
}

/* Renders "{{rand.int A B}}" n times; each value into seen[v - a] when the
 * range is small. Returns whether every value was within [a, b]. */
static bool draw_ints(fixture_t *f, const char *text, int64_t a, int64_t b, int n,
                      int *seen, size_t n_seen, int *negative, int *positive)
{
    tmpl_t t;
    tbuf_t buf = { 0 };
    bool ok = true;
    compile(text, &t);
    for (int i = 0; i < n; i++) {
        const char *s = render_str(&t, &f->ctx, &buf);
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*end != '\0' || errno != 0 || v < a || v > b) {
            printf("#   %s gave '%s'\n", text, s);
            ok = false;
            break;
        }
        if (seen != NULL && (uint64_t)(v - a) < n_seen)
            seen[v - a]++;
        if (negative != NULL && v < 0)
            (*negative)++;
        if (positive != NULL && v > 0)
            (*positive)++;
    }
    tmpl_free(&t);
    tbuf_free(&buf);
    return ok;
}

TEST(rand_int)
{
    fixture_t f;
    fixture_init(&f);
    int seen[10] = { 0 };

    CHECK(draw_ints(&f, "{{rand.int 1 3}}", 1, 3, 3000, seen, 3, NULL, NULL));
    for (int i = 0; i < 3; i++)
        CHECK(seen[i] > 800 && seen[i] < 1200);

    /* Roughly uniform over ten values (fixed seed: not flaky). */
    memset(seen, 0, sizeof seen);
    CHECK(draw_ints(&f, "{{rand.int 0 9}}", 0, 9, 100000, seen, 10, NULL, NULL));
    for (int i = 0; i < 10; i++)
        CHECK(seen[i] > 9500 && seen[i] < 10500);

    memset(seen, 0, sizeof seen);
    CHECK(draw_ints(&f, "{{rand.int -5 -5}}", -5, -5, 100, seen, 1, NULL, NULL));
    CHECK_INT(seen[0], 100);

    /* The whole 64-bit range, both signs. */
    int neg = 0, pos = 0;
    CHECK(draw_ints(&f, "{{rand.int -9223372036854775808 9223372036854775807}}", INT64_MIN,
                    INT64_MAX, 2000, NULL, 0, &neg, &pos));
    CHECK(neg > 800 && pos > 800);

    /* The two ends of the range, one at a time. */
    memset(seen, 0, sizeof seen);
    CHECK(draw_ints(&f, "{{rand.int -9223372036854775808 -9223372036854775807}}", INT64_MIN,
                    INT64_MIN + 1, 1000, seen, 2, NULL, NULL));
    CHECK(seen[0] > 400 && seen[1] > 400);
    memset(seen, 0, sizeof seen);
    CHECK(draw_ints(&f, "{{rand.int 9223372036854775806 9223372036854775807}}", INT64_MAX - 1,
                    INT64_MAX, 1000, seen, 2, NULL, NULL));
    CHECK(seen[0] > 400 && seen[1] > 400);
    memset(seen, 0, sizeof seen);
    CHECK(draw_ints(&f, "{{rand.int -1 0}}", -1, 0, 1000, seen, 2, NULL, NULL));
    CHECK(seen[0] > 400 && seen[1] > 400);

    /* Half the range and a bit: where modulo bias would show most. */
    neg = pos = 0;
    CHECK(draw_ints(&f, "{{rand.int 0 9223372036854775807}}", 0, INT64_MAX, 1000, NULL, 0,
                    &neg, &pos));
    CHECK_INT(neg, 0);
    fixture_done(&f);
}

static bool is_hex_lower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(uuid)
{
    fixture_t f;
    fixture_init(&f);
    tbuf_t b = { 0 };
    tmpl_t t;
    compile("{{uuid}}", &t);
    char prev[37] = "";
    for (int k = 0; k < 200; k++) {
        const char *s = render_str(&t, &f.ctx, &b);
        CHECK_INT(strlen(s), 36);
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                CHECK(s[i] == '-');
            else
                CHECK(is_hex_lower(s[i]));
        }
        CHECK(s[14] == '4');
        CHECK(strchr("89ab", s[19]) != NULL);
        CHECK(strcmp(s, prev) != 0);
        snprintf(prev, sizeof prev, "%s", s);
    }
    tmpl_free(&t);

    /* The same seed, the same UUIDs. */
    fixture_t g;
    fixture_init(&g);
    compile("{{uuid}} {{uuid}}", &t);
    char first[80];
    snprintf(first, sizeof first, "%s", render_str(&t, &g.ctx, &b));
    rng_seed(&g.rng, 42);
    CHECK_STR(render_str(&t, &g.ctx, &b), first);
    tmpl_free(&t);
    tbuf_free(&b);
    fixture_done(&f);
    fixture_done(&g);
}

TEST(rand_str_and_pick)
{
    fixture_t f;
    fixture_init(&f);
    tbuf_t b = { 0 };
    tmpl_t t;
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    int counts[62] = { 0 };

    compile("{{rand.str 1}}|{{rand.str 17}}", &t);
    for (int k = 0; k < 100; k++) {
        const char *s = render_str(&t, &f.ctx, &b);
        CHECK_INT(strlen(s), 19);
        CHECK(s[1] == '|');
    }
    tmpl_free(&t);

    compile("{{rand.str 4096}}", &t);
    for (int k = 0; k < 25; k++) {
        const char *s = render_str(&t, &f.ctx, &b);
        CHECK_INT(strlen(s), 4096);
        for (size_t i = 0; i < 4096; i++) {
            const char *c = strchr(alnum, s[i]);
            CHECK(c != NULL && s[i] != '\0');
            if (c != NULL && s[i] != '\0')
                counts[c - alnum]++;
        }
    }
    /* 102400 characters: about 1652 of each. */
    for (int i = 0; i < 62; i++)
        CHECK(counts[i] > 1400 && counts[i] < 1900);
    tmpl_free(&t);

    compile("{{rand.pick red,green,blue}}", &t);
    int r = 0, g = 0, bl = 0;
    for (int k = 0; k < 3000; k++) {
        const char *s = render_str(&t, &f.ctx, &b);
        if (strcmp(s, "red") == 0)
            r++;
        else if (strcmp(s, "green") == 0)
            g++;
        else if (strcmp(s, "blue") == 0)
            bl++;
        else
            CHECK(!"rand.pick gave a value not in its list");
    }
    CHECK(r > 800 && g > 800 && bl > 800);
    tmpl_free(&t);

    compile("{{rand.pick only}}", &t);
    CHECK_STR(render_str(&t, &f.ctx, &b), "only");
    tmpl_free(&t);
    tbuf_free(&b);
    fixture_done(&f);
}

TEST(big_render)
{
    fixture_t f;
    fixture_init(&f);
    /* A 1 MB variable inside 100 KB of text, and its base64. */
    size_t vn = 1 << 20, ln = 100000;
    free(f.vars[0].p);
    f.vars[0].p = malloc(vn);
    for (size_t i = 0; i < vn; i++)
        f.vars[0].p[i] = (char)(i * 7 + 3);
    f.vars[0].len = (uint32_t)vn;
    f.vars[0].cap = (uint32_t)vn;
    char *text = malloc(ln + 64);
    memset(text, 'L', ln);
    strcpy(text + ln, "{{token}}|{{token|base64}}");
    tmpl_t t;
    char err[128];
    int calls = 0;
    CHECK_INT(tmpl_parse(text, strlen(text), &t, err, sizeof err), 0);
    CHECK_INT(tmpl_resolve(&t, test_lookup, &calls, err, sizeof err), 0);

    tbuf_t b = { 0 };
    const char *unset = NULL;
    CHECK_INT(tmpl_render(&t, &f.ctx, &b, &unset), 0);
    size_t b64 = (vn + 2) / 3 * 4;
    CHECK_INT(b.len, ln + vn + 1 + b64);
    CHECK(b.cap >= b.len);
    CHECK(memcmp(b.p + ln, f.vars[0].p, vn) == 0);
    CHECK(b.p[ln + vn] == '|');
    tbuf_t direct = { 0 };
    tmpl_filter(TF_BASE64, f.vars[0].p, vn, &direct);
    CHECK_INT(direct.len, b64);
    CHECK(memcmp(b.p + ln + vn + 1, direct.p, b64) == 0);

    /* Warm: the next render of the same size allocates nothing. */
    char *p = b.p;
    size_t cap = b.cap;
    b.len = 0;
    CHECK_INT(tmpl_render(&t, &f.ctx, &b, &unset), 0);
    CHECK(b.p == p);
    CHECK_INT(b.cap, cap);
    CHECK_INT(b.len, ln + vn + 1 + b64);

    tbuf_free(&direct);
    tbuf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
    tmpl_free(&t);
    free(text);
    fixture_done(&f);
}

TEST(tbuf_growth)
{
    tbuf_t b = { 0 };
    tbuf_reserve(&b, 0);
    tbuf_add(&b, "x", 1);
    CHECK_INT(b.len, 1);
    CHECK(b.cap >= 1);
    /* Many small appends: geometric growth, so few reallocations. */
    int moves = 0;
    size_t cap = b.cap;
    for (int i = 0; i < 100000; i++) {
        tbuf_add(&b, "abcdefghij", 10);
        if (b.cap != cap) {
            moves++;
            cap = b.cap;
        }
    }
    CHECK_INT(b.len, 1 + 1000000);
    CHECK(moves <= 20);
    CHECK(b.cap < 2 * b.len + 64);
    CHECK(b.p[0] == 'x' && memcmp(b.p + b.len - 10, "abcdefghij", 10) == 0);
    /* A reserve makes room without changing the length. */
    tbuf_reserve(&b, 5000000);
    CHECK(b.cap - b.len >= 5000000);
    CHECK_INT(b.len, 1000001);
    tbuf_free(&b);
}

int main(void)
{
    check_prog = "test_template";
    RUN(literal_only);
    RUN(escapes);
    RUN(builtins);
    RUN(builtin_arguments);
    RUN(parse_errors);
    RUN(filter_url);
    RUN(filter_json);
    RUN(filter_base64);
    RUN(filter_chain);
    RUN(resolve_pieces);
    RUN(resolve_errors);
    RUN(render_unset);
    RUN(render_counters);
    RUN(rand_int);
    RUN(uuid);
    RUN(rand_str_and_pick);
    RUN(big_render);
    RUN(tbuf_growth);
    return check_done();
}

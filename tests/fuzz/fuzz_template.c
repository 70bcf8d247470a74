/* fuzz_template: the {{...}} templates of include/plan/template.h.
 *
 * Byte 0 is the size of the message buffer (0: none); the rest is a
 * template's text, any bytes. Promises checked:
 *   - tmpl_parse: 0, or -1 with a message that fits the buffer and leaves
 *     nothing to free; a parsed template is well formed (literals non-empty,
 *     never two in a row, without name or filters; fields named as the header
 *     says, at most TMPL_MAX_FILTERS known filters, built-in arguments in
 *     range), and dynamic exactly when it has a field;
 *   - a text without fields renders to itself, "\{{" read as "{{";
 *   - tmpl_resolve, through a lookup that makes names starting with 'v' a
 *     variable, 'd' a data column, 'l' a literal (with bytes the filters must
 *     escape) and refuses every other: afterwards no name is left, literals are
 *     merged and unfiltered, and dynamic is exactly "a non-literal piece";
 *   - tmpl_render: appends after what the buffer held; the whole rendering is
 *     the pieces rendered one by one; each piece is its value through its
 *     filters (tmpl_filter applied in turn), a uuid is a version 4 UUID,
 *     rand.int within its bounds, rand.str alphanumeric of its length,
 *     rand.pick one of its items; an unset variable fails with its name;
 *   - tmpl_filter on the raw input: url, json and base64 decode back to it. */
#include <stdbool.h>

#include "fuzz.h"
#include "plan/template.h"

#define N_SLOTS 4
#define UNSET_SLOT 3

/* ---- decoders for the filters' round trips --------------------------------- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static void check_url_round_trip(const char *in, size_t n, const char *out, size_t m)
{
    size_t i = 0, o = 0;
    while (o < m) {
        unsigned char c = (unsigned char)out[o];
        int v;
        if (c == '%') {
            FUZZ_CHECK(o + 3 <= m);
            /* Upper-case hex, and only for what is not unreserved. */
            FUZZ_CHECK(hex_value(out[o + 1]) >= 0 && !(out[o + 1] >= 'a'));
            FUZZ_CHECK(hex_value(out[o + 2]) >= 0 && !(out[o + 2] >= 'a'));
            v = hex_value(out[o + 1]) * 16 + hex_value(out[o + 2]);
            FUZZ_CHECK(!unreserved((unsigned char)v));
            o += 3;
        } else {
            FUZZ_CHECK(unreserved(c));
            v = c;
            o++;
        }
        FUZZ_CHECK(i < n && (unsigned char)in[i] == v);
        i++;
    }
    FUZZ_CHECK(i == n);
}

static void check_json_round_trip(const char *in, size_t n, const char *out, size_t m)
{
    size_t i = 0, o = 0;
    while (o < m) {
        unsigned char c = (unsigned char)out[o];
        int v;
        FUZZ_CHECK(c >= 0x20 && c != '"');
        if (c == '\\') {
            FUZZ_CHECK(o + 1 < m);
            switch (out[o + 1]) {
            case '"': v = '"'; break;
            case '\\': v = '\\'; break;
            case 'n': v = '\n'; break;
            case 'r': v = '\r'; break;
            case 't': v = '\t'; break;
            case 'b': v = '\b'; break;
            case 'f': v = '\f'; break;
            case 'u':
                FUZZ_CHECK(o + 6 <= m && out[o + 2] == '0' && out[o + 3] == '0');
                FUZZ_CHECK(hex_value(out[o + 4]) >= 0 && hex_value(out[o + 5]) >= 0);
                v = hex_value(out[o + 4]) * 16 + hex_value(out[o + 5]);
                FUZZ_CHECK(v < 0x20);
                o += 4;
                break;
            default:
                FUZZ_CHECK(!"unknown JSON escape");
                v = -1;
            }
            o += 2;
        } else {
            v = c;
            o++;
        }
        FUZZ_CHECK(i < n && (unsigned char)in[i] == v);
        i++;
    }
    FUZZ_CHECK(i == n);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static void check_base64_round_trip(const char *in, size_t n, const char *out, size_t m)
{
    FUZZ_CHECK(m == (n + 2) / 3 * 4);
    size_t i = 0;
    for (size_t o = 0; o < m; o += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (out[o + k] == '=') {
                FUZZ_CHECK(o + 4 == m && k >= 2);
                pad++;
                v[k] = 0;
            } else {
                FUZZ_CHECK(pad == 0);
                v[k] = b64_value(out[o + k]);
                FUZZ_CHECK(v[k] >= 0);
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        for (int k = 0; k < 3 - pad; k++) {
            FUZZ_CHECK(i < n && (unsigned char)in[i] == ((w >> (16 - 8 * k)) & 0xff));
            i++;
        }
    }
    FUZZ_CHECK(i == n);
}

static void check_filters(const char *s, size_t n)
{
    tbuf_t b = { 0 };
    /* After a prefix, which must be kept. */
    tbuf_add(&b, "pre", 3);
    tmpl_filter(TF_URL, s, n, &b);
    FUZZ_CHECK(memcmp(b.p, "pre", 3) == 0);
    check_url_round_trip(s, n, b.p + 3, b.len - 3);
    b.len = 0;
    tmpl_filter(TF_JSON, s, n, &b);
    check_json_round_trip(s, n, b.p, b.len);
    b.len = 0;
    tmpl_filter(TF_BASE64, s, n, &b);
    check_base64_round_trip(s, n, b.p, b.len);
    tbuf_free(&b);
}

/* ---- the parsed template ----------------------------------------------------- */

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

static void check_piece_shape(const tpiece_t *pc)
{
    FUZZ_CHECK(pc->n_filters <= TMPL_MAX_FILTERS);
    for (unsigned k = 0; k < pc->n_filters; k++)
        FUZZ_CHECK(pc->filters[k] >= TF_URL && pc->filters[k] <= TF_BASE64);
    if (pc->kind == TP_LIT) {
        FUZZ_CHECK(pc->lit != NULL && pc->lit_len > 0);
        FUZZ_CHECK(pc->lit[pc->lit_len] == '\0');
        FUZZ_CHECK(pc->name == NULL && pc->n_filters == 0);
        return;
    }
    FUZZ_CHECK(pc->name != NULL && pc->name[0] != '\0');
    FUZZ_CHECK((pc->name[0] >= 'a' && pc->name[0] <= 'z') ||
               (pc->name[0] >= 'A' && pc->name[0] <= 'Z') || pc->name[0] == '_');
    for (const char *p = pc->name; *p != '\0'; p++)
        FUZZ_CHECK(name_char(*p));
    switch (pc->kind) {
    case TP_RAND_INT:
        FUZZ_CHECK(pc->a <= pc->b);
        break;
    case TP_RAND_STR:
        FUZZ_CHECK(pc->a >= 1 && pc->a <= TMPL_RAND_STR_MAX);
        break;
    case TP_RAND_PICK:
        FUZZ_CHECK(pc->n_picks >= 1);
        for (size_t i = 0; i < pc->n_picks; i++)
            FUZZ_CHECK(pc->picks[i] != NULL && pc->picks[i][0] != '\0');
        break;
    default:
        FUZZ_CHECK(pc->n_picks == 0 && pc->picks == NULL);
        break;
    }
    if (strncmp(pc->name, "rand.", 5) == 0)
        FUZZ_CHECK(pc->kind == TP_RAND_INT || pc->kind == TP_RAND_STR ||
                   pc->kind == TP_RAND_PICK);
}

static void check_shape(const tmpl_t *t, bool resolved)
{
    bool dynamic = false;
    for (size_t i = 0; i < t->n; i++) {
        const tpiece_t *pc = &t->pieces[i];
        check_piece_shape(pc);
        if (pc->kind != TP_LIT)
            dynamic = true;
        if (i > 0 && pc->kind == TP_LIT)
            FUZZ_CHECK(t->pieces[i - 1].kind != TP_LIT);
        if (resolved)
            FUZZ_CHECK(pc->kind != TP_NAME);
    }
    FUZZ_CHECK(t->dynamic == dynamic);
    FUZZ_CHECK((t->n == 0) == (t->pieces == NULL));
}

/* ---- resolving and rendering ------------------------------------------------- */

/* Bytes that every filter changes: a literal value must come out escaped. */
static const char LIT_VALUE[] = "a \"b\"\n&c=\\\x01\xc3\xa9";

static int fuzz_lookup(void *arg, const char *name, tpiece_t *piece, char *why, size_t whylen)
{
    (void)arg;
    size_t n = strlen(name);
    switch (name[0]) {
    case 'v':
        piece->kind = TP_VAR;
        piece->slot = n % N_SLOTS;
        return 0;
    case 'd':
        piece->kind = TP_DATA;
        piece->slot = n % 3;
        piece->column = n % 5;
        return 0;
    case 'l':
        piece->kind = TP_LIT;
        /* "l" alone is the empty value; others the bytes, by length. */
        piece->lit = malloc(sizeof LIT_VALUE);
        FUZZ_CHECK(piece->lit != NULL);
        memcpy(piece->lit, LIT_VALUE, sizeof LIT_VALUE);
        piece->lit_len = n == 1 ? 0 : n == 2 ? 1 : sizeof LIT_VALUE - 1;
        if (n == 1)
            piece->lit[0] = '\0';
        return 0;
    case 'q':
        return -1;              /* refuses without saying why */
    default:
        snprintf(why, whylen, "unknown variable '%s'", name);
        return -1;
    }
}

static const char *fuzz_cell(const void *arg, size_t source, size_t column, size_t *len)
{
    (void)arg;
    static const char *const cells[] = { "", "alice", "b o\"b", "\xff\x00z", "0" };
    if (source == 2 && column == 0)
        return NULL;            /* the header allows it: nothing is added */
    const char *s = cells[(source + column) % 5];
    *len = (source + column) % 5 == 3 ? 3 : strlen(s);
    return s;
}

typedef struct {
    tvar_t vars[N_SLOTS];
    uint64_t seq;
    rng_t rng;
    tmpl_ctx_t ctx;
} fixture_t;

static void fixture_init(fixture_t *f, uint64_t seed)
{
    static char values[N_SLOTS][16] = { "x", "\"quoted\" \\", "caf\xc3\xa9\t", "" };
    memset(f, 0, sizeof *f);
    for (int i = 0; i < N_SLOTS; i++) {
        f->vars[i].p = values[i];
        f->vars[i].len = (uint32_t)strlen(values[i]);
        f->vars[i].set = i != UNSET_SLOT;
    }
    f->seq = 100;
    rng_seed(&f->rng, seed);
    f->ctx.vars = f->vars;
    f->ctx.cell = fuzz_cell;
    f->ctx.user_id = 12;
    f->ctx.iteration = 5;
    f->ctx.seq = &f->seq;
    f->ctx.now_ms = 1700000000000ULL;
    f->ctx.rng = &f->rng;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A piece's value without filters, where it does not depend on the
 * generator or the counter; false where it does. */
static bool fixed_value(const tpiece_t *pc, const fixture_t *f, tbuf_t *out)
{
    char num[32];
    switch (pc->kind) {
    case TP_LIT:
        tbuf_add(out, pc->lit, pc->lit_len);
        return true;
    case TP_VAR:
        tbuf_add(out, f->vars[pc->slot].p, f->vars[pc->slot].len);
        return true;
    case TP_DATA: {
        size_t n = 0;
        const char *s = fuzz_cell(NULL, pc->slot, pc->column, &n);
        if (s != NULL)
            tbuf_add(out, s, n);
        return true;
    }
    case TP_USER_ID:
        tbuf_add(out, num, (size_t)snprintf(num, sizeof num, "%llu",
                                            (unsigned long long)f->ctx.user_id));
        return true;
    case TP_ITERATION:
        tbuf_add(out, num, (size_t)snprintf(num, sizeof num, "%llu",
                                            (unsigned long long)f->ctx.iteration));
        return true;
    case TP_NOW:
        tbuf_add(out, num, (size_t)snprintf(num, sizeof num, "%llu",
                                            (unsigned long long)f->ctx.now_ms));
        return true;
    default:
        return false;
    }
}

/* A random piece's value, unfiltered, is what its kind promises. */
static void check_random_value(const tpiece_t *pc, const char *s, size_t n)
{
    switch (pc->kind) {
    case TP_UUID:
        FUZZ_CHECK(n == 36);
        for (size_t i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23)
                FUZZ_CHECK(s[i] == '-');
            else
                FUZZ_CHECK((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
        }
        FUZZ_CHECK(s[14] == '4' && strchr("89ab", s[19]) != NULL);
        break;
    case TP_RAND_INT: {
        char num[32];
        FUZZ_CHECK(n > 0 && n < sizeof num);
        memcpy(num, s, n);
        num[n] = '\0';
        char *end = NULL;
        long long v = strtoll(num, &end, 10);
        FUZZ_CHECK(*end == '\0' && v >= pc->a && v <= pc->b);
        break;
    }
    case TP_RAND_STR:
        FUZZ_CHECK(n == (size_t)pc->a);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(is_alnum(s[i]));
        break;
    case TP_RAND_PICK: {
        bool found = false;
        for (size_t i = 0; i < pc->n_picks && !found; i++)
            found = strlen(pc->picks[i]) == n && memcmp(pc->picks[i], s, n) == 0;
        FUZZ_CHECK(found);
        break;
    }
    case TP_SEQ: {
        /* The counter's value after the increment: 101 and up. */
        FUZZ_CHECK(n >= 3 && s[0] != '0');
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(s[i] >= '0' && s[i] <= '9');
        break;
    }
    default:
        FUZZ_CHECK(!"a kind with a fixed value");
    }
}

/* The text a template without fields must render to: "\{{" read as "{{". */
static void check_plain_text(const tmpl_t *t, const char *text, size_t len)
{
    tbuf_t want = { 0 }, got = { 0 };
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\' && i + 2 < len && text[i + 1] == '{' && text[i + 2] == '{') {
            tbuf_add(&want, "{{", 2);
            i += 2;
        } else {
            tbuf_add(&want, text + i, 1);
        }
    }
    fixture_t f;
    fixture_init(&f, 1);
    const char *unset = NULL;
    FUZZ_CHECK(tmpl_render(t, &f.ctx, &got, &unset) == 0);
    FUZZ_CHECK(got.len == want.len);
    FUZZ_CHECK(got.len == 0 || memcmp(got.p, want.p, got.len) == 0);
    FUZZ_CHECK(t->n <= 1);
    tbuf_free(&want);
    tbuf_free(&got);
}

/* Each piece on its own: its value, through its filters one by one. */
static void check_each_piece(const tmpl_t *t)
{
    tbuf_t got = { 0 }, want = { 0 }, tmp = { 0 };
    for (size_t i = 0; i < t->n; i++) {
        const tpiece_t *pc = &t->pieces[i];
        tmpl_t one = { (tpiece_t *)pc, 1, pc->kind != TP_LIT };
        fixture_t f;
        fixture_init(&f, i);
        const char *unset = NULL;
        got.len = 0;
        int rc = tmpl_render(&one, &f.ctx, &got, &unset);
        if (pc->kind == TP_VAR && pc->slot == UNSET_SLOT) {
            FUZZ_CHECK(rc == -1 && unset == pc->name);
            continue;
        }
        FUZZ_CHECK(rc == 0);
        want.len = 0;
        if (!fixed_value(pc, &f, &want)) {
            /* The unfiltered value, from the same draws. */
            tpiece_t bare = *pc;
            bare.n_filters = 0;
            tmpl_t b1 = { &bare, 1, true };
            fixture_init(&f, i);
            FUZZ_CHECK(tmpl_render(&b1, &f.ctx, &want, &unset) == 0);
            check_random_value(pc, want.p, want.len);
        }
        for (unsigned k = 0; k < pc->n_filters; k++) {
            tmp.len = 0;
            tmpl_filter((tfilter_t)pc->filters[k], want.p, want.len, &tmp);
            want.len = 0;
            tbuf_add(&want, tmp.p, tmp.len);
        }
        FUZZ_CHECK(got.len == want.len);
        FUZZ_CHECK(got.len == 0 || memcmp(got.p, want.p, got.len) == 0);
    }
    tbuf_free(&got);
    tbuf_free(&want);
    tbuf_free(&tmp);
}

/* The whole rendering: after a prefix, deterministic for a seed, and
 * failing exactly when some variable is unset. */
static void check_render(const tmpl_t *t)
{
    const tpiece_t *first_unset = NULL;
    for (size_t i = 0; i < t->n && first_unset == NULL; i++)
        if (t->pieces[i].kind == TP_VAR && t->pieces[i].slot == UNSET_SLOT)
            first_unset = &t->pieces[i];

    fixture_t f;
    fixture_init(&f, 7);
    tbuf_t a = { 0 }, b = { 0 };
    tbuf_add(&a, "prefix", 6);
    const char *unset = NULL;
    int rc = tmpl_render(t, &f.ctx, &a, &unset);
    FUZZ_CHECK(memcmp(a.p, "prefix", 6) == 0);
    if (first_unset != NULL) {
        FUZZ_CHECK(rc == -1 && unset == first_unset->name);
        tbuf_free(&a);
        return;
    }
    FUZZ_CHECK(rc == 0);

    /* Again from the same seed and counter, into a warm buffer. */
    fixture_init(&f, 7);
    tbuf_add(&b, "prefix", 6);
    FUZZ_CHECK(tmpl_render(t, &f.ctx, &b, &unset) == 0);
    FUZZ_CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
    char *p = b.p;
    size_t cap = b.cap;
    fixture_init(&f, 7);
    b.len = 6;
    FUZZ_CHECK(tmpl_render(t, &f.ctx, &b, &unset) == 0);
    FUZZ_CHECK(b.p == p && b.cap == cap);
    FUZZ_CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);

    /* A literal-only template renders its literals. */
    if (!t->dynamic) {
        size_t o = 6;
        for (size_t i = 0; i < t->n; i++) {
            FUZZ_CHECK(o + t->pieces[i].lit_len <= a.len);
            FUZZ_CHECK(memcmp(a.p + o, t->pieces[i].lit, t->pieces[i].lit_len) == 0);
            o += t->pieces[i].lit_len;
        }
        FUZZ_CHECK(o == a.len);
    }
    tbuf_free(&a);
    tbuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t errlen = data[0] % 96;
    /* The text in an allocation of its own size: ASan sees any read past it. */
    size_t len = size - 1;
    char *text = malloc(len > 0 ? len : 1);
    FUZZ_CHECK(text != NULL);
    if (len > 0)
        memcpy(text, data + 1, len);
    char *err = errlen > 0 ? malloc(errlen) : NULL;
    if (err != NULL)
        err[0] = '\0';

    check_filters(text, len);

    tmpl_t t;
    int rc = tmpl_parse(text, len, &t, err, errlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(t.n == 0 && t.pieces == NULL);
        if (err != NULL) {
            FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
            FUZZ_CHECK(errlen == 1 || err[0] != '\0');
        }
        /* Only a field can be wrong. */
        FUZZ_CHECK(len >= 2 && memmem(text, len, "{{", 2) != NULL);
        goto done;
    }
    check_shape(&t, false);
    if (len == 0 || memmem(text, len, "{{", 2) == NULL)
        FUZZ_CHECK(!t.dynamic);
    if (!t.dynamic)
        check_plain_text(&t, text, len);

    bool had_names = false;
    for (size_t i = 0; i < t.n; i++)
        had_names |= t.pieces[i].kind == TP_NAME;
    if (err != NULL)
        err[0] = '\0';
    rc = tmpl_resolve(&t, fuzz_lookup, NULL, err, errlen);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(had_names);
        if (err != NULL)
            FUZZ_CHECK(memchr(err, '\0', errlen) != NULL && (errlen == 1 || err[0] != '\0'));
        goto done;
    }
    check_shape(&t, true);
    check_each_piece(&t);
    check_render(&t);

done:
    tmpl_free(&t);
    FUZZ_CHECK(t.n == 0 && t.pieces == NULL);
    free(err);
    free(text);
    return 0;
}

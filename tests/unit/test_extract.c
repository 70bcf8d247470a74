/* test_extract: JSON paths, extracts (json, regex, header, cookie, status)
 * and expectations (expect-json, expect-header) against responses, with
 * their messages. */
#include <stdlib.h>

#include "check.h"
#include "plan/extract.h"
#include "util/xalloc.h"

static const char MOVIES[] =
    "{\"page\": 1, \"items\": ["
    "{\"id\": \"tt0068646\", \"title\": \"The Godfather\", \"year\": 1972, \"ok\": true},"
    "{\"id\": \"tt0111161\", \"title\": \"The Shawshank Redemption\", \"year\": 1994, \"ok\": true},"
    "{\"id\": \"tt0108052\", \"title\": \"Schindler's List\", \"year\": 1993, \"ok\": true}],"
    " \"rating\": 8.1, \"big\": 12345678901234, \"none\": null, \"no\": false,"
    " \"tags\": [\"a\", \"b\"], \"obj\": {\"x\": 1, \"y\": [true, null]},"
    " \"esc\": \"line\\nquote\\\" \\u00e9\", \"odd key\": 7, \"q\\\"k\": 8,"
    " \"grid\": [[1, 2], [3], [4, 5, 6]], \"ten\": 10.0, \"nul\": \"a\\u0000b\"}";

static resp_t body_resp(const char *body)
{
    resp_t r = { .status = 200, .body = body, .body_len = strlen(body) };
    return r;
}

/* Runs an extract given as written; returns its value as a C string in buf
 * (or the reason, with rc -1). */
static int run(const char *spec, resp_t *r, rng_t *rng, char *buf, size_t len)
{
    extract_t e;
    char err[256];
    if (extract_parse(spec, &e, err, sizeof err) != 0) {
        printf("#   extract_parse('%s'): %s\n", spec, err);
        snprintf(buf, len, "PARSE: %s", err);
        return -2;
    }
    char *scratch = NULL;
    size_t cap = 0;
    const char *val = NULL;
    size_t vlen = 0;
    int rc = extract_run(&e, r, rng, &scratch, &cap, &val, &vlen, buf, len);
    if (rc == 0)
        snprintf(buf, len, "%.*s", (int)vlen, val);
    free(scratch);
    extract_free(&e);
    return rc;
}

static void expect_value(const char *body, const char *spec, const char *want)
{
    resp_t r = body_resp(body);
    char buf[512];
    int rc = run(spec, &r, NULL, buf, sizeof buf);
    if (rc != 0 || strcmp(buf, want) != 0)
        printf("#   '%s': rc %d, got '%s', wanted '%s'\n", spec, rc, buf, want);
    CHECK(rc == 0 && strcmp(buf, want) == 0);
    resp_clear(&r);
}

static void expect_reason(resp_t *r, const char *spec, const char *want)
{
    char buf[512];
    int rc = run(spec, r, NULL, buf, sizeof buf);
    if (rc != -1 || strcmp(buf, want) != 0)
        printf("#   '%s': rc %d, got '%s', wanted '%s'\n", spec, rc, buf, want);
    CHECK(rc == -1 && strcmp(buf, want) == 0);
}

/* ---- paths ---------------------------------------------------------------- */

TEST(path_forms)
{
    jpath_t p;
    char err[200];
    CHECK_INT(jpath_parse("$", &p, err, sizeof err), 0);
    CHECK_INT(p.n, 0);
    CHECK_STR(p.text, "$");
    jpath_free(&p);

    CHECK_INT(jpath_parse("$.items[0].id", &p, err, sizeof err), 0);
    CHECK_INT(p.n, 3);
    CHECK(p.steps[0].kind == JP_MEMBER);
    CHECK_STR(p.steps[0].member, "items");
    CHECK(p.steps[1].kind == JP_INDEX);
    CHECK_INT(p.steps[1].index, 0);
    CHECK(p.steps[2].kind == JP_MEMBER);
    CHECK_STR(p.steps[2].member, "id");
    CHECK_STR(p.text, "$.items[0].id");
    jpath_free(&p);
    CHECK(p.steps == NULL && p.text == NULL && p.n == 0);

    CHECK_INT(jpath_parse("$[-2][last][*][\"a \\\"b\\\\\"]['c.d'][12345].x-y_z", &p, err,
                          sizeof err), 0);
    CHECK_INT(p.n, 7);
    CHECK(p.steps[0].kind == JP_INDEX);
    CHECK_INT(p.steps[0].index, -2);
    CHECK(p.steps[1].kind == JP_LAST);
    CHECK(p.steps[2].kind == JP_ALL);
    CHECK(p.steps[3].kind == JP_MEMBER);
    CHECK_STR(p.steps[3].member, "a \"b\\");
    CHECK_STR(p.steps[4].member, "c.d");
    CHECK(p.steps[5].kind == JP_INDEX);
    CHECK_INT(p.steps[5].index, 12345);
    CHECK_STR(p.steps[6].member, "x-y_z");
    jpath_free(&p);

    /* Any byte but '.', '[' and blanks is part of a plain name. */
    CHECK_INT(jpath_parse("$.caf\xc3\xa9.a]b.\"q\"", &p, err, sizeof err), 0);
    CHECK_INT(p.n, 3);
    CHECK_STR(p.steps[0].member, "caf\xc3\xa9");
    CHECK_STR(p.steps[1].member, "a]b");
    CHECK_STR(p.steps[2].member, "\"q\"");
    jpath_free(&p);

    CHECK_INT(jpath_parse("$[\"\"]", &p, err, sizeof err), 0);
    CHECK_INT(p.n, 1);
    CHECK_STR(p.steps[0].member, "");
    jpath_free(&p);
}

TEST(path_errors)
{
    static const struct {
        const char *path;
        const char *why;
    } bad[] = {
        { "", "the path is empty" },
        { "items[0]", "expected '$' at the start" },
        { ".items", "expected '$' at the start (write $.items)" },
        { "$items", "unexpected 'i' at offset 1" },
        { "$.", "a member name is missing after '.' at offset 1" },
        { "$.a.", "a member name is missing after '.' at offset 3" },
        { "$.a.[0]", "a member name is missing" },
        { "$..a", "recursive descent" },
        { "$[", "unclosed '[' at offset 1" },
        { "$.a[0", "unclosed '[' at offset 3" },
        { "$[\"a]", "unclosed '\"'" },
        { "$['a]", "unclosed '''" },
        { "$[\"a\\n\"]", "unknown escape '\\n'" },
        { "$[]", "empty []" },
        { "$[x]", "expected a number, *, last or a quoted name" },
        { "$[-]", "expected a number after '-'" },
        { "$[1x]", "expected ']' at offset 3" },
        { "$[lastx]", "expected ']'" },
        { "$[99999999999999999999]", "too large" },
        { "$.a b", "unexpected 'b' after the path $.a" },
        { "$ .a", "unexpected '.a' after the path $" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jpath_t p;
        char err[200] = "";
        int rc = jpath_parse(bad[i].path, &p, err, sizeof err);
        if (rc != -1 || strstr(err, bad[i].why) == NULL)
            printf("#   '%s': rc %d, err '%s', wanted '%s'\n", bad[i].path, rc, err, bad[i].why);
        CHECK(rc == -1 && strstr(err, bad[i].why) != NULL);
        CHECK(p.steps == NULL && p.text == NULL && p.n == 0);
    }

    /* 64 steps are fine, 65 are not. */
    char deep[200] = "$";
    for (int i = 0; i < 64; i++)
        strcat(deep, "[0]");
    jpath_t p;
    char err[200];
    CHECK_INT(jpath_parse(deep, &p, err, sizeof err), 0);
    jpath_free(&p);
    strcat(deep, "[0]");
    CHECK_INT(jpath_parse(deep, &p, err, sizeof err), -1);
    CHECK(strstr(err, "too deep") != NULL);

    /* A tiny error buffer is respected. */
    char tiny[4] = "xxx";
    CHECK_INT(jpath_parse("nope", &p, tiny, sizeof tiny), -1);
    CHECK_INT(strlen(tiny), 3);
}

/* ---- json extracts ------------------------------------------------------------ */

TEST(extract_json_values)
{
    expect_value(MOVIES, "v json $.items[0].id", "tt0068646");
    expect_value(MOVIES, "v json $.items[1].title", "The Shawshank Redemption");
    expect_value(MOVIES, "v json $.items[-1].id", "tt0108052");
    expect_value(MOVIES, "v json $.items[last].id", "tt0108052");
    expect_value(MOVIES, "v json $.items[-3].id", "tt0068646");
    expect_value(MOVIES, "v json $[\"items\"][2][\"year\"]", "1993");
    expect_value(MOVIES, "v json $.page", "1");
    expect_value(MOVIES, "v json $.big", "12345678901234");
    expect_value(MOVIES, "v json $.rating", "8.1");
    expect_value(MOVIES, "v json $.ten", "10.0");
    expect_value(MOVIES, "v json $.items[0].ok", "true");
    expect_value(MOVIES, "v json $.no", "false");
    expect_value(MOVIES, "v json $.none", "null");
    expect_value(MOVIES, "v json $.tags", "[\"a\",\"b\"]");
    expect_value(MOVIES, "v json $.obj", "{\"x\":1,\"y\":[true,null]}");
    expect_value(MOVIES, "v json $.grid[2][1]", "5");
    expect_value(MOVIES, "v json $.esc", "line\nquote\" \xc3\xa9");
    expect_value(MOVIES, "v json $[\"odd key\"]", "7");
    expect_value(MOVIES, "v json $['q\"k']", "8");
    expect_value(MOVIES, "v json $[\"q\\\"k\"]", "8");
    /* A top-level body of any kind, and $ for all of it. */
    expect_value("\"just text\"", "v json $", "just text");
    expect_value(" 42 ", "v json $", "42");
    expect_value("[1, 2.5, \"x\"]", "v json $", "[1,2.5,\"x\"]");
    expect_value("[0.1]", "v json $[0]", "0.1");
    expect_value("[0.30000000000000004]", "v json $[0]", "0.30000000000000004");
    expect_value("[1e300]", "v json $[0]", "1e300");

    /* A string with \u0000 keeps its NUL: the length carries it. */
    resp_t r = body_resp(MOVIES);
    extract_t e;
    char err[200];
    CHECK_INT(extract_parse("v json $.nul", &e, err, sizeof err), 0);
    const char *val = NULL;
    size_t len = 0;
    char *scratch = NULL;
    size_t cap = 0;
    CHECK_INT(extract_run(&e, &r, NULL, &scratch, &cap, &val, &len, err, sizeof err), 0);
    CHECK_INT(len, 3);
    CHECK(len == 3 && memcmp(val, "a\0b", 3) == 0);
    extract_free(&e);
    resp_clear(&r);
    free(scratch);
}

TEST(extract_json_scratch_grows)
{
    /* A large object goes through the caller's scratch, which grows. */
    char body[20000];
    size_t n = 0;
    n += (size_t)snprintf(body + n, sizeof body - n, "{\"list\":[");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(body + n, sizeof body - n, "%s%d", i ? "," : "", i);
    snprintf(body + n, sizeof body - n, "]}");
    resp_t r = body_resp(body);
    extract_t e;
    char err[200];
    CHECK_INT(extract_parse("v json $.list", &e, err, sizeof err), 0);
    char *scratch = xmalloc(8);
    size_t cap = 8;
    const char *val = NULL;
    size_t len = 0;
    CHECK_INT(extract_run(&e, &r, NULL, &scratch, &cap, &val, &len, err, sizeof err), 0);
    CHECK(cap > len);
    CHECK(val == scratch);
    CHECK_INT(len, strlen(body) - strlen("{\"list\":}"));
    CHECK(memcmp(val, "[0,1,2,", 7) == 0 && memcmp(val + len - 5, ",999]", 5) == 0);
    CHECK_INT(val[len], '\0');
    extract_free(&e);
    resp_clear(&r);
    free(scratch);
}

TEST(extract_json_all_picks_at_random)
{
    resp_t r = body_resp(MOVIES);
    extract_t e;
    char err[200];
    CHECK_INT(extract_parse("movie json $.items[*].id", &e, err, sizeof err), 0);
    static const char *const ids[] = { "tt0068646", "tt0111161", "tt0108052" };
    int seen[3] = { 0 };
    rng_t rng;
    rng_seed(&rng, 7);
    char *scratch = NULL;
    size_t cap = 0;
    for (int i = 0; i < 3000; i++) {
        const char *val = NULL;
        size_t len = 0;
        CHECK_INT(extract_run(&e, &r, &rng, &scratch, &cap, &val, &len, err, sizeof err), 0);
        int k = -1;
        for (int j = 0; j < 3; j++)
            if (len == strlen(ids[j]) && memcmp(val, ids[j], len) == 0)
                k = j;
        CHECK(k >= 0);
        if (k >= 0)
            seen[k]++;
    }
    /* Uniform: each about 1000 of 3000. */
    for (int j = 0; j < 3; j++) {
        if (seen[j] < 850 || seen[j] > 1150)
            printf("#   %s picked %d times of 3000\n", ids[j], seen[j]);
        CHECK(seen[j] >= 850 && seen[j] <= 1150);
    }
    extract_free(&e);

    /* Several [*]: every value of the grid, each seen. */
    CHECK_INT(extract_parse("n json $.grid[*][*]", &e, err, sizeof err), 0);
    int counts[7] = { 0 };
    for (int i = 0; i < 1200; i++) {
        const char *val = NULL;
        size_t len = 0;
        CHECK_INT(extract_run(&e, &r, &rng, &scratch, &cap, &val, &len, err, sizeof err), 0);
        CHECK_INT(len, 1);
        int d = val[0] - '0';
        CHECK(d >= 1 && d <= 6);
        if (d >= 1 && d <= 6)
            counts[d]++;
    }
    for (int d = 1; d <= 6; d++)
        CHECK(counts[d] > 120);
    extract_free(&e);

    /* [*] over an object takes its members' values. */
    CHECK_INT(extract_parse("n json $.obj[*]", &e, err, sizeof err), 0);
    bool got_x = false, got_y = false;
    for (int i = 0; i < 100; i++) {
        const char *val = NULL;
        size_t len = 0;
        CHECK_INT(extract_run(&e, &r, &rng, &scratch, &cap, &val, &len, err, sizeof err), 0);
        got_x |= len == 1 && val[0] == '1';
        got_y |= len == 11 && memcmp(val, "[true,null]", 11) == 0;
    }
    CHECK(got_x && got_y);
    extract_free(&e);

    /* Without a generator, the first. */
    CHECK_INT(extract_parse("movie json $.items[*].id", &e, err, sizeof err), 0);
    const char *val = NULL;
    size_t len = 0;
    CHECK_INT(extract_run(&e, &r, NULL, &scratch, &cap, &val, &len, err, sizeof err), 0);
    CHECK(len == 9 && memcmp(val, "tt0068646", 9) == 0);
    extract_free(&e);
    free(scratch);
    resp_clear(&r);
}

TEST(extract_json_failures)
{
    resp_t r = body_resp(MOVIES);
    expect_reason(&r, "v json $.items[0].nope", "no $.items[0].nope in the response");
    expect_reason(&r, "v json $.items[3].id", "no $.items[3].id in the response");
    expect_reason(&r, "v json $.items[-4].id", "no $.items[-4].id in the response");
    expect_reason(&r, "v json $.page.x", "no $.page.x in the response");
    expect_reason(&r, "v json $.page[0]", "no $.page[0] in the response");
    expect_reason(&r, "v json $.obj[0]", "no $.obj[0] in the response");
    expect_reason(&r, "v json $.tags.a", "no $.tags.a in the response");
    expect_reason(&r, "v json $.items[*].nope", "no $.items[*].nope in the response");
    expect_reason(&r, "v json $.tags[*][*]", "no $.tags[*][*] in the response");
    resp_clear(&r);

    r = body_resp("<html>oops</html>");
    expect_reason(&r, "v json $.a", "the body is not JSON (lexical error: invalid char in json "
                                    "text at byte 1, near '<html>oops</html>')");
    resp_clear(&r);
    r = body_resp("{\"a\":\n tru}");
    expect_reason(&r, "v json $.a", "the body is not JSON (lexical error: invalid string in json "
                                    "text at byte 10, near '{\"a\":\\n tru}')");
    resp_clear(&r);
    r = body_resp("{\"a\": 1} trailing");
    expect_reason(&r, "v json $.b", "the body is not JSON (parse error: trailing garbage at byte "
                                    "11, near '\"a\": 1} trailing')");
    resp_clear(&r);
    r = body_resp("{\"a\": [1, 2");
    expect_reason(&r, "v json $.b", "the body is not JSON (parse error: premature EOF at byte 11, "
                                    "near '\"a\": [1, 2')");
    resp_clear(&r);
    r = body_resp("");
    expect_reason(&r, "v json $.a", "the body is not JSON (it is empty)");
    resp_clear(&r);
    r = (resp_t){ .status = 200 };
    expect_reason(&r, "v json $.a", "the body is not JSON (it is empty)");
    resp_clear(&r);
    r = body_resp("  \n ");
    expect_reason(&r, "v json $.a", "the body is not JSON (parse error: premature EOF at byte 4, "
                                    "near '  \\n ')");
    resp_clear(&r);

    /* A NUL byte in the body is not JSON, and does not end the body early
     * for yajl either (here before the value; after it, see
     * extract_json_reads_only_what_it_needs). */
    r = (resp_t){ .status = 200, .body = "{\"b\":1\0, \"a\":1}", .body_len = 15 };
    char buf[300];
    CHECK_INT(run("v json $.a", &r, NULL, buf, sizeof buf), -1);
    CHECK_STR(buf, "the body is not JSON (lexical error: invalid char in json text at byte 7, "
                   "near '{\"b\":1\\x00, \"a\":1}')");
    resp_clear(&r);

    /* What the message quotes of the body is short and escaped. */
    r = body_resp("\x1b[31m\x01xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    CHECK_INT(run("v json $.a", &r, NULL, buf, sizeof buf), -1);
    CHECK(strchr(buf, '\x1b') == NULL && strchr(buf, '\x01') == NULL);
    CHECK(strstr(buf, "\\x1b") != NULL);
    CHECK(strstr(buf, "...')") != NULL);
    CHECK(strlen(buf) < 150);
    resp_clear(&r);
}

/* Checks x (as written) against body: wants "" for a pass, else the reason. */
static void judge(const char *body, const char *spec, const char *want)
{
    expect_t x;
    char err[300];
    if (expect_parse(spec, true, &x, err, sizeof err) != 0) {
        printf("#   expect_parse('%s'): %s\n", spec, err);
        CHECK(0);
        return;
    }
    resp_t r = body_resp(body);
    char why[300] = "";
    int rc = expect_check(&x, &r, why, sizeof why);
    bool ok = want[0] == '\0' ? rc == 0 : rc == -1 && strcmp(why, want) == 0;
    if (!ok)
        printf("#   '%s': rc %d, why '%s', wanted '%s'\n", spec, rc, why, want);
    CHECK(ok);
    resp_clear(&r);
    expect_free(&x);
}

/* Checks x against body: whether it fails with a reason that starts so. */
static bool judge_reason(const char *body, const char *spec, const char *start)
{
    expect_t x;
    char err[300];
    if (expect_parse(spec, true, &x, err, sizeof err) != 0) {
        printf("#   expect_parse('%s'): %s\n", spec, err);
        return false;
    }
    resp_t r = body_resp(body);
    char why[300] = "";
    int rc = expect_check(&x, &r, why, sizeof why);
    bool ok = rc == -1 && strncmp(why, start, strlen(start)) == 0;
    if (!ok)
        printf("#   '%s': rc %d, why '%s', wanted '%s...'\n", spec, rc, why, start);
    expect_free(&x);
    return ok;
}

/* Runs an extract a second way: the value, its length and where it lies. */
static int run_raw(const char *spec, resp_t *r, rng_t *rng, char **scratch, size_t *cap,
                   const char **val, size_t *len, char *why, size_t whylen)
{
    extract_t e;
    char err[256];
    if (extract_parse(spec, &e, err, sizeof err) != 0) {
        printf("#   extract_parse('%s'): %s\n", spec, err);
        return -2;
    }
    int rc = extract_run(&e, r, rng, scratch, cap, val, len, why, whylen);
    extract_free(&e);
    return rc;
}

TEST(extract_json_reads_only_what_it_needs)
{
    /* The parse stops at the value: a body broken after it is not read. */
    expect_value("{\"token\": \"abc\", \"x\": [1, 2", "v json $.token", "abc");
    expect_value("{\"items\": [{\"id\": \"a\"}], garbage", "v json $.items[0].id", "a");
    expect_value("{\"a\": 1} trailing", "v json $.a", "1");
    expect_value("{\"o\": {\"k\": [1, {\"z\": null}]} !!!", "v json $.o", "{\"k\":[1,{\"z\":null}]}");
    expect_value("[1, 2, 3], oops", "v json $[last]", "3");
    resp_t r = (resp_t){ .status = 200, .body = "{\"a\":1}\0xx", .body_len = 10 };
    char buf[300];
    CHECK_INT(run("v json $.a", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "1");
    /* A path that needs more reads on, and finds the break. */
    CHECK_INT(run("v json $.b", &r, NULL, buf, sizeof buf), -1);
    CHECK(strstr(buf, "the body is not JSON (") == buf);

    /* Broken before the value: not JSON. */
    r = body_resp("{\"x\": [1, 2,, \"token\": \"abc\"}");
    CHECK_INT(run("v json $.token", &r, NULL, buf, sizeof buf), -1);
    CHECK(strstr(buf, "the body is not JSON (") == buf);
    r = body_resp("{\"x\": 1, \"tok");
    CHECK_INT(run("v json $.token", &r, NULL, buf, sizeof buf), -1);
    CHECK(strstr(buf, "premature EOF") != NULL);

    /* [*] reads everything, so a break anywhere is seen. */
    r = body_resp("{\"items\": [{\"id\": \"a\"}, {\"id\": \"b\"}], oops");
    rng_t rng;
    rng_seed(&rng, 1);
    CHECK_INT(run("v json $.items[*].id", &r, &rng, buf, sizeof buf), -1);
    CHECK(strstr(buf, "the body is not JSON (") == buf);
    /* Without a generator a [*] takes the first, and stops there. */
    CHECK_INT(run("v json $.items[*].id", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "a");

    /* Expectations alike: one value decides, unless [*]. */
    judge("{\"ok\": true, \"rest\": [", "$.ok == true", "");
    judge("{\"ok\": true, \"rest\": [", "$.ok exists", "");
    judge("{\"ok\": true, \"rest\": [", "$.ok != false", "");
    judge("{\"ok\": false, \"rest\": [", "$.ok == true", "$.ok is false, expected true");
    judge("{\"l\": [1, 1], \"rest\": [", "$.l[*] exists", "");
    CHECK(judge_reason("{\"l\": [1, 1], \"rest\": [", "$.l[*] == 1",
                       "the body is not JSON (parse error: premature EOF"));
    /* A failing [*] stops at the first value that breaks it. */
    judge("{\"l\": [1, 2], \"rest\": [", "$.l[*] == 1", "$.l[1] is 2, expected 1");

    /* A member named twice: the first. */
    expect_value("{\"a\": 1, \"a\": 2}", "v json $.a", "1");
}

TEST(extract_json_depth)
{
    /* 100 levels are read; 101 are not, when the parse gets there. */
    char body[1000];
    size_t n = 0;
    for (int i = 0; i < 100; i++)
        body[n++] = '[';
    body[n++] = '7';
    for (int i = 0; i < 100; i++)
        body[n++] = ']';
    body[n] = '\0';
    char path[1000] = "v json $";
    for (int i = 0; i < 64; i++)
        strcat(path, "[0]");
    /* What is left below a path of k steps: 100 - k levels. */
    char want[1000];
    n = 0;
    for (int i = 0; i < 36; i++)
        want[n++] = '[';
    want[n++] = '7';
    for (int i = 0; i < 36; i++)
        want[n++] = ']';
    want[n] = '\0';
    expect_value(body, path, want);
    n = 0;
    for (int i = 0; i < 96; i++)
        want[n++] = '[';
    want[n++] = '7';
    for (int i = 0; i < 96; i++)
        want[n++] = ']';
    want[n] = '\0';
    expect_value(body, "v json $[0][last][0][-1]", want);
    resp_t r = body_resp(body);
    char buf[1000];
    CHECK_INT(run("v json $", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, body);

    char deep[1000];
    n = 0;
    memcpy(deep, "{\"a\": 1, \"b\": ", 14);
    n = 14;
    for (int i = 0; i < 101; i++)
        deep[n++] = '[';
    for (int i = 0; i < 101; i++)
        deep[n++] = ']';
    memcpy(deep + n, ", \"c\": 2}", 10);
    r = body_resp(deep);
    /* Before the deep part: found. */
    CHECK_INT(run("v json $.a", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "1");
    static const char why[] = "the body nests arrays and objects too deeply (more than 100 levels)";
    expect_reason(&r, "v json $.c", why);
    expect_reason(&r, "v json $.b", why);
    expect_reason(&r, "v json $.b[last]", why);
    expect_reason(&r, "v json $.b[0][0][-1]", why);
    CHECK(judge_reason(deep, "$.c == 2", why));
    CHECK(judge_reason(deep, "$.b[*] != 1", why));
    /* exists stops at the first match, above the deep part. */
    judge(deep, "$.b[*] exists", "");
    judge(deep, "$.a == 1", "");
}

TEST(extract_json_numbers_keep_their_text)
{
    static const char body[] = "{\"n\": [1.50, 1E3, -0, 12345678901234567890123, 4.3, 1972, "
                               "-1.5e-7, 1e999], \"top\": 0.1}";
    expect_value(body, "v json $.n[0]", "1.50");
    expect_value(body, "v json $.n[1]", "1E3");
    expect_value(body, "v json $.n[2]", "-0");
    expect_value(body, "v json $.n[3]", "12345678901234567890123");
    expect_value(body, "v json $.n[4]", "4.3");
    expect_value(body, "v json $.n[5]", "1972");
    expect_value(body, "v json $.n[6]", "-1.5e-7");
    expect_value(body, "v json $.n[7]", "1e999");
    expect_value(body, "v json $.n",
                 "[1.50,1E3,-0,12345678901234567890123,4.3,1972,-1.5e-7,1e999]");
    expect_value(body, "v json $.top", "0.1");
    /* A number that ends the body (yajl finishes it at the end). */
    expect_value("12345678901234567890", "v json $", "12345678901234567890");
    expect_value("-2.5", "v json $", "-2.5");
    /* Compared by value. */
    judge(body, "$.n[0] == 1.5", "");
    judge(body, "$.n[1] == 1000", "");
    judge(body, "$.n[2] == 0", "");
    judge(body, "$.n[3] == 1.2345678901234568e22", "");
    judge(body, "$.n[5] == 1972.0", "");
    judge(body, "$.n[5] == 1973", "$.n[5] is 1972, expected 1973");
    judge(body, "$.n[6] == -0.00000015", "");
    judge(body, "$.n[0] == \"1.50\"", "$.n[0] is 1.50, expected \"1.50\"");
    judge("[9223372036854775807, -9223372036854775808]", "$[0] == 9223372036854775807", "");
    judge("[9223372036854775807, -9223372036854775808]", "$[1] == -9223372036854775808", "");
    judge("[9223372036854775807]", "$[0] != 9223372036854775806", "");
}

TEST(extract_json_compact_values)
{
    static const char body[] = "{\"o\" : { \"a\" : [ 1 , { \"b\" : \"x\\\"y\\\\z\\/\" } ] ,\n"
                               "\t\"c\" : null , \"\\u00e9\\n\" : \"\\u001b\" } , \"e\": [], "
                               "\"f\": {}, \"s\": \"caf\\u00e9 \\ud83d\\ude00\"}";
    expect_value(body, "v json $.o",
                 "{\"a\":[1,{\"b\":\"x\\\"y\\\\z/\"}],\"c\":null,\"\xc3\xa9\\n\":\"\\u001B\"}");
    expect_value(body, "v json $.o.a", "[1,{\"b\":\"x\\\"y\\\\z/\"}]");
    expect_value(body, "v json $.o.a[1].b", "x\"y\\z/");
    expect_value(body, "v json $.o[\"\xc3\xa9\n\"]", "\x1b");
    expect_value(body, "v json $.e", "[]");
    expect_value(body, "v json $.f", "{}");
    expect_value(body, "v json $.s", "caf\xc3\xa9 \xf0\x9f\x98\x80");
    judge(body, "$.o.a == [1.0, {\"b\": \"x\\\"y\\\\z/\"}]", "");
    judge(body, "$.o.a == [1, 2]", "$.o.a is [1,{\"b\":\"x\\\"y\\\\z/\"}], expected [1,2]");
    judge(body, "$.e == []", "");
    judge(body, "$.f == {}", "");
    judge(body, "$.e == {}", "$.e is [], expected {}");
    judge(body, "$.f != []", "");
    judge(body, "$.s == \"caf\\u00e9 \\ud83d\\ude00\"", "");
    /* An array with an integer jansson cannot hold is no VALUE's equal. */
    judge("{\"a\": [123456789012345678901234]}", "$.a != [1]", "");

    /* A plain string or number is handed back where it lies in the body;
     * one that needs building is in the scratch, NUL-terminated. */
    resp_t r = body_resp(body);
    char *scratch = NULL;
    size_t cap = 0;
    const char *val;
    size_t len;
    char why[200];
    CHECK_INT(run_raw("v json $.o.a[0]", &r, NULL, &scratch, &cap, &val, &len, why, sizeof why), 0);
    CHECK(val >= body && val + len <= body + sizeof body && len == 1 && *val == '1');
    CHECK_INT(run_raw("v json $.s", &r, NULL, &scratch, &cap, &val, &len, why, sizeof why), 0);
    CHECK(val == scratch && val[len] == '\0');
    CHECK_INT(run_raw("v json $.o.c", &r, NULL, &scratch, &cap, &val, &len, why, sizeof why), 0);
    CHECK(val == scratch && len == 4 && strcmp(val, "null") == 0);
    CHECK_INT(run_raw("v json $.o", &r, NULL, &scratch, &cap, &val, &len, why, sizeof why), 0);
    CHECK(val == scratch && val[len] == '\0');
    free(scratch);
}

TEST(extract_json_last_and_negative)
{
    expect_value(MOVIES, "v json $.items[last].title", "Schindler's List");
    expect_value(MOVIES, "v json $.items[-2].id", "tt0111161");
    expect_value(MOVIES, "v json $.grid[-1][-1]", "6");
    expect_value(MOVIES, "v json $.grid[last][0]", "4");
    expect_value(MOVIES, "v json $.grid[-2]", "[3]");
    expect_value(MOVIES, "v json $.tags[last]", "b");
    expect_value("[1, [2, 3], {\"a\": [4, [5, 6]]}]", "v json $[last].a[-1][last]", "6");
    expect_value("[[], [1]]", "v json $[-1][-1]", "1");
    expect_value("[7]", "v json $[-1]", "7");
    expect_value("[\"a\", \"b\\\"]\", \"c\"]", "v json $[-2]", "b\"]");
    resp_t r = body_resp("{\"e\": [], \"x\": [1, 2]}");
    expect_reason(&r, "v json $.e[last]", "no $.e[last] in the response");
    expect_reason(&r, "v json $.x[-3]", "no $.x[-3] in the response");
    expect_reason(&r, "v json $.x[-9223372036854775807]",
                  "no $.x[-9223372036854775807] in the response");
    /* The count reads the array to its end, and sees a break in it. */
    r = body_resp("{\"x\": [1, 2, oops");
    char buf[300];
    CHECK_INT(run("v json $.x[last]", &r, NULL, buf, sizeof buf), -1);
    CHECK_STR(buf, "the body is not JSON (lexical error: invalid char in json text at byte 14, "
                   "near ': [1, 2, oops')");
    r = body_resp("{\"x\": [1, 2");
    CHECK_INT(run("v json $.x[last]", &r, NULL, buf, sizeof buf), -1);
    CHECK(strstr(buf, "premature EOF at byte 11") != NULL);

    /* Under a [*], each array is counted. */
    rng_t rng;
    rng_seed(&rng, 3);
    r = body_resp(MOVIES);
    bool seen[7] = { false };
    char *scratch = NULL;
    size_t cap = 0;
    for (int i = 0; i < 200; i++) {
        const char *val;
        size_t len;
        CHECK_INT(run_raw("v json $.grid[*][-1]", &r, &rng, &scratch, &cap, &val, &len, buf,
                          sizeof buf), 0);
        if (len == 1 && val[0] >= '0' && val[0] <= '6')
            seen[val[0] - '0'] = true;
    }
    CHECK(seen[2] && seen[3] && seen[6] && !seen[1] && !seen[4] && !seen[5]);
    free(scratch);
    judge(MOVIES, "$.grid[*][-1] != 5", "");
    judge(MOVIES, "$.grid[*][-1] == 6", "$.grid[0][-1] is 2, expected 6");
    judge(MOVIES, "$.items[last].year == 1993", "");
    judge(MOVIES, "$.items[-1].year == 1994", "$.items[-1].year is 1993, expected 1994");
    judge(MOVIES, "$.items[-4] exists", "no $.items[-4] in the response");
}

TEST(extract_json_big_bodies)
{
    /* Strings past the parser's arena go to the heap (and back): a 200 KB
     * string with escapes, in an object written back whole. */
    size_t n = 200000;
    char *body = xmalloc(n + 64);
    size_t o = (size_t)sprintf(body, "{\"a\": {\"s\": \"");
    for (size_t i = 0; i < n / 2; i++) {
        body[o++] = '\\';
        body[o++] = 'n';
    }
    o += (size_t)sprintf(body + o, "\"}, \"b\": 1}");
    resp_t r = { .status = 200, .body = body, .body_len = o };
    char *scratch = NULL;
    size_t cap = 0;
    const char *val;
    size_t len;
    char why[300];
    for (int round = 0; round < 3; round++) {
        CHECK_INT(run_raw("v json $.a.s", &r, NULL, &scratch, &cap, &val, &len, why, sizeof why),
                  0);
        CHECK(len == n / 2 && val[0] == '\n' && val[len - 1] == '\n');
        CHECK_INT(run_raw("v json $.a", &r, NULL, &scratch, &cap, &val, &len, why, sizeof why), 0);
        CHECK(len == n + 8 && memcmp(val, "{\"s\":\"\\n", 8) == 0);
        CHECK_INT(run_raw("v json $.b", &r, NULL, &scratch, &cap, &val, &len, why, sizeof why), 0);
        CHECK(len == 1 && val[0] == '1');
    }
    judge(body, "$.b == 1", "");
    free(scratch);
    free(body);

    /* Many values taken by a [*]: each written back into the scratch. */
    body = xmalloc(600000);
    o = (size_t)sprintf(body, "[");
    for (int i = 0; i < 20000; i++)
        o += (size_t)sprintf(body + o, "%s{\"k\\u0041\": [%d]}", i ? "," : "", i);
    o += (size_t)sprintf(body + o, "]");
    r = (resp_t){ .status = 200, .body = body, .body_len = o };
    rng_t rng;
    rng_seed(&rng, 9);
    scratch = NULL;
    cap = 0;
    CHECK_INT(run_raw("v json $[*]", &r, &rng, &scratch, &cap, &val, &len, why, sizeof why), 0);
    CHECK(len > 10 && memcmp(val, "{\"kA\":[", 7) == 0);
    CHECK_INT(run_raw("v json $[*].kA[0]", &r, &rng, &scratch, &cap, &val, &len, why, sizeof why),
              0);
    judge(body, "$[*].kA[0] != -1", "");
    judge(body, "$[*][*][0] != 19999", "$[19999].kA[0] is 19999, expected anything else");
    free(scratch);
    free(body);
}

TEST(resp_keeps_nothing)
{
    /* Each extract reads the body itself; the response holds nothing, and
     * resp_clear may be called any number of times. */
    resp_t r = body_resp("{\"a\": \"x\", \"b\": 2}");
    char buf[100];
    CHECK_INT(run("v json $.a", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "x");
    CHECK_INT(run("v json $.b", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "2");
    CHECK_INT(run("v json $.a", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "x");
    resp_clear(&r);
    resp_clear(&r);
    r = body_resp("[5]");
    CHECK_INT(run("v json $[0]", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "5");
    resp_clear(&r);
}

/* ---- regex, header, cookie, status ------------------------------------------------ */

TEST(extract_regex)
{
    resp_t r = body_resp("<a href=\"/item?id=12345&x=1\">next</a> id=999");
    char buf[300];
    CHECK_INT(run("id regex id=([0-9]+)", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "12345");
    CHECK_INT(run("all regex id=[0-9]+", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "id=12345");
    CHECK_INT(run("x regex (href)=\"([^\"]*)\"", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "href");
    CHECK_INT(run("x regex >([a-z ]+)<  ", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "next");
    expect_reason(&r, "id regex id=([a-z]+)", "regex \"id=([a-z]+)\" did not match");
    expect_reason(&r, "id regex (zz)?href", "regex \"(zz)?href\" matched, but not its group");
    resp_clear(&r);

    /* The body's length ends it, not a NUL inside it. */
    r = (resp_t){ .status = 200, .body = "abc\0token=xyz", .body_len = 13 };
    CHECK_INT(run("t regex token=([a-z]+)", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "xyz");
    r.body_len = 3;
    expect_reason(&r, "t regex token=([a-z]+)", "regex \"token=([a-z]+)\" did not match");
    resp_clear(&r);
}

static const char HEADERS[] =
    "Content-Type: application/json; charset=utf-8\r\n"
    "X-Request-Id:   abc-123  \r\n"
    "Set-Cookie: theme=dark; Path=/\r\n"
    "Set-Cookie: session = s3cr3t ; HttpOnly; Secure\r\n"
    "Set-Cookie: sessionid=other\r\n"
    "Set-Cookie: session=second\r\n"
    "Set-Cookie: flag\r\n"
    "x-request-id: second\r\n"
    "Empty:\r\n";

TEST(extract_headers_cookies_status)
{
    resp_t r = { .status = 201, .headers = HEADERS, .headers_len = strlen(HEADERS) };
    char buf[300];
    CHECK_INT(run("id header X-Request-Id", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "abc-123");
    CHECK_INT(run("id header x-REQUEST-id", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "abc-123");
    CHECK_INT(run("ct header content-type", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "application/json; charset=utf-8");
    CHECK_INT(run("e header Empty", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "");
    expect_reason(&r, "id header X-Request", "no header X-Request");
    expect_reason(&r, "id header Location", "no header Location");

    CHECK_INT(run("s cookie session", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "s3cr3t");
    CHECK_INT(run("s cookie theme", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "dark");
    CHECK_INT(run("s cookie sessionid", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "other");
    expect_reason(&r, "s cookie Session", "no Set-Cookie for Session");
    expect_reason(&r, "s cookie flag", "no Set-Cookie for flag");
    expect_reason(&r, "s cookie sess", "no Set-Cookie for sess");

    CHECK_INT(run("code status", &r, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "201");

    /* LF-only lines, and no final line break. */
    resp_t lf = { .status = 0, .headers = "A: 1\nB: two", .headers_len = 11 };
    CHECK_INT(run("b header b", &lf, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "two");
    CHECK_INT(run("code status", &lf, NULL, buf, sizeof buf), 0);
    CHECK_STR(buf, "0");
    /* No headers kept. */
    resp_t none = { .status = 200 };
    expect_reason(&none, "b header B", "no header B");
    expect_reason(&none, "s cookie s", "no Set-Cookie for s");
}

TEST(extract_parse_forms)
{
    extract_t e;
    char err[300];
    CHECK_INT(extract_parse("token json $.token", &e, err, sizeof err), 0);
    CHECK(e.kind == EX_JSON);
    CHECK_STR(e.var, "token");
    CHECK_STR(e.text, "json $.token");
    CHECK_STR(e.path.text, "$.token");
    CHECK(extract_needs_body(&e) && !extract_needs_headers(&e));
    extract_free(&e);
    CHECK(e.var == NULL && e.text == NULL);

    CHECK_INT(extract_parse("  id\tregex  id=([0-9]+) x  ", &e, err, sizeof err), 0);
    CHECK(e.kind == EX_REGEX && e.re_compiled);
    CHECK_STR(e.var, "id");
    CHECK_STR(e.text, "regex  id=([0-9]+) x");
    CHECK(extract_needs_body(&e) && !extract_needs_headers(&e));
    extract_free(&e);

    /* Repetitions a real regex has are fine; brackets are one part. */
    static const char *const fine[] = {
        "t regex [0-9]{1,20}", "t regex (x{1,100}){1,100}", "t regex a+b+c+(d+e+)+",
        "t regex [{+*]{1,50}", "t regex \\{+", "t regex a*\\*", "t regex (a*)*b+",
        "t regex [+]+[*]*", "t regex [[:digit:]]+\\.[0-9]{2}",
        "t regex \"token\":\"([^\"]+)\"",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        int rc = extract_parse(fine[i], &e, err, sizeof err);
        if (rc != 0)
            printf("#   '%s': %s\n", fine[i], err);
        CHECK_INT(rc, 0);
        extract_free(&e);
    }

    CHECK_INT(extract_parse("rid header X-Request-Id", &e, err, sizeof err), 0);
    CHECK(e.kind == EX_HEADER);
    CHECK_STR(e.name, "X-Request-Id");
    CHECK(!extract_needs_body(&e) && extract_needs_headers(&e));
    extract_free(&e);

    CHECK_INT(extract_parse("sid cookie session_id", &e, err, sizeof err), 0);
    CHECK(e.kind == EX_COOKIE);
    CHECK_STR(e.name, "session_id");
    CHECK(!extract_needs_body(&e) && extract_needs_headers(&e));
    extract_free(&e);

    CHECK_INT(extract_parse("code status", &e, err, sizeof err), 0);
    CHECK(e.kind == EX_STATUS);
    CHECK(!extract_needs_body(&e) && !extract_needs_headers(&e));
    extract_free(&e);

    static const struct {
        const char *v;
        const char *why;
    } bad[] = {
        { "", "expected 'NAME KIND ...'" },
        { "token", "expected 'NAME KIND ...'" },
        { "9lives json $.a", "'9lives' is not a variable name" },
        { "a.b json $.a", "'a.b' is not a variable name" },
        { "t jsn $.a", "unknown kind 'jsn'" },
        { "t json", "json needs a path" },
        { "t json token", "expected '$' at the start" },
        { "t json $.a b", "unexpected 'b' after the path $.a" },
        { "t regex", "regex needs an expression" },
        { "t regex (", "regex \"(\": " },
        { "t regex a+++++++++++++++++++++++++", "a repetition right after another" },
        { "t regex x*?", "a repetition right after another" },
        { "t regex x{2}*", "a repetition right after another" },
        { "t regex (x+){2}{3}", "a repetition right after another" },
        { "t regex (a+)+(b+)+(((c+)+)+)+((((((((((((((((((d+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+",
          "too large once its repetitions are counted" },
        { "t regex ((a{99}){99}){99}", "too large once its repetitions are counted" },
        { "t regex [0-9]{30000}", "too large once its repetitions are counted" },
        { "t header", "header needs a name" },
        { "t header A B", "header takes one name, not 'A B'" },
        { "t header A:", "'A:' is not a header name" },
        { "t cookie", "cookie needs a name" },
        { "t cookie a;b", "'a;b' is not a cookie name" },
        { "t status 200", "status takes no argument (found '200')" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = extract_parse(bad[i].v, &e, err, sizeof err);
        if (rc != -1 || strstr(err, bad[i].why) == NULL)
            printf("#   '%s': rc %d, err '%s', wanted '%s'\n", bad[i].v, rc, err, bad[i].why);
        CHECK(rc == -1 && strstr(err, bad[i].why) != NULL);
        CHECK(e.var == NULL && e.text == NULL && e.name == NULL && e.path.steps == NULL &&
              !e.re_compiled);
        extract_free(&e);
    }
}

/* ---- expectations -------------------------------------------------------------------- */

TEST(expect_json)
{
    judge(MOVIES, "$.page == 1", "");
    judge(MOVIES, "$.page == 1.0", "");
    judge(MOVIES, "$.ten == 10", "");
    judge(MOVIES, "$.page == 2", "$.page is 1, expected 2");
    judge(MOVIES, "$.page != 2", "");
    judge(MOVIES, "$.page != 1", "$.page is 1, expected anything else");
    judge(MOVIES, "$.items[0].ok == true", "");
    judge(MOVIES, "$.no == true", "$.no is false, expected true");
    judge(MOVIES, "$.items[0].id == \"tt0068646\"", "");
    judge(MOVIES, "$.items[0].id == \"x\"", "$.items[0].id is \"tt0068646\", expected \"x\"");
    judge(MOVIES, "$.none == null", "");
    judge(MOVIES, "$.tags == [\"a\", \"b\"]", "");
    judge(MOVIES, "$.tags == [\"b\", \"a\"]",
          "$.tags is [\"a\",\"b\"], expected [\"b\",\"a\"]");
    judge(MOVIES, "$.obj == {\"y\": [true, null], \"x\": 1.0}", "");
    judge(MOVIES, "$.obj == {\"x\": 1}", "$.obj is {\"x\":1,\"y\":[true,null]}, "
                                          "expected {\"x\":1}");
    judge(MOVIES, "$.page == \"1\"", "$.page is 1, expected \"1\"");
    judge(MOVIES, "$.items exists", "");
    judge(MOVIES, "$.none exists", "");
    judge(MOVIES, "$.nope exists", "no $.nope in the response");
    judge(MOVIES, "$.nope == 1", "no $.nope in the response");
    judge(MOVIES, "$.nope != 1", "");

    /* [*]: == holds when every selected value equals, != when none does,
     * exists when one is selected. */
    judge(MOVIES, "$.items[*].ok == true", "");
    judge(MOVIES, "$.items[*].year == 1972", "$.items[1].year is 1994, expected 1972");
    judge(MOVIES, "$.items[*].year != 1993", "$.items[2].year is 1993, expected anything else");
    judge(MOVIES, "$.items[*].year != 2000", "");
    judge(MOVIES, "$.items[*].id exists", "");
    judge(MOVIES, "$.items[*].nope exists", "no $.items[*].nope in the response");
    judge(MOVIES, "$.items[*].nope == 1", "no $.items[*].nope in the response");
    judge(MOVIES, "$.items[*].nope != 1", "");
    judge(MOVIES, "$.obj[*] == 1", "$.obj.y is [true,null], expected 1");
    judge(MOVIES, "$.grid[*][*] != 4", "$.grid[2][0] is 4, expected anything else");
    judge("{\"a b\": [0]}", "$[\"a b\"][*] == 1", "$[\"a b\"][0] is 0, expected 1");

    judge("nope", "$.a exists", "the body is not JSON (lexical error: invalid string in json "
                                "text at byte 1, near 'nope')");
    judge("", "$ exists", "the body is not JSON (it is empty)");

    /* Values in messages are cut and escaped. */
    char body[400];
    snprintf(body, sizeof body, "{\"s\": \"%s\\u001b[2J\"}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect_t x;
    char err[200];
    CHECK_INT(expect_parse("$.s == \"b\"", true, &x, err, sizeof err), 0);
    resp_t r = body_resp(body);
    char why[300];
    CHECK_INT(expect_check(&x, &r, why, sizeof why), -1);
    CHECK(strstr(why, "$.s is \"aaaa") == why);
    CHECK(strstr(why, "...") != NULL);
    CHECK(strlen(why) < 120);
    resp_clear(&r);
    expect_free(&x);

    r = body_resp("{\"s\": \"\\u001b[2J\"}");
    CHECK_INT(expect_parse("$.s == \"b\"", true, &x, err, sizeof err), 0);
    CHECK_INT(expect_check(&x, &r, why, sizeof why), -1);
    CHECK(strchr(why, '\x1b') == NULL);
    CHECK(strstr(why, "\"\\u001B[2J\"") != NULL);
    resp_clear(&r);
    expect_free(&x);
}

TEST(expect_parse_forms)
{
    expect_t x;
    char err[300];
    CHECK_INT(expect_parse("$.ok == true", true, &x, err, sizeof err), 0);
    CHECK(x.kind == EXPECT_JSON_EQ && x.value != NULL);
    CHECK_STR(x.text, "$.ok == true");
    CHECK_STR(x.path.text, "$.ok");
    expect_free(&x);
    CHECK(x.value == NULL && x.text == NULL);

    CHECK_INT(expect_parse("$[\"a b\"] != \"x y\"  ", true, &x, err, sizeof err), 0);
    CHECK(x.kind == EXPECT_JSON_NE);
    CHECK_STR(x.path.steps[0].member, "a b");
    CHECK_STR(x.text, "$[\"a b\"] != \"x y\"");
    expect_free(&x);

    CHECK_INT(expect_parse("$.items[*]   exists", true, &x, err, sizeof err), 0);
    CHECK(x.kind == EXPECT_JSON_EXISTS && x.value == NULL);
    expect_free(&x);

    CHECK_INT(expect_parse("Content-Type:  application/json ", false, &x, err, sizeof err), 0);
    CHECK(x.kind == EXPECT_HEADER);
    CHECK_STR(x.name, "Content-Type");
    CHECK_STR(x.substring, "application/json");
    CHECK_STR(x.text, "Content-Type:  application/json");
    expect_free(&x);

    CHECK_INT(expect_parse("X-Id:", false, &x, err, sizeof err), 0);
    CHECK_STR(x.substring, "");
    expect_free(&x);

    static const struct {
        const char *v;
        bool json;
        const char *why;
    } bad[] = {
        { "$.ok", true, "expected '==', '!=' or 'exists' after the path $.ok" },
        { "$.ok = true", true, "expected '==', '!=' or 'exists'" },
        { "$.ok==true", true, "expected blanks around the operator" },
        { "$.ok== true", true, "expected blanks around the operator" },
        { "$.ok exists now", true, "expected '==', '!=' or 'exists'" },
        { "$.ok ==", true, "a value is missing after '=='" },
        { "$.ok == yes", true, "'yes' is not a JSON value (strings take double quotes" },
        { "$.ok == true false", true, "is not a JSON value" },
        { "$.ok == \"a", true, "is not a JSON value" },
        { "ok == true", true, "expected '$' at the start" },
        { "$[0 == 1", true, "expected ']'" },
        { "Content-Type json", false, "expected 'Name: text'" },
        { ": json", false, "expected 'Name: text'" },
        { "Bad Name: x", false, "'Bad Name' is not a header name" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = expect_parse(bad[i].v, bad[i].json, &x, err, sizeof err);
        if (rc != -1 || strstr(err, bad[i].why) == NULL)
            printf("#   '%s': rc %d, err '%s', wanted '%s'\n", bad[i].v, rc, err, bad[i].why);
        CHECK(rc == -1 && strstr(err, bad[i].why) != NULL);
        CHECK(x.value == NULL && x.text == NULL && x.name == NULL && x.path.steps == NULL);
        expect_free(&x);
    }
}

static void judge_header(resp_t *r, const char *spec, const char *want)
{
    expect_t x;
    char err[300];
    if (expect_parse(spec, false, &x, err, sizeof err) != 0) {
        printf("#   expect_parse('%s'): %s\n", spec, err);
        CHECK(0);
        return;
    }
    char why[300] = "";
    int rc = expect_check(&x, r, why, sizeof why);
    bool ok = want[0] == '\0' ? rc == 0 : rc == -1 && strcmp(why, want) == 0;
    if (!ok)
        printf("#   '%s': rc %d, why '%s', wanted '%s'\n", spec, rc, why, want);
    CHECK(ok);
    expect_free(&x);
}

TEST(expect_header)
{
    resp_t r = { .status = 200, .headers = HEADERS, .headers_len = strlen(HEADERS) };
    judge_header(&r, "Content-Type: json", "");
    judge_header(&r, "content-type: application/json; charset", "");
    judge_header(&r, "Content-Type: xml",
                 "header Content-Type lacks \"xml\" (it is \"application/json; charset=utf-8\")");
    judge_header(&r, "Content-Type: JSON",
                 "header Content-Type lacks \"JSON\" (it is \"application/json; charset=utf-8\")");
    judge_header(&r, "X-Request-Id: abc", "");
    judge_header(&r, "X-Request-Id: second", "");   /* any header of the name */
    judge_header(&r, "Set-Cookie: session=second", "");
    judge_header(&r, "Location: /", "no header Location");
    judge_header(&r, "Location:", "no header Location");
    judge_header(&r, "Empty:", "");
    resp_t none = { .status = 200 };
    judge_header(&none, "X-Id: a", "no header X-Id");

    const char hostile[] = "X-Evil: \x1b]0;pwned\x07 and more text that goes on and on "
                           "and on and on and on and on and on\r\n";
    resp_t ev = { .status = 200, .headers = hostile, .headers_len = strlen(hostile) };
    expect_t x;
    char err[100], why[300];
    CHECK_INT(expect_parse("X-Evil: good", false, &x, err, sizeof err), 0);
    CHECK_INT(expect_check(&x, &ev, why, sizeof why), -1);
    CHECK(strchr(why, '\x1b') == NULL && strchr(why, '\x07') == NULL);
    CHECK(strstr(why, "\\x1b]0;pwned\\x07") != NULL);
    CHECK(strstr(why, "...\")") != NULL);
    /* A small why buffer is respected. */
    char small[8] = "";
    CHECK_INT(expect_check(&x, &ev, small, sizeof small), -1);
    CHECK_INT(strlen(small), 7);
    expect_free(&x);
}

int main(void)
{
    check_prog = "test_extract";
    RUN(path_forms);
    RUN(path_errors);
    RUN(extract_json_values);
    RUN(extract_json_scratch_grows);
    RUN(extract_json_all_picks_at_random);
    RUN(extract_json_failures);
    RUN(extract_json_reads_only_what_it_needs);
    RUN(extract_json_depth);
    RUN(extract_json_numbers_keep_their_text);
    RUN(extract_json_compact_values);
    RUN(extract_json_last_and_negative);
    RUN(extract_json_big_bodies);
    RUN(resp_keeps_nothing);
    RUN(extract_regex);
    RUN(extract_headers_cookies_status);
    RUN(extract_parse_forms);
    RUN(expect_json);
    RUN(expect_parse_forms);
    RUN(expect_header);
    return check_done();
}

/* test_hopperfile: the hopperfile parser, plan helpers and the bad-input corpus.
 *
 * The corpus lives in tests/bad (or $HOPPER_BAD_DIR): each file starts with
 * "# expect: LINE: SUBSTRING". Inputs that cannot sensibly be committed
 * (binary garbage, NUL bytes, a 10 MB line, invalid UTF-8) are generated here
 * into a temporary folder. Run from the repository root. */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "plan/hopperfile.h"
#include "plan/plan.h"
#include "util/url.h"

#define S 1000000ULL

static char tmp_dir[64];

/* ---- helpers -------------------------------------------------------------- */

/* Whether p is exactly what plan_init() leaves. */
static int plan_is_pristine(const plan_t *p)
{
    return p->path == NULL && p->host == NULL && p->users == 1 && p->spawn_rate == 1.0 &&
           p->run_time_us == 0 && p->wait.kind == WAIT_CONSTANT && p->wait.a_us == 0 &&
           p->wait.b_us == 0 && p->wait.rate == 0 && p->timeout_us == PLAN_DEFAULT_TIMEOUT_US &&
           p->headers == NULL && p->n_headers == 0 && p->tasks == NULL && p->n_tasks == 0 &&
           !p->host_set && !p->users_set && !p->spawn_rate_set && !p->run_time_set &&
           !p->wait_set && !p->timeout_set && p->model == MODEL_CLOSED && p->arrival_rate == 0 &&
           p->max_users == 0 && p->arrivals == ARRIVALS_EVEN && p->stages == NULL &&
           p->n_stages == 0 && !p->model_set && !p->arrival_rate_set && !p->max_users_set &&
           !p->arrivals_set && p->model_line == 0;
}

/* Parses text as "t.hopperfile"; on failure prints the message. */
static int parse(const char *text, plan_t *plan, char *err, size_t errlen)
{
    int rc = hopperfile_parse("t.hopperfile", text, strlen(text), plan, err, errlen);
    if (rc != 0)
        printf("#   parse error: %s\n", err);
    return rc;
}

/* Expects text to fail with exactly "t.hopperfile:LINE: " + a message that
 * contains want, and the plan to be left pristine even though it held junk. */
static void expect_error_n(const char *text, size_t len, unsigned line, const char *want)
{
    plan_t plan;
    memset(&plan, 0xab, sizeof plan); /* junk the parser must neither free nor keep */
    char err[512] = "";
    int rc = hopperfile_parse("t.hopperfile", text, len, &plan, err, sizeof err);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "t.hopperfile:%u: ", line);
    int ok = rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, want) != NULL;
    if (!ok)
        printf("#   got rc %d '%s', wanted '%s...%s'\n", rc, err, prefix, want);
    CHECK(ok);
    CHECK(plan_is_pristine(&plan));
    if (rc == 0)
        plan_free(&plan);
}

static void expect_error(const char *text, unsigned line, const char *want)
{
    expect_error_n(text, strlen(text), line, want);
}

/* Writes a file into tmp_dir; returns its path (static storage per call site
 * is not needed: the caller copies it). */
static void write_file(const char *name, const void *data, size_t len, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK_INT(fwrite(data, 1, len, f), len);
    fclose(f);
}

static const char *const tutorial =
    "# The movie API scenario\n"
    "host       = http://127.0.0.1:8082\n"
    "users      = 1000\n"
    "spawn-rate = 10\n"
    "run-time   = 30m\n"
    "wait       = between 5s 9s\n"
    "\n"
    "[task status]\n"
    "weight  = 100\n"
    "request = GET /status\n"
    "\n"
    "[task similar-by-id]\n"
    "weight  = 100\n"
    "request = GET /api/id/tt0068646\n"
    "\n"
    "[task similar-by-title]\n"
    "weight  = 100\n"
    "request = GET /api/title/The godfather/1972\n";

static void check_tutorial_plan(const plan_t *plan)
{
    CHECK_STR(plan->host, "http://127.0.0.1:8082");
    CHECK_INT(plan->users, 1000);
    CHECK(plan->spawn_rate == 10.0);
    CHECK_INT(plan->run_time_us, 30 * 60 * S);
    CHECK_INT(plan->wait.kind, WAIT_BETWEEN);
    CHECK_INT(plan->wait.a_us, 5 * S);
    CHECK_INT(plan->wait.b_us, 9 * S);
    CHECK_INT(plan->timeout_us, PLAN_DEFAULT_TIMEOUT_US);
    CHECK(plan->host_set && plan->users_set && plan->spawn_rate_set && plan->run_time_set &&
          plan->wait_set && !plan->timeout_set);
    CHECK_INT(plan->n_tasks, 3);
    if (plan->n_tasks != 3)
        return;
    static const char *const ids[] = { "status", "similar-by-id", "similar-by-title" };
    static const char *const targets[] = { "/status", "/api/id/tt0068646",
                                           "/api/title/The godfather/1972" };
    for (size_t i = 0; i < 3; i++) {
        CHECK_STR(plan->tasks[i].id, ids[i]);
        CHECK_STR(plan->tasks[i].steps[0].method, "GET");
        CHECK_STR(plan->tasks[i].steps[0].target, targets[i]);
        CHECK_STR(plan->tasks[i].steps[0].name, targets[i]);
        CHECK_INT(plan->tasks[i].weight, 100);
    }
    CHECK_STR(plan->tasks[2].steps[0].name, "/api/title/The godfather/1972");
    char *url = url_resolve(plan->host, plan->tasks[2].steps[0].target);
    CHECK_STR(url, "http://127.0.0.1:8082/api/title/The%20godfather/1972");
    free(url);
}

/* ---- the format ---------------------------------------------------------------- */

TEST(tutorial_inline)
{
    plan_t plan;
    char err[512];
    CHECK_INT(parse(tutorial, &plan, err, sizeof err), 0);
    check_tutorial_plan(&plan);
    CHECK_STR(plan.path, "t.hopperfile");
    CHECK_INT(plan.tasks[0].line, 8);
    CHECK_INT(plan.tasks[1].line, 12);
    CHECK_INT(plan.tasks[2].line, 16);
    CHECK_STR(err, "");
    plan_free(&plan);
    CHECK(plan_is_pristine(&plan));
}

TEST(tutorial_example_file)
{
    plan_t plan;
    char err[512] = "";
    int rc = hopperfile_load("examples/grafmuvi.hopperfile", &plan, err, sizeof err);
    if (rc != 0)
        printf("#   %s\n", err);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        check_tutorial_plan(&plan);
        CHECK_STR(plan.path, "examples/grafmuvi.hopperfile");
    }
    plan_free(&plan);
}

TEST(defaults)
{
    plan_t plan;
    char err[512];
    CHECK_INT(parse("[task a]\nrequest = GET /\n", &plan, err, sizeof err), 0);
    CHECK(plan.host == NULL);
    CHECK_INT(plan.users, 1);
    CHECK(plan.spawn_rate == 1.0);
    CHECK_INT(plan.run_time_us, 0);
    CHECK_INT(plan.wait.kind, WAIT_CONSTANT);
    CHECK_INT(plan.wait.a_us, 0);
    CHECK_INT(plan.timeout_us, 60 * S);
    CHECK_INT(plan.n_headers, 0);
    CHECK(!plan.host_set && !plan.users_set && !plan.spawn_rate_set && !plan.run_time_set &&
          !plan.wait_set && !plan.timeout_set);
    /* Locust's closed model, no shape. */
    CHECK_INT(plan.model, MODEL_CLOSED);
    CHECK(!plan.model_set && !plan.arrival_rate_set && !plan.max_users_set && !plan.arrivals_set);
    CHECK(plan.stages == NULL && plan.n_stages == 0 && plan.max_users == 0);
    CHECK_INT(plan.n_tasks, 1);
    const plan_task_t *t = &plan.tasks[0];
    CHECK_STR(t->id, "a");
    CHECK_STR(t->steps[0].name, "/");
    CHECK_STR(t->steps[0].method, "GET");
    CHECK_STR(t->steps[0].target, "/");
    CHECK_INT(t->weight, 1);
    CHECK_INT(t->steps[0].n_headers, 0);
    CHECK(t->steps[0].headers == NULL);
    CHECK(t->steps[0].body == NULL);
    CHECK_INT(t->steps[0].body_len, 0);
    CHECK(t->steps[0].expect_status == NULL);
    CHECK_INT(t->steps[0].n_expect_status, 0);
    CHECK(t->steps[0].expect_body == NULL);
    CHECK_INT(t->steps[0].timeout_us, 0);
    CHECK_INT(t->line, 1);
    plan_free(&plan);
}

TEST(every_key)
{
    static const char body_json[] = "{\"a\": 1}\n\0binary";
    char body_path[256], file_path[256];
    write_file("payload.json", body_json, sizeof body_json - 1, body_path, sizeof body_path);
    static const char text[] =
        "  # indented comment\n"
        "host = https://api.example.com:8443/v1/\n"
        "users = 250\n"
        "hatch-rate = 0.5\n"
        "run-time = 1h30m\n"
        "wait = pacing 2s\n"
        "timeout = 2.5s\n"
        "header = Authorization:   Bearer abc#def  \n"
        "header = X-Client:hopper\n"
        "\n"
        "[task create]\n"
        "weight = 0\n"
        "request = POST /items?kind=a b\n"
        "header = Content-Type: application/json\n"
        "header = X-Trace: 1\n"
        "body-file = payload.json\n"
        "name = create item\n"
        "expect-status = 200-299, 304 ,  418\n"
        "expect-body = \"ok\": true\n"
        "timeout = 250ms\n"
        "\n"
        "[task inline.body_2]\n"
        "request = PUT\t  http://other.example.com/x#frag\n"
        "body = {\"id\": \"#42\"}\n"
        "expect-status = 201\n";
    write_file("every.hopperfile", text, sizeof text - 1, file_path, sizeof file_path);

    plan_t plan;
    char err[512] = "";
    int rc = hopperfile_load(file_path, &plan, err, sizeof err);
    if (rc != 0)
        printf("#   %s\n", err);
    CHECK_INT(rc, 0);
    if (rc != 0)
        return;
    CHECK_STR(plan.host, "https://api.example.com:8443/v1/");
    CHECK_INT(plan.users, 250);
    CHECK(plan.spawn_rate == 0.5);
    CHECK_INT(plan.run_time_us, 5400 * S);
    CHECK_INT(plan.wait.kind, WAIT_PACING);
    CHECK_INT(plan.wait.a_us, 2 * S);
    CHECK_INT(plan.timeout_us, 2500000);
    CHECK(plan.host_set && plan.users_set && plan.spawn_rate_set && plan.run_time_set &&
          plan.wait_set && plan.timeout_set);
    CHECK_INT(plan.n_headers, 2);
    CHECK_STR(plan.headers[0], "Authorization: Bearer abc#def");
    CHECK_STR(plan.headers[1], "X-Client: hopper");
    CHECK_INT(plan.n_tasks, 2);

    const plan_task_t *t = &plan.tasks[0];
    CHECK_STR(t->id, "create");
    CHECK_INT(t->weight, 0);
    CHECK_STR(t->steps[0].method, "POST");
    CHECK_STR(t->steps[0].target, "/items?kind=a b");
    CHECK_INT(t->steps[0].n_headers, 2);
    CHECK_STR(t->steps[0].headers[0], "Content-Type: application/json");
    CHECK_STR(t->steps[0].headers[1], "X-Trace: 1");
    CHECK_INT(t->steps[0].body_len, sizeof body_json - 1);
    CHECK(t->steps[0].body != NULL && memcmp(t->steps[0].body, body_json, sizeof body_json - 1) == 0);
    CHECK_STR(t->steps[0].name, "create item");
    CHECK_INT(t->steps[0].n_expect_status, 3);
    if (t->steps[0].n_expect_status == 3) {
        CHECK_INT(t->steps[0].expect_status[0].lo, 200);
        CHECK_INT(t->steps[0].expect_status[0].hi, 299);
        CHECK_INT(t->steps[0].expect_status[1].lo, 304);
        CHECK_INT(t->steps[0].expect_status[1].hi, 304);
        CHECK_INT(t->steps[0].expect_status[2].lo, 418);
        CHECK_INT(t->steps[0].expect_status[2].hi, 418);
    }
    CHECK_STR(t->steps[0].expect_body, "\"ok\": true");
    CHECK_INT(t->steps[0].timeout_us, 250000);
    CHECK_INT(t->line, 11);

    t = &plan.tasks[1];
    CHECK_STR(t->id, "inline.body_2");
    CHECK_INT(t->weight, 1);
    CHECK_STR(t->steps[0].method, "PUT");
    CHECK_STR(t->steps[0].target, "http://other.example.com/x#frag");
    CHECK_STR(t->steps[0].name, "http://other.example.com/x#frag");
    CHECK_STR(t->steps[0].body, "{\"id\": \"#42\"}");
    CHECK_INT(t->steps[0].body_len, strlen("{\"id\": \"#42\"}"));
    CHECK_INT(t->steps[0].n_expect_status, 1);
    CHECK_INT(t->steps[0].timeout_us, 0);
    plan_free(&plan);
    CHECK(plan_is_pristine(&plan));
    unlink(body_path);
    unlink(file_path);
}

TEST(body_file_paths)
{
    /* Relative to the hopperfile's folder, not the working directory. */
    char sub[128], data_path[256], hf_path[256], abs_path[256];
    snprintf(sub, sizeof sub, "%s/sub", tmp_dir);
    CHECK_INT(mkdir(sub, 0700), 0);
    write_file("sub/empty.bin", "", 0, data_path, sizeof data_path);
    write_file("abs.txt", "absolute", 8, abs_path, sizeof abs_path);
    char text[1024];
    snprintf(text, sizeof text,
             "[task a]\nrequest = POST /\nbody-file = empty.bin\n"
             "[task b]\nrequest = POST /\nbody-file = %s\n", abs_path);
    write_file("sub/b.hopperfile", text, strlen(text), hf_path, sizeof hf_path);
    plan_t plan;
    char err[512] = "";
    int rc = hopperfile_load(hf_path, &plan, err, sizeof err);
    if (rc != 0)
        printf("#   %s\n", err);
    CHECK_INT(rc, 0);
    if (rc == 0) {
        CHECK(plan.tasks[0].steps[0].body != NULL); /* an empty body is still a body */
        CHECK_INT(plan.tasks[0].steps[0].body_len, 0);
        CHECK_STR(plan.tasks[1].steps[0].body, "absolute");
        CHECK_INT(plan.tasks[1].steps[0].body_len, 8);
    }
    plan_free(&plan);

    /* The same file parsed under a name in another folder cannot find it. */
    rc = hopperfile_parse("elsewhere/b.hopperfile", text, strlen(text), &plan, err, sizeof err);
    CHECK_INT(rc, -1);
    CHECK(strstr(err, "elsewhere/b.hopperfile:3: body-file: cannot read 'elsewhere/empty.bin'") == err);
    CHECK(plan_is_pristine(&plan));
    unlink(data_path);
    unlink(abs_path);
    unlink(hf_path);
    rmdir(sub);
}

TEST(wait_kinds)
{
    static const struct {
        const char *line;
        wait_kind_t kind;
        uint64_t a, b;
        double rate;
        const char *described;
    } cases[] = {
        { "between 5s 9s", WAIT_BETWEEN, 5 * S, 9 * S, 0, "between 5s 9s" },
        { "between   5   9", WAIT_BETWEEN, 5 * S, 9 * S, 0, "between 5s 9s" },
        { "between 0 0", WAIT_BETWEEN, 0, 0, 0, "between 0s 0s" },
        { "between 500ms 1.5s", WAIT_BETWEEN, 500000, 1500000, 0, "between 500ms 1.5s" },
        { "between 3s 3s", WAIT_BETWEEN, 3 * S, 3 * S, 0, "between 3s 3s" },
        { "constant 0", WAIT_CONSTANT, 0, 0, 0, "constant 0s" },
        { "constant 1m", WAIT_CONSTANT, 60 * S, 0, 0, "constant 1m" },
        { "pacing 2s", WAIT_PACING, 2 * S, 0, 0, "pacing 2s" },
        { "pacing\t250ms", WAIT_PACING, 250000, 0, 0, "pacing 250ms" },
        { "throughput 0.5", WAIT_THROUGHPUT, 2 * S, 0, 0.5, "throughput 0.5/s" },
        { "throughput 0.5/s", WAIT_THROUGHPUT, 2 * S, 0, 0.5, "throughput 0.5/s" },
        { "throughput 3", WAIT_THROUGHPUT, 333333, 0, 3, "throughput 3/s" },
        { "throughput 1.5", WAIT_THROUGHPUT, 666667, 0, 1.5, "throughput 1.5/s" },
        { "throughput 2000", WAIT_THROUGHPUT, 500, 0, 2000, "throughput 2000/s" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256], err[512], desc[64];
        snprintf(text, sizeof text, "wait = %s\n[task t]\nrequest = GET /\n", cases[i].line);
        plan_t plan;
        CHECK_INT(parse(text, &plan, err, sizeof err), 0);
        CHECK(plan.wait_set);
        CHECK_INT(plan.wait.kind, cases[i].kind);
        CHECK_INT(plan.wait.a_us, cases[i].a);
        CHECK_INT(plan.wait.b_us, cases[i].b);
        CHECK(plan.wait.rate == cases[i].rate);
        CHECK_STR(plan_wait_describe(&plan.wait, desc, sizeof desc), cases[i].described);
        plan_free(&plan);

        /* What plan_wait_describe writes, the parser reads back the same. */
        snprintf(text, sizeof text, "wait = %s\n[task t]\nrequest = GET /\n", desc);
        CHECK_INT(parse(text, &plan, err, sizeof err), 0);
        CHECK_INT(plan.wait.kind, cases[i].kind);
        CHECK_INT(plan.wait.a_us, cases[i].a);
        CHECK_INT(plan.wait.b_us, cases[i].b);
        plan_free(&plan);
    }
}

TEST(plan_helpers)
{
    plan_t plan;
    plan_init(&plan);
    CHECK(plan_is_pristine(&plan));
    char desc[64];
    CHECK_STR(plan_wait_describe(&plan.wait, desc, sizeof desc), "constant 0s");
    plan_free(&plan); /* freeing an empty plan is fine */
    CHECK(plan_is_pristine(&plan));

    /* Without a list: 100-399 pass. */
    plan_step_t t;
    memset(&t, 0, sizeof t);
    CHECK(!plan_status_ok(&t, 0));
    CHECK(!plan_status_ok(&t, 99));
    CHECK(plan_status_ok(&t, 100));
    CHECK(plan_status_ok(&t, 200));
    CHECK(plan_status_ok(&t, 304));
    CHECK(plan_status_ok(&t, 399));
    CHECK(!plan_status_ok(&t, 400));
    CHECK(!plan_status_ok(&t, 404));
    CHECK(!plan_status_ok(&t, 500));
    CHECK(!plan_status_ok(&t, -1));
    CHECK(plan_status_ok(NULL, 200));

    /* With a list: exactly the list. */
    status_range_t ranges[] = { { 200, 299 }, { 404, 404 } };
    t.expect_status = ranges;
    t.n_expect_status = 2;
    CHECK(plan_status_ok(&t, 200));
    CHECK(plan_status_ok(&t, 299));
    CHECK(!plan_status_ok(&t, 300));
    CHECK(!plan_status_ok(&t, 304));
    CHECK(plan_status_ok(&t, 404));
    CHECK(!plan_status_ok(&t, 403));
    CHECK(!plan_status_ok(&t, 199));

    /* The list from a hopperfile. */
    char err[512];
    CHECK_INT(parse("[task t]\nrequest = GET /\nexpect-status = 500-599\n", &plan, err,
                    sizeof err), 0);
    CHECK(plan_status_ok(&plan.tasks[0].steps[0], 503));
    CHECK(!plan_status_ok(&plan.tasks[0].steps[0], 200));
    plan_free(&plan);
}

TEST(syntax)
{
    plan_t plan;
    char err[512];
    /* CRLF, a byte order mark, tabs, blank lines with spaces, '#' inside values,
     * '=' inside values, a target with several spaces. */
    static const char text[] =
        "\xef\xbb\xbfusers\t=\t3\r\n"
        "   \r\n"
        "\t# a comment\r\n"
        "[ task  x ]\r\n"
        "request = GET /a?b=c&d=#e  f  g\r\n"
        "name = caf\xc3\xa9 \xe2\x98\x95\r\n";
    CHECK_INT(parse(text, &plan, err, sizeof err), 0);
    CHECK_INT(plan.users, 3);
    CHECK_INT(plan.n_tasks, 1);
    if (plan.n_tasks == 1) {
        CHECK_STR(plan.tasks[0].id, "x");
        CHECK_INT(plan.tasks[0].line, 4);
        CHECK_STR(plan.tasks[0].steps[0].target, "/a?b=c&d=#e  f  g");
        CHECK_STR(plan.tasks[0].steps[0].name, "caf\xc3\xa9 \xe2\x98\x95");
    }
    plan_free(&plan);

    /* Any upper-case token is a method. */
    CHECK_INT(parse("[task t]\nrequest = PURGE /cache\n", &plan, err, sizeof err), 0);
    CHECK_STR(plan.tasks[0].steps[0].method, "PURGE");
    plan_free(&plan);

    /* Limits that are allowed. */
    CHECK_INT(parse("users = 10000000\nspawn-rate = 1000000\nrun-time = 8760h\n"
                    "[task t]\nrequest = GET /\nweight = 1000000\n", &plan, err, sizeof err), 0);
    CHECK_INT(plan.users, 10000000);
    CHECK_INT(plan.tasks[0].weight, 1000000);
    plan_free(&plan);

    /* The same task name in two files is fine; the same row name twice too. */
    CHECK_INT(parse("[task a]\nrequest = GET /\nname = x\n[task b]\nrequest = GET /\nname = x\n",
                    &plan, err, sizeof err), 0);
    CHECK_INT(plan.n_tasks, 2);
    plan_free(&plan);

    /* Many tasks (the array grows). */
    char big[64 * 40];
    size_t o = 0;
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(big + o, sizeof big - o, "[task t%d]\nrequest = GET /%d\n", i, i);
    CHECK_INT(parse(big, &plan, err, sizeof err), 0);
    CHECK_INT(plan.n_tasks, 40);
    CHECK_STR(plan.tasks[39].steps[0].target, "/39");
    plan_free(&plan);
}

/* ---- load shapes (hopperfile(5), LOAD SHAPE) ------------------------------ */

#define TASK "[task a]\nrequest = GET /\n"

TEST(shape_closed_stages)
{
    plan_t plan;
    char err[512] = "";
    /* The closed model's stages: users, k6's ramping; the run time is their
     * sum and the users their peak. */
    CHECK_INT(parse("stages = 30s:100, 5m:100, 1m:500, 30s:0\n" TASK, &plan, err, sizeof err), 0);
    CHECK_INT(plan.model, MODEL_CLOSED);
    CHECK_INT(plan.n_stages, 4);
    if (plan.n_stages == 4) {
        CHECK_INT(plan.stages[2].dur_us, 60 * S);
        CHECK(plan.stages[2].from == 100 && plan.stages[2].to == 500 && !plan.stages[2].from_set);
    }
    CHECK_INT(plan.run_time_us, 420 * S);
    CHECK(!plan.run_time_set);
    CHECK_INT(plan.users, 500);
    CHECK(!plan.users_set);
    CHECK_INT(plan.n_warnings, 0);
    plan_free(&plan);
    /* run-time wins over the sum; model = closed may be written; all-zero
     * stages still have a user to start with. */
    CHECK_INT(parse("model = closed\nrun-time = 10s\nstages = 1m:0-3\n" TASK, &plan, err,
                    sizeof err), 0);
    CHECK_INT(plan.run_time_us, 10 * S);
    CHECK(plan.model_set && plan.run_time_set);
    CHECK_INT(plan.model_line, 1);
    CHECK_INT(plan.users, 3);
    plan_free(&plan);
    CHECK_INT(parse("stages = 1m:0\n" TASK, &plan, err, sizeof err), 0);
    CHECK_INT(plan.users, 1);
    plan_free(&plan);
}

TEST(shape_open_model)
{
    plan_t plan;
    char err[512] = "";
    CHECK_INT(parse("model = open\narrival-rate = 200/s\nmax-users = 50\narrivals = poisson\n"
                    "users = 10\n" TASK, &plan, err, sizeof err), 0);
    CHECK_INT(plan.model, MODEL_OPEN);
    CHECK(plan.arrival_rate == 200);
    CHECK_INT(plan.max_users, 50);
    CHECK_INT(plan.arrivals, ARRIVALS_POISSON);
    CHECK_INT(plan.users, 10);                  /* the pool's initial size */
    CHECK(plan.model_set && plan.arrival_rate_set && plan.max_users_set && plan.arrivals_set);
    CHECK_INT(plan.run_time_us, 0);             /* no stages: until stopped */
    CHECK_INT(plan.n_warnings, 0);
    plan_free(&plan);
    /* Rate stages, in any order of lines, /m converted; arrivals = even. */
    CHECK_INT(parse("stages = 1m:0-500/s, 5m:500/s, 30s:0/s\narrivals = even\nmodel = open\n"
                    TASK, &plan, err, sizeof err), 0);
    CHECK_INT(plan.model, MODEL_OPEN);
    CHECK_INT(plan.n_stages, 3);
    if (plan.n_stages == 3)
        CHECK(plan.stages[0].from_set && plan.stages[0].from == 0 && plan.stages[0].to == 500);
    CHECK_INT(plan.run_time_us, 390 * S);
    CHECK_INT(plan.users, 1);                   /* not the stages' peak: those are arrivals */
    CHECK_INT(plan.arrivals, ARRIVALS_EVEN);
    CHECK_INT(plan.model_line, 3);
    plan_free(&plan);
    CHECK_INT(parse("model = open\narrival-rate = 90/m\n" TASK, &plan, err, sizeof err), 0);
    CHECK(plan.arrival_rate == 1.5);
    plan_free(&plan);
    /* model = open without a rate parses: the command line may give it
     * (cli_apply refuses the run otherwise). */
    CHECK_INT(parse("model = open\n" TASK, &plan, err, sizeof err), 0);
    plan_free(&plan);
}

/* An explicit wait in the open model: a warning at its line, not an error
 * (arrivals start the iterations; think times still apply). */
TEST(shape_open_model_wait_warns)
{
    plan_t plan;
    char err[512] = "";
    CHECK_INT(parse("model = open\narrival-rate = 5/s\nwait = between 1s 2s\n" TASK, &plan, err,
                    sizeof err), 0);
    CHECK_INT(plan.n_warnings, 1);
    if (plan.n_warnings == 1)
        CHECK_STR(plan.warnings[0], "t.hopperfile:3: warning: wait does not apply in the open "
                  "model: arrivals start the iterations, on their schedule (the steps' think "
                  "times still apply)");
    plan_free(&plan);
    CHECK_INT(parse("arrival-rate = 5/s\nmodel = open\n[task a]\nrequest = GET /\n"
                    "think = 1s\nrequest = GET /b\n", &plan, err, sizeof err), 0);
    CHECK_INT(plan.n_warnings, 0);              /* a think is not the plan's wait */
    plan_free(&plan);
}

TEST(shape_errors)
{
    /* Each with its FILE:LINE and the plan left pristine (expect_error). */
    expect_error("model = opn\n" TASK, 1, "model: 'opn': use closed (the default: users that "
                 "each wait for their answer) or open (arrivals at a rate)");
    expect_error("arrival-rate = 200/s\n" TASK, 1,
                 "arrival-rate belongs to the open model: add 'model = open'");
    expect_error("model = closed\narrival-rate = 200/s\n" TASK, 2,
                 "arrival-rate belongs to the open model: add 'model = open'");
    expect_error("model = open\narrival-rate = 200\n" TASK, 2,
                 "arrival-rate: '200': a rate needs a unit: 200/s, 200/m or 200/h");
    expect_error("model = open\narrival-rate = 0/s\n" TASK, 2,
                 "arrival-rate: '0/s': the rate must be greater than 0");
    expect_error("model = open\narrival-rate = -5/s\n" TASK, 2,
                 "arrival-rate: '-5/s': a target cannot be negative");
    expect_error("model = open\narrival-rate = lots\n" TASK, 2,
                 "arrival-rate: 'lots' is not a rate");
    expect_error("model = open\narrival-rate = 2000000/s\n" TASK, 2,
                 "arrival-rate: '2000000/s': above the limit of 1000000 arrivals per second");
    expect_error("\nstages = 1m:0-500/s\n" TASK, 2, "stages: these are arrivals per second, "
                 "which belong to the open model: add 'model = open' (the closed model's stages "
                 "are users, such as 30s:100)");
    expect_error("model = open\nstages = 30s:100\n" TASK, 2, "stages: these are users, but the "
                 "open model's stages are arrival rates: give each a unit, such as 30s:100/s (or "
                 "leave out 'model = open')");
    expect_error("stages = 30s:100, 1m:5/s\n" TASK, 1, "stages: stage 2 '1m:5/s' is in arrivals "
                 "per second but stage 1 is in users: write every stage in one unit");
    expect_error("stages = 0s:100\n" TASK, 1,
                 "stages: stage 1 '0s:100': the duration must be greater than 0");
    expect_error("stages = -1m:100\n" TASK, 1,
                 "stages: stage 1 '-1m:100': '-1m': a duration cannot be negative");
    expect_error("stages = 30s:100, 1m\n" TASK, 1, "stages: stage 2 '1m': expected "
                 "DURATION:TARGET, such as 5m:100 or 5m:100/s");
    expect_error("stages = 30s:lots\n" TASK, 1, "stages: stage 1 '30s:lots': 'lots' is not a "
                 "number of users or a rate");
    expect_error("stages = 30s:100,\n" TASK, 1, "stages: stage 2 is empty (a comma too many?)");
    expect_error("model = open\nstages = 30s:0/s-5\n" TASK, 2, "stages: stage 1 '30s:0/s-5': "
                 "the rate '5' needs a unit (write FROM-TO/s, such as 0-500/s)");
    expect_error("stages = 1m:10\nstages = 1m:20\n" TASK, 2,
                 "duplicate key 'stages' (first set at line 1)");
    expect_error("users = 10\nrun-time = 1m\nstages = 1m:10\n" TASK, 3, "users (line 1) and "
                 "stages (line 3): in the closed model the stages set the number of users; "
                 "leave users out");
    expect_error("stages = 1m:10\n\nusers = 10\n" TASK, 3, "users (line 3) and stages (line 1)");
    expect_error("hatch-rate = 5\nstages = 1m:10\n" TASK, 2, "hatch-rate (line 1) and stages "
                 "(line 2): in the closed model the stages set how fast users start and stop; "
                 "leave hatch-rate out");
    expect_error("max-users = 100\n" TASK, 1, "max-users belongs to the open model (the bound "
                 "of its pool of users): add 'model = open'");
    expect_error("arrivals = poisson\n" TASK, 1,
                 "arrivals belongs to the open model: add 'model = open'");
    expect_error("model = open\narrival-rate = 1/s\nmax-users = 0\n" TASK, 3,
                 "max-users: '0': must be at least 1");
    expect_error("model = open\narrival-rate = 1/s\nmax-users = -3\n" TASK, 3,
                 "max-users: '-3': cannot be negative");
    expect_error("model = open\narrival-rate = 1/s\nmax-users = many\n" TASK, 3,
                 "max-users: 'many': not a whole number");
    expect_error("model = open\narrival-rate = 1/s\nmax-users = 99999999\n" TASK, 3,
                 "max-users: '99999999': too many users (the limit is 10000000)");
    expect_error("model = open\narrival-rate = 1/s\nusers = 20\nmax-users = 10\n" TASK, 4,
                 "max-users (10, line 4) is below users (20, line 3): the pool starts with "
                 "users and grows up to max-users");
    expect_error("model = open\narrival-rate = 1/s\narrivals = burst\n" TASK, 3,
                 "arrivals: 'burst': use even (the default: 1/rate apart) or poisson");
    expect_error("model = open\narrival-rate = 1/s\n\nstages = 1m:5/s\n" TASK, 4,
                 "arrival-rate (line 2) and stages (line 4): give one (stages set the arrival "
                 "rate over time)");
    expect_error("[task a]\nstages = 1m:5\nrequest = GET /\n", 2,
                 "'stages' is a top-level key: put it before the first section");
    expect_error("model =\n" TASK, 1, "model: the value is missing");
    /* unique-per-user rows for every user the stages start. */
    char data_path[256], text[512];
    write_file("two.csv", "u\na\nb\n", 6, data_path, sizeof data_path);
    snprintf(text, sizeof text, "stages = 1m:3\n[data d]\nfile = %s\norder = unique\n"
             "per = user\n" TASK, data_path);
    expect_error(text, 2, "data 'd' has 2 rows, and with order = unique each of the 3 users "
                 "needs a row of its own");
    unlink(data_path);
}

/* The messages the issue quotes, word for word. */
TEST(error_messages_exact)
{
    plan_t plan;
    char err[512];
    CHECK_INT(hopperfile_parse("a.hopperfile", "users = 1\nwait = between 9 5\n", 29, &plan,
                               err, sizeof err), -1);
    CHECK_STR(err, "a.hopperfile:2: wait: 'between 9 5': the first bound is larger than the second");
    static const char typo[] = "host = http://h\nusers = 10\n\nspawnrate = 10\n";
    CHECK_INT(hopperfile_parse("a.hopperfile", typo, strlen(typo), &plan, err, sizeof err), -1);
    CHECK_STR(err, "a.hopperfile:4: unknown key 'spawnrate' (did you mean 'spawn-rate'?)");
    static const char twice[] = "\n\n[task status]\nrequest = GET /\n\n\n[task status]\n";
    CHECK_INT(hopperfile_parse("a.hopperfile", twice, strlen(twice), &plan, err, sizeof err), -1);
    CHECK_STR(err, "a.hopperfile:7: task 'status' is defined twice (first at line 3)");
    CHECK(plan_is_pristine(&plan));
}

TEST(error_classes)
{
    /* One of each class, with its line; the corpus has many more. */
    expect_error("users = 10x\n", 1, "users: '10x': not a whole number");
    expect_error("users = 99999999999999999999\n", 1, "too many users");
    expect_error("users = 10000001\n", 1, "too many users");
    expect_error("users = 0\n", 1, "must be at least 1");
    expect_error("spawn-rate = nan\n", 1, "not a number");
    expect_error("spawn-rate = -0.5\n", 1, "cannot be negative");
    expect_error("run-time = 0\n", 1, "must be greater than 0");
    expect_error("wait = between 9 5\n", 1, "the first bound is larger than the second");
    expect_error("\nusers = 1\nusers = 2\n", 3, "duplicate key 'users' (first set at line 2)");
    expect_error("header = A: 1\nheader = B: 2\nheader = C\n", 3, "expected 'Name: value'");
    expect_error("[task a]\nrequest = GET /\n[task a]\n", 3, "defined twice (first at line 1)");
    expect_error("[task a]\n\n[task b]\nrequest = GET /\n", 1, "task 'a' has no request");
    expect_error("[task a]\nrequest = GET /\n[task b]\n", 3, "task 'b' has no request");
    expect_error("", 1, "no tasks");
    expect_error("\n\n\n", 3, "no tasks");
    expect_error("[task a]\nrequest = GET /\nweight = 0\n", 3, "every task has weight 0");
    expect_error("[task a]\nrequest = GET /\nweight = -3\n", 3, "cannot be negative");
    expect_error("[task a]\nrequest = get /\n", 2, "upper-case");
    expect_error("[task a]\nrequest = GET /\nbody = x\nbody-file = y\n", 4,
                 "this request already has a body (line 3)");
    expect_error("[task a]\nrequest = GET /\nbody-file = /nonexistent/x\n", 3,
                 "body-file: cannot read '/nonexistent/x': No such file or directory");
    expect_error("[task a]\nrequest = GET /\nexpect-status = 200-299,600\n", 3, "from 100 to 599");
    expect_error("[task a]\nrequest = GET /\nexpect-status = 300-200\n", 3, "reversed");
    expect_error("[task a]\nrequest = GET /\nweigth = 2\n", 3,
                 "unknown key 'weigth' (did you mean 'weight'?)");
    expect_error("[task a]\nrequest = GET /\nbogus\n", 3, "expected 'key = value'");
    expect_error("[user x]\n", 1, "unknown section type 'user'");
    expect_error("users = 5 # five\n", 1, "'5 # five': not a whole number");
    expect_error("host = http://h:0\n", 1, "host: 'http://h:0': the port must be from 1 to 65535");
    expect_error("timeout = 0\n", 1, "timeout: '0': must be greater than 0");
    expect_error("wait = throughput 0\n", 1, "the rate must be greater than 0");
    expect_error("wait = pacing 0s\n", 1, "pacing must be greater than 0");
}

/* Text from the file is shown safely and briefly. */
TEST(error_quoting)
{
    char text[256];
    /* 100 characters: 60 shown, then "..." */
    memset(text, 'k', 100);
    strcpy(text + 100, " = 1\n");
    char want[80];
    memset(want, 'k', 60);
    strcpy(want + 60, "...'");
    expect_error(text, 1, want);
    char more[64];
    memset(more, 'k', 61);
    more[61] = '\0';
    plan_t plan;
    char err[512];
    hopperfile_parse("t.hopperfile", text, strlen(text), &plan, err, sizeof err);
    CHECK(strstr(err, more) == NULL);

    /* A tab is a control byte: shown as \x09. */
    expect_error("us\ters = 1\n", 1, "unknown key 'us\\x09ers' (did you mean 'users'?)");

    /* Multi-byte characters count as one and are never cut in half. */
    char wide[400] = "";
    for (int i = 0; i < 70; i++)
        strcat(wide, "\xc3\xa9");
    strcat(wide, " = 1\n");
    char wide_want[200] = "";
    for (int i = 0; i < 60; i++)
        strcat(wide_want, "\xc3\xa9");
    strcat(wide_want, "...'");
    expect_error(wide, 1, wide_want);

    /* A tiny or missing error buffer is not overrun. */
    char tiny[8];
    CHECK_INT(hopperfile_parse("t.hopperfile", "users = x\n", 10, &plan, tiny, sizeof tiny), -1);
    CHECK_STR(tiny, "t.hoppe");
    CHECK(plan_is_pristine(&plan));
    CHECK_INT(hopperfile_parse("t.hopperfile", "users = x\n", 10, &plan, NULL, 0), -1);
    CHECK_INT(hopperfile_parse("t.hopperfile", "users = x\n", 10, &plan, tiny, 0), -1);
    CHECK(plan_is_pristine(&plan));
}

/* ---- pathological input, generated here -------------------------------------------- */

TEST(nul_bytes)
{
    static const char text[] = "users = 1\n[task t]\nrequest = GET /a\0b\n";
    expect_error_n(text, sizeof text - 1, 3, "NUL byte at column 17");
    static const char first[] = "\0";
    expect_error_n(first, 1, 1, "NUL byte at column 1");
    static const char in_comment[] = "# a comment \0 is still text\n[task t]\nrequest = GET /\n";
    expect_error_n(in_comment, sizeof in_comment - 1, 1, "NUL byte");
}

TEST(control_bytes)
{
    expect_error("users = 1\nname = \x1b[31mred\n", 2, "control character \\x1b at column 8");
    expect_error("users = 1\x7f\n", 1, "control character \\x7f");
    expect_error("users = 1\rspawn-rate = 2\r\n[task t]\nrequest = GET /\n", 1,
                 "carriage return at column 10");
    expect_error("users = 1\r\r\n", 1, "carriage return");
}

TEST(invalid_utf8)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        { "users = 1\n[task t]\nrequest = GET /caf\xe9\n", "byte \\xe9 at column 19" }, /* Latin-1 */
        { "users = 1\n[task t]\nrequest = GET /\xc0\xaf\n", "byte \\xc0" },            /* overlong */
        { "users = 1\n[task t]\nrequest = GET /\xed\xa0\x80\n", "byte \\xed" },        /* surrogate */
        { "users = 1\n[task t]\nrequest = GET /\xf4\x90\x80\x80\n", "byte \\xf4" },    /* > U+10FFFF */
        { "users = 1\n[task t]\nrequest = GET /\xe2\x82\n", "byte \\xe2" },            /* cut short */
        { "users = 1\n[task t]\nrequest = GET /\x80\n", "byte \\x80" },                /* stray */
        { "users = 1\n[task t]\nrequest = GET /\xff\xfe\n", "byte \\xff" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].text, 3, cases[i].want);
    expect_error("users = 1\n[task t]\nrequest = GET /\xe2\x82", 3, "invalid UTF-8"); /* at EOF */

    /* Valid UTF-8 of every length passes. */
    plan_t plan;
    char err[512];
    CHECK_INT(parse("[task t]\nrequest = GET /\xc2\xa9\xe2\x82\xac\xf0\x9f\x90\x87\xf4\x8f\xbf\xbf\n",
                    &plan, err, sizeof err), 0);
    plan_free(&plan);
}

TEST(long_lines)
{
    /* 10 MB on line 3: refused without a crash, without reading it twice. */
    size_t big = 10 * 1024 * 1024;
    const char head[] = "users = 1\n[task t]\nname = ";
    char *text = malloc(sizeof head - 1 + big + 1);
    memcpy(text, head, sizeof head - 1);
    memset(text + sizeof head - 1, 'a', big);
    text[sizeof head - 1 + big] = '\n';
    expect_error_n(text, sizeof head - 1 + big + 1, 3, "line too long");

    /* Through hopperfile_load too. */
    char path[256];
    write_file("long.hopperfile", text, sizeof head - 1 + big + 1, path, sizeof path);
    plan_t plan;
    char err[512], want[320];
    CHECK_INT(hopperfile_load(path, &plan, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:3: line too long", path);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    CHECK(plan_is_pristine(&plan));
    unlink(path);
    free(text);

    /* The limit is exactly 64 KiB, not counting the line end (LF or CRLF). */
    size_t limit = 64 * 1024;
    char *line = malloc(limit + 64);
    char *p = line;
    memcpy(p, "# ", 2);
    memset(p + 2, 'x', limit - 2);
    memcpy(p + limit, "\r\n[task t]\nrequest = GET /\n", 27);
    CHECK_INT(hopperfile_parse("t.hopperfile", line, limit + 26, &plan, err, sizeof err), 0);
    plan_free(&plan);
    memset(p + 2, 'x', limit - 1);
    memcpy(p + limit + 1, "\n[task t]\nrequest = GET /\n", 26);
    expect_error_n(line, limit + 1 + 26, 1, "line too long (65537 bytes; the limit is 65536)");
    free(line);
}

TEST(binary_garbage)
{
    /* Deterministic junk; whatever it is, the answer is an error with a
     * line number, and nothing leaks or crashes. */
    size_t n = 256 * 1024;
    unsigned char *junk = malloc(n);
    uint32_t x = 2463534242u;
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            junk[i] = (unsigned char)x;
        }
        char path[256];
        write_file("junk.hopperfile", junk, n, path, sizeof path);
        plan_t plan;
        char err[512] = "", prefix[320];
        CHECK_INT(hopperfile_load(path, &plan, err, sizeof err), -1);
        snprintf(prefix, sizeof prefix, "%s:", path);
        CHECK(strncmp(err, prefix, strlen(prefix)) == 0);
        CHECK(err[strlen(prefix)] >= '1' && err[strlen(prefix)] <= '9');
        CHECK(plan_is_pristine(&plan));
        unlink(path);
    }
    /* Printable junk with newlines: every line is some kind of error. */
    for (size_t i = 0; i < n; i++)
        junk[i] = (i % 61 == 60) ? '\n' : (unsigned char)(' ' + junk[i] % 95);
    plan_t plan;
    char err[512];
    CHECK_INT(hopperfile_parse("t.hopperfile", (const char *)junk, n, &plan, err, sizeof err), -1);
    CHECK(strncmp(err, "t.hopperfile:", 13) == 0);
    CHECK(plan_is_pristine(&plan));
    free(junk);
}

TEST(truncated)
{
    /* Cut mid-line with no final newline: the part left may still be valid. */
    plan_t plan;
    char err[512];
    size_t len = strlen(tutorial) - 1; /* drop the final '\n' */
    CHECK_INT(hopperfile_parse("t.hopperfile", tutorial, len, &plan, err, sizeof err), 0);
    if (plan.n_tasks == 3)
        CHECK_STR(plan.tasks[2].steps[0].target, "/api/title/The godfather/1972");
    plan_free(&plan);

    /* Cut inside the target: a shorter, still valid target. */
    len = strstr(tutorial, "godfather") - tutorial;
    CHECK_INT(hopperfile_parse("t.hopperfile", tutorial, len, &plan, err, sizeof err), 0);
    if (plan.n_tasks == 3)
        CHECK_STR(plan.tasks[2].steps[0].target, "/api/title/The");
    plan_free(&plan);

    /* Cut inside a key: an error on that last line. */
    len = strstr(tutorial, "request = GET /api/title") - tutorial + 4;
    expect_error_n(tutorial, len, 18, "expected 'key = value' or '[task NAME]', got 'requ'");

    /* Cut inside a section header. */
    len = strstr(tutorial, "[task similar-by-title]") - tutorial + 10;
    expect_error_n(tutorial, len, 16, "malformed section header");

    /* Cut after "request =": no value. */
    len = strstr(tutorial, "GET /api/title") - tutorial;
    expect_error_n(tutorial, len, 18, "request: the value is missing");

    /* Every cut of the tutorial: valid or an error, never a crash or a leak. */
    size_t full = strlen(tutorial);
    for (size_t cut = 0; cut <= full; cut++) {
        int rc = hopperfile_parse("t.hopperfile", tutorial, cut, &plan, err, sizeof err);
        if (rc == 0)
            plan_free(&plan);
        else
            CHECK(plan_is_pristine(&plan));
    }
    /* A NULL text is an empty file. */
    CHECK_INT(hopperfile_parse("t.hopperfile", NULL, 0, &plan, err, sizeof err), -1);
    CHECK_STR(err, "t.hopperfile:1: no tasks (add a [task NAME] section with a request)");
}

TEST(load_errors)
{
    plan_t plan;
    char err[512];
    memset(&plan, 0xab, sizeof plan);
    CHECK_INT(hopperfile_load("tests/bad/no-such.hopperfile", &plan, err, sizeof err), -1);
    CHECK_STR(err, "tests/bad/no-such.hopperfile: cannot read: No such file or directory");
    CHECK(plan_is_pristine(&plan));
    CHECK_INT(hopperfile_load(tmp_dir, &plan, err, sizeof err), -1);
    CHECK(strstr(err, ": cannot read: Is a directory") != NULL);
    CHECK(plan_is_pristine(&plan));
}

/* A body-file that is a FIFO with no writer, or a socket, is refused at
 * once: opened without blocking, and anything but a regular file is named in
 * the message. alarm() turns the old hang into a failure, not a stuck suite. */
TEST(body_file_not_regular)
{
    char fifo[256], hf[256], err[1024], want[640];
    snprintf(fifo, sizeof fifo, "%s/pipe", tmp_dir);
    CHECK_INT(mkfifo(fifo, 0600), 0);
    static const char text[] = "[task t]\nrequest = POST /\nbody-file = pipe\n";
    write_file("fifo.hopperfile", text, sizeof text - 1, hf, sizeof hf);
    plan_t plan;
    memset(&plan, 0xab, sizeof plan);
    alarm(10);
    CHECK_INT(hopperfile_load(hf, &plan, err, sizeof err), -1);
    alarm(0);
    snprintf(want, sizeof want,
             "%s:3: body-file: '%s' is a FIFO (named pipe): a body must be read from a regular file",
             hf, fifo);
    CHECK_STR(err, want);
    CHECK(plan_is_pristine(&plan));
    unlink(fifo);
    unlink(hf);

    /* A character device: /dev/null reads as empty, /dev/zero never ends;
     * neither is a body. */
    expect_error("[task t]\nrequest = POST /\nbody-file = /dev/zero\n", 3,
                 "body-file: '/dev/zero' is a device: a body must be read from a regular file");
    /* A regular file still reads, through the same non-blocking open. */
    char data[256];
    write_file("ok.bin", "abc", 3, data, sizeof data);
    static const char ok[] = "[task t]\nrequest = POST /\nbody-file = ok.bin\n";
    write_file("ok.hopperfile", ok, sizeof ok - 1, hf, sizeof hf);
    CHECK_INT(hopperfile_load(hf, &plan, err, sizeof err), 0);
    CHECK_INT(plan.tasks[0].steps[0].body_len, 3);
    CHECK(memcmp(plan.tasks[0].steps[0].body, "abc", 3) == 0);
    plan_free(&plan);
    unlink(data);
    unlink(hf);
}

/* The headers that frame a request: refused, or kept once and checked. */
TEST(framing_headers)
{
    plan_t plan;
    char err[512];
    /* A Content-Length equal to what is sent is kept as written. */
    CHECK_INT(parse("[task t]\nrequest = POST /\nheader = content-length: 5\nbody = hello\n"
                    "[task g]\nrequest = GET /\nheader = Content-Length: 0\n"
                    "[task h]\nrequest = HEAD /\nheader = Content-Length: 0\n",
                    &plan, err, sizeof err), 0);
    CHECK_STR(plan.tasks[0].steps[0].headers[0], "content-length: 5");
    plan_free(&plan);
    /* The top level's applies to every task, each with its own body. */
    CHECK_INT(parse("header = Content-Length: 2\n[task a]\nrequest = PUT /\nbody = ab\n"
                    "[task b]\nrequest = POST /\nbody = cd\n", &plan, err, sizeof err), 0);
    plan_free(&plan);
    expect_error("header = Content-Length: 2\n[task a]\nrequest = PUT /\nbody = ab\n"
                 "[task b]\nrequest = POST /\nbody = abc\n", 1,
                 "header: 'Content-Length: 2' does not match the 3-byte body that task 'b' sends");
    /* A body given after the header counts: the check is at the task's end. */
    expect_error("[task t]\nrequest = POST /\nheader = Content-Length: 3\nbody = hello\n", 3,
                 "does not match the 5-byte body that task 't' sends");
    expect_error("[task t]\nrequest = POST /\nheader = Content-Length: -1\n", 3,
                 "Content-Length must be a whole number of bytes");
    expect_error("[task t]\nrequest = POST /\nheader = Content-Length: 0\n"
                 "header = Content-Length: 0\n", 4, "a second Content-Length (the first is at line 3)");

    /* Refused whatever the value, in either scope, in any case. */
    expect_error("[task t]\nrequest = POST /\nheader = Transfer-Encoding: chunked\n", 3,
                 "hopper frames every body with Content-Length and cannot send Transfer-Encoding");
    expect_error("header = transfer-encoding: gzip\n[task t]\nrequest = GET /\n", 1,
                 "cannot send Transfer-Encoding");
    expect_error("[task t]\nrequest = POST /\nheader = Expect: 100-continue\n", 3,
                 "does not wait for 100 Continue");
    expect_error("[task t]\nrequest = GET /\nheader = Upgrade: h2c\n", 3,
                 "cannot switch protocols");
    expect_error("[task t]\nrequest = GET /\nheader = Connection: Upgrade\n", 3,
                 "('Connection: close'); nothing else can be set");
    CHECK_INT(parse("header = Connection: close\n[task t]\nrequest = GET /\n", &plan, err,
                    sizeof err), 0);
    plan_free(&plan);
    CHECK_INT(parse("header = Connection: Keep-Alive\n[task t]\nrequest = GET /\n", &plan, err,
                    sizeof err), 0);
    plan_free(&plan);

    /* Host: once per request, a host with an optional port. */
    CHECK_INT(parse("header = Host: api.example:8443\n[task t]\nrequest = GET /\n"
                    "[task u]\nrequest = GET /u\n", &plan, err, sizeof err), 0);
    plan_free(&plan);
    CHECK_INT(parse("[task t]\nrequest = GET /\nheader = Host: [::1]:8080\n"
                    "[task u]\nrequest = GET /u\nheader = Host: b.example\n", &plan, err,
                    sizeof err), 0);
    plan_free(&plan);
    expect_error("header = Host: a\n[task t]\nrequest = GET /\nheader = HOST: b\n", 4,
                 "a second Host (the first is at line 1)");
    expect_error("[task t]\nrequest = GET /\nheader = Host: a b\n", 3,
                 "Host must be a host name with an optional port");
    expect_error("[task t]\nrequest = GET /\nheader = Host: user@a\n", 3,
                 "Host must be a host name with an optional port");
}

/* Every '%' in a target or a host starts a %XX escape. */
TEST(percent_escapes)
{
    plan_t plan;
    char err[512];
    CHECK_INT(parse("host = http://127.0.0.1:8082/v%31\n[task t]\nrequest = GET /a%20b%2F?q=%e2%82%ac\n",
                    &plan, err, sizeof err), 0);
    plan_free(&plan);
    expect_error("[task t]\nrequest = GET /%zz\n", 2,
                 "request: '/%zz': a '%' must start a %XX escape such as %20 (write a literal % as %25)");
    expect_error("[task t]\nrequest = GET /100%\n", 2, "a '%' must start a %XX escape");
    expect_error("[task t]\nrequest = GET /a%4\n", 2, "a '%' must start a %XX escape");
    expect_error("[task t]\nrequest = GET /a#frag%\n", 2, "a '%' must start a %XX escape");
    expect_error("[task t]\nrequest = GET http://h:1/%x1\n", 2, "a '%' must start a %XX escape");
    expect_error("host = http://h:1/%\n[task t]\nrequest = GET /\n", 1,
                 "host: 'http://h:1/%': a '%' must start a %XX escape");
    const char *why = NULL;
    CHECK_INT(url_check_base("http://h:1/a%g0", &why), -1);
    CHECK_INT(url_check_target("/ok%41", &why), 0);
}

/* A check that names an endpoint is checked against the plan's endpoints
 * when the plan is read, with the line of the check. */
TEST(check_endpoints)
{
    plan_t plan;
    char err[512];
    CHECK_INT(parse("check = /a:p95<1s\ncheck = GET /a:p99<2s\ncheck = named:rps>1\n"
                    "check = p95<1s\n[task t]\nrequest = GET /a\n[task u]\nrequest = POST /b\n"
                    "name = named\n", &plan, err, sizeof err), 0);
    CHECK_INT(plan.n_endpoints, 2);
    plan_free(&plan);
    expect_error("check = p95<1s\ncheck = /nope:p95<10ms\n[task t]\nrequest = GET /\n"
                 "[task u]\nrequest = POST /x\n", 2,
                 "check '/nope:p95<10ms': the plan has no endpoint '/nope' (its endpoints: GET /, POST /x)");
    expect_error("check = POST /a:p95<1s\n[task t]\nrequest = GET /a\n", 1,
                 "the plan has no endpoint 'POST /a' (its endpoints: GET /a)");
    /* A named task's row is its name, not its path. */
    expect_error("check = /b:p95<1s\n[task u]\nrequest = POST /b\nname = named\n", 1,
                 "(its endpoints: POST named)");
}

TEST(size_limits)
{
    /* Sparse files one byte over 64 MiB: refused, as hopperfile and as body. */
    char big[256], hf[256];
    write_file("big.bin", "", 0, big, sizeof big);
    CHECK_INT(truncate(big, 64L * 1024 * 1024 + 1), 0);
    plan_t plan;
    char err[1024], want[640];
    CHECK_INT(hopperfile_load(big, &plan, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot read: larger than 64 MiB", big);
    CHECK_STR(err, want);
    CHECK(plan_is_pristine(&plan));

    static const char text[] = "[task t]\nrequest = POST /\nbody-file = big.bin\n";
    write_file("big.hopperfile", text, sizeof text - 1, hf, sizeof hf);
    CHECK_INT(hopperfile_load(hf, &plan, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:3: body-file: '%s': larger than 64 MiB", hf, big);
    CHECK_STR(err, want);
    CHECK(plan_is_pristine(&plan));

    /* Exactly 64 MiB is fine. */
    CHECK_INT(truncate(big, 64L * 1024 * 1024), 0);
    CHECK_INT(hopperfile_load(hf, &plan, err, sizeof err), 0);
    CHECK_INT(plan.n_tasks, 1);
    if (plan.n_tasks == 1)
        CHECK_INT(plan.tasks[0].steps[0].body_len, 64L * 1024 * 1024);
    plan_free(&plan);
    unlink(big);
    unlink(hf);
}

/* ---- the corpus ------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One corpus file; returns whether it behaved as its first line says. */
static int check_bad_file(const char *path)
{
    size_t len = 0;
    char *text = slurp(path, &len);
    if (text == NULL) {
        printf("#   %s: cannot read\n", path);
        return 0;
    }
    /* "# expect: LINE: SUBSTRING" */
    unsigned line = 0;
    int used = 0;
    char want[512] = "";
    size_t first_len = strcspn(text, "\n");
    if (first_len > 0 && text[first_len - 1] == '\r')
        first_len--;
    if (sscanf(text, "# expect: %u: %n", &line, &used) != 1 || used == 0 || line == 0 ||
        first_len - (size_t)used >= sizeof want) {
        printf("#   %s: the first line must be '# expect: LINE: SUBSTRING'\n", path);
        free(text);
        return 0;
    }
    memcpy(want, text + used, first_len - (size_t)used);
    want[first_len - (size_t)used] = '\0';
    free(text);

    plan_t plan;
    memset(&plan, 0xab, sizeof plan);
    char err[2048] = "", prefix[1100];
    int rc = hopperfile_load(path, &plan, err, sizeof err);
    snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
    int ok = rc == -1 && strncmp(err, prefix, strlen(prefix)) == 0 &&
             strstr(err + strlen(prefix), want) != NULL && plan_is_pristine(&plan);
    if (!ok)
        printf("#   %s: got rc %d '%s'\n#     wanted '%s...%s'\n", path, rc, err, prefix, want);
    if (rc == 0)
        plan_free(&plan);
    return ok;
}

TEST(bad_corpus)
{
    const char *dir = getenv("HOPPER_BAD_DIR");
    if (dir == NULL || *dir == '\0')
        dir = "tests/bad";
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("#   cannot open %s: %s (run from the repository root)\n", dir, strerror(errno));
        CHECK(d != NULL);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        const char *ext = ".hopperfile";
        if (len > strlen(ext) && strcmp(e->d_name + len - strlen(ext), ext) == 0) {
            names = realloc(names, (n + 1) * sizeof *names);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name); /* stable output */
    size_t passed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (check_bad_file(path))
            passed++;
        else
            CHECK(!"corpus file behaved unexpectedly");
        free(names[i]);
    }
    free(names);
    printf("#   %zu of %zu corpus files in %s behaved\n", passed, n, dir);
    CHECK(n >= 50); /* an empty or missing corpus is a failure, not a pass */
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    check_prog = "test_hopperfile";
    snprintf(tmp_dir, sizeof tmp_dir, "%s", "/tmp/test_hopperfile.XXXXXX");
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(tutorial_inline);
    RUN(tutorial_example_file);
    RUN(defaults);
    RUN(every_key);
    RUN(body_file_paths);
    RUN(wait_kinds);
    RUN(plan_helpers);
    RUN(syntax);
    RUN(error_messages_exact);
    RUN(error_classes);
    RUN(error_quoting);
    RUN(nul_bytes);
    RUN(control_bytes);
    RUN(invalid_utf8);
    RUN(long_lines);
    RUN(binary_garbage);
    RUN(truncated);
    RUN(load_errors);
    RUN(size_limits);
    RUN(body_file_not_regular);
    RUN(framing_headers);
    RUN(percent_escapes);
    RUN(check_endpoints);
    RUN(bad_corpus);
    RUN(shape_closed_stages);
    RUN(shape_open_model);
    RUN(shape_open_model_wait_warns);
    RUN(shape_errors);
    /* Whatever a failed test left behind goes too. */
    nftw(tmp_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return check_done();
}

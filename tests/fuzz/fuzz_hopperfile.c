/* fuzz_hopperfile: hopperfile_parse (include/plan/hopperfile.h).
 *
 * The bytes are a whole hopperfile. Promises checked:
 *   - success: err is empty; the plan has tasks, each with an id, a request
 *     (upper-case method, a target url_check_target accepts) and a name; at
 *     least one weight is above 0; the host, when set, is a valid base URL;
 *     every check re-parses with check_parse; expect-status ranges are
 *     100-599 and ordered; headers read "Name: value";
 *   - failure: err reads "PATH:LINE: message" and the plan is exactly as
 *     plan_init() leaves it, whatever it held before;
 *   - plan_free is safe after either, and twice;
 *   - the wait spec, described by plan_wait_describe "as a hopperfile would
 *     write it", parses back to the same spec.
 *
 * body-file names are read beside the hopperfile. So that a generated input
 * can never read /dev/stdin or a large file of the machine, inputs whose
 * body-file value is not a plain file name are skipped, and the hopperfile
 * lives in a private folder holding one small body file ("body.json") and
 * one folder ("dir"). */
#include <math.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/checks.h"
#include "fuzz.h"
#include "plan/hopperfile.h"
#include "plan/plan.h"
#include "util/url.h"

static char hopperfile_path[256] = "fuzz.hopperfile";
static char body_path[256], dir_path[256], folder[128];

static void remove_folder(void)
{
    unlink(body_path);
    rmdir(dir_path);
    rmdir(folder);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(folder, sizeof folder, "%s/hopper-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(folder) == NULL) {
        perror("fuzz_hopperfile: mkdtemp");
        abort();
    }
    snprintf(hopperfile_path, sizeof hopperfile_path, "%s/fuzz.hopperfile", folder);
    snprintf(body_path, sizeof body_path, "%s/body.json", folder);
    snprintf(dir_path, sizeof dir_path, "%s/dir", folder);
    FILE *f = fopen(body_path, "w");
    if (f == NULL || fputs("{\"fuzz\": true}\n", f) < 0 || fclose(f) != 0) {
        perror("fuzz_hopperfile: body file");
        abort();
    }
    if (mkdir(dir_path, 0700) != 0) {
        perror("fuzz_hopperfile: mkdir");
        abort();
    }
    atexit(remove_folder);
    return 0;
}

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-' || c == ' ' || c == '\t';
}

/* Whether every line that mentions body-file has a plain name as its value
 * (no '/', no ".."): then only the private folder can be read. Stricter than
 * needed (a "name = body-file/x" line is refused too), never looser. */
static bool body_files_are_plain(const uint8_t *data, size_t size)
{
    static const char key[] = "body-file";
    size_t start = 0;
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl ? (size_t)(nl - data) : size;
        const uint8_t *line = data + start;
        size_t n = end - start;
        bool mentions = false;
        for (size_t i = 0; i + sizeof key - 1 <= n && !mentions; i++)
            mentions = memcmp(line + i, key, sizeof key - 1) == 0;
        if (mentions) {
            const uint8_t *eq = memchr(line, '=', n);
            if (eq == NULL)
                return false;
            const uint8_t *v = eq + 1, *v_end = line + n;
            for (const uint8_t *p = v; p < v_end; p++)
                if (!is_name_char(*p) || (p + 1 < v_end && p[0] == '.' && p[1] == '.'))
                    return false;
        }
        start = end + 1;
    }
    return true;
}

static bool is_upper_word(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (*s < 'A' || *s > 'Z')
            return false;
    return true;
}

static void check_header(const char *h)
{
    const char *colon = strchr(h, ':');
    FUZZ_CHECK(colon != NULL && colon != h);
    FUZZ_CHECK(colon[1] == ' ' && colon[2] != '\0');
}

static void check_step(const plan_step_t *st)
{
    FUZZ_CHECK(st->method != NULL && is_upper_word(st->method));
    FUZZ_CHECK(st->target != NULL && (st->target[0] == '/' || strstr(st->target, "://") != NULL));
    FUZZ_CHECK(st->name != NULL);
    FUZZ_CHECK(st->line >= 1);
    for (size_t i = 0; i < st->n_headers; i++)
        check_header(st->headers[i]);
    FUZZ_CHECK(st->body != NULL || st->body_len == 0);
    FUZZ_CHECK((st->expect_status == NULL) == (st->n_expect_status == 0));
    for (size_t i = 0; i < st->n_expect_status; i++) {
        status_range_t r = st->expect_status[i];
        FUZZ_CHECK(r.lo >= 100 && r.hi <= 599 && r.lo <= r.hi);
        FUZZ_CHECK(plan_status_ok(st, (long)r.lo) && plan_status_ok(st, (long)r.hi));
    }
    /* A static target is a valid one; a templated one is rendered per request. */
    const char *why = NULL;
    if (!st->target_t.dynamic)
        FUZZ_CHECK(url_check_target(st->target, &why) == 0);
}

static void check_task(const plan_t *plan, const plan_task_t *t)
{
    FUZZ_CHECK(t->id != NULL && t->id[0] != '\0');
    FUZZ_CHECK(t->weight <= 1000000);
    FUZZ_CHECK(t->line >= 1);
    FUZZ_CHECK(t->n_steps >= 1);
    for (size_t k = 0; k < t->n_steps; k++)
        check_step(&t->steps[k]);
    /* Task ids are unique. */
    for (const plan_task_t *o = plan->tasks; o < t; o++)
        FUZZ_CHECK(strcmp(o->id, t->id) != 0);
}

/* "wait = <describe>" in a minimal hopperfile gives the same spec back. */
static void check_wait_round_trip(const wait_spec_t *w)
{
    char desc[128], text[256], err[512];
    plan_wait_describe(w, desc, sizeof desc);
    int n = snprintf(text, sizeof text, "wait = %s\n[task t]\nrequest = GET /\n", desc);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof text);
    plan_t back;
    int rc = hopperfile_parse("round-trip", text, (size_t)n, &back, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "plan_wait_describe wrote \"%s\", which does not parse: %s\n", desc, err);
    FUZZ_CHECK(rc == 0);
    FUZZ_CHECK(back.wait.kind == w->kind);
    if (w->kind == WAIT_THROUGHPUT) {
        /* %.6g keeps six significant digits of the rate. */
        FUZZ_CHECK(fabs(back.wait.rate - w->rate) <= w->rate * 1e-5);
    } else {
        FUZZ_CHECK(back.wait.a_us == w->a_us);
        FUZZ_CHECK(back.wait.b_us == w->b_us);
    }
    plan_free(&back);
}

static void check_plan(const char *path, const plan_t *plan, const char *err)
{
    const char *why = NULL;
    FUZZ_CHECK(err[0] == '\0');
    FUZZ_CHECK(plan->path != NULL && strcmp(plan->path, path) == 0);
    FUZZ_CHECK(plan->n_tasks >= 1 && plan->tasks != NULL);
    FUZZ_CHECK(plan->host_set == (plan->host != NULL));
    if (plan->host != NULL)
        FUZZ_CHECK(url_check_base(plan->host, &why) == 0);
    FUZZ_CHECK(plan->users >= 1 && plan->users <= 10000000);
    FUZZ_CHECK(plan->spawn_rate > 0 && plan->spawn_rate <= 1000000);
    FUZZ_CHECK(plan->timeout_us > 0);
    if (plan->wait.kind == WAIT_BETWEEN)
        FUZZ_CHECK(plan->wait.a_us <= plan->wait.b_us);
    for (size_t i = 0; i < plan->n_headers; i++)
        check_header(plan->headers[i]);
    for (size_t i = 0; i < plan->n_checks; i++) {
        check_t c;
        char cerr[256];
        FUZZ_CHECK(check_parse(plan->checks[i], &c, cerr, sizeof cerr) == 0);
        check_free(&c);
    }
    bool any_weight = false;
    for (size_t i = 0; i < plan->n_tasks; i++) {
        check_task(plan, &plan->tasks[i]);
        any_weight |= plan->tasks[i].weight > 0;
    }
    FUZZ_CHECK(any_weight);

    size_t rows = plan->n_endpoints, steps = 0;
    for (size_t q = 0; q < plan_n_sequences(plan); q++) {
        const plan_task_t *t = plan_sequence(plan, q);
        steps += t->n_steps;
        for (size_t k = 0; k < t->n_steps; k++)
            FUZZ_CHECK(t->steps[k].entry < rows);
    }
    FUZZ_CHECK(rows >= 1 && rows <= steps);

    check_wait_round_trip(&plan->wait);
}

static void check_error(const char *path, const plan_t *plan, const char *err, size_t errlen)
{
    FUZZ_CHECK(memchr(err, '\0', errlen) != NULL);
    size_t pl = strlen(path);
    /* "PATH:LINE: message" */
    FUZZ_CHECK(strncmp(err, path, pl) == 0 && err[pl] == ':');
    const char *p = err + pl + 1;
    FUZZ_CHECK(*p >= '1' && *p <= '9');
    while (*p >= '0' && *p <= '9')
        p++;
    FUZZ_CHECK(p[0] == ':' && p[1] == ' ' && p[2] != '\0');

    plan_t fresh;
    plan_init(&fresh);
    FUZZ_CHECK(memcmp(plan, &fresh, sizeof fresh) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!body_files_are_plain(data, size))
        return 0;
    /* An exact-size copy, not NUL-terminated: the parser takes a length and
     * must not read past it. */
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text != NULL);
    if (size > 0)
        memcpy(text, data, size);

    enum { ERRLEN = 1024 };
    char *err = malloc(ERRLEN);
    FUZZ_CHECK(err != NULL);
    memset(err, 'x', ERRLEN);
    plan_t plan;
    memset(&plan, 0xa5, sizeof plan); /* what the caller's plan held must not matter */

    int rc = hopperfile_parse(hopperfile_path, text, size, &plan, err, ERRLEN);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        check_plan(hopperfile_path, &plan, err);
    else
        check_error(hopperfile_path, &plan, err, ERRLEN);
    plan_free(&plan);
    plan_free(&plan);

    free(err);
    free(text);
    return 0;
}

/* test_data: CSV data files (quotes, line endings, BOM, the errors and their
 * line numbers) and the orders rows are handed out in, across processes. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "plan/data.h"
#include "util/xalloc.h"

static char dir[256];

/* Writes n bytes to a file of the test's folder; its path (static). */
static const char *put(const char *name, const char *text, size_t n)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(text, 1, n, f) != n || fclose(f) != 0) {
        printf("#   cannot write %s\n", path);
        exit(2);
    }
    return path;
}

/* A source loaded from text; fails the test if it does not load. */
static int load(data_source_t *src, const char *text, size_t n)
{
    memset(src, 0, sizeof *src);
    src->name = xstrdup("d");
    char err[512];
    int rc = data_load(src, put("d.csv", text, n), err, sizeof err);
    if (rc != 0)
        printf("#   data_load: %s\n", err);
    return rc;
}

static bool cell_is(const data_source_t *src, size_t row, size_t col, const char *want,
                    size_t want_len)
{
    size_t len;
    const char *c = data_cell(src, row, col, &len);
    bool ok = len == want_len && memcmp(c, want, len) == 0 && c[len] == '\0';
    if (!ok)
        printf("#   cell (%zu, %zu) is '%.*s' (%zu bytes), expected '%.*s'\n", row, col,
               (int)len, c, len, (int)want_len, want);
    return ok;
}

#define LOAD(src, text) load(src, text, sizeof text - 1)
#define CELL(src, row, col, want) CHECK(cell_is(src, row, col, want, sizeof want - 1))

TEST(basic)
{
    data_source_t s;
    CHECK_INT(LOAD(&s, "user,password,id\nalice,pw1,1\nbob,pw2,2\n"), 0);
    CHECK_INT(s.n_columns, 3);
    CHECK_STR(s.columns[0], "user");
    CHECK_STR(s.columns[2], "id");
    CHECK_INT(s.n_rows, 2);
    CELL(&s, 0, 0, "alice");
    CELL(&s, 0, 1, "pw1");
    CELL(&s, 1, 0, "bob");
    CELL(&s, 1, 2, "2");
    CHECK_INT(data_column(&s, "password"), 1);
    CHECK_INT(data_column(&s, "id"), 2);
    CHECK_INT(data_column(&s, "ID"), -1);
    CHECK_INT(data_column(&s, ""), -1);
    CHECK(strstr(s.path, "d.csv") != NULL);
    CHECK_INT(s.offsets[s.n_rows * s.n_columns], 22);   /* the cells and their NULs */
    data_free(&s);
    CHECK(s.cells == NULL && s.name == NULL);
    data_free(&s);  /* twice is harmless */
}

TEST(quoting_and_line_ends)
{
    data_source_t s;
    static const char csv[] =
        "\xef\xbb\xbf" "a,b,c\r\n"
        "\"x, y\",\"he said \"\"hi\"\"\",\"\"\r\n"
        "\"two\nlines\",5\" screen,\r\n"
        "\"crlf\r\ninside\",,\"\"\"\"\n"
        "last,no,newline";
    CHECK_INT(LOAD(&s, csv), 0);
    CHECK_INT(s.n_columns, 3);
    CHECK_STR(s.columns[0], "a");   /* the BOM is not part of the first name */
    CHECK_INT(s.n_rows, 4);
    CELL(&s, 0, 0, "x, y");
    CELL(&s, 0, 1, "he said \"hi\"");
    CELL(&s, 0, 2, "");
    CELL(&s, 1, 0, "two\nlines");
    CELL(&s, 1, 1, "5\" screen");
    CELL(&s, 1, 2, "");
    CELL(&s, 2, 0, "crlf\r\ninside");
    CELL(&s, 2, 1, "");
    CELL(&s, 2, 2, "\"");
    CELL(&s, 3, 0, "last");
    CELL(&s, 3, 2, "newline");
    data_free(&s);

    /* Empty lines at the end are ignored, LF or CRLF; so is a final CR. */
    CHECK_INT(LOAD(&s, "a,b\r\n1,2\r\n\r\n\r\n"), 0);
    CHECK_INT(s.n_rows, 1);
    CELL(&s, 0, 1, "2");
    data_free(&s);
    CHECK_INT(LOAD(&s, "a,b\n1,2\n\n\n\n"), 0);
    CHECK_INT(s.n_rows, 1);
    data_free(&s);
    CHECK_INT(LOAD(&s, "a,b\n1,2\r"), 0);
    CELL(&s, 0, 1, "2");
    data_free(&s);

    /* One column: an empty value is written "", and spaces are kept. */
    CHECK_INT(LOAD(&s, "word\nfoo\n\"\"\n bar \n"), 0);
    CHECK_INT(s.n_rows, 3);
    CELL(&s, 1, 0, "");
    CELL(&s, 2, 0, " bar ");
    data_free(&s);

    /* Bytes above ASCII pass through; names may hold '-' and '_'. */
    CHECK_INT(LOAD(&s, "first-name,last_name2\ncaf\xc3\xa9,x\n"), 0);
    CELL(&s, 0, 0, "caf\xc3\xa9");
    CHECK_INT(data_column(&s, "last_name2"), 1);
    data_free(&s);
}

static void expect_error(const char *name, const char *text, size_t n, const char *want)
{
    data_source_t s;
    memset(&s, 0, sizeof s);
    s.name = xstrdup("d");
    char err[512] = "";
    const char *path = text ? put(name, text, n) : name;
    char full[600];
    snprintf(full, sizeof full, "%s%s", path, want);
    int rc = data_load(&s, path, err, sizeof err);
    if (rc != -1 || strstr(err, full) != err)
        printf("#   %s: rc %d, err '%s', wanted '%s'\n", name, rc, err, full);
    CHECK(rc == -1 && strstr(err, full) == err);
    CHECK(s.cells == NULL && s.offsets == NULL && s.columns == NULL && s.n_rows == 0 &&
          s.next == NULL);
    data_free(&s);
}

#define BAD(name, text, want) expect_error(name, text, sizeof text - 1, want)

TEST(errors)
{
    BAD("empty.csv", "", ": the file is empty");
    BAD("bom.csv", "\xef\xbb\xbf", ": the file is empty");
    BAD("breaks.csv", "\n\r\n\n", ": the file is empty");
    BAD("header.csv", "a,b\n", ": no rows after the header");
    BAD("header2.csv", "a,b", ": no rows after the header");
    BAD("header3.csv", "a,b\r\n\r\n\n", ": no rows after the header");
    BAD("first.csv", "\na,b\n1,2\n", ":1: the first line is empty");
    BAD("few.csv", "a,b,c\n1,2,3\n4,5\n", ":3: 2 fields, the header has 3");
    BAD("many.csv", "a,b\n1,2\n3,4,5\n", ":3: 3 fields, the header has 2");
    BAD("one.csv", "a,b\n1\n", ":2: 1 field, the header has 2");
    BAD("last.csv", "a,b\n1,2\n3", ":3: 1 field, the header has 2");
    /* The row's own first line, after a value that spans lines. */
    BAD("span.csv", "a,b\n\"x\ny\nz\",1\n\"p\nq\"\n", ":5: 1 field, the header has 2");
    BAD("crlfspan.csv", "a,b\r\n\"x\r\ny\",1\r\n2\r\n", ":4: 1 field, the header has 2");
    BAD("gap.csv", "a,b\n1,2\n\n3,4\n", ":3: an empty line");
    BAD("gap1.csv", "a\n1\n\n3\n", ":3: an empty line (in a file of one column, an empty "
                                  "value is written \"\")");
    BAD("unclosed.csv", "a,b\n1,2\n3,\"x\n\n", ":3: a quote opened on this line is never "
                                               "closed");
    BAD("unclosed2.csv", "a,\"b\n", ":1: a quote opened on this line is never closed");
    BAD("after.csv", "a,b\n\"x\"y,2\n", ":2: text after the closing quote of a field");
    BAD("nul.csv", "a,b\n1,2\n3,\0\n", ":3: a NUL byte");
    BAD("noname.csv", "a,,c\n1,2,3\n", ":1: column 2 has no name");
    BAD("space.csv", "a,first name\n1,2\n", ":1: column 2: 'first name' is not a column name");
    BAD("dot.csv", "a.b\n1\n", ":1: column 1: 'a.b' is not a column name");
    BAD("ctl.csv", "\"a\x1b[2J\"\n1\n", ":1: column 1: 'a?[2J' is not a column name");
    BAD("twice.csv", "id,name,id\n1,2,3\n", ":1: column 'id' is named twice (columns 1 and 3)");

    char wide[2000] = "";
    for (int i = 0; i <= DATA_MAX_COLUMNS; i++)
        snprintf(wide + strlen(wide), sizeof wide - strlen(wide), "%sc%d", i ? "," : "", i);
    strcat(wide, "\n");
    expect_error("wide.csv", wide, strlen(wide), ":1: more than 256 columns");

    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope.csv", dir);
    expect_error(missing, NULL, 0, ": cannot open it: No such file or directory");
    expect_error(dir, NULL, 0, ": a folder, not a regular file");
    expect_error("/dev/null", NULL, 0, ": a device, pipe or socket, not a regular file");
    char fifo[300];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CHECK_INT(mkfifo(fifo, 0600), 0);
    expect_error(fifo, NULL, 0, ": a device, pipe or socket, not a regular file");
    unlink(fifo);

    /* Over the size limit: a sparse file, so the test costs no disk. */
    char big[300];
    snprintf(big, sizeof big, "%s/big.csv", dir);
    int fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    CHECK_INT(ftruncate(fd, (off_t)DATA_MAX_BYTES + 1), 0);
    close(fd);
    expect_error(big, NULL, 0, ": over the 1 GiB limit for a data file (1073741825 bytes)");
    unlink(big);

    /* A small error buffer is respected. */
    data_source_t s;
    memset(&s, 0, sizeof s);
    char tiny[5] = "xxxx";
    CHECK_INT(data_load(&s, missing, tiny, sizeof tiny), -1);
    CHECK_INT(strlen(tiny), 4);
    data_free(&s);
}

/* A file of n rows "k" (k from 0), one column. */
static void load_rows(data_source_t *s, size_t n, data_order_t order)
{
    size_t cap = 16 + n * 12;
    char *text = xmalloc(cap);
    size_t len = (size_t)snprintf(text, cap, "k\n");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%zu\n", i);
    CHECK_INT(load(s, text, len), 0);
    free(text);
    s->order = order;
}

static long row_value(const data_source_t *s, int64_t row)
{
    size_t len;
    return strtol(data_cell(s, (size_t)row, 0, &len), NULL, 10);
}

TEST(sequential_cycles)
{
    data_source_t s;
    load_rows(&s, 5, DATA_SEQUENTIAL);
    rng_t rng;
    rng_seed(&rng, 1);
    /* Before data_share too (a private counter). */
    for (int i = 0; i < 7; i++)
        CHECK_INT(data_next(&s, &rng), i % 5);
    char err[200];
    CHECK_INT(data_share(&s, 1, err, sizeof err), 0);
    CHECK(s.shared);
    /* The position carries over into the shared counter. */
    for (int i = 7; i < 23; i++)
        CHECK_INT(data_next(&s, &rng), i % 5);
    CHECK_INT(row_value(&s, 3), 3);
    CHECK_INT(data_share(&s, 1, err, sizeof err), 0);   /* again: nothing changes */
    CHECK_INT(data_next(&s, &rng), 3);
    data_free(&s);
}

TEST(unique_runs_out)
{
    data_source_t s;
    load_rows(&s, 4, DATA_UNIQUE);
    for (int i = 0; i < 4; i++)
        CHECK_INT(data_next(&s, NULL), i);
    for (int i = 0; i < 10; i++)
        CHECK_INT(data_next(&s, NULL), -1);
    data_free(&s);

    load_rows(&s, 3, DATA_UNIQUE);
    char err[200];
    CHECK_INT(data_share(&s, 9, err, sizeof err), 0);
    CHECK_INT(data_next(&s, NULL), 0);
    CHECK_INT(data_next(&s, NULL), 1);
    CHECK_INT(data_next(&s, NULL), 2);
    CHECK_INT(data_next(&s, NULL), -1);
    data_free(&s);
}

/* An MPI run: ranks take contiguous parts of the rows, which together are
 * every row once (unique), whatever the count of ranks. */
TEST(windows_divide_rows_exactly)
{
    for (unsigned ranks = 1; ranks <= 7; ranks++) {
        int seen[10] = {0};
        for (unsigned r = 0; r < ranks; r++) {
            data_source_t s;
            load_rows(&s, 10, DATA_UNIQUE);
            data_window(&s, r, 1, ranks);
            CHECK(s.rows == 10 / ranks || s.rows == 10 / ranks + 1);
            int64_t row;
            while ((row = data_next(&s, NULL)) >= 0) {
                CHECK(row < 10);
                if (row >= 0 && row < 10)
                    seen[row]++;
            }
            data_free(&s);
        }
        for (int i = 0; i < 10; i++)
            CHECK_INT(seen[i], 1);
    }
    /* Sequential cycles within the part; random draws stay in it. */
    data_source_t s;
    load_rows(&s, 10, DATA_SEQUENTIAL);
    data_window(&s, 1, 1, 3);   /* rows 4..6 (10 = 4 + 3 + 3) */
    for (int i = 0; i < 7; i++)
        CHECK_INT(data_next(&s, NULL), 4 + i % 3);
    data_free(&s);
    load_rows(&s, 10, DATA_RANDOM);
    data_window(&s, 2, 1, 3);   /* rows 7..9 */
    rng_t rng;
    rng_seed(&rng, 5);
    for (int i = 0; i < 200; i++) {
        int64_t row = data_next(&s, &rng);
        CHECK(row >= 7 && row <= 9);
    }
    data_free(&s);
    /* More ranks than rows: some parts are empty and hand out nothing. */
    load_rows(&s, 2, DATA_UNIQUE);
    data_window(&s, 3, 1, 4);
    CHECK_INT(data_next(&s, NULL), -1);
    data_free(&s);
    /* Ranks of two workers each over 6 parts: rank 1 has parts 2 and 3,
     * rows 4..7 of 10 (parts of 2, 2, 2, 2, 1, 1 rows). */
    load_rows(&s, 10, DATA_UNIQUE);
    data_window(&s, 2, 2, 6);
    for (int i = 0; i < 4; i++)
        CHECK_INT(data_next(&s, NULL), 4 + i);
    CHECK_INT(data_next(&s, NULL), -1);
    data_free(&s);
}

/* The order one shuffle hands out over a full cycle. */
static void shuffle_order(size_t n, uint64_t seed, int64_t *out)
{
    data_source_t s;
    load_rows(&s, n, DATA_SHUFFLE);
    char err[200];
    CHECK_INT(data_share(&s, seed, err, sizeof err), 0);
    for (size_t i = 0; i < n; i++)
        out[i] = data_next(&s, NULL);
    /* The next cycle repeats the same order. */
    for (size_t i = 0; i < n; i++)
        CHECK_INT(data_next(&s, NULL), out[i]);
    data_free(&s);
}

TEST(shuffle_is_a_permutation)
{
    enum { N = 1000 };
    static int64_t a[N], b[N], c[N];
    static int seen[N];
    shuffle_order(N, 42, a);
    memset(seen, 0, sizeof seen);
    size_t in_place = 0;
    for (size_t i = 0; i < N; i++) {
        CHECK(a[i] >= 0 && a[i] < N);
        if (a[i] >= 0 && a[i] < N)
            seen[a[i]]++;
        in_place += a[i] == (int64_t)i;
    }
    for (size_t i = 0; i < N; i++)
        CHECK_INT(seen[i], 1);
    CHECK(in_place < 10);   /* a shuffle, not the file's order */
    shuffle_order(N, 42, b);
    CHECK(memcmp(a, b, sizeof a) == 0);    /* the same seed, the same order */
    shuffle_order(N, 43, c);
    CHECK(memcmp(a, c, sizeof a) != 0);

    /* Before data_share, the file's order. */
    data_source_t s;
    load_rows(&s, 3, DATA_SHUFFLE);
    CHECK_INT(data_next(&s, NULL), 0);
    CHECK_INT(data_next(&s, NULL), 1);
    data_free(&s);

    /* One row. */
    load_rows(&s, 1, DATA_SHUFFLE);
    char err[100];
    CHECK_INT(data_share(&s, 5, err, sizeof err), 0);
    CHECK_INT(data_next(&s, NULL), 0);
    CHECK_INT(data_next(&s, NULL), 0);
    data_free(&s);
}

TEST(random_draws_every_row)
{
    data_source_t s;
    load_rows(&s, 10, DATA_RANDOM);
    rng_t rng;
    rng_seed(&rng, 3);
    int seen[10] = { 0 };
    for (int i = 0; i < 5000; i++) {
        int64_t r = data_next(&s, &rng);
        CHECK(r >= 0 && r < 10);
        if (r >= 0 && r < 10)
            seen[r]++;
    }
    for (int i = 0; i < 10; i++)
        CHECK(seen[i] > 400 && seen[i] < 600);
    data_free(&s);
}

/* Draws unique rows as fast as it can, writing each to fd, until none is
 * left. */
static void draw_all(data_source_t *s, int fd)
{
    int64_t buf[256];
    size_t n = 0;
    for (;;) {
        int64_t r = data_next(s, NULL);
        if (r >= 0)
            buf[n++] = r;
        if (n == 256 || (r < 0 && n > 0)) {
            if (write(fd, buf, n * sizeof *buf) != (ssize_t)(n * sizeof *buf))
                _exit(3);
            n = 0;
        }
        if (r < 0)
            return;
    }
}

TEST(unique_across_processes)
{
    enum { N = 100000 };
    data_source_t s;
    load_rows(&s, N, DATA_UNIQUE);
    char err[200];
    CHECK_INT(data_share(&s, 1, err, sizeof err), 0);
    int fds[2][2];
    pid_t pids[2];
    for (int k = 0; k < 2; k++) {
        CHECK_INT(pipe(fds[k]), 0);
        pids[k] = fork();
        if (pids[k] == 0) {
            close(fds[k][0]);
            draw_all(&s, fds[k][1]);
            _exit(0);
        }
        close(fds[k][1]);
    }
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    size_t got[2] = { 0, 0 }, dup = 0, bad = 0;
    /* Read both pipes to the end (either may fill while we read the other:
     * read them in turns, a little at a time). */
    bool open_fd[2] = { true, true };
    while (open_fd[0] || open_fd[1]) {
        for (int k = 0; k < 2; k++) {
            if (!open_fd[k])
                continue;
            int64_t buf[512];
            ssize_t n = read(fds[k][0], buf, sizeof buf);
            if (n <= 0) {
                open_fd[k] = false;
                close(fds[k][0]);
                continue;
            }
            for (size_t i = 0; i < (size_t)n / sizeof *buf; i++) {
                if (buf[i] < 0 || buf[i] >= N) {
                    bad++;
                    continue;
                }
                dup += seen[buf[i]]++ > 0;
                got[k]++;
            }
        }
    }
    for (int k = 0; k < 2; k++) {
        int status = 0;
        CHECK_INT(waitpid(pids[k], &status, 0), pids[k]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(dup, 0);
    CHECK_INT(got[0] + got[1], N);
    size_t missing = 0;
    for (size_t i = 0; i < N; i++)
        missing += seen[i] == 0;
    CHECK_INT(missing, 0);
    /* Both children drew (each got a share, not all to one). */
    printf("#   child 0 drew %zu rows, child 1 %zu\n", got[0], got[1]);
    CHECK(got[0] > 0 && got[1] > 0);
    /* The parent sees the shared position: nothing left. */
    CHECK_INT(data_next(&s, NULL), -1);
    data_free(&s);
}

TEST(sequential_across_processes)
{
    /* A child's draws move the position the parent sees. */
    data_source_t s;
    load_rows(&s, 10, DATA_SEQUENTIAL);
    char err[200];
    CHECK_INT(data_share(&s, 1, err, sizeof err), 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            data_next(&s, NULL);
        _exit(0);
    }
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK_INT(data_next(&s, NULL), 3);
    data_free(&s);
}

/* Removes the test's folder and the files in it. */
static void remove_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        char f[600];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(f, sizeof f, "%s/%s", path, e->d_name);
        unlink(f);
    }
    if (d != NULL)
        closedir(d);
    rmdir(path);
}

int main(void)
{
    check_prog = "test_data";
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_data.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    RUN(basic);
    RUN(quoting_and_line_ends);
    RUN(errors);
    RUN(sequential_cycles);
    RUN(unique_runs_out);
    RUN(windows_divide_rows_exactly);
    RUN(shuffle_is_a_permutation);
    RUN(random_draws_every_row);
    RUN(unique_across_processes);
    RUN(sequential_across_processes);
    remove_dir(dir);
    return check_done();
}

/* data: a plan's CSV data files, and the run-wide order rows are handed out
 * in (include/plan/data.h).
 *
 * The file is read whole into one buffer and parsed in place: a cell's text
 * never grows (quotes drop, a "" becomes ", the delimiter after it becomes
 * its NUL), so the write position never passes the read position and the
 * buffer becomes the block of cells. A 1 GiB file costs 1 GiB, not two.
 *
 * The run-wide position `next` is one counter, taken with an atomic
 * fetch-and-add: in a private heap word from data_load on (so that a source
 * works in a single process, in the unit tests), and in a shared anonymous
 * mapping from data_share on, which processes forked afterwards inherit. */
#include "plan/data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

/* ---- reading the file ------------------------------------------------------ */

/* Reads the regular file at path whole (size + 1 bytes allocated, for a
 * final NUL). 0, or -1 with "PATH: ..." in err. */
static int read_whole(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer before fstat
     * can refuse it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open it: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: %s, not a regular file", path,
                 S_ISDIR(st.st_mode) ? "a folder" : "a device, pipe or socket");
        close(fd);
        return -1;
    }
    if ((unsigned long long)st.st_size > DATA_MAX_BYTES) {
        snprintf(err, errlen, "%s: over the %llu GiB limit for a data file (%llu bytes)", path,
                 DATA_MAX_BYTES / (1024ULL * 1024 * 1024), (unsigned long long)st.st_size);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    char *buf = xmalloc(size + 1);
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%s: cannot read it: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return -1;
        }
        if (n == 0)
            break;      /* it shrank while we read: take what is there */
        got += (size_t)n;
    }
    close(fd);
    *out = buf;
    *len = got;
    return 0;
}

/* ---- parsing CSV in place ------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t n;
    size_t r, w;                /* read and write positions, w <= r */
    size_t line;                /* the physical line at r, from 1 */
    const char *path;
    char *err;
    size_t errlen;
} csv_t;

typedef enum { END_COMMA, END_LINE, END_FILE } field_end_t;

/* At a line break (LF, CRLF, or a CR that ends the file)? Its length, or 0. */
static size_t line_break(const csv_t *c)
{
    if (c->r >= c->n)
        return 0;
    if (c->buf[c->r] == '\n')
        return 1;
    if (c->buf[c->r] == '\r' && (c->r + 1 == c->n || c->buf[c->r + 1] == '\n'))
        return c->r + 1 == c->n ? 1 : 2;
    return 0;
}

/* What ends a field at r: consumes it and says which. */
static field_end_t field_end(csv_t *c)
{
    if (c->r >= c->n)
        return END_FILE;
    if (c->buf[c->r] == ',') {
        c->r++;
        return END_COMMA;
    }
    size_t lb = line_break(c);
    c->r += lb;
    c->line++;
    return END_LINE;
}

/* One field at r, written NUL-terminated at w. 0 with *end, or -1 with a
 * message. */
static int csv_field(csv_t *c, field_end_t *end)
{
    char *b = c->buf;
    if (c->r < c->n && b[c->r] == '"') {
        size_t opened = c->line;
        c->r++;
        for (;;) {
            if (c->r >= c->n) {
                snprintf(c->err, c->errlen, "%s:%zu: a quote opened on this line is never "
                         "closed", c->path, opened);
                return -1;
            }
            char ch = b[c->r];
            if (ch == '"') {
                if (c->r + 1 < c->n && b[c->r + 1] == '"') {
                    b[c->w++] = '"';
                    c->r += 2;
                    continue;
                }
                c->r++;
                break;
            }
            if (ch == '\n')
                c->line++;
            b[c->w++] = ch;
            c->r++;
        }
        if (c->r < c->n && b[c->r] != ',' && line_break(c) == 0) {
            snprintf(c->err, c->errlen, "%s:%zu: text after the closing quote of a field (a "
                     "quote inside a quoted field is written \"\")", c->path, c->line);
            return -1;
        }
    } else {
        /* Unquoted: up to a comma or a line break. A quote inside is kept as
         * it is (5" screen), as most CSV readers do. */
        while (c->r < c->n && b[c->r] != ',' && line_break(c) == 0)
            b[c->w++] = b[c->r++];
    }
    /* The delimiter first: w may be at it (an unquoted field written onto
     * itself), and the NUL takes its place. */
    *end = field_end(c);
    b[c->w++] = '\0';
    return 0;
}

/* Whether only line breaks are left from r on: the empty lines at the end
 * of a file, which are ignored. */
static bool only_breaks_left(const csv_t *c)
{
    for (size_t i = c->r; i < c->n; i++)
        if (c->buf[i] != '\n' && c->buf[i] != '\r')
            return false;
    return true;
}

/* A column's name: what a template can write after the source's name
 * ({{accounts.user_name}}). */
static bool valid_column(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

/* The header row at r: its names into src->columns. */
static int parse_header(csv_t *c, data_source_t *src)
{
    size_t cap = 0;
    if (line_break(c) != 0) {
        snprintf(c->err, c->errlen, "%s:1: the first line is empty: it must name the columns "
                 "(e.g. user,password)", c->path);
        return -1;
    }
    for (;;) {
        size_t start = c->w;
        field_end_t end;
        if (csv_field(c, &end) != 0)
            return -1;
        const char *name = c->buf + start;
        size_t col = src->n_columns + 1;
        if (src->n_columns == DATA_MAX_COLUMNS) {
            snprintf(c->err, c->errlen, "%s:1: more than %d columns", c->path, DATA_MAX_COLUMNS);
            return -1;
        }
        if (*name == '\0') {
            snprintf(c->err, c->errlen, "%s:1: column %zu has no name (the first line names "
                     "the columns)", c->path, col);
            return -1;
        }
        if (!valid_column(name)) {
            /* The name is from a file: shown cut, and without control bytes. */
            char shown[64];
            size_t k = 0;
            for (; name[k] != '\0' && k < 60; k++)
                shown[k] = (unsigned char)name[k] < 0x20 || name[k] == 0x7f ? '?' : name[k];
            shown[k] = '\0';
            snprintf(c->err, c->errlen, "%s:1: column %zu: '%s%s' is not a column name: "
                     "letters, digits, '-' and '_'", c->path, col, shown,
                     name[k] != '\0' ? "..." : "");
            return -1;
        }
        for (size_t i = 0; i < src->n_columns; i++)
            if (strcmp(src->columns[i], name) == 0) {
                snprintf(c->err, c->errlen, "%s:1: column '%s' is named twice (columns %zu "
                         "and %zu)", c->path, name, i + 1, col);
                return -1;
            }
        if (src->n_columns == cap) {
            cap = cap ? cap * 2 : 8;
            src->columns = xrealloc(src->columns, cap * sizeof *src->columns);
        }
        src->columns[src->n_columns++] = xstrdup(name);
        if (end != END_COMMA)
            return 0;
    }
}

/* The rows from r on into src->offsets (cells stay in c->buf from w = 0). */
static int parse_rows(csv_t *c, data_source_t *src)
{
    size_t n_cells = 0, cap = 0;
    c->w = 0;
    while (c->r < c->n) {
        size_t row_line = c->line;
        if (line_break(c) != 0) {
            if (only_breaks_left(c))
                break;
            snprintf(c->err, c->errlen, "%s:%zu: an empty line (in a file of one column, an "
                     "empty value is written \"\")", c->path, row_line);
            return -1;
        }
        size_t fields = 0;
        field_end_t end;
        do {
            if (n_cells + 1 >= cap) {
                cap = cap ? cap * 2 : 64;
                src->offsets = xrealloc(src->offsets, cap * sizeof *src->offsets);
            }
            src->offsets[n_cells++] = c->w;
            fields++;
            if (csv_field(c, &end) != 0)
                return -1;
        } while (end == END_COMMA);
        if (fields != src->n_columns) {
            snprintf(c->err, c->errlen, "%s:%zu: %zu field%s, the header has %zu", c->path,
                     row_line, fields, fields == 1 ? "" : "s", src->n_columns);
            return -1;
        }
        src->n_rows++;
    }
    if (src->n_rows == 0) {
        snprintf(c->err, c->errlen, "%s: no rows after the header", c->path);
        return -1;
    }
    src->offsets[n_cells] = c->w;
    return 0;
}

static void data_reset_loaded(data_source_t *src)
{
    for (size_t i = 0; i < src->n_columns; i++)
        free(src->columns[i]);
    free(src->columns);
    free(src->cells);
    free(src->offsets);
    free(src->next);
    free(src->path);
    src->columns = NULL;
    src->n_columns = src->n_rows = 0;
    src->cells = NULL;
    src->offsets = NULL;
    src->next = NULL;
    src->path = NULL;
}

int data_load(data_source_t *src, const char *path, char *err, size_t errlen)
{
    src->path = xstrdup(path);
    src->columns = NULL;
    src->n_columns = src->n_rows = 0;
    src->cells = NULL;
    src->offsets = NULL;
    src->perm = NULL;
    src->shared = false;
    src->next = xcalloc(1, sizeof *src->next);

    char *buf;
    size_t n;
    if (read_whole(path, &buf, &n, err, errlen) != 0) {
        data_reset_loaded(src);
        return -1;
    }
    src->cells = buf;
    csv_t c = { .buf = buf, .n = n, .line = 1, .path = path, .err = err, .errlen = errlen };
    if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        c.r = 3;        /* a UTF-8 byte order mark, as spreadsheets write */
    const char *nul = memchr(buf, '\0', n);
    if (nul != NULL) {
        size_t line = 1;
        for (const char *p = buf; p < nul; p++)
            line += *p == '\n';
        snprintf(err, errlen, "%s:%zu: a NUL byte (is this a text file?)", path, line);
        data_reset_loaded(src);
        return -1;
    }
    if (only_breaks_left(&c)) {
        snprintf(err, errlen, "%s: the file is empty (it needs a header row naming the "
                 "columns, then rows)", path);
        data_reset_loaded(src);
        return -1;
    }
    if (parse_header(&c, src) != 0 || parse_rows(&c, src) != 0) {
        data_reset_loaded(src);
        return -1;
    }
    /* The block keeps only the cells. */
    src->cells = xrealloc(buf, c.w);
    return 0;
}

long data_column(const data_source_t *src, const char *column)
{
    for (size_t i = 0; i < src->n_columns; i++)
        if (strcmp(src->columns[i], column) == 0)
            return (long)i;
    return -1;
}

/* ---- handing rows out ---------------------------------------------------------- */

int data_share(data_source_t *src, uint64_t seed, char *err, size_t errlen)
{
    if (src->shared)
        return 0;
    if (src->order == DATA_SHUFFLE && src->perm == NULL && src->n_rows > 0) {
        /* Fisher-Yates from the run's seed: the same --seed, the same order.
         * Read-only from here on, so forked workers may share the pages. */
        rng_t rng;
        rng_seed(&rng, seed);
        src->perm = xmalloc(src->n_rows * sizeof *src->perm);
        for (size_t i = 0; i < src->n_rows; i++)
            src->perm[i] = i;
        for (size_t i = src->n_rows - 1; i > 0; i--) {
            size_t j = (size_t)(rng_next(&rng) % (i + 1));
            size_t t = src->perm[i];
            src->perm[i] = src->perm[j];
            src->perm[j] = t;
        }
    }
    void *m = mmap(NULL, sizeof *src->next, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "data '%s': cannot map shared memory: %s",
                 src->name ? src->name : "?", strerror(errno));
        return -1;
    }
    uint64_t *shared = m;
    /* Rows drawn before (in this process) stay drawn. */
    *shared = src->next ? *src->next : 0;
    free(src->next);
    src->next = shared;
    src->shared = true;
    return 0;
}

/* Where part i of count starts: the first n % count parts are a row longer. */
static size_t part_start(size_t n, size_t i, size_t count)
{
    size_t base = n / count, extra = n % count;
    return i * base + (i < extra ? i : extra);
}

void data_window(data_source_t *src, unsigned first, unsigned parts, unsigned count)
{
    if (count == 0 || parts == 0 || first >= count || parts > count - first)
        return;
    src->first = part_start(src->n_rows, first, count);
    src->rows = part_start(src->n_rows, first + parts, count) - src->first;
    src->windowed = true;
}

int64_t data_next(data_source_t *src, rng_t *rng)
{
    uint64_t n = src->windowed ? src->rows : src->n_rows;
    size_t first = src->windowed ? src->first : 0;
    if (n == 0 || src->next == NULL)
        return -1;
    if (src->order == DATA_RANDOM && rng != NULL) {
        uint64_t k = (uint64_t)(rng_unit(rng) * (double)n);
        return (int64_t)(first + (k < n ? k : n - 1));
    }
    /* Relaxed is enough: the counter is the only thing the processes share. */
    uint64_t i = __atomic_fetch_add(src->next, 1, __ATOMIC_RELAXED);
    switch (src->order) {
    case DATA_UNIQUE:
        return i < n ? (int64_t)(first + i) : -1;
    case DATA_SHUFFLE:
        /* Before data_share there is no order drawn yet: the file's. */
        return (int64_t)(src->perm ? src->perm[first + i % n] : first + i % n);
    default:
        return (int64_t)(first + i % n);
    }
}

void data_free(data_source_t *src)
{
    for (size_t i = 0; i < src->n_columns; i++)
        free(src->columns[i]);
    free(src->columns);
    free(src->cells);
    free(src->offsets);
    free(src->perm);
    if (src->shared)
        munmap(src->next, sizeof *src->next);
    else
        free(src->next);
    free(src->name);
    free(src->path);
    memset(src, 0, sizeof *src);
}

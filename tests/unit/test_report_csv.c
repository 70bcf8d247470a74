/* Unit tests for the CSV report (src/report/report_csv.c) against a snapshot
 * built by hand: Locust's exact headers, exact row values, the row of an
 * endpoint never called, the history rows and the failures file. */
#include "check.h"
#include "report/report_csv.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

/* Locust's headers, copied from its source, locust/stats.py (StatsCSV:
 * requests_csv_columns, failures_columns, exceptions_columns, and
 * StatsCSVFileWriter's stats_history_csv_columns), at the commit named in
 * /work/shared/reference/locust.md. Not from hopper's output. */
#define LOCUST_STATS                                                                        \
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"     \
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"       \
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
#define LOCUST_HISTORY                                                                      \
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%," \
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"  \
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"          \
    "Total Average Content Size"
#define LOCUST_FAILURES "Method,Name,Error,Occurrences"
#define LOCUST_EXCEPTIONS "Count,Message,Traceback,Nodes"

typedef struct {
    snap_t s;
    snap_entry_t entries[3];
    snap_error_t errors[2];
    char dir[64];
    char prefix[96];
} fixture_t;

/* An entry with round numbers: times of k ms, percentiles 1, 2, ... 11 ms. */
static void called(snap_entry_t *e, const char *method, const char *name, uint64_t requests,
                   uint64_t failures)
{
    *e = (snap_entry_t){.method = method, .name = name, .requests = requests, .failures = failures,
                        .content_bytes = requests * 100, .min_us = 500, .max_us = 12000,
                        .avg_us = 2750, .cur_rps = 1.5, .cur_fps = 0.25,
                        .total_rps = 2, .total_fps = 0.5};
    for (int i = 0; i < SNAP_NPCT; i++)
        e->pct_us[i] = (uint64_t)(i + 1) * 1000;
}

static void fixture_init(fixture_t *fx)
{
    memset(fx, 0, sizeof *fx);
    snap_init(&fx->s);
    snap_t *s = &fx->s;
    s->users = 7;
    s->start_unix = 1714564800;     /* 2024-05-01T12:00:00Z */
    s->elapsed_ms = 3500;
    called(&fx->entries[0], "GET", "/a", 4, 1);
    fx->entries[1] = (snap_entry_t){.method = "POST", .name = "/never"};
    called(&fx->entries[2], "GET", "/with, comma", 2, 0);
    s->entries = fx->entries;
    s->n_entries = 3;
    called(&s->total, "", "Aggregated", 6, 1);

    fx->errors[0] = (snap_error_t){.method = "GET", .name = "/a", .count = 1,
                                   .first_seen = 1714564801.5, .last_seen = 1714564802.25};
    snprintf(fx->errors[0].error, sizeof fx->errors[0].error, "HTTP 500: \"oops\", again");
    s->errors = fx->errors;
    s->n_errors = 1;

    snprintf(fx->dir, sizeof fx->dir, "/tmp/hopper-test-csv-XXXXXX");
    CHECK(mkdtemp(fx->dir) != NULL);
    snprintf(fx->prefix, sizeof fx->prefix, "%s/run", fx->dir);
}

static char *slurp(const fixture_t *fx, const char *suffix)
{
    char path[160];
    snprintf(path, sizeof path, "%s%s", fx->prefix, suffix);
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    return buf;
}

static void fixture_done(fixture_t *fx)
{
    rmdir(fx->dir);
}

/* Writes the reports for fx (one update, then the close), and reads them
 * back; _exceptions.csv must be exactly Locust's header each time. */
static void write_all(fixture_t *fx, bool full_history, char **stats, char **history, char **failures)
{
    report_csv_t c;
    char err[256] = "";
    CHECK_INT(report_csv_open(&c, fx->prefix, full_history, false, err, sizeof err), 0);
    CHECK_INT(report_csv_update(&c, &fx->s), 0);
    CHECK_INT(report_csv_close(&c, &fx->s), 0);
    /* Without intended starts there is no raw file. */
    char raw_path[160];
    snprintf(raw_path, sizeof raw_path, "%s_stats_raw.csv", fx->prefix);
    CHECK(access(raw_path, F_OK) != 0);
    *stats = slurp(fx, "_stats.csv");
    *history = slurp(fx, "_stats_history.csv");
    *failures = slurp(fx, "_failures.csv");
    char *exceptions = slurp(fx, "_exceptions.csv");
    CHECK_STR(exceptions, LOCUST_EXCEPTIONS "\n");
    free(exceptions);
}

#define PCTS_MS ",1.000,2.000,3.000,4.000,5.000,6.000,7.000,8.000,9.000,10.000,11.000"
#define PCTS_NA ",N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A"

TEST(stats_file)
{
    fixture_t fx;
    fixture_init(&fx);
    char *stats, *history, *failures;
    write_all(&fx, false, &stats, &history, &failures);
    /* Rewritten on each update: the close leaves exactly one copy. Times in
     * ms with three decimals; rates with six, as Locust's "%2f". */
    CHECK_STR(stats, LOCUST_STATS "\n"
              "GET,/a,4,1,1.000,2.750,0.500,12.000,100.000,2.000000,0.500000" PCTS_MS "\n"
              "POST,/never,0,0,0.000,0.000,0.000,0.000,0.000,0.000000,0.000000" PCTS_NA "\n"
              "GET,\"/with, comma\",2,0,1.000,2.750,0.500,12.000,100.000,2.000000,0.500000" PCTS_MS "\n"
              ",Aggregated,6,1,1.000,2.750,0.500,12.000,100.000,2.000000,0.500000" PCTS_MS "\n");
    free(stats);
    free(history);
    free(failures);
    fixture_done(&fx);
}

TEST(aggregated_without_requests)
{
    fixture_t fx;
    fixture_init(&fx);
    fx.s.n_entries = 0;
    fx.s.n_errors = 0;
    fx.s.total = (snap_entry_t){.method = "", .name = "Aggregated"};
    char *stats, *history, *failures;
    write_all(&fx, false, &stats, &history, &failures);
    CHECK_STR(stats, LOCUST_STATS "\n"
              ",Aggregated,0,0,0.000,0.000,0.000,0.000,0.000,0.000000,0.000000" PCTS_NA "\n");
    CHECK_STR(failures, LOCUST_FAILURES "\n");
    free(stats);
    free(history);
    free(failures);
    fixture_done(&fx);
}

TEST(history_file)
{
    fixture_t fx;
    fixture_init(&fx);
    char *stats, *history, *failures;
    write_all(&fx, false, &stats, &history, &failures);
    /* Without full history: the Aggregated row only, once per update (the
     * close is an update too). Current rates, then the cumulative totals. */
#define AGG_ROW "1714564803,7,,Aggregated,1.500000,0.250000" PCTS_MS ",6,1,1.000,2.750,0.500,12.000,100.000\n"
    CHECK_STR(history, LOCUST_HISTORY "\n" AGG_ROW AGG_ROW);
    free(stats);
    free(history);
    free(failures);

    write_all(&fx, true, &stats, &history, &failures);
    /* With it: every row of the snapshot, the uncalled endpoint too. */
#define FULL_ROWS                                                                              \
    "1714564803,7,GET,/a,1.500000,0.250000" PCTS_MS ",4,1,1.000,2.750,0.500,12.000,100.000\n"  \
    "1714564803,7,POST,/never,0.000000,0.000000" PCTS_NA ",0,0,0.000,0.000,0.000,0.000,0.000\n" \
    "1714564803,7,GET,\"/with, comma\",1.500000,0.250000" PCTS_MS ",2,0,1.000,2.750,0.500,12.000,100.000\n" \
    AGG_ROW
    CHECK_STR(history, LOCUST_HISTORY "\n" FULL_ROWS FULL_ROWS);
    free(stats);
    free(history);
    free(failures);
    fixture_done(&fx);
}

TEST(failures_file)
{
    fixture_t fx;
    fixture_init(&fx);
    char *stats, *history, *failures;
    write_all(&fx, false, &stats, &history, &failures);
    /* Quotes doubled and the cell quoted; four columns as Locust's, the
     * first and last seen times stay out (they are in the JSON). */
    CHECK_STR(failures, LOCUST_FAILURES "\n"
              "GET,/a,\"HTTP 500: \"\"oops\"\", again\",1\n");
    free(stats);
    free(history);
    free(failures);
    fixture_done(&fx);
}

TEST(headers_are_locusts)
{
    CHECK_STR(report_csv_stats_header, LOCUST_STATS);
    CHECK_STR(report_csv_history_header, LOCUST_HISTORY);
    CHECK_STR(report_csv_failures_header, LOCUST_FAILURES);
    CHECK_STR(report_csv_exceptions_header, LOCUST_EXCEPTIONS);
}

/* The exceptions file exists with its header from the open on, before any
 * update, as the other three do (a run killed early still leaves it valid). */
TEST(exceptions_file_from_the_start)
{
    fixture_t fx;
    fixture_init(&fx);
    report_csv_t c;
    char err[256] = "";
    CHECK_INT(report_csv_open(&c, fx.prefix, false, false, err, sizeof err), 0);
    char *exceptions = slurp(&fx, "_exceptions.csv");
    CHECK_STR(exceptions, LOCUST_EXCEPTIONS "\n");
    free(exceptions);
    CHECK_INT(report_csv_close(&c, &fx.s), 0);
    char *stats, *history, *failures;
    stats = slurp(&fx, "_stats.csv");
    history = slurp(&fx, "_stats_history.csv");
    failures = slurp(&fx, "_failures.csv");
    free(slurp(&fx, "_exceptions.csv"));
    free(stats);
    free(history);
    free(failures);
    fixture_done(&fx);
}

/* A symbolic link where _exceptions.csv goes is refused like any report file
 * (outfile's O_NOFOLLOW): the open fails, names the file, and closes the
 * three it had opened. */
TEST(exceptions_file_symlink_refused)
{
    fixture_t fx;
    fixture_init(&fx);
    char link_path[160], target[160];
    snprintf(link_path, sizeof link_path, "%s_exceptions.csv", fx.prefix);
    snprintf(target, sizeof target, "%s/elsewhere", fx.dir);
    CHECK_INT(symlink(target, link_path), 0);
    report_csv_t c;
    char err[256] = "";
    CHECK_INT(report_csv_open(&c, fx.prefix, false, false, err, sizeof err), -1);
    CHECK(strstr(err, "_exceptions.csv") != NULL);
    CHECK(c.stats == NULL && c.exceptions == NULL);
    CHECK(access(target, F_OK) != 0);
    unlink(link_path);
    free(slurp(&fx, "_stats.csv"));
    free(slurp(&fx, "_stats_history.csv"));
    free(slurp(&fx, "_failures.csv"));
    fixture_done(&fx);
}

/* Open file descriptors of this process: every file opened is closed. */
static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* A run with intended starts: the Locust file carries the corrected times
 * (the main fields), _stats_raw.csv the same columns with the raw ones; it
 * exists with its header from the open on and is rewritten, not appended. */
TEST(raw_file_for_runs_with_intended_starts)
{
    fixture_t fx;
    fixture_init(&fx);
    snap_entry_t *rows[] = {&fx.entries[0], &fx.entries[2], &fx.s.total};
    for (size_t k = 0; k < 3; k++) {
        snap_entry_t *e = rows[k];
        e->raw_min_us = 250;
        e->raw_max_us = 3000;
        e->raw_avg_us = 1125;
        for (int i = 0; i < SNAP_NPCT; i++)
            e->raw_pct_us[i] = (uint64_t)(i + 1) * 250;
    }
    fx.s.dual = true;
    report_csv_t c;
    char err[256] = "";
    int fds = open_fds();
    CHECK_INT(report_csv_open(&c, fx.prefix, false, true, err, sizeof err), 0);
    CHECK_INT(open_fds(), fds + 5);
    char path[160], first[512] = "";
    snprintf(path, sizeof path, "%s_stats_raw.csv", fx.prefix);
    FILE *f = fopen(path, "r");         /* read, not slurped: it stays open for writing */
    CHECK(f != NULL);
    if (f) {
        CHECK(fgets(first, sizeof first, f) != NULL);
        fclose(f);
    }
    CHECK_STR(first, LOCUST_STATS "\n");
    CHECK_INT(report_csv_update(&c, &fx.s), 0);
    CHECK_INT(report_csv_update(&c, &fx.s), 0);
    CHECK_INT(report_csv_close(&c, &fx.s), 0);
    CHECK(c.stats_raw == NULL);
    CHECK_INT(open_fds(), fds);                 /* all five closed */
    char *stats = slurp(&fx, "_stats.csv");
    char *raw = slurp(&fx, "_stats_raw.csv");
#define RAW_PCTS ",0.250,0.500,0.750,1.000,1.250,1.500,1.750,2.000,2.250,2.500,2.750"
    CHECK_STR(stats, LOCUST_STATS "\n"
              "GET,/a,4,1,1.000,2.750,0.500,12.000,100.000,2.000000,0.500000" PCTS_MS "\n"
              "POST,/never,0,0,0.000,0.000,0.000,0.000,0.000,0.000000,0.000000" PCTS_NA "\n"
              "GET,\"/with, comma\",2,0,1.000,2.750,0.500,12.000,100.000,2.000000,0.500000" PCTS_MS "\n"
              ",Aggregated,6,1,1.000,2.750,0.500,12.000,100.000,2.000000,0.500000" PCTS_MS "\n");
    CHECK_STR(raw, LOCUST_STATS "\n"
              "GET,/a,4,1,0.250,1.125,0.250,3.000,100.000,2.000000,0.500000" RAW_PCTS "\n"
              "POST,/never,0,0,0.000,0.000,0.000,0.000,0.000,0.000000,0.000000" PCTS_NA "\n"
              "GET,\"/with, comma\",2,0,0.250,1.125,0.250,3.000,100.000,2.000000,0.500000" RAW_PCTS "\n"
              ",Aggregated,6,1,0.250,1.125,0.250,3.000,100.000,2.000000,0.500000" RAW_PCTS "\n");
    free(stats);
    free(raw);
    free(slurp(&fx, "_stats_history.csv"));
    free(slurp(&fx, "_failures.csv"));
    free(slurp(&fx, "_exceptions.csv"));
    fixture_done(&fx);
}

/* A symbolic link where _stats_raw.csv goes: refused, named, and the four
 * files opened before it are closed. */
TEST(raw_file_symlink_refused)
{
    fixture_t fx;
    fixture_init(&fx);
    char link_path[160], target[160];
    snprintf(link_path, sizeof link_path, "%s_stats_raw.csv", fx.prefix);
    snprintf(target, sizeof target, "%s/elsewhere", fx.dir);
    CHECK_INT(symlink(target, link_path), 0);
    report_csv_t c;
    char err[256] = "";
    CHECK_INT(report_csv_open(&c, fx.prefix, false, true, err, sizeof err), -1);
    CHECK(strstr(err, "_stats_raw.csv") != NULL);
    CHECK(c.stats == NULL && c.stats_raw == NULL);
    CHECK(access(target, F_OK) != 0);
    unlink(link_path);
    free(slurp(&fx, "_stats.csv"));
    free(slurp(&fx, "_stats_history.csv"));
    free(slurp(&fx, "_failures.csv"));
    free(slurp(&fx, "_exceptions.csv"));
    fixture_done(&fx);
}

int main(void)
{
    check_prog = "report_csv";
    RUN(headers_are_locusts);
    RUN(stats_file);
    RUN(aggregated_without_requests);
    RUN(history_file);
    RUN(failures_file);
    RUN(exceptions_file_from_the_start);
    RUN(exceptions_file_symlink_refused);
    RUN(raw_file_for_runs_with_intended_starts);
    RUN(raw_file_symlink_refused);
    return check_done();
}

/* report_csv: see include/report/report_csv.h. */
#include "report/report_csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/outfile.h"

const char report_csv_stats_header[] =
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";
const char report_csv_history_header[] =
    "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
    "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
    "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
    "Total Average Content Size";
/* Locust's failures_columns: no First Seen / Last Seen here (the JSON report
 * has them), so a tool that reads Locust's file reads hopper's. */
const char report_csv_failures_header[] = "Method,Name,Error,Occurrences";
/* Locust's exceptions_columns. hopper's tasks are requests, not code, so
 * nothing but a request can fail and the file holds the header only. */
const char report_csv_exceptions_header[] = "Count,Message,Traceback,Nodes";

void report_csv_cell(FILE *f, const char *s)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"')
            fputs("\"\"", f);
        else if (*p >= 0x20 && *p != 0x7f)
            fputc(*p, f);
        else if (*p == '\t')
            fputc(' ', f);
    }
    if (quote)
        fputc('"', f);
}

static void ms(FILE *f, double us)
{
    fprintf(f, ",%.3f", us / 1000.0);
}

static void percentiles(FILE *f, const snap_entry_t *e)
{
    for (int i = 0; i < SNAP_NPCT; i++) {
        if (snap_row_has_times(e))
            ms(f, (double)e->pct_us[i]);
        else
            fputs(",N/A", f);
    }
}

static void stats_row(FILE *f, const snap_entry_t *e)
{
    report_csv_cell(f, e->method);
    fputc(',', f);
    report_csv_cell(f, e->name);
    fprintf(f, ",%llu,%llu", (unsigned long long)e->requests, (unsigned long long)e->failures);
    ms(f, e->requests ? (double)e->pct_us[SNAP_P50] : 0);
    ms(f, e->avg_us);
    ms(f, (double)e->min_us);
    ms(f, (double)e->max_us);
    fprintf(f, ",%.3f,%.6f,%.6f", e->requests ? (double)e->content_bytes / (double)e->requests : 0.0,
            e->total_rps, e->total_fps);
    percentiles(f, e);
    fputc('\n', f);
}

/* The raw latencies of a row in the main fields' places, for
 * _stats_raw.csv (without intended starts they are the same). */
static snap_entry_t raw_entry(const snap_entry_t *e)
{
    snap_entry_t r = *e;
    r.min_us = e->raw_min_us;
    r.max_us = e->raw_max_us;
    r.avg_us = e->raw_avg_us;
    memcpy(r.pct_us, e->raw_pct_us, sizeof r.pct_us);
    return r;
}

static void history_row(FILE *f, const snap_t *s, const snap_entry_t *e, long ts)
{
    fprintf(f, "%ld,%llu,", ts, (unsigned long long)s->users);
    report_csv_cell(f, e->method);
    fputc(',', f);
    report_csv_cell(f, e->name);
    fprintf(f, ",%.6f,%.6f", e->cur_rps, e->cur_fps);
    percentiles(f, e);
    fprintf(f, ",%llu,%llu", (unsigned long long)e->requests, (unsigned long long)e->failures);
    ms(f, e->requests ? (double)e->pct_us[SNAP_P50] : 0);
    ms(f, e->avg_us);
    ms(f, (double)e->min_us);
    ms(f, (double)e->max_us);
    fprintf(f, ",%.3f\n", e->requests ? (double)e->content_bytes / (double)e->requests : 0.0);
}

int report_csv_open(report_csv_t *c, const char *prefix, bool full_history, bool raw, char *err,
                    size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->full_history = full_history;
    /* The files in one table: each is created the same way and gets its
     * header at once, so it exists and is valid from the first second. The
     * raw one, last, only when asked for. */
    struct {
        FILE **f;
        const char *suffix, *header;
    } files[] = {
        { &c->stats, "_stats.csv", report_csv_stats_header },
        { &c->history, "_stats_history.csv", report_csv_history_header },
        { &c->failures, "_failures.csv", report_csv_failures_header },
        { &c->exceptions, "_exceptions.csv", report_csv_exceptions_header },
        { &c->stats_raw, "_stats_raw.csv", report_csv_stats_header },
    };
    size_t n_files = sizeof files / sizeof files[0] - (raw ? 0 : 1);
    size_t n = strlen(prefix) + 32;
    char *path = malloc(n);
    if (!path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t opened = 0;
    for (; opened < n_files; opened++) {
        snprintf(path, n, "%s%s", prefix, files[opened].suffix);
        *files[opened].f = outfile_open(path, false, err, errlen);
        if (!*files[opened].f)
            break;
    }
    free(path);
    if (opened < n_files) {
        for (size_t i = 0; i < opened; i++)
            fclose(*files[i].f);
        memset(c, 0, sizeof *c);
        return -1;
    }
    for (size_t i = 0; i < n_files; i++) {
        fprintf(*files[i].f, "%s\n", files[i].header);
        fflush(*files[i].f);
    }
    return 0;
}

static int rewrite(report_csv_t *c, const snap_t *s)
{
    if (outfile_rewind(c->stats) != 0 || outfile_rewind(c->failures) != 0 ||
        (c->stats_raw && outfile_rewind(c->stats_raw) != 0))
        return -1;
    fprintf(c->stats, "%s\n", report_csv_stats_header);
    /* Every endpoint, called or not, as every other output shows them (an
     * uncalled one reads as Locust writes a row without requests: zeros, and
     * N/A for its percentiles). Locust itself adds a row at the first call. */
    for (size_t i = 0; i < snap_row_count(s); i++)
        stats_row(c->stats, snap_row(s, i));
    if (c->stats_raw) {
        fprintf(c->stats_raw, "%s\n", report_csv_stats_header);
        for (size_t i = 0; i < snap_row_count(s); i++) {
            snap_entry_t r = raw_entry(snap_row(s, i));
            stats_row(c->stats_raw, &r);
        }
        if (fflush(c->stats_raw) != 0)
            return -1;
    }

    fprintf(c->failures, "%s\n", report_csv_failures_header);
    for (size_t i = 0; i < s->n_errors; i++) {
        const snap_error_t *e = &s->errors[i];
        report_csv_cell(c->failures, e->method);
        fputc(',', c->failures);
        report_csv_cell(c->failures, e->name);
        fputc(',', c->failures);
        report_csv_cell(c->failures, e->error);
        fprintf(c->failures, ",%llu\n", (unsigned long long)e->count);
    }
    /* _exceptions.csv keeps its header only (see report_csv_exceptions_header):
     * nothing to rewrite, but its stream is checked with the others. */
    if (fflush(c->stats) != 0 || fflush(c->failures) != 0 || fflush(c->exceptions) != 0)
        return -1;
    return 0;
}

int report_csv_update(report_csv_t *c, const snap_t *s)
{
    if (!c->stats)
        return 0;
    int rc = rewrite(c, s);
    long ts = (long)(s->start_unix + (double)s->elapsed_ms / 1000.0);
    /* Without --csv-full-history only the Aggregated row, as Locust writes it. */
    for (size_t i = 0; i < snap_row_count(s); i++)
        if (c->full_history || snap_row_is_total(s, i))
            history_row(c->history, s, snap_row(s, i), ts);
    if (fflush(c->history) != 0 || ferror(c->history) || ferror(c->stats) || ferror(c->failures) ||
        ferror(c->exceptions) || (c->stats_raw && ferror(c->stats_raw)))
        rc = -1;
    return rc;
}

int report_csv_close(report_csv_t *c, const snap_t *s)
{
    if (!c->stats)
        return 0;
    int rc = report_csv_update(c, s);
    if (fclose(c->stats) != 0)
        rc = -1;
    if (fclose(c->history) != 0)
        rc = -1;
    if (fclose(c->failures) != 0)
        rc = -1;
    if (fclose(c->exceptions) != 0)
        rc = -1;
    if (c->stats_raw && fclose(c->stats_raw) != 0)
        rc = -1;
    c->stats = c->history = c->failures = c->exceptions = c->stats_raw = NULL;
    return rc;
}

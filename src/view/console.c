/* console: see include/view/console.h. */
#include "view/console.h"

#include <stdbool.h>
#include <string.h>

#include "util/duration.h"

#define NAME_MIN 24
#define NAME_MAX_W 60

const char *console_ms(uint64_t us, char *buf, size_t len)
{
    double ms = (double)us / 1000.0;
    /* Thresholds on the rounded value, so 999.6 us reads 1.0, not 1.00. */
    if (ms < 0.995)
        snprintf(buf, len, "%.2f", ms);
    else if (ms < 9.95)
        snprintf(buf, len, "%.1f", ms);
    else
        snprintf(buf, len, "%.0f", ms);
    return buf;
}

char *console_sanitize(const char *src, char *dst, size_t len)
{
    /* Control characters (C0, DEL, and C1: U+0080-U+009F, which terminals
     * also obey, 0x9b being an escape of its own) and bytes that are not
     * UTF-8 all become '?': a hostile server cannot move the cursor. */
    size_t j = 0;
    const unsigned char *p = (const unsigned char *)src;
    while (*p && j + 1 < len) {
        unsigned char c = *p;
        size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        bool ok = n > 0;
        for (size_t k = 1; ok && k < n; k++)
            ok = (p[k] & 0xc0) == 0x80;
        if (ok && n == 2 && (c < 0xc2 || (c == 0xc2 && p[1] < 0xa0)))
            ok = false;                 /* overlong, or a C1 control */
        if (ok && n == 1 && (c < 0x20 || c == 0x7f))
            ok = false;
        if (!ok) {
            dst[j++] = '?';
            p++;
            continue;
        }
        if (j + n >= len)
            break;
        memcpy(dst + j, p, n);
        j += n;
        p += n;
    }
    dst[j] = '\0';
    return dst;
}

/* A name fitted into w columns: shortened in the middle when too long. UTF-8
 * continuation bytes are not columns. */
static void fit_name(const char *name, char *out, size_t outlen, int w)
{
    char clean[512];
    console_sanitize(name, clean, sizeof clean);
    int cols = 0;
    for (const char *p = clean; *p; p++)
        cols += ((unsigned char)*p & 0xc0) != 0x80;
    if (cols <= w) {
        snprintf(out, outlen, "%s", clean);
        return;
    }
    /* Keep the head and the tail, which is where paths differ. */
    int head = (w - 3) / 2, tail = w - 3 - head, c = 0;
    size_t j = 0;
    const char *p = clean;
    for (; *p && c < head; p++) {
        if (((unsigned char)*p & 0xc0) != 0x80)
            c++;
        if (c <= head && j + 1 < outlen)
            out[j++] = *p;
    }
    while (*p && ((unsigned char)*p & 0xc0) == 0x80)
        p++;
    const char *end = clean + strlen(clean), *q = end;
    for (c = 0; q > clean && c < tail;) {
        q--;
        if (((unsigned char)*q & 0xc0) != 0x80)
            c++;
    }
    j += (size_t)snprintf(out + j, outlen - j, "...%s", q);
    (void)j;
}

/* printf pads by bytes; pad by columns so UTF-8 names line up. */
static void print_padded(FILE *f, const char *s, int w)
{
    int cols = 0;
    for (const char *p = s; *p; p++)
        cols += ((unsigned char)*p & 0xc0) != 0x80;
    fputs(s, f);
    for (; cols < w; cols++)
        fputc(' ', f);
}

static int name_width(const snap_t *s)
{
    int w = NAME_MIN;
    for (size_t i = 0; i < s->n_entries; i++) {
        int len = (int)strlen(s->entries[i].name);
        if (len > w)
            w = len;
    }
    return w > NAME_MAX_W ? NAME_MAX_W : w;
}

static void rule(FILE *f, int nw)
{
    fputs("--------|", f);
    for (int i = 0; i < nw + 1; i++)
        fputc('-', f);
    fputs("|---------|-----------------|---------|---------|---------|---------|-------|----------|-----------\n", f);
}

static void stats_row(FILE *f, const snap_entry_t *e, int nw, int current)
{
    char name[512], med[32], avg[32], min[32], max[32], fails[48];
    fit_name(e->name, name, sizeof name, nw);
    double pct = e->requests ? 100.0 * (double)e->failures / (double)e->requests : 0;
    snprintf(fails, sizeof fails, "%llu(%.2f%%)", (unsigned long long)e->failures, pct);
    fprintf(f, "%-8s ", e->method);
    print_padded(f, name, nw);
    if (e->requests) {
        console_ms(e->pct_us[SNAP_P50], med, sizeof med);
        console_ms((uint64_t)(e->avg_us + 0.5), avg, sizeof avg);
        console_ms(e->min_us, min, sizeof min);
        console_ms(e->max_us, max, sizeof max);
    } else {
        strcpy(med, "-");
        strcpy(avg, "-");
        strcpy(min, "-");
        strcpy(max, "-");
    }
    double size = e->requests ? (double)e->content_bytes / (double)e->requests : 0;
    fprintf(f, " | %7llu | %15s | %7s | %7s | %7s | %7s | %5.0f | %8.2f | %9.2f\n",
            (unsigned long long)e->requests, fails, med, avg, min, max, size,
            current ? e->cur_rps : e->total_rps, current ? e->cur_fps : e->total_fps);
}

static void stats_table(FILE *f, const snap_t *s, int current)
{
    int nw = name_width(s);
    fprintf(f, "%-8s ", "Type");
    print_padded(f, "Name", nw);
    fprintf(f, " | %7s | %15s | %7s | %7s | %7s | %7s | %5s | %8s | %9s\n", "# reqs",
            "# fails", "Med ms", "Avg ms", "Min ms", "Max ms", "Size",
            current ? "req/s" : "req/s", current ? "fail/s" : "fail/s");
    rule(f, nw);
    for (size_t i = 0; i < s->n_entries; i++)
        stats_row(f, &s->entries[i], nw, current);
    rule(f, nw);
    stats_row(f, &s->total, nw, current);
}

static void clock_of(uint64_t ms, char *buf, size_t len)
{
    uint64_t t = ms / 1000;
    snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(t / 3600),
             (unsigned long long)(t / 60 % 60), (unsigned long long)(t % 60));
}

void console_print_health(FILE *f, const snap_t *s)
{
    fprintf(f, "generator: %s client, %scpu %.0f%% lag %.1fms", s->client ? s->client : "libcurl",
            s->n_workers ? "main process " : "", s->self.cpu_pct, s->self.lag_ms);
    for (unsigned i = 0; i < s->n_workers; i++) {
        const snap_worker_t *w = &s->workers[i];
        if (w->alive)
            fprintf(f, "; worker %u: %llu users, cpu %.0f%% lag %.1fms", i,
                    (unsigned long long)w->users, w->cpu_pct, w->lag_ms);
        else
            fprintf(f, "; worker %u: gone", i);
    }
    fprintf(f, "%s\n", s->overloaded ? "  [hopper itself is the bottleneck]" : "");
}

void console_print_stats(FILE *f, const snap_t *s)
{
    char el[32], rt[32], host[256];
    clock_of(s->elapsed_ms, el, sizeof el);
    console_sanitize(s->host ? s->host : "", host, sizeof host);
    fprintf(f, "[%s] %s %s%s, users %llu/%llu, spawn rate %g/s", el, host,
            snap_state_name(s->state), s->paused ? " (paused)" : "",
            (unsigned long long)s->users, (unsigned long long)s->target_users, s->spawn_rate);
    if (s->run_time_ms) {
        uint64_t left = s->run_time_ms > s->elapsed_ms ? s->run_time_ms - s->elapsed_ms : 0;
        fprintf(f, ", %s left", duration_format(left * 1000, rt, sizeof rt));
    }
    fprintf(f, "  (req/s and fail/s: last 10 s)\n");
    console_print_health(f, s);
    stats_table(f, s, 1);
    fputc('\n', f);
    fflush(f);
}

static void percentile_table(FILE *f, const snap_t *s)
{
    int nw = name_width(s);
    fprintf(f, "%-8s ", "Type");
    print_padded(f, "Name", nw);
    for (int i = 0; i < SNAP_NPCT; i++)
        fprintf(f, " %7s", snap_pct_label[i]);
    fprintf(f, " %8s\n", "# reqs");
    fputs("--------|", f);
    for (int i = 0; i < nw; i++)
        fputc('-', f);
    for (int i = 0; i < SNAP_NPCT; i++)
        fputs("|-------", f);
    fputs("|--------\n", f);
    for (size_t i = 0; i <= s->n_entries; i++) {
        const snap_entry_t *e = i < s->n_entries ? &s->entries[i] : &s->total;
        if (e->requests == 0)
            continue;       /* nothing to say about an endpoint never called */
        char name[512], v[32];
        fit_name(e->name, name, sizeof name, nw);
        fprintf(f, "%-8s ", e->method);
        print_padded(f, name, nw);
        for (int k = 0; k < SNAP_NPCT; k++)
            fprintf(f, " %7s", console_ms(e->pct_us[k], v, sizeof v));
        fprintf(f, " %8llu\n", (unsigned long long)e->requests);
    }
}

void console_print_summary(FILE *f, const snap_t *s)
{
    char el[32], host[256];
    console_sanitize(s->host ? s->host : "", host, sizeof host);
    fprintf(f, "\n=== hopper summary: %s, %s of statistics ===\n", host,
            duration_format(s->stats_ms * 1000, el, sizeof el));
    fprintf(f, "Response time statistics (req/s and fail/s: whole-run averages; times in ms)\n");
    stats_table(f, s, 0);
    fprintf(f, "\nResponse time percentiles (ms)\n");
    percentile_table(f, s);

    fprintf(f, "\nError report\n");
    if (s->n_errors == 0) {
        fprintf(f, "no failures\n");
    } else {
        fprintf(f, "%-14s | %s\n", "# occurrences", "Error");
        fputs("---------------|------------------------------------------------------------\n", f);
        for (size_t i = 0; i < s->n_errors; i++) {
            const snap_error_t *e = &s->errors[i];
            char name[512], err[SNAP_ERROR_TEXT];
            console_sanitize(e->name, name, sizeof name);
            console_sanitize(e->error, err, sizeof err);
            fprintf(f, "%-14llu | %s %s: %s\n", (unsigned long long)e->count, e->method, name, err);
        }
    }
    fputc('\n', f);
    char rt[32];
    fprintf(f, "Run: %s, %llu requests (%llu failed), peak %llu users (target %llu)",
            duration_format(s->elapsed_ms * 1000, rt, sizeof rt),
            (unsigned long long)s->total.requests, (unsigned long long)s->total.failures,
            (unsigned long long)s->peak_users, (unsigned long long)s->target_users);
    if (s->cancelled)
        fprintf(f, "; %llu requests in flight at the stop were cancelled and are not counted",
                (unsigned long long)s->cancelled);
    if (s->spawn_failures)
        fprintf(f, "; %llu users could not be started", (unsigned long long)s->spawn_failures);
    fputs("\n", f);
    if (s->out_of_fds)
        fprintf(f, "Warning: %llu requests failed because hopper ran out of file descriptors "
                "(ulimit -n): fewer users, more --workers, or a higher limit\n",
                (unsigned long long)s->out_of_fds);
    if (s->out_of_ports)
        fprintf(f, "Warning: %llu requests failed because hopper ran out of local ports: add "
                "local addresses with --source-addrs\n", (unsigned long long)s->out_of_ports);
    if (s->overloaded)
        fprintf(f, "Warning: hopper itself was the bottleneck at the end (see the generator "
                "line): response times include its own delay\n");
    fflush(f);
}

void console_print_checks(FILE *f, const check_result_t *r, size_t n)
{
    if (n == 0)
        return;
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += !r[i].passed;
    fprintf(f, "\nChecks: %zu of %zu passed%s\n", n - failed, n, failed ? " (exit status 3)" : "");
    for (size_t i = 0; i < n; i++) {
        char text[256];
        console_sanitize(r[i].check->text, text, sizeof text);
        fprintf(f, "%s  %s  (measured %s)\n", r[i].passed ? "PASS" : "FAIL", text, r[i].measured);
    }
    fflush(f);
}

/* console: see include/view/console.h. */
#include "view/console.h"

#include <stdbool.h>
#include <string.h>

#include "plan/stages.h"
#include "util/duration.h"
#include "util/text.h"

#define NAME_MIN 24
#define NAME_MAX_W 60
/* The corrected-and-raw table is meant for an 80-column terminal: 8 for the
 * method, this for the name, 10 for the kind, 5 times 8 for the times. */
#define DUAL_NAME_W 21

/* A name fitted into w columns, made safe to print first (names come from a
 * hopperfile, not from a server, but may hold a tab). */
static void fit_name(const char *name, char *out, size_t outlen, int w)
{
    char clean[512];
    text_sanitize(name, clean, sizeof clean);
    text_fit_middle_with(clean, w, "...", out, outlen);
}

/* printf pads by bytes; pad by columns so UTF-8 names line up. */
static void print_padded(FILE *f, const char *s, int w)
{
    int cols = text_columns(s);
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
    if (snap_row_has_times(e)) {
        text_ms(e->pct_us[SNAP_P50], med, sizeof med);
        text_ms((uint64_t)(e->avg_us + 0.5), avg, sizeof avg);
        text_ms(e->min_us, min, sizeof min);
        text_ms(e->max_us, max, sizeof max);
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
    for (size_t i = 0; i < snap_row_count(s); i++) {
        if (snap_row_is_total(s, i))
            rule(f, nw);
        stats_row(f, snap_row(s, i), nw, current);
    }
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

/* What the stages count in this run (plan/stages.h writes their text). */
static stages_unit_t shape_unit(const snap_t *s)
{
    return s->open ? STAGES_RATE : STAGES_USERS;
}

/* Stage i as --stages reads it, its start written when it ramps:
 * "1m:0-500/s", "1m30s:100". */
static const char *stage_text(const snap_t *s, size_t i, stages_context_t ctx, char *buf,
                              size_t len)
{
    const snap_stage_t *st = &s->stages[i];
    return stages_stage_describe(st->dur_us, st->from, st->from_set, st->to, shape_unit(s), ctx,
                                 buf, len);
}

/* The stage running now and the time left in it, for the status lines. */
static void stage_line(FILE *f, const snap_t *s)
{
    if (s->n_stages == 0 || s->stages == NULL)
        return;
    if (s->stage >= s->n_stages) {
        fprintf(f, "stages: all %zu done\n", s->n_stages);
        return;
    }
    char what[128], left[32];
    fprintf(f, "stage %zu of %zu: %s%s, %s left%s\n", s->stage + 1, s->n_stages,
            stage_text(s, s->stage, STAGES_ALONE, what, sizeof what), s->open ? "" : " users",
            duration_format(s->stage_left_ms * 1000, left, sizeof left),
            s->manual ? "; manual: a key has taken over until the next stage" : "");
}

static double ratio_pct(uint64_t part, uint64_t whole)
{
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* The schedule lag in one line, and a plain word when it is high. */
static void lag_line(FILE *f, const snap_t *s)
{
    if (!s->dual)
        return;
    if (s->lag_count == 0) {
        fprintf(f, "Schedule lag (how late hopper started what was due): nothing was due yet\n");
        return;
    }
    char p50[32], p99[32], max[32];
    fprintf(f, "Schedule lag (how late hopper started what was due): p50 %s ms, p99 %s ms, "
            "max %s ms over %llu sends\n", text_ms(s->lag_pct_us[SNAP_P50], p50, sizeof p50),
            text_ms(s->lag_pct_us[SNAP_P99], p99, sizeof p99),
            text_ms(s->lag_max_us, max, sizeof max), (unsigned long long)s->lag_count);
    if (snap_lag_high(s))
        fprintf(f, "  The schedule lag is high: hopper, not the server, is behind, and the "
                "corrected times include its delay (fewer users per process, or --workers)\n");
}

/* The corrected and the raw response times of each row, one under the
 * other, in 80 columns. */
static void dual_table(FILE *f, const snap_t *s)
{
    fprintf(f, "Response times (ms): corrected = from the intended start, raw = from the send\n");
    fprintf(f, "%-7s ", "Type");
    print_padded(f, "Name", DUAL_NAME_W);
    fprintf(f, " %-9s %7s %7s %7s %7s %7s\n", "Latency", "Med", "Avg", "p95", "p99", "Max");
    fputs("------- ", f);
    for (int i = 0; i < DUAL_NAME_W; i++)
        fputc('-', f);
    fputs(" --------- ------- ------- ------- ------- -------\n", f);
    for (size_t i = 0; i < snap_row_count(s); i++) {
        const snap_entry_t *e = snap_row(s, i);
        if (!snap_row_has_times(e))
            continue;
        char name[512], med[32], avg[32], p95[32], p99[32], max[32];
        fit_name(e->name, name, sizeof name, DUAL_NAME_W);
        fprintf(f, "%-7s ", e->method);
        print_padded(f, name, DUAL_NAME_W);
        fprintf(f, " %-9s %7s %7s %7s %7s %7s\n", "corrected",
                text_ms(e->pct_us[SNAP_P50], med, sizeof med),
                text_ms((uint64_t)(e->avg_us + 0.5), avg, sizeof avg),
                text_ms(e->pct_us[SNAP_P95], p95, sizeof p95),
                text_ms(e->pct_us[SNAP_P99], p99, sizeof p99), text_ms(e->max_us, max, sizeof max));
        fprintf(f, "%-7s ", "");
        print_padded(f, "", DUAL_NAME_W);
        fprintf(f, " %-9s %7s %7s %7s %7s %7s\n", "raw",
                text_ms(e->raw_pct_us[SNAP_P50], med, sizeof med),
                text_ms((uint64_t)(e->raw_avg_us + 0.5), avg, sizeof avg),
                text_ms(e->raw_pct_us[SNAP_P95], p95, sizeof p95),
                text_ms(e->raw_pct_us[SNAP_P99], p99, sizeof p99),
                text_ms(e->raw_max_us, max, sizeof max));
    }
}

/* The open model's arrivals now and in all, for the status lines. */
static void arrivals_line(FILE *f, const snap_t *s)
{
    if (!s->open)
        return;
    fprintf(f, "arrivals: %.1f/s started, %.1f/s dropped (last 10 s); %llu started, %llu dropped "
            "(%.2f%%) in all\n", s->cur_arrival_rate, s->cur_drop_rate,
            (unsigned long long)s->arrivals, (unsigned long long)s->dropped,
            ratio_pct(s->dropped, s->arrivals + s->dropped));
}

void console_print_stats(FILE *f, const snap_t *s)
{
    char el[32], rt[32], host[256];
    text_clock_hms(s->elapsed_ms, el, sizeof el);
    text_sanitize(s->host ? s->host : "", host, sizeof host);
    fprintf(f, "[%s] %s %s%s, ", el, host, snap_state_name(s->state), s->paused ? " (paused)" : "");
    char rate[48];
    if (s->open)
        fprintf(f, "open model at %s%s, users %llu busy of %llu pooled (max %llu)",
                stages_rate_describe(s->arrival_rate, STAGES_SHORT, rate, sizeof rate),
                s->poisson ? " (poisson)" : "", (unsigned long long)s->users,
                (unsigned long long)s->pool_users, (unsigned long long)s->max_users);
    else
        fprintf(f, "users %llu/%llu, spawn rate %g/s", (unsigned long long)s->users,
                (unsigned long long)s->target_users, s->spawn_rate);
    if (s->not_logged_in)
        fprintf(f, ", %llu not logged in ([on-start] has not passed)",
                (unsigned long long)s->not_logged_in);
    if (s->run_time_ms) {
        uint64_t left = s->run_time_ms > s->elapsed_ms ? s->run_time_ms - s->elapsed_ms : 0;
        fprintf(f, ", %s left", duration_format(left * 1000, rt, sizeof rt));
    }
    fprintf(f, "  (req/s and fail/s: last 10 s)\n");
    if (s->state == RUN_STOPPING) {
        char progress[160];
        fprintf(f, "%s; Ctrl-C again: cancel them now\n",
                snap_stop_progress(s, progress, sizeof progress));
    }
    stage_line(f, s);
    arrivals_line(f, s);
    console_print_health(f, s);
    lag_line(f, s);
    stats_table(f, s, 1);
    if (s->dual) {
        fputc('\n', f);
        dual_table(f, s);
    }
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
    for (size_t i = 0; i < snap_row_count(s); i++) {
        const snap_entry_t *e = snap_row(s, i);
        if (!snap_row_has_times(e))
            continue;       /* nothing to say about an endpoint never called */
        char name[512], v[32];
        fit_name(e->name, name, sizeof name, nw);
        fprintf(f, "%-8s ", e->method);
        print_padded(f, name, nw);
        for (int k = 0; k < SNAP_NPCT; k++)
            fprintf(f, " %7s", text_ms(e->pct_us[k], v, sizeof v));
        fprintf(f, " %8llu\n", (unsigned long long)e->requests);
        if (!s->dual)
            continue;
        /* The raw row under its corrected one, named so in the Name column. */
        fprintf(f, "%-8s ", "");
        print_padded(f, "  raw (from the send)", nw);
        for (int k = 0; k < SNAP_NPCT; k++)
            fprintf(f, " %7s", text_ms(e->raw_pct_us[k], v, sizeof v));
        fprintf(f, " %8llu\n", (unsigned long long)e->requests);
    }
}

/* The stages as the plan wrote them ("30s:100, 1m:500"), and where the run
 * stopped if it stopped before their end. */
static void stage_list(FILE *f, const snap_t *s)
{
    for (size_t i = 0; i < s->n_stages; i++) {
        char one[192];
        fprintf(f, "%s%s", i ? STAGES_SEPARATOR : "",
                stage_text(s, i, STAGES_IN_LIST, one, sizeof one));
    }
    if (s->stage < s->n_stages && s->stage_left_ms > 0) {
        char left[32];
        fprintf(f, " (stopped in stage %zu, %s before its end)", s->stage + 1,
                duration_format(s->stage_left_ms * 1000, left, sizeof left));
    }
}

/* The load shape in the summary: the open model's target (its stages, or
 * the rate in force at the end), arrivals and pool; the closed model's
 * stages. */
static void shape_summary(FILE *f, const snap_t *s)
{
    bool stages = s->n_stages && s->stages;
    if (s->open) {
        double secs = (double)s->stats_ms / 1000.0;
        char rate[48];
        if (stages) {
            fputs("Open model: stages ", f);
            stage_list(f, s);
        } else {
            fprintf(f, "Open model: target %s",
                    stages_rate_describe(s->arrival_rate, STAGES_EXACT, rate, sizeof rate));
        }
        fprintf(f, ", %s arrivals: %llu started (%.1f/s achieved), %llu dropped (%.2f%%)\n",
                s->poisson ? "poisson" : "even",
                (unsigned long long)s->arrivals, secs > 0 ? (double)s->arrivals / secs : 0.0,
                (unsigned long long)s->dropped, ratio_pct(s->dropped, s->arrivals + s->dropped));
        if (s->dropped)
            fprintf(f, "Dropped arrivals found no free user in the pool (max-users %llu): they "
                    "were never sent, and are in no response time\n",
                    (unsigned long long)s->max_users);
    } else if (stages) {
        fprintf(f, "Stages (%s): ", stages_unit_name(STAGES_USERS));
        stage_list(f, s);
        fputc('\n', f);
    }
}

void console_print_summary(FILE *f, const snap_t *s)
{
    char el[32], host[256];
    text_sanitize(s->host ? s->host : "", host, sizeof host);
    fprintf(f, "\n=== hopper summary: %s, %s of statistics ===\n", host,
            duration_format(s->stats_ms * 1000, el, sizeof el));
    fprintf(f, "Response time statistics (req/s and fail/s: whole-run averages; times in ms%s)\n",
            s->dual ? ", corrected to the intended start" : "");
    stats_table(f, s, 0);
    if (s->dual) {
        fputc('\n', f);
        dual_table(f, s);
    }
    if (s->dual)
        fprintf(f, "\nResponse time percentiles (ms): corrected (from the intended start), "
                "then raw (from the send)\n");
    else
        fprintf(f, "\nResponse time percentiles (ms)\n");
    percentile_table(f, s);
    if (s->dual) {
        fputc('\n', f);
        lag_line(f, s);
    }

    fprintf(f, "\nError report\n");
    if (s->n_errors == 0) {
        fprintf(f, "no failures\n");
    } else {
        fprintf(f, "%-14s | %s\n", "# occurrences", "Error");
        fputs("---------------|------------------------------------------------------------\n", f);
        for (size_t i = 0; i < s->n_errors; i++) {
            const snap_error_t *e = &s->errors[i];
            /* stats cleaned the error text as it recorded it; cleaning it
             * again costs nothing next to a terminal taking orders from a
             * snapshot filled some other way (a test's, a future source). */
            char name[512], err[SNAP_ERROR_TEXT];
            text_sanitize(e->name, name, sizeof name);
            text_sanitize(e->error, err, sizeof err);
            fprintf(f, "%-14llu | %s %s: %s\n", (unsigned long long)e->count, e->method, name, err);
        }
    }
    fputc('\n', f);
    char rt[32];
    fprintf(f, "Run: %s, %llu requests (%llu failed), peak %llu users ",
            duration_format(s->elapsed_ms * 1000, rt, sizeof rt),
            (unsigned long long)s->total.requests, (unsigned long long)s->total.failures,
            (unsigned long long)s->peak_users);
    if (s->open)
        fprintf(f, "(pool max %llu)", (unsigned long long)s->max_users);
    else
        fprintf(f, "(target %llu)", (unsigned long long)s->target_users);
    if (s->spawn_failures)
        fprintf(f, "; %llu users could not be started", (unsigned long long)s->spawn_failures);
    if (s->not_logged_in)
        fprintf(f, "; %llu users were not logged in at the stop ([on-start] had not passed)",
                (unsigned long long)s->not_logged_in);
    fputs("\n", f);
    shape_summary(f, s);
    if (s->data_exhausted)
        fprintf(f, "Data: a data file with order = unique ran out of rows; the test stopped "
                "there\n");
    /* What the stop did to the requests in flight: the drained ones are in
     * every count above; the cancelled ones in none (the server may have
     * answered them). */
    if (s->drained || s->cancelled)
        fprintf(f, "At the stop: %llu requests in flight finished and are counted, %llu were "
                "cancelled and are not counted\n", (unsigned long long)s->drained,
                (unsigned long long)s->cancelled);
    /* Retries are not requests of their own, but the server may have seen
     * each one: say so, with the sum it may have counted. */
    if (s->retries)
        fprintf(f, "Retries: %llu requests went out again on a new connection after a kept-alive "
                "one closed without an answer (the server may have seen %llu)\n",
                (unsigned long long)s->retries,
                (unsigned long long)(s->total.requests + s->retries));
    if (s->tls_handshakes)
        fprintf(f, "TLS: %llu handshakes, %llu of them resumed a session\n",
                (unsigned long long)s->tls_handshakes, (unsigned long long)s->tls_resumed);
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
        text_sanitize(r[i].check->text, text, sizeof text);
        fprintf(f, "%s  %s  (measured %s)\n", r[i].passed ? "PASS" : "FAIL", text, r[i].measured);
    }
    fflush(f);
}

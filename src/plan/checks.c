/* checks: see include/plan/checks.h. */
#include "plan/checks.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"
#include "util/text.h"
#include "util/xalloc.h"

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool is_time_metric(check_metric_t m)
{
    return m == METRIC_PERCENTILE || m == METRIC_AVG || m == METRIC_MIN || m == METRIC_MAX;
}

/* The metric name at p (up to the operator): returns 0 and the metric. */
static int parse_metric(const char *name, size_t len, check_metric_t *m, double *arg)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, name, len);
    buf[len] = '\0';
    static const struct { const char *name; check_metric_t m; } names[] = {
        {"avg", METRIC_AVG}, {"average", METRIC_AVG}, {"min", METRIC_MIN}, {"max", METRIC_MAX},
        {"fail-ratio", METRIC_FAIL_RATIO}, {"failures", METRIC_FAILURES}, {"rps", METRIC_RPS},
        {"requests", METRIC_REQUESTS},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(buf, names[i].name) == 0) {
            *m = names[i].m;
            *arg = 0;
            return 0;
        }
    if (strcmp(buf, "median") == 0) {
        *m = METRIC_PERCENTILE;
        *arg = 0.5;
        return 0;
    }
    if (buf[0] == 'p' && (isdigit((unsigned char)buf[1]))) {
        char *end;
        errno = 0;
        double p = strtod(buf + 1, &end);
        if (*end || errno)
            return -1;
        /* Only the percentiles every report shows, so that a check and the
         * report it is printed in always agree on the number. */
        for (int i = 0; i < SNAP_NPCT; i++)
            if (fabs(snap_pct_fraction[i] * 100 - p) < 1e-9) {
                *m = METRIC_PERCENTILE;
                *arg = snap_pct_fraction[i];
                return 0;
            }
        return -1;
    }
    return -1;
}

int check_parse(const char *text, check_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char shown[128];
    text_sanitize(text, shown, sizeof shown);
    /* The endpoint part is everything before the last ':' (names may hold
     * colons; the metric part never does). */
    const char *colon = strrchr(text, ':');
    const char *expr = colon ? colon + 1 : text;
    char *method = NULL, *endpoint = NULL;
    if (colon) {
        const char *a = skip_ws(text), *b = colon;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b == a) {
            snprintf(err, errlen, "check '%s': nothing before ':' (write ENDPOINT:METRIC<VALUE)", shown);
            return -1;
        }
        /* "GET /x" names a method too: an upper-case word and a space. */
        const char *sp = a;
        while (sp < b && isupper((unsigned char)*sp))
            sp++;
        if (sp > a && sp < b && *sp == ' ') {
            method = xstrndup(a, (size_t)(sp - a));
            a = skip_ws(sp);
        }
        endpoint = xstrndup(a, (size_t)(b - a));
    }
    expr = skip_ws(expr);
    const char *op = expr;
    while (*op && *op != '<' && *op != '>')
        op++;
    if (!*op) {
        snprintf(err, errlen, "check '%s': no comparison (use <, <=, > or >=, e.g. p95<300ms)", shown);
        goto fail;
    }
    const char *name_end = op;
    while (name_end > expr && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    if (parse_metric(expr, (size_t)(name_end - expr), &out->metric, &out->arg) != 0) {
        snprintf(err, errlen,
                 "check '%s': unknown metric (use p50, p66, p75, p80, p90, p95, p98, p99, p99.9, "
                 "p99.99, p100, median, avg, min, max, fail-ratio, failures, rps or requests)", shown);
        goto fail;
    }
    if (op[0] == '<')
        out->op = op[1] == '=' ? CHECK_LE : CHECK_LT;
    else
        out->op = op[1] == '=' ? CHECK_GE : CHECK_GT;
    const char *val = skip_ws(op + (op[1] == '=' ? 2 : 1));
    char vbuf[64];
    size_t vlen = strlen(val);
    while (vlen && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
        vlen--;
    if (vlen == 0 || vlen >= sizeof vbuf) {
        snprintf(err, errlen, "check '%s': no value after the comparison", shown);
        goto fail;
    }
    memcpy(vbuf, val, vlen);
    vbuf[vlen] = '\0';

    if (is_time_metric(out->metric)) {
        uint64_t us;
        const char *why = NULL;
        if (isdigit((unsigned char)vbuf[vlen - 1]) || vbuf[vlen - 1] == '.') {
            snprintf(err, errlen, "check '%s': a time needs a unit, e.g. %sms", shown, vbuf);
            goto fail;
        }
        if (duration_parse(vbuf, &us, &why) != 0) {
            snprintf(err, errlen, "check '%s': '%s' is not a duration%s%s", shown, vbuf,
                     why ? ": " : "", why ? why : "");
            goto fail;
        }
        out->threshold = (double)us;
    } else {
        char *end;
        errno = 0;
        double v = strtod(vbuf, &end);
        bool pct = *end == '%' && end[1] == '\0';
        if (end == vbuf || errno || !isfinite(v) || v < 0 || (*end && !pct) ||
            (pct && out->metric != METRIC_FAIL_RATIO)) {
            snprintf(err, errlen, "check '%s': '%s' is not a number%s", shown, vbuf,
                     out->metric == METRIC_FAIL_RATIO ? " or a percentage" : "");
            goto fail;
        }
        if (pct)
            v /= 100.0;
        if (out->metric == METRIC_FAIL_RATIO && v > 1) {
            snprintf(err, errlen, "check '%s': a fail ratio is at most 100%% (or 1)", shown);
            goto fail;
        }
        out->threshold = v;
    }
    out->text = xstrdup(text);
    out->method = method;
    out->endpoint = endpoint;
    return 0;
fail:
    free(method);
    free(endpoint);
    memset(out, 0, sizeof *out);
    return -1;
}

void check_free(check_t *c)
{
    free(c->text);
    free(c->method);
    free(c->endpoint);
    memset(c, 0, sizeof *c);
}

int check_endpoint_known(const check_t *c, const char *const *methods, const char *const *names,
                         size_t n, char *err, size_t errlen)
{
    if (!c->endpoint)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], c->endpoint) == 0 && (!c->method || strcmp(methods[i], c->method) == 0))
            return 0;
    /* The endpoints the plan has, as many as fit: a long plan ends in "...". */
    char list[768];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(list + o, sizeof list - o, "%s%s %s", i ? ", " : "", methods[i], names[i]);
        if (w < 0 || (size_t)w >= sizeof list - o - 4) {
            snprintf(list + o, sizeof list - o, "%s...", i ? ", " : "");
            break;
        }
        o += (size_t)w;
    }
    char shown[128], name[128];
    text_sanitize(c->text ? c->text : "", shown, sizeof shown);
    text_sanitize(c->endpoint, name, sizeof name);
    snprintf(err, errlen, "check '%s': the plan has no endpoint '%s%s%s' (its endpoints: %s)",
             shown, c->method ? c->method : "", c->method ? " " : "", name, list);
    return -1;
}

/* The rows a check is about: one named row (all methods of that name added
 * up when no method is given) or the Aggregated row. */
static bool find_rows(const check_t *c, const snap_t *s, snap_entry_t *out)
{
    if (!c->endpoint) {
        *out = s->total;
        return true;
    }
    size_t found = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        const snap_entry_t *e = &s->entries[i];
        if (strcmp(e->name, c->endpoint) != 0 || (c->method && strcmp(e->method, c->method) != 0))
            continue;
        if (found == 0) {
            *out = *e;
        } else {
            /* Several methods under one name: counts and rates add up;
             * latency takes the worse of the rows (no histogram here to merge). */
            out->requests += e->requests;
            out->failures += e->failures;
            out->total_rps += e->total_rps;
            if (e->requests && (e->min_us < out->min_us || out->requests == e->requests))
                out->min_us = e->min_us;
            if (e->max_us > out->max_us)
                out->max_us = e->max_us;
            if (e->avg_us > out->avg_us)
                out->avg_us = e->avg_us;
            for (int k = 0; k < SNAP_NPCT; k++)
                if (e->pct_us[k] > out->pct_us[k])
                    out->pct_us[k] = e->pct_us[k];
        }
        found++;
    }
    return found > 0;
}

void check_eval(const check_t *c, const snap_t *s, check_result_t *out)
{
    memset(out, 0, sizeof *out);
    out->check = c;
    snap_entry_t e;
    if (!find_rows(c, s, &e)) {
        snprintf(out->measured, sizeof out->measured, "no such endpoint");
        return;
    }
    bool needs_requests = c->metric != METRIC_REQUESTS && c->metric != METRIC_FAILURES &&
                          c->metric != METRIC_RPS;
    if (needs_requests && e.requests == 0) {
        snprintf(out->measured, sizeof out->measured, "no requests");
        return;
    }
    double v = 0;
    switch (c->metric) {
    case METRIC_PERCENTILE: {
        int k = 0;
        for (int i = 0; i < SNAP_NPCT; i++)
            if (fabs(snap_pct_fraction[i] - c->arg) < 1e-12)
                k = i;
        v = (double)e.pct_us[k];
        break;
    }
    case METRIC_AVG: v = e.avg_us; break;
    case METRIC_MIN: v = (double)e.min_us; break;
    case METRIC_MAX: v = (double)e.max_us; break;
    case METRIC_FAIL_RATIO: v = (double)e.failures / (double)e.requests; break;
    case METRIC_FAILURES: v = (double)e.failures; break;
    case METRIC_RPS: v = e.total_rps; break;
    case METRIC_REQUESTS: v = (double)e.requests; break;
    }
    out->evaluated = true;
    out->value = v;
    switch (c->op) {
    case CHECK_LT: out->passed = v < c->threshold; break;
    case CHECK_LE: out->passed = v <= c->threshold; break;
    case CHECK_GT: out->passed = v > c->threshold; break;
    case CHECK_GE: out->passed = v >= c->threshold; break;
    }
    if (is_time_metric(c->metric)) {
        char ms[32];
        snprintf(out->measured, sizeof out->measured, "%sms", text_ms((uint64_t)(v + 0.5), ms, sizeof ms));
    } else if (c->metric == METRIC_FAIL_RATIO) {
        snprintf(out->measured, sizeof out->measured, "%.2f%%", v * 100);
    } else if (c->metric == METRIC_RPS) {
        snprintf(out->measured, sizeof out->measured, "%.1f/s", v);
    } else {
        snprintf(out->measured, sizeof out->measured, "%.0f", v);
    }
}

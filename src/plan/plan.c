/* plan: see include/plan/plan.h. */
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/duration.h"
#include "util/xalloc.h"

void plan_init(plan_t *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->users = 1;
    plan->spawn_rate = 1.0;
    plan->wait.kind = WAIT_CONSTANT;
    plan->timeout_us = PLAN_DEFAULT_TIMEOUT_US;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void step_free(plan_step_t *s)
{
    free(s->name);
    free(s->method);
    free(s->target);
    tmpl_free(&s->target_t);
    if (s->header_t)
        for (size_t i = 0; i < s->n_headers; i++)
            tmpl_free(&s->header_t[i]);
    free(s->header_t);
    free_strings(s->headers, s->n_headers);
    free(s->body);
    tmpl_free(&s->body_t);
    free(s->expect_status);
    free(s->expect_body);
    for (size_t i = 0; i < s->n_expects; i++)
        expect_free(&s->expects[i]);
    free(s->expects);
    for (size_t i = 0; i < s->n_extracts; i++)
        extract_free(&s->extracts[i]);
    free(s->extracts);
}

void plan_task_free(plan_task_t *t)
{
    free(t->id);
    for (size_t i = 0; i < t->n_steps; i++)
        step_free(&t->steps[i]);
    free(t->steps);
    memset(t, 0, sizeof *t);
}

void plan_free(plan_t *plan)
{
    free(plan->path);
    free(plan->host);
    free_strings(plan->headers, plan->n_headers);
    free_strings(plan->checks, plan->n_checks);
    if (plan->header_t)
        for (size_t i = 0; i < plan->n_headers; i++)
            tmpl_free(&plan->header_t[i]);
    free(plan->header_t);
    for (size_t i = 0; i < plan->n_tasks; i++)
        plan_task_free(&plan->tasks[i]);
    free(plan->tasks);
    plan_task_free(&plan->on_start);
    plan_task_free(&plan->on_stop);
    for (size_t i = 0; i < plan->n_vars; i++) {
        free(plan->vars[i].name);
        free(plan->vars[i].value);
    }
    free(plan->vars);
    for (size_t i = 0; i < plan->n_data; i++)
        data_free(&plan->data[i]);
    free(plan->data);
    free_strings(plan->user_vars, plan->n_user_vars);
    free_strings(plan->warnings, plan->n_warnings);
    if (plan->seq)
        munmap(plan->seq, sizeof *plan->seq);
    free(plan->endpoint_methods);
    free(plan->endpoint_names);
    free(plan->stages);
    plan_init(plan);
}

const char *plan_wait_describe(const wait_spec_t *w, char *buf, size_t len)
{
    char a[32], b[32];
    if (buf == NULL || len == 0)
        return buf;
    switch (w->kind) {
    case WAIT_BETWEEN:
        snprintf(buf, len, "between %s %s", duration_format(w->a_us, a, sizeof a),
                 duration_format(w->b_us, b, sizeof b));
        break;
    case WAIT_PACING:
        snprintf(buf, len, "pacing %s", duration_format(w->a_us, a, sizeof a));
        break;
    case WAIT_THROUGHPUT: {
        /* Plain decimals, never an exponent, no trailing zeros: the text must
         * read back as a hopperfile value ("throughput 1000000/s", "0.5/s",
         * "0.00001/s"). */
        char num[64];
        snprintf(num, sizeof num, "%.9f", w->rate);
        char *end = num + strlen(num) - 1;
        while (end > num && *end == '0')
            *end-- = '\0';
        if (*end == '.')
            *end = '\0';
        snprintf(buf, len, "throughput %s/s", num);
        break;
    }
    case WAIT_CONSTANT:
    default:
        snprintf(buf, len, "constant %s", duration_format(w->a_us, a, sizeof a));
        break;
    }
    return buf;
}

bool plan_intended_starts(const plan_t *plan)
{
    return plan->model == MODEL_OPEN || plan->wait.kind == WAIT_PACING ||
           plan->wait.kind == WAIT_THROUGHPUT;
}

bool plan_status_ok(const plan_step_t *step, long status)
{
    if (step != NULL && step->n_expect_status > 0) {
        for (size_t i = 0; i < step->n_expect_status; i++)
            if (status >= (long)step->expect_status[i].lo &&
                status <= (long)step->expect_status[i].hi)
                return true;
        return false;
    }
    return status >= 100 && status <= 399;
}

void plan_index_endpoints(plan_t *plan)
{
    free(plan->endpoint_methods);
    free(plan->endpoint_names);
    size_t slots = 1;
    for (size_t q = 0; q < plan_n_sequences(plan); q++)
        slots += plan_sequence(plan, q)->n_steps;
    const char **methods = xcalloc(slots, sizeof *methods);
    const char **names = xcalloc(slots, sizeof *names);
    size_t n = 0;
    for (size_t q = 0; q < plan_n_sequences(plan); q++) {
        plan_task_t *t = plan_sequence(plan, q);
        for (size_t k = 0; k < t->n_steps; k++) {
            plan_step_t *st = &t->steps[k];
            size_t e;
            for (e = 0; e < n; e++)
                if (!strcmp(methods[e], st->method) && !strcmp(names[e], st->name))
                    break;
            if (e == n) {
                methods[n] = st->method;
                names[n] = st->name;
                n++;
            }
            st->entry = e;
        }
    }
    plan->endpoint_methods = methods;
    plan->endpoint_names = names;
    plan->n_endpoints = n;
}

void plan_finish(plan_t *plan)
{
    bool plan_dynamic = false;
    for (size_t i = 0; plan->header_t && i < plan->n_headers; i++)
        plan_dynamic |= plan->header_t[i].dynamic;
    for (size_t q = 0; q < plan_n_sequences(plan); q++) {
        plan_task_t *t = plan_sequence(plan, q);
        for (size_t k = 0; k < t->n_steps; k++) {
            plan_step_t *st = &t->steps[k];
            bool dyn = plan_dynamic || st->target_t.dynamic || st->body_t.dynamic;
            for (size_t h = 0; st->header_t && h < st->n_headers; h++)
                dyn |= st->header_t[h].dynamic;
            st->dynamic = dyn;
            st->keep_body = st->keep_headers = false;
            for (size_t e = 0; e < st->n_extracts; e++) {
                st->keep_body |= extract_needs_body(&st->extracts[e]);
                st->keep_headers |= extract_needs_headers(&st->extracts[e]);
            }
            for (size_t e = 0; e < st->n_expects; e++) {
                if (st->expects[e].kind == EXPECT_HEADER)
                    st->keep_headers = true;
                else
                    st->keep_body = true;
            }
        }
    }
    plan_index_endpoints(plan);
}

int plan_check_data(const plan_t *plan, uint64_t users, char *err, size_t errlen)
{
    for (size_t d = 0; d < plan->n_data; d++) {
        const data_source_t *src = &plan->data[d];
        /* Every user draws a row of each file when it starts, per = user
         * or per = iteration alike. */
        /* An MPI rank: its part of the rows, for its part of the users. */
        size_t rows = src->windowed ? src->rows : src->n_rows;
        if (src->order != DATA_UNIQUE || users <= rows)
            continue;
        snprintf(err, errlen, "%s:%u: data '%s' has %zu rows%s, and with order = unique each of "
                 "the %llu users needs a row of its own when it starts (use fewer users, "
                 "more rows, or another order)", plan->path ? plan->path : "(hopperfile)",
                 src->line, src->name, rows, src->windowed ? " for this rank" : "",
                 (unsigned long long)users);
        return -1;
    }
    return 0;
}

void plan_window(plan_t *plan, unsigned index, unsigned count, unsigned first, unsigned slots,
                 unsigned total)
{
    plan->seq_rank = index;
    plan->seq_ranks = count;
    for (size_t d = 0; d < plan->n_data; d++)
        data_window(&plan->data[d], first, slots, total);
}

int plan_share(plan_t *plan, uint64_t seed, char *err, size_t errlen)
{
    if (plan->seq == NULL) {
        void *m = mmap(NULL, sizeof *plan->seq, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                       -1, 0);
        if (m == MAP_FAILED) {
            snprintf(err, errlen, "cannot map shared memory for {{seq}}");
            return -1;
        }
        plan->seq = m;
    }
    for (size_t d = 0; d < plan->n_data; d++)
        if (data_share(&plan->data[d], seed + d, err, errlen) != 0)
            return -1;
    return 0;
}

/* plan: see include/plan/plan.h. */
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void task_free(plan_task_t *t)
{
    free(t->id);
    free(t->name);
    free(t->method);
    free(t->target);
    free_strings(t->headers, t->n_headers);
    free(t->body);
    free(t->expect_status);
    free(t->expect_body);
}

void plan_free(plan_t *plan)
{
    free(plan->path);
    free(plan->host);
    free_strings(plan->headers, plan->n_headers);
    free_strings(plan->checks, plan->n_checks);
    for (size_t i = 0; i < plan->n_tasks; i++)
        task_free(&plan->tasks[i]);
    free(plan->tasks);
    free(plan->endpoint_methods);
    free(plan->endpoint_names);
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

bool plan_status_ok(const plan_task_t *task, long status)
{
    if (task != NULL && task->n_expect_status > 0) {
        for (size_t i = 0; i < task->n_expect_status; i++)
            if (status >= (long)task->expect_status[i].lo &&
                status <= (long)task->expect_status[i].hi)
                return true;
        return false;
    }
    return status >= 100 && status <= 399;
}

void plan_index_endpoints(plan_t *plan)
{
    free(plan->endpoint_methods);
    free(plan->endpoint_names);
    size_t slots = plan->n_tasks ? plan->n_tasks : 1;
    const char **methods = xcalloc(slots, sizeof *methods);
    const char **names = xcalloc(slots, sizeof *names);
    size_t n = 0;
    for (size_t i = 0; i < plan->n_tasks; i++) {
        const plan_task_t *t = &plan->tasks[i];
        size_t e;
        for (e = 0; e < n; e++)
            if (!strcmp(methods[e], t->method) && !strcmp(names[e], t->name))
                break;
        if (e == n) {
            methods[n] = t->method;
            names[n] = t->name;
            n++;
        }
        plan->tasks[i].entry = e;
    }
    plan->endpoint_methods = methods;
    plan->endpoint_names = names;
    plan->n_endpoints = n;
}

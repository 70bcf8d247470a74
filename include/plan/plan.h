/* plan: the test plan, as plain data.
 *
 * A plan is what a hopperfile says (and the command line overrides): where to
 * send load, how many users, how they wait, and the weighted tasks they pick
 * from. hopperfile_parse() fills one; cli merges options into it; the engine
 * reads it once at start and prepares each task's request from it. Nothing here
 * is touched on the hot path. All strings are owned by the plan (plan_free). */
#ifndef HOPPER_PLAN_H
#define HOPPER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAN_DEFAULT_TIMEOUT_US (60ULL * 1000000ULL)

/* Locust's wait_time functions, with the same semantics. */
typedef enum {
    WAIT_CONSTANT,   /* a_us after each task (Locust's default is constant 0) */
    WAIT_BETWEEN,    /* uniform in [a_us, b_us], drawn after each task */
    WAIT_PACING,     /* start-to-start spacing a_us: wait max(0, a_us - task time) */
    WAIT_THROUGHPUT  /* rate tasks/s per user: pacing of 1/rate, a_us holds 1e6/rate */
} wait_kind_t;

typedef struct {
    wait_kind_t kind;
    uint64_t a_us;
    uint64_t b_us;
    double rate;     /* WAIT_THROUGHPUT only: tasks per second per user, as written */
} wait_spec_t;

/* One inclusive range of accepted HTTP statuses ("200-299" or "304" as 304-304). */
typedef struct {
    unsigned lo;
    unsigned hi;
} status_range_t;

typedef struct {
    char *id;              /* the section name: [task ID] */
    char *name;            /* statistics row name; defaults to target as written */
    char *method;          /* upper-case token, e.g. "GET" */
    char *target;          /* path ("/status") or absolute URL, as written */
    unsigned weight;       /* default 1; 0 means the task is never picked */
    char **headers;        /* "Name: value", n_headers of them */
    size_t n_headers;
    char *body;            /* inline body or the body-file's bytes; NULL if none */
    size_t body_len;
    status_range_t *expect_status; /* NULL/0: any status below 400 passes */
    size_t n_expect_status;
    char *expect_body;     /* substring the body must contain; NULL if none */
    uint64_t timeout_us;   /* 0: use the plan's timeout */
    unsigned line;         /* line of the [task] header, for messages */
    size_t entry;          /* its statistics row (plan_index_endpoints) */
} plan_task_t;

typedef struct {
    char *path;            /* the hopperfile's path, for messages */
    char *host;            /* base URL, e.g. "http://127.0.0.1:8082"; NULL if unset */
    uint64_t users;        /* default 1 */
    double spawn_rate;     /* users per second; default 1 */
    uint64_t run_time_us;  /* 0: run until stopped */
    wait_spec_t wait;      /* default constant 0 */
    uint64_t timeout_us;   /* per request, default 60 s */
    char **headers;        /* sent with every request */
    size_t n_headers;
    char **checks;         /* pass/fail checks as written ("p95<300ms"); see checks.h */
    size_t n_checks;
    plan_task_t *tasks;
    size_t n_tasks;
    /* The statistics rows, one per distinct (method, name): see
     * plan_index_endpoints. */
    const char **endpoint_methods, **endpoint_names;
    size_t n_endpoints;
    /* Which top-level keys the file set, so the command line can tell a
     * default from a choice (and so can error messages). */
    bool host_set, users_set, spawn_rate_set, run_time_set, wait_set, timeout_set;
} plan_t;

/* Fills *plan with defaults and no tasks. */
void plan_init(plan_t *plan);

/* Frees everything the plan owns and leaves it as plan_init() would. */
void plan_free(plan_t *plan);

/* The statement of a wait spec as a hopperfile would write it ("between 5s 9s"),
 * into buf; returns buf. */
const char *plan_wait_describe(const wait_spec_t *w, char *buf, size_t len);

/* Works out the statistics rows of a plan, once, when it is complete: one per
 * distinct (method, name) among its tasks, in task order, into
 * endpoint_methods/endpoint_names (pointing into the plan) and each task's
 * entry. hopperfile_parse calls it; everything downstream reads the fields. */
void plan_index_endpoints(plan_t *plan);

/* Whether an HTTP status passes for this task: the task's expect-status list if
 * any, else any status from 100 to 399. */
bool plan_status_ok(const plan_task_t *task, long status);

#endif

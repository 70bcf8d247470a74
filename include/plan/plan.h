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

#include "plan/data.h"
#include "plan/extract.h"
#include "plan/template.h"

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

/* The load model (hopper(1), LOAD MODELS). Closed: a number of users, each
 * asking again after its answer and its wait (Locust's model). Open:
 * iterations arrive on a clock at a rate, each run by a free user of a pool,
 * whatever the answers do (k6's arrival-rate executors, wrk2's schedule). */
typedef enum { MODEL_CLOSED, MODEL_OPEN } load_model_t;

/* How the open model spaces its arrivals: evenly (1/rate apart) or as a
 * Poisson process of that rate (exponential gaps). */
typedef enum { ARRIVALS_EVEN, ARRIVALS_POISSON } arrivals_kind_t;

/* One stage of a load shape (`stages = 30s:100, 1m:0-500/s`): the quantity
 * (users in the closed model, arrivals per second in the open one) goes
 * linearly from `from` to `to` over dur_us. Without an explicit start
 * (from_set false) it goes from wherever the previous stage left it (0 for
 * the first), as k6's ramping executors do; from then holds the previous
 * stage's to (0 for the first), and an engine whose quantity a key moved
 * may start from where it is instead. plan/stages.h parses and reads them. */
typedef struct {
    uint64_t dur_us;       /* > 0 */
    double from, to;       /* users or arrivals per second, >= 0 */
    bool from_set;         /* written "A-B" */
} plan_stage_t;

/* One inclusive range of accepted HTTP statuses ("200-299" or "304" as 304-304). */
typedef struct {
    unsigned lo;
    unsigned hi;
} status_range_t;

/* One request of a task (or of on-start/on-stop), with what it expects of
 * the answer and what it takes from it. Each `request =` in a section starts
 * a step; the keys after it belong to it. */
typedef struct {
    char *name;            /* statistics row name; defaults to target as written */
    char *method;          /* upper-case token, e.g. "GET" */
    char *target;          /* path ("/status") or absolute URL, as written */
    tmpl_t target_t;       /* the target's template (dynamic when it has fields) */
    char **headers;        /* "Name: value", n_headers of them */
    tmpl_t *header_t;      /* each header value's template */
    size_t n_headers;
    char *body;            /* inline body or the body-file's bytes; NULL if none */
    size_t body_len;
    tmpl_t body_t;         /* the body's template (when body is not NULL) */
    status_range_t *expect_status; /* NULL/0: any status below 400 passes */
    size_t n_expect_status;
    char *expect_body;     /* substring the body must contain; NULL if none */
    expect_t *expects;     /* expect-json and expect-header, in order */
    size_t n_expects;
    extract_t *extracts;   /* in order */
    size_t n_extracts;
    wait_spec_t think;     /* the pause after this step before the next one */
    bool has_think;
    bool on_fail_continue; /* on-fail = continue: a failure does not end the iteration */
    uint64_t timeout_us;   /* 0: use the plan's timeout */
    unsigned line;         /* line of its request key, for messages */
    size_t entry;          /* its statistics row (plan_index_endpoints) */
    /* Worked out when the plan is complete (plan_finish): */
    bool dynamic;          /* some template of the request (or a plan header) has fields */
    bool keep_body;        /* an extract or expect-json reads the body */
    bool keep_headers;     /* an extract or expect-header reads the headers */
} plan_step_t;

/* A task: a weighted sequence of steps, run in order as one iteration. The
 * plan's on-start and on-stop are sequences of the same kind. */
typedef struct {
    char *id;              /* the section name: [task ID] ("on-start", "on-stop") */
    unsigned weight;       /* default 1; 0 means the task is never picked */
    plan_step_t *steps;
    size_t n_steps;
    unsigned line;         /* line of the section header, for messages */
} plan_task_t;

/* var = NAME VALUE in the plan, or --var NAME=VALUE (which wins). */
typedef struct {
    char *name;
    char *value;
    unsigned line;         /* 0: from the command line */
} plan_var_t;

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
    tmpl_t *header_t;      /* each plan header value's template */
    plan_task_t *tasks;
    size_t n_tasks;
    plan_task_t on_start;  /* n_steps 0: none */
    plan_task_t on_stop;
    plan_var_t *vars;      /* plan variables after --var */
    size_t n_vars;
    data_source_t *data;   /* [data NAME] sections */
    size_t n_data;
    char **user_vars;      /* per-user variables (set by extracts), by slot */
    size_t n_user_vars;
    uint64_t *seq;         /* {{seq}}: run-wide, in memory shared with workers (plan_share) */
    uint64_t seq_rank, seq_ranks;   /* plan_window: this MPI rank's part (0, 0: all) */
    char **warnings;       /* "PATH:LINE: warning: ..." found while reading, for the operator */
    size_t n_warnings;
    /* The statistics rows, one per distinct (method, name): see
     * plan_index_endpoints. */
    const char **endpoint_methods, **endpoint_names;
    size_t n_endpoints;
    /* Which top-level keys the file set, so the command line can tell a
     * default from a choice (and so can error messages). */
    bool host_set, users_set, spawn_rate_set, run_time_set, wait_set, timeout_set;
    bool http2;            /* protocol = http2 (or --http2): users speak HTTP/2 */
    /* The load shape. model: closed (default) or open. The open model's
     * arrival_rate (arrivals per second; without stages) and its pool bound
     * max_users (0: not given, main works out the default); stages in users
     * (closed) or arrivals per second (open), n_stages 0: none. With stages,
     * run_time_us is their sum unless run-time / -t is given
     * (run_time_set), and in the closed model users is their peak (at
     * least 1; users_set stays false: the stages set it). In the open model
     * users is the pool's initial size. model_line: the line of `model =`
     * (0: not in the file), for the message when the open model has no
     * rate (cli_apply checks that: the command line may give it). */
    load_model_t model;
    double arrival_rate;
    uint64_t max_users;
    arrivals_kind_t arrivals;
    plan_stage_t *stages;
    size_t n_stages;
    bool model_set, arrival_rate_set, max_users_set, arrivals_set;
    unsigned model_line;
} plan_t;

/* Fills *plan with defaults and no tasks. */
void plan_init(plan_t *plan);

/* Frees everything the plan owns and leaves it as plan_init() would. */
void plan_free(plan_t *plan);

/* Frees a task's steps and id and zeroes it. */
void plan_task_free(plan_task_t *t);

/* The statement of a wait spec as a hopperfile would write it ("between 5s 9s"),
 * into buf; returns buf. */
const char *plan_wait_describe(const wait_spec_t *w, char *buf, size_t len);

/* Works out the statistics rows of a plan, once, when it is complete: one per
 * distinct (method, name) among its steps, in plan order (on-start, tasks,
 * on-stop), into
 * endpoint_methods/endpoint_names (pointing into the plan) and each task's
 * step's entry. hopperfile_parse calls it; everything downstream reads the fields. */
void plan_index_endpoints(plan_t *plan);

/* Works out what the engine needs of a complete plan: each step's dynamic,
 * keep_body and keep_headers, and the statistics rows (plan_index_endpoints).
 * hopperfile_parse calls it. */
void plan_finish(plan_t *plan);

/* Whether every `order = unique, per = user` data source has a row for each
 * of users users. 0, or -1 with "PATH:LINE: message" (the [data] line). */
int plan_check_data(const plan_t *plan, uint64_t users, char *err, size_t errlen);

/* Makes the run-wide state of the plan (the {{seq}} counter, each data
 * source's position and shuffle order) shared with worker processes forked
 * later. Once, before the engine starts. 0, or -1 with a message. */
int plan_share(plan_t *plan, uint64_t seed, char *err, size_t errlen);

/* An MPI run's rank index of count, whose workers are slots first .. first
 * + slots - 1 of total (before plan_share): each data source hands out only
 * those slots' parts of the rows (data_window), so `unique` rows are
 * divided exactly across the ranks as the users are, and {{seq}}
 * interleaves so that its numbers stay unique in the run. */
void plan_window(plan_t *plan, unsigned index, unsigned count, unsigned first, unsigned slots,
                 unsigned total);

/* Whether the plan's requests have intended starts (the open model's
 * arrivals, or wait = pacing or throughput): their latencies are then
 * recorded twice, corrected from the intended start and raw from the send,
 * and every output shows both. */
bool plan_intended_starts(const plan_t *plan);

/* Whether an HTTP status passes for this step: the step's expect-status list if
 * any, else any status from 100 to 399. */
bool plan_status_ok(const plan_step_t *step, long status);

/* Every sequence of steps in order: on-start (0), the tasks (1 .. n_tasks),
 * on-stop (n_tasks + 1). */
static inline size_t plan_n_sequences(const plan_t *plan) { return plan->n_tasks + 2; }
static inline plan_task_t *plan_sequence(const plan_t *plan, size_t i)
{
    if (i == 0)
        return (plan_task_t *)&plan->on_start;
    if (i <= plan->n_tasks)
        return &plan->tasks[i - 1];
    return (plan_task_t *)&plan->on_stop;
}

#endif

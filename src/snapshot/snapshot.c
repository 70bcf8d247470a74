/* snapshot: see include/snapshot/snapshot.h. */
#include "snapshot/snapshot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"
#include "util/xalloc.h"

const double snap_pct_fraction[SNAP_NPCT] = {
    0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0};
const char *const snap_pct_label[SNAP_NPCT] = {
    "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"};

const uint64_t snap_le_us[SNAP_LE_N] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10 * 1000000, 30 * 1000000, 60 * 1000000};

_Static_assert(SNAP_DIST_PER_OCTAVE == 4, "snap_dist_bucket compares with quarter-octave edges");

unsigned snap_dist_bucket(uint64_t us)
{
    if (us == 0)
        return 0;
    unsigned e = 63u - (unsigned)__builtin_clzll(us);   /* 2^e <= us < 2^(e+1) */
    /* Which quarter of the octave: compare with 2^(e + k/4), in doubles
     * (exact enough: the edges are irrational, no integer sits on one). */
    double frac = (double)us / ldexp(1.0, (int)e);
    unsigned k = frac >= 1.6817928305074290 ? 3 : frac >= 1.4142135623730951 ? 2
               : frac >= 1.1892071150027210 ? 1 : 0;
    unsigned b = 1 + e * SNAP_DIST_PER_OCTAVE + k;
    return b < SNAP_DIST_BUCKETS ? b : SNAP_DIST_BUCKETS - 1;
}

double snap_dist_lower_us(unsigned b)
{
    return b == 0 ? 0 : exp2((double)(b - 1) / SNAP_DIST_PER_OCTAVE);
}

const char *snap_state_name(run_state_t s)
{
    switch (s) {
    case RUN_STARTING: return "starting";
    case RUN_RAMPING_UP: return "ramping up";
    case RUN_RUNNING: return "running";
    case RUN_RAMPING_DOWN: return "ramping down";
    case RUN_STOPPING: return "stopping";
    case RUN_DONE: return "done";
    }
    return "?";
}

char snap_event_mark(event_kind_t k)
{
    switch (k) {
    case EVENT_TARGET_USERS: return 'U';
    case EVENT_SPAWN_RATE: return 'R';
    case EVENT_PAUSE: return 'P';
    case EVENT_RESET_STATS: return 'Z';
    case EVENT_STOP: return 'S';
    case EVENT_ARRIVAL_RATE: return 'A';
    case EVENT_STAGE: return '|';
    }
    return '?';
}

void snap_init(snap_t *s)
{
    memset(s, 0, sizeof *s);
}

void snap_free(snap_t *s)
{
    free(s->entries);
    free(s->errors);
    free(s->recent);
    free(s->history);
    free(s->events);
    free(s->points);
    snap_init(s);
}

bool snap_lag_high(const snap_t *s)
{
    uint64_t p99 = s->lag_pct_us[SNAP_P99];
    return s->lag_count && p99 >= SNAP_LAG_HIGH_US && p99 * 10 >= s->total.pct_us[SNAP_P99];
}

void *snap_reserve(void *arr, size_t *cap, size_t n, size_t item)
{
    if (n <= *cap)
        return arr;
    size_t c = *cap ? *cap : 16;
    while (c < n)
        c *= 2;
    *cap = c;
    return xrealloc(arr, c * item);
}

size_t snap_row_count(const snap_t *s)
{
    return s->n_entries + 1;
}

const snap_entry_t *snap_row(const snap_t *s, size_t i)
{
    return i < s->n_entries ? &s->entries[i] : &s->total;
}

bool snap_row_is_total(const snap_t *s, size_t i)
{
    return i >= s->n_entries;
}

bool snap_row_has_times(const snap_entry_t *e)
{
    return e->requests > 0;
}

const char *snap_stop_progress(const snap_t *s, char *buf, size_t len)
{
    char limit[32];
    duration_format(s->stop_timeout_ms * 1000, limit, sizeof limit);
    snprintf(buf, len, "stopping: %llu in flight (up to %s), %llu drained, %llu cancelled",
             (unsigned long long)s->in_flight, limit, (unsigned long long)s->drained,
             (unsigned long long)s->cancelled);
    return buf;
}

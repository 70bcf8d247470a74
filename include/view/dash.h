/* dash: the dashboard screen: what it draws and what its keys mean.
 *
 * dash_draw() paints a const snapshot into ncurses' virtual screen and lets
 * ncurses send only what changed (never a clear on a tick). dash_key() turns a
 * key into a command for the test (set users, set spawn rate, set the arrival
 * rate, pause, reset, stop) or into a change of the view (scrolling, panels,
 * help, prompts); it never touches the engine: the caller applies the
 * command.
 *
 * The two load models share the screen. Closed (snap_t.open false): users
 * and their spawn rate, keys w/W/s/S/u and +/-/r for them. Open: arrivals on
 * a clock, +/- step the arrival rate in 1-2-5 steps and r types one; the
 * users come from the pool, so the user keys only say so. With stages the
 * status line shows the stage and the time left in it, and "manual" once a
 * key has taken over until the next stage (the engine decides that; the
 * dashboard shows snap_t.manual).
 *
 * Rows and views: Up/Down select a row of the table (the Aggregated row
 * too), Enter opens its endpoint view (its charts, percentiles, status
 * codes, errors and distribution), d c l the distribution, status codes and
 * log full screen, t the charts' time span, Esc back to the main screen. The
 * keys that steer the test work in every view. q stops the test (X too,
 * after a y/n question); in a viewer (attached), q leaves the test running
 * and only X stops it. */
#ifndef HOPPER_DASH_H
#define HOPPER_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/checks.h"
#include "view/chart.h"
#include "view/layout.h"
#include "util/log.h"
#include "snapshot/snapshot.h"
#include "view/term.h"

typedef enum {
    DASH_NONE,          /* nothing for the test; the view may have changed */
    DASH_SET_USERS,     /* value: new target user count */
    DASH_SET_RATE,      /* value: new spawn rate */
    DASH_PAUSE,         /* value: 1 pause, 0 resume */
    DASH_RESET,
    DASH_STOP,
    DASH_SET_ARRIVAL_RATE, /* value: new arrival rate, per second (open model) */
    DASH_DETACH         /* a viewer (dash_t.attached) leaves; the test goes on */
} dash_cmd_kind_t;

typedef struct {
    dash_cmd_kind_t kind;
    double value;
} dash_cmd_t;

/* The screens: the main one (table and charts), a row's endpoint view
 * (Enter), and the full-screen panels (d, c, l). Esc goes back to main. */
typedef enum { DASH_VIEW_MAIN, DASH_VIEW_ENDPOINT, DASH_VIEW_DIST, DASH_VIEW_CODES, DASH_VIEW_LOG } dash_view_t;

typedef struct {
    const term_t *term;
    const log_t *log;
    bool attached;              /* a viewer of a test elsewhere: q detaches, X stops */
    layout_t layout;            /* of the last draw */
    size_t scroll;              /* first endpoint row shown */
    size_t sel;                 /* the selected row (snap_row index; the last is Aggregated) */
    bool sel_set;               /* false: Aggregated until a key moves it */
    dash_view_t view;
    chart_zoom_t zoom;
    bool confirm_stop;          /* X asked "stop the test? (y/n)" */
    size_t log_scroll;          /* the log view: lines back from the newest */
    size_t log_scroll_max;      /* as the last draw found it */
    chart_buf_t chart_buf[LAYOUT_MAX_CHARTS]; /* the charts' columns, reused at every draw */
    int chart_label_w;          /* the scale labels' width at the last draw */
    bool show_failures;
    bool failures_chosen;       /* the operator pressed f: no more automatic showing */
    bool help;
    int prompt;                 /* 0, 'u' (target users), 'r' (spawn rate) or
                                 * 'a' (arrival rate: the open model's r) */
    char input[24];
    size_t input_len;
    char flash[LOG_LINE_MAX + 8]; /* feedback for the last key, shown a few seconds */
    uint64_t flash_until_ms;
    unsigned long log_seq;      /* newest log message already flashed */
} dash_t;

void dash_init(dash_t *d, const term_t *term, const log_t *log);

/* Draws the whole screen for s (into stdscr) and refreshes, with the live
 * state of the checks (n may be 0). */
void dash_draw(dash_t *d, const snap_t *s, const check_result_t *checks, size_t n);

/* The selected row (a snap_row index; the last one is Aggregated, the
 * selection until a key moves it), valid for s. */
size_t dash_selected(const dash_t *d, const snap_t *s);

/* Handles one ncurses key with the state in s; returns the command, if any. */
dash_cmd_t dash_key(dash_t *d, int key, const snap_t *s);

/* The open model's +/- on an arrival rate: the next value of 1, 2, 5, 10,
 * 20, 50, ... per second up (dir > 0) or down, from any rate (one between
 * steps goes to the next step that way); 0 below 1, at most max. */
double dash_arrival_step(double rate, int dir, double max);

/* What the open model's r prompt accepts: a rate as --arrival-rate takes it
 * ("300/s", "90/m", "3600/h": plan/stages.h), a bare number in arrivals per
 * second ("300", "2.5"), and 0 (no arrivals for now), spaces around. 0 with
 * the rate per second in *out, or -1 with the reason in err. */
int dash_parse_rate(const char *text, double *out, char *err, size_t errlen);

#endif

/* dash: the dashboard screen: what it draws and what its keys mean.
 *
 * dash_draw() paints a const snapshot into ncurses' virtual screen and lets
 * ncurses send only what changed (never a clear on a tick). dash_key() turns a
 * key into a command for the test (set users, set spawn rate, pause, reset,
 * stop) or into a change of the view (scrolling, panels, help, prompts); it
 * never touches the engine: the caller applies the command. */
#ifndef HOPPER_DASH_H
#define HOPPER_DASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/checks.h"
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
    DASH_STOP
} dash_cmd_kind_t;

typedef struct {
    dash_cmd_kind_t kind;
    double value;
} dash_cmd_t;

typedef struct {
    const term_t *term;
    const log_t *log;
    layout_t layout;            /* of the last draw */
    size_t scroll;              /* first endpoint row shown */
    bool show_failures;
    bool failures_chosen;       /* the operator pressed f: no more automatic showing */
    bool help;
    int prompt;                 /* 0, 'u' (target users) or 'r' (spawn rate) */
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

/* Handles one ncurses key with the state in s; returns the command, if any. */
dash_cmd_t dash_key(dash_t *d, int key, const snap_t *s);

#endif

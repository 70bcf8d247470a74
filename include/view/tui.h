/* tui: the dashboard on the event loop.
 *
 * Owns the terminal (term), the screen (dash) and three libuv handles: a poll
 * on stdin for keys (the engine never blocks on the terminal), a refresh
 * timer, and SIGWINCH for resizes. Snapshots come in and commands go out only
 * through steer_t, which main wires to the engine: the dashboard never
 * sees engine structures.
 *
 * Lifetime: tui_open (embedded struct), the run, tui_close (restores the
 * terminal at once and starts closing the handles; the struct must live until
 * the loop has run their close callbacks). */
#ifndef HOPPER_TUI_H
#define HOPPER_TUI_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "plan/checks.h"
#include "view/dash.h"
#include "util/log.h"
#include "snapshot/snapshot.h"
#include "view/steer.h"
#include "view/term.h"


typedef struct {
    bool ascii;            /* --ascii: no Unicode block characters */
    bool no_color;         /* --no-color */
    uint64_t refresh_ms;   /* --refresh, default 500 */
    /* A viewer of a test that runs elsewhere (hopper attach): q detaches
     * (detach(detach_arg) is called; the test goes on) and X, confirmed,
     * stops the test. NULL: the local dashboard, where q stops the test. */
    void (*detach)(void *arg);
    void *detach_arg;
} tui_options_t;

typedef struct {
    uv_loop_t *loop;
    term_t term;
    dash_t dash;
    steer_t ctl;
    log_t *log;
    snap_t snap;
    uv_poll_t input;
    uv_timer_t refresh;
    uv_signal_t winch;
    unsigned empty_wakeups;
    bool open;
    void (*detach)(void *arg);
    void *detach_arg;
} tui_t;

/* Takes over the terminal. Returns 0, or -1 when stdin/stdout is not a usable
 * terminal (the caller then runs headless). */
int tui_open(tui_t *t, uv_loop_t *loop, const tui_options_t *opts, const steer_t *ctl,
             log_t *log);

/* Draws now (after a state change the operator should see at once). */
void tui_redraw(tui_t *t);

/* Gives the terminal back and closes the handles (idempotent). */
void tui_close(tui_t *t);

#endif

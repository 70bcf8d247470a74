/* tui: see include/view/tui.h. */
#include "view/tui.h"

#include <curses.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

void tui_redraw(tui_t *t)
{
    if (!t->open)
        return;
    t->ctl.snapshot(t->ctl.ctx, &t->snap);
    term_check_size(&t->term);
    const check_result_t *checks = NULL;
    size_t n = t->ctl.checks ? t->ctl.checks(t->ctl.ctx, &t->snap, &checks) : 0;
    dash_draw(&t->dash, &t->snap, checks, n);
}

static void apply(tui_t *t, dash_cmd_t c)
{
    void *x = t->ctl.ctx;
    switch (c.kind) {
    case DASH_NONE:
        break;
    case DASH_SET_USERS:
        t->ctl.set_target_users(x, (uint64_t)c.value);
        break;
    case DASH_SET_RATE:
        t->ctl.set_spawn_rate(x, c.value);
        break;
    case DASH_SET_ARRIVAL_RATE:
        /* Only the open model sends it; a control without the open model
         * (a caller that never wired it) ignores it rather than crash. */
        if (t->ctl.set_arrival_rate)
            t->ctl.set_arrival_rate(x, c.value);
        break;
    case DASH_PAUSE:
        t->ctl.pause(x, c.value != 0);
        break;
    case DASH_RESET:
        t->ctl.reset_stats(x);
        break;
    case DASH_STOP:
        t->ctl.stop(x);
        break;
    case DASH_DETACH:
        /* Only a viewer's dashboard sends it (dash_t.attached); the viewer
         * decides what leaving means. */
        if (t->detach)
            t->detach(t->detach_arg);
        break;
    }
}

static void on_input(uv_poll_t *h, int status, int events)
{
    (void)events;
    tui_t *t = h->data;
    if (status < 0) {
        /* The terminal went away (SSH dropped): SIGHUP does the rest. */
        uv_poll_stop(h);
        return;
    }
    int key, n = 0;
    /* Drain what is there: a paste or key repeat arrives as many keys. */
    while (t->open && (key = getch()) != ERR && n++ < 256) {
        if (key == KEY_RESIZE) {
            term_resize(&t->term);
            continue;
        }
        dash_cmd_t c = dash_key(&t->dash, key, &t->snap);
        if (c.kind != DASH_NONE) {
            apply(t, c);
            /* The next key of the same burst (W W W) must see this change,
             * or every W would compute the same new target. (A detach may
             * have closed the dashboard: then there is nothing to ask.) */
            if (t->open)
                t->ctl.snapshot(t->ctl.ctx, &t->snap);
        }
    }
    /* Readable again and again with nothing to read is end of file on
     * stdin (a closed terminal): stop polling rather than spin the loop. A
     * single empty wake-up is normal (half an escape sequence, say). */
    t->empty_wakeups = n ? 0 : t->empty_wakeups + 1;
    if (t->empty_wakeups >= 100)
        uv_poll_stop(h);
    tui_redraw(t);
}

static void on_refresh(uv_timer_t *h)
{
    tui_redraw(h->data);
}

static void on_winch(uv_signal_t *h, int signum)
{
    (void)signum;
    tui_t *t = h->data;
    term_resize(&t->term);
    tui_redraw(t);
}

int tui_open(tui_t *t, uv_loop_t *loop, const tui_options_t *opts, const steer_t *ctl,
             log_t *log)
{
    memset(t, 0, sizeof *t);
    t->loop = loop;
    t->ctl = *ctl;
    t->log = log;
    if (term_open(&t->term, opts->ascii, opts->no_color) != 0)
        return -1;
    if (uv_poll_init(loop, &t->input, 0) != 0) {
        term_close(&t->term);
        return -1;
    }
    /* uv_poll_init made fd 0 non-blocking, and the terminal's stdout shares
     * that setting: put it back, or ncurses' writes could fail with EAGAIN on
     * a slow SSH link. Polling works as well on a blocking descriptor, and
     * getch() in nodelay mode never blocks. */
    fcntl(0, F_SETFL, t->term.stdin_flags);
    t->open = true;
    snap_init(&t->snap);
    dash_init(&t->dash, &t->term, log);
    t->detach = opts->detach;
    t->detach_arg = opts->detach_arg;
    t->dash.attached = opts->detach != NULL;
    log_hold(log, true);

    t->input.data = t;
    uv_poll_start(&t->input, UV_READABLE, on_input);
    uv_timer_init(loop, &t->refresh);
    t->refresh.data = t;
    uint64_t every = opts->refresh_ms ? opts->refresh_ms : 500;
    uv_timer_start(&t->refresh, on_refresh, every, every);
    /* Our own SIGWINCH watcher: ncurses' handler is replaced by libuv's, so
     * the resize is ours to pass on (term_resize). */
    uv_signal_init(loop, &t->winch);
    t->winch.data = t;
    uv_signal_start(&t->winch, on_winch, SIGWINCH);
    tui_redraw(t);
    return 0;
}

void tui_close(tui_t *t)
{
    if (!t->open)
        return;
    t->open = false;
    uv_poll_stop(&t->input);
    uv_close((uv_handle_t *)&t->input, NULL);
    uv_timer_stop(&t->refresh);
    uv_close((uv_handle_t *)&t->refresh, NULL);
    uv_signal_stop(&t->winch);
    uv_close((uv_handle_t *)&t->winch, NULL);
    term_close(&t->term);
    snap_free(&t->snap);
    log_hold(t->log, false);
}

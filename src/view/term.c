/* term: see include/view/term.h. */
#include "view/term.h"

#include <curses.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int term_open(term_t *t, bool ascii, bool no_color)
{
    memset(t, 0, sizeof *t);
    if (!isatty(0) || !isatty(1))
        return -1;
    /* ncurses needs the character set only. Everything else stays in the C
     * locale: numbers in reports never get a decimal comma, and error texts
     * (strerror) read the same in every report. */
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    t->utf8 = !ascii && cs && strcmp(cs, "UTF-8") == 0;
    t->stdin_flags = fcntl(0, F_GETFL);

    /* newterm rather than initscr: initscr exits the process when it cannot
     * start, and hopper must fall back or fail cleanly instead. */
    SCREEN *scr = newterm(NULL, stdout, stdin);
    if (!scr)
        return -1;
    t->screen = scr;
    t->open = true;
    cbreak();             /* keys at once, but Ctrl-C still raises SIGINT */
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);     /* Esc cancels a prompt without a second's lag */
    curs_set(0);
    leaveok(stdscr, TRUE);
    t->rows = LINES;
    t->cols = COLS;

    const char *nc = getenv("NO_COLOR");
    t->color = !no_color && !(nc && *nc) && has_colors();
    for (int r = 0; r < ROLE_COUNT; r++)
        t->attrs[r] = A_NORMAL;
    t->attrs[ROLE_HEADER] = A_REVERSE;
    t->attrs[ROLE_HIGHLIGHT] = A_BOLD;
    t->attrs[ROLE_FAIL] = A_BOLD;
    t->attrs[ROLE_DIM] = A_DIM;
    if (t->color) {
        start_color();
        use_default_colors();   /* -1: the terminal's own background */
        init_pair(1, COLOR_GREEN, -1);
        init_pair(2, COLOR_RED, -1);
        init_pair(3, COLOR_CYAN, -1);
        init_pair(4, COLOR_BLUE, -1);
        t->attrs[ROLE_OK] = COLOR_PAIR(1);
        t->attrs[ROLE_FAIL] = COLOR_PAIR(2) | A_BOLD;
        t->attrs[ROLE_HIGHLIGHT] = COLOR_PAIR(3) | A_BOLD;
        t->attrs[ROLE_DIM] = COLOR_PAIR(4);
    }
    return 0;
}

void term_close(term_t *t)
{
    if (!t->open)
        return;
    t->open = false;
    curs_set(1);
    endwin();
    delscreen(t->screen);
    t->screen = NULL;
    /* libuv's poll on fd 0 set O_NONBLOCK on the terminal, which stdout
     * shares: give it back, or the summary printed next could be cut short. */
    if (t->stdin_flags != -1)
        fcntl(0, F_SETFL, t->stdin_flags);
}

void term_resize(term_t *t)
{
    if (!t->open)
        return;
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
        resize_term(ws.ws_row, ws.ws_col);
    t->rows = LINES;
    t->cols = COLS;
    /* Repaint everything at the next refresh: a terminal that shrank may
     * have moved its lines (tmux pushes the top ones into its history to
     * keep the cursor's line), so what ncurses believes is on the screen
     * no longer is, and sending only the difference would leave old text
     * in place. One full screen per resize. */
    clearok(curscr, TRUE);
}

void term_check_size(term_t *t)
{
    if (!t->open)
        return;
    struct winsize ws;
    bool moved = ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0 &&
                 (ws.ws_row != LINES || ws.ws_col != COLS);
    /* ncurses may also have resized by itself (KEY_RESIZE) since we last
     * repainted everything. */
    if (moved || LINES != t->rows || COLS != t->cols)
        term_resize(t);
}

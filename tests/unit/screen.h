/* screen.h: an ncurses screen for the view tests to draw on and read back.
 *
 * A vt100 that writes to /dev/null, at cols x rows: what a view draws stays
 * in ncurses' virtual screen, where a test reads it as text (mvinnstr and
 * friends) without a terminal. screen_term holds the roles as term_open sets
 * them without colours, the highlight apart from the failure attribute so a
 * test can tell them apart; utf8 as asked. One screen at a time. */
#ifndef HOPPER_TEST_SCREEN_H
#define HOPPER_TEST_SCREEN_H

#include <curses.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "view/term.h"

static FILE *screen_out, *screen_in;
static SCREEN *screen;
static term_t screen_term __attribute__((unused));

static __attribute__((unused)) int screen_open(int cols, int rows, bool utf8)
{
    screen_out = fopen("/dev/null", "w");
    screen_in = fopen("/dev/null", "r");
    screen = screen_out && screen_in ? newterm("vt100", screen_out, screen_in) : NULL;
    if (!screen) {
        printf("#   ncurses cannot start a vt100 on /dev/null\n");
        return -1;
    }
    resize_term(rows, cols);
    erase();
    memset(&screen_term, 0, sizeof screen_term);
    screen_term.open = true;
    screen_term.utf8 = utf8;
    screen_term.attrs[ROLE_HEADER] = A_REVERSE;
    screen_term.attrs[ROLE_FAIL] = A_BOLD;
    screen_term.attrs[ROLE_HIGHLIGHT] = A_UNDERLINE;
    screen_term.attrs[ROLE_DIM] = A_DIM;
    return 0;
}

static __attribute__((unused)) void screen_close(void)
{
    if (screen) {
        endwin();
        delscreen(screen);
    }
    screen = NULL;
    if (screen_out)
        fclose(screen_out);
    if (screen_in)
        fclose(screen_in);
    screen_out = screen_in = NULL;
}

#endif

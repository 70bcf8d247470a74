/* term: the one module that owns the terminal.
 *
 * term_open() starts ncurses (cbreak, no echo, keypad, hidden cursor, colours
 * when the terminal has them and NO_COLOR / --no-color do not say otherwise),
 * term_close() gives the terminal back as it was; it is safe to call more
 * than once and must run before anything else is printed on the way out,
 * including after a fatal error. Colours are named by role, never by hue, and
 * use the terminal's own background so they read on dark and light themes. */
#ifndef HOPPER_TERM_H
#define HOPPER_TERM_H

#include <stdbool.h>

typedef enum {
    ROLE_NORMAL,
    ROLE_OK,          /* healthy numbers */
    ROLE_FAIL,        /* failures */
    ROLE_HEADER,      /* table header, status line */
    ROLE_HIGHLIGHT,   /* values the operator just changed, prompts */
    ROLE_DIM,         /* labels, secondary strips */
    ROLE_COUNT
} term_role_t;

typedef struct {
    bool open;
    void *screen;     /* ncurses' SCREEN */
    bool utf8;        /* the locale's charset is UTF-8 (and --ascii not given) */
    bool color;
    int stdin_flags;  /* fd 0's status flags at open, restored at close */
    int attrs[ROLE_COUNT];
    int rows, cols;   /* the size last repainted in full */
} term_t;

/* Returns 0, or -1 if the terminal cannot be used (not a terminal, or ncurses
 * cannot start on it). */
int term_open(term_t *t, bool ascii, bool no_color);

/* Restores the terminal (idempotent). */
void term_close(term_t *t);

/* Re-reads the window size after SIGWINCH and tells ncurses; the next
 * refresh repaints the whole screen. */
void term_resize(term_t *t);

/* Before each draw: the terminal's size as the kernel has it, in case a
 * SIGWINCH was missed or merged with another, or ncurses resized by itself;
 * a size that changed is handled as term_resize does. One ioctl. */
void term_check_size(term_t *t);

static inline int term_attr(const term_t *t, term_role_t r)
{
    return t->attrs[r];
}

#endif

/* draw: see include/view/draw.h. */
#include "view/draw.h"

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/text.h"

/* Writes s at (y, x), at most w columns, with an attribute. */
void draw_put(int y, int x, int attr, const char *s, int w)
{
    if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
        return;
    if (x + w > COLS)
        w = COLS - x;
    /* Cut at w columns (UTF-8 aware): ncurses' n counts bytes. */
    int cols = 0;
    size_t bytes = 0;
    for (const char *p = s; *p; p++) {
        bool starts = ((unsigned char)*p & 0xc0) != 0x80;
        if (starts && cols == w)
            break;
        cols += starts;
        bytes++;
    }
    attron(attr);
    mvaddnstr(y, x, s, (int)bytes);
    attroff(attr);
}

/* Writes s right-aligned in a cell of w columns ending at column x + w. */
void draw_put_right(int y, int x, int w, int attr, const char *s)
{
    int c = text_columns(s);
    if (c > w)
        c = w;
    draw_put(y, x + w - c, attr, s, c);
}

void draw_fill_line(int y, int attr)
{
    attron(attr);
    mvhline(y, 0, ' ', COLS);
    attroff(attr);
}

/* draw: writing text into ncurses' virtual screen, for every view module.
 *
 * Cells, not bytes: a width is in terminal columns and UTF-8 text is cut on
 * a character boundary, so a name never leaves half a character behind.
 * Coordinates outside the screen draw nothing. Text that did not come from
 * hopper itself must be passed through text_sanitize() first (util/text.h). */
#ifndef HOPPER_DRAW_H
#define HOPPER_DRAW_H

/* Writes s at (y, x), at most w columns, with an attribute. */
void draw_put(int y, int x, int attr, const char *s, int w);

/* Writes s right-aligned in a cell of w columns starting at column x. */
void draw_put_right(int y, int x, int w, int attr, const char *s);

/* Blanks row y across the screen with an attribute. */
void draw_fill_line(int y, int attr);

#endif

/* log: hopper's own messages (warnings, notices), kept off the screen while
 * the dashboard owns it.
 *
 * Without the dashboard a message goes to stderr at once. While the dashboard
 * is up nothing but ncurses may write to the terminal, so messages are held
 * (the newest is shown on the dashboard) and written to stderr when the screen
 * closes. With --logfile every message is also appended to that file, with a
 * timestamp. */
#ifndef HOPPER_LOG_H
#define HOPPER_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LOG_HELD_MAX 200
#define LOG_LINE_MAX 256
#define LOG_RING 256          /* messages kept with their times, for the log panel */

/* A message with the wall-clock time it was logged. */
typedef struct {
    double t_unix;
    char text[LOG_LINE_MAX];
} log_line_t;

typedef struct {
    FILE *file;                       /* --logfile, or NULL */
    bool hold;                        /* the dashboard is up */
    char held[LOG_HELD_MAX][LOG_LINE_MAX];
    size_t n_held;
    size_t dropped;                   /* held lines that did not fit */
    char last[LOG_LINE_MAX];          /* the newest message, for the dashboard */
    unsigned long seq;                /* counts messages, so views see new ones */
    /* The last LOG_RING messages, whatever else happened to them: the
     * dashboard's log panel, and what a control-socket viewer is sent. */
    log_line_t ring[LOG_RING];
    size_t ring_head;                 /* index of the oldest */
    size_t n_ring;
} log_t;

/* Opens the log; path may be NULL. Returns 0, or -1 if the file cannot be
 * opened for appending (errno set). */
int log_open(log_t *log, const char *path);

/* A message, printf-style, without a trailing newline. */
void log_msg(log_t *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keeps a message without printing it on stderr: in the ring, as the
 * newest, and in the --logfile if there is one. For what was already said
 * on stderr (the plan's warnings, before the log opened) and for a viewer's
 * copy of the log of the test it is attached to (which has no file). Counts
 * in seq like log_msg. */
void log_keep(log_t *log, double t_unix, const char *text);

/* The ring's message i, 0 the oldest (i < n_ring). The newest message has
 * sequence number seq, so message i has seq - (n_ring - 1 - i). */
const log_line_t *log_ring_at(const log_t *log, size_t i);

/* Starts or ends holding messages; ending writes the held ones to stderr. */
void log_hold(log_t *log, bool hold);

void log_close(log_t *log);

#endif

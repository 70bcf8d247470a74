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

typedef struct {
    FILE *file;                       /* --logfile, or NULL */
    bool hold;                        /* the dashboard is up */
    char held[LOG_HELD_MAX][LOG_LINE_MAX];
    size_t n_held;
    size_t dropped;                   /* held lines that did not fit */
    char last[LOG_LINE_MAX];          /* the newest message, for the dashboard */
    unsigned long seq;                /* counts messages, so views see new ones */
} log_t;

/* Opens the log; path may be NULL. Returns 0, or -1 if the file cannot be
 * opened for appending (errno set). */
int log_open(log_t *log, const char *path);

/* A message, printf-style, without a trailing newline. */
void log_msg(log_t *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts or ends holding messages; ending writes the held ones to stderr. */
void log_hold(log_t *log, bool hold);

void log_close(log_t *log);

#endif

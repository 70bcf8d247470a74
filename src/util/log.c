/* log: see include/util/log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

int log_open(log_t *log, const char *path)
{
    memset(log, 0, sizeof *log);
    if (path) {
        log->file = fopen(path, "a");
        if (!log->file)
            return -1;
    }
    return 0;
}

void log_msg(log_t *log, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    memcpy(log->last, line, sizeof line);
    log->seq++;
    if (log->file) {
        time_t now = time(NULL);
        struct tm tm;
        char ts[32];
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
        fprintf(log->file, "%s hopper: %s\n", ts, line);
        fflush(log->file);
    }
    if (!log->hold) {
        fprintf(stderr, "hopper: %s\n", line);
        return;
    }
    if (log->n_held < LOG_HELD_MAX)
        memcpy(log->held[log->n_held++], line, sizeof line);
    else
        log->dropped++;
}

void log_hold(log_t *log, bool hold)
{
    log->hold = hold;
    if (hold)
        return;
    for (size_t i = 0; i < log->n_held; i++)
        fprintf(stderr, "hopper: %s\n", log->held[i]);
    if (log->dropped)
        fprintf(stderr, "hopper: (%zu more messages%s)\n", log->dropped,
                log->file ? " in the log file" : "");
    log->n_held = 0;
    log->dropped = 0;
}

void log_close(log_t *log)
{
    log_hold(log, false);
    if (log->file)
        fclose(log->file);
    log->file = NULL;
}

/* log: see include/util/log.h. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
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

static void ring_put(log_t *log, double t_unix, const char *text)
{
    size_t i;
    if (log->n_ring < LOG_RING) {
        i = (log->ring_head + log->n_ring++) % LOG_RING;
    } else {
        i = log->ring_head;
        log->ring_head = (log->ring_head + 1) % LOG_RING;
    }
    log->ring[i].t_unix = t_unix;
    snprintf(log->ring[i].text, sizeof log->ring[i].text, "%s", text);
}

static void file_put(log_t *log, const char *line)
{
    if (!log->file)
        return;
    time_t now = time(NULL);
    struct tm tm;
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
    fprintf(log->file, "%s hopper: %s\n", ts, line);
    fflush(log->file);
}

void log_keep(log_t *log, double t_unix, const char *text)
{
    ring_put(log, t_unix, text);
    snprintf(log->last, sizeof log->last, "%s", text);
    log->seq++;
    file_put(log, text);
}

const log_line_t *log_ring_at(const log_t *log, size_t i)
{
    return &log->ring[(log->ring_head + i) % LOG_RING];
}

void log_msg(log_t *log, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    ring_put(log, (double)tv.tv_sec + tv.tv_usec / 1e6, line);
    memcpy(log->last, line, sizeof line);
    log->seq++;
    file_put(log, line);
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

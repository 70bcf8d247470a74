/* target_proc.h: a real hopper-target for unit tests that need a server.
 *
 * target_start() spawns $BUILD/hopper-target --port 0 (plus one option and
 * its value, or NULL), reads the port from its first line and fills t->url;
 * target_stop() sends SIGTERM and keeps its exit report in t->report, which
 * report_count() reads ("requests answered", "connections accepted", or a
 * "METHOD PATH" line). Header-only: each test program includes it once. */
#ifndef HOPPER_TARGET_PROC_H
#define HOPPER_TARGET_PROC_H

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;


typedef struct {
    pid_t pid;
    FILE *out;
    unsigned port;
    char url[64];
    char report[16384];
} target_t;

/* hopper-target --port 0 with up to four more arguments (NULL-ended), its
 * URL in t->url with scheme ("http" or "https", which the arguments make it
 * speak). */
static int target_start_args(target_t *t, const char *scheme, char *const args[])
{
    memset(t, 0, sizeof *t);
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    char path[512];
    snprintf(path, sizeof path, "%s/hopper-target", build);
    char *argv[8] = {path, "--port", "0"};
    for (size_t i = 0; args && args[i] && i < 4; i++)
        argv[3 + i] = args[i];
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    int rc = posix_spawn(&t->pid, path, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    t->out = fdopen(fds[0], "r");
    char line[256];
    if (!fgets(line, sizeof line, t->out) || sscanf(line, "listening on 127.0.0.1:%u", &t->port) != 1)
        return -1;
    snprintf(t->url, sizeof t->url, "%s://127.0.0.1:%u", scheme, t->port);
    return 0;
}

/* hopper-target --port 0 [OPT VAL] (opt NULL: none), plain HTTP. */
static int target_start(target_t *t, const char *opt, const char *val)
{
    char *args[] = {(char *)opt, (char *)val, NULL};
    return target_start_args(t, "http", opt ? args : NULL);
}

/* Stops the target and keeps its exit report. */
static void target_stop(target_t *t)
{
    kill(t->pid, SIGTERM);
    size_t used = 0;
    char line[512];
    while (fgets(line, sizeof line, t->out)) {
        size_t n = strlen(line);
        if (used + n < sizeof t->report) {
            memcpy(t->report + used, line, n);
            used += n;
        }
    }
    t->report[used] = '\0';
    fclose(t->out);
    waitpid(t->pid, NULL, 0);
}

static long long report_count(const target_t *t, const char *key)
{
    const char *p = strstr(t->report, key);
    return p ? atoll(p + strlen(key)) : -1;
}

#endif

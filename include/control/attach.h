/* attach: `hopper attach PATH`, the viewer of a test started with
 * --control PATH (control.h).
 *
 * It connects, checks who serves the socket (SO_PEERCRED: this user or
 * root, else exit 2), checks the test's hello (proto.h: a test of another
 * protocol version is named, and the viewer leaves with status 2), and
 * shows the test's dashboard (view/tui.h) on the snapshots, checks and log
 * lines the test sends, with a steer_t whose commands go back over the
 * socket: every key works as in the test's own dashboard, except q, which
 * detaches and leaves the test running (X, confirmed with y, stops it). The
 * terminal closing (SIGHUP), Ctrl-C and SIGTERM detach too: a viewer never
 * stops a test by going away. When the test ends the viewer says so, with
 * its final counts, and exits 0.
 *
 * Exit status: 0 detached or the test ended; 2 bad usage, no such socket,
 * not allowed, served by another user, not a terminal, another protocol
 * version; 1 anything that went wrong on the way (no test listening, the
 * test refused it: too many viewers, the connection lost before the
 * dashboard, a frame this viewer cannot read). Everything it prints that
 * came from the test is sanitised (util/text.h). */
#ifndef HOPPER_ATTACH_H
#define HOPPER_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct {
    const char *path;
    bool ascii;             /* --ascii */
    bool no_color;          /* --no-color */
} attach_opts_t;

typedef enum { ATTACH_RUN, ATTACH_EXIT_OK, ATTACH_USAGE_ERROR } attach_parse_t;

/* Parses `attach PATH [options]` (argv[0] is "attach"). ATTACH_EXIT_OK:
 * --help was printed to out; ATTACH_USAGE_ERROR: err says why. */
attach_parse_t attach_parse(int argc, char **argv, attach_opts_t *o, FILE *out, char *err,
                            size_t errlen);

void attach_usage(FILE *f);

/* Whether a viewer of uid self may believe a socket served by uid server:
 * its own user's test, or root's. (SO_PEERCRED, right after connect: a
 * socket in a shared directory may be anyone's.) */
bool attach_server_allowed(uid_t server, uid_t self);

/* The whole `hopper attach` (argv[0] is "attach"): its exit status. */
int attach_main(int argc, char **argv);

#endif

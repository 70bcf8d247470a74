/* control: the test's side of the control socket (--control PATH).
 *
 * A Unix stream socket on which the running test serves its live snapshot,
 * its checks and its log, and takes the dashboard's commands from viewers
 * (`hopper attach`, attach.h), in the protocol of proto.h. The commands go
 * through the same steer_t as the dashboard's keys, so a viewer's W is the
 * dashboard's W, marked on the timelines the same way.
 *
 * Safety: the socket is created 0600 (its mode is set on the socket before
 * bind, so it never exists with another); a path that exists is refused
 * unless it is a stale socket of this user (one nobody listens on), which is
 * replaced; each peer is checked with SO_PEERCRED: only this user or root
 * may stay; a peer that has not said hello within 5 s is dropped; at most
 * CONTROL_MAX_VIEWERS viewers (a viewer past that is told "too many
 * viewers" in a goodbye). Viewers cost nothing until one connects: the tick (one snapshot
 * encoded per --refresh, the same bytes to every viewer) runs only while
 * viewers are connected, and a viewer that reads slowly skips snapshots
 * instead of queueing them. A viewer's death, or any frame of its that is
 * malformed or larger than PROTO_VIEWER_FRAME_MAX, drops that viewer and
 * nothing else.
 *
 * Lifetime: control_path_check before anything is started, control_new once
 * the engine exists (before it starts, so that no worker inherits the
 * socket), control_close at the end of the run (it sends the final snapshot
 * and a goodbye, removes the socket if the path still is it, closes every
 * handle; the memory goes with the last close callback). Each snapshot
 * carries the timelines (the endpoint view's charts) of the Aggregated row,
 * of the first 8 endpoint rows and of every row some viewer has selected
 * (PROTO_FOCUS; at most CONTROL_MAX_VIEWERS more), the same bytes for all;
 * a snapshot over the budget goes without the endpoint rows' timelines. */
#ifndef HOPPER_CONTROL_H
#define HOPPER_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "snapshot/snapshot.h"
#include "view/steer.h"
#include "util/log.h"

#define CONTROL_MAX_VIEWERS 32

typedef struct control control_t;

typedef struct {
    const char *path;
    uint64_t refresh_ms;      /* the tick; 0: 500 */
    steer_t steer;            /* snapshot, commands, checks of the test */
    log_t *log;               /* the test's log: sent to viewers; control's own messages go here */
    uint64_t hello_ms;        /* a peer's time to say hello; 0: 5 s */
    size_t snapshot_budget;   /* a larger snapshot goes without the rows' charts; 0: 16 MB */
} control_config_t;

/* Whether PATH may become the socket: 0 if it does not exist, or if it is a
 * stale socket of this user (then it is removed); -1 with a message naming
 * PATH otherwise (it exists and is something else, another user's, or a
 * test listens on it; the path is too long for a socket). */
int control_path_check(const char *path, char *err, size_t errlen);

/* Whether a peer of uid peer may use the socket of a test run by self. */
bool control_peer_allowed(uid_t peer, uid_t self);

/* Creates the socket (after control_path_check's rule) and listens on loop.
 * NULL with a message in err. */
control_t *control_new(uv_loop_t *loop, const control_config_t *cfg, char *err, size_t errlen);

/* Viewers attached now (ready: past the hello). */
size_t control_viewers(const control_t *c);

/* The end: sends final (the test's last snapshot; may be NULL) and a
 * goodbye to every viewer, removes the socket and closes every handle. */
void control_close(control_t *c, const snap_t *final);

#endif

/* steer: the commands that steer a running test, and where its snapshot
 * comes from.
 *
 * The same table of callbacks serves every front that watches or steers a
 * test: the dashboard in the test's own terminal (view/tui.h), and the
 * control socket's viewers (control/control.h), so a key pressed in a
 * viewer does exactly what the same key does in the dashboard. main wires it
 * to the engine; `hopper attach` wires it to the socket. Like the snapshot
 * it keeps the two sides of the tree apart: the dashboard and the socket
 * call these functions and never include an engine header. It lives with the
 * views because a front is a view; control/ (the socket) may include view/. */
#ifndef HOPPER_STEER_H
#define HOPPER_STEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/checks.h"
#include "snapshot/snapshot.h"

typedef struct {
    void (*snapshot)(void *ctx, snap_t *out);
    void (*set_target_users)(void *ctx, uint64_t users);
    void (*set_spawn_rate)(void *ctx, double rate);
    void (*set_arrival_rate)(void *ctx, double rate);   /* the open model's +, - and r */
    void (*pause)(void *ctx, bool paused);
    void (*reset_stats)(void *ctx);
    void (*stop)(void *ctx);
    /* The checks evaluated against s, for their live state; may be NULL. */
    size_t (*checks)(void *ctx, const snap_t *s, const check_result_t **out);
    void *ctx;
} steer_t;

#endif

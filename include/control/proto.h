/* proto: what a test and its viewers say over the control socket.
 *
 * `hopper --control PATH` serves its test on a Unix socket (control.h);
 * `hopper attach PATH` is a viewer (attach.h). They speak in frames of
 * util/frame.h (a 4-byte length, a type, the payload; little-endian). Both
 * sides may be different builds of hopper, so, unlike the workers' wire,
 * this protocol carries a version:
 *
 *   1. on connect, each side sends PROTO_HELLO: the magic "HOPPER", the
 *      protocol version (u16) and the hopper version (a short string). This
 *      frame's type and layout never change, whatever the version, so any
 *      two hoppers can tell each other apart. The test sends its hello
 *      first; a viewer of another version says so and leaves, and the test
 *      drops it.
 *   2. the test sends its log (PROTO_LOG: the lines since the last sent),
 *      then, every --refresh while viewers are connected, one snapshot and
 *      the checks' state (PROTO_SNAPSHOT, PROTO_CHECKS: snapwire.h),
 *      encoded once and sent to every viewer, and new log lines.
 *   3. a viewer sends the commands of the dashboard's keys (PROTO_COMMAND),
 *      the row it has selected whenever that changes (PROTO_FOCUS: the
 *      snapshots then carry that row's timelines, its endpoint view's
 *      charts, see control.h) and, when it detaches, PROTO_BYE; at the end
 *      of the test the test sends its final snapshot and PROTO_BYE, then
 *      closes.
 *
 * A viewer's frame is never larger than PROTO_VIEWER_FRAME_MAX: the test
 * refuses a larger header before buffering it, and drops a viewer whose
 * frame is malformed; that viewer only. Compatibility rule: a change to any
 * frame after the hello bumps PROTO_VERSION. */
#ifndef HOPPER_PROTO_H
#define HOPPER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/frame.h"
#include "util/log.h"

#define PROTO_MAGIC     "HOPPER"
#define PROTO_MAGIC_LEN 6
/* 2: PROTO_FOCUS. */
#define PROTO_VERSION   2
/* The largest frame a viewer may send (a command is 10 bytes, a focus at
 * most 15). */
#define PROTO_VIEWER_FRAME_MAX 4096
#define PROTO_VERSION_TEXT 32   /* room for the hopper version, with its NUL */

typedef enum {
    PROTO_HELLO = 1,      /* both ways, first */
    PROTO_SNAPSHOT = 2,   /* test -> viewer: snapwire.h */
    PROTO_CHECKS = 3,     /* test -> viewer: snapwire.h */
    PROTO_LOG = 4,        /* test -> viewer: log lines with their sequence numbers */
    PROTO_COMMAND = 5,    /* viewer -> test */
    PROTO_BYE = 6,        /* either way: leaving, with a reason */
    PROTO_FOCUS = 7,      /* viewer -> test: the row it has selected */
} proto_type_t;

typedef struct {
    unsigned version;                   /* the protocol's */
    char hopper[PROTO_VERSION_TEXT];    /* the program's, e.g. "0.1.0" */
} proto_hello_t;

/* What a viewer asks of the test: exactly the dashboard's commands. */
typedef enum {
    PROTO_CMD_USERS = 1,          /* value: target users, 0..HOPPER_MAX_USERS */
    PROTO_CMD_SPAWN_RATE = 2,     /* value: users per second, [HOPPER_MIN_SPAWN_RATE, HOPPER_MAX_SPAWN_RATE] */
    PROTO_CMD_ARRIVAL_RATE = 3,   /* value: arrivals per second, [0, HOPPER_MAX_ARRIVAL_RATE] */
    PROTO_CMD_PAUSE = 4,          /* value: 1 pause, 0 resume */
    PROTO_CMD_RESET = 5,
    PROTO_CMD_STOP = 6,
} proto_cmd_kind_t;

typedef struct {
    proto_cmd_kind_t kind;
    double value;
} proto_cmd_t;

/* Appends this hopper's hello frame to b. */
void proto_put_hello(frame_buf_t *b);
/* Reads a hello payload: 0, or -1 if it is not a hopper's hello at all. */
int proto_get_hello(const uint8_t *p, size_t n, proto_hello_t *out);
/* Whether the other side speaks this protocol; if not, the message for
 * people in msg ("this test speaks control protocol N, ..."). local_is_test:
 * the message is the test's (about a viewer) rather than a viewer's. */
bool proto_compatible(const proto_hello_t *h, bool local_is_test, char *msg, size_t len);

void proto_put_command(frame_buf_t *b, proto_cmd_t c);
/* 0, or -1 for a payload that is not a valid command (an unknown kind, a
 * value out of its range or not finite, bytes left over). */
int proto_get_command(const uint8_t *p, size_t n, proto_cmd_t *out);

/* The row a viewer has selected. A row is named by a hash of its method
 * and name (proto_row_key), not by its text: any name fits in a small
 * frame, and a row that moved (another plan's order) is found again or not
 * at all, never mistaken for its neighbour. index is where the viewer saw
 * it: the test looks there first. */
typedef struct {
    bool row;              /* false: the Aggregated row (its timelines always travel) */
    uint32_t index;        /* < the snapshot's endpoint rows, as the viewer saw them */
    uint64_t key;          /* proto_row_key(method, name) */
} proto_focus_t;

/* FNV-1a over method, a NUL, name (NULL reads as ""). */
uint64_t proto_row_key(const char *method, const char *name);

void proto_put_focus(frame_buf_t *b, proto_focus_t f);
/* 0, or -1 for a payload that is not a valid focus (a flag other than 0 or
 * 1, an index of SNAPWIRE_MAX_ROWS or more, fields after the Aggregated
 * row's flag, bytes left over). */
int proto_get_focus(const uint8_t *p, size_t n, proto_focus_t *out);

/* A reason of at most LOG_LINE_MAX - 1 bytes (longer is cut). */
void proto_put_bye(frame_buf_t *b, const char *reason);
/* 0 with the reason (NUL-free, cut to len), or -1. */
int proto_get_bye(const uint8_t *p, size_t n, char *reason, size_t len);

/* Appends a PROTO_LOG frame with log's ring lines newer than *seq (those
 * still in the ring), and moves *seq to the newest; nothing when there is
 * none. */
void proto_put_log(frame_buf_t *b, const log_t *log, unsigned long *seq);
/* Keeps each line of a PROTO_LOG payload newer than *seq in log
 * (log_keep) and moves *seq. 0, or -1 for a malformed payload (then
 * nothing is kept). */
int proto_get_log(const uint8_t *p, size_t n, log_t *log, unsigned long *seq);

#endif

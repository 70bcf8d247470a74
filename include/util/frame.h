/* frame: typed messages over a byte stream between two processes.
 *
 * A frame is a 4-byte length (of what follows), a 1-byte type, then the
 * payload; numbers are little-endian. Both ends are the same binary, so the
 * layout carries no version. The module has four parts, in the order bytes
 * travel:
 *
 *   frame_buf_t   builds outgoing frames: frame_begin, frame_put_*, frame_end.
 *   frame_in_t    turns incoming bytes into whole frames: it keeps a frame cut
 *                 across reads until the rest arrives, and calls a frame
 *                 whose header cannot be valid (length 0, over FRAME_MAX, or
 *                 type 0) bad, for good: nothing after it is trusted.
 *   frame_rd_t    reads one payload's fields with bounds checks: a read past
 *                 the end returns 0 and sets bad, never touches memory beyond.
 *   frame_conn_t  one end of a socketpair on a libuv loop: reads straight
 *                 into its frame_in_t (no copy), calls on_msg once per whole
 *                 frame, and on_end once, on EOF, a read error or a bad frame.
 *
 * frame_write_fd is the blocking send, for a process whose loop is gone (or
 * that has none). Only libuv and src/util are used: hopper-target links this
 * too. */
#ifndef HOPPER_FRAME_H
#define HOPPER_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The most a header may announce (type byte and payload). Far above any
 * real message (a statistics delta is kilobytes, hopper-target's full counts
 * table under 10 MB), low enough that a corrupt length cannot make the
 * reader allocate gigabytes waiting for it. */
#define FRAME_MAX    (64u << 20)
#define FRAME_HEADER 5u

typedef struct frame_conn frame_conn_t;

/* One whole frame: payload[0, len) is valid until the callback returns. */
typedef void (*frame_msg_cb)(frame_conn_t *c, unsigned type, const uint8_t *payload, size_t len);
/* The stream ended: UV_EOF, UV_EPROTO for a bad frame, or a read error. No
 * further callback comes; the owner closes the connection. */
typedef void (*frame_end_cb)(frame_conn_t *c, int err);
/* The connection is closed and its memory released: the owner may free it. */
typedef void (*frame_closed_cb)(frame_conn_t *c);

typedef struct {
    uint8_t *data;
    size_t len, cap;
    size_t start;        /* where the frame being built starts */
} frame_buf_t;

typedef struct {
    const uint8_t *p, *end;   /* the next byte to read; one past the last */
    bool bad;                 /* a read went past the end (stays set) */
} frame_rd_t;

typedef struct {
    uint8_t *data;
    size_t len, cap;
    size_t consumed;     /* bytes of data already handed out as frames */
    bool bad;
    /* The most a header may announce here, 0 for FRAME_MAX: a stream from
     * a peer that is not a child of ours (a control-socket viewer) gets a
     * small one, so an oversized header is refused before it is buffered.
     * Set it after frame_in_init (or frame_conn_start). */
    size_t max;
} frame_in_t;

typedef enum {
    FRAME_WHOLE,         /* *out is the next frame */
    FRAME_PARTIAL,       /* no whole frame buffered yet: feed more */
    FRAME_BAD,           /* a corrupt header: the stream cannot be trusted */
} frame_status_t;

typedef struct {
    unsigned type;
    const uint8_t *payload;
    size_t len;
} frame_t;

struct frame_conn {
    uv_pipe_t pipe;               /* pipe.data = this */
    frame_in_t in;
    frame_msg_cb on_msg;
    frame_end_cb on_end;
    frame_closed_cb on_closed;
    void *data;                   /* the owner's */
    bool reading, closing;
};

/* ---- building frames ---- */

void frame_buf_init(frame_buf_t *b);
void frame_buf_free(frame_buf_t *b);
/* Starts a frame of a type (1..255) at the end of b; frame_end fills in its
 * length. Several frames may be built into one buffer and sent at once. */
void frame_begin(frame_buf_t *b, unsigned type);
/* 0, or -EMSGSIZE if the frame is over FRAME_MAX: it is then dropped from b
 * (the other side would refuse it). */
int frame_end(frame_buf_t *b);
void frame_put_u16(frame_buf_t *b, uint16_t v);
void frame_put_u32(frame_buf_t *b, uint32_t v);
void frame_put_u64(frame_buf_t *b, uint64_t v);
void frame_put_f64(frame_buf_t *b, double v);
void frame_put_bytes(frame_buf_t *b, const void *p, size_t n);

/* ---- reading a payload ---- */

void frame_rd_init(frame_rd_t *r, const void *p, size_t n);
uint16_t frame_get_u16(frame_rd_t *r);
uint32_t frame_get_u32(frame_rd_t *r);
uint64_t frame_get_u64(frame_rd_t *r);
double frame_get_f64(frame_rd_t *r);
/* Points *out at the next n bytes (no copy); false (and bad) if there are
 * fewer than n. */
bool frame_get_bytes(frame_rd_t *r, const uint8_t **out, size_t n);

/* ---- incoming bytes to frames ---- */

void frame_in_init(frame_in_t *in);
void frame_in_free(frame_in_t *in);
/* Room for at least want more bytes at the end (earlier frames handed out are
 * dropped first, so the buffer holds at most one partial frame plus want):
 * write into it, then frame_in_commit what was written. */
uint8_t *frame_in_space(frame_in_t *in, size_t want, size_t *room);
void frame_in_commit(frame_in_t *in, size_t n);
/* frame_in_space, copy, frame_in_commit. */
void frame_in_feed(frame_in_t *in, const void *p, size_t n);
/* Takes the next whole frame; its payload stays valid until the next
 * frame_in_space or feed. */
frame_status_t frame_in_next(frame_in_t *in, frame_t *out);

/* ---- a connection on a libuv loop ---- */

/* Takes fd (one end of a socketpair, or any stream) onto loop and starts
 * reading. data is the owner's, found again as c->data in the callbacks.
 * 0, or a libuv error (fd is then closed). Either way the pipe handle is
 * initialised and frame_conn_close must follow. */
int frame_conn_start(frame_conn_t *c, uv_loop_t *loop, int fd, frame_msg_cb on_msg, frame_end_cb on_end,
                     void *data);
/* Stops reading: no on_msg or on_end after it, even for frames already
 * buffered. May be called from on_msg. */
void frame_conn_stop(frame_conn_t *c);
/* Stops and closes; on_closed (may be NULL) runs from the loop once the
 * handle is closed and the buffer freed. Writes still queued are cancelled.
 * A second call does nothing. */
void frame_conn_close(frame_conn_t *c, frame_closed_cb on_closed);
/* Sends the frames in b and empties b: uv_try_write first, and only what did
 * not fit is copied and queued with uv_write (frames are small and the other
 * side reads promptly, so that is rare). Dropped once the connection closes. */
void frame_conn_send(frame_conn_t *c, frame_buf_t *b);

/* Writes the frames in b to fd, blocking until all are out, and empties b.
 * 0 or a negative errno (EPIPE: the other side is gone). */
int frame_write_fd(int fd, frame_buf_t *b);

#endif

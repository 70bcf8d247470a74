/* wire: the bytes between the engine and its worker processes.
 *
 * Frames on a socketpair: a 4-byte length (of what follows), a 1-byte type,
 * then the payload, all little-endian. wbuf_t builds a payload, rbuf_t reads
 * one with bounds checks (a short or malformed frame is an error, never a
 * read past the end). Both sides are the same binary, so the layout needs no
 * versioning. */
#ifndef HOPPER_WIRE_H
#define HOPPER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define WIRE_MAX_FRAME (64u << 20)

typedef enum {
    /* engine -> worker */
    MSG_SET_USERS = 1,   /* u64 users this worker should run */
    MSG_STOP,            /* stop (a second one cancels requests in flight) */
    MSG_RESET,           /* drop the statistics not yet reported */
    MSG_EPOCH,           /* f64 the run's start, unix time */
    /* worker -> engine */
    MSG_REPORT = 16,     /* status, health and a statistics delta */
    MSG_LOG,             /* a message for the operator */
    MSG_DONE,            /* stopped: the last report has been sent */
} wire_msg_t;

typedef struct {
    uint8_t *data;
    size_t len, cap;
    size_t frame;        /* where the frame being built starts */
} wbuf_t;

typedef struct {
    const uint8_t *p, *end;
    bool bad;            /* a read went past the end */
} rbuf_t;

void wbuf_init(wbuf_t *b);
void wbuf_free(wbuf_t *b);
/* Starts a frame of a type (reserves the length; wbuf_end fills it). */
void wbuf_begin(wbuf_t *b, wire_msg_t type);
void wbuf_end(wbuf_t *b);
void wbuf_u8(wbuf_t *b, uint8_t v);
void wbuf_u16(wbuf_t *b, uint16_t v);
void wbuf_u32(wbuf_t *b, uint32_t v);
void wbuf_u64(wbuf_t *b, uint64_t v);
void wbuf_f64(wbuf_t *b, double v);
void wbuf_bytes(wbuf_t *b, const void *p, size_t n);

void rbuf_init(rbuf_t *r, const void *p, size_t n);
uint8_t rbuf_u8(rbuf_t *r);
uint16_t rbuf_u16(rbuf_t *r);
uint32_t rbuf_u32(rbuf_t *r);
uint64_t rbuf_u64(rbuf_t *r);
double rbuf_f64(rbuf_t *r);
/* Points *out at n bytes in the buffer (no copy); false if there are not n. */
bool rbuf_bytes(rbuf_t *r, const uint8_t **out, size_t n);

/* Incoming bytes to whole frames: feed what a read gave, then take frames
 * until wire_next returns false. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    size_t consumed;
} wire_reader_t;

void wire_reader_init(wire_reader_t *w);
void wire_reader_free(wire_reader_t *w);
void wire_reader_feed(wire_reader_t *w, const void *p, size_t n);
/* The next whole frame: its type and payload (valid until the next feed).
 * Returns false when no whole frame is buffered; sets *bad on a frame that
 * cannot be valid (too long). */
bool wire_next(wire_reader_t *w, wire_msg_t *type, const uint8_t **payload, size_t *len, bool *bad);

/* Sends the frames in b on a libuv stream and empties b: uv_try_write first,
 * and only what did not fit is copied and queued with uv_write (frames are
 * small and the other side reads promptly, so that is rare). */
void wire_send(uv_stream_t *s, wbuf_t *b);

#endif

/* snapwire: a snapshot and the checks' state, as the control socket sends
 * them (proto.h's PROTO_SNAPSHOT and PROTO_CHECKS frames).
 *
 * The test encodes once per tick and sends the same bytes to every viewer;
 * a viewer decodes into a snapwire_t, which owns everything the decoded
 * snapshot points to: its arrays (as any snap_t), its strings (host,
 * client, the rows' and errors' names: one block, the payload's string
 * table) and its stages. Every field of snap_t travels, the rows' new
 * ones too (status codes, distributions, le, sum, timelines in points).
 *
 * The decoder trusts nothing: counts are bounded (by the limits below and
 * by the bytes left, so a short payload never makes it allocate much),
 * strings are NUL-free, start a string of the string table, are never NULL (a missing
 * one reads as ""), and sanitised (util/text.h: control characters and
 * bytes that are not UTF-8 read as '?'), as are the errors' and checks'
 * texts, since the viewer prints them; offsets into points
 * lie within it, enums and bools are in range, and numbers that are not
 * finite read as 0. A payload that breaks any rule is refused whole (-1);
 * the snapwire_t is then still safe to reuse or free. Encoding order and
 * layout are the protocol's (a change bumps PROTO_VERSION). */
#ifndef HOPPER_SNAPWIRE_H
#define HOPPER_SNAPWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/checks.h"
#include "snapshot/snapshot.h"
#include "util/frame.h"

#define SNAPWIRE_MAX_ROWS    16384     /* endpoint rows */
#define SNAPWIRE_MAX_ITEMS   (1u << 20) /* errors, samples, events */
#define SNAPWIRE_MAX_STAGES  4096
#define SNAPWIRE_MAX_STR     65536     /* one string, NUL excluded (longer is cut) */
#define SNAPWIRE_MAX_CHECKS  1024
#define SNAPWIRE_CHECK_TEXT  4096

typedef struct {
    snap_t snap;
    char *strings;                 /* the string table: snap's strings point here */
    size_t cap_strings;
    snap_stage_t *stages;          /* snap.stages */
    size_t cap_stages;
} snapwire_t;

/* The checks' live state as a viewer has it: results[i].check is checks[i],
 * whose text is the only field set. */
typedef struct {
    check_t *checks;
    check_result_t *results;
    size_t n, cap;
    char *texts;
    size_t cap_texts;
} snapwire_checks_t;

void snapwire_init(snapwire_t *w);
void snapwire_free(snapwire_t *w);

/* Appends one PROTO_SNAPSHOT frame for s to b, every row's timelines. */
void snapwire_put_snapshot(frame_buf_t *b, const snap_t *s);
/* The same with the timelines of the Aggregated row and of the endpoint
 * rows i for which with[i] (s->n_entries flags; NULL: none) only (the
 * others travel without: n_recent and n_history 0). 0, or -EMSGSIZE when
 * the frame would be over FRAME_MAX (then nothing was appended). */
int snapwire_put_snapshot_rows(frame_buf_t *b, const snap_t *s, const bool *with);
/* Decodes a PROTO_SNAPSHOT payload into w (replacing what it held). 0 or -1. */
int snapwire_get_snapshot(snapwire_t *w, const uint8_t *p, size_t n);

void snapwire_checks_init(snapwire_checks_t *c);
void snapwire_checks_free(snapwire_checks_t *c);
/* Appends one PROTO_CHECKS frame: each check's text and result. */
void snapwire_put_checks(frame_buf_t *b, const check_result_t *r, size_t n);
/* Decodes a PROTO_CHECKS payload into c (replacing what it held). 0 or -1. */
int snapwire_get_checks(snapwire_checks_t *c, const uint8_t *p, size_t n);

#endif

/* data: a plan's data files ([data NAME] sections), read once and shared.
 *
 *   [data accounts]
 *   file  = accounts.csv     # CSV (RFC 4180) with a header row naming the columns
 *   order = sequential       # sequential | random | shuffle | unique
 *   per   = user             # user | iteration
 *
 * The file is read whole when the plan is read, into one block of cells
 * (each NUL-terminated) and one table of offsets: a million rows cost the
 * file's size plus one offset per cell, and nothing per user (a user holds
 * only a row number per source). Rows are handed out by data_next: the
 * run-wide position lives in memory shared with worker processes
 * (data_share, before they fork), so `sequential` and `unique` follow one
 * order across all of them and `unique` never hands a row out twice. */
#ifndef HOPPER_DATA_H
#define HOPPER_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/rng.h"

#define DATA_MAX_BYTES (1024ULL * 1024 * 1024)   /* a data file's size limit */
#define DATA_MAX_COLUMNS 256

typedef enum { DATA_SEQUENTIAL, DATA_RANDOM, DATA_SHUFFLE, DATA_UNIQUE } data_order_t;
typedef enum { DATA_PER_USER, DATA_PER_ITERATION } data_per_t;

typedef struct {
    char *name;                 /* the section's NAME */
    char *path;                 /* as resolved (relative to the hopperfile's folder) */
    data_order_t order;
    data_per_t per;
    unsigned line;              /* of the [data] header, for messages */
    char **columns;             /* from the header row */
    size_t n_columns;
    size_t n_rows;              /* not counting the header */
    char *cells;                /* every cell, NUL-terminated, row by row */
    size_t *offsets;            /* n_rows * n_columns + 1: cell k is cells + offsets[k],
                                 * offsets[k + 1] - offsets[k] - 1 bytes long */
    size_t *perm;               /* DATA_SHUFFLE: the order, drawn once from the seed */
    uint64_t *next;             /* the run-wide position: a private counter from data_load,
                                 * in shared memory after data_share */
    bool shared;
    size_t first, rows;         /* data_window: the rows handed out, [first, first + rows) */
    bool windowed;
} data_source_t;

/* Reads and parses the CSV file at path (a header row, then rows with exactly
 * as many fields; quotes as RFC 4180, CRLF or LF). 0, or -1 with a message
 * that starts with the file's own "PATH:LINE: " where the problem is in it
 * ("accounts.csv:7: 2 fields, the header has 3"), or "PATH: ..." (missing,
 * empty, not a regular file, no rows). src->name, order, per and line are the
 * caller's; this fills the rest (on failure, leaves it empty: data_free is
 * still safe). */
int data_load(data_source_t *src, const char *path, char *err, size_t errlen);

/* The column's index, or -1. */
long data_column(const data_source_t *src, const char *column);

/* Draws the shuffle order (DATA_SHUFFLE) from seed and moves the run-wide
 * position into memory shared with processes forked later. 0, or -1 (mmap
 * failed) with a message. */
int data_share(data_source_t *src, uint64_t seed, char *err, size_t errlen);

/* An MPI rank's part of the rows: parts first .. first + parts - 1 of count
 * contiguous parts (sizes differ by at most one; the first ones are the
 * longer), one part per worker process of the run, so that a rank's rows
 * match its users however the pool spreads them. data_next then hands out
 * only those: in order, shuffled (the run's order, cut the same way) or
 * unique; random draws from them too. An empty part has no row. */
void data_window(data_source_t *src, unsigned first, unsigned parts, unsigned count);

/* The next row for a user (rng: the user's runner's, for DATA_RANDOM).
 * Returns the row number, or -1 when DATA_UNIQUE has handed out every row.
 * Before data_share it works within one process (DATA_SHUFFLE then follows
 * the file's order). */
int64_t data_next(data_source_t *src, rng_t *rng);

/* Cell (row, column) and its length. */
static inline const char *data_cell(const data_source_t *src, size_t row, size_t column,
                                    size_t *len)
{
    size_t k = row * src->n_columns + column;
    *len = src->offsets[k + 1] - src->offsets[k] - 1;
    return src->cells + src->offsets[k];
}

void data_free(data_source_t *src);

#endif

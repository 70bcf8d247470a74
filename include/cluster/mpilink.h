/* mpilink: the MPI transport under an MPI run (cluster/cluster.h).
 *
 * The only file that calls MPI. It starts MPI (mpirun's world, or a
 * singleton that spawns the user ranks), says which side this process is,
 * and moves byte messages between the conductor and each user rank without
 * ever blocking: sends are queued (MPI_Isend on a copy) and completed by
 * mpilink_progress, receives are probed. Blocking MPI calls would spin a
 * core (Open MPI polls while it waits), and the conductor must stay cheap.
 *
 * Peers are numbered from the conductor's side 0 .. ranks - 1 (the user
 * ranks), and a user rank's only peer is the conductor, peer 0. A tag says
 * what a message is (cluster.c). Built without MPI (no ompi-c through
 * pkg-config), mpilink_open says so and how to get it. */
#ifndef HOPPER_MPILINK_H
#define HOPPER_MPILINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mpilink mpilink_t;

typedef enum {
    MPILINK_CONDUCTOR,   /* rank 0 of mpirun's world, or the process that spawned the ranks */
    MPILINK_USER,        /* a user rank */
} mpilink_role_t;

/* mode: "mpi" (started by mpirun or srun: rank 0 conducts), or "spawn": this
 * process conducts and spawns ranks user ranks of argv0 with args (NULL
 * terminated), on hostfile's hosts (NULL: MPI's default); a process that
 * was itself spawned is a user rank. NULL with a message in err. */
mpilink_t *mpilink_open(const char *mode, int *argc, char ***argv, const char *argv0, char **args,
                        unsigned ranks, const char *hostfile, char *err, size_t errlen);

mpilink_role_t mpilink_role(const mpilink_t *l);
/* The conductor: how many user ranks. A user rank: its index, 0-based. */
unsigned mpilink_ranks(const mpilink_t *l);
unsigned mpilink_index(const mpilink_t *l);
/* MPI's own number of user rank 0, for messages: 1 under mpirun (rank 0
 * conducts), 0 for spawned ranks (a world of their own). */
unsigned mpilink_first_rank(const mpilink_t *l);

/* Queues n bytes (copied) to peer with tag. 0, or -1 if MPI refused. */
int mpilink_send(mpilink_t *l, unsigned peer, int tag, const void *p, size_t n);
/* The next message that has arrived, if any: 1 with *buf (malloc'd, the
 * caller frees), *n, *peer and *tag; 0 if none; -1 on an MPI error. */
int mpilink_recv(mpilink_t *l, unsigned *peer, int *tag, uint8_t **buf, size_t *n);
/* Completes the sends that can be; the number still queued. */
size_t mpilink_progress(mpilink_t *l);
/* Ends MPI: clean (MPI_Finalize, after every send went) when every peer is
 * known to be alive; otherwise MPI is left as it is (a finalize could wait
 * for a dead peer forever) and the process exits soon after. Frees l. */
void mpilink_close(mpilink_t *l, bool clean);

#endif

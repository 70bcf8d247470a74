/* mpilink without MPI: this hopper was built where pkg-config found no Open
 * MPI (the Makefile picks this file then). Everything else runs as always;
 * --mpi and --ranks say how to get MPI support. */
#include "cluster/mpilink.h"

#include <stdio.h>
#include <stdlib.h>

mpilink_t *mpilink_open(const char *mode, int *argc, char ***argv, const char *argv0, char **args,
                        unsigned ranks, const char *hostfile, char *err, size_t errlen)
{
    (void)mode, (void)argc, (void)argv, (void)argv0, (void)args, (void)ranks, (void)hostfile;
    snprintf(err, errlen, "this hopper was built without MPI: install Open MPI (as root, 'make deps' "
             "installs libopenmpi-dev and openmpi-bin) and rebuild with make");
    return NULL;
}

/* Never reached: there is no link without MPI. */
mpilink_role_t mpilink_role(const mpilink_t *l) { (void)l; return MPILINK_CONDUCTOR; }
unsigned mpilink_ranks(const mpilink_t *l) { (void)l; return 0; }
unsigned mpilink_index(const mpilink_t *l) { (void)l; return 0; }
unsigned mpilink_first_rank(const mpilink_t *l) { (void)l; return 0; }
int mpilink_send(mpilink_t *l, unsigned peer, int tag, const void *p, size_t n)
{
    (void)l, (void)peer, (void)tag, (void)p, (void)n;
    return -1;
}
int mpilink_recv(mpilink_t *l, unsigned *peer, int *tag, uint8_t **buf, size_t *n)
{
    (void)l, (void)peer, (void)tag, (void)buf, (void)n;
    return -1;
}
size_t mpilink_progress(mpilink_t *l) { (void)l; return 0; }
void mpilink_close(mpilink_t *l, bool clean) { (void)l, (void)clean; }

/* mpilink: see include/cluster/mpilink.h. Built only with MPI (Makefile). */
#include "cluster/mpilink.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

typedef struct {
    MPI_Request req;
    void *buf;
} pending_t;

struct mpilink {
    MPI_Comm comm;          /* MPI_COMM_WORLD, or the intercommunicator of a spawn */
    bool world;             /* peers are world ranks 1.. (the conductor is 0) */
    mpilink_role_t role;
    unsigned ranks, index;
    pending_t *q;
    size_t nq, capq;
};

static void mpi_text(int rc, char *out, size_t len)
{
    char msg[MPI_MAX_ERROR_STRING];
    int n = 0;
    if (MPI_Error_string(rc, msg, &n) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", rc);
    snprintf(out, len, "%s", msg);
}

mpilink_t *mpilink_open(const char *mode, int *argc, char ***argv, const char *argv0, char **args,
                        unsigned ranks, const char *hostfile, char *err, size_t errlen)
{
    bool spawn = strcmp(mode, "spawn") == 0;
    if (spawn) {
        /* Open MPI (ignored by others): a rank that dies must not take the
         * job down with it; the conductor notices, reports and ends the test
         * itself. Set before MPI starts: the runtime it starts reads them. */
        setenv("OMPI_MCA_orte_abort_on_non_zero_status", "0", 0);
        setenv("OMPI_MCA_orte_enable_recovery", "1", 0);
        setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
        /* Ranks mostly wait on the network: more of them than a host has
         * cores (or hostfile slots) is normal for load, not an error. */
        setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 0);
    }
    int provided = 0;
    int rc = MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) {
        snprintf(err, errlen, "MPI could not start (MPI_Init_thread failed)");
        return NULL;
    }
    mpilink_t *l = xcalloc(1, sizeof *l);
    char why[MPI_MAX_ERROR_STRING + 64];
    if (provided < MPI_THREAD_SERIALIZED) {
        /* The conductor's bridge thread calls MPI, one call at a time. */
        snprintf(err, errlen, "this MPI library does not allow MPI calls from a second thread "
                 "(MPI_THREAD_SERIALIZED)");
        goto fail;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm parent;
    MPI_Comm_get_parent(&parent);
    if (parent != MPI_COMM_NULL) {
        /* Spawned by a conductor: a user rank. */
        int me, size;
        MPI_Comm_set_errhandler(parent, MPI_ERRORS_RETURN);
        MPI_Comm_rank(parent, &me);
        MPI_Comm_size(parent, &size);
        l->comm = parent;
        l->role = MPILINK_USER;
        l->index = (unsigned)me;
        l->ranks = (unsigned)size;
        return l;
    }
    if (spawn) {
        MPI_Info info;
        MPI_Info_create(&info);
        if (hostfile)
            MPI_Info_set(info, "hostfile", hostfile);
        int *codes = xcalloc(ranks, sizeof *codes);
        MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
        rc = MPI_Comm_spawn(argv0, args, (int)ranks, info, 0, MPI_COMM_SELF, &l->comm, codes);
        MPI_Info_free(&info);
        int bad = -1;
        for (unsigned i = 0; rc == MPI_SUCCESS && i < ranks; i++)
            if (codes[i] != MPI_SUCCESS) {
                rc = codes[i];
                bad = (int)i;
                break;
            }
        free(codes);
        if (rc != MPI_SUCCESS) {
            mpi_text(rc, why, sizeof why);
            if (bad >= 0)
                snprintf(err, errlen, "rank %d could not start (MPI_Comm_spawn of %s%s%s): %s", bad,
                         argv0, hostfile ? " on the hosts of " : "", hostfile ? hostfile : "", why);
            else
                snprintf(err, errlen, "could not start %u ranks (MPI_Comm_spawn of %s%s%s): %s",
                         ranks, argv0, hostfile ? " on the hosts of " : "", hostfile ? hostfile : "",
                         why);
            goto fail;
        }
        MPI_Comm_set_errhandler(l->comm, MPI_ERRORS_RETURN);
        l->role = MPILINK_CONDUCTOR;
        l->ranks = ranks;
        return l;
    }
    int me, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) {
        snprintf(err, errlen, "--mpi: this MPI job has %d process; it needs 2 or more (mpirun -np "
                 "N+1: rank 0 conducts, the others run users), or use --ranks N", size);
        goto fail;
    }
    l->comm = MPI_COMM_WORLD;
    l->world = true;
    l->role = me == 0 ? MPILINK_CONDUCTOR : MPILINK_USER;
    l->ranks = (unsigned)size - 1;
    l->index = me > 0 ? (unsigned)me - 1 : 0;
    return l;
fail:
    free(l);
    MPI_Finalize();
    return NULL;
}

mpilink_role_t mpilink_role(const mpilink_t *l) { return l->role; }
unsigned mpilink_ranks(const mpilink_t *l) { return l->ranks; }
unsigned mpilink_index(const mpilink_t *l) { return l->index; }
unsigned mpilink_first_rank(const mpilink_t *l) { return l->world ? 1 : 0; }

/* The MPI rank of a peer in l->comm. */
static int mpi_rank(const mpilink_t *l, unsigned peer)
{
    if (l->role == MPILINK_USER)
        return 0;
    return l->world ? (int)peer + 1 : (int)peer;
}

int mpilink_send(mpilink_t *l, unsigned peer, int tag, const void *p, size_t n)
{
    if (n > (size_t)0x7fffffff)
        return -1;
    void *copy = xmalloc(n ? n : 1);
    memcpy(copy, p, n);
    if (l->nq == l->capq) {
        l->capq = l->capq ? l->capq * 2 : 16;
        l->q = xrealloc(l->q, l->capq * sizeof *l->q);
    }
    pending_t *s = &l->q[l->nq];
    if (MPI_Isend(copy, (int)n, MPI_BYTE, mpi_rank(l, peer), tag, l->comm, &s->req) != MPI_SUCCESS) {
        free(copy);
        return -1;
    }
    s->buf = copy;
    l->nq++;
    return 0;
}

int mpilink_recv(mpilink_t *l, unsigned *peer, int *tag, uint8_t **buf, size_t *n)
{
    int flag = 0, count = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, l->comm, &flag, &st) != MPI_SUCCESS)
        return -1;
    if (!flag)
        return 0;
    if (MPI_Get_count(&st, MPI_BYTE, &count) != MPI_SUCCESS || count < 0)
        return -1;
    uint8_t *b = xmalloc(count ? (size_t)count : 1);
    if (MPI_Recv(b, count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, l->comm, MPI_STATUS_IGNORE) !=
        MPI_SUCCESS) {
        free(b);
        return -1;
    }
    int src = st.MPI_SOURCE;
    if (l->role == MPILINK_USER)
        *peer = 0;
    else
        *peer = (unsigned)(l->world ? src - 1 : src);
    *tag = st.MPI_TAG;
    *buf = b;
    *n = (size_t)count;
    return 1;
}

size_t mpilink_progress(mpilink_t *l)
{
    size_t k = 0;
    for (size_t i = 0; i < l->nq; i++) {
        int done = 0;
        if (MPI_Test(&l->q[i].req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            done = 1;    /* failed: nothing more will come of it */
        if (done)
            free(l->q[i].buf);
        else
            l->q[k++] = l->q[i];
    }
    l->nq = k;
    return k;
}

void mpilink_close(mpilink_t *l, bool clean)
{
    if (!l)
        return;
    if (clean) {
        mpilink_progress(l);
        for (size_t i = 0; i < l->nq; i++)
            free(l->q[i].buf);     /* none left after a clean goodbye */
        free(l->q);
        free(l);
        MPI_Finalize();
        return;
    }
    /* A peer is gone: its sends never complete, and MPI_Finalize could wait
     * for it. The buffers stay with MPI (its requests point at them); the
     * process exits next. */
    free(l->q);
    free(l);
}

/* fuzz_cluster: the start of an MPI run (include/cluster/cluster.h): the
 * hello a rank sends and the setup the conductor sends, as decoded by the
 * other side, and the --source-addrs host map.
 *
 * The first byte picks which. Promises checked: a decoder returns 0 or -1;
 * every string it leaves is terminated within its field, also on -1; a
 * decoded message encodes back to exactly the bytes it came from (nothing
 * is read that was not there); a setup that says go has every index in
 * range; cluster_sources fills only terminated lists, and a part below the
 * count of parts, for any spec. */
#include "fuzz.h"
#include "cluster/cluster.h"

static void terminated(const char *s, size_t max)
{
    FUZZ_CHECK(memchr(s, '\0', max) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    uint8_t *again;
    size_t len;
    switch (data[0] % 3) {
    case 0: {
        cluster_hello_t h;
        int rc = cluster_get_hello(p, n, &h);
        FUZZ_CHECK(rc == 0 || rc == -1);
        terminated(h.version, sizeof h.version);
        terminated(h.host, sizeof h.host);
        terminated(h.error, sizeof h.error);
        if (rc == 0) {
            cluster_put_hello(&again, &len, &h);
            FUZZ_CHECK(len == n && memcmp(again, p, n) == 0);
            free(again);
        }
        break;
    }
    case 1: {
        cluster_setup_t s;
        int rc = cluster_get_setup(p, n, &s);
        FUZZ_CHECK(rc == 0 || rc == -1);
        terminated(s.sources, sizeof s.sources);
        if (rc == 0) {
            if (s.go)
                FUZZ_CHECK(s.rank_index < s.rank_count && s.slot_first < s.slot_total &&
                           s.source_part < s.source_parts);
            cluster_put_setup(&again, &len, &s);
            FUZZ_CHECK(len == n && memcmp(again, p, n) == 0);
            free(again);
        }
        break;
    }
    default: {
        /* Three ranks on two hosts, and the spec as typed. */
        cluster_hello_t h[3];
        memset(h, 0, sizeof h);
        snprintf(h[0].host, sizeof h[0].host, "a.lab");
        snprintf(h[1].host, sizeof h[1].host, "b");
        snprintf(h[2].host, sizeof h[2].host, "a.lab");
        cluster_setup_t s[3];
        char *spec = fuzz_cstr(p, n);
        char err[256];
        err[0] = 0;
        int rc = cluster_sources(spec, h, 3, s, err, sizeof err);
        FUZZ_CHECK(rc == 0 || rc == -1);
        if (rc == 0)
            for (int i = 0; i < 3; i++) {
                terminated(s[i].sources, sizeof s[i].sources);
                FUZZ_CHECK(s[i].source_part < s[i].source_parts);
            }
        else
            terminated(err, sizeof err);
        free(spec);
        break;
    }
    }
    return 0;
}

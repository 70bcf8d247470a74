/* test_cluster: what an MPI run's ranks and conductor say at the start (the
 * hello and the setup, and their decoders on every damaged form), the
 * fingerprint, the hostfile check and --source-addrs per host. The MPI
 * conversation itself runs in tests/e2e/mpi.sh against a real server. */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cluster/cluster.h"

static cluster_hello_t sample_hello(void)
{
    cluster_hello_t h;
    memset(&h, 0, sizeof h);
    snprintf(h.version, sizeof h.version, "0.1.0");
    h.proto = CLUSTER_PROTO;
    snprintf(h.host, sizeof h.host, "node7.example");
    h.pid = 4242;
    h.options = 0x1122334455667788ull;
    h.plan = 0x99aabbccddeeff00ull;
    h.workers = 3;
    h.fd_limit = 20000;
    snprintf(h.error, sizeof h.error, "plan.hopper:3: unknown key 'wiat'");
    return h;
}

TEST(hello_round_trip)
{
    cluster_hello_t h = sample_hello(), back;
    uint8_t *buf;
    size_t n;
    cluster_put_hello(&buf, &n, &h);
    CHECK_INT(cluster_get_hello(buf, n, &back), 0);
    CHECK_STR(back.version, "0.1.0");
    CHECK_STR(back.host, "node7.example");
    CHECK_STR(back.error, "plan.hopper:3: unknown key 'wiat'");
    CHECK_INT(back.proto, CLUSTER_PROTO);
    CHECK_INT(back.pid, 4242);
    CHECK(back.options == h.options && back.plan == h.plan);
    CHECK_INT(back.workers, 3);
    CHECK_INT(back.fd_limit, 20000);
    /* Every shorter or longer form is refused, never read past its end. */
    for (size_t k = 0; k < n; k++)
        CHECK_INT(cluster_get_hello(buf, k, &back), -1);
    uint8_t *longer = malloc(n + 1);
    memcpy(longer, buf, n);
    longer[n] = 0;
    CHECK_INT(cluster_get_hello(longer, n + 1, &back), -1);
    free(longer);
    /* A setup is not a hello. */
    buf[4] = 2;
    CHECK_INT(cluster_get_hello(buf, n, &back), -1);
    free(buf);
}

TEST(hello_strings_are_bounded)
{
    /* A host name that claims more than the field holds is refused. */
    cluster_hello_t h = sample_hello(), back;
    uint8_t *buf;
    size_t n;
    cluster_put_hello(&buf, &n, &h);
    /* The version string's length (right after the 5-byte header) grows. */
    buf[5] = 200;
    CHECK_INT(cluster_get_hello(buf, n, &back), -1);
    CHECK(back.version[0] == 0);
    free(buf);
    /* Over-long text is cut at the field's size when sent. */
    memset(h.host, 'x', sizeof h.host);
    cluster_put_hello(&buf, &n, &h);
    CHECK_INT(cluster_get_hello(buf, n, &back), 0);
    CHECK_INT(strlen(back.host), sizeof back.host - 1);
    free(buf);
}

TEST(setup_round_trip_and_ranges)
{
    cluster_setup_t s, back;
    memset(&s, 0, sizeof s);
    s.go = 1;
    s.seed = 77;
    s.rank_index = 2;
    s.rank_count = 4;
    s.slot_first = 4;
    s.slot_total = 8;
    s.users = 25000;
    s.start_users = 24000;
    s.max_users = 60000;
    snprintf(s.sources, sizeof s.sources, "127.0.0.1-127.0.0.16");
    s.source_part = 2;
    s.source_parts = 4;
    uint8_t *buf;
    size_t n;
    cluster_put_setup(&buf, &n, &s);
    CHECK_INT(cluster_get_setup(buf, n, &back), 0);
    CHECK_INT(back.seed, 77);
    CHECK_INT(back.rank_index, 2);
    CHECK_INT(back.slot_total, 8);
    CHECK_INT(back.users, 25000);
    CHECK_INT(back.start_users, 24000);
    CHECK_INT(back.max_users, 60000);
    CHECK_STR(back.sources, "127.0.0.1-127.0.0.16");
    CHECK_INT(back.source_part, 2);
    for (size_t k = 0; k < n; k++)
        CHECK_INT(cluster_get_setup(buf, k, &back), -1);
    free(buf);
    /* Numbers that index anything must be in range. */
    cluster_setup_t bad[4];
    for (int i = 0; i < 4; i++)
        bad[i] = s;
    bad[0].rank_index = 4;
    bad[1].slot_first = 8;
    bad[2].source_part = 4;
    bad[3].slot_total = 0;
    for (int i = 0; i < 4; i++) {
        cluster_put_setup(&buf, &n, &bad[i]);
        CHECK_INT(cluster_get_setup(buf, n, &back), -1);
        free(buf);
    }
    /* "Leave" needs no ranges. */
    cluster_setup_t leave;
    memset(&leave, 0, sizeof leave);
    cluster_put_setup(&buf, &n, &leave);
    CHECK_INT(cluster_get_setup(buf, n, &back), 0);
    CHECK_INT(back.go, 0);
    free(buf);
}

TEST(conductor_options)
{
    CHECK_INT(cluster_conductor_option("--hostfile"), 2);
    CHECK_INT(cluster_conductor_option("--hostfile=hosts"), 1);
    CHECK_INT(cluster_conductor_option("--spawn-timeout"), 2);
    CHECK_INT(cluster_conductor_option("--spawn-timeout=5s"), 1);
    CHECK_INT(cluster_conductor_option("--hostfiles"), 0);
    CHECK_INT(cluster_conductor_option("--ranks"), 0);
    CHECK_INT(cluster_conductor_option("hosts"), 0);
}

TEST(fingerprint)
{
    uint64_t a = cluster_fingerprint(0, "-u\0" "100", 6);
    CHECK(a == cluster_fingerprint(0, "-u\0" "100", 6));
    CHECK(a != cluster_fingerprint(0, "-u\0" "101", 6));
    /* Arguments are hashed with their ends: "-u1" "00" differs from "-u" "100". */
    uint64_t x = cluster_fingerprint(cluster_fingerprint(0, "-u1", 4), "00", 3);
    uint64_t y = cluster_fingerprint(cluster_fingerprint(0, "-u", 3), "100", 4);
    CHECK(x != y);
}

static char dir[] = "/tmp/test_cluster.XXXXXX";

static const char *put(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(hostfile_check)
{
    char err[512];
    CHECK_INT(cluster_check_hostfile(put("ok", "# the lab\nnode1 slots=4\nnode2.example max_slots=8 "
                                            "slots=2\n\n  10.0.0.3\n"), err, sizeof err), 0);
    CHECK_INT(cluster_check_hostfile(put("bad", "node1 slots=4\nnode2 slots=x\n"), err, sizeof err), -1);
    CHECK(strstr(err, "/bad:2: 'slots=x'") != NULL);
    CHECK_INT(cluster_check_hostfile(put("key", "node1 cores=4\n"), err, sizeof err), -1);
    CHECK(strstr(err, "/key:1: 'cores=4'") != NULL);
    CHECK_INT(cluster_check_hostfile(put("zero", "node1 slots=0\n"), err, sizeof err), -1);
    CHECK_INT(cluster_check_hostfile(put("name", "node*1 slots=1\n"), err, sizeof err), -1);
    CHECK(strstr(err, "/name:1: 'node*1' is not a host name") != NULL);
    CHECK_INT(cluster_check_hostfile(put("empty", "# nobody\n\n"), err, sizeof err), -1);
    CHECK(strstr(err, "no host in it") != NULL);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing", dir);
    CHECK_INT(cluster_check_hostfile(missing, err, sizeof err), -1);
    CHECK(strstr(err, "--hostfile") != NULL && strstr(err, "No such file") != NULL);
}

static void hosts(cluster_hello_t *h, const char *const *names, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        memset(&h[i], 0, sizeof h[i]);
        snprintf(h[i].host, sizeof h[i].host, "%s", names[i]);
    }
}

TEST(sources_per_host)
{
    cluster_hello_t h[4];
    cluster_setup_t s[4];
    char err[512];
    const char *names[] = {"a.lab", "b.lab", "a.lab", "c"};
    hosts(h, names, 4);
    /* No option: nothing. */
    CHECK_INT(cluster_sources(NULL, h, 4, s, err, sizeof err), 0);
    CHECK_STR(s[0].sources, "");
    /* A plain list: every host's; a's two ranks take halves. */
    CHECK_INT(cluster_sources("10.0.0.1-10.0.0.4", h, 4, s, err, sizeof err), 0);
    CHECK_STR(s[1].sources, "10.0.0.1-10.0.0.4");
    CHECK_INT(s[0].source_part, 0);
    CHECK_INT(s[0].source_parts, 2);
    CHECK_INT(s[2].source_part, 1);
    CHECK_INT(s[2].source_parts, 2);
    CHECK_INT(s[3].source_parts, 1);
    /* Per host, short names matching either way. */
    CHECK_INT(cluster_sources("a=10.0.0.1-10.0.0.8;b.lab=10.0.1.1;c.lab=10.0.2.1,10.0.2.2", h, 4, s,
                              err, sizeof err), 0);
    CHECK_STR(s[0].sources, "10.0.0.1-10.0.0.8");
    CHECK_STR(s[2].sources, "10.0.0.1-10.0.0.8");
    CHECK_STR(s[1].sources, "10.0.1.1");
    CHECK_STR(s[3].sources, "10.0.2.1,10.0.2.2");
    /* A host the list leaves out, and an item without a host. */
    CHECK_INT(cluster_sources("a=10.0.0.1;b=10.0.1.1", h, 4, s, err, sizeof err), -1);
    CHECK(strstr(err, "host c: --source-addrs names no addresses for host c") != NULL);
    CHECK_INT(cluster_sources("a=10.0.0.1;10.0.1.1", h, 4, s, err, sizeof err), -1);
    CHECK(strstr(err, "expected HOST=ADDRESSES") != NULL);
    /* "ab" is not "a". */
    const char *other[] = {"ab"};
    hosts(h, other, 1);
    CHECK_INT(cluster_sources("a=10.0.0.1", h, 1, s, err, sizeof err), -1);
}

int main(void)
{
    check_prog = "test_cluster";
    if (!mkdtemp(dir))
        return 2;
    RUN(hello_round_trip);
    RUN(hello_strings_are_bounded);
    RUN(setup_round_trip_and_ranges);
    RUN(conductor_options);
    RUN(fingerprint);
    RUN(hostfile_check);
    RUN(sources_per_host);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 2;
    return check_done();
}

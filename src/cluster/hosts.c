/* hosts: what an MPI run checks about hosts before MPI starts (the
 * hostfile) and how --source-addrs is given per host. See
 * include/cluster/cluster.h. */
#include "cluster/cluster.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

int cluster_conductor_option(const char *arg)
{
    const char *names[] = {"--hostfile", "--spawn-timeout"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(arg, names[i], n) == 0 && (arg[n] == 0 || arg[n] == '='))
            return arg[n] == '=' ? 1 : 2;
    }
    return 0;
}

int cluster_check_hostfile(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "--hostfile %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    unsigned no = 0, hosts = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        no++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        if (!tok)
            continue;
        for (const char *q = tok; *q; q++)
            if (!isalnum((unsigned char)*q) && !strchr(".-_:[]", *q)) {
                snprintf(err, errlen, "%s:%u: '%.60s' is not a host name", path, no, tok);
                rc = -1;
                break;
            }
        while (rc == 0 && (tok = strtok_r(NULL, " \t\r\n", &save))) {
            char *eq = strchr(tok, '=');
            const char *keys[] = {"slots", "max_slots", "max-slots", "count", "cpu"};
            bool known = false;
            for (size_t k = 0; eq && k < sizeof keys / sizeof keys[0]; k++)
                known = known || ((size_t)(eq - tok) == strlen(keys[k]) &&
                                  strncmp(tok, keys[k], strlen(keys[k])) == 0);
            char *end = NULL;
            long v = eq ? strtol(eq + 1, &end, 10) : 0;
            if (!known || !end || *end || end == eq + 1 || v < 1) {
                snprintf(err, errlen, "%s:%u: '%.60s': expected slots=N or max_slots=N (N from 1) "
                         "after the host name", path, no, tok);
                rc = -1;
            }
        }
        hosts++;
    }
    fclose(f);
    if (rc == 0 && hosts == 0) {
        snprintf(err, errlen, "--hostfile %s: no host in it", path);
        rc = -1;
    }
    return rc;
}

/* Whether a host name of the spec names the host a rank reported. */
static bool same_host(const char *spec, size_t n, const char *host)
{
    size_t h = strlen(host), hs = strcspn(host, "."), ss = strcspn(spec, ".");
    if (ss > n)
        ss = n;
    if (n == h && strncmp(spec, host, n) == 0)
        return true;
    /* A short name on either side. */
    return ss == hs && strncmp(spec, host, hs) == 0 && (ss == n || hs == h);
}

int cluster_sources(const char *spec, const cluster_hello_t *hellos, unsigned n,
                    cluster_setup_t *out, char *err, size_t errlen)
{
    for (unsigned r = 0; r < n; r++) {
        out[r].sources[0] = 0;
        out[r].source_part = 0;
        out[r].source_parts = 1;
    }
    if (!spec || !spec[0])
        return 0;
    bool per_host = strchr(spec, '=') != NULL;
    for (unsigned r = 0; r < n; r++) {
        const char *list = spec;
        size_t len = strlen(spec);
        if (per_host) {
            list = NULL;
            for (const char *p = spec; *p;) {
                size_t item = strcspn(p, ";");
                const char *eq = memchr(p, '=', item);
                if (!eq) {
                    snprintf(err, errlen, "--source-addrs: '%.*s': expected HOST=ADDRESSES in a "
                             "list per host (HOST=LIST;HOST=LIST)", (int)(item < 60 ? item : 60), p);
                    return -1;
                }
                if (same_host(p, (size_t)(eq - p), hellos[r].host)) {
                    list = eq + 1;
                    len = item - (size_t)(eq + 1 - p);
                    break;
                }
                p += item;
                if (*p == ';')
                    p++;
            }
            if (!list) {
                snprintf(err, errlen, "host %s: --source-addrs names no addresses for "
                         "host %s", hellos[r].host, hellos[r].host);
                return -1;
            }
        }
        if (len >= sizeof out[r].sources) {
            snprintf(err, errlen, "--source-addrs: the list for host %s is over %d characters",
                     hellos[r].host, CLUSTER_TEXT_MAX - 1);
            return -1;
        }
        memcpy(out[r].sources, list, len);
        out[r].sources[len] = 0;
        /* Ranks on the same host share its list: each its own part. */
        unsigned part = 0, parts = 0;
        for (unsigned q = 0; q < n; q++)
            if (strcmp(hellos[q].host, hellos[r].host) == 0) {
                if (q < r)
                    part++;
                parts++;
            }
        out[r].source_part = part;
        out[r].source_parts = parts;
    }
    return 0;
}

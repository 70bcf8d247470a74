/* h1_origin: where the native client's connections go, and from where.
 * See src/http/h1_internal.h. Runs once per run, at start: the blocking name
 * lookup costs nothing per request. */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h1_internal.h"
#include "util/url.h"
#include "util/xalloc.h"

#define MAX_ADDRS 8

bool h1_usable(const char *base_url)
{
    if (base_url == NULL || url_check_base(base_url, NULL) != 0 || strncasecmp(base_url, "http://", 7) != 0)
        return false;
    const char *auth = base_url + 7;
    size_t n = strcspn(auth, "/?#");
    return memchr(auth, '@', n) == NULL;
}

bool h1_origin_same(const h1_origin_t *o, const char *a, size_t n)
{
    return url_same_authority(a, n, o->origin_host, strlen(o->origin_host));
}

int h1_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* --source-addrs, parsed once by main: the target's address is resolved in
 * their family, so they must all share it. */
static int use_sources(h1_origin_t *o, const srcaddr_list_t *l, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->addr[i].ss_family != l->addr[0].ss_family)
            return h1_errf(err, errlen, "--source-addrs: \"%s\": IPv4 and IPv6 cannot be mixed", l->text[i]);
    o->sources = l->addr;
    o->n_sources = l->n;
    return 0;
}

int h1_origin_init(h1_origin_t *o, uv_loop_t *loop, const char *base_url,
                   const srcaddr_list_t *sources, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->loop = loop;
    if (!h1_usable(base_url))
        return h1_errf(err, errlen, "\"%s\": the native HTTP/1.1 client needs a plain http:// URL without credentials",
                    base_url ? base_url : "");
    const char *auth = base_url + 7;
    size_t auth_len = strcspn(auth, "/?#");
    const char *host;
    size_t host_len;
    unsigned port;
    if (!url_split_authority(auth, auth_len, &host, &host_len, &port))
        return h1_errf(err, errlen, "\"%s\": cannot read the host and port", base_url);

    if (sources && sources->n && use_sources(o, sources, err, errlen) != 0)
        return -1;

    char node[256], service[8];
    if (host_len >= sizeof node)
        return h1_errf(err, errlen, "\"%s\": the host name is too long", base_url);
    memcpy(node, host, host_len);
    node[host_len] = '\0';
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    hints.ai_family = o->n_sources ? o->sources[0].ss_family : AF_UNSPEC;
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(node, service, &hints, &res);
    if (rc != 0 || !res) {
        if (hints.ai_family != AF_UNSPEC)
            return h1_errf(err, errlen, "cannot resolve host \"%s\" to an %s address (the family of the source addresses): %s",
                        node, hints.ai_family == AF_INET ? "IPv4" : "IPv6", gai_strerror(rc));
        return h1_errf(err, errlen, "cannot resolve host \"%s\": %s", node, gai_strerror(rc));
    }
    o->addrs = xcalloc(MAX_ADDRS, sizeof *o->addrs);
    for (struct addrinfo *ai = res; ai && o->n_addrs < MAX_ADDRS; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof *o->addrs)
            continue;
        memcpy(&o->addrs[o->n_addrs++], ai->ai_addr, ai->ai_addrlen);
    }
    freeaddrinfo(res);
    if (o->n_addrs == 0) {
        h1_origin_free(o);
        return h1_errf(err, errlen, "cannot resolve host \"%s\": no IPv4 or IPv6 address", node);
    }
    o->addr = o->addrs[0];

    /* The Host header as libcurl writes it: the host as given, the port only
     * when it is not 80. */
    bool v6 = auth[0] == '[';
    size_t cap = host_len + 24;
    o->origin_url = xmalloc(cap);
    if (port == 80)
        snprintf(o->origin_url, cap, "http://%s%s%s", v6 ? "[" : "", node, v6 ? "]" : "");
    else
        snprintf(o->origin_url, cap, "http://%s%s%s:%u", v6 ? "[" : "", node, v6 ? "]" : "", port);
    o->origin_host = o->origin_url + strlen("http://");
    o->read_buf = xmalloc(H1_READ_BUF);
    return 0;
}

void h1_origin_free(h1_origin_t *o)
{
    free(o->origin_url);
    free(o->read_buf);
    free(o->addrs);
    o->addrs = NULL;
    o->n_addrs = 0;
    o->origin_url = o->origin_host = NULL;
    o->sources = NULL;
    o->read_buf = NULL;
    o->n_sources = 0;
}

/* h1_origin: where the native client's connections go, and from where.
 * See src/http/h1_internal.h. Runs once per run, at start: the blocking name
 * lookup costs nothing per request. */
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "h1_internal.h"
#include "util/url.h"
#include "util/xalloc.h"

#define MAX_ADDRS 8

/* The length of the base URL's scheme and "://" (http or https), or 0. */
static size_t scheme_prefix(const char *base_url)
{
    if (strncasecmp(base_url, "http://", 7) == 0)
        return 7;
    if (strncasecmp(base_url, "https://", 8) == 0)
        return 8;
    return 0;
}

bool h1_usable(const char *base_url)
{
    if (base_url == NULL || url_check_base(base_url, NULL) != 0 || scheme_prefix(base_url) == 0)
        return false;
    const char *auth = base_url + scheme_prefix(base_url);
    size_t n = strcspn(auth, "/?#");
    return memchr(auth, '@', n) == NULL;
}

bool h1_origin_same(const h1_origin_t *o, const char *a, size_t n)
{
    return url_same_authority_in(a, n, o->origin_host, strlen(o->origin_host),
                                 o->https ? 443 : 80);
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
        return h1_errf(err, errlen, "\"%s\": hopper's own client needs an http:// or https:// URL without credentials",
                    base_url ? base_url : "");
    size_t scheme = scheme_prefix(base_url);
    o->https = scheme == 8;
    unsigned default_port = o->https ? 443 : 80;
    const char *auth = base_url + scheme;
    size_t auth_len = strcspn(auth, "/?#");
    const char *host;
    size_t host_len;
    unsigned port;
    if (!url_split_authority_in(auth, auth_len, default_port, &host, &host_len, &port))
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
     * when it is not the scheme's default. */
    bool v6 = auth[0] == '[';
    size_t cap = host_len + 26;
    const char *sch = o->https ? "https://" : "http://";
    o->origin_url = xmalloc(cap);
    if (port == default_port)
        snprintf(o->origin_url, cap, "%s%s%s%s", sch, v6 ? "[" : "", node, v6 ? "]" : "");
    else
        snprintf(o->origin_url, cap, "%s%s%s%s:%u", sch, v6 ? "[" : "", node, v6 ? "]" : "", port);
    o->origin_host = o->origin_url + strlen(sch);
    o->tls_host = xstrdup(node);
    o->read_buf = xmalloc(H1_READ_BUF);
    return 0;
}

int h1_origin_use_tls(h1_origin_t *o, const http_client_config_t *cfg, bool h2, char *err,
                      size_t errlen)
{
    if (!o->https)
        return 0;
    tls_config_t tc = {.h2 = h2, .ca_file = cfg->ca_file, .cert_file = cfg->cert_file,
                       .key_file = cfg->key_file, .insecure = cfg->insecure,
                       .no_resume = cfg->no_tls_resume};
    o->tls = tls_ctx_new(&tc, err, errlen);
    return o->tls ? 0 : -1;
}

int h1_origin_connect(h1_origin_t *o, uv_tcp_t *tcp, uv_connect_t *req, unsigned addr_try,
                      uv_connect_cb cb, bool *opened)
{
    int err;
    *opened = false;
    if (o->n_sources) {
        /* Each source address has its own ephemeral ports: round-robin over
         * them lifts the ~28k connections one address pair allows. */
        const struct sockaddr *src = (const struct sockaddr *)&o->sources[o->next_source];
        o->next_source = (o->next_source + 1) % o->n_sources;
        err = uv_tcp_init_ex(o->loop, tcp, src->sa_family);
        if (err)
            return err;
        *opened = true;
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)tcp, &fd) == 0) {
            /* Pick the port at connect, not bind: then it only has to be
             * unique per destination, not per source address. */
            int on = 1;
            (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
        }
        err = uv_tcp_bind(tcp, src, 0);
    } else {
        err = uv_tcp_init(o->loop, tcp);
        if (err)
            return err;
        *opened = true;
    }
    if (!err)
        err = uv_tcp_nodelay(tcp, 1);
    const struct sockaddr_storage *to = &o->addr;
    if (addr_try && o->n_addrs)
        to = &o->addrs[(o->preferred + addr_try) % o->n_addrs];
    if (!err)
        err = uv_tcp_connect(req, tcp, (const struct sockaddr *)to, cb);
    return err;
}

void h1_origin_connected(h1_origin_t *o, unsigned addr_try)
{
    if (addr_try == 0 || o->n_addrs == 0)
        return;
    /* Later connections go straight to the address that answered. */
    o->preferred = (o->preferred + addr_try) % o->n_addrs;
    memcpy(&o->addr, &o->addrs[o->preferred], sizeof o->addr);
}

void h1_origin_free(h1_origin_t *o)
{
    free(o->origin_url);
    free(o->tls_host);
    o->tls_host = NULL;
    free(o->read_buf);
    free(o->addrs);
    o->addrs = NULL;
    o->n_addrs = 0;
    o->origin_url = o->origin_host = NULL;
    o->sources = NULL;
    o->read_buf = NULL;
    o->n_sources = 0;
}

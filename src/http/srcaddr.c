/* srcaddr: see include/http/srcaddr.h. */
#include "http/srcaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int add(srcaddr_list_t *o, const struct sockaddr_storage *ss, const char *item, char *err,
               size_t errlen)
{
    if (o->n >= SRCADDR_MAX) {
        snprintf(err, errlen, "--source-addrs: more than %d addresses (at '%.60s')", SRCADDR_MAX, item);
        return -1;
    }
    o->addr[o->n] = *ss;
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, o->text[o->n], 48);
    else
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, o->text[o->n], 48);
    o->n++;
    return 0;
}

static int one(const char *item, srcaddr_list_t *o, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct in_addr a, b;
    const char *dash = strchr(item, '-');
    if (dash) {
        char lo[64], hi[64];
        size_t n = (size_t)(dash - item);
        if (n >= sizeof lo || strlen(dash + 1) >= sizeof hi)
            goto bad;
        memcpy(lo, item, n);
        lo[n] = '\0';
        strcpy(hi, dash + 1);
        /* "127.0.0.1-4" is the same as "127.0.0.1-127.0.0.4". */
        if (!strchr(hi, '.')) {
            char full[128];
            const char *last = strrchr(lo, '.');
            if (!last || (size_t)(last - lo) + 1 + strlen(hi) >= sizeof full)
                goto bad;
            snprintf(full, sizeof full, "%.*s%s", (int)(last - lo + 1), lo, hi);
            if (strlen(full) >= sizeof hi)
                goto bad;
            strcpy(hi, full);
        }
        if (inet_pton(AF_INET, lo, &a) != 1 || inet_pton(AF_INET, hi, &b) != 1)
            goto bad;
        uint32_t x = ntohl(a.s_addr), y = ntohl(b.s_addr);
        if (x > y) {
            snprintf(err, errlen, "--source-addrs: '%.60s' ends before it starts", item);
            return -1;
        }
        if (y - x >= SRCADDR_MAX) {
            snprintf(err, errlen, "--source-addrs: more than %d addresses (at '%.60s')", SRCADDR_MAX, item);
            return -1;
        }
        for (uint32_t v = x; v <= y; v++) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            sin->sin_family = AF_INET;
            sin->sin_addr.s_addr = htonl(v);
            if (add(o, &ss, item, err, errlen) != 0)
                return -1;
        }
        return 0;
    }
    if (inet_pton(AF_INET, item, &a) == 1) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr = a;
        return add(o, &ss, item, err, errlen);
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET6, item, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        return add(o, &ss, item, err, errlen);
    }
bad:
    snprintf(err, errlen, "--source-addrs: '%.60s' is not an address or a range such as "
             "127.0.0.1-127.0.0.4", item);
    return -1;
}

int srcaddr_parse(const char *list, srcaddr_list_t *out, char *err, size_t errlen)
{
    out->n = 0;
    char item[128];
    const char *p = list;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && (*p == ' ')) {
            p++;
            n--;
        }
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 0 || n >= sizeof item) {
            snprintf(err, errlen, "--source-addrs: an empty or overlong item in '%.60s'", list);
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        if (one(item, out, err, errlen) != 0)
            return -1;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (out->n == 0) {
        snprintf(err, errlen, "--source-addrs: no address given");
        return -1;
    }
    return 0;
}

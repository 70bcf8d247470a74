/* srcaddr: the local addresses users connect from (--source-addrs).
 *
 * One server address and port give a client at most one connection per local
 * port: about 28,000 with Linux's default ephemeral range. Past that, users
 * connect from several local addresses, each with its own range:
 * "127.0.0.1-127.0.0.4" (a range of IPv4 addresses), "10.0.0.5,10.0.0.6",
 * "::1". Users are given addresses round-robin when they start. */
#ifndef HOPPER_SRCADDR_H
#define HOPPER_SRCADDR_H

#include <stddef.h>
#include <sys/socket.h>

#define SRCADDR_MAX 256

typedef struct {
    struct sockaddr_storage addr[SRCADDR_MAX];
    char text[SRCADDR_MAX][48];     /* the address as text, for libcurl */
    size_t n;
} srcaddr_list_t;

/* Parses a comma-separated list of addresses and IPv4 ranges. 0, or -1 with
 * a message naming the bad part. */
int srcaddr_parse(const char *list, srcaddr_list_t *out, char *err, size_t errlen);

#endif

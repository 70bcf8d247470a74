/* fault_proc.h: a small scripted HTTP server in a forked child, for unit
 * tests of the HTTP clients: it does what hopper-target never does (closing
 * idle connections, dying mid-body, malformed answers, redirects, cookies,
 * answers in pieces) and can echo each request back as its answer's body, so
 * a test sees the bytes a client sent. Header-only: each test program
 * includes it once. */
#ifndef HOPPER_FAULT_PROC_H
#define HOPPER_FAULT_PROC_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* One connection's script: a step per request it reads. The first byte says
 * what to do, the rest is the answer:
 *   'r' answer, keep the connection     'c' answer, then close
 *   'x' close without an answer         'R' reset (RST) without an answer
 *   'e' answer 200 with the request as the body ("peer=ADDR\n" first)
 *   'E' the same, then close            'd' wait 150 ms, then as 'r'
 *   '*' as 'r' for this and every later request on the connection
 *   's' as 'r', reading a body of any size ('e' and the rest keep 64 KB)
 *   'h' as 'r' as soon as the head is read, without reading the body
 *       (nor anything else for 200 ms: the client sees the answer while
 *       the rest of its request is still queued)
 *   'p' as 'r', the answer written a byte at a time, 2 ms apart (the
 *       client reads it in pieces: names and values split across reads)
 * After its last step a connection is held until the client closes it. */
#define FAULT_STEPS 12

typedef struct {
    const char *steps[FAULT_STEPS];
} fault_conn_t;

typedef struct {
    pid_t pid;
    unsigned port;
    char url[64];
} fault_t;

static bool wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

enum { READ_ALL, READ_SINK_BODY, READ_HEAD };

/* Reads one request into buf: its head, and its body by Content-Length
 * (READ_ALL), or the head with the body read and dropped (READ_SINK_BODY,
 * for bodies larger than buf), or only as far as the head (READ_HEAD).
 * Returns the bytes kept, 0 at EOF. */
static size_t read_request(int fd, char *buf, size_t cap, int mode)
{
    size_t used = 0;
    for (;;) {
        buf[used] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            size_t head = (size_t)(end + 4 - buf), body = 0;
            for (char *p = buf; p < end; p++)
                if (strncasecmp(p, "\ncontent-length:", 16) == 0)
                    body = (size_t)atol(p + 16);
            if (mode == READ_HEAD || used >= head + body)
                return used;
            if (mode == READ_SINK_BODY) {
                size_t left = head + body - used;
                while (left > 0 && wait_readable(fd, 5000)) {
                    ssize_t n = read(fd, buf + head, left < cap - head - 1 ? left : cap - head - 1);
                    if (n <= 0)
                        return 0;
                    left -= (size_t)n;
                }
                buf[head] = '\0';
                return left == 0 ? head : 0;
            }
        }
        if (used + 1 >= cap || !wait_readable(fd, 5000))
            return 0;
        ssize_t n = read(fd, buf + used, cap - 1 - used);
        if (n <= 0)
            return 0;
        used += (size_t)n;
    }
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

/* Writes a scripted answer, with "{PORT}" replaced by the server's port. */
static void send_answer(int fd, const char *answer, unsigned port)
{
    const char *mark = strstr(answer, "{PORT}");
    if (!mark) {
        write_all(fd, answer, strlen(answer));
        return;
    }
    char p[16];
    int n = snprintf(p, sizeof p, "%u", port);
    write_all(fd, answer, (size_t)(mark - answer));
    write_all(fd, p, (size_t)n);
    send_answer(fd, mark + 6, port);
}

static void send_in_pieces(int fd, const char *answer)
{
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    for (const char *p = answer; *p; p++) {
        write_all(fd, p, 1);
        usleep(2000);
    }
}

static void echo(int fd, const char *req, size_t len)
{
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    char addr[64] = "?";
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) == 0)
        inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof addr);
    char body[8192];
    int n = snprintf(body, sizeof body, "peer=%s\n%.*s", addr, (int)len, req);
    char head[128];
    int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", n);
    write_all(fd, head, (size_t)h);
    write_all(fd, body, (size_t)n);
}

static void fault_child(int lfd, unsigned port, const fault_conn_t *conns, size_t n_conns)
{
    alarm(20); /* whatever happens, this process ends */
    char *req = malloc(65536);
    int status = 0;
    for (size_t i = 0; i < n_conns; i++) {
        if (!wait_readable(lfd, 5000)) {
            status = 1;
            break;
        }
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            status = 1;
            break;
        }
        bool open = true, forever = false;
        const char *repeat = NULL;
        for (size_t s = 0; open && (forever || s < FAULT_STEPS) && (forever || conns[i].steps[s]); s++) {
            const char *step = forever ? repeat : conns[i].steps[s];
            int mode = step[0] == 's' ? READ_SINK_BODY : step[0] == 'h' ? READ_HEAD : READ_ALL;
            size_t len = read_request(fd, req, 65536, mode);
            if (len == 0) {
                open = false;
                if (!forever)
                    status = 1; /* the client went away before the script ended */
                break;
            }
            const char *answer = step + 1;
            switch (step[0]) {
            case '*':
                forever = true;
                repeat = step;
                send_answer(fd, answer, port);
                break;
            case 'd':
                usleep(150000);
                send_answer(fd, answer, port);
                break;
            case 'r':
            case 's':
                send_answer(fd, answer, port);
                break;
            case 'h':
                send_answer(fd, answer, port);
                usleep(200000);
                break;
            case 'p':
                send_in_pieces(fd, answer);
                break;
            case 'c':
                send_answer(fd, answer, port);
                open = false;
                break;
            case 'x':
                open = false;
                break;
            case 'R': {
                struct linger lg = {.l_onoff = 1, .l_linger = 0};
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
                open = false;
                break;
            }
            case 'e':
            case 'E':
                echo(fd, req, len);
                open = step[0] == 'e';
                break;
            }
        }
        /* Hold the connection until the client closes it. */
        while (open && wait_readable(fd, 5000)) {
            ssize_t k = read(fd, req, 65536);
            if (k <= 0)
                break;
        }
        close(fd);
    }
    free(req);
    _exit(status);
}

static int fault_start(fault_t *f, const fault_conn_t *conns, size_t n_conns)
{
    memset(f, 0, sizeof *f);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 16) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    f->port = ntohs(a.sin_port);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", f->port);
    fflush(stdout);
    f->pid = fork();
    if (f->pid == 0)
        fault_child(lfd, f->port, conns, n_conns);
    close(lfd);
    return f->pid > 0 ? 0 : -1;
}

/* Waits (at most 5 s) for the script to end; its exit status, 0 if it ran to the end. */
static int fault_stop(fault_t *f)
{
    int st = 0;
    for (int i = 0; i < 500; i++) {
        pid_t r = waitpid(f->pid, &st, WNOHANG);
        if (r == f->pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
        usleep(10000);
    }
    kill(f->pid, SIGKILL);
    waitpid(f->pid, &st, 0);
    return 99;
}

#endif

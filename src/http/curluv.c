/* curluv: see include/http/curluv.h. */
#include "http/curluv.h"

#include <stdlib.h>

#include "util/xalloc.h"

struct curluv_sock {
    uv_poll_t poll;           /* poll.data points back at the curluv_t */
    curl_socket_t fd;
    curluv_sock_t *next;      /* in the spare list once closed */
};

static void drain(curluv_t *cu)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(cu->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* Copy what we need before removing: msg belongs to curl. */
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        curl_multi_remove_handle(cu->multi, easy);
        cu->done(cu, easy, rc, cu->arg);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    curluv_sock_t *s = (curluv_sock_t *)h;
    curluv_t *cu = h->data;
    int flags = 0, running;
    /* On a socket error libuv reports no events: let libcurl read and write
     * anyway, so it sees the reset itself (and retries a reused connection
     * that died before answering) instead of a bare "poll error". */
    if (status < 0)
        flags = CURL_CSELECT_ERR | CURL_CSELECT_IN | CURL_CSELECT_OUT;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(cu->multi, s->fd, flags, &running);
    drain(cu);
}

static void on_timeout(uv_timer_t *t)
{
    curluv_t *cu = t->data;
    int running;
    curl_multi_socket_action(cu->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    drain(cu);
}

/* CURLMOPT_TIMERFUNCTION: -1 stops the timer; 0 means "soon", which must not
 * call back into libcurl from here, so it arms the timer like any other. */
static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    curluv_t *cu = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&cu->timer);
    else
        uv_timer_start(&cu->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static void on_watch_closed(uv_handle_t *h)
{
    curluv_sock_t *s = (curluv_sock_t *)h;
    curluv_t *cu = h->data;
    cu->open_watches--;
    s->next = cu->spare;
    cu->spare = s;
}

/* CURLMOPT_SOCKETFUNCTION. On REMOVE the watch is closed right here: the same
 * fd number may come back at once for a new socket, and a stale watch on it
 * would be a bug. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    curluv_t *cu = userp;
    curluv_sock_t *s = socketp;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_watch_closed);
            curl_multi_assign(cu->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        if (cu->spare) {
            s = cu->spare;
            cu->spare = s->next;
        } else {
            s = xmalloc(sizeof *s);
        }
        s->fd = fd;
        if (uv_poll_init_socket(cu->loop, &s->poll, fd) != 0) {
            s->next = cu->spare;
            cu->spare = s;
            return -1;   /* curl fails the transfer */
        }
        s->poll.data = cu;
        cu->open_watches++;
        curl_multi_assign(cu->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

int curluv_init(curluv_t *cu, uv_loop_t *loop, curluv_done_cb done, void *arg)
{
    cu->loop = loop;
    cu->done = done;
    cu->arg = arg;
    cu->spare = NULL;
    cu->open_watches = 0;
    cu->closed = false;
    cu->multi = curl_multi_init();
    if (!cu->multi)
        return -1;
    uv_timer_init(loop, &cu->timer);
    cu->timer.data = cu;
    curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu);
    curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu);
    return 0;
}

CURLMcode curluv_add(curluv_t *cu, CURL *easy)
{
    return curl_multi_add_handle(cu->multi, easy);
}

void curluv_cancel(curluv_t *cu, CURL *easy)
{
    curl_multi_remove_handle(cu->multi, easy);
}

void curluv_close(curluv_t *cu)
{
    if (cu->closed)
        return;
    cu->closed = true;
    /* Cleanup may still report sockets it removes: on_socket closes them. */
    curl_multi_cleanup(cu->multi);
    cu->multi = NULL;
    uv_timer_stop(&cu->timer);
    uv_close((uv_handle_t *)&cu->timer, NULL);
}

void curluv_free(curluv_t *cu)
{
    while (cu->spare) {
        curluv_sock_t *s = cu->spare;
        cu->spare = s->next;
        free(s);
    }
}

/* curluv: libcurl's multi interface driven by a libuv loop.
 *
 * The bridge of curl's docs/examples/multi-uv.c, with its pitfalls handled:
 * CURLMOPT_SOCKETFUNCTION keeps one uv_poll_t per socket (found again through
 * curl_multi_assign), CURLMOPT_TIMERFUNCTION one uv_timer_t; both call
 * curl_multi_socket_action and then drain curl_multi_info_read. A finished
 * transfer is removed from the multi handle *before* the done callback runs,
 * so the callback may reuse the easy handle or add a new one at once.
 *
 * Lifetime: curluv_init, then transfers, then curluv_close (which cleans up the
 * multi handle and starts closing every libuv handle); once the loop has run
 * the close callbacks, curluv_free releases the memory. */
#ifndef HOPPER_CURLUV_H
#define HOPPER_CURLUV_H

#include <curl/curl.h>
#include <stdbool.h>
#include <uv.h>

typedef struct curluv curluv_t;

/* A transfer finished (result CURLE_OK or the error); easy is no longer part
 * of the multi handle. */
typedef void (*curluv_done_cb)(curluv_t *cu, CURL *easy, CURLcode result, void *arg);

typedef struct curluv_sock curluv_sock_t;

struct curluv {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    curluv_done_cb done;
    void *arg;
    curluv_sock_t *spare;     /* closed socket watches, kept for reuse */
    unsigned open_watches;
    bool closed;
};

/* Returns 0 or -1 (curl could not make a multi handle). */
int curluv_init(curluv_t *cu, uv_loop_t *loop, curluv_done_cb done, void *arg);

/* Starts a transfer; returns curl's code. */
CURLMcode curluv_add(curluv_t *cu, CURL *easy);

/* Cancels a transfer in progress (its done callback will not run). */
void curluv_cancel(curluv_t *cu, CURL *easy);

/* Ends the multi handle; every transfer must have finished or been cancelled. */
void curluv_close(curluv_t *cu);

/* After the loop has drained: frees what curluv_close left to close callbacks. */
void curluv_free(curluv_t *cu);

#endif

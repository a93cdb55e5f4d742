/*
 * loop: the event loop of one worker thread, over libuv.
 *
 * The rest of the code sees only this header: sockets (UDP, TCP listeners
 * and connections), signals, and the worker's timer wheel (base/timer.h),
 * which the loop advances and sleeps for. Everything created on a loop
 * belongs to its thread and is used only from it.
 *
 * Ownership: handles (struct loop_udp, loop_listener, loop_conn) are owned
 * by the loop once created; their owners release them with the *_close
 * functions and must not touch them afterwards. Close callbacks are not
 * used: a closed handle's memory is freed by the loop when libuv is done.
 *
 * Not here: DNS, files, thread pools (later, as message-passing work queues).
 */
#ifndef LOOP_LOOP_H
#define LOOP_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/timer.h"

struct loop;
struct loop_udp;
struct loop_listener;
struct loop_conn;

/* 0 or -errno. */
int loop_alloc(struct loop **lp);
/* Free a loop whose loop_run() has returned. NULL is fine. */
void loop_free(struct loop *l);
/* Run until loop_stop() and until every handle has closed. 0 or -errno. */
int loop_run(struct loop *l);
/* Close every handle still open and make loop_run() return. Idempotent. */
void loop_stop(struct loop *l);

/* The worker's timer wheel; timers started on it fire inside loop_run(). */
struct timer_wheel *loop_timers(struct loop *l);
/* Milliseconds on the wheel's clock (monotonic). */
uint64_t loop_now(const struct loop *l);
/*
 * The libuv loop underneath, for a library that runs on a foreign libuv loop
 * (libwebsockets). Its handles are its own: loop_stop() does not close them,
 * so such a library must be shut down before loop_run() can return.
 */
struct uv_loop_s *loop_uv(struct loop *l);

/*
 * Call @h(@arg) on the loop whenever @fd (not ours: the caller closes it,
 * after loop_fd_close()) is readable, level-triggered: @h must read what
 * made it readable (an eventfd of another thread's queue, for one).
 * *@wp (may be NULL) is for loop_fd_close(); loop_free() closes it too.
 */
struct loop_fd;
typedef void(loop_fd_h)(void *arg);
int loop_fd_watch(struct loop_fd **wp, struct loop *l, int fd, loop_fd_h *h, void *arg);
void loop_fd_close(struct loop_fd *w);

typedef void(loop_signal_h)(int signum, void *arg);
/* Call @h on @signum (SIGINT, SIGTERM...) from the loop. 0 or -errno. */
int loop_signal(struct loop *l, int signum, loop_signal_h *h, void *arg);

/* ---- UDP ---------------------------------------------------------------- */

/* One datagram; @buf is valid only during the call. */
typedef void(loop_udp_recv_h)(const char *buf, size_t len, const struct sockaddr *from, void *arg);

/*
 * Bind a UDP socket on @addr and deliver datagrams to @h. @rcvbuf sets
 * SO_RCVBUF when non-zero. 0 or -errno (-EADDRINUSE for a port in use).
 */
int loop_udp_open(struct loop *l, const struct sockaddr *addr, size_t rcvbuf, loop_udp_recv_h *h,
		  void *arg, struct loop_udp **up);
/* Send one datagram now; nothing is queued (UDP may drop). 0 or -errno. */
int loop_udp_send(struct loop_udp *u, const struct sockaddr *to, const void *buf, size_t len);
/* The bound address (for port 0). 0 or -errno. */
int loop_udp_local(const struct loop_udp *u, struct sockaddr_storage *ss);
void loop_udp_close(struct loop_udp *u);

/* ---- TCP ---------------------------------------------------------------- */

/* A new connection: the callee calls loop_conn_start() or loop_conn_close(). */
typedef void(loop_accept_h)(struct loop_conn *c, void *arg);
/* Bytes read; @buf is valid only during the call. */
typedef void(loop_conn_read_h)(struct loop_conn *c, const char *buf, size_t len, void *arg);
/* The peer closed or an error happened (@err 0 or -errno); @c is closing:
 * the callee must forget it and not call loop_conn_close(). */
typedef void(loop_conn_closed_h)(struct loop_conn *c, int err, void *arg);

int loop_listen(struct loop *l, const struct sockaddr *addr, loop_accept_h *h, void *arg,
		struct loop_listener **lp);
int loop_listener_local(const struct loop_listener *ls, struct sockaddr_storage *ss);
void loop_listener_close(struct loop_listener *ls);

/*
 * Start reading @c. @max_pending bounds the bytes queued for writing: a
 * peer that does not read cannot make us buffer without end.
 */
void loop_conn_start(struct loop_conn *c, size_t max_pending, loop_conn_read_h *rh,
		     loop_conn_closed_h *ch, void *arg);
/* Queue @len bytes (copied). 0, -ENOBUFS past max_pending, -ENOMEM, -EPIPE. */
int loop_conn_write(struct loop_conn *c, const void *buf, size_t len);
int loop_conn_peer(const struct loop_conn *c, struct sockaddr_storage *ss);
/* Close now; no callback follows. */
void loop_conn_close(struct loop_conn *c);

#endif

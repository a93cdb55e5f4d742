/*
 * loop: libuv behind loop.h. Each handle object embeds its libuv handle
 * first, sits on one of the loop's lists (so loop_stop() can close it), and
 * is freed in libuv's close callback, the only point where libuv is done
 * with its memory. The timer wheel is driven by one uv_timer re-armed from
 * a prepare handle, i.e. right before each poll, after every callback of
 * the iteration has had its chance to start a timer.
 */
#include <errno.h>
#include <string.h>
#include <uv.h>

#define LOG_MODULE "loop"
#include "base/clock.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "loop/loop.h"

struct loop_conn;

struct loop {
	uv_loop_t uv;
	uv_timer_t tick;
	uv_prepare_t prep;
	struct timer_wheel *tw;
	struct list handles; /* every open socket and signal handle */
	bool stopping;
	/* Accepted and closed at once when memory runs out: a connection left
	 * unaccepted would stall the listener. Allocated up front. */
	struct loop_conn *reserve;
	bool reserve_busy;
	char rbuf[65536]; /* one read at a time: the loop is single-threaded */
};

enum handle_kind { H_SIGNAL, H_UDP, H_LISTENER, H_CONN, H_FD };

/* What every handle object starts with. */
struct handle {
	union {
		uv_handle_t h;
		uv_signal_t sig;
		uv_udp_t udp;
		uv_tcp_t tcp;
		uv_poll_t poll;
	} u;
	struct list_elem le;
	enum handle_kind kind;
	struct loop *loop;
	void *arg;
};

struct loop_sig {
	struct handle hd;
	loop_signal_h *h;
};

struct loop_fd {
	struct handle hd;
	loop_fd_h *h;
};

struct loop_udp {
	struct handle hd;
	loop_udp_recv_h *h;
};

struct loop_listener {
	struct handle hd;
	loop_accept_h *h;
};

struct loop_conn {
	struct handle hd;
	loop_conn_read_h *rh;
	loop_conn_closed_h *ch;
	size_t pending; /* bytes queued for writing */
	size_t max_pending;
};

struct write_req {
	uv_write_t req;
	struct loop_conn *c;
	size_t len;
	char data[];
};

static void on_handle_closed(uv_handle_t *h)
{
	struct handle *hd = h->data;

	if ((void *)hd == (void *)hd->loop->reserve)
		hd->loop->reserve_busy = false;
	else
		mem_free(hd);
}

static void handle_close(struct handle *hd)
{
	if (uv_is_closing(&hd->u.h))
		return;
	list_unlink(&hd->le);
	uv_close(&hd->u.h, on_handle_closed);
}

static void handle_add(struct loop *l, struct handle *hd, enum handle_kind kind, void *arg)
{
	hd->u.h.data = hd;
	hd->kind = kind;
	hd->loop = l;
	hd->arg = arg;
	list_append(&l->handles, &hd->le);
}

static void on_tick(uv_timer_t *t)
{
	struct loop *l = t->data;

	timer_wheel_advance(l->tw, clock_mono_ms());
}

static void on_prepare(uv_prepare_t *p)
{
	struct loop *l = p->data;
	int64_t next;

	/* Fire what is due first, so the sleep below is for the next one. */
	timer_wheel_advance(l->tw, clock_mono_ms());
	next = timer_wheel_next(l->tw);
	if (next < 0)
		uv_timer_stop(&l->tick);
	else
		uv_timer_start(&l->tick, on_tick, (uint64_t)next, 0);
}

int loop_alloc(struct loop **lp)
{
	struct loop *l = mem_zalloc(sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	list_init(&l->handles);
	l->reserve = mem_zalloc(sizeof(*l->reserve));
	if (!l->reserve) {
		err = -ENOMEM;
		goto out;
	}
	err = timer_wheel_alloc(&l->tw, clock_mono_ms());
	if (err)
		goto out;
	err = uv_loop_init(&l->uv);
	if (err)
		goto out;
	uv_timer_init(&l->uv, &l->tick);
	uv_prepare_init(&l->uv, &l->prep);
	l->tick.data = l->prep.data = l;
	uv_prepare_start(&l->prep, on_prepare);
	/* The prepare handle alone must not keep the loop alive. */
	uv_unref((uv_handle_t *)&l->prep);
	uv_unref((uv_handle_t *)&l->tick);
	*lp = l;
	return 0;
out:
	timer_wheel_free(l->tw);
	mem_free(l->reserve);
	mem_free(l);
	return err;
}

static void on_plain_close(uv_handle_t *h)
{
	(void)h;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (!uv_is_closing((uv_handle_t *)&l->tick)) {
		uv_close((uv_handle_t *)&l->tick, on_plain_close);
		uv_close((uv_handle_t *)&l->prep, on_plain_close);
	}
	uv_run(&l->uv, UV_RUN_DEFAULT); /* let close callbacks run */
	uv_loop_close(&l->uv);
	timer_wheel_free(l->tw);
	mem_free(l->reserve);
	mem_free(l);
}

int loop_run(struct loop *l)
{
	int err = uv_run(&l->uv, UV_RUN_DEFAULT);

	return err < 0 ? err : 0;
}

void loop_stop(struct loop *l)
{
	struct list_elem *e, *tmp;

	if (l->stopping)
		return;
	l->stopping = true;
	list_for_each_safe(&l->handles, e, tmp)
	{
		handle_close(list_entry(e, struct handle, le));
	}
	uv_timer_stop(&l->tick);
	uv_prepare_stop(&l->prep);
}

struct timer_wheel *loop_timers(struct loop *l)
{
	return l->tw;
}

struct uv_loop_s *loop_uv(struct loop *l)
{
	return &l->uv;
}

uint64_t loop_now(const struct loop *l)
{
	(void)l;
	return clock_mono_ms();
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct loop_sig *sg = s->data;

	sg->h(signum, sg->hd.arg);
}

static void on_fd(uv_poll_t *p, int status, int events)
{
	struct loop_fd *w = p->data;

	(void)events;
	if (status == 0)
		w->h(w->hd.arg);
}

int loop_fd_watch(struct loop_fd **wp, struct loop *l, int fd, loop_fd_h *h, void *arg)
{
	struct loop_fd *w = mem_zalloc(sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	err = uv_poll_init(&l->uv, &w->hd.u.poll, fd);
	if (err) {
		mem_free(w);
		return err;
	}
	handle_add(l, &w->hd, H_FD, arg);
	w->h = h;
	err = uv_poll_start(&w->hd.u.poll, UV_READABLE, on_fd);
	if (err) {
		handle_close(&w->hd);
		return err;
	}
	if (wp)
		*wp = w;
	return 0;
}

void loop_fd_close(struct loop_fd *w)
{
	if (w)
		handle_close(&w->hd);
}

int loop_signal(struct loop *l, int signum, loop_signal_h *h, void *arg)
{
	struct loop_sig *sg = mem_zalloc(sizeof(*sg));
	int err;

	if (!sg)
		return -ENOMEM;
	uv_signal_init(&l->uv, &sg->hd.u.sig);
	handle_add(l, &sg->hd, H_SIGNAL, arg);
	sg->h = h;
	err = uv_signal_start(&sg->hd.u.sig, on_signal, signum);
	if (err)
		handle_close(&sg->hd);
	else
		uv_unref(&sg->hd.u.h); /* a signal handler alone keeps nothing alive */
	return err;
}

/* ---- UDP ---------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct handle *hd = h->data;

	(void)suggested;
	*buf = uv_buf_init(hd->loop->rbuf, sizeof(hd->loop->rbuf));
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
			const struct sockaddr *from, unsigned flags)
{
	struct loop_udp *u = h->data;

	(void)flags;
	if (nread < 0) {
		log_warn("udp receive error err=%s", uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || !from)
		return;
	u->h(buf->base, (size_t)nread, from, u->hd.arg);
}

int loop_udp_open(struct loop *l, const struct sockaddr *addr, size_t rcvbuf, loop_udp_recv_h *h,
		  void *arg, struct loop_udp **up)
{
	struct loop_udp *u = mem_zalloc(sizeof(*u));
	int err;

	if (!u)
		return -ENOMEM;
	uv_udp_init(&l->uv, &u->hd.u.udp);
	handle_add(l, &u->hd, H_UDP, arg);
	u->h = h;
	err = uv_udp_bind(&u->hd.u.udp, addr, 0);
	if (!err && rcvbuf) {
		int size = (int)rcvbuf;

		err = uv_recv_buffer_size(&u->hd.u.h, &size);
	}
	if (!err)
		err = uv_udp_recv_start(&u->hd.u.udp, on_alloc, on_udp_recv);
	if (err) {
		handle_close(&u->hd);
		return err;
	}
	*up = u;
	return 0;
}

int loop_udp_send(struct loop_udp *u, const struct sockaddr *to, const void *buf, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)buf, (unsigned)len);
	int n = uv_udp_try_send(&u->hd.u.udp, &b, 1, to);

	return n < 0 ? n : 0;
}

int loop_udp_local(const struct loop_udp *u, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);

	return uv_udp_getsockname(&u->hd.u.udp, (struct sockaddr *)ss, &len);
}

void loop_udp_close(struct loop_udp *u)
{
	if (u)
		handle_close(&u->hd);
}

/* ---- TCP ---------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
	struct loop_listener *ls = server->data;
	struct loop *l = ls->hd.loop;
	struct loop_conn *c;

	if (status < 0) {
		log_warn("accept failed err=%s", uv_strerror(status));
		return;
	}
	c = mem_zalloc(sizeof(*c));
	if (!c) {
		if (l->reserve_busy)
			return; /* libuv holds the connection until the next accept */
		log_warn("connection dropped: out of memory");
		c = l->reserve;
		memset(c, 0, sizeof(*c));
		l->reserve_busy = true;
		uv_tcp_init(&l->uv, &c->hd.u.tcp);
		handle_add(l, &c->hd, H_CONN, NULL);
		uv_accept(server, (uv_stream_t *)&c->hd.u.tcp);
		handle_close(&c->hd);
		return;
	}
	uv_tcp_init(&l->uv, &c->hd.u.tcp);
	handle_add(l, &c->hd, H_CONN, NULL);
	if (uv_accept(server, (uv_stream_t *)&c->hd.u.tcp)) {
		handle_close(&c->hd);
		return;
	}
	uv_tcp_nodelay(&c->hd.u.tcp, 1);
	ls->h(c, ls->hd.arg);
}

int loop_listen(struct loop *l, const struct sockaddr *addr, loop_accept_h *h, void *arg,
		struct loop_listener **lp)
{
	struct loop_listener *ls = mem_zalloc(sizeof(*ls));
	int err;

	if (!ls)
		return -ENOMEM;
	uv_tcp_init(&l->uv, &ls->hd.u.tcp);
	handle_add(l, &ls->hd, H_LISTENER, arg);
	ls->h = h;
	err = uv_tcp_bind(&ls->hd.u.tcp, addr, 0);
	if (!err)
		err = uv_listen((uv_stream_t *)&ls->hd.u.tcp, 511, on_connection);
	if (err) {
		handle_close(&ls->hd);
		return err;
	}
	*lp = ls;
	return 0;
}

int loop_listener_local(const struct loop_listener *ls, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);

	return uv_tcp_getsockname(&ls->hd.u.tcp, (struct sockaddr *)ss, &len);
}

void loop_listener_close(struct loop_listener *ls)
{
	if (ls)
		handle_close(&ls->hd);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct loop_conn *c = s->data;

	if (nread > 0) {
		c->rh(c, buf->base, (size_t)nread, c->hd.arg);
		return;
	}
	if (nread == 0)
		return;
	/* EOF or error: tell the owner, then close; it must forget @c. */
	if (c->ch)
		c->ch(c, nread == UV_EOF ? 0 : (int)nread, c->hd.arg);
	handle_close(&c->hd);
}

void loop_conn_start(struct loop_conn *c, size_t max_pending, loop_conn_read_h *rh,
		     loop_conn_closed_h *ch, void *arg)
{
	c->rh = rh;
	c->ch = ch;
	c->hd.arg = arg;
	c->max_pending = max_pending;
	uv_read_start((uv_stream_t *)&c->hd.u.tcp, on_alloc, on_read);
}

static void on_written(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;

	(void)status;
	w->c->pending -= w->len;
	mem_free(w);
}

int loop_conn_write(struct loop_conn *c, const void *buf, size_t len)
{
	struct write_req *w;
	uv_buf_t b;
	int err;

	if (uv_is_closing(&c->hd.u.h))
		return -EPIPE;
	if (c->pending + len > c->max_pending)
		return -ENOBUFS;
	w = mem_alloc(sizeof(*w) + len);
	if (!w)
		return -ENOMEM;
	w->c = c;
	w->len = len;
	memcpy(w->data, buf, len);
	b = uv_buf_init(w->data, (unsigned)len);
	err = uv_write(&w->req, (uv_stream_t *)&c->hd.u.tcp, &b, 1, on_written);
	if (err) {
		mem_free(w);
		return err;
	}
	c->pending += len;
	return 0;
}

int loop_conn_peer(const struct loop_conn *c, struct sockaddr_storage *ss)
{
	int len = sizeof(*ss);

	return uv_tcp_getpeername(&c->hd.u.tcp, (struct sockaddr *)ss, &len);
}

void loop_conn_close(struct loop_conn *c)
{
	if (c)
		handle_close(&c->hd);
}

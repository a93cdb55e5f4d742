/*
 * sip_tport: SIP over UDP and TCP on one address (RFC 3261 §18).
 *
 * Binds the same address and port for both, frames TCP byte streams into
 * messages (sip_frame.h), parses every message (sip_msg.h) and hands it up.
 * Malformed requests get a stateless answer here, before anyone sees them:
 * 400 with the reason as phrase, 505 for another SIP version, 513 for an
 * oversize message; malformed responses are dropped. On TCP, CRLF CRLF
 * keep-alives are answered with CRLF (RFC 5626 §3.5.1), an unrecoverable
 * framing error closes the connection, and connections are bounded in
 * number, buffered bytes and idle time.
 *
 * Responses go back on the connection a request came in on: a struct
 * sip_peer (sip_peer.h) names it. Opening outgoing TCP connections is not done yet (a
 * send to a connection that is gone fails with -ENOTCONN).
 *
 * One transport belongs to one loop thread.
 */
#ifndef SIP_TPORT_H
#define SIP_TPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop/loop.h"
#include "sip/sip_msg.h"
#include "sip/sip_peer.h"

struct sip_tport_conf {
	struct sockaddr_storage addr;	 /* listen here, UDP and TCP */
	unsigned max_conns;		 /* TCP connections at once; more are closed at accept */
	size_t max_conn_buf;		 /* bytes buffered per connection, each way */
	uint32_t idle_ms;		 /* close a TCP connection silent this long */
	size_t udp_rcvbuf;		 /* SO_RCVBUF, 0 = system default */
	const struct sip_limits *limits; /* NULL: sip_limits_default */
};

/* 1000 connections, 128 KiB each way, 10 minutes idle, 4 MiB UDP buffer. */
void sip_tport_conf_default(struct sip_tport_conf *conf);

struct sip_tport_stats {
	uint64_t rx;	  /* messages handed up */
	uint64_t tx;	  /* messages sent */
	uint64_t bad;	  /* malformed messages (answered or dropped) */
	uint64_t conns;	  /* TCP connections open now */
	uint64_t refused; /* TCP connections closed at accept (limit) */
};

/* @msg and the bytes under it are valid only during the call. */
typedef void(sip_tport_recv_h)(const struct sip_msg *msg, const struct sip_peer *from, void *arg);

struct sip_tport;

/*
 * Open UDP and TCP on @conf->addr. 0, or -errno (-EADDRINUSE when either
 * port is taken). @h is called for every well-formed message.
 */
int sip_tport_alloc(struct sip_tport **tp, struct loop *l, const struct sip_tport_conf *conf,
		    sip_tport_recv_h *h, void *arg);
/* Close everything. NULL is fine. */
void sip_tport_free(struct sip_tport *t);

/* Send one whole message to @to. 0, -ENOTCONN (connection gone), -ENOBUFS, -errno. */
int sip_tport_send(struct sip_tport *t, const struct sip_peer *to, const void *buf, size_t len);

/* The bound address (useful with port 0). */
int sip_tport_local(const struct sip_tport *t, struct sockaddr_storage *ss);
void sip_tport_stats(const struct sip_tport *t, struct sip_tport_stats *st);

#endif

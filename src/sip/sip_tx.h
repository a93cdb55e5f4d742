/*
 * sip_tx: the SIP transaction layer (RFC 3261 §17), client and server,
 * INVITE and non-INVITE, with the RFC 6026 "Accepted" state on the INVITE
 * server side.
 *
 * It is a library: no sockets and no event loop. The owner gives it
 *   - a timer wheel (base/timer.h) that the owner advances; timers A to L
 *     are embedded in the transactions and run on it;
 *   - an ops table: send() to put bytes on the wire (the transport owner),
 *     request() to hand new requests to the transaction user (TU), and an
 *     optional stray() for responses that match no client transaction;
 *   - every received message, parsed, through sip_txl_recv().
 *
 * Transactions are matched by the RFC 3261 rule (§17.1.3, §17.2.3: Via
 * branch with the z9hG4bK cookie, sent-by and method) or, for requests whose
 * branch has no cookie, by the RFC 2543 rule (Request-URI, To and From tags,
 * Call-ID, CSeq and the whole top Via). Retransmitted requests and responses
 * are absorbed here; the TU sees each request once and each response once
 * (but every 2xx to an INVITE, which belongs to the dialog).
 *
 * Not here: dialogs (the ACK to a 2xx and the retransmission of a 2xx belong
 * to the UAS/UAC core, RFC 3261 §13.3.1.4 and §13.2.2.4), DNS (RFC 3263) and
 * message parsing (sip_msg.h).
 *
 * Memory: every transaction is one allocation plus the bytes it may have to
 * retransmit (an mbuf of its own); it is freed when it terminates, and
 * sip_txl_free() frees whatever is left. A non-INVITE server transaction
 * over UDP that has sent its final response has nothing left to do but
 * absorb retransmissions for Timer J (32 s), so it is then replaced by a
 * compact record (key, destination, response: one allocation) kept in
 * completion order; these are what a busy registrar holds most of.
 *
 * Limits: at most conf->max_tx transactions waiting for their TU or for the
 * network at once; a new request beyond that gets a stateless "503 Service
 * Unavailable" with "Retry-After: conf->retry_after_s" built here, and
 * sip_tx_request() returns -EBUSY. The compact records take at most
 * conf->done_mib MiB: beyond it the oldest are dropped early (a
 * retransmission arriving after that reaches the TU as a new request),
 * because turning new work away to remember answers sent many seconds ago
 * would be the wrong trade.
 *
 * Threads: a layer, its wheel and its transactions belong to one event-loop
 * thread. Callbacks run inside sip_txl_recv() or timer_wheel_advance(); they
 * may call any function here except sip_txl_free().
 */
#ifndef SIP_TX_H
#define SIP_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/mbuf.h"
#include "base/timer.h"
#include "sip/sip_msg.h"
#include "sip/sip_peer.h"
#include "sip/sip_print.h"

struct sip_tx;
struct sip_txl;

/* Where a message goes or came from. */
/* Times in milliseconds; 0 picks the default. */
struct sip_tx_conf {
	uint32_t t1_ms;		/* RTT estimate, default 500 (RFC 3261 §17.1.1.1) */
	uint32_t t2_ms;		/* longest non-INVITE retransmit interval, default 4000 */
	uint32_t t4_ms;		/* longest a message stays in the network, default 5000 */
	uint32_t timer_d_ms;	/* timer D over UDP, default 32000 (at least 32 s) */
	uint32_t trying_ms;	/* 100 Trying for INVITE when the TU is silent, default 200 */
	uint32_t max_tx;	/* open transactions at once, default 262144 */
	uint32_t retry_after_s; /* Retry-After of the layer's 503, default 5 */
	uint32_t done_mib;	/* memory of completed non-INVITE records, default 256 */
};

/* Counters of a layer, for the operator. */
struct sip_txl_stats {
	size_t open;	     /* transactions with a state machine (count against max_tx) */
	size_t done;	     /* completed non-INVITE server transactions kept compact */
	size_t done_bytes;   /* their memory */
	uint64_t rejected;   /* requests answered 503 over max_tx */
	uint64_t done_early; /* compact records dropped before Timer J over done_mib */
	uint64_t stateless;  /* requests answered with sip_tx_respond_stateless() */
};

/*
 * Supplied by the owner; @arg is sip_txl_alloc()'s.
 *
 * send: put @buf[0..@len) on the wire to @peer (a stream: on connection
 * peer->conn_id, or a new one to peer->addr when it is gone, RFC 3261
 * §18.2.2). Returns 0 or -errno; an error counts as a transport error
 * (§17.1.4, §17.2.4). Required.
 *
 * request: a new request. @st is its server transaction, or NULL for an ACK
 * that matches no transaction still waiting for one (the ACK to a 2xx, which
 * belongs to the dialog). @req and @src are borrowed for the call. The TU
 * must answer @st with sip_tx_respond() or sip_tx_reply(), now or later;
 * @st is its until the final response has been passed in. A TU answering
 * later keeps its own copy of the request. Required.
 *
 * stray: a response that matches no client transaction (a retransmitted 2xx
 * to an INVITE, whose transaction ended with the first one, §17.1.1.2). May
 * be NULL: such responses are then dropped.
 */
struct sip_tx_ops {
	int (*send)(void *arg, const struct sip_peer *peer, const void *buf, size_t len);
	void (*request)(void *arg, struct sip_tx *st, const struct sip_msg *req,
			const struct sip_peer *src);
	void (*stray)(void *arg, const struct sip_msg *resp, const struct sip_peer *src);
};

/*
 * A client transaction's report to its TU. @err is 0 with @resp the
 * response (status @status), -ETIMEDOUT for timer B or F (status 408, @resp
 * NULL, RFC 3261 §17.1.1.2, §17.1.2.2) or the send error of a transport
 * failure (status 503, @resp NULL, §17.1.4). @resp is borrowed for the call.
 */
typedef void(sip_tx_resp_h)(int err, unsigned status, const struct sip_msg *resp, void *arg);

enum sip_tx_state {
	SIP_TX_CALLING = 0, /* client INVITE, request sent */
	SIP_TX_TRYING,	    /* non-INVITE, no provisional response yet */
	SIP_TX_PROCEEDING,
	SIP_TX_COMPLETED,
	SIP_TX_CONFIRMED,  /* server INVITE, ACK received */
	SIP_TX_ACCEPTED,   /* server INVITE, 2xx sent (RFC 6026 §7.1) */
	SIP_TX_TERMINATED, /* a client INVITE while its 2xx is reported; then freed */
};

/* What sip_txl_recv() did with a message. */
enum sip_tx_recv_result {
	SIP_TX_RECV_NEW = 0,  /* new server transaction; ops->request() was called */
	SIP_TX_RECV_ABSORBED, /* a retransmission, handled by its transaction */
	SIP_TX_RECV_ACK,      /* ACK of no waiting transaction: ops->request(st = NULL) */
	SIP_TX_RECV_RESPONSE, /* a response, handled by its client transaction */
	SIP_TX_RECV_STRAY,    /* a response of no transaction: ops->stray() if set */
	SIP_TX_RECV_REJECTED, /* over conf->max_tx: a 503 was sent statelessly */
};

/*
 * A new layer on @tw (borrowed: it must outlive the layer). @conf may be
 * NULL for the defaults; it is copied. @ops is copied. Returns 0 or
 * -EINVAL (no send or request op) or -ENOMEM; *@txlp on success only.
 */
int sip_txl_alloc(struct sip_txl **txlp, const struct sip_tx_conf *conf, struct timer_wheel *tw,
		  const struct sip_tx_ops *ops, void *arg);
/* Free the layer and every transaction left, without callbacks. NULL is fine. */
void sip_txl_free(struct sip_txl *txl);
/* Transactions alive (client and server, open and compact). */
size_t sip_txl_count(const struct sip_txl *txl);
void sip_txl_stats(const struct sip_txl *txl, struct sip_txl_stats *st);

/*
 * Hand a received message to the layer. @msg and @src are borrowed for the
 * call. Returns an enum sip_tx_recv_result, or -EINVAL (bad arguments, a
 * message without a top Via) or -ENOMEM (no transaction could be made;
 * nothing was sent, a retransmission will try again).
 */
int sip_txl_recv(struct sip_txl *txl, const struct sip_msg *msg, const struct sip_peer *src);

/*
 * Send bytes outside any transaction (the ACK to a 2xx, retransmissions of
 * a 2xx by the UAS core). Returns what ops->send() returned.
 */
int sip_txl_send(struct sip_txl *txl, const struct sip_peer *dst, const void *buf, size_t len);

/* State of a transaction the caller holds. */
enum sip_tx_state sip_tx_state(const struct sip_tx *t);
/* Server: where responses go (see sip_tx_resp_peer()); client: where requests go. */
const struct sip_peer *sip_tx_peer(const struct sip_tx *t);

/* ---- Server transactions (RFC 3261 §17.2) ---- */

/*
 * Send a response built by the TU (usually with sip_tx_reply_print(), so
 * the top Via carries received/rport). The bytes are copied: the
 * transaction re-sends them for retransmitted requests and, for a non-2xx
 * final response to INVITE over UDP, on timer G. Provisional responses keep
 * the transaction waiting; a final one moves it on, and then @st is no
 * longer the TU's, whatever is returned.
 *
 * Returns 0; -EINVAL (not a response status line, or @st already answered
 * with a final response) or -ENOMEM, both leaving everything unchanged; or
 * the send error, in which case the transaction still moved on (timers and
 * retransmissions carry on as if the bytes had left).
 */
int sip_tx_respond(struct sip_tx *st, const void *buf, size_t len);

/*
 * Convenience: build the response to @req (the request @st was created
 * for) with sip_tx_reply_print() and sip_tx_respond() it.
 */
int sip_tx_reply(struct sip_tx *st, const struct sip_msg *req, const struct sip_reply *r);

/*
 * Answer @st with a final response and end the transaction at once, as a
 * stateless UAS would (RFC 3261 §8.2.7): a retransmission of the request
 * then reaches the TU again as a new request. For answers that are cheaper
 * to recompute than to remember and harmless to give twice, above all the
 * challenge to a request without credentials (§8.2.7 names it; a repeated
 * challenge only carries a fresh nonce). @st is no longer the TU's,
 * whatever is returned. Returns 0, -EINVAL (not a final response; @st is
 * then left as it was) or the send error.
 */
int sip_tx_respond_stateless(struct sip_tx *st, const void *buf, size_t len);

enum sip_tx_cancel_result {
	SIP_TX_CANCEL_NONE = 0, /* no INVITE matches: answer the CANCEL 481 (§9.2) */
	SIP_TX_CANCEL_PENDING,	/* *invp awaits its final response: answer it 487, CANCEL 200 */
	SIP_TX_CANCEL_ANSWERED, /* the INVITE has its final response: CANCEL 200, nothing else */
};

/*
 * The INVITE server transaction a received CANCEL targets (RFC 3261 §9.2:
 * the matching rule of §17.2.3 with the method taken as INVITE). *@invp is
 * written for SIP_TX_CANCEL_PENDING only; it is the TU's own handle for
 * that INVITE.
 */
enum sip_tx_cancel_result sip_tx_cancel_match(struct sip_txl *txl, const struct sip_msg *cancel,
					      struct sip_tx **invp);

/* ---- Client transactions (RFC 3261 §17.1) ---- */

/*
 * Start a client transaction: send the request @buf[0..@len) (built by the
 * TU, with a top Via whose branch starts with z9hG4bK and a Content-Length,
 * as sip_msg_parse() wants of a framed message) to @dst and keep a
 * copy to retransmit. @resph(..., @arg) is called for each response passed
 * up and for a timeout or transport error. The handle (*@ctp, which may be
 * NULL) is the TU's until @resph reports a final outcome (status >= 200 or
 * an error) or the TU calls sip_tx_detach(). Nothing is called back from
 * inside this function.
 *
 * Returns 0; -EINVAL (not a request, ACK, no cookie branch, does not
 * parse), -EEXIST (a transaction with this branch and method exists),
 * -EBUSY (conf->max_tx reached), -ENOMEM, or the error of the first send;
 * on error nothing is left behind.
 */
int sip_tx_request(struct sip_tx **ctp, struct sip_txl *txl, const struct sip_peer *dst,
		   const void *buf, size_t len, sip_tx_resp_h *resph, void *arg);

/*
 * The TU no longer wants reports from client transaction @ct (its call went
 * away); the transaction runs its course silently. @ct is then no longer
 * the TU's.
 */
void sip_tx_detach(struct sip_tx *ct);

/*
 * Build the CANCEL for client INVITE transaction @ct (RFC 3261 §9.1): same
 * Request-URI, Call-ID, From, To, CSeq number and top Via (so the same
 * branch), the Route headers, Max-Forwards 70. The TU sends it with
 * sip_tx_request() once a provisional response has arrived. Returns 0,
 * -EINVAL (@ct is not a client INVITE), -ENOMEM or -EMSGSIZE.
 */
int sip_tx_cancel_print(struct mbuf *out, const struct sip_tx *ct);

/* ---- Responses: where they go and what their top Via says ---- */

/*
 * Where to send responses to @req received from @src (RFC 3261 §18.2.2,
 * RFC 3581 §4): on a reliable transport, the same connection; over UDP with
 * ;rport, the source address and port; otherwise the source address (which
 * is the received address, §18.2.1) and the sent-by port, or 5060. maddr is
 * deliberately ignored: honouring it would let anyone point our responses
 * at a third party. Returns 0 or -EINVAL.
 */
int sip_tx_resp_peer(struct sip_peer *dst, const struct sip_msg *req, const struct sip_peer *src);

/*
 * Append to @out the top Via value a response to @req must carry: with
 * ";received=<source address>" when sent-by is not the source address
 * (RFC 3261 §18.2.1) or ;rport is present, and ";rport=<source port>" when
 * ;rport is present (RFC 3581 §4); any received/rport the request had are
 * replaced. Returns 1 when a value was appended, 0 when the Via needs no
 * change (nothing appended), or -EINVAL / -ENOMEM / -EMSGSIZE.
 */
int sip_tx_via_received(struct mbuf *out, const struct sip_msg *req, const struct sip_peer *src);

/*
 * sip_reply_print() with the top Via rewritten by sip_tx_via_received()
 * (@src NULL: no rewrite). Returns 0, -EINVAL, -ENOMEM or -EMSGSIZE;
 * nothing is left in @out on error.
 */
int sip_tx_reply_print(struct mbuf *out, const struct sip_msg *req, const struct sip_peer *src,
		       const struct sip_reply *r);

#endif

/*
 * sip_tx_internal: what sip_tx.c (the layer: matching, keys, Via),
 * sip_tx_client.c and sip_tx_server.c share. Nobody else includes it.
 */
#ifndef SIP_TX_INTERNAL_H
#define SIP_TX_INTERNAL_H

#include <netinet/in.h>

#include "base/hash.h"
#include "base/list.h"
#include "base/mbuf.h"
#include "base/timer.h"
#include "sip/sip_tx.h"

#define SIP_TX_COOKIE "z9hG4bK" /* RFC 3261 §8.1.1.7 magic cookie */

struct sip_txl {
	struct timer_wheel *tw; /* borrowed */
	struct sip_tx_ops ops;
	void *arg;
	struct sip_tx_conf conf; /* defaults filled in */
	struct hash *txs;	 /* key -> struct sip_tx; keys live in the transactions */
	struct list all;	 /* every transaction, for sip_txl_free() */
	size_t count;		 /* open transactions (on all) */
	uint64_t rejected;	 /* requests answered 503 over the limit */
	uint64_t stateless;
	/* Completed non-INVITE server transactions over UDP (struct tx_done). */
	struct hash *done;	 /* key -> struct tx_done; keys live in the records */
	struct list done_fifo;	 /* oldest first: all expire 64*T1 after completion */
	struct timer done_timer; /* at the oldest record's expiry */
	size_t done_count, done_bytes, done_max_bytes;
	uint64_t done_early;
};

/*
 * A completed non-INVITE server transaction over UDP, reduced to what
 * Timer J needs (§17.2.2): its key, where the response goes and the
 * response, in one allocation of about 120 bytes plus the two strings.
 */
struct tx_done {
	struct list_elem le; /* on txl->done_fifo */
	uint64_t expires;    /* wheel time */
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} dst;
	uint32_t resp_len;
	uint16_t key_len;
	char data[]; /* key, then response */
};

struct sip_tx {
	struct sip_txl *txl;
	struct list_elem le; /* on txl->all */
	enum sip_tx_state state;
	bool client;
	bool invite;
	bool reliable;	      /* no retransmissions, zero for D, I, J, K */
	bool rfc2543;	      /* server: matched by the RFC 2543 rule */
	bool trying_pending;  /* server INVITE: msg holds our 100 Trying, not sent yet */
	unsigned last_status; /* server: last response sent, 0 = none */
	uint64_t interval;    /* current retransmit interval: A, E, G */
	struct sip_peer peer; /* client: where requests go; server: where responses go */
	struct sip_peer src;  /* server: where the request came from */
	struct mbuf msg;      /* client: the request; server: last response (or 100) */
	struct mbuf ack;      /* client INVITE: ACK to the non-2xx final response */
	struct timer retx;    /* A, E, G; server INVITE in Proceeding: 100 Trying */
	struct timer life;    /* B, F, H, L while waiting; D, I, J, K at the end */
	sip_tx_resp_h *resph; /* client: NULL once detached or finally reported */
	void *arg;
	struct str resp_to_tag; /* server RFC 2543 INVITE: To tag of the final response, owned */
	struct str key;		/* points into keybuf; the hash key */
	char keybuf[];
};

/*
 * A hash key under construction: each part is written as "<len>:<bytes>"
 * so that no byte inside a part can make two different keys equal.
 */
struct tx_key {
	char *p;
	size_t len;
	char small[256];
};

int tx_key_make(struct tx_key *k, char kind, const struct str *parts, size_t n,
		unsigned lower_mask);
void tx_key_release(struct tx_key *k);

/* Allocate a transaction with @k copied in; not yet in the hash. */
struct sip_tx *tx_alloc(struct sip_txl *txl, const struct tx_key *k);
/* Put @t in the hash and the list. 0 or -ENOMEM. */
int tx_link(struct sip_tx *t);
/* Unlink, cancel the timers and free @t. */
void tx_free(struct sip_tx *t);
/* ops->send, with a debug line on failure. */
int tx_send(struct sip_txl *txl, const struct sip_peer *peer, const struct mbuf *mb);

/* Parse @buf[0..@len) into @a; @flags as sip_msg_parse(). */
int tx_parse(struct sip_msg **msgp, struct arena *a, const void *buf, size_t len);

/*
 * Replace @st (a non-INVITE server transaction over UDP that has just sent
 * its final response @resp[0..@len)) by a compact record, and free it.
 * Without memory for the record, the transaction just ends.
 */
void tx_done_add(struct sip_tx *st, const void *resp, size_t len);
/* The compact record of @key, or NULL. */
struct tx_done *tx_done_get(struct sip_txl *txl, const struct str *key);
/* Re-send its response (a retransmitted request). */
void tx_done_resend(struct sip_txl *txl, const struct tx_done *d);

/* Server side (sip_tx_server.c). */
int tx_server_recv(struct sip_txl *txl, const struct sip_msg *req, const struct sip_peer *src);
/* Client side (sip_tx_client.c). */
int tx_client_recv(struct sip_txl *txl, const struct sip_msg *resp, const struct sip_peer *src);

#endif

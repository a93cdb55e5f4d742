/*
 * sip_tx_client: client transactions (RFC 3261 §17.1): the INVITE machine of
 * Figure 5 and the non-INVITE machine of Figure 6, response matching
 * (§17.1.3), the ACK to a non-2xx final response (§17.1.1.3) and the CANCEL
 * of §9.1. Not here: the ACK to a 2xx, which the dialog sends (§13.2.2.4);
 * an INVITE transaction ends at its first 2xx and later ones are strays.
 */
#include <errno.h>
#include <stddef.h>

#define LOG_MODULE "sip"
#include "base/log.h"
#include "base/mem.h"
#include "sip/sip_tx_internal.h"

/* RFC 3261 §17.1.3: branch of the top Via and the CSeq method. */
static int key_client(struct tx_key *k, struct str branch, struct str method)
{
	struct str parts[2] = {branch, method};

	return tx_key_make(k, 'c', parts, 2, 0);
}

static uint64_t t1(const struct sip_tx *t)
{
	return t->txl->conf.t1_ms;
}

/* Pass a report up, once; after a final one the TU no longer holds @ct. */
static void report(struct sip_tx *ct, int err, unsigned status, const struct sip_msg *resp)
{
	sip_tx_resp_h *h = ct->resph;

	if (!h)
		return;
	if (err || status >= 200)
		ct->resph = NULL;
	h(err, status, resp, ct->arg);
}

/* ---- Timers ---- */

static void client_retx_h(void *arg);
static void client_life_h(void *arg);

/* A (INVITE, Calling) and E (non-INVITE, Trying and Proceeding). */
static void client_retx_h(void *arg)
{
	struct sip_tx *ct = arg;
	struct sip_txl *txl = ct->txl;
	int err = tx_send(txl, &ct->peer, &ct->msg);

	if (err) {
		/* §17.1.4: a transport error is reported as a 503 and ends it. */
		report(ct, err, 503, NULL);
		tx_free(ct);
		return;
	}
	if (ct->invite) {
		/* §17.1.1.2: A doubles, without a cap (B ends it first). */
		ct->interval *= 2;
	} else if (ct->state == SIP_TX_TRYING) {
		/* §17.1.2.2: E doubles up to T2 ... */
		ct->interval =
		    ct->interval * 2 < txl->conf.t2_ms ? ct->interval * 2 : txl->conf.t2_ms;
	} else {
		/* ... and is T2 once a provisional response came. */
		ct->interval = txl->conf.t2_ms;
	}
	timer_start(txl->tw, &ct->retx, ct->interval, client_retx_h, ct);
}

/* B and F time the transaction out; D and K end the Completed state. */
static void client_life_h(void *arg)
{
	struct sip_tx *ct = arg;

	if (ct->state != SIP_TX_COMPLETED)
		report(ct, -ETIMEDOUT, 408, NULL);
	tx_free(ct);
}

/* ---- Requests ---- */

int sip_tx_request(struct sip_tx **ctp, struct sip_txl *txl, const struct sip_peer *dst,
		   const void *buf, size_t len, sip_tx_resp_h *resph, void *arg)
{
	_Alignas(16) char abuf[8192];
	struct arena a;
	struct sip_msg *req;
	struct sip_tx *ct = NULL;
	struct tx_key k = {.p = NULL};
	int err;

	if (!txl || !dst || !buf)
		return -EINVAL;
	arena_init(&a, abuf, sizeof(abuf), 0);
	err = tx_parse(&req, &a, buf, len);
	if (err) {
		err = err == -ENOMEM ? err : -EINVAL;
		goto out;
	}
	if (!req->is_request || req->method == SIP_METHOD_ACK ||
	    !str_has_prefix(&req->via->branch, &STR(SIP_TX_COOKIE))) {
		err = -EINVAL;
		goto out;
	}
	if (txl->count >= txl->conf.max_tx) {
		err = -EBUSY;
		goto out;
	}
	err = key_client(&k, req->via->branch, req->method_str);
	if (err)
		goto out;
	if (hash_get(txl->txs, &(struct str){k.p, k.len})) {
		err = -EEXIST;
		goto out;
	}
	ct = tx_alloc(txl, &k);
	if (!ct) {
		err = -ENOMEM;
		goto out;
	}
	ct->client = true;
	ct->invite = req->method == SIP_METHOD_INVITE;
	ct->state = ct->invite ? SIP_TX_CALLING : SIP_TX_TRYING;
	ct->peer = *dst;
	ct->reliable = sip_peer_reliable(dst);
	ct->resph = resph;
	ct->arg = arg;
	err = mbuf_write(&ct->msg, buf, len);
	err = err ? err : tx_link(ct);
	err = err ? err : tx_send(txl, &ct->peer, &ct->msg);
	if (err)
		goto out;
	/* §17.1.1.2, §17.1.2.2: A or E = T1 over UDP only; B or F = 64*T1 always. */
	if (!ct->reliable) {
		ct->interval = t1(ct);
		timer_start(txl->tw, &ct->retx, ct->interval, client_retx_h, ct);
	}
	timer_start(txl->tw, &ct->life, 64 * t1(ct), client_life_h, ct);
out:
	if (err && ct)
		tx_free(ct);
	else if (!err && ctp)
		*ctp = ct;
	if (k.p)
		tx_key_release(&k);
	arena_reset(&a);
	return err;
}

void sip_tx_detach(struct sip_tx *ct)
{
	if (ct && ct->client)
		ct->resph = NULL;
}

/*
 * The ACK of §17.1.1.3 and the CANCEL of §9.1 share their shape: the
 * request's Request-URI, top Via only, Route headers, From, Call-ID and
 * CSeq number. The ACK takes To from the response (it has the tag); the
 * CANCEL takes it from the request.
 */
static int print_ack_cancel(struct mbuf *out, const struct sip_tx *ct, const char *method,
			    const struct sip_msg *resp)
{
	_Alignas(16) char abuf[8192];
	struct arena a;
	struct sip_msg *req;
	const struct sip_hdr *h;
	const struct sip_msg *tomsg;
	size_t mark = out->end;
	struct str s = mbuf_str(&ct->msg);
	int err;

	arena_init(&a, abuf, sizeof(abuf), 0);
	err = tx_parse(&req, &a, s.p, s.len);
	if (err)
		goto out;
	tomsg = resp ? resp : req;
	err = mbuf_printf(out, "%s ", method);
	err = err ? err : mbuf_write_str(out, &req->ruri.raw);
	err = err ? err : mbuf_write_cstr(out, " SIP/2.0\r\nVia: ");
	err = err ? err : mbuf_write_str(out, &sip_msg_hdr(req, SIP_HDR_VIA)->value);
	err = err ? err : mbuf_write_cstr(out, "\r\n");
	for (h = sip_msg_hdr(req, SIP_HDR_ROUTE); h && !err; h = sip_hdr_next(req, h)) {
		err = mbuf_write_cstr(out, "Route: ");
		err = err ? err : mbuf_write_str(out, &h->value);
		err = err ? err : mbuf_write_cstr(out, "\r\n");
	}
	err = err ? err : mbuf_write_cstr(out, "From: ");
	err = err ? err : mbuf_write_str(out, &sip_msg_hdr(req, SIP_HDR_FROM)->value);
	err = err ? err : mbuf_write_cstr(out, "\r\nTo: ");
	err = err ? err : mbuf_write_str(out, &sip_msg_hdr(tomsg, SIP_HDR_TO)->value);
	err = err ? err : mbuf_write_cstr(out, "\r\nCall-ID: ");
	err = err ? err : mbuf_write_str(out, &req->call_id);
	err = err ? err : mbuf_printf(out, "\r\nCSeq: %u %s\r\n", req->cseq.seq, method);
	err = err ? err : mbuf_write_cstr(out, "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
out:
	arena_reset(&a);
	if (err)
		out->end = mark;
	return err;
}

int sip_tx_cancel_print(struct mbuf *out, const struct sip_tx *ct)
{
	if (!out || !ct || !ct->client || !ct->invite)
		return -EINVAL;
	return print_ack_cancel(out, ct, "CANCEL", NULL);
}

/* ---- Responses ---- */

/* §17.1.1.3: ACK the non-2xx final response, to where the INVITE went. */
static void send_ack(struct sip_tx *ct, const struct sip_msg *resp)
{
	/* Built once; if memory ran out, the retransmitted response tries again. */
	if (!ct->ack.end && print_ack_cancel(&ct->ack, ct, "ACK", resp))
		return;
	tx_send(ct->txl, &ct->peer, &ct->ack);
}

static void invite_response(struct sip_tx *ct, const struct sip_msg *resp)
{
	struct sip_txl *txl = ct->txl;
	unsigned status = resp->status;

	if (ct->state == SIP_TX_COMPLETED) {
		/* §17.1.1.2: a retransmitted final response gets the ACK again. */
		if (status >= 300)
			send_ack(ct, resp);
		return;
	}
	if (status < 200) {
		/* §17.1.1.2: Proceeding stops A and B. */
		ct->state = SIP_TX_PROCEEDING;
		timer_cancel(&ct->retx);
		timer_cancel(&ct->life);
		report(ct, 0, status, resp);
		return;
	}
	if (status < 300) {
		/* §17.1.1.2: a 2xx goes up and the transaction ends; the dialog ACKs. */
		timer_cancel(&ct->retx);
		timer_cancel(&ct->life);
		ct->state = SIP_TX_TERMINATED;
		report(ct, 0, status, resp);
		tx_free(ct);
		return;
	}
	ct->state = SIP_TX_COMPLETED;
	timer_cancel(&ct->retx);
	/* Timer D absorbs retransmitted final responses: 32 s over UDP, 0 otherwise. */
	timer_start(txl->tw, &ct->life, ct->reliable ? 0 : txl->conf.timer_d_ms, client_life_h, ct);
	send_ack(ct, resp);
	report(ct, 0, status, resp);
}

static void non_invite_response(struct sip_tx *ct, const struct sip_msg *resp)
{
	struct sip_txl *txl = ct->txl;
	unsigned status = resp->status;

	if (ct->state == SIP_TX_COMPLETED)
		return; /* §17.1.2.2: absorbed until timer K */
	if (status < 200) {
		ct->state = SIP_TX_PROCEEDING;
		report(ct, 0, status, resp);
		return;
	}
	ct->state = SIP_TX_COMPLETED;
	timer_cancel(&ct->retx);
	/* Timer K = T4 over UDP, 0 otherwise. */
	timer_start(txl->tw, &ct->life, ct->reliable ? 0 : txl->conf.t4_ms, client_life_h, ct);
	report(ct, 0, status, resp);
}

int tx_client_recv(struct sip_txl *txl, const struct sip_msg *resp, const struct sip_peer *src)
{
	struct sip_tx *ct = NULL;
	struct tx_key k;
	int err;

	if (str_has_prefix(&resp->via->branch, &STR(SIP_TX_COOKIE))) {
		err = key_client(&k, resp->via->branch, resp->cseq.method_str);
		if (err)
			return err;
		ct = hash_get(txl->txs, &(struct str){k.p, k.len});
		tx_key_release(&k);
	}
	if (!ct || !ct->client) {
		if (txl->ops.stray)
			txl->ops.stray(txl->arg, resp, src);
		return SIP_TX_RECV_STRAY;
	}
	if (ct->invite)
		invite_response(ct, resp);
	else
		non_invite_response(ct, resp);
	return SIP_TX_RECV_RESPONSE;
}

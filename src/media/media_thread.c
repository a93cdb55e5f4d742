/*
 * media_thread: one media thread of the engine (see media_engine.h). It owns
 * its sessions outright: an epoll loop over their sockets, a timerfd tick
 * that paces prompts and the recorder, a slower housekeeping pass for
 * timeouts and RTCP, and a command queue from the owner.
 *
 * The packet path allocates nothing and copies nothing: a batch of packets
 * is received with one recvmmsg() into the thread's buffers, each is checked
 * (version, payload type, latched source), accounted, rewritten in place
 * (sequence, timestamp, SSRC, payload type, and the payload itself through a
 * 256-byte table when the legs' G.711 laws differ) and the batch goes out
 * with one sendmmsg() to the other leg.
 *
 * It never allocates or frees: what the owner allocated comes back to it
 * through me_cmd_return().
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOG_MODULE "media"
#include "base/clock.h"
#include "base/log.h"
#include "media/g711.h"
#include "media/media_engine_internal.h"

#define NS_PER_MS     1000000ull
#define NS_PER_S      1000000000ull
#define DTMF_FLUSH_NS (1000 * NS_PER_MS) /* a press whose end never came */
#define PLAY_CATCHUP  4			 /* prompt packets sent at most per tick */

static bool addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

static bool ip_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
			       sizeof(struct in6_addr));
	return false;
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int addr_fam(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET6 ? 1 : 0;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint32_t ns_to_samples(uint64_t ns)
{
	return (uint32_t)(ns / NS_PER_S * ME_RATE + ns % NS_PER_S * ME_RATE / NS_PER_S);
}

static void event_leg(struct me_thread *t, struct me_leg *l, struct media_event *ev)
{
	ev->session = l->s->id;
	ev->leg = (enum media_leg)l->idx;
	me_event_push(t->me, ev);
}

/* The remote accepts media from us (its direction and address allow it). */
static bool leg_can_send(const struct me_leg *l)
{
	return l->have_remote && !l->r.null_addr &&
	       (l->r.dir == MEDIA_DIR_SENDRECV || l->r.dir == MEDIA_DIR_RECVONLY);
}

/* The remote is expected to send to us. */
static bool leg_expects_rx(const struct me_leg *l)
{
	return l->have_remote && !l->r.null_addr &&
	       (l->r.dir == MEDIA_DIR_SENDRECV || l->r.dir == MEDIA_DIR_SENDONLY);
}

/* Where RTP for @l goes: the latched source, else the SDP's address. */
static const struct sockaddr_storage *leg_dst(const struct me_leg *l, int *fdp)
{
	const struct sockaddr_storage *d = l->latched ? &l->src : &l->r.rtp;

	*fdp = l->fd[addr_fam(d)][ME_IO_RTP];
	return d;
}

static void leg_sent(struct me_leg *l, size_t len)
{
	l->st.pkts_out++;
	l->st.bytes_out += len;
	l->tx_pkts++;
	l->tx_octets += (uint32_t)(len > RTP_HDR_SIZE ? len - RTP_HDR_SIZE : 0);
	l->sent_since_report = true;
}

/* ---- our outgoing stream: one SSRC, continuous numbers whatever the source --- */

/* Timestamp units since the last packet sent, at least its duration. */
static uint32_t tx_gap(const struct me_leg *l, uint64_t now)
{
	uint32_t gap = ns_to_samples(now - l->last_tx_ns);

	return gap > l->last_dur ? gap : l->last_dur;
}

/*
 * Rewrite the relayed packet @buf (header @h) for @o's stream. A new source
 * (another remote SSRC, or audio after a prompt) gets offsets that continue
 * our numbers and a marker (RFC 3550 §5.1: a discontinuity); within one
 * source the offsets stay, so its losses and reordering show through.
 */
static void tx_relay(struct me_leg *o, const struct rtp_hdr *h, uint8_t *buf, uint32_t dur,
		     uint64_t now)
{
	uint16_t seq;
	uint32_t ts;

	if (o->src_kind != ME_SRC_RELAY || o->src_ssrc != h->ssrc) {
		seq = (uint16_t)(o->last_seq + 1);
		ts = o->sent_any ? o->last_ts + tx_gap(o, now) : o->last_ts;
		o->seq_off = (uint16_t)(seq - h->seq);
		o->ts_off = ts - h->ts;
		o->src_kind = ME_SRC_RELAY;
		o->src_ssrc = h->ssrc;
		rtp_set_marker(buf, true);
	}
	seq = (uint16_t)(h->seq + o->seq_off);
	ts = h->ts + o->ts_off;
	rtp_set_seq(buf, seq);
	rtp_set_ts(buf, ts);
	rtp_set_ssrc(buf, o->ssrc);
	if (!o->sent_any || (int16_t)(seq - o->last_seq) > 0)
		o->last_seq = seq;
	if (!o->sent_any || (int32_t)(ts - o->last_ts) > 0) {
		o->last_ts = ts;
		if (dur)
			o->last_dur = dur;
	}
	o->last_tx_ns = now;
	o->sent_any = true;
}

/* Header fields for the next prompt packet of @dur samples. */
static bool tx_prompt(struct me_leg *l, uint32_t dur, uint64_t now)
{
	bool marker = false;

	if (l->src_kind != ME_SRC_PROMPT) {
		if (l->sent_any)
			l->last_ts += tx_gap(l, now);
		l->src_kind = ME_SRC_PROMPT;
		marker = true;
	} else {
		l->last_ts += l->last_dur;
	}
	l->last_seq++;
	l->last_dur = dur;
	l->last_tx_ns = now;
	l->sent_any = true;
	return marker;
}

/* ---- receiving ----------------------------------------------------------------- */

static void dtmf_emit(struct me_thread *t, struct me_leg *l, const struct rtp_dtmf_press *p)
{
	struct media_event ev = {.type = MEDIA_EV_DTMF};

	ev.dtmf.digit = p->digit;
	ev.dtmf.duration_ms = p->duration / (ME_RATE / 1000);
	event_leg(t, l, &ev);
}

/* RFC 4733: one event per key press, sent when the press ends (its duration
 * is known then), or a second after its last packet if the end was lost. */
static void dtmf_in(struct me_thread *t, struct me_leg *l, const struct rtp_hdr *h, uint64_t now)
{
	struct rtp_dtmf_press p;
	int r = rtp_dtmf_det_push(&l->det, h, &p);

	l->dtmf_last_ns = now;
	if (r <= 0)
		return;
	if (r & RTP_DTMF_DIGIT) {
		if (l->dtmf_pending)
			dtmf_emit(t, l, &l->dtmf_press);
		l->dtmf_pending = true;
		l->dtmf_press = p;
	}
	if ((r & RTP_DTMF_END) && l->dtmf_pending) {
		l->dtmf_pending = false;
		dtmf_emit(t, l, &p);
	}
}

enum rx_kind { RX_DROP = 0, RX_AUDIO, RX_EVENT };

/*
 * Check and account one RTP packet received on @l from @src. Symmetric RTP:
 * the first valid packet latches the leg to its source; from then on any
 * other source is dropped and counted, so nobody can inject into or steal a
 * call by sending to its port.
 */
static enum rx_kind rtp_in(struct me_thread *t, struct me_leg *l, struct rtp_hdr *h,
			   const uint8_t *buf, size_t len, const struct sockaddr_storage *src,
			   uint64_t now)
{
	bool te;

	if (!l->have_remote || rtp_hdr_decode(h, buf, len)) {
		l->st.dropped++;
		return RX_DROP;
	}
	te = l->r.te_pt >= 0 && h->pt == l->r.te_pt;
	if (h->pt != l->r.pt && !te) {
		l->st.dropped++;
		return RX_DROP;
	}
	if (l->latched ? !addr_eq(src, &l->src)
		       : !t->me->conf.latch_any && !ip_eq(src, &l->r.rtp)) {
		l->st.dropped_foreign++;
		return RX_DROP;
	}
	if (l->r.dir == MEDIA_DIR_RECVONLY || l->r.dir == MEDIA_DIR_INACTIVE) {
		l->st.dropped++;
		return RX_DROP;
	}
	if (!l->latched) {
		struct media_event ev = {.type = MEDIA_EV_LATCHED};

		l->latched = true;
		l->src = *src;
		ev.latched.addr = *src;
		ev.latched.addr_len = addr_len(src);
		event_leg(t, l, &ev);
	}
	l->st.pkts_in++;
	l->st.bytes_in += len;
	l->got_media = true;
	l->timed_out = false;
	l->last_rx_ns = now;
	if (!l->rx_started || h->ssrc != l->rx.ssrc) {
		/* The signalling vouched for this party: count from its first packet. */
		rtp_source_init(&l->rx, h->ssrc, 1);
		l->rx_started = true;
	}
	rtp_source_update(&l->rx, h->seq, h->ts, rtp_clock_ts(now, ME_RATE));
	if (te) {
		dtmf_in(t, l, h, now);
		return RX_EVENT;
	}
	if (l->s->rec)
		me_rec_put(t, l->s->rec, l->idx, h, l->r.pt, now);
	return RX_AUDIO;
}

/* Make the packet in @buf fit for @o: payload type (and law), then our stream. */
static bool relay_out(struct me_thread *t, const struct me_leg *l, struct me_leg *o,
		      const struct rtp_hdr *h, uint8_t *buf, enum rx_kind kind, uint64_t now)
{
	uint32_t dur = 0;

	if (kind == RX_EVENT) {
		if (o->r.te_pt < 0)
			return false; /* the other side cannot take RFC 4733 */
		rtp_set_pt(buf, (uint8_t)o->r.te_pt);
	} else {
		dur = (uint32_t)h->payload_len;
		if (o->r.pt != l->r.pt) {
			const uint8_t *map = l->r.pt == 0 ? t->me->ulaw2alaw : t->me->alaw2ulaw;
			uint8_t *p = buf + h->hdr_len;

			for (size_t i = 0; i < h->payload_len; i++)
				p[i] = map[p[i]];
			rtp_set_pt(buf, o->r.pt);
		}
	}
	tx_relay(o, h, buf, dur, now);
	return true;
}

static void rtp_ready(struct me_thread *t, struct me_io *io, uint64_t now)
{
	struct me_leg *l = io->leg, *o = &l->s->leg[!l->idx];
	const struct sockaddr_storage *dst = NULL;
	unsigned nout = 0;
	int n, ofd = -1;
	bool fwd;

	for (int i = 0; i < ME_BATCH; i++)
		t->rx_msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
	n = recvmmsg(l->fd[io->fam][ME_IO_RTP], t->rx_msgs, ME_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return;
	/* Prompt wins: audio bridged into a leg that plays is dropped. */
	fwd = l->s->bridged && !o->play && leg_can_send(o);
	if (fwd)
		dst = leg_dst(o, &ofd);
	for (int i = 0; i < n; i++) {
		uint8_t *buf = t->rx[i];
		size_t len = t->rx_msgs[i].msg_len;
		struct rtp_hdr h;
		enum rx_kind kind;

		if (t->rx_msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			l->st.dropped++;
			continue;
		}
		kind = rtp_in(t, l, &h, buf, len, &t->rx_addr[i], now);
		if (kind == RX_DROP || !fwd || ofd < 0 || !relay_out(t, l, o, &h, buf, kind, now))
			continue;
		t->tx_iov[nout] = (struct iovec){buf, len};
		t->tx_msgs[nout].msg_hdr.msg_name = (void *)dst;
		t->tx_msgs[nout].msg_hdr.msg_namelen = addr_len(dst);
		nout++;
	}
	if (nout) {
		int sent = sendmmsg(ofd, t->tx_msgs, nout, 0);

		/* A full socket buffer drops the rest, as the network would. */
		for (int i = 0; i < sent; i++)
			leg_sent(o, t->tx_iov[i].iov_len);
	}
}

/* ---- RTCP: terminated per leg ----------------------------------------------------- */

static void rtcp_in(struct me_thread *t, struct me_leg *l, const uint8_t *buf, size_t len,
		    const struct sockaddr_storage *from)
{
	struct rtcp_iter it;
	struct rtcp_pkt pkt;
	uint32_t now_mid;

	if (!l->have_remote) {
		l->st.dropped++;
		return;
	}
	if (l->rtcp_latched) {
		if (!addr_eq(from, &l->rtcp_src)) {
			l->st.dropped_foreign++;
			return;
		}
	} else if ((l->latched || !t->me->conf.latch_any) &&
		   !ip_eq(from, l->latched ? &l->src : &l->r.rtp)) {
		/* RTCP follows the RTP latch: same host, its own port. */
		l->st.dropped_foreign++;
		return;
	}
	if (rtcp_validate(buf, len)) {
		l->st.dropped++;
		return;
	}
	if (!l->rtcp_latched) {
		l->rtcp_latched = true;
		l->rtcp_src = *from;
	}
	l->st.rtcp_in++;
	now_mid = rtcp_ntp_mid(rtcp_ntp_from_unix_ns(real_ns()));
	rtcp_iter_init(&it, buf, len);
	while (rtcp_iter_next(&it, &pkt) == 1) {
		struct rtcp_report r;

		if (rtcp_report_decode(&r, &pkt))
			continue;
		if (r.sr && l->rx_started && r.ssrc == l->rx.ssrc)
			rtp_source_sr(&l->rx, r.ntp, now_mid);
		for (unsigned i = 0; i < r.rc; i++) {
			const struct rtcp_rb *rb = &r.rb[i];

			if (rb->ssrc != l->ssrc)
				continue;
			l->st.remote_report = true;
			l->st.remote_fraction_lost = rb->fraction;
			l->st.remote_lost = rb->lost;
			l->st.remote_jitter_ms = rb->jitter / (ME_RATE / 1000);
			/* RFC 3550 §6.4.1: round trip = A - LSR - DLSR, in 1/65536 s. */
			if (rb->lsr) {
				uint32_t rtt = now_mid - rb->lsr - rb->dlsr;

				if ((int32_t)rtt >= 0)
					l->st.rtt_ms = (uint32_t)(((uint64_t)rtt * 1000) >> 16);
			}
		}
	}
}

static void rtcp_ready(struct me_thread *t, struct me_io *io)
{
	struct me_leg *l = io->leg;

	/* RTCP is a packet every few seconds: a few reads, no batching. */
	for (int k = 0; k < 8; k++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(l->fd[io->fam][ME_IO_RTCP], t->rx[0], ME_PKT_MAX, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);

		if (n < 0)
			break;
		rtcp_in(t, l, t->rx[0], (size_t)n, &from);
	}
}

/* Our report for @l: an SR when we sent since the last one, else an RR, with
 * a block on the remote's stream, and the CNAME RFC 3550 §6.1 requires. */
static void rtcp_send(struct me_thread *t, struct me_leg *l, uint64_t now)
{
	static const struct str cname = STR(ME_CNAME);
	struct rtcp_report r = {.ssrc = l->ssrc};
	const struct sockaddr_storage *dst;
	uint64_t ntp = rtcp_ntp_from_unix_ns(real_ns());
	int n, m;

	if (l->sent_since_report) {
		r.sr = true;
		r.ntp = ntp;
		r.rtp_ts = l->last_ts + ns_to_samples(now - l->last_tx_ns);
		r.pkt_count = l->tx_pkts;
		r.octet_count = l->tx_octets;
		l->sent_since_report = false;
	}
	if (l->rx_started && rtp_source_expected(&l->rx) > 0) {
		rtp_source_report(&l->rx, &r.rb[0], rtcp_ntp_mid(ntp));
		r.rc = 1;
	}
	n = rtcp_report_encode(t->tx, sizeof(t->tx), &r);
	if (n < 0)
		return;
	m = rtcp_sdes_encode(t->tx + n, sizeof(t->tx) - (size_t)n, l->ssrc, &cname);
	if (m < 0)
		return;
	dst = l->rtcp_latched ? &l->rtcp_src : &l->r.rtcp;
	if (sendto(l->fd[addr_fam(dst)][ME_IO_RTCP], t->tx, (size_t)(n + m), 0,
		   (const struct sockaddr *)dst, addr_len(dst)) > 0)
		l->st.rtcp_out++;
}

/* ---- prompts --------------------------------------------------------------------- */

static void play_finish(struct me_thread *t, struct me_leg *l, bool completed)
{
	struct me_cmd *cmd = l->play;

	if (!cmd)
		return;
	l->play = NULL;
	list_unlink(&l->play_le);
	cmd->play.completed = completed;
	me_cmd_return(t->me, cmd);
}

static void play_packet(struct me_thread *t, struct me_leg *l, uint64_t now)
{
	struct me_cmd *cmd = l->play;
	const struct media_audio *a = cmd->play.audio;
	uint8_t pt = l->have_remote ? l->r.pt : 0;
	size_t n = (size_t)(l->have_remote ? l->r.ptime : 20) * (ME_RATE / 1000), i = 0;
	uint8_t *p = t->tx;
	bool marker;

	while (i < n) {
		size_t k;

		if (l->play_pos >= a->n) {
			if (!cmd->play.loop)
				break;
			l->play_pos = 0;
		}
		k = a->n - l->play_pos < n - i ? a->n - l->play_pos : n - i;
		memcpy(t->pcm + i, a->pcm + l->play_pos, k * sizeof(int16_t));
		i += k;
		l->play_pos += k;
	}
	/* The last packet is filled up with silence: a whole ptime, as the
	 * remote's jitter buffer expects. */
	memset(t->pcm + i, 0, (n - i) * sizeof(int16_t));
	if (pt == 0)
		g711_ulaw_encode_buf(p + RTP_HDR_SIZE, t->pcm, n);
	else
		g711_alaw_encode_buf(p + RTP_HDR_SIZE, t->pcm, n);
	marker = tx_prompt(l, (uint32_t)n, now);
	p[0] = RTP_VERSION << 6;
	p[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	rtp_set_seq(p, l->last_seq);
	rtp_set_ts(p, l->last_ts);
	rtp_set_ssrc(p, l->ssrc);
	if (leg_can_send(l)) {
		int fd;
		const struct sockaddr_storage *dst = leg_dst(l, &fd);

		if (fd >= 0 && sendto(fd, p, RTP_HDR_SIZE + n, 0, (const struct sockaddr *)dst,
				      addr_len(dst)) > 0)
			leg_sent(l, RTP_HDR_SIZE + n);
	}
	if (!cmd->play.loop && l->play_pos >= a->n)
		play_finish(t, l, true);
}

/*
 * Send what is due. Packets are due every ptime from the first tick after
 * the prompt began, so with a ptime that is a multiple of the tick they go
 * out on ticks, evenly; half a tick of slack absorbs the wake-up latency.
 */
static void play_tick(struct me_thread *t, struct me_leg *l, uint64_t now)
{
	uint64_t ptime_ns = (uint64_t)(l->have_remote ? l->r.ptime : 20) * NS_PER_MS;

	if (!l->play_next_ns || now > l->play_next_ns + 5 * ptime_ns)
		l->play_next_ns = now; /* the first packet, or fell far behind: start over */
	for (int k = 0; l->play && k < PLAY_CATCHUP && l->play_next_ns <= now + t->tick_ns / 2;
	     k++) {
		play_packet(t, l, now);
		l->play_next_ns += ptime_ns;
	}
}

/* ---- commands --------------------------------------------------------------------- */

static void leg_set_remote(struct me_thread *t, struct me_leg *l, const struct me_remote *r,
			   uint64_t now)
{
	bool moved = !l->have_remote || !addr_eq(&l->r.rtp, &r->rtp);
	uint64_t ivl = (uint64_t)t->me->conf.rtcp_interval_ms * NS_PER_MS;

	l->r = *r;
	if (moved) {
		/* A new party (re-INVITE, transfer) latches afresh and gets the
		 * setup timeout again. */
		l->latched = false;
		l->rtcp_latched = false;
		l->got_media = false;
	}
	if (!l->have_remote) {
		/* Spread the reports over the interval (RFC 3550 §6.2 wants
		 * them randomised), from half an interval on. */
		l->next_rtcp_ns = now + ivl / 2 + (l->ssrc % 1024) * (ivl / 2) / 1024;
	}
	l->have_remote = true;
	l->remote_set_ns = now;
	l->last_rx_ns = now;
	l->timed_out = false;
}

static void rec_stop(struct me_thread *t, struct me_session *s, uint64_t now)
{
	list_unlink(&s->rec_le);
	me_rec_end(t, s->rec, now);
	s->rec = NULL;
	s->rec_cmd = NULL;
}

static void session_teardown(struct me_thread *t, struct me_session *s, uint64_t now)
{
	for (int i = 0; i < 2; i++) {
		struct me_leg *l = &s->leg[i];

		play_finish(t, l, false);
		for (int f = 0; f < ME_FAM_N; f++) {
			for (int k = 0; k < 2; k++) {
				if (l->fd[f][k] < 0)
					continue;
				if (s->added)
					epoll_ctl(t->epfd, EPOLL_CTL_DEL, l->fd[f][k], NULL);
				close(l->fd[f][k]);
				l->fd[f][k] = -1;
			}
		}
	}
	if (s->rec)
		rec_stop(t, s, now);
	if (s->added)
		t->nsess--;
	list_unlink(&s->le);
	s->dead = true;
}

static void stats_fill(const struct me_session *s, struct media_leg_stats *st)
{
	for (int i = 0; i < 2; i++) {
		const struct me_leg *l = &s->leg[i];

		st[i] = l->st;
		st[i].lost = l->rx_started ? rtp_source_lost(&l->rx) : 0;
		st[i].jitter_ms = l->rx_started ? rtp_source_jitter(&l->rx) / (ME_RATE / 1000) : 0;
		st[i].latched = l->latched;
		if (l->latched)
			st[i].source = l->src;
	}
}

/* Run one command; true for QUIT. */
static bool cmd_run(struct me_thread *t, struct me_cmd *cmd, uint64_t now)
{
	struct me_session *s = cmd->s;
	struct me_leg *l = s ? &s->leg[cmd->leg] : NULL;

	switch (cmd->type) {
	case ME_CMD_ADD:
		for (int i = 0; i < 2; i++) {
			for (int f = 0; f < ME_FAM_N; f++) {
				for (int k = 0; k < 2; k++) {
					struct epoll_event ev = {.events = EPOLLIN,
								 .data.ptr = &s->leg[i].io[f][k]};

					if (s->leg[i].fd[f][k] >= 0 &&
					    epoll_ctl(t->epfd, EPOLL_CTL_ADD, s->leg[i].fd[f][k],
						      &ev))
						log_error("epoll_ctl: %s; session %llu deaf",
							  strerror(errno),
							  (unsigned long long)s->id);
				}
			}
		}
		s->added = true;
		t->nsess++;
		list_append(&t->sessions, &s->le);
		break;
	case ME_CMD_REMOTE:
		leg_set_remote(t, l, &cmd->remote, now);
		break;
	case ME_CMD_BRIDGE:
		s->bridged = cmd->on;
		break;
	case ME_CMD_PLAY:
		play_finish(t, l, false);
		l->play = cmd;
		l->play_pos = 0;
		l->play_next_ns = 0;
		list_append(&t->playing, &l->play_le);
		return false; /* handed back when the prompt ends */
	case ME_CMD_PLAY_STOP:
		play_finish(t, l, false);
		break;
	case ME_CMD_REC_START:
		s->rec = cmd->rec;
		s->rec_cmd = cmd;
		me_rec_begin(s->rec, now);
		s->rec->next_fsync_ns = now + (uint64_t)t->me->conf.record_fsync_ms * NS_PER_MS;
		list_append(&t->recording, &s->rec_le);
		return false; /* handed back by the disk thread when finished */
	case ME_CMD_REC_STOP:
		if (s->rec)
			rec_stop(t, s, now);
		break;
	case ME_CMD_DESTROY:
		session_teardown(t, s, now);
		/* Its return lets the owner free @s, whose sockets may still be
		 * in this batch of events: hand it back after the batch. */
		list_append(&t->deferred, &cmd->le);
		return false;
	case ME_CMD_STATS:
		stats_fill(s, cmd->stats.out);
		pthread_mutex_lock(&t->me->sync_lock);
		cmd->stats.done = true;
		pthread_cond_broadcast(&t->me->sync_cond);
		pthread_mutex_unlock(&t->me->sync_lock);
		return false; /* WARNING: cmd is gone (the owner's stack) */
	case ME_CMD_QUIT: {
		struct list_elem *e, *tmp;

		/* The owner frees these sessions after joining us. */
		list_for_each_safe(&t->sessions, e, tmp)
		    session_teardown(t, list_entry(e, struct me_session, le), now);
		return true;
	}
	}
	me_cmd_return(t->me, cmd);
	return false;
}

static bool thread_cmds(struct me_thread *t, uint64_t now)
{
	struct list q;
	struct list_elem *e, *tmp;
	uint64_t v;
	bool quit = false;

	if (read(t->cmd_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("command eventfd: %s", strerror(errno));
	list_init(&q);
	pthread_mutex_lock(&t->cmd_lock);
	list_splice_tail(&q, &t->cmds);
	pthread_mutex_unlock(&t->cmd_lock);
	list_for_each_safe(&q, e, tmp)
	{
		list_unlink(e);
		if (cmd_run(t, list_entry(e, struct me_cmd, le), now))
			quit = true;
	}
	return quit;
}

/* ---- ticks ------------------------------------------------------------------------ */

static void leg_housekeep(struct me_thread *t, struct me_leg *l, uint64_t now)
{
	const struct media_conf *c = &t->me->conf;

	if (leg_expects_rx(l) && !l->timed_out) {
		uint64_t ms = l->got_media ? c->rtp_timeout_ms : c->rtp_setup_timeout_ms;
		uint64_t since = l->got_media ? l->last_rx_ns : l->remote_set_ns;

		if (now - since >= ms * NS_PER_MS) {
			struct media_event ev = {.type = MEDIA_EV_RTP_TIMEOUT};

			ev.timeout.setup = !l->got_media;
			ev.timeout.ms = (uint32_t)ms;
			l->timed_out = true; /* once, until media comes back */
			event_leg(t, l, &ev);
		}
	}
	if (l->dtmf_pending && now - l->dtmf_last_ns >= DTMF_FLUSH_NS) {
		l->dtmf_pending = false;
		dtmf_emit(t, l, &l->dtmf_press);
	}
	if (l->have_remote && now >= l->next_rtcp_ns) {
		uint64_t ivl = (uint64_t)c->rtcp_interval_ms * NS_PER_MS;

		if (!l->r.null_addr)
			rtcp_send(t, l, now);
		l->next_rtcp_ns += ivl;
		if (l->next_rtcp_ns <= now)
			l->next_rtcp_ns = now + ivl;
	}
}

static void thread_tick(struct me_thread *t, uint64_t now)
{
	struct list_elem *e, *tmp;

	list_for_each_safe(&t->playing, e, tmp)
	    play_tick(t, list_entry(e, struct me_leg, play_le), now);
	list_for_each_safe(&t->recording, e, tmp)
	    me_rec_tick(t, list_entry(e, struct me_session, rec_le)->rec, now);
	/* Housekeeping visits every session once per housekeep_ns, a slice
	 * per tick (the oldest visit first, then to the back of the line), so
	 * that the RTCP reports and checks of thousands of sessions never
	 * come as one burst that would hold up everybody's packets. */
	if (t->nsess) {
		uint64_t k = (t->nsess * t->tick_ns + t->housekeep_ns - 1) / t->housekeep_ns;

		for (; k && (e = list_head(&t->sessions)); k--) {
			struct me_session *s = list_entry(e, struct me_session, le);

			leg_housekeep(t, &s->leg[0], now);
			leg_housekeep(t, &s->leg[1], now);
			list_unlink(e);
			list_append(&t->sessions, e);
		}
	}
}

void *me_thread_main(void *arg)
{
	struct me_thread *t = arg;
	struct epoll_event evs[ME_EPOLL_MAX];
	struct list_elem *e, *tmp;
	bool quit = false;

	while (!quit) {
		int n = epoll_wait(t->epfd, evs, ME_EPOLL_MAX, -1);
		bool tick = false, cmds = false;
		uint64_t now;

		if (n < 0) {
			if (errno != EINTR) {
				log_error("epoll_wait: %s", strerror(errno));
				usleep(1000);
			}
			continue;
		}
		now = clock_mono_ns();
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &t->tfd)
				tick = true;
			else if (evs[i].data.ptr == &t->cmd_efd)
				cmds = true;
		}
		/* Commands first: what the owner asked before a packet came
		 * (a new remote, a stop) applies to that packet. */
		if (cmds)
			quit = thread_cmds(t, now);
		for (int i = 0; i < n; i++) {
			struct me_io *io = evs[i].data.ptr;

			if (io == (void *)&t->tfd || io == (void *)&t->cmd_efd || io->leg->s->dead)
				continue;
			if (io->kind == ME_IO_RTP)
				rtp_ready(t, io, now);
			else
				rtcp_ready(t, io);
		}
		if (tick) {
			uint64_t x;

			if (read(t->tfd, &x, sizeof(x)) < 0 && errno != EAGAIN)
				log_warn("timerfd: %s", strerror(errno));
			thread_tick(t, now);
		}
		list_for_each_safe(&t->deferred, e, tmp)
		{
			list_unlink(e);
			me_cmd_return(t->me, list_entry(e, struct me_cmd, le));
		}
	}
	return NULL;
}

/*
 * Unit tests for media_engine.h on real sockets on loopback: the engine runs
 * its own threads, and each test plays both remote parties with plain UDP
 * sockets, reading events the way the call control does (poll on the event
 * descriptor, then drain). Covered: relay both ways on two media threads,
 * latching and the dropping of other sources (also the strict mode), RFC
 * 4733 digits reported once and relayed with the other leg's payload type,
 * prompts paced at ptime with continuous numbering (and the prompt winning
 * over bridged audio), PCMU <-> PCMA transcoding, both RTP timeouts, the
 * stereo recording's content placed by timestamp and its SHA-256, RTCP both
 * ways, port exhaustion and release, IPv6, and argument errors.
 *
 * The engine's ports come from 31000-31999, each test its own slice: clear
 * of the platform's default range (20000-29999) and below Linux's ephemeral
 * ports (32768 up), so no socket bound to port 0 anywhere on the machine
 * (the parties here included) can take one. Every wait is bounded.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "media/g711.h"
#include "media/media_engine.h"
#include "media/rtp.h"
#include "media/wav.h"
#include "test.h"

#define MAX_EV 128

struct evlog {
	struct media_event ev[MAX_EV];
	size_t n;
	char path[256];
};

static void on_event(void *arg, const struct media_event *ev)
{
	struct evlog *log = arg;

	if (log->n == MAX_EV)
		return;
	log->ev[log->n] = *ev;
	if (ev->type == MEDIA_EV_RECORD_DONE) {
		snprintf(log->path, sizeof(log->path), "%s", ev->record.path);
		log->ev[log->n].record.path = log->path;
	}
	log->n++;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Drain events for @ms milliseconds at most, or until the log holds @want. */
static void pump(struct media_engine *me, struct evlog *log, size_t want, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	for (;;) {
		struct pollfd pfd = {.fd = media_engine_event_fd(me), .events = POLLIN};
		uint64_t now = now_ms();

		media_engine_drain(me);
		if (log->n >= want || now >= end)
			return;
		poll(&pfd, 1, (int)(end - now));
	}
}

/* Index of the first event of @type (and @leg unless -1) at or after @from, or -1. */
static int find_ev(const struct evlog *log, enum media_event_type type, int leg, size_t from)
{
	for (size_t i = from; i < log->n; i++) {
		if (log->ev[i].type == type && (leg < 0 || (int)log->ev[i].leg == leg))
			return (int)i;
	}
	return -1;
}

static size_t count_ev(const struct evlog *log, enum media_event_type type, int leg)
{
	size_t n = 0;

	for (size_t i = 0; i < log->n; i++) {
		if (log->ev[i].type == type && (leg < 0 || (int)log->ev[i].leg == leg))
			n++;
	}
	return n;
}

/* Index of the @nth (from 1) event of @type (and @leg unless -1), or -1. */
static int nth_ev(const struct evlog *log, enum media_event_type type, int leg, size_t nth)
{
	int i = -1;

	for (size_t k = 0; k < nth; k++) {
		i = find_ev(log, type, leg, (size_t)(i + 1));
		if (i < 0)
			return -1;
	}
	return i;
}

/* Pump until the @nth event of @type on @leg shows up, @ms at most: its index or -1. */
static int wait_nth(struct media_engine *me, struct evlog *log, enum media_event_type type, int leg,
		    size_t nth, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	int i;

	while ((i = nth_ev(log, type, leg, nth)) < 0 && now_ms() < end)
		pump(me, log, log->n + 1, (int)(end - now_ms()));
	return i;
}

static int wait_ev(struct media_engine *me, struct evlog *log, enum media_event_type type, int leg,
		   int ms)
{
	return wait_nth(me, log, type, leg, 1, ms);
}

static void conf_make(struct media_conf *c, uint16_t pmin, uint16_t pmax)
{
	media_conf_init(c);
	c->addr4 = "127.0.0.1";
	c->port_min = pmin;
	c->port_max = pmax;
}

/* A party: a UDP socket on @ip, any port. */
static int party_open(const char *ip, uint16_t *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd;

	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
		len = sizeof(*s4);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		int err = -errno;

		close(fd);
		return err;
	}
	*port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					       : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void party_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int send_to(int fd, const char *ip, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_storage ss = {0};
	socklen_t slen;

	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &s6->sin6_addr);
		s6->sin6_port = htons(port);
		slen = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &s4->sin_addr);
		s4->sin_port = htons(port);
		slen = sizeof(*s4);
	}
	return sendto(fd, buf, len, 0, (struct sockaddr *)&ss, slen) == (ssize_t)len ? 0 : -EIO;
}

/* Send one RTP packet of @n payload bytes from @fd to 127.0.0.1:@port. */
static int send_rtp(int fd, uint16_t port, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
		    uint32_t ssrc, const uint8_t *payload, size_t n)
{
	uint8_t buf[1500];

	buf[0] = 0x80;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | pt);
	rtp_set_seq(buf, seq);
	rtp_set_ts(buf, ts);
	rtp_set_ssrc(buf, ssrc);
	memcpy(buf + RTP_HDR_SIZE, payload, n);
	return send_to(fd, "127.0.0.1", port, buf, RTP_HDR_SIZE + n);
}

/* Receive one datagram within @ms: its length, or -ETIMEDOUT. */
static int recv_within(int fd, uint8_t *buf, size_t size, int ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return -ETIMEDOUT;
	n = recv(fd, buf, size, 0);
	return n < 0 ? -errno : (int)n;
}

/* Receive one RTP packet into @buf and decode it into @h (views into @buf). */
static int recv_rtp(int fd, uint8_t *buf, size_t size, struct rtp_hdr *h, int ms)
{
	int n = recv_within(fd, buf, size, ms);

	if (n < 0)
		return n;
	return rtp_hdr_decode(h, buf, (size_t)n);
}

static struct media_remote remote_make(const char *ip, uint16_t port, uint8_t pt, int te_pt)
{
	return (struct media_remote){.addr = str_cstr(ip),
				     .port = port,
				     .pt = pt,
				     .te_pt = te_pt,
				     .ptime = 20,
				     .dir = MEDIA_DIR_SENDRECV};
}

/* The two parties of one call, already set as the legs' remotes. */
struct call {
	uint64_t id;
	struct media_leg_info leg[2];
	int fd[2];
	uint16_t port[2];
};

static int call_setup(struct media_engine *me, struct call *c, uint8_t pt_a, uint8_t pt_b, int te_a,
		      int te_b, bool bridge)
{
	int err;

	c->fd[0] = c->fd[1] = -1;
	err = media_session_create(me, &c->id, c->leg);
	for (int i = 0; i < 2 && !err; i++) {
		struct media_remote r;

		c->fd[i] = party_open("127.0.0.1", &c->port[i]);
		if (c->fd[i] < 0)
			return c->fd[i];
		r = remote_make("127.0.0.1", c->port[i], i ? pt_b : pt_a, i ? te_b : te_a);
		err = media_leg_remote(me, c->id, (enum media_leg)i, &r);
	}
	if (!err && bridge)
		err = media_bridge(me, c->id, true);
	return err;
}

static void call_close(struct call *c)
{
	party_close(&c->fd[0]);
	party_close(&c->fd[1]);
}

/* ---- relay ------------------------------------------------------------------ */

/* Five packets from @from's party arrive at the other party rewritten into
 * our stream: our SSRC, consecutive numbers, the payload untouched. */
static int relay_check(struct call *c, int from)
{
	int to = !from, err = 0;
	uint8_t payload[160], buf[1500];
	uint32_t ssrc = 0, ts0 = 0;
	uint16_t seq0 = 0;

	for (int k = 0; k < 5; k++) {
		memset(payload, 0x10 + k, sizeof(payload));
		TEST_ERR(send_rtp(c->fd[from], c->leg[from].rtp_port, 0, k == 0,
				  (uint16_t)(65533 + k), 1000 + 160u * (uint32_t)k,
				  0x1111u + (uint32_t)from, payload, sizeof(payload)));
	}
	for (int k = 0; k < 5; k++) {
		struct rtp_hdr h;

		TEST_ERR(recv_rtp(c->fd[to], buf, sizeof(buf), &h, 1000));
		TEST_EQUALS(0, h.pt);
		TEST_EQUALS(160, h.payload_len);
		TEST_EQUALS(0x10 + k, h.payload[0]);
		TEST_EQUALS(0x10 + k, h.payload[159]);
		if (k == 0) {
			ssrc = h.ssrc;
			seq0 = h.seq;
			ts0 = h.ts;
			TEST_ASSERT(h.marker); /* a new source for this stream */
			TEST_ASSERT(ssrc != 0x1111u + (uint32_t)from);
		} else {
			TEST_EQUALS(ssrc, h.ssrc);
			TEST_EQUALS((uint16_t)(seq0 + k), h.seq); /* across the wrap too */
			TEST_EQUALS(ts0 + 160u * (uint32_t)k, h.ts);
			TEST_ASSERT(!h.marker);
		}
	}
out:
	return err;
}

TEST(test_media_engine_relay)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c[2] = {{.fd = {-1, -1}}, {.fd = {-1, -1}}};
	struct media_leg_stats st[2];
	int err = 0;

	conf_make(&conf, 31000, 31049);
	conf.threads = 2;
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	for (int i = 0; i < 2; i++)
		TEST_ERR(call_setup(me, &c[i], 0, 0, -1, -1, true));
	for (int i = 0; i < 2; i++) {
		TEST_EQUALS(0, c[i].leg[0].rtp_port % 2);
		TEST_EQUALS(c[i].leg[0].rtp_port + 1, c[i].leg[0].rtcp_port);
		TEST_ASSERT(c[i].leg[0].rtp_port >= 31000 && c[i].leg[0].rtcp_port <= 31049);
		TEST_ASSERT(!strcmp(c[i].leg[0].addr4, "127.0.0.1"));
		TEST_ASSERT(!c[i].leg[0].addr6[0]);
		TEST_ERR(relay_check(&c[i], 0));
		TEST_ERR(relay_check(&c[i], 1));
		TEST_ERR(media_session_stats(me, c[i].id, st));
		TEST_EQUALS(5, st[0].pkts_in);
		TEST_EQUALS(5 * 172, st[0].bytes_in);
		TEST_EQUALS(5, st[0].pkts_out);
		TEST_EQUALS(5, st[1].pkts_in);
		TEST_EQUALS(5, st[1].pkts_out);
		TEST_EQUALS(0, st[0].dropped + st[0].dropped_foreign);
		TEST_EQUALS(0, st[0].lost);
		TEST_ASSERT(st[0].latched && st[1].latched);
	}
	pump(me, &log, 4, 1000);
	TEST_EQUALS(4, count_ev(&log, MEDIA_EV_LATCHED, -1));
	/* Off: nothing is relayed any more, but still received. */
	TEST_ERR(media_bridge(me, c[0].id, false));
	pump(me, &log, 100, 20);
	{
		uint8_t p[160] = {0}, buf[1500];

		TEST_ERR(
		    send_rtp(c[0].fd[0], c[0].leg[0].rtp_port, 0, false, 3, 1800, 0x1111, p, 160));
		TEST_EQUALS(-ETIMEDOUT, recv_within(c[0].fd[1], buf, sizeof(buf), 100));
		TEST_ERR(media_session_stats(me, c[0].id, st));
		TEST_EQUALS(6, st[0].pkts_in);
	}
out:
	media_engine_free(me);
	call_close(&c[0]);
	call_close(&c[1]);
	return err;
}

/* ---- latching ---------------------------------------------------------------- */

TEST(test_media_engine_latch)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct media_leg_info legs[2];
	struct media_leg_stats st[2];
	struct media_remote r;
	uint8_t p[160] = {0}, buf[1500];
	struct rtp_hdr h;
	uint16_t pa, pb, pd, pf;
	int fa = -1, fb = -1, fd = -1, ff = -1, err = 0, i;
	uint64_t id;

	conf_make(&conf, 31050, 31099);
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(media_session_create(me, &id, legs));
	fa = party_open("127.0.0.1", &pa);
	fb = party_open("127.0.0.1", &pb);
	fd = party_open("127.0.0.1", &pd);
	ff = party_open("127.0.0.1", &pf);
	TEST_ASSERT(fa >= 0 && fb >= 0 && fd >= 0 && ff >= 0);

	/* No remote yet: dropped. */
	TEST_ERR(send_rtp(fa, legs[0].rtp_port, 0, false, 1, 160, 0xa, p, 160));
	pump(me, &log, 1, 50);
	TEST_ERR(media_session_stats(me, id, st));
	TEST_EQUALS(1, st[0].dropped);
	TEST_EQUALS(0, st[0].pkts_in);
	TEST_ASSERT(!st[0].latched);

	/* A's SDP names port pd, but A sends from pa (a NAT): latch_any takes
	 * pa, and from then on A's media goes to pa, not to the SDP's port. */
	r = remote_make("127.0.0.1", pd, 0, -1);
	TEST_ERR(media_leg_remote(me, id, MEDIA_LEG_A, &r));
	r = remote_make("127.0.0.1", pb, 0, -1);
	TEST_ERR(media_leg_remote(me, id, MEDIA_LEG_B, &r));
	TEST_ERR(media_bridge(me, id, true));
	/* A wrong payload type does not latch. */
	TEST_ERR(send_rtp(fa, legs[0].rtp_port, 18, false, 2, 320, 0xa, p, 20));
	TEST_ERR(send_rtp(fa, legs[0].rtp_port, 0, false, 3, 480, 0xa, p, 160));
	TEST_ERR(recv_rtp(fb, buf, sizeof(buf), &h, 1000));
	i = wait_ev(me, &log, MEDIA_EV_LATCHED, MEDIA_LEG_A, 1000);
	TEST_ASSERT(i >= 0);
	TEST_EQUALS(AF_INET, log.ev[i].latched.addr.ss_family);
	TEST_EQUALS(pa, ntohs(((struct sockaddr_in *)&log.ev[i].latched.addr)->sin_port));
	TEST_EQUALS(id, log.ev[i].session);

	/* B -> A goes to the latched pa. */
	TEST_ERR(send_rtp(fb, legs[1].rtp_port, 0, false, 1, 160, 0xb, p, 160));
	TEST_ERR(recv_rtp(fa, buf, sizeof(buf), &h, 1000));
	TEST_EQUALS(-ETIMEDOUT, recv_within(fd, buf, sizeof(buf), 30));

	/* A foreign source on A's port (even on the SDP's own address) is
	 * dropped and counted: no injection into B's ear. */
	for (int k = 0; k < 3; k++)
		TEST_ERR(send_rtp(ff, legs[0].rtp_port, 0, false, (uint16_t)(4 + k),
				  640 + 160u * (uint32_t)k, 0xa, p, 160));
	TEST_ERR(send_rtp(fd, legs[0].rtp_port, 0, false, 9, 2000, 0xa, p, 160));
	TEST_EQUALS(-ETIMEDOUT, recv_within(fb, buf, sizeof(buf), 100));
	TEST_ERR(media_session_stats(me, id, st));
	TEST_EQUALS(4, st[0].dropped_foreign);
	TEST_EQUALS(2, st[0].dropped); /* before the remote, and payload type 18 */
	TEST_EQUALS(1, st[0].pkts_in);
	TEST_ASSERT(st[0].latched);
	TEST_EQUALS(pa, ntohs(((struct sockaddr_in *)&st[0].source)->sin_port));
	/* The latched party still gets through. */
	TEST_ERR(send_rtp(fa, legs[0].rtp_port, 0, false, 4, 640, 0xa, p, 160));
	TEST_ERR(recv_rtp(fb, buf, sizeof(buf), &h, 1000));
	pump(me, &log, 100, 20);
	TEST_EQUALS(1, count_ev(&log, MEDIA_EV_LATCHED, MEDIA_LEG_A));

	/* A new remote address (re-INVITE) unlatches: the new party latches. */
	r = remote_make("127.0.0.1", pf, 0, -1);
	TEST_ERR(media_leg_remote(me, id, MEDIA_LEG_A, &r));
	TEST_ERR(send_rtp(ff, legs[0].rtp_port, 0, false, 50, 9000, 0xf, p, 160));
	TEST_ERR(recv_rtp(fb, buf, sizeof(buf), &h, 1000));
	pump(me, &log, 100, 30);
	TEST_EQUALS(2, count_ev(&log, MEDIA_EV_LATCHED, MEDIA_LEG_A));
out:
	media_engine_free(me);
	party_close(&fa);
	party_close(&fb);
	party_close(&fd);
	party_close(&ff);
	return err;
}

TEST(test_media_engine_latch_strict)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c = {.fd = {-1, -1}};
	struct media_leg_stats st[2];
	uint8_t p[160] = {0}, buf[1500];
	struct rtp_hdr h;
	uint16_t pf;
	int ff = -1, err = 0;

	conf_make(&conf, 31100, 31149);
	conf.latch_any = false;
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(call_setup(me, &c, 0, 0, -1, -1, true));
	/* 127.0.0.2 is not the SDP's address: it may not latch, even first. */
	ff = party_open("127.0.0.2", &pf);
	TEST_ASSERT(ff >= 0);
	TEST_ERR(send_rtp(ff, c.leg[0].rtp_port, 0, false, 1, 160, 0xf, p, 160));
	TEST_EQUALS(-ETIMEDOUT, recv_within(c.fd[1], buf, sizeof(buf), 100));
	TEST_ERR(send_rtp(c.fd[0], c.leg[0].rtp_port, 0, false, 1, 160, 0xa, p, 160));
	TEST_ERR(recv_rtp(c.fd[1], buf, sizeof(buf), &h, 1000));
	TEST_ERR(media_session_stats(me, c.id, st));
	TEST_EQUALS(1, st[0].dropped_foreign);
	TEST_EQUALS(1, st[0].pkts_in);
	TEST_ASSERT(st[0].latched);
out:
	media_engine_free(me);
	call_close(&c);
	party_close(&ff);
	return err;
}

/* ---- DTMF -------------------------------------------------------------------- */

TEST(test_media_engine_dtmf)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c = {.fd = {-1, -1}};
	uint8_t buf[1500];
	int err = 0, i;

	conf_make(&conf, 31150, 31199);
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(call_setup(me, &c, 0, 0, 96, 101, true));
	/* Key '5' for 100 ms: three updates, then the end three times
	 * (RFC 4733 §2.5.1.4), all with the event's start timestamp. */
	for (int k = 0; k < 6; k++) {
		struct rtp_dtmf ev = {.event = 5,
				      .volume = 10,
				      .end = k >= 3,
				      .duration = (uint16_t)(k < 3 ? 160 * (k + 1) : 800)};
		uint8_t pl[4];

		rtp_dtmf_encode(pl, sizeof(pl), &ev);
		TEST_ERR(send_rtp(c.fd[0], c.leg[0].rtp_port, 96, k == 0, (uint16_t)(10 + k), 8000,
				  0xa, pl, sizeof(pl)));
	}
	for (int k = 0; k < 6; k++) {
		struct rtp_hdr h;
		struct rtp_dtmf ev;

		TEST_ERR(recv_rtp(c.fd[1], buf, sizeof(buf), &h, 1000));
		TEST_EQUALS(101, h.pt); /* B's telephone-event type */
		TEST_ERR(rtp_dtmf_decode(&ev, h.payload, h.payload_len));
		TEST_EQUALS(5, ev.event);
		TEST_EQUALS(k >= 3, ev.end);
	}
	i = wait_ev(me, &log, MEDIA_EV_DTMF, MEDIA_LEG_A, 1000);
	TEST_ASSERT(i >= 0);
	TEST_EQUALS('5', log.ev[i].dtmf.digit);
	TEST_EQUALS(100, log.ev[i].dtmf.duration_ms);
	TEST_EQUALS(c.id, log.ev[i].session);
	pump(me, &log, 100, 50);
	TEST_EQUALS(1, count_ev(&log, MEDIA_EV_DTMF, -1));

	/* B has no telephone-event: the digit is reported, not relayed. */
	{
		struct media_remote r = remote_make("127.0.0.1", c.port[1], 0, -1);
		struct rtp_dtmf ev = {.event = 11, .volume = 10, .end = true, .duration = 400};
		uint8_t pl[4];

		TEST_ERR(media_leg_remote(me, c.id, MEDIA_LEG_B, &r));
		rtp_dtmf_encode(pl, sizeof(pl), &ev);
		TEST_ERR(send_rtp(c.fd[0], c.leg[0].rtp_port, 96, true, 20, 16000, 0xa, pl, 4));
		TEST_EQUALS(-ETIMEDOUT, recv_within(c.fd[1], buf, sizeof(buf), 100));
		i = wait_nth(me, &log, MEDIA_EV_DTMF, MEDIA_LEG_A, 2, 1000);
		TEST_ASSERT(i >= 0);
		TEST_EQUALS('#', log.ev[i].dtmf.digit);
		TEST_EQUALS(50, log.ev[i].dtmf.duration_ms);
		pump(me, &log, MAX_EV, 50);
		TEST_EQUALS(2, count_ev(&log, MEDIA_EV_DTMF, -1));
	}
out:
	media_engine_free(me);
	call_close(&c);
	return err;
}

/* ---- prompts ------------------------------------------------------------------- */

#define PROMPT_N 800 /* five 20 ms packets */

static void prompt_pcm(int16_t *pcm, size_t n)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)((int)(i * 37 % 30000) - 15000);
}

TEST(test_media_engine_play)
{
	struct media_engine *me = NULL;
	struct media_audio *a = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c = {.fd = {-1, -1}};
	int16_t pcm[PROMPT_N];
	uint8_t buf[1500], want[160];
	uint64_t t[5];
	uint16_t seq0 = 0;
	uint32_t ts0 = 0, ssrc = 0;
	int err = 0, i;

	prompt_pcm(pcm, PROMPT_N);
	conf_make(&conf, 31200, 31249);
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(call_setup(me, &c, 0, 8, -1, -1, false));
	TEST_ERR(media_audio_alloc(&a, pcm, PROMPT_N));
	TEST_EQUALS(PROMPT_N, media_audio_samples(a));
	TEST_ERR(media_play(me, c.id, MEDIA_LEG_A, a, false, 7));
	for (int k = 0; k < 5; k++) {
		struct rtp_hdr h;

		TEST_ERR(recv_rtp(c.fd[0], buf, sizeof(buf), &h, 1000));
		t[k] = now_us();
		TEST_EQUALS(0, h.pt);
		TEST_EQUALS(160, h.payload_len);
		g711_ulaw_encode_buf(want, pcm + 160 * k, 160);
		TEST_ASSERT(!memcmp(h.payload, want, 160));
		TEST_EQUALS(k == 0, h.marker);
		if (k == 0) {
			seq0 = h.seq;
			ts0 = h.ts;
			ssrc = h.ssrc;
		} else {
			TEST_EQUALS((uint16_t)(seq0 + k), h.seq);
			TEST_EQUALS(ts0 + 160u * (uint32_t)k, h.ts);
			TEST_EQUALS(ssrc, h.ssrc);
			/* Paced at ptime: 20 ms apart, give or take a loaded machine. */
			TEST_ASSERT(t[k] - t[k - 1] >= 10000 && t[k] - t[k - 1] <= 35000);
		}
	}
	TEST_ASSERT(t[4] - t[0] >= 65000 && t[4] - t[0] <= 110000);
	i = wait_ev(me, &log, MEDIA_EV_PLAY_DONE, MEDIA_LEG_A, 1000);
	TEST_ASSERT(i >= 0);
	TEST_EQUALS(7, log.ev[i].play.play_id);
	TEST_ASSERT(log.ev[i].play.completed);
	TEST_EQUALS(-ETIMEDOUT, recv_within(c.fd[0], buf, sizeof(buf), 50));

	/* PCMA on B, looped until stopped: the sixth packet is the first again. */
	TEST_ERR(media_play(me, c.id, MEDIA_LEG_B, a, true, 8));
	for (int k = 0; k < 7; k++) {
		struct rtp_hdr h;

		TEST_ERR(recv_rtp(c.fd[1], buf, sizeof(buf), &h, 1000));
		TEST_EQUALS(8, h.pt);
		g711_alaw_encode_buf(want, pcm + 160 * (k % 5), 160);
		TEST_ASSERT(!memcmp(h.payload, want, 160));
	}
	TEST_ERR(media_play_stop(me, c.id, MEDIA_LEG_B));
	i = wait_ev(me, &log, MEDIA_EV_PLAY_DONE, MEDIA_LEG_B, 1000);
	TEST_ASSERT(i >= 0);
	TEST_EQUALS(8, log.ev[i].play.play_id);
	TEST_ASSERT(!log.ev[i].play.completed);
out:
	media_audio_unref(a);
	media_engine_free(me);
	call_close(&c);
	return err;
}

/* While A hears a prompt, B's audio is kept from A; after it, B's audio
 * continues A's stream: next sequence number, later timestamp, marker. */
TEST(test_media_engine_prompt_wins)
{
	struct media_engine *me = NULL;
	struct media_audio *a = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c = {.fd = {-1, -1}};
	int16_t pcm[PROMPT_N];
	uint8_t buf[1500], from_b[160];
	struct rtp_hdr h;
	uint16_t last_seq = 0;
	uint32_t last_ts = 0, ssrc = 0;
	int err = 0, got = 0;

	prompt_pcm(pcm, PROMPT_N);
	memset(from_b, 0x55, sizeof(from_b));
	conf_make(&conf, 31250, 31299);
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(call_setup(me, &c, 0, 0, -1, -1, true));
	TEST_ERR(media_audio_alloc(&a, pcm, PROMPT_N));
	TEST_ERR(media_play(me, c.id, MEDIA_LEG_A, a, true, 1));
	/* B talks while the prompt plays. */
	for (int k = 0; k < 6; k++) {
		TEST_ERR(send_rtp(c.fd[1], c.leg[1].rtp_port, 0, false, (uint16_t)(100 + k),
				  160u * (uint32_t)k, 0xb, from_b, 160));
		TEST_ERR(recv_rtp(c.fd[0], buf, sizeof(buf), &h, 1000));
		TEST_ASSERT(memcmp(h.payload, from_b, 160) != 0); /* the prompt only */
		if (got++ && (uint16_t)(h.seq - last_seq) != 1)
			TEST_ASSERT(false);
		last_seq = h.seq;
		last_ts = h.ts;
		ssrc = h.ssrc;
	}
	TEST_ERR(media_play_stop(me, c.id, MEDIA_LEG_A));
	TEST_ASSERT(wait_ev(me, &log, MEDIA_EV_PLAY_DONE, MEDIA_LEG_A, 1000) >= 0);
	/* Drain any prompt packet sent before the stop took effect. */
	while (recv_rtp(c.fd[0], buf, sizeof(buf), &h, 30) == 0) {
		last_seq = h.seq;
		last_ts = h.ts;
	}
	TEST_ERR(send_rtp(c.fd[1], c.leg[1].rtp_port, 0, false, 106, 960, 0xb, from_b, 160));
	TEST_ERR(recv_rtp(c.fd[0], buf, sizeof(buf), &h, 1000));
	TEST_EQUALS(0x55, h.payload[0]);
	TEST_EQUALS(ssrc, h.ssrc);
	TEST_EQUALS((uint16_t)(last_seq + 1), h.seq);
	TEST_ASSERT((int32_t)(h.ts - last_ts) >= 160);
	TEST_ASSERT(h.marker);
	TEST_ERR(send_rtp(c.fd[1], c.leg[1].rtp_port, 0, false, 107, 1120, 0xb, from_b, 160));
	last_seq = h.seq;
	last_ts = h.ts;
	TEST_ERR(recv_rtp(c.fd[0], buf, sizeof(buf), &h, 1000));
	TEST_EQUALS((uint16_t)(last_seq + 1), h.seq);
	TEST_EQUALS(last_ts + 160, h.ts);
	TEST_ASSERT(!h.marker);
out:
	media_audio_unref(a);
	media_engine_free(me);
	call_close(&c);
	return err;
}

/* ---- transcoding ------------------------------------------------------------------ */

TEST(test_media_engine_transcode)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c = {.fd = {-1, -1}};
	uint8_t p[160], buf[1500];
	struct rtp_hdr h;
	int err = 0;

	conf_make(&conf, 31300, 31349);
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(call_setup(me, &c, 0, 8, -1, -1, true));
	/* Every μ-law code (0..159, then 96 more) goes across as A-law. */
	for (int k = 0; k < 2; k++) {
		for (int j = 0; j < 160; j++)
			p[j] = (uint8_t)(k * 160 + j);
		TEST_ERR(send_rtp(c.fd[0], c.leg[0].rtp_port, 0, false, (uint16_t)k,
				  160u * (uint32_t)k, 0xa, p, 160));
		TEST_ERR(recv_rtp(c.fd[1], buf, sizeof(buf), &h, 1000));
		TEST_EQUALS(8, h.pt);
		TEST_EQUALS(160, h.payload_len);
		for (int j = 0; j < 160; j++)
			TEST_EQUALS(g711_alaw_encode(g711_ulaw_decode(p[j])), h.payload[j]);
	}
	for (int j = 0; j < 160; j++)
		p[j] = (uint8_t)(j * 3 + 1);
	TEST_ERR(send_rtp(c.fd[1], c.leg[1].rtp_port, 8, false, 1, 0, 0xb, p, 160));
	TEST_ERR(recv_rtp(c.fd[0], buf, sizeof(buf), &h, 1000));
	TEST_EQUALS(0, h.pt);
	for (int j = 0; j < 160; j++)
		TEST_EQUALS(g711_ulaw_encode(g711_alaw_decode(p[j])), h.payload[j]);
out:
	media_engine_free(me);
	call_close(&c);
	return err;
}

/* ---- timeouts --------------------------------------------------------------------- */

TEST(test_media_engine_rtp_timeout)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c = {.fd = {-1, -1}};
	uint8_t p[160] = {0};
	uint64_t t_last, t_a, t0;
	int err = 0, ia, ib;

	conf_make(&conf, 31350, 31399);
	conf.rtp_timeout_ms = 150;
	conf.rtp_setup_timeout_ms = 400;
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	t0 = now_ms();
	TEST_ERR(call_setup(me, &c, 0, 0, -1, -1, false));
	for (int k = 0; k < 3; k++)
		TEST_ERR(send_rtp(c.fd[0], c.leg[0].rtp_port, 0, false, (uint16_t)k,
				  160u * (uint32_t)k, 0xa, p, 160));
	t_last = now_ms();
	ia = wait_ev(me, &log, MEDIA_EV_RTP_TIMEOUT, MEDIA_LEG_A, 1000);
	t_a = now_ms();
	TEST_ASSERT(ia >= 0);
	TEST_ASSERT(!log.ev[ia].timeout.setup);
	TEST_EQUALS(150, log.ev[ia].timeout.ms);
	TEST_ASSERT(t_a - t_last >= 140 && t_a - t_last < 400);
	/* B never sent anything: the longer setup timeout. */
	ib = wait_ev(me, &log, MEDIA_EV_RTP_TIMEOUT, MEDIA_LEG_B, 1000);
	TEST_ASSERT(ib >= 0);
	TEST_ASSERT(log.ev[ib].timeout.setup);
	TEST_EQUALS(400, log.ev[ib].timeout.ms);
	TEST_ASSERT(now_ms() - t0 >= 390);
	/* Once each, not again while silence goes on. */
	pump(me, &log, 100, 200);
	TEST_EQUALS(1, count_ev(&log, MEDIA_EV_RTP_TIMEOUT, MEDIA_LEG_A));
	TEST_EQUALS(1, count_ev(&log, MEDIA_EV_RTP_TIMEOUT, MEDIA_LEG_B));
	/* On hold (inactive), silence is expected: no timeout. */
	{
		struct media_remote r = remote_make("127.0.0.1", c.port[0], 0, -1);

		r.dir = MEDIA_DIR_INACTIVE;
		TEST_ERR(media_leg_remote(me, c.id, MEDIA_LEG_A, &r));
		pump(me, &log, 100, 250);
		TEST_EQUALS(1, count_ev(&log, MEDIA_EV_RTP_TIMEOUT, MEDIA_LEG_A));
	}
out:
	media_engine_free(me);
	call_close(&c);
	return err;
}

/* ---- recording -------------------------------------------------------------------- */

static int file_sha256_hex(const char *path, char hex[65])
{
	unsigned char md[32], b[4096];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!ctx || fd < 0 || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	while ((n = read(fd, b, sizeof(b))) > 0)
		EVP_DigestUpdate(ctx, b, (size_t)n);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	close(fd);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* Check that channel @ch of @wi holds, from its first sound, @runs of
 * (value, length) and then silence to the end. */
static int chan_check(const struct wav_info *wi, int ch, const int16_t *vals, const size_t *lens,
		      size_t runs)
{
	const int16_t *s = (const int16_t *)(const void *)wi->data;
	size_t i = 0, f = wi->frames;

	while (i < f && s[2 * i + ch] == 0)
		i++;
	for (size_t r = 0; r < runs; r++) {
		for (size_t k = 0; k < lens[r]; k++, i++) {
			if (i >= f || s[2 * i + ch] != vals[r])
				return -1;
		}
	}
	for (; i < f; i++) {
		if (s[2 * i + ch] != 0)
			return -1;
	}
	return 0;
}

TEST(test_media_engine_record)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct call c = {.fd = {-1, -1}};
	char dir[] = "/tmp/shenggu-me-XXXXXX", path[128] = "", path2[128] = "", hex[65];
	uint8_t *file = NULL, pa[160], pb[160];
	struct wav_info wi;
	struct stat stt;
	int16_t da, db;
	int err = 0, i, fd = -1;
	/* A's packets 0-9 with 5 lost and 7/8 swapped; B's 0-9 in order. */
	static const int order_a[] = {0, 1, 2, 3, 4, 6, 8, 7, 9};

	TEST_ASSERT(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/call.wav", dir);
	conf_make(&conf, 31400, 31449);
	conf.record_fsync_ms = 10; /* the disk thread's periodic sync runs too */
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(call_setup(me, &c, 0, 8, -1, -1, true));
	TEST_EQUALS(-ENOTCONN, media_record_stop(me, c.id));
	TEST_ERR(media_record_start(me, c.id, path));
	TEST_EQUALS(-EALREADY, media_record_start(me, c.id, path));
	memset(pa, g711_ulaw_encode(1000), sizeof(pa));
	memset(pb, g711_alaw_encode(-2000), sizeof(pb));
	da = g711_ulaw_decode(pa[0]);
	db = g711_alaw_decode(pb[0]);
	for (size_t k = 0; k < sizeof(order_a) / sizeof(order_a[0]); k++) {
		uint32_t n = (uint32_t)order_a[k];

		TEST_ERR(send_rtp(c.fd[0], c.leg[0].rtp_port, 0, false, (uint16_t)(500 + n),
				  77777 + 160 * n, 0xa, pa, 160));
	}
	for (uint32_t n = 0; n < 10; n++)
		TEST_ERR(send_rtp(c.fd[1], c.leg[1].rtp_port, 8, false, (uint16_t)n, 160 * n, 0xb,
				  pb, 160));
	/* Let the engine take them in before stopping. */
	{
		struct media_leg_stats st[2];
		uint64_t end = now_ms() + 1000;

		do {
			TEST_ERR(media_session_stats(me, c.id, st));
		} while ((st[0].pkts_in < 9 || st[1].pkts_in < 10) && now_ms() < end);
		TEST_EQUALS(9, st[0].pkts_in);
		TEST_EQUALS(10, st[1].pkts_in);
	}
	/* Long enough for the ticks to write a block and sync before the stop
	 * writes the rest: the file is the same either way. */
	pump(me, &log, MAX_EV, 200);
	TEST_ERR(media_record_stop(me, c.id));
	i = wait_ev(me, &log, MEDIA_EV_RECORD_DONE, -1, 2000);
	TEST_ASSERT(i >= 0);
	TEST_EQUALS(0, log.ev[i].record.err);
	TEST_EQUALS(c.id, log.ev[i].session);
	TEST_ASSERT(!strcmp(log.ev[i].record.path, path));
	TEST_ASSERT(stat(path, &stt) == 0);
	TEST_EQUALS(stt.st_size, log.ev[i].record.bytes);
	TEST_EQUALS(0600, stt.st_mode & 0777);
	TEST_ERR(file_sha256_hex(path, hex));
	TEST_ASSERT(!strcmp(hex, log.ev[i].record.sha256));

	file = mem_alloc((size_t)stt.st_size);
	TEST_ASSERT(file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	TEST_ASSERT(fd >= 0);
	TEST_EQUALS(stt.st_size, read(fd, file, (size_t)stt.st_size));
	TEST_ERR(wav_parse(&wi, file, (size_t)stt.st_size));
	TEST_EQUALS(2, wi.channels);
	TEST_EQUALS(8000, wi.rate);
	TEST_ASSERT(!wi.truncated);
	TEST_EQUALS(wi.frames / 8, log.ev[i].record.duration_ms);
	TEST_ASSERT(wi.frames >= 1600);
	{
		/* Left: five packets, a packet of silence for the lost one, four
		 * more (the swapped pair put back in order). Right: ten. */
		const int16_t va[] = {da, 0, da}, vb[] = {db};
		const size_t la[] = {800, 160, 640}, lb[] = {1600};

		TEST_ERR(chan_check(&wi, 0, va, la, 3));
		TEST_ERR(chan_check(&wi, 1, vb, lb, 1));
	}
	/* The file was created by the start: a second one may not overwrite it. */
	TEST_EQUALS(-EEXIST, media_record_start(me, c.id, path));
	/* Destroying a recording session finishes its recording too. */
	{
		snprintf(path2, sizeof(path2), "%s/call2.wav", dir);
		TEST_ERR(media_record_start(me, c.id, path2));
		TEST_ERR(media_session_destroy(me, c.id));
		i = wait_nth(me, &log, MEDIA_EV_RECORD_DONE, -1, 2, 2000);
		TEST_ASSERT(i >= 0);
		TEST_EQUALS(0, log.ev[i].record.err);
		TEST_ASSERT(!strcmp(log.ev[i].record.path, path2));
	}
out:
	if (fd >= 0)
		close(fd);
	mem_free(file);
	media_engine_free(me);
	call_close(&c);
	if (path[0])
		unlink(path);
	if (path2[0])
		unlink(path2);
	rmdir(dir);
	return err;
}

/* ---- RTCP ------------------------------------------------------------------------- */

TEST(test_media_engine_rtcp)
{
	struct media_engine *me = NULL;
	struct media_audio *a = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct media_leg_info legs[2];
	struct media_leg_stats st[2];
	struct media_remote r;
	int16_t pcm[PROMPT_N] = {0};
	uint8_t buf[1500], p[160] = {0};
	struct rtp_hdr h;
	uint16_t pa, pc;
	uint32_t our_ssrc;
	int fa = -1, fc = -1, err = 0;
	bool sr = false, rr_block = false;
	uint64_t id, end;

	conf_make(&conf, 31450, 31499);
	conf.rtcp_interval_ms = 100;
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(media_session_create(me, &id, legs));
	fa = party_open("127.0.0.1", &pa);
	fc = party_open("127.0.0.1", &pc);
	TEST_ASSERT(fa >= 0 && fc >= 0);
	r = remote_make("127.0.0.1", pa, 0, -1);
	r.rtcp_port = pc; /* a=rtcp */
	TEST_ERR(media_leg_remote(me, id, MEDIA_LEG_A, &r));
	TEST_ERR(media_audio_alloc(&a, pcm, PROMPT_N));
	TEST_ERR(media_play(me, id, MEDIA_LEG_A, a, true, 1));
	TEST_ERR(recv_rtp(fa, buf, sizeof(buf), &h, 1000));
	our_ssrc = h.ssrc;
	for (int k = 0; k < 3; k++)
		TEST_ERR(send_rtp(fa, legs[0].rtp_port, 0, false, (uint16_t)(7 + k),
				  160u * (uint32_t)k, 0x5eed, p, 160));
	/* Our compound reports arrive at a=rtcp's port: an SR (we send) with a
	 * block on A's stream once A's packets are in, and a CNAME. */
	end = now_ms() + 1500;
	while ((!sr || !rr_block) && now_ms() < end) {
		struct rtcp_iter it;
		struct rtcp_pkt pkt;
		int n = recv_within(fc, buf, sizeof(buf), 500);

		if (n < 0)
			continue;
		TEST_ERR(rtcp_validate(buf, (size_t)n));
		rtcp_iter_init(&it, buf, (size_t)n);
		while (rtcp_iter_next(&it, &pkt) == 1) {
			struct rtcp_report rep;
			uint32_t ssrc;
			struct str cname;

			if (pkt.pt == RTCP_SDES) {
				TEST_ERR(rtcp_sdes_cname(&pkt, &ssrc, &cname));
				TEST_EQUALS(our_ssrc, ssrc);
				continue;
			}
			TEST_ERR(rtcp_report_decode(&rep, &pkt));
			TEST_EQUALS(our_ssrc, rep.ssrc);
			sr |= rep.sr;
			if (rep.sr)
				TEST_ASSERT(rep.pkt_count > 0);
			if (rep.rc == 1 && rep.rb[0].ssrc == 0x5eed) {
				rr_block = true;
				TEST_EQUALS(9, rep.rb[0].ext_seq);
				TEST_EQUALS(0, rep.rb[0].lost);
			}
		}
	}
	TEST_ASSERT(sr && rr_block);
	/* A's receiver report on our stream, from A's RTCP port. */
	{
		struct rtcp_report rep = {.ssrc = 0x5eed, .rc = 1};
		int n;

		rep.rb[0] = (struct rtcp_rb){
		    .ssrc = our_ssrc, .fraction = 12, .lost = 3, .ext_seq = 100, .jitter = 80};
		n = rtcp_report_encode(buf, sizeof(buf), &rep);
		TEST_ASSERT(n > 0);
		TEST_ERR(send_to(fc, "127.0.0.1", legs[0].rtcp_port, buf, (size_t)n));
		end = now_ms() + 1000;
		do {
			TEST_ERR(media_session_stats(me, id, st));
		} while (!st[0].rtcp_in && now_ms() < end);
		TEST_EQUALS(1, st[0].rtcp_in);
		TEST_ASSERT(st[0].remote_report);
		TEST_EQUALS(3, st[0].remote_lost);
		TEST_EQUALS(12, st[0].remote_fraction_lost);
		TEST_EQUALS(10, st[0].remote_jitter_ms);
		TEST_ASSERT(st[0].rtcp_out >= 1);
	}
out:
	media_audio_unref(a);
	media_engine_free(me);
	party_close(&fa);
	party_close(&fc);
	return err;
}

/* ---- ports --------------------------------------------------------------------------- */

/* Pump until the engine holds @pairs port pairs, 1 s at most. */
static unsigned wait_pairs(struct media_engine *me, struct evlog *log, unsigned pairs)
{
	struct media_engine_stats st;
	uint64_t end = now_ms() + 1000;

	for (;;) {
		media_engine_stats_get(me, &st);
		if (st.ports_in_use == pairs || now_ms() >= end)
			return st.ports_in_use;
		pump(me, log, log->n + 1, 20);
	}
}

static int bind_port(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST(test_media_engine_ports)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct media_engine_stats est;
	struct evlog log = {0};
	struct media_leg_info l1[2], l2[2], l3[2];
	uint64_t id1, id2, id3;
	int err = 0, block[2] = {-1, -1}, probe = -1;

	/* 31901..31910: the pairs 31902, 31904, 31906, 31908 (31910 has no
	 * partner), room for two sessions. */
	conf_make(&conf, 31901, 31910);
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	media_engine_stats_get(me, &est);
	TEST_EQUALS(4, est.port_pairs);
	TEST_ERR(media_session_create(me, &id1, l1));
	TEST_ERR(media_session_create(me, &id2, l2));
	/* Handed out in order, each pair once. */
	TEST_EQUALS(31902, l1[0].rtp_port);
	TEST_EQUALS(31903, l1[0].rtcp_port);
	TEST_EQUALS(31904, l1[1].rtp_port);
	TEST_EQUALS(31906, l2[0].rtp_port);
	TEST_EQUALS(31908, l2[1].rtp_port);
	TEST_EQUALS(-ENOSPC, media_session_create(me, &id3, l3));
	media_engine_stats_get(me, &est);
	TEST_EQUALS(4, est.ports_in_use);
	TEST_EQUALS(2, est.sessions);

	/* Destroyed: the ports come back once the media thread closed them,
	 * and are really closed (we can bind them). */
	TEST_ERR(media_session_destroy(me, id1));
	TEST_EQUALS(-ENOENT, media_session_destroy(me, id1));
	TEST_EQUALS(2, wait_pairs(me, &log, 2));
	probe = bind_port(31902);
	TEST_ASSERT(probe >= 0);
	party_close(&probe);
	TEST_ERR(media_session_create(me, &id3, l3));
	TEST_EQUALS(31902, l3[0].rtp_port);
	TEST_EQUALS(31904, l3[1].rtp_port);

	/* Another process holds the free pairs: bind failures skip them, and
	 * when all fail, -EADDRINUSE. */
	TEST_ERR(media_session_destroy(me, id2));
	TEST_EQUALS(2, wait_pairs(me, &log, 2));
	block[0] = bind_port(31906);
	block[1] = bind_port(31909);
	TEST_ASSERT(block[0] >= 0 && block[1] >= 0);
	TEST_EQUALS(-EADDRINUSE, media_session_create(me, &id2, l2));
	media_engine_stats_get(me, &est);
	TEST_EQUALS(2, est.ports_in_use);
	party_close(&block[1]);
	TEST_EQUALS(-EADDRINUSE, media_session_create(me, &id2, l2)); /* one pair only */
	party_close(&block[0]);
	TEST_ERR(media_session_create(me, &id2, l2));
	media_engine_stats_get(me, &est);
	TEST_EQUALS(2, est.sessions);
	TEST_EQUALS(4, est.ports_in_use);
out:
	party_close(&block[0]);
	party_close(&block[1]);
	party_close(&probe);
	media_engine_free(me);
	return err;
}

/* ---- IPv6 --------------------------------------------------------------------------- */

TEST(test_media_engine_ipv6)
{
	struct media_engine *me = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct media_leg_info legs[2];
	struct media_remote r;
	uint8_t buf[1500], pkt[RTP_HDR_SIZE + 160] = {0x80, 0};
	struct rtp_hdr h;
	uint16_t pa, pb;
	int fa = -1, fb = -1, err = 0;
	uint64_t id;

	fa = party_open("::1", &pa);
	if (fa < 0)
		return 0; /* no IPv6 loopback here: nothing to test */
	fb = party_open("::1", &pb);
	TEST_ASSERT(fb >= 0);
	conf_make(&conf, 31500, 31549);
	conf.addr6 = "::1";
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ERR(media_session_create(me, &id, legs));
	TEST_ASSERT(!strcmp(legs[0].addr6, "::1"));
	TEST_ASSERT(!strcmp(legs[0].addr4, "127.0.0.1"));
	r = remote_make("::1", pa, 0, -1);
	TEST_ERR(media_leg_remote(me, id, MEDIA_LEG_A, &r));
	r = remote_make("::1", pb, 8, -1);
	TEST_ERR(media_leg_remote(me, id, MEDIA_LEG_B, &r));
	TEST_ERR(media_bridge(me, id, true));
	rtp_set_ssrc(pkt, 0x66);
	TEST_ERR(send_to(fa, "::1", legs[0].rtp_port, pkt, sizeof(pkt)));
	TEST_ERR(recv_rtp(fb, buf, sizeof(buf), &h, 1000));
	TEST_EQUALS(8, h.pt);
	TEST_EQUALS(g711_alaw_encode(g711_ulaw_decode(0)), h.payload[0]);
	TEST_ASSERT(wait_ev(me, &log, MEDIA_EV_LATCHED, MEDIA_LEG_A, 1000) >= 0);
	TEST_EQUALS(AF_INET6, log.ev[find_ev(&log, MEDIA_EV_LATCHED, 0, 0)].latched.addr.ss_family);
out:
	media_engine_free(me);
	party_close(&fa);
	party_close(&fb);
	return err;
}

/* ---- arguments ----------------------------------------------------------------------- */

TEST(test_media_engine_args)
{
	struct media_engine *me = NULL, *bad = NULL;
	struct media_conf conf;
	struct evlog log = {0};
	struct media_leg_info legs[2];
	struct media_leg_stats st[2];
	struct media_remote r;
	struct media_audio *a = NULL;
	int16_t pcm[10] = {0};
	uint64_t id;
	int err = 0;

	media_engine_free(NULL);
	TEST_EQUALS(-EINVAL, media_audio_alloc(&a, pcm, 0));
	conf_make(&conf, 31550, 31599);
	conf.addr4 = NULL;
	TEST_EQUALS(-EINVAL, media_engine_alloc(&bad, &conf, on_event, &log));
	conf.addr4 = "0.0.0.0"; /* never the wildcard */
	TEST_EQUALS(-EINVAL, media_engine_alloc(&bad, &conf, on_event, &log));
	conf.addr4 = "127.0.0.1";
	conf.tick_ms = 15;
	TEST_EQUALS(-EINVAL, media_engine_alloc(&bad, &conf, on_event, &log));
	conf.tick_ms = 20;
	conf.port_min = 31551;
	conf.port_max = 31552; /* no whole even pair */
	TEST_EQUALS(-EINVAL, media_engine_alloc(&bad, &conf, on_event, &log));
	TEST_ASSERT(!bad);
	conf.port_max = 31599;
	TEST_ERR(media_engine_alloc(&me, &conf, on_event, &log));
	TEST_ASSERT(media_engine_event_fd(me) >= 0);
	TEST_ERR(media_session_create(me, &id, legs));
	r = remote_make("127.0.0.1", 4000, 0, -1);
	TEST_EQUALS(-ENOENT, media_leg_remote(me, id + 1, MEDIA_LEG_A, &r));
	TEST_EQUALS(-EINVAL, media_leg_remote(me, id, (enum media_leg)2, &r));
	TEST_EQUALS(-ENOENT, media_bridge(me, 0, true));
	TEST_EQUALS(-ENOENT, media_session_stats(me, id + 1, st));
	TEST_EQUALS(-ENOENT, media_play_stop(me, id + 1, MEDIA_LEG_A));
	TEST_EQUALS(-ENOENT, media_record_stop(me, id + 1));
	r.pt = 18;
	TEST_EQUALS(-EINVAL, media_leg_remote(me, id, MEDIA_LEG_A, &r));
	r.pt = 8;
	r.ptime = 25;
	TEST_EQUALS(-EINVAL, media_leg_remote(me, id, MEDIA_LEG_A, &r));
	r.ptime = 30;
	r.te_pt = 8;
	TEST_EQUALS(-EINVAL, media_leg_remote(me, id, MEDIA_LEG_A, &r));
	r.te_pt = 101;
	r.addr = STR("not-an-ip");
	TEST_EQUALS(-EINVAL, media_leg_remote(me, id, MEDIA_LEG_A, &r));
	r.addr = STR("::1");
	TEST_EQUALS(-EAFNOSUPPORT, media_leg_remote(me, id, MEDIA_LEG_A, &r));
	r.addr = STR("0.0.0.0"); /* RFC 2543 hold: accepted, nothing sent */
	TEST_ERR(media_leg_remote(me, id, MEDIA_LEG_A, &r));
	TEST_EQUALS(-EINVAL, media_play(me, id, MEDIA_LEG_A, NULL, false, 1));
	TEST_EQUALS(-EINVAL, media_record_start(me, id, ""));
	TEST_EQUALS(-ENOENT, media_record_start(me, id, "/nonexistent-dir/x.wav"));
	TEST_ERR(media_session_stats(me, id, st));
	TEST_EQUALS(0, st[0].pkts_in);
	/* Destroyed with commands still queued: all of it comes back at free. */
	TEST_ERR(media_bridge(me, id, true));
out:
	media_engine_free(me);
	return err;
}

/*
 * rtp_load: the load generator of bench/bench_media.sh. It plays both
 * parties of N bridged calls through a media relay on loopback: per call
 * two parties (leg A, leg B), each sending 20 ms G.711 packets (PCMU, 160
 * bytes) to the relay's port for its leg and receiving the other leg's
 * packets from it (the parties of many calls share a few sockets, see
 * struct gen). It steps N up until a step loses more than --max-loss
 * percent of the packets or adds more than --max-jitter-ms of jitter.
 *
 * The relay under test is set up through its control protocol:
 *   --target shenggu    bench/media_relay_bench's text protocol ("call TAG
 *                       PORT_A PORT_B" -> "ok TAG RELAY_A RELAY_B", "reset")
 *   --target rtpengine  rtpengine's ng protocol (bencode over UDP): "offer"
 *                       with leg A's SDP, "answer" with leg B's, "delete"
 *
 * Measures, per step, over --seconds after one second of warm-up:
 *   loss     packets sent in the window that never arrived (300 ms grace)
 *   jitter   RFC 3550 §6.4.1 interarrival jitter per stream, computed from
 *            the send time carried in the payload and the kernel's receive
 *            timestamp (SO_TIMESTAMPNS), so the generator's own scheduling
 *            does not count: what remains is what the relay adds. Reported
 *            as the mean over streams and the worst stream.
 *   cpu      the relay's CPU time (/proc/PID/stat, all threads) per second
 *   late     how late the generator sent its packets, 99th percentile of the
 *            1 ms send slots (one stall of the VM is not a verdict): past
 *            --max-late-ms a step that held is marked OK*: the generator,
 *            not the relay, ran short and sent in bursts (a harder load).
 *
 * Output: one "ROW" line per step and a final "MAX label N" (the largest N
 * that held). --probe only checks that the relay answers (exit status).
 * Loopback only; every wait is bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define PTIME_MS      20
#define PAYLOAD	      160
#define PKT_LEN	      (12 + PAYLOAD)
#define BATCH	      64
#define GRACE_MS      300
#define WARMUP_MS     1000
#define MAX_STEPS     32
#define NS_PER_MS     1000000LL
#define NS_PER_SEC    1000000000LL
#define LAG_BUCKET_NS 250000 /* the generator's lateness, in 0.25 ms buckets */
#define LAG_BUCKETS   400

enum target { TARGET_SHENGGU, TARGET_RTPENGINE };

struct stream {
	uint32_t sent, recv;
	int64_t last_transit;
	int64_t jitter; /* ns, RFC 3550 estimator */
	bool have;
};

struct call {
	uint16_t relay[2]; /* the relay's port that leg i sends to */
	uint16_t seq[2];
	uint32_t ts[2];
	struct stream st[2]; /* st[i]: the stream leg i sends */
};

/*
 * The parties' sockets: NSOCK per side, call i's leg L on socks[L][i % NSOCK].
 * Many calls share a socket (their relay legs each latch to it all the
 * same): that lets the generator batch with sendmmsg/recvmmsg, so that it
 * is not the first to run out of CPU. The relay's work per packet is the
 * same as with a socket per party.
 */
#define NSOCK 4

struct gen {
	int fd[2][NSOCK];
	uint16_t port[2][NSOCK];
	struct call *calls;
	unsigned n;
	/* one slot's packets, per socket */
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint8_t (*pkts)[PKT_LEN];
	struct sockaddr_in *dst;
	unsigned per_sock;
};

struct opts {
	enum target target;
	uint16_t ctl_port;
	const char *label;
	unsigned steps[MAX_STEPS];
	unsigned nsteps;
	unsigned seconds;
	uint16_t base_port;
	int relay_pid;
	double max_loss;   /* percent */
	double max_jitter; /* ms */
	double max_late;   /* ms */
};

static int ctl_fd = -1;
static unsigned ctl_seq;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* Send @req to the relay's control port and wait for a reply (3 tries). */
static int ctl_call(const struct opts *o, const char *req, size_t len, char *reply, size_t size,
		    int timeout_ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(o->ctl_port)};

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int attempt = 0; attempt < 3; attempt++) {
		struct pollfd pfd = {.fd = ctl_fd, .events = POLLIN};
		ssize_t n;

		if (sendto(ctl_fd, req, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return -errno;
		if (poll(&pfd, 1, timeout_ms) != 1)
			continue;
		n = recv(ctl_fd, reply, size - 1, 0);
		if (n < 0)
			return -errno;
		reply[n] = '\0';
		return (int)n;
	}
	return -ETIMEDOUT;
}

/* ---- rtpengine's ng protocol: a cookie, a space, a bencoded dictionary ---- */

static size_t bput(char *b, size_t off, size_t size, const char *s)
{
	int n = snprintf(b + off, size - off, "%zu:%s", strlen(s), s);

	return n < 0 ? off : off + (size_t)n;
}

/* The port of the first m=audio line of the "sdp" value in the reply @r. */
static int ng_reply_port(const char *r, size_t len)
{
	const char *p = memmem(r, len, "3:sdp", 5), *m;
	long sdplen;
	char *end;

	if (!memmem(r, len, "6:result2:ok", 12) || !p)
		return -1;
	sdplen = strtol(p + 5, &end, 10);
	if (*end != ':' || sdplen <= 0)
		return -1;
	m = memmem(end + 1, (size_t)sdplen, "m=audio ", 8);
	return m ? atoi(m + 8) : -1;
}

static int ng_command(const struct opts *o, const char *command, unsigned i, uint16_t port)
{
	char req[1024], sdp[512], reply[4096], id[32], tag[32];
	size_t off;
	int n;

	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=- %u 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
		 i, port);
	snprintf(id, sizeof(id), "bench-%u", i);
	off = (size_t)snprintf(req, sizeof(req), "c%u d", ++ctl_seq);
	off = bput(req, off, sizeof(req), "call-id");
	off = bput(req, off, sizeof(req), id);
	off = bput(req, off, sizeof(req), "command");
	off = bput(req, off, sizeof(req), command);
	snprintf(tag, sizeof(tag), "a%u", i);
	off = bput(req, off, sizeof(req), "from-tag");
	off = bput(req, off, sizeof(req), tag);
	if (strcmp(command, "delete")) {
		off = bput(req, off, sizeof(req), "sdp");
		off = bput(req, off, sizeof(req), sdp);
	}
	if (!strcmp(command, "answer")) {
		snprintf(tag, sizeof(tag), "b%u", i);
		off = bput(req, off, sizeof(req), "to-tag");
		off = bput(req, off, sizeof(req), tag);
	}
	if (off + 2 > sizeof(req))
		return -EMSGSIZE;
	req[off++] = 'e';
	n = ctl_call(o, req, off, reply, sizeof(reply), 1000);
	if (n < 0)
		return n;
	if (!strcmp(command, "delete"))
		return 0;
	return ng_reply_port(reply, (size_t)n);
}

/* ---- set-up and tear-down ---------------------------------------------------- */

static int bind_port(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
	int buf = 16 << 20;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	/* Thousands of calls arrive on one socket: room for a burst. FORCE
	 * needs root; without it the sysctl's maximum applies. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int call_setup(const struct opts *o, struct gen *g, unsigned i)
{
	struct call *c = &g->calls[i];
	uint16_t pa = g->port[0][i % NSOCK], pb = g->port[1][i % NSOCK];

	for (int l = 0; l < 2; l++) {
		c->seq[l] = (uint16_t)(i * 7 + (unsigned)l);
		c->ts[l] = i * 1000u;
	}
	if (o->target == TARGET_SHENGGU) {
		char req[128], reply[256];
		unsigned tag, ra, rb;
		int n = snprintf(req, sizeof(req), "call %u %u %u", i, pa, pb);

		n = ctl_call(o, req, (size_t)n, reply, sizeof(reply), 1000);
		if (n < 0 || sscanf(reply, "ok %u %u %u", &tag, &ra, &rb) != 3 || tag != i) {
			fprintf(stderr, "rtp_load: call %u: %s\n", i, n < 0 ? strerror(-n) : reply);
			return -EPROTO;
		}
		c->relay[0] = (uint16_t)ra;
		c->relay[1] = (uint16_t)rb;
	} else {
		/* The offer's rewritten SDP goes to B: its port is where B
		 * sends; the answer's goes to A. */
		int rb = ng_command(o, "offer", i, pa);
		int ra = rb > 0 ? ng_command(o, "answer", i, pb) : -1;

		if (ra <= 0 || rb <= 0) {
			fprintf(stderr, "rtp_load: rtpengine offer/answer %u failed\n", i);
			return -EPROTO;
		}
		c->relay[0] = (uint16_t)ra;
		c->relay[1] = (uint16_t)rb;
	}
	return 0;
}

static void gen_teardown(const struct opts *o, struct gen *g)
{
	for (int l = 0; l < 2; l++) {
		for (int k = 0; k < NSOCK; k++) {
			if (g->fd[l][k] >= 0)
				close(g->fd[l][k]);
			g->fd[l][k] = -1;
		}
	}
	if (o->target == TARGET_RTPENGINE) {
		for (unsigned i = 0; i < g->n && g->calls; i++) {
			if (g->calls[i].relay[0])
				ng_command(o, "delete", i, 0);
		}
	} else {
		char reply[64];

		ctl_call(o, "reset", 5, reply, sizeof(reply), 30000);
	}
	free(g->calls);
	free(g->msgs);
	free(g->iov);
	free(g->pkts);
	free(g->dst);
}

/* ---- traffic ---------------------------------------------------------------- */

static double relay_cpu_s(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* Fields after the command: state is 3rd, utime 14th, stime 15th. */
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Put stream (@i, @leg)'s next packet into socket @k's batch. */
static void queue_one(struct gen *g, unsigned i, int leg, unsigned *nq, int64_t now, bool count)
{
	struct call *c = &g->calls[i];
	unsigned k = (unsigned)leg * NSOCK + i % NSOCK, slot = k * g->per_sock + nq[k];
	uint8_t *pkt = g->pkts[slot];
	uint32_t idx = i;

	memset(pkt, 0xff, PKT_LEN); /* μ-law silence */
	pkt[0] = 0x80;
	pkt[1] = 0;
	pkt[2] = (uint8_t)(c->seq[leg] >> 8);
	pkt[3] = (uint8_t)c->seq[leg];
	pkt[4] = (uint8_t)(c->ts[leg] >> 24);
	pkt[5] = (uint8_t)(c->ts[leg] >> 16);
	pkt[6] = (uint8_t)(c->ts[leg] >> 8);
	pkt[7] = (uint8_t)c->ts[leg];
	pkt[8] = (uint8_t)(i >> 16);
	pkt[9] = (uint8_t)(i >> 8);
	pkt[10] = (uint8_t)i;
	pkt[11] = (uint8_t)(leg + 1);
	memcpy(pkt + 12, &now, sizeof(now));
	pkt[20] = count;
	memcpy(pkt + 21, &idx, sizeof(idx));
	pkt[25] = (uint8_t)leg;
	c->seq[leg]++;
	c->ts[leg] += PAYLOAD;
	g->dst[slot] = (struct sockaddr_in){.sin_family = AF_INET,
					    .sin_port = htons(c->relay[leg]),
					    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	g->iov[slot] = (struct iovec){pkt, PKT_LEN};
	g->msgs[slot].msg_hdr = (struct msghdr){.msg_name = &g->dst[slot],
						.msg_namelen = sizeof(g->dst[slot]),
						.msg_iov = &g->iov[slot],
						.msg_iovlen = 1};
	/* A send that fails (a full buffer) counts as sent and lost. */
	if (count)
		c->st[leg].sent++;
	nq[k]++;
}

/* Send the streams of millisecond slot @slot of the 20 ms cycle. */
static void send_slot(struct gen *g, uint64_t slot, bool count)
{
	unsigned nq[2 * NSOCK] = {0};
	int64_t now = now_ns();

	for (uint64_t s = slot % PTIME_MS; s < 2 * (uint64_t)g->n; s += PTIME_MS)
		queue_one(g, (unsigned)(s / 2), (int)(s % 2), nq, now, count);
	for (unsigned k = 0; k < 2 * NSOCK; k++) {
		unsigned done = 0;

		while (done < nq[k]) {
			int r = sendmmsg(g->fd[k / NSOCK][k % NSOCK],
					 &g->msgs[k * g->per_sock + done], nq[k] - done, 0);

			if (r <= 0)
				break;
			done += (unsigned)r;
		}
	}
}

static void recv_all(struct gen *g, int fd)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint8_t bufs[BATCH][256];
	char ctrl[BATCH][64];
	int n;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
		msgs[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i],
						  .msg_iovlen = 1,
						  .msg_control = ctrl[i],
						  .msg_controllen = sizeof(ctrl[i])};
	}
	n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
	for (int i = 0; i < n; i++) {
		struct cmsghdr *cm;
		int64_t sent_ns, arr = 0, transit, d;
		uint32_t idx;
		struct stream *s;

		if (msgs[i].msg_len != PKT_LEN || bufs[i][20] != 1)
			continue; /* warm-up or grace: not counted */
		memcpy(&idx, bufs[i] + 21, sizeof(idx));
		if (idx >= g->n || bufs[i][25] > 1)
			continue;
		s = &g->calls[idx].st[bufs[i][25]];
		for (cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm;
		     cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				arr = (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
			}
		}
		if (!arr)
			arr = now_ns();
		memcpy(&sent_ns, bufs[i] + 12, sizeof(sent_ns));
		s->recv++;
		transit = arr - sent_ns;
		if (s->have) {
			d = transit - s->last_transit;
			if (d < 0)
				d = -d;
			s->jitter += (d - s->jitter) / 16; /* RFC 3550 A.8 */
		}
		s->last_transit = transit;
		s->have = true;
	}
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct result {
	unsigned calls;
	double pps, loss_pct, jitter_mean, jitter_max, cpu_pct, gen_cpu_pct, late_ms;
	bool ok, gen_limited;
};

static void gen_init(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	for (int l = 0; l < 2; l++) {
		for (int k = 0; k < NSOCK; k++)
			g->fd[l][k] = -1;
	}
}

static int gen_setup(const struct opts *o, struct gen *g, unsigned n, int ep)
{
	unsigned slots;

	g->n = n;
	g->per_sock = (2 * n + PTIME_MS - 1) / PTIME_MS + 1;
	slots = 2 * NSOCK * g->per_sock;
	g->calls = calloc(n, sizeof(*g->calls));
	g->msgs = calloc(slots, sizeof(*g->msgs));
	g->iov = calloc(slots, sizeof(*g->iov));
	g->pkts = calloc(slots, sizeof(*g->pkts));
	g->dst = calloc(slots, sizeof(*g->dst));
	if (!g->calls || !g->msgs || !g->iov || !g->pkts || !g->dst)
		return -ENOMEM;
	for (int l = 0; l < 2; l++) {
		for (int k = 0; k < NSOCK; k++) {
			struct epoll_event ev = {.events = EPOLLIN};

			g->port[l][k] = (uint16_t)(o->base_port + l * NSOCK + k);
			g->fd[l][k] = bind_port(g->port[l][k]);
			if (g->fd[l][k] < 0) {
				fprintf(stderr, "rtp_load: bind %u: %s\n", g->port[l][k],
					strerror(-g->fd[l][k]));
				return g->fd[l][k];
			}
			ev.data.fd = g->fd[l][k];
			epoll_ctl(ep, EPOLL_CTL_ADD, g->fd[l][k], &ev);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		int err = call_setup(o, g, i);

		if (err)
			return err;
	}
	return 0;
}

static int run_step(const struct opts *o, unsigned n, struct result *res)
{
	struct gen g;
	struct itimerspec its = {.it_interval.tv_nsec = NS_PER_MS, .it_value.tv_nsec = NS_PER_MS};
	int ep = epoll_create1(EPOLL_CLOEXEC), tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	int64_t start, measure_from, measure_to, stop_at;
	uint64_t lag_hist[LAG_BUCKETS] = {0}, lag_n = 0, lag_acc = 0;
	unsigned late_b = 0;
	uint64_t slot = 0, sent = 0, recv = 0;
	double cpu0 = -1, cpu1 = -1, gen0 = 0, gen1 = 0, jsum = 0, jmax = 0;
	unsigned streams = 0;
	int err;

	gen_init(&g);
	if (ep < 0 || tfd < 0) {
		err = -errno;
		goto out;
	}
	err = gen_setup(o, &g, n, ep);
	if (err)
		goto out;
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = tfd};

		epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	}
	timerfd_settime(tfd, 0, &its, NULL);
	start = now_ns();
	measure_from = start + WARMUP_MS * NS_PER_MS;
	measure_to = measure_from + (int64_t)o->seconds * NS_PER_SEC;
	stop_at = measure_to + GRACE_MS * NS_PER_MS;
	for (;;) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, 50);
		int64_t now = now_ns();

		if (now >= stop_at)
			break;
		if (cpu0 < 0 && now >= measure_from) {
			cpu0 = relay_cpu_s(o->relay_pid);
			gen0 = self_cpu_s();
		}
		if (cpu1 < 0 && now >= measure_to) {
			cpu1 = relay_cpu_s(o->relay_pid);
			gen1 = self_cpu_s();
		}
		for (int e = 0; e < k; e++) {
			uint64_t x;

			if (evs[e].data.fd != tfd) {
				recv_all(&g, evs[e].data.fd);
				continue;
			}
			if (read(tfd, &x, sizeof(x)) < 0)
				continue;
			/* Catch up to the current millisecond: each stream
			 * sends in its own slot of the 20 ms cycle. */
			while (now < measure_to && start + (int64_t)slot * NS_PER_MS <= now) {
				int64_t lag = now - (start + (int64_t)slot * NS_PER_MS);
				bool count = now >= measure_from;

				if (count) {
					uint64_t b = (uint64_t)lag / LAG_BUCKET_NS;

					lag_hist[b < LAG_BUCKETS ? b : LAG_BUCKETS - 1]++;
					lag_n++;
				}
				send_slot(&g, slot, count);
				slot++;
			}
		}
	}
	/* The 99th percentile of the send slots' lateness. */
	while (late_b < LAG_BUCKETS - 1 && (lag_acc += lag_hist[late_b]) < lag_n - lag_n / 100)
		late_b++;
	if (cpu1 < 0) {
		cpu1 = relay_cpu_s(o->relay_pid);
		gen1 = self_cpu_s();
	}
	for (unsigned i = 0; i < n; i++) {
		for (int l = 0; l < 2; l++) {
			const struct stream *s = &g.calls[i].st[l];
			double j = (double)s->jitter / 1e6;

			sent += s->sent;
			recv += s->recv;
			if (s->recv < 10)
				continue;
			jsum += j;
			if (j > jmax)
				jmax = j;
			streams++;
		}
	}
	*res = (struct result){
	    .calls = n,
	    .pps = (double)sent / o->seconds,
	    .loss_pct =
		sent ? 100.0 * (double)(sent - (recv < sent ? recv : sent)) / (double)sent : 100,
	    .jitter_mean = streams ? jsum / streams : 0,
	    .jitter_max = jmax,
	    .cpu_pct = cpu0 >= 0 ? 100.0 * (cpu1 - cpu0) / o->seconds : 0,
	    .gen_cpu_pct = cpu0 >= 0 ? 100.0 * (gen1 - gen0) / o->seconds : 0,
	    .late_ms = (double)((late_b + 1) * LAG_BUCKET_NS) / 1e6,
	};
	res->gen_limited = res->late_ms > o->max_late;
	res->ok = res->loss_pct <= o->max_loss && res->jitter_mean <= o->max_jitter;
out:
	gen_teardown(o, &g);
	if (ep >= 0)
		close(ep);
	if (tfd >= 0)
		close(tfd);
	return err;
}

static int parse_steps(struct opts *o, char *s)
{
	for (char *tok = strtok(s, ","); tok && o->nsteps < MAX_STEPS; tok = strtok(NULL, ","))
		o->steps[o->nsteps++] = (unsigned)atoi(tok);
	return o->nsteps ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct opts o = {.label = "relay",
			 .seconds = 5,
			 .base_port = 10000,
			 .max_loss = 0.1,
			 .max_jitter = 5,
			 .max_late = 5};
	char steps[] = "250,500,1000,1500,2000,2500,3000,4000";
	unsigned best = 0;
	bool have_steps = false, probe = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--probe")) {
			probe = true;
			continue;
		}
		if (!v)
			goto usage;
		i++;
		if (!strcmp(a, "--target") && !strcmp(v, "shenggu"))
			o.target = TARGET_SHENGGU;
		else if (!strcmp(a, "--target") && !strcmp(v, "rtpengine"))
			o.target = TARGET_RTPENGINE;
		else if (!strcmp(a, "--ctl"))
			o.ctl_port = (uint16_t)atoi(v);
		else if (!strcmp(a, "--label"))
			o.label = v;
		else if (!strcmp(a, "--steps") && !parse_steps(&o, argv[i]))
			have_steps = true;
		else if (!strcmp(a, "--seconds"))
			o.seconds = (unsigned)atoi(v);
		else if (!strcmp(a, "--base-port"))
			o.base_port = (uint16_t)atoi(v);
		else if (!strcmp(a, "--relay-pid"))
			o.relay_pid = atoi(v);
		else if (!strcmp(a, "--max-loss"))
			o.max_loss = atof(v);
		else if (!strcmp(a, "--max-jitter-ms"))
			o.max_jitter = atof(v);
		else if (!strcmp(a, "--max-late-ms"))
			o.max_late = atof(v);
		else
			goto usage;
	}
	if (!o.ctl_port || !o.seconds || o.seconds > 60)
		goto usage;
	if (!have_steps)
		parse_steps(&o, steps);
	ctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (ctl_fd < 0)
		return 1;
	if (probe) {
		/* Is the relay up? ng "ping" answers "pong"; the driver's reset "ok". */
		char reply[256];
		int n = o.target == TARGET_RTPENGINE
			    ? ctl_call(&o, "p1 d7:command4:pinge", 20, reply, sizeof(reply), 300)
			    : ctl_call(&o, "reset", 5, reply, sizeof(reply), 300);

		close(ctl_fd);
		return n > 0 ? 0 : 1;
	}
	for (unsigned k = 0; k < o.nsteps; k++) {
		struct result r = {0};
		int err;

		err = run_step(&o, o.steps[k], &r);
		if (err) {
			fprintf(stderr, "rtp_load: step %u: %s\n", o.steps[k], strerror(-err));
			break;
		}
		printf("ROW %s calls=%u pps=%.0f loss_pct=%.3f jitter_ms=%.3f jitter_max_ms=%.3f "
		       "relay_cpu_pct=%.1f gen_cpu_pct=%.1f gen_late_p99_ms=%.2f %s\n",
		       o.label, r.calls, r.pps, r.loss_pct, r.jitter_mean, r.jitter_max, r.cpu_pct,
		       r.gen_cpu_pct, r.late_ms,
		       !r.ok	       ? "FAIL"
		       : r.gen_limited ? "OK*"
				       : "OK");
		fflush(stdout);
		/* A late generator sent in bursts: a harder test, not an easier
		 * one, so the step stands (marked OK*) and stepping goes on. */
		if (!r.ok)
			break;
		best = r.calls;
	}
	printf("MAX %s %u\n", o.label, best);
	close(ctl_fd);
	return 0;
usage:
	fprintf(stderr,
		"usage: %s --target shenggu|rtpengine --ctl PORT [--probe] [--label NAME] "
		"[--steps N,N,...] [--seconds S] [--base-port P] [--relay-pid PID] "
		"[--max-loss PCT] [--max-jitter-ms MS] [--max-late-ms MS]\n",
		argv[0]);
	return 2;
}

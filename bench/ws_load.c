/*
 * ws_load: the load generator of bench/bench_events.sh. It holds N clients
 * of the live event stream (WebSocket GET /api/v1/events?token=...) of one
 * `shenggu serve --http` on loopback and, in the same process and loop,
 * drives events at a fixed rate through the API (PUT of agents' states on
 * a few keep-alive HTTP/1.1 connections), measuring how long each event
 * took from its publication to its arrival at every client.
 *
 *   ws_load --target HOST:PORT --tokens FILE [options]
 *
 * FILE has one line per token, "TOKEN [TENANT]"; client i uses the token
 * of line i % lines. The event driver uses the first token of each tenant
 * named (a supervisor's), and round robin over those tenants and the
 * agents of --agents, toggling each agent between ready and not-ready
 * (--ready: they are ready already, so the first change is to not-ready;
 * an agent's first "ready" also logs it in, which is one more event).
 *
 * Clients: raw TCP and the RFC 6455 handshake (client frames masked;
 * server frames parsed with 7, 16 and 64-bit lengths, fragments joined,
 * pings answered with pongs, close answered and counted). Source addresses
 * are spread over 127.0.0.2, 127.0.0.3, ... (--per-source clients each:
 * one source address has some 28,000 ephemeral ports). Connections open at
 * --connect-rate per second with at most --inflight handshakes at once,
 * for at most --connect-timeout seconds.
 *
 * Phases, each bounded in time, each announced on stdout:
 *   phase=connected   every client is open or failed; then --hold seconds
 *   phase=drive       --rate PUTs per second for --duration seconds
 *   phase=drain       up to --drain seconds for the last answers and events
 * and a final line of key=value pairs (see summary()). Latency of an event
 * at a client = the client's wall clock (ms) at arrival - the event's
 * "time" (the server's wall clock at publication, same machine), kept in a
 * histogram of 1 ms buckets up to 10 s.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <uv.h>

#define LAT_BUCKETS	  10001	     /* 1 ms each; the last one is ">= 10 s" */
#define MAX_PENDING	  (1u << 20) /* unparsed bytes a client may hold */
#define MAX_MESSAGE	  (1u << 20) /* a fragmented message, joined */
#define MAX_HANDSHAKE	  8192
#define MAX_HTTP_IN	  65536
#define READ_BUF	  65536
#define TICK_MS		  1
#define MAX_CONNS	  1000000
#define MAX_HTTP	  64
#define MAX_HTTP_CONNECTS 10000 /* the event driver's connections, reconnects included */

enum cstate { C_NEW, C_CONNECTING, C_HANDSHAKE, C_OPEN, C_GONE };

struct client {
	uv_tcp_t tcp;
	uv_connect_t creq;
	struct bench *b;
	uint32_t tok; /* line of the token file */
	uint8_t st;
	bool inflight; /* counted in b->inflight */
	bool hello;
	uint8_t mop;  /* opcode of the message being joined; 0 none */
	uint8_t *buf; /* bytes not parsed yet */
	uint32_t len, cap;
	uint8_t *msg; /* a fragmented message being joined */
	uint32_t mlen, mcap;
};

struct token {
	char *tok;
	int tenant; /* index in b->tenants, -1 when the line names none */
};

struct tenant {
	char *id;
	const char *tok;
	uint32_t open;	/* clients open with this tenant's token */
	uint8_t *ready; /* per agent: the state last set */
};

enum hstate { H_DOWN, H_CONNECTING, H_IDLE, H_BUSY };

struct hconn {
	uv_tcp_t tcp;
	uv_connect_t creq;
	struct bench *b;
	uint8_t st;
	bool closing;
	char in[MAX_HTTP_IN];
	size_t len;
	uint64_t sent_ns;
	int tenant, agent;
	bool want_ready;
};

struct wreq {
	uv_write_t req;
	uv_buf_t buf;
	char data[];
};

struct opts {
	char host[64];
	int port;
	const char *tokens;
	const char *path;
	const char *agents;
	unsigned clients, connect_rate, inflight, per_source, rate, http_conns;
	bool ready; /* the agents are ready at the start: first set them not ready */
	double connect_timeout, hold, duration, drain;
};

struct hist {
	uint64_t n[LAT_BUCKETS];
	uint64_t count;
	int64_t max;
};

struct bench {
	struct opts o;
	uv_loop_t *loop;
	uv_timer_t tick;
	struct sockaddr_in dst;
	struct token *tokens;
	size_t ntokens;
	struct tenant *tenants;
	size_t ntenants;
	char **agents;
	size_t nagents;
	struct client *c;
	struct hconn *h;
	char *rbuf;   /* the read buffer: one read at a time */
	uint64_t rng; /* masking keys */
	int phase;    /* 0 connect, 1 hold, 2 drive, 3 drain, 4 done */
	uint64_t t0, phase_t0, drive_t0, drive_t1, last_event_ns;
	/* clients */
	uint32_t opened, inflight, open, connected, failed, refused, closed_srv, lost, errors;
	uint64_t hellos, msgs, events, agent_state, gaps, pings, bytes;
	/* events driven */
	uint64_t http_connects, issued, answered, st2xx, st4xx, st5xx, st_other, http_err, expected;
	uint64_t rr; /* round robin position */
	struct hist lat;
	struct hist put; /* PUT round trips */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void hist_add(struct hist *h, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	if (ms > h->max)
		h->max = ms;
	h->n[ms < LAT_BUCKETS - 1 ? ms : LAT_BUCKETS - 1]++;
	h->count++;
}

/* The @q quantile (0..1) in ms: the bucket holding it. */
static long hist_q(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return -1;
	want = (uint64_t)((double)h->count * q);
	if (want >= h->count)
		want = h->count - 1;
	for (long i = 0; i < LAT_BUCKETS; i++) {
		seen += h->n[i];
		if (seen > want)
			return i;
	}
	return LAT_BUCKETS - 1;
}

static uint32_t rnd(struct bench *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return (uint32_t)(b->rng >> 16);
}

/* --- writing --- */

static void on_written(uv_write_t *req, int status)
{
	(void)status; /* a failed write shows up as a read error */
	free(req);
}

static int send_bytes(uv_stream_t *s, struct wreq *w, size_t len)
{
	int err;

	w->buf = uv_buf_init(w->data, (unsigned)len);
	err = uv_write(&w->req, s, &w->buf, 1, on_written);
	if (err)
		free(w);
	return err;
}

/* A masked client frame, FIN set. */
static int ws_send(struct client *c, int op, const uint8_t *payload, size_t len)
{
	struct wreq *w;
	size_t hl = len < 126 ? 2 : 4, i;
	uint8_t *p;
	uint32_t key;

	if (c->st != C_OPEN || len > 65535)
		return -EINVAL;
	w = malloc(sizeof(*w) + hl + 4 + len);
	if (!w)
		return -ENOMEM;
	p = (uint8_t *)w->data;
	p[0] = (uint8_t)(0x80 | op);
	if (len < 126) {
		p[1] = (uint8_t)(0x80 | len);
	} else {
		p[1] = 0x80 | 126;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
	}
	key = rnd(c->b);
	memcpy(p + hl, &key, 4);
	for (i = 0; i < len; i++)
		p[hl + 4 + i] = payload[i] ^ p[hl + (i & 3)];
	return send_bytes((uv_stream_t *)&c->tcp, w, hl + 4 + len);
}

/* --- clients --- */

static void client_closed(uv_handle_t *h)
{
	struct client *c = h->data;

	free(c->buf);
	free(c->msg);
	c->buf = c->msg = NULL;
	c->len = c->cap = c->mlen = c->mcap = 0;
}

static void client_end(struct client *c, bool failed)
{
	struct bench *b = c->b;

	if (c->st == C_GONE || c->st == C_NEW)
		return;
	if (c->inflight) {
		c->inflight = false;
		b->inflight--;
	}
	if (c->st == C_OPEN) {
		int t = b->tokens[c->tok].tenant;

		b->open--;
		if (b->phase < 4)
			b->lost++; /* ended by the server or the network */
		if (t >= 0)
			b->tenants[t].open--;
	}
	if (failed)
		b->failed++;
	c->st = C_GONE;
	uv_close((uv_handle_t *)&c->tcp, client_closed);
}

/* Find the top-level value of "key": in a compact JSON message. */
static const char *json_key(const char *m, size_t len, const char *key)
{
	size_t kl = strlen(key);
	const char *p = memmem(m, len, key, kl);

	return p ? p + kl : NULL;
}

static void on_message(struct client *c, const uint8_t *m, size_t len)
{
	struct bench *b = c->b;
	const char *s = (const char *)m, *type, *time;

	b->msgs++;
	type = json_key(s, len, "\"type\":\"");
	if (!type)
		return;
	if (!strncmp(type, "hello\"", 6)) {
		b->hellos++;
		c->hello = true;
		return;
	}
	if (!strncmp(type, "gap\"", 4)) {
		b->gaps++;
		return;
	}
	time = json_key(s, len, ",\"time\":");
	if (!time)
		return;
	b->events++;
	if (!strncmp(type, "agent.state\"", 12))
		b->agent_state++;
	hist_add(&b->lat, wall_ms() - strtoll(time, NULL, 10));
	b->last_event_ns = now_ns();
}

static int grow(uint8_t **p, uint32_t *cap, size_t want, size_t max)
{
	size_t n = *cap ? *cap : 256;
	uint8_t *q;

	if (want <= *cap)
		return 0;
	if (want > max)
		return -E2BIG;
	while (n < want)
		n *= 2;
	q = realloc(*p, n);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = (uint32_t)n;
	return 0;
}

/* One complete frame: 0 to go on, -1 to end the client. */
static int on_frame(struct client *c, bool fin, int op, const uint8_t *pl, size_t len)
{
	struct bench *b = c->b;

	switch (op) {
	case 0x0: /* continuation */
		if (!c->mop || grow(&c->msg, &c->mcap, c->mlen + len, MAX_MESSAGE))
			return -1;
		memcpy(c->msg + c->mlen, pl, len);
		c->mlen += (uint32_t)len;
		if (fin) {
			on_message(c, c->msg, c->mlen);
			c->mop = 0;
			c->mlen = 0;
		}
		return 0;
	case 0x1:
	case 0x2:
		if (c->mop)
			return -1; /* a new message inside a fragmented one */
		if (fin) {
			on_message(c, pl, len);
			return 0;
		}
		if (grow(&c->msg, &c->mcap, len, MAX_MESSAGE))
			return -1;
		memcpy(c->msg, pl, len);
		c->mlen = (uint32_t)len;
		c->mop = (uint8_t)op;
		return 0;
	case 0x8: /* close: answer with its code, then go */
		b->closed_srv++;
		ws_send(c, 0x8, pl, len >= 2 ? 2 : 0);
		return -1;
	case 0x9:
		b->pings++;
		return fin && len <= 125 && !ws_send(c, 0xA, pl, len) ? 0 : -1;
	case 0xA:
		return 0;
	default:
		return -1;
	}
}

/* Parse what @p holds; returns the bytes used, or -1 to end the client. */
static long parse(struct client *c, const uint8_t *p, size_t n)
{
	struct bench *b = c->b;
	size_t used = 0;

	if (c->st == C_HANDSHAKE) {
		const uint8_t *e = memmem(p, n, "\r\n\r\n", 4);

		if (!e)
			return n > MAX_HANDSHAKE ? -1 : 0;
		if (n < 12 || memcmp(p, "HTTP/1.1 101", 12)) {
			b->refused++;
			return -1;
		}
		used = (size_t)(e - p) + 4;
		c->st = C_OPEN;
		c->inflight = false;
		b->inflight--;
		b->open++;
		b->connected++;
		if (b->tokens[c->tok].tenant >= 0)
			b->tenants[b->tokens[c->tok].tenant].open++;
	}
	while (c->st == C_OPEN && n - used >= 2) {
		const uint8_t *f = p + used;
		size_t avail = n - used, hl = 2;
		uint64_t len = f[1] & 0x7f;
		bool masked = f[1] & 0x80;
		uint8_t *pl;

		if (f[0] & 0x70)
			return -1; /* no extension was negotiated */
		if (len == 126) {
			if (avail < 4)
				break;
			len = (uint64_t)f[2] << 8 | f[3];
			hl = 4;
		} else if (len == 127) {
			if (avail < 10)
				break;
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | f[2 + i];
			hl = 10;
		}
		if (len > MAX_MESSAGE)
			return -1;
		if (masked)
			hl += 4;
		if (avail < hl + len)
			break;
		pl = (uint8_t *)f + hl;
		if (masked) /* servers do not mask; tolerate it */
			for (uint64_t i = 0; i < len; i++)
				pl[i] ^= f[hl - 4 + (i & 3)];
		if (on_frame(c, f[0] & 0x80, f[0] & 0x0f, pl, (size_t)len))
			return -1;
		used += hl + (size_t)len;
	}
	return (long)used;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct bench *b = ((struct client *)h->data)->b;

	(void)hint;
	*buf = uv_buf_init(b->rbuf, READ_BUF);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *c = s->data;
	struct bench *b = c->b;
	long used;

	if (nread < 0) {
		if (nread != UV_EOF)
			b->errors++;
		client_end(c, c->st != C_OPEN);
		return;
	}
	if (!nread)
		return;
	b->bytes += (uint64_t)nread;
	if (!c->len) { /* the usual case: parse in place, keep the rest */
		used = parse(c, (uint8_t *)buf->base, (size_t)nread);
		if (used < 0)
			goto bad;
		if (used < nread) {
			if (grow(&c->buf, &c->cap, (size_t)(nread - used), MAX_PENDING))
				goto bad;
			memcpy(c->buf, buf->base + used, (size_t)(nread - used));
			c->len = (uint32_t)(nread - used);
		}
		return;
	}
	if (grow(&c->buf, &c->cap, c->len + (size_t)nread, MAX_PENDING))
		goto bad;
	memcpy(c->buf + c->len, buf->base, (size_t)nread);
	c->len += (uint32_t)nread;
	used = parse(c, c->buf, c->len);
	if (used < 0)
		goto bad;
	memmove(c->buf, c->buf + used, c->len - (size_t)used);
	c->len -= (uint32_t)used;
	if (!c->len && c->cap > 4096) { /* a burst is over: give it back */
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
	}
	return;
bad:
	client_end(c, c->st != C_OPEN);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct client *c = req->data;
	struct bench *b = c->b;
	struct wreq *w;
	uint8_t key[16];
	char k64[25];
	static const char a64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int n;

	if (c->st == C_GONE)
		return;
	if (status < 0)
		goto fail;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)rnd(b);
	for (int i = 0, o = 0; i < 16; i += 3) { /* base64 of 16 bytes: 24 chars */
		uint32_t v = (uint32_t)key[i] << 16 | (i + 1 < 16 ? key[i + 1] << 8 : 0) |
			     (i + 2 < 16 ? key[i + 2] : 0);

		k64[o++] = a64[v >> 18 & 63];
		k64[o++] = a64[v >> 12 & 63];
		k64[o++] = i + 1 < 16 ? a64[v >> 6 & 63] : '=';
		k64[o++] = i + 2 < 16 ? a64[v & 63] : '=';
	}
	k64[24] = 0;
	w = malloc(sizeof(*w) + 1024);
	if (!w)
		goto fail;
	n = snprintf(w->data, 1024,
		     "GET %s?token=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n\r\n",
		     b->o.path, b->tokens[c->tok].tok, b->o.host, b->o.port, k64);
	if (n <= 0 || n >= 1024) {
		free(w);
		goto fail;
	}
	c->st = C_HANDSHAKE;
	if (send_bytes((uv_stream_t *)&c->tcp, w, (size_t)n) ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read))
		goto fail;
	return;
fail:
	client_end(c, true);
}

static void client_start(struct bench *b, uint32_t i)
{
	struct client *c = &b->c[i];
	struct sockaddr_in src = {.sin_family = AF_INET};
	uv_os_fd_t fd;
	int one = 1;

	c->b = b;
	c->tok = (uint32_t)(i % b->ntokens);
	if (uv_tcp_init_ex(b->loop, &c->tcp, AF_INET)) {
		b->failed++;
		return;
	}
	c->tcp.data = c;
	c->creq.data = c;
	c->st = C_CONNECTING;
	c->inflight = true;
	b->inflight++;
	src.sin_addr.s_addr = htonl(0x7f000002u + i / b->o.per_source);
	/* The port is chosen at connect, per destination: more than one
	 * source address's worth of ports would not help otherwise. */
	if (!uv_fileno((uv_handle_t *)&c->tcp, &fd))
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (uv_tcp_bind(&c->tcp, (struct sockaddr *)&src, 0) ||
	    uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&b->dst, on_connect))
		client_end(c, true);
}

/* --- the event driver: PUT agent state on keep-alive connections --- */

static void http_closed(uv_handle_t *h)
{
	struct hconn *hc = h->data;

	hc->closing = false;
}

static void http_drop(struct hconn *hc)
{
	if (hc->st == H_BUSY)
		hc->b->http_err++;
	hc->st = H_DOWN;
	if (hc->closing)
		return;
	hc->closing = true;
	hc->len = 0;
	uv_close((uv_handle_t *)&hc->tcp, http_closed);
}

static void on_http_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct hconn *hc = h->data;

	(void)hint;
	*buf = uv_buf_init(hc->in + hc->len, (unsigned)(sizeof(hc->in) - hc->len));
}

static void drive(struct bench *b);

/* A complete answer in hc->in? Count it and keep what follows. */
static int http_answer(struct hconn *hc)
{
	struct bench *b = hc->b;
	char *e = memmem(hc->in, hc->len, "\r\n\r\n", 4), *p;
	size_t hl, bl = 0, total;
	int status;
	bool close;

	if (!e)
		return hc->len >= sizeof(hc->in) ? -1 : 0;
	hl = (size_t)(e - hc->in) + 4;
	if (hc->len < 12 || memcmp(hc->in, "HTTP/1.", 7))
		return -1;
	status = atoi(hc->in + 9);
	for (p = hc->in; p && p < e; p = memchr(p, '\n', (size_t)(e - p)), p = p ? p + 1 : p)
		if (!strncasecmp(p, "content-length:", 15))
			bl = strtoul(p + 15, NULL, 10);
	close = memmem(hc->in, hl, "onnection: close", 16) != NULL;
	total = hl + bl;
	if (total > sizeof(hc->in))
		return -1;
	if (hc->len < total)
		return 0;
	b->answered++;
	hist_add(&b->put, (int64_t)((now_ns() - hc->sent_ns) / 1000000));
	if (status >= 200 && status < 300) {
		struct tenant *t = &b->tenants[hc->tenant];

		b->st2xx++;
		t->ready[hc->agent] = hc->want_ready;
		b->expected += t->open;
	} else if (status >= 400 && status < 500) {
		b->st4xx++;
	} else if (status >= 500 && status < 600) {
		b->st5xx++;
	} else {
		b->st_other++;
	}
	memmove(hc->in, hc->in + total, hc->len - total);
	hc->len -= total;
	hc->st = H_IDLE;
	if (close)
		http_drop(hc);
	return 1;
}

static void on_http_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct hconn *hc = s->data;
	int r;

	(void)buf;
	if (nread < 0) {
		http_drop(hc);
		return;
	}
	hc->len += (size_t)nread;
	r = http_answer(hc);
	if (r < 0)
		http_drop(hc);
	else if (r > 0 && hc->b->phase == 2)
		drive(hc->b);
}

static void on_http_connect(uv_connect_t *req, int status)
{
	struct hconn *hc = req->data;

	if (hc->closing)
		return;
	if (status < 0 || uv_read_start((uv_stream_t *)&hc->tcp, on_http_alloc, on_http_read)) {
		hc->b->http_err++;
		http_drop(hc);
		return;
	}
	uv_tcp_nodelay(&hc->tcp, 1);
	hc->st = H_IDLE;
	if (hc->b->phase == 2)
		drive(hc->b);
}

static void http_connect(struct bench *b, struct hconn *hc)
{
	if (b->http_connects++ > MAX_HTTP_CONNECTS)
		return;
	hc->b = b;
	hc->len = 0;
	if (uv_tcp_init(b->loop, &hc->tcp))
		return;
	hc->tcp.data = hc;
	hc->creq.data = hc;
	hc->st = H_CONNECTING;
	if (uv_tcp_connect(&hc->creq, &hc->tcp, (struct sockaddr *)&b->dst, on_http_connect))
		http_drop(hc);
}

static int http_put(struct bench *b, struct hconn *hc)
{
	uint64_t k = b->rr++;
	int t = (int)(k % b->ntenants), a = (int)(k / b->ntenants % b->nagents);
	struct tenant *tn = &b->tenants[t];
	bool ready = !tn->ready[a];
	const char *body = ready ? "{\"state\":\"ready\"}" : "{\"state\":\"not-ready\"}";
	struct wreq *w = malloc(sizeof(*w) + 1024);
	int n;

	if (!w)
		return -ENOMEM;
	n = snprintf(w->data, 1024,
		     "PUT /api/v1/tenants/%s/agents/%s/state HTTP/1.1\r\nHost: %s:%d\r\n"
		     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     tn->id, b->agents[a], b->o.host, b->o.port, tn->tok, strlen(body), body);
	if (n <= 0 || n >= 1024) {
		free(w);
		return -EINVAL;
	}
	hc->tenant = t;
	hc->agent = a;
	hc->want_ready = ready;
	hc->sent_ns = now_ns();
	hc->st = H_BUSY;
	b->issued++;
	if (send_bytes((uv_stream_t *)&hc->tcp, w, (size_t)n)) {
		http_drop(hc);
		return -EIO;
	}
	return 0;
}

/* Send what the rate owes on the idle connections. */
static void drive(struct bench *b)
{
	uint64_t el = now_ns() - b->drive_t0;
	uint64_t due = (uint64_t)((double)b->o.rate * secs(el)) + 1;

	for (unsigned i = 0; i < b->o.http_conns && b->issued < due; i++) {
		struct hconn *hc = &b->h[i];

		if (hc->st == H_DOWN && !hc->closing)
			http_connect(b, hc);
		else if (hc->st == H_IDLE)
			http_put(b, hc);
	}
}

/* --- phases --- */

static void phase(struct bench *b, int p)
{
	static const char *const names[] = {"connect", "hold", "drive", "drain", "done"};
	uint64_t now = now_ns();

	b->phase = p;
	b->phase_t0 = now;
	if (p == 2)
		b->drive_t0 = now;
	if (p == 3)
		b->drive_t1 = now;
	if (p == 1)
		printf("phase=connected t=%.1f connected=%u failed=%u open=%u\n", secs(now - b->t0),
		       b->connected, b->failed, b->open);
	else
		printf("phase=%s t=%.1f open=%u\n", names[p], secs(now - b->t0), b->open);
	fflush(stdout);
}

static bool http_quiet(const struct bench *b)
{
	for (unsigned i = 0; i < b->o.http_conns; i++)
		if (b->h[i].st == H_BUSY || b->h[i].st == H_CONNECTING)
			return false;
	return true;
}

static void stop_all(struct bench *b)
{
	for (uint32_t i = 0; i < b->opened; i++)
		if (b->c[i].st != C_GONE && b->c[i].st != C_NEW) {
			bool open = b->c[i].st == C_OPEN;

			client_end(&b->c[i], !open);
		}
	for (unsigned i = 0; i < b->o.http_conns; i++)
		if (b->h[i].st != H_DOWN)
			http_drop(&b->h[i]);
	uv_close((uv_handle_t *)&b->tick, NULL);
}

static void on_tick(uv_timer_t *t)
{
	struct bench *b = t->data;
	uint64_t now = now_ns(), in = now - b->phase_t0;

	switch (b->phase) {
	case 0: {
		uint64_t due = (uint64_t)((double)b->o.connect_rate * secs(in)) + 1;

		if (due > b->o.clients)
			due = b->o.clients;
		while (b->opened < due && b->inflight < b->o.inflight)
			client_start(b, b->opened++);
		if (b->opened == b->o.clients && !b->inflight) {
			phase(b, 1);
		} else if (secs(in) > b->o.connect_timeout) {
			for (uint32_t i = 0; i < b->opened; i++)
				if (b->c[i].inflight)
					client_end(&b->c[i], true);
			phase(b, 1);
		}
		break;
	}
	case 1:
		if (secs(in) >= b->o.hold)
			phase(b, b->o.rate ? 2 : 3);
		break;
	case 2:
		if (secs(in) >= b->o.duration)
			phase(b, 3);
		else
			drive(b);
		break;
	case 3:
		if (secs(in) >= b->o.drain ||
		    (http_quiet(b) && b->agent_state >= b->expected && secs(in) >= 0.2)) {
			phase(b, 4);
			stop_all(b);
		}
		break;
	default:
		break;
	}
}

static void summary(struct bench *b)
{
	struct rusage ru;
	double drive_s = secs(b->drive_t1 - b->drive_t0);
	double deliver_s =
	    b->last_event_ns > b->drive_t0 ? secs(b->last_event_ns - b->drive_t0) : 0;

	getrusage(RUSAGE_SELF, &ru);
	printf("ws_load clients=%u connected=%u failed=%u refused=%u closed_by_server=%u "
	       "lost=%u read_errors=%u hellos=%llu rate=%u duration_s=%.1f puts=%llu put_2xx=%llu "
	       "put_4xx=%llu put_5xx=%llu put_other=%llu put_err=%llu events_per_s=%.1f "
	       "put_p50_ms=%ld put_p99_ms=%ld put_max_ms=%lld msgs=%llu events=%llu "
	       "agent_state=%llu expected=%llu gaps=%llu pings=%llu msgs_per_s=%.0f "
	       "lat_p50_ms=%ld lat_p99_ms=%ld lat_p999_ms=%ld lat_max_ms=%lld "
	       "cpu_s=%.1f maxrss_kib=%ld\n",
	       b->o.clients, b->connected, b->failed, b->refused, b->closed_srv, b->lost, b->errors,
	       (unsigned long long)b->hellos, b->o.rate, drive_s, (unsigned long long)b->issued,
	       (unsigned long long)b->st2xx, (unsigned long long)b->st4xx,
	       (unsigned long long)b->st5xx, (unsigned long long)b->st_other,
	       (unsigned long long)b->http_err, drive_s > 0 ? (double)b->st2xx / drive_s : 0,
	       hist_q(&b->put, 0.5), hist_q(&b->put, 0.99), (long long)b->put.max,
	       (unsigned long long)b->msgs, (unsigned long long)b->events,
	       (unsigned long long)b->agent_state, (unsigned long long)b->expected,
	       (unsigned long long)b->gaps, (unsigned long long)b->pings,
	       deliver_s > 0 ? (double)b->events / deliver_s : 0, hist_q(&b->lat, 0.5),
	       hist_q(&b->lat, 0.99), hist_q(&b->lat, 0.999), (long long)b->lat.max,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
	       ru.ru_maxrss);
}

/* --- setup --- */

static int load_tokens(struct bench *b)
{
	FILE *f = fopen(b->o.tokens, "r");
	char line[1024];

	if (!f) {
		fprintf(stderr, "ws_load: %s: %s\n", b->o.tokens, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tok = strtok(line, " \t\r\n"), *ten = strtok(NULL, " \t\r\n");
		struct token *nt;
		size_t t;

		if (!tok)
			continue;
		nt = realloc(b->tokens, (b->ntokens + 1) * sizeof(*nt));
		if (!nt)
			break;
		b->tokens = nt;
		nt[b->ntokens].tok = strdup(tok);
		nt[b->ntokens].tenant = -1;
		if (ten) {
			for (t = 0; t < b->ntenants && strcmp(b->tenants[t].id, ten); t++)
				;
			if (t == b->ntenants) {
				struct tenant *tt = realloc(b->tenants, (t + 1) * sizeof(*tt));

				if (!tt)
					break;
				b->tenants = tt;
				tt[t] =
				    (struct tenant){.id = strdup(ten), .tok = nt[b->ntokens].tok};
				tt[t].ready = malloc(b->nagents ? b->nagents : 1);
				if (!tt[t].ready)
					break;
				memset(tt[t].ready, b->o.ready, b->nagents ? b->nagents : 1);
				b->ntenants++;
			}
			nt[b->ntokens].tenant = (int)t;
		}
		b->ntokens++;
	}
	fclose(f);
	if (!b->ntokens) {
		fprintf(stderr, "ws_load: %s: no tokens\n", b->o.tokens);
		return -1;
	}
	if (b->o.rate && (!b->ntenants || !b->nagents)) {
		fprintf(stderr, "ws_load: --rate needs tenants in the token file and --agents\n");
		return -1;
	}
	return 0;
}

static int split_agents(struct bench *b)
{
	char *s, *save = NULL, *tok;

	if (!b->o.agents || !*b->o.agents)
		return 0;
	s = strdup(b->o.agents);
	if (!s)
		return -1;
	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char **na = realloc(b->agents, (b->nagents + 1) * sizeof(*na));

		if (!na)
			break;
		b->agents = na;
		b->agents[b->nagents++] = strdup(tok);
	}
	free(s);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ws_load --target HOST:PORT --tokens FILE [--clients N]\n"
		   "  [--connect-rate N/s] [--inflight N] [--per-source N] [--connect-timeout S]\n"
		   "  [--hold S] [--rate EVENTS/s --agents ID,ID,...] [--duration S] [--drain S]\n"
		   "  [--ready] [--http-conns N] [--path /api/v1/events]\n");
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	*o = (struct opts){.path = "/api/v1/events",
			   .clients = 1000,
			   .connect_rate = 5000,
			   .inflight = 1000,
			   .per_source = 20000,
			   .rate = 0,
			   .http_conns = 8,
			   .connect_timeout = 60,
			   .hold = 3,
			   .duration = 10,
			   .drain = 5};
	for (int i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(k, "-h") || !strcmp(k, "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(k, "--ready")) {
			o->ready = true;
			continue;
		}
		if (!v)
			return -1;
		i++;
		if (!strcmp(k, "--target")) {
			const char *c = strrchr(v, ':');

			if (!c || (size_t)(c - v) >= sizeof(o->host))
				return -1;
			memcpy(o->host, v, (size_t)(c - v));
			o->host[c - v] = 0;
			o->port = atoi(c + 1);
		} else if (!strcmp(k, "--tokens")) {
			o->tokens = v;
		} else if (!strcmp(k, "--path")) {
			o->path = v;
		} else if (!strcmp(k, "--agents")) {
			o->agents = v;
		} else if (!strcmp(k, "--clients")) {
			o->clients = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "--connect-rate")) {
			o->connect_rate = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "--inflight")) {
			o->inflight = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "--per-source")) {
			o->per_source = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "--rate")) {
			o->rate = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "--http-conns")) {
			o->http_conns = (unsigned)strtoul(v, NULL, 10);
		} else if (!strcmp(k, "--connect-timeout")) {
			o->connect_timeout = strtod(v, NULL);
		} else if (!strcmp(k, "--hold")) {
			o->hold = strtod(v, NULL);
		} else if (!strcmp(k, "--duration")) {
			o->duration = strtod(v, NULL);
		} else if (!strcmp(k, "--drain")) {
			o->drain = strtod(v, NULL);
		} else {
			return -1;
		}
	}
	if (!o->host[0] || !o->tokens || o->port <= 0 || o->port > 65535 || !o->clients ||
	    o->clients > MAX_CONNS || !o->connect_rate || !o->inflight || !o->per_source ||
	    o->http_conns < 1 || o->http_conns > MAX_HTTP || o->connect_timeout > 3600 ||
	    o->hold > 3600 || o->duration > 3600 || o->drain > 3600 || o->rate > 1000000)
		return -1;
	/* 127.0.0.2 up to 127.255.255.254: bounded anyway by MAX_CONNS. */
	return 0;
}

int main(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct rlimit rl;
	uv_loop_t loop;

	if (!b)
		return 1;
	if (parse_opts(&b->o, argc, argv)) {
		usage(stderr);
		return 2;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < b->o.clients + 100)
			fprintf(stderr, "ws_load: warning: %llu file descriptors for %u clients\n",
				(unsigned long long)rl.rlim_cur, b->o.clients);
	}
	if (split_agents(b) || load_tokens(b))
		return 2;
	if (uv_ip4_addr(b->o.host, b->o.port, &b->dst)) {
		fprintf(stderr, "ws_load: %s: not an IPv4 address\n", b->o.host);
		return 2;
	}
	b->c = calloc(b->o.clients, sizeof(*b->c));
	b->h = calloc(b->o.http_conns, sizeof(*b->h));
	b->rbuf = malloc(READ_BUF);
	if (!b->c || !b->h || !b->rbuf || uv_loop_init(&loop))
		return 1;
	b->loop = &loop;
	b->rng = (uint64_t)now_ns() | 1;
	b->t0 = now_ns();
	uv_timer_init(&loop, &b->tick);
	b->tick.data = b;
	uv_timer_start(&b->tick, on_tick, TICK_MS, TICK_MS);
	printf("ws_load target=%s:%d clients=%u tokens=%zu tenants=%zu agents=%zu rate=%u\n",
	       b->o.host, b->o.port, b->o.clients, b->ntokens, b->ntenants, b->nagents, b->o.rate);
	fflush(stdout);
	phase(b, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	summary(b);
	uv_loop_close(&loop);
	for (size_t i = 0; i < b->ntokens; i++)
		free(b->tokens[i].tok);
	for (size_t i = 0; i < b->ntenants; i++) {
		free(b->tenants[i].id);
		free(b->tenants[i].ready);
	}
	for (size_t i = 0; i < b->nagents; i++)
		free(b->agents[i]);
	free(b->tokens);
	free(b->tenants);
	free(b->agents);
	free(b->c);
	free(b->h);
	free(b->rbuf);
	free(b);
	return 0;
}

/*
 * serve: the platform daemon.
 *
 * Today it opens the SIP port over UDP on one libuv loop and answers each
 * well-formed request statelessly: OPTIONS (the keep-alive probe of phones,
 * trunks and Kamailio's dispatcher) gets 200 with our capabilities; any
 * other method gets 501 until the transaction layer, the registrar and call
 * control land (M2, M3); ACK and responses get nothing. Malformed
 * datagrams are logged and dropped. SIGINT or SIGTERM stops it cleanly.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#define LOG_MODULE "serve"
#include "base/arena.h"
#include "base/log.h"
#include "base/mbuf.h"
#include "cmd/cmd.h"
#include "sip/sip_msg.h"
#include "sip/sip_print.h"

#define SIP_ALLOW     "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER"
#define SERVER_HEADER "Server: Shenggu/" SHENGGU_VERSION "\r\n"

struct serve {
	uv_loop_t loop;
	uv_udp_t udp;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	struct arena arena; /* per datagram, reset after each */
	struct mbuf out;    /* reply being built */
	char abuf[16384];   /* the arena's first chunk */
	char rbuf[65536];   /* one datagram at a time: the loop is single-threaded */
	char addr_text[64];
	unsigned long rx, tx, dropped;
};

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct serve *s = h->data;

	(void)suggested;
	*buf = uv_buf_init(s->rbuf, sizeof(s->rbuf));
}

static void reply(struct serve *s, const struct sip_msg *req, const struct sockaddr *to)
{
	struct sip_reply r = {0};
	uv_buf_t b;
	int err;

	switch (req->method) {
	case SIP_METHOD_ACK:
		return;
	case SIP_METHOD_OPTIONS:
		r.status = 200;
		r.headers = STR("Allow: " SIP_ALLOW "\r\nAccept: application/sdp\r\n"
				"Supported: path\r\n" SERVER_HEADER);
		break;
	default:
		r.status = 501;
		r.headers = STR("Allow: " SIP_ALLOW "\r\n" SERVER_HEADER);
		break;
	}
	r.to_tag = STR("sg-stateless");
	s->out.pos = s->out.end = 0;
	err = sip_reply_print(&s->out, req, &r);
	if (err) {
		log_warn("reply not built status=%u err=%d", r.status, err);
		return;
	}
	/* Symmetric response to the packet's source (RFC 3581 behaviour, which
	 * is also what NATed phones need). */
	b = uv_buf_init((char *)s->out.buf, (unsigned)s->out.end);
	err = uv_udp_try_send(&s->udp, &b, 1, to);
	if (err < 0)
		log_warn("send failed err=%s", uv_strerror(err));
	else
		s->tx++;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
		    unsigned flags)
{
	struct serve *s = h->data;
	struct sip_perr perr = {0};
	struct sip_msg *msg;
	int err;

	(void)flags;
	if (nread < 0) {
		log_warn("udp receive error err=%s", uv_strerror((int)nread));
		return;
	}
	if (nread == 0 || !from)
		return;
	s->rx++;
	err =
	    sip_msg_parse(&msg, &s->arena, buf->base, (size_t)nread, SIP_PARSE_DGRAM, NULL, &perr);
	if (err) {
		s->dropped++;
		log_debug("dropped datagram bytes=%zd reason=\"%s\" header=%.*s offset=%zu", nread,
			  perr.reason, STR_FMT(&perr.hdr), perr.offset);
	} else if (msg->is_request) {
		reply(s, msg, from);
	}
	arena_reset(&s->arena);
}

static void on_close(uv_handle_t *h)
{
	(void)h;
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct serve *s = sig->data;

	log_info("stopping signal=%d rx=%lu tx=%lu dropped=%lu", signum, s->rx, s->tx, s->dropped);
	uv_close((uv_handle_t *)&s->udp, on_close);
	uv_close((uv_handle_t *)&s->sigint, on_close);
	uv_close((uv_handle_t *)&s->sigterm, on_close);
}

/* "HOST:PORT" or "[V6]:PORT" into @ss. */
static int parse_hostport(const char *text, struct sockaddr_storage *ss)
{
	char host[64];
	const char *colon = strrchr(text, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon)
		return -EINVAL;
	port = strtol(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || port < 0 || port > 65535)
		return -EINVAL;
	hl = (size_t)(colon - text);
	if (hl >= 2 && text[0] == '[' && text[hl - 1] == ']') {
		text++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (!uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss))
		return 0;
	if (!uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss))
		return 0;
	return -EINVAL;
}

static int ensure_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0750) && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (access(dir, R_OK | W_OK | X_OK))
		return -errno;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shenggu serve [--sip HOST:PORT] [--data DIR] [--log-level LEVEL]\n"
		"  --sip HOST:PORT    SIP over UDP (default 127.0.0.1:5060; [::1]:5060 for IPv6)\n"
		"  --data DIR         data folder (default ./var)\n"
		"  --log-level LEVEL  debug, info, warn or error (default info)\n");
}

int cmd_serve(int argc, char **argv)
{
	const char *sip = "127.0.0.1:5060", *data = "./var";
	struct sockaddr_storage ss;
	struct serve *s;
	int err, rc = 1;

	for (int i = 1; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		enum log_level lvl;

		if (!strcmp(opt, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!val) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(opt, "--sip"))
			sip = val;
		else if (!strcmp(opt, "--data"))
			data = val;
		else if (!strcmp(opt, "--log-level") && !log_level_parse(val, &lvl))
			log_set_level(lvl);
		else {
			fprintf(stderr, "shenggu serve: bad option '%s'\n", opt);
			usage(stderr);
			return 2;
		}
	}
	if (parse_hostport(sip, &ss)) {
		fprintf(stderr, "shenggu serve: --sip %s: expected HOST:PORT\n", sip);
		return 2;
	}
	err = ensure_dir(data);
	if (err) {
		log_error("data folder unusable dir=%s err=\"%s\"", data, strerror(-err));
		return 1;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	arena_init(&s->arena, s->abuf, sizeof(s->abuf), 0);
	mbuf_init(&s->out, 65535);
	uv_loop_init(&s->loop);
	uv_udp_init(&s->loop, &s->udp);
	uv_signal_init(&s->loop, &s->sigint);
	uv_signal_init(&s->loop, &s->sigterm);
	s->udp.data = s->sigint.data = s->sigterm.data = s;

	err = uv_udp_bind(&s->udp, (const struct sockaddr *)&ss, 0);
	if (!err)
		err = uv_udp_recv_start(&s->udp, on_alloc, on_recv);
	if (err) {
		log_error("cannot open SIP port addr=%s proto=udp err=\"%s\"", sip,
			  uv_strerror(err));
		uv_close((uv_handle_t *)&s->udp, on_close);
		uv_close((uv_handle_t *)&s->sigint, on_close);
		uv_close((uv_handle_t *)&s->sigterm, on_close);
		uv_run(&s->loop, UV_RUN_DEFAULT);
		goto out;
	}
	uv_signal_start(&s->sigint, on_signal, SIGINT);
	uv_signal_start(&s->sigterm, on_signal, SIGTERM);
	log_info("listening addr=%s proto=udp data=%s version=%s", sip, data, SHENGGU_VERSION);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	log_info("stopped");
	rc = 0;
out:
	uv_loop_close(&s->loop);
	mbuf_reset(&s->out);
	arena_reset(&s->arena);
	free(s);
	return rc;
}

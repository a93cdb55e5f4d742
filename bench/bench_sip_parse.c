/*
 * bench_sip_parse: full SIP message parses per second on one core, ours
 * (sip_msg_parse) against libosip2 (osip_message_parse), on the same bytes
 * in the same run.
 *
 * Two messages a contact center sees all day: an INVITE with an SDP offer
 * (two Vias, Record-Route, Allow, Supported...) and a REGISTER carrying
 * Digest credentials. Ours parses into an arena over a stack buffer that is
 * reset every iteration, in stream mode (the message is exactly framed);
 * osip2 allocates, parses and frees its message every iteration, which is
 * how it is used. Each parse is checked: a failure is counted and makes the
 * run exit non-zero, and a few parsed fields are folded into a sink so the
 * compiler cannot drop the work.
 *
 * Each message runs ROUNDS rounds of about SECONDS / ROUNDS seconds per
 * parser, alternating ours and osip2; the medians are reported, and the
 * median of the per-round ratios. Usage: bench_sip_parse [SECONDS]
 * (default 2). Run it pinned to one core (bench/run.sh does).
 * Not a throughput test of the transport: no sockets, no framing.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

#include "base/arena.h"
#include "sip/sip_msg.h"

#define ROUNDS 5
#define BATCH  256 /* parses between two clock reads */

static const char invite_head[] =
    "INVITE sip:+4930123456@sbc.acme.example;user=phone SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.20.30.40:5060;branch=z9hG4bK-74bf9e1f;rport\r\n"
    "Via: SIP/2.0/TCP 192.0.2.17:5060;received=198.51.100.7;branch=z9hG4bK776asdhds\r\n"
    "Max-Forwards: 69\r\n"
    "From: \"Alice Agent\" <sip:alice@acme.example>;tag=1928301774\r\n"
    "To: <sip:+4930123456@acme.example;user=phone>\r\n"
    "Call-ID: a84b4c76e66710@pc33.acme.example\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@192.0.2.17:5060;transport=tcp>\r\n"
    "Record-Route: <sip:proxy1.shenggu.example;lr>\r\n"
    "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, UPDATE, PRACK\r\n"
    "Supported: replaces, timer, 100rel\r\n"
    "Session-Expires: 1800;refresher=uac\r\n"
    "User-Agent: Shenggu-Softphone/2.4.1\r\n"
    "Content-Type: application/sdp\r\n";

static const char invite_body[] = "v=0\r\n"
				  "o=alice 2890844526 2890844526 IN IP4 192.0.2.17\r\n"
				  "s=-\r\n"
				  "c=IN IP4 192.0.2.17\r\n"
				  "t=0 0\r\n"
				  "m=audio 49170 RTP/AVP 0 8 101\r\n"
				  "a=rtpmap:0 PCMU/8000\r\n"
				  "a=rtpmap:8 PCMA/8000\r\n"
				  "a=rtpmap:101 telephone-event/8000\r\n"
				  "a=fmtp:101 0-16\r\n"
				  "a=sendrecv\r\n";

static const char register_head[] =
    "REGISTER sip:acme.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.17:5060;branch=z9hG4bKnashds7;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:alice@acme.example>;tag=a73kszlfl\r\n"
    "To: <sip:alice@acme.example>\r\n"
    "Call-ID: 1j9FpLxk3uxtm8tn@192.0.2.17\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:alice@192.0.2.17:5060;transport=udp>;expires=3600\r\n"
    "Authorization: Digest username=\"alice\", realm=\"acme.example\", "
    "nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\", uri=\"sip:acme.example\", "
    "response=\"dfe56131d1958046689d83306477ecc8\", algorithm=MD5, cnonce=\"0a4f113b\", "
    "qop=auth, nc=00000001, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\n"
    "User-Agent: Shenggu-Softphone/2.4.1\r\n"
    "Expires: 3600\r\n";

struct bench_msg {
	const char *name;
	char buf[2048];
	size_t len;
	unsigned nhdrs; /* header lines, for the report */
};

/*
 * A parser under test: parse @m once, fold a few results into @sink, return
 * 0 or -1. @arg is the parser's own state.
 */
typedef int(bench_parse_h)(const struct bench_msg *m, uint64_t *sink, void *arg);

static volatile uint64_t bench_sink;

/* @arg: the arena, over a stack buffer; reset after every parse. */
static int parse_shenggu(const struct bench_msg *m, uint64_t *sink, void *arg)
{
	struct arena *a = arg;
	struct sip_msg *msg;
	int err;

	err = sip_msg_parse(&msg, a, m->buf, m->len, 0, NULL, NULL);
	if (!err)
		*sink += msg->nhdrs + msg->cseq.seq + msg->call_id.len + msg->body.len +
			 (msg->via ? msg->via->branch.len : 0);
	arena_reset(a);
	return err ? -1 : 0;
}

static int parse_osip(const struct bench_msg *m, uint64_t *sink, void *arg)
{
	osip_message_t *sip;
	int err;

	(void)arg;
	if (osip_message_init(&sip) != 0)
		return -1;
	err = osip_message_parse(sip, m->buf, m->len);
	if (!err && sip->call_id && sip->cseq && sip->cseq->number)
		*sink += (uint64_t)osip_list_size(&sip->vias) + strlen(sip->call_id->number) +
			 strlen(sip->cseq->number);
	else
		err = -1;
	osip_message_free(sip);
	return err ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Parses per second of one round of about @round_s seconds. */
static double bench_round(bench_parse_h *parse, void *arg, const struct bench_msg *m,
			  double round_s, unsigned long *failures)
{
	unsigned long n = 0;
	uint64_t sink = 0;
	double t0 = now(), t;

	do {
		for (int i = 0; i < BATCH; i++)
			*failures += (unsigned long)(parse(m, &sink, arg) != 0);
		n += BATCH;
		t = now() - t0;
	} while (t < round_s);
	bench_sink += sink;
	return (double)n / t;
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(v[0]), cmp_double);
	return v[ROUNDS / 2];
}

static void msg_build(struct bench_msg *m, const char *name, const char *head, const char *body)
{
	int n = snprintf(m->buf, sizeof(m->buf), "%sContent-Length: %zu\r\n\r\n%s", head,
			 strlen(body), body);

	if (n < 0 || (size_t)n >= sizeof(m->buf)) {
		fprintf(stderr, "bench: message %s too long\n", name);
		exit(2);
	}
	m->name = name;
	m->len = (size_t)n;
	m->nhdrs = 1; /* Content-Length */
	for (const char *p = head; (p = strstr(p, "\r\n")) != NULL; p += 2)
		m->nhdrs++;
	m->nhdrs--; /* the start line */
}

int main(int argc, char **argv)
{
	static struct bench_msg msgs[2];
	alignas(max_align_t) char abuf[32768];
	struct arena arena;
	double seconds = 2.0, sum_ratio = 0;
	unsigned long fail_total = 0;

	if (argc > 1) {
		seconds = strtod(argv[1], NULL);
		if (!(seconds > 0)) {
			fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
			return 2;
		}
	}
	if (parser_init() != 0) {
		fprintf(stderr, "bench: osip2 parser_init failed\n");
		return 1;
	}
	arena_init(&arena, abuf, sizeof(abuf), 0);
	msg_build(&msgs[0], "invite", invite_head, invite_body);
	msg_build(&msgs[1], "register", register_head, "");

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		const struct bench_msg *m = &msgs[i];
		unsigned long fail_ours = 0, fail_osip = 0;
		double ours, osip, ratio, r_ours[ROUNDS], r_osip[ROUNDS], r_ratio[ROUNDS];
		struct sip_perr perr = {0};
		struct sip_msg *msg;
		uint64_t sink = 0;

		/* Say why a message fails up front rather than only count failures. */
		if (sip_msg_parse(&msg, &arena, m->buf, m->len, 0, NULL, &perr))
			fprintf(stderr, "bench: %s: shenggu rejects it at %zu (%.*s): %s\n",
				m->name, perr.offset, STR_FMT(&perr.hdr), perr.reason);
		arena_reset(&arena);
		if (parse_osip(m, &sink, NULL))
			fprintf(stderr, "bench: %s: osip2 rejects it\n", m->name);
		/* Rounds alternate between the parsers, so a slow spell of a
		 * shared machine hits both; the ratio is the median of the
		 * per-round ratios. */
		for (int r = 0; r < ROUNDS; r++) {
			r_ours[r] =
			    bench_round(parse_shenggu, &arena, m, seconds / ROUNDS, &fail_ours);
			r_osip[r] = bench_round(parse_osip, NULL, m, seconds / ROUNDS, &fail_osip);
			r_ratio[r] = r_ours[r] / r_osip[r];
		}
		ours = median(r_ours);
		osip = median(r_osip);
		ratio = median(r_ratio);
		printf("sip_parse %s (%zu bytes, %u headers): shenggu %.0f/s  osip2 %.0f/s  "
		       "ratio %.1fx\n",
		       m->name, m->len, m->nhdrs, ours, osip, ratio);
		if (fail_ours || fail_osip)
			printf("sip_parse %s: FAILED parses: shenggu %lu, osip2 %lu\n", m->name,
			       fail_ours, fail_osip);
		fail_total += fail_ours + fail_osip;
		sum_ratio += ratio;
	}
	printf("sip_parse summary: %zu messages, median of %d alternating rounds of %.2f s each, "
	       "mean ratio %.1fx, %lu failed parses (sink %llu)\n",
	       sizeof(msgs) / sizeof(msgs[0]), ROUNDS, seconds / ROUNDS,
	       sum_ratio / (double)(sizeof(msgs) / sizeof(msgs[0])), fail_total,
	       (unsigned long long)(bench_sink & 0xffff));
	return fail_total ? 1 : 0;
}

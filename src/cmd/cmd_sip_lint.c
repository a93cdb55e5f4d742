/*
 * sip-lint: read one raw SIP message on stdin and say whether it is well
 * formed. Exit 0 with a one-line JSON summary on stdout, or exit 1 with a
 * one-line reason. By default the input is one datagram (RFC 3261 §18.3);
 * --stream requires the framing of a stream transport. --repeat N parses
 * the same bytes N times and reports the rate (a quick check; bench/ holds
 * the real benchmark).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/clock.h"
#include "base/mbuf.h"
#include "cmd/cmd.h"
#include "sip/sip_msg.h"

/* Length of the valid UTF-8 sequence at @p (1-4), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* JSON string of a view: UTF-8 passes through, quotes, backslashes and
 * control characters are escaped, and invalid bytes become U+FFFD. */
static int json_str(struct mbuf *mb, const struct str *s)
{
	const unsigned char *p = (const unsigned char *)s->p;
	int err = mbuf_write_u8(mb, '"');

	for (size_t i = 0; i < s->len && !err;) {
		size_t n = utf8_len(p + i, s->len - i);

		if (n == 0) {
			err = mbuf_write_cstr(mb, "\\ufffd");
			n = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			err = mbuf_printf(mb, "\\%c", p[i]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			err = mbuf_printf(mb, "\\u%04x", p[i]);
		} else {
			err = mbuf_write(mb, p + i, n);
		}
		i += n;
	}
	return err ? err : mbuf_write_u8(mb, '"');
}

static int summary(struct mbuf *mb, const struct sip_msg *msg)
{
	int err;

	if (msg->is_request) {
		err = mbuf_write_cstr(mb, "{\"type\":\"request\",\"method\":");
		err = err ? err : json_str(mb, &msg->method_str);
		err = err ? err : mbuf_write_cstr(mb, ",\"request_uri\":");
		err = err ? err : json_str(mb, &msg->ruri.raw);
	} else {
		err = mbuf_printf(mb,
				  "{\"type\":\"response\",\"status\":%u,\"reason\":", msg->status);
		err = err ? err : json_str(mb, &msg->reason);
	}
	err = err ? err : mbuf_write_cstr(mb, ",\"call_id\":");
	err = err ? err : json_str(mb, &msg->call_id);
	err = err ? err : mbuf_printf(mb, ",\"cseq\":{\"seq\":%u,\"method\":", msg->cseq.seq);
	err = err ? err : json_str(mb, &msg->cseq.method_str);
	err = err ? err : mbuf_write_cstr(mb, "},\"via_branch\":");
	err = err ? err : json_str(mb, &msg->via->branch);
	err = err ? err
		  : mbuf_printf(mb, ",\"headers\":%u,\"body_length\":%zu}\n", msg->nhdrs,
				msg->body.len);
	return err;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: shenggu sip-lint [--stream] [--repeat N] < message\n"
		   "  --stream    the input is from a stream transport: Content-Length required\n"
		   "  --repeat N  parse N times and print the parse rate\n");
}

int cmd_sip_lint(int argc, char **argv)
{
	static char in[65536 + 1];
	char abuf[16384];
	struct arena arena;
	struct sip_perr perr = {0};
	struct sip_msg *msg = NULL;
	struct mbuf out;
	unsigned flags = SIP_PARSE_DGRAM;
	unsigned long repeat = 0;
	size_t len = 0;
	int err, rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--stream")) {
			flags &= ~(unsigned)SIP_PARSE_DGRAM;
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			char *end;

			repeat = strtoul(argv[++i], &end, 10);
			if (*end || !repeat) {
				fprintf(stderr, "sip-lint: --repeat needs a positive count\n");
				return 2;
			}
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	while (len < sizeof(in)) {
		ssize_t n = read(0, in + len, sizeof(in) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			printf("error: cannot read stdin: %s\n", strerror(errno));
			return 1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	arena_init(&arena, abuf, sizeof(abuf), 0);
	mbuf_init(&out, 0);
	err = sip_msg_parse(&msg, &arena, in, len, flags, NULL, &perr);
	if (err) {
		const char *kind = err == -EMSGSIZE	     ? "limit exceeded"
				   : err == -EPROTONOSUPPORT ? "version not supported"
				   : err == -ENOMEM	     ? "out of memory"
							     : "malformed";

		if (perr.hdr.len)
			printf("invalid: %.*s: %s at offset %zu (%s)\n", STR_FMT(&perr.hdr),
			       perr.reason, perr.offset, kind);
		else
			printf("invalid: %s at offset %zu (%s)\n", perr.reason, perr.offset, kind);
		goto out;
	}
	if (repeat) {
		uint64_t t0 = clock_mono_ns(), ns;

		for (unsigned long k = 0; k < repeat; k++) {
			arena_reset(&arena);
			if (sip_msg_parse(&msg, &arena, in, len, flags, NULL, NULL)) {
				printf("error: parse %lu failed\n", k);
				goto out;
			}
		}
		ns = clock_mono_ns() - t0;
		printf("%lu parses in %.3f s: %.0f parses/s\n", repeat, (double)ns / 1e9,
		       ns ? (double)repeat * 1e9 / (double)ns : 0.0);
		rc = 0;
		goto out;
	}
	err = summary(&out, msg);
	if (err) {
		printf("error: %s\n", strerror(-err));
		goto out;
	}
	fwrite(out.buf, 1, out.end, stdout);
	rc = 0;
out:
	mbuf_reset(&out);
	arena_reset(&arena);
	return rc;
}

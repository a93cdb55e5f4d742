/*
 * Unit tests for sip_print: editing a parsed message the way a proxy forwards
 * it (RFC 3261 §16.6: Via, Record-Route, Request-URI) and building responses
 * (RFC 3261 §8.2.6). Every output is parsed again and checked; lines no edit
 * touched must come out byte for byte. Not here: the parser itself
 * (test_sip_msg).
 */
#include <stdio.h>

#include "base/arena.h"
#include "base/mbuf.h"
#include "base/mem.h"
#include "sip/sip_msg.h"
#include "sip/sip_print.h"
#include "test.h"

#define CRLF "\r\n"

struct pfx {
	_Alignas(16) char abuf[32768]; /* request, edit */
	_Alignas(16) char bbuf[32768]; /* re-parsed output */
	struct arena a, b;
	char *in;
	size_t in_len;
	struct sip_msg *req;
	struct sip_msg *out_msg;
	struct mbuf out;
};

static void pfx_init(struct pfx *f)
{
	arena_init(&f->a, f->abuf, sizeof(f->abuf), 0);
	arena_init(&f->b, f->bbuf, sizeof(f->bbuf), 0);
	f->in = NULL;
	f->in_len = 0;
	f->req = NULL;
	f->out_msg = NULL;
	mbuf_init(&f->out, 0);
}

static void pfx_reset(struct pfx *f)
{
	arena_reset(&f->a);
	arena_reset(&f->b);
	mbuf_reset(&f->out);
	mem_free(f->in);
	f->in = NULL;
}

static int load_file(const char *name, char **bufp, size_t *lenp)
{
	char path[512];
	FILE *fp;
	long n;
	char *buf = NULL;
	int err = 0;

	snprintf(path, sizeof(path), "%s/sip/%s", test_data_dir(), name);
	fp = fopen(path, "rb");
	if (!fp) {
		test_fail(__FILE__, __LINE__, "cannot open %s", path);
		return -ENOENT;
	}
	if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) <= 0 || fseek(fp, 0, SEEK_SET)) {
		err = -EIO;
		goto out;
	}
	buf = mem_alloc((size_t)n);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		err = -EIO;
		goto out;
	}
	*bufp = buf;
	*lenp = (size_t)n;
	buf = NULL;
out:
	mem_free(buf);
	fclose(fp);
	return err;
}

/* Parse the request: a file name, or inline text when @text is set. */
static int pfx_parse_req(struct pfx *f, const char *file, const char *text)
{
	int err;

	if (text) {
		f->in_len = strlen(text);
		f->in = mem_alloc(f->in_len);
		if (!f->in)
			return -ENOMEM;
		memcpy(f->in, text, f->in_len);
	} else {
		err = load_file(file, &f->in, &f->in_len);
		if (err)
			return err;
	}
	return sip_msg_parse(&f->req, &f->a, f->in, f->in_len, 0, NULL, NULL);
}

/* Parse what was printed, as one framed message (so Content-Length must be right). */
static int pfx_reparse(struct pfx *f)
{
	struct str s = mbuf_str(&f->out);
	struct sip_perr pe = {0};
	int err = sip_msg_parse(&f->out_msg, &f->b, s.p, s.len, 0, NULL, &pe);

	if (err && err != -ENOMEM)
		test_fail(__FILE__, __LINE__, "output does not parse: %d at %zu (%.*s): %s\n%.*s",
			  err, pe.offset, STR_FMT(&pe.hdr), pe.reason ? pe.reason : "?",
			  STR_FMT(&s));
	return err;
}

static const struct sip_hdr *nth(const struct sip_msg *m, enum sip_hdr_id id, unsigned n)
{
	const struct sip_hdr *h = sip_msg_hdr(m, id);

	while (h && n--)
		h = sip_hdr_next(m, h);
	return h;
}

/* Every line ends in CRLF: no bare CR or LF in what was printed. */
static bool crlf_only(struct str s)
{
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\n' && (i == 0 || s.p[i - 1] != '\r'))
			return false;
		if (s.p[i] == '\r' && (i + 1 == s.len || s.p[i + 1] != '\n'))
			return false;
	}
	return true;
}

static const char new_sdp[] = "v=0\r\n"
			      "o=proxy 1 1 IN IP4 192.0.2.200\r\n"
			      "s=-\r\n"
			      "c=IN IP4 192.0.2.200\r\n"
			      "t=0 0\r\n"
			      "m=audio 40000 RTP/AVP 0 8\r\n";

/* A proxy forwarding an INVITE: every kind of edit at once. */
TEST(test_sip_print_forward)
{
	struct pfx f;
	struct sip_edit e;
	const struct sip_hdr *top, *contact, *subject;
	const struct sip_msg *m, *o;
	struct str outs, hdrs_out;
	const char *pos;
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	m = f.req;
	top = sip_msg_hdr(m, SIP_HDR_VIA);
	contact = sip_msg_hdr(m, SIP_HDR_CONTACT);
	subject = sip_msg_hdr(m, SIP_HDR_SUBJECT);
	TEST_ASSERT(top && contact && subject);
	/* The sample keeps its top Via alone on its line. */
	TEST_EQUALS(1, m->lines[top->line].nhdrs);

	sip_edit_init(&e, m, &f.a);
	TEST_ERR(sip_edit_remove(&e, top));
	TEST_ERR(sip_edit_prepend(&e, SIP_HDR_VIA, STR("Via"),
				  STR("SIP/2.0/UDP proxy.shenggu.example;branch=z9hG4bKnew1")));
	TEST_ERR(sip_edit_prepend(&e, SIP_HDR_RECORD_ROUTE, STR("Record-Route"),
				  STR("<sip:proxy.shenggu.example;lr>")));
	TEST_ERR(sip_edit_replace(&e, contact, STR("<sip:alice@192.0.2.200:5060;transport=udp>")));
	TEST_ERR(sip_edit_insert(&e, subject, STR("X-Added"), STR("before-subject")));
	TEST_ERR(sip_edit_insert(&e, NULL, STR("X-Last"), STR("at-the-end")));
	sip_edit_set_ruri(&e, STR("sip:bob@192.0.2.4:5060"));
	sip_edit_set_body(&e, STR("application/sdp"), STR(new_sdp));
	TEST_ERR(sip_edit_print(&e, &f.out));
	TEST_ERR(pfx_reparse(&f));
	o = f.out_msg;
	outs = mbuf_str(&f.out);
	TEST_ASSERT(crlf_only(outs));

	TEST_STR("INVITE sip:bob@192.0.2.4:5060 SIP/2.0", o->start_line);
	TEST_STR("192.0.2.4", o->ruri.host);
	TEST_EQUALS(5060, o->ruri.port);

	/* RFC 3261 §16.6 step 8: our Via on top, the rest in order. */
	TEST_EQUALS(3, sip_msg_hdr_count(o, SIP_HDR_VIA));
	TEST_STR("z9hG4bKnew1", o->via->branch);
	TEST_STR("proxy.shenggu.example", o->via->host);
	TEST_STR("SIP/2.0/UDP proxy.atlanta.example.com;branch=z9hG4bK2d4790.1",
		 nth(o, SIP_HDR_VIA, 1)->value);
	TEST_STR("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3",
		 nth(o, SIP_HDR_VIA, 2)->value);
	TEST_ASSERT(!memmem(outs.p, outs.len, "z9hG4bK74bf9", 12));

	TEST_EQUALS(1, sip_msg_hdr_count(o, SIP_HDR_RECORD_ROUTE));
	TEST_STR("<sip:proxy.shenggu.example;lr>", sip_msg_hdr(o, SIP_HDR_RECORD_ROUTE)->value);
	TEST_EQUALS(1, sip_msg_hdr_count(o, SIP_HDR_CONTACT));
	TEST_STR("192.0.2.200", sip_msg_hdr(o, SIP_HDR_CONTACT)->p.addr->uri.host);
	TEST_STR(";transport=udp", sip_msg_hdr(o, SIP_HDR_CONTACT)->p.addr->uri.params);
	TEST_ASSERT(!memmem(outs.p, outs.len, "client.atlanta.example.com;transport=tcp", 40));

	/* X-Added sits right above Subject; X-Last after every original header. */
	{
		const struct sip_hdr *xa = sip_msg_hdr_by_name(o, &STR("X-Added"));
		const struct sip_hdr *xl = sip_msg_hdr_by_name(o, &STR("X-Last"));
		const struct sip_hdr *su = sip_msg_hdr(o, SIP_HDR_SUBJECT);

		TEST_ASSERT(xa && xl && su);
		TEST_STR("before-subject", xa->value);
		TEST_STR("at-the-end", xl->value);
		TEST_EQUALS(xa->line + 1, su->line);
		TEST_ASSERT(xl->line > sip_msg_hdr(o, SIP_HDR_USER_AGENT)->line);
		TEST_ASSERT(xl->line > sip_msg_hdr(o, SIP_HDR_SUBJECT)->line);
	}

	TEST_STR("application/sdp", o->content_type);
	TEST_EQUALS(1, sip_msg_hdr_count(o, SIP_HDR_CONTENT_TYPE));
	TEST_EQUALS(1, sip_msg_hdr_count(o, SIP_HDR_CONTENT_LENGTH));
	TEST_EQUALS(sizeof(new_sdp) - 1, o->content_length);
	TEST_STR(new_sdp, o->body);
	TEST_EQUALS(outs.len, o->len);

	/* Untouched lines come out byte for byte, in their order. */
	hdrs_out = str_make(outs.p, o->body_off);
	pos = hdrs_out.p;
	for (uint32_t k = 0; k < m->nlines; k++) {
		const struct sip_line *ln = &m->lines[k];
		const struct sip_hdr *h = &m->hdrs[ln->first_hdr];
		const char *hit;

		if (k == top->line || k == contact->line || h->id == SIP_HDR_CONTENT_LENGTH ||
		    h->id == SIP_HDR_CONTENT_TYPE)
			continue;
		hit = memmem(pos, (size_t)(hdrs_out.p + hdrs_out.len - pos), m->buf + ln->off,
			     ln->len);
		if (!hit) {
			test_fail(__FILE__, __LINE__, "line %u changed or moved: %.*s", k,
				  (int)ln->len - 2, m->buf + ln->off);
			err = -EINVAL;
			goto out;
		}
		pos = hit + ln->len;
	}
out:
	pfx_reset(&f);
	return err;
}

/* Removing one value of a two-value line keeps the other; removing both drops the line. */
TEST(test_sip_print_remove_values)
{
	struct pfx f;
	struct sip_edit e;
	const struct sip_hdr *v1, *v2;
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	v1 = nth(f.req, SIP_HDR_VIA, 1);
	v2 = nth(f.req, SIP_HDR_VIA, 2);
	TEST_ASSERT(v1 && v2 && v1->line == v2->line);

	sip_edit_init(&e, f.req, &f.a);
	TEST_ERR(sip_edit_remove(&e, v1));
	TEST_ERR(sip_edit_print(&e, &f.out));
	TEST_ERR(pfx_reparse(&f));
	TEST_EQUALS(2, sip_msg_hdr_count(f.out_msg, SIP_HDR_VIA));
	TEST_STR("client.atlanta.example.com", f.out_msg->via->host);
	TEST_STR("2001:db8::9:1", nth(f.out_msg, SIP_HDR_VIA, 1)->p.via->host);
	TEST_STR(f.req->body.p ? "v=0" : "", str_sub(&f.out_msg->body, 0, 3));
	TEST_EQUALS(f.req->body.len, f.out_msg->content_length);
	TEST_EQUALS(f.req->nlines, f.out_msg->nlines);

	mbuf_reset(&f.out);
	arena_reset(&f.b);
	sip_edit_init(&e, f.req, &f.a);
	TEST_ERR(sip_edit_remove(&e, v1));
	TEST_ERR(sip_edit_remove(&e, v2));
	TEST_ERR(sip_edit_print(&e, &f.out));
	TEST_ERR(pfx_reparse(&f));
	TEST_EQUALS(1, sip_msg_hdr_count(f.out_msg, SIP_HDR_VIA));
	TEST_EQUALS(f.req->nlines - 1, f.out_msg->nlines);
	TEST_ASSERT(!memmem(f.out.buf + f.out.pos, mbuf_left(&f.out), "Via: \r\n", 7));
out:
	pfx_reset(&f);
	return err;
}

/* An edit with no change prints the message as it came. */
TEST(test_sip_print_identity)
{
	struct pfx f;
	struct sip_edit e;
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	sip_edit_init(&e, f.req, &f.a);
	TEST_ERR(sip_edit_print(&e, &f.out));
	TEST_EQUALS(f.in_len, mbuf_left(&f.out));
	TEST_ASSERT(!memcmp(f.in, f.out.buf + f.out.pos, f.in_len));
out:
	pfx_reset(&f);
	return err;
}

/* Dropping the body: no Content-Type, Content-Length: 0. */
TEST(test_sip_print_remove_body)
{
	struct pfx f;
	struct sip_edit e;
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	sip_edit_init(&e, f.req, &f.a);
	sip_edit_set_body(&e, STR(""), STR(""));
	TEST_ERR(sip_edit_print(&e, &f.out));
	TEST_ERR(pfx_reparse(&f));
	TEST_EQUALS(0, sip_msg_hdr_count(f.out_msg, SIP_HDR_CONTENT_TYPE));
	TEST_ASSERT(f.out_msg->has_content_length);
	TEST_EQUALS(0, f.out_msg->content_length);
	TEST_EQUALS(0, f.out_msg->body.len);
	TEST_STR("sip:bob@biloxi.example.com", f.out_msg->ruri.raw);
out:
	pfx_reset(&f);
	return err;
}

/* The printer honours the output buffer's limit. */
TEST(test_sip_print_limit)
{
	struct pfx f;
	struct sip_edit e;
	int err = 0, r;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	mbuf_init(&f.out, 64);
	sip_edit_init(&e, f.req, &f.a);
	r = sip_edit_print(&e, &f.out);
	TEST_ASSERT(r == -EMSGSIZE || (r == -ENOMEM && test_oom_mode()));
out:
	pfx_reset(&f);
	return err;
}

/* ---- sip_reply_print ---------------------------------------------------- */

/* The response copies Via, From, Call-ID and CSeq exactly (RFC 3261 §8.2.6.2). */
static int check_reply_copies(const struct sip_msg *req, const struct sip_msg *rsp)
{
	int err = 0;
	unsigned n = sip_msg_hdr_count(req, SIP_HDR_VIA);

	TEST_ASSERT(!rsp->is_request);
	TEST_EQUALS(n, sip_msg_hdr_count(rsp, SIP_HDR_VIA));
	for (unsigned k = 0; k < n; k++)
		TEST_ASSERT(
		    str_eq(&nth(req, SIP_HDR_VIA, k)->value, &nth(rsp, SIP_HDR_VIA, k)->value));
	TEST_ASSERT(
	    str_eq(&sip_msg_hdr(req, SIP_HDR_FROM)->value, &sip_msg_hdr(rsp, SIP_HDR_FROM)->value));
	TEST_ASSERT(str_eq(&req->from->tag, &rsp->from->tag));
	TEST_ASSERT(str_eq(&req->to->uri.raw, &rsp->to->uri.raw));
	TEST_ASSERT(str_eq(&req->call_id, &rsp->call_id));
	TEST_EQUALS(req->cseq.seq, rsp->cseq.seq);
	TEST_EQUALS(req->cseq.method, rsp->cseq.method);
	TEST_ASSERT(str_eq(&req->cseq.method_str, &rsp->cseq.method_str));
	TEST_ASSERT(rsp->has_content_length);
	TEST_EQUALS(rsp->body.len, rsp->content_length);
out:
	return err;
}

TEST(test_sip_reply_200)
{
	struct pfx f;
	struct sip_reply r = {.status = 200, .to_tag = STR("8321234356")};
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	TEST_ERR(sip_reply_print(&f.out, f.req, &r));
	TEST_ASSERT(crlf_only(mbuf_str(&f.out)));
	TEST_ERR(pfx_reparse(&f));
	TEST_STR("SIP/2.0 200 OK", f.out_msg->start_line);
	TEST_EQUALS(200, f.out_msg->status);
	TEST_ERR(check_reply_copies(f.req, f.out_msg));
	TEST_STR("8321234356", f.out_msg->to->tag);
	TEST_STR("Bob", f.out_msg->to->display);
	TEST_EQUALS(0, f.out_msg->content_length);
	TEST_EQUALS(0, sip_msg_hdr_count(f.out_msg, SIP_HDR_CONTENT_TYPE));
	/* Nothing else from the request leaks into the response. */
	TEST_EQUALS(0, sip_msg_hdr_count(f.out_msg, SIP_HDR_ROUTE));
	TEST_EQUALS(0, sip_msg_hdr_count(f.out_msg, SIP_HDR_MAX_FORWARDS));
	TEST_EQUALS(0, sip_msg_hdr_count(f.out_msg, SIP_HDR_OTHER));
out:
	pfx_reset(&f);
	return err;
}

TEST(test_sip_reply_100)
{
	struct pfx f;
	struct sip_reply r = {.status = 100};
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	TEST_ERR(sip_reply_print(&f.out, f.req, &r));
	TEST_ERR(pfx_reparse(&f));
	TEST_STR("SIP/2.0 100 Trying", f.out_msg->start_line);
	TEST_ERR(check_reply_copies(f.req, f.out_msg));
	/* RFC 3261 §8.2.6.2: no tag in a 100 (none given here). */
	TEST_STR("", f.out_msg->to->tag);
	TEST_ASSERT(str_eq(&sip_msg_hdr(f.req, SIP_HDR_TO)->value,
			   &sip_msg_hdr(f.out_msg, SIP_HDR_TO)->value));
out:
	pfx_reset(&f);
	return err;
}

/* A request already in a dialog keeps its To tag; ours is not added. */
TEST(test_sip_reply_keeps_tag)
{
	static const char bye[] =
	    "BYE sip:alice@client.atlanta.example.com SIP/2.0" CRLF
	    "Via: SIP/2.0/TCP 192.0.2.4;branch=z9hG4bKnashds10" CRLF "Via: SIP/2.0/UDP "
	    "[2001:db8::1]:5070;branch=z9hG4bK9;rport=5071;received=2001:db8::2" CRLF
	    "Max-Forwards: 70" CRLF "From: Bob <sip:bob@biloxi.example.com>;tag=8321234356" CRLF
	    "To: \"Alice, A.\" <sip:alice@atlanta.example.com>;tag=9fxced76sl" CRLF
	    "Call-ID: 3848276298220188511@atlanta.example.com" CRLF "CSeq: 1 BYE" CRLF
	    "Content-Length: 0" CRLF CRLF;
	struct pfx f;
	struct sip_reply r = {.status = 481, .to_tag = STR("other")};
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, NULL, bye));
	TEST_ERR(sip_reply_print(&f.out, f.req, &r));
	TEST_ERR(pfx_reparse(&f));
	TEST_EQUALS(481, f.out_msg->status);
	TEST_STR(sip_reason_phrase(481), f.out_msg->reason);
	TEST_ERR(check_reply_copies(f.req, f.out_msg));
	TEST_STR("9fxced76sl", f.out_msg->to->tag);
	TEST_STR("Alice, A.", f.out_msg->to->display);
	TEST_ASSERT(!memmem(f.out.buf + f.out.pos, mbuf_left(&f.out), "other", 5));
	TEST_EQUALS(SIP_METHOD_BYE, f.out_msg->cseq.method);
out:
	pfx_reset(&f);
	return err;
}

TEST(test_sip_reply_headers_body)
{
	static const char sdp[] = "v=0\r\no=bob 1 1 IN IP4 192.0.2.4\r\ns=-\r\nc=IN IP4 "
				  "192.0.2.4\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\n";
	struct pfx f;
	struct sip_reply r = {
	    .status = 183,
	    .reason = STR("Session Progress, early"),
	    .to_tag = STR("a6c85cf"),
	    .headers = STR("Contact: <sip:bob@192.0.2.4>" CRLF "Allow: INVITE, ACK, BYE" CRLF
			   "Require: 100rel" CRLF "RSeq: 1" CRLF),
	    .content_type = STR("application/sdp"),
	    .body = STR(sdp),
	};
	int err = 0;

	pfx_init(&f);
	TEST_ERR(pfx_parse_req(&f, "invite.sip", NULL));
	TEST_ERR(sip_reply_print(&f.out, f.req, &r));
	TEST_ASSERT(crlf_only(mbuf_str(&f.out)));
	TEST_ERR(pfx_reparse(&f));
	TEST_STR("SIP/2.0 183 Session Progress, early", f.out_msg->start_line);
	TEST_STR("Session Progress, early", f.out_msg->reason);
	TEST_ERR(check_reply_copies(f.req, f.out_msg));
	TEST_STR("a6c85cf", f.out_msg->to->tag);
	TEST_STR("192.0.2.4", sip_msg_hdr(f.out_msg, SIP_HDR_CONTACT)->p.addr->uri.host);
	TEST_ASSERT(sip_msg_has_token(f.out_msg, SIP_HDR_ALLOW, "BYE"));
	TEST_STR("100rel", sip_msg_hdr(f.out_msg, SIP_HDR_REQUIRE)->value);
	TEST_STR("1", sip_msg_hdr_by_name(f.out_msg, &STR("RSeq"))->value);
	TEST_STR("application/sdp", f.out_msg->content_type);
	TEST_EQUALS(sizeof(sdp) - 1, f.out_msg->content_length);
	TEST_STR(sdp, f.out_msg->body);
out:
	pfx_reset(&f);
	return err;
}

/* Replies to a REGISTER with an IPv6 and compact-form request still parse. */
TEST(test_sip_reply_compact_request)
{
	static const char *const files[] = {"compact.sip", "ipv6.sip", "wsinv.sip",
					    "register_auth.sip"};
	struct pfx f;
	struct sip_reply r = {.status = 486, .to_tag = STR("t1")};
	int err = 0;

	pfx_init(&f);
	for (unsigned k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
		pfx_reset(&f);
		pfx_init(&f);
		TEST_ERR(pfx_parse_req(&f, files[k], NULL));
		TEST_ERR(sip_reply_print(&f.out, f.req, &r));
		TEST_ERR(pfx_reparse(&f));
		TEST_STR("SIP/2.0 486 Busy Here", f.out_msg->start_line);
		TEST_ERR(check_reply_copies(f.req, f.out_msg));
		if (f.req->to->tag.len)
			TEST_ASSERT(str_eq(&f.req->to->tag, &f.out_msg->to->tag));
		else
			TEST_STR("t1", f.out_msg->to->tag);
	}
out:
	pfx_reset(&f);
	return err;
}

/*
 * Regression (found by fuzz_sip_msg): a To display name holding a raw NUL as
 * a quoted-pair (legal, RFC 4475 intmeth) was cut at the NUL by "%.*s" when
 * the reply added its tag, so the reply did not parse.
 */
TEST(test_sip_reply_to_with_nul)
{
	struct pfx f;
	struct sip_reply r = {.status = 200, .to_tag = STR("t1")};
	int err;

	pfx_init(&f);
	err = pfx_parse_req(&f, "fuzz-crash-reply-to-nul.sip", NULL);
	TEST_ERR(err);
	TEST_ASSERT(memchr(f.req->to->display.p, '\0', f.req->to->display.len) != NULL);
	TEST_ERR(sip_reply_print(&f.out, f.req, &r));
	TEST_ERR(pfx_reparse(&f));
	TEST_ASSERT(str_eq(&f.out_msg->to->display, &f.req->to->display));
	TEST_STR("t1", f.out_msg->to->tag);
out:
	pfx_reset(&f);
	return err;
}

/* A request that did not parse still gets a routable stateless answer. */
TEST(test_sip_reply_print_raw)
{
	static const char bad[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
				  "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKraw\n"
				  "Max-Forwards: 70\r\n"
				  "f: <sip:a@example.com>;tag=1\r\n"
				  "To: <sip:bob@example.com>\r\n"
				  "Call-ID: raw1\r\n"
				  "CSeq: 99999999999 INVITE\r\n"
				  "\r\n";
	static const char expect[] = "SIP/2.0 400 Bad Request (CSeq: out of range)\r\n"
				     "v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKraw\r\n"
				     "f: <sip:a@example.com>;tag=1\r\n"
				     "To: <sip:bob@example.com>\r\n"
				     "Call-ID: raw1\r\n"
				     "CSeq: 99999999999 INVITE\r\n"
				     "Content-Length: 0\r\n\r\n";
	struct mbuf out;
	int err = 0;

	mbuf_init(&out, 0);
	TEST_ERR(sip_reply_print_raw(&out, bad, sizeof(bad) - 1, 400,
				     STR("Bad Request (CSeq: out of range)")));
	TEST_STR(expect, mbuf_str(&out));
	/* Never answer a response, nor what cannot be routed (no Via). */
	out.end = 0;
	TEST_EQUALS(-EINVAL, sip_reply_print_raw(&out, "SIP/2.0 200 OK\r\nVia: x\r\n\r\n", 26, 400,
						 STR("Bad Request")));
	TEST_EQUALS(-EINVAL,
		    sip_reply_print_raw(&out, "OPTIONS sip:x SIP/2.0\r\nCall-ID: 1\r\n\r\n", 37,
					400, STR("Bad Request")));
	TEST_EQUALS(0, out.end);
out:
	mbuf_reset(&out);
	return err;
}

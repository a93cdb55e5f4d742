/*
 * fuzz_sip_msg: libFuzzer target for the SIP message parser and printer.
 *
 * Input: byte 0 is a control byte, the rest is the message. Bit 0 of the
 * control byte selects SIP_PARSE_DGRAM; the other bits choose the reply
 * (status, extra headers, body, reason) and the edits. Seeds in
 * fuzz/corpus/fuzz_sip_msg/ start with '0' (stream) or '1' (datagram).
 *
 * Each run parses, walks everything the parsed form offers (headers, lists,
 * params, URIs, unescaping) checking the contracts of sip_msg.h, checks that
 * sip_frame() agrees on the length of a stream-mode message, then for a
 * parsed message prints a reply and an edited copy and parses both again:
 * what our printer writes must always parse, so a failure there aborts.
 * It checks behaviour only; it never judges which messages should parse.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/mbuf.h"
#include "fuzz.h"
#include "sip/sip_frame.h"
#include "sip/sip_msg.h"
#include "sip/sip_print.h"

#define ARENA_BUF 32768

static const unsigned reply_status[8] = {100, 180, 200, 202, 401, 486, 503, 699};

static void check_uri(const struct sip_uri *u, const char *buf, size_t len, struct arena *a)
{
	static const char *const names[] = {"transport", "lr", "user", "maddr", "ttl", "method"};
	struct str out, val;
	int err;

	fuzz_view(&u->raw, buf, len);
	fuzz_view(&u->scheme_str, buf, len);
	fuzz_view(&u->user, buf, len);
	fuzz_view(&u->password, buf, len);
	fuzz_view(&u->host, buf, len);
	fuzz_view(&u->params, buf, len);
	fuzz_view(&u->headers, buf, len);
	FUZZ_CHECK(u->scheme <= SIP_URI_OTHER);
	FUZZ_CHECK(u->host_type <= SIP_HOST_IPV6);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (sip_param_get(&u->params, names[i], &val))
			fuzz_view(&val, u->params.p, u->params.len);
	}

	/* sip_uri.h: escapes in a parsed SIP URI were validated, so they decode. */
	err = sip_uri_unescape(a, &u->user, &out);
	if (u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS)
		FUZZ_CHECK(err == 0 || err == -ENOMEM);
	if (!err) {
		FUZZ_CHECK(out.len <= u->user.len);
		FUZZ_CHECK(out.p != NULL && out.p[out.len] == '\0');
		fuzz_touch(&out);
	}
	err = sip_uri_unescape(a, &u->password, &out);
	if (u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS)
		FUZZ_CHECK(err == 0 || err == -ENOMEM);
	(void)sip_uri_unescape(a, &u->params, &out);
	(void)sip_uri_unescape(a, &u->headers, &out);
}

static void check_addr(const struct sip_addr *ad, const char *buf, size_t len, struct arena *a)
{
	struct str val;

	fuzz_view(&ad->display, buf, len);
	fuzz_view(&ad->params, buf, len);
	fuzz_view(&ad->tag, buf, len);
	if (!ad->star)
		check_uri(&ad->uri, buf, len, a);
	FUZZ_CHECK(!ad->has_q || ad->q <= 1000);
	if (sip_param_get(&ad->params, "tag", &val))
		fuzz_view(&val, ad->params.p, ad->params.len);
	if (sip_param_get(&ad->params, "expires", &val))
		fuzz_view(&val, ad->params.p, ad->params.len);
	if (sip_param_get(&ad->params, "+sip.instance", &val))
		fuzz_view(&val, ad->params.p, ad->params.len);
}

static void check_via(const struct sip_via *v, const char *buf, size_t len)
{
	struct str val;

	fuzz_view(&v->proto, buf, len);
	fuzz_view(&v->transport, buf, len);
	fuzz_view(&v->host, buf, len);
	fuzz_view(&v->params, buf, len);
	fuzz_view(&v->branch, buf, len);
	fuzz_view(&v->received, buf, len);
	fuzz_view(&v->maddr, buf, len);
	FUZZ_CHECK(v->transport_id <= SIP_TRANSPORT_WSS);
	FUZZ_CHECK(v->host_type <= SIP_HOST_IPV6);
	if (sip_param_get(&v->params, "branch", &val))
		fuzz_view(&val, v->params.p, v->params.len);
	if (sip_param_get(&v->params, "rport", &val))
		fuzz_view(&val, v->params.p, v->params.len);
}

static void check_auth(const struct sip_auth *au, const char *buf, size_t len)
{
	const struct str *views[] = {
	    &au->scheme,    &au->params, &au->realm,	&au->nonce, &au->opaque,
	    &au->algorithm, &au->qop,	 &au->username, &au->uri,   &au->response,
	    &au->cnonce,    &au->nc,	 &au->domain,	&au->stale,
	};

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++)
		fuzz_view(views[i], buf, len);
	FUZZ_CHECK(au->alg <= SIP_AUTH_ALG_OTHER);
}

/* Walk every part of a parsed message and check the contracts of sip_msg.h. */
static void check_msg(const struct sip_msg *msg, const char *buf, size_t len, unsigned flags,
		      struct arena *a)
{
	FUZZ_CHECK(msg->buf == buf);
	FUZZ_CHECK(msg->len <= len);
	if (!(flags & SIP_PARSE_DGRAM)) {
		FUZZ_CHECK(msg->len == len);
		FUZZ_CHECK(msg->has_content_length);
	}
	len = msg->len; /* in a datagram, nothing past the message may be referenced */

	fuzz_view(&msg->start_line, buf, len);
	fuzz_view(&msg->call_id, buf, len);
	fuzz_view(&msg->cseq.method_str, buf, len);
	fuzz_view(&msg->content_type, buf, len);
	FUZZ_CHECK(msg->body_off <= len);
	fuzz_view(&msg->body, buf, len);
	FUZZ_CHECK(msg->body_off + msg->body.len == len);
	if (msg->has_content_length)
		FUZZ_CHECK(msg->content_length == msg->body.len);
	if (msg->is_request) {
		fuzz_view(&msg->method_str, buf, len);
		FUZZ_CHECK(sip_method_from_str(&msg->method_str) == msg->method);
		check_uri(&msg->ruri, buf, len, a);
	} else {
		fuzz_view(&msg->reason, buf, len);
		(void)sip_reason_phrase(msg->status);
	}
	if (msg->method != SIP_METHOD_OTHER)
		FUZZ_CHECK(sip_method_name(msg->method) != NULL);
	if (msg->from)
		check_addr(msg->from, buf, len, a);
	if (msg->to)
		check_addr(msg->to, buf, len, a);

	for (uint32_t i = 0; i < msg->nhdrs; i++) {
		const struct sip_hdr *h = &msg->hdrs[i];
		const struct sip_hdr *byname;

		FUZZ_CHECK((unsigned)h->id < SIP_HDR__COUNT);
		fuzz_view(&h->name, buf, len);
		fuzz_view(&h->value, buf, len);
		FUZZ_CHECK(h->line < msg->nlines);
		FUZZ_CHECK(h->next == -1 ||
			   (h->next > (int32_t)i && (uint32_t)h->next < msg->nhdrs));
		if (h->next != -1)
			FUZZ_CHECK(msg->hdrs[h->next].id == h->id);
		FUZZ_CHECK(sip_hdr_id_from_name(&h->name) == h->id);
		byname = sip_msg_hdr_by_name(msg, &h->name);
		FUZZ_CHECK(byname != NULL && byname->id == h->id && byname <= h);

		switch (h->id) {
		case SIP_HDR_VIA:
			FUZZ_CHECK(h->p.via != NULL);
			check_via(h->p.via, buf, len);
			break;
		case SIP_HDR_FROM:
		case SIP_HDR_TO:
		case SIP_HDR_CONTACT:
		case SIP_HDR_ROUTE:
		case SIP_HDR_RECORD_ROUTE:
			FUZZ_CHECK(h->p.addr != NULL);
			check_addr(h->p.addr, buf, len, a);
			break;
		case SIP_HDR_PATH:
		case SIP_HDR_REFER_TO:
			if (h->p.addr)
				check_addr(h->p.addr, buf, len, a);
			break;
		case SIP_HDR_AUTHORIZATION:
		case SIP_HDR_PROXY_AUTHORIZATION:
		case SIP_HDR_WWW_AUTHENTICATE:
		case SIP_HDR_PROXY_AUTHENTICATE:
			FUZZ_CHECK(h->p.auth != NULL);
			check_auth(h->p.auth, buf, len);
			break;
		case SIP_HDR_CONTENT_ENCODING:
		case SIP_HDR_ALLOW:
		case SIP_HDR_SUPPORTED:
		case SIP_HDR_REQUIRE:
		case SIP_HDR_PROXY_REQUIRE:
		case SIP_HDR_UNSUPPORTED: {
			/* A validated token list: every item is a token inside the value. */
			struct str item;
			size_t pos = 0, n = 0;

			while (sip_list_next(&h->value, &pos, &item)) {
				fuzz_view(&item, buf, len);
				FUZZ_CHECK(item.p >= h->value.p &&
					   item.p + item.len <= h->value.p + h->value.len);
				if (item.len < 64) {
					char tok[64];

					str_copy_cstr(tok, sizeof(tok), &item);
					FUZZ_CHECK(sip_msg_has_token(msg, h->id, tok));
				}
				n++;
			}
			FUZZ_CHECK(pos <= h->value.len);
			FUZZ_CHECK(n > 0 || h->value.len == 0);
			break;
		}
		case SIP_HDR_OTHER:
		case SIP_HDR_CALL_ID:
		case SIP_HDR_CSEQ:
		case SIP_HDR_MAX_FORWARDS:
		case SIP_HDR_CONTENT_LENGTH:
		case SIP_HDR_CONTENT_TYPE:
		case SIP_HDR_EXPIRES:
		case SIP_HDR_MIN_EXPIRES:
		case SIP_HDR_DATE:
		case SIP_HDR_SUBJECT:
		case SIP_HDR_USER_AGENT:
		case SIP_HDR_SERVER:
		case SIP_HDR_ACCEPT:
		case SIP_HDR_EVENT:
		case SIP_HDR_RETRY_AFTER:
		case SIP_HDR__COUNT:
			break;
		}
	}

	for (uint32_t i = 0; i < msg->nlines; i++) {
		const struct sip_line *l = &msg->lines[i];

		FUZZ_CHECK(l->off <= len && l->len <= len - l->off);
		FUZZ_CHECK(l->first_hdr <= msg->nhdrs && l->nhdrs <= msg->nhdrs - l->first_hdr);
		for (uint32_t k = 0; k < l->nhdrs; k++)
			FUZZ_CHECK(msg->hdrs[l->first_hdr + k].line == i);
	}

	for (int id = 0; id < SIP_HDR__COUNT; id++) {
		const struct sip_hdr *h = sip_msg_hdr(msg, (enum sip_hdr_id)id);
		unsigned n = 0;

		if (msg->first[id] == -1) {
			FUZZ_CHECK(h == NULL);
		} else {
			FUZZ_CHECK(msg->first[id] >= 0 && (uint32_t)msg->first[id] < msg->nhdrs);
			FUZZ_CHECK(h == &msg->hdrs[msg->first[id]]);
		}
		for (; h; h = sip_hdr_next(msg, h)) {
			FUZZ_CHECK(h->id == (enum sip_hdr_id)id);
			FUZZ_CHECK(++n <= msg->nhdrs);
		}
		if (id != SIP_HDR_OTHER) {
			const char *name = sip_hdr_name((enum sip_hdr_id)id);
			struct str s = str_cstr(name);

			FUZZ_CHECK(name != NULL);
			FUZZ_CHECK(sip_hdr_id_from_name(&s) == (enum sip_hdr_id)id);
			FUZZ_CHECK(n == sip_msg_hdr_count(msg, (enum sip_hdr_id)id));
		}
	}
	if (msg->via)
		FUZZ_CHECK(msg->first[SIP_HDR_VIA] >= 0 &&
			   msg->via == msg->hdrs[msg->first[SIP_HDR_VIA]].p.via);
}

/*
 * sip_msg.h: in stream mode the buffer is exactly one framed message. So a
 * message parsed that way is one the framer cuts at the same place (after
 * any leading keep-alive CRLFs); if they disagree, a peer can hide a second
 * message in a body.
 */
static void check_framing(const char *buf, size_t len)
{
	struct sip_perr perr = {0};
	size_t off = 0, used = 0;
	int r;

	while ((r = sip_frame(buf + off, len - off, NULL, &used, &perr)) == SIP_FRAME_KEEPALIVE) {
		FUZZ_CHECK(used > 0 && used <= len - off);
		off += used;
	}
	if (r != SIP_FRAME_MSG || used != len - off) {
		fprintf(stderr,
			"fuzz: parsed as one framed message of %zu bytes, but sip_frame "
			"says %d, %zu bytes at %zu (%s)\n",
			len, r, used, off, r < 0 && perr.reason ? perr.reason : "-");
		abort();
	}
}

/* Parse what our printer wrote; it must parse (with @ok_err also allowed). */
static const struct sip_msg *reparse(struct arena *a, char **copy, const struct mbuf *out,
				     const char *what, int ok_err)
{
	struct str s = mbuf_str(out);
	struct sip_msg *m = NULL;
	struct sip_perr perr = {0};
	int err;

	*copy = fuzz_dup(s.p, s.len);
	err = sip_msg_parse(&m, a, *copy, s.len, 0, NULL, &perr);
	if (err && err != ok_err) {
		fprintf(stderr, "fuzz: %s does not parse: %d at %zu (%.*s): %s\n---\n%.*s\n---\n",
			what, err, perr.offset, STR_FMT(&perr.hdr), perr.reason ? perr.reason : "?",
			STR_FMT(&s));
		abort();
	}
	if (!err) {
		check_msg(m, *copy, s.len, 0, a);
		check_framing(*copy, s.len);
	}
	return err ? NULL : m;
}

static bool tag_of(const struct sip_msg *m, struct str *tag)
{
	if (!m->to || !str_isset(&m->to->tag))
		return false;
	*tag = m->to->tag;
	return true;
}

static void fuzz_reply(const struct sip_msg *req, unsigned ctl)
{
	alignas(max_align_t) char abuf[ARENA_BUF];
	struct sip_reply r = {0};
	const struct sip_msg *rep;
	struct arena a;
	struct mbuf out;
	struct str tag, rtag;
	char *copy = NULL;
	int err;

	r.status = reply_status[(ctl >> 1) & 7];
	r.to_tag = STR("fz7a9c");
	if (ctl & 0x10)
		r.headers = STR("Allow: INVITE, ACK, BYE\r\nX-Fuzz: reply\r\n");
	if (ctl & 0x20) {
		r.content_type = STR("text/plain");
		r.body = STR("fuzz\r\nbody");
	}
	if (ctl & 0x40)
		r.reason = STR("Fuzzy Reason");

	arena_init(&a, abuf, sizeof(abuf), 0);
	mbuf_init(&out, 0);
	err = sip_reply_print(&out, req, &r);
	FUZZ_CHECK(err == 0);
	rep = reparse(&a, &copy, &out, "sip_reply_print output", 0);

	FUZZ_CHECK(!rep->is_request);
	FUZZ_CHECK(rep->status == r.status);
	FUZZ_CHECK(str_eq(&rep->call_id, &req->call_id));
	FUZZ_CHECK(rep->cseq.seq == req->cseq.seq);
	FUZZ_CHECK(rep->cseq.method == req->cseq.method);
	FUZZ_CHECK(sip_msg_hdr_count(rep, SIP_HDR_VIA) == sip_msg_hdr_count(req, SIP_HDR_VIA));
	FUZZ_CHECK(rep->body.len == r.body.len);
	if (tag_of(req, &tag))
		FUZZ_CHECK(tag_of(rep, &rtag) && str_eq(&tag, &rtag));
	else if (r.status > 100)
		FUZZ_CHECK(tag_of(rep, &rtag) && str_eq(&rtag, &r.to_tag));

	free(copy);
	mbuf_reset(&out);
	arena_reset(&a);
}

/*
 * Edits a proxy makes (a Via, a header, Max-Forwards, a removed value, a new
 * Request-URI and body), chosen by @ctl. They keep the message well-formed,
 * so the result must parse (or exceed the header limit) and show them.
 */
static void fuzz_edit(const struct sip_msg *msg, unsigned ctl, struct arena *a)
{
	alignas(max_align_t) char abuf[ARENA_BUF];
	static const struct str new_body = STR("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n");
	const struct sip_hdr *h;
	const struct sip_msg *m;
	struct sip_edit e;
	struct arena a2;
	struct mbuf out;
	char *copy = NULL;
	unsigned vias = sip_msg_hdr_count(msg, SIP_HDR_VIA);
	unsigned supported = sip_msg_hdr_count(msg, SIP_HDR_SUPPORTED);
	bool new_via = msg->is_request, drop_via = !msg->is_request && vias >= 2;
	bool mf = sip_msg_hdr_count(msg, SIP_HDR_MAX_FORWARDS) == 1;
	bool set_body = ctl & 0x80, set_ruri = (ctl & 0x40) && msg->is_request;
	int err;

	sip_edit_init(&e, msg, a);
	if (new_via)
		FUZZ_CHECK(
		    !sip_edit_prepend(&e, SIP_HDR_VIA, STR("Via"),
				      STR("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKfuzz;rport")));
	if (drop_via)
		FUZZ_CHECK(!sip_edit_remove(&e, sip_msg_hdr(msg, SIP_HDR_VIA)));
	if (mf)
		FUZZ_CHECK(
		    !sip_edit_replace(&e, sip_msg_hdr(msg, SIP_HDR_MAX_FORWARDS), STR("69")));
	if (supported)
		FUZZ_CHECK(!sip_edit_remove(&e, sip_msg_hdr(msg, SIP_HDR_SUPPORTED)));
	/* Either drop the first unknown header or insert above it (or at the end). */
	h = sip_msg_hdr(msg, SIP_HDR_OTHER);
	if (h && (ctl & 0x08)) {
		FUZZ_CHECK(!sip_edit_remove(&e, h));
		h = NULL;
	}
	FUZZ_CHECK(!sip_edit_insert(&e, (ctl & 0x04) ? h : NULL, STR("X-Fuzz"), STR("edited")));
	if (set_ruri)
		sip_edit_set_ruri(&e, STR("sip:edited@example.com;transport=tcp"));
	if (set_body)
		sip_edit_set_body(&e, STR("application/sdp"), new_body);

	mbuf_init(&out, 0);
	err = sip_edit_print(&e, &out);
	FUZZ_CHECK(err == 0);

	/* The edit adds up to two header values: past max_hdrs is a fair refusal. */
	arena_init(&a2, abuf, sizeof(abuf), 0);
	m = reparse(&a2, &copy, &out, "sip_edit_print output", -EMSGSIZE);
	if (m) {
		FUZZ_CHECK(m->is_request == msg->is_request);
		FUZZ_CHECK(str_eq(&m->call_id, &msg->call_id));
		FUZZ_CHECK(sip_msg_hdr_count(m, SIP_HDR_VIA) == vias + new_via - drop_via);
		if (supported)
			FUZZ_CHECK(sip_msg_hdr_count(m, SIP_HDR_SUPPORTED) == supported - 1);
		if (mf)
			FUZZ_CHECK(m->has_max_forwards && m->max_forwards == 69);
		if (set_ruri)
			FUZZ_CHECK(
			    str_eq(&m->ruri.raw, &STR("sip:edited@example.com;transport=tcp")));
		else if (msg->is_request)
			FUZZ_CHECK(str_eq(&m->ruri.raw, &msg->ruri.raw));
		FUZZ_CHECK(str_eq(&m->body, set_body ? &new_body : &msg->body));
		FUZZ_CHECK(sip_msg_hdr_by_name(m, &STR("x-fuzz")) != NULL);
	}
	free(copy);
	mbuf_reset(&out);
	arena_reset(&a2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alignas(max_align_t) char abuf[ARENA_BUF];
	struct sip_msg *msg = NULL;
	struct sip_perr perr = {0};
	struct arena a;
	const char *buf;
	unsigned ctl, flags;
	size_t len;
	int err;

	if (size < 1)
		return 0;
	ctl = data[0];
	flags = (ctl & 1) ? SIP_PARSE_DGRAM : 0;
	buf = (const char *)data + 1;
	len = size - 1;

	arena_init(&a, abuf, sizeof(abuf), 0);
	err = sip_msg_parse(&msg, &a, buf, len, flags, NULL, &perr);
	if (err) {
		FUZZ_CHECK(err == -EBADMSG || err == -EMSGSIZE || err == -EPROTONOSUPPORT ||
			   err == -ENOMEM);
		FUZZ_CHECK(msg == NULL); /* STYLE.md 4: out-parameters only on success */
		FUZZ_CHECK(perr.reason != NULL);
		FUZZ_CHECK(perr.offset <= len);
		fuzz_touch(&perr.hdr);
		{
			/* The transport's stateless answer to what did not parse. */
			struct mbuf out;
			int r;

			mbuf_init(&out, 65535);
			r = sip_reply_print_raw(&out, buf, len, 400, STR("Bad Request (fuzz)"));
			FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM || r == -EMSGSIZE);
			FUZZ_CHECK(r != 0 ||
				   (out.end > 12 && !memcmp(out.buf, "SIP/2.0 400 ", 12)));
			FUZZ_CHECK(r == 0 || out.end == 0);
			mbuf_reset(&out);
		}
	} else {
		FUZZ_CHECK(msg != NULL);
		check_msg(msg, buf, len, flags, &a);
		if (!(flags & SIP_PARSE_DGRAM))
			check_framing(buf, len);
		if (msg->is_request && msg->method != SIP_METHOD_ACK)
			fuzz_reply(msg, ctl);
		fuzz_edit(msg, ctl, &a);
	}
	arena_reset(&a);
	return 0;
}

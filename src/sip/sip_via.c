/*
 * sip_via: one Via value (RFC 3261 §20.42 and §25.1, RFC 3581 rport,
 * RFC 5118 §4.5 received with or without IPv6 brackets).
 *
 *   via-parm = sent-protocol LWS sent-by *( SEMI via-params )
 */
#include "sip/sip_internal.h"

static enum sip_transport transport_id(const struct str *t)
{
	if (lower_eq_lit(t, "udp"))
		return SIP_TRANSPORT_UDP;
	if (lower_eq_lit(t, "tcp"))
		return SIP_TRANSPORT_TCP;
	if (lower_eq_lit(t, "tls"))
		return SIP_TRANSPORT_TLS;
	if (lower_eq_lit(t, "sctp"))
		return SIP_TRANSPORT_SCTP;
	if (lower_eq_lit(t, "ws"))
		return SIP_TRANSPORT_WS;
	if (lower_eq_lit(t, "wss"))
		return SIP_TRANSPORT_WSS;
	return SIP_TRANSPORT_OTHER;
}

static const char *via_param(struct str name, struct str val, bool quoted, void *arg)
{
	struct sip_via *v = arg;
	uint32_t n;

	switch (name.len) {
	case 3:
		if (lower_eq_lit(&name, "ttl")) {
			if (quoted || str_to_u32(&val, &n) || n > 255)
				return "bad Via ttl";
			v->has_ttl = true;
			v->ttl = (uint8_t)n;
		}
		break;
	case 5:
		if (lower_eq_lit(&name, "rport")) {
			v->has_rport = true;
			if (val.len) {
				if (quoted || str_to_u32(&val, &n) || n > 65535)
					return "bad Via rport";
				v->rport = (uint16_t)n;
			}
		} else if (lower_eq_lit(&name, "maddr")) {
			if (!val.len)
				return "bad Via maddr";
			v->maddr = val;
		}
		break;
	case 6:
		if (lower_eq_lit(&name, "branch")) {
			if (!val.len || quoted)
				return "bad Via branch";
			v->branch = val;
		}
		break;
	case 8:
		if (lower_eq_lit(&name, "received")) {
			/* IPv4 or IPv6, bracketed or not (RFC 5118 §4.5 asks for both). */
			if (val.len >= 2 && val.p[0] == '[' && val.p[val.len - 1] == ']')
				val = str_make(val.p + 1, val.len - 2);
			if (!val.len || quoted)
				return "bad Via received";
			v->received = val;
		}
		break;
	default:
		break;
	}
	return NULL;
}

const char *sip_via_parse(struct sip_via *out, struct str value)
{
	struct lex l = lex_of(value);
	struct str name, ver;
	const char *proto_start = l.p, *why;
	struct sip_via *v = out;

	memset(v, 0, sizeof(*v));
	/* sent-protocol = protocol-name SLASH protocol-version SLASH transport,
	 * SLASH = SWS "/" SWS (RFC 4475 §3.1.1.1 folds around every slash). */
	name = lex_span(&l, CC_TOKEN);
	if (!name.len || !lex_sep(&l, '/'))
		return "bad Via protocol";
	ver = lex_span(&l, CC_TOKEN);
	if (!ver.len || !lex_sep(&l, '/'))
		return "bad Via protocol";
	v->transport = lex_span(&l, CC_TOKEN);
	if (!v->transport.len)
		return "bad Via transport";
	v->proto = str_make(proto_start, (size_t)(l.p - proto_start));
	v->transport_id = transport_id(&v->transport);
	if (!lex_sws(&l))
		return "no space after Via protocol";
	why = sip_host_parse(&l, &v->host, &v->host_type);
	if (why)
		return why;
	if (lex_sep(&l, ':')) {
		why = sip_port_parse(&l, &v->port);
		if (why)
			return why;
	}
	why = sip_params_parse(&l, &v->params, via_param, v);
	if (why)
		return why;
	lex_sws(&l);
	if (!lex_eof(&l))
		return "bad character in Via";
	return NULL;
}

/*
 * sip_hdr: names. Methods, header names (long and compact forms, RFC 3261
 * §7.3.3 and the IANA registry) and default reason phrases (§21).
 */
#include "sip/sip_internal.h"

static const char *const method_names[SIP_METHOD__COUNT] = {
    [SIP_METHOD_INVITE] = "INVITE",	[SIP_METHOD_ACK] = "ACK",
    [SIP_METHOD_BYE] = "BYE",		[SIP_METHOD_CANCEL] = "CANCEL",
    [SIP_METHOD_REGISTER] = "REGISTER", [SIP_METHOD_OPTIONS] = "OPTIONS",
    [SIP_METHOD_INFO] = "INFO",		[SIP_METHOD_PRACK] = "PRACK",
    [SIP_METHOD_UPDATE] = "UPDATE",	[SIP_METHOD_SUBSCRIBE] = "SUBSCRIBE",
    [SIP_METHOD_NOTIFY] = "NOTIFY",	[SIP_METHOD_REFER] = "REFER",
    [SIP_METHOD_MESSAGE] = "MESSAGE",	[SIP_METHOD_PUBLISH] = "PUBLISH",
};

enum sip_method sip_method_from_str(const struct str *s)
{
	/* Methods are case-sensitive (RFC 3261 §7.1). */
	for (int m = 1; m < SIP_METHOD__COUNT; m++) {
		const char *n = method_names[m];

		if (s->len == strlen(n) && memcmp(s->p, n, s->len) == 0)
			return (enum sip_method)m;
	}
	return SIP_METHOD_OTHER;
}

const char *sip_method_name(enum sip_method m)
{
	return (m > SIP_METHOD_OTHER && m < SIP_METHOD__COUNT) ? method_names[m] : NULL;
}

/* Canonical names (the lookup below is the same list, by length and letter). */
#define HDR_NAME(id, name) [id] = name,
#define SIP_HDR_NAMES(X)                                      \
	X(SIP_HDR_VIA, "Via")                                 \
	X(SIP_HDR_FROM, "From")                               \
	X(SIP_HDR_TO, "To")                                   \
	X(SIP_HDR_CALL_ID, "Call-ID")                         \
	X(SIP_HDR_CSEQ, "CSeq")                               \
	X(SIP_HDR_MAX_FORWARDS, "Max-Forwards")               \
	X(SIP_HDR_CONTACT, "Contact")                         \
	X(SIP_HDR_ROUTE, "Route")                             \
	X(SIP_HDR_RECORD_ROUTE, "Record-Route")               \
	X(SIP_HDR_PATH, "Path")                               \
	X(SIP_HDR_CONTENT_LENGTH, "Content-Length")           \
	X(SIP_HDR_CONTENT_TYPE, "Content-Type")               \
	X(SIP_HDR_CONTENT_ENCODING, "Content-Encoding")       \
	X(SIP_HDR_EXPIRES, "Expires")                         \
	X(SIP_HDR_MIN_EXPIRES, "Min-Expires")                 \
	X(SIP_HDR_AUTHORIZATION, "Authorization")             \
	X(SIP_HDR_PROXY_AUTHORIZATION, "Proxy-Authorization") \
	X(SIP_HDR_WWW_AUTHENTICATE, "WWW-Authenticate")       \
	X(SIP_HDR_PROXY_AUTHENTICATE, "Proxy-Authenticate")   \
	X(SIP_HDR_ALLOW, "Allow")                             \
	X(SIP_HDR_SUPPORTED, "Supported")                     \
	X(SIP_HDR_REQUIRE, "Require")                         \
	X(SIP_HDR_PROXY_REQUIRE, "Proxy-Require")             \
	X(SIP_HDR_UNSUPPORTED, "Unsupported")                 \
	X(SIP_HDR_DATE, "Date")                               \
	X(SIP_HDR_SUBJECT, "Subject")                         \
	X(SIP_HDR_USER_AGENT, "User-Agent")                   \
	X(SIP_HDR_SERVER, "Server")                           \
	X(SIP_HDR_ACCEPT, "Accept")                           \
	X(SIP_HDR_EVENT, "Event")                             \
	X(SIP_HDR_REFER_TO, "Refer-To")                       \
	X(SIP_HDR_RETRY_AFTER, "Retry-After")

static const char *const hdr_names[SIP_HDR__COUNT] = {SIP_HDR_NAMES(HDR_NAME)};

const char *sip_hdr_name(enum sip_hdr_id id)
{
	return (id > SIP_HDR_OTHER && id < SIP_HDR__COUNT) ? hdr_names[id] : NULL;
}

static enum sip_hdr_id compact(char c)
{
	switch (c | 0x20) {
	case 'v':
		return SIP_HDR_VIA;
	case 'f':
		return SIP_HDR_FROM;
	case 't':
		return SIP_HDR_TO;
	case 'i':
		return SIP_HDR_CALL_ID;
	case 'm':
		return SIP_HDR_CONTACT;
	case 'l':
		return SIP_HDR_CONTENT_LENGTH;
	case 'c':
		return SIP_HDR_CONTENT_TYPE;
	case 'e':
		return SIP_HDR_CONTENT_ENCODING;
	case 's':
		return SIP_HDR_SUBJECT;
	case 'k':
		return SIP_HDR_SUPPORTED;
	case 'o':
		return SIP_HDR_EVENT;
	case 'r':
		return SIP_HDR_REFER_TO;
	default:
		return SIP_HDR_OTHER;
	}
}

enum sip_hdr_id sip_hdr_id_from_name(const struct str *name)
{
	const char *n = name->p;

	if (name->len == 1)
		return compact(n[0]);
	/* Length, then first letter: at most one full comparison per name. */
	switch (name->len) {
	case 2:
		switch (n[0] | 0x20) {
		case 't':
			if (lower_eq(n, "to", 2))
				return SIP_HDR_TO;
			break;
		default:
			break;
		}
		break;
	case 3:
		switch (n[0] | 0x20) {
		case 'v':
			if (lower_eq(n, "via", 3))
				return SIP_HDR_VIA;
			break;
		default:
			break;
		}
		break;
	case 4:
		switch (n[0] | 0x20) {
		case 'c':
			if (lower_eq(n, "cseq", 4))
				return SIP_HDR_CSEQ;
			break;
		case 'd':
			if (lower_eq(n, "date", 4))
				return SIP_HDR_DATE;
			break;
		case 'f':
			if (lower_eq(n, "from", 4))
				return SIP_HDR_FROM;
			break;
		case 'p':
			if (lower_eq(n, "path", 4))
				return SIP_HDR_PATH;
			break;
		default:
			break;
		}
		break;
	case 5:
		switch (n[0] | 0x20) {
		case 'a':
			if (lower_eq(n, "allow", 5))
				return SIP_HDR_ALLOW;
			break;
		case 'e':
			if (lower_eq(n, "event", 5))
				return SIP_HDR_EVENT;
			break;
		case 'r':
			if (lower_eq(n, "route", 5))
				return SIP_HDR_ROUTE;
			break;
		default:
			break;
		}
		break;
	case 6:
		switch (n[0] | 0x20) {
		case 'a':
			if (lower_eq(n, "accept", 6))
				return SIP_HDR_ACCEPT;
			break;
		case 's':
			if (lower_eq(n, "server", 6))
				return SIP_HDR_SERVER;
			break;
		default:
			break;
		}
		break;
	case 7:
		switch (n[0] | 0x20) {
		case 'c':
			if (lower_eq(n, "call-id", 7))
				return SIP_HDR_CALL_ID;
			if (lower_eq(n, "contact", 7))
				return SIP_HDR_CONTACT;
			break;
		case 'e':
			if (lower_eq(n, "expires", 7))
				return SIP_HDR_EXPIRES;
			break;
		case 'r':
			if (lower_eq(n, "require", 7))
				return SIP_HDR_REQUIRE;
			break;
		case 's':
			if (lower_eq(n, "subject", 7))
				return SIP_HDR_SUBJECT;
			break;
		default:
			break;
		}
		break;
	case 8:
		switch (n[0] | 0x20) {
		case 'r':
			if (lower_eq(n, "refer-to", 8))
				return SIP_HDR_REFER_TO;
			break;
		default:
			break;
		}
		break;
	case 9:
		switch (n[0] | 0x20) {
		case 's':
			if (lower_eq(n, "supported", 9))
				return SIP_HDR_SUPPORTED;
			break;
		default:
			break;
		}
		break;
	case 10:
		switch (n[0] | 0x20) {
		case 'u':
			if (lower_eq(n, "user-agent", 10))
				return SIP_HDR_USER_AGENT;
			break;
		default:
			break;
		}
		break;
	case 11:
		switch (n[0] | 0x20) {
		case 'm':
			if (lower_eq(n, "min-expires", 11))
				return SIP_HDR_MIN_EXPIRES;
			break;
		case 'r':
			if (lower_eq(n, "retry-after", 11))
				return SIP_HDR_RETRY_AFTER;
			break;
		case 'u':
			if (lower_eq(n, "unsupported", 11))
				return SIP_HDR_UNSUPPORTED;
			break;
		default:
			break;
		}
		break;
	case 12:
		switch (n[0] | 0x20) {
		case 'c':
			if (lower_eq(n, "content-type", 12))
				return SIP_HDR_CONTENT_TYPE;
			break;
		case 'm':
			if (lower_eq(n, "max-forwards", 12))
				return SIP_HDR_MAX_FORWARDS;
			break;
		case 'r':
			if (lower_eq(n, "record-route", 12))
				return SIP_HDR_RECORD_ROUTE;
			break;
		default:
			break;
		}
		break;
	case 13:
		switch (n[0] | 0x20) {
		case 'a':
			if (lower_eq(n, "authorization", 13))
				return SIP_HDR_AUTHORIZATION;
			break;
		case 'p':
			if (lower_eq(n, "proxy-require", 13))
				return SIP_HDR_PROXY_REQUIRE;
			break;
		default:
			break;
		}
		break;
	case 14:
		switch (n[0] | 0x20) {
		case 'c':
			if (lower_eq(n, "content-length", 14))
				return SIP_HDR_CONTENT_LENGTH;
			break;
		default:
			break;
		}
		break;
	case 16:
		switch (n[0] | 0x20) {
		case 'c':
			if (lower_eq(n, "content-encoding", 16))
				return SIP_HDR_CONTENT_ENCODING;
			break;
		case 'w':
			if (lower_eq(n, "www-authenticate", 16))
				return SIP_HDR_WWW_AUTHENTICATE;
			break;
		default:
			break;
		}
		break;
	case 18:
		switch (n[0] | 0x20) {
		case 'p':
			if (lower_eq(n, "proxy-authenticate", 18))
				return SIP_HDR_PROXY_AUTHENTICATE;
			break;
		default:
			break;
		}
		break;
	case 19:
		switch (n[0] | 0x20) {
		case 'p':
			if (lower_eq(n, "proxy-authorization", 19))
				return SIP_HDR_PROXY_AUTHORIZATION;
			break;
		default:
			break;
		}
		break;
	default:
		break;
	}
	return SIP_HDR_OTHER;
}

const char *sip_reason_phrase(unsigned status)
{
	switch (status) {
	case 100:
		return "Trying";
	case 180:
		return "Ringing";
	case 181:
		return "Call Is Being Forwarded";
	case 182:
		return "Queued";
	case 183:
		return "Session Progress";
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 300:
		return "Multiple Choices";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Moved Temporarily";
	case 305:
		return "Use Proxy";
	case 380:
		return "Alternative Service";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 402:
		return "Payment Required";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 406:
		return "Not Acceptable";
	case 407:
		return "Proxy Authentication Required";
	case 408:
		return "Request Timeout";
	case 410:
		return "Gone";
	case 413:
		return "Request Entity Too Large";
	case 414:
		return "Request-URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 416:
		return "Unsupported URI Scheme";
	case 420:
		return "Bad Extension";
	case 421:
		return "Extension Required";
	case 423:
		return "Interval Too Brief";
	case 480:
		return "Temporarily Unavailable";
	case 481:
		return "Call/Transaction Does Not Exist";
	case 482:
		return "Loop Detected";
	case 483:
		return "Too Many Hops";
	case 484:
		return "Address Incomplete";
	case 485:
		return "Ambiguous";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 491:
		return "Request Pending";
	case 493:
		return "Undecipherable";
	case 500:
		return "Server Internal Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Server Time-out";
	case 505:
		return "Version Not Supported";
	case 513:
		return "Message Too Large";
	case 600:
		return "Busy Everywhere";
	case 603:
		return "Decline";
	case 604:
		return "Does Not Exist Anywhere";
	case 606:
		return "Not Acceptable";
	default:
		return "Unknown";
	}
}

/*
 * fuzz_sip_uri: libFuzzer target for the URI parser and the ;param helpers
 * (sip_uri.h).
 *
 * Input: byte 0 picks the context (value % 3: '0' name-addr, '1' addr-spec,
 * '2' Request-URI), the rest is the URI. It is parsed in the chosen context,
 * then its parts are looked into with sip_param_get() and unescaped; the
 * raw input also goes through sip_param_get() and sip_uri_unescape() as an
 * arbitrary parameter list and escaped string, since they take views from
 * headers the URI parser never saw.
 *
 * Checked: views stay inside the input, the out-parameters are left alone
 * on failure, failures have a reason, unescaping never grows a string and
 * NUL-terminates it.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "fuzz.h"
#include "sip/sip_uri.h"

static const char *const param_names[] = {
    "transport", "lr", "user", "maddr", "ttl", "method", "tag", "branch", "expires", "q",
};

static void check_params(const struct str *params)
{
	struct str val;

	for (size_t i = 0; i < sizeof(param_names) / sizeof(param_names[0]); i++) {
		val = STR("untouched");
		if (sip_param_get(params, param_names[i], &val))
			fuzz_view(&val, params->p, params->len);
	}
}

static void check_unescape(struct arena *a, const struct str *in, bool must_decode)
{
	static const char marker[] = "untouched";
	struct str out = STR(marker);
	int err = sip_uri_unescape(a, in, &out);

	if (err) {
		FUZZ_CHECK(err == -EBADMSG || err == -ENOMEM);
		FUZZ_CHECK(!must_decode || err == -ENOMEM);
		FUZZ_CHECK(out.p == marker); /* written on success only */
		return;
	}
	FUZZ_CHECK(out.len <= in->len);
	FUZZ_CHECK(out.p != NULL && out.p[out.len] == '\0');
	fuzz_touch(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	alignas(max_align_t) char abuf[8192];
	struct sip_uri uri, before;
	const char *why = NULL;
	enum sip_uri_ctx ctx;
	struct arena a;
	struct str s;
	bool sip;
	int err;

	if (size < 1)
		return 0;
	ctx = (enum sip_uri_ctx)(data[0] % 3);
	s = str_make((const char *)data + 1, size - 1);
	arena_init(&a, abuf, sizeof(abuf), 0);

	memset(&uri, 0xa5, sizeof(uri));
	memcpy(&before, &uri, sizeof(uri));
	err = sip_uri_parse(&uri, s, ctx, &why);
	if (err) {
		FUZZ_CHECK(err == -EBADMSG);
		FUZZ_CHECK(why != NULL);
		FUZZ_CHECK(!memcmp(&uri, &before, sizeof(uri))); /* written on success only */
	} else {
		FUZZ_CHECK(uri.scheme <= SIP_URI_OTHER);
		FUZZ_CHECK(uri.host_type <= SIP_HOST_IPV6);
		fuzz_view(&uri.raw, s.p, s.len);
		FUZZ_CHECK(uri.raw.len == s.len); /* @s is exactly the URI */
		fuzz_view(&uri.scheme_str, s.p, s.len);
		fuzz_view(&uri.user, s.p, s.len);
		fuzz_view(&uri.password, s.p, s.len);
		fuzz_view(&uri.host, s.p, s.len);
		fuzz_view(&uri.params, s.p, s.len);
		fuzz_view(&uri.headers, s.p, s.len);
		/* '?' headers need <> (RFC 3261 §19.1.1, §20). No check on ';' in an
		 * addr-spec: its caller cuts the header params off before. */
		if (ctx != SIP_URI_CTX_NAME_ADDR)
			FUZZ_CHECK(!uri.has_headers);
		if (!uri.has_headers)
			FUZZ_CHECK(!uri.headers.len);

		check_params(&uri.params);
		/* Escapes in a parsed SIP URI were validated, so they decode. */
		sip = uri.scheme == SIP_URI_SIP || uri.scheme == SIP_URI_SIPS;
		check_unescape(&a, &uri.user, sip);
		check_unescape(&a, &uri.password, sip);
		check_unescape(&a, &uri.params, false);
		check_unescape(&a, &uri.headers, false);
	}

	check_params(&s);
	check_unescape(&a, &s, false);
	arena_reset(&a);
	return 0;
}

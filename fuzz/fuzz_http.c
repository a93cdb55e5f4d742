/*
 * fuzz_http: the text of a request that our code reads itself, after
 * libwebsockets has parsed the request: the Range header (http_range_parse)
 * and the decoded path, matched against every route shape of the API
 * (api_path_match). Input: 8 bytes of file size, then the Range value and
 * the path separated by a NUL.
 *
 * Contracts checked: a range is refused or lies inside the file in order;
 * captures are views inside the path, 1 to STORE_ID_SIZE - 1 bytes long.
 */
#include <errno.h>
#include <string.h>

#include "api/api_internal.h"
#include "fuzz.h"

static const char *const patterns[] = {
    "/api/v1/health",
    "/api/v1/tenants/{tenant}",
    "/api/v1/tenants/{tenant}/queues/{id}",
    "/api/v1/tenants/{tenant}/agents/{id}/state",
    "/api/v1/tenants/{tenant}/metrics/queues/{id}",
    "/metrics",
};

static void check_capture(const struct str *v, const char *p, size_t len)
{
	if (!v->p)
		return;
	fuzz_view(v, p, len);
	if (!v->len || v->len >= STORE_ID_SIZE)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fsize = 0, from, to;
	const char *text, *nul;
	struct str range, path;

	if (size < 8)
		return 0;
	memcpy(&fsize, data, 8);
	fsize &= (1ull << 40) - 1;
	text = (const char *)data + 8;
	size -= 8;
	nul = memchr(text, '\0', size);
	range = str_make(text, nul ? (size_t)(nul - text) : size);
	path = nul ? str_make(nul + 1, size - range.len - 1) : STR_NULL;
	if (!http_range_parse(&range, fsize, &from, &to) && (from > to || to >= fsize))
		__builtin_trap();
	for (size_t i = 0; path.p && i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		struct api_call c = {0};

		if (!api_path_match(patterns[i], path, &c))
			continue;
		check_capture(&c.tenant, path.p, path.len);
		check_capture(&c.id, path.p, path.len);
		check_capture(&c.sub, path.p, path.len);
	}
	return 0;
}

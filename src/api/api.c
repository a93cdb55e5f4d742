/*
 * api: allocation of the API's state; the rest lives in api_router.c
 * (routes and access), api_auth.c (logins, tokens, audit), api_res.c
 * (resources) and api_events.c (the event stream).
 */
#include <errno.h>

#include "api/api_internal.h"
#include "base/hash.h"
#include "base/mem.h"

#define TOKEN_TTL_MS (12 * 3600 * 1000LL)

int api_alloc(struct api **ap, const struct api_conf *conf)
{
	struct api *a;
	int err;

	if (!ap || !conf || !conf->store || !conf->loop)
		return -EINVAL;
	a = mem_zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->conf = *conf;
	if (a->conf.token_ttl_ms <= 0)
		a->conf.token_ttl_ms = TOKEN_TTL_MS;
	err = api_auth_init(a);
	if (!err)
		err = api_events_alloc(&a->ev, a->conf.event_window ? a->conf.event_window : 65536);
	if (err) {
		api_free(a);
		return err;
	}
	*ap = a;
	return 0;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	api_auth_free(a);
	api_res_free(a);
	api_events_free(a->ev);
	mem_free(a);
}

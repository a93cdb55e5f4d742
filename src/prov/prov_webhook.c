/*
 * prov_webhook: a tenant's webhooks (docs/PROVISIONING.md "Webhooks"): where
 * the platform POSTs the tenant's events, which types, and the secret it
 * signs them with (docs/API.md "Webhooks"). Checked here completely, so the
 * sender (src/cmd/serve_hook.c) never meets a URL it cannot use.
 *
 * Not here: delivering anything, or checking that the URL answers (it may
 * be down when the document is applied; the outbox retries).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "prov/prov_internal.h"
#include "store/store.h"

#define WEBHOOKS_MAX   16
#define URL_MAX	       (STORE_URL_SIZE - 1)
#define SECRET_MIN     16
#define SECRET_MAX     (STORE_SECRET_SIZE - 1)
#define EVENT_TYPE_MAX 64

/* The event types of the API's stream (docs/API.md) a webhook may choose. */
static const char *const types[] = {
    "agent.state", "task.queued",   "task.offered",   "task.answered", "task.ended",
    "task.missed", "queue.metrics", "config.changed", "registration",
};

static bool known_type(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcmp(types[i], s))
			return true;
	}
	return !strcmp(s, "*");
}

/* http:// or https://, a host, and no spaces; credentials in the URL are
 * refused: they would end up in logs, and the secret authenticates. */
static int check_url(struct prov_vctx *v, const char *url)
{
	char q[PROV_ECHO_SIZE];
	const char *host;
	size_t hlen;

	if (!strncmp(url, "http://", 7))
		host = url + 7;
	else if (!strncmp(url, "https://", 8))
		host = url + 8;
	else
		return prov_verr(v, "\"%s\" is not an http:// or https:// URL",
				 prov_echo(q, sizeof(q), url));
	hlen = strcspn(host, "/?#");
	if (!hlen || host[0] == ':')
		return prov_verr(v, "\"%s\" has no host", prov_echo(q, sizeof(q), url));
	if (memchr(host, '@', hlen))
		return prov_verr(v, "\"%s\" has credentials: the webhook's secret authenticates",
				 prov_echo(q, sizeof(q), url));
	if (strpbrk(url, " \"<>\\^`{|}"))
		return prov_verr(v, "\"%s\" has characters a URL must escape",
				 prov_echo(q, sizeof(q), url));
	return 0;
}

/* "events": a non-empty array of known types (or "*"), each once, into
 * canonical JSON text. */
static int parse_events(struct prov_vctx *v, const json_t *e, char **out)
{
	const json_t *arr = json_object_get(e, "events");
	char q[PROV_ECHO_SIZE];
	size_t mark, n;
	int err = 0;

	if (!arr)
		return prov_verr_at(v, "events", "required field missing");
	mark = prov_path_key(v, "events");
	n = json_is_array(arr) ? json_array_size(arr) : 0;
	if (!json_is_array(arr))
		err = prov_verr(v, "expected an array, got %s", prov_type_name(arr));
	else if (!n)
		err = prov_verr(v, "must name at least one event type (or \"*\": all)");
	for (size_t i = 0; !err && i < n; i++) {
		size_t m = prov_path_idx(v, i);
		const char *s;

		err =
		    prov_check_str(v, json_array_get(arr, i), PROV_STR_TEXT, 1, EVENT_TYPE_MAX, &s);
		if (!err && !known_type(s))
			err = prov_verr(v,
					"unknown event type \"%s\": use agent.state, task.queued, "
					"task.offered, task.answered, task.ended, task.missed, "
					"queue.metrics, config.changed, registration or \"*\"",
					prov_echo(q, sizeof(q), s));
		for (size_t k = 0; !err && k < i; k++) {
			if (!strcmp(s, json_string_value(json_array_get(arr, k))))
				err =
				    prov_verr(v, "\"%s\" is listed twice (also events[%zu])", s, k);
		}
		prov_path_pop(v, m);
	}
	prov_path_pop(v, mark);
	return err ? err : prov_dump(v, arr, out);
}

static int parse_webhook(struct prov_vctx *v, const json_t *e, struct prov_webhook *w)
{
	static const char *const fields[] = {"id", "url", "secret", "events", NULL};
	size_t mark;
	int err;

	err = prov_expect_object(v, e);
	if (!err)
		err = prov_check_fields(v, e, fields);
	if (!err)
		err = prov_get_str(v, e, "id", PROV_STR_ID, 1, STORE_ID_SIZE - 1, NULL, &w->id);
	if (!err)
		err = prov_get_str(v, e, "url", PROV_STR_TEXT, 1, URL_MAX, NULL, &w->url);
	if (!err) {
		mark = prov_path_key(v, "url");
		err = check_url(v, w->url);
		prov_path_pop(v, mark);
	}
	if (!err)
		err = prov_get_str(v, e, "secret", PROV_STR_PASSWORD, SECRET_MIN, SECRET_MAX, NULL,
				   &w->secret);
	if (!err)
		err = parse_events(v, e, &w->events);
	return err;
}

int prov_parse_webhooks(struct prov_vctx *v, const json_t *tj, struct prov_tenant *t)
{
	const json_t *arr = json_object_get(tj, "webhooks");
	size_t mark, n;
	int err = 0;

	if (!arr)
		return 0;
	mark = prov_path_key(v, "webhooks");
	n = json_is_array(arr) ? json_array_size(arr) : 0;
	if (!json_is_array(arr))
		err = prov_verr(v, "expected an array, got %s", prov_type_name(arr));
	else if (n > WEBHOOKS_MAX)
		err = prov_verr(v, "too many webhooks: at most %u", WEBHOOKS_MAX);
	if (!err && n && !(t->webhooks = mem_zalloc(n * sizeof(*t->webhooks))))
		err = prov_nomem(v);
	for (size_t i = 0; !err && i < n; i++) {
		size_t m = prov_path_idx(v, i);

		t->nwebhooks = i + 1; /* freed by prov_doc_free() from here on */
		err = parse_webhook(v, json_array_get(arr, i), &t->webhooks[i]);
		for (size_t k = 0; !err && k < i; k++) {
			if (!strcmp(t->webhooks[k].id, t->webhooks[i].id))
				err = prov_verr_at(
				    v, "id", "duplicate webhook id \"%s\" (also webhooks[%zu])",
				    t->webhooks[i].id, k);
		}
		prov_path_pop(v, m);
	}
	prov_path_pop(v, mark);
	return err;
}

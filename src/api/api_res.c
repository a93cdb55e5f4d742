/*
 * api_res: the resources of the REST API. Access has been checked by the
 * router (api_router.c) before any of these runs; they only read, write
 * and answer. Writes of configuration go through provisioning (src/prov),
 * so the API and provisioning documents are the same operations.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MODULE "api"
#include "api/api_internal.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/mbuf.h"
#include "prov/prov.h"
#include "qlog/qlog.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000

/* A JSON value from stored JSON text; null when it does not parse. */
static json_t *json_text(const char *text)
{
	json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	return v ? v : json_null();
}

/* Unsigned query argument @name into *@v (untouched when absent); 400 and -EINVAL when bad. */
static int arg_u64(struct api_call *c, const char *name, uint64_t *v)
{
	struct str s = http_req_arg(c->req, name);

	if (!s.p)
		return 0;
	if (str_to_u64(&s, v)) {
		api_error(c->req, 400, "invalid", "%s: expected a non-negative integer", name);
		return -EINVAL;
	}
	return 0;
}

static int arg_str(struct api_call *c, const char *name, char *out, size_t size)
{
	struct str s = http_req_arg(c->req, name);

	out[0] = '\0';
	if (!s.p)
		return 0;
	if (s.len >= size) {
		api_error(c->req, 400, "invalid", "%s: longer than %zu bytes", name, size - 1);
		return -EINVAL;
	}
	str_copy_cstr(out, size, &s);
	return 0;
}

static void live_missing(struct api_call *c)
{
	api_error(c->req, 503, "unavailable", "live state: not available on this node");
}

/* --- platform --- */

void api_res_health(struct api_call *c)
{
	api_json(c->req, 200,
		 json_pack("{sssssI}", "status", "ok", "version",
			   c->api->conf.version ? c->api->conf.version : "", "time",
			   (json_int_t)clock_real_ms()));
}

void api_res_openapi(struct api_call *c)
{
	int fd =
	    c->api->conf.openapi_path ? open(c->api->conf.openapi_path, O_RDONLY | O_CLOEXEC) : -1;

	if (fd < 0) {
		api_error(c->req, 404, "not_found", "openapi.json: not installed");
		return;
	}
	http_respond_fd(c->req, fd, "application/json", NULL);
}

void api_res_prometheus(struct api_call *c)
{
	struct api *a = c->api;
	struct mbuf out;

	mbuf_init(&out, 16 << 20);
	mbuf_printf(&out,
		    "# HELP shenggu_up 1 while the node serves.\n# TYPE shenggu_up gauge\n"
		    "shenggu_up 1\n"
		    "# HELP shenggu_event_stream_clients WebSocket event-stream clients.\n"
		    "# TYPE shenggu_event_stream_clients gauge\n"
		    "shenggu_event_stream_clients %zu\n",
		    api_stream_clients(a));
	if (a->conf.live && a->conf.live->prometheus)
		a->conf.live->prometheus(a->conf.live_arg, &out);
	http_respond(c->req, 200, "text/plain; version=0.0.4", NULL, out.buf, out.end);
	mbuf_reset(&out);
}

/* --- tenants --- */

static json_t *tenant_json(const struct store_tenant *t)
{
	return json_pack("{ss ss ss si ss ss ss}", "id", t->id, "name", t->name, "domain",
			 t->domain, "seats", (int)t->seats, "district", t->district, "park",
			 t->park, "timezone", t->timezone);
}

static int tenant_add(const struct store_tenant *t, void *arg)
{
	return json_array_append_new(arg, tenant_json(t)) ? -ENOMEM : 0;
}

void api_res_tenants(struct api_call *c)
{
	json_t *arr = json_array();
	int err = arr ? store_tenant_list(c->api->conf.store, tenant_add, arr) : -ENOMEM;

	if (err < 0) {
		json_decref(arr);
		api_store_error(c->req, err, "tenants");
		return;
	}
	api_json(c->req, 200, json_pack("{so}", "items", arr));
}

void api_res_tenant_get(struct api_call *c)
{
	struct store_tenant t;
	int err = store_tenant_get(c->api->conf.store, c->tenant_id, &t);

	if (err == -ENOENT) {
		api_error(c->req, 404, "not_found", "tenant: no such tenant");
		return;
	}
	if (err) {
		api_store_error(c->req, err, "tenant");
		return;
	}
	api_json(c->req, 200, tenant_json(&t));
}

/*
 * PUT /tenants/{tenant}: the tenant's whole description, exactly as one
 * element of a provisioning document's "tenants" (docs/PROVISIONING.md);
 * applied the same way, in one transaction.
 */
void api_res_tenant_put(struct api_call *c)
{
	json_t *body = api_body_object(c->req), *doc, *id;
	struct prov_summary sum;
	struct prov_doc *pd = NULL;
	char err_msg[512], line[256], *text;
	int err;

	if (!body)
		return;
	id = json_object_get(body, "id");
	if (id && (!json_is_string(id) || strcmp(json_string_value(id), c->tenant_id))) {
		json_decref(body);
		api_error(c->req, 400, "invalid", "id: must be the tenant of the path");
		return;
	}
	json_object_set_new(body, "id", json_string(c->tenant_id));
	doc = json_pack("{s[o]}", "tenants", body);
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		api_error(c->req, 503, "unavailable", "out of memory");
		return;
	}
	err = prov_parse(&pd, text, strlen(text), err_msg, sizeof(err_msg));
	if (!err)
		err = prov_apply(c->api->conf.store, pd, &sum, err_msg, sizeof(err_msg));
	memset(text, 0, strlen(text)); /* it holds passwords */
	free(text);
	prov_doc_free(pd);
	if (err) {
		/* Paths are the document's: drop the "tenants[0]." we added. */
		const char *m = !strncmp(err_msg, "tenants[0].", 11) ? err_msg + 11 : err_msg;

		api_error(c->req,
			  err == -EEXIST   ? 409
			  : err == -EINVAL ? 400
					   : 500,
			  err == -EEXIST   ? "conflict"
			  : err == -EINVAL ? "invalid"
					   : "internal",
			  "%s", m);
		return;
	}
	prov_summary_format(&sum, line, sizeof(line));
	api_audit(c, "tenant.put", c->tenant_id, json_pack("{ss}", "summary", line));
	if (c->api->conf.live && c->api->conf.live->changed)
		c->api->conf.live->changed(c->api->conf.live_arg, c->tenant_id);
	api_publish(c->api, c->tenant_id, "config.changed", NULL,
		    json_pack("{ss}", "summary", line));
	api_json(c->req, 200, json_pack("{ssss}", "tenant", c->tenant_id, "summary", line));
}

/* --- users, queues, IVR --- */

struct pick {
	const char *id; /* NULL: every row */
	json_t *arr;
};

static int user_add(const struct store_user *u, void *arg)
{
	struct pick *p = arg;

	if (p->id && strcmp(p->id, u->id))
		return 0;
	return json_array_append_new(p->arr,
				     json_pack("{sssssoso sb}", "id", u->id, "name", u->name,
					       "roles", json_text(u->roles), "skills",
					       json_text(u->skills), "sip", u->ha1_md5 != NULL))
		   ? -ENOMEM
		   : 0;
}

static int queue_add(const struct store_queue *q, void *arg)
{
	struct pick *p = arg;

	if (p->id && strcmp(p->id, q->id))
		return 0;
	return json_array_append_new(
		   p->arr,
		   json_pack("{sssssosososisisisisisisisisisb}", "id", q->id, "strategy",
			     q->strategy, "skills", json_text(q->skills), "overflow",
			     json_text(q->overflow), "members", json_text(q->members), "priority",
			     (int)q->priority, "wrapup_s", (int)q->wrapup_s, "ring_timeout_s",
			     (int)q->ring_timeout_s, "max_wait_s", (int)q->max_wait_s, "max_len",
			     (int)q->max_len, "sl_seconds", (int)q->sl_seconds, "sl_percent",
			     (int)q->sl_percent, "announce_s", (int)q->announce_s, "tier_wait_s",
			     (int)q->tier_wait_s, "join_empty", q->join_empty))
		   ? -ENOMEM
		   : 0;
}

/* List (or, with @one, get) users or queues of the path's tenant. */
static void list_rows(struct api_call *c, bool users, bool one)
{
	struct pick p = {.id = one ? c->id_s : NULL, .arr = json_array()};
	const char *what = users ? "users" : "queues";
	int err;

	if (!p.arr) {
		api_error(c->req, 503, "unavailable", "out of memory");
		return;
	}
	err = users ? store_user_list(c->api->conf.store, c->tenant_id, user_add, &p)
		    : store_queue_list(c->api->conf.store, c->tenant_id, queue_add, &p);
	if (err < 0) {
		json_decref(p.arr);
		api_store_error(c->req, err, what);
		return;
	}
	if (!one) {
		api_json(c->req, 200, json_pack("{so}", "items", p.arr));
	} else if (!json_array_size(p.arr)) {
		json_decref(p.arr);
		api_error(c->req, 404, "not_found", "id: no such %s", users ? "user" : "queue");
	} else {
		api_json(c->req, 200, json_incref(json_array_get(p.arr, 0)));
		json_decref(p.arr);
	}
}

void api_res_users(struct api_call *c)
{
	list_rows(c, true, false);
}

void api_res_user_get(struct api_call *c)
{
	list_rows(c, true, true);
}

void api_res_queues(struct api_call *c)
{
	list_rows(c, false, false);
}

void api_res_queue_get(struct api_call *c)
{
	list_rows(c, false, true);
}

void api_res_ivr_get(struct api_call *c)
{
	char *json = NULL;
	int err = store_ivr_get(c->api->conf.store, c->tenant_id, c->id_s, &json);

	if (err) {
		api_store_error(c->req, err, "id");
		return;
	}
	api_json(c->req, 200, json_text(json));
	free(json);
}

/* --- live state --- */

static void live_array(struct api_call *c, int err, json_t *arr, bool one, const char *what)
{
	if (err == -ENOENT || (!err && one && !json_array_size(arr))) {
		json_decref(arr);
		api_error(c->req, 404, "not_found", "id: no such %s", what);
	} else if (err) {
		json_decref(arr);
		api_error(c->req, 500, "internal", "%s: error %d", what, -err);
	} else if (one) {
		api_json(c->req, 200, json_incref(json_array_get(arr, 0)));
		json_decref(arr);
	} else {
		api_json(c->req, 200, json_pack("{so}", "items", arr));
	}
}

typedef int(live_view_h)(void *arg, const char *tenant, const char *id, json_t **out);

/* A live view (agents, queues) of the path's tenant: all, or (@one) the path's {id}. */
static void live_view(struct api_call *c, live_view_h *h, bool one, const char *what)
{
	json_t *arr = NULL;
	int err;

	if (!h) {
		live_missing(c);
		return;
	}
	err = h(c->api->conf.live_arg, c->tenant_id, one ? c->id_s : NULL, &arr);
	live_array(c, err, arr, one, what);
}

static live_view_h *live_agents(const struct api_call *c)
{
	return c->api->conf.live ? c->api->conf.live->agents : NULL;
}

void api_res_agents(struct api_call *c)
{
	live_view(c, live_agents(c), false, "agent");
}

void api_res_agent_get(struct api_call *c)
{
	live_view(c, live_agents(c), true, "agent");
}

/* PUT .../agents/{id}/state {"state": "ready" | "not-ready" | "logged-in" | "logged-out", "reason":
 * N} */
void api_res_agent_put(struct api_call *c)
{
	static const char *const states[] = {"ready", "not-ready", "logged-in", "logged-out"};
	const struct api_live *l = c->api->conf.live;
	json_t *body = api_body_object(c->req), *reason;
	const char *state;
	char msg[256] = "";
	json_int_t rc = 0;
	bool known = false;
	int err;

	if (!body)
		return;
	state = json_string_value(json_object_get(body, "state"));
	for (size_t i = 0; state && i < sizeof(states) / sizeof(states[0]); i++)
		known |= !strcmp(state, states[i]);
	reason = json_object_get(body, "reason");
	if (!known) {
		api_error(c->req, 400, "invalid",
			  "state: expected ready, not-ready, logged-in or logged-out");
	} else if (reason &&
		   (!json_is_integer(reason) || (rc = json_integer_value(reason)) < 0 || rc > 99)) {
		api_error(c->req, 400, "invalid", "reason: expected a reason code 0-99");
	} else if (!l || !l->agent_set) {
		live_missing(c);
	} else {
		char st[16];

		snprintf(st, sizeof(st), "%s", state);
		err = l->agent_set(c->api->conf.live_arg, c->tenant_id, c->id_s, st, (uint32_t)rc,
				   msg, sizeof(msg));
		if (!err) {
			api_audit(c, "agent.state", c->id_s,
				  json_pack("{sssI}", "state", st, "reason", rc));
			live_view(c, live_agents(c), true, "agent");
		} else {
			int status = err == -ENOENT   ? 404
				     : err == -EINVAL ? 400
				     : err == -EBUSY  ? 409
				     : err == -EDQUOT ? 409
						      : 500;

			api_error(c->req, status,
				  err == -ENOENT   ? "not_found"
				  : err == -EDQUOT ? "quota"
				  : err == -EBUSY  ? "conflict"
				  : err == -EINVAL ? "invalid"
						   : "internal",
				  "%s", msg[0] ? msg : "state: refused");
		}
	}
	json_decref(body);
}

/*
 * Queue metrics are the wallboards' poll and the most read answer: the
 * JSON is kept per tenant and queue while the tenant's live state has not
 * changed (its generation) and for at most KEPT_MS, and served as it is:
 * building it is most of the cost of the request.
 */
#define KEPT_MS	 1000
#define KEPT_MAX 20000 /* answers kept; beyond, the table starts again */

struct kept {
	uint64_t gen;
	int64_t made_ms;
	size_t len;
	char key[2 * STORE_ID_SIZE + 2];
	char body[];
};

void api_res_free(struct api *a)
{
	size_t it = 0;
	struct str k;
	void *v;

	while (a->kept && hash_next(a->kept, &it, &k, &v))
		mem_free(v);
	hash_free(a->kept);
	a->kept = NULL;
}

static void metrics(struct api_call *c, bool one)
{
	const struct api_live *l = c->api->conf.live;
	struct api *a = c->api;
	char key[2 * STORE_ID_SIZE + 2];
	struct str k;
	struct kept *kp;
	json_t *arr = NULL, *v;
	uint64_t gen;
	int64_t now = clock_real_ms();
	char *text;
	int err;

	if (!l || !l->queues) {
		live_missing(c);
		return;
	}
	if (!l->generation) {
		live_view(c, l->queues, one, "queue");
		return;
	}
	gen = l->generation(c->api->conf.live_arg, c->tenant_id);
	snprintf(key, sizeof(key), "%s\n%s", c->tenant_id, one ? c->id_s : "");
	k = str_cstr(key);
	kp = a->kept ? hash_get(a->kept, &k) : NULL;
	if (kp && kp->gen == gen && now - kp->made_ms < KEPT_MS && now >= kp->made_ms) {
		http_respond(c->req, 200, "application/json", "Cache-Control: no-store\r\n",
			     kp->body, kp->len);
		return;
	}
	err = l->queues(c->api->conf.live_arg, c->tenant_id, one ? c->id_s : NULL, &arr);
	if (err || (one && !json_array_size(arr))) {
		live_array(c, err, arr, one, "queue");
		return;
	}
	v = one ? json_incref(json_array_get(arr, 0)) : json_pack("{sO}", "items", arr);
	json_decref(arr);
	text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!text) {
		api_error(c->req, 503, "unavailable", "out of memory");
		return;
	}
	/* Keep it (best effort: an answer not kept is only built again). */
	if (!a->kept || hash_count(a->kept) >= KEPT_MAX) {
		api_res_free(a);
		hash_alloc(&a->kept, 256, 0);
	}
	kp = a->kept ? hash_del(a->kept, &k) : NULL;
	mem_free(kp);
	kp = a->kept ? mem_alloc(sizeof(*kp) + strlen(text) + 1) : NULL;
	if (kp) {
		kp->gen = gen;
		kp->made_ms = now;
		kp->len = strlen(text);
		memcpy(kp->key, key, sizeof(key));
		memcpy(kp->body, text, kp->len + 1);
		k = str_cstr(kp->key);
		if (hash_put(a->kept, &k, kp, NULL))
			mem_free(kp);
	}
	http_respond(c->req, 200, "application/json", "Cache-Control: no-store\r\n", text,
		     strlen(text));
	free(text);
}

void api_res_metrics(struct api_call *c)
{
	metrics(c, false);
}

void api_res_metrics_queue(struct api_call *c)
{
	metrics(c, true);
}

void api_res_calls(struct api_call *c)
{
	const struct api_live *l = c->api->conf.live;
	json_t *arr = NULL;
	int err;

	if (!l || !l->calls) {
		live_missing(c);
		return;
	}
	err = l->calls(c->api->conf.live_arg, c->tenant_id, &arr);
	live_array(c, err, arr, false, "call");
}

/*
 * DELETE .../calls/{id}: hang up. A supervisor any call of the tenant, an
 * agent only the call it is on (another is 404, as for a call that is not).
 */
void api_res_call_hangup(struct api_call *c)
{
	const struct api_live *l = c->api->conf.live;
	bool agent =
	    !(c->who->roles & (ACCT_ROLE_OPERATOR | ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR));
	int err;

	if (!l || !l->hangup) {
		live_missing(c);
		return;
	}
	err = l->hangup(c->api->conf.live_arg, c->tenant_id, c->id_s, agent ? c->who->user : NULL);
	if (err) {
		api_error(c->req, 404, "not_found", "id: no such call");
		return;
	}
	api_audit(c, "call.hangup", c->id_s, NULL);
	http_respond(c->req, 204, NULL, NULL, NULL, 0);
}

/* --- records --- */

struct cdr_filter {
	char queue[STORE_ID_SIZE + 8], agent[STORE_ID_SIZE], number[STORE_NUMBER_SIZE];
	uint64_t offset, limit, seen;
	json_t *items;
	bool more;
};

static int cdr_add(const struct store_cdr *r, void *arg)
{
	struct cdr_filter *f = arg;
	json_t *v;

	if (f->queue[0] && strcmp(r->route, f->queue))
		return 0;
	if (f->agent[0] && strcmp(r->agent, f->agent))
		return 0;
	if (f->number[0] && strcmp(r->caller, f->number) && strcmp(r->callee, f->number))
		return 0;
	if (f->seen++ < f->offset)
		return 0;
	if (json_array_size(f->items) >= f->limit) {
		f->more = true;
		return 1; /* stop: one more than a page tells there is a next one */
	}
	v = json_pack("{ss ss ss ss ss ss sI sI sI sI ss si ss ss ss ss}", "uuid", r->uuid,
		      "caller", r->caller, "callee", r->callee, "route", r->route, "ivr_path",
		      r->ivr_path, "agent", r->agent, "start_ms", (json_int_t)r->start_ms,
		      "answer_ms", (json_int_t)r->answer_ms, "bridge_ms", (json_int_t)r->bridge_ms,
		      "end_ms", (json_int_t)r->end_ms, "hangup_side", r->hangup_side, "status",
		      (int)r->status, "cause", r->cause, "recording", r->recording, "disposition",
		      r->disposition ? r->disposition : "", "notes", r->notes ? r->notes : "");
	return json_array_append_new(f->items, v) ? -ENOMEM : 0;
}

/*
 * GET .../cdrs?from=MS&to=MS&queue=Q&agent=U&number=N&offset=K&limit=L,
 * oldest first. An agent sees only the calls it answered.
 */
void api_res_cdrs(struct api_call *c)
{
	struct cdr_filter f = {.limit = PAGE_DEFAULT};
	uint64_t from = 0, to = INT64_MAX;
	char q[STORE_ID_SIZE];
	int err;

	if (arg_u64(c, "from", &from) || arg_u64(c, "to", &to) || arg_u64(c, "offset", &f.offset) ||
	    arg_u64(c, "limit", &f.limit) || arg_str(c, "queue", q, sizeof(q)) ||
	    arg_str(c, "agent", f.agent, sizeof(f.agent)) ||
	    arg_str(c, "number", f.number, sizeof(f.number)))
		return;
	if (!f.limit || f.limit > PAGE_MAX) {
		api_error(c->req, 400, "invalid", "limit: expected 1 to %d", PAGE_MAX);
		return;
	}
	if (from > INT64_MAX || to > INT64_MAX || from > to) {
		api_error(c->req, 400, "invalid", "from: must not be after to");
		return;
	}
	if (q[0])
		snprintf(f.queue, sizeof(f.queue), "queue:%s", q);
	if (!(c->who->roles & (ACCT_ROLE_OPERATOR | ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR)))
		snprintf(f.agent, sizeof(f.agent), "%s", c->who->user);
	f.items = json_array();
	err = f.items ? store_cdr_list(c->api->conf.store, c->tenant_id, (int64_t)from, (int64_t)to,
				       cdr_add, &f)
		      : -ENOMEM;
	if (err < 0) {
		json_decref(f.items);
		api_store_error(c->req, err, "cdrs");
		return;
	}
	api_json(c->req, 200,
		 json_pack("{soso}", "items", f.items, "next_offset",
			   f.more ? json_integer((json_int_t)(f.offset + f.limit)) : json_null()));
}

/* A short text field: 0 and *@out, or an answer of 400 naming @name. */
static int text_field(struct api_call *c, json_t *body, const char *name, size_t min, size_t max,
		      const char **out)
{
	json_t *v = json_object_get(body, name);
	const char *s = json_string_value(v);

	if (!v && !min) {
		*out = "";
		return 0;
	}
	if (!s || strlen(s) < min || strlen(s) > max) {
		api_error(c->req, 400, "invalid", "%s: expected a string of %zu to %zu bytes", name,
			  min, max);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t') {
			api_error(c->req, 400, "invalid", "%s: control characters", name);
			return -EINVAL;
		}
	}
	*out = s;
	return 0;
}

/*
 * PUT .../cdrs/{id}/wrapup {"disposition": "sale", "notes": "..."}: the
 * agent's wrap-up of a call it answered (a supervisor: of any call).
 */
void api_res_cdr_wrapup(struct api_call *c)
{
	json_t *body = api_body_object(c->req);
	bool agent =
	    !(c->who->roles & (ACCT_ROLE_OPERATOR | ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR));
	const char *disposition, *notes;
	int err;

	if (!body)
		return;
	if (!text_field(c, body, "disposition", 1, 64, &disposition) &&
	    !text_field(c, body, "notes", 0, 2000, &notes)) {
		err = store_cdr_wrapup(c->api->conf.store, c->tenant_id, c->id_s,
				       agent ? c->who->user : NULL, disposition, notes);
		if (err == -ENOENT) {
			api_error(c->req, 404, "not_found", "id: no such call");
		} else if (err) {
			api_store_error(c->req, err, "id");
		} else {
			api_audit(c, "cdr.wrapup", c->id_s,
				  json_pack("{ss}", "disposition", disposition));
			api_publish(
			    c->api, c->tenant_id, "task.wrapup", c->who->user,
			    json_pack("{ssss}", "uuid", c->id_s, "disposition", disposition));
			api_json(c->req, 200,
				 json_pack("{ssssss}", "uuid", c->id_s, "disposition", disposition,
					   "notes", notes));
		}
	}
	json_decref(body);
}

static int qlog_add(int64_t time_s, const char *line, void *arg)
{
	struct mbuf *out = arg;

	(void)time_s;
	return mbuf_printf(out, "%s\n", line) < 0 ? -ENOMEM : 0;
}

/* GET .../queue_log?from=S&to=S: the tenant's queue_log lines, as text (Asterisk's format). */
void api_res_queue_log(struct api_call *c)
{
	uint64_t from = 0, to = INT64_MAX;
	struct mbuf out;
	int err;

	if (arg_u64(c, "from", &from) || arg_u64(c, "to", &to))
		return;
	if (from > INT64_MAX || to > INT64_MAX) {
		api_error(c->req, 400, "invalid", "to: out of range");
		return;
	}
	mbuf_init(&out, 64u << 20);
	err = store_qlog_list(c->api->conf.store, c->tenant_id, (int64_t)from, (int64_t)to,
			      qlog_add, &out);
	if (err < 0)
		api_store_error(c->req, err, "queue_log");
	else
		http_respond(c->req, 200, "text/plain; charset=utf-8", NULL, out.buf, out.end);
	mbuf_reset(&out);
}

struct audit_page {
	json_t *items;
	uint64_t limit;
	int64_t last;
};

static int audit_add(const struct store_audit *au, void *arg)
{
	struct audit_page *p = arg;

	p->last = au->id;
	return json_array_append_new(p->items,
				     json_pack("{sIsIssssssssso}", "id", (json_int_t)au->id,
					       "time_ms", (json_int_t)au->time_ms, "tenant",
					       au->tenant_id ? au->tenant_id : "", "actor",
					       au->actor, "action", au->action, "object",
					       au->object, "detail", json_text(au->detail)))
		   ? -ENOMEM
		   : 0;
}

/* GET /audit (operator: all) or .../tenants/{tenant}/audit?from=MS&to=MS&after=ID&limit=L */
void api_res_audit(struct api_call *c)
{
	struct audit_page p = {.limit = PAGE_DEFAULT};
	uint64_t from = 0, to = INT64_MAX, after = 0;
	int err;

	if (arg_u64(c, "from", &from) || arg_u64(c, "to", &to) || arg_u64(c, "after", &after) ||
	    arg_u64(c, "limit", &p.limit))
		return;
	if (!p.limit || p.limit > PAGE_MAX || from > INT64_MAX || to > INT64_MAX ||
	    after > INT64_MAX) {
		api_error(c->req, 400, "invalid", "limit: expected 1 to %d", PAGE_MAX);
		return;
	}
	p.items = json_array();
	err = p.items ? store_audit_list(c->api->conf.store, c->tenant_id[0] ? c->tenant_id : NULL,
					 (int64_t)from, (int64_t)to, (int64_t)after,
					 (unsigned)p.limit, audit_add, &p)
		      : -ENOMEM;
	if (err < 0) {
		json_decref(p.items);
		api_store_error(c->req, err, "audit");
		return;
	}
	api_json(
	    c->req, 200,
	    json_pack("{soso}", "items", p.items, "next_after",
		      json_array_size(p.items) == p.limit ? json_integer(p.last) : json_null()));
}

/* --- usage metering --- */

struct usage {
	int64_t from_ms, to_ms;
	struct store *st;
	uint64_t calls, answered, talk_ms, rec_count, rec_bytes, rec_ms, agent_s;
	struct hash *open;  /* agent -> login time (s), while logged in */
	json_t *recordings; /* their paths, looked up after the CDRs */
};

static int usage_cdr(const struct store_cdr *r, void *arg)
{
	struct usage *u = arg;

	u->calls++;
	if (r->answer_ms && r->end_ms > r->answer_ms) {
		u->answered++;
		u->talk_ms += (uint64_t)(r->end_ms - r->answer_ms);
	}
	/* Not looked up here: a handler must not query the store. */
	if (r->recording && r->recording[0] &&
	    json_array_append_new(u->recordings, json_string(r->recording)))
		return -ENOMEM;
	return 0;
}

/* Logged-in time inside the period, from AGENTLOGIN and AGENTLOGOFF lines. */
static int usage_qlog(int64_t time_s, const char *line, void *arg)
{
	struct usage *u = arg;
	struct qlog_event ev;
	const char *why;
	int64_t from_s = u->from_ms / 1000;

	(void)time_s;
	if (qlog_parse(&ev, line, strlen(line), &why) || !ev.agent.len)
		return 0;
	if (ev.type == QLOG_AGENTLOGIN) {
		int64_t *t = hash_get(u->open, &ev.agent);

		if (!t) {
			char *key;

			t = mem_alloc(sizeof(*t) + ev.agent.len + 1);
			if (!t)
				return -ENOMEM;
			key = (char *)(t + 1);
			memcpy(key, ev.agent.p, ev.agent.len);
			key[ev.agent.len] = '\0';
			if (hash_put(u->open, &(struct str){key, ev.agent.len}, t, NULL)) {
				mem_free(t);
				return -ENOMEM;
			}
		}
		*t = ev.time;
	} else if (ev.type == QLOG_AGENTLOGOFF) {
		int64_t *t = hash_del(u->open, &ev.agent);
		int64_t start = t ? *t : ev.time - (int64_t)ev.d.login.logintime;

		if (start < from_s)
			start = from_s;
		if (ev.time > start)
			u->agent_s += (uint64_t)(ev.time - start);
		mem_free(t);
	}
	return 0;
}

/* Usage of @tenant over [from, to) into a new object; NULL when out of memory. */
static json_t *usage_of(struct api *a, const char *tenant, int64_t from_ms, int64_t to_ms,
			int *errp)
{
	struct usage u = {.from_ms = from_ms, .to_ms = to_ms, .st = a->conf.store};
	int64_t end_s = to_ms / 1000, now_s = (int64_t)(clock_real_ms() / 1000);
	size_t it = 0;
	struct str k;
	void *v;
	json_t *path;
	int err = hash_alloc(&u.open, 16, 0);

	u.recordings = json_array();
	if (!err && !u.recordings)
		err = -ENOMEM;
	if (!err)
		err = store_cdr_list(a->conf.store, tenant, from_ms, to_ms, usage_cdr, &u);
	json_array_foreach(u.recordings, it, path)
	{
		struct store_recording rec;

		if (err < 0 || store_recording_get(a->conf.store, json_string_value(path), &rec))
			continue;
		u.rec_count++;
		u.rec_bytes += rec.bytes > 0 ? (uint64_t)rec.bytes : 0;
		u.rec_ms += rec.duration_ms > 0 ? (uint64_t)rec.duration_ms : 0;
	}
	json_decref(u.recordings);
	it = 0;
	/* Logins up to a day before the period may still be open inside it. */
	if (err >= 0)
		err = store_qlog_list(a->conf.store, tenant, from_ms / 1000 - 86400, end_s,
				      usage_qlog, &u);
	while (u.open && hash_next(u.open, &it, &k, &v)) {
		int64_t start = *(int64_t *)v < from_ms / 1000 ? from_ms / 1000 : *(int64_t *)v;
		int64_t stop = end_s < now_s ? end_s : now_s; /* still logged in */

		if (stop > start)
			u.agent_s += (uint64_t)(stop - start);
		mem_free(v);
	}
	hash_free(u.open);
	*errp = err < 0 ? err : 0;
	if (err < 0)
		return NULL;
	return json_pack("{ssss sI sI sf sf sI sI sf sI}", "tenant", tenant, "unit", "minutes",
			 "calls", (json_int_t)u.calls, "answered", (json_int_t)u.answered,
			 "call_minutes", (double)u.talk_ms / 60000.0, "agent_minutes",
			 (double)u.agent_s / 60.0, "recordings", (json_int_t)u.rec_count,
			 "recording_bytes", (json_int_t)u.rec_bytes, "recording_minutes",
			 (double)u.rec_ms / 60000.0, "messages", (json_int_t)0);
}

/* The period of a usage query: ?from=&to= in ms, by default the current day (UTC). */
static int usage_period(struct api_call *c, int64_t *from_ms, int64_t *to_ms)
{
	uint64_t from, to;
	int64_t now = clock_real_ms();

	from = (uint64_t)(now - now % 86400000);
	to = (uint64_t)now + 1;
	if (arg_u64(c, "from", &from) || arg_u64(c, "to", &to))
		return -EINVAL;
	if (from > INT64_MAX || to > INT64_MAX || from >= to) {
		api_error(c->req, 400, "invalid", "from: must be before to");
		return -EINVAL;
	}
	*from_ms = (int64_t)from;
	*to_ms = (int64_t)to;
	return 0;
}

/* GET .../tenants/{tenant}/usage?from=&to= */
void api_res_usage(struct api_call *c)
{
	int64_t from, to;
	json_t *u;
	int err;

	if (usage_period(c, &from, &to))
		return;
	u = usage_of(c->api, c->tenant_id, from, to, &err);
	if (!u) {
		api_store_error(c->req, err ? err : -ENOMEM, "usage");
		return;
	}
	json_object_set_new(u, "from", json_integer(from));
	json_object_set_new(u, "to", json_integer(to));
	api_json(c->req, 200, u);
}

struct usage_all {
	struct api *api;
	int64_t from, to;
	json_t *items;
};

/*
 * GET /usage?from=&to=: every tenant's (operator). The tenants are listed
 * first and measured after: a store handler must not query the store (the
 * PostgreSQL backend streams a list on the connection).
 */
void api_res_usage_all(struct api_call *c)
{
	struct usage_all ua = {.api = c->api, .items = json_array()};
	size_t i;
	json_t *t;
	int err;

	if (usage_period(c, &ua.from, &ua.to)) {
		json_decref(ua.items);
		return;
	}
	err = ua.items ? store_tenant_list(c->api->conf.store, tenant_add, ua.items) : -ENOMEM;
	json_array_foreach(ua.items, i, t)
	{
		json_t *u;

		if (err < 0)
			break;
		u = usage_of(ua.api, json_string_value(json_object_get(t, "id")), ua.from, ua.to,
			     &err);
		if (!u) {
			err = err ? err : -ENOMEM;
			break;
		}
		json_object_set(u, "district", json_object_get(t, "district"));
		json_object_set(u, "park", json_object_get(t, "park"));
		json_array_set_new(ua.items, i, u);
	}
	if (err < 0) {
		json_decref(ua.items);
		api_store_error(c->req, err, "usage");
		return;
	}
	api_json(c->req, 200,
		 json_pack("{sIsIso}", "from", (json_int_t)ua.from, "to", (json_int_t)ua.to,
			   "items", ua.items));
}

/* --- platform statistics by district and park --- */

static int count_agent(const struct store_user *u, void *arg)
{
	unsigned roles = 0;

	if (!acct_roles_parse(u->roles, &roles) && (roles & ACCT_ROLE_AGENT))
		(*(uint32_t *)arg)++;
	return 0;
}

/* The group of @t in @groups (an object keyed "district\npark"), made on first use. */
static json_t *stats_group(json_t *groups, json_t *t)
{
	const char *d = json_string_value(json_object_get(t, "district"));
	const char *p = json_string_value(json_object_get(t, "park"));
	char key[2 * STORE_NAME_SIZE + 2];
	json_t *g;

	snprintf(key, sizeof(key), "%s\n%s", d ? d : "", p ? p : "");
	g = json_object_get(groups, key);
	if (g)
		return g;
	g = json_pack("{sssssisisisi}", "district", d ? d : "", "park", p ? p : "", "tenants", 0,
		      "seats", 0, "agents", 0, "in_use", 0);
	if (!g || json_object_set_new(groups, key, g))
		return NULL;
	return g;
}

static void stats_add(json_t *g, const char *field, json_int_t v)
{
	json_object_set_new(g, field,
			    json_integer(json_integer_value(json_object_get(g, field)) + v));
}

/*
 * GET /stats/seats (operator): tenants, seat quotas, agents provisioned and
 * agents logged in now, by district and park, and for the whole platform.
 */
void api_res_stats_seats(struct api_call *c)
{
	const struct api_live *l = c->api->conf.live;
	json_t *tenants = json_array(), *groups = json_object(), *total, *items, *t, *g;
	const char *key;
	size_t i;
	int err;

	total = json_pack("{sisisisi}", "tenants", 0, "seats", 0, "agents", 0, "in_use", 0);
	items = json_array();
	err = tenants && groups && total && items
		  ? store_tenant_list(c->api->conf.store, tenant_add, tenants)
		  : -ENOMEM;
	json_array_foreach(tenants, i, t)
	{
		const char *id = json_string_value(json_object_get(t, "id"));
		json_int_t seats = json_integer_value(json_object_get(t, "seats"));
		uint32_t agents = 0, in_use = 0;

		if (err < 0)
			break;
		err = store_user_list(c->api->conf.store, id, count_agent, &agents);
		if (err >= 0 && l && l->seats_in_use)
			err = l->seats_in_use(c->api->conf.live_arg, id, &in_use);
		g = err >= 0 ? stats_group(groups, t) : NULL;
		if (!g) {
			err = err < 0 ? err : -ENOMEM;
			break;
		}
		for (json_t *o = g;; o = total) {
			stats_add(o, "tenants", 1);
			stats_add(o, "seats", seats);
			stats_add(o, "agents", agents);
			stats_add(o, "in_use", in_use);
			if (o == total)
				break;
		}
	}
	json_object_foreach(groups, key, g)
	{
		if (err >= 0 && json_array_append(items, g))
			err = -ENOMEM;
	}
	json_decref(tenants);
	json_decref(groups);
	if (err < 0) {
		json_decref(items);
		json_decref(total);
		api_store_error(c->req, err, "stats");
		return;
	}
	api_json(c->req, 200, json_pack("{soso}", "items", items, "total", total));
}

/* --- seat requests --- */

static int seat_add(const struct store_seat_request *r, void *arg)
{
	return json_array_append_new(arg, json_pack("{sIsssisssssssssIsI}", "id", (json_int_t)r->id,
						    "tenant", r->tenant_id, "seats", (int)r->seats,
						    "reason", r->reason, "status", r->status,
						    "requested_by", r->requested_by, "decided_by",
						    r->decided_by, "created_ms",
						    (json_int_t)r->created_ms, "decided_ms",
						    (json_int_t)r->decided_ms))
		   ? -ENOMEM
		   : 0;
}

/* The requests of @tenant (NULL: all), newest first, filtered by ?status=. */
static void seat_list(struct api_call *c, const char *tenant)
{
	char status[16];
	json_t *all = json_array(), *out = json_array(), *v;
	size_t i;
	int err;

	if (arg_str(c, "status", status, sizeof(status))) {
		json_decref(all);
		json_decref(out);
		return;
	}
	err = all && out
		  ? store_seat_request_list(c->api->conf.store, tenant, PAGE_MAX, seat_add, all)
		  : -ENOMEM;
	if (err < 0) {
		json_decref(all);
		json_decref(out);
		api_store_error(c->req, err, "seat requests");
		return;
	}
	json_array_foreach(all, i, v)
	{
		if (!status[0] || !strcmp(status, json_string_value(json_object_get(v, "status"))))
			json_array_append(out, v);
	}
	json_decref(all);
	api_json(c->req, 200, json_pack("{so}", "items", out));
}

void api_res_seat_requests(struct api_call *c)
{
	seat_list(c, c->tenant_id);
}

void api_res_seat_requests_all(struct api_call *c)
{
	seat_list(c, NULL);
}

/* POST .../seat-requests {"seats": N, "reason": "..."}: a tenant admin asks for a quota. */
void api_res_seat_request_add(struct api_call *c)
{
	json_t *body = api_body_object(c->req), *seats, *reason;
	char by[2 * STORE_ID_SIZE + 2];
	struct store_seat_request r = {.tenant_id = c->tenant_id, .requested_by = by};
	int64_t id = 0;
	int err;

	if (!body)
		return;
	seats = json_object_get(body, "seats");
	reason = json_object_get(body, "reason");
	if (!json_is_integer(seats) || json_integer_value(seats) < 0 ||
	    json_integer_value(seats) > 1000000) {
		api_error(c->req, 400, "invalid", "seats: expected the quota wanted, 0-1000000");
	} else if (reason && (!json_is_string(reason) || strlen(json_string_value(reason)) > 500)) {
		api_error(c->req, 400, "invalid", "reason: expected a string of up to 500 bytes");
	} else {
		snprintf(by, sizeof(by), "%s/%s", c->who->tenant[0] ? c->who->tenant : "operator",
			 c->who->user);
		r.seats = (uint32_t)json_integer_value(seats);
		r.reason = reason ? json_string_value(reason) : "";
		r.created_ms = clock_real_ms();
		err = store_seat_request_add(c->api->conf.store, &r, &id);
		if (err) {
			api_store_error(c->req, err, "tenant");
		} else {
			api_audit(c, "seats.request", c->tenant_id,
				  json_pack("{sIsi}", "id", (json_int_t)id, "seats", (int)r.seats));
			api_publish(
			    c->api, c->tenant_id, "seats.requested", NULL,
			    json_pack("{sIsi}", "id", (json_int_t)id, "seats", (int)r.seats));
			api_json(c->req, 201,
				 json_pack("{sIsssisssssssIsI}", "id", (json_int_t)id, "tenant",
					   r.tenant_id, "seats", (int)r.seats, "reason", r.reason,
					   "status", "pending", "requested_by", by, "decided_by",
					   "", "created_ms", (json_int_t)r.created_ms, "decided_ms",
					   (json_int_t)0));
		}
	}
	json_decref(body);
}

/* PUT /seat-requests/{id} {"decision": "approve" | "refuse"} (operator). */
void api_res_seat_request_decide(struct api_call *c)
{
	json_t *body = api_body_object(c->req), *all = NULL, *v;
	const char *d;
	char by[STORE_ID_SIZE + 16];
	uint64_t id = 0;
	size_t i;
	int err;

	if (!body)
		return;
	d = json_string_value(json_object_get(body, "decision"));
	if (str_to_u64(&c->id, &id) || !id || id > INT64_MAX) {
		api_error(c->req, 404, "not_found", "id: no such seat request");
	} else if (!d || (strcmp(d, "approve") && strcmp(d, "refuse"))) {
		api_error(c->req, 400, "invalid", "decision: expected approve or refuse");
	} else {
		snprintf(by, sizeof(by), "operator/%s", c->who->user);
		err = store_seat_request_decide(c->api->conf.store, (int64_t)id,
						!strcmp(d, "approve"), by, clock_real_ms());
		all = json_array();
		if (!err && all)
			err = store_seat_request_list(c->api->conf.store, NULL, PAGE_MAX, seat_add,
						      all);
		if (err == -EPERM) {
			api_error(c->req, 409, "conflict", "id: decided already");
		} else if (err < 0 || !all) {
			api_store_error(c->req, err < 0 ? err : -ENOMEM, "id");
		} else {
			json_t *found = NULL;

			json_array_foreach(all, i, v)
			{
				if ((uint64_t)json_integer_value(json_object_get(v, "id")) == id)
					found = v;
			}
			if (found) {
				const char *t = json_string_value(json_object_get(found, "tenant"));

				api_audit(c, "seats.decide", t,
					  json_pack("{sIss}", "id", (json_int_t)id, "decision", d));
				api_publish(c->api, t, "seats.decided", NULL, json_incref(found));
				if (!strcmp(d, "approve") && c->api->conf.live &&
				    c->api->conf.live->changed)
					c->api->conf.live->changed(c->api->conf.live_arg, t);
				api_json(c->req, 200, json_incref(found));
			} else {
				api_error(c->req, 404, "not_found", "id: no such seat request");
			}
		}
	}
	json_decref(all);
	json_decref(body);
}

/* --- recordings --- */

static int recording_add(const struct store_recording *r, void *arg)
{
	return json_array_append_new(arg, json_pack("{sssssIsIsssI}", "path", r->path, "call",
						    r->call_uuid, "duration_ms",
						    (json_int_t)r->duration_ms, "bytes",
						    (json_int_t)r->bytes, "sha256", r->sha256,
						    "created_ms", (json_int_t)r->created_ms))
		   ? -ENOMEM
		   : 0;
}

/* GET .../recordings?from=&to= (ms): metadata, oldest first. */
void api_res_recordings(struct api_call *c)
{
	uint64_t from = 0, to = INT64_MAX;
	json_t *items;
	int err;

	if (arg_u64(c, "from", &from) || arg_u64(c, "to", &to))
		return;
	if (from > INT64_MAX || to > INT64_MAX) {
		api_error(c->req, 400, "invalid", "to: out of range");
		return;
	}
	items = json_array();
	err = items ? store_recording_list(c->api->conf.store, c->tenant_id, NULL, (int64_t)from,
					   (int64_t)to, recording_add, items)
		    : -ENOMEM;
	if (err < 0) {
		json_decref(items);
		api_store_error(c->req, err, "recordings");
		return;
	}
	api_json(c->req, 200, json_pack("{so}", "items", items));
}

/* The recordings of the path's call ({id}); NULL and an answer when none. */
static json_t *call_recordings(struct api_call *c)
{
	json_t *items = json_array();
	int err = items ? store_recording_list(c->api->conf.store, c->tenant_id, c->id_s, 0, 0,
					       recording_add, items)
			: -ENOMEM;

	if (err > 0)
		return items;
	json_decref(items);
	if (err == 0)
		api_error(c->req, 404, "not_found", "id: no recording of this call");
	else
		api_store_error(c->req, err, "recordings");
	return NULL;
}

/* GET .../recordings/{id}: the call's recordings' metadata. */
void api_res_recording(struct api_call *c)
{
	json_t *items = call_recordings(c);

	if (items)
		api_json(c->req, 200, json_pack("{so}", "items", items));
}

/* GET .../recordings/{id}/audio: the call's (first) recording, with Range. */
void api_res_recording_audio(struct api_call *c)
{
	json_t *items = call_recordings(c);
	const char *path;
	char file[4096];
	int fd;

	if (!items)
		return;
	path = json_string_value(json_object_get(json_array_get(items, 0), "path"));
	if (!c->api->conf.data_dir || !path || strstr(path, "..")) {
		api_error(c->req, 404, "not_found", "id: recording not on this node");
	} else {
		snprintf(file, sizeof(file), "%s/%s", c->api->conf.data_dir, path);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			api_error(c->req, 404, "not_found", "id: recording not on this node");
		else
			http_respond_fd(c->req, fd, "audio/wav", "Cache-Control: private\r\n");
	}
	json_decref(items);
}

/* --- numbers and skills --- */

static int number_add(const struct store_number *n, void *arg)
{
	return json_array_append_new(
		   arg, json_pack("{ssso}", "number", n->number, "route", json_text(n->route)))
		   ? -ENOMEM
		   : 0;
}

/* GET .../numbers: the tenant's numbers (DIDs) and their routes. */
void api_res_numbers(struct api_call *c)
{
	json_t *items = json_array();
	int err = items ? store_number_list(c->api->conf.store, c->tenant_id, number_add, items)
			: -ENOMEM;

	if (err < 0) {
		json_decref(items);
		api_store_error(c->req, err, "numbers");
		return;
	}
	api_json(c->req, 200, json_pack("{so}", "items", items));
}

/* Skill name -> {"skill", "agents": {user: level}, "queues": {queue: minimum}}. */
static int skills_of(json_t *skills, const char *owner, const char *json, const char *field)
{
	json_t *v = json_text(json), *level;
	const char *name;
	int err = 0;

	json_object_foreach(v, name, level)
	{
		json_t *s = json_object_get(skills, name);

		if (!s) {
			s = json_pack("{sss{}s{}}", "skill", name, "agents", "queues");
			if (!s || json_object_set_new(skills, name, s)) {
				err = -ENOMEM;
				break;
			}
		}
		if (json_object_set(json_object_get(s, field), owner, level)) {
			err = -ENOMEM;
			break;
		}
	}
	json_decref(v);
	return err;
}

static int skill_user(const struct store_user *u, void *arg)
{
	unsigned roles = 0;

	if (acct_roles_parse(u->roles, &roles) || !(roles & ACCT_ROLE_AGENT))
		return 0;
	return skills_of(arg, u->id, u->skills, "agents");
}

static int skill_queue(const struct store_queue *q, void *arg)
{
	return skills_of(arg, q->id, q->skills, "queues");
}

/* GET .../skills: every skill of the tenant with its agents' levels and its queues' minimums. */
void api_res_skills(struct api_call *c)
{
	json_t *skills = json_object(), *items = json_array(), *s;
	const char *name;
	int err = skills && items
		      ? store_user_list(c->api->conf.store, c->tenant_id, skill_user, skills)
		      : -ENOMEM;

	if (err >= 0)
		err = store_queue_list(c->api->conf.store, c->tenant_id, skill_queue, skills);
	json_object_foreach(skills, name, s)
	{
		if (err >= 0 && json_array_append(items, s))
			err = -ENOMEM;
	}
	json_decref(skills);
	if (err < 0) {
		json_decref(items);
		api_store_error(c->req, err, "skills");
		return;
	}
	api_json(c->req, 200, json_pack("{so}", "items", items));
}

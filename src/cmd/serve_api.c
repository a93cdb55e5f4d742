/*
 * serve_api: the API of `shenggu serve` on the ACD's live state.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "serve"
#include "api/api.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mbuf.h"
#include "base/mem.h"
#include "cmd/serve_acd.h"
#include "cmd/serve_api.h"
#include "cmd/serve_call.h"
#include "cmd/serve_journal.h"
#include "cmd/serve_hook.h"
#include "cmd/serve_reg.h"
#include "http/http.h"
#include "qlog/qlog.h"

/* A tenant's generation: bumped by every change of its live state. */
struct gen {
	uint64_t n;
	char tenant[STORE_ID_SIZE];
};

struct serve_api {
	struct serve_call *call;
	struct hash *gens; /* tenant -> struct gen */
	uint64_t gen_all;  /* bumped when a tenant's could not be */
	struct serve_acd *acd;
	struct serve_journal *journal;
	struct serve_reg *reg;
	struct api *api;
	struct http_server *http;
	struct serve_hook *hook; /* webhooks: the API's events go there too */
};

static struct gen *gen_of(struct serve_api *s, const char *tenant, bool make)
{
	struct str k = str_cstr(tenant);
	struct gen *g = hash_get(s->gens, &k);

	if (g || !make || strlen(tenant) >= STORE_ID_SIZE)
		return g;
	g = mem_zalloc(sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->tenant, sizeof(g->tenant), "%s", tenant);
	k = str_cstr(g->tenant);
	if (hash_put(s->gens, &k, g, NULL)) {
		mem_free(g);
		return NULL;
	}
	return g;
}

/* Something of @tenant's live state changed. When the count cannot be
 * kept (out of memory), every tenant's answers are dropped instead. */
static void gen_bump(struct serve_api *s, const char *tenant)
{
	struct gen *g = gen_of(s, tenant, true);

	if (g) {
		g->n++;
		return;
	}
	s->gen_all++;
}

static void gens_free(struct serve_api *s)
{
	size_t it = 0;
	struct str k;
	void *v;

	while (s->gens && hash_next(s->gens, &it, &k, &v))
		mem_free(v);
	hash_free(s->gens);
	s->gens = NULL;
}

static uint64_t live_generation(void *arg, const char *tenant)
{
	struct serve_api *s = arg;
	struct gen *g = gen_of(s, tenant, false);

	return (g ? g->n : 0) + (s->gen_all << 32);
}

static int live_agents(void *arg, const char *tenant, const char *user, json_t **out)
{
	struct serve_api *s = arg;

	return serve_acd_agents_json(s->acd, tenant, user, out);
}

static int live_agent_set(void *arg, const char *tenant, const char *user, const char *state,
			  uint32_t reason, char *msg, size_t size)
{
	struct serve_api *s = arg;
	json_t *cur = NULL;
	const char *now = NULL;
	int err;

	/* Ready or not ready from logged out logs in first, as an agent
	 * desktop's state selector means it. */
	if (strcmp(state, "logged-out") && !serve_acd_agents_json(s->acd, tenant, user, &cur))
		now = json_string_value(json_object_get(json_array_get(cur, 0), "state"));
	if (now && !strcmp(now, "logged-out") && strcmp(state, "logged-in")) {
		err = serve_acd_feature(s->acd, tenant, user, SERVE_ACD_LOGIN, 0, msg, size);
		if (err) {
			json_decref(cur);
			return err;
		}
	}
	json_decref(cur);
	if (!strcmp(state, "logged-in"))
		return serve_acd_feature(s->acd, tenant, user, SERVE_ACD_LOGIN, 0, msg, size);
	if (!strcmp(state, "logged-out"))
		return serve_acd_feature(s->acd, tenant, user, SERVE_ACD_LOGOUT, 0, msg, size);
	if (!strcmp(state, "ready"))
		return serve_acd_feature(s->acd, tenant, user, SERVE_ACD_READY, 0, msg, size);
	return serve_acd_feature(s->acd, tenant, user, SERVE_ACD_NOT_READY, reason, msg, size);
}

static int live_queues(void *arg, const char *tenant, const char *queue, json_t **out)
{
	struct serve_api *s = arg;

	return serve_acd_queues_json(s->acd, tenant, queue, out);
}

/* Every call of the tenant, with the ACD's view (queue, position, wait) where it holds it. */
static int live_calls(void *arg, const char *tenant, json_t **out)
{
	struct serve_api *s = arg;
	json_t *calls = NULL, *queued = NULL, *c, *q;
	size_t i, j;
	int err = serve_call_list_json(s->call, tenant, &calls);

	if (!err)
		err = serve_acd_calls_json(s->acd, tenant, &queued);
	json_array_foreach(calls, i, c)
	{
		json_array_foreach(queued, j, q)
		{
			if (json_equal(json_object_get(c, "uuid"), json_object_get(q, "uuid")) &&
			    json_object_update_missing(c, q))
				err = -ENOMEM;
		}
	}
	json_decref(queued);
	if (err) {
		json_decref(calls);
		return err;
	}
	*out = calls;
	return 0;
}

static int live_hangup(void *arg, const char *tenant, const char *uuid, const char *agent)
{
	struct serve_api *s = arg;

	return serve_call_hangup(s->call, tenant, uuid, agent);
}

static int live_seats_in_use(void *arg, const char *tenant, uint32_t *n)
{
	struct serve_api *s = arg;

	return serve_acd_logged_in(s->acd, tenant, n);
}

static int live_audit(void *arg, const struct store_audit *a)
{
	struct serve_api *s = arg;

	return s->journal ? serve_journal_audit(s->journal, a) : -ENODEV;
}

static void live_changed(void *arg, const char *tenant)
{
	struct serve_api *s = arg;

	serve_acd_changed(s->acd, tenant);
	gen_bump(s, tenant);
}

static int live_prometheus(void *arg, struct mbuf *out)
{
	struct serve_api *s = arg;
	int n = mbuf_printf(
	    out,
	    "# HELP shenggu_http_connections Open HTTP and WebSocket connections.\n"
	    "# TYPE shenggu_http_connections gauge\n"
	    "shenggu_http_connections %zu\n"
	    "# HELP shenggu_registrations Registered contacts (bindings) of all tenants.\n"
	    "# TYPE shenggu_registrations gauge\n"
	    "shenggu_registrations %zu\n",
	    http_server_connections(s->http), reg_count(serve_reg_reg(s->reg)));

	return n < 0 ? -ENOMEM : 0;
}

static const struct api_live live = {
    .agents = live_agents,
    .agent_set = live_agent_set,
    .queues = live_queues,
    .calls = live_calls,
    .generation = live_generation,
    .hangup = live_hangup,
    .seats_in_use = live_seats_in_use,
    .audit = live_audit,
    .changed = live_changed,
    .prometheus = live_prometheus,
};

/* The task event a queue_log event is, or NULL. */
static const char *task_event(enum qlog_type t)
{
	switch (t) {
	case QLOG_ENTERQUEUE:
		return "task.queued";
	case QLOG_RINGSTART:
		return "task.offered";
	case QLOG_RINGNOANSWER:
		return "task.missed";
	case QLOG_CONNECT:
		return "task.answered";
	case QLOG_COMPLETECALLER:
	case QLOG_COMPLETEAGENT:
	case QLOG_ABANDON:
	case QLOG_EXITWITHTIMEOUT:
	case QLOG_EXITEMPTY:
	case QLOG_EXITWITHKEY:
	case QLOG_EXITFULL:
	case QLOG_TRANSFER:
	case QLOG_BLINDTRANSFER:
	case QLOG_ATTENDEDTRANSFER:
		return "task.ended";
	default:
		return NULL;
	}
}

/* The ACD's events become the stream's: the task, the agent's new state, the queue's figures. */
static void on_acd_event(void *arg, const char *tenant, const struct qlog_event *ev)
{
	struct serve_api *s = arg;
	const char *te = task_event(ev->type);

	gen_bump(s, tenant);
	char agent[128], queue[128], uuid[128];
	json_t *arr = NULL;

	str_copy_cstr(agent, sizeof(agent), &ev->agent);
	str_copy_cstr(queue, sizeof(queue), &ev->queue);
	str_copy_cstr(uuid, sizeof(uuid), &ev->callid);
	if (!strcmp(agent, "NONE"))
		agent[0] = '\0';
	if (!strcmp(queue, "NONE"))
		queue[0] = '\0';
	if (te)
		api_publish(s->api, tenant, te, agent[0] ? agent : NULL,
			    json_pack("{ssssssss}", "uuid", uuid, "queue", queue, "agent", agent,
				      "event", qlog_type_name(ev->type)));
	if (agent[0] && !serve_acd_agents_json(s->acd, tenant, agent, &arr) && json_array_size(arr))
		api_publish(s->api, tenant, "agent.state", agent,
			    json_incref(json_array_get(arr, 0)));
	json_decref(arr);
	arr = NULL;
	if (queue[0] && !serve_acd_queues_json(s->acd, tenant, queue, &arr) && json_array_size(arr))
		api_publish(s->api, tenant, "queue.metrics", NULL,
			    json_incref(json_array_get(arr, 0)));
	json_decref(arr);
}

/* A phone registered, refreshed or went away: "registration" about its user. */
static void on_reg_event(void *arg, const struct reg_binding *b, bool removed)
{
	struct serve_api *s = arg;
	char tenant[STORE_ID_SIZE], user[STORE_ID_SIZE], contact[256];

	if (!str_copy_cstr(tenant, sizeof(tenant), &b->tenant_id))
		return;
	str_copy_cstr(user, sizeof(user), &b->user);
	str_copy_cstr(contact, sizeof(contact), &b->contact);
	api_publish(s->api, tenant, "registration", user,
		    json_pack("{sssssbsI}", "user", user, "contact", contact, "registered",
			      !removed, "expires_ms", (json_int_t)(removed ? 0 : b->expires_ms)));
}

int serve_api_alloc(struct serve_api **sp, const struct serve_api_conf *conf, struct loop *l,
		    struct store *st, struct serve_acd *acd, struct serve_reg *reg, char *errbuf,
		    size_t errlen)
{
	struct serve_api *s = mem_zalloc(sizeof(*s));
	struct api_conf ac = {
	    .store = st,
	    .loop = l,
	    .live = &live,
	    .version = SHENGGU_VERSION,
	    .openapi_path = conf->openapi,
	    .data_dir = conf->data_dir,
	};
	struct http_conf hc = {
	    .host = conf->host,
	    .port = conf->port,
	    .api_prefix = "/api/",
	    .api_exact = "/metrics",
	    .static_dir = conf->web_dir,
	    .ws_path = "/api/v1/events",
	    .max_body = 1 << 20,
	    .idle_timeout_s = 60,
	    .on_request = api_request,
	    .on_ws_open = api_ws_open,
	    .on_ws_writable = api_ws_writable,
	    .on_ws_message = api_ws_message,
	    .on_ws_close = api_ws_close,
	};
	int err;

	if (!s)
		return -ENOMEM;
	if (hash_alloc(&s->gens, 64, 0)) {
		mem_free(s);
		return -ENOMEM;
	}
	s->acd = acd;
	s->journal = conf->journal;
	s->call = conf->call;
	s->reg = reg;
	ac.live_arg = s;
	if (conf->db_url) {
		err = serve_hook_alloc(&s->hook, conf->db_url);
		if (err) {
			snprintf(errbuf, errlen, "webhooks not started: error %d", -err);
			gens_free(s);
			mem_free(s);
			return err;
		}
		ac.on_event = serve_hook_event;
		ac.on_event_arg = s->hook;
	}
	err = api_alloc(&s->api, &ac);
	if (err) {
		snprintf(errbuf, errlen, "API not started: error %d", -err);
		serve_hook_free(s->hook);
		gens_free(s);
		mem_free(s);
		return err;
	}
	hc.arg = s->api;
	err = http_server_alloc(&s->http, &hc, l, errbuf, errlen);
	if (err) {
		api_free(s->api);
		serve_hook_free(s->hook);
		gens_free(s);
		mem_free(s);
		return err;
	}
	serve_acd_listen(acd, on_acd_event, s);
	serve_reg_listen(reg, on_reg_event, s);
	*sp = s;
	return 0;
}

void serve_api_stop(struct serve_api *s)
{
	if (!s || !s->api)
		return;
	serve_acd_listen(s->acd, NULL, NULL);
	serve_reg_listen(s->reg, NULL, NULL);
	http_server_stop(s->http); /* from now on, no call into the api */
	api_free(s->api);
	s->api = NULL;
	serve_hook_free(s->hook); /* stores the events queued, stops the sender */
	s->hook = NULL;
}

void serve_api_free(struct serve_api *s)
{
	if (!s)
		return;
	serve_api_stop(s);
	http_server_free(s->http);
	gens_free(s);
	mem_free(s);
}

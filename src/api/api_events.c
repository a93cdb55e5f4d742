/*
 * api_events: the live event stream (WebSocket /api/v1/events).
 *
 * Every event is serialized once, into a ring of the last `window` events
 * (the global ring, indexed by id). Clients keep no queue of their own, only
 * a cursor: a tenant's clients walk their tenant's ring of event ids (so a
 * client never looks at other tenants' events), the operator's walk the
 * global ring. Publishing asks lws for writability of the tenant's idle
 * clients; on writability a client sends what lies between its cursor and
 * the newest event, skipping what it may not see, until the socket is full.
 * A slow client therefore costs one cursor, not a growing queue; one that
 * falls further behind than the window gets a "gap" message and continues
 * from the oldest event kept.
 *
 * A client that reconnects with ?last_id=N receives the events after N that
 * are still kept, preceded by a "gap" message when some were lost.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "api"
#include "api/api_internal.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/mem.h"

#define GROUP_WINDOW 1024 /* events kept per tenant for reconnecting clients */

struct ev {
	uint64_t id;
	char *json; /* the message as sent */
	size_t len;
	char tenant[STORE_ID_SIZE];
	char user[STORE_ID_SIZE]; /* the agent it is about; "" none */
	bool for_agents;	  /* every agent of the tenant may see it */
};

/* The clients and recent event ids of one tenant. */
struct group {
	char tenant[STORE_ID_SIZE];
	struct list subs;
	size_t nsubs;
	uint64_t ids[GROUP_WINDOW];
	uint64_t seq;	  /* entries ever added; the next goes at seq % GROUP_WINDOW */
	uint64_t dropped; /* id of the newest entry pushed out of the window */
};

struct sub {
	struct api_events *e;
	struct http_ws *ws;
	struct group *g; /* NULL: an operator, on the global ring */
	struct list_elem le;
	uint64_t pos;	/* next group entry, or next global id for operators */
	uint64_t after; /* replay: only events with a larger id */
	bool hello;	/* the hello message is out */
	bool gap;	/* a gap message is due */
	bool agent;	/* sees only events about itself (and queue figures) */
	bool want;	/* waits for a writable callback (or for its hello) */
	char user[STORE_ID_SIZE];
};

struct api_events {
	struct ev *ring;
	size_t cap; /* a power of two */
	uint64_t next_id;
	struct hash *groups;
	struct list ops;
	size_t nsubs;
};

int api_events_alloc(struct api_events **ep, size_t window)
{
	struct api_events *e = mem_zalloc(sizeof(*e));
	size_t cap = 1024;

	if (!e)
		return -ENOMEM;
	while (cap < window && cap < ((size_t)1 << 24))
		cap <<= 1;
	e->cap = cap;
	e->next_id = 1;
	list_init(&e->ops);
	e->ring = mem_zalloc(cap * sizeof(*e->ring));
	if (!e->ring || hash_alloc(&e->groups, 64, 0)) {
		mem_free(e->ring);
		mem_free(e);
		return -ENOMEM;
	}
	*ep = e;
	return 0;
}

static void subs_free(struct list *subs)
{
	struct list_elem *le, *tmp;

	list_for_each_safe(subs, le, tmp)
	{
		list_unlink(le);
		mem_free(list_entry(le, struct sub, le));
	}
}

void api_events_free(struct api_events *e)
{
	size_t it = 0;
	struct str key;
	void *val;

	if (!e)
		return;
	/* The http server has stopped calling us: the clients left are ours to free. */
	subs_free(&e->ops);
	while (hash_next(e->groups, &it, &key, &val)) {
		subs_free(&((struct group *)val)->subs);
		mem_free(val);
	}
	hash_free(e->groups);
	for (size_t i = 0; i < e->cap; i++)
		mem_free(e->ring[i].json);
	mem_free(e->ring);
	mem_free(e);
}

static struct group *group_get(struct api_events *e, const char *tenant, bool create)
{
	struct str k = str_cstr(tenant);
	struct group *g = hash_get(e->groups, &k);

	if (g || !create)
		return g;
	g = mem_zalloc(sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->tenant, sizeof(g->tenant), "%s", tenant);
	list_init(&g->subs);
	k = str_cstr(g->tenant);
	if (hash_put(e->groups, &k, g, NULL)) {
		mem_free(g);
		return NULL;
	}
	return g;
}

/* The event with @id while the ring still holds it. */
static const struct ev *ev_get(const struct api_events *e, uint64_t id)
{
	const struct ev *ev = &e->ring[id & (e->cap - 1)];

	return ev->id == id && ev->json ? ev : NULL;
}

static void pump(struct sub *s);

/*
 * A new event for @subs: a client that is not waiting for writability gets
 * it written at once (lws buffers what the socket does not take, and then
 * reports the client choked), which spares the poll changes of asking
 * for writability for every client and event (four epoll_ctl calls each,
 * a third of the CPU at 35,000 messages/s). A client that is waiting gets
 * the event from its writable callback.
 */
static void wake(struct list *subs)
{
	struct list_elem *le, *tmp;

	list_for_each_safe(subs, le, tmp)
	{
		struct sub *s = list_entry(le, struct sub, le);

		if (!s->want)
			pump(s);
	}
}

uint64_t api_publish(struct api *a, const char *tenant, const char *type, const char *user,
		     json_t *data)
{
	struct api_events *e = a->ev;
	struct ev *ev;
	struct group *g = NULL;
	json_t *msg;
	char *text;
	uint64_t id = e->next_id;

	msg = json_pack("{sIsssssIso}", "id", (json_int_t)id, "type", type, "tenant",
			tenant ? tenant : "", "time", (json_int_t)clock_real_ms(), "data",
			data ? data : json_object());
	if (!msg)
		return 0;
	if (user)
		json_object_set_new(msg, "user", json_string(user));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!text)
		return 0;
	if (tenant && *tenant) {
		g = group_get(e, tenant, true);
		if (!g) {
			free(text);
			return 0;
		}
	}
	ev = &e->ring[id & (e->cap - 1)];
	free(ev->json);
	ev->id = id;
	ev->json = text;
	ev->len = strlen(text);
	snprintf(ev->tenant, sizeof(ev->tenant), "%s", tenant ? tenant : "");
	snprintf(ev->user, sizeof(ev->user), "%s", user ? user : "");
	ev->for_agents = !strncmp(type, "queue.", 6);
	e->next_id++;
	if (g) {
		size_t slot = g->seq % GROUP_WINDOW;

		if (g->seq >= GROUP_WINDOW)
			g->dropped = g->ids[slot];
		g->ids[slot] = id;
		g->seq++;
		wake(&g->subs);
	}
	wake(&e->ops);
	if (a->conf.on_event)
		a->conf.on_event(a->conf.on_event_arg, tenant, type, ev->json, ev->len);
	return id;
}

size_t api_stream_clients(const struct api *a)
{
	return a->ev->nsubs;
}

/* Where a client that has seen everything up to @after starts in @g. */
static uint64_t group_start(const struct group *g, uint64_t after, bool *gap)
{
	uint64_t lo = g->seq > GROUP_WINDOW ? g->seq - GROUP_WINDOW : 0;

	*gap = g->dropped > after;
	while (lo < g->seq && g->ids[lo % GROUP_WINDOW] <= after)
		lo++;
	return lo;
}

int api_ws_open(void *arg, struct http_ws *ws, const struct http_req *req, void **userp)
{
	struct api *a = arg;
	struct api_events *e = a->ev;
	const struct api_session *who = api_auth_session(a, req);
	struct str last = http_req_arg(req, "last_id");
	struct sub *s;
	uint64_t after = e->next_id - 1;

	if (!who)
		return 401;
	if (last.p && (str_to_u64(&last, &after) || after >= e->next_id))
		return 400;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return 503;
	s->e = e;
	s->ws = ws;
	s->after = after;
	s->agent = !(who->roles & (ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR)) &&
		   !(who->roles & ACCT_ROLE_OPERATOR);
	snprintf(s->user, sizeof(s->user), "%s", who->user);
	if (who->roles & ACCT_ROLE_OPERATOR) {
		uint64_t oldest = e->next_id > e->cap ? e->next_id - e->cap : 1;

		s->gap = after + 1 < oldest;
		s->pos = s->gap ? oldest : after + 1;
		list_append(&e->ops, &s->le);
	} else {
		s->g = group_get(e, who->tenant, true);
		if (!s->g) {
			mem_free(s);
			return 503;
		}
		s->pos = group_start(s->g, after, &s->gap);
		list_append(&s->g->subs, &s->le);
		s->g->nsubs++;
	}
	e->nsubs++;
	*userp = s;
	s->want = true; /* nothing may be written before the upgrade is done */
	http_ws_want_write(ws);
	return 0;
}

static bool visible(const struct sub *s, const struct ev *ev)
{
	return !s->agent || ev->for_agents || !strcmp(ev->user, s->user);
}

/* The next event for @s, advancing its cursor; NULL when it is up to date. */
static const struct ev *next_event(struct sub *s)
{
	struct api_events *e = s->e;

	for (;;) {
		const struct ev *ev;

		if (!s->g) {
			if (s->pos >= e->next_id)
				return NULL;
			ev = ev_get(e, s->pos++);
		} else {
			struct group *g = s->g;

			if (s->pos >= g->seq)
				return NULL;
			if (g->seq - s->pos > GROUP_WINDOW) { /* fell out of the window */
				s->pos = g->seq - GROUP_WINDOW;
				s->gap = true;
				return NULL;
			}
			ev = ev_get(e, g->ids[s->pos++ % GROUP_WINDOW]);
		}
		if (!ev) { /* overwritten in the global ring */
			s->gap = true;
			return NULL;
		}
		if (ev->id > s->after && visible(s, ev))
			return ev;
	}
}

/* Write what @s has not seen, until its socket is full. */
static void pump(struct sub *s)
{
	struct http_ws *ws = s->ws;
	char buf[160];
	int rc = 0;

	if (!s->hello) {
		int n = snprintf(buf, sizeof(buf), "{\"type\":\"hello\",\"id\":%llu}",
				 (unsigned long long)(s->e->next_id - 1));

		s->hello = true;
		rc = http_ws_write(ws, buf, (size_t)n);
	}
	while (rc == 0) {
		const struct ev *ev;

		if (s->gap) {
			int n = snprintf(buf, sizeof(buf),
					 "{\"type\":\"gap\",\"after\":%llu,\"message\":"
					 "\"events were lost: reload the state\"}",
					 (unsigned long long)s->after);

			s->gap = false;
			rc = http_ws_write(ws, buf, (size_t)n);
			continue;
		}
		ev = next_event(s);
		if (!ev) {
			if (s->gap)
				continue;
			return;
		}
		s->after = ev->id;
		rc = http_ws_write(ws, ev->json, ev->len);
	}
	if (rc > 0) {
		s->want = true;
		http_ws_want_write(ws);
	}
}

void api_ws_writable(void *arg, struct http_ws *ws, void *user)
{
	struct sub *s = user;

	(void)arg;
	(void)ws;
	s->want = false;
	pump(s);
}

void api_ws_message(void *arg, struct http_ws *ws, void *user, const char *msg, size_t len)
{
	(void)arg;
	(void)user;
	/* A ping from the client: the stream is one-way otherwise. */
	if (len == 6 && !memcmp(msg, "\"ping\"", 6))
		http_ws_write(ws, "\"pong\"", 6);
}

void api_ws_close(void *arg, struct http_ws *ws, void *user)
{
	struct sub *s = user;

	(void)arg;
	(void)ws;
	if (!s)
		return;
	list_unlink(&s->le);
	if (s->g)
		s->g->nsubs--;
	s->e->nsubs--;
	mem_free(s);
}

/*
 * serve_acd: the ACD of `shenggu serve` (see serve_acd.h). Layout: the
 * queue_log writer; a tenant's engine built from the store; the engine's
 * decisions and log events, queued while the engine runs and acted on
 * after it returns; call events in; feature codes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define LOG_MODULE "acd"
#include "acd/acd.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timer.h"
#include "cmd/serve_acd.h"
#include "cmd/serve_journal.h"
#include "qlog/qlog.h"
#include "qlog/qstats.h"

#define UUID_SIZE    40
#define RING_SLACK_S 2	 /* the engine's ring timeout fires first */
#define REASONS	     100 /* pause reason codes 0..99 */
#define LINE_MAX_LEN 1024

struct qinfo {
	uint32_t id;
	char name[STORE_ID_SIZE];
	uint32_t ring_timeout_s;
	enum serve_acd_exit exit_kind; /* an overflow the engine does not move */
	char exit_target[STORE_ID_SIZE];
	struct list tasks; /* waiting and ringing, in arrival order: positions */
};

struct ainfo {
	uint32_t id;
	char name[STORE_ID_SIZE];
	enum acd_agent_state state;
	int64_t login_ms; /* wall clock, for AGENTLOGOFF */
	uint64_t wrap_ms; /* engine clock: wrap-up began */
	bool wrapping;	  /* in wrap-up after a call: WRAPUPEND to come */
	char last_uuid[UUID_SIZE];
	char last_queue[STORE_ID_SIZE];
	bool member; /* of at least one queue */
};

struct task {
	struct list_elem le; /* in its queue's tasks while it waits or rings */
	struct tacd *t;
	uint64_t id;
	char key[17]; /* id in hex: tasks_by_id */
	char uuid[UUID_SIZE];
	char caller[80];
	struct qinfo *q;
	uint64_t q_enter_ms; /* engine clock: entered its current queue */
	uint32_t origpos;
	int32_t priority;
	bool connected, by_agent;
	uint64_t connect_ms;
	char agent[STORE_ID_SIZE];
};

/* One tenant's engine and the names behind its numbers. */
struct tacd {
	struct serve_acd *sa;
	char tenant[STORE_ID_SIZE];
	struct acd *acd;
	struct hash *qnames, *anames; /* name -> qinfo / ainfo */
	struct hash *by_uuid, *by_id; /* -> struct task */
	struct qinfo **qv;	      /* by id - 1 */
	size_t nq;
	struct ainfo **av; /* by id - 1 */
	size_t na;
	char *reasons[REASONS]; /* pause reason names by code; NULL when none */
	struct timer tmr;
	struct acd_decision *dq; /* decisions queued while the engine runs */
	size_t ndq, cap;
	bool draining;
	bool stale; /* configuration changed: rebuild once idle */
	uint64_t next_task;
	struct qstats *qs; /* real-time metrics, fed by every queue_log event */
};

struct serve_acd {
	struct loop *l;
	struct store *st;
	struct serve_journal *journal;
	struct serve_acd_ops ops;
	void *arg;
	struct hash *tenants; /* id -> struct tacd */
	serve_acd_event_h *listen;
	void *listen_arg;
	unsigned in_listen; /* inside the listener: engines must stay as they are */
};

static const struct {
	const char *name;
	enum acd_strategy s;
} strategies[] = {
    {"longest-idle", ACD_STRAT_LONGEST_IDLE},
    {"round-robin", ACD_STRAT_RR_MEMORY},
    {"fewest-calls", ACD_STRAT_FEWEST_CALLS},
    {"least-talk-time", ACD_STRAT_LEAST_TALK},
    {"ring-all", ACD_STRAT_RING_ALL},
    {"ring-progressive", ACD_STRAT_LINEAR},
    {"random", ACD_STRAT_RANDOM},
    {"best-skill", ACD_STRAT_BEST_SKILL},
    {"bullseye", ACD_STRAT_BULLSEYE},
};

static uint64_t now_ms(void)
{
	return clock_mono_ms();
}

/* The maps are keyed by C strings that live in their values. */
static void *hget(const struct hash *h, const char *key)
{
	struct str k = str_cstr(key);

	return hash_get(h, &k);
}

static int hput(struct hash *h, const char *key, void *val)
{
	struct str k = str_cstr(key);

	return hash_put(h, &k, val, NULL);
}

static void hdel(struct hash *h, const char *key)
{
	struct str k = str_cstr(key);

	hash_del(h, &k);
}

/* ---- the queue_log ---- */

/* Fields must not hold '|' or a line break: ids never do, callers may. */
static void field_copy(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src && src[i] && i + 1 < size; i++)
		dst[i] = src[i] == '|' || src[i] == '\n' || src[i] == '\r' ? '_' : src[i];
	dst[i] = '\0';
}

/* An event of @type about call @uuid in @queue by @agent; NULL is NONE. */
static struct qlog_event ev_make(enum qlog_type type, const char *uuid, const char *queue,
				 const char *agent)
{
	struct qlog_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.callid = str_cstr(uuid ? uuid : "");
	ev.queue = str_cstr(queue ? queue : "");
	ev.agent = str_cstr(agent ? agent : "");
	return ev;
}

/* Time-stamp @ev, format it (src/qlog) and hand the line to the journal. */
static void qlog_put(struct tacd *t, struct qlog_event *ev)
{
	char line[LINE_MAX_LEN];
	int n;

	ev->time = (int64_t)(clock_real_ms() / 1000);
	n = qlog_format(line, sizeof(line), ev);
	if (n <= 0) {
		log_error("queue_log line not formatted tenant=%s event=%s err=%d", t->tenant,
			  qlog_type_name(ev->type), n);
		return;
	}
	line[n - 1] = '\0'; /* the store keeps lines without their end */
	if (serve_journal_qlog(t->sa->journal, t->tenant, ev->time, line))
		log_error("queue_log line lost: out of memory tenant=%s event=%s", t->tenant,
			  qlog_type_name(ev->type));
	if (t->qs)
		qstats_feed(t->qs, ev);
	if (t->sa->listen) {
		t->sa->in_listen++;
		t->sa->listen(t->sa->listen_arg, t->tenant, ev);
		t->sa->in_listen--;
	}
}

/* An agent-wide event (queue NONE, no call) with a pause reason or a channel. */
static void qlog_agent(struct tacd *t, enum qlog_type type, const char *agent, const char *text,
		       uint32_t logintime)
{
	struct qlog_event ev = ev_make(type, NULL, NULL, agent);

	if (type == QLOG_AGENTLOGIN || type == QLOG_AGENTLOGOFF) {
		ev.d.login.channel = str_cstr(text);
		ev.d.login.logintime = logintime;
	} else {
		ev.d.pause.reason = str_cstr(text);
	}
	qlog_put(t, &ev);
}

/* ---- building a tenant's engine ---- */

static void on_decision(const struct acd_decision *d, void *arg);
static void drain(struct tacd *t);

struct skillmap {
	char names[ACD_SKILLS_MAX][STORE_ID_SIZE];
	unsigned n;
};

/* The engine's number of skill @name, given on first sight; -ENOSPC past 64. */
static int skill_id(struct skillmap *sm, const char *name)
{
	for (unsigned i = 0; i < sm->n; i++) {
		if (!strcmp(sm->names[i], name))
			return (int)i;
	}
	if (sm->n >= ACD_SKILLS_MAX || strlen(name) >= STORE_ID_SIZE)
		return -ENOSPC;
	snprintf(sm->names[sm->n], STORE_ID_SIZE, "%s", name);
	return (int)sm->n++;
}

struct agent_row {
	char name[STORE_ID_SIZE];
	json_t *skills;
};

struct queue_row {
	char name[STORE_ID_SIZE];
	struct acd_queue_conf conf;
	json_t *skills, *members, *overflow;
};

struct build {
	struct tacd *t;
	struct agent_row *agents;
	size_t na, acap;
	struct queue_row *queues;
	size_t nq, qcap;
	struct skillmap sm;
};

static bool has_role(const char *roles, const char *role)
{
	json_t *j = json_loads(roles, 0, NULL);
	bool found = false;
	size_t i;
	json_t *v;

	json_array_foreach(j, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), role))
			found = true;
	}
	json_decref(j);
	return found;
}

/* Room for one more element of @size in the array *@v of *@cap. */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	p = mem_realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static int on_user_row(const struct store_user *u, void *arg)
{
	struct build *b = arg;
	struct agent_row *r;

	if (!has_role(u->roles, "agent"))
		return 0;
	if (grow((void **)&b->agents, b->na, &b->acap, sizeof(*b->agents)))
		return -ENOMEM;
	r = &b->agents[b->na];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", u->id);
	r->skills = json_loads(u->skills, 0, NULL);
	b->na++;
	return 0;
}

static int on_queue_row(const struct store_queue *q, void *arg)
{
	struct build *b = arg;
	struct queue_row *r;

	if (grow((void **)&b->queues, b->nq, &b->qcap, sizeof(*b->queues)))
		return -ENOMEM;
	r = &b->queues[b->nq];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", q->id);
	r->conf.id = (uint32_t)b->nq + 1;
	r->conf.strategy = ACD_STRAT_LONGEST_IDLE;
	for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++) {
		if (!strcmp(strategies[i].name, q->strategy))
			r->conf.strategy = strategies[i].s;
	}
	r->conf.channel = ACD_CHAN_VOICE;
	r->conf.priority = (int32_t)q->priority;
	r->conf.wrapup_s = q->wrapup_s;
	r->conf.ring_timeout_s = q->ring_timeout_s;
	r->conf.max_wait_s = q->max_wait_s;
	r->conf.max_len = q->max_len;
	r->conf.join_empty = q->join_empty;
	r->conf.announce_s = q->announce_s;
	r->conf.sl_s = q->sl_seconds;
	r->conf.tier_wait_s = q->tier_wait_s;
	r->skills = json_loads(q->skills, 0, NULL);
	r->members = q->members ? json_loads(q->members, 0, NULL) : NULL;
	r->overflow = q->overflow ? json_loads(q->overflow, 0, NULL) : NULL;
	b->nq++;
	return 0;
}

static void build_reset(struct build *b)
{
	for (size_t i = 0; i < b->na; i++)
		json_decref(b->agents[i].skills);
	for (size_t i = 0; i < b->nq; i++) {
		json_decref(b->queues[i].skills);
		json_decref(b->queues[i].members);
		json_decref(b->queues[i].overflow);
	}
	mem_free(b->agents);
	mem_free(b->queues);
}

static uint8_t level_of(json_int_t v)
{
	return v < 1 ? 0 : v > ACD_LEVEL_MAX ? ACD_LEVEL_MAX : (uint8_t)v;
}

/* Skill requirements of a queue into its configuration. */
static int queue_skills(struct build *b, struct queue_row *r)
{
	const char *key;
	json_t *val;

	json_object_foreach(r->skills, key, val)
	{
		int id = skill_id(&b->sm, key);

		if (id < 0 || r->conf.nskills >= ACD_QUEUE_SKILLS) {
			log_warn("queue skill ignored tenant=%s queue=%s skill=%s: at most %d "
				 "skills per queue and %d per tenant",
				 b->t->tenant, r->name, key, ACD_QUEUE_SKILLS, ACD_SKILLS_MAX);
			continue;
		}
		r->conf.skills[r->conf.nskills].skill = (uint8_t)id;
		r->conf.skills[r->conf.nskills].min_level = level_of(json_integer_value(val));
		r->conf.nskills++;
	}
	return 0;
}

/* Where the queue's callers go past max_wait / max_len. */
static void queue_exit(struct build *b, struct queue_row *r, struct qinfo *qi)
{
	json_t *v;

	if (!r->overflow)
		return;
	if ((v = json_object_get(r->overflow, "queue"))) {
		struct qinfo *to = hget(b->t->qnames, json_string_value(v));

		if (to)
			r->conf.exit = (struct acd_exit){ACD_EXIT_QUEUE, to->id};
	} else if ((v = json_object_get(r->overflow, "user"))) {
		qi->exit_kind = SERVE_ACD_EXIT_USER;
		snprintf(qi->exit_target, sizeof(qi->exit_target), "%s", json_string_value(v));
	} else if ((v = json_object_get(r->overflow, "ivr"))) {
		qi->exit_kind = SERVE_ACD_EXIT_IVR;
		snprintf(qi->exit_target, sizeof(qi->exit_target), "%s", json_string_value(v));
	}
}

/* Does agent @a meet every requirement of queue @r? */
static bool agent_fits(const struct acd_agent_conf *a, const struct queue_row *r)
{
	for (unsigned i = 0; i < r->conf.nskills; i++) {
		if (a->levels[r->conf.skills[i].skill] < r->conf.skills[i].min_level)
			return false;
	}
	return true;
}

static int members_add(struct build *b, struct queue_row *r, const struct acd_agent_conf *ac)
{
	struct tacd *t = b->t;
	size_t i;
	json_t *m;
	int err;

	if (!r->members) {
		/* No list: every agent with the queue's skills. */
		for (size_t k = 0; k < t->na; k++) {
			if (!agent_fits(&ac[k], r))
				continue;
			err = acd_member_add(t->acd, r->conf.id, t->av[k]->id, 0);
			if (err)
				return err;
			t->av[k]->member = true;
		}
		return 0;
	}
	json_array_foreach(r->members, i, m)
	{
		const char *user = json_string_value(json_object_get(m, "user"));
		struct ainfo *a = user ? hget(t->anames, user) : NULL;

		if (!a) {
			/* Provisioning checks that members are users: a user
			 * without the agent role takes no calls. */
			log_warn("queue member is no agent tenant=%s queue=%s user=%s", t->tenant,
				 r->name, user ? user : "?");
			continue;
		}
		err = acd_member_add(t->acd, r->conf.id, a->id,
				     (uint32_t)json_integer_value(json_object_get(m, "penalty")));
		if (err)
			return err;
		a->member = true;
	}
	return 0;
}

static int reasons_load(struct tacd *t)
{
	char *json = NULL;
	const char *key;
	json_t *j, *val;
	int err = store_tenant_pause_reasons_get(t->sa->st, t->tenant, &json);

	if (err)
		return err;
	j = json_loads(json, 0, NULL);
	mem_free(json);
	json_object_foreach(j, key, val)
	{
		long code = strtol(key, NULL, 10);

		if (code > 1 && code < REASONS && json_is_string(val)) {
			t->reasons[code] = mem_alloc(strlen(json_string_value(val)) + 1);
			if (t->reasons[code])
				strcpy(t->reasons[code], json_string_value(val));
		}
	}
	json_decref(j);
	return 0;
}

static int on_presence(const struct store_presence *p, void *arg)
{
	struct tacd *t = arg;
	struct ainfo *a = hget(t->anames, p->user_id);
	uint64_t now = now_ms();

	if (!a)
		return 0;
	if (acd_agent_login(t->acd, now, a->id))
		return 0;
	a->login_ms = p->since_ms;
	if (!p->ready)
		acd_agent_not_ready(t->acd, now, a->id, p->reason);
	return 0;
}

static int engine_fill(struct tacd *t)
{
	struct build b = {.t = t};
	struct acd_agent_conf *ac = NULL;
	int err;

	err = store_user_list(t->sa->st, t->tenant, on_user_row, &b);
	if (err >= 0)
		err = store_queue_list(t->sa->st, t->tenant, on_queue_row, &b);
	if (err < 0)
		goto out;
	err = -ENOMEM;
	t->qv = mem_zalloc((b.nq + 1) * sizeof(*t->qv));
	t->av = mem_zalloc((b.na + 1) * sizeof(*t->av));
	ac = mem_zalloc((b.na + 1) * sizeof(*ac));
	if (!t->qv || !t->av || !ac)
		goto out;
	for (size_t i = 0; i < b.nq; i++) {
		struct qinfo *q = mem_zalloc(sizeof(*q));

		if (!q)
			goto out;
		q->id = b.queues[i].conf.id;
		snprintf(q->name, sizeof(q->name), "%s", b.queues[i].name);
		q->ring_timeout_s = b.queues[i].conf.ring_timeout_s;
		list_init(&q->tasks);
		t->qv[t->nq++] = q;
		if (hput(t->qnames, q->name, q))
			goto out;
	}
	for (size_t i = 0; i < b.na; i++) {
		struct ainfo *a = mem_zalloc(sizeof(*a));
		const char *key;
		json_t *val;

		if (!a)
			goto out;
		a->id = (uint32_t)i + 1;
		snprintf(a->name, sizeof(a->name), "%s", b.agents[i].name);
		t->av[t->na++] = a;
		if (hput(t->anames, a->name, a))
			goto out;
		ac[i].id = a->id;
		json_object_foreach(b.agents[i].skills, key, val)
		{
			int id = skill_id(&b.sm, key);

			if (id >= 0)
				ac[i].levels[id] = level_of(json_integer_value(val));
		}
	}
	for (size_t i = 0; i < b.nq; i++) {
		queue_skills(&b, &b.queues[i]);
		queue_exit(&b, &b.queues[i], t->qv[i]);
		err = acd_queue_add(t->acd, &b.queues[i].conf);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < b.na; i++) {
		err = acd_agent_add(t->acd, &ac[i]);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < b.nq; i++) {
		err = members_add(&b, &b.queues[i], ac);
		if (err)
			goto out;
	}
	err = reasons_load(t);
	if (!err)
		err = store_presence_list(t->sa->st, t->tenant, on_presence, t);
	err = err < 0 ? err : 0;
	log_info("ACD ready tenant=%s queues=%zu agents=%zu skills=%u", t->tenant, t->nq, t->na,
		 b.sm.n);
out:
	mem_free(ac);
	build_reset(&b);
	return err;
}

static void tacd_free(struct tacd *t)
{
	size_t it = 0;
	struct str k;
	void *v;

	if (!t)
		return;
	timer_cancel(&t->tmr);
	while (t->by_uuid && hash_next(t->by_uuid, &it, &k, &v))
		mem_free(v);
	hash_free(t->by_uuid);
	hash_free(t->by_id);
	hash_free(t->qnames);
	hash_free(t->anames);
	for (size_t i = 0; i < t->nq; i++)
		mem_free(t->qv[i]);
	for (size_t i = 0; i < t->na; i++)
		mem_free(t->av[i]);
	for (size_t i = 0; i < REASONS; i++)
		mem_free(t->reasons[i]);
	mem_free(t->qv);
	mem_free(t->av);
	mem_free(t->dq);
	acd_free(t->acd);
	qstats_free(t->qs);
	mem_free(t);
}

static int stats_queue(const struct store_queue *q, void *arg)
{
	struct str name = str_cstr(q->id);

	return qstats_queue_conf(arg, &name, q->sl_seconds);
}

static int stats_line(int64_t time_s, const char *line, void *arg)
{
	struct qlog_event ev;
	const char *why;

	(void)time_s;
	if (!qlog_parse(&ev, line, strlen(line), &why))
		qstats_feed(arg, &ev);
	return 0;
}

/*
 * Real-time metrics start from the durable queue_log of the last day, so a
 * restart does not reset the figures (the same code computes them as
 * `shenggu metrics`, which replays the same log).
 */
static int stats_fill(struct tacd *t)
{
	struct qstats_conf conf = {0};
	int64_t now_s = (int64_t)(clock_real_ms() / 1000);
	int err = qstats_alloc(&t->qs, &conf);

	if (!err)
		err = store_queue_list(t->sa->st, t->tenant, stats_queue, t->qs);
	if (!err)
		err = store_qlog_list(t->sa->st, t->tenant, now_s - 86400, now_s + 1, stats_line,
				      t->qs);
	return err < 0 ? err : 0;
}

/* The engine of @tenant, built on first use; NULL when it cannot be. */
static struct tacd *tacd_get(struct serve_acd *sa, const char *tenant)
{
	struct tacd *t = hget(sa->tenants, tenant);
	struct acd_conf conf = {.now = now_ms(), .h = on_decision};
	int err;

	if (t && t->stale && !acd_task_count(t->acd) && !hash_count(t->by_uuid)) {
		/* Rebuilt from the store: presence was saved there too. */
		hdel(sa->tenants, tenant);
		tacd_free(t);
		t = NULL;
	}
	if (t)
		return t;
	if (strlen(tenant) >= STORE_ID_SIZE)
		return NULL;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->sa = sa;
	snprintf(t->tenant, sizeof(t->tenant), "%s", tenant);
	timer_init(&t->tmr);
	for (const char *p = tenant; *p; p++)
		conf.seed = conf.seed * 131 + (unsigned char)*p;
	conf.arg = t;
	err = acd_alloc(&t->acd, &conf);
	if (!err)
		err = hash_alloc(&t->qnames, 16, 0);
	if (!err)
		err = hash_alloc(&t->anames, 64, 0);
	if (!err)
		err = hash_alloc(&t->by_uuid, 64, 0);
	if (!err)
		err = hash_alloc(&t->by_id, 64, 0);
	if (!err)
		err = engine_fill(t);
	if (!err)
		err = stats_fill(t);
	if (!err)
		err = hput(sa->tenants, t->tenant, t);
	if (err) {
		log_error("ACD not built tenant=%s err=%d", tenant, err);
		tacd_free(t);
		return NULL;
	}
	drain(t);
	return t;
}

/* ---- decisions ---- */

static void on_decision(const struct acd_decision *d, void *arg)
{
	struct tacd *t = arg;

	if (grow((void **)&t->dq, t->ndq, &t->cap, sizeof(*t->dq))) {
		/* Nothing to do but say so: the engine goes on. */
		log_error("ACD decision lost: out of memory tenant=%s type=%d", t->tenant, d->type);
		return;
	}
	t->dq[t->ndq++] = *d;
}

static struct task *task_of(struct tacd *t, uint64_t id)
{
	char key[17];

	snprintf(key, sizeof(key), "%016llx", (unsigned long long)id);
	return hget(t->by_id, key);
}

static void task_free(struct task *k)
{
	struct tacd *t = k->t;

	if (k->q)
		list_unlink(&k->le);
	hdel(t->by_id, k->key);
	hdel(t->by_uuid, k->uuid);
	mem_free(k);
}

static const char *qname(struct tacd *t, uint32_t id)
{
	return id && id <= t->nq ? t->qv[id - 1]->name : NULL;
}

static struct ainfo *agent_of(struct tacd *t, uint32_t id)
{
	return id && id <= t->na ? t->av[id - 1] : NULL;
}

/* The caller's place in its queue now: 1 + the tasks served before it
 * (a higher priority, or the same and arrived earlier), as the engine
 * orders them. */
static uint32_t position(const struct task *k)
{
	uint32_t n = 1;
	bool before = true;
	struct list_elem *e;

	if (!k->q)
		return 0;
	for (e = list_head(&k->q->tasks); e; e = list_next(&k->q->tasks, e)) {
		const struct task *o = list_entry(e, struct task, le);

		if (o == k)
			before = false;
		else if (o->priority > k->priority || (before && o->priority == k->priority))
			n++;
	}
	return n;
}

static enum qlog_type exit_event(enum acd_exit_reason r)
{
	switch (r) {
	case ACD_EXITR_EMPTY:
		return QLOG_EXITEMPTY;
	case ACD_EXITR_FULL:
		return QLOG_EXITFULL;
	case ACD_EXITR_TIMEOUT:
	case ACD_EXITR_LOOP:
		break;
	}
	return QLOG_EXITWITHTIMEOUT;
}

/* The task's wait and after-call work are over for its agent (docs/METRICS.md:
 * one WRAPUPEND per handled call, 0 s when the queue has no wrap-up). */
static void wrapup_end(struct tacd *t, struct ainfo *a, uint64_t now)
{
	struct qlog_event ev = ev_make(QLOG_WRAPUPEND, a->last_uuid, a->last_queue, a->name);

	ev.d.wrapup.secs = a->wrapping ? (uint32_t)((now - a->wrap_ms + 500) / 1000) : 0;
	a->wrapping = false;
	qlog_put(t, &ev);
}

static void presence_save(struct tacd *t, struct ainfo *a, bool in, bool ready, uint32_t reason)
{
	struct store_presence p = {
	    .tenant_id = t->tenant,
	    .user_id = a->name,
	    .ready = ready,
	    .reason = reason,
	    .since_ms = (int64_t)clock_real_ms(),
	};
	int err = serve_journal_presence(t->sa->journal, &p, in);

	if (err)
		log_error("agent presence not stored tenant=%s agent=%s err=%d", t->tenant, a->name,
			  err);
}

static void agent_state(struct tacd *t, const struct acd_decision *d)
{
	struct ainfo *a = agent_of(t, d->agent);
	enum acd_agent_state prev;

	if (!a)
		return;
	prev = a->state;
	a->state = d->u.agent.state;
	if (a->wrapping && a->state != ACD_AGENT_WRAP_UP)
		wrapup_end(t, a, d->now);
	if (a->state == ACD_AGENT_NOT_READY && d->u.agent.reason == ACD_NR_MISSED &&
	    prev != ACD_AGENT_NOT_READY) {
		qlog_agent(t, QLOG_PAUSEALL, a->name, "missed", 0);
		presence_save(t, a, true, false, ACD_NR_MISSED);
	}
}

static void on_exit_dec(struct tacd *t, struct task *k, const struct acd_decision *d)
{
	struct serve_acd *sa = t->sa;
	struct qinfo *q = d->queue && d->queue <= t->nq ? t->qv[d->queue - 1] : NULL;
	uint64_t waited = k->q_enter_ms ? d->now - k->q_enter_ms : 0;
	enum serve_acd_exit kind = q ? q->exit_kind : SERVE_ACD_EXIT_HANGUP;
	char uuid[UUID_SIZE], target[STORE_ID_SIZE];
	struct qlog_event ev =
	    ev_make(exit_event(d->u.exit.reason), k->uuid, qname(t, d->queue), NULL);

	if (!k->q && q) {
		/* Refused on arrival: the place it would have had. A join-empty
		 * refusal enters and leaves at once (docs/METRICS.md). */
		k->origpos = (uint32_t)list_count(&q->tasks) + 1;
		if (ev.type == QLOG_EXITEMPTY) {
			struct qlog_event enter = ev_make(QLOG_ENTERQUEUE, k->uuid, q->name, NULL);

			enter.d.enter.callerid = str_cstr(k->caller);
			enter.d.enter.position = k->origpos;
			qlog_put(t, &enter);
		}
		ev.d.exit.position = k->origpos;
	} else {
		ev.d.exit.position = position(k);
	}
	ev.d.exit.origpos = k->origpos;
	ev.d.exit.waittime = (uint32_t)(waited / 1000);
	qlog_put(t, &ev);
	if (k->q) {
		list_unlink(&k->le);
		k->q = NULL;
	}
	if (d->u.exit.to.kind == ACD_EXIT_QUEUE && d->u.exit.reason != ACD_EXITR_LOOP)
		return; /* the engine moves it: ENTER follows */
	memcpy(uuid, k->uuid, sizeof(uuid));
	snprintf(target, sizeof(target), "%s", q ? q->exit_target : "");
	if (d->u.exit.reason == ACD_EXITR_LOOP)
		kind = SERVE_ACD_EXIT_HANGUP;
	task_free(k);
	sa->ops.exit(sa->arg, uuid, kind, target);
}

static void on_task_dec(struct tacd *t, const struct acd_decision *d)
{
	struct serve_acd *sa = t->sa;
	struct task *k = task_of(t, d->task);
	struct ainfo *a = agent_of(t, d->agent);
	struct qlog_event ev;
	enum acd_agent_state st;
	uint32_t why;
	int err;

	if (!k)
		return;
	switch (d->type) {
	case ACD_DEC_OFFER:
		if (!a)
			return;
		ev = ev_make(QLOG_RINGSTART, k->uuid, qname(t, d->queue), a->name);
		ev.d.ring.ms = (k->q ? k->q->ring_timeout_s : 0) * 1000;
		qlog_put(t, &ev);
		err = sa->ops.offer(sa->arg, k->uuid, a->name,
				    (k->q ? k->q->ring_timeout_s : 20) + RING_SLACK_S);
		if (err) {
			log_info("agent has no phone to ring tenant=%s agent=%s uuid=%s err=%d",
				 t->tenant, a->name, k->uuid, err);
			acd_offer_reject(t->acd, now_ms(), d->task, d->agent);
		}
		return;
	case ACD_DEC_CANCEL:
		if (a)
			sa->ops.cancel(sa->arg, k->uuid, a->name);
		return;
	case ACD_DEC_EXIT:
		on_exit_dec(t, k, d);
		return;
	case ACD_DEC_ANNOUNCE:
		sa->ops.announce(sa->arg, k->uuid, d->u.announce.position, d->u.announce.ewt_s);
		return;
	case ACD_EV_ENTER:
		k->q = d->queue && d->queue <= t->nq ? t->qv[d->queue - 1] : NULL;
		if (!k->q)
			return;
		list_append(&k->q->tasks, &k->le);
		k->q_enter_ms = d->now;
		k->origpos = position(k);
		ev = ev_make(QLOG_ENTERQUEUE, k->uuid, k->q->name, NULL);
		ev.d.enter.callerid = str_cstr(k->caller);
		ev.d.enter.position = k->origpos;
		qlog_put(t, &ev);
		return;
	case ACD_EV_CONNECT:
		if (!a)
			return;
		k->connected = true;
		k->connect_ms = d->now;
		snprintf(k->agent, sizeof(k->agent), "%s", a->name);
		snprintf(a->last_uuid, sizeof(a->last_uuid), "%s", k->uuid);
		snprintf(a->last_queue, sizeof(a->last_queue), "%s", k->q ? k->q->name : "NONE");
		ev = ev_make(QLOG_CONNECT, k->uuid, qname(t, d->queue), a->name);
		ev.d.connect.holdtime = (uint32_t)(d->u.times.wait_ms / 1000);
		ev.d.connect.bridged = str_cstr(k->uuid);
		ev.d.connect.ringtime = (uint32_t)(d->u.times.ring_ms / 1000);
		qlog_put(t, &ev);
		if (k->q) {
			list_unlink(&k->le);
			k->q = NULL;
		}
		return;
	case ACD_EV_ABANDON:
		ev = ev_make(QLOG_ABANDON, k->uuid, qname(t, d->queue), NULL);
		ev.d.exit.position = position(k);
		ev.d.exit.origpos = k->origpos;
		ev.d.exit.waittime = (uint32_t)(d->u.times.wait_ms / 1000);
		qlog_put(t, &ev);
		task_free(k);
		return;
	case ACD_EV_RINGNOANSWER:
		ev = ev_make(QLOG_RINGNOANSWER, k->uuid, qname(t, d->queue), a ? a->name : NULL);
		ev.d.ring.ms = (uint32_t)d->u.times.ring_ms;
		qlog_put(t, &ev);
		return;
	case ACD_EV_COMPLETE:
		ev = ev_make(k->by_agent ? QLOG_COMPLETEAGENT : QLOG_COMPLETECALLER, k->uuid,
			     qname(t, d->queue), a ? a->name : k->agent);
		ev.d.complete.holdtime = (uint32_t)(d->u.times.wait_ms / 1000);
		ev.d.complete.calltime = (uint32_t)((d->u.times.talk_ms + 500) / 1000);
		ev.d.complete.origpos = k->origpos;
		qlog_put(t, &ev);
		if (a && !acd_agent_state(t->acd, a->id, &st, &why)) {
			/* In wrap-up now (WRAPUPEND when it leaves), or none at all. */
			a->wrapping = st == ACD_AGENT_WRAP_UP;
			a->wrap_ms = d->now;
			if (!a->wrapping)
				wrapup_end(t, a, d->now);
		}
		task_free(k);
		return;
	case ACD_EV_AGENT_STATE:
		return;
	}
}

static void tick_h(void *arg);

/* Act on the queued decisions, including those the acting makes. */
static void drain(struct tacd *t)
{
	int64_t next;

	if (t->draining)
		return; /* the outer drain picks them up */
	t->draining = true;
	for (size_t i = 0; i < t->ndq; i++) {
		struct acd_decision d = t->dq[i];

		if (d.type == ACD_EV_AGENT_STATE)
			agent_state(t, &d);
		else
			on_task_dec(t, &d);
	}
	t->ndq = 0;
	t->draining = false;
	next = acd_next_timer(t->acd);
	timer_cancel(&t->tmr);
	if (next >= 0) {
		timer_start(loop_timers(t->sa->l), &t->tmr, (uint64_t)next + 1, tick_h, t);
	}
}

static void tick_h(void *arg)
{
	struct tacd *t = arg;

	acd_tick(t->acd, now_ms());
	drain(t);
}

/* ---- calls ---- */

int32_t serve_acd_priority(const char *value)
{
	char *end;
	long v;

	if (!value)
		return 0;
	if (!strcmp(value, "vip"))
		return 100;
	if (!strcmp(value, "high"))
		return 50;
	v = strtol(value, &end, 10);
	return end != value && !*end && v >= 0 && v <= 100 ? (int32_t)v : 0;
}

int serve_acd_enqueue(struct serve_acd *sa, const char *tenant, const char *queue, const char *uuid,
		      const char *caller, int32_t priority)
{
	struct tacd *t = tacd_get(sa, tenant);
	struct acd_task_conf tc = {.channel = ACD_CHAN_VOICE};
	struct qinfo *q;
	struct task *k;
	int err;

	if (!t)
		return -EIO;
	q = hget(t->qnames, queue);
	if (!q)
		return -ENOENT;
	if (strlen(uuid) >= UUID_SIZE || hget(t->by_uuid, uuid))
		return -EINVAL;
	k = mem_zalloc(sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->t = t;
	k->id = ++t->next_task;
	snprintf(k->key, sizeof(k->key), "%016llx", (unsigned long long)k->id);
	snprintf(k->uuid, sizeof(k->uuid), "%s", uuid);
	field_copy(k->caller, sizeof(k->caller), caller);
	err = hput(t->by_id, k->key, k);
	if (!err) {
		err = hput(t->by_uuid, k->uuid, k);
		if (err)
			hdel(t->by_id, k->key);
	}
	if (err) {
		mem_free(k);
		return err;
	}
	tc.id = k->id;
	tc.queue = q->id;
	tc.priority = priority;
	k->priority = priority;
	err = acd_task_enqueue(t->acd, now_ms(), &tc);
	if (err) {
		task_free(k);
		return err;
	}
	drain(t);
	return 0;
}

static struct task *task_by_uuid(struct serve_acd *sa, const char *tenant, const char *uuid,
				 struct tacd **tp)
{
	struct tacd *t = hget(sa->tenants, tenant);

	*tp = t;
	return t ? hget(t->by_uuid, uuid) : NULL;
}

void serve_acd_answered(struct serve_acd *sa, const char *tenant, const char *uuid,
			const char *user)
{
	struct tacd *t;
	struct task *k = task_by_uuid(sa, tenant, uuid, &t);
	struct ainfo *a = t ? hget(t->anames, user) : NULL;

	if (!k || !a)
		return;
	if (acd_offer_answer(t->acd, now_ms(), k->id, a->id))
		log_warn("answer of no offer tenant=%s uuid=%s agent=%s", tenant, uuid, user);
	drain(t);
}

void serve_acd_ring_failed(struct serve_acd *sa, const char *tenant, const char *uuid,
			   const char *user)
{
	struct tacd *t;
	struct task *k = task_by_uuid(sa, tenant, uuid, &t);
	struct ainfo *a = t ? hget(t->anames, user) : NULL;

	if (!k || !a)
		return;
	acd_offer_reject(t->acd, now_ms(), k->id, a->id);
	drain(t);
}

void serve_acd_ended(struct serve_acd *sa, const char *tenant, const char *uuid, bool by_agent)
{
	struct tacd *t;
	struct task *k = task_by_uuid(sa, tenant, uuid, &t);

	if (!k)
		return;
	k->by_agent = by_agent;
	if (k->connected)
		acd_task_end(t->acd, now_ms(), k->id);
	else
		acd_task_abandon(t->acd, now_ms(), k->id);
	drain(t);
}

bool serve_acd_has(struct serve_acd *sa, const char *tenant, const char *uuid)
{
	struct tacd *t;

	return task_by_uuid(sa, tenant, uuid, &t) != NULL;
}

/* ---- feature codes ---- */

int serve_acd_feature_parse(const char *code, enum serve_acd_feature *f, uint32_t *reason)
{
	*reason = 0;
	if (code[0] != '*' || code[1] != '2' || code[2] < '0' || code[2] > '3')
		return -ENOENT;
	*f = (enum serve_acd_feature)(code[2] - '0');
	if (!code[3])
		return 0;
	if (*f != SERVE_ACD_NOT_READY || code[3] < '0' || code[3] > '9' ||
	    (code[4] && (code[4] < '0' || code[4] > '9' || code[5])))
		return -ENOENT;
	*reason = (uint32_t)strtoul(code + 3, NULL, 10);
	return 0;
}

/* Agents of @t logged in now: the seats in use. */
static uint32_t logged_in(const struct tacd *t)
{
	uint32_t n = 0;

	for (size_t i = 0; i < t->na; i++) {
		enum acd_agent_state st = ACD_AGENT_LOGGED_OUT;
		uint32_t why;

		acd_agent_state(t->acd, t->av[i]->id, &st, &why);
		n += st != ACD_AGENT_LOGGED_OUT;
	}
	return n;
}

/* Are as many agents logged in as the tenant has seats (0: no quota)? */
static bool seats_full(struct tacd *t)
{
	struct store_tenant ten;

	if (store_tenant_get(t->sa->st, t->tenant, &ten) || !ten.seats)
		return false;
	return logged_in(t) >= ten.seats;
}

int serve_acd_feature(struct serve_acd *sa, const char *tenant, const char *user,
		      enum serve_acd_feature f, uint32_t reason, char *say, size_t size)
{
	struct tacd *t = tacd_get(sa, tenant);
	struct ainfo *a = t ? hget(t->anames, user) : NULL;
	uint64_t now = now_ms();
	int64_t real = (int64_t)clock_real_ms();
	enum acd_agent_state state = ACD_AGENT_LOGGED_OUT;
	char chan[STORE_ID_SIZE + 8];
	const char *rname;
	uint32_t why;
	int err = 0;

	if (!a || !a->member) {
		snprintf(say, size, "You are not an agent of any queue.");
		return -ENOENT;
	}
	acd_agent_state(t->acd, a->id, &state, &why);
	switch (f) {
	case SERVE_ACD_LOGIN:
		if (state != ACD_AGENT_LOGGED_OUT) {
			snprintf(say, size, "You are logged in already.");
			return 0;
		}
		if (seats_full(t)) {
			snprintf(say, size, "All the seats of your company are taken.");
			return -EDQUOT;
		}
		err = acd_agent_login(t->acd, now, a->id);
		if (err)
			break;
		a->login_ms = real;
		snprintf(chan, sizeof(chan), "SIP/%s", a->name);
		qlog_agent(t, QLOG_AGENTLOGIN, a->name, chan, 0);
		presence_save(t, a, true, true, 0);
		snprintf(say, size, "You are logged in and ready.");
		break;
	case SERVE_ACD_LOGOUT:
		if (state == ACD_AGENT_LOGGED_OUT) {
			snprintf(say, size, "You are logged out already.");
			return 0;
		}
		err = acd_agent_logout(t->acd, now, a->id);
		if (err)
			break;
		snprintf(chan, sizeof(chan), "SIP/%s", a->name);
		qlog_agent(t, QLOG_AGENTLOGOFF, a->name, chan,
			   (uint32_t)((real - a->login_ms) / 1000));
		presence_save(t, a, false, false, 0);
		snprintf(say, size, "You are logged out.");
		break;
	case SERVE_ACD_READY:
		err = acd_agent_ready(t->acd, now, a->id);
		if (err)
			break;
		qlog_agent(t, QLOG_UNPAUSEALL, a->name, "", 0);
		presence_save(t, a, true, true, 0);
		snprintf(say, size, "You are ready.");
		break;
	case SERVE_ACD_NOT_READY:
		rname = reason < REASONS ? t->reasons[reason] : NULL;
		if (reason && !rname) {
			snprintf(say, size, "Reason %u is not one of your reasons.", reason);
			return -EINVAL;
		}
		err = acd_agent_not_ready(t->acd, now, a->id, reason);
		if (err)
			break;
		qlog_agent(t, QLOG_PAUSEALL, a->name, rname ? rname : "", 0);
		presence_save(t, a, true, false, reason);
		snprintf(say, size, "You are not ready%s%s.", rname ? ": " : "",
			 rname ? rname : "");
		break;
	}
	drain(t);
	if (err == -EBUSY)
		snprintf(say, size, "Not now: you have a call.");
	else if (err == -EINVAL || err == -EPERM)
		snprintf(say, size, "You are logged out. Dial star 2 0 to log in.");
	else if (err)
		snprintf(say, size, "That did not work.");
	return err;
}

/* ---- life ---- */

int serve_acd_alloc(struct serve_acd **sap, struct loop *l, struct store *st,
		    struct serve_journal *journal, const struct serve_acd_ops *ops, void *arg)
{
	struct serve_acd *sa = mem_zalloc(sizeof(*sa));

	if (!sa)
		return -ENOMEM;
	sa->l = l;
	sa->st = st;
	sa->journal = journal;
	sa->ops = *ops;
	sa->arg = arg;
	if (hash_alloc(&sa->tenants, 16, 0)) {
		mem_free(sa);
		return -ENOMEM;
	}
	*sap = sa;
	return 0;
}

void serve_acd_free(struct serve_acd *sa)
{
	size_t it = 0;
	struct str k;
	void *v;

	if (!sa)
		return;
	while (hash_next(sa->tenants, &it, &k, &v))
		tacd_free(v);
	hash_free(sa->tenants);
	mem_free(sa);
}

/* ---- what the API reads and sets ---- */

/*
 * The engine of @tenant for a look: rebuilt when its configuration changed,
 * except when the look comes from inside the engine's own events (the
 * listener), which run with the engine on the stack.
 */
static struct tacd *tacd_view(struct serve_acd *sa, const char *tenant)
{
	struct tacd *t = hget(sa->tenants, tenant);

	return t && sa->in_listen ? t : tacd_get(sa, tenant);
}

void serve_acd_listen(struct serve_acd *sa, serve_acd_event_h *h, void *arg)
{
	sa->listen = h;
	sa->listen_arg = arg;
}

void serve_acd_changed(struct serve_acd *sa, const char *tenant)
{
	struct tacd *t = hget(sa->tenants, tenant);

	if (t)
		t->stale = true;
}

static const char *state_name(enum acd_agent_state st)
{
	static const char *const names[] = {
	    [ACD_AGENT_LOGGED_OUT] = "logged-out", [ACD_AGENT_AVAILABLE] = "ready",
	    [ACD_AGENT_NOT_READY] = "not-ready",   [ACD_AGENT_RESERVED] = "ringing",
	    [ACD_AGENT_ON_TASK] = "on-call",	   [ACD_AGENT_WRAP_UP] = "wrap-up",
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* Add @arr an object per agent (@user NULL) or just @user's; -ENOENT when none. */
int serve_acd_agents_json(struct serve_acd *sa, const char *tenant, const char *user, json_t **out)
{
	struct tacd *t = tacd_view(sa, tenant);
	int64_t now = (int64_t)(clock_real_ms() / 1000);
	json_t *arr = json_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; t && i < t->na; i++) {
		struct ainfo *a = t->av[i];
		enum acd_agent_state st = ACD_AGENT_LOGGED_OUT;
		struct str name = str_cstr(a->name);
		uint32_t reason = 0;
		json_t *o = NULL;

		if (!a->member || (user && strcmp(user, a->name)))
			continue;
		acd_agent_state(t->acd, a->id, &st, &reason);
		if (qstats_agent_json(t->qs, &name, now, &o))
			o = json_object();
		if (!o || json_object_set_new(o, "id", json_string(a->name)) ||
		    json_object_set_new(o, "state", json_string(state_name(st))) ||
		    json_object_set_new(o, "reason_code", json_integer(reason)) ||
		    json_object_set_new(o, "reason",
					json_string(reason < REASONS && t->reasons[reason]
							? t->reasons[reason]
							: "")) ||
		    json_array_append_new(arr, o)) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	*out = arr;
	return 0;
}

int serve_acd_queues_json(struct serve_acd *sa, const char *tenant, const char *queue, json_t **out)
{
	struct tacd *t = tacd_view(sa, tenant);
	int64_t now = (int64_t)(clock_real_ms() / 1000);
	json_t *arr = json_array();

	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; t && i < t->nq; i++) {
		struct qinfo *q = t->qv[i];
		struct str name = str_cstr(q->name);
		struct acd_queue_stats qs = {0};
		json_t *o = NULL;

		if (queue && strcmp(queue, q->name))
			continue;
		acd_queue_stats(t->acd, q->id, &qs);
		if (qstats_queue_json(t->qs, &name, now, &o))
			o = json_object();
		if (!o || json_object_set_new(o, "id", json_string(q->name)) ||
		    json_object_set_new(o, "members", json_integer(qs.members)) ||
		    json_object_set_new(o, "logged_in", json_integer(qs.logged)) ||
		    json_object_set_new(o, "available", json_integer(qs.avail)) ||
		    json_object_set_new(o, "ringing", json_integer(qs.ringing)) ||
		    json_array_append_new(arr, o)) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	*out = arr;
	return 0;
}

int serve_acd_calls_json(struct serve_acd *sa, const char *tenant, json_t **out)
{
	struct tacd *t = tacd_view(sa, tenant);
	uint64_t now = now_ms();
	json_t *arr = json_array();
	size_t it = 0;
	struct str k;
	void *v;

	if (!arr)
		return -ENOMEM;
	while (t && hash_next(t->by_uuid, &it, &k, &v)) {
		struct task *tk = v;
		json_t *o = json_pack(
		    "{sssssssisisIss}", "uuid", tk->uuid, "caller", tk->caller, "queue",
		    tk->q ? tk->q->name : "", "priority", (int)tk->priority, "position",
		    tk->connected ? 0 : (int)position(tk), "since_s",
		    (json_int_t)((now - (tk->connected ? tk->connect_ms : tk->q_enter_ms)) / 1000),
		    "state", tk->connected ? "connected" : "waiting");

		if (!o ||
		    (tk->connected && json_object_set_new(o, "agent", json_string(tk->agent))) ||
		    json_array_append_new(arr, o)) {
			json_decref(o);
			json_decref(arr);
			return -ENOMEM;
		}
	}
	*out = arr;
	return 0;
}

int serve_acd_logged_in(struct serve_acd *sa, const char *tenant, uint32_t *n)
{
	struct tacd *t = tacd_view(sa, tenant);

	*n = t ? logged_in(t) : 0;
	return t ? 0 : -ENOMEM;
}

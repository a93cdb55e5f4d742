/*
 * qstats: the fold of queue_log events into queue, agent and call state,
 * with bucketed windows. Not here: JSON (qstats_json.c), reading files, and
 * any clock: time is what the events say and what the caller asks for.
 *
 * Rings: a queue and an agent each hold one slot per bucket of the window
 * and the index of the newest bucket written (head). Moving head forward
 * clears the slots it passes, so old buckets vanish without a sweep.
 */
#include <errno.h>

#include "base/hash.h"
#include "base/list.h"
#include "base/mem.h"
#include "qlog/qstats.h"

enum afield { A_LOGIN, A_NR, A_RING, A_TALK, A_WRAP, A_HANDLED, A_FIELDS };

/* The time field each state adds to besides A_LOGIN (-1: none). */
static const int state_field[QSTATS_STATE_COUNT] = {
    [QSTATS_LOGGED_OUT] = -1,  [QSTATS_AVAILABLE] = -1,	  [QSTATS_NOT_READY] = A_NR,
    [QSTATS_RINGING] = A_RING, [QSTATS_ON_CALL] = A_TALK, [QSTATS_WRAPUP] = A_WRAP,
};

struct abucket {
	uint32_t v[A_FIELDS];
};

struct queue {
	struct str id; /* owned */
	uint32_t sl_s; /* 0: the default */
	uint32_t agents[QSTATS_STATE_COUNT];
	struct list waiting; /* struct call.qle, by arrival */
	uint32_t nwaiting;
	struct qstats_queue_counts total;
	int64_t head;
	struct qstats_queue_counts *ring;
};

struct reason {
	char name[QSTATS_REASON_LEN];
	size_t len;
	uint64_t total;
};

struct call;

struct agent {
	struct str id; /* owned */
	enum qstats_agent_state state, before_ring;
	int64_t since;
	unsigned reason; /* index in reasons while not ready */
	bool pending;
	unsigned pending_reason;
	struct call *ring_call; /* the call ringing this agent, or NULL */
	struct queue **queues;	/* memberships */
	uint32_t nqueues, qcap;
	uint64_t total[A_FIELDS];
	int64_t head;
	struct abucket *ring;
	struct reason reasons[QSTATS_REASONS_MAX];
	unsigned nreasons;
	uint32_t *rring; /* [reason * nb + slot], allocated with the first reason */
};

struct call {
	struct str id; /* owned */
	struct queue *q;
	int64_t enter;
	struct list_elem qle; /* queue's waiting list while waiting */
	struct list_elem ale; /* qstats.calls, by creation */
	struct agent **ringing;
	uint32_t nringing, rcap;
};

struct qstats {
	struct qstats_conf conf;
	uint32_t nb; /* buckets in the window */
	struct hash *queues, *agents, *calls;
	struct list calls_all;
	int64_t now; /* latest event time */
};

/* --- Rings ----------------------------------------------------------------- */

static int64_t bucket_of(const struct qstats *s, int64_t t)
{
	int64_t w = s->conf.bucket_s;

	return t >= 0 ? t / w : -((-t + w - 1) / w);
}

static size_t slot_of(const struct qstats *s, int64_t b)
{
	int64_t m = b % (int64_t)s->nb;

	return (size_t)(m < 0 ? m + s->nb : m);
}

/* The buckets [lo, hi] of a window at @now held by a ring whose head is @head. */
static void window_range(const struct qstats *s, int64_t head, int64_t now, int64_t *lo,
			 int64_t *hi)
{
	int64_t bt = bucket_of(s, now);

	*lo = bt - s->nb + 1;
	if (*lo < head - s->nb + 1)
		*lo = head - s->nb + 1;
	*hi = bt < head ? bt : head;
}

static void queue_advance(const struct qstats *s, struct queue *q, int64_t t)
{
	int64_t b = bucket_of(s, t);

	for (int64_t k = q->head + 1; k <= b && k <= q->head + s->nb; k++)
		q->ring[slot_of(s, k)] = (struct qstats_queue_counts){0};
	if (b > q->head)
		q->head = b;
}

static void agent_advance(const struct qstats *s, struct agent *a, int64_t t)
{
	int64_t b = bucket_of(s, t);

	for (int64_t k = a->head + 1; k <= b && k <= a->head + s->nb; k++) {
		size_t slot = slot_of(s, k);

		a->ring[slot] = (struct abucket){0};
		for (unsigned r = 0; a->rring && r < QSTATS_REASONS_MAX; r++)
			a->rring[r * s->nb + slot] = 0;
	}
	if (b > a->head)
		a->head = b;
}

/* Add the seconds of [t1, t2) to @ring's buckets (those still held), @stride
 * apart: one field of a struct abucket, or a reason's row. */
static void add_span(const struct qstats *s, uint32_t *ring, size_t stride, int64_t head,
		     int64_t t1, int64_t t2)
{
	int64_t w = s->conf.bucket_s, b;

	if (t2 <= t1)
		return;
	b = bucket_of(s, t1);
	if (b < head - s->nb + 1)
		b = head - s->nb + 1;
	for (; b <= bucket_of(s, t2 - 1) && b <= head; b++) {
		int64_t lo = b * w > t1 ? b * w : t1, hi = (b + 1) * w < t2 ? (b + 1) * w : t2;

		ring[slot_of(s, b) * stride] += (uint32_t)(hi - lo);
	}
}

/* --- Objects --------------------------------------------------------------- */

static void queue_destroy(struct queue *q)
{
	mem_free((void *)q->id.p);
	mem_free(q->ring);
	mem_free(q);
}

static void agent_destroy(struct agent *a)
{
	mem_free((void *)a->id.p);
	mem_free(a->queues);
	mem_free(a->ring);
	mem_free(a->rring);
	mem_free(a);
}

static struct queue *queue_find(const struct qstats *s, const struct str *id)
{
	return hash_get(s->queues, id);
}

/* The queue @id, created when new. NULL on -ENOMEM. */
static struct queue *queue_get(struct qstats *s, const struct str *id)
{
	struct queue *q = queue_find(s, id);

	if (q)
		return q;
	q = mem_zalloc(sizeof(*q));
	if (!q)
		return NULL;
	list_init(&q->waiting);
	q->head = bucket_of(s, s->now);
	q->ring = mem_zalloc(s->nb * sizeof(*q->ring));
	if (!q->ring || str_dup(&q->id, id) || hash_put(s->queues, &q->id, q, NULL)) {
		queue_destroy(q);
		return NULL;
	}
	return q;
}

static struct agent *agent_get(struct qstats *s, const struct str *id)
{
	struct agent *a = hash_get(s->agents, id);

	if (a)
		return a;
	a = mem_zalloc(sizeof(*a));
	if (!a)
		return NULL;
	a->state = QSTATS_LOGGED_OUT;
	a->since = s->now;
	a->head = bucket_of(s, s->now);
	a->ring = mem_zalloc(s->nb * sizeof(*a->ring));
	if (!a->ring || str_dup(&a->id, id) || hash_put(s->agents, &a->id, a, NULL)) {
		agent_destroy(a);
		return NULL;
	}
	return a;
}

/* The index of @reason in @a's table (cut to QSTATS_REASON_LEN), added when
 * new; the last slot becomes "other" once the table is full. */
static int reason_index(const struct qstats *s, struct agent *a, const struct str *reason,
			unsigned *idx)
{
	struct str r = str_sub(reason, 0, QSTATS_REASON_LEN);
	unsigned i;

	if (!a->rring) {
		a->rring = mem_zalloc((size_t)QSTATS_REASONS_MAX * s->nb * sizeof(*a->rring));
		if (!a->rring)
			return -ENOMEM;
	}
	for (i = 0; i < a->nreasons; i++) {
		struct str n = str_make(a->reasons[i].name, a->reasons[i].len);

		if (str_eq(&n, &r)) {
			*idx = i;
			return 0;
		}
	}
	if (a->nreasons == QSTATS_REASONS_MAX - 1)
		r = STR("other");
	if (a->nreasons == QSTATS_REASONS_MAX) {
		*idx = QSTATS_REASONS_MAX - 1;
		return 0;
	}
	if (r.len) /* an empty reason may be a view of nothing (NULL) */
		memcpy(a->reasons[i].name, r.p, r.len);
	a->reasons[i].len = r.len;
	*idx = a->nreasons++;
	return 0;
}

static bool is_member(const struct agent *a, const struct queue *q)
{
	for (uint32_t i = 0; i < a->nqueues; i++)
		if (a->queues[i] == q)
			return true;
	return false;
}

static int member_add(struct agent *a, struct queue *q)
{
	if (is_member(a, q))
		return 0;
	if (a->nqueues == a->qcap) {
		uint32_t cap = a->qcap ? a->qcap * 2 : 4;
		struct queue **v = mem_realloc(a->queues, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->queues = v;
		a->qcap = cap;
	}
	a->queues[a->nqueues++] = q;
	q->agents[a->state]++;
	return 0;
}

static void member_remove(struct agent *a, struct queue *q)
{
	for (uint32_t i = 0; i < a->nqueues; i++) {
		if (a->queues[i] != q)
			continue;
		a->queues[i] = a->queues[--a->nqueues];
		q->agents[a->state]--;
		return;
	}
}

/* --- Agent state ----------------------------------------------------------- */

static void agent_add(const struct qstats *s, struct agent *a, enum afield f, int64_t t1,
		      int64_t t2)
{
	if (t2 > t1)
		a->total[f] += (uint64_t)(t2 - t1);
	add_span(s, &a->ring[0].v[f], A_FIELDS, a->head, t1, t2);
}

/* Account the time in the current state up to @t. */
static void agent_close(const struct qstats *s, struct agent *a, int64_t t)
{

	if (a->state == QSTATS_LOGGED_OUT)
		return;
	agent_add(s, a, A_LOGIN, a->since, t);
	if (state_field[a->state] >= 0)
		agent_add(s, a, (enum afield)state_field[a->state], a->since, t);
	if (a->state == QSTATS_NOT_READY && t > a->since) {
		a->reasons[a->reason].total += (uint64_t)(t - a->since);
		add_span(s, &a->rring[a->reason * s->nb], 1, a->head, a->since, t);
	}
}

static void agent_set(const struct qstats *s, struct agent *a, enum qstats_agent_state st,
		      int64_t t)
{
	agent_close(s, a, t);
	for (uint32_t i = 0; i < a->nqueues; i++) {
		a->queues[i]->agents[a->state]--;
		a->queues[i]->agents[st]++;
	}
	a->state = st;
	a->since = t;
}

static void agent_not_ready(const struct qstats *s, struct agent *a, unsigned reason, int64_t t)
{
	if (a->state == QSTATS_NOT_READY && a->reason == reason)
		return;
	/* A change of reason closes one not-ready span and opens the next. */
	agent_set(s, a, QSTATS_NOT_READY, t);
	a->reason = reason;
}

/* The agent's work is over: available, or not ready if it asked meanwhile. */
static void agent_free_now(const struct qstats *s, struct agent *a, int64_t t)
{
	if (a->pending) {
		a->pending = false;
		agent_not_ready(s, a, a->pending_reason, t);
	} else {
		agent_set(s, a, QSTATS_AVAILABLE, t);
	}
}

static void call_unring(struct call *c, const struct agent *a)
{
	for (uint32_t i = 0; i < c->nringing; i++) {
		if (c->ringing[i] == a) {
			c->ringing[i] = c->ringing[--c->nringing];
			return;
		}
	}
}

/* The offer ringing @a is over without an answer by @a. */
static void ring_end(const struct qstats *s, struct agent *a, int64_t t)
{
	if (a->ring_call)
		call_unring(a->ring_call, a);
	a->ring_call = NULL;
	if (a->state != QSTATS_RINGING)
		return;
	if (a->before_ring == QSTATS_NOT_READY)
		agent_set(s, a, QSTATS_NOT_READY, t); /* a->reason is still the old one */
	else
		agent_free_now(s, a, t);
}

/* --- Calls ----------------------------------------------------------------- */

static void call_drop(struct qstats *s, struct call *c, int64_t t)
{
	/* Every agent still ringing for the call stops: the call left. */
	while (c->nringing) {
		struct agent *a = c->ringing[--c->nringing];

		if (a->ring_call != c)
			continue;
		a->ring_call = NULL;
		ring_end(s, a, t);
	}
	if (list_elem_linked(&c->qle))
		c->q->nwaiting--;
	list_unlink(&c->qle);
	list_unlink(&c->ale);
	hash_del(s->calls, &c->id);
	mem_free((void *)c->id.p);
	mem_free(c->ringing);
	mem_free(c);
}

static struct call *call_find(const struct qstats *s, const struct str *id)
{
	return id->len ? hash_get(s->calls, id) : NULL;
}

/* Calls whose end never came (a log cut by a crash) go after call_max_age_s. */
static void calls_reap(struct qstats *s)
{
	while (!list_empty(&s->calls_all)) {
		struct call *c = list_entry(list_head(&s->calls_all), struct call, ale);

		if (c->enter + (int64_t)s->conf.call_max_age_s >= s->now)
			return;
		call_drop(s, c, s->now);
	}
}

static int call_enter(struct qstats *s, struct queue *q, const struct str *id)
{
	struct call *c = call_find(s, id);

	if (c)
		call_drop(s, c, s->now); /* entered again without leaving first */
	if (!id->len)
		return 0;
	c = mem_zalloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (str_dup(&c->id, id)) {
		mem_free(c);
		return -ENOMEM;
	}
	if (hash_put(s->calls, &c->id, c, NULL)) {
		mem_free((void *)c->id.p);
		mem_free(c);
		return -ENOMEM;
	}
	c->q = q;
	c->enter = s->now;
	list_append(&q->waiting, &c->qle);
	list_append(&s->calls_all, &c->ale);
	q->nwaiting++;
	return 0;
}

static int call_ring(struct call *c, struct agent *a)
{
	if (c->nringing == c->rcap) {
		uint32_t cap = c->rcap ? c->rcap * 2 : 4;
		struct agent **v = mem_realloc(c->ringing, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->ringing = v;
		c->rcap = cap;
	}
	c->ringing[c->nringing++] = a;
	return 0;
}

/* --- Events ---------------------------------------------------------------- */

/* What one event names, resolved (created when new). */
struct ctx {
	struct qstats *s;
	const struct qlog_event *ev;
	struct queue *q;		/* NULL: queue NONE */
	struct agent *a;		/* NULL: agent NONE */
	struct call *c;			/* NULL: not in progress */
	struct qstats_queue_counts *qb; /* q's current bucket */
};

static uint32_t sl_of(const struct qstats *s, const struct queue *q)
{
	return q->sl_s ? q->sl_s : s->conf.sl_threshold_s;
}

#define BOTH(x, field, n)                   \
	do {                                \
		(x)->qb->field += (n);      \
		(x)->q->total.field += (n); \
	} while (0)

static void on_abandon(struct ctx *x)
{
	const struct qlog_event *ev = x->ev;
	bool is_short = ev->d.exit.waittime <= x->s->conf.short_abandon_s;

	BOTH(x, abandoned, 1);
	if (is_short)
		BOTH(x, short_abandoned, 1);
	else if (ev->d.exit.waittime > sl_of(x->s, x->q))
		BOTH(x, unanswered_after_sl, 1);
}

static void on_queue_exit(struct ctx *x)
{
	const struct qlog_event *ev = x->ev;
	uint32_t wait = ev->type == QLOG_EXITWITHKEY ? ev->d.exitkey.waittime : ev->d.exit.waittime;

	switch (ev->type) {
	case QLOG_EXITWITHTIMEOUT:
		BOTH(x, exit_timeout, 1);
		break;
	case QLOG_EXITEMPTY:
		BOTH(x, exit_empty, 1);
		break;
	case QLOG_EXITWITHKEY:
		BOTH(x, exit_key, 1);
		break;
	default: /* EXITFULL: never queued, so outside the service level */
		BOTH(x, exit_full, 1);
		BOTH(x, offered, 1);
		return;
	}
	if (wait > sl_of(x->s, x->q))
		BOTH(x, unanswered_after_sl, 1);
}

static void on_connect(struct ctx *x)
{
	uint32_t hold = x->ev->d.connect.holdtime;

	BOTH(x, answered, 1);
	BOTH(x, hold_s, hold);
	if (hold <= sl_of(x->s, x->q))
		BOTH(x, answered_in_sl, 1);
}

/* The union members differ by event: the calltime of each. */
static uint32_t calltime_of(const struct qlog_event *ev)
{
	switch (ev->type) {
	case QLOG_TRANSFER:
	case QLOG_BLINDTRANSFER:
		return ev->d.transfer.calltime;
	case QLOG_ATTENDEDTRANSFER:
		return ev->d.atransfer.calltime;
	default:
		return ev->d.complete.calltime;
	}
}

static void queue_event(struct ctx *x)
{
	const struct qlog_event *ev = x->ev;

	switch (ev->type) {
	case QLOG_ENTERQUEUE:
		BOTH(x, offered, 1);
		break;
	case QLOG_CONNECT:
		on_connect(x);
		break;
	case QLOG_ABANDON:
		on_abandon(x);
		break;
	case QLOG_EXITEMPTY:
	case QLOG_EXITWITHTIMEOUT:
	case QLOG_EXITWITHKEY:
	case QLOG_EXITFULL:
		on_queue_exit(x);
		break;
	case QLOG_TRANSFER:
	case QLOG_BLINDTRANSFER:
	case QLOG_ATTENDEDTRANSFER:
		BOTH(x, transferred, 1);
		/* fall through */
	case QLOG_COMPLETECALLER:
	case QLOG_COMPLETEAGENT:
		BOTH(x, handled, 1);
		BOTH(x, talk_s, calltime_of(ev));
		break;
	case QLOG_WRAPUPEND:
		BOTH(x, wrapups, 1);
		BOTH(x, wrapup_s, ev->d.wrapup.secs);
		break;
	default:
		break;
	}
}

static bool is_handled(enum qlog_type t)
{
	return t == QLOG_COMPLETECALLER || t == QLOG_COMPLETEAGENT || t == QLOG_TRANSFER ||
	       t == QLOG_BLINDTRANSFER || t == QLOG_ATTENDEDTRANSFER;
}

static bool is_queue_exit(enum qlog_type t)
{
	return t == QLOG_ABANDON || t == QLOG_EXITEMPTY || t == QLOG_EXITWITHTIMEOUT ||
	       t == QLOG_EXITWITHKEY || t == QLOG_EXITFULL;
}

/* Call state: entered, answered (no longer waiting), gone. */
static int call_event(struct ctx *x)
{
	enum qlog_type t = x->ev->type;
	int64_t now = x->s->now;

	if (t == QLOG_ENTERQUEUE && x->q)
		return call_enter(x->s, x->q, &x->ev->callid);
	if (!x->c)
		return 0;
	if (t == QLOG_CONNECT) {
		/* Every other agent the call rang (ring all) stops ringing. */
		for (uint32_t i = x->c->nringing; i-- > 0;)
			if (x->c->ringing[i] != x->a)
				ring_end(x->s, x->c->ringing[i], now);
		if (list_elem_linked(&x->c->qle))
			x->c->q->nwaiting--;
		list_unlink(&x->c->qle);
	} else if (is_queue_exit(t) || is_handled(t)) {
		call_drop(x->s, x->c, now);
		x->c = NULL;
	}
	return 0;
}

static int on_pause(struct ctx *x)
{
	struct agent *a = x->a;
	unsigned r;
	int err = reason_index(x->s, a, &x->ev->d.pause.reason, &r);

	if (err)
		return err;
	if (a->state == QSTATS_RINGING || a->state == QSTATS_ON_CALL || a->state == QSTATS_WRAPUP) {
		/* Not ready only once the work in hand is done (METRICS.md). */
		a->pending = true;
		a->pending_reason = r;
		return 0;
	}
	agent_not_ready(x->s, a, r, x->s->now);
	return 0;
}

static int on_ringstart(struct ctx *x)
{
	struct agent *a = x->a;
	int err;

	if (a->state == QSTATS_ON_CALL || a->state == QSTATS_WRAPUP)
		return 0; /* a voice agent at work is never offered: stale line */
	if (x->c) {
		err = call_ring(x->c, a);
		if (err)
			return err;
	}
	if (a->state == QSTATS_RINGING) {
		/* A new offer replaces the old one; the state before stays. */
		if (a->ring_call)
			call_unring(a->ring_call, a);
	} else {
		a->before_ring = a->state == QSTATS_NOT_READY ? QSTATS_NOT_READY : QSTATS_AVAILABLE;
		agent_set(x->s, a, QSTATS_RINGING, x->s->now);
	}
	a->ring_call = x->c;
	return 0;
}

static int agent_event(struct ctx *x)
{
	struct agent *a = x->a;
	int64_t now = x->s->now;

	switch (x->ev->type) {
	case QLOG_AGENTLOGIN:
		if (a->state == QSTATS_LOGGED_OUT)
			agent_set(x->s, a, QSTATS_AVAILABLE, now);
		return 0;
	case QLOG_AGENTLOGOFF:
		if (a->ring_call)
			call_unring(a->ring_call, a);
		a->ring_call = NULL;
		a->pending = false;
		agent_set(x->s, a, QSTATS_LOGGED_OUT, now);
		return 0;
	case QLOG_PAUSE:
	case QLOG_PAUSEALL:
		return on_pause(x);
	case QLOG_UNPAUSE:
	case QLOG_UNPAUSEALL:
		a->pending = false;
		if (a->state == QSTATS_NOT_READY || a->state == QSTATS_LOGGED_OUT)
			agent_set(x->s, a, QSTATS_AVAILABLE, now);
		else if (a->state == QSTATS_RINGING)
			a->before_ring = QSTATS_AVAILABLE;
		return 0;
	case QLOG_RINGSTART:
		return on_ringstart(x);
	case QLOG_RINGNOANSWER:
		if (a->state == QSTATS_RINGING)
			ring_end(x->s, a, now);
		return 0;
	case QLOG_CONNECT:
		if (a->ring_call)
			call_unring(a->ring_call, a);
		a->ring_call = NULL;
		agent_set(x->s, a, QSTATS_ON_CALL, now);
		return 0;
	case QLOG_WRAPUPEND:
		if (a->state == QSTATS_WRAPUP)
			agent_free_now(x->s, a, now);
		return 0;
	default:
		break;
	}
	if (is_handled(x->ev->type)) {
		a->total[A_HANDLED]++;
		a->ring[slot_of(x->s, a->head)].v[A_HANDLED]++;
		if (a->state == QSTATS_ON_CALL)
			agent_set(x->s, a, QSTATS_WRAPUP, now);
	}
	return 0;
}

/* Membership: ADDMEMBER/REMOVEMEMBER, and any agent event naming a queue
 * (logs without ADDMEMBER still show their agents). */
static int membership(struct ctx *x)
{
	if (!x->a || !x->q)
		return 0;
	if (x->ev->type == QLOG_REMOVEMEMBER) {
		member_remove(x->a, x->q);
		return 0;
	}
	return member_add(x->a, x->q);
}

static bool id_ok(const struct str *s)
{
	return s->len <= QSTATS_ID_MAX;
}

static int resolve(struct ctx *x)
{
	struct qstats *s = x->s;
	const struct qlog_event *ev = x->ev;

	if (ev->queue.len) {
		x->q = queue_get(s, &ev->queue);
		if (!x->q)
			return -ENOMEM;
		queue_advance(s, x->q, s->now);
		x->qb = &x->q->ring[slot_of(s, x->q->head)];
	}
	if (ev->agent.len) {
		x->a = agent_get(s, &ev->agent);
		if (!x->a)
			return -ENOMEM;
		agent_advance(s, x->a, s->now);
	}
	x->c = call_find(s, &ev->callid);
	return membership(x);
}

int qstats_feed(struct qstats *s, const struct qlog_event *ev)
{
	struct ctx x = {s, ev, NULL, NULL, NULL, NULL};
	int err;

	if (!s || !ev || !id_ok(&ev->callid) || !id_ok(&ev->queue) || !id_ok(&ev->agent))
		return -EINVAL;
	if (ev->time > s->now)
		s->now = ev->time;
	calls_reap(s);
	err = resolve(&x);
	if (err)
		return err;
	/* The agent's fallible steps come before any change, so -ENOMEM
	 * leaves the figures as they were. */
	if (x.a) {
		err = agent_event(&x);
		if (err)
			return err;
	}
	if (x.q)
		queue_event(&x);
	return call_event(&x);
}

/* --- Setup ----------------------------------------------------------------- */

int qstats_alloc(struct qstats **sp, const struct qstats_conf *conf)
{
	struct qstats *s;
	int err;

	if (!sp)
		return -EINVAL;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (conf)
		s->conf = *conf;
	s->conf.bucket_s = s->conf.bucket_s ? s->conf.bucket_s : 60;
	s->conf.window_s = s->conf.window_s ? s->conf.window_s : 900;
	s->conf.short_abandon_s = s->conf.short_abandon_s ? s->conf.short_abandon_s : 5;
	s->conf.sl_threshold_s = s->conf.sl_threshold_s ? s->conf.sl_threshold_s : 20;
	s->conf.call_max_age_s = s->conf.call_max_age_s ? s->conf.call_max_age_s : 86400;
	s->nb = s->conf.window_s / s->conf.bucket_s;
	list_init(&s->calls_all);
	err = s->conf.window_s % s->conf.bucket_s || !s->nb || s->nb > 10080 ? -EINVAL : 0;
	err = err ? err : hash_alloc(&s->queues, 16, 0);
	err = err ? err : hash_alloc(&s->agents, 64, 0);
	err = err ? err : hash_alloc(&s->calls, 64, 0);
	if (err) {
		qstats_free(s);
		return err;
	}
	*sp = s;
	return 0;
}

struct qstats *qstats_free(struct qstats *s)
{
	size_t it = 0;
	struct str k;
	void *v;

	if (!s)
		return NULL;
	while (!list_empty(&s->calls_all)) {
		struct call *c = list_entry(list_head(&s->calls_all), struct call, ale);

		call_drop(s, c, s->now);
	}
	while (s->queues && hash_next(s->queues, &it, &k, &v))
		queue_destroy(v);
	it = 0;
	while (s->agents && hash_next(s->agents, &it, &k, &v))
		agent_destroy(v);
	hash_free(s->queues);
	hash_free(s->agents);
	hash_free(s->calls);
	mem_free(s);
	return NULL;
}

int qstats_queue_conf(struct qstats *s, const struct str *queue, uint32_t sl_threshold_s)
{
	struct queue *q;

	if (!s || !queue || !queue->len || !id_ok(queue))
		return -EINVAL;
	q = queue_get(s, queue);
	if (!q)
		return -ENOMEM;
	q->sl_s = sl_threshold_s;
	return 0;
}

/* --- Queries --------------------------------------------------------------- */

static void counts_add(struct qstats_queue_counts *to, const struct qstats_queue_counts *c)
{
	const uint64_t *src = (const uint64_t *)(const void *)c;
	uint64_t *dst = (uint64_t *)(void *)to;

	/* The struct is nothing but uint64_t counters. */
	for (size_t i = 0; i < sizeof(*c) / sizeof(uint64_t); i++)
		dst[i] += src[i];
}

int qstats_queue_get(const struct qstats *s, const struct str *queue, int64_t now,
		     struct qstats_queue_info *info)
{
	const struct queue *q;
	int64_t lo, hi;

	if (!s || !queue || !info)
		return -EINVAL;
	q = queue_find(s, queue);
	if (!q)
		return -ENOENT;
	*info = (struct qstats_queue_info){.sl_threshold_s = sl_of(s, q), .waiting = q->nwaiting};
	memcpy(info->agents, q->agents, sizeof(info->agents));
	if (!list_empty(&q->waiting)) {
		const struct call *c = list_entry(list_head(&q->waiting), struct call, qle);

		info->longest_wait_s = now > c->enter ? (uint32_t)(now - c->enter) : 0;
	}
	window_range(s, q->head, now, &lo, &hi);
	for (int64_t b = lo; b <= hi; b++)
		counts_add(&info->window, &q->ring[slot_of(s, b)]);
	info->total = q->total;
	return 0;
}

static uint64_t *times_field(struct qstats_agent_times *t, enum afield f)
{
	uint64_t *v[A_FIELDS] = {&t->logged_in_s, &t->not_ready_s, &t->ringing_s,
				 &t->talk_s,	  &t->wrapup_s,	   &t->handled};

	return v[f];
}

/* The open span [since, now) as if the state ended at @now. */
static void open_span(const struct qstats *s, const struct agent *a, int64_t now, int64_t wstart,
		      struct qstats_agent_info *info)
{
	int64_t from = a->since > wstart ? a->since : wstart;
	uint64_t all = now > a->since ? (uint64_t)(now - a->since) : 0;
	uint64_t win = now > from ? (uint64_t)(now - from) : 0;

	(void)s;
	if (a->state == QSTATS_LOGGED_OUT)
		return;
	info->total.logged_in_s += all;
	info->window.logged_in_s += win;
	if (state_field[a->state] >= 0) {
		*times_field(&info->total, (enum afield)state_field[a->state]) += all;
		*times_field(&info->window, (enum afield)state_field[a->state]) += win;
	}
	if (a->state == QSTATS_NOT_READY) {
		info->reasons[a->reason].total_s += all;
		info->reasons[a->reason].window_s += win;
	}
}

int qstats_agent_get(const struct qstats *s, const struct str *agent, int64_t now,
		     struct qstats_agent_info *info)
{
	const struct agent *a;
	int64_t lo, hi;

	if (!s || !agent || !info)
		return -EINVAL;
	a = hash_get(s->agents, agent);
	if (!a)
		return -ENOENT;
	*info = (struct qstats_agent_info){.state = a->state, .since = a->since};
	info->pause_pending = a->pending;
	if (a->state == QSTATS_NOT_READY)
		info->reason = str_make(a->reasons[a->reason].name, a->reasons[a->reason].len);
	info->nreasons = a->nreasons;
	window_range(s, a->head, now, &lo, &hi);
	for (unsigned f = 0; f < A_FIELDS; f++) {
		*times_field(&info->total, f) = a->total[f];
		for (int64_t b = lo; b <= hi; b++)
			*times_field(&info->window, f) += a->ring[slot_of(s, b)].v[f];
	}
	for (unsigned r = 0; r < a->nreasons; r++) {
		info->reasons[r].reason = str_make(a->reasons[r].name, a->reasons[r].len);
		info->reasons[r].total_s = a->reasons[r].total;
		for (int64_t b = lo; b <= hi; b++)
			info->reasons[r].window_s += a->rring[r * s->nb + slot_of(s, b)];
	}
	open_span(s, a, now, (bucket_of(s, now) - s->nb + 1) * s->conf.bucket_s, info);
	return 0;
}

bool qstats_queue_next(const struct qstats *s, size_t *it, struct str *id)
{
	void *v;

	return s && it && id && hash_next(s->queues, it, id, &v);
}

bool qstats_agent_next(const struct qstats *s, size_t *it, struct str *id)
{
	void *v;

	return s && it && id && hash_next(s->agents, it, id, &v);
}

/* --- Derived figures ------------------------------------------------------- */

static bool ratio(uint64_t num, uint64_t den, double scale, double *v)
{
	if (!den)
		return false;
	*v = (double)num * scale / (double)den;
	return true;
}

bool qstats_service_level(const struct qstats_queue_counts *c, double *v)
{
	return ratio(c->answered_in_sl, c->answered + c->unanswered_after_sl, 100.0, v);
}

bool qstats_asa(const struct qstats_queue_counts *c, double *v)
{
	return ratio(c->hold_s, c->answered, 1.0, v);
}

bool qstats_aht(const struct qstats_queue_counts *c, double *v)
{
	return ratio(c->talk_s + c->wrapup_s, c->handled, 1.0, v);
}

bool qstats_abandon_rate(const struct qstats_queue_counts *c, double *v)
{
	uint64_t ab = c->abandoned - c->short_abandoned;

	return ratio(ab, c->answered + ab, 100.0, v);
}

bool qstats_occupancy(const struct qstats_agent_times *t, double *v)
{
	uint64_t staffed = t->logged_in_s > t->not_ready_s ? t->logged_in_s - t->not_ready_s : 0;

	return ratio(t->talk_s + t->wrapup_s, staffed, 100.0, v);
}

const char *qstats_state_name(enum qstats_agent_state st)
{
	static const char *const names[QSTATS_STATE_COUNT] = {
	    "logged_out", "available", "not_ready", "ringing", "on_call", "wrapup",
	};

	return (unsigned)st < QSTATS_STATE_COUNT ? names[st] : "unknown";
}

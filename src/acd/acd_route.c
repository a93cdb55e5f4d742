/*
 * acd_route: the events and the routing. Every event first fires the timers
 * due, then changes the state it is about, then routes: a queue that gained
 * a task or an agent is "dispatched", pairing its best waiting task with its
 * best available member until one side runs out. The rules are docs/ACD.md.
 *
 * Availability is derived, never stored twice: acd_agent_sync() compares
 * what an agent can take now with the member heaps it is in and fixes the
 * difference, so every state change is one call to it.
 */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "acd/acd_internal.h"
#include "base/mem.h"

#define HOPS_MAX	  8
#define RING_DEFAULT_S	  15
#define TIER_DEFAULT_S	  30
#define DISPATCH_SORT_MAX 32

static uint64_t now_of(const struct acd *acd)
{
	return timer_wheel_now(acd->tw);
}

static void emit(struct acd *acd, struct acd_decision *d)
{
	d->now = now_of(acd);
	if (acd->conf.h)
		acd->conf.h(d, acd->conf.arg);
}

static void emit_task(struct acd *acd, enum acd_dec_type type, const struct acd_task *t,
		      const struct acd_agent *a)
{
	struct acd_decision d;

	memset(&d, 0, sizeof(d));
	d.type = type;
	d.task = t->id;
	d.queue = t->q ? t->q->conf.id : 0;
	d.agent = a ? a->conf.id : 0;
	emit(acd, &d);
}

static void emit_times(struct acd *acd, enum acd_dec_type type, const struct acd_task *t,
		       const struct acd_agent *a, uint64_t wait, uint64_t talk, uint64_t ring)
{
	struct acd_decision d;

	memset(&d, 0, sizeof(d));
	d.type = type;
	d.task = t->id;
	d.queue = t->q->conf.id;
	d.agent = a ? a->conf.id : 0;
	d.u.times.wait_ms = wait;
	d.u.times.talk_ms = talk;
	d.u.times.ring_ms = ring;
	emit(acd, &d);
}

static uint64_t rng_next(struct acd *acd)
{
	/* splitmix64: one add and a finaliser; deterministic from the seed. */
	uint64_t z = (acd->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

bool acd_agent_meets(const struct acd_agent *a, const struct acd_skill_req *req, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (a->conf.levels[req[i].skill] < req[i].min_level)
			return false;
	}
	return true;
}

enum acd_agent_state acd_agent_state_of(const struct acd_agent *a)
{
	if (!a->logged_in)
		return ACD_AGENT_LOGGED_OUT;
	if (a->ntasks)
		return ACD_AGENT_ON_TASK;
	if (a->offer)
		return ACD_AGENT_RESERVED;
	if (a->wrapup)
		return ACD_AGENT_WRAP_UP;
	if (a->not_ready)
		return ACD_AGENT_NOT_READY;
	return ACD_AGENT_AVAILABLE;
}

/* Can @a take one more task of channel @ch right now? Voice excludes all else. */
static bool agent_can_take(const struct acd_agent *a, enum acd_channel ch)
{
	if (!a->logged_in || a->not_ready || a->wrapup || a->offer)
		return false;
	if (a->load[ch] >= a->conf.capacity[ch])
		return false;
	if (ch == ACD_CHAN_VOICE)
		return a->ntasks == 0;
	return a->load[ACD_CHAN_VOICE] == 0;
}

/* The member's rank in its queue's heap, fixed when it enters (docs/ACD.md). */
static void key_set(struct acd *acd, struct acd_member *m)
{
	const struct acd_agent *a = m->agent;
	const struct acd_queue *q = m->q;
	uint64_t sum = 0;

	memset(m->key, 0, sizeof(m->key));
	switch (q->conf.strategy) {
	case ACD_STRAT_LONGEST_IDLE:
	case ACD_STRAT_RING_ALL:
	case ACD_STRAT_BULLSEYE:
		m->key[0] = a->idle_since;
		break;
	case ACD_STRAT_RR_MEMORY:
		/*
		 * Members after the last one offered come first (this epoch),
		 * then the others from the start (next epoch). The epoch moves
		 * on only when the next epoch's first member is chosen, and at
		 * that time nothing of the old epoch is left in the heap, so the
		 * keys already in the heap never need rewriting.
		 */
		m->key[0] = m->pos > q->rr_last ? q->rr_epoch : q->rr_epoch + 1;
		m->key[1] = m->pos;
		break;
	case ACD_STRAT_FEWEST_CALLS:
		m->key[0] = m->calls;
		m->key[1] = a->idle_since;
		break;
	case ACD_STRAT_LEAST_TALK:
		m->key[0] = m->talk_ms;
		m->key[1] = a->idle_since;
		break;
	case ACD_STRAT_LINEAR:
		m->key[0] = m->pos;
		break;
	case ACD_STRAT_RANDOM:
		/* Independent draws: the smallest of the available ones is a
		 * uniform choice among them, whoever joined when. */
		m->key[0] = rng_next(acd);
		break;
	case ACD_STRAT_BEST_SKILL:
		for (unsigned i = 0; i < q->conf.nskills; i++)
			sum += a->conf.levels[q->conf.skills[i].skill];
		m->key[0] = (uint64_t)ACD_LEVEL_MAX * ACD_QUEUE_SKILLS - sum;
		m->key[1] = a->idle_since;
		break;
	}
}

static uint32_t tier_allowed(const struct acd *acd, const struct acd_task *t)
{
	const struct acd_queue *q = t->q;
	uint64_t step;

	if (q->conf.strategy != ACD_STRAT_BULLSEYE)
		return UINT32_MAX;
	step = (uint64_t)(q->conf.tier_wait_s ? q->conf.tier_wait_s : TIER_DEFAULT_S) * 1000;
	return (uint32_t)((now_of(acd) - t->q_arrival) / step);
}

static uint64_t ring_ms(const struct acd_queue *q)
{
	return (uint64_t)(q->conf.ring_timeout_s ? q->conf.ring_timeout_s : RING_DEFAULT_S) * 1000;
}

/*
 * The best available member for @t: the heap's top unless the task needs
 * skills the top lacks; then pop past the ones lacking them and push them
 * back (cost grows with how many are skipped, never with the queue's size
 * beyond log n). BULLSEYE stops at the first tier not yet open.
 */
static struct acd_member *find_member(struct acd *acd, struct acd_queue *q, struct acd_task *t)
{
	struct acd_member *stash = NULL, *m = NULL;
	uint32_t allowed = tier_allowed(acd, t);

	while (q->navail) {
		struct acd_member *top = q->avail[0].m;

		if (top->penalty > allowed)
			break;
		if (acd_agent_meets(top->agent, t->conf.skills, t->conf.nskills)) {
			m = top;
			break;
		}
		acd_avail_remove(q, top);
		top->stash = stash;
		stash = top;
	}
	while (stash) {
		struct acd_member *next = stash->stash;

		acd_avail_push(q, stash);
		stash = next;
	}
	return m;
}

static void ring_timeout(void *arg);

static void offer_one(struct acd *acd, struct acd_task *t, struct acd_member *m)
{
	struct acd_agent *a = m->agent;
	struct acd_queue *q = t->q;

	if (q->conf.strategy == ACD_STRAT_RR_MEMORY) {
		q->rr_last = m->pos;
		if (m->key[0] > q->rr_epoch)
			q->rr_epoch = m->key[0];
	}
	a->offer = t;
	m->offer_next = t->offers;
	t->offers = m;
	emit_task(acd, ACD_DEC_OFFER, t, a);
	acd_agent_sync(acd, a, false);
}

static void task_ringing(struct acd *acd, struct acd_task *t)
{
	acd_tasks_remove(t->q, t);
	t->state = ACD_TASK_RINGING;
	t->q->nringing++;
	t->ring_start = now_of(acd);
	timer_start(acd->tw, &t->ring_tmr, ring_ms(t->q), ring_timeout, t);
}

/* Ring all: every available member with the task's skills. */
static bool offer_all(struct acd *acd, struct acd_queue *q, struct acd_task *t)
{
	struct acd_member *stash = NULL, *take = NULL;

	while (q->navail) {
		struct acd_member *top = q->avail[0].m;

		acd_avail_remove(q, top);
		if (acd_agent_meets(top->agent, t->conf.skills, t->conf.nskills)) {
			top->offer_next = take;
			take = top;
		} else {
			top->stash = stash;
			stash = top;
		}
	}
	while (stash) {
		struct acd_member *next = stash->stash;

		acd_avail_push(q, stash);
		stash = next;
	}
	if (!take)
		return false;
	task_ringing(acd, t);
	while (take) {
		struct acd_member *next = take->offer_next;

		/* Back in the heap so that the agent's sync takes it out with
		 * all its other memberships, in one place. */
		acd_avail_push(q, take);
		offer_one(acd, t, take);
		take = next;
	}
	return true;
}

void acd_queue_dispatch(struct acd *acd, struct acd_queue *q)
{
	while (q->ntasks && q->navail) {
		struct acd_task *tstash = NULL, *t = NULL;
		struct acd_member *m = NULL;
		bool ringall = q->conf.strategy == ACD_STRAT_RING_ALL;

		/*
		 * Tasks in order; one that needs extra skills nobody available
		 * has is stepped over, but a plain task that finds nobody means
		 * no later plain task would either: stop there.
		 */
		while (q->ntasks) {
			struct acd_task *top = q->tasks[0];

			m = find_member(acd, q, top);
			if (m) {
				t = top;
				break;
			}
			if (!top->conf.nskills)
				break;
			acd_tasks_remove(q, top);
			top->stash = tstash;
			tstash = top;
		}
		while (tstash) {
			struct acd_task *next = tstash->stash;

			acd_tasks_push(q, tstash);
			tstash = next;
		}
		if (!t)
			return;
		if (ringall) {
			if (!offer_all(acd, q, t))
				return;
			continue;
		}
		task_ringing(acd, t);
		offer_one(acd, t, m);
	}
}

struct dispatch_ent {
	struct acd_queue *q;
	const struct acd_task *head;
};

static bool dispatch_before(const struct dispatch_ent *x, const struct dispatch_ent *y)
{
	if (x->q->conf.priority != y->q->conf.priority)
		return x->q->conf.priority > y->q->conf.priority;
	if (x->head->conf.priority != y->head->conf.priority)
		return x->head->conf.priority > y->head->conf.priority;
	if (x->head->arrival != y->head->arrival)
		return x->head->arrival < y->head->arrival;
	return x->q->conf.id < y->q->conf.id;
}

static void state_report(struct acd *acd, struct acd_agent *a)
{
	enum acd_agent_state st = acd_agent_state_of(a);
	struct acd_decision d;

	if (st == a->last_state && (st != ACD_AGENT_NOT_READY))
		return;
	if (st == a->last_state && a->reason == a->last_reason)
		return;
	a->last_state = st;
	a->last_reason = a->reason;
	memset(&d, 0, sizeof(d));
	d.type = ACD_EV_AGENT_STATE;
	d.agent = a->conf.id;
	d.u.agent.state = st;
	d.u.agent.reason = st == ACD_AGENT_NOT_READY ? a->reason : 0;
	emit(acd, &d);
}

void acd_agent_sync(struct acd *acd, struct acd_agent *a, bool dispatch)
{
	struct dispatch_ent ents[DISPATCH_SORT_MAX];
	unsigned n = 0;
	bool more = false;
	struct list_elem *e, *tmp;

	list_for_each_safe(&a->members, e, tmp)
	{
		struct acd_member *m = list_entry(e, struct acd_member, agent_le);
		bool want = m->eligible && agent_can_take(a, m->q->conf.channel);

		if (want && m->hidx == ACD_NOIDX) {
			key_set(acd, m);
			acd_avail_push(m->q, m);
			if (m->q->ntasks) {
				if (n < DISPATCH_SORT_MAX)
					ents[n++] = (struct dispatch_ent){m->q, m->q->tasks[0]};
				else
					more = true;
			}
		} else if (!want && m->hidx != ACD_NOIDX) {
			acd_avail_remove(m->q, m);
		}
	}
	state_report(acd, a);
	if (!dispatch)
		return;
	/* Across queues: queue priority, then the head task's priority, then
	 * its wait (docs/ACD.md). Members are few: insertion sort. */
	for (unsigned i = 1; i < n; i++) {
		struct dispatch_ent x = ents[i];
		unsigned j = i;

		for (; j > 0 && dispatch_before(&x, &ents[j - 1]); j--)
			ents[j] = ents[j - 1];
		ents[j] = x;
	}
	for (unsigned i = 0; i < n; i++)
		acd_queue_dispatch(acd, ents[i].q);
	if (!more)
		return;
	list_for_each_safe(&a->members, e, tmp)
	{
		struct acd_member *m = list_entry(e, struct acd_member, agent_le);

		if (m->hidx != ACD_NOIDX && m->q->ntasks)
			acd_queue_dispatch(acd, m->q);
	}
}

static struct acd_member *member_of(struct acd_agent *a, const struct acd_queue *q)
{
	struct list_elem *e, *tmp;

	list_for_each_safe(&a->members, e, tmp)
	{
		struct acd_member *m = list_entry(e, struct acd_member, agent_le);

		if (m->q == q)
			return m;
	}
	return NULL;
}

void acd_task_destroy(struct acd *acd, struct acd_task *t)
{
	timer_cancel(&t->ring_tmr);
	timer_cancel(&t->wait_tmr);
	timer_cancel(&t->ann_tmr);
	timer_cancel(&t->tier_tmr);
	assert(!timer_pending(&t->ring_tmr) && !timer_pending(&t->wait_tmr) &&
	       !timer_pending(&t->ann_tmr) && !timer_pending(&t->tier_tmr));
	acd_map_del(&acd->tasks, t->id);
	mem_free(t);
}

static void wait_timeout(void *arg);
static void announce(void *arg);
static void tier_widen(void *arg);

/* Leave the current queue (already out of its heap) for @reason. */
static void task_leave(struct acd *acd, struct acd_task *t, enum acd_exit_reason reason);

/*
 * Put @t (in no queue) into @q, or send it on to @q's exit. The task heap's
 * slot is reserved before anything is said, so an -ENOMEM leaves no trace.
 */
static int task_enter(struct acd *acd, struct acd_task *t, struct acd_queue *q)
{
	struct acd_decision d;
	enum acd_exit_reason reason;
	int err;

	for (;;) {
		if (!q->conf.join_empty && q->nlogged == 0)
			reason = ACD_EXITR_EMPTY;
		else if (q->conf.max_len && q->nalive >= q->conf.max_len)
			reason = ACD_EXITR_FULL;
		else
			break;
		/* Refused here: said as EXIT, ENTER never written (Asterisk's
		 * JOINEMPTY / FULL). Only an overflow move can continue. */
		t->q = q;
		q->st.exited++;
		memset(&d, 0, sizeof(d));
		d.type = ACD_DEC_EXIT;
		d.task = t->id;
		d.queue = q->conf.id;
		d.u.exit.reason = reason;
		d.u.exit.to = q->conf.exit;
		if (q->conf.exit.kind == ACD_EXIT_QUEUE) {
			struct acd_queue *to = acd_map_get(&acd->queues, q->conf.exit.id);

			if (to && t->hops < HOPS_MAX) {
				emit(acd, &d);
				t->hops++;
				q = to;
				continue;
			}
			d.u.exit.reason = ACD_EXITR_LOOP;
			d.u.exit.to = (struct acd_exit){ACD_EXIT_HANGUP, 0};
		}
		emit(acd, &d);
		t->q = NULL;
		return 1;
	}
	err = acd_tasks_reserve(q, q->nalive + 1);
	if (err)
		return err;
	t->q = q;
	t->q_arrival = now_of(acd);
	t->state = ACD_TASK_WAITING;
	t->expired = false;
	q->nalive++;
	q->st.entered++;
	acd_tasks_push(q, t);
	if (q->conf.max_wait_s)
		timer_start(acd->tw, &t->wait_tmr, (uint64_t)q->conf.max_wait_s * 1000,
			    wait_timeout, t);
	if (q->conf.announce_s)
		timer_start(acd->tw, &t->ann_tmr, (uint64_t)q->conf.announce_s * 1000, announce, t);
	if (q->conf.strategy == ACD_STRAT_BULLSEYE)
		timer_start(acd->tw, &t->tier_tmr,
			    (uint64_t)(q->conf.tier_wait_s ? q->conf.tier_wait_s : TIER_DEFAULT_S) *
				1000,
			    tier_widen, t);
	emit_task(acd, ACD_EV_ENTER, t, NULL);
	acd_queue_dispatch(acd, q);
	return 0;
}

static void task_leave(struct acd *acd, struct acd_task *t, enum acd_exit_reason reason)
{
	struct acd_queue *q = t->q, *to = NULL;
	struct acd_decision d;

	q->nalive--;
	q->st.exited++;
	timer_cancel(&t->wait_tmr);
	timer_cancel(&t->ann_tmr);
	timer_cancel(&t->tier_tmr);
	memset(&d, 0, sizeof(d));
	d.type = ACD_DEC_EXIT;
	d.task = t->id;
	d.queue = q->conf.id;
	d.u.exit.reason = reason;
	d.u.exit.to = q->conf.exit;
	if (q->conf.exit.kind == ACD_EXIT_QUEUE) {
		to = acd_map_get(&acd->queues, q->conf.exit.id);
		if (!to || t->hops >= HOPS_MAX) {
			to = NULL;
			d.u.exit.reason = ACD_EXITR_LOOP;
			d.u.exit.to = (struct acd_exit){ACD_EXIT_HANGUP, 0};
		}
	}
	emit(acd, &d);
	t->q = NULL;
	if (to) {
		int err;

		t->hops++;
		err = task_enter(acd, t, to);
		if (err == 0)
			return;
		if (err < 0) {
			/* No memory to hold it there (task_enter said nothing):
			 * it cannot stay anywhere, so it ends and the owner
			 * hangs up. */
			t->q = to;
			memset(&d, 0, sizeof(d));
			d.type = ACD_DEC_EXIT;
			d.task = t->id;
			d.queue = to->conf.id;
			d.u.exit.reason = ACD_EXITR_LOOP;
			emit(acd, &d);
		}
	}
	acd_task_destroy(acd, t);
}

/* The task's offers are over (rejected, timed out): back to its place. */
static void task_requeue(struct acd *acd, struct acd_task *t)
{
	struct acd_queue *q = t->q;

	timer_cancel(&t->ring_tmr);
	t->state = ACD_TASK_WAITING;
	q->nringing--;
	if (t->expired) {
		task_leave(acd, t, ACD_EXITR_TIMEOUT);
		return;
	}
	/* The slot is there: the reserve covers every waiting or ringing task. */
	acd_tasks_push(q, t);
	acd_queue_dispatch(acd, q);
}

static void ring_timeout(void *arg)
{
	struct acd_task *t = arg;
	struct acd *acd = t->q->acd;
	struct acd_member *offers = t->offers, *m, *next;
	bool ringall = t->q->conf.strategy == ACD_STRAT_RING_ALL;
	uint64_t ring = now_of(acd) - t->ring_start;

	t->offers = NULL;
	for (m = offers; m; m = m->offer_next) {
		emit_task(acd, ACD_DEC_CANCEL, t, m->agent);
		emit_times(acd, ACD_EV_RINGNOANSWER, t, m->agent, 0, 0, ring);
	}
	/*
	 * The task goes back first, while its agents still count as ringing,
	 * so it cannot be rung again on them before the owner heard the
	 * cancel; then each agent's queues are served in their order.
	 * NOTE: @t may be gone after task_requeue() (it can exit).
	 */
	task_requeue(acd, t);
	for (m = offers; m; m = next) {
		struct acd_agent *a = m->agent;

		next = m->offer_next;
		m->offer_next = NULL;
		a->offer = NULL;
		/* Ring all: nobody in particular missed it; see docs/ACD.md. */
		if (!ringall) {
			a->not_ready = true;
			a->reason = ACD_NR_MISSED;
		}
		acd_agent_sync(acd, a, true);
	}
}

static void wait_timeout(void *arg)
{
	struct acd_task *t = arg;
	struct acd *acd = t->q->acd;

	if (t->state == ACD_TASK_RINGING) {
		t->expired = true;
		return;
	}
	acd_tasks_remove(t->q, t);
	task_leave(acd, t, ACD_EXITR_TIMEOUT);
}

static void announce(void *arg)
{
	struct acd_task *t = arg;
	struct acd_queue *q = t->q;
	struct acd *acd = q->acd;
	struct acd_decision d;
	uint32_t pos;

	timer_start(acd->tw, &t->ann_tmr, (uint64_t)q->conf.announce_s * 1000, announce, t);
	if (t->state != ACD_TASK_WAITING)
		return;
	pos = acd_tasks_rank(q, t) + 1;
	memset(&d, 0, sizeof(d));
	d.type = ACD_DEC_ANNOUNCE;
	d.task = t->id;
	d.queue = q->conf.id;
	d.u.announce.position = pos;
	d.u.announce.ewt_s =
	    (uint32_t)(q->avg_handle_ms * pos / (q->nlogged ? q->nlogged : 1) / 1000);
	emit(acd, &d);
}

static void tier_widen(void *arg)
{
	struct acd_task *t = arg;
	struct acd_queue *q = t->q;
	struct acd *acd = q->acd;

	if (tier_allowed(acd, t) < ACD_TIER_MAX)
		timer_start(acd->tw, &t->tier_tmr,
			    (uint64_t)(q->conf.tier_wait_s ? q->conf.tier_wait_s : TIER_DEFAULT_S) *
				1000,
			    tier_widen, t);
	if (t->state == ACD_TASK_WAITING)
		acd_queue_dispatch(acd, q);
}

static void wrapup_done(void *arg)
{
	struct acd_agent *a = arg;

	a->wrapup = false;
	a->idle_since = now_of(a->acd);
	acd_agent_sync(a->acd, a, true);
}

static void advance(struct acd *acd, uint64_t now)
{
	timer_wheel_advance(acd->tw, now);
}

int acd_tick(struct acd *acd, uint64_t now)
{
	if (!acd)
		return -EINVAL;
	advance(acd, now);
	return 0;
}

int64_t acd_next_timer(const struct acd *acd)
{
	return acd ? timer_wheel_next(acd->tw) : -1;
}

int acd_task_enqueue(struct acd *acd, uint64_t now, const struct acd_task_conf *conf)
{
	struct acd_queue *q;
	struct acd_task *t;
	int err;

	if (!acd || !conf || !conf->id || conf->nskills > ACD_TASK_SKILLS ||
	    (unsigned)conf->channel >= ACD_CHAN_COUNT)
		return -EINVAL;
	for (unsigned i = 0; i < conf->nskills; i++) {
		if (conf->skills[i].skill >= ACD_SKILLS_MAX)
			return -EINVAL;
	}
	advance(acd, now);
	q = acd_map_get(&acd->queues, conf->queue);
	if (!q)
		return -ENOENT;
	if (conf->channel != q->conf.channel)
		return -EINVAL;
	if (acd_map_get(&acd->tasks, conf->id))
		return -EEXIST;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->id = conf->id;
	t->conf = *conf;
	t->hidx = ACD_NOIDX;
	t->seq = ++acd->seq;
	t->arrival = now_of(acd);
	timer_init(&t->ring_tmr);
	timer_init(&t->wait_tmr);
	timer_init(&t->ann_tmr);
	timer_init(&t->tier_tmr);
	/* Both reserves before the first word, so -ENOMEM changes nothing. */
	err = acd_tasks_reserve(q, q->nalive + 1);
	if (!err)
		err = acd_map_put(&acd->tasks, t->id, t);
	if (err) {
		mem_free(t);
		return err;
	}
	err = task_enter(acd, t, q);
	if (err == 1) {
		acd_task_destroy(acd, t);
		err = 0;
	} else if (err) {
		/* Only an overflow hop can fail here, after EXIT was said. */
		struct acd_decision d;

		memset(&d, 0, sizeof(d));
		d.type = ACD_DEC_EXIT;
		d.task = t->id;
		d.queue = t->q ? t->q->conf.id : 0;
		d.u.exit.reason = ACD_EXITR_LOOP;
		emit(acd, &d);
		acd_task_destroy(acd, t);
		err = 0;
	}
	return err;
}

static struct acd_task *task_get(struct acd *acd, uint64_t id)
{
	return acd_map_get(&acd->tasks, id);
}

int acd_task_abandon(struct acd *acd, uint64_t now, uint64_t id)
{
	struct acd_task *t;
	struct acd_queue *q;
	struct acd_member *m, *next, *offers;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	t = task_get(acd, id);
	if (!t)
		return -ENOENT;
	if (t->state == ACD_TASK_CONNECTED)
		return -EINVAL;
	q = t->q;
	offers = t->offers;
	t->offers = NULL;
	for (m = offers; m; m = m->offer_next) {
		m->agent->offer = NULL;
		emit_task(acd, ACD_DEC_CANCEL, t, m->agent);
	}
	if (t->state == ACD_TASK_RINGING)
		q->nringing--;
	acd_tasks_remove(q, t);
	q->nalive--;
	q->st.abandoned++;
	emit_times(acd, ACD_EV_ABANDON, t, NULL, now_of(acd) - t->q_arrival, 0, 0);
	acd_task_destroy(acd, t);
	for (m = offers; m; m = next) {
		next = m->offer_next;
		m->offer_next = NULL;
		acd_agent_sync(acd, m->agent, true);
	}
	return 0;
}

int acd_offer_answer(struct acd *acd, uint64_t now, uint64_t id, uint32_t agent)
{
	struct acd_member *m, *next, *offers, *mine = NULL;
	struct acd_agent *a;
	struct acd_queue *q;
	struct acd_task *t;
	uint64_t wait;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	t = task_get(acd, id);
	/* The agent is nearly always among the task's offers, whose agents are
	 * in cache: the id map (a cache miss) only when it is not, to tell
	 * -ENOENT from -EINVAL exactly as before. */
	a = NULL;
	if (t && t->state == ACD_TASK_RINGING) {
		for (m = t->offers; m && !a; m = m->offer_next) {
			if (m->agent->conf.id == agent)
				a = m->agent;
		}
	}
	if (!a)
		a = acd_map_get(&acd->agents, agent);
	if (!t || !a)
		return -ENOENT;
	if (t->state != ACD_TASK_RINGING || a->offer != t)
		return -EINVAL;
	q = t->q;
	offers = t->offers;
	t->offers = NULL;
	for (m = offers; m; m = m->offer_next) {
		m->agent->offer = NULL;
		if (m->agent == a)
			mine = m;
		else
			emit_task(acd, ACD_DEC_CANCEL, t, m->agent);
	}
	timer_cancel(&t->ring_tmr);
	timer_cancel(&t->wait_tmr);
	timer_cancel(&t->ann_tmr);
	timer_cancel(&t->tier_tmr);
	t->state = ACD_TASK_CONNECTED;
	q->nringing--;
	q->nalive--;
	q->nconn++;
	t->agent = a;
	t->member = mine;
	t->connect_at = now_of(acd);
	a->load[t->conf.channel]++;
	a->ntasks++;
	if (mine)
		mine->calls++;
	wait = t->connect_at - t->q_arrival;
	q->st.answered++;
	if (wait <= (uint64_t)q->conf.sl_s * 1000)
		q->st.answered_in_sl++;
	emit_times(acd, ACD_EV_CONNECT, t, a, wait, 0, t->connect_at - t->ring_start);
	acd_agent_sync(acd, a, true);
	for (m = offers; m; m = next) {
		next = m->offer_next;
		m->offer_next = NULL;
		if (m != mine)
			acd_agent_sync(acd, m->agent, true);
	}
	return 0;
}

int acd_offer_reject(struct acd *acd, uint64_t now, uint64_t id, uint32_t agent)
{
	struct acd_member **pp, *m;
	struct acd_agent *a;
	struct acd_task *t;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	t = task_get(acd, id);
	a = acd_map_get(&acd->agents, agent);
	if (!t || !a)
		return -ENOENT;
	if (t->state != ACD_TASK_RINGING || a->offer != t)
		return -EINVAL;
	for (pp = &t->offers; *pp && (*pp)->agent != a; pp = &(*pp)->offer_next)
		;
	m = *pp;
	*pp = m->offer_next;
	m->offer_next = NULL;
	a->offer = NULL;
	emit_times(acd, ACD_EV_RINGNOANSWER, t, a, 0, 0, now_of(acd) - t->ring_start);
	a->not_ready = true;
	a->reason = ACD_NR_MISSED;
	acd_agent_sync(acd, a, false);
	if (!t->offers)
		task_requeue(acd, t);
	return 0;
}

int acd_task_end(struct acd *acd, uint64_t now, uint64_t id)
{
	struct acd_member *m;
	struct acd_agent *a;
	struct acd_queue *q;
	struct acd_task *t;
	uint64_t talk, wrap;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	t = task_get(acd, id);
	if (!t)
		return -ENOENT;
	if (t->state != ACD_TASK_CONNECTED)
		return -EINVAL;
	a = t->agent;
	q = t->q;
	talk = now_of(acd) - t->connect_at;
	wrap = (uint64_t)q->conf.wrapup_s * 1000;
	/* The member remembered at connect time spares a walk of the
	 * agent's members (cache misses); member_remove() clears it. */
	m = t->member ? t->member : member_of(a, q);
	if (m)
		m->talk_ms += talk;
	q->nconn--;
	q->st.completed++;
	/* A moving average over about 16 tasks: recent enough, no history kept. */
	q->avg_handle_ms =
	    q->avg_handle_ms ? (q->avg_handle_ms * 15 + talk + wrap) / 16 : talk + wrap;
	emit_times(acd, ACD_EV_COMPLETE, t, a, t->connect_at - t->q_arrival, talk, 0);
	a->load[t->conf.channel]--;
	a->ntasks--;
	/* Not acd_task_destroy(): the answer stopped all its timers and none
	 * restarts once connected, and their cache lines are cold by now. */
	assert(!timer_pending(&t->ring_tmr) && !timer_pending(&t->wait_tmr) &&
	       !timer_pending(&t->ann_tmr) && !timer_pending(&t->tier_tmr));
	acd_map_del(&acd->tasks, t->id);
	mem_free(t);
	if (!a->ntasks) {
		if (wrap) {
			a->wrapup = true;
			timer_start(acd->tw, &a->wrap_tmr, wrap, wrapup_done, a);
		} else {
			a->idle_since = now_of(acd);
		}
	}
	acd_agent_sync(acd, a, true);
	return 0;
}

int acd_agent_login(struct acd *acd, uint64_t now, uint32_t id)
{
	struct list_elem *e, *tmp;
	struct acd_agent *a;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	a = acd_map_get(&acd->agents, id);
	if (!a)
		return -ENOENT;
	if (a->logged_in)
		return 0;
	a->logged_in = true;
	a->not_ready = false;
	a->reason = 0;
	a->idle_since = now_of(acd);
	list_for_each_safe(&a->members, e, tmp)
	{
		list_entry(e, struct acd_member, agent_le)->q->nlogged++;
	}
	acd_agent_sync(acd, a, true);
	return 0;
}

int acd_agent_logout(struct acd *acd, uint64_t now, uint32_t id)
{
	struct list_elem *e, *tmp;
	struct acd_agent *a;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	a = acd_map_get(&acd->agents, id);
	if (!a)
		return -ENOENT;
	if (!a->logged_in)
		return 0;
	if (a->offer || a->ntasks)
		return -EBUSY;
	timer_cancel(&a->wrap_tmr);
	a->wrapup = false;
	a->logged_in = false;
	list_for_each_safe(&a->members, e, tmp)
	{
		list_entry(e, struct acd_member, agent_le)->q->nlogged--;
	}
	acd_agent_sync(acd, a, false);
	return 0;
}

int acd_agent_ready(struct acd *acd, uint64_t now, uint32_t id)
{
	struct acd_agent *a;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	a = acd_map_get(&acd->agents, id);
	if (!a)
		return -ENOENT;
	if (!a->logged_in)
		return -EINVAL;
	if (a->not_ready && !a->ntasks && !a->wrapup)
		a->idle_since = now_of(acd);
	a->not_ready = false;
	a->reason = 0;
	acd_agent_sync(acd, a, true);
	return 0;
}

int acd_agent_not_ready(struct acd *acd, uint64_t now, uint32_t id, uint32_t reason)
{
	struct acd_agent *a;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	a = acd_map_get(&acd->agents, id);
	if (!a)
		return -ENOENT;
	if (!a->logged_in)
		return -EINVAL;
	a->not_ready = true;
	a->reason = reason;
	acd_agent_sync(acd, a, false);
	return 0;
}

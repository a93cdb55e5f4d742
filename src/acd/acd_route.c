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
	d.queue = t->q ? t->q->id : 0;
	d.agent = a ? a->id : 0;
	emit(acd, &d);
}

static void emit_times(struct acd *acd, enum acd_dec_type type, const struct acd_task *t,
		       const struct acd_agent *a, uint64_t wait, uint64_t talk, uint64_t ring)
{
	struct acd_decision d;

	memset(&d, 0, sizeof(d));
	d.type = type;
	d.task = t->id;
	d.queue = t->q->id;
	d.agent = a ? a->id : 0;
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
		if (acd_agent_level(a, req[i].skill) < req[i].min_level)
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
	if (a->load[ch] >= a->capacity[ch])
		return false;
	if (ch == ACD_CHAN_VOICE)
		return a->ntasks == 0;
	return a->load[ACD_CHAN_VOICE] == 0;
}

/* The heap entry of @am, ranked as it enters (docs/ACD.md). */
static void hent_make(struct acd *acd, const struct acd_agent *a, const struct acd_amem *am,
		      struct acd_hent *e)
{
	const struct acd_queue *q = acd_amem_queue(acd, am);

	*e = (struct acd_hent){.penalty = am->penalty, .agent_id = a->id, .slot = am->slot};
	switch ((enum acd_strategy)q->strategy) {
	case ACD_STRAT_LONGEST_IDLE:
	case ACD_STRAT_RING_ALL:
	case ACD_STRAT_BULLSEYE:
		e->key[0] = a->idle_since;
		break;
	case ACD_STRAT_RR_MEMORY:
		/*
		 * Members after the last one offered come first (this epoch),
		 * then the others from the start (next epoch). The epoch moves
		 * on only when the next epoch's first member is chosen, and at
		 * that time nothing of the old epoch is left in the heap, so the
		 * keys already in the heap never need rewriting.
		 */
		e->key[1] = q->mem[am->slot].pos;
		e->key[0] = e->key[1] > q->rr_last ? q->rr_epoch : q->rr_epoch + 1;
		break;
	case ACD_STRAT_FEWEST_CALLS:
	case ACD_STRAT_LEAST_TALK:
		e->key[0] = q->mem[am->slot].metric;
		e->key[1] = a->idle_since;
		break;
	case ACD_STRAT_LINEAR:
		e->key[0] = q->mem[am->slot].pos;
		break;
	case ACD_STRAT_RANDOM:
		/* Independent draws: the smallest of the available ones is a
		 * uniform choice among them, whoever joined when. */
		e->key[0] = rng_next(acd);
		break;
	case ACD_STRAT_BEST_SKILL:
		e->key[0] = (uint64_t)ACD_LEVEL_MAX * ACD_QUEUE_SKILLS - am->skill_sum;
		e->key[1] = a->idle_since;
		break;
	}
}

static uint32_t tier_allowed(const struct acd *acd, const struct acd_task *t)
{
	const struct acd_queue *q = t->q;
	uint64_t step;

	if (q->strategy != ACD_STRAT_BULLSEYE)
		return UINT32_MAX;
	step = (uint64_t)(q->conf.tier_wait_s ? q->conf.tier_wait_s : TIER_DEFAULT_S) * 1000;
	return (uint32_t)((now_of(acd) - t->q_arrival) / step);
}

static uint64_t ring_ms(const struct acd_queue *q)
{
	return (uint64_t)(q->ring_timeout_s ? q->ring_timeout_s : RING_DEFAULT_S) * 1000;
}

/*
 * The best available member for @t, copied to @best: the heap's top unless
 * the task needs skills the top lacks; then pop past the ones lacking them
 * and put them back (cost grows with how many are skipped, never with the
 * queue's size beyond log n). BULLSEYE stops at the first tier not yet open.
 * The member stays in the heap: offering it takes it out with the agent's
 * other memberships.
 */
static bool find_member(struct acd *acd, struct acd_queue *q, const struct acd_task *t,
			struct acd_hent *best)
{
	uint32_t allowed = tier_allowed(acd, t);
	const struct acd_hent *top;
	bool found = false;

	/* The top's agent is read next if it is live: ask for both at once. */
	if (q->nheap)
		__builtin_prefetch(&q->mem[q->avail[0].slot]);
	while ((top = acd_avail_top(q))) {
		if (top->penalty > allowed)
			break;
		/* Plain tasks never look at the agent: no cache miss for it. */
		if (!t->nskills ||
		    acd_agent_meets(q->mem[top->slot].agent, t->skills, t->nskills)) {
			*best = *top;
			found = true;
			break;
		}
		acd_avail_pop(q);
	}
	acd_avail_unpop(q);
	return found;
}

static void ring_timeout(void *arg);

static void offer_one(struct acd *acd, struct acd_task *t, struct acd_agent *a)
{
	a->offer = t;
	a->offer_next = t->offers;
	t->offers = a;
	emit_task(acd, ACD_DEC_OFFER, t, a);
	acd_agent_sync(acd, a, false);
}

static void task_ringing(struct acd *acd, struct acd_task *t)
{
	acd_tasks_remove(t->q, t);
	t->state = ACD_TASK_RINGING;
	t->q->nringing++;
	t->ring_start = now_of(acd);
	timer_start(acd->tw, &t->tm->ring_tmr, ring_ms(t->q), ring_timeout, t);
}

/* Ring all: every available member with the task's skills. */
static bool offer_all(struct acd *acd, struct acd_queue *q, struct acd_task *t)
{
	struct acd_agent *take = NULL;
	const struct acd_hent *top;

	/* In rank order, each put before the last: offers go out worst first,
	 * as they always have. */
	while ((top = acd_avail_top(q))) {
		struct acd_agent *a = q->mem[top->slot].agent;

		if (acd_agent_meets(a, t->skills, t->nskills)) {
			a->offer_next = take;
			take = a;
		}
		acd_avail_pop(q);
	}
	/* Back in the heap so that each agent's sync takes it out with all its
	 * other memberships, in one place. */
	acd_avail_unpop(q);
	if (!take)
		return false;
	task_ringing(acd, t);
	while (take) {
		struct acd_agent *next = take->offer_next;

		offer_one(acd, t, take);
		take = next;
	}
	return true;
}

/* Offer @t (waiting in @q, its best task) to the best member for it, or to
 * all of them in ring all. False when no available member fits. */
static bool task_pair(struct acd *acd, struct acd_queue *q, struct acd_task *t)
{
	struct acd_agent *a;
	struct acd_hent best;

	if (!find_member(acd, q, t, &best))
		return false;
	if (q->strategy == ACD_STRAT_RING_ALL)
		return offer_all(acd, q, t);
	/* Its state and memberships come in while the ring timer starts. */
	a = q->mem[best.slot].agent;
	__builtin_prefetch(a, 1);
	__builtin_prefetch((const char *)a + 64, 1);
	if (q->strategy == ACD_STRAT_RR_MEMORY) {
		/* hent_make(): key[0] is the epoch, key[1] the position. */
		q->rr_last = (uint32_t)best.key[1];
		if (best.key[0] > q->rr_epoch)
			q->rr_epoch = best.key[0];
	}
	task_ringing(acd, t);
	offer_one(acd, t, a);
	/* Its entry, dead now, is at the top and in cache: drop it now rather
	 * than when the heap is cold again. */
	acd_avail_top(q);
	return true;
}

void acd_queue_dispatch(struct acd *acd, struct acd_queue *q)
{
	while (q->ntasks && q->navail) {
		struct acd_task *tstash = NULL;
		bool paired = false;

		/*
		 * Tasks in order; one that needs extra skills nobody available
		 * has is stepped over, but a plain task that finds nobody means
		 * no later plain task would either: stop there.
		 */
		while (q->ntasks) {
			struct acd_task *top = q->tasks[0];

			if (task_pair(acd, q, top)) {
				paired = true;
				break;
			}
			if (!top->nskills)
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
		if (!paired)
			return;
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
	if (x->head->priority != y->head->priority)
		return x->head->priority > y->head->priority;
	if (x->head->arrival != y->head->arrival)
		return x->head->arrival < y->head->arrival;
	return x->q->id < y->q->id;
}

static void state_report(struct acd *acd, struct acd_agent *a)
{
	enum acd_agent_state st = acd_agent_state_of(a);
	struct acd_decision d;

	if (st == (enum acd_agent_state)a->last_state && st != ACD_AGENT_NOT_READY)
		return;
	if (st == (enum acd_agent_state)a->last_state && a->reason == a->last_reason)
		return;
	a->last_state = (uint8_t)st;
	a->last_reason = a->reason;
	memset(&d, 0, sizeof(d));
	d.type = ACD_EV_AGENT_STATE;
	d.agent = a->id;
	d.u.agent.state = st;
	d.u.agent.reason = st == ACD_AGENT_NOT_READY ? a->reason : 0;
	emit(acd, &d);
}

void acd_agent_sync(struct acd *acd, struct acd_agent *a, bool dispatch)
{
	struct dispatch_ent ents[DISPATCH_SORT_MAX];
	bool can[ACD_CHAN_COUNT];
	unsigned n = 0;
	bool more = false;

	for (unsigned c = 0; c < ACD_CHAN_COUNT; c++)
		can[c] = agent_can_take(a, (enum acd_channel)c);
	/* The queues to change are known from the agent alone: ask for all of
	 * them at once, so their cache misses overlap instead of queueing up
	 * behind each other's heap walks. */
	for (uint32_t i = 0; i < a->nmem; i++) {
		const struct acd_amem *am = &a->mem[i];

		if ((am->eligible && can[am->channel]) != am->in_heap)
			__builtin_prefetch(acd_amem_queue(acd, am));
	}
	for (uint32_t i = 0; i < a->nmem; i++) {
		struct acd_amem *am = &a->mem[i];
		struct acd_queue *q = acd_amem_queue(acd, am);
		bool want = am->eligible && can[am->channel];
		struct acd_hent e;

		if (want == am->in_heap)
			continue;
		am->in_heap = want;
		if (!want) {
			acd_avail_remove(q, am->slot);
			continue;
		}
		hent_make(acd, a, am, &e);
		acd_avail_push(q, &e);
		if (q->ntasks) {
			if (n < DISPATCH_SORT_MAX)
				ents[n++] = (struct dispatch_ent){q, q->tasks[0]};
			else
				more = true;
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
	for (uint32_t i = 0; i < a->nmem; i++) {
		struct acd_queue *q = acd_amem_queue(acd, &a->mem[i]);

		if (a->mem[i].in_heap && q->ntasks)
			acd_queue_dispatch(acd, q);
	}
}

/* Stop the timers of @t and give them back: it is answered or gone. */
static void task_timers_put(struct acd *acd, struct acd_task *t)
{
	struct acd_task_timers *tm = t->tm;

	timer_cancel(&tm->ring_tmr);
	timer_cancel(&tm->wait_tmr);
	timer_cancel(&tm->ann_tmr);
	timer_cancel(&tm->tier_tmr);
	assert(!timer_pending(&tm->ring_tmr) && !timer_pending(&tm->wait_tmr) &&
	       !timer_pending(&tm->ann_tmr) && !timer_pending(&tm->tier_tmr));
	acd_pool_free(&acd->timer_pool, tm);
	t->tm = NULL;
}

void acd_task_destroy(struct acd *acd, struct acd_task *t)
{
	if (t->tm)
		task_timers_put(acd, t);
	acd_map_del(&acd->tasks, t->id);
	acd_pool_free(&acd->task_pool, t);
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
		if (!q->join_empty && q->nlogged == 0)
			reason = ACD_EXITR_EMPTY;
		else if (q->max_len && q->nalive >= q->max_len)
			reason = ACD_EXITR_FULL;
		else
			break;
		/* Refused here: said as EXIT, ENTER never written (Asterisk's
		 * JOINEMPTY / FULL). Only an overflow move can continue. */
		t->q = q;
		q->exited++;
		memset(&d, 0, sizeof(d));
		d.type = ACD_DEC_EXIT;
		d.task = t->id;
		d.queue = q->id;
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
	q->entered++;
	if (q->max_wait_s)
		timer_start(acd->tw, &t->tm->wait_tmr, (uint64_t)q->max_wait_s * 1000, wait_timeout,
			    t);
	if (q->announce_s)
		timer_start(acd->tw, &t->tm->ann_tmr, (uint64_t)q->announce_s * 1000, announce, t);
	if (q->strategy == ACD_STRAT_BULLSEYE)
		timer_start(acd->tw, &t->tm->tier_tmr,
			    (uint64_t)(q->conf.tier_wait_s ? q->conf.tier_wait_s : TIER_DEFAULT_S) *
				1000,
			    tier_widen, t);
	emit_task(acd, ACD_EV_ENTER, t, NULL);
	/* Alone in the queue the task is its head: pair it at once when it
	 * can be, as acd_queue_dispatch() would, without the two operations
	 * on the task heap (a cache miss each at 50,000 agents). */
	if (!q->ntasks && task_pair(acd, q, t))
		return 0;
	acd_tasks_push(q, t);
	acd_queue_dispatch(acd, q);
	return 0;
}

static void task_leave(struct acd *acd, struct acd_task *t, enum acd_exit_reason reason)
{
	struct acd_queue *q = t->q, *to = NULL;
	struct acd_decision d;

	q->nalive--;
	q->exited++;
	timer_cancel(&t->tm->wait_tmr);
	timer_cancel(&t->tm->ann_tmr);
	timer_cancel(&t->tm->tier_tmr);
	memset(&d, 0, sizeof(d));
	d.type = ACD_DEC_EXIT;
	d.task = t->id;
	d.queue = q->id;
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
			d.queue = to->id;
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

	timer_cancel(&t->tm->ring_tmr);
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
	struct acd_agent *offers = t->offers, *a, *next;
	bool ringall = t->q->strategy == ACD_STRAT_RING_ALL;
	uint64_t ring = now_of(acd) - t->ring_start;

	t->offers = NULL;
	for (a = offers; a; a = a->offer_next) {
		emit_task(acd, ACD_DEC_CANCEL, t, a);
		emit_times(acd, ACD_EV_RINGNOANSWER, t, a, 0, 0, ring);
	}
	/*
	 * The task goes back first, while its agents still count as ringing,
	 * so it cannot be rung again on them before the owner heard the
	 * cancel; then each agent's queues are served in their order.
	 * NOTE: @t may be gone after task_requeue() (it can exit).
	 */
	task_requeue(acd, t);
	for (a = offers; a; a = next) {
		next = a->offer_next;
		a->offer_next = NULL;
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

	timer_start(acd->tw, &t->tm->ann_tmr, (uint64_t)q->announce_s * 1000, announce, t);
	if (t->state != ACD_TASK_WAITING)
		return;
	pos = acd_tasks_rank(q, t) + 1;
	memset(&d, 0, sizeof(d));
	d.type = ACD_DEC_ANNOUNCE;
	d.task = t->id;
	d.queue = q->id;
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
		timer_start(acd->tw, &t->tm->tier_tmr,
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
	/*
	 * The engine starts no timer less than a second away, so nothing can
	 * fall due while the clock stands still: events within the same
	 * millisecond skip the wheel's scan for its next slot, which costs
	 * more than the rest of a routing decision.
	 */
	if (now <= timer_wheel_now(acd->tw))
		return;
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
	/* The task's slot in the id map and the queue's lines are independent
	 * misses: start them together. */
	acd_map_prefetch(&acd->tasks, conf->id);
	q = acd_map_get(&acd->queues, conf->queue);
	if (!q)
		return -ENOENT;
	__builtin_prefetch((const char *)q + 64);
	__builtin_prefetch((const char *)q + 128);
	if (conf->channel != q->channel)
		return -EINVAL;
	if (acd_map_get(&acd->tasks, conf->id))
		return -EEXIST;
	t = acd_pool_zalloc(&acd->task_pool);
	if (!t)
		return -ENOMEM;
	t->tm = acd_pool_zalloc(&acd->timer_pool);
	/* Both reserves before the first word, so -ENOMEM changes nothing. */
	err = t->tm ? acd_tasks_reserve(q, q->nalive + 1) : -ENOMEM;
	if (!err)
		err = acd_map_put(&acd->tasks, conf->id, t);
	if (err) {
		if (t->tm)
			acd_pool_free(&acd->timer_pool, t->tm);
		acd_pool_free(&acd->task_pool, t);
		return err;
	}
	t->id = conf->id;
	t->channel = (uint8_t)conf->channel;
	t->priority = conf->priority;
	t->nskills = (uint8_t)conf->nskills;
	memcpy(t->skills, conf->skills, sizeof(t->skills));
	t->hidx = ACD_NOIDX;
	t->seq = ++acd->seq;
	t->arrival = now_of(acd);
	timer_init(&t->tm->ring_tmr);
	timer_init(&t->tm->wait_tmr);
	timer_init(&t->tm->ann_tmr);
	timer_init(&t->tm->tier_tmr);
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
		d.queue = t->q ? t->q->id : 0;
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
	struct acd_agent *a, *next, *offers;

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
	for (a = offers; a; a = a->offer_next) {
		a->offer = NULL;
		emit_task(acd, ACD_DEC_CANCEL, t, a);
	}
	if (t->state == ACD_TASK_RINGING)
		q->nringing--;
	acd_tasks_remove(q, t);
	q->nalive--;
	q->abandoned++;
	emit_times(acd, ACD_EV_ABANDON, t, NULL, now_of(acd) - t->q_arrival, 0, 0);
	acd_task_destroy(acd, t);
	for (a = offers; a; a = next) {
		next = a->offer_next;
		a->offer_next = NULL;
		acd_agent_sync(acd, a, true);
	}
	return 0;
}

int acd_offer_answer(struct acd *acd, uint64_t now, uint64_t id, uint32_t agent)
{
	struct acd_agent *a, *x, *next, *offers;
	struct acd_amem *mine;
	struct acd_queue *q;
	struct acd_task *t;
	uint64_t wait;

	if (!acd)
		return -EINVAL;
	advance(acd, now);
	t = task_get(acd, id);
	/* The agent is nearly always among the task's offers, which are in
	 * cache: the id map (a cache miss) only when it is not, to tell
	 * -ENOENT from -EINVAL exactly as before. */
	a = NULL;
	if (t && t->state == ACD_TASK_RINGING) {
		for (x = t->offers; x && !a; x = x->offer_next) {
			if (x->id == agent)
				a = x;
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
	for (x = offers; x; x = x->offer_next) {
		x->offer = NULL;
		if (x != a)
			emit_task(acd, ACD_DEC_CANCEL, t, x);
	}
	task_timers_put(acd, t);
	t->state = ACD_TASK_CONNECTED;
	q->nringing--;
	q->nalive--;
	q->nconn++;
	t->agent = a;
	t->connect_at = now_of(acd);
	a->load[t->channel]++;
	a->ntasks++;
	if (q->strategy == ACD_STRAT_FEWEST_CALLS) {
		mine = acd_amem_find(a, q);
		if (mine)
			q->mem[mine->slot].metric++;
	}
	wait = t->connect_at - t->q_arrival;
	q->answered++;
	if (wait <= (uint64_t)q->sl_s * 1000)
		q->answered_in_sl++;
	emit_times(acd, ACD_EV_CONNECT, t, a, wait, 0, t->connect_at - t->ring_start);
	acd_agent_sync(acd, a, true);
	for (x = offers; x; x = next) {
		next = x->offer_next;
		x->offer_next = NULL;
		if (x != a)
			acd_agent_sync(acd, x, true);
	}
	return 0;
}

int acd_offer_reject(struct acd *acd, uint64_t now, uint64_t id, uint32_t agent)
{
	struct acd_agent **pp, *a;
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
	/* a->offer == t: @a is on the chain. */
	for (pp = &t->offers; *pp != a; pp = &(*pp)->offer_next)
		;
	*pp = a->offer_next;
	a->offer_next = NULL;
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
	struct acd_amem *am;
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
	/* Agent (its state and memberships) and queue at once. */
	__builtin_prefetch(a, 1);
	__builtin_prefetch((const char *)a + 64, 1);
	__builtin_prefetch((const char *)q + 64, 1);
	talk = now_of(acd) - t->connect_at;
	wrap = (uint64_t)q->wrapup_s * 1000;
	/* No membership when it was removed during the task: nobody to count
	 * the talk time for. */
	if (q->strategy == ACD_STRAT_LEAST_TALK) {
		am = acd_amem_find(a, q);
		if (am)
			q->mem[am->slot].metric += talk;
	}
	q->nconn--;
	q->completed++;
	/* A moving average over about 16 tasks: recent enough, no history kept. */
	q->avg_handle_ms =
	    q->avg_handle_ms ? (q->avg_handle_ms * 15 + talk + wrap) / 16 : talk + wrap;
	emit_times(acd, ACD_EV_COMPLETE, t, a, t->connect_at - t->q_arrival, talk, 0);
	a->load[t->channel]--;
	a->ntasks--;
	acd_task_destroy(acd, t);
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

/* The common start of an agent event: fire the timers due, find the agent. */
static int agent_event(struct acd *acd, uint64_t now, uint32_t id, struct acd_agent **ap)
{
	if (!acd)
		return -EINVAL;
	advance(acd, now);
	*ap = acd_map_get(&acd->agents, id);
	return *ap ? 0 : -ENOENT;
}

int acd_agent_login(struct acd *acd, uint64_t now, uint32_t id)
{
	struct acd_agent *a;
	int err = agent_event(acd, now, id, &a);

	if (err)
		return err;
	if (a->logged_in)
		return 0;
	a->logged_in = true;
	a->not_ready = false;
	a->reason = 0;
	a->idle_since = now_of(acd);
	for (uint32_t i = 0; i < a->nmem; i++)
		acd_amem_queue(acd, &a->mem[i])->nlogged++;
	acd_agent_sync(acd, a, true);
	return 0;
}

int acd_agent_logout(struct acd *acd, uint64_t now, uint32_t id)
{
	struct acd_agent *a;
	int err = agent_event(acd, now, id, &a);

	if (err)
		return err;
	if (!a->logged_in)
		return 0;
	if (a->offer || a->ntasks)
		return -EBUSY;
	timer_cancel(&a->wrap_tmr);
	a->wrapup = false;
	a->logged_in = false;
	for (uint32_t i = 0; i < a->nmem; i++)
		acd_amem_queue(acd, &a->mem[i])->nlogged--;
	acd_agent_sync(acd, a, false);
	return 0;
}

int acd_agent_ready(struct acd *acd, uint64_t now, uint32_t id)
{
	struct acd_agent *a;
	int err = agent_event(acd, now, id, &a);

	if (err)
		return err;
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
	int err = agent_event(acd, now, id, &a);

	if (err)
		return err;
	if (!a->logged_in)
		return -EINVAL;
	a->not_ready = true;
	a->reason = reason;
	acd_agent_sync(acd, a, false);
	return 0;
}

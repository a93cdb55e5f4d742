/*
 * acd: the engine object and its configuration: queues, agents and the
 * members joining them. Validation happens here, so the routing code can
 * trust every value it reads. Events and routing are in acd_route.c.
 */
#include <errno.h>
#include <string.h>

#include "acd/acd_internal.h"
#include "base/mem.h"

int acd_alloc(struct acd **acdp, const struct acd_conf *conf)
{
	struct acd *acd;
	int err;

	if (!acdp || !conf)
		return -EINVAL;
	acd = mem_zalloc(sizeof(*acd));
	if (!acd)
		return -ENOMEM;
	acd->conf = *conf;
	acd->rng = conf->seed;
	err = timer_wheel_alloc(&acd->tw, conf->now);
	if (err) {
		mem_free(acd);
		return err;
	}
	*acdp = acd;
	return 0;
}

static void queue_free(struct acd_queue *q)
{
	mem_free(q->avail);
	mem_free(q->live);
	mem_free(q->mem);
	mem_free(q->tasks);
	acd_line_free(q);
}

static void agent_free(struct acd_agent *a)
{
	if (a->mem != a->inl)
		mem_free(a->mem);
	acd_line_free(a);
}

void acd_free(struct acd *acd)
{
	if (!acd)
		return;
	/* The wheel first: freeing it unlinks the timers inside tasks and
	 * agents, which must still be there. */
	timer_wheel_free(acd->tw);
	for (size_t i = 0; i < acd->tasks.cap; i++) {
		if (acd->tasks.slots[i].val)
			acd_line_free(acd->tasks.slots[i].val);
	}
	for (size_t i = 0; i < acd->agents.cap; i++) {
		if (acd->agents.slots[i].val)
			agent_free(acd->agents.slots[i].val);
	}
	for (size_t i = 0; i < acd->queues.cap; i++) {
		if (acd->queues.slots[i].val)
			queue_free(acd->queues.slots[i].val);
	}
	acd_map_reset(&acd->tasks);
	acd_map_reset(&acd->agents);
	acd_map_reset(&acd->queues);
	mem_free(acd);
}

static bool skills_valid(const struct acd_skill_req *req, unsigned n, unsigned max)
{
	if (n > max)
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (req[i].skill >= ACD_SKILLS_MAX || req[i].min_level < 1 ||
		    req[i].min_level > ACD_LEVEL_MAX)
			return false;
	}
	return true;
}

int acd_queue_add(struct acd *acd, const struct acd_queue_conf *conf)
{
	struct acd_queue *q;
	int err;

	if (!acd || !conf || !conf->id || (unsigned)conf->strategy > ACD_STRAT_BULLSEYE ||
	    (unsigned)conf->channel >= ACD_CHAN_COUNT ||
	    (unsigned)conf->exit.kind > ACD_EXIT_USER ||
	    !skills_valid(conf->skills, conf->nskills, ACD_QUEUE_SKILLS))
		return -EINVAL;
	if (acd_map_get(&acd->queues, conf->id))
		return -EEXIST;
	q = acd_line_zalloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->conf = *conf;
	q->strategy = (uint8_t)conf->strategy;
	q->acd = acd;
	err = acd_map_put(&acd->queues, conf->id, q);
	if (err)
		acd_line_free(q);
	return err;
}

struct acd_amem *acd_amem_find(struct acd_agent *a, const struct acd_queue *q)
{
	for (uint32_t i = 0; i < a->nmem; i++) {
		if (a->mem[i].q == q)
			return &a->mem[i];
	}
	return NULL;
}

/* Drop @a's membership at @aslot from its array (the queue side stays). */
static void amem_del(struct acd_agent *a, uint32_t aslot)
{
	uint32_t last = --a->nmem;

	if (aslot != last) {
		a->mem[aslot] = a->mem[last];
		a->mem[aslot].q->mem[a->mem[aslot].slot].aslot = aslot;
	}
}

/* Drop the queue side of the membership at @slot (out of the heap already):
 * the last one takes its place, and its two back indexes follow. */
static void qmem_del(struct acd_queue *q, uint32_t slot)
{
	uint32_t last = --q->nmembers;
	struct acd_qmem *qm;

	if (slot == last)
		return;
	qm = &q->mem[slot];
	*qm = q->mem[last];
	qm->agent->mem[qm->aslot].slot = slot;
	acd_avail_move(q, last, slot);
}

int acd_queue_remove(struct acd *acd, uint32_t id)
{
	struct acd_queue *q;

	if (!acd)
		return -EINVAL;
	q = acd_map_get(&acd->queues, id);
	if (!q)
		return -ENOENT;
	if (q->nalive || q->nconn)
		return -EBUSY;
	for (uint32_t i = 0; i < q->nmembers; i++)
		amem_del(q->mem[i].agent, q->mem[i].aslot);
	acd_map_del(&acd->queues, id);
	queue_free(q);
	return 0;
}

int acd_agent_add(struct acd *acd, const struct acd_agent_conf *conf)
{
	struct acd_agent *a;
	bool any = false;
	int err;

	if (!acd || !conf || !conf->id)
		return -EINVAL;
	for (unsigned i = 0; i < ACD_SKILLS_MAX; i++) {
		if (conf->levels[i] > ACD_LEVEL_MAX)
			return -EINVAL;
	}
	if (acd_map_get(&acd->agents, conf->id))
		return -EEXIST;
	a = acd_line_zalloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->conf = *conf;
	for (unsigned c = 0; c < ACD_CHAN_COUNT; c++)
		any |= conf->capacity[c] != 0;
	if (!any)
		a->conf.capacity[ACD_CHAN_VOICE] = 1;
	/* Voice is one call at a time whatever the configuration says. */
	if (a->conf.capacity[ACD_CHAN_VOICE] > 1)
		a->conf.capacity[ACD_CHAN_VOICE] = 1;
	memcpy(a->capacity, a->conf.capacity, sizeof(a->capacity));
	a->id = conf->id;
	a->acd = acd;
	a->mem = a->inl;
	a->mem_cap = ACD_AGENT_INLINE;
	timer_init(&a->wrap_tmr);
	err = acd_map_put(&acd->agents, conf->id, a);
	if (err)
		acd_line_free(a);
	return err;
}

int acd_agent_remove(struct acd *acd, uint32_t id)
{
	struct acd_agent *a;

	if (!acd)
		return -EINVAL;
	a = acd_map_get(&acd->agents, id);
	if (!a)
		return -ENOENT;
	if (a->logged_in)
		return -EBUSY;
	/* Logged out: in no heap. */
	for (uint32_t i = 0; i < a->nmem; i++)
		qmem_del(a->mem[i].q, a->mem[i].slot);
	acd_map_del(&acd->agents, id);
	agent_free(a);
	return 0;
}

/* Room for one more membership on both sides, so that joining cannot fail
 * half-way. Member arrays grow geometrically; the heap to its bound
 * (acd_avail_push(): 2 * members + 8 entries), so routing never allocates. */
static int member_reserve(struct acd_queue *q, struct acd_agent *a)
{
	if (a->nmem == a->mem_cap) {
		uint32_t cap = a->mem_cap * 2;
		struct acd_amem *mem;

		if (a->mem == a->inl) {
			mem = mem_alloc(cap * sizeof(*mem));
			if (mem)
				memcpy(mem, a->inl, sizeof(a->inl));
		} else {
			mem = mem_realloc(a->mem, cap * sizeof(*mem));
		}
		if (!mem)
			return -ENOMEM;
		a->mem = mem;
		a->mem_cap = cap;
	}
	if (q->nmembers == q->mem_cap) {
		uint32_t cap = q->mem_cap ? q->mem_cap * 2 : 4;
		struct acd_qmem *mem;
		uint32_t *live;

		/* Each array on its own: a failure leaves the others larger,
		 * which is harmless. */
		mem = mem_realloc(q->mem, cap * sizeof(*mem));
		if (!mem)
			return -ENOMEM;
		q->mem = mem;
		live = mem_realloc(q->live, cap * sizeof(*live));
		if (!live)
			return -ENOMEM;
		q->live = live;
		q->mem_cap = cap;
	}
	if (q->heap_cap < 2 * (q->nmembers + 1) + 8) {
		uint32_t cap = 2 * (q->nmembers + 1) + 8;
		struct acd_hent *avail = mem_realloc(q->avail, cap * sizeof(*avail));

		if (!avail)
			return -ENOMEM;
		q->avail = avail;
		q->heap_cap = cap;
	}
	return 0;
}

int acd_member_add(struct acd *acd, uint32_t queue, uint32_t agent, uint32_t penalty)
{
	struct acd_queue *q;
	struct acd_agent *a;
	struct acd_amem *am;
	unsigned sum = 0;
	int err;

	if (!acd)
		return -EINVAL;
	q = acd_map_get(&acd->queues, queue);
	a = acd_map_get(&acd->agents, agent);
	if (!q || !a)
		return -ENOENT;
	if (q->conf.strategy == ACD_STRAT_BULLSEYE && penalty > ACD_TIER_MAX)
		return -EINVAL;
	if (acd_amem_find(a, q))
		return -EEXIST;
	err = member_reserve(q, a);
	if (err)
		return err;
	/* Levels never change after acd_agent_add(): the best-skill sum is
	 * fixed for the membership's life. */
	for (unsigned i = 0; i < q->conf.nskills; i++)
		sum += a->conf.levels[q->conf.skills[i].skill];
	q->mem[q->nmembers] = (struct acd_qmem){.agent = a, .aslot = a->nmem};
	q->live[q->nmembers] = 0;
	am = &a->mem[a->nmem++];
	*am = (struct acd_amem){
	    .q = q,
	    .slot = q->nmembers++,
	    .penalty = penalty,
	    .pos = ++q->next_pos,
	    .skill_sum = (uint16_t)sum,
	    .channel = (uint8_t)q->conf.channel,
	    .eligible = acd_agent_meets(a, q->conf.skills, q->conf.nskills),
	    .in_heap = false,
	};
	if (a->logged_in)
		q->nlogged++;
	acd_agent_sync(acd, a, true);
	return 0;
}

int acd_member_remove(struct acd *acd, uint32_t queue, uint32_t agent)
{
	struct acd_queue *q;
	struct acd_agent *a;
	struct acd_amem *am;

	if (!acd)
		return -EINVAL;
	q = acd_map_get(&acd->queues, queue);
	a = acd_map_get(&acd->agents, agent);
	if (!q || !a)
		return -ENOENT;
	am = acd_amem_find(a, q);
	if (!am)
		return -ENOENT;
	if (a->offer && a->offer->q == q)
		return -EBUSY;
	/* Connected tasks of @a in @q find no membership when they end
	 * (acd_task_end): their talk time has nobody left to count for. */
	acd_avail_remove(q, am->slot);
	qmem_del(q, am->slot);
	amem_del(a, (uint32_t)(am - a->mem));
	if (a->logged_in)
		q->nlogged--;
	return 0;
}

int acd_agent_state(const struct acd *acd, uint32_t agent, enum acd_agent_state *st,
		    uint32_t *reason)
{
	const struct acd_agent *a;

	if (!acd)
		return -EINVAL;
	a = acd_map_get(&acd->agents, agent);
	if (!a)
		return -ENOENT;
	if (st)
		*st = acd_agent_state_of(a);
	if (reason)
		*reason = a->not_ready ? a->reason : 0;
	return 0;
}

int acd_queue_stats(const struct acd *acd, uint32_t queue, struct acd_queue_stats *st)
{
	const struct acd_queue *q;

	if (!acd || !st)
		return -EINVAL;
	q = acd_map_get(&acd->queues, queue);
	if (!q)
		return -ENOENT;
	*st = q->st;
	st->waiting = q->ntasks;
	st->ringing = q->nringing;
	st->members = q->nmembers;
	st->logged = q->nlogged;
	st->avail = q->navail;
	return 0;
}

size_t acd_task_count(const struct acd *acd)
{
	return acd ? acd->tasks.n : 0;
}

const char *acd_strategy_name(enum acd_strategy s)
{
	static const char *const names[] = {
	    "longest-idle", "rrmemory", "fewest-calls", "least-talk", "ringall",
	    "linear",	    "random",	"best-skill",	"bullseye",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

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
	/* Chunks of 16 kB or so: few allocations, little left unused. */
	acd_pool_init(&acd->task_pool, sizeof(struct acd_task), 128);
	acd_pool_init(&acd->timer_pool, sizeof(struct acd_task_timers), 64);
	acd_pool_init(&acd->agent_pool, sizeof(struct acd_agent), 64);
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
	acd_avail_free(q);
	mem_free(q->live);
	mem_free(q->mem);
	mem_free(q->tasks);
	acd_line_free(q);
}

/* What the agent holds outside its pool object. */
static void agent_release(struct acd_agent *a)
{
	if (a->mem != a->inl)
		mem_free(a->mem);
	if (__builtin_popcountll(a->skills) > ACD_AGENT_LEVELS)
		mem_free(a->levels.arr);
}

void acd_free(struct acd *acd)
{
	if (!acd)
		return;
	/* The wheel first: freeing it unlinks the timers inside tasks and
	 * agents, which must still be there. */
	timer_wheel_free(acd->tw);
	for (size_t i = 0; i < acd->agents.cap; i++) {
		if (acd->agents.slots[i].val)
			agent_release(acd->agents.slots[i].val);
	}
	for (uint32_t i = 0; i < acd->nqtab; i++) {
		if (acd->qtab[i])
			queue_free(acd->qtab[i]);
	}
	mem_free(acd->qtab);
	acd_pool_reset(&acd->task_pool);
	acd_pool_reset(&acd->timer_pool);
	acd_pool_reset(&acd->agent_pool);
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

/* A free index in acd->qtab, growing it when none is: 0 or -ENOMEM. */
static int qtab_reserve(struct acd *acd, uint32_t *qi)
{
	if (acd->qtab_free) {
		uint32_t i = 0;

		/* Only after a queue was removed: configuration, rare. */
		while (acd->qtab[i])
			i++;
		*qi = i;
		return 0;
	}
	if (acd->nqtab == acd->qtab_cap) {
		uint32_t cap = acd->qtab_cap ? acd->qtab_cap * 2 : 16;
		struct acd_queue **qtab = mem_realloc(acd->qtab, cap * sizeof(*qtab));

		if (!qtab)
			return -ENOMEM;
		acd->qtab = qtab;
		acd->qtab_cap = cap;
	}
	*qi = acd->nqtab;
	return 0;
}

int acd_queue_add(struct acd *acd, const struct acd_queue_conf *conf)
{
	struct acd_queue *q;
	uint32_t qi;
	int err;

	if (!acd || !conf || !conf->id || (unsigned)conf->strategy > ACD_STRAT_BULLSEYE ||
	    (unsigned)conf->channel >= ACD_CHAN_COUNT ||
	    (unsigned)conf->exit.kind > ACD_EXIT_USER ||
	    !skills_valid(conf->skills, conf->nskills, ACD_QUEUE_SKILLS))
		return -EINVAL;
	if (acd_map_get(&acd->queues, conf->id))
		return -EEXIST;
	err = qtab_reserve(acd, &qi);
	if (err)
		return err;
	q = acd_line_zalloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->conf = *conf;
	q->strategy = (uint8_t)conf->strategy;
	q->id = conf->id;
	q->max_len = conf->max_len;
	q->max_wait_s = conf->max_wait_s;
	q->announce_s = conf->announce_s;
	q->sl_s = conf->sl_s;
	q->wrapup_s = conf->wrapup_s;
	q->ring_timeout_s = conf->ring_timeout_s;
	q->channel = (uint8_t)conf->channel;
	q->join_empty = conf->join_empty;
	q->acd = acd;
	q->qi = qi;
	err = acd_map_put(&acd->queues, conf->id, q);
	if (err) {
		acd_line_free(q);
		return err;
	}
	if (qi == acd->nqtab)
		acd->nqtab++;
	else
		acd->qtab_free--;
	acd->qtab[qi] = q;
	return 0;
}

struct acd_amem *acd_amem_find(struct acd_agent *a, const struct acd_queue *q)
{
	for (uint32_t i = 0; i < a->nmem; i++) {
		if (a->mem[i].qi == q->qi)
			return &a->mem[i];
	}
	return NULL;
}

/* Drop @a's membership at @aslot from its array (the queue side stays). */
static void amem_del(struct acd *acd, struct acd_agent *a, uint32_t aslot)
{
	uint32_t last = --a->nmem;

	if (aslot != last) {
		a->mem[aslot] = a->mem[last];
		acd_amem_queue(acd, &a->mem[aslot])->mem[a->mem[aslot].slot].aslot = aslot;
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
		amem_del(acd, q->mem[i].agent, q->mem[i].aslot);
	acd_map_del(&acd->queues, id);
	acd->qtab[q->qi] = NULL;
	acd->qtab_free++;
	queue_free(q);
	return 0;
}

int acd_agent_add(struct acd *acd, const struct acd_agent_conf *conf)
{
	struct acd_agent *a;
	uint8_t *lv;
	unsigned n = 0;
	bool any = false;
	int err;

	if (!acd || !conf || !conf->id)
		return -EINVAL;
	for (unsigned i = 0; i < ACD_SKILLS_MAX; i++) {
		if (conf->levels[i] > ACD_LEVEL_MAX)
			return -EINVAL;
		n += conf->levels[i] != 0;
	}
	if (acd_map_get(&acd->agents, conf->id))
		return -EEXIST;
	a = acd_pool_zalloc(&acd->agent_pool);
	if (!a)
		return -ENOMEM;
	lv = a->levels.inl;
	if (n > ACD_AGENT_LEVELS) {
		lv = a->levels.arr = mem_alloc(n);
		if (!lv) {
			acd_pool_free(&acd->agent_pool, a);
			return -ENOMEM;
		}
	}
	for (unsigned i = 0, k = 0; i < ACD_SKILLS_MAX; i++) {
		if (conf->levels[i]) {
			a->skills |= 1ULL << i;
			lv[k++] = conf->levels[i];
		}
	}
	for (unsigned c = 0; c < ACD_CHAN_COUNT; c++)
		any |= conf->capacity[c] != 0;
	memcpy(a->capacity, conf->capacity, sizeof(a->capacity));
	if (!any)
		a->capacity[ACD_CHAN_VOICE] = 1;
	/* Voice is one call at a time whatever the configuration says. */
	if (a->capacity[ACD_CHAN_VOICE] > 1)
		a->capacity[ACD_CHAN_VOICE] = 1;
	a->id = conf->id;
	a->acd = acd;
	a->mem = a->inl;
	a->mem_cap = ACD_AGENT_INLINE;
	timer_init(&a->wrap_tmr);
	err = acd_map_put(&acd->agents, conf->id, a);
	if (err) {
		agent_release(a);
		acd_pool_free(&acd->agent_pool, a);
	}
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
		qmem_del(acd_amem_queue(acd, &a->mem[i]), a->mem[i].slot);
	acd_map_del(&acd->agents, id);
	agent_release(a);
	acd_pool_free(&acd->agent_pool, a);
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
	return acd_avail_reserve(q, 2 * (q->nmembers + 1) + 8);
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
	if (q->strategy == ACD_STRAT_BULLSEYE && penalty > ACD_TIER_MAX)
		return -EINVAL;
	if (acd_amem_find(a, q))
		return -EEXIST;
	err = member_reserve(q, a);
	if (err)
		return err;
	/* Levels never change after acd_agent_add(): the best-skill sum is
	 * fixed for the membership's life. */
	for (unsigned i = 0; i < q->conf.nskills; i++)
		sum += acd_agent_level(a, q->conf.skills[i].skill);
	q->mem[q->nmembers] = (struct acd_qmem){.agent = a, .aslot = a->nmem, .pos = ++q->next_pos};
	q->live[q->nmembers] = 0;
	am = &a->mem[a->nmem++];
	*am = (struct acd_amem){
	    .qi = q->qi,
	    .slot = q->nmembers++,
	    .penalty = penalty,
	    .skill_sum = (uint16_t)sum,
	    .channel = q->channel,
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
	amem_del(acd, a, (uint32_t)(am - a->mem));
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
	memset(st, 0, sizeof(*st));
	st->entered = q->entered;
	st->answered = q->answered;
	st->answered_in_sl = q->answered_in_sl;
	st->abandoned = q->abandoned;
	st->exited = q->exited;
	st->completed = q->completed;
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

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
	mem_free(q->tasks);
	mem_free(q);
}

void acd_free(struct acd *acd)
{
	if (!acd)
		return;
	/* The wheel first: freeing it unlinks the timers inside tasks and
	 * agents, which must still be there. Members hang off agents. */
	timer_wheel_free(acd->tw);
	for (size_t i = 0; i < acd->tasks.cap; i++) {
		if (acd->tasks.slots[i].val)
			mem_free(acd->tasks.slots[i].val);
	}
	for (size_t i = 0; i < acd->agents.cap; i++) {
		struct acd_agent *a = acd->agents.slots[i].val;
		struct list_elem *e, *tmp;

		if (!a)
			continue;
		list_for_each_safe(&a->members, e, tmp)
		{
			mem_free(list_entry(e, struct acd_member, agent_le));
		}
		mem_free(a);
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
	q = mem_zalloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->conf = *conf;
	q->acd = acd;
	list_init(&q->members);
	err = acd_map_put(&acd->queues, conf->id, q);
	if (err)
		mem_free(q);
	return err;
}

int acd_queue_remove(struct acd *acd, uint32_t id)
{
	struct acd_queue *q;
	struct list_elem *e, *tmp;

	if (!acd)
		return -EINVAL;
	q = acd_map_get(&acd->queues, id);
	if (!q)
		return -ENOENT;
	if (q->nalive || q->nconn)
		return -EBUSY;
	list_for_each_safe(&q->members, e, tmp)
	{
		struct acd_member *m = list_entry(e, struct acd_member, queue_le);

		list_unlink(&m->agent_le);
		mem_free(m);
	}
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
	a = mem_zalloc(sizeof(*a));
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
	a->acd = acd;
	list_init(&a->members);
	timer_init(&a->wrap_tmr);
	err = acd_map_put(&acd->agents, conf->id, a);
	if (err)
		mem_free(a);
	return err;
}

int acd_agent_remove(struct acd *acd, uint32_t id)
{
	struct acd_agent *a;
	struct list_elem *e, *tmp;

	if (!acd)
		return -EINVAL;
	a = acd_map_get(&acd->agents, id);
	if (!a)
		return -ENOENT;
	if (a->logged_in)
		return -EBUSY;
	list_for_each_safe(&a->members, e, tmp)
	{
		struct acd_member *m = list_entry(e, struct acd_member, agent_le);

		list_unlink(&m->queue_le);
		m->q->nmembers--;
		mem_free(m);
	}
	acd_map_del(&acd->agents, id);
	mem_free(a);
	return 0;
}

int acd_member_add(struct acd *acd, uint32_t queue, uint32_t agent, uint32_t penalty)
{
	struct acd_hent *avail;
	struct acd_member *m;
	struct acd_queue *q;
	struct acd_agent *a;
	struct list_elem *e, *tmp;

	if (!acd)
		return -EINVAL;
	q = acd_map_get(&acd->queues, queue);
	a = acd_map_get(&acd->agents, agent);
	if (!q || !a)
		return -ENOENT;
	if (q->conf.strategy == ACD_STRAT_BULLSEYE && penalty > ACD_TIER_MAX)
		return -EINVAL;
	list_for_each_safe(&a->members, e, tmp)
	{
		if (list_entry(e, struct acd_member, agent_le)->q == q)
			return -EEXIST;
	}
	m = mem_zalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* The heap holds at most every member: sized now, routing never grows it. */
	avail = mem_realloc(q->avail, (q->nmembers + 1) * sizeof(*avail));
	if (!avail) {
		mem_free(m);
		return -ENOMEM;
	}
	q->avail = avail;
	m->agent = a;
	m->q = q;
	m->penalty = penalty;
	m->pos = ++q->next_pos;
	m->hidx = ACD_NOIDX;
	m->eligible = acd_agent_meets(a, q->conf.skills, q->conf.nskills);
	list_append(&a->members, &m->agent_le);
	list_append(&q->members, &m->queue_le);
	q->nmembers++;
	if (a->logged_in)
		q->nlogged++;
	acd_agent_sync(acd, a, true);
	return 0;
}

int acd_member_remove(struct acd *acd, uint32_t queue, uint32_t agent)
{
	struct acd_queue *q;
	struct acd_agent *a;
	struct acd_member *m = NULL;
	struct list_elem *e, *tmp;

	if (!acd)
		return -EINVAL;
	q = acd_map_get(&acd->queues, queue);
	a = acd_map_get(&acd->agents, agent);
	if (!q || !a)
		return -ENOENT;
	list_for_each_safe(&a->members, e, tmp)
	{
		struct acd_member *x = list_entry(e, struct acd_member, agent_le);

		if (x->q == q)
			m = x;
	}
	if (!m)
		return -ENOENT;
	if (a->offer && a->offer->q == q)
		return -EBUSY;
	/* Connected tasks may remember @m (acd_task_end): forget it. */
	for (size_t i = 0; a->ntasks && i < acd->tasks.cap; i++) {
		struct acd_task *t = acd->tasks.slots[i].val;

		if (t && t->member == m)
			t->member = NULL;
	}
	acd_avail_remove(q, m);
	list_unlink(&m->agent_le);
	list_unlink(&m->queue_le);
	q->nmembers--;
	if (a->logged_in)
		q->nlogged--;
	mem_free(m);
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

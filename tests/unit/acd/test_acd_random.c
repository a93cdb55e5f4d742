/*
 * Randomized test of acd: a seeded stream of events (arrivals, answers,
 * rejects, ends, abandons, logins, state changes, members joining and
 * leaving queues, time passing or standing still) over 50 agents with skill
 * levels up to ACD_LEVEL_MAX and 10 queues of every strategy, against a
 * model built only from
 * the decisions the engine emits. After every event: no agent is available
 * while ringing or on a task, no task rings two agents unless its queue
 * rings all, every task ends exactly once (COMPLETE, ABANDON or a final
 * EXIT), and no waiting task has an eligible agent sitting available.
 * Deterministic: a failure replays with the same seed.
 */
#include <stdio.h>
#include <string.h>

#include "acd/acd.h"
#include "base/mem.h"
#include "test.h"

#define NA	   50
#define NQ	   10
#define NSK	   10
#define LIVE_MAX   80
#define BULLSEYE_Q 9 /* the one queue nothing overflows into */

enum { T_NONE = 0, T_ARRIVING, T_QUEUED, T_CONNECTED, T_ENDED };

struct mtask {
	uint8_t state;
	uint8_t noffers;
	uint32_t queue, agent;
	uint64_t q_arrival;
	struct acd_task_conf conf;
	uint32_t live_idx;
};

struct magent {
	uint64_t offer;
	uint32_t ntasks;
	bool member[NQ + 1];
	uint32_t penalty[NQ + 1];
	uint8_t levels[ACD_SKILLS_MAX];
};

struct model {
	struct mtask *t;
	uint64_t nt;
	uint64_t *live; /* ids of tasks not ended */
	uint32_t nlive;
	struct magent a[NA + 1];
	struct acd_queue_conf q[NQ + 1];
	uint64_t ended, entered_ok;
	bool quiet; /* few arrivals: agents sit available while queues change */
	unsigned bad;
	uint64_t rnd;
};

static uint64_t rnd(struct model *m)
{
	m->rnd ^= m->rnd << 13;
	m->rnd ^= m->rnd >> 7;
	m->rnd ^= m->rnd << 17;
	return m->rnd;
}

static unsigned rnd_n(struct model *m, unsigned n)
{
	return (unsigned)(rnd(m) % n);
}

static void bad(struct model *m, const char *what, uint64_t task, uint32_t agent)
{
	if (m->bad++ < 5 && !test_oom_mode())
		fprintf(stderr, "  invariant: %s (task %llu agent %u)\n", what,
			(unsigned long long)task, agent);
}

static void live_del(struct model *m, struct mtask *t)
{
	uint64_t last = m->live[--m->nlive];

	m->live[t->live_idx] = last;
	m->t[last].live_idx = t->live_idx;
}

static void task_ended(struct model *m, struct mtask *t, uint64_t id)
{
	if (t->state == T_ENDED || t->state == T_NONE) {
		bad(m, "task ends twice or never existed", id, 0);
		return;
	}
	t->state = T_ENDED;
	m->ended++;
	live_del(m, t);
}

static void on_decision(const struct acd_decision *d, void *arg)
{
	struct model *m = arg;
	struct mtask *t = d->task && d->task < m->nt ? &m->t[d->task] : NULL;
	struct magent *a = d->agent && d->agent <= NA ? &m->a[d->agent] : NULL;

	if (d->type == ACD_EV_AGENT_STATE)
		return;
	if (!t) {
		bad(m, "unknown task", d->task, d->agent);
		return;
	}
	switch (d->type) {
	case ACD_DEC_OFFER:
		if (!a || a->offer || a->ntasks || t->state != T_QUEUED)
			bad(m, "offer to a busy agent or of a task not queued", d->task, d->agent);
		if (a)
			a->offer = d->task;
		t->noffers++;
		if (t->noffers > 1 && m->q[t->queue].strategy != ACD_STRAT_RING_ALL)
			bad(m, "task offered to two agents", d->task, d->agent);
		break;
	case ACD_DEC_CANCEL:
		if (!a || a->offer != d->task)
			bad(m, "cancel of an offer not made", d->task, d->agent);
		else {
			a->offer = 0;
			t->noffers--;
		}
		break;
	case ACD_EV_RINGNOANSWER:
		if (a && a->offer == d->task) {
			a->offer = 0;
			t->noffers--;
		}
		break;
	case ACD_EV_CONNECT:
		if (!a || a->offer != d->task || t->state != T_QUEUED || t->noffers != 1)
			bad(m, "connect without an offer", d->task, d->agent);
		if (a) {
			a->offer = 0;
			a->ntasks++;
		}
		t->noffers = 0;
		t->state = T_CONNECTED;
		t->agent = d->agent;
		break;
	case ACD_EV_COMPLETE:
		if (t->state != T_CONNECTED || !a || t->agent != d->agent)
			bad(m, "complete of a task not connected", d->task, d->agent);
		if (a)
			a->ntasks--;
		task_ended(m, t, d->task);
		break;
	case ACD_EV_ABANDON:
		if (t->state != T_QUEUED || t->noffers)
			bad(m, "abandon of a task not queued or still ringing", d->task, 0);
		task_ended(m, t, d->task);
		break;
	case ACD_DEC_EXIT:
		if ((t->state != T_QUEUED && t->state != T_ARRIVING) || t->noffers)
			bad(m, "exit of a task not queued or still ringing", d->task, 0);
		if (d->u.exit.to.kind == ACD_EXIT_QUEUE && d->u.exit.reason != ACD_EXITR_LOOP) {
			t->state = T_ARRIVING;
			t->queue = d->u.exit.to.id;
		} else {
			task_ended(m, t, d->task);
		}
		break;
	case ACD_EV_ENTER:
		if (t->state != T_ARRIVING)
			bad(m, "enter twice", d->task, 0);
		t->state = T_QUEUED;
		t->queue = d->queue;
		t->q_arrival = d->now;
		break;
	default:
		break;
	}
}

static bool eligible(const struct model *m, const struct magent *a, const struct mtask *t,
		     uint64_t now)
{
	const struct acd_queue_conf *q = &m->q[t->queue];

	if (!a->member[t->queue])
		return false;
	for (unsigned i = 0; i < q->nskills; i++) {
		if (a->levels[q->skills[i].skill] < q->skills[i].min_level)
			return false;
	}
	for (unsigned i = 0; i < t->conf.nskills; i++) {
		if (a->levels[t->conf.skills[i].skill] < t->conf.skills[i].min_level)
			return false;
	}
	if (q->strategy == ACD_STRAT_BULLSEYE &&
	    a->penalty[t->queue] > (now - t->q_arrival) / ((uint64_t)q->tier_wait_s * 1000))
		return false;
	return true;
}

static void check(struct model *m, struct acd *acd, uint64_t now)
{
	bool avail[NA + 1];

	for (uint32_t i = 1; i <= NA; i++) {
		enum acd_agent_state st;

		acd_agent_state(acd, i, &st, NULL);
		avail[i] = st == ACD_AGENT_AVAILABLE;
		if (avail[i] && (m->a[i].offer || m->a[i].ntasks))
			bad(m, "agent available while ringing or on a task", 0, i);
		if (m->a[i].ntasks && st != ACD_AGENT_ON_TASK)
			bad(m, "agent on a task in another state", 0, i);
		if (!m->a[i].ntasks && m->a[i].offer && st != ACD_AGENT_RESERVED)
			bad(m, "ringing agent not reserved", 0, i);
	}
	for (uint32_t k = 0; k < m->nlive; k++) {
		const struct mtask *t = &m->t[m->live[k]];

		if (t->state != T_QUEUED || t->noffers)
			continue;
		for (uint32_t i = 1; i <= NA; i++) {
			if (avail[i] && eligible(m, &m->a[i], t, now)) {
				bad(m, "queue stalls: eligible agent available", m->live[k], i);
				break;
			}
		}
	}
}

static int setup(struct model *m, struct acd *acd)
{
	int err = 0;

	for (uint32_t q = 1; q <= NQ && !err; q++) {
		struct acd_queue_conf *c = &m->q[q];

		c->id = q;
		c->strategy =
		    q == BULLSEYE_Q ? ACD_STRAT_BULLSEYE : (enum acd_strategy)((q - 1) % 8);
		c->priority = (int32_t)rnd_n(m, 3);
		if (q % 2) {
			c->nskills = 1;
			c->skills[0] = (struct acd_skill_req){(uint8_t)(q % NSK), 30};
		}
		c->wrapup_s = rnd_n(m, 10);
		c->ring_timeout_s = 10 + rnd_n(m, 10);
		c->max_wait_s = rnd_n(m, 2) ? 60 + rnd_n(m, 240) : 0;
		c->max_len = rnd_n(m, 2) ? 10 : 0;
		c->join_empty = rnd_n(m, 2);
		c->announce_s = 30;
		c->tier_wait_s = 20;
		switch (rnd_n(m, 3)) {
		case 0:
			c->exit = (struct acd_exit){ACD_EXIT_QUEUE, 1 + (q % 8)}; /* never 9 */
			break;
		case 1:
			c->exit = (struct acd_exit){ACD_EXIT_USER, 5};
			break;
		default:
			break;
		}
		err = acd_queue_add(acd, c);
	}
	for (uint32_t i = 1; i <= NA && !err; i++) {
		struct acd_agent_conf ac = {.id = i};
		struct magent *a = &m->a[i];

		for (unsigned s = 0; s < NSK; s++)
			a->levels[s] = ac.levels[s] = (uint8_t)rnd_n(m, ACD_LEVEL_MAX + 1);
		err = acd_agent_add(acd, &ac);
		for (unsigned k = 0; k < 3 && !err; k++) {
			uint32_t q = 1 + rnd_n(m, NQ), pen = rnd_n(m, 4);

			if (a->member[q])
				continue;
			err = acd_member_add(acd, q, i, pen);
			a->member[q] = true;
			a->penalty[q] = pen;
		}
		if (!err)
			err = acd_agent_login(acd, 0, i);
	}
	return err;
}

/* @a joins a random queue (refused when it is in it already). */
static int member_join(struct model *m, struct acd *acd, uint32_t a)
{
	uint32_t q = 1 + rnd_n(m, NQ), pen = rnd_n(m, 4);
	int err = acd_member_add(acd, q, a, pen);

	if (err == -EEXIST)
		return m->a[a].member[q] ? 0 : err;
	if (!err) {
		m->a[a].member[q] = true;
		m->a[a].penalty[q] = pen;
	}
	return err;
}

/* @a leaves a random queue (refused while it rings for it, or if not in it). */
static int member_leave(struct model *m, struct acd *acd, uint32_t a)
{
	uint32_t q = 1 + rnd_n(m, NQ);
	int err = acd_member_remove(acd, q, a);

	if (err == -ENOENT)
		return m->a[a].member[q] ? err : 0;
	if (err == -EBUSY)
		return m->a[a].offer && m->t[m->a[a].offer].queue == q ? 0 : err;
	if (!err)
		m->a[a].member[q] = false;
	return err;
}

/* A live task id in @state, or 0. */
static uint64_t pick_task(struct model *m, uint8_t state)
{
	if (!m->nlive)
		return 0;
	for (unsigned tries = 0; tries < 8; tries++) {
		uint64_t id = m->live[rnd_n(m, m->nlive)];

		if (m->t[id].state == state)
			return id;
	}
	return 0;
}

static uint32_t pick_offered(struct model *m)
{
	for (unsigned tries = 0; tries < 16; tries++) {
		uint32_t i = 1 + rnd_n(m, NA);

		if (m->a[i].offer)
			return i;
	}
	return 0;
}

static int step(struct model *m, struct acd *acd, uint64_t now)
{
	unsigned r = rnd_n(m, 100);
	uint32_t a;
	uint64_t id;
	int err;

	/* Timers first, so the model's view (what rings, what waits) is the
	 * engine's when the event is chosen. */
	err = acd_tick(acd, now);
	if (err)
		return err;
	/* In quiet phases most arrivals become ends. */
	if (r < 30 && m->quiet && rnd_n(m, 5))
		r = 52 + rnd_n(m, 15);
	if (r < 30) {
		struct mtask *t;
		uint32_t q = 1 + rnd_n(m, NQ);

		if (m->nlive >= LIVE_MAX)
			return acd_tick(acd, now);
		id = m->entered_ok + 1;
		t = &m->t[id];
		memset(t, 0, sizeof(*t));
		t->conf.id = id;
		t->conf.queue = q;
		t->conf.priority = q == BULLSEYE_Q ? 0 : (int32_t)rnd_n(m, 3);
		if (rnd_n(m, 5) == 0) {
			t->conf.nskills = 1;
			t->conf.skills[0] = (struct acd_skill_req){(uint8_t)rnd_n(m, NSK),
								   (uint8_t)(1 + rnd_n(m, 60))};
		}
		t->state = T_ARRIVING;
		t->queue = q;
		t->live_idx = m->nlive;
		m->live[m->nlive++] = id;
		err = acd_task_enqueue(acd, now, &t->conf);
		if (err) {
			live_del(m, t);
			t->state = T_NONE;
			return err;
		}
		m->entered_ok++;
		return 0;
	}
	if (r < 45) {
		a = pick_offered(m);
		return a ? acd_offer_answer(acd, now, m->a[a].offer, a) : acd_tick(acd, now);
	}
	if (r < 52) {
		a = pick_offered(m);
		return a ? acd_offer_reject(acd, now, m->a[a].offer, a) : acd_tick(acd, now);
	}
	if (r < 67) {
		id = pick_task(m, T_CONNECTED);
		return id ? acd_task_end(acd, now, id) : acd_tick(acd, now);
	}
	if (r < 72) {
		id = pick_task(m, T_QUEUED);
		return id ? acd_task_abandon(acd, now, id) : acd_tick(acd, now);
	}
	a = 1 + rnd_n(m, NA);
	if (r < 76)
		err = acd_agent_login(acd, now, a);
	else if (r < 79)
		err = acd_agent_logout(acd, now, a);
	else if (r < 88)
		err = acd_agent_ready(acd, now, a);
	else if (r < 92)
		err = acd_agent_not_ready(acd, now, a, 1 + rnd_n(m, 3));
	else if (r < 94)
		err = member_join(m, acd, a);
	else if (r < 96)
		err = member_leave(m, acd, a);
	else
		err = acd_tick(acd, now);
	/* Refusals are part of the game: logging out busy, ready when out. */
	return err == -EBUSY || err == -EINVAL ? 0 : err;
}

TEST(test_acd_random_invariants)
{
	uint64_t events = test_oom_mode() ? 300 : 200000, now = 0;
	struct acd_conf conf = {.seed = 1234, .h = on_decision};
	struct model *m = mem_zalloc(sizeof(*m));
	struct acd *acd = NULL;
	int err = 0;

	TEST_ASSERT(m != NULL);
	m->rnd = 0x9e3779b97f4a7c15ULL;
	m->nt = events + 2;
	m->t = mem_zalloc(m->nt * sizeof(*m->t));
	m->live = mem_alloc(LIVE_MAX * sizeof(*m->live) + 8);
	TEST_ASSERT(m->t && m->live);
	conf.arg = m;
	TEST_ERR(acd_alloc(&acd, &conf));
	TEST_ERR(setup(m, acd));
	for (uint64_t i = 0; i < events; i++) {
		if (i % 5000 == 0)
			m->quiet = !m->quiet;
		/* A third of the events share the previous one's millisecond. */
		if (rnd_n(m, 3))
			now += rnd_n(m, 100) < 90 ? rnd_n(m, 2000) : rnd_n(m, 30000);
		TEST_ERR(step(m, acd, now));
		check(m, acd, now);
		TEST_EQUALS(0, m->bad);
	}
	TEST_EQUALS(m->entered_ok, m->ended + acd_task_count(acd));
	TEST_EQUALS(m->nlive, acd_task_count(acd));
	TEST_ASSERT(test_oom_mode() || m->ended > events / 10);
out:
	acd_free(acd);
	if (m) {
		mem_free(m->t);
		mem_free(m->live);
	}
	mem_free(m);
	return err;
}

/*
 * Unit tests for acd: each strategy picks the agent docs/ACD.md says, each
 * agent state change, offers rejected or unanswered (the task keeps its
 * place), wrap-up, the exits (max wait, max length, empty), abandons while
 * waiting and ringing, and the order across queues for an agent in several.
 * The engine's clock is whatever the test passes, so every case is exact.
 */
#include <string.h>

#include "acd/acd.h"
#include "test.h"
#include "test_acd.h"

#define S 1000 /* ms */

void rec_h(const struct acd_decision *d, void *arg)
{
	struct rec *r = arg;

	if (r->n < REC_MAX)
		r->d[r->n++] = *d;
	else
		r->lost++;
}

void rec_clear(struct rec *r)
{
	r->n = 0;
	r->lost = 0;
}

unsigned rec_count(const struct rec *r, enum acd_dec_type type, uint64_t task, uint32_t agent)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->n; i++) {
		if (r->d[i].type == type && (!task || r->d[i].task == task) &&
		    (!agent || r->d[i].agent == agent))
			n++;
	}
	return n;
}

const struct acd_decision *rec_nth(const struct rec *r, enum acd_dec_type type, unsigned nth)
{
	for (unsigned i = 0; i < r->n; i++) {
		if (r->d[i].type == type && nth-- == 0)
			return &r->d[i];
	}
	return NULL;
}

int acd_setup(struct acd **acdp, struct rec *r, const struct acd_queue_conf *qc, unsigned n)
{
	struct acd_conf conf = {.now = 0, .seed = 42, .h = rec_h, .arg = r};
	struct acd *acd = NULL;
	int err = 0;

	memset(r, 0, sizeof(*r));
	err = acd_alloc(&acd, &conf);
	if (err)
		return err;
	err = acd_queue_add(acd, qc);
	for (unsigned i = 1; !err && i <= n; i++) {
		struct acd_agent_conf ac = {.id = i};

		ac.levels[0] = 5;
		err = acd_agent_add(acd, &ac);
		if (!err)
			err = acd_member_add(acd, qc->id, i, 0);
		if (!err)
			err = acd_agent_login(acd, 0, i);
	}
	if (err) {
		acd_free(acd);
		return err;
	}
	rec_clear(r);
	*acdp = acd;
	return 0;
}

static int enqueue(struct acd *acd, uint64_t now, uint64_t id, uint32_t queue, int32_t prio)
{
	struct acd_task_conf tc = {.id = id, .queue = queue, .priority = prio};

	return acd_task_enqueue(acd, now, &tc);
}

/* The agent the last OFFER went to (0 if none since the last clear). */
static uint32_t last_offer(const struct rec *r)
{
	for (unsigned i = r->n; i > 0; i--) {
		if (r->d[i - 1].type == ACD_DEC_OFFER)
			return r->d[i - 1].agent;
	}
	return 0;
}

/* Enqueue, expect an offer, answer it, end it: returns the agent or 0. */
static uint32_t serve(struct acd *acd, struct rec *r, uint64_t *now, uint64_t id, uint64_t talk)
{
	uint32_t a;

	rec_clear(r);
	if (enqueue(acd, *now, id, 1, 0))
		return 0;
	a = last_offer(r);
	if (!a || acd_offer_answer(acd, *now, id, a))
		return 0;
	*now += talk;
	if (acd_task_end(acd, *now, id))
		return 0;
	*now += S;
	return a;
}

static enum acd_agent_state state_of(struct acd *acd, uint32_t agent)
{
	enum acd_agent_state st = ACD_AGENT_LOGGED_OUT;

	acd_agent_state(acd, agent, &st, NULL);
	return st;
}

TEST(test_acd_longest_idle)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_LONGEST_IDLE};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 3));
	/* All idle since 0: ties go to the lower id. */
	TEST_ERR(enqueue(acd, 1 * S, 1, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	TEST_ERR(acd_offer_answer(acd, 1 * S, 1, 1));
	TEST_ERR(enqueue(acd, 2 * S, 2, 1, 0));
	TEST_EQUALS(2, last_offer(&r));
	TEST_ERR(acd_offer_answer(acd, 2 * S, 2, 2));
	TEST_ERR(acd_task_end(acd, 5 * S, 1)); /* agent 1 idle since 5 s */
	TEST_ERR(acd_task_end(acd, 6 * S, 2)); /* agent 2 idle since 6 s */
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 7 * S, 3, 1, 0));
	TEST_EQUALS(3, last_offer(&r)); /* idle since 0 */
	TEST_ERR(enqueue(acd, 7 * S, 4, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	TEST_ERR(enqueue(acd, 7 * S, 5, 1, 0));
	TEST_EQUALS(2, last_offer(&r));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_rrmemory)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_RR_MEMORY};
	struct acd *acd = NULL;
	uint64_t now = S;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 3));
	/* Everyone is free each time, yet the turn goes round and wraps. */
	TEST_EQUALS(1, serve(acd, &r, &now, 1, S));
	TEST_EQUALS(2, serve(acd, &r, &now, 2, S));
	TEST_EQUALS(3, serve(acd, &r, &now, 3, S));
	TEST_EQUALS(1, serve(acd, &r, &now, 4, S));
	/* Agent 2 away: 3 is next after 1, then the turn wraps to 1. */
	TEST_ERR(acd_agent_not_ready(acd, now, 2, 7));
	TEST_EQUALS(3, serve(acd, &r, &now, 5, S));
	TEST_EQUALS(1, serve(acd, &r, &now, 6, S));
	TEST_ERR(acd_agent_ready(acd, now, 2));
	TEST_EQUALS(2, serve(acd, &r, &now, 7, S));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_fewest_calls)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_FEWEST_CALLS};
	struct acd *acd = NULL;
	uint64_t now = S;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 3));
	TEST_EQUALS(1, serve(acd, &r, &now, 1, S));
	TEST_EQUALS(2, serve(acd, &r, &now, 2, S));
	TEST_EQUALS(3, serve(acd, &r, &now, 3, S));
	/* One call each: the longest idle among them (agent 1). */
	TEST_ERR(acd_agent_not_ready(acd, now, 2, 7));
	TEST_EQUALS(1, serve(acd, &r, &now, 4, S));
	TEST_ERR(acd_agent_ready(acd, now, 2));
	/* 2 and 3 have one call, 1 has two: 3 (idle longer than 2, who just
	 * came back), then 2. */
	TEST_EQUALS(3, serve(acd, &r, &now, 5, S));
	TEST_EQUALS(2, serve(acd, &r, &now, 6, S));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_least_talk)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_LEAST_TALK};
	struct acd *acd = NULL;
	uint64_t now = S;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 3));
	TEST_EQUALS(1, serve(acd, &r, &now, 1, 10 * S));
	TEST_EQUALS(2, serve(acd, &r, &now, 2, 5 * S));
	TEST_EQUALS(3, serve(acd, &r, &now, 3, 20 * S));
	TEST_EQUALS(2, serve(acd, &r, &now, 4, 10 * S)); /* 5 s, least */
	TEST_EQUALS(1, serve(acd, &r, &now, 5, S));	 /* 10 s vs 15 s and 20 s */
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_ring_all)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_RING_ALL};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 3));
	TEST_ERR(enqueue(acd, S, 1, 1, 0));
	TEST_EQUALS(3, rec_count(&r, ACD_DEC_OFFER, 1, 0));
	TEST_EQUALS(ACD_AGENT_RESERVED, state_of(acd, 1));
	TEST_EQUALS(ACD_AGENT_RESERVED, state_of(acd, 3));
	rec_clear(&r);
	TEST_ERR(acd_offer_answer(acd, 2 * S, 1, 2));
	TEST_EQUALS(2, rec_count(&r, ACD_DEC_CANCEL, 1, 0));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_CANCEL, 1, 1));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_CANCEL, 1, 3));
	TEST_EQUALS(1, rec_count(&r, ACD_EV_CONNECT, 1, 2));
	TEST_EQUALS(ACD_AGENT_AVAILABLE, state_of(acd, 1));
	TEST_EQUALS(ACD_AGENT_ON_TASK, state_of(acd, 2));
	/* The next one rings the two still free; one rejects, the other
	 * keeps ringing; then the ring times out for it too. */
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 3 * S, 2, 1, 0));
	TEST_EQUALS(2, rec_count(&r, ACD_DEC_OFFER, 2, 0));
	TEST_ERR(acd_offer_reject(acd, 4 * S, 2, 1));
	TEST_EQUALS(ACD_AGENT_NOT_READY, state_of(acd, 1));
	TEST_EQUALS(ACD_AGENT_RESERVED, state_of(acd, 3));
	rec_clear(&r);
	TEST_ERR(acd_tick(acd, 3 * S + 15 * S));
	TEST_EQUALS(1, rec_count(&r, ACD_EV_RINGNOANSWER, 2, 3));
	/* Ring all does not blame anyone for a time-out: rung again at once. */
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 2, 3));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_linear_ring_progressively)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_LINEAR, .ring_timeout_s = 10};
	uint32_t reason = 0;
	enum acd_agent_state st;
	struct acd *acd = NULL;
	uint64_t now = S;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 3));
	/* Always the first free one in order, not a rotation. */
	TEST_EQUALS(1, serve(acd, &r, &now, 1, S));
	TEST_EQUALS(1, serve(acd, &r, &now, 2, S));
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 100 * S, 3, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	TEST_ERR(acd_offer_reject(acd, 101 * S, 3, 1));
	TEST_EQUALS(2, last_offer(&r));
	TEST_ERR(acd_agent_state(acd, 1, &st, &reason));
	TEST_EQUALS(ACD_AGENT_NOT_READY, st);
	TEST_EQUALS(ACD_NR_MISSED, reason);
	/* Agent 2 lets it ring out: then agent 3. */
	rec_clear(&r);
	TEST_ERR(acd_tick(acd, 111 * S - 1));
	TEST_EQUALS(0, rec_count(&r, ACD_EV_RINGNOANSWER, 0, 0));
	TEST_ERR(acd_tick(acd, 111 * S));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_CANCEL, 3, 2));
	TEST_EQUALS(1, rec_count(&r, ACD_EV_RINGNOANSWER, 3, 2));
	TEST_EQUALS(3, last_offer(&r));
	TEST_EQUALS(ACD_AGENT_NOT_READY, state_of(acd, 2));
out:
	acd_free(acd);
	return err;
}

static int random_run(uint64_t seed, uint32_t *picks, unsigned n)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_RANDOM};
	struct acd_conf conf = {.seed = seed};
	struct acd *acd = NULL;
	uint64_t now = S;
	struct rec r;
	int err = 0;

	memset(&r, 0, sizeof(r));
	conf.h = rec_h;
	conf.arg = &r;
	err = acd_alloc(&acd, &conf);
	if (!err)
		err = acd_queue_add(acd, &qc);
	for (uint32_t i = 1; !err && i <= 8; i++) {
		struct acd_agent_conf ac = {.id = i};

		err = acd_agent_add(acd, &ac);
		if (!err)
			err = acd_member_add(acd, 1, i, 0);
		if (!err)
			err = acd_agent_login(acd, 0, i);
	}
	for (unsigned i = 0; !err && i < n; i++) {
		picks[i] = serve(acd, &r, &now, i + 1, S);
		if (!picks[i])
			err = -ENOMEM; /* only an injected failure stops a serve */
	}
	acd_free(acd);
	return err;
}

TEST(test_acd_random)
{
	uint32_t a[40], b[40], c[40];
	unsigned seen = 0, differ = 0;
	int err = 0;

	TEST_ERR(random_run(7, a, 40));
	TEST_ERR(random_run(7, b, 40));
	TEST_ERR(random_run(8, c, 40));
	for (unsigned i = 0; i < 40; i++) {
		TEST_EQUALS(a[i], b[i]); /* same seed, same picks */
		TEST_ASSERT(a[i] >= 1 && a[i] <= 8);
		seen |= 1u << a[i];
		differ += a[i] != c[i];
	}
	TEST_ASSERT(__builtin_popcount(seen) >= 5);
	TEST_ASSERT(differ > 0);
out:
	return err;
}

TEST(test_acd_best_skill)
{
	struct acd_queue_conf qc = {.id = 1, .strategy = ACD_STRAT_BEST_SKILL, .nskills = 1};
	static const uint8_t lv[4] = {0, 3, 9, 5};
	struct acd_conf conf = {0};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	memset(&r, 0, sizeof(r));
	conf.h = rec_h;
	conf.arg = &r;
	qc.skills[0] = (struct acd_skill_req){.skill = 4, .min_level = 2};
	TEST_ERR(acd_alloc(&acd, &conf));
	TEST_ERR(acd_queue_add(acd, &qc));
	for (uint32_t i = 1; i <= 4; i++) {
		struct acd_agent_conf ac = {.id = i};

		ac.levels[4] = i == 4 ? 1 : lv[i]; /* agent 4: below the minimum */
		TEST_ERR(acd_agent_add(acd, &ac));
		TEST_ERR(acd_member_add(acd, 1, i, 0));
		TEST_ERR(acd_agent_login(acd, 0, i));
	}
	TEST_ERR(enqueue(acd, S, 1, 1, 0));
	TEST_EQUALS(2, last_offer(&r));
	TEST_ERR(enqueue(acd, S, 2, 1, 0));
	TEST_EQUALS(3, last_offer(&r));
	TEST_ERR(enqueue(acd, S, 3, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	rec_clear(&r);
	TEST_ERR(enqueue(acd, S, 4, 1, 0));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0)); /* agent 4 never */
out:
	acd_free(acd);
	return err;
}

/* Levels above 10 rank too, and a sum over 8 skills at level 100 still does. */
TEST(test_acd_best_skill_levels)
{
	struct acd_queue_conf qc = {
	    .id = 1, .strategy = ACD_STRAT_BEST_SKILL, .nskills = ACD_QUEUE_SKILLS};
	static const uint8_t lv[4] = {0, 99, ACD_LEVEL_MAX, 11};
	struct acd_conf conf = {0};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	memset(&r, 0, sizeof(r));
	conf.h = rec_h;
	conf.arg = &r;
	for (unsigned k = 0; k < ACD_QUEUE_SKILLS; k++)
		qc.skills[k] = (struct acd_skill_req){.skill = (uint8_t)k, .min_level = 1};
	TEST_ERR(acd_alloc(&acd, &conf));
	TEST_ERR(acd_queue_add(acd, &qc));
	for (uint32_t i = 1; i <= 3; i++) {
		struct acd_agent_conf ac = {.id = i};

		memset(ac.levels, lv[i], ACD_QUEUE_SKILLS);
		TEST_ERR(acd_agent_add(acd, &ac));
		TEST_ERR(acd_member_add(acd, 1, i, 0));
		TEST_ERR(acd_agent_login(acd, 0, i));
	}
	TEST_ERR(enqueue(acd, S, 1, 1, 0));
	TEST_EQUALS(2, last_offer(&r));
	TEST_ERR(enqueue(acd, S, 2, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	TEST_ERR(enqueue(acd, S, 3, 1, 0));
	TEST_EQUALS(3, last_offer(&r));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_bullseye)
{
	struct acd_queue_conf qc = {
	    .id = 1, .strategy = ACD_STRAT_BULLSEYE, .tier_wait_s = 10, .ring_timeout_s = 1000};
	struct acd_conf conf = {0};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	memset(&r, 0, sizeof(r));
	conf.h = rec_h;
	conf.arg = &r;
	TEST_ERR(acd_alloc(&acd, &conf));
	TEST_ERR(acd_queue_add(acd, &qc));
	for (uint32_t i = 1; i <= 3; i++) {
		struct acd_agent_conf ac = {.id = i};

		TEST_ERR(acd_agent_add(acd, &ac));
		TEST_ERR(acd_member_add(acd, 1, i, i - 1)); /* tiers 0, 1, 2 */
		TEST_ERR(acd_agent_login(acd, 0, i));
	}
	TEST_ERR(acd_agent_not_ready(acd, 0, 1, 9));
	rec_clear(&r);
	/* Tier 0 is busy: tier 1 joins after 10 s, not before. */
	TEST_ERR(enqueue(acd, 100 * S, 1, 1, 0));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(acd_tick(acd, 110 * S - 1));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(acd_tick(acd, 110 * S));
	TEST_EQUALS(2, last_offer(&r));
	/* The inner tier first when it is free, even if the task waited. */
	TEST_ERR(acd_agent_ready(acd, 111 * S, 1));
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 200 * S, 2, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	/* With 1 and 2 ringing, tier 2 joins only after 20 s. */
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 300 * S, 3, 1, 0));
	TEST_ERR(acd_tick(acd, 310 * S));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(acd_tick(acd, 320 * S));
	TEST_EQUALS(3, last_offer(&r));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_task_skills)
{
	struct acd_queue_conf qc = {.id = 1};
	struct acd_task_conf tc = {.id = 1, .queue = 1, .nskills = 1};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	tc.skills[0] = (struct acd_skill_req){.skill = 0, .min_level = 6};
	TEST_ERR(acd_setup(&acd, &r, &qc, 2)); /* both level 5 */
	{
		struct acd_agent_conf ac = {.id = 3};

		ac.levels[0] = 8;
		TEST_ERR(acd_agent_add(acd, &ac));
		TEST_ERR(acd_member_add(acd, 1, 3, 0));
		TEST_ERR(acd_agent_login(acd, 5 * S, 3)); /* idle the shortest */
	}
	rec_clear(&r);
	TEST_ERR(acd_task_enqueue(acd, 10 * S, &tc));
	TEST_EQUALS(3, last_offer(&r));
	/* A skilled task nobody can take does not hold up plain ones. */
	tc.id = 2;
	rec_clear(&r);
	TEST_ERR(acd_task_enqueue(acd, 11 * S, &tc));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(enqueue(acd, 12 * S, 3, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
out:
	acd_free(acd);
	return err;
}

/* An agent with more skills than the engine keeps inline is matched on
 * every one of them, the queue's and the task's, the highest skill ids
 * included; the levels are those configured, whatever their number. */
TEST(test_acd_many_skills)
{
	struct acd_queue_conf qc = {.id = 1, .nskills = 1};
	struct acd_task_conf tc = {.id = 1, .queue = 1, .nskills = 2};
	struct acd_conf conf = {0};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	memset(&r, 0, sizeof(r));
	conf.h = rec_h;
	conf.arg = &r;
	qc.skills[0] = (struct acd_skill_req){.skill = 63, .min_level = 50};
	tc.skills[0] = (struct acd_skill_req){.skill = 40, .min_level = 30};
	tc.skills[1] = (struct acd_skill_req){.skill = 1, .min_level = 2};
	TEST_ERR(acd_alloc(&acd, &conf));
	TEST_ERR(acd_queue_add(acd, &qc));
	for (uint32_t i = 1; i <= 3; i++) {
		struct acd_agent_conf ac = {.id = i};

		/* Agent 1: every skill, skill 40 too low; agent 2: 23 skills,
		 * skill 63 too low; agent 3: 15 skills, all high enough. */
		for (unsigned k = 0; k < ACD_SKILLS_MAX; k++) {
			if (i == 1 || (i == 2 && k % 3 == 0) || (i == 3 && k % 5 == 0))
				ac.levels[k] = (uint8_t)(ACD_LEVEL_MAX - k);
		}
		ac.levels[1] = 2;
		ac.levels[40] = i == 1 ? 29 : 31;
		ac.levels[63] = i == 2 ? 49 : 60;
		TEST_ERR(acd_agent_add(acd, &ac));
		TEST_ERR(acd_member_add(acd, 1, i, 0));
		TEST_ERR(acd_agent_login(acd, i * S, i));
	}
	rec_clear(&r);
	TEST_ERR(acd_task_enqueue(acd, 10 * S, &tc));
	TEST_EQUALS(3, last_offer(&r));
	/* Without the task's skills agent 1 (idle longest) has the queue's;
	 * agent 2 lacks them and is never offered. */
	TEST_ERR(enqueue(acd, 11 * S, 2, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 12 * S, 3, 1, 0));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(acd_agent_logout(acd, 13 * S, 2));
	TEST_ERR(acd_agent_remove(acd, 2));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_rna_keeps_place)
{
	struct acd_queue_conf qc = {.id = 1, .announce_s = 30};
	const struct acd_decision *d;
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 2));
	TEST_ERR(acd_agent_not_ready(acd, 0, 2, 9));
	TEST_ERR(enqueue(acd, 0, 1, 1, 0)); /* A: to agent 1 */
	TEST_ERR(enqueue(acd, 1, 2, 1, 0)); /* B: waits */
	TEST_ERR(enqueue(acd, 2, 3, 1, 0)); /* C: waits */
	TEST_EQUALS(1, last_offer(&r));
	TEST_ERR(acd_offer_reject(acd, 5 * S, 1, 1));
	/* A is back ahead of B: the next free agent gets A, not B. */
	rec_clear(&r);
	TEST_ERR(acd_agent_ready(acd, 6 * S, 2));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 1, 2));
	/* Agent 2 does not answer: A back in place again; announcements at
	 * 30 s say B is 2nd and C 3rd. */
	rec_clear(&r);
	TEST_ERR(acd_tick(acd, 21 * S));
	TEST_EQUALS(1, rec_count(&r, ACD_EV_RINGNOANSWER, 1, 2));
	rec_clear(&r);
	TEST_ERR(acd_tick(acd, 30 * S + 2));
	TEST_EQUALS(3, rec_count(&r, ACD_DEC_ANNOUNCE, 0, 0));
	d = rec_nth(&r, ACD_DEC_ANNOUNCE, 0);
	TEST_ASSERT(d && d->task == 1);
	TEST_EQUALS(1, d->u.announce.position);
	d = rec_nth(&r, ACD_DEC_ANNOUNCE, 1);
	TEST_ASSERT(d && d->task == 2);
	TEST_EQUALS(2, d->u.announce.position);
	d = rec_nth(&r, ACD_DEC_ANNOUNCE, 2);
	TEST_ASSERT(d && d->task == 3);
	TEST_EQUALS(3, d->u.announce.position);
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_states_and_wrapup)
{
	struct acd_queue_conf qc = {.id = 1, .wrapup_s = 5};
	enum acd_agent_state st;
	uint32_t reason = 0;
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 1));
	TEST_EQUALS(ACD_AGENT_AVAILABLE, state_of(acd, 1));
	TEST_ERR(acd_agent_not_ready(acd, S, 1, 42));
	TEST_ERR(acd_agent_state(acd, 1, &st, &reason));
	TEST_EQUALS(ACD_AGENT_NOT_READY, st);
	TEST_EQUALS(42, reason);
	TEST_ERR(enqueue(acd, 2 * S, 1, 1, 0));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(acd_agent_ready(acd, 3 * S, 1));
	TEST_EQUALS(1, last_offer(&r));
	TEST_EQUALS(ACD_AGENT_RESERVED, state_of(acd, 1));
	TEST_EQUALS(-EBUSY, acd_agent_logout(acd, 3 * S, 1));
	TEST_ERR(acd_offer_answer(acd, 4 * S, 1, 1));
	TEST_EQUALS(ACD_AGENT_ON_TASK, state_of(acd, 1));
	TEST_EQUALS(-EBUSY, acd_agent_logout(acd, 4 * S, 1));
	TEST_EQUALS(-EINVAL, acd_task_abandon(acd, 4 * S, 1));
	TEST_ERR(acd_task_end(acd, 10 * S, 1));
	TEST_EQUALS(ACD_AGENT_WRAP_UP, state_of(acd, 1));
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 12 * S, 2, 1, 0));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(acd_tick(acd, 15 * S - 1));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 0, 0));
	TEST_ERR(acd_tick(acd, 15 * S));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 2, 1));
	TEST_ERR(acd_offer_answer(acd, 16 * S, 2, 1));
	/* Not ready during a task: after it and its wrap-up. */
	TEST_ERR(acd_agent_not_ready(acd, 17 * S, 1, 3));
	TEST_EQUALS(ACD_AGENT_ON_TASK, state_of(acd, 1));
	TEST_ERR(acd_task_end(acd, 20 * S, 2));
	TEST_EQUALS(ACD_AGENT_WRAP_UP, state_of(acd, 1));
	TEST_ERR(acd_tick(acd, 25 * S));
	TEST_EQUALS(ACD_AGENT_NOT_READY, state_of(acd, 1));
	TEST_ERR(acd_agent_logout(acd, 26 * S, 1));
	TEST_EQUALS(ACD_AGENT_LOGGED_OUT, state_of(acd, 1));
	TEST_EQUALS(-EINVAL, acd_agent_ready(acd, 26 * S, 1));
	TEST_ERR(acd_agent_login(acd, 27 * S, 1));
	TEST_EQUALS(ACD_AGENT_AVAILABLE, state_of(acd, 1));
	TEST_ASSERT(rec_count(&r, ACD_EV_AGENT_STATE, 0, 1) > 0);
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_exits)
{
	struct acd_queue_conf qc = {.id = 1, .max_wait_s = 30, .max_len = 2};
	struct acd_queue_conf q2 = {.id = 2, .join_empty = true};
	struct acd_queue_conf q3 = {.id = 3};
	const struct acd_decision *d;
	struct acd_queue_stats st;
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	qc.exit = (struct acd_exit){ACD_EXIT_QUEUE, 2};
	q3.exit = (struct acd_exit){ACD_EXIT_USER, 77};
	TEST_ERR(acd_setup(&acd, &r, &qc, 1));
	TEST_ERR(acd_queue_add(acd, &q2));
	TEST_ERR(acd_queue_add(acd, &q3));
	TEST_ERR(acd_agent_not_ready(acd, 0, 1, 9));
	/* Max length: the third is refused and overflows to queue 2. */
	TEST_ERR(enqueue(acd, 0, 1, 1, 0));
	TEST_ERR(enqueue(acd, S, 2, 1, 0));
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 2 * S, 3, 1, 0));
	d = rec_nth(&r, ACD_DEC_EXIT, 0);
	TEST_ASSERT(d && d->task == 3 && d->queue == 1);
	TEST_EQUALS(ACD_EXITR_FULL, d->u.exit.reason);
	TEST_EQUALS(ACD_EXIT_QUEUE, d->u.exit.to.kind);
	d = rec_nth(&r, ACD_EV_ENTER, 0);
	TEST_ASSERT(d && d->task == 3 && d->queue == 2);
	/* Max wait: task 1 leaves at 30 s, task 2 at 31 s. */
	rec_clear(&r);
	TEST_ERR(acd_tick(acd, 30 * S));
	d = rec_nth(&r, ACD_DEC_EXIT, 0);
	TEST_ASSERT(d && d->task == 1);
	TEST_EQUALS(ACD_EXITR_TIMEOUT, d->u.exit.reason);
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_EXIT, 0, 0));
	TEST_ERR(acd_tick(acd, 31 * S));
	TEST_EQUALS(2, rec_count(&r, ACD_DEC_EXIT, 0, 0));
	TEST_ERR(acd_queue_stats(acd, 2, &st));
	TEST_EQUALS(3, st.waiting);
	TEST_ERR(acd_queue_stats(acd, 1, &st));
	TEST_EQUALS(0, st.waiting);
	TEST_EQUALS(3, st.exited);
	/* Empty: queue 3 has no members; out to the user. */
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 40 * S, 4, 3, 0));
	d = rec_nth(&r, ACD_DEC_EXIT, 0);
	TEST_ASSERT(d && d->task == 4);
	TEST_EQUALS(ACD_EXITR_EMPTY, d->u.exit.reason);
	TEST_EQUALS(ACD_EXIT_USER, d->u.exit.to.kind);
	TEST_EQUALS(77, d->u.exit.to.id);
	TEST_EQUALS(0, rec_count(&r, ACD_EV_ENTER, 0, 0));
	TEST_EQUALS(-ENOENT, acd_task_abandon(acd, 40 * S, 4));
	/* An overflow loop ends in a hang-up. */
	TEST_ERR(acd_queue_remove(acd, 3));
	q3.exit = (struct acd_exit){ACD_EXIT_QUEUE, 3};
	TEST_ERR(acd_queue_add(acd, &q3));
	rec_clear(&r);
	TEST_ERR(enqueue(acd, 41 * S, 5, 3, 0));
	TEST_EQUALS(9, rec_count(&r, ACD_DEC_EXIT, 5, 0));
	d = rec_nth(&r, ACD_DEC_EXIT, 8);
	TEST_EQUALS(ACD_EXITR_LOOP, d->u.exit.reason);
	TEST_EQUALS(ACD_EXIT_HANGUP, d->u.exit.to.kind);
	TEST_EQUALS(3, acd_task_count(acd));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_abandon)
{
	struct acd_queue_conf qc = {.id = 1};
	struct acd_queue_stats st;
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 1));
	TEST_ERR(enqueue(acd, 0, 1, 1, 0));
	TEST_ERR(enqueue(acd, 1, 2, 1, 0));
	TEST_ERR(enqueue(acd, 2, 3, 1, 0));
	TEST_EQUALS(1, last_offer(&r));
	/* Waiting: gone, nobody told but the log. */
	rec_clear(&r);
	TEST_ERR(acd_task_abandon(acd, S, 2));
	TEST_EQUALS(1, rec_count(&r, ACD_EV_ABANDON, 2, 0));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_CANCEL, 0, 0));
	/* Ringing: the ring stops and the agent takes the next one. */
	rec_clear(&r);
	TEST_ERR(acd_task_abandon(acd, 2 * S, 1));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_CANCEL, 1, 1));
	TEST_EQUALS(1, rec_count(&r, ACD_EV_ABANDON, 1, 0));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 3, 1));
	TEST_EQUALS(-ENOENT, acd_offer_answer(acd, 2 * S, 1, 1));
	TEST_ERR(acd_queue_stats(acd, 1, &st));
	TEST_EQUALS(2, st.abandoned);
	TEST_EQUALS(1, st.ringing);
	TEST_EQUALS(1, acd_task_count(acd));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_multi_queue)
{
	struct acd_queue_conf q1 = {.id = 1}, q2 = {.id = 2, .priority = 5}, q3 = {.id = 3};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &q1, 1));
	TEST_ERR(acd_queue_add(acd, &q2));
	TEST_ERR(acd_queue_add(acd, &q3));
	TEST_ERR(acd_member_add(acd, 2, 1, 0));
	TEST_ERR(acd_member_add(acd, 3, 1, 0));
	TEST_ERR(acd_agent_not_ready(acd, 0, 1, 9));
	TEST_ERR(enqueue(acd, 1 * S, 1, 1, 9)); /* oldest, high task priority */
	TEST_ERR(enqueue(acd, 2 * S, 2, 2, 0)); /* the queue with priority 5 */
	TEST_ERR(enqueue(acd, 3 * S, 3, 3, 1)); /* same queue priority as 1 */
	TEST_ERR(enqueue(acd, 4 * S, 4, 1, 1));
	rec_clear(&r);
	TEST_ERR(acd_agent_ready(acd, 5 * S, 1));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 2, 1)); /* queue priority */
	TEST_ERR(acd_offer_answer(acd, 5 * S, 2, 1));
	rec_clear(&r);
	TEST_ERR(acd_task_end(acd, 6 * S, 2));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 1, 1)); /* task priority 9 */
	TEST_ERR(acd_offer_answer(acd, 6 * S, 1, 1));
	rec_clear(&r);
	TEST_ERR(acd_task_end(acd, 7 * S, 1));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 3, 1)); /* prio 1: waited longer than 4 */
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_chat_capacity)
{
	struct acd_queue_conf qc = {.id = 1, .channel = ACD_CHAN_CHAT};
	struct acd_queue_conf qv = {.id = 2};
	struct acd_task_conf tc = {.queue = 1, .channel = ACD_CHAN_CHAT};
	struct acd_agent_conf ac = {.id = 1};
	struct acd_conf conf = {0};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	memset(&r, 0, sizeof(r));
	conf.h = rec_h;
	conf.arg = &r;
	ac.capacity[ACD_CHAN_VOICE] = 1;
	ac.capacity[ACD_CHAN_CHAT] = 2;
	TEST_ERR(acd_alloc(&acd, &conf));
	TEST_ERR(acd_queue_add(acd, &qc));
	TEST_ERR(acd_queue_add(acd, &qv));
	TEST_ERR(acd_agent_add(acd, &ac));
	TEST_ERR(acd_member_add(acd, 1, 1, 0));
	TEST_ERR(acd_member_add(acd, 2, 1, 0));
	TEST_ERR(acd_agent_login(acd, 0, 1));
	for (uint64_t id = 1; id <= 3; id++) {
		tc.id = id;
		TEST_ERR(acd_task_enqueue(acd, S, &tc));
		if (id < 3) {
			TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, id, 1));
			TEST_ERR(acd_offer_answer(acd, S, id, 1));
		}
	}
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 3, 0)); /* two chats: full */
	tc.channel = ACD_CHAN_VOICE;
	tc.id = 9;
	TEST_EQUALS(-EINVAL, acd_task_enqueue(acd, S, &tc)); /* channel mismatch */
	TEST_ERR(enqueue(acd, S, 4, 2, 0));
	TEST_EQUALS(0, rec_count(&r, ACD_DEC_OFFER, 4, 0)); /* no voice while chatting */
	TEST_ERR(acd_task_end(acd, 2 * S, 1));
	TEST_EQUALS(1, rec_count(&r, ACD_DEC_OFFER, 3, 1));
out:
	acd_free(acd);
	return err;
}

TEST(test_acd_config_errors)
{
	struct acd_queue_conf qc = {.id = 1};
	struct acd_agent_conf ac = {.id = 5};
	struct acd *acd = NULL;
	struct rec r;
	int err = 0;

	TEST_ERR(acd_setup(&acd, &r, &qc, 1));
	TEST_EQUALS(-EEXIST, acd_queue_add(acd, &qc));
	TEST_EQUALS(-EEXIST, acd_member_add(acd, 1, 1, 0));
	TEST_EQUALS(-ENOENT, acd_member_add(acd, 9, 1, 0));
	TEST_EQUALS(-ENOENT, enqueue(acd, 0, 1, 9, 0));
	TEST_EQUALS(-EINVAL, enqueue(acd, 0, 0, 1, 0));
	ac.levels[3] = ACD_LEVEL_MAX + 1;
	TEST_EQUALS(-EINVAL, acd_agent_add(acd, &ac));
	ac.levels[3] = ACD_LEVEL_MAX;
	TEST_ERR(acd_agent_add(acd, &ac));
	qc.id = 3;
	qc.nskills = 1;
	qc.skills[0] = (struct acd_skill_req){.skill = 3, .min_level = ACD_LEVEL_MAX + 1};
	TEST_EQUALS(-EINVAL, acd_queue_add(acd, &qc));
	qc.skills[0].min_level = ACD_LEVEL_MAX;
	TEST_ERR(acd_queue_add(acd, &qc));
	TEST_ERR(acd_queue_remove(acd, 3));
	TEST_ERR(acd_agent_remove(acd, 5));
	qc.id = 2;
	qc.nskills = 1;
	qc.skills[0] = (struct acd_skill_req){.skill = 70, .min_level = 1};
	TEST_EQUALS(-EINVAL, acd_queue_add(acd, &qc));
	TEST_ERR(enqueue(acd, 0, 1, 1, 0));
	TEST_EQUALS(-EEXIST, enqueue(acd, 0, 1, 1, 0));
	TEST_EQUALS(-EBUSY, acd_queue_remove(acd, 1));
	TEST_EQUALS(-EBUSY, acd_member_remove(acd, 1, 1));
	TEST_EQUALS(-EBUSY, acd_agent_remove(acd, 1));
	TEST_EQUALS(-ENOENT, acd_offer_answer(acd, 0, 1, 2));
	TEST_ERR(acd_task_abandon(acd, 0, 1));
	TEST_ERR(acd_member_remove(acd, 1, 1));
	TEST_ERR(acd_agent_logout(acd, 0, 1));
	TEST_ERR(acd_agent_remove(acd, 1));
	TEST_ERR(acd_queue_remove(acd, 1));
	TEST_EQUALS(0, acd_task_count(acd));
out:
	acd_free(acd);
	return err;
}

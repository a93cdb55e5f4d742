/*
 * bench_acd: routing decisions per second of the ACD engine on one core,
 * with the latency of each engine call that made a decision, at 1,000,
 * 10,000 and 50,000 agents over 2,000 queues and 50 skills.
 *
 * Each agent has 5 skills (levels 1-10) and joins 3 queues needing one of
 * them; queues cycle through every strategy but ring all (which rings every
 * free member by definition, so its cost is linear on purpose). The load is
 * a steady state: tasks arrive in random queues, every offer is answered at
 * once, and while more than half the agents are busy a random call ends.
 * A decision is an OFFER.
 *
 * Two phases of TASKS arrivals each. Throughput comes from the first: the
 * whole loop timed once, decisions over its wall time, so the arrivals, the
 * answers and the ends all count against it, and so does the benchmark's own
 * bookkeeping (a few ns a step). Reading the clock around every call would
 * cost about as much as a small engine call and used to be counted as engine
 * time. Latency (p50, p99, max) comes from the second phase, which times
 * each arrival and end that made a decision with clock_gettime.
 *
 * Memory: allocations counted by base/mem.h, bytes from mallinfo2().
 * Usage: bench_acd [TASKS] (default 1000000 per size). Run it pinned:
 * taskset -c 0 build/bench/bench_acd
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acd/acd.h"
#include "base/mem.h"

#define NQUEUES 2000
#define NSKILLS 50
#define OFFERS	64

struct ctx {
	uint64_t offer_task[OFFERS];
	uint32_t offer_agent[OFFERS];
	unsigned noffers;
	uint64_t decisions;
	uint64_t *conn; /* connected task ids */
	uint32_t nconn;
	uint64_t rnd;
};

static void on_decision(const struct acd_decision *d, void *arg)
{
	struct ctx *c = arg;

	if (d->type != ACD_DEC_OFFER)
		return;
	c->decisions++;
	if (c->noffers < OFFERS) {
		c->offer_task[c->noffers] = d->task;
		c->offer_agent[c->noffers++] = d->agent;
	}
}

static uint64_t rnd(struct ctx *c)
{
	c->rnd ^= c->rnd << 13;
	c->rnd ^= c->rnd >> 7;
	c->rnd ^= c->rnd << 17;
	return c->rnd;
}

static uint64_t ns_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One step of the steady state: a task arrives in a random queue, every
 * offer made is answered at once, and while more than half the agents are
 * busy a random connected task ends. With @lat, each engine call that made
 * a decision has its time appended to @lat; without, nothing is timed.
 */
static int step(struct acd *acd, struct ctx *c, uint32_t nagents, uint64_t *now, uint64_t *id,
		uint32_t *lat, uint64_t *nlat)
{
	struct acd_task_conf tc = {.id = ++*id, .queue = 1 + (uint32_t)(rnd(c) % NQUEUES)};
	uint64_t before = c->decisions, t0 = 0;
	int err;

	*now += 1;
	if (lat)
		t0 = ns_now();
	err = acd_task_enqueue(acd, *now, &tc);
	if (lat && c->decisions != before)
		lat[(*nlat)++] = (uint32_t)(ns_now() - t0);
	/* Answer what was offered (by this arrival or the last end). */
	for (unsigned k = 0; !err && k < c->noffers; k++) {
		err = acd_offer_answer(acd, *now, c->offer_task[k], c->offer_agent[k]);
		c->conn[c->nconn++] = c->offer_task[k];
	}
	c->noffers = 0;
	if (!err && c->nconn > nagents / 2) {
		uint32_t k = (uint32_t)(rnd(c) % c->nconn);
		uint64_t tid = c->conn[k];

		c->conn[k] = c->conn[--c->nconn];
		before = c->decisions;
		if (lat)
			t0 = ns_now();
		err = acd_task_end(acd, *now, tid);
		if (lat && c->decisions != before)
			lat[(*nlat)++] = (uint32_t)(ns_now() - t0);
	}
	return err;
}

struct result {
	double dps, p50, p99, max;
	uint64_t decisions, allocs, bytes;
};

static int run(uint32_t nagents, uint64_t ntasks, struct result *res)
{
	struct ctx c = {.rnd = 0x2545f4914f6cdd1dULL};
	struct acd_conf conf = {.seed = 1, .h = on_decision, .arg = &c};
	struct mem_stats m0, m1;
	struct mallinfo2 mi0, mi1;
	struct acd *acd = NULL;
	uint32_t *lat = malloc(ntasks * 2 * sizeof(*lat));
	uint64_t nlat = 0, busy_ns = 0, now = 1000, id = 0, decisions, t0;
	int err = 0;

	c.conn = malloc((nagents + 1) * sizeof(*c.conn));
	if (!lat || !c.conn)
		return -1;
	mem_stats_get(&m0);
	mi0 = mallinfo2();
	err = acd_alloc(&acd, &conf);
	for (uint32_t q = 1; !err && q <= NQUEUES; q++) {
		struct acd_queue_conf qc = {.id = q, .nskills = 1};
		enum acd_strategy s = (enum acd_strategy)(q % 9);

		qc.strategy = s == ACD_STRAT_RING_ALL ? ACD_STRAT_LONGEST_IDLE : s;
		qc.skills[0] = (struct acd_skill_req){(uint8_t)(q % NSKILLS), 1};
		qc.tier_wait_s = 30;
		err = acd_queue_add(acd, &qc);
	}
	for (uint32_t a = 1; !err && a <= nagents; a++) {
		struct acd_agent_conf ac = {.id = a};
		uint8_t sk[5];

		for (int k = 0; k < 5; k++) {
			sk[k] = (uint8_t)(rnd(&c) % NSKILLS);
			ac.levels[sk[k]] = (uint8_t)(1 + rnd(&c) % 10);
		}
		err = acd_agent_add(acd, &ac);
		for (int k = 0; !err && k < 3; k++) {
			/* A queue needing one of its skills: q % 50 == skill. */
			uint32_t q = sk[k] + NSKILLS * (uint32_t)(rnd(&c) % (NQUEUES / NSKILLS));

			if (q == 0)
				q = NSKILLS;
			err = acd_member_add(acd, q, a, (uint32_t)(rnd(&c) % 3));
			if (err == -EEXIST)
				err = 0;
		}
		if (!err)
			err = acd_agent_login(acd, now, a);
	}
	if (err)
		goto out;
	/* Throughput: ntasks steps with two clock reads around them all. */
	c.decisions = 0;
	c.noffers = 0;
	t0 = ns_now();
	for (uint64_t i = 0; !err && i < ntasks; i++)
		err = step(acd, &c, nagents, &now, &id, NULL, NULL);
	busy_ns = ns_now() - t0;
	decisions = c.decisions;
	/* Latency: as many steps again, from that steady state, each engine
	 * call timed on its own. */
	for (uint64_t i = 0; !err && i < ntasks; i++)
		err = step(acd, &c, nagents, &now, &id, lat, &nlat);
	if (err)
		goto out;
	mem_stats_get(&m1);
	mi1 = mallinfo2();
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	res->decisions = decisions;
	res->dps = busy_ns ? (double)decisions * 1e9 / (double)busy_ns : 0;
	res->p50 = nlat ? lat[nlat / 2] / 1000.0 : 0;
	res->p99 = nlat ? lat[nlat * 99 / 100] / 1000.0 : 0;
	res->max = nlat ? lat[nlat - 1] / 1000.0 : 0;
	res->allocs = (m1.allocs - m0.allocs) - (m1.frees - m0.frees);
	res->bytes = mi1.uordblks > mi0.uordblks ? mi1.uordblks - mi0.uordblks : 0;
out:
	acd_free(acd);
	free(lat);
	free(c.conn);
	return err;
}

int main(int argc, char **argv)
{
	static const uint32_t sizes[] = {1000, 10000, 50000};
	uint64_t ntasks = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	struct result r[3];

	printf("%8s %8s %12s %14s %9s %9s %9s %10s %12s\n", "agents", "queues", "decisions",
	       "decisions/s", "p50_us", "p99_us", "max_us", "live_alloc", "bytes");
	for (unsigned i = 0; i < 3; i++) {
		if (run(sizes[i], ntasks, &r[i])) {
			fprintf(stderr, "bench_acd: run with %u agents failed\n", sizes[i]);
			return 1;
		}
		printf("%8u %8u %12llu %14.0f %9.3f %9.3f %9.1f %10llu %12llu\n", sizes[i], NQUEUES,
		       (unsigned long long)r[i].decisions, r[i].dps, r[i].p50, r[i].p99, r[i].max,
		       (unsigned long long)r[i].allocs, (unsigned long long)r[i].bytes);
	}
	printf("SUMMARY acd decisions/s 1k=%.0f 10k=%.0f 50k=%.0f p99_us 1k=%.3f 10k=%.3f "
	       "50k=%.3f cost_ratio_50k_1k=%.2f\n",
	       r[0].dps, r[1].dps, r[2].dps, r[0].p99, r[1].p99, r[2].p99,
	       r[2].dps > 0 ? r[0].dps / r[2].dps : 0);
	return 0;
}

/*
 * Unit tests for the timer wheel. The main test runs thousands of timers with
 * random deadlines from 0 ms to months against a reference that knows each
 * deadline: every advance must fire exactly the due timers, in deadline
 * order, and timer_wheel_next() must name the earliest deadline. Smaller
 * tests pin down handlers that start, cancel and restart timers, and the
 * corners of next() (timers on a higher level due before lower ones, parked
 * far timers, deadlines that never come).
 */
#include "base/mem.h"
#include "base/timer.h"
#include "test.h"

#define DAY_MS (24ull * 3600 * 1000)

/* One timer of the random test, with the reference's view of it. */
struct item {
	struct timer tmr;
	uint64_t deadline; /* valid while pending */
	bool pending;	   /* the reference: should the wheel hold it? */
	unsigned repeats;  /* restarts itself from its handler this many times */
	uint64_t period;
	struct item *victim; /* cancelled from this item's handler, when set */
	struct run *run;
};

struct run {
	struct timer_wheel *tw;
	uint64_t target; /* the time being advanced to */
	uint64_t last;	 /* deadline of the last timer fired: they never go down */
	unsigned fired;
	bool bad; /* a handler ran too early, out of order, or for an idle timer */
};

static uint64_t rnd_next(uint64_t *s)
{
	/* xorshift64: deterministic, so a failure replays the same way. */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Delays spread over every level: ms, seconds, minutes, hours, days, months. */
static uint64_t random_delay(uint64_t *rnd)
{
	static const uint64_t spans[] = {5, 1000, 70000, 20000000, 3 * DAY_MS, 120 * DAY_MS};

	return rnd_next(rnd) % spans[rnd_next(rnd) % (sizeof(spans) / sizeof(spans[0]))];
}

static void on_item(void *arg)
{
	struct item *it = arg;
	struct run *r = it->run;

	if (!it->pending || it->deadline > r->target || it->deadline < r->last)
		r->bad = true;
	r->last = it->deadline;
	r->fired++;
	it->pending = false;
	if (it->victim && it->victim->pending) {
		timer_cancel(&it->victim->tmr);
		it->victim->pending = false;
	}
	if (it->repeats) {
		/* The wheel is at this deadline, so the next one is exactly a period on. */
		it->repeats--;
		it->deadline += it->period;
		it->pending = true;
		timer_start(r->tw, &it->tmr, it->period, on_item, it);
	}
}

static void item_start(struct run *r, struct item *it, uint64_t now, uint64_t delay)
{
	it->deadline = now + delay;
	it->pending = true;
	timer_start(r->tw, &it->tmr, delay, on_item, it);
}

/*
 * Check the wheel at time @now against the reference: pending exactly as
 * expected, no pending deadline before @due_after, next() and count() right.
 */
static bool wheel_matches(const struct run *r, const struct item *items, size_t n, uint64_t now,
			  uint64_t due_after)
{
	uint64_t first = UINT64_MAX;
	unsigned pending = 0;

	for (size_t i = 0; i < n; i++) {
		if (timer_pending(&items[i].tmr) != items[i].pending)
			return false;
		if (!items[i].pending)
			continue;
		if (items[i].deadline < due_after)
			return false;
		if (items[i].deadline < first)
			first = items[i].deadline;
		pending++;
	}
	if (timer_wheel_count(r->tw) != pending)
		return false;
	return timer_wheel_next(r->tw) == (pending ? (int64_t)(first - now) : -1);
}

TEST(test_timer_random_against_reference)
{
	/* Distances at the edges of each level, then random ones. */
	static const uint64_t edges[] = {
	    0,	   1,	     255,      256,	    257,	 65535,	      65536,
	    65537, 16777215, 16777216, 4294967295u, 4294967296u, 4294967297u, 8589934592u};
	const size_t n = 2000;
	/* Not a multiple of anything: the wheel must not assume it starts aligned. */
	uint64_t now = 123456789123u, rnd = 0x2545f4914f6cdd1du;
	struct item *items = mem_zalloc(n * sizeof(*items));
	struct run r = {0};
	unsigned steps = 0;
	int err = 0;

	TEST_ASSERT(items);
	TEST_ERR(timer_wheel_alloc(&r.tw, now));
	for (size_t i = 0; i < n; i++) {
		struct item *it = &items[i];

		timer_init(&it->tmr);
		it->run = &r;
		if (i % 40 == 1) {
			it->repeats = 1 + rnd_next(&rnd) % 5;
			it->period = 1 + rnd_next(&rnd) % 100000;
		}
		if (i % 25 == 2)
			it->victim = &items[rnd_next(&rnd) % n];
		item_start(&r, it, now,
			   i < sizeof(edges) / sizeof(edges[0]) ? edges[i] : random_delay(&rnd));
	}
	TEST_ASSERT(wheel_matches(&r, items, n, now, now));

	while (timer_wheel_count(r.tw)) {
		int64_t next = timer_wheel_next(r.tw);
		unsigned before = r.fired, fired;

		TEST_ASSERT(++steps < 100000);
		/* Advance to the next deadline exactly, just before it, or by random steps. */
		switch (rnd_next(&rnd) % 5) {
		case 0:
			r.target = now + (uint64_t)next;
			break;
		case 1:
			r.target = now + (next ? (uint64_t)next - 1 : 0);
			break;
		case 2:
			r.target = now + rnd_next(&rnd) % 50;
			break;
		case 3:
			r.target = now + rnd_next(&rnd) % 100000;
			break;
		default:
			r.target = now + rnd_next(&rnd) % DAY_MS;
			break;
		}
		fired = timer_wheel_advance(r.tw, r.target);
		now = r.target;
		TEST_ASSERT(!r.bad);
		TEST_EQUALS(r.fired - before, fired);
		/* Everything due has fired. */
		TEST_ASSERT(wheel_matches(&r, items, n, now, now + 1));

		/* Early on, also cancel and restart timers between advances. */
		if (steps < 2000) {
			struct item *it = &items[rnd_next(&rnd) % n];

			if (rnd_next(&rnd) % 2) {
				timer_cancel(&it->tmr);
				it->pending = false;
			} else {
				item_start(&r, it, now, random_delay(&rnd));
			}
			TEST_ASSERT(wheel_matches(&r, items, n, now, now));
		}
	}
	TEST_ASSERT(r.fired >= n / 2); /* most timers fired; the rest were cancelled */
	TEST_EQUALS(-1, timer_wheel_next(r.tw));
out:
	timer_wheel_free(r.tw);
	mem_free(items);
	return err;
}

/* Named timers that log their name when they fire, and act on others. */
struct named {
	struct timer tmr;
	char name;
	struct script *s;
};

struct script {
	struct timer_wheel *tw;
	char log[32];
	size_t n;
	struct named *start;  /* started 5 ms after the wheel's time by 'a' */
	struct named *cancel; /* cancelled by 'a' */
};

static void on_named(void *arg)
{
	struct named *t = arg;

	if (t->s->n < sizeof(t->s->log) - 1)
		t->s->log[t->s->n++] = t->name;
}

static void on_a(void *arg)
{
	struct named *t = arg;
	struct script *s = t->s;

	on_named(arg);
	timer_cancel(&t->tmr); /* its own, idle while it runs: a no-op */
	if (s->cancel)
		timer_cancel(&s->cancel->tmr);
	if (s->start)
		timer_start(s->tw, &s->start->tmr, 5, on_named, s->start);
}

TEST(test_timer_started_in_handler_fires_in_order)
{
	struct script s = {0};
	struct named a = {.name = 'a', .s = &s}, b = {.name = 'b', .s = &s},
		     c = {.name = 'c', .s = &s}, d = {.name = 'd', .s = &s},
		     e = {.name = 'e', .s = &s};
	int err = 0;

	TEST_ERR(timer_wheel_alloc(&s.tw, 1000));
	timer_init(&a.tmr);
	timer_init(&b.tmr);
	timer_init(&c.tmr);
	timer_init(&d.tmr);
	timer_init(&e.tmr);
	s.start = &b;
	timer_start(s.tw, &a.tmr, 10, on_a, &a);
	timer_start(s.tw, &c.tmr, 12, on_named, &c);
	timer_start(s.tw, &e.tmr, 15, on_named, &e);
	timer_start(s.tw, &d.tmr, 20, on_named, &d);
	/* a fires at 1010 and starts b for 1015: after e, which was there first. */
	TEST_EQUALS(5, timer_wheel_advance(s.tw, 1100));
	TEST_STR("acebd", str_make(s.log, s.n));
	TEST_EQUALS(0, timer_wheel_count(s.tw));
out:
	timer_wheel_free(s.tw);
	return err;
}

TEST(test_timer_cancel_in_handler)
{
	struct script s = {0};
	struct named a = {.name = 'a', .s = &s}, b = {.name = 'b', .s = &s},
		     c = {.name = 'c', .s = &s}, d = {.name = 'd', .s = &s};
	int err = 0;

	TEST_ERR(timer_wheel_alloc(&s.tw, 0));
	timer_init(&a.tmr);
	timer_init(&b.tmr);
	timer_init(&c.tmr);
	timer_init(&d.tmr);
	/* b shares a's deadline and slot and sits behind it: a cancels it. */
	timer_start(s.tw, &a.tmr, 300, on_a, &a);
	timer_start(s.tw, &b.tmr, 300, on_named, &b);
	timer_start(s.tw, &d.tmr, 300, on_named, &d);
	timer_start(s.tw, &c.tmr, 400, on_named, &c);
	s.cancel = &b;
	TEST_EQUALS(3, timer_wheel_advance(s.tw, 1000));
	TEST_STR("adc", str_make(s.log, s.n));
	TEST_ASSERT(!timer_pending(&b.tmr));

	/* A cancel of a later timer from a handler, across levels. */
	s.n = 0;
	s.cancel = &c;
	timer_start(s.tw, &a.tmr, 10, on_a, &a);
	timer_start(s.tw, &c.tmr, 100000, on_named, &c);
	TEST_EQUALS(1, timer_wheel_advance(s.tw, 1000 + 200000));
	TEST_STR("a", str_make(s.log, s.n));
	TEST_EQUALS(-1, timer_wheel_next(s.tw));
out:
	timer_wheel_free(s.tw);
	return err;
}

struct periodic {
	struct timer tmr;
	struct timer_wheel *tw;
	uint64_t period;
	unsigned fired;
};

static void on_periodic(void *arg)
{
	struct periodic *p = arg;

	p->fired++;
	timer_start(p->tw, &p->tmr, p->period, on_periodic, p);
}

TEST(test_timer_restart)
{
	struct periodic p = {.period = 100};
	struct named a = {.name = 'a'}, b = {.name = 'b'};
	struct script s = {0};
	struct timer_wheel *tw = NULL;
	int err = 0;

	TEST_ERR(timer_wheel_alloc(&tw, 5000));
	a.s = b.s = &s;
	/* A pending timer moves: later, earlier, and to another handler and arg. */
	timer_init(&a.tmr);
	timer_start(tw, &a.tmr, 50, on_named, &a);
	timer_start(tw, &a.tmr, 500, on_named, &a);
	TEST_EQUALS(1, timer_wheel_count(tw));
	TEST_EQUALS(500, timer_wheel_next(tw));
	TEST_EQUALS(0, timer_wheel_advance(tw, 5100));
	TEST_EQUALS(400, timer_wheel_next(tw));
	timer_start(tw, &a.tmr, 10, on_named, &b);
	TEST_EQUALS(10, timer_wheel_next(tw));
	TEST_EQUALS(1, timer_wheel_advance(tw, 6000));
	TEST_STR("b", str_make(s.log, s.n));
	TEST_ASSERT(!timer_pending(&a.tmr));

	/* Restarting itself from its handler: due exactly one period later. */
	p.tw = tw;
	timer_init(&p.tmr);
	timer_start(tw, &p.tmr, 100, on_periodic, &p);
	TEST_EQUALS(10, timer_wheel_advance(tw, 7000));
	TEST_EQUALS(100, timer_wheel_next(tw));
	TEST_EQUALS(0, timer_wheel_advance(tw, 7099));
	TEST_EQUALS(1, timer_wheel_advance(tw, 7100));

	/* 256 ms on is the very slot being fired: it must wait a whole turn. */
	p.period = 256;
	p.fired = 0;
	TEST_EQUALS(4, timer_wheel_advance(tw, 7200 + 3 * 256));
	TEST_EQUALS(256, timer_wheel_next(tw));

	/* With delay 0 it fires once per advance instead of spinning. */
	p.period = 0;
	p.fired = 0;
	timer_start(tw, &p.tmr, 0, on_periodic, &p);
	TEST_EQUALS(0, timer_wheel_next(tw));
	TEST_EQUALS(1, timer_wheel_advance(tw, 7100));
	TEST_EQUALS(1, timer_wheel_advance(tw, 7100));
	TEST_EQUALS(1, timer_wheel_advance(tw, 9000));
	TEST_EQUALS(3, p.fired);
	TEST_ASSERT(timer_pending(&p.tmr));
	timer_cancel(&p.tmr);
	timer_cancel(&p.tmr);
	TEST_EQUALS(0, timer_wheel_advance(tw, 9001));
out:
	timer_wheel_free(tw);
	return err;
}

TEST(test_timer_next)
{
	struct named a = {.name = 'a'}, b = {.name = 'b'}, c = {.name = 'c'};
	struct script s = {0};
	struct timer_wheel *tw = NULL;
	int err = 0;

	TEST_ERR(timer_wheel_alloc(&tw, 0));
	a.s = b.s = c.s = &s;
	timer_init(&a.tmr);
	timer_init(&b.tmr);
	timer_init(&c.tmr);
	TEST_EQUALS(-1, timer_wheel_next(tw));
	TEST_EQUALS(0, timer_wheel_count(tw));

	/*
	 * a goes to level 2 (70 s away). After 10 s, b is started 65 s out
	 * and goes to level 1, yet a is due first.
	 */
	timer_start(tw, &a.tmr, 70000, on_named, &a);
	TEST_EQUALS(0, timer_wheel_advance(tw, 10000));
	timer_start(tw, &b.tmr, 65000, on_named, &b);
	TEST_EQUALS(60000, timer_wheel_next(tw));
	timer_cancel(&a.tmr);
	TEST_EQUALS(65000, timer_wheel_next(tw));
	timer_cancel(&b.tmr);

	/* Beyond the wheel's 2^32 ms: parked, and still exact. */
	timer_start(tw, &c.tmr, 100 * DAY_MS, on_named, &c);
	TEST_EQUALS(100 * DAY_MS, timer_wheel_next(tw));
	TEST_EQUALS(0, timer_wheel_advance(tw, 99 * DAY_MS));
	TEST_EQUALS(DAY_MS + 10000, timer_wheel_next(tw));
	TEST_EQUALS(0, timer_wheel_advance(tw, 100 * DAY_MS + 9999));
	TEST_EQUALS(1, timer_wheel_next(tw));
	/* Going back in time is ignored. */
	TEST_EQUALS(0, timer_wheel_advance(tw, 5));
	TEST_EQUALS(1, timer_wheel_next(tw));
	TEST_EQUALS(1, timer_wheel_advance(tw, 100 * DAY_MS + 10000));
	TEST_STR("c", str_make(s.log, s.n));

	/* A deadline that never comes. */
	timer_start(tw, &a.tmr, UINT64_MAX, on_named, &a);
	TEST_EQUALS(INT64_MAX, timer_wheel_next(tw));
	TEST_EQUALS(0, timer_wheel_advance(tw, 1000 * DAY_MS));
	TEST_ASSERT(timer_pending(&a.tmr));
	TEST_EQUALS(INT64_MAX, timer_wheel_next(tw));
out:
	timer_wheel_free(tw);
	return err;
}

/* Years in one advance: the wheel must skip idle time, not walk it. */
TEST(test_timer_long_jump)
{
	static const uint64_t delays[] = {400 * DAY_MS, 1000,	     30 * DAY_MS,
					  DAY_MS,	3600 * 1000, 60 * DAY_MS};
	struct named t[6];
	struct script s = {0};
	int err = 0;

	TEST_ERR(timer_wheel_alloc(&s.tw, 777));
	for (int i = 0; i < 6; i++) {
		t[i] = (struct named){.name = (char)('0' + i), .s = &s};
		timer_init(&t[i].tmr);
		timer_start(s.tw, &t[i].tmr, delays[i], on_named, &t[i]);
	}
	TEST_EQUALS(6, timer_wheel_advance(s.tw, 777 + 2 * 365 * DAY_MS));
	TEST_STR("143250", str_make(s.log, s.n));
out:
	timer_wheel_free(s.tw);
	return err;
}

TEST(test_timer_free_pending)
{
	struct named a = {.name = 'a'}, b = {.name = 'b'}, c = {.name = 'c'};
	struct timer_wheel *tw = NULL;
	int err = 0;

	timer_wheel_free(NULL);
	timer_init(&a.tmr);
	timer_init(&b.tmr);
	timer_init(&c.tmr);
	TEST_ASSERT(!timer_pending(&a.tmr));
	TEST_ERR(timer_wheel_alloc(&tw, 0));
	timer_start(tw, &a.tmr, 0, on_named, &a);
	timer_start(tw, &b.tmr, 1000, on_named, &b);
	timer_start(tw, &c.tmr, 200 * DAY_MS, on_named, &c);
	TEST_EQUALS(3, timer_wheel_count(tw));
	timer_wheel_free(tw);
	tw = NULL;
	/* Owners may still look at and cancel their timers. */
	TEST_ASSERT(!timer_pending(&a.tmr));
	TEST_ASSERT(!timer_pending(&b.tmr));
	TEST_ASSERT(!timer_pending(&c.tmr));
	timer_cancel(&b.tmr);
out:
	timer_wheel_free(tw);
	return err;
}

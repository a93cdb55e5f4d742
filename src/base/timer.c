/*
 * timer: hierarchical timer wheel (see timer.h).
 *
 * Four levels of 256 slots; a level-L slot spans 256^L ms, so the wheel sees
 * 2^32 ms (about 49 days) ahead. A timer sits in the lowest level whose range
 * covers its distance and moves down a level ("cascades") when the clock
 * reaches its slot, so when a level-0 slot fires, every timer in it has
 * exactly that tick as deadline: firing slot by slot is firing in deadline
 * order. Deadlines past the top level are parked in the top-level slot that
 * cascades last and placed again from there.
 *
 * Advancing jumps straight to the next tick where a slot fires or cascades,
 * so an idle wheel crosses days in one step. timer_cancel() does not know the
 * wheel, so the wheel keeps no counters: timer_wheel_next() and
 * timer_wheel_count() scan the slots (next() prunes, count() walks all).
 */
#include <errno.h>
#include <string.h>

#include "base/mem.h"
#include "base/timer.h"

#define WHEEL_BITS   8u
#define WHEEL_SLOTS  (1u << WHEEL_BITS)
#define WHEEL_MASK   (WHEEL_SLOTS - 1)
#define WHEEL_LEVELS 4u

struct timer_wheel {
	uint64_t now;	   /* wheel time: the last tick processed */
	struct list ready; /* deadlines <= now: fired at the start of the next advance */
	struct list slots[WHEEL_LEVELS][WHEEL_SLOTS]; /* deadlines > now */
	/* A bit per slot that may hold timers: set when one is placed, cleared
	 * when the slot is drained or found empty (a cancel does not know its
	 * wheel). Finding the next busy slot then costs a few word scans, not a
	 * walk over 256 empty lists per level, which dominated busy wheels whose
	 * timers are all seconds away (the ACD's ring and wrap-up timers). */
	uint64_t busy[WHEEL_LEVELS][WHEEL_SLOTS / 64];
};

static void busy_set(struct timer_wheel *tw, unsigned level, unsigned idx)
{
	tw->busy[level][idx >> 6] |= (uint64_t)1 << (idx & 63);
}

static void busy_clear(struct timer_wheel *tw, unsigned level, unsigned idx)
{
	tw->busy[level][idx >> 6] &= ~((uint64_t)1 << (idx & 63));
}

/*
 * The first j >= @j (counted from slot index @start, circularly) whose slot
 * of @level is marked busy, or WHEEL_SLOTS when none.
 */
static unsigned next_busy(const struct timer_wheel *tw, unsigned level, unsigned start, unsigned j)
{
	while (j < WHEEL_SLOTS) {
		unsigned idx = (start + j) & WHEEL_MASK, bit = idx & 63;
		uint64_t w = tw->busy[level][idx >> 6] >> bit;

		if (w)
			return j + (unsigned)__builtin_ctzll(w) < WHEEL_SLOTS
				   ? j + (unsigned)__builtin_ctzll(w)
				   : WHEEL_SLOTS;
		j += 64 - bit;
	}
	return WHEEL_SLOTS;
}

static unsigned level_shift(unsigned level)
{
	return level * WHEEL_BITS;
}

/* Index of the slot of @level that holds deadlines around @tick. */
static unsigned slot_index(unsigned level, uint64_t tick)
{
	return (unsigned)(tick >> level_shift(level)) & WHEEL_MASK;
}

static struct list *slot_at(struct timer_wheel *tw, unsigned level, uint64_t tick)
{
	return &tw->slots[level][slot_index(level, tick)];
}

/*
 * Tick at which the @j-th slot of @level, counted from the clock, is reached:
 * it fires (level 0) or cascades. Every timer in that slot has its deadline
 * at or after this tick.
 */
static uint64_t slot_tick(const struct timer_wheel *tw, unsigned level, unsigned j)
{
	unsigned shift = level_shift(level);
	uint64_t first = ((tw->now + ((uint64_t)1 << shift)) >> shift) << shift;

	return first + ((uint64_t)j << shift);
}

/*
 * Put @t where it is reached before its deadline. The placement is relative
 * to the next tick to process, tw->now + 1, whose level-0 slot has not fired
 * yet.
 *
 * NOTE: a slot being cascaded at tick T never gets a timer back: what lands
 * on level L again is at least 256^L ms after T, and T is a multiple of 256^L,
 * so its index differs. That is what lets cascade() drain a slot in a loop.
 */
static void place(struct timer_wheel *tw, struct timer *t)
{
	uint64_t base = tw->now + 1;
	uint64_t dist = t->expires - base;
	uint64_t at = t->expires;
	unsigned level = 0;

	if (t->expires <= tw->now) {
		list_append(&tw->ready, &t->le);
		return;
	}
	while (level < WHEEL_LEVELS - 1 && dist >> level_shift(level + 1))
		level++;
	if (dist >> level_shift(WHEEL_LEVELS))
		at = base + ((uint64_t)1 << level_shift(WHEEL_LEVELS)) - 1;
	list_append(slot_at(tw, level, at), &t->le);
	busy_set(tw, level, slot_index(level, at));
}

/* Move the timers of the slots reached at @tick down; tw->now is @tick - 1. */
static void cascade(struct timer_wheel *tw, uint64_t tick)
{
	for (unsigned level = WHEEL_LEVELS - 1; level > 0; level--) {
		struct list *slot = slot_at(tw, level, tick);
		struct list_elem *e;

		if (tick & (((uint64_t)1 << level_shift(level)) - 1))
			continue;
		while ((e = list_head(slot))) {
			list_unlink(e);
			place(tw, list_entry(e, struct timer, le));
		}
		busy_clear(tw, level, slot_index(level, tick));
	}
}

/* Earliest tick after tw->now at which some slot fires or cascades, or UINT64_MAX. */
static uint64_t next_event(struct timer_wheel *tw)
{
	uint64_t best = UINT64_MAX;

	for (unsigned level = 0; level < WHEEL_LEVELS; level++) {
		uint64_t first = slot_tick(tw, level, 0);
		unsigned start = slot_index(level, first), j = 0;

		while ((j = next_busy(tw, level, start, j)) < WHEEL_SLOTS) {
			uint64_t at = first + ((uint64_t)j << level_shift(level));
			unsigned idx = (start + j) & WHEEL_MASK;

			if (at >= best)
				break;
			if (!list_empty(&tw->slots[level][idx])) {
				best = at;
				break;
			}
			busy_clear(tw, level, idx); /* emptied by cancels */
			j++;
		}
	}
	return best;
}

/*
 * Earliest deadline in the slots; false when they are empty. A slot's
 * timers are due no earlier than the tick it is reached, so the scan stops at
 * the first slot reached after the best deadline found.
 */
static bool next_deadline(const struct timer_wheel *tw, uint64_t *deadline)
{
	uint64_t best = UINT64_MAX;
	bool found = false;

	for (unsigned level = 0; level < WHEEL_LEVELS; level++) {
		uint64_t first = slot_tick(tw, level, 0);
		unsigned start = slot_index(level, first);

		for (unsigned j = 0; (j = next_busy(tw, level, start, j)) < WHEEL_SLOTS; j++) {
			uint64_t at = first + ((uint64_t)j << level_shift(level));
			const struct list *slot = &tw->slots[level][(start + j) & WHEEL_MASK];
			struct list_elem *e;

			if (found && at >= best)
				break;
			for (e = slot->head.next; e != &slot->head; e = e->next) {
				const struct timer *t = list_entry(e, struct timer, le);

				if (t->expires < best)
					best = t->expires;
				found = true;
			}
		}
	}
	*deadline = best;
	return found;
}

static void move_all(struct list *dst, struct list *src)
{
	struct list_elem *e;

	while ((e = list_head(src))) {
		list_unlink(e);
		list_append(dst, e);
	}
}

/* Fire and empty @due; handlers may cancel or restart any timer still on it. */
static unsigned fire(struct list *due)
{
	struct list_elem *e;
	unsigned n = 0;

	while ((e = list_head(due))) {
		struct timer *t = list_entry(e, struct timer, le);

		/* Idle while its handler runs, so the handler may restart it. */
		list_unlink(e);
		t->h(t->arg);
		n++;
	}
	return n;
}

int timer_wheel_alloc(struct timer_wheel **twp, uint64_t now_ms)
{
	struct timer_wheel *tw = mem_alloc(sizeof(*tw));

	if (!tw)
		return -ENOMEM;
	tw->now = now_ms;
	memset(tw->busy, 0, sizeof(tw->busy));
	list_init(&tw->ready);
	for (unsigned level = 0; level < WHEEL_LEVELS; level++) {
		for (unsigned i = 0; i < WHEEL_SLOTS; i++)
			list_init(&tw->slots[level][i]);
	}
	*twp = tw;
	return 0;
}

static void unlink_all(struct list *l)
{
	struct list_elem *e;

	while ((e = list_head(l)))
		list_unlink(e);
}

void timer_wheel_free(struct timer_wheel *tw)
{
	if (!tw)
		return;
	/* Owners may still call timer_cancel() or timer_pending() on their timers. */
	unlink_all(&tw->ready);
	for (unsigned level = 0; level < WHEEL_LEVELS; level++) {
		for (unsigned i = 0; i < WHEEL_SLOTS; i++)
			unlink_all(&tw->slots[level][i]);
	}
	mem_free(tw);
}

void timer_init(struct timer *t)
{
	list_elem_init(&t->le);
	t->expires = 0;
	t->h = NULL;
	t->arg = NULL;
}

void timer_start(struct timer_wheel *tw, struct timer *t, uint64_t delay_ms, timer_h *h, void *arg)
{
	list_unlink(&t->le);
	t->h = h;
	t->arg = arg;
	t->expires = delay_ms > UINT64_MAX - tw->now ? UINT64_MAX : tw->now + delay_ms;
	place(tw, t);
}

void timer_cancel(struct timer *t)
{
	list_unlink(&t->le);
}

bool timer_pending(const struct timer *t)
{
	return list_elem_linked(&t->le);
}

unsigned timer_wheel_advance(struct timer_wheel *tw, uint64_t now_ms)
{
	struct list due;
	unsigned n;

	if (now_ms < tw->now)
		now_ms = tw->now;
	/*
	 * Only what was ready before this call fires here. A handler that
	 * restarts its timer with delay 0 puts it on the ready list again, and
	 * it waits for the next advance instead of spinning here forever.
	 */
	list_init(&due);
	move_all(&due, &tw->ready);
	n = fire(&due);
	for (;;) {
		uint64_t tick = next_event(tw);

		if (tick > now_ms)
			break;
		/* Nothing happens between here and @tick: skip to it. */
		tw->now = tick - 1;
		cascade(tw, tick);
		move_all(&due, slot_at(tw, 0, tick));
		busy_clear(tw, 0, slot_index(0, tick));
		/* Handlers run at their deadline: a restart with delay d is due at tick + d. */
		tw->now = tick;
		n += fire(&due);
	}
	tw->now = now_ms;
	return n;
}

int64_t timer_wheel_next(const struct timer_wheel *tw)
{
	uint64_t at;

	if (!list_empty(&tw->ready))
		return 0;
	if (!next_deadline(tw, &at))
		return -1;
	at -= tw->now;
	return at > INT64_MAX ? INT64_MAX : (int64_t)at;
}

unsigned timer_wheel_count(const struct timer_wheel *tw)
{
	size_t n = list_count(&tw->ready);

	for (unsigned level = 0; level < WHEEL_LEVELS; level++) {
		for (unsigned i = 0; i < WHEEL_SLOTS; i++)
			n += list_count(&tw->slots[level][i]);
	}
	return (unsigned)n;
}

uint64_t timer_wheel_now(const struct timer_wheel *tw)
{
	return tw->now;
}

/*
 * timer: a hierarchical timer wheel with millisecond ticks.
 *
 * SIP transactions start and cancel timers all the time (A to K, RFC 3261
 * §17) and nearly all are cancelled before they fire, so start and cancel are
 * O(1) and firing is amortised O(1) per timer. The struct timer lives inside
 * its owner (a transaction, a call); the wheel never allocates per timer.
 *
 * A wheel belongs to one event-loop thread. The owner drives it: it calls
 * timer_wheel_advance() with the current monotonic time, and asks
 * timer_wheel_next() how long the loop may sleep. Handlers run inside
 * timer_wheel_advance() and may start or cancel any timer, their own
 * included. Deadlines may be any distance in the future (weeks are fine).
 */
#ifndef BASE_TIMER_H
#define BASE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/list.h"

typedef void(timer_h)(void *arg);

struct timer_wheel;

struct timer {
	struct list_elem le; /* slot membership; unlinked when idle */
	uint64_t expires;    /* absolute deadline in wheel milliseconds */
	timer_h *h;
	void *arg;
};

/* A new wheel whose clock starts at @now_ms. Returns 0 or -ENOMEM. */
int timer_wheel_alloc(struct timer_wheel **twp, uint64_t now_ms);
/* Free the wheel. Pending timers are unlinked, never fired. NULL is fine. */
void timer_wheel_free(struct timer_wheel *tw);

/* Ready an embedded timer before its first use. */
void timer_init(struct timer *t);

/*
 * (Re)start @t to call @h(@arg) @delay_ms after the wheel's current time. A
 * pending timer is moved, not duplicated. A delay of 0 fires on the next
 * advance.
 */
void timer_start(struct timer_wheel *tw, struct timer *t, uint64_t delay_ms, timer_h *h, void *arg);
/* Stop @t if pending; safe on an idle timer and from inside any handler. */
void timer_cancel(struct timer *t);
bool timer_pending(const struct timer *t);

/*
 * Move the wheel's clock to @now_ms (ignored when earlier than the wheel's)
 * and fire every timer whose deadline is <= @now_ms, in deadline order.
 * Returns the number of handlers called.
 */
unsigned timer_wheel_advance(struct timer_wheel *tw, uint64_t now_ms);

/* Milliseconds from the wheel's time to the earliest deadline, or -1 when none is pending. */
int64_t timer_wheel_next(const struct timer_wheel *tw);

/* The wheel's clock: the time of the last advance (or of the alloc). */
uint64_t timer_wheel_now(const struct timer_wheel *tw);

/* Number of pending timers. */
unsigned timer_wheel_count(const struct timer_wheel *tw);

#endif

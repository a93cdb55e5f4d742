/*
 * acct_throttle: failed logins per key, and the locks they earn (the policy
 * is in acct.h).
 *
 * A fixed pool of entries allocated with the table, a hash map sized for
 * all of them (so it never grows), and two lists in order of last failure:
 * keys still counting and keys that have been locked. Counting a failure
 * therefore never allocates, and forgetting the oldest key is O(1). Expired
 * entries are not swept: check() reads them as absent, fail() starts them
 * over, and they are the first to be reused.
 *
 * Not here: which keys to use (the API checks the account and the source),
 * timers (callers pass the time).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "acct/acct.h"
#include "base/hash.h"
#include "base/list.h"
#include "base/mem.h"

#define CAPACITY_MAX 1000000u

struct entry {
	struct list_elem le; /* in t->counting or t->locked, or t->spare */
	int64_t first_ms;    /* the counting window opened */
	int64_t last_ms;     /* last failure */
	int64_t until_ms;    /* locked until; 0 when never locked */
	int64_t lock_ms;     /* length of the last lock */
	unsigned fails;
	char key[ACCT_THROTTLE_KEY_MAX + 1];
};

struct acct_throttle {
	struct hash *ix; /* key -> struct entry */
	struct entry *pool;
	struct list spare, counting, locked;
	size_t capacity;
};

int acct_throttle_alloc(struct acct_throttle **tp, size_t capacity)
{
	struct acct_throttle *t;
	int err;

	if (!tp || !capacity || capacity > CAPACITY_MAX)
		return -EINVAL;
	t = mem_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	list_init(&t->spare);
	list_init(&t->counting);
	list_init(&t->locked);
	t->capacity = capacity;
	t->pool = mem_zalloc(capacity * sizeof(*t->pool));
	err = t->pool ? hash_alloc(&t->ix, capacity, 0) : -ENOMEM;
	if (err) {
		acct_throttle_free(t);
		return err;
	}
	for (size_t i = 0; i < capacity; i++)
		list_append(&t->spare, &t->pool[i].le);
	*tp = t;
	return 0;
}

struct acct_throttle *acct_throttle_free(struct acct_throttle *t)
{
	if (t) {
		hash_free(t->ix);
		mem_free(t->pool);
		mem_free(t);
	}
	return NULL;
}

static bool key_ok(const char *key)
{
	return key && *key && strnlen(key, ACCT_THROTTLE_KEY_MAX + 1) <= ACCT_THROTTLE_KEY_MAX;
}

static struct entry *find(const struct acct_throttle *t, const char *key)
{
	struct str k = str_cstr(key);

	return hash_get(t->ix, &k);
}

/* Nothing of @e matters any more: 15 quiet minutes and no lock running. */
static bool expired(const struct entry *e, int64_t now_ms)
{
	return now_ms - e->last_ms >= ACCT_THROTTLE_WINDOW_MS && now_ms >= e->until_ms;
}

static void forget(struct acct_throttle *t, struct entry *e)
{
	struct str k = str_cstr(e->key);

	hash_del(t->ix, &k);
	list_unlink(&e->le);
	list_append(&t->spare, &e->le);
}

int acct_throttle_check(struct acct_throttle *t, const char *key, int64_t now_ms,
			int64_t *retry_after_ms)
{
	const struct entry *e;

	if (!t || !key_ok(key))
		return -EINVAL;
	e = find(t, key);
	if (!e || now_ms >= e->until_ms)
		return 0;
	if (retry_after_ms)
		*retry_after_ms = e->until_ms - now_ms;
	return -EAGAIN;
}

/* A free entry: a spare one, else the oldest counting key, else the oldest
 * locked one (the table is full: see acct.h). */
static struct entry *take(struct acct_throttle *t)
{
	struct list *from = !list_empty(&t->spare)	? &t->spare
			    : !list_empty(&t->counting) ? &t->counting
							: &t->locked;
	struct entry *e = list_entry(from->head.next, struct entry, le);

	if (from != &t->spare)
		forget(t, e);
	list_unlink(&e->le);
	return e;
}

int acct_throttle_fail(struct acct_throttle *t, const char *key, int64_t now_ms)
{
	struct entry *e;
	struct str k;

	if (!t || !key_ok(key))
		return -EINVAL;
	e = find(t, key);
	if (e && expired(e, now_ms)) {
		forget(t, e);
		e = NULL;
	}
	if (!e) {
		e = take(t);
		memset(e, 0, sizeof(*e));
		memcpy(e->key, key, strlen(key) + 1);
		k = str_cstr(e->key);
		/* Cannot fail: the map was sized for every entry of the pool. */
		if (hash_put(t->ix, &k, e, NULL)) {
			list_append(&t->spare, &e->le);
			return -ENOMEM;
		}
	} else {
		list_unlink(&e->le);
	}
	/* Below the threshold the window is fixed from its first failure:
	 * 5 failures spread over more than 15 minutes start a new count. */
	if (!e->until_ms && e->fails && now_ms - e->first_ms >= ACCT_THROTTLE_WINDOW_MS)
		e->fails = 0;
	if (!e->fails)
		e->first_ms = now_ms;
	e->fails++;
	e->last_ms = now_ms;
	if (e->fails >= ACCT_THROTTLE_FAILS) {
		e->lock_ms = !e->lock_ms ? ACCT_THROTTLE_LOCK_MS
			     : e->lock_ms >= ACCT_THROTTLE_LOCK_MAX_MS / 2
				 ? ACCT_THROTTLE_LOCK_MAX_MS
				 : e->lock_ms * 2;
		e->until_ms = now_ms + e->lock_ms;
	}
	list_append(e->until_ms ? &t->locked : &t->counting, &e->le);
	return 0;
}

void acct_throttle_ok(struct acct_throttle *t, const char *key)
{
	struct entry *e;

	if (!t || !key_ok(key))
		return;
	e = find(t, key);
	if (e)
		forget(t, e);
}

size_t acct_throttle_count(const struct acct_throttle *t)
{
	return t ? hash_count(t->ix) : 0;
}

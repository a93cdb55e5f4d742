/*
 * Unit tests for hash: the map against a plain array that knows which keys
 * are in it. Thousands of inserts with deletions in between, and every
 * deletion order in a full small table (where probe runs wrap round the end),
 * check that backward-shift deletion never loses a key.
 */
#include <stdio.h>

#include "base/hash.h"
#include "base/mem.h"
#include "test.h"

#define MANY 5000

struct entry {
	char name[16];
	struct str key; /* into name */
	bool in;	/* the reference: should the map hold it? */
};

static uint64_t rnd_next(uint64_t *s)
{
	/* xorshift64: deterministic, so a failure replays the same way. */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void entries_init(struct entry *e, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(e[i].name, sizeof(e[i].name), "%s%zu", prefix, i);

		e[i].key = str_make(e[i].name, (size_t)len);
		e[i].in = false;
	}
}

/* The map holds exactly the entries marked in, each mapped to itself. */
static bool matches(const struct hash *h, const struct entry *e, size_t n)
{
	size_t in = 0;

	for (size_t i = 0; i < n; i++) {
		if (hash_get(h, &e[i].key) != (e[i].in ? &e[i] : NULL))
			return false;
		in += e[i].in;
	}
	return hash_count(h) == in;
}

TEST(test_hash_basic)
{
	struct str k1 = STR("alice"), k2 = str_make("bob;tag", 3);
	char old_name[] = "carol", new_name[] = "carol";
	int a = 1, b = 2, c = 3;
	struct hash *h = NULL;
	void *old = &c;
	int err = 0;

	TEST_ERR(hash_alloc(&h, 0, 0));
	TEST_EQUALS(0, hash_count(h));
	TEST_ASSERT(hash_get(h, &k1) == NULL);
	TEST_ASSERT(hash_del(h, &k1) == NULL);

	TEST_ERR(hash_put(h, &k1, &a, &old));
	TEST_ASSERT(old == NULL);
	TEST_ERR(hash_put(h, &k2, &b, NULL));
	TEST_EQUALS(2, hash_count(h));
	TEST_ASSERT(hash_get(h, &k1) == &a);
	TEST_ASSERT(hash_get(h, &STR("bob")) == &b);
	TEST_ASSERT(hash_get(h, &STR("bob;tag")) == NULL);
	TEST_ASSERT(hash_get(h, &STR("Alice")) == NULL);

	/* Replace: the count stays, the old value comes back. */
	TEST_ERR(hash_put(h, &STR("alice"), &c, &old));
	TEST_ASSERT(old == &a);
	TEST_EQUALS(2, hash_count(h));
	TEST_ASSERT(hash_get(h, &k1) == &c);
	TEST_EQUALS(-EINVAL, hash_put(h, &k1, NULL, NULL));
	TEST_ASSERT(hash_get(h, &k1) == &c);

	/* The empty key is a key like any other. */
	TEST_ERR(hash_put(h, &STR(""), &a, NULL));
	TEST_ASSERT(hash_get(h, &STR_NULL) == &a);

	TEST_ASSERT(hash_del(h, &k1) == &c);
	TEST_ASSERT(hash_del(h, &k1) == NULL);
	TEST_ASSERT(hash_get(h, &k1) == NULL);
	TEST_EQUALS(2, hash_count(h));

	/*
	 * A replacement keeps the new key: the old one lived in the old value,
	 * which is gone once it is replaced.
	 */
	TEST_ERR(hash_put(h, &(struct str){old_name, 5}, &a, NULL));
	TEST_ERR(hash_put(h, &(struct str){new_name, 5}, &b, NULL));
	memset(old_name, '#', 5);
	TEST_ASSERT(hash_get(h, &STR("carol")) == &b);
out:
	hash_free(h);
	return err;
}

TEST(test_hash_icase)
{
	struct hash *ci = NULL, *cs = NULL;
	int a = 1, b = 2;
	void *old = NULL;
	int err = 0;

	TEST_ERR(hash_alloc(&ci, 4, HASH_ICASE));
	TEST_ERR(hash_alloc(&cs, 4, 0));

	TEST_ERR(hash_put(ci, &STR("Call-ID"), &a, NULL));
	TEST_ASSERT(hash_get(ci, &STR("call-id")) == &a);
	TEST_ASSERT(hash_get(ci, &STR("CALL-ID")) == &a);
	TEST_ASSERT(hash_get(ci, &STR("Call-IDs")) == NULL);
	TEST_ERR(hash_put(ci, &STR("CALL-id"), &b, &old));
	TEST_ASSERT(old == &a);
	TEST_EQUALS(1, hash_count(ci));
	TEST_ASSERT(hash_del(ci, &STR("call-ID")) == &b);
	TEST_EQUALS(0, hash_count(ci));

	TEST_ERR(hash_put(cs, &STR("Call-ID"), &a, NULL));
	TEST_ERR(hash_put(cs, &STR("call-id"), &b, &old));
	TEST_ASSERT(old == NULL);
	TEST_EQUALS(2, hash_count(cs));
	TEST_ASSERT(hash_get(cs, &STR("Call-ID")) == &a);
	TEST_ASSERT(hash_get(cs, &STR("CALL-ID")) == NULL);
out:
	hash_free(ci);
	hash_free(cs);
	return err;
}

TEST(test_hash_many_interleaved)
{
	struct entry *e = mem_alloc(MANY * sizeof(*e));
	uint64_t rnd = 0x9e3779b97f4a7c15u;
	struct hash *h = NULL;
	int err = 0;

	TEST_ASSERT(e);
	entries_init(e, MANY, "call-");
	TEST_ERR(hash_alloc(&h, 0, 0));
	for (size_t i = 0; i < MANY; i++) {
		TEST_ERR(hash_put(h, &e[i].key, &e[i], NULL));
		e[i].in = true;
		/* Two of every three steps also delete a random key, present or not. */
		if (i % 3) {
			size_t k = rnd_next(&rnd) % (i + 1);

			TEST_ASSERT(hash_del(h, &e[k].key) == (e[k].in ? &e[k] : NULL));
			e[k].in = false;
		}
		if (i % 500 == 0)
			TEST_ASSERT(matches(h, e, MANY));
	}
	TEST_ASSERT(matches(h, e, MANY));

	/* Put every key back, then delete all in a scrambled order. */
	for (size_t i = 0; i < MANY; i++) {
		TEST_ERR(hash_put(h, &e[i].key, &e[i], NULL));
		e[i].in = true;
	}
	TEST_EQUALS(MANY, hash_count(h));
	for (size_t n = 0; n < MANY; n++) {
		size_t k = (n * 2654435761u) % MANY; /* a permutation: coprime with MANY */

		TEST_ASSERT(hash_del(h, &e[k].key) == &e[k]);
		e[k].in = false;
		if (n % 1000 == 0)
			TEST_ASSERT(matches(h, e, MANY));
	}
	TEST_EQUALS(0, hash_count(h));
	TEST_ASSERT(matches(h, e, MANY));
out:
	hash_free(h);
	mem_free(e);
	return err;
}

/*
 * A table of 8 slots holding 7 keys: every probe run is long and wraps round
 * the end. Delete each key first in turn, then the rest, checking all
 * others after every step.
 */
TEST(test_hash_small_table_deletions)
{
	struct entry e[7];
	struct hash *h = NULL;
	int err = 0;

	entries_init(e, 7, "k");
	for (size_t first = 0; first < 7; first++) {
		TEST_ERR(hash_alloc(&h, 0, 0));
		for (size_t i = 0; i < 7; i++) {
			TEST_ERR(hash_put(h, &e[i].key, &e[i], NULL));
			e[i].in = true;
		}
		for (size_t n = 0; n < 7; n++) {
			size_t k = (first + n * 3) % 7;

			TEST_ASSERT(hash_del(h, &e[k].key) == &e[k]);
			e[k].in = false;
			TEST_ASSERT(matches(h, e, 7));
		}
		hash_free(h);
		h = NULL;
	}
out:
	hash_free(h);
	return err;
}

TEST(test_hash_iterate)
{
	struct entry *e = mem_alloc(1000 * sizeof(*e));
	unsigned char seen[1000] = {0};
	struct hash *h = NULL;
	size_t it = 0, n = 0;
	struct str key;
	void *val;
	int err = 0;

	TEST_ASSERT(e);
	entries_init(e, 1000, "agent-");
	TEST_ERR(hash_alloc(&h, 1000, HASH_ICASE));
	TEST_ASSERT(!hash_next(h, &it, &key, &val));

	for (size_t i = 0; i < 1000; i++)
		TEST_ERR(hash_put(h, &e[i].key, &e[i], NULL));
	for (size_t i = 0; i < 1000; i += 2)
		TEST_ASSERT(hash_del(h, &e[i].key) == &e[i]);

	it = 0;
	while (hash_next(h, &it, &key, &val)) {
		struct entry *x = val;
		size_t i = (size_t)(x - e);

		TEST_ASSERT(i < 1000 && i % 2 == 1);
		TEST_ASSERT(key.p == x->name && str_eq(&key, &x->key));
		TEST_EQUALS(0, seen[i]);
		seen[i] = 1;
		n++;
	}
	TEST_EQUALS(500, n);
	/* Finished stays finished. */
	TEST_ASSERT(!hash_next(h, &it, NULL, NULL));
out:
	hash_free(h);
	mem_free(e);
	return err;
}

static uint64_t allocs(void)
{
	struct mem_stats st;

	mem_stats_get(&st);
	return st.allocs;
}

/* The hint sizes the table for that many entries; it grows past 7/8 load. */
TEST(test_hash_hint_and_load)
{
	static const size_t hints[] = {0, 7, 14, 100, 1000};
	struct entry *e = mem_alloc(1001 * sizeof(*e));
	struct hash *h = NULL;
	int err = 0;

	TEST_ASSERT(e);
	entries_init(e, 1001, "h");
	for (size_t k = 0; k < sizeof(hints) / sizeof(hints[0]); k++) {
		uint64_t before;

		TEST_ERR(hash_alloc(&h, hints[k], 0));
		before = allocs();
		for (size_t i = 0; i < hints[k]; i++)
			TEST_ERR(hash_put(h, &e[i].key, &e[i], NULL));
		TEST_EQUALS(before, allocs());
		hash_free(h);
		h = NULL;
	}

	/* 8 slots hold 7 entries, 16 hold 14: the 8th and the 15th grow the table. */
	TEST_ERR(hash_alloc(&h, 7, 0));
	for (size_t i = 0; i < 15; i++) {
		uint64_t before = allocs();

		TEST_ERR(hash_put(h, &e[i].key, &e[i], NULL));
		e[i].in = true;
		TEST_EQUALS(i == 7 || i == 14 ? 1 : 0, allocs() - before);
	}
	TEST_ASSERT(matches(h, e, 1001));
out:
	hash_free(h);
	mem_free(e);
	return err;
}

/* Outside --oom only: there the runner owns the failure point. */
TEST(test_hash_put_enomem_keeps_map)
{
	struct entry e[8];
	struct hash *h = NULL;
	int err = 0, ret;

	if (test_oom_mode())
		goto out;
	entries_init(e, 8, "x");
	TEST_ERR(hash_alloc(&h, 0, 0));
	/* 7 keys fill 8 slots to the 7/8 mark: the 8th must grow the table. */
	for (size_t i = 0; i < 7; i++) {
		TEST_ERR(hash_put(h, &e[i].key, &e[i], NULL));
		e[i].in = true;
	}
	mem_fail_at(1);
	ret = hash_put(h, &e[7].key, &e[7], NULL);
	mem_fail_at(0);
	TEST_EQUALS(-ENOMEM, ret);
	TEST_ASSERT(matches(h, e, 8));

	/* Replacing needs no room, so it cannot fail. */
	mem_fail_at(1);
	ret = hash_put(h, &e[0].key, &e[0], NULL);
	mem_fail_at(0);
	TEST_ERR(ret);

	TEST_ERR(hash_put(h, &e[7].key, &e[7], NULL));
	e[7].in = true;
	TEST_ASSERT(matches(h, e, 8));
out:
	hash_free(h);
	return err;
}

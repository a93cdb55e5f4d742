/*
 * hash: open-addressing map (see hash.h). A slot is empty when its value is
 * NULL, which is why hash_put() refuses NULL values. Deletion shifts the rest
 * of the probe run back instead of leaving tombstones, so every run stays as
 * short as if the deleted key had never been inserted.
 */
#include <errno.h>
#include <stdint.h>

#include "base/hash.h"
#include "base/mem.h"

#define HASH_MIN_CAP 8u

struct hash_slot {
	struct str key; /* borrowed from the caller, see hash.h */
	void *val;	/* NULL: empty slot */
	uint32_t hash;
};

struct hash {
	struct hash_slot *slots;
	size_t mask; /* capacity - 1; capacity is a power of two */
	size_t count;
	unsigned flags;
};

/* Most entries a table of @cap slots holds before it grows (7/8 load). */
static size_t max_load(size_t cap)
{
	return cap - cap / 8;
}

static uint32_t key_hash(const struct hash *h, const struct str *key)
{
	return (h->flags & HASH_ICASE) ? str_hash_ci(key) : str_hash(key);
}

static bool key_eq(const struct hash *h, const struct hash_slot *s, const struct str *key,
		   uint32_t hv)
{
	if (s->hash != hv)
		return false;
	return (h->flags & HASH_ICASE) ? str_ieq(&s->key, key) : str_eq(&s->key, key);
}

/* The slot holding @key, or the empty slot that ends its probe run. */
static size_t find(const struct hash *h, const struct str *key, uint32_t hv)
{
	size_t i = hv & h->mask;

	while (h->slots[i].val && !key_eq(h, &h->slots[i], key, hv))
		i = (i + 1) & h->mask;
	return i;
}

static int alloc_slots(struct hash_slot **slotsp, size_t cap)
{
	if (cap > SIZE_MAX / sizeof(struct hash_slot))
		return -ENOMEM;
	*slotsp = mem_zalloc(cap * sizeof(struct hash_slot));
	return *slotsp ? 0 : -ENOMEM;
}

int hash_alloc(struct hash **hp, size_t hint, unsigned flags)
{
	size_t cap = HASH_MIN_CAP;
	struct hash *h;
	int err;

	while (max_load(cap) < hint) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	h = mem_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	err = alloc_slots(&h->slots, cap);
	if (err)
		goto out;
	h->mask = cap - 1;
	h->flags = flags;
out:
	if (err)
		mem_free(h);
	else
		*hp = h;
	return err;
}

void hash_free(struct hash *h)
{
	if (!h)
		return;
	mem_free(h->slots);
	mem_free(h);
}

/* Double the capacity; on failure the old table is untouched. */
static int grow(struct hash *h)
{
	size_t cap = h->mask + 1;
	struct hash_slot *old = h->slots;
	int err;

	if (cap > SIZE_MAX / 2)
		return -ENOMEM;
	err = alloc_slots(&h->slots, cap * 2);
	if (err) {
		h->slots = old;
		return err;
	}
	h->mask = cap * 2 - 1;
	/* Stored hashes: rehashing never reads a key. */
	for (size_t i = 0; i < cap; i++) {
		size_t j;

		if (!old[i].val)
			continue;
		j = old[i].hash & h->mask;
		while (h->slots[j].val)
			j = (j + 1) & h->mask;
		h->slots[j] = old[i];
	}
	mem_free(old);
	return 0;
}

int hash_put(struct hash *h, const struct str *key, void *val, void **oldp)
{
	uint32_t hv;
	void *old;
	size_t i;
	int err;

	if (!val)
		return -EINVAL;
	hv = key_hash(h, key);
	i = find(h, key, hv);
	old = h->slots[i].val;
	if (!old && h->count + 1 > max_load(h->mask + 1)) {
		err = grow(h);
		if (err)
			return err;
		i = find(h, key, hv);
	}
	/* A replaced entry takes the new key view: the old one may die with its value. */
	h->slots[i] = (struct hash_slot){*key, val, hv};
	if (!old)
		h->count++;
	if (oldp)
		*oldp = old;
	return 0;
}

void *hash_get(const struct hash *h, const struct str *key)
{
	return h->slots[find(h, key, key_hash(h, key))].val;
}

void *hash_del(struct hash *h, const struct str *key)
{
	size_t i = find(h, key, key_hash(h, key));
	void *val = h->slots[i].val;

	if (!val)
		return NULL;
	/*
	 * Backward shift: walk the run after the hole and pull back every entry
	 * whose home slot is not between the hole and itself, since a lookup for
	 * it would otherwise stop at the hole.
	 */
	for (size_t j = (i + 1) & h->mask; h->slots[j].val; j = (j + 1) & h->mask) {
		size_t home = h->slots[j].hash & h->mask;

		if (((j - home) & h->mask) >= ((j - i) & h->mask)) {
			h->slots[i] = h->slots[j];
			i = j;
		}
	}
	h->slots[i] = (struct hash_slot){STR_NULL, NULL, 0};
	h->count--;
	return val;
}

size_t hash_count(const struct hash *h)
{
	return h->count;
}

bool hash_next(const struct hash *h, size_t *it, struct str *key, void **val)
{
	for (size_t i = *it; i <= h->mask; i++) {
		if (!h->slots[i].val)
			continue;
		if (key)
			*key = h->slots[i].key;
		if (val)
			*val = h->slots[i].val;
		*it = i + 1;
		return true;
	}
	*it = h->mask + 1;
	return false;
}

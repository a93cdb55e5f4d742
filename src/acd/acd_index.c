/*
 * acd_index: the engine's indexes. An id map (64-bit keys, linear probing,
 * backward-shift deletion) finds queues, agents and tasks by the caller's ids;
 * two heaps per queue keep its available members in the strategy's order
 * (4-ary, ranks held in the entries) and its waiting tasks in
 * priority-then-arrival order (binary), each element remembering its index
 * so it can leave from the middle in O(log n).
 *
 * Not here: what the keys mean (acd_route.c sets them on insertion).
 */
#include <errno.h>
#include <string.h>

#include "acd/acd_internal.h"
#include "base/mem.h"

static size_t map_slot(uint64_t key, size_t mask)
{
	/* splitmix64 finaliser: caller ids are often dense or strided. */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & mask;
}

static int map_grow(struct acd_map *m, size_t cap)
{
	struct acd_map_slot *slots = mem_zalloc(cap * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->slots[i].val)
			continue;
		for (j = map_slot(m->slots[i].key, cap - 1); slots[j].val; j = (j + 1) & (cap - 1))
			;
		slots[j] = m->slots[i];
	}
	mem_free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

int acd_map_reserve(struct acd_map *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;

	/* At most 3/4 full keeps probe runs short. */
	while (n > cap / 4 * 3)
		cap *= 2;
	return cap == m->cap ? 0 : map_grow(m, cap);
}

int acd_map_put(struct acd_map *m, uint64_t key, void *val)
{
	size_t j;
	int err = acd_map_reserve(m, m->n + 1);

	if (err)
		return err;
	for (j = map_slot(key, m->cap - 1); m->slots[j].val; j = (j + 1) & (m->cap - 1)) {
		if (m->slots[j].key == key)
			return -EEXIST;
	}
	m->slots[j].key = key;
	m->slots[j].val = val;
	m->n++;
	return 0;
}

void *acd_map_get(const struct acd_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t j = map_slot(key, m->cap - 1); m->slots[j].val; j = (j + 1) & (m->cap - 1)) {
		if (m->slots[j].key == key)
			return m->slots[j].val;
	}
	return NULL;
}

void *acd_map_del(struct acd_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, j, i;
	void *val;

	if (!m->cap)
		return NULL;
	for (j = map_slot(key, mask); m->slots[j].val && m->slots[j].key != key; j = (j + 1) & mask)
		;
	val = m->slots[j].val;
	if (!val)
		return NULL;
	/* Backward shift: pull later entries of the run into the hole when
	 * their home slot is not between the hole and them. */
	for (i = j;;) {
		size_t home;

		i = (i + 1) & mask;
		if (!m->slots[i].val)
			break;
		home = map_slot(m->slots[i].key, mask);
		if (((i - home) & mask) >= ((i - j) & mask)) {
			m->slots[j] = m->slots[i];
			j = i;
		}
	}
	m->slots[j].val = NULL;
	m->n--;
	return val;
}

void acd_map_reset(struct acd_map *m)
{
	mem_free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* The heap code, once per element type: sift up and down keep ->hidx right. */
#define HEAP_FUNCS(name, type, before)                            \
	static void name##_set(type **h, uint32_t i, type *e)     \
	{                                                         \
		h[i] = e;                                         \
		e->hidx = i;                                      \
	}                                                         \
	static void name##_up(type **h, uint32_t i)               \
	{                                                         \
		type *e = h[i];                                   \
		while (i > 0) {                                   \
			uint32_t p = (i - 1) / 2;                 \
			if (!before(e, h[p]))                     \
				break;                            \
			name##_set(h, i, h[p]);                   \
			i = p;                                    \
		}                                                 \
		name##_set(h, i, e);                              \
	}                                                         \
	static void name##_down(type **h, uint32_t n, uint32_t i) \
	{                                                         \
		type *e = h[i];                                   \
		for (;;) {                                        \
			uint32_t c = 2 * i + 1;                   \
			if (c >= n)                               \
				break;                            \
			if (c + 1 < n && before(h[c + 1], h[c]))  \
				c++;                              \
			if (!before(h[c], e))                     \
				break;                            \
			name##_set(h, i, h[c]);                   \
			i = c;                                    \
		}                                                 \
		name##_set(h, i, e);                              \
	}                                                         \
	static void name##_del(type **h, uint32_t *n, type *e)    \
	{                                                         \
		uint32_t i = e->hidx;                             \
		type *last = h[--*n];                             \
		e->hidx = ACD_NOIDX;                              \
		if (last == e)                                    \
			return;                                   \
		name##_set(h, i, last);                           \
		if (i > 0 && before(last, h[(i - 1) / 2]))        \
			name##_up(h, i);                          \
		else                                              \
			name##_down(h, *n, i);                    \
	}

HEAP_FUNCS(theap, struct acd_task, acd_task_before)

static bool hent_before(const struct acd_hent *a, const struct acd_hent *b)
{
	if (a->penalty != b->penalty)
		return a->penalty < b->penalty;
	for (int i = 0; i < 2; i++) {
		if (a->key[i] != b->key[i])
			return a->key[i] < b->key[i];
	}
	return a->agent_id < b->agent_id;
}

/*
 * The member heap holds entries by value and is 4-ary: half the depth of a
 * binary heap, and a node's children share a cache line or two, which
 * matters more than the extra comparisons when the heaps are out of cache.
 * Only the order of entries matters to routing, never the heap's shape.
 */
#define MHEAP_D 4

static void mheap_set(struct acd_hent *h, uint32_t i, const struct acd_hent *e)
{
	h[i] = *e;
	e->m->hidx = i;
}

static void mheap_up(struct acd_hent *h, uint32_t i)
{
	struct acd_hent e = h[i];

	while (i > 0) {
		uint32_t p = (i - 1) / MHEAP_D;

		if (!hent_before(&e, &h[p]))
			break;
		mheap_set(h, i, &h[p]);
		i = p;
	}
	mheap_set(h, i, &e);
}

static void mheap_down(struct acd_hent *h, uint32_t n, uint32_t i)
{
	struct acd_hent e = h[i];

	for (;;) {
		uint32_t c = MHEAP_D * i + 1, end = c + MHEAP_D;

		if (c >= n)
			break;
		if (end > n)
			end = n;
		for (uint32_t k = c + 1; k < end; k++) {
			if (hent_before(&h[k], &h[c]))
				c = k;
		}
		if (!hent_before(&h[c], &e))
			break;
		mheap_set(h, i, &h[c]);
		i = c;
	}
	mheap_set(h, i, &e);
}

void acd_avail_push(struct acd_queue *q, struct acd_member *m)
{
	struct acd_hent *e = &q->avail[q->navail];

	/* Capacity is nmembers (acd_member_add), so this cannot overflow. */
	memcpy(e->key, m->key, sizeof(e->key));
	e->penalty = m->penalty;
	e->agent_id = m->agent->conf.id;
	e->m = m;
	m->hidx = q->navail;
	mheap_up(q->avail, q->navail++);
}

void acd_avail_remove(struct acd_queue *q, struct acd_member *m)
{
	struct acd_hent *h = q->avail;
	uint32_t i = m->hidx;

	if (i == ACD_NOIDX)
		return;
	m->hidx = ACD_NOIDX;
	if (i == --q->navail)
		return;
	mheap_set(h, i, &h[q->navail]);
	if (i > 0 && hent_before(&h[i], &h[(i - 1) / MHEAP_D]))
		mheap_up(h, i);
	else
		mheap_down(h, q->navail, i);
}

bool acd_task_before(const struct acd_task *a, const struct acd_task *b)
{
	if (a->conf.priority != b->conf.priority)
		return a->conf.priority > b->conf.priority;
	return a->seq < b->seq;
}

int acd_tasks_reserve(struct acd_queue *q, uint32_t n)
{
	struct acd_task **tasks;
	uint32_t cap;

	if (n <= q->tasks_cap)
		return 0;
	cap = q->tasks_cap ? q->tasks_cap * 2 : 8;
	while (cap < n)
		cap *= 2;
	tasks = mem_realloc(q->tasks, cap * sizeof(*tasks));
	if (!tasks)
		return -ENOMEM;
	q->tasks = tasks;
	q->tasks_cap = cap;
	return 0;
}

void acd_tasks_push(struct acd_queue *q, struct acd_task *t)
{
	q->tasks[q->ntasks] = t;
	t->hidx = q->ntasks;
	theap_up(q->tasks, q->ntasks++);
}

void acd_tasks_remove(struct acd_queue *q, struct acd_task *t)
{
	if (t->hidx != ACD_NOIDX)
		theap_del(q->tasks, &q->ntasks, t);
}

static uint32_t rank_from(const struct acd_queue *q, uint32_t i, const struct acd_task *t)
{
	uint32_t n = 0;

	/* A subtree whose root ranks after @t holds nothing before it. */
	while (i < q->ntasks && acd_task_before(q->tasks[i], t)) {
		n++;
		n += rank_from(q, 2 * i + 1, t);
		i = 2 * i + 2;
	}
	return n;
}

uint32_t acd_tasks_rank(const struct acd_queue *q, const struct acd_task *t)
{
	return rank_from(q, 0, t);
}

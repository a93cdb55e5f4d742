/*
 * acd_index: the engine's indexes. An id map (64-bit keys, linear probing,
 * backward-shift deletion) finds queues, agents and tasks by the caller's ids;
 * two binary heaps per queue keep its available members in the strategy's
 * order and its waiting tasks in priority-then-arrival order, each element
 * remembering its index so it can leave from the middle in O(log n).
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
	uint64_t *keys = mem_alloc(cap * sizeof(*keys));
	void **vals = mem_zalloc(cap * sizeof(*vals));

	if (!keys || !vals) {
		mem_free(keys);
		mem_free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->vals[i])
			continue;
		for (j = map_slot(m->keys[i], cap - 1); vals[j]; j = (j + 1) & (cap - 1))
			;
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	mem_free(m->keys);
	mem_free(m->vals);
	m->keys = keys;
	m->vals = vals;
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
	for (j = map_slot(key, m->cap - 1); m->vals[j]; j = (j + 1) & (m->cap - 1)) {
		if (m->keys[j] == key)
			return -EEXIST;
	}
	m->keys[j] = key;
	m->vals[j] = val;
	m->n++;
	return 0;
}

void *acd_map_get(const struct acd_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t j = map_slot(key, m->cap - 1); m->vals[j]; j = (j + 1) & (m->cap - 1)) {
		if (m->keys[j] == key)
			return m->vals[j];
	}
	return NULL;
}

void *acd_map_del(struct acd_map *m, uint64_t key)
{
	size_t mask = m->cap - 1, j, i;
	void *val;

	if (!m->cap)
		return NULL;
	for (j = map_slot(key, mask); m->vals[j] && m->keys[j] != key; j = (j + 1) & mask)
		;
	val = m->vals[j];
	if (!val)
		return NULL;
	/* Backward shift: pull later entries of the run into the hole when
	 * their home slot is not between the hole and them. */
	for (i = j;;) {
		size_t home;

		i = (i + 1) & mask;
		if (!m->vals[i])
			break;
		home = map_slot(m->keys[i], mask);
		if (((i - home) & mask) >= ((i - j) & mask)) {
			m->keys[j] = m->keys[i];
			m->vals[j] = m->vals[i];
			j = i;
		}
	}
	m->vals[j] = NULL;
	m->n--;
	return val;
}

void acd_map_reset(struct acd_map *m)
{
	mem_free(m->keys);
	mem_free(m->vals);
	memset(m, 0, sizeof(*m));
}

bool acd_member_before(const struct acd_member *a, const struct acd_member *b)
{
	if (a->penalty != b->penalty)
		return a->penalty < b->penalty;
	for (int i = 0; i < 3; i++) {
		if (a->key[i] != b->key[i])
			return a->key[i] < b->key[i];
	}
	return a->agent->conf.id < b->agent->conf.id;
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

HEAP_FUNCS(mheap, struct acd_member, acd_member_before)
HEAP_FUNCS(theap, struct acd_task, acd_task_before)

void acd_avail_push(struct acd_queue *q, struct acd_member *m)
{
	/* Capacity is nmembers (acd_member_add), so this cannot overflow. */
	q->avail[q->navail] = m;
	m->hidx = q->navail;
	mheap_up(q->avail, q->navail++);
}

void acd_avail_remove(struct acd_queue *q, struct acd_member *m)
{
	if (m->hidx != ACD_NOIDX)
		mheap_del(q->avail, &q->navail, m);
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

/*
 * acd_index: the engine's indexes. An id map (64-bit keys, linear probing,
 * backward-shift deletion) finds queues, agents and tasks by the caller's ids;
 * two heaps per queue keep its available members in the strategy's order
 * (4-ary, ranks held in the entries, lazy deletion: see below) and its
 * waiting tasks in priority-then-arrival order (binary, each task
 * remembering its index so it can leave from the middle in O(log n)).
 *
 * Also the memory the engine's objects live in: blocks on cache lines and
 * pools of them.
 *
 * Not here: what the keys mean (acd_route.c sets them on insertion).
 */
#include <errno.h>
#include <string.h>

#include "acd/acd_internal.h"
#include "base/mem.h"

void *acd_line_zalloc(size_t size)
{
	unsigned char *raw = mem_alloc(size + 64), *p;

	if (!raw)
		return NULL;
	/* mem_alloc() aligns to 16 at least, so the block starts 16 to 64
	 * bytes in: room for the pointer to free just before it. */
	p = raw + 64 - ((uintptr_t)raw & 63);
	memcpy(p - sizeof(raw), &raw, sizeof(raw));
	memset(p, 0, size);
	return p;
}

void acd_line_free(void *p)
{
	void *raw;

	if (!p)
		return;
	memcpy(&raw, (unsigned char *)p - sizeof(raw), sizeof(raw));
	mem_free(raw);
}

void acd_pool_init(struct acd_pool *p, size_t size, uint32_t per_chunk)
{
	memset(p, 0, sizeof(*p));
	p->size = (uint32_t)((size + 63) & ~(size_t)63);
	p->per_chunk = per_chunk;
}

void *acd_pool_zalloc(struct acd_pool *p)
{
	void *obj = p->free;

	if (!obj) {
		/* The chunk's first line links it to the others. */
		unsigned char *chunk = acd_line_zalloc(64 + (size_t)p->size * p->per_chunk);

		if (!chunk)
			return NULL;
		memcpy(chunk, &p->chunks, sizeof(p->chunks));
		p->chunks = chunk;
		/* Chained backwards, so the chunk is handed out in address order. */
		for (uint32_t i = p->per_chunk; i-- > 0;) {
			unsigned char *o = chunk + 64 + (size_t)i * p->size;

			memcpy(o, &p->free, sizeof(p->free));
			p->free = o;
		}
		obj = p->free;
	}
	memcpy(&p->free, obj, sizeof(p->free));
	memset(obj, 0, p->size);
	return obj;
}

void acd_pool_free(struct acd_pool *p, void *obj)
{
	memcpy(obj, &p->free, sizeof(p->free));
	p->free = obj;
}

void acd_pool_reset(struct acd_pool *p)
{
	while (p->chunks) {
		void *chunk = p->chunks;

		memcpy(&p->chunks, chunk, sizeof(p->chunks));
		acd_line_free(chunk);
	}
	p->free = NULL;
}

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

void acd_map_prefetch(const struct acd_map *m, uint64_t key)
{
	if (m->cap)
		__builtin_prefetch(&m->slots[map_slot(key, m->cap - 1)]);
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
 *
 * Deletion is lazy. An entry is live while q->live[slot] holds its
 * generation; a member leaving the heap only clears that word, and its
 * entry, now dead, is dropped when it reaches the top or when the heap is
 * compacted. An agent taking a task leaves every queue it is in, so eager
 * deletion would sift the heaps of all its other queues on every decision
 * (a dozen cache misses each at 50,000 agents); this way those queues see
 * one write. Nothing points into the heap, so sifting writes nothing else.
 * Only the order of live entries matters to routing, never the heap's shape.
 */
#define MHEAP_D	 4
/*
 * The heap array starts HEAP_PAD entries into a cache-line-aligned block:
 * the children of node i, entries 4i+1 to 4i+4, then sit at bytes
 * 128(i+1) to 128(i+2) of the block, two whole cache lines instead of
 * parts of three.
 */
#define HEAP_PAD (MHEAP_D - 1)

int acd_avail_reserve(struct acd_queue *q, uint32_t cap)
{
	struct acd_hent *block, *avail;

	if (cap <= q->heap_cap)
		return 0;
	/* Geometrically, or adding members one by one would copy the heap
	 * each time; by a quarter, since most of it is never touched. */
	if (cap < q->heap_cap + q->heap_cap / 4)
		cap = q->heap_cap + q->heap_cap / 4;
	block = acd_line_zalloc((cap + HEAP_PAD) * sizeof(*block));
	if (!block)
		return -ENOMEM;
	avail = block + HEAP_PAD;
	if (q->avail)
		memcpy(avail, q->avail, (q->nheap + q->nstash) * sizeof(*avail));
	acd_avail_free(q);
	q->avail = avail;
	q->heap_cap = cap;
	return 0;
}

void acd_avail_free(struct acd_queue *q)
{
	if (q->avail)
		acd_line_free(q->avail - HEAP_PAD);
}

static bool hent_live(const struct acd_queue *q, const struct acd_hent *e)
{
	return q->live[e->slot] == e->gen;
}

static void mheap_up(struct acd_hent *h, uint32_t i)
{
	struct acd_hent e = h[i];

	while (i > 0) {
		uint32_t p = (i - 1) / MHEAP_D;

		if (!hent_before(&e, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = e;
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
		h[i] = h[c];
		i = c;
	}
	h[i] = e;
}

/* Take the top out; the slot freed at the end goes to the stash (see
 * acd_avail_pop()), which keeps it right after the heap. */
static void mheap_take_top(struct acd_queue *q)
{
	struct acd_hent *h = q->avail;

	q->nheap--;
	h[0] = h[q->nheap];
	mheap_down(h, q->nheap, 0);
	if (q->nstash)
		h[q->nheap] = h[q->nheap + q->nstash];
}

/* Drop the dead entries and rebuild the heap from the live ones (Floyd). */
static void mheap_compact(struct acd_queue *q)
{
	struct acd_hent *h = q->avail;
	uint32_t n = 0;

	for (uint32_t i = 0; i < q->nheap; i++) {
		if (hent_live(q, &h[i]))
			h[n++] = h[i];
	}
	q->nheap = n;
	for (uint32_t i = n / MHEAP_D + 1; i-- > 0;)
		mheap_down(h, n, i);
}

void acd_avail_push(struct acd_queue *q, struct acd_hent *e)
{
	/*
	 * Compacting when dead entries outnumber live ones keeps the heap
	 * shallow and bounds it: fewer than 2 * navail + 8 entries before the
	 * push, navail < nmembers, so heap_cap (2 * members + 8, the most
	 * there ever were) always leaves room. Each compaction removes at
	 * least as many dead entries as it keeps live ones: amortised O(1)
	 * per push.
	 */
	if (q->nheap >= 2 * q->navail + 8)
		mheap_compact(q);
	if (q->gen == UINT32_MAX) {
		/* Generations must stay unique in the heap: after 2^32 pushes,
		 * number the live entries afresh (all of them, once compacted). */
		mheap_compact(q);
		q->gen = 0;
		for (uint32_t i = 0; i < q->nheap; i++) {
			q->avail[i].gen = ++q->gen;
			q->live[q->avail[i].slot] = q->gen;
		}
	}
	e->gen = ++q->gen;
	q->live[e->slot] = e->gen;
	q->navail++;
	q->avail[q->nheap] = *e;
	mheap_up(q->avail, q->nheap++);
}

void acd_avail_remove(struct acd_queue *q, uint32_t slot)
{
	if (!q->live[slot])
		return;
	q->live[slot] = 0;
	q->navail--;
}

const struct acd_hent *acd_avail_top(struct acd_queue *q)
{
	while (q->nheap) {
		if (hent_live(q, &q->avail[0]))
			return &q->avail[0];
		mheap_take_top(q);
	}
	return NULL;
}

void acd_avail_pop(struct acd_queue *q)
{
	struct acd_hent top = q->avail[0];

	mheap_take_top(q);
	q->avail[q->nheap + q->nstash++] = top;
}

void acd_avail_unpop(struct acd_queue *q)
{
	for (; q->nstash; q->nstash--)
		mheap_up(q->avail, q->nheap++);
}

void acd_avail_move(struct acd_queue *q, uint32_t from, uint32_t to)
{
	for (uint32_t i = 0; i < q->nheap; i++) {
		if (q->avail[i].slot == from)
			q->avail[i].slot = to;
	}
	q->live[to] = q->live[from];
	q->live[from] = 0;
}

bool acd_task_before(const struct acd_task *a, const struct acd_task *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
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

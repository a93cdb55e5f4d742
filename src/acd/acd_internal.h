/*
 * acd_internal: the engine's structures, shared by the .c files of src/acd/
 * only. acd.c holds configuration (engine, queues, agents, members),
 * acd_index.c the id map, the two heaps and the pools, acd_route.c the
 * events and the routing itself.
 *
 * Layout: at 50,000 agents every object a decision touches is a cache miss,
 * so the structures are cut by who reads them. A membership lives twice: in
 * the agent's array (struct acd_amem: enough to decide, from the agent alone,
 * whether it belongs in the queue's heap) and in the queue's array (struct
 * acd_qmem: the heap's back index and the per-queue counters), each side
 * holding the other's index. Heap entries carry their sort keys and the
 * queue-side index, so sifting reads only the queue's own arrays. Hot fields
 * come first in each struct; what only configuration reads comes last.
 *
 * Footprint: at 50,000 agents the working set has to fit the last-level
 * cache, so what a decision never reads is kept off the objects it does
 * (task timers, agent configuration), memberships name their queue by a
 * 4-byte index, and tasks and agents come from the engine's pools rather
 * than one malloc each.
 */
#ifndef ACD_INTERNAL_H
#define ACD_INTERNAL_H

#include "acd/acd.h"
#include "base/list.h"
#include "base/timer.h"

#define ACD_NOIDX	 UINT32_MAX
/* Memberships held inside the agent itself; more spill to an array. Agents
 * sit in a few queues: the common case costs no pointer to chase. */
#define ACD_AGENT_INLINE 4
/* Skill levels held inside the agent; more spill to an array. */
#define ACD_AGENT_LEVELS 8

/* Open addressing map from 64-bit ids to pointers (NULL values not allowed).
 * Key and value share a slot, so a lookup touches one cache line, not two. */
struct acd_map_slot {
	uint64_t key;
	void *val; /* NULL: empty slot */
};

struct acd_map {
	struct acd_map_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t n;
};

/*
 * Zeroed memory starting on a cache line, for the objects whose first line
 * holds what every decision reads (base/mem.h aligns to 16 bytes only, so a
 * 64-byte hot part would straddle two lines three times in four). Free with
 * acd_line_free(); NULL is fine there.
 */
void *acd_line_zalloc(size_t size);
void acd_line_free(void *p);

int acd_map_reserve(struct acd_map *m, size_t n);
/* Insert a new key; -ENOMEM only when no reserve was made. */
int acd_map_put(struct acd_map *m, uint64_t key, void *val);
void *acd_map_get(const struct acd_map *m, uint64_t key);
void *acd_map_del(struct acd_map *m, uint64_t key);
/* Ask for the cache line where @key's search starts. */
void acd_map_prefetch(const struct acd_map *m, uint64_t key);
void acd_map_reset(struct acd_map *m);

/*
 * Objects of one size on cache lines, carved from chunks of @per_chunk and
 * recycled last in, first out: the object freed last (and still in cache)
 * is the next one handed out, and no object pays malloc's header and the
 * padding of acd_line_zalloc(). Chunks go back to malloc only with the
 * engine.
 */
struct acd_pool {
	void *free;    /* free objects, chained through their first word */
	void *chunks;  /* chained through their first word */
	uint32_t size; /* a multiple of 64 */
	uint32_t per_chunk;
};

void acd_pool_init(struct acd_pool *p, size_t size, uint32_t per_chunk);
/* A zeroed object, or NULL (-ENOMEM). */
void *acd_pool_zalloc(struct acd_pool *p);
void acd_pool_free(struct acd_pool *p, void *obj);
/* Free every chunk, the objects in use included. */
void acd_pool_reset(struct acd_pool *p);

/* A membership as its agent sees it (in agent->mem): 16 bytes, so that
 * four sit in the cache line after the agent's hot one. Fixed at joining
 * but for @slot, which follows the queue's array, and @in_heap. */
struct acd_amem {
	uint32_t qi;	    /* the queue: acd->qtab[qi] */
	uint32_t slot;	    /* index in q->mem */
	uint32_t penalty;   /* BULLSEYE: tier */
	uint16_t skill_sum; /* the agent's levels in the queue's skills: BEST_SKILL */
	uint8_t channel;    /* q->channel */
	bool eligible : 1;  /* the agent has the queue's skills */
	bool in_heap : 1;   /* live in q->avail (mirrors q->live[slot] != 0) */
};

/* A membership as its queue sees it (in q->mem). */
struct acd_qmem {
	struct acd_agent *agent;
	uint32_t aslot; /* index in agent->mem */
	uint32_t pos;	/* order of joining the queue: LINEAR, RR_MEMORY */
	/* FEWEST_CALLS: answered tasks of this queue; LEAST_TALK: their talk
	 * time (ms). Other strategies neither count nor read it, which spares
	 * answers and ends a cache miss on this array. */
	uint64_t metric;
};

/*
 * An entry of a queue's member heap: the member's rank and who it is, so
 * sifting compares entries without touching agents (at 50,000 agents those
 * are cache misses). Fixed while in the heap.
 */
struct acd_hent {
	uint64_t key[2];   /* strategy key, smaller first (hent_make()) */
	uint32_t penalty;  /* amem->penalty */
	uint32_t agent_id; /* the last tie-break */
	uint32_t slot;	   /* index in q->mem */
	uint32_t gen;	   /* live while q->live[slot] == gen (acd_index.c) */
};

/* Allocated on a cache line (acd_line_zalloc()). */
struct acd_queue {
	/* Read by every heap operation and dispatch: the first cache line. */
	struct acd_hent *avail;	 /* heap, live and dead entries: heap_cap (acd_avail_reserve()) */
	uint32_t *live;		 /* by member slot: generation of its live entry, or 0 */
	struct acd_qmem *mem;	 /* members, dense, in no particular order */
	struct acd_task **tasks; /* heap of waiting tasks */
	uint32_t navail;	 /* live entries: available eligible members */
	uint32_t nheap, nstash;	 /* entries in the heap; popped ones kept after it */
	uint32_t gen;		 /* last generation given to an entry */
	uint32_t ntasks;
	uint32_t nalive; /* waiting + ringing: max_len, and the task heap's reserve */
	uint32_t nlogged;
	uint8_t strategy; /* conf.strategy */
	/* What arrivals, answers and ends read next, with the configuration
	 * they need copied from conf: the second line. */
	uint32_t id;	    /* conf.id */
	uint32_t tasks_cap; /* of the task heap */
	uint32_t nringing;
	uint32_t nconn;		/* connected tasks still pointing at the queue */
	uint64_t avg_handle_ms; /* moving average of talk + wrap-up: announcements */
	uint32_t max_len, max_wait_s, announce_s, sl_s, wrapup_s, ring_timeout_s; /* conf */
	uint8_t channel;							  /* conf.channel */
	bool join_empty; /* conf.join_empty */
	/* Counters for acd_queue_stats(): an end reads nothing past here. */
	uint64_t completed;
	/* The third line. */
	uint64_t entered, answered, answered_in_sl, abandoned, exited;
	uint32_t rr_last;  /* RR_MEMORY: pos of the last member offered */
	uint64_t rr_epoch; /* RR_MEMORY: see hent_make() */
	/* Configuration, and what only rare events read. */
	struct acd_queue_conf conf;
	uint32_t nmembers, mem_cap, heap_cap, next_pos;
	uint32_t qi; /* index in acd->qtab */
	struct acd *acd;
};

enum acd_task_state {
	ACD_TASK_WAITING = 0,
	ACD_TASK_RINGING,
	ACD_TASK_CONNECTED,
};

/* A task's timers, needed only while it waits or rings: taken from
 * acd->timer_pool on arrival and given back on the answer, so that the
 * connected tasks (most of them, at 50,000 agents) do not carry four idle
 * timers each. */
struct acd_task_timers {
	struct timer ring_tmr, wait_tmr, ann_tmr, tier_tmr;
};

/* Two cache lines, from acd->task_pool. */
struct acd_task {
	/* What answering and ending read: the first cache line. */
	uint64_t id;
	struct acd_queue *q;
	struct acd_agent *agent;    /* connected */
	struct acd_task_timers *tm; /* waiting or ringing; NULL once connected */
	uint64_t q_arrival;	    /* ms, into the current queue (tiers, max wait) */
	uint64_t ring_start, connect_at;
	uint8_t state;	 /* enum acd_task_state */
	uint8_t channel; /* conf.channel */
	bool expired;	 /* max wait passed while ringing: exits when back */
	uint8_t hops;	 /* overflows so far (<= 8) */
	uint32_t hidx;	 /* index in q->tasks, or ACD_NOIDX */
	/* Ordering in the task heap and routing. */
	struct acd_agent *offers; /* ringing: chain through agent->offer_next */
	uint64_t seq;		  /* arrival order, kept across a ring-no-answer: its place */
	uint64_t arrival;	  /* ms, into the first queue */
	struct acd_task *stash;
	int32_t priority; /* conf.priority */
	uint8_t nskills;  /* conf.nskills */
	struct acd_skill_req skills[ACD_TASK_SKILLS];
};

/* Three cache lines, from acd->agent_pool. */
struct acd_agent {
	/* Read by every state change (acd_agent_sync()): one cache line, then
	 * the inline memberships in the next. */
	struct acd_task *offer;	      /* ringing task, or NULL */
	struct acd_agent *offer_next; /* chain of the agents offered one task */
	struct acd_amem *mem;	      /* memberships: inl, or an allocated array */
	uint64_t idle_since;
	uint32_t id; /* conf.id */
	uint32_t nmem, mem_cap;
	uint16_t ntasks;
	uint8_t load[ACD_CHAN_COUNT];	  /* connected tasks per channel */
	uint8_t capacity[ACD_CHAN_COUNT]; /* conf.capacity, as corrected by agent_add */
	bool logged_in;
	bool not_ready;
	bool wrapup;
	uint8_t last_state;   /* enum acd_agent_state reported in ACD_EV_AGENT_STATE */
	uint32_t reason;      /* not ready */
	uint32_t last_reason; /* reported with last_state */
	struct acd_amem inl[ACD_AGENT_INLINE];
	/* The rest: task skills, wrap-up, configuration. */
	struct acd *acd;
	/* Skill levels, compact: the skills held (bit s: skill s) and their
	 * levels in skill order, inline when they fit (most agents have a
	 * handful), else in an allocated array. */
	uint64_t skills;
	union {
		uint8_t inl[ACD_AGENT_LEVELS];
		uint8_t *arr;
	} levels;
	struct timer wrap_tmr;
};

struct acd {
	struct acd_conf conf;
	struct timer_wheel *tw;
	struct acd_map queues, agents, tasks;
	/* Queues by index: memberships name their queue in 4 bytes. */
	struct acd_queue **qtab;
	uint32_t nqtab, qtab_cap, qtab_free; /* free: NULL entries below nqtab */
	struct acd_pool task_pool, timer_pool, agent_pool;
	uint64_t rng;
	uint64_t seq;
};

static inline struct acd_queue *acd_amem_queue(const struct acd *acd, const struct acd_amem *am)
{
	return acd->qtab[am->qi];
}

/* @a's level in @skill, 0 when it lacks it. */
static inline unsigned acd_agent_level(const struct acd_agent *a, unsigned skill)
{
	uint64_t bit = 1ULL << skill;
	unsigned i;

	if (!(a->skills & bit))
		return 0;
	i = (unsigned)__builtin_popcountll(a->skills & (bit - 1));
	return __builtin_popcountll(a->skills) <= ACD_AGENT_LEVELS ? a->levels.inl[i]
								   : a->levels.arr[i];
}

/* Member heaps (acd_index.c). The array grows to @cap entries (only with
 * the heap's stash empty); acd_avail_free() frees it. */
int acd_avail_reserve(struct acd_queue *q, uint32_t cap);
void acd_avail_free(struct acd_queue *q);
/* Push makes @e (gen set here) the member's live
 * entry; remove makes it dead. Neither allocates. */
void acd_avail_push(struct acd_queue *q, struct acd_hent *e);
void acd_avail_remove(struct acd_queue *q, uint32_t slot);
/* The best live entry, or NULL; drops the dead ones above it. */
const struct acd_hent *acd_avail_top(struct acd_queue *q);
/* Set the (live) top aside, its member still live, for acd_avail_unpop()
 * to put back; nothing else may change the heap in between. */
void acd_avail_pop(struct acd_queue *q);
void acd_avail_unpop(struct acd_queue *q);
/* The member at slot @from now is at slot @to (configuration). */
void acd_avail_move(struct acd_queue *q, uint32_t from, uint32_t to);
bool acd_task_before(const struct acd_task *a, const struct acd_task *b);
int acd_tasks_reserve(struct acd_queue *q, uint32_t n);
void acd_tasks_push(struct acd_queue *q, struct acd_task *t);
void acd_tasks_remove(struct acd_queue *q, struct acd_task *t);
/* Tasks ranked before @t in its queue's heap (walks only those). */
uint32_t acd_tasks_rank(const struct acd_queue *q, const struct acd_task *t);

/* Configuration (acd.c), used by routing. The agent's membership in @q, or
 * NULL. Agents are in few queues and their array is next to them: a scan
 * costs less than any index would. */
struct acd_amem *acd_amem_find(struct acd_agent *a, const struct acd_queue *q);

/* Routing (acd_route.c), used by configuration changes. */
enum acd_agent_state acd_agent_state_of(const struct acd_agent *a);
void acd_agent_sync(struct acd *acd, struct acd_agent *a, bool dispatch);
bool acd_agent_meets(const struct acd_agent *a, const struct acd_skill_req *req, unsigned n);
void acd_queue_dispatch(struct acd *acd, struct acd_queue *q);
void acd_task_destroy(struct acd *acd, struct acd_task *t);

#endif

/*
 * acd_internal: the engine's structures, shared by the .c files of src/acd/
 * only. acd.c holds configuration (engine, queues, agents, members),
 * acd_index.c the id map and the two heaps, acd_route.c the events and the
 * routing itself.
 */
#ifndef ACD_INTERNAL_H
#define ACD_INTERNAL_H

#include "acd/acd.h"
#include "base/list.h"
#include "base/timer.h"

#define ACD_NOIDX UINT32_MAX

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

int acd_map_reserve(struct acd_map *m, size_t n);
/* Insert a new key; -ENOMEM only when no reserve was made. */
int acd_map_put(struct acd_map *m, uint64_t key, void *val);
void *acd_map_get(const struct acd_map *m, uint64_t key);
void *acd_map_del(struct acd_map *m, uint64_t key);
void acd_map_reset(struct acd_map *m);

/* A member: one agent in one queue. The fields acd_agent_sync() reads on
 * every state change come first, to share a cache line. */
struct acd_member {
	struct list_elem agent_le; /* agent->members */
	struct acd_agent *agent;
	struct acd_queue *q;
	uint32_t hidx;		       /* index in q->avail, or ACD_NOIDX */
	bool eligible;		       /* the agent has the queue's skills */
	uint32_t penalty;	       /* BULLSEYE: tier */
	uint32_t pos;		       /* order of joining the queue: LINEAR, RR_MEMORY */
	uint64_t key[2];	       /* rank in q->avail, smaller first; set on insertion */
	uint64_t calls;		       /* answered tasks of this queue */
	uint64_t talk_ms;	       /* their talk time */
	struct list_elem queue_le;     /* q->members */
	struct acd_member *stash;      /* scratch chain while searching the heap */
	struct acd_member *offer_next; /* ring all: chain of the members offered one task */
};

/*
 * An entry of a queue's member heap: the member's rank copied next to its
 * pointer, so sifting compares entries without touching members or agents
 * (at 50,000 agents those are cache misses). Fixed while in the heap.
 */
struct acd_hent {
	uint64_t key[2];   /* m->key */
	uint32_t penalty;  /* m->penalty */
	uint32_t agent_id; /* m->agent->conf.id: the last tie-break */
	struct acd_member *m;
};

struct acd_queue {
	struct acd_queue_conf conf;
	struct acd *acd;
	struct list members;
	uint32_t nmembers, nlogged, next_pos;
	struct acd_hent *avail; /* heap; capacity = nmembers, so pushes never allocate */
	uint32_t navail;
	struct acd_task **tasks; /* heap of waiting tasks */
	uint32_t ntasks, tasks_cap;
	uint32_t nringing;
	uint32_t nalive;	/* waiting + ringing: max_len, and the task heap's reserve */
	uint32_t nconn;		/* connected tasks still pointing at the queue */
	uint32_t rr_last;	/* RR_MEMORY: pos of the last member offered */
	uint64_t rr_epoch;	/* RR_MEMORY: see key_set() */
	uint64_t avg_handle_ms; /* moving average of talk + wrap-up: announcements */
	struct acd_queue_stats st;
};

enum acd_task_state {
	ACD_TASK_WAITING = 0,
	ACD_TASK_RINGING,
	ACD_TASK_CONNECTED,
};

struct acd_task {
	uint64_t id;
	struct acd_task_conf conf;
	struct acd_queue *q;
	enum acd_task_state state;
	uint64_t seq;	    /* arrival order, kept across a ring-no-answer: its place */
	uint64_t arrival;   /* ms, into the first queue */
	uint64_t q_arrival; /* ms, into the current queue (tiers, max wait) */
	uint64_t ring_start, connect_at;
	uint32_t hidx;		   /* index in q->tasks, or ACD_NOIDX */
	bool expired;		   /* max wait passed while ringing: exits when back */
	unsigned hops;		   /* overflows so far */
	struct acd_member *offers; /* ringing: chain through offer_next */
	struct acd_agent *agent;   /* connected */
	struct acd_member *member; /* connected: agent's member of q, or NULL (removed) */
	struct acd_task *stash;
	struct timer ring_tmr, wait_tmr, ann_tmr, tier_tmr;
};

struct acd_agent {
	struct acd_agent_conf conf;
	struct acd *acd;
	struct list members;
	bool logged_in;
	bool not_ready;
	uint32_t reason;
	bool wrapup;
	struct acd_task *offer;	       /* ringing task, or NULL */
	uint32_t load[ACD_CHAN_COUNT]; /* connected tasks per channel */
	uint32_t ntasks;
	uint64_t idle_since;
	enum acd_agent_state last_state; /* reported in ACD_EV_AGENT_STATE */
	uint32_t last_reason;
	struct timer wrap_tmr;
};

struct acd {
	struct acd_conf conf;
	struct timer_wheel *tw;
	struct acd_map queues, agents, tasks;
	uint64_t rng;
	uint64_t seq;
};

/* Heaps (acd_index.c). */
void acd_avail_push(struct acd_queue *q, struct acd_member *m);
void acd_avail_remove(struct acd_queue *q, struct acd_member *m);
bool acd_task_before(const struct acd_task *a, const struct acd_task *b);
int acd_tasks_reserve(struct acd_queue *q, uint32_t n);
void acd_tasks_push(struct acd_queue *q, struct acd_task *t);
void acd_tasks_remove(struct acd_queue *q, struct acd_task *t);
/* Tasks ranked before @t in its queue's heap (walks only those). */
uint32_t acd_tasks_rank(const struct acd_queue *q, const struct acd_task *t);

/* Routing (acd_route.c), used by configuration changes. */
enum acd_agent_state acd_agent_state_of(const struct acd_agent *a);
void acd_agent_sync(struct acd *acd, struct acd_agent *a, bool dispatch);
bool acd_agent_meets(const struct acd_agent *a, const struct acd_skill_req *req, unsigned n);
void acd_queue_dispatch(struct acd *acd, struct acd_queue *q);
void acd_task_destroy(struct acd *acd, struct acd_task *t);

#endif

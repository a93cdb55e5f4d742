/*
 * acd: the routing engine of the contact center (automatic call distribution).
 *
 * One engine holds one tenant's queues, agents and waiting tasks (a tenant is
 * an engine: nothing is shared between engines). It does no I/O and keeps no
 * clock: the owner tells it what happened (a task arrived, an agent became
 * ready, an offer was answered, the time is now T) and it answers through the
 * decision callback with what to do (offer this task to this agent, cancel
 * that offer, take the task out of the queue, announce the position) and with
 * the log events a queue_log writer turns into lines. The same events in the
 * same order give the same decisions: randomness comes from a PRNG seeded by
 * the configuration. Strategies and rules are defined in docs/ACD.md.
 *
 * Routing cost: each queue keeps a heap of its available, eligible members
 * ordered by the strategy's rank, and a heap of its waiting tasks ordered by
 * priority then arrival. A decision pops both tops; an agent changing state
 * touches only the queues it is a member of. Nothing scans all agents.
 *
 * Ids are the caller's numbers (queue, agent: 32 bits; task: 64 bits), unique
 * within an engine. Times are milliseconds of a monotonic clock that never
 * goes back (an earlier time is taken as the latest seen).
 *
 * Ownership: the engine copies every configuration it is given; nothing the
 * caller passes is borrowed after a call returns. Threads: an engine belongs
 * to one thread; nothing here locks. WARNING: the decision callback runs
 * inside the engine's calls and must not call into the same engine; queue its
 * decisions and act on them after the call returns.
 *
 * Errors: 0 or -errno: -EINVAL bad arguments, -ENOENT unknown id, -EEXIST id
 * already used, -EBUSY the object is in a state that forbids the change (an
 * agent on a task logging out), -ENOMEM (the engine is unchanged).
 */
#ifndef ACD_ACD_H
#define ACD_ACD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACD_SKILLS_MAX	 64  /* skill ids 0..63 */
#define ACD_QUEUE_SKILLS 8   /* requirements per queue */
#define ACD_TASK_SKILLS	 4   /* extra requirements per task */
#define ACD_LEVEL_MAX	 100 /* skill levels 1..100; 0 = no skill */
#define ACD_TIER_MAX	 15  /* bullseye tiers 0..15 */

struct acd;

enum acd_strategy {
	ACD_STRAT_LONGEST_IDLE = 0,
	ACD_STRAT_RR_MEMORY,
	ACD_STRAT_FEWEST_CALLS,
	ACD_STRAT_LEAST_TALK,
	ACD_STRAT_RING_ALL,
	ACD_STRAT_LINEAR,
	ACD_STRAT_RANDOM,
	ACD_STRAT_BEST_SKILL,
	ACD_STRAT_BULLSEYE,
};

enum acd_channel {
	ACD_CHAN_VOICE = 0,
	ACD_CHAN_CHAT,
	ACD_CHAN_MESSAGE,
	ACD_CHAN_COUNT,
};

enum acd_exit_kind {
	ACD_EXIT_HANGUP = 0, /* default: the owner ends the call */
	ACD_EXIT_QUEUE,	     /* the engine moves the task into queue @id */
	ACD_EXIT_USER,	     /* the owner transfers the task to user @id */
};

struct acd_exit {
	enum acd_exit_kind kind;
	uint32_t id;
};

struct acd_skill_req {
	uint8_t skill;	   /* < ACD_SKILLS_MAX */
	uint8_t min_level; /* 1..ACD_LEVEL_MAX */
};

enum acd_dec_type {
	/* Decisions: the owner must act on these. */
	ACD_DEC_OFFER = 0, /* ring @agent with @task (ring all: one OFFER per agent) */
	ACD_DEC_CANCEL,	   /* stop ringing @agent for @task */
	ACD_DEC_EXIT,	   /* @task left @queue: u.exit says why and where to */
	ACD_DEC_ANNOUNCE,  /* tell @task its place: u.announce */
	/* Log events (queue_log): nothing to do but record them. */
	ACD_EV_ENTER,	     /* ENTERQUEUE */
	ACD_EV_CONNECT,	     /* CONNECT: u.times.wait_ms */
	ACD_EV_ABANDON,	     /* ABANDON: u.times.wait_ms */
	ACD_EV_RINGNOANSWER, /* RINGNOANSWER (or rejected): u.times.ring_ms */
	ACD_EV_COMPLETE,     /* COMPLETEAGENT: u.times.wait_ms, talk_ms */
	ACD_EV_AGENT_STATE,  /* @agent's state changed: u.agent */
};

enum acd_exit_reason {
	ACD_EXITR_TIMEOUT = 0, /* waited max_wait */
	ACD_EXITR_FULL,	       /* queue at max_len on arrival */
	ACD_EXITR_EMPTY,       /* no logged-in member on arrival (join_empty false) */
	ACD_EXITR_LOOP,	       /* overflow chain longer than 8 queues, or no memory to move */
};

enum acd_agent_state {
	ACD_AGENT_LOGGED_OUT = 0,
	ACD_AGENT_AVAILABLE,
	ACD_AGENT_NOT_READY,
	ACD_AGENT_RESERVED, /* an offer is ringing */
	ACD_AGENT_ON_TASK,
	ACD_AGENT_WRAP_UP,
};

/* Not-ready reason codes: the caller's numbers, but 1 is the engine's. */
#define ACD_NR_MISSED 1 /* the agent rejected or did not answer an offer */

struct acd_decision {
	enum acd_dec_type type;
	uint64_t now;	/* when it happened (ms) */
	uint64_t task;	/* 0 for ACD_EV_AGENT_STATE */
	uint32_t queue; /* the task's queue (0 for ACD_EV_AGENT_STATE) */
	uint32_t agent; /* OFFER, CANCEL, CONNECT, RINGNOANSWER, COMPLETE, AGENT_STATE */
	union {
		struct {
			enum acd_exit_reason reason;
			struct acd_exit to;
		} exit;
		struct {
			uint32_t position; /* 1 = next to be served */
			uint32_t ewt_s;	   /* estimated wait, seconds */
		} announce;
		struct {
			uint64_t wait_ms, talk_ms, ring_ms;
		} times;
		struct {
			enum acd_agent_state state;
			uint32_t reason; /* NOT_READY */
		} agent;
	} u;
};

/* Called for every decision and log event, in order. Must not re-enter the engine. */
typedef void(acd_decision_h)(const struct acd_decision *d, void *arg);

struct acd_conf {
	uint64_t now;  /* the clock at creation (ms) */
	uint64_t seed; /* seeds the PRNG of ACD_STRAT_RANDOM */
	acd_decision_h *h;
	void *arg;
};

struct acd_queue_conf {
	uint32_t id; /* != 0 */
	enum acd_strategy strategy;
	enum acd_channel channel; /* tasks of this queue are on this channel */
	int32_t priority;	  /* higher first, for agents in several queues */
	struct acd_skill_req skills[ACD_QUEUE_SKILLS];
	unsigned nskills;
	uint32_t wrapup_s;	 /* agent rest after a task of this queue */
	uint32_t ring_timeout_s; /* an offer unanswered this long is a ring-no-answer; 0: 15 */
	uint32_t max_wait_s;	 /* 0: no limit */
	uint32_t max_len;	 /* waiting + ringing tasks; 0: no limit */
	bool join_empty;	 /* accept tasks when no member is logged in */
	struct acd_exit exit;	 /* where timeout/full/empty tasks go */
	uint32_t announce_s;	 /* 0: no announcements */
	uint32_t sl_s;		 /* service-level threshold */
	uint32_t tier_wait_s;	 /* BULLSEYE: one more tier joins every tier_wait_s; 0: 30 */
};

struct acd_agent_conf {
	uint32_t id;			  /* != 0 */
	uint8_t levels[ACD_SKILLS_MAX];	  /* 0 = no skill, else 1..ACD_LEVEL_MAX */
	uint8_t capacity[ACD_CHAN_COUNT]; /* concurrent tasks; all 0 means voice 1 */
};

struct acd_queue_stats {
	uint32_t waiting;  /* in the queue, not ringing */
	uint32_t ringing;  /* offered, not answered */
	uint32_t members;  /* members */
	uint32_t logged;   /* logged-in members */
	uint32_t avail;	   /* available eligible members */
	uint64_t entered;  /* tasks that entered */
	uint64_t answered; /* connected */
	uint64_t answered_in_sl;
	uint64_t abandoned;
	uint64_t exited;
	uint64_t completed;
};

/* A new engine (copies @conf). Returns 0 or -EINVAL / -ENOMEM. */
int acd_alloc(struct acd **acdp, const struct acd_conf *conf);
/* Free the engine and everything in it; emits nothing. NULL is fine. */
void acd_free(struct acd *acd);

/*
 * Configuration. Queues and agents are added once; a member links an agent to
 * a queue with a penalty (BULLSEYE: the tier, <= ACD_TIER_MAX; others: agents
 * with a lower penalty are preferred). An agent lacking a queue's skills may
 * be a member but is never offered that queue's tasks. Removing a queue needs
 * it empty (-EBUSY); removing an agent needs it logged out (-EBUSY).
 */
int acd_queue_add(struct acd *acd, const struct acd_queue_conf *conf);
int acd_queue_remove(struct acd *acd, uint32_t id);
int acd_agent_add(struct acd *acd, const struct acd_agent_conf *conf);
int acd_agent_remove(struct acd *acd, uint32_t id);
int acd_member_add(struct acd *acd, uint32_t queue, uint32_t agent, uint32_t penalty);
int acd_member_remove(struct acd *acd, uint32_t queue, uint32_t agent);

/*
 * Events. Each first fires the engine's timers due at @now (ring timeouts,
 * max waits, wrap-ups, announcements, tier widening), then applies the event,
 * then routes what became routable. Decisions come out through the callback.
 */
struct acd_task_conf {
	uint64_t id; /* != 0 */
	uint32_t queue;
	enum acd_channel channel;		      /* must match the queue's */
	int32_t priority;			      /* higher first */
	struct acd_skill_req skills[ACD_TASK_SKILLS]; /* on top of the queue's */
	unsigned nskills;
};
/* A task arrives (ENTER, or EXIT when full/empty). -EEXIST if its id is in use. */
int acd_task_enqueue(struct acd *acd, uint64_t now, const struct acd_task_conf *conf);
/* The caller hung up, waiting or ringing (CANCEL to ringing agents, ABANDON). */
int acd_task_abandon(struct acd *acd, uint64_t now, uint64_t task);
/* The task ended after it was answered (COMPLETE; the agent wraps up). */
int acd_task_end(struct acd *acd, uint64_t now, uint64_t task);
/* @agent answered its offer (CONNECT; CANCEL to the others when ringing all). */
int acd_offer_answer(struct acd *acd, uint64_t now, uint64_t task, uint32_t agent);
/*
 * @agent rejected its offer (or the owner saw it ring out): RINGNOANSWER, the
 * agent becomes not ready ACD_NR_MISSED, and the task goes back to its place.
 */
int acd_offer_reject(struct acd *acd, uint64_t now, uint64_t task, uint32_t agent);
/* Log in (available) or out (-EBUSY while it has an offer or a task). */
int acd_agent_login(struct acd *acd, uint64_t now, uint32_t agent);
int acd_agent_logout(struct acd *acd, uint64_t now, uint32_t agent);
/* Ready, or not ready with the caller's @reason (takes effect after current tasks). */
int acd_agent_ready(struct acd *acd, uint64_t now, uint32_t agent);
int acd_agent_not_ready(struct acd *acd, uint64_t now, uint32_t agent, uint32_t reason);
/* Only the clock moved. */
int acd_tick(struct acd *acd, uint64_t now);

/* Milliseconds from the engine's clock to its next timer, or -1 when none. */
int64_t acd_next_timer(const struct acd *acd);

/* Queries: 0 or -ENOENT. */
int acd_agent_state(const struct acd *acd, uint32_t agent, enum acd_agent_state *st,
		    uint32_t *reason);
int acd_queue_stats(const struct acd *acd, uint32_t queue, struct acd_queue_stats *st);
/* Waiting and ringing tasks of the engine. */
size_t acd_task_count(const struct acd *acd);

const char *acd_strategy_name(enum acd_strategy s);

#endif

/*
 * serve_acd: the ACD of `shenggu serve`. One routing engine (src/acd) per
 * tenant, built from the store the first time the tenant needs it (a call
 * reaches one of its queues, or an agent dials a feature code): queues with
 * their strategy and settings, agents (users with the "agent" role) with
 * their skills, memberships (the queue's list, or every agent with its
 * skills), and the agents' presence as it was before a restart.
 *
 * It turns call events into engine events (a call enters a queue, a phone
 * answered or failed, a caller hung up) and the engine's decisions into
 * requests to call control through the ops (ring this agent, stop ringing,
 * the caller leaves the queue, announce a position), and writes every queue
 * and agent event to the tenant's queue_log through the journal
 * (serve_journal.h; docs/QUEUES.md): the durable event log that the
 * metrics are derived from.
 *
 * Feature codes (agents dial them from their registered phone; the
 * answer is a spoken confirmation): *20 log in, *21 log out, *22 ready,
 * *23 not ready, *23NN not ready with the tenant's reason NN.
 *
 * Threads: the event loop's; the journal's writer thread does the writes.
 */
#ifndef SERVE_ACD_H
#define SERVE_ACD_H

#include <stdbool.h>
#include <stdint.h>

#include "loop/loop.h"
#include "store/store.h"

#include <jansson.h>

struct qlog_event;

struct serve_acd;
struct serve_journal;

/* Where a caller goes when it leaves a queue without an agent. */
enum serve_acd_exit {
	SERVE_ACD_EXIT_HANGUP = 0, /* a short apology, then hang up */
	SERVE_ACD_EXIT_USER,	   /* ring user @target */
	SERVE_ACD_EXIT_IVR,	   /* run IVR flow @target */
};

/* What the ACD asks of call control; calls are known by their uuid. */
struct serve_acd_ops {
	/* Ring @user for up to @ring_s seconds; 0 or -errno (no phone: the
	 * offer counts as not answered). */
	int (*offer)(void *arg, const char *uuid, const char *user, uint32_t ring_s);
	/* Stop ringing @user. */
	void (*cancel)(void *arg, const char *uuid, const char *user);
	/* The caller left the queue for @kind (@target: a user or flow id). */
	void (*exit)(void *arg, const char *uuid, enum serve_acd_exit kind, const char *target);
	/* Tell the caller its place and the estimated wait. */
	void (*announce)(void *arg, const char *uuid, uint32_t position, uint32_t ewt_s);
};

/* 0 or -errno. @l, @st (configuration reads) and @journal (queue_log and
 * presence writes) are borrowed and must outlive the result. */
int serve_acd_alloc(struct serve_acd **sap, struct loop *l, struct store *st,
		    struct serve_journal *journal, const struct serve_acd_ops *ops, void *arg);
/* Free every engine (calls are the caller's to end first; their last
 * queue_log lines are in the journal). NULL is fine. */
void serve_acd_free(struct serve_acd *sa);

/*
 * Call @uuid from @caller enters queue @queue of @tenant with @priority
 * (higher is served first; 0 normal). 0, -ENOENT (no such queue), or
 * -errno. Decisions may come through the ops before this returns (an agent
 * is free at once, the queue is full).
 */
int serve_acd_enqueue(struct serve_acd *sa, const char *tenant, const char *queue, const char *uuid,
		      const char *caller, int32_t priority);
/* A call's priority from the IVR variable "priority": an integer 0-100, or
 * "high" (50), "vip" (100); anything else (or NULL) is 0. */
int32_t serve_acd_priority(const char *value);
/* @user's phone answered call @uuid (bridged). */
void serve_acd_answered(struct serve_acd *sa, const char *tenant, const char *uuid,
			const char *user);
/* Ringing @user for call @uuid failed (no answer, busy, refused). */
void serve_acd_ring_failed(struct serve_acd *sa, const char *tenant, const char *uuid,
			   const char *user);
/* Call @uuid ended; @by_agent: the agent's side hung up. A call the ACD
 * does not hold is ignored. */
void serve_acd_ended(struct serve_acd *sa, const char *tenant, const char *uuid, bool by_agent);
/* Does the ACD hold call @uuid (waiting, ringing or connected)? */
bool serve_acd_has(struct serve_acd *sa, const char *tenant, const char *uuid);

enum serve_acd_feature {
	SERVE_ACD_LOGIN = 0,
	SERVE_ACD_LOGOUT,
	SERVE_ACD_READY,
	SERVE_ACD_NOT_READY,
};

/*
 * Parse a feature code ("*20" ... "*23NN") into @f and @reason. 0, or
 * -ENOENT when @code is none.
 */
int serve_acd_feature_parse(const char *code, enum serve_acd_feature *f, uint32_t *reason);
/*
 * Agent @user of @tenant asks for @f. Returns 0 and a sentence to say in
 * @say, or -errno with the reason in @say: -ENOENT (@user is no agent of
 * any queue), -EINVAL (unknown reason code), -EBUSY (on a call), -EDQUOT
 * (logging in while as many agents are logged in as the tenant has seats).
 */
int serve_acd_feature(struct serve_acd *sa, const char *tenant, const char *user,
		      enum serve_acd_feature f, uint32_t reason, char *say, size_t size);

/* ---- for the API (src/api through serve_api.c) ---- */

/* Every queue_log event of every tenant, as it is written. */
typedef void(serve_acd_event_h)(void *arg, const char *tenant, const struct qlog_event *ev);
void serve_acd_listen(struct serve_acd *sa, serve_acd_event_h *h, void *arg);
/* @tenant's configuration changed: its engine is rebuilt from the store once
 * no call is in it (presence survives: it is stored). */
void serve_acd_changed(struct serve_acd *sa, const char *tenant);
/*
 * Live views as JSON arrays (the caller owns *@out): agents of @tenant (or
 * just @user) with state, reason and today's figures; queues (or just
 * @queue) with real-time metrics (docs/METRICS.md); calls in the ACD with
 * their queue positions. 0 or -ENOMEM; an unknown tenant gives [].
 */
int serve_acd_agents_json(struct serve_acd *sa, const char *tenant, const char *user, json_t **out);
int serve_acd_queues_json(struct serve_acd *sa, const char *tenant, const char *queue,
			  json_t **out);
int serve_acd_calls_json(struct serve_acd *sa, const char *tenant, json_t **out);
/* Agents of @tenant logged in now (the seats in use) into *@n. 0 or -ENOMEM. */
int serve_acd_logged_in(struct serve_acd *sa, const char *tenant, uint32_t *n);

#endif

/*
 * qstats: queue and agent metrics folded from queue_log events
 * (qlog.h), real-time ("now") and historical (a sliding window and totals
 * since the first event). Every figure comes from the events alone, so
 * replaying a log through a fresh qstats with the same configuration
 * re-derives any report exactly. Definitions, formulas and the events that
 * feed each metric: docs/METRICS.md.
 *
 * Windows are time buckets (conf.bucket_s wide), not lists of events: the
 * window at time T is the bucket holding T and the window_s / bucket_s - 1
 * buckets before it, so a 15-minute window at 10:07:30 covers 09:53:00 to
 * 10:07:30. Memory is O(queues x buckets + agents x buckets + calls in
 * progress): a call's state is dropped when it ends, or call_max_age_s
 * after it entered when its end never came (a log cut by a crash).
 *
 * Time: events are applied in the order fed; one older than the latest
 * one fed counts as happening at the latest time (clocks of two writers
 * may differ by a second). Queries are meant for T at or after the latest
 * event; a T in the past reads the buckets still held.
 *
 * Agent state is agent-wide and derived from events only (METRICS.md):
 * AGENTLOGIN available; PAUSE/PAUSEALL not ready (reason); UNPAUSE/
 * UNPAUSEALL available; RINGSTART ringing; RINGNOANSWER back to the state
 * before the ring; CONNECT on call; COMPLETE*, *TRANSFER wrap-up; WRAPUPEND
 * available; AGENTLOGOFF logged out. A pause asked for while ringing, on a
 * call or in wrap-up takes effect when the agent would become available.
 * PAUSE, UNPAUSE, RINGSTART or CONNECT of a logged-out agent log it in
 * implicitly (Asterisk's static members never log in).
 *
 * Threads: a qstats belongs to one thread. Errors: 0 or -errno.
 */
#ifndef QLOG_QSTATS_H
#define QLOG_QSTATS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/str.h"
#include "qlog/qlog.h"

#define QSTATS_ID_MAX	   256 /* longest queue, agent or call id kept */
#define QSTATS_REASONS_MAX 8   /* pause reasons per agent; more share "other" */
#define QSTATS_REASON_LEN  32  /* longer reasons are cut to this */

struct qstats;

struct qstats_conf {
	uint32_t window_s;	  /* 0: 900; a multiple of bucket_s */
	uint32_t bucket_s;	  /* 0: 60 */
	uint32_t short_abandon_s; /* 0: 5; an abandon with waittime <= it is short */
	uint32_t sl_threshold_s;  /* 0: 20; for queues not set by qstats_queue_conf */
	uint32_t call_max_age_s;  /* 0: 86400 */
};

enum qstats_agent_state {
	QSTATS_LOGGED_OUT = 0,
	QSTATS_AVAILABLE,
	QSTATS_NOT_READY,
	QSTATS_RINGING,
	QSTATS_ON_CALL,
	QSTATS_WRAPUP,
	QSTATS_STATE_COUNT
};

/* Counts and sums of seconds of one queue over a span of time; each is
 * counted when the event that decides it happens (METRICS.md). */
struct qstats_queue_counts {
	uint64_t offered;	      /* ENTERQUEUE + EXITFULL */
	uint64_t answered;	      /* CONNECT */
	uint64_t answered_in_sl;      /* CONNECT with holdtime <= threshold */
	uint64_t abandoned;	      /* ABANDON */
	uint64_t short_abandoned;     /* ABANDON with waittime <= short_abandon_s */
	uint64_t unanswered_after_sl; /* ABANDON (not short), EXITWITHTIMEOUT,
					 EXITWITHKEY, EXITEMPTY with waittime >
					 threshold: the SL denominator's other part */
	uint64_t exit_timeout, exit_empty, exit_key, exit_full;
	uint64_t handled;     /* COMPLETECALLER, COMPLETEAGENT, *TRANSFER */
	uint64_t transferred; /* TRANSFER, BLINDTRANSFER, ATTENDEDTRANSFER */
	uint64_t hold_s;      /* sum of CONNECT holdtime */
	uint64_t talk_s;      /* sum of calltime of handled calls */
	uint64_t wrapup_s;    /* sum of WRAPUPEND seconds */
	uint64_t wrapups;     /* WRAPUPEND */
};

struct qstats_queue_info {
	uint32_t sl_threshold_s;
	uint32_t waiting;	 /* now: entered, neither answered nor gone */
	uint32_t longest_wait_s; /* now: T - arrival of the oldest waiting */
	/* now: members by state; [QSTATS_LOGGED_OUT] = members logged out */
	uint32_t agents[QSTATS_STATE_COUNT];
	struct qstats_queue_counts window, total;
};

/* Seconds in each state (and calls handled) over a span of time. */
struct qstats_agent_times {
	uint64_t logged_in_s, not_ready_s, ringing_s, talk_s, wrapup_s;
	uint64_t handled;
};

struct qstats_reason_time {
	struct str reason; /* borrowed from the qstats: valid until the next
			      qstats_feed() or qstats_free() */
	uint64_t window_s, total_s;
};

struct qstats_agent_info {
	enum qstats_agent_state state;
	int64_t since;	    /* Unix seconds the state began */
	struct str reason;  /* not ready: the reason (borrowed, as above) */
	bool pause_pending; /* a PAUSE waits for the call to end */
	struct qstats_agent_times window, total;
	unsigned nreasons;
	struct qstats_reason_time reasons[QSTATS_REASONS_MAX];
};

/*
 * @conf may be NULL (every default). -EINVAL when window_s is not a
 * multiple of bucket_s or spans more than 10080 buckets. The caller owns
 * *@sp (written on success only) and frees it with qstats_free().
 */
int qstats_alloc(struct qstats **sp, const struct qstats_conf *conf);
/* Frees everything; NULL is fine. Returns NULL. */
struct qstats *qstats_free(struct qstats *s);

/* The service-level threshold of @queue (0: conf.sl_threshold_s). Applies to
 * events fed afterwards: set it before replaying. 0, -EINVAL or -ENOMEM. */
int qstats_queue_conf(struct qstats *s, const struct str *queue, uint32_t sl_threshold_s);

/*
 * Apply one event (borrowed: ids are copied when kept). Returns 0; -EINVAL
 * for a NULL argument or an id longer than QSTATS_ID_MAX (the event is
 * ignored); -ENOMEM (the event is not applied; what it would have created
 * may exist, empty). Events that do not fit the state (a CONNECT for a call
 * never seen) are applied as far as they make sense, never refused.
 */
int qstats_feed(struct qstats *s, const struct qlog_event *ev);

/* Figures at @now. 0, or -ENOENT for a queue or agent never seen. */
int qstats_queue_get(const struct qstats *s, const struct str *queue, int64_t now,
		     struct qstats_queue_info *info);
int qstats_agent_get(const struct qstats *s, const struct str *agent, int64_t now,
		     struct qstats_agent_info *info);

/* Iterate ids: start with *@it = 0; false at the end. @id borrows from @s. */
bool qstats_queue_next(const struct qstats *s, size_t *it, struct str *id);
bool qstats_agent_next(const struct qstats *s, size_t *it, struct str *id);

/*
 * Derived figures; each returns false (and leaves *@v) when its
 * denominator is 0. Percentages are 0..100.
 *   SL % = answered_in_sl / (answered + unanswered_after_sl)
 *   ASA  = hold_s / answered
 *   AHT  = (talk_s + wrapup_s) / handled
 *   abandonment % = (abandoned - short) / (answered + abandoned - short)
 *   occupancy % = (talk_s + wrapup_s) / (logged_in_s - not_ready_s)
 */
bool qstats_service_level(const struct qstats_queue_counts *c, double *v);
bool qstats_asa(const struct qstats_queue_counts *c, double *v);
bool qstats_aht(const struct qstats_queue_counts *c, double *v);
bool qstats_abandon_rate(const struct qstats_queue_counts *c, double *v);
bool qstats_occupancy(const struct qstats_agent_times *t, double *v);

/* "available", "not_ready"... */
const char *qstats_state_name(enum qstats_agent_state st);

/*
 * The figures at @now as a JSON object (METRICS.md shows one). Derived
 * figures are reals rounded to 2 decimals, null when undefined; dump with
 * JSON_REAL_PRECISION(15) or less for short numbers. The caller owns *@out
 * (json_decref). 0, -ENOENT, -ENOMEM.
 */
int qstats_queue_json(const struct qstats *s, const struct str *queue, int64_t now, json_t **out);
int qstats_agent_json(const struct qstats *s, const struct str *agent, int64_t now, json_t **out);

#endif

/*
 * ivr: the IVR engine. It runs a caller through a flow (docs/IVR.md): it
 * is told what happens (the call started, a prompt finished, a key was
 * pressed, a timer fired) and answers with what to do (play this prompt,
 * stop playing, start a timer, route the call). It does no I/O and keeps
 * no clock: the call's owner plays prompts, runs the timer, reads DTMF and
 * passes the wall-clock time with every event, so a run is deterministic
 * and every path of a flow can be unit-tested without audio or sockets.
 *
 * A flow is loaded once from its stored JSON (what provisioning validated:
 * store_ivr_get) and shared read-only by any number of runs on any threads.
 * A run is one caller's progress: the current node, retries, digits,
 * variables (e.g. "lang", "priority", what a collect node gathered) and the
 * path taken, "main>welcome>menu:1>acct:1234>queue:sales", for the CDR.
 *
 * Business hours: hours nodes test the time of the event against the
 * tenant's calendar (struct ivr_hours, from store_tenant_calendar_get) in
 * the tenant's zone (base/tz.h, parsed from the TZif file: thread-safe,
 * unlike localtime_r under a switched TZ variable).
 *
 * Threads: a flow, a calendar and a zone are immutable once loaded; a run
 * belongs to the thread of its call. Errors: 0 or -errno (-EINVAL bad
 * arguments or a flow text that is not a valid flow, -ENOMEM, -ENOSPC the
 * action array is too small, -ELOOP a flow that goes round without waiting
 * for the caller: hang up).
 *
 * Not here: audio (media/tts.h, media/prompt.h), DTMF detection
 * (media/rtp.h), routing to queues or users (call control).
 */
#ifndef IVR_IVR_H
#define IVR_IVR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tz;
struct ivr_flow;
struct ivr_hours;
struct ivr_run;

/* --- Flows ----------------------------------------------------------------- */

/*
 * Load the flow in @json (NUL-ended JSON text, borrowed: a flow or the
 * single-menu shape of docs/PROVISIONING.md). The engine re-checks what it
 * relies on (types, bounds, node references), so a damaged stored text
 * gives -EINVAL, never a crash. The caller owns *@flowp (written on success
 * only) and frees it with ivr_flow_free() after the last run that uses it.
 */
int ivr_flow_load(struct ivr_flow **flowp, const char *json);
/* Returns NULL. */
struct ivr_flow *ivr_flow_free(struct ivr_flow *flow);
/* The flow's id (borrowed from the flow). */
const char *ivr_flow_id(const struct ivr_flow *flow);

/* --- Calendars ------------------------------------------------------------- */

/*
 * A tenant's calendar from its stored JSON, {"hours": {...}, "holidays":
 * [...]} (either may be absent; "{}" is a calendar with neither). Weekly
 * hours are ranges of local time per weekday; holidays are local dates
 * (or "first/last" ranges) on which the tenant is closed. *@hp is the
 * caller's, freed with ivr_hours_free().
 */
int ivr_hours_load(struct ivr_hours **hp, const char *json);
struct ivr_hours *ivr_hours_free(struct ivr_hours *h);

enum ivr_hours_state {
	IVR_HOURS_OPEN,
	IVR_HOURS_CLOSED,
	IVR_HOURS_HOLIDAY, /* a holiday (closed whatever the weekly hours say) */
};

/* The state at instant @now (Unix seconds) in zone @tz (NULL: UTC). A
 * calendar without weekly hours is always open except on holidays. */
enum ivr_hours_state ivr_hours_at(const struct ivr_hours *h, const struct tz *tz, int64_t now);

/* --- Runs ------------------------------------------------------------------ */

/* What a run needs from the tenant; everything is borrowed and must outlive the run. */
struct ivr_ctx {
	const struct tz *tz;	       /* the tenant's zone; NULL: UTC */
	const struct ivr_hours *hours; /* the tenant's calendar; NULL: none (always open) */
	const char *lang;	       /* first language; NULL: the flow's "lang", else "en" */
};

enum ivr_event_type {
	IVR_EV_START,	    /* the call is answered: enter the start node */
	IVR_EV_PROMPT_DONE, /* the prompt of a PLAY action with this id finished */
	IVR_EV_DIGIT,	    /* a DTMF key: 0-9, *, #, A-D */
	IVR_EV_TIMER,	    /* the timer of a START_TIMER action with this id fired */
};

struct ivr_event {
	enum ivr_event_type type;
	uint32_t id; /* PROMPT_DONE, TIMER: the action's id (stale ids are ignored) */
	char digit;  /* DIGIT */
	int64_t now; /* wall clock, Unix seconds: hours nodes test it */
};

enum ivr_prompt_kind {
	IVR_PROMPT_TTS,	 /* text: words to speak in voice */
	IVR_PROMPT_FILE, /* text: a path relative to the tenant's media folder */
};

struct ivr_prompt {
	enum ivr_prompt_kind kind;
	const char *text;  /* NULL: no prompt (a ROUTE without one) */
	const char *voice; /* TTS: the voice (the prompt's, else the language) */
	bool barge_in;	   /* a key press stops it (and counts) */
};

enum ivr_action_type {
	IVR_ACT_PLAY,	      /* play prompt; answer IVR_EV_PROMPT_DONE with id */
	IVR_ACT_STOP_PLAY,    /* stop the prompt playing now (a key barged in) */
	IVR_ACT_START_TIMER,  /* (re)start the one timer: ms, answer IVR_EV_TIMER with id */
	IVR_ACT_CANCEL_TIMER, /* the timer is no longer needed */
	IVR_ACT_ROUTE,	      /* the run is over: play prompt (if any), then route */
};

enum ivr_route_kind {
	IVR_ROUTE_QUEUE,  /* target: queue id; variables (e.g. priority) go with the call */
	IVR_ROUTE_USER,	  /* target: user id */
	IVR_ROUTE_HANGUP, /* target NULL */
	IVR_ROUTE_IVR,	  /* target: flow id; load it and call ivr_run_enter() */
};

struct ivr_action {
	enum ivr_action_type type;
	uint32_t id;		   /* PLAY, START_TIMER */
	uint32_t ms;		   /* START_TIMER */
	struct ivr_prompt prompt;  /* PLAY; ROUTE: prompt.text NULL when none */
	enum ivr_route_kind route; /* ROUTE */
	const char *target;	   /* ROUTE: borrowed from the flow */
};

/* No step emits more actions than this. */
#define IVR_ACTIONS_MAX	  4
/* Bytes of the recorded path, NUL included; a longer path ends in "...". */
#define IVR_PATH_SIZE	  1024
#define IVR_VARS_MAX	  32
#define IVR_VAR_NAME_MAX  32
#define IVR_VAR_VALUE_MAX 128

/*
 * A run of @flow (borrowed: it must outlive the run, or until
 * ivr_run_enter() moves the run to another flow) for one call, with the
 * tenant's @ctx (copied; what it points to is borrowed). Nothing happens
 * until IVR_EV_START. *@runp is the caller's, freed with ivr_run_free().
 */
int ivr_run_alloc(struct ivr_run **runp, const struct ivr_flow *flow, const struct ivr_ctx *ctx);
struct ivr_run *ivr_run_free(struct ivr_run *run);

/*
 * Set variable @name ([a-z_][a-z0-9_]*, up to IVR_VAR_NAME_MAX bytes) to
 * @value (up to IVR_VAR_VALUE_MAX bytes): before IVR_EV_START for what the
 * call brings (e.g. "caller", "called"), which branch nodes can test.
 * -EINVAL, -ENOSPC (IVR_VARS_MAX variables already).
 */
int ivr_run_var_set(struct ivr_run *run, const char *name, const char *value);
/* The value (borrowed from the run, valid until the variable changes) or NULL. */
const char *ivr_run_var_get(const struct ivr_run *run, const char *name);

/*
 * Feed one event at @ev->now; the actions to carry out, in order, go to
 * @acts (room for @max; IVR_ACTIONS_MAX is always enough). Returns how many
 * (0: nothing to do, e.g. a stale timer or a key nobody listens to), or
 * -errno (-ENOSPC, -ELOOP, -EINVAL); after an error the run is over and
 * the caller hangs up. Events after the run is over are ignored.
 */
int ivr_run_step(struct ivr_run *run, const struct ivr_event *ev, struct ivr_action *acts,
		 size_t max);

/*
 * After an IVR_ROUTE_IVR action: continue the run in @flow (its target, now
 * loaded; borrowed like the first), at its start node, keeping variables
 * and the path. Returns actions as ivr_run_step() does. A run may change
 * flows a bounded number of times without waiting for input (-ELOOP).
 */
int ivr_run_enter(struct ivr_run *run, const struct ivr_flow *flow, int64_t now,
		  struct ivr_action *acts, size_t max);

/* True once a ROUTE action (or an error) ended the run. */
bool ivr_run_done(const struct ivr_run *run);

/* The path so far ("main>welcome>menu:1>acct:1234>queue:sales"); borrowed. */
const char *ivr_run_path(const struct ivr_run *run);

#endif

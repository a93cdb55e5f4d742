/*
 * ivr_internal: a loaded flow and a calendar as the engine walks them,
 * shared by ivr_flow.c (which builds them from JSON), ivr_hours.c (which
 * evaluates calendars) and ivr.c (which runs flows). Other subsystems use
 * ivr.h.
 *
 * Ownership: a flow's nodes, prompts, routes and strings live in the
 * flow's arena (strings are copied out of the JSON, which is freed after
 * loading), so a flow is one object freed at once.
 */
#ifndef IVR_INTERNAL_H
#define IVR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/arena.h"
#include "ivr/ivr.h"

#define IVR_NODES_MAX	  256
#define IVR_DIGITS_MAX	  32
#define IVR_RETRIES_MAX	  9
#define IVR_RANGES_MAX	  8 /* time ranges per weekday */
#define IVR_HOLIDAYS_MAX  512
#define IVR_HOLIDAY_SPAN  366
#define IVR_PROMPT_ALTS	  16
#define IVR_CASES_MAX	  64
#define IVR_TIMEOUT_S_DEF 5
#define IVR_TIMEOUT_S_MAX 60
#define IVR_RETRIES_DEF	  2

enum ivr_node_type {
	IVR_NODE_PLAY,
	IVR_NODE_MENU,
	IVR_NODE_COLLECT,
	IVR_NODE_HOURS,
	IVR_NODE_LANGUAGE,
	IVR_NODE_SET,
	IVR_NODE_BRANCH,
};

/* One text of a prompt: for a language (NULL: the only text). */
struct ivr_alt {
	const char *lang;
	const char *text;
};

struct ivr_prompt_def {
	enum ivr_prompt_kind kind;
	struct ivr_alt *alts;
	size_t nalts;
	const char *voice; /* NULL: the language */
	int barge_in;	   /* 0, 1, or -1: the node type's default */
};

enum ivr_route_def_kind {
	IVR_RD_NODE,
	IVR_RD_QUEUE,
	IVR_RD_USER,
	IVR_RD_HANGUP,
	IVR_RD_IVR,
};

struct ivr_route_def {
	enum ivr_route_def_kind kind;
	const char *target;		     /* queue, user or flow id; the node's id for NODE */
	size_t node;			     /* NODE: index in the flow */
	const struct ivr_prompt_def *prompt; /* queue, user, hangup: played first, or NULL */
};

struct ivr_option {
	char key;
	struct ivr_route_def route;
};

struct ivr_case {
	const char *value;
	struct ivr_route_def route;
};

struct ivr_range {
	uint16_t start, end; /* minutes after local midnight, start < end <= 1440 */
};

struct ivr_holiday {
	int64_t first, last; /* local day numbers (base/tz.h), inclusive */
};

struct ivr_hours {
	struct arena *arena; /* ivr_hours_load()'s own; NULL inside a flow */
	bool has_week, has_holidays;
	uint8_t nranges[7]; /* 0 = Monday */
	struct ivr_range ranges[7][IVR_RANGES_MAX];
	struct ivr_holiday *holidays;
	size_t nholidays;
};

struct ivr_node {
	const char *id;
	enum ivr_node_type type;
	const struct ivr_prompt_def *prompt;		     /* play, menu, collect */
	const struct ivr_prompt_def *invalid;		     /* menu, collect: NULL when none */
	const struct ivr_route_def *next;		     /* play, collect, language, set */
	const struct ivr_route_def *timeout;		     /* menu, collect: NULL hangs up */
	const struct ivr_route_def *open, *closed, *holiday; /* hours; holiday may be NULL */
	const struct ivr_route_def *dflt;		     /* branch */
	struct ivr_option *options;			     /* menu */
	size_t noptions;
	struct ivr_case *cases; /* branch */
	size_t ncases;
	uint32_t timeout_ms;
	unsigned retries;
	unsigned min_digits, max_digits;
	char terminator;	       /* '#', '*' or 0 */
	bool mask;		       /* collect: the path shows '*' for each digit */
	const char *var;	       /* collect, set, branch */
	const char *value;	       /* set */
	const char *lang;	       /* language */
	const struct ivr_hours *hours; /* hours: the node's own (either part may be absent) */
};

struct ivr_flow {
	struct arena arena;
	const char *id;
	const char *lang; /* NULL: "en" */
	struct ivr_node *nodes;
	size_t nnodes, start;
};

/* Parse @hours (object or NULL) and @holidays (array or NULL) into @h, with
 * memory from @a. -EINVAL when malformed, -ENOMEM. */
int ivr_hours_parse(struct ivr_hours *h, struct arena *a, const json_t *hours,
		    const json_t *holidays);

/* The state at @now with weekly hours from @week and holidays from @hol
 * (either may be NULL). */
enum ivr_hours_state ivr_hours_eval(const struct ivr_hours *week, const struct ivr_hours *hol,
				    const struct tz *tz, int64_t now);

#endif

/*
 * prov_internal: the validated model of a provisioning document, shared by
 * prov_parse.c (which builds it, with prov_ivr.c for IVR flows and
 * prov_calendar.c for time zones, business hours and holidays) and
 * prov_apply.c (which writes it); and the validation helpers those files
 * share (a path into the document for messages, typed field readers).
 *
 * Ownership: plain `const char *` fields borrow strings from the parsed
 * JSON (doc->root, kept alive by the doc); `char *` fields are canonical
 * JSON text (compact, sorted keys, so equal documents give equal bytes)
 * allocated with mem_alloc() and freed by prov_doc_free().
 */
#ifndef PROV_INTERNAL_H
#define PROV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "prov/prov.h"

/* An id and where it was in the document: sorted arrays of these find
 * duplicates and resolve references in O(log n). */
struct prov_ref {
	const char *id;
	size_t pos, sub; /* array index (and inner index for numbers) */
};

struct prov_user {
	const char *id, *name;
	const char *password; /* NULL: no SIP credentials nor API password */
	char *roles, *skills;
};

struct prov_queue {
	const char *id, *strategy;
	char *skills, *overflow; /* overflow NULL when none */
	char *members;		 /* JSON array, NULL: by skills */
	uint32_t priority, wrapup_s, ring_timeout_s, max_wait_s, max_len;
	uint32_t sl_seconds, sl_percent, announce_s, tier_wait_s;
	bool join_empty;
	long overflow_queue; /* index of the queue it overflows to, or -1 */
};

/* An edge of the flow graph: where a route leads. */
struct prov_ivr_edge {
	size_t flow; /* index in the tenant's ivr array */
	long node;   /* node index in that flow, or -1: the flow's start */
};

struct prov_ivr_node {
	const char *id;
	bool waits;	     /* menu or collect: waits for a key press (or its timeout) */
	size_t edge0, nedge; /* its edges in the flow's edge array */
};

/* An IVR flow; the legacy menu shape is a flow of one menu node, "menu". */
struct prov_ivr {
	const char *id;
	char *json;
	struct prov_ivr_node *nodes;
	size_t nnodes, start;
	struct prov_ivr_edge *edges;
	size_t nedges, edges_cap;
};

struct prov_trunk {
	const char *id;
	char *sources; /* JSON array of canonical address blocks */
};

/* A webhook (prov_webhook.c): url and secret borrowed, events canonical
 * JSON (an array of event types, or ["*"]). */
struct prov_webhook {
	const char *id, *url, *secret;
	char *events;
};

struct prov_number {
	const char *number;
	char *route;
};

struct prov_tenant {
	const char *id, *name, *domain, *district, *park;
	const char *timezone; /* valid IANA name, "UTC" by default */
	char *calendar;	      /* {"holidays":[...],"hours":{...}}, "{}" when none */
	bool has_hours;	      /* the tenant gives weekly hours (hours nodes may rely on them) */
	char *recording;      /* "none", "all" or {"queues":[...]} as JSON text */
	char *pause_reasons;  /* {"2": "break", ...} as JSON text */
	uint32_t seats;
	struct prov_trunk *trunks;
	size_t ntrunks;
	struct prov_webhook *webhooks;
	size_t nwebhooks;
	struct prov_user *users;
	struct prov_queue *queues;
	struct prov_ivr *ivr;
	struct prov_number *numbers;
	size_t nusers, nqueues, nivr, nnumbers;
	struct prov_ref *user_ix, *queue_ix, *ivr_ix, *trunk_ix; /* sorted by id */
};

/* A platform operator (role "operator"), outside every tenant. */
struct prov_operator {
	const char *id, *name;
	const char *password; /* kept only long enough to hash; wiped by prov_doc_free */
};

struct prov_doc {
	json_t *root; /* owns every borrowed string */
	struct prov_tenant *tenants;
	size_t ntenants;
	struct prov_ref *tenant_ix; /* sorted by id */
	/* The "operators" array: when present (@has_operators, even empty) it
	 * lists every operator, and the others are deleted. */
	struct prov_operator *operators;
	size_t noperators;
	bool has_operators;
	struct prov_ref *operator_ix; /* sorted by id */
};

/* The entry of @ix (@n, sorted) with @id, or NULL. */
const struct prov_ref *prov_ref_find(const struct prov_ref *ix, size_t n, const char *id);
/* Sort @ix and return the duplicate that comes first in the document (the
 * later entry of its pair) or NULL; *@first gets the earlier one. */
const struct prov_ref *prov_ref_dup(struct prov_ref *ix, size_t n, const struct prov_ref **first);

/* --- Validation helpers (prov_parse.c) ---------------------------------- */

/* Where validation is, for the message: a JavaScript-like path. */
struct prov_vctx {
	char *err;
	size_t errlen;
	char path[512];
	size_t plen;
};

/* Bytes of document text a message quotes at most (prov_echo). */
#define PROV_ECHO_MAX  48
#define PROV_ECHO_SIZE (PROV_ECHO_MAX * 4 + 8)

enum prov_str_kind {
	PROV_STR_TEXT,	   /* printable text (UTF-8), no control characters */
	PROV_STR_ID,	   /* [A-Za-z0-9][A-Za-z0-9._-]* */
	PROV_STR_DOMAIN,   /* lowercase DNS name */
	PROV_STR_NUMBER,   /* +?[0-9]{3,20} */
	PROV_STR_PASSWORD, /* printable, kept only long enough to hash */
};

/* "<path>: <message>" into the error buffer; returns -EINVAL. */
int prov_verr(struct prov_vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same at @key below the current path. */
int prov_verr_at(struct prov_vctx *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "out of memory"; returns -ENOMEM. */
int prov_nomem(struct prov_vctx *v);
/* Document text fit to quote in a one-line message (escaped, cut). */
const char *prov_echo(char *buf, size_t size, const char *s);
/* Push a key or index on the path; returns the mark prov_path_pop() restores. */
size_t prov_path_key(struct prov_vctx *v, const char *key);
size_t prov_path_idx(struct prov_vctx *v, size_t i);
void prov_path_pop(struct prov_vctx *v, size_t mark);
/* "an object", "a string"... for "expected X, got Y". */
const char *prov_type_name(const json_t *j);
/* Every key of @obj is one of the NULL-ended @allowed. */
int prov_check_fields(struct prov_vctx *v, const json_t *obj, const char *const *allowed);
int prov_expect_object(struct prov_vctx *v, const json_t *j);
bool prov_has_ctl(const char *s);
bool prov_is_id(const char *s);
/* A string of @kind, @min..@max bytes; *@out borrows it from the JSON. */
int prov_check_str(struct prov_vctx *v, const json_t *j, enum prov_str_kind kind, size_t min,
		   size_t max, const char **out);
/* Field @key of @obj; missing gives @def, or an error when @def is NULL. */
int prov_get_str(struct prov_vctx *v, const json_t *obj, const char *key, enum prov_str_kind kind,
		 size_t min, size_t max, const char *def, const char **out);
int prov_check_uint(struct prov_vctx *v, const json_t *j, uint32_t min, uint32_t max,
		    uint32_t *out);
int prov_get_uint(struct prov_vctx *v, const json_t *obj, const char *key, uint32_t min,
		  uint32_t max, uint32_t def, uint32_t *out);
/* Copies with mem_alloc(): a C string, and canonical JSON text (compact,
 * sorted keys). */
int prov_text_dup(struct prov_vctx *v, const char *s, char **out);
int prov_dump(struct prov_vctx *v, const json_t *j, char **out);

/* --- IVR flows (prov_ivr.c) ---------------------------------------------- */

/* Validate flow @e (the current path is its place in the document) of
 * tenant @t, whose ids (users, queues, flows) are collected, into @m. */
int prov_parse_ivr(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
		   struct prov_ivr *m);
/* After every flow of @t is parsed: no loop of nodes that never waits for
 * input, across flows too. The current path is the tenant's. */
int prov_check_ivr_loops(struct prov_vctx *v, const struct prov_tenant *t);
/* Free what prov_parse_ivr() allocated in @m (not @m itself). */
void prov_ivr_reset(struct prov_ivr *m);

/* --- Webhooks (prov_webhook.c) ------------------------------------------- */

/* The tenant's "webhooks" array, when present, into @t. */
int prov_parse_webhooks(struct prov_vctx *v, const json_t *tj, struct prov_tenant *t);

/* --- Calendars (prov_calendar.c) ------------------------------------------ */

/* The tenant's timezone, hours and holidays into @t. */
int prov_parse_calendar(struct prov_vctx *v, const json_t *tj, struct prov_tenant *t);
/* Field @key of @obj, when present, as weekly hours or as holidays. */
int prov_check_hours(struct prov_vctx *v, const json_t *obj, const char *key);
int prov_check_holidays(struct prov_vctx *v, const json_t *obj, const char *key);

#endif

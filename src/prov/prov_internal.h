/*
 * prov_internal: the validated model of a provisioning document, shared by
 * prov_parse.c (which builds it) and prov_apply.c (which writes it).
 *
 * Ownership: plain `const char *` fields borrow strings from the parsed
 * JSON (doc->root, kept alive by the doc); `char *` fields are canonical
 * JSON text (compact, sorted keys, so equal documents give equal bytes)
 * allocated with mem_alloc() and freed by prov_doc_free().
 */
#ifndef PROV_INTERNAL_H
#define PROV_INTERNAL_H

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
	const char *password; /* NULL: no SIP credentials */
	char *roles, *skills;
};

struct prov_queue {
	const char *id, *strategy;
	char *skills, *overflow; /* overflow NULL when none */
	uint32_t priority, wrapup_s, ring_timeout_s, max_wait_s, max_len;
	uint32_t sl_seconds, sl_percent;
	long overflow_queue; /* index of the queue it overflows to, or -1 */
};

struct prov_ivr {
	const char *id;
	char *json;
};

struct prov_number {
	const char *number;
	char *route;
};

struct prov_tenant {
	const char *id, *name, *domain, *district, *park;
	uint32_t seats;
	struct prov_user *users;
	struct prov_queue *queues;
	struct prov_ivr *ivr;
	struct prov_number *numbers;
	size_t nusers, nqueues, nivr, nnumbers;
	struct prov_ref *user_ix, *queue_ix, *ivr_ix; /* sorted by id */
};

struct prov_doc {
	json_t *root; /* owns every borrowed string */
	struct prov_tenant *tenants;
	size_t ntenants;
	struct prov_ref *tenant_ix; /* sorted by id */
};

/* The entry of @ix (@n, sorted) with @id, or NULL. */
const struct prov_ref *prov_ref_find(const struct prov_ref *ix, size_t n, const char *id);

#endif

/*
 * reg_internal: the registrar's state, shared by reg.c (requests and
 * authentication), reg_location.c (bindings) and reg_throttle.c (failure
 * counting and blocks). Nothing outside src/reg/ includes it.
 */
#ifndef REG_INTERNAL_H
#define REG_INTERNAL_H

#include "base/hash.h"
#include "base/list.h"
#include "reg/reg.h"

struct reg {
	struct reg_conf conf;
	struct reg_ops ops;
	void *arg;
	struct timer_wheel *tw; /* borrowed */
	struct auth_key key;	/* signs nonces */
	char secret[65];	/* hex; fake HA1s of unknown users and To tags */
	struct auth_nc_table *nc;
	struct hash *aors; /* "user@domain" -> struct reg_aor */
	size_t nbindings;
	struct hash *thr;	 /* throttle key -> struct reg_thr */
	struct list thr_watch;	 /* counting entries, oldest first */
	struct list thr_blocked; /* blocked entries, oldest block first */
	size_t nthr;
};

/* Longest AOR user part served (404 beyond); no provisioned user comes close. */
#define REG_USER_MAX 256
/* Room for an AOR key: user "@" domain and a NUL. */
#define REG_KEY_SIZE (REG_USER_MAX + 1 + REG_REALM_SIZE + 1)

/* One AOR with at least one binding. */
struct reg_aor {
	struct str key;			    /* "user@domain", in buf */
	struct str tenant_id, user, domain; /* in buf */
	struct list bindings;		    /* struct reg_bnd, in order of registration */
	unsigned n;
	char buf[];
};

struct reg_bnd {
	struct list_elem le; /* in aor->bindings */
	struct reg_aor *aor;
	struct reg *reg;
	struct timer tmr;     /* expiry */
	uint64_t updated_ms;  /* last made or refreshed: the oldest is evicted first */
	bool mark;	      /* scratch for reg_loc_update() */
	struct reg_binding b; /* tenant_id, user, domain point into aor; the rest into buf */
	char buf[];
};

/* reg_location.c */

/* The outcome of reg_loc_update(), turned into a response by reg.c. */
enum reg_loc_result {
	REG_LOC_OK = 0,
	REG_LOC_BAD_STAR,	   /* 400: Contact: * with other contacts or Expires != 0 */
	REG_LOC_OUT_OF_ORDER,	   /* 400: same Call-ID, CSeq not higher (§10.3 step 7) */
	REG_LOC_TOO_BRIEF,	   /* 423 */
	REG_LOC_TOO_MANY_CONTACTS, /* 403 */
	REG_LOC_FULL,		   /* 503 */
};

/*
 * Apply the Contact headers of REGISTER @msg to AOR @user@@t->realm, all or
 * nothing (§10.3 steps 6-7), and on REG_LOC_OK append a Contact line per
 * live binding to @hdrs. Returns a result >= 0 or -ENOMEM.
 */
int reg_loc_update(struct reg *reg, const struct reg_tenant *t, const struct str *user,
		   const struct sip_msg *msg, const struct sip_peer *src, uint64_t now_ms,
		   struct mbuf *hdrs);
/* Free every AOR and binding without callbacks. */
void reg_loc_clear(struct reg *reg);

/* reg_throttle.c */

/* Source @ip (and the AOR, when @user is not NULL) is blocked at @now_ms. */
bool reg_thr_blocked(struct reg *reg, const char *ip, const struct str *user,
		     const struct str *domain, uint64_t now_ms);
/* Count one failed authentication of @user@@domain from @ip. 0 or -ENOMEM. */
int reg_thr_fail(struct reg *reg, const char *ip, const struct str *user, const struct str *domain,
		 uint64_t now_ms);
/* A success from @ip for the AOR forgets that pair's failures. */
void reg_thr_success(struct reg *reg, const char *ip, const struct str *user,
		     const struct str *domain);
void reg_thr_clear(struct reg *reg);

#endif

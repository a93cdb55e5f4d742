/*
 * reg: the multi-tenant registrar (RFC 3261 §10.3) with digest
 * authentication (RFC 7616, RFC 8760), the location service in memory, and
 * throttling of failed authentications.
 *
 * A library without I/O: reg_request() takes a parsed REGISTER and the
 * address it came from, and appends the response to send to an mbuf. The
 * outside is reached only through a small ops table (which tenant owns a SIP
 * domain, a user's HA1, write-through of bindings to storage, a hook when a
 * block starts), the @now_ms arguments and a timer wheel, on which bindings
 * expire and throttling windows and blocks end. reg_binding_restore() loads
 * stored bindings back at start-up, so a restart keeps them.
 *
 * Tenants are kept apart by the Request-URI's domain: the AOR is
 * To-user@tenant-domain, the digest realm is the tenant's domain, and
 * credentials for one realm or for another user are refused (403). Answers
 * for unknown users and wrong passwords are the same bytes (apart from what
 * is copied from the request) after the same work: an unknown user is
 * checked against a fake HA1 derived from a per-instance secret.
 *
 * Not here: sockets, transactions (retransmissions are absorbed below us),
 * the database, challenging other methods, Outbound flows (RFC 5626:
 * +sip.instance is kept, reg-id is not acted on), GRUU.
 *
 * Thread: a struct reg belongs to one loop thread, the one that drives its
 * timer wheel; every function here and every ops callback runs on it.
 *
 * Time: @now_ms is the wall clock in milliseconds since the Unix epoch
 * (stored expiry, Date, nonces and the operator's block list all read it).
 * The owner advances the wheel to the present before calling in; the
 * registrar only ever starts timers with relative delays computed from
 * @now_ms, so the wheel's own clock may be monotonic.
 */
#ifndef REG_REG_H
#define REG_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth/auth_digest.h"
#include "base/mbuf.h"
#include "base/str.h"
#include "base/timer.h"
#include "sip/sip_msg.h"
#include "sip/sip_peer.h"

struct reg;

/*
 * The challenges of a 401. RFC 8760 §2.4: one per algorithm, the preferred
 * first (SHA-256). Some clients read only the first WWW-Authenticate and
 * know only MD5 (SIPp 3.6, older phones): MD5_FIRST. Some refuse a 401 that
 * carries any algorithm they do not know (libre 1.x, so baresip 1.0 in
 * Debian 12): MD5_ONLY.
 */
enum reg_digest {
	REG_DIGEST_SHA256_FIRST = 0,
	REG_DIGEST_MD5_FIRST,
	REG_DIGEST_MD5_ONLY,
};

struct reg_conf {
	uint32_t default_expires; /* s, when neither ;expires nor Expires: 3600 */
	uint32_t min_expires;	  /* s, a shorter non-zero request gets 423: 60 */
	uint32_t max_expires;	  /* s, a longer one is clamped to it: 7200 */
	uint32_t nonce_ttl_ms;	  /* how long a challenge's nonce is good: 300000 */
	uint32_t max_contacts;	  /* bindings per AOR: 10 */
	uint32_t max_bindings;	  /* bindings overall: 200000 */
	uint32_t max_nonces;	  /* nonces tracked for nonce-count replay: 65536 */
	uint32_t fail_window_ms;  /* failed authentications are counted per window: 60000 */
	uint32_t fail_max_src;	  /* failures from one source IP in a window: 20 */
	uint32_t fail_max_aor;	  /* failures against one AOR from one source IP: 10 */
	uint32_t block_ms;	  /* how long a block lasts: 600000 */
	uint32_t max_tracked;	  /* sources and source+AOR pairs counted or blocked: 10000 */
	/* Nonce key shared by a cluster; NULL: a random key per instance. Copied. */
	const struct auth_key *nonce_key;
	/* Which challenges a 401 carries, in order (see enum reg_digest). */
	enum reg_digest digest;
};

/* The defaults above. */
void reg_conf_default(struct reg_conf *conf);

/* Where a REGISTER came from: where calls to its contacts will be sent. */

/* "192.0.2.1:5060" or "[2001:db8::1]:5060" into @buf. 0 or -EINVAL/-ENOSPC. */
int reg_src_print(const struct sip_peer *src, char *buf, size_t size);
/* The reverse, for stored bindings; conn_id is 0. 0 or -EINVAL. */
int reg_src_parse(struct sip_peer *src, const struct str *s, enum sip_transport transport);

/*
 * One binding of an AOR to a contact. Given to callbacks, its views point
 * into the registrar's memory and are valid only during the call; given to
 * reg_binding_restore(), they are copied.
 */
struct reg_binding {
	struct str tenant_id;
	struct str domain;   /* the AOR's domain: the tenant's realm */
	struct str user;     /* the AOR's user as written in To (escapes kept) */
	struct str contact;  /* the Contact URI, without <> */
	struct str call_id;  /* of the REGISTER that made or last refreshed it */
	uint32_t cseq;	     /* likewise */
	uint64_t expires_ms; /* wall clock, ms since the Unix epoch */
	bool has_q;
	uint16_t q;	     /* ;q in thousandths, when has_q */
	struct str path;     /* RFC 3327 Path values, ", "-separated; empty when none */
	struct str instance; /* RFC 5626 +sip.instance value; empty when none */
	struct sip_peer src; /* received from (RFC 3261 §10.3 leaves routing to us) */
};

/* A SIP domain's tenant, as the ops table describes it. */
#define REG_TENANT_ID_SIZE 65
#define REG_REALM_SIZE	   254

struct reg_tenant {
	char id[REG_TENANT_ID_SIZE];
	/* The digest realm: the tenant's SIP domain, printable, without '"' or '\\'. */
	char realm[REG_REALM_SIZE];
};

enum reg_removed {
	REG_REMOVED_EXPIRED = 0,  /* its time ran out */
	REG_REMOVED_UNREGISTERED, /* expires=0 or Contact: * */
	REG_REMOVED_EVICTED,	  /* the oldest of an AOR, pushed out by a new contact */
};

/* One blocked source (and AOR), for the operator. */
struct reg_block {
	struct str src;		 /* the source IP as text */
	struct str user, domain; /* the AOR; both empty when the whole source is blocked */
	uint64_t since_ms, until_ms;
	uint32_t count; /* failed authentications that led to the block */
};

/*
 * The outside world. Every callback runs on the registrar's thread, inside
 * the reg_* call that caused it (or the wheel's advance for expiry), and
 * must not call reg functions other than reg_lookup(), reg_count() and
 * reg_blocked_list().
 */
struct reg_ops {
	/*
	 * Which tenant serves SIP domain @domain (as written in the
	 * Request-URI: compare case-insensitively). 0 and *@out, -ENOENT when
	 * none, another -errno on failure (the request then fails).
	 */
	int (*domain)(void *arg, const struct str *domain, struct reg_tenant *out);
	/*
	 * HA1 of @user (as written, escapes kept) in @tenant for hash @h, as
	 * hex into @out (NUL-terminated). 0, -ENOENT when there is no such user
	 * or no such credential, another -errno on failure.
	 */
	int (*ha1)(void *arg, const struct reg_tenant *tenant, const struct str *user,
		   enum auth_hash h, char *out, size_t size);
	/*
	 * A binding was made or refreshed (write it through: insert or
	 * update by tenant, user and contact) / removed. Notifications: the
	 * registrar's state has already changed, and durability is the owner's
	 * business (an asynchronous write to the database thread is fine).
	 * Either may be NULL.
	 */
	void (*binding_saved)(void *arg, const struct reg_binding *b);
	void (*binding_removed)(void *arg, const struct reg_binding *b, enum reg_removed why);
	/* A block has started (the registrar also logs it at warn). May be NULL. */
	void (*blocked)(void *arg, const struct reg_block *blk);
};

/*
 * A registrar using timer wheel @tw (borrowed: it must outlive the
 * registrar). @conf and @ops are copied; @arg is passed to every callback.
 * Returns 0, -EINVAL (a NULL argument, domain or ha1 missing, or limits
 * that are zero or min > max expires), -ENOMEM or -EIO (no randomness).
 */
int reg_alloc(struct reg **regp, const struct reg_conf *conf, const struct reg_ops *ops, void *arg,
	      struct timer_wheel *tw);
/* Free everything and cancel the timers. binding_removed is NOT called:
 * stored bindings stay for the next start. NULL is fine. */
void reg_free(struct reg *reg);

/*
 * Handle REGISTER @msg received from @src (borrowed for the call), appending
 * the response to @out. Returns the response's status code (200, 401, 403,
 * 404, 400, 416, 420, 423, 503), or a negative errno with nothing appended
 * (-EINVAL: not a REGISTER or @src not IPv4/IPv6; -ENOMEM; another errno
 * from ops): the caller then answers 500 itself.
 *
 * The steps of RFC 3261 §10.3, in this order:
 *   - a blocked source IP: 403 "Blocked", nothing else looked at;
 *   - Request-URI: sip/sips (else 416), a tenant's domain (else 404);
 *   - Require: an option other than "path" gives 420 with Unsupported;
 *   - To: a sip/sips URI with a user at the tenant's domain, else 404;
 *   - a blocked (source IP, AOR): 403 "Blocked";
 *   - Authorization for the tenant's realm: none or unusable (no qop=auth,
 *     an algorithm other than MD5/SHA-256, a nonce not ours, a replayed nc)
 *     gives 401 with a SHA-256 then an MD5 challenge, stale=true for an
 *     expired nonce of ours; credentials for another realm, another user, an
 *     unknown user or a wrong password give 403 "Forbidden" and count as a
 *     failure toward a block;
 *   - bindings: 200 listing every contact of the AOR with its remaining
 *     ;expires and a Date (and the request's Path, RFC 3327 §5.3); 400 for a
 *     bad Contact: * or, with the Call-ID of an existing binding, a CSeq not
 *     higher than its own (§10.3 step 7, "Bad Request (CSeq out of order)");
 *     423 with Min-Expires when any contact asks for less than min_expires;
 *     longer than max_expires is clamped. Past max_contacts, the AOR's
 *     contacts that the request does not mention are evicted, least
 *     recently refreshed first (binding_removed, REG_REMOVED_EVICTED): a
 *     phone that changed address must not lock its user out; 403 "Too Many
 *     Contacts" only when the request alone asks for more. 503 with
 *     Retry-After when max_bindings would be passed. All or nothing: the
 *     bindings change only when the answer is 200.
 *
 * Every challenge carries a nonce unique to this instance (see
 * put_challenge() in reg.c); nonce counts are kept for max_nonces nonces,
 * so size it for the successful registrations of one nonce lifetime: past
 * it the oldest nonces lose their replay protection first.
 *
 * NOTE: when memory runs out after the bindings were committed, the
 * bindings stay and -ENOMEM is returned; the UA retries and refreshes them.
 */
int reg_request(struct reg *reg, const struct sip_msg *msg, const struct sip_peer *src,
		uint64_t now_ms, struct mbuf *out);

/*
 * Authenticate a request other than REGISTER, ACK or CANCEL (an INVITE or
 * a MESSAGE from an agent's phone) with the same digest rules, nonces,
 * throttling and blocking as REGISTER. The identity is the From address:
 * its host is a tenant's domain and its user must be the authentication
 * user (credentials never cross tenants or users).
 *
 * Returns 0 when the request is authenticated (*@tenant is the user's
 * tenant; nothing is written to @out), a status (401 with the challenge,
 * 403 for a blocked source, an unknown domain or bad credentials) with the
 * whole response appended to @out for the caller to send, or -errno.
 */
int reg_authenticate(struct reg *reg, const struct sip_msg *msg, const struct sip_peer *src,
		     uint64_t now_ms, struct reg_tenant *tenant, struct mbuf *out);

/* Called once per binding; a non-zero return stops the walk and is returned. */
typedef int(reg_binding_h)(const struct reg_binding *b, void *arg);

/*
 * The live bindings of @user@@domain (domain compared case-insensitively),
 * oldest registration first: where to send a call. Returns how many were
 * visited (0 when none), or the handler's non-zero return.
 */
int reg_lookup(struct reg *reg, const struct str *domain, const struct str *user, uint64_t now_ms,
	       reg_binding_h *h, void *arg);

/*
 * Load one stored binding at start-up (binding_saved is not called: it is
 * stored already). @b->domain is resolved with the domain op and
 * @b->tenant_id must match. A binding of the same contact is replaced.
 * Returns 0, -ETIMEDOUT when it has expired (delete it from storage),
 * -ENOENT when its domain has no tenant (or another one), -EINVAL for empty
 * fields, -ENOSPC past max_contacts or max_bindings, -ENOMEM.
 */
int reg_binding_restore(struct reg *reg, const struct reg_binding *b, uint64_t now_ms);

/* Bindings held (live or about to be expired by the wheel). */
size_t reg_count(const struct reg *reg);

typedef int(reg_block_h)(const struct reg_block *blk, void *arg);

/*
 * Every block in force at @now_ms, oldest first. Returns how many were
 * visited, or the handler's non-zero return.
 */
int reg_blocked_list(struct reg *reg, uint64_t now_ms, reg_block_h *h, void *arg);

#endif

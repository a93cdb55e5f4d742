/*
 * call: B2BUA call control. Every call has an A leg (the caller's INVITE,
 * which we answer as a UAS) and at most one B leg at a time (our INVITE to
 * an agent's or user's phone, forked to every registered contact, first
 * 2xx wins). Media is anchored: both legs' RTP flows through a media
 * session that the owner's media engine runs (RFC 3264 offer/answer with
 * src/sdp on each leg separately).
 *
 * This module does signalling and dialogs only (RFC 3261 §12-§15): what to
 * do with a call is the application's, told through ops->routed():
 * call_answer() (an IVR or a queue answers the caller), call_dial_user()
 * (ring a user's phones and connect them on answer) or call_hangup(). The
 * directory (numbers, users, trunks, authentication, registered contacts),
 * the media engine and the CDR sink are reached through the ops table, so
 * the module is testable without sockets.
 *
 * Wire rules:
 *   - An INVITE whose Request-URI user is a number enters the number's
 *     tenant: from an address on the tenant's trunk allow-list as is, from
 *     anyone else only when authenticated as one of that tenant's users;
 *     everyone else gets 403. Calls to a user of a tenant's domain (by user
 *     id) need the caller authenticated as a user of the same tenant; never
 *     across tenants. Unknown number or user: 404 (a caller from no tenant's
 *     domain gets it at once; a user after authenticating). No usable audio or no
 *     common codec: 488.
 *   - An INVITE without SDP (late offer) gets our offer in the 200 and its
 *     ACK must carry the answer, else the call ends with BYE.
 *   - 100 Trying comes from the transaction layer; 180 is relayed from the
 *     B leg; the caller's 200 is re-sent until its ACK (§13.3.1.4) and the
 *     call is ended with BYE when none comes within 64*T1.
 *   - CANCEL before the answer: 487 to the INVITE, CANCEL to the forks.
 *     BYE from either side ends both legs. A re-INVITE (hold, resume) is
 *     answered locally from our side of the media; the media engine is told
 *     the new direction.
 *
 * Threads: one event-loop thread owns the manager, its calls and the
 * transaction layer it uses. Memory: one allocation per call plus its
 * dialogs' strings; a call is freed after ops->ended() returns.
 */
#ifndef CALL_CALL_H
#define CALL_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/mbuf.h"
#include "base/timer.h"
#include "sdp/sdp.h"
#include "sip/sip_msg.h"
#include "sip/sip_peer.h"
#include "sip/sip_tx.h"

struct call;
struct call_mgr;

#define CALL_TENANT_SIZE 65
#define CALL_DOMAIN_SIZE 254
#define CALL_TARGET_SIZE 65
#define CALL_UUID_SIZE	 33 /* 32 hex digits and the NUL */

enum call_leg_id {
	CALL_LEG_A = 0, /* the caller */
	CALL_LEG_B = 1, /* the phone we called */
};

/* Where a call goes, as the directory says. */
enum call_route_kind {
	CALL_ROUTE_NONE = 0,
	CALL_ROUTE_USER,  /* target: a user id of the tenant */
	CALL_ROUTE_IVR,	  /* target: a flow id */
	CALL_ROUTE_QUEUE, /* target: a queue id */
	CALL_ROUTE_HANGUP,
	CALL_ROUTE_FEATURE, /* target: a feature code ("*20") a user dialled */
};

struct call_route {
	enum call_route_kind kind;
	char tenant_id[CALL_TENANT_SIZE];
	char domain[CALL_DOMAIN_SIZE]; /* the tenant's SIP domain */
	char target[CALL_TARGET_SIZE];
};

/* A registered contact of a user: where to send the INVITE. */
struct call_contact {
	struct str uri;	     /* Request-URI: the Contact URI */
	struct sip_peer dst; /* where the REGISTER came from: requests go there (NAT) */
};
typedef int(call_contact_h)(const struct call_contact *ct, void *arg);

/* How a call ended, for its CDR. */
enum call_end_side {
	CALL_END_CALLER = 0,
	CALL_END_CALLEE,
	CALL_END_SYSTEM, /* us: a timeout, an error, the application */
};

struct call_cdr {
	const char *uuid;
	const char *tenant_id;
	const char *caller; /* From user (or the whole URI when it has none) */
	const char *callee; /* Request-URI user: the number or user dialled */
	const char *route;  /* "user:1002", "ivr:main", "queue:loans", "" */
	const char *agent;  /* the user who answered the B leg, or "" */
	uint64_t start_ms;  /* INVITE received, wall clock */
	uint64_t answer_ms; /* caller answered (0: never) */
	uint64_t bridge_ms; /* B leg answered (0: never) */
	uint64_t end_ms;
	enum call_end_side side;
	unsigned status;   /* final status sent to the caller when never answered, else 200 */
	const char *cause; /* "normal", "cancel", "no-answer", "busy", "rtp-timeout"... */
};

struct call_ops {
	/* The directory: 0, -ENOENT, or -errno. */
	int (*number)(void *arg, const struct str *number, struct call_route *out);
	/* A user of the tenant whose domain is @domain: kind USER and target. */
	int (*user)(void *arg, const struct str *domain, const struct str *user,
		    struct call_route *out);
	bool (*trunk_allowed)(void *arg, const char *tenant_id, const struct sip_peer *src);
	/* Is @domain a tenant's? May be NULL (every caller is then challenged). */
	bool (*is_domain)(void *arg, const struct str *domain);
	/* reg_authenticate(): 0 and @tenant_id, or a status with the response in @out. */
	int (*authenticate)(void *arg, const struct sip_msg *req, const struct sip_peer *src,
			    char tenant_id[CALL_TENANT_SIZE], struct mbuf *out);
	/* Visit the live contacts of @user@@domain; the count, or -errno. */
	int (*contacts)(void *arg, const char *domain, const char *user, call_contact_h *h,
			void *harg);

	/* The media engine. @local[leg]: our RTP address and port for each leg. */
	int (*media_create)(void *arg, uint64_t *sid, struct sockaddr_storage local[2]);
	int (*media_remote)(void *arg, uint64_t sid, enum call_leg_id leg,
			    const struct sdp_stream *st);
	int (*media_bridge)(void *arg, uint64_t sid, bool on);
	void (*media_destroy)(void *arg, uint64_t sid);

	/* The application: a new call has a route; it must call call_answer(),
	 * call_dial_user() or call_hangup(), now or later. */
	void (*routed)(void *arg, struct call *c, const struct call_route *r);
	/* The B leg answered and is bridged (after call_dial_user()). May be NULL. */
	void (*connected)(void *arg, struct call *c);
	/* Ringing @user failed (no answer within its ring time, busy, every
	 * fork refused), reported only when the caller was answered first:
	 * the caller is still there and the application decides (ring someone
	 * else, hang up). May be NULL: the call is then hung up when no one
	 * else rings. Not reported for call_dial_cancel(). */
	void (*dial_failed)(void *arg, struct call *c, const char *user, unsigned status);
	/* The call is over; @cdr and @c are valid during the call only. */
	void (*ended)(void *arg, struct call *c, const struct call_cdr *cdr);
};

struct call_conf {
	struct sockaddr_storage sip_addr; /* ours, for Via and Contact */
	uint32_t ring_timeout_s;	  /* B leg ringing, default 60 */
	uint32_t max_calls;		  /* beyond: 503, default 10000 */
	uint32_t t1_ms;			  /* the transaction layer's T1, default 500 */
};

/* 0 or -EINVAL / -ENOMEM. @txl and @tw are borrowed. */
int call_mgr_alloc(struct call_mgr **mp, const struct call_conf *conf, const struct call_ops *ops,
		   void *arg, struct sip_txl *txl, struct timer_wheel *tw);
/* Ends every call (BYE/487 sent, ops->ended() called) and frees. NULL is fine. */
void call_mgr_free(struct call_mgr *m);
size_t call_mgr_count(const struct call_mgr *m);

/*
 * A request from the transaction layer's ops->request(): @st NULL for an
 * ACK to a 2xx. Returns true when the request was the manager's (INVITE,
 * ACK, BYE, CANCEL, and any request inside one of its dialogs), which then
 * answered @st; false leaves @st to the caller.
 */
bool call_mgr_request(struct call_mgr *m, struct sip_tx *st, const struct sip_msg *req,
		      const struct sip_peer *src);
/* A response that matched no transaction (a retransmitted 2xx): re-ACK it. */
void call_mgr_stray(struct call_mgr *m, const struct sip_msg *resp, const struct sip_peer *src);

/* The media engine says a leg's media stopped (RTP timeout): end the call. */
void call_mgr_media_timeout(struct call_mgr *m, uint64_t sid);

/* ---- For the application ---- */

/* Answer the caller now (200 with our SDP). 0, -EALREADY, or -errno. */
int call_answer(struct call *c);
/*
 * Ring every registered contact of @user (a user of the call's tenant) for
 * @ring_s seconds (0: the manager's ring_timeout_s) and bridge the first
 * that answers; answers the caller then if not yet done. Several users may
 * ring at once (ring all: call again for each); the first answer wins and
 * the others get CANCEL. 0, -ENOENT (no contact: nothing sent; the
 * application decides), -EALREADY (@user rings already), -EBUSY (the B leg
 * is up, or 32 users ring) or -errno.
 */
int call_dial_user(struct call *c, const char *user, uint32_t ring_s);
/* Stop ringing @user (NULL: everyone): CANCEL, and no dial_failed for it.
 * 0, -ENOENT (@user does not ring) or -EINVAL. */
int call_dial_cancel(struct call *c, const char *user);
/* End the call: @status (4xx-6xx) to an unanswered caller, else BYE. */
void call_hangup(struct call *c, unsigned status, const char *cause);

const char *call_uuid(const struct call *c);
/* The caller: the From user (an authenticated user's id when one called). */
const char *call_caller(const struct call *c);
const char *call_tenant(const struct call *c);
/* The user whose phone answered the B leg, or NULL while none has. */
const char *call_agent(const struct call *c);
uint64_t call_media_sid(const struct call *c);
bool call_answered(const struct call *c);
/* The application's pointer, kept with the call. */
void call_set_app(struct call *c, void *app);
void *call_app(const struct call *c);

#endif

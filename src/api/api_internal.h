/*
 * api_internal: what the files of src/api share. Callers use api.h.
 */
#ifndef API_INTERNAL_H
#define API_INTERNAL_H

#include "acct/acct.h"
#include "api/api.h"
#include "base/list.h"
#include "base/str.h"
#include "http/http.h"
#include "store/store.h"

/* Who is calling: from a bearer token (or nobody). */
struct api_session {
	char token[ACCT_TOKEN_SIZE]; /* the token itself: the cache's key */
	char hash[65];		     /* its SHA-256, hex: the store's key */
	char tenant[STORE_ID_SIZE];  /* "" for a platform operator */
	char user[STORE_ID_SIZE];
	unsigned roles; /* enum acct_role bits */
	int64_t expires_ms;
};

/* One request being handled: the route's parameters and the caller. */
struct api_call {
	struct api *api;
	struct http_req *req;
	const struct api_session *who; /* NULL on public routes without a token */
	struct str tenant, id, sub;    /* {tenant}, {id}, {sub} of the path */
	char tenant_id[STORE_ID_SIZE]; /* {tenant} as a C string */
	char id_s[STORE_ID_SIZE];      /* {id} as a C string */
};

struct api_events;

struct api {
	struct api_conf conf;
	struct hash *sessions; /* token hash -> struct api_session */
	struct acct_throttle *throttle;
	struct api_events *ev;
	struct list logins; /* logins waiting for their password check */
	size_t nlogins;
	char dummy_hash[ACCT_PW_HASH_SIZE]; /* checked for unknown users */
	struct hash *kept; /* "tenant\nqueue" -> struct kept: metrics answers (api_res.c) */
};

/* Free the kept answers (api_res.c). */
void api_res_free(struct api *a);

/* --- replies (api_reply.c) --- */
/* {"error":{"code":@code,"message":...}} with @status. */
int api_error(struct http_req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with more header lines (each ending in CRLF). */
int api_error_hdr(struct http_req *r, int status, const char *headers, const char *code,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* @v as JSON with @status; steals the reference. */
int api_json(struct http_req *r, int status, json_t *v);
/* The body as a JSON object, or an answer of 400 and NULL. */
json_t *api_body_object(struct http_req *r);
/* An error status for a store errno, with a message naming @what. */
int api_store_error(struct http_req *r, int err, const char *what);

/* --- sessions (api_auth.c) --- */
/* The session of the bearer token of @r (header or ?token=), or NULL. */
const struct api_session *api_auth_session(struct api *a, const struct http_req *r);
void api_auth_login(struct api_call *c);
void api_auth_logout(struct api_call *c);
void api_auth_me(struct api_call *c);
int api_auth_init(struct api *a);
void api_auth_free(struct api *a);
/* Audit: one line of who did what (best effort: logged when the store fails). */
void api_audit(struct api_call *c, const char *action, const char *object, json_t *detail);

/* --- events (api_events.c) --- */
int api_events_alloc(struct api_events **ep, size_t window);
void api_events_free(struct api_events *e);

/* --- routes (api_router.c) and handlers (api_res.c) --- */
void api_route(struct api *a, struct http_req *r);
/*
 * Does @path (decoded, untrusted) match @pattern ("/api/v1/tenants/{tenant}")?
 * Captures of {tenant}, {id} and {sub} go to @c as views into @path, each
 * 1 to STORE_ID_SIZE - 1 bytes; a trailing slash is allowed.
 */
bool api_path_match(const char *pattern, struct str path, struct api_call *c);
void api_res_health(struct api_call *c);
void api_res_openapi(struct api_call *c);
void api_res_prometheus(struct api_call *c);
void api_res_tenants(struct api_call *c);
void api_res_tenant_get(struct api_call *c);
void api_res_tenant_put(struct api_call *c);
void api_res_users(struct api_call *c);
void api_res_user_get(struct api_call *c);
void api_res_queues(struct api_call *c);
void api_res_queue_get(struct api_call *c);
void api_res_ivr_get(struct api_call *c);
void api_res_numbers(struct api_call *c);
void api_res_skills(struct api_call *c);
void api_res_agents(struct api_call *c);
void api_res_agent_get(struct api_call *c);
void api_res_agent_put(struct api_call *c);
void api_res_metrics(struct api_call *c);
void api_res_metrics_queue(struct api_call *c);
void api_res_calls(struct api_call *c);
void api_res_call_hangup(struct api_call *c);
void api_res_cdrs(struct api_call *c);
void api_res_cdr_wrapup(struct api_call *c);
void api_res_queue_log(struct api_call *c);
void api_res_audit(struct api_call *c);
void api_res_usage(struct api_call *c);
void api_res_usage_all(struct api_call *c);
void api_res_stats_seats(struct api_call *c);
void api_res_seat_requests(struct api_call *c);
void api_res_seat_requests_all(struct api_call *c);
void api_res_seat_request_add(struct api_call *c);
void api_res_seat_request_decide(struct api_call *c);
void api_res_recordings(struct api_call *c);
void api_res_recording(struct api_call *c);
void api_res_recording_audio(struct api_call *c);

#endif

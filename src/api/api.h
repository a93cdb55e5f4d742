/*
 * api: the platform API of `shenggu serve --http` (docs/API.md).
 *
 * REST under /api/v1/ with bearer tokens from POST /api/v1/login, the live
 * event stream on the WebSocket /api/v1/events, the OpenAPI document and a
 * Prometheus /metrics. It sits between src/http (requests and WebSocket
 * connections) and the rest of the product: durable configuration and
 * records through the store (the same calls provisioning makes), live state
 * (agents, queues, calls) through the api_live callbacks that serve fills.
 *
 * Access control is decided in one place, the router (api_router.c), from
 * each route's declared access before any handler runs: a token of tenant A
 * gets 404 for every path of tenant B (no existence leaks), supervisors and
 * tenant admins see their tenant, agents see themselves, the operator sees
 * everything. Errors are JSON: {"error": {"code": "...", "message": "..."}}
 * with the message naming the field at fault.
 *
 * Threads: everything on the loop thread; password hashing runs on libuv's
 * thread pool and comes back to the loop.
 */
#ifndef API_API_H
#define API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api;
struct loop;
struct mbuf;
struct store;
struct store_audit;
struct http_req;
struct http_ws;

/* Live state that only serve knows; every callback may be NULL (then 503). */
struct api_live {
	/* Agents of @tenant with their state (@user NULL: all) as a JSON array. */
	int (*agents)(void *arg, const char *tenant, const char *user, json_t **out);
	/*
	 * Set agent @user's state: "logged-out", "ready", "not-ready" (with
	 * @reason, 0 none) or "logged-in". 0, or -errno with a message in @msg:
	 * -ENOENT not an agent, -EINVAL bad reason, -EBUSY on a call,
	 * -EDQUOT no free seat under the tenant's quota.
	 */
	int (*agent_set)(void *arg, const char *tenant, const char *user, const char *state,
			 uint32_t reason, char *msg, size_t size);
	/*
	 * A number that changes whenever @tenant's live state does (an ACD
	 * event): answers built from the live state are kept while it holds
	 * (and for at most a second, for the figures that move with time).
	 * NULL: nothing is kept.
	 */
	uint64_t (*generation)(void *arg, const char *tenant);
	/* Real-time metrics of @tenant's queues (@queue NULL: all) as a JSON array. */
	int (*queues)(void *arg, const char *tenant, const char *queue, json_t **out);
	/* Calls of @tenant in progress, with queue positions, as a JSON array. */
	int (*calls)(void *arg, const char *tenant, json_t **out);
	/* End call @uuid of @tenant; with @agent, only a call that agent is on.
	 * 0 or -ENOENT. */
	int (*hangup)(void *arg, const char *tenant, const char *uuid, const char *agent);
	/* Agents of @tenant logged in now (seats in use) into *@n; 0 or -errno. */
	int (*seats_in_use)(void *arg, const char *tenant, uint32_t *n);
	/* @tenant's configuration changed through the API: reload what is cached. */
	void (*changed)(void *arg, const char *tenant);
	/* Store an audit entry (the copy is the callee's): serve hands it to
	 * its journal's thread, so the loop never waits for the disk. NULL:
	 * store_audit_put() on the loop. */
	int (*audit)(void *arg, const struct store_audit *a);
	/* Platform figures for /metrics, Prometheus text lines appended to @out. */
	int (*prometheus)(void *arg, struct mbuf *out);
};

struct api_conf {
	struct store *store; /* borrowed; used on the loop thread */
	struct loop *loop;
	const struct api_live *live;
	void *live_arg;
	int64_t token_ttl_ms;	  /* lifetime of a bearer token; 0: 12 hours */
	size_t event_window;	  /* events kept for reconnecting clients; 0: 65536 */
	const char *version;	  /* reported by /api/v1/health */
	const char *openapi_path; /* the OpenAPI document served at /api/v1/openapi.json */
	const char *data_dir;	  /* where recordings' paths start */
	/* Every event api_publish() records, as the stream sends it (may be
	 * NULL): on the loop thread, @json (@len bytes, NUL-terminated)
	 * borrowed for the call. Webhooks take their events here. */
	void (*on_event)(void *arg, const char *tenant, const char *type, const char *json,
			 size_t len);
	void *on_event_arg;
};

int api_alloc(struct api **ap, const struct api_conf *conf);
/* Pending logins are dropped; WebSocket clients must be closed first. NULL is fine. */
void api_free(struct api *a);

/* The http callbacks (struct http_conf), with @arg the api. */
void api_request(void *arg, struct http_req *req);
int api_ws_open(void *arg, struct http_ws *ws, const struct http_req *req, void **userp);
void api_ws_writable(void *arg, struct http_ws *ws, void *user);
void api_ws_message(void *arg, struct http_ws *ws, void *user, const char *msg, size_t len);
void api_ws_close(void *arg, struct http_ws *ws, void *user);

/*
 * Publish an event to the stream: @type ("agent.state", "task.offered",
 * "task.answered", "task.ended", "queue.metrics", "registration"...),
 * of @tenant (NULL: platform), about agent @user (NULL: none; agents see
 * only events about themselves, and queue metrics), with @data (an object,
 * reference stolen; may be NULL). Returns the event's id, or 0 when it
 * could not be recorded (out of memory).
 */
uint64_t api_publish(struct api *a, const char *tenant, const char *type, const char *user,
		     json_t *data);
/* Event-stream clients connected now. */
size_t api_stream_clients(const struct api *a);

#endif

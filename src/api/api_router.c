/*
 * api_router: the route table and the one place where access is decided.
 *
 * Each route declares who may call it; the router checks the token, the
 * tenant of the path and the caller's roles before the handler runs, so a
 * handler never has to (and cannot forget to). The rules:
 *   - a path under /tenants/{tenant} of another tenant is 404, the same
 *     answer as for a tenant that does not exist: nothing leaks;
 *   - a role too low for a route of the caller's own tenant is 403;
 *   - an agent asking for another user's object ({id} on a "self" route)
 *     gets 404 as well: agents do not learn who else exists;
 *   - the platform operator passes every check.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LOG_MODULE "api"
#include "api/api_internal.h"
#include "base/log.h"

enum access {
	A_PUBLIC,     /* no token needed */
	A_ANY,	      /* any valid token */
	A_OPERATOR,   /* platform operators */
	A_ADMIN,      /* tenant admins of {tenant} */
	A_SUPERVISOR, /* supervisors (and tenant admins) of {tenant} */
	A_MEMBER,     /* anyone of {tenant} */
	A_SELF,	      /* the agent {id} itself, or a supervisor of {tenant} */
};

typedef void(handler_h)(struct api_call *c);

struct route {
	enum http_method method;
	const char *path; /* segments; {tenant}, {id}, {sub} capture one each */
	enum access access;
	handler_h *h;
};

static const struct route routes[] = {
    {HTTP_GET, "/api/v1/health", A_PUBLIC, api_res_health},
    {HTTP_GET, "/api/v1/openapi.json", A_PUBLIC, api_res_openapi},
    {HTTP_POST, "/api/v1/login", A_PUBLIC, api_auth_login},
    {HTTP_POST, "/api/v1/logout", A_ANY, api_auth_logout},
    {HTTP_GET, "/api/v1/me", A_ANY, api_auth_me},
    {HTTP_GET, "/metrics", A_OPERATOR, api_res_prometheus},
    {HTTP_GET, "/api/v1/audit", A_OPERATOR, api_res_audit},
    {HTTP_GET, "/api/v1/tenants", A_OPERATOR, api_res_tenants},
    {HTTP_GET, "/api/v1/usage", A_OPERATOR, api_res_usage_all},
    {HTTP_GET, "/api/v1/stats/seats", A_OPERATOR, api_res_stats_seats},
    {HTTP_GET, "/api/v1/seat-requests", A_OPERATOR, api_res_seat_requests_all},
    {HTTP_PUT, "/api/v1/seat-requests/{id}", A_OPERATOR, api_res_seat_request_decide},
    {HTTP_GET, "/api/v1/tenants/{tenant}", A_MEMBER, api_res_tenant_get},
    {HTTP_PUT, "/api/v1/tenants/{tenant}", A_OPERATOR, api_res_tenant_put},
    {HTTP_GET, "/api/v1/tenants/{tenant}/users", A_SUPERVISOR, api_res_users},
    {HTTP_GET, "/api/v1/tenants/{tenant}/users/{id}", A_SELF, api_res_user_get},
    {HTTP_GET, "/api/v1/tenants/{tenant}/queues", A_MEMBER, api_res_queues},
    {HTTP_GET, "/api/v1/tenants/{tenant}/queues/{id}", A_MEMBER, api_res_queue_get},
    {HTTP_GET, "/api/v1/tenants/{tenant}/ivr/{id}", A_ADMIN, api_res_ivr_get},
    {HTTP_GET, "/api/v1/tenants/{tenant}/numbers", A_ADMIN, api_res_numbers},
    {HTTP_GET, "/api/v1/tenants/{tenant}/skills", A_SUPERVISOR, api_res_skills},
    {HTTP_GET, "/api/v1/tenants/{tenant}/agents", A_SUPERVISOR, api_res_agents},
    {HTTP_GET, "/api/v1/tenants/{tenant}/agents/{id}", A_SELF, api_res_agent_get},
    {HTTP_PUT, "/api/v1/tenants/{tenant}/agents/{id}/state", A_SELF, api_res_agent_put},
    {HTTP_GET, "/api/v1/tenants/{tenant}/metrics", A_MEMBER, api_res_metrics},
    {HTTP_GET, "/api/v1/tenants/{tenant}/metrics/queues/{id}", A_MEMBER, api_res_metrics_queue},
    {HTTP_GET, "/api/v1/tenants/{tenant}/calls", A_SUPERVISOR, api_res_calls},
    {HTTP_DELETE, "/api/v1/tenants/{tenant}/calls/{id}", A_MEMBER, api_res_call_hangup},
    {HTTP_GET, "/api/v1/tenants/{tenant}/cdrs", A_MEMBER, api_res_cdrs},
    {HTTP_PUT, "/api/v1/tenants/{tenant}/cdrs/{id}/wrapup", A_MEMBER, api_res_cdr_wrapup},
    {HTTP_GET, "/api/v1/tenants/{tenant}/queue_log", A_SUPERVISOR, api_res_queue_log},
    {HTTP_GET, "/api/v1/tenants/{tenant}/audit", A_ADMIN, api_res_audit},
    {HTTP_GET, "/api/v1/tenants/{tenant}/usage", A_ADMIN, api_res_usage},
    {HTTP_GET, "/api/v1/tenants/{tenant}/seat-requests", A_ADMIN, api_res_seat_requests},
    {HTTP_POST, "/api/v1/tenants/{tenant}/seat-requests", A_ADMIN, api_res_seat_request_add},
    {HTTP_GET, "/api/v1/tenants/{tenant}/recordings", A_SUPERVISOR, api_res_recordings},
    {HTTP_GET, "/api/v1/tenants/{tenant}/recordings/{id}", A_SUPERVISOR, api_res_recording},
    {HTTP_GET, "/api/v1/tenants/{tenant}/recordings/{id}/audio", A_SUPERVISOR,
     api_res_recording_audio},
};

bool api_path_match(const char *pattern, struct str path, struct api_call *c)
{
	const char *p = pattern;
	size_t i = 0;

	while (*p) {
		const char *pe;
		size_t seg_end;

		if (*p != '/' || i >= path.len || path.p[i] != '/')
			return false;
		p++, i++;
		pe = strchr(p, '/');
		if (!pe)
			pe = p + strlen(p);
		for (seg_end = i; seg_end < path.len && path.p[seg_end] != '/'; seg_end++)
			;
		if (*p == '{') {
			struct str v = str_make(path.p + i, seg_end - i);

			if (!v.len || v.len >= STORE_ID_SIZE)
				return false;
			if (!strncmp(p, "{tenant}", 8))
				c->tenant = v;
			else if (!strncmp(p, "{id}", 4))
				c->id = v;
			else
				c->sub = v;
		} else if ((size_t)(pe - p) != seg_end - i || memcmp(p, path.p + i, seg_end - i)) {
			return false;
		}
		p = pe;
		i = seg_end;
	}
	/* A trailing slash is the same resource. */
	return i == path.len || (i + 1 == path.len && path.p[i] == '/');
}

static bool has(const struct api_session *who, unsigned roles)
{
	return who && (who->roles & roles);
}

/* 0 when @who may call @rt with the captures of @c, else the answer is sent. */
static int check(const struct route *rt, struct api_call *c)
{
	const struct api_session *who = c->who;
	struct http_req *r = c->req;

	if (rt->access == A_PUBLIC)
		return 0;
	if (!who) {
		api_error_hdr(r, 401, "WWW-Authenticate: Bearer\r\n", "unauthorized",
			      "Authorization: a valid bearer token is required");
		return -EACCES;
	}
	if (has(who, ACCT_ROLE_OPERATOR))
		return 0;
	if (c->tenant.p && !str_eq(&c->tenant, &(struct str){who->tenant, strlen(who->tenant)})) {
		api_error(r, 404, "not_found", "tenant: no such tenant");
		return -ENOENT;
	}
	switch (rt->access) {
	case A_OPERATOR:
		api_error(r, 403, "forbidden", "role: platform operator required");
		return -EPERM;
	case A_ADMIN:
		if (has(who, ACCT_ROLE_TENANT_ADMIN))
			return 0;
		api_error(r, 403, "forbidden", "role: tenant-admin required");
		return -EPERM;
	case A_SUPERVISOR:
		if (has(who, ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR))
			return 0;
		api_error(r, 403, "forbidden", "role: supervisor or tenant-admin required");
		return -EPERM;
	case A_SELF:
		if (has(who, ACCT_ROLE_TENANT_ADMIN | ACCT_ROLE_SUPERVISOR) ||
		    str_eq(&c->id, &(struct str){who->user, strlen(who->user)}))
			return 0;
		api_error(r, 404, "not_found", "id: no such user");
		return -ENOENT;
	default:
		return 0;
	}
}

void api_route(struct api *a, struct http_req *r)
{
	struct str path = http_req_path(r);
	enum http_method m = http_req_method(r);
	const struct route *found = NULL;
	char allow[96] = "";
	struct api_call c = {.api = a, .req = r};

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		struct api_call t = {0};

		if (!api_path_match(routes[i].path, path, &t))
			continue;
		if (routes[i].method == m || (m == HTTP_HEAD && routes[i].method == HTTP_GET)) {
			found = &routes[i];
			c.tenant = t.tenant;
			c.id = t.id;
			c.sub = t.sub;
			break;
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			 allow[0] ? ", " : "",
			 routes[i].method == HTTP_GET	 ? "GET"
			 : routes[i].method == HTTP_PUT	 ? "PUT"
			 : routes[i].method == HTTP_POST ? "POST"
							 : "DELETE");
	}
	if (!found) {
		char hdr[128];

		if (!allow[0]) {
			api_error(r, 404, "not_found", "path: no such endpoint");
			return;
		}
		snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
		api_error_hdr(r, 405, hdr, "method_not_allowed",
			      "method: %s not allowed on this path", http_req_method_name(r));
		return;
	}
	c.who = api_auth_session(a, r);
	if (check(found, &c))
		return;
	str_copy_cstr(c.tenant_id, sizeof(c.tenant_id), &c.tenant);
	str_copy_cstr(c.id_s, sizeof(c.id_s), &c.id);
	found->h(&c);
}

void api_request(void *arg, struct http_req *req)
{
	api_route(arg, req);
}

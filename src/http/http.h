/*
 * http: the HTTP/1.1 and WebSocket server of `shenggu serve --http`.
 *
 * A thin layer over libwebsockets running on our own libuv loop (the loop
 * of src/loop): lws parses requests, keeps connections alive, enforces the
 * header limit and the timeouts, and frames WebSocket messages; this module
 * turns that into two small interfaces for the rest of the product:
 *
 * - Requests. The server collects a request (method, path, query, the
 *   headers the API needs, a body up to conf.max_body) and calls
 *   conf.on_request once. The handler answers at once with http_respond*()
 *   or keeps the request and answers later from the loop thread (work done
 *   on the thread pool, for example): the request stays valid until it is
 *   answered, even when the client has gone (the answer is then dropped).
 *   Every request gets exactly one answer. Large text answers are gzipped
 *   for clients that accept it; files are streamed with HTTP Range support.
 *   Paths that do not start with conf.api_prefix are static files under
 *   conf.static_dir.
 *
 * - WebSockets. An upgrade whose path is conf.ws_path is offered to
 *   conf.on_ws_open, which accepts it (returns a pointer it owns, stored
 *   with the connection) or refuses it with an HTTP status. The owner asks
 *   for writability with http_ws_want_write() and writes in conf.on_ws_writable
 *   with http_ws_write() while it returns 0 — so the server never queues
 *   messages per client: the owner decides what to send next, from its own
 *   (shared) buffers. conf.on_ws_close comes once per accepted connection.
 *
 * All functions and callbacks run on the loop thread. No global state.
 */
#ifndef HTTP_HTTP_H
#define HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/str.h"

struct loop;
struct http_server;
struct http_req;
struct http_ws;

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_PATCH,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_OTHER,
};

/* Request headers the server keeps (others are not copied). */
enum http_hdr {
	HTTP_HDR_AUTHORIZATION,
	HTTP_HDR_CONTENT_TYPE,
	HTTP_HDR_ACCEPT_ENCODING,
	HTTP_HDR_RANGE,
	HTTP_HDR_IF_NONE_MATCH,
	HTTP_HDR_ORIGIN,
	HTTP_HDR_COUNT_,
};

/* A request arrived: answer it now or later (see above). */
typedef void(http_req_h)(void *arg, struct http_req *req);
/*
 * A WebSocket upgrade to conf.ws_path: return 0 and set *@userp to accept,
 * or an HTTP status (401, 403, 404...) to refuse. The request's path,
 * query and headers are readable; it cannot be answered (it is not kept).
 */
typedef int(http_ws_open_h)(void *arg, struct http_ws *ws, const struct http_req *req,
			    void **userp);
typedef void(http_ws_event_h)(void *arg, struct http_ws *ws, void *user);
typedef void(http_ws_msg_h)(void *arg, struct http_ws *ws, void *user, const char *msg, size_t len);

struct http_conf {
	const char *host; /* numeric address to listen on */
	uint16_t port;
	const char *api_prefix;	 /* "/api/": requests for the handler */
	const char *api_exact;	 /* one more path for the handler ("/metrics"), or NULL */
	const char *static_dir;	 /* files for everything else; NULL: 404 */
	const char *ws_path;	 /* "/api/v1/events" */
	size_t max_body;	 /* bytes; larger bodies get 413 */
	unsigned idle_timeout_s; /* keep-alive idle time before closing */
	http_req_h *on_request;
	http_ws_open_h *on_ws_open;
	http_ws_event_h *on_ws_writable;
	http_ws_msg_h *on_ws_message; /* a text message from the client; may be NULL */
	http_ws_event_h *on_ws_close;
	void *arg;
};

/*
 * Listen and serve on @l. On failure a one-line reason goes to @errbuf.
 * The caller frees the server with http_server_free() before the loop.
 */
int http_server_alloc(struct http_server **sp, const struct http_conf *conf, struct loop *l,
		      char *errbuf, size_t errlen);
/*
 * Stop: close every connection (pending requests are dropped, not leaked);
 * the owner's callbacks are not called any more. libwebsockets closes its
 * libuv handles over the loop's next runs: http_server_free() once the loop
 * has run dry (loop_run() returned) finishes. NULL is fine; both idempotent
 * up to the free.
 */
void http_server_stop(struct http_server *s);
void http_server_free(struct http_server *s);
/* Open connections: HTTP and WebSocket. */
size_t http_server_connections(const struct http_server *s);

/* --- requests --- */
enum http_method http_req_method(const struct http_req *r);
const char *http_req_method_name(const struct http_req *r);
/* The decoded path, without the query: "/api/v1/tenants/acme". */
struct str http_req_path(const struct http_req *r);
/* The value of query argument @name, decoded; empty view (p NULL) when absent. */
struct str http_req_arg(const struct http_req *r, const char *name);
/* A kept header's value; empty view (p NULL) when absent. */
struct str http_req_header(const struct http_req *r, enum http_hdr h);
struct str http_req_body(const struct http_req *r);
/* The client's address as text ("127.0.0.1"). */
const char *http_req_peer(const struct http_req *r);
/* True once the client has gone: an answer will be dropped. */
bool http_req_gone(const struct http_req *r);

/*
 * Answer with @status, @ctype and a copy of @body. @headers is more header
 * lines, each ending in CRLF, or NULL. Frees @r: it must not be used after.
 * Returns 0, or a negative errno when the answer could not be queued (the
 * connection is then closed); either way the request is done.
 */
int http_respond(struct http_req *r, int status, const char *ctype, const char *headers,
		 const void *body, size_t len);
/*
 * Answer with the file open on @fd (taken over: closed when done), honouring
 * a Range header (206 with Content-Range, 416 when unsatisfiable). @ctype
 * and @headers as above.
 */
int http_respond_fd(struct http_req *r, int fd, const char *ctype, const char *headers);

/*
 * A Range header's value (RFC 9110 §14.1.2) against a file of @size bytes:
 * "bytes=a-b", "bytes=a-" or "bytes=-n" (the last n), one range only (a
 * list is refused: multipart answers are not worth it here). 0 and the
 * inclusive [*@from, *@to] inside the file, or -ERANGE (answer 416).
 */
int http_range_parse(const struct str *h, uint64_t size, uint64_t *from, uint64_t *to);

/* --- WebSockets --- */
/* Ask for on_ws_writable once the connection can take a message. */
void http_ws_want_write(struct http_ws *ws);
/*
 * Send one text message. Returns 0 when the connection can take another one
 * now, 1 when the owner should wait for the next on_ws_writable, or a
 * negative errno (the connection is closing).
 */
int http_ws_write(struct http_ws *ws, const char *msg, size_t len);
/* Close with a WebSocket status code (1000 normal, 1008 policy) and reason. */
void http_ws_close(struct http_ws *ws, int code, const char *reason);

#endif

/*
 * http: HTTP/1.1 and WebSocket serving over libwebsockets on our libuv loop.
 *
 * lws owns the connections (struct lws, "wsi") and calls http_cb() for
 * everything that happens on them. Per connection lws keeps a small
 * struct conn for us. A request we hand to the application lives in its own
 * allocation (struct http_req), because the application may answer after
 * the connection is gone: the connection and its pending request point at
 * each other, and whichever ends first unlinks itself.
 *
 * Answers go out in one write when they are small (status line, headers
 * and body in one buffer, one send() per request); bodies larger than one
 * chunk, and files, are written a chunk per writable callback so a slow
 * client never makes us buffer a whole file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <zlib.h>

#define LOG_MODULE "http"
#include "base/arena.h"
#include "base/log.h"
#include "base/mbuf.h"
#include "base/mem.h"
#include "http/http.h"
#include "loop/loop.h"

#define CHUNK	     16384 /* bytes written per writable callback */
#define GZIP_MIN     512   /* smaller bodies are not worth compressing */
#define MAX_ARGS     32
#define STR_SPACE    1024 /* inline arena chunk of a request */
#define HDR_SPACE    2048 /* status line and headers of an answer */
#define MAX_WS_MSG   4096 /* messages from WebSocket clients: commands only */
#define PATH_MAX_LEN 1024
/*
 * The browser's protections, on the pages and files of the web UI (an
 * API answer is JSON: it gets nosniff, the rest would cost every request
 * for nothing). Scripts, styles and fonts from this origin only; the event
 * stream's WebSocket allowed.
 */
#define PAGE_HEADERS                                                                            \
	"Content-Security-Policy: default-src 'none'; img-src 'self' data:; script-src 'self';" \
	" style-src 'self'; font-src 'self'; connect-src 'self' ws: wss:;"                      \
	" media-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'\r\n"    \
	"X-Frame-Options: deny\r\nReferrer-Policy: no-referrer\r\n"

struct http_server {
	struct http_conf conf;
	struct lws_context *ctx;
	struct lws_protocols protocols[2];
	uint16_t port;
	size_t nconn;
	bool closing;	/* http_server_stop() ran: lws is closing, the owner is gone */
	bool finalized; /* lws is done with us */
};

enum conn_kind { CONN_HTTP, CONN_WS };

struct http_ws {
	struct lws *wsi;
	struct http_server *srv;
	void *user;
	bool closing;
};

/* lws's per-connection user space (zeroed by lws). */
struct conn {
	enum conn_kind kind;
	struct http_req *req; /* the request being read or answered */
	struct http_ws ws;
};

struct http_req {
	struct http_server *srv;
	struct lws *wsi; /* NULL once the client has gone */
	struct conn *conn;
	enum http_method method;
	const char *method_name;
	struct str path;
	struct str args[MAX_ARGS]; /* "name=value", decoded */
	unsigned nargs;
	struct str hdr[HTTP_HDR_COUNT_];
	char peer[48];
	struct mbuf body;
	bool dispatched; /* handed to the application */
	bool too_large;
	bool close; /* the client sent "Connection: close" (RFC 9112 §9.6) */
	/* the answer being written */
	uint8_t *out; /* LWS_PRE + headers + body, or a chunk buffer */
	size_t out_len, out_pos;
	int fd;
	uint64_t fd_left;
	struct arena arena;
	char space[STR_SPACE];
};

static const char *const method_names[] = {
    [HTTP_GET] = "GET",		[HTTP_HEAD] = "HEAD",	[HTTP_POST] = "POST",
    [HTTP_PUT] = "PUT",		[HTTP_PATCH] = "PATCH", [HTTP_DELETE] = "DELETE",
    [HTTP_OPTIONS] = "OPTIONS", [HTTP_OTHER] = "OTHER",
};

static const enum lws_token_indexes hdr_tokens[HTTP_HDR_COUNT_] = {
    [HTTP_HDR_AUTHORIZATION] = WSI_TOKEN_HTTP_AUTHORIZATION,
    [HTTP_HDR_CONTENT_TYPE] = WSI_TOKEN_HTTP_CONTENT_TYPE,
    [HTTP_HDR_ACCEPT_ENCODING] = WSI_TOKEN_HTTP_ACCEPT_ENCODING,
    [HTTP_HDR_RANGE] = WSI_TOKEN_HTTP_RANGE,
    [HTTP_HDR_IF_NONE_MATCH] = WSI_TOKEN_HTTP_IF_NONE_MATCH,
    [HTTP_HDR_ORIGIN] = WSI_TOKEN_ORIGIN,
};

static enum http_method method_of(int lws_method)
{
	switch (lws_method) {
	case LWSHUMETH_GET:
		return HTTP_GET;
	case LWSHUMETH_HEAD:
		return HTTP_HEAD;
	case LWSHUMETH_POST:
		return HTTP_POST;
	case LWSHUMETH_PUT:
		return HTTP_PUT;
	case LWSHUMETH_PATCH:
		return HTTP_PATCH;
	case LWSHUMETH_DELETE:
		return HTTP_DELETE;
	case LWSHUMETH_OPTIONS:
		return HTTP_OPTIONS;
	default:
		return HTTP_OTHER;
	}
}

static void req_free(struct http_req *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	mbuf_reset(&r->body);
	mem_free(r->out);
	arena_reset(&r->arena);
	mem_free(r);
}

/* Copy header @tok of @wsi into the request's arena; empty when absent. */
static int copy_hdr(struct http_req *r, struct lws *wsi, enum lws_token_indexes tok,
		    struct str *out)
{
	int len = lws_hdr_total_length(wsi, tok);
	char *p;

	*out = STR_NULL;
	if (len <= 0)
		return 0;
	p = arena_alloc(&r->arena, (size_t)len + 1);
	if (!p || lws_hdr_copy(wsi, p, len + 1, tok) < 0)
		return -ENOMEM;
	*out = str_make(p, (size_t)len);
	return 0;
}

/* A new request on @wsi whose decoded path is @path: collect what we keep. */
static struct http_req *req_new(struct http_server *s, struct lws *wsi, const char *path,
				size_t path_len)
{
	struct http_req *r = mem_zalloc(sizeof(*r));
	char *uri, buf[512];
	int ulen, m;

	if (!r)
		return NULL;
	r->srv = s;
	r->wsi = wsi;
	r->fd = -1;
	arena_init(&r->arena, r->space, sizeof(r->space), 64 * 1024);
	mbuf_init(&r->body, s->conf.max_body);
	m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
	r->method = method_of(m);
	r->method_name = method_names[r->method];
	r->path.p = arena_strdup(&r->arena, &(struct str){path, path_len});
	r->path.len = path_len;
	if (!r->path.p)
		goto fail;
	for (int i = 0; i < MAX_ARGS; i++) {
		int n = lws_hdr_copy_fragment(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_URI_ARGS, i);
		struct str a;

		if (n < 0)
			break;
		a = str_make(buf, (size_t)n);
		r->args[r->nargs].p = arena_strdup(&r->arena, &a);
		if (!r->args[r->nargs].p)
			goto fail;
		r->args[r->nargs++].len = a.len;
	}
	for (int h = 0; h < HTTP_HDR_COUNT_; h++)
		if (copy_hdr(r, wsi, hdr_tokens[h], &r->hdr[h]))
			goto fail;
	{
		char conn[64];
		int n = lws_hdr_copy(wsi, conn, sizeof(conn), WSI_TOKEN_CONNECTION);

		r->close = n > 0 && strcasestr(conn, "close");
	}
	return r;
fail:
	req_free(r);
	return NULL;
}

enum http_method http_req_method(const struct http_req *r)
{
	return r->method;
}

const char *http_req_method_name(const struct http_req *r)
{
	return r->method_name;
}

struct str http_req_path(const struct http_req *r)
{
	return r->path;
}

struct str http_req_arg(const struct http_req *r, const char *name)
{
	size_t n = strlen(name);

	for (unsigned i = 0; i < r->nargs; i++) {
		const struct str *a = &r->args[i];

		if (a->len > n && a->p[n] == '=' && !memcmp(a->p, name, n))
			return str_make(a->p + n + 1, a->len - n - 1);
		if (a->len == n && !memcmp(a->p, name, n))
			return str_make(a->p + n, 0);
	}
	return STR_NULL;
}

struct str http_req_header(const struct http_req *r, enum http_hdr h)
{
	return (unsigned)h < HTTP_HDR_COUNT_ ? r->hdr[h] : STR_NULL;
}

struct str http_req_body(const struct http_req *r)
{
	return mbuf_str(&r->body);
}

/* Asked for, not copied with every request: a system call (getpeername). */
const char *http_req_peer(const struct http_req *r)
{
	struct http_req *w = (struct http_req *)(uintptr_t)r;

	if (!r->peer[0] && (!r->wsi || !lws_get_peer_simple(r->wsi, w->peer, sizeof(w->peer))))
		snprintf(w->peer, sizeof(w->peer), "?");
	return r->peer;
}

bool http_req_gone(const struct http_req *r)
{
	return !r->wsi;
}

/* --- answers --- */

static bool accepts_gzip(const struct http_req *r)
{
	const struct str *ae = &r->hdr[HTTP_HDR_ACCEPT_ENCODING];

	return ae->p && str_find(ae, &STR("gzip")) >= 0;
}

static bool compressible(const char *ctype)
{
	return ctype && (!strncmp(ctype, "application/json", 16) || !strncmp(ctype, "text/", 5) ||
			 !strncmp(ctype, "application/javascript", 22));
}

/* gzip @in into a new buffer with @pre bytes of headroom; NULL when not smaller. */
static uint8_t *gzip_body(const void *in, size_t len, size_t pre, size_t *outlen)
{
	z_stream z = {0};
	size_t cap = compressBound(len) + 32;
	uint8_t *out = mem_alloc(pre + cap);

	if (!out)
		return NULL;
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		mem_free(out);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out + pre;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= len) {
		deflateEnd(&z);
		mem_free(out);
		return NULL;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

/* Add "Name: value\r\n" lines of @headers through lws. */
static int add_headers(struct lws *wsi, const char *headers, unsigned char **p, unsigned char *end)
{
	char name[64];

	while (headers && *headers) {
		const char *colon = strchr(headers, ':'), *eol = strstr(headers, "\r\n");
		const char *v;
		size_t nlen;

		if (!colon || !eol || colon > eol || (size_t)(colon - headers) >= sizeof(name) - 1)
			return -EINVAL;
		nlen = (size_t)(colon - headers);
		memcpy(name, headers, nlen);
		name[nlen] = ':';
		name[nlen + 1] = '\0';
		for (v = colon + 1; *v == ' '; v++)
			;
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)name,
						(const unsigned char *)v, (int)(eol - v), p, end))
			return -ENOSPC;
		headers = eol + 2;
	}
	return 0;
}

/* Status line and headers into @start..@end; returns their length or < 0. */
static int head(struct http_req *r, int status, const char *ctype, const char *headers,
		uint64_t len, bool gz, unsigned char *start, unsigned char *end)
{
	unsigned char *p = start;
	char num[24], *q = num + sizeof(num);
	int n;

	/* The length by hand: snprintf's machinery is a visible cost per answer. */
	do
		*--q = (char)('0' + len % 10);
	while (len /= 10);
	n = (int)(num + sizeof(num) - q);

	if (lws_add_http_header_status(r->wsi, (unsigned)status, &p, end) ||
	    lws_add_http_header_by_name(r->wsi, (const unsigned char *)"x-content-type-options:",
					(const unsigned char *)"nosniff", 7, &p, end))
		return -ENOSPC;
	if (ctype &&
	    lws_add_http_header_by_token(r->wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
					 (const unsigned char *)ctype, (int)strlen(ctype), &p, end))
		return -ENOSPC;
	/* Content-Length is added as a plain header: lws then does no
	 * accounting of its own, and the whole answer can go in one write. */
	if (lws_add_http_header_by_token(r->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
					 (const unsigned char *)q, n, &p, end))
		return -ENOSPC;
	if (gz &&
	    (lws_add_http_header_by_token(r->wsi, WSI_TOKEN_HTTP_CONTENT_ENCODING,
					  (const unsigned char *)"gzip", 4, &p, end) ||
	     lws_add_http_header_by_token(r->wsi, WSI_TOKEN_HTTP_VARY,
					  (const unsigned char *)"Accept-Encoding", 15, &p, end)))
		return -ENOSPC;
	if (add_headers(r->wsi, headers, &p, end))
		return -ENOSPC;
	if (r->close && lws_add_http_header_by_token(r->wsi, WSI_TOKEN_CONNECTION,
						     (const unsigned char *)"close", 5, &p, end))
		return -ENOSPC;
	if (lws_finalize_http_header(r->wsi, &p, end))
		return -ENOSPC;
	return (int)(p - start);
}

/* Write what is left of the answer; 1 when done, 0 to go on, -1 to close. */
static int write_more(struct http_req *r)
{
	struct lws *wsi = r->wsi;

	if (r->out_pos < r->out_len) {
		size_t n = r->out_len - r->out_pos;
		bool last = r->fd < 0;

		if (n > CHUNK)
			n = CHUNK, last = false;
		/* lws_write() needs LWS_PRE bytes before the data. */
		if (lws_write(wsi, r->out + LWS_PRE + r->out_pos, n,
			      last && r->out_pos + n == r->out_len ? LWS_WRITE_HTTP_FINAL
								   : LWS_WRITE_HTTP) < 0)
			return -1;
		r->out_pos += n;
		if (r->out_pos < r->out_len || r->fd >= 0)
			return 0;
		return 1;
	}
	if (r->fd >= 0 && r->fd_left) {
		size_t want = r->fd_left < CHUNK ? (size_t)r->fd_left : CHUNK;
		ssize_t got;

		got = read(r->fd, r->out + LWS_PRE, want);
		if (got <= 0)
			return -1; /* the file shrank: the length we promised is a lie now */
		r->fd_left -= (uint64_t)got;
		r->out_len = r->out_pos = 0;
		if (lws_write(wsi, r->out + LWS_PRE, (size_t)got,
			      r->fd_left ? LWS_WRITE_HTTP : LWS_WRITE_HTTP_FINAL) < 0)
			return -1;
		return r->fd_left ? 0 : 1;
	}
	return 1;
}

/*
 * The answer is written: free the request and ready the connection for the
 * next one. -1 when it must close instead (no keep-alive).
 */
static int finish(struct http_req *r)
{
	struct lws *wsi = r->wsi;
	bool close = r->close;

	r->conn->req = NULL;
	req_free(r);
	/* lws keeps an HTTP/1.1 connection whatever the client asked. */
	return lws_http_transaction_completed(wsi) || close ? -1 : 0;
}

/* Drop @r and close its connection once lws is back in its loop. */
static void abort_answer(struct http_req *r)
{
	lws_set_timeout(r->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
	r->conn->req = NULL;
	req_free(r);
}

/* Start writing the prepared answer of @r (on the loop thread). */
static int start_answer(struct http_req *r)
{
	struct lws *wsi = r->wsi;
	int n = write_more(r);

	if (n < 0) {
		abort_answer(r);
		return -EPIPE;
	}
	if (n == 0) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (finish(r) < 0) /* no keep-alive: close once the answer is out */
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
	return 0;
}

int http_respond(struct http_req *r, int status, const char *ctype, const char *headers,
		 const void *body, size_t len)
{
	uint8_t *gz = NULL, *buf;
	size_t gzlen = 0;
	int hl, err;

	if (!r->wsi) {
		req_free(r);
		return -EPIPE;
	}
	if (len >= GZIP_MIN && compressible(ctype) && accepts_gzip(r))
		gz = gzip_body(body, len, LWS_PRE + HDR_SPACE, &gzlen);
	if (gz) {
		buf = gz;
		body = NULL;
		len = gzlen;
	} else {
		buf = mem_alloc(LWS_PRE + HDR_SPACE + len);
		if (!buf) {
			err = -ENOMEM;
			goto fail;
		}
	}
	hl = head(r, status, ctype, headers, len, gz != NULL, buf + LWS_PRE,
		  buf + LWS_PRE + HDR_SPACE);
	if (hl < 0) {
		mem_free(buf);
		err = hl;
		goto fail;
	}
	if (gz)
		memmove(buf + LWS_PRE + hl, buf + LWS_PRE + HDR_SPACE, len);
	else if (len)
		memcpy(buf + LWS_PRE + hl, body, len);
	if (r->method == HTTP_HEAD)
		len = 0;
	r->out = buf;
	r->out_len = (size_t)hl + len;
	r->out_pos = 0;
	return start_answer(r);
fail:
	log_warn("answer %d to %s %.*s not sent err=%d", status, r->method_name, STR_FMT(&r->path),
		 err);
	abort_answer(r);
	return err;
}

int http_range_parse(const struct str *h, uint64_t size, uint64_t *from, uint64_t *to)
{
	struct str v, a, b;
	long dash;
	uint64_t x, y;

	if (!str_has_prefix(h, &STR("bytes=")))
		return -ERANGE;
	v = str_trim(str_sub(h, 6, h->len - 6));
	if (str_chr(&v, ',') >= 0)
		return -ERANGE; /* one range only: multipart answers are not worth it */
	dash = str_chr(&v, '-');
	if (dash < 0)
		return -ERANGE;
	a = str_trim(str_sub(&v, 0, (size_t)dash));
	b = str_trim(str_sub(&v, (size_t)dash + 1, v.len - (size_t)dash - 1));
	if (!a.len) { /* the last y bytes */
		if (str_to_u64(&b, &y) || !y || !size)
			return -ERANGE;
		*from = y >= size ? 0 : size - y;
		*to = size - 1;
		return 0;
	}
	if (str_to_u64(&a, &x) || x >= size)
		return -ERANGE;
	if (!b.len)
		y = size - 1;
	else if (str_to_u64(&b, &y) || y < x)
		return -ERANGE;
	*from = x;
	*to = y >= size ? size - 1 : y;
	return 0;
}

int http_respond_fd(struct http_req *r, int fd, const char *ctype, const char *headers)
{
	struct stat sb;
	uint64_t from = 0, to = 0, size;
	char extra[512];
	int status = 200, hl;

	if (!r->wsi || fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		if (!r->wsi) {
			req_free(r);
			return -EPIPE;
		}
		return http_respond(
		    r, 404, "application/json", NULL,
		    "{\"error\":{\"code\":\"not_found\",\"message\":\"no such file\"}}", 55);
	}
	size = (uint64_t)sb.st_size;
	if (r->hdr[HTTP_HDR_RANGE].p) {
		if (http_range_parse(&r->hdr[HTTP_HDR_RANGE], size, &from, &to)) {
			close(fd);
			snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
				 (unsigned long long)size);
			return http_respond(r, 416, "application/json", extra,
					    "{\"error\":{\"code\":\"range\",\"message\":"
					    "\"Range: not satisfiable\"}}",
					    62);
		}
		status = 206;
		snprintf(extra, sizeof(extra), "Content-Range: bytes %llu-%llu/%llu\r\n%s",
			 (unsigned long long)from, (unsigned long long)to, (unsigned long long)size,
			 headers ? headers : "");
		headers = extra;
	} else if (size) {
		to = size - 1;
	}
	/* One buffer for the headers, then for each chunk of the file. */
	r->out = mem_alloc(LWS_PRE + CHUNK);
	if (!r->out) {
		close(fd);
		return http_respond(r, 503, NULL, NULL, NULL, 0);
	}
	r->fd = fd;
	r->fd_left = size ? to - from + 1 : 0;
	if (from && lseek(fd, (off_t)from, SEEK_SET) < 0)
		r->fd_left = 0;
	{
		char ar[HDR_SPACE / 2];

		snprintf(ar, sizeof(ar), "Accept-Ranges: bytes\r\n%s", headers ? headers : "");
		hl = head(r, status, ctype, ar, r->fd_left, false, r->out + LWS_PRE,
			  r->out + LWS_PRE + HDR_SPACE);
	}
	if (hl < 0) {
		abort_answer(r);
		return hl;
	}
	if (r->method == HTTP_HEAD || !r->fd_left) {
		close(r->fd);
		r->fd = -1;
	}
	r->out_len = (size_t)hl;
	r->out_pos = 0;
	return start_answer(r);
}

/* --- static files --- */

static const char *mime_of(const char *path)
{
	static const char *const map[][2] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "application/javascript; charset=utf-8"},
	    {".mjs", "application/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".json", "application/json"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".woff2", "font/woff2"},
	    {".wav", "audio/wav"},
	    {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(dot, map[i][0]))
			return map[i][1];
	return "application/octet-stream";
}

static int not_found(struct http_req *r)
{
	static const char body[] =
	    "{\"error\":{\"code\":\"not_found\",\"message\":\"no such page\"}}";

	return http_respond(r, 404, "application/json", NULL, body, sizeof(body) - 1);
}

/* GET of a page or asset: files under static_dir; "/x" serves x/index.html. */
static void serve_static(struct http_server *s, struct http_req *r)
{
	char file[PATH_MAX_LEN + 64];
	const struct str *p = &r->path;
	struct stat sb;
	int fd;

	if (!s->conf.static_dir || (r->method != HTTP_GET && r->method != HTTP_HEAD) ||
	    p->len > PATH_MAX_LEN || str_find(p, &STR("..")) >= 0 || memchr(p->p, '\0', p->len)) {
		not_found(r);
		return;
	}
	snprintf(file, sizeof(file), "%s%.*s", s->conf.static_dir, STR_FMT(p));
	if (!stat(file, &sb) && S_ISDIR(sb.st_mode))
		snprintf(file, sizeof(file), "%s%.*s%sindex.html", s->conf.static_dir, STR_FMT(p),
			 p->len && p->p[p->len - 1] == '/' ? "" : "/");
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		not_found(r);
		return;
	}
	http_respond_fd(r, fd, mime_of(file), "Cache-Control: no-cache\r\n" PAGE_HEADERS);
}

/* --- lws callbacks --- */

static void dispatch(struct http_server *s, struct http_req *r)
{
	size_t pl = strlen(s->conf.api_prefix);

	r->dispatched = true;
	if (r->too_large) {
		static const char body[] = "{\"error\":{\"code\":\"too_large\",\"message\":"
					   "\"body: larger than the limit\"}}";

		http_respond(r, 413, "application/json", "Connection: close\r\n", body,
			     sizeof(body) - 1);
		return;
	}
	if ((r->path.len >= pl && !memcmp(r->path.p, s->conf.api_prefix, pl)) ||
	    (s->conf.api_exact &&
	     str_eq(&r->path, &(struct str){s->conf.api_exact, strlen(s->conf.api_exact)})))
		s->conf.on_request(s->conf.arg, r);
	else
		serve_static(s, r);
}

static bool expects_body(struct lws *wsi)
{
	char cl[24];

	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
		return true;
	if (lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
		return false;
	return strtoull(cl, NULL, 10) > 0;
}

static int on_http(struct http_server *s, struct lws *wsi, struct conn *c, const char *in,
		   size_t len)
{
	struct http_req *r;

	if (c->req) /* a pipelined request while one is answered: lws orders them */
		return -1;
	r = req_new(s, wsi, in, len);
	if (!r) {
		lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, NULL);
		return -1;
	}
	r->conn = c;
	c->kind = CONN_HTTP;
	c->req = r;
	if (expects_body(wsi)) {
		lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, 30);
		return 0;
	}
	dispatch(s, r);
	return 0;
}

/* The client went away: unlink its request (the application may still hold it). */
static void conn_gone(struct conn *c)
{
	struct http_req *r = c->req;

	if (!r)
		return;
	c->req = NULL;
	r->wsi = NULL;
	r->conn = NULL;
	if (!r->dispatched || r->out)
		req_free(r); /* not the application's, or already answered */
}

static int ws_open(struct http_server *s, struct lws *wsi, struct conn *c)
{
	char path[256];
	struct http_req *r;
	int len = lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI), status;
	void *user = NULL;

	if (!c || len <= 0 || strcmp(path, s->conf.ws_path) || !s->conf.on_ws_open)
		return -1;
	r = req_new(s, wsi, path, (size_t)len);
	if (!r)
		return -1;
	c->kind = CONN_WS;
	c->ws.wsi = wsi;
	c->ws.srv = s;
	status = s->conf.on_ws_open(s->conf.arg, &c->ws, r, &user);
	if (status) {
		log_debug("WebSocket from %s refused: %d", http_req_peer(r), status);
		c->kind = CONN_HTTP;
	}
	req_free(r);
	if (status)
		return -1;
	c->ws.user = user;
	return 0;
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		   size_t len)
{
	struct http_server *s = lws_context_user(lws_get_context(wsi));
	struct conn *c = user;
	struct http_req *r;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (s->closing)
			return -1;
		return on_http(s, wsi, c, in, strnlen(in, len ? len : PATH_MAX_LEN));
	case LWS_CALLBACK_HTTP_BODY:
		r = c ? c->req : NULL;
		if (!r || r->too_large)
			return 0;
		if (mbuf_write(&r->body, in, len))
			r->too_large = true; /* read the rest, then answer 413 */
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		r = c ? c->req : NULL;
		if (!r || r->dispatched || s->closing)
			return 0;
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		dispatch(s, r);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		r = c ? c->req : NULL;
		if (!r || !r->out)
			return 0;
		switch (write_more(r)) {
		case 0:
			lws_callback_on_writable(wsi);
			return 0;
		case 1:
			return finish(r);
		default:
			return -1;
		}
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c && c->kind == CONN_HTTP)
			conn_gone(c);
		return 0;
	case LWS_CALLBACK_WSI_CREATE:
		s->nconn++;
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (s->nconn)
			s->nconn--;
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return s->closing ? -1 : ws_open(s, wsi, c);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->kind == CONN_WS && !c->ws.closing && !s->closing)
			s->conf.on_ws_writable(s->conf.arg, &c->ws, c->ws.user);
		return c->ws.closing ? -1 : 0;
	case LWS_CALLBACK_RECEIVE:
		if (c->kind != CONN_WS || len > MAX_WS_MSG || !lws_is_final_fragment(wsi) ||
		    lws_frame_is_binary(wsi)) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
					 (unsigned char *)"text messages up to 4096 bytes", 30);
			return -1;
		}
		if (s->conf.on_ws_message && !s->closing)
			s->conf.on_ws_message(s->conf.arg, &c->ws, c->ws.user, in, len);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (c && c->kind == CONN_WS) {
			c->kind = CONN_HTTP;
			if (s->conf.on_ws_close && !s->closing)
				s->conf.on_ws_close(s->conf.arg, &c->ws, c->ws.user);
			c->ws.wsi = NULL;
		}
		return 0;
	default:
		return 0;
	}
}

void http_ws_want_write(struct http_ws *ws)
{
	if (ws->wsi && !ws->closing)
		lws_callback_on_writable(ws->wsi);
}

int http_ws_write(struct http_ws *ws, const char *msg, size_t len)
{
	uint8_t stackbuf[LWS_PRE + 1024], *buf = stackbuf;
	int n;

	if (!ws->wsi || ws->closing)
		return -EPIPE;
	if (len > sizeof(stackbuf) - LWS_PRE) {
		buf = mem_alloc(LWS_PRE + len);
		if (!buf)
			return -ENOMEM;
	}
	memcpy(buf + LWS_PRE, msg, len);
	n = lws_write(ws->wsi, buf + LWS_PRE, len, LWS_WRITE_TEXT);
	if (buf != stackbuf)
		mem_free(buf);
	if (n < (int)len) {
		ws->closing = true;
		return -EPIPE;
	}
	return lws_send_pipe_choked(ws->wsi) ? 1 : 0;
}

void http_ws_close(struct http_ws *ws, int code, const char *reason)
{
	if (!ws->wsi || ws->closing)
		return;
	lws_close_reason(ws->wsi, (enum lws_close_status)code, (unsigned char *)(uintptr_t)reason,
			 strlen(reason));
	ws->closing = true;
	lws_callback_on_writable(ws->wsi);
}

/* lws logs through us, at our levels, one line each. */
static void lws_log_line(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		log_warn("lws: %.*s", (int)n, line);
	else
		log_debug("lws: %.*s", (int)n, line);
}

/* lws is done with the server's vhost. */
static void finalized(struct lws_vhost *vh, void *arg)
{
	struct http_server *s = arg;

	(void)vh;
	s->finalized = true;
}

/*
 * Can we listen on @host:@port? Asked before lws tries, because lws makes
 * its context even when the listening socket fails, and tearing such a
 * context down on a foreign loop is not synchronous.
 */
static int can_listen(const char *host, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd, one = 1, err = 0;

	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -EINVAL;
		len = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 1))
		err = -errno;
	close(fd);
	return err;
}

int http_server_alloc(struct http_server **sp, const struct http_conf *conf, struct loop *l,
		      char *errbuf, size_t errlen)
{
	struct lws_context_creation_info info;
	struct http_server *s;
	void *loops[1];
	int err;

	if (!sp || !conf || !conf->host || !conf->on_request || !conf->api_prefix || !l)
		return -EINVAL;
	s = mem_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->conf = *conf;
	if (!s->conf.ws_path)
		s->conf.ws_path = "";
	if (!s->conf.max_body)
		s->conf.max_body = 1 << 20;
	s->protocols[0] = (struct lws_protocols){
	    .name = "shenggu",
	    .callback = http_cb,
	    .per_session_data_size = sizeof(struct conn),
	    .rx_buffer_size = MAX_WS_MSG,
	};
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_line);
	memset(&info, 0, sizeof(info));
	loops[0] = loop_uv(l);
	info.foreign_loops = loops;
	info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DISABLE_IPV6 |
		       LWS_SERVER_OPTION_VALIDATE_UTF8;
	if (strchr(conf->host, ':'))
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
	info.iface = conf->host;
	info.port = conf->port;
	info.protocols = s->protocols;
	info.user = s;
	info.server_string = "Shenggu";
	info.max_http_header_data = 4096;
	info.max_http_header_pool = 1024;
	info.keepalive_timeout = (int)(conf->idle_timeout_s ? conf->idle_timeout_s : 30);
	info.timeout_secs = 20;
	info.pt_serv_buf_size = 16384;
	info.finalize = finalized;
	info.finalize_arg = s;
	err = can_listen(conf->host, conf->port);
	if (err) {
		snprintf(errbuf ? errbuf : (char[1]){0}, errbuf ? errlen : 1,
			 "cannot listen on %s:%u: %s", conf->host, (unsigned)conf->port,
			 strerror(-err));
		mem_free(s);
		return err;
	}
	s->ctx = lws_create_context(&info);
	/* lws makes the context even when the listening socket failed: then
	 * the default vhost is missing. */
	if (!s->ctx || !lws_get_vhost_by_name(s->ctx, "default")) {
		snprintf(errbuf ? errbuf : (char[1]){0}, errbuf ? errlen : 1,
			 "cannot listen on %s:%u (in use, or no such address?)", conf->host,
			 (unsigned)conf->port);
		if (s->ctx) {
			/* The context exists without its vhost (the port was
			 * taken since can_listen()): it closes over the loop's
			 * next runs and may still look at @s, so @s stays. */
			s->closing = true;
			lws_context_destroy(s->ctx);
			return -EADDRINUSE;
		}
		mem_free(s);
		return -EADDRINUSE;
	}
	s->port = conf->port;
	*sp = s;
	return 0;
}

size_t http_server_connections(const struct http_server *s)
{
	return s->nconn;
}

/*
 * On a foreign loop lws closes its connections over the loop's next
 * iterations, calling back as it goes, so the server lives on (quietly:
 * the owner's callbacks are not called any more) until the loop has run
 * dry; then a second lws_context_destroy() frees lws's context and lws
 * finalizes the vhost, which frees the server (finalized()).
 */
void http_server_stop(struct http_server *s)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	lws_context_destroy(s->ctx);
}

void http_server_free(struct http_server *s)
{
	struct lws_context *ctx;

	if (!s)
		return;
	http_server_stop(s);
	ctx = s->ctx;
	lws_context_destroy(ctx);
	/* Not finalized: lws still holds @s (the loop did not run dry), and a
	 * small leak is better than a use after free. */
	if (s->finalized)
		mem_free(s);
	else
		log_warn("HTTP server not finalized by libwebsockets: kept");
}

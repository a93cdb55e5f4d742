/*
 * api_reply: JSON answers and errors, the same shape everywhere.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

#define JSON_TYPE "application/json"

int api_json(struct http_req *r, int status, json_t *v)
{
	char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	int err;

	json_decref(v);
	if (!text)
		return api_error_hdr(r, 503, "Retry-After: 1\r\n", "unavailable", "out of memory");
	err = http_respond(r, status, JSON_TYPE, "Cache-Control: no-store\r\n", text, strlen(text));
	free(text);
	return err;
}

__attribute__((format(printf, 5, 0))) static int error_v(struct http_req *r, int status,
							 const char *headers, const char *code,
							 const char *fmt, va_list ap)
{
	json_t *v;
	char msg[512], *text;
	int err;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	v = json_pack("{s{ssss}}", "error", "code", code, "message", msg);
	text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	if (!text)
		return http_respond(r, 503, JSON_TYPE, "Retry-After: 1\r\n", NULL, 0);
	err = http_respond(r, status, JSON_TYPE, headers, text, strlen(text));
	free(text);
	return err;
}

int api_error(struct http_req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = error_v(r, status, NULL, code, fmt, ap);
	va_end(ap);
	return err;
}

int api_error_hdr(struct http_req *r, int status, const char *headers, const char *code,
		  const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = error_v(r, status, headers, code, fmt, ap);
	va_end(ap);
	return err;
}

json_t *api_body_object(struct http_req *r)
{
	struct str body = http_req_body(r);
	json_error_t jerr;
	json_t *v;

	if (!body.len) {
		api_error(r, 400, "invalid", "body: expected a JSON object");
		return NULL;
	}
	v = json_loadb(body.p, body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		api_error(r, 400, "invalid", "body: line %d column %d: %s", jerr.line, jerr.column,
			  jerr.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		api_error(r, 400, "invalid", "body: expected a JSON object");
		return NULL;
	}
	return v;
}

int api_store_error(struct http_req *r, int err, const char *what)
{
	switch (err) {
	case -ENOENT:
		return api_error(r, 404, "not_found", "%s: no such object", what);
	case -EEXIST:
		return api_error(r, 409, "conflict", "%s: already taken", what);
	case -EINVAL:
		return api_error(r, 400, "invalid", "%s: refused by the schema", what);
	case -EBUSY:
		return api_error_hdr(r, 503, "Retry-After: 1\r\n", "busy", "%s: database busy",
				     what);
	default:
		return api_error(r, 500, "internal", "%s: storage error %d", what, -err);
	}
}

/*
 * prov_parse: a provisioning document (JSON text) into the validated model
 * of prov_internal.h. Every rule of docs/PROVISIONING.md is checked here:
 * shapes and types, unknown fields, ranges, id syntax, duplicates, and
 * references between the objects of a tenant. The first problem stops the
 * walk and is reported with its JSON path. Nothing here touches a store:
 * the checks against stored state (a number or domain owned by another
 * tenant) are made by prov_apply() inside its transaction.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "base/cidr.h"
#include "base/mem.h"
#include "prov/prov_internal.h"
#include "store/store.h"

#define ID_MAX		  (STORE_ID_SIZE - 1)
#define NAME_MAX_LEN	  (STORE_NAME_SIZE - 1)
#define SEATS_MAX	  100000
#define PASSWORD_MIN	  6
#define PASSWORD_MAX	  128
/* An operator runs the whole platform: a longer password than an agent's. */
#define OP_PASSWORD_MIN	  12
#define TRUNKS_MAX	  64
/* Sources per trunk: a carrier's signalling addresses, not a whole network. */
#define TRUNK_SOURCES_MAX 64

static const char *const strategies[] = {
    "longest-idle",	"round-robin", "fewest-calls", "least-talk-time", "ring-all",
    "ring-progressive", "random",      "best-skill",   "bullseye",
};

static const char *const roles[] = {"agent", "supervisor", "tenant-admin"};

int prov_verr(struct prov_vctx *v, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!v->err || !v->errlen)
		return -EINVAL;
	n = snprintf(v->err, v->errlen, "%s: ", v->plen ? v->path : "document");
	if (n >= 0 && (size_t)n < v->errlen) {
		va_start(ap, fmt);
		vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int prov_nomem(struct prov_vctx *v)
{
	if (v->err && v->errlen)
		snprintf(v->err, v->errlen, "out of memory");
	return -ENOMEM;
}

static bool plain_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++) {
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
			return false;
	}
	return true;
}

/* Text from the document, fit to be quoted in a one-line message: control
 * characters, quotes and backslashes escaped, cut after PROV_ECHO_MAX bytes
 * (on a UTF-8 boundary) with "...". A key or value can never add a line
 * to a message or a log, nor bury the problem under its length. */
const char *prov_echo(char *buf, size_t size, const char *s)
{
	size_t o = 0, i;

	for (i = 0; s[i] && i < PROV_ECHO_MAX && o + 8 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else if (c == '"' || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\%c", c);
		else
			buf[o++] = (char)c;
	}
	if (s[i]) {
		/* Back off to the start of a UTF-8 sequence before cutting. */
		while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && (unsigned char)buf[o - 1] >= 0xc0)
			o--;
		if (o + 4 > size)
			o = size - 4;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Paths read like JavaScript: tenants[0].ivr[1].options["*"]. A path too
 * long for the buffer is cut, never overrun. */
size_t prov_path_key(struct prov_vctx *v, const char *key)
{
	size_t mark = v->plen;
	char q[PROV_ECHO_MAX * 4 + 8];
	int n;

	if (plain_key(key) && strlen(key) <= PROV_ECHO_MAX)
		n = snprintf(v->path + v->plen, sizeof(v->path) - v->plen, "%s%s",
			     v->plen ? "." : "", key);
	else
		n = snprintf(v->path + v->plen, sizeof(v->path) - v->plen, "[\"%s\"]",
			     prov_echo(q, sizeof(q), key));
	if (n > 0)
		v->plen = v->plen + (size_t)n < sizeof(v->path) ? v->plen + (size_t)n
								: sizeof(v->path) - 1;
	return mark;
}

size_t prov_path_idx(struct prov_vctx *v, size_t i)
{
	size_t mark = v->plen;
	int n = snprintf(v->path + v->plen, sizeof(v->path) - v->plen, "[%zu]", i);

	if (n > 0)
		v->plen = v->plen + (size_t)n < sizeof(v->path) ? v->plen + (size_t)n
								: sizeof(v->path) - 1;
	return mark;
}

void prov_path_pop(struct prov_vctx *v, size_t mark)
{
	v->plen = mark;
	v->path[mark] = '\0';
}

const char *prov_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number with a fraction";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* Error at @key below the current path. */
int prov_verr_at(struct prov_vctx *v, const char *key, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	size_t mark = prov_path_key(v, key);
	int err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err = prov_verr(v, "%s", msg);
	prov_path_pop(v, mark);
	return err;
}

int prov_check_fields(struct prov_vctx *v, const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val)
	{
		size_t i;

		for (i = 0; allowed[i]; i++) {
			if (!strcmp(allowed[i], key))
				break;
		}
		if (!allowed[i])
			return prov_verr_at(v, key, "unknown field");
	}
	return 0;
}

int prov_expect_object(struct prov_vctx *v, const json_t *j)
{
	return json_is_object(j) ? 0
				 : prov_verr(v, "expected an object, got %s", prov_type_name(j));
}

bool prov_has_ctl(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

bool prov_is_id(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false;
	for (s++; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	}
	return true;
}

/* RFC 1035 §2.3.1 (with RFC 1123 digits first): labels of 1-63 letters,
 * digits and hyphens, no hyphen at either end; lowercase only, so that the
 * unique index and the SIP realm compare byte for byte. */
static bool is_domain(const char *s)
{
	size_t label = 0;

	if (strlen(s) > STORE_DOMAIN_SIZE - 1)
		return false;
	for (const char *p = s;; p++) {
		if (*p == '.' || !*p) {
			if (label == 0 || label > 63 || p[-1] == '-')
				return false;
			if (!*p)
				return strchr(s, '.') != NULL;
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      (*p == '-' && label > 0)))
			return false;
		label++;
	}
}

static bool is_number(const char *s)
{
	size_t n = 0;

	if (*s == '+')
		s++;
	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return n >= 3 && n <= 20;
}

/* A string value, checked for its kind. @label names it in messages. */
int prov_check_str(struct prov_vctx *v, const json_t *j, enum prov_str_kind kind, size_t min,
		   size_t max, const char **out)
{
	char q[PROV_ECHO_MAX * 4 + 8];
	const char *s;
	size_t len;

	if (!json_is_string(j))
		return prov_verr(v, "expected a string, got %s", prov_type_name(j));
	s = json_string_value(j);
	len = json_string_length(j);
	if (strlen(s) != len)
		return prov_verr(v, "must not contain NUL characters");
	if (len < min)
		return prov_verr(
		    v, min == 1 ? "must not be empty" : "too short: at least %zu bytes", min);
	if (len > max)
		return prov_verr(v, "too long: at most %zu bytes", max);
	switch (kind) {
	case PROV_STR_TEXT:
	case PROV_STR_PASSWORD:
		if (prov_has_ctl(s))
			return prov_verr(v, "must not contain control characters");
		break;
	case PROV_STR_ID:
		if (!prov_is_id(s))
			return prov_verr(
			    v,
			    "invalid id \"%s\": use letters, digits, '.', '_' and '-', "
			    "starting with a letter or digit",
			    prov_echo(q, sizeof(q), s));
		break;
	case PROV_STR_DOMAIN:
		if (!is_domain(s))
			return prov_verr(v, "invalid domain \"%s\": expected a lowercase DNS name",
					 prov_echo(q, sizeof(q), s));
		break;
	case PROV_STR_NUMBER:
		if (!is_number(s))
			return prov_verr(v,
					 "invalid number \"%s\": expected 3 to 20 digits, "
					 "optionally after '+'",
					 prov_echo(q, sizeof(q), s));
		break;
	}
	*out = s;
	return 0;
}

/* Field @key of @obj as a string: missing gives @def, or an error when @def
 * is NULL. */
int prov_get_str(struct prov_vctx *v, const json_t *obj, const char *key, enum prov_str_kind kind,
		 size_t min, size_t max, const char *def, const char **out)
{
	const json_t *j = json_object_get(obj, key);
	size_t mark;
	int err;

	if (!j) {
		if (!def)
			return prov_verr_at(v, key, "required field missing");
		*out = def;
		return 0;
	}
	mark = prov_path_key(v, key);
	err = prov_check_str(v, j, kind, min, max, out);
	prov_path_pop(v, mark);
	return err;
}

int prov_check_uint(struct prov_vctx *v, const json_t *j, uint32_t min, uint32_t max, uint32_t *out)
{
	json_int_t n;

	if (!json_is_integer(j))
		return prov_verr(v, "expected an integer, got %s", prov_type_name(j));
	n = json_integer_value(j);
	if (n < min || n > max)
		return prov_verr(v, "must be between %u and %u, got %lld", min, max, (long long)n);
	*out = (uint32_t)n;
	return 0;
}

int prov_get_uint(struct prov_vctx *v, const json_t *obj, const char *key, uint32_t min,
		  uint32_t max, uint32_t def, uint32_t *out)
{
	const json_t *j = json_object_get(obj, key);
	size_t mark;
	int err;

	if (!j) {
		*out = def;
		return 0;
	}
	mark = prov_path_key(v, key);
	err = prov_check_uint(v, j, min, max, out);
	prov_path_pop(v, mark);
	return err;
}

int prov_text_dup(struct prov_vctx *v, const char *s, char **out)
{
	size_t len = strlen(s);
	char *p = mem_alloc(len + 1);

	if (!p)
		return prov_nomem(v);
	memcpy(p, s, len + 1);
	*out = p;
	return 0;
}

/* Canonical JSON text (compact, keys sorted) in memory of our own. */
int prov_dump(struct prov_vctx *v, const json_t *j, char **out)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS;
	size_t n = json_dumpb(j, NULL, 0, flags);
	char *buf;

	if (!n)
		return prov_nomem(v);
	buf = mem_alloc(n + 1);
	if (!buf)
		return prov_nomem(v);
	if (json_dumpb(j, buf, n, flags) != n) {
		mem_free(buf);
		return prov_nomem(v);
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct prov_ref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	return x->pos != y->pos ? (x->pos < y->pos ? -1 : 1)
				: (x->sub < y->sub ? -1 : x->sub > y->sub);
}

const struct prov_ref *prov_ref_find(const struct prov_ref *ix, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, ix[mid].id);

		if (!c)
			return &ix[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct prov_ref *prov_ref_dup(struct prov_ref *ix, size_t n, const struct prov_ref **first)
{
	const struct prov_ref *dup = NULL;

	qsort(ix, n, sizeof(*ix), ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(ix[i - 1].id, ix[i].id))
			continue;
		if (!dup || ix[i].pos < dup->pos ||
		    (ix[i].pos == dup->pos && ix[i].sub < dup->sub)) {
			dup = &ix[i];
			*first = &ix[i - 1];
		}
	}
	return dup;
}

/* First pass over users, queues or ivr: each an object with a valid, unique
 * id, so the second pass can resolve references to any of them. */
static int collect_ids(struct prov_vctx *v, const json_t *tj, const char *key, const char *what,
		       struct prov_ref **ixp, size_t *np)
{
	const json_t *arr = json_object_get(tj, key);
	const struct prov_ref *dup, *first = NULL;
	struct prov_ref *ix;
	size_t mark, n;
	int err = 0;

	*np = 0;
	if (!arr)
		return 0;
	mark = prov_path_key(v, key);
	if (!json_is_array(arr)) {
		err = prov_verr(v, "expected an array, got %s", prov_type_name(arr));
		goto out;
	}
	n = json_array_size(arr);
	ix = mem_zalloc((n ? n : 1) * sizeof(*ix));
	if (!ix) {
		err = prov_nomem(v);
		goto out;
	}
	*ixp = ix;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(arr, i);
		size_t m = prov_path_idx(v, i);

		err = prov_expect_object(v, e);
		if (!err)
			err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL, &ix[i].id);
		prov_path_pop(v, m);
		if (err)
			goto out;
		ix[i].pos = i;
	}
	*np = n;
	dup = prov_ref_dup(ix, n, &first);
	if (dup) {
		prov_path_idx(v, dup->pos);
		prov_path_key(v, "id");
		err = prov_verr(v, "duplicate %s id \"%s\" (also %s[%zu])", what, dup->id, key,
				first->pos);
	}
out:
	prov_path_pop(v, mark);
	return err;
}

enum route_kind { ROUTE_IVR, ROUTE_QUEUE, ROUTE_USER };

static int parse_route(struct prov_vctx *v, const struct prov_tenant *t, const json_t *j,
		       char **jsonp, long *queue_idx)
{
	static const char *const kinds[] = {"ivr", "queue", "user", NULL};
	const struct prov_ref *ix[] = {t->ivr_ix, t->queue_ix, t->user_ix};
	const size_t nix[] = {t->nivr, t->nqueues, t->nusers};
	const struct prov_ref *r;
	const char *key, *target;
	json_t *val;
	int err;

	err = prov_expect_object(v, j);
	if (!err)
		err = prov_check_fields(v, j, kinds);
	if (err)
		return err;
	if (json_object_size(j) != 1)
		return prov_verr(v, "needs exactly one of \"ivr\", \"queue\" or \"user\"");
	json_object_foreach((json_t *)j, key, val)
	{
		int k = !strcmp(key, "ivr")	? ROUTE_IVR
			: !strcmp(key, "queue") ? ROUTE_QUEUE
						: ROUTE_USER;
		size_t mark = prov_path_key(v, key);

		err = prov_check_str(v, val, PROV_STR_ID, 1, ID_MAX, &target);
		if (!err) {
			r = prov_ref_find(ix[k], nix[k], target);
			if (!r)
				err = prov_verr(v, "no %s \"%s\" in tenant \"%s\"",
						k == ROUTE_IVR ? "ivr" : kinds[k], target, t->id);
			else if (queue_idx)
				*queue_idx = k == ROUTE_QUEUE ? (long)r->pos : -1;
		}
		prov_path_pop(v, mark);
		if (err)
			return err;
	}
	return prov_dump(v, j, jsonp);
}

/* Skill name -> level 1..100 (an agent's level, or a queue's minimum). */
static int parse_skills(struct prov_vctx *v, const json_t *obj, char **out)
{
	const json_t *j = json_object_get(obj, "skills");
	const char *key;
	json_t *val;
	size_t mark;
	int err = 0;

	if (!j)
		return prov_text_dup(v, "{}", out);
	mark = prov_path_key(v, "skills");
	err = prov_expect_object(v, j);
	if (err)
		goto out;
	json_object_foreach((json_t *)j, key, val)
	{
		size_t m = prov_path_key(v, key);
		uint32_t lvl;

		if (!*key || strlen(key) > ID_MAX || !prov_is_id(key))
			err = prov_verr(
			    v, "invalid skill name: use letters, digits, '.', '_' and '-'");
		else
			err = prov_check_uint(v, val, 1, 100, &lvl);
		prov_path_pop(v, m);
		if (err)
			goto out;
	}
	err = prov_dump(v, j, out);
out:
	prov_path_pop(v, mark);
	return err;
}

static int parse_roles(struct prov_vctx *v, const json_t *obj, char **out)
{
	const json_t *j = json_object_get(obj, "roles");
	size_t mark, n;
	int err = 0;

	if (!j)
		return prov_verr_at(v, "roles", "required field missing");
	mark = prov_path_key(v, "roles");
	if (!json_is_array(j)) {
		err = prov_verr(v, "expected an array, got %s", prov_type_name(j));
		goto out;
	}
	n = json_array_size(j);
	if (!n) {
		err = prov_verr(v, "needs at least one role");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *r = json_array_get(j, i);
		size_t m = prov_path_idx(v, i), k;
		char q[PROV_ECHO_MAX * 4 + 8];
		const char *s;

		err = prov_check_str(v, r, PROV_STR_TEXT, 1, ID_MAX, &s);
		for (k = 0; !err && k < sizeof(roles) / sizeof(roles[0]); k++) {
			if (!strcmp(roles[k], s))
				break;
		}
		if (!err && k == sizeof(roles) / sizeof(roles[0]))
			err = prov_verr(v, "unknown role \"%s\"", prov_echo(q, sizeof(q), s));
		for (size_t p = 0; !err && p < i; p++) {
			if (json_equal(json_array_get(j, p), (json_t *)r))
				err = prov_verr(v, "duplicate role \"%s\"", s);
		}
		prov_path_pop(v, m);
		if (err)
			goto out;
	}
	err = prov_dump(v, j, out);
out:
	prov_path_pop(v, mark);
	return err;
}

static int parse_user(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
		      struct prov_user *u)
{
	static const char *const fields[] = {"id", "name", "password", "roles", "skills", NULL};
	int err;

	(void)t;
	err = prov_check_fields(v, e, fields);
	if (!err)
		err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL, &u->id);
	if (!err)
		err = prov_get_str(v, e, "name", PROV_STR_TEXT, 0, NAME_MAX_LEN, "", &u->name);
	if (!err && json_object_get(e, "password"))
		err = prov_get_str(v, e, "password", PROV_STR_PASSWORD, PASSWORD_MIN, PASSWORD_MAX,
				   NULL, &u->password);
	if (!err)
		err = parse_roles(v, e, &u->roles);
	if (!err)
		err = parse_skills(v, e, &u->skills);
	return err;
}

static int parse_service_level(struct prov_vctx *v, const json_t *e, struct prov_queue *q)
{
	static const char *const fields[] = {"seconds", "percent", NULL};
	const json_t *j = json_object_get(e, "service_level");
	size_t mark;
	int err;

	q->sl_seconds = 20;
	q->sl_percent = 80;
	if (!j)
		return 0;
	mark = prov_path_key(v, "service_level");
	err = prov_expect_object(v, j);
	if (!err)
		err = prov_check_fields(v, j, fields);
	if (!err)
		err = prov_get_uint(v, j, "seconds", 1, 3600, 20, &q->sl_seconds);
	if (!err)
		err = prov_get_uint(v, j, "percent", 1, 100, 80, &q->sl_percent);
	prov_path_pop(v, mark);
	return err;
}

/*
 * Queue members: [{"user": id, "penalty": 0..15}, ...], each a user of the
 * tenant, once. Absent: the tenant's agents that have the queue's skills.
 */
static int parse_members(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
			 struct prov_queue *q)
{
	static const char *const fields[] = {"user", "penalty", NULL};
	const json_t *j = json_object_get(e, "members");
	size_t mark;
	int err = 0;

	if (!j)
		return 0;
	mark = prov_path_key(v, "members");
	if (!json_is_array(j)) {
		err = prov_verr(v, "expected an array, got %s", prov_type_name(j));
		goto out;
	}
	for (size_t i = 0; !err && i < json_array_size(j); i++) {
		const json_t *m = json_array_get(j, i);
		size_t im = prov_path_idx(v, i);
		const char *user = NULL;
		uint32_t pen;

		err = prov_expect_object(v, m);
		if (!err)
			err = prov_check_fields(v, m, fields);
		if (!err)
			err = prov_get_str(v, m, "user", PROV_STR_ID, 1, ID_MAX, NULL, &user);
		if (!err && !prov_ref_find(t->user_ix, t->nusers, user))
			err =
			    prov_verr_at(v, "user", "no user \"%s\" in tenant \"%s\"", user, t->id);
		for (size_t k = 0; !err && k < i; k++) {
			const json_t *o = json_object_get(json_array_get(j, k), "user");

			if (json_is_string(o) && !strcmp(json_string_value(o), user))
				err = prov_verr_at(v, "user",
						   "duplicate member \"%s\" (also members[%zu])",
						   user, k);
		}
		if (!err)
			err = prov_get_uint(v, m, "penalty", 0, 15, 0, &pen);
		prov_path_pop(v, im);
	}
	if (!err)
		err = prov_dump(v, j, &q->members);
out:
	prov_path_pop(v, mark);
	return err;
}

static int parse_queue(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
		       struct prov_queue *q)
{
	static const char *const fields[] = {
	    "id",	  "strategy",	 "skills",   "priority",      "wrapup_s", "ring_timeout_s",
	    "max_wait_s", "max_len",	 "overflow", "service_level", "members",  "announce_s",
	    "join_empty", "tier_wait_s", NULL,
	};
	const json_t *je;
	char qb[PROV_ECHO_MAX * 4 + 8];
	const json_t *ov;
	size_t k;
	int err;

	q->overflow_queue = -1;
	err = prov_check_fields(v, e, fields);
	if (!err)
		err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL, &q->id);
	if (!err)
		err = prov_get_str(v, e, "strategy", PROV_STR_TEXT, 1, ID_MAX, "longest-idle",
				   &q->strategy);
	for (k = 0; !err && k < sizeof(strategies) / sizeof(strategies[0]); k++) {
		if (!strcmp(strategies[k], q->strategy))
			break;
	}
	if (!err && k == sizeof(strategies) / sizeof(strategies[0]))
		return prov_verr_at(v, "strategy", "unknown strategy \"%s\"",
				    prov_echo(qb, sizeof(qb), q->strategy));
	if (!err)
		err = parse_skills(v, e, &q->skills);
	if (!err)
		err = prov_get_uint(v, e, "priority", 0, 100, 0, &q->priority);
	if (!err)
		err = prov_get_uint(v, e, "wrapup_s", 0, 3600, 0, &q->wrapup_s);
	if (!err)
		err = prov_get_uint(v, e, "ring_timeout_s", 1, 600, 20, &q->ring_timeout_s);
	if (!err)
		err = prov_get_uint(v, e, "max_wait_s", 0, 86400, 0, &q->max_wait_s);
	if (!err)
		err = prov_get_uint(v, e, "max_len", 0, 100000, 0, &q->max_len);
	if (!err)
		err = parse_service_level(v, e, q);
	if (!err)
		err = prov_get_uint(v, e, "announce_s", 0, 3600, 0, &q->announce_s);
	if (!err && q->announce_s && q->announce_s < 10)
		err = prov_verr_at(v, "announce_s", "must be 0 (none) or at least 10, got %u",
				   q->announce_s);
	if (!err)
		err = prov_get_uint(v, e, "tier_wait_s", 1, 3600, 30, &q->tier_wait_s);
	je = json_object_get(e, "join_empty");
	q->join_empty = true;
	if (!err && je && !json_is_boolean(je))
		err = prov_verr_at(v, "join_empty", "expected true or false, got %s",
				   prov_type_name(je));
	else if (je)
		q->join_empty = json_is_true(je);
	if (!err)
		err = parse_members(v, t, e, q);
	ov = json_object_get(e, "overflow");
	if (!err && ov) {
		size_t mark = prov_path_key(v, "overflow");

		err = parse_route(v, t, ov, &q->overflow, &q->overflow_queue);
		prov_path_pop(v, mark);
	}
	return err;
}

static int parse_number(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
			struct prov_number *n)
{
	static const char *const fields[] = {"number", "route", NULL};
	const json_t *r = json_object_get(e, "route");
	size_t mark;
	int err;

	err = prov_expect_object(v, e);
	if (!err)
		err = prov_check_fields(v, e, fields);
	if (!err)
		err = prov_get_str(v, e, "number", PROV_STR_NUMBER, 1, STORE_NUMBER_SIZE - 1, NULL,
				   &n->number);
	if (!err && !r)
		err = prov_verr_at(v, "route", "required field missing");
	if (err)
		return err;
	mark = prov_path_key(v, "route");
	err = parse_route(v, t, r, &n->route, NULL);
	prov_path_pop(v, mark);
	return err;
}

typedef int(elem_parse_h)(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
			  void *out);

/* Run @parse on every element of array @key (already checked by
 * collect_ids, or checked here for numbers). */
static int parse_array(struct prov_vctx *v, const struct prov_tenant *t, const json_t *tj,
		       const char *key, void *elems, size_t size, size_t n, elem_parse_h *parse)
{
	const json_t *arr = json_object_get(tj, key);
	size_t mark;
	int err = 0;

	if (!arr || !n)
		return 0;
	mark = prov_path_key(v, key);
	for (size_t i = 0; i < n && !err; i++) {
		size_t m = prov_path_idx(v, i);

		err = parse(v, t, json_array_get(arr, i), (char *)elems + i * size);
		prov_path_pop(v, m);
	}
	prov_path_pop(v, mark);
	return err;
}

static int user_h(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e, void *out)
{
	return parse_user(v, t, e, out);
}

static int queue_h(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e, void *out)
{
	return parse_queue(v, t, e, out);
}

static int ivr_h(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e, void *out)
{
	return prov_parse_ivr(v, t, e, out);
}

/* One source of a trunk: an address or block, into canonical text. */
static int parse_source(struct prov_vctx *v, const json_t *j, json_t *out)
{
	char q[PROV_ECHO_SIZE], canon[CIDR_STR_SIZE], hint[CIDR_STR_SIZE];
	const char *s;
	struct cidr c;
	int err;

	err = prov_check_str(v, j, PROV_STR_TEXT, 1, 64, &s);
	if (err)
		return err;
	err = cidr_parse(&c, s);
	if (err == -EDOM) {
		/* Suggest the block: the address with the bits past the prefix cleared. */
		const char *slash = strchr(s, '/');
		char addr[64];
		unsigned prefix = (unsigned)atoi(slash + 1);

		snprintf(addr, sizeof(addr), "%.*s", (int)(slash - s), s);
		if (!cidr_parse(&c, addr)) {
			for (unsigned i = prefix; i < (c.family == AF_INET ? 32u : 128u); i++)
				c.addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
			c.prefix = prefix;
		}
		if (cidr_format(&c, hint, sizeof(hint)) < 0)
			hint[0] = '\0';
		return prov_verr(
		    v, "\"%s\" has address bits set past the prefix: did you mean \"%s\"?",
		    prov_echo(q, sizeof(q), s), hint);
	}
	if (err)
		return prov_verr(v,
				 "invalid address \"%s\": expected an IPv4 or IPv6 address, "
				 "optionally with /prefix",
				 prov_echo(q, sizeof(q), s));
	if (!c.prefix)
		return prov_verr(v, "\"%s\" allows every address: list the trunk's own addresses",
				 prov_echo(q, sizeof(q), s));
	if (cidr_format(&c, canon, sizeof(canon)) < 0)
		return prov_verr(v, "cannot print \"%s\"", prov_echo(q, sizeof(q), s));
	if (json_array_append_new(out, json_string(canon)))
		return prov_nomem(v);
	return 0;
}

static int parse_trunk(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
		       struct prov_trunk *tr)
{
	static const char *const fields[] = {"id", "from", NULL};
	const json_t *from = json_object_get(e, "from");
	json_t *canon = NULL;
	size_t mark;
	int err;

	(void)t;
	err = prov_check_fields(v, e, fields);
	if (!err)
		err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL, &tr->id);
	if (!err && !from)
		err = prov_verr_at(v, "from", "required field missing");
	if (err)
		return err;
	mark = prov_path_key(v, "from");
	if (!json_is_array(from))
		err = prov_verr(v, "expected an array, got %s", prov_type_name(from));
	else if (!json_array_size(from) || json_array_size(from) > TRUNK_SOURCES_MAX)
		err = prov_verr(v, "needs 1 to %u addresses", TRUNK_SOURCES_MAX);
	else if (!(canon = json_array()))
		err = prov_nomem(v);
	for (size_t i = 0; !err && i < json_array_size(from); i++) {
		size_t m = prov_path_idx(v, i);

		err = parse_source(v, json_array_get(from, i), canon);
		prov_path_pop(v, m);
	}
	prov_path_pop(v, mark);
	if (!err)
		err = prov_dump(v, canon, &tr->sources);
	json_decref(canon);
	return err;
}

static int trunk_h(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e, void *out)
{
	return parse_trunk(v, t, e, out);
}

static int number_h(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e, void *out)
{
	return parse_number(v, t, e, out);
}

/* Queue A overflowing to B overflowing back to A would bounce a caller
 * forever; each chain must end. */
static int check_overflow_loops(struct prov_vctx *v, const struct prov_tenant *t)
{
	for (size_t i = 0; i < t->nqueues; i++) {
		long j = t->queues[i].overflow_queue;

		for (size_t steps = 0; j >= 0 && steps < t->nqueues; steps++) {
			if ((size_t)j == i) {
				size_t mark = prov_path_key(v, "queues");
				int err;

				prov_path_idx(v, i);
				prov_path_key(v, "overflow");
				prov_path_key(v, "queue");
				err = prov_verr(v, "overflow loops back to queue \"%s\"",
						t->queues[i].id);
				prov_path_pop(v, mark);
				return err;
			}
			j = t->queues[j].overflow_queue;
		}
	}
	return 0;
}

static int alloc_elems(struct prov_vctx *v, void **p, size_t n, size_t size)
{
	if (!n)
		return 0;
	*p = mem_zalloc(n * size);
	return *p ? 0 : prov_nomem(v);
}

/* The recording policy: "none" (the default), "all", or {"queues": [...]}
 * naming queues of the tenant, once each. Stored as canonical JSON text. */
static int parse_recording(struct prov_vctx *v, const json_t *tj, struct prov_tenant *t)
{
	static const char *const fields[] = {"queues", NULL};
	const json_t *j = json_object_get(tj, "recording"), *qs;
	char q[PROV_ECHO_SIZE];
	const char *s;
	size_t mark, n;
	int err;

	if (!j)
		return prov_text_dup(v, "\"none\"", &t->recording);
	mark = prov_path_key(v, "recording");
	if (json_is_string(j)) {
		err = prov_check_str(v, j, PROV_STR_TEXT, 0, ID_MAX, &s);
		if (!err && strcmp(s, "none") && strcmp(s, "all"))
			err = prov_verr(v,
					"unknown recording policy \"%s\": use \"none\", \"all\" or "
					"{\"queues\": [...]}",
					prov_echo(q, sizeof(q), s));
		if (!err)
			err = prov_text_dup(v, strcmp(s, "all") ? "\"none\"" : "\"all\"",
					    &t->recording);
		goto out;
	}
	if (!json_is_object(j)) {
		err = prov_verr(v, "expected a string or an object, got %s", prov_type_name(j));
		goto out;
	}
	err = prov_check_fields(v, j, fields);
	if (err)
		goto out;
	qs = json_object_get(j, "queues");
	if (!qs) {
		err = prov_verr_at(v, "queues", "required field missing");
		goto out;
	}
	prov_path_key(v, "queues");
	if (!json_is_array(qs)) {
		err = prov_verr(v, "expected an array, got %s", prov_type_name(qs));
		goto out;
	}
	n = json_array_size(qs);
	if (!n) {
		/* An empty list records nothing: say so with "none", not by accident. */
		err = prov_verr(v, "needs at least one queue (\"none\" records nothing)");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(qs, i);
		size_t m = prov_path_idx(v, i);

		err = prov_check_str(v, e, PROV_STR_ID, 1, ID_MAX, &s);
		if (!err && !prov_ref_find(t->queue_ix, t->nqueues, s))
			err = prov_verr(v, "no queue \"%s\" in tenant \"%s\"", s, t->id);
		for (size_t k = 0; !err && k < i; k++) {
			if (json_equal(json_array_get(qs, k), (json_t *)e))
				err =
				    prov_verr(v, "duplicate queue \"%s\" (also queues[%zu])", s, k);
		}
		prov_path_pop(v, m);
		if (err)
			goto out;
	}
	err = prov_dump(v, j, &t->recording);
out:
	prov_path_pop(v, mark);
	return err;
}

/* Not-ready reasons: {"2": "break", ...}, codes 2..99 (1 is "missed"), names as ids. */
static int parse_pause_reasons(struct prov_vctx *v, const json_t *tj, struct prov_tenant *t)
{
	const json_t *j = json_object_get(tj, "pause_reasons");
	const char *key;
	json_t *val;
	size_t mark;
	int err;

	if (!j)
		return prov_text_dup(v, "{}", &t->pause_reasons);
	mark = prov_path_key(v, "pause_reasons");
	err = prov_expect_object(v, j);
	json_object_foreach((json_t *)j, key, val)
	{
		size_t m = prov_path_key(v, key);
		char *end = NULL;
		long code = strtol(key, &end, 10);
		const char *name;

		if (err)
			break;
		if (!*key || *end || key[0] == '0' || code < 2 || code > 99)
			err = prov_verr(v, "reason codes are 2 to 99 (1 is \"missed\")");
		else
			err = prov_check_str(v, val, PROV_STR_ID, 1, ID_MAX, &name);
		if (!err && !strcmp(name, "missed"))
			err = prov_verr(v, "\"missed\" is the platform's reason 1");
		prov_path_pop(v, m);
	}
	if (!err)
		err = prov_dump(v, j, &t->pause_reasons);
	prov_path_pop(v, mark);
	return err;
}

static int parse_tenant(struct prov_vctx *v, const json_t *tj, struct prov_tenant *t)
{
	static const char *const fields[] = {
	    "id",	"name",	   "domain",	"seats",	 "district", "park",
	    "timezone", "hours",   "holidays",	"trunks",	 "users",    "queues",
	    "ivr",	"numbers", "recording", "pause_reasons", "webhooks", NULL,
	};
	const json_t *nums = json_object_get(tj, "numbers");
	int err;

	err = prov_expect_object(v, tj);
	if (!err)
		err = prov_check_fields(v, tj, fields);
	if (!err)
		err = prov_get_str(v, tj, "id", PROV_STR_ID, 1, ID_MAX, NULL, &t->id);
	if (!err)
		err = prov_get_str(v, tj, "name", PROV_STR_TEXT, 1, NAME_MAX_LEN, NULL, &t->name);
	if (!err)
		err = prov_get_str(v, tj, "domain", PROV_STR_DOMAIN, 1, STORE_DOMAIN_SIZE - 1, NULL,
				   &t->domain);
	if (!err)
		err = prov_get_uint(v, tj, "seats", 0, SEATS_MAX, 0, &t->seats);
	if (!err)
		err = prov_get_str(v, tj, "district", PROV_STR_TEXT, 0, NAME_MAX_LEN, "",
				   &t->district);
	if (!err)
		err = prov_get_str(v, tj, "park", PROV_STR_TEXT, 0, NAME_MAX_LEN, "", &t->park);
	if (!err)
		err = prov_parse_calendar(v, tj, t);
	if (!err)
		err = collect_ids(v, tj, "trunks", "trunk", &t->trunk_ix, &t->ntrunks);
	if (!err && t->ntrunks > TRUNKS_MAX)
		err = prov_verr_at(v, "trunks", "too many trunks: at most %u", TRUNKS_MAX);
	if (!err)
		err = collect_ids(v, tj, "users", "user", &t->user_ix, &t->nusers);
	if (!err)
		err = collect_ids(v, tj, "queues", "queue", &t->queue_ix, &t->nqueues);
	if (!err)
		err = collect_ids(v, tj, "ivr", "ivr", &t->ivr_ix, &t->nivr);
	if (!err)
		err = parse_recording(v, tj, t);
	if (!err)
		err = parse_pause_reasons(v, tj, t);
	if (!err)
		err = prov_parse_webhooks(v, tj, t);
	if (!err && nums && !json_is_array(nums))
		err = prov_verr_at(v, "numbers", "expected an array, got %s", prov_type_name(nums));
	if (err)
		return err;
	err = alloc_elems(v, (void **)&t->users, t->nusers, sizeof(*t->users));
	if (!err)
		err = alloc_elems(v, (void **)&t->trunks, t->ntrunks, sizeof(*t->trunks));
	if (!err)
		err = alloc_elems(v, (void **)&t->queues, t->nqueues, sizeof(*t->queues));
	if (!err)
		err = alloc_elems(v, (void **)&t->ivr, t->nivr, sizeof(*t->ivr));
	if (!err)
		err = alloc_elems(v, (void **)&t->numbers, json_array_size(nums),
				  sizeof(*t->numbers));
	if (err)
		return err;
	t->nnumbers = json_array_size(nums);
	err = parse_array(v, t, tj, "trunks", t->trunks, sizeof(*t->trunks), t->ntrunks, trunk_h);
	if (!err)
		err =
		    parse_array(v, t, tj, "users", t->users, sizeof(*t->users), t->nusers, user_h);
	if (!err)
		err = parse_array(v, t, tj, "queues", t->queues, sizeof(*t->queues), t->nqueues,
				  queue_h);
	if (!err)
		err = check_overflow_loops(v, t);
	if (!err)
		err = parse_array(v, t, tj, "ivr", t->ivr, sizeof(*t->ivr), t->nivr, ivr_h);
	if (!err)
		err = prov_check_ivr_loops(v, t);
	if (!err)
		err = parse_array(v, t, tj, "numbers", t->numbers, sizeof(*t->numbers), t->nnumbers,
				  number_h);
	return err;
}

/* The platform's operators: {"id", "name", "password"}, ids unique. */
static int parse_operators(struct prov_vctx *v, struct prov_doc *doc)
{
	static const char *const fields[] = {"id", "name", "password", NULL};
	const json_t *arr = json_object_get(doc->root, "operators");
	size_t mark;
	int err;

	doc->has_operators = arr != NULL;
	err =
	    collect_ids(v, doc->root, "operators", "operator", &doc->operator_ix, &doc->noperators);
	if (!err)
		err = alloc_elems(v, (void **)&doc->operators, doc->noperators,
				  sizeof(*doc->operators));
	if (err || !doc->noperators)
		return err;
	mark = prov_path_key(v, "operators");
	for (size_t i = 0; i < doc->noperators && !err; i++) {
		const json_t *e = json_array_get(arr, i);
		struct prov_operator *op = &doc->operators[i];
		size_t m = prov_path_idx(v, i);

		err = prov_check_fields(v, e, fields);
		if (!err)
			err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL, &op->id);
		if (!err)
			err = prov_get_str(v, e, "name", PROV_STR_TEXT, 0, NAME_MAX_LEN, "",
					   &op->name);
		if (!err)
			err = prov_get_str(v, e, "password", PROV_STR_PASSWORD, OP_PASSWORD_MIN,
					   PASSWORD_MAX, NULL, &op->password);
		prov_path_pop(v, m);
	}
	prov_path_pop(v, mark);
	return err;
}

/* Ids, domains and numbers are unique across the whole document. */
static int check_doc_unique(struct prov_vctx *v, struct prov_doc *doc)
{
	const struct prov_ref *dup, *first = NULL;
	struct prov_ref *ix = NULL;
	size_t n = 0, nnum = 0;
	int err = 0;

	for (size_t i = 0; i < doc->ntenants; i++)
		nnum += doc->tenants[i].nnumbers;
	doc->tenant_ix = mem_zalloc((doc->ntenants ? doc->ntenants : 1) * sizeof(*ix));
	ix = mem_zalloc((nnum > doc->ntenants ? nnum
			 : doc->ntenants      ? doc->ntenants
					      : 1) *
			sizeof(*ix));
	if (!doc->tenant_ix || !ix) {
		err = prov_nomem(v);
		goto out;
	}
	for (size_t i = 0; i < doc->ntenants; i++) {
		doc->tenant_ix[i] = (struct prov_ref){doc->tenants[i].id, i, 0};
		ix[i] = (struct prov_ref){doc->tenants[i].domain, i, 0};
	}
	dup = prov_ref_dup(doc->tenant_ix, doc->ntenants, &first);
	if (dup) {
		prov_path_idx(v, dup->pos);
		prov_path_key(v, "id");
		err = prov_verr(v, "duplicate tenant id \"%s\" (also tenants[%zu])", dup->id,
				first->pos);
		goto out;
	}
	dup = prov_ref_dup(ix, doc->ntenants, &first);
	if (dup) {
		prov_path_idx(v, dup->pos);
		prov_path_key(v, "domain");
		err =
		    prov_verr(v, "domain \"%s\" is also used by tenants[%zu]", dup->id, first->pos);
		goto out;
	}
	for (size_t i = 0; i < doc->ntenants; i++) {
		for (size_t k = 0; k < doc->tenants[i].nnumbers; k++)
			ix[n++] = (struct prov_ref){doc->tenants[i].numbers[k].number, i, k};
	}
	dup = prov_ref_dup(ix, n, &first);
	if (dup) {
		prov_path_idx(v, dup->pos);
		prov_path_key(v, "numbers");
		prov_path_idx(v, dup->sub);
		prov_path_key(v, "number");
		err = prov_verr(v, "number \"%s\" is also listed at tenants[%zu].numbers[%zu]",
				dup->id, first->pos, first->sub);
	}
out:
	mem_free(ix);
	return err;
}

int prov_parse(struct prov_doc **docp, const char *text, size_t len, char *errbuf, size_t errlen)
{
	static const char *const fields[] = {"version", "tenants", "operators", NULL};
	struct prov_vctx v = {.err = errbuf, .errlen = errlen};
	struct prov_doc *doc;
	const json_t *tenants;
	json_error_t jerr;
	uint32_t version;
	int err;

	if (!docp || (!text && len))
		return -EINVAL;
	if (len > PROV_DOC_MAX) {
		err = prov_verr(&v, "too large: at most %u bytes", PROV_DOC_MAX);
		return err;
	}
	doc = mem_zalloc(sizeof(*doc));
	if (!doc)
		return prov_nomem(&v);
	/* Duplicate keys are an error, not "the last one wins": a document
	 * that says two things must not be applied as one of them. */
	doc->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc->root) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "document: invalid JSON at line %d, column %d: %s",
				 jerr.line, jerr.column, jerr.text);
		err = -EINVAL;
		goto out;
	}
	err = prov_expect_object(&v, doc->root);
	if (!err)
		err = prov_check_fields(&v, doc->root, fields);
	if (!err)
		err = prov_get_uint(&v, doc->root, "version", 1, 1, 1, &version);
	if (err)
		goto out;
	tenants = json_object_get(doc->root, "tenants");
	if (!tenants) {
		err = prov_verr_at(&v, "tenants", "required field missing");
		goto out;
	}
	if (!json_is_array(tenants)) {
		err = prov_verr_at(&v, "tenants", "expected an array, got %s",
				   prov_type_name(tenants));
		goto out;
	}
	err = alloc_elems(&v, (void **)&doc->tenants, json_array_size(tenants),
			  sizeof(*doc->tenants));
	if (err)
		goto out;
	doc->ntenants = json_array_size(tenants);
	prov_path_key(&v, "tenants");
	for (size_t i = 0; i < doc->ntenants && !err; i++) {
		size_t m = prov_path_idx(&v, i);

		err = parse_tenant(&v, json_array_get(tenants, i), &doc->tenants[i]);
		prov_path_pop(&v, m);
	}
	if (!err)
		err = check_doc_unique(&v, doc);
	if (!err) {
		prov_path_pop(&v, 0);
		err = parse_operators(&v, doc);
	}
out:
	if (err) {
		/* jansson's "near '...'" quotes the input raw: keep the message
		 * one line whatever it quotes. */
		for (char *p = errbuf; p && errlen && *p; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		}
		prov_doc_free(doc);
	} else {
		*docp = doc;
	}
	return err;
}

/* A password in the parsed JSON, zeroed before jansson frees it (as
 * prov_apply_file wipes the text it was parsed from). */
static void wipe(const char *password)
{
	if (password)
		explicit_bzero((char *)password, strlen(password));
}

struct prov_doc *prov_doc_free(struct prov_doc *doc)
{
	if (!doc)
		return NULL;
	for (size_t i = 0; doc->tenants && i < doc->ntenants; i++) {
		struct prov_tenant *t = &doc->tenants[i];

		for (size_t k = 0; t->users && k < t->nusers; k++) {
			wipe(t->users[k].password);
			mem_free(t->users[k].roles);
			mem_free(t->users[k].skills);
		}
		for (size_t k = 0; t->queues && k < t->nqueues; k++) {
			mem_free(t->queues[k].skills);
			mem_free(t->queues[k].overflow);
			mem_free(t->queues[k].members);
		}
		for (size_t k = 0; t->ivr && k < t->nivr; k++)
			prov_ivr_reset(&t->ivr[k]);
		for (size_t k = 0; t->trunks && k < t->ntrunks; k++)
			mem_free(t->trunks[k].sources);
		for (size_t k = 0; t->webhooks && k < t->nwebhooks; k++)
			mem_free(t->webhooks[k].events);
		mem_free(t->webhooks);
		mem_free(t->trunks);
		mem_free(t->trunk_ix);
		mem_free(t->calendar);
		mem_free(t->recording);
		mem_free(t->pause_reasons);
		for (size_t k = 0; t->numbers && k < t->nnumbers; k++)
			mem_free(t->numbers[k].route);
		mem_free(t->users);
		mem_free(t->queues);
		mem_free(t->ivr);
		mem_free(t->numbers);
		mem_free(t->user_ix);
		mem_free(t->queue_ix);
		mem_free(t->ivr_ix);
	}
	mem_free(doc->tenants);
	mem_free(doc->tenant_ix);
	for (size_t k = 0; doc->operators && k < doc->noperators; k++)
		wipe(doc->operators[k].password);
	mem_free(doc->operators);
	mem_free(doc->operator_ix);
	json_decref(doc->root);
	mem_free(doc);
	return NULL;
}

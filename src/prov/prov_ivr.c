/*
 * prov_ivr: IVR flows in a provisioning document (docs/IVR.md), checked
 * completely: the shape of every node kind, prompts, routes and their
 * targets (nodes of the flow, queues, users and flows of the tenant), sizes,
 * nodes that nothing reaches, and loops of nodes that would spin without
 * ever waiting for the caller (across flows too).
 *
 * Two shapes are accepted: a flow ({id, lang, start, nodes}) and the older
 * single menu ({id, prompt, options, timeout, ...}), which is a flow of one
 * menu node named "menu". Either is stored as its validated JSON text;
 * defaults are the engine's (src/ivr/), never written into the text, so
 * the stored bytes are what the operator wrote, canonicalised.
 *
 * Not here: running a flow (src/ivr/ivr.c), which loads the stored text
 * with its own loader and must accept everything this file accepts (a unit
 * test holds the two together).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "prov/prov_internal.h"
#include "store/store.h"

#define ID_MAX	      (STORE_ID_SIZE - 1)
#define PROMPT_MAX    4096
#define PATH_MAX_LEN  255
#define NODES_MAX     256
#define PROMPT_ALTS   16 /* languages of one prompt */
#define CASES_MAX     64
#define VAR_MAX	      32
#define VALUE_MAX     128
#define LANG_MAX      32
#define DIGITS_MAX    32
#define RETRIES_MAX   9
#define TIMEOUT_S_MAX 60
#define TIMEOUT_S_DEF 5

enum node_type { N_PLAY, N_MENU, N_COLLECT, N_HOURS, N_LANGUAGE, N_SET, N_BRANCH, N_COUNT };

static const char *const type_names[N_COUNT] = {
    "play", "menu", "collect", "hours", "language", "set", "branch",
};

/* What a flow's parse needs while it walks the nodes. */
struct fctx {
	const struct prov_tenant *t;
	struct prov_ivr *m;
	size_t flow; /* index of m in t->ivr */
	struct prov_ref *node_ix;
	size_t nnodes;
	bool legacy;
};

/* A prompt file is named relative to the tenant's media folder and must stay in it. */
static bool is_media_path(const char *s)
{
	if (*s == '/')
		return false;
	for (const char *p = s; *p;) {
		size_t n = strcspn(p, "/");

		if ((n == 2 && p[0] == '.' && p[1] == '.') || n == 0)
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A language tag or voice name: "en", "cmn", "en-us", "en-gb-x-rp". */
static bool is_lang(const char *s)
{
	size_t n = 0;

	while (is_lower(s[n]))
		n++;
	if (n < 2 || n > 3 || strlen(s) > LANG_MAX)
		return false;
	for (s += n; *s;) {
		size_t k = 0;

		if (*s++ != '-')
			return false;
		while (is_lower(s[k]) || is_digit(s[k]))
			k++;
		if (!k || k > 8)
			return false;
		s += k;
	}
	return true;
}

/* An espeak-ng voice: a language tag, optionally "+variant" ("en+f3"). */
static bool is_voice(const char *s)
{
	char lang[LANG_MAX + 1];
	const char *plus = strchr(s, '+');
	size_t n = plus ? (size_t)(plus - s) : strlen(s);

	if (n > LANG_MAX)
		return false;
	memcpy(lang, s, n);
	lang[n] = '\0';
	if (!is_lang(lang))
		return false;
	if (!plus)
		return true;
	for (n = 1; plus[n]; n++) {
		if (!is_lower(plus[n]) && !is_digit(plus[n]))
			return false;
	}
	return n > 1 && n <= 17;
}

/* A variable name: [a-z_][a-z0-9_]*, at most VAR_MAX bytes. */
static bool is_var(const char *s)
{
	size_t n = 0;

	if (!is_lower(*s) && *s != '_')
		return false;
	for (; s[n]; n++) {
		if (!is_lower(s[n]) && !is_digit(s[n]) && s[n] != '_')
			return false;
	}
	return n <= VAR_MAX;
}

static int get_lang(struct prov_vctx *v, const json_t *obj, const char *key, bool required,
		    const char **out)
{
	char q[PROV_ECHO_SIZE];
	size_t mark;
	int err;

	*out = NULL;
	if (!json_object_get(obj, key))
		return required ? prov_verr_at(v, key, "required field missing") : 0;
	mark = prov_path_key(v, key);
	err = prov_check_str(v, json_object_get(obj, key), PROV_STR_TEXT, 1, LANG_MAX, out);
	if (!err && !is_lang(*out))
		err =
		    prov_verr(v, "invalid language \"%s\": expected a tag such as en, cmn or en-us",
			      prov_echo(q, sizeof(q), *out));
	prov_path_pop(v, mark);
	return err;
}

static int get_var(struct prov_vctx *v, const json_t *obj, const char *key)
{
	char q[PROV_ECHO_SIZE];
	const char *s;
	size_t mark;
	int err;

	if (!json_object_get(obj, key))
		return prov_verr_at(v, key, "required field missing");
	mark = prov_path_key(v, key);
	err = prov_check_str(v, json_object_get(obj, key), PROV_STR_TEXT, 1, VAR_MAX, &s);
	if (!err && !is_var(s))
		err = prov_verr(v,
				"invalid variable name \"%s\": use a-z, 0-9 and '_', not starting "
				"with a digit",
				prov_echo(q, sizeof(q), s));
	prov_path_pop(v, mark);
	return err;
}

static int get_bool(struct prov_vctx *v, const json_t *obj, const char *key)
{
	const json_t *j = json_object_get(obj, key);

	if (j && !json_is_boolean(j))
		return prov_verr_at(v, key, "expected a boolean, got %s", prov_type_name(j));
	return 0;
}

/* tts or file: a string, or an object of language -> string. */
static int check_prompt_text(struct prov_vctx *v, const json_t *j, bool file)
{
	const char *key, *s;
	json_t *val;
	int err = 0;

	if (!json_is_object(j)) {
		err = prov_check_str(v, j, PROV_STR_TEXT, 1, file ? PATH_MAX_LEN : PROMPT_MAX, &s);
		if (!err && file && !is_media_path(s))
			err = prov_verr(v,
					"must be a relative path inside the tenant's media folder");
		return err;
	}
	if (!json_object_size(j) || json_object_size(j) > PROMPT_ALTS)
		return prov_verr(v, "needs 1 to %d languages", PROMPT_ALTS);
	json_object_foreach((json_t *)j, key, val)
	{
		size_t m = prov_path_key(v, key);

		if (!is_lang(key))
			err = prov_verr(v, "not a language tag: use one such as en, cmn or en-us");
		else
			err = check_prompt_text(v, val, file);
		prov_path_pop(v, m);
		if (err)
			break;
	}
	return err;
}

/* Field @key of @obj as a prompt; @required or optional. */
static int parse_prompt(struct prov_vctx *v, const json_t *obj, const char *key, bool required)
{
	static const char *const fields[] = {"tts", "file", "voice", "barge_in", NULL};
	const json_t *j = json_object_get(obj, key), *tts, *file;
	const char *voice;
	size_t mark;
	int err;

	if (!j)
		return required ? prov_verr_at(v, key, "required field missing") : 0;
	mark = prov_path_key(v, key);
	err = prov_expect_object(v, j);
	if (!err)
		err = prov_check_fields(v, j, fields);
	tts = json_object_get(j, "tts");
	file = json_object_get(j, "file");
	if (!err && !tts == !file)
		err = prov_verr(v, "needs exactly one of \"tts\" or \"file\"");
	if (!err) {
		size_t m = prov_path_key(v, tts ? "tts" : "file");

		err = check_prompt_text(v, tts ? tts : file, !tts);
		prov_path_pop(v, m);
	}
	voice = json_string_value(json_object_get(j, "voice"));
	if (!err && json_object_get(j, "voice")) {
		size_t m = prov_path_key(v, "voice");
		char q[PROV_ECHO_SIZE];

		err = prov_check_str(v, json_object_get(j, "voice"), PROV_STR_TEXT, 1, LANG_MAX,
				     &voice);
		if (!err && !is_voice(voice))
			err = prov_verr(v,
					"invalid voice \"%s\": expected an espeak-ng voice such as "
					"en, cmn, en-us or en+f3",
					prov_echo(q, sizeof(q), voice));
		if (!err && file)
			err = prov_verr(v, "goes with \"tts\" only");
		prov_path_pop(v, m);
	}
	if (!err)
		err = get_bool(v, j, "barge_in");
	prov_path_pop(v, mark);
	return err;
}

static int add_edge(struct prov_vctx *v, struct prov_ivr *m, size_t flow, long node)
{
	if (m->nedges == m->edges_cap) {
		size_t cap = m->edges_cap ? m->edges_cap * 2 : 16;
		struct prov_ivr_edge *e = mem_realloc(m->edges, cap * sizeof(*e));

		if (!e)
			return prov_nomem(v);
		m->edges = e;
		m->edges_cap = cap;
	}
	m->edges[m->nedges++] = (struct prov_ivr_edge){flow, node};
	return 0;
}

/* An IVR route: {"node"|"queue"|"user"|"ivr": id} or {"hangup": true};
 * queue, user and hangup may carry a prompt played before they happen. */
static int parse_route(struct prov_vctx *v, struct fctx *f, const json_t *j)
{
	static const char *const fields[] = {"node",   "queue",	 "user", "ivr",
					     "hangup", "prompt", NULL};
	static const char *const kinds[] = {"node", "queue", "user", "ivr", "hangup"};
	const struct prov_tenant *t = f->t;
	const char *key = NULL, *target;
	const struct prov_ref *r;
	size_t n = 0, mark;
	int err;

	err = prov_expect_object(v, j);
	if (!err)
		err = prov_check_fields(v, j, fields);
	if (err)
		return err;
	for (size_t i = 0; i < 5; i++) {
		if (json_object_get(j, kinds[i])) {
			key = kinds[i];
			n++;
		}
	}
	if (n != 1)
		return prov_verr(v,
				 "needs exactly one of \"node\", \"queue\", \"user\", \"ivr\" or "
				 "\"hangup\"");
	mark = prov_path_key(v, key);
	if (!strcmp(key, "hangup")) {
		if (!json_is_true(json_object_get(j, key)))
			err = prov_verr(v, "must be true");
		goto out;
	}
	err = prov_check_str(v, json_object_get(j, key), PROV_STR_ID, 1, ID_MAX, &target);
	if (err)
		goto out;
	if (!strcmp(key, "node")) {
		r = prov_ref_find(f->node_ix, f->nnodes, target);
		if (!r)
			err = prov_verr(v, "no node \"%s\" in ivr \"%s\"", target, f->m->id);
		else
			err = add_edge(v, f->m, f->flow, (long)r->pos);
	} else if (!strcmp(key, "ivr")) {
		r = prov_ref_find(t->ivr_ix, t->nivr, target);
		if (!r)
			err = prov_verr(v, "no ivr \"%s\" in tenant \"%s\"", target, t->id);
		else
			err = add_edge(v, f->m, r->pos, -1);
	} else {
		bool queue = !strcmp(key, "queue");

		r = queue ? prov_ref_find(t->queue_ix, t->nqueues, target)
			  : prov_ref_find(t->user_ix, t->nusers, target);
		if (!r)
			err = prov_verr(v, "no %s \"%s\" in tenant \"%s\"", key, target, t->id);
	}
out:
	prov_path_pop(v, mark);
	if (!err && json_object_get(j, "prompt")) {
		if (!strcmp(key, "node") || !strcmp(key, "ivr"))
			err = prov_verr_at(v, "prompt",
					   "goes with \"queue\", \"user\" or \"hangup\" "
					   "only (a node or flow plays its own)");
		else
			err = parse_prompt(v, j, "prompt", false);
	}
	return err;
}

static int get_route(struct prov_vctx *v, struct fctx *f, const json_t *obj, const char *key,
		     bool required)
{
	const json_t *j = json_object_get(obj, key);
	size_t mark;
	int err;

	if (!j)
		return required ? prov_verr_at(v, key, "required field missing") : 0;
	mark = prov_path_key(v, key);
	err = parse_route(v, f, j);
	prov_path_pop(v, mark);
	return err;
}

/* Menu fields; for the legacy shape they sit on the flow object itself. */
static int parse_menu(struct prov_vctx *v, struct fctx *f, const json_t *e)
{
	const json_t *opts = json_object_get(e, "options"), *to = json_object_get(e, "timeout");
	uint32_t u;
	int err;

	err = parse_prompt(v, e, "prompt", true);
	if (!err)
		err = prov_get_uint(v, e, "timeout_s", 1, TIMEOUT_S_MAX, TIMEOUT_S_DEF, &u);
	if (!err)
		err = prov_get_uint(v, e, "retries", 0, RETRIES_MAX, 2, &u);
	if (!err)
		err = parse_prompt(v, e, "invalid", false);
	if (!err && opts) {
		size_t mark = prov_path_key(v, "options");
		const char *key;
		json_t *val;

		err = prov_expect_object(v, opts);
		json_object_foreach(err ? NULL : (json_t *)opts, key, val)
		{
			size_t mk = prov_path_key(v, key);

			if (strlen(key) != 1 || !strchr("0123456789*#", key[0]))
				err = prov_verr(v, "not a DTMF key: use 0-9, * or #");
			else
				err = parse_route(v, f, val);
			prov_path_pop(v, mk);
			if (err)
				break;
		}
		prov_path_pop(v, mark);
	}
	if (!err)
		err = get_route(v, f, e, "timeout", false);
	if (!err && !json_object_size(opts) && !to)
		err = prov_verr(v, "needs \"options\" or \"timeout\": a menu with no way on");
	return err;
}

static int parse_collect(struct prov_vctx *v, struct fctx *f, const json_t *e)
{
	const json_t *term = json_object_get(e, "terminator");
	uint32_t min, max, u;
	int err;

	err = parse_prompt(v, e, "prompt", true);
	if (!err)
		err = get_var(v, e, "var");
	if (!err)
		err = prov_get_uint(v, e, "min_digits", 1, DIGITS_MAX, 1, &min);
	if (!err)
		err = prov_get_uint(v, e, "max_digits", 1, DIGITS_MAX, DIGITS_MAX, &max);
	if (!err && max < min)
		err = prov_verr_at(v, "max_digits", "must be at least min_digits (%u)", min);
	if (!err && term &&
	    !(json_is_string(term) && json_string_length(term) <= 1 &&
	      strchr("#*", json_string_value(term)[0])))
		err = prov_verr_at(v, "terminator", "must be \"#\", \"*\" or \"\" (none)");
	if (!err)
		err = prov_get_uint(v, e, "timeout_s", 1, TIMEOUT_S_MAX, TIMEOUT_S_DEF, &u);
	if (!err)
		err = prov_get_uint(v, e, "retries", 0, RETRIES_MAX, 2, &u);
	if (!err)
		err = parse_prompt(v, e, "invalid", false);
	if (!err)
		err = get_bool(v, e, "mask");
	if (!err)
		err = get_route(v, f, e, "next", true);
	if (!err)
		err = get_route(v, f, e, "timeout", false);
	return err;
}

static int parse_hours_node(struct prov_vctx *v, struct fctx *f, const json_t *e)
{
	int err;

	err = prov_check_hours(v, e, "hours");
	if (!err)
		err = prov_check_holidays(v, e, "holidays");
	if (!err && !json_object_get(e, "hours") && !f->t->has_hours)
		err = prov_verr(v, "needs business hours: give the tenant \"hours\" or this node "
				   "its own");
	if (!err)
		err = get_route(v, f, e, "open", true);
	if (!err)
		err = get_route(v, f, e, "closed", true);
	if (!err)
		err = get_route(v, f, e, "holiday", false);
	return err;
}

static int parse_branch(struct prov_vctx *v, struct fctx *f, const json_t *e)
{
	const json_t *cases = json_object_get(e, "cases");
	const char *key;
	json_t *val;
	size_t mark;
	int err;

	err = get_var(v, e, "var");
	if (!err && !cases)
		err = prov_verr_at(v, "cases", "required field missing");
	if (err)
		return err;
	mark = prov_path_key(v, "cases");
	err = prov_expect_object(v, cases);
	if (!err && (!json_object_size(cases) || json_object_size(cases) > CASES_MAX))
		err = prov_verr(v, "needs 1 to %d cases", CASES_MAX);
	json_object_foreach(err ? NULL : (json_t *)cases, key, val)
	{
		size_t mk = prov_path_key(v, key);

		if (strlen(key) > VALUE_MAX || prov_has_ctl(key))
			err = prov_verr(v,
					"a case is a value of at most %d bytes, no control "
					"characters",
					VALUE_MAX);
		else
			err = parse_route(v, f, val);
		prov_path_pop(v, mk);
		if (err)
			break;
	}
	prov_path_pop(v, mark);
	if (!err)
		err = get_route(v, f, e, "default", true);
	return err;
}

static int parse_node(struct prov_vctx *v, struct fctx *f, const json_t *e, size_t idx)
{
	static const char *const fields[N_COUNT][14] = {
	    [N_PLAY] = {"id", "type", "prompt", "next", NULL},
	    [N_MENU] = {"id", "type", "prompt", "options", "timeout_s", "retries", "invalid",
			"timeout", NULL},
	    [N_COLLECT] = {"id", "type", "prompt", "var", "min_digits", "max_digits", "terminator",
			   "timeout_s", "retries", "invalid", "mask", "next", "timeout", NULL},
	    [N_HOURS] = {"id", "type", "hours", "holidays", "open", "closed", "holiday", NULL},
	    [N_LANGUAGE] = {"id", "type", "lang", "next", NULL},
	    [N_SET] = {"id", "type", "var", "value", "next", NULL},
	    [N_BRANCH] = {"id", "type", "var", "cases", "default", NULL},
	};
	struct prov_ivr_node *node = &f->m->nodes[idx];
	char q[PROV_ECHO_SIZE];
	const char *type, *s;
	int k, err;

	err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL, &node->id);
	if (!err)
		err = prov_get_str(v, e, "type", PROV_STR_TEXT, 1, 32, NULL, &type);
	if (err)
		return err;
	for (k = 0; k < N_COUNT; k++) {
		if (!strcmp(type, type_names[k]))
			break;
	}
	if (k == N_COUNT)
		return prov_verr_at(v, "type",
				    "unknown node type \"%s\": use play, menu, collect, hours, "
				    "language, set or branch",
				    prov_echo(q, sizeof(q), type));
	err = prov_check_fields(v, e, fields[k]);
	if (err)
		return err;
	node->waits = k == N_MENU || k == N_COLLECT;
	node->edge0 = f->m->nedges;
	switch (k) {
	case N_PLAY:
		err = parse_prompt(v, e, "prompt", true);
		if (!err)
			err = get_route(v, f, e, "next", true);
		break;
	case N_MENU:
		err = parse_menu(v, f, e);
		break;
	case N_COLLECT:
		err = parse_collect(v, f, e);
		break;
	case N_HOURS:
		err = parse_hours_node(v, f, e);
		break;
	case N_LANGUAGE:
		err = get_lang(v, e, "lang", true, &s);
		if (!err)
			err = get_route(v, f, e, "next", true);
		break;
	case N_SET:
		err = get_var(v, e, "var");
		if (!err)
			err = prov_get_str(v, e, "value", PROV_STR_TEXT, 0, VALUE_MAX, NULL, &s);
		if (!err)
			err = get_route(v, f, e, "next", true);
		break;
	default:
		err = parse_branch(v, f, e);
		break;
	}
	node->nedge = f->m->nedges - node->edge0;
	return err;
}

/* Node ids of the flow, unique, so routes can name nodes parsed later. */
static int collect_nodes(struct prov_vctx *v, struct fctx *f, const json_t *nodes)
{
	const struct prov_ref *dup, *first = NULL;
	size_t n = json_array_size(nodes);
	int err = 0;

	f->node_ix = mem_zalloc(n * sizeof(*f->node_ix));
	f->m->nodes = mem_zalloc(n * sizeof(*f->m->nodes));
	if (!f->node_ix || !f->m->nodes)
		return prov_nomem(v);
	for (size_t i = 0; i < n && !err; i++) {
		const json_t *e = json_array_get(nodes, i);
		size_t m = prov_path_idx(v, i);

		err = prov_expect_object(v, e);
		if (!err)
			err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL,
					   &f->node_ix[i].id);
		f->node_ix[i].pos = i;
		prov_path_pop(v, m);
	}
	if (err)
		return err;
	f->nnodes = f->m->nnodes = n;
	dup = prov_ref_dup(f->node_ix, n, &first);
	if (dup) {
		size_t m = prov_path_idx(v, dup->pos);

		prov_path_key(v, "id");
		err =
		    prov_verr(v, "duplicate node id \"%s\" (also nodes[%zu])", dup->id, first->pos);
		prov_path_pop(v, m);
	}
	return err;
}

/* Every node can be reached from the start: one that cannot is a typo in
 * some route, or left over, and either way not what the operator meant. */
static int check_reachable(struct prov_vctx *v, struct fctx *f)
{
	struct prov_ivr *m = f->m;
	size_t *stack = mem_alloc(m->nnodes * sizeof(*stack)), top = 0;
	bool *seen = mem_zalloc(m->nnodes * sizeof(*seen));
	int err = 0;

	if (!stack || !seen) {
		err = prov_nomem(v);
		goto out;
	}
	seen[m->start] = true;
	stack[top++] = m->start;
	while (top) {
		const struct prov_ivr_node *n = &m->nodes[stack[--top]];

		for (size_t i = n->edge0; i < n->edge0 + n->nedge; i++) {
			const struct prov_ivr_edge *e = &m->edges[i];
			size_t to = e->node < 0 ? m->start : (size_t)e->node;

			if (e->flow != f->flow || seen[to])
				continue;
			seen[to] = true;
			stack[top++] = to;
		}
	}
	for (size_t i = 0; i < m->nnodes; i++) {
		if (!seen[i]) {
			size_t mk = prov_path_key(v, "nodes");

			prov_path_idx(v, i);
			err =
			    prov_verr(v, "node \"%s\" is never reached from the start node \"%s\"",
				      m->nodes[i].id, m->nodes[m->start].id);
			prov_path_pop(v, mk);
			break;
		}
	}
out:
	mem_free(stack);
	mem_free(seen);
	return err;
}

static int parse_flow(struct prov_vctx *v, struct fctx *f, const json_t *e)
{
	static const char *const fields[] = {"id", "lang", "start", "nodes", NULL};
	const json_t *nodes = json_object_get(e, "nodes");
	const char *lang, *start = NULL;
	size_t mark;
	int err;

	err = prov_check_fields(v, e, fields);
	if (!err)
		err = get_lang(v, e, "lang", false, &lang);
	if (err)
		return err;
	mark = prov_path_key(v, "nodes");
	if (!json_is_array(nodes))
		err = prov_verr(v, "expected an array, got %s", prov_type_name(nodes));
	else if (!json_array_size(nodes) || json_array_size(nodes) > NODES_MAX)
		err = prov_verr(v, "needs 1 to %d nodes", NODES_MAX);
	if (!err)
		err = collect_nodes(v, f, nodes);
	for (size_t i = 0; !err && i < f->nnodes; i++) {
		size_t m = prov_path_idx(v, i);

		err = parse_node(v, f, json_array_get(nodes, i), i);
		prov_path_pop(v, m);
	}
	prov_path_pop(v, mark);
	if (!err && json_object_get(e, "start"))
		err = prov_get_str(v, e, "start", PROV_STR_ID, 1, ID_MAX, NULL, &start);
	if (!err && start) {
		const struct prov_ref *r = prov_ref_find(f->node_ix, f->nnodes, start);

		if (!r)
			err = prov_verr_at(v, "start", "no node \"%s\" in ivr \"%s\"", start,
					   f->m->id);
		else
			f->m->start = r->pos;
	}
	if (!err)
		err = check_reachable(v, f);
	return err;
}

int prov_parse_ivr(struct prov_vctx *v, const struct prov_tenant *t, const json_t *e,
		   struct prov_ivr *m)
{
	static const char *const legacy_fields[] = {
	    "id", "lang", "prompt", "options", "timeout", "timeout_s", "retries", "invalid", NULL};
	struct fctx f = {.t = t, .m = m, .flow = (size_t)(m - t->ivr)};
	const char *lang;
	int err;

	err = prov_get_str(v, e, "id", PROV_STR_ID, 1, ID_MAX, NULL, &m->id);
	if (err)
		return err;
	if (json_object_get(e, "nodes")) {
		err = parse_flow(v, &f, e);
	} else {
		/* The single-menu shape: one menu node, named "menu", at the flow's path. */
		struct prov_ref menu_ix = {"menu", 0, 0};

		f.legacy = true;
		f.node_ix = NULL;
		err = prov_check_fields(v, e, legacy_fields);
		if (!err)
			err = get_lang(v, e, "lang", false, &lang);
		m->nodes = mem_zalloc(sizeof(*m->nodes));
		if (!err && !m->nodes)
			err = prov_nomem(v);
		if (!err) {
			m->nnodes = 1;
			m->nodes[0] = (struct prov_ivr_node){.id = "menu", .waits = true};
			f.nnodes = 1;
			f.node_ix = &menu_ix;
			err = parse_menu(v, &f, e);
			m->nodes[0].nedge = m->nedges;
			f.node_ix = NULL;
		}
	}
	mem_free(f.node_ix);
	if (!err)
		err = prov_dump(v, e, &m->json);
	return err;
}

void prov_ivr_reset(struct prov_ivr *m)
{
	mem_free(m->json);
	mem_free(m->nodes);
	mem_free(m->edges);
	m->json = NULL;
	m->nodes = NULL;
	m->edges = NULL;
}

/*
 * Loops: a cycle of nodes none of which waits for the caller (play, hours,
 * language, set, branch) would run forever, or replay prompts forever, the
 * moment a caller reaches it. A cycle through a menu or collect is fine: it
 * waits for a key or its timeout, and its retries end it. Depth-first
 * search over the graph of non-waiting nodes of all flows (a flow's routes
 * to other flows enter their start), with an explicit stack: documents can
 * hold many flows.
 */
struct gnode {
	size_t flow, node;
};

static size_t edge_target(const struct prov_tenant *t, const size_t *base,
			  const struct prov_ivr_edge *e)
{
	return base[e->flow] + (e->node < 0 ? t->ivr[e->flow].start : (size_t)e->node);
}

static int report_loop(struct prov_vctx *v, const struct prov_tenant *t, const struct gnode *g,
		       const size_t *path, size_t depth, size_t from)
{
	char msg[320];
	size_t len = 0, mark;
	bool cross = false;
	int err;

	for (size_t i = from; i < depth; i++)
		cross |= g[path[i]].flow != g[path[from]].flow;
	for (size_t i = from; i <= depth && len < sizeof(msg); i++) {
		const struct gnode *n = &g[path[i < depth ? i : from]];
		int k = snprintf(msg + len, sizeof(msg) - len, "%s%s%s%s", i > from ? " > " : "",
				 cross ? t->ivr[n->flow].id : "", cross ? ":" : "",
				 t->ivr[n->flow].nodes[n->node].id);

		len = k < 0 ? sizeof(msg) : len + (size_t)k;
	}
	if (len >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	mark = prov_path_key(v, "ivr");
	prov_path_idx(v, g[path[from]].flow);
	prov_path_key(v, "nodes");
	prov_path_idx(v, g[path[from]].node);
	err = prov_verr(v, "loop that never waits for input: %s", msg);
	prov_path_pop(v, mark);
	return err;
}

int prov_check_ivr_loops(struct prov_vctx *v, const struct prov_tenant *t)
{
	size_t total = 0, *base, *path = NULL, *next = NULL;
	unsigned char *color = NULL; /* 0 new, 1 on the path, 2 done */
	struct gnode *g = NULL;
	int err = 0;

	base = mem_alloc((t->nivr ? t->nivr : 1) * sizeof(*base));
	if (!base)
		return prov_nomem(v);
	for (size_t i = 0; i < t->nivr; i++) {
		base[i] = total;
		total += t->ivr[i].nnodes;
	}
	g = mem_alloc((total ? total : 1) * sizeof(*g));
	path = mem_alloc((total ? total : 1) * sizeof(*path));
	next = mem_alloc((total ? total : 1) * sizeof(*next));
	color = mem_zalloc(total ? total : 1);
	if (!g || !path || !next || !color) {
		err = prov_nomem(v);
		goto out;
	}
	for (size_t i = 0; i < t->nivr; i++) {
		for (size_t k = 0; k < t->ivr[i].nnodes; k++)
			g[base[i] + k] = (struct gnode){i, k};
	}
	for (size_t root = 0; root < total && !err; root++) {
		size_t depth = 0;

		if (color[root] || t->ivr[g[root].flow].nodes[g[root].node].waits)
			continue;
		path[depth] = root;
		next[depth++] = 0;
		color[root] = 1;
		while (depth && !err) {
			size_t u = path[depth - 1];
			const struct prov_ivr *fl = &t->ivr[g[u].flow];
			const struct prov_ivr_node *n = &fl->nodes[g[u].node];
			size_t w;

			if (next[depth - 1] == n->nedge) {
				color[u] = 2;
				depth--;
				continue;
			}
			w = edge_target(t, base, &fl->edges[n->edge0 + next[depth - 1]++]);
			if (t->ivr[g[w].flow].nodes[g[w].node].waits || color[w] == 2)
				continue;
			if (color[w] == 1) {
				size_t from = depth - 1;

				while (path[from] != w)
					from--;
				err = report_loop(v, t, g, path, depth, from);
				break;
			}
			color[w] = 1;
			path[depth] = w;
			next[depth++] = 0;
		}
	}
out:
	mem_free(base);
	mem_free(g);
	mem_free(path);
	mem_free(next);
	mem_free(color);
	return err;
}

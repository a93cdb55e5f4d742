/*
 * ivr_flow: a stored flow (JSON text that provisioning validated, see
 * src/prov/prov_ivr.c) into the engine's nodes, with the defaults of
 * docs/IVR.md applied and every node reference resolved to an index.
 *
 * The text comes from our own database, but a loader that trusted it would
 * turn a damaged row or a hand edit into a crash on the call path; so every
 * type, bound and reference the engine relies on is checked again, and
 * anything off gives -EINVAL. Fields this loader does not know are ignored
 * (provisioning refuses them), which lets a newer provisioning add fields
 * an older engine can skip.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "ivr/ivr_internal.h"

#define ID_MAX	  64
#define TEXT_MAX  4096
#define VALUE_MAX 128
#define VAR_MAX	  32

/* Loader state: the flow being built and a sorted index of node ids. */
struct lctx {
	struct ivr_flow *f;
	struct ivr_node_ref {
		const char *id;
		size_t idx;
	} * ix;
	size_t nix;
};

/* A copy of string @j of @min..@max bytes (no NUL inside) in the flow's
 * arena into *@out: 0, -EINVAL or -ENOMEM. */
static int str_copy(struct lctx *l, const json_t *j, size_t min, size_t max, const char **out)
{
	const char *s = json_string_value(j);
	size_t len = json_string_length(j);
	char *c;

	if (!s || len < min || len > max || strlen(s) != len)
		return -EINVAL;
	c = arena_alloc(&l->f->arena, len + 1);
	if (!c)
		return -ENOMEM;
	memcpy(c, s, len + 1);
	*out = c;
	return 0;
}

/* A string field: NULL when absent (or after an error, which goes to *@err). */
static const char *get_str(struct lctx *l, const json_t *obj, const char *key, size_t min,
			   size_t max, int *err)
{
	const json_t *j = json_object_get(obj, key);
	const char *s = NULL;

	if (!j || *err)
		return NULL;
	*err = str_copy(l, j, min, max, &s);
	return s;
}

static unsigned get_uint(const json_t *obj, const char *key, unsigned min, unsigned max,
			 unsigned def, int *err)
{
	const json_t *j = json_object_get(obj, key);
	json_int_t v;

	if (!j)
		return def;
	v = json_integer_value(j);
	if (!json_is_integer(j) || v < min || v > max) {
		*err = -EINVAL;
		return def;
	}
	return (unsigned)v;
}

static int ref_cmp(const void *a, const void *b)
{
	const struct ivr_node_ref *x = a, *y = b;

	return strcmp(x->id, y->id);
}

static long node_find(const struct lctx *l, const char *id)
{
	size_t lo = 0, hi = l->nix;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, l->ix[mid].id);

		if (!c)
			return (long)l->ix[mid].idx;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int parse_alts(struct lctx *l, struct ivr_prompt_def *p, const json_t *j, size_t max)
{
	const char *key;
	json_t *val;
	size_t i = 0;

	if (json_is_string(j)) {
		p->alts = arena_zalloc(&l->f->arena, sizeof(*p->alts));
		if (!p->alts)
			return -ENOMEM;
		p->nalts = 1;
		return str_copy(l, j, 1, max, &p->alts[0].text);
	}
	if (!json_is_object(j) || !json_object_size(j) || json_object_size(j) > IVR_PROMPT_ALTS)
		return -EINVAL;
	p->alts = arena_zalloc(&l->f->arena, json_object_size(j) * sizeof(*p->alts));
	if (!p->alts)
		return -ENOMEM;
	json_object_foreach((json_t *)j, key, val)
	{
		struct str k = str_cstr(key);
		int err;

		if (!k.len || k.len > 32)
			return -EINVAL;
		p->alts[i].lang = arena_strdup(&l->f->arena, &k);
		if (!p->alts[i].lang)
			return -ENOMEM;
		err = str_copy(l, val, 1, max, &p->alts[i++].text);
		if (err)
			return err;
	}
	p->nalts = i;
	return 0;
}

/* Field @key as a prompt, or NULL (absent, or *@err set). */
static const struct ivr_prompt_def *get_prompt(struct lctx *l, const json_t *obj, const char *key,
					       int *err)
{
	const json_t *j = json_object_get(obj, key), *tts, *file, *barge;
	struct ivr_prompt_def *p;

	if (!j || *err)
		return NULL;
	tts = json_object_get(j, "tts");
	file = json_object_get(j, "file");
	barge = json_object_get(j, "barge_in");
	if (!json_is_object(j) || !tts == !file || (barge && !json_is_boolean(barge))) {
		*err = -EINVAL;
		return NULL;
	}
	p = arena_zalloc(&l->f->arena, sizeof(*p));
	if (!p) {
		*err = -ENOMEM;
		return NULL;
	}
	p->kind = tts ? IVR_PROMPT_TTS : IVR_PROMPT_FILE;
	p->barge_in = barge ? json_is_true(barge) : -1;
	*err = parse_alts(l, p, tts ? tts : file, tts ? TEXT_MAX : 255);
	if (!*err)
		p->voice = get_str(l, j, "voice", 1, 32, err);
	return *err ? NULL : p;
}

static int parse_route(struct lctx *l, struct ivr_route_def *r, const json_t *j)
{
	static const char *const kinds[] = {"node", "queue", "user", "hangup", "ivr"};
	const json_t *v = NULL;
	int err = 0, n = 0;

	if (!json_is_object(j))
		return -EINVAL;
	for (int k = 0; k < 5; k++) {
		const json_t *x = json_object_get(j, kinds[k]);

		if (x) {
			v = x;
			r->kind = (enum ivr_route_def_kind)k;
			n++;
		}
	}
	if (n != 1)
		return -EINVAL;
	if (r->kind == IVR_RD_HANGUP) {
		if (!json_is_true(v))
			return -EINVAL;
	} else {
		err = str_copy(l, v, 1, ID_MAX, &r->target);
		if (err)
			return err;
	}
	if (r->kind == IVR_RD_NODE) {
		long idx = node_find(l, r->target);

		if (idx < 0)
			return -EINVAL;
		r->node = (size_t)idx;
	}
	r->prompt = get_prompt(l, j, "prompt", &err);
	return err;
}

static const struct ivr_route_def *get_route(struct lctx *l, const json_t *obj, const char *key,
					     bool required, int *err)
{
	const json_t *j = json_object_get(obj, key);
	struct ivr_route_def *r;

	if (*err)
		return NULL;
	if (!j) {
		if (required)
			*err = -EINVAL;
		return NULL;
	}
	r = arena_zalloc(&l->f->arena, sizeof(*r));
	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	*err = parse_route(l, r, j);
	return *err ? NULL : r;
}

static int load_menu(struct lctx *l, struct ivr_node *n, const json_t *e)
{
	const json_t *opts = json_object_get(e, "options");
	const char *key;
	json_t *val;
	int err = 0;

	n->prompt = get_prompt(l, e, "prompt", &err);
	if (!err && !n->prompt)
		return -EINVAL;
	n->invalid = get_prompt(l, e, "invalid", &err);
	n->timeout = get_route(l, e, "timeout", false, &err);
	n->timeout_ms =
	    1000 * get_uint(e, "timeout_s", 1, IVR_TIMEOUT_S_MAX, IVR_TIMEOUT_S_DEF, &err);
	n->retries = get_uint(e, "retries", 0, IVR_RETRIES_MAX, IVR_RETRIES_DEF, &err);
	if (err || !opts)
		return err;
	if (!json_is_object(opts) || json_object_size(opts) > 16)
		return -EINVAL;
	n->options = arena_zalloc(&l->f->arena, (json_object_size(opts) + 1) * sizeof(*n->options));
	if (!n->options)
		return -ENOMEM;
	json_object_foreach((json_t *)opts, key, val)
	{
		struct ivr_option *o = &n->options[n->noptions++];

		if (strlen(key) != 1 || !strchr("0123456789*#ABCD", key[0]))
			return -EINVAL;
		o->key = key[0];
		err = parse_route(l, &o->route, val);
		if (err)
			return err;
	}
	return 0;
}

static bool var_ok(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}

static int load_collect(struct lctx *l, struct ivr_node *n, const json_t *e)
{
	const json_t *term = json_object_get(e, "terminator"), *mask = json_object_get(e, "mask");
	int err = 0;

	n->prompt = get_prompt(l, e, "prompt", &err);
	n->invalid = get_prompt(l, e, "invalid", &err);
	n->var = get_str(l, e, "var", 1, VAR_MAX, &err);
	n->next = get_route(l, e, "next", true, &err);
	n->timeout = get_route(l, e, "timeout", false, &err);
	n->min_digits = get_uint(e, "min_digits", 1, IVR_DIGITS_MAX, 1, &err);
	n->max_digits = get_uint(e, "max_digits", 1, IVR_DIGITS_MAX, IVR_DIGITS_MAX, &err);
	n->timeout_ms =
	    1000 * get_uint(e, "timeout_s", 1, IVR_TIMEOUT_S_MAX, IVR_TIMEOUT_S_DEF, &err);
	n->retries = get_uint(e, "retries", 0, IVR_RETRIES_MAX, IVR_RETRIES_DEF, &err);
	if (err)
		return err;
	if (!n->prompt || !var_ok(n->var) || n->max_digits < n->min_digits)
		return -EINVAL;
	n->terminator = '#';
	if (term) {
		const char *t = json_string_value(term);

		if (!t || strlen(t) > 1 || (*t && *t != '#' && *t != '*'))
			return -EINVAL;
		n->terminator = *t;
	}
	if (mask && !json_is_boolean(mask))
		return -EINVAL;
	n->mask = json_is_true(mask);
	return 0;
}

static int load_hours(struct lctx *l, struct ivr_node *n, const json_t *e)
{
	const json_t *hours = json_object_get(e, "hours"), *hol = json_object_get(e, "holidays");
	int err = 0;

	n->open = get_route(l, e, "open", true, &err);
	n->closed = get_route(l, e, "closed", true, &err);
	n->holiday = get_route(l, e, "holiday", false, &err);
	if (err || (!hours && !hol))
		return err;
	{
		struct ivr_hours *h = arena_zalloc(&l->f->arena, sizeof(*h));

		if (!h)
			return -ENOMEM;
		err = ivr_hours_parse(h, &l->f->arena, hours, hol);
		n->hours = h;
	}
	return err;
}

static int load_branch(struct lctx *l, struct ivr_node *n, const json_t *e)
{
	const json_t *cases = json_object_get(e, "cases");
	const char *key;
	json_t *val;
	int err = 0;

	n->var = get_str(l, e, "var", 1, VAR_MAX, &err);
	n->dflt = get_route(l, e, "default", true, &err);
	if (err)
		return err;
	if (!var_ok(n->var) || !json_is_object(cases) || json_object_size(cases) > IVR_CASES_MAX)
		return -EINVAL;
	n->cases = arena_zalloc(&l->f->arena, (json_object_size(cases) + 1) * sizeof(*n->cases));
	if (!n->cases)
		return -ENOMEM;
	json_object_foreach((json_t *)cases, key, val)
	{
		struct ivr_case *c = &n->cases[n->ncases++];
		struct str k = str_cstr(key);

		if (k.len > VALUE_MAX)
			return -EINVAL;
		c->value = arena_strdup(&l->f->arena, &k);
		if (!c->value)
			return -ENOMEM;
		err = parse_route(l, &c->route, val);
		if (err)
			return err;
	}
	return 0;
}

static int load_node(struct lctx *l, struct ivr_node *n, const json_t *e)
{
	static const char *const types[] = {"play",	"menu", "collect", "hours",
					    "language", "set",	"branch"};
	const char *type = json_string_value(json_object_get(e, "type"));
	int err = 0;

	n->type = (enum ivr_node_type) - 1;
	for (size_t k = 0; type && k < sizeof(types) / sizeof(types[0]); k++) {
		if (!strcmp(type, types[k]))
			n->type = (enum ivr_node_type)k;
	}
	switch (n->type) {
	case IVR_NODE_PLAY:
		n->prompt = get_prompt(l, e, "prompt", &err);
		n->next = get_route(l, e, "next", true, &err);
		return err ? err : n->prompt ? 0 : -EINVAL;
	case IVR_NODE_MENU:
		return load_menu(l, n, e);
	case IVR_NODE_COLLECT:
		return load_collect(l, n, e);
	case IVR_NODE_HOURS:
		return load_hours(l, n, e);
	case IVR_NODE_LANGUAGE:
		n->lang = get_str(l, e, "lang", 1, 32, &err);
		n->next = get_route(l, e, "next", true, &err);
		return err ? err : n->lang ? 0 : -EINVAL;
	case IVR_NODE_SET:
		n->var = get_str(l, e, "var", 1, VAR_MAX, &err);
		n->value = get_str(l, e, "value", 0, VALUE_MAX, &err);
		n->next = get_route(l, e, "next", true, &err);
		return err ? err : var_ok(n->var) && n->value ? 0 : -EINVAL;
	case IVR_NODE_BRANCH:
		return load_branch(l, n, e);
	default:
		return -EINVAL;
	}
}

static int load_nodes(struct lctx *l, const json_t *root, const json_t *nodes)
{
	struct ivr_flow *f = l->f;
	const char *start;
	size_t n = json_array_size(nodes);
	int err = 0;

	if (!json_is_array(nodes) || !n || n > IVR_NODES_MAX)
		return -EINVAL;
	f->nodes = arena_zalloc(&f->arena, n * sizeof(*f->nodes));
	l->ix = mem_alloc(n * sizeof(*l->ix));
	if (!f->nodes || !l->ix)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const json_t *e = json_array_get(nodes, i);

		if (!json_is_object(e))
			return -EINVAL;
		f->nodes[i].id = get_str(l, e, "id", 1, ID_MAX, &err);
		if (!err && !f->nodes[i].id)
			err = -EINVAL;
		if (err)
			return err;
		l->ix[i] = (struct ivr_node_ref){f->nodes[i].id, i};
	}
	qsort(l->ix, n, sizeof(*l->ix), ref_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!strcmp(l->ix[i - 1].id, l->ix[i].id))
			return -EINVAL;
	}
	l->nix = f->nnodes = n;
	for (size_t i = 0; i < n && !err; i++)
		err = load_node(l, &f->nodes[i], json_array_get(nodes, i));
	start = json_string_value(json_object_get(root, "start"));
	if (!err && json_object_get(root, "start")) {
		long idx = start ? node_find(l, start) : -1;

		if (idx < 0)
			return -EINVAL;
		f->start = (size_t)idx;
	}
	return err;
}

/* The single-menu shape: the root object is the menu, its node is "menu". */
static int load_legacy(struct lctx *l, const json_t *root)
{
	struct ivr_flow *f = l->f;

	f->nodes = arena_zalloc(&f->arena, sizeof(*f->nodes));
	l->ix = mem_alloc(sizeof(*l->ix));
	if (!f->nodes || !l->ix)
		return -ENOMEM;
	f->nodes[0].id = "menu";
	f->nodes[0].type = IVR_NODE_MENU;
	l->ix[0] = (struct ivr_node_ref){"menu", 0};
	l->nix = f->nnodes = 1;
	return load_menu(l, &f->nodes[0], root);
}

int ivr_flow_load(struct ivr_flow **flowp, const char *json)
{
	struct lctx l = {0};
	json_t *root = NULL;
	int err = 0;

	if (!flowp || !json)
		return -EINVAL;
	l.f = mem_zalloc(sizeof(*l.f));
	if (!l.f)
		return -ENOMEM;
	arena_init(&l.f->arena, NULL, 0, 0);
	root = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		err = -EINVAL;
		goto out;
	}
	l.f->id = get_str(&l, root, "id", 1, ID_MAX, &err);
	l.f->lang = get_str(&l, root, "lang", 1, 32, &err);
	if (!err && !l.f->id)
		err = -EINVAL;
	if (!err)
		err = json_object_get(root, "nodes")
			  ? load_nodes(&l, root, json_object_get(root, "nodes"))
			  : load_legacy(&l, root);
out:
	json_decref(root);
	mem_free(l.ix);
	if (err) {
		ivr_flow_free(l.f);
		return err;
	}
	*flowp = l.f;
	return 0;
}

struct ivr_flow *ivr_flow_free(struct ivr_flow *flow)
{
	if (!flow)
		return NULL;
	arena_reset(&flow->arena);
	mem_free(flow);
	return NULL;
}

const char *ivr_flow_id(const struct ivr_flow *flow)
{
	return flow ? flow->id : NULL;
}

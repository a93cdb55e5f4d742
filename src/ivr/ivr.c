/*
 * ivr: runs of flows. A run is a small state machine per call: which node
 * it is at, whether that node's prompt is playing or the run is waiting
 * for a key (with a timer), how many attempts failed, the digits gathered,
 * the keys typed ahead, variables and the path for the CDR.
 *
 * Every action that the caller must answer carries an id (a PLAY's prompt
 * done, a START_TIMER's expiry); an answer with another id is stale (the
 * prompt was stopped, the timer restarted) and ignored. That is what makes
 * the engine safe against the races of a real call, where a prompt can end
 * in the same instant a key stops it.
 *
 * Keys pressed during a prompt that allows barge-in stop it and count: on
 * a menu they choose, on a collect they are the first digits, and on a play
 * node they skip it and are kept ("type-ahead") for the next menu or
 * collect, so a caller who knows the menu never waits for it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"
#include "ivr/ivr_internal.h"

/* Nodes entered without any input in between before the run gives up: more
 * than a flow has, so only a loop gets there (provisioning refuses those;
 * this is the engine's own guard against a damaged flow). */
#define HOPS_MAX  (2 * IVR_NODES_MAX)
#define JUMPS_MAX 16 /* flow changes without input */
#define AHEAD_MAX 32

enum run_state {
	RS_IDLE,    /* before IVR_EV_START */
	RS_PROMPT,  /* the node's prompt is playing */
	RS_INVALID, /* the node's "invalid" prompt is playing; its prompt follows */
	RS_WAIT,    /* waiting for a key (timer running) */
	RS_DONE,    /* routed, or failed */
};

struct var {
	char name[IVR_VAR_NAME_MAX + 1];
	char value[IVR_VAR_VALUE_MAX + 1];
};

struct ivr_run {
	const struct ivr_flow *flow;
	struct ivr_ctx ctx;
	const struct ivr_node *node;
	enum run_state st;
	int64_t now;
	uint32_t seq, play_id, timer_id;
	bool playing, timing, barge;
	bool want_flow; /* the last route was to another flow */
	unsigned tries, inputs, hops, jumps;
	char digits[IVR_DIGITS_MAX + 1];
	size_t ndigits;
	char ahead[AHEAD_MAX];
	size_t nahead;
	struct var vars[IVR_VARS_MAX];
	size_t nvars;
	char path[IVR_PATH_SIZE];
	size_t plen;
	bool pfull;
};

/* Actions being produced by one step. */
struct out {
	struct ivr_action *a;
	size_t n, max;
};

static int emit(struct out *o, const struct ivr_action *a)
{
	if (o->n == o->max)
		return -ENOSPC;
	o->a[o->n++] = *a;
	return 0;
}

/* --- Path ------------------------------------------------------------------ */

static void path_add(struct ivr_run *r, const char *a, const char *b)
{
	const size_t room = sizeof(r->path) - 4; /* keep space for "..." */
	size_t la = strlen(a), lb = b ? strlen(b) : 0;

	if (r->pfull)
		return;
	if (r->plen + la + lb > room) {
		memcpy(r->path + r->plen, "...", 4);
		r->plen += 3;
		r->pfull = true;
		return;
	}
	memcpy(r->path + r->plen, a, la);
	memcpy(r->path + r->plen + la, b ? b : "", lb);
	r->plen += la + lb;
	r->path[r->plen] = '\0';
}

/* One input of the current node: "menu:T,9,1" (T is a timeout). */
static void path_input(struct ivr_run *r, const char *what)
{
	path_add(r, r->inputs++ ? "," : ":", what);
}

/* --- Variables ------------------------------------------------------------- */

static struct var *var_find(const struct ivr_run *r, const char *name)
{
	for (size_t i = 0; i < r->nvars; i++) {
		if (!strcmp(r->vars[i].name, name))
			return (struct var *)&r->vars[i];
	}
	return NULL;
}

static bool var_name_ok(const char *s)
{
	size_t n = 0;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; s[n]; n++) {
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return false;
	}
	return n <= IVR_VAR_NAME_MAX;
}

int ivr_run_var_set(struct ivr_run *run, const char *name, const char *value)
{
	struct var *v;

	if (!run || !var_name_ok(name) || !value || strlen(value) > IVR_VAR_VALUE_MAX)
		return -EINVAL;
	v = var_find(run, name);
	if (!v) {
		if (run->nvars == IVR_VARS_MAX)
			return -ENOSPC;
		v = &run->vars[run->nvars++];
		snprintf(v->name, sizeof(v->name), "%s", name);
	}
	snprintf(v->value, sizeof(v->value), "%s", value);
	return 0;
}

const char *ivr_run_var_get(const struct ivr_run *run, const char *name)
{
	const struct var *v = run && name ? var_find(run, name) : NULL;

	return v ? v->value : NULL;
}

/* --- Prompts, timers ------------------------------------------------------- */

static const char *run_lang(const struct ivr_run *r)
{
	const char *l = ivr_run_var_get(r, "lang");

	return l ? l : r->flow->lang ? r->flow->lang : "en";
}

/* Same primary language: "en" and "en-us". */
static bool lang_near(const char *a, const char *b)
{
	size_t na = strcspn(a, "-"), nb = strcspn(b, "-");

	return na == nb && !memcmp(a, b, na);
}

/* The text for the run's language: exact, else the same primary language,
 * else the flow's language, else the first. */
static const struct ivr_alt *pick_alt(const struct ivr_run *r, const struct ivr_prompt_def *p)
{
	const char *lang = run_lang(r);

	if (p->nalts == 1 || !p->alts[0].lang)
		return &p->alts[0];
	for (size_t i = 0; i < p->nalts; i++) {
		if (!strcmp(p->alts[i].lang, lang))
			return &p->alts[i];
	}
	for (size_t i = 0; i < p->nalts; i++) {
		if (lang_near(p->alts[i].lang, lang))
			return &p->alts[i];
	}
	for (size_t i = 0; r->flow->lang && i < p->nalts; i++) {
		if (!strcmp(p->alts[i].lang, r->flow->lang))
			return &p->alts[i];
	}
	return &p->alts[0];
}

static struct ivr_prompt prompt_of(const struct ivr_run *r, const struct ivr_prompt_def *p,
				   bool barge_default)
{
	struct ivr_prompt out = {0};
	const struct ivr_alt *alt;

	if (!p)
		return out;
	alt = pick_alt(r, p);
	out.kind = p->kind;
	out.text = alt->text;
	if (p->kind == IVR_PROMPT_TTS)
		out.voice = p->voice ? p->voice : alt->lang ? alt->lang : run_lang(r);
	out.barge_in = p->barge_in < 0 ? barge_default : p->barge_in;
	return out;
}

static int play(struct ivr_run *r, const struct ivr_prompt_def *p, bool barge_default,
		enum run_state st, struct out *o)
{
	struct ivr_action a = {.type = IVR_ACT_PLAY, .id = ++r->seq};

	a.prompt = prompt_of(r, p, barge_default);
	r->play_id = a.id;
	r->playing = true;
	r->barge = a.prompt.barge_in;
	r->st = st;
	return emit(o, &a);
}

static int stop_play(struct ivr_run *r, struct out *o)
{
	struct ivr_action a = {.type = IVR_ACT_STOP_PLAY, .id = r->play_id};

	if (!r->playing)
		return 0;
	r->playing = false;
	return emit(o, &a);
}

static int start_timer(struct ivr_run *r, uint32_t ms, struct out *o)
{
	struct ivr_action a = {.type = IVR_ACT_START_TIMER, .id = ++r->seq, .ms = ms};

	r->timer_id = a.id;
	r->timing = true;
	r->st = RS_WAIT;
	return emit(o, &a);
}

static int cancel_timer(struct ivr_run *r, struct out *o)
{
	struct ivr_action a = {.type = IVR_ACT_CANCEL_TIMER, .id = r->timer_id};

	if (!r->timing)
		return 0;
	r->timing = false;
	return emit(o, &a);
}

/* --- Nodes ----------------------------------------------------------------- */

static int enter(struct ivr_run *r, size_t idx, struct out *o);

static int finish(struct ivr_run *r, const struct ivr_route_def *rd, struct out *o)
{
	static const char *const names[] = {
	    [IVR_RD_QUEUE] = "queue", [IVR_RD_USER] = "user", [IVR_RD_IVR] = "ivr"};
	static const enum ivr_route_kind kinds[] = {[IVR_RD_QUEUE] = IVR_ROUTE_QUEUE,
						    [IVR_RD_USER] = IVR_ROUTE_USER,
						    [IVR_RD_HANGUP] = IVR_ROUTE_HANGUP,
						    [IVR_RD_IVR] = IVR_ROUTE_IVR};
	struct ivr_action a = {.type = IVR_ACT_ROUTE};
	int err = cancel_timer(r, o);

	if (!err)
		err = stop_play(r, o);
	if (err)
		return err;
	a.route = kinds[rd->kind];
	a.target = rd->kind == IVR_RD_HANGUP ? NULL : rd->target;
	a.prompt = prompt_of(r, rd->prompt, false);
	if (rd->kind == IVR_RD_HANGUP) {
		path_add(r, ">hangup", NULL);
	} else {
		path_add(r, ">", names[rd->kind]);
		path_add(r, ":", rd->target);
	}
	r->st = RS_DONE;
	r->want_flow = rd->kind == IVR_RD_IVR;
	r->nahead = 0;
	return emit(o, &a);
}

static int follow(struct ivr_run *r, const struct ivr_route_def *rd, struct out *o)
{
	static const struct ivr_route_def hangup = {.kind = IVR_RD_HANGUP};

	if (!rd)
		rd = &hangup;
	return rd->kind == IVR_RD_NODE ? enter(r, rd->node, o) : finish(r, rd, o);
}

/* A failed attempt at a menu or collect (a timeout, a wrong key, too few
 * digits): try again while retries last, then the node's timeout route. */
static int attempt_failed(struct ivr_run *r, bool invalid, struct out *o)
{
	const struct ivr_node *n = r->node;

	r->ndigits = 0;
	r->nahead = 0;
	if (++r->tries > n->retries)
		return follow(r, n->timeout, o);
	if (invalid && n->invalid)
		return play(r, n->invalid, true, RS_INVALID, o);
	return play(r, n->prompt, true, RS_PROMPT, o);
}

static int menu_key(struct ivr_run *r, char key, struct out *o)
{
	const struct ivr_node *n = r->node;
	char k[2] = {key, '\0'};

	path_input(r, k);
	for (size_t i = 0; i < n->noptions; i++) {
		if (n->options[i].key == key)
			return follow(r, &n->options[i].route, o);
	}
	return attempt_failed(r, true, o);
}

static int collect_done(struct ivr_run *r, struct out *o)
{
	const struct ivr_node *n = r->node;
	char shown[IVR_DIGITS_MAX + 1];
	int err;

	r->digits[r->ndigits] = '\0';
	memcpy(shown, r->digits, r->ndigits + 1);
	if (n->mask)
		memset(shown, '*', r->ndigits);
	path_input(r, shown);
	err = ivr_run_var_set(r, n->var, r->digits);
	return err ? err : follow(r, n->next, o);
}

/* Too few digits (at the terminator or the timeout): a failed attempt that
 * the path shows with what was typed, or T for nothing. */
static int collect_short(struct ivr_run *r, bool timeout, struct out *o)
{
	char shown[IVR_DIGITS_MAX + 1];

	r->digits[r->ndigits] = '\0';
	memcpy(shown, r->digits, r->ndigits + 1);
	if (r->node->mask)
		memset(shown, '*', r->ndigits);
	path_input(r, r->ndigits ? shown : "T");
	return attempt_failed(r, !timeout || r->ndigits, o);
}

/* One key for a collect node: 1 when the node is finished with (done or
 * failed), 0 when it wants more, or -errno. */
static int collect_key(struct ivr_run *r, char key, struct out *o)
{
	const struct ivr_node *n = r->node;
	int err;

	if (n->terminator && key == n->terminator) {
		err = r->ndigits >= n->min_digits ? collect_done(r, o) : collect_short(r, false, o);
		return err ? err : 1;
	}
	if (key < '0' || key > '9')
		return 0; /* *, # or A-D that end nothing: not digits, ignored */
	r->digits[r->ndigits++] = key;
	if (r->ndigits < n->max_digits)
		return 0;
	err = collect_done(r, o);
	return err ? err : 1;
}

static int enter_collect(struct ivr_run *r, struct out *o)
{
	const struct ivr_node *n = r->node;
	int rc = 0;

	if (!r->nahead)
		return play(r, n->prompt, true, RS_PROMPT, o);
	/* Typed ahead: no prompt, take the keys as digits. */
	while (r->nahead && r->node == n && r->st != RS_DONE && rc == 0) {
		char key = r->ahead[0];

		memmove(r->ahead, r->ahead + 1, --r->nahead);
		rc = collect_key(r, key, o);
	}
	if (rc < 0)
		return rc;
	return rc == 0 ? start_timer(r, n->timeout_ms, o) : 0;
}

static int enter(struct ivr_run *r, size_t idx, struct out *o)
{
	const struct ivr_node *n;
	enum ivr_hours_state hs;
	const struct ivr_hours *week, *hol;
	int err = 0;

	if (idx >= r->flow->nnodes)
		return -EINVAL;
	if (++r->hops > HOPS_MAX)
		return -ELOOP;
	n = &r->flow->nodes[idx];
	r->node = n;
	r->tries = 0;
	r->inputs = 0;
	r->ndigits = 0;
	path_add(r, ">", n->id);
	switch (n->type) {
	case IVR_NODE_PLAY:
		if (r->nahead && prompt_of(r, n->prompt, false).barge_in)
			return follow(r, n->next, o); /* keys typed ahead skip it */
		return play(r, n->prompt, false, RS_PROMPT, o);
	case IVR_NODE_MENU:
		if (r->nahead) {
			char key = r->ahead[0];

			memmove(r->ahead, r->ahead + 1, --r->nahead);
			r->st = RS_WAIT;
			return menu_key(r, key, o);
		}
		return play(r, n->prompt, true, RS_PROMPT, o);
	case IVR_NODE_COLLECT:
		return enter_collect(r, o);
	case IVR_NODE_HOURS:
		week = n->hours && n->hours->has_week ? n->hours : r->ctx.hours;
		hol = n->hours && n->hours->has_holidays ? n->hours : r->ctx.hours;
		hs = ivr_hours_eval(week, hol, r->ctx.tz, r->now);
		path_add(r, "=",
			 hs == IVR_HOURS_OPEN	  ? "open"
			 : hs == IVR_HOURS_CLOSED ? "closed"
						  : "holiday");
		if (hs == IVR_HOURS_OPEN)
			return follow(r, n->open, o);
		return follow(r, hs == IVR_HOURS_HOLIDAY && n->holiday ? n->holiday : n->closed, o);
	case IVR_NODE_LANGUAGE:
		err = ivr_run_var_set(r, "lang", n->lang);
		path_add(r, "=", n->lang);
		return err ? err : follow(r, n->next, o);
	case IVR_NODE_SET:
		err = ivr_run_var_set(r, n->var, n->value);
		return err ? err : follow(r, n->next, o);
	case IVR_NODE_BRANCH: {
		const char *v = ivr_run_var_get(r, n->var);

		for (size_t i = 0; v && i < n->ncases; i++) {
			if (!strcmp(n->cases[i].value, v))
				return follow(r, &n->cases[i].route, o);
		}
		return follow(r, n->dflt, o);
	}
	}
	return -EINVAL;
}

/* --- Events ---------------------------------------------------------------- */

static int on_prompt_done(struct ivr_run *r, uint32_t id, struct out *o)
{
	const struct ivr_node *n = r->node;

	if (!r->playing || id != r->play_id)
		return 0; /* stale: stopped, or replaced by a newer prompt */
	r->playing = false;
	if (r->st == RS_INVALID)
		return play(r, n->prompt, true, RS_PROMPT, o);
	if (n->type == IVR_NODE_PLAY)
		return follow(r, n->next, o);
	return start_timer(r, n->timeout_ms, o);
}

static int on_digit(struct ivr_run *r, char key, struct out *o)
{
	const struct ivr_node *n = r->node;
	int err = 0;

	if (!key || !strchr("0123456789*#ABCD", key))
		return 0;
	if (r->st == RS_PROMPT || r->st == RS_INVALID) {
		if (!r->playing || !r->barge)
			return 0; /* this prompt must be heard out */
		err = stop_play(r, o);
		if (!err && n->type == IVR_NODE_PLAY) {
			if (r->nahead < AHEAD_MAX)
				r->ahead[r->nahead++] = key;
			return follow(r, n->next, o);
		}
	} else if (r->st == RS_WAIT) {
		err = cancel_timer(r, o);
	} else {
		return 0;
	}
	if (err)
		return err;
	r->hops = 0;
	r->jumps = 0;
	r->st = RS_WAIT;
	if (n->type == IVR_NODE_MENU)
		return menu_key(r, key, o);
	err = collect_key(r, key, o);
	if (err)
		return err < 0 ? err : 0;
	return start_timer(r, n->timeout_ms, o);
}

static int on_timer(struct ivr_run *r, uint32_t id, struct out *o)
{
	const struct ivr_node *n = r->node;

	if (!r->timing || id != r->timer_id || r->st != RS_WAIT)
		return 0;
	r->timing = false;
	r->hops = 0;
	r->jumps = 0;
	if (n->type == IVR_NODE_MENU) {
		path_input(r, "T");
		return attempt_failed(r, false, o);
	}
	if (r->ndigits >= n->min_digits)
		return collect_done(r, o);
	return collect_short(r, true, o);
}

int ivr_run_step(struct ivr_run *run, const struct ivr_event *ev, struct ivr_action *acts,
		 size_t max)
{
	struct out o = {acts, 0, max};
	int err;

	if (!run || !ev || (!acts && max))
		return -EINVAL;
	if (run->st == RS_DONE)
		return 0;
	run->now = ev->now;
	switch (ev->type) {
	case IVR_EV_START:
		if (run->st != RS_IDLE)
			return 0;
		err = enter(run, run->flow->start, &o);
		break;
	case IVR_EV_PROMPT_DONE:
		err = run->st == RS_IDLE ? 0 : on_prompt_done(run, ev->id, &o);
		break;
	case IVR_EV_DIGIT:
		err = on_digit(run, ev->digit, &o);
		break;
	case IVR_EV_TIMER:
		err = on_timer(run, ev->id, &o);
		break;
	default:
		err = -EINVAL;
	}
	if (err) {
		run->st = RS_DONE;
		run->want_flow = false;
		return err;
	}
	return (int)o.n;
}

int ivr_run_enter(struct ivr_run *run, const struct ivr_flow *flow, int64_t now,
		  struct ivr_action *acts, size_t max)
{
	struct out o = {acts, 0, max};
	int err;

	if (!run || !flow || (!acts && max) || !run->want_flow)
		return -EINVAL;
	if (++run->jumps > JUMPS_MAX) {
		run->want_flow = false;
		return -ELOOP;
	}
	run->flow = flow;
	run->want_flow = false;
	run->now = now;
	run->st = RS_IDLE;
	run->playing = run->timing = false;
	err = enter(run, flow->start, &o);
	if (err) {
		run->st = RS_DONE;
		return err;
	}
	return (int)o.n;
}

int ivr_run_alloc(struct ivr_run **runp, const struct ivr_flow *flow, const struct ivr_ctx *ctx)
{
	struct ivr_run *r;

	if (!runp || !flow || !flow->nnodes)
		return -EINVAL;
	r = mem_zalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->flow = flow;
	if (ctx)
		r->ctx = *ctx;
	if (r->ctx.lang && ivr_run_var_set(r, "lang", r->ctx.lang)) {
		mem_free(r);
		return -EINVAL;
	}
	snprintf(r->path, sizeof(r->path), "%s", flow->id);
	r->plen = strlen(r->path);
	*runp = r;
	return 0;
}

struct ivr_run *ivr_run_free(struct ivr_run *run)
{
	mem_free(run);
	return NULL;
}

bool ivr_run_done(const struct ivr_run *run)
{
	return !run || run->st == RS_DONE;
}

const char *ivr_run_path(const struct ivr_run *run)
{
	return run ? run->path : "";
}

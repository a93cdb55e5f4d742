/*
 * qstats_json: the figures of qstats.h as JSON objects for the CLI and the
 * REST API (the shape is in docs/METRICS.md). Only the public API of
 * qstats is used; nothing here changes state.
 */
#include <errno.h>

#include "qlog/qstats.h"

/* Builds an object; the first failure sticks so callers check once. */
struct jb {
	json_t *o;
	bool bad;
};

static void set(struct jb *b, const char *key, json_t *v)
{
	if (!v || !b->o || json_object_set_new(b->o, key, v))
		b->bad = true;
}

static void set_u(struct jb *b, const char *key, uint64_t v)
{
	set(b, key, json_integer((json_int_t)v));
}

/* Ids and reasons come from logs: bytes that are not UTF-8 become '?' so
 * the object can always be built. */
static json_t *jstr(const struct str *s)
{
	char buf[QSTATS_ID_MAX + 1];
	json_t *j = json_stringn(s->p ? s->p : "", s->len);
	size_t n = s->len < QSTATS_ID_MAX ? s->len : QSTATS_ID_MAX;

	if (j)
		return j;
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)s->p[i] < 0x80 ? s->p[i] : '?';
	return json_stringn(buf, n);
}

/* A key must be UTF-8; a reason cut at 32 bytes may end inside a character,
 * so keys keep ASCII only ('?' for the rest). */
static void ascii_only(char *key)
{
	for (; *key; key++)
		if ((unsigned char)*key >= 0x80)
			*key = '?';
}

/* Derived figure: rounded to 2 decimals, null when undefined. */
static void set_fig(struct jb *b, const char *key, bool ok, double v)
{
	if (!ok) {
		set(b, key, json_null());
		return;
	}
	set(b, key, json_real((double)(int64_t)(v * 100.0 + 0.5) / 100.0));
}

static json_t *queue_counts(const struct qstats_queue_counts *c)
{
	struct jb b = {json_object(), false};
	double v = 0;
	bool ok;

	set_u(&b, "offered", c->offered);
	set_u(&b, "answered", c->answered);
	set_u(&b, "answered_in_sl", c->answered_in_sl);
	set_u(&b, "abandoned", c->abandoned);
	set_u(&b, "short_abandoned", c->short_abandoned);
	set_u(&b, "unanswered_after_sl", c->unanswered_after_sl);
	set_u(&b, "exit_timeout", c->exit_timeout);
	set_u(&b, "exit_empty", c->exit_empty);
	set_u(&b, "exit_key", c->exit_key);
	set_u(&b, "exit_full", c->exit_full);
	set_u(&b, "handled", c->handled);
	set_u(&b, "transferred", c->transferred);
	set_u(&b, "hold_s", c->hold_s);
	set_u(&b, "talk_s", c->talk_s);
	set_u(&b, "wrapup_s", c->wrapup_s);
	set_u(&b, "wrapups", c->wrapups);
	ok = qstats_service_level(c, &v);
	set_fig(&b, "service_level_pct", ok, v);
	ok = qstats_asa(c, &v);
	set_fig(&b, "asa_s", ok, v);
	ok = qstats_aht(c, &v);
	set_fig(&b, "aht_s", ok, v);
	ok = qstats_abandon_rate(c, &v);
	set_fig(&b, "abandon_rate_pct", ok, v);
	if (b.bad) {
		json_decref(b.o);
		return NULL;
	}
	return b.o;
}

static json_t *queue_now(const struct qstats_queue_info *qi)
{
	struct jb b = {json_object(), false}, ag = {json_object(), false};

	set_u(&b, "waiting", qi->waiting);
	set_u(&b, "longest_wait_s", qi->longest_wait_s);
	for (unsigned st = 0; st < QSTATS_STATE_COUNT; st++)
		set_u(&ag, qstats_state_name(st), qi->agents[st]);
	if (ag.bad) {
		json_decref(ag.o);
		ag.o = NULL;
	}
	set(&b, "agents", ag.o);
	if (b.bad) {
		json_decref(b.o);
		return NULL;
	}
	return b.o;
}

static int finish(struct jb *b, json_t **out)
{
	if (b->bad) {
		json_decref(b->o);
		return -ENOMEM;
	}
	*out = b->o;
	return 0;
}

int qstats_queue_json(const struct qstats *s, const struct str *queue, int64_t now, json_t **out)
{
	struct qstats_queue_info qi;
	struct jb b;
	int err;

	if (!out)
		return -EINVAL;
	err = qstats_queue_get(s, queue, now, &qi);
	if (err)
		return err;
	b = (struct jb){json_object(), false};
	set(&b, "queue", jstr(queue));
	set(&b, "time", json_integer(now));
	set_u(&b, "sl_threshold_s", qi.sl_threshold_s);
	set(&b, "now", queue_now(&qi));
	set(&b, "window", queue_counts(&qi.window));
	set(&b, "total", queue_counts(&qi.total));
	return finish(&b, out);
}

static json_t *agent_times(const struct qstats_agent_info *ai, bool window)
{
	const struct qstats_agent_times *t = window ? &ai->window : &ai->total;
	struct jb b = {json_object(), false}, r = {json_object(), false};
	uint64_t busy = t->not_ready_s + t->ringing_s + t->talk_s + t->wrapup_s;
	double v = 0;
	bool ok;

	set_u(&b, "logged_in_s", t->logged_in_s);
	set_u(&b, "available_s", t->logged_in_s > busy ? t->logged_in_s - busy : 0);
	set_u(&b, "not_ready_s", t->not_ready_s);
	set_u(&b, "ringing_s", t->ringing_s);
	set_u(&b, "talk_s", t->talk_s);
	set_u(&b, "wrapup_s", t->wrapup_s);
	set_u(&b, "handled", t->handled);
	ok = qstats_occupancy(t, &v);
	set_fig(&b, "occupancy_pct", ok, v);
	for (unsigned i = 0; i < ai->nreasons; i++) {
		const struct qstats_reason_time *rt = &ai->reasons[i];
		char key[QSTATS_REASON_LEN + 1];

		/* jansson keys are C strings: a NUL in a reason ends it. */
		str_copy_cstr(key, sizeof(key), &rt->reason);
		ascii_only(key);
		set(&r, key, json_integer((json_int_t)(window ? rt->window_s : rt->total_s)));
	}
	if (r.bad) {
		json_decref(r.o);
		r.o = NULL;
	}
	set(&b, "not_ready_by_reason", r.o);
	if (b.bad) {
		json_decref(b.o);
		return NULL;
	}
	return b.o;
}

int qstats_agent_json(const struct qstats *s, const struct str *agent, int64_t now, json_t **out)
{
	struct qstats_agent_info ai;
	struct jb b;
	int err;

	if (!out)
		return -EINVAL;
	err = qstats_agent_get(s, agent, now, &ai);
	if (err)
		return err;
	b = (struct jb){json_object(), false};
	set(&b, "agent", jstr(agent));
	set(&b, "time", json_integer(now));
	set(&b, "state", json_string(qstats_state_name(ai.state)));
	set(&b, "since", json_integer(ai.since));
	set(&b, "reason", ai.state == QSTATS_NOT_READY ? jstr(&ai.reason) : json_null());
	set(&b, "pause_pending", json_boolean(ai.pause_pending));
	set(&b, "window", agent_times(&ai, true));
	set(&b, "total", agent_times(&ai, false));
	return finish(&b, out);
}

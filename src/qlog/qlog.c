/*
 * qlog: queue_log lines, written and read. One table describes the data
 * fields of every event (kind and place in struct qlog_event), and both
 * qlog_format() and qlog_parse() walk it, so the two can never disagree on
 * a field. Not here: files, rotation, tenants (the caller's), and metrics
 * (qstats.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "qlog/qlog.h"

enum field_kind {
	F_STR, /* struct str */
	F_U32, /* uint32_t, decimal */
};

struct field {
	uint8_t kind;
	uint16_t off; /* offsetof(struct qlog_event, ...) */
};

struct evdesc {
	const char *name;
	uint8_t n; /* data fields Asterisk writes for the event */
	struct field f[QLOG_DATA_MAX];
};

#define S(m)                                            \
	{                                               \
		F_STR, offsetof(struct qlog_event, d.m) \
	}
#define U(m)                                            \
	{                                               \
		F_U32, offsetof(struct qlog_event, d.m) \
	}
#define RAW                                                                     \
	{                                                                       \
		S(raw.f[0]), S(raw.f[1]), S(raw.f[2]), S(raw.f[3]), S(raw.f[4]) \
	}

/* Asterisk's data fields, in its order (DESIGN.md section 4). */
static const struct evdesc descs[QLOG_TYPE_COUNT] = {
    [QLOG_UNKNOWN] = {NULL, QLOG_DATA_MAX, RAW},
    [QLOG_ENTERQUEUE] = {"ENTERQUEUE", 3, {S(enter.url), S(enter.callerid), U(enter.position)}},
    [QLOG_CONNECT] = {"CONNECT", 3, {U(connect.holdtime), S(connect.bridged), U(connect.ringtime)}},
    [QLOG_COMPLETECALLER] = {"COMPLETECALLER",
			     3,
			     {U(complete.holdtime), U(complete.calltime), U(complete.origpos)}},
    [QLOG_COMPLETEAGENT] = {"COMPLETEAGENT",
			    3,
			    {U(complete.holdtime), U(complete.calltime), U(complete.origpos)}},
    [QLOG_ABANDON] = {"ABANDON", 3, {U(exit.position), U(exit.origpos), U(exit.waittime)}},
    [QLOG_EXITEMPTY] = {"EXITEMPTY", 3, {U(exit.position), U(exit.origpos), U(exit.waittime)}},
    [QLOG_EXITWITHTIMEOUT] = {"EXITWITHTIMEOUT",
			      3,
			      {U(exit.position), U(exit.origpos), U(exit.waittime)}},
    [QLOG_EXITWITHKEY] = {"EXITWITHKEY",
			  4,
			  {S(exitkey.key), U(exitkey.position), U(exitkey.origpos),
			   U(exitkey.waittime)}},
    [QLOG_RINGNOANSWER] = {"RINGNOANSWER", 1, {U(ring.ms)}},
    [QLOG_TRANSFER] =
	{"TRANSFER",
	 5,
	 {S(transfer.exten), S(transfer.context), U(transfer.holdtime), U(transfer.calltime),
	  U(transfer.origpos)}},
    [QLOG_BLINDTRANSFER] =
	{"BLINDTRANSFER",
	 5,
	 {S(transfer.exten), S(transfer.context), U(transfer.holdtime), U(transfer.calltime),
	  U(transfer.origpos)}},
    [QLOG_ATTENDEDTRANSFER] =
	{"ATTENDEDTRANSFER",
	 5,
	 {S(atransfer.method), S(atransfer.method_data), U(atransfer.holdtime),
	  U(atransfer.calltime), U(atransfer.origpos)}},
    [QLOG_AGENTLOGIN] = {"AGENTLOGIN", 1, {S(login.channel)}},
    [QLOG_AGENTLOGOFF] = {"AGENTLOGOFF", 2, {S(login.channel), U(login.logintime)}},
    [QLOG_PAUSE] = {"PAUSE", 1, {S(pause.reason)}},
    [QLOG_UNPAUSE] = {"UNPAUSE", 1, {S(pause.reason)}},
    [QLOG_PAUSEALL] = {"PAUSEALL", 1, {S(pause.reason)}},
    [QLOG_UNPAUSEALL] = {"UNPAUSEALL", 1, {S(pause.reason)}},
    [QLOG_ADDMEMBER] = {"ADDMEMBER", QLOG_DATA_MAX, RAW},
    [QLOG_REMOVEMEMBER] = {"REMOVEMEMBER", QLOG_DATA_MAX, RAW},
    [QLOG_EXITFULL] = {"EXITFULL", 3, {U(exit.position), U(exit.origpos), U(exit.waittime)}},
    [QLOG_RINGSTART] = {"RINGSTART", 1, {U(ring.ms)}},
    [QLOG_WRAPUPEND] = {"WRAPUPEND", 1, {U(wrapup.secs)}},
};

/* Raw events carry their own count (raw.n); the others their table's. */
static bool is_raw(enum qlog_type t)
{
	return t == QLOG_UNKNOWN || t == QLOG_ADDMEMBER || t == QLOG_REMOVEMEMBER;
}

const char *qlog_type_name(enum qlog_type type)
{
	if ((unsigned)type >= QLOG_TYPE_COUNT)
		return NULL;
	return descs[type].name;
}

enum qlog_type qlog_type_from_name(const struct str *name)
{
	for (unsigned t = 1; t < QLOG_TYPE_COUNT; t++) {
		struct str n = str_cstr(descs[t].name);

		if (str_eq(&n, name))
			return (enum qlog_type)t;
	}
	return QLOG_UNKNOWN;
}

bool qlog_type_is_extension(enum qlog_type type)
{
	return type == QLOG_EXITFULL || type == QLOG_RINGSTART || type == QLOG_WRAPUPEND;
}

/* --- Writing --------------------------------------------------------------- */

struct out {
	char *p;
	size_t size, len;
	bool full;
};

static void put_byte(struct out *o, char c)
{
	/* Keep one byte for the NUL. */
	if (o->len + 1 >= o->size) {
		o->full = true;
		return;
	}
	o->p[o->len++] = c;
}

/* A byte that would end the field or the line, or that a terminal would
 * act on, becomes '?'. */
static void put_text(struct out *o, const struct str *s)
{
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		put_byte(o, c == '|' || c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
}

static void put_id(struct out *o, const struct str *s)
{
	if (s->len)
		put_text(o, s);
	else
		put_text(o, &STR("NONE"));
}

static void put_u64(struct out *o, uint64_t v)
{
	char d[24];
	int n = snprintf(d, sizeof(d), "%" PRIu64, v);

	put_text(o, &(struct str){d, (size_t)n});
}

static void put_field(struct out *o, const struct qlog_event *ev, const struct field *f)
{
	const char *at = (const char *)ev + f->off;

	if (f->kind == F_U32)
		put_u64(o, *(const uint32_t *)(const void *)at);
	else
		put_text(o, (const struct str *)(const void *)at);
}

int qlog_format(char *buf, size_t size, const struct qlog_event *ev)
{
	struct out o = {buf, size, 0, false};
	const struct evdesc *d;
	unsigned n;

	if (!buf || !ev || (unsigned)ev->type >= QLOG_TYPE_COUNT || ev->time < 0)
		return -EINVAL;
	d = &descs[ev->type];
	if (ev->type == QLOG_UNKNOWN && !ev->name.len)
		return -EINVAL;
	put_u64(&o, (uint64_t)ev->time);
	put_byte(&o, '|');
	put_id(&o, &ev->callid);
	put_byte(&o, '|');
	put_id(&o, &ev->queue);
	put_byte(&o, '|');
	put_id(&o, &ev->agent);
	put_byte(&o, '|');
	if (d->name)
		put_text(&o, &(struct str){d->name, strlen(d->name)});
	else
		put_text(&o, &ev->name);
	n = is_raw(ev->type) ? ev->d.raw.n : d->n;
	if (n > QLOG_DATA_MAX)
		return -EINVAL;
	/* Asterisk always writes the separator after the event, even with no
	 * data: "...|ADDMEMBER|". */
	put_byte(&o, '|');
	for (unsigned i = 0; i < n; i++) {
		if (i)
			put_byte(&o, '|');
		put_field(&o, ev, &d->f[i]);
	}
	put_byte(&o, '\n');
	if (o.full) {
		if (size)
			buf[0] = '\0';
		return -EMSGSIZE;
	}
	buf[o.len] = '\0';
	return (int)o.len;
}

/* --- Reading --------------------------------------------------------------- */

/* Year 9999: an epoch past it is a damaged line, not a date. */
#define EPOCH_MAX INT64_C(253402300799)

static bool has_control(const struct str *s)
{
	for (size_t i = 0; i < s->len; i++) {
		unsigned char c = (unsigned char)s->p[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* Cut @s at '|' into at most @max views; returns the count, or max + 1
 * when there are more fields. */
static size_t split(const struct str *s, struct str *f, size_t max)
{
	size_t n = 0, start = 0;

	for (size_t i = 0; i <= s->len; i++) {
		if (i < s->len && s->p[i] != '|')
			continue;
		if (n == max)
			return max + 1;
		f[n++] = str_make(s->p + start, i - start);
		start = i + 1;
	}
	return n;
}

static struct str id_field(const struct str *s)
{
	if (str_eq(s, &STR("NONE")))
		return str_make(s->p, 0);
	return *s;
}

static int parse_field(struct qlog_event *ev, const struct field *f, const struct str *v)
{
	char *at = (char *)ev + f->off;
	uint32_t u = 0;

	if (f->kind == F_STR) {
		*(struct str *)(void *)at = *v;
		return 0;
	}
	if (v->len && str_to_u32(v, &u))
		return -EINVAL;
	*(uint32_t *)(void *)at = u;
	return 0;
}

static int parse_data(struct qlog_event *ev, const struct str *data, size_t ndata,
		      const char **reason)
{
	const struct evdesc *d = &descs[ev->type];
	size_t n = ndata < d->n ? ndata : d->n;

	if (is_raw(ev->type))
		ev->d.raw.n = (unsigned)n;
	/* Fields past the table's are ignored: a newer writer may add some. */
	for (size_t i = 0; i < n; i++) {
		if (parse_field(ev, &d->f[i], &data[i])) {
			*reason = "a numeric data field is not a number";
			return -EINVAL;
		}
	}
	return 0;
}

static int parse_line(struct qlog_event *ev, struct str s, const char **reason)
{
	struct str f[10];
	uint64_t epoch;
	size_t n;

	if (s.len && s.p[s.len - 1] == '\n')
		s.len--;
	if (s.len && s.p[s.len - 1] == '\r')
		s.len--;
	if (has_control(&s)) {
		*reason = "control character in the line";
		return -EINVAL;
	}
	n = split(&s, f, 10);
	if (n < 5 || n > 10) {
		*reason = n < 5 ? "fewer than 5 fields" : "more than 10 fields";
		return -EINVAL;
	}
	if (str_to_u64(&f[0], &epoch) || epoch > (uint64_t)EPOCH_MAX) {
		*reason = "the epoch is not a number of seconds";
		return -EINVAL;
	}
	if (!f[4].len) {
		*reason = "empty event name";
		return -EINVAL;
	}
	*ev = (struct qlog_event){.time = (int64_t)epoch, .name = f[4]};
	ev->callid = id_field(&f[1]);
	ev->queue = id_field(&f[2]);
	ev->agent = id_field(&f[3]);
	ev->type = qlog_type_from_name(&f[4]);
	return parse_data(ev, f + 5, n - 5, reason);
}

int qlog_parse(struct qlog_event *ev, const char *line, size_t len, const char **reason)
{
	struct qlog_event tmp;
	const char *why = NULL;
	int err;

	if (!ev || (!line && len))
		return -EINVAL;
	if (!len) {
		if (reason)
			*reason = "empty line";
		return -EINVAL;
	}
	err = parse_line(&tmp, str_make(line, len), &why);
	if (err) {
		if (reason)
			*reason = why;
		return err;
	}
	*ev = tmp;
	return 0;
}

/*
 * qlog: one queue_log event and its line, in Asterisk's format
 * (../shared/DESIGN.md section 4, docs/METRICS.md):
 *
 *     epoch|callid|queuename|agent|event|data1|data2|data3|data4|data5
 *
 * callid is the call's uuid, queuename the queue's id, agent the agent's id;
 * each is NONE when there is none (agent-wide events have queue NONE). Data
 * fields are exactly the ones Asterisk writes for the event, no more: a
 * CONNECT line has three, a PAUSE line one ("...|PAUSE|lunch"), as
 * Asterisk's file backend writes them; a reader takes missing fields as
 * empty. No quoting exists in the format, so no field can hold '|' or a line
 * break.
 *
 * Shenggu adds three events that its metrics need and Asterisk has no event
 * for; Asterisk reporting tools skip event names they do not know:
 *   EXITFULL   position|origposition|waittime  refused on arrival, the queue
 *              at its maximum length; no ENTERQUEUE precedes it; position
 *              and origposition are the position the call would have taken
 *              (calls in the queue + 1), waittime is 0.
 *   RINGSTART  ring-timeout-ms  an offer started ringing the agent in the
 *              agent field (0: no ring timeout). It ends with the agent's
 *              CONNECT or RINGNOANSWER, or the call leaving the queue.
 *   WRAPUPEND  wrapup-seconds  the agent's after-call work for this call is
 *              over (logged for every handled call, with 0 when the queue
 *              has no wrap-up).
 * Overflow to another queue needs no event: EXITWITHTIMEOUT (or EXITEMPTY)
 * in the first queue, then ENTERQUEUE with the same callid in the next one.
 *
 * Writing: qlog_format() SANITIZES, it never refuses text: a '|', CR, LF or
 * any other control byte in a text field becomes '?', as base/log.h does, so
 * a caller id or a pause reason typed by a person can neither forge a line
 * nor lose the event. Reading: qlog_parse() takes one untrusted line and
 * returns views into it (zero copy): the event is valid exactly as long as
 * the line's bytes. Unknown event names are not errors: they load as
 * QLOG_UNKNOWN with their name and raw data, so logs of newer versions
 * still load.
 *
 * No I/O, no allocation, no state: any thread may call anything here.
 */
#ifndef QLOG_QLOG_H
#define QLOG_QLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"

#define QLOG_DATA_MAX 5
/* Enough for any line whose text fields are short ids (format into it). */
#define QLOG_LINE_MAX 1024

enum qlog_type {
	QLOG_UNKNOWN = 0, /* a name this version does not know: see ev->name */
	QLOG_ENTERQUEUE,
	QLOG_CONNECT,
	QLOG_COMPLETECALLER,
	QLOG_COMPLETEAGENT,
	QLOG_ABANDON,
	QLOG_EXITEMPTY,
	QLOG_EXITWITHTIMEOUT,
	QLOG_EXITWITHKEY,
	QLOG_RINGNOANSWER,
	QLOG_TRANSFER,
	QLOG_BLINDTRANSFER,
	QLOG_ATTENDEDTRANSFER,
	QLOG_AGENTLOGIN,
	QLOG_AGENTLOGOFF,
	QLOG_PAUSE,
	QLOG_UNPAUSE,
	QLOG_PAUSEALL,
	QLOG_UNPAUSEALL,
	QLOG_ADDMEMBER,
	QLOG_REMOVEMEMBER,
	/* Shenggu extensions (see above) */
	QLOG_EXITFULL,
	QLOG_RINGSTART,
	QLOG_WRAPUPEND,
	QLOG_TYPE_COUNT
};

/*
 * One event. Every struct str borrows: from the parsed line after
 * qlog_parse(), from the caller's strings before qlog_format(). An empty
 * callid, queue or agent is written and read as NONE. Numbers are the
 * decimal data fields (seconds unless the name says ms); a missing or empty
 * numeric field reads as 0.
 */
struct qlog_event {
	enum qlog_type type;
	int64_t time;	   /* Unix seconds */
	struct str callid; /* empty: NONE */
	struct str queue;  /* empty: NONE (agent-wide events) */
	struct str agent;  /* empty: NONE */
	struct str name;   /* QLOG_UNKNOWN: the event name; else ignored by
			      qlog_format(), set to the name by qlog_parse() */
	union {
		struct {
			struct str url, callerid;
			uint32_t position;
		} enter; /* ENTERQUEUE */
		struct {
			uint32_t holdtime;
			struct str bridged; /* the agent leg's callid */
			uint32_t ringtime;
		} connect; /* CONNECT */
		struct {
			uint32_t holdtime, calltime, origpos;
		} complete; /* COMPLETECALLER, COMPLETEAGENT */
		struct {
			uint32_t position, origpos, waittime;
		} exit; /* ABANDON, EXITEMPTY, EXITWITHTIMEOUT, EXITFULL */
		struct {
			struct str key;
			uint32_t position, origpos, waittime;
		} exitkey; /* EXITWITHKEY */
		struct {
			uint32_t ms; /* RINGNOANSWER: rang for; RINGSTART: timeout */
		} ring;		     /* RINGNOANSWER, RINGSTART */
		struct {
			struct str exten, context;
			uint32_t holdtime, calltime, origpos;
		} transfer; /* TRANSFER, BLINDTRANSFER */
		struct {
			struct str method, method_data;
			uint32_t holdtime, calltime, origpos;
		} atransfer; /* ATTENDEDTRANSFER */
		struct {
			struct str channel;
			uint32_t logintime; /* AGENTLOGOFF only */
		} login;		    /* AGENTLOGIN, AGENTLOGOFF */
		struct {
			struct str reason;
		} pause; /* PAUSE, UNPAUSE, PAUSEALL, UNPAUSEALL */
		struct {
			uint32_t secs;
		} wrapup; /* WRAPUPEND */
		struct {
			struct str f[QLOG_DATA_MAX];
			unsigned n; /* fields present, 0..QLOG_DATA_MAX */
		} raw;		    /* UNKNOWN, ADDMEMBER, REMOVEMEMBER */
	} d;
};

/* "CONNECT" for QLOG_CONNECT; NULL for QLOG_UNKNOWN or out of range. */
const char *qlog_type_name(enum qlog_type type);
/* The type named exactly (case-sensitive) @name, or QLOG_UNKNOWN. */
enum qlog_type qlog_type_from_name(const struct str *name);
/* True for EXITFULL, RINGSTART, WRAPUPEND. */
bool qlog_type_is_extension(enum qlog_type type);

/*
 * Write @ev as one line ending in "\n" into @buf (@size bytes), followed by
 * a NUL that is not counted. Text fields are sanitized (see above). Returns
 * the line's length, -EINVAL (NULL argument, type out of range, an UNKNOWN
 * event without a name, time < 0) or -EMSGSIZE (does not fit; @buf then
 * holds no line).
 */
int qlog_format(char *buf, size_t size, const struct qlog_event *ev);

/*
 * Parse one line (@len bytes at @line, one trailing "\n" or "\r\n" allowed,
 * no NUL needed). Fills *@ev with views into @line on success only. Returns
 * 0, or -EINVAL with *@reason (when @reason is not NULL) set to a static
 * sentence: fewer than 5 or more than 10 fields, a bad epoch, an empty event
 * name, a control byte, a numeric data field that is not a number. Never
 * reads outside [line, line + len).
 */
int qlog_parse(struct qlog_event *ev, const char *line, size_t len, const char **reason);

#endif

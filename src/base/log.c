/*
 * log: line formatting and the process-wide level and sink (see log.h).
 *
 * A line is built in a fixed buffer on the stack, so logging never allocates
 * (it must still work when memory runs out) and never shares a buffer between
 * threads. Longer lines are cut and end in "...". It is not a log shipper:
 * rotation, JSON and remote sinks belong to whatever reads stderr or to a
 * sink set at start-up.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

#define LOG_LINE_MAX 4096 /* bytes per line, newline included */

/* Written only at start-up, before threads exist (see log.h). */
static enum log_level min_level = LOG_LEVEL_INFO;
static log_sink_h *sink;
static void *sink_arg;

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

void log_set_sink(log_sink_h *h, void *arg)
{
	sink = h;
	sink_arg = h ? arg : NULL;
}

bool log_enabled(enum log_level lvl)
{
	return lvl >= min_level && lvl < LOG_LEVEL_NONE;
}

const char *log_level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LEVEL_DEBUG:
		return "debug";
	case LOG_LEVEL_INFO:
		return "info";
	case LOG_LEVEL_WARN:
		return "warn";
	case LOG_LEVEL_ERROR:
		return "error";
	case LOG_LEVEL_NONE:
		return "none";
	}
	return "?";
}

int log_level_parse(const char *s, enum log_level *lvl)
{
	if (!s)
		return -EINVAL;
	for (int i = LOG_LEVEL_DEBUG; i <= LOG_LEVEL_NONE; i++) {
		if (!strcmp(s, log_level_name((enum log_level)i))) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* "2026-11-23T11:24:03.123Z" into @buf; returns its length. */
static size_t format_time(char *buf, size_t size)
{
	uint64_t ms = clock_real_ms();
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	int n;

	if (!gmtime_r(&secs, &tm))
		return 0;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (unsigned)(ms % 1000));
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Write all of @len bytes to stderr; a lost log line is not worth failing the caller. */
static void write_stderr(const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(STDERR_FILENO, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t)n;
	}
}

void log_vwrite(enum log_level lvl, const char *module, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;
	size_t len, room, msg_start;
	int n;

	if (!log_enabled(lvl))
		return;
	len = format_time(line, sizeof(line));
	n = snprintf(line + len, sizeof(line) - len, " %-5s %s: ", log_level_name(lvl),
		     module ? module : "-");
	if (n > 0)
		len = len + (size_t)n < sizeof(line) - 1 ? len + (size_t)n : sizeof(line) - 1;
	/* Keep one byte for the newline; vsnprintf's NUL then goes in it. */
	room = sizeof(line) - len;
	msg_start = len;
	n = vsnprintf(line + len, room, fmt, ap);
	if (n > 0 && (size_t)n >= room) {
		len = sizeof(line) - 1;
		memcpy(line + len - 3, "...", 3);
	} else if (n > 0) {
		len += (size_t)n;
	}
	/* Messages quote untrusted text (SIP headers, URLs): a CR or LF in it
	 * must not forge a second log line, nor other controls reach a terminal. */
	for (size_t i = msg_start; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			line[i] = '?';
	}
	line[len++] = '\n';
	if (sink)
		sink(lvl, line, len, sink_arg);
	else
		write_stderr(line, len);
	/* Callers may log an error and then return -errno. */
	errno = saved_errno;
}

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(lvl, module, fmt, ap);
	va_end(ap);
}

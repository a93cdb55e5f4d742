/*
 * Unit tests for log: the exact line format (timestamp checked against the
 * clock), level filtering (including that disabled lines are never
 * formatted), truncation of long lines, level names, and the default stderr
 * sink through a pipe. Every test puts back the stderr sink and the default
 * level, since they are process-wide.
 */
#define LOG_MODULE "sip"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "test.h"

struct capture {
	char line[8192];
	size_t len;
	unsigned lines;
	enum log_level lvl;
};

static void capture_sink(enum log_level lvl, const char *line, size_t len, void *arg)
{
	struct capture *c = arg;

	c->lines++;
	c->lvl = lvl;
	c->len = len < sizeof(c->line) ? len : sizeof(c->line);
	memcpy(c->line, line, c->len);
}

static void log_defaults(void)
{
	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
}

/* Milliseconds since the epoch from a "2026-11-23T11:24:03.123Z" prefix, or 0. */
static uint64_t parse_stamp(const char *p, size_t len)
{
	struct tm tm = {0};
	char stamp[25];
	unsigned ms;
	char z;

	if (len < 24 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' ||
	    p[16] != ':' || p[19] != '.' || p[23] != 'Z')
		return 0;
	/* sscanf wants a C string; the line is not one. */
	memcpy(stamp, p, 24);
	stamp[24] = '\0';
	if (sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d.%3u%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (uint64_t)timegm(&tm) * 1000 + ms;
}

TEST(test_log_format)
{
	struct capture c = {0};
	uint64_t before, after, stamp;
	int err = 0;

	log_set_sink(capture_sink, &c);
	before = clock_real_ms();
	log_info("listening addr=%s proto=%s", "127.0.0.1:5060", "udp");
	after = clock_real_ms();
	TEST_EQUALS(1, c.lines);
	TEST_EQUALS(LOG_LEVEL_INFO, c.lvl);
	TEST_STR(" info  sip: listening addr=127.0.0.1:5060 proto=udp\n",
		 str_make(c.line + 24, c.len - 24));
	stamp = parse_stamp(c.line, c.len);
	TEST_ASSERT(stamp >= before && stamp <= after);

	/* Every level name fills the same five columns. */
	log_warn("agent %u no answer", 7u);
	TEST_STR(" warn  sip: agent 7 no answer\n", str_make(c.line + 24, c.len - 24));
	log_error("bind failed");
	TEST_STR(" error sip: bind failed\n", str_make(c.line + 24, c.len - 24));
	log_write(LOG_LEVEL_ERROR, "acd", "%s", "");
	TEST_STR(" error acd: \n", str_make(c.line + 24, c.len - 24));
	log_set_level(LOG_LEVEL_DEBUG);
	log_write(LOG_LEVEL_DEBUG, NULL, "x=%d", -1);
	TEST_STR(" debug -: x=-1\n", str_make(c.line + 24, c.len - 24));
	TEST_EQUALS(5, c.lines);
out:
	log_defaults();
	return err;
}

static int evaluations;

static int count_evaluation(void)
{
	return ++evaluations;
}

TEST(test_log_level_filter)
{
	struct capture c = {0};
	int err = 0;

	log_set_sink(capture_sink, &c);
	TEST_ASSERT(!log_enabled(LOG_LEVEL_DEBUG));
	TEST_ASSERT(log_enabled(LOG_LEVEL_INFO));
	TEST_ASSERT(!log_enabled(LOG_LEVEL_NONE));

	/* Disabled lines are not even formatted: the arguments are not evaluated. */
	evaluations = 0;
	log_debug("n=%d", count_evaluation());
	TEST_EQUALS(0, evaluations);
	TEST_EQUALS(0, c.lines);
	log_info("n=%d", count_evaluation());
	TEST_EQUALS(1, evaluations);
	TEST_EQUALS(1, c.lines);

	log_set_level(LOG_LEVEL_WARN);
	log_info("dropped");
	log_write(LOG_LEVEL_INFO, "sip", "dropped too");
	TEST_EQUALS(1, c.lines);
	log_warn("kept");
	log_error("kept");
	TEST_EQUALS(3, c.lines);
	TEST_EQUALS(LOG_LEVEL_ERROR, c.lvl);

	log_set_level(LOG_LEVEL_NONE);
	log_error("dropped");
	log_write(LOG_LEVEL_NONE, "sip", "not a level to write at");
	TEST_EQUALS(3, c.lines);

	log_set_level(LOG_LEVEL_DEBUG);
	TEST_ASSERT(log_enabled(LOG_LEVEL_DEBUG));
	log_debug("kept");
	TEST_EQUALS(4, c.lines);
	TEST_EQUALS(LOG_LEVEL_DEBUG, c.lvl);
out:
	log_defaults();
	return err;
}

TEST(test_log_truncate)
{
	static char big[10000];
	struct capture c = {0};
	int err = 0;

	log_set_sink(capture_sink, &c);
	memset(big, 'x', sizeof(big) - 1);
	log_info("%s", big);
	TEST_EQUALS(4096, c.len);
	TEST_STR("xxx...\n", str_make(c.line + c.len - 7, 7));
	TEST_STR(" info  sip: xxx", str_make(c.line + 24, 15));

	/* A message that exactly fills the line is not cut. */
	big[4096 - 1 - 36] = '\0';
	log_info("%s", big);
	TEST_EQUALS(4096, c.len);
	TEST_STR("xxxx\n", str_make(c.line + c.len - 5, 5));
out:
	log_defaults();
	return err;
}

TEST(test_log_level_names)
{
	static const char *const names[] = {"debug", "info", "warn", "error", "none"};
	enum log_level lvl = LOG_LEVEL_WARN;
	int err = 0;

	for (int i = LOG_LEVEL_DEBUG; i <= LOG_LEVEL_NONE; i++) {
		TEST_ERR(log_level_parse(names[i], &lvl));
		TEST_EQUALS(i, lvl);
		TEST_ASSERT(!strcmp(names[i], log_level_name(lvl)));
	}
	lvl = LOG_LEVEL_WARN;
	TEST_EQUALS(-EINVAL, log_level_parse("INFO", &lvl));
	TEST_EQUALS(-EINVAL, log_level_parse("warning", &lvl));
	TEST_EQUALS(-EINVAL, log_level_parse("", &lvl));
	TEST_EQUALS(-EINVAL, log_level_parse(NULL, &lvl));
	TEST_EQUALS(LOG_LEVEL_WARN, lvl);
out:
	return err;
}

/* The default sink: one line on fd 2, seen through a pipe put in its place. */
TEST(test_log_stderr)
{
	int fds[2] = {-1, -1}, saved = -1, errno_after;
	char buf[256];
	ssize_t n = 0;
	int err = 0;

	TEST_ASSERT(pipe(fds) == 0);
	saved = dup(STDERR_FILENO);
	TEST_ASSERT(saved >= 0);
	TEST_ASSERT(dup2(fds[1], STDERR_FILENO) == STDERR_FILENO);
	errno = EAGAIN;
	log_info("to stderr n=%d", 3);
	log_debug("not written");
	errno_after = errno;
	/* Put stderr back before any assertion can print to it. */
	TEST_ASSERT(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
	close(fds[1]);
	fds[1] = -1;
	n = read(fds[0], buf, sizeof(buf));
	TEST_ASSERT(n > 24);
	TEST_STR(" info  sip: to stderr n=3\n", str_make(buf + 24, (size_t)n - 24));
	TEST_ASSERT(parse_stamp(buf, (size_t)n) != 0);
	/* Logging leaves errno alone, so a caller can log and then return -errno. */
	TEST_EQUALS(EAGAIN, errno_after);
out:
	if (saved >= 0) {
		dup2(saved, STDERR_FILENO);
		close(saved);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	log_defaults();
	return err;
}

/* Untrusted text with CR/LF cannot start a forged line. */
TEST(test_log_controls_escaped)
{
	struct capture cap = {0};
	int err = 0;

	log_set_sink(capture_sink, &cap);
	log_set_level(LOG_LEVEL_INFO);
	log_write(LOG_LEVEL_INFO, "sip", "from %s",
		  "evil\r\n2026-01-01T00:00:00.000Z error x: forged\a");
	TEST_EQUALS(1, cap.lines);
	TEST_ASSERT(memmem(cap.line, cap.len, "evil??2026", 10) != NULL);
	TEST_ASSERT(memmem(cap.line, cap.len, "forged?\n", 8) != NULL);
out:
	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	return err;
}

/*
 * Unit tests for tz.h: UTC offsets from the system's zone files agree with
 * glibc's localtime_r() (checked here, single-threaded, by switching TZ:
 * exactly what the module exists to avoid in the server) over 1900-2100,
 * which covers both the transitions in the files and the footer's POSIX
 * rules after them; the DST edges of New York to the second; a southern
 * rule (Sydney) and a built file with only a footer; the calendar helpers;
 * zone names; and every truncation of a real file and corrupted counts
 * refused with -EBADMSG.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/tz.h"
#include "test.h"

/* 2026-03-08 07:00:00 UTC: 02:00 EST, when New York springs forward. */
#define NY_SPRING_2026 INT64_C(1772953200)
/* 2026-11-01 06:00:00 UTC: 02:00 EDT, when New York falls back. */
#define NY_FALL_2026   INT64_C(1793512800)

static long glibc_offset(const char *zone, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	setenv("TZ", zone, 1);
	tzset();
	if (!localtime_r(&tt, &tm))
		return -999999;
	return tm.tm_gmtoff;
}

TEST(test_tz_matches_glibc)
{
	static const char *const zones[] = {
	    "America/New_York",
	    "Asia/Shanghai",
	    "Australia/Sydney",
	    "Europe/London",
	    "America/Sao_Paulo",
	    "Asia/Kolkata",
	    "Pacific/Chatham",
	    "America/St_Johns",
	    "Africa/Casablanca",
	    "Europe/Dublin",
	    "UTC",
	    "Etc/GMT+8",
	    "Asia/Tehran",
	    "America/Santiago",
	    "Pacific/Apia",
	    "Antarctica/Troll",
	};
	const char *old = getenv("TZ");
	char saved[256] = "";
	struct tz *tz = NULL;
	int err = 0;

	if (old)
		snprintf(saved, sizeof(saved), "%s", old);
	/* Under --oom the allocations are the same for every zone: two do. */
	size_t nzones = test_oom_mode() ? 2 : sizeof(zones) / sizeof(zones[0]);

	for (size_t z = 0; z < nzones; z++) {
		TEST_ERR(tz_load(&tz, NULL, zones[z]));
		/* Every ~5 days from 1900 to 2100, at shifting times of day. */
		for (int64_t t = INT64_C(-2208988800); t < INT64_C(4102444800);
		     t += 5 * 86400 + 3607) {
			long want = glibc_offset(zones[z], t);

			if (want != tz_offset(tz, t)) {
				test_fail(__FILE__, __LINE__, "%s at %lld: glibc %ld, tz %d",
					  zones[z], (long long)t, want, tz_offset(tz, t));
				err = -EINVAL;
				goto out;
			}
		}
		tz = tz_free(tz);
	}
out:
	if (old)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	tz_free(tz);
	return err;
}

TEST(test_tz_new_york_dst_edges)
{
	struct tz *tz = NULL;
	struct tz_local lt;
	int err = 0;

	TEST_ERR(tz_load(&tz, NULL, "America/New_York"));
	TEST_EQUALS(-18000, tz_offset(tz, NY_SPRING_2026 - 1));
	TEST_EQUALS(-14400, tz_offset(tz, NY_SPRING_2026));
	TEST_EQUALS(-14400, tz_offset(tz, NY_FALL_2026 - 1));
	TEST_EQUALS(-18000, tz_offset(tz, NY_FALL_2026));
	/* 01:59:59 EST, then 03:00:00 EDT: the 02:00 hour never happens. */
	tz_local(tz, NY_SPRING_2026 - 1, &lt);
	TEST_EQUALS(1, lt.hour);
	TEST_EQUALS(59, lt.min);
	tz_local(tz, NY_SPRING_2026, &lt);
	TEST_EQUALS(3, lt.hour);
	TEST_EQUALS(0, lt.min);
	TEST_EQUALS(2026, lt.year);
	TEST_EQUALS(3, lt.month);
	TEST_EQUALS(8, lt.mday);
	TEST_EQUALS(6, lt.wday); /* a Sunday */
	/* Far past the file's last transition (2037): the footer rule. */
	TEST_EQUALS(-14400, tz_offset(tz, INT64_C(4118054400))); /* 2100-07-01 */
	TEST_EQUALS(-18000, tz_offset(tz, INT64_C(4102444800))); /* 2100-01-01 */
out:
	tz_free(tz);
	return err;
}

TEST(test_tz_shanghai_and_utc)
{
	struct tz *tz = NULL;
	struct tz_local lt;
	int err = 0;

	TEST_ERR(tz_load(&tz, NULL, "Asia/Shanghai"));
	TEST_EQUALS(28800, tz_offset(tz, NY_SPRING_2026));
	/* 2026-01-01 16:30 UTC is 00:30 on Jan 2 in Shanghai, a Friday. */
	tz_local(tz, INT64_C(1767285000), &lt);
	TEST_EQUALS(2026, lt.year);
	TEST_EQUALS(1, lt.month);
	TEST_EQUALS(2, lt.mday);
	TEST_EQUALS(0, lt.hour);
	TEST_EQUALS(30, lt.min);
	TEST_EQUALS(4, lt.wday);
	TEST_EQUALS(tz_days_from_civil(2026, 1, 2), lt.day);
	/* NULL is UTC. */
	TEST_EQUALS(0, tz_offset(NULL, 12345));
	tz_local(NULL, -1, &lt);
	TEST_EQUALS(1969, lt.year);
	TEST_EQUALS(12, lt.month);
	TEST_EQUALS(31, lt.mday);
	TEST_EQUALS(23, lt.hour);
	TEST_EQUALS(2, lt.wday); /* Wednesday */
out:
	tz_free(tz);
	return err;
}

TEST(test_tz_civil)
{
	int64_t y;
	int m, d, err = 0;

	TEST_EQUALS(0, tz_days_from_civil(1970, 1, 1));
	TEST_EQUALS(-1, tz_days_from_civil(1969, 12, 31));
	TEST_EQUALS(11016, tz_days_from_civil(2000, 2, 29));
	for (int64_t day = -800000; day < 800000; day += 97) {
		tz_civil_from_days(day, &y, &m, &d);
		TEST_EQUALS(day, tz_days_from_civil(y, m, d));
	}
out:
	return err;
}

/* A version 2 file with no transitions: one type and the footer @rule. */
static size_t make_tzif(uint8_t *buf, int32_t utoff, const char *rule)
{
	size_t n = 0;

	for (int part = 0; part < 2; part++) {
		memset(buf + n, 0, 44);
		memcpy(buf + n, "TZif2", 5);
		buf[n + 39] = 1; /* typecnt */
		buf[n + 43] = 4; /* charcnt */
		n += 44;
		buf[n++] = (uint8_t)((uint32_t)utoff >> 24);
		buf[n++] = (uint8_t)((uint32_t)utoff >> 16);
		buf[n++] = (uint8_t)((uint32_t)utoff >> 8);
		buf[n++] = (uint8_t)utoff;
		buf[n++] = 0;
		buf[n++] = 0;
		memcpy(buf + n, "XST", 4);
		n += 4;
	}
	n += (size_t)sprintf((char *)buf + n, "\n%s\n", rule);
	return n;
}

TEST(test_tz_footer_rules)
{
	uint8_t buf[256];
	struct tz *tz = NULL;
	size_t n;
	int err = 0;

	/* Sydney: DST from the first Sunday of October to the first of April. */
	n = make_tzif(buf, 36000, "AEST-10AEDT,M10.1.0,M4.1.0/3");
	TEST_ERR(tz_parse(&tz, buf, n));
	TEST_EQUALS(39600, tz_offset(tz, INT64_C(1767225600))); /* 2026-01-01: summer */
	TEST_EQUALS(36000, tz_offset(tz, INT64_C(1782864000))); /* 2026-07-01: winter */
	/* 2026-04-05 03:00 AEDT = 2026-04-04 16:00 UTC ends DST. */
	TEST_EQUALS(39600, tz_offset(tz, INT64_C(1775318400) - 1));
	TEST_EQUALS(36000, tz_offset(tz, INT64_C(1775318400)));
	tz = tz_free(tz);
	/* Quoted names, Julian days, a time past 24h (RFC 8536 §3.3.1). */
	n = make_tzif(buf, -10800, "<-03>3<-02>,J60/0,300/-1");
	TEST_ERR(tz_parse(&tz, buf, n));
	TEST_EQUALS(-7200, tz_offset(tz, INT64_C(1782864000)));
	TEST_EQUALS(-10800, tz_offset(tz, INT64_C(1767225600)));
	tz = tz_free(tz);
	/* No DST at all, and an empty footer (the last type stays). */
	n = make_tzif(buf, 19800, "IST-5:30");
	TEST_ERR(tz_parse(&tz, buf, n));
	TEST_EQUALS(19800, tz_offset(tz, 0));
	tz = tz_free(tz);
	n = make_tzif(buf, 3600, "");
	TEST_ERR(tz_parse(&tz, buf, n));
	TEST_EQUALS(3600, tz_offset(tz, 0));
	tz = tz_free(tz);
	/* Broken rules. */
	static const char *const bad[] = {
	    "EST",
	    "ES5",
	    "EST5EDT",
	    "EST5EDT,M3.2.0",
	    "EST5EDT,M13.2.0,M11.1.0",
	    "EST5EDT,M3.6.0,M11.1.0",
	    "EST5EDT,J0,J100",
	    "EST5EDT,366,1",
	    "EST25",
	    "EST5EDT,M3.2.0/168,M11.1.0",
	    "<AB>5",
	    "<ABC5",
	    "EST5EDT,M3.2.0,M11.1.0x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = make_tzif(buf, 0, bad[i]);
		if (tz_parse(&tz, buf, n) != -EBADMSG) {
			test_fail(__FILE__, __LINE__, "accepted rule \"%s\"", bad[i]);
			tz = tz_free(tz);
			err = -EINVAL;
		}
	}
out:
	tz_free(tz);
	return err;
}

static int read_all(const char *path, uint8_t *buf, size_t size, size_t *len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size);
	close(fd);
	if (n <= 0)
		return -EIO;
	*len = (size_t)n;
	return 0;
}

TEST(test_tz_malformed_files)
{
	static uint8_t file[8192], copy[8192];
	struct tz *tz = NULL;
	size_t len = 0;
	int err = 0, e;

	TEST_ERR(read_all(TZ_DIR_DEFAULT "/America/New_York", file, sizeof(file), &len));
	TEST_ERR(tz_parse(&tz, file, len));
	tz = tz_free(tz);
	/* Every cut is refused, never read past. A copy of exactly that size
	 * lets ASan see any overrun. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *p = mem_alloc(cut ? cut : 1);

		if (!p) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(p, file, cut);
		e = tz_parse(&tz, p, cut);
		mem_free(p);
		tz = tz_free(tz);
		if (e == -ENOMEM) {
			err = e;
			goto out;
		}
		if (e != -EBADMSG) {
			test_fail(__FILE__, __LINE__, "cut at %zu: %d", cut, e);
			err = -EINVAL;
			goto out;
		}
	}
	/* Corrupt counts, an out-of-range type index, descending times. */
	memcpy(copy, file, len);
	copy[39] = 0; /* v1 typecnt 0 */
	TEST_EQUALS(-EBADMSG, tz_parse(&tz, copy, len));
	memcpy(copy, file, len);
	copy[32] = 0x7f; /* v1 timecnt huge */
	TEST_EQUALS(-EBADMSG, tz_parse(&tz, copy, len));
	memcpy(copy, file, len);
	memcpy(copy, "TZjf", 4);
	TEST_EQUALS(-EBADMSG, tz_parse(&tz, copy, len));
	memcpy(copy, file, len);
	copy[len - 2] = 'x'; /* the footer rule ends in garbage */
	TEST_EQUALS(-EBADMSG, tz_parse(&tz, copy, len));
	memcpy(copy, file, len);
	copy[len - 1] = 'x'; /* no closing newline */
	TEST_EQUALS(-EBADMSG, tz_parse(&tz, copy, len));
out:
	tz_free(tz);
	return err;
}

TEST(test_tz_names_and_load_errors)
{
	struct tz *tz = NULL;
	int err = 0;

	TEST_ASSERT(tz_name_valid("UTC"));
	TEST_ASSERT(tz_name_valid("Asia/Shanghai"));
	TEST_ASSERT(tz_name_valid("America/Argentina/Buenos_Aires"));
	TEST_ASSERT(tz_name_valid("Etc/GMT+8"));
	TEST_ASSERT(!tz_name_valid(""));
	TEST_ASSERT(!tz_name_valid(NULL));
	TEST_ASSERT(!tz_name_valid("../etc/passwd"));
	TEST_ASSERT(!tz_name_valid("Asia/../../etc/passwd"));
	TEST_ASSERT(!tz_name_valid("/etc/localtime"));
	TEST_ASSERT(!tz_name_valid("Asia//Shanghai"));
	TEST_ASSERT(!tz_name_valid("Asia/Shanghai/"));
	TEST_ASSERT(!tz_name_valid("posixrules"));
	TEST_ASSERT(!tz_name_valid("zone.tab"));
	TEST_ASSERT(!tz_name_valid("Asia/Shang hai"));
	TEST_EQUALS(-EINVAL, tz_load(&tz, NULL, "../etc/passwd"));
	TEST_EQUALS(-ENOENT, tz_load(&tz, NULL, "Mars/Olympus_Mons"));
	TEST_EQUALS(-ENOENT, tz_load(&tz, NULL, "Asia")); /* a folder */
	TEST_ERR(tz_load(&tz, NULL, "UTC"));
	TEST_EQUALS(0, tz_offset(tz, 1000000000));
out:
	tz_free(tz);
	return err;
}

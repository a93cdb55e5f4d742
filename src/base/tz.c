/*
 * tz: a TZif reader (RFC 8536, versions 1 to 4) and the POSIX TZ rules of
 * its footer (POSIX.1-2017 §8.3, with RFC 8536 §3.3.1's extension of rule
 * times to -167..167 hours). Only what UTC offsets need is kept: transition
 * times, the offset of each local time type, and the footer's rule for
 * instants after the last transition. Designations, the std/wall and UT/local
 * indicators and leap-second records are checked for size and skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/tz.h"

#define HDR_SIZE   44
/* RFC 8536 §3.2: a UT offset SHOULD be within [-89999, 93599] seconds. */
#define UTOFF_MIN  (-89999)
#define UTOFF_MAX  93599
#define FOOTER_MAX 256 /* real footers are < 40 bytes */
/* Instants are clamped to this many seconds either side of 1970 (some 35
 * million years), so no date arithmetic below can overflow. */
#define T_LIMIT	   (INT64_C(1) << 50)

struct rule_date {
	char kind;    /* 'J' (1..365, no Feb 29), 'n' (0..365), 'M' (month.week.day) */
	int n;	      /* J and n */
	int m, w, d;  /* M: month 1..12, week 1..5 (5 = last), weekday 0 = Sunday */
	int32_t time; /* local seconds after midnight, -167h..167h */
};

struct tz {
	size_t ntrans;
	int64_t *trans; /* ascending */
	uint8_t *ttype; /* type of each transition */
	int32_t *utoff; /* offset of each type */
	size_t ntypes;
	bool has_rule; /* a non-empty footer */
	bool has_dst;
	int32_t std_off; /* footer: UTC offsets, east positive */
	int32_t dst_off;
	struct rule_date start, end;
};

struct hdr {
	char version; /* 0, '2', '3' or '4' */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static int hdr_parse(struct hdr *h, const uint8_t *p, size_t len)
{
	if (len < HDR_SIZE || memcmp(p, "TZif", 4))
		return -EBADMSG;
	h->version = (char)p[4];
	if (h->version != 0 && (h->version < '2' || h->version > '4'))
		return -EBADMSG;
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	/* RFC 8536 §3.1: at least one type and one designation byte; the
	 * indicator arrays are either absent or one per type. A type index is
	 * one byte, so there can be at most 256 types. */
	if (!h->typecnt || h->typecnt > 256 || !h->charcnt)
		return -EBADMSG;
	if ((h->isutcnt && h->isutcnt != h->typecnt) || (h->isstdcnt && h->isstdcnt != h->typecnt))
		return -EBADMSG;
	return 0;
}

/* Bytes of the data block after a header, with @tsz-byte times. */
static uint64_t block_size(const struct hdr *h, unsigned tsz)
{
	return (uint64_t)h->timecnt * tsz + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
	       (uint64_t)h->leapcnt * (tsz + 4) + h->isstdcnt + h->isutcnt;
}

static int data_parse(struct tz *tz, const struct hdr *h, const uint8_t *p, unsigned tsz)
{
	const uint8_t *idx = p + (size_t)h->timecnt * tsz;
	const uint8_t *types = idx + h->timecnt;

	tz->trans = mem_alloc((h->timecnt ? h->timecnt : 1) * sizeof(*tz->trans));
	tz->ttype = mem_alloc(h->timecnt ? h->timecnt : 1);
	tz->utoff = mem_alloc(h->typecnt * sizeof(*tz->utoff));
	if (!tz->trans || !tz->ttype || !tz->utoff)
		return -ENOMEM;
	for (uint32_t i = 0; i < h->timecnt; i++) {
		int64_t t = tsz == 8 ? (int64_t)be64(p + (size_t)i * 8)
				     : (int64_t)(int32_t)be32(p + (size_t)i * 4);

		if (i && t <= tz->trans[i - 1])
			return -EBADMSG;
		if (idx[i] >= h->typecnt)
			return -EBADMSG;
		tz->trans[i] = t;
		tz->ttype[i] = idx[i];
	}
	for (uint32_t i = 0; i < h->typecnt; i++) {
		const uint8_t *tt = types + (size_t)i * 6;
		int32_t off = (int32_t)be32(tt);

		if (off < UTOFF_MIN || off > UTOFF_MAX || tt[4] > 1 || tt[5] >= h->charcnt)
			return -EBADMSG;
		tz->utoff[i] = off;
	}
	tz->ntrans = h->timecnt;
	tz->ntypes = h->typecnt;
	return 0;
}

/* --- POSIX TZ strings -------------------------------------------------- */

static bool is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, + and -. */
static int rule_name(const char **sp, const char *end)
{
	const char *s = *sp;
	size_t n = 0;

	if (s < end && *s == '<') {
		for (s++; s < end && *s != '>'; s++, n++) {
			if (!is_alpha(*s) && !is_digit(*s) && *s != '+' && *s != '-')
				return -EBADMSG;
		}
		if (s == end || n < 3)
			return -EBADMSG;
		*sp = s + 1;
		return 0;
	}
	for (; s < end && is_alpha(*s); s++)
		n++;
	if (n < 3)
		return -EBADMSG;
	*sp = s;
	return 0;
}

/* Up to @maxd digits as a number <= @max. */
static int rule_num(const char **sp, const char *end, int maxd, int max, int *out)
{
	const char *s = *sp;
	int v = 0, n = 0;

	for (; s < end && is_digit(*s) && n < maxd; s++, n++)
		v = v * 10 + (*s - '0');
	if (!n || v > max || (s < end && is_digit(*s)))
		return -EBADMSG;
	*sp = s;
	*out = v;
	return 0;
}

/* [+-]hh[:mm[:ss]] in seconds, hours up to @maxh. */
static int rule_hms(const char **sp, const char *end, int maxh, int32_t *out)
{
	const char *s = *sp;
	int sign = 1, h, m = 0, sec = 0;

	if (s < end && (*s == '+' || *s == '-'))
		sign = *s++ == '-' ? -1 : 1;
	if (rule_num(&s, end, 3, maxh, &h))
		return -EBADMSG;
	if (s < end && *s == ':') {
		s++;
		if (rule_num(&s, end, 2, 59, &m))
			return -EBADMSG;
		if (s < end && *s == ':') {
			s++;
			if (rule_num(&s, end, 2, 59, &sec))
				return -EBADMSG;
		}
	}
	*sp = s;
	*out = sign * (h * 3600 + m * 60 + sec);
	return 0;
}

static int rule_date(const char **sp, const char *end, struct rule_date *r)
{
	const char *s = *sp;

	r->time = 7200; /* POSIX: 02:00:00 when no time is given */
	if (s < end && *s == 'J') {
		s++;
		r->kind = 'J';
		if (rule_num(&s, end, 3, 365, &r->n) || r->n < 1)
			return -EBADMSG;
	} else if (s < end && *s == 'M') {
		s++;
		r->kind = 'M';
		if (rule_num(&s, end, 2, 12, &r->m) || r->m < 1 || s == end || *s++ != '.' ||
		    rule_num(&s, end, 1, 5, &r->w) || r->w < 1 || s == end || *s++ != '.' ||
		    rule_num(&s, end, 1, 6, &r->d))
			return -EBADMSG;
	} else {
		r->kind = 'n';
		if (rule_num(&s, end, 3, 365, &r->n))
			return -EBADMSG;
	}
	if (s < end && *s == '/') {
		s++;
		if (rule_hms(&s, end, 167, &r->time))
			return -EBADMSG;
	}
	*sp = s;
	return 0;
}

/* std offset [dst [offset] ,start[/time],end[/time]] */
static int rule_parse(struct tz *tz, const char *s, const char *end)
{
	int32_t off;

	if (s == end)
		return 0; /* an empty footer: no rule, the last type stays */
	if (rule_name(&s, end) || rule_hms(&s, end, 24, &off))
		return -EBADMSG;
	/* POSIX offsets count west of Greenwich. */
	tz->std_off = -off;
	tz->dst_off = tz->std_off;
	tz->has_rule = true;
	if (s == end)
		return 0;
	if (rule_name(&s, end))
		return -EBADMSG;
	tz->has_dst = true;
	if (s < end && *s != ',') {
		if (rule_hms(&s, end, 24, &off))
			return -EBADMSG;
		tz->dst_off = -off;
	} else {
		tz->dst_off = tz->std_off + 3600;
	}
	/* zic always writes the rule; POSIX leaves its absence to the
	 * implementation, and guessing US rules would be wrong elsewhere. */
	if (s == end || *s++ != ',' || rule_date(&s, end, &tz->start) || s == end || *s++ != ',' ||
	    rule_date(&s, end, &tz->end) || s != end)
		return -EBADMSG;
	if (tz->std_off < UTOFF_MIN || tz->std_off > UTOFF_MAX || tz->dst_off < UTOFF_MIN ||
	    tz->dst_off > UTOFF_MAX)
		return -EBADMSG;
	return 0;
}

/* --- Calendar ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* H. Hinnant's days_from_civil: exact for the proleptic Gregorian calendar. */
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t day, int64_t *y, int *m, int *d)
{
	int64_t z = day + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Day number of @r in year @y. */
static int64_t rule_day(const struct rule_date *r, int64_t y)
{
	int64_t jan1 = tz_days_from_civil(y, 1, 1), first, day;
	int wd;

	switch (r->kind) {
	case 'J':
		/* Jn counts 1..365 and never names Feb 29. */
		return jan1 + r->n - 1 + (is_leap(y) && r->n >= 60);
	case 'n':
		return jan1 + r->n;
	default:
		first = tz_days_from_civil(y, r->m, 1);
		/* 1970-01-01 was a Thursday (4, counting from Sunday = 0). */
		wd = (int)(((first + 4) % 7 + 7) % 7);
		day = first + ((r->d - wd) % 7 + 7) % 7 + 7 * (r->w - 1);
		while (day >= first + month_days(y, r->m))
			day -= 7;
		return day;
	}
}

static int32_t rule_offset(const struct tz *tz, int64_t t)
{
	int64_t y, start, end;
	int m, d;

	if (!tz->has_dst)
		return tz->std_off;
	tz_civil_from_days(floor_div(t + tz->std_off, 86400), &y, &m, &d);
	/* The start is given in standard time, the end in daylight time. */
	start = rule_day(&tz->start, y) * 86400 + tz->start.time - tz->std_off;
	end = rule_day(&tz->end, y) * 86400 + tz->end.time - tz->dst_off;
	if (start < end)
		return t >= start && t < end ? tz->dst_off : tz->std_off;
	/* Southern hemisphere: daylight time spans the new year. */
	return t >= end && t < start ? tz->std_off : tz->dst_off;
}

/* --- Public ------------------------------------------------------------ */

int tz_parse(struct tz **tzp, const uint8_t *buf, size_t len)
{
	struct tz *tz = NULL;
	struct hdr h;
	uint64_t size;
	unsigned tsz = 4;
	int err;

	if (!tzp || (!buf && len))
		return -EINVAL;
	err = hdr_parse(&h, buf, len);
	if (err)
		return err;
	size = block_size(&h, 4);
	if (size > len - HDR_SIZE)
		return -EBADMSG;
	if (h.version) {
		/* Version 2+: skip the 32-bit data, use the 64-bit copy. */
		size_t off = HDR_SIZE + (size_t)size;
		char v1 = h.version;

		buf += off;
		len -= off;
		err = hdr_parse(&h, buf, len);
		if (err)
			return err;
		if (h.version != v1)
			return -EBADMSG;
		tsz = 8;
		size = block_size(&h, 8);
		if (size > len - HDR_SIZE)
			return -EBADMSG;
	}
	tz = mem_zalloc(sizeof(*tz));
	if (!tz)
		return -ENOMEM;
	err = data_parse(tz, &h, buf + HDR_SIZE, tsz);
	if (!err && h.version) {
		/* The footer: "\n" TZ-string "\n" (RFC 8536 §3.3). */
		const char *f = (const char *)buf + HDR_SIZE + size;
		size_t flen = len - HDR_SIZE - (size_t)size;
		const char *nl;

		if (flen < 2 || f[0] != '\n')
			err = -EBADMSG;
		else if (!(nl = memchr(f + 1, '\n', flen - 1 < FOOTER_MAX ? flen - 1 : FOOTER_MAX)))
			err = -EBADMSG;
		else
			err = rule_parse(tz, f + 1, nl);
	}
	if (err) {
		tz_free(tz);
		return err;
	}
	*tzp = tz;
	return 0;
}

struct tz *tz_free(struct tz *tz)
{
	if (!tz)
		return NULL;
	mem_free(tz->trans);
	mem_free(tz->ttype);
	mem_free(tz->utoff);
	mem_free(tz);
	return NULL;
}

bool tz_name_valid(const char *name)
{
	size_t seg = 0, len;

	if (!name || !(name[0] >= 'A' && name[0] <= 'Z'))
		return false;
	len = strlen(name);
	if (len > TZ_NAME_MAX)
		return false;
	for (const char *p = name;; p++) {
		if (*p == '/' || !*p) {
			if (!seg)
				return false;
			if (!*p)
				return true;
			seg = 0;
			continue;
		}
		if (!is_alpha(*p) && !is_digit(*p) && *p != '_' && *p != '+' && *p != '-')
			return false;
		seg++;
	}
}

int tz_load(struct tz **tzp, const char *dir, const char *name)
{
	char path[512];
	uint8_t *buf = NULL;
	struct stat sb;
	size_t len = 0;
	int fd, n, err = 0;

	if (!tzp || !tz_name_valid(name))
		return -EINVAL;
	n = snprintf(path, sizeof(path), "%s/%s", dir ? dir : TZ_DIR_DEFAULT, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err = -ENOENT;
		goto out;
	}
	if (sb.st_size > TZ_FILE_MAX) {
		err = -EFBIG;
		goto out;
	}
	buf = mem_alloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (len < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)sb.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r == 0)
			break; /* the file shrank: parse what there is */
		len += (size_t)r;
	}
	err = tz_parse(tzp, buf, len);
out:
	mem_free(buf);
	close(fd);
	return err;
}

int32_t tz_offset(const struct tz *tz, int64_t t)
{
	size_t lo, hi;

	if (!tz)
		return 0;
	t = t < -T_LIMIT ? -T_LIMIT : t > T_LIMIT ? T_LIMIT : t;
	if (!tz->ntrans)
		return tz->has_rule ? rule_offset(tz, t) : tz->utoff[0];
	/* RFC 8536 §3.2: before the first transition, type 0 applies. */
	if (t < tz->trans[0])
		return tz->utoff[0];
	if (t >= tz->trans[tz->ntrans - 1] && tz->has_rule)
		return rule_offset(tz, t);
	/* The last transition at or before t. */
	lo = 0;
	hi = tz->ntrans;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->utoff[tz->ttype[lo]];
}

void tz_local(const struct tz *tz, int64_t t, struct tz_local *out)
{
	int64_t local, secs, y;

	t = t < -T_LIMIT ? -T_LIMIT : t > T_LIMIT ? T_LIMIT : t;
	out->utoff = tz_offset(tz, t);
	local = t + out->utoff;
	out->day = floor_div(local, 86400);
	secs = local - out->day * 86400;
	tz_civil_from_days(out->day, &y, &out->month, &out->mday);
	out->year = (int)y;
	/* Day 0 was a Thursday: 3 counting from Monday = 0. */
	out->wday = (int)((out->day % 7 + 7 + 3) % 7);
	out->hour = (int)(secs / 3600);
	out->min = (int)(secs / 60 % 60);
	out->sec = (int)(secs % 60);
}

/*
 * prov_calendar: a tenant's time zone, weekly business hours and holidays
 * (docs/PROVISIONING.md "Calendar"), which IVR hours nodes test the time of
 * a call against. The same hours and holidays syntax is checked here for a
 * node that gives its own.
 *
 * The time zone must be a zone of the system's IANA database: the file is
 * read and parsed (base/tz.h) so a typo or a broken zone file is refused at
 * provisioning time rather than discovered by a caller at 9 a.m.
 *
 * Not here: evaluating hours at an instant (ivr/ivr.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/tz.h"
#include "prov/prov_internal.h"

#define RANGES_PER_DAY_MAX 8
#define HOLIDAYS_MAX	   512
#define HOLIDAY_SPAN_MAX   366 /* days in one "first/last" range */

static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++) {
		if (len == 3 && !memcmp(s, days[i], 3))
			return i;
	}
	return -1;
}

/* "mon" or "mon-fri" into the first and last day (0 = Monday). */
static bool day_key(const char *k, int *first, int *last)
{
	size_t len = strlen(k);

	if (len == 3) {
		*first = *last = day_index(k, 3);
		return *first >= 0;
	}
	if (len != 7 || k[3] != '-')
		return false;
	*first = day_index(k, 3);
	*last = day_index(k + 4, 3);
	return *first >= 0 && *last > *first;
}

static bool two_digits(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

/* "HH:MM" (00:00 to 24:00) in minutes. */
static bool hhmm(const char *s, int *min)
{
	int h, m;

	if (!two_digits(s, &h) || s[2] != ':' || !two_digits(s + 3, &m))
		return false;
	if (h > 24 || m > 59 || (h == 24 && m))
		return false;
	*min = h * 60 + m;
	return true;
}

/* "HH:MM-HH:MM", start before end, within one day. */
static bool time_range(const char *s, int *start, int *end)
{
	return strlen(s) == 11 && s[5] == '-' && hhmm(s, start) && hhmm(s + 6, end) &&
	       *start < *end;
}

static int check_day(struct prov_vctx *v, const json_t *arr)
{
	char q[PROV_ECHO_SIZE];
	int start[RANGES_PER_DAY_MAX], end[RANGES_PER_DAY_MAX];
	size_t n;
	int err = 0;

	if (!json_is_array(arr))
		return prov_verr(v, "expected an array of \"HH:MM-HH:MM\", got %s",
				 prov_type_name(arr));
	n = json_array_size(arr);
	if (n > RANGES_PER_DAY_MAX)
		return prov_verr(v, "too many ranges: at most %d a day", RANGES_PER_DAY_MAX);
	for (size_t i = 0; i < n && !err; i++) {
		size_t m = prov_path_idx(v, i);
		const char *s;

		err = prov_check_str(v, json_array_get(arr, i), PROV_STR_TEXT, 1, 32, &s);
		if (!err && !time_range(s, &start[i], &end[i]))
			err = prov_verr(v,
					"invalid time range \"%s\": expected \"HH:MM-HH:MM\" "
					"(00:00 to 24:00, start before end)",
					prov_echo(q, sizeof(q), s));
		for (size_t k = 0; !err && k < i; k++) {
			if (start[i] < end[k] && start[k] < end[i])
				err = prov_verr(v, "overlaps \"%s\"",
						json_string_value(json_array_get(arr, k)));
		}
		prov_path_pop(v, m);
	}
	return err;
}

int prov_check_hours(struct prov_vctx *v, const json_t *obj, const char *key)
{
	const json_t *j = json_object_get(obj, key);
	const char *k, *by[7] = {NULL};
	char q[PROV_ECHO_SIZE];
	json_t *val;
	size_t mark;
	int err = 0;

	if (!j)
		return 0;
	mark = prov_path_key(v, key);
	err = prov_expect_object(v, j);
	json_object_foreach(err ? NULL : (json_t *)j, k, val)
	{
		size_t m = prov_path_key(v, k);
		int first, last;

		if (!day_key(k, &first, &last)) {
			err = prov_verr(v, "not a day: use mon, tue, wed, thu, fri, sat, sun or a "
					   "range such as mon-fri");
		} else {
			for (int d = first; d <= last && !err; d++) {
				if (by[d])
					err = prov_verr(v, "%s is also given by \"%s\"", days[d],
							prov_echo(q, sizeof(q), by[d]));
				by[d] = k;
			}
		}
		if (!err)
			err = check_day(v, val);
		prov_path_pop(v, m);
		if (err)
			break;
	}
	prov_path_pop(v, mark);
	return err;
}

/* "YYYY-MM-DD" (1970..9999) into a day number. */
static bool ymd(const char *s, int64_t *day)
{
	int a, b, m, d;

	if (!two_digits(s, &a) || !two_digits(s + 2, &b) || s[4] != '-' || !two_digits(s + 5, &m) ||
	    s[7] != '-' || !two_digits(s + 8, &d))
		return false;
	if (a * 100 + b < 1970 || m < 1 || m > 12 || d < 1)
		return false;
	*day = tz_days_from_civil(a * 100 + b, m, d);
	/* Day 31 of a 30-day month comes back as another date. */
	{
		int64_t y;
		int mm, dd;

		tz_civil_from_days(*day, &y, &mm, &dd);
		return mm == m && dd == d;
	}
}

int prov_check_holidays(struct prov_vctx *v, const json_t *obj, const char *key)
{
	const json_t *j = json_object_get(obj, key);
	char q[PROV_ECHO_SIZE];
	size_t mark;
	int err = 0;

	if (!j)
		return 0;
	mark = prov_path_key(v, key);
	if (!json_is_array(j))
		err = prov_verr(v, "expected an array of dates, got %s", prov_type_name(j));
	else if (json_array_size(j) > HOLIDAYS_MAX)
		err = prov_verr(v, "too many holidays: at most %d", HOLIDAYS_MAX);
	for (size_t i = 0; !err && i < json_array_size(j); i++) {
		size_t m = prov_path_idx(v, i);
		int64_t first, last;
		const char *s;

		err = prov_check_str(v, json_array_get(j, i), PROV_STR_TEXT, 1, 32, &s);
		if (!err && strlen(s) == 10 && ymd(s, &first))
			last = first;
		else if (!err &&
			 !(strlen(s) == 21 && s[10] == '/' && ymd(s, &first) && ymd(s + 11, &last)))
			err = prov_verr(v,
					"invalid date \"%s\": expected \"YYYY-MM-DD\" or "
					"\"YYYY-MM-DD/YYYY-MM-DD\"",
					prov_echo(q, sizeof(q), s));
		if (!err && (last < first || last - first >= HOLIDAY_SPAN_MAX))
			err = prov_verr(
			    v, "\"%s\": the last day must follow the first, within %d days", s,
			    HOLIDAY_SPAN_MAX);
		prov_path_pop(v, m);
	}
	prov_path_pop(v, mark);
	return err;
}

static int check_timezone(struct prov_vctx *v, const char *name)
{
	char q[PROV_ECHO_SIZE];
	struct tz *tz = NULL;
	size_t mark = prov_path_key(v, "timezone");
	int err;

	if (!tz_name_valid(name)) {
		err = prov_verr(v,
				"invalid time zone \"%s\": expected an IANA name such as "
				"\"Asia/Shanghai\"",
				prov_echo(q, sizeof(q), name));
		goto out;
	}
	err = tz_load(&tz, NULL, name);
	tz_free(tz);
	if (err == -ENOMEM)
		err = prov_nomem(v);
	else if (err == -EBADMSG)
		err = prov_verr(v, "time zone \"%s\": its file in %s is not a valid zone", name,
				TZ_DIR_DEFAULT);
	else if (err)
		err = prov_verr(v, "unknown time zone \"%s\" (not in %s)", name, TZ_DIR_DEFAULT);
out:
	prov_path_pop(v, mark);
	return err;
}

int prov_parse_calendar(struct prov_vctx *v, const json_t *tj, struct prov_tenant *t)
{
	const json_t *hours = json_object_get(tj, "hours"), *hol = json_object_get(tj, "holidays");
	json_t *cal = NULL;
	int err;

	err = prov_get_str(v, tj, "timezone", PROV_STR_TEXT, 1, TZ_NAME_MAX, "UTC", &t->timezone);
	if (!err)
		err = check_timezone(v, t->timezone);
	if (!err)
		err = prov_check_hours(v, tj, "hours");
	if (!err)
		err = prov_check_holidays(v, tj, "holidays");
	if (err)
		return err;
	t->has_hours = hours != NULL;
	cal = json_object();
	if (!cal || (hours && json_object_set(cal, "hours", (json_t *)hours)) ||
	    (hol && json_object_set(cal, "holidays", (json_t *)hol)))
		err = prov_nomem(v);
	if (!err)
		err = prov_dump(v, cal, &t->calendar);
	json_decref(cal);
	return err;
}

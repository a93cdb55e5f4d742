/*
 * ivr_hours: business hours and holidays, and the question an hours node
 * asks: at this instant, in the tenant's zone, is it open, closed or a
 * holiday? The syntax is docs/PROVISIONING.md's ("mon-fri": ["09:00-18:00"],
 * "2026-10-01/2026-10-07"); provisioning has validated it, and this parser
 * checks again whatever the evaluation relies on.
 *
 * Local time comes from base/tz.h (the UTC offset at the instant), so the
 * answer is right across daylight-saving changes: 08:59 and 09:00 local are
 * told apart on the day New York moves its clocks as on any other.
 */
#include <errno.h>
#include <string.h>

#include "base/mem.h"
#include "base/tz.h"
#include "ivr/ivr_internal.h"

static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int day_of(const char *s)
{
	for (int i = 0; i < 7; i++) {
		if (!strncmp(s, days[i], 3))
			return i;
	}
	return -1;
}

static bool num2(const char *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return false;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return true;
}

static bool hhmm(const char *s, int *min)
{
	int h, m;

	if (!num2(s, &h) || s[2] != ':' || !num2(s + 3, &m) || h > 24 || m > 59 || (h == 24 && m))
		return false;
	*min = h * 60 + m;
	return true;
}

static bool ymd(const char *s, int64_t *day)
{
	int64_t y;
	int a, b, m, d, mm, dd;

	if (!num2(s, &a) || !num2(s + 2, &b) || s[4] != '-' || !num2(s + 5, &m) || s[7] != '-' ||
	    !num2(s + 8, &d) || m < 1 || m > 12 || d < 1)
		return false;
	*day = tz_days_from_civil(a * 100 + b, m, d);
	tz_civil_from_days(*day, &y, &mm, &dd);
	return mm == m && dd == d;
}

static int parse_week(struct ivr_hours *h, const json_t *hours)
{
	const char *key;
	json_t *val;

	if (!json_is_object(hours))
		return -EINVAL;
	json_object_foreach((json_t *)hours, key, val)
	{
		size_t len = strlen(key);
		int first = day_of(key), last = first;

		if (len == 7 && key[3] == '-')
			last = day_of(key + 4);
		else if (len != 3)
			return -EINVAL;
		if (first < 0 || last < first || !json_is_array(val) ||
		    json_array_size(val) > IVR_RANGES_MAX)
			return -EINVAL;
		for (int d = first; d <= last; d++) {
			h->nranges[d] = 0;
			for (size_t i = 0; i < json_array_size(val); i++) {
				const char *s = json_string_value(json_array_get(val, i));
				int a, b;

				if (!s || strlen(s) != 11 || s[5] != '-' || !hhmm(s, &a) ||
				    !hhmm(s + 6, &b) || a >= b)
					return -EINVAL;
				h->ranges[d][h->nranges[d]++] =
				    (struct ivr_range){(uint16_t)a, (uint16_t)b};
			}
		}
	}
	h->has_week = true;
	return 0;
}

static int parse_holidays(struct ivr_hours *h, struct arena *a, const json_t *hol)
{
	size_t n;

	if (!json_is_array(hol) || json_array_size(hol) > IVR_HOLIDAYS_MAX)
		return -EINVAL;
	n = json_array_size(hol);
	h->holidays = arena_alloc(a, (n ? n : 1) * sizeof(*h->holidays));
	if (!h->holidays)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(hol, i));
		struct ivr_holiday *d = &h->holidays[i];

		if (!s)
			return -EINVAL;
		if (strlen(s) == 10 && ymd(s, &d->first))
			d->last = d->first;
		else if (!(strlen(s) == 21 && s[10] == '/' && ymd(s, &d->first) &&
			   ymd(s + 11, &d->last)))
			return -EINVAL;
		if (d->last < d->first || d->last - d->first >= IVR_HOLIDAY_SPAN)
			return -EINVAL;
	}
	h->nholidays = n;
	h->has_holidays = true;
	return 0;
}

int ivr_hours_parse(struct ivr_hours *h, struct arena *a, const json_t *hours,
		    const json_t *holidays)
{
	int err = 0;

	if (hours)
		err = parse_week(h, hours);
	if (!err && holidays)
		err = parse_holidays(h, a, holidays);
	return err;
}

enum ivr_hours_state ivr_hours_eval(const struct ivr_hours *week, const struct ivr_hours *hol,
				    const struct tz *tz, int64_t now)
{
	struct tz_local lt;
	int min;

	tz_local(tz, now, &lt);
	for (size_t i = 0; hol && i < hol->nholidays; i++) {
		if (lt.day >= hol->holidays[i].first && lt.day <= hol->holidays[i].last)
			return IVR_HOURS_HOLIDAY;
	}
	if (!week || !week->has_week)
		return IVR_HOURS_OPEN;
	min = lt.hour * 60 + lt.min;
	for (unsigned i = 0; i < week->nranges[lt.wday]; i++) {
		if (min >= week->ranges[lt.wday][i].start && min < week->ranges[lt.wday][i].end)
			return IVR_HOURS_OPEN;
	}
	return IVR_HOURS_CLOSED;
}

int ivr_hours_load(struct ivr_hours **hp, const char *json)
{
	struct ivr_hours *h;
	json_t *root;
	int err;

	if (!hp || !json)
		return -EINVAL;
	h = mem_zalloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->arena = mem_zalloc(sizeof(*h->arena));
	if (!h->arena) {
		mem_free(h);
		return -ENOMEM;
	}
	arena_init(h->arena, NULL, 0, 0);
	root = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	if (!root || !json_is_object(root))
		err = -EINVAL;
	else
		err = ivr_hours_parse(h, h->arena, json_object_get(root, "hours"),
				      json_object_get(root, "holidays"));
	json_decref(root);
	if (err) {
		ivr_hours_free(h);
		return err;
	}
	*hp = h;
	return 0;
}

struct ivr_hours *ivr_hours_free(struct ivr_hours *h)
{
	if (!h)
		return NULL;
	if (h->arena) {
		arena_reset(h->arena);
		mem_free(h->arena);
	}
	mem_free(h);
	return NULL;
}

enum ivr_hours_state ivr_hours_at(const struct ivr_hours *h, const struct tz *tz, int64_t now)
{
	return ivr_hours_eval(h, h, tz, now);
}

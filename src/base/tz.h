/*
 * tz: time zones from the IANA database (TZif files, RFC 8536), read by our
 * own small parser so that converting an instant to a tenant's local time is
 * thread-safe and needs no process-wide state.
 *
 * Why not localtime_r(): it reads the zone from the TZ environment variable,
 * so serving tenants in Asia/Shanghai and America/New_York from one process
 * would mean switching TZ (setenv + tzset), which races every other thread
 * that formats a time. Here a zone is a plain immutable object: load it once
 * per tenant, share it between threads, ask it for the UTC offset at any
 * instant.
 *
 * The parser treats the file as untrusted-ish input: every count is checked
 * against the bytes at hand, transition times must ascend, type indices and
 * offsets must be in range, and the POSIX TZ rule of the footer (which
 * covers instants after the last transition, e.g. "EST5EDT,M3.2.0,M11.1.0")
 * is validated completely. A bad file gives -EBADMSG, never a crash.
 *
 * Not here: formatting, leap seconds (ignored: UTC offsets do not depend on
 * them), or the system's local zone.
 */
#ifndef BASE_TZ_H
#define BASE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TZ_DIR_DEFAULT "/usr/share/zoneinfo"
#define TZ_NAME_MAX    63	   /* bytes of a zone name */
#define TZ_FILE_MAX    (256 << 10) /* the largest zone file read; real ones are < 4 KiB */

struct tz;

/*
 * True when @name looks like an IANA zone name: "UTC", "Asia/Shanghai",
 * "America/Argentina/Buenos_Aires", "Etc/GMT+8". Segments of letters,
 * digits, '_', '+' and '-' separated by single '/', the first starting with
 * an uppercase letter (which keeps out the database's other files:
 * "posixrules", "zone.tab", "localtime"), at most TZ_NAME_MAX bytes. A name
 * that passes can never leave the zone folder.
 */
bool tz_name_valid(const char *name);

/*
 * Parse the TZif file in @buf[0..@len) (borrowed; nothing points into it
 * afterwards). 0, -EBADMSG (not a valid TZif file) or -ENOMEM; *@tzp is
 * written on success only and freed with tz_free().
 */
int tz_parse(struct tz **tzp, const uint8_t *buf, size_t len);

/*
 * Read and parse zone @name from folder @dir (NULL: TZ_DIR_DEFAULT).
 * -EINVAL (not a valid name, see tz_name_valid), -ENOENT (no such zone, or
 * not a regular file), -EFBIG (larger than TZ_FILE_MAX), -EBADMSG, -ENOMEM,
 * or the errno of open/read. Blocking file I/O: call it where disk access
 * is allowed (start-up, a worker), not on an event loop.
 */
int tz_load(struct tz **tzp, const char *dir, const char *name);

/* Returns NULL. */
struct tz *tz_free(struct tz *tz);

/*
 * UTC offset in seconds (east positive: +28800 for Asia/Shanghai) at the
 * instant @t (Unix seconds). NULL @tz is UTC. Any thread, no allocation.
 */
int32_t tz_offset(const struct tz *tz, int64_t t);

/* A local date and time. */
struct tz_local {
	int64_t day; /* days since 1970-01-01 in local time (negative before) */
	int year;
	int month;     /* 1..12 */
	int mday;      /* 1..31 */
	int wday;      /* 0 = Monday .. 6 = Sunday (ISO 8601) */
	int hour;      /* 0..23 */
	int min;       /* 0..59 */
	int sec;       /* 0..59 */
	int32_t utoff; /* the offset that was applied */
};

/* Local date and time of instant @t in @tz (NULL: UTC). */
void tz_local(const struct tz *tz, int64_t t, struct tz_local *out);

/* Days since 1970-01-01 of the proleptic Gregorian date @y-@m-@d (m 1..12). */
int64_t tz_days_from_civil(int64_t y, int m, int d);
/* The date of day number @day. */
void tz_civil_from_days(int64_t day, int64_t *y, int *m, int *d);

#endif

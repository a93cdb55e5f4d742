/*
 * str: string views (see str.h). Every loop is bounded by the view's length;
 * nothing here assumes a NUL terminator.
 */
#include <errno.h>

#include "base/mem.h"
#include "base/str.h"

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

struct str str_sub(const struct str *s, size_t off, size_t len)
{
	if (off > s->len)
		off = s->len;
	if (len > s->len - off)
		len = s->len - off;
	return str_make(s->p ? s->p + off : NULL, len);
}

bool str_eq(const struct str *a, const struct str *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

bool str_ieq(const struct str *a, const struct str *b)
{
	if (a->len != b->len)
		return false;
	for (size_t i = 0; i < a->len; i++) {
		if (lower((unsigned char)a->p[i]) != lower((unsigned char)b->p[i]))
			return false;
	}
	return true;
}

bool str_ieq_cstr(const struct str *a, const char *s)
{
	struct str b = str_cstr(s);

	return str_ieq(a, &b);
}

bool str_has_prefix(const struct str *s, const struct str *prefix)
{
	return s->len >= prefix->len &&
	       (prefix->len == 0 || memcmp(s->p, prefix->p, prefix->len) == 0);
}

bool str_ihas_prefix(const struct str *s, const struct str *prefix)
{
	struct str head;

	if (s->len < prefix->len)
		return false;
	head = str_make(s->p, prefix->len);
	return str_ieq(&head, prefix);
}

int str_cmp(const struct str *a, const struct str *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->p, b->p, n) : 0;

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

long str_chr(const struct str *s, char c)
{
	const char *hit = s->len ? memchr(s->p, c, s->len) : NULL;

	return hit ? (long)(hit - s->p) : -1;
}

long str_find(const struct str *s, const struct str *needle)
{
	const char *hit;

	if (needle->len == 0)
		return 0;
	if (s->len < needle->len)
		return -1;
	hit = memmem(s->p, s->len, needle->p, needle->len);
	return hit ? (long)(hit - s->p) : -1;
}

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct str str_trim(struct str s)
{
	while (s.len && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

int str_to_u64(const struct str *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!s->len)
		return -EINVAL;
	for (size_t i = 0; i < s->len; i++) {
		unsigned d = (unsigned char)s->p[i] - '0';

		if (d > 9)
			return -EINVAL;
		/* Constant bounds: no division per digit. */
		if (n > UINT64_MAX / 10 || (n == UINT64_MAX / 10 && d > UINT64_MAX % 10))
			return -ERANGE;
		n = n * 10 + d;
	}
	*v = n;
	return 0;
}

int str_to_u32(const struct str *s, uint32_t *v)
{
	uint64_t n;
	int err = str_to_u64(s, &n);

	if (err)
		return err;
	if (n > UINT32_MAX)
		return -ERANGE;
	*v = (uint32_t)n;
	return 0;
}

int str_to_i64(const struct str *s, int64_t *v)
{
	struct str digits = *s;
	bool neg = false;
	uint64_t n;
	int err;

	if (digits.len && (digits.p[0] == '-' || digits.p[0] == '+')) {
		neg = digits.p[0] == '-';
		digits.p++;
		digits.len--;
	}
	err = str_to_u64(&digits, &n);
	if (err)
		return err;
	if (neg) {
		if (n > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*v = n == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)n;
	} else {
		if (n > INT64_MAX)
			return -ERANGE;
		*v = (int64_t)n;
	}
	return 0;
}

uint32_t str_hash(const struct str *s)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < s->len; i++) {
		h ^= (unsigned char)s->p[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t str_hash_ci(const struct str *s)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < s->len; i++) {
		h ^= lower((unsigned char)s->p[i]);
		h *= 16777619u;
	}
	return h;
}

int str_dup(struct str *dst, const struct str *src)
{
	char *p = mem_alloc(src->len + 1);

	if (!p)
		return -ENOMEM;
	if (src->len)
		memcpy(p, src->p, src->len);
	p[src->len] = '\0';
	*dst = str_make(p, src->len);
	return 0;
}

size_t str_copy_cstr(char *buf, size_t size, const struct str *s)
{
	size_t n;

	if (!size)
		return 0;
	n = s->len < size - 1 ? s->len : size - 1;
	if (n)
		memcpy(buf, s->p, n);
	buf[n] = '\0';
	return n;
}

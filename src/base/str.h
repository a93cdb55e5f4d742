/*
 * str: zero-copy string views.
 *
 * A struct str borrows bytes it does not own and is NOT NUL-terminated; it
 * lives exactly as long as the buffer under it, and every field that holds
 * one says which buffer. Every function here reads at most s->len bytes, so
 * parsing untrusted input with them can never run past the end.
 */
#ifndef BASE_STR_H
#define BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct str {
	const char *p;
	size_t len;
};

#define STR(lit)   ((struct str){(lit), sizeof(lit) - 1})
#define STR_FMT(s) (int)(s)->len, (s)->p /* for "%.*s" */
#define STR_NULL   ((struct str){NULL, 0})

static inline struct str str_make(const char *p, size_t len)
{
	return (struct str){p, len};
}

/* View of a NUL-terminated C string (NULL gives the empty view). */
static inline struct str str_cstr(const char *s)
{
	return (struct str){s, s ? strlen(s) : 0};
}

static inline bool str_isset(const struct str *s)
{
	return s->p != NULL && s->len > 0;
}

/* Bytes [off, off + len) clamped to the view. */
struct str str_sub(const struct str *s, size_t off, size_t len);

bool str_eq(const struct str *a, const struct str *b);
/* ASCII case-insensitive equality. */
bool str_ieq(const struct str *a, const struct str *b);
bool str_ieq_cstr(const struct str *a, const char *s);
/* ASCII case-insensitive comparison of @n bytes; inline because parsers
 * call it for every header and parameter name. */
static inline bool str_ieq_mem(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x != y) {
			x = (unsigned char)((unsigned)(x - 'A') < 26u ? x | 0x20 : x);
			y = (unsigned char)((unsigned)(y - 'A') < 26u ? y | 0x20 : y);
			if (x != y)
				return false;
		}
	}
	return true;
}

/* Case-insensitive equality with a string literal; the length test first
 * makes most mismatches one comparison. */
#define str_ieq_lit(s, lit) \
	((s)->len == sizeof(lit) - 1 && str_ieq_mem((s)->p, (lit), sizeof(lit) - 1))
bool str_has_prefix(const struct str *s, const struct str *prefix);
bool str_ihas_prefix(const struct str *s, const struct str *prefix);
/* memcmp order, shorter first on a common prefix. */
int str_cmp(const struct str *a, const struct str *b);

/* Index of the first @c, or -1. */
long str_chr(const struct str *s, char c);
/* Index of the first occurrence of @needle, or -1. */
long str_find(const struct str *s, const struct str *needle);

/* Without leading and trailing SP, HTAB, CR and LF. */
struct str str_trim(struct str s);

/*
 * Strict unsigned decimal: one or more digits and nothing else (no sign, no
 * space). Returns 0, -EINVAL (empty or a non-digit) or -ERANGE (too large);
 * @v is written only on success.
 */
int str_to_u32(const struct str *s, uint32_t *v);
int str_to_u64(const struct str *s, uint64_t *v);
/* Optional '-' or '+' then digits. */
int str_to_i64(const struct str *s, int64_t *v);

/* FNV-1a over the bytes; the _ci variant folds ASCII case first. */
uint32_t str_hash(const struct str *s);
uint32_t str_hash_ci(const struct str *s);

/*
 * Heap copy, NUL-terminated (the terminator is not counted in len). The
 * caller owns dst->p and frees it with mem_free((void *)dst->p).
 * Returns 0 or -ENOMEM; @dst is written only on success.
 */
int str_dup(struct str *dst, const struct str *src);

/* Copy into a C buffer of @size bytes, always NUL-terminated; truncates. */
size_t str_copy_cstr(char *buf, size_t size, const struct str *s);

#endif

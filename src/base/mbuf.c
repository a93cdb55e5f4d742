/*
 * mbuf: growable byte buffer (see mbuf.h). Storage doubles as it grows, up to
 * the limit, so appending n bytes costs amortised O(n). Consumed bytes are
 * only reclaimed by an explicit mbuf_compact(): moving data behind the
 * caller's back would break offsets it keeps into the buffer.
 */
#include <errno.h>
#include <stdio.h>

#include "base/mbuf.h"
#include "base/mem.h"

#define MBUF_MIN_SIZE 64u

void mbuf_init(struct mbuf *mb, size_t limit)
{
	mb->buf = NULL;
	mb->size = 0;
	mb->pos = 0;
	mb->end = 0;
	mb->limit = limit;
}

void mbuf_reset(struct mbuf *mb)
{
	mem_free(mb->buf);
	mbuf_init(mb, mb->limit);
}

/* Make the storage at least @need bytes; the caller has checked the limit. */
static int grow(struct mbuf *mb, size_t need)
{
	size_t size = mb->size ? mb->size : MBUF_MIN_SIZE;
	uint8_t *p;

	if (need <= mb->size)
		return 0;
	while (size < need && size <= SIZE_MAX / 2)
		size *= 2;
	if (size < need)
		size = need;
	/* Doubling may overshoot the limit; the data never will, so cap it. */
	if (mb->limit && size > mb->limit)
		size = need > mb->limit ? need : mb->limit;
	p = mem_realloc(mb->buf, size);
	if (!p)
		return -ENOMEM;
	mb->buf = p;
	mb->size = size;
	return 0;
}

/* The limit applies to the bytes held: end + @len. */
static int check_limit(const struct mbuf *mb, size_t len)
{
	if (mb->limit && (mb->end > mb->limit || len > mb->limit - mb->end))
		return -EMSGSIZE;
	if (len > SIZE_MAX - mb->end)
		return -ENOMEM;
	return 0;
}

int mbuf_reserve(struct mbuf *mb, size_t len)
{
	int err = check_limit(mb, len);

	if (err)
		return err;
	return grow(mb, mb->end + len);
}

int mbuf_write(struct mbuf *mb, const void *p, size_t len)
{
	int err;

	if (!len)
		return 0;
	err = mbuf_reserve(mb, len);
	if (err)
		return err;
	memcpy(mb->buf + mb->end, p, len);
	mb->end += len;
	return 0;
}

int mbuf_write_str(struct mbuf *mb, const struct str *s)
{
	return mbuf_write(mb, s->p, s->len);
}

int mbuf_write_cstr(struct mbuf *mb, const char *s)
{
	return mbuf_write(mb, s, strlen(s));
}

int mbuf_write_u8(struct mbuf *mb, uint8_t c)
{
	return mbuf_write(mb, &c, 1);
}

int mbuf_write_u64(struct mbuf *mb, uint64_t v)
{
	char digits[20]; /* UINT64_MAX has 20 */
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return mbuf_write(mb, digits + n, sizeof(digits) - n);
}

int mbuf_vprintf(struct mbuf *mb, const char *fmt, va_list ap)
{
	size_t room = mb->size - mb->end;
	va_list ap2;
	int n, err;

	/* Try the space already there first; most printfs fit and format once. */
	va_copy(ap2, ap);
	n = vsnprintf(room ? (char *)mb->buf + mb->end : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	err = check_limit(mb, (size_t)n);
	if (err)
		return err;
	if ((size_t)n >= room) {
		/*
		 * vsnprintf also writes a NUL. The limit counts only the text, so
		 * the storage may be one byte past it; end never is.
		 */
		err = grow(mb, mb->end + (size_t)n + 1);
		if (err)
			return err;
		va_copy(ap2, ap);
		vsnprintf((char *)mb->buf + mb->end, (size_t)n + 1, fmt, ap2);
		va_end(ap2);
	}
	mb->end += (size_t)n;
	return 0;
}

int mbuf_printf(struct mbuf *mb, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = mbuf_vprintf(mb, fmt, ap);
	va_end(ap);
	return err;
}

void mbuf_advance(struct mbuf *mb, size_t n)
{
	size_t left = mbuf_left(mb);

	mb->pos += n < left ? n : left;
}

void mbuf_compact(struct mbuf *mb)
{
	size_t left = mbuf_left(mb);

	if (!mb->pos)
		return;
	if (left)
		memmove(mb->buf, mb->buf + mb->pos, left);
	mb->pos = 0;
	mb->end = left;
}

/*
 * mbuf: a growable byte buffer, for building messages (the SIP printer) and
 * for collecting a byte stream until whole messages can be cut from it.
 *
 * Bytes [0, end) are valid; [pos, end) are the ones not consumed yet. Growth
 * is bounded by an optional limit so that a peer can never make it grow
 * without end. The mbuf owns its storage; mbuf_reset() frees it.
 */
#ifndef BASE_MBUF_H
#define BASE_MBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/str.h"

struct mbuf {
	uint8_t *buf;
	size_t size;  /* allocated bytes */
	size_t pos;   /* first unconsumed byte */
	size_t end;   /* one past the last valid byte */
	size_t limit; /* most bytes buf may hold, 0 = no limit */
};

/* Empty buffer, nothing allocated yet. @limit: 0 = no limit. */
void mbuf_init(struct mbuf *mb, size_t limit);
/* Free the storage and return to the state after mbuf_init (limit kept). */
void mbuf_reset(struct mbuf *mb);

/* Make room for @len more bytes after end. 0, -ENOMEM, or -EMSGSIZE past the limit. */
int mbuf_reserve(struct mbuf *mb, size_t len);

/* Append bytes at end. Returns 0 or a negative errno; on error nothing is appended. */
int mbuf_write(struct mbuf *mb, const void *p, size_t len);
int mbuf_write_str(struct mbuf *mb, const struct str *s);
int mbuf_write_cstr(struct mbuf *mb, const char *s);
int mbuf_write_u8(struct mbuf *mb, uint8_t c);
/* Decimal text of @v. */
int mbuf_write_u64(struct mbuf *mb, uint64_t v);
int mbuf_printf(struct mbuf *mb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mbuf_vprintf(struct mbuf *mb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Unconsumed bytes [pos, end) as a view; valid until the next write or reset. */
static inline struct str mbuf_str(const struct mbuf *mb)
{
	/* NULL + 0 is undefined behaviour in C: an unallocated buffer is empty. */
	return mb->buf ? str_make((const char *)mb->buf + mb->pos, mb->end - mb->pos)
		       : str_make(NULL, 0);
}

static inline size_t mbuf_left(const struct mbuf *mb)
{
	return mb->end - mb->pos;
}

/* Mark @n unconsumed bytes consumed (clamped). */
void mbuf_advance(struct mbuf *mb, size_t n);
/* Move the unconsumed bytes to the start of the buffer (pos becomes 0). */
void mbuf_compact(struct mbuf *mb);

#endif

/*
 * arena: bump allocator for memory that dies all at once (one SIP message,
 * one request).
 *
 * The first chunk may be a buffer the caller provides (on the stack, or kept
 * per worker), so a parse that fits in it never calls malloc. Further chunks
 * come from mem_alloc and are freed by arena_reset(). A limit bounds the
 * total, so untrusted input can never make the arena grow without end:
 * arena_alloc() returns NULL past it.
 *
 * It is not thread-safe: an arena belongs to one thread, like the message it
 * backs. Memory is never freed singly.
 */
#ifndef BASE_ARENA_H
#define BASE_ARENA_H

#include <stddef.h>

#include "base/str.h"

struct arena_chunk;

struct arena {
	char *cur;		  /* next free byte of the current chunk */
	char *end;		  /* end of the current chunk */
	struct arena_chunk *heap; /* heap chunks, newest first */
	void *buf;		  /* caller's first chunk, or NULL */
	size_t buf_size;
	size_t used;  /* bytes handed out since the last reset */
	size_t limit; /* 0 = no limit */
};

/*
 * @buf/@size: optional first chunk owned by the caller (it must outlive the
 * arena's use). @limit: most bytes handed out between resets, 0 = none.
 */
void arena_init(struct arena *a, void *buf, size_t size, size_t limit);

/* Free every heap chunk and start again from the caller's buffer. */
void arena_reset(struct arena *a);

/* @size bytes aligned for any type, or NULL (out of memory or over limit). */
void *arena_alloc(struct arena *a, size_t size);
void *arena_zalloc(struct arena *a, size_t size);

/* NUL-terminated copy of @s in the arena, or NULL. */
char *arena_strdup(struct arena *a, const struct str *s);

#endif

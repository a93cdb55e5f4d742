/*
 * arena: bump allocator (see arena.h). Heap chunks are chained newest first
 * and freed together on reset; the caller's first buffer is reused.
 */
#include <stdalign.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/mem.h"

#define ARENA_ALIGN	(alignof(max_align_t))
#define ARENA_MIN_CHUNK 4096u

struct arena_chunk {
	struct arena_chunk *next;
	alignas(max_align_t) char data[];
};

static char *align_up(char *p)
{
	uintptr_t u = (uintptr_t)p;

	return (char *)((u + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1));
}

void arena_init(struct arena *a, void *buf, size_t size, size_t limit)
{
	a->heap = NULL;
	a->buf = buf;
	a->buf_size = buf ? size : 0;
	a->limit = limit;
	a->used = 0;
	a->cur = buf;
	a->end = buf ? (char *)buf + size : NULL;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->heap;

	while (c) {
		struct arena_chunk *next = c->next;

		mem_free(c);
		c = next;
	}
	arena_init(a, a->buf, a->buf_size, a->limit);
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c;
	size_t chunk;
	char *p;

	if (size == 0)
		size = 1;
	if (size > SIZE_MAX / 2 || (a->limit && a->used + size > a->limit))
		return NULL;
	if (a->cur) {
		p = align_up(a->cur);
		if (p <= a->end && (size_t)(a->end - p) >= size) {
			a->cur = p + size;
			a->used += size;
			return p;
		}
	}
	/* Chunks double with use so a big message needs few mallocs. */
	chunk = ARENA_MIN_CHUNK;
	while (chunk < size + ARENA_ALIGN || chunk < a->used / 2)
		chunk *= 2;
	c = mem_alloc(sizeof(*c) + chunk);
	if (!c)
		return NULL;
	c->next = a->heap;
	a->heap = c;
	p = c->data;
	a->cur = p + size;
	a->end = c->data + chunk;
	a->used += size;
	return p;
}

void *arena_zalloc(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);

	if (p)
		memset(p, 0, size);
	return p;
}

char *arena_strdup(struct arena *a, const struct str *s)
{
	char *p = arena_alloc(a, s->len + 1);

	if (!p)
		return NULL;
	if (s->len)
		memcpy(p, s->p, s->len);
	p[s->len] = '\0';
	return p;
}

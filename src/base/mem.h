/*
 * mem: the one allocator every module uses.
 *
 * A thin layer over malloc so that tests can count allocations (a leak shows
 * as a difference around a test) and inject failures (the nth allocation
 * fails, and the code under test must return -ENOMEM cleanly). The counters
 * and the failure point are per thread, so concurrent workers never share
 * them; they cost one increment per call in production.
 *
 * It is not a pool or an arena: per-message memory comes from arena.h.
 */
#ifndef BASE_MEM_H
#define BASE_MEM_H

#include <stddef.h>
#include <stdint.h>

/* Return NULL on failure (or an injected failure). Free with mem_free(). */
void *mem_alloc(size_t size);
void *mem_zalloc(size_t size);
/* Like realloc(), but on failure @p is untouched and still owned by the caller. */
void *mem_realloc(void *p, size_t size);
void mem_free(void *p);

struct mem_stats {
	uint64_t allocs; /* successful mem_alloc/mem_zalloc/mem_realloc(NULL, n) */
	uint64_t frees;	 /* mem_free of a non-NULL pointer */
};

/* Counters of the calling thread. */
void mem_stats_get(struct mem_stats *st);

/*
 * Test hook: make the @n-th allocation from now (1 = the next one) on the
 * calling thread fail, once. 0 disables. Returns the number of allocations
 * still pending before the failure (0 when it has fired or is disabled).
 */
void mem_fail_at(uint64_t n);
uint64_t mem_fail_pending(void);

#endif

/*
 * mem: counting allocator over malloc (see mem.h). The counters are
 * thread-local so workers never contend on them.
 */
#include <stdlib.h>

#include "base/mem.h"

static _Thread_local struct mem_stats stats;
static _Thread_local uint64_t fail_countdown;

/* True when the injected failure is due on this allocation. */
static int should_fail(void)
{
	if (fail_countdown == 0)
		return 0;
	return --fail_countdown == 0;
}

void *mem_alloc(size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = malloc(size ? size : 1);
	if (p)
		stats.allocs++;
	return p;
}

void *mem_zalloc(size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = calloc(1, size ? size : 1);
	if (p)
		stats.allocs++;
	return p;
}

void *mem_realloc(void *p, size_t size)
{
	void *n;

	if (!p)
		return mem_alloc(size);
	if (should_fail())
		return NULL;
	n = realloc(p, size ? size : 1);
	return n;
}

void mem_free(void *p)
{
	if (!p)
		return;
	stats.frees++;
	free(p);
}

void mem_stats_get(struct mem_stats *st)
{
	*st = stats;
}

void mem_fail_at(uint64_t n)
{
	fail_countdown = n;
}

uint64_t mem_fail_pending(void)
{
	return fail_countdown;
}

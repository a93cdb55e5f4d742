/*
 * Unit tests for arena: the caller's buffer is used before any heap chunk,
 * every pointer is aligned for any type, the limit is a hard stop and reset
 * gives every heap chunk back. Allocation counts come from mem_stats, so
 * "never calls malloc" is checked, not assumed.
 */
#include <stdalign.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/mem.h"
#include "test.h"

static uint64_t allocs_since(const struct mem_stats *before)
{
	struct mem_stats now;

	mem_stats_get(&now);
	return now.allocs - before->allocs;
}

static bool in_buf(const void *p, const void *buf, size_t size)
{
	const char *c = p, *b = buf;

	return c >= b && c < b + size;
}

TEST(test_arena_caller_buffer_first)
{
	alignas(max_align_t) char buf[256];
	struct mem_stats before;
	struct arena a;
	char *p[4];
	int err = 0;

	arena_init(&a, buf, sizeof(buf), 0);
	mem_stats_get(&before);
	for (int i = 0; i < 4; i++) {
		p[i] = arena_alloc(&a, 40);
		TEST_ASSERT(p[i]);
		TEST_ASSERT(in_buf(p[i], buf, sizeof(buf)));
		memset(p[i], i, 40);
	}
	TEST_EQUALS(0, allocs_since(&before));

	/* Too big for what is left of buf: the first heap chunk. */
	p[0] = arena_alloc(&a, 200);
	TEST_ASSERT(p[0]);
	TEST_ASSERT(!in_buf(p[0], buf, sizeof(buf)));
	memset(p[0], 0xee, 200);
	TEST_EQUALS(1, allocs_since(&before));
	/* The buffer's contents survived the switch. */
	TEST_EQUALS(3, p[3][39]);
	TEST_EQUALS(4 * 40 + 200, a.used);

	arena_reset(&a);
	TEST_EQUALS(0, a.used);
	TEST_ASSERT(a.heap == NULL);
	/* After a reset the caller's buffer serves first again. */
	p[0] = arena_alloc(&a, 8);
	TEST_ASSERT(p[0] == buf);
out:
	arena_reset(&a);
	return err;
}

TEST(test_arena_alignment)
{
	alignas(max_align_t) char buf[512];
	static const size_t sizes[] = {1, 3, 7, 13, 16, 31, 100, 5000, 2, 9000, 1};
	struct arena a;
	int err = 0;

	/* A misaligned buffer must not give misaligned pointers. */
	arena_init(&a, buf + 1, sizeof(buf) - 1, 0);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			char *p = arena_alloc(&a, sizes[i]);

			TEST_ASSERT(p);
			TEST_EQUALS(0, (uintptr_t)p % alignof(max_align_t));
			memset(p, 0x5a, sizes[i]); /* ASan checks the whole size is ours */
		}
	}
	TEST_ASSERT(arena_alloc(&a, 0) != NULL);
out:
	arena_reset(&a);
	return err;
}

TEST(test_arena_limit)
{
	struct mem_stats before, after;
	struct arena a;
	int err = 0;

	mem_stats_get(&before);
	arena_init(&a, NULL, 0, 100);
	TEST_ASSERT(arena_alloc(&a, 60));
	TEST_ASSERT(arena_alloc(&a, 41) == NULL);
	TEST_ASSERT(arena_alloc(&a, 40));
	TEST_EQUALS(100, a.used);
	TEST_ASSERT(arena_alloc(&a, 1) == NULL);
	TEST_ASSERT(arena_alloc(&a, SIZE_MAX) == NULL);

	arena_reset(&a);
	mem_stats_get(&after);
	TEST_EQUALS(after.allocs - before.allocs, after.frees - before.frees);
	TEST_ASSERT(arena_alloc(&a, 100));
	TEST_ASSERT(arena_alloc(&a, 1) == NULL);
out:
	arena_reset(&a);
	return err;
}

/* Many chunks without a caller buffer: data stays intact and reset frees all. */
TEST(test_arena_heap_chunks)
{
	struct mem_stats before, after;
	unsigned char *p[200];
	struct arena a;
	int err = 0;

	mem_stats_get(&before);
	arena_init(&a, NULL, 0, 0);
	for (int i = 0; i < 200; i++) {
		p[i] = arena_alloc(&a, 300 + (size_t)i);
		TEST_ASSERT(p[i]);
		memset(p[i], i, 300 + (size_t)i);
	}
	TEST_ASSERT(allocs_since(&before) > 1);
	for (int i = 0; i < 200; i++) {
		TEST_EQUALS(i, p[i][0]);
		TEST_EQUALS(i, p[i][299 + i]);
	}
	arena_reset(&a);
	mem_stats_get(&after);
	TEST_ASSERT(after.allocs - before.allocs == after.frees - before.frees);
out:
	arena_reset(&a);
	return err;
}

TEST(test_arena_strdup_zalloc)
{
	alignas(max_align_t) char buf[80];
	struct str s = str_make("alice@example.com>", 17);
	unsigned char *z;
	struct arena a;
	char *c;
	int err = 0;

	memset(buf, 0xaa, sizeof(buf));
	arena_init(&a, buf, sizeof(buf), 0);
	z = arena_zalloc(&a, 24);
	TEST_ASSERT(z);
	for (int i = 0; i < 24; i++)
		TEST_EQUALS(0, z[i]);

	c = arena_strdup(&a, &s);
	TEST_ASSERT(c);
	TEST_ASSERT(!strcmp(c, "alice@example.com"));
	c = arena_strdup(&a, &STR_NULL);
	TEST_ASSERT(c);
	TEST_ASSERT(!strcmp(c, ""));
	/* What is left of buf is too small: this one needs the heap. */
	c = arena_strdup(&a, &s);
	TEST_ASSERT(c);
	TEST_ASSERT(!in_buf(c, buf, sizeof(buf)));
	TEST_ASSERT(!strcmp(c, "alice@example.com"));
out:
	arena_reset(&a);
	return err;
}

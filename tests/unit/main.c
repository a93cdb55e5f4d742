/*
 * The unit-test runner: runs every registered test (or those whose name
 * contains one of the arguments: `unit-tests test_store_ test_prov_`),
 * checks each for leaks by counting allocations, and with --oom repeats
 * each test failing one allocation after another.
 *
 * Ends with the plain summary line "N passed, M failed" that CI reads.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "test.h"

#ifndef TEST_DATA_DIR
#define TEST_DATA_DIR "tests/data"
#endif

struct test_entry {
	const char *name;
	const char *file;
	test_fn *fn;
};

/* Filled by constructors before main(); read-only afterwards. */
static struct test_entry tests[1024];
static size_t ntests;
static bool oom_mode;
static unsigned failures_in_test;

void test_register(const char *name, test_fn *fn, const char *file)
{
	if (ntests == sizeof(tests) / sizeof(tests[0])) {
		fprintf(stderr, "too many tests; raise the table size in %s\n", __FILE__);
		abort();
	}
	tests[ntests++] = (struct test_entry){name, file, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	failures_in_test++;
	if (oom_mode)
		return; /* under injected failures, assertions are expected to trip */
	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool test_oom_mode(void)
{
	return oom_mode;
}

const char *test_data_dir(void)
{
	const char *d = getenv("TEST_DATA_DIR");

	return d && *d ? d : TEST_DATA_DIR;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct test_entry *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : strcmp(x->name, y->name);
}

/* Run once; returns 0 when the test passed and freed all it allocated. */
static int run_one(const struct test_entry *t)
{
	struct mem_stats before, after;
	int err;

	failures_in_test = 0;
	mem_stats_get(&before);
	err = t->fn();
	mem_stats_get(&after);
	if (after.allocs - before.allocs != after.frees - before.frees) {
		fprintf(stderr, "  %s: leaked %lld allocation(s)\n", t->name,
			(long long)((after.allocs - before.allocs) - (after.frees - before.frees)));
		return -1;
	}
	if (err && !oom_mode)
		return err;
	return 0;
}

/* Fail allocation 1, 2, 3... until a run completes without reaching the failure. */
static int run_oom(const struct test_entry *t)
{
	for (uint64_t n = 1; n < 100000; n++) {
		mem_fail_at(n);
		if (run_one(t))
			return -1;
		if (mem_fail_pending() != 0) {
			mem_fail_at(0);
			return 0; /* the test did fewer than n allocations: all covered */
		}
	}
	mem_fail_at(0);
	return 0;
}

static bool matches(const char *name, const char *const *filters, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strstr(name, filters[i]))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	unsigned passed = 0, failed = 0;
	const char *filters[16];
	size_t nfilters = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--oom"))
			oom_mode = true;
		else if (!strcmp(argv[i], "--list")) {
			for (size_t k = 0; k < ntests; k++)
				printf("%s\n", tests[k].name);
			return 0;
		} else if (nfilters < sizeof(filters) / sizeof(filters[0])) {
			filters[nfilters++] = argv[i];
		} else {
			fprintf(stderr, "too many filters\n");
			return 2;
		}
	}
	qsort(tests, ntests, sizeof(tests[0]), cmp_entry);
	for (size_t k = 0; k < ntests; k++) {
		const struct test_entry *t = &tests[k];
		int err;

		if (nfilters && !matches(t->name, filters, nfilters))
			continue;
		err = oom_mode ? run_oom(t) : run_one(t);
		if (err) {
			printf("FAIL %s (%s)\n", t->name, t->file);
			failed++;
		} else {
			passed++;
		}
	}
	printf("unit%s: %u passed, %u failed\n", oom_mode ? " (oom)" : "", passed, failed);
	return failed ? 1 : 0;
}

/*
 * test: the unit-test runner's interface.
 *
 * A test is `TEST(name) { int err = 0; ...; out: cleanup; return err; }`. The
 * TEST_* macros record the failure with file and line, set err and jump to
 * out:, so cleanup always runs. The runner counts allocations around each
 * test (a difference is a leak and fails it) and, with --oom, fails the 1st,
 * 2nd, 3rd... allocation in turn: each run must end without a crash or leak.
 */
#ifndef TEST_H
#define TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "base/err.h"
#include "base/str.h"

typedef int(test_fn)(void);

void test_register(const char *name, test_fn *fn, const char *file);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* True while the runner injects allocation failures (--oom). */
bool test_oom_mode(void);
/* Path of the tests' data folder (tests/data), from the build. */
const char *test_data_dir(void);

#define TEST(name)                                                     \
	static int name(void);                                         \
	__attribute__((constructor)) static void name##_register(void) \
	{                                                              \
		test_register(#name, name, __FILE__);                  \
	}                                                              \
	static int name(void)

#define TEST_ERR(e)                                                                              \
	do {                                                                                     \
		int e_ = (e);                                                                    \
		if (e_) {                                                                        \
			test_fail(__FILE__, __LINE__, "%s: error %d (%s)", #e, e_, err_str(e_)); \
			err = e_ < 0 ? e_ : -EINVAL;                                             \
			goto out;                                                                \
		}                                                                                \
	} while (0)

#define TEST_ASSERT(cond)                                                             \
	do {                                                                          \
		if (!(cond)) {                                                        \
			test_fail(__FILE__, __LINE__, "assertion failed: %s", #cond); \
			err = -EINVAL;                                                \
			goto out;                                                     \
		}                                                                     \
	} while (0)

#define TEST_EQUALS(exp, act)                                                                    \
	do {                                                                                     \
		long long e_ = (long long)(exp), a_ = (long long)(act);                          \
		if (e_ != a_) {                                                                  \
			test_fail(__FILE__, __LINE__, "%s == %s: expected %lld, got %lld", #exp, \
				  #act, e_, a_);                                                 \
			err = -EINVAL;                                                           \
			goto out;                                                                \
		}                                                                                \
	} while (0)

/* Compare a struct str (value, not pointer) with a C string. */
#define TEST_STR(expcstr, s)                                                                       \
	do {                                                                                       \
		struct str s_ = (s);                                                               \
		const char *x_ = (expcstr);                                                        \
		if (s_.len != strlen(x_) || (s_.len && memcmp(s_.p, x_, s_.len) != 0)) {           \
			test_fail(__FILE__, __LINE__, "%s: expected \"%s\", got \"%.*s\"", #s, x_, \
				  (int)s_.len, s_.p ? s_.p : "");                                  \
			err = -EINVAL;                                                             \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

#endif

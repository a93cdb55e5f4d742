/*
 * fuzz.h: helpers shared by the libFuzzer targets in this folder.
 *
 * The targets check contracts the headers promise (views stay inside the
 * buffer they borrow, out-parameters are written on success only, what we
 * print parses again) on top of what ASan and UBSan catch. A broken contract
 * prints one line naming the check and aborts, so libFuzzer saves the input.
 * Not a test framework: nothing here is used outside fuzz/.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                       \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz: %s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                        \
			abort();                                                               \
		}                                                                              \
	} while (0)

/* Folded into by fuzz_view() so the reads it makes cannot be optimised away. */
static volatile uint8_t fuzz_sink;

/*
 * Check that a non-empty view lies inside [@base, @base + @len) and read
 * every byte of it, so ASan sees any view that runs off its buffer.
 */
static inline void fuzz_view(const struct str *s, const char *base, size_t len)
{
	uint8_t x = 0;

	if (!s->len)
		return;
	FUZZ_CHECK(s->p != NULL);
	FUZZ_CHECK(s->p >= base && s->len <= len && (size_t)(s->p - base) <= len - s->len);
	for (size_t i = 0; i < s->len; i++)
		x ^= (uint8_t)s->p[i];
	fuzz_sink ^= x;
}

/* Read every byte of a view that may point anywhere (an arena copy, a constant). */
static inline void fuzz_touch(const struct str *s)
{
	fuzz_view(s, s->p, s->len);
}

/*
 * Exact-size heap copy, so ASan catches a read one byte past the end (a
 * buffer with spare capacity would hide it). Free with free().
 */
static inline char *fuzz_dup(const void *p, size_t len)
{
	char *d = malloc(len ? len : 1);

	FUZZ_CHECK(d != NULL);
	if (len)
		memcpy(d, p, len);
	return d;
}

#endif

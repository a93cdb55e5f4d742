/*
 * clock: thin wrappers over clock_gettime (see clock.h). Both clocks are
 * vDSO calls on Linux, cheap enough to read per event; nothing is cached, so
 * there is no shared state between threads.
 */
#include <time.h>

#include "base/clock.h"

static uint64_t read_ns(clockid_t id)
{
	struct timespec ts;

	/* Cannot fail for these clock ids on any system we run on. */
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t clock_mono_ns(void)
{
	return read_ns(CLOCK_MONOTONIC);
}

uint64_t clock_mono_ms(void)
{
	return read_ns(CLOCK_MONOTONIC) / 1000000u;
}

uint64_t clock_real_ms(void)
{
	return read_ns(CLOCK_REALTIME) / 1000000u;
}

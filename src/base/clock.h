/*
 * clock: time sources. Monotonic time for timers and durations (never jumps
 * with the wall clock), real time only for timestamps people read.
 */
#ifndef BASE_CLOCK_H
#define BASE_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ns(void);
uint64_t clock_mono_ms(void);
/* Milliseconds since the Unix epoch (wall clock). */
uint64_t clock_real_ms(void);

#endif

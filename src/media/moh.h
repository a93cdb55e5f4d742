/*
 * moh: the platform's own default music on hold, synthesized, so a tenant
 * that uploads nothing still gets something pleasant and no third-party
 * recording (and its licence) ships with the product.
 *
 * The music: a slow progression of soft major chords (a pad of sine tones
 * with a touch of second harmonic, crossfaded with raised-cosine envelopes)
 * under a gentle arpeggio of bell-like notes (quick attack, long decay), in
 * the 260-2400 Hz band a telephone carries, peaking below -6 dBFS. Every
 * envelope is laid out on a circle of the loop's length, so the end runs
 * into the start with no seam: play it over and over.
 *
 * Pure computation, no state: any thread. Not a player.
 */
#ifndef MEDIA_MOH_H
#define MEDIA_MOH_H

#include <stddef.h>
#include <stdint.h>

#define MOH_SECONDS_MIN	    4
#define MOH_SECONDS_MAX	    300
#define MOH_SECONDS_DEFAULT 32
#define MOH_PEAK_MAX	    16384 /* -6 dBFS: the level is bounded by construction */

/*
 * A loop of @seconds (MOH_SECONDS_MIN..MAX) at 8000 Hz mono 16-bit into a
 * mem_alloc() buffer *@pcmp of *@np samples (8000 * @seconds) that the
 * caller frees with mem_free(). The same @seconds always gives the same
 * samples. 0, -EINVAL or -ENOMEM.
 */
int moh_generate(int16_t **pcmp, size_t *np, unsigned seconds);

#endif

/*
 * moh: the default music on hold. Each sound (a chord of the pad, a note
 * of the arpeggio) is added into the loop over a window of samples that
 * may run past the end and wrap to the start; its phase and envelope are
 * functions of the time since the window opened, so a sound crossing the
 * loop's end continues at its start exactly as if the loop were played
 * twice in a row. That is why the loop has no seam.
 *
 * Levels are fixed, not normalised: the pad's crossfaded chords sum to at
 * most one chord's amplitude and the arpeggio to a few decaying notes, so
 * the peak stays under MOH_PEAK_MAX whatever the length (the final clamp
 * never acts; it is there so a change of constants cannot wrap samples).
 */
#include <errno.h>
#include <math.h>

#include "base/mem.h"
#include "media/moh.h"

#define RATE	 8000
#define PI	 3.14159265358979323846
#define SLOT_S	 4.0 /* seconds per chord */
#define BEAT_S	 0.6 /* seconds between arpeggio notes */
#define FADE_S	 0.6 /* chord crossfade, each side of the change */
#define NOTE_S	 1.8 /* an arpeggio note's length */
#define ATTACK_S 0.015
#define DECAY_S	 0.45 /* time constant of a note's decay */
#define TAIL_S	 0.04 /* a note's last moment fades to zero: no click */
#define PAD_AMP	 0.06 /* per pad tone, of full scale */
#define ARP_AMP	 0.12

/* I-vi-IV-V, I-iii-IV-V in C major, voiced in the telephone band. */
static const struct chord {
	double pad[3]; /* Hz */
	double arp[4];
} prog[] = {
    {{261.63, 329.63, 392.00}, {523.25, 659.26, 783.99, 659.26}}, /* C */
    {{220.00, 261.63, 329.63}, {440.00, 523.25, 659.26, 523.25}}, /* Am */
    {{220.00, 261.63, 349.23}, {349.23, 440.00, 523.25, 440.00}}, /* F */
    {{246.94, 293.66, 392.00}, {392.00, 493.88, 587.33, 493.88}}, /* G */
    {{261.63, 329.63, 392.00}, {523.25, 659.26, 783.99, 659.26}}, /* C */
    {{246.94, 329.63, 392.00}, {659.26, 783.99, 987.77, 783.99}}, /* Em */
    {{220.00, 261.63, 349.23}, {440.00, 523.25, 659.26, 523.25}}, /* Fmaj7 */
    {{246.94, 293.66, 392.00}, {392.00, 493.88, 587.33, 493.88}}, /* G */
};

#define NCHORDS (sizeof(prog) / sizeof(prog[0]))

static double wave(double hz, double t)
{
	return sin(2 * PI * hz * t);
}

/* A pad chord over @len samples plus @fade on each side, from @w0 on. */
static void add_pad(float *acc, size_t n, size_t w0, size_t len, size_t fade, const struct chord *c)
{
	size_t wl = len + 2 * fade;

	for (size_t d = 0; d < wl; d++) {
		double t = (double)d / RATE, env = 1, s = 0;

		if (d < 2 * fade)
			env = (1 - cos(PI * (double)d / (double)(2 * fade))) / 2;
		else if (d >= len)
			env = (1 + cos(PI * (double)(d - len) / (double)(2 * fade))) / 2;
		for (int k = 0; k < 3; k++) {
			/* A slightly detuned second harmonic: warmth, and audible
			 * on handsets that cut the fundamental. */
			s += wave(c->pad[k], t) + 0.3 * wave(2 * c->pad[k] + 0.5, t);
		}
		acc[(w0 + d) % n] += (float)(PAD_AMP * env * s);
	}
}

static void add_note(float *acc, size_t n, size_t w0, double hz)
{
	size_t wl = (size_t)(NOTE_S * RATE), tail = (size_t)(TAIL_S * RATE);

	for (size_t d = 0; d < wl; d++) {
		double t = (double)d / RATE;
		double env = (t < ATTACK_S ? t / ATTACK_S : 1) * exp(-t / DECAY_S);

		if (d >= wl - tail)
			env *= (double)(wl - d) / (double)tail;
		acc[(w0 + d) % n] +=
		    (float)(ARP_AMP * env *
			    (wave(hz, t) + 0.25 * wave(2 * hz, t) + 0.08 * wave(3 * hz, t)));
	}
}

int moh_generate(int16_t **pcmp, size_t *np, unsigned seconds)
{
	size_t n, slots, fade;
	int16_t *pcm;
	float *acc;

	if (!pcmp || !np || seconds < MOH_SECONDS_MIN || seconds > MOH_SECONDS_MAX)
		return -EINVAL;
	n = (size_t)seconds * RATE;
	slots = (size_t)((double)seconds / SLOT_S + 0.5);
	slots = slots < 2 ? 2 : slots;
	acc = mem_zalloc(n * sizeof(*acc));
	pcm = mem_alloc(n * sizeof(*pcm));
	if (!acc || !pcm) {
		mem_free(acc);
		mem_free(pcm);
		return -ENOMEM;
	}
	fade = (size_t)(FADE_S * RATE);
	if (fade > n / slots / 3)
		fade = n / slots / 3;
	for (size_t k = 0; k < slots; k++) {
		size_t start = k * n / slots, end = (k + 1) * n / slots, len = end - start;
		const struct chord *c = &prog[k % NCHORDS];
		size_t beats = (size_t)((double)len / (BEAT_S * RATE) + 0.5);

		/* The window opens @fade before the chord: modulo n, so chord 0
		 * fades in at the end of the loop, under the last one fading out. */
		add_pad(acc, n, (start + n - fade) % n, len, fade, c);
		beats = beats ? beats : 1;
		for (size_t b = 0; b < beats; b++)
			add_note(acc, n, start + b * len / beats, c->arp[b % 4]);
	}
	for (size_t i = 0; i < n; i++) {
		double v = (double)acc[i] * 32767.0;

		v = v > MOH_PEAK_MAX - 1      ? MOH_PEAK_MAX - 1
		    : v < -(MOH_PEAK_MAX - 1) ? -(MOH_PEAK_MAX - 1)
					      : v;
		pcm[i] = (int16_t)lrint(v);
	}
	mem_free(acc);
	*pcmp = pcm;
	*np = n;
	return 0;
}

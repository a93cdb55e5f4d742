/*
 * g711: ITU-T G.711 μ-law and A-law companding between 16-bit linear PCM
 * and 8-bit codes, for single samples and buffers.
 *
 * The results are bit-exact with the ITU-T G.191 reference implementation
 * (linear 0 gives 0xFF in μ-law and 0xD5 in A-law; a negative sample is
 * taken as its one's complement, so -1 companding like 0 but negative).
 * μ-law keeps 14 bits of the input and clips above 8158 << 2; A-law keeps 13.
 *
 * Pure functions on the caller's memory: no state, no allocation, any
 * thread. Not a transcoder between the two laws or a packet loss concealer.
 */
#ifndef MEDIA_G711_H
#define MEDIA_G711_H

#include <stddef.h>
#include <stdint.h>

uint8_t g711_ulaw_encode(int16_t s);
int16_t g711_ulaw_decode(uint8_t u);
uint8_t g711_alaw_encode(int16_t s);
int16_t g711_alaw_decode(uint8_t a);

/* @n samples from @src to @dst; the buffers must not overlap. */
void g711_ulaw_encode_buf(uint8_t *dst, const int16_t *src, size_t n);
void g711_ulaw_decode_buf(int16_t *dst, const uint8_t *src, size_t n);
void g711_alaw_encode_buf(uint8_t *dst, const int16_t *src, size_t n);
void g711_alaw_decode_buf(int16_t *dst, const uint8_t *src, size_t n);

#endif

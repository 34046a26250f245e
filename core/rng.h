/*
 * rng.h — counter-based random numbers: Philox4x32-10 keyed by (seed, step, particle, stream).
 *
 * Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC11 (2011). A counter-based
 * generator has no state: the numbers for atom i at step s are a pure function of (seed, s, i, stream), so a GPU
 * thread computes exactly what the CPU reference computes, in any order, and a restarted run draws the same numbers
 * as an uninterrupted one. The conversions below are specified to the bit so every backend can reproduce them:
 *   counter = {index, stream, (uint32)step, (uint32)(step >> 32)}, key = {(uint32)seed, (uint32)(seed >> 32)}
 *   uniform from one 32-bit word x:      u = (x + 0.5) * 2^-32            (never 0, never 1)
 *   normal pair from words (a, b):       sqrt(-2 ln u(a)) * (cos, sin)(2 pi u(b))    (Box-Muller)
 */
#ifndef FS_RNG_H
#define FS_RNG_H

#include <stdint.h>

/* Which use of random numbers a draw belongs to, so that different uses never share a counter. */
enum {
    FS_RNG_STREAM_SD = 1,         /* Langevin O-step noise, index = atom */
    FS_RNG_STREAM_VRESCALE = 2,   /* Bussi thermostat, index = draw number */
    FS_RNG_STREAM_BAROSTAT = 3,   /* MC barostat trial and acceptance, index = draw number */
    FS_RNG_STREAM_VELOCITIES = 4, /* Maxwell-Boltzmann initial velocities, index = atom */
    FS_RNG_STREAM_BUILDER = 5     /* system builders */
};

/* One Philox4x32-10 block. */
void fs_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* One Philox4x32 block with `rounds` rounds (Random123's philox4x32_R; 10 is the generator used everywhere, other
 * counts exist for the published 7-round known answers and for tests). */
void fs_philox4x32_rounds(const uint32_t ctr[4], const uint32_t key[2], int rounds, uint32_t out[4]);

/* The word-to-number conversions above, for code that draws one Philox block and converts its words itself. */
double fs_rng_u01(uint32_t x);                               /* (x + 0.5) * 2^-32 */
void fs_rng_box_muller(uint32_t a, uint32_t b, double z[2]); /* sqrt(-2 ln u(a)) * (cos, sin)(2 pi u(b)) */

/* The Philox block of (seed, step, index, stream), with counter and key laid out as above. */
void fs_rng_block(uint64_t seed, uint64_t step, uint32_t index, uint32_t stream, uint32_t out[4]);

/* Four uniform numbers in (0, 1) for (seed, step, index, stream), from one block. */
void fs_rng_uniform4(uint64_t seed, uint64_t step, uint32_t index, uint32_t stream, double out[4]);

/* Four standard normal numbers for (seed, step, index, stream), from one block by Box-Muller. */
void fs_rng_normal4(uint64_t seed, uint64_t step, uint32_t index, uint32_t stream, double out[4]);

#endif

/*
 * rng.c — Philox4x32-10 and the conversions of its words into uniform and normal numbers.
 *
 * Philox (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC11, 2011) is a keyed
 * bijection of 128-bit counters: a random number is f_key(counter), so it needs no state and any thread can compute
 * any number. One round of Philox4x32 maps the counter words (c0, c1, c2, c3) with the round key (k0, k1) to
 *   (hi(M1 c2) ^ c1 ^ k0,  lo(M1 c2),  hi(M0 c0) ^ c3 ^ k1,  lo(M0 c0)),
 * where hi/lo are the upper and lower 32 bits of the 64-bit product, M0 = 0xD2511F53 and M1 = 0xCD9E8D57. Between
 * rounds the key is bumped by the Weyl constants W0 = 0x9E3779B9 (golden ratio) and W1 = 0xBB67AE85 (sqrt 3 - 1):
 * round r (r = 0, 1, ...) uses key + r (W0, W1) mod 2^32. Ten rounds is the variant Random123 recommends and the
 * one its known-answer file (tests/kat_vectors) lists as "philox4x32 10"; test_rng checks those vectors.
 *
 * Layout (rng.h): counter = {index, stream, lo32(step), hi32(step)}, key = {lo32(seed), hi32(seed)}, so the
 * numbers of atom i at step s for one use never coincide with those of another atom, step, use or seed.
 * Conversions:
 *   u(x) = (x + 0.5) 2^-32 lies in [2^-33, 1 - 2^-33]: never 0 (ln u is finite) and never 1. Both the sum and the
 *   product are exact in double precision, so every backend computing in double gets the same bits.
 *   Box-Muller: with u1 = u(a), u2 = u(b), z0 = sqrt(-2 ln u1) cos(2 pi u2) and z1 = sqrt(-2 ln u1) sin(2 pi u2) are
 *   two independent standard normals (Box & Muller, Ann. Math. Stat. 29, 610 (1958)). The smallest u1 = 2^-33
 *   bounds |z| <= sqrt(66 ln 2) = 6.76: the normal tail beyond it (probability 1.4e-11) is cut, which no MD
 *   observable can notice.
 */
#include "rng.h"

#include <math.h>

#include "units.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void fs_philox4x32_rounds(const uint32_t ctr[4], const uint32_t key[2], int rounds, uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < rounds; ++r) {
        if (r > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n1 = (uint32_t)p1;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        uint32_t n3 = (uint32_t)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void fs_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    fs_philox4x32_rounds(ctr, key, 10, out);
}

void fs_rng_block(uint64_t seed, uint64_t step, uint32_t index, uint32_t stream, uint32_t out[4])
{
    const uint32_t ctr[4] = {index, stream, (uint32_t)step, (uint32_t)(step >> 32)};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    fs_philox4x32_10(ctr, key, out);
}

double fs_rng_u01(uint32_t x)
{
    return ((double)x + 0.5) * (1.0 / 4294967296.0);
}

void fs_rng_box_muller(uint32_t a, uint32_t b, double z[2])
{
    double r = sqrt(-2.0 * log(fs_rng_u01(a)));
    double phi = 2.0 * FS_PI * fs_rng_u01(b);
    z[0] = r * cos(phi);
    z[1] = r * sin(phi);
}

void fs_rng_uniform4(uint64_t seed, uint64_t step, uint32_t index, uint32_t stream, double out[4])
{
    uint32_t w[4];
    fs_rng_block(seed, step, index, stream, w);
    for (int k = 0; k < 4; ++k) out[k] = fs_rng_u01(w[k]);
}

void fs_rng_normal4(uint64_t seed, uint64_t step, uint32_t index, uint32_t stream, double out[4])
{
    uint32_t w[4];
    fs_rng_block(seed, step, index, stream, w);
    fs_rng_box_muller(w[0], w[1], out);
    fs_rng_box_muller(w[2], w[3], out + 2);
}

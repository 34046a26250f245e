/*
 * accum.h — where the CPU reference's force terms put their results.
 *
 * Every term module adds (+=) its forces into f, its energy into term[FS_TERM_x] and its virial contribution
 * Xi = -1/2 sum r (x) F into virial. The caller zeroes the accumulator once per force evaluation; modules never
 * zero it, so they can run in any order.
 */
#ifndef FS_CPU_ACCUM_H
#define FS_CPU_ACCUM_H

#include "../backend.h"

typedef struct {
    double *f[3];        /* forces, length natoms each, accumulated */
    double virial[3][3]; /* Xi, accumulated */
    double term[FS_TERM_COUNT];
} fs_accum;

/* Adds -1/2 d (x) F to the virial: the contribution of a pair force F acting on atom i, -F on atom j, where
 * d = r_i - r_j (minimum image). */
static inline void fs_accum_pair_virial(fs_accum *a, const double d[3], const double F[3])
{
    for (int x = 0; x < 3; ++x)
        for (int y = 0; y < 3; ++y) a->virial[x][y] -= 0.5 * d[x] * F[y];
}

#endif

/*
 * ewald.h — the plain Ewald sum over reciprocal vectors: the reference PME is tested against.
 *
 * E_recip = f/(2V) sum_{k != 0, |k| <= kmax} (4 pi / k^2) exp(-k^2 / (4 beta^2)) |S(k)|^2, S(k) = sum_j q_j
 * exp(i k.r_j), with forces and virial. O(N * K); meant for tests and small systems.
 */
#ifndef FS_CPU_EWALD_H
#define FS_CPU_EWALD_H

#include "../../core/box.h"
#include "../../core/status.h"
#include "accum.h"

/* Adds reciprocal-space energy (to FS_TERM_COUL_RECIP), forces and virial. kmax[d] = the largest |m_d| of the
 * integer wave vectors m; any kmax[d] <= 0 means: choose kmax so that the omitted terms are below 1e-12 relative
 * (the Gaussian factor exp(-pi^2 m^2/(beta L)^2) falls under that). */
fs_status fs_ewald_recip(const fs_box *box, int natoms, double *const r[3], const double *q, double beta,
                         double coulomb, const int kmax[3], fs_accum *acc);

#endif

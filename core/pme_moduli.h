/*
 * pme_moduli.h — cardinal B-spline weights and GROMACS's B-spline moduli for smooth PME, shared by every backend.
 *
 * The CPU reference (kernels/cpu/pme.c) and the device PME (kernels/gpu/gpu_pme.c) must divide by the same moduli
 * to the last bit, so both call these functions; the equations are in core/pme_moduli.c.
 */
#ifndef FS_PME_MODULI_H
#define FS_PME_MODULI_H

/* th[j] = M_n(w + j) and dth[j] = M_dn(w + j) - M_dn(w + j - 1), j = 0..n-1, for 0 <= w < 1 and 3 <= n <= 16
 * (dn = n - 1 gives the derivative of M_n; 1 <= dn <= n - 1). th and dth hold n values each. */
void fs_bspline_weights(double w, int n, int dn, double *th, double *dth);

/* GROMACS's B-spline moduli |b(i)|^-2, i = 0..n-1, for a grid of n points and spline order p (3..12) into mod[n].
 * Returns 1, or 0 when a modulus other than the fixed-up Nyquist one vanishes (a grid too small for the order). */
int fs_bspline_moduli(int n, int p, double *mod);

#endif

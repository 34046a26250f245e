/*
 * ewald_setup.c — the Ewald splitting parameter and the PME grid, chosen exactly as GROMACS chooses them.
 *
 * Splitting parameter. Ewald summation splits 1/r = erfc(beta r)/r + erf(beta r)/r; the first part is summed in
 * real space up to the cut-off rc, the second in reciprocal space. GROMACS's ewald-rtol is the relative size of
 * the real-space potential at the cut-off, erfc(beta rc) = rtol, and grompp/mdrun find beta by bisection
 * (calc_ewaldcoeff_q in src/gromacs/ewald/ewald_utils.cpp):
 *   1. start from beta = 5 and double it, counting the doublings i, until erfc(beta rc) <= rtol;
 *   2. bisect on [0, beta] for i + 60 steps, keeping erfc(low rc) > rtol >= erfc(high rc), and return the last
 *      midpoint.
 * We repeat that procedure step for step (same start, same iteration count, same comparison, double precision as
 * gmx_d), so that a given ewald-rtol gives the same beta to the last bit; e.g. rc = 1 nm, rtol = 1e-5 gives
 * beta = 3.12341 nm^-1.
 *
 * PME grid. GROMACS picks each grid dimension from a list of sizes that FFTW transforms quickly
 * (calcFftGrid in src/gromacs/fft/calcgrid.cpp): the smallest size n with L/n <= fourierspacing, i.e.
 * n >= nmin = (int)(L / spacing + 0.999), and n >= 2 (pme_order - 1) (minimalPmeGridSize). The allowed sizes are
 *   small:  6 8 10 12 14 16 20 24 25 28 32 36 40 42 44
 *   larger: 2^k * b for b in {48 50 52 54 56 60 64 70 72 75 80 81 84} (k >= 0), keeping only multiples of 4 other
 *           than 140 (90 would be allowed but is never reached: GROMACS's search stops before the base size 45).
 * For sizes above 44 GROMACS first finds the smallest power of two 2^k with 84 * 2^k >= nmin and then the
 * smallest allowed 2^k * b >= nmin for that k. A 6.2 nm box with spacing 0.12 nm gives nmin = 52 and n = 52.
 * fourier-nx/ny/nz (fourier_n[d] > 0) override the choice per axis. A grid smaller than 2 (pme_order - 1) along any
 * axis is rejected, as grompp rejects it ("The PME grid size should be >= 2*(pme-order - 1)").
 */
#include "ewald_setup.h"
#include "units.h"

#include <math.h>

double fs_ewald_beta(double rc, double rtol)
{
    if (!(rc > 0) || !(rtol > 0) || !(rtol < 1)) return NAN;

    double beta = 5;
    int i = 0;
    do {
        ++i;
        beta *= 2;
    } while (erfc(beta * rc) > rtol);

    /* Bisection with tolerance 2^-60 relative to the bracket, as GROMACS does. */
    const int n = i + 60;
    double low = 0, high = beta;
    for (i = 0; i < n; ++i) {
        beta = (low + high) / 2;
        if (erfc(beta * rc) > rtol)
            low = beta;
        else
            high = beta;
    }
    return beta;
}

/* GROMACS's lists of FFT-friendly grid sizes (calcgrid.cpp): used directly up to 44, times powers of two above. */
static const int g_small_sizes[] = {6, 8, 10, 12, 14, 16, 20, 24, 25, 28, 32, 36, 40, 42, 44};
static const int g_base_sizes[] = {45, 48, 50, 52, 54, 56, 60, 64, 70, 72, 75, 80, 81, 84};
#define FS_NSMALL ((int)(sizeof g_small_sizes / sizeof g_small_sizes[0]))
#define FS_NBASE ((int)(sizeof g_base_sizes / sizeof g_base_sizes[0]))

/* The grid size for one axis of length len: the smallest allowed size >= max(nmin from the spacing, min_size). */
static int nice_grid_size(double len, double spacing, int min_size)
{
    int nmin = (int)(len / spacing + 0.999);
    if (nmin < min_size) nmin = min_size;

    if (g_small_sizes[FS_NSMALL - 1] >= nmin) {
        int i = FS_NSMALL - 1;
        while (i > 0 && g_small_sizes[i - 1] >= nmin) --i;
        return g_small_sizes[i];
    }

    long fac2 = 1;
    while (fac2 * g_base_sizes[FS_NBASE - 1] < nmin) fac2 *= 2;
    /* Scan the base sizes from the largest down to index 1 (GROMACS's do-while stops before index 0) and keep the
     * last (smallest) acceptable one; 84 * fac2 is always acceptable. */
    long n = fac2 * g_base_sizes[FS_NBASE - 1];
    for (int i = FS_NBASE - 1; i > 0; --i) {
        long attempt = fac2 * g_base_sizes[i];
        if (((attempt % 4 == 0 && attempt != 140) || attempt == 90) && attempt >= nmin) n = attempt;
    }
    return (int)n;
}

fs_status fs_pme_grid_size(const fs_box *box, const fs_forceparams *p, int n[3])
{
    if (p->pme_order < 3 || p->pme_order > 12)
        return fs_fail(FS_ERR_INVALID, "pme-order = %d: must be between 3 and 12", p->pme_order);
    const int min_size = 2 * (p->pme_order - 1);

    for (int d = 0; d < 3; ++d) {
        if (p->fourier_n[d] > 0) {
            n[d] = p->fourier_n[d];
            continue;
        }
        if (!(p->fourierspacing > 0))
            return fs_fail(FS_ERR_INVALID, "fourierspacing = %g nm: must be > 0 when fourier-n%c is not set",
                           p->fourierspacing, "xyz"[d]);
        if (!(box->len[d] > 0) || !isfinite(box->len[d]))
            return fs_fail(FS_ERR_INVALID, "box edge %c = %g nm: cannot choose a PME grid", "xyz"[d], box -> len[d]);
        if (box->len[d] / p->fourierspacing > 1e6)
            return fs_fail(FS_ERR_INVALID, "PME grid along %c would exceed 1e6 points (box %g nm, spacing %g nm)",
                           "xyz"[d], box -> len[d], p -> fourierspacing);
        n[d] = nice_grid_size(box->len[d], p->fourierspacing, min_size);
    }

    for (int d = 0; d < 3; ++d) {
        if (n[d] < min_size)
            return fs_fail(FS_ERR_INVALID,
                           "PME grid %dx%dx%d: every dimension must be >= 2*(pme-order - 1) = %d for pme-order %d; "
                           "increase fourier-nx/ny/nz or decrease pme-order",
                           n[0], n[1], n[2], min_size, p->pme_order);
    }
    return FS_OK;
}

double fs_ewald_net_charge_energy(double qsum, double volume, double beta, double coulomb)
{
    return -FS_PI * coulomb * qsum * qsum / (2.0 * volume * beta * beta);
}

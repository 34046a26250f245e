/*
 * pme_moduli.c — cardinal B-splines and the B-spline moduli of smooth PME (Essmann et al., J. Chem. Phys. 103,
 * 8577 (1995)), as GROMACS computes them.
 *
 * Weights. M_1 is the indicator of [0, 1); M_k(x) = [x M_{k-1}(x) + (k - x) M_{k-1}(x - 1)] / (k - 1) (Essmann
 * et al., eq. 4.1). For an offset 0 <= w < 1 inside a grid cell the n nonzero values M_n(w + j), j = 0..n-1, are
 * built in place by that recursion; the derivative is M_n'(x) = M_{n-1}(x) - M_{n-1}(x - 1), taken from the
 * order-(n-1) values on the way (a test may ask for a lower order dn to build a deliberately wrong derivative).
 *
 * Moduli. The interpolation exp(2 pi i m u / n) ~= b(m) sum_k M_p(u - k) exp(2 pi i m k / n) has
 *
 *     |b(m)|^-2 = |sum_{j=0}^{p-2} M_p(j + 1) exp(2 pi i m (j + 1) / n)|^2,
 *
 * computed here term by term as GROMACS's make_bspline_moduli does (src/gromacs/ewald/calculate_spline_moduli.cpp):
 * for odd p and even n the sum vanishes at the Nyquist index m = n/2, and the modulus there is replaced by the mean
 * of its two neighbours (after Darden's original code). Any other modulus below 1e-10 means the grid is too small
 * for the order and is reported.
 *
 * Both backends call these functions, so that the device influence function divides by exactly the moduli of the
 * CPU reference.
 */
#include "pme_moduli.h"

#include "units.h"

#include <math.h>

void fs_bspline_weights(double w, int n, int dn, double *th, double *dth)
{
    th[0] = 1.0;
    for (int j = 1; j < n; ++j) th[j] = 0.0;
    for (int k = 2; k <= n; ++k) {
        if (k - 1 == dn) {
            dth[0] = th[0];
            for (int j = 1; j < n; ++j) dth[j] = th[j] - th[j - 1];
        }
        const double div = 1.0 / (k - 1);
        for (int j = k - 1; j >= 1; --j) th[j] = div * ((w + j) * th[j] + (k - w - j) * th[j - 1]);
        th[0] = div * w * th[0];
    }
}

int fs_bspline_moduli(int n, int p, double *mod)
{
    double data[16], dummy[16];
    fs_bspline_weights(0.0, p, p - 1, data, dummy); /* data[j] = M_p(j), data[0] = 0 */
    const int spline_order = p - 1;                 /* number of nonzero samples M_p(1..p-1) */
    for (int i = 0; i < n; ++i) {
        double sc = 0, ss = 0;
        for (int j = 0; j < spline_order; ++j) {
            const double arg = (2.0 * FS_PI * i * (j + 1)) / n;
            sc += data[j + 1] * cos(arg);
            ss += data[j + 1] * sin(arg);
        }
        mod[i] = sc * sc + ss * ss;
    }
    if (spline_order % 2 == 0 && n % 2 == 0) mod[n / 2] = 0.5 * (mod[n / 2 - 1] + mod[n / 2 + 1]);
    for (int i = 0; i < n; ++i)
        if (!(mod[i] > 1e-10)) return 0;
    return 1;
}

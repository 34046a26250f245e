/*
 * pme.c — smooth particle-mesh Ewald (SPME; Essmann et al., J. Chem. Phys. 103, 8577 (1995)), CPU reference.
 *
 * What it computes. The reciprocal-space part of the Ewald sum for N point charges q_j in an orthorhombic box
 * L0 x L1 x L2 (volume V), periodic along all three axes:
 *
 *     E = f/(2 pi V) sum_{m != 0} exp(-pi^2 m^2 / beta^2) / m^2 |S(m)|^2,     S(m) = sum_j q_j exp(2 pi i m.r_j),
 *
 * with m = (m0/L0, m1/L1, m2/L2) for integer m_d and f = 1/(4 pi eps0 eps_r) (the caller's `coulomb`). GROMACS
 * reports this as "Coul. recip."; the real-space part, the excluded-pair correction and the self term are computed
 * by the non-bonded kernel.
 *
 * The approximation. Write u_jd = n_d r_jd / L_d for the scaled fractional coordinate of atom j on a grid of n_d
 * points. SPME replaces exp(2 pi i m_d u_jd / n_d) by its cardinal B-spline interpolation of order p (M_p is the
 * p-fold convolution of the unit box; it is nonzero on (0, p) and p-2 times continuously differentiable):
 *
 *     exp(2 pi i m u / n) ~= b(m) sum_k M_p(u - k) exp(2 pi i m k / n),
 *     |b(m)|^-2 = |sum_{k=0}^{p-2} M_p(k + 1) exp(2 pi i m (k + 1) / n)|^2            ("B-spline moduli").
 *
 * Then S(m) ~= b0 b1 b2 F[Q](m), where Q is the charge grid Q(k) = sum_j q_j prod_d M_p(u_jd - k_d) (k taken modulo
 * n_d) and F[Q] its discrete Fourier transform, so
 *
 *     E = 1/2 sum_m G(m) |F[Q](m)|^2,   G(m) = f exp(-pi^2 m^2 / beta^2) / (pi V m^2 prod_d |b_d(m_d)|^-2),  G(0) = 0.
 *
 * The moduli are computed as GROMACS computes them (make_bspline_moduli in src/gromacs/ewald/
 * calculate_spline_moduli.cpp): for odd p and even n the sum vanishes at the Nyquist index m = n/2, and the modulus
 * there is replaced by the mean of its two neighbours (following Darden's original code; Essmann et al. note that
 * the term may be dropped). Integer indices map to frequencies as in GROMACS: i < (n+1)/2 gives m = i, otherwise
 * m = i - n (so the Nyquist index of an even grid counts as -n/2; only the sign of the off-diagonal virial of
 * that plane depends on this choice). The weights and the moduli come from core/pme_moduli.c, which the device PME
 * calls too.
 *
 * Forces. Because E = 1/2 Q.(phi), phi = F^-1[G F[Q]] (the convolution of Q with the real, even kernel F^-1[G]),
 * and Q depends on r_j only through the splines,
 *
 *     F_jd = -dE/dr_jd = -q_j (n_d / L_d) sum_k M_p'(u_jd - k_d) prod_{e != d} M_p(u_je - k_e) phi(k),
 *
 * with M_p'(x) = M_{p-1}(x) - M_{p-1}(x - 1). These are the exact gradients of the SPME energy, so energy is
 * conserved; momentum is not exactly (the net force is of the size of the interpolation error).
 *
 * Net charge. The m = 0 term is left out (tin-foil boundary conditions). For a system with net charge Q, GROMACS
 * adds the energy of a neutralizing background, -f pi Q^2 / (2 V beta^2), to "Coul. recip."; this module does not.
 *
 * Virial. Under an affine strain of box and coordinates the grid Q does not change (fractional coordinates are
 * fixed); only V and the reciprocal vectors do. With E_m = 1/2 G(m) |F[Q](m)|^2 this gives the standard SPME tensor
 *
 *     Xi_ab = 1/2 dE/d(eps_ab) = 1/2 sum_m E_m [2 (1 + pi^2 m^2 / beta^2) m_a m_b / m^2 - delta_ab]
 *
 * (GROMACS's solve_pme_yzx computes the same sum).
 *
 * Algorithm per call: (1) for every atom and axis, the grid cell i0 = floor(u), the offset w = u - i0 and the p
 * weights M_p(w + j) and derivatives, j = 0..p-1, belonging to grid points i0 - j (wrapped), by the recursion
 * M_k(x) = [x M_{k-1}(x) + (k - x) M_{k-1}(x - 1)] / (k - 1); (2) spread q_j times the product of weights onto the
 * real grid; (3) real-to-complex FFT (FFTW, planned once at creation); (4) over the half-complex grid (weight 2
 * for the planes that stand for a conjugate pair) accumulate E and Xi and multiply by G; (5) complex-to-real FFT,
 * giving phi; (6) gather the forces with the derivative weights. Costs: O(N p^3) for (2) and (6), O(K log K) for the
 * FFTs of the K = n0 n1 n2 point grid.
 *
 * FFTW planning is not thread-safe: fs_pme_create/fs_pme_destroy must not run concurrently with other FFTW
 * planning; fs_pme_compute on distinct fs_pme objects may run in parallel.
 */
#include "pme.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/pme_moduli.h"
#include "../../core/units.h"

struct fs_pme {
    int n[3];
    int order;
    double beta;
    int natoms;
    fs_pme_fault fault;
    double *bsp_mod[3];  /* |b_d(i)|^-2, i = 0..n_d-1 */
    double *grid;        /* real grid, n0*n1*n2, row-major (z fastest) */
    fftw_complex *cgrid; /* half-complex grid, n0*n1*(n2/2+1) */
    fftw_plan forward;   /* grid -> cgrid */
    fftw_plan backward;  /* cgrid -> grid (unnormalized) */
    int *idx[3];         /* natoms*order wrapped grid indices */
    double *theta[3];    /* natoms*order spline weights */
    double *dtheta[3];   /* natoms*order spline derivatives (d/du) */
    double *factor[3];   /* per-axis exp(-pi^2 h^2/beta^2) |b(m)|^2, refreshed per call */
    double *h[3];        /* per-axis reciprocal components m/L, refreshed per call */
};

fs_status fs_pme_create(const int n[3], int order, double beta, int natoms, fs_pme **out)
{
    *out = NULL;
    if (order < 3 || order > 12) return fs_fail(FS_ERR_INVALID, "PME: order %d is outside 3..12", order);
    for (int d = 0; d < 3; ++d)
        if (n[d] < order || n[d] > (1 << 16))
            return fs_fail(FS_ERR_INVALID, "PME: grid %dx%dx%d: each dimension must be in [order = %d, 65536]", n[0],
                           n[1], n[2], order);
    if (!(beta > 0) || !isfinite(beta)) return fs_fail(FS_ERR_INVALID, "PME: Ewald splitting parameter %g", beta);
    if (natoms < 0) return fs_fail(FS_ERR_INVALID, "PME: natoms = %d", natoms);

    fs_pme *pme = calloc(1, sizeof *pme);
    if (!pme) return fs_fail(FS_ERR_NOMEM, "PME: out of memory");
    memcpy(pme->n, n, sizeof pme->n);
    pme->order = order;
    pme->beta = beta;
    pme->natoms = natoms;

    const size_t nreal = (size_t)n[0] * n[1] * n[2];
    const size_t ncomplex = (size_t)n[0] * n[1] * (n[2] / 2 + 1);
    const size_t nw = (size_t)(natoms > 0 ? natoms : 1) * order;
    int ok = 1;
    pme->grid = fftw_malloc(nreal * sizeof *pme->grid);
    pme->cgrid = fftw_malloc(ncomplex * sizeof *pme->cgrid);
    ok = ok && pme->grid && pme->cgrid;
    for (int d = 0; d < 3 && ok; ++d) {
        pme->bsp_mod[d] = malloc((size_t)n[d] * sizeof(double));
        pme->factor[d] = malloc((size_t)n[d] * sizeof(double));
        pme->h[d] = malloc((size_t)n[d] * sizeof(double));
        pme->idx[d] = malloc(nw * sizeof(int));
        pme->theta[d] = malloc(nw * sizeof(double));
        pme->dtheta[d] = malloc(nw * sizeof(double));
        ok = pme->bsp_mod[d] && pme->factor[d] && pme->h[d] && pme->idx[d] && pme->theta[d] && pme->dtheta[d];
    }
    if (!ok) {
        fs_pme_destroy(&pme);
        return fs_fail(FS_ERR_NOMEM, "PME: out of memory for a %dx%dx%d grid and %d atoms", n[0], n[1], n[2], natoms);
    }
    for (int d = 0; d < 3; ++d) {
        if (!fs_bspline_moduli(n[d], order, pme->bsp_mod[d])) {
            fs_pme_destroy(&pme);
            return fs_fail(FS_ERR_INVALID, "PME: B-spline modulus vanishes for grid size %d and order %d", n[d], order);
        }
    }

    /* FFTW_ESTIMATE: deterministic plans that do not touch (or time) the arrays. */
    pme->forward = fftw_plan_dft_r2c_3d(n[0], n[1], n[2], pme->grid, pme->cgrid, FFTW_ESTIMATE);
    pme->backward = fftw_plan_dft_c2r_3d(n[0], n[1], n[2], pme->cgrid, pme->grid, FFTW_ESTIMATE);
    if (!pme->forward || !pme->backward) {
        fs_pme_destroy(&pme);
        return fs_fail(FS_ERR_UNSUPPORTED, "PME: FFTW could not plan a %dx%dx%d transform", n[0], n[1], n[2]);
    }
    *out = pme;
    return FS_OK;
}

void fs_pme_destroy(fs_pme **pme)
{
    if (!pme || !*pme) return;
    fs_pme *p = *pme;
    if (p->forward) fftw_destroy_plan(p->forward);
    if (p->backward) fftw_destroy_plan(p->backward);
    fftw_free(p->grid);
    fftw_free(p->cgrid);
    for (int d = 0; d < 3; ++d) {
        free(p->bsp_mod[d]);
        free(p->factor[d]);
        free(p->h[d]);
        free(p->idx[d]);
        free(p->theta[d]);
        free(p->dtheta[d]);
    }
    free(p);
    *pme = NULL;
}

void fs_pme_set_fault(fs_pme *pme, fs_pme_fault fault)
{
    pme->fault = fault;
}

/* Step (1): grid indices, weights and derivative weights of every atom along every axis. */
static fs_status compute_splines(fs_pme *pme, const fs_box *box, double *const r[3])
{
    const int p = pme->order;
    const int dn = pme->fault == FS_PME_FAULT_LOW_ORDER_DERIV ? p - 2 : p - 1;
    for (int d = 0; d < 3; ++d) {
        const int n = pme->n[d];
        const double inv_len = 1.0 / box->len[d];
        for (int a = 0; a < pme->natoms; ++a) {
            double s = r[d][a] * inv_len;
            s -= floor(s);
            const double u = s * n;
            if (!isfinite(u)) return fs_fail(FS_ERR_NUMERIC, "PME: atom %d has a non-finite coordinate", a);
            int i0 = (int)u;
            const double w = u - i0;
            if (i0 >= n) i0 -= n; /* s rounded up to 1 */
            int *idx = pme->idx[d] + (size_t)a * p;
            fs_bspline_weights(w, p, dn, pme->theta[d] + (size_t)a * p, pme->dtheta[d] + (size_t)a * p);
            for (int j = 0; j < p; ++j) idx[j] = (i0 - j + n) % n;
        }
    }
    return FS_OK;
}

/* Step (2): Q(k) = sum_j q_j prod_d M_p(u_jd - k_d). */
static void spread_charges(fs_pme *pme, const double *q)
{
    const int p = pme->order, n1 = pme->n[1], n2 = pme->n[2];
    memset(pme->grid, 0, (size_t)pme->n[0] * n1 * n2 * sizeof *pme->grid);
    for (int a = 0; a < pme->natoms; ++a) {
        if (q[a] == 0.0) continue;
        const size_t o = (size_t)a * p;
        const int *ix = pme->idx[0] + o, *iy = pme->idx[1] + o, *iz = pme->idx[2] + o;
        const double *tx = pme->theta[0] + o, *ty = pme->theta[1] + o, *tz = pme->theta[2] + o;
        for (int jx = 0; jx < p; ++jx) {
            const double qx = q[a] * tx[jx];
            for (int jy = 0; jy < p; ++jy) {
                const double qxy = qx * ty[jy];
                double *row = pme->grid + ((size_t)ix[jx] * n1 + iy[jy]) * n2;
                for (int jz = 0; jz < p; ++jz) row[iz[jz]] += qxy * tz[jz];
            }
        }
    }
}

/* Step (4): energy and virial from the transformed grid, then multiply it by the influence function G(m). */
static void solve(fs_pme *pme, const fs_box *box, double coulomb, double *energy, double vir[3][3])
{
    const int n0 = pme->n[0], n1 = pme->n[1], n2 = pme->n[2], nzc = n2 / 2 + 1;
    const double beta2 = pme->beta * pme->beta;
    const double pi2_beta2 = FS_PI * FS_PI / beta2;
    const double pref = coulomb / (FS_PI * fs_box_volume(box));

    for (int d = 0; d < 3; ++d) {
        const int n = pme->n[d];
        const int count = d == 2 ? nzc : n;
        for (int i = 0; i < count; ++i) {
            const int m = (d == 2 || i < (n + 1) / 2) ? i : i - n;
            const double h = m / box->len[d];
            const double mod = pme->fault == FS_PME_FAULT_NO_BSPLINE_MODULI ? 1.0 : pme->bsp_mod[d][i];
            pme->h[d][i] = h;
            pme->factor[d][i] = exp(-pi2_beta2 * h * h) / mod;
        }
    }

    double e = 0, v[3][3] = {{0}};
    for (int ix = 0; ix < n0; ++ix) {
        const double hx = pme->h[0][ix], fx = pme->factor[0][ix];
        for (int iy = 0; iy < n1; ++iy) {
            const double hy = pme->h[1][iy], fxy = fx * pme->factor[1][iy];
            fftw_complex *row = pme->cgrid + ((size_t)ix * n1 + iy) * nzc;
            for (int iz = 0; iz < nzc; ++iz) {
                const double hz = pme->h[2][iz];
                const double m2 = hx * hx + hy * hy + hz * hz;
                if (m2 == 0.0) {
                    row[iz][0] = row[iz][1] = 0.0;
                    continue;
                }
                const double eterm = pref * fxy * pme->factor[2][iz] / m2;
                const double re = row[iz][0], im = row[iz][1];
                /* planes 0 < iz < n2/2 stand for themselves and their conjugate partners */
                const double weight = (iz == 0 || 2 * iz == n2) ? 1.0 : 2.0;
                const double em = 0.5 * weight * eterm * (re * re + im * im);
                const double vf = 2.0 * (1.0 + pi2_beta2 * m2) / m2;
                const double hv[3] = {hx, hy, hz};
                e += em;
                for (int a = 0; a < 3; ++a) {
                    for (int b = a; b < 3; ++b) v[a][b] += em * vf * hv[a] * hv[b];
                    v[a][a] -= em;
                }
                row[iz][0] = re * eterm;
                row[iz][1] = im * eterm;
            }
        }
    }
    *energy = e;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) vir[a][b] = 0.5 * (a <= b ? v[a][b] : v[b][a]);
}

/* Step (6): F_jd = -q_j (n_d/L_d) sum_k dM(u_jd - k_d) prod_{e != d} M(u_je - k_e) phi(k). */
static void gather_forces(const fs_pme *pme, const fs_box *box, const double *q, fs_accum *acc)
{
    const int p = pme->order, n1 = pme->n[1], n2 = pme->n[2];
    const double sx = pme->n[0] / box->len[0], sy = pme->n[1] / box->len[1], sz = pme->n[2] / box->len[2];
    for (int a = 0; a < pme->natoms; ++a) {
        if (q[a] == 0.0) continue;
        const size_t o = (size_t)a * p;
        const int *ix = pme->idx[0] + o, *iy = pme->idx[1] + o, *iz = pme->idx[2] + o;
        const double *tx = pme->theta[0] + o, *ty = pme->theta[1] + o, *tz = pme->theta[2] + o;
        const double *dx = pme->dtheta[0] + o, *dy = pme->dtheta[1] + o, *dz = pme->dtheta[2] + o;
        double gx = 0, gy = 0, gz = 0;
        for (int jx = 0; jx < p; ++jx) {
            for (int jy = 0; jy < p; ++jy) {
                const double *row = pme->grid + ((size_t)ix[jx] * n1 + iy[jy]) * n2;
                double s = 0, sd = 0;
                for (int jz = 0; jz < p; ++jz) {
                    const double phi = row[iz[jz]];
                    s += tz[jz] * phi;
                    sd += dz[jz] * phi;
                }
                gx += dx[jx] * ty[jy] * s;
                gy += tx[jx] * dy[jy] * s;
                gz += tx[jx] * ty[jy] * sd;
            }
        }
        acc->f[0][a] -= q[a] * sx * gx;
        acc->f[1][a] -= q[a] * sy * gy;
        acc->f[2][a] -= q[a] * sz * gz;
    }
}

fs_status fs_pme_compute(fs_pme *pme, const fs_box *box, double *const r[3], const double *q, double coulomb,
                         fs_accum *acc)
{
    for (int d = 0; d < 3; ++d) {
        if (!box->periodic[d])
            return fs_fail(FS_ERR_UNSUPPORTED,
                           "PME: the box is not periodic along %c (slab corrections are not "
                           "implemented yet)",
                           "xyz"[d]);
        if (!(box->len[d] > 0) || !isfinite(box->len[d]))
            return fs_fail(FS_ERR_INVALID, "PME: box edge %c = %g nm", "xyz"[d], box -> len[d]);
    }
    fs_status st = compute_splines(pme, box, r);
    if (st != FS_OK) return st;
    spread_charges(pme, q);
    fftw_execute(pme->forward);
    double energy, vir[3][3];
    solve(pme, box, coulomb, &energy, vir);
    fftw_execute(pme->backward);
    gather_forces(pme, box, q, acc);

    acc->term[FS_TERM_COUL_RECIP] += energy;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) acc->virial[a][b] += vir[a][b];
    return FS_OK;
}

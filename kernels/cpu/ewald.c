/*
 * ewald.c — the reciprocal-space Ewald sum, evaluated term by term: the reference that PME is tested against.
 *
 * What it computes. For N charges q_j in an orthorhombic box of volume V, with reciprocal vectors
 * k = 2 pi (m0/L0, m1/L1, m2/L2) for integer m, the structure factor S(k) = sum_j q_j exp(i k.r_j) and
 * A(k) = (4 pi / k^2) exp(-k^2 / (4 beta^2)):
 *
 *     E   = f/(2V) sum_{k != 0} A(k) |S(k)|^2 = f/V sum_{k in H} A(k) |S(k)|^2,
 *     F_j = -dE/dr_j = (2 f/V) q_j sum_{k in H} A(k) k [Re S(k) sin(k.r_j) - Im S(k) cos(k.r_j)],
 *     Xi_ab = 1/2 dE/d(eps_ab) = 1/2 sum_{k in H} E_k [2 (1 + k^2/(4 beta^2)) k_a k_b / k^2 - delta_ab],
 *
 * where H is half of k-space (m0 > 0; or m0 = 0, m1 > 0; or m0 = m1 = 0, m2 > 0): k and -k contribute equally.
 * E_k = f/V A(k) |S(k)|^2 is the energy of the pair {k, -k}. The virial follows because S(k) is invariant under an
 * affine strain of box and coordinates (k.r is), while V grows by tr(eps) and k shrinks as (1 - eps^T) k.
 *
 * The k = 0 term is left out (tin-foil boundary conditions); no neutralizing-background term is added for a net
 * charge.
 *
 * Cut-off. The sum runs over the sphere |m/L| <= h_c with h_c = max_d kmax[d]/L_d, intersected with |m_d| <=
 * kmax[d]. When the caller passes kmax[d] <= 0, h_c is chosen so that the Gaussian factor exp(-pi^2 h^2/beta^2)
 * of every omitted term is below 1e-12: h_c = beta sqrt(ln 1e12) / pi, and kmax[d] = floor(h_c L_d).
 *
 * Algorithm. The phases exp(i m_d 2 pi x_d / L_d) of every atom are built by the recurrence
 * e^{i m t} = e^{i (m-1) t} e^{i t} per axis (m up to kmax; negative m by conjugation), for blocks of atoms at a
 * time so that the tables stay in cache. Pass 1 accumulates S(k) for every k in H (one complex multiply-add per
 * atom and k); pass 2 gathers the forces from S. The k-vectors are enumerated as rows (m0, m1) with a contiguous
 * range of m2, so the innermost loops run over m2. Cost O(N K) for K ~ (2/3) pi (h_c)^3 V k-vectors: meant for
 * tests and small systems (23k atoms with beta = 3.12 nm^-1 in a 6.2 nm box: K ~ 7e4, a few seconds).
 */
#include "ewald.h"

#include <math.h>
#include <stdlib.h>

#include "../../core/units.h"

#define FS_EWALD_BLOCK 64

typedef struct {
    int m0, m1;  /* fixed components */
    int lo, hi;  /* m2 range, inclusive */
    long offset; /* index of (m0, m1, lo) in the k arrays */
} ewald_row;

typedef struct {
    int kmax[3];
    int nrows;
    ewald_row *rows;
    long nk;
    double *sre, *sim; /* S(k) */
    double *coef;      /* f/V A(k) */
    /* per-block phase tables: e{x,y,z}[d](atom, m) with m in [0,kmax] for x, [-kmax,kmax] for y and z */
    double *cr[3], *ci[3];
    int width[3];
} ewald_work;

static void work_free(ewald_work *w)
{
    free(w->rows);
    free(w->sre);
    free(w->sim);
    free(w->coef);
    for (int d = 0; d < 3; ++d) {
        free(w->cr[d]);
        free(w->ci[d]);
    }
}

/* Enumerates the half-space rows inside the cut-off sphere. */
static fs_status work_init(ewald_work *w, const fs_box *box, double beta, const int kmax_in[3])
{
    double hc = 0;
    int automatic = 0;
    for (int d = 0; d < 3; ++d)
        if (kmax_in[d] <= 0) automatic = 1;
    if (automatic) {
        hc = beta * sqrt(log(1e12)) / FS_PI;
        for (int d = 0; d < 3; ++d) w->kmax[d] = (int)floor(hc * box->len[d]);
    } else {
        for (int d = 0; d < 3; ++d) {
            w->kmax[d] = kmax_in[d];
            const double h = kmax_in[d] / box->len[d];
            if (h > hc) hc = h;
        }
    }
    for (int d = 0; d < 3; ++d)
        if (w->kmax[d] > 100000)
            return fs_fail(FS_ERR_INVALID, "Ewald: kmax %d along %c is too large", w->kmax[d], "xyz"[d]);
    const double hc2 = hc * hc * (1 + 1e-12);

    const int k0 = w->kmax[0], k1 = w->kmax[1], k2 = w->kmax[2];
    w->rows = malloc((size_t)(k0 + 1) * (2 * k1 + 1) * sizeof *w->rows);
    if (!w->rows) return fs_fail(FS_ERR_NOMEM, "Ewald: out of memory");
    w->nrows = 0;
    w->nk = 0;
    for (int m0 = 0; m0 <= k0; ++m0) {
        for (int m1 = -k1; m1 <= k1; ++m1) {
            if (m0 == 0 && m1 < 0) continue;
            const double hx = m0 / box->len[0], hy = m1 / box->len[1];
            const double rest = hc2 - hx * hx - hy * hy;
            if (rest < 0) continue;
            int top = (int)floor(sqrt(rest) * box->len[2]);
            if (top > k2) top = k2;
            const int lo = (m0 == 0 && m1 == 0) ? 1 : -top;
            if (top < lo) continue;
            ewald_row *row = &w->rows[w->nrows++];
            row->m0 = m0;
            row->m1 = m1;
            row->lo = lo;
            row->hi = top;
            row->offset = w->nk;
            w->nk += top - lo + 1;
        }
    }
    const size_t nk = (size_t)(w->nk > 0 ? w->nk : 1);
    w->sre = calloc(nk, sizeof(double));
    w->sim = calloc(nk, sizeof(double));
    w->coef = malloc(nk * sizeof(double));
    w->width[0] = k0 + 1;
    w->width[1] = 2 * k1 + 1;
    w->width[2] = 2 * k2 + 1;
    int ok = w->sre && w->sim && w->coef;
    for (int d = 0; d < 3 && ok; ++d) {
        w->cr[d] = malloc((size_t)FS_EWALD_BLOCK * w->width[d] * sizeof(double));
        w->ci[d] = malloc((size_t)FS_EWALD_BLOCK * w->width[d] * sizeof(double));
        ok = w->cr[d] && w->ci[d];
    }
    if (!ok) return fs_fail(FS_ERR_NOMEM, "Ewald: out of memory for %ld k-vectors", w->nk);
    return FS_OK;
}

/* Phase tables for atoms [a0, a0 + nb): cr/ci[d][b * width + (m + off)] = cos/sin(2 pi m r_d / L_d), where off = 0
 * for x (m >= 0 only) and kmax for y and z. */
static void block_phases(ewald_work *w, const fs_box *box, double *const r[3], int a0, int nb)
{
    for (int d = 0; d < 3; ++d) {
        const int width = w->width[d], kmax = w->kmax[d];
        const int off = d == 0 ? 0 : kmax;
        for (int b = 0; b < nb; ++b) {
            double *cr = w->cr[d] + (size_t)b * width, *ci = w->ci[d] + (size_t)b * width;
            const double t = 2.0 * FS_PI * r[d][a0 + b] / box->len[d];
            const double c1 = cos(t), s1 = sin(t);
            double c = 1.0, s = 0.0;
            cr[off] = 1.0;
            ci[off] = 0.0;
            for (int m = 1; m <= kmax; ++m) {
                const double cn = c * c1 - s * s1;
                s = s * c1 + c * s1;
                c = cn;
                cr[off + m] = c;
                ci[off + m] = s;
                if (d > 0) {
                    cr[off - m] = c;
                    ci[off - m] = -s;
                }
            }
        }
    }
}

fs_status fs_ewald_recip(const fs_box *box, int natoms, double *const r[3], const double *q, double beta,
                         double coulomb, const int kmax[3], fs_accum *acc)
{
    for (int d = 0; d < 3; ++d) {
        if (!box->periodic[d]) return fs_fail(FS_ERR_UNSUPPORTED, "Ewald: the box is not periodic along %c", "xyz"[d]);
        if (!(box->len[d] > 0) || !isfinite(box->len[d]))
            return fs_fail(FS_ERR_INVALID, "Ewald: box edge %c = %g nm", "xyz"[d], box -> len[d]);
    }
    if (!(beta > 0) || !isfinite(beta)) return fs_fail(FS_ERR_INVALID, "Ewald: splitting parameter %g", beta);
    for (int a = 0; a < natoms; ++a)
        for (int d = 0; d < 3; ++d)
            if (!isfinite(r[d][a])) return fs_fail(FS_ERR_NUMERIC, "Ewald: atom %d has a non-finite coordinate", a);

    ewald_work w = {0};
    fs_status st = work_init(&w, box, beta, kmax);
    if (st != FS_OK) {
        work_free(&w);
        return st;
    }
    const double twopi = 2.0 * FS_PI, inv4b2 = 1.0 / (4.0 * beta * beta);
    const double fv = coulomb / fs_box_volume(box);
    const int off1 = w.kmax[1], off2 = w.kmax[2];

    /* Pass 1: structure factors. */
    for (int a0 = 0; a0 < natoms; a0 += FS_EWALD_BLOCK) {
        const int nb = natoms - a0 < FS_EWALD_BLOCK ? natoms - a0 : FS_EWALD_BLOCK;
        block_phases(&w, box, r, a0, nb);
        for (int ir = 0; ir < w.nrows; ++ir) {
            const ewald_row *row = &w.rows[ir];
            const int len = row->hi - row->lo + 1;
            double *sre = w.sre + row->offset, *sim = w.sim + row->offset;
            for (int b = 0; b < nb; ++b) {
                const double qa = q[a0 + b];
                if (qa == 0.0) continue;
                const double xr = w.cr[0][(size_t)b * w.width[0] + row->m0];
                const double xi = w.ci[0][(size_t)b * w.width[0] + row->m0];
                const double yr = w.cr[1][(size_t)b * w.width[1] + off1 + row->m1];
                const double yi = w.ci[1][(size_t)b * w.width[1] + off1 + row->m1];
                const double pr = qa * (xr * yr - xi * yi), pi = qa * (xr * yi + xi * yr);
                const double *zr = w.cr[2] + (size_t)b * w.width[2] + off2 + row->lo;
                const double *zi = w.ci[2] + (size_t)b * w.width[2] + off2 + row->lo;
                for (int j = 0; j < len; ++j) {
                    sre[j] += pr * zr[j] - pi * zi[j];
                    sim[j] += pr * zi[j] + pi * zr[j];
                }
            }
        }
    }

    /* Energy and virial; coef becomes the force weight 2 f/V A(k). */
    double energy = 0, v[3][3] = {{0}};
    for (int ir = 0; ir < w.nrows; ++ir) {
        const ewald_row *row = &w.rows[ir];
        const double kx = twopi * row->m0 / box->len[0], ky = twopi * row->m1 / box->len[1];
        for (int m2 = row->lo; m2 <= row->hi; ++m2) {
            const long i = row->offset + (m2 - row->lo);
            const double kz = twopi * m2 / box->len[2];
            const double k2 = kx * kx + ky * ky + kz * kz;
            const double a = fv * 4.0 * FS_PI / k2 * exp(-k2 * inv4b2);
            const double ek = a * (w.sre[i] * w.sre[i] + w.sim[i] * w.sim[i]);
            const double vf = 2.0 * (1.0 + k2 * inv4b2) / k2;
            const double kv[3] = {kx, ky, kz};
            energy += ek;
            for (int x = 0; x < 3; ++x) {
                for (int y = 0; y < 3; ++y) v[x][y] += 0.5 * ek * vf * kv[x] * kv[y];
                v[x][x] -= 0.5 * ek;
            }
            w.coef[i] = 2.0 * a;
        }
    }

    /* Pass 2: forces F_j = q_j sum_k coef(k) k [Re S sin(k.r_j) - Im S cos(k.r_j)]; per block, row by row, so
     * that a row of S stays in cache while the block's atoms use it. */
    for (int a0 = 0; a0 < natoms; a0 += FS_EWALD_BLOCK) {
        const int nb = natoms - a0 < FS_EWALD_BLOCK ? natoms - a0 : FS_EWALD_BLOCK;
        double gx[FS_EWALD_BLOCK] = {0}, gy[FS_EWALD_BLOCK] = {0}, gz[FS_EWALD_BLOCK] = {0};
        block_phases(&w, box, r, a0, nb);
        for (int ir = 0; ir < w.nrows; ++ir) {
            const ewald_row *row = &w.rows[ir];
            const int len = row->hi - row->lo + 1;
            const double *sre = w.sre + row->offset, *sim = w.sim + row->offset, *coef = w.coef + row->offset;
            for (int b = 0; b < nb; ++b) {
                if (q[a0 + b] == 0.0) continue;
                const double xr = w.cr[0][(size_t)b * w.width[0] + row->m0];
                const double xi = w.ci[0][(size_t)b * w.width[0] + row->m0];
                const double yr = w.cr[1][(size_t)b * w.width[1] + off1 + row->m1];
                const double yi = w.ci[1][(size_t)b * w.width[1] + off1 + row->m1];
                const double pr = xr * yr - xi * yi, pi = xr * yi + xi * yr;
                const double *zr = w.cr[2] + (size_t)b * w.width[2] + off2 + row->lo;
                const double *zi = w.ci[2] + (size_t)b * w.width[2] + off2 + row->lo;
                double g = 0, g2 = 0;
                for (int j = 0; j < len; ++j) {
                    const double c = pr * zr[j] - pi * zi[j], s = pr * zi[j] + pi * zr[j];
                    const double t = coef[j] * (sre[j] * s - sim[j] * c);
                    g += t;
                    g2 += t * (row->lo + j);
                }
                gx[b] += g * row->m0;
                gy[b] += g * row->m1;
                gz[b] += g2;
            }
        }
        for (int b = 0; b < nb; ++b) {
            const double qa = twopi * q[a0 + b];
            acc->f[0][a0 + b] += qa * gx[b] / box->len[0];
            acc->f[1][a0 + b] += qa * gy[b] / box->len[1];
            acc->f[2][a0 + b] += qa * gz[b] / box->len[2];
        }
    }

    acc->term[FS_TERM_COUL_RECIP] += energy;
    for (int x = 0; x < 3; ++x)
        for (int y = 0; y < 3; ++y) acc->virial[x][y] += v[x][y];
    work_free(&w);
    return FS_OK;
}

/*
 * nonbonded.c — short-range non-bonded interactions of the CPU reference: Lennard-Jones 12-6 and the real-space
 * part of Ewald Coulomb over the Verlet pair list, with GROMACS's Verlet-scheme conventions; and the 1-4 pairs.
 *
 * Pair terms. For a listed (non-excluded) pair at minimum-image separation d = r_i - r_j, r = |d|:
 *   LJ (SR)       V = C12/r^12 - C6/r^6 - [C12/rv^12 - C6/rv^6]        for r < rv (rvdw)
 *   Coulomb (SR)  V = f qi qj ( erfc(beta r)/r - [erfc(beta rc)/rc] ) for r < rc (rcoulomb)
 * where f = FS_ONE_4PI_EPS0 / epsilon_r and the bracketed constants are the potential-shift modifiers (zero with
 * modifier None). The force on i is F = -dV/dr d/r = fscal d with
 *   fscal_LJ = (12 C12/r^12 - 6 C6/r^6) / r^2,
 *   fscal_C  = f qi qj ( erfc(beta r)/r + 2 beta/sqrt(pi) exp(-beta^2 r^2) ) / r^2,
 * and -F on j. The shift changes no force, so the force jumps at the cut-off while the energy is continuous.
 *
 * Ewald corrections (also reported as Coulomb (SR), as GROMACS does). The reciprocal sum (PME) contains every
 * pair, excluded or not, and every atom with itself; both must be taken out:
 *   excluded pair (each once, any distance, minimum image, no shift):  V = -f qi qj erf(beta r)/r,
 *     F = f qi qj ( 2 beta/sqrt(pi) exp(-beta^2 r^2) - erf(beta r)/r ) / r^2 d;
 *     as r -> 0 (coincident sites) erf(x)/x = 2/sqrt(pi) (1 - x^2/3 + x^4/10 - x^6/42 + ...), x = beta r, is
 *     used below x = 0.01 instead, where the closed form would lose digits to cancellation;
 *   self:  V = -f beta/sqrt(pi) sum_i qi^2 (no force, no virial).
 *
 * 1-4 pairs ([pairs], fs_cpu_pairs14): V = C12/r^12 - C6/r^6 (LJ-14, C6/C12 of the pair entry) and
 * fudgeQQ f qi qj / r (Coulomb-14), no cut-off, no shift, minimum image.
 *
 * Virial. Every pair force contributes Xi -= 1/2 d (x) F (accum.h); with F = fscal d that is -1/2 fscal d (x) d,
 * symmetric, so the kernel sums the six distinct components per call and adds them once at the end.
 *
 * Algorithm. The charges and types are packed into small arrays first (the fs_atom records are large). Row i of
 * the half list is walked with i's force kept in registers; the minimum image uses the per-axis edge L (0 on a
 * non-periodic axis, which turns the correction off without a branch): d -= L round(d/L). Pairs beyond both
 * cut-offs (the list buffer) cost one r^2 test. sqrt, erfc and exp are evaluated only for pairs inside rc with a
 * non-zero charge product.
 */
#include "nonbonded.h"

#include <math.h>
#include <stdlib.h>

#include "../../core/units.h"

#define NB_SQRT_PI 1.77245385090551602730

/* round-to-nearest without a libm call (|x| stays far below 2^63 for any sane system) */
static inline double nb_round(double x)
{
    return (double)(long long)(x + (x >= 0.0 ? 0.5 : -0.5));
}

/* Per-axis minimum-image data: edge and inverse edge on periodic axes, zeros elsewhere. */
static void image_params(const fs_box *box, double L[3], double invL[3])
{
    for (int d = 0; d < 3; ++d) {
        L[d] = box->periodic[d] ? box->len[d] : 0.0;
        invL[d] = box->periodic[d] ? 1.0 / box->len[d] : 0.0;
    }
}

static double coulomb_factor(const fs_forceparams *p)
{
    /* GROMACS: epsilon-r = 0 means infinity (no electrostatics) */
    return p->epsilon_r == 0.0 ? 0.0 : FS_ONE_4PI_EPS0 / p->epsilon_r;
}

/* The listed (non-excluded) pairs: LJ and erfc Coulomb with their cut-offs and shifts. */
static void listed_pairs(const fs_topology *top, const fs_forceparams *p, double beta, const fs_nblist *nl,
                         const fs_box *box, double *const r[3], const double *q, const int *type, fs_accum *acc)
{
    const double fc = coulomb_factor(p);
    const double rc = p->rcoulomb, rv = p->rvdw;
    const double rc2 = rc * rc, rv2 = rv * rv, rmax2 = rc2 > rv2 ? rc2 : rv2;
    double sh6 = 0.0, sh12 = 0.0, shc = 0.0;
    if (p->vdw_modifier == FS_MOD_POTENTIAL_SHIFT) {
        double rv6 = rv2 * rv2 * rv2;
        sh6 = 1.0 / rv6;
        sh12 = sh6 * sh6;
    }
    if (p->coulomb_modifier == FS_MOD_POTENTIAL_SHIFT) shc = erfc(beta * rc) / rc;
    const double beta2 = beta * beta, tbsp = 2.0 * beta / NB_SQRT_PI;
    double L[3], invL[3];
    image_params(box, L, invL);
    const int nt = top->ntypes;
    const double *x = r[0], *y = r[1], *z = r[2];
    double *fx = acc->f[0], *fy = acc->f[1], *fz = acc->f[2];
    double vlj = 0.0, vc = 0.0;
    double sxx = 0.0, syy = 0.0, szz = 0.0, sxy = 0.0, sxz = 0.0, syz = 0.0;

    for (int i = 0; i < nl->natoms; ++i) {
        const double xi = x[i], yi = y[i], zi = z[i], qi = fc * q[i];
        const double *c6row = top->c6 + (size_t)type[i] * nt, *c12row = top->c12 + (size_t)type[i] * nt;
        double fix = 0.0, fiy = 0.0, fiz = 0.0;
        for (int k = nl->start[i]; k < nl->start[i + 1]; ++k) {
            const int j = nl->j[k];
            double dx = xi - x[j], dy = yi - y[j], dz = zi - z[j];
            dx -= L[0] * nb_round(dx * invL[0]);
            dy -= L[1] * nb_round(dy * invL[1]);
            dz -= L[2] * nb_round(dz * invL[2]);
            const double r2 = dx * dx + dy * dy + dz * dz;
            if (r2 >= rmax2) continue;
            const double rinv2 = 1.0 / r2;
            double fscal = 0.0;
            if (r2 < rv2) {
                const double c6 = c6row[type[j]], c12 = c12row[type[j]];
                const double rinv6 = rinv2 * rinv2 * rinv2;
                vlj += c12 * (rinv6 * rinv6 - sh12) - c6 * (rinv6 - sh6);
                fscal += (12.0 * c12 * rinv6 - 6.0 * c6) * rinv6 * rinv2;
            }
            const double qq = qi * q[j];
            if (r2 < rc2 && qq != 0.0) {
                const double rr = sqrt(r2), rinv = 1.0 / rr;
                const double ec = erfc(beta * rr) * rinv;
                vc += qq * (ec - shc);
                fscal += qq * (ec + tbsp * exp(-beta2 * r2)) * rinv2;
            }
            const double tx = fscal * dx, ty = fscal * dy, tz = fscal * dz;
            fix += tx;
            fiy += ty;
            fiz += tz;
            fx[j] -= tx;
            fy[j] -= ty;
            fz[j] -= tz;
            sxx += tx * dx;
            syy += ty * dy;
            szz += tz * dz;
            sxy += tx * dy;
            sxz += tx * dz;
            syz += ty * dz;
        }
        fx[i] += fix;
        fy[i] += fiy;
        fz[i] += fiz;
    }
    acc->term[FS_TERM_LJ_SR] += vlj;
    acc->term[FS_TERM_COUL_SR] += vc;
    acc->virial[0][0] -= 0.5 * sxx;
    acc->virial[1][1] -= 0.5 * syy;
    acc->virial[2][2] -= 0.5 * szz;
    acc->virial[0][1] -= 0.5 * sxy;
    acc->virial[1][0] -= 0.5 * sxy;
    acc->virial[0][2] -= 0.5 * sxz;
    acc->virial[2][0] -= 0.5 * sxz;
    acc->virial[1][2] -= 0.5 * syz;
    acc->virial[2][1] -= 0.5 * syz;
}

/* -f qi qj erf(beta r)/r for every excluded pair, and the self term. */
static void ewald_corrections(const fs_topology *top, const fs_forceparams *p, double beta, const fs_box *box,
                              double *const r[3], const double *q, fs_accum *acc)
{
    const double fc = coulomb_factor(p);
    const double tbsp = 2.0 * beta / NB_SQRT_PI, beta2 = beta * beta;
    double v = 0.0, qsq = 0.0;
    for (int i = 0; i < top->natoms; ++i) {
        qsq += q[i] * q[i];
        if (!top->excl_start || q[i] == 0.0) continue;
        for (int k = top->excl_start[i]; k < top->excl_start[i + 1]; ++k) {
            const int j = top->excl_list[k];
            if (j <= i || q[j] == 0.0) continue;
            double d[3] = {r[0][i] - r[0][j], r[1][i] - r[1][j], r[2][i] - r[2][j]};
            fs_box_min_image(box, d);
            const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            const double qq = fc * q[i] * q[j];
            const double xb = beta * sqrt(r2), x2 = xb * xb;
            double g, gp; /* erf(beta r)/r and (2 beta/sqrt(pi) e^{-beta^2 r^2} - erf(beta r)/r) / r^2 */
            if (xb < 0.01) {
                g = tbsp * (1.0 - x2 / 3.0 + x2 * x2 / 10.0 - x2 * x2 * x2 / 42.0);
                gp = tbsp * beta2 * (-2.0 / 3.0 + 2.0 * x2 / 5.0 - x2 * x2 / 7.0 + x2 * x2 * x2 / 27.0);
            } else {
                const double rr = sqrt(r2);
                g = erf(beta * rr) / rr;
                gp = (tbsp * exp(-beta2 * r2) - g) / r2;
            }
            v -= qq * g;
            const double F[3] = {qq * gp * d[0], qq * gp * d[1], qq * gp * d[2]};
            for (int c = 0; c < 3; ++c) {
                acc->f[c][i] += F[c];
                acc->f[c][j] -= F[c];
            }
            fs_accum_pair_virial(acc, d, F);
        }
    }
    acc->term[FS_TERM_COUL_SR] += v - fc * beta / NB_SQRT_PI * qsq;
}

fs_status fs_cpu_nonbonded(const fs_topology *top, const fs_forceparams *p, double beta, const fs_nblist *nl,
                           const fs_box *box, double *const r[3], fs_accum *acc)
{
    const int n = top->natoms;
    if (nl->natoms != n) return fs_fail(FS_ERR_INVALID, "pair list for %d atoms, topology has %d", nl->natoms, n);
    const double rmax = p->rcoulomb > p->rvdw ? p->rcoulomb : p->rvdw;
    if (!(p->rcoulomb > 0.0) || !(p->rvdw > 0.0))
        return fs_fail(FS_ERR_INVALID, "cut-offs must be positive (rcoulomb %g, rvdw %g nm)", p->rcoulomb, p->rvdw);
    if (n > 0 && nl->rlist < rmax)
        return fs_fail(FS_ERR_INVALID, "pair list built with rlist %g nm < cut-off %g nm", nl->rlist, rmax);
    if (!(beta >= 0.0)) return fs_fail(FS_ERR_INVALID, "Ewald splitting parameter %g nm^-1", beta);
    if (p->epsilon_r < 0.0) return fs_fail(FS_ERR_INVALID, "epsilon-r %g is negative", p->epsilon_r);
    for (int d = 0; d < 3; ++d)
        if (box->periodic[d] && !(box->len[d] > 0.0))
            return fs_fail(FS_ERR_INVALID, "periodic box edge %d is %g nm", d, box->len[d]);

    size_t cnt = (size_t)(n > 0 ? n : 1);
    double *q = malloc(cnt * sizeof *q);
    int *type = malloc(cnt * sizeof *type);
    if (!q || !type) {
        free(q);
        free(type);
        return fs_fail(FS_ERR_NOMEM, "out of memory for non-bonded scratch of %d atoms", n);
    }
    for (int i = 0; i < n; ++i) {
        q[i] = top->atoms[i].charge;
        type[i] = top->atoms[i].type;
    }
    listed_pairs(top, p, beta, nl, box, r, q, type, acc);
    ewald_corrections(top, p, beta, box, r, q, acc);
    free(q);
    free(type);
    return FS_OK;
}

fs_status fs_cpu_pairs14(const fs_topology *top, const fs_forceparams *p, const fs_box *box, double *const r[3],
                         fs_accum *acc)
{
    if (p->epsilon_r < 0.0) return fs_fail(FS_ERR_INVALID, "epsilon-r %g is negative", p->epsilon_r);
    for (int k = 0; k < top->pairs.n; ++k) {
        const int i = top->pairs.data[k].ai, j = top->pairs.data[k].aj;
        if (i < 0 || j < 0 || i >= top->natoms || j >= top->natoms)
            return fs_fail(FS_ERR_INVALID, "1-4 pair %d refers to atoms %d, %d of %d", k + 1, i + 1, j + 1,
                           top->natoms);
    }
    const double fq = top->fudge_qq * coulomb_factor(p);
    double vlj = 0.0, vc = 0.0;
    for (int k = 0; k < top->pairs.n; ++k) {
        const fs_pair *pr = &top->pairs.data[k];
        const int i = pr->ai, j = pr->aj;
        double d[3] = {r[0][i] - r[0][j], r[1][i] - r[1][j], r[2][i] - r[2][j]};
        fs_box_min_image(box, d);
        const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if (!(r2 > 0.0)) return fs_fail(FS_ERR_NUMERIC, "1-4 pair %d-%d at zero distance", i + 1, j + 1);
        const double rinv2 = 1.0 / r2, rinv6 = rinv2 * rinv2 * rinv2, rinv = sqrt(rinv2);
        const double qq = fq * top->atoms[i].charge * top->atoms[j].charge * rinv;
        vlj += pr->c12 * rinv6 * rinv6 - pr->c6 * rinv6;
        vc += qq;
        const double fscal = ((12.0 * pr->c12 * rinv6 - 6.0 * pr->c6) * rinv6 + qq) * rinv2;
        const double F[3] = {fscal * d[0], fscal * d[1], fscal * d[2]};
        for (int c = 0; c < 3; ++c) {
            acc->f[c][i] += F[c];
            acc->f[c][j] -= F[c];
        }
        fs_accum_pair_virial(acc, d, F);
    }
    acc->term[FS_TERM_LJ14] += vlj;
    acc->term[FS_TERM_COUL14] += vc;
    return FS_OK;
}

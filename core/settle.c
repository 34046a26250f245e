/*
 * settle.c — SETTLE: the analytic constraint solution for rigid three-site water.
 *
 * Positions (Miyamoto & Kollman, J. Comput. Chem. 13, 952 (1992)). A water O, H1, H2 with masses mO, mH, mH has to
 * keep |O-H1| = |O-H2| = doh and |H1-H2| = dhh. Let a0, b0, c0 be the reference positions (satisfying the
 * constraints) and a1, b1, c1 the unconstrained new positions. Constraint forces act along the reference bonds,
 * so the constrained positions a3, b3, c3 satisfy
 *   (i)   the centre of mass is that of a1, b1, c1 (the forces sum to zero);
 *   (ii)  the displacements lie in the plane of the reference triangle, so their components along its normal are
 *         zero;
 *   (iii) the torque of the forces about any point, taken with the reference positions, vanishes:
 *         sum_i m_i r_i0 x (r_i3 - r_i1) = 0 (its component along the normal fixes the in-plane rotation).
 * Work about the centre of mass of a1, b1, c1, in the frame with z along n0 = b0' x c0' (bond vectors from O) and
 * x along a1 x n0 (so a1 has x = 0). The rigid triangle in its own frame has O at (0, ra, 0), H1 at (-rc, -rb, 0),
 * H2 at (rc, -rb, 0), with rc = dhh/2, h = sqrt(doh^2 - rc^2), ra = 2 mH h / (mO + 2 mH), rb = h - ra. Tilting it
 * by phi about x and psi about y must reproduce the normal components of a1, b1, c1 (condition ii):
 *   sin phi = z(a1) / ra,   sin psi = (z(b1) - z(c1)) / (2 rc cos phi).
 * A last rotation by theta about z gives a3, b3, c3; condition (iii) with O as the origin of the reference positions
 * (the O term then vanishes and mH cancels) reads alpha sin theta + beta cos theta = gamma with
 *   alpha = xb2 (xb0 - xc0) + yb0 yb2 + yc0 yc2,   beta = xb2 (yc0 - yb0) + xb0 yb2 + xc0 yc2,
 *   gamma = xb0 yb1 - xb1 yb0 + xc0 yc1 - xc1 yc0,
 * whose root near theta = 0 is sin theta = (alpha gamma - beta sqrt(alpha^2 + beta^2 - gamma^2)) / (alpha^2 +
 * beta^2). The steps and names follow GROMACS's settle.cpp, which implements the same paper. A water cannot be
 * settled when a square root has a negative argument (it was distorted too far in one step): FS_ERR_NUMERIC.
 *
 * Velocities. The velocity constraints r_c . (v_i - v_j) = 0 for the three distances c are linear in the three
 * multipliers lambda_c of the corrections m_i dv_i = sum_c (+-) lambda_c r_c: A lambda = -b with
 * A_cd = (r_c . r_d)(sigma_i^d / m_i - sigma_j^d / m_j) (sigma = +1 for the first atom of d, -1 for the second,
 * 0 otherwise) and b_c = r_c . (v_i - v_j). We solve this 3x3 system exactly (Cramer's rule), which is what
 * GROMACS's settle_proj does with its precomputed inverse.
 *
 * Virial. The constraint force over a step is m (r_constrained - r_unconstrained) / dt^2; its virial
 * -1/2 sum_i r_i (x) f_i is taken with the reference positions relative to the oxygen (the forces sum to zero, so
 * the origin does not matter), which equals -1/2 sum over the three constraints of r_c (x) f_c with the reference
 * bond vectors r_c. Bond vectors use the minimum image, so waters may straddle the periodic boundary.
 */
#include <math.h>
#include <stdio.h>

#include "constraints_impl.h"

static inline double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline void cross3(const double a[3], const double b[3], double out[3])
{
    out[0] = a[1] * b[2] - a[2] * b[1];
    out[1] = a[2] * b[0] - a[0] * b[2];
    out[2] = a[0] * b[1] - a[1] * b[0];
}

static fs_status settle_fail(const fs_constraints *c, const fs_settle_unit *u, const char *why)
{
    const fs_atom *o = &c->top->atoms[u->ow];
    return fs_fail(FS_ERR_NUMERIC,
                   "SETTLE: water %d (atoms %d, %d, %d; %s %d) cannot be settled: %s (moved too far in one step?)",
                   u->index + 1, u->ow + 1, u->hw1 + 1, u->hw2 + 1, o->resname, o->resnr, why);
}

static fs_status settle_one(const fs_constraints *c, const fs_settle_unit *u, const fs_box *box, double *const r_ref[3],
                            double *r[3], double *v[3], double inv_dt, double w[3][3])
{
    double b0[3], c0[3], b1p[3], c1p[3];
    fs_cons_diff(box, r_ref, u->hw1, u->ow, b0);
    fs_cons_diff(box, r_ref, u->hw2, u->ow, c0);
    fs_cons_diff(box, r, u->hw1, u->ow, b1p);
    fs_cons_diff(box, r, u->hw2, u->ow, c1p);

    /* unconstrained positions about their centre of mass */
    double a1[3], b1[3], c1[3];
    for (int k = 0; k < 3; ++k) {
        a1[k] = -u->wh * (b1p[k] + c1p[k]);
        b1[k] = b1p[k] + a1[k];
        c1[k] = c1p[k] + a1[k];
    }

    /* frame: ez along the reference normal, ex along a1 x ez, ey = ez x ex */
    double ez[3], ex[3], ey[3];
    cross3(b0, c0, ez);
    cross3(a1, ez, ex);
    cross3(ez, ex, ey);
    double lz = sqrt(dot3(ez, ez)), lx = sqrt(dot3(ex, ex)), ly = sqrt(dot3(ey, ey));
    if (!(lz > 0.0 && lx > 0.0 && ly > 0.0)) return settle_fail(c, u, "degenerate (collinear) geometry");
    for (int k = 0; k < 3; ++k) {
        ex[k] /= lx;
        ey[k] /= ly;
        ez[k] /= lz;
    }

    const double xb0 = dot3(ex, b0), yb0 = dot3(ey, b0);
    const double xc0 = dot3(ex, c0), yc0 = dot3(ey, c0);
    const double za1 = dot3(ez, a1);
    const double xb1 = dot3(ex, b1), yb1 = dot3(ey, b1), zb1 = dot3(ez, b1);
    const double xc1 = dot3(ex, c1), yc1 = dot3(ey, c1), zc1 = dot3(ez, c1);

    /* tilt of the canonical triangle: phi about x, psi about y */
    const double sinphi = za1 / u->ra;
    const double cos2phi = 1.0 - sinphi * sinphi;
    if (!(cos2phi > 0.0)) return settle_fail(c, u, "the oxygen left the reachable range (|sin phi| >= 1)");
    const double cosphi = sqrt(cos2phi);
    const double sinpsi = (zb1 - zc1) / (2.0 * u->rc * cosphi);
    const double cos2psi = 1.0 - sinpsi * sinpsi;
    if (!(cos2psi > 0.0)) return settle_fail(c, u, "the hydrogens left the reachable range (|sin psi| >= 1)");
    const double cospsi = sqrt(cos2psi);

    const double ya2 = u->ra * cosphi;
    const double xb2 = -u->rc * cospsi;
    const double t1 = -u->rb * cosphi, t2 = u->rc * sinpsi * sinphi;
    const double yb2 = t1 - t2, yc2 = t1 + t2; /* xc2 = -xb2 */

    /* in-plane rotation theta from the torque condition */
    const double alpha = xb2 * (xb0 - xc0) + yb0 * yb2 + yc0 * yc2;
    const double beta = xb2 * (yc0 - yb0) + xb0 * yb2 + xc0 * yc2;
    const double gamma = xb0 * yb1 - xb1 * yb0 + xc0 * yc1 - xc1 * yc0;
    const double al2be2 = alpha * alpha + beta * beta;
    const double disc = al2be2 - gamma * gamma;
    if (!(disc >= 0.0 && al2be2 > 0.0)) return settle_fail(c, u, "no rotation satisfies the torque condition");
    const double sinthe = (alpha * gamma - beta * sqrt(disc)) / al2be2;
    const double cos2the = 1.0 - sinthe * sinthe;
    if (!(cos2the >= 0.0)) return settle_fail(c, u, "no rotation satisfies the torque condition");
    const double costhe = sqrt(cos2the);

    /* constrained positions in the frame (z components unchanged), then back to the lab frame */
    const double a3d[3] = {-ya2 * sinthe, ya2 * costhe, za1};
    const double b3d[3] = {xb2 * costhe - yb2 * sinthe, xb2 * sinthe + yb2 * costhe, zb1};
    const double c3d[3] = {-xb2 * costhe - yc2 * sinthe, -xb2 * sinthe + yc2 * costhe, zc1};
    double da[3], db[3], dc[3];
    for (int k = 0; k < 3; ++k) {
        da[k] = ex[k] * a3d[0] + ey[k] * a3d[1] + ez[k] * a3d[2] - a1[k];
        db[k] = ex[k] * b3d[0] + ey[k] * b3d[1] + ez[k] * b3d[2] - b1[k];
        dc[k] = ex[k] * c3d[0] + ey[k] * c3d[1] + ez[k] * c3d[2] - c1[k];
    }
    for (int k = 0; k < 3; ++k) {
        r[k][u->ow] += da[k];
        r[k][u->hw1] += db[k];
        r[k][u->hw2] += dc[k];
    }
    if (v) {
        for (int k = 0; k < 3; ++k) {
            v[k][u->ow] += da[k] * inv_dt;
            v[k][u->hw1] += db[k] * inv_dt;
            v[k][u->hw2] += dc[k] * inv_dt;
        }
    }
    if (w) {
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) w[a][b] += u->mh * (b0[a] * db[b] + c0[a] * dc[b]);
    }
    return FS_OK;
}

fs_status fs_settle_positions(const fs_constraints *c, const fs_box *box, double *const r_ref[3], double *r[3],
                              double *v[3], double inv_dt, double w[3][3])
{
    for (int k = 0; k < c->nsettles; ++k) {
        fs_status st = settle_one(c, &c->settles[k], box, r_ref, r, v, inv_dt, w);
        if (st != FS_OK) return st;
    }
    return FS_OK;
}

/* Determinant of the 3x3 matrix m. */
static double det3(const double m[3][3])
{
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

fs_status fs_settle_velocities(const fs_constraints *c, const fs_box *box, double *const r[3], double *v[3],
                               double w[3][3])
{
    for (int k = 0; k < c->nsettles; ++k) {
        const fs_settle_unit *u = &c->settles[k];
        /* constraints: 0 = (O, H1), 1 = (O, H2), 2 = (H1, H2); atoms 0 = O, 1 = H1, 2 = H2 */
        static const int first[3] = {0, 0, 1}, second[3] = {1, 2, 2};
        const int atom[3] = {u->ow, u->hw1, u->hw2};
        const double im[3] = {1.0 / u->mo, 1.0 / u->mh, 1.0 / u->mh};
        double rc[3][3], b[3];
        for (int q = 0; q < 3; ++q) {
            fs_cons_diff(box, r, atom[first[q]], atom[second[q]], rc[q]);
            double vij[3];
            for (int d = 0; d < 3; ++d) vij[d] = v[d][atom[first[q]]] - v[d][atom[second[q]]];
            b[q] = -dot3(rc[q], vij);
        }
        double A[3][3];
        for (int p = 0; p < 3; ++p) {
            for (int q = 0; q < 3; ++q) {
                /* sigma of atom first[p] and second[p] in constraint q */
                double si = first[q] == first[p] ? 1.0 : second[q] == first[p] ? -1.0 : 0.0;
                double sj = first[q] == second[p] ? 1.0 : second[q] == second[p] ? -1.0 : 0.0;
                A[p][q] = dot3(rc[p], rc[q]) * (si * im[first[p]] - sj * im[second[p]]);
            }
        }
        const double det = det3(A);
        if (!(fabs(det) > 0.0) || !isfinite(det)) {
            const fs_atom *o = &c->top->atoms[u->ow];
            return fs_fail(FS_ERR_NUMERIC, "SETTLE: water %d (atoms %d, %d, %d; %s %d) is degenerate (collinear)",
                           u->index + 1, u->ow + 1, u->hw1 + 1, u->hw2 + 1, o->resname, o->resnr);
        }
        double lambda[3];
        for (int q = 0; q < 3; ++q) {
            double m[3][3];
            for (int p = 0; p < 3; ++p)
                for (int s = 0; s < 3; ++s) m[p][s] = s == q ? b[p] : A[p][s];
            lambda[q] = det3(m) / det;
        }
        for (int q = 0; q < 3; ++q) {
            const int i = atom[first[q]], j = atom[second[q]];
            for (int d = 0; d < 3; ++d) {
                v[d][i] += im[first[q]] * lambda[q] * rc[q][d];
                v[d][j] -= im[second[q]] * lambda[q] * rc[q][d];
            }
            if (w) {
                for (int a = 0; a < 3; ++a)
                    for (int e = 0; e < 3; ++e) w[a][e] += lambda[q] * rc[q][a] * rc[q][e];
            }
        }
    }
    return FS_OK;
}

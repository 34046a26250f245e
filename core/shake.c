/*
 * shake.c — SHAKE for positions and RATTLE for velocities, cluster by cluster.
 *
 * SHAKE (Ryckaert, Ciccotti & Berendsen, J. Comput. Phys. 23, 327 (1977)). Constraint c between atoms i and j of
 * length d must hold after the step. The constraint forces act along the reference bond vector s = r_i - r_j taken
 * at r_ref, so a correction with multiplier g moves
 *     r_i += g s / m_i,    r_j -= g s / m_j.
 * Linearizing |r' + g (1/m_i + 1/m_j) s|^2 = d^2 in g (r' = current r_i - r_j) gives
 *     g = (d^2 - |r'|^2) / (2 (1/m_i + 1/m_j) s . r').
 * Constraints are visited in turn (a Gauss-Seidel sweep) within each cluster of constraints that share atoms;
 * a constraint is corrected only while | |r'| - d | > tol d, and the cluster is done after a sweep that corrected
 * nothing, so on return every constraint holds to the relative tolerance tol exactly as fs_constraints_max_error
 * measures it. Failures are FS_ERR_NUMERIC naming the constraint and its atoms (1-based): s . r' <= 1e-6 d^2 (the
 * bond turned by about 90 degrees in one step; the linearization has no solution) or no convergence within the
 * iteration limit (the worst constraint and its deviation are named).
 *
 * RATTLE (Andersen, J. Comput. Phys. 52, 24 (1983)), velocity half. At positions r that satisfy the constraints the
 * velocities must satisfy r_ij . v_ij = 0. A correction k along r_ij,
 *     v_i += k r_ij / m_i,  v_j -= k r_ij / m_j,   k = -(r_ij . v_ij) / ((1/m_i + 1/m_j) |r_ij|^2),
 * zeroes constraint c exactly; sweeps repeat until no constraint has |r_ij . v_ij| > tol |r_ij| (|v_i| + |v_j|)
 * (the residual relative to the size of the velocities, so it is reachable in floating point).
 *
 * Frozen atoms have 1/m = 0: the other atom takes the whole correction; constraints between two frozen atoms were
 * dropped when the clusters were built. The accumulated multipliers give the virial accumulator
 * W = sum_c lambda_c s (x) s (see constraints_impl.h), with s the reference vector for positions and r_ij for
 * velocities. All bond vectors use the minimum image.
 */
#include <math.h>
#include <stdio.h>

#include "constraints_impl.h"

static inline double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Relative deviation of constraint `con` at positions r. */
static double deviation(const fs_shake_con *con, const fs_box *box, double *const r[3])
{
    double d[3];
    fs_cons_diff(box, r, con->ai, con->aj, d);
    return fabs(sqrt(dot3(d, d)) - con->length) / con->length;
}

static fs_status no_convergence(const fs_constraints *c, int first, int last, const fs_box *box, double *const r[3],
                                const char *what)
{
    int worst = first;
    double dev = -1.0;
    for (int k = first; k < last; ++k) {
        double e = deviation(&c->cons[k], box, r);
        if (!(e <= dev)) {
            dev = e;
            worst = k;
        }
    }
    char desc[256];
    fs_cons_describe(c, &c->cons[worst], desc, sizeof desc);
    return fs_fail(FS_ERR_NUMERIC, "%s did not converge in %d iterations: %s deviates by %.3g relative", what,
                   c->max_iter, desc, dev);
}

static fs_status shake_cluster(fs_constraints *c, int first, int last, const fs_box *box, double *r[3])
{
    const double *im = c->invmass;
    for (int iter = 0; iter < c->max_iter; ++iter) {
        int moved = 0;
        for (int k = first; k < last; ++k) {
            const fs_shake_con *con = &c->cons[k];
            const double *s = &c->s[3 * k];
            double d[3];
            fs_cons_diff(box, r, con->ai, con->aj, d);
            const double r2 = dot3(d, d), len = con->length;
            if (fabs(sqrt(r2) - len) <= c->tol * len) continue;
            const double sr = dot3(s, d);
            if (!(sr > 1e-6 * len * len)) {
                char desc[256];
                fs_cons_describe(c, con, desc, sizeof desc);
                return fs_fail(FS_ERR_NUMERIC,
                               "SHAKE: %s turned too far in one step (s.r' = %.3g nm^2, length %.6g nm, now %.6g nm; "
                               "deviation %.3g relative)",
                               desc, sr, len, sqrt(r2), fabs(sqrt(r2) - len) / len);
            }
            const double wi = im[con->ai], wj = im[con->aj];
            const double g = (len * len - r2) / (2.0 * (wi + wj) * sr);
            for (int x = 0; x < 3; ++x) {
                r[x][con->ai] += wi * g * s[x];
                r[x][con->aj] -= wj * g * s[x];
            }
            c->lambda[k] += g;
            moved = 1;
        }
        if (!moved) return FS_OK;
    }
    return no_convergence(c, first, last, box, r, "SHAKE");
}

fs_status fs_shake_positions(fs_constraints *c, const fs_box *box, double *const r_ref[3], double *r[3], double *v[3],
                             double inv_dt, double w[3][3])
{
    for (int k = 0; k < c->ncons; ++k) {
        fs_cons_diff(box, r_ref, c->cons[k].ai, c->cons[k].aj, &c->s[3 * k]);
        c->lambda[k] = 0.0;
    }
    for (int q = 0; q < c->nclusters; ++q) {
        fs_status st = shake_cluster(c, c->cluster_start[q], c->cluster_start[q + 1], box, r);
        if (st != FS_OK) return st;
    }
    for (int k = 0; k < c->ncons; ++k) {
        const fs_shake_con *con = &c->cons[k];
        const double *s = &c->s[3 * k], g = c->lambda[k];
        if (v) {
            const double wi = c->invmass[con->ai] * g * inv_dt, wj = c->invmass[con->aj] * g * inv_dt;
            for (int x = 0; x < 3; ++x) {
                v[x][con->ai] += wi * s[x];
                v[x][con->aj] -= wj * s[x];
            }
        }
        if (w) {
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) w[a][b] += g * s[a] * s[b];
        }
    }
    return FS_OK;
}

static inline double speed(double *const v[3], int i)
{
    return sqrt(v[0][i] * v[0][i] + v[1][i] * v[1][i] + v[2][i] * v[2][i]);
}

static fs_status rattle_no_convergence(const fs_constraints *c, int first, int last, const fs_box *box,
                                       double *const r[3], double *const v[3])
{
    int worst = first;
    double res = -1.0;
    for (int k = first; k < last; ++k) {
        const fs_shake_con *con = &c->cons[k];
        double d[3], vij[3];
        fs_cons_diff(box, r, con->ai, con->aj, d);
        for (int x = 0; x < 3; ++x) vij[x] = v[x][con->ai] - v[x][con->aj];
        double e = fabs(dot3(d, vij)) / (sqrt(dot3(d, d)) * (speed(v, con->ai) + speed(v, con->aj)));
        if (!(e <= res)) {
            res = e;
            worst = k;
        }
    }
    char desc[256];
    fs_cons_describe(c, &c->cons[worst], desc, sizeof desc);
    return fs_fail(FS_ERR_NUMERIC,
                   "RATTLE (velocities) did not converge in %d iterations: %s has a relative residual r.v of %.3g",
                   c->max_iter, desc, res);
}

static fs_status rattle_cluster(fs_constraints *c, int first, int last, const fs_box *box, double *const r[3],
                                double *v[3])
{
    const double *im = c->invmass;
    for (int iter = 0; iter < c->max_iter; ++iter) {
        int moved = 0;
        for (int k = first; k < last; ++k) {
            const fs_shake_con *con = &c->cons[k];
            const double *s = &c->s[3 * k];
            const int i = con->ai, j = con->aj;
            double vij[3];
            for (int x = 0; x < 3; ++x) vij[x] = v[x][i] - v[x][j];
            const double rv = dot3(s, vij), s2 = dot3(s, s);
            if (fabs(rv) <= c->tol * sqrt(s2) * (speed(v, i) + speed(v, j))) continue;
            const double wi = im[i], wj = im[j];
            const double kk = -rv / ((wi + wj) * s2);
            if (!isfinite(kk)) {
                char desc[256];
                fs_cons_describe(c, con, desc, sizeof desc);
                return fs_fail(FS_ERR_NUMERIC, "RATTLE: non-finite correction for %s", desc);
            }
            for (int x = 0; x < 3; ++x) {
                v[x][i] += wi * kk * s[x];
                v[x][j] -= wj * kk * s[x];
            }
            c->lambda[k] += kk;
            moved = 1;
        }
        if (!moved) return FS_OK;
    }
    return rattle_no_convergence(c, first, last, box, r, v);
}

fs_status fs_rattle_velocities(fs_constraints *c, const fs_box *box, double *const r[3], double *v[3], double w[3][3])
{
    for (int k = 0; k < c->ncons; ++k) {
        fs_cons_diff(box, r, c->cons[k].ai, c->cons[k].aj, &c->s[3 * k]);
        c->lambda[k] = 0.0;
    }
    for (int q = 0; q < c->nclusters; ++q) {
        fs_status st = rattle_cluster(c, c->cluster_start[q], c->cluster_start[q + 1], box, r, v);
        if (st != FS_OK) return st;
    }
    if (w) {
        for (int k = 0; k < c->ncons; ++k) {
            const double *s = &c->s[3 * k], g = c->lambda[k];
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) w[a][b] += g * s[a] * s[b];
        }
    }
    return FS_OK;
}

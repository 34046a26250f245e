/*
 * bonded_dihedrals.c — dihedral terms of the CPU reference: proper and periodic improper (GROMACS funct 1, 9, 4),
 * harmonic improper (funct 2) and Ryckaert-Bellemans (funct 3).
 *
 * The dihedral angle (GROMACS's dih_angle, IUPAC convention)
 * -----------------------------------------------------------
 * For atoms i-j-k-l, with minimum-image vectors
 *     r_ij = r_i - r_j,   r_kj = r_k - r_j,   r_kl = r_k - r_l,
 *     m = r_ij x r_kj,    n = r_kj x r_kl        (normals of the planes ijk and jkl),
 * phi is the angle between m and n, signed like r_ij . n; phi = 0 is cis, phi = +-180 degrees is trans. Using the
 * identity m x n = (r_ij . n) r_kj,
 *     phi = atan2(|r_kj| (r_ij . n), m . n),
 * which gives the signed angle directly and accurately at every phi (no acos, so nothing degrades near 0 or 180).
 *
 * Forces (Bekker; Blondel & Karplus, J. Comput. Chem. 17, 1132 (1996))
 * -------------------------------------------------------------------
 * With g = dV/dphi,
 *     F_i = -g |r_kj| / |m|^2 m,            F_l = +g |r_kj| / |n|^2 n,
 *     p = (r_ij . r_kj) / |r_kj|^2,         q = (r_kl . r_kj) / |r_kj|^2,
 *     F_j = -F_i + p F_i - q F_l,           F_k = -F_l - p F_i + q F_l.
 * These are exact derivatives of phi; they divide only by |m|^2 and |n|^2, which vanish when three consecutive
 * atoms are collinear (where phi itself is undefined), never at phi = 0 or 180. When sin^2 of the angle ijk or jkl
 * falls below DBL_EPSILON the term contributes its energy but no force (GROMACS does the same with its tolerance).
 * The forces sum to zero and exert no torque.
 *
 * Forms (phi0, xi0 in degrees in the topology)
 * --------------------------------------------
 *   periodic (proper 1 and 9, periodic improper 4):
 *       V = k (1 + cos(n phi - phi0)),                      dV/dphi = -k n sin(n phi - phi0).
 *     A funct 9 dihedral with several terms arrives as several list entries; each is computed on its own.
 *   harmonic improper (2):
 *       V = 1/2 k dxi^2,  dxi = phi - xi0 wrapped into [-pi, pi),   dV/dphi = k dxi.
 *     The wrap is GROMACS's make_dp_periodic (which yields [-pi, pi)); the half-open end only decides the sign of the
 *     force exactly at |dxi| = pi, where V has a cusp; the energy is the same either way.
 *   Ryckaert-Bellemans (3), polymer convention psi = phi - 180 degrees (trans: psi = 0):
 *       V = sum_{n=0..5} C_n cos^n(psi),                    dV/dphi = -sin(psi) sum_{n=1..5} n C_n cos^{n-1}(psi).
 *     Evaluated by Horner's rule in cos(psi) = -cos(phi), sin(psi) = -sin(phi).
 *
 * Virial: Xi = -1/2 sum_a x_a (x) F_a with positions relative to atom j built from the same vectors:
 *     x_i = r_ij,  x_j = 0,  x_k = r_kj,  x_l = r_kj - r_kl,
 * so a molecule broken across the box is treated as the whole copy that the energy saw.
 */
#include <float.h>
#include <math.h>

#include "../../core/units.h"
#include "bonded_geom.h"

typedef struct {
    double rij[3], rkj[3], rkl[3], m[3], n[3];
    double phi;
} dih_geom;

static void dih_geometry(const fs_box *box, double *const r[3], int i, int j, int k, int l, dih_geom *g)
{
    fs_bonded_dx(box, r, i, j, g->rij);
    fs_bonded_dx(box, r, k, j, g->rkj);
    fs_bonded_dx(box, r, k, l, g->rkl);
    bd_cross(g->rij, g->rkj, g->m);
    bd_cross(g->rkj, g->rkl, g->n);
    double nrkj = sqrt(bd_dot(g->rkj, g->rkj));
    g->phi = atan2(nrkj * bd_dot(g->rij, g->n), bd_dot(g->m, g->n));
}

/* Applies the forces of dV/dphi = dvdphi to atoms i, j, k, l and their virial. */
static void dih_forces(const dih_geom *g, double dvdphi, int i, int j, int k, int l, fs_accum *acc)
{
    double m2 = bd_dot(g->m, g->m), n2 = bd_dot(g->n, g->n);
    double rkj2 = bd_dot(g->rkj, g->rkj);
    double rij2 = bd_dot(g->rij, g->rij), rkl2 = bd_dot(g->rkl, g->rkl);
    /* |m|^2 = |r_ij|^2 |r_kj|^2 sin^2(ijk); likewise for n. */
    if (!(m2 > DBL_EPSILON * rij2 * rkj2) || !(n2 > DBL_EPSILON * rkl2 * rkj2)) return;
    double nrkj = sqrt(rkj2);
    double a = -dvdphi * nrkj / m2, b = dvdphi * nrkj / n2;
    double p = bd_dot(g->rij, g->rkj) / rkj2, q = bd_dot(g->rkl, g->rkj) / rkj2;
    double Fi[3], Fj[3], Fk[3], Fl[3], xl[3];
    for (int x = 0; x < 3; ++x) {
        Fi[x] = a * g->m[x];
        Fl[x] = b * g->n[x];
        double s = p * Fi[x] - q * Fl[x];
        Fj[x] = -Fi[x] + s;
        Fk[x] = -Fl[x] - s;
        xl[x] = g->rkj[x] - g->rkl[x];
    }
    fs_bonded_addf(acc, i, Fi);
    fs_bonded_addf(acc, j, Fj);
    fs_bonded_addf(acc, k, Fk);
    fs_bonded_addf(acc, l, Fl);
    fs_bonded_virial(acc, g->rij, Fi);
    fs_bonded_virial(acc, g->rkj, Fk);
    fs_bonded_virial(acc, xl, Fl);
}

void fs_cpu_dih_periodic(const fs_dih_periodic_list *l, const fs_box *box, double *const r[3], fs_accum *acc,
                         double *energy)
{
    double v = 0.0;
    for (int t = 0; t < l->n; ++t) {
        const fs_dih_periodic *d = &l->data[t];
        dih_geom g;
        dih_geometry(box, r, d->ai, d->aj, d->ak, d->al, &g);
        double arg = d->mult * g.phi - d->phi0 * FS_DEG2RAD;
        v += d->k * (1.0 + cos(arg));
        dih_forces(&g, -d->k * d->mult * sin(arg), d->ai, d->aj, d->ak, d->al, acc);
    }
    *energy += v;
}

void fs_cpu_dih_harmonic(const fs_dih_harmonic_list *l, const fs_box *box, double *const r[3], fs_accum *acc,
                         double *energy)
{
    double v = 0.0;
    for (int t = 0; t < l->n; ++t) {
        const fs_dih_harmonic *d = &l->data[t];
        dih_geom g;
        dih_geometry(box, r, d->ai, d->aj, d->ak, d->al, &g);
        double dxi = g.phi - d->xi0 * FS_DEG2RAD;
        dxi -= 2.0 * FS_PI * floor((dxi + FS_PI) / (2.0 * FS_PI)); /* into [-pi, pi) */
        v += 0.5 * d->k * dxi * dxi;
        dih_forces(&g, d->k * dxi, d->ai, d->aj, d->ak, d->al, acc);
    }
    *energy += v;
}

void fs_cpu_dih_rb(const fs_dih_rb_list *l, const fs_box *box, double *const r[3], fs_accum *acc, double *energy)
{
    double v = 0.0;
    for (int t = 0; t < l->n; ++t) {
        const fs_dih_rb *d = &l->data[t];
        dih_geom g;
        dih_geometry(box, r, d->ai, d->aj, d->ak, d->al, &g);
        double cpsi = -cos(g.phi), spsi = -sin(g.phi); /* psi = phi - pi */
        const double *c = d->c;
        double e = c[5], de = 5.0 * c[5];
        for (int n = 4; n >= 1; --n) {
            e = e * cpsi + c[n];
            de = de * cpsi + n * c[n];
        }
        e = e * cpsi + c[0];
        v += e;
        dih_forces(&g, -spsi * de, d->ai, d->aj, d->ak, d->al, acc);
    }
    *energy += v;
}

/*
 * bonded.c — bonded interactions of the CPU reference: the driver, bonds, angles and Urey-Bradley terms.
 * (Dihedrals — proper, periodic improper, harmonic improper and Ryckaert-Bellemans — are in bonded_dihedrals.c.)
 *
 * What it computes
 * ----------------
 * For every term list of the topology (core/topology.h) the energy, the force on each atom and the virial, with the
 * GROMACS functional forms, so that each energy matches the GROMACS term of the same name ("Bond", "Angle", "U-B",
 * "Proper Dih.", "Ryckaert-Bell.", "Improper Dih.", "Per. Imp. Dih."). Parameters come in GROMACS units: lengths in
 * nm, equilibrium angles in degrees, force constants in kJ mol^-1 nm^-2 or kJ mol^-1 rad^-2.
 *
 * Geometry and periodic boundaries
 * --------------------------------
 * A term only ever looks at difference vectors between its atoms, each taken with the minimum image convention:
 *     r_ij = min_image(r_i - r_j),   r_kj = min_image(r_k - r_j),   r_kl = min_image(r_k - r_l).
 * A molecule broken across the box boundary is thus seen whole, as long as each bonded neighbour is closer than half
 * a box edge. All derived vectors (the 1-3 vector of Urey-Bradley, the position of atom l relative to j in a
 * dihedral) are built from these same vectors, never from a second minimum-image call, so energy, forces and
 * virial always describe one consistent, unbroken copy of the term.
 *
 * Bonds (funct 1)
 *     V = 1/2 kb (r - b0)^2,  r = |r_ij|,  F_i = -kb (r - b0) r_ij / r,  F_j = -F_i.
 *   At r = 0 the direction is undefined and the force is set to zero (the energy is still counted).
 *
 * Angles (funct 1)
 *     V = 1/2 k (theta - theta0)^2,  theta = angle between r_ij and r_kj in [0, pi].
 *   theta is computed as atan2(|c|, r_ij . r_kj) with c = r_ij x r_kj, which is accurate to rounding everywhere,
 *   unlike acos(cos theta), which loses half the digits near 0 and 180 degrees. The gradient is written with c so
 *   that no cancellation-prone (1 - cos^2) appears:
 *     d theta / d r_i = (r_ij x c) / (|r_ij|^2 |c|),   d theta / d r_k = (c x r_kj) / (|r_kj|^2 |c|),
 *     F_i = -dV/dtheta d theta/d r_i,   F_k likewise,   F_j = -F_i - F_k.
 *   These vectors have magnitudes 1/|r_ij| and 1/|r_kj|, finite even as theta -> 180 degrees; their direction is
 *   computed with relative error ~ DBL_EPSILON / sin(theta), so the forces stay accurate to ~1e-12 down to a few
 *   hundredths of a degree from collinearity. Exactly collinear (|c| = 0), where the gradient has no direction, the
 *   force is zero — as in GROMACS, which skips the force when cos^2(theta) >= 1.
 *
 * Urey-Bradley (angles funct 5)
 *     V = 1/2 k (theta - theta0)^2 + 1/2 kub (|r_ik| - r13)^2,   r_ik = r_ij - r_kj,
 *   i.e. the angle term above plus a harmonic bond between the outer atoms; both parts go to "U-B".
 *
 * Virial
 * ------
 *     Xi = -1/2 sum_a x_a (x) F_a,
 *   where x_a is the position of atom a relative to one atom of the term (j for angles and dihedrals, the second
 *   atom for bonds), built from the minimum-image vectors above. The forces of a term sum to zero, so the choice of
 *   origin does not matter, and with relative positions Xi equals 1/2 dE/d(eps) for an affine strain eps of box and
 *   coordinates, which is what the pressure needs.
 *
 * Algorithm and cost: one pass over each list, O(number of terms), no allocation. Each list's energy is summed
 * locally and added to its term once. Atom indices are checked before anything is computed; a bad index fails with
 * FS_ERR_INVALID and leaves the accumulator untouched. A non-finite energy fails with FS_ERR_NUMERIC (forces may
 * already have been added; the energies have not).
 */
#include "bonded.h"

#include <math.h>

#include "../../core/units.h"
#include "bonded_geom.h"

void fs_cpu_bonds(const fs_bond_list *l, const fs_box *box, double *const r[3], fs_accum *acc, double *energy)
{
    double v = 0.0;
    for (int t = 0; t < l->n; ++t) {
        const fs_bond *b = &l->data[t];
        double d[3];
        fs_bonded_dx(box, r, b->ai, b->aj, d);
        double len = sqrt(bd_dot(d, d));
        double dr = len - b->b0;
        v += 0.5 * b->kb * dr * dr;
        if (len == 0.0) continue;
        double s = -b->kb * dr / len;
        double F[3] = {s * d[0], s * d[1], s * d[2]};
        double mF[3] = {-F[0], -F[1], -F[2]};
        fs_bonded_addf(acc, b->ai, F);
        fs_bonded_addf(acc, b->aj, mF);
        fs_bonded_virial(acc, d, F);
    }
    *energy += v;
}

void fs_cpu_angles(const fs_angle_list *l, int urey_bradley, const fs_box *box, double *const r[3], fs_accum *acc,
                   double *energy)
{
    double v = 0.0;
    for (int t = 0; t < l->n; ++t) {
        const fs_angle *a = &l->data[t];
        double rij[3], rkj[3], c[3];
        fs_bonded_dx(box, r, a->ai, a->aj, rij);
        fs_bonded_dx(box, r, a->ak, a->aj, rkj);
        bd_cross(rij, rkj, c);
        double cn = sqrt(bd_dot(c, c));
        double theta = atan2(cn, bd_dot(rij, rkj));
        double dth = theta - a->theta0 * FS_DEG2RAD;
        v += 0.5 * a->k * dth * dth;
        double Fi[3] = {0, 0, 0}, Fk[3] = {0, 0, 0};
        double rij2 = bd_dot(rij, rij), rkj2 = bd_dot(rkj, rkj);
        if (cn > 0.0 && rij2 > 0.0 && rkj2 > 0.0) {
            double dvdt = a->k * dth;
            double gi[3], gk[3];
            bd_cross(rij, c, gi);
            bd_cross(c, rkj, gk);
            double si = -dvdt / (rij2 * cn), sk = -dvdt / (rkj2 * cn);
            for (int x = 0; x < 3; ++x) {
                Fi[x] = si * gi[x];
                Fk[x] = sk * gk[x];
            }
        }
        if (urey_bradley) {
            double rik[3] = {rij[0] - rkj[0], rij[1] - rkj[1], rij[2] - rkj[2]};
            double len = sqrt(bd_dot(rik, rik));
            double dr = len - a->r13;
            v += 0.5 * a->kub * dr * dr;
            if (len > 0.0) {
                double s = -a->kub * dr / len;
                for (int x = 0; x < 3; ++x) {
                    Fi[x] += s * rik[x];
                    Fk[x] -= s * rik[x];
                }
            }
        }
        double Fj[3] = {-Fi[0] - Fk[0], -Fi[1] - Fk[1], -Fi[2] - Fk[2]};
        fs_bonded_addf(acc, a->ai, Fi);
        fs_bonded_addf(acc, a->aj, Fj);
        fs_bonded_addf(acc, a->ak, Fk);
        fs_bonded_virial(acc, rij, Fi);
        fs_bonded_virial(acc, rkj, Fk);
    }
    *energy += v;
}

/* Returns from the enclosing function with FS_ERR_INVALID if an index of a term in `list` is outside [0, nat). */
#define FS_CHECK_LIST(list, what, nat, ...)                                                                            \
    do {                                                                                                               \
        for (int t_ = 0; t_ < (list).n; ++t_) {                                                                        \
            const int idx_[] = {__VA_ARGS__};                                                                          \
            for (size_t q_ = 0; q_ < sizeof idx_ / sizeof idx_[0]; ++q_)                                               \
                if (idx_[q_] < 0 || idx_[q_] >= (nat))                                                                 \
                    return fs_fail(FS_ERR_INVALID, "bonded: %s %d refers to atom index %d, outside [0, %d)", what,     \
                                   t_ + 1, idx_[q_], (nat));                                                           \
        }                                                                                                              \
    } while (0)

static fs_status check_indices(const fs_topology *top)
{
    const int n = top->natoms;
    FS_CHECK_LIST(top->bonds, "bond", n, top->bonds.data[t_].ai, top->bonds.data[t_].aj);
    FS_CHECK_LIST(top->angles, "angle", n, top->angles.data[t_].ai, top->angles.data[t_].aj, top->angles.data[t_].ak);
    FS_CHECK_LIST(top->ub_angles, "Urey-Bradley angle", n, top->ub_angles.data[t_].ai, top->ub_angles.data[t_].aj,
                  top->ub_angles.data[t_].ak);
    FS_CHECK_LIST(top->propers, "proper dihedral", n, top->propers.data[t_].ai, top->propers.data[t_].aj,
                  top->propers.data[t_].ak, top->propers.data[t_].al);
    FS_CHECK_LIST(top->per_impropers, "periodic improper dihedral", n, top->per_impropers.data[t_].ai,
                  top->per_impropers.data[t_].aj, top->per_impropers.data[t_].ak, top->per_impropers.data[t_].al);
    FS_CHECK_LIST(top->impropers, "improper dihedral", n, top->impropers.data[t_].ai, top->impropers.data[t_].aj,
                  top->impropers.data[t_].ak, top->impropers.data[t_].al);
    FS_CHECK_LIST(top->rbs, "Ryckaert-Bellemans dihedral", n, top->rbs.data[t_].ai, top->rbs.data[t_].aj,
                  top->rbs.data[t_].ak, top->rbs.data[t_].al);
    return FS_OK;
}

fs_status fs_cpu_bonded(const fs_topology *top, const fs_box *box, double *const r[3], fs_accum *acc)
{
    fs_status st = check_indices(top);
    if (st != FS_OK) return st;

    double e[FS_TERM_COUNT] = {0};
    fs_cpu_bonds(&top->bonds, box, r, acc, &e[FS_TERM_BOND]);
    fs_cpu_angles(&top->angles, 0, box, r, acc, &e[FS_TERM_ANGLE]);
    fs_cpu_angles(&top->ub_angles, 1, box, r, acc, &e[FS_TERM_UB]);
    fs_cpu_dih_periodic(&top->propers, box, r, acc, &e[FS_TERM_PROPER_DIH]);
    fs_cpu_dih_periodic(&top->per_impropers, box, r, acc, &e[FS_TERM_PER_IMP_DIH]);
    fs_cpu_dih_harmonic(&top->impropers, box, r, acc, &e[FS_TERM_IMPROPER_DIH]);
    fs_cpu_dih_rb(&top->rbs, box, r, acc, &e[FS_TERM_RB]);

    static const struct {
        fs_term t;
        const char *name;
    } terms[] = {
        {FS_TERM_BOND, "Bond"},
        {FS_TERM_ANGLE, "Angle"},
        {FS_TERM_UB, "U-B"},
        {FS_TERM_PROPER_DIH, "Proper Dih."},
        {FS_TERM_PER_IMP_DIH, "Per. Imp. Dih."},
        {FS_TERM_IMPROPER_DIH, "Improper Dih."},
        {FS_TERM_RB, "Ryckaert-Bell."},
    };
    for (size_t q = 0; q < sizeof terms / sizeof terms[0]; ++q)
        if (!isfinite(e[terms[q].t]))
            return fs_fail(FS_ERR_NUMERIC, "bonded: non-finite %s energy (coincident atoms or bad parameters?)",
                           terms[q].name);
    for (size_t q = 0; q < sizeof terms / sizeof terms[0]; ++q) acc->term[terms[q].t] += e[terms[q].t];
    return FS_OK;
}

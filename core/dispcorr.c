/*
 * dispcorr.c — the long-range dispersion correction of GROMACS (DispCorr = Ener / EnerPres), for the Verlet
 * scheme's plain LJ cut-off with or without the potential-shift modifier.
 *
 * Beyond rvdw the pair list drops the attractive tail -C6/r^6. For a homogeneous fluid (pair distribution g(r) = 1
 * beyond the cut-off) its energy is, with N atoms in volume V, rho = N/V and the average <C6>,
 *   E_tail = (N/2) rho <C6> int_rc^inf 4 pi r^2 (-1/r^6) dr = (N/2) rho <C6> (-4 pi / (3 rc^3)).
 * With vdw-modifier = Potential-shift every pair inside rc carries the constant -V_disp(rc) = +C6/rc^6 on top of
 * the true potential, which the correction also removes. Counting pairs inside rc with g(r) = 1 gives
 *   (N/2) rho <C6> int_0^rc 4 pi r^2 (-1/rc^6) dr = (N/2) rho <C6> (-4 pi / (3 rc^3)),
 * but that integral also counts each atom once with itself (the uniform density includes the atom at the origin),
 * which the shifted potential never saw: adding back (N/2) <C6> / rc^6 removes that self pair. In total
 *   E = <C6> (N/2) ( rho (-8 pi / (3 rc^3)) + 1/rc^6 )   (Potential-shift)
 *   E = <C6> (N/2) rho (-4 pi / (3 rc^3))                  (modifier None)
 * The shift changes no force, so the pressure correction is the tail's in both cases: the virial integral
 * -1/2 int_rc^inf 4 pi r^2 r dV/dr dr of V = -1/r^6 is 1/2 (8 pi / rc^3), and each diagonal element of
 * Xi = -1/2 sum r (x) F receives a third of the trace,
 *   Xi_dd += (N/2) rho <C6> (1/2) (8 pi / rc^3) / 3 ,   P_DC = -2 Xi_dd / V (times FS_PRESFAC in bar: "Pres. DC").
 * These are GROMACS 2022's enerdiffsix_, enershiftsix_ and virdiffsix_ (mdlib/dispersioncorrection.cpp), whose
 * potential-shift branch integrates from ri/scale with ri = ceil(rvdw * scale); for any rvdw given to 0.5 pm that
 * is rvdw itself, which is used here.
 *
 * The average <C6> is GROMACS's: over all atom pairs i < j, from the counts of each atom type (no N^2 loop),
 * minus every excluded pair (each once) together with its C6, i.e.
 *   <C6> = ( sum_{ti <= tj} npair(ti, tj) C6(ti, tj) - sum_{excluded i<j} C6(i, j) ) / (npair - nexcl),
 * with npair(t, t) = n_t (n_t - 1)/2 and npair(ti, tj) = n_ti n_tj. <C12> the same way (reported only; the
 * correction of the repulsion, GROMACS's AllEner, is not implemented).
 */
#include "dispcorr.h"

#include <stdlib.h>

#include "units.h"

fs_status fs_dispcorr_prepare(const fs_topology *top, fs_dispcorr_setup *out)
{
    out->avg_c6 = 0.0;
    out->avg_c12 = 0.0;
    out->natoms = top->natoms;
    const int nt = top->ntypes;
    if (top->natoms == 0 || nt == 0) return FS_OK;
    long long *count = calloc((size_t)nt, sizeof *count);
    if (!count) return fs_fail(FS_ERR_NOMEM, "out of memory counting %d atom types", nt);
    for (int i = 0; i < top->natoms; ++i) {
        int t = top->atoms[i].type;
        if (t < 0 || t >= nt) {
            free(count);
            return fs_fail(FS_ERR_INVALID, "atom %d has type %d of %d", i + 1, t, nt);
        }
        count[t]++;
    }
    double c6 = 0.0, c12 = 0.0;
    long long npair = 0, nexcl = 0;
    for (int a = 0; a < nt; ++a)
        for (int b = a; b < nt; ++b) {
            long long np = a == b ? count[a] * (count[a] - 1) / 2 : count[a] * count[b];
            c6 += (double)np * top->c6[a * nt + b];
            c12 += (double)np * top->c12[a * nt + b];
            npair += np;
        }
    free(count);
    if (top->excl_start)
        for (int i = 0; i < top->natoms; ++i)
            for (int k = top->excl_start[i]; k < top->excl_start[i + 1]; ++k) {
                int j = top->excl_list[k];
                if (j <= i) continue;
                c6 -= fs_topology_c6(top, i, j);
                c12 -= fs_topology_c12(top, i, j);
                nexcl++;
            }
    if (npair - nexcl > 0) {
        out->avg_c6 = c6 / (double)(npair - nexcl);
        out->avg_c12 = c12 / (double)(npair - nexcl);
    }
    return FS_OK;
}

double fs_dispcorr_compute(const fs_dispcorr_setup *s, const fs_forceparams *p, const fs_box *box, double virial[3][3])
{
    if (p->dispcorr == FS_DISPCORR_NO) return 0.0;
    const double vol = fs_box_volume(box);
    if (!(vol > 0.0) || !(p->rvdw > 0.0)) return 0.0;
    const double rc = p->rvdw, rc3 = rc * rc * rc;
    const double half_n = 0.5 * s->natoms, rho = s->natoms / vol;
    double enerdiff = -4.0 * FS_PI / (3.0 * rc3); /* tail beyond rc */
    double enershift = 0.0;
    if (p->vdw_modifier == FS_MOD_POTENTIAL_SHIFT) {
        enershift = -1.0 / (rc3 * rc3);                  /* the constant added to -1/r^6 inside rc */
        enerdiff += 4.0 * FS_PI * enershift * rc3 / 3.0; /* integrated over the cut-off sphere */
    }
    const double energy = s->avg_c6 * half_n * (rho * enerdiff - enershift);
    if (p->dispcorr == FS_DISPCORR_ENERPRES) {
        const double virdiff = 0.5 * 8.0 * FS_PI / rc3;
        const double v = half_n * rho * s->avg_c6 * virdiff / 3.0;
        for (int d = 0; d < 3; ++d) virial[d][d] += v;
    }
    return energy;
}

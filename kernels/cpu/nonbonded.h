/*
 * nonbonded.h — short-range non-bonded forces of the CPU reference: LJ 12-6 and Ewald real-space Coulomb.
 *
 * GROMACS Verlet-scheme conventions (what decides agreement with gmx mdrun -rerun):
 *   - LJ (SR): V = C12/r^12 - C6/r^6 for non-excluded pairs with r < rvdw, minus its value at rvdw when
 *     vdw-modifier = Potential-shift;
 *   - Coulomb (SR): f/eps_r qi qj erfc(beta r)/r for non-excluded pairs with r < rcoulomb, minus its value at rcoulomb
 *     with Potential-shift; plus, for every excluded pair, -f/eps_r qi qj erf(beta r)/r (its reciprocal-space part
 *     removed; no shift); plus the self term -f/eps_r beta/sqrt(pi) sum qi^2.
 */
#ifndef FS_CPU_NONBONDED_H
#define FS_CPU_NONBONDED_H

#include "../../core/forceparams.h"
#include "accum.h"
#include "nblist.h"

/* Adds LJ (SR) and Coulomb (SR) energies, forces and virial for positions r, using the pair list nl (built with
 * rlist >= max(rvdw, rcoulomb)) and splitting parameter beta (nm^-1). */
fs_status fs_cpu_nonbonded(const fs_topology *top, const fs_forceparams *p, double beta, const fs_nblist *nl,
                           const fs_box *box, double *const r[3], fs_accum *acc);

/* Adds LJ-14 and Coulomb-14 for the topology's [pairs]: C12/r^12 - C6/r^6 and fudgeQQ f/eps_r qi qj / r, with no
 * cut-off and no shift (minimum image). */
fs_status fs_cpu_pairs14(const fs_topology *top, const fs_forceparams *p, const fs_box *box, double *const r[3],
                         fs_accum *acc);

#endif

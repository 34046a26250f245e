/*
 * bonded.h — bonded interactions of the CPU reference: bonds, angles, Urey-Bradley, proper/improper/RB dihedrals.
 *
 * Forms and conventions are those listed in core/topology.h (GROMACS's). Distance vectors use the minimum image,
 * so molecules broken across periodic boundaries are handled; the virial uses the same vectors.
 */
#ifndef FS_CPU_BONDED_H
#define FS_CPU_BONDED_H

#include "accum.h"

/* Adds Bond, Angle, U-B, Proper Dih., Ryckaert-Bell., Improper Dih. and Per. Imp. Dih. energies, forces and
 * virial. (1-4 pairs are in nonbonded.h.) */
fs_status fs_cpu_bonded(const fs_topology *top, const fs_box *box, double *const r[3], fs_accum *acc);

#endif

/*
 * dispcorr.h — long-range dispersion correction (GROMACS DispCorr), backend-agnostic.
 *
 * The energy of the -C6/r^6 tail beyond rvdw for a homogeneous fluid, with the system's average C6 over all atom
 * pairs leaving excluded pairs out; with vdw-modifier = Potential-shift it also contains the shift constant
 * integrated over the cut-off sphere, as GROMACS does (dispersioncorrection.cpp). EnerPres adds the matching
 * pressure (virial) term; Ener only the energy.
 */
#ifndef FS_DISPCORR_H
#define FS_DISPCORR_H

#include "box.h"
#include "forceparams.h"
#include "status.h"
#include "topology.h"

typedef struct {
    double avg_c6;  /* <C6> over non-excluded atom pairs, kJ mol^-1 nm^6 */
    double avg_c12; /* <C12>, kept for reporting */
    int natoms;
} fs_dispcorr_setup;

/* Computes the averages for this topology (once; they do not depend on positions). */
fs_status fs_dispcorr_prepare(const fs_topology *top, fs_dispcorr_setup *out);

/* Energy (kJ/mol) and virial contribution (added to virial[3][3], diagonal) for this box. Returns 0 and adds
 * nothing when p->dispcorr is FS_DISPCORR_NO; adds to the virial only for FS_DISPCORR_ENERPRES. */
double fs_dispcorr_compute(const fs_dispcorr_setup *s, const fs_forceparams *p, const fs_box *box, double virial[3][3]);

#endif

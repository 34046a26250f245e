/*
 * barostat.h — Monte Carlo barostat (isotropic, or along z only for slabs), driven through the backend interface.
 */
#ifndef FS_BAROSTAT_H
#define FS_BAROSTAT_H

#include "../kernels/backend.h"

typedef struct {
    double max_dv;                         /* largest volume change of a trial, nm^3 (adapted) */
    long attempts, accepted;               /* over the run */
    long window_attempts, window_accepted; /* since the last adaptation */
} fs_mc_barostat;

/* Starts with a maximal volume change of 1 % of `volume`. */
void fs_mc_barostat_init(fs_mc_barostat *mc, double volume);

/* Number of molecules the barostat moves (those without frozen atoms): the N of the acceptance rule. */
int fs_mc_barostat_movers(const fs_topology *top);

/* One trial at the backend's current state (its current step keys the random numbers): a volume change drawn
 * uniformly in [-max_dv, max_dv], applied with scale_trial (isotropically, or along z for FS_PCOUPL_MC_Z), accepted
 * with probability min(1, exp(-w/kT)), w = dE + P dV - N kT ln(V'/V), else reverted. *accepted tells which. */
fs_status fs_mc_barostat_trial(fs_mc_barostat *mc, fs_backend *b, const fs_dynamics *d, int nmovers, int *accepted);

#endif

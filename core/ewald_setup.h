/*
 * ewald_setup.h — Ewald splitting parameter and PME grid sizes, chosen as GROMACS chooses them.
 *
 * Every backend calls these so that all of them use the same beta and grid for the same input.
 */
#ifndef FS_EWALD_SETUP_H
#define FS_EWALD_SETUP_H

#include "box.h"
#include "forceparams.h"
#include "status.h"

/* The splitting parameter beta (nm^-1) with erfc(beta rc) = rtol, found by bisection as GROMACS's
 * calc_ewaldcoeff_q() does (so that the same ewald-rtol gives the same beta to the last bit). Returns NaN when
 * rc <= 0 or rtol is outside (0, 1). */
double fs_ewald_beta(double rc, double rtol);

/* The PME grid for this box: fourier_n[d] when set, else the smallest GROMACS "nice" size (calcFftGrid) with
 * spacing at most fourierspacing and at least 2 * (pme_order - 1) points, as grompp chooses it. Fails with
 * FS_ERR_INVALID when the grid is smaller than 2 * (pme_order - 1) along some axis (grompp's limit), or when
 * pme_order is outside 3..12. */
fs_status fs_pme_grid_size(const fs_box *box, const fs_forceparams *p, int n[3]);

/* Energy (kJ/mol) of a net charge qsum (e) in tin-foil Ewald: the interaction with the uniform neutralizing
 * background that Ewald sums imply, -pi f Q^2 / (2 V beta^2) with f = `coulomb` (GROMACS reports it inside
 * "Coul. recip."). It scales as 1/V, so its virial is -E/2 on each diagonal element. */
double fs_ewald_net_charge_energy(double qsum, double volume, double beta, double coulomb);

#endif

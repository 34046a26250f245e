/*
 * integrate.h — the arithmetic of one integration step on structure-of-arrays data, shared by every backend.
 *
 * Pure functions on arrays: the CPU backend calls them directly, GPU kernels implement the same formulas. Frozen
 * atoms have inverse mass 0 and never move (their velocities stay 0). n is the number of atoms.
 */
#ifndef FS_INTEGRATE_H
#define FS_INTEGRATE_H

#include <stdint.h>

#include "dynamics.h"
#include "topology.h"

/* v += dt * f * invmass (a "B" step or a velocity-Verlet half kick with dt/2). */
void fs_kick(int n, double *v[3], double *const f[3], const double *invmass, double dt);

/* r += dt * v (an "A" step; frozen atoms have v = 0). */
void fs_drift(int n, double *r[3], double *const v[3], double dt);

/* Langevin "O" step: v = c v + sqrt((1 - c^2) kT invmass) xi with c = exp(-gamma dt), kT = FS_BOLTZ ref_t, and
 * xi_d of atom i = fs_rng_normal4(seed, step, i, FS_RNG_STREAM_SD)[d] for d = 0, 1, 2. Frozen atoms untouched. */
void fs_langevin_o(int n, double *v[3], const double *invmass, double ref_t, double gamma, double dt, uint64_t seed,
                   uint64_t step);

/* Bussi stochastic velocity rescaling: the factor alpha by which all velocities are multiplied so that the kinetic
 * energy ekin (kJ/mol, of ndf degrees of freedom) relaxes to ekin_ref = ndf/2 kT with time constant tau_t, with
 * canonical fluctuations (Bussi, Donadio & Parrinello 2007, eq. A7). Random numbers from
 * (seed, step, k, FS_RNG_STREAM_VRESCALE), k = 0, 1, ... in order. Returns 1 when ekin is 0. The exact draw
 * sequence (R1 from block 0, the chi-square by Marsaglia-Tsang from blocks 1, 2, ...) and the sign rule (alpha < 0
 * when R1 + sqrt(c ndf ekin / ((1 - c) ekin_ref)) < 0, c = exp(-dt/tau_t)) are in integrate.c's essay. Also 1
 * when ndf < 1 or c = 1; tau_t <= 0 means c = 0 (instantaneous resampling). */
double fs_vrescale_alpha(double ekin, double ekin_ref, int ndf, double tau_t, double dt, uint64_t seed, uint64_t step);

/* Kinetic energy tensor 1/2 sum m v (x) v (kJ/mol). */
void fs_kinetic_tensor(int n, double *const v[3], const double *mass, double ek[3][3]);

/* Removes the centre-of-mass velocity of the non-frozen atoms (frozen atoms keep v = 0). frozen may be NULL (none
 * frozen). */
void fs_remove_com_velocity(int n, double *v[3], const double *mass, const unsigned char *frozen);

/* Degrees of freedom as GROMACS counts them: 3 per non-frozen atom, minus one per constraint (3 per settle),
 * minus 3 for comm-mode = linear. Water-23k with SETTLE and COM removal gives 46521. A constraint or settle that
 * involves frozen atoms removes what GROMACS's calc_nrdf_tc removes (a constraint to a frozen atom takes one degree of
 * freedom from its free partner, one between two frozen atoms nothing); COM removal takes 3 only from a count above 3
 * (else the result is 0) and only if some atom is free. Returns -1 (message recorded) when out of memory. */
int fs_degrees_of_freedom(const fs_topology *top, fs_comm_mode comm);

/* Maxwell-Boltzmann velocities at temperature t for non-frozen atoms, from (seed, 0, i, FS_RNG_STREAM_VELOCITIES);
 * frozen atoms get 0. (COM removal and constraint projection are the caller's.) */
void fs_maxwell_velocities(int n, double *v[3], const double *invmass, double t, uint64_t seed);

#endif

/*
 * constraints.h — holonomic constraints: SETTLE for rigid water, SHAKE/RATTLE for the others.
 *
 * SETTLE (Miyamoto & Kollman, J. Comput. Chem. 13, 952 (1992)) solves each [settles] water analytically; SHAKE
 * (Ryckaert, Ciccotti & Berendsen 1977) iterates the remaining constraints ([constraints] and bonds converted by
 * `constraints = h-bonds`) to a relative tolerance; RATTLE (Andersen 1983) removes the velocity components along
 * the constraints. Masses come from the topology; frozen atoms count as infinitely heavy. Distance vectors use the
 * minimum image. The constraint forces' virial, Xi = -1/2 sum r_ij (x) f_ij, is added when asked for.
 *
 * Virial convention (GROMACS's constr.cpp): a position step's displacement delta_i counts as the constraint force
 * f_i = m_i delta_i / dt^2 over the step, a velocity step's change dv_i as f_i = m_i dv_i / dt; r_ij are the
 * reference bond vectors (r_ref for positions, r for velocities), so Xi = -1/2 sum_i r_i (x) f_i within each
 * molecule. With velocity Verlet the corrections enter through half kicks and the physical force is twice that:
 * GROMACS doubles the constraint virial for its VV integrators, and so should a VV caller (tests/test_constraints.c
 * checks that for freely rotating rigid waters the doubled trace equals the rotational kinetic energy, for both the
 * position and the velocity step). Frozen atoms (inverse mass 0) never move; a constraint between two frozen
 * atoms is not enforced (and not counted by max_error); a SETTLE water with a frozen atom is solved by
 * SHAKE/RATTLE as three distances.
 */
#ifndef FS_CONSTRAINTS_H
#define FS_CONSTRAINTS_H

#include "box.h"
#include "status.h"
#include "topology.h"

typedef struct fs_constraints fs_constraints;

/* Prepares the constraints of `top` (borrowed; must outlive the object) with relative tolerance tol. */
fs_status fs_constraints_create(const fs_topology *top, double tol, fs_constraints **out);

/* Frees; accepts NULL and a pointer to NULL. */
void fs_constraints_destroy(fs_constraints **c);

/* Number of scalar constraints (3 per settle, 1 per other constraint). */
int fs_constraints_count(const fs_constraints *c);

/* Sets the most SHAKE/RATTLE sweeps a cluster may take before FS_ERR_NUMERIC (default 1000); max_iter >= 1. */
fs_status fs_constraints_set_max_iterations(fs_constraints *c, int max_iter);

/* Moves the unconstrained positions r (reached from r_ref, which satisfies the constraints) onto the constraint
 * surface along the constraint directions of r_ref. If v is not NULL it is corrected by the same displacement / dt;
 * if virial is not NULL the constraint virial is added (dt is used only when v or virial is given, and must then
 * be > 0: FS_ERR_INVALID otherwise).
 * r_ref may be the same arrays as r: that projects r along its own bond directions (starting coordinates read with
 * limited precision). SHAKE converges to | |r_ij| - d | <= tol d for every constraint (SETTLE is exact). Returns
 * FS_ERR_NUMERIC, naming the constraint (or water) and its atoms 1-based, when SHAKE does not converge or a water
 * cannot be settled; r and v are then partly updated. */
fs_status fs_constrain_positions(fs_constraints *c, const fs_box *box, double *const r_ref[3], double *r[3],
                                 double *v[3], double dt, double virial[3][3]);

/* Removes from v the components that would change constrained distances at positions r (RATTLE's second half;
 * SETTLE's velocity step: an exact projection for waters, iterated to |r_ij . v_ij| <= tol |r_ij| (|v_i| + |v_j|)
 * for SHAKE clusters); adds that correction's virial if virial is not NULL (then dt > 0 is required). */
fs_status fs_constrain_velocities(fs_constraints *c, const fs_box *box, double *const r[3], double *v[3], double dt,
                                  double virial[3][3]);

/* Largest relative deviation |r_ij - d|/d over all constraints at positions r (for tests and diagnostics). */
double fs_constraints_max_error(const fs_constraints *c, const fs_box *box, double *const r[3]);

#endif

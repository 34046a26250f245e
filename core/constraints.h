/*
 * constraints.h — holonomic constraints: SETTLE for rigid water, SHAKE/RATTLE for the others.
 *
 * SETTLE (Miyamoto & Kollman, J. Comput. Chem. 13, 952 (1992)) solves each [settles] water analytically; SHAKE
 * (Ryckaert, Ciccotti & Berendsen 1977) iterates the remaining constraints ([constraints] and bonds converted by
 * `constraints = h-bonds`) to a relative tolerance; RATTLE (Andersen 1983) removes the velocity components along
 * the constraints. Masses come from the topology; frozen atoms count as infinitely heavy. Distance vectors use the
 * minimum image. The constraint forces' virial, Xi = -1/2 sum r_ij (x) f_ij, is added when asked for.
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

/* Moves the unconstrained positions r (reached from r_ref, which satisfies the constraints) onto the constraint
 * surface along the constraint directions of r_ref. If v is not NULL it is corrected by the same displacement / dt;
 * if virial is not NULL the constraint virial is added. FS_ERR_NUMERIC, naming the constraint and its atoms, when
 * SHAKE does not converge or a water cannot be settled. */
fs_status fs_constrain_positions(fs_constraints *c, const fs_box *box, double *const r_ref[3], double *r[3],
                                 double *v[3], double dt, double virial[3][3]);

/* Removes from v the components that would change constrained distances at positions r (RATTLE's second half;
 * SETTLE's velocity step); adds that correction's virial if virial is not NULL. */
fs_status fs_constrain_velocities(fs_constraints *c, const fs_box *box, double *const r[3], double *v[3], double dt,
                                  double virial[3][3]);

/* Largest relative deviation |r_ij - d|/d over all constraints at positions r (for tests and diagnostics). */
double fs_constraints_max_error(const fs_constraints *c, const fs_box *box, double *const r[3]);

#endif

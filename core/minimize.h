/*
 * minimize.h — energy minimization of packed starting structures (steepest descent, as GROMACS's `steep`).
 */
#ifndef FS_MINIMIZE_H
#define FS_MINIMIZE_H

#include "../kernels/backend.h"
#include "constraints.h"

typedef struct {
    double emtol;  /* stop when the largest force is below this, kJ mol^-1 nm^-1 (10) */
    double emstep; /* initial maximum displacement, nm (0.01) */
    long nsteps;   /* at most this many energy evaluations (5000) */
} fs_minimize_params;

typedef struct {
    long steps;    /* energy evaluations done */
    double epot;   /* final potential energy, kJ/mol */
    double fmax;   /* final largest force (after constraint projection), kJ mol^-1 nm^-1 */
    int fmax_atom; /* its atom (0-based) */
    int converged; /* fmax < emtol */
} fs_minimize_result;

/* Called after every accepted step (may be NULL); a non-zero return stops the minimization early. */
typedef int (*fs_minimize_progress)(void *ctx, const fs_minimize_result *now);

/* Minimizes the positions in s (box fixed) with backend b, which must have been created for top. Constraints
 * (cons, may be NULL) are kept satisfied, and the forces are projected onto the constraint surface for the
 * convergence test. On return s holds the lowest-energy positions found and the backend holds them too. Not
 * converging within nsteps is not an error: see out->converged. */
fs_status fs_minimize(fs_backend *b, const fs_topology *top, fs_state *s, fs_constraints *cons,
                      const fs_minimize_params *p, fs_minimize_progress progress, void *ctx, fs_minimize_result *out);

#endif

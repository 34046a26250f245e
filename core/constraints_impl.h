/*
 * constraints_impl.h — private to core/constraints.c, core/settle.c and core/shake.c: the prepared constraint data
 * and the per-algorithm solvers. Nothing outside these three files includes it.
 *
 * Virial accumulators: every solver adds the tensor
 *     W_ab += sum over atoms r_a(reference, molecule-local) * m (delta)_b
 * for a position step (delta = displacement) or a velocity step (delta = velocity change), which equals
 * sum over constraints c of lambda_c s_c,a s_c,b when the corrections are m delta_i = sum_c (+-) lambda_c s_c.
 * constraints.c turns W into the virial: Xi = -1/2 W / dt^2 (positions) or -1/2 W / dt (velocities).
 */
#ifndef FS_CONSTRAINTS_IMPL_H
#define FS_CONSTRAINTS_IMPL_H

#include "constraints.h"

/* One rigid water solved analytically. */
typedef struct {
    int ow, hw1, hw2; /* atom indices */
    int index;        /* index in fs_topology.settles (for messages) */
    double mo, mh;    /* masses (both hydrogens have mh) */
    double wh;        /* mh / (mo + 2 mh) */
    double doh, dhh;
    double ra, rb, rc; /* canonical triangle: O at (0, ra, 0), H at (-+rc, -rb, 0) about the centre of mass */
} fs_settle_unit;

/* One distance constraint solved by SHAKE/RATTLE. */
typedef struct {
    int ai, aj;
    double length;
    int origin; /* >= 0: index in fs_topology.constraints; < 0: -(settle index) - 1 (a water solved by SHAKE) */
} fs_shake_con;

struct fs_constraints {
    const fs_topology *top;
    double tol;
    int max_iter;
    int count;       /* 3 per settle + 1 per topology constraint */
    double *invmass; /* per atom; 0 for frozen atoms */

    fs_settle_unit *settles;
    int nsettles;

    fs_shake_con *cons; /* grouped by coupled cluster */
    int ncons;
    int *cluster_start; /* cluster k holds cons[cluster_start[k] .. cluster_start[k+1]) */
    int nclusters;

    double *s;      /* scratch: 3 * ncons constraint vectors */
    double *lambda; /* scratch: ncons accumulated multipliers */
};

/* Minimum-image difference r_i - r_j. */
static inline void fs_cons_diff(const fs_box *box, double *const r[3], int i, int j, double d[3])
{
    for (int k = 0; k < 3; ++k) d[k] = r[k][i] - r[k][j];
    fs_box_min_image(box, d);
}

/* A human-readable description of constraint `con` for messages ("constraint 12 between atoms 5 (C2, EC 1) and
 * 7 (H21, EC 1)"), written into buf. */
void fs_cons_describe(const fs_constraints *c, const fs_shake_con *con, char *buf, size_t cap);

/* SETTLE position step for all waters: moves r (unconstrained, reached from r_ref) onto the rigid geometry; if v is
 * not NULL adds displacement * inv_dt; if w is not NULL adds the virial accumulator (see above). */
fs_status fs_settle_positions(const fs_constraints *c, const fs_box *box, double *const r_ref[3], double *r[3],
                              double *v[3], double inv_dt, double w[3][3]);

/* SETTLE velocity step: removes from v the components that change the three distances of each water at r
 * (the exact solution of the 3x3 linear system); adds the virial accumulator if w is not NULL. */
fs_status fs_settle_velocities(const fs_constraints *c, const fs_box *box, double *const r[3], double *v[3],
                               double w[3][3]);

/* SHAKE over every cluster; same contract as fs_settle_positions. */
fs_status fs_shake_positions(fs_constraints *c, const fs_box *box, double *const r_ref[3], double *r[3], double *v[3],
                             double inv_dt, double w[3][3]);

/* RATTLE's velocity step over every cluster. */
fs_status fs_rattle_velocities(fs_constraints *c, const fs_box *box, double *const r[3], double *v[3], double w[3][3]);

#endif

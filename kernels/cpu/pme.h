/*
 * pme.h — smooth particle-mesh Ewald (Essmann et al., J. Chem. Phys. 103, 8577 (1995)) on the CPU, with FFTW.
 *
 * Reciprocal-space Coulomb energy ("Coul. recip."), forces and virial, for B-spline order 3..12 on an n[0]*n[1]*n[2]
 * grid. Matches GROMACS's PME: same B-spline moduli (with GROMACS's fix-up of zero moduli), same influence function.
 */
#ifndef FS_CPU_PME_H
#define FS_CPU_PME_H

#include "../../core/box.h"
#include "../../core/status.h"
#include "accum.h"

typedef struct fs_pme fs_pme;

/* Plans FFTs and allocates grids for natoms atoms. */
fs_status fs_pme_create(const int n[3], int order, double beta, int natoms, fs_pme **out);

/* Frees; accepts NULL and a pointer to NULL. */
void fs_pme_destroy(fs_pme **pme);

/* Adds the reciprocal-space energy to acc->term[FS_TERM_COUL_RECIP], forces to acc->f, virial to acc->virial.
 * q are charges (e), `coulomb` = f/epsilon_r; r and q hold the natoms given to fs_pme_create. Positions may lie in
 * any periodic image. The box must be periodic along x, y and z (else FS_ERR_UNSUPPORTED); it may change between
 * calls (the grid does not). */
fs_status fs_pme_compute(fs_pme *pme, const fs_box *box, double *const r[3], const double *q, double coulomb,
                         fs_accum *acc);

/* Fault injection for negative-control tests only (SQLite style): each fault breaks one ingredient of SPME so that
 * a test can show that its accuracy bound detects it. Never set outside tests. */
typedef enum {
    FS_PME_FAULT_NONE = 0,
    FS_PME_FAULT_NO_BSPLINE_MODULI, /* divide by 1 instead of the B-spline moduli |b(m)|^-2 */
    FS_PME_FAULT_LOW_ORDER_DERIV    /* interpolate forces with the derivative of the spline one order lower */
} fs_pme_fault;
void fs_pme_set_fault(fs_pme *pme, fs_pme_fault fault);

#endif

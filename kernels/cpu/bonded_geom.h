/*
 * bonded_geom.h — private to kernels/cpu/bonded*.c: vector helpers and the per-term-list kernels shared by the
 * bonded modules (not part of the bonded.h contract; other modules call fs_cpu_bonded() only).
 */
#ifndef FS_CPU_BONDED_GEOM_H
#define FS_CPU_BONDED_GEOM_H

#include <math.h>

#include "accum.h"

static inline double bd_dot(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static inline void bd_cross(const double a[3], const double b[3], double c[3])
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

/* d = r_i - r_j, minimum image. */
static inline void fs_bonded_dx(const fs_box *box, double *const r[3], int i, int j, double d[3])
{
    for (int x = 0; x < 3; ++x) d[x] = r[x][i] - r[x][j];
    fs_box_min_image(box, d);
}

/* Adds -1/2 x (x) F to the virial for one atom at x (relative to the term's reference atom) feeling force F. */
static inline void fs_bonded_virial(fs_accum *acc, const double x[3], const double F[3])
{
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) acc->virial[a][b] -= 0.5 * x[a] * F[b];
}

/* Adds F to atom i's force. */
static inline void fs_bonded_addf(fs_accum *acc, int i, const double F[3])
{
    for (int x = 0; x < 3; ++x) acc->f[x][i] += F[x];
}

/* Per-list kernels (bonded.c and bonded_dihedrals.c). Each adds its energy to *energy and its forces and virial to
 * acc; indices have been checked by the caller. */
void fs_cpu_bonds(const fs_bond_list *l, const fs_box *box, double *const r[3], fs_accum *acc, double *energy);
void fs_cpu_angles(const fs_angle_list *l, int urey_bradley, const fs_box *box, double *const r[3], fs_accum *acc,
                   double *energy);
void fs_cpu_dih_periodic(const fs_dih_periodic_list *l, const fs_box *box, double *const r[3], fs_accum *acc,
                         double *energy);
void fs_cpu_dih_harmonic(const fs_dih_harmonic_list *l, const fs_box *box, double *const r[3], fs_accum *acc,
                         double *energy);
void fs_cpu_dih_rb(const fs_dih_rb_list *l, const fs_box *box, double *const r[3], fs_accum *acc, double *energy);

#endif

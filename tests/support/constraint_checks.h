/*
 * constraint_checks.h — helpers shared by the constraint suites (test_constraints.c, test_shake.c): coordinates,
 * thermal velocities, hand-built molecules, and the independent checks (own minimum image, distances, velocity
 * residuals, centre-of-mass shifts, the virial summed from displacements). Header-only (static inline).
 */
#ifndef FS_CONSTRAINT_CHECKS_H
#define FS_CONSTRAINT_CHECKS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/constraints.h"
#include "core/units.h"
#include "fs_test.h"

#define DT 0.002   /* time step, ps */
#define TEMP 300.0 /* K */
#define DOH 0.1    /* SPC/E geometry, nm */
#define DHH 0.16330

/* ---------------------------------------------------------------------------------------------------------------
 * Coordinates, random numbers, a topology clone. */

typedef struct {
    int n;
    double *x[3];
} coords;

static inline coords coords_new(int n)
{
    coords c = {n, {NULL, NULL, NULL}};
    for (int k = 0; k < 3; ++k) {
        c.x[k] = calloc((size_t)n, sizeof(double));
        assert_non_null(c.x[k]);
    }
    return c;
}

static inline coords coords_copy(int n, double *const src[3])
{
    coords c = coords_new(n);
    for (int k = 0; k < 3; ++k) memcpy(c.x[k], src[k], (size_t)n * sizeof(double));
    return c;
}

static inline void coords_free(coords *c)
{
    for (int k = 0; k < 3; ++k) free(c->x[k]);
}

static inline uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline double gauss(uint64_t *s)
{
    double u1 = ((double)(splitmix(s) >> 11) + 1.0) * 0x1.0p-53, u2 = (double)(splitmix(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * FS_PI * u2);
}

/* Maxwell-Boltzmann velocities at TEMP (0 for frozen atoms); r = r_ref + v DT when r is not NULL. */
static inline void thermal(const fs_topology *top, double *const r_ref[3], double *r[3], double *v[3], uint64_t seed)
{
    for (int i = 0; i < top->natoms; ++i) {
        const fs_atom *a = &top->atoms[i];
        const double sigma = a->frozen ? 0.0 : sqrt(FS_BOLTZ * TEMP / a->mass);
        for (int k = 0; k < 3; ++k) {
            v[k][i] = sigma * gauss(&seed);
            if (r) r[k][i] = r_ref[k][i] + v[k][i] * DT;
        }
    }
}

/* Own minimum image (round() rather than the library's nearbyint()). */
static inline void mi(const fs_box *b, double d[3])
{
    for (int k = 0; k < 3; ++k)
        if (b->periodic[k]) d[k] -= b->len[k] * round(d[k] / b->len[k]);
}

static inline void diff(const fs_box *b, double *const r[3], int i, int j, double d[3])
{
    for (int k = 0; k < 3; ++k) d[k] = r[k][i] - r[k][j];
    mi(b, d);
}

static inline double norm3(const double d[3])
{
    return sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
}

/* A new topology with the atoms and molecules of src and no interactions. */
static inline fs_topology *clone_atoms(const fs_topology *src)
{
    fs_topology *t = NULL;
    assert_int_equal(fs_topology_create(&t), FS_OK);
    for (int i = 0; i < src->natoms; ++i) assert_int_equal(fs_topology_add_atom(t, &src->atoms[i], NULL), FS_OK);
    for (int m = 0; m < src->nmolecules; ++m) assert_int_equal(fs_topology_add_molecule(t, &src->molecules[m]), FS_OK);
    return t;
}

/* The waters of src as three SHAKE constraints each. */
static inline fs_topology *waters_as_shake(const fs_topology *src)
{
    fs_topology *t = clone_atoms(src);
    for (int k = 0; k < src->settles.n; ++k) {
        const fs_settle *w = &src->settles.data[k];
        fs_constraint c1 = {w->ow, w->hw1, w->doh}, c2 = {w->ow, w->hw2, w->doh}, c3 = {w->hw1, w->hw2, w->dhh};
        assert_int_equal(fs_list_push(&t->constraints, c1), FS_OK);
        assert_int_equal(fs_list_push(&t->constraints, c2), FS_OK);
        assert_int_equal(fs_list_push(&t->constraints, c3), FS_OK);
    }
    return t;
}

/* The waters of src as settles with doh scaled and the hydrogen mass replaced (mh <= 0 keeps it). */
static inline fs_topology *waters_variant(const fs_topology *src, double doh_scale, double mh)
{
    fs_topology *t = clone_atoms(src);
    for (int k = 0; k < src->settles.n; ++k) {
        fs_settle w = src->settles.data[k];
        w.doh *= doh_scale;
        if (mh > 0.0) t->atoms[w.hw1].mass = t->atoms[w.hw2].mass = mh;
        assert_int_equal(fs_list_push(&t->settles, w), FS_OK);
    }
    return t;
}

static inline fs_constraints *make(const fs_topology *top, double tol)
{
    fs_constraints *c = NULL;
    if (fs_constraints_create(top, tol, &c) != FS_OK) fail_msg("%s", fs_error_message());
    return c;
}

static inline void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s: %s", fs_status_name(st), fs_error_message());
}

/* ---------------------------------------------------------------------------------------------------------------
 * Independent checks. */

/* Largest relative deviation over the settles and constraints of `top` (constraints between frozen atoms skipped). */
static inline double max_rel_error(const fs_topology *top, const fs_box *b, double *const r[3])
{
    double worst = 0.0, d[3];
    for (int k = 0; k < top->settles.n; ++k) {
        const fs_settle *w = &top->settles.data[k];
        const int pi[3] = {w->ow, w->ow, w->hw1}, pj[3] = {w->hw1, w->hw2, w->hw2};
        for (int q = 0; q < 3; ++q) {
            const double len = q < 2 ? w->doh : w->dhh;
            diff(b, r, pi[q], pj[q], d);
            worst = fmax(worst, fabs(norm3(d) - len) / len);
        }
    }
    for (int k = 0; k < top->constraints.n; ++k) {
        const fs_constraint *c = &top->constraints.data[k];
        if (top->atoms[c->ai].frozen && top->atoms[c->aj].frozen) continue;
        diff(b, r, c->ai, c->aj, d);
        worst = fmax(worst, fabs(norm3(d) - c->length) / c->length);
    }
    return worst;
}

/* Largest |r_ij . v_ij| / (|r_ij| (|v_i| + |v_j|)) over the constrained pairs of `top`. */
static inline double max_velocity_residual(const fs_topology *top, const fs_box *b, double *const r[3],
                                           double *const v[3])
{
    int npair = 3 * top->settles.n + top->constraints.n;
    double worst = 0.0;
    for (int p = 0; p < npair; ++p) {
        int i, j;
        if (p < 3 * top->settles.n) {
            const fs_settle *w = &top->settles.data[p / 3];
            const int pi[3] = {w->ow, w->ow, w->hw1}, pj[3] = {w->hw1, w->hw2, w->hw2};
            i = pi[p % 3];
            j = pj[p % 3];
        } else {
            i = top->constraints.data[p - 3 * top->settles.n].ai;
            j = top->constraints.data[p - 3 * top->settles.n].aj;
        }
        double d[3], vi[3], vj[3], vij[3];
        diff(b, r, i, j, d);
        for (int k = 0; k < 3; ++k) {
            vi[k] = v[k][i];
            vj[k] = v[k][j];
            vij[k] = vi[k] - vj[k];
        }
        const double scale = norm3(d) * (norm3(vi) + norm3(vj));
        if (scale > 0.0) worst = fmax(worst, fabs(d[0] * vij[0] + d[1] * vij[1] + d[2] * vij[2]) / scale);
    }
    return worst;
}

/* Per molecule: largest |sum_i m_i delta_i| / M (the centre-of-mass shift of a displacement delta = a - b). */
static inline double max_com_shift(const fs_topology *top, double *const a[3], double *const b[3])
{
    double worst = 0.0;
    for (int m = 0; m < top->nmolecules; ++m) {
        const fs_molecule *mol = &top->molecules[m];
        double p[3] = {0, 0, 0}, mass = 0.0;
        for (int i = mol->first_atom; i < mol->first_atom + mol->natoms; ++i) {
            for (int k = 0; k < 3; ++k) p[k] += top->atoms[i].mass * (a[k][i] - b[k][i]);
            mass += top->atoms[i].mass;
        }
        worst = fmax(worst, norm3(p) / mass);
    }
    return worst;
}

/* Xi = -scale/2 sum_molecules sum_i (ref_i - ref_first) (x) m_i (a_i - b_i), bond vectors from `ref`. */
static inline void virial_from_changes(const fs_topology *top, const fs_box *box, double *const ref[3],
                                       double *const a[3], double *const b[3], double scale, double xi[3][3])
{
    memset(xi, 0, 9 * sizeof(double));
    for (int m = 0; m < top->nmolecules; ++m) {
        const fs_molecule *mol = &top->molecules[m];
        for (int i = mol->first_atom; i < mol->first_atom + mol->natoms; ++i) {
            double d[3];
            diff(box, ref, i, mol->first_atom, d);
            for (int x = 0; x < 3; ++x)
                for (int y = 0; y < 3; ++y) xi[x][y] -= 0.5 * scale * d[x] * top->atoms[i].mass * (a[y][i] - b[y][i]);
        }
    }
}

/* max |a - b| over the nine components divided by max |b|. */
static inline double tensor_rel_diff(double a[3][3], double b[3][3])
{
    double dmax = 0.0, bmax = 0.0;
    for (int x = 0; x < 3; ++x)
        for (int y = 0; y < 3; ++y) {
            dmax = fmax(dmax, fabs(a[x][y] - b[x][y]));
            bmax = fmax(bmax, fabs(b[x][y]));
        }
    return dmax / bmax;
}

/* max over atoms and components of |a - b|. */
static inline double max_abs_diff(int n, double *const a[3], double *const b[3])
{
    double worst = 0.0;
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < n; ++i) worst = fmax(worst, fabs(a[k][i] - b[k][i]));
    return worst;
}

/* max over atoms of |v_i - (r_i - ref_i) / dt| */
static inline double max_velocity_mismatch(int n, double *const v[3], double *const r[3], double *const ref[3])
{
    double worst = 0.0;
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < n; ++i) worst = fmax(worst, fabs(v[k][i] - (r[k][i] - ref[k][i]) / DT));
    return worst;
}

/* A reference geometry on the constraint surface: the loaded positions projected by c. */
static inline coords project(fs_constraints *c, const fs_box *box, int n, double *const r[3])
{
    coords ref = coords_copy(n, r);
    must(fs_constrain_positions(c, box, r, ref.x, NULL, DT, NULL));
    return ref;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Hand-built molecules. */

static inline void add_atom(fs_topology *t, const char *name, double mass, int frozen, int mol)
{
    fs_atom a = {.mass = mass, .frozen = (unsigned char)frozen, .molecule = mol, .resnr = mol + 1};
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.resname, sizeof a.resname, "M%d", mol + 1);
    assert_int_equal(fs_topology_add_atom(t, &a, NULL), FS_OK);
}

static inline void add_mol(fs_topology *t, int first, int natoms)
{
    fs_molecule m = {.first_atom = first, .natoms = natoms};
    snprintf(m.name, sizeof m.name, "M%d", t->nmolecules + 1);
    assert_int_equal(fs_topology_add_molecule(t, &m), FS_OK);
}

static inline void push_constraint(fs_topology *t, int i, int j, double len)
{
    fs_constraint c = {i, j, len};
    assert_int_equal(fs_list_push(&t->constraints, c), FS_OK);
}

static inline void push_settle(fs_topology *t, int ow)
{
    fs_settle w = {ow, ow + 1, ow + 2, DOH, DHH};
    assert_int_equal(fs_list_push(&t->settles, w), FS_OK);
}

static inline void place_water(double *r[3], int ow, double x, double y, double z)
{
    const double sh = DHH / (2.0 * DOH), ch = sqrt(1.0 - sh * sh);
    const double p[3][3] = {{x, y, z}, {x + DOH * sh, y + DOH * ch, z}, {x - DOH * sh, y + DOH * ch, z}};
    for (int a = 0; a < 3; ++a)
        for (int k = 0; k < 3; ++k) r[k][ow + a] = p[a][k];
}

/* A topology of natoms atoms C1, C2, ... of the given mass, one molecule, no interactions. */
static inline fs_topology *chain(int natoms, double mass)
{
    fs_topology *t = NULL;
    assert_int_equal(fs_topology_create(&t), FS_OK);
    for (int i = 0; i < natoms; ++i) {
        char name[16];
        snprintf(name, sizeof name, "C%d", i + 1);
        add_atom(t, name, mass, 0, 0);
    }
    add_mol(t, 0, natoms);
    return t;
}

#endif

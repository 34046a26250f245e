/*
 * constraints.c — preparing the holonomic constraints of a topology and dispatching them to SETTLE and SHAKE/RATTLE.
 *
 * Preparation (fs_constraints_create) sorts the topology's constraints into two kinds:
 *   - every [settles] water whose atoms are all mobile and whose two hydrogens have the same mass is solved
 *     analytically by SETTLE (settle.c); its canonical geometry (ra, rb, rc) is computed once here;
 *   - the [constraints] list (including bonds turned into constraints by constraints = h-bonds / all-bonds), plus
 *     any water SETTLE cannot take (a frozen atom, unequal hydrogen masses) as three distance constraints, is
 *     solved by SHAKE/RATTLE (shake.c). A constraint between two frozen atoms is dropped: neither can move.
 * The SHAKE constraints are grouped into clusters that share atoms (union-find over atoms, clusters in order of
 * their first constraint, constraints in topology order within a cluster), so that each cluster iterates only
 * as long as it needs, and clusters could run in parallel. An atom may belong to one water or to SHAKE
 * constraints, not both (FS_ERR_UNSUPPORTED), as in GROMACS.
 *
 * Conventions (the contract in constraints.h):
 *   - frozen atoms have inverse mass 0; a non-frozen constrained atom must have a positive mass;
 *   - every bond vector is a minimum image (molecules may straddle the periodic box);
 *   - constraint forces and the virial. The displacement delta_i applied by a position step is the effect of a
 *     constraint force f_i = m_i delta_i / dt^2 acting over the step (the leapfrog relation r' = r + v dt +
 *     f dt^2 / m), and for a velocity step f_i = m_i dv_i / dt. The constraint forces of constraint c on its
 *     atoms are +-f_c along the reference bond vector r_c (r_ref for positions, r for velocities), and the virial
 *     added is Xi = -1/2 sum_c r_c (x) f_c = -1/2 sum_i r_i (x) f_i, the GROMACS definition (as vir_r_m_dr in
 *     GROMACS's constr.cpp). With velocity Verlet, where the correction enters through a half kick, the physical
 *     force is twice that: GROMACS doubles the constraint virial for its VV integrators, and so should the caller.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "constraints_impl.h"

#define FS_SHAKE_DEFAULT_MAX_ITER 1000

void fs_cons_describe(const fs_constraints *c, const fs_shake_con *con, char *buf, size_t cap)
{
    const fs_atom *a = &c->top->atoms[con->ai], *b = &c->top->atoms[con->aj];
    char what[64];
    if (con->origin >= 0)
        snprintf(what, sizeof what, "constraint %d", con->origin + 1);
    else
        snprintf(what, sizeof what, "a distance of water %d", -con->origin);
    snprintf(buf, cap, "%s between atoms %d (%s, %s %d) and %d (%s, %s %d)", what, con->ai + 1, a->name, a->resname,
             a->resnr, con->aj + 1, b->name, b->resname, b->resnr);
}

static int uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Groups c->cons (ncons entries, topology order) into clusters of constraints that share atoms. */
static fs_status build_clusters(fs_constraints *c, int natoms)
{
    int *parent = malloc((size_t)natoms * sizeof *parent);
    int *cluster_of_root = malloc((size_t)natoms * sizeof *cluster_of_root);
    int *cid = malloc((size_t)(c->ncons > 0 ? c->ncons : 1) * sizeof *cid);
    fs_shake_con *sorted = malloc((size_t)(c->ncons > 0 ? c->ncons : 1) * sizeof *sorted);
    c->cluster_start = malloc((size_t)(c->ncons + 1) * sizeof *c->cluster_start);
    fs_status st = FS_OK;
    if (!parent || !cluster_of_root || !cid || !sorted || !c->cluster_start) {
        st = fs_fail(FS_ERR_NOMEM, "out of memory grouping %d constraints", c->ncons);
        goto done;
    }
    for (int i = 0; i < natoms; ++i) {
        parent[i] = i;
        cluster_of_root[i] = -1;
    }
    for (int k = 0; k < c->ncons; ++k) {
        int a = uf_find(parent, c->cons[k].ai), b = uf_find(parent, c->cons[k].aj);
        if (a != b) parent[a < b ? b : a] = a < b ? a : b;
    }
    int n = 0;
    for (int k = 0; k < c->ncons; ++k) {
        int root = uf_find(parent, c->cons[k].ai);
        if (cluster_of_root[root] < 0) cluster_of_root[root] = n++;
        cid[k] = cluster_of_root[root];
    }
    /* counting sort by cluster, stable */
    for (int q = 0; q <= n; ++q) c->cluster_start[q] = 0;
    for (int k = 0; k < c->ncons; ++k) c->cluster_start[cid[k] + 1]++;
    for (int q = 0; q < n; ++q) c->cluster_start[q + 1] += c->cluster_start[q];
    for (int k = 0; k < c->ncons; ++k) sorted[c->cluster_start[cid[k]]++] = c->cons[k];
    for (int q = n; q > 0; --q) c->cluster_start[q] = c->cluster_start[q - 1];
    c->cluster_start[0] = 0;
    for (int k = 0; k < c->ncons; ++k) c->cons[k] = sorted[k];
    c->nclusters = n;
done:
    free(parent);
    free(cluster_of_root);
    free(cid);
    free(sorted);
    return st;
}

static fs_status add_shake(fs_constraints *c, int *cap, int ai, int aj, double length, int origin)
{
    if (c->invmass[ai] == 0.0 && c->invmass[aj] == 0.0) return FS_OK; /* both frozen */
    if (fs_list_grow_((void **)&c->cons, cap, c->ncons + 1, sizeof *c->cons))
        return fs_fail(FS_ERR_NOMEM, "out of memory preparing constraints");
    fs_shake_con con = {ai, aj, length, origin};
    c->cons[c->ncons++] = con;
    return FS_OK;
}

static fs_status check_atom(const fs_topology *top, int i, const char *what, int k)
{
    if (i < 0 || i >= top->natoms)
        return fs_fail(FS_ERR_INVALID, "%s %d refers to atom %d, but the topology has %d atoms", what, k + 1, i + 1,
                       top->natoms);
    const fs_atom *a = &top->atoms[i];
    if (!a->frozen && !(a->mass > 0.0))
        return fs_fail(FS_ERR_INVALID,
                       "%s %d: atom %d (%s, %s %d) has mass %g; a constrained atom needs a positive mass", what, k + 1,
                       i + 1, a->name, a->resname, a->resnr, a->mass);
    return FS_OK;
}

static fs_status prepare(fs_constraints *c)
{
    const fs_topology *top = c->top;
    const int n = top->natoms;
    c->invmass = malloc((size_t)(n > 0 ? n : 1) * sizeof *c->invmass);
    int *owner = malloc((size_t)(n > 0 ? n : 1) * sizeof *owner); /* -1 free, -2 SHAKE, k >= 0 water k */
    c->settles = malloc((size_t)(top->settles.n > 0 ? top->settles.n : 1) * sizeof *c->settles);
    fs_status st = FS_OK;
    if (!c->invmass || !owner || !c->settles) {
        st = fs_fail(FS_ERR_NOMEM, "out of memory preparing constraints");
        goto done;
    }
    for (int i = 0; i < n; ++i) {
        const fs_atom *a = &top->atoms[i];
        c->invmass[i] = a->frozen || !(a->mass > 0.0) ? 0.0 : 1.0 / a->mass;
        owner[i] = -1;
    }
    int cap = 0;
    for (int k = 0; k < top->settles.n && st == FS_OK; ++k) {
        const fs_settle *w = &top->settles.data[k];
        const int at[3] = {w->ow, w->hw1, w->hw2};
        for (int q = 0; q < 3 && st == FS_OK; ++q) {
            st = check_atom(top, at[q], "settle", k);
            if (st == FS_OK && owner[at[q]] != -1)
                st = fs_fail(FS_ERR_UNSUPPORTED, "settle %d: atom %d already belongs to water %d", k + 1, at[q] + 1,
                             owner[at[q]] + 1);
            if (st == FS_OK) owner[at[q]] = k;
        }
        if (st != FS_OK) break;
        if (!(w->doh > 0.0 && w->dhh > 0.0 && w->dhh < 2.0 * w->doh)) {
            st = fs_fail(FS_ERR_INVALID, "settle %d (atoms %d, %d, %d): doh = %g nm and dhh = %g nm make no triangle",
                         k + 1, at[0] + 1, at[1] + 1, at[2] + 1, w->doh, w->dhh);
            break;
        }
        const fs_atom *o = &top->atoms[w->ow], *h1 = &top->atoms[w->hw1], *h2 = &top->atoms[w->hw2];
        if (o->frozen || h1->frozen || h2->frozen || h1->mass != h2->mass) {
            const int origin = -k - 1;
            st = add_shake(c, &cap, w->ow, w->hw1, w->doh, origin);
            if (st == FS_OK) st = add_shake(c, &cap, w->ow, w->hw2, w->doh, origin);
            if (st == FS_OK) st = add_shake(c, &cap, w->hw1, w->hw2, w->dhh, origin);
            continue;
        }
        fs_settle_unit *u = &c->settles[c->nsettles++];
        u->ow = w->ow;
        u->hw1 = w->hw1;
        u->hw2 = w->hw2;
        u->index = k;
        u->mo = o->mass;
        u->mh = h1->mass;
        u->wh = u->mh / (u->mo + 2.0 * u->mh);
        u->doh = w->doh;
        u->dhh = w->dhh;
        u->rc = 0.5 * w->dhh;
        const double h = sqrt(w->doh * w->doh - u->rc * u->rc);
        u->ra = 2.0 * u->mh * h / (u->mo + 2.0 * u->mh);
        u->rb = h - u->ra;
    }
    for (int k = 0; k < top->constraints.n && st == FS_OK; ++k) {
        const fs_constraint *k1 = &top->constraints.data[k];
        st = check_atom(top, k1->ai, "constraint", k);
        if (st == FS_OK) st = check_atom(top, k1->aj, "constraint", k);
        if (st != FS_OK) break;
        if (k1->ai == k1->aj || !(k1->length > 0.0) || !isfinite(k1->length)) {
            st = fs_fail(FS_ERR_INVALID, "constraint %d between atoms %d and %d has length %g nm", k + 1, k1->ai + 1,
                         k1->aj + 1, k1->length);
            break;
        }
        const int ends[2] = {k1->ai, k1->aj};
        for (int q = 0; q < 2; ++q) {
            if (owner[ends[q]] >= 0) {
                st = fs_fail(FS_ERR_UNSUPPORTED,
                             "constraint %d: atom %d belongs to water %d (settles); SETTLE waters cannot share atoms "
                             "with other constraints",
                             k + 1, ends[q] + 1, owner[ends[q]] + 1);
                break;
            }
            owner[ends[q]] = -2;
        }
        if (st == FS_OK) st = add_shake(c, &cap, k1->ai, k1->aj, k1->length, k);
    }
    if (st == FS_OK) st = build_clusters(c, n);
    if (st == FS_OK) {
        c->s = malloc((size_t)(3 * c->ncons + 1) * sizeof *c->s);
        c->lambda = malloc((size_t)(c->ncons + 1) * sizeof *c->lambda);
        if (!c->s || !c->lambda) st = fs_fail(FS_ERR_NOMEM, "out of memory preparing constraints");
    }
done:
    free(owner);
    return st;
}

fs_status fs_constraints_create(const fs_topology *top, double tol, fs_constraints **out)
{
    *out = NULL;
    if (!(tol > 0.0 && tol < 1.0))
        return fs_fail(FS_ERR_INVALID, "constraint tolerance %g is not in (0, 1) (shake-tol is relative)", tol);
    fs_constraints *c = calloc(1, sizeof *c);
    if (!c) return fs_fail(FS_ERR_NOMEM, "out of memory allocating constraints");
    c->top = top;
    c->tol = tol;
    c->max_iter = FS_SHAKE_DEFAULT_MAX_ITER;
    c->count = 3 * top->settles.n + top->constraints.n;
    fs_status st = prepare(c);
    if (st != FS_OK) {
        fs_constraints_destroy(&c);
        return st;
    }
    *out = c;
    return FS_OK;
}

void fs_constraints_destroy(fs_constraints **c)
{
    if (!c || !*c) return;
    fs_constraints *p = *c;
    free(p->invmass);
    free(p->settles);
    free(p->cons);
    free(p->cluster_start);
    free(p->s);
    free(p->lambda);
    free(p);
    *c = NULL;
}

int fs_constraints_count(const fs_constraints *c)
{
    return c->count;
}

fs_status fs_constraints_set_max_iterations(fs_constraints *c, int max_iter)
{
    if (max_iter < 1) return fs_fail(FS_ERR_INVALID, "SHAKE/RATTLE iteration limit %d is not positive", max_iter);
    c->max_iter = max_iter;
    return FS_OK;
}

fs_status fs_constrain_positions(fs_constraints *c, const fs_box *box, double *const r_ref[3], double *r[3],
                                 double *v[3], double dt, double virial[3][3])
{
    if ((v || virial) && !(dt > 0.0))
        return fs_fail(FS_ERR_INVALID, "constraining positions with dt = %g ps (must be positive)", dt);
    double w[3][3] = {{0}};
    const double inv_dt = v ? 1.0 / dt : 0.0;
    fs_status st = fs_settle_positions(c, box, r_ref, r, v, inv_dt, virial ? w : NULL);
    if (st == FS_OK) st = fs_shake_positions(c, box, r_ref, r, v, inv_dt, virial ? w : NULL);
    if (st != FS_OK) return st;
    if (virial) {
        const double f = -0.5 / (dt * dt);
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) virial[a][b] += f * w[a][b];
    }
    return FS_OK;
}

fs_status fs_constrain_velocities(fs_constraints *c, const fs_box *box, double *const r[3], double *v[3], double dt,
                                  double virial[3][3])
{
    if (virial && !(dt > 0.0))
        return fs_fail(FS_ERR_INVALID, "constraining velocities with dt = %g ps (must be positive)", dt);
    double w[3][3] = {{0}};
    fs_status st = fs_settle_velocities(c, box, r, v, virial ? w : NULL);
    if (st == FS_OK) st = fs_rattle_velocities(c, box, r, v, virial ? w : NULL);
    if (st != FS_OK) return st;
    if (virial) {
        const double f = -0.5 / dt;
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) virial[a][b] += f * w[a][b];
    }
    return FS_OK;
}

/* worst = max(worst, e), where a NaN wins and stays. */
static void worse(double *worst, double e)
{
    if (!isnan(*worst) && !(e <= *worst)) *worst = e;
}

static double rel_dev(const fs_box *box, double *const r[3], int i, int j, double length)
{
    double d[3];
    fs_cons_diff(box, r, i, j, d);
    return fabs(sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) - length) / length;
}

double fs_constraints_max_error(const fs_constraints *c, const fs_box *box, double *const r[3])
{
    double worst = 0.0;
    for (int k = 0; k < c->nsettles; ++k) {
        const fs_settle_unit *u = &c->settles[k];
        const double e[3] = {rel_dev(box, r, u->ow, u->hw1, u->doh), rel_dev(box, r, u->ow, u->hw2, u->doh),
                             rel_dev(box, r, u->hw1, u->hw2, u->dhh)};
        for (int q = 0; q < 3; ++q) worse(&worst, e[q]);
    }
    for (int k = 0; k < c->ncons; ++k) {
        worse(&worst, rel_dev(box, r, c->cons[k].ai, c->cons[k].aj, c->cons[k].length));
    }
    return worst;
}

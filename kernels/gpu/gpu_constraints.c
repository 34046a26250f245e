/*
 * gpu_constraints.c — holonomic constraints on the device: SETTLE for rigid waters, SHAKE (positions) and RATTLE
 * (velocities) by clusters for every other constraint, and the constraint virial.
 *
 * What it computes
 * ----------------
 * The contracts of core/constraints.h, on the device's positions and velocities (mixed4, double in both
 * precisions):
 *   gpu_constrain_positions(c, pos_ref, dt, wv)   moves g->pos onto the constraint surface along the constraint
 *       directions of pos_ref (which satisfies the constraints), adds the displacement / dt to g->vel, and adds
 *       wv * Xi to the energy slots GPU_E_CONS_VIRIAL, Xi = -1/2 W / dt^2, W = sum_i r_i,ref (x) m_i delta_i
 *       (molecule-local reference positions, delta the displacement): GROMACS's convention, the constraint force
 *       m delta / dt^2 acting over the step (core/constraints.c). wv = 2 gives velocity Verlet's physical virial.
 *   gpu_constrain_velocities(c, dt)                removes from g->vel the components along the constraints at
 *       g->pos (RATTLE's second half; SETTLE's exact projection for waters).
 * SETTLE (Miyamoto & Kollman 1992) is exact; SHAKE converges to | |r_ij| - d | <= tol d for every constraint and
 * RATTLE to |r_ij . v_ij| <= tol |r_ij| (|v_i| + |v_j|), exactly as the CPU reference measures them. The kernels
 * (kernels/common/cons_settle.kernel, cons_shake.kernel) transcribe core/settle.c and core/shake.c operation for
 * operation, so the device and CPU results agree to rounding (and to the tolerance where rounding changes the
 * sweep at which a cluster stops).
 *
 * Preparation (create)
 * --------------------
 * The topology's constraints are sorted as core/constraints.c sorts them, and validated by it
 * (fs_constraints_create gives the same error messages for bad indices, masses, shared atoms or impossible
 * triangles):
 *   - a [settles] water with all atoms mobile and equal hydrogen masses goes to SETTLE: its atoms and the masses
 *     and canonical triangle (ra, rb, rc) are uploaded, one entry per water;
 *   - every other water (a frozen atom, unequal hydrogens) becomes three SHAKE distances, followed by the
 *     [constraints] list (bonds converted by constraints = h-bonds / all-bonds included); a constraint between two
 *     frozen atoms is dropped, and a frozen atom has inverse mass 0 (stored with each constraint), so it never
 *     moves and its partner takes the whole correction;
 *   - the SHAKE constraints are grouped into clusters, the connected components of the constraint graph
 *     (union-find over atoms; clusters in order of their first constraint, constraints in topology order within
 *     a cluster — the CPU's order, so the Gauss-Seidel sweeps visit constraints in the same sequence). With
 *     h-bonds a cluster is a heavy atom and its hydrogens: 1-4 constraints.
 * All of it is uploaded once; a scratch of one double4 per constraint holds its reference vector and multiplier.
 *
 * Algorithm on the device
 * -----------------------
 * One work-item per water and one per cluster (waters and clusters share no atoms, so no two work-items touch one
 * atom and no atomics are needed on positions or velocities); the SETTLE and SHAKE launches are independent and
 * queued back to back. Each cluster iterates on its own to the tolerance, at most max_iter sweeps (1000, as the
 * CPU; gpu_constraints_set_max_iterations). A water or cluster that fails (no convergence, a bond turned ~90
 * degrees in one step, a water distorted beyond the reach of SETTLE) is left as it is and reported in the flag
 * buffer: flags[GPU_F_ERROR] = GPU_ERR_CONSTRAINT if no error was recorded before, flags[GPU_F_ERROR_ATOM] = the
 * water's oxygen or the cluster's lowest atom index. Like every kernel of the step sequence, the constraint kernels
 * do nothing while flags[GPU_F_ERROR] is set, so the host finds the state as the failure left it. Nothing waits for
 * the queue: the caller reads the flags when it checks the step. The virial is summed per work-group in fixed point
 * (rounded to nearest) and added with one atomic per group and component, only when a weight is given.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/constraints.h"
#include "gpu_backend_impl.h"

#define CONS_GROUP 64 /* work-group size of the constraint kernels (their reduction tables are sized by it) */
#define CONS_DEFAULT_MAX_ITER 1000

struct gpu_constraints {
    gpu_backend *g;
    double tol;
    int max_iter;
    int count; /* 3 per settle + 1 per topology constraint, as fs_constraints_count */
    int nwater, ncons, nclusters;
    gpu_buf *wat;     /* int[4 nwater]: O, H1, H2, 0 */
    gpu_buf *wpar;    /* double4[2 nwater]: (mO, mH, mH / (mO + 2 mH), 0), (ra, rb, rc, 0) */
    gpu_buf *cstart;  /* int[nclusters + 1] */
    gpu_buf *catoms;  /* int[2 ncons] */
    gpu_buf *cpar;    /* double4[ncons]: (length, 1/m_i, 1/m_j, 0) */
    gpu_buf *scratch; /* double4[ncons] */
    gpu_kernel *settle_pos, *settle_vel, *shake_pos, *rattle_vel;
};

fs_status gpu_constraints_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d)
{
    (void)top, (void)p, (void)use_double;
    gpu_define_int(d, "CONS_GROUP", CONS_GROUP);
    return FS_OK;
}

/* Host-side tables in the CPU reference's order (see the essay). */
typedef struct {
    int nwater, ncons, cap;
    int *wat;
    double *wpar;
    int *ai, *aj;
    double *cpar;
    int *cstart;
    int nclusters;
} tables;

static void tables_free(tables *t)
{
    free(t->wat);
    free(t->wpar);
    free(t->ai);
    free(t->aj);
    free(t->cpar);
    free(t->cstart);
}

static double inverse_mass(const fs_atom *a)
{
    return a->frozen || !(a->mass > 0.0) ? 0.0 : 1.0 / a->mass;
}

static int add_con(tables *t, const fs_topology *top, int i, int j, double length)
{
    const double wi = inverse_mass(&top->atoms[i]), wj = inverse_mass(&top->atoms[j]);
    if (wi == 0.0 && wj == 0.0) return 0; /* both frozen: neither can move */
    int k = t->ncons++;
    t->ai[k] = i;
    t->aj[k] = j;
    double *p = t->cpar + 4 * k;
    p[0] = length;
    p[1] = wi;
    p[2] = wj;
    p[3] = 0.0;
    return 0;
}

static int uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

/* Sorts the constraints into clusters (stable, clusters in order of first appearance), as core/constraints.c. */
static fs_status cluster(tables *t, int natoms)
{
    const int nc = t->ncons;
    int *parent = malloc((size_t)(natoms > 0 ? natoms : 1) * sizeof *parent);
    int *cid_of_root = malloc((size_t)(natoms > 0 ? natoms : 1) * sizeof *cid_of_root);
    int *cid = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *cid);
    int *ai = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *ai), *aj = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *aj);
    double *cpar = malloc((size_t)(nc > 0 ? nc : 1) * 4 * sizeof *cpar);
    t->cstart = malloc((size_t)(nc + 1) * sizeof *t->cstart);
    fs_status st = FS_OK;
    if (!parent || !cid_of_root || !cid || !ai || !aj || !cpar || !t->cstart) {
        st = fs_fail(FS_ERR_NOMEM, "out of memory grouping %d constraints", nc);
        goto done;
    }
    for (int i = 0; i < natoms; ++i) {
        parent[i] = i;
        cid_of_root[i] = -1;
    }
    for (int k = 0; k < nc; ++k) {
        int a = uf_find(parent, t->ai[k]), b = uf_find(parent, t->aj[k]);
        if (a != b) parent[a < b ? b : a] = a < b ? a : b;
    }
    int n = 0;
    for (int k = 0; k < nc; ++k) {
        int root = uf_find(parent, t->ai[k]);
        if (cid_of_root[root] < 0) cid_of_root[root] = n++;
        cid[k] = cid_of_root[root];
    }
    for (int q = 0; q <= n; ++q) t->cstart[q] = 0;
    for (int k = 0; k < nc; ++k) t->cstart[cid[k] + 1]++;
    for (int q = 0; q < n; ++q) t->cstart[q + 1] += t->cstart[q];
    for (int k = 0; k < nc; ++k) {
        int to = t->cstart[cid[k]]++;
        ai[to] = t->ai[k];
        aj[to] = t->aj[k];
        memcpy(cpar + 4 * to, t->cpar + 4 * k, 4 * sizeof *cpar);
    }
    for (int q = n; q > 0; --q) t->cstart[q] = t->cstart[q - 1];
    t->cstart[0] = 0;
    memcpy(t->ai, ai, (size_t)nc * sizeof *ai);
    memcpy(t->aj, aj, (size_t)nc * sizeof *aj);
    memcpy(t->cpar, cpar, (size_t)nc * 4 * sizeof *cpar);
    t->nclusters = n;
done:
    free(parent);
    free(cid_of_root);
    free(cid);
    free(ai);
    free(aj);
    free(cpar);
    return st;
}

/* The tables of an already validated topology (fs_constraints_create accepted it). */
static fs_status build_tables(const fs_topology *top, tables *t)
{
    memset(t, 0, sizeof *t);
    const int nw = top->settles.n, ncmax = 3 * top->settles.n + top->constraints.n;
    t->wat = malloc((size_t)(nw > 0 ? nw : 1) * 4 * sizeof *t->wat);
    t->wpar = malloc((size_t)(nw > 0 ? nw : 1) * 8 * sizeof *t->wpar);
    t->ai = malloc((size_t)(ncmax > 0 ? ncmax : 1) * sizeof *t->ai);
    t->aj = malloc((size_t)(ncmax > 0 ? ncmax : 1) * sizeof *t->aj);
    t->cpar = malloc((size_t)(ncmax > 0 ? ncmax : 1) * 4 * sizeof *t->cpar);
    if (!t->wat || !t->wpar || !t->ai || !t->aj || !t->cpar)
        return fs_fail(FS_ERR_NOMEM, "out of memory preparing %d constraints", ncmax);
    for (int k = 0; k < nw; ++k) {
        const fs_settle *w = &top->settles.data[k];
        const fs_atom *o = &top->atoms[w->ow], *h1 = &top->atoms[w->hw1], *h2 = &top->atoms[w->hw2];
        if (o->frozen || h1->frozen || h2->frozen || h1->mass != h2->mass) {
            add_con(t, top, w->ow, w->hw1, w->doh);
            add_con(t, top, w->ow, w->hw2, w->doh);
            add_con(t, top, w->hw1, w->hw2, w->dhh);
            continue;
        }
        const int q = t->nwater++;
        t->wat[4 * q] = w->ow;
        t->wat[4 * q + 1] = w->hw1;
        t->wat[4 * q + 2] = w->hw2;
        t->wat[4 * q + 3] = 0;
        const double mo = o->mass, mh = h1->mass;
        const double rc = 0.5 * w->dhh, h = sqrt(w->doh * w->doh - rc * rc);
        const double ra = 2.0 * mh * h / (mo + 2.0 * mh);
        double *p = t->wpar + 8 * q;
        p[0] = mo;
        p[1] = mh;
        p[2] = mh / (mo + 2.0 * mh);
        p[3] = 0.0;
        p[4] = ra;
        p[5] = h - ra;
        p[6] = rc;
        p[7] = 0.0;
    }
    for (int k = 0; k < top->constraints.n; ++k) {
        const fs_constraint *c = &top->constraints.data[k];
        add_con(t, top, c->ai, c->aj, c->length);
    }
    return cluster(t, top->natoms);
}

static fs_status upload(gpu_backend *g, size_t bytes, const void *src, const char *what, gpu_buf **out)
{
    fs_status st = gpu_alloc(g, bytes, what, out);
    if (st == FS_OK && bytes > 0) st = g->api->write(g->dev, *out, 0, bytes, src);
    return st;
}

fs_status gpu_constraints_create(gpu_backend *g, double tol, gpu_constraints **out)
{
    *out = NULL;
    const fs_topology *top = g->top;
    fs_constraints *check = NULL;
    fs_status st = fs_constraints_create(top, tol, &check); /* validation, with the CPU reference's messages */
    if (st != FS_OK) return st;
    const int count = fs_constraints_count(check);
    fs_constraints_destroy(&check);

    gpu_constraints *c = calloc(1, sizeof *c);
    if (!c) return fs_fail(FS_ERR_NOMEM, "out of memory creating the constraint module");
    c->g = g;
    c->tol = tol;
    c->max_iter = CONS_DEFAULT_MAX_ITER;
    c->count = count;
    tables t;
    st = build_tables(top, &t);
    if (st == FS_OK) {
        c->nwater = t.nwater;
        c->ncons = t.ncons;
        c->nclusters = t.nclusters;
        const size_t nw = (size_t)t.nwater, nc = (size_t)t.ncons;
        int *catoms = malloc((nc > 0 ? nc : 1) * 2 * sizeof *catoms);
        if (!catoms) st = fs_fail(FS_ERR_NOMEM, "out of memory preparing %d constraints", t.ncons);
        for (size_t k = 0; catoms && k < nc; ++k) {
            catoms[2 * k] = t.ai[k];
            catoms[2 * k + 1] = t.aj[k];
        }
        if (st == FS_OK) st = upload(g, nw * 4 * sizeof(int), t.wat, "SETTLE atoms", &c->wat);
        if (st == FS_OK) st = upload(g, nw * 8 * sizeof(double), t.wpar, "SETTLE parameters", &c->wpar);
        if (st == FS_OK)
            st = upload(g, ((size_t)t.nclusters + 1) * sizeof(int), t.cstart, "constraint clusters", &c->cstart);
        if (st == FS_OK) st = upload(g, nc * 2 * sizeof(int), catoms, "constraint atoms", &c->catoms);
        if (st == FS_OK) st = upload(g, nc * 4 * sizeof(double), t.cpar, "constraint parameters", &c->cpar);
        if (st == FS_OK) st = gpu_alloc(g, nc * 4 * sizeof(double), "constraint scratch", &c->scratch);
        free(catoms);
    }
    tables_free(&t);
    if (st == FS_OK) st = gpu_get_kernel(g, "cons_settle_positions", &c->settle_pos);
    if (st == FS_OK) st = gpu_get_kernel(g, "cons_settle_velocities", &c->settle_vel);
    if (st == FS_OK) st = gpu_get_kernel(g, "cons_shake_positions", &c->shake_pos);
    if (st == FS_OK) st = gpu_get_kernel(g, "cons_rattle_velocities", &c->rattle_vel);
    if (st != FS_OK) {
        gpu_constraints_destroy(&c);
        return st;
    }
    *out = c;
    return FS_OK;
}

void gpu_constraints_destroy(gpu_constraints **c)
{
    if (!c || !*c) return;
    gpu_constraints *p = *c;
    const gpu_api *api = p->g ? p->g->api : NULL;
    if (api) {
        api->kernel_release(&p->settle_pos);
        api->kernel_release(&p->settle_vel);
        api->kernel_release(&p->shake_pos);
        api->kernel_release(&p->rattle_vel);
        api->release(&p->wat);
        api->release(&p->wpar);
        api->release(&p->cstart);
        api->release(&p->catoms);
        api->release(&p->cpar);
        api->release(&p->scratch);
    }
    free(p);
    *c = NULL;
}

int gpu_constraints_count(const gpu_constraints *c)
{
    return c ? c->count : 0;
}

fs_status gpu_constraints_set_max_iterations(gpu_constraints *c, int max_iter)
{
    if (max_iter < 1) return fs_fail(FS_ERR_INVALID, "SHAKE/RATTLE iteration limit %d is not positive", max_iter);
    c->max_iter = max_iter;
    return FS_OK;
}

fs_status gpu_constrain_positions(gpu_constraints *c, gpu_buf *pos_ref, double dt, double virial_weight)
{
    gpu_backend *g = c->g;
    if (!(dt >= 0.0) || (virial_weight != 0.0 && !(dt > 0.0)))
        return fs_fail(FS_ERR_INVALID, "constraining positions with dt = %g ps (must be positive)", dt);
    gpu_buf *ref = pos_ref ? pos_ref : g->pos;
    gpu_double4 box, inv;
    gpu_box_args(g, NULL, NULL, &box, &inv);
    const double inv_dt = dt > 0.0 ? 1.0 / dt : 0.0;
    const double vir_scale = virial_weight != 0.0 ? -0.5 * virial_weight / (dt * dt) : 0.0;
    fs_status st = FS_OK;
    if (c->nwater > 0) {
        st = gpu_args(g, c->settle_pos, 12, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(ref), GPU_ARG_BUF(g->vel),
                      GPU_ARG_BUF(c->wat), GPU_ARG_BUF(c->wpar), GPU_ARG(c->nwater), GPU_ARG(box), GPU_ARG(inv),
                      GPU_ARG(inv_dt), GPU_ARG(vir_scale), GPU_ARG_BUF(g->energy), GPU_ARG_BUF(g->flags));
        if (st == FS_OK) st = gpu_run(g, c->settle_pos, (size_t)c->nwater, CONS_GROUP);
    }
    if (st == FS_OK && c->nclusters > 0) {
        st = gpu_args(g, c->shake_pos, 16, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(ref), GPU_ARG_BUF(g->vel),
                      GPU_ARG_BUF(c->cstart), GPU_ARG_BUF(c->catoms), GPU_ARG_BUF(c->cpar), GPU_ARG_BUF(c->scratch),
                      GPU_ARG(c->nclusters), GPU_ARG(box), GPU_ARG(inv), GPU_ARG(c->tol), GPU_ARG(c->max_iter),
                      GPU_ARG(inv_dt), GPU_ARG(vir_scale), GPU_ARG_BUF(g->energy), GPU_ARG_BUF(g->flags));
        if (st == FS_OK) st = gpu_run(g, c->shake_pos, (size_t)c->nclusters, CONS_GROUP);
    }
    return st;
}

fs_status gpu_constrain_velocities(gpu_constraints *c, double dt)
{
    return gpu_constrain_velocities_virial(c, dt, 0.0);
}

fs_status gpu_constrain_velocities_virial(gpu_constraints *c, double dt, double virial_weight)
{
    gpu_backend *g = c->g;
    if (virial_weight != 0.0 && !(dt > 0.0))
        return fs_fail(FS_ERR_INVALID, "constraining velocities with dt = %g ps (must be positive)", dt);
    gpu_double4 box, inv;
    gpu_box_args(g, NULL, NULL, &box, &inv);
    const double vir_scale = virial_weight != 0.0 ? -0.5 * virial_weight / dt : 0.0;
    fs_status st = FS_OK;
    if (c->nwater > 0) {
        st = gpu_args(g, c->settle_vel, 10, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->vel), GPU_ARG_BUF(c->wat),
                      GPU_ARG_BUF(c->wpar), GPU_ARG(c->nwater), GPU_ARG(box), GPU_ARG(inv), GPU_ARG(vir_scale),
                      GPU_ARG_BUF(g->energy), GPU_ARG_BUF(g->flags));
        if (st == FS_OK) st = gpu_run(g, c->settle_vel, (size_t)c->nwater, CONS_GROUP);
    }
    if (st == FS_OK && c->nclusters > 0) {
        st = gpu_args(g, c->rattle_vel, 14, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->vel), GPU_ARG_BUF(c->cstart),
                      GPU_ARG_BUF(c->catoms), GPU_ARG_BUF(c->cpar), GPU_ARG_BUF(c->scratch), GPU_ARG(c->nclusters),
                      GPU_ARG(box), GPU_ARG(inv), GPU_ARG(c->tol), GPU_ARG(c->max_iter), GPU_ARG(vir_scale),
                      GPU_ARG_BUF(g->energy), GPU_ARG_BUF(g->flags));
        if (st == FS_OK) st = gpu_run(g, c->rattle_vel, (size_t)c->nclusters, CONS_GROUP);
    }
    return st;
}

/*
 * minimize.c — steepest descent with an adaptive step, GROMACS's `integrator = steep`.
 *
 * From positions x with forces F and largest force magnitude Fmax, the trial is x' = x + h F / Fmax, so no atom
 * moves more than h. If the energy drops the trial is accepted and h grows by 1.2; otherwise it is discarded and h
 * shrinks by 0.2 (GROMACS's factors). Constraints: the trial is put back on the constraint surface (SHAKE/SETTLE
 * from x), and the force used for the convergence test is the constrained force, the projection of F that keeps
 * the constraints (computed like a RATTLE velocity step on F/m, then multiplied by m). Frozen atoms get no
 * displacement. The loop ends when Fmax < emtol, after nsteps energy evaluations, or when h falls below 1e-12 nm
 * (no representable progress).
 *
 * The minimizer drives the backend through its public interface (upload positions, compute, download forces):
 * minimization is short and off the critical path, so the transfers do not matter.
 */
#include "minimize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double *r[3], *f[3], *v[3];
} arrays;

static void arrays_free(arrays *a)
{
    for (int d = 0; d < 3; ++d) {
        free(a->r[d]);
        free(a->f[d]);
        free(a->v[d]);
    }
}

static int arrays_alloc(arrays *a, int n)
{
    memset(a, 0, sizeof *a);
    size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(double);
    for (int d = 0; d < 3; ++d)
        if (!(a->r[d] = malloc(bytes)) || !(a->f[d] = malloc(bytes)) || !(a->v[d] = malloc(bytes))) return 0;
    return 1;
}

/* Energy and forces at the positions in s. */
static fs_status evaluate(fs_backend *b, fs_state *s, double *epot)
{
    fs_energies e;
    fs_status st = b->ops->upload(b, s);
    if (st == FS_OK) st = b->ops->compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY, &e);
    if (st == FS_OK) st = b->ops->download(b, s, FS_SYNC_FORCES);
    if (st == FS_OK) *epot = fs_energies_potential(&e);
    return st;
}

/* Largest constrained force; the projected forces are left in tmp->f. */
static fs_status max_force(const fs_topology *top, fs_state *s, fs_constraints *cons, arrays *tmp, double *fmax,
                           int *atom)
{
    int n = s->natoms;
    for (int i = 0; i < n; ++i) {
        double w = top->atoms[i].frozen || top->atoms[i].mass <= 0 ? 0.0 : 1.0 / top->atoms[i].mass;
        for (int d = 0; d < 3; ++d) tmp->v[d][i] = s->f[d][i] * w;
    }
    if (cons) {
        fs_status st = fs_constrain_velocities(cons, &s->box, s->r, tmp->v, 1.0, NULL);
        if (st != FS_OK) return st;
    }
    *fmax = 0.0;
    *atom = 0;
    for (int i = 0; i < n; ++i) {
        double f2 = 0.0;
        for (int d = 0; d < 3; ++d) {
            tmp->f[d][i] = tmp->v[d][i] * top->atoms[i].mass;
            f2 += tmp->f[d][i] * tmp->f[d][i];
        }
        if (f2 > *fmax * *fmax) {
            *fmax = sqrt(f2);
            *atom = i;
        }
    }
    return FS_OK;
}

fs_status fs_minimize(fs_backend *b, const fs_topology *top, fs_state *s, fs_constraints *cons,
                      const fs_minimize_params *p, fs_minimize_progress progress, void *ctx, fs_minimize_result *out)
{
    int n = s->natoms;
    size_t bytes = (size_t)n * sizeof(double);
    arrays best, tmp;
    memset(out, 0, sizeof *out);
    if (!arrays_alloc(&best, n) || !arrays_alloc(&tmp, n)) {
        arrays_free(&best);
        arrays_free(&tmp);
        return fs_fail(FS_ERR_NOMEM, "out of memory minimizing %d atoms", n);
    }
    double e0 = 0.0, fmax = 0.0;
    int fatom = 0;
    fs_status st = FS_OK;
    if (cons) {
        for (int d = 0; d < 3; ++d) memcpy(tmp.r[d], s->r[d], bytes);
        st = fs_constrain_positions(cons, &s->box, tmp.r, s->r, NULL, 1.0, NULL);
    }
    if (st == FS_OK) st = evaluate(b, s, &e0);
    if (st == FS_OK) st = max_force(top, s, cons, &tmp, &fmax, &fatom);
    out->steps = 1;
    double h = p->emstep;
    while (st == FS_OK && fmax >= p->emtol && out->steps < p->nsteps && h > 1e-12) {
        for (int d = 0; d < 3; ++d) {
            memcpy(best.r[d], s->r[d], bytes);
            memcpy(best.f[d], s->f[d], bytes);
            for (int i = 0; i < n; ++i) s->r[d][i] += h * tmp.f[d][i] / fmax;
        }
        if (cons) st = fs_constrain_positions(cons, &s->box, best.r, s->r, NULL, 1.0, NULL);
        double e1 = 0.0;
        if (st == FS_OK) st = evaluate(b, s, &e1);
        out->steps++;
        if (st == FS_OK && e1 < e0) {
            e0 = e1;
            h *= 1.2;
            st = max_force(top, s, cons, &tmp, &fmax, &fatom);
            out->epot = e0;
            out->fmax = fmax;
            out->fmax_atom = fatom;
            if (st == FS_OK && progress && progress(ctx, out)) break;
        } else if (st == FS_OK || st == FS_ERR_NUMERIC) {
            /* a worse or non-finite trial: go back and take a smaller step */
            for (int d = 0; d < 3; ++d) {
                memcpy(s->r[d], best.r[d], bytes);
                memcpy(s->f[d], best.f[d], bytes);
            }
            h *= 0.2;
            st = FS_OK;
        }
    }
    /* leave the backend holding the best positions */
    if (st == FS_OK) st = evaluate(b, s, &e0);
    out->epot = e0;
    out->fmax = fmax;
    out->fmax_atom = fatom;
    out->converged = fmax < p->emtol;
    arrays_free(&best);
    arrays_free(&tmp);
    return st;
}

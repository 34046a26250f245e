/*
 * test_minimize.c — steepest-descent minimization (core/minimize.c) of perturbed structures with constraints and
 * frozen atoms, checked against independent evaluations.
 *
 * 1. Water cube (tests/data/cli/water.{top,gro}, 376 SPC/E waters with SETTLE, PME): every molecule is displaced
 *    rigidly by up to 0.05 nm along each axis and every atom by up to 0.005 nm more (so the starting structure is
 *    packed badly and off the constraint surface). Waters 1-10 are frozen entirely and the oxygen of water 11 alone
 *    (that water is then solved by SHAKE/RATTLE around a fixed pivot). emtol = 1000 kJ/mol/nm, emstep 0.01 nm,
 *    nsteps 500. Asserted:
 *    - converged, within nsteps, fmax < emtol;
 *    - the energies the progress callback sees decrease strictly and lie below the energy of the (projected)
 *      starting structure, evaluated by a fresh backend; the final energy equals a fresh backend's energy at the
 *      returned positions (1e-12 relative) and the backend the minimizer used holds those positions;
 *    - the largest constrained force, computed independently by Newton-Euler (a free rigid water's constrained
 *      force on atom i is m_i (F/M + alpha x (r_i - R)), alpha = I^-1 tau about the centre of mass R; the water
 *      with the frozen oxygen rotates about it, alpha = I_O^-1 tau_O; a frozen atom has none) from a fresh backend's
 *      forces, equals the reported fmax (1e-6 relative) and is below emtol;
 *    - every SETTLE distance (own minimum image) holds to 1e-8 relative, and frozen atoms did not move (to the bit).
 *    Controls: with nsteps = 3 the minimizer does not converge and both the reported and the independent fmax are
 *    >= emtol; the largest raw force differs from the constrained one (so the projection check can fail); the
 *    starting structure violates the constraints by far more than 1e-8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/minimize.h"
#include "core/units.h"
#include "forcefields/gromacs_input.h"
#include "support/fs_test.h"

#define EMTOL 100.0

static void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s: %s", fs_status_name(st), fs_error_message());
}

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 11;
}

static double uniform_pm(uint64_t *x) /* in [-1, 1) */
{
    return 2.0 * (double)lcg(x) * 0x1.0p-53 - 1.0;
}

static void min_image(const fs_box *box, double d[3])
{
    for (int k = 0; k < 3; ++k) d[k] -= box->len[k] * round(d[k] / box->len[k]);
}

static void cross(const double a[3], const double b[3], double c[3])
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}

/* x = A^-1 b for a symmetric 3x3 A, by Cramer's rule. */
static void solve3(double a[3][3], const double b[3], double x[3])
{
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    assert_true(fabs(det) > 0.0);
    for (int c = 0; c < 3; ++c) {
        double m[3][3];
        memcpy(m, a, sizeof m);
        for (int r = 0; r < 3; ++r) m[r][c] = b[r];
        x[c] = (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])) /
               det;
    }
}

/* Largest constrained force over the atoms of rigid (3-atom, settled) waters by Newton-Euler. A water whose atoms
 * are all free moves as a free rigid body; one with exactly one frozen atom rotates about it; a frozen atom and a
 * water with two or more frozen atoms have no constrained force. */
static double rigid_water_fmax(const fs_topology *top, const fs_box *box, double *const r[3], double *const f[3])
{
    double worst = 0.0;
    for (int m = 0; m < top->nmolecules; ++m) {
        const fs_molecule *mol = &top->molecules[m];
        assert_int_equal(mol->natoms, 3);
        int i0 = mol->first_atom, nfrozen = 0, pivot = -1;
        double x[3][3], mass[3];
        for (int a = 0; a < 3; ++a) {
            int i = i0 + a;
            double d[3] = {r[0][i] - r[0][i0], r[1][i] - r[1][i0], r[2][i] - r[2][i0]};
            min_image(box, d);
            for (int k = 0; k < 3; ++k) x[a][k] = d[k];
            mass[a] = top->atoms[i].mass;
            if (top->atoms[i].frozen) {
                nfrozen++;
                pivot = a;
            }
        }
        if (nfrozen >= 2) continue;
        double centre[3] = {0, 0, 0}, ftot[3] = {0, 0, 0}, mt = 0.0;
        if (nfrozen == 1) {
            for (int k = 0; k < 3; ++k) centre[k] = x[pivot][k];
        } else {
            for (int a = 0; a < 3; ++a) {
                for (int k = 0; k < 3; ++k) {
                    centre[k] += mass[a] * x[a][k];
                    ftot[k] += f[k][i0 + a];
                }
                mt += mass[a];
            }
            for (int k = 0; k < 3; ++k) centre[k] /= mt;
        }
        double inertia[3][3] = {{0}}, tau[3] = {0, 0, 0};
        for (int a = 0; a < 3; ++a) {
            if (a == pivot) continue;
            double y[3] = {x[a][0] - centre[0], x[a][1] - centre[1], x[a][2] - centre[2]};
            double fa[3] = {f[0][i0 + a], f[1][i0 + a], f[2][i0 + a]}, t[3];
            cross(y, fa, t);
            double y2 = y[0] * y[0] + y[1] * y[1] + y[2] * y[2];
            for (int p = 0; p < 3; ++p) {
                tau[p] += t[p];
                for (int q = 0; q < 3; ++q) inertia[p][q] += mass[a] * ((p == q ? y2 : 0.0) - y[p] * y[q]);
            }
        }
        double alpha[3];
        solve3(inertia, tau, alpha);
        for (int a = 0; a < 3; ++a) {
            if (a == pivot) continue;
            double y[3] = {x[a][0] - centre[0], x[a][1] - centre[1], x[a][2] - centre[2]}, w[3];
            cross(alpha, y, w);
            double f2 = 0.0;
            for (int k = 0; k < 3; ++k) {
                double fc = mass[a] * ((nfrozen ? 0.0 : ftot[k] / mt) + w[k]);
                f2 += fc * fc;
            }
            worst = fmax(worst, sqrt(f2));
        }
    }
    return worst;
}

/* Largest relative deviation of a SETTLE distance (own minimum image) between atoms not both frozen. */
static double settle_error(const fs_topology *top, const fs_box *box, double *const r[3])
{
    double worst = 0.0;
    for (int k = 0; k < top->settles.n; ++k) {
        const fs_settle *w = &top->settles.data[k];
        const int pi[3] = {w->ow, w->ow, w->hw1}, pj[3] = {w->hw1, w->hw2, w->hw2};
        for (int q = 0; q < 3; ++q) {
            if (top->atoms[pi[q]].frozen && top->atoms[pj[q]].frozen) continue; /* not enforced */
            double len = q < 2 ? w->doh : w->dhh;
            double d[3] = {r[0][pi[q]] - r[0][pj[q]], r[1][pi[q]] - r[1][pj[q]], r[2][pi[q]] - r[2][pj[q]]};
            min_image(box, d);
            worst = fmax(worst, fabs(sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) - len) / len);
        }
    }
    return worst;
}

/* Energy and forces (into s->f) of the positions in s from a fresh backend. */
static double fresh_energy(const fs_topology *top, const fs_forceparams *p, fs_state *s)
{
    fs_backend *b = NULL;
    fs_energies e;
    must(fs_cpu_backend.create(top, p, &b));
    must(b->ops->upload(b, s));
    must(b->ops->compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY, &e));
    must(b->ops->download(b, s, FS_SYNC_FORCES));
    fs_cpu_backend.destroy(&b);
    return fs_energies_potential(&e);
}

typedef struct {
    double e[1024];
    int n;
    long steps[1024];
} trace;

static int record(void *ctx, const fs_minimize_result *now)
{
    trace *t = ctx;
    if (t->n < 1024) {
        t->e[t->n] = now->epot;
        t->steps[t->n] = now->steps;
        t->n++;
    }
    return 0;
}

typedef struct {
    fs_topology *top;
    fs_state *s;
    double *r0[3]; /* the perturbed start, before projection */
    fs_forceparams p;
} water_case;

static void water_setup(water_case *w)
{
    fs_test_load("tests/data/cli/water.top", "tests/data/cli/water.gro", &w->top, &w->s);
    fs_topology *top = w->top;
    for (int i = 0; i < 30; ++i) top->atoms[i].frozen = 1; /* waters 1-10 */
    top->atoms[30].frozen = 1;                             /* the oxygen of water 11 */
    uint64_t x = 777;
    fs_state *s = w->s;
    for (int m = 0; m < top->nmolecules; ++m) {
        const fs_molecule *mol = &top->molecules[m];
        double shift[3];
        for (int k = 0; k < 3; ++k) shift[k] = 0.05 * uniform_pm(&x);
        for (int i = mol->first_atom; i < mol->first_atom + mol->natoms; ++i)
            for (int k = 0; k < 3; ++k)
                if (!top->atoms[i].frozen) s->r[k][i] += shift[k] + 0.005 * uniform_pm(&x);
    }
    size_t bytes = (size_t)s->natoms * sizeof(double);
    for (int k = 0; k < 3; ++k) {
        w->r0[k] = malloc(bytes);
        assert_non_null(w->r0[k]);
        memcpy(w->r0[k], s->r[k], bytes);
    }
    w->p = fs_forceparams_default();
}

static void water_free(water_case *w)
{
    for (int k = 0; k < 3; ++k) free(w->r0[k]);
    fs_state_destroy(&w->s);
    fs_topology_destroy(&w->top);
}

static void run_min(water_case *w, long nsteps, trace *tr, fs_minimize_result *res, fs_backend **bout)
{
    fs_backend *b = NULL;
    fs_constraints *cons = NULL;
    must(fs_cpu_backend.create(w->top, &w->p, &b));
    must(fs_constraints_create(w->top, 1e-10, &cons));
    fs_minimize_params mp = {.emtol = EMTOL, .emstep = 0.01, .nsteps = nsteps};
    memset(tr, 0, sizeof *tr);
    must(fs_minimize(b, w->top, w->s, cons, &mp, record, tr, res));
    fs_constraints_destroy(&cons);
    *bout = b;
}

static void test_water_minimize(void **state)
{
    (void)state;
    water_case w;
    water_setup(&w);
    fs_topology *top = w.top;
    fs_state *s = w.s;
    int n = s->natoms;
    const double emtol = EMTOL;

    /* the start: off the constraint surface; its projection's energy, for the monotonic decrease */
    double start_err = settle_error(top, &s->box, s->r);
    assert_true(start_err > 1e-3);
    fs_state *p0 = NULL;
    must(fs_state_create(n, n, &p0));
    p0->box = s->box;
    {
        fs_constraints *c = NULL;
        must(fs_constraints_create(top, 1e-10, &c));
        for (int k = 0; k < 3; ++k) memcpy(p0->r[k], s->r[k], (size_t)n * sizeof(double));
        must(fs_constrain_positions(c, &s->box, w.r0, p0->r, NULL, 1.0, NULL));
        fs_constraints_destroy(&c);
    }
    double e_start = fresh_energy(top, &w.p, p0);
    double f_start = rigid_water_fmax(top, &p0->box, p0->r, p0->f);

    trace tr;
    fs_minimize_result res;
    fs_backend *b = NULL;
    run_min(&w, 500, &tr, &res, &b);
    print_message("start: E = %.2f kJ/mol, constrained fmax %.1f; minimized in %ld evaluations (%d accepted): E = "
                  "%.2f, fmax %.2f on atom %d\n",
                  e_start, f_start, res.steps, tr.n, res.epot, res.fmax, res.fmax_atom + 1);
    assert_true(res.converged);
    assert_true(res.fmax < emtol);
    assert_true(res.steps <= 500);
    assert_true(f_start >= emtol);

    /* monotonic decrease over accepted steps */
    assert_true(tr.n > 0);
    assert_true(tr.e[0] < e_start);
    for (int k = 1; k < tr.n; ++k) assert_true(tr.e[k] < tr.e[k - 1]);
    assert_true(tr.e[tr.n - 1] == res.epot);

    /* the backend holds the returned positions */
    {
        fs_state *t = NULL;
        must(fs_state_create(n, n, &t));
        must(b->ops->download(b, t, FS_SYNC_POSITIONS));
        for (int k = 0; k < 3; ++k) assert_memory_equal(t->r[k], s->r[k], (size_t)n * sizeof(double));
        fs_state_destroy(&t);
    }

    /* independent energy and constrained force at the result */
    double e_end = fresh_energy(top, &w.p, s);
    fs_assert_close(res.epot, e_end, 1e-12, 0.0, "final energy vs fresh evaluation");
    double f_end = rigid_water_fmax(top, &s->box, s->r, s->f);
    fs_assert_close(res.fmax, f_end, 1e-6, 0.0, "fmax vs Newton-Euler");
    assert_true(f_end < emtol);
    double fraw = 0.0;
    for (int i = 0; i < n; ++i)
        if (!top->atoms[i].frozen)
            fraw = fmax(fraw, sqrt(s->f[0][i] * s->f[0][i] + s->f[1][i] * s->f[1][i] + s->f[2][i] * s->f[2][i]));
    print_message("end: fresh E = %.2f, Newton-Euler fmax %.2f, raw max |F| %.1f\n", e_end, f_end, fraw);
    assert_false(fs_close(fraw, f_end, 1e-6, 0.0)); /* control: the projection matters */

    /* constraints and frozen atoms */
    double err = settle_error(top, &s->box, s->r);
    print_message("constraint error: start %.3g, end %.3g\n", start_err, err);
    assert_true(err < 1e-8);
    for (int i = 0; i < n; ++i)
        if (top->atoms[i].frozen)
            for (int k = 0; k < 3; ++k) assert_true(s->r[k][i] == w.r0[k][i]);
    int moved = 0;
    for (int i = 0; i < n; ++i) moved += !top->atoms[i].frozen && s->r[0][i] != w.r0[0][i];
    assert_true(moved > n / 2);
    assert_true(s->r[0][31] != w.r0[0][31] && s->r[0][32] != w.r0[0][32]); /* the pivoting water turned */

    fs_cpu_backend.destroy(&b);
    fs_state_destroy(&p0);
    water_free(&w);
}

/* Control: three evaluations are far too few. */
static void test_water_minimize_too_short(void **state)
{
    (void)state;
    water_case w;
    water_setup(&w);
    trace tr;
    fs_minimize_result res;
    fs_backend *b = NULL;
    run_min(&w, 3, &tr, &res, &b);
    double f_end = rigid_water_fmax(w.top, &w.s->box, w.s->r, w.s->f);
    fresh_energy(w.top, &w.p, w.s);
    double f_fresh = rigid_water_fmax(w.top, &w.s->box, w.s->r, w.s->f);
    print_message("3 evaluations: converged %d, fmax %.1f (Newton-Euler %.1f)\n", res.converged, res.fmax, f_fresh);
    (void)f_end;
    assert_int_equal(res.steps, 3);
    assert_false(res.converged);
    assert_true(res.fmax >= EMTOL);
    assert_true(f_fresh >= EMTOL);
    fs_cpu_backend.destroy(&b);
    water_free(&w);
}

/* ---------------------------------------------------------------------------------------------------------------
 * EC/DMC with constraints = h-bonds. */

/* Constrained forces by the mass-weighted projection, solved independently per cluster of coupled constraints:
 * a = F/m (0 for frozen atoms); lambda from sum_l A_kl lambda_l = e_k . (a_i - a_j), A_kl = e_k . (d(e_l)/dx_i w_i
 * - ...) written out below; f'_i = m_i (a_i - w_i sum_k lambda_k dJ_ki e_k). Returns the largest |f'|. */
static double cluster_fmax(const fs_topology *top, const fs_box *box, double *const r[3], double *const f[3])
{
    int n = top->natoms, nc = top->constraints.n;
    int *root = malloc((size_t)n * sizeof(int)), *order = malloc((size_t)(nc > 0 ? nc : 1) * sizeof(int));
    double *a[3], (*e)[3] = malloc((size_t)(nc > 0 ? nc : 1) * sizeof *e);
    assert_true(root && order && e);
    for (int k = 0; k < 3; ++k) {
        a[k] = malloc((size_t)n * sizeof(double));
        assert_non_null(a[k]);
    }
    for (int i = 0; i < n; ++i) {
        root[i] = i;
        double w = top->atoms[i].frozen ? 0.0 : 1.0 / top->atoms[i].mass;
        for (int k = 0; k < 3; ++k) a[k][i] = f[k][i] * w;
    }
    for (int c = 0; c < nc; ++c) { /* union-find over constrained atoms */
        int x = top->constraints.data[c].ai, y = top->constraints.data[c].aj;
        while (root[x] != x) x = root[x];
        while (root[y] != y) y = root[y];
        if (x != y) root[x] = y;
        const fs_constraint *cc = &top->constraints.data[c];
        double d[3] = {r[0][cc->ai] - r[0][cc->aj], r[1][cc->ai] - r[1][cc->aj], r[2][cc->ai] - r[2][cc->aj]};
        min_image(box, d);
        double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        for (int k = 0; k < 3; ++k) e[c][k] = d[k] / len;
    }
    double *lambda = calloc((size_t)(nc > 0 ? nc : 1), sizeof(double));
    int *done = calloc((size_t)(nc > 0 ? nc : 1), sizeof(int));
    assert_true(lambda && done);
    for (int c0 = 0; c0 < nc; ++c0) {
        if (done[c0]) continue;
        int rc = top->constraints.data[c0].ai;
        while (root[rc] != rc) rc = root[rc];
        int m = 0;
        for (int c = c0; c < nc; ++c) {
            int x = top->constraints.data[c].ai;
            while (root[x] != x) x = root[x];
            if (x == rc) {
                order[m++] = c;
                done[c] = 1;
            }
        }
        assert_true(m <= 8);
        double A[8][9];
        for (int p = 0; p < m; ++p) {
            const fs_constraint *cp = &top->constraints.data[order[p]];
            double rhs = 0.0;
            for (int k = 0; k < 3; ++k) rhs += e[order[p]][k] * (a[k][cp->ai] - a[k][cp->aj]);
            A[p][m] = rhs;
            for (int q = 0; q < m; ++q) {
                const fs_constraint *cq = &top->constraints.data[order[q]];
                /* e_p . (delta a_i - delta a_j) for a unit lambda_q: delta a_x = -w_x (s_qx) e_q, s = +1 at ai, -1 at
                 * aj */
                double coef = 0.0;
                const int atp[2] = {cp->ai, cp->aj}, atq[2] = {cq->ai, cq->aj};
                for (int u = 0; u < 2; ++u)
                    for (int v = 0; v < 2; ++v)
                        if (atp[u] == atq[v]) {
                            double w = top->atoms[atp[u]].frozen ? 0.0 : 1.0 / top->atoms[atp[u]].mass;
                            coef += (u ? -1.0 : 1.0) * (v ? -1.0 : 1.0) * w;
                        }
                double dot =
                    e[order[p]][0] * e[order[q]][0] + e[order[p]][1] * e[order[q]][1] + e[order[p]][2] * e[order[q]][2];
                A[p][q] = coef * dot;
            }
        }
        for (int p = 0; p < m; ++p) { /* Gaussian elimination with partial pivoting */
            int best = p;
            for (int q = p + 1; q < m; ++q)
                if (fabs(A[q][p]) > fabs(A[best][p])) best = q;
            for (int k = 0; k <= m; ++k) {
                double t = A[p][k];
                A[p][k] = A[best][k];
                A[best][k] = t;
            }
            if (A[p][p] == 0.0) continue; /* a constraint between frozen atoms: not enforced */
            for (int q = 0; q < m; ++q) {
                if (q == p) continue;
                double g = A[q][p] / A[p][p];
                for (int k = p; k <= m; ++k) A[q][k] -= g * A[p][k];
            }
        }
        for (int p = 0; p < m; ++p) lambda[order[p]] = A[p][p] == 0.0 ? 0.0 : A[p][m] / A[p][p];
    }
    for (int c = 0; c < nc; ++c) {
        const fs_constraint *cc = &top->constraints.data[c];
        for (int k = 0; k < 3; ++k) {
            if (!top->atoms[cc->ai].frozen) a[k][cc->ai] -= lambda[c] * e[c][k] / top->atoms[cc->ai].mass;
            if (!top->atoms[cc->aj].frozen) a[k][cc->aj] += lambda[c] * e[c][k] / top->atoms[cc->aj].mass;
        }
    }
    double worst = 0.0;
    for (int i = 0; i < n; ++i) {
        double f2 = 0.0;
        for (int k = 0; k < 3; ++k) f2 += pow(a[k][i] * top->atoms[i].mass, 2);
        worst = fmax(worst, sqrt(f2));
    }
    for (int k = 0; k < 3; ++k) free(a[k]);
    free(root);
    free(order);
    free(e);
    free(lambda);
    free(done);
    return worst;
}

static double constraint_error(const fs_topology *top, const fs_box *box, double *const r[3])
{
    double worst = 0.0;
    for (int c = 0; c < top->constraints.n; ++c) {
        const fs_constraint *cc = &top->constraints.data[c];
        if (top->atoms[cc->ai].frozen && top->atoms[cc->aj].frozen) continue;
        double d[3] = {r[0][cc->ai] - r[0][cc->aj], r[1][cc->ai] - r[1][cc->aj], r[2][cc->ai] - r[2][cc->aj]};
        min_image(box, d);
        worst = fmax(worst, fabs(sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) - cc->length) / cc->length);
    }
    return worst;
}

typedef struct {
    fs_topology *top;
    fs_state *s;
    double *r0[3];
    fs_forceparams p;
    int frozen_h; /* the lone frozen hydrogen */
} ecdmc_case;

static void ecdmc_setup(ecdmc_case *c)
{
    fs_mdp m;
    fs_mdp_init(&m);
    must(fs_mdp_read(fs_test_path("benchmarks/inputs/ec-dmc/grompp.mdp"), &m, NULL, 0));
    assert_int_equal(m.constraints, FS_CONSTRAIN_H_BONDS);
    must(fs_gromacs_load(fs_test_path("benchmarks/inputs/ec-dmc/topol.top"),
                         fs_test_path("benchmarks/inputs/ec-dmc/conf.gro"), &m, NULL, 0, &c->top, &c->s));
    fs_topology *top = c->top;
    assert_true(top->constraints.n >= 1000);
    const fs_molecule *m0 = &top->molecules[0], *m1 = &top->molecules[1];
    for (int i = m0->first_atom; i < m0->first_atom + m0->natoms; ++i) top->atoms[i].frozen = 1;
    c->frozen_h = -1;
    for (int i = m1->first_atom; i < m1->first_atom + m1->natoms && c->frozen_h < 0; ++i)
        if (top->atoms[i].name[0] == 'H') c->frozen_h = i;
    assert_true(c->frozen_h >= 0);
    top->atoms[c->frozen_h].frozen = 1;
    uint64_t x = 4242;
    fs_state *s = c->s;
    for (int i = 0; i < s->natoms; ++i)
        for (int k = 0; k < 3; ++k)
            if (!top->atoms[i].frozen) s->r[k][i] += 0.01 * uniform_pm(&x);
    size_t bytes = (size_t)s->natoms * sizeof(double);
    for (int k = 0; k < 3; ++k) {
        c->r0[k] = malloc(bytes);
        assert_non_null(c->r0[k]);
        memcpy(c->r0[k], s->r[k], bytes);
    }
    c->p = m.force;
}

static void ecdmc_free(ecdmc_case *c)
{
    for (int k = 0; k < 3; ++k) free(c->r0[k]);
    fs_state_destroy(&c->s);
    fs_topology_destroy(&c->top);
}

static void ecdmc_min(ecdmc_case *c, long nsteps, trace *tr, fs_minimize_result *res)
{
    fs_backend *b = NULL;
    fs_constraints *cons = NULL;
    must(fs_cpu_backend.create(c->top, &c->p, &b));
    must(fs_constraints_create(c->top, 1e-10, &cons));
    fs_minimize_params mp = {.emtol = EMTOL, .emstep = 0.01, .nsteps = nsteps};
    memset(tr, 0, sizeof *tr);
    must(fs_minimize(b, c->top, c->s, cons, &mp, record, tr, res));
    fs_constraints_destroy(&cons);
    fs_cpu_backend.destroy(&b);
}

static void test_ecdmc_minimize(void **state)
{
    (void)state;
    ecdmc_case c;
    ecdmc_setup(&c);
    fs_topology *top = c.top;
    fs_state *s = c.s;
    int n = s->natoms;
    double start_err = constraint_error(top, &s->box, s->r);
    assert_true(start_err > 1e-2);

    /* energy of the projected start */
    fs_state *p0 = NULL;
    must(fs_state_create(n, n, &p0));
    p0->box = s->box;
    {
        fs_constraints *cons = NULL;
        must(fs_constraints_create(top, 1e-10, &cons));
        for (int k = 0; k < 3; ++k) memcpy(p0->r[k], s->r[k], (size_t)n * sizeof(double));
        must(fs_constrain_positions(cons, &s->box, c.r0, p0->r, NULL, 1.0, NULL));
        fs_constraints_destroy(&cons);
    }
    double e_start = fresh_energy(top, &c.p, p0);
    double f_start = cluster_fmax(top, &p0->box, p0->r, p0->f);

    trace tr;
    fs_minimize_result res;
    ecdmc_min(&c, 500, &tr, &res);
    print_message("EC/DMC start: E = %.2f kJ/mol, constrained fmax %.1f; minimized in %ld evaluations (%d accepted): "
                  "E = %.2f, fmax %.2f on atom %d\n",
                  e_start, f_start, res.steps, tr.n, res.epot, res.fmax, res.fmax_atom + 1);
    assert_true(res.converged);
    assert_true(res.fmax < EMTOL && f_start >= EMTOL);
    assert_true(tr.n > 0 && tr.e[0] < e_start);
    for (int k = 1; k < tr.n; ++k) assert_true(tr.e[k] < tr.e[k - 1]);
    assert_true(tr.e[tr.n - 1] == res.epot);

    double e_end = fresh_energy(top, &c.p, s);
    fs_assert_close(res.epot, e_end, 1e-12, 0.0, "final energy vs fresh evaluation");
    double f_end = cluster_fmax(top, &s->box, s->r, s->f);
    fs_assert_close(res.fmax, f_end, 1e-6, 0.0, "fmax vs cluster projection");
    double fraw = 0.0;
    for (int i = 0; i < n; ++i)
        if (!top->atoms[i].frozen)
            fraw = fmax(fraw, sqrt(s->f[0][i] * s->f[0][i] + s->f[1][i] * s->f[1][i] + s->f[2][i] * s->f[2][i]));
    double err = constraint_error(top, &s->box, s->r);
    print_message("EC/DMC end: fresh E = %.2f, projected fmax %.2f, raw max |F| %.1f; constraint error start %.3g, "
                  "end %.3g\n",
                  e_end, f_end, fraw, start_err, err);
    assert_false(fs_close(fraw, f_end, 1e-6, 0.0));
    assert_true(err < 1e-8);
    for (int i = 0; i < n; ++i)
        if (top->atoms[i].frozen)
            for (int k = 0; k < 3; ++k) assert_true(s->r[k][i] == c.r0[k][i]);

    /* control: three evaluations */
    ecdmc_free(&c);
    ecdmc_setup(&c);
    ecdmc_min(&c, 3, &tr, &res);
    fresh_energy(c.top, &c.p, c.s);
    double f_short = cluster_fmax(c.top, &c.s->box, c.s->r, c.s->f);
    print_message("EC/DMC, 3 evaluations: converged %d, fmax %.1f (projection %.1f)\n", res.converged, res.fmax,
                  f_short);
    assert_false(res.converged);
    assert_true(res.fmax >= EMTOL && f_short >= EMTOL);

    fs_state_destroy(&p0);
    ecdmc_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_water_minimize),
        cmocka_unit_test(test_water_minimize_too_short),
        cmocka_unit_test(test_ecdmc_minimize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

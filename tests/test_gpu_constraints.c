/*
 * test_gpu_constraints.c — the device constraint module (kernels/gpu/gpu_constraints.c) against the CPU reference
 * (core/constraints.c: fs_constrain_positions / fs_constrain_velocities) and against the independent checks of
 * tests/support/constraint_checks.h.
 *
 * Cases (positions: a constrained reference, then 2 fs of free flight at 300 K; velocities: fresh thermal
 * velocities at the constrained positions):
 *   - water (benchmarks/inputs/water-23k, 7754 SPC/E waters, SETTLE, some straddling the box);
 *   - EC/DMC with constraints = h-bonds (benchmarks/inputs/ec-dmc, 1000 C-H constraints in clusters of 2 and 3,
 *     SHAKE/RATTLE), in mixed and in double precision (the module is double either way);
 *   - a hand-built system with frozen atoms: a water with a frozen oxygen (SHAKE), a chain with a frozen end, a
 *     constraint between two frozen atoms (not enforced), a free water straddling the boundary (SETTLE).
 * Required: device and CPU positions within 1e-10 nm, velocities within 1e-10 nm / DT, constraint virials within
 * 1e-9 relative (of the largest component), every constraint within 1e-8 relative on the device (and within the
 * tolerance asked, 1e-10), velocity residuals within 1e-8, frozen atoms bit for bit unmoved, no error flag.
 * Failures: a non-converging SHAKE (iteration limit 1), a bond turned past 90 degrees and a water distorted beyond
 * SETTLE's reach set flags[GPU_F_ERROR] = GPU_ERR_CONSTRAINT with the cluster's lowest atom / the water's oxygen
 * (the CPU reference fails on the same inputs), never overwrite an error already recorded, and do nothing while one
 * is recorded.
 * Negative controls: the device output differs from the unconstrained input by far more than the tolerance (the
 * comparison is not trivially met); a loose device tolerance (1e-4) fails the 1e-8 check; a virial weight of 2 fails
 * the virial comparison; the feasible variant of each failing case raises no flag.
 * A missing OpenCL device fails the suite (it never skips).
 */
#include "forcefields/gromacs_input.h"
#include "kernels/gpu/gpu_backend_impl.h"
#include "support/constraint_checks.h"

typedef struct {
    fs_backend *b;
    gpu_backend *g;
    gpu_constraints *c;
    gpu_buf *ref; /* reference positions, mixed4[padded] */
    fs_state *s;  /* staging state for upload/download */
    const fs_topology *top;
} dev;

static void dev_open(dev *d, const fs_topology *top, const fs_state *s0, double tol, int use_double)
{
    memset(d, 0, sizeof *d);
    d->top = top;
    fs_forceparams p = fs_forceparams_default();
    const char *prev = getenv("FERROSOLV_PRECISION");
    char saved[32] = "";
    if (prev) snprintf(saved, sizeof saved, "%s", prev);
    setenv("FERROSOLV_PRECISION", use_double ? "double" : "mixed", 1);
    fs_status st = fs_opencl_backend.create(top, &p, &d->b);
    if (prev)
        setenv("FERROSOLV_PRECISION", saved, 1);
    else
        unsetenv("FERROSOLV_PRECISION");
    if (st != FS_OK) fail_msg("no OpenCL device backend: %s", fs_error_message());
    if (fs_opencl_backend.upload(d->b, s0) != FS_OK) fail_msg("%s", fs_error_message());
    d->g = (gpu_backend *)d->b;
    assert_int_equal(d->g->use_double, use_double);
    if (gpu_constraints_create(d->g, tol, &d->c) != FS_OK) fail_msg("%s", fs_error_message());
    if (gpu_alloc(d->g, 4 * sizeof(double) * (size_t)d->g->padded, "reference positions", &d->ref) != FS_OK)
        fail_msg("%s", fs_error_message());
    assert_int_equal(fs_state_create(s0->natoms, s0->natoms, &d->s), FS_OK);
    d->s->box = s0->box;
}

static void dev_close(dev *d)
{
    gpu_constraints_destroy(&d->c);
    assert_null(d->c);
    d->g->api->release(&d->ref);
    fs_opencl_backend.destroy(&d->b);
    fs_state_destroy(&d->s);
}

/* Device positions r, velocities v (zeros when NULL), reference positions ref (when not NULL); energy and flag
 * buffers zeroed. */
static void dev_set(dev *d, double *const r[3], double *const v[3], double *const ref[3])
{
    const int n = d->s->natoms;
    for (int k = 0; k < 3; ++k) {
        memcpy(d->s->r[k], r[k], (size_t)n * sizeof(double));
        if (v)
            memcpy(d->s->v[k], v[k], (size_t)n * sizeof(double));
        else
            memset(d->s->v[k], 0, (size_t)n * sizeof(double));
    }
    if (fs_opencl_backend.upload(d->b, d->s) != FS_OK) fail_msg("%s", fs_error_message());
    if (ref) {
        double *buf = calloc(4 * (size_t)d->g->padded, sizeof *buf);
        assert_non_null(buf);
        for (int i = 0; i < n; ++i)
            for (int k = 0; k < 3; ++k) buf[4 * i + k] = ref[k][i];
        assert_int_equal(d->g->api->write(d->g->dev, d->ref, 0, 4 * sizeof(double) * (size_t)d->g->padded, buf), FS_OK);
        free(buf);
    }
    assert_int_equal(d->g->api->fill_zero(d->g->dev, d->g->energy, GPU_ENERGY_SLOTS * sizeof(long long)), FS_OK);
    assert_int_equal(d->g->api->fill_zero(d->g->dev, d->g->flags, GPU_FLAG_SLOTS * sizeof(int)), FS_OK);
}

/* Device positions and velocities into r, v (new coords), the constraint virial slots into xi, flags into f. */
static void dev_get(dev *d, coords *r, coords *v, double xi[3][3], int f[GPU_FLAG_SLOTS])
{
    const int n = d->s->natoms;
    if (fs_opencl_backend.download(d->b, d->s, FS_SYNC_POSITIONS | FS_SYNC_VELOCITIES) != FS_OK)
        fail_msg("%s", fs_error_message());
    *r = coords_copy(n, d->s->r);
    *v = coords_copy(n, d->s->v);
    double e[GPU_ENERGY_SLOTS];
    assert_int_equal(gpu_read_energy(d->g, e), FS_OK);
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) xi[a][b] = e[GPU_E_CONS_VIRIAL + 3 * a + b];
    assert_int_equal(gpu_read_flags(d->g, f), FS_OK);
}

/* ---------------------------------------------------------------------------------------------------------------
 * One position step and one velocity step, device against CPU. */

typedef struct {
    double dpos, dvel, dvir, err; /* position step */
    double dvel2, dvir2, res;     /* velocity step */
} deviations;

static void compare(const char *name, dev *d, fs_constraints *cpu, const fs_box *box, double *const ref[3],
                    uint64_t seed, double tol, deviations *out)
{
    const fs_topology *top = d->top;
    const int n = top->natoms;
    coords unc = coords_new(n), v0 = coords_new(n);
    thermal(top, ref, unc.x, v0.x, seed);

    /* positions */
    coords rs = coords_copy(n, unc.x), vs = coords_copy(n, v0.x);
    double xi[3][3] = {{0}};
    must(fs_constrain_positions(cpu, box, ref, rs.x, vs.x, DT, xi));
    dev_set(d, unc.x, v0.x, ref);
    if (gpu_constrain_positions(d->c, d->ref, DT, 1.0) != FS_OK) fail_msg("%s", fs_error_message());
    coords rd, vd;
    double xid[3][3];
    int f[GPU_FLAG_SLOTS];
    dev_get(d, &rd, &vd, xid, f);
    assert_int_equal(f[GPU_F_ERROR], 0);
    out->dpos = max_abs_diff(n, rd.x, rs.x);
    out->dvel = max_abs_diff(n, vd.x, vs.x);
    out->dvir = tensor_rel_diff(xid, xi);
    out->err = max_rel_error(top, box, rd.x);
    const double moved = max_abs_diff(n, rd.x, unc.x);
    print_message("%s: positions: device - CPU %.3g nm, velocities %.3g nm/ps, virial %.3g rel; max rel error %.3g "
                  "(unconstrained %.3g, moved %.3g nm)\n",
                  name, out->dpos, out->dvel, out->dvir, out->err, max_rel_error(top, box, unc.x), moved);
    assert_true(out->dpos <= 1e-10);
    assert_true(out->dvel <= 1e-10 / DT);
    assert_true(out->dvir <= 1e-9);
    assert_true(out->err <= 1e-8);
    assert_true(out->err <= tol * (1.0 + 1e-6) || out->err <= 1e-13);
    assert_true(max_velocity_mismatch(n, vd.x, rd.x, ref) <= 1e-9);
    /* negative control: the step moved atoms by far more than the agreement asked */
    assert_true(moved > 1e4 * 1e-10);

    /* velocities at the CPU-constrained positions */
    coords vr = coords_new(n);
    thermal(top, rs.x, NULL, vr.x, seed + 1);
    coords va = coords_copy(n, vr.x);
    double xiv[3][3] = {{0}};
    must(fs_constrain_velocities(cpu, box, rs.x, va.x, DT, xiv));
    dev_set(d, rs.x, vr.x, NULL);
    if (gpu_constrain_velocities_virial(d->c, DT, 1.0) != FS_OK) fail_msg("%s", fs_error_message());
    coords r2, v2;
    double xiv_d[3][3];
    dev_get(d, &r2, &v2, xiv_d, f);
    assert_int_equal(f[GPU_F_ERROR], 0);
    assert_true(max_abs_diff(n, r2.x, rs.x) == 0.0); /* positions untouched */
    out->dvel2 = max_abs_diff(n, v2.x, va.x);
    out->dvir2 = tensor_rel_diff(xiv_d, xiv);
    out->res = max_velocity_residual(top, box, rs.x, v2.x);
    print_message("%s: velocities: device - CPU %.3g nm/ps, virial %.3g rel; residual %.3g (before %.3g)\n", name,
                  out->dvel2, out->dvir2, out->res, max_velocity_residual(top, box, rs.x, vr.x));
    assert_true(out->dvel2 <= 1e-10 / DT);
    assert_true(out->dvir2 <= 1e-9);
    assert_true(out->res <= 1e-8);
    /* gpu_constrain_velocities (no virial) leaves the virial slots alone */
    dev_set(d, rs.x, vr.x, NULL);
    assert_int_equal(gpu_constrain_velocities(d->c, DT), FS_OK);
    coords r3, v3;
    double xiv3[3][3];
    dev_get(d, &r3, &v3, xiv3, f);
    assert_true(max_abs_diff(n, v3.x, v2.x) == 0.0);
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) assert_true(xiv3[a][b] == 0.0);

    /* negative control: twice the virial weight is caught by the virial comparison */
    dev_set(d, unc.x, v0.x, ref);
    assert_int_equal(gpu_constrain_positions(d->c, d->ref, DT, 2.0), FS_OK);
    coords r4, v4;
    double xi2[3][3];
    dev_get(d, &r4, &v4, xi2, f);
    assert_false(tensor_rel_diff(xi2, xi) <= 1e-9);
    assert_true(tensor_rel_diff(xi2, xi) > 0.5);

    coords *all[] = {&unc, &v0, &rs, &vs, &rd, &vd, &vr, &va, &r2, &v2, &r3, &v3, &r4, &v4};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; ++k) coords_free(all[k]);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Water: SETTLE. */

static void test_water(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &s);
    const int n = top->natoms;
    fs_constraints *cpu = make(top, 1e-10);
    coords ref = project(cpu, &s->box, n, s->r);
    dev d;
    dev_open(&d, top, s, 1e-10, 0);
    assert_int_equal(gpu_constraints_count(d.c), 3 * 7754);

    /* projecting the .gro's 3-decimal waters in place (pos_ref = NULL, dt = 0: velocities untouched) */
    dev_set(&d, s->r, NULL, NULL);
    assert_int_equal(gpu_constrain_positions(d.c, NULL, 0.0, 0.0), FS_OK);
    coords rp, vp;
    double xi[3][3];
    int f[GPU_FLAG_SLOTS];
    dev_get(&d, &rp, &vp, xi, f);
    assert_int_equal(f[GPU_F_ERROR], 0);
    print_message("water: in-place projection: device - CPU %.3g nm, max rel error %.3g\n",
                  max_abs_diff(n, rp.x, ref.x), max_rel_error(top, &s->box, rp.x));
    assert_true(max_abs_diff(n, rp.x, ref.x) <= 1e-12);
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < n; ++i) assert_true(vp.x[k][i] == 0.0);
    coords_free(&rp);
    coords_free(&vp);
    /* dt = 0 with a virial weight is refused */
    assert_int_equal(gpu_constrain_positions(d.c, NULL, 0.0, 1.0), FS_ERR_INVALID);

    deviations dv;
    compare("water", &d, cpu, &s->box, ref.x, 11, 1e-10, &dv);
    dev_close(&d);
    coords_free(&ref);
    fs_constraints_destroy(&cpu);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
}

/* ---------------------------------------------------------------------------------------------------------------
 * EC/DMC with h-bonds: SHAKE/RATTLE clusters; failures. */

static void load_ecdmc(fs_topology **top, fs_state **s)
{
    fs_mdp m;
    fs_mdp_init(&m);
    m.constraints = FS_CONSTRAIN_H_BONDS;
    if (fs_gromacs_load(fs_test_path("benchmarks/inputs/ec-dmc/topol.top"),
                        fs_test_path("benchmarks/inputs/ec-dmc/conf.gro"), &m, NULL, 0, top, s) != FS_OK)
        fail_msg("%s", fs_error_message());
    assert_int_equal((*top)->constraints.n, 1000);
}

/* Negative control: a loose device tolerance (1e-4) fails the 1e-8 check (a second constraint object on the same
 * backend). */
static void loose_tolerance(dev *d, const fs_box *box, double *const ref[3])
{
    const fs_topology *top = d->top;
    const int n = top->natoms;
    gpu_constraints *tight = d->c;
    if (gpu_constraints_create(d->g, 1e-4, &d->c) != FS_OK) fail_msg("%s", fs_error_message());
    coords unc = coords_new(n), v0 = coords_new(n);
    thermal(top, ref, unc.x, v0.x, 21);
    dev_set(d, unc.x, v0.x, ref);
    assert_int_equal(gpu_constrain_positions(d->c, d->ref, DT, 1.0), FS_OK);
    coords rd, vd;
    double xi[3][3];
    int f[GPU_FLAG_SLOTS];
    dev_get(d, &rd, &vd, xi, f);
    const double err = max_rel_error(top, box, rd.x);
    print_message("ec-dmc: tolerance 1e-4 leaves a max rel error %.3g\n", err);
    assert_int_equal(f[GPU_F_ERROR], 0);
    assert_true(err <= 1e-4);
    assert_false(err <= 1e-8);
    coords *all[] = {&unc, &v0, &rd, &vd};
    for (size_t k = 0; k < 4; ++k) coords_free(all[k]);
    gpu_constraints_destroy(&d->c);
    d->c = tight;
}

static void shake_failures(dev *d, const fs_state *s, fs_constraints *cpu, double *const ref[3]);

static void test_ecdmc(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    load_ecdmc(&top, &s);
    const int n = top->natoms;
    fs_constraints *cpu = make(top, 1e-10);
    coords ref = project(cpu, &s->box, n, s->r);
    for (int use_double = 1; use_double >= 0; --use_double) {
        dev d;
        dev_open(&d, top, s, 1e-10, use_double);
        assert_int_equal(gpu_constraints_count(d.c), 1000);
        deviations dv;
        compare(use_double ? "ec-dmc (double)" : "ec-dmc (mixed)", &d, cpu, &s->box, ref.x, 21, 1e-10, &dv);
        if (!use_double) {
            loose_tolerance(&d, &s->box, ref.x);
            shake_failures(&d, s, cpu, ref.x);
        }
        dev_close(&d);
    }
    coords_free(&ref);
    fs_constraints_destroy(&cpu);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
}

/* The lowest atom index of each constraint cluster of top, marked in is_min[natoms]. */
static void cluster_minima(const fs_topology *top, int *is_min)
{
    const int n = top->natoms;
    int *root = malloc((size_t)n * sizeof *root);
    assert_non_null(root);
    for (int i = 0; i < n; ++i) root[i] = i;
    for (int changed = 1; changed;) { /* label propagation: every atom takes the lowest label of its partners */
        changed = 0;
        for (int k = 0; k < top->constraints.n; ++k) {
            int a = top->constraints.data[k].ai, b = top->constraints.data[k].aj;
            int m = root[a] < root[b] ? root[a] : root[b];
            if (root[a] != m || root[b] != m) root[a] = root[b] = m, changed = 1;
        }
    }
    memset(is_min, 0, (size_t)n * sizeof *is_min);
    for (int k = 0; k < top->constraints.n; ++k) is_min[root[top->constraints.data[k].ai]] = 1;
    free(root);
}

/* SHAKE/RATTLE failures on the EC/DMC device d (tolerance 1e-10): flags, error atoms, no overwriting. */
static void shake_failures(dev *d_, const fs_state *s, fs_constraints *cpu, double *const ref_[3])
{
    dev d = *d_;
    const fs_topology *top = d.top;
    const int n = top->natoms;
    coords ref = coords_copy(n, ref_);
    coords unc = coords_new(n), v0 = coords_new(n);
    thermal(top, ref.x, unc.x, v0.x, 31);
    int *is_min = malloc((size_t)n * sizeof *is_min);
    assert_non_null(is_min);
    cluster_minima(top, is_min);

    coords rd, vd;
    double xi[3][3];
    int f[GPU_FLAG_SLOTS];

    /* one sweep cannot reach 1e-10: the CPU fails, the device raises the flag with a cluster's lowest atom */
    must(fs_constraints_set_max_iterations(cpu, 1));
    coords rc = coords_copy(n, unc.x);
    assert_int_equal(fs_constrain_positions(cpu, &s->box, ref.x, rc.x, NULL, DT, NULL), FS_ERR_NUMERIC);
    must(fs_constraints_set_max_iterations(cpu, 1000));
    assert_int_equal(gpu_constraints_set_max_iterations(d.c, 0), FS_ERR_INVALID);
    assert_int_equal(gpu_constraints_set_max_iterations(d.c, 1), FS_OK);
    dev_set(&d, unc.x, v0.x, ref.x);
    assert_int_equal(gpu_constrain_positions(d.c, d.ref, DT, 1.0), FS_OK);
    dev_get(&d, &rd, &vd, xi, f);
    print_message("ec-dmc, 1 iteration: flag %d, atom %d\n", f[GPU_F_ERROR], f[GPU_F_ERROR_ATOM]);
    assert_int_equal(f[GPU_F_ERROR], GPU_ERR_CONSTRAINT);
    assert_true(f[GPU_F_ERROR_ATOM] >= 0 && f[GPU_F_ERROR_ATOM] < n && is_min[f[GPU_F_ERROR_ATOM]]);
    coords_free(&rd);
    coords_free(&vd);

    /* an error already recorded is never overwritten, and the constraint kernels then leave the state alone */
    dev_set(&d, unc.x, v0.x, ref.x);
    int pre[GPU_FLAG_SLOTS] = {0};
    pre[GPU_F_ERROR] = GPU_ERR_MOVED;
    pre[GPU_F_ERROR_ATOM] = 77;
    assert_int_equal(d.g->api->write(d.g->dev, d.g->flags, 0, sizeof pre, pre), FS_OK);
    assert_int_equal(gpu_constrain_positions(d.c, d.ref, DT, 1.0), FS_OK);
    assert_int_equal(gpu_constrain_velocities(d.c, DT), FS_OK);
    dev_get(&d, &rd, &vd, xi, f);
    assert_int_equal(f[GPU_F_ERROR], GPU_ERR_MOVED);
    assert_int_equal(f[GPU_F_ERROR_ATOM], 77);
    assert_true(max_abs_diff(n, rd.x, unc.x) == 0.0);
    assert_true(max_abs_diff(n, vd.x, v0.x) == 0.0);
    coords_free(&rd);
    coords_free(&vd);

    /* RATTLE with one sweep: clusters of coupled constraints need more */
    dev_set(&d, ref.x, v0.x, NULL);
    assert_int_equal(gpu_constrain_velocities(d.c, DT), FS_OK);
    dev_get(&d, &rd, &vd, xi, f);
    assert_int_equal(f[GPU_F_ERROR], GPU_ERR_CONSTRAINT);
    assert_true(is_min[f[GPU_F_ERROR_ATOM]]);
    coords_free(&rd);
    coords_free(&vd);

    /* negative control: the default limit converges, no flag */
    assert_int_equal(gpu_constraints_set_max_iterations(d.c, 1000), FS_OK);
    dev_set(&d, unc.x, v0.x, ref.x);
    assert_int_equal(gpu_constrain_positions(d.c, d.ref, DT, 1.0), FS_OK);
    assert_int_equal(gpu_constrain_velocities(d.c, DT), FS_OK);
    dev_get(&d, &rd, &vd, xi, f);
    assert_int_equal(f[GPU_F_ERROR], 0);
    coords_free(&rd);
    coords_free(&vd);

    /* a C-H bond turned by 120 degrees (and stretched 5%) in one step: SHAKE's linearization has no solution */
    const fs_constraint *c0 = &top->constraints.data[0];
    coords bad = coords_copy(n, ref.x);
    {
        double dvec[3];
        diff(&s->box, ref.x, c0->aj, c0->ai, dvec);
        /* rotate the bond vector about an axis perpendicular to it by 120 degrees */
        double ax[3] = {dvec[1], -dvec[0], 0.0}, an = norm3(ax);
        for (int k = 0; k < 3; ++k) ax[k] /= an;
        const double th = 2.0 * FS_PI / 3.0, cth = cos(th), sth = sin(th);
        double cr[3] = {ax[1] * dvec[2] - ax[2] * dvec[1], ax[2] * dvec[0] - ax[0] * dvec[2],
                        ax[0] * dvec[1] - ax[1] * dvec[0]};
        for (int k = 0; k < 3; ++k) bad.x[k][c0->aj] = ref.x[k][c0->ai] + 1.05 * (cth * dvec[k] + sth * cr[k]);
    }
    coords rc2 = coords_copy(n, bad.x);
    assert_int_equal(fs_constrain_positions(cpu, &s->box, ref.x, rc2.x, NULL, DT, NULL), FS_ERR_NUMERIC);
    dev_set(&d, bad.x, NULL, ref.x);
    assert_int_equal(gpu_constrain_positions(d.c, d.ref, DT, 0.0), FS_OK);
    dev_get(&d, &rd, &vd, xi, f);
    print_message("ec-dmc, bond %d-%d turned 120 degrees: flag %d, atom %d\n", c0->ai, c0->aj, f[GPU_F_ERROR],
                  f[GPU_F_ERROR_ATOM]);
    assert_int_equal(f[GPU_F_ERROR], GPU_ERR_CONSTRAINT);
    /* only the cluster of that bond fails (the others sit at the reference and converge at once) */
    assert_true(is_min[f[GPU_F_ERROR_ATOM]]);
    assert_true(f[GPU_F_ERROR_ATOM] <= (c0->ai < c0->aj ? c0->ai : c0->aj));
    coords_free(&rd);
    coords_free(&vd);

    assert_int_equal(gpu_constraints_set_max_iterations(d.c, 1000), FS_OK);
    coords *all[] = {&ref, &unc, &v0, &rc, &bad, &rc2};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; ++k) coords_free(all[k]);
    free(is_min);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Frozen atoms, a water handed to SHAKE, a water that SETTLE cannot reach. */

/* 0-2 free water (straddling x = 0), 3-5 water with a frozen O, 6-9 chain C1-C4 with C1 frozen, 10-11 two frozen
 * atoms joined by a constraint, 12-14 free water. */
static fs_topology *frozen_system(fs_state **s)
{
    fs_topology *t = NULL;
    assert_int_equal(fs_topology_create(&t), FS_OK);
    const double mo = 15.9994, mh = 1.008;
    const char *wn[3] = {"OW", "HW1", "HW2"};
    for (int w = 0; w < 2; ++w) {
        for (int a = 0; a < 3; ++a) add_atom(t, wn[a], a ? mh : mo, w == 1 && a == 0, w);
        add_mol(t, 3 * w, 3);
        push_settle(t, 3 * w);
    }
    for (int a = 0; a < 4; ++a) {
        char name[8];
        snprintf(name, sizeof name, "C%d", a + 1);
        add_atom(t, name, 12.011 + a, a == 0, 2);
    }
    add_mol(t, 6, 4);
    push_constraint(t, 6, 7, 0.153);
    push_constraint(t, 7, 8, 0.150);
    push_constraint(t, 8, 9, 0.147);
    add_atom(t, "F1", 19.0, 1, 3);
    add_atom(t, "F2", 19.0, 1, 3);
    add_mol(t, 10, 2);
    push_constraint(t, 10, 11, 0.2);
    for (int a = 0; a < 3; ++a) add_atom(t, wn[a], a ? mh : mo, 0, 4);
    add_mol(t, 12, 3);
    push_settle(t, 12);

    assert_int_equal(fs_state_create(t->natoms, t->natoms, s), FS_OK);
    (*s)->box = fs_box_make(2.0, 2.0, 2.0);
    double **r = (*s)->r;
    place_water(r, 0, 0.02, 1.0, 1.0); /* H atoms at x < 0: across the boundary */
    r[0][1] += 2.0;                    /* one hydrogen stored at the far side */
    place_water(r, 3, 0.5, 0.5, 0.5);
    place_water(r, 12, 1.5, 1.5, 0.3);
    /* a zigzag with the constrained lengths, crossing z = 2 */
    const double len[3] = {0.153, 0.150, 0.147};
    r[0][6] = 1.2, r[1][6] = 0.3, r[2][6] = 1.85;
    for (int a = 0; a < 3; ++a) {
        const double u[3] = {0.6, a % 2 ? -0.5 : 0.5, 0.62}, un = norm3(u);
        for (int k = 0; k < 3; ++k) r[k][7 + a] = r[k][6 + a] + len[a] * u[k] / un;
    }
    r[0][10] = 0.7, r[1][10] = 1.6, r[2][10] = 1.0;
    r[0][11] = 0.9, r[1][11] = 1.6, r[2][11] = 1.05; /* not at the constrained 0.2 nm: never enforced */
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < t->natoms; ++i) r[k][i] -= (*s)->box.len[k] * floor(r[k][i] / (*s)->box.len[k]);
    return t;
}

static void test_frozen(void **state)
{
    (void)state;
    fs_state *s = NULL;
    fs_topology *top = frozen_system(&s);
    const int n = top->natoms;
    fs_constraints *cpu = make(top, 1e-12);
    coords ref = project(cpu, &s->box, n, s->r);
    dev d;
    dev_open(&d, top, s, 1e-12, 0);
    assert_int_equal(gpu_constraints_count(d.c), fs_constraints_count(cpu));
    deviations dv;
    compare("frozen", &d, cpu, &s->box, ref.x, 41, 1e-12, &dv);

    /* frozen atoms never move, in position or velocity, bit for bit */
    coords unc = coords_new(n), v0 = coords_new(n);
    thermal(top, ref.x, unc.x, v0.x, 43);
    dev_set(&d, unc.x, v0.x, ref.x);
    assert_int_equal(gpu_constrain_positions(d.c, d.ref, DT, 1.0), FS_OK);
    assert_int_equal(gpu_constrain_velocities(d.c, DT), FS_OK);
    coords rd, vd;
    double xi[3][3];
    int f[GPU_FLAG_SLOTS];
    dev_get(&d, &rd, &vd, xi, f);
    assert_int_equal(f[GPU_F_ERROR], 0);
    int frozen = 0;
    for (int i = 0; i < n; ++i) {
        if (!top->atoms[i].frozen) continue;
        ++frozen;
        for (int k = 0; k < 3; ++k) {
            assert_true(rd.x[k][i] == unc.x[k][i]);
            assert_true(vd.x[k][i] == 0.0);
        }
    }
    assert_int_equal(frozen, 4);
    /* negative control: the frozen atoms' partners did move */
    assert_true(fabs(rd.x[0][7] - unc.x[0][7]) + fabs(rd.x[1][4] - unc.x[1][4]) > 1e-8);
    coords_free(&rd);
    coords_free(&vd);

    /* a water distorted beyond SETTLE's reach (oxygen pulled 0.2 nm out of the plane): flagged with its oxygen and
     * left as it was */
    coords bad = coords_copy(n, unc.x);
    bad.x[2][12] += 0.2;
    coords rc = coords_copy(n, bad.x);
    assert_int_equal(fs_constrain_positions(cpu, &s->box, ref.x, rc.x, NULL, DT, NULL), FS_ERR_NUMERIC);
    dev_set(&d, bad.x, v0.x, ref.x);
    assert_int_equal(gpu_constrain_positions(d.c, d.ref, DT, 1.0), FS_OK);
    dev_get(&d, &rd, &vd, xi, f);
    print_message("frozen: distorted water: flag %d, atom %d\n", f[GPU_F_ERROR], f[GPU_F_ERROR_ATOM]);
    assert_int_equal(f[GPU_F_ERROR], GPU_ERR_CONSTRAINT);
    assert_int_equal(f[GPU_F_ERROR_ATOM], 12);
    for (int i = 12; i < 15; ++i)
        for (int k = 0; k < 3; ++k) assert_true(rd.x[k][i] == bad.x[k][i]);
    coords_free(&rd);
    coords_free(&vd);

    /* a topology without constraints (the same atoms; create() reads g->top only): nothing to do, nothing moves */
    {
        fs_topology *none = clone_atoms(top);
        const fs_topology *saved = d.g->top;
        d.g->top = none;
        gpu_constraints *c0 = NULL;
        fs_status st0 = gpu_constraints_create(d.g, 1e-12, &c0);
        d.g->top = saved;
        assert_int_equal(st0, FS_OK);
        assert_int_equal(gpu_constraints_count(c0), 0);
        dev_set(&d, unc.x, v0.x, ref.x);
        assert_int_equal(gpu_constrain_positions(c0, d.ref, DT, 1.0), FS_OK);
        assert_int_equal(gpu_constrain_velocities(c0, DT), FS_OK);
        dev_get(&d, &rd, &vd, xi, f);
        assert_int_equal(f[GPU_F_ERROR], 0);
        assert_true(max_abs_diff(n, rd.x, unc.x) == 0.0);
        assert_true(max_abs_diff(n, vd.x, v0.x) == 0.0);
        coords_free(&rd);
        coords_free(&vd);
        gpu_constraints_destroy(&c0);
        fs_topology_destroy(&none);
    }

    coords *all[] = {&ref, &unc, &v0, &bad, &rc};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; ++k) coords_free(all[k]);
    dev_close(&d);
    fs_constraints_destroy(&cpu);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_water),
        cmocka_unit_test(test_ecdmc),
        cmocka_unit_test(test_frozen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

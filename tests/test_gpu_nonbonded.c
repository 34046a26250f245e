/*
 * test_gpu_nonbonded.c — the device nonbonded module (kernels/gpu/gpu_nonbonded.c, gpu_pairlist.c and the list_*,
 * nb_* kernels) against the CPU reference (kernels/cpu/nonbonded.c on kernels/cpu/nblist.c).
 *
 * The module is called directly: the OpenCL backend is created and a state uploaded (which builds the program and
 * creates the modules), force and energy buffers are zeroed, gpu_nonbonded_compute() runs alone, and LJ (SR),
 * Coulomb (SR) (pairs, exclusion corrections and self term), the virial and the forces are read back and compared
 * with fs_cpu_nonbonded() on the same positions:
 *   - water-23k (23,262 atoms SPC/E, rc 1.0 nm, buffer 0.1 nm) in mixed precision: energies within 1e-5
 *     relative, virial within 1e-5 of its norm, forces within 1e-4 relative RMS;
 *   - ec-dmc (2,200 atoms, two OPLS molecule types, exclusions and 1-4 pairs, a 2.9 nm box in which about 470
 *     list entries hold a second periodic image of a j-cluster), the same tolerances, and with z made
 *     non-periodic (a slab);
 *   - ec-dmc and water-23k in double precision (FERROSOLV_PRECISION=double): 1e-9 (forces 1e-8);
 *   - reproducibility: the forces and energy slots are bit-identical (a) between an evaluation after upload and one
 *     after uploading other positions, evaluating, and uploading the first ones again (a re-sort with another list
 *     history), and (b) between an evaluation on a list built at other positions (atoms moved by less than half
 *     the buffer: no rebuild) and one on a list rebuilt at the current positions; the force-only kernel gives the
 *     forces of the energy kernel bit for bit;
 *   - list maintenance: moving atoms by more than half the buffer without telling the host triggers the device
 *     rebuild (the result stays right); a list capacity made too small is detected and grown.
 * Negative controls: the device results compared with a CPU reference with beta 1% off, and with one that ignores
 * the exclusions, must fail the same tolerances; after the move beyond the buffer, so must a CPU reference on the
 * list of the positions before the move (the move is large enough that a list not rebuilt would be caught).
 * Timings of the module on water-23k are printed (ms per evaluation, with and without a list rebuild).
 * A machine without an OpenCL device fails these tests; it does not skip them.
 */
#include "support/fs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/ewald_setup.h"
#include "forcefields/gromacs_input.h"
#include "kernels/cpu/nonbonded.h"
#include "kernels/gpu/gpu_backend.h"
#include "kernels/gpu/gpu_backend_impl.h"

typedef struct {
    fs_topology *top;
    fs_state *s;
    fs_forceparams p;
} sys;

typedef struct {
    double lj, coul;
    double vir[9];
    double *f[3];
    int n;
} result;

typedef struct {
    double dlj, dcoul, dvir, dforce; /* relative deviations: energies, virial (Frobenius), forces (RMS) */
} deviation;

/* ---- systems -------------------------------------------------------------------------------------------------- */

static void load(sys *x, const char *dir)
{
    char top[256], gro[256], mdp[256];
    snprintf(top, sizeof top, "benchmarks/inputs/%s/topol.top", dir);
    snprintf(gro, sizeof gro, "benchmarks/inputs/%s/conf.gro", dir);
    snprintf(mdp, sizeof mdp, "benchmarks/inputs/%s/%s", dir, strcmp(dir, "water-23k") ? "grompp.mdp" : "gromacs.mdp");
    fs_mdp m;
    fs_mdp_init(&m);
    if (fs_mdp_read(fs_test_path(mdp), &m, NULL, 0) != FS_OK) fail_msg("%s", fs_error_message());
    if (fs_gromacs_load(fs_test_path(top), fs_test_path(gro), &m, NULL, 0, &x->top, &x->s) != FS_OK)
        fail_msg("%s", fs_error_message());
    x->p = m.force;
}

static void unload(sys *x)
{
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

static void result_init(result *r, int n)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    for (int d = 0; d < 3; ++d) {
        r->f[d] = calloc((size_t)n, sizeof(double));
        assert_non_null(r->f[d]);
    }
}

static void result_free(result *r)
{
    for (int d = 0; d < 3; ++d) free(r->f[d]);
}

/* ---- the two sides -------------------------------------------------------------------------------------------- */

/* CPU reference: fs_cpu_nonbonded on a fresh list; `beta` (nm^-1) and the topology may be altered by the caller. */
static void cpu_reference(const fs_topology *top, const fs_forceparams *p, double beta, const fs_state *s, result *r)
{
    result_init(r, s->natoms);
    fs_nblist *nl = NULL;
    double rlist = fmax(p->rcoulomb, p->rvdw) + p->verlet_buffer;
    assert_int_equal(fs_nblist_create(s->natoms, &nl), FS_OK);
    if (fs_nblist_build(nl, top, &s->box, s->r, rlist) != FS_OK) fail_msg("%s", fs_error_message());
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    for (int d = 0; d < 3; ++d) acc.f[d] = r->f[d];
    if (fs_cpu_nonbonded(top, p, beta, nl, &s->box, s->r, &acc) != FS_OK) fail_msg("%s", fs_error_message());
    r->lj = acc.term[FS_TERM_LJ_SR];
    r->coul = acc.term[FS_TERM_COUL_SR];
    for (int k = 0; k < 9; ++k) r->vir[k] = acc.virial[k / 3][k % 3];
    fs_nblist_destroy(&nl);
}

static fs_backend *device_create(const sys *x, int use_double)
{
    fs_backend *b = NULL;
    if (use_double) setenv("FERROSOLV_PRECISION", "double", 1);
    fs_status st = fs_opencl_backend.create(x->top, &x->p, &b);
    unsetenv("FERROSOLV_PRECISION");
    if (st != FS_OK) fail_msg("%s", fs_error_message());
    if (fs_opencl_backend.upload(b, x->s) != FS_OK) fail_msg("%s", fs_error_message());
    return b;
}

static void device_zero(gpu_backend *g)
{
    assert_int_equal(g->api->fill_zero(g->dev, g->force, 3 * (size_t)g->padded * sizeof(long long)), FS_OK);
    assert_int_equal(g->api->fill_zero(g->dev, g->energy, GPU_ENERGY_SLOTS * sizeof(long long)), FS_OK);
}

/* The raw fixed-point forces and energy slots after one evaluation of the module alone. */
static void device_raw(fs_backend *b, unsigned flags, long long *force, long long *energy)
{
    gpu_backend *g = (gpu_backend *)b;
    device_zero(g);
    if (gpu_nonbonded_compute(g->nb, flags) != FS_OK) fail_msg("%s", fs_error_message());
    assert_int_equal(g->api->read(g->dev, g->force, 0, 3 * (size_t)g->padded * sizeof(long long), force), FS_OK);
    assert_int_equal(g->api->read(g->dev, g->energy, 0, GPU_ENERGY_SLOTS * sizeof(long long), energy), FS_OK);
}

static void device_eval(fs_backend *b, result *r)
{
    gpu_backend *g = (gpu_backend *)b;
    long long *f = malloc(3 * (size_t)g->padded * sizeof(long long)), e[GPU_ENERGY_SLOTS];
    assert_non_null(f);
    device_raw(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, f, e);
    result_init(r, g->natoms);
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < g->natoms; ++i) r->f[d][i] = (double)f[(size_t)d * g->padded + i] / 4294967296.0;
    r->lj = (double)e[GPU_E_TERM + FS_TERM_LJ_SR] / 4294967296.0;
    r->coul = (double)e[GPU_E_TERM + FS_TERM_COUL_SR] / 4294967296.0;
    for (int k = 0; k < 9; ++k) r->vir[k] = (double)e[GPU_E_VIRIAL + k] / 4294967296.0;
    free(f);
}

static deviation compare(const result *a, const result *ref)
{
    deviation dv;
    dv.dlj = fabs(a->lj - ref->lj) / fmax(fabs(ref->lj), 1e-30);
    dv.dcoul = fabs(a->coul - ref->coul) / fmax(fabs(ref->coul), 1e-30);
    double num = 0.0, den = 0.0;
    for (int k = 0; k < 9; ++k) {
        num += (a->vir[k] - ref->vir[k]) * (a->vir[k] - ref->vir[k]);
        den += ref->vir[k] * ref->vir[k];
    }
    dv.dvir = sqrt(num / fmax(den, 1e-300));
    num = den = 0.0;
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < ref->n; ++i) {
            num += (a->f[d][i] - ref->f[d][i]) * (a->f[d][i] - ref->f[d][i]);
            den += ref->f[d][i] * ref->f[d][i];
        }
    dv.dforce = sqrt(num / fmax(den, 1e-300));
    return dv;
}

static int within(deviation d, double tol_e, double tol_f)
{
    return d.dlj <= tol_e && d.dcoul <= tol_e && d.dvir <= tol_e && d.dforce <= tol_f;
}

static void print_dev(const char *what, deviation d, const result *ref)
{
    printf("  %-34s LJ %.2e  Coul %.2e  virial %.2e  forces %.2e   (LJ %.4f, Coul %.4f kJ/mol)\n", what, d.dlj, d.dcoul,
           d.dvir, d.dforce, ref->lj, ref->coul);
}

/* CPU time of the process (all threads, PoCL's included), s */
static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}

static inline double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- tests ---------------------------------------------------------------------------------------------------- */

/* Device vs CPU on one system; returns the deviation, with the negative controls run on the side. */
static void check_against_cpu(sys *x, int use_double, const char *label)
{
    fs_backend *b = device_create(x, use_double);
    gpu_backend *g = (gpu_backend *)b;
    result dev, ref;
    device_eval(b, &dev);
    cpu_reference(x->top, &x->p, g->beta, x->s, &ref);
    deviation d = compare(&dev, &ref);
    char what[96];
    snprintf(what, sizeof what, "%s (%s)", label, use_double ? "double" : "mixed");
    print_dev(what, d, &ref);
    const double tol_e = use_double ? 1e-9 : 1e-5, tol_f = use_double ? 1e-8 : 1e-4;
    assert_true(within(d, tol_e, tol_f));

    /* negative controls: the same comparison against a reference with beta 1% off, and one without exclusions */
    result bad;
    cpu_reference(x->top, &x->p, 1.01 * g->beta, x->s, &bad);
    deviation db = compare(&dev, &bad);
    print_dev("  control: beta +1%", db, &bad);
    assert_false(within(db, tol_e, tol_f));
    result_free(&bad);
    int *es = x->top->excl_start;
    x->top->excl_start = NULL;
    cpu_reference(x->top, &x->p, g->beta, x->s, &bad);
    x->top->excl_start = es;
    db = compare(&dev, &bad);
    print_dev("  control: no exclusions", db, &bad);
    assert_false(within(db, tol_e, tol_f));
    result_free(&bad);

    result_free(&dev);
    result_free(&ref);
    fs_opencl_backend.destroy(&b);
}

static void test_water_mixed(void **state)
{
    (void)state;
    sys x;
    load(&x, "water-23k");
    check_against_cpu(&x, 0, "water-23k");
    unload(&x);
}

static void test_ecdmc(void **state)
{
    (void)state;
    sys x;
    load(&x, "ec-dmc");
    check_against_cpu(&x, 0, "ec-dmc");
    check_against_cpu(&x, 1, "ec-dmc");
    x.s->box.periodic[2] = 0; /* a slab: z open */
    check_against_cpu(&x, 0, "ec-dmc, z non-periodic");
    check_against_cpu(&x, 1, "ec-dmc, z non-periodic");
    unload(&x);
}

static void test_water_double(void **state)
{
    (void)state;
    sys x;
    load(&x, "water-23k");
    check_against_cpu(&x, 1, "water-23k");
    unload(&x);
}

/* ---- reproducibility and list maintenance ----------------------------------------------------------------------- */

typedef struct {
    long long *f, e[GPU_ENERGY_SLOTS];
    size_t n;
} raw;

static void raw_eval(fs_backend *b, unsigned flags, raw *r)
{
    gpu_backend *g = (gpu_backend *)b;
    r->n = 3 * (size_t)g->padded;
    r->f = malloc(r->n * sizeof(long long));
    assert_non_null(r->f);
    device_raw(b, flags, r->f, r->e);
}

static int raw_equal(const raw *a, const raw *b)
{
    return a->n == b->n && !memcmp(a->f, b->f, a->n * sizeof(long long)) && !memcmp(a->e, b->e, sizeof a->e);
}

/* Writes positions straight into the device's master positions: no upload, so the host-side module learns nothing. */
static void write_positions(fs_backend *b, const fs_state *s)
{
    gpu_backend *g = (gpu_backend *)b;
    double *buf = calloc(4 * (size_t)g->padded, sizeof(double));
    assert_non_null(buf);
    for (int i = 0; i < s->natoms; ++i)
        for (int d = 0; d < 3; ++d) buf[4 * i + d] = s->r[d][i];
    assert_int_equal(g->api->write(g->dev, g->pos, 0, 4 * (size_t)g->padded * sizeof(double), buf), FS_OK);
    free(buf);
}

static int builds(fs_backend *b)
{
    int fl[GPU_FLAG_SLOTS];
    assert_int_equal(gpu_read_flags((gpu_backend *)b, fl), FS_OK);
    return fl[GPU_F_NB_BUILDS];
}

/* Deterministic jitter in [-a, a] that keeps every coordinate on its side of the box edges (so that the wrapped
 * positions, and with them the float rounding, do not depend on when the list was built). */
static void jitter(fs_state *s, double a, unsigned seed)
{
    for (int i = 0; i < s->natoms; ++i)
        for (int d = 0; d < 3; ++d) {
            seed = seed * 1103515245u + 12345u;
            double delta = a * (2.0 * ((seed >> 8) & 0xFFFF) / 65535.0 - 1.0);
            double L = s->box.len[d], x = s->r[d][i];
            if (floor(x / L) == floor((x + delta) / L)) s->r[d][i] = x + delta;
        }
}

static void test_reproducible(void **state)
{
    (void)state;
    sys x;
    load(&x, "ec-dmc");
    fs_state *p0 = NULL;
    assert_int_equal(fs_state_create(x.s->natoms, x.s->natoms, &p0), FS_OK);
    for (int d = 0; d < 3; ++d) memcpy(p0->r[d], x.s->r[d], (size_t)x.s->natoms * sizeof(double));
    p0->box = x.s->box;
    fs_backend *b = device_create(&x, 0);
    const unsigned all = FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL;

    /* (a) the same positions after another history: other positions, evaluations, then these again (re-sort) */
    raw a, a2, c;
    raw_eval(b, all, &a);
    raw_eval(b, all, &a2);
    assert_true(raw_equal(&a, &a2));
    /* the force-only kernel gives the very forces of the energy kernel */
    raw_eval(b, FS_COMPUTE_FORCES, &c);
    assert_memory_equal(a.f, c.f, a.n * sizeof(long long));
    free(c.f);
    jitter(x.s, 0.2, 7);
    assert_int_equal(fs_opencl_backend.upload(b, x.s), FS_OK);
    raw_eval(b, all, &c);
    assert_false(raw_equal(&a, &c)); /* control: other positions give other bits */
    jitter(x.s, 0.02, 11);
    write_positions(b, x.s);
    free(c.f);
    raw_eval(b, FS_COMPUTE_FORCES, &c);
    free(c.f);
    assert_int_equal(fs_opencl_backend.upload(b, p0), FS_OK);
    raw_eval(b, all, &c);
    assert_true(raw_equal(&a, &c));
    printf("  re-sort after another history: forces and energies bit-identical\n");
    free(c.f);
    free(a2.f);

    /* (b) a list built at other positions (within half the buffer: not rebuilt) vs one rebuilt at these */
    for (int d = 0; d < 3; ++d) memcpy(x.s->r[d], p0->r[d], (size_t)x.s->natoms * sizeof(double));
    jitter(x.s, 0.02, 5); /* |displacement| < 0.035 nm < buffer / 2 */
    write_positions(b, x.s);
    int n0 = builds(b);
    raw stale, fresh;
    raw_eval(b, all, &stale);
    assert_int_equal(builds(b), n0); /* no rebuild */
    int one = 1;
    gpu_backend *g = (gpu_backend *)b;
    assert_int_equal(g->api->write(g->dev, g->flags, GPU_F_REBUILD * sizeof(int), sizeof one, &one), FS_OK);
    raw_eval(b, all, &fresh);
    assert_int_equal(builds(b), n0 + 1);
    assert_true(raw_equal(&stale, &fresh));
    assert_false(raw_equal(&a, &fresh)); /* control: the positions did move */
    printf("  list built 0.035 nm away vs rebuilt: forces and energies bit-identical\n");
    free(a.f);
    free(stale.f);
    free(fresh.f);
    fs_opencl_backend.destroy(&b);
    fs_state_destroy(&p0);
    unload(&x);
}

/* x += amp sin(2 pi x / L) along x: displacements up to amp, periodic, distances changed by up to ~2 pi amp / L. */
static void deform(fs_state *s, double amp)
{
    for (int i = 0; i < s->natoms; ++i) s->r[0][i] += amp * sin(2.0 * 3.141592653589793 * s->r[0][i] / s->box.len[0]);
}

static void test_rebuild_on_motion(void **state)
{
    (void)state;
    sys x;
    load(&x, "ec-dmc");
    fs_backend *b = device_create(&x, 0);
    gpu_backend *g = (gpu_backend *)b;
    result r0, dev, ref, stale;
    device_eval(b, &r0);
    const double rlist = fmax(x.p.rcoulomb, x.p.rvdw) + x.p.verlet_buffer;
    fs_nblist *old = NULL;
    assert_int_equal(fs_nblist_create(x.s->natoms, &old), FS_OK);
    assert_int_equal(fs_nblist_build(old, x.top, &x.s->box, x.s->r, rlist), FS_OK);

    deform(x.s, 0.15); /* moves atoms by up to 0.15 nm > buffer / 2, without telling the host */
    write_positions(b, x.s);
    int n0 = builds(b);
    device_eval(b, &dev);
    assert_true(builds(b) > n0);
    cpu_reference(x.top, &x.p, g->beta, x.s, &ref);
    deviation d = compare(&dev, &ref);
    print_dev("after a 0.15 nm deformation", d, &ref);
    assert_true(within(d, 1e-5, 1e-4));

    /* negative control: the CPU reference on the list of the undeformed positions misses pairs */
    result_init(&stale, x.s->natoms);
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    for (int k = 0; k < 3; ++k) acc.f[k] = stale.f[k];
    assert_int_equal(fs_cpu_nonbonded(x.top, &x.p, g->beta, old, &x.s->box, x.s->r, &acc), FS_OK);
    stale.lj = acc.term[FS_TERM_LJ_SR];
    stale.coul = acc.term[FS_TERM_COUL_SR];
    for (int k = 0; k < 9; ++k) stale.vir[k] = acc.virial[k / 3][k % 3];
    deviation ds = compare(&dev, &stale);
    print_dev("  control: list not rebuilt", ds, &stale);
    assert_false(within(ds, 1e-5, 1e-4));

    /* a list capacity far too small: found, grown and rebuilt before the forces are computed */
    result small;
    assert_int_equal(gpu_pairlist_set_capacity(gpu_nonbonded_pairlist(g->nb), 8), FS_OK);
    device_eval(b, &small);
    deviation dsm = compare(&small, &ref);
    print_dev("capacity 8 entries, grown", dsm, &ref);
    assert_true(within(dsm, 1e-5, 1e-4));
    assert_true(gpu_pairlist_get(gpu_nonbonded_pairlist(g->nb)).cap > 8);

    result_free(&r0);
    result_free(&dev);
    result_free(&ref);
    result_free(&stale);
    result_free(&small);
    fs_nblist_destroy(&old);
    fs_opencl_backend.destroy(&b);
    unload(&x);
}

/* Forces a list rebuild at the next evaluation (as the displacement check would). */
static void raise_rebuild(gpu_backend *g)
{
    int one = 1;
    assert_int_equal(g->api->write(g->dev, g->flags, GPU_F_REBUILD * sizeof(int), sizeof one, &one), FS_OK);
}

static void print_timers(fs_backend *b, int evals)
{
    fs_gpu_timer t[32];
    int n = fs_gpu_backend_timers(b, t, 32);
    for (int k = 0; k < n; ++k)
        if (t[k].seconds > 0.0)
            printf("      %-16s %8.3f ms per evaluation (%ld launches)\n", t[k].name, 1e3 * t[k].seconds / evals,
                   t[k].launches);
    fs_gpu_backend_reset_timers(b);
}

static void test_water_timing(void **state)
{
    (void)state;
    sys x;
    load(&x, "water-23k");
    setenv("FERROSOLV_PROFILE", "1", 1);
    fs_backend *b = device_create(&x, 0);
    unsetenv("FERROSOLV_PROFILE");
    gpu_backend *g = (gpu_backend *)b;
    device_zero(g);
    assert_int_equal(gpu_nonbonded_compute(g->nb, FS_COMPUTE_FORCES), FS_OK); /* sort + first build */
    assert_int_equal(g->api->finish(g->dev), FS_OK);
    printf("  water-23k: %ld interactions in the list (%.0f per atom)\n", gpu_nonbonded_pair_count(g->nb),
           (double)gpu_nonbonded_pair_count(g->nb) / g->natoms);
    fs_gpu_backend_reset_timers(b);
#ifdef __SANITIZE_ADDRESS__
    const int reps = 2; /* the sanitizers slow the host side only; keep the suite short */
#else
    const int reps = 5;
#endif
    const char *what[3] = {"forces, list reused", "forces + energies, list reused", "forces, list rebuilt"};
    for (int mode = 0; mode < 3; ++mode) {
        double best = 1e30, cpu = 1e30;
        for (int r = 0; r < reps; ++r) {
            device_zero(g);
            if (mode == 2) raise_rebuild(g);
            assert_int_equal(g->api->finish(g->dev), FS_OK);
            double t0 = now(), c0 = cpu_seconds();
            unsigned fl = mode == 1 ? FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL : FS_COMPUTE_FORCES;
            assert_int_equal(gpu_nonbonded_compute(g->nb, fl), FS_OK);
            assert_int_equal(g->api->finish(g->dev), FS_OK);
            best = fmin(best, now() - t0);
            cpu = fmin(cpu, cpu_seconds() - c0);
        }
        printf("    %-32s %8.2f ms wall, %8.2f ms CPU time (best of %d)\n", what[mode], 1e3 * best, 1e3 * cpu, reps);
        print_timers(b, reps);
    }
    fs_opencl_backend.destroy(&b);
    unload(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdmc),
        cmocka_unit_test(test_water_mixed),
        cmocka_unit_test(test_water_double),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_rebuild_on_motion),
        cmocka_unit_test(test_water_timing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gpu_pme.c — the device smooth PME (kernels/gpu/gpu_pme.c) against the CPU reference (kernels/cpu/pme.c).
 *
 * The module is called directly: the OpenCL backend is created and a state uploaded (which builds the program and
 * creates the modules), the force and energy buffers are zeroed, gpu_pme_compute() runs alone, and its
 * reciprocal energy, virial and forces are read back and compared with fs_pme_compute() on the same grid, order,
 * beta and Coulomb factor:
 *   - water-23k (benchmarks/inputs/water-23k, 52^3 grid, order 4) and a jittered NaCl crystal (512 ions, 32^3 grid)
 *     in mixed precision: energy within 1e-5 relative, virial within 1e-5 of its norm, forces within 1e-4 relative
 *     RMS; in double precision (FERROSOLV_PRECISION=double): 1e-9, 1e-9 and 1e-8;
 *   - orders 3, 4, 6 and 12 on the crystal (one program build each: the order is a #define);
 *   - a box change that needs another grid size (the grid, FFT plan and moduli are made again) and back;
 *   - determinism: two evaluations give bit-identical forces, energy slots and phi grid; and the same digest comes
 *     out of this binary re-run as a child process (FS_TEST_GPU_PME_DIGEST=1) with one PoCL thread and with two
 *     (POCL_MAX_PTHREAD_COUNT, and POCL_CPU_MAX_CU_COUNT for newer PoCL releases); spreading by atomics and by
 *     grid rows give the same bits;
 *   - no charge: nothing is added; coulombtype = Ewald with charges: FS_ERR_UNSUPPORTED.
 * Negative controls: the same comparisons against a CPU reference without the B-spline moduli and against one of
 * the wrong order must fail. Per-stage timings (gpu_pme_profile) on water-23k are printed.
 * A machine without an OpenCL device fails these tests; it does not skip them.
 */
#include "support/fs_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ewald_setup.h"
#include "core/units.h"
#include "forcefields/gromacs_input.h"
#include "kernels/cpu/pme.h"
#include "kernels/gpu/gpu_backend_impl.h"

typedef struct {
    fs_topology *top;
    fs_state *s;
    fs_forceparams p;
} sys;

typedef struct {
    double e;
    double vir[9];
    double *f[3];
} result;

typedef struct {
    double de, dvir, dforce; /* relative deviations: energy, virial (Frobenius), forces (RMS) */
} deviation;

/* ---- systems -------------------------------------------------------------------------------------------------- */

static void load_water(sys *x)
{
    fs_mdp m;
    fs_mdp_init(&m);
    if (fs_mdp_read(fs_test_path("benchmarks/inputs/water-23k/gromacs.mdp"), &m, NULL, 0) != FS_OK)
        fail_msg("%s", fs_error_message());
    if (fs_gromacs_load(fs_test_path("benchmarks/inputs/water-23k/topol.top"),
                        fs_test_path("benchmarks/inputs/water-23k/conf.gro"), &m, NULL, 0, &x->top, &x->s) != FS_OK)
        fail_msg("%s", fs_error_message());
    x->p = m.force;
}

/* Rock salt, 4 x 4 x 4 conventional cells (a = 0.564 nm, box 2.256 nm), every ion moved by a fixed pseudo-random
 * jitter of up to 0.02 nm so that the forces do not vanish by symmetry; fourierspacing 0.08 nm gives 32^3. */
static void build_nacl(sys *x, int order)
{
    const int m = 8;
    const double r0 = 0.282;
    const int n = m * m * m;
    assert_int_equal(fs_topology_create(&x->top), FS_OK);
    fs_atomtype type = {"ION", -1};
    const double zero = 0.0;
    assert_int_equal(fs_topology_set_types(x->top, 1, &type, &zero, &zero), FS_OK);
    assert_int_equal(fs_state_create(n, n, &x->s), FS_OK);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int k = 0;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j)
            for (int l = 0; l < m; ++l, ++k) {
                fs_atom at = {0};
                const int na = (i + j + l) % 2 == 0;
                strcpy(at.name, na ? "NA" : "CL");
                strcpy(at.resname, at.name);
                at.resnr = k + 1;
                at.charge = na ? 1.0 : -1.0;
                at.mass = na ? 22.99 : 35.45;
                assert_int_equal(fs_topology_add_atom(x->top, &at, NULL), FS_OK);
                const int cell[3] = {i, j, l};
                for (int d = 0; d < 3; ++d) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    const double u = (double)(rng >> 11) / 9007199254740992.0; /* [0, 1) */
                    x->s->r[d][k] = cell[d] * r0 + 0.0123 * (d + 1) + 0.04 * (u - 0.5);
                }
            }
    assert_int_equal(fs_topology_finalize(x->top), FS_OK);
    x->s->box = fs_box_make(m * r0, m * r0, m * r0);
    x->p = fs_forceparams_default();
    x->p.fourierspacing = 0.08;
    x->p.pme_order = order;
}

static void free_sys(sys *x)
{
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

/* ---- the CPU reference ---------------------------------------------------------------------------------------- */

static void result_alloc(result *r, int n)
{
    memset(r, 0, sizeof *r);
    for (int d = 0; d < 3; ++d) {
        r->f[d] = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
        assert_non_null(r->f[d]);
    }
}

static void result_free(result *r)
{
    for (int d = 0; d < 3; ++d) free(r->f[d]);
}

/* fs_pme_compute on the grid GROMACS chooses for the box, with `order` (0: the system's) and `fault`. */
static void cpu_pme(const sys *x, int order, fs_pme_fault fault, result *out)
{
    const int n = x->top->natoms;
    result_alloc(out, n);
    double *q = malloc((size_t)n * sizeof *q);
    assert_non_null(q);
    for (int i = 0; i < n; ++i) q[i] = x->top->atoms[i].charge;
    int grid[3];
    fs_pme *pme = NULL;
    if (fs_pme_grid_size(&x->s->box, &x->p, grid) != FS_OK) fail_msg("%s", fs_error_message());
    const double beta = fs_ewald_beta(x->p.rcoulomb, x->p.ewald_rtol);
    if (fs_pme_create(grid, order ? order : x->p.pme_order, beta, n, &pme) != FS_OK) fail_msg("%s", fs_error_message());
    fs_pme_set_fault(pme, fault);
    fs_accum acc = {{out->f[0], out->f[1], out->f[2]}, {{0}}, {0}};
    if (fs_pme_compute(pme, &x->s->box, x->s->r, q, FS_ONE_4PI_EPS0 / x->p.epsilon_r, &acc) != FS_OK)
        fail_msg("%s", fs_error_message());
    out->e = acc.term[FS_TERM_COUL_RECIP];
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) out->vir[3 * a + b] = acc.virial[a][b];
    fs_pme_destroy(&pme);
    free(q);
}

/* ---- the device ----------------------------------------------------------------------------------------------- */

static fs_status open_device(const sys *x, int use_double, fs_backend **b)
{
    if (use_double)
        setenv("FERROSOLV_PRECISION", "double", 1);
    else
        unsetenv("FERROSOLV_PRECISION");
    fs_status st = fs_opencl_backend.create(x->top, &x->p, b);
    unsetenv("FERROSOLV_PRECISION");
    if (st == FS_OK) st = fs_opencl_backend.upload(*b, x->s);
    if (st != FS_OK) fs_opencl_backend.destroy(b);
    return st;
}

/* Zeroes force and energy, runs the PME module alone and reads back energy, virial and forces; `raw` (3 padded
 * fixed-point forces then the GPU_ENERGY_SLOTS energy slots), when given, receives the bits. */
static void device_pme(fs_backend *b, result *out, int64_t *raw)
{
    gpu_backend *g = (gpu_backend *)b;
    const gpu_api *api = g->api;
    const size_t fbytes = 3 * (size_t)g->padded * sizeof(int64_t);
    assert_int_equal(api->fill_zero(g->dev, g->force, fbytes), FS_OK);
    assert_int_equal(api->fill_zero(g->dev, g->energy, GPU_ENERGY_SLOTS * sizeof(int64_t)), FS_OK);
    if (gpu_pme_compute(g->pme, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL) != FS_OK)
        fail_msg("%s", fs_error_message());
    double slots[GPU_ENERGY_SLOTS];
    if (gpu_read_energy(g, slots) != FS_OK) fail_msg("%s", fs_error_message());
    int64_t *f = raw ? raw : malloc(fbytes);
    assert_non_null(f);
    if (api->read(g->dev, g->force, 0, fbytes, f) != FS_OK) fail_msg("%s", fs_error_message());
    if (raw && api->read(g->dev, g->energy, 0, GPU_ENERGY_SLOTS * sizeof(int64_t), raw + 3 * g->padded) != FS_OK)
        fail_msg("%s", fs_error_message());
    result_alloc(out, g->natoms);
    out->e = slots[GPU_E_TERM + FS_TERM_COUL_RECIP];
    for (int k = 0; k < 9; ++k) out->vir[k] = slots[GPU_E_VIRIAL + k];
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < g->natoms; ++i) out->f[d][i] = (double)f[(size_t)d * g->padded + i] / 4294967296.0;
    if (!raw) free(f);
}

static deviation compare(const result *dev, const result *ref, int n)
{
    deviation r;
    r.de = fabs(dev->e - ref->e) / fabs(ref->e);
    double num = 0, den = 0;
    for (int k = 0; k < 9; ++k) {
        num += (dev->vir[k] - ref->vir[k]) * (dev->vir[k] - ref->vir[k]);
        den += ref->vir[k] * ref->vir[k];
    }
    r.dvir = sqrt(num / den);
    num = den = 0;
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < n; ++i) {
            num += (dev->f[d][i] - ref->f[d][i]) * (dev->f[d][i] - ref->f[d][i]);
            den += ref->f[d][i] * ref->f[d][i];
        }
    r.dforce = sqrt(num / den);
    return r;
}

typedef struct {
    double e, vir, force;
} tolerance;
static const tolerance tol_mixed = {1e-5, 1e-5, 1e-4};
static const tolerance tol_double = {1e-9, 1e-9, 1e-8};

static int within(deviation d, tolerance t)
{
    return d.de <= t.e && d.dvir <= t.vir && d.dforce <= t.force;
}

static void print_deviation(const char *what, deviation d, const result *dev, const result *ref)
{
    print_message("%-34s E dev %.10g cpu %.10g | rel dE %.2e dXi %.2e dF(rms) %.2e\n", what, dev->e, ref->e, d.de,
                  d.dvir, d.dforce);
}

/* Device against CPU for one system and precision; checks the tolerances and the two negative controls. */
static void check_against_cpu(const sys *x, int use_double, const char *name)
{
    fs_backend *b = NULL;
    if (open_device(x, use_double, &b) != FS_OK) fail_msg("%s", fs_error_message());
    result dev, ref;
    device_pme(b, &dev, NULL);
    cpu_pme(x, 0, FS_PME_FAULT_NONE, &ref);
    const tolerance t = use_double ? tol_double : tol_mixed;
    char what[128];
    snprintf(what, sizeof what, "%s (%s, order %d)", name, use_double ? "double" : "mixed", x->p.pme_order);
    deviation d = compare(&dev, &ref, x->top->natoms);
    print_deviation(what, d, &dev, &ref);
    if (!within(d, t)) fail_msg("%s: outside the tolerances (%g, %g, %g)", what, t.e, t.vir, t.force);

    /* negative controls: a reference without the B-spline moduli, and one of another order, must be told apart */
    result bad;
    cpu_pme(x, 0, FS_PME_FAULT_NO_BSPLINE_MODULI, &bad);
    d = compare(&dev, &bad, x->top->natoms);
    print_deviation("  vs CPU without B-spline moduli", d, &dev, &bad);
    assert_false(within(d, t));
    result_free(&bad);
    /* neighbouring orders differ by more than the tolerances up to order 6; above, both are converged */
    const int order = x->p.pme_order, wrong = order == 3 ? 4 : order <= 6 ? order - 1 : 4;
    cpu_pme(x, wrong, FS_PME_FAULT_NONE, &bad);
    d = compare(&dev, &bad, x->top->natoms);
    snprintf(what, sizeof what, "  vs CPU of order %d", wrong);
    print_deviation(what, d, &dev, &bad);
    assert_false(within(d, t));
    result_free(&bad);

    result_free(&dev);
    result_free(&ref);
    fs_opencl_backend.destroy(&b);
}

/* ---- tests ---------------------------------------------------------------------------------------------------- */

static void test_water_mixed(void **state)
{
    (void)state;
    sys x;
    load_water(&x);
    check_against_cpu(&x, 0, "water-23k");
    free_sys(&x);
}

static void test_water_double(void **state)
{
    (void)state;
    sys x;
    load_water(&x);
    check_against_cpu(&x, 1, "water-23k");
    free_sys(&x);
}

static void test_nacl_orders(void **state)
{
    (void)state;
    const int orders[] = {3, 4, 6, 12};
    for (size_t k = 0; k < sizeof orders / sizeof orders[0]; ++k) {
        sys x;
        build_nacl(&x, orders[k]);
        check_against_cpu(&x, 0, "NaCl");
        free_sys(&x);
    }
}

static void test_nacl_double(void **state)
{
    (void)state;
    sys x;
    build_nacl(&x, 6);
    check_against_cpu(&x, 1, "NaCl");
    free_sys(&x);
}

/* A box 15 % larger needs 36^3 instead of 32^3: the device re-plans and still agrees; back to the first box. */
static void test_grid_resize(void **state)
{
    (void)state;
    sys x;
    build_nacl(&x, 4);
    fs_backend *b = NULL;
    if (open_device(&x, 0, &b) != FS_OK) fail_msg("%s", fs_error_message());
    gpu_pme *pme = ((gpu_backend *)b)->pme;
    const fs_box box0 = x.s->box;
    for (int pass = 0; pass < 3; ++pass) {
        const double s = pass == 1 ? 1.15 : 1.0;
        for (int d = 0; d < 3; ++d) {
            x.s->box.len[d] = box0.len[d] * s;
            for (int i = 0; i < x.s->natoms; ++i) x.s->r[d][i] *= pass == 1 ? 1.15 : pass == 2 ? 1.0 / 1.15 : 1.0;
        }
        assert_int_equal(fs_opencl_backend.upload(b, x.s), FS_OK);
        result dev, ref;
        device_pme(b, &dev, NULL);
        cpu_pme(&x, 0, FS_PME_FAULT_NONE, &ref);
        int n[3];
        assert_non_null(gpu_pme_grid(pme, n));
        int want[3];
        assert_int_equal(fs_pme_grid_size(&x.s->box, &x.p, want), FS_OK);
        assert_memory_equal(n, want, sizeof n);
        assert_int_equal(n[0], pass == 1 ? 36 : 32);
        char what[64];
        snprintf(what, sizeof what, "NaCl box x%.2f, grid %d^3", s, n[0]);
        deviation d = compare(&dev, &ref, x.s->natoms);
        print_deviation(what, d, &dev, &ref);
        assert_true(within(d, tol_mixed));
        result_free(&dev);
        result_free(&ref);
    }
    fs_opencl_backend.destroy(&b);
    free_sys(&x);
}

/* FNV-1a over the raw forces and energy slots and the phi grid of one evaluation. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; ++i) h = (h ^ c[i]) * 1099511628211ull;
    return h;
}

static uint64_t evaluation_digest(fs_backend *b)
{
    gpu_backend *g = (gpu_backend *)b;
    const size_t nraw = 3 * (size_t)g->padded + GPU_ENERGY_SLOTS;
    int64_t *raw = malloc(nraw * sizeof *raw);
    assert_non_null(raw);
    result r;
    device_pme(b, &r, raw);
    result_free(&r);
    uint64_t h = fnv(14695981039346656037ull, raw, nraw * sizeof *raw);
    free(raw);
    int n[3];
    gpu_buf *grid = gpu_pme_grid(g->pme, n);
    assert_non_null(grid);
    const size_t gbytes = 2 * (size_t)n[0] * n[1] * n[2] * (g->use_double ? sizeof(double) : sizeof(float));
    void *buf = malloc(gbytes);
    assert_non_null(buf);
    assert_int_equal(g->api->read(g->dev, grid, 0, gbytes, buf), FS_OK);
    h = fnv(h, buf, gbytes);
    free(buf);
    return h;
}

static uint64_t water_digest(void)
{
    sys x;
    load_water(&x);
    fs_backend *b = NULL;
    if (open_device(&x, 0, &b) != FS_OK) fail_msg("%s", fs_error_message());
    uint64_t h = evaluation_digest(b);
    fs_opencl_backend.destroy(&b);
    free_sys(&x);
    return h;
}

/* The digest printed by a child run of this binary with `threads` PoCL threads. */
static uint64_t child_digest(int threads)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(len > 0);
    exe[len] = '\0';
    char cmd[4200];
    snprintf(cmd, sizeof cmd,
             "env POCL_MAX_PTHREAD_COUNT=%d POCL_CPU_MAX_CU_COUNT=%d FS_TEST_GPU_PME_DIGEST=1 '%s' </dev/null", threads,
             threads, exe);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    uint64_t h = 0;
    int found = 0;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, "pme digest %" SCNx64, &h) == 1) found = 1;
    const int rc = pclose(p);
    if (rc != 0 || !found)
        fail_msg("child run with %d threads: exit status %d, digest %s", threads, rc, found ? "found" : "missing");
    return h;
}

static void test_determinism(void **state)
{
    (void)state;
    sys x;
    load_water(&x);
    fs_backend *b = NULL;
    if (open_device(&x, 0, &b) != FS_OK) fail_msg("%s", fs_error_message());
    const uint64_t h1 = evaluation_digest(b), h2 = evaluation_digest(b);
    fs_opencl_backend.destroy(&b);
    free_sys(&x);
    const uint64_t c1 = child_digest(1), c2 = child_digest(2);
    print_message("digests: this process %016" PRIx64 " %016" PRIx64 ", 1 thread %016" PRIx64 ", 2 threads %016" PRIx64
                  "\n",
                  h1, h2, c1, c2);
    assert_true(h1 == h2);
    assert_true(c1 == h1);
    assert_true(c2 == h1);
}

/* Spreading by atomics and by rows give the same bits (forces, energy slots, phi), on water-23k and on the crystal
 * at order 6. */
static void test_spreading_methods(void **state)
{
    (void)state;
    for (int k = 0; k < 2; ++k) {
        sys x;
        if (k == 0)
            load_water(&x);
        else
            build_nacl(&x, 6);
        fs_backend *b = NULL;
        if (open_device(&x, 0, &b) != FS_OK) fail_msg("%s", fs_error_message());
        gpu_pme *pme = ((gpu_backend *)b)->pme;
        assert_int_equal(gpu_pme_set_spreading(pme, 0), FS_OK);
        const uint64_t atomics = evaluation_digest(b);
        assert_int_equal(gpu_pme_set_spreading(pme, 1), FS_OK);
        const uint64_t rows = evaluation_digest(b);
        print_message("%s: digest by atomics %016" PRIx64 ", by rows %016" PRIx64 "\n", k ? "NaCl" : "water-23k",
                      atomics, rows);
        assert_true(atomics == rows);
        fs_opencl_backend.destroy(&b);
        free_sys(&x);
    }
}

/* No charge: nothing is added. Charges with coulombtype = Ewald: refused. */
static void test_uncharged_and_ewald(void **state)
{
    (void)state;
    sys x;
    build_nacl(&x, 4);
    x.p.coulombtype = FS_COUL_EWALD;
    fs_backend *b = NULL;
    assert_int_equal(open_device(&x, 0, &b), FS_ERR_UNSUPPORTED);
    print_message("Ewald: %s\n", fs_error_message());
    assert_null(b);
    for (int i = 0; i < x.top->natoms; ++i) x.top->atoms[i].charge = 0.0;
    if (open_device(&x, 0, &b) != FS_OK) fail_msg("%s", fs_error_message());
    result dev;
    device_pme(b, &dev, NULL);
    assert_true(dev.e == 0.0);
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < x.top->natoms; ++i) assert_true(dev.f[d][i] == 0.0);
    int n[3];
    assert_null(gpu_pme_grid(((gpu_backend *)b)->pme, n)); /* no grid was ever made */
    result_free(&dev);
    fs_opencl_backend.destroy(&b);
    free_sys(&x);
}

static double seconds(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Wall times on water-23k, the shortest of 10 (the machine may be shared): per stage with a wait after each, and
 * the whole evaluation as compute() issues it with one wait at the end, with the process CPU time it took (the
 * device threads are this process's), and the same for both ways of spreading. */
static void test_timings(void **state)
{
    (void)state;
    const unsigned all = FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL;
    sys x;
    load_water(&x);
    fs_backend *b = NULL;
    if (open_device(&x, 0, &b) != FS_OK) fail_msg("%s", fs_error_message());
    gpu_backend *g = (gpu_backend *)b;
    result r;
    device_pme(b, &r, NULL);
    result_free(&r);
    int n[3];
    gpu_pme_grid(g->pme, n);
    print_message("water-23k PME on %s, grid %dx%dx%d, order %d:\n", g->api->info(g->dev)->name, n[0], n[1], n[2],
                  x.p.pme_order);
    for (int rows = 1; rows >= 0; --rows) {
        assert_int_equal(gpu_pme_set_spreading(g->pme, rows), FS_OK);
        double t[GPU_PME_STAGES], total = 0;
        if (gpu_pme_profile(g->pme, all, 10, t) != FS_OK) fail_msg("%s", fs_error_message());
        print_message(" spreading by %s:\n", rows ? "rows" : "atomics");
        for (int s = 0; s < GPU_PME_STAGES; ++s) {
            print_message("  %-13s %8.3f ms\n", gpu_pme_stage_name(s), 1e3 * t[s]);
            total += t[s];
        }
        double wall = INFINITY, cpu = INFINITY;
        for (int k = 0; k < 10; ++k) {
            const double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
            assert_int_equal(gpu_pme_compute(g->pme, all), FS_OK);
            assert_int_equal(g->api->finish(g->dev), FS_OK);
            wall = fmin(wall, seconds(CLOCK_MONOTONIC) - w0);
            cpu = fmin(cpu, seconds(CLOCK_PROCESS_CPUTIME_ID) - c0);
        }
        print_message("  %-13s %8.3f ms stage by stage; whole %.3f ms (one wait), %.3f ms CPU time\n", "total",
                      1e3 * total, 1e3 * wall, 1e3 * cpu);
    }
    fs_opencl_backend.destroy(&b);
    free_sys(&x);
}

int main(void)
{
    if (getenv("FS_TEST_GPU_PME_DIGEST")) {
        /* child mode for test_determinism: print the digest of one water-23k evaluation */
        printf("pme digest %016" PRIx64 "\n", water_digest());
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_water_mixed),       cmocka_unit_test(test_water_double),
        cmocka_unit_test(test_nacl_orders),       cmocka_unit_test(test_nacl_double),
        cmocka_unit_test(test_grid_resize),       cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_spreading_methods), cmocka_unit_test(test_uncharged_and_ewald),
        cmocka_unit_test(test_timings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

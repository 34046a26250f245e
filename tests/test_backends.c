/*
 * test_backends.c — every device backend of this build against the CPU reference, on whole systems.
 *
 * The module suites (test_gpu_*.c) check each device module on its own; this one checks the assembled backends
 * through the public interface, the way the scheduler drives them, for each device backend that can run here, in
 * mixed and in double precision:
 *   - energies per term within 1e-5 relative (mixed) or 1e-9 (double) of the CPU reference (a term that is zero in
 *     the reference must be zero within the same tolerance times 1 kJ/mol), the virial likewise, and the forces
 *     within 1e-4 relative RMS: on water-23k (SETTLE water, PME) and on EC/DMC (OPLS-AA: every bonded form, 1-4
 *     pairs, exclusions);
 *   - 20 steps of NVE (velocity Verlet, h-bond constraints) from the same start stay within 1e-5 nm of the CPU
 *     reference's positions (mixed precision; 1e-9 nm in double);
 *   - bits: two runs give identical positions and forces, and so do runs with POCL_MAX_PTHREAD_COUNT=1 and =2 (this
 *     program re-runs itself as a child with `--hash` in each environment and compares the printed hashes).
 * Negative controls, which must fail the same comparisons: a reference computed with epsilon-r changed by 20 times
 * the tolerance (the Coulomb terms move by that much), and an NVE reference run with dt 1 % longer.
 * The OpenCL backend must be able to run (CI has PoCL): when it cannot, the suite fails with the reason. CUDA runs
 * where the driver and a device are present and is reported as not present otherwise.
 */
#include "support/fs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/integrate.h"
#include "forcefields/gromacs_input.h"
#include "kernels/backend.h"

typedef struct {
    fs_topology *top;
    fs_state *s;
    fs_mdp m;
} sys;

static void load(sys *x, const char *dir, const char *mdp)
{
    char top[512], gro[512], mdpp[512];
    snprintf(top, sizeof top, "%s/topol.top", dir);
    snprintf(gro, sizeof gro, "%s/conf.gro", dir);
    snprintf(mdpp, sizeof mdpp, "%s/%s", dir, mdp);
    fs_mdp_init(&x->m);
    if (fs_mdp_read(fs_test_path(mdpp), &x->m, NULL, 0) != FS_OK) fail_msg("%s", fs_error_message());
    x->m.force.dispcorr = FS_DISPCORR_ENERPRES;
    if (fs_gromacs_load(fs_test_path(top), fs_test_path(gro), &x->m, NULL, 0, &x->top, &x->s) != FS_OK)
        fail_msg("%s", fs_error_message());
}

static void unload(sys *x)
{
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

static void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s", fs_error_message());
}

/* The device backends to test: OpenCL must run; CUDA when it can. */
static int device_backends(const fs_backend_ops **out)
{
    int n = 0;
    if (fs_opencl_backend.probe() != FS_OK) fail_msg("the OpenCL backend cannot run here: %s", fs_error_message());
    out[n++] = &fs_opencl_backend;
#ifdef FS_HAVE_CUDA
    if (fs_cuda_backend.probe() == FS_OK)
        out[n++] = &fs_cuda_backend;
    else
        print_message("cuda: not tested here (%s)\n", fs_error_message());
#endif
    return n;
}

static void set_precision(int use_double)
{
    setenv("FERROSOLV_PRECISION", use_double ? "double" : "mixed", 1);
}

/* Energies, virial and forces of the start state with one backend. */
static void evaluate(const fs_backend_ops *ops, sys *x, const fs_forceparams *p, fs_energies *e, fs_state *f)
{
    fs_backend *b = NULL;
    must(ops->create(x->top, p, &b));
    must(ops->upload(b, x->s));
    must(ops->compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, e));
    must(ops->download(b, f, FS_SYNC_FORCES));
    ops->destroy(&b);
}

typedef struct {
    double worst_term;  /* largest |dE| / (tol-scale) over the terms, as a multiple of the tolerance */
    double worst_vir;   /* same for the virial */
    double force_rms;   /* relative RMS force error */
    int worst_term_idx;
} comparison;

static comparison compare(const fs_energies *dev, const fs_state *fd, const fs_energies *ref, const fs_state *fr,
                          double tol)
{
    comparison c = {0, 0, 0, -1};
    for (int t = 0; t < FS_TERM_COUNT; ++t) {
        double scale = fabs(ref->term[t]) > 1.0 ? fabs(ref->term[t]) : 1.0;
        double r = fabs(dev->term[t] - ref->term[t]) / (tol * scale);
        if (r > c.worst_term) {
            c.worst_term = r;
            c.worst_term_idx = t;
        }
    }
    double vscale = 0.0;
    for (int a = 0; a < 3; ++a) vscale = fmax(vscale, fabs(ref->virial[a][a]));
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b)
            c.worst_vir = fmax(c.worst_vir, fabs(dev->virial[a][b] - ref->virial[a][b]) / (tol * fmax(vscale, 1.0)));
    double num = 0.0, den = 0.0;
    for (int i = 0; i < fr->natoms; ++i)
        for (int d = 0; d < 3; ++d) {
            double df = fd->f[d][i] - fr->f[d][i];
            num += df * df;
            den += fr->f[d][i] * fr->f[d][i];
        }
    c.force_rms = sqrt(num / (den > 0 ? den : 1.0));
    return c;
}

static void check_system(const char *dir, const char *mdp)
{
    sys x;
    load(&x, dir, mdp);
    fs_state *fr = NULL, *fd = NULL;
    must(fs_state_create(x.top->natoms, x.top->natoms, &fr));
    must(fs_state_create(x.top->natoms, x.top->natoms, &fd));
    fs_energies ref, ref_bad, dev;
    evaluate(&fs_cpu_backend, &x, &x.m.force, &ref, fr);
    const fs_backend_ops *ops[4];
    int nops = device_backends(ops);
    for (int k = 0; k < nops; ++k)
        for (int dbl = 0; dbl < 2; ++dbl) {
            double tol = dbl ? 1e-9 : 1e-5;
            set_precision(dbl);
            evaluate(ops[k], &x, &x.m.force, &dev, fd);
            comparison c = compare(&dev, fd, &ref, fr, tol);
            print_message("%s %s %s: worst term %s at %.3g x tol, virial %.3g x tol, force rel RMS %.3g\n", dir,
                          ops[k]->name, dbl ? "double" : "mixed",
                          c.worst_term_idx >= 0 ? fs_term_name(c.worst_term_idx) : "-", c.worst_term, c.worst_vir,
                          c.force_rms);
            for (int t = 0; t < FS_TERM_COUNT; ++t)
                if (fabs(dev.term[t] - ref.term[t]) > tol * fmax(fabs(ref.term[t]), 1.0))
                    print_message("  %-16s device %.12g  cpu %.12g\n", fs_term_name(t), dev.term[t], ref.term[t]);
            assert_true(c.worst_term <= 1.0);
            assert_true(c.worst_vir <= 1.0);
            assert_true(c.force_rms <= 1e-4);
            /* negative control: a reference with epsilon-r off by 20 tolerances must be told apart */
            fs_forceparams bad = x.m.force;
            bad.epsilon_r *= 1.0 + 20.0 * tol;
            fs_state *fb = NULL;
            must(fs_state_create(x.top->natoms, x.top->natoms, &fb));
            evaluate(&fs_cpu_backend, &x, &bad, &ref_bad, fb);
            comparison cb = compare(&dev, fd, &ref_bad, fb, tol);
            print_message("  negative control (epsilon-r x (1 + 20 tol)): worst term %.3g x tol\n", cb.worst_term);
            assert_true(cb.worst_term > 1.0);
            fs_state_destroy(&fb);
        }
    unsetenv("FERROSOLV_PRECISION");
    fs_state_destroy(&fr);
    fs_state_destroy(&fd);
    unload(&x);
}

static void test_energies_water(void **state)
{
    (void)state;
    check_system("benchmarks/inputs/water-23k", "gromacs.mdp");
}

static void test_energies_ec_dmc(void **state)
{
    (void)state;
    check_system("benchmarks/inputs/ec-dmc", "grompp.mdp");
}

/* NVE from the start state with Maxwell velocities at 300 K; positions after `steps` steps into out. */
static void nve_run(const fs_backend_ops *ops, sys *x, double dt, long steps, fs_state *out)
{
    fs_state *s = NULL;
    must(fs_state_create(x->top->natoms, x->top->natoms, &s));
    int n = x->top->natoms;
    double *invmass = calloc((size_t)n, sizeof(double));
    assert_non_null(invmass);
    for (int i = 0; i < n; ++i) invmass[i] = x->top->atoms[i].mass > 0 ? 1.0 / x->top->atoms[i].mass : 0.0;
    for (int d = 0; d < 3; ++d) memcpy(s->r[d], x->s->r[d], (size_t)n * sizeof(double));
    s->box = x->s->box;
    fs_maxwell_velocities(n, s->v, invmass, 300.0, 7);
    free(invmass);
    fs_dynamics dyn = fs_dynamics_default();
    dyn.integrator = FS_INTEGRATOR_MD;
    dyn.dt = dt;
    dyn.shake_tol = 1e-10;
    fs_backend *b = NULL;
    must(ops->create(x->top, &x->m.force, &b));
    must(ops->upload(b, s));
    must(ops->set_dynamics(b, &dyn));
    must(ops->step(b, steps));
    must(ops->download(b, out, FS_SYNC_POSITIONS | FS_SYNC_VELOCITIES | FS_SYNC_FORCES));
    ops->destroy(&b);
    fs_state_destroy(&s);
}

static double max_position_diff(const fs_state *a, const fs_state *b)
{
    double worst = 0.0;
    for (int i = 0; i < a->natoms; ++i)
        for (int d = 0; d < 3; ++d) worst = fmax(worst, fabs(a->r[d][i] - b->r[d][i]));
    return worst;
}

static void test_nve_20_steps(void **state)
{
    (void)state;
    sys x;
    load(&x, "benchmarks/inputs/ec-dmc", "grompp.mdp");
    int n = x.top->natoms;
    fs_state *ref = NULL, *ref_bad = NULL, *dev = NULL;
    must(fs_state_create(n, n, &ref));
    must(fs_state_create(n, n, &ref_bad));
    must(fs_state_create(n, n, &dev));
    nve_run(&fs_cpu_backend, &x, 0.002, 20, ref);
    nve_run(&fs_cpu_backend, &x, 0.00202, 20, ref_bad);
    const fs_backend_ops *ops[4];
    int nops = device_backends(ops);
    for (int k = 0; k < nops; ++k)
        for (int dbl = 0; dbl < 2; ++dbl) {
            set_precision(dbl);
            nve_run(ops[k], &x, 0.002, 20, dev);
            double tol = dbl ? 1e-9 : 1e-5;
            double dmax = max_position_diff(dev, ref), dbad = max_position_diff(dev, ref_bad);
            print_message("%s %s: 20 NVE steps of EC/DMC: max |dr| %.3g nm (tolerance %g); vs a dt + 1 %% run %.3g nm\n",
                          ops[k]->name, dbl ? "double" : "mixed", dmax, tol, dbad);
            assert_true(dmax <= tol);
            assert_true(dbad > tol);
        }
    unsetenv("FERROSOLV_PRECISION");
    fs_state_destroy(&ref);
    fs_state_destroy(&ref_bad);
    fs_state_destroy(&dev);
    unload(&x);
}

/* FNV-1a over the bytes of positions, velocities and forces. */
static uint64_t state_hash(const fs_state *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    double *const *arrays[3] = {s->r, s->v, s->f};
    for (int a = 0; a < 3; ++a)
        for (int d = 0; d < 3; ++d) {
            const unsigned char *p = (const unsigned char *)arrays[a][d];
            for (size_t k = 0; k < (size_t)s->natoms * sizeof(double); ++k) h = (h ^ p[k]) * 0x100000001b3ULL;
        }
    return h;
}

static uint64_t device_hash(void)
{
    sys x;
    load(&x, "benchmarks/inputs/ec-dmc", "grompp.mdp");
    fs_state *out = NULL;
    must(fs_state_create(x.top->natoms, x.top->natoms, &out));
    nve_run(&fs_opencl_backend, &x, 0.002, 20, out);
    uint64_t h = state_hash(out);
    fs_state_destroy(&out);
    unload(&x);
    return h;
}

static const char *self_path;

static uint64_t child_hash(const char *threads)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "POCL_MAX_PTHREAD_COUNT=%s '%s' --hash", threads, self_path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    unsigned long long h = 0;
    int got = fscanf(p, "hash %llx", &h);
    int rc = pclose(p);
    if (got != 1 || rc != 0) fail_msg("child run with POCL_MAX_PTHREAD_COUNT=%s failed (status %d)", threads, rc);
    return (uint64_t)h;
}

static void test_bits_reproducible(void **state)
{
    (void)state;
    const fs_backend_ops *ops[4];
    device_backends(ops);
    set_precision(0);
    uint64_t a = device_hash(), b = device_hash();
    print_message("two runs in one process: %016llx %016llx\n", (unsigned long long)a, (unsigned long long)b);
    assert_true(a == b);
    uint64_t t1 = child_hash("1"), t2 = child_hash("2");
    print_message("POCL_MAX_PTHREAD_COUNT=1: %016llx, =2: %016llx\n", (unsigned long long)t1,
                  (unsigned long long)t2);
    assert_true(t1 == t2);
    assert_true(t1 == a);
    unsetenv("FERROSOLV_PRECISION");
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc > 1 && !strcmp(argv[1], "--hash")) {
        setenv("FERROSOLV_PRECISION", "mixed", 1);
        if (fs_opencl_backend.probe() != FS_OK) return 1;
        printf("hash %016llx\n", (unsigned long long)device_hash());
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energies_water),
        cmocka_unit_test(test_energies_ec_dmc),
        cmocka_unit_test(test_nve_20_steps),
        cmocka_unit_test(test_bits_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gpu_bonded.c — the device bonded module (kernels/gpu/gpu_bonded.c) against the CPU reference, term by term.
 *
 * Systems:
 *   - EC/DMC (benchmarks/inputs/ec-dmc, 100 + 100 OPLS-AA molecules, 2200 atoms, constraints = none so every bond
 *     counts): bonds, angles, proper and RB dihedrals, harmonic impropers, 1-4 pairs with fudgeQQ 0.5;
 *   - the made-up bonded systems a and b of tests/data/bonded (the GROMACS agreement cases bonded-a, bonded-b):
 *     Urey-Bradley, funct 2, 4 and 9 dihedrals, pairs with explicit and [pairtypes] parameters.
 * Each is run on the OpenCL device in mixed precision (float forms, fixed-point sums) and in double precision
 * (FERROSOLV_PRECISION=double). The module is called directly: create the backend, upload, zero force and energy
 * buffers, gpu_bonded_compute, read the energy slots and the fixed-point forces. The reference is fs_cpu_bonded +
 * fs_cpu_pairs14 on the same topology and positions (double precision). Required:
 *   - every term (Bond, Angle, U-B, Proper Dih., Ryckaert-Bell., Improper Dih., Per. Imp. Dih., LJ-14, Coulomb-14)
 *     within 1e-5 relative (mixed) or 1e-9 (double), with an absolute floor of the same relative size times the
 *     largest term (terms absent from a system are exactly 0 on both sides);
 *   - forces: relative RMS deviation sqrt(sum |F_dev - F_cpu|^2 / sum |F_cpu|^2) <= 1e-4 (mixed), 1e-9 (double);
 *   - virial: every component within 1e-4 (mixed) or 1e-9 (double) of the largest |component| (the bonded virial
 *     is a sum of large terms of both signs, like the forces on an atom, so it is held to the forces' 1e-4);
 *   - FORCES alone leaves energy and virial slots untouched (zero); the same forces come out bit for bit when
 *     energies are asked for too.
 * Negative controls (each must make the comparison fail): the reference computed with every angle's force
 * constant 1.001 times larger (Angle energy and the force RMS), with fudgeQQ 0.55 instead of 0.5 (Coulomb-14), and
 * a virial from a reference that omits the factor 1/2.
 * A missing OpenCL device fails the suite (it never skips).
 */
#include "support/fs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forcefields/gromacs_input.h"
#include "kernels/cpu/bonded.h"
#include "kernels/cpu/nonbonded.h"
#include "kernels/gpu/gpu_backend_impl.h"

static const fs_term k_terms[] = {FS_TERM_BOND,        FS_TERM_ANGLE, FS_TERM_UB,
                                  FS_TERM_PROPER_DIH,  FS_TERM_RB,    FS_TERM_IMPROPER_DIH,
                                  FS_TERM_PER_IMP_DIH, FS_TERM_LJ14,  FS_TERM_COUL14};
#define NTERMS ((int)(sizeof k_terms / sizeof k_terms[0]))

typedef struct {
    fs_topology *top;
    fs_state *s;
    fs_mdp m;
} sys;

static void load(sys *x, const char *top, const char *gro, const char *mdp)
{
    fs_mdp_init(&x->m);
    if (mdp && fs_mdp_read(fs_test_path(mdp), &x->m, NULL, 0) != FS_OK) fail_msg("%s", fs_error_message());
    x->m.constraints = FS_CONSTRAIN_NONE;
    if (fs_gromacs_load(fs_test_path(top), fs_test_path(gro), &x->m, NULL, 0, &x->top, &x->s) != FS_OK)
        fail_msg("%s", fs_error_message());
}

static void unload(sys *x)
{
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

/* Bonded terms, energies, forces (double[3][n]) and virial of one evaluation. */
typedef struct {
    double term[FS_TERM_COUNT];
    double virial[3][3];
    double *f[3];
} result;

static void result_alloc(result *r, int n)
{
    memset(r, 0, sizeof *r);
    for (int d = 0; d < 3; ++d) assert_non_null(r->f[d] = calloc((size_t)n, sizeof(double)));
}

static void result_free(result *r)
{
    for (int d = 0; d < 3; ++d) free(r->f[d]);
}

static void cpu_reference(const fs_topology *top, const fs_forceparams *p, const fs_state *s, result *out)
{
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    for (int d = 0; d < 3; ++d) acc.f[d] = out->f[d];
    if (fs_cpu_pairs14(top, p, &s->box, s->r, &acc) != FS_OK) fail_msg("%s", fs_error_message());
    if (fs_cpu_bonded(top, &s->box, s->r, &acc) != FS_OK) fail_msg("%s", fs_error_message());
    memcpy(out->term, acc.term, sizeof out->term);
    memcpy(out->virial, acc.virial, sizeof out->virial);
}

/* Creates the OpenCL backend in the given precision (FERROSOLV_PRECISION) and uploads the state. */
static fs_backend *device_backend(const sys *x, int use_double)
{
    const char *prev = getenv("FERROSOLV_PRECISION");
    char saved[32] = "";
    if (prev) snprintf(saved, sizeof saved, "%s", prev);
    setenv("FERROSOLV_PRECISION", use_double ? "double" : "mixed", 1);
    fs_backend *b = NULL;
    fs_status st = fs_opencl_backend.create(x->top, &x->m.force, &b);
    if (prev)
        setenv("FERROSOLV_PRECISION", saved, 1);
    else
        unsetenv("FERROSOLV_PRECISION");
    if (st != FS_OK) fail_msg("no OpenCL device backend: %s", fs_error_message());
    if (fs_opencl_backend.upload(b, x->s) != FS_OK) fail_msg("%s", fs_error_message());
    gpu_backend *g = (gpu_backend *)b;
    assert_int_equal(g->use_double, use_double);
    assert_non_null(g->bonded);
    return b;
}

/* Zeroes force and energy buffers, runs the bonded module with `flags`, reads energies, virial and forces; the raw
 * fixed-point forces go to raw (3 padded blocks) when raw is not NULL. */
static void device_compute(fs_backend *b, unsigned flags, result *out, long long *raw)
{
    gpu_backend *g = (gpu_backend *)b;
    const size_t n = (size_t)g->padded;
    assert_int_equal(g->api->fill_zero(g->dev, g->force, 3 * n * sizeof(long long)), FS_OK);
    assert_int_equal(g->api->fill_zero(g->dev, g->energy, GPU_ENERGY_SLOTS * sizeof(long long)), FS_OK);
    if (gpu_bonded_compute(g->bonded, flags) != FS_OK) fail_msg("%s", fs_error_message());
    double e[GPU_ENERGY_SLOTS];
    if (gpu_read_energy(g, e) != FS_OK) fail_msg("%s", fs_error_message());
    for (int t = 0; t < FS_TERM_COUNT; ++t) out->term[t] = e[GPU_E_TERM + t];
    for (int a = 0; a < 3; ++a)
        for (int c = 0; c < 3; ++c) out->virial[a][c] = e[GPU_E_VIRIAL + 3 * a + c];
    long long *f = raw ? raw : malloc(3 * n * sizeof *f);
    assert_non_null(f);
    assert_int_equal(g->api->read(g->dev, g->force, 0, 3 * n * sizeof *f, f), FS_OK);
    for (int i = 0; i < g->natoms; ++i)
        for (int d = 0; d < 3; ++d) out->f[d][i] = (double)f[(size_t)d * n + (size_t)i] / 4294967296.0;
    if (!raw) free(f);
}

static double force_rel_rms(int n, const result *a, const result *ref)
{
    double num = 0.0, den = 0.0;
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < n; ++i) {
            const double e = a->f[d][i] - ref->f[d][i];
            num += e * e;
            den += ref->f[d][i] * ref->f[d][i];
        }
    return sqrt(num / den);
}

static double max_term(const result *r)
{
    double m = 0.0;
    for (int q = 0; q < NTERMS; ++q) m = fmax(m, fabs(r->term[k_terms[q]]));
    return m;
}

/* 1 if every term agrees within rel (floor rel * largest term); prints the table when `print`. */
static int terms_agree(const result *dev, const result *ref, double rel, int print, double *worst)
{
    const double floor_ = rel * max_term(ref);
    int ok = 1;
    *worst = 0.0;
    for (int q = 0; q < NTERMS; ++q) {
        const fs_term t = k_terms[q];
        const double a = dev->term[t], b = ref->term[t];
        const double dev_rel = b != 0.0 ? fabs(a - b) / fabs(b) : fabs(a);
        if (b != 0.0) *worst = fmax(*worst, dev_rel);
        if (print) print_message("  %-16s %20.10f %20.10f  rel %.2e\n", fs_term_name(t), a, b, dev_rel);
        ok &= fs_close(a, b, rel, floor_);
    }
    return ok;
}

static double virial_dev(double a[3][3], double b[3][3])
{
    double dmax = 0.0, bmax = 0.0;
    for (int x = 0; x < 3; ++x)
        for (int y = 0; y < 3; ++y) {
            dmax = fmax(dmax, fabs(a[x][y] - b[x][y]));
            bmax = fmax(bmax, fabs(b[x][y]));
        }
    return dmax / bmax;
}

static void check_system(const char *name, const char *top, const char *gro, const char *mdp, int with_controls)
{
    sys x;
    load(&x, top, gro, mdp);
    const int n = x.top->natoms;
    result ref;
    result_alloc(&ref, n);
    cpu_reference(x.top, &x.m.force, x.s, &ref);

    for (int use_double = 0; use_double < 2; ++use_double) {
        const double erel = use_double ? 1e-9 : 1e-5, frel = use_double ? 1e-9 : 1e-4;
        fs_backend *b = device_backend(&x, use_double);
        gpu_backend *g = (gpu_backend *)b;
        result dev;
        result_alloc(&dev, n);
        long long *raw1 = malloc(3 * (size_t)g->padded * sizeof *raw1),
                  *raw2 = malloc(3 * (size_t)g->padded * sizeof *raw2);
        assert_non_null(raw1);
        assert_non_null(raw2);

        device_compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &dev, raw1);
        print_message("%s (%s): term, device, CPU\n", name, use_double ? "double" : "mixed");
        double worst;
        const int ok = terms_agree(&dev, &ref, erel, 1, &worst);
        const double frms = force_rel_rms(n, &dev, &ref), vdev = virial_dev(dev.virial, ref.virial);
        print_message("%s (%s): worst term %.2e relative, force RMS %.2e relative, virial %.2e of its largest\n", name,
                      use_double ? "double" : "mixed", worst, frms, vdev);
        assert_true(ok);
        assert_true(frms <= frel);
        assert_true(vdev <= frel);

        /* forces only: the energy and virial slots stay zero and the forces are bit for bit the same */
        result fo;
        result_alloc(&fo, n);
        device_compute(b, FS_COMPUTE_FORCES, &fo, raw2);
        for (int t = 0; t < FS_TERM_COUNT; ++t) assert_true(fo.term[t] == 0.0);
        for (int a = 0; a < 3; ++a)
            for (int c = 0; c < 3; ++c) assert_true(fo.virial[a][c] == 0.0);
        assert_memory_equal(raw1, raw2, 3 * (size_t)g->padded * sizeof *raw1);
        /* energies alone: no virial */
        device_compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY, &fo, NULL);
        for (int a = 0; a < 3; ++a)
            for (int c = 0; c < 3; ++c) assert_true(fo.virial[a][c] == 0.0);
        assert_true(terms_agree(&fo, &ref, erel, 0, &worst));
        result_free(&fo);

        if (with_controls) {
            /* negative controls: the comparisons catch a 0.1% angle constant, fudgeQQ 0.55, a virial without 1/2 */
            result bad;
            result_alloc(&bad, n);
            for (int k = 0; k < x.top->angles.n; ++k) x.top->angles.data[k].k *= 1.001;
            cpu_reference(x.top, &x.m.force, x.s, &bad);
            for (int k = 0; k < x.top->angles.n; ++k) x.top->angles.data[k].k /= 1.001;
            assert_false(terms_agree(&dev, &bad, erel, 0, &worst));
            const double bad_rms = force_rel_rms(n, &dev, &bad);
            print_message("%s (%s) controls: angle k x 1.001 gives force RMS %.2e\n", name,
                          use_double ? "double" : "mixed", bad_rms);
            assert_false(bad_rms <= frel);
            result_free(&bad);

            result_alloc(&bad, n);
            const double fq = x.top->fudge_qq;
            x.top->fudge_qq = 0.55;
            cpu_reference(x.top, &x.m.force, x.s, &bad);
            x.top->fudge_qq = fq;
            assert_false(fs_close(dev.term[FS_TERM_COUL14], bad.term[FS_TERM_COUL14], erel, 0.0));
            assert_false(terms_agree(&dev, &bad, erel, 0, &worst));
            double twice[3][3];
            for (int a = 0; a < 3; ++a)
                for (int c = 0; c < 3; ++c) twice[a][c] = 2.0 * ref.virial[a][c];
            assert_false(virial_dev(dev.virial, twice) <= frel);
            result_free(&bad);
        }
        free(raw1);
        free(raw2);
        result_free(&dev);
        fs_opencl_backend.destroy(&b);
        assert_null(b);
    }
    result_free(&ref);
    unload(&x);
}

static void test_ecdmc(void **state)
{
    (void)state;
    check_system("ec-dmc", "benchmarks/inputs/ec-dmc/topol.top", "benchmarks/inputs/ec-dmc/conf.gro",
                 "benchmarks/inputs/ec-dmc/grompp.mdp", 1);
}

static void test_bonded_a(void **state)
{
    (void)state;
    check_system("bonded-a", "tests/data/bonded/a/topol.top", "tests/data/bonded/a/conf.gro",
                 "tests/data/bonded/a/run.mdp", 1);
}

static void test_bonded_b(void **state)
{
    (void)state;
    check_system("bonded-b", "tests/data/bonded/b/topol.top", "tests/data/bonded/b/conf.gro",
                 "tests/data/bonded/b/run.mdp", 0);
}

/* A molecule straddling the periodic boundary: the same forces and energies as the molecule moved whole into the
 * box (minimum image on every difference vector), and the virial of the shifted copy equal to the whole one. */
static void test_periodic_shift(void **state)
{
    (void)state;
    sys x;
    load(&x, "tests/data/bonded/a/topol.top", "tests/data/bonded/a/conf.gro", "tests/data/bonded/a/run.mdp");
    const int n = x.top->natoms;
    result whole, split;
    result_alloc(&whole, n);
    result_alloc(&split, n);
    fs_backend *b = device_backend(&x, 1);
    device_compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &whole, NULL);
    /* shift every other atom by a whole box vector along x and -y: molecules are torn apart in the stored
     * coordinates, but not in the minimum image */
    for (int i = 0; i < n; i += 2) {
        x.s->r[0][i] += x.s->box.len[0];
        x.s->r[1][i] -= x.s->box.len[1];
    }
    if (fs_opencl_backend.upload(b, x.s) != FS_OK) fail_msg("%s", fs_error_message());
    device_compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &split, NULL);
    double worst;
    assert_true(terms_agree(&split, &whole, 1e-12, 0, &worst));
    assert_true(force_rel_rms(n, &split, &whole) <= 1e-12);
    assert_true(virial_dev(split.virial, whole.virial) <= 1e-12);
    fs_opencl_backend.destroy(&b);
    result_free(&whole);
    result_free(&split);
    unload(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdmc),
        cmocka_unit_test(test_bonded_a),
        cmocka_unit_test(test_bonded_b),
        cmocka_unit_test(test_periodic_shift),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

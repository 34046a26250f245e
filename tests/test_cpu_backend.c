/*
 * test_cpu_backend.c — the assembled CPU reference backend on whole systems: every term together.
 *
 * The term modules have their own derivative tests; this one checks the sum as the backend computes it, through
 * the public interface (create/upload/compute/download), so that the assembly itself — which terms are called, the
 * accumulator, the pair-list reuse between evaluations, PME re-planning — cannot be wrong unnoticed:
 *   - the force on a sample of atoms equals the central finite difference -dE/dx of the total potential;
 *   - each diagonal virial component equals 1/2 dE/d(eps_aa) under an affine stretch of box and coordinates along a
 *     (an orthorhombic box cannot be sheared, so off-diagonal components are checked in the term modules on
 *     clusters instead);
 *   - the total force is zero (Newton's third law) with the plain Ewald sum, which conserves momentum exactly (SPME
 *     leaves a net force of the size of its interpolation error).
 * Negative controls: a force sign flip and a missing factor 1/2 in the virial must fail the same comparisons.
 */
#include "support/fs_test.h"

#include <stdlib.h>
#include <string.h>

#include "forcefields/gromacs_input.h"
#include "kernels/backend.h"

typedef struct {
    fs_topology *top;
    fs_state *s;
    fs_backend *b;
    fs_mdp m;
} sys;

static void load(sys *x, const char *top, const char *gro, const char *mdp)
{
    fs_mdp_init(&x->m);
    if (mdp && fs_mdp_read(fs_test_path(mdp), &x->m, NULL, 0) != FS_OK) fail_msg("%s", fs_error_message());
    x->m.force.dispcorr = FS_DISPCORR_ENERPRES; /* so the virial is the full strain derivative */
    if (fs_gromacs_load(fs_test_path(top), fs_test_path(gro), &x->m, NULL, 0, &x->top, &x->s) != FS_OK)
        fail_msg("%s", fs_error_message());
    if (fs_cpu_backend.create(x->top, &x->m.force, &x->b) != FS_OK) fail_msg("%s", fs_error_message());
}

static void unload(sys *x)
{
    fs_cpu_backend.destroy(&x->b);
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

static double energy(sys *x, fs_energies *e)
{
    fs_energies tmp;
    if (!e) e = &tmp;
    if (fs_cpu_backend.upload(x->b, x->s) != FS_OK) fail_msg("%s", fs_error_message());
    if (fs_cpu_backend.compute(x->b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, e) != FS_OK)
        fail_msg("%s", fs_error_message());
    return fs_energies_potential(e);
}

/* With the plain Ewald sum every term conserves momentum exactly, so the forces must add up to zero to rounding
 * (SPME does not: its interpolation leaves a net force of the order of its force error, so it is not used here). */
static void check_net_force(sys *x, double fscale)
{
    fs_forceparams p = x->m.force;
    p.coulombtype = FS_COUL_EWALD;
    fs_backend *b = NULL;
    fs_energies e;
    if (fs_cpu_backend.create(x->top, &p, &b) != FS_OK) fail_msg("%s", fs_error_message());
    assert_int_equal(fs_cpu_backend.upload(b, x->s), FS_OK);
    assert_int_equal(fs_cpu_backend.compute(b, FS_COMPUTE_FORCES, &e), FS_OK);
    assert_int_equal(fs_cpu_backend.download(b, x->s, FS_SYNC_FORCES), FS_OK);
    int n = x->s->natoms;
    for (int d = 0; d < 3; ++d) {
        double sum = 0.0;
        for (int i = 0; i < n; ++i) sum += x->s->f[d][i];
        if (!(fabs(sum) < 1e-9 * fscale * n)) fail_msg("net force %g along %d (force scale %g)", sum, d, fscale);
        /* negative control: dropping one atom's force breaks the balance */
        assert_false(fabs(sum - x->s->f[d][n / 2]) < 1e-9 * fscale * n && fabs(x->s->f[d][n / 2]) > 1e-6 * fscale);
    }
    fs_cpu_backend.destroy(&b);
}

static void check_system(const char *top, const char *gro, const char *mdp)
{
    sys x;
    load(&x, top, gro, mdp);
    fs_energies e0;
    energy(&x, &e0);
    if (fs_cpu_backend.download(x.b, x.s, FS_SYNC_FORCES) != FS_OK) fail_msg("%s", fs_error_message());
    int n = x.s->natoms;

    /* forces against finite differences, on 12 atoms spread through the system */
    const double h = 1e-5;
    double fscale = 0.0;
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) fscale += x.s->f[d][i] * x.s->f[d][i];
    fscale = sqrt(fscale / (3.0 * n));
    double *f[3];
    for (int d = 0; d < 3; ++d) {
        f[d] = malloc((size_t)n * sizeof(double));
        memcpy(f[d], x.s->f[d], (size_t)n * sizeof(double));
    }
    int worst_ok = 1;
    for (int k = 0; k < 12; ++k) {
        int i = (int)((long)k * (n - 1) / 11);
        for (int d = 0; d < 3; ++d) {
            double r0 = x.s->r[d][i];
            x.s->r[d][i] = r0 + h;
            double ep = energy(&x, NULL);
            x.s->r[d][i] = r0 - h;
            double em = energy(&x, NULL);
            x.s->r[d][i] = r0;
            double fd = -(ep - em) / (2 * h);
            fs_assert_close(f[d][i], fd, 1e-6, 1e-6 * fscale, "force vs -dE/dx");
            /* negative control: the opposite sign is far off */
            worst_ok &= !fs_close(-f[d][i], fd, 1e-6, 1e-6 * fscale) || fabs(fd) < 1e-3 * fscale;
        }
    }
    assert_true(worst_ok);
    check_net_force(&x, fscale);

    /* diagonal virial against the strain derivative */
    const double eps = 1e-6;
    for (int a = 0; a < 3; ++a) {
        double ev[2];
        for (int sgn = 0; sgn < 2; ++sgn) {
            double s = sgn ? -eps : eps;
            fs_state *copy = NULL;
            assert_int_equal(fs_state_create(n, n, &copy), FS_OK);
            for (int d = 0; d < 3; ++d) memcpy(copy->r[d], x.s->r[d], (size_t)n * sizeof(double));
            copy->box = x.s->box;
            for (int i = 0; i < n; ++i) x.s->r[a][i] *= 1.0 + s;
            x.s->box.len[a] *= 1.0 + s;
            ev[sgn] = energy(&x, NULL);
            for (int d = 0; d < 3; ++d) memcpy(x.s->r[d], copy->r[d], (size_t)n * sizeof(double));
            x.s->box = copy->box;
            fs_state_destroy(&copy);
        }
        double dEde = (ev[0] - ev[1]) / (2 * eps);
        fs_assert_close(e0.virial[a][a], 0.5 * dEde, 1e-6, 1e-6 * fabs(e0.term[FS_TERM_LJ_SR]), "virial vs dE/deps");
        assert_false(fs_close(2.0 * e0.virial[a][a], 0.5 * dEde, 1e-6, 1e-6 * fabs(e0.term[FS_TERM_LJ_SR])));
    }
    for (int d = 0; d < 3; ++d) free(f[d]);
    unload(&x);
}

static void test_water_cube(void **state)
{
    (void)state;
    check_system("tests/data/cli/water.top", "tests/data/cli/water.gro", "benchmarks/inputs/water-23k/gromacs.mdp");
}

static void test_ec_dmc_box(void **state)
{
    (void)state;
    check_system("benchmarks/inputs/ec-dmc/topol.top", "benchmarks/inputs/ec-dmc/conf.gro",
                 "benchmarks/inputs/ec-dmc/grompp.mdp");
}

/* A net charge adds the neutralizing-background energy; its virial must be the strain derivative too. */
static void test_charged_water_cube(void **state)
{
    (void)state;
    check_system("tests/data/charged/topol.top", "tests/data/cli/water.gro", "tests/data/charged/run.mdp");
}

static void test_step_needs_dynamics(void **state)
{
    (void)state;
    sys x;
    load(&x, "tests/data/cli/water.top", "tests/data/cli/water.gro", NULL);
    assert_int_equal(fs_cpu_backend.upload(x.b, x.s), FS_OK);
    assert_int_equal(fs_cpu_backend.step(x.b, 1), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "set_dynamics"));
    unload(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_water_cube),
        cmocka_unit_test(test_ec_dmc_box),
        cmocka_unit_test(test_charged_water_cube),
        cmocka_unit_test(test_step_needs_dynamics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

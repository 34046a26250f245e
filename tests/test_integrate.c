/*
 * test_integrate.c — the integration arithmetic of core/integrate.c against hand-computed values and against the
 * distributions it must sample.
 *
 * 1. Kick and drift: exact values; frozen atoms (1/m = 0) keep v = 0. Control: the kick with m instead of 1/m misses.
 * 2. Kinetic tensor and COM removal: hand-computed numbers; a frozen atom is left out of the COM. Controls: the COM
 *    that includes the frozen atom leaves momentum behind; an unweighted mean leaves momentum behind.
 * 3. Degrees of freedom: water-23k gives 46521 (comm linear) and 46524 (none); a hand-made topology with frozen atoms
 *    in constraints and a settle gives GROMACS's calc_nrdf_tc count (11, 8 with COM removal), worked out in the
 *    test. Control: the naive count (3 per free atom, 1 per constraint, 3 per settle) differs.
 * 4. Langevin O-step: one step against the formula with the Philox normals; frozen atoms untouched. Over many steps
 *    from v = 0 free particles of three masses reach variance kT/m per component (5 standard errors, sqrt(2/N)), and
 *    one step from Maxwell velocities keeps the variance and has lag correlation c = exp(-gamma dt). Control: noise
 *    sqrt(1 - c) instead of sqrt(1 - c^2) fails the variance.
 * 5. Bussi: alpha for ndf = 1, 2 (no gamma draw) against eq. A7 with the Philox normals, including the sign rule;
 *    with c = 0 the resampled ndf K'/Kbar is chi-square(ndf): moments for ndf = 2, 3, 4, 7, 30, 46521 and KS
 *    against the exact CDF for even ndf. Iterating K <- alpha^2 K samples K/kT ~ Gamma(ndf/2): mean within 0.5 %,
 *    variance within 10 %, and 2K/kT of every 20th step passes KS against chi-square(ndf) (ndf = 30). Controls:
 *    chi-square(ndf + 2) fails KS, chi-square(ndf + 1) the moments (ndf < 100); Berendsen's deterministic
 *    rescaling fails the variance.
 * 6. Maxwell velocities: temperature of 100k atoms within 5 standard errors (sqrt(2/(3N))), frozen atoms 0,
 *    bit-reproducible for one seed, different for another. Control: T 2 % off fails.
 */
#include <stdlib.h>
#include <string.h>

#include "core/integrate.h"
#include "core/rng.h"
#include "core/units.h"
#include "support/fs_test.h"

typedef struct {
    int n;
    double *mem;
    double *r[3], *v[3], *f[3];
    double *mass, *invmass;
    unsigned char *frozen;
} sys;

static sys sys_make(int n)
{
    sys s = {.n = n};
    s.mem = calloc((size_t)n * 11, sizeof(double));
    s.frozen = calloc((size_t)n, 1);
    assert_true(s.mem && s.frozen);
    for (int d = 0; d < 3; ++d) {
        s.r[d] = s.mem + (size_t)n * d;
        s.v[d] = s.mem + (size_t)n * (3 + d);
        s.f[d] = s.mem + (size_t)n * (6 + d);
    }
    s.mass = s.mem + (size_t)n * 9;
    s.invmass = s.mem + (size_t)n * 10;
    return s;
}

static void sys_set_mass(sys *s, int i, double m, int frozen)
{
    s->mass[i] = m;
    s->frozen[i] = (unsigned char)frozen;
    s->invmass[i] = frozen ? 0.0 : 1.0 / m;
}

static void sys_free(sys *s)
{
    free(s->mem);
    free(s->frozen);
}

static void test_kick_drift(void **state)
{
    (void)state;
    sys s = sys_make(2);
    sys_set_mass(&s, 0, 4.0, 0);
    sys_set_mass(&s, 1, 12.0, 1);
    const double f0[3] = {2.0, -8.0, 0.5}, v0[3] = {0.1, 0.2, -0.3};
    for (int d = 0; d < 3; ++d) {
        s.f[d][0] = f0[d], s.v[d][0] = v0[d], s.r[d][0] = 1.0 + d;
        s.f[d][1] = 100.0, s.r[d][1] = 5.0;
    }
    fs_kick(2, s.v, s.f, s.invmass, 0.01);
    for (int d = 0; d < 3; ++d) {
        fs_assert_close(s.v[d][0], v0[d] + 0.01 * f0[d] / 4.0, 1e-15, 0, "kick");
        assert_true(s.v[d][1] == 0.0);
        assert_false(fs_close(s.v[d][0], v0[d] + 0.01 * f0[d] * 4.0, 1e-6, 0)); /* control: m instead of 1/m */
    }
    fs_drift(2, s.r, s.v, 0.5);
    for (int d = 0; d < 3; ++d) {
        fs_assert_close(s.r[d][0], 1.0 + d + 0.5 * (v0[d] + 0.01 * f0[d] / 4.0), 1e-15, 0, "drift");
        assert_true(s.r[d][1] == 5.0);
    }
    sys_free(&s);
}

static void test_kinetic_tensor_and_com(void **state)
{
    (void)state;
    sys s = sys_make(4);
    sys_set_mass(&s, 0, 2.0, 0);
    sys_set_mass(&s, 1, 3.0, 0);
    const double va[3] = {1, 2, 3}, vb[3] = {-1, 0, 2};
    for (int d = 0; d < 3; ++d) s.v[d][0] = va[d], s.v[d][1] = vb[d];
    double ek[3][3];
    fs_kinetic_tensor(2, s.v, s.mass, ek);
    /* 1/2 (2 va va^T + 3 vb vb^T) */
    const double want[3][3] = {{2.5, 2.0, 0.0}, {2.0, 4.0, 6.0}, {0.0, 6.0, 15.0}};
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) fs_assert_close(ek[a][b], want[a][b], 1e-15, 1e-15, "kinetic tensor");
    fs_assert_close(ek[0][0] + ek[1][1] + ek[2][2], 0.5 * (2 * 14 + 3 * 5), 1e-15, 0, "trace = kinetic energy");
    assert_false(fs_close(ek[0][2], 0.5 * 2 * 3, 1e-6, 1e-9)); /* control: the other atom's term is there */

    /* COM: masses 1, 2, 3 free, 5 frozen */
    sys_set_mass(&s, 0, 1.0, 0);
    sys_set_mass(&s, 1, 2.0, 0);
    sys_set_mass(&s, 2, 3.0, 0);
    sys_set_mass(&s, 3, 5.0, 1);
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < 4; ++i) s.v[d][i] = (i == d) ? 1.0 : 0.0;
    /* P = (1, 2, 3), M = 6: vcm = (1/6, 1/3, 1/2) */
    fs_remove_com_velocity(4, s.v, s.mass, s.frozen);
    const double vcm[3] = {1.0 / 6, 1.0 / 3, 0.5};
    for (int i = 0; i < 3; ++i)
        for (int d = 0; d < 3; ++d) fs_assert_close(s.v[d][i], (i == d ? 1.0 : 0.0) - vcm[d], 1e-15, 1e-15, "COM");
    for (int d = 0; d < 3; ++d) assert_true(s.v[d][3] == 0.0);
    /* controls: subtracting P/M with the frozen mass in M (11), or the unweighted mean, leaves momentum */
    for (int d = 0; d < 3; ++d) {
        double p_frozen_in = 0, p_unweighted = 0;
        for (int i = 0; i < 3; ++i) {
            double v = (i == d) ? 1.0 : 0.0;
            p_frozen_in += s.mass[i] * (v - (d + 1.0) / 11.0);
            p_unweighted += s.mass[i] * (v - 1.0 / 3.0);
        }
        double p = 0;
        for (int i = 0; i < 3; ++i) p += s.mass[i] * s.v[d][i];
        assert_true(fabs(p) < 1e-14);
        assert_false(fabs(p_frozen_in) < 1e-6);
        if (d != 1) assert_false(fabs(p_unweighted) < 1e-6); /* d = 1: the mean of (0, 1, 0) happens to be P/M */
    }
    /* frozen = NULL: all four atoms */
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < 4; ++i) s.v[d][i] = i + d;
    fs_remove_com_velocity(4, s.v, s.mass, NULL);
    for (int d = 0; d < 3; ++d) {
        double p = 0;
        for (int i = 0; i < 4; ++i) p += s.mass[i] * s.v[d][i];
        assert_true(fabs(p) < 1e-13);
        fs_assert_close(s.v[d][3], 3 + d - (0 + 2 * 1 + 3 * 2 + 5 * 3 + 11.0 * d) / 11.0, 1e-14, 1e-14, "COM all");
    }
    sys_free(&s);
}

static void test_degrees_of_freedom_water(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *st = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &st);
    assert_int_equal(top->natoms, 23262);
    assert_int_equal(fs_degrees_of_freedom(top, FS_COMM_LINEAR), 46521);
    assert_int_equal(fs_degrees_of_freedom(top, FS_COMM_NONE), 46524);
    /* control: without the settles it would be 3 N */
    assert_int_not_equal(fs_degrees_of_freedom(top, FS_COMM_NONE), 3 * 23262);
    fs_state_destroy(&st);
    fs_topology_destroy(&top);
}

static void add_atom(fs_topology *t, int frozen)
{
    fs_atom a = {.name = "X", .mass = 10.0, .frozen = (unsigned char)frozen};
    assert_int_equal(fs_topology_add_atom(t, &a, NULL), FS_OK);
}

static void test_degrees_of_freedom_frozen(void **state)
{
    (void)state;
    fs_topology *t = NULL;
    assert_int_equal(fs_topology_create(&t), FS_OK);
    /* atoms 0, 1, 3, 7, 8 free; 2, 4, 5, 6 frozen */
    const int frozen[9] = {0, 0, 1, 0, 1, 1, 1, 0, 0};
    for (int i = 0; i < 9; ++i) add_atom(t, frozen[i]);
    const fs_constraint c[3] = {{0, 1, 0.1}, {2, 3, 0.1}, {4, 5, 0.1}};
    for (int k = 0; k < 3; ++k) assert_int_equal(fs_list_push(&t->constraints, c[k]), FS_OK);
    const fs_settle w = {6, 7, 8, 0.1, 0.1633};
    assert_int_equal(fs_list_push(&t->settles, w), FS_OK);
    /* GROMACS, in half degrees of freedom (6 per free atom): (0,1) both free: 1 each -> 5, 5; (2,3): 2 is frozen, so
     * 3 loses 2 -> 4; (4,5) both frozen: nothing; settle (6,7,8): 6 has none, 7 and 8 lose 2 -> 4, 4.
     * Sum 5 + 5 + 4 + 4 + 4 = 22 halves = 11; COM removal: 8. */
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_NONE), 11);
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_LINEAR), 8);
    /* control: the naive count 3 * 5 - 3 - 3 = 9 */
    assert_int_not_equal(fs_degrees_of_freedom(t, FS_COMM_NONE), 3 * 5 - 3 - 3);

    /* everything frozen: 0 with and without COM removal */
    for (int i = 0; i < 9; ++i) t->atoms[i].frozen = 1;
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_NONE), 0);
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_LINEAR), 0);
    /* one free atom, constrained to a frozen one: 3 - 1 = 2, and COM removal leaves 0 (GROMACS: not above 3) */
    t->atoms[0].frozen = 0;
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_NONE), 2);
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_LINEAR), 0);
    /* two free atoms joined by a constraint: 5, and 2 with COM removal */
    t->atoms[1].frozen = 0;
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_NONE), 5);
    assert_int_equal(fs_degrees_of_freedom(t, FS_COMM_LINEAR), 2);
    fs_topology_destroy(&t);
}

/* Normalized velocities v sqrt(m/kT) of the free atoms, 3 per atom, into z (returns the count). */
static int normalized(const sys *s, double kt, double *z)
{
    int k = 0;
    for (int i = 0; i < s->n; ++i) {
        if (s->frozen[i]) continue;
        for (int d = 0; d < 3; ++d) z[k++] = s->v[d][i] * sqrt(s->mass[i] / kt);
    }
    return k;
}

static double variance0(const double *z, int n) /* about the known mean 0 */
{
    double s = 0;
    for (int i = 0; i < n; ++i) s += z[i] * z[i];
    return s / n;
}

#define NL 30000

static void test_langevin(void **state)
{
    (void)state;
    const double masses[3] = {1.008, 15.9994, 6.941};
    const double t = 300.0, kt = FS_BOLTZ * t, gamma = 10.0, dt = 0.05, c = exp(-gamma * dt);
    sys s = sys_make(NL + 1);
    for (int i = 0; i < NL; ++i) sys_set_mass(&s, i, masses[i % 3], 0);
    sys_set_mass(&s, NL, 50.0, 1);

    /* one step against the formula; the frozen atom keeps even a nonzero velocity */
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i <= NL; ++i) s.v[d][i] = 0.01 * (d + 1);
    fs_langevin_o(NL + 1, s.v, s.invmass, t, gamma, dt, 77, 5);
    for (int i = 0; i < 10; ++i) {
        double xi[4];
        fs_rng_normal4(77, 5, (uint32_t)i, FS_RNG_STREAM_SD, xi);
        for (int d = 0; d < 3; ++d)
            fs_assert_close(s.v[d][i], c * 0.01 * (d + 1) + sqrt((1 - c * c) * kt / s.mass[i]) * xi[d], 1e-14, 1e-15,
                            "O-step formula");
    }
    for (int d = 0; d < 3; ++d) assert_true(s.v[d][NL] == 0.01 * (d + 1));

    /* from rest, 40 steps: variance kT/m (1 - c^80) = kT/m */
    double *z = malloc(3 * (NL + 1) * sizeof *z), *z0 = malloc(3 * (NL + 1) * sizeof *z0);
    assert_true(z && z0);
    for (int d = 0; d < 3; ++d) memset(s.v[d], 0, (NL + 1) * sizeof(double));
    for (int step = 0; step < 40; ++step) fs_langevin_o(NL + 1, s.v, s.invmass, t, gamma, dt, 78, (uint64_t)step);
    int n = normalized(&s, kt, z);
    const double se = sqrt(2.0 / n), se_class = sqrt(2.0 / (n / 3.0));
    double var = variance0(z, n);
    print_message("O-step from rest: <v^2> m/kT = %.5f (se %.4f)\n", var, se);
    fs_assert_close(var, 1.0, 0, 5 * se, "O-step variance");
    for (int k = 0; k < 3; ++k) { /* per mass (atoms k, k+3, ...) */
        double sum = 0;
        int cnt = 0;
        for (int i = k; i < NL; i += 3)
            for (int d = 0; d < 3; ++d, ++cnt) sum += s.v[d][i] * s.v[d][i] * masses[k] / kt;
        print_message("  mass %.4f: %.5f\n", masses[k], sum / cnt);
        fs_assert_close(sum / cnt, 1.0, 0, 5 * se_class, "O-step variance per mass");
    }
    assert_true(s.v[0][NL] == 0.0);

    /* invariance: one step from Maxwell velocities keeps kT/m and correlates by c */
    fs_maxwell_velocities(NL + 1, s.v, s.invmass, t, 4);
    normalized(&s, kt, z0);
    fs_langevin_o(NL + 1, s.v, s.invmass, t, gamma, 0.01, 79, 0);
    normalized(&s, kt, z);
    const double c1 = exp(-gamma * 0.01);
    double var1 = variance0(z, n), cov = 0;
    for (int i = 0; i < n; ++i) cov += z[i] * z0[i];
    cov /= n;
    print_message("O-step from Maxwell: variance %.5f, lag correlation %.5f (c = %.5f)\n", var1, cov, c1);
    fs_assert_close(var1, 1.0, 0, 5 * se, "O-step invariance");
    fs_assert_close(cov, c1, 0, 5 * sqrt((1 + c1 * c1) / n), "O-step lag correlation");

    /* control: noise sqrt(1 - c) instead of sqrt(1 - c^2), same normals: variance (1 - c)/(1 - c^2) = 1/(1 + c) */
    for (int d = 0; d < 3; ++d) memset(s.v[d], 0, (NL + 1) * sizeof(double));
    for (int step = 0; step < 40; ++step)
        for (int i = 0; i < NL; ++i) {
            double xi[4];
            fs_rng_normal4(78, (uint64_t)step, (uint32_t)i, FS_RNG_STREAM_SD, xi);
            for (int d = 0; d < 3; ++d) s.v[d][i] = c * s.v[d][i] + sqrt((1 - c) * kt * s.invmass[i]) * xi[d];
        }
    n = normalized(&s, kt, z);
    double var_bad = variance0(z, n);
    print_message("control sqrt(1 - c): variance %.5f\n", var_bad);
    assert_false(fs_close(var_bad, 1.0, 0, 5 * se));
    free(z);
    free(z0);
    sys_free(&s);
}

/* eq. A7 for ndf = 1 (S = 0) or 2 (S = z1^2) with the sign rule, from the Philox normals of block 0 */
static double bussi_small(double k, double kbar, int ndf, double c, uint64_t seed, uint64_t step)
{
    double z[4];
    fs_rng_normal4(seed, step, 0, FS_RNG_STREAM_VRESCALE, z);
    double s = ndf == 2 ? z[1] * z[1] : 0.0;
    double a2 = c + (1 - c) * (z[0] * z[0] + s) * kbar / (ndf * k) + 2 * z[0] * sqrt(c * (1 - c) * kbar / (ndf * k));
    double a = sqrt(a2 > 0 ? a2 : 0);
    return z[0] + sqrt(c * ndf * k / ((1 - c) * kbar)) < 0 ? -a : a;
}

static void test_vrescale_formula(void **state)
{
    (void)state;
    const double dt = 0.002;
    int negative = 0;
    for (int ndf = 1; ndf <= 2; ++ndf)
        for (uint64_t step = 0; step < 200; ++step) {
            const double tau = step % 2 ? 0.1 : 0.0002, c = exp(-dt / tau); /* tau = dt/10 makes c tiny */
            const double kbar = 0.5 * ndf * FS_BOLTZ * 300.0, k = step % 3 ? 3.0 * kbar : 0.5 * kbar;
            double a = fs_vrescale_alpha(k, kbar, ndf, tau, dt, 31, step);
            double want = bussi_small(k, kbar, ndf, c, 31, step);
            fs_assert_close(a, want, 1e-13, 1e-15, "alpha against eq. A7");
            negative += a < 0;
        }
    print_message("alpha < 0 in %d of 400 small-ndf cases with tau = dt/10\n", negative);
    assert_true(negative > 0); /* the sign rule was exercised: the positive root alone would miss those */
    /* same arguments, same bits; another step, another number; no kinetic energy or no dof: 1 */
    assert_true(fs_vrescale_alpha(1.0, 1.2, 30, 0.1, 0.002, 5, 9) == fs_vrescale_alpha(1.0, 1.2, 30, 0.1, 0.002, 5, 9));
    assert_true(fs_vrescale_alpha(1.0, 1.2, 30, 0.1, 0.002, 5, 9) !=
                fs_vrescale_alpha(1.0, 1.2, 30, 0.1, 0.002, 5, 10));
    assert_true(fs_vrescale_alpha(0.0, 1.2, 30, 0.1, 0.002, 5, 9) == 1.0);
    assert_true(fs_vrescale_alpha(1.0, 1.2, 0, 0.1, 0.002, 5, 9) == 1.0);
}

/* P(chi^2_{2m} <= x) = 1 - exp(-x/2) sum_{j<m} (x/2)^j / j! */
static int g_m;
static double cdf_chi2_even(double x)
{
    double h = 0.5 * x, term = 1.0, sum = 1.0;
    for (int j = 1; j < g_m; ++j) {
        term *= h / j;
        sum += term;
    }
    return 1.0 - exp(-h) * sum;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ks_stat(double *x, int n, double (*cdf)(double))
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    double d = 0.0;
    for (int i = 0; i < n; ++i) {
        double f = cdf(x[i]), lo = f - (double)i / n, hi = (double)(i + 1) / n - f;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    return d * sqrt((double)n);
}

#define NCHI 200000

static void test_vrescale_chi_square(void **state)
{
    (void)state;
    /* With c = 0 (tau = 0) alpha^2 = (R1^2 + S) Kbar/(ndf K): ndf K alpha^2/Kbar is chi-square(ndf). */
    double *x = malloc(NCHI * sizeof *x);
    assert_non_null(x);
    const int ndfs[6] = {2, 3, 4, 7, 30, 46521};
    for (int q = 0; q < 6; ++q) {
        const int ndf = ndfs[q];
        double sum = 0, sum2 = 0;
        for (int i = 0; i < NCHI; ++i) {
            double a = fs_vrescale_alpha(1.0, 1.0, ndf, 0.0, 0.002, 1234, (uint64_t)i);
            x[i] = ndf * a * a;
            sum += x[i];
        }
        const double mean = sum / NCHI;
        for (int i = 0; i < NCHI; ++i) sum2 += (x[i] - ndf) * (x[i] - ndf);
        const double var = sum2 / NCHI;
        /* standard errors: mean sqrt(2 ndf / N); variance 2 ndf sqrt((2 + 12/ndf)/N) (chi-square excess kurtosis) */
        const double se_m = sqrt(2.0 * ndf / NCHI), se_v = 2.0 * ndf * sqrt((2.0 + 12.0 / ndf) / NCHI);
        print_message("chi2(%d): mean %.4f (se %.4f), variance %.3f (expected %d, se %.3f)", ndf, mean, se_m, var,
                      2 * ndf, se_v);
        fs_assert_close(mean, ndf, 0, 5 * se_m, "chi-square mean");
        fs_assert_close(var, 2.0 * ndf, 0, 5 * se_v, "chi-square variance");
        if (ndf % 2 == 0 && ndf < 100) {
            g_m = ndf / 2;
            double ks = ks_stat(x, NCHI, cdf_chi2_even);
            g_m = ndf / 2 + 1; /* control: chi-square(ndf + 2) */
            double ks_bad = ks_stat(x, NCHI, cdf_chi2_even);
            print_message(", sqrt(N) D %.3f (control chi2(%d): %.3f)", ks, ndf + 2, ks_bad);
            assert_true(ks < 2.2293);
            assert_false(ks_bad < 2.2293);
        }
        print_message("\n");
        /* control: the moments of chi-square(ndf + 1) are missed (resolvable for small ndf) */
        if (ndf < 100)
            assert_false(fs_close(mean, ndf + 1.0, 0, 5 * se_m) && fs_close(var, 2.0 * (ndf + 1), 0, 5 * se_v));
    }
    free(x);
}

/* Iterates K <- alpha^2 K (berendsen: deterministic alpha^2 = 1 + dt/tau (Kbar/K - 1)); mean and variance of K;
 * if sub is not NULL, 2 K/kT of every 20th step goes there (independent samples: c^20 = exp(-20 dt/tau) << 1). */
static void sample_k(int ndf, double tau, double dt, long nsteps, int berendsen, double *mean, double *var, double *sub)
{
    const double kt = FS_BOLTZ * 300.0, kbar = 0.5 * ndf * kt;
    double k = kbar, s = 0, s2 = 0;
    for (long i = 0; i < nsteps + 1000; ++i) {
        double a2;
        if (berendsen)
            a2 = 1.0 + dt / tau * (kbar / k - 1.0);
        else {
            double a = fs_vrescale_alpha(k, kbar, ndf, tau, dt, 2718, (uint64_t)i);
            a2 = a * a;
        }
        k *= a2;
        if (i >= 1000) s += k, s2 += k * k;
        if (sub && i >= 1000 && (i - 1000) % 20 == 0) sub[(i - 1000) / 20] = 2.0 * k / kt;
    }
    *mean = s / nsteps / kt;
    *var = s2 / nsteps / (kt * kt) - *mean * *mean;
}

static void test_vrescale_canonical(void **state)
{
    (void)state;
    /* K/kT ~ Gamma(ndf/2): mean ndf/2, variance ndf/2 */
    const int ndfs[2] = {30, 3};
    const double taus[2] = {0.004, 0.001};
    const long nsteps[2] = {400000, 1000000};
    double *sub = malloc(400000 / 20 * sizeof *sub);
    assert_non_null(sub);
    for (int q = 0; q < 2; ++q) {
        double mean, var;
        sample_k(ndfs[q], taus[q], 0.002, nsteps[q], 0, &mean, &var, q == 0 ? sub : NULL);
        print_message("Bussi ndf %d, tau/dt %.1f, %ld steps: <K>/kT %.4f (%.4f), var %.4f (%.4f)\n", ndfs[q],
                      taus[q] / 0.002, nsteps[q], mean, 0.5 * ndfs[q], var, 0.5 * ndfs[q]);
        fs_assert_close(mean, 0.5 * ndfs[q], 0.005, 0, "Bussi <K>");
        fs_assert_close(var, 0.5 * ndfs[q], 0.10, 0, "Bussi var(K)");
    }
    /* the distribution itself: 2 K/kT ~ chi-square(30), KS over 20000 independent samples */
    g_m = 15;
    double ks = ks_stat(sub, 400000 / 20, cdf_chi2_even);
    g_m = 16; /* control: chi-square(32) */
    double ks_bad = ks_stat(sub, 400000 / 20, cdf_chi2_even);
    print_message("Bussi ndf 30: sqrt(N) D of 2K/kT against chi2(30) %.3f, against chi2(32) %.3f\n", ks, ks_bad);
    assert_true(ks < 2.2293);
    assert_false(ks_bad < 2.2293);
    free(sub);

    /* control: Berendsen's weak coupling holds K at Kbar with no fluctuations */
    double mean, var;
    sample_k(30, 0.004, 0.002, 400000, 1, &mean, &var, NULL);
    print_message("control Berendsen ndf 30: <K>/kT %.4f, var %.3g\n", mean, var);
    assert_false(fs_close(var, 15.0, 0.10, 0));
}

#define NM 100000

static void test_maxwell(void **state)
{
    (void)state;
    const double t = 310.0, kt = FS_BOLTZ * t;
    sys s = sys_make(NM), s2 = sys_make(NM);
    const double masses[4] = {1.008, 12.011, 15.9994, 6.941};
    for (int i = 0; i < NM; ++i) {
        sys_set_mass(&s, i, masses[i % 4], i % 50 == 7);
        sys_set_mass(&s2, i, masses[i % 4], i % 50 == 7);
        for (int d = 0; d < 3; ++d) s.v[d][i] = 9.0; /* overwritten, frozen ones too */
    }
    fs_maxwell_velocities(NM, s.v, s.invmass, t, 42);
    int nfree = 0;
    double e2 = 0, p[3] = {0, 0, 0};
    for (int i = 0; i < NM; ++i) {
        if (s.frozen[i]) {
            for (int d = 0; d < 3; ++d) assert_true(s.v[d][i] == 0.0);
            continue;
        }
        nfree++;
        for (int d = 0; d < 3; ++d) {
            e2 += s.mass[i] * s.v[d][i] * s.v[d][i];
            p[d] += s.v[d][i] * sqrt(s.mass[i] / kt);
        }
    }
    const double tmeas = e2 / (3.0 * nfree * FS_BOLTZ), se = t * sqrt(2.0 / (3.0 * nfree));
    print_message("Maxwell: T = %.3f K for %.1f K (se %.3f K) over %d atoms\n", tmeas, t, se, nfree);
    fs_assert_close(tmeas, t, 0, 5 * se, "Maxwell temperature");
    for (int d = 0; d < 3; ++d) fs_assert_close(p[d] / nfree, 0.0, 0, 5.0 / sqrt(nfree), "normalized mean velocity");
    assert_false(fs_close(tmeas, 1.02 * t, 0, 5 * se)); /* control: 2 % off */

    /* reproducible to the bit; another seed changes every velocity */
    fs_maxwell_velocities(NM, s2.v, s2.invmass, t, 42);
    for (int d = 0; d < 3; ++d) assert_memory_equal(s.v[d], s2.v[d], NM * sizeof(double));
    fs_maxwell_velocities(NM, s2.v, s2.invmass, t, 43);
    int same = 0;
    for (int i = 0; i < NM; ++i)
        if (!s.frozen[i])
            for (int d = 0; d < 3; ++d) same += s.v[d][i] == s2.v[d][i];
    assert_int_equal(same, 0);
    sys_free(&s);
    sys_free(&s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kick_drift),
        cmocka_unit_test(test_kinetic_tensor_and_com),
        cmocka_unit_test(test_degrees_of_freedom_water),
        cmocka_unit_test(test_degrees_of_freedom_frozen),
        cmocka_unit_test(test_langevin),
        cmocka_unit_test(test_vrescale_formula),
        cmocka_unit_test(test_vrescale_chi_square),
        cmocka_unit_test(test_vrescale_canonical),
        cmocka_unit_test(test_maxwell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

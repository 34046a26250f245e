/*
 * test_thermostats.c — do the thermostats of the CPU reference backend sample the canonical ensemble?
 *
 * System: a Lennard-Jones fluid of 108 argon atoms (sigma 0.3405 nm, epsilon 0.99774 kJ/mol = 120 K k_B, 39.948 amu)
 * built by hand on an fcc lattice at the liquid density rho* = 0.8 (box 1.747 nm) and melted at T* = 1 (120 K);
 * rvdw = rcoulomb = 0.8 nm with a 0.05 nm pair-list buffer (rlist 0.85 nm < half the box). No atom is charged, so
 * the backend skips reciprocal space and a step costs ~0.05 ms. dt = 5 fs (0.0023 tau_LJ).
 *
 * Canonical checks, for md + v-rescale (Bussi, Donadio & Parrinello 2007) and for sd (Langevin BAOAB), tau-t
 * 0.02 ps, after 10 ps of equilibration, over 60000 steps (300 ps) sampled every step:
 *   - the mean kinetic temperature is within 0.5 % of ref-t;
 *   - Var(K) is within 10 % of the canonical 2 <K>^2 / N_df (K is a sum of N_df/2 Gamma-distributed quadratic
 *     terms, so Var K = N_df/2 (kT)^2 whatever the potential).
 * Block analysis: the samples are cut into 20 blocks of 15 ps, far longer than the ~0.02 ps correlation time of K,
 * so the block means are independent; the standard error of the mean temperature is the standard deviation of the
 * block means over sqrt(20), and likewise for the variance ratio computed per block. The test asserts that these
 * errors are below a third of the tolerances, so a pass is not luck. Measured: v-rescale <T> +0.013 % (se 0.10 %),
 * Var(K) ratio 1.020 (se 0.015); sd <T> -0.079 % (se 0.074 %), ratio 1.005 (se 0.009).
 * Degrees of freedom: v-rescale keeps the total momentum (zero at the start; LJ forces are pairwise), so comm-mode
 * linear and N_df = 3N - 3 = 321; sd's friction and noise act on the centre of mass too, so all 3N = 324 degrees of
 * freedom are thermalized and comm-mode none is the right choice.
 * BAOAB's full-step kinetic temperature carries an O(dt^2) bias, <p^2/m> = kT - dt^2 <F_x^2> / (4 m) per component
 * (the last half kick correlates with the drift before it); here <F_x^2> ~ 2300 (kJ/mol/nm)^2, so -0.04 % at 5 fs
 * (-0.15 % at 10 fs, where 100000 steps measured -0.19 +- 0.05 %), well inside the tolerance.
 *
 * Ideal gas: 128 He-like (4.0026 amu) and 128 Ar-like (39.948 amu) atoms without any interaction, run with sd: each
 * species' own kinetic temperature 2 K_s / (3 N_s k_B) is within 0.5 % of ref-t (equipartition: the O step must
 * scale its noise with 1/sqrt(m)); comm-mode none, N_df = 3N.
 *
 * Negative controls (each must fail the check it controls):
 *   - Berendsen-style weak coupling (the deterministic limit of v-rescale: v *= sqrt(1 + dt/tau (K0/K - 1)) after
 *     every NVE step, through download/upload, same tau-t) gets the mean right but squeezes the kinetic-energy
 *     variance far below the canonical value (measured ratio 0.020): it fails the variance check;
 *   - reading the temperature with the wrong number of degrees of freedom (3N for v-rescale, 3N - 3 for sd) is
 *     0.93 % off and fails the mean check;
 *   - v-rescale, a global thermostat, cannot equilibrate the two non-interacting species of the ideal gas: started
 *     with He three times hotter than Ar, the species keep that ratio (measured +55 % and -56 % from ref-t) and
 *     fail equipartition, while sd from the same start passes (measured +0.06 % and +0.02 %, se 0.07 %).
 *
 * Cost: ~125000 argon steps and ~22000 gas steps, ~10 s in Release on one core.
 */
#include "support/fs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/integrate.h"
#include "core/thermo.h"
#include "core/units.h"
#include "kernels/backend.h"

#define T0 120.0
#define DT 0.005
#define TAU_T 0.02
#define T_TOL 0.005  /* relative tolerance on the mean temperature */
#define VAR_TOL 0.10 /* relative tolerance on Var(K) / (2 <K>^2 / N_df) */
#define NBLOCKS 20

static void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s", fs_error_message());
}

typedef struct {
    fs_topology *top;
    fs_state *s;
    fs_backend *b;
    double *mass;
} sys;

static void sys_free(sys *x)
{
    fs_cpu_backend.destroy(&x->b);
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
    free(x->mass);
    x->mass = NULL;
}

/* ntypes (1 or 2) atom types with the given masses and common LJ parameters; atom i has type i % ntypes and is a
 * molecule of its own; cubic box of edge L with the atoms on an fcc lattice of ncell^3 cells (4 ncell^3 atoms);
 * Maxwell velocities at T0 without centre-of-mass motion; uploaded to a new CPU backend. */
static void build(sys *x, int ncell, double L, int ntypes, const double *masses, double c6, double c12, double rc,
                  double buffer)
{
    memset(x, 0, sizeof *x);
    const int n = 4 * ncell * ncell * ncell;
    must(fs_topology_create(&x->top));
    fs_atomtype types[2] = {{"A", -1}, {"B", -1}};
    double c6m[4], c12m[4];
    for (int k = 0; k < 4; ++k) {
        c6m[k] = c6;
        c12m[k] = c12;
    }
    must(fs_topology_set_types(x->top, ntypes, types, c6m, c12m));
    x->mass = malloc((size_t)n * sizeof *x->mass);
    assert_non_null(x->mass);
    for (int i = 0; i < n; ++i) {
        fs_atom a;
        memset(&a, 0, sizeof a);
        snprintf(a.name, sizeof a.name, "%s", types[i % ntypes].name);
        snprintf(a.resname, sizeof a.resname, "%s", types[i % ntypes].name);
        a.resnr = i + 1;
        a.type = i % ntypes;
        a.molecule = i;
        a.mass = masses[i % ntypes];
        x->mass[i] = a.mass;
        must(fs_topology_add_atom(x->top, &a, NULL));
        fs_molecule m;
        memset(&m, 0, sizeof m);
        snprintf(m.name, sizeof m.name, "%s", types[i % ntypes].name);
        m.first_atom = i;
        m.natoms = 1;
        must(fs_topology_add_molecule(x->top, &m));
    }
    must(fs_topology_finalize(x->top));
    must(fs_state_create(n, n, &x->s));
    for (int d = 0; d < 3; ++d) {
        x->s->box.len[d] = L;
        x->s->box.periodic[d] = 1;
    }
    static const double basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
    const double a = L / ncell;
    int i = 0;
    for (int cx = 0; cx < ncell; ++cx)
        for (int cy = 0; cy < ncell; ++cy)
            for (int cz = 0; cz < ncell; ++cz)
                for (int q = 0; q < 4; ++q, ++i) {
                    x->s->r[0][i] = (cx + basis[q][0] + 0.25) * a;
                    x->s->r[1][i] = (cy + basis[q][1] + 0.25) * a;
                    x->s->r[2][i] = (cz + basis[q][2] + 0.25) * a;
                }
    double *invmass = malloc((size_t)n * sizeof *invmass);
    assert_non_null(invmass);
    for (int k = 0; k < n; ++k) invmass[k] = 1.0 / x->mass[k];
    fs_maxwell_velocities(n, x->s->v, invmass, T0, 1234);
    fs_remove_com_velocity(n, x->s->v, x->mass, NULL);
    free(invmass);
    fs_forceparams p = fs_forceparams_default();
    p.rvdw = p.rcoulomb = rc;
    p.verlet_buffer = buffer;
    must(fs_cpu_backend.create(x->top, &p, &x->b));
    must(fs_cpu_backend.upload(x->b, x->s));
}

/* 108 argon atoms at rho* = 0.8. */
static void build_argon(sys *x)
{
    const double sigma = 0.3405, eps = 0.99774, mass = 39.948;
    const double L = cbrt(108 / 0.8) * sigma;
    build(x, 3, L, 1, &mass, 4 * eps * pow(sigma, 6), 4 * eps * pow(sigma, 12), 0.8, 0.05);
}

static fs_dynamics dynamics(fs_integrator integrator, fs_tcoupl tcoupl, fs_comm_mode comm)
{
    fs_dynamics d = fs_dynamics_default();
    d.integrator = integrator;
    d.tcoupl = tcoupl;
    d.dt = DT;
    d.ref_t = T0;
    d.tau_t = TAU_T;
    d.comm_mode = comm;
    d.seed = 987654321;
    return d;
}

/* Block statistics of a kinetic-energy series. */
typedef struct {
    double t_rel, t_se;     /* <T>/T0 - 1 and its standard error */
    double var, var_se;     /* Var(K) / (2 <K>^2 / ndf) and its standard error */
    double t_rel_wrong_ndf; /* <T>/T0 - 1 as read with another ndf */
} canon_stats;

static canon_stats analyse(const double *k, int m, int ndf, int wrong_ndf)
{
    canon_stats c = {0};
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < m; ++i) mean += k[i];
    mean /= m;
    for (int i = 0; i < m; ++i) var += (k[i] - mean) * (k[i] - mean);
    var /= m;
    const double kt0 = FS_BOLTZ * T0;
    c.t_rel = 2.0 * mean / (ndf * kt0) - 1.0;
    c.t_rel_wrong_ndf = 2.0 * mean / (wrong_ndf * kt0) - 1.0;
    c.var = var / (2.0 * mean * mean / ndf);
    const int per = m / NBLOCKS;
    double bt[NBLOCKS], bv[NBLOCKS], st = 0.0, sv = 0.0;
    for (int b = 0; b < NBLOCKS; ++b) {
        double bm = 0.0, bvar = 0.0;
        for (int i = b * per; i < (b + 1) * per; ++i) bm += k[i];
        bm /= per;
        for (int i = b * per; i < (b + 1) * per; ++i) bvar += (k[i] - bm) * (k[i] - bm);
        bvar /= per;
        bt[b] = 2.0 * bm / (ndf * kt0) - 1.0;
        bv[b] = bvar / (2.0 * bm * bm / ndf);
        st += bt[b];
        sv += bv[b];
    }
    st /= NBLOCKS;
    sv /= NBLOCKS;
    double dt2 = 0.0, dv2 = 0.0;
    for (int b = 0; b < NBLOCKS; ++b) {
        dt2 += (bt[b] - st) * (bt[b] - st);
        dv2 += (bv[b] - sv) * (bv[b] - sv);
    }
    c.t_se = sqrt(dt2 / (NBLOCKS - 1) / NBLOCKS);
    c.var_se = sqrt(dv2 / (NBLOCKS - 1) / NBLOCKS);
    return c;
}

static int mean_t_ok(double t_rel)
{
    return fabs(t_rel) < T_TOL;
}

static int variance_ok(double var)
{
    return fabs(var - 1.0) < VAR_TOL;
}

/* Runs neq steps, then nsteps observing K after every step; with `berendsen`, the velocities are scaled Berendsen
 * style after every step (download, scale, upload). */
static canon_stats sample(sys *x, const fs_dynamics *d, int neq, int nsteps, int expect_ndf, int wrong_ndf,
                          int berendsen)
{
    must(fs_cpu_backend.set_dynamics(x->b, d));
    const int n = x->top->natoms;
    double *k = malloc((size_t)nsteps * sizeof *k);
    assert_non_null(k);
    int ndf = 0;
    for (int i = -neq; i < nsteps; ++i) {
        must(fs_cpu_backend.step(x->b, 1));
        fs_observables o;
        must(fs_cpu_backend.observe(x->b, &o));
        ndf = o.ndf;
        double kin = o.ekin[0][0] + o.ekin[1][1] + o.ekin[2][2];
        if (berendsen) {
            /* weak coupling: K relaxes deterministically towards K0 = ndf/2 kT0 with time constant tau-t */
            double k0 = 0.5 * ndf * FS_BOLTZ * T0;
            double lambda = sqrt(1.0 + d->dt / d->tau_t * (k0 / kin - 1.0));
            must(fs_cpu_backend.download(x->b, x->s, FS_SYNC_ALL));
            for (int c = 0; c < 3; ++c)
                for (int j = 0; j < n; ++j) x->s->v[c][j] *= lambda;
            must(fs_cpu_backend.upload(x->b, x->s));
            kin *= lambda * lambda;
        }
        if (i >= 0) k[i] = kin;
    }
    assert_int_equal(ndf, expect_ndf);
    canon_stats c = analyse(k, nsteps, ndf, wrong_ndf);
    free(k);
    return c;
}

static void report(const char *what, const canon_stats *c)
{
    print_message("%s: <T>/T0 - 1 = %+.4f %% (se %.4f %%), Var(K)/canonical = %.4f (se %.4f); with the wrong ndf "
                  "%+.4f %%\n",
                  what, 100 * c->t_rel, 100 * c->t_se, c->var, c->var_se, 100 * c->t_rel_wrong_ndf);
}

static void assert_canonical(const canon_stats *c)
{
    /* enough samples that the statistical errors are well below the tolerances */
    assert_true(c->t_se < T_TOL / 3);
    assert_true(c->var_se < VAR_TOL / 3);
    assert_true(mean_t_ok(c->t_rel));
    assert_true(variance_ok(c->var));
    /* negative control: the check resolves a miscounted centre of mass */
    assert_false(mean_t_ok(c->t_rel_wrong_ndf));
}

static void test_vrescale_canonical(void **state)
{
    (void)state;
    sys x;
    build_argon(&x);
    fs_dynamics d = dynamics(FS_INTEGRATOR_MD, FS_TCOUPL_V_RESCALE, FS_COMM_LINEAR);
    canon_stats c = sample(&x, &d, 2000, 60000, 3 * 108 - 3, 3 * 108, 0);
    report("md + v-rescale", &c);
    assert_canonical(&c);

    /* negative control: Berendsen weak coupling on the same system, same tau-t, fails the variance check */
    d.tcoupl = FS_TCOUPL_NO;
    canon_stats bc = sample(&x, &d, 1000, 10000, 3 * 108 - 3, 3 * 108, 1);
    report("md + Berendsen (negative control)", &bc);
    assert_true(mean_t_ok(bc.t_rel));
    assert_false(variance_ok(bc.var));
    sys_free(&x);
}

static void test_sd_canonical(void **state)
{
    (void)state;
    sys x;
    build_argon(&x);
    fs_dynamics d = dynamics(FS_INTEGRATOR_SD, FS_TCOUPL_NO, FS_COMM_NONE);
    canon_stats c = sample(&x, &d, 2000, 60000, 3 * 108, 3 * 108 - 3, 0);
    report("sd (BAOAB)", &c);
    assert_canonical(&c);
    sys_free(&x);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Ideal gas of two species: per-species kinetic temperatures. */

typedef struct {
    double t_rel[2], t_se[2]; /* per species: T_s/T0 - 1 and its standard error */
} gas_stats;

static gas_stats gas_run(sys *x, const fs_dynamics *d, int neq, int nsteps)
{
    must(fs_cpu_backend.set_dynamics(x->b, d));
    must(fs_cpu_backend.step(x->b, neq));
    const int n = x->top->natoms;
    double bt[2][NBLOCKS] = {{0}};
    const int per = nsteps / NBLOCKS;
    for (int i = 0; i < NBLOCKS * per; ++i) {
        must(fs_cpu_backend.step(x->b, 1));
        must(fs_cpu_backend.download(x->b, x->s, FS_SYNC_VELOCITIES));
        double k[2] = {0, 0};
        for (int j = 0; j < n; ++j)
            for (int c = 0; c < 3; ++c) k[j % 2] += 0.5 * x->mass[j] * x->s->v[c][j] * x->s->v[c][j];
        for (int s = 0; s < 2; ++s) bt[s][i / per] += 2.0 * k[s] / (3.0 * (n / 2) * FS_BOLTZ * T0) - 1.0;
    }
    gas_stats g;
    for (int s = 0; s < 2; ++s) {
        double m = 0.0, v = 0.0;
        for (int b = 0; b < NBLOCKS; ++b) m += (bt[s][b] /= per);
        m /= NBLOCKS;
        for (int b = 0; b < NBLOCKS; ++b) v += (bt[s][b] - m) * (bt[s][b] - m);
        g.t_rel[s] = m;
        g.t_se[s] = sqrt(v / (NBLOCKS - 1) / NBLOCKS);
    }
    return g;
}

/* 256 atoms, alternately He-like and Ar-like, no interactions, 3 nm box; He starts three times hotter than Ar
 * (1.5 T0 and 0.5 T0). */
static void build_gas(sys *x)
{
    const double masses[2] = {4.0026, 39.948};
    build(x, 4, 3.0, 2, masses, 0.0, 0.0, 0.5, 0.1);
    const int n = x->top->natoms;
    for (int j = 0; j < n; ++j)
        for (int c = 0; c < 3; ++c) x->s->v[c][j] *= j % 2 == 0 ? sqrt(1.5) : sqrt(0.5);
    must(fs_cpu_backend.upload(x->b, x->s));
}

static void test_sd_ideal_gas_equipartition(void **state)
{
    (void)state;
    sys x;
    build_gas(&x);
    fs_dynamics d = dynamics(FS_INTEGRATOR_SD, FS_TCOUPL_NO, FS_COMM_NONE);
    d.tau_t = 0.01;
    gas_stats g = gas_run(&x, &d, 200, 20000);
    print_message("ideal gas, sd: T_He/T0 - 1 = %+.4f %% (se %.4f %%), T_Ar/T0 - 1 = %+.4f %% (se %.4f %%)\n",
                  100 * g.t_rel[0], 100 * g.t_se[0], 100 * g.t_rel[1], 100 * g.t_se[1]);
    for (int s = 0; s < 2; ++s) {
        assert_true(g.t_se[s] < T_TOL / 3);
        assert_true(mean_t_ok(g.t_rel[s]));
    }
    sys_free(&x);

    /* negative control: v-rescale from the same start keeps the species' temperature ratio */
    build_gas(&x);
    d = dynamics(FS_INTEGRATOR_MD, FS_TCOUPL_V_RESCALE, FS_COMM_NONE);
    d.tau_t = 0.01;
    g = gas_run(&x, &d, 200, 2000);
    print_message("ideal gas, v-rescale (negative control): T_He/T0 - 1 = %+.2f %%, T_Ar/T0 - 1 = %+.2f %%\n",
                  100 * g.t_rel[0], 100 * g.t_rel[1]);
    assert_false(mean_t_ok(g.t_rel[0]) && mean_t_ok(g.t_rel[1]));
    sys_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vrescale_canonical),
        cmocka_unit_test(test_sd_canonical),
        cmocka_unit_test(test_sd_ideal_gas_equipartition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

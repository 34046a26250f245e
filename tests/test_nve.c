/*
 * test_nve.c — energy conservation of constrained velocity-Verlet dynamics on the CPU reference backend.
 *
 * Systems: the SPC/E water cube (tests/data/cli, 1128 atoms, 376 SETTLE waters, N_df = 2253) and the EC/DMC liquid
 * (benchmarks/inputs/ec-dmc, 2200 atoms, constraints = h-bonds: 1000 C-H bonds solved by SHAKE/RATTLE,
 * N_df = 5597), with PME and 1.0 nm potential-shifted cut-offs from their .mdp files. Each start is projected onto
 * the constraints (fs_constrain_positions with r_ref == r), given Maxwell velocities from a fixed seed, stripped of
 * its centre-of-mass velocity and projected onto the velocity constraints, so every run repeats bit for bit.
 *
 * Drift. The conserved energy E(t) (fs_thermo_derive's `conserved`: Epot + Ekin + thermostat work) is sampled every
 * step and a least-squares line is fitted through it; the slope divided by N_df and by kT at T_ref = 300 K is the
 * drift in kT/ns per degree of freedom. The bound is GROMACS's: its default verlet-buffer-tolerance accepts a drift
 * of 0.005 kJ/mol/ps per atom, so the slope may be at most 0.005 N kJ/mol/ps, in these units
 *     D_max = 0.005 kJ/mol/ps * N / (N_df k_B T_ref) * 1000 ps/ns,
 * 1.004 kT/ns/dof for the water cube and 0.788 for EC/DMC. In double precision with a pair list that never misses
 * a pair there is no drift in the limit of a long run (velocity Verlet is symplectic, SETTLE exact, the SPME force
 * the exact gradient of the SPME energy); over the windows a test can afford, what is measured is the noise of the
 * fit through the O(dt^2) fluctuations plus the slow relaxation of the start. Measured (water, 0.25 ps at 1 fs,
 * 0.5 ps at 2 and 4 fs, after 0.6 ps of v-rescale at 300 K): -0.06, -0.12, -0.52 kT/ns/dof; water with SETTLE
 * stays within the bound even at 4 fs, so 4 fs is reported, not asserted. EC/DMC at 2 fs over 0.6 ps: -0.09.
 *
 * Order of the integrator (the "integrator convergence" check of Merz & Shirts, PLoS ONE 13, e0202764 (2018)): the
 * root-mean-square fluctuation sigma of the conserved energy about its line scales as dt^2 for a second-order
 * integrator, so over the same first 0.25 ps at 1, 2 and 4 fs the exponent p = log2(sigma(2 dt)/sigma(dt)) must be
 * 2 within 0.25 (measured 2.01 and 2.05; sigma = 0.21, 0.81, 3.2 kJ/mol).
 *
 * Thermostat bookkeeping: v-rescale (tau-t 0.1 ps) heating the water from 300 to 315 K puts ~70 kJ/mol/ps into it,
 * yet Epot + Ekin + thermostat work stays within the same bound (measured +0.18 kT/ns/dof). That residual is an
 * integration effect, not bookkeeping: velocity Verlet conserves a shadow energy whose offset from E grows with the
 * temperature, so heating moves E by O(dt^2) (heating to 330 K: +0.14 at 1 fs, +0.56 at 2 fs, a ratio of 4.0).
 *
 * Constraints: along every trajectory the largest relative constraint deviation on downloaded positions
 * (fs_constraints_max_error) stays below 1e-8 (SETTLE gives 5e-15, SHAKE with shake-tol 1e-10 gives 1e-10), and so
 * does the velocity constraint, computed here independently as max |r_ij . v_ij| / (|r_ij| (|v_i| + |v_j|)) over
 * every constrained pair (RATTLE's own convergence measure). Without the velocity constraint the water fails the
 * drift bound (measured -1.9 kT/ns/dof at 1 fs, +19 at 4 fs), but EC/DMC does not (its flexible heavy-atom bonds
 * dominate the fluctuations): the velocity check catches a missing RATTLE there (measured 0.72 instead of 1e-10).
 *
 * Negative controls: EC/DMC with shake-tol = 1e-3 (SHAKE and RATTLE stopped early, so each step dissipates kinetic
 * energy along the bonds) drifts by -6.7 kT/ns/dof, past the bound, and fails both 1e-8 constraint checks; the same
 * exponent fit on the potential energy's fluctuation (physical, independent of dt) gives p = 0.0 and fails the order
 * check; Epot + Ekin of the heated v-rescale run, without the thermostat's work, drifts by +74 kT/ns/dof.
 *
 * Cost: about 1100 water steps and 500 EC/DMC steps (~25 s in Release on one core).
 */
#include "support/fs_test.h"

#include <stdlib.h>
#include <string.h>

#include "core/constraints.h"
#include "core/integrate.h"
#include "core/thermo.h"
#include "core/units.h"
#include "forcefields/gromacs_input.h"
#include "kernels/backend.h"

#define T_REF 300.0
#define GMX_DRIFT_PER_ATOM 0.005 /* kJ/mol/ps: GROMACS's default verlet-buffer-tolerance */
#define CONSTRAINT_TOL 1e-8
#define ORDER_WINDOW 0.25 /* ps: the common span over which the fluctuations at 1, 2, 4 fs are compared */

static void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s", fs_error_message());
}

typedef struct {
    fs_topology *top;
    fs_state *s;
    fs_backend *b;
    fs_constraints *cons; /* for projecting the start and checking trajectories (tolerance 1e-12) */
    double total_mass;
} sys;

static void sys_load(sys *x, const char *top, const char *gro, const char *mdp)
{
    memset(x, 0, sizeof *x);
    fs_mdp m;
    fs_mdp_init(&m);
    if (mdp) must(fs_mdp_read(fs_test_path(mdp), &m, NULL, 0));
    must(fs_gromacs_load(fs_test_path(top), fs_test_path(gro), &m, NULL, 0, &x->top, &x->s));
    must(fs_cpu_backend.create(x->top, &m.force, &x->b));
    must(fs_constraints_create(x->top, 1e-12, &x->cons));
    x->total_mass = fs_topology_total_mass(x->top);
}

static void sys_free(sys *x)
{
    fs_cpu_backend.destroy(&x->b);
    fs_constraints_destroy(&x->cons);
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

/* Projects the positions onto the constraints, draws Maxwell velocities at t_gen from `seed`, removes the centre of
 * mass velocity and projects the velocities onto the constraints: a start every run reproduces exactly. */
static void sys_start(sys *x, double t_gen, uint64_t seed)
{
    int n = x->top->natoms;
    double *mass = malloc((size_t)n * sizeof *mass), *invmass = malloc((size_t)n * sizeof *invmass);
    assert_non_null(mass);
    assert_non_null(invmass);
    for (int i = 0; i < n; ++i) {
        mass[i] = x->top->atoms[i].mass;
        invmass[i] = 1.0 / mass[i];
    }
    must(fs_constrain_positions(x->cons, &x->s->box, x->s->r, x->s->r, NULL, 0.002, NULL));
    fs_maxwell_velocities(n, x->s->v, invmass, t_gen, seed);
    fs_remove_com_velocity(n, x->s->v, mass, NULL);
    must(fs_constrain_velocities(x->cons, &x->s->box, x->s->r, x->s->v, 0.002, NULL));
    free(mass);
    free(invmass);
}

static fs_dynamics nve(double dt, double shake_tol)
{
    fs_dynamics d = fs_dynamics_default();
    d.integrator = FS_INTEGRATOR_MD;
    d.tcoupl = FS_TCOUPL_NO;
    d.dt = dt;
    d.ref_t = T_REF;
    d.shake_tol = shake_tol;
    d.seed = 20240611;
    return d;
}

/* Least-squares line y = a + slope t; rms is the root-mean-square residual about it. Two passes (energies are
 * ~1e4 kJ/mol, fluctuations ~0.1). */
typedef struct {
    double slope, rms;
} line_fit;

static line_fit fit_line(const double *t, const double *y, int n)
{
    double tm = 0.0, ym = 0.0;
    for (int i = 0; i < n; ++i) {
        tm += t[i];
        ym += y[i];
    }
    tm /= n;
    ym /= n;
    double stt = 0.0, sty = 0.0;
    for (int i = 0; i < n; ++i) {
        stt += (t[i] - tm) * (t[i] - tm);
        sty += (t[i] - tm) * (y[i] - ym);
    }
    line_fit f = {sty / stt, 0.0};
    double ss = 0.0;
    for (int i = 0; i < n; ++i) {
        double r = y[i] - ym - f.slope * (t[i] - tm);
        ss += r * r;
    }
    f.rms = sqrt(ss / n);
    return f;
}

/* Largest |r_ij . v_ij| / (|r_ij| (|v_i| + |v_j|)) over the constrained pairs ([constraints] and the three
 * distances of each settle): zero when the velocities satisfy the time derivative of the constraints. */
static double velocity_constraint_error(const fs_topology *top, const fs_box *box, double *const r[3],
                                        double *const v[3])
{
    double worst = 0.0;
    int npairs = top->constraints.n + 3 * top->settles.n;
    for (int k = 0; k < npairs; ++k) {
        int i, j;
        if (k < top->constraints.n) {
            i = top->constraints.data[k].ai;
            j = top->constraints.data[k].aj;
        } else {
            const fs_settle *w = &top->settles.data[(k - top->constraints.n) / 3];
            int which = (k - top->constraints.n) % 3;
            i = which == 2 ? w->hw1 : w->ow;
            j = which == 0 ? w->hw1 : w->hw2;
        }
        double d[3], dv[3], vi = 0.0, vj = 0.0, dot = 0.0, len = 0.0;
        for (int c = 0; c < 3; ++c) d[c] = r[c][i] - r[c][j];
        fs_box_min_image(box, d);
        for (int c = 0; c < 3; ++c) {
            dv[c] = v[c][i] - v[c][j];
            dot += d[c] * dv[c];
            len += d[c] * d[c];
            vi += v[c][i] * v[c][i];
            vj += v[c][j] * v[c][j];
        }
        double e = fabs(dot) / (sqrt(len) * (sqrt(vi) + sqrt(vj)));
        if (!(e <= worst)) worst = e; /* NaN propagates */
    }
    return worst;
}

/* kJ/mol/ps of the whole system -> kT/ns per degree of freedom at T_REF. */
static double per_dof(double slope, int ndf)
{
    return slope / ndf / (FS_BOLTZ * T_REF) * 1000.0;
}

/* GROMACS's tolerated drift, 0.005 kJ/mol/ps per atom, in kT/ns per degree of freedom. */
static double drift_bound(int natoms, int ndf)
{
    return per_dof(GMX_DRIFT_PER_ATOM * natoms, ndf);
}

typedef struct {
    line_fit conserved, total, potential; /* fits from step `skip` on */
    line_fit early, early_potential;      /* conserved and potential energy over the first ORDER_WINDOW ps */
    double drift, drift_total;            /* kT/ns/dof of the conserved energy and of Epot + Ekin */
    double max_constraint_error;          /* over the positions checked every `check_every` steps */
    double max_velocity_error;            /* velocity_constraint_error() at the same steps */
    double mean_t;                        /* K */
    int ndf;
} run_result;

/* Uploads `start`, sets the dynamics and runs nsteps, observing every step; the first `skip` steps are left out of
 * the fits. Positions are downloaded every check_every steps for the constraint check. */
static run_result run(sys *x, const fs_state *start, const fs_dynamics *d, int nsteps, int skip, int check_every)
{
    must(fs_cpu_backend.upload(x->b, start));
    must(fs_cpu_backend.set_dynamics(x->b, d));
    int m = nsteps - skip + 1;
    double *t = malloc((size_t)m * sizeof *t), *ec = malloc((size_t)m * sizeof *ec),
           *et = malloc((size_t)m * sizeof *et), *ep = malloc((size_t)m * sizeof *ep);
    assert_true(t && ec && et && ep);
    run_result r = {0};
    double tsum = 0.0;
    for (int k = 0; k <= nsteps; ++k) {
        if (k > 0) must(fs_cpu_backend.step(x->b, 1));
        fs_observables o;
        must(fs_cpu_backend.observe(x->b, &o));
        fs_thermo_values v = fs_thermo_derive(&o, x->total_mass);
        r.ndf = o.ndf;
        if (k >= skip) {
            int i = k - skip;
            t[i] = o.time;
            ec[i] = v.conserved;
            et[i] = v.total;
            ep[i] = v.potential;
            tsum += v.temperature;
        }
        if (k % check_every == 0 || k == nsteps) {
            must(fs_cpu_backend.download(x->b, x->s, FS_SYNC_POSITIONS | FS_SYNC_VELOCITIES | FS_SYNC_BOX));
            double e = fs_constraints_max_error(x->cons, &x->s->box, x->s->r);
            if (!(e <= r.max_constraint_error)) r.max_constraint_error = e; /* NaN propagates */
            e = velocity_constraint_error(x->top, &x->s->box, x->s->r, x->s->v);
            if (!(e <= r.max_velocity_error)) r.max_velocity_error = e;
        }
    }
    int me = 0;
    while (me < m && t[me] - t[0] <= ORDER_WINDOW + 1e-9) ++me;
    r.early = fit_line(t, ec, me);
    r.early_potential = fit_line(t, ep, me);
    r.conserved = fit_line(t, ec, m);
    r.total = fit_line(t, et, m);
    r.potential = fit_line(t, ep, m);
    r.drift = per_dof(r.conserved.slope, r.ndf);
    r.drift_total = per_dof(r.total.slope, r.ndf);
    r.mean_t = tsum / m;
    free(t);
    free(ec);
    free(et);
    free(ep);
    return r;
}

/* ---------------------------------------------------------------------------------------------------------------
 * Water cube with SETTLE: loaded, started at 300 K and equilibrated once (0.6 ps of v-rescale, tau-t 0.02 ps: the
 * cube cut from a larger box starts with strained contacts at its faces, which release ~10 kJ/mol in the first
 * steps and keep relaxing for a while); the tests start from that snapshot. */

static sys water;
static fs_state *water_eq; /* the equilibrated snapshot */

static int water_setup(void **state)
{
    (void)state;
    sys_load(&water, "tests/data/cli/water.top", "tests/data/cli/water.gro", "benchmarks/inputs/water-23k/gromacs.mdp");
    sys_start(&water, T_REF, 11);
    fs_dynamics d = nve(0.002, 1e-10);
    d.tcoupl = FS_TCOUPL_V_RESCALE;
    d.tau_t = 0.02;
    must(fs_cpu_backend.upload(water.b, water.s));
    must(fs_cpu_backend.set_dynamics(water.b, &d));
    must(fs_cpu_backend.step(water.b, 300));
    must(fs_state_create(water.s->natoms, water.s->natoms, &water_eq));
    must(fs_cpu_backend.download(water.b, water_eq, FS_SYNC_ALL));
    return 0;
}

static int water_teardown(void **state)
{
    (void)state;
    fs_state_destroy(&water_eq);
    sys_free(&water);
    return 0;
}

static int in_order_window(double p)
{
    return fabs(p - 2.0) <= 0.25;
}

static void test_water_nve_timesteps(void **state)
{
    (void)state;
    const double dts[3] = {0.001, 0.002, 0.004};
    run_result r[3];
    for (int k = 0; k < 3; ++k) {
        fs_dynamics d = nve(dts[k], 1e-10);
        int nsteps = (int)lround((k == 0 ? ORDER_WINDOW : 0.5) / dts[k]);
        r[k] = run(&water, water_eq, &d, nsteps, 0, 25);
        print_message("water NVE dt %.0f fs: drift %+.4f kT/ns/dof (slope %+.3f kJ/mol/ps), rms %.4f kJ/mol, "
                      "<T> %.1f K, max constraint errors %.2e (r) %.2e (v)\n",
                      dts[k] * 1000, r[k].drift, r[k].conserved.slope, r[k].conserved.rms, r[k].mean_t,
                      r[k].max_constraint_error, r[k].max_velocity_error);
    }
    const double bound = drift_bound(water.top->natoms, r[1].ndf);
    print_message("bound %.4f kT/ns/dof (0.005 kJ/mol/ps per atom, %d atoms, %d dof)\n", bound, water.top->natoms,
                  r[1].ndf);
    assert_int_equal(r[1].ndf, 376 * 6 - 3);
    fs_assert_close(bound, 1.0036, 1e-3, 0.0, "drift bound for the water cube");
    assert_true(fabs(r[0].drift) < bound);
    assert_true(fabs(r[1].drift) < bound);
    for (int k = 0; k < 3; ++k) {
        assert_true(r[k].max_constraint_error <= CONSTRAINT_TOL);
        assert_true(r[k].max_velocity_error <= CONSTRAINT_TOL);
    }

    /* second order: sigma scales as dt^2 */
    double p12 = log2(r[1].early.rms / r[0].early.rms), p24 = log2(r[2].early.rms / r[1].early.rms);
    print_message("fluctuation exponents: %.3f (1->2 fs), %.3f (2->4 fs)\n", p12, p24);
    assert_true(in_order_window(p12));
    assert_true(in_order_window(p24));
    /* negative control: a physical fluctuation does not scale with dt */
    double q12 = log2(r[1].early_potential.rms / r[0].early_potential.rms);
    print_message("negative control: Epot fluctuation exponent %.3f\n", q12);
    assert_false(in_order_window(q12));
}

static void test_water_vrescale_conserved(void **state)
{
    (void)state;
    fs_dynamics d = nve(0.002, 1e-10);
    d.tcoupl = FS_TCOUPL_V_RESCALE;
    d.ref_t = 315.0;
    d.tau_t = 0.1;
    run_result r = run(&water, water_eq, &d, 200, 0, 25);
    const double bound = drift_bound(water.top->natoms, r.ndf);
    print_message("water v-rescale 300 -> 315 K: conserved drift %+.4f kT/ns/dof, Epot+Ekin drift %+.4f, <T> %.1f K\n",
                  r.drift, r.drift_total, r.mean_t);
    assert_true(r.mean_t > 305.0); /* the thermostat did heat */
    assert_true(fabs(r.drift) < bound);
    assert_true(r.max_constraint_error <= CONSTRAINT_TOL);
    assert_true(r.max_velocity_error <= CONSTRAINT_TOL);
    /* negative control: without the thermostat's work the energy is not conserved */
    assert_false(fabs(r.drift_total) < bound);
}

/* ---------------------------------------------------------------------------------------------------------------
 * EC/DMC with h-bond constraints (SHAKE/RATTLE). conf.gro is energy-minimized (make_box.sh), so velocities drawn at
 * 600 K give ~320 K once the energy has spread into the potential; the first 50 steps (0.1 ps, while the vibrations
 * dephase from their common start at the minimum) are left out of the fit. */

static void test_ecdmc_shake_nve(void **state)
{
    (void)state;
    sys x;
    sys_load(&x, "benchmarks/inputs/ec-dmc/topol.top", "benchmarks/inputs/ec-dmc/conf.gro",
             "benchmarks/inputs/ec-dmc/grompp.mdp");
    assert_int_equal(x.top->constraints.n, 1000);
    sys_start(&x, 2.0 * T_REF, 5);
    fs_state *start = NULL;
    must(fs_state_create(x.s->natoms, x.s->natoms, &start));
    for (int d = 0; d < 3; ++d) {
        memcpy(start->r[d], x.s->r[d], (size_t)x.s->natoms * sizeof(double));
        memcpy(start->v[d], x.s->v[d], (size_t)x.s->natoms * sizeof(double));
    }
    start->box = x.s->box;

    fs_dynamics d = nve(0.002, 1e-10);
    run_result r = run(&x, start, &d, 350, 50, 10);
    const double bound = drift_bound(x.top->natoms, r.ndf);
    print_message("EC/DMC NVE 2 fs, shake-tol 1e-10: drift %+.4f kT/ns/dof (bound %.4f), rms %.2f kJ/mol, <T> %.1f K, "
                  "max constraint errors %.2e (r) %.2e (v)\n",
                  r.drift, bound, r.conserved.rms, r.mean_t, r.max_constraint_error, r.max_velocity_error);
    assert_int_equal(r.ndf, 3 * 2200 - 1000 - 3);
    assert_true(fabs(r.drift) < bound);
    assert_true(r.max_constraint_error <= CONSTRAINT_TOL);
    assert_true(r.max_velocity_error <= CONSTRAINT_TOL);

    /* negative control: SHAKE/RATTLE stopped at 1e-3 dissipate energy every step */
    d.shake_tol = 1e-3;
    run_result bad = run(&x, start, &d, 150, 50, 10);
    print_message("negative control, shake-tol 1e-3: drift %+.4f kT/ns/dof, max constraint errors %.2e (r) %.2e (v)\n",
                  bad.drift, bad.max_constraint_error, bad.max_velocity_error);
    assert_false(fabs(bad.drift) < bound);
    assert_false(bad.max_constraint_error <= CONSTRAINT_TOL);
    assert_false(bad.max_velocity_error <= CONSTRAINT_TOL);

    fs_state_destroy(&start);
    sys_free(&x);
}

int main(void)
{
    const struct CMUnitTest water_tests[] = {
        cmocka_unit_test(test_water_nve_timesteps),
        cmocka_unit_test(test_water_vrescale_conserved),
    };
    const struct CMUnitTest ecdmc_tests[] = {
        cmocka_unit_test(test_ecdmc_shake_nve),
    };
    int failed = cmocka_run_group_tests_name("water", water_tests, water_setup, water_teardown);
    failed += cmocka_run_group_tests_name("ecdmc", ecdmc_tests, NULL, NULL);
    return failed;
}

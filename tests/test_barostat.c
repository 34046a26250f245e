/*
 * test_barostat.c — the Monte Carlo barostat (core/barostat.c) and the backend's scale_trial/scale_revert, against
 * exact ideal-gas results and against the virial pressure of the same Hamiltonian at fixed volume.
 *
 * 1. Ideal gas, isotropic. N = 100 non-interacting particles (c6 = c12 = 0, q = 0, each its own molecule) at
 *    T = 300 K and P = 100 bar. With E = 0 the acceptance rule leaves exactly the distribution of the molecular
 *    centres in the isothermal-isobaric ensemble, p(V) ~ V^N exp(-PV/kT): a Gamma(N + 1, kT/P) distribution with
 *    <V> = (N + 1) kT / P = 41.83 nm^3 and Var V = (N + 1) (kT/P)^2 (sd 4.16 nm^3). Trials only (the positions do
 *    not matter when E = 0); as the step that keys the barostat's random numbers then stays put, trial k runs with
 *    seed seed0 + k. 100000 trials from V = 32.8 nm^3; the first 5000 are dropped; the standard errors of <V> and of
 *    <(V - V_exact)^2> come from 10 block averages (a block is ~1000 times longer than the correlation of successive
 *    trials). Both must lie within 3 standard errors of the exact values, and the standard error of <V> must be
 *    below 0.2 % (so the test resolves the N of the rule to a few). Isotropic scaling keeps the box cubic to the
 *    bit. Control: the rule with N/2 movers (half of the N kT ln(V'/V) term dropped) misses (N + 1) kT / P by
 *    hundreds of standard errors, and matches its own (N/2 + 1) kT / P.
 * 2. Ideal gas, z only (pcoupl MC-z, the slab barostat; another seed): the x and y edges stay bit-identical to the
 *    start, and <V> and Var V are the same Gamma(N + 1) values (scaling only z of N centres has the same Jacobian
 *    (V'/V)^N). Control: the isotropic run changes x and y; this one does not stay cubic.
 *    A trial into a box below twice the pair-list radius returns the pair list's error and leaves the backend as
 *    before the trial (box and positions to the bit). Control: the same scaling by hand, without the revert,
 *    leaves the invalid box behind, which the same comparison detects.
 * 3. scale_trial + scale_revert on the water cube (tests/data/cli/water.{top,gro}, SPC/E, PME) with every atom
 *    wrapped into the box, so that molecules near the faces are split across the periodic boundary (the test
 *    asserts there are such molecules): after an anisotropic trial s = (1.012, 0.991, 1.007) every intramolecular
 *    minimum-image vector (in the new box) equals the old one to 1e-12 nm and every molecular centre of mass is
 *    s times the old one (to 1e-12 nm, up to a lattice vector of the new box); the energies and forces are those a
 *    fresh backend computes at the scaled positions (bit for bit); after scale_revert positions, box, forces and
 *    every energy term and virial component are bit-identical to those before the trial, and a fresh evaluation
 *    there reproduces them bit for bit. Controls: scaling every atom (an affine map) distorts the molecules by
 *    ~1e-3 nm; moving every atom of a molecule by the shift of its (correct) centre of mass, without keeping the
 *    stored image of each atom, tears split molecules apart by ~0.03 nm; the trial positions differ from the old
 *    ones; a revert without a trial is refused.
 * 4. LJ fluid (argon: sigma 0.3405 nm, epsilon 0.99774 kJ/mol, 500 atoms, rc 0.85 nm, T = 120 K, P_ref = 500 bar,
 *    dt 10 fs, velocity Verlet + v-rescale): an NPT run with the MC barostat (trial every 10 steps; 20 ps
 *    equilibration, 100 ps production) gives <V> with standard error s_V (8 blocks); an NVT run at <V> (5 ps
 *    equilibration, 50 ps production) gives the mean virial pressure <P> (fs_thermo_derive) with standard error s_P
 *    (8 blocks of 6.25 ps, the pressure correlation time is ~0.2 ps). The error of the comparison is
 *    sigma = sqrt(s_P^2 + (K s_V / <V>)^2), with K the bulk modulus (the larger of kT <V> / Var V from the NPT run and
 *    the secant modulus of the control run below), since <V> itself is uncertain. Assert |<P> - P_ref| < 3 sigma and
 *    sigma < 25 bar (so the comparison means something). The expected systematic differences are far below sigma:
 *    1/2 P'' Var V ~ (K' + 1) kT / (2V) ~ 3 bar (P(V) is convex), and kT/V ~ 0.6 bar from the three COM degrees of
 *    freedom the kinetic pressure leaves out. Control: an NVT run at 0.95 <V> (25 ps) misses P_ref by more than
 *    3 sigma of its own (by ~250 bar).
 * Everything is deterministic (fixed seeds); the suite takes ~20 s in a Release build (the LJ fluid ~15 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/barostat.h"
#include "core/integrate.h"
#include "core/thermo.h"
#include "core/units.h"
#include "support/fs_test.h"

static void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s: %s", fs_status_name(st), fs_error_message());
}

/* Mean and standard error of the mean from nb equal blocks of x[0..n). */
static void block_stats(const double *x, long n, int nb, double *mean, double *se)
{
    long len = n / nb;
    double s = 0.0, s2 = 0.0;
    for (int b = 0; b < nb; ++b) {
        double m = 0.0;
        for (long i = 0; i < len; ++i) m += x[b * len + i];
        m /= (double)len;
        s += m;
        s2 += m * m;
    }
    *mean = s / nb;
    *se = sqrt(fmax(s2 / nb - *mean * *mean, 0.0) * nb / (nb - 1.0) / nb);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Atomic fluids built in memory: N atoms of one type, each its own molecule. */

static fs_topology *atomic_fluid(int n, double mass, double c6, double c12)
{
    fs_topology *t = NULL;
    must(fs_topology_create(&t));
    for (int i = 0; i < n; ++i) {
        fs_atom a = {.mass = mass, .molecule = i, .resnr = i + 1};
        snprintf(a.name, sizeof a.name, "AR");
        snprintf(a.resname, sizeof a.resname, "AR");
        must(fs_topology_add_atom(t, &a, NULL));
        fs_molecule m = {.first_atom = i, .natoms = 1};
        snprintf(m.name, sizeof m.name, "AR");
        must(fs_topology_add_molecule(t, &m));
    }
    fs_atomtype ty = {"AR", 18};
    must(fs_topology_set_types(t, 1, &ty, &c6, &c12));
    must(fs_topology_finalize(t));
    return t;
}

/* ---------------------------------------------------------------------------------------------------------------
 * 1, 2: the ideal gas. */

#define GAS_N 100
#define GAS_T 300.0
#define GAS_P 100.0
#define GAS_TRIALS 100000
#define GAS_SKIP 5000

typedef struct {
    double *v; /* the volumes after each trial past GAS_SKIP */
    long n;
    int cubic, xy_fixed; /* the box stayed cubic / kept its x and y edges, to the bit */
    double acceptance;
} gas_run;

/* Trials only (no dynamics: with E = 0 the positions do not matter). The step that keys the barostat's random
 * numbers then stays 0, so trial k runs with the seed seed0 + k. */
static gas_run run_gas(fs_pcoupl pcoupl, int nmovers, uint64_t seed0)
{
    fs_topology *top = atomic_fluid(GAS_N, 39.948, 0.0, 0.0);
    fs_state *s = NULL;
    must(fs_state_create(GAS_N, GAS_N, &s));
    const double l0 = 3.2; /* start away from the mean, V = 32.8 nm^3 */
    s->box = fs_box_make(l0, l0, l0);
    uint64_t x = 12345;
    for (int i = 0; i < GAS_N; ++i)
        for (int d = 0; d < 3; ++d) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            s->r[d][i] = l0 * (double)(x >> 11) * 0x1.0p-53;
        }
    fs_forceparams p = fs_forceparams_default();
    p.rcoulomb = p.rvdw = 0.5;
    p.verlet_buffer = 0.05; /* the box edge must stay above 2 (0.5 + 0.05) = 1.1 nm: V > 1.3 nm^3 */
    fs_backend *b = NULL;
    must(fs_cpu_backend.create(top, &p, &b));
    must(b->ops->upload(b, s));
    fs_dynamics d = fs_dynamics_default();
    d.ref_t = GAS_T;
    d.pcoupl = pcoupl;
    d.ref_p = GAS_P;
    fs_mc_barostat mc;
    fs_mc_barostat_init(&mc, l0 * l0 * l0);
    gas_run res = {.n = GAS_TRIALS - GAS_SKIP, .cubic = 1, .xy_fixed = 1};
    res.v = malloc((size_t)res.n * sizeof *res.v);
    assert_non_null(res.v);
    for (long k = 0; k < GAS_TRIALS; ++k) {
        int acc = 0;
        d.seed = seed0 + (uint64_t)k;
        must(fs_mc_barostat_trial(&mc, b, &d, nmovers, &acc));
        fs_observables o;
        must(b->ops->observe(b, &o));
        res.cubic &= o.box.len[0] == o.box.len[1] && o.box.len[1] == o.box.len[2];
        res.xy_fixed &= o.box.len[0] == l0 && o.box.len[1] == l0;
        if (k >= GAS_SKIP) res.v[k - GAS_SKIP] = fs_box_volume(&o.box);
    }
    assert_int_equal(mc.attempts, GAS_TRIALS);
    res.acceptance = (double)mc.accepted / (double)mc.attempts;
    fs_cpu_backend.destroy(&b);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
    return res;
}

/* Does the run sample Gamma(nmovers + 1, kT/P)? <V> and <(V - V_exact)^2> within 3 standard errors (10 blocks).
 * Also reports the relative standard error of <V>. */
static int gas_matches(const gas_run *r, int nmovers, const char *what, double *rel_se)
{
    const double vkt = FS_BOLTZ * GAS_T / (GAS_P / FS_PRESFAC);
    const double mean = (nmovers + 1) * vkt, var = (nmovers + 1) * vkt * vkt;
    double *dev2 = malloc((size_t)r->n * sizeof *dev2);
    assert_non_null(dev2);
    for (long i = 0; i < r->n; ++i) dev2[i] = (r->v[i] - mean) * (r->v[i] - mean);
    double m, se_m, m2, se_m2;
    block_stats(r->v, r->n, 10, &m, &se_m);
    block_stats(dev2, r->n, 10, &m2, &se_m2);
    free(dev2);
    print_message("%s, against N = %d: <V> = %.4f +- %.4f nm^3 (exact %.4f), <(V - V_exact)^2> = %.3f +- %.3f "
                  "(exact %.3f), acceptance %.2f\n",
                  what, nmovers, m, se_m, mean, m2, se_m2, var, r->acceptance);
    if (rel_se) *rel_se = se_m / m;
    return fabs(m - mean) < 3.0 * se_m && fabs(m2 - var) < 3.0 * se_m2;
}

static void test_ideal_gas_isotropic(void **state)
{
    (void)state;
    gas_run r = run_gas(FS_PCOUPL_MC_ISOTROPIC, GAS_N, 1000000);
    double rel_se;
    assert_true(gas_matches(&r, GAS_N, "isotropic", &rel_se));
    assert_true(rel_se < 0.002);
    assert_true(r.cubic);
    assert_false(r.xy_fixed);
    free(r.v);

    /* control: half of the N kT ln(V'/V) term; the run matches its own (N/2 + 1) kT / P instead */
    gas_run h = run_gas(FS_PCOUPL_MC_ISOTROPIC, GAS_N / 2, 1000000);
    assert_false(gas_matches(&h, GAS_N, "control: N/2 movers", NULL));
    assert_true(gas_matches(&h, GAS_N / 2, "control: N/2 movers", NULL));
    free(h.v);
}

static void test_ideal_gas_z_only(void **state)
{
    (void)state;
    gas_run r = run_gas(FS_PCOUPL_MC_Z, GAS_N, 2000000);
    double rel_se;
    assert_true(gas_matches(&r, GAS_N, "z only", &rel_se));
    assert_true(rel_se < 0.002);
    assert_true(r.xy_fixed);
    assert_false(r.cubic);
    free(r.v);
}

/* A trial into a box below twice the pair-list radius cannot be evaluated: the error comes back and the backend is
 * left as it was before the trial (box and positions to the bit). Control: the same scaling applied by hand
 * (scale_trial + compute, no revert) leaves the backend with the invalid box, which the same check detects. */
static void test_trial_error_reverts(void **state)
{
    (void)state;
    fs_topology *top = atomic_fluid(GAS_N, 39.948, 0.0, 0.0);
    fs_state *s = NULL;
    must(fs_state_create(GAS_N, GAS_N, &s));
    const double l0 = 1.15; /* 2 rlist = 1.1 nm */
    s->box = fs_box_make(l0, l0, l0);
    for (int i = 0; i < GAS_N; ++i)
        for (int d = 0; d < 3; ++d) s->r[d][i] = l0 * (0.5 + 0.4 * sin(3.0 * i + d));
    fs_forceparams p = fs_forceparams_default();
    p.rcoulomb = p.rvdw = 0.5;
    p.verlet_buffer = 0.05;
    fs_backend *b = NULL;
    must(fs_cpu_backend.create(top, &p, &b));
    must(b->ops->upload(b, s));
    fs_dynamics d = fs_dynamics_default();
    d.pcoupl = FS_PCOUPL_MC_ISOTROPIC;
    fs_mc_barostat mc;
    fs_mc_barostat_init(&mc, l0 * l0 * l0);
    mc.max_dv = 0.9 * l0 * l0 * l0; /* V' < 1.1^3 for 43 % of the draws */
    fs_status st = FS_OK;
    for (int k = 0; k < 50 && st == FS_OK; ++k) {
        int acc;
        d.seed = (uint64_t)k;
        st = fs_mc_barostat_trial(&mc, b, &d, GAS_N, &acc);
        if (st == FS_OK && acc) {
            must(b->ops->upload(b, s)); /* back to the starting box for the next try */
        }
    }
    assert_int_equal(st, FS_ERR_INVALID);
    print_message("failed trial: %s\n", fs_error_message());
    fs_observables o;
    must(b->ops->observe(b, &o));
    fs_state *t = NULL;
    must(fs_state_create(GAS_N, GAS_N, &t));
    must(b->ops->download(b, t, FS_SYNC_POSITIONS | FS_SYNC_BOX));
    int same = memcmp(&t->box, &s->box, sizeof s->box) == 0;
    for (int dd = 0; dd < 3; ++dd) same &= memcmp(t->r[dd], s->r[dd], GAS_N * sizeof(double)) == 0;
    assert_true(same);
    assert_true(o.box.len[0] == l0);

    /* control */
    const double sc[3] = {0.95, 0.95, 0.95};
    must(b->ops->scale_trial(b, sc));
    assert_int_equal(b->ops->compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY, NULL), FS_ERR_INVALID);
    must(b->ops->download(b, t, FS_SYNC_POSITIONS | FS_SYNC_BOX));
    assert_false(memcmp(&t->box, &s->box, sizeof s->box) == 0);

    fs_state_destroy(&t);
    fs_cpu_backend.destroy(&b);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
}

/* ---------------------------------------------------------------------------------------------------------------
 * 3: scale_trial and scale_revert on split molecules. */

typedef struct {
    double *r[3], *f[3];
    fs_box box;
    fs_energies e;
} snapshot;

static void snap_take(fs_backend *b, fs_state *s, snapshot *x)
{
    must(b->ops->compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &x->e));
    must(b->ops->download(b, s, FS_SYNC_POSITIONS | FS_SYNC_FORCES | FS_SYNC_BOX));
    size_t bytes = (size_t)s->natoms * sizeof(double);
    for (int d = 0; d < 3; ++d) {
        x->r[d] = malloc(bytes);
        x->f[d] = malloc(bytes);
        assert_true(x->r[d] && x->f[d]);
        memcpy(x->r[d], s->r[d], bytes);
        memcpy(x->f[d], s->f[d], bytes);
    }
    x->box = s->box;
}

static void snap_free(snapshot *x)
{
    for (int d = 0; d < 3; ++d) {
        free(x->r[d]);
        free(x->f[d]);
    }
}

static int snap_identical(const snapshot *a, const snapshot *b, int n)
{
    size_t bytes = (size_t)n * sizeof(double);
    int same = memcmp(&a->box.len, &b->box.len, sizeof a->box.len) == 0;
    same &= memcmp(a->e.term, b->e.term, sizeof a->e.term) == 0;
    same &= memcmp(a->e.virial, b->e.virial, sizeof a->e.virial) == 0;
    for (int d = 0; d < 3; ++d) same &= memcmp(a->r[d], b->r[d], bytes) == 0 && memcmp(a->f[d], b->f[d], bytes) == 0;
    return same;
}

/* Own minimum image with round(). */
static void min_image(const fs_box *box, double d[3])
{
    for (int k = 0; k < 3; ++k) d[k] -= box->len[k] * round(d[k] / box->len[k]);
}

/* Largest change of an intramolecular minimum-image vector (atom - first atom) between (r0, box0) and (r1, box1),
 * and largest deviation of a molecule's centre of mass (reconstructed by minimum image) in r1 from s * (the centre
 * in r0), modulo a lattice vector of box1. */
static void rigidity(const fs_topology *top, double *const r0[3], const fs_box *box0, double *const r1[3],
                     const fs_box *box1, const double s[3], double *dvec, double *dcom)
{
    *dvec = *dcom = 0.0;
    for (int m = 0; m < top->nmolecules; ++m) {
        const fs_molecule *mol = &top->molecules[m];
        int i0 = mol->first_atom;
        double c0[3] = {0, 0, 0}, c1[3] = {0, 0, 0}, mt = 0.0;
        for (int i = i0; i < i0 + mol->natoms; ++i) {
            double a[3], b[3];
            for (int k = 0; k < 3; ++k) {
                a[k] = r0[k][i] - r0[k][i0];
                b[k] = r1[k][i] - r1[k][i0];
            }
            min_image(box0, a);
            min_image(box1, b);
            double m_i = top->atoms[i].mass;
            for (int k = 0; k < 3; ++k) {
                *dvec = fmax(*dvec, fabs(a[k] - b[k]));
                c0[k] += m_i * (r0[k][i0] + a[k]);
                c1[k] += m_i * (r1[k][i0] + b[k]);
            }
            mt += m_i;
        }
        double dc[3];
        for (int k = 0; k < 3; ++k) dc[k] = c1[k] / mt - s[k] * c0[k] / mt;
        min_image(box1, dc);
        for (int k = 0; k < 3; ++k) *dcom = fmax(*dcom, fabs(dc[k]));
    }
}

static void test_scale_trial_revert(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *s = NULL;
    fs_test_load("tests/data/cli/water.top", "tests/data/cli/water.gro", &top, &s);
    int n = s->natoms;
    /* wrap every atom into [0, L): molecules at the faces become split across the boundary */
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < n; ++i) s->r[d][i] -= s->box.len[d] * floor(s->r[d][i] / s->box.len[d]);
    int split = 0;
    for (int m = 0; m < top->nmolecules; ++m) {
        const fs_molecule *mol = &top->molecules[m];
        int broken = 0;
        for (int i = mol->first_atom + 1; i < mol->first_atom + mol->natoms; ++i)
            for (int d = 0; d < 3; ++d) broken |= fabs(s->r[d][i] - s->r[d][mol->first_atom]) > 0.5 * s->box.len[d];
        split += broken;
    }
    print_message("%d of %d waters split across the boundary\n", split, top->nmolecules);
    assert_true(split >= 10);

    fs_forceparams p = fs_forceparams_default();
    fs_backend *b = NULL;
    must(fs_cpu_backend.create(top, &p, &b));
    must(b->ops->upload(b, s));
    snapshot before, trial, after, fresh;
    snap_take(b, s, &before);

    const double sc[3] = {1.012, 0.991, 1.007};
    must(b->ops->scale_trial(b, sc));
    snap_take(b, s, &trial);
    for (int d = 0; d < 3; ++d) assert_true(trial.box.len[d] == before.box.len[d] * sc[d]);
    double dvec, dcom;
    rigidity(top, before.r, &before.box, trial.r, &trial.box, sc, &dvec, &dcom);
    print_message("trial: intramolecular vectors change by %.3g nm, centres of mass miss s * com by %.3g nm\n", dvec,
                  dcom);
    assert_true(dvec < 1e-12);
    assert_true(dcom < 1e-12);
    assert_false(memcmp(trial.r[0], before.r[0], (size_t)n * sizeof(double)) == 0);
    assert_true(fabs(fs_energies_potential(&trial.e) - fs_energies_potential(&before.e)) > 1.0);

    /* the trial's energies and forces are those of its positions: a fresh backend agrees to the bit */
    {
        fs_backend *b2 = NULL;
        must(fs_cpu_backend.create(top, &p, &b2));
        must(b2->ops->upload(b2, s)); /* s holds the trial positions and box (downloaded) */
        snap_take(b2, s, &fresh);
        assert_true(snap_identical(&fresh, &trial, n));
        snap_free(&fresh);
        fs_cpu_backend.destroy(&b2);
    }

    /* controls: an affine map of every atom distorts the molecules; moving the stored coordinates of a split
     * molecule by the shift of its centre without image reconstruction tears it apart */
    {
        double *r1[3];
        for (int d = 0; d < 3; ++d) {
            r1[d] = malloc((size_t)n * sizeof(double));
            for (int i = 0; i < n; ++i) r1[d][i] = before.r[d][i] * sc[d];
        }
        double dv_affine, dc_affine;
        rigidity(top, before.r, &before.box, r1, &trial.box, sc, &dv_affine, &dc_affine);
        assert_false(dv_affine < 1e-12);
        assert_true(dv_affine > 1e-4);
        for (int m = 0; m < top->nmolecules; ++m) { /* the centre of mass moves right, every atom by its shift */
            const fs_molecule *mol = &top->molecules[m];
            int i0 = mol->first_atom;
            for (int d = 0; d < 3; ++d) {
                double c = 0.0, mt = 0.0;
                for (int i = i0; i < i0 + mol->natoms; ++i) {
                    double dx = before.r[d][i] - before.r[d][i0];
                    dx -= before.box.len[d] * round(dx / before.box.len[d]);
                    c += top->atoms[i].mass * (before.r[d][i0] + dx);
                    mt += top->atoms[i].mass;
                }
                for (int i = i0; i < i0 + mol->natoms; ++i) r1[d][i] = before.r[d][i] + (sc[d] - 1.0) * c / mt;
            }
        }
        double dv_naive, dc_naive;
        rigidity(top, before.r, &before.box, r1, &trial.box, sc, &dv_naive, &dc_naive);
        print_message("controls: affine map distorts molecules by %.3g nm, one shift per molecule by %.3g nm\n",
                      dv_affine, dv_naive);
        assert_true(dv_naive > 1e-3);
        for (int d = 0; d < 3; ++d) free(r1[d]);
    }

    must(b->ops->scale_revert(b));
    snap_take(b, s, &after);
    assert_true(snap_identical(&after, &before, n));
    assert_false(snap_identical(&trial, &before, n));
    /* a fresh evaluation at the restored positions reproduces the saved forces and energies to the bit */
    {
        fs_backend *b2 = NULL;
        must(fs_cpu_backend.create(top, &p, &b2));
        must(b2->ops->upload(b2, s));
        snap_take(b2, s, &fresh);
        assert_true(snap_identical(&fresh, &before, n));
        snap_free(&fresh);
        fs_cpu_backend.destroy(&b2);
    }
    /* a revert without a trial is refused */
    assert_int_equal(b->ops->scale_revert(b), FS_ERR_INVALID);

    snap_free(&before);
    snap_free(&trial);
    snap_free(&after);
    fs_cpu_backend.destroy(&b);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
}

/* ---------------------------------------------------------------------------------------------------------------
 * 4: LJ fluid, NPT volume against NVT pressure. */

#define LJ_SIGMA 0.3405
#define LJ_EPS 0.99774 /* 120 K */
#define LJ_MASS 39.948
#define LJ_CELLS 5 /* fcc: 4 * 5^3 = 500 atoms */
#define LJ_T 120.0
#define LJ_P 500.0
#define LJ_DT 0.01

typedef struct {
    fs_topology *top;
    fs_forceparams p;
    fs_dynamics d;
    fs_state *s;
    double mass;
} lj_system;

static void lj_setup(lj_system *x)
{
    const int nc = LJ_CELLS, n = 4 * nc * nc * nc;
    double s6 = pow(LJ_SIGMA, 6);
    x->top = atomic_fluid(n, LJ_MASS, 4.0 * LJ_EPS * s6, 4.0 * LJ_EPS * s6 * s6);
    x->mass = fs_topology_total_mass(x->top);
    must(fs_state_create(n, n, &x->s));
    const double rho = 0.766 / pow(LJ_SIGMA, 3); /* near the equilibrium density at 500 bar */
    const double a = cbrt(4.0 / rho);
    x->s->box = fs_box_make(nc * a, nc * a, nc * a);
    const double basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
    int k = 0;
    for (int i = 0; i < nc; ++i)
        for (int j = 0; j < nc; ++j)
            for (int l = 0; l < nc; ++l)
                for (int q = 0; q < 4; ++q, ++k) {
                    x->s->r[0][k] = a * (i + basis[q][0] + 0.25);
                    x->s->r[1][k] = a * (j + basis[q][1] + 0.25);
                    x->s->r[2][k] = a * (l + basis[q][2] + 0.25);
                }
    double *invmass = malloc((size_t)n * sizeof(double)), *mass = malloc((size_t)n * sizeof(double));
    assert_true(invmass && mass);
    for (int i = 0; i < n; ++i) {
        mass[i] = LJ_MASS;
        invmass[i] = 1.0 / LJ_MASS;
    }
    fs_maxwell_velocities(n, x->s->v, invmass, LJ_T, 7);
    fs_remove_com_velocity(n, x->s->v, mass, NULL);
    free(invmass);
    free(mass);
    x->p = fs_forceparams_default();
    x->p.rcoulomb = x->p.rvdw = 0.85; /* 2.5 sigma, potential-shift, no dispersion correction */
    x->p.verlet_buffer = 0.1;
    x->d = fs_dynamics_default();
    x->d.dt = LJ_DT;
    x->d.tcoupl = FS_TCOUPL_V_RESCALE;
    x->d.ref_t = LJ_T;
    x->d.tau_t = 0.1;
    x->d.ref_p = LJ_P;
    x->d.nstpcouple = 10;
    x->d.seed = 11;
}

static void lj_free(lj_system *x)
{
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

/* NPT: <V>, its standard error and Var V; leaves the final state in x->s. */
static void lj_npt(lj_system *x, long neq, long nprod, double *vmean, double *vse, double *vvar)
{
    fs_backend *b = NULL;
    must(fs_cpu_backend.create(x->top, &x->p, &b));
    must(b->ops->upload(b, x->s));
    fs_dynamics d = x->d;
    d.pcoupl = FS_PCOUPL_MC_ISOTROPIC;
    must(b->ops->set_dynamics(b, &d));
    int nmovers = fs_mc_barostat_movers(x->top);
    assert_int_equal(nmovers, x->top->natoms);
    fs_mc_barostat mc;
    fs_mc_barostat_init(&mc, fs_box_volume(&x->s->box));
    long ntrial = nprod / d.nstpcouple, k = 0;
    double *v = malloc((size_t)ntrial * sizeof *v);
    assert_non_null(v);
    for (long step = 0; step < neq + nprod; step += d.nstpcouple) {
        int acc;
        must(b->ops->step(b, d.nstpcouple));
        must(fs_mc_barostat_trial(&mc, b, &d, nmovers, &acc));
        if (step >= neq) {
            fs_observables o;
            must(b->ops->observe(b, &o));
            v[k++] = fs_thermo_derive(&o, x->mass).volume;
        }
    }
    assert_int_equal(k, ntrial);
    block_stats(v, ntrial, 8, vmean, vse);
    *vvar = 0.0;
    for (long i = 0; i < ntrial; ++i) *vvar += (v[i] - *vmean) * (v[i] - *vmean);
    *vvar /= (double)ntrial;
    print_message("NPT: <V> = %.4f +- %.4f nm^3, sd %.4f, acceptance %.2f\n", *vmean, *vse, sqrt(*vvar),
                  (double)mc.accepted / (double)mc.attempts);
    free(v);
    must(b->ops->download(b, x->s, FS_SYNC_ALL));
    fs_cpu_backend.destroy(&b);
}

/* NVT at volume `volume` (the state in x->s scaled to it by a barostat move): mean pressure and standard error. */
static void lj_nvt(const lj_system *x, double volume, uint64_t seed, long neq, long nprod, double *pmean, double *pse)
{
    fs_backend *b = NULL;
    must(fs_cpu_backend.create(x->top, &x->p, &b));
    must(b->ops->upload(b, x->s));
    fs_dynamics d = x->d;
    d.pcoupl = FS_PCOUPL_NO;
    d.seed = seed;
    must(b->ops->set_dynamics(b, &d));
    double f = cbrt(volume / fs_box_volume(&x->s->box)), sc[3] = {f, f, f};
    must(b->ops->scale_trial(b, sc));
    must(b->ops->step(b, neq));
    double *pr = malloc((size_t)nprod * sizeof *pr);
    assert_non_null(pr);
    for (long k = 0; k < nprod; ++k) {
        fs_observables o;
        must(b->ops->step(b, 1));
        must(b->ops->observe(b, &o));
        fs_thermo_values tv = fs_thermo_derive(&o, x->mass);
        pr[k] = tv.pressure;
        if (k == 0) fs_assert_close(tv.volume, volume, 1e-12, 0.0, "NVT volume");
    }
    block_stats(pr, nprod, 8, pmean, pse);
    free(pr);
    fs_cpu_backend.destroy(&b);
}

static void test_lj_npt_vs_nvt(void **state)
{
    (void)state;
    lj_system x;
    lj_setup(&x);
    double vmean, vse, vvar;
    lj_npt(&x, 2000, 10000, &vmean, &vse, &vvar);
    double p1, p1se, p2, p2se;
    lj_nvt(&x, vmean, 101, 500, 5000, &p1, &p1se);
    lj_nvt(&x, 0.95 * vmean, 102, 500, 2500, &p2, &p2se);
    const double kt = FS_BOLTZ * LJ_T;
    double k_fluct = kt * vmean / vvar * FS_PRESFAC, k_secant = (p2 - p1) / 0.05;
    double k = fmax(k_fluct, k_secant);
    double sigma = sqrt(p1se * p1se + pow(k * vse / vmean, 2));
    double sigma2 = sqrt(p2se * p2se + pow(k * vse / vmean, 2));
    print_message("NVT at <V>: <P> = %.1f +- %.1f bar; at 0.95 <V>: %.1f +- %.1f bar; K = %.0f bar (fluctuation %.0f, "
                  "secant %.0f); comparison error %.1f bar\n",
                  p1, p1se, p2, p2se, k, k_fluct, k_secant, sigma);
    assert_true(sigma < 25.0);
    assert_true(fabs(p1 - LJ_P) < 3.0 * sigma);
    /* control: 5 % smaller volume */
    assert_false(fabs(p2 - LJ_P) < 3.0 * sigma2);
    lj_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ideal_gas_isotropic), cmocka_unit_test(test_ideal_gas_z_only),
        cmocka_unit_test(test_trial_error_reverts), cmocka_unit_test(test_scale_trial_revert),
        cmocka_unit_test(test_lj_npt_vs_nvt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gpu_dynamics.c — the device integrator (kernels/gpu/gpu_dynamics.c, kernels/common/dyn*.kernel,
 * _philox.kernel) against the CPU reference (kernels/cpu/cpu_dynamics.c), on OpenCL (PoCL on the CPU in CI).
 *
 * Pieces (water cube with a frozen molecule and a frozen atom; kernels launched one by one). Measured values in
 * brackets (PoCL).
 *   - Philox: the device's 32-bit words for (seed, step, index, stream) equal fs_rng_block's bit for bit (seeds and
 *     steps above 2^32 included), and its Box-Muller normals fs_rng_normal4's to 1e-15 relative [3.7e-16];
 *     negative control: the words of the next step differ.
 *   - the half kick from a force buffer set by hand, the drift and the Langevin O step equal fs_kick, fs_drift and
 *     fs_langevin_o to rounding: positions 1e-14 relative [1.2e-15], velocities 1e-13 nm/ps [1.8e-15]; negative
 *     control: the next step's noise is 1 nm/ps away.
 *   - COM removal: the momentum of the free atoms is gone, frozen atoms keep v = 0, the velocities equal
 *     fs_remove_com_velocity's and the booked thermostat work the kinetic energy the CPU removes (4249 kJ/mol);
 *     the kinetic tensor equals fs_kinetic_tensor. Bounds from the fixed point: each atom's term is truncated by
 *     less than 2^-32, so a sum of N terms is within N 2^-32 (2.6e-7 kJ/mol here) [1.9e-9 .. 1.4e-7].
 *   - barostat trial with molecules split across the boundary (46 atoms in another image than their molecule's
 *     first atom): the scaled positions equal fs_cpu_scale_trial's to 1e-12 nm [4e-16] (the frozen molecule does not
 *     move) and scale_revert() restores positions, forces, energies and virial bit for bit (the trial's energy
 *     differs); negative control: unscaled positions are far.
 * Whole backend (fs_opencl_backend vs fs_cpu_backend from the same start, projected onto the constraints, Maxwell
 * velocities at 300 K; nstcomm 10):
 *   - 20 steps of NVE (md) of the SPC/E water cube (SETTLE) and of EC/DMC (h-bonds: SHAKE/RATTLE): positions within
 *     1e-5 nm of the CPU's in mixed precision [2.6e-7, 6.0e-8], 1e-9 nm in double [8.7e-13, 1.9e-13]; potential
 *     energy 1e-5 [1.1e-6, 1.9e-7] and 1e-9 relative; kinetic energy 1e-5 relative, thermostat work within 1e-5 Ekin;
 *     negative control: a dt 1 % off is 1e-3 nm away [3.3e-3, 1.9e-3].
 *   - 20 steps of sd (water, EC/DMC) and of v-rescale to 330 K (water) with the CPU's random numbers: within 1e-4 nm
 *     [3.2e-7, 6.4e-8; 2.4e-7]. The trajectories are chaotic, but over 20 steps the force rounding of mixed precision
 *     (1e-6 relative) grows to well under the bound: the deviation stays that of NVE. Negative control: another
 *     ld-seed moves the sd run by 0.1 nm.
 *   - two device runs from the same start are identical bit for bit (sd, positions and velocities; split 7 + 13
 *     steps); negative control: a run with another ld-seed is not.
 *   - a blow-up (water 34 given +100 nm/ps: 0.2 nm in one step, over half the 0.1 nm buffer) fails with
 *     FS_ERR_NUMERIC naming step, atom and molecule in cpu_dynamics.c's words, and leaves the last good step in place
 *     bit for bit (positions, velocities, step); the backend then runs on.
 *   - energy conservation: 1000 NVE steps of the water cube (2 fs, after 300 steps of v-rescale relaxing its faces)
 *     drift by less than test_nve.c's bound, GROMACS's 0.005 kJ/mol/ps per atom in kT/ns per degree of freedom
 *     (1.004 for this cube) [-0.006]; 200 steps of v-rescale heating to 330 K keep Epot + Ekin + thermostat work
 *     within it too [+0.28], while Epot + Ekin alone (negative control) drifts far past it [+115].
 * Cost: 40 to 50 s in Release on two cores (PoCL's compiles of five programs dominate while its kernel cache is
 * cold), 30 s under ASan+UBSan.
 * A missing OpenCL device fails the suite.
 */
#include "support/fs_test.h"

#include <stdlib.h>
#include <string.h>

#include "core/constraints.h"
#include "core/integrate.h"
#include "core/rng.h"
#include "core/thermo.h"
#include "core/units.h"
#include "forcefields/gromacs_input.h"
#include "kernels/backend.h"
#include "kernels/gpu/gpu_backend_impl.h"

#define GROUP 128 /* DYN_GROUP of gpu_dynamics.c: the reductions need exactly this work-group size */
#define T_REF 300.0

static void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s", fs_error_message());
}

typedef struct {
    fs_topology *top;
    fs_state *s; /* the start: on the constraints, Maxwell velocities without COM motion */
    fs_mdp m;
} sys;

static void sys_load(sys *x, const char *top, const char *gro, const char *mdp, const int *frozen, int nfrozen)
{
    memset(x, 0, sizeof *x);
    fs_mdp_init(&x->m);
    must(fs_mdp_read(fs_test_path(mdp), &x->m, NULL, 0));
    must(fs_gromacs_load(fs_test_path(top), fs_test_path(gro), &x->m, NULL, 0, &x->top, &x->s));
    for (int k = 0; k < nfrozen; ++k) x->top->atoms[frozen[k]].frozen = 1;
    int n = x->top->natoms;
    double *mass = malloc((size_t)n * sizeof *mass), *invmass = malloc((size_t)n * sizeof *invmass);
    unsigned char *fr = malloc((size_t)n);
    assert_true(mass && invmass && fr);
    for (int i = 0; i < n; ++i) {
        mass[i] = x->top->atoms[i].mass;
        fr[i] = x->top->atoms[i].frozen;
        invmass[i] = fr[i] ? 0.0 : 1.0 / mass[i];
    }
    fs_constraints *cons = NULL;
    must(fs_constraints_create(x->top, 1e-12, &cons));
    must(fs_constrain_positions(cons, &x->s->box, x->s->r, x->s->r, NULL, 0.002, NULL));
    fs_maxwell_velocities(n, x->s->v, invmass, T_REF, 11);
    fs_remove_com_velocity(n, x->s->v, mass, fr);
    must(fs_constrain_velocities(cons, &x->s->box, x->s->r, x->s->v, 0.002, NULL));
    fs_constraints_destroy(&cons);
    free(mass);
    free(invmass);
    free(fr);
}

static void sys_free(sys *x)
{
    fs_state_destroy(&x->s);
    fs_topology_destroy(&x->top);
}

/* A backend of `ops` for x, started from x->s (double precision on request, for the device backend). */
static fs_backend *start(const fs_backend_ops *ops, sys *x, const fs_dynamics *d, int use_double)
{
    fs_backend *b = NULL;
    if (use_double) setenv("FERROSOLV_PRECISION", "double", 1);
    fs_status st = ops->create(x->top, &x->m.force, &b);
    unsetenv("FERROSOLV_PRECISION");
    must(st);
    must(ops->upload(b, x->s));
    if (d) must(ops->set_dynamics(b, d));
    return b;
}

static fs_state *new_state(const sys *x)
{
    fs_state *s = NULL;
    must(fs_state_create(x->s->natoms, x->s->natoms, &s));
    s->box = x->s->box;
    return s;
}

static double max_position_dev(const fs_state *a, const fs_state *b)
{
    double worst = 0.0;
    for (int i = 0; i < a->natoms; ++i) {
        double d2 = 0.0;
        for (int d = 0; d < 3; ++d) d2 += (a->r[d][i] - b->r[d][i]) * (a->r[d][i] - b->r[d][i]);
        if (!(d2 <= worst)) worst = d2;
    }
    return sqrt(worst);
}

static fs_dynamics dyn(fs_integrator integ, fs_tcoupl tc, double dt)
{
    fs_dynamics d = fs_dynamics_default();
    d.integrator = integ;
    d.tcoupl = tc;
    d.dt = dt;
    d.ref_t = T_REF;
    d.tau_t = 0.1;
    d.nstcomm = 10;
    d.seed = 20240611;
    return d;
}

/* ---- pieces: kernels launched one by one ---------------------------------------------------------------------- */

static sys water_frozen;      /* the water cube; molecule 0 and atom 31 frozen */
static fs_backend *dev_piece; /* device backend of water_frozen */
static const int frozen_atoms[] = {0, 1, 2, 31};

static int pieces_setup(void **state)
{
    (void)state;
    sys_load(&water_frozen, "tests/data/cli/water.top", "tests/data/cli/water.gro",
             "benchmarks/inputs/water-23k/gromacs.mdp", frozen_atoms, 4);
    must(fs_opencl_backend.probe());
    dev_piece = start(&fs_opencl_backend, &water_frozen, NULL, 0);
    return 0;
}

static int pieces_teardown(void **state)
{
    (void)state;
    fs_opencl_backend.destroy(&dev_piece);
    sys_free(&water_frozen);
    return 0;
}

static gpu_kernel *kern(gpu_backend *g, const char *name)
{
    gpu_kernel *k = NULL;
    must(gpu_get_kernel(g, name, &k));
    return k;
}

static void go(gpu_backend *g, gpu_kernel **k, size_t n)
{
    must(gpu_run(g, *k, n, GROUP));
    must(g->api->finish(g->dev));
    g->api->kernel_release(k);
}

static gpu_buf *dev_alloc(gpu_backend *g, size_t bytes)
{
    gpu_buf *b = NULL;
    must(gpu_alloc(g, bytes, "test", &b));
    return b;
}

static void test_philox(void **state)
{
    (void)state;
    gpu_backend *g = (gpu_backend *)dev_piece;
    enum { N = 512 };
    gpu_buf *words = dev_alloc(g, 4 * N * sizeof(uint32_t)), *normals = dev_alloc(g, 4 * N * sizeof(double));
    const struct {
        uint64_t seed, step;
        uint32_t index0, stream;
    } cases[] = {{0, 0, 0, FS_RNG_STREAM_SD},
                 {20240611, 12345, 7, FS_RNG_STREAM_SD},
                 {0xFEDCBA9876543210ull, (1ull << 40) + 3, 0xFFFFFF00u, FS_RNG_STREAM_VRESCALE},
                 {1, 0xFFFFFFFFull, 1000, FS_RNG_STREAM_VELOCITIES}};
    uint32_t w[4 * N];
    double z[4 * N], worst = 0.0;
    long differ_next = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        gpu_kernel *k = kern(g, "dyn_rng_words");
        int n = N;
        must(gpu_args(g, k, 7, GPU_ARG(cases[c].seed), GPU_ARG(cases[c].step), GPU_ARG(cases[c].index0),
                      GPU_ARG(cases[c].stream), GPU_ARG(n), GPU_ARG_BUF(words), GPU_ARG_BUF(normals)));
        go(g, &k, N);
        must(g->api->read(g->dev, words, 0, sizeof w, w));
        must(g->api->read(g->dev, normals, 0, sizeof z, z));
        for (int i = 0; i < N; ++i) {
            uint32_t ref[4], next[4];
            double zr[4];
            uint32_t index = cases[c].index0 + (uint32_t)i;
            fs_rng_block(cases[c].seed, cases[c].step, index, cases[c].stream, ref);
            fs_rng_block(cases[c].seed, cases[c].step + 1, index, cases[c].stream, next);
            fs_rng_normal4(cases[c].seed, cases[c].step, index, cases[c].stream, zr);
            if (memcmp(ref, &w[4 * i], sizeof ref) != 0)
                fail_msg("Philox words differ: case %zu index %u: %08x %08x %08x %08x vs %08x %08x %08x %08x", c, index,
                         w[4 * i], w[4 * i + 1], w[4 * i + 2], w[4 * i + 3], ref[0], ref[1], ref[2], ref[3]);
            differ_next += memcmp(next, &w[4 * i], sizeof next) != 0;
            for (int j = 0; j < 4; ++j) {
                double e = fabs(z[4 * i + j] - zr[j]) / fmax(fabs(zr[j]), 1e-300);
                if (!(e <= worst)) worst = e;
            }
        }
    }
    print_message("Philox: %d blocks bit-identical; normals within %.2e relative of fs_rng_normal4\n",
                  (int)(N * (sizeof cases / sizeof cases[0])), worst);
    assert_true(worst <= 1e-15);
    /* negative control: the comparison tells steps apart */
    assert_int_equal(differ_next, (long)(N * (sizeof cases / sizeof cases[0])));
    g->api->release(&words);
    g->api->release(&normals);
}

/* Host copies of the device's velocities and positions. */
static void read_v4(gpu_backend *g, gpu_buf *b, double *out)
{
    must(g->api->read(g->dev, b, 0, (size_t)g->padded * 4 * sizeof(double), out));
}

static void test_kick_drift_o(void **state)
{
    (void)state;
    gpu_backend *g = (gpu_backend *)dev_piece;
    fs_state *s = water_frozen.s;
    const fs_topology *t = water_frozen.top;
    int n = s->natoms, p = g->padded;
    must(fs_opencl_backend.upload(dev_piece, s));
    /* forces set by hand, in fixed point; the CPU gets the same values as doubles */
    long long *fx = calloc(3 * (size_t)p, sizeof *fx);
    double *f[3], *v[3], *r[3], *invmass = malloc((size_t)n * sizeof(double));
    double *buf = malloc((size_t)p * 4 * sizeof(double));
    assert_true(fx && invmass && buf);
    for (int d = 0; d < 3; ++d) {
        f[d] = malloc((size_t)n * sizeof(double));
        v[d] = malloc((size_t)n * sizeof(double));
        r[d] = malloc((size_t)n * sizeof(double));
        memcpy(v[d], s->v[d], (size_t)n * sizeof(double));
        memcpy(r[d], s->r[d], (size_t)n * sizeof(double));
        for (int i = 0; i < n; ++i) {
            fx[(size_t)d * p + i] = (long long)(1000.0 * sin(0.37 * i + d) * 4294967296.0);
            f[d][i] = (double)fx[(size_t)d * p + i] / 4294967296.0;
        }
    }
    for (int i = 0; i < n; ++i) {
        invmass[i] = t->atoms[i].frozen ? 0.0 : 1.0 / t->atoms[i].mass;
        if (t->atoms[i].frozen) v[0][i] = v[1][i] = v[2][i] = 0.0;
    }
    must(g->api->write(g->dev, g->force, 0, 3 * (size_t)p * sizeof(long long), fx));
    gpu_buf *r_old = dev_alloc(g, (size_t)p * 4 * sizeof(double)),
            *v_old = dev_alloc(g, (size_t)p * 4 * sizeof(double));
    const double dt = 0.002, h = 0.5 * dt, c = exp(-(1.0 / 0.1) * dt), sc = sqrt((1 - c * c) * FS_BOLTZ * T_REF);
    const uint64_t seed = 77, step = 123456789012ull;
    const unsigned stream = FS_RNG_STREAM_SD;
    const int copy = 0;
    gpu_kernel *k = kern(g, "dyn_kick_first");
    must(gpu_args(g, k, 8, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->force), GPU_ARG_BUF(r_old),
                  GPU_ARG_BUF(v_old), GPU_ARG_BUF(g->energy), GPU_ARG_BUF(g->flags), GPU_ARG(h)));
    go(g, &k, (size_t)n);
    k = kern(g, "dyn_drift");
    must(gpu_args(g, k, 6, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->vel), GPU_ARG_BUF(r_old), GPU_ARG_BUF(g->flags),
                  GPU_ARG(dt), GPU_ARG(copy)));
    go(g, &k, (size_t)n);
    k = kern(g, "dyn_langevin_o");
    must(gpu_args(g, k, 7, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->flags), GPU_ARG(c), GPU_ARG(sc), GPU_ARG(seed),
                  GPU_ARG(step), GPU_ARG(stream)));
    go(g, &k, (size_t)n);
    fs_kick(n, v, f, invmass, h);
    fs_drift(n, r, v, dt);
    double *v_other[3]; /* negative control: the O step with the next step's noise */
    for (int d = 0; d < 3; ++d) {
        v_other[d] = malloc((size_t)n * sizeof(double));
        memcpy(v_other[d], v[d], (size_t)n * sizeof(double));
    }
    fs_langevin_o(n, v, invmass, T_REF, 1.0 / 0.1, dt, seed, step);
    fs_langevin_o(n, v_other, invmass, T_REF, 1.0 / 0.1, dt, seed, step + 1);

    double worst_r = 0.0, worst_v = 0.0, worst_old = 0.0, other = 0.0;
    read_v4(g, g->pos, buf);
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) worst_r = fmax(worst_r, fabs(buf[4 * i + d] - r[d][i]) / fabs(r[d][i]));
    read_v4(g, g->vel, buf);
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) {
            worst_v = fmax(worst_v, fabs(buf[4 * i + d] - v[d][i]));
            other = fmax(other, fabs(buf[4 * i + d] - v_other[d][i]));
        }
    for (int i = 0; i < n; ++i)
        if (t->atoms[i].frozen) assert_true(buf[4 * i] == 0.0 && buf[4 * i + 1] == 0.0 && buf[4 * i + 2] == 0.0);
    read_v4(g, r_old, buf);
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) worst_old = fmax(worst_old, fabs(buf[4 * i + d] - s->r[d][i]));
    print_message("kick + drift + O vs CPU: positions %.2e relative, velocities %.2e nm/ps; r_old exact: %s; "
                  "negative control (next step's noise): %.2e nm/ps\n",
                  worst_r, worst_v, worst_old == 0.0 ? "yes" : "no", other);
    assert_true(worst_r <= 1e-14);
    assert_true(worst_v <= 1e-13); /* |v| ~ 0.5 nm/ps: rounding, and a few ulp of log/cos/sin in the noise */
    assert_true(worst_old == 0.0);
    assert_false(other <= 1e-13);
    for (int d = 0; d < 3; ++d) free(v_other[d]);

    g->api->release(&r_old);
    g->api->release(&v_old);
    for (int d = 0; d < 3; ++d) {
        free(f[d]);
        free(v[d]);
        free(r[d]);
    }
    free(fx);
    free(invmass);
    free(buf);
}

static void test_com_and_kinetic(void **state)
{
    (void)state;
    gpu_backend *g = (gpu_backend *)dev_piece;
    const fs_topology *t = water_frozen.top;
    fs_state *s = new_state(&water_frozen);
    int n = s->natoms;
    double *mass = malloc((size_t)n * sizeof(double));
    unsigned char *fr = malloc((size_t)n);
    assert_true(mass && fr);
    double mtot = 0.0;
    for (int i = 0; i < n; ++i) {
        mass[i] = t->atoms[i].mass;
        fr[i] = t->atoms[i].frozen;
        for (int d = 0; d < 3; ++d) {
            s->r[d][i] = water_frozen.s->r[d][i];
            s->v[d][i] = fr[i] ? 0.0 : water_frozen.s->v[d][i] + 0.3 * (d + 1); /* a net drift */
        }
        if (!fr[i]) mtot += mass[i];
    }
    must(fs_opencl_backend.upload(dev_piece, s));
    double ek0[3][3], ek[3][3], w0, w1;
    must(gpu_dynamics_kinetic(g, ek0, &w0));
    fs_kinetic_tensor(n, s->v, mass, ek);
    double worst_ek = 0.0;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) worst_ek = fmax(worst_ek, fabs(ek0[a][b] - ek[a][b]));
    double ktot0 = ek[0][0] + ek[1][1] + ek[2][2];

    gpu_buf *dsum = NULL;
    must(gpu_alloc(g, 4 * sizeof(long long), "test sums", &dsum));
    must(g->api->fill_zero(g->dev, dsum, 4 * sizeof(long long)));
    gpu_buf *mbuf = dev_alloc(g, (size_t)g->padded * sizeof(double));
    must(g->api->write(g->dev, mbuf, 0, (size_t)n * sizeof(double), mass));
    gpu_kernel *k = kern(g, "dyn_com_momentum");
    must(gpu_args(g, k, 4, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(mbuf), GPU_ARG_BUF(g->flags), GPU_ARG_BUF(dsum)));
    go(g, &k, (size_t)n);
    k = kern(g, "dyn_com_remove");
    must(gpu_args(g, k, 4, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->flags), GPU_ARG_BUF(dsum), GPU_ARG(mtot)));
    go(g, &k, (size_t)n);
    k = kern(g, "dyn_com_finish");
    must(gpu_args(g, k, 4, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(dsum), GPU_ARG_BUF(g->energy), GPU_ARG(mtot)));
    go(g, &k, 1);
    must(gpu_dynamics_kinetic(g, ek0, &w1));
    fs_remove_com_velocity(n, s->v, mass, fr);
    fs_kinetic_tensor(n, s->v, mass, ek);
    double removed = ktot0 - (ek[0][0] + ek[1][1] + ek[2][2]);

    fs_state *got = new_state(&water_frozen);
    must(fs_opencl_backend.download(dev_piece, got, FS_SYNC_VELOCITIES));
    double p[3] = {0, 0, 0}, worst_v = 0.0;
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) {
            p[d] += mass[i] * got->v[d][i];
            worst_v = fmax(worst_v, fabs(got->v[d][i] - s->v[d][i]));
            if (fr[i]) assert_true(got->v[d][i] == 0.0);
        }
    print_message("kinetic tensor vs CPU %.2e kJ/mol; COM removal: |v - v_cpu| %.2e nm/ps, P left %.2e %.2e %.2e, "
                  "work %.9f vs CPU %.9f kJ/mol\n",
                  worst_ek, worst_v, p[0], p[1], p[2], w1 - w0, removed);
    /* fixed point truncates each atom's term by less than 2^-32: sums are within N 2^-32 of the exact ones */
    const double fixed_bound = n / 4294967296.0;
    assert_true(worst_ek <= fixed_bound);
    assert_true(worst_v <= 2.0 * fixed_bound / mtot); /* vc = P/M with |dP| < N 2^-32 amu nm/ps */
    for (int d = 0; d < 3; ++d) assert_true(fabs(p[d]) <= 2.0 * fixed_bound);
    fs_assert_close(w1 - w0, removed, 1e-9, 1e-8, "kinetic energy removed with the COM motion");
    assert_true(removed > 100.0); /* the drift was there to remove */
    g->api->release(&dsum);
    g->api->release(&mbuf);
    fs_state_destroy(&got);
    fs_state_destroy(&s);
    free(mass);
    free(fr);
}

static void test_scale_trial_split(void **state)
{
    (void)state;
    /* shift every atom by 0.4 box and put each back into the box on its own: many waters now straddle a face */
    fs_state *s = new_state(&water_frozen);
    int n = s->natoms, split = 0;
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) {
            double len = s->box.len[d], x = water_frozen.s->r[d][i] + 0.4 * len;
            s->r[d][i] = x - len * floor(x / len);
        }
    for (int m = 0; m < water_frozen.top->nmolecules; ++m) {
        int i0 = water_frozen.top->molecules[m].first_atom;
        for (int i = i0 + 1; i < i0 + water_frozen.top->molecules[m].natoms; ++i)
            for (int d = 0; d < 3; ++d) split += fabs(s->r[d][i] - s->r[d][i0]) > 0.5 * s->box.len[d];
    }
    assert_true(split > 10);
    fs_backend *cpu = NULL;
    must(fs_cpu_backend.create(water_frozen.top, &water_frozen.m.force, &cpu));
    must(fs_cpu_backend.upload(cpu, s));
    must(fs_opencl_backend.upload(dev_piece, s));
    fs_energies e0, e1, e2;
    must(fs_opencl_backend.compute(dev_piece, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &e0));
    fs_state *f0 = new_state(&water_frozen);
    must(fs_opencl_backend.download(dev_piece, f0, FS_SYNC_FORCES));
    const double sc[3] = {1.013, 0.991, 1.027};
    must(fs_cpu_backend.scale_trial(cpu, sc));
    must(fs_opencl_backend.scale_trial(dev_piece, sc));
    fs_state *a = new_state(&water_frozen), *b = new_state(&water_frozen);
    must(fs_cpu_backend.download(cpu, a, FS_SYNC_POSITIONS | FS_SYNC_BOX));
    must(fs_opencl_backend.download(dev_piece, b, FS_SYNC_POSITIONS | FS_SYNC_BOX));
    double dev = max_position_dev(a, b);
    print_message("scale_trial with %d split atoms: device vs CPU %.2e nm\n", split, dev);
    assert_true(dev <= 1e-12);
    for (int d = 0; d < 3; ++d) assert_true(b->box.len[d] == a->box.len[d]);
    for (int i = 0; i < 3; ++i) /* the frozen molecule stays */
        for (int d = 0; d < 3; ++d) assert_true(b->r[d][i] == s->r[d][i]);
    /* negative control: an unscaled configuration is far from the scaled one */
    assert_false(max_position_dev(s, b) <= 1e-3);

    /* the trial's energy differs; after the revert, forces and energies are the saved ones, with no evaluation */
    must(fs_opencl_backend.compute(dev_piece, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &e1));
    assert_false(fs_energies_potential(&e1) == fs_energies_potential(&e0));
    must(fs_opencl_backend.scale_revert(dev_piece));
    must(fs_opencl_backend.compute(dev_piece, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &e2));
    assert_memory_equal(&e2, &e0, sizeof e0);
    must(fs_opencl_backend.download(dev_piece, b, FS_SYNC_POSITIONS | FS_SYNC_BOX | FS_SYNC_FORCES));
    for (int d = 0; d < 3; ++d) {
        assert_memory_equal(b->r[d], s->r[d], (size_t)n * sizeof(double));
        assert_memory_equal(b->f[d], f0->f[d], (size_t)n * sizeof(double));
        assert_true(b->box.len[d] == s->box.len[d]);
    }
    fs_state_destroy(&f0);
    assert_int_not_equal(fs_opencl_backend.scale_revert(dev_piece), FS_OK); /* nothing left to revert */
    fs_state_destroy(&a);
    fs_state_destroy(&b);
    fs_state_destroy(&s);
    fs_cpu_backend.destroy(&cpu);
}

/* ---- the whole backend against the CPU ---------------------------------------------------------------------- */

static sys water, ecdmc;

static int full_setup(void **state)
{
    (void)state;
    sys_load(&water, "tests/data/cli/water.top", "tests/data/cli/water.gro", "benchmarks/inputs/water-23k/gromacs.mdp",
             NULL, 0);
    sys_load(&ecdmc, "benchmarks/inputs/ec-dmc/topol.top", "benchmarks/inputs/ec-dmc/conf.gro",
             "benchmarks/inputs/ec-dmc/grompp.mdp", NULL, 0);
    return 0;
}

static int full_teardown(void **state)
{
    (void)state;
    sys_free(&water);
    sys_free(&ecdmc);
    return 0;
}

/* Runs nsteps on the CPU (dynamics d) and on the device (dynamics dd), returns the largest position deviation. */
static double compare(sys *x, const fs_dynamics *d, const fs_dynamics *dd, int nsteps, int use_double, double *epot_rel)
{
    fs_backend *cpu = start(&fs_cpu_backend, x, d, 0), *dev = start(&fs_opencl_backend, x, dd, use_double);
    must(fs_cpu_backend.step(cpu, nsteps));
    must(fs_opencl_backend.step(dev, nsteps));
    fs_state *a = new_state(x), *b = new_state(x);
    must(fs_cpu_backend.download(cpu, a, FS_SYNC_POSITIONS));
    must(fs_opencl_backend.download(dev, b, FS_SYNC_POSITIONS));
    fs_observables oa, ob;
    must(fs_cpu_backend.observe(cpu, &oa));
    must(fs_opencl_backend.observe(dev, &ob));
    assert_int_equal(ob.step, oa.step);
    if (dd->dt == d->dt) assert_true(ob.time == oa.time);
    assert_int_equal(ob.ndf, oa.ndf);
    double ea = fs_energies_potential(&oa.pot), eb = fs_energies_potential(&ob.pot);
    if (epot_rel) *epot_rel = fabs(eb - ea) / fabs(ea);
    double ka = oa.ekin[0][0] + oa.ekin[1][1] + oa.ekin[2][2], kb = ob.ekin[0][0] + ob.ekin[1][1] + ob.ekin[2][2];
    print_message("    Epot %.6f vs %.6f, Ekin %.6f vs %.6f, thermostat work %.6f vs %.6f kJ/mol\n", eb, ea, kb, ka,
                  ob.thermostat_work, oa.thermostat_work);
    if (memcmp(d, dd, sizeof *d) == 0) { /* the kinetic energy and the thermostat's work follow the CPU's too */
        fs_assert_close(kb, ka, 1e-5, 0.0, "kinetic energy");
        fs_assert_close(ob.thermostat_work, oa.thermostat_work, 0.0, 1e-5 * ka, "thermostat work");
    }
    double dev_r = max_position_dev(a, b);
    fs_state_destroy(&a);
    fs_state_destroy(&b);
    fs_cpu_backend.destroy(&cpu);
    fs_opencl_backend.destroy(&dev);
    return dev_r;
}

static void md_vs_cpu(sys *x, const char *name)
{
    fs_dynamics d = dyn(FS_INTEGRATOR_MD, FS_TCOUPL_NO, 0.002);
    double er, ed;
    double mixed = compare(x, &d, &d, 20, 0, &er);
    double dbl = compare(x, &d, &d, 20, 1, &ed);
    print_message("%s NVE 20 steps: device vs CPU positions %.2e nm (mixed), %.2e nm (double); Epot %.1e, %.1e "
                  "relative\n",
                  name, mixed, dbl, er, ed);
    assert_true(mixed <= 1e-5);
    assert_true(dbl <= 1e-9);
    assert_true(er <= 1e-5);
    assert_true(ed <= 1e-9);
    /* negative control: a dt 1 % off */
    fs_dynamics bad = d;
    bad.dt *= 1.01;
    double off = compare(x, &d, &bad, 20, 1, NULL);
    print_message("%s negative control (dt 1 %% off): %.2e nm\n", name, off);
    assert_false(off <= 1e-5);
}

static void test_md_water(void **state)
{
    (void)state;
    md_vs_cpu(&water, "water (SETTLE)");
}

static void test_md_ecdmc(void **state)
{
    (void)state;
    md_vs_cpu(&ecdmc, "EC/DMC (h-bonds)");
}

static void test_sd_vrescale(void **state)
{
    (void)state;
    fs_dynamics sd = dyn(FS_INTEGRATOR_SD, FS_TCOUPL_NO, 0.002), vr = dyn(FS_INTEGRATOR_MD, FS_TCOUPL_V_RESCALE, 0.002);
    vr.ref_t = 330.0; /* so the thermostat does work */
    double a = compare(&water, &sd, &sd, 20, 0, NULL);
    double b = compare(&water, &vr, &vr, 20, 0, NULL);
    double c = compare(&ecdmc, &sd, &sd, 20, 0, NULL);
    print_message("20 steps device vs CPU: water sd %.2e nm, water v-rescale %.2e nm, EC/DMC sd %.2e nm\n", a, b, c);
    assert_true(a <= 1e-4);
    assert_true(b <= 1e-4);
    assert_true(c <= 1e-4);
    fs_dynamics other = sd;
    other.seed += 1;
    double off = compare(&water, &sd, &other, 20, 0, NULL);
    print_message("negative control (sd, another seed): %.2e nm\n", off);
    assert_false(off <= 1e-4);
}

static void test_bit_identical(void **state)
{
    (void)state;
    fs_dynamics d = dyn(FS_INTEGRATOR_SD, FS_TCOUPL_NO, 0.002);
    fs_state *out[3] = {new_state(&water), new_state(&water), new_state(&water)};
    for (int k = 0; k < 3; ++k) {
        fs_dynamics dk = d;
        dk.seed += k == 2; /* the third run, another seed: the negative control */
        fs_backend *dev = start(&fs_opencl_backend, &water, &dk, 0);
        must(fs_opencl_backend.step(dev, 7));
        must(fs_opencl_backend.step(dev, 13));
        must(fs_opencl_backend.download(dev, out[k], FS_SYNC_POSITIONS | FS_SYNC_VELOCITIES));
        fs_opencl_backend.destroy(&dev);
    }
    size_t bytes = (size_t)water.s->natoms * sizeof(double);
    int differs = 0;
    for (int dim = 0; dim < 3; ++dim) {
        assert_memory_equal(out[0]->r[dim], out[1]->r[dim], bytes);
        assert_memory_equal(out[0]->v[dim], out[1]->v[dim], bytes);
        differs += memcmp(out[0]->r[dim], out[2]->r[dim], bytes) != 0;
    }
    assert_int_equal(differs, 3);
    for (int k = 0; k < 3; ++k) fs_state_destroy(&out[k]);
}

static void test_blowup(void **state)
{
    (void)state;
    fs_dynamics d = dyn(FS_INTEGRATOR_MD, FS_TCOUPL_NO, 0.002);
    fs_backend *dev = start(&fs_opencl_backend, &water, &d, 0);
    must(fs_opencl_backend.step(dev, 5));
    fs_state *good = new_state(&water), *after = new_state(&water);
    must(fs_opencl_backend.download(dev, good, FS_SYNC_POSITIONS | FS_SYNC_VELOCITIES));
    for (int i = 99; i < 102; ++i) good->v[0][i] += 100.0; /* water 34 moves 0.2 nm in one step, rigidly */
    must(fs_opencl_backend.upload(dev, good));
    fs_status st = fs_opencl_backend.step(dev, 10);
    print_message("blow-up: %s\n", fs_error_message());
    assert_int_equal(st, FS_ERR_NUMERIC);
    assert_non_null(strstr(fs_error_message(), "blow-up at step 6: atom 100 (OW) of molecule 34 (SOL) moved 0.1"));
    must(fs_opencl_backend.download(dev, after, FS_SYNC_POSITIONS | FS_SYNC_VELOCITIES));
    assert_int_equal(after->step, 5);
    for (int dim = 0; dim < 3; ++dim) {
        assert_memory_equal(after->r[dim], good->r[dim], (size_t)water.s->natoms * sizeof(double));
        assert_memory_equal(after->v[dim], good->v[dim], (size_t)water.s->natoms * sizeof(double));
    }
    /* it runs on once the velocity is sane again */
    for (int i = 99; i < 102; ++i) good->v[0][i] -= 100.0;
    must(fs_opencl_backend.upload(dev, good));
    must(fs_opencl_backend.step(dev, 3));
    fs_observables o;
    must(fs_opencl_backend.observe(dev, &o));
    assert_int_equal(o.step, 8);
    fs_state_destroy(&good);
    fs_state_destroy(&after);
    fs_opencl_backend.destroy(&dev);
}

/* Least-squares slope of y(t). */
static double slope(const double *t, const double *y, int n)
{
    double tm = 0.0, ym = 0.0, stt = 0.0, sty = 0.0;
    for (int i = 0; i < n; ++i) {
        tm += t[i];
        ym += y[i];
    }
    tm /= n;
    ym /= n;
    for (int i = 0; i < n; ++i) {
        stt += (t[i] - tm) * (t[i] - tm);
        sty += (t[i] - tm) * (y[i] - ym);
    }
    return sty / stt;
}

/* Observes every step of nsteps: the drift of the conserved energy (Epot + Ekin + thermostat work) and of Epot + Ekin,
 * in kT/ns per degree of freedom (test_nve.c's units); *bound gets GROMACS's tolerance in the same units. */
static void drifts(fs_backend *dev, int nsteps, double *conserved, double *total, double *bound)
{
    double *t = malloc((size_t)(nsteps + 1) * sizeof *t), *ec = malloc((size_t)(nsteps + 1) * sizeof *ec),
           *et = malloc((size_t)(nsteps + 1) * sizeof *et);
    assert_true(t && ec && et);
    double mass = fs_topology_total_mass(water.top);
    int ndf = 1;
    for (int k = 0; k <= nsteps; ++k) {
        if (k > 0) must(fs_opencl_backend.step(dev, 1));
        fs_observables o;
        must(fs_opencl_backend.observe(dev, &o));
        fs_thermo_values v = fs_thermo_derive(&o, mass);
        t[k] = o.time;
        ec[k] = v.conserved;
        et[k] = v.total;
        ndf = o.ndf;
    }
    const double unit = 1.0 / ndf / (FS_BOLTZ * T_REF) * 1000.0;
    *conserved = slope(t, ec, nsteps + 1) * unit;
    *total = slope(t, et, nsteps + 1) * unit;
    *bound = 0.005 * water.top->natoms * unit;
    free(t);
    free(ec);
    free(et);
}

static void test_nve_drift(void **state)
{
    (void)state;
    /* relax the cube's faces first (test_nve.c: 0.6 ps of v-rescale with tau-t 0.02 ps) */
    fs_dynamics eq = dyn(FS_INTEGRATOR_MD, FS_TCOUPL_V_RESCALE, 0.002);
    eq.tau_t = 0.02;
    fs_backend *dev = start(&fs_opencl_backend, &water, &eq, 0);
    must(fs_opencl_backend.step(dev, 300));
    fs_dynamics d = dyn(FS_INTEGRATOR_MD, FS_TCOUPL_NO, 0.002);
    d.nstcomm = 100;
    must(fs_opencl_backend.set_dynamics(dev, &d));
    double nve, nve_total, bound;
    drifts(dev, 1000, &nve, &nve_total, &bound);
    print_message("water NVE 1000 steps on the device: drift %+.4f kT/ns/dof (bound %.4f)\n", nve, bound);
    assert_true(fabs(nve) < bound);
    /* v-rescale heating to 330 K: the device's thermostat work keeps the conserved energy flat; without it
     * (negative control) Epot + Ekin climbs */
    fs_dynamics heat = dyn(FS_INTEGRATOR_MD, FS_TCOUPL_V_RESCALE, 0.002);
    heat.ref_t = 330.0;
    must(fs_opencl_backend.set_dynamics(dev, &heat));
    double vr, vr_total;
    drifts(dev, 200, &vr, &vr_total, &bound);
    print_message("water v-rescale 300 -> 330 K, 200 steps: conserved drift %+.4f, Epot + Ekin %+.4f kT/ns/dof\n", vr,
                  vr_total);
    assert_true(fabs(vr) < bound);
    assert_false(fabs(vr_total) < bound);
    fs_opencl_backend.destroy(&dev);
}

int main(void)
{
    const struct CMUnitTest pieces[] = {
        cmocka_unit_test(test_philox),
        cmocka_unit_test(test_kick_drift_o),
        cmocka_unit_test(test_com_and_kinetic),
        cmocka_unit_test(test_scale_trial_split),
    };
    const struct CMUnitTest full[] = {
        cmocka_unit_test(test_md_water),      cmocka_unit_test(test_md_ecdmc), cmocka_unit_test(test_sd_vrescale),
        cmocka_unit_test(test_bit_identical), cmocka_unit_test(test_blowup),   cmocka_unit_test(test_nve_drift),
    };
    if (getenv("FS_TEST_FILTER")) cmocka_set_test_filter(getenv("FS_TEST_FILTER"));
    int failed = cmocka_run_group_tests_name("pieces", pieces, pieces_setup, pieces_teardown);
    failed += cmocka_run_group_tests_name("backend", full, full_setup, full_teardown);
    return failed;
}

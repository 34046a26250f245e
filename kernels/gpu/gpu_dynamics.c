/*
 * gpu_dynamics.c — integration steps of the device backend: the step of kernels/cpu/cpu_dynamics.c, kernel for
 * kernel, with positions, velocities and forces never leaving the device.
 *
 * One step of `integrator = md` (velocity Verlet, optionally Bussi's v-rescale):
 *   dyn_kick_first  r_old = r, v_old = v, constraint virial = 0, v += dt/2 F/m
 *   dyn_drift       r += dt v;  constrain r from r_old (v corrected by the displacement / dt; virial weight 2: a drift
 *                   of length dt ending in a displacement dr implies G = 2 m dr / dt^2, see cpu_dynamics.c)
 *   gpu_evaluate    F(r) (energies and virial only on the last step of a step() call, which observe() reads)
 *   dyn_check       blow-up checks, then dyn_check_finish sets the error flags
 *   dyn_kick        v += dt/2 F/m;  constrain v (RATTLE)
 *   v-rescale       dyn_kinetic sums K into a module slot; the host reads that one number, draws
 *                   alpha = fs_vrescale_alpha(K, ...) (the CPU's random numbers) and dyn_scale_velocities scales
 *                   v and books K - alpha^2 K as thermostat work: the only read per step, and only for v-rescale
 *   COM removal     every nstcomm steps (after the step counter advanced): dyn_com_momentum, dyn_com_remove,
 *                   dyn_com_finish (the removed |P|^2/2M is thermostat work)
 *   dyn_end_step    counts the completed step
 * One step of `integrator = sd` (BAOAB with constraints after each half drift, Leimkuhler & Matthews 2016):
 *   B as above;  A: r += dt/2 v, constrain r from r_old (weight 1), constrain v;
 *   O: dyn_kinetic(+K into the thermostat work), dyn_langevin_o (c = exp(-dt/tau_t), Philox noise of (seed, step,
 *      atom, FS_RNG_STREAM_SD)), constrain v, dyn_kinetic(-K): the work is K_before - K_after, summed on the device;
 *   A: r_half = r, r += dt/2 v, constrain r from r_half (weight 1);  F;  checks;  B;  constrain v;  COM.
 * Every sum is 64-bit fixed point (dyn_sums.kernel), so two runs from the same start are identical bit for bit.
 *
 * Blow-ups. Kernels of the step sequence do nothing once flags[GPU_F_ERROR] is set, so after step(nsteps) the
 * flags are read once: if set, r_old/v_old hold the last good step (dyn_kick_first stopped copying; this is why the
 * copies are made by that kernel and not by api->copy, which cannot look at the flag), they are put back, the step
 * counter is rolled back to the steps dyn_end_step counted, and FS_ERR_NUMERIC is returned with the message of
 * cpu_dynamics.c (the step, the atom and its molecule). The CPU names the atom that moved most; the device names the
 * lowest-numbered atom that moved more than the limit (an atomic min: deterministic, one pass). A non-finite force
 * is recognized in fixed point: it converts to an integer at the edge of the range (|F| >= 2^30 kJ/mol/nm is
 * flagged), on x86/PoCL at least; where a NaN converts to 0 (NVIDIA), the displacement check catches the blow-up
 * a step later.
 *
 * Barostat trials: dyn_scale_molecules moves each molecule rigidly by its minimum-image centre of mass as
 * fs_cpu_scale_trial does (with the image term for molecules split across the boundary); positions, forces and the
 * energy slots are saved by device copies and the box, the validity of the forces on the host, so scale_revert()
 * restores everything bit for bit. Both invalidate the pair list.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/integrate.h"
#include "../../core/rng.h"
#include "../../core/units.h"
#include "gpu_backend_impl.h"

/* Work-group size of every launch of this module (the reductions need exactly this many work-items per group). */
#define DYN_GROUP 128
#define DYN_NO_ATOM 0x7fffffff

/* The module's own int flags and fixed-point sums (numbers shared with the kernels through the #defines). */
enum { DYN_F_MOVED, DYN_F_FORCE, DYN_F_STEPS, DYN_FLAGS };
enum { DYN_S_MOMENTUM = 0, DYN_S_EKIN = 3, DYN_SUMS = 4 };

enum {
    K_KICK_FIRST,
    K_KICK,
    K_DRIFT,
    K_LANGEVIN_O,
    K_SCALE_VELOCITIES,
    K_CHECK,
    K_CHECK_FINISH,
    K_END_STEP,
    K_ZERO_FROZEN,
    K_ZERO_SLOTS,
    K_KINETIC,
    K_KINETIC_TENSOR,
    K_COM_MOMENTUM,
    K_COM_REMOVE,
    K_COM_FINISH,
    K_SCALE_MOLECULES,
    K_COUNT
};
static const char *const kernel_names[K_COUNT] = {
    "dyn_kick_first",       "dyn_kick",       "dyn_drift",        "dyn_langevin_o",
    "dyn_scale_velocities", "dyn_check",      "dyn_check_finish", "dyn_end_step",
    "dyn_zero_frozen",      "dyn_zero_slots", "dyn_kinetic",      "dyn_kinetic_tensor",
    "dyn_com_momentum",     "dyn_com_remove", "dyn_com_finish",   "dyn_scale_molecules"};

struct gpu_dynamics {
    gpu_kernel *k[K_COUNT];
    gpu_buf *mass;                 /* double[natoms], amu */
    gpu_buf *mols;                 /* int[3 nmolecules]: first atom, atom count, frozen */
    gpu_buf *r_old, *v_old;        /* mixed4[natoms]: the start of the current step, the last good one */
    gpu_buf *r_half;               /* mixed4[natoms]: sd's reference of the second half drift */
    gpu_buf *dflags, *dsum, *derr; /* the module's flags, sums and error detail */
    gpu_buf *save_pos, *save_force, *save_energy;

    int have; /* set_dynamics() was called */
    fs_dynamics d;
    int ndf;
    double mtot;         /* mass of the atoms that are not frozen (COM removal), summed as the CPU sums it */
    int ncons;           /* gpu_constraints_count: without any, the constraint calls are skipped */
    unsigned steps_seen; /* dflags[DYN_F_STEPS] as the host expects it (wraps) */

    int trial_active;
    double box_save[3];
    int forces_valid_save;
    unsigned valid_flags_save;
};

/* ---- set-up ------------------------------------------------------------------------------------------------- */

fs_status gpu_dynamics_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d)
{
    (void)top, (void)p, (void)use_double;
    gpu_define_int(d, "DYN_GROUP", DYN_GROUP);
    gpu_define_int(d, "DYN_NO_ATOM", DYN_NO_ATOM);
    gpu_define_int(d, "DYN_F_MOVED", DYN_F_MOVED);
    gpu_define_int(d, "DYN_F_FORCE", DYN_F_FORCE);
    gpu_define_int(d, "DYN_F_STEPS", DYN_F_STEPS);
    gpu_define_int(d, "DYN_S_MOMENTUM", DYN_S_MOMENTUM);
    gpu_define_int(d, "DYN_S_EKIN", DYN_S_EKIN);
    return FS_OK;
}

void gpu_dynamics_destroy(gpu_backend *g)
{
    if (!g || !g->dyn) return;
    gpu_dynamics *m = g->dyn;
    for (int k = 0; k < K_COUNT; ++k) g->api->kernel_release(&m->k[k]);
    gpu_buf **bufs[] = {&m->mass, &m->mols, &m->r_old,    &m->v_old,      &m->r_half,     &m->dflags,
                        &m->dsum, &m->derr, &m->save_pos, &m->save_force, &m->save_energy};
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; ++b) g->api->release(bufs[b]);
    gpu_constraints_destroy(&g->cons);
    free(m);
    g->dyn = NULL;
}

/* The module's flags and sums back to their idle values: no atom marked, no step counted, sums zero. */
static fs_status reset_module_flags(gpu_backend *g, gpu_dynamics *m)
{
    const int f[DYN_FLAGS] = {DYN_NO_ATOM, DYN_NO_ATOM, 0};
    m->steps_seen = 0;
    fs_status st = g->api->write(g->dev, m->dflags, 0, sizeof f, f);
    if (st == FS_OK) st = g->api->fill_zero(g->dev, m->dsum, DYN_SUMS * sizeof(long long));
    return st;
}

/* Creates the module on first use: kernels, buffers, masses and molecules. */
static fs_status ensure(gpu_backend *g, gpu_dynamics **out)
{
    *out = g->dyn;
    if (g->dyn) return FS_OK;
    if (!g->prog) return fs_fail(FS_ERR_INVALID, "device dynamics before upload()");
    gpu_dynamics *m = calloc(1, sizeof *m);
    if (!m) return fs_fail(FS_ERR_NOMEM, "out of memory for the device dynamics");
    g->dyn = m;
    const fs_topology *t = g->top;
    const size_t n = (size_t)g->padded, v4 = n * 4 * sizeof(double);
    const size_t nmol = (size_t)(t->nmolecules > 0 ? t->nmolecules : 1);
    fs_status st = FS_OK;
    for (int k = 0; k < K_COUNT && st == FS_OK; ++k) st = gpu_get_kernel(g, kernel_names[k], &m->k[k]);
    if (st == FS_OK) st = gpu_alloc(g, n * sizeof(double), "masses", &m->mass);
    if (st == FS_OK) st = gpu_alloc(g, 3 * nmol * sizeof(int), "molecules", &m->mols);
    if (st == FS_OK) st = gpu_alloc(g, v4, "previous positions", &m->r_old);
    if (st == FS_OK) st = gpu_alloc(g, v4, "previous velocities", &m->v_old);
    if (st == FS_OK) st = gpu_alloc(g, v4, "half-step positions", &m->r_half);
    if (st == FS_OK) st = gpu_alloc(g, DYN_FLAGS * sizeof(int), "dynamics flags", &m->dflags);
    if (st == FS_OK) st = gpu_alloc(g, DYN_SUMS * sizeof(long long), "dynamics sums", &m->dsum);
    if (st == FS_OK) st = gpu_alloc(g, 4 * sizeof(double), "dynamics errors", &m->derr);
    if (st == FS_OK) st = reset_module_flags(g, m);
    double *mass = st == FS_OK ? calloc(n, sizeof *mass) : NULL;
    int *mols = st == FS_OK ? calloc(3 * nmol, sizeof *mols) : NULL;
    if (st == FS_OK && (!mass || !mols)) st = fs_fail(FS_ERR_NOMEM, "out of memory for the device dynamics");
    if (st == FS_OK) {
        for (int i = 0; i < t->natoms; ++i) {
            mass[i] = t->atoms[i].mass;
            if (!(t->atoms[i].frozen || t->atoms[i].mass <= 0.0)) m->mtot += mass[i];
        }
        for (int k = 0; k < t->nmolecules; ++k) {
            const fs_molecule *mol = &t->molecules[k];
            mols[3 * k] = mol->first_atom;
            mols[3 * k + 1] = mol->natoms;
            for (int i = mol->first_atom; i < mol->first_atom + mol->natoms; ++i) mols[3 * k + 2] |= t->atoms[i].frozen;
        }
        st = g->api->write(g->dev, m->mass, 0, n * sizeof(double), mass);
    }
    if (st == FS_OK) st = g->api->write(g->dev, m->mols, 0, 3 * nmol * sizeof(int), mols);
    free(mass);
    free(mols);
    if (st != FS_OK) {
        gpu_dynamics_destroy(g);
        return st;
    }
    *out = m;
    return FS_OK;
}

fs_status gpu_dynamics_set(gpu_backend *g, const fs_dynamics *d)
{
    if (!(d->dt > 0.0)) return fs_fail(FS_ERR_INVALID, "dt must be positive, got %g", d->dt);
    if ((d->integrator == FS_INTEGRATOR_SD || d->tcoupl == FS_TCOUPL_V_RESCALE) && !(d->tau_t > 0.0 && d->ref_t >= 0))
        return fs_fail(FS_ERR_INVALID, "tau-t must be positive and ref-t non-negative (got %g ps, %g K)", d->tau_t,
                       d->ref_t);
    gpu_dynamics *m;
    fs_status st = ensure(g, &m);
    if (st != FS_OK) return st;
    int ndf = fs_degrees_of_freedom(g->top, d->comm_mode);
    if (ndf < 0) return FS_ERR_NOMEM;
    m->have = 0; /* until the new constraints exist */
    gpu_constraints_destroy(&g->cons);
    st = gpu_constraints_create(g, d->shake_tol, &g->cons);
    if (st != FS_OK) return st;
    m->d = *d;
    m->ndf = ndf;
    m->ncons = gpu_constraints_count(g->cons);
    m->have = 1;
    st = gpu_args(g, m->k[K_ZERO_FROZEN], 1, GPU_ARG_BUF(g->vel));
    return st == FS_OK ? gpu_run(g, m->k[K_ZERO_FROZEN], (size_t)g->natoms, DYN_GROUP) : st;
}

int gpu_dynamics_ndf(gpu_backend *g)
{
    if (g->dyn && g->dyn->have) return g->dyn->ndf;
    return fs_degrees_of_freedom(g->top, FS_COMM_LINEAR);
}

/* ---- one step ----------------------------------------------------------------------------------------------- */

static fs_status run(gpu_backend *g, gpu_kernel *k, size_t n)
{
    return gpu_run(g, k, n, DYN_GROUP);
}

/* sign * kinetic energy into out[slot]. */
static fs_status kinetic_into(gpu_backend *g, gpu_dynamics *m, gpu_buf *out, int slot, int sign)
{
    gpu_kernel *k = m->k[K_KINETIC];
    fs_status st = gpu_args(g, k, 6, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(m->mass), GPU_ARG_BUF(g->flags), GPU_ARG_BUF(out),
                            GPU_ARG(slot), GPU_ARG(sign));
    return st == FS_OK ? run(g, k, (size_t)g->natoms) : st;
}

static fs_status drift(gpu_backend *g, gpu_dynamics *m, double h, int copy)
{
    gpu_kernel *k = m->k[K_DRIFT];
    fs_status st = gpu_args(g, k, 6, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->vel), GPU_ARG_BUF(m->r_half),
                            GPU_ARG_BUF(g->flags), GPU_ARG(h), GPU_ARG(copy));
    return st == FS_OK ? run(g, k, (size_t)g->natoms) : st;
}

static fs_status constrain_r(gpu_backend *g, gpu_dynamics *m, gpu_buf *ref, double h, double weight)
{
    return m->ncons ? gpu_constrain_positions(g->cons, ref, h, weight) : FS_OK;
}

static fs_status constrain_v(gpu_backend *g, gpu_dynamics *m, double h)
{
    return m->ncons ? gpu_constrain_velocities(g->cons, h) : FS_OK;
}

/* The Bussi rescaling: the one read of a step. */
static fs_status vrescale(gpu_backend *g, gpu_dynamics *m, uint64_t step)
{
    const fs_dynamics *d = &m->d;
    fs_status st = kinetic_into(g, m, m->dsum, DYN_S_EKIN, 1);
    long long raw = 0;
    if (st == FS_OK) st = g->api->read(g->dev, m->dsum, DYN_S_EKIN * sizeof(long long), sizeof raw, &raw);
    if (st != FS_OK) return st;
    const double ek = (double)raw / 4294967296.0;
    const double ekref = 0.5 * m->ndf * FS_BOLTZ * d->ref_t;
    const double alpha = fs_vrescale_alpha(ek, ekref, m->ndf, d->tau_t, d->dt, d->seed, step);
    const double work = ek - alpha * alpha * ek;
    gpu_kernel *k = m->k[K_SCALE_VELOCITIES];
    st = gpu_args(g, k, 6, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->flags), GPU_ARG_BUF(m->dsum), GPU_ARG_BUF(g->energy),
                  GPU_ARG(alpha), GPU_ARG(work));
    return st == FS_OK ? run(g, k, (size_t)g->natoms) : st;
}

static fs_status remove_com(gpu_backend *g, gpu_dynamics *m)
{
    gpu_kernel *kp = m->k[K_COM_MOMENTUM], *kr = m->k[K_COM_REMOVE], *kf = m->k[K_COM_FINISH];
    fs_status st =
        gpu_args(g, kp, 4, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(m->mass), GPU_ARG_BUF(g->flags), GPU_ARG_BUF(m->dsum));
    if (st == FS_OK) st = run(g, kp, (size_t)g->natoms);
    if (st == FS_OK)
        st = gpu_args(g, kr, 4, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->flags), GPU_ARG_BUF(m->dsum), GPU_ARG(m->mtot));
    if (st == FS_OK) st = run(g, kr, (size_t)g->natoms);
    if (st == FS_OK)
        st = gpu_args(g, kf, 4, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(m->dsum), GPU_ARG_BUF(g->energy), GPU_ARG(m->mtot));
    return st == FS_OK ? run(g, kf, 1) : st;
}

static fs_status one_step(gpu_backend *g, gpu_dynamics *m, unsigned eval_flags)
{
    const fs_dynamics *d = &m->d;
    const double dt = d->dt, h = 0.5 * dt;
    const uint64_t step = (uint64_t)g->step;
    gpu_kernel *k = m->k[K_KICK_FIRST];
    fs_status st =
        gpu_args(g, k, 8, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->force), GPU_ARG_BUF(m->r_old),
                 GPU_ARG_BUF(m->v_old), GPU_ARG_BUF(g->energy), GPU_ARG_BUF(g->flags), GPU_ARG(h));
    if (st == FS_OK) st = run(g, k, (size_t)(g->natoms > 9 ? g->natoms : 9));
    if (d->integrator == FS_INTEGRATOR_SD) {
        const double c = exp(-(1.0 / d->tau_t) * dt);
        const double s = sqrt((1.0 - c * c) * FS_BOLTZ * d->ref_t);
        const unsigned stream = FS_RNG_STREAM_SD;
        if (st == FS_OK) st = drift(g, m, h, 0);
        if (st == FS_OK) st = constrain_r(g, m, m->r_old, h, 1.0);
        if (st == FS_OK) st = constrain_v(g, m, h);
        if (st == FS_OK) st = kinetic_into(g, m, g->energy, GPU_E_THERMO_WORK, 1);
        k = m->k[K_LANGEVIN_O];
        if (st == FS_OK)
            st = gpu_args(g, k, 7, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->flags), GPU_ARG(c), GPU_ARG(s), GPU_ARG(d->seed),
                          GPU_ARG(step), GPU_ARG(stream));
        if (st == FS_OK) st = run(g, k, (size_t)g->natoms);
        if (st == FS_OK) st = constrain_v(g, m, dt);
        if (st == FS_OK) st = kinetic_into(g, m, g->energy, GPU_E_THERMO_WORK, -1);
        if (st == FS_OK) st = drift(g, m, h, 1);
        if (st == FS_OK) st = constrain_r(g, m, m->r_half, h, 1.0);
    } else {
        if (st == FS_OK) st = drift(g, m, dt, 0);
        if (st == FS_OK) st = constrain_r(g, m, m->r_old, dt, 2.0);
    }
    g->positions_step = g->step + 1;
    if (st == FS_OK) st = gpu_evaluate(g, eval_flags);
    g->positions_step = g->step;

    const double limit = 0.5 * g->p.verlet_buffer, limit2 = limit * limit;
    const int step_low = (int)((step + 1) & 0x7fffffff);
    k = m->k[K_CHECK];
    if (st == FS_OK)
        st = gpu_args(g, k, 6, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(m->r_old), GPU_ARG_BUF(g->force), GPU_ARG_BUF(g->flags),
                      GPU_ARG_BUF(m->dflags), GPU_ARG(limit2));
    if (st == FS_OK) st = run(g, k, (size_t)g->natoms);
    k = m->k[K_CHECK_FINISH];
    if (st == FS_OK)
        st = gpu_args(g, k, 6, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(m->r_old), GPU_ARG_BUF(g->flags),
                      GPU_ARG_BUF(m->dflags), GPU_ARG_BUF(m->derr), GPU_ARG(step_low));
    if (st == FS_OK) st = run(g, k, 1);

    k = m->k[K_KICK];
    if (st == FS_OK)
        st = gpu_args(g, k, 4, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(g->force), GPU_ARG_BUF(g->flags), GPU_ARG(h));
    if (st == FS_OK) st = run(g, k, (size_t)g->natoms);
    if (st == FS_OK) st = constrain_v(g, m, dt);
    if (st == FS_OK && d->integrator == FS_INTEGRATOR_MD && d->tcoupl == FS_TCOUPL_V_RESCALE) st = vrescale(g, m, step);
    if (st != FS_OK) return st;
    g->step++;
    g->positions_step = g->step;
    g->time += dt;
    if (d->comm_mode == FS_COMM_LINEAR && d->nstcomm > 0 && g->step % d->nstcomm == 0) st = remove_com(g, m);
    k = m->k[K_END_STEP];
    if (st == FS_OK) st = gpu_args(g, k, 2, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(m->dflags));
    return st == FS_OK ? run(g, k, 1) : st;
}

/* After an error flag: the message, the last good step back in place, the flags cleared. */
static fs_status recover(gpu_backend *g, gpu_dynamics *m, const int flags[GPU_FLAG_SLOTS], long step0, double time0)
{
    const gpu_api *api = g->api;
    int df[DYN_FLAGS];
    double derr = 0.0;
    fs_status st = api->read(g->dev, m->dflags, 0, sizeof df, df);
    if (st == FS_OK) st = api->read(g->dev, m->derr, 0, sizeof derr, &derr);
    if (st != FS_OK) return st;
    const long done = (long)((unsigned)df[DYN_F_STEPS] - m->steps_seen);
    const long failed = step0 + done + 1; /* 1-based number of the step that failed, as the CPU reports it */

    /* the last good step, as restore_last_good() */
    const size_t v4 = (size_t)g->padded * 4 * sizeof(double);
    st = api->copy(g->dev, g->pos, m->r_old, v4);
    if (st == FS_OK) st = api->copy(g->dev, g->vel, m->v_old, v4);
    const int zero[3] = {0, 0, 0};
    if (st == FS_OK) st = api->write(g->dev, g->flags, 0, sizeof zero, zero);
    if (st == FS_OK) st = reset_module_flags(g, m);
    g->forces_valid = 0;
    if (st == FS_OK) st = gpu_nonbonded_invalidate(g->nb);
    g->step = step0;
    g->time = time0;
    for (long k = 0; k < done; ++k) {
        g->step++;
        g->time += m->d.dt;
    }
    g->positions_step = g->step;
    if (st != FS_OK) return st;

    const int a = flags[GPU_F_ERROR_ATOM];
    const fs_topology *t = g->top;
    const fs_atom *at = a >= 0 && a < t->natoms ? &t->atoms[a] : NULL;
    const char *aname = at ? at->name : "?";
    const int mol = at ? at->molecule : -1;
    const char *mname = at && t->molecules ? t->molecules[mol].name : "?";
    switch (flags[GPU_F_ERROR]) {
    case GPU_ERR_MOVED:
        return fs_fail(FS_ERR_NUMERIC,
                       "blow-up at step %ld: atom %d (%s) of molecule %d (%s) moved %g nm in one step (limit: half "
                       "the pair-list buffer, %g nm)",
                       failed, a + 1, aname, mol + 1, mname, derr, 0.5 * g->p.verlet_buffer);
    case GPU_ERR_NONFINITE:
        return fs_fail(FS_ERR_NUMERIC, "non-finite force on atom %d (%s) of molecule %d (%s) at step %ld", a + 1, aname,
                       mol + 1, mname, failed - 1);
    case GPU_ERR_CONSTRAINT:
        return fs_fail(FS_ERR_NUMERIC,
                       "blow-up at step %ld: the constraints could not be satisfied at atom %d (%s) of molecule %d "
                       "(%s)",
                       failed, a + 1, aname, mol + 1, mname);
    default:
        return fs_fail(FS_ERR_NUMERIC, "blow-up at step %ld: device error %d at atom %d", failed, flags[GPU_F_ERROR],
                       a + 1);
    }
}

fs_status gpu_dynamics_step(gpu_backend *g, long nsteps)
{
    gpu_dynamics *m = g->dyn;
    if (!m || !m->have) return fs_fail(FS_ERR_INVALID, "step() before set_dynamics()");
    m->trial_active = 0;
    fs_status st = g->forces_valid ? FS_OK : gpu_evaluate(g, FS_COMPUTE_FORCES);
    const long step0 = g->step;
    const double time0 = g->time;
    const unsigned all = FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL;
    for (long k = 0; st == FS_OK && k < nsteps; ++k) st = one_step(g, m, k == nsteps - 1 ? all : FS_COMPUTE_FORCES);
    if (st != FS_OK || nsteps <= 0) return st;
    int flags[GPU_FLAG_SLOTS];
    st = gpu_read_flags(g, flags);
    if (st != FS_OK) return st;
    if (flags[GPU_F_ERROR] != GPU_ERR_NONE) return recover(g, m, flags, step0, time0);
    m->steps_seen += (unsigned)nsteps;
    return FS_OK;
}

/* ---- observables -------------------------------------------------------------------------------------------- */

fs_status gpu_dynamics_kinetic(gpu_backend *g, double ekin[3][3], double *thermostat_work)
{
    gpu_dynamics *m;
    fs_status st = ensure(g, &m);
    gpu_kernel *kz = m ? m->k[K_ZERO_SLOTS] : NULL, *kt = m ? m->k[K_KINETIC_TENSOR] : NULL;
    const int first = GPU_E_EKIN, count = 9;
    if (st == FS_OK) st = gpu_args(g, kz, 3, GPU_ARG_BUF(g->energy), GPU_ARG(first), GPU_ARG(count));
    if (st == FS_OK) st = run(g, kz, (size_t)count);
    if (st == FS_OK) st = gpu_args(g, kt, 3, GPU_ARG_BUF(g->vel), GPU_ARG_BUF(m->mass), GPU_ARG_BUF(g->energy));
    if (st == FS_OK) st = run(g, kt, (size_t)g->natoms);
    double slots[GPU_ENERGY_SLOTS];
    if (st == FS_OK) st = gpu_read_energy(g, slots);
    if (st != FS_OK) return st;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) ekin[a][b] = slots[GPU_E_EKIN + 3 * a + b];
    *thermostat_work = slots[GPU_E_THERMO_WORK];
    return FS_OK;
}

/* ---- barostat trials ---------------------------------------------------------------------------------------- */

fs_status gpu_dynamics_scale_trial(gpu_backend *g, const double s[3])
{
    gpu_dynamics *m;
    fs_status st = ensure(g, &m);
    if (st != FS_OK) return st;
    const gpu_api *api = g->api;
    const size_t v4 = (size_t)g->padded * 4 * sizeof(double), f3 = 3 * (size_t)g->padded * sizeof(long long),
                 e = GPU_ENERGY_SLOTS * sizeof(long long);
    if (!m->save_pos) st = gpu_alloc(g, v4, "barostat positions", &m->save_pos);
    if (st == FS_OK && !m->save_force) st = gpu_alloc(g, f3, "barostat forces", &m->save_force);
    if (st == FS_OK && !m->save_energy) st = gpu_alloc(g, e, "barostat energies", &m->save_energy);
    if (st == FS_OK) st = api->copy(g->dev, m->save_pos, g->pos, v4);
    if (st == FS_OK) st = api->copy(g->dev, m->save_force, g->force, f3);
    if (st == FS_OK) st = api->copy(g->dev, m->save_energy, g->energy, e);
    if (st != FS_OK) return st;
    memcpy(m->box_save, g->box, sizeof m->box_save);
    m->forces_valid_save = g->forces_valid;
    m->valid_flags_save = g->valid_flags;
    m->trial_active = 1;

    gpu_double4 box = {{g->box[0], g->box[1], g->box[2], 0.0}}, scale = {{s[0], s[1], s[2], 1.0}};
    gpu_kernel *k = m->k[K_SCALE_MOLECULES];
    st = gpu_args(g, k, 5, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(m->mass), GPU_ARG_BUF(m->mols), GPU_ARG(box),
                  GPU_ARG(scale));
    if (st == FS_OK) st = run(g, k, (size_t)g->top->nmolecules);
    for (int d = 0; d < 3; ++d) g->box[d] *= s[d];
    g->forces_valid = 0;
    fs_status st2 = gpu_nonbonded_invalidate(g->nb);
    return st != FS_OK ? st : st2;
}

fs_status gpu_dynamics_scale_revert(gpu_backend *g)
{
    gpu_dynamics *m = g->dyn;
    if (!m || !m->trial_active) return fs_fail(FS_ERR_INVALID, "scale_revert() without a scale_trial()");
    const gpu_api *api = g->api;
    const size_t v4 = (size_t)g->padded * 4 * sizeof(double), f3 = 3 * (size_t)g->padded * sizeof(long long),
                 e = GPU_ENERGY_SLOTS * sizeof(long long);
    fs_status st = api->copy(g->dev, g->pos, m->save_pos, v4);
    if (st == FS_OK) st = api->copy(g->dev, g->force, m->save_force, f3);
    if (st == FS_OK) st = api->copy(g->dev, g->energy, m->save_energy, e);
    if (st != FS_OK) return st;
    memcpy(g->box, m->box_save, sizeof g->box);
    g->forces_valid = m->forces_valid_save;
    g->valid_flags = m->valid_flags_save;
    m->trial_active = 0;
    return gpu_nonbonded_invalidate(g->nb);
}

/*
 * scheduler.c — the run loop: everything `ferrosolv run` does between reading the deck and the summary.
 *
 * Set-up: the system is read as grompp would (forcefields/gromacs_input.c), the starting positions are put on the
 * constraint surface, velocities are drawn (gen-vel) and projected, or everything is read back from the checkpoint
 * (--continue). A backend is created for the topology and receives the dynamics once.
 *
 * The loop advances the backend in chunks that end exactly at the next event — a trajectory frame, an observables
 * row, a thermo line, a barostat trial or a checkpoint — so per-atom data cross to the host only on output and
 * checkpoint steps (`step(n)` keeps everything in the backend). At an event step:
 *   barostat (every nstpcouple) → observables and thermo line (nstenergy, nstlog) → frame (nstxout, nstvout, nstfout:
 *   one H5MD frame holding every element the deck asked for) → checkpoint (nstcheckpoint, or checkpoint-minutes of
 *   wall time). The starting structure is written as a .gro beside the H5MD file (traj.h5md → traj.gro), the
 *   topology file MDAnalysis and VMD read the trajectory with.
 * Bit-exact continuation: every random number is keyed by (seed, step, atom), the CPU pair list gives the same sums
 * whenever it was built, and the checkpoint holds positions, velocities, box, step, time, the thermostat work, the
 * barostat's adapted step and the backend's history (the device pair list, whose cluster order and build positions
 * show in the last bits of the forces; backend.h save_history). `--continue` truncates the trajectory to the
 * checkpoint's step and carries on, so a run killed at any moment and continued writes the same trajectory, bit for
 * bit, as one that was never interrupted, on the CPU and on a device alike.
 *
 * Device failures (lost device, out of memory, a kernel error) and output errors during dynamics end the run with
 * the step it stopped after and the last checkpoint named (backend_failed); nothing more is written.
 *
 * Blow-up: when a step fails numerically, the backend is back at the last good step; its positions are written as a
 * final frame (and to confout) and the error, which names the step, atom and molecule, is returned.
 */
#include "scheduler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../forcefields/gromacs_input.h"
#include "../kernels/backend.h"
#include "../kernels/gpu/gpu_backend.h"
#include "barostat.h"
#include "constraints.h"
#include "integrate.h"
#include "io/checkpoint.h"
#include "io/gro.h"
#include "io/h5md.h"
#include "minimize.h"
#include "thermo.h"
#include "units.h"
#include "version.h"

#define NOBS_EXTRA 8

typedef struct {
    const fs_deck *d;
    const fs_run_options *opt;
    fs_topology *top;
    fs_state *s;
    const fs_backend_ops *ops;
    fs_backend *b;
    fs_constraints *cons;
    fs_h5md *h5;
    FILE *log;
    fs_thermo *thermo;
    fs_mc_barostat mc;
    int nmovers;
    double mass;
    long last_frame_step;
    double work_offset;      /* coupling work not seen by the backend: the checkpoint's, and the barostat's */
    long first_step;         /* where this invocation started */
    long last_cpt_step;      /* step of the last checkpoint written or read; -1: none */
    fs_ckpt_history history; /* read from the checkpoint, until the backend has it back */
    double last_cpt_wall;
    /* running statistics over thermo samples */
    int n;
    double sum_t, sum_rho, sum_p, sum_epot, sx, sy, sxx, sxy;
} run_ctx;

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const extra_names[NOBS_EXTRA] = {"potential_energy", "kinetic_energy", "total_energy",
                                                    "conserved_energy", "temperature",    "pressure",
                                                    "volume",           "density"};

static int multiple(long step, int n)
{
    return n > 0 && step % n == 0;
}

static fs_status open_h5md(run_ctx *c, long keep_until)
{
    const fs_deck *d = c->d;
    if (!d->out.h5md[0] || (d->out.nstxout <= 0 && d->out.nstvout <= 0 && d->out.nstfout <= 0 && d->out.nstenergy <= 0))
        return FS_OK;
    const char *names[FS_TERM_COUNT + NOBS_EXTRA];
    for (int t = 0; t < FS_TERM_COUNT; ++t) names[t] = fs_h5md_term_name(t);
    for (int k = 0; k < NOBS_EXTRA; ++k) names[FS_TERM_COUNT + k] = extra_names[k];
    fs_h5md_options o = fs_h5md_options_default();
    o.author = getenv("USER");
    o.creator_version = FS_VERSION;
    o.compression = d->out.compression;
    o.write_velocities = d->out.nstvout > 0;
    o.write_forces = d->out.nstfout > 0;
    o.nobservables = d->out.nstenergy > 0 ? FS_TERM_COUNT + NOBS_EXTRA : 0;
    o.observable_names = names;
    if (keep_until >= 0) return fs_h5md_append(d->out.h5md, c->top, c->s, &o, keep_until, &c->h5);
    /* the starting structure beside the trajectory, as the topology MDAnalysis and VMD load with it:
     * traj.h5md -> traj.gro */
    char gro[FS_DECK_PATH_MAX + 8];
    size_t len = strlen(d->out.h5md);
    const char *dot = strrchr(d->out.h5md, '.'), *slash = strrchr(d->out.h5md, '/');
    if (dot && (!slash || dot > slash)) len = (size_t)(dot - d->out.h5md);
    snprintf(gro, sizeof gro, "%.*s.gro", (int)len, d->out.h5md);
    fs_status st = fs_gro_write(gro, c->top->title, c->top, c->s, 0, 5);
    if (st != FS_OK) return st;
    return fs_h5md_create(d->out.h5md, c->top, c->s, &o, &c->h5);
}

static fs_status write_frame(run_ctx *c)
{
    if (!c->h5 || c->s->step == c->last_frame_step) return FS_OK;
    unsigned what = FS_SYNC_POSITIONS | FS_SYNC_BOX;
    if (c->d->out.nstvout > 0) what |= FS_SYNC_VELOCITIES;
    if (c->d->out.nstfout > 0) what |= FS_SYNC_FORCES;
    if (c->d->out.nstfout > 0) {
        fs_status st = c->ops->compute(c->b, FS_COMPUTE_FORCES, NULL);
        if (st != FS_OK) return st;
    }
    fs_status st = c->ops->download(c->b, c->s, what);
    if (st == FS_OK) st = fs_h5md_write_frame(c->h5, c->s);
    if (st == FS_OK) c->last_frame_step = c->s->step;
    return st;
}

static fs_status observe(run_ctx *c, long step, int to_h5md, int to_log)
{
    fs_observables o;
    fs_status st = c->ops->observe(c->b, &o);
    if (st != FS_OK) return st;
    o.thermostat_work += c->work_offset;
    fs_thermo_values v = fs_thermo_derive(&o, c->mass);
    if (to_h5md && c->h5) {
        double row[FS_TERM_COUNT + NOBS_EXTRA];
        for (int t = 0; t < FS_TERM_COUNT; ++t) row[t] = o.pot.term[t];
        double extra[NOBS_EXTRA] = {v.potential,   v.kinetic,  v.total,  v.conserved,
                                    v.temperature, v.pressure, v.volume, v.density * 1000.0 /* kg m-3 */};
        memcpy(row + FS_TERM_COUNT, extra, sizeof extra);
        st = fs_h5md_write_observables(c->h5, step, o.time, row);
        if (st != FS_OK) return st;
    }
    if (to_log) fs_thermo_line(c->thermo, &o, c->mass);
    /* the run's averages leave out the starting state (its pressure has no constraint virial yet) */
    if (to_log && step > c->first_step) {
        c->n++;
        c->sum_t += v.temperature;
        c->sum_rho += v.density;
        c->sum_p += v.pressure;
        c->sum_epot += v.potential;
        c->sx += o.time;
        c->sy += v.conserved;
        c->sxx += o.time * o.time;
        c->sxy += o.time * v.conserved;
    }
    return FS_OK;
}

static fs_status write_checkpoint(run_ctx *c)
{
    const fs_deck *d = c->d;
    if (!d->cpt.path[0] || (d->cpt.nstcheckpoint <= 0 && d->cpt.minutes <= 0)) return FS_OK;
    fs_observables o;
    fs_status st = c->ops->observe(c->b, &o);
    if (st == FS_OK) st = c->ops->download(c->b, c->s, FS_SYNC_ALL);
    if (st != FS_OK) return st;
    fs_ckpt_scalar sc[7] = {
        {.name = "thermostat_work", .type = FS_CKPT_DOUBLE, .d = o.thermostat_work + c->work_offset},
        {.name = "barostat_max_dv", .type = FS_CKPT_DOUBLE, .d = c->mc.max_dv},
        {.name = "barostat_attempts", .type = FS_CKPT_INT64, .i = c->mc.attempts},
        {.name = "barostat_accepted", .type = FS_CKPT_INT64, .i = c->mc.accepted},
        {.name = "barostat_window_attempts", .type = FS_CKPT_INT64, .i = c->mc.window_attempts},
        {.name = "barostat_window_accepted", .type = FS_CKPT_INT64, .i = c->mc.window_accepted},
        {.name = "ld_seed", .type = FS_CKPT_UINT64, .u = d->dyn.seed},
    };
    /* the backend's history (the device pair list), for a bit-exact continuation */
    fs_ckpt_history hist;
    memset(&hist, 0, sizeof hist);
    if (c->ops->save_history) {
        st = c->ops->save_history(c->b, &hist.data, &hist.bytes);
        if (st != FS_OK) return st;
        snprintf(hist.backend, sizeof hist.backend, "%s", c->ops->name);
    }
    st = fs_checkpoint_write_history(d->cpt.path, c->top, c->s, sc, 7, &hist);
    free(hist.data);
    c->last_cpt_wall = wall_now();
    if (st == FS_OK) c->last_cpt_step = c->s->step;
    return st;
}

/* At the end of a chunk: everything due at this step. */
static fs_status events(run_ctx *c, long step, int first)
{
    const fs_deck *d = c->d;
    fs_status st = FS_OK;
    if (!first && d->dyn.pcoupl != FS_PCOUPL_NO && multiple(step, d->dyn.nstpcouple)) {
        int acc;
        fs_observables before, after;
        st = c->ops->observe(c->b, &before);
        if (st == FS_OK) st = fs_mc_barostat_trial(&c->mc, c->b, &d->dyn, c->nmovers, &acc);
        if (st == FS_OK && acc) st = c->ops->observe(c->b, &after);
        /* an accepted volume move changes Epot at fixed kinetic energy: book it with the coupling work, so the
         * conserved energy reports integration errors only */
        if (st == FS_OK && acc)
            c->work_offset -= fs_energies_potential(&after.pot) - fs_energies_potential(&before.pot);
    }
    int energy = multiple(step, d->out.nstenergy), logline = multiple(step, d->out.nstlog) || step == d->nsteps;
    if (st == FS_OK && (energy || logline)) st = observe(c, step, energy, logline);
    if (st == FS_OK &&
        (multiple(step, d->out.nstxout) || multiple(step, d->out.nstvout) || multiple(step, d->out.nstfout)))
        st = write_frame(c);
    int cpt = !first && (multiple(step, d->cpt.nstcheckpoint) ||
                         (d->cpt.minutes > 0 && wall_now() - c->last_cpt_wall >= 60.0 * d->cpt.minutes));
    if (st == FS_OK && cpt) st = write_checkpoint(c);
    return st;
}

static long next_event(const run_ctx *c, long step)
{
    const fs_deck *d = c->d;
    long next = d->nsteps;
    int every[6] = {d->out.nstxout,   d->out.nstvout, d->out.nstfout,
                    d->out.nstenergy, d->out.nstlog,  d->cpt.nstcheckpoint};
    for (int k = 0; k < 6; ++k)
        if (every[k] > 0) next = fmin(next, (step / every[k] + 1) * every[k]);
    if (d->dyn.pcoupl != FS_PCOUPL_NO && d->dyn.nstpcouple > 0)
        next = fmin(next, (step / d->dyn.nstpcouple + 1) * d->dyn.nstpcouple);
    /* short enough chunks for the progress bar and time-based checkpoints */
    long cap = 100;
    if (next - step > cap) next = step + cap;
    return next;
}

/* Draws or reads the starting velocities and projects positions and velocities onto the constraints. */
static fs_status prepare_start(run_ctx *c)
{
    const fs_deck *d = c->d;
    fs_state *s = c->s;
    int n = s->natoms;
    fs_status st = fs_constrain_positions(c->cons, &s->box, s->r, s->r, NULL, 1.0, NULL);
    if (st != FS_OK)
        return fs_fail_context(st, "%s: the starting positions cannot satisfy the constraints", d->input.conf);
    if (d->gen_vel) {
        double *invmass = malloc((size_t)(n > 0 ? n : 1) * sizeof *invmass);
        if (!invmass) return fs_fail(FS_ERR_NOMEM, "out of memory");
        for (int i = 0; i < n; ++i)
            invmass[i] = c->top->atoms[i].frozen || c->top->atoms[i].mass <= 0 ? 0.0 : 1.0 / c->top->atoms[i].mass;
        fs_maxwell_velocities(n, s->v, invmass, d->gen_temp, d->gen_seed.value);
        free(invmass);
    }
    st = fs_constrain_velocities(c->cons, &s->box, s->r, s->v, d->dyn.dt, NULL);
    if (st == FS_OK && d->dyn.comm_mode == FS_COMM_LINEAR) {
        double *mass = malloc((size_t)(n > 0 ? n : 1) * sizeof *mass);
        unsigned char *frozen = malloc((size_t)(n > 0 ? n : 1));
        if (!mass || !frozen) {
            free(mass);
            free(frozen);
            return fs_fail(FS_ERR_NOMEM, "out of memory");
        }
        for (int i = 0; i < n; ++i) {
            mass[i] = c->top->atoms[i].mass;
            frozen[i] = c->top->atoms[i].frozen;
        }
        fs_remove_com_velocity(n, s->v, mass, frozen);
        free(mass);
        free(frozen);
    }
    s->step = 0;
    s->time = d->tinit;
    return st;
}

static fs_status read_checkpoint(run_ctx *c)
{
    fs_ckpt_scalar sc[6] = {{.name = "thermostat_work", .type = FS_CKPT_DOUBLE},
                            {.name = "barostat_max_dv", .type = FS_CKPT_DOUBLE},
                            {.name = "barostat_attempts", .type = FS_CKPT_INT64},
                            {.name = "barostat_accepted", .type = FS_CKPT_INT64},
                            {.name = "barostat_window_attempts", .type = FS_CKPT_INT64},
                            {.name = "barostat_window_accepted", .type = FS_CKPT_INT64}};
    fs_state *s = NULL;
    fs_status st = fs_checkpoint_read_history(c->d->cpt.path, c->top, &s, sc, 6, &c->history);
    if (st != FS_OK) return st;
    fs_state_destroy(&c->s);
    c->s = s;
    c->work_offset = sc[0].d;
    c->mc.max_dv = sc[1].d;
    c->mc.attempts = sc[2].i;
    c->mc.accepted = sc[3].i;
    c->mc.window_attempts = sc[4].i;
    c->mc.window_accepted = sc[5].i;
    c->last_cpt_step = s->step;
    return FS_OK;
}

static int min_progress(void *ctx, const fs_minimize_result *r)
{
    run_ctx *c = ctx;
    if (c->d->out.nstlog > 0 && r->steps % c->d->out.nstlog == 0) {
        char line[200];
        snprintf(line, sizeof line, "minimize %6ld  Epot %16.6f kJ/mol  Fmax %12.4f (atom %d)\n", r->steps, r->epot,
                 r->fmax, r->fmax_atom + 1);
        fputs(line, stdout);
        if (c->log) fputs(line, c->log);
    }
    return 0;
}

static fs_status run_minimization(run_ctx *c, fs_run_summary *sum)
{
    const fs_deck *d = c->d;
    fs_minimize_params p = {d->emtol, d->emstep, d->nsteps > 0 ? d->nsteps : 5000};
    fs_minimize_result r;
    fs_status st = fs_minimize(c->b, c->top, c->s, c->cons, &p, min_progress, c, &r);
    if (st != FS_OK) return st;
    printf("steepest descent %s after %ld evaluations: Epot %.6f kJ/mol, Fmax %.4f kJ mol^-1 nm^-1 on atom %d\n",
           r.converged ? "converged" : "did NOT converge", r.steps, r.epot, r.fmax, r.fmax_atom + 1);
    sum->minimized = 1;
    sum->final_fmax = r.fmax;
    sum->converged = r.converged;
    sum->mean_potential = r.epot;
    sum->last_step = r.steps;
    if (d->out.confout[0]) st = fs_gro_write(d->out.confout, c->top->title, c->top, c->s, 0, 5);
    return st;
}

/* A failure of the backend or of an output during dynamics (device lost, out of memory, a kernel error, a full
 * disk): nothing more is written, and the message says where the run stopped and what it left to continue from. */
static fs_status backend_failed(run_ctx *c, fs_status st, long step)
{
    char msg[2048], where[FS_DECK_PATH_MAX + 200];
    snprintf(msg, sizeof msg, "%s", fs_error_message());
    const fs_deck *d = c->d;
    if (c->last_cpt_step >= 0)
        snprintf(where, sizeof where,
                 "the last checkpoint, %s at step %ld, is intact: run the deck again with --continue to resume "
                 "from it",
                 d->cpt.path, c->last_cpt_step);
    else
        snprintf(where, sizeof where, "no checkpoint was written yet%s",
                 d->cpt.path[0] ? "" : " (the deck sets no checkpoint file)");
    return fs_fail(st, "the run stopped after step %ld (%s backend): %s; %s", step, c->ops->name, msg, where);
}

static fs_status run_dynamics(run_ctx *c, fs_run_summary *sum)
{
    const fs_deck *d = c->d;
    fs_status st = c->ops->set_dynamics(c->b, &d->dyn);
    if (st == FS_OK) st = c->ops->upload(c->b, c->s);
    /* a history written by the same backend: the continuation is then the uninterrupted run, bit for bit (from
     * another backend's checkpoint the run continues as well, though not bit-identically) */
    if (st == FS_OK && c->history.bytes > 0 && c->ops->restore_history && !strcmp(c->history.backend, c->ops->name)) {
        st = c->ops->restore_history(c->b, c->history.data, c->history.bytes);
        if (st != FS_OK) fs_fail_context(st, "%s: restoring the %s backend's history", d->cpt.path, c->ops->name);
    }
    if (st == FS_OK) st = open_h5md(c, c->opt->continue_run ? c->s->step : -1);
    if (st != FS_OK) return st;
    if (!c->opt->continue_run) fs_mc_barostat_init(&c->mc, fs_box_volume(&c->s->box)); /* else: from the checkpoint */
    c->nmovers = fs_mc_barostat_movers(c->top);
    long step = c->s->step, first = step;
    c->first_step = first;
    c->last_frame_step = c->opt->continue_run ? step : -1;
    st = st == FS_OK ? fs_thermo_create(c->log, first, d->nsteps, d->dyn.dt, &c->thermo) : st;
    if (st == FS_OK && !c->opt->continue_run) st = events(c, step, 1);
    long stop = c->opt->stop_after_steps > 0 ? first + c->opt->stop_after_steps : -1;
    while (st == FS_OK && step < d->nsteps) {
        long next = next_event(c, step);
        if (stop >= 0 && next > stop) next = stop;
        st = c->ops->step(c->b, next - step);
        if (st != FS_OK) break;
        step = next;
        c->s->step = step;
        st = events(c, step, 0);
        fs_thermo_progress(c->thermo, step);
        if (step == stop) break;
    }
    if (st == FS_ERR_NUMERIC) {
        /* the backend is back at the last good step: keep that frame, then report */
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", fs_error_message());
        if (c->ops->download(c->b, c->s, FS_SYNC_POSITIONS | FS_SYNC_VELOCITIES | FS_SYNC_BOX) == FS_OK) {
            write_frame(c);
            if (d->out.confout[0]) fs_gro_write(d->out.confout, c->top->title, c->top, c->s, 1, 5);
        }
        fs_fail(FS_ERR_NUMERIC, "%s; the last good frame (step %ld) was written", msg, c->s->step);
        return FS_ERR_NUMERIC;
    }
    if (st != FS_OK) return backend_failed(c, st, step);
    sum->first_step = first;
    sum->last_step = step;
    sum->ns_per_day = fs_thermo_ns_per_day(c->thermo, step);
    if (stop >= 0 && step == stop && step < d->nsteps) return FS_OK; /* stopped as if killed: no final files */
    st = c->ops->download(c->b, c->s, FS_SYNC_ALL);
    if (st == FS_OK && d->out.confout[0]) st = fs_gro_write(d->out.confout, c->top->title, c->top, c->s, 1, 5);
    if (st == FS_OK) st = write_checkpoint(c);
    return st;
}

fs_status fs_run(const fs_deck *d, const fs_run_options *opt, fs_run_summary *sum)
{
    fs_run_options defaults = {0, NULL, 0, NULL};
    if (!opt) opt = &defaults;
    memset(sum, 0, sizeof *sum);
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.last_cpt_step = -1;
    c.d = d;
    c.opt = opt;
    double t0 = wall_now();
    c.last_cpt_wall = t0;

    char storage[FS_DECK_PATH_MAX];
    const char *dirs[64];
    int ndirs = fs_deck_includes(d, storage, dirs, 64);
    fs_status st = fs_gromacs_load(d->input.top, d->input.conf, &d->mdp, dirs, ndirs, &c.top, &c.s);
    if (st == FS_OK && opt->backend_ops)
        c.ops = opt->backend_ops;
    else if (st == FS_OK)
        st = fs_backend_select(opt->backend, &c.ops);
    if (st == FS_OK) st = fs_constraints_create(c.top, d->dyn.shake_tol, &c.cons);
    if (st == FS_OK) st = opt->continue_run ? read_checkpoint(&c) : prepare_start(&c);
    if (st == FS_OK) st = c.ops->create(c.top, &d->mdp.force, &c.b);
    if (st == FS_OK && d->out.log[0]) {
        c.log = fopen(d->out.log, opt->continue_run ? "a" : "w");
        if (!c.log) st = fs_fail(FS_ERR_IO, "%s: cannot write the log", d->out.log);
    }
    if (st == FS_OK && c.log) fs_deck_write(c.log, d);
    if (st == FS_OK) {
        /* which backend and device run this, where the user and the log can see it */
        const char *dev = fs_gpu_backend_device(c.b);
        char line[400];
        snprintf(line, sizeof line, "backend: %s\n", dev ? dev : "cpu (double-precision reference)");
        fputs(line, stdout);
        if (c.log) fputs(line, c.log);
    }
    if (st == FS_OK) {
        c.mass = fs_topology_total_mass(c.top);
        if (d->integrator == FS_DECK_STEEP)
            st = run_minimization(&c, sum);
        else
            st = run_dynamics(&c, sum);
    }
    if (c.n > 0) {
        sum->samples = c.n;
        sum->mean_temperature = c.sum_t / c.n;
        sum->mean_density = c.sum_rho / c.n;
        sum->mean_pressure = c.sum_p / c.n;
        sum->mean_potential = c.sum_epot / c.n;
        double den = c.n * c.sxx - c.sx * c.sx;
        sum->drift_per_ns = c.n > 1 && den > 0 ? (c.n * c.sxy - c.sx * c.sy) / den * 1000.0 : 0.0;
        int ndf = fs_degrees_of_freedom(c.top, d->dyn.comm_mode);
        double kt = FS_BOLTZ * (d->dyn.ref_t > 0 ? d->dyn.ref_t : 300.0);
        sum->drift_kt_per_ns_per_dof = ndf > 0 ? sum->drift_per_ns / (kt * ndf) : 0.0;
    }
    sum->wall_seconds = wall_now() - t0;
    fs_thermo_destroy(&c.thermo);
    if (c.h5) {
        fs_status cs = fs_h5md_close(&c.h5);
        if (st == FS_OK) st = cs;
    }
    if (c.log) fclose(c.log);
    free(c.history.data);
    if (c.b) c.ops->destroy(&c.b);
    fs_constraints_destroy(&c.cons);
    fs_state_destroy(&c.s);
    fs_topology_destroy(&c.top);
    return st;
}

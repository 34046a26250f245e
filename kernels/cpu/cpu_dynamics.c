/*
 * cpu_dynamics.c — integration steps of the CPU reference backend.
 *
 * One step of `integrator = md` (velocity Verlet, with Bussi's v-rescale when tcoupl = v-rescale):
 *   v += dt/2 F/m;  r_old = r;  r += dt v;  constrain r (SETTLE/SHAKE, v corrected by the displacement / dt);
 *   F = F(r);  v += dt/2 F/m;  constrain v (RATTLE);  v *= alpha (Bussi, on the full-step kinetic energy);
 *   every nstcomm steps remove the centre-of-mass velocity.
 * One step of `integrator = sd` (Langevin BAOAB, Leimkuhler & Matthews 2013):
 *   B: v += dt/2 F/m;  A: r += dt/2 v, constrain r (v corrected by the displacement) and v;  O: v = c v +
 *   sqrt((1 - c^2) kT/m) xi, c = exp(-dt/tau_t), projected onto the constraints;  A: r += dt/2 v, constrain r
 *   (v corrected);  F = F(r);  B: v += dt/2 F/m;  constrain v. Constraining after each A keeps the O step at
 *   positions on the constraint surface, where the projection of the noise is exact and the kinetic energy the O
 *   step exchanges is precisely the thermostat's work (constrained BAOAB, Leimkuhler & Matthews, Proc. R. Soc. A
 *   472, 20160138 (2016)).
 * The random numbers are Philox draws keyed by (ld-seed, step, atom) (core/rng.h), so a run continued from a
 * checkpoint draws exactly what the uninterrupted run drew.
 *
 * Energy bookkeeping: the work the thermostat does on the system (the kinetic energy it removes) is accumulated in
 * thermostat_work, so Epot + Ekin + thermostat_work is conserved up to the integration error (GROMACS's
 * "Conserved En."); the kinetic energy taken away by COM-motion removal is booked there too. The constraint virial
 * comes from the position constraints, which carry the whole constraint force (the centripetal part included): a
 * drift of length h that ends with a constraint displacement dr implies the force G = 2 m dr / h^2 (dr = G/m h^2/2),
 * twice the m dr / h^2 convention of core/constraints.h. Velocity Verlet has one such drift (h = dt): its virial is
 * doubled. BAOAB has two (h = dt/2 each): their sum is the average of the two doubled estimates. The velocity
 * (RATTLE) corrections only remove the components along the bonds and are not counted.
 *
 * Blow-up: if an atom moves more than half the pair-list buffer in one step (the list would miss pairs) or a force
 * is not finite, the step fails with FS_ERR_NUMERIC naming the step, the atom and its molecule, and the positions
 * and velocities are put back to the last good step so the caller can write that frame.
 *
 * Barostat trials (scale_trial/scale_revert) move molecules rigidly by their centre of mass (minimum-image
 * reconstructed so molecules split across the box move as one; an atom stored in another image than its molecule's
 * first atom, n box edges away, moves by n (s - 1) L more, so that it stays in that image of the new box) and keep
 * the previous positions, forces and energies to restore them bit for bit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/integrate.h"
#include "../../core/units.h"
#include "cpu_backend_impl.h"

static void free3(double *a[3])
{
    for (int d = 0; d < 3; ++d) {
        free(a[d]);
        a[d] = NULL;
    }
}

static int alloc3(double *a[3], int n)
{
    for (int d = 0; d < 3; ++d)
        if (!a[d] && !(a[d] = calloc((size_t)(n > 0 ? n : 1), sizeof(double)))) return 0;
    return 1;
}

void fs_cpu_dynamics_free(cpu_backend *c)
{
    fs_constraints_destroy(&c->cons);
    free(c->frozen);
    c->frozen = NULL;
    free3(c->r_old);
    free3(c->r_half);
    free3(c->v_old);
    free3(c->r_save);
    free3(c->f_save);
}

fs_status fs_cpu_set_dynamics(fs_backend *b, const fs_dynamics *d)
{
    cpu_backend *c = (cpu_backend *)b;
    if (!(d->dt > 0.0)) return fs_fail(FS_ERR_INVALID, "dt must be positive, got %g", d->dt);
    if ((d->integrator == FS_INTEGRATOR_SD || d->tcoupl == FS_TCOUPL_V_RESCALE) && !(d->tau_t > 0.0 && d->ref_t >= 0))
        return fs_fail(FS_ERR_INVALID, "tau-t must be positive and ref-t non-negative (got %g ps, %g K)", d->tau_t,
                       d->ref_t);
    int n = c->top->natoms;
    if (!c->frozen && (c->frozen = malloc((size_t)(n > 0 ? n : 1))))
        for (int i = 0; i < n; ++i) c->frozen[i] = c->invmass[i] == 0.0;
    if (!c->frozen || !alloc3(c->r_old, n) || !alloc3(c->v_old, n) || !alloc3(c->r_half, n))
        return fs_fail(FS_ERR_NOMEM, "out of memory for the integrator of %d atoms", n);
    fs_constraints_destroy(&c->cons);
    fs_status st = fs_constraints_create(c->top, d->shake_tol, &c->cons);
    if (st != FS_OK) return st;
    c->dyn = *d;
    c->ndf = fs_degrees_of_freedom(c->top, d->comm_mode);
    c->have_dynamics = 1;
    for (int i = 0; i < n; ++i)
        if (c->invmass[i] == 0.0) c->state->v[0][i] = c->state->v[1][i] = c->state->v[2][i] = 0.0;
    return FS_OK;
}

static double kinetic(const cpu_backend *c)
{
    double ek[3][3];
    fs_kinetic_tensor(c->top->natoms, c->state->v, c->mass, ek);
    return ek[0][0] + ek[1][1] + ek[2][2];
}

/* Largest displacement r - r_old this step; reports the atom. */
static fs_status check_moves(cpu_backend *c)
{
    double limit = 0.5 * c->p.verlet_buffer, worst = 0.0;
    int iw = -1;
    for (int i = 0; i < c->top->natoms; ++i) {
        double d2 = 0.0;
        for (int d = 0; d < 3; ++d) {
            double x = c->state->r[d][i] - c->r_old[d][i];
            d2 += x * x;
        }
        if (!(d2 <= worst)) { /* catches NaN too */
            worst = d2;
            iw = i;
        }
    }
    if (iw >= 0 && !(sqrt(worst) <= limit)) {
        const fs_atom *a = &c->top->atoms[iw];
        return fs_fail(FS_ERR_NUMERIC,
                       "blow-up at step %ld: atom %d (%s) of molecule %d (%s) moved %g nm in one step (limit: half "
                       "the pair-list buffer, %g nm)",
                       c->state->step + 1, iw + 1, a->name, a->molecule + 1, c->top->molecules[a->molecule].name,
                       sqrt(worst), limit);
    }
    return FS_OK;
}

static void restore_last_good(cpu_backend *c)
{
    size_t bytes = (size_t)c->top->natoms * sizeof(double);
    for (int d = 0; d < 3; ++d) {
        memcpy(c->state->r[d], c->r_old[d], bytes);
        memcpy(c->state->v[d], c->v_old[d], bytes);
    }
    c->forces_valid = 0;
    c->nl_valid = 0;
}

static fs_status one_step(cpu_backend *c)
{
    fs_state *s = c->state;
    const fs_dynamics *d = &c->dyn;
    int n = s->natoms;
    size_t bytes = (size_t)n * sizeof(double);
    double dt = d->dt;
    uint64_t step = (uint64_t)s->step;
    memset(c->cons_virial, 0, sizeof c->cons_virial);
    for (int k = 0; k < 3; ++k) {
        memcpy(c->r_old[k], s->r[k], bytes);
        memcpy(c->v_old[k], s->v[k], bytes);
    }

    fs_kick(n, s->v, s->f, c->invmass, 0.5 * dt);
    fs_status st = FS_OK;
    if (d->integrator == FS_INTEGRATOR_SD) {
        /* A, with the positions put back on the constraints (velocities corrected by the displacement) */
        fs_drift(n, s->r, s->v, 0.5 * dt);
        st = fs_constrain_positions(c->cons, &s->box, c->r_old, s->r, s->v, 0.5 * dt, c->cons_virial);
        /* O, at positions that satisfy the constraints: the noise is projected onto the constraint surface, and
         * the kinetic energy it changes is the thermostat's work */
        if (st == FS_OK) st = fs_constrain_velocities(c->cons, &s->box, s->r, s->v, 0.5 * dt, NULL);
        double ek0 = kinetic(c);
        if (st == FS_OK) {
            fs_langevin_o(n, s->v, c->invmass, d->ref_t, 1.0 / d->tau_t, dt, d->seed, step);
            st = fs_constrain_velocities(c->cons, &s->box, s->r, s->v, dt, NULL);
        }
        c->thermostat_work += ek0 - kinetic(c);
        /* A again, from the half-step positions */
        for (int k = 0; st == FS_OK && k < 3; ++k) memcpy(c->r_half[k], s->r[k], bytes);
        fs_drift(n, s->r, s->v, 0.5 * dt);
        if (st == FS_OK) st = fs_constrain_positions(c->cons, &s->box, c->r_half, s->r, s->v, 0.5 * dt, c->cons_virial);
    } else {
        fs_drift(n, s->r, s->v, dt);
        st = fs_constrain_positions(c->cons, &s->box, c->r_old, s->r, s->v, dt, c->cons_virial);
        for (int x = 0; x < 3; ++x)
            for (int y = 0; y < 3; ++y) c->cons_virial[x][y] *= 2.0;
    }
    if (st != FS_OK) st = fs_fail_context(st, "blow-up at step %ld", s->step + 1);
    if (st == FS_OK) st = check_moves(c);
    c->forces_valid = 0;
    if (st == FS_OK) st = fs_cpu_evaluate(c);
    if (st != FS_OK) {
        restore_last_good(c);
        return st;
    }
    fs_kick(n, s->v, s->f, c->invmass, 0.5 * dt);
    st = fs_constrain_velocities(c->cons, &s->box, s->r, s->v, dt, NULL);
    if (st != FS_OK) {
        st = fs_fail_context(st, "blow-up at step %ld", s->step + 1);
        restore_last_good(c);
        return st;
    }
    if (d->integrator == FS_INTEGRATOR_MD && d->tcoupl == FS_TCOUPL_V_RESCALE) {
        double ek = kinetic(c);
        double ekref = 0.5 * c->ndf * FS_BOLTZ * d->ref_t;
        double alpha = fs_vrescale_alpha(ek, ekref, c->ndf, d->tau_t, dt, d->seed, step);
        for (int k = 0; k < 3; ++k)
            for (int i = 0; i < n; ++i) s->v[k][i] *= alpha;
        c->thermostat_work += ek - alpha * alpha * ek;
    }
    s->step++;
    s->time += dt;
    if (d->comm_mode == FS_COMM_LINEAR && d->nstcomm > 0 && s->step % d->nstcomm == 0) {
        double ek0 = kinetic(c);
        fs_remove_com_velocity(n, s->v, c->mass, c->frozen);
        c->thermostat_work += ek0 - kinetic(c); /* the kinetic energy of the removed COM motion */
    }
    return FS_OK;
}

fs_status fs_cpu_step(fs_backend *b, long nsteps)
{
    cpu_backend *c = (cpu_backend *)b;
    if (!c->have_dynamics) return fs_fail(FS_ERR_INVALID, "step() before set_dynamics()");
    c->trial_active = 0;
    fs_status st = c->forces_valid ? FS_OK : fs_cpu_evaluate(c);
    for (long k = 0; st == FS_OK && k < nsteps; ++k) st = one_step(c);
    return st;
}

fs_status fs_cpu_observe(fs_backend *b, fs_observables *out)
{
    cpu_backend *c = (cpu_backend *)b;
    fs_status st = c->forces_valid ? FS_OK : fs_cpu_evaluate(c);
    if (st != FS_OK) return st;
    memset(out, 0, sizeof *out);
    out->pot = c->last;
    for (int x = 0; x < 3; ++x)
        for (int y = 0; y < 3; ++y) out->pot.virial[x][y] += c->cons_virial[x][y];
    fs_kinetic_tensor(c->top->natoms, c->state->v, c->mass, out->ekin);
    out->thermostat_work = c->thermostat_work;
    out->ndf = c->have_dynamics ? c->ndf : fs_degrees_of_freedom(c->top, FS_COMM_LINEAR);
    out->box = c->state->box;
    out->step = c->state->step;
    out->time = c->state->time;
    return FS_OK;
}

fs_status fs_cpu_scale_trial(fs_backend *b, const double s[3])
{
    cpu_backend *c = (cpu_backend *)b;
    const fs_topology *t = c->top;
    fs_state *st = c->state;
    int n = t->natoms;
    size_t bytes = (size_t)n * sizeof(double);
    if (!alloc3(c->r_save, n) || !alloc3(c->f_save, n))
        return fs_fail(FS_ERR_NOMEM, "out of memory for a barostat trial of %d atoms", n);
    for (int d = 0; d < 3; ++d) {
        memcpy(c->r_save[d], st->r[d], bytes);
        memcpy(c->f_save[d], st->f[d], bytes);
    }
    c->box_save = st->box;
    c->e_save = c->last;
    c->forces_valid_save = c->forces_valid;
    c->trial_active = 1;
    for (int m = 0; m < t->nmolecules; ++m) {
        const fs_molecule *mol = &t->molecules[m];
        int i0 = mol->first_atom, frozen = 0;
        double com[3] = {0, 0, 0}, mtot = 0.0;
        for (int i = i0; i < i0 + mol->natoms; ++i) {
            frozen |= t->atoms[i].frozen;
            double dx[3];
            for (int d = 0; d < 3; ++d) dx[d] = st->r[d][i] - st->r[d][i0];
            fs_box_min_image(&st->box, dx);
            for (int d = 0; d < 3; ++d) com[d] += c->mass[i] * (st->r[d][i0] + dx[d]);
            mtot += c->mass[i];
        }
        if (frozen || mtot <= 0.0) continue;
        for (int d = 0; d < 3; ++d) {
            /* an atom stored in another periodic image than the first atom (a molecule split across the boundary)
             * keeps that image of the new box: it moves by the shift plus image * (s - 1) * L */
            double shift = (s[d] - 1.0) * com[d] / mtot, x0 = st->r[d][i0], len = st->box.len[d];
            for (int i = i0; i < i0 + mol->natoms; ++i) {
                double image = st->box.periodic[d] ? nearbyint((st->r[d][i] - x0) / len) : 0.0;
                st->r[d][i] += shift + image * (s[d] - 1.0) * len;
            }
        }
    }
    for (int d = 0; d < 3; ++d) st->box.len[d] *= s[d];
    c->forces_valid = 0;
    return FS_OK;
}

fs_status fs_cpu_scale_revert(fs_backend *b)
{
    cpu_backend *c = (cpu_backend *)b;
    if (!c->trial_active) return fs_fail(FS_ERR_INVALID, "scale_revert() without a scale_trial()");
    size_t bytes = (size_t)c->top->natoms * sizeof(double);
    for (int d = 0; d < 3; ++d) {
        memcpy(c->state->r[d], c->r_save[d], bytes);
        memcpy(c->state->f[d], c->f_save[d], bytes);
    }
    c->state->box = c->box_save;
    c->last = c->e_save;
    c->forces_valid = c->forces_valid_save;
    c->nl_valid = 0;
    c->trial_active = 0;
    return FS_OK;
}

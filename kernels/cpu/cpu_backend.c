/*
 * cpu_backend.c — the CPU reference backend: double precision, every term computed by the plainest correct method.
 *
 * This file only assembles the force terms behind the fs_backend_ops table; each term lives in its own module:
 *   nblist.c     Verlet pair list from a cell list (rebuilt when an atom moved more than half the buffer)
 *   nonbonded.c  LJ 12-6 and Ewald real-space Coulomb (with exclusion corrections and the self term), 1-4 pairs
 *   pme.c        smooth PME reciprocal space (coulombtype = PME)
 *   ewald.c      plain Ewald reciprocal sum (coulombtype = Ewald)
 *   bonded.c     bonds, angles, Urey-Bradley, dihedrals
 *   core/dispcorr.c  long-range dispersion correction
 * plus, for a system with net charge Q, the energy of the neutralizing background Ewald implies
 * (-pi f Q^2 / (2 V beta^2), reported in "Coul. recip." as GROMACS does).
 * One force evaluation zeroes an accumulator, lets every module add into it, and copies the result out. The
 * Ewald splitting parameter and PME grid come from core/ewald_setup.c, shared with every backend; the PME grid is
 * planned on the first evaluation and again whenever the box changes the grid size.
 *
 * Without any charge the reciprocal-space sum is identically zero and is skipped (no PME grid is planned).
 * Forces and energies of the current positions are cached (forces_valid) until positions change, so compute()
 * after step() or a barostat trial costs nothing. Integration steps, observables and barostat scaling are in
 * cpu_dynamics.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/ewald_setup.h"
#include "../../core/units.h"
#include "accum.h"
#include "bonded.h"
#include "cpu_backend_impl.h"
#include "ewald.h"
#include "nonbonded.h"

static fs_status cpu_probe(void)
{
    return FS_OK;
}

static void cpu_destroy(fs_backend **b)
{
    if (!b || !*b) return;
    cpu_backend *c = (cpu_backend *)*b;
    fs_state_destroy(&c->state);
    fs_nblist_destroy(&c->nl);
    fs_pme_destroy(&c->pme);
    fs_cpu_dynamics_free(c);
    free(c->q);
    free(c->mass);
    free(c->invmass);
    free(c);
    *b = NULL;
}

static fs_status cpu_create(const fs_topology *top, const fs_forceparams *p, fs_backend **out)
{
    *out = NULL;
    if (p->rcoulomb <= 0 || p->rvdw <= 0 || p->verlet_buffer < 0)
        return fs_fail(FS_ERR_INVALID, "cut-offs must be positive (rcoulomb %g, rvdw %g, buffer %g)", p->rcoulomb,
                       p->rvdw, p->verlet_buffer);
    if (p->pme_order < 3 || p->pme_order > 12)
        return fs_fail(FS_ERR_INVALID, "pme-order %d is outside 3..12", p->pme_order);
    cpu_backend *c = calloc(1, sizeof *c);
    if (!c) return fs_fail(FS_ERR_NOMEM, "out of memory creating the CPU backend");
    c->base.ops = &fs_cpu_backend;
    c->top = top;
    c->p = *p;
    c->beta = fs_ewald_beta(p->rcoulomb, p->ewald_rtol);
    if (!isfinite(c->beta) || c->beta <= 0.0) {
        free(c);
        return fs_fail(FS_ERR_INVALID, "no Ewald splitting parameter for rcoulomb %g and ewald-rtol %g", p->rcoulomb,
                       p->ewald_rtol);
    }
    c->rlist = fmax(p->rcoulomb, p->rvdw) + p->verlet_buffer;
    size_t nbytes = (size_t)(top->natoms > 0 ? top->natoms : 1) * sizeof(double);
    c->q = malloc(nbytes);
    c->mass = malloc(nbytes);
    c->invmass = malloc(nbytes);
    fs_status st =
        c->q && c->mass && c->invmass ? FS_OK : fs_fail(FS_ERR_NOMEM, "out of memory for %d atoms", top->natoms);
    if (st == FS_OK) {
        for (int i = 0; i < top->natoms; ++i) {
            const fs_atom *a = &top->atoms[i];
            c->q[i] = a->charge;
            c->mass[i] = a->mass;
            c->invmass[i] = a->frozen || a->mass <= 0.0 ? 0.0 : 1.0 / a->mass;
            c->charged |= a->charge != 0.0;
        }
        c->qsum = fs_topology_total_charge(top);
        st = fs_state_create(top->natoms, top->natoms, &c->state);
    }
    if (st == FS_OK) st = fs_nblist_create(top->natoms, &c->nl);
    if (st == FS_OK) st = fs_dispcorr_prepare(top, &c->dc);
    if (st != FS_OK) {
        fs_backend *b = &c->base;
        cpu_destroy(&b);
        return st;
    }
    *out = &c->base;
    return FS_OK;
}

static fs_status cpu_upload(fs_backend *b, const fs_state *s)
{
    cpu_backend *c = (cpu_backend *)b;
    if (s->natoms != c->top->natoms)
        return fs_fail(FS_ERR_INVALID, "state has %d atoms, topology %d", s->natoms, c->top->natoms);
    for (int d = 0; d < 3; ++d) {
        memcpy(c->state->r[d], s->r[d], (size_t)s->natoms * sizeof(double));
        memcpy(c->state->v[d], s->v[d], (size_t)s->natoms * sizeof(double));
    }
    memcpy(c->state->id, s->id, (size_t)s->natoms * sizeof(long));
    c->state->box = s->box;
    c->state->step = s->step;
    c->state->time = s->time;
    c->nl_valid = 0; /* positions may have jumped anywhere */
    c->forces_valid = 0;
    c->trial_active = 0;
    return FS_OK;
}

static fs_status cpu_download(fs_backend *b, fs_state *s, unsigned what)
{
    cpu_backend *c = (cpu_backend *)b;
    if (s->natoms != c->state->natoms)
        return fs_fail(FS_ERR_INVALID, "state has %d atoms, backend %d", s->natoms, c->state->natoms);
    size_t bytes = (size_t)s->natoms * sizeof(double);
    for (int d = 0; d < 3; ++d) {
        if (what & FS_SYNC_POSITIONS) memcpy(s->r[d], c->state->r[d], bytes);
        if (what & FS_SYNC_VELOCITIES) memcpy(s->v[d], c->state->v[d], bytes);
        if (what & FS_SYNC_FORCES) memcpy(s->f[d], c->state->f[d], bytes);
    }
    if (what & FS_SYNC_BOX) s->box = c->state->box;
    s->step = c->state->step;
    s->time = c->state->time;
    return FS_OK;
}

/* Plans the PME grid for the current box if it has none or the box now needs another size. */
static fs_status ensure_pme(cpu_backend *c)
{
    int n[3];
    fs_status st = fs_pme_grid_size(&c->state->box, &c->p, n);
    if (st != FS_OK) return st;
    if (c->pme && n[0] == c->pme_n[0] && n[1] == c->pme_n[1] && n[2] == c->pme_n[2]) return FS_OK;
    fs_pme_destroy(&c->pme);
    memcpy(c->pme_n, n, sizeof n);
    return fs_pme_create(n, c->p.pme_order, c->beta, c->top->natoms, &c->pme);
}

fs_status fs_cpu_evaluate(cpu_backend *c)
{
    const fs_box *box = &c->state->box;
    double *const *r = c->state->r;
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    fs_state_zero_forces(c->state);
    for (int d = 0; d < 3; ++d) acc.f[d] = c->state->f[d];
    c->forces_valid = 0;

    fs_status st = FS_OK;
    if (!c->nl_valid || fs_nblist_needs_rebuild(c->nl, box, r, 0.5 * c->p.verlet_buffer)) {
        st = fs_nblist_build(c->nl, c->top, box, r, c->rlist);
        c->nl_valid = st == FS_OK;
    }
    if (st == FS_OK) st = fs_cpu_nonbonded(c->top, &c->p, c->beta, c->nl, box, r, &acc);
    if (st == FS_OK) st = fs_cpu_pairs14(c->top, &c->p, box, r, &acc);
    if (st == FS_OK) st = fs_cpu_bonded(c->top, box, r, &acc);
    double coulomb = FS_ONE_4PI_EPS0 / c->p.epsilon_r;
    if (st == FS_OK && !c->charged) {
        /* no charges (an LJ fluid, an ideal gas): reciprocal space is exactly 0 and is not computed */
    } else if (st == FS_OK && c->p.coulombtype == FS_COUL_PME) {
        st = ensure_pme(c);
        if (st == FS_OK) st = fs_pme_compute(c->pme, box, r, c->q, coulomb, &acc);
    } else if (st == FS_OK) {
        const int kmax[3] = {0, 0, 0};
        st = fs_ewald_recip(box, c->top->natoms, r, c->q, c->beta, coulomb, kmax, &acc);
    }
    if (st != FS_OK) return st;
    double enet = fs_ewald_net_charge_energy(c->qsum, fs_box_volume(box), c->beta, coulomb);
    acc.term[FS_TERM_COUL_RECIP] += enet;
    for (int a = 0; a < 3; ++a) acc.virial[a][a] -= 0.5 * enet;
    acc.term[FS_TERM_DISPCORR] += fs_dispcorr_compute(&c->dc, &c->p, box, acc.virial);

    for (int i = 0; i < c->top->natoms; ++i)
        if (!isfinite(acc.f[0][i]) || !isfinite(acc.f[1][i]) || !isfinite(acc.f[2][i])) {
            const fs_atom *a = &c->top->atoms[i];
            return fs_fail(FS_ERR_NUMERIC, "non-finite force on atom %d (%s) of molecule %d (%s) at step %ld", i + 1,
                           a->name, a->molecule + 1, c->top->molecules ? c->top->molecules[a->molecule].name : "?",
                           c->state->step);
        }
    memcpy(c->last.term, acc.term, sizeof acc.term);
    memcpy(c->last.virial, acc.virial, sizeof acc.virial);
    c->forces_valid = 1;
    return FS_OK;
}

static fs_status cpu_compute(fs_backend *b, unsigned flags, fs_energies *out)
{
    cpu_backend *c = (cpu_backend *)b;
    fs_status st = c->forces_valid ? FS_OK : fs_cpu_evaluate(c);
    if (st != FS_OK) return st;
    if (out) {
        memset(out, 0, sizeof *out);
        if (flags & FS_COMPUTE_ENERGY) memcpy(out->term, c->last.term, sizeof out->term);
        if (flags & FS_COMPUTE_VIRIAL) memcpy(out->virial, c->last.virial, sizeof out->virial);
    }
    return FS_OK;
}

const fs_backend_ops fs_cpu_backend = {
    .name = "cpu",
    .version = FS_BACKEND_API_VERSION,
    .probe = cpu_probe,
    .create = cpu_create,
    .destroy = cpu_destroy,
    .upload = cpu_upload,
    .download = cpu_download,
    .compute = cpu_compute,
    .set_dynamics = fs_cpu_set_dynamics,
    .step = fs_cpu_step,
    .observe = fs_cpu_observe,
    .scale_trial = fs_cpu_scale_trial,
    .scale_revert = fs_cpu_scale_revert,
};

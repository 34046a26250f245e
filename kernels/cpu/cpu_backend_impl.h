/*
 * cpu_backend_impl.h — the CPU reference backend's private state, shared by its two source files:
 * cpu_backend.c (life cycle, transfers, force evaluation) and cpu_dynamics.c (integration steps, observables,
 * barostat scaling). Nothing outside kernels/cpu includes this.
 */
#ifndef FS_CPU_BACKEND_IMPL_H
#define FS_CPU_BACKEND_IMPL_H

#include "../../core/constraints.h"
#include "../../core/dispcorr.h"
#include "../backend.h"
#include "nblist.h"
#include "pme.h"

typedef struct {
    fs_backend base; /* first member: the generic header */
    const fs_topology *top;
    fs_forceparams p;
    fs_state *state;        /* the backend's own copy ("device" state) */
    double *q;              /* charges */
    double qsum;            /* net charge, for the neutralizing-background term */
    int charged;            /* some atom has a charge: without any, reciprocal space is skipped (it is 0) */
    double *mass, *invmass; /* invmass = 0 for frozen atoms */
    double beta;
    double rlist;
    fs_nblist *nl;
    int nl_valid;
    fs_pme *pme;
    int pme_n[3];
    fs_dispcorr_setup dc;

    /* forces in state->f and these energies belong to the current positions when forces_valid */
    int forces_valid;
    fs_energies last;

    /* dynamics (cpu_dynamics.c) */
    int have_dynamics;
    fs_dynamics dyn;
    fs_constraints *cons;
    unsigned char *frozen; /* 1 for atoms with invmass 0 */
    int ndf;
    double *r_old[3], *v_old[3]; /* the last good step, for constraints and blow-up reports */
    double *r_half[3];           /* sd: positions after the first half drift, reference of the second */
    double cons_virial[3][3];    /* constraint virial of the last step */
    double thermostat_work;

    /* barostat trial (cpu_dynamics.c) */
    int trial_active;
    double *r_save[3], *f_save[3];
    fs_box box_save;
    fs_energies e_save;
    int forces_valid_save;
} cpu_backend;

/* Evaluates forces (into state->f), energies and force virial at the current positions, into c->last. */
fs_status fs_cpu_evaluate(cpu_backend *c);

/* cpu_dynamics.c: the dynamics part of the ops table. */
fs_status fs_cpu_set_dynamics(fs_backend *b, const fs_dynamics *d);
fs_status fs_cpu_step(fs_backend *b, long nsteps);
fs_status fs_cpu_observe(fs_backend *b, fs_observables *out);
fs_status fs_cpu_scale_trial(fs_backend *b, const double s[3]);
fs_status fs_cpu_scale_revert(fs_backend *b);
void fs_cpu_dynamics_free(cpu_backend *c);

#endif

/*
 * dynamics.h — what an integration step does: integrator, thermostat, barostat, constraints, COM removal.
 *
 * The fields follow GROMACS .mdp names and meanings wherever GROMACS has the concept, so a run deck reads like an
 * .mdp. A backend receives these once (fs_backend_ops.set_dynamics) and then runs whole steps on its own data.
 *
 *   integrator = md   velocity Verlet (GROMACS's md-vv): NVE, or NVT with tcoupl = v-rescale (Bussi et al.,
 *                     J. Chem. Phys. 126, 014101 (2007)), applied once per step on the full-step velocities
 *   integrator = sd   Langevin dynamics, BAOAB splitting (Leimkuhler & Matthews, Appl. Math. Res. Express 2013,
 *                     34); friction 1/tau_t as in GROMACS's sd integrator
 *   pcoupl = MC       Monte Carlo barostat every nstpcouple steps (isotropic, or z only with x and y fixed for
 *                     slabs); molecules are moved as rigid bodies by their centres of mass; frozen atoms never move
 *   constraints       SETTLE for [settles], SHAKE + RATTLE for [constraints] and converted bonds
 *   comm-mode linear  the centre-of-mass velocity of the non-frozen atoms is removed every nstcomm steps
 * Random numbers come from core/rng.h, keyed by (seed, step, atom), so every backend draws the same numbers.
 */
#ifndef FS_DYNAMICS_H
#define FS_DYNAMICS_H

#include <stdint.h>

typedef enum { FS_INTEGRATOR_MD, FS_INTEGRATOR_SD } fs_integrator;
typedef enum { FS_TCOUPL_NO, FS_TCOUPL_V_RESCALE } fs_tcoupl;
typedef enum { FS_PCOUPL_NO, FS_PCOUPL_MC_ISOTROPIC, FS_PCOUPL_MC_Z } fs_pcoupl;
typedef enum { FS_COMM_NONE, FS_COMM_LINEAR } fs_comm_mode;

typedef struct {
    fs_integrator integrator; /* integrator: md | sd */
    double dt;                /* dt, ps (0.002) */
    fs_tcoupl tcoupl;         /* tcoupl: no | v-rescale (ignored by sd, which is its own thermostat) */
    double ref_t;             /* ref-t, K (298.15) */
    double tau_t;             /* tau-t, ps (0.1): v-rescale time constant; sd inverse friction */
    fs_pcoupl pcoupl;         /* pcoupl: no | MC (isotropic) | MC-z (semi-isotropic, xy fixed) */
    double ref_p;             /* ref-p, bar (1.0) */
    int nstpcouple;           /* nstpcouple: MC trial every this many steps (25) */
    fs_comm_mode comm_mode;   /* comm-mode: linear | none */
    int nstcomm;              /* nstcomm (100) */
    double shake_tol;         /* shake-tol: relative constraint tolerance (1e-10 in double precision) */
    uint64_t seed;            /* ld-seed: the key of every random number of the run */
} fs_dynamics;

/* The defaults above: integrator md, dt 0.002, tcoupl no, ref-t 298.15, tau-t 0.1, pcoupl no, ref-p 1.0,
 * nstpcouple 25, comm-mode linear, nstcomm 100, shake-tol 1e-10, seed 0 (fixed, so runs repeat unless ld-seed is
 * set). */
fs_dynamics fs_dynamics_default(void);

#endif

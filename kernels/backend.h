/*
 * backend.h — the one interface every compute backend implements.
 *
 * A backend owns the device-side copy of a system (topology, parameters, positions, velocities, forces) and does
 * the expensive work on it: forces and energies now, whole integration steps (`step`) once integrators exist.
 * The host engine never asks which backend it is talking to: it calls through the table of function pointers in
 * fs_backend_ops, as OpenMM's Context calls its Platform's kernels. The CPU reference (double precision) is the
 * first implementation and the yardstick for the GPU backends.
 *
 * Life cycle: create (topology and parameters are fixed for the backend's life; the topology must outlive it) →
 * upload(state) → compute/step as often as wanted → download(state) when the host needs the data → destroy.
 * Positions, velocities and forces stay on the device between calls; nothing is copied back unless asked.
 *
 * Energies are reported per term, indexed by fs_term, with GROMACS's names (fs_term_name()); the virial is
 * GROMACS's Xi = -1/2 sum_i r_i (x) F_i (for periodic systems the sum over pair terms with minimum-image
 * separations plus the reciprocal-space tensor), so that P = 2/(3V) (Ekin - Xi) and Xi = 1/2 dE/d(eps) under an
 * affine strain eps of box and coordinates.
 */
#ifndef FS_BACKEND_H
#define FS_BACKEND_H

#include <stddef.h>

#include "../core/dynamics.h"
#include "../core/forceparams.h"
#include "../core/state.h"
#include "../core/status.h"
#include "../core/topology.h"

typedef enum {
    FS_TERM_LJ_SR,
    FS_TERM_DISPCORR,
    FS_TERM_COUL_SR,
    FS_TERM_COUL_RECIP,
    FS_TERM_BOND,
    FS_TERM_ANGLE,
    FS_TERM_UB,
    FS_TERM_PROPER_DIH,
    FS_TERM_RB,
    FS_TERM_IMPROPER_DIH,
    FS_TERM_PER_IMP_DIH,
    FS_TERM_LJ14,
    FS_TERM_COUL14,
    FS_TERM_COUNT
} fs_term;

/* GROMACS's name of a term ("LJ (SR)", "Coul. recip.", ...). */
const char *fs_term_name(fs_term t);

typedef struct {
    double term[FS_TERM_COUNT]; /* kJ/mol */
    double virial[3][3];        /* kJ/mol, Xi as above */
} fs_energies;

/* What the host reads after step(): scalars and small tensors only, never per-atom data. */
typedef struct {
    fs_energies pot;        /* potential terms at the current positions; virial including the constraint virial */
    double ekin[3][3];      /* kinetic energy tensor 1/2 sum m v (x) v at the current (full-step) velocities */
    double thermostat_work; /* energy the thermostat has removed since the start (conserved = Epot + Ekin + this) */
    int ndf;                /* degrees of freedom */
    fs_box box;
    long step;
    double time;
} fs_observables;

/* Sum of all terms: GROMACS's "Potential". */
double fs_energies_potential(const fs_energies *e);

/* What compute() must produce. Forces always; energies and virial on request (a backend may skip them). */
enum { FS_COMPUTE_FORCES = 1, FS_COMPUTE_ENERGY = 2, FS_COMPUTE_VIRIAL = 4 };

/* What download() copies back to the host state. */
enum { FS_SYNC_POSITIONS = 1, FS_SYNC_VELOCITIES = 2, FS_SYNC_FORCES = 4, FS_SYNC_BOX = 8, FS_SYNC_ALL = 15 };

typedef struct fs_backend fs_backend;

typedef struct {
    const char *name; /* "cpu", "opencl", "cuda" */
    int version;      /* of this table, FS_BACKEND_API_VERSION */

    /* Is the backend usable on this machine? On FS_ERR_UNAVAILABLE the message says why. */
    fs_status (*probe)(void);

    /* Creates an instance for this topology and these parameters. The topology is borrowed and must outlive the
     * backend; the parameters are copied. On failure *out is NULL and nothing leaks. */
    fs_status (*create)(const fs_topology *top, const fs_forceparams *params, fs_backend **out);

    /* Frees the instance; accepts NULL and a pointer to NULL; sets *b = NULL. */
    void (*destroy)(fs_backend **b);

    /* Copies positions, velocities, box, step and time from the host state (natoms must match). */
    fs_status (*upload)(fs_backend *b, const fs_state *s);

    /* Copies the parts named by `what` (FS_SYNC_*) back into the host state. */
    fs_status (*download)(fs_backend *b, fs_state *s, unsigned what);

    /* Computes forces (and energies/virial as asked by FS_COMPUTE_* flags) for the current positions. `out` may be
     * NULL when only forces are wanted. */
    fs_status (*compute)(fs_backend *b, unsigned flags, fs_energies *out);

    /* Sets the integrator, thermostat, constraints and COM removal used by step() (copied). Must precede step(). */
    fs_status (*set_dynamics)(fs_backend *b, const fs_dynamics *d);

    /* Advances the state by nsteps integration steps. Forces are recomputed first if positions were uploaded since
     * the last evaluation. Energies and virial of the final step are kept for observe(). */
    fs_status (*step)(fs_backend *b, long nsteps);

    /* Energies, kinetic tensor, virial, box, step and time of the current state (see fs_observables). */
    fs_status (*observe)(fs_backend *b, fs_observables *out);

    /* Monte Carlo barostat support: scales the box by s[d] along each axis and moves every molecule rigidly with its
     * centre of mass (molecules with frozen atoms do not move), keeping a copy of the previous positions and box;
     * scale_revert() restores that copy bit for bit. Forces and energies are then those of the current positions. */
    fs_status (*scale_trial)(fs_backend *b, const double s[3]);
    fs_status (*scale_revert)(fs_backend *b);

    /* Optional (NULL where the results do not depend on the backend's history, as on the CPU reference): what a run
     * continued from a checkpoint needs, beyond fs_state, to be bit-identical to the uninterrupted run (the device
     * pair list's cluster order and build positions). save_history() returns a malloc'ed block that the checkpoint
     * stores tagged with the backend's name; restore_history(), after upload(), puts it back. */
    fs_status (*save_history)(fs_backend *b, void **data, size_t *bytes);
    fs_status (*restore_history)(fs_backend *b, const void *data, size_t bytes);
} fs_backend_ops;

#define FS_BACKEND_API_VERSION 2

/* Every backend instance begins with this header (embed it as the first member). */
struct fs_backend {
    const fs_backend_ops *ops;
};

/* Looks a backend up by name ("cpu", ...); NULL if this build has none of that name. */
const fs_backend_ops *fs_backend_find(const char *name);

/* The backends compiled into this build, NULL-terminated, fastest first. */
const fs_backend_ops *const *fs_backend_all(void);

/* Chooses a backend: `name` ("cpu", "opencl", "cuda", "auto"), else the environment variable FERROSOLV_BACKEND,
 * else "auto": the fastest that can run here (cuda, then opencl on a GPU, then cpu; an OpenCL CPU device such as
 * PoCL only when asked for by name). A named backend that cannot run is an error with its probe's reason
 * (FS_ERR_UNAVAILABLE); an unknown name FS_ERR_INVALID. */
fs_status fs_backend_select(const char *name, const fs_backend_ops **out);

/* The CPU reference backend. */
extern const fs_backend_ops fs_cpu_backend;

/* The device backends (kernels/gpu): OpenCL always built; CUDA where the toolkit was found at build time. */
extern const fs_backend_ops fs_opencl_backend;
#ifdef FS_HAVE_CUDA
extern const fs_backend_ops fs_cuda_backend;
#endif

#endif

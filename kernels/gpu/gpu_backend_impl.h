/*
 * gpu_backend_impl.h — the device backend's shared state and the contracts between its modules.
 *
 * One backend implementation (fs_backend_ops) serves OpenCL and CUDA: it is written against kernels/gpu/gpu_api.h,
 * and each API contributes its table (fs_gpu_api_opencl, fs_gpu_api_cuda). The work is split by physics, one module
 * per concept, each owning its kernels (kernels/common/<module>*.kernel) and its buffers:
 *
 *   gpu_backend.c    life cycle, the program build (#defines), transfers, force evaluation order, observables
 *   gpu_nonbonded.c  cluster pair list built on the device, LJ + Ewald real space with exclusions
 *   gpu_pme.c        smooth PME: spreading (fixed point), FFT, convolution, force interpolation
 *   gpu_bonded.c     bonds, angles, U-B, dihedrals, 1-4 pairs
 *   gpu_dynamics.c   integrators, thermostats, COM removal, blow-up checks, barostat scaling
 *   gpu_constraints.c SETTLE and SHAKE/RATTLE (clusters) on the device, constraint virial
 *
 * Precision: `use_double` = 0 is mixed precision (forces in float, positions, velocities and integration in double,
 * all sums in 64-bit fixed point); 1 is double everywhere. Positions, velocities and forces stay on the device and
 * are copied to the host only by download().
 *
 * Device layout (see kernels/common/README.md): pos and vel are mixed4[natoms] in the original atom order; force is
 * fixed_t[3 * padded]; energy is fixed_t[GPU_ENERGY_SLOTS]; flags is int[GPU_FLAG_SLOTS].
 */
#ifndef FS_GPU_BACKEND_IMPL_H
#define FS_GPU_BACKEND_IMPL_H

#include <stdint.h>

#include "../../core/dispcorr.h"
#include "../backend.h"
#include "gpu_api.h"

/* Slots of the fixed-point energy buffer (the same numbers are #defined for the kernels by gpu_backend.c). */
enum {
    GPU_E_TERM = 0,         /* + fs_term: energies per term, kJ/mol */
    GPU_E_VIRIAL = 16,      /* 9: force virial Xi = -1/2 sum r (x) F, row-major */
    GPU_E_CONS_VIRIAL = 25, /* 9: constraint virial of the last step */
    GPU_E_EKIN = 34,        /* 9: kinetic tensor 1/2 sum m v (x) v (filled on request) */
    GPU_E_THERMO_WORK = 43, /* energy removed by the thermostat and by COM removal since the start */
    GPU_E_SCRATCH = 44,     /* 8 slots a module may use between two of its own launches */
    GPU_ENERGY_SLOTS = 64
};

/* Slots of the int flag buffer. */
enum {
    GPU_F_ERROR = 0,                    /* 0, or one of GPU_ERR_*: set once, by the first failing kernel */
    GPU_F_ERROR_ATOM = 1,               /* the atom (0-based) or constraint the error names */
    GPU_F_ERROR_STEP = 2,               /* the step (low 31 bits) at which it happened */
    GPU_F_REBUILD = 3,                  /* nonzero: the pair list must be rebuilt before the next force evaluation */
    GPU_F_LIST_OVERFLOW = 4,            /* the pair list did not fit: the host grows it and rebuilds */
    GPU_F_MODULE = 8,                   /* 8 slots for modules' own flags: */
    GPU_F_NB_BUILDS = GPU_F_MODULE + 0, /* nonbonded: pair-list builds since creation */
    GPU_FLAG_SLOTS = 16
};
enum { GPU_ERR_NONE = 0, GPU_ERR_MOVED = 1, GPU_ERR_NONFINITE = 2, GPU_ERR_CONSTRAINT = 3 };

typedef struct gpu_nonbonded gpu_nonbonded;
typedef struct gpu_pme gpu_pme;
typedef struct gpu_bonded gpu_bonded;
typedef struct gpu_dynamics gpu_dynamics;
typedef struct gpu_constraints gpu_constraints;

typedef struct {
    fs_backend base; /* first member */
    const gpu_api *api;
    gpu_device *dev;
    int use_double;
    const fs_topology *top;
    fs_forceparams p;
    int natoms, padded; /* padded: natoms rounded up to a multiple of 64 */
    double beta;        /* Ewald splitting parameter */
    double rlist;       /* max(rcoulomb, rvdw) + verlet_buffer */
    double box[3];      /* host copy of the current box lengths */
    int periodic[3];
    long step;
    long positions_step; /* the step of the positions in pos: step + 1 during a step's force evaluation, else step */
    double time;

    gpu_program *prog;
    gpu_buf *pos, *vel, *force, *energy, *flags;
    gpu_buf *charge; /* real[natoms], e */

    fs_dispcorr_setup dc; /* the dispersion correction's averages (host side, like the net-charge term) */

    fs_dynamics dyn_params; /* the last set_dynamics(), applied again when the program is (re)built */
    int have_dyn_params;

    int forces_valid;     /* force/energy buffers belong to the current positions */
    unsigned valid_flags; /* FS_COMPUTE_* that the last evaluation produced */

    /* every kernel handed out by gpu_get_kernel and every FFT registered, for the per-kernel timers */
    struct {
        char name[64];
        gpu_kernel *k;
    } * kernels;
    int nkernels, kernels_cap;
    gpu_fft *ffts[4];
    int nffts;
    char device_text[320];

    gpu_nonbonded *nb;
    gpu_pme *pme;
    gpu_bonded *bonded;
    gpu_dynamics *dyn;
    gpu_constraints *cons;
} gpu_backend;

/* Creates a device backend on the device API `api`; its instances report `ops` as their table. fs_opencl_backend
 * and fs_cuda_backend are this with their API; tests wrap an API table (test_device_faults.c injects a lost device,
 * a failed allocation and a failed compile) and run it through the whole run loop. */
fs_status gpu_backend_create(const gpu_api *api, const fs_backend_ops *ops, const fs_topology *top,
                             const fs_forceparams *p, fs_backend **out);

/* ---- the program's #defines ---------------------------------------------------------------------------------
 * The kernels are compiled once per backend instance with the sizes and constants of the system baked in. The text
 * is made from the topology, the parameters and the box's periodic axes alone (no device needed, so the NVRTC
 * compile test can make it too). The program is therefore built, and the modules created, at the first upload()
 * (and again if an upload changes which axes are periodic):
 * gpu_build_defines() writes the common ones (NATOMS, PADDED_NATOMS, USE_DOUBLE, PERIODIC_X/Y/Z, NMOLECULES,
 * GPU_E_* and GPU_F_* slots, GPU_ERR_*) and then calls each module's gpu_<module>_defines(). */
typedef struct {
    char *text; /* NUL-terminated, owned; free() it */
    size_t len, cap;
    int oom; /* an append failed */
} gpu_defines;
void gpu_define_int(gpu_defines *d, const char *name, long value);
void gpu_define_real(gpu_defines *d, const char *name, double value); /* "%.17g" */
fs_status gpu_build_defines(const fs_topology *top, const fs_forceparams *p, const int periodic[3], int use_double,
                            gpu_defines *out);
fs_status gpu_nonbonded_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d);
fs_status gpu_pme_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d);
fs_status gpu_bonded_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d);
fs_status gpu_constraints_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d);
fs_status gpu_dynamics_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d);

/* ---- gpu_backend.c: helpers for the modules ---------------------------------------------------------------- */

/* A kernel of the backend's program by name (FS_ERR_INVALID naming it when absent). The kernel belongs to the
 * caller, who releases it with api->kernel_release. */
fs_status gpu_get_kernel(gpu_backend *g, const char *name, gpu_kernel **out);

/* Registers an FFT plan for the per-kernel timers (its time is reported as "fft"); the module still owns it and
 * must call gpu_unregister_fft before releasing it. */
void gpu_register_fft(gpu_backend *g, gpu_fft *fft);
void gpu_unregister_fft(gpu_backend *g, gpu_fft *fft);

/* Sets arguments of k in order from a list: each item is GPU_ARG_BUF(buf) or GPU_ARG(value) (by address, size).
 * Example: gpu_args(g, k, 3, GPU_ARG_BUF(g->pos), GPU_ARG(n), GPU_ARG(box4)). */
typedef struct {
    gpu_buf *buf;
    const void *value;
    size_t bytes;
} gpu_arg_item;
#define GPU_ARG_BUF(b) ((gpu_arg_item){(b), NULL, 0})
#define GPU_ARG(v) ((gpu_arg_item){NULL, &(v), sizeof(v)})
fs_status gpu_args(gpu_backend *g, gpu_kernel *k, int n, ...);

/* Launches k over `n` work-items in groups of `local` (n rounded up to a multiple of local; local 0: the API's
 * choice). */
fs_status gpu_run(gpu_backend *g, gpu_kernel *k, size_t n, size_t local);

/* The box as the kernels take it: lengths and inverse lengths, in the kernels' `real` (float or double; 4 values
 * packed as the API expects a real4) and in double (mixed4). */
typedef struct {
    float v[4];
} gpu_float4;
typedef struct {
    double v[4];
} gpu_double4;
void gpu_box_args(const gpu_backend *g, gpu_float4 *box_f, gpu_float4 *inv_f, gpu_double4 *box_d, gpu_double4 *inv_d);

/* Allocates `bytes` (FS_ERR_NOMEM with "out of device memory for <what>" on failure). */
fs_status gpu_alloc(gpu_backend *g, size_t bytes, const char *what, gpu_buf **out);

/* Reads the energy slots (converted from fixed point to double) and the flags. Both wait for the queue. */
fs_status gpu_read_energy(gpu_backend *g, double out[GPU_ENERGY_SLOTS]);
fs_status gpu_read_flags(gpu_backend *g, int out[GPU_FLAG_SLOTS]);

/* Evaluates forces (and energies/virial as flags ask) at the current device positions: zeroes force and the
 * energy/virial slots, then nonbonded, bonded, PME in that order; adds the dispersion correction on the host side
 * of observe(). */
fs_status gpu_evaluate(gpu_backend *g, unsigned flags);

/* ---- module contracts ---------------------------------------------------------------------------------------
 * Each create() builds what it needs from g (topology, parameters, program) and allocates its buffers; destroy()
 * accepts NULL/pointer to NULL. compute() launches its kernels, adding into g->force (fixed point; atomics where
 * two work-items may touch one atom), and, when flags ask, into the energy slots GPU_E_TERM + term and the virial
 * GPU_E_VIRIAL. Nothing waits for the queue unless the contract says so. */

/* Nonbonded: LJ (SR) and Coulomb (SR) of all non-excluded pairs within the cut-offs (potential-shift as the CPU
 * reference, kernels/cpu/nonbonded.c), and, into Coulomb (SR) as there, the Ewald correction -f q_i q_j erf(beta r)/r
 * of every excluded pair (any distance, minimum image) and the self term -f beta/sqrt(pi) sum q^2. (The net-charge
 * term and the dispersion correction are host constants added by gpu_backend.c.) The cluster pair list is built on
 * the device (gpu_pairlist.c): the atoms are sorted into clusters of 8 after invalidate() and every NB_NSTSORT steps,
 * and the list is rebuilt on the device whenever some atom has moved more than half the buffer since the last build
 * (or the box changed). compute() adds into g->force (zeroed by gpu_evaluate) and, with FS_COMPUTE_ENERGY or
 * FS_COMPUTE_VIRIAL, into the LJ (SR) and Coulomb (SR) slots and the virial; it waits for the queue only after a
 * re-sort and every NB_OVERFLOW_CHECK evaluations or energy evaluation (a 4-byte read of the flags, to find a list
 * that outgrew its capacity; it is then enlarged and rebuilt before the forces are computed). */
fs_status gpu_nonbonded_create(gpu_backend *g, gpu_nonbonded **out);
void gpu_nonbonded_destroy(gpu_nonbonded **nb);
fs_status gpu_nonbonded_invalidate(gpu_nonbonded *nb); /* positions or box were replaced: resort + rebuild */
fs_status gpu_nonbonded_compute(gpu_nonbonded *nb, unsigned flags);
long gpu_nonbonded_pair_count(gpu_nonbonded *nb); /* cluster pairs x cluster size^2 of the current list (waits) */

/* The cluster pair list (gpu_pairlist.c), private to the nonbonded module. update() queues, for the current
 * positions: the re-sort when due, the displacement check, the per-slot gather of positions/charges/LJ factors,
 * and the list build kernels (which do nothing unless a rebuild is flagged on the device); it waits for the device
 * only to check the list's capacity (after a sort; on a CPU device at every call; on a GPU when check_now or every
 * NB_OVERFLOW_CHECK calls) and fails with FS_ERR_INVALID when rlist exceeds half a periodic box edge. The view gives
 * the buffers the interaction kernels read (layouts in kernels/common/list_build.kernel). */
typedef struct gpu_pairlist gpu_pairlist;
typedef struct {
    int nslots, cap;                      /* slots (8 per cluster) and entries per i-cluster */
    gpu_buf *xq, *styp, *ljp, *slot_atom; /* per slot: position + charge, LJ type, geometric LJ factors, atom */
    gpu_buf *count, *entry, *mask;        /* the list */
    gpu_buf *excl_start, *excl_list;      /* the topology's exclusions (CSR over atoms, both directions) */
} gpu_pairlist_view;
fs_status gpu_pairlist_create(gpu_backend *g, gpu_pairlist **out);
void gpu_pairlist_destroy(gpu_pairlist **pl);
void gpu_pairlist_invalidate(gpu_pairlist *pl);
fs_status gpu_pairlist_update(gpu_pairlist *pl, int check_now);
gpu_pairlist_view gpu_pairlist_get(const gpu_pairlist *pl);
long gpu_pairlist_entries(gpu_pairlist *pl); /* cluster pairs in the current list (waits) */
/* Tests: replaces the list by an empty one of `cap` entries per i-cluster and flags a rebuild (a capacity too small
 * is then found and grown by the next update, as after a real overflow). */
fs_status gpu_pairlist_set_capacity(gpu_pairlist *pl, int cap);
gpu_pairlist *gpu_nonbonded_pairlist(gpu_nonbonded *nb); /* the module's list (tests, history) */
/* The list's history for a bit-exact continuation (cluster order, positions of the last build, sort epoch): save()
 * returns a malloc'ed block; restore() after upload() puts it back and rebuilds the list as it was built. */
fs_status gpu_pairlist_save(gpu_pairlist *pl, void **data, size_t *bytes);
fs_status gpu_pairlist_restore(gpu_pairlist *pl, const void *data, size_t bytes);
fs_status gpu_pairlist_defines(const fs_topology *top, const fs_forceparams *p, gpu_defines *d);

/* PME reciprocal space (Coul. recip. grid part and its virial), as kernels/cpu/pme.c. Skipped when no atom is
 * charged (energy 0). */
fs_status gpu_pme_create(gpu_backend *g, gpu_pme **out);
void gpu_pme_destroy(gpu_pme **pme);
fs_status gpu_pme_compute(gpu_pme *pme, unsigned flags);
/* For tests and benchmarks. gpu_pme_profile runs compute()'s stages `reps` times, waiting after each, and gives the
 * shortest wall time of each (spread, to complex, forward FFT, solve, backward FFT, gather: gpu_pme_stage_name);
 * it adds into force and energy as `reps` calls of compute() would. gpu_pme_grid gives the grid size (0 before the
 * first compute) and the complex grid (after compute: phi, interleaved re/im in `real`; NULL before).
 * gpu_pme_set_spreading chooses how the charge grid is summed: 1 by grid rows after binning the atoms (the default
 * on CPU devices), 0 by atomics per atom (the default on GPUs); both give the same grid bit for bit. */
enum { GPU_PME_STAGES = 6 };
fs_status gpu_pme_profile(gpu_pme *pme, unsigned flags, int reps, double seconds[GPU_PME_STAGES]);
const char *gpu_pme_stage_name(int stage);
gpu_buf *gpu_pme_grid(gpu_pme *pme, int n[3]);
fs_status gpu_pme_set_spreading(gpu_pme *pme, int rows);

/* Bonded terms and 1-4 pairs, as kernels/cpu/bonded*.c and the pair part of kernels/cpu/nonbonded.c. */
fs_status gpu_bonded_create(gpu_backend *g, gpu_bonded **out);
void gpu_bonded_destroy(gpu_bonded **b);
fs_status gpu_bonded_compute(gpu_bonded *b, unsigned flags);

/* Constraints: SETTLE for [settles], SHAKE (position) and RATTLE (velocity) for the rest, by clusters, one
 * work-item per water or cluster; same contracts as core/constraints.h (ref positions given as a buffer), all in
 * double. The constraint virial (core/constraints.h's convention: -1/2 sum r_ref (x) m delta / dt^2 for positions,
 * -1/2 sum r (x) m dv / dt for velocities) is added into GPU_E_CONS_VIRIAL times `virial_weight` (0: not computed);
 * the caller zeroes those slots. Failure (no convergence in the iteration limit, a bond turned ~90 degrees, a water
 * SETTLE cannot reach) leaves that water/cluster as it was and sets GPU_F_ERROR = GPU_ERR_CONSTRAINT (if it was 0)
 * and GPU_F_ERROR_ATOM (the water's oxygen, the cluster's lowest atom index). While GPU_F_ERROR is set (by anyone)
 * the constraint kernels do nothing (work-items of the failing launch that start after the failure included).
 * Nothing waits for the queue.
 *   create: validates through fs_constraints_create (same messages); tol relative, as shake-tol.
 *   count: 3 per settle + 1 per [constraints] entry (fs_constraints_count).
 *   set_max_iterations: SHAKE/RATTLE sweeps per cluster before failing (default 1000), >= 1.
 *   constrain_positions: moves g->pos onto the constraints along the directions of pos_ref (NULL or g->pos: the
 *     current positions' own directions), adds displacement / dt to g->vel; dt = 0 leaves g->vel alone (a
 *     projection of starting coordinates; virial_weight must then be 0).
 *   constrain_velocities: removes from g->vel the components along the constraints at g->pos (no virial);
 *     _virial adds virial_weight x the velocity step's virial as well (dt > 0 then). */
fs_status gpu_constraints_create(gpu_backend *g, double tol, gpu_constraints **out);
void gpu_constraints_destroy(gpu_constraints **c);
int gpu_constraints_count(const gpu_constraints *c);
fs_status gpu_constraints_set_max_iterations(gpu_constraints *c, int max_iter);
fs_status gpu_constrain_positions(gpu_constraints *c, gpu_buf *pos_ref, double dt, double virial_weight);
fs_status gpu_constrain_velocities(gpu_constraints *c, double dt);
fs_status gpu_constrain_velocities_virial(gpu_constraints *c, double dt, double virial_weight);

/* Dynamics: the step of kernels/cpu/cpu_dynamics.c (velocity Verlet with v-rescale, BAOAB), COM removal, the
 * blow-up checks (restoring the last good step), kinetic tensor, and the barostat's scale_trial/scale_revert. */
fs_status gpu_dynamics_set(gpu_backend *g, const fs_dynamics *d);
fs_status gpu_dynamics_step(gpu_backend *g, long nsteps);
fs_status gpu_dynamics_kinetic(gpu_backend *g, double ekin[3][3], double *thermostat_work); /* waits */
int gpu_dynamics_ndf(gpu_backend *g);
fs_status gpu_dynamics_scale_trial(gpu_backend *g, const double s[3]);
fs_status gpu_dynamics_scale_revert(gpu_backend *g);
void gpu_dynamics_destroy(gpu_backend *g);

#endif

/*
 * scheduler.h — the run loop behind `ferrosolv run`: load, (minimize | integrate), observe, write, checkpoint.
 */
#ifndef FS_SCHEDULER_H
#define FS_SCHEDULER_H

#include "../kernels/backend.h"
#include "deck.h"

typedef struct {
    int continue_run;      /* 1: resume from the deck's checkpoint (--continue) */
    const char *backend;   /* backend name ("cpu"); NULL: the default */
    long stop_after_steps; /* > 0: stop (as if killed, no final files) after this many steps of this invocation;
                              for tests of the restart path */
    const fs_backend_ops *backend_ops; /* a backend table to use instead of `backend` (a program embedding the
                                          engine with its own backend; tests that inject device faults) */
} fs_run_options;

/* What a run reports when it ends (also printed as its summary). */
typedef struct {
    long first_step, last_step;
    int samples; /* thermo samples averaged below */
    double mean_temperature, mean_density, mean_pressure, mean_potential;
    double drift_per_ns; /* slope of the conserved energy, kJ/mol per ns */
    double drift_kt_per_ns_per_dof;
    double ns_per_day;
    double wall_seconds;
    int minimized; /* 1 for a minimization; then final_fmax and converged apply */
    double final_fmax;
    int converged;
} fs_run_summary;

/* Runs the deck. The message of a failure names the file, the step and the atom where they apply. When the backend
 * fails during dynamics (a device lost, out of memory, a kernel error), the message names the steps between which it
 * failed and the last checkpoint written (which the failure never touches: checkpoints are replaced atomically), so
 * that `--continue` can resume from it. */
fs_status fs_run(const fs_deck *d, const fs_run_options *opt, fs_run_summary *summary);

#endif

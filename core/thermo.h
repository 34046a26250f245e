/*
 * thermo.h — what a run reports as it goes: derived thermodynamic quantities, the thermo line, the progress bar.
 */
#ifndef FS_THERMO_H
#define FS_THERMO_H

#include <stdio.h>

#include "../kernels/backend.h"

/* Quantities derived from fs_observables, in GROMACS's units and definitions. */
typedef struct {
    double potential;   /* kJ/mol */
    double kinetic;     /* kJ/mol */
    double total;       /* potential + kinetic */
    double conserved;   /* total + thermostat work (GROMACS "Conserved En.") */
    double temperature; /* 2 Ekin / (ndf kB), K */
    double pressure;    /* 2/(3V) (Ekin - Xi) trace, bar */
    double volume;      /* nm^3 */
    double density;     /* g/cm^3 */
} fs_thermo_values;

/* Derives the values; total_mass in amu. */
fs_thermo_values fs_thermo_derive(const fs_observables *o, double total_mass);

typedef struct fs_thermo fs_thermo;

/* Starts reporting: lines go to `log` (may be NULL) and to stdout; a progress bar with ETA is drawn on stderr when
 * it is a terminal. first_step..last_step is the span of this run (for the ETA); dt in ps. */
fs_status fs_thermo_create(FILE *log, long first_step, long last_step, double dt, fs_thermo **out);

/* Frees (clearing the progress bar); accepts NULL and a pointer to NULL. */
void fs_thermo_destroy(fs_thermo **t);

/* Prints one thermo line: step, time, potential, kinetic, total, conserved, T, P, density, ns/day so far. */
void fs_thermo_line(fs_thermo *t, const fs_observables *o, double total_mass);

/* Redraws the progress bar (terminal only; rate-limited to a few times a second). */
void fs_thermo_progress(fs_thermo *t, long step);

/* Simulated ns per day of wall time since creation. */
double fs_thermo_ns_per_day(const fs_thermo *t, long step);

#endif

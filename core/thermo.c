/*
 * thermo.c — thermodynamic read-outs and the terminal feedback of a run.
 *
 * Definitions (GROMACS's): T = 2 Ekin / (ndf kB); P = 2/(3V) (Ekin - Xi) summed over the diagonal, converted to bar
 * with FS_PRESFAC; density = total mass / V in g/cm^3; the conserved energy adds to Epot + Ekin the work done by
 * the thermostat, so it stays flat in a correct thermostatted run. Rates use the monotonic clock.
 *
 * The thermo line is a fixed-width table row, printed to stdout and the log; its header is printed with the first
 * line. The progress bar is drawn on stderr only when stderr is a terminal (so logs and CI output stay clean), at
 * most five times a second, with the fraction done and an ETA from the rate so far.
 */
#include "thermo.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "units.h"

struct fs_thermo {
    FILE *log;
    long first, last;
    double dt;
    double t0, last_draw;
    int tty, header_done, bar_shown;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

fs_thermo_values fs_thermo_derive(const fs_observables *o, double total_mass)
{
    fs_thermo_values v;
    v.potential = fs_energies_potential(&o->pot);
    v.kinetic = o->ekin[0][0] + o->ekin[1][1] + o->ekin[2][2];
    v.total = v.potential + v.kinetic;
    v.conserved = v.total + o->thermostat_work;
    v.temperature = o->ndf > 0 ? 2.0 * v.kinetic / (o->ndf * FS_BOLTZ) : 0.0;
    v.volume = fs_box_volume(&o->box);
    double xi = o->pot.virial[0][0] + o->pot.virial[1][1] + o->pot.virial[2][2];
    v.pressure = v.volume > 0 ? 2.0 / (3.0 * v.volume) * (v.kinetic - xi) * FS_PRESFAC : 0.0;
    v.density = v.volume > 0 ? total_mass / v.volume * FS_AMU_PER_NM3_TO_G_PER_CM3 : 0.0;
    return v;
}

fs_status fs_thermo_create(FILE *log, long first_step, long last_step, double dt, fs_thermo **out)
{
    fs_thermo *t = calloc(1, sizeof *t);
    if (!t) return fs_fail(FS_ERR_NOMEM, "out of memory");
    t->log = log;
    t->first = first_step;
    t->last = last_step;
    t->dt = dt;
    t->t0 = now();
    t->tty = isatty(STDERR_FILENO);
    *out = t;
    return FS_OK;
}

static void clear_bar(fs_thermo *t)
{
    if (t->bar_shown) {
        fprintf(stderr, "\r%*s\r", 79, "");
        t->bar_shown = 0;
    }
}

void fs_thermo_destroy(fs_thermo **t)
{
    if (!t || !*t) return;
    clear_bar(*t);
    free(*t);
    *t = NULL;
}

double fs_thermo_ns_per_day(const fs_thermo *t, long step)
{
    double wall = now() - t->t0;
    if (wall <= 0 || step <= t->first) return 0.0;
    return (double)(step - t->first) * t->dt * 1e-3 / wall * 86400.0;
}

static void emit(fs_thermo *t, const char *line)
{
    fputs(line, stdout);
    if (t->log) {
        fputs(line, t->log);
        fflush(t->log);
    }
}

void fs_thermo_line(fs_thermo *t, const fs_observables *o, double total_mass)
{
    char line[512];
    clear_bar(t);
    if (!t->header_done) {
        snprintf(line, sizeof line, "%10s %10s %15s %13s %15s %15s %9s %10s %9s %9s\n", "step", "time(ps)",
                 "Epot(kJ/mol)", "Ekin", "Etot", "Econserved", "T(K)", "P(bar)", "rho(g/cc)", "ns/day");
        emit(t, line);
        t->header_done = 1;
    }
    fs_thermo_values v = fs_thermo_derive(o, total_mass);
    snprintf(line, sizeof line, "%10ld %10.3f %15.4f %13.4f %15.4f %15.4f %9.3f %10.2f %9.5f %9.3f\n", o->step, o->time,
             v.potential, v.kinetic, v.total, v.conserved, v.temperature, v.pressure, v.density,
             fs_thermo_ns_per_day(t, o->step));
    emit(t, line);
    fflush(stdout);
}

void fs_thermo_progress(fs_thermo *t, long step)
{
    if (!t->tty || t->last <= t->first) return;
    double tn = now();
    if (tn - t->last_draw < 0.2 && step < t->last) return;
    t->last_draw = tn;
    double frac = (double)(step - t->first) / (double)(t->last - t->first);
    if (frac < 0) frac = 0;
    if (frac > 1) frac = 1;
    double elapsed = tn - t->t0, eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
    int width = 30, filled = (int)(frac * width + 0.5);
    char bar[64];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    long e = (long)(eta + 0.5);
    fprintf(stderr, "\r[%s] %5.1f%%  step %ld/%ld  ETA %ldh%02ldm%02lds ", bar, 100.0 * frac, step, t->last, e / 3600,
            (e / 60) % 60, e % 60);
    fflush(stderr);
    t->bar_shown = 1;
}

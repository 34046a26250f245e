/*
 * cmd_bench.c — `ferrosolv bench`: time molecular-dynamics steps on a GROMACS input, print JSON.
 *
 * The input is a folder with conf.gro, topol.top and one .mdp (benchmarks/inputs/water-23k by default: 23,262
 * atoms of SPC/E water). The interactions are the .mdp's (PME, cut-offs, constraints); the dynamics are the ones
 * the shipped benchmark .mdp asks GROMACS for, so that both codes run the same thing: velocity Verlet (GROMACS's
 * md is leap-frog; the cost per step is the same) at dt = 2 fs with Bussi's v-rescale at 300 K (tau-t 0.1 ps),
 * velocities drawn at 300 K, COM motion removed every 100 steps.
 *
 * Timing: `--warmup` steps first (kernel compilation, the first pair list, caches), then `--steps` steps timed by
 * the wall clock, ending with observe(), which waits for the device. The rate is reported as microseconds per step
 * and ns/day. For a device backend a second instance with per-kernel timers (FERROSOLV_PROFILE=1) runs
 * `--profile-steps` more steps and the time of each kernel per step is reported: profiling makes launches wait, so
 * it is kept apart from the timed run. Output: a human summary, then the JSON object as the last line.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../forcefields/gromacs_input.h"
#include "../../kernels/backend.h"
#include "../../kernels/gpu/gpu_backend.h"
#include "../integrate.h"
#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: ferrosolv bench [DIR] [--backend NAME] [--steps N] [--warmup N] [--profile-steps N]\n"
                 "                       [--precision mixed|double]\n\n"
                 "Times MD steps of the GROMACS input in DIR (conf.gro, topol.top, one .mdp; default\n"
                 "benchmarks/inputs/water-23k) and prints a JSON object as the last line: us_per_step,\n"
                 "ns_per_day, atoms, pairs, and the time per kernel for device backends.\n"
                 "  --backend NAME     cpu, opencl, cuda or auto (default: FERROSOLV_BACKEND, else auto)\n"
                 "  --steps N          timed steps (default 100)\n"
                 "  --warmup N         untimed steps first (default 20)\n"
                 "  --profile-steps N  steps of the per-kernel profile (device backends; default 20, 0: none)\n"
                 "  --precision P      device precision: mixed (default) or double\n");
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The single .mdp file of dir into path (FS_ERR_IO naming the folder if there is none or more than one). */
static fs_status find_mdp(const char *dir, char *path, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d) return fs_fail(FS_ERR_IO, "%s: cannot open the benchmark folder", dir);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".mdp")) {
            if (found++ == 0) snprintf(path, cap, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    if (found != 1)
        return fs_fail(FS_ERR_IO, "%s: expected one .mdp file in the benchmark folder, found %d", dir, found);
    return FS_OK;
}

typedef struct {
    double seconds;
    long pairs;
    char device[320];
    fs_gpu_timer timers[64];
    int ntimers;
} bench_result;

/* Creates a backend, runs warmup + steps, and fills r. */
static fs_status run_once(const fs_backend_ops *ops, const fs_topology *top, const fs_mdp *m, const fs_state *s0,
                          long warmup, long steps, int profile, bench_result *r)
{
    fs_backend *b = NULL;
    fs_dynamics dyn = fs_dynamics_default();
    dyn.integrator = FS_INTEGRATOR_MD;
    dyn.dt = 0.002;
    dyn.tcoupl = FS_TCOUPL_V_RESCALE;
    dyn.ref_t = 300.0;
    dyn.tau_t = 0.1;
    dyn.seed = 1;
    fs_observables o;
    fs_status st = ops->create(top, &m->force, &b);
    if (st == FS_OK) st = ops->upload(b, s0);
    if (st == FS_OK) st = ops->set_dynamics(b, &dyn);
    if (st == FS_OK && warmup > 0) st = ops->step(b, warmup);
    if (st == FS_OK) st = ops->observe(b, &o);
    if (st == FS_OK && profile) fs_gpu_backend_reset_timers(b);
    double t0 = now();
    if (st == FS_OK) st = ops->step(b, steps);
    if (st == FS_OK) st = ops->observe(b, &o);
    r->seconds = now() - t0;
    if (st == FS_OK) {
        r->pairs = fs_gpu_backend_pairs(b);
        const char *dev = fs_gpu_backend_device(b);
        snprintf(r->device, sizeof r->device, "%s", dev ? dev : "cpu: double-precision reference, 1 thread");
        r->ntimers = profile ? fs_gpu_backend_timers(b, r->timers, 64) : 0;
    }
    if (b) ops->destroy(&b);
    return st;
}

int fs_cmd_bench(int argc, char **argv)
{
    const char *dir = "benchmarks/inputs/water-23k", *backend = NULL, *precision = NULL;
    long steps = 100, warmup = 20, profile_steps = 20;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (a[0] != '-') {
            dir = a;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "ferrosolv bench: option '%s' needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        char *end = NULL;
        long n = strtol(v, &end, 10);
        int numeric = end && *end == '\0' && n >= 0;
        if (!strcmp(a, "--backend"))
            backend = v;
        else if (!strcmp(a, "--precision"))
            precision = v;
        else if (!strcmp(a, "--steps") && numeric && n > 0)
            steps = n;
        else if (!strcmp(a, "--warmup") && numeric)
            warmup = n;
        else if (!strcmp(a, "--profile-steps") && numeric)
            profile_steps = n;
        else {
            fprintf(stderr, "ferrosolv bench: bad option '%s %s'\n", a, v);
            usage(stderr);
            return 2;
        }
    }
    if (precision) {
        if (strcmp(precision, "mixed") && strcmp(precision, "double")) {
            fprintf(stderr, "ferrosolv bench: --precision is mixed or double, not '%s'\n", precision);
            return 2;
        }
        setenv("FERROSOLV_PRECISION", precision, 1);
    }
    const fs_backend_ops *ops = NULL;
    fs_status st = fs_backend_select(backend, &ops);
    if (st != FS_OK) return fs_cli_report("bench", st);

    char mdp_path[4096], gro[4096], topf[4096];
    snprintf(gro, sizeof gro, "%s/conf.gro", dir);
    snprintf(topf, sizeof topf, "%s/topol.top", dir);
    fs_mdp m;
    fs_mdp_init(&m);
    st = find_mdp(dir, mdp_path, sizeof mdp_path);
    if (st == FS_OK) st = fs_mdp_read(mdp_path, &m, NULL, 0);
    fs_topology *top = NULL;
    fs_state *s = NULL;
    if (st == FS_OK) st = fs_gromacs_load(topf, gro, &m, NULL, 0, &top, &s);
    if (st != FS_OK) return fs_cli_report("bench", st);
    double *invmass = malloc((size_t)(top->natoms > 0 ? top->natoms : 1) * sizeof(double));
    if (!invmass) {
        fs_topology_destroy(&top);
        fs_state_destroy(&s);
        return fs_cli_report("bench", fs_fail(FS_ERR_NOMEM, "out of memory"));
    }
    for (int i = 0; i < top->natoms; ++i)
        invmass[i] = top->atoms[i].frozen || top->atoms[i].mass <= 0 ? 0.0 : 1.0 / top->atoms[i].mass;
    fs_maxwell_velocities(top->natoms, s->v, invmass, 300.0, 1);
    free(invmass);

    bench_result timed, prof;
    memset(&timed, 0, sizeof timed);
    memset(&prof, 0, sizeof prof);
    fprintf(stderr, "ferrosolv bench: %s, %d atoms, backend %s: %ld warm-up + %ld timed steps\n", dir, top->natoms,
            ops->name, warmup, steps);
    st = run_once(ops, top, &m, s, warmup, steps, 0, &timed);
    int device = strcmp(ops->name, "cpu") != 0;
    if (st == FS_OK && device && profile_steps > 0) {
        setenv("FERROSOLV_PROFILE", "1", 1);
        st = run_once(ops, top, &m, s, 5, profile_steps, 1, &prof);
        unsetenv("FERROSOLV_PROFILE");
    }
    int rc = 0;
    if (st != FS_OK) {
        rc = fs_cli_report("bench", st);
    } else {
        double us = 1e6 * timed.seconds / (double)steps;
        double ns_day = 0.002 * 86400.0 / (us * 1e-6) * 1e-3;
        printf("device       %s\n", timed.device);
        printf("time         %.1f us/step, %.2f ns/day (%ld steps in %.3f s)\n", us, ns_day, steps, timed.seconds);
        for (int k = 0; k < prof.ntimers; ++k)
            printf("  %-28s %10.1f us/step  %6.2f launches/step\n", prof.timers[k].name,
                   1e6 * prof.timers[k].seconds / (double)profile_steps,
                   (double)prof.timers[k].launches / (double)profile_steps);
        printf("{\"program\": \"ferrosolv\", \"input\": \"%s\", \"backend\": \"%s\", \"device\": \"%s\", "
               "\"atoms\": %d, \"pairs\": %ld, \"steps\": %ld, \"dt_ps\": 0.002, \"seconds\": %.6f, "
               "\"us_per_step\": %.3f, \"ns_per_day\": %.4f, \"kernels_us_per_step\": {",
               dir, ops->name, timed.device, top->natoms, timed.pairs, steps, timed.seconds, us, ns_day);
        for (int k = 0; k < prof.ntimers; ++k)
            printf("%s\"%s\": %.3f", k ? ", " : "", prof.timers[k].name,
                   1e6 * prof.timers[k].seconds / (double)profile_steps);
        printf("}}\n");
    }
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
    return rc;
}

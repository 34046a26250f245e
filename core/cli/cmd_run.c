/*
 * cmd_run.c — `ferrosolv run deck.ini`: minimize or integrate a system as the deck says.
 *
 * `--continue` resumes from the deck's checkpoint; `--help` lists every deck key with its default and unit (from
 * the deck's own key table); `--KEY VALUE` overrides a deck key (e.g. --nsteps 1000). The run loop itself is
 * core/scheduler.c; this file only reads the command line, prints what the deck ignored, and prints the summary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../deck.h"
#include "../scheduler.h"
#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: ferrosolv run deck.ini [--continue] [--backend NAME] [--KEY VALUE ...]\n\n"
                 "Runs the deck: minimization (integrator = steep) or dynamics (md, sd), writing the H5MD\n"
                 "trajectory, the thermo log, checkpoints and the final coordinates it names.\n"
                 "  --continue       resume from the deck's checkpoint; frames written after it are dropped\n"
                 "  --backend NAME   cpu, opencl, cuda or auto (default: FERROSOLV_BACKEND, else auto: a GPU\n"
                 "                   when there is one, else cpu; `ferrosolv devices` lists them)\n"
                 "  --KEY VALUE      override a deck key, e.g. --nsteps 5000 --ref-t 313\n\n"
                 "Deck keys:\n\n");
    fs_deck_help(out);
}

static void print_summary(const fs_deck *d, const fs_run_summary *s)
{
    if (s->minimized) {
        printf("\nsummary: minimization %s, Fmax %.3f kJ mol^-1 nm^-1 (emtol %g), Epot %.4f kJ/mol, %.1f s\n",
               s->converged ? "converged" : "stopped before converging", s->final_fmax, d->emtol, s->mean_potential,
               s->wall_seconds);
        return;
    }
    printf("\nsummary: steps %ld..%ld (%.3f ps), %.1f s wall, %.3f ns/day\n", s->first_step, s->last_step,
           (s->last_step - s->first_step) * d->dyn.dt, s->wall_seconds, s->ns_per_day);
    if (s->samples > 0) {
        printf("  averages over %d thermo samples: T %.2f K, P %.1f bar, density %.4f g/cm^3, Epot %.3f kJ/mol\n",
               s->samples, s->mean_temperature, s->mean_pressure, s->mean_density, s->mean_potential);
        printf("  conserved-energy drift: %.4g kJ/mol/ns (%.3g kT/ns per degree of freedom)\n", s->drift_per_ns,
               s->drift_kt_per_ns_per_dof);
    }
}

int fs_cmd_run(int argc, char **argv)
{
    const char *deck_path = NULL;
    fs_run_options opt = {0, NULL, 0, NULL};
    const char *ov_key[64], *ov_val[64];
    int nov = 0;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--continue")) {
            opt.continue_run = 1;
        } else if (!strcmp(a, "--backend") && i + 1 < argc) {
            opt.backend = argv[++i];
        } else if (!strcmp(a, "--stop-after") && i + 1 < argc) {
            opt.stop_after_steps = atol(argv[++i]);
        } else if (!strncmp(a, "--", 2) && i + 1 < argc && nov < 64) {
            ov_key[nov] = a + 2;
            ov_val[nov++] = argv[++i];
        } else if (a[0] != '-' && !deck_path) {
            deck_path = a;
        } else {
            fprintf(stderr, "ferrosolv run: unexpected argument '%s'\n", a);
            return 2;
        }
    }
    if (!deck_path) {
        fprintf(stderr, "ferrosolv run: a deck file is required (ferrosolv run --help lists its keys)\n");
        return 2;
    }
    fs_deck *d = malloc(sizeof *d);
    if (!d) return fs_cli_report("run", fs_fail(FS_ERR_NOMEM, "out of memory"));
    fs_status st = fs_deck_read(deck_path, d);
    for (int k = 0; st == FS_OK && k < nov; ++k) {
        char where[96];
        snprintf(where, sizeof where, "option --%s", ov_key[k]);
        st = fs_deck_set(d, ov_key[k], ov_val[k], where, NULL);
    }
    if (st == FS_OK && nov > 0) st = fs_deck_validate(d);
    if (st != FS_OK) {
        free(d);
        return fs_cli_report("run", st);
    }
    if (d->notes[0]) fprintf(stderr, "%s", d->notes);
    fs_run_summary sum;
    st = fs_run(d, &opt, &sum);
    int rc = st == FS_OK ? 0 : fs_cli_report("run", st);
    if (st == FS_OK) print_summary(d, &sum);
    free(d);
    return rc;
}

/*
 * cmd_build.c — `ferrosolv build deck.ini`: build a bulk electrolyte (coordinates + GROMACS topology) from a deck.
 *
 * Reads the deck (systems/build_deck.h), plans the composition (systems/electrolyte.h: exact molecule counts, box),
 * packs the molecules at random under the minimum-distance tolerance (systems/pack.h), writes .gro, .top and the
 * force-field copies, and prints a summary: counts, box, density, net charge and the closest intermolecular pair.
 * `--dry-run` stops after the plan (nothing is written).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../systems/build_deck.h"
#include "../../systems/electrolyte.h"
#include "../../systems/pack.h"
#include "cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ferrosolv build deck.ini [--dry-run]\n\n"
            "Builds a bulk electrolyte: salts at a molarity in a solvent mixture, packed at random with a minimum\n"
            "distance between molecules, written as .gro + .top (+ a directory with the .itp files it includes).\n\n"
            "deck.ini:\n"
            "  [system]\n"
            "  salt = LiPF6            LiPF6, LiTFSI, LiFSI, LiNO3, several as LiTFSI:LiNO3, or none\n"
            "  molarity = 1.0          mol per litre of solution, one per salt\n"
            "  solvents = EC:DMC       EC, DMC, DME, FEC, or molecules defined in [molecule NAME] sections\n"
            "  ratio = 1:1             parts of each solvent;  ratio-type = volume (default) or molar\n"
            "  molecules = 300         size: solvent molecules, or atoms = 3000, or box = 4.0 (nm, cubic)\n"
            "  density = auto          g/cm^3, or auto (ideal mixing of the pure liquids and the salts)\n"
            "  tolerance = 0.2         nm between atoms of different molecules (Packmol's default)\n"
            "  charge-scale = 1.0      factor on the ions' charges in the written topology (e.g. 0.8)\n"
            "  seed = 1                random numbers of the packing (same seed, same system)\n"
            "  max-attempts = 100      random trials per molecule, relax-steps = 100000 overlap-removal steps\n"
            "  salt-volume = 53.45     cm^3/mol each salt adds to the solution (default: systems/species.c)\n"
            "  [molecule VC]           a solvent of your own: itp = vc.itp, gro = vc.gro, density = 1.355\n"
            "  [output]\n"
            "  gro = system.gro, top = system.top, itp-dir = system_ff (relative to the .top)\n\n"
            "Paths are relative to the deck's directory. Exit status: 0 success, 2 bad deck or impossible\n"
            "composition (the message names deck.ini:line), 1 internal failure.\n");
}

static void summary(const fs_electrolyte *e, const fs_state *s, const fs_pack_report *rep, const fs_build_deck *d,
                    int written)
{
    const fs_electrolyte_spec *sp = &e->spec;
    printf("%s\n", e->title);
    printf("force field   %s\n", sp->forcefield_dir);
    printf("species       %-8s %9s %6s %9s %10s\n", "name", "molecules", "atoms", "charge", "mass");
    for (int k = 0; k < e->nspecies; ++k) {
        double q = e->species[k].charge;
        q = (q > 1e-6 || q < -1e-6) ? q * sp->charge_scale : 0.0;
        printf("              %-8s %9d %6d %+9.4f %10.4f\n", e->species[k].name, e->count[k], e->species[k].natoms, q,
               e->species[k].mass);
    }
    for (int i = 0; i < sp->nsalts; ++i)
        printf("salt          %s: %g mol/L asked, %d ion pairs = %.4f mol/L in the box\n", sp->salt[i].name,
               sp->salt[i].molarity, e->npairs[i], e->molarity[i]);
    printf("total         %d molecules, %d atoms, %.4f amu\n", e->nmolecules, e->natoms, e->mass);
    printf("box           %.5f x %.5f x %.5f nm, %.4f nm^3\n", e->box, e->box, e->box, e->box * e->box * e->box);
    printf("density       %.4f g/cm^3 (%s)\n", e->density, sp->density > 0 ? "as given" : "ideal-mixing estimate");
    double net = e->charge * sp->charge_scale;
    printf("net charge    %.6f e", fabs(net) < 5e-7 ? 0.0 : net);
    if (sp->charge_scale != 1.0) printf(" (ion charges scaled by %g in the topology)", sp->charge_scale);
    printf("\n");
    if (!s) return;
    printf("packing       tolerance %g nm, seed %llu: %ld random trials (at most %d for one molecule), %d "
           "molecules fitted by %d overlap-removal steps\n",
           sp->tolerance, (unsigned long long)sp->seed, rep->attempts, rep->max_attempts, rep->misfits,
           rep->relax_steps);
    if (written) printf("wrote         %s, %s\n", d->gro, d->top);
}

int fs_cmd_build(int argc, char **argv)
{
    const char *deck_path = NULL;
    int dry = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--dry-run")) {
            dry = 1;
        } else if (argv[i][0] == '-' || deck_path) {
            fprintf(stderr, "ferrosolv build: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            deck_path = argv[i];
        }
    }
    if (!deck_path) {
        usage(stderr);
        return 2;
    }
    static fs_build_deck deck;
    fs_status st = fs_build_deck_read(deck_path, &deck);
    if (st != FS_OK) return fs_cli_report("build", st);
    fs_electrolyte *e = NULL;
    st = fs_electrolyte_plan(&deck.spec, &e);
    if (st != FS_OK) return fs_cli_report("build", fs_fail_context(st, "%s", deck_path));
    if (dry) {
        summary(e, NULL, NULL, &deck, 0);
        fs_electrolyte_destroy(&e);
        return 0;
    }
    fs_state *s = NULL;
    fs_pack_report rep = {0};
    st = fs_electrolyte_pack(e, &s, &rep);
    if (st == FS_OK) st = fs_electrolyte_write(e, s, deck.gro, deck.top, deck.itp_dir[0] ? deck.itp_dir : NULL);
    if (st == FS_OK) {
        summary(e, s, &rep, &deck, 1);
        /* the closest pair of atoms in different molecules (search up to 1 nm or half the box) */
        int *mol = malloc(sizeof(int) * (size_t)e->natoms);
        if (mol) {
            int a = 0;
            for (int k = 0, m = 0; k < e->nspecies; ++k)
                for (int c = 0; c < e->count[k]; ++c, ++m)
                    for (int i = 0; i < e->species[k].natoms; ++i) mol[a++] = m;
            double cut = e->box / 2 < 1.0 ? e->box / 2 : 1.0, dmin;
            int ai, aj;
            if (fs_pack_min_distance(s->r, mol, e->natoms, &s->box, cut, &dmin, &ai, &aj) == FS_OK && ai >= 0)
                printf("min distance  %.4f nm between atoms %d and %d (molecules %d and %d)\n", dmin, ai + 1, aj + 1,
                       mol[ai] + 1, mol[aj] + 1);
            free(mol);
        }
    }
    fs_state_destroy(&s);
    fs_electrolyte_destroy(&e);
    if (st != FS_OK) return fs_cli_report("build", fs_fail_context(st, "%s", deck_path));
    return 0;
}

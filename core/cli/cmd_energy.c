/*
 * cmd_energy.c — `ferrosolv energy`: the single-point energy of a GROMACS system, term by term.
 *
 * Reads conf.gro + topol.top (+ run.mdp), evaluates forces, energies and virial once with the chosen backend and
 * prints each term under GROMACS's name, so the output can be set beside `gmx energy` for the same input (a rerun
 * of one frame). Any .mdp key can also be given as an option, --key value, and wins over the file: the options mirror
 * the .mdp names (--rcoulomb, --rvdw, --fourierspacing, --pme-order, --ewald-rtol, --DispCorr, ...).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/ewald_setup.h"
#include "../../core/units.h"
#include "../../forcefields/gromacs_input.h"
#include "../../kernels/backend.h"
#include "cli.h"

#define MAX_INCLUDES 32
#define MAX_OVERRIDES 64

static void usage(FILE *out)
{
    fprintf(out, "usage: ferrosolv energy -c conf.gro -p topol.top [-f run.mdp] [options]\n\n"
                 "Prints the potential energy per term (kJ/mol, GROMACS's term names), the virial and the pressure\n"
                 "contribution of the forces.\n\n"
                 "  -c FILE          coordinates (.gro)\n"
                 "  -p FILE          topology (.top)\n"
                 "  -f FILE          run parameters (.mdp); keys that do not change energies are ignored with a note\n"
                 "  -o FILE          write forces (kJ mol^-1 nm^-1), one atom per line: index fx fy fz\n"
                 "  -I DIR           search DIR for #include files (repeatable; GMXLIB is searched after)\n"
                 "  --backend NAME   cpu, opencl, cuda or auto (default: FERROSOLV_BACKEND, else auto)\n"
                 "  --KEY VALUE      any .mdp key, overriding the file, e.g. --rcoulomb 1.2 --pme-order 6\n"
                 "                   --ewald-rtol 1e-6 --fourierspacing 0.10 --DispCorr EnerPres --coulombtype Ewald\n"
                 "                   --constraints h-bonds --define -DFLEXIBLE\n");
}

static fs_status write_forces(const char *path, const fs_state *s)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *fp = fopen(tmp, "w");
    if (!fp) return fs_fail(FS_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    fprintf(fp, "# ferrosolv energy forces, kJ mol^-1 nm^-1\n# atom fx fy fz\n");
    for (int i = 0; i < s->natoms; ++i)
        fprintf(fp, "%d %.12e %.12e %.12e\n", i + 1, s->f[0][i], s->f[1][i], s->f[2][i]);
    int bad = ferror(fp);
    bad |= fclose(fp) != 0;
    if (bad || rename(tmp, path) != 0) {
        remove(tmp);
        return fs_fail(FS_ERR_IO, "%s: write failed", path);
    }
    return FS_OK;
}

static void print_report(const fs_topology *top, const fs_state *s, const fs_mdp *m, const fs_energies *e,
                         const char *backend)
{
    const fs_forceparams *p = &m->force;
    double beta = fs_ewald_beta(p->rcoulomb, p->ewald_rtol);
    printf("system       %s\n", top->title);
    printf("atoms        %d in %d molecules, total charge %.6f e\n", top->natoms, top->nmolecules,
           fs_topology_total_charge(top));
    printf("box          %.6f x %.6f x %.6f nm\n", s->box.len[0], s->box.len[1], s->box.len[2]);
    printf("backend      %s (%s)\n", backend,
           strcmp(backend, "cpu") == 0 ? "double precision"
           : getenv("FERROSOLV_PRECISION") && !strcmp(getenv("FERROSOLV_PRECISION"), "double")
               ? "double precision"
               : "mixed precision");
    printf("cut-offs     rcoulomb %g nm, rvdw %g nm, modifiers %s/%s, DispCorr %s\n", p->rcoulomb, p->rvdw,
           p->coulomb_modifier == FS_MOD_NONE ? "none" : "potential-shift",
           p->vdw_modifier == FS_MOD_NONE ? "none" : "potential-shift",
           p->dispcorr == FS_DISPCORR_NO     ? "no"
           : p->dispcorr == FS_DISPCORR_ENER ? "Ener"
                                             : "EnerPres");
    if (p->coulombtype == FS_COUL_PME) {
        int n[3] = {0, 0, 0};
        fs_pme_grid_size(&s->box, p, n);
        printf("electrostatics PME, grid %d x %d x %d, order %d, ewald-rtol %g, beta %.10f nm^-1\n", n[0], n[1], n[2],
               p->pme_order, p->ewald_rtol, beta);
    } else {
        printf("electrostatics plain Ewald sum, ewald-rtol %g, beta %.10f nm^-1\n", p->ewald_rtol, beta);
    }
    printf("\nEnergies (kJ/mol)\n");
    for (int t = 0; t < FS_TERM_COUNT; ++t) printf("  %-16s %24.10f\n", fs_term_name((fs_term)t), e->term[t]);
    printf("  %-16s %24.10f\n", "Potential", fs_energies_potential(e));
    printf("\nVirial (kJ/mol)\n");
    for (int a = 0; a < 3; ++a)
        printf("  %20.10f %20.10f %20.10f\n", e->virial[a][0], e->virial[a][1], e->virial[a][2]);
    double vol = fs_box_volume(&s->box);
    double pvir = -2.0 / (3.0 * vol) * (e->virial[0][0] + e->virial[1][1] + e->virial[2][2]) * FS_PRESFAC;
    printf("\nPressure from the virial alone (no kinetic part): %.6f bar\n", pvir);
}

int fs_cmd_energy(int argc, char **argv)
{
    const char *gro = NULL, *topf = NULL, *mdpf = NULL, *forces = NULL, *backend_name = NULL;
    const char *includes[MAX_INCLUDES];
    int nincl = 0;
    const char *ov_key[MAX_OVERRIDES], *ov_val[MAX_OVERRIDES];
    int nov = 0;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "ferrosolv energy: option '%s' needs a value\n", a);
            usage(stderr);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "-c"))
            gro = v;
        else if (!strcmp(a, "-p"))
            topf = v;
        else if (!strcmp(a, "-f"))
            mdpf = v;
        else if (!strcmp(a, "-o"))
            forces = v;
        else if (!strcmp(a, "--backend"))
            backend_name = v;
        else if (!strcmp(a, "-I") && nincl < MAX_INCLUDES)
            includes[nincl++] = v;
        else if (!strncmp(a, "--", 2) && a[2] && nov < MAX_OVERRIDES) {
            ov_key[nov] = a + 2;
            ov_val[nov++] = v;
        } else {
            fprintf(stderr, "ferrosolv energy: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!gro || !topf) {
        fprintf(stderr, "ferrosolv energy: -c conf.gro and -p topol.top are required\n");
        usage(stderr);
        return 2;
    }
    const fs_backend_ops *ops = NULL;
    fs_status sel = fs_backend_select(backend_name, &ops);
    if (sel != FS_OK) return fs_cli_report("energy", sel);

    fs_mdp m;
    fs_mdp_init(&m);
    char notes[8192] = "";
    fs_status st = mdpf ? fs_mdp_read(mdpf, &m, notes, sizeof notes) : FS_OK;
    for (int k = 0; st == FS_OK && k < nov; ++k) {
        char where[80];
        int note = 0;
        snprintf(where, sizeof where, "option --%s", ov_key[k]);
        st = fs_mdp_set(&m, ov_key[k], ov_val[k], where, &note);
        if (st == FS_OK && note) {
            fprintf(stderr, "ferrosolv energy: unknown option '--%s'\n", ov_key[k]);
            return 2;
        }
    }
    if (st != FS_OK) return fs_cli_report("energy", st);
    if (*notes) fprintf(stderr, "%s", notes);

    fs_topology *top = NULL;
    fs_state *s = NULL;
    fs_backend *b = NULL;
    fs_energies e;
    st = fs_gromacs_load(topf, gro, &m, includes, nincl, &top, &s);
    if (st == FS_OK) st = ops->create(top, &m.force, &b);
    if (st == FS_OK) st = ops->upload(b, s);
    if (st == FS_OK) st = ops->compute(b, FS_COMPUTE_FORCES | FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL, &e);
    if (st == FS_OK) st = ops->download(b, s, FS_SYNC_FORCES);
    if (st == FS_OK && forces) st = write_forces(forces, s);
    int rc = 0;
    if (st == FS_OK)
        print_report(top, s, &m, &e, ops->name);
    else
        rc = fs_cli_report("energy", st);
    if (b) ops->destroy(&b);
    fs_state_destroy(&s);
    fs_topology_destroy(&top);
    return rc;
}

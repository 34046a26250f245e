/*
 * electrolyte_write.c — writing a built electrolyte: .gro coordinates, a .top, and the force-field files it includes.
 *
 * The .top must load in GROMACS (grompp) and in ferrosolv (fs_top_read) wherever the user moves the output, so it
 * depends on nothing outside its own directory for the shipped molecules: forcefield.itp and each shipped molecule's
 * .itp are copied into a directory next to the .top (by default "<top stem>_ff", so that two systems written into the
 * same directory, say with different charge scalings, never share or overwrite each other's files) and #included by
 * that relative path, which both readers resolve against the including file's directory. A user's own .itp is
 * #included by its absolute path (it may #include files of its own, relative to where it lives), right after
 * forcefield.itp so that any [ atomtypes ] it adds come before the first [ moleculetype ].
 *
 * Ionic charge scaling. With charge-scale = f != 1 every charged molecule's copy has each [ atoms ] charge multiplied
 * by f (q -> f q; the line keeps the published value in a comment, and the file says so in its first line). This is
 * the usual electronic-continuum correction for Li salts (f = 0.7-0.8; Leontyev & Stuchebrukhov, Phys. Chem. Chem.
 * Phys. 13, 2613 (2011)); solvents are untouched, and the system stays neutral because each salt's pair is scaled by
 * the same factor.
 *
 * The .gro has one residue per molecule, numbered from 1 in [ molecules ] order, with the residue and atom names of
 * the topology, positions with 3 decimals (GROMACS's resolution, which the packer rounded to already).
 */
#include "electrolyte.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/io/gro.h"
#include "../core/io/textfile.h"

#define PATHLEN (FS_SPECIES_PATH + 256)

/* Copies src to dst; when scale != 1, multiplies the charge (7th field) of every [ atoms ] line by scale. */
static fs_status copy_itp(const char *src, const char *dst, double scale)
{
    fs_text t;
    fs_status st = fs_text_load(src, &t);
    if (st != FS_OK) return st;
    FILE *f = fopen(dst, "w");
    if (!f) {
        fs_text_free(&t);
        return fs_fail(FS_ERR_IO, "%s: cannot write: %s", dst, strerror(errno));
    }
    int bad = 0, in_atoms = 0;
    if (scale != 1.0)
        bad |= fprintf(f,
                       "; ferrosolv build: the [ atoms ] charges below are the published ones (kept in the "
                       "comments) times charge-scale = %g\n",
                       scale) < 0;
    for (int k = 0; k < t.nlines && !bad; ++k) {
        const char *line = t.line[k];
        const char *s = line + strspn(line, " \t");
        if (*s == '[') {
            char word[64] = "";
            (void)sscanf(s, "[ %63[^] \t]", word);
            in_atoms = !strcmp(word, "atoms");
        } else if (in_atoms && scale != 1.0 && *s && *s != ';' && *s != '#') {
            /* find the 7th blank-separated field before any comment */
            size_t end = strcspn(line, ";");
            size_t pos = 0, start7 = 0, end7 = 0;
            int field = 0;
            while (pos < end && field < 7) {
                pos += strspn(line + pos, " \t");
                if (pos >= end) break;
                size_t len = strcspn(line + pos, " \t;");
                if (++field == 7) start7 = pos, end7 = pos + len;
                pos += len;
            }
            char *stop = NULL;
            double q = field == 7 ? strtod(line + start7, &stop) : 0;
            if (field == 7 && stop == line + end7) {
                bad |= fprintf(f, "%.*s%9.6f%s%s published charge %.6f\n", (int)start7, line, q * scale, line + end7,
                               line[end] == ';' ? "," : " ;", q) < 0;
                continue;
            }
        }
        bad |= fprintf(f, "%s\n", line) < 0;
    }
    bad |= fclose(f) != 0;
    fs_text_free(&t);
    if (bad) {
        remove(dst);
        return fs_fail(FS_ERR_IO, "%s: write failed", dst);
    }
    return FS_OK;
}

static fs_status write_top(const fs_electrolyte *e, const char *top_path, const char *ffname)
{
    FILE *f = fopen(top_path, "w");
    if (!f) return fs_fail(FS_ERR_IO, "%s: cannot write: %s", top_path, strerror(errno));
    const fs_electrolyte_spec *sp = &e->spec;
    int bad = fprintf(f, "; %s\n; Written by `ferrosolv build` (systems/electrolyte.c).\n", e->title) < 0;
    for (int s = 0; s < sp->nsalts; ++s)
        bad |= fprintf(f, ";   salt %s: %g mol/L asked, %d ion pairs = %.4f mol/L in the box\n", sp->salt[s].name,
                       sp->salt[s].molarity, e->npairs[s], e->molarity[s]) < 0;
    bad |= fprintf(f, ";   %d molecules, %d atoms, cubic box %.5f nm, %.4f g/cm^3 (%s), tolerance %g nm, seed %llu\n",
                   e->nmolecules, e->natoms, e->box, e->density, sp->density > 0 ? "as asked" : "ideal-mixing estimate",
                   sp->tolerance, (unsigned long long)sp->seed) < 0;
    if (sp->charge_scale != 1.0)
        bad |= fprintf(f, ";   ion charges scaled by %g in the copies under %s/\n", sp->charge_scale, ffname) < 0;
    bad |= fprintf(f,
                   "; Force field: %s (sources of every value in its README.md and .itp comments), copied into "
                   "%s/.\n\n#include \"%s/forcefield.itp\"\n",
                   sp->forcefield_dir, ffname, ffname) < 0;
    for (int k = 0; k < e->nspecies; ++k)
        if (!e->species[k].shipped) {
            char abs[PATHLEN];
            if (!realpath(e->species[k].itp, abs)) snprintf(abs, sizeof abs, "%s", e->species[k].itp);
            bad |= fprintf(f, "#include \"%s\"\n", abs) < 0;
        }
    for (int k = 0; k < e->nspecies; ++k)
        if (e->species[k].shipped) bad |= fprintf(f, "#include \"%s/%s.itp\"\n", ffname, e->stem[k]) < 0;
    bad |= fprintf(f, "\n[ system ]\n%s\n\n[ molecules ]\n; name    count\n", e->title) < 0;
    for (int k = 0; k < e->nspecies; ++k) bad |= fprintf(f, "%-8s  %d\n", e->species[k].name, e->count[k]) < 0;
    bad |= fclose(f) != 0;
    if (bad) {
        remove(top_path);
        return fs_fail(FS_ERR_IO, "%s: write failed", top_path);
    }
    return FS_OK;
}

/* A topology with just the names the .gro writer needs: one residue per molecule. */
static fs_status names_topology(const fs_electrolyte *e, fs_topology **out)
{
    fs_status st = fs_topology_create(out);
    int resnr = 0;
    for (int k = 0; k < e->nspecies && st == FS_OK; ++k)
        for (int c = 0; c < e->count[k] && st == FS_OK; ++c) {
            ++resnr;
            for (int a = 0; a < e->species[k].natoms && st == FS_OK; ++a) {
                fs_atom at = e->species[k].atoms[a];
                at.resnr = resnr;
                at.molecule = resnr - 1;
                at.type = 0;
                st = fs_topology_add_atom(*out, &at, NULL);
            }
        }
    if (st != FS_OK) fs_topology_destroy(out);
    return st;
}

fs_status fs_electrolyte_write(const fs_electrolyte *e, const fs_state *s, const char *gro_path, const char *top_path,
                               const char *ff_dir)
{
    if (s->natoms != e->natoms)
        return fs_fail(FS_ERR_INVALID, "the state has %d atoms, the electrolyte %d", s->natoms, e->natoms);
    /* directory of the .top and the force-field directory's name */
    char topdir[PATHLEN], ffname[PATHLEN], ffpath[2 * PATHLEN], src[2 * PATHLEN], dst[3 * PATHLEN];
    const char *slash = strrchr(top_path, '/');
    if (strlen(top_path) >= PATHLEN) return fs_fail(FS_ERR_INVALID, "%s: path too long", top_path);
    if (slash)
        snprintf(topdir, sizeof topdir, "%.*s", (int)(slash - top_path), top_path);
    else
        snprintf(topdir, sizeof topdir, ".");
    if (!topdir[0]) snprintf(topdir, sizeof topdir, "/");
    if (ff_dir && ff_dir[0]) {
        snprintf(ffname, sizeof ffname, "%s", ff_dir);
    } else {
        const char *base = slash ? slash + 1 : top_path;
        const char *dot = strrchr(base, '.');
        int len = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
        snprintf(ffname, sizeof ffname, "%.*s_ff", len, base);
    }
    if (ffname[0] == '/' || strchr(ffname, '"'))
        return fs_fail(FS_ERR_INVALID, "force-field directory '%s' must be a relative path (to the .top's directory)",
                       ffname);
    snprintf(ffpath, sizeof ffpath, "%s/%s", topdir, ffname);
    if (mkdir(ffpath, 0755) != 0 && errno != EEXIST)
        return fs_fail(FS_ERR_IO, "%s: cannot create directory: %s", ffpath, strerror(errno));
    struct stat sb;
    if (stat(ffpath, &sb) != 0 || !S_ISDIR(sb.st_mode)) return fs_fail(FS_ERR_IO, "%s: not a directory", ffpath);

    snprintf(src, sizeof src, "%s/forcefield.itp", e->spec.forcefield_dir);
    snprintf(dst, sizeof dst, "%s/forcefield.itp", ffpath);
    fs_status st = copy_itp(src, dst, 1.0);
    for (int k = 0; k < e->nspecies && st == FS_OK; ++k) {
        if (!e->species[k].shipped) continue;
        int ion = fabs(e->species[k].charge) > 1e-6;
        snprintf(dst, sizeof dst, "%s/%s.itp", ffpath, e->stem[k]);
        st = copy_itp(e->species[k].itp, dst, ion ? e->spec.charge_scale : 1.0);
    }
    if (st == FS_OK) st = write_top(e, top_path, ffname);
    fs_topology *names = NULL;
    if (st == FS_OK) st = names_topology(e, &names);
    if (st == FS_OK) st = fs_gro_write(gro_path, e->title, names, s, 0, 3);
    fs_topology_destroy(&names);
    return st;
}

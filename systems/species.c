/*
 * species.c — the builders' molecule library: which solvents and salts are shipped, the numbers the electrolyte
 * recipe needs for them, and loading any molecule (shipped or the user's) as topology + reference geometry.
 *
 * Densities of the pure solvents (g/cm^3), used to turn volume ratios into mole numbers and to estimate the volume of
 * a mixture by ideal mixing (electrolyte.c):
 *   EC  1.321  liquid at 313 K (EC melts at 309.6 K)  K. Xu, Chem. Rev. 104, 4303 (2004), Table 1
 *   DMC 1.063  298 K                                  ibid.
 *   DME 0.86   298 K                                  ibid.
 *   FEC 1.45   298 K, manufacturers' data sheets (not checked against a primary measurement)
 *
 * Molar volumes of the salts in solution (cm^3/mol): the volume one mole of salt adds to the solution, the
 * ideal-mixing counterpart of a partial molar volume. Measured apparent molar volumes are not available to us for all
 * four salts in these solvents, so each is estimated from crystal or ionic-liquid densities as follows (the result
 * only sets the starting box, which NPT equilibration corrects; expect +-10 %):
 *   LiPF6   53.45  crystal volume: R-3, a = 4.932 A, c = 12.641 A (hexagonal axes, Z = 3, powder X-ray Rietveld
 *                  refinement) -> 88.76 A^3 per LiPF6 (2.84 g/cm^3)
 *   LiNO3   28.97  crystal density 2.38 g/cm^3 (CRC Handbook of Chemistry and Physics), M = 68.946 g/mol
 *   LiTFSI 139.28  LiPF6 + V([C4C1im][NTf2]) - V([C4C1im][PF6]), the anion volume difference taken from the two
 *                  ionic liquids (densities 1.43 and 1.37 g/cm^3 at 298 K, Huddleston et al., Green Chem. 3, 156
 *                  (2001); M = 419.36, 284.18 g/mol): 53.45 + 293.26 - 207.43
 *   LiFSI   82.72  LiTFSI - (V([C2C1im][NTf2]) - V([C2C1im][FSI])) (densities 1.52 g/cm^3, Bonhote et al., Inorg.
 *                  Chem. 35, 1168 (1996), and 1.45 g/cm^3, Matsumoto et al., J. Power Sources 160, 1308 (2006);
 *                  M = 391.31, 291.28 g/mol): 139.28 - (257.44 - 200.88)
 *
 * Loading a molecule: the .itp is read by the project's GROMACS topology reader (forcefields/top_reader.h) through a
 * three-line probe topology written to a temporary file — #include the force field's [defaults]/[atomtypes], #include
 * the .itp, one copy in [molecules] — so that exactly the code that reads the final system also reads its parts.
 * The .gro must list the same atoms in the same order; its coordinates, centred on their centroid, are the rigid
 * reference the packer copies.
 */
#include "species.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/io/gro.h"
#include "../core/io/textfile.h"
#include "../forcefields/top_reader.h"

static const fs_solvent_info solvents[] = {
    {"EC", "ec", 1.321, "ethylene carbonate, liquid at 313 K: K. Xu, Chem. Rev. 104, 4303 (2004), Table 1"},
    {"DMC", "dmc", 1.063, "dimethyl carbonate, 298 K: K. Xu, Chem. Rev. 104, 4303 (2004), Table 1"},
    {"DME", "dme", 0.86, "1,2-dimethoxyethane, 298 K: K. Xu, Chem. Rev. 104, 4303 (2004), Table 1"},
    {"FEC", "fec", 1.45, "fluoroethylene carbonate, 298 K: manufacturers' data sheets"},
};

static const fs_salt_info salts[] = {
    {"LiPF6", "li", "pf6", 53.45, "crystal volume, R-3 a = 4.932 A c = 12.641 A Z = 3"},
    {"LiTFSI", "li", "tfsi", 139.28, "LiPF6 + V([C4C1im][NTf2]) - V([C4C1im][PF6]) (Huddleston 2001)"},
    {"LiFSI", "li", "fsi", 82.72, "LiTFSI - (V([C2C1im][NTf2]) - V([C2C1im][FSI])) (Bonhote 1996, Matsumoto 2006)"},
    {"LiNO3", "li", "no3", 28.97, "crystal density 2.38 g/cm^3 (CRC Handbook)"},
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

const fs_solvent_info *fs_solvent_find(const char *name)
{
    for (int i = 0; i < COUNT(solvents); ++i)
        if (!strcasecmp(name, solvents[i].name)) return &solvents[i];
    return NULL;
}

const fs_salt_info *fs_salt_find(const char *name)
{
    for (int i = 0; i < COUNT(salts); ++i)
        if (!strcasecmp(name, salts[i].name)) return &salts[i];
    return NULL;
}

void fs_solvent_names(char *buf, int len)
{
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; i < COUNT(solvents) && n < len; ++i)
        n += snprintf(buf + n, (size_t)(len - n), "%s%s", i ? ", " : "", solvents[i].name);
}

void fs_salt_names(char *buf, int len)
{
    int n = 0;
    buf[0] = '\0';
    for (int i = 0; i < COUNT(salts) && n < len; ++i)
        n += snprintf(buf + n, (size_t)(len - n), "%s%s", i ? ", " : "", salts[i].name);
}

const char *fs_forcefield_dir(void)
{
    const char *env = getenv("FERROSOLV_DATA");
    if (env && *env) return env;
#ifdef FS_DATA_DIR
    return FS_DATA_DIR;
#else
    /* __FILE__ is the absolute path of this source when CMake compiles it: <root>/systems/species.c */
    static char dir[FS_SPECIES_PATH];
    if (!dir[0]) {
        const char *f = __FILE__, *tail = strstr(f, "systems/species.c");
        if (f[0] == '/' && tail && (size_t)(tail - f) + 20 < sizeof dir)
            snprintf(dir, sizeof dir, "%.*sforcefields/data", (int)(tail - f), f);
        else
            snprintf(dir, sizeof dir, "forcefields/data");
    }
    return dir;
#endif
}

void fs_species_free(fs_species *sp)
{
    free(sp->atoms);
    free(sp->x);
    memset(sp, 0, sizeof *sp);
}

/* The name of the first [ moleculetype ] of an .itp (the first word of its first data line). */
static fs_status moleculetype_name(const char *path, char *name, size_t cap)
{
    fs_text t;
    fs_status st = fs_text_load(path, &t);
    if (st != FS_OK) return st;
    int in_mt = 0;
    st = fs_fail(FS_ERR_PARSE, "%s: no [ moleculetype ] with a name found", path);
    for (int k = 0; k < t.nlines; ++k) {
        char *s = t.line[k];
        char *c = strchr(s, ';');
        if (c) *c = '\0';
        while (isspace((unsigned char)*s)) ++s;
        if (!*s || *s == '#') continue;
        if (*s == '[') {
            char word[64];
            if (sscanf(s, "[ %63[^] \t]", word) == 1) in_mt = !strcasecmp(word, "moleculetype");
            continue;
        }
        if (in_mt) {
            size_t n = strcspn(s, " \t\r");
            if (n == 0 || n >= cap) {
                st = fs_fail(FS_ERR_PARSE, "%s:%d: molecule type name missing or longer than %zu characters", path,
                             k + 1, cap - 1);
            } else {
                memcpy(name, s, n);
                name[n] = '\0';
                st = FS_OK;
            }
            break;
        }
    }
    fs_text_free(&t);
    return st;
}

/* Writes the probe topology into a new temporary file; *tmp receives its path. */
static fs_status write_probe(const char *ff_abs, const char *itp_abs, const char *name, char *tmp, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    if ((size_t)snprintf(tmp, cap, "%s/ferrosolv-probe-XXXXXX.top", dir) >= cap)
        return fs_fail(FS_ERR_IO, "temporary directory path too long: %s", dir);
    int fd = mkstemps(tmp, 4);
    if (fd < 0) return fs_fail(FS_ERR_IO, "%s: cannot create a temporary file: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return fs_fail(FS_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
    }
    int bad = fprintf(f, "#include \"%s\"\n#include \"%s\"\n[ system ]\nprobe\n[ molecules ]\n%s 1\n", ff_abs, itp_abs,
                      name) < 0;
    bad |= fclose(f) != 0;
    if (bad) {
        unlink(tmp);
        return fs_fail(FS_ERR_IO, "%s: write failed", tmp);
    }
    return FS_OK;
}

fs_status fs_species_load(const char *forcefield_itp, const char *itp_path, const char *gro_path, fs_species *sp)
{
    memset(sp, 0, sizeof *sp);
    if (strlen(itp_path) >= sizeof sp->itp || strlen(gro_path) >= sizeof sp->gro)
        return fs_fail(FS_ERR_INVALID, "%s: path too long", itp_path);
    strcpy(sp->itp, itp_path);
    strcpy(sp->gro, gro_path);
    char ff_abs[PATH_MAX], itp_abs[PATH_MAX], tmp[FS_SPECIES_PATH];
    if (!realpath(forcefield_itp, ff_abs))
        return fs_fail(FS_ERR_IO, "%s: cannot open: %s", forcefield_itp, strerror(errno));
    if (!realpath(itp_path, itp_abs)) return fs_fail(FS_ERR_IO, "%s: cannot open: %s", itp_path, strerror(errno));
    fs_status st = moleculetype_name(itp_path, sp->name, sizeof sp->name);
    if (st != FS_OK) return st;
    st = write_probe(ff_abs, itp_abs, sp->name, tmp, sizeof tmp);
    if (st != FS_OK) return st;
    fs_topology *top = NULL;
    st = fs_top_read(tmp, NULL, &top);
    unlink(tmp);
    if (st != FS_OK) return fs_fail_context(st, "reading molecule %s", itp_path);
    fs_gro *gro = NULL;
    st = fs_gro_read(gro_path, &gro);
    if (st == FS_OK && gro->natoms != top->natoms)
        st = fs_fail(FS_ERR_INVALID, "%s has %d atoms but molecule %s in %s has %d", gro_path, gro->natoms, sp->name,
                     itp_path, top->natoms);
    for (int i = 0; st == FS_OK && i < top->natoms; ++i)
        if (strcmp(gro->atomname[i], top->atoms[i].name) != 0)
            st = fs_fail(FS_ERR_INVALID, "%s:%d: atom %d is '%s' but '%s' in %s (the atoms must be in the same order)",
                         gro_path, i + 3, i + 1, gro->atomname[i], top->atoms[i].name, itp_path);
    if (st == FS_OK) {
        sp->natoms = top->natoms;
        sp->atoms = malloc(sizeof(fs_atom) * (size_t)sp->natoms);
        sp->x = malloc(sizeof(double) * 3 * (size_t)sp->natoms);
        if (!sp->atoms || !sp->x) st = fs_fail(FS_ERR_NOMEM, "%s: out of memory", itp_path);
    }
    if (st == FS_OK) {
        double c[3] = {0, 0, 0};
        for (int i = 0; i < sp->natoms; ++i) {
            sp->atoms[i] = top->atoms[i];
            sp->mass += top->atoms[i].mass;
            sp->charge += top->atoms[i].charge;
            for (int d = 0; d < 3; ++d) c[d] += gro->state->r[d][i] / sp->natoms;
        }
        for (int i = 0; i < sp->natoms; ++i)
            for (int d = 0; d < 3; ++d) sp->x[3 * i + d] = gro->state->r[d][i] - c[d];
    }
    fs_gro_destroy(&gro);
    fs_topology_destroy(&top);
    if (st != FS_OK) {
        free(sp->atoms);
        free(sp->x);
        sp->atoms = NULL;
        sp->x = NULL;
        sp->natoms = 0;
    }
    return st;
}

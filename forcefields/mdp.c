/*
 * mdp.c — reading GROMACS .mdp files into fs_forceparams.
 *
 * An .mdp file is a list of "key = value" lines; ';' starts a comment. grompp treats '-' and '_' in keys as the
 * same character and compares keys case-insensitively; values of enumerated options are compared
 * case-insensitively too. The table `keys` below lists every key ferrosolv understands, with a setter that parses
 * and range-checks the value. Keys that shape the energy but are not implemented (reaction-field, switched LJ,
 * LJ-PME, free energy, ...) are refused with an error rather than silently computing something else; keys that do
 * not change a single-point energy (integrator, output frequencies, temperature coupling, ...) are accepted and
 * reported back as notes, so a user's production .mdp can be used as it is.
 */
#include "mdp.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void fs_mdp_init(fs_mdp *m)
{
    memset(m, 0, sizeof *m);
    m->force = fs_forceparams_default();
    m->constraints = FS_CONSTRAIN_NONE;
}

static fs_status parse_real(const char *v, const char *where, const char *key, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    while (*end && isspace((unsigned char)*end)) end++;
    if (end == v || *end || errno == ERANGE || !isfinite(x))
        return fs_fail(FS_ERR_INVALID, "%s: '%s' needs a number, got '%s'", where, key, v);
    if (x < lo || x > hi) return fs_fail(FS_ERR_INVALID, "%s: '%s' = %s is outside [%g, %g]", where, key, v, lo, hi);
    *out = x;
    return FS_OK;
}

static fs_status parse_int(const char *v, const char *where, const char *key, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    while (*end && isspace((unsigned char)*end)) end++;
    if (end == v || *end || errno == ERANGE)
        return fs_fail(FS_ERR_INVALID, "%s: '%s' needs an integer, got '%s'", where, key, v);
    if (x < lo || x > hi) return fs_fail(FS_ERR_INVALID, "%s: '%s' = %s is outside [%ld, %ld]", where, key, v, lo, hi);
    *out = (int)x;
    return FS_OK;
}

/* Index of v in the NULL-terminated list of accepted spellings (case-insensitive), or -1. */
static int pick(const char *v, const char *const *names)
{
    for (int i = 0; names[i]; ++i)
        if (!strcasecmp(v, names[i])) return i;
    return -1;
}

typedef fs_status (*setter)(fs_mdp *m, const char *key, const char *v, const char *where);

static fs_status set_coulombtype(fs_mdp *m, const char *key, const char *v, const char *where)
{
    static const char *const names[] = {"PME", "Ewald", NULL};
    int k = pick(v, names);
    if (k < 0) return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s = %s is not supported (PME or Ewald)", where, key, v);
    m->force.coulombtype = k == 0 ? FS_COUL_PME : FS_COUL_EWALD;
    return FS_OK;
}

static fs_status set_modifier(fs_modifier *out, const char *key, const char *v, const char *where)
{
    static const char *const names[] = {"Potential-shift", "Potential-shift-Verlet", "None", NULL};
    int k = pick(v, names);
    if (k < 0)
        return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s = %s is not supported (Potential-shift or None)", where, key, v);
    *out = k == 2 ? FS_MOD_NONE : FS_MOD_POTENTIAL_SHIFT;
    return FS_OK;
}

static fs_status set_coulomb_modifier(fs_mdp *m, const char *key, const char *v, const char *where)
{
    return set_modifier(&m->force.coulomb_modifier, key, v, where);
}

static fs_status set_vdw_modifier(fs_mdp *m, const char *key, const char *v, const char *where)
{
    return set_modifier(&m->force.vdw_modifier, key, v, where);
}

static fs_status set_vdwtype(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    static const char *const names[] = {"Cut-off", "Cutoff", NULL};
    if (pick(v, names) < 0)
        return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s = %s is not supported (Cut-off with a modifier)", where, key, v);
    return FS_OK;
}

static fs_status set_rcoulomb(fs_mdp *m, const char *key, const char *v, const char *where)
{
    return parse_real(v, where, key, 1e-3, 1e3, &m->force.rcoulomb);
}

static fs_status set_rvdw(fs_mdp *m, const char *key, const char *v, const char *where)
{
    return parse_real(v, where, key, 1e-3, 1e3, &m->force.rvdw);
}

static fs_status set_fourierspacing(fs_mdp *m, const char *key, const char *v, const char *where)
{
    return parse_real(v, where, key, 1e-3, 10.0, &m->force.fourierspacing);
}

static fs_status set_fourier_n(fs_mdp *m, const char *key, const char *v, const char *where)
{
    int axis = key[strlen(key) - 1] - 'x';
    return parse_int(v, where, key, 0, 4096, &m->force.fourier_n[axis]);
}

static fs_status set_pme_order(fs_mdp *m, const char *key, const char *v, const char *where)
{
    return parse_int(v, where, key, 3, 12, &m->force.pme_order);
}

static fs_status set_ewald_rtol(fs_mdp *m, const char *key, const char *v, const char *where)
{
    return parse_real(v, where, key, 1e-30, 0.5, &m->force.ewald_rtol);
}

static fs_status set_epsilon_r(fs_mdp *m, const char *key, const char *v, const char *where)
{
    double e;
    fs_status st = parse_real(v, where, key, 0.0, 1e6, &e);
    if (st != FS_OK) return st;
    if (e == 0.0) return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s = 0 (infinite dielectric) is not supported", where, key);
    m->force.epsilon_r = e;
    return FS_OK;
}

static fs_status set_dispcorr(fs_mdp *m, const char *key, const char *v, const char *where)
{
    static const char *const names[] = {"no", "Ener", "EnerPres", NULL};
    int k = pick(v, names);
    if (k < 0) return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s = %s is not supported (no, Ener, EnerPres)", where, key, v);
    m->force.dispcorr = k == 0 ? FS_DISPCORR_NO : k == 1 ? FS_DISPCORR_ENER : FS_DISPCORR_ENERPRES;
    return FS_OK;
}

static fs_status set_constraints(fs_mdp *m, const char *key, const char *v, const char *where)
{
    static const char *const names[] = {"none", "h-bonds", "all-bonds", "hbonds", "allbonds", NULL};
    int k = pick(v, names);
    if (k < 0)
        return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s = %s is not supported (none, h-bonds, all-bonds)", where, key, v);
    m->constraints = k == 0 ? FS_CONSTRAIN_NONE : (k == 1 || k == 3) ? FS_CONSTRAIN_H_BONDS : FS_CONSTRAIN_ALL_BONDS;
    return FS_OK;
}

static fs_status set_define(fs_mdp *m, const char *key, const char *v, const char *where)
{
    if (strlen(v) >= sizeof m->define) return fs_fail(FS_ERR_INVALID, "%s: %s is too long", where, key);
    strcpy(m->define, v);
    return FS_OK;
}

/* A key whose only accepted value is the one ferrosolv implements. */
static fs_status require(const char *key, const char *v, const char *where, const char *const *ok, const char *what)
{
    if (pick(v, ok) < 0) return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s = %s is not supported (%s)", where, key, v, what);
    return FS_OK;
}

static fs_status set_cutoff_scheme(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    static const char *const ok[] = {"Verlet", NULL};
    return require(key, v, where, ok, "only the Verlet scheme");
}

static fs_status set_pbc(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    static const char *const ok[] = {"xyz", NULL};
    return require(key, v, where, ok, "only pbc = xyz for now");
}

static fs_status set_no(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    static const char *const ok[] = {"no", "0", NULL};
    return require(key, v, where, ok, "only 'no'");
}

static fs_status set_ewald_geometry(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    static const char *const ok[] = {"3d", NULL};
    return require(key, v, where, ok, "only 3d");
}

static fs_status set_epsilon_surface(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    static const char *const ok[] = {"0", NULL};
    return require(key, v, where, ok, "only 0, tin-foil boundary");
}

static fs_status set_zero(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    static const char *const ok[] = {"0", NULL};
    return require(key, v, where, ok, "only 0");
}

/* A key that changes energies whenever it is given a value. */
static fs_status set_empty(fs_mdp *m, const char *key, const char *v, const char *where)
{
    (void)m;
    if (*v) return fs_fail(FS_ERR_UNSUPPORTED, "%s: %s is not supported (leave it empty)", where, key);
    return FS_OK;
}

static const struct {
    const char *key; /* normalized: lower case, '_' -> '-' */
    setter set;      /* NULL: known, does not change energies */
} keys[] = {
    {"coulombtype", set_coulombtype},
    {"coulomb-modifier", set_coulomb_modifier},
    {"vdw-modifier", set_vdw_modifier},
    {"vdwtype", set_vdwtype},
    {"vdw-type", set_vdwtype},
    {"rcoulomb", set_rcoulomb},
    {"rvdw", set_rvdw},
    {"fourierspacing", set_fourierspacing},
    {"fourier-nx", set_fourier_n},
    {"fourier-ny", set_fourier_n},
    {"fourier-nz", set_fourier_n},
    {"pme-order", set_pme_order},
    {"ewald-rtol", set_ewald_rtol},
    {"epsilon-r", set_epsilon_r},
    {"dispcorr", set_dispcorr},
    {"constraints", set_constraints},
    {"define", set_define},
    {"cutoff-scheme", set_cutoff_scheme},
    {"pbc", set_pbc},
    {"free-energy", set_no},
    {"periodic-molecules", set_no},
    {"implicit-solvent", set_no},
    {"ewald-geometry", set_ewald_geometry},
    {"epsilon-surface", set_epsilon_surface},
    {"nwall", set_zero},
    {"pull", set_no},
    {"awh", set_no},
    {"rotation", set_no},
    {"morse", set_no},
    {"disre", set_no},
    {"orire", set_no},
    {"qmmm", set_no},
    {"energygrp-excl", set_empty},
    {"energygrp-table", set_empty},
    {"electric-field-x", set_empty},
    {"electric-field-y", set_empty},
    {"electric-field-z", set_empty},
    {"e-x", set_empty},
    {"e-y", set_empty},
    {"e-z", set_empty},
};

static void normalize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; ++in) out[n++] = *in == '_' ? '-' : (char)tolower((unsigned char)*in);
    out[n] = '\0';
}

fs_status fs_mdp_set(fs_mdp *m, const char *key, const char *value, const char *where, int *note)
{
    char k[64];
    if (note) *note = 0;
    normalize(key, k, sizeof k);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i)
        if (!strcmp(k, keys[i].key)) return keys[i].set(m, k, value, where);
    if (note) *note = 1;
    return FS_OK;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

fs_status fs_mdp_read(const char *path, fs_mdp *m, char *notes, size_t notes_cap)
{
    FILE *fp = fopen(path, "r");
    if (!fp) return fs_fail(FS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char line[4096];
    int lineno = 0;
    size_t nlen = notes ? strlen(notes) : 0;
    fs_status st = FS_OK;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        char where[600];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!strchr(line, '\n') && !feof(fp)) {
            st = fs_fail(FS_ERR_PARSE, "%s: line too long", where);
            break;
        }
        char *c = strchr(line, ';');
        if (c) *c = '\0';
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            st = fs_fail(FS_ERR_PARSE, "%s: expected 'key = value', got '%s'", where, s);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!*key) {
            st = fs_fail(FS_ERR_PARSE, "%s: missing key before '='", where);
            break;
        }
        int note = 0;
        st = fs_mdp_set(m, key, value, where, &note);
        if (st != FS_OK) break;
        if (note && notes && nlen + 1 < notes_cap) {
            int w =
                snprintf(notes + nlen, notes_cap - nlen, "%s: ignoring '%s' (does not change energies)\n", where, key);
            if (w > 0) nlen = nlen + (size_t)w < notes_cap ? nlen + (size_t)w : notes_cap - 1;
        }
    }
    if (st == FS_OK && ferror(fp)) st = fs_fail(FS_ERR_IO, "%s: read error", path);
    fclose(fp);
    return st;
}

int fs_mdp_defines(const fs_mdp *m, char *storage, const char **symbols, int max)
{
    strcpy(storage, m->define);
    int n = 0;
    for (char *tok = strtok(storage, " \t"); tok && n < max; tok = strtok(NULL, " \t")) {
        if (tok[0] == '-' && tok[1] == 'D') tok += 2;
        if (*tok) symbols[n++] = tok;
    }
    return n;
}

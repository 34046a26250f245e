/*
 * deck.c — reading a run deck: the key table, value parsing, path resolution, the two passes over the file.
 *
 * The table `fs_deck_rows` is the single list of keys. A row names the section, the field of fs_deck (by offset),
 * the type and accepted range or names, the unit and a description; parsing, the help text (deck_text.c) and the
 * cross-key checks (deck_check.c) all read it. Energy keys (rcoulomb, DispCorr, constraints, define, ...) carry
 * FS_DKF_MDP: their value is handed to forcefields/mdp.c's fs_mdp_set, so a deck and an .mdp accept the same
 * spellings and ranges for them; the row still records the field so that the help can show the default.
 *
 * Matching. Sections and keys are compared case-insensitively with '-' and '_' equivalent (grompp's rule for
 * keys); values of ferrosolv's own enumerations are compared case-insensitively ignoring '-' and '_' (grompp's
 * rule for values, so "V-Rescale", "v_rescale" and "vrescale" agree). Key names are unique across sections, so a
 * key in the wrong section is reported with the section it belongs to.
 *
 * Order. The deck says `mdp = file.mdp` somewhere in [input]; its energy keys must apply before the deck's own,
 * wherever the line stands. So the file is read twice through core/ini.h: the first pass only picks up `mdp`,
 * which is then read with fs_mdp_read over the defaults; the second pass applies every key. Decks are a few dozen
 * lines, so reading twice costs nothing and keeps a single code path for values.
 *
 * Paths. A relative path in a deck means "beside the deck": it is joined to the deck's directory when read, and so
 * are the default output names (traj.h5md, md.log, ...), so a run writes beside its deck from any directory.
 */
#include "deck.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deck_table.h"
#include "ini.h"

#define F(field) offsetof(fs_deck, field), sizeof(((fs_deck *)0)->field)
#define BIG 1e15

_Static_assert(sizeof(fs_deck_integrator) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(fs_coulombtype) == sizeof(int), "enums are stored as int");

static const char *const integrator_names[] = {"md", "md-vv", "sd", "steep", NULL};
static const int integrator_values[] = {FS_DECK_MD, FS_DECK_MD, FS_DECK_SD, FS_DECK_STEEP};
static const char *const tcoupl_names[] = {"no", "v-rescale", NULL};
static const int tcoupl_values[] = {FS_TCOUPL_NO, FS_TCOUPL_V_RESCALE};
static const char *const pcoupl_names[] = {"no", "MC", "MC-z", NULL};
static const int pcoupl_values[] = {FS_PCOUPL_NO, FS_PCOUPL_MC_ISOTROPIC, FS_PCOUPL_MC_Z};
static const char *const comm_names[] = {"linear", "none", NULL};
static const int comm_values[] = {FS_COMM_LINEAR, FS_COMM_NONE};
static const char *const yesno_names[] = {"no", "yes", NULL};
static const int yesno_values[] = {0, 1};
/* Names of the .mdp enumerations, for showing values; fs_mdp_set parses them. */
static const char *const constraints_names[] = {"none", "h-bonds", "all-bonds", NULL};
static const int constraints_values[] = {FS_CONSTRAIN_NONE, FS_CONSTRAIN_H_BONDS, FS_CONSTRAIN_ALL_BONDS};
static const char *const coulombtype_names[] = {"PME", "Ewald", NULL};
static const int coulombtype_values[] = {FS_COUL_PME, FS_COUL_EWALD};
static const char *const modifier_names[] = {"Potential-shift", "None", NULL};
static const int modifier_values[] = {FS_MOD_POTENTIAL_SHIFT, FS_MOD_NONE};
static const char *const dispcorr_names[] = {"no", "Ener", "EnerPres", NULL};
static const int dispcorr_values[] = {FS_DISPCORR_NO, FS_DISPCORR_ENER, FS_DISPCORR_ENERPRES};

#define ROW(sec, name, unit, help)                                                                                     \
    {                                                                                                                  \
        sec, name, unit, help                                                                                          \
    }
#define ENUMS(n) n##_names, n##_values

const fs_deck_row fs_deck_rows[] = {
    /* [input] */
    {ROW("input", "conf", "", "coordinates, GROMACS .gro"), FS_DK_PATH, F(input.conf), 0, 0, NULL, NULL,
     FS_DKF_REQUIRED},
    {ROW("input", "top", "", "topology, GROMACS .top"), FS_DK_PATH, F(input.top), 0, 0, NULL, NULL, FS_DKF_REQUIRED},
    {ROW("input", "mdp", "",
         "GROMACS .mdp whose energy keys (rcoulomb, DispCorr, ...) apply before this deck's; its dynamics keys are "
         "not used (listed as notes)"),
     FS_DK_PATH, F(input.mdp), 0, 0, NULL, NULL, 0},
    {ROW("input", "include", "", "extra #include directories for the topology, ':'-separated"), FS_DK_DIRS,
     F(input.include), 0, 0, NULL, NULL, 0},
    {ROW("input", "define", "", "preprocessor symbols for the topology, as in an .mdp: -DFLEXIBLE -DPOSRES"),
     FS_DK_TEXT, F(mdp.define), 0, 0, NULL, NULL, FS_DKF_MDP},

    /* [run]: what a step does */
    {ROW("run", "integrator", "",
         "md: velocity Verlet (NVE, or NVT with tcoupl); sd: Langevin BAOAB, its own thermostat; "
         "steep: energy minimization (steepest descent)"),
     FS_DK_ENUM, F(integrator), 0, 0, ENUMS(integrator), 0},
    {ROW("run", "dt", "ps", "time step"), FS_DK_REAL, F(dyn.dt), 0, 0.1, NULL, NULL, FS_DKF_LO_OPEN},
    {ROW("run", "nsteps", "steps", "number of MD steps, or the most minimization steps"), FS_DK_INT64, F(nsteps), 0,
     BIG, NULL, NULL, 0},
    {ROW("run", "tinit", "ps", "time of step 0"), FS_DK_REAL, F(tinit), -BIG, BIG, NULL, NULL, 0},
    {ROW("run", "tcoupl", "", "temperature coupling of integrator = md: v-rescale is Bussi's stochastic rescaling"),
     FS_DK_ENUM, F(dyn.tcoupl), 0, 0, ENUMS(tcoupl), 0},
    {ROW("run", "ref-t", "K", "temperature of the thermostat (required with sd or v-rescale)"), FS_DK_REAL,
     F(dyn.ref_t), 0, 1e5, NULL, NULL, 0},
    {ROW("run", "tau-t", "ps", "v-rescale time constant; sd inverse friction"), FS_DK_REAL, F(dyn.tau_t), 0, 1e6, NULL,
     NULL, FS_DKF_LO_OPEN},
    {ROW("run", "pcoupl", "",
         "pressure coupling: MC = isotropic Monte Carlo barostat, MC-z = along z only (x, y fixed; slabs); needs a "
         "thermostat"),
     FS_DK_ENUM, F(dyn.pcoupl), 0, 0, ENUMS(pcoupl), 0},
    {ROW("run", "ref-p", "bar", "pressure of the barostat (required with pcoupl)"), FS_DK_REAL, F(dyn.ref_p), -1e5, 1e6,
     NULL, NULL, 0},
    {ROW("run", "nstpcouple", "steps", "a Monte Carlo volume move every this many steps"), FS_DK_INT, F(dyn.nstpcouple),
     1, INT_MAX, NULL, NULL, 0},
    {ROW("run", "comm-mode", "", "removal of the centre-of-mass velocity of the non-frozen atoms"), FS_DK_ENUM,
     F(dyn.comm_mode), 0, 0, ENUMS(comm), 0},
    {ROW("run", "nstcomm", "steps", "centre-of-mass velocity removed every this many steps"), FS_DK_INT, F(dyn.nstcomm),
     1, INT_MAX, NULL, NULL, 0},
    {ROW("run", "constraints", "", "bonds turned into constraints (SHAKE/RATTLE; waters with [settles] use SETTLE)"),
     FS_DK_ENUM, F(mdp.constraints), 0, 0, ENUMS(constraints), FS_DKF_MDP},
    {ROW("run", "shake-tol", "", "relative tolerance of SHAKE/RATTLE"), FS_DK_REAL, F(dyn.shake_tol), 0, 0.1, NULL,
     NULL, FS_DKF_LO_OPEN},
    {ROW("run", "gen-vel", "", "draw Maxwell-Boltzmann velocities at gen-temp before step 0 (key: gen-seed)"),
     FS_DK_ENUM, F(gen_vel), 0, 0, ENUMS(yesno), 0},
    {ROW("run", "gen-temp", "K", "temperature of the generated velocities"), FS_DK_REAL, F(gen_temp), 0, 1e5, NULL,
     NULL, 0},
    {ROW("run", "emtol", "kJ/mol/nm", "minimization stops when the largest force is below this"), FS_DK_REAL, F(emtol),
     0, BIG, NULL, NULL, FS_DKF_LO_OPEN},
    {ROW("run", "emstep", "nm", "initial largest displacement of a minimization step"), FS_DK_REAL, F(emstep), 0, 1,
     NULL, NULL, FS_DKF_LO_OPEN},
    {ROW("run", "nstcalcenergy", "steps",
         "energies and virial every this many steps (default lowered to divide nstenergy and nstlog)"),
     FS_DK_INT, F(nstcalcenergy), 1, INT_MAX, NULL, NULL, 0},

    /* [run]: how forces are computed (the .mdp energy keys) */
    {ROW("run", "coulombtype", "", "electrostatics: smooth PME, or the plain Ewald sum (a reference)"), FS_DK_ENUM,
     F(mdp.force.coulombtype), 0, 0, ENUMS(coulombtype), FS_DKF_MDP},
    {ROW("run", "coulomb-modifier", "", "real-space Coulomb shifted to 0 at rcoulomb, or not"), FS_DK_ENUM,
     F(mdp.force.coulomb_modifier), 0, 0, ENUMS(modifier), FS_DKF_MDP},
    {ROW("run", "vdw-modifier", "", "LJ shifted to 0 at rvdw, or not"), FS_DK_ENUM, F(mdp.force.vdw_modifier), 0, 0,
     ENUMS(modifier), FS_DKF_MDP},
    {ROW("run", "rcoulomb", "nm", "real-space Coulomb cut-off"), FS_DK_REAL, F(mdp.force.rcoulomb), 0, 0, NULL, NULL,
     FS_DKF_MDP},
    {ROW("run", "rvdw", "nm", "LJ cut-off"), FS_DK_REAL, F(mdp.force.rvdw), 0, 0, NULL, NULL, FS_DKF_MDP},
    {ROW("run", "verlet-buffer", "nm", "pair-list buffer added to the longer cut-off (ferrosolv's own key)"),
     FS_DK_REAL, F(mdp.force.verlet_buffer), 0, 1, NULL, NULL, 0},
    {ROW("run", "fourierspacing", "nm", "largest PME grid spacing"), FS_DK_REAL, F(mdp.force.fourierspacing), 0, 0,
     NULL, NULL, FS_DKF_MDP},
    {ROW("run", "fourier-nx", "", "PME grid points along x; 0 = from fourierspacing"), FS_DK_INT,
     F(mdp.force.fourier_n[0]), 0, 0, NULL, NULL, FS_DKF_MDP},
    {ROW("run", "fourier-ny", "", "PME grid points along y; 0 = from fourierspacing"), FS_DK_INT,
     F(mdp.force.fourier_n[1]), 0, 0, NULL, NULL, FS_DKF_MDP},
    {ROW("run", "fourier-nz", "", "PME grid points along z; 0 = from fourierspacing"), FS_DK_INT,
     F(mdp.force.fourier_n[2]), 0, 0, NULL, NULL, FS_DKF_MDP},
    {ROW("run", "pme-order", "", "PME B-spline order"), FS_DK_INT, F(mdp.force.pme_order), 0, 0, NULL, NULL,
     FS_DKF_MDP},
    {ROW("run", "ewald-rtol", "", "direct-space Coulomb at rcoulomb relative to 1/r: erfc(beta rc) = ewald-rtol"),
     FS_DK_REAL, F(mdp.force.ewald_rtol), 0, 0, NULL, NULL, FS_DKF_MDP},
    {ROW("run", "epsilon-r", "", "relative dielectric constant"), FS_DK_REAL, F(mdp.force.epsilon_r), 0, 0, NULL, NULL,
     FS_DKF_MDP},
    {ROW("run", "DispCorr", "", "long-range dispersion correction to the energy (and pressure)"), FS_DK_ENUM,
     F(mdp.force.dispcorr), 0, 0, ENUMS(dispcorr), FS_DKF_MDP},

    /* [output] */
    {ROW("output", "h5md", "", "H5MD file for trajectory and observables (\"\" = none)"), FS_DK_PATH, F(out.h5md), 0, 0,
     NULL, NULL, 0},
    {ROW("output", "nstxout", "steps", "positions into H5MD every this many steps, 0 = never"), FS_DK_INT,
     F(out.nstxout), 0, INT_MAX, NULL, NULL, 0},
    {ROW("output", "nstvout", "steps", "velocities into H5MD every this many steps, 0 = never"), FS_DK_INT,
     F(out.nstvout), 0, INT_MAX, NULL, NULL, 0},
    {ROW("output", "nstfout", "steps", "forces into H5MD every this many steps, 0 = never"), FS_DK_INT, F(out.nstfout),
     0, INT_MAX, NULL, NULL, 0},
    {ROW("output", "nstenergy", "steps", "observables (energies, T, P, box) into H5MD every this many steps"),
     FS_DK_INT, F(out.nstenergy), 0, INT_MAX, NULL, NULL, 0},
    {ROW("output", "nstlog", "steps", "a thermo line (stdout and log) every this many steps, 0 = never"), FS_DK_INT,
     F(out.nstlog), 0, INT_MAX, NULL, NULL, 0},
    {ROW("output", "log", "", "thermo log file (\"\" = stdout only)"), FS_DK_PATH, F(out.log), 0, 0, NULL, NULL, 0},
    {ROW("output", "compression", "", "H5MD deflate level, 0 = none"), FS_DK_INT, F(out.compression), 0, 9, NULL, NULL,
     0},
    {ROW("output", "confout", "", "final coordinates, .gro (\"\" = none)"), FS_DK_PATH, F(out.confout), 0, 0, NULL,
     NULL, 0},
    {ROW("output", "checkpoint", "", "checkpoint file, replaced atomically (\"\" = none)"), FS_DK_PATH, F(cpt.path), 0,
     0, NULL, NULL, 0},
    {ROW("output", "nstcheckpoint", "steps", "a checkpoint every this many steps, 0 = not by steps"), FS_DK_INT,
     F(cpt.nstcheckpoint), 0, INT_MAX, NULL, NULL, 0},
    {ROW("output", "checkpoint-minutes", "min", "a checkpoint every this many minutes of wall time, 0 = not by time"),
     FS_DK_REAL, F(cpt.minutes), 0, 1e7, NULL, NULL, 0},

    /* [seeds] */
    {ROW("seeds", "ld-seed", "", "key of every random number of the dynamics (sd, v-rescale, MC); -1 = from the clock"),
     FS_DK_SEED, F(ld_seed), 0, 0, NULL, NULL, 0},
    {ROW("seeds", "gen-seed", "", "key of the generated velocities; -1 = from the clock"), FS_DK_SEED, F(gen_seed), 0,
     0, NULL, NULL, FS_DKF_SEED_LD},
};
const int fs_deck_nrows = (int)(sizeof fs_deck_rows / sizeof fs_deck_rows[0]);
_Static_assert(sizeof fs_deck_rows / sizeof fs_deck_rows[0] <= FS_DECK_MAX_KEYS, "raise FS_DECK_MAX_KEYS");

static const char *const sections[] = {"input", "run", "output", "seeds", NULL};

/* GROMACS keys a deck refuses, with the reason and what to write instead. */
static const struct {
    const char *key, *why;
} refused[] = {
    {"compressibility", "the MC barostat needs no compressibility: it tries volume moves at ref-p"},
    {"tau-p", "the MC barostat has no time constant: nstpcouple sets how often a volume move is tried"},
    {"pcoupltype", "pcoupl = MC (isotropic) or MC-z (z only) sets the coupling type"},
    {"tc-grps", "the whole system is one temperature-coupling group"},
    {"nstxout-compressed", "positions go to the H5MD file: use nstxout (and compression)"},
    {"cutoff-scheme", "ferrosolv has only the Verlet scheme"},
    {"verlet-buffer-tolerance", "the pair-list buffer has a fixed width: use verlet-buffer (nm)"},
};

void fs_deck_normalize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; ++in) out[n++] = *in == '_' ? '-' : (char)tolower((unsigned char)*in);
    out[n] = '\0';
}

int fs_deck_key_count(void)
{
    return fs_deck_nrows;
}

const fs_deck_keyinfo *fs_deck_key(int i)
{
    return i >= 0 && i < fs_deck_nrows ? &fs_deck_rows[i].info : NULL;
}

int fs_deck_key_find(const char *name)
{
    char k[64], r[64];
    fs_deck_normalize(name, k, sizeof k);
    for (int i = 0; i < fs_deck_nrows; ++i) {
        fs_deck_normalize(fs_deck_rows[i].info.name, r, sizeof r);
        if (!strcmp(k, r)) return i;
    }
    return -1;
}

void fs_deck_init(fs_deck *d)
{
    memset(d, 0, sizeof *d);
    fs_mdp_init(&d->mdp);
    d->integrator = FS_DECK_MD;
    d->dyn = fs_dynamics_default();
    d->nsteps = 0;
    d->tinit = 0.0;
    d->nstcalcenergy = 100;
    d->gen_vel = 0;
    d->gen_temp = 300.0;
    d->emtol = 10.0;
    d->emstep = 0.01;
    strcpy(d->out.h5md, "traj.h5md");
    d->out.nstenergy = 1000;
    d->out.nstlog = 1000;
    strcpy(d->out.log, "md.log");
    strcpy(d->out.confout, "confout.gro");
    strcpy(d->cpt.path, "state.cpt");
    d->cpt.minutes = 15.0;
    d->ld_seed.value = d->dyn.seed;
    d->ld_seed.mode = FS_SEED_GIVEN;
    d->gen_seed.mode = FS_SEED_LD;
}

/* ---- values ---- */

static char *field(fs_deck *d, const fs_deck_row *r)
{
    return (char *)d + r->offset;
}

static fs_status out_of_range(const fs_deck_row *r, const char *v, const char *where)
{
    char range[64];
    fs_deck_accepted((int)(r - fs_deck_rows), range, sizeof range);
    return fs_fail(FS_ERR_INVALID, "%s: %s = %s is outside %s%s%s", where, r->info.name, v, range,
                   *r->info.unit ? " " : "", r->info.unit);
}

static int in_range(const fs_deck_row *r, double x)
{
    if (r->flags & FS_DKF_LO_OPEN ? x <= r->lo : x < r->lo) return 0;
    return x <= r->hi;
}

static fs_status parse_real(const fs_deck_row *r, const char *v, const char *where, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || errno == ERANGE || !isfinite(x))
        return fs_fail(FS_ERR_INVALID, "%s: %s needs a number%s%s, got '%s'", where, r->info.name,
                       *r->info.unit ? " in " : "", r->info.unit, v);
    if (!in_range(r, x)) return out_of_range(r, v, where);
    *out = x;
    return FS_OK;
}

static fs_status parse_integer(const fs_deck_row *r, const char *v, const char *where, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE)
        return fs_fail(FS_ERR_INVALID, "%s: %s needs a whole number, got '%s'", where, r->info.name, v);
    if (!in_range(r, (double)x)) return out_of_range(r, v, where);
    *out = x;
    return FS_OK;
}

/* Equal ignoring case, '-' and '_' (grompp's comparison of enumerated values). */
static int same_name(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-' || *a == '_') a++;
        while (*b == '-' || *b == '_') b++;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
        if (!*a) return 1;
        a++, b++;
    }
}

static fs_status parse_enum(const fs_deck_row *r, const char *v, const char *where, int *out)
{
    for (int k = 0; r->names[k]; ++k)
        if (same_name(v, r->names[k])) {
            *out = r->values[k];
            return FS_OK;
        }
    char acc[256];
    fs_deck_accepted((int)(r - fs_deck_rows), acc, sizeof acc);
    return fs_fail(FS_ERR_INVALID, "%s: %s = '%s' is not accepted (%s)", where, r->info.name, v, acc);
}

static fs_status parse_seed(const fs_deck_row *r, const char *v, const char *where, fs_deck_seed *out)
{
    if (!strcmp(v, "-1")) {
        out->mode = FS_SEED_FROM_TIME;
        out->value = 0;
        return FS_OK;
    }
    if ((r->flags & FS_DKF_SEED_LD) && same_name(v, "ld-seed")) {
        out->mode = FS_SEED_LD;
        out->value = 0;
        return FS_OK;
    }
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (!isdigit((unsigned char)*v) || *end || errno == ERANGE) {
        char acc[128];
        fs_deck_accepted((int)(r - fs_deck_rows), acc, sizeof acc);
        return fs_fail(FS_ERR_INVALID, "%s: %s = '%s' is not accepted (%s)", where, r->info.name, v, acc);
    }
    out->mode = FS_SEED_GIVEN;
    out->value = (uint64_t)x;
    return FS_OK;
}

/* `rel` joined to `dir` (unless absolute, empty, or dir is empty) into out. */
static fs_status resolve(const char *dir, const char *rel, size_t n, char *out, size_t cap, const char *where,
                         const char *key)
{
    int w;
    if (!n || rel[0] == '/' || !dir || !*dir)
        w = snprintf(out, cap, "%.*s", (int)n, rel);
    else
        w = snprintf(out, cap, "%s/%.*s", dir, (int)n, rel);
    if (w < 0 || (size_t)w >= cap) return fs_fail(FS_ERR_INVALID, "%s: %s: path too long", where, key);
    return FS_OK;
}

static fs_status set_dirs(const fs_deck_row *r, const char *v, const char *where, const char *base, char *out)
{
    char buf[FS_DECK_PATH_MAX], one[FS_DECK_PATH_MAX];
    size_t len = 0;
    buf[0] = '\0';
    for (const char *s = v; *s;) {
        size_t n = strcspn(s, ":");
        if (n) {
            fs_status st = resolve(base, s, n, one, sizeof one, where, r->info.name);
            if (st != FS_OK) return st;
            size_t m = strlen(one);
            if (len + m + 2 > sizeof buf) return fs_fail(FS_ERR_INVALID, "%s: %s: too long", where, r->info.name);
            if (len) buf[len++] = ':';
            memcpy(buf + len, one, m + 1);
            len += m;
        }
        s += n;
        if (*s == ':') s++;
    }
    memcpy(out, buf, len + 1);
    return FS_OK;
}

/* Applies `value` to row r of *d; relative paths are joined to `base`. */
static fs_status apply(fs_deck *d, const fs_deck_row *r, const char *value, const char *where, const char *base)
{
    char unq[FS_DECK_PATH_MAX];
    size_t n = strlen(value);
    if (n >= 2 && value[0] == '"' && value[n - 1] == '"') { /* one pair of quotes around a string is dropped */
        snprintf(unq, sizeof unq, "%.*s", (int)(n - 2), value + 1);
        value = unq;
    }
    if (r->flags & FS_DKF_MDP) return fs_mdp_set(&d->mdp, r->info.name, value, where, NULL);
    char *p = field(d, r);
    fs_status st = FS_OK;
    switch (r->type) {
    case FS_DK_REAL: {
        double x = 0;
        if ((st = parse_real(r, value, where, &x)) == FS_OK) memcpy(p, &x, sizeof x);
        break;
    }
    case FS_DK_INT:
    case FS_DK_INT64: {
        long long x = 0;
        if ((st = parse_integer(r, value, where, &x)) != FS_OK) break;
        if (r->type == FS_DK_INT) {
            int i = (int)x;
            memcpy(p, &i, sizeof i);
        } else {
            int64_t i = x;
            memcpy(p, &i, sizeof i);
        }
        break;
    }
    case FS_DK_ENUM: {
        int k = 0;
        if ((st = parse_enum(r, value, where, &k)) == FS_OK) memcpy(p, &k, sizeof k);
        break;
    }
    case FS_DK_PATH:
        st = resolve(base, value, strlen(value), p, r->size, where, r->info.name);
        break;
    case FS_DK_DIRS:
        st = set_dirs(r, value, where, base, p);
        break;
    case FS_DK_TEXT:
        if (strlen(value) >= r->size) return fs_fail(FS_ERR_INVALID, "%s: %s is too long", where, r->info.name);
        strcpy(p, value);
        break;
    case FS_DK_SEED:
        st = parse_seed(r, value, where, (fs_deck_seed *)(void *)p);
        break;
    }
    return st;
}

fs_status fs_deck_set(fs_deck *d, const char *key, const char *value, const char *where, const char *base_dir)
{
    int i = fs_deck_key_find(key);
    if (i < 0) return fs_fail(FS_ERR_INVALID, "%s: unknown key '%s' (see `ferrosolv run --help`)", where, key);
    if (!strcmp(fs_deck_rows[i].info.name, "mdp"))
        return fs_fail(FS_ERR_INVALID,
                       "%s: mdp can only be given in the deck's [input] (its keys apply before the deck's)", where);
    fs_status st = apply(d, &fs_deck_rows[i], value, where, base_dir);
    if (st == FS_OK) d->line[i] = -1;
    return st;
}

/* ---- the two passes ---- */

typedef struct {
    fs_deck *d;
    int pass; /* 1: find mdp; 2: apply everything */
    int last; /* row of the previous key, -1 at the start */
    char mdp_where[FS_DECK_PATH_MAX + 32];
} reader;

static int line_of(const char *where)
{
    const char *c = strrchr(where, ':');
    return c ? atoi(c + 1) : 0;
}

/* Edit distance, for "did you mean". */
static int distance(const char *a, const char *b)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 40 || lb > 40) return 99;
    int prev[41], cur[41];
    for (int j = 0; j <= lb; ++j) prev[j] = j;
    for (int i = 1; i <= la; ++i) {
        cur[0] = i;
        for (int j = 1; j <= lb; ++j) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}

static fs_status unknown_key(const char *sec, const char *key, const char *where)
{
    char k[64], r[64];
    fs_deck_normalize(key, k, sizeof k);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; ++i)
        if (!strcmp(k, refused[i].key))
            return fs_fail(FS_ERR_PARSE, "%s: key '%s' is not a deck key: %s", where, key, refused[i].why);
    const char *best = NULL;
    int bestd = 3;
    char list[2048];
    size_t len = 0;
    list[0] = '\0';
    for (int i = 0; i < fs_deck_nrows; ++i) {
        const fs_deck_row *row = &fs_deck_rows[i];
        fs_deck_normalize(row->info.name, r, sizeof r);
        int dist = distance(k, r);
        if (dist < bestd) bestd = dist, best = row->info.name;
        if (strcmp(row->info.section, sec) || len + 64 > sizeof list) continue;
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? " " : "", row->info.name);
    }
    char hint[128] = "";
    if (best) snprintf(hint, sizeof hint, " (did you mean '%s'?)", best);
    return fs_fail(FS_ERR_PARSE, "%s: unknown key '%s' in [%s]%s; keys of [%s]: %s", where, key, sec, hint, sec, list);
}

static fs_status on_key(void *ctx, const char *section, const char *key, const char *value, const char *where)
{
    reader *rd = ctx;
    fs_deck *d = rd->d;
    char sec[64];
    fs_deck_normalize(section, sec, sizeof sec);
    int known = 0;
    for (int s = 0; sections[s]; ++s) known |= !strcmp(sec, sections[s]);
    int i = fs_deck_key_find(key);
    if (rd->pass == 1) {
        if (known && i >= 0 && !strcmp(sec, "input") && !strcmp(fs_deck_rows[i].info.name, "mdp")) {
            snprintf(rd->mdp_where, sizeof rd->mdp_where, "%s", where);
            return apply(d, &fs_deck_rows[i], value, where, d->dir);
        }
        return FS_OK;
    }
    if (!*sec) return fs_fail(FS_ERR_PARSE, "%s: key '%s' before the first [section]", where, key);
    if (!known)
        return fs_fail(FS_ERR_PARSE, "%s: unknown section [%s] (key '%s'); sections: [input] [run] [output] [seeds]",
                       where, section, key);
    if (i < 0) return unknown_key(sec, key, where);
    const fs_deck_row *r = &fs_deck_rows[i];
    if (strcmp(sec, r->info.section))
        return fs_fail(FS_ERR_PARSE, "%s: key '%s' belongs in [%s], not [%s]", where, key, r->info.section, section);
    if (d->line[i] > 0)
        return fs_fail(FS_ERR_PARSE, "%s: %s is set twice (first at %s:%d)%s", where, r->info.name, d->deck, d->line[i],
                       rd->last == i ? "; an indented line continues the previous value" : "");
    rd->last = i;
    fs_status st = apply(d, r, value, where, d->dir);
    if (st != FS_OK) return st;
    d->line[i] = line_of(where);
    return FS_OK;
}

fs_status fs_deck_read(const char *path, fs_deck *d)
{
    fs_deck_init(d);
    if (strlen(path) >= sizeof d->deck) return fs_fail(FS_ERR_INVALID, "%s: deck path too long", path);
    strcpy(d->deck, path);
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(d->dir, sizeof d->dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);

    reader rd = {d, 1, -1, ""};
    fs_status st = fs_ini_parse(path, on_key, &rd);
    if (st != FS_OK) return st;
    if (d->input.mdp[0]) {
        st = fs_mdp_read(d->input.mdp, &d->mdp, d->notes, sizeof d->notes);
        if (st != FS_OK) return fs_fail_context(st, "%s: mdp", rd.mdp_where);
    }
    rd.pass = 2;
    st = fs_ini_parse(path, on_key, &rd);
    if (st != FS_OK) return st;
    /* default output names mean "beside the deck" too */
    for (int i = 0; i < fs_deck_nrows; ++i) {
        const fs_deck_row *r = &fs_deck_rows[i];
        char *p = field(d, r);
        if (r->type != FS_DK_PATH || d->line[i] || !*p) continue;
        char tmp[FS_DECK_PATH_MAX];
        strcpy(tmp, p);
        st = resolve(d->dir, tmp, strlen(tmp), p, r->size, path, r->info.name);
        if (st != FS_OK) return st;
    }
    return fs_deck_validate(d);
}

int fs_deck_includes(const fs_deck *d, char *storage, const char **dirs, int max)
{
    strcpy(storage, d->input.include);
    int n = 0;
    for (char *s = storage; *s && n < max;) {
        char *c = strchr(s, ':');
        if (c) *c = '\0';
        if (*s) dirs[n++] = s;
        if (!c) break;
        s = c + 1;
    }
    return n;
}

/*
 * top_reader.c — GROMACS topology (.top/.itp) to a fully resolved fs_topology.
 *
 * The file is read as grompp reads it (topio.cpp): the preprocessor (preprocess.c) yields logical lines; a line
 * "[ name ]" opens a directive (names compare ignoring case, and '-' equals '_'); other lines are data for the
 * current directive (text before the first directive is ignored, as grompp ignores force-field banners).
 * Directives must come in grompp's order (topdirs.cpp): [defaults] first and once; parameter directives
 * ([atomtypes], [*types], [nonbond_params], [pairtypes]) after [defaults]/[atomtypes] and before the first
 * [moleculetype]; molecule sections after [atoms] of a [moleculetype]; [exclusions] after [bonds], [constraints] or
 * [settles]; [system] after a [moleculetype]; [molecules] after [system]. An out-of-order directive is
 * FS_ERR_PARSE naming its line.
 *
 * [defaults]: nbfunc (1 = Lennard-Jones; 2 = Buckingham is FS_ERR_UNSUPPORTED), comb-rule 1/2/3, gen-pairs
 * (default no; "yes" when the word starts with y/Y), fudgeLJ and fudgeQQ (default 1), and optionally the repulsion
 * power, which must be 12. Directives that would change energies and are not implemented (restraints, virtual
 * sites, [cmap], polarization, [pairs_nb], [intermolecular_interactions]) are FS_ERR_UNSUPPORTED at their first data
 * line; a section left empty, or inside an inactive #ifdef, costs nothing. [cmaptypes] and the obsolete implicit
 * solvent sections are skipped.
 *
 * Assembly: [molecules] lists (moleculetype, count) in system order (the moleculetype name matches case-sensitively
 * when unique, else case-insensitively, as grompp). Atoms, terms and exclusions of each molecule type are copied
 * count times with their atom indices shifted. Only atom types that occur in the system are kept, numbered in order
 * of first occurrence, and the dense C6/C12 matrices are computed over them (top_params.c). Exclusions are generated
 * once per molecule type (top_molecule.c) and finalized into CSR form by fs_topology_finalize().
 */
#include "top_reader.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "preprocess.h"
#include "top_molecule.h"
#include "top_params.h"

typedef enum {
    D_DEFAULTS,
    D_ATOMTYPES,
    D_BONDTYPES,
    D_CONSTRAINTTYPES,
    D_PAIRTYPES,
    D_ANGLETYPES,
    D_DIHEDRALTYPES,
    D_NONBOND_PARAMS,
    D_IMPLICIT_GB,
    D_IMPLICIT_SURF,
    D_CMAPTYPES,
    D_MOLECULETYPE,
    D_ATOMS,
    D_VSITES1,
    D_VSITES2,
    D_VSITES3,
    D_VSITES4,
    D_VSITESN,
    D_BONDS,
    D_EXCLUSIONS,
    D_PAIRS,
    D_PAIRS_NB,
    D_ANGLES,
    D_DIHEDRALS,
    D_CONSTRAINTS,
    D_SETTLES,
    D_POLARIZATION,
    D_WATER_POL,
    D_THOLE_POL,
    D_SYSTEM,
    D_MOLECULES,
    D_POSRES,
    D_ANGRES,
    D_ANGRESZ,
    D_DISRES,
    D_ORIRES,
    D_DIHRES,
    D_CMAP,
    D_INTERMOL,
    D_COUNT
} dir_id;

static const char *const dir_names[D_COUNT] = {"defaults",
                                               "atomtypes",
                                               "bondtypes",
                                               "constrainttypes",
                                               "pairtypes",
                                               "angletypes",
                                               "dihedraltypes",
                                               "nonbond_params",
                                               "implicit_genborn_params",
                                               "implicit_surface_params",
                                               "cmaptypes",
                                               "moleculetype",
                                               "atoms",
                                               "virtual_sites1",
                                               "virtual_sites2",
                                               "virtual_sites3",
                                               "virtual_sites4",
                                               "virtual_sitesn",
                                               "bonds",
                                               "exclusions",
                                               "pairs",
                                               "pairs_nb",
                                               "angles",
                                               "dihedrals",
                                               "constraints",
                                               "settles",
                                               "polarization",
                                               "water_polarization",
                                               "thole_polarization",
                                               "system",
                                               "molecules",
                                               "position_restraints",
                                               "angle_restraints",
                                               "angle_restraints_z",
                                               "distance_restraints",
                                               "orientation_restraints",
                                               "dihedral_restraints",
                                               "cmap",
                                               "intermolecular_interactions"};

/* The directive(s) one of which must have been seen before (grompp's DS_Init table); D_COUNT ends a list. */
static void necessary(dir_id d, dir_id need[3])
{
    need[0] = need[1] = need[2] = D_COUNT;
    if (d == D_DEFAULTS) return;
    if (d == D_ATOMTYPES)
        need[0] = D_DEFAULTS;
    else if (d < D_MOLECULETYPE || d == D_MOLECULETYPE)
        need[0] = D_ATOMTYPES;
    else if (d == D_ATOMS || d == D_SYSTEM)
        need[0] = D_MOLECULETYPE;
    else if (d == D_EXCLUSIONS)
        need[0] = D_BONDS, need[1] = D_CONSTRAINTS, need[2] = D_SETTLES;
    else if (d == D_MOLECULES)
        need[0] = D_SYSTEM;
    else if (d == D_INTERMOL)
        need[0] = D_MOLECULES;
    else
        need[0] = D_ATOMS;
}

typedef struct {
    int moltype, count;
    tp_loc at;
} sys_entry;

typedef struct {
    fs_pp *pp;
    tp_params par;
    int nbfunc, gen_pairs, defaults_lines;
    double fudge_lj, fudge_qq;
    int seen[D_COUNT];
    int cur; /* current directive, or -1 */
    FS_LIST(tm_moltype) mols;
    FS_LIST(sys_entry) sys;
    char title[128];
} reader;

static fs_status nomem(void)
{
    return fs_fail(FS_ERR_NOMEM, "out of memory reading a topology");
}

static fs_status open_directive(reader *r, char *line, const tp_loc *at)
{
    char *close = strchr(line, ']');
    if (!close) return tp_fail(at, FS_ERR_PARSE, "expected ']' to close the directive '%s'", line);
    if (close[1 + strspn(close + 1, " \t")] != '\0')
        return tp_fail(at, FS_ERR_PARSE, "unexpected text after ']': '%s'", close + 1);
    *close = '\0';
    char *tok[TP_MAX_TOKENS];
    int n = tp_split(line + 1, tok);
    if (n != 1) return tp_fail(at, FS_ERR_PARSE, "expected one directive name between '[' and ']'");
    char name[64];
    size_t len = strlen(tok[0]);
    if (len >= sizeof name) return tp_fail(at, FS_ERR_PARSE, "unknown directive [ %.40s... ]", tok[0]);
    for (size_t i = 0; i <= len; ++i) name[i] = tok[0][i] == '-' ? '_' : (char)tolower((unsigned char)tok[0][i]);
    int d = -1;
    for (int k = 0; k < D_COUNT && d < 0; ++k)
        if (strcmp(name, dir_names[k]) == 0) d = k;
    if (d < 0 && strncmp(name, "dummies", 7) == 0 && strlen(name) == 8 && strchr("1234n", name[7]))
        d = name[7] == 'n' ? D_VSITESN : D_VSITES1 + (name[7] - '1');
    if (d < 0) return tp_fail(at, FS_ERR_PARSE, "unknown directive [ %s ]", tok[0]);
    if (d == D_DEFAULTS && r->seen[D_DEFAULTS]) return tp_fail(at, FS_ERR_PARSE, "a second [ defaults ] directive");
    if (d < D_MOLECULETYPE && r->seen[D_MOLECULETYPE])
        return tp_fail(at, FS_ERR_PARSE, "[ %s ] after a [ moleculetype ]: parameter directives must come first",
                       dir_names[d]);
    dir_id need[3];
    necessary((dir_id)d, need);
    if (need[0] != D_COUNT && !r->seen[need[0]] && (need[1] == D_COUNT || !r->seen[need[1]]) &&
        (need[2] == D_COUNT || !r->seen[need[2]])) {
        if (need[1] != D_COUNT)
            return tp_fail(at, FS_ERR_PARSE, "[ %s ] must come after [ %s ], [ %s ] or [ %s ]", dir_names[d],
                           dir_names[need[0]], dir_names[need[1]], dir_names[need[2]]);
        return tp_fail(at, FS_ERR_PARSE, "[ %s ] must come after [ %s ]", dir_names[d], dir_names[need[0]]);
    }
    r->seen[d] = 1;
    r->cur = d;
    return FS_OK;
}

static fs_status defaults_line(reader *r, char **tok, int n, const tp_loc *at)
{
    if (r->defaults_lines++) return tp_fail(at, FS_ERR_PARSE, "a second line in [ defaults ]");
    if (n < 2 || n > 6)
        return tp_fail(at, FS_ERR_PARSE,
                       "expected 'nbfunc comb-rule [gen-pairs [fudgeLJ [fudgeQQ]]]' in "
                       "[ defaults ], found %d fields",
                       n);
    int comb;
    if (!tp_int(tok[0], &r->nbfunc) || r->nbfunc < 1 || r->nbfunc > 2)
        return tp_fail(at, FS_ERR_PARSE, "expected nbfunc 1 or 2 in [ defaults ], found '%s'", tok[0]);
    if (r->nbfunc != 1)
        return tp_fail(at, FS_ERR_UNSUPPORTED, "nbfunc %d (Buckingham) is not supported; only 1 (Lennard-Jones)",
                       r->nbfunc);
    if (!tp_int(tok[1], &comb) || comb < 1 || comb > 3)
        return tp_fail(at, FS_ERR_PARSE, "expected comb-rule 1, 2 or 3 in [ defaults ], found '%s'", tok[1]);
    r->par.comb_rule = comb;
    r->gen_pairs = n > 2 && toupper((unsigned char)tok[2][0]) == 'Y';
    if (n > 3 && !tp_double(tok[3], &r->fudge_lj))
        return tp_fail(at, FS_ERR_PARSE, "expected a number for fudgeLJ in [ defaults ], found '%s'", tok[3]);
    if (n > 4 && !tp_double(tok[4], &r->fudge_qq))
        return tp_fail(at, FS_ERR_PARSE, "expected a number for fudgeQQ in [ defaults ], found '%s'", tok[4]);
    double reppow = 12.0;
    if (n > 5 && !tp_double(tok[5], &reppow))
        return tp_fail(at, FS_ERR_PARSE, "expected a number for the repulsion power in [ defaults ], found '%s'",
                       tok[5]);
    if (reppow != 12.0)
        return tp_fail(at, FS_ERR_UNSUPPORTED, "a repulsion power of %g is not supported (only 12)", reppow);
    return FS_OK;
}

static fs_status moleculetype_line(reader *r, char **tok, int n, const tp_loc *at)
{
    if (n != 2) return tp_fail(at, FS_ERR_PARSE, "expected 'name nrexcl' in [ moleculetype ], found %d fields", n);
    tm_moltype m;
    memset(&m, 0, sizeof m);
    if (!tp_copy_name(m.name, sizeof m.name, tok[0]))
        return tp_fail(at, FS_ERR_PARSE, "molecule type name '%s' is longer than %d characters", tok[0],
                       FS_NAME_LEN - 1);
    if (!tp_int(tok[1], &m.nrexcl) || m.nrexcl < 0)
        return tp_fail(at, FS_ERR_PARSE, "expected a non-negative nrexcl in [ moleculetype ], found '%s'", tok[1]);
    for (int i = 0; i < r->mols.n; ++i)
        if (strcmp(r->mols.data[i].name, m.name) == 0)
            return tp_fail(at, FS_ERR_PARSE, "moleculetype '%s' is redefined (first at %s:%d)", m.name,
                           r->mols.data[i].at.file, r->mols.data[i].at.line);
    m.at = *at;
    return fs_list_push(&r->mols, m) == FS_OK ? FS_OK : nomem();
}

static fs_status molecules_line(reader *r, char **tok, int n, const tp_loc *at)
{
    if (n != 2) return tp_fail(at, FS_ERR_PARSE, "expected 'moleculetype count' in [ molecules ], found %d fields", n);
    sys_entry e = {-1, 0, *at};
    if (!tp_int(tok[1], &e.count) || e.count < 0)
        return tp_fail(at, FS_ERR_PARSE, "expected a non-negative molecule count in [ molecules ], found '%s'", tok[1]);
    int ncs = 0, nci = 0, ics = -1, ici = -1;
    for (int i = 0; i < r->mols.n; ++i) {
        if (strcmp(tok[0], r->mols.data[i].name) == 0) ncs++, ics = i;
        if (strcasecmp(tok[0], r->mols.data[i].name) == 0) nci++, ici = i;
    }
    if (ncs == 1)
        e.moltype = ics;
    else if (nci == 1)
        e.moltype = ici;
    else if (nci > 1)
        return tp_fail(at, FS_ERR_PARSE, "moleculetype '%s' in [ molecules ] matches %d moleculetypes ignoring case",
                       tok[0], nci);
    else
        return tp_fail(at, FS_ERR_PARSE, "unknown moleculetype '%s' in [ molecules ]", tok[0]);
    return fs_list_push(&r->sys, e) == FS_OK ? FS_OK : nomem();
}

static fs_status data_line(reader *r, char *line, const tp_loc *at)
{
    if (r->cur < 0) return FS_OK; /* grompp ignores text before the first directive (force-field banners) */
    if (r->cur == D_SYSTEM) {
        snprintf(r->title, sizeof r->title, "%s", line);
        return FS_OK;
    }
    if (r->cur == D_CMAPTYPES || r->cur == D_IMPLICIT_GB || r->cur == D_IMPLICIT_SURF) return FS_OK; /* skipped */
    char *tok[TP_MAX_TOKENS];
    int n = tp_split(line, tok);
    if (n < 0) return tp_fail(at, FS_ERR_PARSE, "more than %d fields on one line", TP_MAX_TOKENS);
    tm_settings set = {r->gen_pairs, r->fudge_lj};
    tm_moltype *m = r->mols.n > 0 ? &r->mols.data[r->mols.n - 1] : NULL;
    switch ((dir_id)r->cur) {
    case D_DEFAULTS:
        return defaults_line(r, tok, n, at);
    case D_ATOMTYPES:
        return tp_push_atomtype(&r->par, tok, n, at);
    case D_NONBOND_PARAMS:
        return tp_push_nbpair(&r->par, 0, tok, n, at);
    case D_PAIRTYPES:
        return tp_push_nbpair(&r->par, 1, tok, n, at);
    case D_BONDTYPES:
        return tp_push_bondedtype(&r->par, TP_BONDS, tok, n, at);
    case D_CONSTRAINTTYPES:
        return tp_push_bondedtype(&r->par, TP_CONSTRAINTS, tok, n, at);
    case D_ANGLETYPES:
        return tp_push_bondedtype(&r->par, TP_ANGLES, tok, n, at);
    case D_DIHEDRALTYPES:
        return tp_push_bondedtype(&r->par, TP_DIHEDRALS, tok, n, at);
    case D_IMPLICIT_GB:
    case D_IMPLICIT_SURF:
    case D_CMAPTYPES:
        return FS_OK;
    case D_MOLECULETYPE:
        return moleculetype_line(r, tok, n, at);
    case D_MOLECULES:
        return molecules_line(r, tok, n, at);
    case D_ATOMS:
    case D_BONDS:
    case D_PAIRS:
    case D_ANGLES:
    case D_DIHEDRALS:
    case D_CONSTRAINTS:
    case D_SETTLES:
    case D_EXCLUSIONS: {
        static const tm_section sec[] = {
            [D_ATOMS] = TM_ATOMS,     [D_BONDS] = TM_BONDS,          [D_PAIRS] = TM_PAIRS,
            [D_ANGLES] = TM_ANGLES,   [D_DIHEDRALS] = TM_DIHEDRALS,  [D_CONSTRAINTS] = TM_CONSTRAINTS,
            [D_SETTLES] = TM_SETTLES, [D_EXCLUSIONS] = TM_EXCLUSIONS};
        if (!m)
            return tp_fail(at, FS_ERR_PARSE,
                           "[ %s ] data without a molecule type: expected a 'name nrexcl' line in "
                           "[ moleculetype ] first",
                           dir_names[r->cur]);
        return tm_line(m, &r->par, &set, sec[r->cur], tok, n, at);
    }
    default:
        return tp_fail(at, FS_ERR_UNSUPPORTED, "[ %s ] is not supported (it would change the energies)",
                       dir_names[r->cur]);
    }
}

#define FS_MAX_ATOMS 100000000LL

#define COPY_TERMS(T, name, SHIFT)                                                                                     \
    for (int k_ = 0; k_ < mt->name.n; ++k_) {                                                                          \
        T x = mt->name.data[k_];                                                                                       \
        SHIFT;                                                                                                         \
        if (fs_list_push(&top->name, x) != FS_OK) return nomem();                                                      \
    }

/* Appends one copy of molecule type mt at atom offset `off`. */
static fs_status add_copy(fs_topology *top, const tm_moltype *mt, const int *compact, const int *excl, int nexcl)
{
    int off = top->natoms, mol = top->nmolecules;
    for (int i = 0; i < mt->atoms.n; ++i) {
        const tm_atom *s = &mt->atoms.data[i];
        fs_atom a;
        memset(&a, 0, sizeof a);
        memcpy(a.name, s->name, sizeof a.name);
        memcpy(a.resname, s->resname, sizeof a.resname);
        a.resnr = s->resnr;
        a.type = compact[s->type];
        a.molecule = mol;
        a.charge = s->charge;
        a.mass = s->mass;
        fs_status st = fs_topology_add_atom(top, &a, NULL);
        if (st != FS_OK) return st;
    }
    fs_molecule m;
    memset(&m, 0, sizeof m);
    memcpy(m.name, mt->name, sizeof m.name);
    m.first_atom = off;
    m.natoms = mt->atoms.n;
    fs_status st = fs_topology_add_molecule(top, &m);
    if (st != FS_OK) return st;
    COPY_TERMS(fs_bond, bonds, (x.ai += off, x.aj += off))
    COPY_TERMS(fs_angle, angles, (x.ai += off, x.aj += off, x.ak += off))
    COPY_TERMS(fs_angle, ub_angles, (x.ai += off, x.aj += off, x.ak += off))
    COPY_TERMS(fs_dih_periodic, propers, (x.ai += off, x.aj += off, x.ak += off, x.al += off))
    COPY_TERMS(fs_dih_periodic, per_impropers, (x.ai += off, x.aj += off, x.ak += off, x.al += off))
    COPY_TERMS(fs_dih_harmonic, impropers, (x.ai += off, x.aj += off, x.ak += off, x.al += off))
    COPY_TERMS(fs_dih_rb, rbs, (x.ai += off, x.aj += off, x.ak += off, x.al += off))
    COPY_TERMS(fs_pair, pairs, (x.ai += off, x.aj += off))
    COPY_TERMS(fs_constraint, constraints, (x.ai += off, x.aj += off))
    COPY_TERMS(fs_settle, settles, (x.ow += off, x.hw1 += off, x.hw2 += off))
    for (int k = 0; k < nexcl; ++k) {
        st = fs_topology_add_exclusion(top, excl[2 * k] + off, excl[2 * k + 1] + off);
        if (st != FS_OK) return st;
    }
    return FS_OK;
}

static fs_status build_types(reader *r, fs_topology *top, int *compact)
{
    int ntypes = r->par.types.n, nused = 0;
    for (int t = 0; t < ntypes; ++t) compact[t] = -1;
    int *order = malloc((size_t)(ntypes > 0 ? ntypes : 1) * sizeof *order);
    if (!order) return nomem();
    for (int e = 0; e < r->sys.n; ++e) {
        if (r->sys.data[e].count == 0) continue;
        const tm_moltype *mt = &r->mols.data[r->sys.data[e].moltype];
        for (int i = 0; i < mt->atoms.n; ++i) {
            int t = mt->atoms.data[i].type;
            if (compact[t] < 0) {
                compact[t] = nused;
                order[nused++] = t;
            }
        }
    }
    size_t nn = (size_t)nused * (size_t)nused;
    fs_atomtype *types = calloc((size_t)(nused > 0 ? nused : 1), sizeof *types);
    double *c6 = malloc((nn > 0 ? nn : 1) * sizeof *c6), *c12 = malloc((nn > 0 ? nn : 1) * sizeof *c12);
    fs_status st = FS_OK;
    if (!types || !c6 || !c12) {
        st = nomem();
    } else {
        for (int a = 0; a < nused && st == FS_OK; ++a) {
            const tp_atomtype *ta = &r->par.types.data[order[a]];
            memcpy(types[a].name, ta->name, sizeof types[a].name);
            types[a].atomic_number = ta->atomic_number;
            for (int b = 0; b < nused; ++b) {
                double v, w;
                tp_lj_vw(&r->par, order[a], order[b], &v, &w);
                tp_vw_to_c6c12(r->par.comb_rule, v, w, &c6[(size_t)a * nused + b], &c12[(size_t)a * nused + b]);
                if (!isfinite(c6[(size_t)a * nused + b]) || !isfinite(c12[(size_t)a * nused + b])) {
                    st = tp_fail(&ta->at, FS_ERR_PARSE,
                                 "the Lennard-Jones parameters of atom types '%s' and '%s' "
                                 "are not finite numbers",
                                 ta->name, r->par.types.data[order[b]].name);
                    break;
                }
            }
        }
        if (st == FS_OK) st = fs_topology_set_types(top, nused, types, c6, c12);
    }
    free(order);
    free(types);
    free(c6);
    free(c12);
    return st;
}

static fs_status assemble(reader *r, fs_topology **out)
{
    tp_loc end = fs_pp_end(r->pp);
    if (!r->seen[D_MOLECULES]) return tp_fail(&end, FS_ERR_PARSE, "expected [ molecules ], found end of file");
    long long total = 0;
    for (int e = 0; e < r->sys.n; ++e) {
        total += (long long)r->sys.data[e].count * r->mols.data[r->sys.data[e].moltype].atoms.n;
        if (total > FS_MAX_ATOMS)
            return tp_fail(&r->sys.data[e].at, FS_ERR_PARSE, "more than %lld atoms in the system", FS_MAX_ATOMS);
    }
    if (total == 0) return tp_fail(&end, FS_ERR_PARSE, "expected molecules with atoms in [ molecules ], found none");
    fs_topology *top = NULL;
    fs_status st = fs_topology_create(&top);
    if (st != FS_OK) return st;
    top->nbfunc = r->nbfunc;
    top->comb_rule = r->par.comb_rule;
    top->gen_pairs = r->gen_pairs;
    top->fudge_lj = r->fudge_lj;
    top->fudge_qq = r->fudge_qq;
    snprintf(top->title, sizeof top->title, "%s", r->title);
    int *compact = malloc((size_t)(r->par.types.n > 0 ? r->par.types.n : 1) * sizeof *compact);
    int **excl = calloc((size_t)(r->mols.n > 0 ? r->mols.n : 1), sizeof *excl);
    int *nexcl = calloc((size_t)(r->mols.n > 0 ? r->mols.n : 1), sizeof *nexcl);
    int *done = calloc((size_t)(r->mols.n > 0 ? r->mols.n : 1), sizeof *done);
    if (!compact || !excl || !nexcl || !done) st = nomem();
    if (st == FS_OK) st = build_types(r, top, compact);
    if (st == FS_OK && fs_list_grow_((void **)&top->atoms, &top->atoms_cap, (int)total, sizeof *top->atoms))
        st = nomem();
    for (int e = 0; e < r->sys.n && st == FS_OK; ++e) {
        int id = r->sys.data[e].moltype;
        if (r->sys.data[e].count > 0 && !done[id]) {
            st = tm_exclusions(&r->mols.data[id], &excl[id], &nexcl[id]);
            done[id] = 1;
        }
        for (int c = 0; c < r->sys.data[e].count && st == FS_OK; ++c)
            st = add_copy(top, &r->mols.data[id], compact, excl[id], nexcl[id]);
    }
    if (st == FS_OK) st = fs_topology_finalize(top);
    for (int i = 0; excl && i < r->mols.n; ++i) free(excl[i]);
    free(excl);
    free(nexcl);
    free(done);
    free(compact);
    if (st != FS_OK) {
        fs_topology_destroy(&top);
        return st;
    }
    *out = top;
    return FS_OK;
}

fs_status fs_top_read(const char *path, const fs_top_options *opt, fs_topology **out)
{
    *out = NULL;
    reader r;
    memset(&r, 0, sizeof r);
    r.cur = -1;
    r.nbfunc = 1;
    r.par.comb_rule = 1;
    r.fudge_lj = 1.0;
    r.fudge_qq = 1.0;
    fs_status st = fs_pp_open(path, opt, &r.pp);
    for (;;) {
        if (st != FS_OK) break;
        char *line;
        tp_loc at;
        st = fs_pp_next(r.pp, &line, &at);
        if (st != FS_OK || !line) break;
        st = line[0] == '[' ? open_directive(&r, line, &at) : data_line(&r, line, &at);
    }
    if (st == FS_OK) st = assemble(&r, out);
    for (int i = 0; i < r.mols.n; ++i) tm_free(&r.mols.data[i]);
    fs_list_free(&r.mols);
    fs_list_free(&r.sys);
    tp_params_free(&r.par);
    fs_pp_close(&r.pp);
    return st;
}

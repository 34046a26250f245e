/*
 * top_molecule.c — reading the sections of one [ moleculetype ] and generating its exclusions.
 *
 * Each data line names atoms by their 1-based number inside the molecule, then (optionally; 1 when absent) a
 * function type, then optionally parameters. As in grompp's push_bond(): a line with no parameters takes them from
 * the matching bonded type (by the bonded type names of its atoms' types, see top_params.c); a line with exactly
 * the A-state parameters, or the A- and B-state parameters, uses its own A state; any other count is an error.
 * Dihedral functions 1 and 9 without parameters take every line of the matching dihedral-type block (so a funct 9
 * type with three lines gives three terms), and angles and dihedrals whose A-state parameters are all zero are
 * dropped, and so are periodic dihedrals with a zero force constant (both as grompp's convparm.cpp; such terms
 * contribute nothing). [ pairs ] without
 * parameters use [ pairtypes ] or, with gen-pairs, the generated pair (top_params.c); explicit pair parameters are (V,
 * W) in the meaning of the combination rule.
 *
 * Function types handled: bonds 1 (harmonic) and 5 (connection: a chemical bond without energy), angles 1 and 5
 * (Urey-Bradley), dihedrals 1, 9 (periodic), 2 (harmonic improper), 3 (Ryckaert-Bellemans), 4 (periodic improper),
 * pairs 1, constraints 1 and 2, settles 1. Other function types that GROMACS knows are FS_ERR_UNSUPPORTED; numbers
 * outside GROMACS's range are FS_ERR_PARSE.
 *
 * Exclusions (grompp's gpp_nextnb.cpp): the chemical-bond graph has an edge for every [ bonds ] line (any
 * function type) and every [ constraints ] funct 1 line; funct 2 constraints and [ settles ] make no edges (grompp
 * 2022 adds none for settles: water topologies list their exclusions explicitly). Every atom within nrexcl edges of
 * atom i, found by a breadth-first search cut at depth nrexcl, is excluded from i; [ exclusions ] lines add their
 * pairs on top.
 */
#include "top_molecule.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *section_name(tm_section s)
{
    static const char *names[] = {"[ atoms ]",     "[ bonds ]",       "[ pairs ]",   "[ angles ]",
                                  "[ dihedrals ]", "[ constraints ]", "[ settles ]", "[ exclusions ]"};
    return names[s];
}

static fs_status nomem(void)
{
    return fs_fail(FS_ERR_NOMEM, "out of memory reading a molecule type");
}

void tm_free(tm_moltype *m)
{
    fs_list_free(&m->atoms);
    fs_list_free(&m->bonds);
    fs_list_free(&m->angles);
    fs_list_free(&m->ub_angles);
    fs_list_free(&m->propers);
    fs_list_free(&m->per_impropers);
    fs_list_free(&m->impropers);
    fs_list_free(&m->rbs);
    fs_list_free(&m->pairs);
    fs_list_free(&m->constraints);
    fs_list_free(&m->settles);
    fs_list_free(&m->chem);
    fs_list_free(&m->excl);
}

/* A residue number with an optional one-letter insertion code ("12A"). */
static int parse_resnr(const char *s, int *v)
{
    size_t n = strlen(s);
    if (n >= 2 && isalpha((unsigned char)s[n - 1]) && isdigit((unsigned char)s[n - 2])) {
        char buf[32];
        if (n - 1 >= sizeof buf) return 0;
        memcpy(buf, s, n - 1);
        buf[n - 1] = '\0';
        return tp_int(buf, v);
    }
    return tp_int(s, v);
}

static fs_status atoms_line(tm_moltype *m, const tp_params *p, char **tok, int n, const tp_loc *at)
{
    if (n < 6)
        return tp_fail(at, FS_ERR_PARSE,
                       "expected at least 6 fields in [ atoms ] (nr type resnr residue atom cgnr), "
                       "found %d",
                       n);
    if (n > 11) return tp_fail(at, FS_ERR_PARSE, "too many fields (%d) in [ atoms ]", n);
    int nr, cg;
    if (!tp_int(tok[0], &nr) || nr != m->atoms.n + 1)
        return tp_fail(at, FS_ERR_PARSE,
                       "expected atom number %d in [ atoms ] (atoms are numbered from 1 in order), "
                       "found '%s'",
                       m->atoms.n + 1, tok[0]);
    tm_atom a;
    memset(&a, 0, sizeof a);
    a.type = tp_find_type(p, tok[1]);
    if (a.type < 0) return tp_fail(at, FS_ERR_PARSE, "unknown atom type '%s' in [ atoms ]", tok[1]);
    if (!parse_resnr(tok[2], &a.resnr))
        return tp_fail(at, FS_ERR_PARSE, "expected a residue number in [ atoms ], found '%s'", tok[2]);
    if (!tp_copy_name(a.resname, sizeof a.resname, tok[3]) || !tp_copy_name(a.name, sizeof a.name, tok[4]))
        return tp_fail(at, FS_ERR_PARSE, "residue or atom name longer than %d characters in [ atoms ]",
                       FS_NAME_LEN - 1);
    if (!tp_int(tok[5], &cg))
        return tp_fail(at, FS_ERR_PARSE, "expected a charge group number in [ atoms ], found '%s'", tok[5]);
    a.charge = p->types.data[a.type].charge;
    a.mass = p->types.data[a.type].mass;
    if (n > 6 && !tp_double(tok[6], &a.charge))
        return tp_fail(at, FS_ERR_PARSE, "expected a charge in [ atoms ], found '%s'", tok[6]);
    if (n > 7 && !tp_double(tok[7], &a.mass))
        return tp_fail(at, FS_ERR_PARSE, "expected a mass in [ atoms ], found '%s'", tok[7]);
    if (n > 8 && tp_find_type(p, tok[8]) < 0)
        return tp_fail(at, FS_ERR_PARSE, "unknown atom type '%s' (B state) in [ atoms ]", tok[8]);
    for (int k = 9; k < n; ++k) {
        double x;
        if (!tp_double(tok[k], &x))
            return tp_fail(at, FS_ERR_PARSE, "expected a number (B-state charge or mass) in [ atoms ], found '%s'",
                           tok[k]);
    }
    return fs_list_push(&m->atoms, a) == FS_OK ? FS_OK : nomem();
}

static fs_status exclusions_line(tm_moltype *m, char **tok, int n, const tp_loc *at)
{
    int idx[TP_MAX_TOKENS];
    for (int k = 0; k < n; ++k)
        if (!tp_int(tok[k], &idx[k]) || idx[k] < 1 || idx[k] > m->atoms.n)
            return tp_fail(at, FS_ERR_PARSE, "expected an atom number 1..%d in [ exclusions ], found '%s'", m->atoms.n,
                           tok[k]);
    for (int k = 1; k < n; ++k) {
        if (fs_list_push(&m->excl, idx[0] - 1) != FS_OK || fs_list_push(&m->excl, idx[k] - 1) != FS_OK) return nomem();
    }
    return FS_OK;
}

/* GROMACS's function type ranges per section; outside them a number is not a function type at all. */
static int valid_funct(tm_section s, int f)
{
    switch (s) {
    case TM_BONDS:
        return f >= 1 && f <= 10;
    case TM_PAIRS:
        return f >= 1 && f <= 2;
    case TM_ANGLES:
        return f >= 1 && f <= 10;
    case TM_DIHEDRALS:
        return f >= 1 && f <= 11;
    case TM_CONSTRAINTS:
        return f >= 1 && f <= 2;
    case TM_SETTLES:
        return f == 1;
    default:
        return 0;
    }
}

static int supported(tm_section s, int f, int *na, int *nab)
{
    switch (s) {
    case TM_BONDS:
        return tp_nparams(TP_BONDS, f, na, nab) || f == 5;
    case TM_ANGLES:
        return tp_nparams(TP_ANGLES, f, na, nab);
    case TM_DIHEDRALS:
        return tp_nparams(TP_DIHEDRALS, f, na, nab);
    case TM_CONSTRAINTS:
        return tp_nparams(TP_CONSTRAINTS, f, na, nab);
    case TM_PAIRS:
        *na = 2, *nab = 4;
        return f == 1;
    case TM_SETTLES:
        *na = 2, *nab = 2;
        return f == 1;
    default:
        return 0;
    }
}

/* Appends the term for parameters c (A state) of atoms a[] (0-based). */
static fs_status add_term(tm_moltype *m, const tp_params *p, tm_section s, int f, const int *a, const double *c,
                          const tp_loc *at)
{
    int st = FS_OK;
    if (s == TM_ANGLES || s == TM_DIHEDRALS) {
        int na, nab, nonzero = 0;
        tp_nparams(s == TM_ANGLES ? TP_ANGLES : TP_DIHEDRALS, f, &na, &nab);
        for (int k = 0; k < na; ++k) nonzero |= c[k] != 0.0;
        if (!nonzero) return FS_OK; /* grompp drops angles and dihedrals whose parameters are all zero */
    }
    switch (s) {
    case TM_BONDS:
        if (f == 1) {
            fs_bond b = {a[0], a[1], c[0], c[1]};
            st = fs_list_push(&m->bonds, b);
        }
        if (st == FS_OK) st = fs_list_push(&m->chem, a[0]);
        if (st == FS_OK) st = fs_list_push(&m->chem, a[1]);
        break;
    case TM_ANGLES: {
        fs_angle g = {a[0], a[1], a[2], c[0], c[1], f == 5 ? c[2] : 0.0, f == 5 ? c[3] : 0.0};
        st = fs_list_push(f == 5 ? &m->ub_angles : &m->angles, g);
        break;
    }
    case TM_DIHEDRALS:
        if (f == 1 || f == 9 || f == 4) {
            double mult = c[2];
            if (c[1] == 0.0) return FS_OK; /* grompp drops periodic dihedrals with a zero force constant */
            if (fabs(mult - nearbyint(mult)) > 0.01 || nearbyint(mult) < -99 || nearbyint(mult) > 1e6)
                return tp_fail(at, FS_ERR_PARSE, "expected an integer multiplicity in [ dihedrals ], found %g", mult);
            fs_dih_periodic d = {a[0], a[1], a[2], a[3], c[0], c[1], (int)nearbyint(mult)};
            st = fs_list_push(f == 4 ? &m->per_impropers : &m->propers, d);
        } else if (f == 2) {
            fs_dih_harmonic d = {a[0], a[1], a[2], a[3], c[0], c[1]};
            st = fs_list_push(&m->impropers, d);
        } else {
            fs_dih_rb d = {a[0], a[1], a[2], a[3], {c[0], c[1], c[2], c[3], c[4], c[5]}};
            st = fs_list_push(&m->rbs, d);
        }
        break;
    case TM_PAIRS: {
        fs_pair q = {a[0], a[1], 0.0, 0.0};
        tp_vw_to_c6c12(p->comb_rule, c[0], c[1], &q.c6, &q.c12);
        if (!isfinite(q.c6) || !isfinite(q.c12))
            return tp_fail(at, FS_ERR_PARSE, "the 1-4 Lennard-Jones parameters are not finite numbers");
        st = fs_list_push(&m->pairs, q);
        break;
    }
    case TM_CONSTRAINTS: {
        fs_constraint k = {a[0], a[1], c[0]};
        st = fs_list_push(&m->constraints, k);
        if (f == 1 && st == FS_OK) st = fs_list_push(&m->chem, a[0]);
        if (f == 1 && st == FS_OK) st = fs_list_push(&m->chem, a[1]);
        break;
    }
    case TM_SETTLES: {
        fs_settle t = {a[0], a[0] + 1, a[0] + 2, c[0], c[1]};
        st = fs_list_push(&m->settles, t);
        break;
    }
    default:
        break;
    }
    return st == FS_OK ? FS_OK : nomem();
}

static fs_status bonded_line(tm_moltype *m, const tp_params *p, const tm_settings *set, tm_section s, char **tok, int n,
                             const tp_loc *at)
{
    const char *dir = section_name(s);
    int nral = s == TM_SETTLES ? 1 : s == TM_ANGLES ? 3 : s == TM_DIHEDRALS ? 4 : 2;
    if (n < nral) return tp_fail(at, FS_ERR_PARSE, "expected %d atom numbers in %s, found %d fields", nral, dir, n);
    int a[4];
    for (int k = 0; k < nral; ++k) {
        if (!tp_int(tok[k], &a[k]) || a[k] < 1 || a[k] > m->atoms.n)
            return tp_fail(at, FS_ERR_PARSE, "expected an atom number 1..%d in %s, found '%s'", m->atoms.n, dir,
                           tok[k]);
        for (int j = 0; j < k; ++j)
            if (a[j] == a[k]) return tp_fail(at, FS_ERR_PARSE, "duplicate atom number %d in %s", a[k], dir);
    }
    for (int k = 0; k < nral; ++k) a[k]--;
    if (s == TM_SETTLES && a[0] + 2 >= m->atoms.n)
        return tp_fail(at, FS_ERR_PARSE, "[ settles ] on atom %d needs atoms %d and %d, but the molecule has %d",
                       a[0] + 1, a[0] + 2, a[0] + 3, m->atoms.n);
    int f = 1;
    if (n > nral && !tp_int(tok[nral], &f))
        return tp_fail(at, FS_ERR_PARSE, "expected a function type in %s, found '%s'", dir, tok[nral]);
    if (!valid_funct(s, f)) return tp_fail(at, FS_ERR_PARSE, "invalid function type %d in %s", f, dir);
    int na = 0, nab = 0;
    if (!supported(s, f, &na, &nab))
        return tp_fail(at, FS_ERR_UNSUPPORTED, "function type %d in %s is not supported", f, dir);
    int np = n > nral ? n - nral - 1 : 0;
    double c[TP_MAXPARAM] = {0};
    if (np > 0) {
        if (np != na && np != nab)
            return tp_fail(at, FS_ERR_PARSE, "expected %d or %d parameters for function type %d in %s, found %d", na,
                           nab, f, dir, np);
        for (int k = 0; k < np; ++k)
            if (!tp_double(tok[nral + 1 + k], &c[k]))
                return tp_fail(at, FS_ERR_PARSE, "expected a number for parameter %d in %s, found '%s'", k + 1, dir,
                               tok[nral + 1 + k]);
        return add_term(m, p, s, f, a, c, at);
    }
    if (na == 0) return add_term(m, p, s, f, a, c, at); /* bonds funct 5 */
    int t[4];
    for (int k = 0; k < nral; ++k) t[k] = m->atoms.data[a[k]].type;
    if (s == TM_SETTLES) return tp_fail(at, FS_ERR_PARSE, "expected parameters (doh dhh) in [ settles ]");
    if (s == TM_PAIRS) {
        if (!tp_lj14_vw(p, t[0], t[1], set->gen_pairs, set->fudge_lj, &c[0], &c[1]))
            return tp_fail(at, FS_ERR_PARSE,
                           "no parameters in [ pairs ], no [ pairtypes ] entry for atom types '%s' "
                           "and '%s', and gen-pairs is no",
                           p->types.data[t[0]].name, p->types.data[t[1]].name);
        return add_term(m, p, s, f, a, c, at);
    }
    tp_kind kind = s == TM_BONDS       ? TP_BONDS
                   : s == TM_ANGLES    ? TP_ANGLES
                   : s == TM_DIHEDRALS ? TP_DIHEDRALS
                                       : TP_CONSTRAINTS;
    int count;
    const tp_bonded *e = tp_lookup(p, kind, f, t, nral, &count);
    if (!e) {
        char names[4 * (FS_NAME_LEN + 3)] = "";
        for (int k = 0; k < nral; ++k) {
            strcat(names, k ? " '" : "'");
            strcat(names, p->bnames.data[p->types.data[t[k]].btype].s);
            strcat(names, "'");
        }
        return tp_fail(at, FS_ERR_PARSE,
                       "no parameters in %s and no matching %s entry for bonded types %s "
                       "(function type %d)",
                       dir,
                       kind == TP_BONDS       ? "[ bondtypes ]"
                       : kind == TP_ANGLES    ? "[ angletypes ]"
                       : kind == TP_DIHEDRALS ? "[ dihedraltypes ]"
                                              : "[ constrainttypes ]",
                       names, f);
    }
    if (!(s == TM_DIHEDRALS && (f == 1 || f == 9))) count = 1;
    for (int k = 0; k < count; ++k) {
        fs_status st = add_term(m, p, s, f, a, e[k].c, at);
        if (st != FS_OK) return st;
    }
    return FS_OK;
}

fs_status tm_line(tm_moltype *m, const tp_params *p, const tm_settings *set, tm_section section, char **tok, int n,
                  const tp_loc *at)
{
    if (section == TM_ATOMS) return atoms_line(m, p, tok, n, at);
    if (section == TM_EXCLUSIONS) return exclusions_line(m, tok, n, at);
    return bonded_line(m, p, set, section, tok, n, at);
}

fs_status tm_exclusions(const tm_moltype *m, int **pairs_out, int *npairs_out)
{
    *pairs_out = NULL;
    *npairs_out = 0;
    int n = m->atoms.n, nb = m->chem.n / 2;
    int *start = calloc((size_t)n + 1, sizeof *start);
    int *adj = malloc((size_t)(2 * nb > 0 ? 2 * nb : 1) * sizeof *adj);
    int *dist = malloc((size_t)(n > 0 ? n : 1) * sizeof *dist);
    int *queue = malloc((size_t)(n > 0 ? n : 1) * sizeof *queue);
    tm_int_list out = {0};
    fs_status st = FS_OK;
    if (!start || !adj || !dist || !queue) {
        st = nomem();
        goto done;
    }
    for (int k = 0; k < nb; ++k) {
        start[m->chem.data[2 * k] + 1]++;
        start[m->chem.data[2 * k + 1] + 1]++;
    }
    for (int i = 0; i < n; ++i) start[i + 1] += start[i];
    for (int i = 0; i < n; ++i) dist[i] = 0; /* reuse dist as the fill counter */
    for (int k = 0; k < nb; ++k) {
        int i = m->chem.data[2 * k], j = m->chem.data[2 * k + 1];
        adj[start[i] + dist[i]++] = j;
        adj[start[j] + dist[j]++] = i;
    }
    for (int i = 0; i < n; ++i) dist[i] = -1;
    for (int i = 0; i < n && m->nrexcl > 0; ++i) {
        int head = 0, tail = 0;
        queue[tail++] = i;
        dist[i] = 0;
        while (head < tail) {
            int u = queue[head++];
            if (dist[u] >= m->nrexcl) continue;
            for (int k = start[u]; k < start[u + 1]; ++k) {
                int v = adj[k];
                if (dist[v] >= 0) continue;
                dist[v] = dist[u] + 1;
                queue[tail++] = v;
                if (v > i && (fs_list_push(&out, i) != FS_OK || fs_list_push(&out, v) != FS_OK)) {
                    st = nomem();
                    goto done;
                }
            }
        }
        for (int k = 0; k < tail; ++k) dist[queue[k]] = -1;
    }
    for (int k = 0; k + 1 < m->excl.n; k += 2) {
        int i = m->excl.data[k], j = m->excl.data[k + 1];
        if (i == j) continue;
        if (fs_list_push(&out, i < j ? i : j) != FS_OK || fs_list_push(&out, i < j ? j : i) != FS_OK) {
            st = nomem();
            goto done;
        }
    }
done:
    free(start);
    free(adj);
    free(dist);
    free(queue);
    if (st != FS_OK) {
        fs_list_free(&out);
        return st;
    }
    *pairs_out = out.data;
    *npairs_out = out.n / 2;
    return FS_OK;
}

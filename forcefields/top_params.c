/*
 * top_params.c — atom types, bonded types and Lennard-Jones pair parameters, as grompp keeps them.
 *
 * [atomtypes] lines come in four layouts, told apart as grompp does by where the one-letter particle type is:
 *     name mass charge ptype V W                       (field 4 is the ptype)
 *     name bond_type at.num mass charge ptype V W      (field 6 is the ptype)
 *     name bond_type mass charge ptype V W             (field 5, and field 2 starts with a letter)
 *     name at.num mass charge ptype V W                (field 5, and field 2 does not)
 * V and W mean C6 and C12 (nm^6, nm^12 kJ/mol) with comb-rule 1 and sigma (nm), epsilon (kJ/mol) with 2 and 3.
 *
 * Lennard-Jones between types i and j (GROMACS manual, "Non-bonded interactions"):
 *     comb-rule 1:  C6 = sqrt(C6_i C6_j),             C12 = sqrt(C12_i C12_j)
 *     comb-rule 2:  sigma = (sigma_i + sigma_j) / 2,  epsilon = sqrt(epsilon_i epsilon_j)
 *     comb-rule 3:  sigma = sqrt(sigma_i sigma_j),    epsilon = sqrt(epsilon_i epsilon_j)
 * and C6 = 4 epsilon sigma^6, C12 = 4 epsilon sigma^12 for 2 and 3. A [nonbond_params] line replaces the
 * combination for its pair. A negative sigma means C6 = 0 and C12 from |sigma| (grompp's convention).
 * 1-4 pairs: a [pairtypes] line gives the pair's (V, W) as they are (never scaled); with gen-pairs = yes a pair
 * without one gets the normal LJ of its two types (including [nonbond_params]) scaled by fudgeLJ, which for
 * sigma/epsilon means scaling epsilon only — C6 and C12 scale by fudgeLJ in every case.
 *
 * Bonded types are stored one entry per line, in file order, and matched in both directions. Redefining the
 * same types replaces the parameters (grompp warns), except for dihedral type 9, where consecutive lines with the
 * same types form one multi-term block and a second, separate block for the same types is an error. Look-ups
 * match the bonded type names of the atoms' types: the first line matching in either direction for bonds, angles
 * and constraints; for dihedrals the line with the most non-wildcard matches (the first one in file order among
 * equals) plus the following lines of the same block.
 */
#include "top_params.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tp_params_free(tp_params *p)
{
    fs_list_free(&p->types);
    fs_list_free(&p->bnames);
    for (int i = 0; i < p->tables.n; ++i) fs_list_free(&p->tables.data[i].e);
    fs_list_free(&p->tables);
    fs_list_free(&p->nbparams);
    fs_list_free(&p->pairtypes);
}

int tp_find_type(const tp_params *p, const char *name)
{
    for (int i = 0; i < p->types.n; ++i)
        if (strcmp(p->types.data[i].name, name) == 0) return i;
    return -1;
}

static int find_bname(const tp_params *p, const char *name)
{
    for (int i = 0; i < p->bnames.n; ++i)
        if (strcmp(p->bnames.data[i].s, name) == 0) return i;
    return -1;
}

static fs_status nomem(void)
{
    return fs_fail(FS_ERR_NOMEM, "out of memory reading force-field parameters");
}

static int single_letter(const char *s)
{
    return strlen(s) == 1 && isalpha((unsigned char)s[0]);
}

fs_status tp_push_atomtype(tp_params *p, char **tok, int n, const tp_loc *at)
{
    if (n < 6)
        return tp_fail(at, FS_ERR_PARSE,
                       "expected at least 6 fields in [ atomtypes ] (name mass charge ptype V W), "
                       "found %d",
                       n);
    int have_bt, have_an;
    if (single_letter(tok[5])) {
        have_bt = have_an = 1;
    } else if (single_letter(tok[3])) {
        have_bt = have_an = 0;
    } else {
        have_bt = isalpha((unsigned char)tok[1][0]) != 0;
        have_an = !have_bt;
    }
    int k = 1, need = 6 + have_bt + have_an;
    if (n < need)
        return tp_fail(at, FS_ERR_PARSE, "expected %d fields in [ atomtypes ] for this layout, found %d", need, n);
    if (n > need + 4) return tp_fail(at, FS_ERR_PARSE, "too many fields in [ atomtypes ] (%d)", n);
    tp_atomtype t;
    memset(&t, 0, sizeof t);
    t.at = *at;
    t.atomic_number = -1;
    if (!tp_copy_name(t.name, sizeof t.name, tok[0]))
        return tp_fail(at, FS_ERR_PARSE, "atom type name '%s' is longer than %d characters", tok[0], FS_NAME_LEN - 1);
    if (strlen(t.name) == 1 && isdigit((unsigned char)t.name[0]))
        return tp_fail(at, FS_ERR_PARSE, "atom type names can't be single digits ('%s')", t.name);
    const char *btname = have_bt ? tok[k++] : tok[0];
    if (strlen(btname) >= FS_NAME_LEN) return tp_fail(at, FS_ERR_PARSE, "bonded type name '%s' is too long", btname);
    if (strlen(btname) == 1 && isdigit((unsigned char)btname[0]))
        return tp_fail(at, FS_ERR_PARSE, "bonded type names can't be single digits ('%s')", btname);
    if (have_an && !tp_int(tok[k++], &t.atomic_number))
        return tp_fail(at, FS_ERR_PARSE, "expected an atomic number in [ atomtypes ], found '%s'", tok[k - 1]);
    if (!tp_double(tok[k], &t.mass))
        return tp_fail(at, FS_ERR_PARSE, "expected a mass in [ atomtypes ], found '%s'", tok[k]);
    k++;
    if (!tp_double(tok[k], &t.charge))
        return tp_fail(at, FS_ERR_PARSE, "expected a charge in [ atomtypes ], found '%s'", tok[k]);
    k++;
    char pt = (char)toupper((unsigned char)tok[k][0]);
    if (strlen(tok[k]) != 1 || !strchr("ANSBVD", pt))
        return tp_fail(at, FS_ERR_PARSE, "expected a particle type (A, N, S, B, V or D) in [ atomtypes ], found '%s'",
                       tok[k]);
    t.ptype = pt == 'D' ? 'V' : pt;
    k++;
    if (!tp_double(tok[k], &t.v) || !tp_double(tok[k + 1], &t.w))
        return tp_fail(at, FS_ERR_PARSE, "expected two numbers (V W) in [ atomtypes ], found '%s %s'", tok[k],
                       tok[k + 1]);
    for (int e = k + 2; e < n; ++e) {
        double dummy;
        if (!tp_double(tok[e], &dummy))
            return tp_fail(at, FS_ERR_PARSE, "expected a number in [ atomtypes ], found '%s'", tok[e]);
    }
    if (t.w < 0.0 || (p->comb_rule == 1 && t.v < 0.0))
        return tp_fail(at, FS_ERR_PARSE, "negative %s for atom type '%s': the combination rule is undefined",
                       p->comb_rule == 1 ? "C6 or C12" : "epsilon", t.name);
    int b = find_bname(p, btname);
    if (b < 0) {
        tp_name nm;
        snprintf(nm.s, sizeof nm.s, "%s", btname);
        if (fs_list_push(&p->bnames, nm) != FS_OK) return nomem();
        b = p->bnames.n - 1;
    }
    t.btype = b;
    int old = tp_find_type(p, t.name);
    if (old >= 0) {
        p->types.data[old] = t; /* grompp: "Overriding atomtype" (a warning) */
        return FS_OK;
    }
    return fs_list_push(&p->types, t) == FS_OK ? FS_OK : nomem();
}

fs_status tp_push_nbpair(tp_params *p, int is_pairtype, char **tok, int n, const tp_loc *at)
{
    const char *dir = is_pairtype ? "[ pairtypes ]" : "[ nonbond_params ]";
    int f;
    if (n < 3) return tp_fail(at, FS_ERR_PARSE, "expected 'type type funct V W' in %s, found %d fields", dir, n);
    if (!tp_int(tok[2], &f))
        return tp_fail(at, FS_ERR_PARSE, "expected a function type in %s, found '%s'", dir, tok[2]);
    if (is_pairtype && f == 2) return FS_OK; /* pair type for [pairs] funct 2, which is not supported when used */
    if (f != 1) {
        if (!is_pairtype && f == 2)
            return tp_fail(at, FS_ERR_UNSUPPORTED, "Buckingham [ nonbond_params ] (funct 2) are not supported");
        return tp_fail(at, FS_ERR_PARSE, "expected function type 1 in %s, found %d", dir, f);
    }
    int np = n - 3, maxp = is_pairtype ? 4 : 2;
    if (np < 2 || np > maxp || (is_pairtype && np == 3))
        return tp_fail(at, FS_ERR_PARSE, "expected %s parameters (V W) in %s, found %d", is_pairtype ? "2 or 4" : "2",
                       dir, np);
    tp_nbpair e;
    e.ti = tp_find_type(p, tok[0]);
    e.tj = tp_find_type(p, tok[1]);
    if (e.ti < 0 || e.tj < 0)
        return tp_fail(at, FS_ERR_PARSE, "unknown atom type '%s' in %s", e.ti < 0 ? tok[0] : tok[1], dir);
    for (int k = 3; k < n; ++k) {
        double x;
        if (!tp_double(tok[k], &x))
            return tp_fail(at, FS_ERR_PARSE, "expected a number in %s, found '%s'", dir, tok[k]);
        if (k == 3) e.v = x;
        if (k == 4) e.w = x;
    }
    tp_nbpair_list *list = is_pairtype ? &p->pairtypes : &p->nbparams;
    for (int i = 0; i < list->n; ++i) {
        tp_nbpair *o = &list->data[i];
        if ((o->ti == e.ti && o->tj == e.tj) || (o->ti == e.tj && o->tj == e.ti)) {
            *o = e; /* the later line wins, as in grompp */
            return FS_OK;
        }
    }
    return fs_list_push(list, e) == FS_OK ? FS_OK : nomem();
}

int tp_nparams(tp_kind kind, int funct, int *n_a, int *n_ab)
{
    int a = 0, ab = 0;
    switch (kind) {
    case TP_BONDS:
        if (funct == 1) a = 2, ab = 4;
        if (funct == 5) return *n_a = 0, *n_ab = 0, 1;
        break;
    case TP_CONSTRAINTS:
        if (funct == 1 || funct == 2) a = 1, ab = 2;
        break;
    case TP_ANGLES:
        if (funct == 1) a = 2, ab = 4;
        if (funct == 5) a = 4, ab = 8;
        break;
    case TP_DIHEDRALS:
        if (funct == 1 || funct == 9 || funct == 4) a = 3, ab = 5;
        if (funct == 2) a = 2, ab = 4;
        if (funct == 3) a = 6, ab = 12;
        break;
    default:
        break;
    }
    *n_a = a;
    *n_ab = ab;
    return a > 0;
}

static tp_table *get_table(tp_params *p, tp_kind kind, int funct, int create)
{
    for (int i = 0; i < p->tables.n; ++i)
        if (p->tables.data[i].kind == kind && p->tables.data[i].funct == funct) return &p->tables.data[i];
    if (!create) return NULL;
    tp_table t;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    t.funct = funct;
    if (fs_list_push(&p->tables, t) != FS_OK) return NULL;
    return &p->tables.data[p->tables.n - 1];
}

static const tp_table *find_table(const tp_params *p, tp_kind kind, int funct)
{
    return get_table((tp_params *)p, kind, funct, 0);
}

static int same_types(const int *a, const int *b, int nral, int reverse)
{
    for (int j = 0; j < nral; ++j)
        if (a[j] != b[reverse ? nral - 1 - j : j]) return 0;
    return 1;
}

static const char *kind_name(tp_kind kind)
{
    static const char *names[] = {"[ bondtypes ]", "[ constrainttypes ]", "[ angletypes ]", "[ dihedraltypes ]"};
    return names[kind];
}

fs_status tp_push_bondedtype(tp_params *p, tp_kind kind, char **tok, int n, const tp_loc *at)
{
    const char *dir = kind_name(kind);
    const char *names[4] = {0};
    int nral = kind == TP_ANGLES ? 3 : 2, nt, funct;
    if (kind == TP_DIHEDRALS) {
        if (n >= 3 && strlen(tok[2]) == 1 && isdigit((unsigned char)tok[2][0])) {
            nt = 2; /* two-atom form: improper (funct 2) types are atoms 1 and 4, otherwise atoms 2 and 3 */
            if (tok[2][0] == '2')
                names[0] = tok[0], names[1] = "X", names[2] = "X", names[3] = tok[1];
            else
                names[0] = "X", names[1] = tok[0], names[2] = tok[1], names[3] = "X";
        } else if (n >= 5 && strlen(tok[4]) == 1 && isdigit((unsigned char)tok[4][0])) {
            nt = 4;
            for (int j = 0; j < 4; ++j) names[j] = tok[j];
        } else {
            return tp_fail(at, FS_ERR_PARSE, "expected 2 or 4 bonded type names and a function type in %s", dir);
        }
        nral = 4;
    } else {
        nt = nral;
        if (n < nral + 1)
            return tp_fail(at, FS_ERR_PARSE, "expected %d type names and a function type in %s, found %d fields", nral,
                           dir, n);
        for (int j = 0; j < nral; ++j) names[j] = tok[j];
    }
    if (!tp_int(tok[nt], &funct))
        return tp_fail(at, FS_ERR_PARSE, "expected a function type in %s, found '%s'", dir, tok[nt]);
    int repeat = kind == TP_DIHEDRALS && funct == 9;
    int key = repeat ? 1 : funct;
    tp_bonded b;
    memset(&b, 0, sizeof b);
    b.at = *at;
    b.nc = n - nt - 1;
    if (b.nc > TP_MAXPARAM) return tp_fail(at, FS_ERR_PARSE, "too many parameters (%d) in %s", b.nc, dir);
    for (int k = 0; k < b.nc; ++k)
        if (!tp_double(tok[nt + 1 + k], &b.c[k]))
            return tp_fail(at, FS_ERR_PARSE, "expected a number for parameter %d in %s, found '%s'", k + 1, dir,
                           tok[nt + 1 + k]);
    int na, nab;
    if (tp_nparams(kind, funct, &na, &nab) && b.nc != na && b.nc != nab)
        return tp_fail(at, FS_ERR_PARSE, "expected %d or %d parameters for function type %d in %s, found %d", na, nab,
                       funct, dir, b.nc);
    for (int j = 0; j < nral; ++j) {
        if (kind == TP_DIHEDRALS && strcmp(names[j], "X") == 0) {
            b.a[j] = -1;
        } else if ((b.a[j] = find_bname(p, names[j])) < 0) {
            return tp_fail(at, FS_ERR_PARSE, "unknown bonded type '%s' in %s", names[j], dir);
        }
    }
    tp_table *t = get_table(p, kind, key, 1);
    if (!t) return nomem();
    int cont = repeat && t->e.n > 0 && same_types(t->e.data[t->e.n - 1].a, b.a, nral, 0);
    int add = 1;
    for (int i = 0; i < t->e.n; ++i) {
        tp_bonded *o = &t->e.data[i];
        if (!same_types(o->a, b.a, nral, 0) && !same_types(o->a, b.a, nral, 1)) continue;
        int identical = o->nc == b.nc && memcmp(o->c, b.c, sizeof b.c) == 0;
        if (!repeat || identical) add = 0;
        if (!identical) {
            if (repeat && !cont)
                return tp_fail(at, FS_ERR_PARSE,
                               "a second block of dihedral type 9 parameters for the same types "
                               "(first at %s:%d) is not supported, as in grompp",
                               o->at.file, o->at.line);
            if (!repeat) {
                memcpy(o->c, b.c, sizeof b.c); /* grompp: "Overriding ... parameters" (a warning) */
                o->nc = b.nc;
                o->at = b.at;
            }
        }
    }
    if (add && fs_list_push(&t->e, b) != FS_OK) return nomem();
    return FS_OK;
}

static int dihedral_matches(const int *a, const int *bt, int reverse)
{
    int n = 0;
    for (int j = 0; j < 4; ++j) {
        int want = a[j], have = bt[reverse ? 3 - j : j];
        if (want == -1) continue;
        if (want != have) return -1;
        n++;
    }
    return n;
}

const tp_bonded *tp_lookup(const tp_params *p, tp_kind kind, int funct, const int *t, int nral, int *count)
{
    *count = 0;
    int key = kind == TP_DIHEDRALS && funct == 9 ? 1 : funct;
    const tp_table *tab = find_table(p, kind, key);
    if (!tab) return NULL;
    int bt[4];
    for (int j = 0; j < nral; ++j) bt[j] = p->types.data[t[j]].btype;
    if (kind != TP_DIHEDRALS) {
        for (int i = 0; i < tab->e.n; ++i)
            if (same_types(tab->e.data[i].a, bt, nral, 0) || same_types(tab->e.data[i].a, bt, nral, 1)) {
                *count = 1;
                return &tab->e.data[i];
            }
        return NULL;
    }
    int best = -1, bestn = -1;
    for (int i = 0; i < tab->e.n && bestn < 4; ++i)
        for (int r = 0; r < 2; ++r) {
            int m = dihedral_matches(tab->e.data[i].a, bt, r);
            if (m > bestn) {
                bestn = m;
                best = i;
            }
        }
    if (best < 0) return NULL;
    int c = 1;
    while (best + c < tab->e.n && same_types(tab->e.data[best + c].a, tab->e.data[best].a, 4, 0)) c++;
    *count = c;
    return &tab->e.data[best];
}

void tp_vw_to_c6c12(int comb_rule, double v, double w, double *c6, double *c12)
{
    if (comb_rule == 1) {
        *c6 = v;
        *c12 = w;
    } else if (v >= 0.0) {
        double s6 = v * v * v * v * v * v;
        *c6 = 4.0 * w * s6;
        *c12 = 4.0 * w * s6 * s6;
    } else {
        double s6 = v * v * v * v * v * v;
        *c6 = 0.0;
        *c12 = 4.0 * w * s6 * s6;
    }
}

void tp_lj_vw(const tp_params *p, int ti, int tj, double *v, double *w)
{
    for (int i = 0; i < p->nbparams.n; ++i) {
        const tp_nbpair *e = &p->nbparams.data[i];
        if ((e->ti == ti && e->tj == tj) || (e->ti == tj && e->tj == ti)) {
            *v = e->v;
            *w = e->w;
            return;
        }
    }
    const tp_atomtype *a = &p->types.data[ti], *b = &p->types.data[tj];
    *w = sqrt(a->w * b->w);
    switch (p->comb_rule) {
    case 1:
        *v = sqrt(a->v * b->v);
        break;
    case 2:
        *v = 0.5 * (fabs(a->v) + fabs(b->v));
        break;
    default:
        *v = sqrt(fabs(a->v * b->v));
        break;
    }
    if (p->comb_rule != 1 && (a->v < 0.0 || b->v < 0.0)) *v = -*v;
}

int tp_lj14_vw(const tp_params *p, int ti, int tj, int gen_pairs, double fudge_lj, double *v, double *w)
{
    for (int i = 0; i < p->pairtypes.n; ++i) {
        const tp_nbpair *e = &p->pairtypes.data[i];
        if ((e->ti == ti && e->tj == tj) || (e->ti == tj && e->tj == ti)) {
            *v = e->v;
            *w = e->w;
            return 1;
        }
    }
    if (!gen_pairs) return 0;
    tp_lj_vw(p, ti, tj, v, w);
    if (p->comb_rule == 1) *v *= fudge_lj;
    *w *= fudge_lj;
    return 1;
}

/*
 * top_params.h — the force-field parameter tables of a topology: atom types, bonded types, LJ pair overrides.
 *
 * Filled from [atomtypes], [nonbond_params], [pairtypes], [bondtypes], [constrainttypes], [angletypes] and
 * [dihedraltypes], then queried while molecule types are read, exactly when grompp would query them (a type
 * defined after a molecule has been read does not apply to it).
 */
#ifndef FS_TOP_PARAMS_H
#define FS_TOP_PARAMS_H

#include "../core/topology.h"
#include "top_util.h"

#define TP_MAXPARAM 12

typedef struct {
    char name[FS_NAME_LEN];
    int btype;         /* index into tp_params.bnames: the bonded type ([atomtypes] bond_type column, else the name) */
    int atomic_number; /* -1 when not given */
    double mass, charge;
    char ptype;
    double v, w; /* comb-rule 1: C6, C12; comb-rule 2, 3: sigma, epsilon */
    tp_loc at;
} tp_atomtype;

typedef struct {
    char s[FS_NAME_LEN];
} tp_name;

/* One line of a bonded-type directive. a[] are bonded-type indices (-1: wildcard 'X', dihedral types only). */
typedef struct {
    int a[4];
    int nc;
    double c[TP_MAXPARAM];
    tp_loc at;
} tp_bonded;

typedef enum { TP_BONDS, TP_CONSTRAINTS, TP_ANGLES, TP_DIHEDRALS, TP_NKIND } tp_kind;

typedef struct {
    tp_kind kind;
    int funct; /* dihedral type 9 is stored as 1, as grompp does */
    FS_LIST(tp_bonded) e;
} tp_table;

typedef struct {
    int ti, tj; /* atom type indices */
    double v, w;
} tp_nbpair;

typedef FS_LIST(tp_nbpair) tp_nbpair_list;

typedef struct {
    int comb_rule;
    FS_LIST(tp_atomtype) types;
    FS_LIST(tp_name) bnames;
    FS_LIST(tp_table) tables;
    tp_nbpair_list nbparams;  /* [nonbond_params] */
    tp_nbpair_list pairtypes; /* [pairtypes] funct 1 */
} tp_params;

void tp_params_free(tp_params *p);

/* Atom type index by name, or -1. */
int tp_find_type(const tp_params *p, const char *name);

/* Parsers for one data line (already split into tokens) of each directive. */
fs_status tp_push_atomtype(tp_params *p, char **tok, int n, const tp_loc *at);
fs_status tp_push_nbpair(tp_params *p, int is_pairtype, char **tok, int n, const tp_loc *at);
fs_status tp_push_bondedtype(tp_params *p, tp_kind kind, char **tok, int n, const tp_loc *at);

/* Number of A-state parameters and of A+B parameters for a supported (kind, funct); 0 when unsupported. */
int tp_nparams(tp_kind kind, int funct, int *n_a, int *n_ab);

/* Looks up the bonded type for atom types t[0..nral) (atom type indices). For dihedrals (nral 4) the entry with
 * the most non-wildcard matches wins (the first such in file order, either direction), and *count is the number
 * of consecutive lines of that entry (several for funct 9). Returns NULL when nothing matches. */
const tp_bonded *tp_lookup(const tp_params *p, tp_kind kind, int funct, const int *t, int nral, int *count);

/* C6 and C12 from the file's (v, w) by the combination rule's meaning (sigma < 0 means C6 = 0, as grompp). */
void tp_vw_to_c6c12(int comb_rule, double v, double w, double *c6, double *c12);

/* The normal LJ (v, w) of a type pair: [nonbond_params] if given, else the combination rule. */
void tp_lj_vw(const tp_params *p, int ti, int tj, double *v, double *w);

/* The 1-4 (v, w) of a type pair: [pairtypes] if given (not scaled); else, with gen_pairs, the normal LJ scaled by
 * fudge_lj (epsilon only for comb-rules 2 and 3). Returns 0 when there is none. */
int tp_lj14_vw(const tp_params *p, int ti, int tj, int gen_pairs, double fudge_lj, double *v, double *w);

#endif

/*
 * top_molecule.h — one [ moleculetype ] as read: atoms and resolved terms in local (0-based) atom indices.
 *
 * Parameters are resolved line by line against the tables known at that point, as grompp does. The molecule type
 * is replicated into the global topology for each copy listed in [ molecules ].
 */
#ifndef FS_TOP_MOLECULE_H
#define FS_TOP_MOLECULE_H

#include "../core/topology.h"
#include "top_params.h"

typedef struct {
    char name[FS_NAME_LEN], resname[FS_NAME_LEN];
    int resnr;
    int type; /* index into tp_params.types */
    double charge, mass;
} tm_atom;

typedef FS_LIST(int) tm_int_list;

typedef struct {
    char name[FS_NAME_LEN];
    int nrexcl;
    tp_loc at;
    FS_LIST(tm_atom) atoms;
    fs_bond_list bonds;
    fs_angle_list angles, ub_angles;
    fs_dih_periodic_list propers, per_impropers;
    fs_dih_harmonic_list impropers;
    fs_dih_rb_list rbs;
    fs_pair_list pairs;
    fs_constraint_list constraints;
    fs_settle_list settles;
    tm_int_list chem; /* chemical bonds (for exclusions), flattened pairs */
    tm_int_list excl; /* [ exclusions ], flattened pairs */
} tm_moltype;

/* The molecule-level sections whose data lines tm_line() reads. */
typedef enum {
    TM_ATOMS,
    TM_BONDS,
    TM_PAIRS,
    TM_ANGLES,
    TM_DIHEDRALS,
    TM_CONSTRAINTS,
    TM_SETTLES,
    TM_EXCLUSIONS
} tm_section;

/* The force-field settings that resolving 1-4 pairs needs. */
typedef struct {
    int gen_pairs;
    double fudge_lj;
} tm_settings;

/* Reads one data line of `section` into the molecule type. */
fs_status tm_line(tm_moltype *m, const tp_params *p, const tm_settings *set, tm_section section, char **tok, int n,
                  const tp_loc *at);

/* The molecule's exclusion pairs (i < j, local indices, flattened): every atom within nrexcl chemical bonds
 * (bonds, [ constraints ] funct 1) plus [ exclusions ]. *pairs is malloc'd (free it); *npairs counts pairs. */
fs_status tm_exclusions(const tm_moltype *m, int **pairs, int *npairs);

void tm_free(tm_moltype *m);

#endif

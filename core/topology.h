/*
 * topology.h — the molecular topology: atoms, molecules and every interaction term, fully resolved.
 *
 * The topology is what a force-field reader produces and what every backend consumes. All parameters are resolved
 * by the time it is built: each bonded term carries its own numbers (no look-ups by type at run time), and the
 * Lennard-Jones interaction of every atom-type pair is in a dense C6/C12 matrix over the atom types actually used.
 * Units are GROMACS's (nm, kJ/mol, degrees for equilibrium angles, e, amu).
 *
 * Interaction forms (GROMACS manual, "Topologies" table 5.5):
 *   bond (funct 1)           V = 1/2 kb (r - b0)^2
 *   angle (funct 1)          V = 1/2 k (theta - theta0)^2
 *   Urey-Bradley (angles 5)  V = 1/2 k (theta - theta0)^2 + 1/2 kub (r13 - r13_0)^2
 *   proper (1, 9), periodic improper (4)
 *                            V = k (1 + cos(mult phi - phi0)); funct 9 lines with several terms become several
 *                            entries here
 *   improper (funct 2)       V = 1/2 k (xi - xi0)^2, difference wrapped into [-180, 180) as GROMACS does
 *   Ryckaert-Bellemans (3)   V = sum_n C_n cos^n(psi), psi = phi - 180 deg
 *   LJ                       V = C12/r^12 - C6/r^6
 *   1-4 pair (pairs 1)       V = C12/r^12 - C6/r^6 + fudgeQQ f qi qj / r (no cutoff, no shift)
 * Dihedral angles follow the IUPAC/GROMACS convention (trans = 180 deg).
 *
 * Ownership: an fs_topology owns all its arrays; create with fs_topology_create(), free with fs_topology_destroy().
 * Capacity is kept apart from count in every list so that reaction chemistry can add molecules later.
 */
#ifndef FS_TOPOLOGY_H
#define FS_TOPOLOGY_H

#include <stddef.h>

#include "status.h"

#define FS_NAME_LEN 32

typedef struct {
    char name[FS_NAME_LEN];    /* atom name from [atoms] */
    char resname[FS_NAME_LEN]; /* residue name */
    int resnr;                 /* residue number as given in the topology */
    int type;                  /* index into fs_topology.types */
    int molecule;              /* index into fs_topology.molecules */
    double charge;             /* e */
    double mass;               /* amu */
    unsigned char frozen;      /* 1: excluded from integration, degrees of freedom, COM removal, barostat */
} fs_atom;

typedef struct {
    char name[FS_NAME_LEN]; /* as in [atomtypes] */
    int atomic_number;      /* -1 when the topology does not give it */
} fs_atomtype;

typedef struct {
    char name[FS_NAME_LEN]; /* moleculetype name */
    int first_atom;         /* global index of its first atom */
    int natoms;
} fs_molecule;

typedef struct {
    int ai, aj;
    double b0, kb;
} fs_bond;
typedef struct {
    int ai, aj, ak;
    double theta0, k, r13, kub;
} fs_angle; /* r13, kub used by U-B only */
typedef struct {
    int ai, aj, ak, al;
    double phi0, k;
    int mult;
} fs_dih_periodic;
typedef struct {
    int ai, aj, ak, al;
    double xi0, k;
} fs_dih_harmonic;
typedef struct {
    int ai, aj, ak, al;
    double c[6];
} fs_dih_rb;
typedef struct {
    int ai, aj;
    double c6, c12;
} fs_pair;
typedef struct {
    int ai, aj;
    double length;
} fs_constraint;
typedef struct {
    int ow, hw1, hw2;
    double doh, dhh;
} fs_settle;

/* A growable array of T: data[0..n), room for cap. */
#define FS_LIST(T)                                                                                                     \
    struct {                                                                                                           \
        T *data;                                                                                                       \
        int n, cap;                                                                                                    \
    }

typedef FS_LIST(fs_bond) fs_bond_list;
typedef FS_LIST(fs_angle) fs_angle_list;
typedef FS_LIST(fs_dih_periodic) fs_dih_periodic_list;
typedef FS_LIST(fs_dih_harmonic) fs_dih_harmonic_list;
typedef FS_LIST(fs_dih_rb) fs_dih_rb_list;
typedef FS_LIST(fs_pair) fs_pair_list;
typedef FS_LIST(fs_constraint) fs_constraint_list;
typedef FS_LIST(fs_settle) fs_settle_list;

typedef struct {
    char title[128]; /* [system] */

    /* atoms */
    fs_atom *atoms;
    int natoms, atoms_cap;

    /* Lennard-Jones: ntypes used types, c6/c12 are ntypes*ntypes, row-major, symmetric. */
    fs_atomtype *types;
    int ntypes;
    double *c6, *c12;

    fs_molecule *molecules;
    int nmolecules, molecules_cap;

    /* [defaults] as read; kept for reporting and for charge-dependent terms */
    int nbfunc, comb_rule, gen_pairs;
    double fudge_lj, fudge_qq;

    /* bonded terms, by the energy term they contribute to */
    fs_bond_list bonds;                 /* "Bond" */
    fs_angle_list angles;               /* "Angle" (funct 1) */
    fs_angle_list ub_angles;            /* "U-B" (funct 5) */
    fs_dih_periodic_list propers;       /* "Proper Dih." (funct 1 and 9) */
    fs_dih_periodic_list per_impropers; /* "Per. Imp. Dih." (funct 4) */
    fs_dih_harmonic_list impropers;     /* "Improper Dih." (funct 2) */
    fs_dih_rb_list rbs;                 /* "Ryckaert-Bell." (funct 3) */
    fs_pair_list pairs;                 /* "LJ-14" and "Coulomb-14" */
    fs_constraint_list constraints;
    fs_settle_list settles;

    /* Non-bonded exclusions in CSR form, both directions, sorted, without the atom itself:
     * the atoms excluded from i are excl_list[excl_start[i] .. excl_start[i+1]). Built by fs_topology_finalize(). */
    int *excl_start;
    int *excl_list;

    /* Exclusion pairs collected while building (i != j, any order, duplicates allowed); consumed by finalize. */
    FS_LIST(int) excl_pending;
} fs_topology;

/* Allocates an empty topology. Returns FS_ERR_NOMEM on failure (and *out = NULL). */
fs_status fs_topology_create(fs_topology **out);

/* Frees the topology and everything it owns; accepts NULL and a pointer to NULL; sets *top = NULL. */
void fs_topology_destroy(fs_topology **top);

/* Appends an atom and returns its index through *index (may be NULL). */
fs_status fs_topology_add_atom(fs_topology *top, const fs_atom *atom, int *index);

/* Appends a molecule record (first_atom/natoms must refer to atoms already added). */
fs_status fs_topology_add_molecule(fs_topology *top, const fs_molecule *mol);

/* Sets the LJ type table: copies `types` and the ntypes*ntypes c6/c12 matrices. */
fs_status fs_topology_set_types(fs_topology *top, int ntypes, const fs_atomtype *types, const double *c6,
                                const double *c12);

/* Records that i and j do not interact through the non-bonded potential. */
fs_status fs_topology_add_exclusion(fs_topology *top, int i, int j);

/* Builds the exclusion CSR from the pending pairs (sorted, deduplicated, symmetric). Call once after all atoms and
 * exclusions are added; may be called again after more are added. */
fs_status fs_topology_finalize(fs_topology *top);

/* Appends one item to a topology list; `list` is any fs_*_list (or FS_LIST). Returns FS_ERR_NOMEM on failure. */
#define fs_list_push(list, item)                                                                                       \
    (fs_list_grow_((void **)&(list)->data, &(list)->cap, (list)->n + 1, sizeof(*(list)->data))                         \
         ? FS_ERR_NOMEM                                                                                                \
         : ((list)->data[(list)->n++] = (item), FS_OK))
int fs_list_grow_(void **data, int *cap, int need, size_t elem_size); /* 0 on success, 1 on failure */

/* Frees a list's storage and zeroes it. */
#define fs_list_free(list) (free((list)->data), (list)->data = NULL, (list)->n = (list)->cap = 0)

/* Moves every bond whose atoms include a hydrogen into the constraints (GROMACS's `constraints = h-bonds`): a
 * hydrogen is an atom whose name starts with 'H' or 'h', as GROMACS decides. The bond's b0 becomes the constraint
 * length and it no longer contributes to "Bond"; exclusions are unchanged. */
fs_status fs_topology_constrain_h_bonds(fs_topology *top);

/* Same for all bonds (`constraints = all-bonds`). */
fs_status fs_topology_constrain_all_bonds(fs_topology *top);

/* Total charge in e. */
double fs_topology_total_charge(const fs_topology *top);

/* Total mass in amu. */
double fs_topology_total_mass(const fs_topology *top);

/* LJ parameters of the atom pair (i, j), by their types. */
static inline double fs_topology_c6(const fs_topology *t, int i, int j)
{
    return t->c6[t->atoms[i].type * t->ntypes + t->atoms[j].type];
}
static inline double fs_topology_c12(const fs_topology *t, int i, int j)
{
    return t->c12[t->atoms[i].type * t->ntypes + t->atoms[j].type];
}

#endif

/*
 * electrolyte.h — the bulk liquid electrolyte recipe: composition -> molecule counts and box -> packed coordinates
 * and a GROMACS topology.
 *
 * A composition is salts at molarities (mol per litre of solution) in a solvent mixture given by volume or molar
 * ratios, sized by a number of solvent molecules, a number of atoms or a box edge. fs_electrolyte_plan() turns it
 * into exact integer counts and a cubic box (the arithmetic is in electrolyte.c's essay), fs_electrolyte_pack()
 * places the molecules (systems/pack.h), fs_electrolyte_write() writes .gro, .top and a copy of the force-field files
 * the .top includes.
 */
#ifndef FS_ELECTROLYTE_H
#define FS_ELECTROLYTE_H

#include <stdint.h>

#include "../core/state.h"
#include "../core/status.h"
#include "pack.h"
#include "species.h"

#define FS_ELYTE_MAX 8   /* salts, and solvents, per composition */
#define FS_ELYTE_NAME 64 /* room for a salt or solvent name */

typedef enum { FS_RATIO_VOLUME = 0, FS_RATIO_MOLAR = 1 } fs_ratio_kind;
typedef enum { FS_SIZE_MOLECULES = 0, FS_SIZE_ATOMS = 1, FS_SIZE_BOX = 2 } fs_size_kind;

typedef struct {
    char name[FS_ELYTE_NAME]; /* a shipped salt (fs_salt_find) */
    double molarity;          /* mol per litre of solution, > 0 */
    double molar_volume;      /* cm^3/mol the salt adds to the solution; 0: the catalogue's value */
} fs_salt_spec;

typedef struct {
    char name[FS_ELYTE_NAME];  /* a shipped solvent (fs_solvent_find), or the label of a user molecule */
    double ratio;              /* volume or molar parts, > 0 */
    char itp[FS_SPECIES_PATH]; /* user molecule: its .itp ("" for a shipped solvent) */
    char gro[FS_SPECIES_PATH]; /* user molecule: its reference geometry */
    double density;            /* user molecule: pure-liquid density, g/cm^3 (0 = unknown: then only molar ratios
                                  and an explicit system density are possible) */
} fs_solvent_spec;

typedef struct {
    int nsalts; /* 0 = a salt-free liquid */
    fs_salt_spec salt[FS_ELYTE_MAX];
    int nsolvents; /* >= 1 */
    fs_solvent_spec solvent[FS_ELYTE_MAX];
    fs_ratio_kind ratio;
    fs_size_kind size;
    double size_value;                    /* solvent molecules, atoms in all, or the cubic box edge in nm */
    double density;                       /* g/cm^3 of the whole system; 0 = estimate by ideal mixing */
    double tolerance;                     /* nm, minimum distance between atoms of different molecules */
    double charge_scale;                  /* factor on every ion's charges in the written topology (1 = none) */
    uint64_t seed;                        /* Philox key of the packing */
    int max_attempts;                     /* packer: random trials per molecule (fs_pack_options) */
    int relax_steps;                      /* packer: most overlap-removal steps */
    char forcefield_dir[FS_SPECIES_PATH]; /* shipped files; "" = fs_forcefield_dir() */
} fs_electrolyte_spec;

/* Defaults: no salt, no solvent, volume ratios, 0 molecules, density auto, tolerance 0.2 nm, charge scale 1,
 * seed 1, 100 attempts, 100000 relaxation steps, shipped force field. */
void fs_electrolyte_spec_defaults(fs_electrolyte_spec *spec);

typedef struct {
    int nspecies;
    fs_species *species; /* in output order: Li+, the anions in salt order, the solvents in spec order */
    int *count;          /* molecules of each species */
    const char **stem;   /* shipped file stem of each species, NULL for a user molecule */
    int nmolecules, natoms;
    double box;                    /* cubic edge, nm */
    double mass;                   /* amu */
    double density;                /* g/cm^3 of the planned box */
    double charge;                 /* net charge in e, before charge scaling (0 by construction) */
    int npairs[FS_ELYTE_MAX];      /* ion pairs of each salt */
    double molarity[FS_ELYTE_MAX]; /* the molarity of each salt in the planned box */
    fs_electrolyte_spec spec;      /* a copy of what was asked */
    char title[512];
} fs_electrolyte;

/* Loads the species and computes counts and box (electrolyte.c explains the arithmetic). Errors: FS_ERR_INVALID for
 * an impossible composition (unknown salt or solvent, negative or zero amounts, a solvent or a salt that rounds to no
 * molecule, a charged solvent, ...), file errors from loading the molecules. The caller owns *out. */
fs_status fs_electrolyte_plan(const fs_electrolyte_spec *spec, fs_electrolyte **out);

/* Packs the planned molecules (systems/pack.h) on a grid of 0.001 nm, the resolution of the .gro file, so that the
 * written coordinates keep the tolerance. On success the caller owns *out (positions, box; velocities zero). */
fs_status fs_electrolyte_pack(const fs_electrolyte *e, fs_state **out, fs_pack_report *rep);

/* Writes the coordinates (.gro, 3 decimals), the topology (.top) and, in ff_dir (a directory name relative to the
 * .top's directory; NULL or "" = "<top file stem>_ff"), copies of forcefield.itp and of each shipped molecule's .itp
 * with the ions' charges multiplied by spec.charge_scale. The .top #includes those copies by relative path and each
 * user .itp by its absolute path, and lists [ molecules ]. */
fs_status fs_electrolyte_write(const fs_electrolyte *e, const fs_state *s, const char *gro_path, const char *top_path,
                               const char *ff_dir);

/* Frees; accepts NULL and a pointer to NULL. */
void fs_electrolyte_destroy(fs_electrolyte **e);

#endif

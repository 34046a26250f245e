/*
 * species.h — the molecules a builder can place: the shipped library (forcefields/data) and user molecules.
 *
 * A species is one GROMACS molecule type (an .itp with one [moleculetype]) plus a reference geometry (.gro with the
 * same atoms in the same order). The catalogue names the shipped solvents and salts with the data the electrolyte
 * recipe needs (pure-liquid densities, salt molar volumes) and where each number comes from.
 */
#ifndef FS_SPECIES_H
#define FS_SPECIES_H

#include "../core/status.h"
#include "../core/topology.h"

#define FS_SPECIES_PATH 4096

/* A shipped solvent: name as written in decks (matched case-insensitively), file stem in forcefields/data, density
 * of the pure liquid (g/cm^3) and its source. */
typedef struct {
    const char *name, *stem;
    double density;
    const char *source;
} fs_solvent_info;

/* A shipped salt: cation and anion file stems; molar volume of the salt in solution (cm^3/mol) and how it was
 * obtained (see species.c). */
typedef struct {
    const char *name, *cation, *anion;
    double molar_volume;
    const char *source;
} fs_salt_info;

/* Look-ups by name, case-insensitive; NULL when unknown. */
const fs_solvent_info *fs_solvent_find(const char *name);
const fs_salt_info *fs_salt_find(const char *name);

/* The lists, for messages ("known solvents: EC, DMC, ..."): writes a comma-separated list into buf. */
void fs_solvent_names(char *buf, int len);
void fs_salt_names(char *buf, int len);

/* The directory of the shipped force-field files: $FERROSOLV_DATA if set, else the compile-time FS_DATA_DIR if
 * defined, else forcefields/data of the source tree this file was compiled from. The pointer is to static or
 * environment storage. */
const char *fs_forcefield_dir(void);

/* One loaded species. */
typedef struct {
    char name[FS_NAME_LEN];    /* the [moleculetype] name (what [molecules] lists) */
    char itp[FS_SPECIES_PATH]; /* .itp as given */
    char gro[FS_SPECIES_PATH]; /* .gro as given */
    int natoms;
    fs_atom *atoms; /* natoms atoms of one copy (names, residue name, charge, mass), owned */
    double *x;      /* 3 * natoms reference coordinates, nm, centroid at the origin, owned */
    double mass;    /* g/mol */
    double charge;  /* e */
    int shipped;    /* 1: from forcefields/data (copied with the output), 0: the user's file */
} fs_species;

/* Loads the molecule type of `itp_path` (its first [moleculetype]) on top of the [defaults] and [atomtypes] of
 * `forcefield_itp`, and its geometry from `gro_path`, which must list the same atoms (count and names) in the same
 * order. Fills *sp (free with fs_species_free). Errors name the file (and line) at fault. */
fs_status fs_species_load(const char *forcefield_itp, const char *itp_path, const char *gro_path, fs_species *sp);

/* Frees what *sp owns and zeroes it; accepts an empty one. */
void fs_species_free(fs_species *sp);

#endif

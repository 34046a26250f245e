/*
 * build_deck.h — the deck of `ferrosolv build`: an INI file describing an electrolyte to build.
 *
 *   [system]
 *   salt         = LiPF6          ; LiPF6, LiTFSI, LiFSI, LiNO3, several as LiTFSI:LiNO3, or none
 *   molarity     = 1.0            ; mol per litre of solution, one per salt (1.0:0.2)
 *   salt-volume  = 53.45          ; optional: cm^3/mol each salt adds (default: systems/species.c)
 *   solvents     = EC:DMC         ; EC, DMC, DME, FEC, or a molecule defined in a [molecule NAME] section
 *   ratio        = 1:1            ; parts of each solvent (default 1 each... required with several solvents)
 *   ratio-type   = volume         ; volume (pure liquids before mixing) or molar
 *   molecules    = 300            ; size: solvent molecules, or
 *   atoms        = 3000           ;       atoms in all (the closest count), or
 *   box          = 4.0            ;       cubic box edge in nm (exactly one of the three)
 *   density      = auto           ; g/cm^3 of the system, or auto (ideal mixing; see electrolyte.c)
 *   tolerance    = 0.2            ; nm, minimum distance between atoms of different molecules
 *   charge-scale = 1.0            ; factor on the ions' charges in the written topology
 *   seed         = 1              ; packing random numbers (0 .. 2^64-1)
 *   max-attempts = 100            ; random trials per molecule before it is fitted by overlap removal
 *   relax-steps  = 100000         ; most overlap-removal steps (0: a molecule without a free place is an error)
 *   forcefield-dir = ...          ; the shipped force-field files (default: forcefields/data, or $FERROSOLV_DATA)
 *
 *   [molecule VC]                 ; any other solvent: a GROMACS .itp + a .gro of one molecule (same atom order)
 *   itp = vc.itp
 *   gro = vc.gro
 *   density = 1.355               ; g/cm^3 of the pure liquid (needed for volume ratios and density = auto)
 *
 *   [output]
 *   gro = system.gro              ; coordinates (default system.gro)
 *   top = system.top              ; topology (default system.top)
 *   itp-dir = system_ff           ; where the .itp copies go, relative to the .top (default "<top stem>_ff")
 *
 * As in the run deck (core/deck.h): keys are matched ignoring case with '-' equal to '_'; paths are relative to the
 * deck file's directory and stored resolved; an unknown section or key, a key given twice, a bad value and
 * conflicting keys are errors naming "deck.ini:line", the key and what is accepted.
 */
#ifndef FS_BUILD_DECK_H
#define FS_BUILD_DECK_H

#include "../core/status.h"
#include "electrolyte.h"

typedef struct {
    fs_electrolyte_spec spec;
    char gro[FS_SPECIES_PATH];     /* resolved */
    char top[FS_SPECIES_PATH];     /* resolved */
    char itp_dir[FS_SPECIES_PATH]; /* relative to the .top's directory; "" = default */
} fs_build_deck;

/* Reads and checks the deck at `path` into *d. Errors: FS_ERR_IO (unreadable), FS_ERR_PARSE (syntax, unknown section
 * or key, duplicate key), FS_ERR_INVALID (bad value or combination); every message names "path:line" where a line
 * is at fault. */
fs_status fs_build_deck_read(const char *path, fs_build_deck *d);

#endif

/*
 * gro.h — GROMACS .gro coordinate files: read and write.
 *
 * Fixed-column format (GROMACS manual, "File formats"): title line, atom count, one line per atom
 * (%5d%-5s%5s%5d then x y z in %8.3f, optional velocities in %8.4f; the reader derives the field width of the
 * coordinates from the decimal points, as GROMACS does, so files written with more precision read back), then the box
 * line. Only rectangular boxes are accepted (a triclinic box with non-zero off-diagonal terms is an error).
 */
#ifndef FS_GRO_H
#define FS_GRO_H

#include "../state.h"
#include "../status.h"
#include "../topology.h"

typedef struct {
    char title[256];
    int natoms;
    char (*atomname)[8]; /* per atom, NUL-terminated, blanks trimmed */
    char (*resname)[8];
    int *resnr;
    int has_velocities;
    fs_state *state; /* positions, velocities (zero if absent), box; owned */
} fs_gro;

/* Reads `path`. On failure *out is NULL and the message names file:line. Status FS_ERR_IO or FS_ERR_PARSE. */
fs_status fs_gro_read(const char *path, fs_gro **out);

/* Frees; accepts NULL and a pointer to NULL. */
void fs_gro_destroy(fs_gro **g);

/* Writes the state as .gro with names from the topology (top may be NULL: names "X", residues "MOL"), positions
 * with `precision` decimals (3 is GROMACS's default), velocities if `with_velocities`. Written to a temporary file
 * renamed over `path`, so a failure leaves any previous file intact. */
fs_status fs_gro_write(const char *path, const char *title, const fs_topology *top, const fs_state *s,
                       int with_velocities, int precision);

#endif

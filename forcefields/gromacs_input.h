/*
 * gromacs_input.h — load a system from GROMACS inputs: .top + .gro under the settings of an .mdp.
 *
 * The one place that ties the readers together the way grompp does: the .mdp's `define` reaches the topology's
 * preprocessor, `constraints` turns bonds into constraints, and the coordinate file must have as many atoms as the
 * topology.
 */
#ifndef FS_GROMACS_INPUT_H
#define FS_GROMACS_INPUT_H

#include "../core/state.h"
#include "../core/topology.h"
#include "mdp.h"

/* Reads top_path and gro_path. include_dirs (n_include_dirs of them) are searched for #include after the including
 * file's directory. On success the caller owns *top and *state; on failure both are NULL and the message names the
 * file (and line) at fault. */
fs_status fs_gromacs_load(const char *top_path, const char *gro_path, const fs_mdp *mdp,
                          const char *const *include_dirs, int n_include_dirs, fs_topology **top, fs_state **state);

#endif

/*
 * gromacs_input.c — .top + .gro + .mdp → topology and state, as grompp would combine them.
 *
 * Order matters and mirrors grompp: preprocessor symbols from the .mdp `define` are set before the topology is read;
 * bond-to-constraint conversion happens after reading (so "Bond" loses the converted bonds, as in GROMACS); the
 * coordinates are checked against the topology's atom count last.
 */
#include "gromacs_input.h"

#include <stdlib.h>
#include <string.h>

#include "../core/io/gro.h"
#include "top_reader.h"

fs_status fs_gromacs_load(const char *top_path, const char *gro_path, const fs_mdp *mdp,
                          const char *const *include_dirs, int n_include_dirs, fs_topology **top, fs_state **state)
{
    *top = NULL;
    *state = NULL;
    char storage[sizeof mdp->define];
    const char *defines[64];
    fs_top_options opt = {include_dirs, n_include_dirs, defines, fs_mdp_defines(mdp, storage, defines, 64)};
    fs_status st = fs_top_read(top_path, &opt, top);
    if (st != FS_OK) return st;
    if (mdp->constraints == FS_CONSTRAIN_H_BONDS) st = fs_topology_constrain_h_bonds(*top);
    if (mdp->constraints == FS_CONSTRAIN_ALL_BONDS) st = fs_topology_constrain_all_bonds(*top);
    fs_gro *gro = NULL;
    if (st == FS_OK) st = fs_gro_read(gro_path, &gro);
    if (st == FS_OK && gro->natoms != (*top)->natoms)
        st = fs_fail(FS_ERR_INVALID, "%s has %d atoms but %s describes %d", gro_path, gro->natoms, top_path,
                     (*top)->natoms);
    if (st != FS_OK) {
        fs_gro_destroy(&gro);
        fs_topology_destroy(top);
        return st;
    }
    *state = gro->state;
    gro->state = NULL;
    fs_gro_destroy(&gro);
    return FS_OK;
}

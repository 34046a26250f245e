/*
 * top_reader.h — GROMACS topology (.top/.itp) reader.
 *
 * Reads what electrolyte force fields use: [defaults] (nbfunc 1; comb-rule 1, 2, 3; gen-pairs; fudgeLJ; fudgeQQ),
 * [atomtypes], [nonbond_params], [bondtypes], [angletypes], [dihedraltypes], [pairtypes], [moleculetype] with
 * nrexcl, [atoms], [bonds] 1, [angles] 1 and 5, [dihedrals] 1, 2, 3, 4, 9, [pairs] 1, [exclusions],
 * [constraints], [settles], [system], [molecules]; the preprocessor directives #include, #define, #undef, #ifdef,
 * #ifndef, #else, #endif, and macro substitution of #define'd parameter names as grompp does.
 * The result is a fully resolved fs_topology (see core/topology.h), with exclusions finalized.
 */
#ifndef FS_TOP_READER_H
#define FS_TOP_READER_H

#include "../core/status.h"
#include "../core/topology.h"

typedef struct {
    /* Directories searched for #include after the including file's own directory, in order; then the directories
     * of the GMXLIB environment variable (colon-separated). May be NULL when n_include_dirs is 0. */
    const char *const *include_dirs;
    int n_include_dirs;
    /* Symbols defined before reading, as with .mdp "define = -DFLEXIBLE -DX=1": each "NAME" or "NAME=VALUE". */
    const char *const *defines;
    int n_defines;
} fs_top_options;

/* Reads the topology at `path`. On success *out owns a new topology (free with fs_topology_destroy). On failure
 * *out is NULL, nothing leaks, and the message names file:line and what was expected; the status is FS_ERR_IO for
 * a missing/unreadable file, FS_ERR_PARSE for malformed input (including include loops and truncated files),
 * FS_ERR_NOMEM. `opt` may be NULL. */
fs_status fs_top_read(const char *path, const fs_top_options *opt, fs_topology **out);

#endif

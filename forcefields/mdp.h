/*
 * mdp.h — GROMACS .mdp run parameters: the subset that decides energies, mapped onto fs_forceparams.
 *
 * Keys are matched as grompp matches them (case-insensitive, '-' and '_' equivalent). Keys that change energies
 * and are not supported (coulombtype = Reaction-Field, vdwtype = switch, ...) are errors; keys that do not change
 * energies (integrator, nsteps, tcoupl, output frequencies, ...) are accepted and reported as notes.
 */
#ifndef FS_MDP_H
#define FS_MDP_H

#include <stddef.h>

#include "../core/forceparams.h"
#include "../core/status.h"

typedef enum { FS_CONSTRAIN_NONE, FS_CONSTRAIN_H_BONDS, FS_CONSTRAIN_ALL_BONDS } fs_constraints_mode;

typedef struct {
    fs_forceparams force;
    fs_constraints_mode constraints; /* constraints = none | h-bonds | all-bonds */
    char define[1024];               /* define = -DX -DY=1, as given */
} fs_mdp;

/* GROMACS's defaults. */
void fs_mdp_init(fs_mdp *m);

/* Sets one key. `where` names the origin for messages ("run.mdp:12", "--rcoulomb"). Returns FS_OK when the key was
 * applied, FS_ERR_INVALID / FS_ERR_UNSUPPORTED (message names `where`, key and value) on a bad or unsupported value.
 * When the key is known but does not affect energies, or unknown, it is ignored and, if `note` is non-NULL,
 * *note is set to 1. */
fs_status fs_mdp_set(fs_mdp *m, const char *key, const char *value, const char *where, int *note);

/* Reads a .mdp file, applying each "key = value" line over the current contents of *m. Lines ignored with a
 * note are appended, one per line ("run.mdp:3: ignoring 'tcoupl' (does not change energies)"), to `notes` when it is
 * non-NULL (truncated to notes_cap). */
fs_status fs_mdp_read(const char *path, fs_mdp *m, char *notes, size_t notes_cap);

/* Splits m->define into symbols for fs_top_options.defines: writes up to `max` pointers into `storage` (which must
 * hold strlen(m->define)+1 bytes) and returns how many. "-DPOSRES -DX=1" gives "POSRES", "X=1". */
int fs_mdp_defines(const fs_mdp *m, char *storage, const char **symbols, int max);

#endif

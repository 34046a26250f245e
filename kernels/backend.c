/*
 * backend.c — the registry of compute backends and the names of energy terms.
 *
 * The registry is a static, NULL-terminated table ordered fastest first; `auto` selection walks it and takes the
 * first backend whose probe() succeeds. The term names are GROMACS's, so that output can be compared with
 * `gmx energy` line by line.
 */
#include "backend.h"

#include <string.h>

static const char *const term_names[FS_TERM_COUNT] = {
    [FS_TERM_LJ_SR] = "LJ (SR)",
    [FS_TERM_DISPCORR] = "Disper. corr.",
    [FS_TERM_COUL_SR] = "Coulomb (SR)",
    [FS_TERM_COUL_RECIP] = "Coul. recip.",
    [FS_TERM_BOND] = "Bond",
    [FS_TERM_ANGLE] = "Angle",
    [FS_TERM_UB] = "U-B",
    [FS_TERM_PROPER_DIH] = "Proper Dih.",
    [FS_TERM_RB] = "Ryckaert-Bell.",
    [FS_TERM_IMPROPER_DIH] = "Improper Dih.",
    [FS_TERM_PER_IMP_DIH] = "Per. Imp. Dih.",
    [FS_TERM_LJ14] = "LJ-14",
    [FS_TERM_COUL14] = "Coulomb-14",
};

const char *fs_term_name(fs_term t)
{
    return (t >= 0 && t < FS_TERM_COUNT) ? term_names[t] : "?";
}

double fs_energies_potential(const fs_energies *e)
{
    double sum = 0.0;
    for (int t = 0; t < FS_TERM_COUNT; ++t) sum += e->term[t];
    return sum;
}

static const fs_backend_ops *const registry[] = {&fs_cpu_backend, NULL};

const fs_backend_ops *const *fs_backend_all(void)
{
    return registry;
}

const fs_backend_ops *fs_backend_find(const char *name)
{
    for (int i = 0; registry[i]; ++i)
        if (!strcmp(registry[i]->name, name)) return registry[i];
    return NULL;
}

/*
 * backend.c — the registry of compute backends and the names of energy terms.
 *
 * The registry is a static, NULL-terminated table ordered fastest first (cuda, opencl, cpu); `auto` selection
 * walks it and takes the first backend that can run here, except that an OpenCL platform whose only devices are
 * CPUs (PoCL) is not taken by `auto`: it exists to run the shared device kernels where there is no GPU, and the
 * choice between it and the CPU reference is the user's (benchmarks/RESULTS.md has both on the same input). The term names are GROMACS's, so that output can be compared with
 * `gmx energy` line by line.
 */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

#include "gpu/gpu_api.h"

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

static const fs_backend_ops *const registry[] = {
#ifdef FS_HAVE_CUDA
    &fs_cuda_backend,
#endif
    &fs_opencl_backend, &fs_cpu_backend, NULL};

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

/* Is the OpenCL backend's best device a GPU (or another accelerator)? */
static int opencl_has_accelerator(void)
{
    gpu_device_info info[16];
    int count = 0;
    if (fs_gpu_api_opencl.list(info, 16, &count) != FS_OK) return 0;
    for (int i = 0; i < count; ++i)
        if (!info[i].is_cpu) return 1;
    return 0;
}

fs_status fs_backend_select(const char *name, const fs_backend_ops **out)
{
    *out = NULL;
    const char *from = "--backend";
    if (!name || !*name) {
        name = getenv("FERROSOLV_BACKEND");
        from = "FERROSOLV_BACKEND";
    }
    if (!name || !*name) name = "auto";
    if (strcmp(name, "auto") != 0) {
        const fs_backend_ops *ops = fs_backend_find(name);
        if (!ops) {
#ifndef FS_HAVE_CUDA
            if (!strcmp(name, "cuda"))
                return fs_fail(FS_ERR_UNAVAILABLE, "backend 'cuda' is not in this build (no CUDA toolkit when it was "
                                                   "built)");
#endif
            return fs_fail(FS_ERR_INVALID, "unknown backend '%s' (%s): use cpu, opencl, cuda or auto", name, from);
        }
        fs_status st = ops->probe();
        if (st != FS_OK) return fs_fail_context(st, "backend '%s' cannot run here", name);
        *out = ops;
        return FS_OK;
    }
    for (int i = 0; registry[i]; ++i) {
        if (registry[i]->probe() != FS_OK) continue;
        if (registry[i] == &fs_opencl_backend && !opencl_has_accelerator()) continue;
        *out = registry[i];
        return FS_OK;
    }
    return fs_fail(FS_ERR_UNAVAILABLE, "no backend can run here");
}

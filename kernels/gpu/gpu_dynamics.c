/* gpu_dynamics.c — placeholder: device integration is being written. */
#include "gpu_backend_impl.h"

fs_status gpu_dynamics_set(gpu_backend *g, const fs_dynamics *d)
{
    (void)g, (void)d;
    return fs_fail(FS_ERR_UNSUPPORTED, "device dynamics are not written yet");
}
fs_status gpu_dynamics_step(gpu_backend *g, long nsteps)
{
    (void)g, (void)nsteps;
    return fs_fail(FS_ERR_UNSUPPORTED, "device dynamics are not written yet");
}
fs_status gpu_dynamics_kinetic(gpu_backend *g, double ekin[3][3], double *thermostat_work)
{
    (void)g;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) ekin[a][b] = 0.0;
    *thermostat_work = 0.0;
    return FS_OK;
}
int gpu_dynamics_ndf(gpu_backend *g)
{
    (void)g;
    return 0;
}
fs_status gpu_dynamics_scale_trial(gpu_backend *g, const double s[3])
{
    (void)g, (void)s;
    return fs_fail(FS_ERR_UNSUPPORTED, "device dynamics are not written yet");
}
fs_status gpu_dynamics_scale_revert(gpu_backend *g)
{
    (void)g;
    return fs_fail(FS_ERR_UNSUPPORTED, "device dynamics are not written yet");
}
void gpu_dynamics_destroy(gpu_backend *g)
{
    (void)g;
}

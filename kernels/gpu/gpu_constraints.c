/* gpu_constraints.c — placeholder: device SETTLE/SHAKE are being written. */
#include <stdlib.h>

#include "gpu_backend_impl.h"

struct gpu_constraints {
    gpu_backend *g;
};

fs_status gpu_constraints_create(gpu_backend *g, double tol, gpu_constraints **out)
{
    (void)tol;
    *out = calloc(1, sizeof **out);
    if (!*out) return fs_fail(FS_ERR_NOMEM, "out of memory");
    (*out)->g = g;
    return FS_OK;
}
void gpu_constraints_destroy(gpu_constraints **c)
{
    if (!c || !*c) return;
    free(*c);
    *c = NULL;
}
int gpu_constraints_count(const gpu_constraints *c)
{
    (void)c;
    return 0;
}
fs_status gpu_constrain_positions(gpu_constraints *c, gpu_buf *pos_ref, double dt, double virial_weight)
{
    (void)c, (void)pos_ref, (void)dt, (void)virial_weight;
    return fs_fail(FS_ERR_UNSUPPORTED, "device constraints are not written yet");
}
fs_status gpu_constrain_velocities(gpu_constraints *c, double dt)
{
    (void)c, (void)dt;
    return fs_fail(FS_ERR_UNSUPPORTED, "device constraints are not written yet");
}

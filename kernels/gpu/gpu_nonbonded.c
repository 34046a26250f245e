/* gpu_nonbonded.c — placeholder: the device pair list and nonbonded kernels are being written. */
#include <stdlib.h>

#include "gpu_backend_impl.h"

struct gpu_nonbonded {
    gpu_backend *g;
};

fs_status gpu_nonbonded_create(gpu_backend *g, gpu_nonbonded **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return fs_fail(FS_ERR_NOMEM, "out of memory");
    (*out)->g = g;
    return FS_OK;
}
void gpu_nonbonded_destroy(gpu_nonbonded **nb)
{
    if (!nb || !*nb) return;
    free(*nb);
    *nb = NULL;
}
fs_status gpu_nonbonded_invalidate(gpu_nonbonded *nb)
{
    (void)nb;
    return FS_OK;
}
fs_status gpu_nonbonded_compute(gpu_nonbonded *nb, unsigned flags)
{
    (void)nb;
    (void)flags;
    return fs_fail(FS_ERR_UNSUPPORTED, "device nonbonded kernels are not written yet");
}
long gpu_nonbonded_pair_count(gpu_nonbonded *nb)
{
    (void)nb;
    return 0;
}

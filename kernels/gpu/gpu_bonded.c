/* gpu_bonded.c — placeholder: the device bonded kernels are being written. */
#include <stdlib.h>

#include "gpu_backend_impl.h"

struct gpu_bonded {
    gpu_backend *g;
};

fs_status gpu_bonded_create(gpu_backend *g, gpu_bonded **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return fs_fail(FS_ERR_NOMEM, "out of memory");
    (*out)->g = g;
    return FS_OK;
}
void gpu_bonded_destroy(gpu_bonded **b)
{
    if (!b || !*b) return;
    free(*b);
    *b = NULL;
}
fs_status gpu_bonded_compute(gpu_bonded *b, unsigned flags)
{
    (void)b;
    (void)flags;
    return fs_fail(FS_ERR_UNSUPPORTED, "device bonded kernels are not written yet");
}

/* gpu_pme.c — placeholder: the device PME is being written. */
#include <stdlib.h>

#include "gpu_backend_impl.h"

struct gpu_pme {
    gpu_backend *g;
};

fs_status gpu_pme_create(gpu_backend *g, gpu_pme **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return fs_fail(FS_ERR_NOMEM, "out of memory");
    (*out)->g = g;
    return FS_OK;
}
void gpu_pme_destroy(gpu_pme **pme)
{
    if (!pme || !*pme) return;
    free(*pme);
    *pme = NULL;
}
fs_status gpu_pme_compute(gpu_pme *pme, unsigned flags)
{
    (void)pme;
    (void)flags;
    return fs_fail(FS_ERR_UNSUPPORTED, "device PME is not written yet");
}

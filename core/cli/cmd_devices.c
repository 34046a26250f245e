/*
 * cmd_devices.c — `ferrosolv devices`: which backends this build has, which can run here, and why not.
 *
 * For each backend of the registry: the CPU reference (always), OpenCL (every platform's devices that have the
 * 64-bit atomics and double precision the kernels need) and CUDA (when this build has it: the driver is loaded at
 * run time, so a machine without an NVIDIA driver says so here instead of failing to start). The last lines say
 * what `--backend auto` would choose (FERROSOLV_BACKEND overrides it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../kernels/backend.h"
#include "../../kernels/gpu/gpu_api.h"
#include "cli.h"

static void list_api(const gpu_api *api)
{
    fs_status st = api->available();
    if (st != FS_OK) {
        printf("%-8s unavailable: %s\n", api->name, fs_error_message());
        return;
    }
    gpu_device_info info[32];
    int count = 0;
    st = api->list(info, 32, &count);
    if (st != FS_OK) {
        printf("%-8s unavailable: %s\n", api->name, fs_error_message());
        return;
    }
    printf("%-8s %d device%s\n", api->name, count, count == 1 ? "" : "s");
    for (int i = 0; i < count; ++i)
        printf("  [%d] %s — %s; %s, %d compute units, %.1f GiB, double precision %s\n", i, info[i].name,
               info[i].platform, info[i].is_cpu ? "CPU device" : "GPU", info[i].compute_units,
               (double)info[i].global_mem / (1024.0 * 1024.0 * 1024.0), info[i].has_double ? "yes" : "no");
}

int fs_cmd_devices(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        printf("usage: ferrosolv devices\n\nLists the compute backends and devices this build can use here, and why "
               "any cannot.\nFERROSOLV_DEVICE=N picks device N of a backend; FERROSOLV_PRECISION=mixed|double the "
               "device precision.\n");
        return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0;
    }
    printf("%-8s available: double-precision reference\n", "cpu");
    list_api(&fs_gpu_api_opencl);
#ifdef FS_HAVE_CUDA
    list_api(&fs_gpu_api_cuda);
#else
    printf("%-8s not in this build (no CUDA toolkit when it was built)\n", "cuda");
#endif
    const fs_backend_ops *ops = NULL;
    const char *env = getenv("FERROSOLV_BACKEND");
    fs_status st = fs_backend_select(NULL, &ops);
    if (st == FS_OK)
        printf("\nselected: %s (%s)\n", ops->name, env && *env ? "FERROSOLV_BACKEND" : "auto");
    else
        printf("\nselected: none: %s\n", fs_error_message());
    return st == FS_OK ? 0 : 1;
}

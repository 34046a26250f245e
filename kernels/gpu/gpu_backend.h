/*
 * gpu_backend.h — what the command line may ask of a device backend beyond fs_backend_ops: the device it runs
 * on, its pair-list size and per-kernel timers (for `ferrosolv bench`). Every function accepts any fs_backend and
 * answers "not a device backend" (0, NULL) for the CPU reference.
 */
#ifndef FS_GPU_BACKEND_H
#define FS_GPU_BACKEND_H

#include "../backend.h"

typedef struct {
    char name[64];  /* kernel name, or "fft" */
    double seconds; /* device time since the last reset */
    long launches;
} fs_gpu_timer;

/* 1 if b is an OpenCL or CUDA backend instance. */
int fs_gpu_backend_is(const fs_backend *b);

/* Device and precision ("NVIDIA H100 ... (mixed precision)"); NULL for other backends. */
const char *fs_gpu_backend_device(const fs_backend *b);

/* Per-kernel device times, summed by kernel name, largest first; returns how many were written (at most max).
 * Needs FERROSOLV_PROFILE=1 in the environment when the backend was created (0 otherwise). */
int fs_gpu_backend_timers(fs_backend *b, fs_gpu_timer *out, int max);
void fs_gpu_backend_reset_timers(fs_backend *b);

/* Interactions the current pair list holds (cluster pairs x cluster size^2); 0 for other backends. Waits. */
long fs_gpu_backend_pairs(fs_backend *b);

#endif

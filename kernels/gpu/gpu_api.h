/*
 * gpu_api.h — the thin device API that the one GPU backend (kernels/gpu) is written against.
 *
 * ferrosolv has two device APIs, OpenCL (kernels/opencl) and CUDA (kernels/cuda), and one device backend: the
 * order of kernel launches, the buffers and the bookkeeping of a step are the same for both, so they are written
 * once in kernels/gpu on top of this table (as OpenMM's common platform is written on its ComputeContext). An API
 * module implements the table and nothing else: contexts, buffers, run-time compilation of the kernel sources of
 * kernels/common with its own prelude, launches, a 3D FFT and kernel timers. Every OpenCL call lives in
 * kernels/opencl, every CUDA call in kernels/cuda.
 *
 * Semantics (both APIs):
 *   - One in-order queue per device: launches, copies and FFTs run in the order they are issued. read() and
 *     finish() wait; launches and device-to-device copies do not.
 *   - Kernel arguments are set by index and persist across launches until set again (OpenCL's rule).
 *   - launch() is one-dimensional: `global` work-items in groups of `local` (global is rounded up to a multiple of
 *     local by the caller; local = 0 lets the API choose).
 *   - Every failure returns a status with a message naming the call and the API's error (CL_OUT_OF_RESOURCES,
 *     CUDA_ERROR_OUT_OF_MEMORY, ...); a failed build returns FS_ERR_INVALID and the message carries the whole build
 *     log. Nothing is left half-created: on failure *out is NULL.
 *   - destroy/close functions accept NULL and pointers to NULL and null the pointer.
 */
#ifndef FS_GPU_API_H
#define FS_GPU_API_H

#include <stddef.h>

#include "../../core/status.h"

typedef struct gpu_device gpu_device;   /* a context, one device and one in-order queue */
typedef struct gpu_buf gpu_buf;         /* device memory */
typedef struct gpu_program gpu_program; /* compiled kernel sources */
typedef struct gpu_kernel gpu_kernel;   /* one kernel of a program, with its arguments */
typedef struct gpu_fft gpu_fft;         /* a 3D FFT plan bound to one buffer */

typedef struct {
    char name[256];        /* "NVIDIA H100 80GB HBM3", "pthread-skylake-avx512-AMD EPYC ..." */
    char platform[128];    /* "CUDA 12.4", "Portable Computing Language" */
    int is_cpu;            /* a CPU device (PoCL): the `auto` choice prefers anything else */
    int has_double;        /* double precision arithmetic (cl_khr_fp64; always on CUDA) */
    int compute_units;     /* multiprocessors / cores */
    size_t max_local_size; /* largest work-group */
    size_t global_mem;     /* bytes */
} gpu_device_info;

typedef struct {
    const char *name; /* "opencl", "cuda" */

    /* Can a device be opened at all? FS_ERR_UNAVAILABLE with the reason otherwise ("no OpenCL platform",
     * "libcuda.so.1 not found: no NVIDIA driver"). Cheap; called by probe() and `ferrosolv devices`. */
    fs_status (*available)(void);

    /* The devices this API sees, for `ferrosolv devices`: fills up to max entries, sets *count. */
    fs_status (*list)(gpu_device_info *out, int max, int *count);

    /* Opens device `index` (in list() order; -1: the API's best: a GPU before a CPU device, then most compute
     * units). `profiling` turns on per-kernel timers (launches may then be slower). */
    fs_status (*open)(int index, int profiling, gpu_device **out);
    void (*close)(gpu_device **dev);
    const gpu_device_info *(*info)(const gpu_device *dev);

    /* Memory. write() and read() are blocking; copy() is queued; fill_zero() sets `bytes` bytes to 0 (queued). */
    fs_status (*alloc)(gpu_device *dev, size_t bytes, gpu_buf **out);
    void (*release)(gpu_buf **buf);
    fs_status (*write)(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, const void *src);
    fs_status (*read)(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, void *dst);
    fs_status (*copy)(gpu_device *dev, gpu_buf *dst, gpu_buf *src, size_t bytes);
    fs_status (*fill_zero)(gpu_device *dev, gpu_buf *buf, size_t bytes);

    /* Compiles `defines`, then the API's own prelude, then `source` (the kernels/common sources, concatenated), in
     * that order: `defines` (lines of "#define NAME value\n", the sizes and constants of this system) must include
     * USE_DOUBLE 0 or 1, and the prelude, which defines the dialect of kernels/common/README.md, chooses `real` by
     * it. */
    fs_status (*build)(gpu_device *dev, const char *defines, const char *source, gpu_program **out);
    void (*program_release)(gpu_program **prog);
    fs_status (*kernel)(gpu_program *prog, const char *name, gpu_kernel **out);
    void (*kernel_release)(gpu_kernel **k);

    /* Arguments: a buffer, or a value of `bytes` bytes (int, long, float, double, or a 4-vector of them). */
    fs_status (*arg_buf)(gpu_kernel *k, int index, gpu_buf *buf);
    fs_status (*arg)(gpu_kernel *k, int index, size_t bytes, const void *value);
    fs_status (*launch)(gpu_device *dev, gpu_kernel *k, size_t global, size_t local);
    fs_status (*finish)(gpu_device *dev);

    /* In-place complex-to-complex 3D FFT of the n[0] x n[1] x n[2] grid of interleaved (re, im) pairs in `data`
     * (float or double as `use_double`), index (x n[1] + y) n[2] + z, z fastest. exec(-1) is the forward transform
     * sum_x f(x) exp(-2 pi i k.x / n), exec(+1) the backward one with exp(+...); neither is normalized. */
    fs_status (*fft_create)(gpu_device *dev, const int n[3], int use_double, gpu_buf *data, gpu_fft **out);
    fs_status (*fft_exec)(gpu_fft *fft, int direction);
    void (*fft_release)(gpu_fft **fft);

    /* With profiling on: seconds spent in this kernel's launches since the last reset, and their count; the FFT's
     * time goes under the pseudo-kernel name "fft" (fft_time). */
    double (*kernel_time)(const gpu_kernel *k, long *launches);
    double (*fft_time)(const gpu_fft *fft, long *launches);
    void (*reset_timers)(gpu_device *dev);
} gpu_api;

/* The APIs compiled into this build (NULL where absent). */
extern const gpu_api fs_gpu_api_opencl;
#ifdef FS_HAVE_CUDA
extern const gpu_api fs_gpu_api_cuda;
#endif

/* The kernel sources of kernels/common, concatenated in dependency order (generated by CMake from
 * the .kernel files of kernels/common; cmake/embed_kernels.cmake). */
extern const char fs_gpu_kernel_source[];

/* Names of every KERNEL in fs_gpu_kernel_source, NULL-terminated (for the NVRTC compile test and for bench). */
extern const char *const fs_gpu_kernel_names[];

#endif

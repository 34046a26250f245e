/*
 * cuda_api.h — run-time compilation of the device kernels with NVRTC (kernels/cuda/cuda_nvrtc.c).
 *
 * The CUDA API table itself is fs_gpu_api_cuda (kernels/gpu/gpu_api.h). What is declared here needs NVRTC only, no
 * driver and no GPU: the compile test (tests/test_cuda_nvrtc.c) uses it to compile every kernel for chosen
 * architectures on a machine without a device, and fs_gpu_api_cuda.build() uses it for the device it opened.
 *
 * NVRTC is loaded with dlopen on first use: libnvrtc.so, libnvrtc.so.13, .12, .11.2, then the same names in the
 * toolkit folder the build found (FS_CUDA_LIBDIR). Available only in builds with FS_HAVE_CUDA.
 */
#ifndef FS_CUDA_API_H
#define FS_CUDA_API_H

#include <stddef.h>

#include "../../core/status.h"

/* The CUDA prelude (kernels/cuda/prelude.kernel), embedded by cmake/embed_kernels.cmake. */
extern const char fs_gpu_prelude_cuda[];

/* Compiles `defines`, the CUDA prelude, then `source` (in that order; see kernels/common/README.md) with NVRTC for
 * `arch`: "sm_90" compiles through to machine code for sm_90 (so the assembler's checks run too) and returns its
 * PTX; "compute_90" stops at PTX. Options: -std=c++14, no fast math.
 *   - On success: FS_OK, *ptx is the NUL-terminated PTX (free() it), *log is NVRTC's log (warnings; may be "").
 *   - NVRTC missing: FS_ERR_UNAVAILABLE naming the libraries tried; *ptx and *log NULL.
 *   - Compile error: FS_ERR_INVALID with the whole log in the message; *ptx NULL, *log the log (free() it).
 * `log` may be NULL when the caller does not want it. */
fs_status fs_cuda_compile(const char *arch, const char *defines, const char *source, char **ptx, char **log);

/* As fs_cuda_compile, and also the CUBIN (machine code) when `arch` is "sm_XY": *cubin (malloc'ed) and *cubin_size;
 * NULL/0 for "compute_XY". Either of ptx and cubin may be NULL when not wanted. */
fs_status fs_cuda_compile_ex(const char *arch, const char *defines, const char *source, char **ptx, void **cubin,
                             size_t *cubin_size, char **log);

/* NVRTC's version and the virtual architectures it can compile for (75, 80, ... ascending; at most `max`).
 * FS_ERR_UNAVAILABLE when NVRTC cannot be loaded. */
fs_status fs_cuda_nvrtc_info(int *major, int *minor, int *archs, int max, int *n_archs);

#endif

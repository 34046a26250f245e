/*
 * cuda_impl.h — what the files of the CUDA API module share (kernels/cuda/cuda_api.c, cuda_fft.c): the table of
 * driver entry points loaded with dlopen, its checking macro, the objects behind gpu_api.h's opaque types, and the
 * kernel/FFT timers. Internal to kernels/cuda.
 */
#ifndef FS_CUDA_IMPL_H
#define FS_CUDA_IMPL_H

#include <cuda.h>
#include <cufft.h>

#include "../gpu/gpu_api.h"
#include "cuda_api.h"

#ifndef FS_CUDA_LIBDIR
#define FS_CUDA_LIBDIR "/usr/local/cuda/lib64"
#endif

#define CUDA_MAX_ARGS 64
#define CUDA_ARG_BYTES 32 /* the largest argument value: a double4 */

/* ---- the driver, as loaded by cuda_api.c: each pointer typed by cuda.h's own prototype ---------------------- */

#define CU_FN(name) __typeof__(name) *name

typedef struct {
    void *lib;
    fs_status status;
    char error[512];
    CU_FN(cuInit);
    CU_FN(cuDriverGetVersion);
    CU_FN(cuGetErrorName);
    CU_FN(cuGetErrorString);
    CU_FN(cuDeviceGetCount);
    CU_FN(cuDeviceGet);
    CU_FN(cuDeviceGetName);
    CU_FN(cuDeviceGetAttribute);
    CU_FN(cuDeviceTotalMem_v2);
    CU_FN(cuDevicePrimaryCtxRetain);
    CU_FN(cuDevicePrimaryCtxRelease_v2);
    CU_FN(cuCtxSetCurrent);
    CU_FN(cuMemAlloc_v2);
    CU_FN(cuMemFree_v2);
    CU_FN(cuMemcpyHtoDAsync_v2);
    CU_FN(cuMemcpyDtoHAsync_v2);
    CU_FN(cuMemcpyDtoDAsync_v2);
    CU_FN(cuMemsetD8Async);
    CU_FN(cuModuleLoadDataEx);
    CU_FN(cuModuleUnload);
    CU_FN(cuModuleGetFunction);
    CU_FN(cuFuncGetAttribute);
    CU_FN(cuLaunchKernel);
    CU_FN(cuStreamCreate);
    CU_FN(cuStreamDestroy_v2);
    CU_FN(cuStreamSynchronize);
    CU_FN(cuEventCreate);
    CU_FN(cuEventDestroy_v2);
    CU_FN(cuEventRecord);
    CU_FN(cuEventSynchronize);
    CU_FN(cuEventElapsedTime_v2);
    /* optional (CUDA 12.4+) */
    CUresult (*cuFuncGetParamInfo)(CUfunction f, size_t index, size_t *offset, size_t *size);
} cuda_driver;

extern cuda_driver fs_cuda_drv; /* filled once, by the first available()/list()/open() */

/* Every driver call goes through this check: FS_OK, or the status for the CUresult with a message naming the
 * function and the driver's error ("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)"). */
#define CU_CALL(fn, args) fs_cuda_check(fs_cuda_drv.fn args, #fn)
fs_status fs_cuda_check(CUresult rc, const char *fn);

/* ---- the objects of gpu_api.h ------------------------------------------------------------------------------------ */

typedef struct {
    CUevent start, stop;
    double seconds;
    long launches;
    unsigned long epoch;
} cuda_timer;

struct gpu_device {
    CUdevice device;
    CUcontext ctx; /* the device's primary context (retained) */
    CUstream stream;
    int cc; /* compute capability, 10 major + minor */
    int profiling;
    unsigned long epoch; /* timers of an older epoch read 0 */
    gpu_device_info info;
};

struct gpu_buf {
    gpu_device *dev;
    CUdeviceptr ptr;
    size_t bytes;
};

struct gpu_program {
    gpu_device *dev;
    CUmodule module;
};

typedef struct {
    int set;
    size_t bytes;
    union {
        CUdeviceptr ptr;
        double d[CUDA_ARG_BYTES / sizeof(double)];
        unsigned char raw[CUDA_ARG_BYTES];
    } v;
} cuda_arg_slot;

struct gpu_kernel {
    gpu_device *dev;
    CUfunction fn;
    char *name;
    int max_threads; /* per block, for this kernel's registers and shared memory */
    int nparams;     /* from the driver; -1 when it cannot say */
    size_t param_size[CUDA_MAX_ARGS];
    int nargs; /* 1 + the highest index set */
    cuda_arg_slot args[CUDA_MAX_ARGS];
    void *params[CUDA_MAX_ARGS];
    cuda_timer timer;
};

struct gpu_fft {
    gpu_device *dev;
    cufftHandle plan;
    int use_double;
    CUdeviceptr data;
    cuda_timer timer;
};

/* Makes dev's context current on the calling thread (every entry point does, first). */
static inline fs_status cuda_bind(gpu_device *dev)
{
    return CU_CALL(cuCtxSetCurrent, (dev->ctx));
}

/* ---- timers (profiling on): a launch or an FFT between begin and end; end waits for the stream ---------- */
fs_status cuda_timer_begin(gpu_device *dev, cuda_timer *t);
fs_status cuda_timer_end(gpu_device *dev, cuda_timer *t);
double cuda_timer_read(const gpu_device *dev, const cuda_timer *t, long *launches);
void cuda_timer_destroy(cuda_timer *t); /* the context must be current */

/* ---- cuda_fft.c ------------------------------------------------------------------------------------------------- */
fs_status cuda_fft_create(gpu_device *dev, const int n[3], int use_double, gpu_buf *data, gpu_fft **out);
fs_status cuda_fft_exec(gpu_fft *fft, int direction);
void cuda_fft_release(gpu_fft **fft);
double cuda_fft_time(const gpu_fft *fft, long *launches);

#endif

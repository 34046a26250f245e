/*
 * opencl_impl.h — the objects behind the OpenCL implementation of the device API (kernels/gpu/gpu_api.h), shared
 * by opencl_api.c (devices, memory, programs, launches) and opencl_fft.c (the 3D FFT through VkFFT).
 *
 * Contract: every OpenCL call of kernels/opencl goes through CL_CALL, which turns a cl_int result into an
 * fs_status and, on failure, records "clName(args): CL_ERROR_NAME" with fs_fail. Calls that return an object and
 * report through an error pointer are written as `CL_CALL((obj = clCreateX(..., &err), err))`.
 */
#ifndef FS_OPENCL_IMPL_H
#define FS_OPENCL_IMPL_H

#include <CL/cl.h>

#include "../gpu/gpu_api.h"

struct gpu_device {
    cl_platform_id platform;
    cl_device_id id;
    cl_context ctx;
    cl_command_queue queue;
    gpu_device_info info;
    int profiling;
    cl_ulong max_alloc; /* CL_DEVICE_MAX_MEM_ALLOC_SIZE */
    long timer_epoch; /* reset_timers() bumps it; a kernel's timer counts only launches of the current epoch */
};

struct gpu_buf {
    cl_mem mem;
    size_t bytes; /* as requested (0 allowed: a small buffer stands behind it) */
};

struct gpu_program {
    gpu_device *dev;
    cl_program prog;
};

struct gpu_kernel {
    gpu_device *dev;
    cl_kernel k;
    char name[128];
    double seconds; /* profiled time of the launches in epoch `epoch` */
    long launches;
    long epoch;
};

/* The name of an OpenCL error code ("CL_OUT_OF_RESOURCES"); "CL_UNKNOWN_ERROR" for codes not in the table. */
const char *fs_cl_error_name(cl_int err);

/* FS_OK when err is CL_SUCCESS; otherwise records "<call>: <error name> (<code>)" and returns the matching status:
 * FS_ERR_NOMEM for the out-of-memory codes, FS_ERR_UNAVAILABLE when the device or compiler is missing,
 * FS_ERR_INVALID otherwise. `call` is the text of the call (the CL_CALL macro passes it). */
fs_status fs_cl_status(cl_int err, const char *call);

#define CL_CALL(call) fs_cl_status((call), #call)

/* Profiled time of one finished event, in seconds (0 on error). */
double fs_cl_event_seconds(cl_event ev);

#endif

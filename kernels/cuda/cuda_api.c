/*
 * cuda_api.c — the device API table of kernels/gpu/gpu_api.h on CUDA: the driver API, NVRTC and cuFFT, all three
 * loaded at run time.
 *
 * Nothing from CUDA is linked into ferrosolv. The driver (libcuda.so.1, installed with the NVIDIA kernel driver, not
 * with the toolkit) is opened with dlopen on the first call to available(), list() or open(); NVRTC on the first
 * build() (kernels/cuda/cuda_nvrtc.c); cuFFT on the first fft_create(). A machine without them runs every other
 * backend, and this one reports why it cannot run ("libcuda.so.1 not found: no NVIDIA driver on this machine").
 * The toolkit's stub libcuda.so (lib64/stubs, for linking only) is never loaded: it has no .so.1 name, and its
 * cuInit would fail with CUDA_ERROR_STUB_LIBRARY anyway.
 *
 * Symbols. cuda.h maps several names to versioned entry points (cuMemAlloc → cuMemAlloc_v2, cuMemcpyHtoD →
 * cuMemcpyHtoD_v2, cuEventElapsedTime → cuEventElapsedTime_v2 in CUDA 13, ...); dlsym needs the versioned name, so
 * the table (cuda_impl.h) spells it, and the pointer types are taken from the header's own prototypes (__typeof__), so
 * a signature cannot be copied wrong. A newer version is looked up first, with the older name as fallback where the
 * signature is the same.
 *
 * Context and queue. A device is opened through its primary context (cuDevicePrimaryCtxRetain), the one the CUDA
 * runtime uses as well: cuFFT is built on the runtime, so its plans and ours live in the same context with no
 * switching (CUDA Driver API reference, "Primary Context Management"). Every entry point makes the context current
 * on the calling thread first (cuCtxSetCurrent, a cheap call), so the table can be used from any thread.
 * All work goes to one stream created by open(): launches, device-to-device copies, fills and FFTs are queued on it
 * in order; write() and read() queue their copy and wait for the stream, which makes them blocking as the contract
 * asks and orders them after everything queued before.
 *
 * Builds. The program is compiled by NVRTC for the device's compute capability: machine code (CUBIN) for sm_XY when
 * NVRTC knows that architecture, which loads without a JIT step; otherwise the PTX of the newest architecture NVRTC
 * knows, which the driver compiles at load time (a device newer than the toolkit). Load failures carry the driver's
 * JIT log (CU_JIT_ERROR_LOG_BUFFER).
 *
 * Launches. For a kernel of N parameters, cuLaunchKernel takes "an array of N pointers", each pointing "to a region of
 * memory from which the actual kernel parameter will be copied" (Driver API reference, cuLaunchKernel): each
 * argument set by arg()/arg_buf() is copied into the kernel's own slot (a device pointer for a buffer, the value
 * otherwise, up to 32 bytes: a double4), and the launch passes pointers to the slots. Where the driver can say how
 * many parameters the kernel has and their sizes (cuFuncGetParamInfo, CUDA 12.4+), a wrong argument size and a
 * missing argument are reported before the launch instead of becoming garbage on the device. The grid is
 * one-dimensional: global / local blocks of local threads; local = 0 picks the largest power of two up to 256 that
 * divides global, so exactly `global` work-items run, as with OpenCL's own choice.
 *
 * FFT: cuFFT, in cuda_fft.c.
 *
 * Profiling. With profiling on, a launch or FFT is bracketed by two events on the stream and waits for the second
 * (cuEventElapsedTime): exact per-kernel times at the price of a synchronization per launch. reset_timers() bumps
 * an epoch; a timer from an older epoch reads 0.
 *
 * Errors go through one check per library (CU_CALL; CUFFT_CALL in cuda_fft.c; NVRTC_CALL in cuda_nvrtc.c) that names
 * the function and the library's error ("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)"). Out of memory is
 * FS_ERR_NOMEM, a missing driver or device FS_ERR_UNAVAILABLE, code the device cannot run FS_ERR_UNSUPPORTED, and
 * everything else FS_ERR_INVALID.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_impl.h"

/* ---- the driver -------------------------------------------------------------------------------------------------- */

cuda_driver fs_cuda_drv;

static pthread_once_t cu_once = PTHREAD_ONCE_INIT;

/* "CUDA_ERROR_OUT_OF_MEMORY (out of memory)", from the driver; the number where the driver cannot say (a stub or a
 * broken installation). */
static const char *cu_describe(CUresult rc, char *buf, size_t size)
{
    const char *name = NULL, *text = NULL;
    if (fs_cuda_drv.cuGetErrorName && fs_cuda_drv.cuGetErrorName(rc, &name) != CUDA_SUCCESS) name = NULL;
    if (fs_cuda_drv.cuGetErrorString && fs_cuda_drv.cuGetErrorString(rc, &text) != CUDA_SUCCESS) text = NULL;
    if (!name && rc == CUDA_ERROR_STUB_LIBRARY) name = "CUDA_ERROR_STUB_LIBRARY", text = "the toolkit's stub libcuda";
    if (name)
        snprintf(buf, size, "%s (%s)", name, text ? text : "no description");
    else
        snprintf(buf, size, "CUresult %d", (int)rc);
    return buf;
}

/* `name`, else the older `old` (NULL: none) */
static void *cu_sym(const char *name, const char *old)
{
    void *p = dlsym(fs_cuda_drv.lib, name);
    return p || !old ? p : dlsym(fs_cuda_drv.lib, old);
}

static void cu_load(void)
{
    fs_cuda_drv.status = FS_ERR_UNAVAILABLE;
    fs_cuda_drv.lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!fs_cuda_drv.lib) {
        const char *e = dlerror();
        snprintf(fs_cuda_drv.error, sizeof fs_cuda_drv.error,
                 "libcuda.so.1 not found: no NVIDIA driver on this machine (%s)", e ? e : "dlopen failed");
        return;
    }
    const char *missing = NULL;
#define CU_LOAD2(fn, old)                                                                                              \
    do {                                                                                                               \
        fs_cuda_drv.fn = (__typeof__(fs_cuda_drv.fn))cu_sym(#fn, old);                                                 \
        if (!fs_cuda_drv.fn && !missing) missing = #fn;                                                                \
    } while (0)
#define CU_LOAD(fn) CU_LOAD2(fn, NULL)
    CU_LOAD(cuInit);
    CU_LOAD(cuDriverGetVersion);
    CU_LOAD(cuGetErrorName);
    CU_LOAD(cuGetErrorString);
    CU_LOAD(cuDeviceGetCount);
    CU_LOAD(cuDeviceGet);
    CU_LOAD(cuDeviceGetName);
    CU_LOAD(cuDeviceGetAttribute);
    CU_LOAD(cuDeviceTotalMem_v2);
    CU_LOAD(cuDevicePrimaryCtxRetain);
    CU_LOAD2(cuDevicePrimaryCtxRelease_v2, "cuDevicePrimaryCtxRelease");
    CU_LOAD(cuCtxSetCurrent);
    CU_LOAD(cuMemAlloc_v2);
    CU_LOAD(cuMemFree_v2);
    CU_LOAD(cuMemcpyHtoDAsync_v2);
    CU_LOAD(cuMemcpyDtoHAsync_v2);
    CU_LOAD(cuMemcpyDtoDAsync_v2);
    CU_LOAD(cuMemsetD8Async);
    CU_LOAD(cuModuleLoadDataEx);
    CU_LOAD(cuModuleUnload);
    CU_LOAD(cuModuleGetFunction);
    CU_LOAD(cuFuncGetAttribute);
    CU_LOAD(cuLaunchKernel);
    CU_LOAD(cuStreamCreate);
    CU_LOAD2(cuStreamDestroy_v2, "cuStreamDestroy");
    CU_LOAD(cuStreamSynchronize);
    CU_LOAD(cuEventCreate);
    CU_LOAD2(cuEventDestroy_v2, "cuEventDestroy");
    CU_LOAD(cuEventRecord);
    CU_LOAD(cuEventSynchronize);
    CU_LOAD2(cuEventElapsedTime_v2, "cuEventElapsedTime");
#undef CU_LOAD
#undef CU_LOAD2
    fs_cuda_drv.cuFuncGetParamInfo =
        (__typeof__(fs_cuda_drv.cuFuncGetParamInfo))dlsym(fs_cuda_drv.lib, "cuFuncGetParamInfo");
    if (missing) {
        snprintf(fs_cuda_drv.error, sizeof fs_cuda_drv.error,
                 "libcuda.so.1 lacks %s: the NVIDIA driver is too old for this build", missing);
        return;
    }
    CUresult rc = fs_cuda_drv.cuInit(0);
    if (rc != CUDA_SUCCESS) {
        char why[256];
        snprintf(fs_cuda_drv.error, sizeof fs_cuda_drv.error, "cuInit failed: %s", cu_describe(rc, why, sizeof why));
        return;
    }
    fs_cuda_drv.status = FS_OK;
}

static fs_status cu_ready(void)
{
    pthread_once(&cu_once, cu_load);
    if (fs_cuda_drv.status != FS_OK) return fs_fail(fs_cuda_drv.status, "%s", fs_cuda_drv.error);
    return FS_OK;
}

static fs_status cu_status(CUresult rc)
{
    switch (rc) {
    case CUDA_ERROR_OUT_OF_MEMORY:
        return FS_ERR_NOMEM;
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_NOT_INITIALIZED:
    case CUDA_ERROR_DEINITIALIZED:
    case CUDA_ERROR_SYSTEM_NOT_READY:
    case CUDA_ERROR_STUB_LIBRARY:
    case CUDA_ERROR_DEVICE_UNAVAILABLE:
    case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH:
    case CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE:
        return FS_ERR_UNAVAILABLE;
    case CUDA_ERROR_NO_BINARY_FOR_GPU:
    case CUDA_ERROR_UNSUPPORTED_PTX_VERSION:
    case CUDA_ERROR_NOT_SUPPORTED:
        return FS_ERR_UNSUPPORTED;
    default:
        return FS_ERR_INVALID;
    }
}

fs_status fs_cuda_check(CUresult rc, const char *fn)
{
    if (rc == CUDA_SUCCESS) return FS_OK;
    fs_status st = cu_status(rc);
    char why[256];
    return fs_fail(st, "%s%s: %s", st == FS_ERR_NOMEM ? "out of device memory: " : "", fn,
                   cu_describe(rc, why, sizeof why));
}

/* ---- timers ------------------------------------------------------------------------------------------------------ */

fs_status cuda_timer_begin(gpu_device *dev, cuda_timer *t)
{
    fs_status st = FS_OK;
    if (!t->start && (st = CU_CALL(cuEventCreate, (&t->start, CU_EVENT_DEFAULT))) != FS_OK) return st;
    if (!t->stop && (st = CU_CALL(cuEventCreate, (&t->stop, CU_EVENT_DEFAULT))) != FS_OK) return st;
    return CU_CALL(cuEventRecord, (t->start, dev->stream));
}

fs_status cuda_timer_end(gpu_device *dev, cuda_timer *t)
{
    float ms = 0.0f;
    fs_status st = CU_CALL(cuEventRecord, (t->stop, dev->stream));
    if (st == FS_OK) st = CU_CALL(cuEventSynchronize, (t->stop));
    if (st == FS_OK) st = CU_CALL(cuEventElapsedTime_v2, (&ms, t->start, t->stop));
    if (st != FS_OK) return st;
    if (t->epoch != dev->epoch) {
        t->epoch = dev->epoch;
        t->seconds = 0.0;
        t->launches = 0;
    }
    t->seconds += 1e-3 * ms;
    t->launches++;
    return FS_OK;
}

double cuda_timer_read(const gpu_device *dev, const cuda_timer *t, long *launches)
{
    int current = t->epoch == dev->epoch;
    if (launches) *launches = current ? t->launches : 0;
    return current ? t->seconds : 0.0;
}

void cuda_timer_destroy(cuda_timer *t)
{
    if (t->start) fs_cuda_drv.cuEventDestroy_v2(t->start);
    if (t->stop) fs_cuda_drv.cuEventDestroy_v2(t->stop);
    t->start = t->stop = NULL;
}

/* ---- devices ----------------------------------------------------------------------------------------------------- */

static fs_status cuda_available(void)
{
    fs_status st = cu_ready();
    if (st != FS_OK) return st;
    int n = 0;
    if ((st = CU_CALL(cuDeviceGetCount, (&n))) != FS_OK) return st;
    if (n <= 0) return fs_fail(FS_ERR_UNAVAILABLE, "no CUDA device");
    return FS_OK;
}

static fs_status device_info(int ordinal, gpu_device_info *info, CUdevice *device, int *cc)
{
    CUdevice d;
    int major = 0, minor = 0, sms = 0, threads = 0, driver = 0;
    size_t mem = 0;
    fs_status st = CU_CALL(cuDeviceGet, (&d, ordinal));
    if (st == FS_OK) st = CU_CALL(cuDeviceGetName, (info->name, (int)sizeof info->name, d));
    if (st == FS_OK) st = CU_CALL(cuDeviceGetAttribute, (&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d));
    if (st == FS_OK) st = CU_CALL(cuDeviceGetAttribute, (&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d));
    if (st == FS_OK) st = CU_CALL(cuDeviceGetAttribute, (&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d));
    if (st == FS_OK) st = CU_CALL(cuDeviceGetAttribute, (&threads, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, d));
    if (st == FS_OK) st = CU_CALL(cuDeviceTotalMem_v2, (&mem, d));
    if (st == FS_OK) st = CU_CALL(cuDriverGetVersion, (&driver));
    if (st != FS_OK) return fs_fail_context(st, "CUDA device %d", ordinal);
    snprintf(info->platform, sizeof info->platform, "CUDA %d.%d (driver), sm_%d%d", driver / 1000, (driver % 1000) / 10,
             major, minor);
    info->is_cpu = 0;
    info->has_double = 1;
    info->compute_units = sms;
    info->max_local_size = (size_t)threads;
    info->global_mem = mem;
    if (device) *device = d;
    if (cc) *cc = 10 * major + minor;
    return FS_OK;
}

static fs_status cuda_list(gpu_device_info *out, int max, int *count)
{
    *count = 0;
    fs_status st = cuda_available();
    if (st != FS_OK) return st;
    int n = 0;
    if ((st = CU_CALL(cuDeviceGetCount, (&n))) != FS_OK) return st;
    for (int i = 0; i < n && i < max; ++i) {
        memset(&out[i], 0, sizeof out[i]);
        if ((st = device_info(i, &out[i], NULL, NULL)) != FS_OK) return st;
        (*count)++;
    }
    return FS_OK;
}

static void cuda_close(gpu_device **dev)
{
    if (!dev || !*dev) return;
    gpu_device *d = *dev;
    if (d->ctx) {
        fs_cuda_drv.cuCtxSetCurrent(d->ctx);
        if (d->stream) fs_cuda_drv.cuStreamDestroy_v2(d->stream);
        fs_cuda_drv.cuDevicePrimaryCtxRelease_v2(d->device);
    }
    free(d);
    *dev = NULL;
}

static fs_status cuda_open(int index, int profiling, gpu_device **out)
{
    *out = NULL;
    fs_status st = cuda_available();
    if (st != FS_OK) return st;
    int n = 0;
    if ((st = CU_CALL(cuDeviceGetCount, (&n))) != FS_OK) return st;
    if (index < -1 || index >= n) return fs_fail(FS_ERR_INVALID, "no CUDA device %d (%d found)", index, n);
    if (index == -1) { /* the most multiprocessors */
        int best = -1;
        for (int i = 0; i < n; ++i) {
            gpu_device_info info;
            if ((st = device_info(i, &info, NULL, NULL)) != FS_OK) return st;
            if (info.compute_units > best) best = info.compute_units, index = i;
        }
    }
    gpu_device *d = calloc(1, sizeof *d);
    if (!d) return fs_fail(FS_ERR_NOMEM, "out of memory opening a CUDA device");
    d->profiling = profiling;
    st = device_info(index, &d->info, &d->device, &d->cc);
    if (st == FS_OK) st = CU_CALL(cuDevicePrimaryCtxRetain, (&d->ctx, d->device));
    if (st == FS_OK) st = cuda_bind(d);
    if (st == FS_OK) st = CU_CALL(cuStreamCreate, (&d->stream, CU_STREAM_DEFAULT));
    if (st != FS_OK) {
        cuda_close(&d);
        return fs_fail_context(st, "opening CUDA device %d", index);
    }
    *out = d;
    return FS_OK;
}

static const gpu_device_info *cuda_info(const gpu_device *dev)
{
    return &dev->info;
}

/* ---- memory ------------------------------------------------------------------------------------------------------ */

static fs_status cuda_alloc(gpu_device *dev, size_t bytes, gpu_buf **out)
{
    *out = NULL;
    gpu_buf *b = calloc(1, sizeof *b);
    if (!b) return fs_fail(FS_ERR_NOMEM, "out of memory for a device buffer");
    fs_status st = cuda_bind(dev);
    if (st == FS_OK) st = CU_CALL(cuMemAlloc_v2, (&b->ptr, bytes ? bytes : 1));
    if (st != FS_OK) {
        free(b);
        return fs_fail_context(st, "allocating %zu bytes on %s", bytes, dev->info.name);
    }
    b->dev = dev;
    b->bytes = bytes;
    *out = b;
    return FS_OK;
}

static void cuda_release(gpu_buf **buf)
{
    if (!buf || !*buf) return;
    if (fs_cuda_drv.cuCtxSetCurrent((*buf)->dev->ctx) == CUDA_SUCCESS) fs_cuda_drv.cuMemFree_v2((*buf)->ptr);
    free(*buf);
    *buf = NULL;
}

static fs_status check_range(const gpu_buf *buf, size_t offset, size_t bytes, const char *what)
{
    if (offset > buf->bytes || bytes > buf->bytes - offset)
        return fs_fail(FS_ERR_INVALID, "%s of %zu bytes at offset %zu outside a device buffer of %zu bytes", what,
                       bytes, offset, buf->bytes);
    return FS_OK;
}

static fs_status cuda_write(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, const void *src)
{
    fs_status st = check_range(buf, offset, bytes, "write");
    if (st != FS_OK || bytes == 0) return st;
    if ((st = cuda_bind(dev)) != FS_OK) return st;
    st = CU_CALL(cuMemcpyHtoDAsync_v2, (buf->ptr + offset, src, bytes, dev->stream));
    if (st == FS_OK) st = CU_CALL(cuStreamSynchronize, (dev->stream));
    return st;
}

static fs_status cuda_read(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, void *dst)
{
    fs_status st = check_range(buf, offset, bytes, "read");
    if (st != FS_OK || bytes == 0) return st;
    if ((st = cuda_bind(dev)) != FS_OK) return st;
    st = CU_CALL(cuMemcpyDtoHAsync_v2, (dst, buf->ptr + offset, bytes, dev->stream));
    if (st == FS_OK) st = CU_CALL(cuStreamSynchronize, (dev->stream));
    return st;
}

static fs_status cuda_copy(gpu_device *dev, gpu_buf *dst, gpu_buf *src, size_t bytes)
{
    fs_status st = check_range(dst, 0, bytes, "copy");
    if (st == FS_OK) st = check_range(src, 0, bytes, "copy");
    if (st != FS_OK || bytes == 0) return st;
    if ((st = cuda_bind(dev)) != FS_OK) return st;
    return CU_CALL(cuMemcpyDtoDAsync_v2, (dst->ptr, src->ptr, bytes, dev->stream));
}

static fs_status cuda_fill_zero(gpu_device *dev, gpu_buf *buf, size_t bytes)
{
    fs_status st = check_range(buf, 0, bytes, "fill");
    if (st != FS_OK || bytes == 0) return st;
    if ((st = cuda_bind(dev)) != FS_OK) return st;
    return CU_CALL(cuMemsetD8Async, (buf->ptr, 0, bytes, dev->stream));
}

/* ---- programs and kernels ---------------------------------------------------------------------------------------- */

/* The target for a device of compute capability cc: "sm_<cc>" when NVRTC knows it, else "compute_<newest known
 * below cc>" (PTX for the driver to compile). */
static fs_status choose_arch(int cc, char *arch, size_t size)
{
    int archs[128], n = 0, major = 0, minor = 0;
    fs_status st = fs_cuda_nvrtc_info(&major, &minor, archs, 128, &n);
    if (st != FS_OK) return st;
    int best = 0;
    for (int i = 0; i < n; ++i)
        if (archs[i] <= cc && archs[i] > best) best = archs[i];
    if (n == 0 || best == cc) {
        snprintf(arch, size, "sm_%d", cc);
    } else if (best > 0) {
        snprintf(arch, size, "compute_%d", best);
    } else {
        return fs_fail(FS_ERR_UNSUPPORTED, "NVRTC %d.%d cannot compile for sm_%d (oldest it supports: sm_%d)", major,
                       minor, cc, archs[0]);
    }
    return FS_OK;
}

static fs_status cuda_build(gpu_device *dev, const char *defines, const char *source, gpu_program **out)
{
    *out = NULL;
    char arch[32];
    fs_status st = choose_arch(dev->cc, arch, sizeof arch);
    if (st != FS_OK) return st;
    char *ptx = NULL, *log = NULL;
    void *cubin = NULL;
    size_t cubin_size = 0;
    int want_cubin = strncmp(arch, "sm_", 3) == 0;
    st = fs_cuda_compile_ex(arch, defines, source, want_cubin ? NULL : &ptx, want_cubin ? &cubin : NULL, &cubin_size,
                            &log);
    free(log);
    if (st != FS_OK) return st;

    gpu_program *p = calloc(1, sizeof *p);
    char jit_log[4096] = "";
    if (!p) {
        st = fs_fail(FS_ERR_NOMEM, "out of memory for a program");
    } else if ((st = cuda_bind(dev)) == FS_OK) {
        CUjit_option opts[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
        void *vals[] = {jit_log, (void *)(uintptr_t)sizeof jit_log};
        st = CU_CALL(cuModuleLoadDataEx, (&p->module, cubin ? cubin : (void *)ptx, 2, opts, vals));
        if (st != FS_OK) fs_fail_context(st, "loading the kernels (%s) on %s: %s", arch, dev->info.name, jit_log);
    }
    free(ptx);
    free(cubin);
    if (st != FS_OK) {
        free(p);
        return st;
    }
    p->dev = dev;
    *out = p;
    return FS_OK;
}

static void cuda_program_release(gpu_program **prog)
{
    if (!prog || !*prog) return;
    if (fs_cuda_drv.cuCtxSetCurrent((*prog)->dev->ctx) == CUDA_SUCCESS) fs_cuda_drv.cuModuleUnload((*prog)->module);
    free(*prog);
    *prog = NULL;
}

static void cuda_kernel_release(gpu_kernel **k)
{
    if (!k || !*k) return;
    if (fs_cuda_drv.cuCtxSetCurrent((*k)->dev->ctx) == CUDA_SUCCESS) cuda_timer_destroy(&(*k)->timer);
    free((*k)->name);
    free(*k);
    *k = NULL;
}

static fs_status cuda_kernel(gpu_program *prog, const char *name, gpu_kernel **out)
{
    *out = NULL;
    fs_status st = cuda_bind(prog->dev);
    if (st != FS_OK) return st;
    gpu_kernel *k = calloc(1, sizeof *k);
    if (!k || !(k->name = strdup(name))) {
        free(k);
        return fs_fail(FS_ERR_NOMEM, "out of memory for kernel %s", name);
    }
    k->dev = prog->dev;
    k->nparams = -1;
    CUresult rc = fs_cuda_drv.cuModuleGetFunction(&k->fn, prog->module, name);
    if (rc == CUDA_ERROR_NOT_FOUND) {
        st = fs_fail(FS_ERR_INVALID, "no kernel %s in the program", name);
    } else if ((st = fs_cuda_check(rc, "cuModuleGetFunction")) == FS_OK) {
        st = CU_CALL(cuFuncGetAttribute, (&k->max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, k->fn));
    }
    if (st == FS_OK && fs_cuda_drv.cuFuncGetParamInfo) {
        size_t offset, size;
        int n = 0;
        while (n <= CUDA_MAX_ARGS && fs_cuda_drv.cuFuncGetParamInfo(k->fn, (size_t)n, &offset, &size) == CUDA_SUCCESS) {
            if (n < CUDA_MAX_ARGS) k->param_size[n] = size;
            n++;
        }
        if (n > CUDA_MAX_ARGS)
            st = fs_fail(FS_ERR_UNSUPPORTED, "kernel %s has more than %d parameters", name, CUDA_MAX_ARGS);
        k->nparams = n;
    }
    if (st != FS_OK) {
        cuda_kernel_release(&k);
        return st;
    }
    *out = k;
    return FS_OK;
}

static fs_status check_arg(const gpu_kernel *k, int index, size_t bytes)
{
    if (index < 0 || index >= (k->nparams >= 0 ? k->nparams : CUDA_MAX_ARGS)) {
        if (k->nparams >= 0)
            return fs_fail(FS_ERR_INVALID, "kernel %s: no argument %d (it takes %d)", k->name, index, k->nparams);
        return fs_fail(FS_ERR_INVALID, "kernel %s: argument index %d (0 to %d)", k->name, index, CUDA_MAX_ARGS - 1);
    }
    if (bytes == 0 || bytes > CUDA_ARG_BYTES)
        return fs_fail(FS_ERR_INVALID, "kernel %s argument %d: %zu bytes (1 to %d)", k->name, index, bytes,
                       CUDA_ARG_BYTES);
    if (k->nparams >= 0 && k->param_size[index] != bytes)
        return fs_fail(FS_ERR_INVALID, "kernel %s argument %d: %zu bytes given, the kernel takes %zu", k->name, index,
                       bytes, k->param_size[index]);
    return FS_OK;
}

static fs_status cuda_arg(gpu_kernel *k, int index, size_t bytes, const void *value)
{
    fs_status st = check_arg(k, index, bytes);
    if (st != FS_OK) return st;
    cuda_arg_slot *a = &k->args[index];
    memset(&a->v, 0, sizeof a->v);
    memcpy(a->v.raw, value, bytes);
    a->bytes = bytes;
    a->set = 1;
    if (index >= k->nargs) k->nargs = index + 1;
    return FS_OK;
}

static fs_status cuda_arg_buf(gpu_kernel *k, int index, gpu_buf *buf)
{
    if (!buf) return fs_fail(FS_ERR_INVALID, "kernel %s argument %d: no buffer", k->name, index);
    return cuda_arg(k, index, sizeof buf->ptr, &buf->ptr);
}

static fs_status cuda_launch(gpu_device *dev, gpu_kernel *k, size_t global, size_t local)
{
    if (global == 0) return FS_OK;
    size_t limit = (size_t)k->max_threads;
    if (local == 0) {
        local = 1;
        while (local < 256 && 2 * local <= limit && global % (2 * local) == 0) local *= 2;
    }
    if (local > limit)
        return fs_fail(FS_ERR_INVALID, "kernel %s: groups of %zu work-items, at most %zu on %s", k->name, local, limit,
                       dev->info.name);
    if (global % local != 0)
        return fs_fail(FS_ERR_INVALID, "kernel %s: %zu work-items is not a multiple of the group size %zu", k->name,
                       global, local);
    if (global / local > (size_t)INT_MAX)
        return fs_fail(FS_ERR_INVALID, "kernel %s: %zu work-items are too many", k->name, global);
    int n = k->nparams >= 0 ? k->nparams : k->nargs;
    for (int i = 0; i < n; ++i) {
        if (!k->args[i].set) return fs_fail(FS_ERR_INVALID, "kernel %s: argument %d not set", k->name, i);
        k->params[i] = k->args[i].v.raw;
    }
    fs_status st = cuda_bind(dev);
    if (st == FS_OK && dev->profiling) st = cuda_timer_begin(dev, &k->timer);
    if (st == FS_OK)
        st = CU_CALL(cuLaunchKernel, (k->fn, (unsigned)(global / local), 1, 1, (unsigned)local, 1, 1, 0, dev->stream,
                                      n > 0 ? k->params : NULL, NULL));
    if (st == FS_OK && dev->profiling) st = cuda_timer_end(dev, &k->timer);
    if (st != FS_OK) return fs_fail_context(st, "kernel %s (%zu work-items in groups of %zu)", k->name, global, local);
    return FS_OK;
}

static fs_status cuda_finish(gpu_device *dev)
{
    fs_status st = cuda_bind(dev);
    if (st == FS_OK) st = CU_CALL(cuStreamSynchronize, (dev->stream));
    return st;
}

/* ---- timers ------------------------------------------------------------------------------------------------------ */

static double cuda_kernel_time(const gpu_kernel *k, long *launches)
{
    return cuda_timer_read(k->dev, &k->timer, launches);
}

static void cuda_reset_timers(gpu_device *dev)
{
    dev->epoch++;
}

const gpu_api fs_gpu_api_cuda = {
    .name = "cuda",
    .available = cuda_available,
    .list = cuda_list,
    .open = cuda_open,
    .close = cuda_close,
    .info = cuda_info,
    .alloc = cuda_alloc,
    .release = cuda_release,
    .write = cuda_write,
    .read = cuda_read,
    .copy = cuda_copy,
    .fill_zero = cuda_fill_zero,
    .build = cuda_build,
    .program_release = cuda_program_release,
    .kernel = cuda_kernel,
    .kernel_release = cuda_kernel_release,
    .arg_buf = cuda_arg_buf,
    .arg = cuda_arg,
    .launch = cuda_launch,
    .finish = cuda_finish,
    .fft_create = cuda_fft_create,
    .fft_exec = cuda_fft_exec,
    .fft_release = cuda_fft_release,
    .kernel_time = cuda_kernel_time,
    .fft_time = cuda_fft_time,
    .reset_timers = cuda_reset_timers,
};

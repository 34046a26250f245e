/*
 * cuda_fft.c — the 3D FFT of gpu_api.h on cuFFT, loaded with dlopen on the first fft_create().
 *
 * cufftPlan3d(nx, ny, nz) plans the transform of an nx × ny × nz array in C order: x is the slowest-changing index
 * and z the fastest, contiguous one (cuFFT documentation, cufftPlan3d). cufftExec* takes CUFFT_FORWARD = -1 or
 * CUFFT_INVERSE = +1 (cufft.h), the sign of the exponent, and cuFFT's transforms are un-normalized (cuFFT
 * documentation: a forward then an inverse transform returns the input times the number of elements): exactly the
 * convention of gpu_api.h, so the direction passes through unchanged. Float grids are C2C (cufftComplex = two floats),
 * double grids Z2Z. The plan is bound to the device's stream (cufftSetStream), so transforms queue in order with the
 * launches, in place on the buffer given at creation. cuFFT allocates its work area at planning time; its failure is
 * FS_ERR_NOMEM.
 *
 * cuFFT runs on the CUDA runtime, which uses the device's primary context: the one cuda_api.c opens the device
 * with, made current before every call here.
 *
 * Library names tried, in order: libcufft.so, libcufft.so.12 (CUDA 13), .11 (CUDA 12), .10 (CUDA 11), then the same
 * names in the toolkit folder found at build time (FS_CUDA_LIBDIR).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cuda_impl.h"

static struct {
    void *lib;
    char name[512];
    fs_status status;
    char error[768];
    CU_FN(cufftPlan3d);
    CU_FN(cufftSetStream);
    CU_FN(cufftExecC2C);
    CU_FN(cufftExecZ2Z);
    CU_FN(cufftDestroy);
} ff;

static pthread_once_t ff_once = PTHREAD_ONCE_INIT;

static void ff_load(void)
{
    static const char *const names[] = {"libcufft.so", "libcufft.so.12", "libcufft.so.11", "libcufft.so.10"};
    const int nnames = (int)(sizeof names / sizeof names[0]);
    const char *last_error = "";
    for (int pass = 0; pass < 2 && !ff.lib; ++pass) {
        for (int i = 0; i < nnames && !ff.lib; ++i) {
            if (pass == 0)
                snprintf(ff.name, sizeof ff.name, "%s", names[i]);
            else
                snprintf(ff.name, sizeof ff.name, "%s/%s", FS_CUDA_LIBDIR, names[i]);
            ff.lib = dlopen(ff.name, RTLD_NOW | RTLD_LOCAL);
            if (!ff.lib) {
                const char *e = dlerror();
                if (e) last_error = e;
            }
        }
    }
    ff.status = FS_ERR_UNAVAILABLE;
    if (!ff.lib) {
        snprintf(ff.error, sizeof ff.error,
                 "cuFFT not found (tried libcufft.so, libcufft.so.12, .11, .10, also in %s): the CUDA toolkit's FFT "
                 "library is needed for PME (last error: %s)",
                 FS_CUDA_LIBDIR, last_error);
        return;
    }
    const char *missing = NULL;
#define FF_LOAD(fn)                                                                                                    \
    do {                                                                                                               \
        ff.fn = (__typeof__(ff.fn))dlsym(ff.lib, #fn);                                                                 \
        if (!ff.fn && !missing) missing = #fn;                                                                         \
    } while (0)
    FF_LOAD(cufftPlan3d);
    FF_LOAD(cufftSetStream);
    FF_LOAD(cufftExecC2C);
    FF_LOAD(cufftExecZ2Z);
    FF_LOAD(cufftDestroy);
#undef FF_LOAD
    if (missing) {
        snprintf(ff.error, sizeof ff.error, "%s lacks %s", ff.name, missing);
        return;
    }
    ff.status = FS_OK;
}

static const char *cufft_error_name(cufftResult rc)
{
    static const char *const names[] = {"CUFFT_SUCCESS",
                                        "CUFFT_INVALID_PLAN",
                                        "CUFFT_ALLOC_FAILED",
                                        "CUFFT_INVALID_TYPE",
                                        "CUFFT_INVALID_VALUE",
                                        "CUFFT_INTERNAL_ERROR",
                                        "CUFFT_EXEC_FAILED",
                                        "CUFFT_SETUP_FAILED",
                                        "CUFFT_INVALID_SIZE",
                                        "CUFFT_UNALIGNED_DATA",
                                        "CUFFT_INCOMPLETE_PARAMETER_LIST",
                                        "CUFFT_INVALID_DEVICE",
                                        "CUFFT_PARSE_ERROR",
                                        "CUFFT_NO_WORKSPACE",
                                        "CUFFT_NOT_IMPLEMENTED",
                                        "CUFFT_LICENSE_ERROR",
                                        "CUFFT_NOT_SUPPORTED",
                                        "CUFFT_MISSING_DEPENDENCY",
                                        "CUFFT_NVRTC_FAILURE",
                                        "CUFFT_NVJITLINK_FAILURE",
                                        "CUFFT_NVSHMEM_FAILURE"};
    unsigned i = (unsigned)rc;
    return i < sizeof names / sizeof names[0] ? names[i] : "CUFFT_UNKNOWN_ERROR";
}

/* Every cuFFT call goes through this check. */
#define CUFFT_CALL(fn, args) cufft_check(ff.fn args, #fn)

static fs_status cufft_check(cufftResult rc, const char *fn)
{
    if (rc == CUFFT_SUCCESS) return FS_OK;
    if (rc == CUFFT_ALLOC_FAILED) return fs_fail(FS_ERR_NOMEM, "out of device memory: %s: CUFFT_ALLOC_FAILED", fn);
    return fs_fail(FS_ERR_INVALID, "%s: %s (%d)", fn, cufft_error_name(rc), (int)rc);
}

fs_status cuda_fft_create(gpu_device *dev, const int n[3], int use_double, gpu_buf *data, gpu_fft **out)
{
    *out = NULL;
    pthread_once(&ff_once, ff_load);
    if (ff.status != FS_OK) return fs_fail(ff.status, "%s", ff.error);
    if (n[0] <= 0 || n[1] <= 0 || n[2] <= 0)
        return fs_fail(FS_ERR_INVALID, "FFT of %d x %d x %d points", n[0], n[1], n[2]);
    size_t need = (size_t)n[0] * (size_t)n[1] * (size_t)n[2] * 2 * (use_double ? sizeof(double) : sizeof(float));
    if (!data || data->bytes < need)
        return fs_fail(FS_ERR_INVALID, "FFT of %d x %d x %d points needs %zu bytes, the buffer has %zu", n[0], n[1],
                       n[2], need, data ? data->bytes : 0);
    fs_status st = cuda_bind(dev);
    if (st != FS_OK) return st;
    gpu_fft *f = calloc(1, sizeof *f);
    if (!f) return fs_fail(FS_ERR_NOMEM, "out of memory for an FFT plan");
    f->dev = dev;
    f->use_double = use_double;
    f->data = data->ptr;
    st = CUFFT_CALL(cufftPlan3d, (&f->plan, n[0], n[1], n[2], use_double ? CUFFT_Z2Z : CUFFT_C2C));
    if (st != FS_OK) {
        free(f);
        return fs_fail_context(st, "planning a %d x %d x %d FFT", n[0], n[1], n[2]);
    }
    if ((st = CUFFT_CALL(cufftSetStream, (f->plan, (cudaStream_t)dev->stream))) != FS_OK) {
        ff.cufftDestroy(f->plan);
        free(f);
        return st;
    }
    *out = f;
    return FS_OK;
}

fs_status cuda_fft_exec(gpu_fft *fft, int direction)
{
    if (direction != -1 && direction != 1) return fs_fail(FS_ERR_INVALID, "FFT direction %d (-1 or +1)", direction);
    gpu_device *dev = fft->dev;
    fs_status st = cuda_bind(dev);
    if (st == FS_OK && dev->profiling) st = cuda_timer_begin(dev, &fft->timer);
    if (st != FS_OK) return st;
    /* CUFFT_FORWARD is -1 and CUFFT_INVERSE +1: the gpu_api direction is the exponent's sign as cuFFT's */
    if (fft->use_double) {
        cufftDoubleComplex *z = (cufftDoubleComplex *)(uintptr_t)fft->data;
        st = CUFFT_CALL(cufftExecZ2Z, (fft->plan, z, z, direction));
    } else {
        cufftComplex *c = (cufftComplex *)(uintptr_t)fft->data;
        st = CUFFT_CALL(cufftExecC2C, (fft->plan, c, c, direction));
    }
    if (st == FS_OK && dev->profiling) st = cuda_timer_end(dev, &fft->timer);
    return st;
}

void cuda_fft_release(gpu_fft **fft)
{
    if (!fft || !*fft) return;
    if (fs_cuda_drv.cuCtxSetCurrent((*fft)->dev->ctx) == CUDA_SUCCESS) {
        ff.cufftDestroy((*fft)->plan);
        cuda_timer_destroy(&(*fft)->timer);
    }
    free(*fft);
    *fft = NULL;
}

double cuda_fft_time(const gpu_fft *fft, long *launches)
{
    return cuda_timer_read(fft->dev, &fft->timer, launches);
}

_Static_assert(CUFFT_FORWARD == -1 && CUFFT_INVERSE == 1, "cuFFT's direction is the sign of the exponent");

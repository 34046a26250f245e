/*
 * opencl_fft.c — the 3D FFT of the device API (gpu_api.h fft_create/fft_exec) on OpenCL, through VkFFT.
 *
 * What it computes. For the n0 x n1 x n2 grid f of complex numbers (interleaved re, im; index (x n1 + y) n2 + z,
 * z fastest), in place,
 *
 *     forward (direction -1):  F(k) = sum_x f(x) exp(-2 pi i (k0 x0 / n0 + k1 x1 / n1 + k2 x2 / n2)),
 *     backward (direction +1): the same sum with exp(+...),
 *
 * neither normalized, so backward(forward(f)) = n0 n1 n2 f (the convention of FFTW's FFTW_FORWARD/FFTW_BACKWARD;
 * tests/test_gpu_api.c checks both against FFTW).
 *
 * How. VkFFT (D. Tolmachev, IEEE Access 11, 12039 (2023); github.com/DTolm/VkFFT, here the Debian package
 * libvkfft-dev 1.2.26, a single header) generates and compiles OpenCL kernels for the given sizes when the plan is
 * made (VKFFT_BACKEND 3). Its axes are listed fastest first ("WHD"), so size = {n2, n1, n0}. Sizes whose prime
 * factors are at most 13 (PME grids: 2, 3, 5, 7, 13) are done by its radix kernels; others by Bluestein's algorithm.
 * Its direction argument is -1 for the forward transform, exp(-2 pi i ...), and 1 for the inverse; `normalize` is
 * left off. Kernels are enqueued on the device's in-order queue (VkFFTAppend does not wait), so an FFT orders with
 * the launches around it like any launch.
 *
 * Plan creation compiles several programs and is slow on PoCL (seconds); it is done once per grid size. VkFFT
 * prints nothing in the OpenCL backend unless a call fails.
 *
 * Timer. With profiling on, exec() drains the queue before and after the transform and adds the host's wall time
 * to the FFT's timer (VkFFT makes no events). The timer follows the device's epochs as the kernels' timers do.
 *
 * The header is third-party code and is compiled here with its warnings silenced; nothing else includes it.
 */
#include <stdlib.h>
#include <time.h>

#include "opencl_impl.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wformat-truncation"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wstringop-truncation"
#pragma GCC diagnostic ignored "-Wpedantic"
#define VKFFT_BACKEND 3
#include <vkFFT.h>
#pragma GCC diagnostic pop

fs_status fs_cl_fft_create(gpu_device *dev, const int n[3], int use_double, gpu_buf *data, gpu_fft **out);
fs_status fs_cl_fft_exec(gpu_fft *fft, int direction);
void fs_cl_fft_release(gpu_fft **fft);
double fs_cl_fft_time(const gpu_fft *fft, long *launches);

struct gpu_fft {
    gpu_device *dev;
    gpu_buf *data;
    int n[3];
    VkFFTApplication app;
    uint64_t bytes;
    int initialized; /* app holds VkFFT's resources (deleteVkFFT on release) */
    double seconds;
    long launches, epoch;
};

static double wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static fs_status vkfft_fail(VkFFTResult r, const char *what, const int n[3])
{
    fs_status code = (r == VKFFT_ERROR_MALLOC_FAILED || r == VKFFT_ERROR_FAILED_TO_ALLOCATE) ? FS_ERR_NOMEM
                     : (r == VKFFT_ERROR_UNSUPPORTED_RADIX || r == VKFFT_ERROR_UNSUPPORTED_FFT_LENGTH)
                         ? FS_ERR_UNSUPPORTED
                         : FS_ERR_INVALID;
    return fs_fail(code, "VkFFT %s of a %d x %d x %d grid: VkFFTResult %d", what, n[0], n[1], n[2], (int)r);
}

fs_status fs_cl_fft_create(gpu_device *dev, const int n[3], int use_double, gpu_buf *data, gpu_fft **out)
{
    *out = NULL;
    if (n[0] < 1 || n[1] < 1 || n[2] < 1)
        return fs_fail(FS_ERR_INVALID, "FFT grid %d x %d x %d: sizes must be positive", n[0], n[1], n[2]);
    uint64_t bytes =
        (uint64_t)n[0] * (uint64_t)n[1] * (uint64_t)n[2] * 2 * (use_double ? sizeof(double) : sizeof(float));
    if (bytes > data->bytes)
        return fs_fail(FS_ERR_INVALID, "FFT grid %d x %d x %d needs %llu bytes; the buffer has %zu", n[0], n[1], n[2],
                       (unsigned long long)bytes, data->bytes);
    gpu_fft *f = calloc(1, sizeof *f);
    if (!f) return fs_fail(FS_ERR_NOMEM, "allocating an FFT plan");
    f->dev = dev;
    f->data = data;
    f->bytes = bytes;
    f->epoch = dev->timer_epoch;
    for (int d = 0; d < 3; d++) f->n[d] = n[d];

    VkFFTConfiguration c = {0};
    c.FFTdim = 3;
    c.size[0] = (uint64_t)n[2];
    c.size[1] = (uint64_t)n[1];
    c.size[2] = (uint64_t)n[0];
    c.platform = &dev->platform;
    c.device = &dev->id;
    c.context = &dev->ctx;
    c.buffer = &data->mem;
    c.bufferSize = &f->bytes;
    c.doublePrecision = use_double ? 1 : 0;
    VkFFTResult r = initializeVkFFT(&f->app, c);
    if (r != VKFFT_SUCCESS) {
        deleteVkFFT(&f->app);
        free(f);
        return vkfft_fail(r, "plan", n);
    }
    f->initialized = 1;
    *out = f;
    return FS_OK;
}

fs_status fs_cl_fft_exec(gpu_fft *fft, int direction)
{
    if (direction != -1 && direction != 1)
        return fs_fail(FS_ERR_INVALID, "FFT direction %d (must be -1 forward or +1 backward)", direction);
    gpu_device *dev = fft->dev;
    double t0 = 0;
    fs_status st;
    if (dev->profiling) {
        if ((st = CL_CALL(clFinish(dev->queue)))) return st;
        t0 = wall_seconds();
    }
    VkFFTLaunchParams lp = {0};
    lp.commandQueue = &dev->queue;
    lp.buffer = &fft->data->mem;
    VkFFTResult r = VkFFTAppend(&fft->app, direction, &lp);
    if (r != VKFFT_SUCCESS) return vkfft_fail(r, "transform", fft->n);
    if (dev->profiling) {
        if ((st = CL_CALL(clFinish(dev->queue)))) return st;
        if (fft->epoch != dev->timer_epoch) fft->epoch = dev->timer_epoch, fft->seconds = 0, fft->launches = 0;
        fft->seconds += wall_seconds() - t0;
        fft->launches++;
    }
    return FS_OK;
}

void fs_cl_fft_release(gpu_fft **fft)
{
    if (!fft || !*fft) return;
    if ((*fft)->initialized) deleteVkFFT(&(*fft)->app);
    free(*fft);
    *fft = NULL;
}

double fs_cl_fft_time(const gpu_fft *fft, long *launches)
{
    int current = fft->epoch == fft->dev->timer_epoch;
    if (launches) *launches = current ? fft->launches : 0;
    return current ? fft->seconds : 0;
}

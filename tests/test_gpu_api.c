/*
 * test_gpu_api.c — the OpenCL implementation of the device API (kernels/gpu/gpu_api.h), on whatever OpenCL device
 * the machine has (PoCL on the CPU in CI). No device is a failure, not a skip.
 *
 * 1. Devices: available(), list() and open(-1) agree; the info fields are filled.
 * 2. Memory: write/read round trip at an offset, fill_zero, copy; an allocation past the device's largest is
 *    FS_ERR_NOMEM. Control: a read past the end is refused.
 * 3. Build errors: a source with an undeclared identifier fails with FS_ERR_INVALID and the compiler's complaint
 *    (the identifier's name) in the message.
 * 4. The dialect: 2^16 values summed with ATOMIC_ADD_FIXED give the host's integer sum bit for bit; int atomics on
 *    work-group memory (add, max, min) and sizeof(real) by USE_DOUBLE. Control: the host sum of the values rounded
 *    to float first differs, so the comparison sees one unit of 2^-32.
 * 5. Kernel arguments of every kind: int, long, float, double, a float4 (16 bytes) and a double4 (32 bytes) read
 *    back through a kernel. Control: an argument index past the last is refused with CL_INVALID_ARG_INDEX.
 * 6. Profiling: launches are counted and timed per kernel; reset_timers() zeroes them.
 * 7. FFT (VkFFT): forward transforms of 12x10x13 and 28x28x28 grids against FFTW, float (relative error of the
 *    transform < 1e-5) and double (< 1e-12); forward then backward returns N times the input; 52^3, 25x32x20 run.
 *    Control: FFTW's backward transform (the other sign) does not match exec(-1).
 */
#include <fftw3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/gpu/gpu_api.h"
#include "support/fs_test.h"

static const gpu_api *api = &fs_gpu_api_opencl;
static gpu_device *dev;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check(fs_status st)
{
    if (st != FS_OK) fail_msg("%s: %s", fs_status_name(st), fs_error_message());
}

static int setup(void **state)
{
    (void)state;
    fs_status st = api->open(-1, 1, &dev);
    if (st) fprintf(stderr, "no OpenCL device: %s\n", fs_error_message());
    return st == FS_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    api->close(&dev);
    return dev == NULL ? 0 : -1;
}

/* Builds `source` with "#define USE_DOUBLE <d>" and reports the time taken. */
static gpu_program *build(const char *source, int use_double)
{
    char defines[64];
    snprintf(defines, sizeof defines, "#define USE_DOUBLE %d\n", use_double);
    gpu_program *prog = NULL;
    double t0 = now();
    check(api->build(dev, defines, source, &prog));
    print_message("build: %.3f s\n", now() - t0);
    return prog;
}

static void test_devices(void **state)
{
    (void)state;
    check(api->available());
    gpu_device_info list[8];
    int n = 0;
    check(api->list(list, 8, &n));
    assert_true(n >= 1);
    const gpu_device_info *info = api->info(dev);
    print_message("device: %s (%s), cpu %d, %d compute units, group <= %zu, %.1f GiB\n", info->name, info->platform,
                  info->is_cpu, info->compute_units, info->max_local_size, (double)info->global_mem / (1 << 30));
    assert_true(info->name[0] != '\0' && info->platform[0] != '\0');
    assert_true(info->has_double && info->compute_units > 0 && info->max_local_size > 0 && info->global_mem > 0);
    int found = 0;
    for (int i = 0; i < n; i++) found |= strcmp(list[i].name, info->name) == 0;
    assert_true(found);
    gpu_device *none = (gpu_device *)1;
    assert_int_equal(api->open(n, 0, &none), FS_ERR_INVALID);
    assert_null(none);
}

static void test_memory(void **state)
{
    (void)state;
    enum { N = 4099 };
    unsigned char *a = malloc(N), *b = malloc(N);
    for (int i = 0; i < N; i++) a[i] = (unsigned char)(i * 7 + 3);
    gpu_buf *x = NULL, *y = NULL, *empty = NULL;
    check(api->alloc(dev, N, &x));
    check(api->alloc(dev, N, &y));
    check(api->alloc(dev, 0, &empty));
    check(api->write(dev, x, 0, N, a));
    memset(b, 0, N);
    check(api->read(dev, x, 0, N, b));
    assert_memory_equal(a, b, N);
    check(api->write(dev, x, 100, 50, a)); /* offsets */
    check(api->read(dev, x, 100, 50, b + 100));
    assert_memory_equal(a, b + 100, 50);
    check(api->copy(dev, y, x, N)); /* copy, then zero part of the source: the copy keeps its bytes */
    check(api->fill_zero(dev, x, 1001));
    check(api->read(dev, x, 0, N, b));
    for (int i = 0; i < 1001; i++) assert_int_equal(b[i], 0);
    assert_int_equal(b[1001], a[1001]);
    check(api->read(dev, y, 0, N, b));
    assert_int_equal(b[100], a[0]);
    assert_memory_equal(a + 150, b + 150, N - 150);
    /* more than the device can allocate: FS_ERR_NOMEM, and nothing created */
    gpu_buf *huge = (gpu_buf *)1;
    assert_int_equal(api->alloc(dev, (size_t)1 << 62, &huge), FS_ERR_NOMEM);
    assert_null(huge);
    print_message("huge allocation: %s\n", fs_error_message());
    /* control: out of range */
    assert_int_equal(api->read(dev, x, N - 10, 11, b), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "outside"));
    api->release(&x);
    api->release(&y);
    api->release(&empty);
    assert_null(x);
    api->release(&x); /* NULL is fine */
    free(a), free(b);
}

static void test_build_error(void **state)
{
    (void)state;
    gpu_program *prog = (gpu_program *)1;
    fs_status st = api->build(dev, "#define USE_DOUBLE 0\n",
                              "KERNEL void t_bad(GLOBAL int *out) { out[0] = quux_undeclared + 1; }\n", &prog);
    assert_int_equal(st, FS_ERR_INVALID);
    assert_null(prog);
    print_message("build error message: %.300s\n", fs_error_message());
    assert_non_null(strstr(fs_error_message(), "CL_BUILD_PROGRAM_FAILURE"));
    assert_non_null(strstr(fs_error_message(), "quux_undeclared"));
    /* control: the same program without the error builds */
    prog = build("KERNEL void t_good(GLOBAL int *out) { out[0] = 1; }\n", 0);
    assert_non_null(prog);
    gpu_kernel *k = (gpu_kernel *)1;
    assert_int_equal(api->kernel(prog, "t_missing", &k), FS_ERR_INVALID);
    assert_null(k);
    assert_non_null(strstr(fs_error_message(), "CL_INVALID_KERNEL_NAME"));
    api->program_release(&prog);
    assert_null(prog);
}

static const char dialect_source[] =
    "#define FIXED_SCALE 4294967296.0\n"
    "KERNEL void t_fixed_sum(GLOBAL const mixed *RESTRICT x, int n, GLOBAL fixed_t *sum, GLOBAL int *ints)\n"
    "{\n"
    "    LOCAL int group_ints[3];\n"
    "    if (LOCAL_ID == 0) { group_ints[0] = 0; group_ints[1] = -2147483647; group_ints[2] = 2147483647; }\n"
    "    SYNC_THREADS;\n"
    "    for (int i = GLOBAL_ID; i < n; i += GLOBAL_SIZE) {\n"
    "        ATOMIC_ADD_FIXED(sum, (fixed_t)(x[i] * (mixed)FIXED_SCALE));\n"
    "        ATOMIC_ADD_INT(&group_ints[0], 1);\n"
    "        ATOMIC_MAX_INT(&group_ints[1], i);\n"
    "        ATOMIC_MIN_INT(&group_ints[2], i);\n"
    "    }\n"
    "    SYNC_THREADS;\n"
    "    if (LOCAL_ID == 0) {\n"
    "        ATOMIC_ADD_INT(&ints[0], group_ints[0]);\n"
    "        ATOMIC_MAX_INT(&ints[1], group_ints[1]);\n"
    "        ATOMIC_MIN_INT(&ints[2], group_ints[2]);\n"
    "        if (GROUP_ID == 0) ints[3] = (int)sizeof(real) + 100 * NUM_GROUPS + 10000 * LOCAL_SIZE;\n"
    "        if (GROUP_ID == 0) ints[4] = (int)(RSQRT((real)4) * (real)1000);\n"
    "    }\n"
    "}\n";

static void run_fixed_sum(int use_double)
{
    enum { N = 1 << 16, GROUP = 64, GROUPS = 32 };
    double *x = malloc(N * sizeof *x);
    int64_t want = 0, want_float = 0, got = 0;
    for (int i = 0; i < N; i++) {
        x[i] = sin(0.37 * i) * (1 + (i % 13)) / 3.0;
        want += (int64_t)(x[i] * 4294967296.0);
        want_float += (int64_t)((double)(float)x[i] * 4294967296.0);
    }
    gpu_program *prog = build(dialect_source, use_double);
    gpu_kernel *k = NULL;
    check(api->kernel(prog, "t_fixed_sum", &k));
    gpu_buf *bx = NULL, *bsum = NULL, *bints = NULL;
    check(api->alloc(dev, N * sizeof *x, &bx));
    check(api->alloc(dev, sizeof got, &bsum));
    check(api->alloc(dev, 5 * sizeof(int), &bints));
    int ints[5] = {0, -2147483647, 2147483647, 0, 0}, n = N;
    check(api->write(dev, bx, 0, N * sizeof *x, x));
    check(api->fill_zero(dev, bsum, sizeof got));
    check(api->write(dev, bints, 0, sizeof ints, ints));
    check(api->arg_buf(k, 0, bx));
    check(api->arg(k, 1, sizeof n, &n));
    check(api->arg_buf(k, 2, bsum));
    check(api->arg_buf(k, 3, bints));
    check(api->launch(dev, k, GROUP * GROUPS, GROUP));
    check(api->read(dev, bsum, 0, sizeof got, &got));
    check(api->read(dev, bints, 0, sizeof ints, ints));
    print_message("USE_DOUBLE %d: fixed sum %lld, host %lld (float-rounded host %lld)\n", use_double, (long long)got,
                  (long long)want, (long long)want_float);
    assert_true(got == want);
    assert_false(got == want_float); /* control */
    assert_int_equal(ints[0], N);
    assert_int_equal(ints[1], N - 1);
    assert_int_equal(ints[2], 0);
    assert_int_equal(ints[3], (use_double ? 8 : 4) + 100 * GROUPS + 10000 * GROUP);
    assert_int_equal(ints[4], 500);
    api->release(&bx), api->release(&bsum), api->release(&bints);
    api->kernel_release(&k);
    assert_null(k);
    api->program_release(&prog);
    free(x);
}

static void test_dialect(void **state)
{
    (void)state;
    run_fixed_sum(0);
    run_fixed_sum(1);
}

typedef struct {
    float x, y, z, w;
} float4_host;
typedef struct {
    double x, y, z, w;
} double4_host;

static void test_kernel_args(void **state)
{
    (void)state;
    gpu_program *prog = build("KERNEL void t_args(int i, long l, float f, double d, real4 r, mixed4 m, "
                              "GLOBAL double *out)\n"
                              "{\n"
                              "    if (GLOBAL_ID != 0) return;\n"
                              "    out[0] = i; out[1] = l; out[2] = f; out[3] = d;\n"
                              "    out[4] = r.x; out[5] = r.y; out[6] = r.z; out[7] = r.w;\n"
                              "    out[8] = m.x; out[9] = m.y; out[10] = m.z; out[11] = m.w;\n"
                              "    out[12] = sizeof(real4); out[13] = sizeof(mixed4);\n"
                              "}\n",
                              0);
    gpu_kernel *k = NULL;
    check(api->kernel(prog, "t_args", &k));
    gpu_buf *out = NULL;
    check(api->alloc(dev, 14 * sizeof(double), &out));
    int i = -123456;
    long l = 1L << 40;
    float f = 0.1f;
    double d = 1.0 / 3.0;
    float4_host r = {1.5f, -2.25f, 3.125f, 0.1f};
    double4_host m = {1e-300, -1.0 / 7.0, 1e300, 0.1};
    check(api->arg(k, 0, sizeof i, &i));
    check(api->arg(k, 1, sizeof l, &l));
    check(api->arg(k, 2, sizeof f, &f));
    check(api->arg(k, 3, sizeof d, &d));
    check(api->arg(k, 4, sizeof r, &r));
    check(api->arg(k, 5, sizeof m, &m));
    check(api->arg_buf(k, 6, out));
    check(api->launch(dev, k, 8, 0));
    double got[14];
    check(api->read(dev, out, 0, sizeof got, got));
    double want[14] = {i, (double)l, f, d, r.x, r.y, r.z, r.w, m.x, m.y, m.z, m.w, 16, 32};
    for (int j = 0; j < 14; j++) {
        if (got[j] != want[j]) fail_msg("argument slot %d: got %.17g, want %.17g", j, got[j], want[j]);
    }
    /* control: an argument index the kernel does not have */
    assert_int_equal(api->arg(k, 7, sizeof i, &i), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "CL_INVALID_ARG_INDEX"));
    /* a global size that is not a multiple of the group */
    assert_int_equal(api->launch(dev, k, 10, 4), FS_ERR_INVALID);
    api->release(&out);
    api->kernel_release(&k);
    api->program_release(&prog);
}

static void test_profiling(void **state)
{
    (void)state;
    gpu_program *prog = build("KERNEL void t_busy(GLOBAL real *out)\n"
                              "{\n"
                              "    real s = (real)0;\n"
                              "    for (int j = 0; j < 2000; j++) s += sqrt((real)(j + GLOBAL_ID));\n"
                              "    out[GLOBAL_ID] = s;\n"
                              "}\n",
                              0);
    gpu_kernel *k = NULL;
    check(api->kernel(prog, "t_busy", &k));
    gpu_buf *out = NULL;
    check(api->alloc(dev, 1024 * sizeof(float), &out));
    check(api->arg_buf(k, 0, out));
    api->reset_timers(dev);
    for (int j = 0; j < 3; j++) check(api->launch(dev, k, 1024, 64));
    check(api->finish(dev));
    long launches = 0;
    double t = api->kernel_time(k, &launches);
    print_message("t_busy: %ld launches, %.3f ms\n", launches, 1e3 * t);
    assert_int_equal(launches, 3);
    assert_true(t > 0);
    api->reset_timers(dev);
    assert_true(api->kernel_time(k, &launches) == 0 && launches == 0);
    check(api->launch(dev, k, 1024, 64));
    assert_true(api->kernel_time(k, &launches) > 0 && launches == 1);
    api->release(&out);
    api->kernel_release(&k);
    api->program_release(&prog);
}

/* ||a - b|| / ||b|| over n complex numbers. */
static double rel_error(const double *a, const double *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < 2 * n; i++) num += (a[i] - b[i]) * (a[i] - b[i]), den += b[i] * b[i];
    return sqrt(num / den);
}

/* Forward transform on the device against FFTW, then back; returns the forward error. */
static double check_fft(int n0, int n1, int n2, int use_double, double tol)
{
    const int n[3] = {n0, n1, n2};
    size_t N = (size_t)n0 * n1 * n2, elem = use_double ? sizeof(double) : sizeof(float);
    fftw_complex *in = fftw_malloc(N * sizeof *in), *want = fftw_malloc(N * sizeof *want);
    fftw_complex *other = fftw_malloc(N * sizeof *other);
    double *got = malloc(2 * N * sizeof *got), *back = malloc(2 * N * sizeof *back);
    void *host = malloc(2 * N * elem);
    srand(12345);
    for (size_t i = 0; i < N; i++) {
        in[i][0] = rand() / (double)RAND_MAX - 0.5, in[i][1] = rand() / (double)RAND_MAX - 0.5;
        if (!use_double) in[i][0] = (float)in[i][0], in[i][1] = (float)in[i][1];
    }
    fftw_plan fwd = fftw_plan_dft_3d(n0, n1, n2, in, want, FFTW_FORWARD, FFTW_ESTIMATE);
    fftw_plan bwd = fftw_plan_dft_3d(n0, n1, n2, in, other, FFTW_BACKWARD, FFTW_ESTIMATE);
    fftw_execute(fwd), fftw_execute(bwd);

    for (size_t i = 0; i < 2 * N; i++) {
        double v = ((double *)in)[i];
        if (use_double)
            ((double *)host)[i] = v;
        else
            ((float *)host)[i] = (float)v;
    }
    gpu_buf *buf = NULL;
    gpu_fft *fft = NULL;
    check(api->alloc(dev, 2 * N * elem, &buf));
    check(api->write(dev, buf, 0, 2 * N * elem, host));
    double t0 = now();
    check(api->fft_create(dev, n, use_double, buf, &fft));
    double t_plan = now() - t0;
    api->reset_timers(dev);
    check(api->fft_exec(fft, -1));
    check(api->read(dev, buf, 0, 2 * N * elem, host));
    for (size_t i = 0; i < 2 * N; i++) got[i] = use_double ? ((double *)host)[i] : ((float *)host)[i];
    check(api->fft_exec(fft, +1));
    check(api->read(dev, buf, 0, 2 * N * elem, host));
    for (size_t i = 0; i < 2 * N; i++) back[i] = (use_double ? ((double *)host)[i] : ((float *)host)[i]) / (double)N;
    long launches = 0;
    double t_exec = api->fft_time(fft, &launches);

    double e_fwd = rel_error(got, (double *)want, N), e_back = rel_error(back, (double *)in, N);
    double e_sign = rel_error(got, (double *)other, N);
    print_message("fft %dx%dx%d %s: forward %.2e, round trip %.2e, other sign %.2e; plan %.2f s, %ld exec %.1f ms\n",
                  n0, n1, n2, use_double ? "double" : "float", e_fwd, e_back, e_sign, t_plan, launches, 1e3 * t_exec);
    assert_true(e_fwd < tol);
    assert_true(e_back < tol);
    assert_false(e_sign < tol); /* control: the other sign convention does not match */
    assert_int_equal(launches, 2);
    api->fft_release(&fft);
    assert_null(fft);
    api->release(&buf);
    fftw_destroy_plan(fwd), fftw_destroy_plan(bwd);
    fftw_free(in), fftw_free(want), fftw_free(other);
    free(got), free(back), free(host);
    return e_fwd;
}

static void test_fft_float(void **state)
{
    (void)state;
    check_fft(12, 10, 13, 0, 1e-5);
    check_fft(28, 28, 28, 0, 1e-5);
}

static void test_fft_double(void **state)
{
    (void)state;
    check_fft(12, 10, 13, 1, 1e-12);
    check_fft(28, 28, 28, 1, 1e-12);
}

static void test_fft_pme_sizes(void **state)
{
    (void)state;
    check_fft(25, 32, 20, 0, 1e-5);
    check_fft(52, 52, 52, 0, 1e-5);
    /* a buffer too small for the grid is refused */
    gpu_buf *buf = NULL;
    gpu_fft *fft = (gpu_fft *)1;
    check(api->alloc(dev, 100, &buf));
    assert_int_equal(api->fft_create(dev, (const int[3]){4, 4, 4}, 0, buf, &fft), FS_ERR_INVALID);
    assert_null(fft);
    api->release(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devices),   cmocka_unit_test(test_memory),      cmocka_unit_test(test_build_error),
        cmocka_unit_test(test_dialect),   cmocka_unit_test(test_kernel_args), cmocka_unit_test(test_profiling),
        cmocka_unit_test(test_fft_float), cmocka_unit_test(test_fft_double),  cmocka_unit_test(test_fft_pme_sizes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

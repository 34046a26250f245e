/*
 * test_cuda_nvrtc.c — the CUDA backend without a GPU: every device kernel compiles with NVRTC, and the API module
 * reports a machine without a driver instead of failing on it.
 *
 * CI has the CUDA toolkit but no GPU, so what can be checked there is what NVRTC checks: the whole program (the
 * #defines gpu_build_defines makes for real systems, the CUDA prelude, every .kernel file of kernels/common as embedded
 * at build time) compiles with no error and no warning (NVRTC has no -Werror: any warning in its log fails the test),
 * and the PTX has an .entry for every name of fs_gpu_kernel_names. bonded/a (combination rule 1, PME order 4)
 * compiles for sm_80 and sm_90 down to machine code (so ptxas runs too), in mixed and in double precision; bonded/b
 * (rule 2, PME order 5, dispersion correction) and SPC/E water (SETTLE) compile to PTX for compute_90 in both
 * precisions: their #defines differ, which matters to the front end, not to the assembler (and the suite stays
 * short). The sanitizer build, where NVRTC runs about twice as slowly and what is under test is the host code, compiles
 * bonded/a only (the Release build compiles everything).
 *
 * The dialect itself: a probe kernel that uses every macro and type of kernels/common/README.md compiles in both
 * precisions, with static_asserts on the sizes and alignments the host relies on (real4 16 or 32 bytes, mixed4 32,
 * fixed_t 8), and in mixed precision its PTX converts no float to double: sqrt, exp, erfc ... on `real` resolve to
 * the float overloads. Controls: a kernel that calls sqrt((double)x) is seen converting, and the probe in double
 * precision is f64 arithmetic.
 *
 * Negative controls: a broken line appended to a clean source fails with FS_ERR_INVALID and a log that names the file,
 * the line and the identifier; an unused variable compiles but leaves a warning the check catches; the .entry check
 * does not find a kernel that is not there.
 *
 * The device: on a machine without an NVIDIA driver, available(), list() and open() return FS_ERR_UNAVAILABLE with
 * the reason. Where a GPU is present, a smoke test runs instead: buffers round trip, a kernel sums with
 * ATOMIC_ADD_FIXED bit for bit, a wrong argument size is refused (drivers of CUDA 12.4+), and cuFFT's forward transform
 * matches a direct DFT and forward then backward gives N times the input, in float and double.
 */
#include "support/fs_test.h"

#ifdef FS_HAVE_CUDA

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forcefields/gromacs_input.h"
#include "kernels/cuda/cuda_api.h"
#include "kernels/gpu/gpu_api.h"
#include "kernels/gpu/gpu_backend_impl.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The program's #defines for a system (topology, coordinates, parameters: NULL for the defaults), as the backend
 * makes them. Returns malloc'ed text. */
static char *system_defines(const char *top, const char *gro, const char *mdp, int use_double)
{
    fs_mdp m;
    fs_mdp_init(&m);
    if (mdp && fs_mdp_read(fs_test_path(mdp), &m, NULL, 0) != FS_OK) fail_msg("%s: %s", mdp, fs_error_message());
    fs_topology *t = NULL;
    fs_state *s = NULL;
    if (fs_gromacs_load(fs_test_path(top), fs_test_path(gro), &m, NULL, 0, &t, &s) != FS_OK)
        fail_msg("%s: %s", top, fs_error_message());
    gpu_defines d;
    if (gpu_build_defines(t, &m.force, s->box.periodic, use_double, &d) != FS_OK || d.oom || !d.text)
        fail_msg("gpu_build_defines(%s): %s", top, fs_error_message());
    fs_state_destroy(&s);
    fs_topology_destroy(&t);
    return d.text;
}

/* 1 if the PTX defines the kernel `name` (".entry name(") */
static int has_entry(const char *ptx, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(ptx, ".entry "); p; p = strstr(p + 1, ".entry ")) {
        const char *q = p + 7;
        while (*q == ' ' || *q == '\t') ++q;
        if (strncmp(q, name, n) == 0 && (q[n] == '(' || q[n] == ' ' || q[n] == '\n')) return 1;
    }
    return 0;
}

/* Prints a long text (an NVRTC log) in pieces: cmocka's messages are of limited length. */
static void print_long(const char *text)
{
    for (size_t n = strlen(text), i = 0; i < n; i += 400) print_error("%.400s", text + i);
    print_error("\n");
}

/* Compiles and fails the test on an error or a warning; returns the PTX. */
static char *compile_clean(const char *arch, const char *defines, const char *source, const char *what)
{
    char *ptx = NULL, *log = NULL;
    fs_status st = fs_cuda_compile(arch, defines, source, &ptx, &log);
    if (st != FS_OK) {
        print_long(log ? log : fs_error_message());
        fail_msg("%s, %s: %s (NVRTC log above)", what, arch, fs_status_name(st));
    }
    if (log && (strstr(log, "warning") || strstr(log, "error"))) {
        print_long(log);
        fail_msg("%s, %s: NVRTC warnings, treated as errors (log above)", what, arch);
    }
    free(log);
    assert_non_null(ptx);
    return ptx;
}

/* ---- 1. every kernel, for real systems ---------------------------------------------------------------------- */

static void test_all_kernels_compile(void **state)
{
    (void)state;
    static const struct {
        const char *top, *gro, *mdp;
        int all_archs; /* 0: compute_90 only (PTX: the front end, which is what the #defines change) */
    } systems[] = {
        {"tests/data/bonded/a/topol.top", "tests/data/bonded/a/conf.gro", "tests/data/bonded/a/run.mdp", 1},
        {"tests/data/bonded/b/topol.top", "tests/data/bonded/b/conf.gro", "tests/data/bonded/b/run.mdp", 0},
        {"tests/data/cli/water.top", "tests/data/cli/water.gro", NULL, 0},
    };
    static const char *const archs[] = {"sm_80", "sm_90", "compute_90"};
#if defined(__SANITIZE_ADDRESS__)
    const size_t nsystems = 1;
    print_message("sanitizer build: bonded/a only\n");
#else
    const size_t nsystems = sizeof systems / sizeof systems[0];
#endif
    int nkernels = 0;
    while (fs_gpu_kernel_names[nkernels]) ++nkernels;
    print_message("%d kernels in %zu bytes of source\n", nkernels, strlen(fs_gpu_kernel_source));

    for (size_t s = 0; s < nsystems; ++s)
        for (int use_double = 0; use_double <= 1; ++use_double) {
            char *defines = system_defines(systems[s].top, systems[s].gro, systems[s].mdp, use_double);
            assert_non_null(strstr(defines, use_double ? "USE_DOUBLE 1" : "USE_DOUBLE 0"));
            for (int a = systems[s].all_archs ? 0 : 2; a < (systems[s].all_archs ? 2 : 3); ++a) {
                char what[600];
                snprintf(what, sizeof what, "%s, %s precision", systems[s].top, use_double ? "double" : "mixed");
                double t0 = now();
                char *ptx = compile_clean(archs[a], defines, fs_gpu_kernel_source, what);
                int missing = 0;
                for (int k = 0; k < nkernels; ++k)
                    if (!has_entry(ptx, fs_gpu_kernel_names[k])) {
                        print_error("%s, %s: no .entry for kernel %s\n", what, archs[a], fs_gpu_kernel_names[k]);
                        missing++;
                    }
                print_message("%-32s %-6s %-10s %3d entries, %7zu bytes of PTX, %.2f s\n", systems[s].top,
                              use_double ? "double" : "mixed", archs[a], nkernels - missing, strlen(ptx), now() - t0);
                free(ptx);
                if (missing) fail_msg("%d kernels missing from the PTX", missing);
            }
            free(defines);
        }
}

/* ---- 2. the dialect ---------------------------------------------------------------------------------------------- */

static const char probe_source[] =
    "#line 1 \"probe.kernel\"\n"
    "static_assert(sizeof(real) == (USE_DOUBLE ? 8 : 4), \"real\");\n"
    "static_assert(sizeof(real2) == 2 * sizeof(real) && alignof(real2) == 2 * sizeof(real), \"real2\");\n"
    "static_assert(sizeof(real4) == 4 * sizeof(real) && alignof(real4) == 4 * sizeof(real), \"real4\");\n"
    "static_assert(sizeof(mixed) == 8 && sizeof(mixed4) == 32 && alignof(mixed4) == 32, \"mixed4\");\n"
    "static_assert(sizeof(fixed_t) == 8 && sizeof(ulong) == 8 && sizeof(uint) == 4, \"integers\");\n"
    "DEVICE real probe_math(real r)\n"
    "{\n"
    "    return sqrt(r) + RSQRT(r) + exp(-r) + log(r) + erf(r) + erfc(r) + sin(r) + cos(r) + acos(r) +\n"
    "           atan2(r, (real)2) + fabs(r) + floor(r) + rint(r) + fmin(r, (real)1) + fmax(r, (real)1);\n"
    "}\n"
    "KERNEL void probe_real(GLOBAL const real4 *RESTRICT in, GLOBAL real *RESTRICT out, real4 box, int n)\n"
    "{\n"
    "    LOCAL real part[64];\n"
    "    int i = GLOBAL_ID;\n"
    "    real v = (real)0;\n"
    "    if (i < n) {\n"
    "        real4 a = in[i];\n"
    "        real2 b = make_real2(a.x, a.y);\n"
    "        real4 c = make_real4(b.x, b.y, a.z - box.z * rint(a.z / box.z), a.w);\n"
    "        v = probe_math(c.x + c.y + c.z + c.w) + (real)M_PI;\n"
    "    }\n"
    "    part[LOCAL_ID] = v;\n"
    "    SYNC_THREADS;\n"
    "    if (LOCAL_ID == 0 && GROUP_ID < NUM_GROUPS)\n"
    "        out[GROUP_ID] = part[LOCAL_SIZE - 1] + (real)GLOBAL_SIZE;\n"
    "}\n"
    "KERNEL void probe_promoted(GLOBAL const real *RESTRICT in, GLOBAL real *RESTRICT out)\n"
    "{\n"
    "    out[GLOBAL_ID] = (real)sqrt((double)in[GLOBAL_ID]);\n"
    "}\n"
    "KERNEL void probe_atomics(GLOBAL const mixed4 *RESTRICT pos, GLOBAL fixed_t *RESTRICT sums,\n"
    "                          GLOBAL int *RESTRICT flags, int n)\n"
    "{\n"
    "    LOCAL fixed_t group_sum[1];\n"
    "    LOCAL int group_max[1];\n"
    "    int i = GLOBAL_ID;\n"
    "    if (LOCAL_ID == 0) { group_sum[0] = 0; group_max[0] = INT_MIN; }\n"
    "    SYNC_THREADS;\n"
    "    if (i < n) {\n"
    "        mixed4 p = pos[i];\n"
    "        mixed4 q = make_mixed4(p.x, p.y, p.z, (mixed)0);\n"
    "        ATOMIC_ADD_FIXED(&group_sum[0], (fixed_t)((q.x + q.y + q.z) * (mixed)4294967296.0));\n"
    "        ATOMIC_MAX_INT(&group_max[0], i);\n"
    "        ATOMIC_MIN_INT(&flags[1], i);\n"
    "    }\n"
    "    SYNC_THREADS;\n"
    "    if (LOCAL_ID == 0) {\n"
    "        ATOMIC_ADD_FIXED(&sums[0], group_sum[0]);\n"
    "        ATOMIC_ADD_FIXED(&sums[1], (fixed_t)((real)group_sum[0] * (real)0.5));\n"
    "        ATOMIC_MAX_INT(&flags[0], group_max[0]);\n"
    "        ATOMIC_ADD_INT(&flags[2], 1);\n"
    "    }\n"
    "}\n";

/* The PTX of one kernel: from its .entry to the next .entry (or the end), NUL-terminated copy. */
static char *entry_body(const char *ptx, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, ".entry %s(", name);
    const char *b = strstr(ptx, key);
    if (!b) return NULL;
    const char *e = strstr(b + 1, ".entry ");
    size_t n = e ? (size_t)(e - b) : strlen(b);
    char *out = malloc(n + 1);
    memcpy(out, b, n);
    out[n] = '\0';
    return out;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) ++n;
    return n;
}

/* f64 arithmetic in PTX text: add/sub/mul/fma/div/sqrt .f64 instructions. */
static int f64_ops(const char *ptx)
{
    static const char *const ops[] = {"add.f64",     "sub.f64",    "mul.f64",    "fma.rn.f64", "div.rn.f64",
                                      "sqrt.rn.f64", "add.rn.f64", "mul.rn.f64", "sub.rn.f64"};
    int n = 0;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; ++i) n += count(ptx, ops[i]);
    return n;
}

static void test_dialect(void **state)
{
    (void)state;
    int promoted[2] = {0, 0}, control = 0, f64[2] = {0, 0};
    for (int use_double = 0; use_double <= 1; ++use_double) {
        char defines[64];
        snprintf(defines, sizeof defines, "#define USE_DOUBLE %d\n", use_double);
        char *ptx = compile_clean("sm_90", defines, probe_source, use_double ? "probe, double" : "probe, mixed");
        assert_true(has_entry(ptx, "probe_real"));
        assert_true(has_entry(ptx, "probe_promoted"));
        assert_true(has_entry(ptx, "probe_atomics"));
        char *body = entry_body(ptx, "probe_real");
        assert_non_null(body);
        promoted[use_double] = count(body, "cvt.f64.f32");
        f64[use_double] = f64_ops(body);
        if (!use_double) {
            char *p = entry_body(ptx, "probe_promoted");
            control = count(p, "cvt.f64.f32");
            free(p);
        }
        /* 64-bit atomics on device and on shared memory */
        char *atom = entry_body(ptx, "probe_atomics");
        assert_non_null(atom);
        assert_non_null(strstr(atom, "atom.global.add.u64"));
        assert_non_null(strstr(atom, "atom.shared.add.u64"));
        free(atom);
        free(body);
        free(ptx);
    }
    print_message("probe_real: %d float-to-double conversions and %d f64 operations (mixed; the f64 ones are sinf's "
                  "argument reduction), %d f64 operations (double); probe_promoted (control): %d conversions\n",
                  promoted[0], f64[0], f64[1], control);
    assert_int_equal(promoted[0], 0); /* the float overloads in mixed precision: no promotion to double */
    assert_true(f64[0] <= 4);         /* at most sinf/cosf's Payne-Hanek reduction (an integer times 2^-64 pi) */
    assert_true(control > 0);         /* control: a double function of a float is seen */
    assert_true(f64[1] > 10);         /* control: the same code in double precision is f64 */
}

/* ---- 3. negative controls --------------------------------------------------------------------------------------- */

static void test_broken_source_fails(void **state)
{
    (void)state;
    char *defines = system_defines("tests/data/bonded/a/topol.top", "tests/data/bonded/a/conf.gro",
                                   "tests/data/bonded/a/run.mdp", 0);
    static const char broken[] = "\n#line 1 \"broken.kernel\"\n"
                                 "KERNEL void util_broken(GLOBAL int *out)\n"
                                 "{\n"
                                 "    out[GLOBAL_ID] = undeclared_probe_value;\n"
                                 "}\n";
    /* after the probe (which compiles cleanly; independent of what kernels/common holds at the time) */
    size_t n = sizeof probe_source + sizeof broken;
    char *source = malloc(n);
    snprintf(source, n, "%s%s", probe_source, broken);
    char *ptx = NULL, *log = NULL;
    fs_status st = fs_cuda_compile("sm_90", defines, source, &ptx, &log);
    assert_int_equal(st, FS_ERR_INVALID);
    assert_null(ptx);
    assert_non_null(log);
    print_message("log of the broken source: %.200s\n", log);
    assert_non_null(strstr(log, "broken.kernel(3)"));
    assert_non_null(strstr(log, "undeclared_probe_value"));
    assert_non_null(strstr(fs_error_message(), "undeclared_probe_value"));
    free(log);

    /* a warning compiles, and the clean-compile check sees it */
    static const char warns[] = "\n#line 1 \"warns.kernel\"\n"
                                "KERNEL void util_warns(GLOBAL int *out)\n"
                                "{\n"
                                "    int unused_probe_variable;\n"
                                "    out[GLOBAL_ID] = 1;\n"
                                "}\n";
    snprintf(source, n, "%s", warns);
    assert_int_equal(fs_cuda_compile("sm_90", defines, source, &ptx, &log), FS_OK);
    assert_non_null(strstr(log, "warning"));
    assert_non_null(strstr(log, "unused_probe_variable"));
    assert_true(has_entry(ptx, "util_warns"));
    assert_false(has_entry(ptx, "util_warn"));           /* a prefix is not a match */
    assert_false(has_entry(ptx, "util_no_such_kernel")); /* the .entry check can fail */
    free(ptx);
    free(log);

    /* an architecture that is not one */
    assert_int_equal(fs_cuda_compile("gfx90a", defines, fs_gpu_kernel_source, &ptx, NULL), FS_ERR_INVALID);
    assert_null(ptx);
    free(source);
    free(defines);
}

/* ---- 4. the device, or its absence ------------------------------------------------------------------------------ */

static void must(fs_status st)
{
    if (st != FS_OK) fail_msg("%s: %s", fs_status_name(st), fs_error_message());
}

static const char smoke_source[] =
    "#line 1 \"smoke.kernel\"\n"
    "KERNEL void smoke_sum(GLOBAL const mixed4 *RESTRICT x, GLOBAL fixed_t *sum, "
    "real scale, int n)\n"
    "{\n"
    "    int i = GLOBAL_ID;\n"
    "    if (i < n) ATOMIC_ADD_FIXED(&sum[0], (fixed_t)(x[i].x * (mixed)scale * (mixed)4294967296.0));\n"
    "}\n";

static void smoke_fft(gpu_device *dev, int use_double)
{
    const gpu_api *api = &fs_gpu_api_cuda;
    const int n[3] = {6, 5, 8};
    const int total = n[0] * n[1] * n[2];
    size_t elem = use_double ? sizeof(double) : sizeof(float);
    double *x = malloc(2 * (size_t)total * sizeof *x), *y = malloc(2 * (size_t)total * sizeof *y);
    unsigned char *raw = malloc(2 * (size_t)total * elem);
    for (int i = 0; i < 2 * total; ++i) x[i] = sin(0.37 * i + 0.1) + 0.25 * cos(1.3 * i);
    for (int i = 0; i < 2 * total; ++i) {
        if (use_double)
            ((double *)raw)[i] = x[i];
        else
            ((float *)raw)[i] = (float)x[i];
    }
    gpu_buf *buf = NULL;
    gpu_fft *fft = NULL;
    must(api->alloc(dev, 2 * (size_t)total * elem, &buf));
    must(api->write(dev, buf, 0, 2 * (size_t)total * elem, raw));
    must(api->fft_create(dev, n, use_double, buf, &fft));
    must(api->fft_exec(fft, -1));
    must(api->read(dev, buf, 0, 2 * (size_t)total * elem, raw));
    for (int i = 0; i < 2 * total; ++i) y[i] = use_double ? ((double *)raw)[i] : (double)((float *)raw)[i];
    /* direct DFT at a few frequencies, exp(-2 pi i k.x / n), index (x n1 + y) n2 + z */
    const double tol = use_double ? 1e-12 : 1e-5;
    static const int ks[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, 2, 3}, {5, 4, 7}};
    double scale = 0.0;
    for (int i = 0; i < 2 * total; ++i) scale = fmax(scale, fabs(x[i]));
    for (int q = 0; q < 4; ++q) {
        double re = 0.0, im = 0.0;
        for (int a = 0; a < n[0]; ++a)
            for (int b = 0; b < n[1]; ++b)
                for (int c = 0; c < n[2]; ++c) {
                    double ph =
                        -2.0 * M_PI *
                        ((double)ks[q][0] * a / n[0] + (double)ks[q][1] * b / n[1] + (double)ks[q][2] * c / n[2]);
                    int i = (a * n[1] + b) * n[2] + c;
                    re += x[2 * i] * cos(ph) - x[2 * i + 1] * sin(ph);
                    im += x[2 * i] * sin(ph) + x[2 * i + 1] * cos(ph);
                }
        int i = (ks[q][0] * n[1] + ks[q][1]) * n[2] + ks[q][2];
        fs_assert_close(y[2 * i], re, 0.0, tol * scale * total, "FFT real part");
        fs_assert_close(y[2 * i + 1], im, 0.0, tol * scale * total, "FFT imaginary part");
    }
    must(api->fft_exec(fft, +1));
    must(api->read(dev, buf, 0, 2 * (size_t)total * elem, raw));
    for (int i = 0; i < 2 * total; ++i) {
        double v = use_double ? ((double *)raw)[i] : (double)((float *)raw)[i];
        fs_assert_close(v, total * x[i], 0.0, tol * scale * total, "FFT round trip");
    }
    api->fft_release(&fft);
    assert_null(fft);
    api->release(&buf);
    free(raw);
    free(x);
    free(y);
}

static void smoke(void)
{
    const gpu_api *api = &fs_gpu_api_cuda;
    gpu_device *dev = NULL;
    must(api->open(-1, 1, &dev));
    const gpu_device_info *info = api->info(dev);
    print_message("CUDA device: %s, %s, %d SMs, %zu MiB\n", info->name, info->platform, info->compute_units,
                  info->global_mem >> 20);

    /* buffers: write at an offset, read back, fill, copy */
    enum { N = 1000 };
    double *pos = calloc(4 * N, sizeof *pos), *back = calloc(4 * N, sizeof *back);
    for (int i = 0; i < 4 * N; ++i) pos[i] = 0.001 * i - 1.5;
    gpu_buf *x = NULL, *y = NULL, *sum = NULL;
    must(api->alloc(dev, 4 * N * sizeof(double), &x));
    must(api->alloc(dev, 4 * N * sizeof(double), &y));
    must(api->alloc(dev, sizeof(int64_t), &sum));
    must(api->write(dev, x, 0, 4 * N * sizeof(double), pos));
    must(api->copy(dev, y, x, 4 * N * sizeof(double)));
    must(api->read(dev, y, 8 * sizeof(double), 8 * sizeof(double), back));
    for (int i = 0; i < 8; ++i) assert_true(back[i] == pos[8 + i]);
    assert_int_equal(api->read(dev, y, 4 * N * sizeof(double) - 8, 16, back), FS_ERR_INVALID);
    must(api->fill_zero(dev, sum, sizeof(int64_t)));

    /* a kernel: the fixed-point sum of x.x is the host's integer sum, bit for bit */
    gpu_program *prog = NULL;
    gpu_kernel *k = NULL;
    must(api->build(dev, "#define USE_DOUBLE 0\n", smoke_source, &prog));
    must(api->kernel(prog, "smoke_sum", &k));
    float scale = 2.0f;
    int n = N;
    double wrong = 2.0;
    must(api->arg_buf(k, 0, x));
    must(api->arg_buf(k, 1, sum));
    fs_status w = api->arg(k, 2, sizeof wrong, &wrong); /* a double for a float */
    if (w == FS_OK)
        print_message("this driver cannot check argument sizes (cuFuncGetParamInfo: CUDA 12.4+)\n");
    else
        assert_int_equal(w, FS_ERR_INVALID);
    must(api->arg(k, 2, sizeof scale, &scale));
    must(api->arg(k, 3, sizeof n, &n));
    must(api->launch(dev, k, 1024, 128));
    must(api->finish(dev));
    int64_t got = 0, want = 0;
    must(api->read(dev, sum, 0, sizeof got, &got));
    for (int i = 0; i < N; ++i) want += (int64_t)(pos[4 * i] * 2.0 * 4294967296.0);
    assert_true(got == want);
    long launches = 0;
    double t = api->kernel_time(k, &launches);
    print_message("smoke_sum: %ld launch, %.1f us\n", launches, 1e6 * t);
    assert_int_equal(launches, 1);
    api->reset_timers(dev);
    assert_true(api->kernel_time(k, &launches) == 0.0 && launches == 0);
    api->kernel_release(&k);
    api->program_release(&prog);

    smoke_fft(dev, 0);
    smoke_fft(dev, 1);

    api->release(&x);
    api->release(&y);
    api->release(&sum);
    api->close(&dev);
    assert_null(dev);
    free(pos);
    free(back);
}

static void test_device_or_reason(void **state)
{
    (void)state;
    const gpu_api *api = &fs_gpu_api_cuda;
    fs_status st = api->available();
    if (st == FS_OK) {
        print_message("a CUDA device is present: smoke test\n");
        smoke();
        return;
    }
    char reason[2048];
    snprintf(reason, sizeof reason, "%s", fs_error_message());
    print_message("cuda: %s: %s\n", fs_status_name(st), reason);
    assert_int_equal(st, FS_ERR_UNAVAILABLE);
    assert_true(strstr(reason, "libcuda.so.1") || strstr(reason, "cuInit") || strstr(reason, "no CUDA device"));
    /* the other entry points say the same, and leave nothing behind */
    gpu_device_info infos[4];
    int count = -1;
    assert_int_equal(api->list(infos, 4, &count), FS_ERR_UNAVAILABLE);
    assert_int_equal(count, 0);
    gpu_device *dev = (gpu_device *)&count; /* must be nulled */
    assert_int_equal(api->open(-1, 0, &dev), FS_ERR_UNAVAILABLE);
    assert_null(dev);
    assert_string_equal(fs_error_message(), reason);
    api->close(&dev); /* NULL is accepted */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect),
        cmocka_unit_test(test_broken_source_fails),
        cmocka_unit_test(test_device_or_reason),
        cmocka_unit_test(test_all_kernels_compile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* no CUDA toolkit at build time: nothing to compile */

#include <stdio.h>

int main(void)
{
    printf("CUDA backend not in this build (no toolkit headers when it was configured): nothing to test\n");
    return 0;
}

#endif

/*
 * cuda_nvrtc.c — compiling the device kernels at run time with NVRTC, loaded with dlopen.
 *
 * The CUDA kernels are not compiled when ferrosolv is built (no nvcc is needed, and none is used): the sources of
 * kernels/common are compiled when a backend instance is created, with the sizes and constants of the system baked
 * in as #defines, like the OpenCL kernels are by clBuildProgram. NVRTC is CUDA's runtime compiler for CUDA C++
 * (NVRTC User Guide, "Introduction": it "accepts CUDA C++ source code in character string form and creates handles
 * that can be used to obtain the PTX").
 *
 * The program text is, in this order (kernels/common/README.md):
 *
 *     #line 1 "defines"            the system's #defines, USE_DOUBLE among them
 *     #line 1 "prelude.kernel"     kernels/cuda/prelude.kernel: the dialect in CUDA C++
 *     #line 1 "source"             the kernels (the embedded sources carry a #line per .kernel file)
 *
 * so that NVRTC's diagnostics name the file and line the error is in ("_fixed.kernel(12): error: ...").
 *
 * Targets. `--gpu-architecture=sm_XY` makes NVRTC run the whole chain down to machine code (CUBIN) for that
 * architecture, and keeps the PTX; `compute_XY` stops at PTX, which the driver compiles when the module is loaded.
 * The device backend loads a CUBIN for the device's own architecture when this NVRTC knows it, and the PTX of the
 * newest architecture it knows otherwise (a device newer than the compiler). Options: -std=c++14 and nothing else:
 * in particular no --use_fast_math, which would replace erfc, exp and division by approximations.
 *
 * NVRTC has no -Werror; its log holds the warnings, which the compile test treats as failures.
 *
 * Loading: the first call tries libnvrtc.so, libnvrtc.so.13, .12, .11.2 through the dynamic loader's search, then
 * the same names in the toolkit folder found at build time (FS_CUDA_LIBDIR). Symbols added after NVRTC 11.0
 * (CUBIN output, the list of supported architectures) are optional.
 */
#include "cuda_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nvrtc.h>

#ifndef FS_CUDA_LIBDIR
#define FS_CUDA_LIBDIR "/usr/local/cuda/lib64"
#endif

#define NV_FN(name) __typeof__(name) *name

static struct {
    void *lib;
    char name[512]; /* the library that was opened */
    fs_status status;
    char error[1024];
    NV_FN(nvrtcVersion);
    NV_FN(nvrtcGetErrorString);
    NV_FN(nvrtcCreateProgram);
    NV_FN(nvrtcDestroyProgram);
    NV_FN(nvrtcCompileProgram);
    NV_FN(nvrtcGetProgramLogSize);
    NV_FN(nvrtcGetProgramLog);
    NV_FN(nvrtcGetPTXSize);
    NV_FN(nvrtcGetPTX);
    /* optional */
    nvrtcResult (*nvrtcGetCUBINSize)(nvrtcProgram, size_t *);
    nvrtcResult (*nvrtcGetCUBIN)(nvrtcProgram, char *);
    nvrtcResult (*nvrtcGetNumSupportedArchs)(int *);
    nvrtcResult (*nvrtcGetSupportedArchs)(int *);
    int major, minor;
} nv;

static pthread_once_t nv_once = PTHREAD_ONCE_INIT;

static void nv_load(void)
{
    static const char *const names[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"};
    const int nnames = (int)(sizeof names / sizeof names[0]);
    const char *last_error = "";
    for (int pass = 0; pass < 2 && !nv.lib; ++pass) {
        for (int i = 0; i < nnames && !nv.lib; ++i) {
            if (pass == 0)
                snprintf(nv.name, sizeof nv.name, "%s", names[i]);
            else
                snprintf(nv.name, sizeof nv.name, "%s/%s", FS_CUDA_LIBDIR, names[i]);
            nv.lib = dlopen(nv.name, RTLD_NOW | RTLD_LOCAL);
            if (!nv.lib) {
                const char *e = dlerror();
                if (e) last_error = e;
            }
        }
    }
    if (!nv.lib) {
        nv.status = FS_ERR_UNAVAILABLE;
        snprintf(nv.error, sizeof nv.error,
                 "NVRTC not found (tried libnvrtc.so, libnvrtc.so.13, .12, .11.2, also in %s): the CUDA toolkit's "
                 "runtime compiler is needed to build the kernels (last error: %s)",
                 FS_CUDA_LIBDIR, last_error);
        return;
    }
    const char *missing = NULL;
#define NV_LOAD(fn)                                                                                                    \
    do {                                                                                                               \
        nv.fn = (__typeof__(nv.fn))dlsym(nv.lib, #fn);                                                                 \
        if (!nv.fn && !missing) missing = #fn;                                                                         \
    } while (0)
#define NV_LOAD_OPTIONAL(fn) (nv.fn = (__typeof__(nv.fn))dlsym(nv.lib, #fn))
    NV_LOAD(nvrtcVersion);
    NV_LOAD(nvrtcGetErrorString);
    NV_LOAD(nvrtcCreateProgram);
    NV_LOAD(nvrtcDestroyProgram);
    NV_LOAD(nvrtcCompileProgram);
    NV_LOAD(nvrtcGetProgramLogSize);
    NV_LOAD(nvrtcGetProgramLog);
    NV_LOAD(nvrtcGetPTXSize);
    NV_LOAD(nvrtcGetPTX);
    NV_LOAD_OPTIONAL(nvrtcGetCUBINSize);
    NV_LOAD_OPTIONAL(nvrtcGetCUBIN);
    NV_LOAD_OPTIONAL(nvrtcGetNumSupportedArchs);
    NV_LOAD_OPTIONAL(nvrtcGetSupportedArchs);
#undef NV_LOAD
#undef NV_LOAD_OPTIONAL
    if (missing) {
        nv.status = FS_ERR_UNAVAILABLE;
        snprintf(nv.error, sizeof nv.error, "%s lacks %s", nv.name, missing);
        dlclose(nv.lib);
        nv.lib = NULL;
        return;
    }
    if (nv.nvrtcVersion(&nv.major, &nv.minor) != NVRTC_SUCCESS) nv.major = nv.minor = 0;
    nv.status = FS_OK;
}

static fs_status nv_ready(void)
{
    pthread_once(&nv_once, nv_load);
    if (nv.status != FS_OK) return fs_fail(nv.status, "%s", nv.error);
    return FS_OK;
}

/* Every NVRTC call goes through this check: the function's name and NVRTC's name for the error. */
#define NVRTC_CALL(fn, args) nv_check(nv.fn args, #fn)

static fs_status nv_check(nvrtcResult rc, const char *fn)
{
    if (rc == NVRTC_SUCCESS) return FS_OK;
    return fs_fail(rc == NVRTC_ERROR_OUT_OF_MEMORY ? FS_ERR_NOMEM : FS_ERR_INVALID, "%s: %s", fn,
                   nv.nvrtcGetErrorString(rc));
}

fs_status fs_cuda_nvrtc_info(int *major, int *minor, int *archs, int max, int *n_archs)
{
    *n_archs = 0;
    fs_status st = nv_ready();
    if (st != FS_OK) return st;
    *major = nv.major;
    *minor = nv.minor;
    if (!nv.nvrtcGetNumSupportedArchs || !nv.nvrtcGetSupportedArchs) return FS_OK; /* NVRTC < 11.2: unknown */
    int n = 0;
    if ((st = NVRTC_CALL(nvrtcGetNumSupportedArchs, (&n))) != FS_OK) return st;
    int *all = malloc((size_t)(n > 0 ? n : 1) * sizeof *all);
    if (!all) return fs_fail(FS_ERR_NOMEM, "out of memory listing NVRTC's architectures");
    st = NVRTC_CALL(nvrtcGetSupportedArchs, (all));
    for (int i = 0; st == FS_OK && i < n && i < max; ++i) archs[(*n_archs)++] = all[i];
    free(all);
    return st;
}

/* "sm_90" → 1, "compute_90" → 0, anything else → -1. */
static int arch_kind(const char *arch)
{
    const char *digits = NULL;
    int kind = -1;
    if (strncmp(arch, "sm_", 3) == 0) {
        digits = arch + 3;
        kind = 1;
    } else if (strncmp(arch, "compute_", 8) == 0) {
        digits = arch + 8;
        kind = 0;
    }
    if (!digits || !*digits || strlen(digits) > 4) return -1;
    for (const char *c = digits; *c; ++c)
        if ((*c < '0' || *c > '9') && !(c > digits && c[1] == '\0' && (*c == 'a' || *c == 'f'))) return -1;
    return kind;
}

static char *nv_program_text(const char *defines, const char *source)
{
    static const char *const parts[] = {"#line 1 \"defines\"\n", "\n#line 1 \"prelude.kernel\"\n",
                                        "\n#line 1 \"source\"\n", "\n"};
    size_t n = strlen(defines) + strlen(fs_gpu_prelude_cuda) + strlen(source) + 1;
    for (int i = 0; i < 4; ++i) n += strlen(parts[i]);
    char *text = malloc(n);
    if (!text) return NULL;
    snprintf(text, n, "%s%s%s%s%s%s%s", parts[0], defines, parts[1], fs_gpu_prelude_cuda, parts[2], source, parts[3]);
    return text;
}

fs_status fs_cuda_compile_ex(const char *arch, const char *defines, const char *source, char **ptx, void **cubin,
                             size_t *cubin_size, char **log)
{
    if (ptx) *ptx = NULL;
    if (cubin) *cubin = NULL;
    if (cubin_size) *cubin_size = 0;
    if (log) *log = NULL;
    if (!arch || !defines || !source) return fs_fail(FS_ERR_INVALID, "NVRTC compile: missing architecture or text");
    int kind = arch_kind(arch);
    if (kind < 0) return fs_fail(FS_ERR_INVALID, "NVRTC compile: architecture '%s' is not sm_XY or compute_XY", arch);
    fs_status st = nv_ready();
    if (st != FS_OK) return st;
    if (cubin && kind == 1 && (!nv.nvrtcGetCUBINSize || !nv.nvrtcGetCUBIN))
        return fs_fail(FS_ERR_UNSUPPORTED, "%s (NVRTC %d.%d) cannot produce machine code", nv.name, nv.major, nv.minor);

    char *text = nv_program_text(defines, source);
    if (!text) return fs_fail(FS_ERR_NOMEM, "out of memory composing the kernel program");
    nvrtcProgram prog = NULL;
    char *out_log = NULL, *out_ptx = NULL, *out_cubin = NULL;
    size_t size = 0;
    st = NVRTC_CALL(nvrtcCreateProgram, (&prog, text, "ferrosolv.cu", 0, NULL, NULL));
    if (st != FS_OK) goto done;

    char arch_opt[64];
    snprintf(arch_opt, sizeof arch_opt, "--gpu-architecture=%s", arch);
    const char *opts[] = {arch_opt, "-std=c++14"};
    nvrtcResult rc = nv.nvrtcCompileProgram(prog, (int)(sizeof opts / sizeof opts[0]), opts);

    size_t log_size = 0;
    if ((st = NVRTC_CALL(nvrtcGetProgramLogSize, (prog, &log_size))) != FS_OK) goto done;
    out_log = malloc(log_size + 1);
    if (!out_log) {
        st = fs_fail(FS_ERR_NOMEM, "out of memory reading the NVRTC log");
        goto done;
    }
    out_log[0] = '\0';
    if (log_size > 0 && (st = NVRTC_CALL(nvrtcGetProgramLog, (prog, out_log))) != FS_OK) goto done;
    out_log[log_size] = '\0';

    if (rc == NVRTC_ERROR_COMPILATION) {
        st = fs_fail(FS_ERR_INVALID, "NVRTC %d.%d could not compile the kernels for %s:\n%s", nv.major, nv.minor, arch,
                     out_log);
        goto done;
    }
    if ((st = nv_check(rc, "nvrtcCompileProgram")) != FS_OK) {
        fs_fail_context(st, "compiling the kernels for %s (%s)", arch, out_log);
        goto done;
    }

    if (ptx) {
        if ((st = NVRTC_CALL(nvrtcGetPTXSize, (prog, &size))) != FS_OK) goto done;
        out_ptx = malloc(size + 1);
        if (!out_ptx) {
            st = fs_fail(FS_ERR_NOMEM, "out of memory reading the PTX (%zu bytes)", size);
            goto done;
        }
        if ((st = NVRTC_CALL(nvrtcGetPTX, (prog, out_ptx))) != FS_OK) goto done;
        out_ptx[size] = '\0';
    }
    if (cubin && kind == 1) {
        if ((st = NVRTC_CALL(nvrtcGetCUBINSize, (prog, &size))) != FS_OK) goto done;
        out_cubin = malloc(size ? size : 1);
        if (!out_cubin) {
            st = fs_fail(FS_ERR_NOMEM, "out of memory reading the CUBIN (%zu bytes)", size);
            goto done;
        }
        if ((st = NVRTC_CALL(nvrtcGetCUBIN, (prog, out_cubin))) != FS_OK) goto done;
        *cubin_size = size;
    }

done:
    if (prog) nv.nvrtcDestroyProgram(&prog);
    free(text);
    if (st != FS_OK) {
        free(out_ptx);
        free(out_cubin);
        out_ptx = out_cubin = NULL;
        if (cubin_size) *cubin_size = 0;
    }
    if (ptx) *ptx = out_ptx;
    if (cubin) *cubin = out_cubin;
    if (log)
        *log = out_log;
    else
        free(out_log);
    return st;
}

fs_status fs_cuda_compile(const char *arch, const char *defines, const char *source, char **ptx, char **log)
{
    if (!ptx) return fs_fail(FS_ERR_INVALID, "fs_cuda_compile: no place for the PTX");
    return fs_cuda_compile_ex(arch, defines, source, ptx, NULL, NULL, log);
}

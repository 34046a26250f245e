/*
 * opencl_api.c — the device API of kernels/gpu/gpu_api.h on OpenCL 1.2: devices, memory, run-time compilation,
 * launches and kernel timers. (The 3D FFT is in opencl_fft.c.) This file and opencl_fft.c hold every OpenCL call
 * of ferrosolv.
 *
 * Devices. Every platform's devices are enumerated in platform order, then device order; a device is usable when
 * it speaks OpenCL 1.2 or later (clEnqueueFillBuffer) and offers 64-bit integer atomics (cl_khr_int64_base_atomics:
 * the fixed-point sums of kernels/common use atom_add on long) and double precision (cl_khr_fp64: positions and
 * velocities are always double). Unusable devices are left out of list() and named in available()'s message when
 * no device is usable. "Best" (open(-1)) is a non-CPU device before a CPU device (PoCL), then the one with the most
 * compute units, then the first listed.
 *
 * One context, one device, one in-order command queue. write() and read() are blocking transfers; copy(),
 * fill_zero() and launch() are only enqueued; finish() waits for the queue to drain. In-order execution makes a
 * read after a launch see the launch's results.
 *
 * Programs. The program text is handed to clCreateProgramWithSource in pieces: the caller's #defines (which
 * must set USE_DOUBLE), the OpenCL prelude (kernels/opencl/prelude.kernel, embedded by CMake as
 * fs_gpu_prelude_opencl), then the sources. The defines come first so that the prelude can choose `real` by
 * USE_DOUBLE. The sources carry #line directives per file, so compiler messages name kernels/common files. A failed
 * build returns FS_ERR_INVALID with the build log in the message; the thread's message buffer holds about 2 kB
 * (core/status.c), so a longer log is written whole to stderr and its beginning kept in the message.
 *
 * Errors. Every OpenCL call goes through CL_CALL (opencl_impl.h), which records "call: CL_ERROR_NAME (code)". The
 * out-of-memory codes (CL_OUT_OF_HOST_MEMORY, CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES — the last is
 * also how a device reports exhausted registers or local memory) map to FS_ERR_NOMEM. Buffers may be allocated
 * lazily by the implementation, so an out-of-memory condition can also surface at the first write or launch.
 *
 * Profiling. With profiling on, the queue is created with CL_QUEUE_PROFILING_ENABLE, each launch waits for its
 * event and adds CL_PROFILING_COMMAND_END - CL_PROFILING_COMMAND_START to its kernel's timer. reset_timers() moves
 * the device to a new epoch; a kernel's timer counts only launches of the current epoch, so no list of kernels is
 * needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl_impl.h"

/* Generated from kernels/opencl/prelude.kernel by cmake/embed_kernels.cmake (build/kernel_sources.c). */
extern const char fs_gpu_prelude_opencl[];

/* Defined in opencl_fft.c. */
fs_status fs_cl_fft_create(gpu_device *dev, const int n[3], int use_double, gpu_buf *data, gpu_fft **out);
fs_status fs_cl_fft_exec(gpu_fft *fft, int direction);
void fs_cl_fft_release(gpu_fft **fft);
double fs_cl_fft_time(const gpu_fft *fft, long *launches);

/* ---- errors ---------------------------------------------------------------------------------------------------- */

static const struct {
    cl_int code;
    const char *name;
} cl_errors[] = {
    {0, "CL_SUCCESS"},
    {-1, "CL_DEVICE_NOT_FOUND"},
    {-2, "CL_DEVICE_NOT_AVAILABLE"},
    {-3, "CL_COMPILER_NOT_AVAILABLE"},
    {-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE"},
    {-5, "CL_OUT_OF_RESOURCES"},
    {-6, "CL_OUT_OF_HOST_MEMORY"},
    {-7, "CL_PROFILING_INFO_NOT_AVAILABLE"},
    {-8, "CL_MEM_COPY_OVERLAP"},
    {-9, "CL_IMAGE_FORMAT_MISMATCH"},
    {-10, "CL_IMAGE_FORMAT_NOT_SUPPORTED"},
    {-11, "CL_BUILD_PROGRAM_FAILURE"},
    {-12, "CL_MAP_FAILURE"},
    {-13, "CL_MISALIGNED_SUB_BUFFER_OFFSET"},
    {-14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST"},
    {-15, "CL_COMPILE_PROGRAM_FAILURE"},
    {-16, "CL_LINKER_NOT_AVAILABLE"},
    {-17, "CL_LINK_PROGRAM_FAILURE"},
    {-18, "CL_DEVICE_PARTITION_FAILED"},
    {-19, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE"},
    {-30, "CL_INVALID_VALUE"},
    {-31, "CL_INVALID_DEVICE_TYPE"},
    {-32, "CL_INVALID_PLATFORM"},
    {-33, "CL_INVALID_DEVICE"},
    {-34, "CL_INVALID_CONTEXT"},
    {-35, "CL_INVALID_QUEUE_PROPERTIES"},
    {-36, "CL_INVALID_COMMAND_QUEUE"},
    {-37, "CL_INVALID_HOST_PTR"},
    {-38, "CL_INVALID_MEM_OBJECT"},
    {-39, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR"},
    {-40, "CL_INVALID_IMAGE_SIZE"},
    {-41, "CL_INVALID_SAMPLER"},
    {-42, "CL_INVALID_BINARY"},
    {-43, "CL_INVALID_BUILD_OPTIONS"},
    {-44, "CL_INVALID_PROGRAM"},
    {-45, "CL_INVALID_PROGRAM_EXECUTABLE"},
    {-46, "CL_INVALID_KERNEL_NAME"},
    {-47, "CL_INVALID_KERNEL_DEFINITION"},
    {-48, "CL_INVALID_KERNEL"},
    {-49, "CL_INVALID_ARG_INDEX"},
    {-50, "CL_INVALID_ARG_VALUE"},
    {-51, "CL_INVALID_ARG_SIZE"},
    {-52, "CL_INVALID_KERNEL_ARGS"},
    {-53, "CL_INVALID_WORK_DIMENSION"},
    {-54, "CL_INVALID_WORK_GROUP_SIZE"},
    {-55, "CL_INVALID_WORK_ITEM_SIZE"},
    {-56, "CL_INVALID_GLOBAL_OFFSET"},
    {-57, "CL_INVALID_EVENT_WAIT_LIST"},
    {-58, "CL_INVALID_EVENT"},
    {-59, "CL_INVALID_OPERATION"},
    {-60, "CL_INVALID_GL_OBJECT"},
    {-61, "CL_INVALID_BUFFER_SIZE"},
    {-62, "CL_INVALID_MIP_LEVEL"},
    {-63, "CL_INVALID_GLOBAL_WORK_SIZE"},
    {-64, "CL_INVALID_PROPERTY"},
    {-65, "CL_INVALID_IMAGE_DESCRIPTOR"},
    {-66, "CL_INVALID_COMPILER_OPTIONS"},
    {-67, "CL_INVALID_LINKER_OPTIONS"},
    {-68, "CL_INVALID_DEVICE_PARTITION_COUNT"},
    {-69, "CL_INVALID_PIPE_SIZE"},
    {-70, "CL_INVALID_DEVICE_QUEUE"},
    {-71, "CL_INVALID_SPEC_ID"},
    {-72, "CL_MAX_SIZE_RESTRICTION_EXCEEDED"},
    {-1001, "CL_PLATFORM_NOT_FOUND_KHR"},
    {-1057, "CL_DEVICE_PARTITION_FAILED_EXT"},
    {-1058, "CL_INVALID_PARTITION_COUNT_EXT"},
    {-1059, "CL_INVALID_PARTITION_NAME_EXT"},
};

const char *fs_cl_error_name(cl_int err)
{
    for (size_t i = 0; i < sizeof cl_errors / sizeof cl_errors[0]; i++)
        if (cl_errors[i].code == err) return cl_errors[i].name;
    return "CL_UNKNOWN_ERROR";
}

fs_status fs_cl_status(cl_int err, const char *call)
{
    if (err == CL_SUCCESS) return FS_OK;
    /* `(obj = clCreateX(...), err)`: show the call itself, from "cl" to its closing parenthesis. */
    const char *s = strstr(call, "cl");
    while (s && !(s[2] >= 'A' && s[2] <= 'Z')) s = strstr(s + 2, "cl");
    if (!s) s = call;
    int len = (int)strlen(s), depth = 0;
    for (int i = 0; s[i]; i++) {
        if (s[i] == '(') depth++;
        if (s[i] == ')' && --depth == 0) {
            len = i + 1;
            break;
        }
    }
    fs_status code = FS_ERR_INVALID;
    const char *what = "";
    if (err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES) {
        code = FS_ERR_NOMEM;
        what = err == CL_OUT_OF_HOST_MEMORY ? " (out of host memory)" : " (out of device memory or resources)";
    } else if (err == CL_DEVICE_NOT_FOUND || err == CL_DEVICE_NOT_AVAILABLE || err == CL_COMPILER_NOT_AVAILABLE ||
               err == -1001) {
        code = FS_ERR_UNAVAILABLE;
    }
    return fs_fail(code, "OpenCL %.*s: %s (%d)%s", len, s, fs_cl_error_name(err), (int)err, what);
}

double fs_cl_event_seconds(cl_event ev)
{
    cl_ulong t0 = 0, t1 = 0;
    if (CL_CALL(clWaitForEvents(1, &ev))) return 0;
    if (CL_CALL(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL))) return 0;
    if (CL_CALL(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL))) return 0;
    return t1 > t0 ? (double)(t1 - t0) * 1e-9 : 0;
}

/* ---- devices --------------------------------------------------------------------------------------------------- */

enum { MAX_PLATFORMS = 16, MAX_DEVICES = 64 };

typedef struct {
    cl_platform_id platform;
    cl_device_id id;
    gpu_device_info info;
} cl_candidate;

/* Does the space-separated list `exts` hold the word `name`? */
static int has_word(const char *exts, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = exts; (p = strstr(p, name)) != NULL; p += n)
        if ((p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
    return 0;
}

/* Enumerates the usable devices of every platform into c[0..*count). Unusable ones are described in `why`
 * ("; name: no cl_khr_fp64"). FS_ERR_UNAVAILABLE when there is no platform at all. */
static fs_status enumerate(cl_candidate *c, int max, int *count, char *why, size_t why_size)
{
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint nplat = 0;
    *count = 0;
    why[0] = '\0';
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, plats, &nplat);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (err == CL_SUCCESS && nplat == 0))
        return fs_fail(FS_ERR_UNAVAILABLE,
                       "no OpenCL platform: the ICD loader found no driver (see /etc/OpenCL/vendors)");
    fs_status st = fs_cl_status(err, "clGetPlatformIDs");
    if (st) return st;
    if (nplat > MAX_PLATFORMS) nplat = MAX_PLATFORMS;
    for (cl_uint p = 0; p < nplat; p++) {
        cl_device_id ids[MAX_DEVICES];
        cl_uint nd = 0;
        char pname[128] = "";
        if ((st = CL_CALL(clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL)))) return st;
        pname[sizeof pname - 1] = '\0';
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &nd);
        if (err == CL_DEVICE_NOT_FOUND) continue;
        if ((st = fs_cl_status(err, "clGetDeviceIDs"))) return st;
        if (nd > MAX_DEVICES) nd = MAX_DEVICES;
        for (cl_uint d = 0; d < nd; d++) {
            char exts[8192] = "", version[128] = "";
            gpu_device_info info;
            memset(&info, 0, sizeof info);
            cl_device_type type = 0;
            cl_uint cu = 0;
            size_t wg = 0;
            cl_ulong mem = 0;
            cl_bool avail = CL_FALSE;
            if ((st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_NAME, sizeof info.name, info.name, NULL))) ||
                (st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_EXTENSIONS, sizeof exts, exts, NULL))) ||
                (st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_VERSION, sizeof version, version, NULL))) ||
                (st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof type, &type, NULL))) ||
                (st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL))) ||
                (st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL))) ||
                (st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL))) ||
                (st = CL_CALL(clGetDeviceInfo(ids[d], CL_DEVICE_AVAILABLE, sizeof avail, &avail, NULL))))
                return st;
            info.name[sizeof info.name - 1] = '\0';
            exts[sizeof exts - 1] = '\0';
            version[sizeof version - 1] = '\0';
            int major = 0, minor = 0; /* "OpenCL <major>.<minor> <vendor-specific>" */
            sscanf(version, "OpenCL %d.%d", &major, &minor);
            const char *missing = !avail                                         ? "not available"
                                  : major * 100 + minor < 102                    ? "OpenCL 1.2 needed"
                                  : !has_word(exts, "cl_khr_int64_base_atomics") ? "no cl_khr_int64_base_atomics"
                                  : !has_word(exts, "cl_khr_fp64")               ? "no cl_khr_fp64"
                                                                                 : NULL;
            if (missing) {
                size_t used = strlen(why);
                snprintf(why + used, why_size - used, "; %s (%s): %s", info.name, pname, missing);
                continue;
            }
            snprintf(info.platform, sizeof info.platform, "%s", pname);
            info.is_cpu = (type & CL_DEVICE_TYPE_CPU) != 0;
            info.has_double = 1;
            info.compute_units = (int)cu;
            info.max_local_size = wg;
            info.global_mem = (size_t)mem;
            if (*count < max) c[*count] = (cl_candidate){plats[p], ids[d], info};
            ++*count;
        }
    }
    if (*count > max) *count = max;
    return FS_OK;
}

static fs_status ocl_available(void)
{
    cl_candidate c[MAX_DEVICES];
    char why[2048];
    int n = 0;
    fs_status st = enumerate(c, MAX_DEVICES, &n, why, sizeof why);
    if (st) return st;
    if (n == 0)
        return fs_fail(FS_ERR_UNAVAILABLE, "no usable OpenCL device (64-bit atomics and double precision needed)%s",
                       why[0] ? why : ": the platforms list no devices");
    return FS_OK;
}

static fs_status ocl_list(gpu_device_info *out, int max, int *count)
{
    cl_candidate c[MAX_DEVICES];
    char why[2048];
    int n = 0;
    *count = 0;
    fs_status st = enumerate(c, MAX_DEVICES, &n, why, sizeof why);
    if (st) return st;
    for (int i = 0; i < n && i < max; i++) out[i] = c[i].info;
    *count = n < max ? n : max;
    return FS_OK;
}

static void ocl_close(gpu_device **dev)
{
    if (!dev || !*dev) return;
    gpu_device *d = *dev;
    if (d->queue) {
        clFinish(d->queue);
        clReleaseCommandQueue(d->queue);
    }
    if (d->ctx) clReleaseContext(d->ctx);
    free(d);
    *dev = NULL;
}

static fs_status ocl_open(int index, int profiling, gpu_device **out)
{
    *out = NULL;
    cl_candidate c[MAX_DEVICES];
    char why[2048];
    int n = 0;
    fs_status st = enumerate(c, MAX_DEVICES, &n, why, sizeof why);
    if (st) return st;
    if (n == 0) return ocl_available();
    int pick = index;
    if (index < 0) {
        pick = 0;
        for (int i = 1; i < n; i++) {
            const gpu_device_info *a = &c[i].info, *b = &c[pick].info;
            if (a->is_cpu < b->is_cpu || (a->is_cpu == b->is_cpu && a->compute_units > b->compute_units)) pick = i;
        }
    } else if (index >= n) {
        return fs_fail(FS_ERR_INVALID, "OpenCL device %d requested, but only %d usable device%s", index, n,
                       n == 1 ? " is listed" : "s are listed");
    }
    gpu_device *d = calloc(1, sizeof *d);
    if (!d) return fs_fail(FS_ERR_NOMEM, "allocating an OpenCL device");
    d->platform = c[pick].platform;
    d->id = c[pick].id;
    d->info = c[pick].info;
    d->profiling = profiling != 0;
    cl_int err = CL_SUCCESS;
    if ((st = CL_CALL(clGetDeviceInfo(d->id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof d->max_alloc, &d->max_alloc, NULL))))
        goto fail;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform, 0};
    if ((st = CL_CALL((d->ctx = clCreateContext(props, 1, &d->id, NULL, NULL, &err), err)))) goto fail;
    cl_command_queue_properties qp = d->profiling ? CL_QUEUE_PROFILING_ENABLE : 0;
    if ((st = CL_CALL((d->queue = clCreateCommandQueue(d->ctx, d->id, qp, &err), err)))) goto fail;
    *out = d;
    return FS_OK;
fail:
    ocl_close(&d);
    return fs_fail_context(st, "opening %s", c[pick].info.name);
}

static const gpu_device_info *ocl_info(const gpu_device *dev)
{
    return &dev->info;
}

/* ---- memory ---------------------------------------------------------------------------------------------------- */

static fs_status ocl_alloc(gpu_device *dev, size_t bytes, gpu_buf **out)
{
    *out = NULL;
    fs_status st;
    if (bytes > dev->max_alloc)
        return fs_fail(FS_ERR_NOMEM, "OpenCL buffer of %zu bytes exceeds the largest allocation of %s (%llu bytes)",
                       bytes, dev->info.name, (unsigned long long)dev->max_alloc);
    gpu_buf *b = calloc(1, sizeof *b);
    if (!b) return fs_fail(FS_ERR_NOMEM, "allocating an OpenCL buffer record");
    b->bytes = bytes;
    size_t real_bytes = bytes < 16 ? 16 : bytes; /* OpenCL refuses empty buffers; kernels may still take them */
    cl_int err = CL_SUCCESS;
    if ((st = CL_CALL((b->mem = clCreateBuffer(dev->ctx, CL_MEM_READ_WRITE, real_bytes, NULL, &err), err)))) {
        free(b);
        return fs_fail_context(st, "allocating %zu bytes on %s", bytes, dev->info.name);
    }
    *out = b;
    return FS_OK;
}

static void ocl_release(gpu_buf **buf)
{
    if (!buf || !*buf) return;
    if ((*buf)->mem) clReleaseMemObject((*buf)->mem);
    free(*buf);
    *buf = NULL;
}

static fs_status check_range(const gpu_buf *buf, size_t offset, size_t bytes, const char *what)
{
    if (offset > buf->bytes || bytes > buf->bytes - offset)
        return fs_fail(FS_ERR_INVALID, "OpenCL %s of bytes [%zu, %zu) outside a buffer of %zu bytes", what, offset,
                       offset + bytes, buf->bytes);
    return FS_OK;
}

static fs_status ocl_write(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, const void *src)
{
    fs_status st = check_range(buf, offset, bytes, "write");
    if (st || bytes == 0) return st;
    return CL_CALL(clEnqueueWriteBuffer(dev->queue, buf->mem, CL_TRUE, offset, bytes, src, 0, NULL, NULL));
}

static fs_status ocl_read(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, void *dst)
{
    fs_status st = check_range(buf, offset, bytes, "read");
    if (st || bytes == 0) return st;
    return CL_CALL(clEnqueueReadBuffer(dev->queue, buf->mem, CL_TRUE, offset, bytes, dst, 0, NULL, NULL));
}

static fs_status ocl_copy(gpu_device *dev, gpu_buf *dst, gpu_buf *src, size_t bytes)
{
    fs_status st = check_range(dst, 0, bytes, "copy (destination)");
    if (!st) st = check_range(src, 0, bytes, "copy (source)");
    if (st || bytes == 0) return st;
    return CL_CALL(clEnqueueCopyBuffer(dev->queue, src->mem, dst->mem, 0, 0, bytes, 0, NULL, NULL));
}

static fs_status ocl_fill_zero(gpu_device *dev, gpu_buf *buf, size_t bytes)
{
    static const unsigned char zero[16] = {0};
    fs_status st = check_range(buf, 0, bytes, "fill");
    if (st || bytes == 0) return st;
    size_t pattern = 16; /* the widest pattern that divides the size (OpenCL 1.2: size must be a multiple) */
    while (bytes % pattern) pattern /= 2;
    return CL_CALL(clEnqueueFillBuffer(dev->queue, buf->mem, zero, pattern, 0, bytes, 0, NULL, NULL));
}

/* ---- programs and kernels -------------------------------------------------------------------------------------- */

static void ocl_program_release(gpu_program **prog)
{
    if (!prog || !*prog) return;
    if ((*prog)->prog) clReleaseProgram((*prog)->prog);
    free(*prog);
    *prog = NULL;
}

/* Records the failed build with its log (all of it on stderr when it does not fit the message buffer). */
static fs_status build_failure(gpu_device *dev, cl_program prog, cl_int err)
{
    size_t n = 0;
    char *log = NULL;
    if (CL_CALL(clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &n)) == FS_OK && n > 0 &&
        (log = malloc(n + 1)) != NULL) {
        if (CL_CALL(clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, n, log, NULL))) log[0] = '\0';
        log[n] = '\0';
    }
    const size_t room = 1800; /* of the 2048-byte message buffer, after the heading */
    size_t len = log ? strlen(log) : 0;
    if (len > room) fprintf(stderr, "OpenCL build log for %s:\n%s\n", dev->info.name, log);
    fs_status st = fs_fail(err == CL_BUILD_PROGRAM_FAILURE ? FS_ERR_INVALID : fs_cl_status(err, "clBuildProgram"),
                           "OpenCL clBuildProgram on %s: %s (%d); build log%s:\n%.*s", dev->info.name,
                           fs_cl_error_name(err), (int)err, len > room ? " (beginning; all of it on stderr)" : "",
                           (int)(len > room ? room : len), log ? log : "(none)");
    free(log);
    return st;
}

static fs_status ocl_build(gpu_device *dev, const char *defines, const char *source, gpu_program **out)
{
    *out = NULL;
    gpu_program *p = calloc(1, sizeof *p);
    if (!p) return fs_fail(FS_ERR_NOMEM, "allocating an OpenCL program record");
    p->dev = dev;
    const char *text[5] = {defines ? defines : "", "\n", fs_gpu_prelude_opencl, "\n", source ? source : ""};
    cl_int err = CL_SUCCESS;
    fs_status st = CL_CALL((p->prog = clCreateProgramWithSource(dev->ctx, 5, text, NULL, &err), err));
    if (st) {
        free(p);
        return st;
    }
    err = clBuildProgram(p->prog, 1, &dev->id, "-cl-std=CL1.2", NULL, NULL);
    if (err != CL_SUCCESS) {
        st = build_failure(dev, p->prog, err);
        ocl_program_release(&p);
        return st;
    }
    *out = p;
    return FS_OK;
}

static fs_status ocl_kernel(gpu_program *prog, const char *name, gpu_kernel **out)
{
    *out = NULL;
    gpu_kernel *k = calloc(1, sizeof *k);
    if (!k) return fs_fail(FS_ERR_NOMEM, "allocating an OpenCL kernel record");
    k->dev = prog->dev;
    k->epoch = prog->dev->timer_epoch;
    snprintf(k->name, sizeof k->name, "%s", name);
    cl_int err = CL_SUCCESS;
    fs_status st = CL_CALL((k->k = clCreateKernel(prog->prog, name, &err), err));
    if (st) {
        free(k);
        return fs_fail_context(st, "kernel '%s'", name);
    }
    *out = k;
    return FS_OK;
}

static void ocl_kernel_release(gpu_kernel **k)
{
    if (!k || !*k) return;
    if ((*k)->k) clReleaseKernel((*k)->k);
    free(*k);
    *k = NULL;
}

static fs_status ocl_arg_buf(gpu_kernel *k, int index, gpu_buf *buf)
{
    fs_status st = CL_CALL(clSetKernelArg(k->k, (cl_uint)index, sizeof(cl_mem), &buf->mem));
    return st ? fs_fail_context(st, "kernel '%s' argument %d", k->name, index) : FS_OK;
}

static fs_status ocl_arg(gpu_kernel *k, int index, size_t bytes, const void *value)
{
    fs_status st = CL_CALL(clSetKernelArg(k->k, (cl_uint)index, bytes, value));
    return st ? fs_fail_context(st, "kernel '%s' argument %d (%zu bytes)", k->name, index, bytes) : FS_OK;
}

static fs_status ocl_launch(gpu_device *dev, gpu_kernel *k, size_t global, size_t local)
{
    if (global == 0) return FS_OK;
    if (local && global % local)
        return fs_fail(FS_ERR_INVALID, "kernel '%s': %zu work-items is not a multiple of the group size %zu", k->name,
                       global, local);
    cl_event ev = NULL;
    fs_status st = CL_CALL(clEnqueueNDRangeKernel(dev->queue, k->k, 1, NULL, &global, local ? &local : NULL, 0, NULL,
                                                  dev->profiling ? &ev : NULL));
    if (st) return fs_fail_context(st, "kernel '%s' (%zu x %zu)", k->name, global, local);
    if (ev) {
        double s = fs_cl_event_seconds(ev);
        clReleaseEvent(ev);
        if (k->epoch != dev->timer_epoch) k->epoch = dev->timer_epoch, k->seconds = 0, k->launches = 0;
        k->seconds += s;
        k->launches++;
    }
    return FS_OK;
}

static fs_status ocl_finish(gpu_device *dev)
{
    return CL_CALL(clFinish(dev->queue));
}

/* ---- timers ---------------------------------------------------------------------------------------------------- */

static double ocl_kernel_time(const gpu_kernel *k, long *launches)
{
    int current = k->epoch == k->dev->timer_epoch;
    if (launches) *launches = current ? k->launches : 0;
    return current ? k->seconds : 0;
}

static void ocl_reset_timers(gpu_device *dev)
{
    dev->timer_epoch++;
}

const gpu_api fs_gpu_api_opencl = {
    .name = "opencl",
    .available = ocl_available,
    .list = ocl_list,
    .open = ocl_open,
    .close = ocl_close,
    .info = ocl_info,
    .alloc = ocl_alloc,
    .release = ocl_release,
    .write = ocl_write,
    .read = ocl_read,
    .copy = ocl_copy,
    .fill_zero = ocl_fill_zero,
    .build = ocl_build,
    .program_release = ocl_program_release,
    .kernel = ocl_kernel,
    .kernel_release = ocl_kernel_release,
    .arg_buf = ocl_arg_buf,
    .arg = ocl_arg,
    .launch = ocl_launch,
    .finish = ocl_finish,
    .fft_create = fs_cl_fft_create,
    .fft_exec = fs_cl_fft_exec,
    .fft_release = fs_cl_fft_release,
    .kernel_time = ocl_kernel_time,
    .fft_time = fs_cl_fft_time,
    .reset_timers = ocl_reset_timers,
};

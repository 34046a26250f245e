/*
 * test_device_faults.c — what a user sees when the device fails: a device lost in the middle of a run, device memory
 * that runs out, a kernel that does not compile. Each ends with a clear message and a non-zero status, and the last
 * checkpoint is left intact, so `--continue` resumes from it.
 *
 * The faults are injected below the device backend: a copy of the OpenCL device API table (kernels/gpu/gpu_api.h)
 * whose entries call the real ones (PoCL in CI) until the fault fires. The backend on it (gpu_backend_create) is the
 * real one, and it runs through the real run loop (fs_run with fs_run_options.backend_ops), on the 376-molecule water
 * cube of tests/data/run/nvt.ini (200 steps, checkpoint every 30, frame every 20).
 *   - device lost, NVT (md + v-rescale) and NPT (sd + a Monte Carlo barostat trial every step): the n-th kernel
 *     launch fails as a lost device does, with CL_DEVICE_NOT_AVAILABLE, and so does every device call after it. n is
 *     the launch count of a whole 105-step run, so the loss comes around step 105, after the checkpoint at 90. The
 *     run returns FS_ERR_UNAVAILABLE; the message names the step it stopped after (100 or 105: the loop advances in
 *     chunks that end at the next output or barostat step), the backend, the device's error, and the last
 *     checkpoint with its step (90); the checkpoint reads back at that step. Then
 *     `--continue` on the healthy device ends the run, and its trajectory and final checkpoint equal the
 *     uninterrupted run's bit for bit: the checkpoint was intact, and with the device's history (the pair list's
 *     cluster order and build, the forces; backend.h save_history) a continued device run is the uninterrupted one.
 *     Negative control: the same continuation from the checkpoint with the history dropped differs (a fresh pair
 *     list changes the last bits of the float sums; over 100 steps the trajectories part by ~1e-5 nm).
 *   - out of device memory: the backend's second buffer asks the real API for 2^62 bytes. `--continue` from the
 *     finished NVT run's checkpoint fails with FS_ERR_NOMEM naming the buffer ("velocities"), and the checkpoint, the
 *     H5MD file and the log are unchanged, byte for byte.
 *   - compile failure: an `#error` appended to the kernel source; `--continue` fails with the compiler's log in the
 *     message, and the checkpoint and the H5MD file are unchanged (the log has the deck and the backend line
 *     appended: the program is built once the run has begun).
 * Cost: about 15 s on two cores with PoCL's kernel cache warm.
 * A missing OpenCL device fails the suite.
 */
#include "support/fs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/checkpoint.h"
#include "core/scheduler.h"
#include "kernels/backend.h"
#include "kernels/gpu/gpu_backend_impl.h"

#define NSTEPS 200
#define NSTCHECKPOINT 30 /* not a multiple of the device list's re-sort interval (100 steps): the history matters */
#define LOSS_STEP 105    /* the device is lost around this step: the last checkpoint is at step 90 */

/* ---- the faulty device API ---------------------------------------------------------------------------------- */

static struct {
    long launches;   /* launches so far */
    long lose_at;    /* the launch that loses the device; < 0: never */
    int lost;        /* every call fails from then on */
    int allocs;      /* allocations so far */
    int oom_at;      /* the allocation that asks for too much (1-based); 0: never */
    int bad_compile; /* 1: every build gets a line the compiler rejects */
} fault;

static gpu_api faulty_api;
static fs_backend_ops faulty_ops;

static fs_status lost(void)
{
    /* what opencl_api.c's fs_cl_status makes of a lost device */
    return fs_fail(FS_ERR_UNAVAILABLE, "OpenCL clEnqueueNDRangeKernel(...): CL_DEVICE_NOT_AVAILABLE (-2) [injected]");
}

static fs_status f_launch(gpu_device *dev, gpu_kernel *k, size_t global, size_t local)
{
    if (fault.lost || (fault.lose_at >= 0 && fault.launches >= fault.lose_at)) {
        fault.lost = 1;
        return lost();
    }
    fault.launches++;
    return fs_gpu_api_opencl.launch(dev, k, global, local);
}

static fs_status f_read(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, void *dst)
{
    return fault.lost ? lost() : fs_gpu_api_opencl.read(dev, buf, offset, bytes, dst);
}

static fs_status f_write(gpu_device *dev, gpu_buf *buf, size_t offset, size_t bytes, const void *src)
{
    return fault.lost ? lost() : fs_gpu_api_opencl.write(dev, buf, offset, bytes, src);
}

static fs_status f_copy(gpu_device *dev, gpu_buf *dst, gpu_buf *src, size_t bytes)
{
    return fault.lost ? lost() : fs_gpu_api_opencl.copy(dev, dst, src, bytes);
}

static fs_status f_fill_zero(gpu_device *dev, gpu_buf *buf, size_t bytes)
{
    return fault.lost ? lost() : fs_gpu_api_opencl.fill_zero(dev, buf, bytes);
}

static fs_status f_finish(gpu_device *dev)
{
    return fault.lost ? lost() : fs_gpu_api_opencl.finish(dev);
}

static fs_status f_fft_exec(gpu_fft *fft, int direction)
{
    return fault.lost ? lost() : fs_gpu_api_opencl.fft_exec(fft, direction);
}

static fs_status f_alloc(gpu_device *dev, size_t bytes, gpu_buf **out)
{
    if (++fault.allocs == fault.oom_at) bytes = (size_t)1 << 62; /* the real API's own out-of-memory path */
    return fs_gpu_api_opencl.alloc(dev, bytes, out);
}

static fs_status f_build(gpu_device *dev, const char *defines, const char *source, gpu_program **out)
{
    if (!fault.bad_compile) return fs_gpu_api_opencl.build(dev, defines, source, out);
    size_t n = strlen(source);
    static const char bad[] = "\n#error injected compile failure\n";
    char *text = malloc(n + sizeof bad);
    assert_non_null(text);
    memcpy(text, source, n);
    memcpy(text + n, bad, sizeof bad);
    fs_status st = fs_gpu_api_opencl.build(dev, defines, text, out);
    free(text);
    return st;
}

static fs_status f_create(const fs_topology *top, const fs_forceparams *p, fs_backend **out)
{
    return gpu_backend_create(&faulty_api, &faulty_ops, top, p, out);
}

static void no_faults(void)
{
    memset(&fault, 0, sizeof fault);
    fault.lose_at = -1;
}

/* ---- runs ------------------------------------------------------------------------------------------------------ */

/* The NPT variant: sd with a Monte Carlo barostat trial at every step (most trials rejected: the list is then left
 * built for a box that is no longer the current one, which the history must carry). */
static const char *const npt[] = {"integrator", "sd",    "tcoupl", "no",         "tau-t", "1.0", "pcoupl",
                                  "MC",         "ref-p", "1",      "nstpcouple", "5",     NULL};

/* Runs tests/data/run/nvt.ini with every output in directory `dir` of the suite's temporary directory, on the faulty
 * backend, with the deck keys `kv` (key, value, ..., NULL; or NULL) set on top. */
static fs_status run(const char *dir, int cont, const char *const *kv)
{
    char path[4][600];
    const char *key[4] = {"h5md", "log", "checkpoint", "confout"},
               *file[4] = {"traj.h5md", "md.log", "state.cpt", "confout.gro"};
    for (int k = 0; k < 4; ++k) snprintf(path[k], sizeof path[k], "%s/%s", fs_test_tmpfile(dir), file[k]);
    fs_deck *d = malloc(sizeof *d);
    assert_non_null(d);
    fs_status st = fs_deck_read(fs_test_path("tests/data/run/nvt.ini"), d);
    char n[32];
    snprintf(n, sizeof n, "%d", NSTEPS);
    if (st == FS_OK) st = fs_deck_set(d, "nsteps", n, "test", NULL);
    snprintf(n, sizeof n, "%d", NSTCHECKPOINT);
    if (st == FS_OK) st = fs_deck_set(d, "nstcheckpoint", n, "test", NULL);
    for (int k = 0; k < 4 && st == FS_OK; ++k) st = fs_deck_set(d, key[k], path[k], "test", NULL);
    for (int k = 0; kv && kv[k] && st == FS_OK; k += 2) st = fs_deck_set(d, kv[k], kv[k + 1], "test", NULL);
    if (st == FS_OK) st = fs_deck_validate(d);
    if (st != FS_OK) fail_msg("deck: %s", fs_error_message());
    fs_run_options opt = {cont, NULL, 0, &faulty_ops};
    fs_run_summary sum;
    st = fs_run(d, &opt, &sum);
    free(d);
    return st;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The checkpoint's state, read against the cube's topology. */
static fs_state *checkpoint_state(const char *dir)
{
    fs_topology *top = NULL;
    fs_state *s0 = NULL, *s = NULL;
    fs_test_load("tests/data/cli/water.top", "tests/data/cli/water.gro", &top, &s0);
    char path[600];
    snprintf(path, sizeof path, "%s/state.cpt", fs_test_tmpfile(dir));
    if (fs_checkpoint_read(path, top, &s, NULL, 0) != FS_OK) fail_msg("%s: %s", path, fs_error_message());
    fs_state_destroy(&s0);
    fs_topology_destroy(&top);
    return s;
}

static int same_state(const fs_state *a, const fs_state *b)
{
    if (a->natoms != b->natoms || a->step != b->step) return 0;
    size_t bytes = (size_t)a->natoms * sizeof(double);
    for (int d = 0; d < 3; ++d)
        if (memcmp(a->r[d], b->r[d], bytes) || memcmp(a->v[d], b->v[d], bytes)) return 0;
    return 1;
}

static int same_trajectory(const char *dir_a, const char *dir_b)
{
    char cmd[2000], a[600];
    snprintf(a, sizeof a, "%s", fs_test_tmpfile(dir_a));
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' same '%s/traj.h5md' '%s/traj.h5md' >/dev/null 2>&1",
             fs_test_path("tests/scripts/h5md_compare.py"), a, fs_test_tmpfile(dir_b));
    return system(cmd) == 0;
}

static void mkdir_tmp(const char *name)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", fs_test_tmpfile(name));
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(fs_test_tmpdir("device-faults"));
    faulty_api = fs_gpu_api_opencl;
    faulty_api.launch = f_launch;
    faulty_api.read = f_read;
    faulty_api.write = f_write;
    faulty_api.copy = f_copy;
    faulty_api.fill_zero = f_fill_zero;
    faulty_api.finish = f_finish;
    faulty_api.fft_exec = f_fft_exec;
    faulty_api.alloc = f_alloc;
    faulty_api.build = f_build;
    faulty_ops = fs_opencl_backend;
    faulty_ops.create = f_create;
    if (fs_opencl_backend.probe() != FS_OK) fail_msg("no OpenCL device: %s", fs_error_message());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fs_test_tmpdir_remove();
}

/* ---- the tests ------------------------------------------------------------------------------------------------- */

/* Drops the backend history from the checkpoint in `dir` (rewritten through the checkpoint API: the state and
 * scalars stay as they are). */
static void drop_history(const char *dir)
{
    fs_topology *top = NULL;
    fs_state *s0 = NULL, *s = NULL;
    fs_test_load("tests/data/cli/water.top", "tests/data/cli/water.gro", &top, &s0);
    char path[600];
    snprintf(path, sizeof path, "%s/state.cpt", fs_test_tmpfile(dir));
    fs_ckpt_scalar sc[7] = {{.name = "thermostat_work", .type = FS_CKPT_DOUBLE},
                            {.name = "barostat_max_dv", .type = FS_CKPT_DOUBLE},
                            {.name = "barostat_attempts", .type = FS_CKPT_INT64},
                            {.name = "barostat_accepted", .type = FS_CKPT_INT64},
                            {.name = "barostat_window_attempts", .type = FS_CKPT_INT64},
                            {.name = "barostat_window_accepted", .type = FS_CKPT_INT64},
                            {.name = "ld_seed", .type = FS_CKPT_UINT64}};
    fs_ckpt_history h;
    if (fs_checkpoint_read_history(path, top, &s, sc, 7, &h) != FS_OK) fail_msg("%s: %s", path, fs_error_message());
    assert_string_equal(h.backend, "opencl"); /* the table's name: the copy keeps it */
    assert_true(h.bytes > 0);
    free(h.data);
    if (fs_checkpoint_write(path, top, s, sc, 7) != FS_OK) fail_msg("%s: %s", path, fs_error_message());
    fs_state_destroy(&s);
    fs_state_destroy(&s0);
    fs_topology_destroy(&top);
}

static void copy_dir(const char *from, const char *to)
{
    char a[600], cmd[1400];
    snprintf(a, sizeof a, "%s", fs_test_tmpfile(from));
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", fs_test_tmpfile(to), a, fs_test_tmpfile(to));
    assert_int_equal(system(cmd), 0);
}

/* The device is lost mid-run (`kv`: NVT or NPT); the message and the checkpoint are as they should be, and the
 * continuation on the healthy device equals the uninterrupted run bit for bit, but not without the history. */
static void lost_and_continued(const char *const *kv, const char *tag)
{
    char ref[64], lost[64], nohist[64];
    snprintf(ref, sizeof ref, "%s-ref", tag);
    snprintf(lost, sizeof lost, "%s-lost", tag);
    snprintf(nohist, sizeof nohist, "%s-nohist", tag);
    mkdir_tmp(ref);
    mkdir_tmp(lost);
    no_faults();
    if (run(ref, 0, kv) != FS_OK) fail_msg("uninterrupted run: %s", fs_error_message());
    long total = fault.launches;
    print_message("%s: uninterrupted run: %ld kernel launches for %d steps\n", tag, total, NSTEPS);
    assert_true(total > NSTEPS);
    /* the launches of a LOSS_STEP-step run: the loss comes around that step */
    const char *kv_short[32];
    int m = 0;
    for (; kv && kv[m]; ++m) kv_short[m] = kv[m];
    char n[16];
    snprintf(n, sizeof n, "%d", LOSS_STEP);
    kv_short[m++] = "nsteps";
    kv_short[m++] = n;
    kv_short[m] = NULL;
    mkdir_tmp("short");
    no_faults();
    if (run("short", 0, kv_short) != FS_OK) fail_msg("short run: %s", fs_error_message());

    const long lose_at = fault.launches;
    no_faults();
    fault.lose_at = lose_at;
    fs_status st = run(lost, 0, kv);
    const char *msg = fs_error_message();
    print_message("device lost at launch %ld: %s\n", fault.lose_at, msg);
    assert_int_equal(st, FS_ERR_UNAVAILABLE);
    assert_non_null(strstr(msg, "CL_DEVICE_NOT_AVAILABLE"));
    assert_non_null(strstr(msg, "opencl backend"));
    assert_non_null(strstr(msg, "--continue"));
    const char *at = strstr(msg, "the run stopped after step ");
    assert_non_null(at);
    long stopped = atol(at + strlen("the run stopped after step "));
    assert_int_equal(stopped / 10, LOSS_STEP / 10); /* the chunk of steps in which the loss came */
    long want_cpt = stopped / NSTCHECKPOINT * NSTCHECKPOINT;
    assert_int_equal(want_cpt, 90);
    char cpt_text[64];
    snprintf(cpt_text, sizeof cpt_text, "state.cpt at step %ld, is intact", want_cpt);
    assert_non_null(strstr(msg, cpt_text));
    fs_state *s = checkpoint_state(lost);
    assert_int_equal(s->step, want_cpt);
    fs_state_destroy(&s);
    copy_dir(lost, nohist);
    drop_history(nohist);

    /* the healthy device continues from it: the same run as the uninterrupted one, bit for bit */
    no_faults();
    if (run(lost, 1, kv) != FS_OK) fail_msg("--continue after the loss: %s", fs_error_message());
    fs_state *a = checkpoint_state(ref), *b = checkpoint_state(lost);
    assert_int_equal(b->step, NSTEPS);
    assert_true(same_state(a, b));
    assert_true(same_trajectory(ref, lost));

    /* negative control: without the device's history (a fresh pair list at the restart) the last bits differ */
    no_faults();
    if (run(nohist, 1, kv) != FS_OK) fail_msg("--continue without history: %s", fs_error_message());
    fs_state *c = checkpoint_state(nohist);
    assert_int_equal(c->step, NSTEPS);
    assert_false(same_state(a, c));
    assert_false(same_trajectory(ref, nohist));
    fs_state_destroy(&a);
    fs_state_destroy(&b);
    fs_state_destroy(&c);
}

static void test_device_lost_mid_run(void **state)
{
    (void)state;
    lost_and_continued(NULL, "nvt");
}

static void test_device_lost_mid_npt_run(void **state)
{
    (void)state;
    lost_and_continued(npt, "npt");
}

/* Runs `--continue` in directory "nvt-ref" (a finished run) with the fault set by `arm`, and checks that it fails with
 * `code` and a message holding `want`, leaving the first `nfiles` of checkpoint, H5MD file and log as they were. */
static void fails_touching_nothing(void (*arm)(void), fs_status code, const char *want, int nfiles)
{
    static const char *const files[3] = {"state.cpt", "traj.h5md", "md.log"};
    char *before[3];
    size_t len[3];
    for (int k = 0; k < nfiles; ++k) {
        char p[700];
        snprintf(p, sizeof p, "%s/%s", fs_test_tmpfile("nvt-ref"), files[k]);
        before[k] = slurp(p, &len[k]);
    }
    no_faults();
    arm();
    fs_status st = run("nvt-ref", 1, NULL);
    const char *msg = fs_error_message();
    print_message("%.600s\n", msg);
    assert_int_equal(st, code);
    assert_non_null(strstr(msg, want));
    for (int k = 0; k < nfiles; ++k) {
        char p[700];
        size_t n;
        snprintf(p, sizeof p, "%s/%s", fs_test_tmpfile("nvt-ref"), files[k]);
        char *after = slurp(p, &n);
        if (n != len[k] || memcmp(after, before[k], n)) fail_msg("%s changed", files[k]);
        free(after);
        free(before[k]);
    }
    no_faults();
}

static void arm_oom(void)
{
    fault.oom_at = 2; /* positions, velocities, ...: the second buffer gpu_backend_create allocates */
}

static void arm_bad_compile(void)
{
    fault.bad_compile = 1;
}

static void test_out_of_device_memory(void **state)
{
    (void)state;
    fails_touching_nothing(arm_oom, FS_ERR_NOMEM, "out of device memory for velocities", 3);
}

static void test_compile_failure(void **state)
{
    (void)state;
    fails_touching_nothing(arm_bad_compile, FS_ERR_INVALID, "injected compile failure", 2);
    assert_non_null(strstr(fs_error_message(), "CL_BUILD_PROGRAM_FAILURE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_lost_mid_run),
        cmocka_unit_test(test_device_lost_mid_npt_run),
        cmocka_unit_test(test_out_of_device_memory),
        cmocka_unit_test(test_compile_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * test_h5md.c — the H5MD trajectory writer.
 *
 * Every check reads the file back independently of the writer, with the HDF5 C API (and, for the users' view, with
 * h5py and MDAnalysis through tests/scripts/check_h5md.py):
 *   - round trip: 4 frames of the SPC/E water box (1128 atoms) with positions, velocities, forces, a box that changes
 *     per frame, and 5 observables read back bit for bit; the H5MD metadata, units and hard links are as specified;
 *   - append: a file truncated to the frames with step <= the checkpoint's step continues with new frames; files
 *     that do not match the run (velocities, observables, atom count) are refused;
 *   - kill safety: a child process writing frames is killed with SIGKILL; every frame flushed before the kill is
 *     intact (and, as the negative control, without the flushes they are not);
 *   - MDAnalysis reads the file (positions in Angstrom = 10 x nm, box, time, step, velocities, forces, observables).
 * Each has a negative control: a comparison that must fail on a one-frame shift, a restart that must fail without
 * truncation, a python check that must fail on a file with a wrong unit.
 */
#include "support/fs_test.h"

#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/io/gro.h"
#include "core/io/h5md.h"

static fs_topology *g_top;
static fs_state *g_ref; /* the water box as read */

static int setup(void **state)
{
    (void)state;
    if (!fs_test_tmpdir("test-h5md")) return -1;
    fs_test_load("tests/data/cli/water.top", "tests/data/cli/water.gro", &g_top, &g_ref);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fs_topology_destroy(&g_top);
    fs_state_destroy(&g_ref);
    return fs_test_tmpdir_remove();
}

/* ---- the frames we write: deterministic, different in every frame, atom and component ---------------------- */

static double pattern(int f, int i, int d, int what)
{
    /* irrational-looking values that use all 53 bits, so a bit-exact comparison means something */
    return sin(1.0 + f * 0.37 + i * 0.011 + d * 0.7 + what * 1.3) * (what == 0 ? 0.01 : what == 1 ? 0.5 : 300.0);
}

static void make_frame(fs_state *s, int f, long step)
{
    for (int i = 0; i < s->natoms; ++i)
        for (int d = 0; d < 3; ++d) {
            s->r[d][i] = g_ref->r[d][i] + pattern(f, i, d, 0);
            s->v[d][i] = pattern(f, i, d, 1);
            s->f[d][i] = pattern(f, i, d, 2);
        }
    for (int d = 0; d < 3; ++d) s->box.len[d] = g_ref->box.len[d] * (1.0 + 0.001 * f + 0.0001 * d);
    s->step = step;
    s->time = step * 0.002;
}

static double observable(int row, int k)
{
    return -1000.0 * (k + 1) + sin(row + 0.1 * k);
}

static const char *const OBS[] = {"lj_sr", "coulomb_sr", "potential_energy", "temperature", "pressure"};
#define NOBS 5

static fs_h5md_options full_options(void)
{
    fs_h5md_options o = fs_h5md_options_default();
    o.author = "test author";
    o.creator_version = "0.test";
    o.write_velocities = 1;
    o.write_forces = 1;
    o.nobservables = NOBS;
    o.observable_names = OBS;
    return o;
}

static fs_state *new_state(void)
{
    fs_state *s = NULL;
    assert_int_equal(fs_state_create(g_ref->natoms, g_ref->natoms, &s), FS_OK);
    s->box = g_ref->box;
    return s;
}

/* Writes observables and frames f = 0..n-1 at steps step0 + 10 f (content from frame index f + shift), with
 * observables. */
static void write_frames(fs_h5md *h, fs_state *s, int n, long step0, int shift)
{
    for (int f = 0; f < n; ++f) {
        make_frame(s, f + shift, step0 + 10 * f);
        double v[NOBS];
        for (int k = 0; k < NOBS; ++k) v[k] = observable(f + shift, k);
        /* observables first, as h5md.h recommends */
        if (fs_h5md_write_observables(h, s->step, s->time, v) != FS_OK) fail_msg("%s", fs_error_message());
        if (fs_h5md_write_frame(h, s) != FS_OK) fail_msg("%s", fs_error_message());
    }
}

/* ---- reading back with the HDF5 C API ---------------------------------------------------------------------- */

static hsize_t rows_of(hid_t f, const char *path)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) fail_msg("cannot open %s", path);
    hid_t sp = H5Dget_space(d);
    hsize_t dims[4] = {0};
    H5Sget_simple_extent_dims(sp, dims, NULL);
    H5Sclose(sp);
    H5Dclose(d);
    return dims[0];
}

/* Reads a whole dataset into a new buffer of `mtype` elements. */
static void *read_all(hid_t f, const char *path, hid_t mtype, size_t elem)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) fail_msg("cannot open %s", path);
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    void *buf = malloc((size_t)(n > 0 ? n : 1) * elem);
    if (n > 0 && H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) fail_msg("cannot read %s", path);
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}

/* A string attribute (variable or fixed length) into buf. */
static void attr_string(hid_t f, const char *obj, const char *name, char *buf, size_t cap)
{
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) fail_msg("no attribute %s on %s", name, obj);
    hid_t t = H5Aget_type(a);
    buf[0] = '\0';
    if (H5Tis_variable_str(t) > 0) {
        char *s = NULL;
        hid_t mt = H5Tget_native_type(t, H5T_DIR_ASCEND);
        assert_true(H5Aread(a, mt, &s) >= 0);
        snprintf(buf, cap, "%s", s);
        H5free_memory(s);
        H5Tclose(mt);
    } else {
        size_t n = H5Tget_size(t);
        char *s = calloc(n + 1, 1);
        assert_true(H5Aread(a, t, s) >= 0);
        snprintf(buf, cap, "%s", s);
        free(s);
    }
    H5Tclose(t);
    H5Aclose(a);
}

static void assert_attr(hid_t f, const char *obj, const char *name, const char *want)
{
    char got[256];
    attr_string(f, obj, name, got, sizeof got);
    if (strcmp(got, want) != 0) fail_msg("%s@%s is '%s', expected '%s'", obj, name, got, want);
}

static haddr_t address_of(hid_t f, const char *path)
{
    H5O_info_t info;
    if (H5Oget_info_by_name(f, path, &info, H5P_DEFAULT) < 0) fail_msg("no object %s", path);
    return info.addr;
}

/* 1 if frame row `row` of dataset `path` ([rows][N][3]) holds exactly component `what` of frame f. */
static int frame_matches(const double *all, int natoms, int row, int f, int what)
{
    for (int i = 0; i < natoms; ++i)
        for (int d = 0; d < 3; ++d) {
            double want = what == 0 ? g_ref->r[d][i] + pattern(f, i, d, 0) : pattern(f, i, d, what);
            if (memcmp(&all[((size_t)row * natoms + i) * 3 + d], &want, sizeof want) != 0) return 0;
        }
    return 1;
}

/* Checks rows [0, nrows) of the file: row r holds frame content[r] at step steps[r]. */
static void check_frames(const char *path, int nrows, const int *content, const long *steps)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) fail_msg("cannot open %s", path);
    int n = g_ref->natoms;
    const char *series[] = {
        "particles/all/position/step",  "particles/all/position/time",   "particles/all/position/value",
        "particles/all/velocity/value", "particles/all/force/value",     "particles/all/box/edges/value",
        "particles/all/box/edges/step", "observables/temperature/value", "observables/lj_sr/step"};
    for (size_t k = 0; k < sizeof series / sizeof series[0]; ++k)
        if (rows_of(f, series[k]) != (hsize_t)nrows)
            fail_msg("%s has %llu rows, expected %d", series[k], (unsigned long long)rows_of(f, series[k]), nrows);
    long long *st = read_all(f, "particles/all/position/step", H5T_NATIVE_LLONG, sizeof *st);
    double *tm = read_all(f, "particles/all/position/time", H5T_NATIVE_DOUBLE, sizeof *tm);
    double *pos = read_all(f, "particles/all/position/value", H5T_NATIVE_DOUBLE, sizeof *pos);
    double *vel = read_all(f, "particles/all/velocity/value", H5T_NATIVE_DOUBLE, sizeof *vel);
    double *frc = read_all(f, "particles/all/force/value", H5T_NATIVE_DOUBLE, sizeof *frc);
    double *edg = read_all(f, "particles/all/box/edges/value", H5T_NATIVE_DOUBLE, sizeof *edg);
    long long *ost = read_all(f, "observables/pressure/step", H5T_NATIVE_LLONG, sizeof *ost);
    for (int r = 0; r < nrows; ++r) {
        assert_int_equal(st[r], steps[r]);
        assert_int_equal(ost[r], steps[r]);
        double t = steps[r] * 0.002;
        assert_memory_equal(&tm[r], &t, sizeof t);
        if (!frame_matches(pos, n, r, content[r], 0)) fail_msg("%s: positions of row %d differ", path, r);
        if (!frame_matches(vel, n, r, content[r], 1)) fail_msg("%s: velocities of row %d differ", path, r);
        if (!frame_matches(frc, n, r, content[r], 2)) fail_msg("%s: forces of row %d differ", path, r);
        for (int a = 0; a < 3; ++a)
            for (int b = 0; b < 3; ++b) {
                double want = a == b ? g_ref->box.len[a] * (1.0 + 0.001 * content[r] + 0.0001 * a) : 0.0;
                assert_memory_equal(&edg[r * 9 + a * 3 + b], &want, sizeof want);
            }
    }
    for (int k = 0; k < NOBS; ++k) {
        char p[128];
        snprintf(p, sizeof p, "observables/%s/value", OBS[k]);
        double *v = read_all(f, p, H5T_NATIVE_DOUBLE, sizeof *v);
        for (int r = 0; r < nrows; ++r) {
            double want = observable(content[r], k);
            assert_memory_equal(&v[r], &want, sizeof want);
        }
        free(v);
    }
    free(st), free(tm), free(pos), free(vel), free(frc), free(edg), free(ost);
    H5Fclose(f);
}

/* Redirects stderr to a file until end_capture(), which returns the number of bytes written to it. */
static int g_saved_stderr = -1;
static void begin_capture(void)
{
    fflush(stderr);
    g_saved_stderr = dup(2);
    int fd = open(fs_test_tmpfile("stderr.txt"), O_CREAT | O_TRUNC | O_WRONLY, 0644);
    dup2(fd, 2);
    close(fd);
}

static long end_capture(void)
{
    fflush(stderr);
    dup2(g_saved_stderr, 2);
    close(g_saved_stderr);
    struct stat sb;
    return stat(fs_test_tmpfile("stderr.txt"), &sb) == 0 ? (long)sb.st_size : -1;
}

/* ---- tests ------------------------------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("rt.h5");
    fs_state *s = new_state();
    s->box.periodic[2] = 0;                                       /* a slab: boundary none along z */
    for (int i = 0; i < s->natoms; ++i) s->id[i] = 1000 + 7L * i; /* ids survive as given */
    fs_h5md_options o = full_options();
    fs_h5md *h = NULL;
    if (fs_h5md_create(path, g_top, s, &o, &h) != FS_OK) fail_msg("%s", fs_error_message());
    write_frames(h, s, 4, 0, 0);
    assert_int_equal(fs_h5md_nframes(h), 4);
    assert_int_equal(fs_h5md_nobservable_rows(h), 4);
    assert_int_equal(fs_h5md_close(&h), FS_OK);
    assert_null(h);

    const int content[4] = {0, 1, 2, 3};
    const long steps[4] = {0, 10, 20, 30};
    check_frames(path, 4, content, steps);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    /* metadata */
    int version[2] = {0, 0};
    hid_t a = H5Aopen_by_name(f, "h5md", "version", H5P_DEFAULT, H5P_DEFAULT);
    assert_true(H5Aread(a, H5T_NATIVE_INT, version) >= 0);
    H5Aclose(a);
    assert_int_equal(version[0], 1);
    assert_int_equal(version[1], 1);
    assert_attr(f, "h5md/author", "name", "test author");
    assert_attr(f, "h5md/creator", "name", "ferrosolv");
    assert_attr(f, "h5md/creator", "version", "0.test");
    assert_attr(f, "particles/all/position/value", "unit", "nm");
    assert_attr(f, "particles/all/position/time", "unit", "ps");
    assert_attr(f, "particles/all/velocity/value", "unit", "nm ps-1");
    assert_attr(f, "particles/all/force/value", "unit", "kJ mol-1 nm-1");
    assert_attr(f, "particles/all/box/edges/value", "unit", "nm");
    assert_attr(f, "particles/all/charge", "unit", "e");
    assert_attr(f, "particles/all/mass", "unit", "u");
    assert_attr(f, "observables/lj_sr/value", "unit", "kJ mol-1");
    assert_attr(f, "observables/temperature/value", "unit", "K");
    assert_attr(f, "observables/pressure/value", "unit", "bar");
    /* boundary: a fixed-length string array */
    a = H5Aopen_by_name(f, "particles/all/box", "boundary", H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    size_t len = H5Tget_size(t);
    assert_true(H5Tis_variable_str(t) == 0);
    char *b = calloc(3, len);
    assert_true(H5Aread(a, t, b) >= 0);
    assert_string_equal(b, "periodic");
    assert_string_equal(b + len, "periodic");
    assert_string_equal(b + 2 * len, "none");
    free(b);
    H5Tclose(t);
    H5Aclose(a);
    /* hard links: one step and one time dataset for position, box, velocity and force, one for the observables */
    haddr_t step = address_of(f, "particles/all/position/step"), time = address_of(f, "particles/all/position/time");
    assert_true(step != time);
    const char *elems[] = {"box/edges", "velocity", "force"};
    for (int k = 0; k < 3; ++k) {
        char p[128];
        snprintf(p, sizeof p, "particles/all/%s/step", elems[k]);
        assert_true(address_of(f, p) == step);
        snprintf(p, sizeof p, "particles/all/%s/time", elems[k]);
        assert_true(address_of(f, p) == time);
    }
    assert_true(address_of(f, "observables/lj_sr/step") == address_of(f, "observables/pressure/step"));
    assert_true(address_of(f, "observables/lj_sr/step") != step);
    /* time-independent elements */
    int *species = read_all(f, "particles/all/species", H5T_NATIVE_INT, sizeof *species);
    double *q = read_all(f, "particles/all/charge", H5T_NATIVE_DOUBLE, sizeof *q);
    double *m = read_all(f, "particles/all/mass", H5T_NATIVE_DOUBLE, sizeof *m);
    long long *id = read_all(f, "particles/all/id", H5T_NATIVE_LLONG, sizeof *id);
    assert_int_equal(rows_of(f, "particles/all/species"), g_top->natoms);
    for (int i = 0; i < g_top->natoms; ++i) {
        assert_int_equal(species[i], g_top->atoms[i].type);
        assert_memory_equal(&q[i], &g_top->atoms[i].charge, sizeof(double));
        assert_memory_equal(&m[i], &g_top->atoms[i].mass, sizeof(double));
        assert_int_equal(id[i], 1000 + 7L * i);
    }
    assert_int_equal(species[0], 0); /* OW */
    assert_int_equal(species[1], 1); /* HW */
    free(species), free(q), free(m), free(id);

    /* Negative control: the same comparison against frames shifted by one must fail. */
    double *pos = read_all(f, "particles/all/position/value", H5T_NATIVE_DOUBLE, sizeof *pos);
    assert_true(frame_matches(pos, g_ref->natoms, 2, 2, 0));
    assert_false(frame_matches(pos, g_ref->natoms, 2, 3, 0));
    assert_false(frame_matches(pos, g_ref->natoms, 2, 2, 1));
    free(pos);
    H5Fclose(f);
    fs_state_destroy(&s);
}

static void test_compression(void **state)
{
    (void)state;
    const char *plain = fs_test_tmpfile("plain.h5"), *packed = fs_test_tmpfile("packed.h5");
    fs_state *s = new_state();
    fs_h5md_options o = full_options();
    fs_h5md *h = NULL;
    for (int pass = 0; pass < 2; ++pass) {
        o.compression = pass ? 6 : 0;
        assert_int_equal(fs_h5md_create(pass ? packed : plain, g_top, s, &o, &h), FS_OK);
        write_frames(h, s, 3, 100, 0);
        assert_int_equal(fs_h5md_close(&h), FS_OK);
    }
    const int content[3] = {0, 1, 2};
    const long steps[3] = {100, 110, 120};
    check_frames(packed, 3, content, steps);
    /* the filter is really there, and only on the compressed file */
    const char *paths[2] = {plain, packed};
    for (int k = 0; k < 2; ++k) {
        hid_t f = H5Fopen(paths[k], H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t d = H5Dopen2(f, "particles/all/position/value", H5P_DEFAULT);
        hid_t dcpl = H5Dget_create_plist(d);
        unsigned flags;
        size_t nelem = 0;
        htri_t has = H5Pget_filter_by_id2(dcpl, H5Z_FILTER_DEFLATE, &flags, &nelem, NULL, 0, NULL, NULL) >= 0;
        assert_int_equal(has, k == 1);
        H5Pclose(dcpl), H5Dclose(d), H5Fclose(f);
    }
    o.compression = 10;
    assert_int_equal(fs_h5md_create(fs_test_tmpfile("bad.h5"), g_top, s, &o, &h), FS_ERR_INVALID);
    assert_null(h);
    fs_state_destroy(&s);
}

static void test_invalid_use(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("inv.h5");
    fs_state *s = new_state();
    fs_h5md_options o = full_options();
    fs_h5md *h = NULL;

    const char *dup[] = {"temperature", "temperature"}, *slash[] = {"a/b"}, *empty[] = {""};
    o.nobservables = 2, o.observable_names = dup;
    assert_int_equal(fs_h5md_create(path, g_top, s, &o, &h), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "twice"));
    o.nobservables = 1, o.observable_names = slash;
    assert_int_equal(fs_h5md_create(path, g_top, s, &o, &h), FS_ERR_INVALID);
    o.observable_names = empty;
    assert_int_equal(fs_h5md_create(path, g_top, s, &o, &h), FS_ERR_INVALID);
    assert_null(h);

    /* a directory that does not exist: an I/O error naming the file, and nothing printed by HDF5 */
    o = full_options();
    begin_capture();
    fs_status st = fs_h5md_create("/nonexistent-dir/x.h5", g_top, s, &o, &h);
    assert_int_equal(end_capture(), 0);
    assert_int_equal(st, FS_ERR_IO);
    assert_non_null(strstr(fs_error_message(), "/nonexistent-dir/x.h5"));
    assert_non_null(strstr(fs_error_message(), "H5Fcreate"));
    /* Negative control: HDF5 with its printing on does print for the same failure. */
    begin_capture();
    H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, NULL);
    hid_t bad = H5Fcreate("/nonexistent-dir/x.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    assert_true(end_capture() > 0);
    assert_true(bad < 0);

    o = full_options();
    o.nobservables = 0;
    assert_int_equal(fs_h5md_create(path, g_top, s, &o, &h), FS_OK);
    make_frame(s, 0, 50);
    assert_int_equal(fs_h5md_write_frame(h, s), FS_OK);
    s->step = 50; /* not after the last frame */
    assert_int_equal(fs_h5md_write_frame(h, s), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "step 50"));
    double v = 1.0;
    assert_int_equal(fs_h5md_write_observables(h, 60, 0.12, &v), FS_ERR_INVALID); /* none declared */
    s->natoms--;
    s->step = 60;
    assert_int_equal(fs_h5md_write_frame(h, s), FS_ERR_INVALID);
    s->natoms++;
    assert_int_equal(fs_h5md_write_frame(h, s), FS_OK); /* the refused calls left the file usable */
    assert_int_equal(fs_h5md_nframes(h), 2);
    assert_int_equal(fs_h5md_close(&h), FS_OK);
    assert_int_equal(fs_h5md_close(&h), FS_OK); /* NULL is fine */
    assert_int_equal(fs_h5md_close(NULL), FS_OK);

    /* a state that does not match the topology */
    s->natoms--;
    assert_int_equal(fs_h5md_create(path, g_top, s, &o, &h), FS_ERR_INVALID);
    s->natoms++;
    fs_state_destroy(&s);
}

static void test_append_truncates(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("app.h5");
    fs_state *s = new_state();
    fs_h5md_options o = full_options();
    fs_h5md *h = NULL;
    assert_int_equal(fs_h5md_create(path, g_top, s, &o, &h), FS_OK);
    write_frames(h, s, 6, 0, 0); /* steps 0..50 */
    assert_int_equal(fs_h5md_close(&h), FS_OK);

    /* Negative control: continuing without truncation cannot write step 30 again. */
    if (fs_h5md_append(path, g_top, s, &o, 1000, &h) != FS_OK) fail_msg("%s", fs_error_message());
    assert_int_equal(fs_h5md_nframes(h), 6);
    make_frame(s, 7, 30);
    assert_int_equal(fs_h5md_write_frame(h, s), FS_ERR_INVALID);
    assert_int_equal(fs_h5md_close(&h), FS_OK);

    /* restart from a checkpoint at step 25: frames 0, 10, 20 stay; new frames at 30, 40 with other content */
    if (fs_h5md_append(path, g_top, s, &o, 25, &h) != FS_OK) fail_msg("%s", fs_error_message());
    assert_int_equal(fs_h5md_nframes(h), 3);
    assert_int_equal(fs_h5md_nobservable_rows(h), 3);
    write_frames(h, s, 2, 30, 10);
    assert_int_equal(fs_h5md_close(&h), FS_OK);
    const int content[5] = {0, 1, 2, 10, 11};
    const long steps[5] = {0, 10, 20, 30, 40};
    check_frames(path, 5, content, steps);

    /* truncation to nothing, then a fresh start at step 0 */
    assert_int_equal(fs_h5md_append(path, g_top, s, &o, -1, &h), FS_OK);
    assert_int_equal(fs_h5md_nframes(h), 0);
    write_frames(h, s, 1, 0, 20);
    assert_int_equal(fs_h5md_close(&h), FS_OK);
    const int content1[1] = {20};
    const long steps1[1] = {0};
    check_frames(path, 1, content1, steps1);

    /* files that do not match the run */
    fs_h5md_options bad = full_options();
    bad.write_forces = 0;
    assert_int_equal(fs_h5md_append(path, g_top, s, &bad, 0, &h), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "force"));
    const char *swapped[NOBS] = {"coulomb_sr", "lj_sr", "potential_energy", "temperature", "pressure"};
    bad = full_options();
    bad.observable_names = swapped;
    assert_int_equal(fs_h5md_append(path, g_top, s, &bad, 0, &h), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "lj_sr"));
    bad.nobservables = 4, bad.observable_names = OBS;
    assert_int_equal(fs_h5md_append(path, g_top, s, &bad, 0, &h), FS_ERR_INVALID);
    assert_null(h);
    fs_topology small = *g_top;
    small.natoms = 3;
    fs_state *s3 = NULL;
    assert_int_equal(fs_state_create(3, 3, &s3), FS_OK);
    assert_int_equal(fs_h5md_append(path, &small, s3, &o, 0, &h), FS_ERR_PARSE);
    fs_state_destroy(&s3);
    assert_int_equal(fs_h5md_append(fs_test_tmpfile("missing.h5"), g_top, s, &o, 0, &h), FS_ERR_IO);
    FILE *txt = fopen(fs_test_tmpfile("text.h5"), "w");
    fputs("not hdf5\n", txt);
    fclose(txt);
    assert_int_equal(fs_h5md_append(fs_test_tmpfile("text.h5"), g_top, s, &o, 0, &h), FS_ERR_PARSE);
    assert_null(h);
    fs_state_destroy(&s);
}

/* ---- kill safety ------------------------------------------------------------------------------------------- */

/* Frame k of the kill tests: positions from pattern(k, ...), step 10 k. */
typedef struct {
    volatile int done;     /* frames completed (fs_h5md_write_frame returned) */
    volatile int in_write; /* 1 while inside fs_h5md_write_frame */
} shared_progress;

static void busy_wait_us(long us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

/* The child: writes frames forever (or `stop_after` frames, then sleeps), reporting each on the pipe. */
static void writer_child(const char *path, int flush_interval, int stop_after, long compute_us, int fd,
                         shared_progress *p)
{
    fs_state *s = new_state();
    fs_h5md_options o = fs_h5md_options_default();
    o.flush_interval = flush_interval;
    o.write_velocities = 1;
    fs_h5md *h = NULL;
    if (fs_h5md_create(path, g_top, s, &o, &h) != FS_OK) _exit(3);
    for (int f = 0;; ++f) {
        if (stop_after >= 0 && f == stop_after) {
            char b = 1;
            if (write(fd, &b, 1) != 1) _exit(5);
            for (;;) pause();
        }
        make_frame(s, f, 10L * f);
        p->in_write = 1;
        if (fs_h5md_write_frame(h, s) != FS_OK) _exit(4);
        p->done = f + 1; /* before in_write = 0: a kill in between counts as inside the write */
        p->in_write = 0;
        if (stop_after < 0) {
            char b = 1;
            if (write(fd, &b, 1) != 1) _exit(5);
        }
        busy_wait_us(compute_us);
    }
}

/* Runs a child, kills it (after `wait_frames` reports plus a random delay up to max_delay_us), returns the progress
 * it had made. */
static shared_progress run_and_kill(const char *path, int flush_interval, int stop_after, int wait_frames,
                                    long compute_us, long max_delay_us)
{
    shared_progress *p = mmap(NULL, sizeof *p, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    p->done = p->in_write = 0;
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        writer_child(path, flush_interval, stop_after, compute_us, fd[1], p);
        _exit(0);
    }
    close(fd[1]);
    char b;
    for (int got = 0; got < wait_frames;) {
        if (read(fd[0], &b, 1) != 1) fail_msg("the writer child died early");
        got++;
    }
    if (max_delay_us > 0) busy_wait_us(rand() % max_delay_us);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    close(fd[0]);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    shared_progress out = {p->done, p->in_write};
    munmap(p, sizeof *p);
    return out;
}

/* Opens the file after a kill: returns the number of frames (len(position/step)), or -1 if it cannot be opened;
 * *intact is the number of leading frames whose step, time, box and positions are exactly frame k's. */
static long inspect_killed(const char *path, long *intact)
{
    *intact = 0;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0) return -1;
    long n = -1;
    hid_t ds = H5Dopen2(f, "particles/all/position/step", H5P_DEFAULT);
    hid_t dt = H5Dopen2(f, "particles/all/position/time", H5P_DEFAULT);
    hid_t dp = H5Dopen2(f, "particles/all/position/value", H5P_DEFAULT);
    hid_t de = H5Dopen2(f, "particles/all/box/edges/value", H5P_DEFAULT);
    if (ds >= 0 && dt >= 0 && dp >= 0 && de >= 0) {
        hid_t sp = H5Dget_space(ds);
        hsize_t dims[3];
        H5Sget_simple_extent_dims(sp, dims, NULL);
        H5Sclose(sp);
        n = (long)dims[0];
        int natoms = g_ref->natoms;
        double *x = malloc(sizeof *x * 3 * (size_t)natoms);
        for (long k = 0; k < n; ++k) {
            long long step;
            double t, e[9];
            hsize_t start[3] = {(hsize_t)k, 0, 0}, one[3] = {1, 3, 3}, fr[3] = {1, (hsize_t)natoms, 3};
            hid_t m1 = H5Screate_simple(1, one, NULL), m9 = H5Screate_simple(3, one, NULL);
            hid_t mf = H5Screate_simple(3, fr, NULL);
            hid_t fs1 = H5Dget_space(ds), ft = H5Dget_space(dt), fe = H5Dget_space(de), fp = H5Dget_space(dp);
            H5Sselect_hyperslab(fs1, H5S_SELECT_SET, start, NULL, one, NULL);
            H5Sselect_hyperslab(ft, H5S_SELECT_SET, start, NULL, one, NULL);
            H5Sselect_hyperslab(fe, H5S_SELECT_SET, start, NULL, one, NULL);
            H5Sselect_hyperslab(fp, H5S_SELECT_SET, start, NULL, fr, NULL);
            int ok = H5Dread(ds, H5T_NATIVE_LLONG, m1, fs1, H5P_DEFAULT, &step) >= 0 &&
                     H5Dread(dt, H5T_NATIVE_DOUBLE, m1, ft, H5P_DEFAULT, &t) >= 0 &&
                     H5Dread(de, H5T_NATIVE_DOUBLE, m9, fe, H5P_DEFAULT, e) >= 0 &&
                     H5Dread(dp, H5T_NATIVE_DOUBLE, mf, fp, H5P_DEFAULT, x) >= 0;
            H5Sclose(m1), H5Sclose(m9), H5Sclose(mf), H5Sclose(fs1), H5Sclose(ft), H5Sclose(fe), H5Sclose(fp);
            ok = ok && step == 10 * k && t == 10 * k * 0.002 && frame_matches(x, natoms, 0, (int)k, 0);
            ok = ok && e[0] == g_ref->box.len[0] * (1.0 + 0.001 * k) && e[1] == 0.0;
            if (!ok) break;
            *intact = k + 1;
        }
        free(x);
    }
    if (ds >= 0) H5Dclose(ds);
    if (dt >= 0) H5Dclose(dt);
    if (dp >= 0) H5Dclose(dp);
    if (de >= 0) H5Dclose(de);
    H5Fclose(f);
    return n;
}

static void test_kill_safety(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("kill.h5");
    long intact, n;

    /* A writer killed while idle between frames: exactly its frames, all intact. */
    shared_progress p = run_and_kill(path, 1, 7, 1, 0, 0);
    assert_int_equal(p.done, 7);
    n = inspect_killed(path, &intact);
    assert_int_equal(n, 7);
    assert_int_equal(intact, 7);

    /* Negative control: the same kill without per-frame flushes loses the frames (the file may not even open). */
    p = run_and_kill(path, 1 << 30, 7, 1, 0, 0);
    assert_int_equal(p.done, 7);
    n = inspect_killed(path, &intact);
    assert_true(intact < 7);

    /* Killed at random moments while writing with 1 ms of "computing" between frames: a kill outside a write must
     * leave exactly the completed frames; a kill inside a write may add the frame being written, and the file must
     * open in every case. */
    srand(12345);
    int outside = 0, inside = 0, inside_damaged = 0;
    for (int trial = 0; trial < 24; ++trial) {
        p = run_and_kill(path, 1, -1, 2 + trial % 5, 1000, 2000);
        n = inspect_killed(path, &intact);
        if (n < 0) fail_msg("trial %d: the file of a killed writer does not open", trial);
        if (!p.in_write) {
            outside++;
            if (n != p.done || intact != n)
                fail_msg("trial %d: killed between frames after %d frames: %ld frames, %ld intact", trial, p.done, n,
                         intact);
        } else {
            inside++;
            assert_true(n == p.done || n == p.done + 1);
            if (intact != n) inside_damaged++;
        }
    }
    print_message("kill safety: %d kills between frames (all exact), %d inside a write (%d with a damaged tail)\n",
                  outside, inside, inside_damaged);
    assert_true(outside >= 12); /* the loop really tested the guarantee */
}

/* ---- the users' view: h5py and MDAnalysis --------------------------------------------------------------------- */

static int run_python_check(const char *h5, const char *gro, int nframes)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -W ignore %s %s %s %d", fs_test_path("tests/scripts/check_h5md.py"), h5,
             gro, nframes);
    fflush(stdout);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_mdanalysis_reads_it(void **state)
{
    (void)state;
    const char *h5 = fs_test_tmpfile("md.h5md"), *gro = fs_test_tmpfile("md.gro");
    fs_state *s = new_state();
    make_frame(s, 0, 0);
    assert_int_equal(fs_gro_write(gro, "water for MDAnalysis", g_top, s, 0, 3), FS_OK);
    fs_h5md_options o = full_options();
    fs_h5md *h = NULL;
    assert_int_equal(fs_h5md_create(h5, g_top, s, &o, &h), FS_OK);
    write_frames(h, s, 3, 0, 0);
    assert_int_equal(fs_h5md_close(&h), FS_OK);
    assert_int_equal(run_python_check(h5, gro, 3), 0);

    /* Negative controls: the wrong frame count; a GRO of another frame (h5py's checks pass, MDAnalysis's frame 0
     * differs from it); a file whose position unit says Angstrom. */
    assert_int_not_equal(run_python_check(h5, gro, 4), 0);
    const char *gro1 = fs_test_tmpfile("md1.gro");
    make_frame(s, 1, 10);
    assert_int_equal(fs_gro_write(gro1, "frame 1", g_top, s, 0, 3), FS_OK);
    assert_int_not_equal(run_python_check(h5, gro1, 3), 0);
    hid_t f = H5Fopen(h5, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Adelete_by_name(f, "particles/all/position/value", "unit", H5P_DEFAULT) >= 0);
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t a =
        H5Acreate_by_name(f, "particles/all/position/value", "unit", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char *angstrom = "Angstrom";
    assert_true(H5Awrite(a, t, &angstrom) >= 0);
    H5Aclose(a), H5Sclose(sp), H5Tclose(t), H5Fclose(f);
    assert_int_not_equal(run_python_check(h5, gro, 3), 0);
    fs_state_destroy(&s);
}

static void test_names_and_units(void **state)
{
    (void)state;
    assert_string_equal(fs_h5md_term_name(0), "lj_sr");
    for (int t = 0; fs_h5md_term_name(t); ++t)
        assert_string_equal(fs_h5md_observable_unit(fs_h5md_term_name(t)), "kJ mol-1");
    assert_null(fs_h5md_term_name(-1));
    assert_string_equal(fs_h5md_observable_unit("conserved_energy"), "kJ mol-1");
    assert_string_equal(fs_h5md_observable_unit("density"), "kg m-3");
    assert_string_equal(fs_h5md_observable_unit("volume"), "nm+3");
    assert_null(fs_h5md_observable_unit("my_observable"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_compression),
        cmocka_unit_test(test_invalid_use),     cmocka_unit_test(test_append_truncates),
        cmocka_unit_test(test_kill_safety),     cmocka_unit_test(test_mdanalysis_reads_it),
        cmocka_unit_test(test_names_and_units),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

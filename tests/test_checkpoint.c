/*
 * test_checkpoint.c — checkpoints: bit-exact round trip, atomic replacement, damaged files, wrong systems.
 *
 *   - round trip: positions and velocities set to arbitrary 64-bit patterns (including -0, subnormals, the largest
 *     double and NaNs with payloads), odd box lengths, a slab box, a step beyond 2^40, permuted ids and scalars of
 *     all three types (a uint64 seed above INT64_MAX) read back bit for bit; negative control: a one-ulp change is
 *     detected by the same comparison;
 *   - scalars: a missing name or a wrong type is an error naming the scalar; bad names are refused before writing;
 *   - backend history: a 100 kB block and its backend's name read back byte for byte (negative control: one
 *     flipped byte is seen); a file without one reads back with none; a nameless one is refused;
 *   - atomicity: a write that fails half-way (file size limit, RLIMIT_FSIZE, so that it works for root too) leaves
 *     the previous checkpoint readable and unchanged and no temporary file; negative control: the same write without
 *     the limit replaces it;
 *   - damage: truncated files and a flipped bit in the raw positions or in a scalar are errors (the file hash in the
 *     user block), every one of 200 single-byte corruptions spread over the file ends in an error or in bit-identical
 *     data, and nothing is printed (negative control: with HDF5's printing on, opening a damaged file does print);
 *   - systems: another atom count, or the same count with one charge changed, is refused.
 */
#include "support/fs_test.h"

#include <fcntl.h>
#include <float.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/io/checkpoint.h"

static fs_topology *g_top;
static fs_state *g_state; /* the state we write */

static uint64_t g_rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_bits(void)
{
    /* splitmix64 */
    uint64_t z = (g_rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double bits_to_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static int setup(void **state)
{
    (void)state;
    if (!fs_test_tmpdir("test-checkpoint")) return -1;
    fs_test_load("tests/data/cli/water.top", "tests/data/cli/water.gro", &g_top, &g_state);
    fs_state *s = g_state;
    for (int i = 0; i < s->natoms; ++i)
        for (int d = 0; d < 3; ++d) {
            s->r[d][i] = bits_to_double(next_bits()); /* anything at all, NaN patterns included */
            s->v[d][i] = bits_to_double(next_bits());
        }
    s->r[0][0] = -0.0;
    s->r[1][0] = DBL_MIN / 3.0; /* subnormal */
    s->r[2][0] = DBL_MAX;
    s->v[0][0] = bits_to_double(0x7ff0000000000001ULL); /* signalling NaN with a payload */
    s->v[1][0] = bits_to_double(0xfff8000000000123ULL); /* negative quiet NaN with a payload */
    for (int i = 0; i < s->natoms; ++i) s->id[i] = (long)((i * 7919L) % s->natoms) + 1000000000000L;
    s->box.len[0] = 1.0 / 3.0, s->box.len[1] = 2.4000000000000004, s->box.len[2] = 10.0 / 7.0;
    s->box.periodic[2] = 0;
    s->step = (1L << 40) + 7;
    s->time = 0.1 * (double)s->step;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fs_topology_destroy(&g_top);
    fs_state_destroy(&g_state);
    return fs_test_tmpdir_remove();
}

#define NSCALARS 5
static void make_scalars(fs_ckpt_scalar *sc)
{
    sc[0] = (fs_ckpt_scalar){.name = "thermostat_work", .type = FS_CKPT_DOUBLE, .d = -1234.5678901234567};
    sc[1] = (fs_ckpt_scalar){.name = "barostat_max_scale", .type = FS_CKPT_DOUBLE, .d = 0.0123456789};
    sc[2] = (fs_ckpt_scalar){.name = "barostat_attempts", .type = FS_CKPT_INT64, .i = -(1LL << 62) + 3};
    sc[3] = (fs_ckpt_scalar){.name = "barostat_accepted", .type = FS_CKPT_INT64, .i = 4242};
    sc[4] = (fs_ckpt_scalar){.name = "seed", .type = FS_CKPT_UINT64, .u = 0xfedcba9876543210ULL};
}

/* Scalars as the reader is asked for them: names and types, values scrambled. */
static void make_queries(fs_ckpt_scalar *q)
{
    make_scalars(q);
    for (int k = 0; k < NSCALARS; ++k) q[k].u = 0x5555555555555555ULL;
}

/* 1 if a and b hold the same atoms bit for bit (positions, velocities, ids), box, step and time. */
static int states_identical(const fs_state *a, const fs_state *b)
{
    if (a->natoms != b->natoms || a->step != b->step) return 0;
    if (memcmp(&a->time, &b->time, sizeof a->time) != 0) return 0;
    if (memcmp(a->box.len, b->box.len, sizeof a->box.len) != 0) return 0;
    for (int d = 0; d < 3; ++d) {
        if ((a->box.periodic[d] != 0) != (b->box.periodic[d] != 0)) return 0;
        if (memcmp(a->r[d], b->r[d], (size_t)a->natoms * sizeof(double)) != 0) return 0;
        if (memcmp(a->v[d], b->v[d], (size_t)a->natoms * sizeof(double)) != 0) return 0;
    }
    return memcmp(a->id, b->id, (size_t)a->natoms * sizeof(long)) == 0;
}

static void write_ok(const char *path, const fs_state *s)
{
    fs_ckpt_scalar sc[NSCALARS];
    make_scalars(sc);
    if (fs_checkpoint_write(path, g_top, s, sc, NSCALARS) != FS_OK) fail_msg("%s", fs_error_message());
}

/* Reads path and asserts it holds exactly `s` and the standard scalars. */
static void assert_reads_as(const char *path, const fs_state *s)
{
    fs_ckpt_scalar want[NSCALARS], got[NSCALARS];
    make_scalars(want);
    make_queries(got);
    fs_state *r = NULL;
    if (fs_checkpoint_read(path, g_top, &r, got, NSCALARS) != FS_OK) fail_msg("%s", fs_error_message());
    assert_true(states_identical(r, s));
    assert_int_equal(r->capacity, r->natoms);
    for (int k = 0; k < NSCALARS; ++k) assert_memory_equal(&got[k].u, &want[k].u, sizeof(uint64_t));
    fs_state_destroy(&r);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("rt.ckpt");
    write_ok(path, g_state);
    assert_reads_as(path, g_state);
    assert_int_equal(access(fs_test_tmpfile("rt.ckpt.tmp"), F_OK), -1); /* no temporary left */

    fs_ckpt_scalar q[NSCALARS];
    make_queries(q);
    fs_state *r = NULL;
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, q, NSCALARS), FS_OK);
    assert_true(q[4].u > (uint64_t)INT64_MAX);
    assert_true(q[4].u == 0xfedcba9876543210ULL);
    assert_int_equal(q[2].i, -(1LL << 62) + 3);
    assert_int_equal(r->step, (1L << 40) + 7);
    assert_int_equal(r->box.periodic[2], 0);
    assert_int_equal(r->box.periodic[0], 1);

    /* Negative control: the comparison sees a one-ulp change in one velocity, and a changed id. */
    r->v[2][777] = nextafter(r->v[2][777], INFINITY);
    assert_false(states_identical(r, g_state));
    r->v[2][777] = g_state->v[2][777];
    assert_true(states_identical(r, g_state));
    r->id[5]++;
    assert_false(states_identical(r, g_state));
    fs_state_destroy(&r);

    /* reading no scalars at all is fine */
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, NULL, 0), FS_OK);
    fs_state_destroy(&r);
}

static void test_scalars(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("sc.ckpt");
    write_ok(path, g_state);
    fs_state *r = NULL;
    fs_ckpt_scalar q = {.name = "barostat_volume", .type = FS_CKPT_DOUBLE};
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, &q, 1), FS_ERR_PARSE);
    assert_non_null(strstr(fs_error_message(), "barostat_volume"));
    assert_null(r);
    q = (fs_ckpt_scalar){.name = "seed", .type = FS_CKPT_DOUBLE}; /* stored as uint64 */
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, &q, 1), FS_ERR_PARSE);
    assert_non_null(strstr(fs_error_message(), "seed"));
    q = (fs_ckpt_scalar){.name = "seed", .type = FS_CKPT_INT64}; /* signedness counts */
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, &q, 1), FS_ERR_PARSE);
    q = (fs_ckpt_scalar){.name = "seed", .type = FS_CKPT_UINT64};
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, &q, 1), FS_OK);
    assert_true(q.u == 0xfedcba9876543210ULL);
    fs_state_destroy(&r);

    /* bad names are refused before anything is written: the existing file stays */
    fs_ckpt_scalar bad[2] = {{.name = "a", .type = FS_CKPT_INT64}, {.name = "a", .type = FS_CKPT_DOUBLE}};
    fs_state *other = NULL;
    assert_int_equal(fs_state_create(g_state->natoms, g_state->natoms, &other), FS_OK);
    assert_int_equal(fs_checkpoint_write(path, g_top, other, bad, 2), FS_ERR_INVALID);
    bad[1].name = "x/y";
    assert_int_equal(fs_checkpoint_write(path, g_top, other, bad, 2), FS_ERR_INVALID);
    bad[1].name = "";
    assert_int_equal(fs_checkpoint_write(path, g_top, other, bad, 2), FS_ERR_INVALID);
    assert_reads_as(path, g_state);
    fs_state_destroy(&other);
}

/* The backend history: an opaque block with its backend's name, read back byte for byte; absent when not written. */
static void test_history(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("hist.ckpt");
    enum { N = 100003 };
    unsigned char *blob = malloc(N);
    assert_non_null(blob);
    for (int i = 0; i < N; ++i) blob[i] = (unsigned char)(i * 131 + (i >> 8));
    fs_ckpt_history h = {"opencl", blob, N}, got;
    fs_ckpt_scalar sc[NSCALARS], q[NSCALARS];
    make_scalars(sc);
    make_queries(q);
    assert_int_equal(fs_checkpoint_write_history(path, g_top, g_state, sc, NSCALARS, &h), FS_OK);
    fs_state *r = NULL;
    assert_int_equal(fs_checkpoint_read_history(path, g_top, &r, q, NSCALARS, &got), FS_OK);
    assert_true(states_identical(r, g_state));
    assert_string_equal(got.backend, "opencl");
    assert_int_equal(got.bytes, N);
    assert_memory_equal(got.data, blob, N);
    /* negative control: the comparison sees one changed byte */
    ((unsigned char *)got.data)[N / 2] ^= 1;
    assert_true(memcmp(got.data, blob, N) != 0);
    free(got.data);
    fs_state_destroy(&r);
    /* the plain reader ignores it; a file written without one reads back with none */
    assert_reads_as(path, g_state);
    write_ok(path, g_state);
    got.bytes = 7;
    assert_int_equal(fs_checkpoint_read_history(path, g_top, &r, NULL, 0, &got), FS_OK);
    assert_int_equal(got.bytes, 0);
    assert_null(got.data);
    assert_string_equal(got.backend, "");
    fs_state_destroy(&r);
    /* a history without a name is refused before writing */
    h.backend[0] = '\0';
    assert_int_equal(fs_checkpoint_write_history(path, g_top, g_state, sc, NSCALARS, &h), FS_ERR_INVALID);
    free(blob);
}

static void test_atomic_replace(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("atomic.ckpt");
    write_ok(path, g_state);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);

    fs_state *next = NULL;
    assert_int_equal(fs_state_create(g_state->natoms, g_state->natoms, &next), FS_OK);
    next->box = fs_box_make(3, 3, 3);
    next->step = 200;
    for (int i = 0; i < next->natoms; ++i) next->r[0][i] = i;

    /* a write that runs out of file size half-way (the new file is ~3x larger than the limit) */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = (rlim_t)before.st_size / 3;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    fs_ckpt_scalar sc[NSCALARS];
    make_scalars(sc);
    fs_status st = fs_checkpoint_write(path, g_top, next, sc, NSCALARS);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, oldsig);
    assert_int_equal(st, FS_ERR_IO);
    assert_non_null(strstr(fs_error_message(), "atomic.ckpt"));
    assert_int_equal(access(fs_test_tmpfile("atomic.ckpt.tmp"), F_OK), -1);
    assert_reads_as(path, g_state); /* the old checkpoint, intact */

    /* Negative control: the same write without the limit replaces the checkpoint. */
    assert_int_equal(fs_checkpoint_write(path, g_top, next, sc, NSCALARS), FS_OK);
    fs_state *r = NULL;
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, NULL, 0), FS_OK);
    assert_int_equal(r->step, 200);
    assert_true(states_identical(r, next));
    assert_false(states_identical(r, g_state));
    fs_state_destroy(&r);

    /* a directory we may not write into (meaningless for root, who may write anywhere) */
    if (geteuid() != 0) {
        const char *dir = fs_test_tmpfile("ro");
        char p[600];
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(p, sizeof p, "%s/c.ckpt", dir);
        write_ok(p, g_state);
        chmod(dir, 0555);
        assert_int_equal(fs_checkpoint_write(p, g_top, next, sc, NSCALARS), FS_ERR_IO);
        chmod(dir, 0755);
        assert_reads_as(p, g_state);
        unlink(p);
        rmdir(dir);
    }
    fs_state_destroy(&next);
}

/* ---- damaged files ----------------------------------------------------------------------------------------- */

static size_t file_bytes(const char *path, unsigned char **out)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n);
    assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return (size_t)n;
}

static void put_bytes(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Recomputes the header of a checkpoint image: length and 64-bit FNV-1a of the bytes after the 512-byte user block
 * (an independent implementation of the format in checkpoint.c's essay). */
static void reseal(unsigned char *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 512; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ULL;
    for (int k = 0; k < 8; ++k) b[16 + k] = (unsigned char)((uint64_t)n >> (8 * k));
    for (int k = 0; k < 8; ++k) b[24 + k] = (unsigned char)(h >> (8 * k));
}

/* Offset of the first occurrence of needle in hay, or -1. */
static long find_bytes(const unsigned char *hay, size_t n, const void *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; ++i)
        if (memcmp(hay + i, needle, m) == 0) return (long)i;
    return -1;
}

/* Runs fs_checkpoint_read on path with stderr redirected to a file; returns the status, *printed = bytes HDF5 (or
 * anybody) wrote to stderr, *same = 1 if the read succeeded with bit-identical contents. */
static fs_status quiet_read(const char *path, size_t *printed, int *same)
{
    const char *errfile = fs_test_tmpfile("stderr.txt");
    fflush(stderr);
    int saved = dup(2), fd = open(errfile, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    dup2(fd, 2);
    close(fd);
    fs_ckpt_scalar want[NSCALARS], got[NSCALARS];
    make_scalars(want);
    make_queries(got);
    fs_state *r = NULL;
    fs_status st = fs_checkpoint_read(path, g_top, &r, got, NSCALARS);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat sb;
    stat(errfile, &sb);
    *printed = (size_t)sb.st_size;
    *same = st == FS_OK && states_identical(r, g_state);
    for (int k = 0; *same && k < NSCALARS; ++k) *same = memcmp(&got[k].u, &want[k].u, sizeof(uint64_t)) == 0;
    if (st == FS_OK) assert_non_null(r);
    fs_state_destroy(&r);
    return st;
}

static void test_damaged_files(void **state)
{
    (void)state;
    char path[512], bad[512];
    snprintf(path, sizeof path, "%s", fs_test_tmpfile("good.ckpt"));
    snprintf(bad, sizeof bad, "%s", fs_test_tmpfile("bad.ckpt"));
    write_ok(path, g_state);
    unsigned char *b;
    size_t n = file_bytes(path, &b), printed;
    int same;

    /* truncated: at half, and by one byte */
    const size_t cuts[2] = {n / 2, n - 1};
    for (int k = 0; k < 2; ++k) {
        put_bytes(bad, b, cuts[k]);
        fs_status st = quiet_read(bad, &printed, &same);
        assert_int_not_equal(st, FS_OK);
        assert_non_null(strstr(fs_error_message(), "bad.ckpt"));
        assert_int_equal(printed, 0);
    }

    /* a flipped bit in the raw positions (found by their byte pattern) fails the file hash */
    long at = find_bytes(b, n, &g_state->r[0][100], 4 * sizeof(double));
    assert_true(at > 0);
    b[at + 3] ^= 0x10;
    put_bytes(bad, b, n);
    assert_int_not_equal(quiet_read(bad, &printed, &same), FS_OK);
    assert_int_equal(printed, 0);
    b[at + 3] ^= 0x10;
    /* Negative control: restored, the same bytes read fine. */
    put_bytes(bad, b, n);
    if (quiet_read(bad, &printed, &same) != FS_OK) fail_msg("%s", fs_error_message());
    assert_true(same);

    /* a flipped bit in a scalar (the seed's bytes, in the scalar table) fails too */
    uint64_t seed = 0xfedcba9876543210ULL;
    at = find_bytes(b, n, &seed, sizeof seed);
    assert_true(at > 0);
    b[at] ^= 0x01;
    put_bytes(bad, b, n);
    assert_int_not_equal(quiet_read(bad, &printed, &same), FS_OK);
    b[at] ^= 0x01;

    /* 200 single-byte corruptions spread over the whole file: an error, or the same data, never other numbers */
    int errors = 0, harmless = 0;
    for (int k = 0; k < 200; ++k) {
        size_t off = (size_t)((double)k / 200.0 * (double)n) + (size_t)(next_bits() % 17);
        if (off >= n) off = n - 1;
        unsigned char was = b[off];
        b[off] ^= (unsigned char)(1u + next_bits() % 255u);
        put_bytes(bad, b, n);
        fs_status st = quiet_read(bad, &printed, &same);
        b[off] = was;
        if (st != FS_OK) {
            errors++;
        } else {
            if (!same) fail_msg("a corrupted byte at offset %zu of %zu read as other numbers", off, n);
            harmless++;
        }
        if (printed) fail_msg("corrupted byte at offset %zu: %zu bytes printed on stderr", off, printed);
    }
    print_message("200 corrupted bytes: %d errors, %d in unused bytes (same data)\n", errors, harmless);
    assert_true(errors > 150);

    /* Negative control for the silence: with HDF5's own error printing switched on, a bad open prints. */
    put_bytes(bad, b, n / 2);
    const char *errfile = fs_test_tmpfile("stderr.txt");
    fflush(stderr);
    int saved = dup(2), fd = open(errfile, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    dup2(fd, 2);
    close(fd);
    H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, NULL);
    hid_t f = H5Fopen(bad, H5F_ACC_RDONLY, H5P_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    assert_true(f < 0);
    struct stat sb;
    stat(errfile, &sb);
    assert_true(sb.st_size > 0);
    free(b);

    /* Intact seal, incomplete contents: a file whose header hash is recomputed after renaming an attribute or a
     * dataset reaches HDF5, and the reader names what is missing (without printing). */
    n = file_bytes(path, &b);
    const char *renames[2][2] = {{"topology_natoms", "topology_natomz"}, {"velocity", "velocitz"}};
    for (int k = 0; k < 2; ++k) {
        unsigned char *c = malloc(n);
        memcpy(c, b, n);
        long pos = find_bytes(c, n, renames[k][0], strlen(renames[k][0]));
        assert_true(pos > 512);
        memcpy(c + pos, renames[k][1], strlen(renames[k][1]));
        reseal(c, n);
        put_bytes(bad, c, n);
        assert_int_equal(quiet_read(bad, &printed, &same), FS_ERR_PARSE);
        assert_non_null(strstr(fs_error_message(), renames[k][0]));
        assert_int_equal(printed, 0);
        free(c);
    }
    /* Negative control: resealing the unchanged bytes gives a good file (so reseal() is the writer's hash). */
    reseal(b, n);
    put_bytes(bad, b, n);
    assert_int_equal(quiet_read(bad, &printed, &same), FS_OK);
    assert_true(same);
    free(b);

    /* not HDF5, missing, and HDF5 but not a checkpoint */
    put_bytes(bad, (const unsigned char *)"hello\n", 6);
    fs_state *r = NULL;
    assert_int_equal(fs_checkpoint_read(bad, g_top, &r, NULL, 0), FS_ERR_IO);
    assert_int_equal(fs_checkpoint_read(fs_test_tmpfile("missing.ckpt"), g_top, &r, NULL, 0), FS_ERR_IO);
    assert_non_null(strstr(fs_error_message(), "missing.ckpt"));
    f = H5Fcreate(bad, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    assert_int_equal(fs_checkpoint_read(bad, g_top, &r, NULL, 0), FS_ERR_PARSE);
    assert_non_null(strstr(fs_error_message(), "not a ferrosolv checkpoint"));
    assert_null(r);
}

static void test_wrong_system(void **state)
{
    (void)state;
    const char *path = fs_test_tmpfile("sys.ckpt");
    write_ok(path, g_state);
    fs_state *r = NULL;

    fs_topology fewer = *g_top; /* shallow copy: the first 1125 atoms */
    fewer.natoms -= 3;
    assert_int_equal(fs_checkpoint_read(path, &fewer, &r, NULL, 0), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "1128"));
    assert_null(r);

    double q = g_top->atoms[17].charge;
    g_top->atoms[17].charge = nextafter(q, 0.0);
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, NULL, 0), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "another topology"));
    g_top->atoms[17].charge = q;
    /* Negative control: the unchanged topology is accepted. */
    assert_int_equal(fs_checkpoint_read(path, g_top, &r, NULL, 0), FS_OK);
    fs_state_destroy(&r);

    /* the hash sees names and order too */
    uint64_t h0 = fs_checkpoint_topology_hash(g_top);
    g_top->atoms[3].name[0] ^= 1;
    assert_true(fs_checkpoint_topology_hash(g_top) != h0);
    g_top->atoms[3].name[0] ^= 1;
    assert_true(fs_checkpoint_topology_hash(g_top) == h0);

    /* writing a state that does not match the topology */
    g_state->natoms--;
    assert_int_equal(fs_checkpoint_write(path, g_top, g_state, NULL, 0), FS_ERR_INVALID);
    g_state->natoms++;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_history),       cmocka_unit_test(test_atomic_replace),
        cmocka_unit_test(test_damaged_files), cmocka_unit_test(test_wrong_system),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

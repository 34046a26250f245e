/*
 * test_nblist.c — the link-cell Verlet list against a brute-force O(N^2) search.
 *
 * Reference: for every pair i < j, the minimum-image distance (fs_box_min_image, i.e. nearbyint, on periodic axes
 * only) is compared with rlist, and exclusions are looked up in a dense matrix built from the test's own molecule
 * definitions (not from the topology's CSR). The list must hold exactly that pair set: each row sorted must equal
 * the reference row. Systems: random molecules in a periodic box (coordinates given in arbitrary images), a box too
 * small for five cells per axis (every cell is a neighbour), a slab periodic in x and y only with atoms spread in
 * z, an open dilute cloud (cell-count cap), a flat monolayer (z extent ~0), and the water-23k benchmark (rlist 1.1
 * nm, 6.2 nm box). Negative controls: a list missing one pair, a list built with a slightly smaller rlist, and a
 * reference that forgets the exclusions must all fail the comparison. The rebuild criterion: displacements below half
 * the buffer keep every pair inside rc in the list and do not trigger a rebuild; a pair that moves in from beyond rlist
 * does trigger it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/cpu/nblist.h"
#include "support/fs_test.h"

/* xorshift64*: reproducible numbers in [0, 1) */
static double rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}

/* A test system: natoms atoms in molecules of `molsize` consecutive atoms, all intramolecular pairs excluded. */
typedef struct {
    fs_topology *top;
    double *r[3];
    fs_box box;
    int molsize;
} sys_t;

static void sys_free(sys_t *s)
{
    fs_topology_destroy(&s->top);
    for (int d = 0; d < 3; ++d) free(s->r[d]);
}

/* Random positions in [lo_d, hi_d) per axis; exclusions within each molecule. */
static void sys_random(sys_t *s, int natoms, int molsize, fs_box box, const double lo[3], const double hi[3],
                       uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->box = box;
    s->molsize = molsize;
    assert_int_equal(fs_topology_create(&s->top), FS_OK);
    fs_atomtype t = {"X", -1};
    double c6 = 0.0, c12 = 0.0;
    assert_int_equal(fs_topology_set_types(s->top, 1, &t, &c6, &c12), FS_OK);
    for (int i = 0; i < natoms; ++i) {
        fs_atom a = {.name = "X", .resname = "M", .type = 0, .molecule = i / molsize, .mass = 1.0};
        assert_int_equal(fs_topology_add_atom(s->top, &a, NULL), FS_OK);
    }
    for (int i = 0; i < natoms; ++i)
        for (int j = i + 1; j < natoms && j / molsize == i / molsize; ++j)
            assert_int_equal(fs_topology_add_exclusion(s->top, i, j), FS_OK);
    assert_int_equal(fs_topology_finalize(s->top), FS_OK);
    for (int d = 0; d < 3; ++d) {
        s->r[d] = malloc((size_t)natoms * sizeof(double));
        assert_non_null(s->r[d]);
        for (int i = 0; i < natoms; ++i) s->r[d][i] = lo[d] + (hi[d] - lo[d]) * rnd(&seed);
    }
}

/* Brute-force reference rows: ref_start[natoms+1], ref_j ascending per row. excluded(i, j) decides exclusions. */
typedef int (*excl_fn)(const void *ctx, int i, int j);

static void brute_force(int n, const fs_box *box, double *const r[3], double rlist, excl_fn excluded, const void *ctx,
                        int **ref_start, int **ref_j)
{
    /* wrap once so the minimum image is one conditional shift (independent of nblist.c's cells); the distances of
     * a row are computed in a branch-free loop the compiler can vectorize, then scanned */
    double *w[3], L[3], hL[3];
    for (int d = 0; d < 3; ++d) {
        w[d] = malloc((size_t)n * sizeof(double));
        L[d] = box->periodic[d] ? box->len[d] : 0.0;
        hL[d] = box->periodic[d] ? 0.5 * box->len[d] : INFINITY;
        for (int i = 0; i < n; ++i)
            w[d][i] = box->periodic[d] ? r[d][i] - box->len[d] * floor(r[d][i] / box->len[d]) : r[d][i];
    }
    double *r2 = malloc((size_t)(n > 0 ? n : 1) * sizeof *r2);
    long cap = 1024, np = 0;
    int *js = malloc((size_t)cap * sizeof *js);
    int *st = malloc(((size_t)n + 1) * sizeof *st);
    const double rl2 = rlist * rlist;
    for (int i = 0; i < n; ++i) {
        st[i] = (int)np;
        const double xi = w[0][i], yi = w[1][i], zi = w[2][i];
        for (int j = i + 1; j < n; ++j) {
            double dx = xi - w[0][j], dy = yi - w[1][j], dz = zi - w[2][j];
            dx += L[0] * ((dx < -hL[0]) - (dx > hL[0]));
            dy += L[1] * ((dy < -hL[1]) - (dy > hL[1]));
            dz += L[2] * ((dz < -hL[2]) - (dz > hL[2]));
            r2[j] = dx * dx + dy * dy + dz * dz;
        }
        for (int j = i + 1; j < n; ++j) {
            if (r2[j] >= rl2) continue;
            if (excluded && excluded(ctx, i, j)) continue;
            if (np == cap) {
                cap *= 2;
                js = realloc(js, (size_t)cap * sizeof *js);
            }
            js[np++] = j;
        }
    }
    st[n] = (int)np;
    for (int d = 0; d < 3; ++d) free(w[d]);
    free(r2);
    *ref_start = st;
    *ref_j = js;
}

static int excl_molecule(const void *ctx, int i, int j)
{
    int m = *(const int *)ctx;
    return i / m == j / m;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Number of rows where the list (start, j) differs from the reference (rows compared as sorted sets). */
static int count_mismatches(int n, const int *start, const int *jl, const int *ref_start, const int *ref_j)
{
    int bad = 0;
    int *row = malloc((size_t)(n > 0 ? n : 1) * sizeof *row);
    for (int i = 0; i < n; ++i) {
        int len = start[i + 1] - start[i];
        if (len != ref_start[i + 1] - ref_start[i] || len > n) {
            bad++;
            continue;
        }
        memcpy(row, jl + start[i], (size_t)len * sizeof *row);
        qsort(row, (size_t)len, sizeof *row, cmp_int);
        if (len > 0 && memcmp(row, ref_j + ref_start[i], (size_t)len * sizeof *row) != 0) bad++;
    }
    free(row);
    return bad;
}

/* Negative controls on a list that matched the reference (rs, rj): the list minus one pair, and a list built with
 * a 2% smaller radius, must both fail the comparison. */
static void negative_controls(const fs_nblist *nl, const fs_topology *top, const fs_box *box, double *const r[3],
                              const int *rs, const int *rj)
{
    int n = nl->natoms;
    /* negative control 1: the list minus one pair must fail */
    int victim = n / 2;
    while (victim < n && nl->start[victim + 1] == nl->start[victim]) victim++;
    assert_true(victim < n);
    int *js = malloc((size_t)nl->npairs * sizeof *js), *st = malloc(((size_t)n + 1) * sizeof *st);
    memcpy(st, nl->start, ((size_t)n + 1) * sizeof *st);
    memcpy(js, nl->j, (size_t)nl->npairs * sizeof *js);
    int drop = st[victim];
    memmove(js + drop, js + drop + 1, (size_t)(nl->npairs - drop - 1) * sizeof *js);
    for (int i = victim + 1; i <= n; ++i) st[i]--;
    assert_int_not_equal(count_mismatches(n, st, js, rs, rj), 0);
    free(js);
    free(st);

    /* negative control 2: a list with a 2% smaller radius must fail */
    fs_nblist *small = NULL;
    assert_int_equal(fs_nblist_create(n, &small), FS_OK);
    assert_int_equal(fs_nblist_build(small, top, box, r, 0.98 * nl->rlist), FS_OK);
    assert_int_not_equal(count_mismatches(n, small->start, small->j, rs, rj), 0);
    fs_nblist_destroy(&small);
    assert_null(small);
}

/* Builds the list, checks it against brute force, and runs the negative controls. */
static void check_system(sys_t *s, double rlist, int expect_pairs_at_least)
{
    int n = s->top->natoms;
    fs_nblist *nl = NULL;
    assert_int_equal(fs_nblist_create(n, &nl), FS_OK);
    assert_int_equal(fs_nblist_build(nl, s->top, &s->box, s->r, rlist), FS_OK);
    int *rs, *rj;
    brute_force(n, &s->box, s->r, rlist, excl_molecule, &s->molsize, &rs, &rj);
    assert_int_equal(nl->npairs, rs[n]);
    assert_true(nl->npairs >= expect_pairs_at_least);
    assert_int_equal(nl->start[n], nl->npairs);
    assert_int_equal(count_mismatches(n, nl->start, nl->j, rs, rj), 0);
    for (int i = 0; i < n; ++i)
        for (int k = nl->start[i]; k < nl->start[i + 1]; ++k) assert_true(nl->j[k] > i && nl->j[k] < n);

    negative_controls(nl, s->top, &s->box, s->r, rs, rj);

    /* negative control 3: a reference that ignores exclusions must differ (there are excluded pairs in range) */
    int *rs2, *rj2;
    brute_force(n, &s->box, s->r, rlist, NULL, NULL, &rs2, &rj2);
    assert_true(rs2[n] > rs[n]);
    assert_int_not_equal(count_mismatches(n, nl->start, nl->j, rs2, rj2), 0);
    free(rs2);
    free(rj2);

    /* a rebuild from the same data gives the same list (buffers reused) */
    assert_int_equal(fs_nblist_build(nl, s->top, &s->box, s->r, rlist), FS_OK);
    assert_int_equal(count_mismatches(n, nl->start, nl->j, rs, rj), 0);
    free(rs);
    free(rj);
    fs_nblist_destroy(&nl);
    assert_null(nl);
}

static void test_periodic_random(void **state)
{
    (void)state;
    sys_t s;
    fs_box box = fs_box_make(3.0, 3.4, 2.6);
    /* coordinates in arbitrary images: [-L, 2L) */
    double lo[3] = {-3.0, -3.4, -2.6}, hi[3] = {6.0, 6.8, 5.2};
    sys_random(&s, 1500, 3, box, lo, hi, 12345);
    check_system(&s, 1.1, 1500 * 50);
    sys_free(&s);
}

static void test_small_box_all_cells(void **state)
{
    (void)state;
    sys_t s;
    /* 2.3 / (1.1/2) -> 4 cells per axis: every cell is a neighbour of every other */
    fs_box box = fs_box_make(2.3, 2.25, 2.9);
    double lo[3] = {0, 0, 0}, hi[3] = {2.3, 2.25, 2.9};
    sys_random(&s, 700, 4, box, lo, hi, 777);
    check_system(&s, 1.1, 700 * 40);
    sys_free(&s);
}

static void test_slab_xy_periodic(void **state)
{
    (void)state;
    sys_t s;
    fs_box box = fs_box_make(3.1, 2.7, 9.0);
    box.periodic[2] = 0;
    /* z spans more than the box edge and goes negative: no wrapping may happen along z */
    double lo[3] = {-1.0, 0.0, -2.0}, hi[3] = {4.0, 2.7, 10.0};
    sys_random(&s, 1200, 2, box, lo, hi, 4242);
    check_system(&s, 1.0, 1200 * 10);

    /* negative control: treating z as periodic (wrapping it) gives a different pair set */
    fs_nblist *nl = NULL;
    fs_box wrong = box;
    wrong.periodic[2] = 1;
    assert_int_equal(fs_nblist_create(s.top->natoms, &nl), FS_OK);
    assert_int_equal(fs_nblist_build(nl, s.top, &wrong, s.r, 1.0), FS_OK);
    int *rs, *rj;
    brute_force(s.top->natoms, &box, s.r, 1.0, excl_molecule, &s.molsize, &rs, &rj);
    assert_int_not_equal(count_mismatches(s.top->natoms, nl->start, nl->j, rs, rj), 0);
    free(rs);
    free(rj);
    fs_nblist_destroy(&nl);
    sys_free(&s);
}

/* Fully non-periodic, dilute and spread out: exercises the cell-count cap. */
static void test_open_dilute(void **state)
{
    (void)state;
    sys_t s;
    fs_box box = fs_box_make(1.0, 1.0, 1.0);
    box.periodic[0] = box.periodic[1] = box.periodic[2] = 0;
    double lo[3] = {0, 0, 0}, hi[3] = {40.0, 3.0, 2.0};
    sys_random(&s, 400, 2, box, lo, hi, 99);
    check_system(&s, 0.9, 100);
    sys_free(&s);
}

/* A monolayer: z open and (almost) flat, so the z extent is far below a cell. */
static void test_flat_layer(void **state)
{
    (void)state;
    sys_t s;
    fs_box box = fs_box_make(3.2, 3.3, 1.0);
    box.periodic[2] = 0;
    double lo[3] = {0.0, 0.0, 1.0}, hi[3] = {3.2, 3.3, 1.0 + 1e-13};
    sys_random(&s, 500, 5, box, lo, hi, 31);
    check_system(&s, 1.2, 500 * 20);
    for (int i = 0; i < 500; ++i) s.r[2][i] = 1.0; /* exactly planar */
    check_system(&s, 1.2, 500 * 20);
    sys_free(&s);
}

static int excl_csr(const void *ctx, int i, int j)
{
    const fs_topology *t = ctx;
    for (int k = t->excl_start[i]; k < t->excl_start[i + 1]; ++k)
        if (t->excl_list[k] == j) return 1;
    return 0;
}

static void test_water23k(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *st = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &st);
    int n = top->natoms;
    assert_int_equal(n, 23262);
    /* the exclusions of a water are its three atoms: check that the reader's CSR says so before using it */
    assert_int_equal(top->excl_start[n], 2 * 3 * (n / 3));
    fs_nblist *nl = NULL;
    assert_int_equal(fs_nblist_create(n, &nl), FS_OK);
    clock_t t0 = clock();
    assert_int_equal(fs_nblist_build(nl, top, &st->box, st->r, 1.1), FS_OK);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    print_message("water-23k: %ld pairs within 1.1 nm, built in %.3f s (CPU time)\n", nl->npairs, secs);
    int *rs, *rj;
    brute_force(n, &st->box, st->r, 1.1, excl_csr, top, &rs, &rj);
    assert_int_equal(nl->npairs, rs[n]);
    assert_int_equal(count_mismatches(n, nl->start, nl->j, rs, rj), 0);
    negative_controls(nl, top, &st->box, st->r, rs, rj);
    free(rs);
    free(rj);
    fs_nblist_destroy(&nl);
    fs_state_destroy(&st);
    fs_topology_destroy(&top);
}

static void test_rebuild_criterion(void **state)
{
    (void)state;
    sys_t s;
    fs_box box = fs_box_make(3.0, 3.0, 3.0);
    double lo[3] = {0, 0, 0}, hi[3] = {3.0, 3.0, 3.0};
    sys_random(&s, 900, 3, box, lo, hi, 2024);
    const int n = s.top->natoms;
    const double rc = 1.0, buffer = 0.1, rlist = rc + buffer;
    fs_nblist *nl = NULL;
    assert_int_equal(fs_nblist_create(n, &nl), FS_OK);
    assert_int_equal(fs_nblist_needs_rebuild(nl, &box, s.r, 0.5 * buffer), 1); /* never built */
    assert_int_equal(fs_nblist_build(nl, s.top, &box, s.r, rlist), FS_OK);
    assert_int_equal(fs_nblist_needs_rebuild(nl, &box, s.r, 0.5 * buffer), 0);

    /* every atom moves by just under half the buffer, in a random direction; some cross the box faces and are
     * rewrapped: no rebuild, and every pair now within rc is still in the list */
    uint64_t seed = 5;
    double *r2[3];
    for (int d = 0; d < 3; ++d) r2[d] = malloc((size_t)n * sizeof(double));
    for (int i = 0; i < n; ++i) {
        double u[3], norm = 0.0;
        for (int d = 0; d < 3; ++d) {
            u[d] = rnd(&seed) - 0.5;
            norm += u[d] * u[d];
        }
        norm = sqrt(norm);
        for (int d = 0; d < 3; ++d) {
            double x = s.r[d][i] + 0.499 * buffer * u[d] / norm;
            r2[d][i] = x - box.len[d] * floor(x / box.len[d]);
        }
    }
    assert_int_equal(fs_nblist_needs_rebuild(nl, &box, r2, 0.5 * buffer), 0);
    int *rs, *rj;
    brute_force(n, &box, r2, rc, excl_molecule, &s.molsize, &rs, &rj);
    assert_true(rs[n] > 0);
    long missing = 0;
    for (int i = 0; i < n; ++i)
        for (int k = rs[i]; k < rs[i + 1]; ++k) {
            int found = 0;
            for (int m = nl->start[i]; m < nl->start[i + 1] && !found; ++m) found = nl->j[m] == rj[k];
            missing += !found;
        }
    assert_int_equal(missing, 0);
    free(rs);
    free(rj);

    /* one atom moving by a bit more than half the buffer triggers a rebuild */
    double keep = r2[0][7];
    r2[0][7] = s.r[0][7] + 0.501 * buffer;
    r2[1][7] = s.r[1][7];
    r2[2][7] = s.r[2][7];
    assert_int_equal(fs_nblist_needs_rebuild(nl, &box, r2, 0.5 * buffer), 1);
    r2[0][7] = keep;

    /* a changed box triggers a rebuild */
    fs_box big = fs_box_make(3.0, 3.0, 3.0001);
    assert_int_equal(fs_nblist_needs_rebuild(nl, &big, s.r, 0.5 * buffer), 1);

    /* negative control for the criterion: put a pair at rlist + 0.01, then move both atoms 0.06 towards each other
     * (more than half the buffer each): the pair is now inside rc yet absent from the old list, and the criterion
     * must report it */
    for (int d = 0; d < 3; ++d) {
        s.r[d][0] = 1.0;
        s.r[d][3] = 1.0;
    }
    s.r[0][3] = 1.0 + rlist + 0.01;
    assert_int_equal(fs_nblist_build(nl, s.top, &box, s.r, rlist), FS_OK);
    for (int m = nl->start[0]; m < nl->start[1]; ++m) assert_int_not_equal(nl->j[m], 3);
    for (int d = 0; d < 3; ++d) memcpy(r2[d], s.r[d], (size_t)n * sizeof(double));
    r2[0][0] += 0.06;
    r2[0][3] -= 0.06;
    assert_true(r2[0][3] - r2[0][0] < rc);
    assert_int_equal(fs_nblist_needs_rebuild(nl, &box, r2, 0.5 * buffer), 1);

    for (int d = 0; d < 3; ++d) free(r2[d]);
    fs_nblist_destroy(&nl);
    sys_free(&s);
}

static void test_invalid(void **state)
{
    (void)state;
    sys_t s;
    fs_box box = fs_box_make(2.0, 2.0, 2.0);
    double lo[3] = {0, 0, 0}, hi[3] = {2.0, 2.0, 2.0};
    sys_random(&s, 30, 3, box, lo, hi, 1);
    fs_nblist *nl = NULL;
    assert_int_equal(fs_nblist_create(30, &nl), FS_OK);
    assert_int_equal(fs_nblist_build(nl, s.top, &box, s.r, 1.0), FS_OK);             /* exactly L/2: allowed */
    assert_int_equal(fs_nblist_build(nl, s.top, &box, s.r, 1.0001), FS_ERR_INVALID); /* beyond L/2 */
    assert_int_equal(fs_nblist_build(nl, s.top, &box, s.r, 0.0), FS_ERR_INVALID);
    s.r[1][4] = NAN;
    assert_int_equal(fs_nblist_build(nl, s.top, &box, s.r, 0.9), FS_ERR_NUMERIC);
    fs_nblist_destroy(&nl);
    assert_int_equal(fs_nblist_create(31, &nl), FS_OK);
    s.r[1][4] = 0.5;
    assert_int_equal(fs_nblist_build(nl, s.top, &box, s.r, 0.9), FS_ERR_INVALID); /* atom count mismatch */
    fs_nblist_destroy(&nl);
    fs_nblist_destroy(&nl); /* NULL is fine */
    fs_nblist_destroy(NULL);
    sys_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_periodic_random),  cmocka_unit_test(test_small_box_all_cells),
        cmocka_unit_test(test_slab_xy_periodic), cmocka_unit_test(test_open_dilute),
        cmocka_unit_test(test_flat_layer),       cmocka_unit_test(test_rebuild_criterion),
        cmocka_unit_test(test_invalid),          cmocka_unit_test(test_water23k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

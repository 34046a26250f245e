/*
 * gpu_pairlist.c — the device's cluster pair list: spatial sort into clusters, Verlet-buffered rebuild, all on the
 * device (kernels in kernels/common/list_sort.kernel and list_build.kernel, whose essays give the data layout and
 * the algorithms); private to the nonbonded module (gpu_nonbonded.c computes the interactions on it).
 *
 * What it maintains. The atoms sorted into clusters of CLUSTER_SIZE = 8 consecutive "slots" (a snake-ordered
 * column grid, so clusters are compact), and for each i-cluster the list of j-clusters (with the periodic image to
 * use) whose bounding boxes come within rlist = max(rc, rvdw) + verlet-buffer, with an 8x8 bit mask per entry of the
 * atom pairs that interact (within rlist at the build, not excluded, no padding, not an atom with itself). Pairs
 * within the cut-off stay in the list as long as no atom has moved more than half the buffer since the build,
 * since two atoms then approach each other by at most the buffer (the Verlet criterion of the CPU reference,
 * kernels/cpu/nblist.c, applied to every atom).
 *
 * Per evaluation (update), all queued (the capacity check below aside):
 *   - the sort (extent, keys, the bitonic network, apply) after invalidate() (new positions or box) and when the
 *     step crosses a multiple of NB_NSTSORT: diffusion slowly spreads the clusters, which lengthens the lists;
 *     sorting at fixed step multiples keeps the clusters, hence the summation order, a function of the trajectory;
 *   - list_check: the device compares every atom's displacement with half the buffer and raises the rebuild flag
 *     (forced after a sort or a change of box lengths, which the host sees in g->box);
 *   - list_gather: positions wrapped into the box, charges, LJ data per slot;
 *   - the build kernels, launched every time but idle unless the flag is up; the last one clears it.
 * So the host never learns when the list was rebuilt, and need not.
 *
 * Capacity. Each i-cluster has room for `cap` entries (candidates of the box test). A cluster with more sets
 * flags[GPU_F_LIST_OVERFLOW] and its list is truncated. After every sort the host waits for the flags and the
 * candidate counts and sizes cap at twice the largest count + 32 (clusters spread between sorts: on water-23k the
 * largest count of kept entries grows from 195 to 230, the mean from 158 to 167, in the 100 steps after a sort). The
 * flags (64 bytes) are then read after the list kernels of every evaluation on a CPU device, where waiting costs
 * nothing, and on a GPU every NB_OVERFLOW_CHECK evaluations and at every energy evaluation (which reads back anyway);
 * an overflow found there enlarges the list and rebuilds it before the forces of this evaluation are computed. On a GPU
 * a list that overflowed between two checks would have lost pairs for those few evaluations; it takes a cluster whose
 * candidates doubled since the last sort (a blow-up, not something a liquid does in NB_OVERFLOW_CHECK steps). Rolling
 * back to the last good step, as the dynamics does on its own errors, would close that gap.
 *
 * History. The forces depend, in their last bits, on the list's history: which atoms share a cluster (the last
 * sort), and the image offsets of the wrapped positions (the last build) decide the float sums of nb_pairs. A run
 * continued from a checkpoint must therefore resume the list the uninterrupted run had, not build a fresh one:
 * gpu_pairlist_save() gives the cluster order, the master positions and the box of the last build (`ref`,
 * built_box) and the sort epoch; gpu_pairlist_restore() puts the order back and rebuilds the list from those
 * positions in that box (which reproduces the build's image offsets and entries exactly), then puts the current
 * positions and box back. The checkpoint stores this
 * (core/io/checkpoint.h, the backend history), and a continued device run equals the uninterrupted one bit for bit.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_backend_impl.h"

#define NB_CLUSTER 8
#define NB_NSTSORT 100       /* steps between re-sorts */
#define NB_OVERFLOW_CHECK 10 /* evaluations between two reads of the overflow flag (GPUs) */
#define NB_LIST_BLOCK 16     /* LIST_BLOCK of list_build.kernel: the boxes are padded to a multiple of it */
#define NB_WG 64

enum {
    K_EXTENT,
    K_KEYS,
    K_BITONIC,
    K_APPLY,
    K_CHECK,
    K_GATHER,
    K_BBOX,
    K_BLOCKS,
    K_SEARCH,
    K_MASK,
    K_EXCL,
    K_COMPACT,
    K_DONE,
    K_COUNT
};
static const char *const kernel_names[K_COUNT] = {
    "list_extent", "list_keys",   "list_bitonic", "list_apply", "list_check",   "list_gather", "list_bbox",
    "list_blocks", "list_search", "list_mask",    "list_excl",  "list_compact", "list_done"};

struct gpu_pairlist {
    gpu_backend *g;
    int ncl, ncl_pad, nslots, sort_n, cap;
    size_t rs; /* sizeof(real) */
    int need_sort, since_check;
    int is_cpu; /* a CPU device: waiting for the flags costs nothing, so they are read at every evaluation */
    long sort_epoch;
    double built_box[3];
    gpu_buf *type, *type_lj, *keys, *extent, *slot_atom, *atom_slot, *wrap, *ref, *xq, *styp, *ljp, *bb, *bblock;
    gpu_buf *ncand, *count, *entry, *mask, *excl_start, *excl_list;
    gpu_kernel *k[K_COUNT];
};

static int next_pow2(int n)
{
    int p = 2;
    while (p < n) p *= 2;
    return p;
}

static int clusters_of(int natoms)
{
    return (natoms + NB_CLUSTER - 1) / NB_CLUSTER;
}

static int round_up(int n, int m)
{
    return (n + m - 1) / m * m;
}

/* Blocks of NB_LIST_BLOCK clusters, padded to a multiple of NB_LIST_BLOCK (list_search tests them in groups). */
static int blocks_of(int ncl)
{
    return round_up(round_up(ncl, NB_LIST_BLOCK) / NB_LIST_BLOCK, NB_LIST_BLOCK);
}

/* 1 when every C6 and C12 of the matrix is the geometric mean of the diagonal ones. */
static int lj_geometric(const fs_topology *top)
{
    const int nt = top->ntypes;
    for (int i = 0; i < nt; ++i)
        for (int j = 0; j < nt; ++j) {
            const double *m[2] = {top->c6, top->c12};
            for (int c = 0; c < 2; ++c) {
                double ii = m[c][i * nt + i], jj = m[c][j * nt + j], ij = m[c][i * nt + j];
                if (ii < 0.0 || jj < 0.0) return 0;
                double ref = sqrt(ii * jj);
                if (fabs(ij - ref) > 1e-12 * fabs(ref) + 1e-300) return 0;
            }
        }
    return 1;
}

fs_status gpu_pairlist_defines(const fs_topology *top, const fs_forceparams *p, gpu_defines *d)
{
    const int ncl = clusters_of(top->natoms);
    if (top->natoms >= (1 << 24))
        return fs_fail(FS_ERR_UNSUPPORTED, "the device pair list sorts at most 2^24 atoms (%d)", top->natoms);
    const double rlist = fmax(p->rcoulomb, p->rvdw) + p->verlet_buffer;
    gpu_define_int(d, "CLUSTER_SIZE", NB_CLUSTER);
    gpu_define_int(d, "NB_NCLUSTERS", ncl);
    gpu_define_int(d, "NB_NCLUSTERS_PAD", round_up(ncl, NB_LIST_BLOCK));
    gpu_define_int(d, "NB_NBLOCKS_PAD", blocks_of(ncl));
    gpu_define_int(d, "NB_NSLOTS", (long)ncl * NB_CLUSTER);
    gpu_define_int(d, "LIST_SORT_N", next_pow2(top->natoms));
    gpu_define_int(d, "NB_LJ_GEOMETRIC", lj_geometric(top));
    gpu_define_real(d, "NB_RLIST", rlist);
    gpu_define_real(d, "NB_HALF_BUFFER2", 0.25 * p->verlet_buffer * p->verlet_buffer);
    gpu_define_int(d, "NB_F_BUILDS", GPU_F_NB_BUILDS);
    return FS_OK;
}

static void release_list(gpu_pairlist *pl)
{
    const gpu_api *api = pl->g->api;
    api->release(&pl->entry);
    api->release(&pl->mask);
}

/* (Re)allocates the entry and mask buffers for `cap` entries per i-cluster. */
static fs_status alloc_list(gpu_pairlist *pl, int cap)
{
    release_list(pl);
    pl->cap = cap;
    size_t n = (size_t)pl->ncl * (size_t)cap;
    fs_status st = gpu_alloc(pl->g, n * sizeof(int), "pair-list entries", &pl->entry);
    if (st == FS_OK) st = gpu_alloc(pl->g, n * NB_CLUSTER, "pair-list masks", &pl->mask);
    return st;
}

void gpu_pairlist_destroy(gpu_pairlist **pl)
{
    if (!pl || !*pl) return;
    gpu_pairlist *p = *pl;
    const gpu_api *api = p->g->api;
    for (int k = 0; k < K_COUNT; ++k) api->kernel_release(&p->k[k]);
    gpu_buf **bufs[] = {&p->type,  &p->type_lj, &p->keys, &p->extent,     &p->slot_atom, &p->atom_slot, &p->wrap,
                        &p->ref,   &p->xq,      &p->styp, &p->ljp,        &p->bb,        &p->bblock,    &p->ncand,
                        &p->count, &p->entry,   &p->mask, &p->excl_start, &p->excl_list};
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; ++b) api->release(bufs[b]);
    free(p);
    *pl = NULL;
}

/* Host data uploaded once: types, per-type geometric LJ factors, exclusions, far-away padding boxes. */
static fs_status upload_static(gpu_pairlist *pl)
{
    gpu_backend *g = pl->g;
    const fs_topology *top = g->top;
    const int n = g->natoms, nt = top->ntypes > 0 ? top->ntypes : 1;
    const int nexcl = top->excl_start ? top->excl_start[n] : 0;
    size_t big = (size_t)(n + 1) > (size_t)nexcl ? (size_t)(n + 1) : (size_t)nexcl;
    if ((size_t)(6 * pl->ncl_pad) > big) big = (size_t)(6 * pl->ncl_pad);
    if ((size_t)(2 * nt) > big) big = (size_t)(2 * nt);
    void *h = calloc(big, 8);
    if (!h) return fs_fail(FS_ERR_NOMEM, "out of memory for the pair list's set-up");
    int *hi = h;
    for (int i = 0; i < n; ++i) hi[i] = top->atoms[i].type;
    fs_status st = g->api->write(g->dev, pl->type, 0, (size_t)n * sizeof(int), hi);
    for (int i = 0; i <= n; ++i) hi[i] = top->excl_start ? top->excl_start[i] : 0;
    if (st == FS_OK) st = g->api->write(g->dev, pl->excl_start, 0, (size_t)(n + 1) * sizeof(int), hi);
    if (st == FS_OK && nexcl > 0)
        st = g->api->write(g->dev, pl->excl_list, 0, (size_t)nexcl * sizeof(int), top->excl_list);
    for (int t = 0; t < 2 * nt; ++t) {
        double c = top->ntypes > 0 ? (t % 2 ? top->c12 : top->c6)[(t / 2) * (nt + 1)] : 0.0;
        double v = c > 0.0 ? sqrt(c) : 0.0;
        if (g->use_double)
            ((double *)h)[t] = v;
        else
            ((float *)h)[t] = (float)v;
    }
    if (st == FS_OK) st = g->api->write(g->dev, pl->type_lj, 0, 2 * (size_t)nt * pl->rs, h);
    for (int c = 0; c < 6 * pl->ncl_pad; ++c) { /* centres 0, half-extents -1e18: never near anything */
        double v = c >= 3 * pl->ncl_pad ? -1e18 : 0.0;
        if (g->use_double)
            ((double *)h)[c] = v;
        else
            ((float *)h)[c] = (float)v;
    }
    if (st == FS_OK) st = g->api->write(g->dev, pl->bb, 0, 6 * (size_t)pl->ncl_pad * pl->rs, h);
    free(h);
    return st;
}

fs_status gpu_pairlist_create(gpu_backend *g, gpu_pairlist **out)
{
    *out = NULL;
    gpu_pairlist *pl = calloc(1, sizeof *pl);
    if (!pl) return fs_fail(FS_ERR_NOMEM, "out of memory for the pair list");
    pl->g = g;
    pl->ncl = clusters_of(g->natoms);
    pl->ncl_pad = round_up(pl->ncl, NB_LIST_BLOCK);
    pl->nslots = pl->ncl * NB_CLUSTER;
    pl->sort_n = next_pow2(g->natoms);
    pl->rs = g->use_double ? sizeof(double) : sizeof(float);
    pl->need_sort = 1;
    pl->is_cpu = g->api->info(g->dev)->is_cpu;
    const size_t n = (size_t)(g->natoms > 0 ? g->natoms : 1), ns = (size_t)pl->nslots, rs = pl->rs;
    const fs_topology *top = g->top;
    const size_t nt = (size_t)(top->ntypes > 0 ? top->ntypes : 1);
    const size_t nexcl = top->excl_start ? (size_t)top->excl_start[g->natoms] : 0;
    fs_status st = FS_OK;
    struct {
        gpu_buf **buf;
        size_t bytes;
        const char *what;
    } bufs[] = {{&pl->type, n * sizeof(int), "atom types"},
                {&pl->type_lj, 2 * nt * rs, "LJ factors"},
                {&pl->keys, (size_t)pl->sort_n * 8, "sort keys"},
                {&pl->extent, 6 * sizeof(double), "the atoms' extent"},
                {&pl->slot_atom, ns * sizeof(int), "the cluster order"},
                {&pl->atom_slot, n * sizeof(int), "the cluster order"},
                {&pl->wrap, ns * 4 * sizeof(double), "image offsets"},
                {&pl->ref, n * 4 * sizeof(double), "list reference positions"},
                {&pl->xq, 4 * ns * rs, "cluster positions"},
                {&pl->styp, ns * sizeof(int), "cluster types"},
                {&pl->ljp, 2 * ns * rs, "cluster LJ factors"},
                {&pl->bb, 6 * (size_t)pl->ncl_pad * rs, "cluster boxes"},
                {&pl->bblock, 6 * (size_t)blocks_of(pl->ncl) * rs, "cluster block boxes"},
                {&pl->ncand, (size_t)pl->ncl * sizeof(int), "pair-list counts"},
                {&pl->count, (size_t)pl->ncl * sizeof(int), "pair-list counts"},
                {&pl->excl_start, (n + 1) * sizeof(int), "exclusions"},
                {&pl->excl_list, (nexcl > 0 ? nexcl : 1) * sizeof(int), "exclusions"}};
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0] && st == FS_OK; ++b)
        st = gpu_alloc(g, bufs[b].bytes, bufs[b].what, bufs[b].buf);
    /* a first guess; resized after the first build */
    int cap = 256 < 8 * pl->ncl_pad ? 256 : 8 * pl->ncl_pad;
    if (st == FS_OK) st = alloc_list(pl, cap);
    if (st == FS_OK) st = g->api->fill_zero(g->dev, pl->count, (size_t)pl->ncl * sizeof(int));
    if (st == FS_OK) st = upload_static(pl);
    for (int k = 0; k < K_COUNT && st == FS_OK; ++k) st = gpu_get_kernel(g, kernel_names[k], &pl->k[k]);
    if (st != FS_OK) {
        gpu_pairlist_destroy(&pl);
        return st;
    }
    *out = pl;
    return FS_OK;
}

void gpu_pairlist_invalidate(gpu_pairlist *pl)
{
    pl->need_sort = 1;
}

/* The spatial sort; ends with the rebuild flag raised (list_apply). */
static fs_status sort_atoms(gpu_pairlist *pl)
{
    gpu_backend *g = pl->g;
    gpu_double4 box_d;
    gpu_box_args(g, NULL, NULL, &box_d, NULL);
    fs_status st = gpu_args(g, pl->k[K_EXTENT], 2, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(pl->extent));
    if (st == FS_OK) st = gpu_run(g, pl->k[K_EXTENT], NB_WG, NB_WG);
    if (st == FS_OK)
        st = gpu_args(g, pl->k[K_KEYS], 4, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(pl->extent), GPU_ARG_BUF(pl->keys),
                      GPU_ARG(box_d));
    if (st == FS_OK) st = gpu_run(g, pl->k[K_KEYS], (size_t)pl->sort_n, NB_WG);
    if (st == FS_OK) st = g->api->arg_buf(pl->k[K_BITONIC], 0, pl->keys);
    for (int k = 2; k <= pl->sort_n && st == FS_OK; k *= 2)
        for (int j = k / 2; j >= 1 && st == FS_OK; j /= 2) {
            st = g->api->arg(pl->k[K_BITONIC], 1, sizeof j, &j);
            if (st == FS_OK) st = g->api->arg(pl->k[K_BITONIC], 2, sizeof k, &k);
            if (st == FS_OK) st = gpu_run(g, pl->k[K_BITONIC], (size_t)pl->sort_n / 2, NB_WG);
        }
    if (st == FS_OK)
        st = gpu_args(g, pl->k[K_APPLY], 4, GPU_ARG_BUF(pl->keys), GPU_ARG_BUF(pl->slot_atom),
                      GPU_ARG_BUF(pl->atom_slot), GPU_ARG_BUF(g->flags));
    if (st == FS_OK) st = gpu_run(g, pl->k[K_APPLY], (size_t)pl->nslots, NB_WG);
    return st;
}

/* The displacement check, the per-slot gather and the (conditional) build kernels. */
static fs_status queue_build(gpu_pairlist *pl, int force_rebuild)
{
    gpu_backend *g = pl->g;
    gpu_float4 box_f, inv_f;
    gpu_double4 box_d, inv_d;
    gpu_box_args(g, &box_f, &inv_f, &box_d, &inv_d);
    const size_t n = (size_t)g->natoms, ns = (size_t)pl->nslots, ncl = (size_t)pl->ncl;
    const int cap = pl->cap;
    gpu_kernel *const *k = pl->k;
    fs_status st = gpu_args(g, k[K_CHECK], 4, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(pl->ref), GPU_ARG_BUF(g->flags),
                            GPU_ARG(force_rebuild));
    if (st == FS_OK) st = gpu_run(g, k[K_CHECK], n > 0 ? n : 1, NB_WG);
    if (st == FS_OK)
        st = gpu_args(g, k[K_GATHER], 13, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->charge), GPU_ARG_BUF(pl->type),
                      GPU_ARG_BUF(pl->type_lj), GPU_ARG_BUF(pl->slot_atom), GPU_ARG_BUF(g->flags),
                      GPU_ARG_BUF(pl->wrap), GPU_ARG_BUF(pl->ref), GPU_ARG_BUF(pl->xq), GPU_ARG_BUF(pl->styp),
                      GPU_ARG_BUF(pl->ljp), GPU_ARG(box_d), GPU_ARG(inv_d));
    if (st == FS_OK) st = gpu_run(g, k[K_GATHER], ns, NB_WG);
    if (st == FS_OK) st = gpu_args(g, k[K_BBOX], 3, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(pl->xq), GPU_ARG_BUF(pl->bb));
    if (st == FS_OK) st = gpu_run(g, k[K_BBOX], ncl, NB_WG);
    if (st == FS_OK)
        st = gpu_args(g, k[K_BLOCKS], 3, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(pl->bb), GPU_ARG_BUF(pl->bblock));
    if (st == FS_OK) st = gpu_run(g, k[K_BLOCKS], (size_t)blocks_of(pl->ncl), NB_WG);
    if (g->use_double) {
        if (st == FS_OK)
            st = gpu_args(g, k[K_SEARCH], 8, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(pl->bb), GPU_ARG_BUF(pl->bblock),
                          GPU_ARG_BUF(pl->entry), GPU_ARG_BUF(pl->ncand), GPU_ARG(cap), GPU_ARG(box_d), GPU_ARG(inv_d));
    } else if (st == FS_OK) {
        st = gpu_args(g, k[K_SEARCH], 8, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(pl->bb), GPU_ARG_BUF(pl->bblock),
                      GPU_ARG_BUF(pl->entry), GPU_ARG_BUF(pl->ncand), GPU_ARG(cap), GPU_ARG(box_f), GPU_ARG(inv_f));
    }
    if (st == FS_OK) st = gpu_run(g, k[K_SEARCH], ncl, NB_WG);
    if (st == FS_OK) {
        st = gpu_args(g, k[K_MASK], 6, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(pl->xq), GPU_ARG_BUF(pl->entry),
                      GPU_ARG_BUF(pl->ncand), GPU_ARG_BUF(pl->mask), GPU_ARG(cap));
        if (st == FS_OK)
            st = g->use_double ? g->api->arg(k[K_MASK], 6, sizeof box_d, &box_d)
                               : g->api->arg(k[K_MASK], 6, sizeof box_f, &box_f);
    }
    if (st == FS_OK) st = gpu_run(g, k[K_MASK], ncl, NB_WG);
    if (st == FS_OK)
        st = gpu_args(g, k[K_EXCL], 8, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(pl->excl_start), GPU_ARG_BUF(pl->excl_list),
                      GPU_ARG_BUF(pl->atom_slot), GPU_ARG_BUF(pl->entry), GPU_ARG_BUF(pl->ncand), GPU_ARG_BUF(pl->mask),
                      GPU_ARG(cap));
    if (st == FS_OK) st = gpu_run(g, k[K_EXCL], n > 0 ? n : 1, NB_WG);
    if (st == FS_OK)
        st = gpu_args(g, k[K_COMPACT], 6, GPU_ARG_BUF(g->flags), GPU_ARG_BUF(pl->entry), GPU_ARG_BUF(pl->ncand),
                      GPU_ARG_BUF(pl->count), GPU_ARG_BUF(pl->mask), GPU_ARG(cap));
    if (st == FS_OK) st = gpu_run(g, k[K_COMPACT], ncl, NB_WG);
    if (st == FS_OK) st = gpu_args(g, k[K_DONE], 1, GPU_ARG_BUF(g->flags));
    if (st == FS_OK) st = gpu_run(g, k[K_DONE], 1, 1);
    return st;
}

/* Waits for the list, and when it overflowed (or after a sort, `resize`) sizes it from the largest candidate count
 * and rebuilds until it fits. */
static fs_status check_capacity(gpu_pairlist *pl, int resize)
{
    gpu_backend *g = pl->g;
    for (;;) {
        int flags[GPU_FLAG_SLOTS];
        fs_status st = gpu_read_flags(g, flags);
        if (st != FS_OK) return st;
        if (!flags[GPU_F_LIST_OVERFLOW] && !resize) return FS_OK;
        int *cnt = malloc((size_t)pl->ncl * sizeof(int));
        if (!cnt) return fs_fail(FS_ERR_NOMEM, "out of memory reading the pair-list counts");
        st = g->api->read(g->dev, pl->ncand, 0, (size_t)pl->ncl * sizeof(int), cnt);
        int most = 0;
        for (int c = 0; st == FS_OK && c < pl->ncl; ++c) most = cnt[c] > most ? cnt[c] : most;
        free(cnt);
        if (st != FS_OK) return st;
        long want = (2L * most + 32 + 15) / 16 * 16;
        if (want > 8L * pl->ncl_pad) want = 8L * pl->ncl_pad;
        if ((long)(pl->ncl) * want > 2147483647L / NB_CLUSTER)
            return fs_fail(FS_ERR_NOMEM, "pair list of %d clusters x %ld entries is too large", pl->ncl, want);
        const int overflow = flags[GPU_F_LIST_OVERFLOW] || most > pl->cap;
        /* room for the clusters to spread until the next sort, without wasting memory */
        const int fits = pl->cap >= (3L * most) / 2 + 16 && pl->cap <= 4L * most + 64;
        resize = 0;
        if (!overflow && (fits || want == pl->cap)) return FS_OK;
        st = alloc_list(pl, (int)want);
        if (st == FS_OK && flags[GPU_F_LIST_OVERFLOW]) {
            int zero = 0;
            st = g->api->write(g->dev, g->flags, GPU_F_LIST_OVERFLOW * sizeof(int), sizeof zero, &zero);
        }
        if (st == FS_OK) st = queue_build(pl, 1);
        if (st != FS_OK) return st;
    }
}

fs_status gpu_pairlist_update(gpu_pairlist *pl, int check_now)
{
    gpu_backend *g = pl->g;
    if (g->natoms == 0) return FS_OK;
    const double rlist = g->rlist;
    for (int d = 0; d < 3; ++d) {
        if (!g->periodic[d]) continue;
        if (!(g->box[d] > 0.0)) return fs_fail(FS_ERR_INVALID, "periodic box edge %d is %g nm", d, g->box[d]);
        if (rlist > 0.5 * g->box[d])
            return fs_fail(FS_ERR_INVALID,
                           "pair-list radius %g nm exceeds half the periodic box edge %g nm (minimum image)", rlist,
                           g->box[d]);
    }
    fs_status st = FS_OK;
    /* by the step of the positions, so that the re-evaluation after an upload (a continued run) sorts when the
     * uninterrupted run's evaluation of the same positions did */
    const long epoch = g->positions_step / NB_NSTSORT;
    const int sorted = pl->need_sort || epoch != pl->sort_epoch;
    if (sorted) {
        st = sort_atoms(pl);
        if (st != FS_OK) return st;
        pl->need_sort = 0;
        pl->sort_epoch = epoch;
    }
    const int new_box = memcmp(pl->built_box, g->box, sizeof pl->built_box) != 0;
    st = queue_build(pl, new_box);
    if (st != FS_OK) return st;
    memcpy(pl->built_box, g->box, sizeof pl->built_box);
    if (sorted || check_now || pl->is_cpu || ++pl->since_check >= NB_OVERFLOW_CHECK) {
        pl->since_check = 0;
        st = check_capacity(pl, sorted);
    }
    return st;
}

fs_status gpu_pairlist_set_capacity(gpu_pairlist *pl, int cap)
{
    if (cap < 1) return fs_fail(FS_ERR_INVALID, "pair-list capacity %d", cap);
    fs_status st = pl->g->api->finish(pl->g->dev);
    if (st == FS_OK) st = alloc_list(pl, cap);
    if (st == FS_OK) st = pl->g->api->fill_zero(pl->g->dev, pl->count, (size_t)pl->ncl * sizeof(int));
    if (st == FS_OK) {
        int one = 1;
        st = pl->g->api->write(pl->g->dev, pl->g->flags, GPU_F_REBUILD * sizeof(int), sizeof one, &one);
    }
    return st;
}

gpu_pairlist_view gpu_pairlist_get(const gpu_pairlist *pl)
{
    gpu_pairlist_view v = {pl->nslots, pl->cap,   pl->xq,   pl->styp,       pl->ljp,      pl->slot_atom,
                           pl->count,  pl->entry, pl->mask, pl->excl_start, pl->excl_list};
    return v;
}

long gpu_pairlist_entries(gpu_pairlist *pl)
{
    int *cnt = malloc((size_t)(pl->ncl > 0 ? pl->ncl : 1) * sizeof(int));
    if (!cnt) return 0;
    long total = 0;
    if (pl->ncl > 0 && pl->g->api->read(pl->g->dev, pl->count, 0, (size_t)pl->ncl * sizeof(int), cnt) == FS_OK)
        for (int c = 0; c < pl->ncl; ++c) total += cnt[c];
    free(cnt);
    return total;
}

/* ---- history: what a bit-exact continuation needs ------------------------------------------------------------ */

#define HISTORY_MAGIC "FSPLIST1"

typedef struct {
    char magic[8];
    int32_t natoms, nslots;
    int64_t sort_epoch;
    int32_t need_sort, reserved;
    double built_box[3]; /* the box of the last build (a barostat trial's, when it was rejected since) */
} history_header;

fs_status gpu_pairlist_save(gpu_pairlist *pl, void **data, size_t *bytes)
{
    gpu_backend *g = pl->g;
    const size_t ns = (size_t)pl->nslots, n = (size_t)g->natoms;
    const size_t size = sizeof(history_header) + ns * sizeof(int32_t) + n * 4 * sizeof(double);
    *data = NULL;
    *bytes = 0;
    unsigned char *buf = calloc(1, size);
    if (!buf) return fs_fail(FS_ERR_NOMEM, "out of memory saving the pair list");
    history_header h = {HISTORY_MAGIC,
                        g->natoms,
                        pl->nslots,
                        pl->sort_epoch,
                        pl->need_sort,
                        0,
                        {pl->built_box[0], pl->built_box[1], pl->built_box[2]}};
    memcpy(buf, &h, sizeof h);
    _Static_assert(sizeof(int) == sizeof(int32_t), "slot_atom is int on the device");
    fs_status st = g->api->read(g->dev, pl->slot_atom, 0, ns * sizeof(int32_t), buf + sizeof h);
    if (st == FS_OK && n > 0)
        st = g->api->read(g->dev, pl->ref, 0, n * 4 * sizeof(double), buf + sizeof h + ns * sizeof(int32_t));
    if (st != FS_OK) {
        free(buf);
        return st;
    }
    *data = buf;
    *bytes = size;
    return FS_OK;
}

fs_status gpu_pairlist_restore(gpu_pairlist *pl, const void *data, size_t bytes)
{
    gpu_backend *g = pl->g;
    const size_t ns = (size_t)pl->nslots, n = (size_t)g->natoms;
    history_header h;
    if (bytes != sizeof h + ns * sizeof(int32_t) + n * 4 * sizeof(double))
        return fs_fail(FS_ERR_INVALID, "the pair-list history has %zu bytes, %zu expected for %d atoms", bytes,
                       sizeof h + ns * sizeof(int32_t) + n * 4 * sizeof(double), g->natoms);
    memcpy(&h, data, sizeof h);
    if (memcmp(h.magic, HISTORY_MAGIC, 8) != 0 || h.natoms != g->natoms || h.nslots != pl->nslots)
        return fs_fail(FS_ERR_INVALID, "the pair-list history is not one of this system's");
    const unsigned char *p = (const unsigned char *)data + sizeof h;
    int32_t *slot_atom = malloc(ns * sizeof *slot_atom), *atom_slot = malloc((n > 0 ? n : 1) * sizeof *atom_slot);
    fs_status st = slot_atom && atom_slot ? FS_OK : fs_fail(FS_ERR_NOMEM, "out of memory restoring the pair list");
    if (st == FS_OK) {
        /* the order must be a permutation of the atoms followed by padding: anything else would index out of range */
        memcpy(slot_atom, p, ns * sizeof *slot_atom);
        for (size_t a = 0; a < n; ++a) atom_slot[a] = -1;
        for (size_t s = 0; s < ns && st == FS_OK; ++s) {
            const int32_t a = slot_atom[s];
            const int ok = s < n ? a >= 0 && (size_t)a < n && atom_slot[a] < 0 : a == -1;
            if (!ok)
                st = fs_fail(FS_ERR_INVALID, "the pair-list history holds no valid cluster order");
            else if (s < n)
                atom_slot[a] = (int32_t)s;
        }
    }
    if (st == FS_OK) st = g->api->write(g->dev, pl->slot_atom, 0, ns * sizeof *slot_atom, slot_atom);
    if (st == FS_OK && n > 0) st = g->api->write(g->dev, pl->atom_slot, 0, n * sizeof *atom_slot, atom_slot);
    free(slot_atom);
    free(atom_slot);
    if (st != FS_OK || h.need_sort) {
        pl->need_sort = 1; /* nothing was built since the last upload there either */
        return st;
    }
    /* the build of the positions in `ref`, as it happened; then the current positions back in place */
    gpu_buf *now = NULL;
    const size_t pos_bytes = n * 4 * sizeof(double);
    if (n > 0) {
        st = gpu_alloc(g, pos_bytes, "a copy of the positions", &now);
        if (st == FS_OK) st = g->api->copy(g->dev, now, g->pos, pos_bytes);
        if (st == FS_OK) st = g->api->write(g->dev, g->pos, 0, pos_bytes, p + ns * sizeof(int32_t));
    }
    /* ... in the box of that build: the next evaluation sees a box change, and rebuilds, where the uninterrupted run
     * did */
    double box[3];
    memcpy(box, g->box, sizeof box);
    memcpy(g->box, h.built_box, sizeof box);
    if (st == FS_OK) st = queue_build(pl, 1);
    if (st == FS_OK) st = check_capacity(pl, 1);
    memcpy(g->box, box, sizeof box);
    if (st == FS_OK && n > 0) st = g->api->copy(g->dev, g->pos, now, pos_bytes);
    if (st == FS_OK) st = g->api->finish(g->dev);
    g->api->release(&now);
    if (st != FS_OK) return st;
    pl->need_sort = 0;
    pl->sort_epoch = (long)h.sort_epoch;
    pl->since_check = 0;
    memcpy(pl->built_box, h.built_box, sizeof pl->built_box);
    return FS_OK;
}

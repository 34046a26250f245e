/*
 * nblist.c — the CPU reference's Verlet pair list, built with link cells.
 *
 * What it computes. A half list of every atom pair (i, j), i < j, whose minimum-image distance is below rlist and
 * which the topology does not exclude. Rows are indexed by i in the caller's atom order (CSR: start[i] ..
 * start[i+1] in j[]), so the force kernel walks i = 0..N-1 and finds each partner once. The list is "Verlet
 * buffered": built with rlist = max(rc) + buffer, it stays valid until some atom has moved by more than half the
 * buffer (then two atoms can approach each other by at most the buffer), which fs_nblist_needs_rebuild() checks
 * against the positions stored at the build.
 *
 * The cell mapping. A brute-force search costs N^2/2 distance tests (270 M for 23k atoms); link cells make it
 * O(N). Each axis d is cut into n_d cells of edge s_d >= rlist/2:
 *   - periodic axis: the positions are first wrapped into [0, L_d) and n_d = floor(L_d / (rlist/2)), s_d = L_d/n_d;
 *   - non-periodic axis (a slab's z): no wrapping; the cells span [min_d, max_d] of the atoms' coordinates.
 * An atom at coordinate x falls in cell c_d = floor((x - lo_d) / s_d) (clamped to n_d - 1 against round-off), and
 * the cell (cx, cy, cz) has the 1D index (cx * n_y + cy) * n_z + cz. Atoms are bucketed by a stable counting sort,
 * so cell_start[c] .. cell_start[c+1] lists the atoms of cell c in increasing atom index, with their wrapped
 * coordinates copied alongside (contiguous, cache-friendly). Every partner of an atom within rlist lies within
 * reach_d = ceil(rlist / s_d) <= 2 cells along each axis (never more than n_d): on a periodic axis the neighbour index
 * wraps modulo n_d (and when 2 reach_d + 1 >= n_d simply every cell along that axis is visited, once), on a
 * non-periodic axis it is clipped to [0, n_d). Half-size cells make the searched volume (5 s)^3 ~ 15.6 rlist^3 instead
 * of the (3 rlist)^3 = 27 rlist^3 of rlist-sized cells, against the sphere's 4.2 rlist^3. When the cell count would
 * exceed a few per atom (a dilute or very elongated system), the largest axis is coarsened (n_d halved): cells only
 * grow, so the search stays exact.
 *
 * The search. For atom i (in index order) the atoms it excludes are stamped in a scratch array; then in each
 * neighbour cell a binary search skips the members with index <= i (they are sorted), and each remaining j gets a
 * distance test. Both coordinates are wrapped into [0, L), so their difference lies in (-L, L) and one conditional
 * shift by L gives the minimum image on a periodic axis (rlist <= L/2 is required, so at most one image is within
 * reach). j is kept when r^2 < rlist^2 and j is not stamped as excluded. The j array grows by doubling. Each row
 * is then sorted by j: the row of i is the same sequence whatever the positions the list was built from, up to pairs
 * beyond the cut-off (which contribute nothing), so the order of force summation, and with it every bit of the
 * result, does not depend on when the list was rebuilt. A run continued from a checkpoint, which rebuilds its list
 * at the checkpoint step, therefore reproduces the uninterrupted run exactly.
 */
#include "nblist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/units.h"

typedef struct {
    int ncell_cap;
    int *cell_start; /* ncell + 1 */
    int *cell_atom;  /* natoms: atom indices in cell order */
    double *xs[3];   /* natoms: wrapped coordinates in cell order */
    int *atom_cell;  /* natoms: 1D cell of each atom */
    double *wr[3];   /* natoms: wrapped coordinates in atom order */
    int *stamp;      /* natoms: exclusion marks */
} nb_cells;

fs_status fs_nblist_create(int natoms, fs_nblist **out)
{
    *out = NULL;
    if (natoms < 0) return fs_fail(FS_ERR_INVALID, "pair list for %d atoms", natoms);
    fs_nblist *nl = calloc(1, sizeof *nl);
    nb_cells *c = calloc(1, sizeof *c);
    size_t n = (size_t)(natoms > 0 ? natoms : 1);
    if (!nl || !c) goto nomem;
    nl->cells = c;
    nl->natoms = natoms;
    nl->start = calloc(n + 1, sizeof *nl->start);
    c->cell_atom = malloc(n * sizeof *c->cell_atom);
    c->atom_cell = malloc(n * sizeof *c->atom_cell);
    c->stamp = malloc(n * sizeof *c->stamp);
    if (!nl->start || !c->cell_atom || !c->atom_cell || !c->stamp) goto nomem;
    for (int d = 0; d < 3; ++d) {
        nl->ref[d] = calloc(n, sizeof *nl->ref[d]);
        c->xs[d] = malloc(n * sizeof *c->xs[d]);
        c->wr[d] = malloc(n * sizeof *c->wr[d]);
        if (!nl->ref[d] || !c->xs[d] || !c->wr[d]) goto nomem;
    }
    *out = nl;
    return FS_OK;
nomem:
    if (nl) {
        nl->cells = c;
        fs_nblist_destroy(&nl);
    } else {
        free(c);
    }
    return fs_fail(FS_ERR_NOMEM, "out of memory for a pair list of %d atoms", natoms);
}

void fs_nblist_destroy(fs_nblist **nl)
{
    if (!nl || !*nl) return;
    fs_nblist *l = *nl;
    nb_cells *c = l->cells;
    if (c) {
        free(c->cell_start);
        free(c->cell_atom);
        free(c->atom_cell);
        free(c->stamp);
        for (int d = 0; d < 3; ++d) {
            free(c->xs[d]);
            free(c->wr[d]);
        }
        free(c);
    }
    for (int d = 0; d < 3; ++d) free(l->ref[d]);
    free(l->start);
    free(l->j);
    free(l);
    *nl = NULL;
}

/* Geometry of the cell grid along one axis. */
typedef struct {
    int n;        /* cells */
    int reach;    /* neighbour cells to search on each side */
    int periodic; /* wrap neighbour indices */
    double lo, inv_s, len, half;
    double ext; /* extent covered by the cells, nm */
} nb_axis;

/* Splits every axis into cells of at least rlist/2 and wraps the coordinates (periodic axes) into c->wr. Fails on
 * non-finite coordinates. */
static fs_status setup_axes(const fs_box *box, double *const r[3], int natoms, double rlist, nb_cells *c, nb_axis ax[3])
{
    double ext[3];
    for (int d = 0; d < 3; ++d) {
        nb_axis *a = &ax[d];
        a->periodic = box->periodic[d];
        double *w = c->wr[d];
        const double *x = r[d];
        if (a->periodic) {
            double L = box->len[d], invL = 1.0 / L;
            for (int i = 0; i < natoms; ++i) {
                if (!isfinite(x[i])) return fs_fail(FS_ERR_NUMERIC, "atom %d has a non-finite coordinate", i + 1);
                double y = x[i] - L * floor(x[i] * invL);
                w[i] = y < L ? y : 0.0; /* x slightly below 0 can round to exactly L */
            }
            a->lo = 0.0;
            a->len = L;
            a->half = 0.5 * L;
            ext[d] = L;
        } else {
            double lo = natoms > 0 ? x[0] : 0.0, hi = lo;
            for (int i = 0; i < natoms; ++i) {
                if (!isfinite(x[i])) return fs_fail(FS_ERR_NUMERIC, "atom %d has a non-finite coordinate", i + 1);
                w[i] = x[i];
                lo = x[i] < lo ? x[i] : lo;
                hi = x[i] > hi ? x[i] : hi;
            }
            a->lo = lo;
            a->len = 0.0;
            a->half = 0.0;
            ext[d] = hi - lo;
        }
        double want = floor(ext[d] / (0.5 * rlist));
        a->ext = ext[d];
        a->n = want < 1.0 ? 1 : want > 1024.0 ? 1024 : (int)want;
    }
    /* at most ~2 cells per atom: coarsen the finest-divided axis until the grid fits */
    long maxcells = 2L * natoms + 27;
    while ((long)ax[0].n * ax[1].n * ax[2].n > maxcells) {
        int big = 0;
        for (int d = 1; d < 3; ++d)
            if (ax[d].n > ax[big].n) big = d;
        ax[big].n = ax[big].n / 2 > 0 ? ax[big].n / 2 : 1;
    }
    for (int d = 0; d < 3; ++d) {
        nb_axis *a = &ax[d];
        double s = ext[d] / a->n;
        if (!(s > 0.0)) {
            a->inv_s = 0.0; /* all atoms in one plane: one cell */
            a->reach = 0;
        } else {
            a->inv_s = 1.0 / s;
            /* never more than the grid holds (a thin layer of atoms along an open axis has tiny s) */
            double reach = ceil(rlist / s);
            a->reach = reach < a->n ? (int)reach : a->n;
        }
    }
    return FS_OK;
}

/* The neighbour cell indices of cell `ci` along one axis, each once. Returns their count. */
static int neighbour_cells(const nb_axis *a, int ci, int out[])
{
    int m = 0;
    if (a->periodic && 2 * a->reach + 1 >= a->n) {
        for (int k = 0; k < a->n; ++k) out[m++] = k;
    } else {
        for (int k = ci - a->reach; k <= ci + a->reach; ++k) {
            if (a->periodic)
                out[m++] = (k % a->n + a->n) % a->n;
            else if (k >= 0 && k < a->n)
                out[m++] = k;
        }
    }
    return m;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Buckets the atoms into cells (stable counting sort). */
static fs_status fill_cells(nb_cells *c, const nb_axis ax[3], int natoms)
{
    int ncell = ax[0].n * ax[1].n * ax[2].n;
    if (ncell + 1 > c->ncell_cap) {
        int *p = realloc(c->cell_start, (size_t)(ncell + 1) * sizeof *p);
        if (!p) return fs_fail(FS_ERR_NOMEM, "out of memory for %d link cells", ncell);
        c->cell_start = p;
        c->ncell_cap = ncell + 1;
    }
    memset(c->cell_start, 0, (size_t)(ncell + 1) * sizeof *c->cell_start);
    for (int i = 0; i < natoms; ++i) {
        int ic[3];
        for (int d = 0; d < 3; ++d) {
            int k = (int)((c->wr[d][i] - ax[d].lo) * ax[d].inv_s);
            ic[d] = k < 0 ? 0 : k >= ax[d].n ? ax[d].n - 1 : k;
        }
        int cell = (ic[0] * ax[1].n + ic[1]) * ax[2].n + ic[2];
        c->atom_cell[i] = cell;
        c->cell_start[cell + 1]++;
    }
    for (int k = 0; k < ncell; ++k) c->cell_start[k + 1] += c->cell_start[k];
    for (int i = 0; i < natoms; ++i) {
        int cell = c->atom_cell[i];
        int slot = c->cell_start[cell]++;
        c->cell_atom[slot] = i;
        for (int d = 0; d < 3; ++d) c->xs[d][slot] = c->wr[d][i];
    }
    /* cell_start[k] now holds the end of cell k: shift back */
    for (int k = ncell; k > 0; --k) c->cell_start[k] = c->cell_start[k - 1];
    c->cell_start[0] = 0;
    return FS_OK;
}

static fs_status grow_j(fs_nblist *nl, long need)
{
    if (need <= nl->j_cap) return FS_OK;
    long cap = nl->j_cap > 0 ? nl->j_cap : 1024;
    while (cap < need) cap *= 2;
    int *p = realloc(nl->j, (size_t)cap * sizeof *p);
    if (!p) return fs_fail(FS_ERR_NOMEM, "out of memory for a pair list of %ld pairs", cap);
    nl->j = p;
    nl->j_cap = cap;
    return FS_OK;
}

/* First slot in [b, e) of the cell-ordered atoms whose index exceeds i (they are sorted by index). */
static int first_above(const int *atom, int b, int e, int i)
{
    while (b < e) {
        int m = b + (e - b) / 2;
        if (atom[m] <= i)
            b = m + 1;
        else
            e = m;
    }
    return b;
}

fs_status fs_nblist_build(fs_nblist *nl, const fs_topology *top, const fs_box *box, double *const r[3], double rlist)
{
    int n = nl->natoms;
    if (top->natoms != n) return fs_fail(FS_ERR_INVALID, "pair list for %d atoms, topology has %d", n, top->natoms);
    if (!(rlist > 0.0)) return fs_fail(FS_ERR_INVALID, "pair-list radius %g nm must be positive", rlist);
    for (int d = 0; d < 3; ++d) {
        if (!box->periodic[d]) continue;
        if (!(box->len[d] > 0.0)) return fs_fail(FS_ERR_INVALID, "periodic box edge %d is %g nm", d, box->len[d]);
        if (rlist > 0.5 * box->len[d])
            return fs_fail(FS_ERR_INVALID,
                           "pair-list radius %g nm exceeds half the periodic box edge %g nm (minimum image)", rlist,
                           box->len[d]);
    }
    nl->rlist = 0.0; /* "never built" until this build succeeds */
    nb_cells *c = nl->cells;
    nb_axis ax[3];
    fs_status st = setup_axes(box, r, n, rlist, c, ax);
    if (st != FS_OK) return st;
    st = fill_cells(c, ax, n);
    if (st != FS_OK) return st;

    /* first guess of the pair count from the density, refined by doubling */
    if (nl->j_cap == 0 && n > 0) {
        double vol = 1.0;
        for (int d = 0; d < 3; ++d) vol *= fmax(ax[d].ext, rlist);
        double guess = 0.6 * n * (n / vol) * (4.0 / 3.0) * FS_PI * rlist * rlist * rlist;
        if (guess > 0.5 * n * (double)n) guess = 0.5 * n * (double)n;
        st = grow_j(nl, (long)guess + 1024);
        if (st != FS_OK) return st;
    }

    for (int i = 0; i < n; ++i) c->stamp[i] = -1;
    const double rl2 = rlist * rlist;
    const int *ex_start = top->excl_start, *ex = top->excl_list;
    long np = 0;
    int nbx[64], nby[64], nbz[64]; /* at most 2 reach + 1 <= 7 per axis (reach <= 3 since s >= rlist/2) */
    for (int i = 0; i < n; ++i) {
        nl->start[i] = (int)np;
        if (ex_start)
            for (int k = ex_start[i]; k < ex_start[i + 1]; ++k) c->stamp[ex[k]] = i;
        const double xi = c->wr[0][i], yi = c->wr[1][i], zi = c->wr[2][i];
        int cell = c->atom_cell[i];
        int cz = cell % ax[2].n, cy = (cell / ax[2].n) % ax[1].n, cx = cell / (ax[2].n * ax[1].n);
        int mx = neighbour_cells(&ax[0], cx, nbx), my = neighbour_cells(&ax[1], cy, nby),
            mz = neighbour_cells(&ax[2], cz, nbz);
        for (int a = 0; a < mx; ++a)
            for (int b = 0; b < my; ++b)
                for (int g = 0; g < mz; ++g) {
                    int nc = (nbx[a] * ax[1].n + nby[b]) * ax[2].n + nbz[g];
                    int e = c->cell_start[nc + 1];
                    int k0 = first_above(c->cell_atom, c->cell_start[nc], e, i);
                    if (np + (e - k0) > nl->j_cap) {
                        st = grow_j(nl, np + (e - k0));
                        if (st != FS_OK) return st;
                    }
                    int *jl = nl->j;
                    for (int k = k0; k < e; ++k) {
                        double dx = xi - c->xs[0][k], dy = yi - c->xs[1][k], dz = zi - c->xs[2][k];
                        if (ax[0].periodic)
                            dx = dx > ax[0].half ? dx - ax[0].len : dx < -ax[0].half ? dx + ax[0].len : dx;
                        if (ax[1].periodic)
                            dy = dy > ax[1].half ? dy - ax[1].len : dy < -ax[1].half ? dy + ax[1].len : dy;
                        if (ax[2].periodic)
                            dz = dz > ax[2].half ? dz - ax[2].len : dz < -ax[2].half ? dz + ax[2].len : dz;
                        int j = c->cell_atom[k];
                        if (dx * dx + dy * dy + dz * dz < rl2 && c->stamp[j] != i) jl[np++] = j;
                    }
                }
        if (np > 2147483647L) return fs_fail(FS_ERR_INVALID, "pair list exceeds 2^31 pairs");
        qsort(nl->j + nl->start[i], (size_t)(np - nl->start[i]), sizeof *nl->j, cmp_int);
    }
    nl->start[n] = (int)np;
    nl->npairs = np;
    nl->rlist = rlist;
    nl->ref_box = *box;
    if (n > 0)
        for (int d = 0; d < 3; ++d) memcpy(nl->ref[d], r[d], (size_t)n * sizeof *r[d]);
    return FS_OK;
}

int fs_nblist_needs_rebuild(const fs_nblist *nl, const fs_box *box, double *const r[3], double half_buffer)
{
    if (!(nl->rlist > 0.0)) return 1; /* never built */
    for (int d = 0; d < 3; ++d)
        if (box->len[d] != nl->ref_box.len[d] || box->periodic[d] != nl->ref_box.periodic[d]) return 1;
    const double lim2 = half_buffer * half_buffer;
    for (int i = 0; i < nl->natoms; ++i) {
        double dr[3];
        for (int d = 0; d < 3; ++d) dr[d] = r[d][i] - nl->ref[d][i];
        fs_box_min_image(box, dr);
        if (dr[0] * dr[0] + dr[1] * dr[1] + dr[2] * dr[2] > lim2) return 1;
    }
    return 0;
}

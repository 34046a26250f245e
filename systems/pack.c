/*
 * pack.c — packing rigid molecules at random under a minimum-distance tolerance (the Packmol criterion).
 *
 * What it computes. Positions for nmol copies of rigid templates in a periodic orthorhombic box such that every pair
 * of atoms that belong to different molecules is at least `tolerance` apart under the minimum-image convention:
 *     | r_i - r_j - L nint((r_i - r_j) / L) | >= tol     for all i, j in different molecules.
 * Packmol (Martinez, Andrade, Birgin, Martinez, J. Comput. Chem. 30, 2157 (2009)) uses the same criterion with
 * tol = 2.0 A by default and reaches it by minimizing an overlap penalty over the rigid-body coordinates; we do the
 * same after a random sequential addition that places most molecules without any overlap.
 *
 * Phase 1, random sequential addition. Molecules are placed one at a time, largest first (big molecules need big
 * holes, which are rare late in the packing). A trial draws a uniform random rotation and a uniform random centroid:
 *   - rotation: Shoemake's uniform unit quaternion from three uniforms u1, u2, u3 (K. Shoemake, "Uniform random
 *     rotations", Graphics Gems III, 124 (1992)): q = (sqrt(u1) cos 2 pi u3, sqrt(1-u1) sin 2 pi u2,
 *     sqrt(1-u1) cos 2 pi u2, sqrt(u1) sin 2 pi u3), turned into the rotation matrix R(q);
 *   - position: c = (u4 Lx, u5 Ly, u6 Lz);
 * the atoms go to c + R p_a (p_a the template centred on its centroid), rounded to `grid`. The six uniforms come from
 * two Philox blocks, counter (seed, step = molecule index, index = 2 * trial + {0, 1}, stream FS_RNG_STREAM_BUILDER),
 * so molecule m's draws never depend on how many trials other molecules needed. A trial is rejected as soon as one
 * of its atoms is closer than tol to a placed atom, found through a cell list (cells of edge >= tol, so every partner
 * closer than tol is in the 27 cells around an atom; with fewer than 3 cells along an axis the distinct neighbour
 * cells are visited once): a trial costs O(atoms of the molecule x atoms per cell), independent of the system size.
 * At liquid density random addition jams before the last molecules fit (with 100 trials per molecule about a third
 * of 1 M LiPF6 in EC:DMC at 1.28 g/cm^3 find no free place). Such a molecule is put where the first 50 of its
 * trials overlapped least.
 *
 * Phase 2, overlap removal. With the rigid-body coordinates (centroid c_m, rotation R_m) as variables, minimize
 *     U = sum over pairs of different molecules with d_ij < t of (t - d_ij)^2,    t = tol + 2 grid + tol / 100,
 * by steepest descent: the generalized forces are F_m = -dU/dc_m = sum_a f_a and the torque T_m = sum_a (R_m p_a) x
 * f_a with f_i = 2 (t - d_ij) (r_i - r_j) / d_ij; a step moves c_m by alpha F_m and turns R_m by the angle vector
 * alpha T_m / sum_a |p_a|^2 (Rodrigues' formula), so that translation and rotation move atoms alike; no atom moves
 * more than tol/4 in one step. alpha grows by 1.2 after a step that lowers U and halves after one that does not
 * (which is undone). The descent stops when no pair is closer than tol + 2 grid (t is a little larger so that this
 * is reached in finitely many steps rather than approached asymptotically); rounding to the grid then changes a
 * distance by at most sqrt(3) grid, so the tolerance holds for the rounded positions that are written. Only
 * molecules that overlap feel a force, so the relaxation is local; each step costs one cell-list pass, O(N).
 *
 * Failure. If the overlaps survive relax_steps steps, or U has not fallen by 10 % over the last 1000 steps (a jammed
 * box: at 4 g/cm^3 of EC U stalls near 2.7 nm^2), or alpha underflows in a local minimum, the box is too full at this
 * tolerance; the error says what to change (lower density, bigger box, smaller tolerance).
 */
#include "pack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/rng.h"
#include "../core/units.h"

typedef struct {
    int nc[3];
    double len[3];
    int ncells;
    int *head; /* ncells, -1 = empty */
    int *next; /* per atom */
} cell_list;

static void cells_free(cell_list *c)
{
    free(c->head);
    free(c->next);
    c->head = c->next = NULL;
}

/* Cells of edge >= cutoff along each axis; at most about 2 * natoms + 27 cells in all (coarser when the box is huge
 * compared with the number of atoms, which keeps memory bounded and changes nothing but the cost). */
static fs_status cells_init(cell_list *c, const double len[3], double cutoff, int natoms)
{
    double limit = 2.0 * natoms + 27.0;
    double nc[3], total = 1.0;
    for (int d = 0; d < 3; ++d) {
        c->len[d] = len[d];
        nc[d] = floor(len[d] / cutoff);
        if (nc[d] < 1) nc[d] = 1;
        if (nc[d] > 1024) nc[d] = 1024;
        total *= nc[d];
    }
    if (total > limit) {
        double s = cbrt(total / limit);
        for (int d = 0; d < 3; ++d) nc[d] = fmax(1.0, floor(nc[d] / s));
    }
    c->ncells = 1;
    for (int d = 0; d < 3; ++d) {
        c->nc[d] = (int)nc[d];
        c->ncells *= c->nc[d];
    }
    c->head = malloc(sizeof(int) * (size_t)c->ncells);
    c->next = malloc(sizeof(int) * (size_t)(natoms > 0 ? natoms : 1));
    if (!c->head || !c->next) {
        cells_free(c);
        return fs_fail(FS_ERR_NOMEM, "pack: out of memory for a cell list of %d cells", c->ncells);
    }
    for (int k = 0; k < c->ncells; ++k) c->head[k] = -1;
    return FS_OK;
}

static void cell_coords(const cell_list *c, const double x[3], int k[3])
{
    for (int d = 0; d < 3; ++d) {
        double u = x[d] / c->len[d];
        u -= floor(u);
        k[d] = (int)(u * c->nc[d]);
        if (k[d] >= c->nc[d]) k[d] = c->nc[d] - 1;
        if (k[d] < 0) k[d] = 0;
    }
}

static int cell_index(const cell_list *c, const int k[3])
{
    return (k[0] * c->nc[1] + k[1]) * c->nc[2] + k[2];
}

/* The distinct neighbour cells of cell k (itself included) into out[27]; returns how many. */
static int neighbour_cells(const cell_list *c, const int k[3], int out[27])
{
    int off[3][3], noff[3];
    for (int d = 0; d < 3; ++d) {
        noff[d] = c->nc[d] >= 3 ? 3 : c->nc[d];
        for (int o = 0; o < noff[d]; ++o) {
            int shift = c->nc[d] >= 3 ? o - 1 : o;
            off[d][o] = ((k[d] + shift) % c->nc[d] + c->nc[d]) % c->nc[d];
        }
    }
    int n = 0;
    for (int a = 0; a < noff[0]; ++a)
        for (int b = 0; b < noff[1]; ++b)
            for (int e = 0; e < noff[2]; ++e) {
                int kk[3] = {off[0][a], off[1][b], off[2][e]};
                out[n++] = cell_index(c, kk);
            }
    return n;
}

static double dist2(const fs_box *box, double *const r[3], int i, const double x[3])
{
    double d[3] = {x[0] - r[0][i], x[1] - r[1][i], x[2] - r[2][i]};
    fs_box_min_image(box, d);
    return d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
}

static void cell_insert(cell_list *c, double *const r[3], int i)
{
    double x[3] = {r[0][i], r[1][i], r[2][i]};
    int k[3];
    cell_coords(c, x, k);
    int id = cell_index(c, k);
    c->next[i] = c->head[id];
    c->head[id] = i;
}

/* Rotation matrix of Shoemake's uniform quaternion from u[0..2]. */
static void random_rotation(const double u[3], double R[3][3])
{
    double s1 = sqrt(1.0 - u[0]), s2 = sqrt(u[0]);
    double t1 = 2.0 * FS_PI * u[1], t2 = 2.0 * FS_PI * u[2];
    double w = s2 * cos(t2), x = s1 * sin(t1), y = s1 * cos(t1), z = s2 * sin(t2);
    R[0][0] = 1 - 2 * (y * y + z * z);
    R[0][1] = 2 * (x * y - z * w);
    R[0][2] = 2 * (x * z + y * w);
    R[1][0] = 2 * (x * y + z * w);
    R[1][1] = 1 - 2 * (x * x + z * z);
    R[1][2] = 2 * (y * z - x * w);
    R[2][0] = 2 * (x * z - y * w);
    R[2][1] = 2 * (y * z + x * w);
    R[2][2] = 1 - 2 * (x * x + y * y);
}

typedef struct {
    int m, natoms;
} order_item;

static int by_size(const void *a, const void *b)
{
    const order_item *p = a, *q = b;
    if (p->natoms != q->natoms) return q->natoms - p->natoms;
    return p->m - q->m;
}

/* The packing in progress: rigid bodies (centroid c, rotation R) and the atoms they put in r. */
typedef struct {
    const fs_pack_options *opt;
    fs_box box;
    int nmol, natoms;
    const int *tmpl_of;
    int *first;       /* nmol + 1 */
    int *mol;         /* molecule of each atom */
    int *tn;          /* atoms per template */
    double **ref;     /* centred template coordinates */
    double *inertia;  /* sum |p|^2 per template, nm^2 */
    double *rmax;     /* max |p| per template, nm */
    double (*c)[3];   /* centroids */
    double (*R)[9];   /* rotations, row-major */
    double *const *r; /* atom positions (the caller's arrays) */
} packer;

/* Puts molecule m's atoms at c + R p, rounded to the grid when `round`. */
static void place_atoms(const packer *p, int m, int round)
{
    int t = p->tmpl_of[m], f = p->first[m];
    const double *R = p->R[m];
    for (int a = 0; a < p->tn[t]; ++a) {
        const double *q = p->ref[t] + 3 * a;
        for (int d = 0; d < 3; ++d) {
            double x = p->c[m][d] + R[3 * d] * q[0] + R[3 * d + 1] * q[1] + R[3 * d + 2] * q[2];
            if (round && p->opt->grid > 0) x = nearbyint(x / p->opt->grid) * p->opt->grid;
            p->r[d][f + a] = x;
        }
    }
}

/* Draws trial `attempt` of molecule m into c[m], R[m]. */
static void draw_trial(const packer *p, int m, int attempt)
{
    double u[8], R[3][3];
    fs_rng_uniform4(p->opt->seed, (uint64_t)m, (uint32_t)(2 * attempt), FS_RNG_STREAM_BUILDER, u);
    fs_rng_uniform4(p->opt->seed, (uint64_t)m, (uint32_t)(2 * attempt + 1), FS_RNG_STREAM_BUILDER, u + 4);
    random_rotation(u, R);
    for (int d = 0; d < 3; ++d) {
        p->c[m][d] = u[3 + d] * p->opt->box[d];
        for (int e = 0; e < 3; ++e) p->R[m][3 * d + e] = R[d][e];
    }
}

/* Overlap of molecule m (atoms in place) with the atoms in the cell list: the number of atoms closer than tol to
 * one of its atoms when `stop_at_first` (0 or 1), else sum (tol - d)^2 over those pairs. */
static double overlap(const packer *p, const cell_list *cl, int m, double tol, int stop_at_first)
{
    double sum = 0, tol2 = tol * tol;
    for (int i = p->first[m]; i < p->first[m + 1]; ++i) {
        double x[3] = {p->r[0][i], p->r[1][i], p->r[2][i]};
        int k[3], nb[27];
        cell_coords(cl, x, k);
        int n = neighbour_cells(cl, k, nb);
        for (int q = 0; q < n; ++q)
            for (int j = cl->head[nb[q]]; j >= 0; j = cl->next[j]) {
                double d2 = dist2(&p->box, p->r, j, x);
                if (d2 < tol2) {
                    if (stop_at_first) return 1;
                    double w = tol - sqrt(d2);
                    sum += w * w;
                }
            }
    }
    return sum;
}

/* Phase 1, random sequential addition: molecules in order of decreasing size; a molecule that finds no free place in
 * max_attempts trials goes where its trials overlapped least (phase 2 resolves that). Returns how many did not fit. */
static fs_status add_sequentially(packer *p, const order_item *order, fs_pack_report *rep, int *misfits)
{
    cell_list cl = {{0, 0, 0}, {0, 0, 0}, 0, NULL, NULL};
    fs_status st = cells_init(&cl, p->opt->box, p->opt->tolerance, p->natoms);
    *misfits = 0;
    for (int q = 0; q < p->nmol && st == FS_OK; ++q) {
        int m = order[q].m, attempt, placed = 0, best = 0;
        double best_overlap = INFINITY;
        for (attempt = 0; attempt < p->opt->max_attempts && !placed; ++attempt) {
            draw_trial(p, m, attempt);
            place_atoms(p, m, 1);
            placed = overlap(p, &cl, m, p->opt->tolerance, 1) == 0;
        }
        if (!placed) {
            /* the least overlapping of (at most) the first 50 trials */
            for (int a = 0; a < attempt && a < 50; ++a) {
                draw_trial(p, m, a);
                place_atoms(p, m, 1);
                double o = overlap(p, &cl, m, p->opt->tolerance, 0);
                if (o < best_overlap) best_overlap = o, best = a;
            }
            draw_trial(p, m, best);
            place_atoms(p, m, 1);
            ++*misfits;
        }
        if (rep) {
            rep->attempts += attempt;
            if (attempt > rep->max_attempts) rep->max_attempts = attempt;
        }
        for (int i = p->first[m]; i < p->first[m + 1]; ++i) cell_insert(&cl, p->r, i);
    }
    cells_free(&cl);
    return st;
}

/* Overlap energy U = sum over pairs of atoms of different molecules closer than tol of (tol - d)^2, with the
 * generalized forces on the rigid bodies: F_m = -dU/dc_m = sum_a f_a and T_m = sum_a (R p_a) x f_a. */
static fs_status overlap_energy(const packer *p, double tol, double accept, double *U, long *nclose, double (*F)[3],
                                double (*T)[3])
{
    cell_list cl = {{0, 0, 0}, {0, 0, 0}, 0, NULL, NULL};
    fs_status st = cells_init(&cl, p->opt->box, tol, p->natoms);
    if (st != FS_OK) return st;
    for (int i = 0; i < p->natoms; ++i) cell_insert(&cl, p->r, i);
    double u = 0, tol2 = tol * tol, acc2 = accept * accept;
    long close = 0;
    if (F) memset(F, 0, sizeof(double) * 3 * (size_t)p->nmol), memset(T, 0, sizeof(double) * 3 * (size_t)p->nmol);
    for (int i = 0; i < p->natoms; ++i) {
        double x[3] = {p->r[0][i], p->r[1][i], p->r[2][i]};
        int k[3], nb[27], mi = p->mol[i];
        cell_coords(&cl, x, k);
        int n = neighbour_cells(&cl, k, nb);
        for (int q = 0; q < n; ++q)
            for (int j = cl.head[nb[q]]; j >= 0; j = cl.next[j]) {
                int mj = p->mol[j];
                if (j <= i || mj == mi) continue;
                double d[3] = {x[0] - p->r[0][j], x[1] - p->r[1][j], x[2] - p->r[2][j]};
                fs_box_min_image(&p->box, d);
                double d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
                if (d2 >= tol2) continue;
                close += d2 < acc2;
                double dist = sqrt(d2), w = tol - dist;
                u += w * w;
                if (!F) continue;
                double g = dist > 1e-12 ? 2.0 * w / dist : 0.0, f[3], ri[3], rj[3];
                for (int e = 0; e < 3; ++e) {
                    f[e] = g * d[e];
                    F[mi][e] += f[e];
                    F[mj][e] -= f[e];
                    ri[e] = x[e] - p->c[mi][e];
                    rj[e] = p->r[e][j] - p->c[mj][e];
                }
                T[mi][0] += ri[1] * f[2] - ri[2] * f[1];
                T[mi][1] += ri[2] * f[0] - ri[0] * f[2];
                T[mi][2] += ri[0] * f[1] - ri[1] * f[0];
                T[mj][0] -= rj[1] * f[2] - rj[2] * f[1];
                T[mj][1] -= rj[2] * f[0] - rj[0] * f[2];
                T[mj][2] -= rj[0] * f[1] - rj[1] * f[0];
            }
    }
    cells_free(&cl);
    *U = u;
    *nclose = close;
    return FS_OK;
}

/* R <- Q(theta) R with Q the rotation by |theta| about theta (Rodrigues). */
static void rotate(double R[9], const double th[3])
{
    double a = sqrt(th[0] * th[0] + th[1] * th[1] + th[2] * th[2]);
    if (a < 1e-15) return;
    double k[3] = {th[0] / a, th[1] / a, th[2] / a}, s = sin(a), c1 = 1.0 - cos(a), Q[9], out[9];
    double K[9] = {0, -k[2], k[1], k[2], 0, -k[0], -k[1], k[0], 0};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            double kk = 0;
            for (int l = 0; l < 3; ++l) kk += K[3 * i + l] * K[3 * l + j];
            Q[3 * i + j] = (i == j) + s * K[3 * i + j] + c1 * kk;
        }
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            double v = 0;
            for (int l = 0; l < 3; ++l) v += Q[3 * i + l] * R[3 * l + j];
            out[3 * i + j] = v;
        }
    memcpy(R, out, sizeof out);
}

#define STALL_WINDOW 1000 /* relaxation steps over which the overlap energy must fall ... */
#define STALL_FACTOR 0.9  /* ... to below this fraction of its value, or the box is declared too full */

/* Phase 2: rigid-body steepest descent on the overlap energy at a slightly larger distance, tol + 2 grid, until no
 * pair is closer than that: rounding to the grid then moves a pair by at most sqrt(3) grid, so the tolerance holds
 * for the rounded positions. The step alpha (nm per unit force; rotations scaled by 1/sum|p|^2 so atoms move alike)
 * grows by 1.2 after a step that lowers U and halves after one that does not, which is then undone; no atom moves
 * more than tol/4 in one step. */
static fs_status relax(packer *p, int *steps_done)
{
    double accept = p->opt->tolerance + 2.0 * p->opt->grid, tol = accept + 0.01 * p->opt->tolerance;
    double alpha = 0.1, U = 0, Unew, U_window = 0, cap = 0.25 * p->opt->tolerance;
    long close = 1, close_new;
    size_t nb = sizeof(double) * 3 * (size_t)p->nmol;
    double(*F)[3] = malloc(nb), (*T)[3] = malloc(nb), (*F2)[3] = malloc(nb), (*T2)[3] = malloc(nb);
    double(*c0)[3] = malloc(nb), (*R0)[9] = malloc(3 * nb);
    fs_status st = (!F || !T || !F2 || !T2 || !c0 || !R0) ? fs_fail(FS_ERR_NOMEM, "pack: out of memory") : FS_OK;
    for (int m = 0; m < p->nmol && st == FS_OK; ++m) place_atoms(p, m, 0);
    if (st == FS_OK) st = overlap_energy(p, tol, accept, &U, &close, F, T);
    int it = 0;
    for (; st == FS_OK && close > 0 && it < p->opt->relax_steps; ++it) {
        if (it % STALL_WINDOW == 0) {
            if (it > 0 && U > STALL_FACTOR * U_window) break; /* stuck: the box is too full */
            U_window = U;
        }
        memcpy(c0, p->c, nb);
        memcpy(R0, p->R, 3 * nb);
        for (int m = 0; m < p->nmol; ++m) {
            int t = p->tmpl_of[m];
            double I = p->inertia[t], dc[3], th[3], lc = 0, lt = 0;
            for (int e = 0; e < 3; ++e) {
                dc[e] = alpha * F[m][e];
                th[e] = I > 1e-12 ? alpha * T[m][e] / I : 0.0;
                lc += dc[e] * dc[e];
                lt += th[e] * th[e];
            }
            double move = sqrt(lc) + sqrt(lt) * p->rmax[t]; /* bound on any atom's displacement */
            double sc = move > cap ? cap / move : 1.0;
            for (int e = 0; e < 3; ++e) p->c[m][e] += sc * dc[e], th[e] *= sc;
            rotate(p->R[m], th);
            place_atoms(p, m, 0);
        }
        st = overlap_energy(p, tol, accept, &Unew, &close_new, F2, T2);
        if (st != FS_OK) break;
        if (Unew < U) { /* keep the step, its energy and forces */
            double(*sw)[3];
            alpha *= 1.2;
            U = Unew;
            close = close_new;
            sw = F, F = F2, F2 = sw;
            sw = T, T = T2, T2 = sw;
        } else { /* undo it; F and T still belong to the restored configuration */
            alpha *= 0.5;
            memcpy(p->c, c0, nb);
            memcpy(p->R, R0, 3 * nb);
            for (int m = 0; m < p->nmol; ++m) place_atoms(p, m, 0);
            if (alpha < 1e-14) break;
        }
    }
    *steps_done = it;
    if (st == FS_OK && close > 0)
        st = fs_fail(FS_ERR_INVALID,
                     "pack: %d overlap-removal steps left %ld pairs of atoms closer than the tolerance %g nm "
                     "(overlap energy %.3g nm^2): the box is too full; lower the density, enlarge the box or lower "
                     "the tolerance",
                     it, close, p->opt->tolerance, U);
    for (int m = 0; m < p->nmol && st == FS_OK; ++m) {
        for (int d = 0; d < 3; ++d) p->c[m][d] -= p->opt->box[d] * floor(p->c[m][d] / p->opt->box[d]);
        place_atoms(p, m, 1);
    }
    free(F), free(T), free(F2), free(T2), free(c0), free(R0);
    return st;
}

fs_status fs_pack(const fs_pack_template *templates, int ntemplates, const int *tmpl_of, int nmol,
                  const fs_pack_options *opt, double *r[3], fs_pack_report *rep)
{
    if (rep) memset(rep, 0, sizeof *rep);
    if (!opt || !(opt->tolerance > 0) || opt->max_attempts < 1 || opt->relax_steps < 0 || opt->grid < 0 ||
        !(opt->grid < 0.1 * opt->tolerance) || nmol < 0 || ntemplates < 1)
        return fs_fail(FS_ERR_INVALID, "pack: invalid options (tolerance > 0, max_attempts >= 1, relax_steps >= 0, "
                                       "0 <= grid < tolerance / 10 needed)");
    for (int d = 0; d < 3; ++d)
        if (!(opt->box[d] >= 2.0 * (opt->tolerance + 2 * opt->grid)))
            return fs_fail(FS_ERR_INVALID, "pack: box edge %g nm is shorter than twice the tolerance %g nm",
                           opt->box[d], opt->tolerance);
    packer p;
    memset(&p, 0, sizeof p);
    p.opt = opt;
    p.box = fs_box_make(opt->box[0], opt->box[1], opt->box[2]);
    p.nmol = nmol;
    p.tmpl_of = tmpl_of;
    p.r = r;
    p.first = malloc(sizeof(int) * (size_t)(nmol + 1));
    p.tn = calloc((size_t)ntemplates, sizeof(int));
    p.ref = calloc((size_t)ntemplates, sizeof(double *));
    p.inertia = calloc((size_t)ntemplates, sizeof(double));
    p.rmax = calloc((size_t)ntemplates, sizeof(double));
    p.c = malloc(sizeof(double) * 3 * (size_t)(nmol > 0 ? nmol : 1));
    p.R = malloc(sizeof(double) * 9 * (size_t)(nmol > 0 ? nmol : 1));
    order_item *order = malloc(sizeof(order_item) * (size_t)(nmol > 0 ? nmol : 1));
    fs_status st = FS_OK;
    if (!p.first || !p.tn || !p.ref || !p.inertia || !p.rmax || !p.c || !p.R || !order)
        st = fs_fail(FS_ERR_NOMEM, "pack: out of memory");
    /* templates centred on their centroid */
    for (int t = 0; t < ntemplates && st == FS_OK; ++t) {
        int n = p.tn[t] = templates[t].natoms;
        p.ref[t] = malloc(sizeof(double) * 3 * (size_t)(n > 0 ? n : 1));
        if (!p.ref[t]) {
            st = fs_fail(FS_ERR_NOMEM, "pack: out of memory");
            break;
        }
        double c[3] = {0, 0, 0};
        for (int a = 0; a < n; ++a)
            for (int d = 0; d < 3; ++d) c[d] += templates[t].x[3 * a + d] / n;
        for (int a = 0; a < n; ++a) {
            double r2 = 0;
            for (int d = 0; d < 3; ++d) {
                p.ref[t][3 * a + d] = templates[t].x[3 * a + d] - c[d];
                r2 += p.ref[t][3 * a + d] * p.ref[t][3 * a + d];
            }
            p.inertia[t] += r2;
            p.rmax[t] = fmax(p.rmax[t], sqrt(r2));
        }
    }
    if (st == FS_OK) p.first[0] = 0;
    for (int m = 0; m < nmol && st == FS_OK; ++m) {
        if (tmpl_of[m] < 0 || tmpl_of[m] >= ntemplates || templates[tmpl_of[m]].natoms < 1) {
            st = fs_fail(FS_ERR_INVALID, "pack: molecule %d has no valid template", m + 1);
            break;
        }
        p.first[m + 1] = p.first[m] + templates[tmpl_of[m]].natoms;
        order[m].m = m;
        order[m].natoms = templates[tmpl_of[m]].natoms;
    }
    if (st == FS_OK) {
        p.natoms = p.first[nmol];
        p.mol = malloc(sizeof(int) * (size_t)(p.natoms > 0 ? p.natoms : 1));
        if (!p.mol) st = fs_fail(FS_ERR_NOMEM, "pack: out of memory");
        for (int m = 0; m < nmol && st == FS_OK; ++m)
            for (int i = p.first[m]; i < p.first[m + 1]; ++i) p.mol[i] = m;
    }
    int misfits = 0, steps = 0;
    if (st == FS_OK) {
        qsort(order, (size_t)nmol, sizeof *order, by_size);
        st = add_sequentially(&p, order, rep, &misfits);
    }
    if (st == FS_OK && misfits > 0) {
        if (opt->relax_steps == 0)
            st = fs_fail(FS_ERR_INVALID,
                         "pack: %d of %d molecules found no place in %d random trials each: the box "
                         "is too full for a minimum distance of %g nm; lower the density, enlarge the "
                         "box or lower the tolerance",
                         misfits, nmol, opt->max_attempts, opt->tolerance);
        else
            st = relax(&p, &steps);
    }
    if (rep) rep->misfits = misfits, rep->relax_steps = steps;
    for (int t = 0; p.ref && t < ntemplates; ++t) free(p.ref[t]);
    free(p.ref), free(p.tn), free(p.inertia), free(p.rmax), free(p.first), free(p.mol), free(p.c), free(p.R),
        free(order);
    return st;
}

fs_status fs_pack_min_distance(double *const r[3], const int *mol, int natoms, const fs_box *box, double cutoff,
                               double *dmin, int *ai, int *aj)
{
    *dmin = cutoff;
    if (ai) *ai = -1;
    if (aj) *aj = -1;
    for (int d = 0; d < 3; ++d)
        if (!(cutoff > 0) || !(2.0 * cutoff <= box->len[d]))
            return fs_fail(FS_ERR_INVALID,
                           "pack: distance cut-off %g nm must be positive and at most half the box "
                           "edge %g nm",
                           cutoff, box->len[d]);
    cell_list c = {{0, 0, 0}, {0, 0, 0}, 0, NULL, NULL};
    fs_status st = cells_init(&c, box->len, cutoff, natoms);
    if (st != FS_OK) return st;
    for (int i = 0; i < natoms; ++i) cell_insert(&c, r, i);
    double best = cutoff * cutoff;
    for (int i = 0; i < natoms; ++i) {
        double x[3] = {r[0][i], r[1][i], r[2][i]};
        int k[3], nb[27];
        cell_coords(&c, x, k);
        int n = neighbour_cells(&c, k, nb);
        for (int q = 0; q < n; ++q)
            for (int j = c.head[nb[q]]; j >= 0; j = c.next[j]) {
                if (j <= i || mol[j] == mol[i]) continue;
                double d2 = dist2(box, r, j, x);
                if (d2 < best) {
                    best = d2;
                    if (ai) *ai = i;
                    if (aj) *aj = j;
                }
            }
    }
    *dmin = sqrt(best);
    cells_free(&c);
    return FS_OK;
}

/*
 * gpu_pme.c — smooth particle-mesh Ewald (SPME; Essmann et al., J. Chem. Phys. 103, 8577 (1995)) on the device:
 * the reciprocal-space Coulomb energy ("Coul. recip.", grid part), its forces and its virial.
 *
 * What it computes is exactly what the CPU reference kernels/cpu/pme.c computes (its essay derives it): with the
 * scaled fractional coordinates u_jd = n_d (r_jd / L_d mod 1) and cardinal B-splines M_p of order p,
 *
 *     Q(k) = sum_j q_j prod_d M_p(u_jd - k_d)                                     (charge grid, k mod n)
 *     E    = 1/2 sum_m G(m) |F[Q](m)|^2,  G(m) = f exp(-pi^2 m^2/beta^2) / (pi V m^2 prod_d |b_d(m_d)|^-2)
 *     phi  = F^-1[G F[Q]]
 *     F_jd = -q_j (n_d / L_d) sum_k M_p'(u_jd - k_d) prod_{e != d} M_p(u_je - k_e) phi(k)
 *     Xi_ab = 1/2 sum_m E_m [2 (1 + pi^2 m^2 / beta^2) m_a m_b / m^2 - delta_ab]
 *
 * with f = FS_ONE_4PI_EPS0 / epsilon_r, beta = g->beta and the B-spline moduli |b|^-2 of core/pme_moduli.c (GROMACS's
 * make_bspline_moduli, the very function the CPU reference calls). The net-charge background term is a host constant
 * added by gpu_backend.c, as the real-space and self terms belong to the non-bonded module.
 *
 * Algorithm, per force evaluation (kernels/common/pme*.kernel), all on one in-order queue:
 *   1. Spreading (pme_spread.kernel): per atom, the cell and offset along each axis (fractional coordinates in
 *      double) and the p weights by the order recursion; the p^3 products q M M M, rounded to 64-bit fixed point,
 *      are summed into the grid as integers, so the grid is bit for bit the same whatever the order of the sums.
 *      On a GPU one work-item per atom adds them with atomics (pme_spread). On a CPU device (PoCL) a 64-bit
 *      atomic costs as much as tens of flops and spreading that way dominated the evaluation (water-23k, 1.5
 *      million atomics: 6-16 ms on 2 cores; 2-3 ms as follows), so there the atoms are binned by the (x, y)
 *      cell of their splines (a counting sort: pme_bin_atoms, pme_bin_scan, pme_bin_scatter) and one work-item
 *      per grid row gathers the contributions of the p x p bins that reach its row, with plain adds
 *      (pme_spread_rows). Both give the same grid bit for bit.
 *   2. pme_fixed_to_complex: the grid as the real part of a complex grid (imaginary part 0), and the fixed grid
 *      zeroed for the next call.
 *   3. Forward complex-to-complex FFT, in place (the API's fft_exec(-1); float or double as the build).
 *   4. pme_solve_factors (per axis: h = m/L and exp(-pi^2 h^2/beta^2) / |b|^-2, in double, as the CPU's arrays)
 *      and pme_solve (per grid point: multiplies by G(m); when energy or virial are asked for, sums them over the
 *      half grid z <= nz/2 with the CPU's weights and frequency convention, in fixed point per work-group, one
 *      atomic per group and slot).
 *   5. Backward FFT (fft_exec(+1), unnormalized like FFTW's): phi is the real part.
 *   6. pme_gather, one work-item per atom: takes the cells, weights and derivatives that binning stored (by rows)
 *      or recomputes them (the same function as in step 1), and adds -q grad phi to g->force, a plain fixed-point
 *      add since the work-item owns its atom.
 * Costs: O(N p^3) for steps 1 and 6, O(K log K) for the FFTs of the K = nx ny nz point grid.
 *
 * Grid size. core/ewald_setup chooses GROMACS's grid for the box; the Monte Carlo barostat changes the box, and
 * when the new box needs another grid size the buffers, the FFT plan and the moduli are made again (the kernels
 * take the grid size and the box as arguments), as the CPU reference re-plans. Nothing box-dependent is allocated
 * until the first compute, which is when the box is known.
 *
 * A system without charge has a reciprocal energy of exactly 0, and compute() does nothing. Plain Ewald
 * (coulombtype = Ewald) is not implemented on the device.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../core/ewald_setup.h"
#include "../../core/pme_moduli.h"
#include "../../core/units.h"
#include "gpu_backend_impl.h"

#define PME_SOLVE_GROUP 128 /* work-group of pme_solve (its reduction is a power-of-two tree) */
#define PME_ATOM_GROUP 64   /* work-group of the per-atom kernels */
#define PME_ROW_GROUP 16    /* work-group of pme_spread_rows (few, long work-items) */
#define PME_FLAT_GROUP 256  /* work-group of the per-grid-point kernels without reductions */

struct gpu_pme {
    gpu_backend *g;
    int charged;
    int rows; /* spreading by rows (CPU devices) rather than by atomics */
    gpu_kernel *spread, *bin_atoms, *bin_scan, *bin_scatter, *spread_rows;
    gpu_kernel *to_complex, *factors_k, *solve, *gather;
    gpu_buf *cell, *theta, *bin_atoms_buf; /* rows only: int[4 N], real[6 p N], int[N] */

    int n[3];                       /* current grid; 0 before the first compute */
    gpu_buf *grid;                  /* fixed_t[K], zero between calls */
    gpu_buf *cgrid;                 /* real[2 K], the FFT's in-place grid */
    gpu_buf *moduli;                /* double[nx + ny + nz] */
    gpu_buf *factors;               /* real[2 (nx + ny + nz)] */
    gpu_buf *bin_count, *bin_start; /* rows only: int[nx ny], zero between calls; int[nx ny + 1] */
    gpu_fft *fft;
    int dirty; /* spreading began but the conversion (which leaves grid and bin counts zero) did not run */
};

static void release_grid(gpu_pme *pme)
{
    const gpu_api *api = pme->g->api;
    if (pme->fft) gpu_unregister_fft(pme->g, pme->fft);
    api->fft_release(&pme->fft);
    api->release(&pme->grid);
    api->release(&pme->cgrid);
    api->release(&pme->moduli);
    api->release(&pme->factors);
    api->release(&pme->bin_count);
    api->release(&pme->bin_start);
    memset(pme->n, 0, sizeof pme->n);
}

void gpu_pme_destroy(gpu_pme **pme)
{
    if (!pme || !*pme) return;
    gpu_pme *p = *pme;
    if (p->g) {
        const gpu_api *api = p->g->api;
        release_grid(p);
        api->release(&p->cell);
        api->release(&p->theta);
        api->release(&p->bin_atoms_buf);
        gpu_kernel **k[] = {&p->spread,     &p->bin_atoms, &p->bin_scan, &p->bin_scatter, &p->spread_rows,
                            &p->to_complex, &p->factors_k, &p->solve,    &p->gather};
        for (size_t i = 0; i < sizeof k / sizeof k[0]; ++i) api->kernel_release(k[i]);
    }
    free(p);
    *pme = NULL;
}

/* The per-atom buffers of spreading by rows (allocated when that path is chosen). */
static fs_status alloc_rows(gpu_pme *pme)
{
    gpu_backend *g = pme->g;
    if (pme->cell && pme->theta && pme->bin_atoms_buf) return FS_OK;
    const size_t n = (size_t)(g->natoms > 0 ? g->natoms : 1);
    const size_t rsize = g->use_double ? sizeof(double) : sizeof(float);
    fs_status st = gpu_alloc(g, 4 * n * sizeof(int), "the PME spline cells", &pme->cell);
    if (st == FS_OK) st = gpu_alloc(g, 6 * n * (size_t)g->p.pme_order * rsize, "the PME spline weights", &pme->theta);
    if (st == FS_OK) st = gpu_alloc(g, n * sizeof(int), "the PME atom bins", &pme->bin_atoms_buf);
    if (st != FS_OK) {
        g->api->release(&pme->cell);
        g->api->release(&pme->theta);
        g->api->release(&pme->bin_atoms_buf);
    }
    return st;
}

fs_status gpu_pme_create(gpu_backend *g, gpu_pme **out)
{
    *out = NULL;
    int charged = 0;
    for (int i = 0; i < g->top->natoms && !charged; ++i) charged = g->top->atoms[i].charge != 0.0;
    if (charged && g->p.coulombtype != FS_COUL_PME)
        return fs_fail(FS_ERR_UNSUPPORTED,
                       "coulombtype = Ewald (the plain Ewald sum) is not implemented on the device backends; "
                       "use coulombtype = PME or the cpu backend");
    if (charged && (g->p.pme_order < 3 || g->p.pme_order > 12))
        return fs_fail(FS_ERR_INVALID, "pme-order %d is outside 3..12", g->p.pme_order);
    gpu_pme *pme = calloc(1, sizeof *pme);
    if (!pme) return fs_fail(FS_ERR_NOMEM, "out of memory creating the device PME");
    pme->g = g;
    pme->charged = charged;
    fs_status st = FS_OK;
    if (charged) {
        const struct {
            const char *name;
            gpu_kernel **k;
        } kernels[] = {{"pme_spread", &pme->spread},
                       {"pme_bin_atoms", &pme->bin_atoms},
                       {"pme_bin_scan", &pme->bin_scan},
                       {"pme_bin_scatter", &pme->bin_scatter},
                       {"pme_spread_rows", &pme->spread_rows},
                       {"pme_fixed_to_complex", &pme->to_complex},
                       {"pme_solve_factors", &pme->factors_k},
                       {"pme_solve", &pme->solve},
                       {"pme_gather", &pme->gather}};
        for (size_t i = 0; i < sizeof kernels / sizeof kernels[0] && st == FS_OK; ++i)
            st = gpu_get_kernel(g, kernels[i].name, kernels[i].k);
        pme->rows = g->api->info(g->dev)->is_cpu;
        if (st == FS_OK && pme->rows) st = alloc_rows(pme);
    }
    if (st != FS_OK) {
        gpu_pme_destroy(&pme);
        return st;
    }
    *out = pme;
    return FS_OK;
}

fs_status gpu_pme_set_spreading(gpu_pme *pme, int rows)
{
    if (!pme->charged) return FS_OK;
    if (pme->dirty) return fs_fail(FS_ERR_INVALID, "PME: spreading changed in the middle of an evaluation");
    if (rows && !pme->rows) {
        release_grid(pme); /* the bins are made with the grid */
        fs_status st = alloc_rows(pme);
        if (st != FS_OK) return st;
    }
    pme->rows = rows != 0;
    return FS_OK;
}

/* Makes the grid buffers, the FFT plan and the moduli for grid n (once, and again when the box changes the size). */
static fs_status ensure_grid(gpu_pme *pme, const int n[3])
{
    if (pme->fft && n[0] == pme->n[0] && n[1] == pme->n[1] && n[2] == pme->n[2]) return FS_OK;
    gpu_backend *g = pme->g;
    const gpu_api *api = g->api;
    release_grid(pme);

    const int order = g->p.pme_order;
    const size_t total = (size_t)n[0] * n[1] * n[2], nbins = (size_t)n[0] * n[1];
    const size_t rsize = g->use_double ? sizeof(double) : sizeof(float);
    const size_t nmod = (size_t)n[0] + n[1] + n[2];
    if (total > (size_t)1 << 30)
        return fs_fail(FS_ERR_INVALID, "PME grid %dx%dx%d is too large for the device", n[0], n[1], n[2]);

    double *mod = malloc(nmod * sizeof *mod);
    fs_status st = mod ? FS_OK : fs_fail(FS_ERR_NOMEM, "out of memory for the PME moduli");
    for (int d = 0, off = 0; d < 3 && st == FS_OK; off += n[d], ++d)
        if (!fs_bspline_moduli(n[d], order, mod + off))
            st = fs_fail(FS_ERR_INVALID, "PME: B-spline modulus vanishes for grid size %d and order %d", n[d], order);
    if (st == FS_OK) st = gpu_alloc(g, nmod * sizeof(double), "the PME moduli", &pme->moduli);
    if (st == FS_OK) st = api->write(g->dev, pme->moduli, 0, nmod * sizeof(double), mod);
    free(mod);
    if (st == FS_OK) st = gpu_alloc(g, 2 * nmod * rsize, "the PME influence factors", &pme->factors);
    if (st == FS_OK) st = gpu_alloc(g, total * sizeof(int64_t), "the PME charge grid", &pme->grid);
    if (st == FS_OK) st = api->fill_zero(g->dev, pme->grid, total * sizeof(int64_t));
    if (st == FS_OK) st = gpu_alloc(g, 2 * total * rsize, "the PME complex grid", &pme->cgrid);
    if (st == FS_OK && pme->rows) st = gpu_alloc(g, nbins * sizeof(int), "the PME bin counts", &pme->bin_count);
    if (st == FS_OK && pme->rows) st = api->fill_zero(g->dev, pme->bin_count, nbins * sizeof(int));
    if (st == FS_OK && pme->rows) st = gpu_alloc(g, (nbins + 1) * sizeof(int), "the PME bins", &pme->bin_start);
    if (st == FS_OK) st = api->fft_create(g->dev, n, g->use_double, pme->cgrid, &pme->fft);
    if (st != FS_OK) {
        release_grid(pme);
        return fs_fail_context(st, "PME grid %dx%dx%d", n[0], n[1], n[2]);
    }
    gpu_register_fft(g, pme->fft);
    memcpy(pme->n, n, sizeof pme->n);
    pme->dirty = 0;
    return FS_OK;
}

enum { STAGE_SPREAD, STAGE_TO_COMPLEX, STAGE_FFT_FORWARD, STAGE_SOLVE, STAGE_FFT_BACKWARD, STAGE_GATHER };

/* Box-dependent preparation shared by compute() and profile(): checks the box, makes the grid it needs, and zeroes
 * grid and bin counts if an earlier evaluation stopped between spreading and conversion. */
static fs_status prepare(gpu_pme *pme)
{
    gpu_backend *g = pme->g;
    fs_box box = fs_box_make(g->box[0], g->box[1], g->box[2]);
    for (int d = 0; d < 3; ++d) {
        if (!g->periodic[d])
            return fs_fail(FS_ERR_UNSUPPORTED,
                           "PME: the box is not periodic along %c (slab corrections are not implemented yet)",
                           "xyz"[d]);
        if (!(box.len[d] > 0) || !isfinite(box.len[d]))
            return fs_fail(FS_ERR_INVALID, "PME: box edge %c = %g nm", "xyz"[d], box.len[d]);
    }
    int n[3];
    fs_status st = fs_pme_grid_size(&box, &g->p, n);
    if (st == FS_OK) st = ensure_grid(pme, n);
    if (st == FS_OK && pme->dirty) {
        st = g->api->fill_zero(g->dev, pme->grid, sizeof(int64_t) * (size_t)n[0] * n[1] * n[2]);
        if (st == FS_OK && pme->bin_count) st = g->api->fill_zero(g->dev, pme->bin_count, sizeof(int) * n[0] * n[1]);
    }
    if (st == FS_OK) pme->dirty = 0;
    return st;
}

/* Issues the launches of spreading, by atomics or by rows. */
static fs_status spread(gpu_pme *pme, const gpu_double4 *inv_box)
{
    gpu_backend *g = pme->g;
    const int nx = pme->n[0], ny = pme->n[1], nz = pme->n[2], nbins = nx * ny;
    const size_t natoms = (size_t)g->natoms;
    fs_status st;
    pme->dirty = 1;
    if (!pme->rows) {
        st = gpu_args(g, pme->spread, 7, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->charge), GPU_ARG_BUF(pme->grid),
                      GPU_ARG(*inv_box), GPU_ARG(nx), GPU_ARG(ny), GPU_ARG(nz));
        return st == FS_OK ? gpu_run(g, pme->spread, natoms, PME_ATOM_GROUP) : st;
    }
    st = gpu_args(g, pme->bin_atoms, 9, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->charge), GPU_ARG_BUF(pme->cell),
                  GPU_ARG_BUF(pme->theta), GPU_ARG_BUF(pme->bin_count), GPU_ARG(*inv_box), GPU_ARG(nx), GPU_ARG(ny),
                  GPU_ARG(nz));
    if (st == FS_OK) st = gpu_run(g, pme->bin_atoms, natoms, PME_ATOM_GROUP);
    if (st == FS_OK)
        st = gpu_args(g, pme->bin_scan, 3, GPU_ARG_BUF(pme->bin_count), GPU_ARG_BUF(pme->bin_start), GPU_ARG(nbins));
    if (st == FS_OK) st = gpu_run(g, pme->bin_scan, 1, 1);
    if (st == FS_OK)
        st = gpu_args(g, pme->bin_scatter, 5, GPU_ARG_BUF(g->charge), GPU_ARG_BUF(pme->cell),
                      GPU_ARG_BUF(pme->bin_start), GPU_ARG_BUF(pme->bin_atoms_buf), GPU_ARG(ny));
    if (st == FS_OK) st = gpu_run(g, pme->bin_scatter, natoms, PME_ATOM_GROUP);
    if (st == FS_OK)
        st = gpu_args(g, pme->spread_rows, 9, GPU_ARG_BUF(g->charge), GPU_ARG_BUF(pme->cell), GPU_ARG_BUF(pme->theta),
                      GPU_ARG_BUF(pme->bin_start), GPU_ARG_BUF(pme->bin_atoms_buf), GPU_ARG_BUF(pme->grid), GPU_ARG(nx),
                      GPU_ARG(ny), GPU_ARG(nz));
    if (st == FS_OK) st = gpu_run(g, pme->spread_rows, (size_t)nbins, PME_ROW_GROUP);
    return st;
}

/* Issues one stage of the evaluation (see the essay). */
static fs_status run_stage(gpu_pme *pme, int stage, unsigned flags)
{
    gpu_backend *g = pme->g;
    const gpu_api *api = g->api;
    const int nx = pme->n[0], ny = pme->n[1], nz = pme->n[2];
    const int total = nx * ny * nz, naxes = nx + ny + nz;
    const gpu_double4 box = {{g->box[0], g->box[1], g->box[2], 0.0}};
    const gpu_double4 inv_box = {{1.0 / g->box[0], 1.0 / g->box[1], 1.0 / g->box[2], 0.0}};
    const double pi2_beta2 = FS_PI * FS_PI / (g->beta * g->beta);
    fs_status st = FS_OK;
    switch (stage) {
    case STAGE_SPREAD:
        st = spread(pme, &inv_box);
        break;
    case STAGE_TO_COMPLEX:
        st = gpu_args(g, pme->to_complex, 3, GPU_ARG_BUF(pme->grid), GPU_ARG_BUF(pme->cgrid), GPU_ARG(total));
        if (st == FS_OK) st = gpu_run(g, pme->to_complex, (size_t)total, PME_FLAT_GROUP);
        if (st == FS_OK) pme->dirty = 0;
        break;
    case STAGE_FFT_FORWARD:
        st = api->fft_exec(pme->fft, -1);
        break;
    case STAGE_SOLVE: {
        const double coulomb = FS_ONE_4PI_EPS0 / g->p.epsilon_r;
        const double pref = coulomb / (FS_PI * g->box[0] * g->box[1] * g->box[2]);
        const int want = (int)(flags & (FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL)); /* the kernel's bits 2 and 4 */
        st = gpu_args(g, pme->factors_k, 7, GPU_ARG_BUF(pme->moduli), GPU_ARG_BUF(pme->factors), GPU_ARG(box),
                      GPU_ARG(pi2_beta2), GPU_ARG(nx), GPU_ARG(ny), GPU_ARG(nz));
        if (st == FS_OK) st = gpu_run(g, pme->factors_k, (size_t)naxes, PME_ATOM_GROUP);
        if (st == FS_OK)
            st = gpu_args(g, pme->solve, 9, GPU_ARG_BUF(pme->cgrid), GPU_ARG_BUF(pme->factors), GPU_ARG_BUF(g->energy),
                          GPU_ARG(pref), GPU_ARG(pi2_beta2), GPU_ARG(nx), GPU_ARG(ny), GPU_ARG(nz), GPU_ARG(want));
        if (st == FS_OK) st = gpu_run(g, pme->solve, (size_t)total, PME_SOLVE_GROUP);
        break;
    }
    case STAGE_FFT_BACKWARD:
        st = api->fft_exec(pme->fft, +1);
        break;
    case STAGE_GATHER: {
        /* by rows, the splines of spreading are at hand; otherwise cell and theta are unused (any buffer will do) */
        gpu_buf *cell = pme->rows ? pme->cell : g->charge, *theta = pme->rows ? pme->theta : g->charge;
        const int stored = pme->rows;
        st = gpu_args(g, pme->gather, 12, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->charge), GPU_ARG_BUF(pme->cgrid),
                      GPU_ARG_BUF(g->force), GPU_ARG_BUF(cell), GPU_ARG_BUF(theta), GPU_ARG(stored), GPU_ARG(box),
                      GPU_ARG(inv_box), GPU_ARG(nx), GPU_ARG(ny), GPU_ARG(nz));
        if (st == FS_OK) st = gpu_run(g, pme->gather, (size_t)g->natoms, PME_ATOM_GROUP);
        break;
    }
    default:
        break;
    }
    return st;
}

fs_status gpu_pme_compute(gpu_pme *pme, unsigned flags)
{
    if (!pme->charged || pme->g->natoms == 0) return FS_OK;
    fs_status st = prepare(pme);
    for (int s = STAGE_SPREAD; s <= STAGE_GATHER && st == FS_OK; ++s) st = run_stage(pme, s, flags);
    return st;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

fs_status gpu_pme_profile(gpu_pme *pme, unsigned flags, int reps, double seconds[GPU_PME_STAGES])
{
    for (int s = 0; s < GPU_PME_STAGES; ++s) seconds[s] = 0.0;
    if (!pme->charged || pme->g->natoms == 0 || reps <= 0) return FS_OK;
    const gpu_api *api = pme->g->api;
    fs_status st = prepare(pme);
    if (st == FS_OK) st = api->finish(pme->g->dev);
    for (int r = 0; r < reps && st == FS_OK; ++r) {
        for (int s = 0; s < GPU_PME_STAGES && st == FS_OK; ++s) {
            const double t0 = now_seconds();
            st = run_stage(pme, s, flags);
            if (st == FS_OK) st = api->finish(pme->g->dev);
            const double t = now_seconds() - t0;
            if (r == 0 || t < seconds[s]) seconds[s] = t;
        }
    }
    return st;
}

const char *gpu_pme_stage_name(int stage)
{
    static const char *const names[GPU_PME_STAGES] = {"spread", "to complex",   "forward FFT",
                                                      "solve",  "backward FFT", "gather"};
    return stage >= 0 && stage < GPU_PME_STAGES ? names[stage] : "?";
}

gpu_buf *gpu_pme_grid(gpu_pme *pme, int n[3])
{
    memcpy(n, pme->n, sizeof pme->n);
    return pme->cgrid;
}

fs_status gpu_pme_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d)
{
    (void)top, (void)use_double;
    /* an order outside 3..12 compiles as 4; create() refuses it when some atom is charged */
    gpu_define_int(d, "PME_ORDER", p->pme_order >= 3 && p->pme_order <= 12 ? p->pme_order : 4);
    gpu_define_int(d, "PME_SOLVE_GROUP", PME_SOLVE_GROUP);
    gpu_define_int(d, "PME_ENERGY_SLOT", GPU_E_TERM + FS_TERM_COUL_RECIP);
    gpu_define_int(d, "PME_VIRIAL_SLOT", GPU_E_VIRIAL);
    return FS_OK;
}

/*
 * gpu_nonbonded.c — short-range nonbonded forces on the device: Lennard-Jones and Ewald real-space Coulomb over the
 * cluster pair list (gpu_pairlist.c), the Ewald correction of the excluded pairs and the self term; the same
 * physics as the CPU reference (kernels/cpu/nonbonded.c), whose essay gives the equations.
 *
 * One evaluation (compute) queues:
 *   1. gpu_pairlist_update: re-sort when due, displacement check, per-slot gather, list rebuild when flagged (all on
 *      the device; the host waits only for the occasional capacity check);
 *   2. nb_pairs (forces) or nb_pairs_energy (forces, and energies and virial per slot into a scratch buffer, then
 *      nb_reduce): one work-item per i atom over its cluster's full list, the 8 j atoms of an entry in one SIMD-able
 *      loop; each work-item adds its atom's force to g->force in fixed point, without atomics
 *      (kernels/common/nb_pairs.kernel);
 *   3. nb_excl: for every excluded pair, -f qi qj erf(beta r)/r and its force, one work-item per atom over its
 *      exclusions, again without atomics; and the self term -f beta/sqrt(pi) sum q^2 into Coulomb (SR), a constant
 *      of the topology compiled into the kernel (kernels/common/nb_ewald.kernel).
 * Every sum is in 64-bit fixed point and every floating-point sum has a fixed order, so the forces and energies are
 * bit-reproducible: independent of the thread count, of the device scheduling and of when the list was rebuilt
 * (for a given cluster order, which is a function of the positions at the last sort).
 *
 * The compile-time constants (gpu_nonbonded_defines): cut-offs, shifts, beta, the Coulomb factor
 * f = FS_ONE_4PI_EPS0 / epsilon-r (0 when epsilon-r = 0, as GROMACS), the number of LJ types and whether their
 * C6/C12 matrix follows the geometric rule (then per-atom square roots replace the table in the inner loop), the
 * self energy, the energy slots; plus the pair list's own (gpu_pairlist_defines).
 *
 * Choices made for the CPU devices (PoCL) the CI runs on, all measured on water-23k:
 *   - the 8 j atoms of an entry go in SIMD lanes of one work-item (its own i atom), not the 8 i atoms of a
 *     work-group in lanes with j broadcast: PoCL vectorizes across work-items only in kernels with barriers, and
 *     then splits every loop into per-work-item regions (about 5x slower here); a work-item also skips the entries
 *     in which its own atom has no partner, which removes a third of the pair evaluations;
 *   - energies come from a second kernel (nb_pairs_energy) rather than an int argument, so the force-only kernel
 *     carries no energy code; both compute the force with the same expressions, bit for bit;
 *   - the excluded pairs are corrected per atom (each pair twice) rather than per pair with atomics: no atomics,
 *     and at 3 exclusions per water the doubled arithmetic is cheaper than 6 atomic adds a pair;
 *   - no erfc or exp built-ins in mixed precision (nb_ewald.kernel): PoCL's are scalar library calls, 100 and
 *     20 ns each, which alone cost more than the whole pair kernel does now.
 * Cost on water-23k (PoCL 3.1, AMD EPYC with AVX-512 at 2.6 GHz, CPU time of one thread): a force evaluation 24 ms
 * (12 ms on two cores), with energies 47 ms, a list build 18 ms more (every 2.5 to 3 steps at 300 K with the 0.1 nm
 * buffer), a re-sort 8 ms more; a whole MD step of the backend about 48 ms of CPU time, of which nonbonded 34.
 */
#include <math.h>
#include <stdlib.h>

#include "../../core/ewald_setup.h"
#include "../../core/units.h"
#include "gpu_backend_impl.h"

#define NB_PAIRS_WG 64
#define NB_REDUCE_WG 64 /* as in nb_pairs.kernel */
#define NB_REDUCE_GROUPS 16
#define NB_EXCL_WG 64 /* as in nb_ewald.kernel */

struct gpu_nonbonded {
    gpu_backend *g;
    gpu_pairlist *pl;
    gpu_buf *ljtab;   /* real[2 ntypes^2]: (C6, C12) per type pair */
    gpu_buf *scratch; /* fixed_t[8 nslots]: per-slot energies and virial of nb_pairs_energy */
    gpu_kernel *pairs, *pairs_energy, *reduce, *excl;
};

static double coulomb_factor(const fs_forceparams *p)
{
    return p->epsilon_r == 0.0 ? 0.0 : FS_ONE_4PI_EPS0 / p->epsilon_r;
}

fs_status gpu_nonbonded_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d)
{
    const double beta = fs_ewald_beta(p->rcoulomb, p->ewald_rtol);
    if (!(beta > 0.0))
        return fs_fail(FS_ERR_INVALID, "no Ewald splitting parameter for rcoulomb %g and ewald-rtol %g", p->rcoulomb,
                       p->ewald_rtol);
    const double rc = p->rcoulomb, rv = p->rvdw, f = coulomb_factor(p);
    double sh6 = 0.0, sh12 = 0.0, shc = 0.0;
    if (p->vdw_modifier == FS_MOD_POTENTIAL_SHIFT) {
        sh6 = 1.0 / (rv * rv * rv * rv * rv * rv);
        sh12 = sh6 * sh6;
    }
    if (p->coulomb_modifier == FS_MOD_POTENTIAL_SHIFT) shc = erfc(beta * rc) / rc;
    double qsq = 0.0;
    for (int i = 0; i < top->natoms; ++i) qsq += top->atoms[i].charge * top->atoms[i].charge;
    const double tbsp = 2.0 * beta / sqrt(FS_PI);
    gpu_define_int(d, "NB_NTYPES", top->ntypes > 0 ? top->ntypes : 1);
    gpu_define_real(d, "NB_COULOMB_F", f);
    gpu_define_real(d, "NB_BETA", beta);
    gpu_define_real(d, "NB_BETA2", beta * beta);
    gpu_define_real(d, "NB_TBSP", tbsp);
    gpu_define_real(d, "NB_RC2", rc * rc);
    gpu_define_real(d, "NB_RV2", rv * rv);
    gpu_define_real(d, "NB_RMAX2", fmax(rc, rv) * fmax(rc, rv));
    gpu_define_int(d, "NB_SAME_CUTOFF", rc == rv);
    /* mixed precision: the Coulomb force from a rational fit valid for beta r <= 5 (nb_ewald.kernel) */
    gpu_define_int(d, "NB_FAST_COULOMB", !use_double && beta * fmax(rc, rv) <= 5.0);
    gpu_define_real(d, "NB_BETA3", beta * beta * beta);
    gpu_define_real(d, "NB_SH6", sh6);
    gpu_define_real(d, "NB_SH12", sh12);
    gpu_define_real(d, "NB_SHC", shc);
    gpu_define_real(d, "NB_SELF_ENERGY", -f * beta / sqrt(FS_PI) * qsq);
    gpu_define_int(d, "NB_E_LJ_SR", GPU_E_TERM + FS_TERM_LJ_SR);
    gpu_define_int(d, "NB_E_COUL_SR", GPU_E_TERM + FS_TERM_COUL_SR);
    return gpu_pairlist_defines(top, p, d);
}

void gpu_nonbonded_destroy(gpu_nonbonded **nb)
{
    if (!nb || !*nb) return;
    gpu_nonbonded *n = *nb;
    const gpu_api *api = n->g->api;
    api->kernel_release(&n->pairs);
    api->kernel_release(&n->pairs_energy);
    api->kernel_release(&n->reduce);
    api->kernel_release(&n->excl);
    api->release(&n->ljtab);
    api->release(&n->scratch);
    gpu_pairlist_destroy(&n->pl);
    free(n);
    *nb = NULL;
}

/* The (C6, C12) table in the kernels' precision. */
static fs_status upload_ljtab(gpu_nonbonded *nb)
{
    gpu_backend *g = nb->g;
    const fs_topology *top = g->top;
    const int nt = top->ntypes > 0 ? top->ntypes : 1;
    const size_t n = 2 * (size_t)nt * (size_t)nt, rs = g->use_double ? sizeof(double) : sizeof(float);
    fs_status st = gpu_alloc(g, n * rs, "the LJ table", &nb->ljtab);
    if (st != FS_OK) return st;
    void *h = calloc(n, sizeof(double));
    if (!h) return fs_fail(FS_ERR_NOMEM, "out of memory for the LJ table");
    for (size_t k = 0; k < n && top->ntypes > 0; ++k) {
        double v = (k % 2 ? top->c12 : top->c6)[k / 2];
        if (g->use_double)
            ((double *)h)[k] = v;
        else
            ((float *)h)[k] = (float)v;
    }
    st = g->api->write(g->dev, nb->ljtab, 0, n * rs, h);
    free(h);
    return st;
}

fs_status gpu_nonbonded_create(gpu_backend *g, gpu_nonbonded **out)
{
    *out = NULL;
    gpu_nonbonded *nb = calloc(1, sizeof *nb);
    if (!nb) return fs_fail(FS_ERR_NOMEM, "out of memory for the nonbonded module");
    nb->g = g;
    fs_status st = gpu_pairlist_create(g, &nb->pl);
    if (st == FS_OK) st = upload_ljtab(nb);
    if (st == FS_OK)
        st = gpu_alloc(g, 8 * (size_t)gpu_pairlist_get(nb->pl).nslots * sizeof(long long), "nonbonded energies",
                       &nb->scratch);
    if (st == FS_OK) st = gpu_get_kernel(g, "nb_pairs", &nb->pairs);
    if (st == FS_OK) st = gpu_get_kernel(g, "nb_pairs_energy", &nb->pairs_energy);
    if (st == FS_OK) st = gpu_get_kernel(g, "nb_reduce", &nb->reduce);
    if (st == FS_OK) st = gpu_get_kernel(g, "nb_excl", &nb->excl);
    if (st != FS_OK) {
        gpu_nonbonded_destroy(&nb);
        return st;
    }
    *out = nb;
    return FS_OK;
}

fs_status gpu_nonbonded_invalidate(gpu_nonbonded *nb)
{
    if (nb) gpu_pairlist_invalidate(nb->pl);
    return FS_OK;
}

fs_status gpu_nonbonded_compute(gpu_nonbonded *nb, unsigned flags)
{
    gpu_backend *g = nb->g;
    if (g->natoms == 0) return FS_OK;
    const int energy = (flags & (FS_COMPUTE_ENERGY | FS_COMPUTE_VIRIAL)) != 0;
    fs_status st = gpu_pairlist_update(nb->pl, energy);
    if (st != FS_OK) return st;
    const gpu_pairlist_view v = gpu_pairlist_get(nb->pl);
    gpu_float4 box_f;
    gpu_double4 box_d, inv_d;
    gpu_box_args(g, &box_f, NULL, &box_d, &inv_d);
    gpu_kernel *k = energy ? nb->pairs_energy : nb->pairs;
    st = gpu_args(g, k, 11, GPU_ARG_BUF(v.xq), GPU_ARG_BUF(v.styp), GPU_ARG_BUF(v.ljp), GPU_ARG_BUF(nb->ljtab),
                  GPU_ARG_BUF(v.slot_atom), GPU_ARG_BUF(v.count), GPU_ARG_BUF(v.entry), GPU_ARG_BUF(v.mask),
                  GPU_ARG_BUF(g->force), GPU_ARG_BUF(nb->scratch), GPU_ARG(v.cap));
    if (st == FS_OK)
        st = g->use_double ? g->api->arg(k, 11, sizeof box_d, &box_d) : g->api->arg(k, 11, sizeof box_f, &box_f);
    if (st == FS_OK) st = gpu_run(g, k, (size_t)v.nslots, NB_PAIRS_WG);
    if (st == FS_OK && energy) {
        st = gpu_args(g, nb->reduce, 2, GPU_ARG_BUF(nb->scratch), GPU_ARG_BUF(g->energy));
        if (st == FS_OK) st = gpu_run(g, nb->reduce, NB_REDUCE_GROUPS * NB_REDUCE_WG, NB_REDUCE_WG);
    }
    if (st == FS_OK)
        st = gpu_args(g, nb->excl, 9, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->charge), GPU_ARG_BUF(v.excl_start),
                      GPU_ARG_BUF(v.excl_list), GPU_ARG_BUF(g->force), GPU_ARG_BUF(g->energy), GPU_ARG(energy),
                      GPU_ARG(box_d), GPU_ARG(inv_d));
    if (st == FS_OK) st = gpu_run(g, nb->excl, (size_t)g->natoms, NB_EXCL_WG);
    return st;
}

gpu_pairlist *gpu_nonbonded_pairlist(gpu_nonbonded *nb)
{
    return nb->pl;
}

long gpu_nonbonded_pair_count(gpu_nonbonded *nb)
{
    return nb ? gpu_pairlist_entries(nb->pl) * 64 : 0;
}

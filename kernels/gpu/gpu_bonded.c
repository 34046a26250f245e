/*
 * gpu_bonded.c — bonded terms and 1-4 pairs on the device: bonds, angles, Urey-Bradley, proper, periodic-improper,
 * harmonic-improper and Ryckaert-Bellemans dihedrals, LJ-14 and Coulomb-14.
 *
 * What it computes
 * ----------------
 * Exactly what the CPU reference computes (kernels/cpu/bonded.c and bonded_dihedrals.c for the bonded terms, the
 * pair part of kernels/cpu/nonbonded.c for the 1-4 pairs; their essays derive the forms and forces):
 *     Bond            1/2 kb (r - b0)^2
 *     Angle           1/2 k (theta - theta0)^2,           theta = atan2(|r_ij x r_kj|, r_ij . r_kj)
 *     U-B             the angle term + 1/2 kub (|r_ik| - r13)^2
 *     Proper Dih.     k (1 + cos(n phi - phi0))           (funct 1 and 9; funct 4 goes to Per. Imp. Dih.)
 *     Improper Dih.   1/2 k dxi^2, dxi = phi - xi0 wrapped into [-pi, pi) (GROMACS's make_dp_periodic)
 *     Ryckaert-Bell.  sum_n C_n cos^n(phi - pi)
 *     LJ-14           C12/r^12 - C6/r^6 of the pair entry
 *     Coulomb-14      fudgeQQ f/eps_r qi qj / r, no cut-off, no shift
 * with every difference vector a minimum image (molecules may straddle the box), forces -dV/dr, and, on request,
 * the energies per term and the virial Xi = -1/2 sum_a x_a (x) F_a with x_a the position of atom a relative to
 * the term's reference atom built from the same minimum-image vectors (the CPU's convention, which makes Xi the
 * strain derivative 1/2 dE/d(eps) for molecules broken across the boundary too).
 *
 * Layout and algorithm
 * --------------------
 * At create() every term of every list is flattened into one index space (bonds, angles, U-B, propers, periodic
 * impropers, harmonic impropers, RB, pairs: the list boundaries are the #defines BONDED_END_*, written by
 * gpu_bonded_defines() from the same topology) and uploaded once: four atom indices per term (int) and
 * BONDED_NPAR parameters per term in the kernels' `real`, converted on the host where the CPU converts them
 * (degrees to radians; the 1-4 Coulomb prefactor fudgeQQ f/eps_r qi qj formed in double). Nothing is uploaded
 * again: the topology is fixed for the backend's life.
 *
 * compute() is one launch of bonded_terms (kernels/common/bonded_terms.kernel) with one work-item per term in
 * groups of BONDED_GROUP. Each work-item takes its difference vectors from the double positions (minimum image in
 * double, then rounded to `real`), evaluates its form in `real` (bonded_forms.kernel) and adds the forces on its
 * 2-4 atoms into the fixed-point force buffer with one 64-bit atomic per component. Energies and the virial are
 * summed per work-group in fixed point and added with one atomic per group and slot, and only when the flags ask
 * (FS_COMPUTE_ENERGY, FS_COMPUTE_VIRIAL). Integer sums are associative, so forces, energies and virial come out bit
 * for bit the same for any launch order or group count.
 *
 * Cost: O(number of terms) work-items, 6-12 atomics each; no pair list, no sorting. Accuracy in mixed precision is
 * float rounding of each term's own geometry (about 1e-7 relative), well inside the 1e-5 relative agreement the
 * energies are held to.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/units.h"
#include "gpu_backend_impl.h"

#define BONDED_NPAR 8   /* parameters per term (RB needs 6) */
#define BONDED_GROUP 64 /* work-group size of bonded_terms (its reduction table is sized by it) */

struct gpu_bonded {
    gpu_backend *g;
    int nterms;     /* all terms, 1-4 pairs included */
    gpu_buf *atoms; /* int[4 nterms] */
    gpu_buf *par;   /* real[BONDED_NPAR nterms] */
    gpu_kernel *kernel;
};

/* The ends of the lists in the flat index space: bonds, angles, U-B, propers, periodic impropers, harmonic
 * impropers, RB, pairs (end[7] = total). */
static void list_ends(const fs_topology *top, int end[8])
{
    const int n[8] = {top->bonds.n,         top->angles.n,    top->ub_angles.n, top->propers.n,
                      top->per_impropers.n, top->impropers.n, top->rbs.n,       top->pairs.n};
    int s = 0;
    for (int q = 0; q < 8; ++q) end[q] = s += n[q];
}

fs_status gpu_bonded_defines(const fs_topology *top, const fs_forceparams *p, int use_double, gpu_defines *d)
{
    (void)p;
    int end[8];
    list_ends(top, end);
    static const char *const names[7] = {"BONDED_END_BOND",   "BONDED_END_ANGLE",  "BONDED_END_UB",
                                         "BONDED_END_PROPER", "BONDED_END_PERIMP", "BONDED_END_IMPROPER",
                                         "BONDED_END_RB"};
    for (int q = 0; q < 7; ++q) gpu_define_int(d, names[q], end[q]);
    gpu_define_int(d, "BONDED_NTERMS", end[7]);
    gpu_define_int(d, "BONDED_NPAR", BONDED_NPAR);
    gpu_define_int(d, "BONDED_GROUP", BONDED_GROUP);
    /* collinearity threshold of the dihedral forces: the machine epsilon of `real`, as the CPU uses DBL_EPSILON */
    gpu_define_real(d, "BONDED_EPS", use_double ? DBL_EPSILON : FLT_EPSILON);
    return FS_OK;
}

static int atom_ok(const fs_topology *top, int i)
{
    return i >= 0 && i < top->natoms;
}

/* Fills atoms[4 nterms] and par[BONDED_NPAR nterms] (double) in the flat order; fails on an atom index out of
 * range or a negative epsilon-r, with the CPU reference's messages. */
static fs_status flatten(const fs_topology *top, const fs_forceparams *p, int *atoms, double *par)
{
    int t = 0;
#define TERM(a0, a1, a2, a3, what, k)                                                                                  \
    do {                                                                                                               \
        const int at_[4] = {(a0), (a1), (a2), (a3)};                                                                   \
        for (int q_ = 0; q_ < 4; ++q_) {                                                                               \
            if (!atom_ok(top, at_[q_]))                                                                                \
                return fs_fail(FS_ERR_INVALID, "bonded: %s %d refers to atom index %d, outside [0, %d)", (what),       \
                               (k) + 1, at_[q_], top->natoms);                                                         \
            atoms[4 * t + q_] = at_[q_];                                                                               \
        }                                                                                                              \
    } while (0)
    double *q;
    for (int k = 0; k < top->bonds.n; ++k, ++t) {
        const fs_bond *b = &top->bonds.data[k];
        TERM(b->ai, b->aj, b->aj, b->aj, "bond", k);
        q = par + BONDED_NPAR * t;
        q[0] = b->b0;
        q[1] = b->kb;
    }
    for (int ub = 0; ub < 2; ++ub) {
        const fs_angle_list *l = ub ? &top->ub_angles : &top->angles;
        for (int k = 0; k < l->n; ++k, ++t) {
            const fs_angle *a = &l->data[k];
            TERM(a->ai, a->aj, a->ak, a->ak, ub ? "Urey-Bradley angle" : "angle", k);
            q = par + BONDED_NPAR * t;
            q[0] = a->theta0 * FS_DEG2RAD;
            q[1] = a->k;
            q[2] = a->r13;
            q[3] = a->kub;
        }
    }
    for (int imp = 0; imp < 2; ++imp) {
        const fs_dih_periodic_list *l = imp ? &top->per_impropers : &top->propers;
        for (int k = 0; k < l->n; ++k, ++t) {
            const fs_dih_periodic *d = &l->data[k];
            TERM(d->ai, d->aj, d->ak, d->al, imp ? "periodic improper dihedral" : "proper dihedral", k);
            q = par + BONDED_NPAR * t;
            q[0] = d->phi0 * FS_DEG2RAD;
            q[1] = d->k;
            q[2] = d->mult;
        }
    }
    for (int k = 0; k < top->impropers.n; ++k, ++t) {
        const fs_dih_harmonic *d = &top->impropers.data[k];
        TERM(d->ai, d->aj, d->ak, d->al, "improper dihedral", k);
        q = par + BONDED_NPAR * t;
        q[0] = d->xi0 * FS_DEG2RAD;
        q[1] = d->k;
    }
    for (int k = 0; k < top->rbs.n; ++k, ++t) {
        const fs_dih_rb *d = &top->rbs.data[k];
        TERM(d->ai, d->aj, d->ak, d->al, "Ryckaert-Bellemans dihedral", k);
        q = par + BONDED_NPAR * t;
        for (int n = 0; n < 6; ++n) q[n] = d->c[n];
    }
    if (p->epsilon_r < 0.0) return fs_fail(FS_ERR_INVALID, "epsilon-r %g is negative", p->epsilon_r);
    /* GROMACS: epsilon-r = 0 means infinity (no electrostatics) */
    const double fq = top->fudge_qq * (p->epsilon_r == 0.0 ? 0.0 : FS_ONE_4PI_EPS0 / p->epsilon_r);
    for (int k = 0; k < top->pairs.n; ++k, ++t) {
        const fs_pair *pr = &top->pairs.data[k];
        TERM(pr->ai, pr->aj, pr->aj, pr->aj, "1-4 pair", k);
        q = par + BONDED_NPAR * t;
        q[0] = pr->c6;
        q[1] = pr->c12;
        q[2] = fq * top->atoms[pr->ai].charge * top->atoms[pr->aj].charge;
    }
#undef TERM
    return FS_OK;
}

fs_status gpu_bonded_create(gpu_backend *g, gpu_bonded **out)
{
    *out = NULL;
    const fs_topology *top = g->top;
    gpu_bonded *b = calloc(1, sizeof *b);
    if (!b) return fs_fail(FS_ERR_NOMEM, "out of memory creating the bonded module");
    b->g = g;
    int end[8];
    list_ends(top, end);
    b->nterms = end[7];
    const size_t n = (size_t)(b->nterms > 0 ? b->nterms : 1);
    const size_t real_size = g->use_double ? sizeof(double) : sizeof(float);
    int *atoms = calloc(4 * n, sizeof *atoms);
    double *par = calloc(BONDED_NPAR * n, sizeof *par);
    fs_status st = atoms && par ? FS_OK : fs_fail(FS_ERR_NOMEM, "out of memory for %d bonded terms", b->nterms);
    if (st == FS_OK) st = flatten(top, &g->p, atoms, par);
    float *pf = st == FS_OK && !g->use_double ? malloc(BONDED_NPAR * n * sizeof *pf) : NULL;
    if (st == FS_OK && !g->use_double && !pf) st = fs_fail(FS_ERR_NOMEM, "out of memory for bonded parameters");
    for (size_t k = 0; pf && k < BONDED_NPAR * n; ++k) pf[k] = (float)par[k];
    if (st == FS_OK) st = gpu_alloc(g, 4 * n * sizeof(int), "bonded atom indices", &b->atoms);
    if (st == FS_OK) st = gpu_alloc(g, BONDED_NPAR * n * real_size, "bonded parameters", &b->par);
    if (st == FS_OK) st = g->api->write(g->dev, b->atoms, 0, 4 * n * sizeof(int), atoms);
    if (st == FS_OK) st = g->api->write(g->dev, b->par, 0, BONDED_NPAR * n * real_size, pf ? (void *)pf : (void *)par);
    if (st == FS_OK) st = gpu_get_kernel(g, "bonded_terms", &b->kernel);
    free(atoms);
    free(par);
    free(pf);
    if (st != FS_OK) {
        gpu_bonded_destroy(&b);
        return st;
    }
    *out = b;
    return FS_OK;
}

void gpu_bonded_destroy(gpu_bonded **b)
{
    if (!b || !*b) return;
    gpu_bonded *p = *b;
    if (p->g && p->g->api) {
        p->g->api->kernel_release(&p->kernel);
        p->g->api->release(&p->atoms);
        p->g->api->release(&p->par);
    }
    free(p);
    *b = NULL;
}

fs_status gpu_bonded_compute(gpu_bonded *b, unsigned flags)
{
    if (b->nterms == 0) return FS_OK;
    gpu_backend *g = b->g;
    gpu_double4 box, inv;
    gpu_box_args(g, NULL, NULL, &box, &inv);
    const int want = ((flags & FS_COMPUTE_ENERGY) ? 1 : 0) | ((flags & FS_COMPUTE_VIRIAL) ? 2 : 0);
    fs_status st = gpu_args(g, b->kernel, 8, GPU_ARG_BUF(g->pos), GPU_ARG_BUF(g->force), GPU_ARG_BUF(g->energy),
                            GPU_ARG_BUF(b->atoms), GPU_ARG_BUF(b->par), GPU_ARG(box), GPU_ARG(inv), GPU_ARG(want));
    if (st != FS_OK) return st;
    return gpu_run(g, b->kernel, (size_t)b->nterms, BONDED_GROUP);
}

/*
 * test_ewald_madelung.c — Ewald and PME electrostatics reproduce the Madelung constant of rock salt.
 *
 * A NaCl crystal of 4 x 4 x 4 conventional cells (a = 0.564 nm, 512 ions with charges +1/-1 on a simple cubic
 * lattice of spacing r0 = a/2) has the electrostatic energy per ion pair
 *
 *     E / (N/2) = -M f / r0,    M = 1.74756459463 (the NaCl Madelung constant; e.g. Kittel, Introduction to
 *                                                  Solid State Physics, ch. 3; Borwein et al., J. Math. Phys. 26,
 *                                                  2999 (1985)).
 *
 * The total is assembled from the production pieces: the real-space sum erfc(beta r)/r with its self term
 * (kernels/cpu/nonbonded.c over an fs_nblist, no exclusions, no potential shift) plus the reciprocal sum, either
 * the plain Ewald sum (kernels/cpu/ewald.c) or smooth PME (kernels/cpu/pme.c). beta comes from
 * erfc(beta rc) = 1e-10 with rc = 1.1 nm < L/2, so the truncated real-space tail is far below the tolerances.
 *
 * Checks: Ewald within 1e-6 relative of -M f/r0 per pair, for the crystal as built and rigidly shifted; the forces
 * vanish by symmetry; the virial of the whole crystal is isotropic with Xi_aa = -E/6 (E scales as 1/a, so the
 * diagonal of dE/d(eps) sums to -E, and Xi = 1/2 dE/d(eps)). PME (orders 4-6, fourierspacing 0.08 nm: 32^3) on the
 * shifted crystal, whose ions sit off the grid points, within 1e-4, improving with the order.
 * Negative controls: one charge off by 0.1 %, a dropped self term, a dropped reciprocal virial and PME without the
 * B-spline moduli must each break the corresponding comparison.
 */
#include "support/fs_test.h"

#include <stdlib.h>
#include <string.h>

#include "core/ewald_setup.h"
#include "core/units.h"
#include "kernels/cpu/ewald.h"
#include "kernels/cpu/nblist.h"
#include "kernels/cpu/nonbonded.h"
#include "kernels/cpu/pme.h"

#define MADELUNG_NACL 1.74756459463
#define NCELL 4
#define A_NACL 0.564
#define NION (8 * NCELL * NCELL * NCELL)
#define RC 1.1

typedef struct {
    fs_topology *top;
    fs_nblist *nl;
    fs_forceparams p;
    fs_box box;
    double *r[3];
    double q[NION];
    double beta;
} crystal;

typedef struct {
    double e_sr, e_recip; /* Coulomb (SR) including the self term, and the reciprocal part */
    double virial[3][3];  /* total */
    double fmax;          /* largest force component */
} result;

static crystal *build_crystal(double q0_scale, int shifted)
{
    crystal *c = calloc(1, sizeof *c);
    assert_non_null(c);
    const int m = 2 * NCELL; /* ions per edge */
    const double r0 = A_NACL / 2;
    c->box = fs_box_make(m * r0, m * r0, m * r0);
    c->p = fs_forceparams_default();
    c->p.rcoulomb = c->p.rvdw = RC;
    c->p.coulomb_modifier = c->p.vdw_modifier = FS_MOD_NONE;
    c->beta = fs_ewald_beta(RC, 1e-10);

    assert_int_equal(fs_topology_create(&c->top), FS_OK);
    fs_atomtype type = {"ION", -1};
    const double zero = 0.0;
    assert_int_equal(fs_topology_set_types(c->top, 1, &type, &zero, &zero), FS_OK);
    for (int d = 0; d < 3; ++d) {
        c->r[d] = malloc(NION * sizeof(double));
        assert_non_null(c->r[d]);
    }
    int n = 0;
    for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j)
            for (int k = 0; k < m; ++k, ++n) {
                fs_atom at = {0};
                const int na = (i + j + k) % 2 == 0;
                strcpy(at.name, na ? "NA" : "CL");
                strcpy(at.resname, at.name);
                at.resnr = n + 1;
                at.charge = na ? 1.0 : -1.0;
                at.mass = na ? 22.99 : 35.45;
                if (n == 0) at.charge *= q0_scale;
                c->q[n] = at.charge;
                assert_int_equal(fs_topology_add_atom(c->top, &at, NULL), FS_OK);
                /* an arbitrary rigid shift moves the ions off the PME grid points (where B-spline
                 * interpolation is exact) and must not change the Ewald energy */
                c->r[0][n] = i * r0 + (shifted ? 0.0123 : 0.0);
                c->r[1][n] = j * r0 + (shifted ? 0.0456 : 0.0);
                c->r[2][n] = k * r0 + (shifted ? 0.0789 : 0.0);
            }
    assert_int_equal(fs_topology_finalize(c->top), FS_OK);
    assert_int_equal(fs_nblist_create(NION, &c->nl), FS_OK);
    if (fs_nblist_build(c->nl, c->top, &c->box, c->r, RC) != FS_OK) fail_msg("%s", fs_error_message());
    return c;
}

static void free_crystal(crystal **c)
{
    fs_nblist_destroy(&(*c)->nl);
    fs_topology_destroy(&(*c)->top);
    for (int d = 0; d < 3; ++d) free((*c)->r[d]);
    free(*c);
    *c = NULL;
}

#define RECIP_EWALD 0 /* else: PME of that order */

/* Real space through fs_cpu_nonbonded plus one reciprocal method; `fault` applies to PME only. */
static result evaluate(const crystal *c, int method, fs_pme_fault fault)
{
    double *f[3];
    for (int d = 0; d < 3; ++d) {
        f[d] = calloc(NION, sizeof(double));
        assert_non_null(f[d]);
    }
    fs_accum sr = {{f[0], f[1], f[2]}, {{0}}, {0}};
    if (fs_cpu_nonbonded(c->top, &c->p, c->beta, c->nl, &c->box, c->r, &sr) != FS_OK)
        fail_msg("%s", fs_error_message());
    fs_accum rec = {{f[0], f[1], f[2]}, {{0}}, {0}};
    if (method == RECIP_EWALD) {
        const int kmax[3] = {0, 0, 0};
        if (fs_ewald_recip(&c->box, NION, c->r, c->q, c->beta, FS_ONE_4PI_EPS0, kmax, &rec) != FS_OK)
            fail_msg("%s", fs_error_message());
    } else {
        fs_forceparams p = c->p;
        p.pme_order = method;
        p.fourierspacing = 0.08; /* GROMACS's choice for 2.256 nm: 32 points */
        int n[3];
        fs_pme *pme = NULL;
        if (fs_pme_grid_size(&c->box, &p, n) != FS_OK) fail_msg("%s", fs_error_message());
        if (fs_pme_create(n, p.pme_order, c->beta, NION, &pme) != FS_OK) fail_msg("%s", fs_error_message());
        fs_pme_set_fault(pme, fault);
        if (fs_pme_compute(pme, &c->box, c->r, c->q, FS_ONE_4PI_EPS0, &rec) != FS_OK)
            fail_msg("%s", fs_error_message());
        fs_pme_destroy(&pme);
    }
    result res = {0};
    res.e_sr = sr.term[FS_TERM_COUL_SR];
    res.e_recip = rec.term[FS_TERM_COUL_RECIP];
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) res.virial[a][b] = sr.virial[a][b] + rec.virial[a][b];
    for (int d = 0; d < 3; ++d) {
        for (int i = 0; i < NION; ++i)
            if (fabs(f[d][i]) > res.fmax) res.fmax = fabs(f[d][i]);
        free(f[d]);
    }
    return res;
}

static double per_pair(const result *r)
{
    return (r->e_sr + r->e_recip) / (NION / 2);
}
static double madelung_energy(void)
{
    return -MADELUNG_NACL * FS_ONE_4PI_EPS0 / (A_NACL / 2);
}

static void test_ewald_madelung(void **state)
{
    (void)state;
    const double ref = madelung_energy();
    for (int shifted = 0; shifted <= 1; ++shifted) {
        crystal *c = build_crystal(1.0, shifted);
        result r = evaluate(c, RECIP_EWALD, FS_PME_FAULT_NONE);
        const double e = per_pair(&r);
        print_message("Ewald%s: beta %.6f nm^-1, E/pair %.9f kJ/mol, -M f/r0 %.9f, rel. error %.2e\n",
                      shifted ? " (shifted)" : "", c->beta, e, ref, fabs(e / ref - 1));
        fs_assert_close(e, ref, 1e-6, 0.0, "Ewald energy per ion pair");

        /* forces vanish by symmetry; the scale is the force between nearest neighbours, f/r0^2 ~ 1750 kJ/mol/nm */
        print_message("Ewald: largest force component %.2e kJ/mol/nm\n", r.fmax);
        assert_true(r.fmax < 1e-6 * FS_ONE_4PI_EPS0 / (A_NACL * A_NACL / 4));

        /* isotropic virial Xi_aa = -E/6 */
        const double etot = r.e_sr + r.e_recip;
        for (int a = 0; a < 3; ++a) {
            fs_assert_close(r.virial[a][a], -etot / 6, 1e-6, 0.0, "Ewald virial diagonal");
            for (int b = 0; b < 3; ++b)
                if (a != b) fs_assert_close(r.virial[a][b], 0.0, 0.0, 1e-6 * fabs(etot), "Ewald virial off-diagonal");
        }
        free_crystal(&c);
    }
}

/* PME on the shifted crystal (ions off the grid points), 32^3 grid: the error falls with the order and stays
 * below 1e-4 (measured: 2.7e-5, 1.9e-6, 4.6e-7 for orders 4, 5, 6); the virial, a derivative, is isotropic to
 * 1e-3 (measured 2.9e-4, 2.0e-5, 4.9e-6). */
static void test_pme_madelung(void **state)
{
    (void)state;
    crystal *c = build_crystal(1.0, 1);
    const double ref = madelung_energy();
    double last = INFINITY;
    for (int order = 4; order <= 6; ++order) {
        result r = evaluate(c, order, FS_PME_FAULT_NONE);
        const double e = per_pair(&r), etot = r.e_sr + r.e_recip;
        const double err = fabs(e / ref - 1);
        print_message("PME order %d: E/pair %.9f kJ/mol, rel. error %.2e; Xi_xx/(-E/6) - 1 = %.2e\n", order, e, err,
                      r.virial[0][0] / (-etot / 6) - 1);
        fs_assert_close(e, ref, 1e-4, 0.0, "PME energy per ion pair");
        assert_true(err < last);
        last = err;
        for (int a = 0; a < 3; ++a) fs_assert_close(r.virial[a][a], -etot / 6, 1e-3, 0.0, "PME virial");
    }
    free_crystal(&c);
}

static void test_negative_controls(void **state)
{
    (void)state;
    const double ref = madelung_energy();

    /* one ion's charge off by 0.1 % */
    crystal *bad = build_crystal(1.001, 0);
    result r = evaluate(bad, RECIP_EWALD, FS_PME_FAULT_NONE);
    print_message("control: charge 1.001 gives rel. error %.2e\n", fabs(per_pair(&r) / ref - 1));
    assert_false(fs_close(per_pair(&r), ref, 1e-6, 0.0));
    free_crystal(&bad);

    crystal *c = build_crystal(1.0, 1);
    r = evaluate(c, RECIP_EWALD, FS_PME_FAULT_NONE);
    /* the self term -f beta/sqrt(pi) sum q^2 is inside Coulomb (SR): dropping it must break the match */
    const double self = -FS_ONE_4PI_EPS0 * c->beta / sqrt(FS_PI) * NION;
    result noself = r;
    noself.e_sr -= self;
    assert_false(fs_close(per_pair(&noself), ref, 1e-6, 0.0));
    /* ... and so must forgetting the reciprocal virial */
    fs_accum rec = {{NULL, NULL, NULL}, {{0}}, {0}};
    for (int d = 0; d < 3; ++d) rec.f[d] = calloc(NION, sizeof(double));
    const int kmax[3] = {0, 0, 0};
    assert_int_equal(fs_ewald_recip(&c->box, NION, c->r, c->q, c->beta, FS_ONE_4PI_EPS0, kmax, &rec), FS_OK);
    assert_false(fs_close(r.virial[0][0] - rec.virial[0][0], -(r.e_sr + r.e_recip) / 6, 1e-6, 0.0));
    for (int d = 0; d < 3; ++d) free(rec.f[d]);

    /* PME without the B-spline moduli misses the 1e-4 bound */
    r = evaluate(c, 4, FS_PME_FAULT_NO_BSPLINE_MODULI);
    print_message("control: PME order 4 without B-spline moduli: rel. error %.2e\n", fabs(per_pair(&r) / ref - 1));
    assert_false(fs_close(per_pair(&r), ref, 1e-4, 0.0));
    free_crystal(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ewald_madelung),
        cmocka_unit_test(test_pme_madelung),
        cmocka_unit_test(test_negative_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

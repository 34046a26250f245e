/*
 * test_dispcorr.c — the long-range dispersion correction against GROMACS and against the integrals it stands for.
 *
 * 1. A hand-made topology (three LJ types, molecules with exclusions): <C6> against a plain loop over all atom pairs
 *    i < j that are not excluded (exclusions from the test's own molecule rule); the energy and virial against
 *    numerical quadrature (Simpson, substitution r = rc/t) of
 *      E   = (N/2) <C6> [ rho int_rc^inf 4 pi r^2 (-1/r^6) dr  +  rho int_0^rc 4 pi r^2 (-1/rc^6) dr  +  1/rc^6 ]
 *      Xi_dd = (1/3) (1/2) (N/2) rho <C6> int_rc^inf 4 pi r^2 (r dV/dr) dr,  V = -1/r^6,
 *    the middle and last energy terms only with the potential-shift modifier (the shift integrated over the cut-off
 *    sphere, minus the self pair that integral counts).
 * 2. water-23k against GROMACS 2022.5 (gmx_d): "Disper. corr." and "Pres. DC (bar)".
 * Negative controls: no self-pair term, exclusions kept in <C6>, and the no-shift formula with the shift modifier
 * must all miss; Ener adds no virial and "no" gives zero.
 */
#include <stdlib.h>
#include <string.h>

#include "core/dispcorr.h"
#include "core/units.h"
#include "support/fs_test.h"

#define NT 3
#define MOLSIZE 4

static fs_topology *hand_made(int nmol)
{
    fs_topology *t = NULL;
    assert_int_equal(fs_topology_create(&t), FS_OK);
    fs_atomtype ty[NT] = {{"A", -1}, {"B", -1}, {"C", -1}};
    const double c6[NT * NT] = {2.1e-3, 1.3e-3, 0.0, 1.3e-3, 4.4e-3, 0.7e-3, 0.0, 0.7e-3, 9.0e-4};
    const double c12[NT * NT] = {2.0e-6, 1.1e-6, 0.0, 1.1e-6, 5.0e-6, 0.9e-6, 0.0, 0.9e-6, 3.0e-7};
    assert_int_equal(fs_topology_set_types(t, NT, ty, c6, c12), FS_OK);
    const int types[MOLSIZE] = {0, 1, 2, 1};
    for (int m = 0; m < nmol; ++m) {
        for (int a = 0; a < MOLSIZE; ++a) {
            fs_atom at = {.name = "X", .type = types[a], .molecule = m, .mass = 1.0};
            assert_int_equal(fs_topology_add_atom(t, &at, NULL), FS_OK);
        }
        /* a chain: 1-2, 2-3, 3-4 and 1-3 excluded (not 1-4, not 2-4) */
        int b = m * MOLSIZE;
        assert_int_equal(fs_topology_add_exclusion(t, b, b + 1), FS_OK);
        assert_int_equal(fs_topology_add_exclusion(t, b + 1, b + 2), FS_OK);
        assert_int_equal(fs_topology_add_exclusion(t, b + 2, b + 3), FS_OK);
        assert_int_equal(fs_topology_add_exclusion(t, b, b + 2), FS_OK);
        assert_int_equal(fs_topology_add_exclusion(t, b + 2, b), FS_OK); /* duplicate, in reverse */
    }
    /* two single atoms of type 0 */
    for (int k = 0; k < 2; ++k) {
        fs_atom at = {.name = "Y", .type = 0, .molecule = nmol + k, .mass = 1.0};
        assert_int_equal(fs_topology_add_atom(t, &at, NULL), FS_OK);
    }
    assert_int_equal(fs_topology_finalize(t), FS_OK);
    return t;
}

static int excluded_by_rule(int nmol, int i, int j)
{
    if (i >= nmol * MOLSIZE || j >= nmol * MOLSIZE || i / MOLSIZE != j / MOLSIZE) return 0;
    int a = i % MOLSIZE, b = j % MOLSIZE;
    if (a > b) {
        int c = a;
        a = b;
        b = c;
    }
    return (b - a == 1) || (a == 0 && b == 2);
}

/* Simpson's rule over t in (0, 1] for int_rc^inf g(r) dr with r = rc/t, dr = rc/t^2 dt. */
static double tail_integral(double (*g)(double), double rc)
{
    const int n = 2000;
    double s = 0.0;
    for (int k = 0; k <= n; ++k) {
        double t = (double)k / n;
        double w = (k == 0 || k == n) ? 1.0 : (k % 2 ? 4.0 : 2.0);
        double v = t == 0.0 ? 0.0 : g(rc / t) * rc / (t * t); /* the integrand vanishes as t -> 0 */
        s += w * v;
    }
    return s / (3.0 * n);
}
static double g_energy(double r)
{
    return 4.0 * FS_PI * r * r * (-1.0 / pow(r, 6));
}
static double g_virial(double r)
{
    return 4.0 * FS_PI * r * r * (r * 6.0 / pow(r, 7));
} /* r dV/dr, V = -1/r^6 */

/* int_0^rc 4 pi r^2 dr by Simpson (exact for a quadratic). */
static double sphere_volume(double rc)
{
    const int n = 10;
    double s = 0.0;
    for (int k = 0; k <= n; ++k) {
        double r = rc * k / n;
        double w = (k == 0 || k == n) ? 1.0 : (k % 2 ? 4.0 : 2.0);
        s += w * 4.0 * FS_PI * r * r;
    }
    return s * rc / (3.0 * n);
}

static void test_hand_made(void **state)
{
    (void)state;
    const int nmol = 5;
    fs_topology *t = hand_made(nmol);
    const int n = t->natoms;
    fs_dispcorr_setup s;
    assert_int_equal(fs_dispcorr_prepare(t, &s), FS_OK);
    assert_int_equal(s.natoms, n);

    /* <C6>, <C12> by a plain pair loop */
    double sum6 = 0.0, sum12 = 0.0, all6 = 0.0;
    long cnt = 0, allcnt = 0;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            double c6 = t->c6[t->atoms[i].type * NT + t->atoms[j].type];
            all6 += c6;
            allcnt++;
            if (excluded_by_rule(nmol, i, j)) continue;
            sum6 += c6;
            sum12 += t->c12[t->atoms[i].type * NT + t->atoms[j].type];
            cnt++;
        }
    fs_assert_close(s.avg_c6, sum6 / cnt, 1e-13, 0.0, "<C6>");
    fs_assert_close(s.avg_c12, sum12 / cnt, 1e-13, 0.0, "<C12>");
    assert_false(fs_close(s.avg_c6, all6 / allcnt, 1e-6, 0.0)); /* negative control: exclusions matter here */

    const fs_box box = fs_box_make(2.3, 2.5, 2.7);
    const double V = 2.3 * 2.5 * 2.7, rho = n / V;
    for (int mod = 0; mod < 2; ++mod)
        for (int rci = 0; rci < 2; ++rci) {
            fs_forceparams p = fs_forceparams_default();
            p.rvdw = rci ? 1.2 : 0.9;
            p.vdw_modifier = mod ? FS_MOD_NONE : FS_MOD_POTENTIAL_SHIFT;
            p.dispcorr = FS_DISPCORR_ENERPRES;
            const double rc = p.rvdw, rc6 = pow(rc, 6);
            double tail = rho * tail_integral(g_energy, rc);
            double shift = mod ? 0.0 : rho * sphere_volume(rc) * (-1.0 / rc6);
            double self = mod ? 0.0 : 1.0 / rc6;
            double e_expect = 0.5 * n * s.avg_c6 * (tail + shift + self);
            double xi_expect = 0.5 * 0.5 * n * rho * s.avg_c6 * tail_integral(g_virial, rc) / 3.0;

            double vir[3][3] = {{0}};
            double e = fs_dispcorr_compute(&s, &p, &box, vir);
            print_message("rvdw %.1f %s: E %.12g (quadrature %.12g), Xi_dd %.12g (quadrature %.12g)\n", rc,
                          mod ? "none " : "shift", e, e_expect, vir[0][0], xi_expect);
            fs_assert_close(e, e_expect, 1e-11, 0.0, "dispersion-correction energy");
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b)
                    fs_assert_close(vir[a][b], a == b ? xi_expect : 0.0, 1e-11, 0.0, "dispersion-correction virial");
            /* negative controls */
            if (!mod) {
                assert_false(fs_close(e, 0.5 * n * s.avg_c6 * (tail + shift), 1e-6, 0.0)); /* no self pair */
                assert_false(fs_close(e, 0.5 * n * s.avg_c6 * tail, 1e-6, 0.0));           /* no shift */
            }
            assert_false(fs_close(e, 0.5 * n * (all6 / allcnt) * (tail + shift + self), 1e-6, 0.0));
            /* Ener: same energy, no virial; no: nothing */
            p.dispcorr = FS_DISPCORR_ENER;
            double vir2[3][3] = {{0}};
            fs_assert_close(fs_dispcorr_compute(&s, &p, &box, vir2), e, 1e-15, 0.0, "Ener energy");
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) assert_true(vir2[a][b] == 0.0);
            p.dispcorr = FS_DISPCORR_NO;
            assert_true(fs_dispcorr_compute(&s, &p, &box, vir2) == 0.0);
            for (int a = 0; a < 3; ++a) assert_true(vir2[a][a] == 0.0);
        }
    fs_topology_destroy(&t);
}

/*
 * GROMACS 2022.5 double precision (Debian gmx_d) on benchmarks/inputs/water-23k, its gromacs.mdp with
 *   DispCorr = EnerPres, nstcalcenergy = 1, nstenergy = 1, nsteps = 0:
 *   gmx_d grompp -f y.mdp -c conf.gro -p topol.top -o y.tpr -maxwarn 5
 *   gmx_d mdrun -s y.tpr -nt 1 -e y.edr
 *   printf 'Disper.-corr.\nPres.-DC\n\n' | gmx_d energy -f y.edr -dp -o y.xvg
 * (the same energy comes out of "mdrun -rerun conf.gro"; the log reports <C6> 2.9078e-04). Box 6.2 nm cubic,
 * 23262 atoms, rvdw 1.0 nm, vdw-modifier Potential-shift.
 */
#define GMX_WATER23K_DISPCORR -2762.155762687624
#define GMX_WATER23K_PRES_DC -192.687543826683

static void test_water23k_gromacs(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *st = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &st);
    fs_dispcorr_setup s;
    assert_int_equal(fs_dispcorr_prepare(top, &s), FS_OK);
    fs_assert_close(s.avg_c6, 2.9078e-4, 5e-5, 0.0, "water-23k <C6> (log, 5 digits)");
    fs_forceparams p = fs_forceparams_default();
    p.dispcorr = FS_DISPCORR_ENERPRES;
    double vir[3][3] = {{0}};
    double e = fs_dispcorr_compute(&s, &p, &st->box, vir);
    /* GROMACS 2022 converts with c_presfac = c_amu / (1e5 nano pico^2) = 16.605390666 (math/units.h), which
     * need not be this code's FS_PRESFAC: the comparison is made with GROMACS's own factor */
    const double gmx_presfac = 1.66053906660e-27 / (1e5 * 1e-9 * 1e-12 * 1e-12);
    double pres = -2.0 * vir[0][0] / fs_box_volume(&st->box) * gmx_presfac;
    print_message("water-23k: Disper. corr. %.12f (GROMACS %.12f), Pres. DC %.12f bar (GROMACS %.12f)\n", e,
                  GMX_WATER23K_DISPCORR, pres, GMX_WATER23K_PRES_DC);
    fs_assert_close(e, GMX_WATER23K_DISPCORR, 1e-12, 0.0, "Disper. corr.");
    fs_assert_close(pres, GMX_WATER23K_PRES_DC, 1e-12, 0.0, "Pres. DC");
    for (int a = 0; a < 3; ++a) fs_assert_close(vir[a][a], vir[0][0], 1e-15, 0.0, "isotropic virial");
    /* negative control: the formula without the shift terms (modifier None) is far from GROMACS's number */
    p.vdw_modifier = FS_MOD_NONE;
    assert_false(fs_close(fs_dispcorr_compute(&s, &p, &st->box, vir), GMX_WATER23K_DISPCORR, 1e-3, 0.0));
    fs_state_destroy(&st);
    fs_topology_destroy(&top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made),
        cmocka_unit_test(test_water23k_gromacs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

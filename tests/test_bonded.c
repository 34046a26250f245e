/*
 * test_bonded.c — the bonded terms of the CPU reference (kernels/cpu/bonded*.c).
 *
 * What is checked, and against what:
 *   - forces against the gradient of the energy: a central finite difference (4-point stencil, h = 1e-6 nm) on
 *     every coordinate of hand-built configurations, for each term type, including near-degenerate geometries
 *     (dihedrals within 1e-6 degree of 0 and 180, across the +-180 branch cut, angles within 0.1 degree of 180);
 *     agreement to 1e-6 relative or 1e-7 kJ/mol/nm absolute per component; forces also sum to zero;
 *   - energies against closed forms evaluated here by hand on geometries built with exact angles (a dihedral of
 *     +60 and -60 degrees built from sines and cosines, a right angle along the axes): this pins the IUPAC sign of
 *     phi, the multiplicity, the harmonic-improper wrap and the Ryckaert-Bellemans psi = phi - 180 convention;
 *   - the virial Xi = -1/2 sum r (x) F against 1/2 dE/d(eps) by central differences over all nine components of an
 *     affine strain, for a molecule broken across the periodic box (in x, y and z).
 * Each check has a negative control that must fail: a wrong multiplicity, RB without the 180 degree shift, the
 * mirror image of a dihedral, U-B without its 1-3 term, one force component with its sign flipped, and the virial
 * taken with wrapped absolute positions. The comparison with GROMACS itself is in test_bonded_gromacs.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/units.h"
#include "kernels/cpu/bonded.h"
#include "support/fs_test.h"

/* ---------------------------------------------------------------------------------------------------------------
 * A small system: a topology with n anonymous atoms, positions, a box. */

typedef struct {
    fs_topology *top;
    int n;
    double *r[3];
    fs_box box;
} tsys;

static tsys *tsys_new(int n, fs_box box)
{
    tsys *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(fs_topology_create(&s->top), FS_OK);
    s->n = n;
    s->box = box;
    for (int i = 0; i < n; ++i) {
        fs_atom a = {.type = 0, .mass = 12.0};
        snprintf(a.name, sizeof a.name, "C%d", i + 1);
        assert_int_equal(fs_topology_add_atom(s->top, &a, NULL), FS_OK);
    }
    for (int x = 0; x < 3; ++x) {
        s->r[x] = calloc((size_t)n, sizeof(double));
        assert_non_null(s->r[x]);
    }
    return s;
}

static void tsys_free(tsys **s)
{
    if (!*s) return;
    fs_topology_destroy(&(*s)->top);
    for (int x = 0; x < 3; ++x) free((*s)->r[x]);
    free(*s);
    *s = NULL;
}

static void setpos(tsys *s, int i, const double p[3])
{
    for (int x = 0; x < 3; ++x) s->r[x][i] = p[x];
}

static fs_box open_box(void)
{
    fs_box b = {{100.0, 100.0, 100.0}, {0, 0, 0}};
    return b;
}

#define PUSH(list, ...)                                                                                                \
    do {                                                                                                               \
        __typeof__(*(list)->data) item_ = __VA_ARGS__;                                                                 \
        assert_int_equal(fs_list_push((list), item_), FS_OK);                                                          \
    } while (0)

static const fs_term bonded_terms[] = {FS_TERM_BOND, FS_TERM_ANGLE,        FS_TERM_UB,         FS_TERM_PROPER_DIH,
                                       FS_TERM_RB,   FS_TERM_IMPROPER_DIH, FS_TERM_PER_IMP_DIH};
#define N_BONDED_TERMS ((int)(sizeof bonded_terms / sizeof bonded_terms[0]))

/* Evaluates the bonded terms at positions r; returns the sum of all bonded energies; fills F (if not NULL, arrays
 * of n), vir (if not NULL) and the per-term energies (if not NULL). */
static double eval_at(const tsys *s, double *const r[3], const fs_box *box, double *F[3], double vir[3][3],
                      double term[FS_TERM_COUNT])
{
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    for (int x = 0; x < 3; ++x) {
        acc.f[x] = calloc((size_t)s->n, sizeof(double));
        assert_non_null(acc.f[x]);
    }
    fs_status st = fs_cpu_bonded(s->top, box, r, &acc);
    if (st != FS_OK) fail_msg("fs_cpu_bonded: %s", fs_error_message());
    double e = 0.0;
    for (int q = 0; q < N_BONDED_TERMS; ++q) e += acc.term[bonded_terms[q]];
    for (int x = 0; x < 3; ++x) {
        if (F) memcpy(F[x], acc.f[x], (size_t)s->n * sizeof(double));
        free(acc.f[x]);
    }
    if (vir) memcpy(vir, acc.virial, sizeof acc.virial);
    if (term) memcpy(term, acc.term, sizeof acc.term);
    return e;
}

static double eval(const tsys *s, double *F[3], double vir[3][3], double term[FS_TERM_COUNT])
{
    return eval_at(s, s->r, &s->box, F, vir, term);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Forces against the finite-difference gradient. */

#define FD_H 1e-6
#define FD_REL 1e-6
#define FD_ABS 1e-7

/* -dE/dr_ix by the 4-point central stencil (error O(h^4)). */
static double fd_force(tsys *s, int i, int x)
{
    double x0 = s->r[x][i], e[4];
    static const double off[4] = {-2, -1, 1, 2};
    for (int q = 0; q < 4; ++q) {
        s->r[x][i] = x0 + off[q] * FD_H;
        e[q] = eval(s, NULL, NULL, NULL);
    }
    s->r[x][i] = x0;
    return -(8.0 * (e[2] - e[1]) - (e[3] - e[0])) / (12.0 * FD_H);
}

/* Number of force components that disagree with the finite difference; prints the first few when `verbose`. */
static int fd_mismatches(tsys *s, double *F[3], int verbose, double *max_rel)
{
    int bad = 0;
    double worst = 0.0;
    for (int i = 0; i < s->n; ++i)
        for (int x = 0; x < 3; ++x) {
            double fd = fd_force(s, i, x);
            double diff = fabs(F[x][i] - fd);
            double rel = diff / (fabs(fd) + FD_ABS / FD_REL);
            if (rel > worst) worst = rel;
            if (diff > FD_REL * fabs(fd) + FD_ABS) {
                if (verbose && bad < 5)
                    print_message("  atom %d dim %d: analytic %.12g, finite difference %.12g\n", i, x, F[x][i], fd);
                ++bad;
            }
        }
    if (max_rel) *max_rel = worst;
    return bad;
}

/* Asserts that forces equal the finite-difference gradient and sum to zero; `what` names the configuration. */
static void check_forces(tsys *s, const char *what)
{
    double *F[3];
    for (int x = 0; x < 3; ++x) F[x] = calloc((size_t)s->n, sizeof(double));
    double e = eval(s, F, NULL, NULL);
    assert_true(isfinite(e));
    double worst;
    int bad = fd_mismatches(s, F, 1, &worst);
    print_message("%-48s E = %14.8f kJ/mol, max |F - FD| / (|FD| + 0.1) = %.2e\n", what, e, worst);
    if (bad) fail_msg("%s: %d force components differ from the finite-difference gradient", what, bad);
    for (int x = 0; x < 3; ++x) {
        double sum = 0.0, mag = 0.0;
        for (int i = 0; i < s->n; ++i) {
            sum += F[x][i];
            mag += fabs(F[x][i]);
        }
        fs_assert_close(sum, 0.0, 0.0, 1e-12 * (mag + 1.0), "sum of forces");
    }
    for (int x = 0; x < 3; ++x) free(F[x]);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Geometry helpers. */

static void sub(const double a[3], const double b[3], double c[3])
{
    for (int x = 0; x < 3; ++x) c[x] = a[x] - b[x];
}
static void cross(const double a[3], const double b[3], double c[3])
{
    c[0] = a[1] * b[2] - a[2] * b[1];
    c[1] = a[2] * b[0] - a[0] * b[2];
    c[2] = a[0] * b[1] - a[1] * b[0];
}
static void normalize(double a[3])
{
    double l = sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]);
    for (int x = 0; x < 3; ++x) a[x] /= l;
}

/* Places d so that |cd| = bond, angle bcd = angle_deg and the rotation of d about b->c relative to a is tors_deg
 * (natural extension reference frame). The sign of the torsion is irrelevant to the tests that use this. */
static void place(const double a[3], const double b[3], const double c[3], double bond, double angle_deg,
                  double tors_deg, double d[3])
{
    double bc[3], ab[3], n[3], m[3];
    sub(c, b, bc);
    normalize(bc);
    sub(b, a, ab);
    cross(ab, bc, n);
    normalize(n);
    cross(n, bc, m);
    double th = angle_deg * FS_DEG2RAD, ph = tors_deg * FS_DEG2RAD;
    double l[3] = {-bond * cos(th), bond * sin(th) * cos(ph), bond * sin(th) * sin(ph)};
    for (int x = 0; x < 3; ++x) d[x] = c[x] + l[0] * bc[x] + l[1] * m[x] + l[2] * n[x];
}

/* Builds a four-atom dihedral i-j-k-l with the given angles (degrees) at atoms 0..3 of s, offset by `origin`. */
static void build_dihedral(tsys *s, int first, const double origin[3], double ang1, double ang2, double tors)
{
    double p0[3] = {origin[0] + 0.031, origin[1] + 0.152, origin[2] - 0.017};
    double p1[3] = {origin[0], origin[1], origin[2]};
    double p2[3] = {origin[0] + 0.1437, origin[1] + 0.0211, origin[2] + 0.0123};
    double pre[3] = {p0[0] + 0.05, p0[1] - 0.02, p0[2] + 0.09}; /* reference for placing p0 properly */
    double q0[3];
    place(pre, p2, p1, 0.1234, ang1, 77.0, q0); /* atom i at angle ang1 from j-k */
    double q3[3];
    place(q0, p1, p2, 0.1391, ang2, tors, q3);
    setpos(s, first, q0);
    setpos(s, first + 1, p1);
    setpos(s, first + 2, p2);
    setpos(s, first + 3, q3);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Forces, one test per term type. */

static void test_bond_forces(void **state)
{
    (void)state;
    fs_box box = fs_box_make(1.3, 1.4, 1.5);
    tsys *s = tsys_new(4, box);
    double p[4][3] = {{0.10, 0.20, 0.30}, {0.21, 0.27, 0.36}, {1.28, 1.37, 0.02}, {0.03, 0.05, 1.46}};
    for (int i = 0; i < 4; ++i) setpos(s, i, p[i]);
    PUSH(&s->top->bonds, {0, 1, 0.109, 284512.0});
    PUSH(&s->top->bonds, {1, 2, 0.153, 224262.4}); /* across x, y and z boundaries */
    PUSH(&s->top->bonds, {2, 3, 0.40, 1000.0});    /* stretched far */
    check_forces(s, "bonds (one across the box)");
    tsys_free(&s);
}

static void test_angle_forces(void **state)
{
    (void)state;
    fs_box box = fs_box_make(1.2, 1.2, 1.2);
    const double thetas[] = {35.0, 90.0, 109.47, 150.0, 179.5, 179.9};
    const int nt = (int)(sizeof thetas / sizeof thetas[0]);
    for (int ub = 0; ub <= 1; ++ub)
        for (int t = 0; t < nt; ++t) {
            tsys *s = tsys_new(3, box);
            double a[3] = {0.3, 0.2, 0.1}, b[3] = {1.15, 0.05, 0.02}, c[3] = {1.17, 1.13, 0.07}, i[3], k[3];
            place(a, b, c, 0.136, 95.0, 33.0, i); /* j = c, k placed at angle theta from i about j */
            place(b, i, c, 0.117, thetas[t], 71.0, k);
            setpos(s, 0, i);
            setpos(s, 1, c);
            setpos(s, 2, k);
            fs_angle ang = {0, 1, 2, 118.5, 418.4, 0.2315, 25000.0};
            if (ub)
                PUSH(&s->top->ub_angles, ang);
            else
                PUSH(&s->top->angles, ang);
            char what[64];
            snprintf(what, sizeof what, "%s theta = %g deg", ub ? "Urey-Bradley" : "angle", thetas[t]);
            check_forces(s, what);
            tsys_free(&s);
        }
}

/* Dihedral angles at which the force tests run: generic, and close to the special values 0 and +-180 (within
 * 1e-6 degree and "exactly", as close as rounding allows, so that the stencil crosses the branch cut at 180). */
static const double test_phis[] = {-150.0, -60.0, 10.0, 75.0, 123.4, 0.0, 1e-6, -1e-6, 180.0, 179.999999, -179.999999};
#define N_TEST_PHIS ((int)(sizeof test_phis / sizeof test_phis[0]))

static void run_dihedral_force_tests(const char *name, void (*add)(tsys *))
{
    fs_box box = fs_box_make(1.1, 1.2, 1.3);
    for (int t = 0; t < N_TEST_PHIS; ++t) {
        tsys *s = tsys_new(4, box);
        double origin[3] = {1.05, 1.17, 0.02}; /* atoms end up on both sides of every boundary */
        build_dihedral(s, 0, origin, 112.0, 104.0, test_phis[t]);
        add(s);
        char what[80];
        snprintf(what, sizeof what, "%s phi = %.9g deg", name, test_phis[t]);
        check_forces(s, what);
        tsys_free(&s);
    }
}

static void add_propers(tsys *s)
{
    /* funct 9 style: several terms on the same quadruplet, and a funct 1 one */
    PUSH(&s->top->propers, {0, 1, 2, 3, 0.0, 5.0, 1});
    PUSH(&s->top->propers, {0, 1, 2, 3, 180.0, 3.5, 2});
    PUSH(&s->top->propers, {0, 1, 2, 3, 37.0, 1.25, 3});
    PUSH(&s->top->propers, {0, 1, 2, 3, 90.0, 0.75, 6});
}
static void add_per_impropers(tsys *s)
{
    PUSH(&s->top->per_impropers, {0, 1, 2, 3, 30.0, 4.6, 2});
}
static void add_impropers(tsys *s)
{
    /* xi0 = 150: phi near +-180 gives dxi near 30 after the wrap, smooth across the branch cut */
    PUSH(&s->top->impropers, {0, 1, 2, 3, 150.0, 167.4});
    PUSH(&s->top->impropers, {0, 1, 2, 3, -35.26, 43.9});
}
static void add_rbs(tsys *s)
{
    PUSH(&s->top->rbs, {0, 1, 2, 3, {9.28, 12.16, -13.12, -3.06, 26.24, -31.5}});
}

static void test_proper_forces(void **state)
{
    (void)state;
    run_dihedral_force_tests("proper (funct 1/9)", add_propers);
}
static void test_per_improper_forces(void **state)
{
    (void)state;
    run_dihedral_force_tests("periodic improper (funct 4)", add_per_impropers);
}
static void test_improper_forces(void **state)
{
    (void)state;
    run_dihedral_force_tests("harmonic improper (funct 2)", add_impropers);
}
static void test_rb_forces(void **state)
{
    (void)state;
    run_dihedral_force_tests("Ryckaert-Bellemans (funct 3)", add_rbs);
}

/* Every term type together on one branched molecule, and the negative control: one force component with its sign
 * flipped must be caught by the same comparison. */
static tsys *branched_molecule(fs_box box, const double origin[3]);

static void test_all_terms_forces_and_sign_flip_control(void **state)
{
    (void)state;
    double origin[3] = {0.02, 1.18, 0.61};
    tsys *s = branched_molecule(fs_box_make(1.25, 1.25, 1.25), origin);
    check_forces(s, "branched molecule, all term types");

    double *F[3];
    for (int x = 0; x < 3; ++x) F[x] = calloc((size_t)s->n, sizeof(double));
    eval(s, F, NULL, NULL);
    assert_int_equal(fd_mismatches(s, F, 0, NULL), 0);
    F[1][3] = -F[1][3]; /* negative control: flip one component */
    assert_true(fabs(F[1][3]) > 1.0);
    assert_true(fd_mismatches(s, F, 0, NULL) > 0);
    for (int x = 0; x < 3; ++x) free(F[x]);
    tsys_free(&s);
}

/* Three collinear atoms in a dihedral and an exactly straight angle: finite energy, finite (zero) forces. */
static void test_degenerate_geometry_is_finite(void **state)
{
    (void)state;
    tsys *s = tsys_new(4, open_box());
    double p[4][3] = {{-0.1, 0.0, 0.0}, {0.0, 0.0, 0.0}, {0.15, 0.0, 0.0}, {0.2, 0.1, 0.03}};
    for (int i = 0; i < 4; ++i) setpos(s, i, p[i]);
    PUSH(&s->top->angles, {0, 1, 2, 120.0, 400.0, 0.0, 0.0});
    PUSH(&s->top->propers, {0, 1, 2, 3, 0.0, 5.0, 3});
    PUSH(&s->top->impropers, {0, 1, 2, 3, 10.0, 50.0});
    PUSH(&s->top->rbs, {0, 1, 2, 3, {1, 2, 3, 4, 5, 6}});
    double *F[3], term[FS_TERM_COUNT];
    for (int x = 0; x < 3; ++x) F[x] = calloc(4, sizeof(double));
    double e = eval(s, F, NULL, term);
    assert_true(isfinite(e));
    /* the straight angle: V = 1/2 k (pi - theta0)^2 */
    fs_assert_close(term[FS_TERM_ANGLE], 0.5 * 400.0 * pow(60.0 * FS_DEG2RAD, 2), 1e-14, 0.0, "straight angle");
    for (int x = 0; x < 3; ++x)
        for (int i = 0; i < 4; ++i) assert_true(isfinite(F[x][i]) && F[x][i] == 0.0);
    for (int x = 0; x < 3; ++x) free(F[x]);
    tsys_free(&s);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Energies against closed forms on exact geometries. */

/* Atoms 0..3 with a dihedral of exactly +60 (sign = +1) or -60 degrees by construction: j at the origin, k on +x,
 * i in the xy plane on +y, l rotated about x by sign*60 degrees from +y toward +z. Looking down j->k, the front
 * bond must be turned clockwise by 60 degrees to eclipse the back bond when sign = +1: IUPAC phi = +60. */
static void build_exact_dihedral(tsys *s, int sign)
{
    const double c = 0.5, sn = sign * sqrt(3.0) / 2.0;
    double i[3] = {-0.05, 0.1, 0.0}, j[3] = {0, 0, 0}, k[3] = {0.15, 0, 0};
    double l[3] = {0.15 + 0.04, 0.11 * c, 0.11 * sn};
    setpos(s, 0, i);
    setpos(s, 1, j);
    setpos(s, 2, k);
    setpos(s, 3, l);
}

static double term_energy(tsys *s, fs_term t)
{
    double term[FS_TERM_COUNT];
    eval(s, NULL, NULL, term);
    return term[t];
}

static void test_dihedral_60_closed_form(void **state)
{
    (void)state;
    const double k = 7.3, phi0 = 20.0;
    for (int sign = -1; sign <= 1; sign += 2) {
        tsys *s = tsys_new(4, open_box());
        build_exact_dihedral(s, sign);
        PUSH(&s->top->propers, {0, 1, 2, 3, phi0, k, 2});
        const double phi = sign * FS_PI / 3.0;
        const double expect = k * (1.0 + cos(2.0 * phi - phi0 * FS_DEG2RAD));
        double got = term_energy(s, FS_TERM_PROPER_DIH);
        print_message("proper mult 2 at %+d*60 deg: %.15g (closed form %.15g)\n", sign, got, expect);
        fs_assert_close(got, expect, 1e-13, 1e-14, "proper dihedral at +-60 degrees");

        /* negative control: the mirror image (opposite sign of phi) must give a different energy */
        const double mirror = k * (1.0 + cos(-2.0 * phi - phi0 * FS_DEG2RAD));
        assert_false(fs_close(got, mirror, 1e-6, 1e-6));

        /* negative control: wrong multiplicity */
        s->top->propers.data[0].mult = 3;
        assert_false(fs_close(term_energy(s, FS_TERM_PROPER_DIH), expect, 1e-6, 1e-6));

        /* the same form as periodic improper (funct 4), into its own term */
        s->top->propers.n = 0;
        PUSH(&s->top->per_impropers, {0, 1, 2, 3, phi0, k, 2});
        fs_assert_close(term_energy(s, FS_TERM_PER_IMP_DIH), expect, 1e-13, 1e-14, "periodic improper at 60");
        assert_true(term_energy(s, FS_TERM_PROPER_DIH) == 0.0);

        /* harmonic improper with xi0 = +60: zero at +60, 1/2 k (120 deg)^2 at -60 */
        s->top->per_impropers.n = 0;
        PUSH(&s->top->impropers, {0, 1, 2, 3, 60.0, 11.0});
        double eh = sign > 0 ? 0.0 : 0.5 * 11.0 * pow(120.0 * FS_DEG2RAD, 2);
        fs_assert_close(term_energy(s, FS_TERM_IMPROPER_DIH), eh, 1e-13, 1e-13, "harmonic improper at +-60");
        tsys_free(&s);
    }
}

static void test_rb_psi_convention(void **state)
{
    (void)state;
    const double C[6] = {9.28, 12.16, -13.12, -3.06, 26.24, -31.5};
    tsys *s = tsys_new(4, open_box());
    build_exact_dihedral(s, +1);
    PUSH(&s->top->rbs, {0, 1, 2, 3, {C[0], C[1], C[2], C[3], C[4], C[5]}});
    /* phi = 60 deg -> psi = -120 deg, cos psi = -1/2 */
    double expect = 0.0, unshifted = 0.0;
    for (int n = 0; n < 6; ++n) {
        expect += C[n] * pow(-0.5, n);
        unshifted += C[n] * pow(0.5, n);
    }
    double got = term_energy(s, FS_TERM_RB);
    print_message("RB at phi = 60 deg: %.15g (closed form %.15g; without the shift %.15g)\n", got, expect, unshifted);
    fs_assert_close(got, expect, 1e-13, 1e-14, "RB at phi = 60");
    assert_false(fs_close(got, unshifted, 1e-6, 1e-6)); /* negative control: no 180-degree shift */

    /* trans (phi = 180, psi = 0): V = sum C_n; built with l opposite to i */
    double trans[4][3] = {{-0.05, 0.1, 0.0}, {0, 0, 0}, {0.15, 0, 0}, {0.19, -0.11, 0.0}};
    for (int i = 0; i < 4; ++i) setpos(s, i, trans[i]);
    double sum = 0.0, alt = 0.0;
    for (int n = 0; n < 6; ++n) {
        sum += C[n];
        alt += C[n] * pow(-1.0, n);
    }
    fs_assert_close(term_energy(s, FS_TERM_RB), sum, 1e-13, 1e-14, "RB at trans");
    assert_false(fs_close(term_energy(s, FS_TERM_RB), alt, 1e-6, 1e-6));
    tsys_free(&s);
}

static void test_improper_wrap(void **state)
{
    (void)state;
    /* (phi, xi0) -> wrapped difference, all in degrees */
    const double cases[][3] = {{170.0, -170.0, -20.0},
                               {-175.0, 175.0, 10.0},
                               {-100.0, 100.0, 160.0},
                               {30.0, -120.0, 150.0},
                               {-30.0, 10.0, -40.0}};
    const double kx = 83.7;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        tsys *s = tsys_new(4, open_box());
        double ph = cases[c][0] * FS_DEG2RAD;
        double p[4][3] = {{-0.05, 0.1, 0.0}, {0, 0, 0}, {0.15, 0, 0}, {0.19, 0.11 * cos(ph), 0.11 * sin(ph)}};
        for (int i = 0; i < 4; ++i) setpos(s, i, p[i]);
        PUSH(&s->top->impropers, {0, 1, 2, 3, cases[c][1], kx});
        double expect = 0.5 * kx * pow(cases[c][2] * FS_DEG2RAD, 2);
        double got = term_energy(s, FS_TERM_IMPROPER_DIH);
        fs_assert_close(got, expect, 1e-12, 1e-13, "harmonic improper wrap");
        double unwrapped = 0.5 * kx * pow((cases[c][0] - cases[c][1]) * FS_DEG2RAD, 2);
        if (fabs(cases[c][0] - cases[c][1]) > 180.0) assert_false(fs_close(got, unwrapped, 1e-6, 1e-6));
        tsys_free(&s);
    }
}

static void test_angle_bond_ub_closed_form(void **state)
{
    (void)state;
    tsys *s = tsys_new(3, open_box());
    double p[3][3] = {{0.13, 0.0, 0.0}, {0, 0, 0}, {0.0, 0.0, 0.11}}; /* a right angle */
    for (int i = 0; i < 3; ++i) setpos(s, i, p[i]);
    PUSH(&s->top->bonds, {0, 1, 0.12, 3.0e5});
    PUSH(&s->top->angles, {0, 1, 2, 109.5, 400.0, 0.0, 0.0});
    PUSH(&s->top->ub_angles, {0, 1, 2, 104.0, 300.0, 0.17, 5.0e4});
    double term[FS_TERM_COUNT];
    eval(s, NULL, NULL, term);
    fs_assert_close(term[FS_TERM_BOND], 0.5 * 3.0e5 * 0.01 * 0.01, 1e-13, 1e-14, "bond");
    fs_assert_close(term[FS_TERM_ANGLE], 0.5 * 400.0 * pow(19.5 * FS_DEG2RAD, 2), 1e-13, 1e-14, "angle");
    double r13 = sqrt(0.13 * 0.13 + 0.11 * 0.11);
    double ub = 0.5 * 300.0 * pow(14.0 * FS_DEG2RAD, 2) + 0.5 * 5.0e4 * pow(r13 - 0.17, 2);
    fs_assert_close(term[FS_TERM_UB], ub, 1e-13, 1e-14, "Urey-Bradley");
    /* negative control: U-B without its 1-3 part */
    assert_false(fs_close(term[FS_TERM_UB], 0.5 * 300.0 * pow(14.0 * FS_DEG2RAD, 2), 1e-6, 1e-6));
    tsys_free(&s);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Virial under affine strain, on a molecule broken across the box. */

/* An 8-atom branched molecule with every term type: chain 0-1-2-3-4, branches 5 on 1, 6 and 7 on 2. Built whole
 * around `origin` and then wrapped into the box, so that it straddles boundaries. */
static tsys *branched_molecule(fs_box box, const double origin[3])
{
    tsys *s = tsys_new(8, box);
    double p[8][3];
    double a[3] = {origin[0] - 0.1, origin[1] + 0.13, origin[2] - 0.05};
    double b[3] = {origin[0] + 0.02, origin[1] - 0.04, origin[2] + 0.11};
    for (int x = 0; x < 3; ++x) p[0][x] = origin[x];
    place(a, b, p[0], 0.152, 110.0, 60.0, p[1]);
    place(b, p[0], p[1], 0.147, 113.0, -65.0, p[2]);
    place(p[0], p[1], p[2], 0.151, 108.0, 172.0, p[3]);
    place(p[1], p[2], p[3], 0.123, 121.0, -97.0, p[4]);
    place(p[3], p[2], p[1], 0.109, 107.0, 55.0, p[5]);
    place(p[0], p[1], p[2], 0.135, 115.0, -51.0, p[6]);
    place(p[0], p[1], p[2], 0.101, 104.0, 71.0, p[7]);
    for (int i = 0; i < 8; ++i) setpos(s, i, p[i]);

    PUSH(&s->top->bonds, {0, 1, 0.153, 224262.4});
    PUSH(&s->top->bonds, {1, 2, 0.145, 282001.6});
    PUSH(&s->top->bonds, {2, 3, 0.150, 265265.6});
    PUSH(&s->top->bonds, {3, 4, 0.122, 476976.0});
    PUSH(&s->top->bonds, {1, 5, 0.109, 284512.0});
    PUSH(&s->top->bonds, {2, 6, 0.133, 300000.0});
    PUSH(&s->top->bonds, {2, 7, 0.100, 310000.0});
    PUSH(&s->top->angles, {0, 1, 2, 112.7, 488.273, 0.0, 0.0});
    PUSH(&s->top->angles, {5, 1, 2, 109.5, 292.88, 0.0, 0.0});
    PUSH(&s->top->angles, {2, 3, 4, 120.4, 669.44, 0.0, 0.0});
    PUSH(&s->top->ub_angles, {1, 2, 3, 111.0, 350.0, 0.245, 18000.0});
    PUSH(&s->top->ub_angles, {6, 2, 7, 106.0, 300.0, 0.21, 22000.0});
    PUSH(&s->top->propers, {0, 1, 2, 3, 0.0, 2.1, 3});
    PUSH(&s->top->propers, {0, 1, 2, 3, 180.0, 1.3, 1});
    PUSH(&s->top->per_impropers, {3, 2, 6, 7, 180.0, 4.6, 2});
    PUSH(&s->top->impropers, {2, 1, 3, 6, 35.0, 167.4});
    PUSH(&s->top->rbs, {1, 2, 3, 4, {9.28, 12.16, -13.12, -3.06, 26.24, -31.5}});
    PUSH(&s->top->rbs, {5, 1, 2, 6, {0.6276, 1.8828, 0.0, -2.5104, 0.0, 0.0}});

    for (int i = 0; i < 8; ++i) /* wrap into [0, L) */
        for (int x = 0; x < 3; ++x) s->r[x][i] -= box.len[x] * floor(s->r[x][i] / box.len[x]);
    return s;
}

/* Energy of the strained system: r' = (I + eps) r. `whole` gives unwrapped positions (evaluated without periodic
 * boundaries); otherwise the wrapped positions and the box are scaled (diagonal eps only). */
static double strained_energy(tsys *s, double *const whole[3], const double eps[3][3])
{
    double *r2[3];
    for (int x = 0; x < 3; ++x) r2[x] = calloc((size_t)s->n, sizeof(double));
    double *const *src = whole ? whole : s->r;
    for (int i = 0; i < s->n; ++i)
        for (int x = 0; x < 3; ++x) {
            r2[x][i] = src[x][i];
            for (int y = 0; y < 3; ++y) r2[x][i] += eps[x][y] * src[y][i];
        }
    fs_box box = whole ? open_box() : s->box;
    if (!whole)
        for (int x = 0; x < 3; ++x) box.len[x] *= 1.0 + eps[x][x];
    double e = eval_at(s, r2, &box, NULL, NULL, NULL);
    for (int x = 0; x < 3; ++x) free(r2[x]);
    return e;
}

static void test_virial_strain_broken_molecule(void **state)
{
    (void)state;
    fs_box box = fs_box_make(1.21, 1.33, 1.17);
    double origin[3] = {1.19, 1.30, 1.14}; /* near the corner: the molecule straddles x, y and z boundaries */
    tsys *s = branched_molecule(box, origin);

    /* an unwrapped copy: every atom taken to the minimum image of atom 0 */
    double *whole[3];
    for (int x = 0; x < 3; ++x) whole[x] = calloc((size_t)s->n, sizeof(double));
    int broken[3] = {0, 0, 0};
    for (int i = 0; i < s->n; ++i) {
        double d[3];
        for (int x = 0; x < 3; ++x) d[x] = s->r[x][i] - s->r[x][0];
        fs_box_min_image(&box, d);
        for (int x = 0; x < 3; ++x) {
            whole[x][i] = s->r[x][0] + d[x];
            if (fabs(whole[x][i] - s->r[x][i]) > 0.5 * box.len[x]) broken[x] = 1;
        }
    }
    assert_true(broken[0] && broken[1] && broken[2]);

    double *F[3], vir[3][3];
    for (int x = 0; x < 3; ++x) F[x] = calloc((size_t)s->n, sizeof(double));
    double e0 = eval(s, F, vir, NULL);
    double zero[3][3] = {{0}};
    fs_assert_close(strained_energy(s, whole, zero), e0, 1e-13, 0.0, "energy of the unwrapped copy");

    double vmax = 0.0;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) vmax = fmax(vmax, fabs(vir[a][b]));
    assert_true(vmax > 1.0);

    const double d = 1e-6;
    double worst = 0.0;
    int naive_bad = 0;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            /* Xi[a][b] = 1/2 dE/d(eps[b][a]) */
            double ep[3][3] = {{0}}, em[3][3] = {{0}};
            ep[b][a] = d;
            em[b][a] = -d;
            double fd = 0.5 * (strained_energy(s, whole, ep) - strained_energy(s, whole, em)) / (2.0 * d);
            worst = fmax(worst, fabs(vir[a][b] - fd) / vmax);
            fs_assert_close(vir[a][b], fd, 0.0, 1e-6 * vmax, "virial component vs 1/2 dE/d(eps)");
            if (a == b) { /* also straining the real periodic box with the wrapped coordinates */
                double fdp = 0.5 * (strained_energy(s, NULL, ep) - strained_energy(s, NULL, em)) / (2.0 * d);
                fs_assert_close(vir[a][b], fdp, 0.0, 1e-6 * vmax, "virial diagonal vs periodic box strain");
            }
            /* negative control: -1/2 sum r (x) F with the wrapped absolute positions */
            double naive = 0.0;
            for (int i = 0; i < s->n; ++i) naive -= 0.5 * s->r[a][i] * F[b][i];
            if (!fs_close(naive, fd, 0.0, 1e-6 * vmax)) ++naive_bad;
        }
    print_message("virial: max |Xi - 1/2 dE/deps| / max|Xi| = %.2e (max|Xi| = %.4g kJ/mol)\n", worst, vmax);
    assert_true(naive_bad > 0);

    for (int x = 0; x < 3; ++x) {
        free(F[x]);
        free(whole[x]);
    }
    tsys_free(&s);
}

/* ---------------------------------------------------------------------------------------------------------------
 * Contract details. */

static void test_bad_index_and_accumulation(void **state)
{
    (void)state;
    tsys *s = tsys_new(3, open_box());
    double p[3][3] = {{0.1, 0, 0}, {0, 0, 0}, {0, 0.1, 0}};
    for (int i = 0; i < 3; ++i) setpos(s, i, p[i]);
    PUSH(&s->top->angles, {0, 1, 2, 100.0, 400.0, 0.0, 0.0});

    /* the accumulator is added to, never reset */
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    double fx[3] = {1, 2, 3}, fy[3] = {0}, fz[3] = {0};
    acc.f[0] = fx;
    acc.f[1] = fy;
    acc.f[2] = fz;
    acc.term[FS_TERM_ANGLE] = 1000.0;
    acc.term[FS_TERM_LJ_SR] = -5.0;
    acc.virial[0][1] = 7.0;
    assert_int_equal(fs_cpu_bonded(s->top, &s->box, s->r, &acc), FS_OK);
    double e = 0.5 * 400.0 * pow(10.0 * FS_DEG2RAD, 2);
    fs_assert_close(acc.term[FS_TERM_ANGLE], 1000.0 + e, 1e-14, 0.0, "accumulated angle energy");
    assert_true(acc.term[FS_TERM_LJ_SR] == -5.0);
    fs_assert_close(fx[0] + fx[1] + fx[2], 6.0, 0.0, 1e-12, "accumulated forces");
    double vir[3][3];
    eval(s, NULL, vir, NULL);
    assert_true(fabs(vir[0][1]) > 1e-3);
    fs_assert_close(acc.virial[0][1], 7.0 + vir[0][1], 1e-14, 0.0, "accumulated virial");

    /* an index out of range: FS_ERR_INVALID, nothing added */
    PUSH(&s->top->rbs, {0, 1, 2, 3, {1, 0, 0, 0, 0, 0}});
    double before = acc.term[FS_TERM_ANGLE];
    assert_int_equal(fs_cpu_bonded(s->top, &s->box, s->r, &acc), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "Ryckaert-Bellemans"));
    assert_true(acc.term[FS_TERM_ANGLE] == before);
    tsys_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bond_forces),
        cmocka_unit_test(test_angle_forces),
        cmocka_unit_test(test_proper_forces),
        cmocka_unit_test(test_per_improper_forces),
        cmocka_unit_test(test_improper_forces),
        cmocka_unit_test(test_rb_forces),
        cmocka_unit_test(test_all_terms_forces_and_sign_flip_control),
        cmocka_unit_test(test_degenerate_geometry_is_finite),
        cmocka_unit_test(test_dihedral_60_closed_form),
        cmocka_unit_test(test_rb_psi_convention),
        cmocka_unit_test(test_improper_wrap),
        cmocka_unit_test(test_angle_bond_ub_closed_form),
        cmocka_unit_test(test_virial_strain_broken_molecule),
        cmocka_unit_test(test_bad_index_and_accumulation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

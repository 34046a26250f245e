/*
 * test_recip_derivatives.c — forces and virial of the reciprocal-space sums are the derivatives of their energies.
 *
 * On a small random neutral system (24 charges, some placed outside the box to exercise the periodic wrapping) in
 * a box with three different edges:
 *   - every force component of plain Ewald (kernels/cpu/ewald.c) and of SPME (kernels/cpu/pme.c, orders 3-6 and 8,
 *     on even and odd grids: odd orders on even grids use GROMACS's fixed-up Nyquist modulus) equals the central
 *     finite difference -dE/dx of the same method's energy to 1e-6 of the RMS force: SPME forces are the exact
 *     gradient of the SPME energy, because the spline derivatives are exact;
 *   - each diagonal virial component equals 1/2 dE/d(eps_aa) under an affine stretch of box and coordinates;
 *   - the Ewald energy and the off-diagonal Ewald virial agree with an independent, deliberately plain evaluation
 *     in this file: a direct triple loop over integer wave vectors for a box strained by a general (shear) eps,
 *     E(eps) = f/(2 V') sum_m A(|k'|) |S(m)|^2 with k' = (1 + eps)^-T k, V' = V det(1 + eps), since S is invariant;
 *     its finite difference gives Xi_ab = 1/2 dE/d(eps_ab) for a != b as well;
 *   - PME's off-diagonal virial approaches Ewald's (order 6, fine grid);
 *   - images: translating atoms by box vectors changes nothing; a box that is not periodic is refused.
 * Negative controls: SPME forces interpolated with the derivative of the spline one order lower, PME forces
 * against the Ewald energy (an approximation, not the gradient), Ewald forces against the PME energy, and the
 * pair-style virial -1/2 sum r (x) F (wrong for reciprocal space) must all fail the same comparisons.
 */
#include "support/fs_test.h"

#include <stdlib.h>
#include <string.h>

#include "core/units.h"
#include "kernels/cpu/ewald.h"
#include "kernels/cpu/pme.h"

#define NAT 24
#define BETA 3.2

typedef struct {
    fs_box box;
    double x[3][NAT];
    double q[NAT];
} sys;

/* A neutral system of NAT charges with a fixed pseudo-random generator (LCG), reproducible everywhere. */
static sys make_system(void)
{
    sys s;
    s.box = fs_box_make(1.43, 1.61, 1.87);
    unsigned long long state = 12345;
    double qsum = 0;
    for (int i = 0; i < NAT; ++i) {
        for (int d = 0; d < 3; ++d) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            const double u = (double)(state >> 11) / 9007199254740992.0;
            /* positions in [-0.3 L, 1.3 L): some atoms lie in neighbouring images */
            s.x[d][i] = (1.6 * u - 0.3) * s.box.len[d];
        }
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        s.q[i] = (double)(state >> 11) / 9007199254740992.0 * 2.0 - 1.0;
        qsum += s.q[i];
    }
    for (int i = 0; i < NAT; ++i) s.q[i] -= qsum / NAT;
    return s;
}

typedef struct {
    int method; /* 0: Ewald; else the PME order */
    int n[3];
    fs_pme_fault fault;
} recip_method;

typedef struct {
    double e;
    double f[3][NAT];
    double virial[3][3];
} recip_result;

static recip_result evaluate(const recip_method *m, const sys *s)
{
    recip_result res;
    memset(&res, 0, sizeof res);
    fs_accum acc = {{res.f[0], res.f[1], res.f[2]}, {{0}}, {0}};
    double x[3][NAT];
    memcpy(x, s->x, sizeof x);
    double *r[3] = {x[0], x[1], x[2]};
    if (m->method == 0) {
        const int kmax[3] = {0, 0, 0};
        if (fs_ewald_recip(&s->box, NAT, r, s->q, BETA, FS_ONE_4PI_EPS0, kmax, &acc) != FS_OK)
            fail_msg("%s", fs_error_message());
    } else {
        fs_pme *pme = NULL;
        if (fs_pme_create(m->n, m->method, BETA, NAT, &pme) != FS_OK) fail_msg("%s", fs_error_message());
        fs_pme_set_fault(pme, m->fault);
        if (fs_pme_compute(pme, &s->box, r, s->q, FS_ONE_4PI_EPS0, &acc) != FS_OK) fail_msg("%s", fs_error_message());
        fs_pme_destroy(&pme);
    }
    res.e = acc.term[FS_TERM_COUL_RECIP];
    memcpy(res.virial, acc.virial, sizeof res.virial);
    return res;
}

static double rms_force(const recip_result *r)
{
    double s = 0;
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < NAT; ++i) s += r->f[d][i] * r->f[d][i];
    return sqrt(s / (3 * NAT));
}

/* Largest |F - (-dE/dx)| over all components, in units of the RMS force, forces from `fm`, energies from `em`. */
static double force_fd_error(const recip_method *fm, const recip_method *em, const sys *s0)
{
    const recip_result r0 = evaluate(fm, s0);
    const double h = 1e-5, scale = rms_force(&r0);
    double worst = 0;
    for (int i = 0; i < NAT; ++i)
        for (int d = 0; d < 3; ++d) {
            sys s = *s0;
            s.x[d][i] = s0->x[d][i] + h;
            const double ep = evaluate(em, &s).e;
            s.x[d][i] = s0->x[d][i] - h;
            const double emi = evaluate(em, &s).e;
            const double err = fabs(r0.f[d][i] + (ep - emi) / (2 * h)) / scale;
            if (err > worst) worst = err;
        }
    return worst;
}

/* 1/2 dE/d(eps_aa) by central differences of a stretch of box and coordinates along a. */
static double virial_fd(const recip_method *m, const sys *s0, int a)
{
    const double h = 1e-5;
    double e[2];
    for (int k = 0; k < 2; ++k) {
        sys s = *s0;
        const double g = 1 + (k == 0 ? h : -h);
        s.box.len[a] *= g;
        for (int i = 0; i < NAT; ++i) s.x[a][i] *= g;
        e[k] = evaluate(m, &s).e;
    }
    return 0.5 * (e[0] - e[1]) / (2 * h);
}

/* The reciprocal Ewald energy of the system strained by eps (box and coordinates), summed plainly over all
 * integer m with |m_d| <= 14 (the Gaussian factor beyond is < 1e-25 here). */
static double ewald_strained(const sys *s, const double eps[3][3])
{
    double g[3][3], ginv_t[3][3];
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) g[a][b] = (a == b) + eps[a][b];
    const double det = g[0][0] * (g[1][1] * g[2][2] - g[1][2] * g[2][1]) -
                       g[0][1] * (g[1][0] * g[2][2] - g[1][2] * g[2][0]) +
                       g[0][2] * (g[1][0] * g[2][1] - g[1][1] * g[2][0]);
    /* inverse transpose via cofactors: (g^-1)^T = cof(g) / det */
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            const int a1 = (a + 1) % 3, a2 = (a + 2) % 3, b1 = (b + 1) % 3, b2 = (b + 2) % 3;
            ginv_t[a][b] = (g[a1][b1] * g[a2][b2] - g[a1][b2] * g[a2][b1]) / det;
        }
    const double vol = fs_box_volume(&s->box) * det;
    const int km = 14;
    double e = 0;
    for (int mx = -km; mx <= km; ++mx)
        for (int my = -km; my <= km; ++my)
            for (int mz = -km; mz <= km; ++mz) {
                if (!mx && !my && !mz) continue;
                const double k0[3] = {2 * FS_PI * mx / s->box.len[0], 2 * FS_PI * my / s->box.len[1],
                                      2 * FS_PI * mz / s->box.len[2]};
                double k[3] = {0, 0, 0}, k2 = 0;
                for (int a = 0; a < 3; ++a) {
                    for (int b = 0; b < 3; ++b) k[a] += ginv_t[a][b] * k0[b];
                    k2 += k[a] * k[a];
                }
                double sr = 0, si = 0;
                for (int i = 0; i < NAT; ++i) {
                    const double ph = k0[0] * s->x[0][i] + k0[1] * s->x[1][i] + k0[2] * s->x[2][i];
                    sr += s->q[i] * cos(ph);
                    si += s->q[i] * sin(ph);
                }
                e += 4 * FS_PI / k2 * exp(-k2 / (4 * BETA * BETA)) * (sr * sr + si * si);
            }
    return FS_ONE_4PI_EPS0 / (2 * vol) * e;
}

static const recip_method EWALD = {0, {0, 0, 0}, FS_PME_FAULT_NONE};

static void test_ewald_forces_virial(void **state)
{
    (void)state;
    const sys s = make_system();
    const double ferr = force_fd_error(&EWALD, &EWALD, &s);
    print_message("Ewald: max |F + dE/dx| / F_rms = %.2e\n", ferr);
    assert_true(ferr < 1e-6);

    const recip_result r = evaluate(&EWALD, &s);
    for (int a = 0; a < 3; ++a) {
        const double fd = virial_fd(&EWALD, &s, a);
        print_message("Ewald: Xi_%c%c = %.10f, 1/2 dE/deps = %.10f\n", "xyz"[a], "xyz"[a], r.virial[a][a], fd);
        fs_assert_close(r.virial[a][a], fd, 1e-6, 0.0, "Ewald diagonal virial");
    }

    /* energy and full virial against the plain triclinic sum */
    const double zero[3][3] = {{0}};
    const double e0 = ewald_strained(&s, zero);
    print_message("Ewald: E = %.12f, plain sum %.12f\n", r.e, e0);
    fs_assert_close(r.e, e0, 1e-11, 0.0, "Ewald energy vs plain sum");
    const double h = 1e-5;
    double vscale = 0;
    for (int a = 0; a < 3; ++a) vscale += fabs(r.virial[a][a]) / 3;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            double ep[3][3] = {{0}}, em[3][3] = {{0}};
            ep[a][b] = h;
            em[a][b] = -h;
            const double fd = 0.5 * (ewald_strained(&s, ep) - ewald_strained(&s, em)) / (2 * h);
            print_message("Ewald: Xi_%c%c = %+.10f, strained plain sum %+.10f\n", "xyz"[a], "xyz"[b], r.virial[a][b],
                          fd);
            fs_assert_close(r.virial[a][b], fd, 0.0, 1e-7 * vscale, "Ewald virial vs sheared plain sum");
        }
}

static void test_pme_forces_virial(void **state)
{
    (void)state;
    const sys s = make_system();
    const recip_method methods[] = {
        {3, {16, 18, 20}, FS_PME_FAULT_NONE}, {4, {16, 18, 20}, FS_PME_FAULT_NONE},
        {5, {16, 18, 20}, FS_PME_FAULT_NONE}, {5, {15, 17, 21}, FS_PME_FAULT_NONE},
        {6, {15, 18, 20}, FS_PME_FAULT_NONE}, {8, {16, 18, 20}, FS_PME_FAULT_NONE},
    };
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; ++k) {
        const recip_method *m = &methods[k];
        const double ferr = force_fd_error(m, m, &s);
        const recip_result r = evaluate(m, &s);
        print_message("PME order %d grid %dx%dx%d: E = %.8f, max |F + dE/dx| / F_rms = %.2e\n", m->method, m->n[0],
                      m->n[1], m->n[2], r.e, ferr);
        assert_true(ferr < 1e-6);
        for (int a = 0; a < 3; ++a) {
            const double fd = virial_fd(m, &s, a);
            fs_assert_close(r.virial[a][a], fd, 1e-6, 0.0, "PME diagonal virial");
        }
    }

    /* off-diagonal virial (no orthorhombic strain reaches it) against Ewald's on a fine grid */
    const recip_method fine = {6, {40, 45, 50}, FS_PME_FAULT_NONE};
    const recip_result rp = evaluate(&fine, &s), re = evaluate(&EWALD, &s);
    double vscale = 0;
    for (int a = 0; a < 3; ++a) vscale += fabs(re.virial[a][a]) / 3;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            print_message("Xi_%c%c: PME %+.8f Ewald %+.8f\n", "xyz"[a], "xyz"[b], rp.virial[a][b], re.virial[a][b]);
            fs_assert_close(rp.virial[a][b], re.virial[a][b], 0.0, 1e-5 * vscale, "PME vs Ewald virial");
        }
    fs_assert_close(rp.e, re.e, 1e-6, 0.0, "PME vs Ewald energy, fine grid");
}

static void test_images_and_errors(void **state)
{
    (void)state;
    const sys s = make_system();
    sys t = s;
    for (int i = 0; i < NAT; i += 3) {
        t.x[0][i] += 2 * s.box.len[0];
        t.x[1][i] -= 3 * s.box.len[1];
        t.x[2][i] += s.box.len[2];
    }
    const recip_method m = {4, {16, 18, 20}, FS_PME_FAULT_NONE};
    const recip_method *all[] = {&m, &EWALD};
    for (int k = 0; k < 2; ++k) {
        const recip_result a = evaluate(all[k], &s), b = evaluate(all[k], &t);
        fs_assert_close(b.e, a.e, 1e-12, 0.0, "energy after moving atoms to other images");
        for (int i = 0; i < NAT; ++i)
            for (int d = 0; d < 3; ++d) fs_assert_close(b.f[d][i], a.f[d][i], 1e-9, 1e-9, "force after imaging");
    }

    /* a box without periodicity along z is refused, by both */
    sys slab = s;
    slab.box.periodic[2] = 0;
    double f[3][NAT];
    fs_accum acc = {{f[0], f[1], f[2]}, {{0}}, {0}};
    double x[3][NAT];
    memcpy(x, s.x, sizeof x);
    double *r[3] = {x[0], x[1], x[2]};
    fs_pme *pme = NULL;
    assert_int_equal(fs_pme_create(m.n, 4, BETA, NAT, &pme), FS_OK);
    assert_int_equal(fs_pme_compute(pme, &slab.box, r, s.q, FS_ONE_4PI_EPS0, &acc), FS_ERR_UNSUPPORTED);
    fs_pme_destroy(&pme);
    fs_pme_destroy(&pme); /* NULL is fine */
    const int kmax[3] = {0, 0, 0};
    assert_int_equal(fs_ewald_recip(&slab.box, NAT, r, s.q, BETA, FS_ONE_4PI_EPS0, kmax, &acc), FS_ERR_UNSUPPORTED);
    /* bad sizes */
    const int small[3] = {3, 18, 20};
    assert_int_equal(fs_pme_create(small, 4, BETA, NAT, &pme), FS_ERR_INVALID);
    assert_null(pme);
    assert_int_equal(fs_pme_create(m.n, 13, BETA, NAT, &pme), FS_ERR_INVALID);
    assert_int_equal(fs_pme_create(m.n, 4, 0.0, NAT, &pme), FS_ERR_INVALID);
}

static void test_negative_controls(void **state)
{
    (void)state;
    const sys s = make_system();
    const recip_method good = {4, {16, 18, 20}, FS_PME_FAULT_NONE};
    const recip_method lowderiv = {4, {16, 18, 20}, FS_PME_FAULT_LOW_ORDER_DERIV};
    double err = force_fd_error(&lowderiv, &good, &s);
    print_message("control: forces from a lower-order spline derivative: %.2e\n", err);
    assert_false(err < 1e-6);

    /* PME forces are not the gradient of the Ewald energy, nor Ewald forces that of the PME energy */
    err = force_fd_error(&good, &EWALD, &s);
    print_message("control: PME forces vs Ewald energy: %.2e\n", err);
    assert_false(err < 1e-6);
    err = force_fd_error(&EWALD, &good, &s);
    print_message("control: Ewald forces vs PME energy: %.2e\n", err);
    assert_false(err < 1e-6);

    /* the pair-style virial -1/2 sum r (x) F is wrong for reciprocal space */
    const recip_result r = evaluate(&EWALD, &s);
    double xi = 0;
    for (int i = 0; i < NAT; ++i) xi -= 0.5 * s.x[0][i] * r.f[0][i];
    assert_false(fs_close(xi, virial_fd(&EWALD, &s, 0), 1e-6, 0.0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ewald_forces_virial),
        cmocka_unit_test(test_pme_forces_virial),
        cmocka_unit_test(test_images_and_errors),
        cmocka_unit_test(test_negative_controls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

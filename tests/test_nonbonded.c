/*
 * test_nonbonded.c — LJ (SR), Coulomb (SR) with its Ewald corrections, and the 1-4 pairs.
 *
 * The system: small molecules built by hand (a 4-atom chain with a 1-4 pair, a 3-site water, ions, and a core-shell
 * pair 0.002 nm apart), randomly placed and oriented in a periodic box, every intramolecular pair excluded.
 * Placement is rejected when a non-excluded pair sits within 2e-5 nm of rvdw or rcoulomb, so that every
 * finite-difference step stays on one side of each cut-off (the potential is shifted, hence continuous, but its
 * derivative jumps there). rvdw (0.9 nm) differs from rcoulomb (1.0 nm).
 *
 * Checks against independent references:
 *   - forces = minus the central finite-difference gradient of the energy (h = 1e-6 nm), per component, for LJ
 *     only, Coulomb only (erfc part, exclusion correction, self), 1-4 pairs only, and everything together;
 *   - virial Xi = 1/2 dE/d(eps)^T under an affine strain of box and coordinates (central differences, eps step
 *     1e-6): the three diagonal components on the dense periodic system (scaling box and coordinates), all nine on
 *     a compact cluster in a large periodic box (no image within the cut-off, so a shear of the coordinates is an
 *     affine deformation of the periodic system);
 *   - energies against a plain double loop over all pairs and all 27 images with erfc() from libm, exclusions
 *     taken from the molecule definitions rather than the topology's table, to 1e-12 relative;
 *   - two-atom systems whose energies are written out by hand: the shift applies to non-excluded pairs inside the
 *     cut-off only, excluded pairs get -f qi qj erf(beta r)/r (and its r -> 0 limit 2 beta/sqrt(pi)) without shift;
 *   - water-23k against GROMACS 2022.5 (gmx_d mdrun -rerun) LJ (SR) and Coulomb (SR).
 * Negative controls: one force component perturbed by 1e-5 (|F| + F_rms), a reference without the potential shift,
 * without the self term, with the shift applied to excluded pairs, or a virial element perturbed, must all fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ewald_setup.h"
#include "core/units.h"
#include "kernels/cpu/nonbonded.h"
#include "support/fs_test.h"

#define SQRT_PI 1.77245385090551602730

static double rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- the hand-made molecular system ---- */

enum { T_C, T_O, T_H, T_LI, NTYPES };
static const double sigma[NTYPES] = {0.350, 0.300, 0.0, 0.2126};
static const double epsil[NTYPES] = {0.276, 0.711, 0.0, 0.0765};

typedef struct {
    int n;
    int type[4];
    double q[4];
    double x[4][3]; /* internal geometry, nm */
    int has_pair;   /* 1-4 pair between atoms 0 and 3 */
} moldef;

static const moldef mol_chain = {4,
                                 {T_C, T_O, T_C, T_C},
                                 {0.20, -0.45, 0.20, 0.05},
                                 {{0, 0, 0}, {0.143, 0, 0}, {0.19, 0.135, 0}, {0.29, 0.16, 0.09}},
                                 1};
static const moldef mol_water = {
    3, {T_O, T_H, T_H}, {-0.82, 0.41, 0.41}, {{0, 0, 0}, {0.1, 0, 0}, {-0.0334, 0.0943, 0}}, 0};
static const moldef mol_cation = {1, {T_LI}, {0.8}, {{0, 0, 0}}, 0};
static const moldef mol_anion = {1, {T_O}, {-0.8}, {{0, 0, 0}}, 0};
static const moldef mol_drude = {2, {T_LI, T_H}, {1.5, -1.2}, {{0, 0, 0}, {0.002, 0, 0}}, 0};

typedef struct {
    fs_topology *top;
    double *r[3];
    double *f[3];
    fs_box box;
    fs_forceparams p;
    double beta;
    int *mol; /* molecule of each atom: the test's own exclusion rule is "same molecule" */
} sysm;

static void sysm_free(sysm *s)
{
    fs_topology_destroy(&s->top);
    for (int d = 0; d < 3; ++d) {
        free(s->r[d]);
        free(s->f[d]);
    }
    free(s->mol);
}

static void random_rotation(uint64_t *seed, double R[3][3])
{
    double a = rnd(seed) * 2 - 1, b = rnd(seed) * 2 - 1, c = rnd(seed) * 2 - 1, d = rnd(seed) * 2 - 1;
    double n = sqrt(a * a + b * b + c * c + d * d);
    a /= n, b /= n, c /= n, d /= n;
    double M[3][3] = {{a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
                      {2 * (b * c + a * d), a * a - b * b + c * c - d * d, 2 * (c * d - a * b)},
                      {2 * (b * d - a * c), 2 * (c * d + a * b), a * a - b * b - c * c + d * d}};
    memcpy(R, M, sizeof M);
}

/* Minimum-image distance^2 between two points in box b (by hand, independent of box.h). */
static double dist2(const fs_box *b, const double x[3], const double y[3])
{
    double s = 0.0;
    for (int k = 0; k < 3; ++k) {
        double d = x[k] - y[k];
        if (b->periodic[k]) d -= b->len[k] * round(d / b->len[k]);
        s += d * d;
    }
    return s;
}

/* Places nmol molecules (cycling through the kinds) at random positions inside [0, region) of box `box`, rejecting
 * overlaps (< 0.28 nm) and configurations with a non-excluded pair within 2e-5 nm of rvdw or rcoulomb. */
static void sysm_build(sysm *s, int nmol, fs_box box, double region, uint64_t seed)
{
    const moldef *kinds[] = {&mol_chain, &mol_water, &mol_cation, &mol_anion, &mol_chain, &mol_water, &mol_drude};
    const int nkinds = (int)(sizeof kinds / sizeof kinds[0]);
    memset(s, 0, sizeof *s);
    s->box = box;
    s->p = fs_forceparams_default();
    s->p.rcoulomb = 1.0;
    s->p.rvdw = 0.9;
    s->beta = 3.12341; /* any value; GROMACS's for rc = 1, rtol 1e-5 is 3.1234 */
    int cap = nmol * 4;
    double *x = malloc((size_t)cap * 3 * sizeof *x);
    int *mol = malloc((size_t)cap * sizeof *mol);
    const moldef **kind = malloc((size_t)nmol * sizeof *kind);
    for (int attempt = 0;; ++attempt) {
        assert_true(attempt < 50);
        int n = 0;
        for (int m = 0; m < nmol; ++m) {
            const moldef *md = kinds[m % nkinds];
            kind[m] = md;
            for (int tries = 0;; ++tries) {
                assert_true(tries < 10000);
                double c[3] = {rnd(&seed) * region, rnd(&seed) * region, rnd(&seed) * region};
                double R[3][3];
                random_rotation(&seed, R);
                int ok = 1;
                for (int a = 0; a < md->n && ok; ++a) {
                    double *xa = x + 3 * (n + a);
                    for (int k = 0; k < 3; ++k)
                        xa[k] = c[k] + R[k][0] * md->x[a][0] + R[k][1] * md->x[a][1] + R[k][2] * md->x[a][2];
                    for (int j = 0; j < n && ok; ++j) ok = dist2(&box, xa, x + 3 * j) > 0.28 * 0.28;
                }
                if (ok) break;
            }
            for (int a = 0; a < md->n; ++a) mol[n + a] = m;
            n += md->n;
        }
        int clean = 1;
        for (int i = 0; i < n && clean; ++i)
            for (int j = i + 1; j < n && clean; ++j) {
                if (mol[i] == mol[j]) continue;
                double r = sqrt(dist2(&box, x + 3 * i, x + 3 * j));
                clean = fabs(r - s->p.rvdw) > 2e-5 && fabs(r - s->p.rcoulomb) > 2e-5;
            }
        if (!clean) continue;

        assert_int_equal(fs_topology_create(&s->top), FS_OK);
        fs_atomtype t[NTYPES] = {{"C", 6}, {"O", 8}, {"H", 1}, {"Li", 3}};
        double c6[NTYPES * NTYPES], c12[NTYPES * NTYPES];
        for (int a = 0; a < NTYPES; ++a)
            for (int b = 0; b < NTYPES; ++b) {
                double sg = 0.5 * (sigma[a] + sigma[b]), ep = sqrt(epsil[a] * epsil[b]);
                c6[a * NTYPES + b] = 4 * ep * pow(sg, 6);
                c12[a * NTYPES + b] = 4 * ep * pow(sg, 12);
            }
        assert_int_equal(fs_topology_set_types(s->top, NTYPES, t, c6, c12), FS_OK);
        s->top->fudge_qq = 0.8333;
        s->mol = malloc((size_t)n * sizeof *s->mol);
        int first = 0;
        for (int m = 0; m < nmol; ++m) {
            const moldef *md = kind[m];
            for (int a = 0; a < md->n; ++a) {
                fs_atom at = {
                    .name = "A", .resname = "M", .type = md->type[a], .molecule = m, .charge = md->q[a], .mass = 12.0};
                assert_int_equal(fs_topology_add_atom(s->top, &at, NULL), FS_OK);
                s->mol[first + a] = m;
                for (int b = a + 1; b < md->n; ++b)
                    assert_int_equal(fs_topology_add_exclusion(s->top, first + a, first + b), FS_OK);
            }
            if (md->has_pair) {
                int ti = md->type[0], tj = md->type[3];
                fs_pair pr = {first, first + 3, 0.5 * c6[ti * NTYPES + tj], 0.5 * c12[ti * NTYPES + tj]};
                assert_int_equal(fs_list_push(&s->top->pairs, pr), FS_OK);
            }
            first += md->n;
        }
        assert_int_equal(fs_topology_finalize(s->top), FS_OK);
        for (int d = 0; d < 3; ++d) {
            s->r[d] = malloc((size_t)n * sizeof(double));
            s->f[d] = calloc((size_t)n, sizeof(double));
            for (int i = 0; i < n; ++i) s->r[d][i] = x[3 * i + d];
        }
        break;
    }
    free(x);
    free(mol);
    free(kind);
}

enum { W_NB = 1, W_P14 = 2 };

/* Zeroes acc (forces into s->f), evaluates the chosen terms at positions r in box b; returns the total energy. */
static double eval(sysm *s, const fs_box *b, double *const r[3], unsigned which, fs_accum *acc)
{
    int n = s->top->natoms;
    memset(acc, 0, sizeof *acc);
    for (int d = 0; d < 3; ++d) {
        memset(s->f[d], 0, (size_t)n * sizeof(double));
        acc->f[d] = s->f[d];
    }
    if (which & W_NB) {
        fs_nblist *nl = NULL;
        assert_int_equal(fs_nblist_create(n, &nl), FS_OK);
        assert_int_equal(fs_nblist_build(nl, s->top, b, r, 1.2), FS_OK);
        assert_int_equal(fs_cpu_nonbonded(s->top, &s->p, s->beta, nl, b, r, acc), FS_OK);
        fs_nblist_destroy(&nl);
    }
    if (which & W_P14) assert_int_equal(fs_cpu_pairs14(s->top, &s->p, b, r, acc), FS_OK);
    double e = 0.0;
    for (int t = 0; t < FS_TERM_COUNT; ++t) e += acc->term[t];
    return e;
}

/* Number of force components that differ from the central-difference gradient by more than
 * 1e-6 |F| + 1e-6 F_rms; the largest relative deviation goes to *worst. */
static int fd_force_failures(sysm *s, unsigned which, const double *const fan[3], double *worst)
{
    const int n = s->top->natoms;
    const double h = 1e-6;
    fs_accum acc;
    double frms = 0.0;
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < n; ++i) frms += fan[d][i] * fan[d][i];
    frms = sqrt(frms / (3.0 * n));
    int bad = 0;
    *worst = 0.0;
    for (int i = 0; i < n; ++i)
        for (int d = 0; d < 3; ++d) {
            double x0 = s->r[d][i];
            s->r[d][i] = x0 + h;
            double ep = eval(s, &s->box, s->r, which, &acc);
            s->r[d][i] = x0 - h;
            double em = eval(s, &s->box, s->r, which, &acc);
            s->r[d][i] = x0;
            double ffd = -(ep - em) / (2 * h);
            double dev = fabs(ffd - fan[d][i]) / (fabs(fan[d][i]) + frms);
            if (dev > *worst) *worst = dev;
            if (!fs_close(fan[d][i], ffd, 1e-6, 1e-6 * frms)) bad++;
        }
    return bad;
}

static void check_forces(sysm *s, unsigned which, const char *what)
{
    const int n = s->top->natoms;
    fs_accum acc;
    eval(s, &s->box, s->r, which, &acc);
    double *fan[3];
    for (int d = 0; d < 3; ++d) {
        fan[d] = malloc((size_t)n * sizeof(double));
        memcpy(fan[d], s->f[d], (size_t)n * sizeof(double));
    }
    double worst;
    int bad = fd_force_failures(s, which, (const double *const *)fan, &worst);
    print_message("%s: %d atoms, max |F - F_fd| / (|F| + F_rms) = %.2e\n", what, n, worst);
    assert_int_equal(bad, 0);
    /* negative control: one component off by 1e-5 (|F| + F_rms) must be caught */
    double frms = 0.0;
    for (int d = 0; d < 3; ++d)
        for (int i = 0; i < n; ++i) frms += fan[d][i] * fan[d][i];
    frms = sqrt(frms / (3.0 * n));
    fan[1][n / 2] += 1e-5 * (fabs(fan[1][n / 2]) + frms);
    bad = fd_force_failures(s, which, (const double *const *)fan, &worst);
    assert_int_equal(bad, 1);
    for (int d = 0; d < 3; ++d) free(fan[d]);
}

static void test_forces_fd(void **state)
{
    (void)state;
    sysm s;
    sysm_build(&s, 24, fs_box_make(2.7, 2.9, 3.1), 3.1, 11);
    const int n = s.top->natoms;
    check_forces(&s, W_NB | W_P14, "LJ + Coulomb SR + 1-4");
    check_forces(&s, W_P14, "1-4 only");
    /* LJ only: charges off */
    double *q = malloc((size_t)n * sizeof *q);
    for (int i = 0; i < n; ++i) {
        q[i] = s.top->atoms[i].charge;
        s.top->atoms[i].charge = 0.0;
    }
    check_forces(&s, W_NB, "LJ (SR) only");
    for (int i = 0; i < n; ++i) s.top->atoms[i].charge = q[i];
    free(q);
    /* Coulomb only (erfc pairs, exclusion correction incl. the core-shell pair, self): LJ off */
    for (int k = 0; k < NTYPES * NTYPES; ++k) s.top->c6[k] = s.top->c12[k] = 0.0;
    check_forces(&s, W_NB, "Coulomb (SR) only");
    /* without modifiers */
    s.p.coulomb_modifier = s.p.vdw_modifier = FS_MOD_NONE;
    check_forces(&s, W_NB, "Coulomb (SR), modifier None");
    sysm_free(&s);
}

/* Xi versus 1/2 dE/d(eps): components (a, b) with mask[a][b] set. The strain moves r_a by eps r_b; on a diagonal
 * component the periodic box edge is scaled too. Returns the number of failures at tolerance 1e-6 relative (plus
 * 1e-7 of the largest element); `perturb` is added to the analytic Xi[1][0] (negative control). */
static int fd_virial_failures(sysm *s, const int mask[3][3], double perturb, double *worst)
{
    const int n = s->top->natoms;
    const double h = 1e-6;
    fs_accum acc;
    eval(s, &s->box, s->r, W_NB | W_P14, &acc);
    double xi[3][3];
    memcpy(xi, acc.virial, sizeof xi);
    xi[1][0] += perturb;
    double xmax = 0.0;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) xmax = fmax(xmax, fabs(xi[a][b]));
    double *r2[3];
    for (int d = 0; d < 3; ++d) r2[d] = malloc((size_t)n * sizeof(double));
    int bad = 0;
    *worst = 0.0;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            if (!mask[a][b]) continue;
            double e[2];
            for (int sgn = 0; sgn < 2; ++sgn) {
                double eps = sgn ? -h : h;
                fs_box bx = s->box;
                for (int d = 0; d < 3; ++d) memcpy(r2[d], s->r[d], (size_t)n * sizeof(double));
                for (int i = 0; i < n; ++i) r2[a][i] += eps * s->r[b][i];
                if (a == b) bx.len[a] *= 1.0 + eps;
                e[sgn] = eval(s, &bx, r2, W_NB | W_P14, &acc);
            }
            double fd = 0.5 * (e[0] - e[1]) / (2 * h);
            double dev = fabs(xi[b][a] - fd) / (fabs(fd) + xmax);
            if (dev > *worst) *worst = dev;
            if (!fs_close(xi[b][a], fd, 1e-6, 1e-7 * xmax)) bad++;
        }
    for (int d = 0; d < 3; ++d) free(r2[d]);
    return bad;
}

static void test_virial_fd(void **state)
{
    (void)state;
    double worst;
    /* dense periodic system, images matter: diagonal strains */
    sysm s;
    sysm_build(&s, 24, fs_box_make(2.7, 2.9, 3.1), 3.1, 11);
    const int diag[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    assert_int_equal(fd_virial_failures(&s, diag, 0.0, &worst), 0);
    print_message("virial, periodic, diagonal: max rel deviation %.2e\n", worst);
    sysm_free(&s);
    /* compact cluster (2.0 nm) in a 5 nm periodic box: no image within rc, all nine components */
    sysm_build(&s, 14, fs_box_make(5.0, 5.0, 5.0), 2.0, 3);
    const int all[3][3] = {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}};
    assert_int_equal(fd_virial_failures(&s, all, 0.0, &worst), 0);
    print_message("virial, cluster, all nine: max rel deviation %.2e\n", worst);
    fs_accum acc;
    eval(&s, &s.box, s.r, W_NB | W_P14, &acc);
    /* negative control: an off-diagonal element off by 1e-5 of its size (plus 1e-5 of the largest) */
    double xmax = 0.0;
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) xmax = fmax(xmax, fabs(acc.virial[a][b]));
    assert_true(fabs(acc.virial[1][0]) > 1e-3 * xmax); /* a genuinely non-zero shear element */
    assert_int_equal(fd_virial_failures(&s, all, 1e-5 * (fabs(acc.virial[1][0]) + xmax), &worst), 1);
    sysm_free(&s);
}

/* ---- independent direct sum ---- */

typedef struct {
    double lj, coul, lj14, coul14;
} ref_e;

/* Plain double loop over pairs and all 27 images (periodic axes only) inside the cut-offs; exclusions from the
 * molecule membership. shift_mode: 0 = as the potential-shift convention says, 1 = no shift anywhere, 2 = shift
 * also applied to excluded pairs. with_self: include the self term. */
static ref_e direct_sum(const sysm *s, int shift_mode, int with_self)
{
    const fs_topology *t = s->top;
    const int n = t->natoms;
    const double f = FS_ONE_4PI_EPS0 / s->p.epsilon_r, b = s->beta;
    const double rc = s->p.rcoulomb, rv = s->p.rvdw;
    const int lj_shift = s->p.vdw_modifier == FS_MOD_POTENTIAL_SHIFT && shift_mode != 1;
    const int c_shift = s->p.coulomb_modifier == FS_MOD_POTENTIAL_SHIFT && shift_mode != 1;
    ref_e e = {0, 0, 0, 0};
    int img[3];
    for (int d = 0; d < 3; ++d) img[d] = s->box.periodic[d] ? 1 : 0;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            const double qq = f * t->atoms[i].charge * t->atoms[j].charge;
            const double c6 = t->c6[t->atoms[i].type * t->ntypes + t->atoms[j].type];
            const double c12 = t->c12[t->atoms[i].type * t->ntypes + t->atoms[j].type];
            if (s->mol[i] == s->mol[j]) {
                double r2 = dist2(&s->box, (double[]){s->r[0][i], s->r[1][i], s->r[2][i]},
                                  (double[]){s->r[0][j], s->r[1][j], s->r[2][j]});
                double r = sqrt(r2);
                e.coul -= qq * erf(b * r) / r;
                if (shift_mode == 2) e.coul -= qq * erfc(b * rc) / rc;
                continue;
            }
            for (int nx = -img[0]; nx <= img[0]; ++nx)
                for (int ny = -img[1]; ny <= img[1]; ++ny)
                    for (int nz = -img[2]; nz <= img[2]; ++nz) {
                        double dx = s->r[0][i] - s->r[0][j] + nx * s->box.len[0];
                        double dy = s->r[1][i] - s->r[1][j] + ny * s->box.len[1];
                        double dz = s->r[2][i] - s->r[2][j] + nz * s->box.len[2];
                        double r = sqrt(dx * dx + dy * dy + dz * dz);
                        if (r < rv)
                            e.lj += c12 / pow(r, 12) - c6 / pow(r, 6) -
                                    (lj_shift ? c12 / pow(rv, 12) - c6 / pow(rv, 6) : 0.0);
                        if (r < rc) e.coul += qq * (erfc(b * r) / r - (c_shift ? erfc(b * rc) / rc : 0.0));
                    }
        }
    if (with_self)
        for (int i = 0; i < n; ++i) e.coul -= f * b / SQRT_PI * t->atoms[i].charge * t->atoms[i].charge;
    for (int k = 0; k < t->pairs.n; ++k) {
        const fs_pair *p = &t->pairs.data[k];
        double r = sqrt(dist2(&s->box, (double[]){s->r[0][p->ai], s->r[1][p->ai], s->r[2][p->ai]},
                              (double[]){s->r[0][p->aj], s->r[1][p->aj], s->r[2][p->aj]}));
        e.lj14 += p->c12 / pow(r, 12) - p->c6 / pow(r, 6);
        e.coul14 += t->fudge_qq * f * t->atoms[p->ai].charge * t->atoms[p->aj].charge / r;
    }
    return e;
}

static void compare_direct(sysm *s, const char *what)
{
    fs_accum acc;
    eval(s, &s->box, s->r, W_NB | W_P14, &acc);
    ref_e ref = direct_sum(s, 0, 1);
    print_message("%s: LJ %.12g (ref %.12g), Coul %.12g (ref %.12g), LJ14 %.12g, Coul14 %.12g\n", what,
                  acc.term[FS_TERM_LJ_SR], ref.lj, acc.term[FS_TERM_COUL_SR], ref.coul, acc.term[FS_TERM_LJ14],
                  acc.term[FS_TERM_COUL14]);
    fs_assert_close(acc.term[FS_TERM_LJ_SR], ref.lj, 1e-12, 0.0, "LJ (SR)");
    fs_assert_close(acc.term[FS_TERM_COUL_SR], ref.coul, 1e-12, 0.0, "Coulomb (SR)");
    fs_assert_close(acc.term[FS_TERM_LJ14], ref.lj14, 1e-12, 0.0, "LJ-14");
    fs_assert_close(acc.term[FS_TERM_COUL14], ref.coul14, 1e-12, 0.0, "Coulomb-14");
    /* negative controls: no self term; shift dropped (when there is one); shift on excluded pairs too */
    ref_e noself = direct_sum(s, 0, 0), noshift = direct_sum(s, 1, 1), exshift = direct_sum(s, 2, 1);
    assert_false(fs_close(acc.term[FS_TERM_COUL_SR], noself.coul, 1e-6, 0.0));
    assert_false(fs_close(acc.term[FS_TERM_COUL_SR], exshift.coul, 1e-9, 0.0));
    if (s->p.vdw_modifier == FS_MOD_POTENTIAL_SHIFT)
        assert_false(fs_close(acc.term[FS_TERM_LJ_SR], noshift.lj, 1e-9, 0.0));
    if (s->p.coulomb_modifier == FS_MOD_POTENTIAL_SHIFT)
        assert_false(fs_close(acc.term[FS_TERM_COUL_SR], noshift.coul, 1e-9, 0.0));
}

static void test_energy_direct_sum(void **state)
{
    (void)state;
    sysm s;
    sysm_build(&s, 24, fs_box_make(2.7, 2.9, 3.1), 3.1, 11);
    compare_direct(&s, "shifted");
    s.p.coulomb_modifier = s.p.vdw_modifier = FS_MOD_NONE;
    compare_direct(&s, "no modifier");
    s.p.coulomb_modifier = FS_MOD_POTENTIAL_SHIFT;
    s.p.epsilon_r = 2.5;
    compare_direct(&s, "eps_r 2.5, Coulomb shifted only");
    sysm_free(&s);
    /* a slab box: periodic in x and y, open in z */
    fs_box slab = fs_box_make(2.6, 2.8, 4.0);
    slab.periodic[2] = 0;
    sysm_build(&s, 24, slab, 2.6, 5);
    compare_direct(&s, "slab");
    sysm_free(&s);
}

/* ---- two atoms, energies written out ---- */

static void two_atoms(sysm *s, double r, int excluded, int t0, int t1, double q0, double q1)
{
    memset(s, 0, sizeof *s);
    s->box = fs_box_make(3.0, 3.0, 3.0);
    s->p = fs_forceparams_default();
    s->p.rcoulomb = 0.9;
    s->p.rvdw = 0.8;
    s->beta = 3.4;
    assert_int_equal(fs_topology_create(&s->top), FS_OK);
    fs_atomtype t[2] = {{"A", -1}, {"B", -1}};
    double c6[4] = {2e-3, 3e-3, 3e-3, 5e-3}, c12[4] = {2e-6, 4e-6, 4e-6, 7e-6};
    assert_int_equal(fs_topology_set_types(s->top, 2, t, c6, c12), FS_OK);
    fs_atom a = {.name = "A", .type = t0, .charge = q0, .mass = 1},
            b = {.name = "B", .type = t1, .charge = q1, .mass = 1};
    assert_int_equal(fs_topology_add_atom(s->top, &a, NULL), FS_OK);
    assert_int_equal(fs_topology_add_atom(s->top, &b, NULL), FS_OK);
    if (excluded) assert_int_equal(fs_topology_add_exclusion(s->top, 0, 1), FS_OK);
    assert_int_equal(fs_topology_finalize(s->top), FS_OK);
    s->mol = calloc(2, sizeof *s->mol);
    s->mol[1] = excluded ? 0 : 1;
    /* the pair straddles the periodic x face: minimum image needed */
    for (int d = 0; d < 3; ++d) {
        s->r[d] = calloc(2, sizeof(double));
        s->f[d] = calloc(2, sizeof(double));
        s->r[d][0] = s->r[d][1] = 1.0;
    }
    s->r[0][0] = 0.1;
    s->r[0][1] = 0.1 - r + 3.0;
}

static void test_shift_conventions(void **state)
{
    (void)state;
    const double f = FS_ONE_4PI_EPS0, q0 = 0.7, q1 = -0.4, b = 3.4, rc = 0.9, rv = 0.8;
    const double c6 = 3e-3, c12 = 4e-6, self = -f * b / SQRT_PI * (q0 * q0 + q1 * q1);
    sysm s;
    fs_accum acc;
    for (int excluded = 0; excluded < 2; ++excluded)
        for (int mod = 0; mod < 2; ++mod) {
            const double rs[] = {0.5, 0.85, 0.95}; /* inside both; between rvdw and rcoulomb; beyond both */
            for (int k = 0; k < 3; ++k) {
                const double r = rs[k];
                two_atoms(&s, r, excluded, 0, 1, q0, q1);
                if (mod) s.p.coulomb_modifier = s.p.vdw_modifier = FS_MOD_NONE;
                eval(&s, &s.box, s.r, W_NB, &acc);
                double elj = 0.0, ec = self, ec_wrong;
                if (excluded) {
                    ec += -f * q0 * q1 * erf(b * r) / r;
                    ec_wrong = ec - f * q0 * q1 * erfc(b * rc) / rc; /* shift wrongly applied */
                } else {
                    if (r < rv)
                        elj = c12 / pow(r, 12) - c6 / pow(r, 6) - (mod ? 0 : c12 / pow(rv, 12) - c6 / pow(rv, 6));
                    if (r < rc) ec += f * q0 * q1 * (erfc(b * r) / r - (mod ? 0 : erfc(b * rc) / rc));
                    /* inside rc: the other shift convention; beyond rc: the pair counted anyway */
                    ec_wrong = r < rc ? ec + (mod ? -1 : 1) * f * q0 * q1 * erfc(b * rc) / rc
                                      : ec + f * q0 * q1 * erfc(b * r) / r;
                }
                fs_assert_close(acc.term[FS_TERM_LJ_SR], elj, 1e-13, 1e-15, "two-atom LJ");
                fs_assert_close(acc.term[FS_TERM_COUL_SR], ec, 1e-13, 0.0, "two-atom Coulomb");
                assert_false(fs_close(acc.term[FS_TERM_COUL_SR], ec_wrong, 1e-9, 0.0));
                assert_false(fs_close(acc.term[FS_TERM_COUL_SR], ec - self, 1e-9, 0.0)); /* self term is there */
                /* no force beyond both cut-offs unless excluded */
                if (!excluded && r > rc) assert_true(s.f[0][0] == 0.0 && s.f[0][1] == 0.0);
                /* Newton's third law */
                for (int d = 0; d < 3; ++d) assert_true(fabs(s.f[d][0] + s.f[d][1]) <= 1e-12 * fabs(s.f[0][0]));
                sysm_free(&s);
            }
        }
}

/* Coincident and nearly coincident excluded sites: the r -> 0 limit of erf(beta r)/r. */
static void test_excluded_small_r(void **state)
{
    (void)state;
    const double f = FS_ONE_4PI_EPS0, q0 = 1.1, q1 = -0.9, b = 3.4;
    const double self = -f * b / SQRT_PI * (q0 * q0 + q1 * q1);
    sysm s;
    fs_accum acc;
    const double rs[] = {0.0, 1e-9, 1e-5, 0.0029, 0.00295, 0.003, 0.01, 0.1};
    for (int k = 0; k < 8; ++k) {
        two_atoms(&s, rs[k], 1, 0, 1, q0, q1);
        s.r[0][0] = 0.0; /* so that the separation is exactly rs[k] */
        s.r[0][1] = rs[k];
        eval(&s, &s.box, s.r, W_NB, &acc);
        double x = b * rs[k];
        /* erf(x)/x by its series in long double for small x, by libm otherwise */
        long double g = rs[k] < 0.02
                            ? 2.0L * b / 1.772453850905516027298L *
                                  (1.0L - x * x / 3.0L + powl(x, 4) / 10.0L - powl(x, 6) / 42.0L + powl(x, 8) / 216.0L)
                            : erf(x) / rs[k];
        double expect = self - f * q0 * q1 * (double)g;
        /* the self term and the correction nearly cancel: tolerance relative to the self term */
        fs_assert_close(acc.term[FS_TERM_COUL_SR], expect, 0.0, 2e-15 * fabs(self), "excluded pair, small r");
        /* force on atom 1 (at +r along x): -dV/dr = f q0 q1 g'(r), g = erf(b r)/r, evaluated in long double:
         * g'(r) = r (2 b^3/sqrt(pi)) sum_n (-1)^n 2n x^(2n-2) / (n! (2n+1)) for small x, the closed form
         * (2b/sqrt(pi) e^{-x^2} - erf(x)/r)/r otherwise */
        long double gp;
        const long double bl = b, xl = x, tb3 = 2.0L * bl * bl * bl / 1.772453850905516027298L;
        if (x < 0.05) {
            long double sum = 0.0L, term = 1.0L; /* term = (-1)^n x^(2n-2) / n! */
            for (int m = 1; m <= 8; ++m) {
                term *= -1.0L / m;
                sum += term * 2.0L * m / (2.0L * m + 1.0L);
                term *= xl * xl;
            }
            gp = rs[k] * tb3 * sum;
        } else {
            long double rl = rs[k];
            gp = (2.0L * bl / 1.772453850905516027298L * expl(-xl * xl) - erfl(xl) / rl) / rl;
        }
        double expect_f = (double)(f * q0 * q1 * gp);
        fs_assert_close(s.f[0][1], expect_f, 1e-11, 1e-300, "excluded pair force, small r");
        assert_true(isfinite(s.f[0][0]) && s.f[0][0] == -s.f[0][1]);
        sysm_free(&s);
    }
}

/* ---- water-23k against GROMACS ---- */

/*
 * Reference numbers: GROMACS 2022.5 double precision (Debian gmx_d), benchmarks/inputs/water-23k with its
 * gromacs.mdp plus "nstenergy = 1", "nstcalcenergy = 1" (and DispCorr = EnerPres, which does not touch these terms):
 *   gmx_d grompp -f x.mdp -c conf.gro -p topol.top -o x.tpr -maxwarn 5
 *   gmx_d mdrun -s x.tpr -rerun conf.gro -nt 1 -e x.edr
 *   printf 'LJ-(SR)\nCoulomb-(SR)\n\n' | gmx_d energy -f x.edr -dp -o x.xvg
 * GROMACS 2022 computes its Coulomb constant from CODATA 2018 (math/units.h: c_one4PiEps0 = 138.93545764438196),
 * 2.6e-9 relative below 138.935458; the comparison rescales this code's Coulomb energy to GROMACS's constant, so it
 * holds whichever value FS_ONE_4PI_EPS0 has. What remains is GROMACS's own approximation of erf(beta r)/r: a cubic
 * spline table by default (its self term, too, is taken from the table at r = 0), or with
 * GMX_NBNXN_EWALD_ANALYTICAL=1 a rational approximation, which gives Coulomb (SR) = -393511.093417816912; both lie
 * within 4e-10 relative of the exact sum. The exact value (below, per unit Coulomb constant) comes from a plain loop
 * over all pairs in 80-bit long double (erfcl, erfl, nearbyintl; f = 138.935458, beta = 3.1234132743408747 from the
 * bisection above), written for this check: -393511.094283285741 kJ/mol, LJ (SR) 129569.678602620455 kJ/mol.
 */
#define GMX_WATER23K_LJ_SR 129569.678602610933
#define GMX_WATER23K_COUL_SR -393511.093336715654
#define EXACT_WATER23K_LJ_SR 129569.678602620455
#define EXACT_WATER23K_COUL_SR_PER_F (-393511.094283285741 / 138.935458)
#define GMX_ONE_4PI_EPS0 138.93545764438196

static void test_water23k_gromacs(void **state)
{
    (void)state;
    fs_topology *top = NULL;
    fs_state *st = NULL;
    fs_test_load("benchmarks/inputs/water-23k/topol.top", "benchmarks/inputs/water-23k/conf.gro", &top, &st);
    fs_forceparams p = fs_forceparams_default(); /* rc = rvdw = 1.0, potential-shift, PME, rtol 1e-5 */
    const double beta = fs_ewald_beta(p.rcoulomb, p.ewald_rtol);
    fs_nblist *nl = NULL;
    assert_int_equal(fs_nblist_create(top->natoms, &nl), FS_OK);
    assert_int_equal(fs_nblist_build(nl, top, &st->box, st->r, 1.05), FS_OK);
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    for (int d = 0; d < 3; ++d) acc.f[d] = st->f[d];
    fs_state_zero_forces(st);
    assert_int_equal(fs_cpu_nonbonded(top, &p, beta, nl, &st->box, st->r, &acc), FS_OK);
    const double coul_gmx_units = acc.term[FS_TERM_COUL_SR] * (GMX_ONE_4PI_EPS0 / FS_ONE_4PI_EPS0);
    print_message("water-23k: LJ (SR) %.10f (GROMACS %.10f, rel %.2e), Coulomb (SR) in GROMACS's units %.10f "
                  "(GROMACS %.10f, rel %.2e), beta %.17g\n",
                  acc.term[FS_TERM_LJ_SR], GMX_WATER23K_LJ_SR, fabs(acc.term[FS_TERM_LJ_SR] / GMX_WATER23K_LJ_SR - 1),
                  coul_gmx_units, GMX_WATER23K_COUL_SR, fabs(coul_gmx_units / GMX_WATER23K_COUL_SR - 1), beta);
    fs_assert_close(acc.term[FS_TERM_LJ_SR], GMX_WATER23K_LJ_SR, 1e-12, 0.0, "water-23k LJ (SR) vs GROMACS");
    fs_assert_close(coul_gmx_units, GMX_WATER23K_COUL_SR, 1e-9, 0.0, "water-23k Coulomb (SR) vs GROMACS");
    fs_assert_close(acc.term[FS_TERM_LJ_SR], EXACT_WATER23K_LJ_SR, 1e-12, 0.0, "water-23k LJ (SR) vs exact");
    fs_assert_close(acc.term[FS_TERM_COUL_SR], EXACT_WATER23K_COUL_SR_PER_F * FS_ONE_4PI_EPS0, 1e-11, 0.0,
                    "water-23k Coulomb (SR) vs exact");
    /* negative control: the same sum without the potential shift is far off */
    fs_forceparams noshift = p;
    noshift.coulomb_modifier = noshift.vdw_modifier = FS_MOD_NONE;
    memset(acc.term, 0, sizeof acc.term);
    assert_int_equal(fs_cpu_nonbonded(top, &noshift, beta, nl, &st->box, st->r, &acc), FS_OK);
    assert_false(fs_close(acc.term[FS_TERM_LJ_SR], GMX_WATER23K_LJ_SR, 1e-6, 0.0));
    assert_false(
        fs_close(acc.term[FS_TERM_COUL_SR] * (GMX_ONE_4PI_EPS0 / FS_ONE_4PI_EPS0), GMX_WATER23K_COUL_SR, 1e-6, 0.0));
    fs_nblist_destroy(&nl);
    fs_state_destroy(&st);
    fs_topology_destroy(&top);
}

static void test_invalid(void **state)
{
    (void)state;
    sysm s;
    two_atoms(&s, 0.5, 0, 0, 1, 1.0, -1.0);
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    for (int d = 0; d < 3; ++d) acc.f[d] = s.f[d];
    fs_nblist *nl = NULL;
    assert_int_equal(fs_nblist_create(2, &nl), FS_OK);
    assert_int_equal(fs_nblist_build(nl, s.top, &s.box, s.r, 0.85), FS_OK); /* < rcoulomb 0.9 */
    assert_int_equal(fs_cpu_nonbonded(s.top, &s.p, s.beta, nl, &s.box, s.r, &acc), FS_ERR_INVALID);
    assert_int_equal(fs_nblist_build(nl, s.top, &s.box, s.r, 1.0), FS_OK);
    assert_int_equal(fs_cpu_nonbonded(s.top, &s.p, -1.0, nl, &s.box, s.r, &acc), FS_ERR_INVALID);
    fs_pair bad = {0, 5, 1e-3, 1e-6};
    assert_int_equal(fs_list_push(&s.top->pairs, bad), FS_OK);
    assert_int_equal(fs_cpu_pairs14(s.top, &s.p, &s.box, s.r, &acc), FS_ERR_INVALID);
    fs_nblist_destroy(&nl);
    sysm_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shift_conventions), cmocka_unit_test(test_excluded_small_r),
        cmocka_unit_test(test_energy_direct_sum), cmocka_unit_test(test_forces_fd),
        cmocka_unit_test(test_virial_fd),         cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_water23k_gromacs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

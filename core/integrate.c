/*
 * integrate.c — the arithmetic of an integration step: kicks, drifts, the Langevin O-step, Bussi's velocity
 * rescaling factor, kinetic energy, centre-of-mass motion, degrees of freedom and Maxwell-Boltzmann velocities.
 *
 * Splitting. Velocity Verlet and BAOAB (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34) are sequences of
 *   B: v += dt f/m          (fs_kick; frozen atoms have 1/m = 0, so their v stays 0)
 *   A: r += dt v            (fs_drift)
 *   O: v = c v + sqrt((1 - c^2) kT/m) xi,   c = exp(-gamma dt)   (fs_langevin_o)
 * The O-step is the exact solution over dt of the Ornstein-Uhlenbeck process dv = -gamma v dt + sqrt(2 gamma kT/m)
 * dW, so it leaves the Maxwell distribution N(0, kT/m) invariant for any dt: if v ~ N(0, kT/m), then c v + sqrt(1 -
 * c^2) sqrt(kT/m) xi has variance (c^2 + 1 - c^2) kT/m. xi comes from Philox (seed, step, atom, FS_RNG_STREAM_SD),
 * components x, y, z = normals 0, 1, 2 of that block.
 *
 * Bussi stochastic velocity rescaling (Bussi, Donadio & Parrinello, J. Chem. Phys. 126, 014101 (2007)). The kinetic
 * energy K of Nf degrees of freedom is propagated over dt by the stochastic differential equation
 *   dK = (Kbar - K) dt/tau + 2 sqrt(K Kbar / Nf) dW/sqrt(tau),   Kbar = Nf kT/2,
 * whose stationary distribution is the canonical P(K) ~ K^(Nf/2 - 1) exp(-K/kT). Its exact solution over dt
 * (paper, appendix, eq. A7) gives the factor alpha = sqrt(K'/K) applied to all velocities:
 *   alpha^2 = c + (1 - c) (R1^2 + S) Kbar/(Nf K) + 2 R1 sqrt(c (1 - c) Kbar/(Nf K)),   c = exp(-dt/tau),
 * with R1 a standard normal and S a sum of Nf - 1 squared standard normals (a chi-square variable with Nf - 1
 * degrees of freedom). Completing the square, K' = (sqrt(c K) + R1 sqrt((1 - c) Kbar/Nf))^2 + (1 - c) Kbar S/Nf:
 * the first bracket is the continuation of the velocities' own scale, so alpha takes its sign (eq. A8):
 *   alpha < 0  when  R1 + sqrt(c Nf K/((1 - c) Kbar)) < 0,
 * evaluated here as R1 sqrt((1 - c) Kbar) + sqrt(c Nf K) < 0, which needs no division. A negative alpha reverses
 * every velocity; it needs R1 < -sqrt(c Nf K/((1-c) Kbar)), which is astronomically rare unless Nf is tiny or
 * tau ~ dt. (GROMACS's vrescale_resamplekin returns K' and takes the positive root; both are canonical.)
 * The random numbers, in order (every backend reproduces the same sequence from the same Philox blocks):
 *   block k = 0 of (seed, step, k, FS_RNG_STREAM_VRESCALE): Box-Muller of its words (w0, w1) gives the pair
 *     (z0, z1); R1 = z0, and z1 is the extra normal used when Nf - 1 is odd.
 *   S = 2 G + (z1^2 if Nf - 1 is odd), G ~ Gamma(shape a = floor((Nf - 1)/2), scale 1), because a chi-square
 *     with 2a degrees of freedom is 2 Gamma(a). G is drawn (for a >= 1) by Marsaglia & Tsang's method (ACM TOMS 26,
 *     363 (2000)): d = a - 1/3, cc = 1/sqrt(9 d); trial t = 0, 1, ... uses block k = 1 + t: x = the cosine
 *     Box-Muller normal of (w0, w1), u = u(w2); v = (1 + cc x)^3; accept G = d v if v > 0 and
 *     (u < 1 - 0.0331 x^4 or ln u < x^2/2 + d (1 - v + ln v)). Acceptance is >= 95 % per trial for every a >= 1;
 *     after FS_VRESCALE_MAX_TRIALS rejections (probability < 1e-130) G = d is used.
 * Nothing is drawn and 1 is returned when K = 0, Nf < 1, or c = 1 (no coupling).
 *
 * Degrees of freedom as GROMACS's calc_nrdf_tc (gmxpreprocess/readir.cpp) counts them for one temperature-coupling
 * group and one COM group, in half degrees of freedom n2(i): 2 per unfrozen dimension, i.e. 6 per free atom and 0
 * per frozen one. A constraint (i, j), in list order, removes min(1, n2(i)) from i and min(1, n2(j)) from j when
 * both have some left; when i has none, j loses min(2, n2(j)) (and vice versa): a constraint to a frozen atom takes
 * a whole degree of freedom from the free partner, a constraint between two frozen atoms takes nothing. Each atom of
 * a settle then loses min(2, n2). COM removal subtracts 3 (only if some atom is not frozen) and the result is
 * clamped at 0: GROMACS's nrdf_uc (Nvcm - 3)/Nvcm with Nvcm = nrdf_uc, taken as 0 when Nvcm <= 3. The sum of n2 is
 * even unless constraints over-constrain an atom; half a degree of freedom left over is dropped.
 *
 * COM removal: v_i -= P/M for the unfrozen atoms, P = sum m_i v_i and M = sum m_i over them, as GROMACS's linear
 * comm-mode does for the group "System" (frozen atoms have v = 0 and stay so).
 */
#include "integrate.h"

#include <math.h>
#include <stdlib.h>

#include "rng.h"
#include "status.h"
#include "units.h"

#define FS_VRESCALE_MAX_TRIALS 100

void fs_kick(int n, double *v[3], double *const f[3], const double *invmass, double dt)
{
    for (int d = 0; d < 3; ++d) {
        double *vd = v[d];
        const double *fd = f[d];
        for (int i = 0; i < n; ++i) vd[i] += dt * fd[i] * invmass[i];
    }
}

void fs_drift(int n, double *r[3], double *const v[3], double dt)
{
    for (int d = 0; d < 3; ++d) {
        double *rd = r[d];
        const double *vd = v[d];
        for (int i = 0; i < n; ++i) rd[i] += dt * vd[i];
    }
}

void fs_langevin_o(int n, double *v[3], const double *invmass, double ref_t, double gamma, double dt, uint64_t seed,
                   uint64_t step)
{
    const double c = exp(-gamma * dt);
    const double s = sqrt((1.0 - c * c) * FS_BOLTZ * ref_t);
    for (int i = 0; i < n; ++i) {
        if (invmass[i] == 0.0) continue;
        double xi[4];
        fs_rng_normal4(seed, step, (uint32_t)i, FS_RNG_STREAM_SD, xi);
        const double sigma = s * sqrt(invmass[i]);
        for (int d = 0; d < 3; ++d) v[d][i] = c * v[d][i] + sigma * xi[d];
    }
}

/* Gamma(a, 1) for a >= 1 by Marsaglia-Tsang, trial t from block 1 + t (see the essay). */
static double gamma_mt(double a, uint64_t seed, uint64_t step)
{
    const double d = a - 1.0 / 3.0;
    const double cc = 1.0 / sqrt(9.0 * d);
    for (uint32_t t = 0; t < FS_VRESCALE_MAX_TRIALS; ++t) {
        uint32_t w[4];
        double z[2];
        fs_rng_block(seed, step, 1 + t, FS_RNG_STREAM_VRESCALE, w);
        fs_rng_box_muller(w[0], w[1], z);
        const double x = z[0], u = fs_rng_u01(w[2]);
        double v = 1.0 + cc * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        const double x2 = x * x;
        if (u < 1.0 - 0.0331 * x2 * x2) return d * v;
        if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v))) return d * v;
    }
    return d;
}

double fs_vrescale_alpha(double ekin, double ekin_ref, int ndf, double tau_t, double dt, uint64_t seed, uint64_t step)
{
    if (ekin <= 0.0 || ndf < 1) return 1.0;
    const double c = tau_t > 0.0 ? exp(-dt / tau_t) : 0.0;
    if (c >= 1.0) return 1.0;

    uint32_t w[4];
    double z[2];
    fs_rng_block(seed, step, 0, FS_RNG_STREAM_VRESCALE, w);
    fs_rng_box_muller(w[0], w[1], z);
    const double r1 = z[0];
    const int nn = ndf - 1;
    double s = 0.0;
    if (nn >= 2) s = 2.0 * gamma_mt((double)(nn / 2), seed, step);
    if (nn % 2 == 1) s += z[1] * z[1];

    const double ratio = ekin_ref / ((double)ndf * ekin);
    double alpha2 = c + (1.0 - c) * (r1 * r1 + s) * ratio + 2.0 * r1 * sqrt(c * (1.0 - c) * ratio);
    if (alpha2 < 0.0) alpha2 = 0.0; /* rounding only: K' is a sum of squares */
    const double alpha = sqrt(alpha2);
    return r1 * sqrt((1.0 - c) * ekin_ref) + sqrt(c * (double)ndf * ekin) < 0.0 ? -alpha : alpha;
}

void fs_kinetic_tensor(int n, double *const v[3], const double *mass, double ek[3][3])
{
    for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
            if (b < a) {
                ek[a][b] = ek[b][a];
                continue;
            }
            double sum = 0.0;
            for (int i = 0; i < n; ++i) sum += mass[i] * v[a][i] * v[b][i];
            ek[a][b] = 0.5 * sum;
        }
}

void fs_remove_com_velocity(int n, double *v[3], const double *mass, const unsigned char *frozen)
{
    double p[3] = {0.0, 0.0, 0.0}, m = 0.0;
    for (int i = 0; i < n; ++i) {
        if (frozen && frozen[i]) continue;
        m += mass[i];
        for (int d = 0; d < 3; ++d) p[d] += mass[i] * v[d][i];
    }
    if (m <= 0.0) return;
    for (int d = 0; d < 3; ++d) {
        const double vc = p[d] / m;
        for (int i = 0; i < n; ++i)
            if (!(frozen && frozen[i])) v[d][i] -= vc;
    }
}

int fs_degrees_of_freedom(const fs_topology *top, fs_comm_mode comm)
{
    const int n = top->natoms;
    unsigned char *n2 = malloc(n > 0 ? (size_t)n : 1);
    if (!n2) {
        fs_fail(FS_ERR_NOMEM, "out of memory counting the degrees of freedom of %d atoms", n);
        return -1;
    }
    int nfree = 0;
    for (int i = 0; i < n; ++i) {
        n2[i] = top->atoms[i].frozen ? 0 : 6;
        nfree += !top->atoms[i].frozen;
    }
    for (int k = 0; k < top->constraints.n; ++k) {
        const int ai = top->constraints.data[k].ai, aj = top->constraints.data[k].aj;
        int imin = n2[aj] > 0 ? 1 : 2;
        int jmin = n2[ai] > 0 ? 1 : 2;
        if (imin > n2[ai]) imin = n2[ai];
        if (jmin > n2[aj]) jmin = n2[aj];
        n2[ai] -= (unsigned char)imin;
        n2[aj] -= (unsigned char)jmin;
    }
    for (int k = 0; k < top->settles.n; ++k) {
        const int a[3] = {top->settles.data[k].ow, top->settles.data[k].hw1, top->settles.data[k].hw2};
        for (int j = 0; j < 3; ++j) n2[a[j]] -= n2[a[j]] < 2 ? n2[a[j]] : 2;
    }
    long long half = 0;
    for (int i = 0; i < n; ++i) half += n2[i];
    free(n2);
    long long ndf = half / 2;
    if (comm == FS_COMM_LINEAR && nfree > 0) ndf = ndf > 3 ? ndf - 3 : 0;
    return (int)ndf;
}

void fs_maxwell_velocities(int n, double *v[3], const double *invmass, double t, uint64_t seed)
{
    const double kt = FS_BOLTZ * t;
    for (int i = 0; i < n; ++i) {
        if (invmass[i] == 0.0) {
            v[0][i] = v[1][i] = v[2][i] = 0.0;
            continue;
        }
        double xi[4];
        fs_rng_normal4(seed, 0, (uint32_t)i, FS_RNG_STREAM_VELOCITIES, xi);
        const double sigma = sqrt(kt * invmass[i]);
        for (int d = 0; d < 3; ++d) v[d][i] = sigma * xi[d];
    }
}

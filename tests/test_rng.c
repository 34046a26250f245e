/*
 * test_rng.c — Philox4x32-10 against Random123's known answers, the documented counter layout and conversions, and
 * the statistics of the numbers.
 *
 * 1. Known answers: the "philox4x32 10" and "philox4x32 7" lines of Random123's tests/kat_vectors
 *    (github.com/DEShawResearch/random123). Controls: 9 and 11 rounds, and the 7-round answers, miss the 10-round
 *    vectors.
 * 2. Layout and conversions to the bit: fs_rng_block's counter/key from (seed, step, index, stream) with 64-bit
 *    step and seed, u = (x + 0.5) 2^-32, and Box-Muller, recomputed here from the raw words.
 * 3. Uniforms (2^20 numbers): mean, chi-square over 256 bins and Kolmogorov-Smirnov, each with its bound from the
 *    sample size (5 standard errors; chi-square and KS at p = 1e-4). Control: u^1.01 fails KS.
 * 4. Normals (2^20 numbers): mean, variance, skewness and kurtosis within 5 standard errors (1/sqrt(N), sqrt(2/N),
 *    sqrt(6/N), sqrt(24/N)) and KS against the normal CDF. Controls: a 1 % wider normal fails the variance; a
 *    uniform scaled to unit variance fails the kurtosis; Box-Muller with one word for radius and angle fails KS.
 * 5. Independence: Pearson correlations of numbers at adjacent index, adjacent step, other stream, other seed, the
 *    four words of a block, and the squares of a Box-Muller pair, all within 5/sqrt(N). Controls: a layout that
 *    forgets the step correlates fully; one Philox round correlates adjacent counters.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "support/fs_test.h"

#define NS (1 << 20) /* numbers per statistical sample */

typedef struct {
    uint32_t ctr[4], key[2], out[4];
} kat;

/* Random123 tests/kat_vectors: "philox4x32 10 CTR KEY EXPECTED" */
static const kat kat10[3] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};
/* and "philox4x32 7" */
static const kat kat7[3] = {
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}},
};

static int same4(const uint32_t a[4], const uint32_t b[4])
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static void test_known_answers(void **state)
{
    (void)state;
    for (int k = 0; k < 3; ++k) {
        uint32_t out[4];
        fs_philox4x32_10(kat10[k].ctr, kat10[k].key, out);
        for (int w = 0; w < 4; ++w) assert_int_equal(out[w], kat10[k].out[w]);
        fs_philox4x32_rounds(kat7[k].ctr, kat7[k].key, 7, out);
        for (int w = 0; w < 4; ++w) assert_int_equal(out[w], kat7[k].out[w]);
        /* negative controls: other round counts miss the 10-round answers */
        for (int r = 7; r <= 11; ++r) {
            if (r == 10) continue;
            fs_philox4x32_rounds(kat10[k].ctr, kat10[k].key, r, out);
            assert_false(same4(out, kat10[k].out));
        }
        /* a one-bit change of the counter or the key misses too */
        uint32_t c[4] = {kat10[k].ctr[0] ^ 1u, kat10[k].ctr[1], kat10[k].ctr[2], kat10[k].ctr[3]};
        fs_philox4x32_10(c, kat10[k].key, out);
        assert_false(same4(out, kat10[k].out));
        uint32_t key[2] = {kat10[k].key[0], kat10[k].key[1] ^ 0x80000000u};
        fs_philox4x32_10(kat10[k].ctr, key, out);
        assert_false(same4(out, kat10[k].out));
    }
}

static void test_layout_and_conversions(void **state)
{
    (void)state;
    const uint64_t seed = 0x0123456789abcdefULL, step = 0x00000005fedcba98ULL;
    const uint32_t index = 4242, stream = FS_RNG_STREAM_SD;
    uint32_t w[4], ref[4];
    fs_rng_block(seed, step, index, stream, w);
    const uint32_t ctr[4] = {index, stream, 0xfedcba98u, 0x00000005u}, key[2] = {0x89abcdefu, 0x01234567u};
    fs_philox4x32_10(ctr, key, ref);
    assert_true(same4(w, ref));

    double u[4], z[4];
    fs_rng_uniform4(seed, step, index, stream, u);
    fs_rng_normal4(seed, step, index, stream, z);
    for (int k = 0; k < 4; ++k) assert_true(u[k] == ((double)w[k] + 0.5) / 4294967296.0);
    for (int p = 0; p < 2; ++p) {
        double r = sqrt(-2.0 * log(u[2 * p])), phi = 2.0 * 3.14159265358979323846 * u[2 * p + 1];
        assert_true(z[2 * p] == r * cos(phi));
        assert_true(z[2 * p + 1] == r * sin(phi));
    }
    /* u never reaches 0 or 1 */
    assert_true(fs_rng_u01(0) == ldexp(1.0, -33));
    assert_true(fs_rng_u01(0xffffffffu) == 1.0 - ldexp(1.0, -33));
    assert_true(fs_rng_u01(0xffffffffu) < 1.0);

    /* the step's high word and the seed's high word matter; the same arguments give the same bits */
    uint32_t a[4], b[4];
    fs_rng_block(seed, step + (1ULL << 32), index, stream, a);
    assert_false(same4(a, w));
    fs_rng_block(seed ^ (1ULL << 40), step, index, stream, b);
    assert_false(same4(b, w));
    fs_rng_block(seed, step, index, stream, a);
    assert_true(same4(a, w));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* sqrt(N) times the Kolmogorov-Smirnov distance of the sample x (sorted here) from the CDF cdf. */
static double ks_stat(double *x, int n, double (*cdf)(double))
{
    qsort(x, (size_t)n, sizeof *x, cmp_double);
    double d = 0.0;
    for (int i = 0; i < n; ++i) {
        double f = cdf(x[i]);
        double lo = f - (double)i / n, hi = (double)(i + 1) / n - f;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    return d * sqrt((double)n);
}

static double cdf_uniform(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}
static double cdf_normal(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

/* KS at p = 1e-4: P(sqrt(N) D > t) ~ 2 exp(-2 t^2) */
static const double KS_BOUND = 2.2293; /* sqrt(ln(2/1e-4)/2) */

static void uniforms(uint64_t seed, double *x)
{
    for (int i = 0; i < NS / 4; ++i) fs_rng_uniform4(seed, 7, (uint32_t)i, FS_RNG_STREAM_BUILDER, x + 4 * i);
}

static void test_uniform_statistics(void **state)
{
    (void)state;
    double *x = malloc(NS * sizeof *x);
    assert_non_null(x);
    uniforms(99, x);
    double mean = 0.0;
    int bins[256] = {0};
    for (int i = 0; i < NS; ++i) {
        assert_true(x[i] > 0.0 && x[i] < 1.0);
        mean += x[i];
        bins[(int)(x[i] * 256.0)]++;
    }
    mean /= NS;
    double chi2 = 0.0, e = NS / 256.0;
    for (int b = 0; b < 256; ++b) chi2 += (bins[b] - e) * (bins[b] - e) / e;
    /* chi-square with 255 degrees of freedom: mean 255, sd sqrt(510); p = 1e-4 upper bound 255 + 3.72 sd */
    const double chi2_bound = 255.0 + 3.72 * sqrt(510.0);
    double ks = ks_stat(x, NS, cdf_uniform);
    print_message("uniforms: mean %.6f (se %.2g), chi2(255) %.1f (bound %.1f), sqrt(N) D %.3f (bound %.3f)\n", mean,
                  sqrt(1.0 / 12.0 / NS), chi2, chi2_bound, ks, KS_BOUND);
    fs_assert_close(mean, 0.5, 0.0, 5.0 * sqrt(1.0 / 12.0 / NS), "mean of uniforms");
    assert_true(chi2 < chi2_bound);
    assert_true(ks < KS_BOUND);

    /* negative control: a slightly biased transform u^1.01 fails KS */
    uniforms(99, x);
    for (int i = 0; i < NS; ++i) x[i] = pow(x[i], 1.01);
    double ks_bad = ks_stat(x, NS, cdf_uniform);
    print_message("control u^1.01: sqrt(N) D %.3f\n", ks_bad);
    assert_false(ks_bad < KS_BOUND);
    free(x);
}

typedef struct {
    double mean, var, skew, kurt;
} moments;

static moments moments_of(const double *x, int n)
{
    double m = 0.0;
    for (int i = 0; i < n; ++i) m += x[i];
    m /= n;
    double m2 = 0.0, m3 = 0.0, m4 = 0.0;
    for (int i = 0; i < n; ++i) {
        double d = x[i] - m, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    return (moments){m, m2, m3 / pow(m2, 1.5), m4 / (m2 * m2)};
}

/* 1 if the moments are those of a standard normal within 5 standard errors */
static int normal_moments_ok(moments s, int n)
{
    return fabs(s.mean) < 5.0 / sqrt(n) && fabs(s.var - 1.0) < 5.0 * sqrt(2.0 / n) &&
           fabs(s.skew) < 5.0 * sqrt(6.0 / n) && fabs(s.kurt - 3.0) < 5.0 * sqrt(24.0 / n);
}

static void normals(uint64_t seed, double *x)
{
    for (int i = 0; i < NS / 4; ++i) fs_rng_normal4(seed, 3, (uint32_t)i, FS_RNG_STREAM_VELOCITIES, x + 4 * i);
}

static void test_normal_statistics(void **state)
{
    (void)state;
    double *x = malloc(NS * sizeof *x);
    assert_non_null(x);
    normals(2024, x);
    moments s = moments_of(x, NS);
    double ks = ks_stat(x, NS, cdf_normal);
    print_message("normals: mean %.5f var %.5f skew %.5f kurt %.5f (se %.4f %.4f %.4f %.4f), sqrt(N) D %.3f\n", s.mean,
                  s.var, s.skew, s.kurt, 1.0 / sqrt(NS), sqrt(2.0 / NS), sqrt(6.0 / NS), sqrt(24.0 / NS), ks);
    assert_true(normal_moments_ok(s, NS));
    assert_true(ks < KS_BOUND);

    /* negative controls */
    normals(2024, x);
    for (int i = 0; i < NS; ++i) x[i] *= 1.01;
    moments wide = moments_of(x, NS);
    print_message("control 1.01 z: var %.5f\n", wide.var);
    assert_false(normal_moments_ok(wide, NS));

    uniforms(2024, x);
    for (int i = 0; i < NS; ++i) x[i] = sqrt(12.0) * (x[i] - 0.5);
    moments flat = moments_of(x, NS);
    print_message("control scaled uniform: var %.5f kurt %.5f\n", flat.var, flat.kurt);
    assert_false(normal_moments_ok(flat, NS));

    for (int i = 0; i < NS; ++i) {
        uint32_t w[4];
        fs_rng_block(2024, 3, (uint32_t)i, FS_RNG_STREAM_VELOCITIES, w);
        double z[2];
        fs_rng_box_muller(w[0], w[0], z); /* radius and angle from one word */
        x[i] = z[0];
    }
    double ks_bad = ks_stat(x, NS, cdf_normal);
    print_message("control Box-Muller on one word: sqrt(N) D %.3f\n", ks_bad);
    assert_false(ks_bad < KS_BOUND);
    free(x);
}

static double correlation(const double *a, const double *b, int n)
{
    double ma = 0, mb = 0;
    for (int i = 0; i < n; ++i) ma += a[i], mb += b[i];
    ma /= n;
    mb /= n;
    double sab = 0, saa = 0, sbb = 0;
    for (int i = 0; i < n; ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return sab / sqrt(saa * sbb);
}

#define NC (1 << 18)

static void test_independence(void **state)
{
    (void)state;
    const double bound = 5.0 / sqrt((double)NC);
    double *a = malloc(NC * sizeof *a), *b = malloc(NC * sizeof *b), *c = malloc(NC * sizeof *c);
    double *d = malloc(NC * sizeof *d), *e = malloc(NC * sizeof *e), *f = malloc(NC * sizeof *f);
    double *g = malloc(NC * sizeof *g), *h = malloc(NC * sizeof *h);
    assert_true(a && b && c && d && e && f && g && h);
    for (int i = 0; i < NC; ++i) {
        double n0[4], n1[4], n2[4], n3[4], n4[4];
        const uint64_t step = 1000 + (uint64_t)(i / 1024);
        const uint32_t idx = (uint32_t)(i % 1024) * 2;
        fs_rng_normal4(11, step, idx, FS_RNG_STREAM_SD, n0);
        fs_rng_normal4(11, step, idx + 1, FS_RNG_STREAM_SD, n1);   /* next index */
        fs_rng_normal4(11, step + 1, idx, FS_RNG_STREAM_SD, n2);   /* next step */
        fs_rng_normal4(11, step, idx, FS_RNG_STREAM_VRESCALE, n3); /* other stream */
        fs_rng_normal4(12, step, idx, FS_RNG_STREAM_SD, n4);       /* other seed */
        a[i] = n0[0], b[i] = n1[0], c[i] = n2[0], d[i] = n3[0], e[i] = n4[0];
        f[i] = n0[2];                               /* other pair of the block */
        g[i] = n0[0] * n0[0], h[i] = n0[1] * n0[1]; /* squares of one Box-Muller pair */
    }
    const double r[6] = {correlation(a, b, NC), correlation(a, c, NC), correlation(a, d, NC),
                         correlation(a, e, NC), correlation(a, f, NC), correlation(g, h, NC)};
    const char *what[6] = {"index", "step", "stream", "seed", "words", "pair squares"};
    for (int k = 0; k < 6; ++k) {
        print_message("correlation across %s: %+.5f (bound %.5f)\n", what[k], r[k], bound);
        assert_true(fabs(r[k]) < bound);
    }
    /* the uniform words of a block, pairwise */
    for (int i = 0; i < NC; ++i) {
        double u[4];
        fs_rng_uniform4(5, 0, (uint32_t)i, FS_RNG_STREAM_BAROSTAT, u);
        a[i] = u[0], b[i] = u[1], c[i] = u[2], d[i] = u[3];
    }
    double *w[4] = {a, b, c, d};
    for (int p = 0; p < 4; ++p)
        for (int q = p + 1; q < 4; ++q) assert_true(fabs(correlation(w[p], w[q], NC)) < bound);

    /* negative control 1: a counter that forgets the step repeats the numbers of the previous step */
    for (int i = 0; i < NC; ++i) {
        uint32_t w0[4], w1[4];
        const uint32_t key[2] = {11, 0}, c0[4] = {(uint32_t)i, FS_RNG_STREAM_SD, 0, 0};
        fs_philox4x32_10(c0, key, w0);
        fs_philox4x32_10(c0, key, w1); /* "step + 1" with the step left out */
        a[i] = fs_rng_u01(w0[0]), b[i] = fs_rng_u01(w1[0]);
    }
    double r_nostep = correlation(a, b, NC);
    /* negative control 2: one Philox round leaves adjacent counters correlated */
    for (int i = 0; i < NC; ++i) {
        uint32_t w0[4], w1[4];
        const uint32_t key[2] = {11, 0}, c0[4] = {(uint32_t)i, 1, 0, 0}, c1[4] = {(uint32_t)i + 1, 1, 0, 0};
        fs_philox4x32_rounds(c0, key, 1, w0);
        fs_philox4x32_rounds(c1, key, 1, w1);
        a[i] = fs_rng_u01(w0[3]), b[i] = fs_rng_u01(w1[3]);
    }
    double r_oneround = correlation(a, b, NC);
    print_message("controls: no step %+.4f, one round %+.4f\n", r_nostep, r_oneround);
    assert_false(fabs(r_nostep) < bound);
    assert_false(fabs(r_oneround) < bound);
    free(a), free(b), free(c), free(d), free(e), free(f), free(g), free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),      cmocka_unit_test(test_layout_and_conversions),
        cmocka_unit_test(test_uniform_statistics), cmocka_unit_test(test_normal_statistics),
        cmocka_unit_test(test_independence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

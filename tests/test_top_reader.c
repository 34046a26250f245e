/*
 * test_top_reader.c — the GROMACS topology reader against numbers worked out from the input files.
 *
 * Every expected value below is computed in the test from the numbers written in the topology (with the
 * combination rules of the GROMACS manual), or is an exact set derived by hand (bond graph distances). The same
 * files were checked against GROMACS 2022.5 (double) once, term by term and exclusion by exclusion, with
 *     gmx_d grompp -f g.mdp -c c.gro -p FILE.top -o t.tpr -maxwarn 50   (g.mdp: cutoff-scheme = Verlet)
 *     gmx_d dump -s t.tpr
 * (include.top with GMXLIB=tests/data/top/incdir and define = -DFLEXIBLE -DHEAVY_ION -DHW_CHARGE=0.42, or none);
 * all matched to the 6 digits gmx dump prints. GROMACS is not needed to run this test.
 *
 * Each test also has a negative control: a plausible wrong answer (the other combination rule, a scaled pair
 * where the pair type must win, the overridden bond type, a funct 2 constraint counted as a bond, ...) that the
 * comparison must reject.
 */
#include "support/fs_test.h"

#include <stdio.h>
#include <string.h>

#include "forcefields/top_reader.h"

static fs_topology *load(const char *rel, const fs_top_options *opt)
{
    fs_topology *top = NULL;
    fs_error_clear();
    fs_status st = fs_top_read(fs_test_path(rel), opt, &top);
    if (st != FS_OK) fail_msg("%s: %s", rel, fs_error_message());
    return top;
}

static double lj_c6(const fs_topology *t, int a, int b)
{
    return t->c6[a * t->ntypes + b];
}
static double lj_c12(const fs_topology *t, int a, int b)
{
    return t->c12[a * t->ntypes + b];
}
static double c6_of(double sig, double eps)
{
    return 4.0 * eps * pow(sig, 6);
}
static double c12_of(double sig, double eps)
{
    return 4.0 * eps * pow(sig, 12);
}

static int type_index(const fs_topology *t, const char *name)
{
    for (int i = 0; i < t->ntypes; ++i)
        if (!strcmp(t->types[i].name, name)) return i;
    fail_msg("atom type %s not in the topology", name);
    return -1;
}

/* The excluded atoms of i as a list. */
static int excl_of(const fs_topology *t, int i, const int **list)
{
    *list = t->excl_list + t->excl_start[i];
    return t->excl_start[i + 1] - t->excl_start[i];
}

static void test_water_23k(void **state)
{
    (void)state;
    fs_topology *t = load("benchmarks/inputs/water-23k/topol.top", NULL);
    assert_int_equal(t->natoms, 23262);
    assert_int_equal(t->nmolecules, 7754);
    assert_int_equal(t->ntypes, 2);
    assert_int_equal(t->comb_rule, 3);
    assert_int_equal(t->gen_pairs, 1);
    fs_assert_close(t->fudge_lj, 0.5, 0, 0, "fudgeLJ");
    fs_assert_close(t->fudge_qq, 0.5, 0, 0, "fudgeQQ");
    assert_string_equal(t->title, "SPC/E water, 23,262 atoms");
    assert_string_equal(t->molecules[7753].name, "SOL");
    assert_int_equal(t->molecules[7753].first_atom, 23259);
    for (int i = 0; i < 6; ++i) {
        fs_assert_close(t->atoms[i].charge, i % 3 ? 0.4238 : -0.8476, 0, 1e-15, "SPC/E charge");
        fs_assert_close(t->atoms[i].mass, i % 3 ? 1.008 : 15.9994, 0, 1e-15, "SPC/E mass");
    }
    assert_string_equal(t->atoms[23261].name, "HW2");
    fs_assert_close(fs_topology_total_charge(t), 0.0, 0, 1e-9, "total charge");
    fs_assert_close(fs_topology_total_mass(t), 7754 * (15.9994 + 2 * 1.008), 1e-12, 0, "total mass");
    /* OW-OW from sigma = 0.316557 nm, epsilon = 0.650194 kJ/mol; HW has no LJ */
    int ow = type_index(t, "OW"), hw = type_index(t, "HW");
    double c6 = c6_of(3.16557e-01, 6.50194e-01), c12 = c12_of(3.16557e-01, 6.50194e-01);
    fs_assert_close(lj_c6(t, ow, ow), c6, 1e-14, 0, "C6 OW-OW");
    fs_assert_close(lj_c12(t, ow, ow), c12, 1e-14, 0, "C12 OW-OW");
    fs_assert_close(fs_topology_c6(t, 0, 3), c6, 1e-14, 0, "C6 atoms 0-3");
    fs_assert_close(lj_c6(t, ow, hw) + lj_c12(t, hw, hw) + lj_c6(t, hw, ow), 0.0, 0, 0, "HW LJ");
    fs_assert_close(c6, 0.0026171, 1e-4, 0, "C6 OW-OW (published SPC/E 0.0026171)");
    assert_false(fs_close(lj_c6(t, ow, ow), 3.16557e-01, 1e-3, 0)); /* negative: sigma taken as C6 (comb-rule 1) */
    /* settles and exclusions */
    assert_int_equal(t->settles.n, 7754);
    assert_int_equal(t->settles.data[7753].ow, 23259);
    assert_int_equal(t->settles.data[7753].hw2, 23261);
    fs_assert_close(t->settles.data[0].doh, 0.1, 0, 0, "doh");
    fs_assert_close(t->settles.data[0].dhh, 0.1633, 0, 0, "dhh");
    assert_int_equal(t->bonds.n + t->angles.n + t->pairs.n + t->constraints.n, 0);
    assert_int_equal(t->excl_start[t->natoms], 2 * 23262);
    const int *l;
    for (int i = 0; i < t->natoms; i += 7001) {
        int o = i - i % 3;
        assert_int_equal(excl_of(t, i, &l), 2);
        int k = 0;
        for (int j = o; j < o + 3; ++j)
            if (j != i) assert_int_equal(l[k++], j);
    }
    fs_topology_destroy(&t);
    assert_null(t);
}

static void test_comb_rule_1(void **state)
{
    (void)state;
    fs_topology *t = load("tests/data/top/comb1.top", NULL);
    assert_int_equal(t->comb_rule, 1);
    assert_int_equal(t->gen_pairs, 0);
    fs_assert_close(t->fudge_qq, 0.8333, 0, 0, "fudgeQQ");
    assert_int_equal(t->ntypes, 2); /* HA and UNUSED are not used */
    int ca = type_index(t, "CA"), oa = type_index(t, "OA");
    assert_int_equal(ca, 0); /* order of first use */
    assert_int_equal(t->types[oa].atomic_number, 8);
    fs_assert_close(lj_c6(t, ca, ca), 4.0e-3, 1e-15, 0, "C6 CA-CA");
    fs_assert_close(lj_c12(t, ca, ca), 9.0e-6, 1e-15, 0, "C12 CA-CA");
    fs_assert_close(lj_c6(t, oa, oa), 2.5e-3, 1e-15, 0, "C6 OA-OA");
    fs_assert_close(lj_c6(t, ca, oa), 3.0e-3, 1e-15, 0, "C6 CA-OA [nonbond_params]");
    fs_assert_close(lj_c12(t, oa, ca), 5.0e-6, 1e-15, 0, "C12 OA-CA [nonbond_params]");
    assert_false(fs_close(lj_c6(t, ca, oa), sqrt(4.0e-3 * 2.5e-3), 1e-3, 0)); /* negative: combination rule */
    /* atoms: charge and mass from the line, else from the type */
    fs_assert_close(t->atoms[0].charge, 0.25, 0, 0, "q1");
    fs_assert_close(t->atoms[1].charge, -0.05, 0, 0, "q2");
    fs_assert_close(t->atoms[1].mass, 12.011, 0, 0, "m2 from type");
    fs_assert_close(t->atoms[2].charge, -0.20, 0, 0, "q3 from type");
    fs_assert_close(t->atoms[4].mass, 16.5, 0, 0, "m5");
    assert_int_equal(t->atoms[7].molecule, 1);
    /* pairs: [pairtypes] unscaled (gen-pairs = no), explicit parameters, both molecules */
    assert_int_equal(t->pairs.n, 6);
    const fs_pair *p = t->pairs.data;
    assert_int_equal(p[0].ai, 0);
    assert_int_equal(p[0].aj, 3);
    fs_assert_close(p[0].c6, 2.2e-3, 1e-15, 0, "pair CA-CA C6");
    fs_assert_close(p[0].c12, 4.5e-6, 1e-15, 0, "pair CA-CA C12");
    fs_assert_close(p[1].c6, 1.5e-3, 1e-15, 0, "pair CA-OA C6");
    fs_assert_close(p[2].c6, 7.0e-4, 1e-15, 0, "explicit pair C6");
    fs_assert_close(p[2].c12, 8.0e-7, 1e-15, 0, "explicit pair C12");
    assert_int_equal(p[3].ai, 5);
    assert_int_equal(p[3].aj, 8);
    assert_false(fs_close(p[0].c6, 0.5 * 4.0e-3, 1e-3, 0)); /* negative: a generated, fudge-scaled pair */
    /* bonds and nrexcl 3 on the chain 1-2-3-4-5 */
    assert_int_equal(t->bonds.n, 8);
    fs_assert_close(t->bonds.data[4].b0, 0.153, 0, 0, "b0");
    fs_assert_close(t->bonds.data[4].kb, 250000.0, 0, 0, "kb");
    assert_int_equal(t->bonds.data[4].ai, 5);
    const int *l;
    assert_int_equal(excl_of(t, 0, &l), 3);
    assert_int_equal(l[2], 3);
    assert_int_equal(excl_of(t, 7, &l), 4);
    fs_topology_destroy(&t);
}

static void test_comb_rule_2_gen_pairs(void **state)
{
    (void)state;
    fs_topology *t = load("tests/data/top/comb2.top", NULL);
    assert_int_equal(t->ntypes, 3);
    int cb = type_index(t, "CB"), ob = type_index(t, "OB"), nb = type_index(t, "NB");
    double s_cb = 0.35, e_cb = 0.30, s_ob = 0.30, e_ob = 0.70, s_nb = 0.325, e_nb = 0.55;
    fs_assert_close(lj_c6(t, cb, cb), c6_of(s_cb, e_cb), 1e-14, 0, "C6 CB-CB");
    fs_assert_close(lj_c6(t, cb, ob), c6_of(0.5 * (s_cb + s_ob), sqrt(e_cb * e_ob)), 1e-14, 0, "C6 CB-OB");
    fs_assert_close(lj_c12(t, ob, cb), c12_of(0.5 * (s_cb + s_ob), sqrt(e_cb * e_ob)), 1e-14, 0, "C12 OB-CB");
    fs_assert_close(lj_c12(t, ob, nb), c12_of(0.5 * (s_ob + s_nb), sqrt(e_ob * e_nb)), 1e-14, 0, "C12 OB-NB");
    fs_assert_close(lj_c6(t, nb, cb), c6_of(0.34, 0.40), 1e-14, 0, "C6 NB-CB [nonbond_params]");
    assert_false(fs_close(lj_c6(t, cb, ob), c6_of(sqrt(s_cb * s_ob), sqrt(e_cb * e_ob)), 1e-6, 0)); /* rule 3 */
    assert_int_equal(t->pairs.n, 2);
    /* C1-N4: generated from the CB-NB override, times fudgeLJ; C2-O5: [pairtypes], unscaled */
    fs_assert_close(t->pairs.data[0].c6, 0.5 * c6_of(0.34, 0.40), 1e-14, 0, "generated pair C6");
    fs_assert_close(t->pairs.data[0].c12, 0.5 * c12_of(0.34, 0.40), 1e-14, 0, "generated pair C12");
    fs_assert_close(t->pairs.data[1].c6, c6_of(0.31, 0.20), 1e-14, 0, "pairtype C6");
    fs_assert_close(t->pairs.data[1].c12, c12_of(0.31, 0.20), 1e-14, 0, "pairtype C12");
    assert_false(fs_close(t->pairs.data[1].c6, 0.5 * c6_of(0.31, 0.20), 1e-3, 0)); /* negative: scaled */
    assert_false(fs_close(t->pairs.data[0].c6, 0.5 * c6_of(0.5 * (s_cb + s_nb), sqrt(e_cb * e_nb)), 1e-3, 0));
    fs_topology_destroy(&t);
}

static void test_comb_rule_3_negative_sigma(void **state)
{
    (void)state;
    fs_topology *t = load("tests/data/top/comb3.top", NULL);
    int cc = type_index(t, "CC"), oc = type_index(t, "OC"), xc = type_index(t, "XC");
    double s_cc = 0.35, e_cc = 0.276144, s_oc = 0.296, e_oc = 0.87864;
    fs_assert_close(lj_c6(t, cc, oc), c6_of(sqrt(s_cc * s_oc), sqrt(e_cc * e_oc)), 1e-14, 0, "C6 CC-OC");
    fs_assert_close(lj_c12(t, cc, oc), c12_of(sqrt(s_cc * s_oc), sqrt(e_cc * e_oc)), 1e-14, 0, "C12 CC-OC");
    assert_false(fs_close(lj_c6(t, cc, oc), c6_of(0.5 * (s_cc + s_oc), sqrt(e_cc * e_oc)), 1e-4, 0)); /* rule 2 */
    /* sigma < 0: C6 = 0 and C12 from |sigma|, also in combinations */
    fs_assert_close(lj_c6(t, xc, xc), 0.0, 0, 0, "C6 XC-XC");
    fs_assert_close(lj_c12(t, xc, xc), c12_of(0.2, 0.5), 1e-14, 0, "C12 XC-XC");
    fs_assert_close(lj_c6(t, cc, xc), 0.0, 0, 0, "C6 CC-XC");
    fs_assert_close(lj_c12(t, xc, cc), c12_of(sqrt(0.35 * 0.2), sqrt(e_cc * 0.5)), 1e-14, 0, "C12 XC-CC");
    assert_int_equal(t->pairs.n, 1);
    fs_assert_close(t->pairs.data[0].c6, 0.5 * c6_of(s_cc, e_cc), 1e-14, 0, "generated 1-4 C6");
    fs_topology_destroy(&t);
}

static void test_bonded_type_lookup(void **state)
{
    (void)state;
    fs_topology *t = load("tests/data/top/lookup.top", NULL);
    /* bonds: by bonded type in either direction; the redefined C C line; explicit parameters */
    assert_int_equal(t->bonds.n, 7);
    fs_assert_close(t->bonds.data[0].b0, 0.109, 0, 0, "H-C b0 (reversed)");
    fs_assert_close(t->bonds.data[0].kb, 284512.0, 0, 0, "H-C kb");
    fs_assert_close(t->bonds.data[3].b0, 0.154, 0, 0, "C-C b0 (redefined)");
    fs_assert_close(t->bonds.data[3].kb, 224000.0, 0, 0, "C-C kb (redefined)");
    assert_false(fs_close(t->bonds.data[3].b0, 0.153, 1e-6, 0)); /* negative: the overridden line */
    fs_assert_close(t->bonds.data[6].b0, 0.101, 0, 0, "explicit b0");
    /* angles and Urey-Bradley */
    assert_int_equal(t->angles.n, 4);
    assert_int_equal(t->ub_angles.n, 1);
    fs_assert_close(t->ub_angles.data[0].theta0, 109.5, 0, 0, "UB theta0");
    fs_assert_close(t->ub_angles.data[0].k, 300.0, 0, 0, "UB k");
    fs_assert_close(t->ub_angles.data[0].r13, 0.178, 0, 0, "UB r13");
    fs_assert_close(t->ub_angles.data[0].kub, 20000.0, 0, 0, "UB kub");
    fs_assert_close(t->angles.data[1].theta0, 120.4, 0, 0, "O-C-C theta0 (reversed)");
    /* proper dihedrals, in line order: H-C-C-O funct 1; X C N X reversed; the three-term H C C H block;
     * X C C X; explicit */
    static const double phi[] = {0.0, 180.0, 0.0, 180.0, 0.0, 0.0, 0.0};
    static const double k[] = {0.75, 10.0, 0.5, 0.25, 0.125, 1.0, 2.5};
    static const int mult[] = {3, 2, 3, 2, 1, 3, 3};
    assert_int_equal(t->propers.n, 7);
    for (int i = 0; i < 7; ++i) {
        fs_assert_close(t->propers.data[i].phi0, phi[i], 0, 0, "phi0");
        fs_assert_close(t->propers.data[i].k, k[i], 0, 0, "k");
        assert_int_equal(t->propers.data[i].mult, mult[i]);
    }
    assert_int_equal(t->propers.data[4].ai, 1);
    assert_int_equal(t->propers.data[4].al, 7);
    assert_false(fs_close(t->propers.data[2].k, 1.0, 1e-6, 0)); /* negative: the wildcard X C C X */
    /* impropers: two-atom form O X X N in both directions; X X C O; Ryckaert-Bellemans */
    assert_int_equal(t->impropers.n, 2);
    fs_assert_close(t->impropers.data[1].k, 40.0, 0, 0, "improper k (reversed)");
    assert_int_equal(t->per_impropers.n, 1);
    fs_assert_close(t->per_impropers.data[0].phi0, 180.0, 0, 0, "per. improper phi0");
    fs_assert_close(t->per_impropers.data[0].k, 4.6, 0, 0, "per. improper k");
    assert_int_equal(t->rbs.n, 1);
    fs_assert_close(t->rbs.data[0].c[3], -4.0, 0, 0, "RB C3");
    fs_assert_close(t->rbs.data[0].c[5], 0.0, 0, 0, "RB C5");
    fs_topology_destroy(&t);
}

static void test_preprocessor(void **state)
{
    (void)state;
    const char *dirs[] = {fs_test_path("tests/data/top/incdir")};
    fs_top_options opt = {dirs, 1, NULL, 0};
    fs_topology *t = load("tests/data/top/include.top", &opt);
    assert_int_equal(t->natoms, 7);
    assert_int_equal(t->settles.n, 2);
    assert_int_equal(t->bonds.n + t->angles.n, 0);
    fs_assert_close(t->atoms[1].charge, 0.41, 0, 0, "continued line");
    fs_assert_close(t->atoms[2].charge, 0.41, 0, 0, "HW_CHARGE default");
    fs_assert_close(t->atoms[6].charge, 1.0, 0, 0, "ion charge (#else)");
    fs_assert_close(t->atoms[6].mass, 22.99, 0, 0, "ion mass (#else)");
    assert_int_equal(t->excl_start[7], 12);
    fs_topology_destroy(&t);

    const char *defs[] = {"FLEXIBLE", "HEAVY_ION", "HW_CHARGE=0.42"};
    fs_top_options opt2 = {dirs, 1, defs, 3};
    t = load("tests/data/top/include.top", &opt2);
    assert_int_equal(t->settles.n, 0);
    assert_int_equal(t->bonds.n, 4);
    fs_assert_close(t->bonds.data[3].b0, 0.1, 0, 0, "macro b0");
    fs_assert_close(t->bonds.data[3].kb, 345000.0, 0, 0, "macro kb");
    assert_int_equal(t->angles.n, 2);
    fs_assert_close(t->angles.data[1].theta0, 109.47, 0, 0, "macro theta0");
    fs_assert_close(t->angles.data[1].k, 383.0, 0, 0, "macro k");
    fs_assert_close(t->atoms[5].charge, 0.42, 0, 0, "HW_CHARGE from the caller");
    fs_assert_close(t->atoms[6].charge, -1.0, 0, 0, "ion charge (#ifdef)");
    fs_assert_close(t->atoms[6].mass, 35.453, 0, 0, "ion mass (#ifdef)");
    assert_false(fs_close(t->atoms[5].charge, 0.41, 1e-6, 0)); /* negative: the file's default */
    fs_topology_destroy(&t);

    /* without the include directory, extra.itp cannot be found: an I/O error at the #include line */
    fs_error_clear();
    assert_int_equal(fs_top_read(fs_test_path("tests/data/top/include.top"), NULL, &t), FS_ERR_IO);
    assert_null(t);
    assert_non_null(strstr(fs_error_message(), "include.top:15:"));
}

/* Graph distances by Floyd-Warshall on the bonds of sub/chain_body.itp (0-based), as an independent reference. */
static void chain_distances(int d[7][7], int with_funct2)
{
    static const int edges[][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {1, 5}, {4, 6}, {0, 6}};
    int ne = with_funct2 ? 7 : 6;
    for (int i = 0; i < 7; ++i)
        for (int j = 0; j < 7; ++j) d[i][j] = i == j ? 0 : 1000;
    for (int e = 0; e < ne; ++e) d[edges[e][0]][edges[e][1]] = d[edges[e][1]][edges[e][0]] = 1;
    for (int k = 0; k < 7; ++k)
        for (int i = 0; i < 7; ++i)
            for (int j = 0; j < 7; ++j)
                if (d[i][k] + d[k][j] < d[i][j]) d[i][j] = d[i][k] + d[k][j];
}

static int same_set(const fs_topology *t, int first, int i, int d[7][7], int nrexcl)
{
    const int *l;
    int n = excl_of(t, first + i, &l), k = 0;
    for (int j = 0; j < 7; ++j) {
        if (j == i || d[i][j] > nrexcl) continue;
        if (k >= n || l[k] != first + j) return 0;
        k++;
    }
    return k == n;
}

static void test_exclusions_nrexcl(void **state)
{
    (void)state;
    fs_topology *t = load("tests/data/top/excl.top", NULL);
    assert_int_equal(t->natoms, 35);
    int d[7][7], d2[7][7];
    chain_distances(d, 0);
    chain_distances(d2, 1);
    /* CH0: nrexcl 0, only [ exclusions ] 1 7 6 */
    const int *l;
    assert_int_equal(excl_of(t, 0, &l), 2);
    assert_int_equal(l[0], 5);
    assert_int_equal(l[1], 6);
    assert_int_equal(excl_of(t, 1, &l), 0);
    assert_int_equal(excl_of(t, 5, &l), 1);
    /* CH1, CH2, CH3 (two copies) */
    static const int first[] = {7, 14, 21, 28}, nrexcl[] = {1, 2, 3, 3};
    for (int m = 0; m < 4; ++m)
        for (int i = 0; i < 7; ++i) assert_true(same_set(t, first[m], i, d, nrexcl[m]));
    /* nrexcl 2 for atom 1 by hand: atoms 2 (one bond), 3 and 6 (two bonds) */
    assert_int_equal(excl_of(t, 14, &l), 3);
    assert_int_equal(l[0], 15);
    assert_int_equal(l[1], 16);
    assert_int_equal(l[2], 19);
    /* negative control: with the funct 2 constraint 1-7 taken as a chemical bond the sets differ */
    int differs = 0;
    for (int i = 0; i < 7; ++i) differs |= !same_set(t, 21, i, d2, 3);
    assert_true(differs);
    fs_topology_destroy(&t);
}

typedef struct {
    const char *file;
    fs_status status;
    const char *where; /* "name:line:" that the message must contain */
} broken_case;

static void test_broken_topologies(void **state)
{
    (void)state;
    static const broken_case cases[] = {
        {"atoms_before_moleculetype.top", FS_ERR_PARSE, "atoms_before_moleculetype.top:6:"},
        {"unknown_moleculetype.top", FS_ERR_PARSE, "unknown_moleculetype.top:14:"},
        {"unknown_atomtype.top", FS_ERR_PARSE, "unknown_atomtype.top:10:"},
        {"bad_number.top", FS_ERR_PARSE, "bad_number.top:12:"},
        {"include_loop.top", FS_ERR_PARSE, "loop_b.itp:4:"},
        {"self_include.top", FS_ERR_PARSE, "self_include.top:4:"},
        {"unterminated_ifdef.top", FS_ERR_PARSE, "unterminated_ifdef.top:7:"},
        {"truncated.top", FS_ERR_PARSE, "truncated.top:10:"},
        {"truncated_continuation.top", FS_ERR_PARSE, "truncated_continuation.top:6:"},
        {"no_molecules.top", FS_ERR_PARSE, "no_molecules.top:12:"},
        {"missing_pairtype.top", FS_ERR_PARSE, "missing_pairtype.top:21:"},
        {"missing_bondtype.top", FS_ERR_PARSE, "missing_bondtype.top:12:"},
        {"atom_out_of_range.top", FS_ERR_PARSE, "atom_out_of_range.top:13:"},
        {"unknown_directive.top", FS_ERR_PARSE, "unknown_directive.top:4:"},
        {"stray_endif.top", FS_ERR_PARSE, "stray_endif.top:4:"},
        {"posres_active.top", FS_ERR_UNSUPPORTED, "posres_active.top:11:"},
        {"buckingham.top", FS_ERR_UNSUPPORTED, "buckingham.top:3:"},
        {"does_not_exist.top", FS_ERR_IO, "does_not_exist.top"},
    };
    char rel[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        snprintf(rel, sizeof rel, "tests/data/top/broken/%s", cases[i].file);
        fs_topology *t = (fs_topology *)&t; /* not NULL, to see that it is reset */
        fs_error_clear();
        fs_status st = fs_top_read(fs_test_path(rel), NULL, &t);
        if (st != cases[i].status || !strstr(fs_error_message(), cases[i].where))
            fail_msg("%s: status %s, message '%s' (expected %s at %s)", cases[i].file, fs_status_name(st),
                     fs_error_message(), fs_status_name(cases[i].status), cases[i].where);
        assert_null(t);
    }
    /* negative control: a good file gives none of these */
    fs_topology *t = load("tests/data/top/comb1.top", NULL);
    assert_non_null(t);
    fs_topology_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_water_23k),
        cmocka_unit_test(test_comb_rule_1),
        cmocka_unit_test(test_comb_rule_2_gen_pairs),
        cmocka_unit_test(test_comb_rule_3_negative_sigma),
        cmocka_unit_test(test_bonded_type_lookup),
        cmocka_unit_test(test_preprocessor),
        cmocka_unit_test(test_exclusions_nrexcl),
        cmocka_unit_test(test_broken_topologies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

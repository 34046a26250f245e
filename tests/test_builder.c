/*
 * test_builder.c — `ferrosolv build`: the shipped force-field molecules, the electrolyte recipe, the packer, the
 * written .gro/.top, the deck and the command.
 *
 * References are independent of the code under test: counts and box of 1 M LiPF6 in EC:DMC 1:1 (v/v) worked out by
 * hand below; distances checked by brute force over all pairs with the minimum image; the written files read back by
 * the GROMACS reader (fs_gromacs_load); the force-field files read by fs_top_read through a probe topology written
 * here. Every check has a negative control that must fail.
 */
#include "support/fs_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/io/gro.h"
#include "core/units.h"
#include "forcefields/gromacs_input.h"
#include "forcefields/top_reader.h"
#include "systems/build_deck.h"
#include "systems/electrolyte.h"
#include "systems/pack.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fs_test_builder_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name)
{
    static char buf[4][1024];
    static int next;
    char *b = buf[next];
    next = (next + 1) % 4;
    snprintf(b, sizeof buf[0], "%s/%s", tmpdir, name);
    return b;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* The shipped molecules                                                                                          */
/* ------------------------------------------------------------------------------------------------------------ */

static const struct {
    const char *stem, *name;
    int charge, natoms;
} shipped[] = {{"li", "LI", 1, 1},    {"pf6", "PF6", -1, 7}, {"tfsi", "TFSI", -1, 15},
               {"fsi", "FSI", -1, 9}, {"no3", "NO3", -1, 4}, {"ec", "EC", 0, 10},
               {"dmc", "DMC", 0, 12}, {"dme", "DME", 0, 16}, {"fec", "FEC", 0, 10}};

/* Reads one molecule (itp_path) on top of the shipped forcefield.itp with fs_top_read. */
static fs_topology *read_molecule(const char *itp_path, const char *name)
{
    char text[4096];
    snprintf(text, sizeof text, "#include \"%s\"\n#include \"%s\"\n[ system ]\nt\n[ molecules ]\n%s 1\n",
             fs_test_path("forcefields/data/forcefield.itp"), itp_path, name);
    write_text(tmp_path("probe.top"), text);
    fs_topology *top = NULL;
    if (fs_top_read(tmp_path("probe.top"), NULL, &top) != FS_OK) fail_msg("%s", fs_error_message());
    return top;
}

static int integer_charge(const fs_topology *t, int expected)
{
    return fabs(fs_topology_total_charge(t) - expected) < 1e-6;
}

/* Largest |bond length in the geometry - b0| over the topology's bonds. */
static double worst_bond(const fs_topology *t, const fs_state *s)
{
    double worst = 0;
    for (int b = 0; b < t->bonds.n; ++b) {
        const fs_bond *bd = &t->bonds.data[b];
        double d2 = 0;
        for (int k = 0; k < 3; ++k) d2 += pow(s->r[k][bd->ai] - s->r[k][bd->aj], 2);
        worst = fmax(worst, fabs(sqrt(d2) - bd->b0));
    }
    return worst;
}

static void test_forcefield_molecules(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof shipped / sizeof shipped[0]; ++k) {
        char itp[256], gro[256];
        snprintf(itp, sizeof itp, "forcefields/data/%s.itp", shipped[k].stem);
        snprintf(gro, sizeof gro, "forcefields/data/%s.gro", shipped[k].stem);
        fs_topology *t = read_molecule(fs_test_path(itp), shipped[k].name);
        assert_int_equal(t->natoms, shipped[k].natoms);
        if (!integer_charge(t, shipped[k].charge))
            fail_msg("%s: net charge %.9f, expected %d", shipped[k].stem, fs_topology_total_charge(t),
                     shipped[k].charge);
        fs_gro *g = NULL;
        if (fs_gro_read(fs_test_path(gro), &g) != FS_OK) fail_msg("%s", fs_error_message());
        assert_int_equal(g->natoms, t->natoms);
        for (int i = 0; i < t->natoms; ++i) assert_string_equal(g->atomname[i], t->atoms[i].name);
        /* the reference geometry is minimized: every bond within 0.005 nm of its b0 (measured: <= 0.003, TFSI) */
        double wb = worst_bond(t, g->state);
        if (wb > 0.005) fail_msg("%s.gro: a bond is %.4f nm off its equilibrium length", shipped[k].stem, wb);
        /* negative control: stretching one bond by 0.02 nm is seen */
        if (t->bonds.n > 0) {
            int i = t->bonds.data[0].ai, j = t->bonds.data[0].aj;
            double u[3], len = 0;
            for (int q = 0; q < 3; ++q) u[q] = g->state->r[q][j] - g->state->r[q][i], len += u[q] * u[q];
            for (int q = 0; q < 3; ++q) g->state->r[q][j] += 0.02 * u[q] / sqrt(len);
            assert_true(worst_bond(t, g->state) > 0.005);
        }
        fs_gro_destroy(&g);
        fs_topology_destroy(&t);
    }
    /* negative control: PF6 with one F charge changed by 0.01 is not an integer-charge ion */
    FILE *in = fopen(fs_test_path("forcefields/data/pf6.itp"), "r");
    assert_non_null(in);
    char line[1024], text[1 << 15] = "";
    int changed = 0;
    while (fgets(line, sizeof line, in)) {
        char *p = strstr(line, "-0.390000");
        if (p && !changed) memcpy(p, "-0.380000", 9), changed = 1;
        strncat(text, line, sizeof text - strlen(text) - 1);
    }
    fclose(in);
    assert_true(changed);
    write_text(tmp_path("pf6_bad.itp"), text);
    fs_topology *t = read_molecule(tmp_path("pf6_bad.itp"), "PF6");
    assert_false(integer_charge(t, -1));
    fs_assert_close(fs_topology_total_charge(t), -0.99, 0, 1e-9, "perturbed PF6 charge");
    fs_topology_destroy(&t);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* The recipe, by hand                                                                                            */
/* ------------------------------------------------------------------------------------------------------------ */

static fs_electrolyte *plan_deck(const char *rel, fs_build_deck *d)
{
    if (fs_build_deck_read(fs_test_path(rel), d) != FS_OK) fail_msg("%s", fs_error_message());
    fs_electrolyte *e = NULL;
    if (fs_electrolyte_plan(&d->spec, &e) != FS_OK) fail_msg("%s", fs_error_message());
    return e;
}

/*
 * 1 M LiPF6 in EC:DMC 1:1 (v/v), 100 solvent molecules, by hand:
 *   masses (sum of the .itp masses): EC C3H4O3 = 3(12.011) + 3(15.9994) + 4(1.008) = 88.0632; DMC C3H6O3 = 90.0792;
 *   Li 6.941; PF6 30.974 + 6(18.998) = 144.962.
 *   moles per volume part: EC 1.321 / 88.0632 = 0.0150006, DMC 1.063 / 90.0792 = 0.0118007 -> x_EC = 0.559696
 *   100 x: EC 55.97, DMC 44.03 -> floors 55 + 44 = 99, the one left goes to the larger remainder (EC): 56 + 44
 *   V_solv = (56 * 88.0632 / 1.321 + 44 * 90.0792 / 1.063) / 602.214076 nm^3 = 12.3906 nm^3
 *   LiPF6 adds 53.45 cm^3/mol = 0.0887558 nm^3 per pair; 1 M = 0.602214076 pairs/nm^3
 *   V = V_solv / (1 - 0.602214076 * 0.0887558) = 13.0902 nm^3 -> n = nint(0.602214076 * 13.0902) = nint(7.883) = 8
 *   box^3 = V_solv + 8 * 0.0887558 = 13.1006 nm^3 -> box 2.35738 nm; mass 10110.248 amu -> 1.28150 g/cm^3
 */
static void test_recipe_by_hand(void **state)
{
    (void)state;
    fs_build_deck d;
    fs_electrolyte *e = plan_deck("tests/data/builder/lipf6_ecdmc.ini", &d);
    const char *names[4] = {"LI", "PF6", "EC", "DMC"};
    const int counts[4] = {8, 8, 56, 44};
    assert_int_equal(e->nspecies, 4);
    for (int k = 0; k < 4; ++k) {
        assert_string_equal(e->species[k].name, names[k]);
        assert_int_equal(e->count[k], counts[k]);
    }
    double m_ec = 3 * 12.011 + 3 * 15.9994 + 4 * 1.008, m_dmc = 3 * 12.011 + 3 * 15.9994 + 6 * 1.008;
    double m_li = 6.941, m_pf6 = 30.974 + 6 * 18.998;
    fs_assert_close(e->species[2].mass, m_ec, 1e-12, 0, "EC mass");
    fs_assert_close(e->species[3].mass, m_dmc, 1e-12, 0, "DMC mass");
    double na = 602.214076, vsolv = (56 * m_ec / 1.321 + 44 * m_dmc / 1.063) / na, vpair = 53.45 / na;
    double vol = vsolv + 8 * vpair, mass = 8 * (m_li + m_pf6) + 56 * m_ec + 44 * m_dmc;
    fs_assert_close(vsolv, 12.3906, 0, 1e-4, "solvent volume");
    fs_assert_close(e->box, cbrt(vol), 1e-12, 0, "box edge");
    fs_assert_close(e->box, 2.35738, 0, 5e-6, "box edge (hand)");
    fs_assert_close(e->mass, mass, 1e-12, 0, "mass");
    fs_assert_close(e->density, 1.66053906660e-3 * mass / vol, 1e-12, 0, "density");
    fs_assert_close(e->density, 1.28150, 0, 1e-5, "density (hand)");
    fs_assert_close(e->molarity[0], 8 / (0.602214076 * vol), 1e-12, 0, "molarity in the box");
    assert_int_equal(e->natoms, 8 + 8 * 7 + 56 * 10 + 44 * 12);
    fs_assert_close(e->charge, 0.0, 0, 1e-9, "net charge");
    fs_electrolyte_destroy(&e);

    /* negative controls: the volume-to-mole conversion and the salt volume both change the answer */
    d.spec.ratio = FS_RATIO_MOLAR; /* 1:1 by moles -> 50 + 50 */
    assert_int_equal(fs_electrolyte_plan(&d.spec, &e), FS_OK);
    assert_int_equal(e->count[2], 50);
    assert_int_equal(e->count[3], 50);
    assert_int_not_equal(e->count[2], 56);
    fs_electrolyte_destroy(&e);
    d.spec.ratio = FS_RATIO_VOLUME;
    d.spec.salt[0].molar_volume = 1e-6; /* a salt without volume: V = 12.39 -> nint(7.46) = 7 pairs */
    assert_int_equal(fs_electrolyte_plan(&d.spec, &e), FS_OK);
    assert_int_equal(e->count[0], 7);
    fs_electrolyte_destroy(&e);
}

static int atoms_for(fs_electrolyte_spec sp, int n)
{
    sp.size = FS_SIZE_MOLECULES;
    sp.size_value = n;
    fs_electrolyte *e = NULL;
    if (fs_electrolyte_plan(&sp, &e) != FS_OK) fail_msg("%s", fs_error_message());
    int a = e->natoms;
    fs_electrolyte_destroy(&e);
    return a;
}

static void test_sizing_by_atoms_and_box(void **state)
{
    (void)state;
    fs_build_deck d;
    fs_electrolyte *e = plan_deck("tests/data/builder/user_molecule.ini", &d);
    /* atoms = 1500: the solvent count whose atom total is closest, its neighbours are farther */
    int n = 0;
    for (int k = 2; k < e->nspecies; ++k) n += e->count[k];
    int here = abs(e->natoms - 1500), below = abs(atoms_for(d.spec, n - 1) - 1500);
    int above = abs(atoms_for(d.spec, n + 1) - 1500);
    assert_true(here <= below && here <= above);
    assert_true(below != here || above != here); /* the neighbours really differ (the check can fail) */
    assert_string_equal(e->species[1].name, "TFSI");
    assert_string_equal(e->species[3].name, "DMC");
    assert_false(e->species[3].shipped);
    fs_electrolyte_destroy(&e);
    /* box = 3.1 nm: the box is exactly that */
    d.spec.size = FS_SIZE_BOX;
    d.spec.size_value = 3.1;
    assert_int_equal(fs_electrolyte_plan(&d.spec, &e), FS_OK);
    fs_assert_close(e->box, 3.1, 1e-12, 0, "box = 3.1");
    fs_assert_close(e->density, 1.66053906660e-3 * e->mass / (3.1 * 3.1 * 3.1), 1e-12, 0, "density in the given box");
    fs_electrolyte_destroy(&e);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Packing                                                                                                        */
/* ------------------------------------------------------------------------------------------------------------ */

/* Molecule index of every atom, in output order. */
static int *molecule_of_atoms(const fs_electrolyte *e)
{
    int *mol = malloc(sizeof(int) * (size_t)e->natoms), a = 0, m = 0;
    assert_non_null(mol);
    for (int k = 0; k < e->nspecies; ++k)
        for (int c = 0; c < e->count[k]; ++c, ++m)
            for (int i = 0; i < e->species[k].natoms; ++i) mol[a++] = m;
    return mol;
}

/* Brute force: the smallest minimum-image distance between atoms of different molecules. */
static double brute_min_distance(double *const r[3], const int *mol, int n, const fs_box *box)
{
    double best = INFINITY;
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j) {
            if (mol[i] == mol[j]) continue;
            double d[3] = {r[0][i] - r[0][j], r[1][i] - r[1][j], r[2][i] - r[2][j]};
            for (int k = 0; k < 3; ++k) d[k] -= box->len[k] * nearbyint(d[k] / box->len[k]);
            best = fmin(best, sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]));
        }
    return best;
}

/* Largest change of an intramolecular distance from the reference geometry. */
static double worst_internal(const fs_electrolyte *e, double *const r[3])
{
    double worst = 0;
    int f = 0;
    for (int k = 0; k < e->nspecies; ++k) {
        const fs_species *sp = &e->species[k];
        for (int c = 0; c < e->count[k]; ++c, f += sp->natoms)
            for (int a = 0; a < sp->natoms; ++a)
                for (int b = a + 1; b < sp->natoms; ++b) {
                    double d2 = 0, r2 = 0;
                    for (int q = 0; q < 3; ++q) {
                        d2 += pow(r[q][f + a] - r[q][f + b], 2);
                        r2 += pow(sp->x[3 * a + q] - sp->x[3 * b + q], 2);
                    }
                    worst = fmax(worst, fabs(sqrt(d2) - sqrt(r2)));
                }
    }
    return worst;
}

static void test_packing_tolerance_and_geometry(void **state)
{
    (void)state;
    fs_build_deck d;
    fs_electrolyte *e = plan_deck("tests/data/builder/lipf6_ecdmc.ini", &d);
    fs_state *s = NULL;
    fs_pack_report rep;
    if (fs_electrolyte_pack(e, &s, &rep) != FS_OK) fail_msg("%s", fs_error_message());
    int *mol = molecule_of_atoms(e);
    double dmin = brute_min_distance(s->r, mol, s->natoms, &s->box);
    if (!(dmin >= 0.2)) fail_msg("closest intermolecular pair %.6f nm < 0.2 nm", dmin);
    assert_true(dmin < 0.25); /* a liquid-density packing is tight: the bar is met, not far exceeded (0.2018) */
    double dcell, dc2;
    int ai, aj;
    assert_int_equal(fs_pack_min_distance(s->r, mol, s->natoms, &s->box, 1.0, &dcell, &ai, &aj), FS_OK);
    fs_assert_close(dcell, dmin, 1e-12, 0, "cell-list minimum distance = brute force");
    /* rigid molecules: rounding to 0.001 nm changes an internal distance by at most sqrt(3) * 0.001 nm */
    double wi = worst_internal(e, s->r);
    if (wi > 0.00174) fail_msg("an intramolecular distance changed by %.5f nm", wi);
    /* every coordinate sits on the 0.001 nm grid of the .gro file */
    for (int i = 0; i < s->natoms; ++i)
        for (int k = 0; k < 3; ++k) assert_true(fabs(s->r[k][i] * 1000 - nearbyint(s->r[k][i] * 1000)) < 1e-6);

    /* negative controls: an atom of molecule 2 moved to 0.1 nm from an atom of molecule 1 is caught by both checks,
     * and so is a distorted molecule */
    int i1 = 0, i2 = 0;
    while (mol[i2] != 1) ++i2;
    double keep[3] = {s->r[0][i2], s->r[1][i2], s->r[2][i2]};
    s->r[0][i2] = s->r[0][i1] + 0.1, s->r[1][i2] = s->r[1][i1], s->r[2][i2] = s->r[2][i1];
    assert_true(brute_min_distance(s->r, mol, s->natoms, &s->box) < 0.2);
    assert_int_equal(fs_pack_min_distance(s->r, mol, s->natoms, &s->box, 1.0, &dc2, &ai, &aj), FS_OK);
    fs_assert_close(dc2, 0.1, 1e-9, 0, "planted pair found");
    for (int k = 0; k < 3; ++k) s->r[k][i2] = keep[k];
    int last = s->natoms - 1; /* a DMC atom */
    s->r[2][last] += 0.05;
    assert_true(worst_internal(e, s->r) > 0.01);
    free(mol);
    fs_state_destroy(&s);
    fs_electrolyte_destroy(&e);
}

static void test_pack_reproducible(void **state)
{
    (void)state;
    fs_build_deck d;
    fs_electrolyte *e = plan_deck("tests/data/builder/lipf6_ecdmc.ini", &d);
    fs_state *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(fs_electrolyte_pack(e, &a, NULL), FS_OK);
    assert_int_equal(fs_electrolyte_pack(e, &b, NULL), FS_OK);
    e->spec.seed = 2;
    assert_int_equal(fs_electrolyte_pack(e, &c, NULL), FS_OK);
    int same = 1, moved = 0;
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < a->natoms; ++i) {
            same &= a->r[k][i] == b->r[k][i];
            moved += fabs(a->r[k][i] - c->r[k][i]) > 0.1;
        }
    assert_true(same);                  /* same seed: the same system, bit for bit */
    assert_true(moved > a->natoms / 2); /* another seed: another system (the comparison can fail) */
    fs_state_destroy(&a);
    fs_state_destroy(&b);
    fs_state_destroy(&c);
    fs_electrolyte_destroy(&e);
}

/* The packer alone: 3-atom rods in a box; then a box too full to pack. */
static void test_pack_limits(void **state)
{
    (void)state;
    const double rod[9] = {0, 0, 0, 0.1, 0, 0, 0.2, 0, 0};
    fs_pack_template t = {3, rod};
    enum { N = 60 };
    int tmpl[N] = {0};
    fs_state *s = NULL;
    assert_int_equal(fs_state_create(3 * N, 3 * N, &s), FS_OK);
    fs_pack_options opt = {
        .box = {2.0, 2.0, 2.0}, .tolerance = 0.3, .seed = 5, .max_attempts = 1000, .relax_steps = 10000, .grid = 0.0};
    fs_pack_report rep;
    if (fs_pack(&t, 1, tmpl, N, &opt, s->r, &rep) != FS_OK) fail_msg("%s", fs_error_message());
    int mol[3 * N];
    for (int i = 0; i < 3 * N; ++i) mol[i] = i / 3;
    fs_box box = fs_box_make(2.0, 2.0, 2.0);
    assert_true(brute_min_distance(s->r, mol, 3 * N, &box) >= 0.3);
    /* negative control: 4x as many rods cannot all be 0.3 nm apart in 8 nm^3 (each rod excludes about 0.028 nm^3 of
     * 0.15 nm spheres, 240 rods a volume fraction 0.85, beyond random close packing): a clear error */
    fs_state *big = NULL;
    int tmpl4[4 * N] = {0};
    assert_int_equal(fs_state_create(12 * N, 12 * N, &big), FS_OK);
    opt.max_attempts = 50;
    opt.relax_steps = 300;
    assert_int_equal(fs_pack(&t, 1, tmpl4, 4 * N, &opt, big->r, &rep), FS_ERR_INVALID);
    assert_non_null(strstr(fs_error_message(), "lower the density"));
    opt.tolerance = 1.5; /* more than half the box */
    assert_int_equal(fs_pack(&t, 1, tmpl, N, &opt, s->r, &rep), FS_ERR_INVALID);
    fs_state_destroy(&s);
    fs_state_destroy(&big);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Writing, reading back, charge scaling                                                                          */
/* ------------------------------------------------------------------------------------------------------------ */

static void load_written(const char *top, const char *gro, fs_topology **t, fs_state **s)
{
    fs_mdp mdp;
    fs_mdp_init(&mdp);
    if (fs_gromacs_load(top, gro, &mdp, NULL, 0, t, s) != FS_OK) fail_msg("%s", fs_error_message());
}

static void test_write_and_load(void **state)
{
    (void)state;
    fs_build_deck d;
    fs_electrolyte *e = plan_deck("tests/data/builder/lipf6_ecdmc.ini", &d);
    fs_state *s = NULL;
    assert_int_equal(fs_electrolyte_pack(e, &s, NULL), FS_OK);
    if (fs_electrolyte_write(e, s, tmp_path("sys.gro"), tmp_path("sys.top"), NULL) != FS_OK)
        fail_msg("%s", fs_error_message());
    assert_int_equal(access(tmp_path("sys_ff/forcefield.itp"), R_OK), 0);
    fs_topology *t = NULL;
    fs_state *back = NULL;
    load_written(tmp_path("sys.top"), tmp_path("sys.gro"), &t, &back);
    assert_int_equal(t->natoms, e->natoms);
    assert_int_equal(back->natoms, e->natoms);
    assert_int_equal(t->nmolecules, 116);
    fs_assert_close(fs_topology_total_charge(t), 0.0, 0, 1e-9, "net charge of the written system");
    const char *order[4] = {"LI", "PF6", "EC", "DMC"};
    for (int m = 0, k = 0, c = 0; m < t->nmolecules; ++m, ++c) {
        while (c == e->count[k]) ++k, c = 0;
        assert_string_equal(t->molecules[m].name, order[k]);
    }
    for (int k = 0; k < 3; ++k) fs_assert_close(back->box.len[k], e->box, 0, 1e-5, "box read back");
    double worst = 0;
    for (int k = 0; k < 3; ++k)
        for (int i = 0; i < s->natoms; ++i) worst = fmax(worst, fabs(back->r[k][i] - s->r[k][i]));
    assert_true(worst < 1e-9); /* the packer's grid is the file's resolution */
    int *mol = molecule_of_atoms(e);
    assert_true(brute_min_distance(back->r, mol, back->natoms, &back->box) >= 0.2);
    free(mol);
    fs_topology_destroy(&t);
    fs_state_destroy(&back);

    /* negative control: the same topology with one atom fewer in the .gro is refused */
    FILE *in = fopen(tmp_path("sys.gro"), "r"), *out = fopen(tmp_path("short.gro"), "w");
    assert_non_null(in);
    assert_non_null(out);
    char line[256];
    int ln = 0;
    while (fgets(line, sizeof line, in)) {
        ++ln;
        if (ln == 2) snprintf(line, sizeof line, "%d\n", e->natoms - 1);
        if (ln == 3) continue; /* drop the first atom */
        fputs(line, out);
    }
    fclose(in);
    fclose(out);
    fs_mdp mdp;
    fs_mdp_init(&mdp);
    assert_int_not_equal(fs_gromacs_load(tmp_path("sys.top"), tmp_path("short.gro"), &mdp, NULL, 0, &t, &back), FS_OK);
    fs_state_destroy(&s);
    fs_electrolyte_destroy(&e);
}

static void test_charge_scaling(void **state)
{
    (void)state;
    fs_build_deck d;
    fs_electrolyte *e = plan_deck("tests/data/builder/lipf6_ecdmc.ini", &d);
    fs_state *s = NULL;
    assert_int_equal(fs_electrolyte_pack(e, &s, NULL), FS_OK);
    assert_int_equal(fs_electrolyte_write(e, s, tmp_path("u.gro"), tmp_path("u.top"), NULL), FS_OK);
    e->spec.charge_scale = 0.8;
    assert_int_equal(fs_electrolyte_write(e, s, tmp_path("q.gro"), tmp_path("q.top"), "q_itp"), FS_OK);
    fs_topology *tu = NULL, *tq = NULL;
    fs_state *su = NULL, *sq = NULL;
    load_written(tmp_path("u.top"), tmp_path("u.gro"), &tu, &su);
    load_written(tmp_path("q.top"), tmp_path("q.gro"), &tq, &sq);
    assert_int_equal(tu->natoms, tq->natoms);
    int ions = e->count[0] + e->count[1] * 7, scaled = 0;
    for (int i = 0; i < tu->natoms; ++i) {
        double qu = tu->atoms[i].charge, qq = tq->atoms[i].charge;
        if (i < ions) { /* Li and PF6 atoms come first */
            fs_assert_close(qq, 0.8 * qu, 1e-9, 1e-9, "scaled ion charge");
            scaled += fabs(qq - qu) > 1e-3;
        } else {
            fs_assert_close(qq, qu, 0, 0, "solvent charge untouched");
        }
    }
    assert_int_equal(scaled, ions); /* every ion atom changed (the comparison can fail) */
    fs_assert_close(fs_topology_total_charge(tq), 0.0, 0, 1e-9, "scaled system stays neutral");
    fs_assert_close(tu->atoms[0].charge, 1.0, 0, 1e-12, "Li+ unscaled");
    fs_assert_close(tq->atoms[0].charge, 0.8, 0, 1e-12, "Li+ scaled");
    fs_topology_destroy(&tu);
    fs_topology_destroy(&tq);
    fs_state_destroy(&su);
    fs_state_destroy(&sq);
    fs_state_destroy(&s);
    fs_electrolyte_destroy(&e);
}

static void test_user_molecule(void **state)
{
    (void)state;
    fs_build_deck d;
    fs_electrolyte *e = plan_deck("tests/data/builder/user_molecule.ini", &d);
    fs_state *s = NULL;
    if (fs_electrolyte_pack(e, &s, NULL) != FS_OK) fail_msg("%s", fs_error_message());
    assert_int_equal(fs_electrolyte_write(e, s, tmp_path("user.gro"), tmp_path("user.top"), d.itp_dir), FS_OK);
    assert_int_equal(access(tmp_path("user_itp/tfsi.itp"), R_OK), 0);
    assert_int_not_equal(access(tmp_path("user_itp/dmc.itp"), R_OK), 0); /* the user's file is not copied */
    fs_topology *t = NULL;
    fs_state *back = NULL;
    load_written(tmp_path("user.top"), tmp_path("user.gro"), &t, &back);
    assert_int_equal(t->natoms, e->natoms);
    fs_assert_close(fs_topology_total_charge(t), 0.0, 0, 1e-9, "net charge");
    fs_assert_close(t->atoms[0].charge, 0.8, 0, 1e-12, "Li+ scaled by the deck's charge-scale");
    fs_topology_destroy(&t);
    fs_state_destroy(&back);
    fs_state_destroy(&s);
    fs_electrolyte_destroy(&e);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Decks and the command                                                                                          */
/* ------------------------------------------------------------------------------------------------------------ */

static void expect_bad(const char *deck, const char *where, const char *needle)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/builder/%s", deck);
    fs_build_deck d;
    fs_status st = fs_build_deck_read(fs_test_path(rel), &d);
    if (st == FS_OK) {
        fs_electrolyte *e = NULL;
        st = fs_electrolyte_plan(&d.spec, &e);
        fs_electrolyte_destroy(&e);
    }
    if (st == FS_OK) fail_msg("%s was accepted", deck);
    const char *msg = fs_error_message();
    if ((where && !strstr(msg, where)) || !strstr(msg, needle))
        fail_msg("%s: message '%s' lacks '%s' / '%s'", deck, msg, where ? where : "", needle);
}

static void test_bad_decks(void **state)
{
    (void)state;
    expect_bad("unknown_salt.ini", "unknown_salt.ini:2:", "unknown salt 'LiClO4'");
    expect_bad("negative_molarity.ini", "negative_molarity.ini:3:", "molarity '-1.0' is not a positive number");
    expect_bad("unknown_key.ini", "unknown_key.ini:6:", "unknown key 'temperature'");
    expect_bad("unknown_solvent.ini", "unknown_solvent.ini:4:", "unknown solvent 'PC'");
    expect_bad("two_sizes.ini", "two_sizes.ini:6:", "only one of molecules, atoms and box");
    expect_bad("ratio_count.ini", "ratio_count.ini:5:", "3 ratio parts for 2 solvents");
    expect_bad("charged_solvent.ini", NULL, "solvents must be neutral");
    /* negative control: the good deck passes the same path */
    fs_build_deck d;
    assert_int_equal(fs_build_deck_read(fs_test_path("tests/data/builder/lipf6_ecdmc.ini"), &d), FS_OK);
    assert_int_equal(d.spec.nsalts, 1);
    fs_assert_close(d.spec.salt[0].molarity, 1.0, 0, 0, "molarity");
    assert_string_equal(d.spec.solvent[1].name, "DMC");
    assert_non_null(strstr(d.gro, "tests/data/builder/system.gro")); /* relative to the deck */
}

static char output[1 << 16];

static int run(const char *dir, const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, FS_BINARY, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(output, 1, sizeof output - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_command(void **state)
{
    (void)state;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/deck.ini'", fs_test_path("tests/data/builder/lipf6_ecdmc.ini"), tmpdir);
    assert_int_equal(system(cmd), 0);
    int rc = run(tmpdir, "build deck.ini");
    if (rc != 0) fail_msg("ferrosolv build exited %d:\n%s", rc, output);
    const char *names[4] = {"LI", "PF6", "EC", "DMC"};
    const int counts[4] = {8, 8, 56, 44};
    for (int k = 0; k < 4; ++k) {
        char needle[64];
        snprintf(needle, sizeof needle, "%-8s %9d", names[k], counts[k]);
        if (!strstr(output, needle)) fail_msg("output lacks '%s':\n%s", needle, output);
    }
    const char *needles[] = {"2.35738 x 2.35738 x 2.35738 nm", "1.2815 g/cm^3", "net charge    0.000000 e",
                             "min distance  0.2"};
    for (size_t k = 0; k < sizeof needles / sizeof needles[0]; ++k)
        if (!strstr(output, needles[k])) fail_msg("output lacks '%s':\n%s", needles[k], output);
    assert_int_equal(access(tmp_path("system.top"), R_OK), 0);
    assert_int_equal(access(tmp_path("system_ff/pf6.itp"), R_OK), 0);
    /* negative controls: a bad deck exits 2 naming its line; no deck is a usage error */
    rc = run(FS_SOURCE_DIR, "build tests/data/builder/unknown_key.ini");
    assert_int_equal(rc, 2);
    assert_non_null(strstr(output, "unknown_key.ini:6:"));
    assert_int_equal(run(FS_SOURCE_DIR, "build"), 2);
    assert_int_equal(run(FS_SOURCE_DIR, "build --help"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forcefield_molecules),
        cmocka_unit_test(test_recipe_by_hand),
        cmocka_unit_test(test_sizing_by_atoms_and_box),
        cmocka_unit_test(test_packing_tolerance_and_geometry),
        cmocka_unit_test(test_pack_reproducible),
        cmocka_unit_test(test_pack_limits),
        cmocka_unit_test(test_write_and_load),
        cmocka_unit_test(test_charge_scaling),
        cmocka_unit_test(test_user_molecule),
        cmocka_unit_test(test_bad_decks),
        cmocka_unit_test(test_command),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

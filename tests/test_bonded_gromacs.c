/*
 * test_bonded_gromacs.c — the bonded terms of the CPU reference against GROMACS itself.
 *
 * The two made-up systems in tests/data/bonded/ (invented molecules exercising bonded/angle/dihedral type look-ups
 * with wildcards, Urey-Bradley, dihedral functs 1, 2, 3, 4 and 9, several copies broken across the box) are read
 * through the topology reader, and each bonded energy term is compared with gmx_d's value stored in
 * tests/data/gromacs_reference/bonded-<variant>.ref (whose header holds the exact GROMACS commands), within
 * 1e-5 |E| + 1e-4 kJ/mol. Every bonded term must be present and non-trivial in the references.
 * Negative controls: scaling every force constant of one term by 1.01, or changing the multiplicity of one proper
 * dihedral, must break the agreement for that term.
 * (The full-system comparison, non-bonded terms included, is test_gromacs_agreement.c.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu/bonded.h"
#include "support/fs_test.h"

/* Per-term bonded energies of the whole system. */
static void bonded_energies(const fs_topology *top, const fs_state *st, double term[FS_TERM_COUNT])
{
    fs_accum acc;
    memset(&acc, 0, sizeof acc);
    for (int x = 0; x < 3; ++x) {
        acc.f[x] = calloc((size_t)top->natoms, sizeof(double));
        assert_non_null(acc.f[x]);
    }
    if (fs_cpu_bonded(top, &st->box, st->r, &acc) != FS_OK) fail_msg("fs_cpu_bonded: %s", fs_error_message());
    memcpy(term, acc.term, sizeof acc.term);
    for (int x = 0; x < 3; ++x) free(acc.f[x]);
}

typedef struct {
    const char *gmx_name;
    fs_term term;
} term_name;

static const term_name gmx_bonded_names[] = {
    {"Bond", FS_TERM_BOND},
    {"Angle", FS_TERM_ANGLE},
    {"U-B", FS_TERM_UB},
    {"Proper Dih.", FS_TERM_PROPER_DIH},
    {"Ryckaert-Bell.", FS_TERM_RB},
    {"Improper Dih.", FS_TERM_IMPROPER_DIH},
    {"Per. Imp. Dih.", FS_TERM_PER_IMP_DIH},
};
#define N_GMX_BONDED ((int)(sizeof gmx_bonded_names / sizeof gmx_bonded_names[0]))

typedef struct {
    double value[N_GMX_BONDED];
    int present[N_GMX_BONDED];
    char top[1024], gro[1024];
} ref_values;

static void read_ref(const char *rel, ref_values *ref)
{
    memset(ref, 0, sizeof *ref);
    FILE *f = fopen(fs_test_path(rel), "r");
    if (!f) fail_msg("cannot open %s", rel);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "#files\t", 7) == 0) {
            char *top = line + 7, *gro = strchr(top, '\t');
            assert_non_null(gro);
            *gro++ = '\0';
            char *mdp = strchr(gro, '\t');
            if (mdp) *mdp = '\0';
            snprintf(ref->top, sizeof ref->top, "%s", top);
            snprintf(ref->gro, sizeof ref->gro, "%s", gro);
            continue;
        }
        if (line[0] == '#' || line[0] == '\0') continue;
        char *tab = strchr(line, '\t');
        if (!tab) fail_msg("%s: malformed line '%s'", rel, line);
        *tab = '\0';
        for (int q = 0; q < N_GMX_BONDED; ++q)
            if (strcmp(line, gmx_bonded_names[q].gmx_name) == 0) {
                ref->value[q] = strtod(tab + 1, NULL);
                ref->present[q] = 1;
            }
    }
    fclose(f);
    assert_true(ref->top[0] && ref->gro[0]);
}

/* |E - E_gmx| <= 1e-5 |E_gmx| + 1e-4 kJ/mol */
#define GMX_REL 1e-5
#define GMX_ABS 1e-4

/* Multiplies every force constant of the list behind term t by f. */
static void scale_constants(fs_topology *top, fs_term t, double f)
{
    switch (t) {
    case FS_TERM_BOND:
        for (int i = 0; i < top->bonds.n; ++i) top->bonds.data[i].kb *= f;
        break;
    case FS_TERM_ANGLE:
        for (int i = 0; i < top->angles.n; ++i) top->angles.data[i].k *= f;
        break;
    case FS_TERM_UB:
        for (int i = 0; i < top->ub_angles.n; ++i) {
            top->ub_angles.data[i].k *= f;
            top->ub_angles.data[i].kub *= f;
        }
        break;
    case FS_TERM_PROPER_DIH:
        for (int i = 0; i < top->propers.n; ++i) top->propers.data[i].k *= f;
        break;
    case FS_TERM_PER_IMP_DIH:
        for (int i = 0; i < top->per_impropers.n; ++i) top->per_impropers.data[i].k *= f;
        break;
    case FS_TERM_IMPROPER_DIH:
        for (int i = 0; i < top->impropers.n; ++i) top->impropers.data[i].k *= f;
        break;
    case FS_TERM_RB:
        for (int i = 0; i < top->rbs.n; ++i)
            for (int n = 0; n < 6; ++n) top->rbs.data[i].c[n] *= f;
        break;
    default:
        fail_msg("not a bonded term");
    }
}

static void compare_with_gromacs(const char *ref_rel)
{
    ref_values ref;
    read_ref(ref_rel, &ref);
    fs_topology *top = NULL;
    fs_state *st = NULL;
    fs_test_load(ref.top, ref.gro, &top, &st);

    /* The number of interactions of each kind, as in gmx_d dump of the .tpr (both variants: 3 MLA + 4 MLB); a
     * mismatch here points at the reader's look-ups rather than at the kernels. */
    assert_int_equal(top->natoms, 68);
    assert_int_equal(top->bonds.n, 58);
    assert_int_equal(top->angles.n, 39);
    assert_int_equal(top->ub_angles.n, 43);
    assert_int_equal(top->propers.n, 67); /* funct 9 types with 2 and 3 lines count once per term */
    assert_int_equal(top->rbs.n, 30);
    assert_int_equal(top->impropers.n, 7);
    assert_int_equal(top->per_impropers.n, 7);
    assert_int_equal(top->constraints.n, 3);
    assert_int_equal(top->pairs.n, 68);

    double term[FS_TERM_COUNT];
    bonded_energies(top, st, term);
    for (int q = 0; q < N_GMX_BONDED; ++q) {
        /* the made-up systems use every bonded term, so GROMACS prints them all */
        if (!ref.present[q]) fail_msg("%s: no '%s' line", ref_rel, gmx_bonded_names[q].gmx_name);
        double ours = term[gmx_bonded_names[q].term];
        print_message("%-16s ours %18.10f  gmx_d %18.10f  diff %.2e\n", gmx_bonded_names[q].gmx_name, ours,
                      ref.value[q], ours - ref.value[q]);
        fs_assert_close(ours, ref.value[q], GMX_REL, GMX_ABS, gmx_bonded_names[q].gmx_name);
    }

    /* negative controls: every force constant of one list scaled by 1.01 must show in that term */
    for (int q = 0; q < N_GMX_BONDED; ++q) {
        scale_constants(top, gmx_bonded_names[q].term, 1.01);
        double t2[FS_TERM_COUNT];
        bonded_energies(top, st, t2);
        scale_constants(top, gmx_bonded_names[q].term, 1.0 / 1.01);
        assert_false(fs_close(t2[gmx_bonded_names[q].term], ref.value[q], GMX_REL, GMX_ABS));
    }
    /* and the wrong multiplicity of one proper dihedral */
    top->propers.data[0].mult += 1;
    double t3[FS_TERM_COUNT];
    bonded_energies(top, st, t3);
    top->propers.data[0].mult -= 1;
    assert_true(gmx_bonded_names[3].term == FS_TERM_PROPER_DIH);
    assert_false(fs_close(t3[FS_TERM_PROPER_DIH], ref.value[3], GMX_REL, GMX_ABS));

    fs_state_destroy(&st);
    fs_topology_destroy(&top);
}

static void test_gromacs_variant_a(void **state)
{
    (void)state;
    compare_with_gromacs("tests/data/gromacs_reference/bonded-a.ref");
}

static void test_gromacs_variant_b(void **state)
{
    (void)state;
    compare_with_gromacs("tests/data/gromacs_reference/bonded-b.ref");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gromacs_variant_a),
        cmocka_unit_test(test_gromacs_variant_b),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_mdp.c — the .mdp reader: values land in the right fields, errors name file:line.
 */
#include "support/fs_test.h"

#include <string.h>

#include "forcefields/mdp.h"

static void test_defaults_are_gromacs(void **state)
{
    (void)state;
    fs_mdp m;
    fs_mdp_init(&m);
    assert_int_equal(m.force.coulombtype, FS_COUL_PME);
    assert_true(m.force.rcoulomb == 1.0 && m.force.rvdw == 1.0);
    assert_true(m.force.fourierspacing == 0.12);
    assert_int_equal(m.force.pme_order, 4);
    assert_true(m.force.ewald_rtol == 1e-5);
    assert_int_equal(m.force.dispcorr, FS_DISPCORR_NO);
    assert_int_equal(m.force.vdw_modifier, FS_MOD_POTENTIAL_SHIFT);
    assert_int_equal(m.constraints, FS_CONSTRAIN_NONE);
}

static void test_reads_energy_keys_and_notes_the_rest(void **state)
{
    (void)state;
    fs_mdp m;
    fs_mdp_init(&m);
    char notes[2048] = "";
    fs_status st = fs_mdp_read(fs_test_path("tests/data/mdp/good.mdp"), &m, notes, sizeof notes);
    if (st != FS_OK) fail_msg("%s", fs_error_message());
    assert_true(m.force.rcoulomb == 1.2);
    assert_true(m.force.rvdw == 1.1);
    assert_true(m.force.fourierspacing == 0.10);
    assert_int_equal(m.force.fourier_n[2], 60);
    assert_int_equal(m.force.fourier_n[0], 0);
    assert_int_equal(m.force.pme_order, 6);
    assert_true(m.force.ewald_rtol == 1e-6);
    assert_int_equal(m.force.dispcorr, FS_DISPCORR_ENERPRES);
    assert_int_equal(m.force.vdw_modifier, FS_MOD_NONE);
    assert_int_equal(m.force.coulomb_modifier, FS_MOD_POTENTIAL_SHIFT);
    assert_int_equal(m.constraints, FS_CONSTRAIN_H_BONDS);
    /* integrator and dt do not change energies: noted with file:line, not refused */
    assert_non_null(strstr(notes, "good.mdp:2: ignoring 'integrator'"));
    assert_non_null(strstr(notes, "good.mdp:3: ignoring 'dt'"));
    assert_null(strstr(notes, "rcoulomb"));

    char storage[sizeof m.define];
    const char *sym[8];
    int n = fs_mdp_defines(&m, storage, sym, 8);
    assert_int_equal(n, 2);
    assert_string_equal(sym[0], "FLEXIBLE");
    assert_string_equal(sym[1], "POSRES_FC=500");
}

static void expect_error(const char *rel, fs_status code, const char *where)
{
    fs_mdp m;
    fs_mdp_init(&m);
    fs_status st = fs_mdp_read(fs_test_path(rel), &m, NULL, 0);
    assert_int_equal(st, code);
    if (!strstr(fs_error_message(), where)) fail_msg("message '%s' lacks '%s'", fs_error_message(), where);
}

static void test_errors_name_file_and_line(void **state)
{
    (void)state;
    expect_error("tests/data/mdp/bad_number.mdp", FS_ERR_INVALID, "bad_number.mdp:3:");
    expect_error("tests/data/mdp/unsupported.mdp", FS_ERR_UNSUPPORTED, "unsupported.mdp:3:");
    expect_error("tests/data/mdp/no_equals.mdp", FS_ERR_PARSE, "no_equals.mdp:2:");
    expect_error("tests/data/mdp/does-not-exist.mdp", FS_ERR_IO, "does-not-exist.mdp");
    /* negative control: a good file does not produce an error */
    fs_mdp m;
    fs_mdp_init(&m);
    assert_int_equal(fs_mdp_read(fs_test_path("tests/data/mdp/good.mdp"), &m, NULL, 0), FS_OK);
}

static void test_set_validates_ranges(void **state)
{
    (void)state;
    fs_mdp m;
    fs_mdp_init(&m);
    int note = 0;
    assert_int_equal(fs_mdp_set(&m, "pme-order", "2", "x", &note), FS_ERR_INVALID);
    assert_int_equal(fs_mdp_set(&m, "pme_order", "5", "x", &note), FS_OK);
    assert_int_equal(m.force.pme_order, 5);
    assert_int_equal(fs_mdp_set(&m, "rcoulomb", "-1", "x", &note), FS_ERR_INVALID);
    assert_int_equal(fs_mdp_set(&m, "rcoulomb", "1.0nm", "x", &note), FS_ERR_INVALID);
    assert_int_equal(fs_mdp_set(&m, "DispCorr", "AllEnerPres", "x", &note), FS_ERR_UNSUPPORTED);
    assert_int_equal(fs_mdp_set(&m, "cutoff-scheme", "group", "x", &note), FS_ERR_UNSUPPORTED);
    assert_int_equal(fs_mdp_set(&m, "electric-field-x", "1 0.5 0 0", "x", &note), FS_ERR_UNSUPPORTED);
    assert_int_equal(fs_mdp_set(&m, "tcoupl", "v-rescale", "x", &note), FS_OK);
    assert_int_equal(note, 1);
    assert_int_equal(fs_mdp_set(&m, "COULOMBTYPE", "ewald", "x", &note), FS_OK);
    assert_int_equal(note, 0);
    assert_int_equal(m.force.coulombtype, FS_COUL_EWALD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_gromacs),
        cmocka_unit_test(test_reads_energy_keys_and_notes_the_rest),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_set_validates_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

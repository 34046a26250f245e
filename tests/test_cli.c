/*
 * test_cli.c — the `ferrosolv` program as a user meets it: exit codes, messages naming file:line, output.
 *
 * Runs the built binary (FS_BINARY) through the shell and inspects its combined output and exit status:
 * 0 success, 2 bad input or usage.
 */
#include "support/fs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char output[1 << 16];

/* Runs `ferrosolv <args>` with stderr merged into stdout; returns the exit status. */
static int run(const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", FS_SOURCE_DIR, FS_BINARY, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(output, 1, sizeof output - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect(const char *args, int code, const char *needle)
{
    int rc = run(args);
    if (rc != code) fail_msg("`ferrosolv %s` exited %d, expected %d; output:\n%s", args, rc, code, output);
    if (needle && !strstr(output, needle)) fail_msg("`ferrosolv %s` output lacks '%s':\n%s", args, needle, output);
}

static void test_usage(void **state)
{
    (void)state;
    expect("", 2, "usage: ferrosolv <command>");
    expect("--help", 0, "energy");
    expect("frobnicate", 2, "unknown command 'frobnicate'");
    expect("energy", 2, "-c conf.gro and -p topol.top are required");
    expect("energy --help", 0, "--KEY VALUE");
    expect("energy -c tests/data/cli/water.gro -p", 2, "needs a value");
    expect("energy -c tests/data/cli/water.gro -p tests/data/cli/water.top --no-such-key 1", 2,
           "unknown option '--no-such-key'");
}

static void test_bad_input_names_the_file(void **state)
{
    (void)state;
    expect("energy -c tests/data/cli/missing.gro -p tests/data/cli/water.top", 2, "missing.gro");
    expect("energy -c tests/data/cli/short.gro -p tests/data/cli/water.top", 2, "short.gro has 2 atoms");
    expect("energy -c tests/data/cli/water.gro -p tests/data/cli/water.top -f tests/data/mdp/bad_number.mdp", 2,
           "bad_number.mdp:3:");
    expect("energy -c tests/data/cli/water.gro -p tests/data/cli/water.top --rcoulomb -3", 2, "option --rcoulomb");
}

static void test_energy_prints_every_term(void **state)
{
    (void)state;
    const char *out = "/tmp/ferrosolv-test-cli-forces.txt";
    remove(out);
    char args[512];
    snprintf(
        args, sizeof args,
        "energy -c tests/data/cli/water.gro -p tests/data/cli/water.top -f benchmarks/inputs/water-23k/gromacs.mdp "
        "-o %s",
        out);
    expect(args, 0, "Potential");
    const char *names[] = {"LJ (SR)",        "Coulomb (SR)", "Coul. recip.", "Disper. corr.",  "Bond",
                           "Angle",          "U-B",          "Proper Dih.",  "Ryckaert-Bell.", "Improper Dih.",
                           "Per. Imp. Dih.", "LJ-14",        "Coulomb-14"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
        if (!strstr(output, names[i])) fail_msg("no '%s' in:\n%s", names[i], output);
    assert_non_null(strstr(output, "ignoring 'integrator'")); /* the .mdp note */
    assert_non_null(strstr(output, "1128 in 376 molecules"));
    /* liquid water is bound: the potential is large and negative (about -41 kJ/mol per molecule for SPC/E; the cut cube
     * is a little looser) */
    const char *pot = strstr(output, "Potential");
    double e = strtod(pot + strlen("Potential"), NULL);
    assert_true(e < -30.0 * 376 && e > -55.0 * 376);
    FILE *fp = fopen(out, "r");
    assert_non_null(fp);
    int lines = 0;
    char line[256];
    while (fgets(line, sizeof line, fp)) lines += line[0] != '#';
    fclose(fp);
    assert_int_equal(lines, 1128);
    remove(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_bad_input_names_the_file),
        cmocka_unit_test(test_energy_prints_every_term),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

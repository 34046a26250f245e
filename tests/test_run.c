/*
 * test_run.c — `ferrosolv run` as a user meets it: a run killed at a random moment and continued from its
 * checkpoint writes the same trajectory, bit for bit, as an uninterrupted run; the killed run's H5MD file opens in
 * h5py and MDAnalysis with the frames written so far; a blow-up stops with the step, atom and molecule named after
 * writing the last good frame; minimization ends below emtol; bad decks exit 2 naming file:line.
 *
 * The runs use the 376-molecule water cube (the decks in tests/data/run) with outputs redirected into a fresh temporary
 * directory. H5MD files are compared with tests/scripts/h5md_compare.py (h5py, MDAnalysis; Debian's
 * /usr/bin/python3).
 */
#include "support/fs_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char output[1 << 16];
static const char *tmpdir; /* the suite's temporary directory */

static int sh(const char *cmd)
{
    char full[8192];
    snprintf(full, sizeof full, "cd '%s' && %s 2>&1", FS_SOURCE_DIR, cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(output, 1, sizeof output - 1, p);
    output[n] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The arguments that send every output of a run into directory `dir`. */
static const char *outputs(const char *dir)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "--h5md %s/traj.h5md --log %s/md.log --checkpoint %s/state.cpt --confout %s/confout.gro",
             dir, dir, dir, dir);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    tmpdir = fs_test_tmpdir("test-run");
    assert_non_null(tmpdir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fs_test_tmpdir_remove();
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_kill_and_continue_is_bit_exact(void **state)
{
    (void)state;
    char a[300], b[300], cmd[4096];
    snprintf(a, sizeof a, "%s/a", tmpdir);
    snprintf(b, sizeof b, "%s/b", tmpdir);
    mkdir(a, 0700);
    mkdir(b, 0700);

    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/nvt.ini %s", FS_BINARY, outputs(a));
    if (sh(cmd) != 0) fail_msg("uninterrupted run failed:\n%s", output);

    /* the same run, killed with SIGKILL at a random moment after its first checkpoint */
    char deck[512], log[400], cpt[400];
    snprintf(deck, sizeof deck, "%s/tests/data/run/nvt.ini", FS_SOURCE_DIR);
    snprintf(log, sizeof log, "%s/stdout.txt", b);
    snprintf(cpt, sizeof cpt, "%s/state.cpt", b);
    char h5[400], lg[400], co[400];
    snprintf(h5, sizeof h5, "%s/traj.h5md", b);
    snprintf(lg, sizeof lg, "%s/md.log", b);
    snprintf(co, sizeof co, "%s/confout.gro", b);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr)) _exit(127);
        execl(FS_BINARY, FS_BINARY, "run", deck, "--h5md", h5, "--log", lg, "--checkpoint", cpt, "--confout", co,
              (char *)NULL);
        _exit(127);
    }
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    for (int k = 0; k < 6000 && !exists(cpt); ++k) usleep(1000);
    usleep((useconds_t)(rand() % 400000));
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    int killed = WIFSIGNALED(status);
    if (killed && exists(h5)) {
        /* what the killed run left opens in h5py and MDAnalysis with the frames written so far */
        /* with the .gro the run wrote beside its trajectory */
        snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/scripts/h5md_compare.py prefix %s %s/traj.h5md %s/traj.gro",
                 h5, a, b);
        if (sh(cmd) != 0) fail_msg("killed run's H5MD file:\n%s", output);
    }
    if (killed) {
        snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/nvt.ini --continue %s", FS_BINARY, outputs(b));
        if (sh(cmd) != 0) fail_msg("--continue failed:\n%s", output);
    } else {
        print_message("note: the run finished before the kill; comparing the complete run\n");
    }
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/scripts/h5md_compare.py same %s/traj.h5md %s/traj.h5md", a, b);
    if (sh(cmd) != 0) fail_msg("continued trajectory differs from the uninterrupted one:\n%s", output);

    /* negative control: a run with another seed differs */
    char c[300];
    snprintf(c, sizeof c, "%s/c", tmpdir);
    mkdir(c, 0700);
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/nvt.ini --ld-seed 7 %s --nsteps 40", FS_BINARY, outputs(c));
    if (sh(cmd) != 0) fail_msg("seed-7 run failed:\n%s", output);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/scripts/h5md_compare.py same %s/traj.h5md %s/traj.h5md", a, c);
    assert_int_not_equal(sh(cmd), 0);
}

/* NPT: the barostat's adapted step and its adaptation window are part of the checkpoint. A stop after 60 steps
 * (checkpoint at 35, mid-way through an adaptation window) and a continuation must equal the uninterrupted run. */
static void test_npt_continue_is_bit_exact(void **state)
{
    (void)state;
    char a[300], b[300], cmd[4096];
    const char *npt =
        "--integrator sd --tcoupl no --tau-t 1.0 --pcoupl MC --ref-p 1 --nstpcouple 1 --nsteps 100 --nstcheckpoint 35";
    snprintf(a, sizeof a, "%s/npt-a", tmpdir);
    snprintf(b, sizeof b, "%s/npt-b", tmpdir);
    mkdir(a, 0700);
    mkdir(b, 0700);
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/nvt.ini %s %s", FS_BINARY, npt, outputs(a));
    if (sh(cmd) != 0) fail_msg("uninterrupted NPT run failed:\n%s", output);
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/nvt.ini %s --stop-after 60 %s", FS_BINARY, npt, outputs(b));
    if (sh(cmd) != 0) fail_msg("stopped NPT run failed:\n%s", output);
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/nvt.ini %s --continue %s", FS_BINARY, npt, outputs(b));
    if (sh(cmd) != 0) fail_msg("NPT --continue failed:\n%s", output);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/scripts/h5md_compare.py same %s/traj.h5md %s/traj.h5md", a, b);
    if (sh(cmd) != 0) fail_msg("continued NPT trajectory differs:\n%s", output);
    /* the box did change: the barostat was active */
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import h5py,numpy as np;e=h5py.File('%s/traj.h5md','r')"
             "['particles/all/box/edges/value'][()];print(len(np.unique(e[:,0,0])))\"",
             a);
    assert_int_equal(sh(cmd), 0);
    assert_true(atoi(output) > 1);
}

static void test_blowup_names_step_atom_molecule(void **state)
{
    (void)state;
    char d[300], cmd[4096];
    snprintf(d, sizeof d, "%s/blow", tmpdir);
    mkdir(d, 0700);
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/blowup.ini %s", FS_BINARY, outputs(d));
    int rc = sh(cmd);
    if (rc != 1) fail_msg("expected exit 1, got %d:\n%s", rc, output);
    /* the step, the atom(s) and the molecule are named, whichever check caught it first (SETTLE, the
     * displacement limit or a non-finite force) */
    if (!strstr(output, "blow-up at step ") && !strstr(output, "non-finite force on atom"))
        fail_msg("no blow-up message:\n%s", output);
    if (!strstr(output, "atom") || !strstr(output, "SOL") || !strstr(output, "last good frame"))
        fail_msg("message lacks atom/molecule/frame:\n%s", output);
    /* the last good frame is in the trajectory and in confout.gro */
    char gro[400];
    snprintf(gro, sizeof gro, "%s/confout.gro", d);
    assert_true(exists(gro));
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import h5py,numpy as np;f=h5py.File('%s/traj.h5md','r');"
             "v=f['particles/all/position/value'][-1];print(len(f['particles/all/position/step']));"
             "assert np.isfinite(v).all()\"",
             d);
    if (sh(cmd) != 0) fail_msg("last frame unreadable or not finite:\n%s", output);
    assert_true(atoi(output) >= 2); /* step 0 and the last good one */
}

static void test_minimization_reaches_emtol(void **state)
{
    (void)state;
    char d[300], cmd[4096];
    snprintf(d, sizeof d, "%s/min", tmpdir);
    mkdir(d, 0700);
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/steep.ini %s", FS_BINARY, outputs(d));
    if (sh(cmd) != 0) fail_msg("minimization failed:\n%s", output);
    const char *s = strstr(output, "Fmax ");
    assert_non_null(strstr(output, "converged"));
    assert_null(strstr(output, "did NOT converge"));
    assert_non_null(s);
    /* negative control: 10 evaluations do not get there (about 60 do) */
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/run/steep.ini --nsteps 10 %s", FS_BINARY, outputs(d));
    if (sh(cmd) != 0) fail_msg("short minimization failed:\n%s", output);
    assert_non_null(strstr(output, "did NOT converge"));
}

static void test_bad_decks_exit_2_with_file_line(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' run tests/data/deck/unknown-key.ini", FS_BINARY);
    assert_int_equal(sh(cmd), 2);
    assert_non_null(strstr(output, "unknown-key.ini:5:"));
    snprintf(cmd, sizeof cmd, "'%s' run", FS_BINARY);
    assert_int_equal(sh(cmd), 2);
    snprintf(cmd, sizeof cmd, "'%s' run --help", FS_BINARY);
    assert_int_equal(sh(cmd), 0);
    assert_non_null(strstr(output, "ld-seed"));
    assert_non_null(strstr(output, "nstcheckpoint"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill_and_continue_is_bit_exact),  cmocka_unit_test(test_npt_continue_is_bit_exact),
        cmocka_unit_test(test_blowup_names_step_atom_molecule), cmocka_unit_test(test_minimization_reaches_emtol),
        cmocka_unit_test(test_bad_decks_exit_2_with_file_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

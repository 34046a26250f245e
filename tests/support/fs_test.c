/*
 * fs_test.c — helpers shared by the cmocka suites: source-tree paths, loading a system, tolerant comparisons.
 */
#include "fs_test.h"

#include <stdio.h>

#include "core/io/gro.h"
#include "forcefields/top_reader.h"

const char *fs_test_path(const char *rel)
{
    static char buf[8][4096];
    static int next;
    char *b = buf[next];
    next = (next + 1) % 8;
    snprintf(b, sizeof buf[0], "%s/%s", FS_SOURCE_DIR, rel);
    return b;
}

void fs_test_load(const char *top_rel, const char *gro_rel, fs_topology **top, fs_state **state)
{
    fs_gro *gro = NULL;
    if (fs_top_read(fs_test_path(top_rel), NULL, top) != FS_OK) fail_msg("%s", fs_error_message());
    if (fs_gro_read(fs_test_path(gro_rel), &gro) != FS_OK) fail_msg("%s", fs_error_message());
    if (gro->natoms != (*top)->natoms)
        fail_msg("%s has %d atoms, %s has %d", gro_rel, gro->natoms, top_rel, (*top)->natoms);
    *state = gro->state;
    gro->state = NULL;
    fs_gro_destroy(&gro);
}

void fs_assert_close_(double a, double b, double rel_tol, double abs_tol, const char *what, const char *file, int line)
{
    if (!(fabs(a - b) <= abs_tol + rel_tol * fabs(b))) {
        print_error("%s: got %.12g, expected %.12g (|diff| %.3g > %.3g)\n", what, a, b, fabs(a - b),
                    abs_tol + rel_tol * fabs(b));
        _fail(file, line);
    }
}

/*
 * fs_test.h — small helpers shared by the cmocka suites.
 */
#ifndef FS_TEST_H
#define FS_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka needs the standard headers above first */
#include <cmocka.h>

#include "core/state.h"
#include "core/topology.h"

/* FS_SOURCE_DIR "/" rel, in a rotating set of static buffers (8 live at once). */
const char *fs_test_path(const char *rel);

/* Reads a .top and a .gro (paths relative to the source tree) into a new topology and state; fails the test on
 * error (printing the library's message). */
void fs_test_load(const char *top_rel, const char *gro_rel, fs_topology **top, fs_state **state);

/* Temporary directory for a suite, one at a time (typically made in the group setup and removed in the group
 * teardown):
 *   - fs_test_tmpdir creates a fresh directory /tmp/ferrosolv-<tag>-XXXXXX (mode 0700, mkdtemp) and remembers it;
 *     returns its path (a static buffer, valid until fs_test_tmpdir_remove), or NULL if the directory cannot be
 *     made, the tag is too long, or a directory is already remembered (call fs_test_tmpdir_remove first);
 *   - fs_test_tmpfile returns "<dir>/<name>" for the remembered directory, in a rotating set of static buffers
 *     (8 live at once: copy a path that must outlive 7 more calls); it creates nothing; fails the test if no
 *     directory is remembered or the path does not fit (so call it only from inside a test);
 *   - fs_test_tmpdir_remove deletes the remembered directory recursively (files, links and sub-directories; links are
 *     removed, never followed) and forgets it, even when a removal fails; returns 0 on success, -1 if something could
 *     not be removed or no directory was remembered. */
const char *fs_test_tmpdir(const char *tag);
const char *fs_test_tmpfile(const char *name);
int fs_test_tmpdir_remove(void);

/* Asserts |a - b| <= abs_tol + rel_tol * |b|, printing both values and `what` when it fails. */
#define fs_assert_close(a, b, rel_tol, abs_tol, what)                                                                  \
    fs_assert_close_((a), (b), (rel_tol), (abs_tol), (what), __FILE__, __LINE__)
void fs_assert_close_(double a, double b, double rel_tol, double abs_tol, const char *what, const char *file, int line);

/* 1 if |a - b| <= abs_tol + rel_tol * |b| (for negative controls: assert_false(fs_close(...))). */
static inline int fs_close(double a, double b, double rel_tol, double abs_tol)
{
    return fabs(a - b) <= abs_tol + rel_tol * fabs(b);
}

#endif

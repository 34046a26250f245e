/*
 * fs_test.c — helpers shared by the cmocka suites: source-tree paths, loading a system, a temporary directory,
 * tolerant comparisons.
 */
#include "fs_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static char g_tmpdir[4096]; /* "" when none is remembered */

const char *fs_test_tmpdir(const char *tag)
{
    if (g_tmpdir[0]) return NULL;
    int n = snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/ferrosolv-%s-XXXXXX", tag);
    if (n < 0 || (size_t)n >= sizeof g_tmpdir || !mkdtemp(g_tmpdir)) {
        g_tmpdir[0] = '\0';
        return NULL;
    }
    return g_tmpdir;
}

const char *fs_test_tmpfile(const char *name)
{
    static char buf[8][4096];
    static int next;
    if (!g_tmpdir[0]) fail_msg("fs_test_tmpfile(\"%s\"): no temporary directory (call fs_test_tmpdir first)", name);
    char *b = buf[next];
    next = (next + 1) % 8;
    int n = snprintf(b, sizeof buf[0], "%s/%s", g_tmpdir, name);
    if (n < 0 || (size_t)n >= sizeof buf[0]) fail_msg("fs_test_tmpfile(\"%s\"): path too long", name);
    return b;
}

/* Removes everything under `path` and then `path` itself; symbolic links are removed, not followed. */
static int remove_tree(const char *path)
{
    int rc = 0;
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t len = strlen(path) + 1 + strlen(e->d_name) + 1;
        char *p = malloc(len);
        if (!p) {
            rc = -1;
            continue;
        }
        snprintf(p, len, "%s/%s", path, e->d_name);
        struct stat st;
        if (lstat(p, &st) != 0)
            rc = -1;
        else if (S_ISDIR(st.st_mode))
            rc |= remove_tree(p);
        else if (unlink(p) != 0)
            rc = -1;
        free(p);
    }
    closedir(d);
    if (rmdir(path) != 0) rc = -1;
    return rc ? -1 : 0;
}

int fs_test_tmpdir_remove(void)
{
    if (!g_tmpdir[0]) return -1;
    int rc = remove_tree(g_tmpdir);
    g_tmpdir[0] = '\0';
    return rc;
}

void fs_assert_close_(double a, double b, double rel_tol, double abs_tol, const char *what, const char *file, int line)
{
    if (!(fabs(a - b) <= abs_tol + rel_tol * fabs(b))) {
        print_error("%s: got %.12g, expected %.12g (|diff| %.3g > %.3g)\n", what, a, b, fabs(a - b),
                    abs_tol + rel_tol * fabs(b));
        _fail(file, line);
    }
}

#if defined(__SANITIZE_ADDRESS__)
/* PoCL and the LLVM inside it keep compiler state until exit (in their own code, on the uncached compile path);
 * LeakSanitizer reads this hook in every suite, so only leaks with a frame in ferrosolv count. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpocl.so\nleak:libLLVM\n";
}
#endif

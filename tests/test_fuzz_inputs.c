/*
 * test_fuzz_inputs.c — the .top and .gro readers on 1000 randomly damaged inputs.
 *
 * Each mutant is a shipped input (topologies: benchmarks/inputs/water-23k, tests/data/top and its broken/,
 * tests/data/bonded, benchmarks/inputs/ec-dmc; coordinates: the first 300 atoms of the water box with the count
 * fixed, the same atoms written with velocities, and ec-dmc's conf.gro) with one to three mutations: a byte
 * replaced, a digit changed, a line deleted, duplicated or swapped with another, the file cut short, or a token
 * inserted ('#include' of the mutant itself, directives, preprocessor lines, huge numbers, 'nan', ...). The mutant
 * is written to a mkstemp file under /tmp, read in-process, and removed.
 *
 * What must hold: the reader returns FS_OK, FS_ERR_PARSE, FS_ERR_IO or FS_ERR_UNSUPPORTED (the statuses the CLI
 * turns into exit code 0 or 2); any other status (FS_ERR_NOMEM from a runaway allocation, FS_ERR_INVALID from an
 * inconsistent topology) is a defect; a failure carries a non-empty message and leaves *out NULL. Memory errors
 * and leaks are caught when this runs in the sanitizer build (-DFS_SANITIZE=ON). The random numbers come from a
 * fixed-seed xorshift64* generator, so every run sees the same mutants. As a control, the mix of outcomes must
 * contain both successes and failures (a fuzzer whose every mutant fails, or passes, tests nothing).
 */
#include "support/fs_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/io/gro.h"
#include "forcefields/top_reader.h"

#ifndef N_MUTANTS
#define N_MUTANTS 1000 /* -DN_MUTANTS=100000 and FS_FUZZ_SEED=<n> for a longer hunt outside the test suite */
#endif

typedef struct {
    char *data;
    size_t n;
    char dir[1024]; /* the original's directory, for #include */
    int is_gro;
    int weight; /* valid inputs are mutated three times as often as the broken ones */
    char name[128];
} source;

static source g_src[64];
static int g_nsrc;
static unsigned long long g_rng = 0x9E3779B97F4A7C15ULL;

static unsigned long long rnd(void)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 2685821657736338717ULL;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static char *read_all(const char *path, size_t *n)
{
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) b[len] = '\0';
    *n = (size_t)len;
    return b;
}

static void add_source(char *data, size_t n, const char *dir, int is_gro, const char *name)
{
    if (!data || g_nsrc == (int)(sizeof g_src / sizeof g_src[0])) {
        free(data);
        return;
    }
    source *s = &g_src[g_nsrc++];
    s->data = data;
    s->n = n;
    s->is_gro = is_gro;
    s->weight = strstr(dir, "/broken") ? 1 : 3;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->name, sizeof s->name, "%s", name);
}

static void add_file(const char *path, const char *dir, int is_gro, const char *name)
{
    size_t n;
    char *data = read_all(path, &n);
    add_source(data, n, dir, is_gro, name);
}

static void add_dir_tops(const char *rel)
{
    const char *dir = fs_test_path(rel);
    char dirbuf[1024];
    snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    DIR *d = opendir(dirbuf);
    if (!d) return;
    struct dirent *e;
    char path[2048];
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".top") != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dirbuf, e->d_name);
        add_file(path, dirbuf, 0, e->d_name);
    }
    closedir(d);
}

/* The first `natoms` atoms of a .gro text with the count line fixed and the box line kept. */
static char *gro_prefix(const char *text, int natoms, size_t *n)
{
    const char *p = text;
    for (int skip = 0; skip < 2 && p; ++skip) p = strchr(p, '\n'), p = p ? p + 1 : NULL;
    const char *atoms = p;
    for (int i = 0; i < natoms && p; ++i) p = strchr(p, '\n'), p = p ? p + 1 : NULL;
    const char *box = strrchr(text, '\n');
    while (box > text && box[-1] != '\n') box--; /* text ends in "\n"; find the start of the last line */
    if (!atoms || !p || !box) return NULL;
    size_t na = (size_t)(p - atoms), nb = strlen(box);
    char *out = malloc(na + nb + 64);
    if (!out) return NULL;
    int h = snprintf(out, 64, "water prefix\n%d\n", natoms);
    memcpy(out + h, atoms, na);
    memcpy(out + h + na, box, nb + 1);
    *n = (size_t)h + na + nb;
    return out;
}

static int setup(void **state)
{
    (void)state;
    const char *seed = getenv("FS_FUZZ_SEED");
    if (seed && *seed) g_rng ^= strtoull(seed, NULL, 10) * 0x2545F4914F6CDD1DULL;
    size_t n;
    add_file(fs_test_path("benchmarks/inputs/water-23k/topol.top"), fs_test_path("benchmarks/inputs/water-23k"), 0,
             "water topol.top");
    add_dir_tops("tests/data/top");
    add_dir_tops("tests/data/top/broken");
    add_dir_tops("tests/data/bonded");
    add_dir_tops("benchmarks/inputs/ec-dmc");
    char *water = read_all(fs_test_path("benchmarks/inputs/water-23k/conf.gro"), &n);
    if (!water) return -1;
    char *prefix = gro_prefix(water, 300, &n);
    add_source(prefix, n, "/tmp", 1, "water 300-atom prefix");
    free(water);
    /* the same atoms written with velocities (precision 4) */
    char path[] = "/tmp/fs_fuzz_src_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    FILE *f = fopen(path, "w");
    fputs(g_src[g_nsrc - 1].data, f);
    fclose(f);
    fs_gro *g = NULL;
    if (fs_gro_read(path, &g) != FS_OK) return -1;
    for (int i = 0; i < g->natoms; ++i)
        for (int d = 0; d < 3; ++d) g->state->v[d][i] = 0.001 * (i % 997) - 0.3 * d;
    if (fs_gro_write(path, "with velocities", NULL, g->state, 1, 4) != FS_OK) return -1;
    fs_gro_destroy(&g);
    add_file(path, "/tmp", 1, "water prefix with velocities");
    unlink(path);
    add_file(fs_test_path("benchmarks/inputs/ec-dmc/conf.gro"), "/tmp", 1, "ec-dmc conf.gro");
    return g_nsrc >= 4 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < g_nsrc; ++i) free(g_src[i].data);
    return 0;
}

/* A growable byte buffer for one mutant. */
typedef struct {
    char *b;
    size_t n, cap;
} buf;

static void buf_reserve(buf *m, size_t need)
{
    if (need <= m->cap) return;
    while (m->cap < need) m->cap = m->cap ? 2 * m->cap : 4096;
    m->b = realloc(m->b, m->cap);
    assert_non_null(m->b);
}

static void insert(buf *m, size_t at, const char *s, size_t len)
{
    buf_reserve(m, m->n + len + 1);
    memmove(m->b + at + len, m->b + at, m->n - at);
    memcpy(m->b + at, s, len);
    m->n += len;
}

static void erase(buf *m, size_t at, size_t len)
{
    memmove(m->b + at, m->b + at + len, m->n - at - len);
    m->n -= len;
}

/* Start and length (with its newline) of a random line. */
static int pick_line(const buf *m, size_t *start, size_t *len)
{
    if (m->n == 0) return 0;
    size_t p = rnd_below(m->n);
    while (p > 0 && m->b[p - 1] != '\n') p--;
    size_t e = p;
    while (e < m->n && m->b[e] != '\n') e++;
    if (e < m->n) e++;
    *start = p;
    *len = e - p;
    return 1;
}

static void mutate(buf *m, const char *self)
{
    static const char *tokens[] = {"[ atoms ]",
                                   "[ molecules ]",
                                   "[ moleculetype ]",
                                   "[ defaults ]",
                                   "[ bonds ]",
                                   "#ifdef FOO",
                                   "#ifndef FOO",
                                   "#else",
                                   "#endif",
                                   "#define FOO 1",
                                   "#undef FOO",
                                   "#include \"nonexistent.itp\"",
                                   "\\",
                                   ";",
                                   "1e308",
                                   "-1e308",
                                   "1e-320",
                                   "99999999999999999999",
                                   "2147483647",
                                   "2147483648",
                                   "-2147483648",
                                   "-1",
                                   "0",
                                   "nan",
                                   "inf",
                                   "X",
                                   "[",
                                   "]",
                                   "0.0 0.0 0.0 0.0",
                                   "\n",
                                   "9",
                                   "#include",
                                   "#if 1"};
    size_t s, l, s2, l2;
    switch (rnd_below(8)) {
    case 0: /* replace a byte (sometimes by NUL) */
        if (m->n) m->b[rnd_below(m->n)] = rnd_below(8) == 0 ? '\0' : (char)(rnd_below(95) + 32);
        break;
    case 1: /* change a digit */
        if (m->n) {
            size_t p = rnd_below(m->n);
            for (size_t k = 0; k < m->n; ++k, p = (p + 1) % m->n)
                if (m->b[p] >= '0' && m->b[p] <= '9') {
                    m->b[p] = (char)('0' + rnd_below(10));
                    break;
                }
        }
        break;
    case 2: /* delete a line */
        if (pick_line(m, &s, &l)) erase(m, s, l);
        break;
    case 3: /* duplicate a line */
        if (pick_line(m, &s, &l)) {
            char tmp[4096];
            if (l > sizeof tmp) l = sizeof tmp;
            memcpy(tmp, m->b + s, l);
            insert(m, s, tmp, l);
        }
        break;
    case 4: /* swap two lines (by moving the second before the first) */
        if (pick_line(m, &s, &l) && pick_line(m, &s2, &l2) && s2 > s + l) {
            char tmp[4096];
            if (l2 > sizeof tmp) break;
            memcpy(tmp, m->b + s2, l2);
            erase(m, s2, l2);
            insert(m, s, tmp, l2);
        }
        break;
    case 5: /* truncate */
        m->n = rnd_below(m->n + 1);
        break;
    default: { /* insert a token at a line start or after a blank */
        char tok[256];
        if (rnd_below(6) == 0)
            snprintf(tok, sizeof tok, "#include \"%s\"\n", self);
        else
            snprintf(tok, sizeof tok, " %s ", tokens[rnd_below(sizeof tokens / sizeof tokens[0])]);
        size_t p = rnd_below(m->n + 1);
        while (p > 0 && m->b[p - 1] != '\n' && m->b[p - 1] != ' ') p--;
        insert(m, p, tok, strlen(tok));
        break;
    }
    }
}

static void test_fuzz(void **state)
{
    (void)state;
    int count[8] = {0};
    buf m = {0};
    int total_weight = 0;
    for (int i = 0; i < g_nsrc; ++i) total_weight += g_src[i].weight;
    for (int k = 0; k < N_MUTANTS; ++k) {
        int w = (int)rnd_below((size_t)total_weight), pick = 0;
        while (w >= g_src[pick].weight) w -= g_src[pick++].weight;
        const source *src = &g_src[pick];
        char path[] = "/tmp/fs_fuzz_XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        m.n = 0;
        buf_reserve(&m, src->n + 1);
        memcpy(m.b, src->data, src->n);
        m.n = src->n;
        int nmut = 1 + (int)rnd_below(3);
        for (int j = 0; j < nmut; ++j) mutate(&m, strrchr(path, '/') + 1);
        assert_int_equal(write(fd, m.b, m.n), (long)m.n);
        close(fd);

        fs_error_clear();
        fs_status st;
        if (src->is_gro) {
            fs_gro *g = (fs_gro *)&g;
            st = fs_gro_read(path, &g);
            if (st != FS_OK) assert_null(g);
            fs_gro_destroy(&g);
        } else {
            const char *dirs[] = {src->dir};
            fs_top_options opt = {dirs, 1, NULL, 0};
            fs_topology *t = (fs_topology *)&t;
            st = fs_top_read(path, &opt, &t);
            if (st != FS_OK) assert_null(t);
            if (st == FS_OK) assert_non_null(t);
            fs_topology_destroy(&t);
        }
        unlink(path);
        if (st != FS_OK && st != FS_ERR_PARSE && st != FS_ERR_IO && st != FS_ERR_UNSUPPORTED)
            fail_msg("mutant %d of %s: status %s: %s", k, src->name, fs_status_name(st), fs_error_message());
        if (st != FS_OK && fs_error_message()[0] == '\0')
            fail_msg("mutant %d of %s: status %s without a message", k, src->name, fs_status_name(st));
        count[st]++;
    }
    free(m.b);
    print_message("%d mutants of %d sources: %d ok, %d parse errors, %d I/O errors, %d unsupported\n", N_MUTANTS,
                  g_nsrc, count[FS_OK], count[FS_ERR_PARSE], count[FS_ERR_IO], count[FS_ERR_UNSUPPORTED]);
    /* control: both outcomes occur, in numbers */
    assert_true(count[FS_OK] >= N_MUTANTS / 20);
    assert_true(count[FS_ERR_PARSE] >= N_MUTANTS / 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fuzz)};
    return cmocka_run_group_tests(tests, setup, teardown);
}

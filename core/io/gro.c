/*
 * gro.c — reading and writing GROMACS .gro coordinate files.
 *
 * The format (GROMACS manual, "File formats", gro) is fixed-column:
 *
 *     line 1          title (free text)
 *     line 2          number of atoms N
 *     lines 3..N+2    %5d%-5s%5s%5d  residue number, residue name, atom name, atom number (columns 1-20), then
 *                     x y z each in a field of width w = p + 5 with p decimals (nm), then optionally vx vy vz each in
 *                     a field of the same width w with p + 1 decimals (nm/ps)
 *     line N+3        box: v1(x) v2(y) v3(z) [v1(y) v1(z) v2(x) v2(z) v3(x) v3(y)]  (nm), free format
 *
 * The field width is not fixed by the format: GROMACS derives it from the first atom line as the distance between
 * the first two decimal points of the coordinates (w = distance, p = w - 5), checks that the third decimal point
 * is at the same distance, and then cuts every coordinate and velocity field at exactly w characters. We do the same
 * (searching from column 21, after the name fields, so that a '.' in a name cannot mislead). This is what lets a
 * file written with "-ndec 6" read back at full precision, and it is also why a file whose columns are shifted is an
 * error rather than a silently wrong structure.
 *
 * Reading: the whole file is loaded and split into lines first, so that an atom count larger than the file is
 * reported ("line 7: expected atom 5 of 9, found end of file") before anything of size N is allocated; a mutated
 * count therefore cannot trigger a huge allocation. Every number must parse completely and be finite.
 * Velocities are taken only when every atom line has all three velocity fields; otherwise they are zero and
 * has_velocities is 0. Only rectangular boxes are supported: a 9-value box with any non-zero off-diagonal term
 * is FS_ERR_PARSE ("triclinic boxes are not supported").
 *
 * Writing: names come from the topology (truncated to 5 characters, as GROMACS does), residue and atom numbers
 * wrap at 100000, and the box is written with %10.5f. The file is written to a temporary file in the same directory
 * (mkstemp), flushed and closed, and only then renamed over the target, so a failure at any point leaves a previous
 * file untouched.
 */
#include "gro.h"

#include "textfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading ---------------------------------------------------------------------------------------------- */

/* Copies characters [from, from+len) of `s` (stopping at its end) into out, trimmed of blanks. */
static void field(const char *s, size_t from, size_t len, char *out, size_t outcap)
{
    size_t sl = strlen(s);
    size_t b = from < sl ? from : sl;
    size_t e = from + len < sl ? from + len : sl;
    while (b < e && (s[b] == ' ' || s[b] == '\t')) b++;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
    size_t n = e - b < outcap - 1 ? e - b : outcap - 1;
    memcpy(out, s + b, n);
    out[n] = '\0';
}

/* Parses all of `s` (blanks around allowed) as a finite double. Returns 1 on success. */
static int parse_double(const char *s, double *v)
{
    char *end;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 0;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || errno == ERANGE) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end) return 0;
    if (!isfinite(x)) return 0;
    *v = x;
    return 1;
}

static int parse_int(const char *s, long *v)
{
    char *end;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return 0;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || errno == ERANGE) return 0;
    while (*end == ' ' || *end == '\t') end++;
    if (*end) return 0;
    *v = x;
    return 1;
}

/* The coordinate field width from the first atom line (GROMACS's rule); 0 when it cannot be determined. */
static int field_width(const char *line)
{
    size_t sl = strlen(line);
    if (sl <= 20) return 0;
    const char *p1 = strchr(line + 20, '.');
    if (!p1) return 0;
    const char *p2 = strchr(p1 + 1, '.');
    if (!p2) return 0;
    const char *p3 = strchr(p2 + 1, '.');
    if (!p3) return 0;
    long d = p2 - p1;
    if (p3 - p2 != d || d < 5 || d > 40) return 0;
    return (int)d;
}

static fs_status read_box(const char *path, int lineno, const char *line, fs_box *box)
{
    double v[9];
    int n = 0;
    const char *p = line;
    while (n < 10) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        if (n == 9) return fs_fail(FS_ERR_PARSE, "%s:%d: expected 3 or 9 box values, found more", path, lineno);
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(x) || (*end && *end != ' ' && *end != '\t'))
            return fs_fail(FS_ERR_PARSE, "%s:%d: expected a number in the box line, found '%.*s'", path, lineno,
                           (int)strcspn(p, " \t"), p);
        v[n++] = x;
        p = end;
    }
    if (n != 3 && n != 9) return fs_fail(FS_ERR_PARSE, "%s:%d: expected 3 or 9 box values, found %d", path, lineno, n);
    if (n == 9)
        for (int k = 3; k < 9; ++k)
            if (v[k] != 0.0)
                return fs_fail(FS_ERR_PARSE, "%s:%d: triclinic boxes are not supported (off-diagonal %g)", path, lineno,
                               v[k]);
    for (int k = 0; k < 3; ++k)
        if (v[k] < 0.0)
            return fs_fail(FS_ERR_PARSE, "%s:%d: expected non-negative box lengths, found %g", path, lineno, v[k]);
    *box = fs_box_make(v[0], v[1], v[2]);
    return FS_OK;
}

static fs_status gro_alloc(int natoms, fs_gro **out)
{
    fs_gro *g = calloc(1, sizeof *g);
    if (!g) return FS_ERR_NOMEM;
    size_t n = (size_t)(natoms > 0 ? natoms : 1);
    g->atomname = calloc(n, sizeof *g->atomname);
    g->resname = calloc(n, sizeof *g->resname);
    g->resnr = calloc(n, sizeof *g->resnr);
    if (!g->atomname || !g->resname || !g->resnr || fs_state_create(natoms, natoms, &g->state) != FS_OK) {
        fs_gro_destroy(&g);
        return FS_ERR_NOMEM;
    }
    g->natoms = natoms;
    *out = g;
    return FS_OK;
}

static fs_status parse_gro(const char *path, const fs_text *L, fs_gro **out)
{
    if (L->nlines < 1) return fs_fail(FS_ERR_PARSE, "%s:1: expected a title line, found end of file", path);
    if (L->nlines < 2) return fs_fail(FS_ERR_PARSE, "%s:2: expected the number of atoms, found end of file", path);
    long nat;
    if (!parse_int(L->line[1], &nat) || nat < 0 || nat > 100000000)
        return fs_fail(FS_ERR_PARSE, "%s:2: expected the number of atoms, found '%s'", path, L->line[1]);
    int natoms = (int)nat;
    if (L->nlines < natoms + 2)
        return fs_fail(FS_ERR_PARSE, "%s:%d: expected atom %d of %d, found end of file", path, L->nlines + 1,
                       L->nlines - 1, natoms);
    if (L->nlines < natoms + 3)
        return fs_fail(FS_ERR_PARSE, "%s:%d: expected the box line, found end of file", path, natoms + 3);

    fs_gro *g = NULL;
    if (gro_alloc(natoms, &g) != FS_OK) return fs_fail(FS_ERR_NOMEM, "%s: out of memory for %d atoms", path, natoms);
    field(L->line[0], 0, strlen(L->line[0]), g->title, sizeof g->title);

    fs_status st = FS_OK;
    int w = 0, nvel = 0;
    for (int i = 0; i < natoms && st == FS_OK; ++i) {
        const char *line = L->line[i + 2];
        int lineno = i + 3;
        if (i == 0) {
            w = field_width(line);
            if (w == 0) {
                st = fs_fail(FS_ERR_PARSE,
                             "%s:%d: expected three coordinates with equally spaced decimal points after column 20",
                             path, lineno);
                break;
            }
        }
        size_t sl = strlen(line);
        if (sl < (size_t)(20 + 3 * w)) {
            st = fs_fail(FS_ERR_PARSE, "%s:%d: expected an atom line of at least %d characters, found %zu", path,
                         lineno, 20 + 3 * w, sl);
            break;
        }
        char tmp[64];
        long rn;
        field(line, 0, 5, tmp, sizeof tmp);
        if (!parse_int(tmp, &rn)) {
            st =
                fs_fail(FS_ERR_PARSE, "%s:%d: expected a residue number in columns 1-5, found '%s'", path, lineno, tmp);
            break;
        }
        g->resnr[i] = (int)rn;
        field(line, 5, 5, g->resname[i], sizeof g->resname[i]);
        field(line, 10, 5, g->atomname[i], sizeof g->atomname[i]);
        for (int d = 0; d < 3; ++d) {
            field(line, 20 + (size_t)d * (size_t)w, (size_t)w, tmp, sizeof tmp);
            if (!parse_double(tmp, &g->state->r[d][i])) {
                st = fs_fail(FS_ERR_PARSE, "%s:%d: expected a number for coordinate %c in columns %d-%d, found '%s'",
                             path, lineno, "xyz"[d], 21 + d * w, 20 + (d + 1) * w, tmp);
                break;
            }
        }
        if (st != FS_OK) break;
        /* velocities: all three fields present, or none */
        if (sl > (size_t)(20 + 3 * w)) {
            int ok = 1;
            for (int d = 0; d < 3; ++d) {
                field(line, 20 + (size_t)(3 + d) * (size_t)w, (size_t)w, tmp, sizeof tmp);
                if (!parse_double(tmp, &g->state->v[d][i])) ok = 0;
            }
            if (ok) {
                nvel++;
            } else {
                field(line, 20 + (size_t)3 * (size_t)w, strlen(line), tmp, sizeof tmp);
                if (tmp[0]) {
                    st = fs_fail(FS_ERR_PARSE, "%s:%d: expected three velocities after column %d, found '%s'", path,
                                 lineno, 20 + 3 * w, tmp);
                    break;
                }
                for (int d = 0; d < 3; ++d) g->state->v[d][i] = 0.0;
            }
        }
    }
    if (st == FS_OK) st = read_box(path, natoms + 3, L->line[natoms + 2], &g->state->box);
    if (st != FS_OK) {
        fs_gro_destroy(&g);
        return st;
    }
    g->has_velocities = natoms > 0 && nvel == natoms;
    if (!g->has_velocities)
        for (int d = 0; d < 3; ++d) memset(g->state->v[d], 0, (size_t)(natoms > 0 ? natoms : 0) * sizeof(double));
    *out = g;
    return FS_OK;
}

fs_status fs_gro_read(const char *path, fs_gro **out)
{
    *out = NULL;
    fs_text L;
    fs_status st = fs_text_load(path, &L);
    if (st != FS_OK) return st;
    st = parse_gro(path, &L, out);
    fs_text_free(&L);
    return st;
}

void fs_gro_destroy(fs_gro **g)
{
    if (!g || !*g) return;
    free((*g)->atomname);
    free((*g)->resname);
    free((*g)->resnr);
    fs_state_destroy(&(*g)->state);
    free(*g);
    *g = NULL;
}

/* ---- writing ---------------------------------------------------------------------------------------------- */

static int write_body(FILE *f, const char *title, const fs_topology *top, const fs_state *s, int with_velocities,
                      int precision)
{
    int w = precision + 5;
    const char *t = title ? title : "";
    if (fprintf(f, "%.*s\n%d\n", (int)strcspn(t, "\r\n"), t, s->natoms) < 0) return 0;
    for (int i = 0; i < s->natoms; ++i) {
        const char *an = "X", *rn = "MOL";
        int resnr = 1;
        if (top && i < top->natoms) {
            an = top->atoms[i].name;
            rn = top->atoms[i].resname;
            resnr = top->atoms[i].resnr;
        }
        if (fprintf(f, "%5d%-5.5s%5.5s%5d", ((resnr % 100000) + 100000) % 100000, rn, an, (i + 1) % 100000) < 0)
            return 0;
        for (int d = 0; d < 3; ++d)
            if (fprintf(f, "%*.*f", w, precision, s->r[d][i]) < 0) return 0;
        if (with_velocities)
            for (int d = 0; d < 3; ++d)
                if (fprintf(f, "%*.*f", w, precision + 1, s->v[d][i]) < 0) return 0;
        if (fputc('\n', f) == EOF) return 0;
    }
    return fprintf(f, "%10.5f%10.5f%10.5f\n", s->box.len[0], s->box.len[1], s->box.len[2]) >= 0;
}

fs_status fs_gro_write(const char *path, const char *title, const fs_topology *top, const fs_state *s,
                       int with_velocities, int precision)
{
    if (precision < 1 || precision > 30)
        return fs_fail(FS_ERR_INVALID, "%s: precision %d out of range 1..30", path, precision);
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, len + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fs_status st = fs_fail(FS_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    (void)fchmod(fd, 0644); /* mkstemp creates 0600; a coordinate file is normally world-readable */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        fs_status st = fs_fail(FS_ERR_IO, "%s: cannot open a temporary file: %s", path, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return st;
    }
    int ok = write_body(f, title, top, s, with_velocities, precision);
    ok = (fflush(f) == 0) && ok;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fs_status st = fs_fail(FS_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return FS_OK;
}

/*
 * textfile.c — reading a text file whole and cutting it into lines.
 *
 * The file is read in one growing buffer (doubling, so O(n) copies), NUL-terminated, then cut in place: each '\n'
 * (and a '\r' before it) becomes a NUL and a pointer to each line start is kept. Readers then work on lines with
 * their numbers, and a truncated or binary file can never make them read past the buffer.
 */
#include "textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fs_text_free(fs_text *t)
{
    free(t->buf);
    free(t->line);
    memset(t, 0, sizeof *t);
}

fs_status fs_text_load(const char *path, fs_text *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) return fs_fail(FS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 14, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - n < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    if (err) {
        free(buf);
        return fs_fail(FS_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    int count = 0;
    for (size_t i = 0; i < n; ++i) count += buf[i] == '\n';
    if (n > 0 && buf[n - 1] != '\n') count++;
    char **line = malloc((size_t)(count > 0 ? count : 1) * sizeof *line);
    if (!line) {
        free(buf);
        return fs_fail(FS_ERR_NOMEM, "%s: out of memory", path);
    }
    int k = 0;
    for (char *p = buf, *end = buf + n; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *e = nl ? nl : end;
        if (e > p && e[-1] == '\r') e[-1] = '\0';
        *e = '\0';
        for (char *q = p; q < e; ++q)
            if (*q == '\0' && q + 1 < e) *q = ' ';
        line[k++] = p;
        p = e + 1;
    }
    t->buf = buf;
    t->line = line;
    t->nlines = k;
    return FS_OK;
}

/*
 * ini.c — libinih behind fs_ini_parse(), with line numbers.
 *
 * libinih reports the line of a syntax error but not the line of each value it hands to the handler. Reading
 * through ini_parse_stream() with our own line reader lets us count lines: when the handler runs, the reader has
 * just returned the line that holds the value, so the count is that line's number. The first failing handler
 * status is kept and stops further handling (libinih itself would go on to the end of the file). libinih reads
 * lines into a fixed buffer (INI_MAX_LINE): a longer line is refused with its number rather than cut.
 */
#include "ini.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    FILE *fp;
    const char *path;
    int line;
    fs_ini_handler handler;
    void *ctx;
    fs_status status;
    int too_long; /* line number of a line longer than libinih's buffer, 0 if none */
} ini_ctx;

static char *read_line(char *str, int num, void *stream)
{
    ini_ctx *c = stream;
    char *s = fgets(str, num, c->fp);
    if (!s) return NULL;
    c->line++;
    if (!strchr(s, '\n') && !feof(c->fp)) {
        c->too_long = c->line; /* libinih would split it into a cut value and a bogus line: stop here */
        return NULL;
    }
    return s;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx *c = user;
    if (c->status != FS_OK) return 1;
    char where[1100];
    snprintf(where, sizeof where, "%s:%d", c->path, c->line);
    c->status = c->handler(c->ctx, section, name, value ? value : "", where);
    return 1;
}

fs_status fs_ini_parse(const char *path, fs_ini_handler handler, void *ctx)
{
    ini_ctx c = {fopen(path, "r"), path, 0, handler, ctx, FS_OK, 0};
    if (!c.fp) return fs_fail(FS_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = ini_parse_stream(read_line, &c, on_value, &c);
    fclose(c.fp);
    if (c.status != FS_OK) return c.status;
    if (c.too_long)
        return fs_fail(FS_ERR_PARSE, "%s:%d: line too long (at most %d characters)", path, c.too_long,
                       INI_MAX_LINE - 2);
    if (rc > 0) return fs_fail(FS_ERR_PARSE, "%s:%d: expected '[section]' or 'key = value'", path, rc);
    if (rc < 0) return fs_fail(FS_ERR_NOMEM, "%s: out of memory while reading", path);
    return FS_OK;
}

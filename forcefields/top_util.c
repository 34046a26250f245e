/*
 * top_util.c — locations, tokens and strict number parsing for the topology reader.
 *
 * strtod/strtol are used with a check that the whole token was consumed and that the value is finite and in range;
 * "1.0x", "nan", "inf" and "99999999999" (as an int) are therefore rejected where GROMACS's sscanf would accept a
 * prefix or a non-finite value.
 */
#include "top_util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

fs_status tp_fail(const tp_loc *at, fs_status code, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fs_fail(code, "%s:%d: %s", at->file, at->line, msg);
}

int tp_split(char *line, char **tok)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f' || *p == '\v') p++;
        if (!*p) break;
        if (n == TP_MAX_TOKENS) return -1;
        tok[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\f' && *p != '\v') p++;
        if (*p) *p++ = '\0';
    }
    return n;
}

int tp_double(const char *s, double *v)
{
    char *end;
    if (!*s) return 0;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(x)) return 0;
    *v = x;
    return 1;
}

int tp_int(const char *s, int *v)
{
    char *end;
    if (!*s) return 0;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || x < INT_MIN || x > INT_MAX) return 0;
    *v = (int)x;
    return 1;
}

int tp_copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) return 0;
    memcpy(dst, src, n + 1);
    return 1;
}

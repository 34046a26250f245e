/*
 * top_util.h — small helpers shared by the topology reader's files: locations for messages, tokens, numbers.
 *
 * Every message the reader records starts with "path:line: " (tp_fail); tokens are the blank-separated words of a
 * preprocessed line (tp_split); numbers must be complete and finite (tp_double, tp_int) so that a mutated or
 * mistyped field is an error instead of a silently truncated value, unlike sscanf.
 */
#ifndef FS_TOP_UTIL_H
#define FS_TOP_UTIL_H

#include <stddef.h>

#include "../core/status.h"

/* Where a line came from: file path (owned by the preprocessor, valid while it is open) and 1-based line number. */
typedef struct {
    const char *file;
    int line;
} tp_loc;

/* Records "file:line: <message>" for `code` and returns `code`. */
fs_status tp_fail(const tp_loc *at, fs_status code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define TP_MAX_TOKENS 64

/* Splits `line` in place at blanks into at most TP_MAX_TOKENS tokens; returns the count, or -1 when there are more. */
int tp_split(char *line, char **tok);

/* Parses a whole token as a finite double / an int. Return 1 on success, 0 otherwise. */
int tp_double(const char *s, double *v);
int tp_int(const char *s, int *v);

/* Copies `src` into dst[cap]; returns 0 when it does not fit. */
int tp_copy_name(char *dst, size_t cap, const char *src);

#endif

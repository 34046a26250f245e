/*
 * preprocess.h — the C-preprocessor subset that GROMACS topologies use (grompp's gmxcpp).
 *
 * Turns a .top and the files it includes into a stream of logical lines: comments (';' to the end of the line)
 * removed, lines ending in '\' joined with the next, blank lines dropped, #define'd names replaced by their values,
 * and lines inside inactive #ifdef/#ifndef branches skipped. Each line comes with the file and line it started on.
 */
#ifndef FS_PREPROCESS_H
#define FS_PREPROCESS_H

#include "../core/status.h"
#include "top_reader.h"
#include "top_util.h"

typedef struct fs_pp fs_pp;

/* Opens `path` (FS_ERR_IO if it cannot be read), with the include directories and predefined symbols of `opt`
 * (may be NULL) and the directories of the GMXLIB environment variable. */
fs_status fs_pp_open(const char *path, const fs_top_options *opt, fs_pp **out);

/* The next logical line. On success *text is the line (owned by pp, valid until the next call; the caller may
 * modify it in place) and *at its origin (the file name stays valid until fs_pp_close), or *text is NULL at the end
 * of input. Errors (FS_ERR_PARSE, FS_ERR_IO, FS_ERR_NOMEM) carry "file:line: ...". */
fs_status fs_pp_next(fs_pp *pp, char **text, tp_loc *at);

/* The location of the end of the input (the last line read + 1), for "expected X, found end of file" messages. */
tp_loc fs_pp_end(const fs_pp *pp);

/* Frees; accepts NULL and a pointer to NULL. */
void fs_pp_close(fs_pp **pp);

#endif

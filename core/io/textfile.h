/*
 * textfile.h — a whole text file in memory, split into lines.
 *
 * Every line-oriented reader (.gro, the .top preprocessor) starts the same way: read the file, cut it at newlines
 * (LF or CRLF; a last line without a newline still counts), and keep line numbers for messages.
 */
#ifndef FS_TEXTFILE_H
#define FS_TEXTFILE_H

#include "../status.h"

typedef struct {
    char *buf;   /* the file, each line NUL-terminated in place */
    char **line; /* line[k] is line k+1 of the file */
    int nlines;
} fs_text;

/* Loads `path`. NUL bytes inside a line are replaced by blanks, so no line ends early. On failure *t is empty and
 * the message is "path: cannot open: <reason>" (FS_ERR_IO), "path: read error" (FS_ERR_IO) or out of memory. */
fs_status fs_text_load(const char *path, fs_text *t);

/* Frees the buffers and empties *t; accepts an already empty one. */
void fs_text_free(fs_text *t);

#endif

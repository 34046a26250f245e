/*
 * ini.h — INI files (run decks, builder decks) read line by line with file:line for every value.
 *
 * The only module that calls libinih. A deck is "[section]" headers and "key = value" lines; ';' and '#' start
 * comments. The handler receives each value together with "path:line" so that whoever interprets the value can
 * name the exact place of a mistake.
 */
#ifndef FS_INI_H
#define FS_INI_H

#include "status.h"

/* Called for every key. `where` is "path:line". Return FS_OK to go on; any other status stops the parse and is
 * returned by fs_ini_parse with the handler's message. */
typedef fs_status (*fs_ini_handler)(void *ctx, const char *section, const char *key, const char *value,
                                    const char *where);

/* Parses `path`. Syntax errors (a line that is neither a section, a key = value pair nor a comment) give
 * FS_ERR_PARSE with "path:line: expected '[section]' or 'key = value'"; an unreadable file FS_ERR_IO. */
fs_status fs_ini_parse(const char *path, fs_ini_handler handler, void *ctx);

#endif

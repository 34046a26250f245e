/*
 * version.h — the program's version, one definition for the CLI, the H5MD creator record and the logs.
 */
#ifndef FS_VERSION_H
#define FS_VERSION_H

#define FS_VERSION "0.2.0"

#endif

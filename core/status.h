/*
 * status.h — status codes and error messages with context.
 *
 * Library code never prints and never exits: it returns an fs_status and, on failure, records a message that says
 * where and why ("water.top:42: unknown atom type 'CX'"). Only the command-line front end decides to print the
 * message and which exit code to use. The message lives in a thread-local buffer, like errno, and stays valid
 * until the next fs_fail()/fs_error_clear() on the same thread.
 */
#ifndef FS_STATUS_H
#define FS_STATUS_H

typedef enum {
    FS_OK = 0,
    FS_ERR_NOMEM,       /* an allocation failed */
    FS_ERR_IO,          /* a file could not be opened, read or written */
    FS_ERR_PARSE,       /* an input file is malformed (message carries file:line) */
    FS_ERR_INVALID,     /* a value is out of range or inconsistent with others */
    FS_ERR_UNSUPPORTED, /* a valid request that this build or backend does not implement */
    FS_ERR_UNAVAILABLE, /* a backend or device that is not present on this machine */
    FS_ERR_NUMERIC      /* non-finite numbers, failed convergence */
} fs_status;

/* Records a printf-style message for `code` and returns `code`, so that `return fs_fail(FS_ERR_PARSE, ...)` reads
 * naturally. The previous message is replaced. */
fs_status fs_fail(fs_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends context to the current message ("reading conf.gro: <old message>") and returns `code`. */
fs_status fs_fail_context(fs_status code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The last recorded message on this thread, or "" if none. The pointer stays owned by the library. */
const char *fs_error_message(void);

/* Clears the message of this thread. */
void fs_error_clear(void);

/* A fixed, human-readable name for a status code ("parse error"). */
const char *fs_status_name(fs_status code);

#endif

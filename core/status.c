/*
 * status.c — the thread-local error message behind fs_fail().
 *
 * A single fixed-size buffer per thread holds the latest message. Messages longer than the buffer are truncated
 * rather than allocated, so that reporting an out-of-memory condition can never itself fail.
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FS_MESSAGE_CAPACITY 2048

static _Thread_local char g_message[FS_MESSAGE_CAPACITY];

fs_status fs_fail(fs_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_message, sizeof g_message, fmt, ap);
    va_end(ap);
    return code;
}

fs_status fs_fail_context(fs_status code, const char *fmt, ...)
{
    char prefix[FS_MESSAGE_CAPACITY];
    char old[FS_MESSAGE_CAPACITY];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, g_message, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof g_message - 3) n = sizeof g_message - 3;
    memcpy(g_message, prefix, n);
    memcpy(g_message + n, ": ", 2);
    size_t room = sizeof g_message - n - 3, m = strlen(old);
    if (m > room) m = room;
    memcpy(g_message + n + 2, old, m);
    g_message[n + 2 + m] = '\0';
    return code;
}

const char *fs_error_message(void)
{
    return g_message;
}

void fs_error_clear(void)
{
    g_message[0] = '\0';
}

const char *fs_status_name(fs_status code)
{
    switch (code) {
    case FS_OK:
        return "ok";
    case FS_ERR_NOMEM:
        return "out of memory";
    case FS_ERR_IO:
        return "input/output error";
    case FS_ERR_PARSE:
        return "parse error";
    case FS_ERR_INVALID:
        return "invalid value";
    case FS_ERR_UNSUPPORTED:
        return "unsupported";
    case FS_ERR_UNAVAILABLE:
        return "unavailable";
    case FS_ERR_NUMERIC:
        return "numerical failure";
    }
    return "unknown status";
}

#include "qsearch/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *qs_status_str(qs_status st)
{
    switch (st) {
    case QS_OK: return "ok";
    case QS_ERR_INPUT: return "bad input";
    case QS_ERR_USAGE: return "bad usage";
    case QS_ERR_IO: return "I/O error";
    case QS_ERR_NOMEM: return "out of memory";
    case QS_ERR_UNSUPPORTED: return "unsupported";
    case QS_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void qs_error_clear(qs_error *err)
{
    if (!err)
        return;
    err->status = QS_OK;
    err->msg[0] = '\0';
}

qs_status qs_error_set(qs_error *err, qs_status st, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return st;
}

void qs_error_prefix(qs_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[QS_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Build "prefix: old" in place; truncation at the buffer end is fine. */
    size_t plen = strlen(prefix);
    size_t room = sizeof err->msg - 1;
    if (plen + 2 > room)
        plen = room - 2;
    size_t olen = strlen(err->msg);
    if (olen > room - plen - 2)
        olen = room - plen - 2;
    memmove(err->msg + plen + 2, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen] = ':';
    err->msg[plen + 1] = ' ';
    err->msg[plen + 2 + olen] = '\0';
}

int qs_status_exit_code(qs_status st)
{
    switch (st) {
    case QS_OK: return 0;
    case QS_ERR_INPUT:
    case QS_ERR_USAGE:
    case QS_ERR_UNSUPPORTED: return 2;
    default: return 1;
    }
}

void qs_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "qsearch: assertion failed at %s:%d: %s\n", file, line, expr);
    abort();
}

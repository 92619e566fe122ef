/* Status codes and error messages shared by every qsearch module.
 *
 * Library functions return qs_status (0 ok, negative error) and, on error,
 * fill a caller-owned qs_error with a message that names the file and the
 * line, record or key at fault. Nothing in the library prints or exits. */
#ifndef QSEARCH_STATUS_H
#define QSEARCH_STATUS_H

#include <stddef.h>

typedef enum {
    QS_OK = 0,
    QS_ERR_INPUT = -1,       /* bad input: missing, truncated or malformed file, bad value */
    QS_ERR_USAGE = -2,       /* bad arguments from the caller (CLI flags, API misuse by value) */
    QS_ERR_IO = -3,          /* runtime I/O failure (disk full, write error) */
    QS_ERR_NOMEM = -4,       /* allocation failed */
    QS_ERR_UNSUPPORTED = -5, /* valid request this build or machine cannot serve */
    QS_ERR_INTERNAL = -6     /* a bug or an unexpected state */
} qs_status;

#define QS_ERROR_MSG_MAX 1024

/* Caller-owned error record; msg is "" when no error was recorded. */
typedef struct {
    qs_status status;
    char msg[QS_ERROR_MSG_MAX];
} qs_error;

/* Short name of a status ("bad input", "out of memory", ...). */
const char *qs_status_str(qs_status st);

/* Clears err (may be NULL). */
void qs_error_clear(qs_error *err);

/* Records st and a printf-style message in err (may be NULL); returns st. */
qs_status qs_error_set(qs_error *err, qs_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Prefixes err's message with "prefix: " (for adding file or key context). */
void qs_error_prefix(qs_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* CLI exit status for a status: 0 ok, 2 bad input or usage, 1 otherwise. */
int qs_status_exit_code(qs_status st);

/* Programmer-error assertion: reports file:line to stderr and aborts.
 * Only for broken invariants, never for bad input. */
#define QS_ASSERT(cond) \
    ((cond) ? (void)0 : qs_assert_fail(#cond, __FILE__, __LINE__))
void qs_assert_fail(const char *expr, const char *file, int line);

/* Evaluates expr (a qs_status); returns it from the enclosing function if it failed. */
#define QS_TRY(expr)                    \
    do {                                \
        qs_status qs_try_st_ = (expr);  \
        if (qs_try_st_ != QS_OK)        \
            return qs_try_st_;          \
    } while (0)

#endif

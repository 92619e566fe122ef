/* Progress and information messages from the library go through a caller-set
 * callback, never to stdout. With no callback set they are dropped. */
#ifndef QSEARCH_LOG_H
#define QSEARCH_LOG_H

typedef void (*qs_log_fn)(void *ctx, const char *msg);

/* Installs the process-wide message sink (the CLI prints to stderr). */
void qs_log_set(qs_log_fn fn, void *ctx);

/* Sends a printf-style message to the sink, if any. */
void qs_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

#endif

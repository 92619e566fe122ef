/* Small file-system helpers shared by the modules and the CLI. */
#ifndef QSEARCH_FS_H
#define QSEARCH_FS_H

#include <stddef.h>
#include <stdio.h>

#include "qsearch/status.h"

/* Creates dir and its missing parents (as mkdir -p); QS_ERR_IO naming the part that failed. */
qs_status qs_fs_mkdirs(const char *dir, qs_error *err);

/* Reads the whole file at path into a NUL-terminated malloc'd *text (caller
 * frees); *len (may be NULL) gets its length. A missing or unreadable file is
 * QS_ERR_INPUT naming it. */
qs_status qs_fs_read_text(const char *path, char **text, size_t *len, qs_error *err);

/* Atomic file writes. The bytes go to a new temporary file in path's directory
 * (".NAME.tmp.PID.N", so a rename never crosses file systems), which is flushed,
 * fsync'd and renamed over path. Contract: no partial file is ever at path (on
 * failure an existing file is left as it was), the temporary file is removed on
 * every failure, and a failure is QS_ERR_IO (QS_ERR_NOMEM for memory) with a
 * message naming path. */

/* Writes len bytes of data (may be NULL when len is 0) to path atomically. */
qs_status qs_fs_write_atomic(const char *path, const void *data, size_t len, qs_error *err);

/* A file being written through a FILE* and put in place by qs_fs_atomic_commit. */
typedef struct {
    FILE *f;    /* write through this; a write error is caught at commit */
    char *path; /* private: the destination */
    char *tmp;  /* private: the temporary file beside it */
} qs_fs_atomic;

/* Creates the temporary file for path and opens w->f on it. On failure w is
 * left released (qs_fs_atomic_abort is harmless). */
qs_status qs_fs_atomic_open(qs_fs_atomic *w, const char *path, qs_error *err);

/* Flushes, fsyncs and closes w->f, then renames the temporary file to the
 * destination; any failure (an earlier write error on w->f included) removes
 * the temporary file. Always releases w. */
qs_status qs_fs_atomic_commit(qs_fs_atomic *w, qs_error *err);

/* Closes w->f and removes the temporary file; the destination is not touched.
 * Accepts a released or never-opened (zeroed) w. */
void qs_fs_atomic_abort(qs_fs_atomic *w);

#endif

/* Small file-system helpers shared by the modules and the CLI. */
#ifndef QSEARCH_FS_H
#define QSEARCH_FS_H

#include <stddef.h>

#include "qsearch/status.h"

/* Creates dir and its missing parents (as mkdir -p); QS_ERR_IO naming the part that failed. */
qs_status qs_fs_mkdirs(const char *dir, qs_error *err);

/* Reads the whole file at path into a NUL-terminated malloc'd *text (caller
 * frees); *len (may be NULL) gets its length. A missing or unreadable file is
 * QS_ERR_INPUT naming it. */
qs_status qs_fs_read_text(const char *path, char **text, size_t *len, qs_error *err);

#endif

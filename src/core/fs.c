#include "qsearch/fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static qs_status mkdir_one(const char *path, qs_error *err)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return qs_error_set(err, QS_ERR_IO, "%s: cannot create directory: %s", path, strerror(errno));
    return QS_OK;
}

qs_status qs_fs_mkdirs(const char *dir, qs_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return qs_error_set(err, QS_ERR_USAGE, "%s: path too long", dir);
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            QS_TRY(mkdir_one(path, err));
            *p = '/';
        }
    return mkdir_one(path, err);
}

qs_status qs_fs_read_text(const char *path, char **text, size_t *len, qs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return qs_error_set(err, QS_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0, got;
    char *s = malloc(cap);
    while (s && (got = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *t = realloc(s, cap *= 2);
            if (!t)
                free(s);
            s = t;
        }
    }
    int failed = ferror(f);
    fclose(f);
    if (!s)
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
    if (failed) {
        free(s);
        return qs_error_set(err, QS_ERR_INPUT, "%s: read error", path);
    }
    s[n] = '\0';
    *text = s;
    if (len)
        *len = n;
    return QS_OK;
}

#include "qsearch/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- atomic writes ---- */

static atomic_uint tmp_counter; /* tells apart the temporary files of one process's threads */

static void atomic_release(qs_fs_atomic *w)
{
    free(w->path);
    free(w->tmp);
    w->f = NULL;
    w->path = w->tmp = NULL;
}

/* Creates "DIR/.NAME.tmp.PID.N" exclusively (mode 0666 less the umask, as
 * fopen would give the destination). */
static qs_status create_tmp(qs_fs_atomic *w, qs_error *err)
{
    const char *slash = strrchr(w->path, '/');
    int dlen = slash ? (int)(slash - w->path + 1) : 0;
    size_t cap = strlen(w->path) + 64;
    if (!(w->tmp = malloc(cap)))
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", w->path);
    for (int tries = 0;; tries++) {
        unsigned n = atomic_fetch_add(&tmp_counter, 1);
        snprintf(w->tmp, cap, "%.*s.%s.tmp.%ld.%u", dlen, w->path, w->path + dlen, (long)getpid(), n);
        int fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0) {
            if ((w->f = fdopen(fd, "wb")))
                return QS_OK;
            int e = errno;
            close(fd);
            unlink(w->tmp);
            return qs_error_set(err, QS_ERR_IO, "%s: cannot create: %s", w->path, strerror(e));
        }
        if (errno != EEXIST || tries == 100) /* EEXIST: a stale file from a dead process with our pid */
            return qs_error_set(err, QS_ERR_IO, "%s: cannot create: %s", w->path, strerror(errno));
    }
}

qs_status qs_fs_atomic_open(qs_fs_atomic *w, const char *path, qs_error *err)
{
    w->f = NULL;
    w->tmp = NULL;
    if (!(w->path = malloc(strlen(path) + 1)))
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", path);
    strcpy(w->path, path);
    qs_status st = create_tmp(w, err);
    if (st)
        atomic_release(w);
    return st;
}

qs_status qs_fs_atomic_commit(qs_fs_atomic *w, qs_error *err)
{
    if (!w->f)
        return qs_error_set(err, QS_ERR_INTERNAL, "%s: commit of a file that is not open",
                            w->path ? w->path : "(none)");
    int e = 0;
    if (ferror(w->f))
        e = EIO; /* the failed write's errno is gone by now */
    else if (fflush(w->f) != 0)
        e = errno;
    else if (fsync(fileno(w->f)) != 0 && errno != EINVAL && errno != ENOTSUP)
        e = errno; /* the data must be on disk before the rename makes it the file */
    if (fclose(w->f) != 0 && !e)
        e = errno;
    w->f = NULL;
    if (!e && rename(w->tmp, w->path) != 0)
        e = errno;
    qs_status st = QS_OK;
    if (e) {
        unlink(w->tmp);
        st = qs_error_set(err, QS_ERR_IO, "%s: cannot write: %s", w->path, strerror(e));
    }
    atomic_release(w);
    return st;
}

void qs_fs_atomic_abort(qs_fs_atomic *w)
{
    if (!w)
        return;
    if (w->f) {
        fclose(w->f);
        unlink(w->tmp);
    }
    atomic_release(w);
}

qs_status qs_fs_write_atomic(const char *path, const void *data, size_t len, qs_error *err)
{
    qs_fs_atomic w;
    QS_TRY(qs_fs_atomic_open(&w, path, err));
    if (len && fwrite(data, 1, len, w.f) != len) {
        int e = errno;
        qs_fs_atomic_abort(&w);
        return qs_error_set(err, QS_ERR_IO, "%s: cannot write: %s", path, strerror(e ? e : EIO));
    }
    return qs_fs_atomic_commit(&w, err);
}

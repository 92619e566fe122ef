/* Fetching the named datasets from Debian's archive into the cache:
 * `apt-get download PKG` in a private temporary directory under the cache,
 * `dpkg-deb --fsys-tarfile PKG.deb | tar -x MEMBER...` (fork + exec, no
 * shell), then rename() into place, so an interrupted fetch leaves no partial
 * file under the final name. The commands are looked up on PATH. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data_internal.h"
#include "qsearch/fs.h"
#include "qsearch/log.h"

#define FASHION_SYSTEM_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
    const char *name, *title, *package;
    const char *cached;          /* file (or directory) name in the cache */
    const char *member_dir;      /* in the .deb */
    const char *members[4];      /* file names under member_dir */
    int is_dir;                  /* the cached path is a directory holding members */
} named_dataset;

static const named_dataset named[] = {
    {"letter", "UCI Letter Recognition", "opencv-doc", "letter-recognition.data",
     "./usr/share/doc/opencv-doc/examples/data", {"letter-recognition.data"}, 0},
    {"digits", "UCI optical digits, 8x8", "python3-sklearn", "digits.csv.gz",
     "./usr/lib/python3/dist-packages/sklearn/datasets/data", {"digits.csv.gz"}, 0},
    {"fashion-mnist", "Zalando Fashion-MNIST", "dataset-fashion-mnist", "fashion-mnist",
     "./usr/share/datasets/fashion-mnist",
     {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz"},
     1},
};

static const named_dataset *find_named(const char *name, qs_error *err)
{
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (name && !strcmp(name, named[i].name))
            return &named[i];
    qs_error_set(err, QS_ERR_INPUT, "unknown dataset '%s' to fetch (known: letter, digits, fashion-mnist)",
                 name ? name : "");
    return NULL;
}

int qs_data_file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode));
}

/* A directory holding every member of d. */
static int dir_complete(const char *dir, const named_dataset *d)
{
    for (int k = 0; k < 4 && d->members[k]; k++) {
        char *p = qs_data_strfmt("%s/%s", dir, d->members[k]);
        int ok = p && qs_data_file_exists(p);
        free(p);
        if (!ok)
            return 0;
    }
    return 1;
}

qs_status qs_data_cache_dir(const qs_data_options *opt, char **dir, qs_error *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (opt && opt->cache_dir && *opt->cache_dir)
        *dir = qs_data_strfmt("%s", opt->cache_dir);
    else if (xdg && *xdg)
        *dir = qs_data_strfmt("%s/qsearch", xdg);
    else if (home && *home)
        *dir = qs_data_strfmt("%s/.cache/qsearch", home);
    else
        return qs_error_set(err, QS_ERR_USAGE, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
    return *dir ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "out of memory");
}

qs_status qs_data_cached_path(const char *name, const qs_data_options *opt, char **path, qs_error *err)
{
    *path = NULL;
    const named_dataset *d = find_named(name, err);
    if (!d)
        return QS_ERR_INPUT;
    char *dir;
    QS_TRY(qs_data_cache_dir(opt, &dir, err));
    *path = qs_data_strfmt("%s/%s", dir, d->cached);
    free(dir);
    return *path ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "out of memory");
}

qs_status qs_data_locate(const char *name, const qs_data_options *opt, char **path, qs_error *err)
{
    *path = NULL;
    const named_dataset *d = find_named(name, err);
    if (!d)
        return QS_ERR_INPUT;
    if (d->is_dir && dir_complete(FASHION_SYSTEM_DIR, d)) /* Debian's package is installed */
        return (*path = qs_data_strfmt("%s", FASHION_SYSTEM_DIR)) ? QS_OK
                                                                  : qs_error_set(err, QS_ERR_NOMEM, "out of memory");
    char *p;
    QS_TRY(qs_data_cached_path(name, opt, &p, err));
    if (d->is_dir ? dir_complete(p, d) : qs_data_file_exists(p))
        *path = p;
    else
        free(p);
    return QS_OK;
}

/* Removes a directory tree (the temporary fetch directory). */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char *child = qs_data_strfmt("%s/%s", path, e->d_name);
            if (child)
                remove_tree(child);
            free(child);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Last non-empty line of a log file, for error messages. */
static void last_line(const char *log, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(log, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t len = strlen(line);
        if (len >= cap)
            len = cap - 1;
        if (len) {
            memcpy(out, line, len);
            out[len] = '\0';
        }
    }
    if (f)
        fclose(f);
}

/* fork + exec argv with cwd, stdin from in_fd (or /dev/null), stdout to
 * out_fd, stderr to log_fd. Returns the child's pid, or -1. */
static pid_t spawn(char *const argv[], const char *cwd, int in_fd, int out_fd, int log_fd, int close_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    if (cwd && chdir(cwd) != 0)
        _exit(126);
    if (in_fd < 0)
        in_fd = open("/dev/null", O_RDONLY);
    if (in_fd < 0 || dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(log_fd, 2) < 0)
        _exit(126);
    if (close_fd >= 0)
        close(close_fd);
    execvp(argv[0], argv);
    _exit(127);
}

/* Waits for pid; fills why with a description of a failure. */
static int wait_ok(pid_t pid, const char *what, char *why, size_t cap)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            snprintf(why, cap, "%s: waitpid failed: %s", what, strerror(errno));
            return 0;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        snprintf(why, cap, "%s failed: command not found on PATH", what);
    else if (WIFEXITED(status))
        snprintf(why, cap, "%s failed (exit %d)", what, WEXITSTATUS(status));
    else
        snprintf(why, cap, "%s was killed by signal %d", what, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    return 0;
}

static qs_status run_failed(qs_error *err, const char *why, const char *hint, const char *log)
{
    char tail[256];
    last_line(log, tail, sizeof tail);
    return qs_error_set(err, QS_ERR_IO, "%s%s%s%s%s", why, hint, tail[0] ? " (last output: " : "", tail,
                        tail[0] ? ")" : "");
}

/* apt-get download PKG in tmp; *deb receives the .deb's path. */
static qs_status download(const named_dataset *d, const char *tmp, const char *log, char **deb, qs_error *err)
{
    int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (lf < 0)
        return qs_error_set(err, QS_ERR_IO, "cannot create %s: %s", log, strerror(errno));
    char *argv[] = {"apt-get", "download", (char *)d->package, NULL};
    pid_t pid = spawn(argv, tmp, -1, lf, lf, -1);
    close(lf);
    char why[256], what[128];
    if (pid < 0)
        return qs_error_set(err, QS_ERR_IO, "cannot start apt-get: %s", strerror(errno));
    snprintf(what, sizeof what, "apt-get download %s", d->package);
    if (!wait_ok(pid, what, why, sizeof why))
        return run_failed(err, why, ": is apt configured and the archive reachable?", log);
    DIR *dir = opendir(tmp);
    struct dirent *e;
    size_t plen = strlen(d->package);
    *deb = NULL;
    while (dir && (e = readdir(dir)) && !*deb) {
        size_t len = strlen(e->d_name);
        if (!strncmp(e->d_name, d->package, plen) && e->d_name[plen] == '_' && len > 4 &&
            !strcmp(e->d_name + len - 4, ".deb"))
            *deb = qs_data_strfmt("%s/%s", tmp, e->d_name);
    }
    if (dir)
        closedir(dir);
    if (!*deb)
        return qs_error_set(err, QS_ERR_IO, "apt-get download %s succeeded but left no %s_*.deb in %s", d->package,
                            d->package, tmp);
    return QS_OK;
}

/* dpkg-deb --fsys-tarfile DEB | tar -x -f - -C OUT MEMBER... */
static qs_status extract(const named_dataset *d, const char *deb, const char *out, const char *log, qs_error *err)
{
    char *members[4] = {0};
    char *tar_argv[12] = {"tar", "-x", "-f", "-", "-C", (char *)out};
    int na = 6;
    qs_status st = QS_OK;
    for (int k = 0; k < 4 && d->members[k] && !st; k++) {
        members[k] = qs_data_strfmt("%s/%s", d->member_dir, d->members[k]);
        if (!members[k])
            st = qs_error_set(err, QS_ERR_NOMEM, "out of memory");
        tar_argv[na++] = members[k];
    }
    int lf = -1, pfd[2] = {-1, -1};
    if (!st && ((lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) < 0 || pipe(pfd) != 0))
        st = qs_error_set(err, QS_ERR_IO, "cannot set up the extraction of %s: %s", deb, strerror(errno));
    if (!st) {
        char *deb_argv[] = {"dpkg-deb", "--fsys-tarfile", (char *)deb, NULL};
        pid_t p1 = spawn(deb_argv, NULL, -1, pfd[1], lf, pfd[0]);
        pid_t p2 = p1 < 0 ? -1 : spawn(tar_argv, NULL, pfd[0], lf, lf, pfd[1]);
        close(pfd[0]);
        close(pfd[1]);
        char why1[256], why2[256];
        if (p1 < 0 || p2 < 0)
            st = qs_error_set(err, QS_ERR_IO, "cannot start dpkg-deb/tar: %s", strerror(errno));
        int ok1 = p1 < 0 || wait_ok(p1, "dpkg-deb --fsys-tarfile", why1, sizeof why1);
        int ok2 = p2 < 0 || wait_ok(p2, "tar -x", why2, sizeof why2);
        if (!st && !ok2) { /* tar's complaint (member not found) says more than dpkg-deb's SIGPIPE */
            snprintf(why2 + strlen(why2), sizeof why2 - strlen(why2), " extracting %s", members[0]);
            st = run_failed(err, why2, "", log);
        } else if (!st && !ok1) {
            st = run_failed(err, why1, "", log);
        }
    }
    if (lf >= 0)
        close(lf);
    for (int k = 0; k < 4; k++)
        free(members[k]);
    return st;
}

/* Moves the extracted members into the cache under their final name. */
static qs_status install(const named_dataset *d, const char *xdir, const char *final, qs_error *err)
{
    char *src = d->is_dir ? qs_data_strfmt("%s/%s", xdir, d->member_dir)
                          : qs_data_strfmt("%s/%s/%s", xdir, d->member_dir, d->members[0]);
    if (!src)
        return qs_error_set(err, QS_ERR_NOMEM, "out of memory");
    qs_status st = QS_OK;
    struct stat sb;
    if (d->is_dir ? !dir_complete(src, d) : (stat(src, &sb) != 0 || sb.st_size == 0))
        st = qs_error_set(err, QS_ERR_IO, "the package %s did not contain %s/%s (did its layout change?)", d->package,
                          d->member_dir, d->members[0]);
    else if (rename(src, final) != 0 && !(d->is_dir && dir_complete(final, d))) /* a concurrent fetch won */
        st = qs_error_set(err, QS_ERR_IO, "cannot move %s to %s: %s", src, final, strerror(errno));
    free(src);
    return st;
}

static qs_status fetch_into(const named_dataset *d, const char *tmp, const char *final, qs_error *err)
{
    char *log = qs_data_strfmt("%s/commands.log", tmp), *xdir = qs_data_strfmt("%s/x", tmp), *deb = NULL;
    qs_status st = log && xdir ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "out of memory");
    if (!st && mkdir(xdir, 0755) != 0)
        st = qs_error_set(err, QS_ERR_IO, "cannot create %s: %s", xdir, strerror(errno));
    if (!st)
        st = download(d, tmp, log, &deb, err);
    if (!st)
        st = extract(d, deb, xdir, log, err);
    if (!st)
        st = install(d, xdir, final, err);
    free(log);
    free(xdir);
    free(deb);
    return st;
}

qs_status qs_data_fetch(const char *name, const qs_data_options *opt, char **path, qs_error *err)
{
    *path = NULL;
    const named_dataset *d = find_named(name, err);
    if (!d)
        return QS_ERR_INPUT;
    QS_TRY(qs_data_locate(name, opt, path, err));
    if (*path)
        return QS_OK; /* already there */
    char *dir = NULL, *final = NULL, *tmp = NULL;
    qs_status st = qs_data_cache_dir(opt, &dir, err);
    if (!st)
        st = qs_fs_mkdirs(dir, err);
    if (!st && (!(final = qs_data_strfmt("%s/%s", dir, d->cached)) ||
                !(tmp = qs_data_strfmt("%s/.fetch-%s-XXXXXX", dir, d->name))))
        st = qs_error_set(err, QS_ERR_NOMEM, "out of memory");
    if (!st && !mkdtemp(tmp)) {
        st = qs_error_set(err, QS_ERR_IO, "cannot create a temporary directory in %s: %s", dir, strerror(errno));
        free(tmp);
        tmp = NULL;
    }
    if (!st) {
        qs_log("downloading %s (%s) from Debian package %s into %s/", d->name, d->title, d->package, dir);
        st = fetch_into(d, tmp, final, err);
        remove_tree(tmp);
    }
    if (st)
        qs_error_prefix(err, "fetching %s", d->name);
    else
        *path = final, final = NULL;
    free(dir);
    free(final);
    free(tmp);
    return st;
}

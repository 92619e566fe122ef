/* Study store: liveness of the workers that claimed running trials, and marking
 * the trials of dead workers stale (rules in docs/study.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "qsearch/log.h"
#include "qsearch/study.h"
#include "search/study_internal.h"

/* Reads state and start time (clock ticks after boot) of pid from /proc.
 * Returns 0 on success, -1 if /proc has no such entry or is unavailable. */
static int proc_stat(int64_t pid, char *state, int64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name is in parentheses and may contain spaces: parse after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    p += 2;
    *state = *p;
    /* Fields after ')' start at field 3 (state); starttime is field 22. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p)
        return -1;
    *start = v;
    return 0;
}

int64_t qs_study_i_proc_start(int64_t pid)
{
    char state;
    int64_t start;
    return proc_stat(pid, &state, &start) == 0 ? start : -1;
}

/* Whether the local process pid (started at pid_start, -1 if unknown) still runs. */
static int local_worker_alive(int64_t pid, int64_t pid_start)
{
    if (pid <= 0 || (int64_t)(pid_t)pid != pid)
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
        return 0;
    char state;
    int64_t start;
    if (proc_stat(pid, &state, &start) == 0) {
        if (state == 'Z' || state == 'X')
            return 0; /* killed, not yet reaped */
        if (pid_start >= 0 && start != pid_start)
            return 0; /* the pid now belongs to another process */
    }
    return 1;
}

/* ---- stale recovery ---- */

typedef struct {
    int64_t number;
    char why[320];
} stale_item;

/* Collects the running trials whose worker is gone (see qs_study_recover_stale). */
static qs_status find_stale(qs_study *s, double timeout, double now, stale_item **items,
                            size_t *n, qs_error *err)
{
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_RUNNING, &st, err));
    size_t cap = 0;
    int rc = SQLITE_DONE;
    qs_status res = QS_OK;
    while (res == QS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t pid = sqlite3_column_int64(st, 1);
        int64_t start = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
        const char *host = (const char *)sqlite3_column_text(st, 3);
        double beat = sqlite3_column_double(st, 4);
        int local = host && strcmp(host, s->host) == 0;
        char why[320];
        if (local && !local_worker_alive(pid, start))
            snprintf(why, sizeof why, "stale: worker pid %lld on %s is gone", (long long)pid,
                     s->host);
        else if (!local && timeout > 0 && now - beat > timeout)
            snprintf(why, sizeof why, "stale: no heartbeat from pid %lld on %.200s for %.0f s",
                     (long long)pid, host ? host : "?", now - beat);
        else
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            stale_item *grown = realloc(*items, cap * sizeof *grown);
            if (!grown) {
                res = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", s->path);
                break;
            }
            *items = grown;
        }
        (*items)[*n].number = sqlite3_column_int64(st, 0);
        memcpy((*items)[*n].why, why, sizeof why);
        (*n)++;
    }
    if (res == QS_OK && rc != SQLITE_DONE)
        res = qs_study_i_fail(s, rc, "looking for stale trials", err);
    qs_study_i_done(st);
    return res;
}

static qs_status mark_stale(qs_study *s, const stale_item *items, size_t n, double now,
                            qs_error *err)
{
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_MARK_STALE, &st, err));
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, items[i].number);
        sqlite3_bind_text(st, 2, items[i].why, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 3, now);
        QS_TRY(qs_study_i_run_done(s, st, "marking a trial stale", err));
    }
    return QS_OK;
}

qs_status qs_study_recover_stale(qs_study *s, double heartbeat_timeout_s, int64_t *n_marked,
                                 qs_error *err)
{
    if (n_marked)
        *n_marked = 0;
    QS_TRY(qs_study_i_lock(s, err));
    /* Decide and mark under one write lock so no other process finishes or
     * marks the same trials in between. */
    qs_status res = qs_study_i_begin(s, "recovering stale trials", err);
    if (res != QS_OK) {
        qs_study_i_unlock(s);
        return res;
    }
    stale_item *items = NULL;
    size_t n = 0;
    double now = qs_study_i_now();
    res = find_stale(s, heartbeat_timeout_s, now, &items, &n, err);
    if (res == QS_OK)
        res = mark_stale(s, items, n, now, err);
    res = qs_study_i_finish_tx(s, res, "recovering stale trials", err);
    for (size_t i = 0; res == QS_OK && i < n; i++)
        qs_log("%s: trial %lld: %s; its configuration can be claimed again", s->path,
               (long long)items[i].number, items[i].why);
    if (res == QS_OK && n_marked)
        *n_marked = (int64_t)n;
    free(items);
    qs_study_i_unlock(s);
    return res;
}


/* Private to the study store (src/search/study*.c): the handle, the prepared
 * statement ids and the SQLite plumbing shared by its files. */
#ifndef QSEARCH_STUDY_INTERNAL_H
#define QSEARCH_STUDY_INTERNAL_H

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include "qsearch/study.h"

/* Cached prepared statements, one per query; every query binds its parameters. */
enum {
    Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
    Q_META_SET, Q_META_GET, Q_META_LIST,
    Q_CLAIM_FIND, Q_CLAIM_NEXT, Q_CLAIM_INSERT,
    Q_FINISH, Q_STATE_OF, Q_HEARTBEAT, Q_RELEASE,
    Q_RUNNING, Q_MARK_STALE,
    Q_TRIALS, Q_TRIAL_ONE, Q_COUNT,
    Q_SAMPLES_PUT, Q_SAMPLES_GET,
    Q_CURVE_DEL, Q_CURVE_PUT, Q_CURVES,
    Q_N
};

struct qs_study {
    sqlite3 *db;
    char *path;
    int readonly;
    pthread_mutex_t mu;
    sqlite3_stmt *q[Q_N];
    int64_t pid, pid_start; /* this process; pid_start from /proc, -1 if unknown */
    char host[256];
};

/* Unix time now, seconds. */
double qs_study_i_now(void);

/* Start time of local process pid (clock ticks after boot, /proc), -1 if unknown. */
int64_t qs_study_i_proc_start(int64_t pid);

/* Locks the handle; QS_ERR_USAGE when called from inside one of its callbacks. */
qs_status qs_study_i_lock(qs_study *s, qs_error *err);
void qs_study_i_unlock(qs_study *s);

/* Marks (s) or clears (NULL) the handle whose callback this thread is running. */
void qs_study_i_callback(const qs_study *s);

/* Turns SQLite error rc into err: "FILE: OP: sqlite message". */
qs_status qs_study_i_fail(qs_study *s, int rc, const char *op, qs_error *err);

/* The cached statement id (prepared on first use), reset after each use by _done. */
qs_status qs_study_i_prep(qs_study *s, int id, sqlite3_stmt **out, qs_error *err);
void qs_study_i_done(sqlite3_stmt *st);

/* Steps a statement that returns no rows, then resets it. */
qs_status qs_study_i_run_done(qs_study *s, sqlite3_stmt *st, const char *op, qs_error *err);

/* BEGIN IMMEDIATE; and its end: commit if res is QS_OK, else roll back and return res. */
qs_status qs_study_i_begin(qs_study *s, const char *op, qs_error *err);
qs_status qs_study_i_finish_tx(qs_study *s, qs_status res, const char *op, qs_error *err);

static inline void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static inline void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static inline double column_real_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

#endif

/* Study store on SQLite: schema, open/validate, metadata, trial claim/finish and
 * listing. Stale-worker recovery is in study_stale.c, samples and curves in
 * study_data.c. The rules are in docs/study.md. */
#include "qsearch/study.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qsearch/log.h"
#include "search/study_internal.h"

#ifndef QS_VERSION
#define QS_VERSION "unknown"
#endif

#define TRIAL_COLS                                                                    \
    "number, config_hash, choices, state, stale, objectives, metrics, constraint_values, " \
    "seed, worker, pid, host, started_at, heartbeat_at, finished_at, duration_s, error"

static const char *const query_sql[Q_N] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [Q_META_LIST] = "SELECT key, value FROM meta ORDER BY key",
    [Q_CLAIM_FIND] = "SELECT number, choices FROM trials WHERE config_hash = ?1 AND stale = 0",
    [Q_CLAIM_NEXT] = "SELECT COALESCE(MAX(number) + 1, 0) FROM trials",
    [Q_CLAIM_INSERT] = "INSERT INTO trials(number, config_hash, choices, state, stale, worker, "
                       "pid, pid_start, host, started_at, heartbeat_at) "
                       "VALUES (?1, ?2, ?3, 'running', 0, ?4, ?5, ?6, ?7, ?8, ?8)",
    [Q_FINISH] = "UPDATE trials SET state = ?2, objectives = ?3, metrics = ?4, "
                 "constraint_values = ?5, error = ?6, seed = COALESCE(?7, seed), "
                 "finished_at = ?8, heartbeat_at = ?8, "
                 "duration_s = CASE WHEN ?9 < 0 THEN ?8 - started_at ELSE ?9 END "
                 "WHERE number = ?1 AND state = 'running' AND stale = 0",
    [Q_STATE_OF] = "SELECT state, stale FROM trials WHERE number = ?1",
    [Q_HEARTBEAT] = "UPDATE trials SET heartbeat_at = ?2 "
                    "WHERE number = ?1 AND state = 'running' AND stale = 0",
    [Q_RELEASE] = "UPDATE trials SET state = 'failed', stale = 1, error = ?2, finished_at = ?3, "
                  "duration_s = ?3 - started_at "
                  "WHERE number = ?1 AND state = 'running' AND stale = 0",
    [Q_RUNNING] = "SELECT number, pid, pid_start, host, heartbeat_at FROM trials "
                  "WHERE state = 'running' AND stale = 0 ORDER BY number",
    [Q_MARK_STALE] = "UPDATE trials SET state = 'failed', stale = 1, error = ?2, "
                     "finished_at = ?3, duration_s = ?3 - started_at "
                     "WHERE number = ?1 AND state = 'running' AND stale = 0",
    [Q_TRIALS] = "SELECT " TRIAL_COLS " FROM trials ORDER BY number",
    [Q_TRIAL_ONE] = "SELECT " TRIAL_COLS " FROM trials WHERE number = ?1",
    [Q_COUNT] = "SELECT state, stale, COUNT(*) FROM trials GROUP BY state, stale",
    [Q_SAMPLES_PUT] = "INSERT OR REPLACE INTO trial_samples(trial, name, dtype, count, data) "
                      "VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_SAMPLES_GET] = "SELECT dtype, count, data FROM trial_samples WHERE trial = ?1 AND name = ?2",
    [Q_CURVE_DEL] = "DELETE FROM curves WHERE sampler = ?1 AND repeat = ?2",
    [Q_CURVE_PUT] = "INSERT INTO curves(sampler, repeat, seed, trial_index, value, best) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_CURVES] = "SELECT sampler, repeat, seed, trial_index, value, best FROM curves "
                 "ORDER BY sampler, repeat, trial_index",
};

static const char schema_sql[] =
    "CREATE TABLE meta(\n"
    "  key TEXT PRIMARY KEY NOT NULL,\n"
    "  value TEXT NOT NULL);\n"
    "CREATE TABLE trials(\n"
    "  number INTEGER PRIMARY KEY CHECK (number >= 0),\n"
    "  config_hash INTEGER NOT NULL,\n"
    "  choices TEXT NOT NULL,\n"
    "  state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'pruned', 'failed')),\n"
    "  stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1)),\n"
    "  objectives TEXT,\n"
    "  metrics TEXT,\n"
    "  constraint_values TEXT,\n"
    "  seed INTEGER,\n"
    "  worker INTEGER NOT NULL,\n"
    "  pid INTEGER NOT NULL,\n"
    "  pid_start INTEGER,\n"
    "  host TEXT NOT NULL,\n"
    "  started_at REAL NOT NULL,\n"
    "  heartbeat_at REAL NOT NULL,\n"
    "  finished_at REAL,\n"
    "  duration_s REAL,\n"
    "  error TEXT);\n"
    "CREATE UNIQUE INDEX trials_config ON trials(config_hash) WHERE stale = 0;\n"
    "CREATE TABLE trial_samples(\n"
    "  trial INTEGER NOT NULL REFERENCES trials(number),\n"
    "  name TEXT NOT NULL,\n"
    "  dtype TEXT NOT NULL CHECK (dtype IN ('f64', 'i64')),\n"
    "  count INTEGER NOT NULL CHECK (count >= 0),\n"
    "  data BLOB NOT NULL,\n"
    "  PRIMARY KEY (trial, name));\n"
    "CREATE TABLE curves(\n"
    "  sampler TEXT NOT NULL,\n"
    "  repeat INTEGER NOT NULL,\n"
    "  seed INTEGER,\n"
    "  trial_index INTEGER NOT NULL,\n"
    "  value REAL,\n"
    "  best REAL,\n"
    "  PRIMARY KEY (sampler, repeat, trial_index));\n";

/* Set while a callback runs, so a re-entrant call fails instead of deadlocking. */
static _Thread_local const qs_study *tl_in_callback;

void qs_study_i_callback(const qs_study *s) { tl_in_callback = s; }

static const char *const state_names[] = {
    [QS_TRIAL_RUNNING] = "running",
    [QS_TRIAL_COMPLETE] = "complete",
    [QS_TRIAL_PRUNED] = "pruned",
    [QS_TRIAL_FAILED] = "failed",
};

const char *qs_trial_state_name(qs_trial_state st)
{
    if ((unsigned)st < sizeof state_names / sizeof state_names[0])
        return state_names[st];
    return "unknown";
}

qs_status qs_trial_state_parse(const char *name, qs_trial_state *out, qs_error *err)
{
    for (unsigned i = 0; i < sizeof state_names / sizeof state_names[0]; i++) {
        if (name && strcmp(name, state_names[i]) == 0) {
            *out = (qs_trial_state)i;
            return QS_OK;
        }
    }
    return qs_error_set(err, QS_ERR_INPUT,
                        "unknown trial state '%s' (running, complete, pruned, failed)",
                        name ? name : "(null)");
}

void qs_study_options_default(qs_study_options *opt)
{
    opt->readonly = 0;
    opt->full_sync = 0;
    opt->busy_timeout_ms = 10000;
    opt->stale_after_s = 600;
}

const char *qs_study_path(const qs_study *s) { return s->path; }

double qs_study_i_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- SQLite plumbing ---------------------------------------------------- */

static qs_status status_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_CANTOPEN: return QS_ERR_INPUT;
    case SQLITE_NOMEM: return QS_ERR_NOMEM;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISUSE:
    case SQLITE_RANGE: return QS_ERR_USAGE;
    default: return QS_ERR_IO;
    }
}

/* Turns the connection's last error into err: "FILE: OP: sqlite message". */
qs_status qs_study_i_fail(qs_study *s, int rc, const char *op, qs_error *err)
{
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    qs_status st = status_of(rc);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return qs_error_set(err, st, "%s: %s: not an SQLite database (%s)", s->path, op, msg);
    if ((rc & 0xff) == SQLITE_BUSY)
        return qs_error_set(err, st, "%s: %s: %s (another process held the lock too long)",
                            s->path, op, msg);
    return qs_error_set(err, st, "%s: %s: %s", s->path, op, msg);
}

qs_status qs_study_i_prep(qs_study *s, int id, sqlite3_stmt **out, qs_error *err)
{
    if (!s->q[id]) {
        int rc = sqlite3_prepare_v3(s->db, query_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->q[id], NULL);
        if (rc != SQLITE_OK)
            return qs_study_i_fail(s, rc, "preparing a query", err);
    }
    *out = s->q[id];
    return QS_OK;
}

void qs_study_i_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows; resets it. */
qs_status qs_study_i_run_done(qs_study *s, sqlite3_stmt *st, const char *op, qs_error *err)
{
    int rc = sqlite3_step(st);
    qs_status res = rc == SQLITE_DONE ? QS_OK : qs_study_i_fail(s, rc, op, err);
    qs_study_i_done(st);
    return res;
}

static qs_status exec_q(qs_study *s, int id, const char *op, qs_error *err)
{
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, id, &st, err));
    return qs_study_i_run_done(s, st, op, err);
}

qs_status qs_study_i_begin(qs_study *s, const char *op, qs_error *err)
{
    return exec_q(s, Q_BEGIN, op, err);
}

static qs_status commit(qs_study *s, const char *op, qs_error *err)
{
    qs_status st = exec_q(s, Q_COMMIT, op, err);
    if (st != QS_OK && !sqlite3_get_autocommit(s->db))
        exec_q(s, Q_ROLLBACK, op, NULL);
    return st;
}

/* Ends a transaction: commits when res is QS_OK, else rolls back and returns res. */
qs_status qs_study_i_finish_tx(qs_study *s, qs_status res, const char *op, qs_error *err)
{
    if (res == QS_OK)
        return commit(s, op, err);
    if (!sqlite3_get_autocommit(s->db))
        exec_q(s, Q_ROLLBACK, op, NULL);
    return res;
}

static int64_t hash_to_i64(uint64_t h)
{
    int64_t v;
    memcpy(&v, &h, sizeof v);
    return v;
}

static uint64_t i64_to_hash(int64_t v)
{
    uint64_t h;
    memcpy(&h, &v, sizeof h);
    return h;
}

/* Locks the handle; refuses a call made from inside one of its own callbacks. */
qs_status qs_study_i_lock(qs_study *s, qs_error *err)
{
    if (!s)
        return qs_error_set(err, QS_ERR_USAGE, "study: NULL handle");
    if (tl_in_callback == s)
        return qs_error_set(err, QS_ERR_USAGE,
                            "%s: a study callback may not call back into the same study handle",
                            s->path);
    pthread_mutex_lock(&s->mu);
    return QS_OK;
}

void qs_study_i_unlock(qs_study *s) { pthread_mutex_unlock(&s->mu); }

/* ---- open / schema ------------------------------------------------------ */

/* Reads application_id, user_version and the number of schema objects in one
 * statement, so all three come from the same snapshot (another process may be
 * creating the study at this very moment). */
static qs_status read_header(qs_study *s, int64_t v[3], qs_error *err)
{
    static const char sql[] = "SELECT (SELECT application_id FROM pragma_application_id), "
                              "(SELECT user_version FROM pragma_user_version), "
                              "(SELECT COUNT(*) FROM sqlite_schema)";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    qs_status res = QS_OK;
    if (rc == SQLITE_ROW)
        for (int i = 0; i < 3; i++)
            v[i] = sqlite3_column_int64(st, i);
    else
        res = qs_study_i_fail(s, rc, "reading the file header", err);
    sqlite3_finalize(st);
    return res;
}

/* Classifies the file: *is_new = 1 for an empty database, 0 for a qsearch study of our
 * schema version; anything else is QS_ERR_INPUT. */
static qs_status check_kind(qs_study *s, int *is_new, qs_error *err)
{
    int64_t v[3];
    QS_TRY(read_header(s, v, err));
    int64_t app_id = v[0], version = v[1], objects = v[2];
    if (app_id == 0 && objects == 0) {
        *is_new = 1;
        return QS_OK;
    }
    if (app_id != QS_STUDY_APPLICATION_ID)
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: an SQLite database but not a qsearch study "
                            "(application_id 0x%08llx, %lld schema objects)",
                            s->path, (unsigned long long)(uint32_t)app_id, (long long)objects);
    if (version != QS_STUDY_SCHEMA_VERSION)
        return qs_error_set(err, QS_ERR_INPUT,
                            "%s: study schema version %lld, this qsearch reads version %d",
                            s->path, (long long)version, QS_STUDY_SCHEMA_VERSION);
    *is_new = 0;
    return QS_OK;
}

static qs_status create_schema(qs_study *s, qs_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(s->db, schema_sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        qs_status st = qs_error_set(err, status_of(rc), "%s: creating the study schema: %s",
                                    s->path, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return st;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d",
             QS_STUDY_APPLICATION_ID, QS_STUDY_SCHEMA_VERSION);
    rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return qs_study_i_fail(s, rc, "writing the schema version", err);
    char created[32], version[16];
    snprintf(created, sizeof created, "%.3f", qs_study_i_now());
    snprintf(version, sizeof version, "%d", QS_STUDY_SCHEMA_VERSION);
    const char *kv[][2] = {
        {"schema_version", version}, {"created_at", created}, {"qsearch_version", QS_VERSION}};
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_META_SET, &st, err));
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kv[i][1], -1, SQLITE_TRANSIENT);
        QS_TRY(qs_study_i_run_done(s, st, "writing metadata", err));
    }
    return QS_OK;
}

/* A checkpoint copies the WAL into the database and syncs it; with random config
 * hashes each one touches many index pages, so checkpoint every ~40 MB rather
 * than SQLite's 4 MB (twice the claim+finish rate at 64,000 trials). */
#ifndef QS_STUDY_WAL_CHECKPOINT_PAGES
#define QS_STUDY_WAL_CHECKPOINT_PAGES "10000"
#endif
#define SETUP_PRAGMAS \
    "PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = " QS_STUDY_WAL_CHECKPOINT_PAGES

/* Switches the file to WAL mode (persistent, so a no-op once done). Changing the
 * journal mode fails at once with SQLITE_BUSY, without the busy handler, while
 * another process is creating the same study: retry for up to timeout_ms. */
static qs_status set_wal(qs_study *s, int timeout_ms, qs_error *err)
{
    for (int waited_ms = 0;; waited_ms += 5) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *mode = (const char *)sqlite3_column_text(st, 0);
            if (!mode || strcmp(mode, "wal") != 0)
                qs_log("%s: WAL mode unavailable (journal mode %s); concurrent use will be slower",
                       s->path, mode ? mode : "?");
            sqlite3_finalize(st);
            return QS_OK;
        }
        int busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
        if (!busy || waited_ms >= timeout_ms) {
            qs_status res = qs_study_i_fail(s, rc, "switching to WAL mode", err);
            sqlite3_finalize(st);
            return res;
        }
        sqlite3_finalize(st);
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
}

/* Validates the file, switches to WAL and creates the schema if it is new. The
 * file is classified before anything is written, so a foreign database is never
 * modified; creation runs under BEGIN IMMEDIATE so two creators cannot clash. */
static qs_status setup(qs_study *s, const qs_study_options *opt, qs_error *err)
{
    int is_new = 0;
    QS_TRY(check_kind(s, &is_new, err));
    if (opt->readonly) {
        if (is_new)
            return qs_error_set(err, QS_ERR_INPUT, "%s: empty file, not a qsearch study", s->path);
        return QS_OK;
    }
    QS_TRY(set_wal(s, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 10000, err));
    int rc;
    rc = sqlite3_exec(s->db, opt->full_sync ? "PRAGMA synchronous = FULL; " SETUP_PRAGMAS
                                            : "PRAGMA synchronous = NORMAL; " SETUP_PRAGMAS,
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return qs_study_i_fail(s, rc, "setting pragmas", err);
    if (!is_new)
        return QS_OK;
    QS_TRY(qs_study_i_begin(s, "creating the study", err));
    qs_status res = check_kind(s, &is_new, err); /* another process may have won the race */
    if (res == QS_OK && is_new)
        res = create_schema(s, err);
    return qs_study_i_finish_tx(s, res, "creating the study", err);
}

qs_status qs_study_open_ex(const char *path, const qs_study_options *opt, qs_study **out,
                           qs_error *err)
{
    *out = NULL;
    qs_study_options defaults;
    qs_study_options_default(&defaults);
    if (!opt)
        opt = &defaults;
    if (!path || !*path)
        return qs_error_set(err, QS_ERR_USAGE, "study: empty path");
    qs_study *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory opening the study", path);
    }
    pthread_mutex_init(&s->mu, NULL);
    s->readonly = opt->readonly;
    s->pid = (int64_t)getpid();
    s->pid_start = qs_study_i_proc_start(s->pid);
    if (gethostname(s->host, sizeof s->host) != 0)
        snprintf(s->host, sizeof s->host, "localhost");
    s->host[sizeof s->host - 1] = '\0';

    int flags = opt->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    qs_status res = QS_OK;
    if (rc != SQLITE_OK)
        res = qs_study_i_fail(s, rc, opt->readonly ? "opening the study" : "opening or creating the study",
                      err);
    if (res == QS_OK) {
        sqlite3_busy_timeout(s->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 10000);
        res = setup(s, opt, err);
    }
    if (res == QS_OK && !opt->readonly)
        res = qs_study_recover_stale(s, opt->stale_after_s, NULL, err);
    if (res != QS_OK) {
        qs_study_close(s);
        return res;
    }
    *out = s;
    return QS_OK;
}

qs_status qs_study_open(const char *path, qs_study **out, qs_error *err)
{
    return qs_study_open_ex(path, NULL, out, err);
}

void qs_study_close(qs_study *s)
{
    if (!s)
        return;
    for (int i = 0; i < Q_N; i++)
        sqlite3_finalize(s->q[i]);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

/* ---- metadata ----------------------------------------------------------- */

static qs_status meta_get_locked(qs_study *s, const char *key, char **value, qs_error *err)
{
    *value = NULL;
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_META_GET, &st, err));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    qs_status res = QS_OK;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        if (!(*value = strdup(v ? v : "")))
            res = qs_error_set(err, QS_ERR_NOMEM, "%s: out of memory", s->path);
    } else if (rc != SQLITE_DONE) {
        res = qs_study_i_fail(s, rc, "reading metadata", err);
    }
    qs_study_i_done(st);
    if (res != QS_OK)
        qs_error_prefix(err, "key '%s'", key);
    return res;
}

static qs_status meta_set_locked(qs_study *s, const char *key, const char *value, qs_error *err)
{
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_META_SET, &st, err));
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    return qs_study_i_run_done(s, st, "writing metadata", err);
}

qs_status qs_study_meta_set(qs_study *s, const char *key, const char *value, qs_error *err)
{
    if (!key || !*key || !value)
        return qs_error_set(err, QS_ERR_USAGE, "study metadata: empty key or NULL value");
    QS_TRY(qs_study_i_lock(s, err));
    qs_status res = meta_set_locked(s, key, value, err);
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_meta_get(qs_study *s, const char *key, char **value, qs_error *err)
{
    *value = NULL;
    if (!key)
        return qs_error_set(err, QS_ERR_USAGE, "study metadata: NULL key");
    QS_TRY(qs_study_i_lock(s, err));
    qs_status res = meta_get_locked(s, key, value, err);
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_meta_list(qs_study *s, qs_study_meta_fn fn, void *ctx, qs_error *err)
{
    QS_TRY(qs_study_i_lock(s, err));
    sqlite3_stmt *st = NULL;
    qs_status res = qs_study_i_prep(s, Q_META_LIST, &st, err);
    if (res == QS_OK) {
        int rc;
        qs_study_i_callback(s);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (fn(ctx, (const char *)sqlite3_column_text(st, 0),
                   (const char *)sqlite3_column_text(st, 1)))
                break;
        }
        qs_study_i_callback(NULL);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            res = qs_study_i_fail(s, rc, "listing metadata", err);
        qs_study_i_done(st);
    }
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_bind_space(qs_study *s, const char *signature, const char *space_json,
                              qs_error *err)
{
    if (!signature || !*signature)
        return qs_error_set(err, QS_ERR_USAGE, "study: empty search-space signature");
    QS_TRY(qs_study_i_lock(s, err));
    qs_status res = qs_study_i_begin(s, "binding the search space", err);
    if (res != QS_OK) {
        qs_study_i_unlock(s);
        return res;
    }
    char *have = NULL;
    res = meta_get_locked(s, "space_signature", &have, err);
    if (res == QS_OK && !have) {
        res = meta_set_locked(s, "space_signature", signature, err);
        if (res == QS_OK && space_json)
            res = meta_set_locked(s, "space", space_json, err);
    } else if (res == QS_OK && strcmp(have, signature) != 0) {
        res = qs_error_set(err, QS_ERR_INPUT,
                           "%s: this study belongs to another search space (study signature "
                           "%.64s, this search %.64s); use a new study file or the original "
                           "search configuration",
                           s->path, have, signature);
    }
    free(have);
    res = qs_study_i_finish_tx(s, res, "binding the search space", err);
    qs_study_i_unlock(s);
    return res;
}

/* ---- trials ------------------------------------------------------------- */

/* Checks that text is JSON of the wanted kind ('a' array, 'o' object, 'x' either). */
static qs_status check_json(const qs_study *s, const char *what, int64_t number, const char *text,
                            char kind, qs_error *err)
{
    if (!text)
        return QS_OK;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    int ok = j && ((kind == 'a' && json_is_array(j)) || (kind == 'o' && json_is_object(j)) ||
                   (kind == 'x' && (json_is_array(j) || json_is_object(j))));
    int parsed = j != NULL;
    json_decref(j);
    if (ok)
        return QS_OK;
    const char *want = kind == 'a' ? "a JSON array" : kind == 'o' ? "a JSON object"
                                                                 : "a JSON array or object";
    if (number >= 0)
        return qs_error_set(err, QS_ERR_USAGE, "%s: trial %lld: %s is not %s%s%s", s->path,
                            (long long)number, what, want, parsed ? "" : ": ", parsed ? "" : je.text);
    return qs_error_set(err, QS_ERR_USAGE, "%s: %s is not %s%s%s", s->path, what, want,
                        parsed ? "" : ": ", parsed ? "" : je.text);
}

/* Whether two JSON texts are the same value (formatting aside). */
static int same_json(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return 1;
    json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
    int same = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return same;
}

static qs_status claim_locked(qs_study *s, uint64_t hash, const char *choices, int worker,
                              int64_t *number, int *claimed, const char *op, qs_error *err)
{
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_CLAIM_FIND, &st, err));
    sqlite3_bind_int64(st, 1, hash_to_i64(hash));
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *number = sqlite3_column_int64(st, 0);
        const char *have = (const char *)sqlite3_column_text(st, 1);
        qs_status res = QS_OK;
        if (!have || !same_json(have, choices))
            res = qs_error_set(err, QS_ERR_INTERNAL,
                               "%s: %s: trial %lld has the same hash but choices %s, not %s "
                               "(hash collision or non-canonical hash)",
                               s->path, op, (long long)*number, have ? have : "NULL", choices);
        qs_study_i_done(st);
        return res;
    }
    qs_study_i_done(st);
    if (rc != SQLITE_DONE)
        return qs_study_i_fail(s, rc, op, err);
    QS_TRY(qs_study_i_prep(s, Q_CLAIM_NEXT, &st, err));
    rc = sqlite3_step(st);
    int64_t next = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    qs_study_i_done(st);
    if (rc != SQLITE_ROW)
        return qs_study_i_fail(s, rc, op, err);
    QS_TRY(qs_study_i_prep(s, Q_CLAIM_INSERT, &st, err));
    sqlite3_bind_int64(st, 1, next);
    sqlite3_bind_int64(st, 2, hash_to_i64(hash));
    sqlite3_bind_text(st, 3, choices, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, worker);
    sqlite3_bind_int64(st, 5, s->pid);
    if (s->pid_start >= 0)
        sqlite3_bind_int64(st, 6, s->pid_start);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, s->host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 8, qs_study_i_now());
    QS_TRY(qs_study_i_run_done(s, st, op, err));
    *number = next;
    *claimed = 1;
    return QS_OK;
}

qs_status qs_study_claim(qs_study *s, uint64_t config_hash, const char *choices_json, int worker,
                         int64_t *number, int *claimed, qs_error *err)
{
    return qs_study_claim_many(s, 1, &config_hash, &choices_json, worker, number, claimed, err);
}

qs_status qs_study_claim_many(qs_study *s, size_t n, const uint64_t *config_hash,
                              const char *const *choices_json, int worker, int64_t *number,
                              int *claimed, qs_error *err)
{
    for (size_t i = 0; i < n; i++) {
        number[i] = -1;
        claimed[i] = 0;
        if (!choices_json[i])
            return qs_error_set(err, QS_ERR_USAGE, "study: claim without choices");
    }
    QS_TRY(qs_study_i_lock(s, err));
    char op[64];
    snprintf(op, sizeof op, "claiming %zu configuration%s", n, n == 1 ? "" : "s");
    qs_status res = QS_OK;
    for (size_t i = 0; i < n && res == QS_OK; i++)
        res = check_json(s, "choices", -1, choices_json[i], 'a', err);
    if (res == QS_OK)
        res = qs_study_i_begin(s, op, err);
    if (res == QS_OK) {
        for (size_t i = 0; i < n && res == QS_OK; i++) {
            snprintf(op, sizeof op, "claiming configuration %016llx",
                     (unsigned long long)config_hash[i]);
            res = claim_locked(s, config_hash[i], choices_json[i], worker, &number[i],
                               &claimed[i], op, err);
        }
        res = qs_study_i_finish_tx(s, res, op, err);
        for (size_t i = 0; i < n && res != QS_OK; i++)
            claimed[i] = 0; /* rolled back: nothing was claimed */
    }
    qs_study_i_unlock(s);
    return res;
}

/* Explains why an update of a running trial matched no row. */
static qs_status not_running(qs_study *s, int64_t number, const char *op, qs_error *err)
{
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_STATE_OF, &st, err));
    sqlite3_bind_int64(st, 1, number);
    int rc = sqlite3_step(st);
    qs_status res;
    if (rc == SQLITE_ROW)
        res = qs_error_set(err, QS_ERR_USAGE, "%s: %s: trial %lld is not running (state %s%s)",
                           s->path, op, (long long)number, (const char *)sqlite3_column_text(st, 0),
                           sqlite3_column_int(st, 1) ? ", stale: its worker was presumed dead"
                                                     : "");
    else if (rc == SQLITE_DONE)
        res = qs_error_set(err, QS_ERR_USAGE, "%s: %s: no trial %lld", s->path, op,
                           (long long)number);
    else
        res = qs_study_i_fail(s, rc, op, err);
    qs_study_i_done(st);
    return res;
}

static qs_status finish_locked(qs_study *s, int64_t number, const qs_trial_result *r,
                               const char *op, qs_error *err)
{
    QS_TRY(check_json(s, "objective values", number, r->values_json, 'a', err));
    QS_TRY(check_json(s, "metrics", number, r->metrics_json, 'o', err));
    QS_TRY(check_json(s, "constraint values", number, r->constraints_json, 'x', err));
    sqlite3_stmt *st = NULL;
    QS_TRY(qs_study_i_prep(s, Q_FINISH, &st, err));
    sqlite3_bind_int64(st, 1, number);
    sqlite3_bind_text(st, 2, qs_trial_state_name(r->state), -1, SQLITE_STATIC);
    bind_text_or_null(st, 3, r->values_json);
    bind_text_or_null(st, 4, r->metrics_json);
    bind_text_or_null(st, 5, r->constraints_json);
    bind_text_or_null(st, 6, r->error);
    if (r->has_seed)
        sqlite3_bind_int64(st, 7, r->seed);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_double(st, 8, qs_study_i_now());
    sqlite3_bind_double(st, 9, isnan(r->duration_s) ? -1.0 : r->duration_s);
    QS_TRY(qs_study_i_run_done(s, st, op, err));
    if (sqlite3_changes(s->db) == 0)
        return not_running(s, number, op, err);
    return QS_OK;
}

static qs_status check_result(int64_t number, const qs_trial_result *r, qs_error *err)
{
    if (!r || (r->state != QS_TRIAL_COMPLETE && r->state != QS_TRIAL_PRUNED &&
               r->state != QS_TRIAL_FAILED))
        return qs_error_set(err, QS_ERR_USAGE,
                            "study: trial %lld finished with state %s (complete, pruned or failed)",
                            (long long)number, r ? qs_trial_state_name(r->state) : "NULL");
    return QS_OK;
}

qs_status qs_study_finish(qs_study *s, int64_t number, const qs_trial_result *r, qs_error *err)
{
    QS_TRY(check_result(number, r, err));
    QS_TRY(qs_study_i_lock(s, err));
    char op[48];
    snprintf(op, sizeof op, "finishing trial %lld", (long long)number);
    /* One UPDATE in autocommit mode: atomic and committed (in the WAL) on return. */
    qs_status res = finish_locked(s, number, r, op, err);
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_finish_many(qs_study *s, size_t n, const int64_t *number,
                               const qs_trial_result *r, qs_error *err)
{
    for (size_t i = 0; i < n; i++)
        QS_TRY(check_result(number[i], &r[i], err));
    QS_TRY(qs_study_i_lock(s, err));
    char op[64];
    snprintf(op, sizeof op, "finishing %zu trials", n);
    qs_status res = qs_study_i_begin(s, op, err);
    for (size_t i = 0; i < n && res == QS_OK; i++) {
        snprintf(op, sizeof op, "finishing trial %lld", (long long)number[i]);
        res = finish_locked(s, number[i], &r[i], op, err);
    }
    res = qs_study_i_finish_tx(s, res, op, err);
    qs_study_i_unlock(s);
    return res;
}

/* Runs a one-row update of a running trial (heartbeat, release). */
static qs_status update_running(qs_study *s, int id, int64_t number, const char *text,
                                const char *op, qs_error *err)
{
    QS_TRY(qs_study_i_lock(s, err));
    sqlite3_stmt *st = NULL;
    qs_status res = qs_study_i_prep(s, id, &st, err);
    if (res == QS_OK) {
        sqlite3_bind_int64(st, 1, number);
        if (id == Q_HEARTBEAT) {
            sqlite3_bind_double(st, 2, qs_study_i_now());
        } else {
            bind_text_or_null(st, 2, text);
            sqlite3_bind_double(st, 3, qs_study_i_now());
        }
        res = qs_study_i_run_done(s, st, op, err);
    }
    if (res == QS_OK && sqlite3_changes(s->db) == 0)
        res = not_running(s, number, op, err);
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_heartbeat(qs_study *s, int64_t number, qs_error *err)
{
    return update_running(s, Q_HEARTBEAT, number, NULL, "heartbeat", err);
}

qs_status qs_study_release(qs_study *s, int64_t number, const char *reason, qs_error *err)
{
    char msg[512];
    snprintf(msg, sizeof msg, "stale: released (%s)", reason ? reason : "no reason given");
    return update_running(s, Q_RELEASE, number, msg, "releasing a trial", err);
}

static qs_status read_trial(qs_study *s, sqlite3_stmt *st, qs_trial_record *t, qs_error *err)
{
    memset(t, 0, sizeof *t);
    t->number = sqlite3_column_int64(st, 0);
    t->config_hash = i64_to_hash(sqlite3_column_int64(st, 1));
    t->choices_json = (const char *)sqlite3_column_text(st, 2);
    const char *state = (const char *)sqlite3_column_text(st, 3);
    if (qs_trial_state_parse(state, &t->state, err) != QS_OK) {
        qs_error_prefix(err, "%s: trial %lld", s->path, (long long)t->number);
        return QS_ERR_INPUT;
    }
    t->stale = sqlite3_column_int(st, 4);
    t->values_json = (const char *)sqlite3_column_text(st, 5);
    t->metrics_json = (const char *)sqlite3_column_text(st, 6);
    t->constraints_json = (const char *)sqlite3_column_text(st, 7);
    t->has_seed = sqlite3_column_type(st, 8) != SQLITE_NULL;
    t->seed = sqlite3_column_int64(st, 8);
    t->worker = sqlite3_column_int(st, 9);
    t->pid = sqlite3_column_int64(st, 10);
    t->host = (const char *)sqlite3_column_text(st, 11);
    t->started_at = sqlite3_column_double(st, 12);
    t->heartbeat_at = sqlite3_column_double(st, 13);
    t->finished_at = column_real_or_nan(st, 14);
    t->duration_s = column_real_or_nan(st, 15);
    t->error = (const char *)sqlite3_column_text(st, 16);
    return QS_OK;
}

/* Steps st and calls fn per row; *rows counts the rows seen. */
static qs_status each_trial(qs_study *s, sqlite3_stmt *st, qs_study_trial_fn fn, void *ctx,
                            int64_t *rows, qs_error *err)
{
    int rc;
    qs_status res = QS_OK;
    *rows = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        qs_trial_record t;
        if ((res = read_trial(s, st, &t, err)) != QS_OK)
            break;
        (*rows)++;
        qs_study_i_callback(s);
        int stop = fn ? fn(ctx, &t) : 0;
        qs_study_i_callback(NULL);
        if (stop)
            break;
    }
    if (res == QS_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
        res = qs_study_i_fail(s, rc, "listing trials", err);
    qs_study_i_done(st);
    return res;
}

qs_status qs_study_trials(qs_study *s, qs_study_trial_fn fn, void *ctx, qs_error *err)
{
    QS_TRY(qs_study_i_lock(s, err));
    sqlite3_stmt *st = NULL;
    int64_t rows;
    qs_status res = qs_study_i_prep(s, Q_TRIALS, &st, err);
    if (res == QS_OK)
        res = each_trial(s, st, fn, ctx, &rows, err);
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_trial(qs_study *s, int64_t number, qs_study_trial_fn fn, void *ctx,
                         int *found, qs_error *err)
{
    if (found)
        *found = 0;
    QS_TRY(qs_study_i_lock(s, err));
    sqlite3_stmt *st = NULL;
    int64_t rows = 0;
    qs_status res = qs_study_i_prep(s, Q_TRIAL_ONE, &st, err);
    if (res == QS_OK) {
        sqlite3_bind_int64(st, 1, number);
        res = each_trial(s, st, fn, ctx, &rows, err);
    }
    if (found)
        *found = rows > 0;
    qs_study_i_unlock(s);
    return res;
}

qs_status qs_study_count(qs_study *s, qs_study_counts *c, qs_error *err)
{
    memset(c, 0, sizeof *c);
    QS_TRY(qs_study_i_lock(s, err));
    sqlite3_stmt *st = NULL;
    qs_status res = qs_study_i_prep(s, Q_COUNT, &st, err);
    int rc = SQLITE_DONE;
    while (res == QS_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        qs_trial_state state;
        const char *name = (const char *)sqlite3_column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 2);
        if (qs_trial_state_parse(name, &state, err) != QS_OK) {
            qs_error_prefix(err, "%s", s->path);
            res = QS_ERR_INPUT;
            break;
        }
        c->total += n;
        if (sqlite3_column_int(st, 1))
            c->stale += n;
        else if (state == QS_TRIAL_RUNNING)
            c->running += n;
        else if (state == QS_TRIAL_COMPLETE)
            c->complete += n;
        else if (state == QS_TRIAL_PRUNED)
            c->pruned += n;
        else
            c->failed += n;
    }
    if (res == QS_OK && rc != SQLITE_DONE)
        res = qs_study_i_fail(s, rc, "counting trials", err);
    if (st)
        qs_study_i_done(st);
    qs_study_i_unlock(s);
    return res;
}


/* Study store: one SQLite file holding everything a search did (metadata,
 * trials, per-trial samples, sample-efficiency curves), so a search can be
 * resumed after kill -9, shared by several processes, reported and compared.
 * Schema, resume and concurrency rules: docs/study.md.
 *
 * A qs_study handle may be shared by the threads of one process (calls are
 * serialised by an internal mutex); each process, including a forked child,
 * opens its own handle. Every function that writes commits before it returns. */
#ifndef QSEARCH_STUDY_H
#define QSEARCH_STUDY_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/status.h"

/* Schema version written to new studies (PRAGMA user_version). */
#define QS_STUDY_SCHEMA_VERSION 1
/* PRAGMA application_id of qsearch studies: 'qsst'. */
#define QS_STUDY_APPLICATION_ID 0x71737374

typedef struct qs_study qs_study;

typedef enum {
    QS_TRIAL_RUNNING = 0,  /* claimed, being evaluated */
    QS_TRIAL_COMPLETE = 1, /* evaluated; objective values and metrics stored */
    QS_TRIAL_PRUNED = 2,   /* not evaluated or stopped (e.g. infeasible by a static constraint) */
    QS_TRIAL_FAILED = 3    /* evaluation failed (error set), or stale: its worker died */
} qs_trial_state;

typedef struct {
    int readonly;        /* 1: open an existing study for reading only (report, compare) */
    int full_sync;       /* 1: fsync every commit (survives power loss); 0: survives kill -9 only */
    int busy_timeout_ms; /* wait this long for another process's lock; <= 0: 10000 */
    double stale_after_s; /* on open, running trials of other hosts with no heartbeat for
                             this long are stale; <= 0: never (default 600) */
} qs_study_options;

/* One trial as stored. Strings are NULL when unset and valid only during the callback. */
typedef struct {
    int64_t number;               /* 0, 1, ... in claim order, never reused */
    uint64_t config_hash;         /* canonical hash of the configuration */
    const char *choices_json;     /* choice indices, JSON array */
    qs_trial_state state;
    int stale;                    /* 1: failed because its worker died or released it;
                                     its configuration is claimable again */
    const char *values_json;      /* objective values, JSON array */
    const char *metrics_json;     /* every metric, JSON object */
    const char *constraints_json; /* constraint values, JSON (array or object) */
    int has_seed;
    int64_t seed;                 /* sampler/worker seed, when has_seed */
    int worker;                   /* worker index within its process */
    int64_t pid;                  /* process that claimed the trial */
    const char *host;             /* host name of that process */
    double started_at;            /* claim time, Unix seconds (UTC) */
    double heartbeat_at;          /* last sign of life, Unix seconds */
    double finished_at;           /* Unix seconds; NAN while running */
    double duration_s;            /* evaluation time; NAN while running */
    const char *error;            /* why a failed trial failed */
} qs_trial_record;

/* What qs_study_finish stores. NULL strings store SQL NULL. */
typedef struct {
    qs_trial_state state;         /* COMPLETE, PRUNED or FAILED */
    const char *values_json;      /* JSON array or NULL */
    const char *metrics_json;     /* JSON object or NULL */
    const char *constraints_json; /* JSON array/object or NULL */
    const char *error;            /* message for FAILED (or PRUNED: the reason), else NULL */
    int has_seed;
    int64_t seed;
    double duration_s;            /* < 0: finish time minus claim time */
} qs_trial_result;

/* Trial counts; failed excludes stale, stale counts the trials of dead workers. */
typedef struct {
    int64_t running, complete, pruned, failed, stale, total;
} qs_study_counts;

/* Return nonzero from a callback to stop the iteration early (not an error). A
 * callback must not call functions on the same handle (they fail with QS_ERR_USAGE). */
typedef int (*qs_study_trial_fn)(void *ctx, const qs_trial_record *t);
typedef int (*qs_study_meta_fn)(void *ctx, const char *key, const char *value);
typedef int (*qs_study_curve_fn)(void *ctx, const char *sampler, int repeat, int64_t seed,
                                 int64_t trial_index, double value, double best);

/* "running", "complete", "pruned", "failed". */
const char *qs_trial_state_name(qs_trial_state st);

/* Parses a state name; QS_ERR_INPUT if unknown. */
qs_status qs_trial_state_parse(const char *name, qs_trial_state *out, qs_error *err);

/* Default options (read-write, survives kill -9, 10 s busy timeout, 600 s stale_after_s). */
void qs_study_options_default(qs_study_options *opt);

/* Creates path as a new study or opens an existing one (WAL mode, busy timeout),
 * then marks stale the running trials of dead workers (qs_study_recover_stale with
 * the default stale_after_s). QS_ERR_INPUT naming the file if it is not SQLite,
 * not a qsearch study, or of another schema version. */
qs_status qs_study_open(const char *path, qs_study **out, qs_error *err);

/* qs_study_open with options (opt may be NULL). Read-only opening never creates. */
qs_status qs_study_open_ex(const char *path, const qs_study_options *opt, qs_study **out,
                           qs_error *err);

/* Closes the handle (NULL ok). Running trials claimed through it stay running. */
void qs_study_close(qs_study *s);

/* The path the study was opened with. */
const char *qs_study_path(const qs_study *s);

/* Ties the study to one search space: stores signature (and space_json, may be NULL)
 * on first use; later calls with another signature fail with QS_ERR_INPUT. */
qs_status qs_study_bind_space(qs_study *s, const char *signature, const char *space_json,
                              qs_error *err);

/* Sets metadata key to value (both text; replaces an existing value). */
qs_status qs_study_meta_set(qs_study *s, const char *key, const char *value, qs_error *err);

/* Gets metadata: *value is a malloc'd copy the caller frees, or NULL if key is absent. */
qs_status qs_study_meta_get(qs_study *s, const char *key, char **value, qs_error *err);

/* Calls fn for every metadata pair, in key order. */
qs_status qs_study_meta_list(qs_study *s, qs_study_meta_fn fn, void *ctx, qs_error *err);

/* Atomically claims a configuration: inserts a running trial (next number) unless a
 * non-stale trial with config_hash exists, in which case *claimed = 0 and *number is
 * that trial's. choices_json must be a JSON array. */
qs_status qs_study_claim(qs_study *s, uint64_t config_hash, const char *choices_json, int worker,
                         int64_t *number, int *claimed, qs_error *err);

/* Claims n configurations in one transaction (cheaper per trial; all or nothing):
 * as qs_study_claim for each i, results in number[n] and claimed[n]. */
qs_status qs_study_claim_many(qs_study *s, size_t n, const uint64_t *config_hash,
                              const char *const *choices_json, int worker, int64_t *number,
                              int *claimed, qs_error *err);

/* Records that a running trial is alive (updates heartbeat_at). */
qs_status qs_study_heartbeat(qs_study *s, int64_t number, qs_error *err);

/* Stores the result of a running trial and commits at once. QS_ERR_USAGE if the
 * trial is not running (finished already, or marked stale). */
qs_status qs_study_finish(qs_study *s, int64_t number, const qs_trial_result *r, qs_error *err);

/* Finishes n trials in one transaction (all or nothing; committed on return). */
qs_status qs_study_finish_many(qs_study *s, size_t n, const int64_t *number,
                               const qs_trial_result *r, qs_error *err);

/* Gives a running trial up (e.g. on interrupt): marks it failed + stale with reason,
 * so its configuration can be claimed again. */
qs_status qs_study_release(qs_study *s, int64_t number, const char *reason, qs_error *err);

/* Marks stale the running trials whose worker is gone: on this host, the process is
 * dead (or its pid was reused); on another host, with heartbeat_timeout_s > 0, no
 * heartbeat for that long. *n_marked (may be NULL) receives the count. */
qs_status qs_study_recover_stale(qs_study *s, double heartbeat_timeout_s, int64_t *n_marked,
                                 qs_error *err);

/* Calls fn for every trial in number order. */
qs_status qs_study_trials(qs_study *s, qs_study_trial_fn fn, void *ctx, qs_error *err);

/* Calls fn for trial number; *found (may be NULL) says whether it exists. */
qs_status qs_study_trial(qs_study *s, int64_t number, qs_study_trial_fn fn, void *ctx,
                         int *found, qs_error *err);

/* Counts trials by state. */
qs_status qs_study_count(qs_study *s, qs_study_counts *c, qs_error *err);

/* Stores (replaces) a named sample vector of a trial, e.g. "latency_ns": v[n] float64. */
qs_status qs_study_put_samples_f64(qs_study *s, int64_t trial, const char *name, const double *v,
                                   size_t n, qs_error *err);

/* Same for int64 samples (e.g. raw nanosecond timings). */
qs_status qs_study_put_samples_i64(qs_study *s, int64_t trial, const char *name, const int64_t *v,
                                   size_t n, qs_error *err);

/* Reads samples as doubles: *v is malloc'd (caller frees; NULL when n = 0 or absent),
 * *found (may be NULL) says whether they exist. */
qs_status qs_study_get_samples(qs_study *s, int64_t trial, const char *name, double **v, size_t *n,
                               int *found, qs_error *err);

/* Stores (replaces) one sample-efficiency curve: for trial index i < n, value[i] (objective
 * of that trial, NAN if none; value may be NULL) and best[i] (best so far, NAN if none yet). */
qs_status qs_study_put_curve(qs_study *s, const char *sampler, int repeat, int64_t seed,
                             const double *value, const double *best, size_t n, qs_error *err);

/* Calls fn for every curve point, ordered by sampler, repeat, trial index. */
qs_status qs_study_curves(qs_study *s, qs_study_curve_fn fn, void *ctx, qs_error *err);

#endif

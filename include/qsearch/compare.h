/* Sample-efficiency comparison of samplers (MASE lab 3 task 4, `qsearch
 * compare`): every configuration of a small space is evaluated once (an
 * exhaustive bruteforce pass recorded in a study), then each sampler is
 * replayed against that table with several seeds. Replaying is exact because
 * the objective is a deterministic function of the configuration (quality and
 * static metrics); measured metrics (latency, cpu_util) are refused.
 * Definitions (quartiles, "within 1%"): docs/search.md, section compare. */
#ifndef QSEARCH_COMPARE_H
#define QSEARCH_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/sampler.h"
#include "qsearch/search.h"
#include "qsearch/status.h"
#include "qsearch/study.h"

struct json_t;

/* Spaces larger than this are refused unless the caller raises the limit. */
#define QS_COMPARE_MAX_CONFIGS_DEFAULT 100000u

/* The objective of every configuration, indexed by its mixed-radix index in
 * bruteforce order (last parameter fastest, qs_sampler_config_index). */
typedef struct {
    size_t n_params;
    uint32_t *n_choices;       /* [n_params] */
    uint64_t size;             /* configurations */
    qs_direction direction;    /* of the single objective */
    size_t n_cons;             /* constraint columns (the config's active constraints) */
    qs_sampler_state *state;   /* [size] COMPLETE, PRUNED or FAILED */
    double *value;             /* [size] objective; NAN unless COMPLETE */
    double *cons;              /* [size][n_cons] value - limit (<= 0 feasible), or NULL when n_cons = 0 */
    unsigned char *filled;     /* [size] 1 once set */
    int have_optimum;          /* some configuration is COMPLETE and feasible */
    double optimum;            /* best feasible objective (set by qs_compare_table_finish) */
    uint64_t optimum_index;    /* its first index in bruteforce order */
} qs_compare_table;

/* An empty table over n_choices[n_params] (at most max_configs configurations). */
qs_status qs_compare_table_init(qs_compare_table *t, size_t n_params, const uint32_t *n_choices,
                                qs_direction direction, size_t n_cons, uint64_t max_configs, qs_error *err);
void qs_compare_table_free(qs_compare_table *t);

/* Records configuration choices[n_params]: state, value (used when COMPLETE),
 * cons[n_cons] (NULL: NAN). */
qs_status qs_compare_table_set(qs_compare_table *t, const uint32_t *choices, qs_sampler_state state,
                               double value, const double *cons, qs_error *err);

/* Checks every configuration was set and finds the optimum (QS_ERR_INPUT naming
 * how many are missing). */
qs_status qs_compare_table_finish(qs_compare_table *t, qs_error *err);

/* 1 when configuration idx is COMPLETE with a value and every constraint <= 0. */
int qs_compare_table_feasible(const qs_compare_table *t, uint64_t idx);

/* How a replay handled repeated proposals (count_duplicates = 0): as
 * qs_sampler_ask_fresh resolves them. */
typedef qs_sampler_dup_stats qs_compare_dup_stats;

/* Replays sampler kind with seed for n_trials trials against the table, as
 * `qsearch search --jobs 1` would run it on a new study: value[i] is trial i's
 * objective (NAN unless COMPLETE and feasible), best[i] the best feasible
 * objective so far (NAN before the first). count_duplicates = 0: a repeated
 * proposal is replaced as the search driver does (never evaluated twice; once
 * every configuration is taken the remaining trials keep the last best);
 * 1: every ask is a trial, repeats included (Optuna's loop). dups (may be
 * NULL) receives how repeats were handled. */
qs_status qs_compare_replay(const qs_compare_table *t, qs_sampler_kind kind, uint64_t seed, size_t n_trials,
                            int count_duplicates, double *value, double *best, qs_compare_dup_stats *dups,
                            qs_error *err);

/* Quantile q in [0, 1] of x[n] sorted ascending, by linear interpolation
 * between order statistics at q (n - 1) (numpy's default); +inf entries allowed
 * (the result is +inf when it touches one); NAN when n = 0. */
double qs_compare_quantile(const double *sorted, size_t n, double q);

/* First trial (1-based) whose best[i] is within rel x |optimum| of optimum
 * (|best - optimum| <= rel |optimum|); 0 when none of best[n] is. */
size_t qs_compare_trials_to_within(const double *best, size_t n, double optimum, double rel);

/* Per sampler: the curves of every repeat and their summaries. */
typedef struct {
    qs_sampler_kind kind;
    double *value, *best;      /* [repeats][n_trials] */
    double *median, *q1, *q3;  /* [n_trials] of best over repeats (NAN while any repeat has none) */
    size_t *within;            /* [repeats] trials to within rel of the optimum, 0 = never */
    double within_median, within_q1, within_q3; /* over repeats, never = +inf */
    size_t never;              /* repeats that never got within */
    qs_compare_dup_stats dups; /* summed over repeats */
} qs_compare_sampler;

typedef struct {
    size_t n_samplers;
    const qs_sampler_kind *samplers; /* [n_samplers] */
    size_t repeats;            /* seeds seed, seed + 1, ... */
    size_t n_trials;
    uint64_t seed;
    int count_duplicates;      /* as qs_compare_replay */
    double rel;                /* "within": 0.01 */
} qs_compare_options;

typedef struct {
    qs_compare_options opt;    /* copy (samplers points into kinds) */
    qs_sampler_kind *kinds;    /* [n_samplers] */
    size_t n_samplers;
    qs_compare_sampler *s;     /* [n_samplers] */
    double optimum;            /* the table's */
    uint64_t optimum_index;
    uint64_t size;
} qs_compare_result;

/* Replays every sampler for every repeat and summarises. */
qs_status qs_compare_run(const qs_compare_table *t, const qs_compare_options *o, qs_compare_result *r,
                         qs_error *err);
void qs_compare_result_free(qs_compare_result *r);

/* The exhaustive pass: refuses what cannot be replayed exactly (several
 * objectives, latency or cpu_util in an objective or constraint) and spaces
 * over max_configs, then runs opt's search with the bruteforce sampler over
 * the whole space into opt->study (an existing exhaustive study of the same
 * signature is reused: only missing configurations are evaluated) and fills t
 * (initialised here; free with qs_compare_table_free). res receives the
 * search's result (free with qs_search_result_free). */
qs_status qs_compare_exhaustive(const qs_search_options *opt, uint64_t max_configs, qs_compare_table *t,
                                qs_search_result *res, qs_error *err);

/* Stores every repeat's curve in the study's curves table (qs_study_put_curve),
 * named after the sampler ("tpe"), or "tpe (duplicates counted)" for such
 * replays; a stored curve of the same name and repeat is replaced. */
qs_status qs_compare_store_curves(const qs_compare_result *r, qs_study *study, qs_error *err);

/* The summary document (new reference): optimum, options, per sampler the curve
 * (median, q1, q3 per trial) and trials to within rel. names[n_params] label the optimum. */
struct json_t *qs_compare_json(const qs_compare_result *r, const qs_compare_table *t, const qs_search_space *sp);

/* Writes compare.json, curves.csv (sampler,trial,median,q1,q3), runs.csv
 * (sampler,repeat,seed,trial,value,best), within.csv (sampler,repeat,seed,trials)
 * and table.csv (one column per searched parameter with its choice index, then
 * value; every configuration) into dir (created if missing). */
qs_status qs_compare_write_outputs(const qs_compare_result *r, const qs_compare_table *t, const qs_search_space *sp,
                                   const char *dir, qs_error *err);

#endif

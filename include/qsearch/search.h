/* Quantization search (DESIGN.md section 8, docs/search.md): MASE's
 * `[search.search_space]` flattened to named categorical parameters,
 * `[search.strategy]` objectives, `[search.constraints]`, and the driver that
 * proposes configurations with a sampler, evaluates them on J threads and
 * records every trial in a study (resumable, shareable between processes). */
#ifndef QSEARCH_SEARCH_H
#define QSEARCH_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/data.h"
#include "qsearch/model.h"
#include "qsearch/quantize.h"
#include "qsearch/sampler.h"
#include "qsearch/status.h"
#include "qsearch/study.h"
#include "qsearch/toml.h"

/* ---- search space ---- */

/* One flattened parameter: "seq_blocks_2/config/weight_width" (by name) or
 * "linear/config/weight_width" (by type). */
typedef struct {
    char *name;         /* flattened name */
    const char *key;    /* the config key ("weight_width"), points into name */
    size_t entry;       /* index of its entry (layer or type) */
    size_t n_choices;   /* >= 1 */
    char **choices;     /* [n_choices] as text: "8", "NA", "integer", "[16]" */
    int searched;       /* 1 when n_choices > 1 (a one-choice parameter is fixed) */
    size_t index;       /* position among the searched parameters, when searched */
} qs_search_param;

/* One set of parameters: a layer (by name) or a layer type (by type). */
typedef struct {
    char name[32];          /* "seq_blocks_2" or "linear" */
    char source[32];        /* the seed entry it came from: its own name or "default" */
    size_t first, count;    /* its parameters: params[first .. first + count) */
    size_t layer;           /* a layer that uses it (for building) */
    uint64_t n_local;       /* combinations of its own parameters */
    qs_layer_quant *table;  /* [n_local] prebuilt formats, or NULL (built per trial) */
    unsigned char *valid;   /* [n_local] 0: that combination is invalid (its trials fail) */
} qs_search_entry;

typedef struct {
    int by_name;            /* 1: setup.by = "name"; 0: "type" */
    const qs_model *model;  /* borrowed */
    size_t n_entries;
    qs_search_entry *entries;
    size_t n_all;
    qs_search_param *all;   /* [n_all] every parameter, fixed ones too, entry by entry */
    size_t n_params;        /* searched parameters */
    size_t *searched;       /* [n_params] indices into all */
    const char **names;     /* [n_params] flattened names of the searched parameters */
    uint32_t *n_choices;    /* [n_params] */
    int *layer_entry;       /* [model->n_layers] entry of each layer, -1: stays float */
} qs_search_space;

/* Reads `search.search_space` of a parsed document for model m (borrowed until
 * free): flattens it, and validates every choice by building each layer's
 * formats with it (errors "FILE:LINE:COL: KEY: message"). */
qs_status qs_search_space_from_toml(qs_search_space *sp, const qs_model *m, const qs_toml_value *root,
                                    qs_error *err);
void qs_search_space_free(qs_search_space *sp);

/* The sampler's view of the searched parameters (points into sp). */
qs_sampler_space qs_search_space_sampler(const qs_search_space *sp);

/* Number of configurations (product of the searched choice counts). */
double qs_search_space_size(const qs_search_space *sp);

/* Fills cfg (initialised for sp->model) from choices[n_params]. No allocation
 * when every entry has a prebuilt table. QS_ERR_INPUT for a combination the
 * formats reject (the trial fails, not the search). */
qs_status qs_search_space_build(const qs_search_space *sp, const uint32_t *choices, qs_quant_config *cfg,
                                qs_error *err);

/* The space as JSON text (entries, parameters, choices); malloc'd, caller frees. */
char *qs_search_space_json(const qs_search_space *sp);

/* Compact text of a configuration's searched values, grouped per entry:
 * "seq_blocks_2[in6.3 w8.5] seq_blocks_5[w4]" (in/w/b = data_in/weight/bias
 * width, ".N" its frac width when that is searched too; other keys "key=value").
 * Truncated to cap - 1 characters; returns the length it needed (as snprintf). */
size_t qs_search_config_text(const qs_search_space *sp, const uint32_t *choices, char *buf, size_t cap);

/* The same from flattened names[n] ("seq_blocks_2/config/weight_width") and the
 * chosen values' texts values[n], for readers without a built space (the report). */
size_t qs_search_config_text_names(size_t n, const char *const *names, const char *const *values, char *buf,
                                   size_t cap);

/* Caption explaining qs_search_config_text's notation (a static string). */
const char *qs_search_config_text_legend(void);

/* ---- strategy, metrics, constraints ---- */

typedef enum {
    QS_SM_ACCURACY = 0, QS_SM_ACCURACY_MACRO, QS_SM_LOSS, QS_SM_AVG_BITWIDTH, QS_SM_MEMORY_DENSITY,
    QS_SM_MODEL_SIZE_BITS, QS_SM_PARAMS, QS_SM_MACS, QS_SM_FLOPS, QS_SM_BITOPS, QS_SM_LATENCY,
    QS_SM_ENERGY, QS_SM_CPU_UTIL, QS_SM_COUNT
} qs_search_metric;

/* Canonical metric names (JSON keys, CSV columns): "accuracy", ..., "avg_bitwidth", "latency" (ns). */
const char *qs_search_metric_name(qs_search_metric m);
/* Parses a metric name (also "average_bitwidth"); QS_ERR_INPUT listing the known ones. */
qs_status qs_search_metric_parse(const char *name, qs_search_metric *out, qs_error *err);

typedef struct {
    qs_search_metric metric;
    char name[40];          /* as written in the config ("average_bitwidth") */
    double scale;           /* default 1 */
    qs_direction direction; /* default: maximize accuracy/accuracy_macro/memory_density, else minimize */
} qs_search_term;

#define QS_SEARCH_MAX_TERMS 16

typedef enum {
    QS_SC_ACCURACY_DROP = 0, QS_SC_MODEL_SIZE_BITS, QS_SC_BITOPS, QS_SC_AVG_BITWIDTH, QS_SC_LATENCY,
    QS_SC_COUNT
} qs_search_constraint;

/* "accuracy_drop_max", "model_size_bits_max", "bitops_max", "avg_bitwidth_max", "latency_ns_max". */
const char *qs_search_constraint_name(qs_search_constraint c);

typedef struct {
    qs_sampler_kind sampler;   /* setup.sampler (default tpe) */
    size_t n_trials;           /* setup.n_trials; 0: the whole space for bruteforce, else 20 */
    uint64_t seed;             /* setup.seed (qsearch key; default 0) */
    int sum_scaled;            /* setup.sum_scaled_metrics (default true) */
    qs_direction sum_direction; /* setup.direction (default maximize) */
    int signed_sum;            /* setup.scaled_sum = "signed" (qsearch): flip terms against their direction */
    size_t n_terms;
    qs_search_term terms[QS_SEARCH_MAX_TERMS];
    size_t num_samples;        /* sw_runner.basic_evaluation.num_samples; 0: whole split */
    double compare_to;         /* hw_runner.average_bitwidth.compare_to (memory_density = it / avg) */
    double limit[QS_SC_COUNT]; /* [search.constraints]; NAN: not set */
    double latency_budget_s;   /* hw_runner.latency.budget_s per trial (default 0.1) */
    double latency_warmup_s;   /* hw_runner.latency.warmup_s (default 0.02) */
    int n_jobs;                /* setup.n_jobs (default 1; --jobs overrides) */
    double timeout_s;          /* setup.timeout: stop starting batches after this long; <= 0 none */
} qs_search_config;

/* Reads `search.strategy` and `search.constraints` (unknown keys, metrics,
 * samplers, directions are located QS_ERR_INPUT). */
qs_status qs_search_config_from_toml(qs_search_config *cfg, const qs_toml_value *root, qs_error *err);

/* Number of objectives: 1 with sum_scaled, else n_terms. */
size_t qs_search_n_objectives(const qs_search_config *cfg);

/* Objective values of one trial's metrics (metrics[QS_SM_COUNT], NAN = not
 * computed) into values[n_objectives]: MASE's scaled sum, or scale x metric
 * per objective. */
void qs_search_objectives(const qs_search_config *cfg, const double *metrics, double *values);

/* Number of terms whose direction conflicts with the sum's (MASE ignores them; for a warning). */
size_t qs_search_direction_conflicts(const qs_search_config *cfg);

/* ---- the driver ---- */

/* Progress report, called from the driving thread after each batch. */
typedef struct {
    size_t done;          /* finished trials in the study (all processes) */
    size_t target;        /* trials the search aims at */
    size_t pruned, failed;
    int have_best;
    double best;          /* best objective so far (single objective) */
    size_t n_objectives;  /* 1: single objective (best above), else a Pareto front */
    size_t front;         /* several objectives: size of the feasible Pareto front so far */
    double elapsed_s;
    size_t done_here;     /* trials finished by this process */
} qs_search_progress;

typedef void (*qs_search_progress_fn)(void *ctx, const qs_search_progress *p);

typedef struct {
    const qs_search_config *cfg;
    const qs_search_space *space;
    const qs_model *model;        /* float model */
    const qs_model_meta *meta;
    const qs_dataset *ds;
    const char *model_name;       /* for messages and metadata */
    const char *data_spec;
    const char *config_text;      /* stored as metadata (may be NULL) */
    qs_study *study;
    int jobs;                     /* threads evaluating at once (>= 1) */
    qs_search_progress_fn progress;
    void *progress_ctx;
    volatile int *stop;           /* set nonzero (e.g. from a signal) to stop after the batch; may be NULL */
} qs_search_options;

/* One trial as the result lists it. */
typedef struct {
    int64_t number;
    qs_trial_state state;
    uint32_t *choices;            /* [n_params] */
    double metrics[QS_SM_COUNT];  /* NAN when not computed */
    double *values;               /* [n_objectives], NAN when none */
    double constraints[QS_SC_COUNT]; /* value - limit (<= 0 feasible); NAN when unset/not computed */
    int feasible;
    char *error;                  /* why it failed or was pruned, or NULL */
    double duration_s;
    int has_test;                 /* test-split figures below are set (best trials) */
    double test_accuracy, test_accuracy_macro, test_loss;
} qs_search_trial;

typedef struct {
    size_t n_params, n_objectives;
    qs_direction directions[QS_SEARCH_MAX_TERMS];
    size_t n_trials;
    qs_search_trial *trials;      /* [n_trials] non-stale trials of the study in number order */
    size_t n_complete, n_pruned, n_failed, n_running;
    size_t n_best;
    size_t *best;                 /* [n_best] indices into trials: the best feasible trial or the front */
    double float_val_accuracy, float_test_accuracy; /* float baseline */
    double space_size;
    double wall_s;                /* wall time of this run's search loop */
    size_t evaluated_here;        /* trials this process finished */
    int latency_measured;         /* 1: latency was measured, serially after each parallel batch */
    size_t val_samples, test_samples;
} qs_search_result;

/* Runs the search to cfg->n_trials trials in the study (a resumed study
 * continues where it stopped), then re-evaluates the best trial(s) on the test
 * split. res is filled on success (free with qs_search_result_free). Study
 * metadata written (docs/search.md): space, config, model, arch, dataset,
 * splits, float_baseline, machine, seed, sampler, qsearch_version at the start;
 * run:<time>:<host>:<pid> (this run), wall_s (union of all runs) and test (merged)
 * at the end; "latency_ns" samples of trials that ranked best when they finished. */
qs_status qs_search_run(const qs_search_options *opt, qs_search_result *res, qs_error *err);
void qs_search_result_free(qs_search_result *res);

/* Writes log.json, best.json and trials.csv into dir (created if missing),
 * each atomically (temp file + rename). */
qs_status qs_search_write_outputs(const qs_search_result *res, const qs_search_options *opt, const char *dir,
                                  qs_error *err);

/* best.json's document (new reference) for --json. */
struct json_t *qs_search_best_json(const qs_search_result *res, const qs_search_options *opt);

/* The searched parameters of a configuration as a JSON object by flattened
 * name (integers as numbers, other choices as strings); new reference. */
struct json_t *qs_search_params_json(const qs_search_space *sp, const uint32_t *choices);

#endif

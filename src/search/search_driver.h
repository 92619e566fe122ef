/* Private to src/search/search*.c: the driver's state, workers and tasks. */
#ifndef QSEARCH_SEARCH_DRIVER_H
#define QSEARCH_SEARCH_DRIVER_H

#include "qsearch/energy.h"
#include "qsearch/engine.h"
#include "qsearch/evaluate.h"
#include "qsearch/search.h"

/* Per-thread evaluation state: its own formats, quantized view and scratch. */
typedef struct {
    qs_quant_config cfg;
    qs_quant_model qm;
    float *logits;              /* [val n][classes] */
    float *scratch;             /* qs_model_scratch_floats */
    qs_energy_layer_ops *ops;   /* [n_layers] */
    /* Latency runs on the execution path (the integer engine), re-planned
     * per configuration from the previous plan. */
    qs_engine *engine;
    void *engine_scratch;       /* [engine_scratch_bytes], 64-byte aligned */
    size_t engine_scratch_bytes;
    /* Prefix cache: the validation activations entering layer cache_layer for
     * the formats of layers [0, cache_layer) in `key`, so consecutive trials
     * that differ only from that layer on run only the tail. */
    float *act;                 /* [val n][width entering cache_layer] */
    qs_layer_quant *key;        /* [cache_layer] */
    int cached;
} search_worker;

/* One configuration being evaluated in a batch. */
typedef struct {
    int64_t number;             /* study trial number */
    uint32_t *choices;          /* [n_params] */
    uint64_t hash;
    qs_trial_state state;
    qs_status status;
    char error[QS_ERROR_MSG_MAX + 64]; /* failure or pruning reason */
    double metrics[QS_SM_COUNT];
    double cons[QS_SC_COUNT];   /* value - limit; NAN when unset or not computed */
    double duration_s;
    /* latency (serial phase): per-call statistics, ns, and the per-run samples */
    double lat_p95_ns, lat_ci_lo_ns, lat_ci_hi_ns;
    int lat_runs;               /* 0: not measured */
    double *lat_samples;        /* [lat_runs] malloc'd, freed when the batch finishes; may be NULL */
} search_task;

typedef struct {
    const qs_search_options *opt;
    const qs_search_config *cfg;
    const qs_search_space *space;
    const qs_model *model;
    size_t n_params, n_obj;
    size_t n_cons;                    /* active constraints */
    qs_search_constraint cons_id[QS_SC_COUNT];
    qs_eval_inputs val;               /* truncated to num_samples */
    double float_val_accuracy;
    size_t cache_layer;               /* 0: no prefix cache */
    int need_latency, need_energy, need_loss; /* need_loss: loss is an objective (else not computed) */
    /* history of the study's non-stale trials, in number order */
    qs_history h;
    int64_t *numbers;                 /* [h.n_trials] */
    size_t numbers_cap;
    uint64_t *set;                    /* open-addressing set of config hashes; 0 = empty */
    size_t set_cap, set_len;
    qs_sampler *sampler;
    int64_t expect_total, expect_done; /* study counts as this process last knew them */
    size_t done_here;
    /* the best trials so far (rebuilt on reload): single objective, the best
     * SEARCH_TOP feasible values; several, the feasible front's history rows */
    double top[16];
    size_t n_top;
    size_t *front, n_front, front_cap;
    /* this run's metadata key run:<UTC start>:<host>:<pid>, rewritten every
     * SEARCH_RUN_META_S so a killed run still counts (docs/search.md) */
    char run_key[320];
    double run_t0, run_started_at, run_meta_at; /* monotonic start, Unix start, last write (monotonic) */
} search_driver;

#define SEARCH_RUN_META_S 10.0

#define SEARCH_TOP 12 /* trials that keep latency samples: as many as the report's default top K */

double qs_search_now_s(void);
qs_status qs_search_worker_init(search_worker *w, const qs_model *m, size_t val_n, size_t cache_layer, qs_error *err);
void qs_search_worker_free(search_worker *w);
/* Builds, statically checks and evaluates t on the validation split (thread-safe per worker). */
void qs_search_eval_task(const search_driver *d, search_worker *w, search_task *t);
/* Measures t's latency at batch 1 (serial phase). */
void qs_search_latency_task(const search_driver *d, search_worker *w, search_task *t);

/* Index of the first maximum of row[n] (as qs_quality_argmax for finite rows);
 * *special = 1 when some value is inf or NaN. The AVX2 twin needs the CPU's
 * AVX2 (__builtin_cpu_supports) and gives the same answers. */
size_t qs_search_argmax_ref(const float *row, size_t n, int *special);
size_t qs_search_argmax_avx2(const float *row, size_t n, int *special);

/* Writes this run's key (wall_s = loop time so far, trials done here) and the
 * study's wall_s (union of all runs); called at the start, every
 * SEARCH_RUN_META_S from the loop, and at the end. */
qs_status qs_search_run_meta(search_driver *d, qs_error *err);

/* JSON text helpers shared by the driver and the result reader. */
char *qs_search_choices_json(const uint32_t *choices, size_t n);

#endif

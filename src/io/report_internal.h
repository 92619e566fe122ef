/* Private to the report (src/io/report*.c): the study as the report sees it. */
#ifndef QSEARCH_REPORT_INTERNAL_H
#define QSEARCH_REPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/pareto.h"
#include "qsearch/report.h"
#include "qsearch/study.h"
#include "qsearch/svg.h"

/* Metrics the report knows (DESIGN.md section 3 keys). */
typedef enum {
    RM_ACCURACY = 0, RM_ACCURACY_MACRO, RM_LOSS, RM_LATENCY, RM_MODEL_SIZE, RM_AVG_BITWIDTH, RM_BITOPS,
    RM_ENERGY, RM_MEMORY_DENSITY, RM_PARAMS, RM_MACS, RM_FLOPS, RM_CPU_UTIL, RM_THROUGHPUT, RM_COUNT
} rep_metric_id;

typedef struct {
    const char *key;   /* JSON key in metrics_json */
    const char *sub;   /* key inside an object value ("median_ns"), or NULL */
    const char *label; /* axis title with unit */
    int higher_better;
    int hardware;      /* plotted against accuracy */
} rep_metric;

extern const rep_metric rep_metrics[RM_COUNT];

typedef struct {
    int64_t number;
    qs_trial_state state;
    int stale;
    int feasible;          /* constraints all <= 0 (or none) */
    uint32_t *choices;     /* [n_choices] choice indices, or NULL if unreadable */
    size_t n_choices;
    double *values;        /* [n_obj] objective values, NAN when none */
    double m[RM_COUNT];    /* metrics, NAN when absent */
    double lat_ci[2];      /* latency ci95_ns from the metrics JSON, NAN when absent */
    int has_test;
    double test[3];        /* test-split accuracy, accuracy_macro, loss */
    double duration_s, started_at, finished_at;
    char *error;
} rep_trial;

typedef struct {
    char *sampler;
    size_t n_repeats, n;   /* curve length n (trial index 0..n-1) */
    double *best;          /* [n_repeats][n], NAN where unknown */
    size_t n_known;        /* trial indices up to the last known point */
} rep_curves;

typedef struct {
    qs_study *study;       /* borrowed */
    /* metadata: every pair, in key order */
    size_t n_meta;
    char **meta_key, **meta_val;
    /* space (from meta "space"): searched parameter names and choice texts */
    size_t n_params;
    char **param_names;    /* [n_params] */
    size_t *param_n_choices; /* [n_params] */
    char ***param_choices; /* [n_params][n_choices] text; NULL when unknown */
    double space_size;     /* NAN when unknown */
    /* objectives */
    size_t n_obj;
    qs_direction dirs[16];
    char obj_names[16][48];
    /* trials (stale ones included; the report skips them where it says so) */
    size_t n_trials;
    rep_trial *trials;
    qs_study_counts counts;
    int have_metric[RM_COUNT]; /* some complete trial has it */
    /* best: index of the best feasible complete trial, or the front (multi-objective) */
    size_t n_best;
    size_t *best;          /* indices into trials, best first */
    size_t n_ranked;
    size_t *ranked;        /* complete trials sorted best first (single) or front first (multi) */
    size_t n_curves;
    rep_curves *curves;
    double float_accuracy; /* float baseline (val), NAN when unknown */
} rep_data;

/* Report sections that hold plots, in page order. */
typedef enum { SEC_CONFIGS = 0, SEC_SCATTER, SEC_HISTORY, SEC_HEATMAP, SEC_CURVES, SEC_LATENCY, SEC_COUNT } rep_section;

/* One produced plot (name for --plots, svg text), or a note when svg is NULL. */
typedef struct {
    rep_section section;
    char name[64];
    char caption[256];
    char *svg;             /* malloc'd; NULL: caption is a note saying why a plot is missing */
    size_t len;
} rep_plot;

typedef struct {
    const qs_report_options *opt;
    rep_data *d;
    size_t n_plots, cap_plots;
    rep_plot *plots;
    int oom;
} rep_ctx;

/* report_data.c */
qs_status rep_load(rep_data *d, qs_study *s, qs_error *err);
void rep_free(rep_data *d);
const char *rep_meta(const rep_data *d, const char *key); /* NULL when absent */
/* Compact configuration text of a trial ("seq_blocks_2[in6.3 w8.5] ...", as
 * qs_search_config_text), malloc'd; NULL when its choices are unknown. */
char *rep_config_text(const rep_data *d, const rep_trial *t);
/* The same into b, one group per layer (or type), groups joined by sep. */
void rep_config_label(const rep_data *d, const rep_trial *t, qs_svg_buf *b, const char *sep);
/* Short name of searched parameter p: "seq_blocks_2 w" (weight_width), "seq_blocks_2 in.frac". */
void rep_param_short(const rep_data *d, size_t p, char *out, size_t cap);
/* Non-dominated rows of v[n][m] (all minimised; NaN-free) into idx_out[n]; returns the
 * count (0 also on allocation failure). Lexicographic order, duplicates kept once. */
size_t rep_front(const double *v, size_t n, size_t m, size_t *idx_out);
/* Text of choice c of parameter p ("8"), or its index when the space is unknown. */
void rep_choice_text(const rep_data *d, size_t p, uint32_t c, char *out, size_t cap);

/* report_plots.c: each adds zero or more plots to ctx (or a note why none). */
void rep_plot_metric_configs(rep_ctx *c);
void rep_plot_accuracy_vs_hw(rep_ctx *c);
void rep_plot_history(rep_ctx *c);
void rep_plot_heatmap(rep_ctx *c);
void rep_plot_curves(rep_ctx *c);
qs_status rep_plot_latency(rep_ctx *c, qs_error *err);
/* Takes ownership of the buffer's text. */
void rep_add_plot(rep_ctx *c, rep_section sec, const char *name, const char *caption, qs_svg_buf *b);
void rep_note(rep_ctx *c, rep_section sec, const char *text);

#endif

/* `[search.strategy]` and `[search.constraints]` as MASE writes them (plus a
 * few qsearch keys), metric names, and objective values. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "qsearch/combine.h"
#include "qsearch/search.h"

static const char *const metric_names[QS_SM_COUNT] = {
    [QS_SM_ACCURACY] = "accuracy",       [QS_SM_ACCURACY_MACRO] = "accuracy_macro",
    [QS_SM_LOSS] = "loss",               [QS_SM_AVG_BITWIDTH] = "avg_bitwidth",
    [QS_SM_MEMORY_DENSITY] = "memory_density", [QS_SM_MODEL_SIZE_BITS] = "model_size_bits",
    [QS_SM_PARAMS] = "params",           [QS_SM_MACS] = "macs",
    [QS_SM_FLOPS] = "flops",             [QS_SM_BITOPS] = "bitops",
    [QS_SM_LATENCY] = "latency",         [QS_SM_ENERGY] = "energy",
    [QS_SM_CPU_UTIL] = "cpu_util",
};
_Static_assert(sizeof metric_names / sizeof metric_names[0] == QS_SM_COUNT, "metric names");

static const char *const constraint_names[QS_SC_COUNT] = {
    [QS_SC_ACCURACY_DROP] = "accuracy_drop_max", [QS_SC_MODEL_SIZE_BITS] = "model_size_bits_max",
    [QS_SC_BITOPS] = "bitops_max",               [QS_SC_AVG_BITWIDTH] = "avg_bitwidth_max",
    [QS_SC_LATENCY] = "latency_ns_max",
};

const char *qs_search_metric_name(qs_search_metric m) { return (unsigned)m < QS_SM_COUNT ? metric_names[m] : "?"; }

const char *qs_search_constraint_name(qs_search_constraint c)
{
    return (unsigned)c < QS_SC_COUNT ? constraint_names[c] : "?";
}

qs_status qs_search_metric_parse(const char *name, qs_search_metric *out, qs_error *err)
{
    if (strcmp(name, "average_bitwidth") == 0) {
        *out = QS_SM_AVG_BITWIDTH;
        return QS_OK;
    }
    for (int m = 0; m < QS_SM_COUNT; m++)
        if (strcmp(name, metric_names[m]) == 0) {
            *out = (qs_search_metric)m;
            return QS_OK;
        }
    return qs_error_set(err, QS_ERR_INPUT,
                        "unknown metric '%s' (known: accuracy, accuracy_macro, loss, average_bitwidth "
                        "(avg_bitwidth), memory_density, model_size_bits, params, macs, flops, bitops, "
                        "latency, energy, cpu_util)", name);
}

/* Rejects keys of table t not in the NULL-terminated list. */
static qs_status only_keys(const qs_toml_value *t, const char *const *keys, const char *expected, qs_error *err)
{
    if (t->type != QS_TOML_TABLE)
        return qs_toml_error_at(err, t, "expected a table, got a %s", qs_toml_type_name(t->type));
    for (size_t i = 0; i < t->u.tab.len; i++) {
        int ok = 0;
        for (size_t k = 0; keys[k]; k++)
            ok |= strcmp(t->u.tab.items[i].key, keys[k]) == 0;
        if (!ok)
            return qs_toml_error_at(err, t->u.tab.items[i].value, "unknown key '%s' (expected %s)",
                                    t->u.tab.items[i].key, expected);
    }
    return QS_OK;
}

static qs_status opt_float(const qs_toml_value *t, const char *key, double lo, double *out, qs_error *err)
{
    const qs_toml_value *v = t ? qs_toml_table_get(t, key) : NULL;
    if (!v)
        return QS_OK;
    QS_TRY(qs_toml_as_float(v, out, err));
    if (!(*out >= lo) || !isfinite(*out))
        return qs_toml_error_at(err, v, "must be a finite number >= %g", lo);
    return QS_OK;
}

static qs_status opt_direction(const qs_toml_value *t, const char *key, qs_direction *out, qs_error *err)
{
    const qs_toml_value *v = qs_toml_table_get(t, key);
    if (!v)
        return QS_OK;
    const char *s;
    QS_TRY(qs_toml_as_string(v, &s, err));
    qs_error inner;
    if (qs_direction_parse(s, out, &inner))
        return qs_toml_error_at(err, v, "direction \"%s\": expected \"maximize\" or \"minimize\"", s);
    return QS_OK;
}

static qs_direction natural_direction(qs_search_metric m)
{
    return (m == QS_SM_ACCURACY || m == QS_SM_ACCURACY_MACRO || m == QS_SM_MEMORY_DENSITY) ? QS_MAXIMIZE
                                                                                         : QS_MINIMIZE;
}

static qs_status read_metrics(qs_search_config *c, const qs_toml_value *metrics, qs_error *err)
{
    if (metrics->type != QS_TOML_TABLE)
        return qs_toml_error_at(err, metrics, "expected a table of metrics");
    static const char *const keys[] = {"scale", "direction", NULL};
    for (size_t i = 0; i < metrics->u.tab.len; i++) {
        const qs_toml_entry *e = &metrics->u.tab.items[i];
        qs_search_metric m;
        qs_error inner;
        if (qs_search_metric_parse(e->key, &m, &inner))
            return qs_toml_error_at(err, e->value, "%s", inner.msg);
        for (size_t k = 0; k < c->n_terms; k++)
            if (c->terms[k].metric == m)
                return qs_toml_error_at(err, e->value, "metric %s is given twice", qs_search_metric_name(m));
        if (c->n_terms == QS_SEARCH_MAX_TERMS)
            return qs_toml_error_at(err, e->value, "more than %d metrics", QS_SEARCH_MAX_TERMS);
        QS_TRY(only_keys(e->value, keys, "scale, direction", err));
        qs_search_term *t = &c->terms[c->n_terms++];
        t->metric = m;
        snprintf(t->name, sizeof t->name, "%s", e->key);
        t->scale = 1.0;
        t->direction = natural_direction(m);
        const qs_toml_value *sv = qs_toml_table_get(e->value, "scale");
        if (sv) {
            QS_TRY(qs_toml_as_float(sv, &t->scale, err));
            if (!isfinite(t->scale))
                return qs_toml_error_at(err, sv, "must be finite");
        }
        QS_TRY(opt_direction(e->value, "direction", &t->direction, err));
    }
    if (c->n_terms == 0)
        return qs_toml_error_at(err, metrics, "no metrics: name at least one (e.g. accuracy.scale = 1.0)");
    return QS_OK;
}

static qs_status read_setup(qs_search_config *c, const qs_toml_value *setup, qs_error *err)
{
    static const char *const keys[] = {"n_trials", "sampler", "sum_scaled_metrics", "direction", "seed", "n_jobs",
                                       "timeout", "model_parallel", "scaled_sum", NULL};
    QS_TRY(only_keys(setup, keys, "n_trials, sampler, sum_scaled_metrics, direction, seed, n_jobs, timeout, "
                                  "model_parallel, scaled_sum", err));
    const qs_toml_value *v;
    int64_t i;
    if ((v = qs_toml_table_get(setup, "n_trials"))) {
        QS_TRY(qs_toml_get_int_range(setup, "n_trials", 1, INT64_MAX, &i, err));
        c->n_trials = (size_t)i;
    }
    if ((v = qs_toml_table_get(setup, "n_jobs"))) {
        QS_TRY(qs_toml_get_int_range(setup, "n_jobs", 1, 256, &i, err));
        c->n_jobs = (int)i;
    }
    if ((v = qs_toml_table_get(setup, "seed"))) {
        QS_TRY(qs_toml_get_int_range(setup, "seed", 0, INT64_MAX, &i, err));
        c->seed = (uint64_t)i;
    }
    if ((v = qs_toml_table_get(setup, "sampler"))) {
        const char *s;
        qs_error inner;
        QS_TRY(qs_toml_as_string(v, &s, err));
        if (qs_sampler_kind_parse(s, &c->sampler, &inner))
            return qs_toml_error_at(err, v, "%s", inner.msg);
    }
    if ((v = qs_toml_table_get(setup, "sum_scaled_metrics")))
        QS_TRY(qs_toml_as_bool(v, &c->sum_scaled, err));
    if ((v = qs_toml_table_get(setup, "model_parallel"))) {
        int b;
        QS_TRY(qs_toml_as_bool(v, &b, err)); /* MASE's key; qsearch evaluates on the CPU */
    }
    QS_TRY(opt_direction(setup, "direction", &c->sum_direction, err));
    QS_TRY(opt_float(setup, "timeout", 0, &c->timeout_s, err));
    if ((v = qs_toml_table_get(setup, "scaled_sum"))) {
        const char *s;
        QS_TRY(qs_toml_as_string(v, &s, err));
        if (strcmp(s, "mase") != 0 && strcmp(s, "signed") != 0)
            return qs_toml_error_at(err, v, "must be \"mase\" or \"signed\"");
        c->signed_sum = strcmp(s, "signed") == 0;
    }
    return QS_OK;
}

static qs_status read_runners(qs_search_config *c, const qs_toml_value *strat, qs_error *err)
{
    const qs_toml_value *sw = qs_toml_table_get(strat, "sw_runner");
    if (sw) {
        static const char *const k1[] = {"basic_evaluation", NULL}, *const k2[] = {"num_samples", "data_loader", NULL};
        QS_TRY(only_keys(sw, k1, "basic_evaluation", err));
        const qs_toml_value *be = qs_toml_table_get(sw, "basic_evaluation");
        if (be) {
            QS_TRY(only_keys(be, k2, "num_samples, data_loader", err));
            if (qs_toml_table_get(be, "num_samples")) {
                int64_t n;
                QS_TRY(qs_toml_get_int_range(be, "num_samples", 1, INT64_MAX, &n, err));
                c->num_samples = (size_t)n;
            }
            const qs_toml_value *dl = qs_toml_table_get(be, "data_loader");
            const char *s;
            if (dl && (qs_toml_as_string(dl, &s, err) || strcmp(s, "val_dataloader") != 0))
                return qs_toml_error_at(err, dl, "qsearch evaluates trials on the validation split: "
                                                 "data_loader must be \"val_dataloader\"");
        }
    }
    const qs_toml_value *hw = qs_toml_table_get(strat, "hw_runner");
    if (hw) {
        static const char *const k1[] = {"average_bitwidth", "latency", NULL}, *const k2[] = {"compare_to", NULL},
                                 *const k3[] = {"budget_s", "warmup_s", NULL};
        QS_TRY(only_keys(hw, k1, "average_bitwidth, latency", err));
        const qs_toml_value *ab = qs_toml_table_get(hw, "average_bitwidth"), *lat = qs_toml_table_get(hw, "latency");
        if (ab) {
            QS_TRY(only_keys(ab, k2, "compare_to", err));
            QS_TRY(opt_float(ab, "compare_to", 1e-9, &c->compare_to, err));
        }
        if (lat) {
            QS_TRY(only_keys(lat, k3, "budget_s, warmup_s", err));
            QS_TRY(opt_float(lat, "budget_s", 0.001, &c->latency_budget_s, err));
            QS_TRY(opt_float(lat, "warmup_s", 0, &c->latency_warmup_s, err));
        }
    }
    return QS_OK;
}

static qs_status read_constraints(qs_search_config *c, const qs_toml_value *cons, qs_error *err)
{
    if (cons->type != QS_TOML_TABLE)
        return qs_toml_error_at(err, cons, "expected a table");
    for (size_t i = 0; i < cons->u.tab.len; i++) {
        const qs_toml_entry *e = &cons->u.tab.items[i];
        int k = -1;
        for (int j = 0; j < QS_SC_COUNT; j++)
            if (strcmp(e->key, constraint_names[j]) == 0)
                k = j;
        if (strcmp(e->key, "average_bitwidth_max") == 0)
            k = QS_SC_AVG_BITWIDTH;
        if (k < 0)
            return qs_toml_error_at(err, e->value, "unknown constraint '%s' (known: accuracy_drop_max, "
                                                   "model_size_bits_max, bitops_max, avg_bitwidth_max, "
                                                   "latency_ns_max)", e->key);
        QS_TRY(opt_float(cons, e->key, 0, &c->limit[k], err));
    }
    return QS_OK;
}

static void defaults(qs_search_config *c)
{
    memset(c, 0, sizeof *c);
    c->sampler = QS_SAMPLER_TPE;
    c->sum_scaled = 1;
    c->sum_direction = QS_MAXIMIZE;
    c->compare_to = 32;
    c->latency_budget_s = 0.1;
    c->latency_warmup_s = 0.02;
    c->n_jobs = 1;
    for (int k = 0; k < QS_SC_COUNT; k++)
        c->limit[k] = NAN;
}

qs_status qs_search_config_from_toml(qs_search_config *c, const qs_toml_value *root, qs_error *err)
{
    defaults(c);
    const qs_toml_value *search, *strat, *v;
    QS_TRY(qs_toml_get_table(root, "search", &search, err));
    static const char *const top[] = {"search_space", "strategy", "constraints", NULL};
    QS_TRY(only_keys(search, top, "search_space, strategy, constraints", err));
    QS_TRY(qs_toml_get_table(search, "strategy", &strat, err));
    static const char *const keys[] = {"name", "eval_mode", "sw_runner", "hw_runner", "setup", "metrics", NULL};
    QS_TRY(only_keys(strat, keys, "name, eval_mode, sw_runner, hw_runner, setup, metrics", err));
    if ((v = qs_toml_table_get(strat, "name"))) {
        const char *s;
        QS_TRY(qs_toml_as_string(v, &s, err));
        if (strcmp(s, "optuna") != 0)
            return qs_toml_error_at(err, v, "unknown strategy \"%s\" (expected \"optuna\"; the sampler is "
                                            "setup.sampler)", s);
    }
    if ((v = qs_toml_table_get(strat, "eval_mode"))) {
        int b;
        QS_TRY(qs_toml_as_bool(v, &b, err));
        if (!b)
            return qs_toml_error_at(err, v, "qsearch evaluates in eval mode (BN running statistics) only");
    }
    if ((v = qs_toml_table_get(strat, "setup")))
        QS_TRY(read_setup(c, v, err));
    QS_TRY(read_runners(c, strat, err));
    const qs_toml_value *metrics;
    QS_TRY(qs_toml_get_table(strat, "metrics", &metrics, err));
    QS_TRY(read_metrics(c, metrics, err));
    if ((v = qs_toml_table_get(search, "constraints")))
        QS_TRY(read_constraints(c, v, err));
    return QS_OK;
}

size_t qs_search_n_objectives(const qs_search_config *c) { return c->sum_scaled ? 1 : c->n_terms; }

/* The configured terms as combine.h takes them (values from metrics, or 0). */
static void term_array(const qs_search_config *c, const double *metrics, qs_metric_term *t)
{
    for (size_t i = 0; i < c->n_terms; i++)
        t[i] = (qs_metric_term){qs_search_metric_name(c->terms[i].metric),
                                metrics ? metrics[c->terms[i].metric] : 0.0, c->terms[i].scale,
                                c->terms[i].direction};
}

static qs_scaled_sum_mode sum_mode(const qs_search_config *c)
{
    return c->signed_sum ? QS_SCALED_SUM_SIGNED : QS_SCALED_SUM_MASE;
}

void qs_search_objectives(const qs_search_config *c, const double *metrics, double *values)
{
    qs_metric_term t[QS_SEARCH_MAX_TERMS];
    term_array(c, metrics, t);
    if (c->sum_scaled) {
        values[0] = qs_combine_scaled_sum(t, c->n_terms, c->sum_direction, sum_mode(c), NULL);
        return;
    }
    for (size_t i = 0; i < c->n_terms; i++) /* MASE: each objective is scale x metric */
        values[i] = t[i].scale * t[i].value;
}

size_t qs_search_direction_conflicts(const qs_search_config *c)
{
    if (!c->sum_scaled)
        return 0;
    qs_metric_term t[QS_SEARCH_MAX_TERMS];
    term_array(c, NULL, t);
    return qs_combine_direction_conflicts(t, c->n_terms, c->sum_direction, sum_mode(c));
}

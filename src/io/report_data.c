/* The report's view of a study: metadata, space, objectives, trials with their
 * metrics parsed from JSON, the best trials / Pareto front, curves. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/search.h"
#include "qsearch/toml.h"
#include "report_internal.h"

const rep_metric rep_metrics[RM_COUNT] = {
    [RM_ACCURACY] = {"accuracy", NULL, "accuracy (fraction correct)", 1, 0},
    [RM_ACCURACY_MACRO] = {"accuracy_macro", NULL, "macro accuracy (mean class recall)", 1, 0},
    [RM_LOSS] = {"loss", NULL, "loss (cross-entropy, nats)", 0, 0},
    [RM_LATENCY] = {"latency", "median_ns", "latency, median (ns)", 0, 1},
    [RM_MODEL_SIZE] = {"model_size_bits", NULL, "model size (bits)", 0, 1},
    [RM_AVG_BITWIDTH] = {"avg_bitwidth", NULL, "average weight bit width (bits)", 0, 0},
    [RM_BITOPS] = {"bitops", NULL, "BitOPs per sample (bit operations)", 0, 1},
    [RM_ENERGY] = {"energy", "joules", "energy per inference (J)", 0, 1},
    [RM_MEMORY_DENSITY] = {"memory_density", NULL, "memory density (32 / avg bit width)", 1, 0},
    [RM_PARAMS] = {"params", NULL, "parameters (count)", 0, 0},
    [RM_MACS] = {"macs", NULL, "MACs per sample (count)", 0, 0},
    [RM_FLOPS] = {"flops", NULL, "FLOPs per sample (count)", 0, 0},
    [RM_CPU_UTIL] = {"cpu_util", NULL, "CPU utilisation (fraction)", 0, 0},
    [RM_THROUGHPUT] = {"throughput_sps", NULL, "throughput (samples/s)", 1, 0},
};

const char *rep_meta(const rep_data *d, const char *key)
{
    for (size_t i = 0; i < d->n_meta; i++)
        if (strcmp(d->meta_key[i], key) == 0)
            return d->meta_val[i];
    return NULL;
}

typedef struct {
    rep_data *d;
    size_t cap;
    int oom;
} meta_ctx;

static int meta_one(void *ctx, const char *key, const char *value)
{
    meta_ctx *m = ctx;
    rep_data *d = m->d;
    if (d->n_meta == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 32;
        char **k = realloc(d->meta_key, cap * sizeof *k);
        if (k)
            d->meta_key = k;
        char **v = realloc(d->meta_val, cap * sizeof *v);
        if (v)
            d->meta_val = v;
        if (!k || !v) {
            m->oom = 1;
            return 1;
        }
        m->cap = cap;
    }
    d->meta_key[d->n_meta] = strdup(key);
    d->meta_val[d->n_meta] = strdup(value ? value : "");
    if (!d->meta_key[d->n_meta] || !d->meta_val[d->n_meta]) {
        free(d->meta_key[d->n_meta]);
        free(d->meta_val[d->n_meta]);
        m->oom = 1;
        return 1;
    }
    d->n_meta++;
    return 0;
}

/* Reads the searched parameters and their choices from meta "space" (search.h's JSON). */
static qs_status load_space(rep_data *d, qs_error *err)
{
    d->space_size = NAN;
    const char *text = rep_meta(d, "space");
    if (!text || !*text)
        return QS_OK;
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    if (!doc) /* a space we cannot read only costs the labels */
        return QS_OK;
    json_t *size = json_object_get(doc, "size"), *searched = json_object_get(doc, "searched");
    if (json_is_number(size))
        d->space_size = json_number_value(size);
    size_t n = json_is_array(searched) ? json_array_size(searched) : 0;
    qs_status st = QS_OK;
    d->param_names = calloc(n ? n : 1, sizeof *d->param_names);
    d->param_n_choices = calloc(n ? n : 1, sizeof *d->param_n_choices);
    d->param_choices = calloc(n ? n : 1, sizeof *d->param_choices);
    if (!d->param_names || !d->param_n_choices || !d->param_choices)
        st = qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
    for (size_t i = 0; st == QS_OK && i < n; i++) {
        const char *name = json_string_value(json_array_get(searched, i));
        d->param_names[i] = strdup(name ? name : "?");
        d->n_params = i + 1;
        /* Find its choices among the entries' parameters. */
        json_t *entries = json_object_get(doc, "entries"), *e, *p;
        size_t ie, ip;
        json_array_foreach(entries, ie, e) {
            json_array_foreach(json_object_get(e, "params"), ip, p) {
                const char *pn = json_string_value(json_object_get(p, "name"));
                json_t *ch = json_object_get(p, "choices");
                if (!pn || !name || strcmp(pn, name) != 0 || !json_is_array(ch) || d->param_choices[i])
                    continue;
                size_t nc = json_array_size(ch);
                d->param_choices[i] = calloc(nc ? nc : 1, sizeof(char *));
                if (!d->param_choices[i])
                    break;
                d->param_n_choices[i] = nc;
                for (size_t c = 0; c < nc; c++) {
                    const char *s = json_string_value(json_array_get(ch, c));
                    d->param_choices[i][c] = strdup(s ? s : "?");
                }
            }
        }
    }
    json_decref(doc);
    return st;
}

/* "metric.direction" by MASE's rule: maximize accuracy-like metrics, minimize the rest. */
static qs_direction natural_direction(const char *metric)
{
    return strcmp(metric, "accuracy") == 0 || strcmp(metric, "accuracy_macro") == 0 ||
                   strcmp(metric, "memory_density") == 0
               ? QS_MAXIMIZE
               : QS_MINIMIZE;
}

/* Objectives from meta "config" (the search TOML): one scaled sum, or one per metric. */
static void objectives_from_config(rep_data *d)
{
    const char *text = rep_meta(d, "config");
    qs_toml_doc *doc = NULL;
    qs_error e2;
    d->n_obj = 1;
    d->dirs[0] = QS_MAXIMIZE; /* MASE's default direction */
    snprintf(d->obj_names[0], sizeof d->obj_names[0], "objective");
    if (!text || qs_toml_parse_string(text, strlen(text), "config", &doc, &e2) != QS_OK)
        return;
    const qs_toml_value *setup = qs_toml_find(doc->root, "search.strategy.setup");
    const qs_toml_value *metrics = qs_toml_find(doc->root, "search.strategy.metrics");
    const qs_toml_value *v;
    int sum = 1;
    if ((v = qs_toml_table_get(setup, "sum_scaled_metrics")) && v->type == QS_TOML_BOOLEAN)
        sum = v->u.b;
    if ((v = qs_toml_table_get(setup, "direction")) && v->type == QS_TOML_STRING)
        (void)qs_direction_parse(v->u.s.ptr, &d->dirs[0], &e2);
    if (sum) {
        snprintf(d->obj_names[0], sizeof d->obj_names[0], "scaled sum (%s)", qs_direction_name(d->dirs[0]));
    } else if (metrics && metrics->type == QS_TOML_TABLE && metrics->u.tab.len) {
        d->n_obj = 0;
        for (size_t i = 0; i < metrics->u.tab.len && d->n_obj < 16; i++) {
            const qs_toml_entry *en = &metrics->u.tab.items[i];
            qs_direction dir = natural_direction(strcmp(en->key, "average_bitwidth") == 0 ? "avg_bitwidth" : en->key);
            if ((v = qs_toml_table_get(en->value, "direction")) && v->type == QS_TOML_STRING)
                (void)qs_direction_parse(v->u.s.ptr, &dir, &e2);
            d->dirs[d->n_obj] = dir;
            snprintf(d->obj_names[d->n_obj], sizeof d->obj_names[0], "%.30s (%s)", en->key, qs_direction_name(dir));
            d->n_obj++;
        }
    }
    qs_toml_free(doc);
}

/* Explicit meta "directions" (JSON array of "maximize"/"minimize") wins over the config. */
static void load_objectives(rep_data *d)
{
    objectives_from_config(d);
    const char *text = rep_meta(d, "directions");
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    if (json_is_array(a) && json_array_size(a) >= 1 && json_array_size(a) <= 16) {
        size_t n = json_array_size(a);
        for (size_t k = 0; k < n; k++) {
            const char *s = json_string_value(json_array_get(a, k));
            qs_error e2;
            if (!s || qs_direction_parse(s, &d->dirs[k], &e2) != QS_OK)
                d->dirs[k] = QS_MAXIMIZE;
            if (n != d->n_obj)
                snprintf(d->obj_names[k], sizeof d->obj_names[0], "objective %zu (%s)", k, qs_direction_name(d->dirs[k]));
        }
        d->n_obj = n;
    }
    json_decref(a);
}

static double metric_value(json_t *m, const rep_metric *def)
{
    json_t *v = json_object_get(m, def->key);
    if (json_is_object(v) && def->sub)
        v = json_object_get(v, def->sub);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

typedef struct {
    rep_data *d;
    size_t cap;
    json_t *test; /* meta "test": {"<trial>": {accuracy, accuracy_macro, loss}} */
    qs_status st;
    qs_error *err;
} trial_ctx;

static void read_test(rep_trial *t, json_t *o)
{
    static const char *const k[3] = {"accuracy", "accuracy_macro", "loss"};
    if (!json_is_object(o))
        return;
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(o, k[i]);
        t->test[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    t->has_test = isfinite(t->test[0]) || isfinite(t->test[1]) || isfinite(t->test[2]);
}

/* Feasible when every constraint value (array or object of numbers) is <= 0. */
static int feasible(const char *text)
{
    json_t *c = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    int ok = 1;
    json_t *v;
    size_t i;
    const char *k;
    if (json_is_array(c)) {
        json_array_foreach(c, i, v) ok &= json_is_number(v) && json_number_value(v) <= 0;
    } else if (json_is_object(c)) {
        json_object_foreach(c, k, v) ok &= json_is_number(v) && json_number_value(v) <= 0;
    }
    json_decref(c);
    return ok;
}

static qs_status parse_trial(trial_ctx *c, rep_trial *t, const qs_trial_record *r)
{
    rep_data *d = c->d;
    qs_error *err = c->err;
    for (int k = 0; k < RM_COUNT; k++)
        t->m[k] = NAN;
    t->lat_ci[0] = t->lat_ci[1] = t->test[0] = t->test[1] = t->test[2] = NAN;
    t->number = r->number;
    t->state = r->state;
    t->stale = r->stale;
    t->duration_s = r->duration_s;
    t->started_at = r->started_at;
    t->finished_at = r->finished_at;
    t->error = r->error ? strdup(r->error) : NULL;
    t->values = malloc(d->n_obj * sizeof *t->values);
    if (!t->values)
        return qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
    for (size_t k = 0; k < d->n_obj; k++)
        t->values[k] = NAN;
    json_t *ch = r->choices_json ? json_loads(r->choices_json, 0, NULL) : NULL;
    if (json_is_array(ch)) {
        t->n_choices = json_array_size(ch);
        t->choices = calloc(t->n_choices ? t->n_choices : 1, sizeof *t->choices);
        for (size_t i = 0; t->choices && i < t->n_choices; i++) {
            json_int_t v = json_integer_value(json_array_get(ch, i));
            t->choices[i] = v < 0 ? 0 : (uint32_t)v;
        }
    }
    json_decref(ch);
    if (t->state == QS_TRIAL_COMPLETE && r->values_json) {
        json_t *v = json_loads(r->values_json, 0, NULL);
        if (!json_is_array(v) || json_array_size(v) != d->n_obj) {
            json_decref(v);
            return qs_error_set(err, QS_ERR_INPUT, "%s: trial %lld: objective values %.80s: expected a JSON array of %zu",
                                qs_study_path(d->study), (long long)r->number, r->values_json, d->n_obj);
        }
        for (size_t k = 0; k < d->n_obj; k++) {
            json_t *x = json_array_get(v, k);
            t->values[k] = json_is_number(x) ? json_number_value(x) : NAN;
        }
        json_decref(v);
    }
    json_t *m = r->metrics_json ? json_loads(r->metrics_json, 0, NULL) : NULL;
    if (json_is_object(m)) {
        for (int k = 0; k < RM_COUNT; k++)
            t->m[k] = metric_value(m, &rep_metrics[k]);
        json_t *ci = json_object_get(json_object_get(m, "latency"), "ci95_ns");
        if (json_array_size(ci) == 2 && json_is_number(json_array_get(ci, 0)) && json_is_number(json_array_get(ci, 1))) {
            t->lat_ci[0] = json_number_value(json_array_get(ci, 0));
            t->lat_ci[1] = json_number_value(json_array_get(ci, 1));
        }
        read_test(t, json_object_get(m, "test"));
    }
    json_decref(m);
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)r->number);
    read_test(t, json_object_get(c->test, key));
    t->feasible = feasible(r->constraints_json);
    if (t->state == QS_TRIAL_COMPLETE && !t->stale)
        for (int k = 0; k < RM_COUNT; k++)
            d->have_metric[k] |= isfinite(t->m[k]);
    return QS_OK;
}

static int trial_one(void *ctx, const qs_trial_record *r)
{
    trial_ctx *c = ctx;
    rep_data *d = c->d;
    if (d->n_trials == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        rep_trial *t = realloc(d->trials, cap * sizeof *t);
        if (!t) {
            c->st = qs_error_set(c->err, QS_ERR_NOMEM, "report: out of memory");
            return 1;
        }
        d->trials = t;
        c->cap = cap;
    }
    rep_trial *t = &d->trials[d->n_trials++];
    memset(t, 0, sizeof *t);
    c->st = parse_trial(c, t, r);
    return c->st != QS_OK;
}

/* A row to sort: no global state, so the report is reentrant. */
typedef struct {
    const double *row;
    size_t m, idx;
} sort_row;

static int cmp_rows(const void *a, const void *b)
{
    const sort_row *x = a, *y = b;
    for (size_t k = 0; k < x->m; k++)
        if (x->row[k] != y->row[k])
            return x->row[k] < y->row[k] ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* ord[n] = row indices of v[n][m] in lexicographic order (ties by index); 0 if out of memory. */
static int order_rows(const double *v, size_t n, size_t m, size_t *ord)
{
    sort_row *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return 0;
    for (size_t i = 0; i < n; i++)
        r[i] = (sort_row){v + i * m, m, i};
    qsort(r, n, sizeof *r, cmp_rows);
    for (size_t i = 0; i < n; i++)
        ord[i] = r[i].idx;
    free(r);
    return 1;
}

size_t rep_front(const double *v, size_t n, size_t m, size_t *idx_out)
{
    /* Lexicographic order (all objectives minimised): a point can only be dominated
     * by one before it, and only by a front member; O(n log n + n |front| m). */
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    if (!ord || !order_rows(v, n, m, ord)) {
        free(ord);
        return 0;
    }
    size_t nf = 0;
    for (size_t i = 0; i < n; i++) {
        const double *p = v + ord[i] * m;
        int dominated = 0;
        for (size_t j = 0; j < nf && !dominated; j++) {
            const double *q = v + idx_out[j] * m;
            int le = 1;
            for (size_t k = 0; k < m; k++)
                le &= q[k] <= p[k];
            dominated = le; /* dominated, or an exact duplicate of a front point (adds nothing) */
        }
        if (!dominated)
            idx_out[nf++] = ord[i];
    }
    free(ord);
    return nf;
}

static int usable(const rep_trial *t) { return t->state == QS_TRIAL_COMPLETE && !t->stale; }

/* ranked: complete trials, feasible ones best first (single objective: by value;
 * multi: the front first). best: the best one, or the front. */
static qs_status rank_trials(rep_data *d, qs_error *err)
{
    size_t n = d->n_trials, m = d->n_obj, nu = 0;
    double *v = malloc((n ? n : 1) * m * sizeof *v);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), *fr = malloc((n ? n : 1) * sizeof *fr);
    d->ranked = malloc((n ? n : 1) * sizeof *d->ranked);
    d->best = malloc((n ? n : 1) * sizeof *d->best);
    if (!v || !idx || !fr || !d->ranked || !d->best) {
        free(v), free(idx), free(fr);
        return qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
    }
    /* Feasible usable trials with all objectives finite, in minimise form; ties by number. */
    for (size_t i = 0; i < n; i++) {
        const rep_trial *t = &d->trials[i];
        int ok = usable(t) && t->feasible;
        for (size_t k = 0; ok && k < m; k++)
            ok = isfinite(t->values[k]);
        if (!ok)
            continue;
        for (size_t k = 0; k < m; k++)
            v[nu * m + k] = d->dirs[k] == QS_MAXIMIZE ? -t->values[k] : t->values[k];
        idx[nu++] = i;
    }
    size_t nf = rep_front(v, nu, m, fr);
    for (size_t j = 0; j < nf; j++)
        d->best[j] = idx[fr[j]];
    d->n_best = m == 1 ? (nf ? 1 : 0) : nf;
    /* ranked = lexicographic order of all feasible usable trials; for multi-objective, front first. */
    size_t *ord = malloc((nu ? nu : 1) * sizeof *ord);
    if (!ord) {
        free(v), free(idx), free(fr);
        return qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
    }
    if (!order_rows(v, nu, m, ord)) {
        free(ord), free(v), free(idx), free(fr);
        return qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
    }
    size_t r = 0;
    if (m > 1)
        for (size_t j = 0; j < nf; j++)
            d->ranked[r++] = d->best[j];
    for (size_t i = 0; i < nu; i++) {
        int in_front = 0;
        for (size_t j = 0; m > 1 && j < nf && !in_front; j++)
            in_front = fr[j] == ord[i];
        if (!in_front)
            d->ranked[r++] = idx[ord[i]];
    }
    d->n_ranked = r;
    free(ord), free(v), free(idx), free(fr);
    return QS_OK;
}

typedef struct {
    rep_data *d;
    qs_status st;
    qs_error *err;
} curve_ctx;

static int curve_one(void *ctx, const char *sampler, int repeat, int64_t seed, int64_t i, double value, double best)
{
    (void)seed, (void)value;
    curve_ctx *c = ctx;
    rep_data *d = c->d;
    rep_curves *cv = d->n_curves ? &d->curves[d->n_curves - 1] : NULL;
    if (!cv || strcmp(cv->sampler, sampler) != 0) {
        rep_curves *a = realloc(d->curves, (d->n_curves + 1) * sizeof *a);
        if (!a)
            goto oom;
        d->curves = a;
        cv = &d->curves[d->n_curves++];
        memset(cv, 0, sizeof *cv);
        if (!(cv->sampler = strdup(sampler)))
            goto oom;
    }
    if (repeat < 0 || i < 0 || repeat > 100000 || i > 100000000) {
        c->st = qs_error_set(c->err, QS_ERR_INPUT, "%s: curve %s repeat %d index %lld out of range",
                             qs_study_path(d->study), sampler, repeat, (long long)i);
        return 1;
    }
    size_t nr = (size_t)repeat + 1 > cv->n_repeats ? (size_t)repeat + 1 : cv->n_repeats;
    size_t nn = (size_t)i + 1 > cv->n ? (size_t)i + 1 : cv->n;
    if (nr != cv->n_repeats || nn != cv->n) { /* grow the [repeats][n] matrix */
        if (nn < 2 * cv->n && nn != cv->n)
            nn = 2 * cv->n;
        double *b = malloc(nr * nn * sizeof *b);
        if (!b)
            goto oom;
        for (size_t k = 0; k < nr * nn; k++)
            b[k] = NAN;
        for (size_t r = 0; r < cv->n_repeats; r++)
            memcpy(b + r * nn, cv->best + r * cv->n, cv->n * sizeof *b);
        free(cv->best);
        cv->best = b;
        cv->n_repeats = nr;
        cv->n = nn;
    }
    cv->best[(size_t)repeat * cv->n + (size_t)i] = best;
    return 0;
oom:
    c->st = qs_error_set(c->err, QS_ERR_NOMEM, "report: out of memory");
    return 1;
}

/* Trims each sampler's curve length to its last known point. */
static void trim_curves(rep_data *d)
{
    for (size_t s = 0; s < d->n_curves; s++) {
        rep_curves *cv = &d->curves[s];
        size_t last = 0;
        for (size_t r = 0; r < cv->n_repeats; r++)
            for (size_t i = 0; i < cv->n; i++)
                if (!isnan(cv->best[r * cv->n + i]) && i + 1 > last)
                    last = i + 1;
        cv->n_known = last;
    }
}

qs_status rep_load(rep_data *d, qs_study *s, qs_error *err)
{
    memset(d, 0, sizeof *d);
    d->study = s;
    d->float_accuracy = NAN;
    meta_ctx mc = {d, 0, 0};
    QS_TRY(qs_study_meta_list(s, meta_one, &mc, err));
    if (mc.oom)
        return qs_error_set(err, QS_ERR_NOMEM, "report: out of memory");
    QS_TRY(load_space(d, err));
    load_objectives(d);
    const char *fb = rep_meta(d, "float_baseline");
    json_t *j = fb ? json_loads(fb, 0, NULL) : NULL;
    json_t *acc = json_object_get(j, "val_accuracy");
    if (!acc)
        acc = json_object_get(j, "accuracy");
    if (json_is_number(acc))
        d->float_accuracy = json_number_value(acc);
    json_decref(j);
    const char *tt = rep_meta(d, "test");
    trial_ctx tc = {d, 0, tt ? json_loads(tt, 0, NULL) : NULL, QS_OK, err};
    qs_status st = qs_study_trials(s, trial_one, &tc, err);
    json_decref(tc.test);
    QS_TRY(st);
    QS_TRY(tc.st);
    QS_TRY(qs_study_count(s, &d->counts, err));
    QS_TRY(rank_trials(d, err));
    curve_ctx cc = {d, QS_OK, err};
    QS_TRY(qs_study_curves(s, curve_one, &cc, err));
    QS_TRY(cc.st);
    trim_curves(d);
    return QS_OK;
}

void rep_free(rep_data *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_meta; i++) {
        free(d->meta_key[i]);
        free(d->meta_val[i]);
    }
    free(d->meta_key);
    free(d->meta_val);
    for (size_t i = 0; i < d->n_params; i++) {
        free(d->param_names[i]);
        for (size_t c = 0; d->param_choices[i] && c < d->param_n_choices[i]; c++)
            free(d->param_choices[i][c]);
        free(d->param_choices[i]);
    }
    free(d->param_names);
    free(d->param_n_choices);
    free(d->param_choices);
    for (size_t i = 0; i < d->n_trials; i++) {
        free(d->trials[i].choices);
        free(d->trials[i].values);
        free(d->trials[i].error);
    }
    free(d->trials);
    free(d->best);
    free(d->ranked);
    for (size_t i = 0; i < d->n_curves; i++) {
        free(d->curves[i].sampler);
        free(d->curves[i].best);
    }
    free(d->curves);
    memset(d, 0, sizeof *d);
}

void rep_choice_text(const rep_data *d, size_t p, uint32_t c, char *out, size_t cap)
{
    if (p < d->n_params && d->param_choices[p] && c < d->param_n_choices[p])
        snprintf(out, cap, "%s", d->param_choices[p][c]);
    else
        snprintf(out, cap, "#%u", (unsigned)c);
}

/* Short parameter name in the configuration text's notation:
 * "seq_blocks_2/config/weight_frac_width" -> "seq_blocks_2 w.frac" (short
 * enough for the heat map's rotated column labels); other keys stay whole. */
void rep_param_short(const rep_data *d, size_t p, char *out, size_t cap)
{
    static const struct { const char *k, *s; } abbr[] = {
        {"data_in_width", "in"}, {"weight_width", "w"}, {"bias_width", "b"}, {"data_in_frac_width", "in.frac"},
        {"weight_frac_width", "w.frac"}, {"bias_frac_width", "b.frac"}};
    if (p >= d->n_params) {
        snprintf(out, cap, "p%zu", p);
        return;
    }
    const char *n = d->param_names[p], *slash = strchr(n, '/'), *last = strrchr(n, '/');
    if (!slash || !last) {
        snprintf(out, cap, "%s", n);
        return;
    }
    const char *key = last + 1;
    for (size_t i = 0; i < sizeof abbr / sizeof abbr[0]; i++)
        if (strcmp(key, abbr[i].k) == 0)
            key = abbr[i].s;
    snprintf(out, cap, "%.*s %s", (int)(slash - n), n, key);
}

char *rep_config_text(const rep_data *d, const rep_trial *t)
{
    size_t n = t->choices ? t->n_choices : 0;
    const char **names = malloc((n + 1) * sizeof *names), **vals = malloc((n + 1) * sizeof *vals);
    char(*texts)[2][64] = malloc((n + 1) * sizeof *texts);
    char *out = NULL;
    if (names && vals && texts && t->choices) {
        for (size_t i = 0; i < n; i++) {
            rep_choice_text(d, i, t->choices[i], texts[i][0], sizeof texts[i][0]);
            if (i >= d->n_params)
                snprintf(texts[i][1], sizeof texts[i][1], "p%zu", i);
            names[i] = i < d->n_params ? d->param_names[i] : texts[i][1];
            vals[i] = texts[i][0];
        }
        size_t len = qs_search_config_text_names(n, names, vals, NULL, 0);
        if ((out = malloc(len + 1)) != NULL)
            qs_search_config_text_names(n, names, vals, out, len + 1);
    }
    free(names);
    free(vals);
    free(texts);
    return out;
}

void rep_config_label(const rep_data *d, const rep_trial *t, qs_svg_buf *b, const char *sep)
{
    char *text = rep_config_text(d, t);
    if (!text) {
        qs_svg_printf(b, "(configuration unknown)");
        return;
    }
    /* one group per layer (or type), groups joined by sep */
    const char *p = text, *q;
    while ((q = strstr(p, "] ")) != NULL) {
        qs_svg_printf(b, "%.*s%s", (int)(q + 1 - p), p, sep);
        p = q + 2;
    }
    qs_svg_printf(b, "%s", p);
    free(text);
}

/* qs_search_run: set-up (inputs, float baseline, study binding and metadata),
 * the loop, and the result: every trial of the study, the best feasible
 * trial or the Pareto front, re-evaluated on the test split. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "qsearch/kernels.h"
#include "qsearch/log.h"
#include "search_driver.h"

qs_status qs_search_loop(search_driver *d, size_t *target, qs_error *err);
qs_status qs_search_parse_choices(const char *text, uint32_t *out, size_t n, int64_t number, qs_error *err);

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* What makes trial results comparable: the space, the model's parameters, the
 * data, the objectives and the constraints. Resuming with another is an error. */
static void signature(const search_driver *d, const char *space_json, char *out, size_t cap)
{
    const qs_search_config *c = d->cfg;
    uint64_t h = 0xcbf29ce484222325ULL;
    h = fnv(h, space_json, strlen(space_json));
    h = fnv(h, d->model->params, d->model->n_params * sizeof *d->model->params);
    h = fnv(h, d->opt->data_spec, strlen(d->opt->data_spec));
    char buf[256];
    int n = snprintf(buf, sizeof buf, "|%d|%d|%d|%zu|%g|", c->sum_scaled, (int)c->sum_direction, c->signed_sum,
                     c->num_samples, c->compare_to);
    h = fnv(h, buf, (size_t)n);
    for (size_t i = 0; i < c->n_terms; i++) {
        n = snprintf(buf, sizeof buf, "%d:%.17g:%d;", (int)c->terms[i].metric, c->terms[i].scale,
                     (int)c->terms[i].direction);
        h = fnv(h, buf, (size_t)n);
    }
    for (int k = 0; k < QS_SC_COUNT; k++) {
        n = snprintf(buf, sizeof buf, "%.17g;", c->limit[k]);
        h = fnv(h, buf, (size_t)n);
    }
    snprintf(out, cap, "qsearch-space-%016" PRIx64, h);
}

static qs_status evaluate_float(const qs_model *m, const qs_eval_inputs *in, double *acc, qs_error *err)
{
    qs_quality q = {0};
    QS_TRY(qs_evaluate(m, in, NULL, NULL, &q, err));
    *acc = q.accuracy;
    qs_quality_free(&q);
    return QS_OK;
}

/* The CPU's widest SIMD level, as __builtin_cpu_supports sees it. */
static void simd_text(char *buf, size_t cap)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        snprintf(buf, cap, "AVX-512%s%s%s", __builtin_cpu_supports("avx512vnni") ? " VNNI" : "",
                 __builtin_cpu_supports("avx512bf16") ? " BF16" : "",
                 __builtin_cpu_supports("avx512fp16") ? " FP16" : "");
    } else if (__builtin_cpu_supports("avx2")) {
        snprintf(buf, cap, "AVX2%s", __builtin_cpu_supports("fma") ? " FMA" : "");
    } else {
        snprintf(buf, cap, "SSE2 (baseline x86-64)");
    }
#else
    snprintf(buf, cap, "none known (not x86)");
#endif
}

/* {"host", "cpu", "cores", "online_cpus", "simd", "kernels"} of this machine. */
static char *machine_json(void)
{
    char host[256] = "?", cpu[256] = "?", simd[64], line[512];
    gethostname(host, sizeof host - 1);
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                snprintf(cpu, sizeof cpu, "%s", p + (p[1] == ' ' ? 2 : 1));
                cpu[strcspn(cpu, "\n")] = 0;
            }
            break;
        }
    if (f)
        fclose(f);
    simd_text(simd, sizeof simd);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "host", host, "cpu", cpu, "cores", (json_int_t)cores,
                          "online_cpus", (json_int_t)cores, "simd", simd, "kernels", qs_kernels_active());
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

static qs_status meta_json(qs_study *s, const char *key, json_t *v, qs_error *err)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!text)
        return qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    qs_status st = qs_study_meta_set(s, key, text, err);
    free(text);
    return st;
}

static qs_status store_meta(search_driver *d, const char *space_json, qs_error *err)
{
    const qs_search_options *o = d->opt;
    qs_study *s = o->study;
    char buf[1024];
    QS_TRY(qs_study_meta_set(s, "space", space_json, err));
    if (o->config_text)
        QS_TRY(qs_study_meta_set(s, "config", o->config_text, err));
    QS_TRY(qs_study_meta_set(s, "model", o->model_name ? o->model_name : "", err));
    QS_TRY(qs_study_meta_set(s, "arch", d->model->arch, err));
    QS_TRY(qs_study_meta_set(s, "dataset", o->data_spec, err));
    snprintf(buf, sizeof buf, "{\"val_accuracy\": %.17g, \"val_samples\": %zu}", d->float_val_accuracy, d->val.n);
    QS_TRY(qs_study_meta_set(s, "float_baseline", buf, err));
    char *machine = machine_json();
    if (!machine)
        return qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    qs_status st = qs_study_meta_set(s, "machine", machine, err);
    free(machine);
    QS_TRY(st);
    const qs_dataset *ds = o->ds;
    int n = snprintf(buf, sizeof buf, "train %zu, val %zu, test %zu samples; the search selects on val", ds->train.n,
                     ds->val.n, ds->test.n);
    if (d->val.n < ds->val.n && n > 0 && (size_t)n < sizeof buf)
        snprintf(buf + n, sizeof buf - (size_t)n, " (its first %zu, num_samples)", d->val.n);
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ", the best trials are re-evaluated on test");
    QS_TRY(qs_study_meta_set(s, "splits", buf, err));
    snprintf(buf, sizeof buf, "%" PRIu64, d->cfg->seed);
    QS_TRY(qs_study_meta_set(s, "seed", buf, err));
    QS_TRY(qs_study_meta_set(s, "sampler", qs_sampler_kind_name(d->cfg->sampler), err));
    return qs_study_meta_set(s, "qsearch_version", QS_VERSION, err);
}

static int uses_metric(const qs_search_config *c, qs_search_metric m)
{
    for (size_t i = 0; i < c->n_terms; i++)
        if (c->terms[i].metric == m)
            return 1;
    return 0;
}

/* First layer of the last entry (in layer order) with searched parameters:
 * what varies fastest in bruteforce order, so the layers before it are worth
 * caching. 0 (no cache) when that is the first layer. */
static size_t cache_layer(const qs_search_space *sp)
{
    const qs_model *m = sp->model;
    for (size_t l = m->n_layers; l-- > 0;) {
        int e = sp->layer_entry[l];
        if (e < 0)
            continue;
        const qs_search_entry *en = &sp->entries[e];
        int searched = 0;
        for (size_t i = 0; i < en->count; i++)
            searched |= sp->all[en->first + i].searched;
        if (!searched)
            continue;
        for (size_t k = 0; k < m->n_layers; k++)
            if (sp->layer_entry[k] == e)
                return k;
    }
    return 0;
}

static qs_status setup(search_driver *d, const qs_search_options *o, qs_error *err)
{
    memset(d, 0, sizeof *d);
    d->opt = o;
    d->cfg = o->cfg;
    d->space = o->space;
    d->model = o->model;
    d->n_params = o->space->n_params;
    d->n_obj = qs_search_n_objectives(o->cfg);
    for (int k = 0; k < QS_SC_COUNT; k++)
        if (!isnan(o->cfg->limit[k]))
            d->cons_id[d->n_cons++] = (qs_search_constraint)k;
    d->need_latency = uses_metric(d->cfg, QS_SM_LATENCY) || !isnan(d->cfg->limit[QS_SC_LATENCY]);
    d->need_energy = uses_metric(d->cfg, QS_SM_ENERGY);
    d->need_loss = uses_metric(d->cfg, QS_SM_LOSS);
    d->cache_layer = cache_layer(o->space);
    if (o->jobs < 1 || o->jobs > 256)
        return qs_error_set(err, QS_ERR_USAGE, "search: jobs must be 1..256 (got %d)", o->jobs);
    QS_TRY(qs_eval_inputs_prepare(&d->val, o->model, o->meta, o->ds, QS_SPLIT_VAL, o->model_name, err));
    if (o->cfg->num_samples && o->cfg->num_samples < d->val.n)
        d->val.n = o->cfg->num_samples; /* MASE's num_samples: the first rows of the split */
    if (d->val.n == 0)
        return qs_error_set(err, QS_ERR_INPUT, "search: the validation split of %s is empty", o->data_spec);
    QS_TRY(evaluate_float(o->model, &d->val, &d->float_val_accuracy, err));
    char *space_json = qs_search_space_json(o->space);
    if (!space_json)
        return qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    char sig[64];
    signature(d, space_json, sig, sizeof sig);
    qs_status st = qs_study_bind_space(o->study, sig, space_json, err);
    if (st == QS_OK)
        st = store_meta(d, space_json, err);
    free(space_json);
    QS_TRY(st);
    qs_sampler_options so;
    qs_sampler_options_default(&so);
    so.seed = o->cfg->seed;
    qs_sampler_space sp = qs_search_space_sampler(o->space);
    return qs_sampler_new(o->cfg->sampler, &sp, &so, &d->sampler, err);
}

static void teardown(search_driver *d)
{
    qs_eval_inputs_free(&d->val);
    qs_history_free(&d->h);
    qs_sampler_delete(d->sampler);
    free(d->numbers);
    free(d->set);
    free(d->front);
}

/* ---- the result ---- */

typedef struct {
    qs_search_result *res;
    const search_driver *d;
    qs_status st;
    qs_error *err;
    size_t cap;                   /* trials allocated */
} collect_ctx;

static int collect_one(void *ctx, const qs_trial_record *t)
{
    collect_ctx *c = ctx;
    qs_search_result *r = c->res;
    if (t->stale)
        return 0;
    if (r->n_trials == c->cap) { /* another process may have added trials since the count */
        size_t cap = c->cap * 2 + 16;
        qs_search_trial *tr = realloc(r->trials, cap * sizeof *tr);
        if (!tr) {
            c->st = qs_error_set(c->err, QS_ERR_NOMEM, "search: out of memory");
            return 1;
        }
        r->trials = tr;
        c->cap = cap;
    }
    qs_search_trial *x = &r->trials[r->n_trials];
    memset(x, 0, sizeof *x);
    x->number = t->number;
    x->state = t->state;
    x->duration_s = t->duration_s;
    x->choices = calloc(r->n_params ? r->n_params : 1, sizeof *x->choices);
    x->values = calloc(r->n_objectives, sizeof *x->values);
    if (!x->choices || !x->values) {
        free(x->choices);
        free(x->values);
        c->st = qs_error_set(c->err, QS_ERR_NOMEM, "search: out of memory");
        return 1;
    }
    r->n_trials++;
    c->st = qs_search_parse_choices(t->choices_json, x->choices, r->n_params, t->number, c->err);
    for (int k = 0; k < QS_SM_COUNT; k++)
        x->metrics[k] = NAN;
    for (int k = 0; k < QS_SC_COUNT; k++)
        x->constraints[k] = NAN;
    for (size_t k = 0; k < r->n_objectives; k++)
        x->values[k] = NAN;
    json_t *m = t->metrics_json ? json_loads(t->metrics_json, 0, NULL) : NULL;
    for (int k = 0; m && k < QS_SM_COUNT; k++) {
        json_t *v = json_object_get(m, qs_search_metric_name((qs_search_metric)k));
        if (json_is_object(v)) /* latency: {"median_ns": ...} (per sample at batch 1) */
            v = json_object_get(v, "median_ns");
        if (json_is_number(v))
            x->metrics[k] = json_number_value(v);
    }
    json_decref(m);
    json_t *cj = t->constraints_json ? json_loads(t->constraints_json, 0, NULL) : NULL;
    x->feasible = 1;
    for (int k = 0; k < QS_SC_COUNT; k++) {
        if (isnan(c->d->cfg->limit[k]))
            continue;
        json_t *v = json_object_get(cj, qs_search_constraint_name((qs_search_constraint)k));
        x->constraints[k] = json_is_number(v) ? json_number_value(v) : NAN;
        if (!(x->constraints[k] <= 0))
            x->feasible = 0;
    }
    json_decref(cj);
    json_t *v = t->values_json ? json_loads(t->values_json, 0, NULL) : NULL;
    for (size_t k = 0; v && k < r->n_objectives; k++)
        if (json_is_number(json_array_get(v, k)))
            x->values[k] = json_number_value(json_array_get(v, k));
    json_decref(v);
    x->error = t->error ? strdup(t->error) : NULL;
    r->n_complete += t->state == QS_TRIAL_COMPLETE;
    r->n_pruned += t->state == QS_TRIAL_PRUNED;
    r->n_failed += t->state == QS_TRIAL_FAILED;
    r->n_running += t->state == QS_TRIAL_RUNNING;
    return c->st != QS_OK;
}

/* Best feasible trial (single objective) or the feasible Pareto front. */
static qs_status choose_best(qs_search_result *r, qs_error *err)
{
    qs_history h;
    QS_TRY(qs_history_init(&h, 0, r->n_objectives, r->directions, 1, err));
    qs_status st = QS_OK;
    static const uint32_t none[1] = {0};
    for (size_t i = 0; st == QS_OK && i < r->n_trials; i++) {
        const qs_search_trial *x = &r->trials[i];
        double viol = x->feasible ? 0.0 : 1.0;
        st = qs_history_push(&h, none, (qs_sampler_state)x->state, x->values, &viol, err);
    }
    r->best = calloc(r->n_trials ? r->n_trials : 1, sizeof *r->best);
    if (st == QS_OK && !r->best)
        st = qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    if (st == QS_OK && r->n_objectives == 1) {
        bool found;
        size_t b;
        qs_history_best(&h, true, &b, &found);
        if (found)
            r->best[r->n_best++] = b;
    } else if (st == QS_OK) {
        st = qs_history_front(&h, true, r->best, &r->n_best, err);
    }
    qs_history_free(&h);
    return st;
}

/* Test-split figures of the best trials and of the float model. */
static qs_status test_figures(search_driver *d, qs_search_result *r, qs_error *err)
{
    const qs_search_options *o = d->opt;
    qs_eval_inputs in = {0};
    search_worker w;
    QS_TRY(qs_eval_inputs_prepare(&in, o->model, o->meta, o->ds, QS_SPLIT_TEST, o->model_name, err));
    r->test_samples = in.n;
    qs_status st = qs_search_worker_init(&w, o->model, in.n, 0, err);
    if (st == QS_OK && in.n)
        st = evaluate_float(o->model, &in, &r->float_test_accuracy, err);
    for (size_t i = 0; st == QS_OK && in.n && i < r->n_best; i++) {
        qs_search_trial *x = &r->trials[r->best[i]];
        qs_quality q = {0};
        st = qs_search_space_build(o->space, x->choices, &w.cfg, err);
        if (st == QS_OK)
            st = qs_quant_model_apply(&w.qm, &w.cfg, err);
        if (st == QS_OK)
            st = qs_evaluate(w.qm.copy, &in, &w.qm.hooks, w.logits, &q, err);
        if (st == QS_OK) {
            x->has_test = 1;
            x->test_accuracy = q.accuracy;
            x->test_accuracy_macro = q.accuracy_macro;
            x->test_loss = q.loss;
        }
        qs_quality_free(&q);
    }
    qs_search_worker_free(&w);
    qs_eval_inputs_free(&in);
    return st;
}

static qs_status collect(search_driver *d, qs_search_result *r, qs_error *err)
{
    qs_study_counts c;
    QS_TRY(qs_study_count(d->opt->study, &c, err));
    r->n_params = d->n_params;
    r->n_objectives = d->n_obj;
    for (size_t k = 0; k < d->n_obj; k++)
        r->directions[k] = d->cfg->sum_scaled ? d->cfg->sum_direction : d->cfg->terms[k].direction;
    r->trials = calloc(c.total ? (size_t)c.total : 1, sizeof *r->trials);
    if (!r->trials)
        return qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    collect_ctx cc = {r, d, QS_OK, err, c.total ? (size_t)c.total : 1};
    QS_TRY(qs_study_trials(d->opt->study, collect_one, &cc, err));
    QS_TRY(cc.st);
    QS_TRY(choose_best(r, err));
    return test_figures(d, r, err);
}

/* ---- metadata written when a run ends ----
 * Resumed runs and processes sharing the study each add their own key
 * run:<UTC start>:<host>:<pid>, so none overwrites another's; wall_s is the
 * union of those runs' loop intervals (overlapping runs counted once),
 * recomputed by every run at its end; test merges the test-split figures
 * (deterministic per configuration, so concurrent writers agree). */

typedef struct {
    double (*span)[2];
    size_t n, cap;
    int oom;
} span_list;

static int run_span(void *ctx, const char *key, const char *value)
{
    span_list *l = ctx;
    if (strncmp(key, "run:", 4) != 0)
        return 0;
    json_t *o = json_loads(value, 0, NULL);
    double a = json_number_value(json_object_get(o, "started_at")), w = json_number_value(json_object_get(o, "wall_s"));
    json_decref(o);
    if (!(w >= 0) || !isfinite(a))
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        double(*v)[2] = realloc(l->span, cap * sizeof *v);
        if (!v) {
            l->oom = 1;
            return 1;
        }
        l->span = v;
        l->cap = cap;
    }
    l->span[l->n][0] = a;
    l->span[l->n++][1] = a + w;
    return 0;
}

static int cmp_span(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* Total length of the union of the runs' [start, start + wall_s] intervals. */
static qs_status runs_wall(qs_study *s, double *wall, size_t *runs, qs_error *err)
{
    span_list l = {0};
    qs_status st = qs_study_meta_list(s, run_span, &l, err);
    if (st == QS_OK && l.oom)
        st = qs_error_set(err, QS_ERR_NOMEM, "search: out of memory");
    double total = 0, lo = 0, hi = -INFINITY;
    if (st == QS_OK && l.n)
        qsort(l.span, l.n, sizeof *l.span, cmp_span);
    for (size_t i = 0; st == QS_OK && i < l.n; i++) {
        if (l.span[i][0] > hi) {
            if (hi > lo)
                total += hi - lo;
            lo = l.span[i][0];
            hi = l.span[i][1];
        } else if (l.span[i][1] > hi) {
            hi = l.span[i][1];
        }
    }
    if (hi > lo)
        total += hi - lo;
    free(l.span);
    *wall = total;
    *runs = l.n;
    return st;
}

static qs_status store_test(qs_study *s, const qs_search_result *r, qs_error *err)
{
    char *old = NULL;
    QS_TRY(qs_study_meta_get(s, "test", &old, err));
    json_t *o = old ? json_loads(old, 0, NULL) : NULL;
    free(old);
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    for (size_t i = 0; i < r->n_best; i++) {
        const qs_search_trial *x = &r->trials[r->best[i]];
        char key[32];
        snprintf(key, sizeof key, "%" PRId64, x->number);
        if (x->has_test)
            json_object_set_new(o, key, json_pack("{s:f, s:f, s:f, s:I}", "accuracy", x->test_accuracy,
                                                  "accuracy_macro", x->test_accuracy_macro, "loss", x->test_loss,
                                                  "samples", (json_int_t)r->test_samples));
    }
    return meta_json(s, "test", o, err);
}

static double unix_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run_begin(search_driver *d)
{
    char host[256] = "?", stamp[32] = "?";
    gethostname(host, sizeof host - 1);
    d->run_t0 = qs_search_now_s();
    d->run_started_at = unix_now();
    time_t t = (time_t)d->run_started_at;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(d->run_key, sizeof d->run_key, "run:%s.%03dZ:%.255s:%ld", stamp,
             (int)fmod(d->run_started_at * 1000, 1000), host, (long)getpid());
}

qs_status qs_search_run_meta(search_driver *d, qs_error *err)
{
    qs_study *s = d->opt->study;
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    d->run_meta_at = qs_search_now_s();
    QS_TRY(meta_json(s, d->run_key,
                     json_pack("{s:s, s:I, s:f, s:f, s:I, s:i, s:s, s:b}", "host", host, "pid", (json_int_t)getpid(),
                               "started_at", d->run_started_at, "wall_s", d->run_meta_at - d->run_t0, "trials",
                               (json_int_t)d->done_here, "jobs", d->opt->jobs, "sampler",
                               qs_sampler_kind_name(d->cfg->sampler), "stopped", d->opt->stop && *d->opt->stop),
                     err));
    double wall;
    size_t runs;
    QS_TRY(runs_wall(s, &wall, &runs, err));
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f", wall);
    return qs_study_meta_set(s, "wall_s", buf, err);
}

static qs_status store_end_meta(search_driver *d, const qs_search_result *r, qs_error *err)
{
    qs_study *s = d->opt->study;
    QS_TRY(meta_json(s, "float_baseline",
                     json_pack("{s:f, s:I, s:f, s:I}", "val_accuracy", r->float_val_accuracy, "val_samples",
                               (json_int_t)d->val.n, "test_accuracy", r->float_test_accuracy, "test_samples",
                               (json_int_t)r->test_samples),
                     err));
    return store_test(s, r, err);
}

qs_status qs_search_run(const qs_search_options *opt, qs_search_result *res, qs_error *err)
{
    memset(res, 0, sizeof *res);
    search_driver d;
    qs_status st = setup(&d, opt, err);
    size_t target = 0;
    run_begin(&d);
    if (st == QS_OK) {
        qs_log("search: float model: val accuracy %.4f on %zu samples", d.float_val_accuracy, d.val.n);
        if (d.need_latency)
            qs_log("search: latency measured at batch 1 on the integer engine (kernels %s) in a serial "
                   "phase after each parallel batch (budget %g s per trial)",
                   qs_kernels_active(), opt->cfg->latency_budget_s);
        st = qs_search_run_meta(&d, err);
    }
    if (st == QS_OK)
        st = qs_search_loop(&d, &target, err);
    res->wall_s = qs_search_now_s() - d.run_t0;
    if (st == QS_OK)
        st = qs_search_run_meta(&d, err); /* the loop's final time */
    if (st == QS_OK)
        st = collect(&d, res, err);
    res->float_val_accuracy = d.float_val_accuracy;
    res->space_size = qs_search_space_size(opt->space);
    res->evaluated_here = d.done_here;
    res->latency_measured = d.need_latency;
    res->val_samples = d.val.n;
    if (st == QS_OK)
        st = store_end_meta(&d, res, err);
    teardown(&d);
    if (st)
        qs_search_result_free(res);
    return st;
}

void qs_search_result_free(qs_search_result *res)
{
    if (!res)
        return;
    for (size_t i = 0; res->trials && i < res->n_trials; i++) {
        free(res->trials[i].choices);
        free(res->trials[i].values);
        free(res->trials[i].error);
    }
    free(res->trials);
    free(res->best);
    memset(res, 0, sizeof *res);
}

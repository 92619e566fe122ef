/* One trial's evaluation: formats from the choices, static metrics and
 * constraints (infeasible configurations are pruned, never run), quality on
 * the validation split, and (serially, by the driver) latency. */
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qsearch/cost.h"
#include "qsearch/energy.h"
#include "qsearch/measure.h"
#include "search_driver.h"

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double qs_search_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

qs_status qs_search_worker_init(search_worker *w, const qs_model *m, size_t val_n, size_t cache_layer, qs_error *err)
{
    memset(w, 0, sizeof *w);
    if (cache_layer > 0 && cache_layer < m->n_layers) {
        const qs_shape *in = &m->layers[cache_layer].in;
        w->act = malloc((val_n ? val_n : 1) * in->c * in->h * in->w * sizeof *w->act);
        w->key = calloc(cache_layer, sizeof *w->key);
        if (!w->act || !w->key)
            return qs_error_set(err, QS_ERR_NOMEM, "search: cannot allocate the prefix cache");
    }
    QS_TRY(qs_quant_config_init(&w->cfg, m, err));
    QS_TRY(qs_quant_model_init(&w->qm, m, err));
    w->logits = malloc((val_n ? val_n : 1) * m->classes * sizeof *w->logits);
    w->scratch = malloc(qs_model_scratch_floats(m) * sizeof *w->scratch);
    w->ops = calloc(m->n_layers ? m->n_layers : 1, sizeof *w->ops);
    if (!w->logits || !w->scratch || !w->ops)
        return qs_error_set(err, QS_ERR_NOMEM, "search: cannot allocate worker buffers");
    return QS_OK;
}

void qs_search_worker_free(search_worker *w)
{
    if (!w)
        return;
    qs_quant_config_free(&w->cfg);
    qs_quant_model_free(&w->qm);
    free(w->logits);
    free(w->scratch);
    free(w->ops);
    free(w->act);
    free(w->key);
    qs_engine_delete(w->engine);
    free(w->engine_scratch);
    memset(w, 0, sizeof *w);
}

static void set_failed(search_task *t, qs_status st, const char *msg)
{
    t->state = QS_TRIAL_FAILED;
    t->status = st;
    snprintf(t->error, sizeof t->error, "%s", msg);
}

/* Static metrics and constraints; returns 1 when the configuration is infeasible. */
static int static_phase(const search_driver *d, search_worker *w, search_task *t)
{
    const qs_search_config *c = d->cfg;
    qs_cost cost;
    qs_cost_totals(&cost, d->model, &w->cfg);
    double *mt = t->metrics;
    mt[QS_SM_PARAMS] = (double)cost.params;
    mt[QS_SM_MODEL_SIZE_BITS] = (double)cost.model_size_bits;
    mt[QS_SM_AVG_BITWIDTH] = cost.avg_bitwidth;
    mt[QS_SM_MEMORY_DENSITY] = cost.avg_bitwidth > 0 ? c->compare_to / cost.avg_bitwidth : NAN;
    mt[QS_SM_MACS] = (double)cost.macs;
    mt[QS_SM_FLOPS] = (double)cost.flops;
    mt[QS_SM_BITOPS] = (double)cost.bitops;
    static const struct {
        qs_search_constraint c;
        qs_search_metric m;
    } stat[] = {{QS_SC_MODEL_SIZE_BITS, QS_SM_MODEL_SIZE_BITS}, {QS_SC_BITOPS, QS_SM_BITOPS},
                {QS_SC_AVG_BITWIDTH, QS_SM_AVG_BITWIDTH}};
    int infeasible = 0;
    for (size_t i = 0; i < sizeof stat / sizeof stat[0]; i++) {
        double lim = c->limit[stat[i].c];
        if (isnan(lim))
            continue;
        t->cons[stat[i].c] = mt[stat[i].m] - lim;
        if (t->cons[stat[i].c] > 0 && !infeasible) {
            infeasible = 1;
            snprintf(t->error, sizeof t->error, "infeasible: %s %.6g > %s %.6g", qs_search_metric_name(stat[i].m),
                     mt[stat[i].m], qs_search_constraint_name(stat[i].c), lim);
        }
    }
    return infeasible;
}

/* Calls the quantized view's hook with layer indices of the full model. */
typedef struct {
    const qs_model_hooks *inner;
    const qs_model *full;
    size_t offset;
} offset_hook;

static qs_status offset_pre(void *ctx, const qs_model *m, size_t layer, float *x, size_t rows, size_t width,
                            qs_error *err)
{
    (void)m;
    const offset_hook *o = ctx;
    return o->inner->pre(o->inner->ctx, o->full, layer + o->offset, x, rows, width, err);
}

/* Validation logits of the configured view. With a prefix cache, layers
 * [0, k) run only when their formats differ from the cached ones; the tail
 * [k, n) runs on the cached activations (views of the same layers). */
static qs_status forward_val(const search_driver *d, search_worker *w, qs_error *err)
{
    const qs_model *m = w->qm.copy;
    const qs_eval_inputs *in = &d->val;
    size_t k = d->cache_layer;
    if (!w->act)
        return qs_model_forward(m, in->x, in->n, w->logits, w->scratch, &w->qm.hooks, err);
    const qs_shape *sh = &m->layers[k].in;
    size_t width = sh->c * sh->h * sh->w;
    if (!w->cached || memcmp(w->key, w->cfg.layers, k * sizeof *w->key) != 0) {
        qs_model head = *m;
        head.n_layers = k;
        head.classes = width;
        w->cached = 0;
        QS_TRY(qs_model_forward(&head, in->x, in->n, w->act, w->scratch, &w->qm.hooks, err));
        memcpy(w->key, w->cfg.layers, k * sizeof *w->key);
        w->cached = 1;
    }
    qs_model tail = *m;
    tail.layers = m->layers + k;
    tail.n_layers = m->n_layers - k;
    tail.in_features = width;
    offset_hook oh = {&w->qm.hooks, m, k};
    qs_model_hooks hooks = {offset_pre, &oh};
    return qs_model_forward(&tail, w->act, in->n, w->logits, w->scratch, &hooks, err);
}

#define FAST_CLASSES 1024

size_t qs_search_argmax_ref(const float *row, size_t n, int *special)
{
    uint32_t sp = 0;
    float best = row[0];
    for (size_t c = 0; c < n; c++) {
        uint32_t bits;
        memcpy(&bits, &row[c], sizeof bits);
        sp |= (bits & 0x7f800000u) == 0x7f800000u;
        best = row[c] > best ? row[c] : best;
    }
    *special = sp != 0;
    size_t arg = 0;
    while (arg < n && row[arg] != best)
        arg++;
    return arg;
}

__attribute__((target("avx2"))) size_t qs_search_argmax_avx2(const float *row, size_t n, int *special)
{
    const __m256i expo = _mm256_set1_epi32(0x7f800000);
    __m256 mx = _mm256_set1_ps(row[0]);
    __m256i sp = _mm256_setzero_si256();
    size_t c = 0;
    for (; c + 8 <= n; c += 8) {
        __m256 v = _mm256_loadu_ps(row + c);
        mx = _mm256_max_ps(mx, v);
        sp = _mm256_or_si256(sp, _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(v), expo), expo));
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, mx);
    float best = lanes[0];
    for (int k = 1; k < 8; k++)
        best = lanes[k] > best ? lanes[k] : best;
    int s = !_mm256_testz_si256(sp, sp);
    for (; c < n; c++) {
        uint32_t bits;
        memcpy(&bits, &row[c], sizeof bits);
        s |= (bits & 0x7f800000u) == 0x7f800000u;
        best = row[c] > best ? row[c] : best;
    }
    *special = s;
    __m256 b = _mm256_set1_ps(best);
    for (c = 0; c + 8 <= n; c += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(row + c), b, _CMP_EQ_OQ));
        if (mask)
            return c + (size_t)__builtin_ctz((unsigned)mask);
    }
    while (c < n && row[c] != best)
        c++;
    return c;
}

/* Accuracy and macro accuracy (as qs_quality_compute) without the loss, whose
 * exp/log per logit costs as much as the forward pass of a small model. */
static qs_status fast_accuracy(const float *logits, const int32_t *y, size_t n, size_t classes, double *acc,
                               double *macro, qs_error *err)
{
    uint32_t seen[FAST_CLASSES] = {0}, hit[FAST_CLASSES] = {0};
    int use_avx2 = __builtin_cpu_supports("avx2");
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= classes)
            return qs_error_set(err, QS_ERR_INPUT, "sample %zu: label %d outside 0..%zu", i, (int)y[i], classes - 1);
        int special;
        size_t arg = use_avx2 ? qs_search_argmax_avx2(logits + i * classes, classes, &special)
                              : qs_search_argmax_ref(logits + i * classes, classes, &special);
        int ok = !special && arg == (size_t)y[i]; /* non-finite rows count wrong */
        correct += (size_t)ok;
        seen[y[i]]++;
        hit[y[i]] += (uint32_t)ok;
    }
    double sum = 0;
    size_t present = 0;
    for (size_t c = 0; c < classes; c++)
        if (seen[c]) {
            sum += (double)hit[c] / seen[c];
            present++;
        }
    *acc = n ? (double)correct / n : NAN;
    *macro = present ? sum / present : NAN;
    return QS_OK;
}

static qs_status quality_phase(const search_driver *d, search_worker *w, search_task *t, qs_error *err)
{
    double c0 = thread_cpu_s(), w0 = qs_search_now_s();
    QS_TRY(qs_quant_model_apply(&w->qm, &w->cfg, err));
    const qs_eval_inputs *in = &d->val;
    QS_TRY(forward_val(d, w, err));
    size_t classes = d->model->classes;
    if (d->need_loss || classes > FAST_CLASSES) {
        qs_quality q = {0};
        QS_TRY(qs_quality_compute(&q, w->logits, in->y, in->n, classes, err));
        t->metrics[QS_SM_ACCURACY] = q.accuracy;
        t->metrics[QS_SM_ACCURACY_MACRO] = q.accuracy_macro;
        t->metrics[QS_SM_LOSS] = q.loss;
        qs_quality_free(&q);
    } else {
        QS_TRY(fast_accuracy(w->logits, in->y, in->n, classes, &t->metrics[QS_SM_ACCURACY],
                             &t->metrics[QS_SM_ACCURACY_MACRO], err));
    }
    double wall = qs_search_now_s() - w0;
    t->metrics[QS_SM_CPU_UTIL] = wall > 0 ? (thread_cpu_s() - c0) / wall : NAN;
    double lim = d->cfg->limit[QS_SC_ACCURACY_DROP];
    if (!isnan(lim))
        t->cons[QS_SC_ACCURACY_DROP] = (d->float_val_accuracy - t->metrics[QS_SM_ACCURACY]) - lim;
    return QS_OK;
}

void qs_search_eval_task(const search_driver *d, search_worker *w, search_task *t)
{
    double t0 = qs_search_now_s();
    for (int k = 0; k < QS_SM_COUNT; k++)
        t->metrics[k] = NAN;
    for (int k = 0; k < QS_SC_COUNT; k++)
        t->cons[k] = NAN;
    t->error[0] = 0;
    qs_error err;
    qs_status st = qs_search_space_build(d->space, t->choices, &w->cfg, &err);
    if (st) {
        set_failed(t, st, err.msg);
    } else if (static_phase(d, w, t)) {
        t->state = QS_TRIAL_PRUNED;
    } else {
        t->state = QS_TRIAL_COMPLETE;
        if (d->need_energy) {
            double j;
            qs_cost_energy_ops(d->model, &w->cfg, w->ops);
            if ((st = qs_energy_model(w->ops, d->model->n_layers, NULL, &j, &err)) != QS_OK)
                set_failed(t, st, err.msg);
            t->metrics[QS_SM_ENERGY] = j;
        }
        if (t->state == QS_TRIAL_COMPLETE && (st = quality_phase(d, w, t, &err)) != QS_OK)
            set_failed(t, st, err.msg);
    }
    t->duration_s = qs_search_now_s() - t0;
}

typedef struct {
    const qs_engine *e;
    const float *x;
    float *logits;
    void *scratch;
} latency_ctx;

static void forward_one(void *ctx)
{
    latency_ctx *c = ctx;
    qs_error err;
    (void)qs_engine_forward(c->e, c->x, 1, c->logits, c->scratch, &err);
}

/* Plans w->cfg on the integer engine (integer layers run integer, the rest as
 * the emulation), reusing the previous plan's packed weights. */
static qs_status plan_engine(const search_driver *d, search_worker *w, qs_error *err)
{
    qs_engine *next;
    QS_TRY(qs_engine_new_reuse(&next, d->model, &w->cfg, w->engine, err));
    qs_engine_delete(w->engine);
    w->engine = next;
    size_t need = (qs_engine_scratch_bytes(next) + 63) / 64 * 64;
    if (need > w->engine_scratch_bytes) {
        free(w->engine_scratch);
        w->engine_scratch = aligned_alloc(64, need);
        w->engine_scratch_bytes = w->engine_scratch ? need : 0;
        if (!w->engine_scratch)
            return qs_error_set(err, QS_ERR_NOMEM, "latency: cannot allocate engine scratch");
    }
    return QS_OK;
}

void qs_search_latency_task(const search_driver *d, search_worker *w, search_task *t)
{
    qs_error err;
    double t0 = qs_search_now_s();
    qs_status st = qs_search_space_build(d->space, t->choices, &w->cfg, &err);
    if (st == QS_OK)
        st = plan_engine(d, w, &err);
    qs_latency_options o;
    qs_latency_options_default(&o);
    o.budget_s = d->cfg->latency_budget_s;
    o.warmup_s = d->cfg->latency_warmup_s;
    o.min_time_s = o.budget_s / 2;
    latency_ctx ctx = {w->engine, d->val.x, w->logits, w->engine_scratch};
    qs_latency_result r = {0};
    if (st == QS_OK && d->val.n == 0)
        st = qs_error_set(&err, QS_ERR_INPUT, "latency: the validation split is empty");
    if (st == QS_OK)
        st = qs_latency_measure(forward_one, &ctx, &o, &r, &err);
    if (st) {
        set_failed(t, st, err.msg);
    } else {
        t->metrics[QS_SM_LATENCY] = r.per_sample_ns;
        t->lat_p95_ns = r.p95_ns;
        t->lat_ci_lo_ns = r.ci95_lo_ns;
        t->lat_ci_hi_ns = r.ci95_hi_ns;
        t->lat_runs = r.runs;
        free(t->lat_samples);
        t->lat_samples = NULL;
        if (r.runs > 0 && (t->lat_samples = malloc((size_t)r.runs * sizeof *t->lat_samples)) != NULL)
            memcpy(t->lat_samples, r.sample_ns, (size_t)r.runs * sizeof *t->lat_samples);
        double lim = d->cfg->limit[QS_SC_LATENCY];
        if (!isnan(lim))
            t->cons[QS_SC_LATENCY] = r.per_sample_ns - lim;
    }
    qs_latency_result_free(&r);
    t->duration_s += qs_search_now_s() - t0;
}

/* Training: train-mode forward with caches, backward, Adam, cosine schedule,
 * and the epoch loop. Single-threaded, so one seed gives one result. */
#include "qsearch/train.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/layers.h"
#include "qsearch/log.h"
#include "qsearch/rng.h"

#define QS_PI 3.14159265358979323846

struct qs_trainer {
    size_t max_batch;
    size_t n;               /* rows of the last forward */
    size_t n_layers;
    float **acts;           /* [n_layers + 1]: acts[i] is layer i's input [n][in]; last: logits */
    float **xhat;           /* [n_layers]: BN layers' normalised input [n][f], else NULL */
    float **invstd;         /* [n_layers]: BN layers' 1/sqrt(var + eps) [f], else NULL */
    float *bmean, *bvar;    /* [max_width] batch statistics */
    float *wt;              /* [max in*out] transposed weight */
    float *dlogits;         /* [max_batch][classes] gradient of the mean loss */
    float *d0, *d1;         /* [max_batch][max_width] gradient ping-pong */
    float *grad;            /* [n_trainable], layout of model->params */
    size_t first_trainable; /* first layer with parameters: no input gradient needed before it */
    void *block;            /* owns every float array above */
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

qs_status qs_trainer_new(qs_trainer **out, const qs_model *m, size_t max_batch, qs_error *err)
{
    *out = NULL;
    size_t L = m->n_layers, W = m->max_width, B = max_batch ? max_batch : 1;
    size_t floats = B * m->in_features + B * m->classes + 2 * W + 2 * B * W + m->n_trainable;
    size_t wt = 0;
    for (size_t i = 0; i < L; i++) {
        const qs_layer *l = &m->layers[i];
        floats += B * l->out.c;
        if (l->kind == QS_LAYER_BATCHNORM1D)
            floats += B * l->in.c + l->in.c;
        if (l->kind == QS_LAYER_LINEAR && l->in.c * l->out.c > wt)
            wt = l->in.c * l->out.c;
    }
    floats += wt;
    qs_trainer *t = calloc(1, sizeof *t);
    float *p = malloc(floats * sizeof *p);
    if (t) {
        t->acts = calloc(L + 1, sizeof *t->acts);
        t->xhat = calloc(L, sizeof *t->xhat);
        t->invstd = calloc(L, sizeof *t->invstd);
    }
    if (!t || !p || !t->acts || !t->xhat || !t->invstd) {
        free(p);
        qs_trainer_delete(t);
        return qs_error_set(err, QS_ERR_NOMEM, "trainer: out of memory (%zu floats)", floats);
    }
    t->block = p;
    t->max_batch = B;
    t->n_layers = L;
    t->first_trainable = L;
    t->acts[0] = p, p += B * m->in_features;
    for (size_t i = 0; i < L; i++) {
        const qs_layer *l = &m->layers[i];
        t->acts[i + 1] = p, p += B * l->out.c;
        if (l->kind == QS_LAYER_BATCHNORM1D) {
            t->xhat[i] = p, p += B * l->in.c;
            t->invstd[i] = p, p += l->in.c;
        }
        if (l->kind != QS_LAYER_RELU && t->first_trainable == L)
            t->first_trainable = i;
    }
    t->bmean = p, p += W;
    t->bvar = p, p += W;
    t->d0 = p, p += B * W;
    t->d1 = p, p += B * W;
    t->dlogits = p, p += B * m->classes;
    t->grad = p, p += m->n_trainable;
    t->wt = p;
    *out = t;
    return QS_OK;
}

void qs_trainer_delete(qs_trainer *t)
{
    if (!t)
        return;
    free(t->block);
    free(t->acts);
    free(t->xhat);
    free(t->invstd);
    free(t);
}

/* Running statistics as PyTorch: momentum blend, unbiased variance. */
static void bn_update_running(qs_layer *l, const float *mean, const float *var, size_t n)
{
    float mom = l->momentum, unbias = (float)n / (float)(n - 1);
    for (size_t j = 0; j < l->in.c; j++) {
        l->running_mean[j] = (1.0f - mom) * l->running_mean[j] + mom * mean[j];
        l->running_var[j] = (1.0f - mom) * l->running_var[j] + mom * var[j] * unbias;
    }
    l->num_batches_tracked++;
}

double qs_trainer_forward(qs_trainer *t, qs_model *m, const float *x, const int32_t *y, size_t n,
                          size_t *correct)
{
    QS_ASSERT(n >= 1 && n <= t->max_batch && t->n_layers == m->n_layers);
    t->n = n;
    memcpy(t->acts[0], x, n * m->in_features * sizeof *x);
    for (size_t i = 0; i < m->n_layers; i++) {
        qs_layer *l = &m->layers[i];
        const float *in = t->acts[i];
        float *out = t->acts[i + 1];
        switch (l->kind) {
        case QS_LAYER_LINEAR:
            qs_nn_linear_forward(in, n, l->in.c, l->out.c, l->weight, l->bias, out, t->wt);
            break;
        case QS_LAYER_BATCHNORM1D:
            QS_ASSERT(n >= 2); /* PyTorch refuses one sample per channel in train mode too */
            qs_nn_bn_train_forward(in, n, l->in.c, l->gamma, l->beta, l->eps, t->xhat[i],
                                   t->invstd[i], out, t->bmean, t->bvar);
            bn_update_running(l, t->bmean, t->bvar, n);
            break;
        case QS_LAYER_RELU:
            qs_nn_relu_forward(in, n * l->in.c, out);
            break;
        case QS_LAYER_KIND_COUNT:
            QS_ASSERT(0);
        }
    }
    double sum = qs_nn_softmax_xent(t->acts[m->n_layers], y, n, m->classes, 1.0f / (float)n,
                                    t->dlogits, correct);
    return sum / (double)n;
}

void qs_trainer_backward(qs_trainer *t, const qs_model *m)
{
    size_t n = t->n;
    const float *dy = t->dlogits;
    for (size_t i = m->n_layers; i-- > 0;) {
        const qs_layer *l = &m->layers[i];
        float *dx = i > t->first_trainable ? (dy == t->d0 ? t->d1 : t->d0) : NULL;
        switch (l->kind) {
        case QS_LAYER_LINEAR: {
            float *dw = t->grad + (l->weight - m->params), *db = t->grad + (l->bias - m->params);
            qs_nn_linear_backward(t->acts[i], dy, n, l->in.c, l->out.c, l->weight, dx, dw, db);
            break;
        }
        case QS_LAYER_BATCHNORM1D: {
            float *dg = t->grad + (l->gamma - m->params), *dbt = t->grad + (l->beta - m->params);
            qs_nn_bn_backward(t->xhat[i], t->invstd[i], l->gamma, dy, n, l->in.c, dx, dg, dbt);
            break;
        }
        case QS_LAYER_RELU:
            if (dx)
                qs_nn_relu_backward(t->acts[i + 1], dy, n * l->in.c, dx);
            break;
        case QS_LAYER_KIND_COUNT:
            QS_ASSERT(0);
        }
        if (!dx)
            break;
        dy = dx;
    }
}

const float *qs_trainer_logits(const qs_trainer *t) { return t->acts[t->n_layers]; }

const float *qs_trainer_grad(const qs_trainer *t) { return t->grad; }

const float *qs_trainer_activation(const qs_trainer *t, size_t layer)
{
    QS_ASSERT(layer <= t->n_layers);
    return t->acts[layer];
}

qs_status qs_adam_init(qs_adam *a, size_t n, qs_error *err)
{
    memset(a, 0, sizeof *a);
    a->m = calloc(n ? n : 1, sizeof *a->m);
    a->v = calloc(n ? n : 1, sizeof *a->v);
    if (!a->m || !a->v) {
        qs_adam_free(a);
        return qs_error_set(err, QS_ERR_NOMEM, "adam: out of memory");
    }
    a->n = n;
    a->beta1 = 0.9;
    a->beta2 = 0.999;
    a->eps = 1e-8;
    return QS_OK;
}

void qs_adam_free(qs_adam *a)
{
    if (!a)
        return;
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
    a->n = 0;
}

void qs_adam_step(qs_adam *a, float *params, const float *grad, double lr, double weight_decay)
{
    a->step++;
    /* As torch.optim.Adam (single-tensor path): denom = sqrt(v) / sqrt(bc2) + eps. */
    double bc1 = 1.0 - pow(a->beta1, (double)a->step);
    double bc2 = 1.0 - pow(a->beta2, (double)a->step);
    float step_size = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    qs_nn_adam_update(params, grad, a->m, a->v, a->n, step_size, bc2_sqrt, (float)a->beta1,
                      (float)a->beta2, (float)a->eps, (float)weight_decay);
}

double qs_cross_entropy(const float *logits, const int32_t *y, size_t n, size_t classes,
                        size_t *correct)
{
    double sum = qs_nn_softmax_xent(logits, y, n, classes, 0.0f, NULL, correct);
    return n ? sum / (double)n : NAN;
}

void qs_train_options_default(qs_train_options *o)
{
    o->epochs = 30;
    o->lr = 1e-2;
    o->batch = 128;
    o->seed = 0;
    o->weight_decay = 0.0;
    o->log_every_epoch = 1;
}

void qs_train_result_free(qs_train_result *r)
{
    if (!r)
        return;
    free(r->history);
    r->history = NULL;
    r->epochs = 0;
}

char *qs_train_summary_json(const qs_train_options *o, const qs_train_result *r)
{
    const qs_train_epoch *last = r && r->epochs > 0 ? &r->history[r->epochs - 1] : NULL;
#define NUM_OR_NULL(v) (isfinite(v) ? json_real(v) : json_null())
    json_t *j = json_pack("{s:i, s:f, s:I, s:I, s:f, s:s, s:s}", "epochs", o->epochs, "lr", o->lr,
                          "batch", (json_int_t)o->batch, "seed", (json_int_t)o->seed,
                          "weight_decay", o->weight_decay, "optimizer", "adam", "schedule",
                          "cosine");
    if (!j)
        return NULL;
    json_object_set_new(j, "final_loss", NUM_OR_NULL(last ? last->loss : NAN));
    json_object_set_new(j, "final_train_acc", NUM_OR_NULL(last ? last->train_acc : NAN));
    json_object_set_new(j, "final_val_acc", NUM_OR_NULL(last ? last->val_acc : NAN));
    json_object_set_new(j, "wall_seconds", NUM_OR_NULL(r ? r->wall_seconds : NAN));
#undef NUM_OR_NULL
    char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(j);
    return s;
}

/* Refuses options and splits the loop cannot train on, with the key at fault. */
static qs_status check_inputs(const qs_model *m, const qs_split *s, const char *which,
                              qs_error *err)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->y[i] < 0 || (size_t)s->y[i] >= m->classes)
            return qs_error_set(err, QS_ERR_INPUT, "%s split: sample %zu: label %d outside 0..%zu",
                                which, i, (int)s->y[i], m->classes - 1);
        for (size_t j = 0; j < m->in_features; j++)
            if (!isfinite(s->x[i * m->in_features + j]))
                return qs_error_set(err, QS_ERR_INPUT,
                                    "%s split: sample %zu: feature %zu is not finite", which, i, j);
    }
    return QS_OK;
}

static qs_status check_options(const qs_model *m, const qs_split *train, const qs_split *val,
                               const qs_train_options *o, qs_error *err)
{
    if (o->epochs < 1 || o->epochs > 1000000)
        return qs_error_set(err, QS_ERR_INPUT, "train: epochs %d outside 1..1000000", o->epochs);
    if (!(o->lr > 0.0) || !isfinite(o->lr))
        return qs_error_set(err, QS_ERR_INPUT, "train: lr %g must be a positive number", o->lr);
    if (o->batch < 1 || o->batch > (1u << 24))
        return qs_error_set(err, QS_ERR_INPUT, "train: batch %zu outside 1..16777216", o->batch);
    if (!(o->weight_decay >= 0.0) || !isfinite(o->weight_decay))
        return qs_error_set(err, QS_ERR_INPUT, "train: weight_decay %g must be >= 0",
                            o->weight_decay);
    if (!train || train->n == 0)
        return qs_error_set(err, QS_ERR_INPUT, "train: the training split is empty");
    QS_TRY(check_inputs(m, train, "train", err));
    if (val)
        QS_TRY(check_inputs(m, val, "val", err));
    return QS_OK;
}

static int model_has_bn(const qs_model *m)
{
    for (size_t i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == QS_LAYER_BATCHNORM1D)
            return 1;
    return 0;
}

typedef struct {
    qs_trainer *tr;
    qs_adam adam;
    size_t *idx;            /* [train n] sample order */
    float *xb;              /* [batch][in_features] */
    int32_t *yb;            /* [batch] */
    float *scratch;         /* eval forward scratch */
    float *logits;          /* [QS_MODEL_CHUNK][classes] */
} train_ws;

static void ws_free(train_ws *w)
{
    qs_trainer_delete(w->tr);
    qs_adam_free(&w->adam);
    free(w->idx);
    free(w->xb);
    free(w->yb);
    free(w->scratch);
    free(w->logits);
}

static qs_status ws_init(train_ws *w, const qs_model *m, size_t n, size_t batch, qs_error *err)
{
    memset(w, 0, sizeof *w);
    QS_TRY(qs_trainer_new(&w->tr, m, batch, err));
    QS_TRY(qs_adam_init(&w->adam, m->n_trainable, err));
    w->idx = malloc(n * sizeof *w->idx);
    w->xb = malloc(batch * m->in_features * sizeof *w->xb);
    w->yb = malloc(batch * sizeof *w->yb);
    w->scratch = malloc(qs_model_scratch_floats(m) * sizeof *w->scratch);
    w->logits = malloc((size_t)QS_MODEL_CHUNK * m->classes * sizeof *w->logits);
    if (!w->idx || !w->xb || !w->yb || !w->scratch || !w->logits)
        return qs_error_set(err, QS_ERR_NOMEM, "train: out of memory");
    for (size_t i = 0; i < n; i++)
        w->idx[i] = i;
    return QS_OK;
}

/* Eval-mode loss and accuracy on a split, chunk by chunk. */
static void evaluate(const qs_model *m, const qs_split *s, train_ws *w, double *loss, double *acc)
{
    double sum = 0.0;
    size_t hits = 0;
    for (size_t i = 0; i < s->n; i += QS_MODEL_CHUNK) {
        size_t rows = s->n - i < QS_MODEL_CHUNK ? s->n - i : QS_MODEL_CHUNK, c = 0;
        qs_model_forward(m, s->x + i * m->in_features, rows, w->logits, w->scratch, NULL, NULL);
        sum += qs_nn_softmax_xent(w->logits, s->y + i, rows, m->classes, 0.0f, NULL, &c);
        hits += c;
    }
    *loss = sum / (double)s->n;
    *acc = (double)hits / (double)s->n;
}

/* One epoch of shuffled mini-batches; fills loss and train accuracy. */
static qs_status run_epoch(qs_model *m, const qs_split *train, const qs_train_options *o,
                           size_t batch, int epoch, double lr, qs_rng *rng, train_ws *w,
                           qs_train_epoch *e, qs_error *err)
{
    size_t n = train->n, F = m->in_features, hits = 0, seen = 0;
    double loss_sum = 0.0;
    qs_rng_shuffle(rng, w->idx, n);
    for (size_t s = 0, b = 0; s < n; s += batch, b++) {
        size_t rows = n - s < batch ? n - s : batch, c = 0;
        if (rows == 1 && model_has_bn(m))
            break; /* BatchNorm cannot take one sample in train mode (PyTorch raises) */
        for (size_t r = 0; r < rows; r++) {
            size_t k = w->idx[s + r];
            memcpy(w->xb + r * F, train->x + k * F, F * sizeof *w->xb);
            w->yb[r] = train->y[k];
        }
        double loss = qs_trainer_forward(w->tr, m, w->xb, w->yb, rows, &c);
        if (!isfinite(loss))
            return qs_error_set(err, QS_ERR_INPUT,
                                "train: epoch %d batch %zu: loss is %s (diverged; try a lower lr)",
                                epoch, b + 1, isnan(loss) ? "NaN" : "infinite");
        qs_trainer_backward(w->tr, m);
        qs_adam_step(&w->adam, m->params, qs_trainer_grad(w->tr), lr, o->weight_decay);
        loss_sum += loss * (double)rows;
        hits += c;
        seen += rows;
    }
    e->loss = loss_sum / (double)seen;
    e->train_acc = (double)hits / (double)seen;
    return QS_OK;
}

qs_status qs_train(qs_model *m, const qs_split *train, const qs_split *val,
                   const qs_train_options *o, qs_train_result *result, qs_error *err)
{
    if (result)
        memset(result, 0, sizeof *result);
    QS_TRY(check_options(m, train, val, o, err));
    size_t batch = o->batch < train->n ? o->batch : train->n;
    train_ws w;
    qs_train_epoch *hist = calloc((size_t)o->epochs, sizeof *hist);
    qs_status st = hist ? ws_init(&w, m, train->n, batch, err)
                        : qs_error_set(err, QS_ERR_NOMEM, "train: out of memory");
    qs_rng rng;
    qs_rng_seed(&rng, o->seed);
    double t0 = now_seconds();
    for (int e = 0; st == QS_OK && e < o->epochs; e++) {
        double te = now_seconds();
        qs_train_epoch *h = &hist[e];
        h->epoch = e + 1;
        /* CosineAnnealingLR(T_max = epochs, eta_min = 0), stepped once per epoch. */
        h->lr = o->lr * (1.0 + cos(QS_PI * (double)e / (double)o->epochs)) / 2.0;
        st = run_epoch(m, train, o, batch, e + 1, h->lr, &rng, &w, h, err);
        if (st != QS_OK)
            break;
        h->val_acc = h->val_loss = NAN;
        if (val && val->n)
            evaluate(m, val, &w, &h->val_loss, &h->val_acc);
        h->seconds = now_seconds() - te;
        if (o->log_every_epoch) {
            char va[32] = "-"; /* no validation split */
            if (!isnan(h->val_acc))
                snprintf(va, sizeof va, "%.4f", h->val_acc);
            qs_log("epoch %d/%d  loss %.4f  train_acc %.4f  val_acc %s  lr %.5f  %.2f s", e + 1,
                   o->epochs, h->loss, h->train_acc, va, h->lr, h->seconds);
        }
    }
    if (hist)
        ws_free(&w);
    if (st != QS_OK || !result) {
        free(hist);
        return st;
    }
    result->epochs = o->epochs;
    result->history = hist;
    result->wall_seconds = now_seconds() - t0;
    return QS_OK;
}

/* Model structure, MASE's JSC zoo and mlp: specs, PyTorch default init, clone,
 * and the eval-mode batched forward pass with per-layer input hooks. */
#include "qsearch/model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "qsearch/rng.h"

#define MAX_LAYERS 256
#define MAX_WIDTH (1u << 20)

/* One step of an architecture: a kind, and for Linear its output width. */
typedef struct {
    qs_layer_kind kind;
    size_t out;
} layer_spec;

const char *qs_layer_kind_name(qs_layer_kind kind)
{
    switch (kind) {
    case QS_LAYER_LINEAR: return "linear";
    case QS_LAYER_BATCHNORM1D: return "batch_norm1d";
    case QS_LAYER_RELU: return "relu";
    case QS_LAYER_KIND_COUNT: break;
    }
    return "unknown";
}

const char *qs_model_arch_list(void)
{
    return "jsc-tiny, jsc-toy, jsc-s, jsc-three-linear, mlp:I-H1-...-C";
}

#define BN {QS_LAYER_BATCHNORM1D, 0}
#define RELU {QS_LAYER_RELU, 0}
#define LIN(w) {QS_LAYER_LINEAR, (w)}
/* Width 0 in a zoo table means "the number of classes". */
static const layer_spec jsc_tiny[] = {BN, RELU, LIN(0), RELU};
static const layer_spec jsc_toy[] = {BN, RELU, LIN(8), BN, RELU, LIN(8), BN, RELU, LIN(0), BN, RELU};
static const layer_spec jsc_s[] = {BN, RELU, LIN(64), BN, RELU, LIN(32), RELU, LIN(32), RELU,
                                   LIN(32), RELU, LIN(0), BN, RELU};
static const layer_spec jsc_three_linear[] = {BN, RELU, LIN(16), RELU, LIN(16), RELU, LIN(0), RELU};

static const struct {
    const char *name;
    const layer_spec *spec;
    size_t n;
} zoo[] = {
    {"jsc-tiny", jsc_tiny, sizeof jsc_tiny / sizeof jsc_tiny[0]},
    {"jsc-toy", jsc_toy, sizeof jsc_toy / sizeof jsc_toy[0]},
    {"jsc-s", jsc_s, sizeof jsc_s / sizeof jsc_s[0]},
    {"jsc-three-linear", jsc_three_linear, sizeof jsc_three_linear / sizeof jsc_three_linear[0]},
};

/* Parses "mlp:I-H1-...-C" into Linear(+ReLU) steps. */
static qs_status parse_mlp(const char *arch, size_t in_features, size_t classes,
                           layer_spec *spec, size_t *n_spec, qs_error *err)
{
    size_t widths[MAX_LAYERS / 2 + 1], nw = 0;
    const char *p = arch + 4;
    while (1) {
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9')
            return qs_error_set(err, QS_ERR_INPUT,
                                "model '%s': expected a width at position %zu (mlp:I-H1-...-C)",
                                arch, (size_t)(p - arch));
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || v == 0 || v > MAX_WIDTH)
            return qs_error_set(err, QS_ERR_INPUT, "model '%s': width %.*s out of range 1..%u",
                                arch, (int)(end - p), p, MAX_WIDTH);
        if (nw == sizeof widths / sizeof widths[0])
            return qs_error_set(err, QS_ERR_INPUT, "model '%s': too many layers", arch);
        widths[nw++] = (size_t)v;
        p = end;
        if (*p == '\0')
            break;
        if (*p != '-')
            return qs_error_set(err, QS_ERR_INPUT, "model '%s': unexpected '%c' (mlp:I-H1-...-C)",
                                arch, *p);
        p++;
    }
    if (nw < 2)
        return qs_error_set(err, QS_ERR_INPUT,
                            "model '%s': needs at least the input and output widths", arch);
    if (widths[0] != in_features)
        return qs_error_set(err, QS_ERR_INPUT,
                            "model '%s': input width %zu differs from the dataset's %zu features",
                            arch, widths[0], in_features);
    if (widths[nw - 1] != classes)
        return qs_error_set(err, QS_ERR_INPUT,
                            "model '%s': output width %zu differs from the dataset's %zu classes",
                            arch, widths[nw - 1], classes);
    size_t n = 0;
    for (size_t i = 1; i < nw; i++) {
        spec[n++] = (layer_spec)LIN(widths[i]);
        if (i + 1 < nw)
            spec[n++] = (layer_spec)RELU;
    }
    *n_spec = n;
    return QS_OK;
}

static qs_status arch_spec(const char *arch, size_t in_features, size_t classes,
                           layer_spec *spec, size_t *n_spec, qs_error *err)
{
    if (strncmp(arch, "mlp:", 4) == 0)
        return parse_mlp(arch, in_features, classes, spec, n_spec, err);
    for (size_t z = 0; z < sizeof zoo / sizeof zoo[0]; z++) {
        if (strcmp(arch, zoo[z].name) != 0)
            continue;
        for (size_t i = 0; i < zoo[z].n; i++) {
            spec[i] = zoo[z].spec[i];
            if (spec[i].kind == QS_LAYER_LINEAR && spec[i].out == 0)
                spec[i].out = classes;
        }
        *n_spec = zoo[z].n;
        return QS_OK;
    }
    return qs_error_set(err, QS_ERR_INPUT, "unknown model '%s' (known: %s)", arch,
                        qs_model_arch_list());
}

/* Lays out layers and the parameter block of a model built from spec. */
static qs_status assemble(qs_model **out, const char *arch, const layer_spec *spec, size_t n_spec,
                          size_t in_features, qs_error *err)
{
    qs_model *m = calloc(1, sizeof *m);
    if (!m || !(m->layers = calloc(n_spec, sizeof *m->layers))) {
        free(m);
        return qs_error_set(err, QS_ERR_NOMEM, "model '%s': out of memory", arch);
    }
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    m->n_layers = n_spec;
    m->in_features = in_features;
    size_t width = in_features, trainable = 0, buffers = 0;
    m->max_width = width;
    for (size_t i = 0; i < n_spec; i++) {
        qs_layer *l = &m->layers[i];
        l->kind = spec[i].kind;
        snprintf(l->name, sizeof l->name, "seq_blocks_%zu", i);
        l->in = (qs_shape){width, 1, 1};
        if (l->kind == QS_LAYER_LINEAR) {
            trainable += spec[i].out * width + spec[i].out;
            width = spec[i].out;
        } else if (l->kind == QS_LAYER_BATCHNORM1D) {
            trainable += 2 * width;
            buffers += 2 * width;
            l->eps = 1e-5f;
            l->momentum = 0.1f;
        }
        l->out = (qs_shape){width, 1, 1};
        if (width > m->max_width)
            m->max_width = width;
    }
    m->classes = width;
    m->n_trainable = trainable;
    m->n_params = trainable + buffers;
    m->params = calloc(m->n_params ? m->n_params : 1, sizeof *m->params);
    if (!m->params) {
        qs_model_delete(m);
        return qs_error_set(err, QS_ERR_NOMEM, "model '%s': out of memory", arch);
    }
    float *p = m->params, *buf = m->params + trainable;
    for (size_t i = 0; i < n_spec; i++) {
        qs_layer *l = &m->layers[i];
        if (l->kind == QS_LAYER_LINEAR) {
            l->weight = p;
            p += l->out.c * l->in.c;
            l->bias = p;
            p += l->out.c;
        } else if (l->kind == QS_LAYER_BATCHNORM1D) {
            l->gamma = p;
            l->beta = p + l->in.c;
            p += 2 * l->in.c;
            l->running_mean = buf;
            l->running_var = buf + l->in.c;
            buf += 2 * l->in.c;
        }
    }
    *out = m;
    return QS_OK;
}

/* PyTorch's defaults: Linear kaiming_uniform(a=sqrt(5)) -> U(-1/sqrt(in), 1/sqrt(in))
 * for weight then bias; BN gamma 1, beta 0, running mean 0, var 1. */
static void init_params(qs_model *m, uint64_t seed)
{
    qs_rng rng;
    qs_rng_seed(&rng, seed);
    for (size_t i = 0; i < m->n_layers; i++) {
        qs_layer *l = &m->layers[i];
        if (l->kind == QS_LAYER_LINEAR) {
            double bound = 1.0 / sqrt((double)l->in.c);
            for (size_t k = 0; k < l->out.c * l->in.c; k++)
                l->weight[k] = (float)((2.0 * qs_rng_uniform(&rng) - 1.0) * bound);
            for (size_t k = 0; k < l->out.c; k++)
                l->bias[k] = (float)((2.0 * qs_rng_uniform(&rng) - 1.0) * bound);
        } else if (l->kind == QS_LAYER_BATCHNORM1D) {
            for (size_t k = 0; k < l->in.c; k++) {
                l->gamma[k] = 1.0f;
                l->beta[k] = 0.0f;
                l->running_mean[k] = 0.0f;
                l->running_var[k] = 1.0f;
            }
            l->num_batches_tracked = 0;
        }
    }
}

qs_status qs_model_build(qs_model **out, const char *arch, size_t in_features, size_t classes,
                         uint64_t seed, qs_error *err)
{
    *out = NULL;
    if (!arch || !*arch)
        return qs_error_set(err, QS_ERR_INPUT, "no model given (known: %s)", qs_model_arch_list());
    if (strlen(arch) >= sizeof ((qs_model *)0)->arch)
        return qs_error_set(err, QS_ERR_INPUT, "model name '%.40s...' too long", arch);
    if (in_features == 0 || in_features > MAX_WIDTH || classes < 1 || classes > MAX_WIDTH)
        return qs_error_set(err, QS_ERR_INPUT,
                            "model '%s': %zu features and %zu classes out of range", arch,
                            in_features, classes);
    layer_spec spec[MAX_LAYERS];
    size_t n_spec = 0;
    QS_TRY(arch_spec(arch, in_features, classes, spec, &n_spec, err));
    QS_TRY(assemble(out, arch, spec, n_spec, in_features, err));
    init_params(*out, seed);
    return QS_OK;
}

void qs_model_delete(qs_model *m)
{
    if (!m)
        return;
    free(m->params);
    free(m->layers);
    free(m);
}

qs_status qs_model_clone(qs_model **out, const qs_model *src, qs_error *err)
{
    *out = NULL;
    qs_model *m = malloc(sizeof *m);
    if (!m)
        return qs_error_set(err, QS_ERR_NOMEM, "model clone: out of memory");
    *m = *src;
    m->layers = malloc(src->n_layers * sizeof *m->layers);
    m->params = malloc((src->n_params ? src->n_params : 1) * sizeof *m->params);
    if (!m->layers || !m->params) {
        free(m->layers);
        free(m->params);
        free(m);
        return qs_error_set(err, QS_ERR_NOMEM, "model clone: out of memory");
    }
    memcpy(m->layers, src->layers, src->n_layers * sizeof *m->layers);
    memcpy(m->params, src->params, src->n_params * sizeof *m->params);
    /* Re-point every view at the copy's block. */
#define REBASE(f) if (l->f) l->f = m->params + (src->layers[i].f - src->params)
    for (size_t i = 0; i < m->n_layers; i++) {
        qs_layer *l = &m->layers[i];
        REBASE(weight);
        REBASE(bias);
        REBASE(gamma);
        REBASE(beta);
        REBASE(running_mean);
        REBASE(running_var);
    }
#undef REBASE
    *out = m;
    return QS_OK;
}

void qs_model_copy_params(qs_model *dst, const qs_model *src)
{
    QS_ASSERT(dst->n_layers == src->n_layers && dst->n_params == src->n_params &&
              dst->n_trainable == src->n_trainable);
    memcpy(dst->params, src->params, src->n_params * sizeof *src->params);
    for (size_t i = 0; i < src->n_layers; i++) {
        QS_ASSERT(dst->layers[i].kind == src->layers[i].kind &&
                  dst->layers[i].in.c == src->layers[i].in.c &&
                  dst->layers[i].out.c == src->layers[i].out.c);
        dst->layers[i].num_batches_tracked = src->layers[i].num_batches_tracked;
        dst->layers[i].eps = src->layers[i].eps;
        dst->layers[i].momentum = src->layers[i].momentum;
    }
}

int qs_model_find_layer(const qs_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_layers; i++)
        if (strcmp(m->layers[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Per-call tables: every Linear's transposed weight and every BN's scale/shift. */
static size_t table_floats(const qs_model *m)
{
    size_t t = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        const qs_layer *l = &m->layers[i];
        if (l->kind == QS_LAYER_LINEAR)
            t += l->in.c * l->out.c;
        else if (l->kind == QS_LAYER_BATCHNORM1D)
            t += 2 * l->in.c;
    }
    return t;
}

size_t qs_model_scratch_floats(const qs_model *m)
{
    return 2 * (size_t)QS_MODEL_CHUNK * m->max_width + table_floats(m);
}

/* One chunk of rows through every layer; tables hold the per-layer precomputations. */
static qs_status forward_chunk(const qs_model *m, const float *x, size_t rows, float *logits,
                               float *buf0, float *buf1, float *const *tables,
                               const qs_model_hooks *hooks, qs_error *err)
{
    int hook = hooks && hooks->pre;
    const float *cur = x;
    if (hook) {
        memcpy(buf0, x, rows * m->in_features * sizeof *x);
        cur = buf0;
    }
    for (size_t i = 0; i < m->n_layers; i++) {
        const qs_layer *l = &m->layers[i];
        size_t in = l->in.c * l->in.h * l->in.w, out = l->out.c * l->out.h * l->out.w;
        float *dst = i + 1 == m->n_layers ? logits : (cur == buf0 ? buf1 : buf0);
        if (hook)
            QS_TRY(hooks->pre(hooks->ctx, m, i, (float *)cur, rows, in, err));
        switch (l->kind) {
        case QS_LAYER_LINEAR:
            qs_nn_gemm_nn(cur, tables[i], l->bias, dst, rows, in, out);
            break;
        case QS_LAYER_BATCHNORM1D: {
            const float *scale = tables[i], *shift = tables[i] + in;
            for (size_t r = 0; r < rows; r++)
                for (size_t j = 0; j < in; j++)
                    dst[r * in + j] = cur[r * in + j] * scale[j] + shift[j];
            break;
        }
        case QS_LAYER_RELU:
            qs_nn_relu_forward(cur, rows * in, dst);
            break;
        case QS_LAYER_KIND_COUNT:
            return qs_error_set(err, QS_ERR_INTERNAL, "layer %s: bad kind", l->name);
        }
        cur = dst;
    }
    return QS_OK;
}

qs_status qs_model_forward(const qs_model *m, const float *x, size_t n, float *logits,
                           float *scratch, const qs_model_hooks *hooks, qs_error *err)
{
    float *buf0 = scratch, *buf1 = scratch + (size_t)QS_MODEL_CHUNK * m->max_width;
    float *t = buf1 + (size_t)QS_MODEL_CHUNK * m->max_width;
    float *tables[MAX_LAYERS] = {0};
    QS_ASSERT(m->n_layers <= MAX_LAYERS);
    for (size_t i = 0; i < m->n_layers; i++) {
        const qs_layer *l = &m->layers[i];
        if (l->kind == QS_LAYER_LINEAR) {
            tables[i] = t;
            qs_nn_transpose(l->weight, l->out.c, l->in.c, t);
            t += l->in.c * l->out.c;
        } else if (l->kind == QS_LAYER_BATCHNORM1D) {
            tables[i] = t;
            for (size_t j = 0; j < l->in.c; j++) {
                t[j] = l->gamma[j] / sqrtf(l->running_var[j] + l->eps);
                t[l->in.c + j] = l->beta[j] - l->running_mean[j] * t[j];
            }
            t += 2 * l->in.c;
        }
    }
    for (size_t s = 0; s < n; s += QS_MODEL_CHUNK) {
        size_t rows = n - s < QS_MODEL_CHUNK ? n - s : QS_MODEL_CHUNK;
        QS_TRY(forward_chunk(m, x + s * m->in_features, rows, logits + s * m->classes, buf0, buf1,
                             tables, hooks, err));
    }
    return QS_OK;
}

qs_status qs_model_forward_alloc(const qs_model *m, const float *x, size_t n, float *logits,
                                 qs_error *err)
{
    float *scratch = malloc(qs_model_scratch_floats(m) * sizeof *scratch);
    if (!scratch)
        return qs_error_set(err, QS_ERR_NOMEM, "forward: out of memory");
    qs_status st = qs_model_forward(m, x, n, logits, scratch, NULL, err);
    free(scratch);
    return st;
}

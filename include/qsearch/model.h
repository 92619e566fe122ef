/* Models: a sequence of layers (Linear, BatchNorm1d, ReLU; Conv2d, MaxPool and
 * Flatten can join later: every layer carries (c, h, w) input/output shapes),
 * MASE's JSC zoo and mlp: specs, and a fast batched float forward pass with
 * per-layer input hooks (activation quantization plugs in there).
 *
 * Layers are named as MASE names graph nodes: "seq_blocks_K", K = position in
 * the sequence (0-based), so jsc-tiny's Linear is "seq_blocks_2". */
#ifndef QSEARCH_MODEL_H
#define QSEARCH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/data.h"
#include "qsearch/status.h"

typedef enum {
    QS_LAYER_LINEAR,
    QS_LAYER_BATCHNORM1D,
    QS_LAYER_RELU,
    QS_LAYER_KIND_COUNT
} qs_layer_kind;

/* Activation shape of one sample; 1-D layers use (features, 1, 1). */
typedef struct {
    size_t c, h, w;
} qs_shape;

typedef struct {
    qs_layer_kind kind;
    char name[32];          /* "seq_blocks_K" */
    qs_shape in, out;       /* per-sample input and output shapes */
    /* Parameters and buffers are views into qs_model.params (NULL when the
     * kind has none). Linear uses PyTorch's layout. */
    float *weight;          /* linear: [out.c][in.c] */
    float *bias;            /* linear: [out.c] */
    float *gamma, *beta;    /* batchnorm1d: [in.c] (PyTorch's weight, bias) */
    float *running_mean;    /* batchnorm1d buffer: [in.c] */
    float *running_var;     /* batchnorm1d buffer: [in.c] (unbiased estimate) */
    int64_t num_batches_tracked; /* batchnorm1d buffer */
    float eps;              /* batchnorm1d: 1e-5 */
    float momentum;         /* batchnorm1d: 0.1 */
} qs_layer;

typedef struct {
    char arch[64];          /* "jsc-s", "mlp:16-64-32-26", ... */
    size_t in_features;     /* input width (product of the first layer's in shape) */
    size_t classes;         /* logits width */
    size_t n_layers;
    qs_layer *layers;       /* [n_layers] */
    /* One allocation: trainable parameters first ([n_trainable] floats, in
     * layer order: weight, bias / gamma, beta), then the BN running buffers. */
    float *params;          /* [n_params] */
    size_t n_params;        /* parameters + float buffers */
    size_t n_trainable;     /* parameters only (the "params" metric) */
    size_t max_width;       /* widest per-sample activation, inputs included */
} qs_model;

/* Rows per chunk in qs_model_forward: hooks see at most this many rows at a time. */
#define QS_MODEL_CHUNK 256

/* Called on a mutable copy of layer `layer`'s input, rows x width floats
 * (row-major, width = the layer's in.c*in.h*in.w), before the layer runs.
 * Rows are independent samples; a forward pass over n rows calls the hook once
 * per chunk of at most QS_MODEL_CHUNK rows. A non-OK return aborts the pass. */
typedef qs_status (*qs_layer_hook_fn)(void *ctx, const qs_model *m, size_t layer,
                                      float *x, size_t rows, size_t width, qs_error *err);

typedef struct {
    qs_layer_hook_fn pre;   /* may be NULL */
    void *ctx;
} qs_model_hooks;

/* MASE's type name of a kind: "linear", "batch_norm1d", "relu". */
const char *qs_layer_kind_name(qs_layer_kind kind);

/* The known architectures, for messages and --help:
 * "jsc-tiny, jsc-toy, jsc-s, jsc-three-linear, mlp:I-H1-...-C". */
const char *qs_model_arch_list(void);

/* Builds arch for in_features inputs and classes outputs, PyTorch default init
 * (Linear weight and bias U(-1/sqrt(in), 1/sqrt(in)); BN gamma 1, beta 0,
 * running mean 0, var 1) drawn from a qs_rng seeded with seed. Unknown arch or
 * an mlp: spec whose ends differ from in_features/classes -> QS_ERR_INPUT. */
qs_status qs_model_build(qs_model **out, const char *arch, size_t in_features,
                         size_t classes, uint64_t seed, qs_error *err);

/* Frees the model; m may be NULL. */
void qs_model_delete(qs_model *m);

/* A deep copy of src (own parameter block). */
qs_status qs_model_clone(qs_model **out, const qs_model *src, qs_error *err);

/* Copies every parameter and buffer of src into dst; both must have the same
 * architecture (same arch and widths; checked with QS_ASSERT). No allocation. */
void qs_model_copy_params(qs_model *dst, const qs_model *src);

/* Index of the layer named name ("seq_blocks_2"), or -1. */
int qs_model_find_layer(const qs_model *m, const char *name);

/* Floats of scratch qs_model_forward needs (independent of the batch size). */
size_t qs_model_scratch_floats(const qs_model *m);

/* Eval-mode forward (BN uses running statistics): x [n][in_features] ->
 * logits [n][classes]. scratch: qs_model_scratch_floats(m) floats, 64-byte
 * alignment preferred. No allocation. hooks may be NULL. Fails only when a
 * hook fails. */
qs_status qs_model_forward(const qs_model *m, const float *x, size_t n, float *logits,
                           float *scratch, const qs_model_hooks *hooks, qs_error *err);

/* Convenience: forward with internally allocated scratch (not for hot loops). */
qs_status qs_model_forward_alloc(const qs_model *m, const float *x, size_t n, float *logits,
                                 qs_error *err);

/* Everything a model file carries besides tensors (safetensors __metadata__). */
typedef struct {
    char dataset[256];      /* dataset spec it was trained on, e.g. "letter"; "" unknown */
    size_t classes;         /* entries of class_names (0 when absent) */
    char **class_names;     /* [classes] or NULL */
    size_t features;        /* entries of input_mean/input_std (0 when absent) */
    float *input_mean;      /* [features] or NULL: raw = x * std + mean */
    float *input_std;       /* [features] or NULL */
    char *training;         /* JSON object text (training summary) or NULL */
    char version[32];       /* qsearch version that wrote the file */
} qs_model_meta;

/* Empty metadata. */
void qs_model_meta_init(qs_model_meta *meta);
/* Releases what meta owns and re-initialises it; meta may be NULL. */
void qs_model_meta_free(qs_model_meta *meta);
/* Copies class names and standardisation of ds; spec names the dataset. */
qs_status qs_model_meta_from_dataset(qs_model_meta *meta, const qs_dataset *ds,
                                     const char *spec, qs_error *err);

#endif

/* Integer execution engine: runs a model under a quantization config with
 * integer matmuls for every Linear layer whose data_in, weight and bias are
 * `integer` format (weights packed at their container width, activations
 * quantized to int8/int16 right before the matmul, int32 or int64
 * accumulators, bias added at the accumulator's scale, exact rescale to
 * float). Everything else (BN, ReLU with its input quantizer, float or
 * non-integer layers) runs as the emulation path (qs_quant_model +
 * qs_model_forward) runs it, with the same float operations in the same order.
 *
 * The plan is built once per (model, config); the engine owns copies of all it
 * needs (packed weights, quantized parameters, BN tables), so the model and
 * the config may be freed afterwards. Forward allocates nothing and may be
 * called from several threads at once, each with its own scratch.
 * See docs/engine.md for the arithmetic and when it equals emulation. */
#ifndef QSEARCH_ENGINE_H
#define QSEARCH_ENGINE_H

#include <stddef.h>

#include "qsearch/kernels.h"
#include "qsearch/model.h"
#include "qsearch/quantize.h"
#include "qsearch/status.h"

typedef struct qs_engine qs_engine;

/* Rows per internal chunk of a forward pass (larger batches loop over chunks). */
#define QS_ENGINE_CHUNK 64

/* How a layer runs. */
typedef enum {
    QS_ENGINE_RUN_INT = 0, /* Linear as an integer matmul */
    QS_ENGINE_RUN_EMULATE, /* as the emulation path (float kernels + quantizers) */
} qs_engine_run;

/* What the plan decided for one layer. */
typedef struct {
    qs_engine_run run;
    qs_layer_kind kind;
    qs_kernel_fmt wfmt;  /* INT: weight container */
    int act_bits;        /* INT: activation container, 8 or 16 */
    int acc_bits;        /* INT: kernel accumulator, 32 or 64 */
    int exact_bias;      /* INT: 1 if the bias is added exactly (always, see docs) */
    int out_shift;       /* INT: F = max(f_w + f_a, f_b): outputs are integer * 2^-F */
    int reused;          /* INT: packed weights copied from qs_engine_new_reuse's prev */
    char reason[96];     /* EMULATE Linear: why it is not integer ("weight is minifloat_ieee") */
} qs_engine_layer_info;

/* Builds the plan for model m under cfg (NULL or all-float: every layer in
 * float). Integer layers whose scales cannot be handled exactly in int64
 * run emulated (the reason says so). QS_ERR_INPUT when cfg does not fit m or
 * holds an invalid spec; QS_ERR_NOMEM. */
qs_status qs_engine_new(qs_engine **out, const qs_model *m, const qs_quant_config *cfg,
                        qs_error *err);

/* As qs_engine_new, but every integer Linear layer whose weight format is the
 * same as in prev (an engine built from this same model object, parameters
 * unchanged since) copies prev's packed weights instead of quantizing and
 * packing them again: the cheap way to re-plan per search trial. prev may be
 * NULL; an engine of another model object is ignored. prev is not modified. */
qs_status qs_engine_new_reuse(qs_engine **out, const qs_model *m, const qs_quant_config *cfg,
                              const qs_engine *prev, qs_error *err);

/* Frees the engine; e may be NULL. */
void qs_engine_delete(qs_engine *e);

/* Bytes of scratch qs_engine_forward needs (independent of the batch size). */
size_t qs_engine_scratch_bytes(const qs_engine *e);

/* Eval-mode forward: x [n][in_features] -> logits [n][classes]. scratch:
 * qs_engine_scratch_bytes(e) bytes, 64-byte aligned. No allocation. Fails
 * only when an emulated non-integer quantizer fails (it does not for valid specs). */
qs_status qs_engine_forward(const qs_engine *e, const float *x, size_t n, float *logits,
                            void *scratch, qs_error *err);

/* Convenience: forward with internally allocated scratch (not for hot loops). */
qs_status qs_engine_forward_alloc(const qs_engine *e, const float *x, size_t n, float *logits,
                                  qs_error *err);

/* Number of layers (the model's) and the plan of layer i. */
size_t qs_engine_n_layers(const qs_engine *e);
const qs_engine_layer_info *qs_engine_layer(const qs_engine *e, size_t i);

/* Linear layers in all, and how many of them run integer. */
size_t qs_engine_n_linear(const qs_engine *e);
size_t qs_engine_n_int(const qs_engine *e);

/* Kernel path the engine calls ("ref", "avx2", "avx512"), fixed at qs_engine_new. */
const char *qs_engine_kernel_path(const qs_engine *e);

/* One line per Linear layer, e.g. "seq_blocks_2 linear 16->64: int (int8 weights,
 * int8 acts, int32 acc, 2^-8, avx512)" or "... : emulate (weight is float)";
 * writes at most cap bytes, always terminated; returns buf. */
char *qs_engine_describe(const qs_engine *e, char *buf, size_t cap);

#endif

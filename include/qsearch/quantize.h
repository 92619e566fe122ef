/* The quantize pass (MASE's `[passes.quantize]`, DESIGN.md section 6): which
 * number format each layer's tensors take, and a quantized view of a float
 * model that is cheap to re-target to a new configuration.
 *
 * Linear layers quantize data_in, weight and bias; ReLU its (unsigned) input;
 * other layers stay in float. Quantization is applied to a copy: the float
 * model is never modified, so re-quantizing never compounds. */
#ifndef QSEARCH_QUANTIZE_H
#define QSEARCH_QUANTIZE_H

#include <stddef.h>

#include "qsearch/format.h"
#include "qsearch/model.h"
#include "qsearch/status.h"
#include "qsearch/toml.h"

typedef enum { QS_TENSOR_DATA_IN, QS_TENSOR_WEIGHT, QS_TENSOR_BIAS, QS_TENSOR_COUNT } qs_tensor_role;

/* One layer's formats. quantized[r] == 0 leaves tensor r in float. */
typedef struct {
    int quantized[QS_TENSOR_COUNT];
    qs_format_spec spec[QS_TENSOR_COUNT];
} qs_layer_quant;

typedef struct {
    size_t n_layers;
    qs_layer_quant *layers; /* [n_layers], parallel to the model's layers */
} qs_quant_config;

/* "data_in", "weight", "bias". */
const char *qs_tensor_role_name(qs_tensor_role r);

/* A configuration of m's size with every layer in float. */
qs_status qs_quant_config_init(qs_quant_config *cfg, const qs_model *m, qs_error *err);
void qs_quant_config_free(qs_quant_config *cfg);

/* 1 when layer kind k can be quantized, and which tensors it has. */
int qs_quant_layer_supported(qs_layer_kind k);
int qs_quant_layer_has_tensor(qs_layer_kind k, qs_tensor_role r);

/* Sets layer `layer` from a MASE-style entry: format name ("NA" = float) and
 * per-tensor parameters given as key/value text ("weight_width" -> "8").
 * Reading keys from TOML or from a search space both end here. */
typedef struct {
    const char *key, *value;
} qs_quant_param;
qs_status qs_quant_config_set_layer(qs_quant_config *cfg, const qs_model *m, size_t layer,
                                    const char *format_name, const qs_quant_param *params,
                                    size_t n_params, qs_error *err);

/* Reads `[passes.quantize]` of a parsed TOML document for model m: `by` =
 * "name" | "type", a `default` entry, per-layer (or per-type) entries with a
 * `config` table holding `name` and data_in_* / weight_* / bias_* parameters,
 * `bypass = true`. Errors are "FILE:LINE:COL: key: message" (unknown layer or
 * type, unknown format or parameter, missing width, width out of range). */
qs_status qs_quant_config_from_toml(qs_quant_config *cfg, const qs_model *m, const qs_toml_value *root,
                                    qs_error *err);

/* A TOML parameter value (integer, float, string, boolean or integer array)
 * as the text qs_quant_config_set_layer / qs_format_spec_set parse ("8",
 * "NA", "0.5", "[4, 8]"); other types are located QS_ERR_INPUT. Shared by
 * quantize configs and search spaces. */
qs_status qs_quant_param_text(const qs_toml_value *v, char *buf, size_t cap, qs_error *err);

/* As above from a file. */
qs_status qs_quant_config_load(qs_quant_config *cfg, const qs_model *m, const char *path, qs_error *err);

/* A quantized view of a float model: a parameter copy (allocated once) whose
 * weights and biases hold the quantized values, and forward hooks that
 * quantize each layer's input. Re-targeting to a new configuration copies and
 * quantizes parameters only; nothing is allocated. */
typedef struct {
    const qs_model *source;     /* the float model (never modified) */
    qs_model *copy;             /* same architecture, quantized parameters */
    const qs_quant_config *cfg; /* the configuration applied (borrowed) */
    qs_model_hooks hooks;       /* quantize layer inputs per cfg */
} qs_quant_model;

qs_status qs_quant_model_init(qs_quant_model *qm, const qs_model *source, qs_error *err);
/* Applies cfg (borrowed until the next apply or free). */
qs_status qs_quant_model_apply(qs_quant_model *qm, const qs_quant_config *cfg, qs_error *err);
void qs_quant_model_free(qs_quant_model *qm);

/* Text like "integer(width=8, frac_width=4)" or "float" for a layer's tensor. */
char *qs_quant_describe(const qs_quant_config *cfg, size_t layer, qs_tensor_role r, char *buf, size_t cap);

#endif

/* The quantize pass: per-layer formats from MASE-style configs, and a
 * quantized view of a float model (parameter copy + input hooks). */
#include "qsearch/quantize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[QS_TENSOR_COUNT] = {"data_in", "weight", "bias"};

const char *qs_tensor_role_name(qs_tensor_role r) { return r < QS_TENSOR_COUNT ? role_names[r] : "?"; }

int qs_quant_layer_supported(qs_layer_kind k) { return k == QS_LAYER_LINEAR || k == QS_LAYER_RELU; }

int qs_quant_layer_has_tensor(qs_layer_kind k, qs_tensor_role r)
{
    if (k == QS_LAYER_LINEAR)
        return 1;
    return k == QS_LAYER_RELU && r == QS_TENSOR_DATA_IN;
}

qs_status qs_quant_config_init(qs_quant_config *cfg, const qs_model *m, qs_error *err)
{
    cfg->n_layers = m->n_layers;
    cfg->layers = calloc(m->n_layers ? m->n_layers : 1, sizeof *cfg->layers);
    if (!cfg->layers)
        return qs_error_set(err, QS_ERR_NOMEM, "quantize: cannot allocate a config of %zu layers", m->n_layers);
    return QS_OK;
}

void qs_quant_config_free(qs_quant_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->layers);
    cfg->layers = NULL;
    cfg->n_layers = 0;
}

/* Splits "weight_frac_width" into role WEIGHT and parameter "frac_width". */
static int split_param_key(const char *key, qs_tensor_role *role, const char **param)
{
    for (int r = 0; r < QS_TENSOR_COUNT; r++) {
        size_t len = strlen(role_names[r]);
        if (strncmp(key, role_names[r], len) == 0 && key[len] == '_' && key[len + 1]) {
            *role = (qs_tensor_role)r;
            *param = key + len + 1;
            return 1;
        }
    }
    return 0;
}

/* Formats of a layer that the format itself fixes (ReLU inputs are unsigned;
 * block_fp activations keep the batch dimension out of the blocks, as MASE).
 * binary and ternary quantize a linear's weight only and leave ReLU inputs
 * alone, as MASE's LinearBinary/LinearTernary and ReLUBinary/ReLUTernary do
 * (their data_in/bias quantizers are pass-throughs). */
static void init_layer_specs(qs_layer_quant *lq, qs_layer_kind kind, qs_format f)
{
    int weight_only = f == QS_FMT_BINARY || f == QS_FMT_TERNARY;
    for (int r = 0; r < QS_TENSOR_COUNT; r++) {
        lq->quantized[r] = qs_quant_layer_has_tensor(kind, (qs_tensor_role)r) &&
                           (!weight_only || (kind == QS_LAYER_LINEAR && r == QS_TENSOR_WEIGHT));
        qs_format_spec_init(&lq->spec[r], f);
    }
    if (kind == QS_LAYER_RELU)
        lq->spec[QS_TENSOR_DATA_IN].is_signed = false;
    if (f == QS_FMT_BLOCK_FP)
        lq->spec[QS_TENSOR_DATA_IN].skip_first_dim = true;
}

qs_status qs_quant_config_set_layer(qs_quant_config *cfg, const qs_model *m, size_t layer,
                                    const char *format_name, const qs_quant_param *params,
                                    size_t n_params, qs_error *err)
{
    const qs_layer *l = &m->layers[layer];
    qs_layer_quant lq;
    memset(&lq, 0, sizeof lq);
    if (strcmp(format_name, "NA") == 0) {
        cfg->layers[layer] = lq;
        return QS_OK;
    }
    if (!qs_quant_layer_supported(l->kind))
        return qs_error_set(err, QS_ERR_INPUT, "%s is a %s layer; only linear and relu layers can be quantized",
                            l->name, qs_layer_kind_name(l->kind));
    qs_format f;
    QS_TRY(qs_format_from_name(format_name, &f, err));
    init_layer_specs(&lq, l->kind, f);
    for (size_t i = 0; i < n_params; i++) {
        qs_tensor_role role;
        const char *param;
        if (!split_param_key(params[i].key, &role, &param))
            return qs_error_set(err, QS_ERR_INPUT, "unknown parameter '%s' (expected data_in_*, weight_* or bias_*)",
                                params[i].key);
        if (!lq.quantized[role])
            continue; /* a shared entry's weight_* keys do not concern a ReLU */
        qs_status st = qs_format_spec_set(&lq.spec[role], param, params[i].value, err);
        if (st) {
            qs_error_prefix(err, "%s", params[i].key);
            return st;
        }
    }
    for (int r = 0; r < QS_TENSOR_COUNT; r++) {
        if (!lq.quantized[r])
            continue;
        qs_status st = qs_format_spec_validate(&lq.spec[r], err);
        if (st) {
            qs_error_prefix(err, "%s %s", l->name, role_names[r]);
            return st;
        }
    }
    cfg->layers[layer] = lq;
    return QS_OK;
}

char *qs_quant_describe(const qs_quant_config *cfg, size_t layer, qs_tensor_role r, char *buf, size_t cap)
{
    const qs_layer_quant *lq = &cfg->layers[layer];
    if (!lq->quantized[r])
        snprintf(buf, cap, "float");
    else
        qs_format_spec_str(&lq->spec[r], buf, cap);
    return buf;
}

/* ---- the quantized view ---- */

static qs_status quantize_input_hook(void *ctx, const qs_model *m, size_t layer, float *x, size_t rows,
                                     size_t width, qs_error *err)
{
    (void)m;
    const qs_quant_model *qm = ctx;
    const qs_layer_quant *lq = &qm->cfg->layers[layer];
    if (!lq->quantized[QS_TENSOR_DATA_IN])
        return QS_OK;
    size_t shape[2] = {rows, width};
    return qs_quantize_shaped(&lq->spec[QS_TENSOR_DATA_IN], x, x, shape, 2, err);
}

qs_status qs_quant_model_init(qs_quant_model *qm, const qs_model *source, qs_error *err)
{
    memset(qm, 0, sizeof *qm);
    qm->source = source;
    QS_TRY(qs_model_clone(&qm->copy, source, err));
    qm->hooks.pre = quantize_input_hook;
    qm->hooks.ctx = qm;
    return QS_OK;
}

static qs_status quantize_params(const qs_layer *src, qs_layer *dst, const qs_layer_quant *lq, qs_error *err)
{
    if (lq->quantized[QS_TENSOR_WEIGHT]) {
        size_t shape[2] = {src->out.c, src->in.c};
        QS_TRY(qs_quantize_shaped(&lq->spec[QS_TENSOR_WEIGHT], src->weight, dst->weight, shape, 2, err));
    }
    if (lq->quantized[QS_TENSOR_BIAS]) {
        size_t shape[1] = {src->out.c};
        QS_TRY(qs_quantize_shaped(&lq->spec[QS_TENSOR_BIAS], src->bias, dst->bias, shape, 1, err));
    }
    return QS_OK;
}

qs_status qs_quant_model_apply(qs_quant_model *qm, const qs_quant_config *cfg, qs_error *err)
{
    QS_ASSERT(cfg->n_layers == qm->source->n_layers);
    qs_model_copy_params(qm->copy, qm->source);
    qm->cfg = cfg;
    for (size_t i = 0; i < cfg->n_layers; i++) {
        qs_status st = quantize_params(&qm->source->layers[i], &qm->copy->layers[i], &cfg->layers[i], err);
        if (st) {
            qs_error_prefix(err, "%s", qm->source->layers[i].name);
            return st;
        }
    }
    return QS_OK;
}

void qs_quant_model_free(qs_quant_model *qm)
{
    if (!qm)
        return;
    qs_model_delete(qm->copy);
    memset(qm, 0, sizeof *qm);
}

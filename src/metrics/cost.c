/* Static cost metrics (params, size, average bitwidth, MACs, FLOPs, BitOPs)
 * per layer and in total, and the per-layer operation counts of the energy
 * model. Every formula is stated in docs/metrics.md, "Static metrics". */
#include "qsearch/cost.h"

#include <stdlib.h>
#include <string.h>

#define FLOAT_BITS 32
#define ACC_BITS 32 /* integer accumulator width (energy model) */

/* The layer's quantization, or NULL when the whole model is float. */
static const qs_layer_quant *layer_quant(const qs_quant_config *cfg, size_t i)
{
    return cfg ? &cfg->layers[i] : NULL;
}

static int is_quantized(const qs_layer_quant *lq, qs_tensor_role r)
{
    return lq && lq->quantized[r];
}

/* Element bits of tensor r: the format's storage bits, 32 when float. */
static int element_bits(const qs_layer_quant *lq, qs_tensor_role r)
{
    return is_quantized(lq, r) ? qs_format_element_bits(&lq->spec[r]) : FLOAT_BITS;
}

/* Storage bits of tensor r of shape[ndim]; block_fp adds its shared exponents. */
static uint64_t tensor_bits(const qs_layer_quant *lq, qs_tensor_role r, const size_t *shape, int ndim)
{
    if (is_quantized(lq, r))
        return qs_format_tensor_bits(&lq->spec[r], shape, ndim);
    uint64_t n = 1;
    for (int d = 0; d < ndim; d++)
        n *= shape[d];
    return n * FLOAT_BITS;
}

static uint64_t shape_numel(qs_shape s) { return (uint64_t)s.c * s.h * s.w; }

/* One layer's metrics (name included); no allocation. */
static void layer_cost(const qs_layer *l, const qs_layer_quant *lq, qs_layer_cost *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->name, l->name, sizeof out->name);
    out->name[sizeof out->name - 1] = '\0';
    out->kind = l->kind;
    uint64_t in = shape_numel(l->in), outn = shape_numel(l->out);
    switch (l->kind) {
    case QS_LAYER_LINEAR: {
        size_t wshape[2] = {l->out.c, l->in.c}, bshape[1] = {l->out.c};
        out->params = in * outn + outn;
        out->size_bits = tensor_bits(lq, QS_TENSOR_WEIGHT, wshape, 2) + tensor_bits(lq, QS_TENSOR_BIAS, bshape, 1);
        out->macs = in * outn;
        out->flops = 2 * out->macs + outn; /* a multiply and an add per MAC, one bias add per output */
        out->weight_bits = element_bits(lq, QS_TENSOR_WEIGHT);
        out->data_in_bits = element_bits(lq, QS_TENSOR_DATA_IN);
        out->bitops = out->macs * (uint64_t)out->weight_bits * (uint64_t)out->data_in_bits;
        break;
    }
    case QS_LAYER_BATCHNORM1D:
        /* gamma, beta (trainable) + running mean and var, all float;
         * num_batches_tracked is not needed at inference. */
        out->params = 2 * in;
        out->size_bits = 4 * in * FLOAT_BITS;
        out->flops = 2 * in; /* y = x * scale + shift once folded */
        out->weight_bits = FLOAT_BITS;
        out->data_in_bits = FLOAT_BITS;
        break;
    case QS_LAYER_RELU:
        out->flops = in; /* one compare per element */
        out->data_in_bits = element_bits(lq, QS_TENSOR_DATA_IN);
        break;
    case QS_LAYER_KIND_COUNT:
        break;
    }
}

/* Adds one layer into the totals; num and den accumulate MASE's average bitwidth. */
static void accumulate(qs_cost *c, const qs_layer *l, const qs_layer_quant *lq, const qs_layer_cost *lc,
                       double *num, double *den)
{
    c->params += lc->params;
    c->model_size_bits += lc->size_bits;
    c->macs += lc->macs;
    c->flops += lc->flops;
    c->bitops += lc->bitops;
    if (l->kind == QS_LAYER_LINEAR && is_quantized(lq, QS_TENSOR_WEIGHT)) {
        double io = (double)l->in.c * (double)l->out.c;
        *num += io * lc->weight_bits;
        *den += io;
    }
}

static void finish(qs_cost *c, double num, double den)
{
    c->avg_bitwidth = den > 0 ? num / den : (double)FLOAT_BITS;
    c->memory_density = (double)FLOAT_BITS / c->avg_bitwidth;
}

void qs_cost_totals(qs_cost *c, const qs_model *m, const qs_quant_config *cfg)
{
    QS_ASSERT(!cfg || cfg->n_layers == m->n_layers);
    memset(c, 0, sizeof *c);
    double num = 0, den = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        qs_layer_cost lc;
        layer_cost(&m->layers[i], layer_quant(cfg, i), &lc);
        accumulate(c, &m->layers[i], layer_quant(cfg, i), &lc, &num, &den);
    }
    finish(c, num, den);
}

qs_status qs_cost_compute(qs_cost *c, const qs_model *m, const qs_quant_config *cfg, qs_error *err)
{
    memset(c, 0, sizeof *c);
    if (cfg && cfg->n_layers != m->n_layers)
        return qs_error_set(err, QS_ERR_INPUT, "cost: the config has %zu layers, model %s has %zu",
                            cfg->n_layers, m->arch, m->n_layers);
    c->layers = calloc(m->n_layers ? m->n_layers : 1, sizeof *c->layers);
    if (!c->layers)
        return qs_error_set(err, QS_ERR_NOMEM, "cost: cannot allocate %zu layer entries", m->n_layers);
    c->n_layers = m->n_layers;
    double num = 0, den = 0;
    for (size_t i = 0; i < m->n_layers; i++) {
        layer_cost(&m->layers[i], layer_quant(cfg, i), &c->layers[i]);
        accumulate(c, &m->layers[i], layer_quant(cfg, i), &c->layers[i], &num, &den);
    }
    finish(c, num, den);
    return QS_OK;
}

void qs_cost_free(qs_cost *c)
{
    if (!c)
        return;
    free(c->layers);
    c->layers = NULL;
    c->n_layers = 0;
}

/* ---- energy model inputs ---- */

/* Formats whose products are integer products (block_fp: integer mantissas
 * under a shared exponent). Minifloat and log are narrow floats. */
static int integer_arith(const qs_format_spec *s)
{
    return s->format == QS_FMT_INTEGER || s->format == QS_FMT_BINARY || s->format == QS_FMT_TERNARY ||
           s->format == QS_FMT_BLOCK_FP;
}

static void linear_ops(const qs_layer *l, const qs_layer_quant *lq, const qs_layer_cost *lc,
                       qs_energy_layer_ops *o)
{
    double outn = (double)shape_numel(l->out);
    int wq = is_quantized(lq, QS_TENSOR_WEIGHT), dq = is_quantized(lq, QS_TENSOR_DATA_IN);
    if (wq && dq && integer_arith(&lq->spec[QS_TENSOR_WEIGHT]) && integer_arith(&lq->spec[QS_TENSOR_DATA_IN])) {
        o->int_macs = (double)lc->macs;
        o->weight_bits = lc->weight_bits;
        o->act_bits = lc->data_in_bits;
        o->acc_bits = ACC_BITS;
        o->int_adds = outn; /* bias added into the accumulator */
        o->add_bits = ACC_BITS;
    } else {
        /* float MACs; both operands narrow floats -> the wider of the two */
        int narrow = wq && dq ? (lc->weight_bits > lc->data_in_bits ? lc->weight_bits : lc->data_in_bits) : FLOAT_BITS;
        o->fp_macs = (double)lc->macs;
        o->fp_adds = outn;
        o->fp_bits = narrow < 2 ? 2 : narrow;
    }
}

void qs_cost_energy_ops(const qs_model *m, const qs_quant_config *cfg, qs_energy_layer_ops *ops)
{
    QS_ASSERT(!cfg || cfg->n_layers == m->n_layers);
    qs_cost tot;
    qs_cost_totals(&tot, m, cfg);
    /* Parameters and one sample's activations (input and output of the
     * widest layer, float) fit in a typical L2 -> SRAM costs, else DRAM. */
    uint64_t working = tot.model_size_bits / 8 + 2 * (uint64_t)m->max_width * 4;
    qs_mem_level mem = working <= QS_COST_SRAM_BYTES ? QS_MEM_SRAM : QS_MEM_DRAM;
    for (size_t i = 0; i < m->n_layers; i++) {
        const qs_layer *l = &m->layers[i];
        const qs_layer_quant *lq = layer_quant(cfg, i);
        qs_layer_cost lc;
        layer_cost(l, lq, &lc);
        qs_energy_layer_ops *o = &ops[i];
        memset(o, 0, sizeof *o);
        o->name = l->name;
        o->weight_bits = o->act_bits = o->acc_bits = o->add_bits = ACC_BITS;
        o->fp_bits = FLOAT_BITS;
        double in = (double)shape_numel(l->in), outn = (double)shape_numel(l->out);
        if (l->kind == QS_LAYER_LINEAR) {
            linear_ops(l, lq, &lc, o);
        } else if (l->kind == QS_LAYER_BATCHNORM1D) {
            o->fp_mults = in;
            o->fp_adds = in;
        } else if (l->kind == QS_LAYER_RELU) {
            if (is_quantized(lq, QS_TENSOR_DATA_IN) && integer_arith(&lq->spec[QS_TENSOR_DATA_IN])) {
                o->int_adds = in; /* a compare is an add */
                o->add_bits = lc.data_in_bits;
            } else {
                o->fp_adds = in;
            }
        }
        o->param_bits_read = (double)lc.size_bits;
        o->param_mem = mem;
        o->act_bits_moved = in * lc.data_in_bits + outn * FLOAT_BITS;
        o->act_mem = mem;
    }
}

/* Static cost metrics of a (possibly quantized) model, per layer and in total
 * (DESIGN.md section 7; docs/metrics.md states them exactly):
 *   params          trainable parameters
 *   model_size_bits sum over tensors needed at inference of numel x format bits
 *                   (float 32; block formats add their shared exponents)
 *   avg_bitwidth    MASE: sum(in*out*weight_width) / sum(in*out) over quantized
 *                   linear layers (32 when none is quantized); memory_density = 32 / it
 *   macs            multiply-accumulates per sample
 *   flops           2*macs + bias adds + BN (2/elem) + ReLU (1/elem), per sample
 *   bitops          sum over layers of macs x weight_bits x data_in_bits (float 32) */
#ifndef QSEARCH_COST_H
#define QSEARCH_COST_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/energy.h"
#include "qsearch/model.h"
#include "qsearch/quantize.h"
#include "qsearch/status.h"

typedef struct {
    char name[32];           /* "seq_blocks_2" */
    qs_layer_kind kind;
    uint64_t params;
    uint64_t size_bits;
    uint64_t macs, flops, bitops;
    int weight_bits;         /* element bits of the weight (32 float; 0 when none) */
    int data_in_bits;        /* element bits of the input (32 float) */
} qs_layer_cost;

typedef struct {
    uint64_t params;
    uint64_t model_size_bits;
    double avg_bitwidth;
    double memory_density;
    uint64_t macs, flops, bitops;
    size_t n_layers;
    qs_layer_cost *layers;   /* [n_layers] */
} qs_cost;

/* Energy-model memory level: parameters plus one sample's float activations
 * (input and output of the widest layer) within this many bytes (a typical L2)
 * are SRAM accesses, otherwise DRAM (qs_cost_energy_ops). */
#define QS_COST_SRAM_BYTES (256u * 1024u)

/* Computes every static metric of m under cfg (NULL: all float); c->layers is
 * allocated ([m->n_layers]); release with qs_cost_free. A cfg of another size is QS_ERR_INPUT. */
qs_status qs_cost_compute(qs_cost *c, const qs_model *m, const qs_quant_config *cfg, qs_error *err);

/* Only the totals, with no allocation (for static constraints in the search loop);
 * c->layers = NULL, c->n_layers = 0. cfg must have m's size (QS_ASSERT). */
void qs_cost_totals(qs_cost *c, const qs_model *m, const qs_quant_config *cfg);

/* The per-layer operation counts the energy model takes, per sample at batch 1
 * ([m->n_layers] entries; ops[i].name points into m). No allocation. */
void qs_cost_energy_ops(const qs_model *m, const qs_quant_config *cfg, qs_energy_layer_ops *ops);

void qs_cost_free(qs_cost *c);

#endif

/* Static metrics (cost.h) against hand-computed values for jsc-tiny, jsc-toy
 * and jsc-s on 16 features / 26 classes (letter's shape), float and quantized
 * (integer, mixed by name, block_fp, binary), and the energy-model inputs.
 * The arithmetic is written next to each expected value. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "qsearch/cost.h"
#include "qsearch/quantize.h"
#include "qsearch/toml.h"

static qs_model *build(const char *arch)
{
    qs_model *m = NULL;
    qs_error err;
    CHECK_INT(qs_model_build(&m, arch, 16, 26, 1, &err), QS_OK);
    return m;
}

/* Parses a [passes.quantize] document for m; aborts the test on failure. */
static void load_cfg(qs_quant_config *cfg, const qs_model *m, const char *text)
{
    qs_toml_doc *doc = NULL;
    qs_error err;
    qs_status st = qs_toml_parse_string(text, strlen(text), "q.toml", &doc, &err);
    if (st == QS_OK)
        st = qs_quant_config_from_toml(cfg, m, doc->root, &err);
    if (st)
        fprintf(stderr, "config: %s\n", err.msg);
    CHECK_INT(st, QS_OK);
    qs_toml_free(doc);
}

/* Every linear tensor and relu input in one format: name and a parameter suffix. */
static void by_type_cfg(qs_quant_config *cfg, const qs_model *m, const char *linear_body, const char *relu_body)
{
    char text[2048];
    snprintf(text, sizeof text,
             "[passes.quantize]\nby = \"type\"\n[passes.quantize.default.config]\nname = \"NA\"\n"
             "[passes.quantize.linear.config]\n%s\n[passes.quantize.relu.config]\n%s\n",
             linear_body, relu_body);
    load_cfg(cfg, m, text);
}

static const char *int8_linear = "name = \"integer\"\ndata_in_width = 8\nweight_width = 8\nbias_width = 8";
static const char *int8_relu = "name = \"integer\"\ndata_in_width = 8";

/* Computes both ways and checks that qs_cost_totals equals qs_cost_compute. */
static void compute(qs_cost *c, const qs_model *m, const qs_quant_config *cfg)
{
    qs_error err;
    CHECK_INT(qs_cost_compute(c, m, cfg, &err), QS_OK);
    qs_cost t;
    qs_cost_totals(&t, m, cfg);
    CHECK(t.layers == NULL && t.n_layers == 0);
    CHECK_INT(t.params, c->params);
    CHECK_INT(t.model_size_bits, c->model_size_bits);
    CHECK_INT(t.macs, c->macs);
    CHECK_INT(t.flops, c->flops);
    CHECK_INT(t.bitops, c->bitops);
    CHECK(t.avg_bitwidth == c->avg_bitwidth && t.memory_density == c->memory_density);
    /* totals are the sums of the layers */
    uint64_t p = 0, s = 0, ma = 0, f = 0, b = 0;
    for (size_t i = 0; i < c->n_layers; i++) {
        p += c->layers[i].params;
        s += c->layers[i].size_bits;
        ma += c->layers[i].macs;
        f += c->layers[i].flops;
        b += c->layers[i].bitops;
    }
    CHECK(p == c->params && s == c->model_size_bits && ma == c->macs && f == c->flops && b == c->bitops);
}

/* jsc-tiny: BN(16) ReLU(16) Linear(16,26) ReLU(26). */
static void test_tiny_float(void)
{
    qs_model *m = build("jsc-tiny");
    qs_cost c;
    compute(&c, m, NULL);
    CHECK_INT(c.n_layers, 4);
    CHECK_STR(c.layers[2].name, "seq_blocks_2");
    CHECK_INT(c.layers[0].params, 32);        /* BN gamma + beta: 2 x 16 */
    CHECK_INT(c.layers[0].size_bits, 2048);   /* gamma, beta, mean, var: 4 x 16 x 32 */
    CHECK_INT(c.layers[0].flops, 32);         /* 2 x 16 */
    CHECK_INT(c.layers[1].flops, 16);         /* ReLU: 1 per element */
    CHECK_INT(c.layers[1].params, 0);
    CHECK_INT(c.layers[2].params, 442);       /* 16 x 26 + 26 */
    CHECK_INT(c.layers[2].size_bits, 14144);  /* 442 x 32 */
    CHECK_INT(c.layers[2].macs, 416);         /* 16 x 26 */
    CHECK_INT(c.layers[2].flops, 858);        /* 2 x 416 + 26 */
    CHECK_INT(c.layers[2].bitops, 425984);    /* 416 x 32 x 32 */
    CHECK_INT(c.layers[2].weight_bits, 32);
    CHECK_INT(c.layers[2].data_in_bits, 32);
    CHECK_INT(c.layers[3].weight_bits, 0);    /* ReLU has no weight */
    CHECK_INT(c.params, 474);                 /* 32 + 442 */
    CHECK_INT(c.model_size_bits, 16192);      /* 2048 + 14144 */
    CHECK_INT(c.macs, 416);
    CHECK_INT(c.flops, 932);                  /* 32 + 16 + 858 + 26 */
    CHECK_INT(c.bitops, 425984);
    CHECK_NEAR(c.avg_bitwidth, 32.0, 0);      /* no quantized linear layer */
    CHECK_NEAR(c.memory_density, 1.0, 0);
    qs_cost_free(&c);
    qs_cost_free(&c); /* idempotent */
    qs_cost_free(NULL);
    qs_model_delete(m);
}

static void test_tiny_int8(void)
{
    qs_model *m = build("jsc-tiny");
    qs_quant_config cfg;
    by_type_cfg(&cfg, m, int8_linear, int8_relu);
    qs_cost c;
    compute(&c, m, &cfg);
    CHECK_INT(c.layers[2].size_bits, 3536);   /* 416 x 8 + 26 x 8 */
    CHECK_INT(c.layers[2].bitops, 26624);     /* 416 x 8 x 8 */
    CHECK_INT(c.layers[1].data_in_bits, 8);   /* quantized ReLU input */
    CHECK_INT(c.layers[0].size_bits, 2048);   /* BN stays float */
    CHECK_INT(c.model_size_bits, 5584);       /* 2048 + 3536 */
    CHECK_INT(c.params, 474);                 /* format-independent */
    CHECK_INT(c.flops, 932);                  /* format-independent */
    CHECK_NEAR(c.avg_bitwidth, 8.0, 0);
    CHECK_NEAR(c.memory_density, 4.0, 0);     /* 32 / 8 */
    qs_cost_free(&c);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* block_fp width 6, exponent_width 6, block_size [4, 8]. The weight [26][16]
 * is blocked 4 x 8: ceil(26/4) x ceil(16/8) = 7 x 2 = 14 blocks; the bias [26]
 * takes the last entry, 8: ceil(26/8) = 4 blocks. */
static void test_tiny_block_fp(void)
{
    qs_model *m = build("jsc-tiny");
    qs_quant_config cfg;
    by_type_cfg(&cfg, m,
                "name = \"block_fp\"\ndata_in_width = 6\ndata_in_exponent_width = 6\n"
                "data_in_block_size = [4, 8]\nweight_width = 6\nweight_exponent_width = 6\n"
                "weight_block_size = [4, 8]\nbias_width = 6\nbias_exponent_width = 6\nbias_block_size = [4, 8]",
                "name = \"NA\"");
    qs_cost c;
    compute(&c, m, &cfg);
    /* weight 416 x 6 + 14 x 6 = 2496 + 84 = 2580; bias 26 x 6 + 4 x 6 = 156 + 24 = 180 */
    CHECK_INT(c.layers[2].size_bits, 2760);
    CHECK_INT(c.model_size_bits, 4808);       /* 2048 + 2760 */
    CHECK_INT(c.layers[2].weight_bits, 6);    /* element bits; shared exponents excluded */
    CHECK_INT(c.bitops, 14976);               /* 416 x 6 x 6 */
    CHECK_NEAR(c.avg_bitwidth, 6.0, 0);       /* MASE: weight_width, no exponent share */
    CHECK_INT(c.layers[1].data_in_bits, 32);  /* relu left float */
    qs_cost_free(&c);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* binary, as MASE's LinearBinary: linear weights only (1 bit); bias, linear
 * input and relu inputs stay float. */
static void test_tiny_binary(void)
{
    qs_model *m = build("jsc-tiny");
    qs_quant_config cfg;
    by_type_cfg(&cfg, m, "name = \"binary\"", "name = \"binary\"");
    qs_cost c;
    compute(&c, m, &cfg);
    CHECK_INT(c.layers[2].size_bits, 1248);   /* 416 weights x 1 + 26 biases x 32 */
    CHECK_INT(c.model_size_bits, 3296);       /* 2048 + 1248 */
    CHECK_INT(c.bitops, 13312);               /* 416 macs x 1 x 32 */
    CHECK_NEAR(c.avg_bitwidth, 1.0, 0);
    CHECK_NEAR(c.memory_density, 32.0, 0);
    CHECK_INT(c.layers[3].data_in_bits, 32);
    qs_cost_free(&c);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* jsc-toy: BN(16) ReLU Lin(16,8) BN(8) ReLU Lin(8,8) BN(8) ReLU Lin(8,26) BN(26) ReLU. */
static void test_toy_float(void)
{
    qs_model *m = build("jsc-toy");
    qs_cost c;
    compute(&c, m, NULL);
    CHECK_INT(c.n_layers, 11);
    /* BN 32+16+16+52 = 116; linear 136+72+234 = 442 */
    CHECK_INT(c.params, 558);
    /* BN 4 x (16+8+8+26) x 32 = 7424; linear 442 x 32 = 14144 */
    CHECK_INT(c.model_size_bits, 21568);
    CHECK_INT(c.macs, 400);                   /* 128 + 64 + 208 */
    /* linear 2 x 400 + (8+8+26) = 842; BN 2 x 58 = 116; ReLU 58 */
    CHECK_INT(c.flops, 1016);
    CHECK_INT(c.bitops, 409600);              /* 400 x 1024 */
    qs_cost_free(&c);
    qs_model_delete(m);
}

/* Mixed by name: seq_blocks_2 w4/in8/b8, seq_blocks_5 float, seq_blocks_8 w2/in4/b4. */
static void test_toy_mixed(void)
{
    qs_model *m = build("jsc-toy");
    qs_quant_config cfg;
    load_cfg(&cfg, m,
             "[passes.quantize]\nby = \"name\"\n[passes.quantize.default.config]\nname = \"NA\"\n"
             "[passes.quantize.seq_blocks_2.config]\nname = \"integer\"\n"
             "data_in_width = 8\nweight_width = 4\nbias_width = 8\n"
             "[passes.quantize.seq_blocks_8.config]\nname = \"integer\"\n"
             "data_in_width = 4\nweight_width = 2\nbias_width = 4\n");
    qs_cost c;
    compute(&c, m, &cfg);
    CHECK_INT(c.layers[2].size_bits, 576);    /* 128 x 4 + 8 x 8 */
    CHECK_INT(c.layers[5].size_bits, 2304);   /* 72 x 32 */
    CHECK_INT(c.layers[8].size_bits, 520);    /* 208 x 2 + 26 x 4 */
    CHECK_INT(c.model_size_bits, 10824);      /* 7424 + 576 + 2304 + 520 */
    /* 128 x 4 x 8 + 64 x 32 x 32 + 208 x 2 x 4 = 4096 + 65536 + 1664 */
    CHECK_INT(c.bitops, 71296);
    /* quantized linears only: (128 x 4 + 208 x 2) / (128 + 208) = 928 / 336 */
    CHECK_NEAR(c.avg_bitwidth, 928.0 / 336.0, 1e-12);
    CHECK_NEAR(c.memory_density, 32.0 * 336.0 / 928.0, 1e-12);
    qs_cost_free(&c);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* jsc-s: BN(16) ReLU Lin(16,64) BN(64) ReLU Lin(64,32) ReLU Lin(32,32) ReLU
 * Lin(32,32) ReLU Lin(32,26) BN(26) ReLU. */
static void test_s(void)
{
    qs_model *m = build("jsc-s");
    qs_cost c;
    compute(&c, m, NULL);
    CHECK_INT(c.n_layers, 14);
    /* linear 1088 + 2080 + 1056 + 1056 + 858 = 6138; BN 32 + 128 + 52 = 212 */
    CHECK_INT(c.params, 6350);
    /* BN 4 x 106 x 32 = 13568; linear 6138 x 32 = 196416 */
    CHECK_INT(c.model_size_bits, 209984);
    CHECK_INT(c.macs, 5952);                  /* 1024 + 2048 + 1024 + 1024 + 832 */
    /* linear 2 x 5952 + 186 = 12090; BN 2 x 106 = 212; ReLU 16+64+32+32+32+26 = 202 */
    CHECK_INT(c.flops, 12504);
    CHECK_INT(c.bitops, 6094848);             /* 5952 x 1024 */
    qs_cost_free(&c);

    qs_quant_config cfg;
    by_type_cfg(&cfg, m, int8_linear, int8_relu);
    compute(&c, m, &cfg);
    CHECK_INT(c.model_size_bits, 62672);      /* 13568 + 6138 x 8 */
    CHECK_INT(c.bitops, 380928);              /* 5952 x 64 */
    CHECK_NEAR(c.avg_bitwidth, 8.0, 0);
    qs_cost_free(&c);
    qs_quant_config_free(&cfg);

    /* weights 4-bit, inputs 16-bit, bias 8-bit */
    by_type_cfg(&cfg, m, "name = \"integer\"\ndata_in_width = 16\nweight_width = 4\nbias_width = 8", int8_relu);
    compute(&c, m, &cfg);
    /* 13568 + 5952 x 4 + 186 x 8 = 13568 + 23808 + 1488 */
    CHECK_INT(c.model_size_bits, 38864);
    CHECK_INT(c.bitops, 380928);              /* 5952 x 4 x 16 */
    CHECK_NEAR(c.avg_bitwidth, 4.0, 0);
    CHECK_NEAR(c.memory_density, 8.0, 0);
    qs_cost_free(&c);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

static void test_compute_errors(void)
{
    qs_model *m = build("jsc-tiny"), *s = build("jsc-s");
    qs_quant_config cfg;
    qs_error err;
    CHECK_INT(qs_quant_config_init(&cfg, s, &err), QS_OK);
    qs_cost c;
    CHECK_INT(qs_cost_compute(&c, m, &cfg, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "14 layers");
    CHECK(c.layers == NULL);
    qs_cost_free(&c);
    qs_quant_config_free(&cfg);
    /* an all-float config equals no config */
    CHECK_INT(qs_quant_config_init(&cfg, m, &err), QS_OK);
    qs_cost a, b;
    qs_cost_totals(&a, m, &cfg);
    qs_cost_totals(&b, m, NULL);
    CHECK(a.model_size_bits == b.model_size_bits && a.bitops == b.bitops && a.avg_bitwidth == 32.0);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
    qs_model_delete(s);
}

static void test_energy_ops(void)
{
    qs_model *m = build("jsc-tiny");
    qs_quant_config cfg;
    by_type_cfg(&cfg, m, int8_linear, int8_relu);
    qs_energy_layer_ops ops[4];
    qs_cost_energy_ops(m, &cfg, ops);
    CHECK_STR(ops[2].name, "seq_blocks_2");
    CHECK_NEAR(ops[2].int_macs, 416, 0);
    CHECK_INT(ops[2].weight_bits, 8);
    CHECK_INT(ops[2].act_bits, 8);
    CHECK_INT(ops[2].acc_bits, 32);
    CHECK_NEAR(ops[2].int_adds, 26, 0);       /* bias into the 32-bit accumulator */
    CHECK_NEAR(ops[2].fp_macs, 0, 0);
    CHECK_NEAR(ops[2].param_bits_read, 3536, 0);
    CHECK_NEAR(ops[2].act_bits_moved, 960, 0); /* 16 x 8 in + 26 x 32 out */
    CHECK_INT(ops[2].param_mem, QS_MEM_SRAM);
    CHECK_NEAR(ops[0].fp_mults, 16, 0);       /* BN: scale and shift */
    CHECK_NEAR(ops[0].fp_adds, 16, 0);
    CHECK_NEAR(ops[0].param_bits_read, 2048, 0);
    CHECK_NEAR(ops[0].act_bits_moved, 1024, 0); /* 16 x 32 + 16 x 32 */
    CHECK_NEAR(ops[1].int_adds, 16, 0);       /* integer ReLU compares */
    CHECK_INT(ops[1].add_bits, 8);
    qs_error err;
    qs_energy_layer_result res[4];
    double j8, j32;
    CHECK_INT(qs_energy_model(ops, 4, res, &j8, &err), QS_OK);
    /* linear: 416 (mult(8,8) 0.2 + add(32) 0.1) + 26 add(32) 0.1 pJ */
    CHECK_NEAR(res[2].compute_j, (416 * 0.3 + 26 * 0.1) * 1e-12, 1e-18);
    /* memory: (3536 + 960) bits x 5/32 pJ */
    CHECK_NEAR(res[2].memory_j, 4496 * 5.0 / 32 * 1e-12, 1e-18);
    qs_quant_config_free(&cfg);

    qs_cost_energy_ops(m, NULL, ops);
    CHECK_NEAR(ops[2].fp_macs, 416, 0);
    CHECK_NEAR(ops[2].fp_adds, 26, 0);
    CHECK_INT(ops[2].fp_bits, 32);
    CHECK_NEAR(ops[2].int_macs, 0, 0);
    CHECK_NEAR(ops[1].fp_adds, 16, 0);
    CHECK_INT(qs_energy_model(ops, 4, NULL, &j32, &err), QS_OK);
    CHECK(j8 < j32);

    /* minifloat operands: float MACs at the wider width */
    by_type_cfg(&cfg, m,
                "name = \"minifloat_ieee\"\ndata_in_width = 8\ndata_in_exponent_width = 4\n"
                "weight_width = 6\nweight_exponent_width = 3\nbias_width = 8\nbias_exponent_width = 4",
                "name = \"NA\"");
    qs_cost_energy_ops(m, &cfg, ops);
    CHECK_NEAR(ops[2].fp_macs, 416, 0);
    CHECK_INT(ops[2].fp_bits, 8);
    CHECK_INT(qs_energy_model(ops, 4, NULL, &j8, &err), QS_OK);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);

    /* 4 MB of float parameters do not fit the 256 KiB rule: DRAM */
    qs_model *big = NULL;
    CHECK_INT(qs_model_build(&big, "mlp:16-1024-1024-26", 16, 26, 1, &err), QS_OK);
    qs_energy_layer_ops bops[8];
    CHECK(big->n_layers <= 8);
    qs_cost_energy_ops(big, NULL, bops);
    CHECK_INT(bops[0].param_mem, QS_MEM_DRAM);
    CHECK_INT(bops[0].act_mem, QS_MEM_DRAM);
    qs_model_delete(big);
}

int main(void)
{
    RUN(test_tiny_float);
    RUN(test_tiny_int8);
    RUN(test_tiny_block_fp);
    RUN(test_tiny_binary);
    RUN(test_toy_float);
    RUN(test_toy_mixed);
    RUN(test_s);
    RUN(test_compute_errors);
    RUN(test_energy_ops);
    return qs_test_summary();
}

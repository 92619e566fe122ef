/* The quantize pass: MASE-style [passes.quantize] configs (by name / by type,
 * default, bypass, NA), their errors, and the quantized view of a model
 * (weights quantized into a copy, inputs quantized by hooks, no compounding). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "qsearch/quantize.h"

/* jsc-tiny on 4 features, 3 classes: BN(0) ReLU(1) Linear(2) ReLU(3). */
static qs_model *tiny_model(void)
{
    qs_model *m = NULL;
    qs_error err;
    CHECK_INT(qs_model_build(&m, "jsc-tiny", 4, 3, 5, &err), QS_OK);
    return m;
}

static qs_status parse_cfg(qs_quant_config *cfg, const qs_model *m, const char *text, qs_error *err)
{
    qs_toml_doc *doc;
    qs_status st = qs_toml_parse_string(text, strlen(text), "q.toml", &doc, err);
    if (st)
        return st;
    st = qs_quant_config_from_toml(cfg, m, doc->root, err);
    qs_toml_free(doc);
    return st;
}

static const char *by_type =
    "[passes.quantize]\nby = \"type\"\n"
    "[passes.quantize.default.config]\nname = \"NA\"\n"
    "[passes.quantize.linear.config]\nname = \"integer\"\n"
    "data_in_width = 8\ndata_in_frac_width = 4\nweight_width = 4\nweight_frac_width = \"NA\"\n"
    "bias_width = 8\nbias_frac_width = 3\n";

static void test_by_type(void)
{
    qs_model *m = tiny_model();
    qs_quant_config cfg;
    qs_error err;
    CHECK_INT(parse_cfg(&cfg, m, by_type, &err), QS_OK);
    CHECK_INT(cfg.n_layers, 4);
    CHECK(!cfg.layers[0].quantized[QS_TENSOR_DATA_IN]);
    CHECK(!cfg.layers[1].quantized[QS_TENSOR_DATA_IN]); /* relu falls to default NA */
    CHECK(cfg.layers[2].quantized[QS_TENSOR_WEIGHT]);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_WEIGHT].width, 4);
    CHECK_INT(qs_format_spec_frac_width(&cfg.layers[2].spec[QS_TENSOR_WEIGHT]), 2);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_BIAS].frac_width, 3);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_DATA_IN].width, 8);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

static void test_by_name_default_and_bypass(void)
{
    qs_model *m = tiny_model();
    qs_quant_config cfg;
    qs_error err;
    const char *text = "[passes.quantize]\nby = \"name\"\n"
                       "[passes.quantize.default.config]\nname = \"integer\"\ndata_in_width = 6\n"
                       "weight_width = 6\nbias_width = 6\n"
                       "[passes.quantize.seq_blocks_3]\nbypass = true\nconfig = {name = \"integer\"}\n";
    CHECK_INT(parse_cfg(&cfg, m, text, &err), QS_OK);
    CHECK(!cfg.layers[0].quantized[QS_TENSOR_DATA_IN]); /* default never applies to BN */
    CHECK(cfg.layers[1].quantized[QS_TENSOR_DATA_IN]);
    CHECK(!cfg.layers[1].spec[QS_TENSOR_DATA_IN].is_signed); /* ReLU input is unsigned */
    CHECK_INT(cfg.layers[1].spec[QS_TENSOR_DATA_IN].width, 6);
    CHECK(cfg.layers[2].quantized[QS_TENSOR_BIAS]);
    CHECK(!cfg.layers[3].quantized[QS_TENSOR_DATA_IN]); /* bypassed */
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* Each bad config fails with QS_ERR_INPUT and a message holding `needle`. */
static void expect_error(const char *text, const char *needle)
{
    qs_model *m = tiny_model();
    qs_quant_config cfg = {0};
    qs_error err;
    qs_status st = parse_cfg(&cfg, m, text, &err);
    CHECK_INT(st, QS_ERR_INPUT);
    if (st == QS_ERR_INPUT)
        CHECK_CONTAINS(err.msg, needle);
    else
        qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

static void test_errors(void)
{
    expect_error("[passes.other]\n", "passes.quantize");
    expect_error("[passes.quantize]\ndefault = {config = {name = \"NA\"}}\n", "'by'");
    expect_error("[passes.quantize]\nby = \"kind\"\n", "q.toml:2:6");
    expect_error("[passes.quantize]\nby = \"name\"\n[passes.quantize.seq_blocks_9.config]\nname = \"NA\"\n",
                 "unknown layer 'seq_blocks_9'");
    expect_error("[passes.quantize]\nby = \"type\"\n[passes.quantize.conv9.config]\nname = \"NA\"\n",
                 "unknown layer type 'conv9'");
    expect_error("[passes.quantize]\nby = \"type\"\n[passes.quantize.linear.config]\nname = \"integr\"\n"
                 "weight_width = 8\n",
                 "integr");
    expect_error("[passes.quantize]\nby = \"type\"\n[passes.quantize.linear.config]\nname = \"integer\"\n"
                 "data_in_width = 8\nweight_width = 8\nbias_width = 8\nweight_colour = 3\n",
                 "colour");
    expect_error("[passes.quantize]\nby = \"type\"\n[passes.quantize.linear.config]\nname = \"integer\"\n"
                 "data_in_width = 8\nweight_width = 33\nbias_width = 8\n",
                 "width");
    expect_error("[passes.quantize]\nby = \"type\"\n[passes.quantize.linear.config]\nname = \"integer\"\n"
                 "data_in_width = 8\nbias_width = 8\n",
                 "q.toml:3:");
    expect_error("[passes.quantize]\nby = \"name\"\n[passes.quantize.seq_blocks_0.config]\nname = \"integer\"\n"
                 "data_in_width = 8\n",
                 "only linear and relu");
    expect_error("[passes.quantize]\nby = \"type\"\n[passes.quantize.linear]\nconfig = 3\n", "expected a table");
    expect_error("[passes.quantize]\nby = \"type\"\n[passes.quantize.linear.config]\nname = \"integer\"\n"
                 "weight_width = 8.5\n",
                 "weight_width");
}

/* A quantized view: the copy holds quantized weights, the source is untouched,
 * re-applying another config does not compound, and a forward pass matches
 * the same computation done by hand. */
static void test_quant_model(void)
{
    qs_model *m = tiny_model();
    qs_error err;
    size_t nw = m->layers[2].out.c * m->layers[2].in.c;
    float *orig = malloc(nw * sizeof *orig);
    memcpy(orig, m->layers[2].weight, nw * sizeof *orig);

    qs_quant_config c4, c8;
    CHECK_INT(parse_cfg(&c4, m, by_type, &err), QS_OK);
    CHECK_INT(parse_cfg(&c8,  m, "[passes.quantize]\nby = \"type\"\n[passes.quantize.default.config]\n"
                         "name = \"integer\"\ndata_in_width = 8\nweight_width = 8\nbias_width = 8\n", &err), QS_OK);
    qs_quant_model qm;
    CHECK_INT(qs_quant_model_init(&qm, m, &err), QS_OK);
    CHECK_INT(qs_quant_model_apply(&qm, &c4, &err), QS_OK);
    CHECK_INT(qs_quant_model_apply(&qm, &c8, &err), QS_OK);
    CHECK_INT(qs_quant_model_apply(&qm, &c4, &err), QS_OK); /* back to 4 bits: from the float weights */

    float *expect = malloc(nw * sizeof *expect);
    size_t shape[2] = {m->layers[2].out.c, m->layers[2].in.c};
    CHECK_INT(qs_quantize_shaped(&c4.layers[2].spec[QS_TENSOR_WEIGHT], orig, expect, shape, 2, &err), QS_OK);
    CHECK(memcmp(expect, qm.copy->layers[2].weight, nw * sizeof *expect) == 0);
    CHECK(memcmp(orig, m->layers[2].weight, nw * sizeof *orig) == 0);
    int coarse = 1; /* 4-bit weights with 2 fractional bits are multiples of 0.25 */
    for (size_t i = 0; i < nw; i++)
        coarse &= fmodf(qm.copy->layers[2].weight[i], 0.25f) == 0.0f;
    CHECK(coarse);

    /* forward by hand: BN (fresh: identity up to eps), ReLU, quantize input, Linear, ReLU */
    const float x[4] = {0.3f, -1.2f, 2.71f, 0.05f};
    float logits[3], manual[3], h[4];
    float *scratch = malloc(qs_model_scratch_floats(m) * sizeof *scratch);
    CHECK_INT(qs_model_forward(qm.copy, x, 1, logits, scratch, &qm.hooks, &err), QS_OK);
    for (int i = 0; i < 4; i++) {
        float bn = x[i] / sqrtf(1.0f + 1e-5f);
        h[i] = bn > 0 ? bn : 0;
    }
    size_t hs[2] = {1, 4};
    CHECK_INT(qs_quantize_shaped(&c4.layers[2].spec[QS_TENSOR_DATA_IN], h, h, hs, 2, &err), QS_OK);
    for (int o = 0; o < 3; o++) {
        float acc = qm.copy->layers[2].bias[o];
        for (int i = 0; i < 4; i++)
            acc += qm.copy->layers[2].weight[o * 4 + i] * h[i];
        manual[o] = acc > 0 ? acc : 0;
    }
    for (int o = 0; o < 3; o++)
        CHECK_NEAR(logits[o], manual[o], 1e-6);

    free(scratch);
    free(expect);
    free(orig);
    qs_quant_model_free(&qm);
    qs_quant_config_free(&c4);
    qs_quant_config_free(&c8);
    qs_model_delete(m);
}

int main(void)
{
    RUN(test_by_type);
    RUN(test_by_name_default_and_bypass);
    RUN(test_errors);
    RUN(test_quant_model);
    return qs_test_summary();
}

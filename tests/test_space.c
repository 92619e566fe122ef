/* Search space flattening (MASE's mixed_precision_ptq, by name and by type,
 * defaults, fixed parameters), config errors with file:line:col, strategy
 * parsing and objective values against hand computation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "qsearch/search.h"

static const char *LAB3 =
    "[search.search_space]\n"
    "name = \"graph/quantize/mixed_precision_ptq\"\n"
    "[search.search_space.setup]\n"
    "by = \"%s\"\n"
    "[search.search_space.seed.default.config]\n"
    "name = [\"NA\"]\n"
    "[search.search_space.seed.linear.config]\n"
    "name = [\"integer\"]\n"
    "data_in_width = [4, 8]\n"
    "data_in_frac_width = [\"NA\"]\n"
    "weight_width = [2, 4, 8]\n"
    "weight_frac_width = [\"NA\"]\n"
    "bias_width = [2, 4, 8]\n"
    "bias_frac_width = [\"NA\"]\n"
    "[search.search_space.seed.seq_blocks_2.config]\n"
    "name = [\"integer\"]\n"
    "data_in_width = [4, 8]\n"
    "data_in_frac_width = [\"NA\"]\n"
    "weight_width = [2, 4, 8]\n"
    "weight_frac_width = [\"NA\"]\n"
    "bias_width = [2, 4, 8]\n"
    "bias_frac_width = [\"NA\"]\n"
    "[search.strategy]\n"
    "name = \"optuna\"\n"
    "eval_mode = true\n"
    "[search.strategy.sw_runner.basic_evaluation]\n"
    "data_loader = \"val_dataloader\"\n"
    "num_samples = 512\n"
    "[search.strategy.hw_runner.average_bitwidth]\n"
    "compare_to = 32\n"
    "[search.strategy.setup]\n"
    "n_jobs = 1\n"
    "n_trials = 20\n"
    "timeout = 20000\n"
    "sampler = \"tpe\"\n"
    "sum_scaled_metrics = true\n"
    "direction = \"maximize\"\n"
    "[search.strategy.metrics]\n"
    "accuracy.scale = 1.0\n"
    "accuracy.direction = \"maximize\"\n"
    "average_bitwidth.scale = 0.2\n"
    "average_bitwidth.direction = \"minimize\"\n";

static qs_model *model(const char *arch)
{
    qs_model *m = NULL;
    qs_error err;
    CHECK(qs_model_build(&m, arch, 16, 26, 1, &err) == QS_OK);
    return m;
}

static qs_toml_doc *parse(const char *text)
{
    qs_toml_doc *doc = NULL;
    qs_error err;
    if (qs_toml_parse_string(text, strlen(text), "t.toml", &doc, &err) != QS_OK)
        fprintf(stderr, "parse: %s\n", err.msg);
    return doc;
}

static char *lab3(const char *by)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, LAB3, by);
    return buf;
}

static void test_lab3_by_name(void)
{
    qs_model *m = model("jsc-tiny");
    qs_toml_doc *doc = parse(lab3("name"));
    qs_search_space sp;
    qs_error err;
    CHECK(qs_search_space_from_toml(&sp, m, doc->root, &err) == QS_OK);
    CHECK_INT(sp.n_params, 3);
    CHECK_STR(sp.names[0], "seq_blocks_2/config/data_in_width");
    CHECK_STR(sp.names[1], "seq_blocks_2/config/weight_width");
    CHECK_STR(sp.names[2], "seq_blocks_2/config/bias_width");
    CHECK_INT(sp.n_choices[0], 2);
    CHECK_INT(sp.n_choices[1], 3);
    CHECK_NEAR(qs_search_space_size(&sp), 18, 0);
    /* BN gets no entry; the ReLUs take default (float); the Linear its own. */
    CHECK_INT(sp.layer_entry[0], -1);
    CHECK(sp.layer_entry[1] >= 0 && sp.layer_entry[2] >= 0 && sp.layer_entry[3] >= 0);
    CHECK_STR(sp.entries[sp.layer_entry[1]].source, "default");
    CHECK_STR(sp.entries[sp.layer_entry[2]].source, "seq_blocks_2");
    qs_quant_config cfg;
    CHECK(qs_quant_config_init(&cfg, m, &err) == QS_OK);
    uint32_t ch[3] = {1, 0, 2}; /* data_in 8, weight 2, bias 8 */
    CHECK(qs_search_space_build(&sp, ch, &cfg, &err) == QS_OK);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_DATA_IN].width, 8);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_WEIGHT].width, 2);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_BIAS].width, 8);
    CHECK_INT(cfg.layers[2].quantized[QS_TENSOR_WEIGHT], 1);
    CHECK_INT(cfg.layers[1].quantized[QS_TENSOR_DATA_IN], 0);
    CHECK_INT(cfg.layers[3].quantized[QS_TENSOR_DATA_IN], 0);
    char *js = qs_search_space_json(&sp);
    CHECK(js && strstr(js, "\"seq_blocks_2/config/weight_width\""));
    free(js);
    qs_quant_config_free(&cfg);
    qs_search_space_free(&sp);
    qs_toml_free(doc);
    qs_model_delete(m);
}

static void test_by_type_shared(void)
{
    qs_model *m = model("jsc-toy");
    qs_toml_doc *doc = parse(lab3("type"));
    qs_search_space sp;
    qs_error err;
    CHECK(qs_search_space_from_toml(&sp, m, doc->root, &err) == QS_OK);
    CHECK_INT(sp.n_params, 3);
    CHECK_STR(sp.names[0], "linear/config/data_in_width");
    CHECK_STR(sp.names[2], "linear/config/bias_width");
    CHECK_NEAR(qs_search_space_size(&sp), 18, 0); /* one set shared by the three Linears */
    qs_quant_config cfg;
    CHECK(qs_quant_config_init(&cfg, m, &err) == QS_OK);
    uint32_t ch[3] = {0, 1, 2};
    CHECK(qs_search_space_build(&sp, ch, &cfg, &err) == QS_OK);
    int linears = 0;
    for (size_t l = 0; l < m->n_layers; l++)
        if (m->layers[l].kind == QS_LAYER_LINEAR) {
            linears++;
            CHECK_INT(cfg.layers[l].spec[QS_TENSOR_DATA_IN].width, 4);
            CHECK_INT(cfg.layers[l].spec[QS_TENSOR_WEIGHT].width, 4);
            CHECK_INT(cfg.layers[l].spec[QS_TENSOR_BIAS].width, 8);
            CHECK_INT(cfg.layers[l].spec[QS_TENSOR_WEIGHT].frac_width, QS_FRAC_NA);
        } else {
            CHECK_INT(cfg.layers[l].quantized[QS_TENSOR_DATA_IN], 0);
        }
    CHECK_INT(linears, 3);
    qs_quant_config_free(&cfg);
    qs_search_space_free(&sp);
    qs_toml_free(doc);
    qs_model_delete(m);
}

/* A layer's entry takes the keys it does not set from default; one-choice
 * parameters are fixed; a ReLU drops weight_/bias_ keys. */
static void test_defaults_and_fixed(void)
{
    qs_model *m = model("jsc-tiny");
    qs_toml_doc *doc = parse("[search.search_space.setup]\nby = \"name\"\n"
                             "[search.search_space.seed.default.config]\n"
                             "name = [\"integer\"]\ndata_in_width = [8]\nweight_width = [4, 8]\nbias_width = [8]\n"
                             "[search.search_space.seed.seq_blocks_2.config]\nweight_width = [2, 3]\n");
    qs_search_space sp;
    qs_error err;
    CHECK(qs_search_space_from_toml(&sp, m, doc->root, &err) == QS_OK);
    CHECK_INT(sp.n_params, 1);
    CHECK_STR(sp.names[0], "seq_blocks_2/config/weight_width");
    CHECK_STR(sp.all[sp.searched[0]].choices[1], "3");
    /* relu entries: name, data_in_width only (weight/bias dropped), both fixed */
    const qs_search_entry *relu = &sp.entries[sp.layer_entry[1]];
    CHECK_INT(relu->count, 2);
    CHECK_STR(relu->source, "default");
    qs_quant_config cfg;
    CHECK(qs_quant_config_init(&cfg, m, &err) == QS_OK);
    uint32_t ch[1] = {1};
    CHECK(qs_search_space_build(&sp, ch, &cfg, &err) == QS_OK);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_WEIGHT].width, 3);
    CHECK_INT(cfg.layers[2].spec[QS_TENSOR_DATA_IN].width, 8); /* from default */
    CHECK_INT(cfg.layers[1].quantized[QS_TENSOR_DATA_IN], 1);
    CHECK_INT(cfg.layers[1].spec[QS_TENSOR_DATA_IN].is_signed, 0); /* ReLU inputs are unsigned */
    qs_quant_config_free(&cfg);
    qs_search_space_free(&sp);
    qs_toml_free(doc);
    qs_model_delete(m);
}

/* Loads text as a space (and strategy when strategy = 1) and expects an error containing want. */
static void expect_error(const char *text, int strategy, const char *want)
{
    qs_model *m = model("jsc-tiny");
    qs_toml_doc *doc = parse(text);
    CHECK(doc != NULL);
    if (!doc) {
        qs_model_delete(m);
        return;
    }
    qs_error err;
    qs_status st;
    if (strategy) {
        qs_search_config c;
        st = qs_search_config_from_toml(&c, doc->root, &err);
    } else {
        qs_search_space sp;
        st = qs_search_space_from_toml(&sp, m, doc->root, &err);
        if (st == QS_OK)
            qs_search_space_free(&sp);
    }
    CHECK_INT(st, QS_ERR_INPUT);
    if (st != QS_OK)
        CHECK_CONTAINS(err.msg, want);
    qs_toml_free(doc);
    qs_model_delete(m);
}

#define SPACE_HEAD "[search.search_space.seed.default.config]\nname = [\"NA\"]\n"

static void test_space_errors(void)
{
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_9.config]\nname = [\"integer\"]\n", 0,
                 "t.toml:3:");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_9.config]\nname = [\"integer\"]\n", 0,
                 "unknown layer 'seq_blocks_9'");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
                            "data_in_width = []\n", 0, "t.toml:5:17: search.search_space.seed.seq_blocks_2.config.data_in_width: empty list");
    /* width 33 is a load-time error at the value itself */
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
                            "data_in_width = [8]\nweight_width = [4, 33]\nbias_width = [8]\n", 0, "t.toml:6:20:");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
                            "data_in_width = [8]\nweight_width = [33]\nbias_width = [8]\n", 0, "t.toml:6:17:");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_2.config]\nname = [\"intger\"]\n"
                            "data_in_width = [8]\nweight_width = [8]\nbias_width = [8]\n", 0, "intger");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
                            "data_in_width = [8]\nwieght_width = [8]\nbias_width = [8]\n", 0, "wieght_width");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
                            "data_in_width = 8\n", 0, "expected an array of choices");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_0.config]\nname = [\"integer\"]\n"
                            "data_in_width = [8]\n", 0, "batch_norm1d");
    expect_error("[search.search_space.setup]\nby = \"kind\"\n" SPACE_HEAD, 0, "t.toml:2:6:");
    expect_error("[search.search_space]\nname = \"graph/prune\"\n" SPACE_HEAD, 0, "unknown search space");
    expect_error(SPACE_HEAD "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
                            "data_in_width = [8, 8]\n", 0, "duplicate choice");
}

#define STRAT_HEAD "[search.strategy.metrics]\naccuracy.scale = 1.0\n"

static void test_strategy_errors(void)
{
    expect_error(STRAT_HEAD "[search.strategy.setup]\nsampler = \"annealing\"\n", 1, "t.toml:4:11:");
    expect_error(STRAT_HEAD "[search.strategy.setup]\nsampler = \"annealing\"\n", 1, "unknown sampler");
    expect_error("[search.strategy.metrics]\nperplexity.scale = 1.0\n", 1, "t.toml:2:1");
    expect_error("[search.strategy.metrics]\nperplexity.scale = 1.0\n", 1, "unknown metric 'perplexity'");
    expect_error(STRAT_HEAD "[search.strategy.setup]\nn_trails = 3\n", 1, "unknown key 'n_trails'");
    expect_error(STRAT_HEAD "[search.strategy.setup]\ndirection = \"up\"\n", 1, "t.toml:4:13:");
    expect_error(STRAT_HEAD "[search.constraints]\nsize_max = 3\n", 1, "unknown constraint 'size_max'");
    expect_error(STRAT_HEAD "[search.constraints]\nbitops_max = -3\n", 1, "t.toml:4:14:");
    expect_error("[search.strategy]\nname = \"optuna\"\n", 1, "missing key 'metrics'");
    expect_error("[search.strategy.metrics]\n", 1, "no metrics");
}

static void test_strategy_and_objectives(void)
{
    qs_toml_doc *doc = parse(lab3("name"));
    qs_search_config c;
    qs_error err;
    CHECK(qs_search_config_from_toml(&c, doc->root, &err) == QS_OK);
    CHECK_INT(c.sampler, QS_SAMPLER_TPE);
    CHECK_INT(c.n_trials, 20);
    CHECK_INT(c.num_samples, 512);
    CHECK_INT(c.n_terms, 2);
    CHECK_INT(c.terms[1].metric, QS_SM_AVG_BITWIDTH);
    CHECK_STR(c.terms[1].name, "average_bitwidth");
    CHECK_INT(qs_search_n_objectives(&c), 1);
    double m[QS_SM_COUNT];
    for (int k = 0; k < QS_SM_COUNT; k++)
        m[k] = NAN;
    m[QS_SM_ACCURACY] = 0.5;
    m[QS_SM_AVG_BITWIDTH] = 4;
    double v[QS_SEARCH_MAX_TERMS];
    qs_search_objectives(&c, m, v);
    CHECK_NEAR(v[0], 0.5 + 0.2 * 4, 1e-12); /* MASE: directions ignored inside the sum */
    CHECK_INT(qs_search_direction_conflicts(&c), 1);
    c.signed_sum = 1;
    qs_search_objectives(&c, m, v);
    CHECK_NEAR(v[0], 0.5 - 0.2 * 4, 1e-12);
    CHECK_INT(qs_search_direction_conflicts(&c), 0);
    c.signed_sum = 0;
    c.sum_scaled = 0; /* multi-objective: scale x metric each */
    CHECK_INT(qs_search_n_objectives(&c), 2);
    qs_search_objectives(&c, m, v);
    CHECK_NEAR(v[0], 0.5, 1e-12);
    CHECK_NEAR(v[1], 0.8, 1e-12);
    m[QS_SM_ACCURACY] = NAN;
    c.sum_scaled = 1;
    qs_search_objectives(&c, m, v);
    CHECK(isnan(v[0])); /* a missing metric fails the objective */
    qs_toml_free(doc);

    doc = parse(STRAT_HEAD "avg_bitwidth.scale = -0.5\nlatency.direction = \"min\"\n"
                           "[search.constraints]\naccuracy_drop_max = 0.01\naverage_bitwidth_max = 6\n");
    CHECK(qs_search_config_from_toml(&c, doc->root, &err) == QS_OK);
    CHECK_INT(c.n_terms, 3);
    CHECK_NEAR(c.limit[QS_SC_ACCURACY_DROP], 0.01, 0);
    CHECK_NEAR(c.limit[QS_SC_AVG_BITWIDTH], 6, 0);
    CHECK(isnan(c.limit[QS_SC_BITOPS]));
    CHECK_INT(c.terms[2].direction, QS_MINIMIZE);
    CHECK_INT(c.sampler, QS_SAMPLER_TPE);
    qs_toml_free(doc);
}

int main(void)
{
    RUN(test_lab3_by_name);
    RUN(test_by_type_shared);
    RUN(test_defaults_and_fixed);
    RUN(test_space_errors);
    RUN(test_strategy_errors);
    RUN(test_strategy_and_objectives);
    return qs_test_summary();
}

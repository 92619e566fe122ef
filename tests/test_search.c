/* The search driver on a tiny trained model and synthetic data: jobs 1 vs 2
 * identical (bruteforce, random), objective values by hand, trial accuracy
 * equal to a direct evaluation, constraint pruning, resume, duplicate-free
 * TPE on a small space, multi-objective fronts, outputs, study binding. */
#define _GNU_SOURCE /* mkdtemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "qsearch/evaluate.h"
#include "qsearch/rng.h"
#include "qsearch/search.h"
#include "qsearch/train.h"
#include "search/search_driver.h"

static char tmpdir[256];
static qs_dataset ds;
static qs_model *model;
static qs_model_meta meta;
static qs_search_space space;
static qs_toml_doc *doc;

static const char *SPACE =
    "[search.search_space]\nname = \"graph/quantize/mixed_precision_ptq\"\n"
    "[search.search_space.setup]\nby = \"name\"\n"
    "[search.search_space.seed.default.config]\nname = [\"NA\"]\n"
    "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\n"
    "data_in_width = [4, 8]\ndata_in_frac_width = [\"NA\"]\nweight_width = [2, 4, 8]\n"
    "weight_frac_width = [\"NA\"]\nbias_width = [2, 4, 8]\nbias_frac_width = [\"NA\"]\n"
    "[search.strategy.metrics]\naccuracy.scale = 1.0\naverage_bitwidth.scale = 0.2\n"
    "average_bitwidth.direction = \"minimize\"\n";

/* Three Gaussian-ish blobs in 4 features, and jsc-tiny trained on them. */
static int setup(void)
{
    size_t n = 900;
    float *x = malloc(n * 4 * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    qs_rng r;
    qs_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)(i % 3);
        for (int f = 0; f < 4; f++)
            x[i * 4 + f] = (float)(qs_rng_normal(&r) * 0.8 + (f == y[i] ? 1.5 : 0) - (f == 3 ? y[i] * 0.5 : 0));
    }
    qs_data_options o;
    qs_data_options_default(&o);
    qs_error err;
    int ok = qs_data_from_arrays(&ds, "blobs", x, y, n, 4, 3, &o, &err) == QS_OK;
    free(x);
    free(y);
    ok = ok && qs_model_build(&model, "jsc-tiny", 4, 3, 1, &err) == QS_OK;
    qs_train_options to;
    qs_train_options_default(&to);
    to.epochs = 5;
    to.log_every_epoch = 0;
    ok = ok && qs_train(model, &ds.train, &ds.val, &to, NULL, &err) == QS_OK;
    qs_model_meta_init(&meta);
    ok = ok && qs_model_meta_from_dataset(&meta, &ds, "blobs", &err) == QS_OK;
    ok = ok && qs_toml_parse_string(SPACE, strlen(SPACE), "s.toml", &doc, &err) == QS_OK;
    ok = ok && qs_search_space_from_toml(&space, model, doc->root, &err) == QS_OK;
    if (!ok)
        fprintf(stderr, "setup: %s\n", err.msg);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/qs-test-search-XXXXXX");
    return ok && mkdtemp(tmpdir) != NULL;
}

static void config(qs_search_config *c, qs_sampler_kind k, size_t trials)
{
    qs_error err;
    CHECK(qs_search_config_from_toml(c, doc->root, &err) == QS_OK);
    c->sampler = k;
    c->n_trials = trials;
    c->seed = 3;
}

/* Runs a search into study `name` (kept between calls with the same name). */
static qs_status run(const qs_search_config *c, const char *name, int jobs, qs_search_result *res, qs_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.db", tmpdir, name);
    qs_study *s;
    QS_TRY(qs_study_open(path, &s, err));
    qs_search_options o = {.cfg = c, .space = &space, .model = model, .meta = &meta, .ds = &ds,
                           .model_name = "tiny", .data_spec = "blobs", .study = s, .jobs = jobs};
    qs_status st = qs_search_run(&o, res, err);
    if (st == QS_OK) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/out-%s", tmpdir, name);
        st = qs_search_write_outputs(res, &o, dir, err);
    }
    qs_study_close(s);
    return st;
}

static int same_trials(const qs_search_result *a, const qs_search_result *b)
{
    if (a->n_trials != b->n_trials)
        return 0;
    for (size_t i = 0; i < a->n_trials; i++) {
        const qs_search_trial *x = &a->trials[i], *y = &b->trials[i];
        if (x->number != y->number || x->state != y->state ||
            memcmp(x->choices, y->choices, a->n_params * sizeof *x->choices) != 0)
            return 0;
        if (x->metrics[QS_SM_ACCURACY] != y->metrics[QS_SM_ACCURACY] || x->values[0] != y->values[0])
            return 0;
    }
    return 1;
}

static void test_jobs_identical(void)
{
    qs_search_config c;
    qs_search_result r1, r2;
    qs_error err;
    for (int k = 0; k < 2; k++) {
        config(&c, k ? QS_SAMPLER_RANDOM : QS_SAMPLER_BRUTEFORCE, k ? 12 : 0);
        CHECK(run(&c, k ? "rnd1" : "bf1", 1, &r1, &err) == QS_OK);
        CHECK(run(&c, k ? "rnd2" : "bf2", 2, &r2, &err) == QS_OK);
        CHECK_INT(r1.n_trials, k ? 12 : 18);
        CHECK(same_trials(&r1, &r2));
        CHECK_INT(r1.n_best, 1);
        CHECK_INT(r1.best[0], r2.best[0]);
        qs_search_result_free(&r1);
        qs_search_result_free(&r2);
    }
}

/* Objective = 1.0 accuracy + 0.2 avg_bitwidth (MASE's sum); accuracy equals a
 * direct evaluation of the same configuration; bruteforce visits each once. */
static void test_objective_and_accuracy(void)
{
    qs_search_config c;
    qs_search_result r;
    qs_error err;
    config(&c, QS_SAMPLER_BRUTEFORCE, 0);
    CHECK(run(&c, "obj", 1, &r, &err) == QS_OK);
    CHECK_INT(r.n_complete, 18);
    for (size_t i = 0; i < r.n_trials; i++) {
        const qs_search_trial *x = &r.trials[i];
        CHECK_NEAR(x->values[0], x->metrics[QS_SM_ACCURACY] + 0.2 * x->metrics[QS_SM_AVG_BITWIDTH], 1e-12);
        CHECK_NEAR(x->metrics[QS_SM_AVG_BITWIDTH], atof(space.all[space.searched[1]].choices[x->choices[1]]), 0);
        for (size_t j = 0; j < i; j++)
            CHECK(memcmp(x->choices, r.trials[j].choices, 3 * sizeof *x->choices) != 0);
    }
    /* the best is the maximum */
    double best = -INFINITY;
    for (size_t i = 0; i < r.n_trials; i++)
        best = fmax(best, r.trials[i].values[0]);
    CHECK_NEAR(r.trials[r.best[0]].values[0], best, 0);
    CHECK(r.trials[r.best[0]].has_test);
    /* trial 7's accuracy against qs_evaluate */
    const qs_search_trial *x = &r.trials[7];
    qs_quant_config cfg;
    qs_quant_model qm;
    qs_eval_inputs in;
    qs_quality q = {0};
    CHECK(qs_quant_config_init(&cfg, model, &err) == QS_OK);
    CHECK(qs_search_space_build(&space, x->choices, &cfg, &err) == QS_OK);
    CHECK(qs_quant_model_init(&qm, model, &err) == QS_OK);
    CHECK(qs_quant_model_apply(&qm, &cfg, &err) == QS_OK);
    CHECK(qs_eval_inputs_prepare(&in, model, &meta, &ds, QS_SPLIT_VAL, "tiny", &err) == QS_OK);
    CHECK(qs_evaluate(qm.copy, &in, &qm.hooks, NULL, &q, &err) == QS_OK);
    CHECK_NEAR(x->metrics[QS_SM_ACCURACY], q.accuracy, 0);
    CHECK_NEAR(x->metrics[QS_SM_ACCURACY_MACRO], q.accuracy_macro, 1e-15);
    CHECK(isnan(x->metrics[QS_SM_LOSS])); /* loss only when an objective uses it */
    qs_quality_free(&q);
    qs_eval_inputs_free(&in);
    qs_quant_model_free(&qm);
    qs_quant_config_free(&cfg);
    /* outputs */
    char path[700];
    snprintf(path, sizeof path, "%s/out-obj/trials.csv", tmpdir);
    FILE *f = fopen(path, "r");
    char line[1024] = "";
    CHECK(f && fgets(line, sizeof line, f));
    CHECK_CONTAINS(line, "number,state,seq_blocks_2/config/data_in_width,seq_blocks_2/config/weight_width,"
                         "seq_blocks_2/config/bias_width,accuracy");
    CHECK_CONTAINS(line, "objective");
    int rows = 0;
    while (f && fgets(line, sizeof line, f))
        rows++;
    CHECK_INT(rows, 18);
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/out-obj/best.json", tmpdir);
    CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof path, "%s/out-obj/log.json", tmpdir);
    CHECK(access(path, R_OK) == 0);
    qs_search_result_free(&r);
}

static void test_constraints(void)
{
    qs_search_config c;
    qs_search_result r;
    qs_error err;
    config(&c, QS_SAMPLER_BRUTEFORCE, 0);
    c.limit[QS_SC_AVG_BITWIDTH] = 4;
    c.limit[QS_SC_ACCURACY_DROP] = 1.0; /* always met */
    CHECK(run(&c, "cons", 2, &r, &err) == QS_OK);
    CHECK_INT(r.n_trials, 18);
    CHECK_INT(r.n_pruned, 6); /* weight_width 8: never evaluated */
    for (size_t i = 0; i < r.n_trials; i++) {
        const qs_search_trial *x = &r.trials[i];
        int wide = x->metrics[QS_SM_AVG_BITWIDTH] > 4;
        CHECK_INT(x->state == QS_TRIAL_PRUNED, wide);
        CHECK_INT(isnan(x->metrics[QS_SM_ACCURACY]), wide);
        CHECK_INT(x->feasible, !wide);
    }
    CHECK_INT(r.n_best, 1);
    CHECK(r.trials[r.best[0]].metrics[QS_SM_AVG_BITWIDTH] <= 4);
    qs_search_result_free(&r);
    /* every configuration infeasible: no best, no error */
    config(&c, QS_SAMPLER_BRUTEFORCE, 0);
    c.limit[QS_SC_BITOPS] = 1;
    CHECK(run(&c, "cons0", 1, &r, &err) == QS_OK);
    CHECK_INT(r.n_pruned, 18);
    CHECK_INT(r.n_best, 0);
    qs_search_result_free(&r);
}

/* A study stopped after 5 trials and resumed to 18 equals an uninterrupted one. */
static void test_resume(void)
{
    qs_search_config c;
    qs_search_result a, b;
    qs_error err;
    config(&c, QS_SAMPLER_RANDOM, 5);
    CHECK(run(&c, "res", 1, &a, &err) == QS_OK);
    CHECK_INT(a.n_trials, 5);
    CHECK_INT(a.evaluated_here, 5);
    qs_search_result_free(&a);
    c.n_trials = 9;
    CHECK(run(&c, "res", 2, &a, &err) == QS_OK);
    CHECK_INT(a.n_trials, 9);
    CHECK_INT(a.evaluated_here, 4);
    CHECK(run(&c, "res-fresh", 1, &b, &err) == QS_OK);
    CHECK(same_trials(&a, &b));
    qs_search_result_free(&a);
    qs_search_result_free(&b);
    /* same study, another space: refused */
    config(&c, QS_SAMPLER_RANDOM, 5);
    c.limit[QS_SC_BITOPS] = 1e9;
    CHECK_INT(run(&c, "res", 1, &a, &err), QS_ERR_INPUT);
}

/* TPE on an 18-configuration space asked for 30 trials: every configuration once. */
static void test_tpe_no_duplicates(void)
{
    qs_search_config c;
    qs_search_result r;
    qs_error err;
    config(&c, QS_SAMPLER_TPE, 30);
    CHECK(run(&c, "tpe", 1, &r, &err) == QS_OK);
    CHECK_INT(r.n_trials, 18);
    for (size_t i = 0; i < r.n_trials; i++)
        for (size_t j = 0; j < i; j++)
            CHECK(memcmp(r.trials[i].choices, r.trials[j].choices, 3 * sizeof(uint32_t)) != 0);
    qs_search_result_free(&r);
}

static void test_multi_objective(void)
{
    qs_search_config c;
    qs_search_result r;
    qs_error err;
    config(&c, QS_SAMPLER_NSGAII, 12);
    c.sum_scaled = 0;
    CHECK(run(&c, "mo", 2, &r, &err) == QS_OK);
    CHECK_INT(r.n_objectives, 2);
    CHECK(r.n_best >= 1);
    for (size_t i = 0; i < r.n_best; i++) { /* nobody dominates a front member */
        const qs_search_trial *f = &r.trials[r.best[i]];
        for (size_t j = 0; j < r.n_trials; j++) {
            const qs_search_trial *x = &r.trials[j];
            if (x->state != QS_TRIAL_COMPLETE)
                continue;
            int dom = x->values[0] >= f->values[0] && x->values[1] <= f->values[1] &&
                      (x->values[0] > f->values[0] || x->values[1] < f->values[1]);
            CHECK(!dom);
        }
    }
    qs_search_result_free(&r);
}

/* jsc-toy, three searched Linear layers, jobs 2: the prefix cache (layers
 * before seq_blocks_8 reused between trials) gives every trial the accuracy
 * of a direct evaluation of its configuration. */
static void test_prefix_cache(void)
{
    static const char *text =
        "[search.search_space.seed.default.config]\nname = [\"NA\"]\n"
        "[search.search_space.seed.seq_blocks_2.config]\nname = [\"integer\"]\ndata_in_width = [3, 8]\n"
        "weight_width = [2, 6]\nbias_width = [8]\n"
        "[search.search_space.seed.seq_blocks_5.config]\nname = [\"integer\"]\ndata_in_width = [3, 8]\n"
        "weight_width = [2, 6]\nbias_width = [8]\n"
        "[search.search_space.seed.seq_blocks_8.config]\nname = [\"integer\"]\ndata_in_width = [3, 8]\n"
        "weight_width = [2, 6]\nbias_width = [8]\n"
        "[search.strategy.metrics]\naccuracy.scale = 1.0\n";
    qs_error err;
    qs_model *toy = NULL;
    qs_toml_doc *d = NULL;
    qs_search_space sp;
    CHECK(qs_model_build(&toy, "jsc-toy", 4, 3, 2, &err) == QS_OK);
    CHECK(qs_toml_parse_string(text, strlen(text), "p.toml", &d, &err) == QS_OK);
    CHECK(qs_search_space_from_toml(&sp, toy, d->root, &err) == QS_OK);
    qs_search_config c;
    CHECK(qs_search_config_from_toml(&c, d->root, &err) == QS_OK);
    c.sampler = QS_SAMPLER_BRUTEFORCE;
    char path[512];
    snprintf(path, sizeof path, "%s/prefix.db", tmpdir);
    qs_study *s;
    CHECK(qs_study_open(path, &s, &err) == QS_OK);
    qs_search_options o = {.cfg = &c, .space = &sp, .model = toy, .meta = &meta, .ds = &ds,
                           .model_name = "toy", .data_spec = "blobs", .study = s, .jobs = 2};
    qs_search_result r;
    CHECK(qs_search_run(&o, &r, &err) == QS_OK);
    CHECK_INT(r.n_complete, 64);
    qs_quant_config cfg;
    qs_quant_model qm;
    qs_eval_inputs in;
    CHECK(qs_quant_config_init(&cfg, toy, &err) == QS_OK);
    CHECK(qs_quant_model_init(&qm, toy, &err) == QS_OK);
    CHECK(qs_eval_inputs_prepare(&in, toy, &meta, &ds, QS_SPLIT_VAL, "toy", &err) == QS_OK);
    int distinct = 0;
    for (size_t i = 0; i < r.n_trials; i++) {
        qs_quality q = {0};
        CHECK(qs_search_space_build(&sp, r.trials[i].choices, &cfg, &err) == QS_OK);
        CHECK(qs_quant_model_apply(&qm, &cfg, &err) == QS_OK);
        CHECK(qs_evaluate(qm.copy, &in, &qm.hooks, NULL, &q, &err) == QS_OK);
        CHECK_NEAR(r.trials[i].metrics[QS_SM_ACCURACY], q.accuracy, 0);
        distinct += i && r.trials[i].metrics[QS_SM_ACCURACY] != r.trials[0].metrics[QS_SM_ACCURACY];
        qs_quality_free(&q);
    }
    CHECK(distinct > 0); /* the configurations do change the result */
    qs_eval_inputs_free(&in);
    qs_quant_model_free(&qm);
    qs_quant_config_free(&cfg);
    qs_search_result_free(&r);
    qs_study_close(s);
    qs_search_space_free(&sp);
    qs_toml_free(d);
    qs_model_delete(toy);
}

/* A combination that is invalid although each of its choices is valid fails
 * its trial, with the message; the search goes on. */
static void test_failed_trial(void)
{
    static const char *text =
        "[search.search_space.seed.default.config]\nname = [\"NA\"]\n"
        "[search.search_space.seed.seq_blocks_2.config]\nname = [\"minifloat_ieee\"]\n"
        "data_in_width = [8]\ndata_in_exponent_width = [3]\nbias_width = [8]\nbias_exponent_width = [3]\n"
        "weight_width = [8, 4]\nweight_exponent_width = [3, 5]\n"
        "[search.strategy.metrics]\naccuracy.scale = 1.0\n";
    qs_error err;
    qs_toml_doc *d = NULL;
    qs_search_space sp;
    CHECK(qs_toml_parse_string(text, strlen(text), "f.toml", &d, &err) == QS_OK);
    CHECK(qs_search_space_from_toml(&sp, model, d->root, &err) == QS_OK);
    CHECK_INT(sp.n_params, 2);
    qs_search_config c;
    CHECK(qs_search_config_from_toml(&c, d->root, &err) == QS_OK);
    c.sampler = QS_SAMPLER_BRUTEFORCE;
    char path[512];
    snprintf(path, sizeof path, "%s/failed.db", tmpdir);
    qs_study *s;
    CHECK(qs_study_open(path, &s, &err) == QS_OK);
    qs_search_options o = {.cfg = &c, .space = &sp, .model = model, .meta = &meta, .ds = &ds,
                           .model_name = "tiny", .data_spec = "blobs", .study = s, .jobs = 2};
    qs_search_result r;
    CHECK(qs_search_run(&o, &r, &err) == QS_OK);
    CHECK_INT(r.n_trials, 4);
    CHECK_INT(r.n_failed, 1);
    CHECK_INT(r.n_complete, 3);
    for (size_t i = 0; i < r.n_trials; i++)
        if (r.trials[i].state == QS_TRIAL_FAILED) {
            CHECK_INT(r.trials[i].choices[0], 1); /* width 4 */
            CHECK_INT(r.trials[i].choices[1], 1); /* exponent 5 */
            CHECK(r.trials[i].error && strstr(r.trials[i].error, "exponent_width"));
        }
    CHECK_INT(r.n_best, 1);
    qs_search_result_free(&r);
    qs_study_close(s);
    qs_search_space_free(&sp);
    qs_toml_free(d);
}

/* The AVX2 argmax against its scalar twin and qs_quality_argmax: random rows of
 * every width 1..40 (not multiples of 8 included), ties, inf and NaN. */
static void test_argmax(void)
{
    if (!__builtin_cpu_supports("avx2"))
        return;
    qs_rng r;
    qs_rng_seed(&r, 9);
    float row[40];
    for (int trial = 0; trial < 4000; trial++) {
        size_t n = 1 + (size_t)(trial % 40);
        for (size_t c = 0; c < n; c++)
            row[c] = (float)(qs_rng_below(&r, 7)) - 3.0f; /* many ties */
        int kind = trial % 9;
        if (kind == 1)
            row[qs_rng_below(&r, n)] = INFINITY;
        if (kind == 2)
            row[qs_rng_below(&r, n)] = NAN;
        if (kind == 3)
            row[qs_rng_below(&r, n)] = -INFINITY;
        int s1, s2;
        size_t a = qs_search_argmax_ref(row, n, &s1), b = qs_search_argmax_avx2(row, n, &s2);
        CHECK_INT(s1, s2);
        CHECK_INT(s1, kind >= 1 && kind <= 3);
        if (!s1) {
            CHECK_INT(a, b);
            CHECK_INT((int)a, qs_quality_argmax(row, n));
        }
    }
}

int main(void)
{
    if (!setup()) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    RUN(test_argmax);
    RUN(test_jobs_identical);
    RUN(test_objective_and_accuracy);
    RUN(test_constraints);
    RUN(test_resume);
    RUN(test_tpe_no_duplicates);
    RUN(test_multi_objective);
    RUN(test_prefix_cache);
    RUN(test_failed_trial);
    qs_search_space_free(&space);
    qs_toml_free(doc);
    qs_model_meta_free(&meta);
    qs_model_delete(model);
    qs_data_free(&ds);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return qs_test_summary();
}

/* qsearch train --model ARCH --data DATA -o MODEL.safetensors */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "qsearch/data.h"
#include "qsearch/log.h"
#include "qsearch/model.h"
#include "qsearch/quality.h"
#include "qsearch/safetensors.h"
#include "qsearch/train.h"

typedef struct {
    const char *arch, *data, *out;
    qs_train_options train;
    int as_json;
} train_args;

/* Test accuracy of the trained model, for the closing line and the summary. */
static qs_status test_quality(const qs_model *m, const qs_split *test, qs_quality *q, qs_error *err)
{
    float *logits = malloc((test->n ? test->n : 1) * m->classes * sizeof *logits);
    if (!logits)
        return qs_error_set(err, QS_ERR_NOMEM, "train: cannot allocate test logits");
    qs_status st = qs_model_forward_alloc(m, test->x, test->n, logits, err);
    if (st == QS_OK)
        st = qs_quality_compute(q, logits, test->y, test->n, m->classes, err);
    free(logits);
    return st;
}

static qs_status run_training(const train_args *a, json_t **summary, qs_error *err)
{
    qs_data_options dopt;
    qs_data_options_default(&dopt);
    qs_dataset ds;
    qs_model *m = NULL;
    qs_model_meta meta;
    qs_train_result result = {0};
    qs_quality q = {0};
    qs_model_meta_init(&meta);
    qs_status st = qs_data_load(&ds, a->data, &dopt, err);
    if (st)
        return st;
    st = qs_model_build(&m, a->arch, ds.features, ds.classes, a->train.seed, err);
    if (st == QS_OK) {
        qs_log("training %s on %s: %zu train / %zu val samples, %zu features, %zu classes, %zu parameters",
               a->arch, a->data, ds.train.n, ds.val.n, ds.features, ds.classes, m->n_trainable);
        st = qs_train(m, &ds.train, &ds.val, &a->train, &result, err);
    }
    if (st == QS_OK)
        st = test_quality(m, &ds.test, &q, err);
    if (st == QS_OK)
        st = qs_model_meta_from_dataset(&meta, &ds, a->data, err);
    if (st == QS_OK) {
        meta.training = qs_train_summary_json(&a->train, &result);
        st = qs_safetensors_save_model(a->out, m, &meta, err);
    }
    if (st == QS_OK) {
        json_error_t jerr;
        json_t *training = meta.training ? json_loads(meta.training, 0, &jerr) : NULL;
        *summary = json_pack("{s:s, s:s, s:s, s:I, s:o*, s:{s:f, s:[f,f], s:f, s:I}}", "model", a->out,
                             "arch", a->arch, "dataset", a->data, "params", (json_int_t)m->n_trainable,
                             "training", training, "test", "accuracy", q.accuracy, "accuracy_ci95",
                             q.ci95_lo, q.ci95_hi, "loss", q.loss, "samples", (json_int_t)q.samples);
    }
    qs_quality_free(&q);
    qs_train_result_free(&result);
    qs_model_meta_free(&meta);
    qs_model_delete(m);
    qs_data_free(&ds);
    return st;
}

int cmd_train(int argc, char **argv)
{
    train_args a = {.data = "letter"};
    qs_train_options_default(&a.train);
    int epochs = a.train.epochs;
    uint64_t batch = a.train.batch;
    const cli_option opts[] = {
        {"model", 'm', CLI_STRING, &a.arch, "ARCH", "jsc-tiny, jsc-toy, jsc-s, jsc-three-linear or mlp:I-H-...-C"},
        {"data", 'd', CLI_STRING, &a.data, "DATA", "dataset (default letter)"},
        {"output", 'o', CLI_STRING, &a.out, "MODEL", "model file to write (.safetensors)"},
        {"epochs", 0, CLI_INT, &epochs, "N", "epochs (default 30)"},
        {"lr", 0, CLI_DOUBLE, &a.train.lr, "X", "Adam learning rate, cosine-annealed to 0 (default 0.01)"},
        {"batch", 0, CLI_U64, &batch, "B", "mini-batch size (default 128)"},
        {"weight-decay", 0, CLI_DOUBLE, &a.train.weight_decay, "X", "L2 weight decay (default 0)"},
        {"seed", 0, CLI_U64, &a.train.seed, "S", "seed of the initialisation and batch order (default 0)"},
        {"json", 0, CLI_FLAG, &a.as_json, NULL, "print a JSON summary on stdout"},
    };
    const cli_spec spec = {
        .usage = "qsearch train --model ARCH --data DATA -o MODEL.safetensors [options]",
        .description = "Trains a model in float with Adam and cross-entropy on DATA's train split,\n"
                       "reports validation accuracy each epoch and test accuracy at the end, and\n"
                       "saves it as safetensors with its architecture, input standardisation,\n"
                       "class names, dataset and training summary in the metadata.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .epilog = "example: qsearch train --model jsc-s --data letter -o jsc-s.safetensors",
    };
    int rc = cli_parse(&spec, argc, argv, NULL, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!a.arch || !a.out)
        return cli_usage_error("train: --model ARCH and -o MODEL are required (see --help)");
    a.train.epochs = epochs;
    a.train.batch = (size_t)batch;
    json_t *summary = NULL;
    qs_error err;
    qs_status st = run_training(&a, &summary, &err);
    if (st)
        return cli_fail(st, &err);
    json_t *test = json_object_get(summary, "test");
    cli_info("test accuracy %.4f (95%% CI %.4f-%.4f, %lld samples), loss %.4f; wrote %s\n",
             json_real_value(json_object_get(test, "accuracy")),
             json_real_value(json_array_get(json_object_get(test, "accuracy_ci95"), 0)),
             json_real_value(json_array_get(json_object_get(test, "accuracy_ci95"), 1)),
             (long long)json_integer_value(json_object_get(test, "samples")),
             json_real_value(json_object_get(test, "loss")), a.out);
    if (a.as_json)
        return cli_print_json(summary);
    json_decref(summary);
    return CLI_EXIT_OK;
}

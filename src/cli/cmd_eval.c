/* qsearch eval --model MODEL --data DATA [--split S] [--engine int|emulate] [--logits F.npy] [--json] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qsearch/engine.h"
#include "qsearch/evaluate.h"
#include "qsearch/npy.h"
#include "qsearch/quantize.h"
#include "qsearch/safetensors.h"

typedef struct {
    const char *model, *data, *split, *logits_path, *quant, *engine;
    int as_json;
} eval_args;

/* Which engine ran: the integer engine (e != NULL) or the emulation path. */
typedef struct {
    qs_engine *e;
} eval_engine;

/* The integer engine runs by default (integer Linear layers on integer
 * kernels, the rest exactly as the emulation: docs/engine.md); --engine
 * emulate runs the emulation path. A bad QS_KERNELS is a usage error. */
static qs_status choose_engine(const eval_args *a, const qs_model *m, const qs_quant_config *cfg,
                               eval_engine *out, qs_error *err)
{
    out->e = NULL;
    if (a->engine && strcmp(a->engine, "emulate") == 0)
        return QS_OK;
    QS_TRY(qs_kernels_init(err));
    return qs_engine_new(&out->e, m, a->quant ? cfg : NULL, err);
}

/* Per Linear layer: how it ran under the integer engine. */
static json_t *engine_layers_json(const qs_engine *e, const qs_model *m)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < qs_engine_n_layers(e); i++) {
        const qs_engine_layer_info *f = qs_engine_layer(e, i);
        if (f->kind != QS_LAYER_LINEAR)
            continue;
        if (f->run == QS_ENGINE_RUN_INT)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "name", m->layers[i].name,
                                                 "run", "int", "weights", qs_kernel_fmt_name(f->wfmt), "act_bits",
                                                 f->act_bits, "acc_bits", f->acc_bits, "out_shift", f->out_shift));
        else
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", m->layers[i].name, "run", "emulate",
                                                 "reason", f->reason));
    }
    return arr;
}

static void print_engine(const qs_engine *e)
{
    char buf[4096];
    if (!e) {
        cli_info("engine    emulate (float kernels + quantize hooks)\n");
        return;
    }
    cli_info("engine    int (kernels %s): %zu of %zu linear layers integer, the rest emulated\n%s",
             qs_kernels_active(), qs_engine_n_int(e), qs_engine_n_linear(e), qs_engine_describe(e, buf, sizeof buf));
}

static json_t *confusion_json(const qs_quality *q)
{
    json_t *rows = json_array();
    for (size_t t = 0; t < q->classes; t++) {
        json_t *row = json_array();
        for (size_t p = 0; p < q->classes; p++)
            json_array_append_new(row, json_integer((json_int_t)q->confusion[t * q->classes + p]));
        json_array_append_new(rows, row);
    }
    return rows;
}

/* Which tensor of which layer runs in which format. */
static json_t *quant_json(const qs_model *m, const qs_quant_config *cfg)
{
    json_t *layers = json_array();
    char buf[160];
    for (size_t i = 0; i < m->n_layers; i++) {
        json_t *l = json_pack("{s:s, s:s}", "name", m->layers[i].name, "type", qs_layer_kind_name(m->layers[i].kind));
        for (int r = 0; r < QS_TENSOR_COUNT; r++)
            if (qs_quant_layer_has_tensor(m->layers[i].kind, (qs_tensor_role)r))
                json_object_set_new(l, qs_tensor_role_name((qs_tensor_role)r),
                                    json_string(qs_quant_describe(cfg, i, (qs_tensor_role)r, buf, sizeof buf)));
        json_array_append_new(layers, l);
    }
    return layers;
}

static void print_quant(const qs_model *m, const qs_quant_config *cfg)
{
    char buf[3][160];
    cli_info("\n%-14s %-12s %-46s %-32s %s\n", "layer", "type", "data_in", "weight", "bias");
    for (size_t i = 0; i < m->n_layers; i++) {
        for (int r = 0; r < QS_TENSOR_COUNT; r++)
            if (qs_quant_layer_has_tensor(m->layers[i].kind, (qs_tensor_role)r))
                qs_quant_describe(cfg, i, (qs_tensor_role)r, buf[r], sizeof buf[r]);
            else
                snprintf(buf[r], sizeof buf[r], "-");
        cli_info("%-14s %-12s %-46s %-32s %s\n", m->layers[i].name, qs_layer_kind_name(m->layers[i].kind), buf[0],
                 buf[1], buf[2]);
    }
    cli_info("\n");
}

static json_t *result_json(const eval_args *a, const qs_model *m, const qs_dataset *ds, const qs_quality *q)
{
    json_t *names = json_array();
    for (size_t c = 0; c < ds->classes; c++)
        json_array_append_new(names, json_string(ds->class_names[c]));
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:f, s:[f,f], s:f, s:I, s:o, s:o}", "model", a->model,
                     "arch", m->arch, "dataset", a->data, "split", a->split, "samples", (json_int_t)q->samples,
                     "accuracy", q->accuracy, "accuracy_macro", q->accuracy_macro, "accuracy_ci95",
                     q->ci95_lo, q->ci95_hi, "loss", q->loss, "nonfinite_samples", (json_int_t)q->nonfinite,
                     "class_names", names, "confusion", confusion_json(q));
}

static void print_human(const eval_args *a, const qs_model *m, const qs_dataset *ds, const qs_quality *q)
{
    cli_info("model     %s (%s)\ndata      %s, split %s, %zu samples\n", a->model, m->arch, a->data, a->split,
             q->samples);
    cli_info("accuracy  %.4f  (95%% Wilson CI %.4f-%.4f)\n", q->accuracy, q->ci95_lo, q->ci95_hi);
    cli_info("macro acc %.4f\nloss      %.4f\n", q->accuracy_macro, q->loss);
    if (q->nonfinite)
        cli_info("warning   %zu samples had NaN or infinite logits (counted wrong)\n", q->nonfinite);
    cli_info("\nconfusion (rows: true class, columns: predicted)\n%8s", "");
    for (size_t p = 0; p < q->classes; p++)
        cli_info(" %5.5s", ds->class_names[p]);
    cli_info("\n");
    for (size_t t = 0; t < q->classes; t++) {
        cli_info("%8.8s", ds->class_names[t]);
        for (size_t p = 0; p < q->classes; p++)
            cli_info(" %5zu", q->confusion[t * q->classes + p]);
        cli_info("\n");
    }
}

static qs_status run_eval(eval_args *a, json_t **out, qs_error *err)
{
    qs_model *m = NULL;
    qs_model_meta meta;
    qs_dataset ds = {0};
    qs_eval_inputs in = {0};
    qs_quality q = {0};
    qs_quant_config cfg = {0};
    qs_quant_model qm = {0};
    eval_engine eng = {0};
    float *logits = NULL;
    qs_split_id split;
    qs_status st = qs_split_parse(a->split, &split, err);
    if (st == QS_OK)
        st = qs_safetensors_load_model(a->model, &m, &meta, err);
    if (st)
        return st;
    const qs_model *run = m;
    const qs_model_hooks *hooks = NULL;
    if (a->quant) {
        st = qs_quant_config_load(&cfg, m, a->quant, err);
        if (st == QS_OK)
            st = qs_quant_model_init(&qm, m, err);
        if (st == QS_OK)
            st = qs_quant_model_apply(&qm, &cfg, err);
        run = qm.copy;
        hooks = &qm.hooks;
    }
    if (st == QS_OK)
        st = choose_engine(a, m, &cfg, &eng, err);
    if (!a->data)
        a->data = meta.dataset[0] ? meta.dataset : "letter";
    qs_data_options dopt;
    qs_data_options_default(&dopt);
    if (st == QS_OK)
        st = qs_data_load(&ds, a->data, &dopt, err);
    if (st == QS_OK)
        st = qs_eval_inputs_prepare(&in, m, &meta, &ds, split, a->model, err);
    if (st == QS_OK && !(logits = malloc((in.n ? in.n : 1) * m->classes * sizeof *logits)))
        st = qs_error_set(err, QS_ERR_NOMEM, "eval: cannot allocate logits");
    if (st == QS_OK && eng.e)
        st = qs_engine_forward_alloc(eng.e, in.x, in.n, logits, err);
    if (st == QS_OK && eng.e)
        st = qs_quality_compute(&q, logits, in.y, in.n, m->classes, err);
    else if (st == QS_OK)
        st = qs_evaluate(run, &in, hooks, logits, &q, err);
    if (st == QS_OK && a->logits_path)
        st = qs_npy_write_f32(a->logits_path, logits, in.n, m->classes, err);
    if (st == QS_OK) {
        if (!a->as_json && a->quant)
            print_quant(m, &cfg);
        if (!a->as_json) {
            print_engine(eng.e);
            print_human(a, m, &ds, &q);
        }
        *out = result_json(a, m, &ds, &q);
        json_object_set_new(*out, "quant", a->quant ? json_string(a->quant) : json_null());
        if (a->quant)
            json_object_set_new(*out, "quantization", quant_json(m, &cfg));
        json_object_set_new(*out, "engine", json_string(eng.e ? "int" : "emulate"));
        json_object_set_new(*out, "kernels", eng.e ? json_string(qs_kernels_active()) : json_null());
        if (eng.e)
            json_object_set_new(*out, "engine_layers", engine_layers_json(eng.e, m));
    }
    qs_engine_delete(eng.e);
    qs_quant_model_free(&qm);
    qs_quant_config_free(&cfg);
    free(logits);
    qs_quality_free(&q);
    qs_eval_inputs_free(&in);
    qs_data_free(&ds);
    qs_model_delete(m);
    if (a->data == meta.dataset)
        a->data = NULL; /* it pointed into meta; the JSON holds its own copy */
    qs_model_meta_free(&meta);
    return st;
}

int cmd_eval(int argc, char **argv)
{
    eval_args a = {.split = "test"};
    const cli_option opts[] = {
        {"model", 'm', CLI_STRING, &a.model, "MODEL", "model file (.safetensors) written by qsearch train"},
        {"data", 'd', CLI_STRING, &a.data, "DATA", "dataset (default: the one the model was trained on)"},
        {"quant", 'q', CLI_STRING, &a.quant, "Q.toml", "quantize with this [passes.quantize] config (MASE format)"},
        {"split", 0, CLI_STRING, &a.split, "SPLIT", "test (default), val or train"},
        {"engine", 0, CLI_STRING, &a.engine, "E",
         "int (default: integer kernels for integer layers, the rest as the emulation) or emulate"},
        {"logits", 0, CLI_STRING, &a.logits_path, "F.npy", "also write the logits [n][classes] as float32 .npy"},
        {"json", 0, CLI_FLAG, &a.as_json, NULL, "print one JSON document on stdout"},
    };
    const cli_spec spec = {
        .usage = "qsearch eval --model MODEL [--data DATA] [--quant Q.toml] [--split test|val|train]\n"
                 "                    [--engine int|emulate] [--logits F.npy] [--json]",
        .description = "Evaluates a model on one split of a dataset: accuracy with its 95% Wilson\n"
                       "interval, macro accuracy (mean per-class recall), cross-entropy loss and the\n"
                       "confusion matrix. With --quant, the model is quantized per layer and\n"
                       "tensor as the config says (MASE's quantizers, bit-exact) and the table of\n"
                       "formats is printed; the model file is not changed. Integer Linear layers run\n"
                       "as integer matmuls (docs/engine.md), the rest exactly as the emulation, unless\n"
                       "--engine emulate is given; the output says which layers ran how.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .epilog = "examples:\n  qsearch eval --model jsc-s.safetensors --data letter --json\n"
                  "  qsearch eval --model jsc-s.safetensors --quant configs/quant-int8.toml",
    };
    int rc = cli_parse(&spec, argc, argv, NULL, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!a.model)
        return cli_usage_error("eval: --model MODEL is required (see --help)");
    if (a.engine && strcmp(a.engine, "int") != 0 && strcmp(a.engine, "emulate") != 0)
        return cli_usage_error("eval: --engine '%s': expected int or emulate", a.engine);
    json_t *doc = NULL;
    qs_error err;
    qs_status st = run_eval(&a, &doc, &err);
    return cli_finish(st, &err, doc, a.as_json);
}

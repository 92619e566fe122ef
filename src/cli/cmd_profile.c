/* qsearch profile --model MODEL [--data DATA] [--quant Q.toml] [--split S] [--batch B] [--engine E]
 *                 [--latency-budget S] [--pin CORE] [--scaled SPEC] [--forgiving SPEC] [--json]
 * Every metric of DESIGN.md section 7 for one model and configuration: quality on
 * a split, static costs per layer, latency, CPU utilisation, peak RSS, energy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "qsearch/combine.h"
#include "qsearch/cost.h"
#include "qsearch/energy.h"
#include "qsearch/engine.h"
#include "qsearch/evaluate.h"
#include "qsearch/measure.h"
#include "qsearch/quantize.h"
#include "qsearch/safetensors.h"

#define POOL_ROWS_MAX 1024 /* real rows the latency loop rotates through */
#define MAX_TERMS 16

typedef struct {
    const char *model, *data, *quant, *split, *scaled, *forgiving, *engine;
    int batch, pin, as_json;
    double budget_s;
} profile_args;

/* A parsed --scaled term. */
typedef struct {
    char name[32];
    double scale;
} scaled_term;

/* Everything loaded before measuring. */
typedef struct {
    qs_model *m;
    qs_model_meta meta;
    qs_dataset ds;
    qs_eval_inputs in;
    qs_quant_config cfg;
    qs_quant_model qm;
    int quantized;
    const qs_model *run;          /* the model the forward pass uses (quantized copy or m) */
    const qs_model_hooks *hooks;  /* input quantization, or NULL */
    qs_engine *eng;               /* the integer engine when it runs the forward pass, else NULL */
} profile_state;

/* Latency callback context: one forward pass of `batch` pool rows per call. */
typedef struct {
    const qs_model *m;
    const qs_model_hooks *hooks;
    const qs_engine *eng;         /* integer engine, or NULL for the emulation path */
    float *pool;                  /* [pool_rows][features]: real rows, copied before timing */
    size_t pool_rows, features, batch, off;
    float *logits, *scratch;
    qs_status st;
    qs_error err;
} fwd_ctx;

/* Everything measured. */
typedef struct {
    qs_quality q;
    qs_cost cost, float_cost;
    qs_latency_result lat1, latb;
    int have_latb;
    qs_usage usage;
    qs_energy energy;
    double model_j_per_sample;
    qs_energy_layer_result *layer_energy; /* [n_layers] */
} profile_result;

/* ---- options ---- */

/* Metric names --scaled accepts, and where each lives in the JSON document. */
static const struct {
    const char *name, *key, *sub;
} METRICS[] = {
    {"accuracy", "accuracy", NULL},        {"accuracy_macro", "accuracy_macro", NULL},
    {"loss", "loss", NULL},                {"average_bitwidth", "avg_bitwidth", NULL},
    {"avg_bitwidth", "avg_bitwidth", NULL}, {"memory_density", "memory_density", NULL},
    {"model_size_bits", "model_size_bits", NULL}, {"params", "params", NULL},
    {"macs", "macs", NULL},                {"flops", "flops", NULL},
    {"bitops", "bitops", NULL},            {"latency", "latency", "median_ns"},
    {"throughput_sps", "throughput_sps", NULL}, {"cpu_util", "cpu_util", NULL},
    {"peak_rss_bytes", "peak_rss_bytes", NULL}, {"energy", "energy", "joules"},
};

static int metric_index(const char *name)
{
    for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; i++)
        if (strcmp(METRICS[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Parses "accuracy:1.0,average_bitwidth:-0.2". */
static int parse_scaled(const char *spec, scaled_term *t, size_t *n)
{
    *n = 0;
    const char *p = spec;
    while (*p) {
        const char *colon = strchr(p, ':'), *comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        if (!colon || colon > comma || colon == p || (size_t)(colon - p) >= sizeof t->name)
            return cli_usage_error("--scaled: expected NAME:SCALE at '%.*s'", (int)(comma - p), p);
        if (*n == MAX_TERMS)
            return cli_usage_error("--scaled: at most %d terms", MAX_TERMS);
        scaled_term *s = &t[(*n)++];
        snprintf(s->name, sizeof s->name, "%.*s", (int)(colon - p), p);
        if (metric_index(s->name) < 0)
            return cli_usage_error("--scaled: unknown metric '%s' (known: accuracy, accuracy_macro, loss, "
                                   "average_bitwidth, memory_density, model_size_bits, params, macs, flops, "
                                   "bitops, latency, throughput_sps, cpu_util, peak_rss_bytes, energy)", s->name);
        char *end;
        s->scale = strtod(colon + 1, &end);
        if (end != comma || end == colon + 1 || !isfinite(s->scale))
            return cli_usage_error("--scaled: %s: '%.*s' is not a number", s->name, (int)(comma - colon - 1),
                                   colon + 1);
        p = *comma ? comma + 1 : comma;
    }
    return *n ? CLI_EXIT_OK : cli_usage_error("--scaled: no terms given");
}

/* Parses "default" or "ref_bits=N,delta_p=X,delta_n=X,rate=X,stress=X"; ref_bits 0 = the float model's size. */
static int parse_forgiving(const char *spec, qs_forgiving_options *o, double *ref_bits)
{
    qs_forgiving_options_default(o);
    *ref_bits = 0;
    if (strcmp(spec, "default") == 0)
        return CLI_EXIT_OK;
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ','), *eq = strchr(p, '=');
        if (!comma)
            comma = p + strlen(p);
        if (!eq || eq > comma)
            return cli_usage_error("--forgiving: expected KEY=VALUE at '%.*s'", (int)(comma - p), p);
        char *end;
        double v = strtod(eq + 1, &end);
        if (end != comma || end == eq + 1 || !isfinite(v))
            return cli_usage_error("--forgiving: '%.*s' is not a number", (int)(comma - eq - 1), eq + 1);
        size_t len = (size_t)(eq - p);
        double *dst = len == 8 && !strncmp(p, "ref_bits", 8) ? ref_bits
                      : len == 7 && !strncmp(p, "delta_p", 7) ? &o->delta_p
                      : len == 7 && !strncmp(p, "delta_n", 7) ? &o->delta_n
                      : len == 4 && !strncmp(p, "rate", 4)    ? &o->rate
                      : len == 6 && !strncmp(p, "stress", 6)  ? &o->stress
                                                              : NULL;
        if (!dst)
            return cli_usage_error("--forgiving: unknown key '%.*s' (ref_bits, delta_p, delta_n, rate, stress)",
                                   (int)len, p);
        *dst = v;
        p = *comma ? comma + 1 : comma;
    }
    if (*ref_bits < 0)
        return cli_usage_error("--forgiving: ref_bits must be positive");
    double score;
    qs_error err;
    if (qs_combine_forgiving(1.0, 2.0, 1.0, o, &score, NULL, &err) != QS_OK) /* checks rate and the rest now */
        return cli_usage_error("--forgiving: %s", err.msg);
    return CLI_EXIT_OK;
}

/* ---- loading ---- */

/* The integer engine runs by default, float configs included, so latencies
 * of float and quantized configs come from the same execution path; --engine
 * emulate measures the emulation (float kernels + quantize hooks). */
static qs_status choose_engine(const profile_args *a, profile_state *s, qs_error *err)
{
    if (a->engine && strcmp(a->engine, "emulate") == 0)
        return QS_OK;
    QS_TRY(qs_kernels_init(err));
    return qs_engine_new(&s->eng, s->m, s->quantized ? &s->cfg : NULL, err);
}

static qs_status load_state(profile_args *a, profile_state *s, qs_split_id split, qs_error *err)
{
    QS_TRY(qs_safetensors_load_model(a->model, &s->m, &s->meta, err));
    s->run = s->m;
    if (a->quant) {
        QS_TRY(qs_quant_config_load(&s->cfg, s->m, a->quant, err));
        QS_TRY(qs_quant_model_init(&s->qm, s->m, err));
        QS_TRY(qs_quant_model_apply(&s->qm, &s->cfg, err));
        s->quantized = 1;
        s->run = s->qm.copy;
        s->hooks = &s->qm.hooks;
    }
    if (!a->data)
        a->data = s->meta.dataset[0] ? s->meta.dataset : "letter";
    qs_data_options dopt;
    qs_data_options_default(&dopt);
    QS_TRY(qs_data_load(&s->ds, a->data, &dopt, err));
    QS_TRY(qs_eval_inputs_prepare(&s->in, s->m, &s->meta, &s->ds, split, a->model, err));
    if (s->in.n == 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: split %s has no samples", a->data, qs_split_name(split));
    return choose_engine(a, s, err);
}

static void free_state(profile_state *s)
{
    qs_engine_delete(s->eng);
    qs_quant_model_free(&s->qm);
    qs_quant_config_free(&s->cfg);
    qs_eval_inputs_free(&s->in);
    qs_data_free(&s->ds);
    qs_model_delete(s->m);
    qs_model_meta_free(&s->meta);
}

/* ---- latency ---- */

static void fwd_run(void *p)
{
    fwd_ctx *c = p;
    const float *x = c->pool + c->off * c->features;
    qs_status st = c->eng ? qs_engine_forward(c->eng, x, c->batch, c->logits, c->scratch, &c->err)
                          : qs_model_forward(c->m, x, c->batch, c->logits, c->scratch, c->hooks, &c->err);
    if (st && !c->st)
        c->st = st;
    c->off += c->batch;
    if (c->off + c->batch > c->pool_rows)
        c->off = 0;
}

/* Copies max(batch, min(n, POOL_ROWS_MAX)) real rows (cycling when n < batch) and the buffers. */
static qs_status fwd_init(fwd_ctx *c, const profile_state *s, size_t batch, qs_error *err)
{
    memset(c, 0, sizeof *c);
    c->m = s->run;
    c->hooks = s->hooks;
    c->eng = s->eng;
    c->features = s->in.features;
    c->batch = batch;
    c->pool_rows = s->in.n < POOL_ROWS_MAX ? s->in.n : POOL_ROWS_MAX;
    if (c->pool_rows < batch)
        c->pool_rows = batch;
    size_t scratch_bytes = (qs_model_scratch_floats(c->m) * sizeof(float) + 63) / 64 * 64;
    if (c->eng)
        scratch_bytes = (qs_engine_scratch_bytes(c->eng) + 63) / 64 * 64;
    c->pool = malloc(c->pool_rows * c->features * sizeof *c->pool);
    c->logits = malloc(batch * c->m->classes * sizeof *c->logits);
    c->scratch = aligned_alloc(64, scratch_bytes ? scratch_bytes : 64);
    if (!c->pool || !c->logits || !c->scratch)
        return qs_error_set(err, QS_ERR_NOMEM, "profile: cannot allocate latency buffers for batch %zu", batch);
    for (size_t r = 0; r < c->pool_rows; r++)
        memcpy(c->pool + r * c->features, s->in.x + (r % s->in.n) * c->features, c->features * sizeof(float));
    return QS_OK;
}

static void fwd_free(fwd_ctx *c)
{
    free(c->pool);
    free(c->logits);
    free(c->scratch);
}

static qs_status measure_latency(const profile_args *a, const profile_state *s, int batch,
                                 qs_latency_result *res, qs_error *err)
{
    fwd_ctx c;
    qs_latency_options opt;
    qs_latency_options_default(&opt);
    opt.batch = batch;
    opt.budget_s = a->budget_s;
    if (opt.min_time_s > opt.budget_s)
        opt.min_time_s = opt.budget_s;
    opt.pin_cpu = a->pin;
    qs_status st = fwd_init(&c, s, (size_t)batch, err);
    if (st == QS_OK)
        st = qs_latency_measure(fwd_run, &c, &opt, res, err);
    if (st == QS_OK && c.st) {
        *err = c.err;
        st = c.st;
        qs_latency_result_free(res);
    }
    fwd_free(&c);
    return st;
}

/* The measured region: latency at batch 1 (and B), CPU time, peak RSS, energy. */
static qs_status measure_region(const profile_args *a, const profile_state *s, profile_result *r, qs_error *err)
{
    qs_energy_meter *meter = NULL;
    QS_TRY(qs_energy_meter_new(&meter, NULL, err));
    qs_error ignore;
    (void)qs_usage_reset_peak_rss(&ignore); /* per-run peak where Linux allows */
    qs_usage_region region;
    qs_usage_begin(&region, 1);
    qs_status st = qs_energy_meter_start(meter, err);
    if (st == QS_OK)
        st = measure_latency(a, s, 1, &r->lat1, err);
    if (st == QS_OK && a->batch > 1) {
        st = measure_latency(a, s, a->batch, &r->latb, err);
        r->have_latb = st == QS_OK;
    }
    if (st == QS_OK) {
        double samples = (double)(r->lat1.calls + r->lat1.warmup_calls);
        if (r->have_latb)
            samples += (double)(r->latb.calls + r->latb.warmup_calls) * a->batch;
        st = qs_energy_meter_stop(meter, samples, r->model_j_per_sample, &r->energy, err);
    }
    if (st == QS_OK)
        st = qs_usage_end(&region, &r->usage, err);
    qs_energy_meter_delete(meter);
    return st;
}

/* Static costs and the energy model's per-layer estimate. */
static qs_status static_metrics(const profile_state *s, profile_result *r, qs_error *err)
{
    const qs_quant_config *cfg = s->quantized ? &s->cfg : NULL;
    QS_TRY(qs_cost_compute(&r->cost, s->m, cfg, err));
    qs_cost_totals(&r->float_cost, s->m, NULL);
    size_t n = s->m->n_layers;
    qs_energy_layer_ops *ops = calloc(n ? n : 1, sizeof *ops);
    r->layer_energy = calloc(n ? n : 1, sizeof *r->layer_energy);
    if (!ops || !r->layer_energy) {
        free(ops);
        return qs_error_set(err, QS_ERR_NOMEM, "profile: cannot allocate %zu layer entries", n);
    }
    qs_cost_energy_ops(s->m, cfg, ops);
    qs_status st = qs_energy_model(ops, n, r->layer_energy, &r->model_j_per_sample, err);
    free(ops);
    return st;
}

static void free_result(profile_result *r)
{
    qs_quality_free(&r->q);
    qs_cost_free(&r->cost);
    qs_latency_result_free(&r->lat1);
    qs_latency_result_free(&r->latb);
    free(r->layer_energy);
}

/* ---- output ---- */

static json_t *latency_json(const qs_latency_result *l)
{
    return json_pack("{s:i, s:f, s:f, s:[f,f], s:i, s:f, s:f, s:b, s:i, s:I}", "batch", l->batch, "median_ns",
                     l->median_ns, "p95_ns", l->p95_ns, "ci95_ns", l->ci95_lo_ns, l->ci95_hi_ns, "runs", l->runs,
                     "per_sample_ns", l->per_sample_ns, "throughput_sps", l->throughput_sps, "noisy", l->noisy,
                     "block", l->block, "calls", (json_int_t)l->calls);
}

static json_t *energy_json(const profile_result *r)
{
    const qs_energy *e = &r->energy;
    return json_pack("{s:f, s:f, s:s, s:f, s:f, s:f, s:s}", "joules", e->joules_per_sample, "watts", e->watts,
                     "source", qs_energy_source_name(e->source), "region_joules", e->joules, "region_seconds",
                     e->seconds, "model_joules", r->model_j_per_sample, "note", e->note);
}

static json_t *layers_json(const profile_state *s, const profile_result *r)
{
    json_t *arr = json_array();
    char buf[160];
    for (size_t i = 0; i < r->cost.n_layers; i++) {
        const qs_layer_cost *c = &r->cost.layers[i];
        double share = r->model_j_per_sample > 0 ? r->layer_energy[i].joules / r->model_j_per_sample : 0;
        json_t *l = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:f, s:f}", "name", c->name, "type",
                              qs_layer_kind_name(c->kind), "params", (json_int_t)c->params, "size_bits",
                              (json_int_t)c->size_bits, "macs", (json_int_t)c->macs, "flops", (json_int_t)c->flops,
                              "bitops", (json_int_t)c->bitops, "weight_bits", c->weight_bits, "data_in_bits",
                              c->data_in_bits, "energy_model_joules", r->layer_energy[i].joules, "energy_share",
                              share);
        for (int t = 0; t < QS_TENSOR_COUNT; t++) {
            if (!qs_quant_layer_has_tensor(c->kind, (qs_tensor_role)t))
                continue;
            const char *d = s->quantized ? qs_quant_describe(&s->cfg, i, (qs_tensor_role)t, buf, sizeof buf) : "float";
            json_object_set_new(l, qs_tensor_role_name((qs_tensor_role)t), json_string(d));
        }
        json_array_append_new(arr, l);
    }
    return arr;
}

/* Per Linear layer: how it ran under the integer engine. */
static json_t *engine_layers_json(const profile_state *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < qs_engine_n_layers(s->eng); i++) {
        const qs_engine_layer_info *f = qs_engine_layer(s->eng, i);
        if (f->kind != QS_LAYER_LINEAR)
            continue;
        if (f->run == QS_ENGINE_RUN_INT)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i}", "name", s->m->layers[i].name,
                                                 "run", "int", "weights", qs_kernel_fmt_name(f->wfmt), "act_bits",
                                                 f->act_bits, "acc_bits", f->acc_bits, "out_shift", f->out_shift));
        else
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", s->m->layers[i].name, "run", "emulate",
                                                 "reason", f->reason));
    }
    return arr;
}

static json_t *result_json(const profile_args *a, const profile_state *s, const profile_result *r)
{
    const qs_quality *q = &r->q;
    const qs_cost *c = &r->cost;
    const qs_latency_result *tp = r->have_latb ? &r->latb : &r->lat1;
    json_t *doc = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:f, s:f, s:[f,f], s:f}", "model", a->model,
                            "arch", s->m->arch, "dataset", a->data, "quant", a->quant ? json_string(a->quant) : json_null(),
                            "engine", s->eng ? "int" : "emulate", "split", a->split, "samples", (json_int_t)q->samples, "accuracy",
                            q->accuracy, "accuracy_macro", q->accuracy_macro, "accuracy_ci95", q->ci95_lo, q->ci95_hi,
                            "loss", q->loss);
    json_object_set_new(doc, "kernels", s->eng ? json_string(qs_kernels_active()) : json_null());
    if (s->eng)
        json_object_set_new(doc, "engine_layers", engine_layers_json(s));
    json_object_set_new(doc, "latency", latency_json(&r->lat1));
    if (r->have_latb)
        json_object_set_new(doc, "latency_batch", latency_json(&r->latb));
    json_object_set_new(doc, "throughput_sps", json_real(tp->throughput_sps));
    json_object_set_new(doc, "params", json_integer((json_int_t)c->params));
    json_object_set_new(doc, "model_size_bits", json_integer((json_int_t)c->model_size_bits));
    json_object_set_new(doc, "avg_bitwidth", json_real(c->avg_bitwidth));
    json_object_set_new(doc, "memory_density", json_real(c->memory_density));
    json_object_set_new(doc, "macs", json_integer((json_int_t)c->macs));
    json_object_set_new(doc, "flops", json_integer((json_int_t)c->flops));
    json_object_set_new(doc, "bitops", json_integer((json_int_t)c->bitops));
    json_object_set_new(doc, "cpu_util", json_real(r->usage.cpu_util));
    json_object_set_new(doc, "peak_rss_bytes", json_integer((json_int_t)r->usage.peak_rss_bytes));
    json_object_set_new(doc, "energy", energy_json(r));
    json_object_set_new(doc, "layers", layers_json(s, r));
    return doc;
}

/* Value of metric `name` in the finished document (NaN when absent or not a number). */
static double doc_metric(json_t *doc, const char *name)
{
    int i = metric_index(name);
    json_t *v = json_object_get(doc, METRICS[i].key);
    if (METRICS[i].sub)
        v = json_object_get(v, METRICS[i].sub);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Adds "scaled_sum" (MASE: sum of scale x value, metric directions not used). */
static void add_scaled(json_t *doc, const scaled_term *t, size_t n)
{
    qs_metric_term terms[MAX_TERMS];
    double scaled[MAX_TERMS];
    for (size_t i = 0; i < n; i++)
        terms[i] = (qs_metric_term){t[i].name, doc_metric(doc, t[i].name), t[i].scale, QS_MAXIMIZE};
    double sum = qs_combine_scaled_sum(terms, n, QS_MAXIMIZE, QS_SCALED_SUM_MASE, scaled);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:f, s:f, s:f}", "name", t[i].name, "value", terms[i].value,
                                             "scale", t[i].scale, "scaled", scaled[i]));
    json_object_set_new(doc, "scaled_sum", json_pack("{s:f, s:o}", "value", sum, "terms", arr));
}

/* Adds "forgiving" (AutoQKeras: accuracy forgiven per rate-times fewer model bits). */
static qs_status add_forgiving(json_t *doc, const qs_forgiving_options *o, double ref_bits, const profile_result *r,
                               qs_error *err)
{
    double score, factor;
    double ref = ref_bits > 0 ? ref_bits : (double)r->float_cost.model_size_bits;
    double trial = (double)r->cost.model_size_bits;
    QS_TRY(qs_combine_forgiving(r->q.accuracy, ref, trial, o, &score, &factor, err));
    json_object_set_new(doc, "forgiving",
                        json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "metric", "accuracy", "ref_bits",
                                  ref, "trial_bits", trial, "delta_p", o->delta_p, "delta_n", o->delta_n, "rate",
                                  o->rate, "stress", o->stress, "factor", factor, "score", score));
    return QS_OK;
}

/* Compact format label for the table: fp32, int8.4, block_fp8, binary1 ... */
static const char *short_fmt(const profile_state *s, size_t layer, qs_tensor_role t, char *buf, size_t cap)
{
    if (!qs_quant_layer_has_tensor(s->m->layers[layer].kind, t))
        return "-";
    if (!s->quantized || !s->cfg.layers[layer].quantized[t])
        return "fp32";
    const qs_format_spec *f = &s->cfg.layers[layer].spec[t];
    if (f->format == QS_FMT_INTEGER)
        snprintf(buf, cap, "%sint%d.%d", f->is_signed ? "" : "u", f->width, qs_format_spec_frac_width(f));
    else
        snprintf(buf, cap, "%s%d", qs_format_get(f->format)->name, qs_format_element_bits(f));
    return buf;
}

static void print_layers(const profile_state *s, const profile_result *r)
{
    char b[3][48];
    cli_info("\n%-14s %-12s %-11s %-11s %-11s %7s %9s %7s %7s %10s %7s\n", "layer", "type", "data_in", "weight",
             "bias", "params", "size_bits", "macs", "flops", "bitops", "energy");
    for (size_t i = 0; i < r->cost.n_layers; i++) {
        const qs_layer_cost *c = &r->cost.layers[i];
        double share = r->model_j_per_sample > 0 ? r->layer_energy[i].joules / r->model_j_per_sample : 0;
        cli_info("%-14s %-12s %-11s %-11s %-11s %7llu %9llu %7llu %7llu %10llu %6.1f%%\n", c->name,
                 qs_layer_kind_name(c->kind), short_fmt(s, i, QS_TENSOR_DATA_IN, b[0], sizeof b[0]),
                 short_fmt(s, i, QS_TENSOR_WEIGHT, b[1], sizeof b[1]), short_fmt(s, i, QS_TENSOR_BIAS, b[2], sizeof b[2]),
                 (unsigned long long)c->params, (unsigned long long)c->size_bits, (unsigned long long)c->macs,
                 (unsigned long long)c->flops, (unsigned long long)c->bitops, 100 * share);
    }
    cli_info("(energy: share of the model's per-sample estimate)\n");
}

static void print_latency(const char *label, const qs_latency_result *l)
{
    cli_info("%-15s batch %d: median %.0f ns (95%% CI %.0f-%.0f), p95 %.0f ns, %d runs x %d calls, %.0f samples/s%s\n",
             label, l->batch, l->median_ns, l->ci95_lo_ns, l->ci95_hi_ns, l->p95_ns, l->runs, l->block,
             l->throughput_sps, l->noisy ? " [noisy]" : "");
}

static void print_human(const profile_args *a, const profile_state *s, const profile_result *r, json_t *doc)
{
    const qs_quality *q = &r->q;
    const qs_cost *c = &r->cost;
    const qs_energy *e = &r->energy;
    cli_info("model           %s (%s), %s\n", a->model, s->m->arch, a->quant ? a->quant : "float");
    cli_info("data            %s, split %s, %zu samples\n", a->data, a->split, q->samples);
    if (s->eng) {
        char buf[4096];
        cli_info("engine          int (kernels %s): %zu of %zu linear layers integer, the rest emulated\n%s",
                 qs_kernels_active(), qs_engine_n_int(s->eng), qs_engine_n_linear(s->eng),
                 qs_engine_describe(s->eng, buf, sizeof buf));
    } else {
        cli_info("engine          emulate (float kernels + quantize hooks)\n");
    }
    cli_info("accuracy        %.4f (95%% Wilson CI %.4f-%.4f), macro %.4f, loss %.4f\n", q->accuracy, q->ci95_lo,
             q->ci95_hi, q->accuracy_macro, q->loss);
    cli_info("params          %llu\nmodel_size_bits %llu (%.1f KiB)\n", (unsigned long long)c->params,
             (unsigned long long)c->model_size_bits, c->model_size_bits / 8192.0);
    cli_info("avg_bitwidth    %.3f (memory density %.2fx)\n", c->avg_bitwidth, c->memory_density);
    cli_info("macs            %llu\nflops           %llu\nbitops          %llu\n", (unsigned long long)c->macs,
             (unsigned long long)c->flops, (unsigned long long)c->bitops);
    print_latency("latency", &r->lat1);
    if (r->have_latb)
        print_latency("latency", &r->latb);
    cli_info("cpu_util        %.3f over %.2f s (1 thread)\npeak_rss        %.1f MiB\n", r->usage.cpu_util,
             r->usage.wall_s, r->usage.peak_rss_bytes / 1048576.0);
    cli_info("energy          %.3g J/sample, %.3g W, source %s%s\n", e->joules_per_sample, e->watts,
             qs_energy_source_name(e->source), e->source == QS_ENERGY_MODEL ? " (estimate, 45 nm op model)" : "");
    if (e->note[0])
        cli_info("                %s\n", e->note);
    json_t *ss = json_object_get(doc, "scaled_sum"), *fg = json_object_get(doc, "forgiving");
    if (ss)
        cli_info("scaled_sum      %.6g (MASE: sum of scale x value)\n", json_number_value(json_object_get(ss, "value")));
    if (fg)
        cli_info("forgiving       score %.6g (factor %+.4f, %.0f vs %.0f bits)\n",
                 json_number_value(json_object_get(fg, "score")), json_number_value(json_object_get(fg, "factor")),
                 json_number_value(json_object_get(fg, "trial_bits")),
                 json_number_value(json_object_get(fg, "ref_bits")));
    print_layers(s, r);
}

/* ---- driver ---- */

/* Quality on the split through whichever engine runs the forward pass. */
static qs_status evaluate(const profile_state *s, qs_quality *q, qs_error *err)
{
    if (!s->eng)
        return qs_evaluate(s->run, &s->in, s->hooks, NULL, q, err);
    float *logits = malloc(s->in.n * s->m->classes * sizeof *logits);
    if (!logits)
        return qs_error_set(err, QS_ERR_NOMEM, "profile: cannot allocate logits");
    qs_status st = qs_engine_forward_alloc(s->eng, s->in.x, s->in.n, logits, err);
    if (st == QS_OK)
        st = qs_quality_compute(q, logits, s->in.y, s->in.n, s->m->classes, err);
    free(logits);
    return st;
}

typedef struct {
    scaled_term terms[MAX_TERMS];
    size_t n_terms;
    qs_forgiving_options forgive;
    double ref_bits;
} combine_args;

static qs_status run_profile(profile_args *a, const combine_args *ca, json_t **out, qs_error *err)
{
    profile_state s;
    profile_result r;
    memset(&s, 0, sizeof s);
    memset(&r, 0, sizeof r);
    qs_model_meta_init(&s.meta);
    qs_split_id split;
    qs_status st = qs_split_parse(a->split, &split, err);
    if (st == QS_OK)
        st = load_state(a, &s, split, err);
    if (st == QS_OK)
        st = evaluate(&s, &r.q, err);
    if (st == QS_OK)
        st = static_metrics(&s, &r, err);
    if (st == QS_OK)
        st = measure_region(a, &s, &r, err);
    if (st == QS_OK) {
        *out = result_json(a, &s, &r);
        if (ca->n_terms)
            add_scaled(*out, ca->terms, ca->n_terms);
        if (a->forgiving)
            st = add_forgiving(*out, &ca->forgive, ca->ref_bits, &r, err);
        if (st == QS_OK && !a->as_json)
            print_human(a, &s, &r, *out);
    }
    if (a->data == s.meta.dataset)
        a->data = NULL; /* it pointed into meta; the JSON holds its own copy */
    free_result(&r);
    free_state(&s);
    return st;
}

int cmd_profile(int argc, char **argv)
{
    profile_args a = {.split = "test", .batch = 1, .pin = -1, .budget_s = 2.0};
    const cli_option opts[] = {
        {"model", 'm', CLI_STRING, &a.model, "MODEL", "model file (.safetensors) written by qsearch train"},
        {"data", 'd', CLI_STRING, &a.data, "DATA", "dataset (default: the one the model was trained on)"},
        {"quant", 'q', CLI_STRING, &a.quant, "Q.toml", "quantize with this [passes.quantize] config (MASE format)"},
        {"split", 0, CLI_STRING, &a.split, "SPLIT", "test (default), val or train: quality and latency rows"},
        {"batch", 'b', CLI_INT, &a.batch, "B", "also measure latency and throughput at batch B (default 1 only)"},
        {"engine", 0, CLI_STRING, &a.engine, "E",
         "int (default: integer kernels for integer layers, the rest as the emulation) or emulate"},
        {"latency-budget", 0, CLI_DOUBLE, &a.budget_s, "S", "seconds of measuring per latency (default 2)"},
        {"pin", 0, CLI_INT, &a.pin, "CORE", "pin the measuring thread to this core"},
        {"scaled", 0, CLI_STRING, &a.scaled, "SPEC", "print MASE's scaled sum, e.g. accuracy:1.0,average_bitwidth:-0.2"},
        {"forgiving", 0, CLI_STRING, &a.forgiving, "SPEC",
         "print AutoQKeras's forgiving score on model bits: default, or ref_bits=N,delta_p=8,delta_n=8,rate=2,stress=1"},
        {"json", 0, CLI_FLAG, &a.as_json, NULL, "print one JSON document on stdout"},
    };
    const cli_spec spec = {
        .usage = "qsearch profile --model MODEL [--data DATA] [--quant Q.toml] [--split S] [--batch B] [--engine E]\n"
                 "                       [--latency-budget S] [--pin CORE] [--scaled SPEC] [--forgiving SPEC] [--json]",
        .description = "Every metric of one model under one configuration: accuracy, macro accuracy,\n"
                       "Wilson interval and loss on a split; params, model size, average bitwidth,\n"
                       "MACs, FLOPs and BitOPs per layer and in total; forward-pass latency at batch 1\n"
                       "(and B) with the 95% CI of its median; CPU utilisation and peak RSS over the\n"
                       "measured region; energy per sample (RAPL when readable, else the 45 nm\n"
                       "per-operation model, labelled). Definitions: docs/metrics.md. Integer Linear\n"
                       "layers run as integer matmuls (docs/engine.md), the rest as the emulation, and\n"
                       "latency measures that engine; --engine emulate measures the emulation.",
        .options = opts, .n_options = sizeof opts / sizeof opts[0],
        .epilog = "examples:\n  qsearch profile --model jsc-s.safetensors --data letter --json\n"
                  "  qsearch profile --model jsc-s.safetensors --quant configs/quant-int8.toml --batch 256",
    };
    int rc = cli_parse(&spec, argc, argv, NULL, NULL);
    if (rc)
        return rc < 0 ? CLI_EXIT_OK : rc;
    if (!a.model)
        return cli_usage_error("profile: --model MODEL is required (see --help)");
    if (a.engine && strcmp(a.engine, "int") != 0 && strcmp(a.engine, "emulate") != 0)
        return cli_usage_error("profile: --engine '%s': expected int or emulate", a.engine);
    if (a.batch < 1 || a.batch > 1 << 20)
        return cli_usage_error("profile: --batch %d is out of range 1..%d", a.batch, 1 << 20);
    if (!(a.budget_s > 0) || a.budget_s > 3600)
        return cli_usage_error("profile: --latency-budget %g must be in (0, 3600] seconds", a.budget_s);
    combine_args ca = {0};
    if (a.scaled && (rc = parse_scaled(a.scaled, ca.terms, &ca.n_terms)) != 0)
        return rc;
    if (a.forgiving && (rc = parse_forgiving(a.forgiving, &ca.forgive, &ca.ref_bits)) != 0)
        return rc;
    json_t *doc = NULL;
    qs_error err;
    qs_status st = run_profile(&a, &ca, &doc, &err);
    return cli_finish(st, &err, doc, a.as_json);
}

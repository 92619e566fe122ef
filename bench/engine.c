/* Whole-model benchmark of the integer engine: batch-1 and batch-B latency of
 * jsc-s on letter and of mlp:784-1024-1024-10 on fashion-mnist at weight
 * widths 1, 2, 4, 8, 16 (integer format) and float, through the integer
 * engine and through the emulation path (float kernels + quantize hooks), and
 * the equivalence of the two on each model's whole test split. Not part of
 * `make test`; bench/engine.sh builds and runs it, then runs the PyTorch side
 * (bench/engine_torch.py) and prints the ratios.
 *
 * Models: jsc-s is trained here on letter (30 epochs, the CLI's defaults, < 1 s);
 * the MLP is trained for --mlp-epochs N epochs (bench/engine.sh: 1, about 45 s
 * here), or with 0 keeps PyTorch's default initialisation (seed 1). Latency does
 * not depend on the weights' values; accuracy and equivalence do.
 *
 * Configs (by type, as configs/quant-int*.toml): every Linear `integer` with
 * data_in 8 bits (frac 4), weight W bits (frac "NA" = W / 2, MASE's default),
 * bias 16 bits (frac f_a + f_w: added at the accumulator's scale); every ReLU's
 * input unsigned 8 bits (frac 4). "float" runs the float model through the
 * engine (no integer layer: float GEMMs on weights transposed once) and
 * through qs_model_forward (which transposes every Linear's weights per call).
 *
 * Timing: per call, thread CPU time (CLOCK_THREAD_CPUTIME_ID: leaves out the
 * time other processes hold the core on a shared machine), samples of k calls
 * lasting about 1 ms, all cases sampled in interleaved rounds so load changes
 * hit them alike, median over rounds. bench/engine_torch.py measures the same way.
 *
 * Usage: engine [--quick] [--rounds R] [--batch B] [--npy DIR] [--json FILE] [--mlp-epochs N] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qsearch/data.h"
#include "qsearch/engine.h"
#include "qsearch/kernels.h"
#include "qsearch/model.h"
#include "qsearch/npy.h"
#include "qsearch/quality.h"
#include "qsearch/quantize.h"
#include "qsearch/train.h"

#define N_WIDTHS 5
static const int WIDTHS[N_WIDTHS] = {1, 2, 4, 8, 16};
#define MAX_CASES 64
#define POOL_MAX 1024

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, const qs_error *err)
{
    fprintf(stderr, "engine bench: %s: %s\n", what, err->msg);
    exit(1);
}

/* One timed case: a model under a config, run by the engine or the emulation path. */
typedef struct {
    char model[32], config[16], path[8];
    int batch;
    const qs_engine *eng;     /* NULL: emulation path */
    const qs_model *m;        /* emulation: the (quantized copy of the) model */
    const qs_model_hooks *hooks;
    const float *pool;        /* [pool_rows][features] */
    size_t pool_rows, features, off;
    float *logits;            /* [batch][classes] */
    void *scratch;
    int iters;                /* calls per sample */
    double *samples;          /* [rounds] seconds per call */
} bench_case;

static void run_case(bench_case *c)
{
    qs_error err;
    const float *x = c->pool + c->off * c->features;
    qs_status st = c->eng ? qs_engine_forward(c->eng, x, (size_t)c->batch, c->logits, c->scratch, &err)
                          : qs_model_forward(c->m, x, (size_t)c->batch, c->logits, c->scratch, c->hooks, &err);
    if (st)
        die("forward", &err);
    c->off += (size_t)c->batch;
    if (c->off + (size_t)c->batch > c->pool_rows)
        c->off = 0;
}

static double sample_case(bench_case *c)
{
    double t0 = now();
    for (int i = 0; i < c->iters; i++)
        run_case(c);
    return (now() - t0) / c->iters;
}

static void calibrate(bench_case *c)
{
    c->iters = 1;
    run_case(c); /* warm-up */
    double one = sample_case(c);
    for (int i = 0; i < 3; i++)
        one = fmin(one, sample_case(c));
    c->iters = one > 1e-3 ? 1 : (int)(1e-3 / fmax(one, 1e-9)) + 1;
}

/* ---- models and configs ---- */

typedef struct {
    const char *name, *arch, *data;
    qs_dataset ds;
    qs_model *m;
    float *pool;            /* rotating test rows for the latency loops */
    size_t pool_rows;
    qs_quant_config cfg[N_WIDTHS];
    qs_quant_model qm[N_WIDTHS];
    qs_engine *eng[N_WIDTHS];
    qs_engine *feng;        /* float model through the engine */
} bench_model;

static qs_status set_config(qs_quant_config *cfg, const qs_model *m, int w, qs_error *err)
{
    int fa = 4, fw = w / 2, fb = fa + fw;
    char sw[16], sfw[16], sfb[16];
    snprintf(sw, sizeof sw, "%d", w);
    snprintf(sfw, sizeof sfw, "%d", fw);
    snprintf(sfb, sizeof sfb, "%d", fb);
    const qs_quant_param lin[6] = {{"data_in_width", "8"}, {"data_in_frac_width", "4"}, {"weight_width", sw},
                                   {"weight_frac_width", sfw}, {"bias_width", "16"}, {"bias_frac_width", sfb}};
    const qs_quant_param relu[2] = {{"data_in_width", "8"}, {"data_in_frac_width", "4"}};
    QS_TRY(qs_quant_config_init(cfg, m, err));
    for (size_t i = 0; i < m->n_layers; i++) {
        if (m->layers[i].kind == QS_LAYER_LINEAR)
            QS_TRY(qs_quant_config_set_layer(cfg, m, i, "integer", lin, 6, err));
        else if (m->layers[i].kind == QS_LAYER_RELU)
            QS_TRY(qs_quant_config_set_layer(cfg, m, i, "integer", relu, 2, err));
    }
    return QS_OK;
}

static void load_model(bench_model *b, int epochs, uint64_t seed)
{
    qs_error err;
    qs_data_options opt;
    qs_data_options_default(&opt);
    if (qs_data_load(&b->ds, b->data, &opt, &err))
        die(b->data, &err);
    if (qs_model_build(&b->m, b->arch, b->ds.features, b->ds.classes, seed, &err))
        die(b->arch, &err);
    if (epochs > 0) {
        qs_train_options to;
        qs_train_options_default(&to);
        to.epochs = epochs;
        to.log_every_epoch = 0;
        double t0 = now();
        if (qs_train(b->m, &b->ds.train, &b->ds.val, &to, NULL, &err))
            die("train", &err);
        fprintf(stderr, "# %s: trained %d epochs on %s in %.1f s (CPU)\n", b->arch, epochs, b->data, now() - t0);
    } else {
        fprintf(stderr, "# %s: PyTorch default initialisation (seed %llu), not trained\n", b->arch,
                (unsigned long long)seed);
    }
    b->pool_rows = b->ds.test.n < POOL_MAX ? b->ds.test.n : POOL_MAX;
    b->pool = b->ds.test.x;
    if (qs_engine_new(&b->feng, b->m, NULL, &err))
        die("engine", &err);
    for (int w = 0; w < N_WIDTHS; w++) {
        if (set_config(&b->cfg[w], b->m, WIDTHS[w], &err) || qs_quant_model_init(&b->qm[w], b->m, &err) ||
            qs_quant_model_apply(&b->qm[w], &b->cfg[w], &err) || qs_engine_new(&b->eng[w], b->m, &b->cfg[w], &err))
            die("config", &err);
    }
}

static void free_model(bench_model *b)
{
    for (int w = 0; w < N_WIDTHS; w++) {
        qs_engine_delete(b->eng[w]);
        qs_quant_model_free(&b->qm[w]);
        qs_quant_config_free(&b->cfg[w]);
    }
    qs_engine_delete(b->feng);
    qs_model_delete(b->m);
    qs_data_free(&b->ds);
}

/* Engine against emulation on the whole test split; prints one line per config. */
static void equivalence(bench_model *b, FILE *json)
{
    qs_error err;
    size_t n = b->ds.test.n, c = b->m->classes;
    float *a = malloc(n * c * sizeof *a), *e = malloc(n * c * sizeof *e);
    float *scratch = malloc(qs_model_scratch_floats(b->m) * sizeof *scratch);
    if (!a || !e || !scratch) {
        fprintf(stderr, "engine bench: out of memory\n");
        exit(1);
    }
    qs_quality q;
    if (qs_model_forward(b->m, b->ds.test.x, n, a, scratch, NULL, &err) ||
        qs_quality_compute(&q, a, b->ds.test.y, n, c, &err))
        die("float forward", &err);
    printf("%-10s %-6s accuracy %.4f (float)\n", b->name, "float", q.accuracy);
    qs_quality_free(&q);
    for (int w = 0; w < N_WIDTHS; w++) {
        if (qs_model_forward(b->qm[w].copy, b->ds.test.x, n, a, scratch, &b->qm[w].hooks, &err) ||
            qs_engine_forward_alloc(b->eng[w], b->ds.test.x, n, e, &err) ||
            qs_quality_compute(&q, e, b->ds.test.y, n, c, &err))
            die("forward", &err);
        size_t diff = 0, argmax = 0;
        double maxd = 0;
        for (size_t i = 0; i < n * c; i++) {
            diff += memcmp(&a[i], &e[i], sizeof *a) != 0;
            maxd = fmax(maxd, fabs((double)a[i] - e[i]));
        }
        for (size_t i = 0; i < n; i++)
            argmax += qs_quality_argmax(a + i * c, c) != qs_quality_argmax(e + i * c, c);
        const qs_engine_layer_info *li = NULL;
        for (size_t l = 0; !li && l < qs_engine_n_layers(b->eng[w]); l++)
            if (qs_engine_layer(b->eng[w], l)->kind == QS_LAYER_LINEAR)
                li = qs_engine_layer(b->eng[w], l);
        printf("%-10s w%-5d accuracy %.4f (int engine); vs emulation on %zu test rows: %zu of %zu logits differ, "
               "max |diff| %.3g, %zu predictions differ; %s weights, int%d acc, %zu/%zu layers int\n",
               b->name, WIDTHS[w], q.accuracy, n, diff, n * c, maxd, argmax, qs_kernel_fmt_name(li->wfmt),
               li->acc_bits, qs_engine_n_int(b->eng[w]), qs_engine_n_linear(b->eng[w]));
        if (json)
            fprintf(json,
                    "{\"kind\":\"equivalence\",\"model\":\"%s\",\"config\":\"w%d\",\"rows\":%zu,\"accuracy\":%.6f,"
                    "\"logits_differ\":%zu,\"max_abs_diff\":%.6g,\"predictions_differ\":%zu}\n",
                    b->name, WIDTHS[w], n, q.accuracy, diff, maxd, argmax);
        qs_quality_free(&q);
    }
    free(a), free(e), free(scratch);
}

/* ---- latency ---- */

static void add_case(bench_case *cs, int *n, const bench_model *b, const char *config, const char *path, int batch,
                     const qs_engine *eng, const qs_model *m, const qs_model_hooks *hooks)
{
    bench_case *c = &cs[(*n)++];
    memset(c, 0, sizeof *c);
    snprintf(c->model, sizeof c->model, "%s", b->name);
    snprintf(c->config, sizeof c->config, "%s", config);
    snprintf(c->path, sizeof c->path, "%s", path);
    c->batch = batch;
    c->eng = eng;
    c->m = m;
    c->hooks = hooks;
    c->pool = b->pool;
    c->pool_rows = b->pool_rows;
    c->features = b->m->in_features;
    size_t bytes = eng ? qs_engine_scratch_bytes(eng) : qs_model_scratch_floats(m) * sizeof(float);
    c->scratch = aligned_alloc(64, (bytes + 63) / 64 * 64);
    c->logits = malloc((size_t)batch * b->m->classes * sizeof *c->logits);
    if (!c->scratch || !c->logits) {
        fprintf(stderr, "engine bench: out of memory\n");
        exit(1);
    }
}

static void cases_for(bench_case *cs, int *n, bench_model *b, int batch)
{
    add_case(cs, n, b, "float", "int", batch, b->feng, NULL, NULL);
    add_case(cs, n, b, "float", "emu", batch, NULL, b->m, NULL);
    for (int w = 0; w < N_WIDTHS; w++) {
        char name[16];
        snprintf(name, sizeof name, "w%d", WIDTHS[w]);
        add_case(cs, n, b, name, "int", batch, b->eng[w], NULL, NULL);
        add_case(cs, n, b, name, "emu", batch, NULL, b->qm[w].copy, &b->qm[w].hooks);
    }
}

static double median_of(bench_case *c, int rounds)
{
    double *s = malloc((size_t)rounds * sizeof *s);
    memcpy(s, c->samples, (size_t)rounds * sizeof *s);
    qsort(s, (size_t)rounds, sizeof *s, cmp_dbl);
    double m = rounds % 2 ? s[rounds / 2] : 0.5 * (s[rounds / 2 - 1] + s[rounds / 2]);
    free(s);
    return m;
}

static void measure(bench_case *cs, int n, int rounds)
{
    for (int i = 0; i < n; i++) {
        calibrate(&cs[i]);
        cs[i].samples = malloc((size_t)rounds * sizeof *cs[i].samples);
    }
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++)
            cs[i].samples[r] = sample_case(&cs[i]);
}

static void report(bench_case *cs, int n, int rounds, FILE *json)
{
    printf("\n%-10s %-6s %6s %14s %15s %8s\n", "model", "config", "batch", "engine ns/call", "emulate ns/call",
           "emu/eng");
    for (int i = 0; i < n; i++) {
        bench_case *c = &cs[i];
        double med = median_of(c, rounds) * 1e9;
        if (json)
            fprintf(json, "{\"kind\":\"latency\",\"model\":\"%s\",\"config\":\"%s\",\"engine\":\"%s\",\"batch\":%d,"
                          "\"median_ns\":%.1f,\"rounds\":%d,\"calls_per_sample\":%d}\n",
                    c->model, c->config, c->path, c->batch, med, rounds, c->iters);
        if (strcmp(c->path, "int") == 0 && i + 1 < n) {
            double emu = median_of(&cs[i + 1], rounds) * 1e9;
            printf("%-10s %-6s %6d %14.0f %15.0f %7.1fx\n", c->model, c->config, c->batch, med, emu, emu / med);
        }
    }
}

int main(int argc, char **argv)
{
    int quick = 0, rounds = 15, batch = 256, mlp_epochs = 0;
    const char *npy = NULL, *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = 1, rounds = 3;
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = atoi(argv[++i]);
        else if (strcmp(argv[i], "--npy") == 0 && i + 1 < argc)
            npy = argv[++i];
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc)
            json_path = argv[++i];
        else if (strcmp(argv[i], "--mlp-epochs") == 0 && i + 1 < argc)
            mlp_epochs = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: engine [--quick] [--rounds R] [--batch B] [--npy DIR] [--json FILE] "
                            "[--mlp-epochs N]\n");
            return 2;
        }
    }
    if (rounds < 1 || batch < 1 || batch > POOL_MAX) {
        fprintf(stderr, "engine bench: --rounds >= 1 and --batch 1..%d\n", POOL_MAX);
        return 2;
    }
    (void)quick;
    qs_error err;
    if (qs_kernels_init(&err))
        die("kernels", &err);
    FILE *json = json_path ? fopen(json_path, "w") : NULL;
    if (json_path && !json) {
        fprintf(stderr, "engine bench: cannot write %s\n", json_path);
        return 1;
    }
    bench_model models[2] = {{.name = "jsc-s", .arch = "jsc-s", .data = "letter"},
                             {.name = "mlp", .arch = "mlp:784-1024-1024-10", .data = "fashion-mnist"}};
    load_model(&models[0], 30, 1);
    load_model(&models[1], mlp_epochs, 1);
    printf("# kernels %s; batch 1 and %d; %d rounds; thread CPU time per call, median over rounds\n",
           qs_kernels_active(), batch, rounds);
    for (int k = 0; k < 2; k++) {
        bench_model *b = &models[k];
        if (npy) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s_x.npy", npy, b->name);
            if (qs_npy_write_f32(path, b->pool, b->pool_rows, b->m->in_features, &err))
                die("npy", &err);
        }
        equivalence(b, json);
    }
    static bench_case cs[MAX_CASES];
    int n = 0;
    for (int k = 0; k < 2; k++) {
        cases_for(cs, &n, &models[k], 1);
        cases_for(cs, &n, &models[k], batch);
    }
    measure(cs, n, rounds);
    report(cs, n, rounds, json);
    for (int i = 0; i < n; i++) {
        free(cs[i].scratch);
        free(cs[i].logits);
        free(cs[i].samples);
    }
    if (json)
        fclose(json);
    free_model(&models[0]);
    free_model(&models[1]);
    return 0;
}

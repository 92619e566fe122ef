/* qsearch side of bench/quant_eval.sh: time to quantize a model under one
 * config and evaluate it on a split, in-process, repeated.
 *   quant_eval MODEL.safetensors CONFIG.toml X.npy Y.npy [REPS [MIN_SECONDS]]
 * Setup (load model and split, parse the config, allocate the quantized view)
 * happens once, as in a search; each repetition times
 *   qs_quant_model_apply (copy + quantize parameters)
 *   qs_evaluate (forward with input quantizers over every row, then accuracy,
 *                macro accuracy, Wilson CI, loss, confusion)
 * and also the two parts on their own. Prints one JSON document with medians
 * (CLOCK_MONOTONIC, nanoseconds) and the accuracy. Single-threaded. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "qsearch/evaluate.h"
#include "qsearch/npy.h"
#include "qsearch/quantize.h"
#include "qsearch/safetensors.h"

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The timed loop: one warm-up, then REPS runs, more while under MIN_SECONDS
 * (at most 10 x REPS). Prints the JSON line. */
static int run(qs_quant_model *qm, const qs_quant_config *cfg, const qs_eval_inputs *in, float *logits,
               size_t reps, double min_s)
{
    size_t cap = 10 * reps, r = 0;
    double *t_all = malloc(3 * cap * sizeof *t_all);
    if (!t_all)
        return 1;
    double *t_apply = t_all + cap, *t_eval = t_apply + cap;
    qs_error err;
    qs_quality q = {0};
    double accuracy = 0, start = now_ns();
    for (size_t i = 0; r < cap && (r < reps || now_ns() - start < min_s * 1e9); i++) {
        double t0 = now_ns();
        qs_status st = qs_quant_model_apply(qm, cfg, &err);
        double t1 = now_ns();
        if (st == QS_OK)
            st = qs_evaluate(qm->copy, in, &qm->hooks, logits, &q, &err);
        double t2 = now_ns();
        accuracy = q.accuracy;
        qs_quality_free(&q);
        if (st) {
            fprintf(stderr, "quant_eval: %s\n", err.msg);
            free(t_all);
            return 1;
        }
        if (i == 0)
            continue;
        t_all[r] = t2 - t0;
        t_apply[r] = t1 - t0;
        t_eval[r] = t2 - t1;
        r++;
    }
    printf("{\"peer\": \"qsearch\", \"threads\": 1, \"samples\": %zu, \"runs\": %zu, "
           "\"accuracy\": %.6f, \"median_ns\": %.0f, \"apply_median_ns\": %.0f, "
           "\"evaluate_median_ns\": %.0f}\n",
           in->n, r, accuracy, median(t_all, r), median(t_apply, r), median(t_eval, r));
    free(t_all);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: quant_eval MODEL CONFIG X.npy Y.npy [REPS [MIN_SECONDS]]\n");
        return 2;
    }
    size_t reps = argc > 5 ? (size_t)atol(argv[5]) : 200;
    if (reps < 1)
        reps = 1;
    double min_s = argc > 6 ? atof(argv[6]) : 1.0;
    qs_error err;
    qs_model *m = NULL;
    qs_model_meta meta = {0};
    qs_npy_array x = {0}, y = {0};
    qs_quant_config cfg = {0};
    qs_quant_model qm = {0};
    float *logits = NULL;
    int rc = 1;
    qs_status st = qs_safetensors_load_model(argv[1], &m, &meta, &err);
    if (st == QS_OK)
        st = qs_npy_read(argv[3], &x, &err);
    if (st == QS_OK)
        st = qs_npy_read(argv[4], &y, &err);
    if (st == QS_OK && (x.dtype != QS_NPY_F32 || x.ndim != 2 || x.shape[1] != m->in_features ||
                        y.dtype != QS_NPY_I32 || y.shape[0] != x.shape[0]))
        st = qs_error_set(&err, QS_ERR_INPUT, "want X float32 [n][%zu] and Y int32 [n]", m->in_features);
    if (st == QS_OK)
        st = qs_quant_config_load(&cfg, m, argv[2], &err);
    if (st == QS_OK)
        st = qs_quant_model_init(&qm, m, &err);
    if (st == QS_OK && !(logits = malloc(x.shape[0] * m->classes * sizeof *logits)))
        st = qs_error_set(&err, QS_ERR_NOMEM, "out of memory");
    if (st) {
        fprintf(stderr, "quant_eval: %s\n", err.msg);
        rc = st == QS_ERR_INPUT ? 2 : 1;
    } else {
        qs_eval_inputs in = {.n = x.shape[0], .features = x.shape[1], .x = x.data, .y = y.data};
        rc = run(&qm, &cfg, &in, logits, reps, min_s);
    }
    free(logits);
    qs_quant_model_free(&qm);
    qs_quant_config_free(&cfg);
    qs_npy_free(&x);
    qs_npy_free(&y);
    qs_model_delete(m);
    qs_model_meta_free(&meta);
    return rc;
}

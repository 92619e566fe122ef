/* Integer engine against the emulation path (qs_quant_model + qs_model_forward):
 * bit-identical logits on random models and configs whose float sums are exact,
 * the largest difference reported elsewhere, every kernel path, every step kind
 * (fused and composed elementwise passes, generic quantizers, int32/int64 epilogues,
 * float layers). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/engine_internal.h"
#include "qsearch/engine.h"
#include "qsearch/kernels.h"
#include "qsearch/model.h"
#include "qsearch/quantize.h"
#include "qsearch/rng.h"

/* Random BN statistics and affine so BN is not the identity. */
static void randomize_bn(qs_model *m, qs_rng *r)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        qs_layer *l = &m->layers[i];
        if (l->kind != QS_LAYER_BATCHNORM1D)
            continue;
        for (size_t j = 0; j < l->in.c; j++) {
            l->gamma[j] = (float)(0.5 + qs_rng_uniform(r));
            l->beta[j] = (float)(0.5 * qs_rng_normal(r));
            l->running_mean[j] = (float)(0.3 * qs_rng_normal(r));
            l->running_var[j] = (float)(0.2 + qs_rng_uniform(r));
        }
    }
}

static qs_model *make_model(const char *arch, size_t in, size_t classes, uint64_t seed)
{
    qs_model *m = NULL;
    qs_error err;
    if (qs_model_build(&m, arch, in, classes, seed, &err) != QS_OK) {
        fprintf(stderr, "build %s: %s\n", arch, err.msg);
        return NULL;
    }
    qs_rng r;
    qs_rng_seed(&r, seed + 1);
    randomize_bn(m, &r);
    return m;
}

/* Per-layer integer parameters for a random config. */
typedef struct {
    int a_w, a_f, w_w, w_f, b_w, b_f; /* f = INT32_MIN: "NA" */
} lin_params;

static qs_status set_linear(qs_quant_config *cfg, const qs_model *m, size_t i, const lin_params *p,
                            const char *extra_key, const char *extra_val, qs_error *err)
{
    char v[6][16];
    const int vals[6] = {p->a_w, p->a_f, p->w_w, p->w_f, p->b_w, p->b_f};
    const char *keys[6] = {"data_in_width", "data_in_frac_width", "weight_width", "weight_frac_width",
                           "bias_width", "bias_frac_width"};
    qs_quant_param q[7];
    for (int k = 0; k < 6; k++) {
        if (vals[k] == INT32_MIN)
            snprintf(v[k], sizeof v[k], "NA");
        else
            snprintf(v[k], sizeof v[k], "%d", vals[k]);
        q[k] = (qs_quant_param){keys[k], v[k]};
    }
    size_t n = 6;
    if (extra_key)
        q[n++] = (qs_quant_param){extra_key, extra_val};
    return qs_quant_config_set_layer(cfg, m, i, "integer", q, n, err);
}

static qs_status set_relu(qs_quant_config *cfg, const qs_model *m, size_t i, int w, int f, const char *round,
                          qs_error *err)
{
    char vw[16], vf[16];
    snprintf(vw, sizeof vw, "%d", w);
    snprintf(vf, sizeof vf, "%d", f);
    qs_quant_param q[3] = {{"data_in_width", vw}, {"data_in_frac_width", vf}, {"data_in_round", round}};
    return qs_quant_config_set_layer(cfg, m, i, "integer", q, round ? 3 : 2, err);
}

/* Whether every float sum of the emulated Linear layers is exact (|sum| <= 2^24 in
 * units of 2^-F, F = max(f_a + f_w, f_b)). */
static int exact_in_float(const qs_model *m, const qs_quant_config *cfg)
{
    for (size_t i = 0; i < m->n_layers; i++) {
        const qs_layer_quant *lq = &cfg->layers[i];
        if (m->layers[i].kind != QS_LAYER_LINEAR)
            continue;
        if (!lq->quantized[0] || !lq->quantized[1] || !lq->quantized[2])
            return 0;
        const qs_format_spec *a = &lq->spec[0], *w = &lq->spec[1], *b = &lq->spec[2];
        int fa = qs_format_spec_frac_width(a), fw = qs_format_spec_frac_width(w),
            fb = qs_format_spec_frac_width(b);
        int F = fa + fw > fb ? fa + fw : fb;
        double bound = ldexp((double)m->layers[i].in.c * ldexp(1, a->width - 1) * ldexp(1, w->width - 1),
                             F - fa - fw) +
                       ldexp(ldexp(1, b->width - 1), F - fb);
        if (bound > 0x1p24)
            return 0;
    }
    return 1;
}

/* Emulation logits and engine logits for the same inputs. */
static int run_both(const qs_model *m, const qs_quant_config *cfg, const float *x, size_t n, float *emu,
                    float *eng, qs_engine **keep)
{
    qs_error err;
    qs_quant_model qm;
    int ok = qs_quant_model_init(&qm, m, &err) == QS_OK && qs_quant_model_apply(&qm, cfg, &err) == QS_OK;
    float *scratch = malloc(qs_model_scratch_floats(m) * sizeof *scratch);
    ok = ok && scratch && qs_model_forward(qm.copy, x, n, emu, scratch, &qm.hooks, &err) == QS_OK;
    qs_engine *e = NULL;
    ok = ok && qs_engine_new(&e, m, cfg, &err) == QS_OK;
    ok = ok && qs_engine_forward_alloc(e, x, n, eng, &err) == QS_OK;
    if (!ok)
        fprintf(stderr, "run_both: %s\n", err.msg);
    free(scratch);
    qs_quant_model_free(&qm);
    if (keep && ok)
        *keep = e;
    else
        qs_engine_delete(e);
    return ok;
}

static size_t count_diff(const float *a, const float *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return d;
}

static void random_inputs(float *x, size_t n, qs_rng *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(1.5 * qs_rng_normal(r));
}

static int rand_int(qs_rng *r, int lo, int hi) { return lo + (int)qs_rng_below(r, (uint64_t)(hi - lo + 1)); }

/* A random integer config for every Linear and ReLU of m, widths <= maxw. */
static void random_config(qs_quant_config *cfg, const qs_model *m, qs_rng *r, int maxw, int *ok)
{
    qs_error err;
    for (size_t i = 0; i < m->n_layers; i++) {
        qs_status st = QS_OK;
        if (m->layers[i].kind == QS_LAYER_LINEAR) {
            lin_params p;
            p.a_w = rand_int(r, 2, maxw), p.w_w = rand_int(r, 1, maxw), p.b_w = rand_int(r, 2, maxw + 4);
            p.a_f = qs_rng_below(r, 3) ? rand_int(r, -1, p.a_w + 1) : INT32_MIN;
            p.w_f = qs_rng_below(r, 3) ? rand_int(r, 0, p.w_w + 2) : INT32_MIN;
            p.b_f = qs_rng_below(r, 3) ? rand_int(r, -1, p.b_w + 2) : INT32_MIN;
            st = set_linear(cfg, m, i, &p, NULL, NULL, &err);
        } else if (m->layers[i].kind == QS_LAYER_RELU && qs_rng_below(r, 4)) {
            int w = rand_int(r, 2, maxw);
            st = set_relu(cfg, m, i, w, rand_int(r, 0, w), NULL, &err);
        }
        if (st) {
            fprintf(stderr, "config: %s\n", err.msg);
            *ok = 0;
        }
    }
}

static const struct {
    const char *arch;
    size_t in, classes;
} ARCHS[] = {{"jsc-tiny", 16, 5},         {"jsc-toy", 16, 5}, {"jsc-s", 16, 5},
             {"jsc-three-linear", 16, 5}, {"jsc-s", 16, 26}, {"mlp:13-37-19-7", 13, 7}};
#define N_ARCHS (sizeof ARCHS / sizeof ARCHS[0])

/* Random models and configs with small widths: exact in float, so bit-identical. */
static void test_random_exact(void)
{
    qs_rng r;
    qs_rng_seed(&r, 7);
    size_t n = 67, trials = 0, exact = 0, diffs = 0;
    for (int t = 0; t < 60; t++) {
        qs_model *m = make_model(ARCHS[t % N_ARCHS].arch, ARCHS[t % N_ARCHS].in, ARCHS[t % N_ARCHS].classes,
                                 100 + (uint64_t)t);
        CHECK(m != NULL);
        if (!m)
            return;
        qs_quant_config cfg;
        qs_error err;
        int ok = qs_quant_config_init(&cfg, m, &err) == QS_OK;
        random_config(&cfg, m, &r, 8, &ok);
        float *x = malloc(n * m->in_features * sizeof *x), *a = malloc(n * m->classes * sizeof *a),
              *b = malloc(n * m->classes * sizeof *b);
        random_inputs(x, n * m->in_features, &r);
        ok = ok && run_both(m, &cfg, x, n, a, b, NULL);
        CHECK(ok);
        trials++;
        if (ok && exact_in_float(m, &cfg)) {
            exact++;
            size_t d = count_diff(a, b, n * m->classes);
            diffs += d;
            if (d)
                fprintf(stderr, "  trial %d (%s): %zu logits differ\n", t, m->arch, d);
        }
        free(x), free(a), free(b);
        qs_quant_config_free(&cfg);
        qs_model_delete(m);
    }
    fprintf(stderr, "  %zu random configs, %zu exact in float: %zu logits differ\n", trials, exact, diffs);
    CHECK(exact >= 40);
    CHECK_INT(diffs, 0);
}

/* Largest difference where the emulation's sums are not exact (16-bit configs):
 * the engine's sums are exact and rounded once, the emulation's float sums are not. */
static void wide_case(const char *arch, size_t in, size_t classes, int wf, double in_scale, double *maxrel,
                      size_t *nd, size_t *argmax_diff)
{
    qs_rng r;
    qs_rng_seed(&r, 11);
    size_t n = 300;
    qs_model *m = make_model(arch, in, classes, 3);
    qs_quant_config cfg;
    qs_error err;
    int ok = m && qs_quant_config_init(&cfg, m, &err) == QS_OK;
    for (size_t i = 0; ok && i < m->n_layers; i++) {
        lin_params p = {16, 8, 16, wf, 16, INT32_MIN};
        if (m->layers[i].kind == QS_LAYER_LINEAR)
            ok = set_linear(&cfg, m, i, &p, NULL, NULL, &err) == QS_OK;
        else if (m->layers[i].kind == QS_LAYER_RELU)
            ok = set_relu(&cfg, m, i, 16, 8, NULL, &err) == QS_OK;
    }
    float *x = malloc(n * in * sizeof *x), *a = malloc(n * classes * sizeof *a), *b = malloc(n * classes * sizeof *b);
    random_inputs(x, n * in, &r);
    for (size_t i = 0; i < n * in; i++)
        x[i] *= (float)in_scale;
    qs_engine *e = NULL;
    ok = ok && run_both(m, &cfg, x, n, a, b, &e);
    CHECK(ok);
    *maxrel = 0, *nd = 0, *argmax_diff = 0;
    if (ok) {
        double maxd = 0, maxv = 0;
        for (size_t i = 0; i < n; i++) {
            size_t ia = 0, ib = 0;
            for (size_t c = 0; c < classes; c++) {
                maxd = fmax(maxd, fabs((double)a[i * classes + c] - b[i * classes + c]));
                maxv = fmax(maxv, fabs((double)a[i * classes + c]));
                ia = a[i * classes + c] > a[i * classes + ia] ? c : ia;
                ib = b[i * classes + c] > b[i * classes + ib] ? c : ib;
            }
            *argmax_diff += ia != ib;
        }
        *maxrel = maxd / fmax(maxv, 1e-30);
        *nd = count_diff(a, b, n * classes);
        fprintf(stderr, "  %s 16-bit (weight frac %s): max |logit diff| %.3g (max |logit| %.3g), %zu/%zu logits "
                        "differ, %zu/%zu argmax differ\n",
                arch, wf == INT32_MIN ? "NA" : "14", maxd, maxv, *nd, n * classes, *argmax_diff, n);
        const qs_engine_layer_info *li = NULL;
        for (size_t i = 0; i < qs_engine_n_layers(e) && !li; i++)
            if (qs_engine_layer(e, i)->kind == QS_LAYER_LINEAR)
                li = qs_engine_layer(e, i);
        CHECK(li && li->run == QS_ENGINE_RUN_INT && li->wfmt == QS_KFMT_INT16);
        CHECK(li && li->acc_bits == 64); /* 16 + 16 + ceil(log2 fan_in) > 31 */
    }
    qs_engine_delete(e);
    free(x), free(a), free(b);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

static void test_wide_difference(void)
{
    double rel;
    size_t nd, am;
    wide_case("jsc-s", 16, 5, INT32_MIN, 1.0, &rel, &nd, &am);
    CHECK(rel <= 1e-4);
    CHECK(am <= 3);
    wide_case("mlp:256-256-10", 256, 10, 14, 4.0, &rel, &nd, &am);
    CHECK(rel <= 1e-4);
    CHECK(am <= 3);
    CHECK(nd > 0); /* float sums of 2^30-sized terms do round here */
}

/* Every kernel path, every batch size around the chunk boundary. */
static void test_paths_and_batches(void)
{
    qs_rng r;
    qs_rng_seed(&r, 5);
    qs_model *m = make_model("jsc-s", 16, 26, 9);
    qs_quant_config cfg;
    qs_error err;
    int ok = m && qs_quant_config_init(&cfg, m, &err) == QS_OK;
    const int ww[5] = {8, 4, 2, 1, 12}; /* int8, int4, int2, int1, int16 (int32 acc) */
    size_t li = 0;
    for (size_t i = 0; ok && i < m->n_layers; i++) {
        if (m->layers[i].kind == QS_LAYER_LINEAR) {
            lin_params p = {7, 3, ww[li++ % 5], INT32_MIN, 8, INT32_MIN};
            ok = set_linear(&cfg, m, i, &p, NULL, NULL, &err) == QS_OK;
        } else if (m->layers[i].kind == QS_LAYER_RELU) {
            ok = set_relu(&cfg, m, i, 6, 3, NULL, &err) == QS_OK;
        }
    }
    CHECK(ok && exact_in_float(m, &cfg));
    const size_t ns[] = {1, 3, 64, 65, 200};
    size_t nmax = 200;
    float *x = malloc(nmax * 16 * sizeof *x), *a = malloc(nmax * 26 * sizeof *a),
          *b = malloc(nmax * 26 * sizeof *b);
    random_inputs(x, nmax * 16, &r);
    for (int p = 0; ok && p < QS_KPATH_COUNT; p++) {
        if (!qs_kernels_path_available((qs_kernel_path)p))
            continue;
        CHECK_INT(qs_kernels_select((qs_kernel_path)p, &err), QS_OK);
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            qs_engine *e = NULL;
            CHECK(run_both(m, &cfg, x, ns[k], a, b, &e));
            CHECK_STR(e ? qs_engine_kernel_path(e) : NULL, qs_kernels_path_name((qs_kernel_path)p));
            size_t d = count_diff(a, b, ns[k] * 26);
            if (d)
                fprintf(stderr, "  path %s n=%zu: %zu logits differ\n", qs_kernels_path_name((qs_kernel_path)p),
                        ns[k], d);
            CHECK_INT(d, 0);
            if (e && k == 0) {
                CHECK_INT(qs_engine_n_linear(e), 5);
                CHECK_INT(qs_engine_n_int(e), 5);
                const qs_kernel_fmt want[5] = {QS_KFMT_INT8, QS_KFMT_INT4, QS_KFMT_INT2, QS_KFMT_INT1,
                                               QS_KFMT_INT16};
                for (size_t i = 0, j = 0; i < qs_engine_n_layers(e); i++)
                    if (qs_engine_layer(e, i)->kind == QS_LAYER_LINEAR) {
                        CHECK_INT(qs_engine_layer(e, i)->wfmt, want[j]);
                        CHECK_INT(qs_engine_layer(e, i)->acc_bits, 32);
                        j++;
                    }
            }
            qs_engine_delete(e);
        }
    }
    qs_kernels_init(&err); /* back to the default path */
    free(x), free(a), free(b);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* Generic quantizers (ap_fixed modes), a bias finer than the accumulator, a float layer,
 * and the int64 epilogue: still bit-identical where exact. */
static void test_generic_steps(void)
{
    qs_rng r;
    qs_rng_seed(&r, 21);
    qs_model *m = make_model("jsc-s", 16, 5, 4);
    qs_quant_config cfg;
    qs_error err;
    int ok = m && qs_quant_config_init(&cfg, m, &err) == QS_OK;
    /* linears at 2, 5, 7, 9, 11; relus at 1, 4, 6, 8, 10, 13 */
    lin_params fine = {6, 2, 6, 2, 12, 9}; /* f_b = 9 > f_a + f_w = 4: accumulator shifted by 5 */
    lin_params plain = {8, 4, 8, 4, 8, 4};
    ok = ok && set_linear(&cfg, m, 2, &fine, NULL, NULL, &err) == QS_OK;
    ok = ok && set_linear(&cfg, m, 5, &plain, "data_in_round", "TRN", &err) == QS_OK;
    ok = ok && set_linear(&cfg, m, 7, &plain, "data_in_overflow", "WRAP", &err) == QS_OK;
    /* seq_blocks_9 stays float */
    ok = ok && set_linear(&cfg, m, 11, &plain, "weight_round", "RND_ZERO", &err) == QS_OK;
    ok = ok && set_relu(&cfg, m, 4, 6, 3, "RND", &err) == QS_OK;
    ok = ok && set_relu(&cfg, m, 6, 5, 2, NULL, &err) == QS_OK;
    ok = ok && set_relu(&cfg, m, 13, 8, 4, "TRN_ZERO", &err) == QS_OK;
    CHECK(ok);
    size_t n = 150;
    float *x = malloc(n * 16 * sizeof *x), *a = malloc(n * 5 * sizeof *a), *b = malloc(n * 5 * sizeof *b);
    random_inputs(x, n * 16, &r);
    qs_engine *e = NULL;
    CHECK(ok && run_both(m, &cfg, x, n, a, b, &e));
    CHECK_INT(count_diff(a, b, n * 5), 0);
    if (e) {
        CHECK_INT(qs_engine_n_int(e), 4);
        CHECK_INT(qs_engine_layer(e, 2)->out_shift, 9);
        CHECK_INT(qs_engine_layer(e, 9)->run, QS_ENGINE_RUN_EMULATE);
        char buf[1024];
        qs_engine_describe(e, buf, sizeof buf);
        CHECK_CONTAINS(buf, "seq_blocks_2 linear 16->64: int (int8 weights, int8 acts, int32 acc, 2^-9");
        CHECK_CONTAINS(buf, "seq_blocks_9 linear 32->32: emulate (data_in is float)");
        char tiny[20];
        qs_engine_describe(e, tiny, sizeof tiny);
        CHECK_INT(strlen(tiny), sizeof tiny - 1);
    }
    qs_engine_delete(e);
    free(x), free(a), free(b);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* Float config: the engine is the float forward pass; non-integer formats are emulated. */
static void test_float_and_other_formats(void)
{
    qs_rng r;
    qs_rng_seed(&r, 3);
    qs_model *m = make_model("jsc-toy", 16, 5, 8);
    qs_error err;
    size_t n = 100;
    float *x = malloc(n * 16 * sizeof *x), *a = malloc(n * 5 * sizeof *a), *b = malloc(n * 5 * sizeof *b);
    random_inputs(x, n * 16, &r);
    qs_engine *e = NULL;
    CHECK_INT(qs_engine_new(&e, m, NULL, &err), QS_OK);
    CHECK_INT(qs_engine_forward_alloc(e, x, n, b, &err), QS_OK);
    CHECK_INT(qs_model_forward_alloc(m, x, n, a, &err), QS_OK);
    CHECK_INT(count_diff(a, b, n * 5), 0);
    CHECK_INT(qs_engine_n_int(e), 0);
    qs_engine_delete(e);

    qs_quant_config cfg;
    CHECK_INT(qs_quant_config_init(&cfg, m, &err), QS_OK);
    qs_quant_param mf[6] = {{"data_in_width", "8"}, {"data_in_exponent_width", "4"}, {"weight_width", "6"},
                            {"weight_exponent_width", "3"}, {"bias_width", "8"}, {"bias_exponent_width", "4"}};
    CHECK_INT(qs_quant_config_set_layer(&cfg, m, 2, "minifloat_ieee", mf, 6, &err), QS_OK);
    CHECK_INT(qs_quant_config_set_layer(&cfg, m, 5, "binary", NULL, 0, &err), QS_OK);
    lin_params p = {8, 4, 4, 2, 8, 4};
    CHECK_INT(set_linear(&cfg, m, 8, &p, NULL, NULL, &err), QS_OK);
    e = NULL;
    CHECK(run_both(m, &cfg, x, n, a, b, &e));
    CHECK_INT(count_diff(a, b, n * 5), 0);
    if (e) {
        CHECK_INT(qs_engine_n_int(e), 1);
        CHECK_STR(qs_engine_layer(e, 2)->reason, "data_in is minifloat_ieee");
        CHECK_STR(qs_engine_layer(e, 5)->reason, "data_in is float");
    }
    qs_engine_delete(e);
    qs_quant_config_free(&cfg);
    free(x), free(a), free(b);
    qs_model_delete(m);
}

/* A real-shaped run: jsc-s, letter's shape (16 features, 26 classes), 4000 rows, int8. */
static void test_predictions_agree(void)
{
    qs_rng r;
    qs_rng_seed(&r, 99);
    qs_model *m = make_model("jsc-s", 16, 26, 42);
    qs_quant_config cfg;
    qs_error err;
    int ok = m && qs_quant_config_init(&cfg, m, &err) == QS_OK;
    for (size_t i = 0; ok && i < m->n_layers; i++) {
        lin_params p = {8, INT32_MIN, 8, INT32_MIN, 8, INT32_MIN};
        if (m->layers[i].kind == QS_LAYER_LINEAR)
            ok = set_linear(&cfg, m, i, &p, NULL, NULL, &err) == QS_OK;
        else if (m->layers[i].kind == QS_LAYER_RELU)
            ok = set_relu(&cfg, m, i, 8, 4, NULL, &err) == QS_OK;
    }
    size_t n = 4000;
    float *x = malloc(n * 16 * sizeof *x), *a = malloc(n * 26 * sizeof *a), *b = malloc(n * 26 * sizeof *b);
    random_inputs(x, n * 16, &r);
    CHECK(ok && exact_in_float(m, &cfg));
    CHECK(ok && run_both(m, &cfg, x, n, a, b, NULL));
    CHECK_INT(count_diff(a, b, n * 26), 0);
    free(x), free(a), free(b);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* The composed pass to ints (one rounding, one clamp) against the literal sequence:
 * ReLU quantizer finer, coarser and equal to the next Linear's input, no ReLU quantizer,
 * and NaN/inf/huge inputs, on every path; checks which steps were composed. */
static void test_composed_pass(void)
{
    qs_rng r;
    qs_rng_seed(&r, 31);
    qs_model *m = make_model("jsc-s", 16, 5, 12);
    qs_quant_config cfg;
    qs_error err;
    int ok = m && qs_quant_config_init(&cfg, m, &err) == QS_OK;
    /* relus at 1, 4, 6, 8, 10, 13; linears at 2, 5, 7, 9, 11 */
    lin_params p2 = {8, 5, 6, 3, 8, 4}, p5 = {6, 1, 6, 3, 8, 4}, p7 = {8, 4, 5, 2, 8, 4}, p9 = {7, 3, 4, 2, 8, 4},
               p11 = {8, 4, 8, 4, 8, 4};
    ok = ok && set_relu(&cfg, m, 1, 3, 2, NULL, &err) == QS_OK;  /* f_q 2 < f_i 5: scaled by 8 */
    ok = ok && set_linear(&cfg, m, 2, &p2, NULL, NULL, &err) == QS_OK;
    ok = ok && set_relu(&cfg, m, 4, 8, 4, NULL, &err) == QS_OK;  /* f_q 4 > f_i 1: not composable */
    ok = ok && set_linear(&cfg, m, 5, &p5, NULL, NULL, &err) == QS_OK;
    ok = ok && set_relu(&cfg, m, 6, 8, 4, NULL, &err) == QS_OK;  /* equal fracs */
    ok = ok && set_linear(&cfg, m, 7, &p7, NULL, NULL, &err) == QS_OK;
    /* seq_blocks_8: ReLU without quantizer, then to ints */
    ok = ok && set_linear(&cfg, m, 9, &p9, NULL, NULL, &err) == QS_OK;
    ok = ok && set_relu(&cfg, m, 10, 2, 0, NULL, &err) == QS_OK; /* tiny range, f_i 4: bound 3 * 16 = 48 */
    ok = ok && set_linear(&cfg, m, 11, &p11, NULL, NULL, &err) == QS_OK;
    CHECK(ok && exact_in_float(m, &cfg));
    size_t n = 130;
    float *x = malloc(n * 16 * sizeof *x), *a = malloc(n * 5 * sizeof *a), *b = malloc(n * 5 * sizeof *b);
    random_inputs(x, n * 16, &r);
    x[3] = INFINITY, x[20] = -INFINITY, x[40] = 1e30f, x[41] = -1e30f, x[77] = -0.0f;
    for (int p = 0; ok && p < QS_KPATH_COUNT; p++) {
        if (!qs_kernels_path_available((qs_kernel_path)p))
            continue;
        qs_kernels_select((qs_kernel_path)p, &err);
        qs_engine *e = NULL;
        CHECK(run_both(m, &cfg, x, n, a, b, &e));
        CHECK_INT(count_diff(a, b, n * 5), 0);
        if (e) {
            int fast = 0, slow = 0, scaled = 0;
            for (size_t i = 0; i < e->n_steps; i++)
                if (e->steps[i].kind == QS_ENG_EW && e->steps[i].toint) {
                    fast += e->steps[i].fast;
                    slow += !e->steps[i].fast;
                    scaled += e->steps[i].fast && e->steps[i].fm != 1.0f;
                }
            CHECK_INT(fast, 4);
            CHECK_INT(slow, 1);
            CHECK_INT(scaled, 2); /* seq_blocks_1 -> 2 (x8) and 10 -> 11 (x16) */
        }
        qs_engine_delete(e);
    }
    qs_kernels_init(&err);
    /* NaN: the engine's integer layers read it as 0 (the emulation propagates it) */
    x[5] = NAN;
    qs_engine *e = NULL;
    CHECK_INT(qs_engine_new(&e, m, &cfg, &err), QS_OK);
    CHECK_INT(qs_engine_forward_alloc(e, x, 1, b, &err), QS_OK);
    for (int c = 0; c < 5; c++)
        CHECK(isfinite(b[c]));
    qs_engine_delete(e);
    free(x), free(a), free(b);
    qs_quant_config_free(&cfg);
    qs_model_delete(m);
}

/* qs_engine_new_reuse: layers whose weight format is unchanged copy the packing, the
 * rest are packed anew; results equal a fresh plan and the emulation. */
static void test_reuse(void)
{
    qs_rng r;
    qs_rng_seed(&r, 41);
    qs_model *m = make_model("jsc-s", 16, 5, 13), *other = make_model("jsc-s", 16, 5, 13);
    qs_quant_config a, b;
    qs_error err;
    int ok = m && other && qs_quant_config_init(&a, m, &err) == QS_OK && qs_quant_config_init(&b, m, &err) == QS_OK;
    lin_params p8 = {8, 4, 8, 4, 8, 4}, p4 = {8, 4, 4, 2, 8, 4}, pb = {6, 2, 8, 4, 12, 6}, pw = {12, 6, 8, 4, 8, 4};
    const size_t lin[5] = {2, 5, 7, 9, 11};
    for (int k = 0; ok && k < 5; k++)
        ok = set_linear(&a, m, lin[k], &p8, NULL, NULL, &err) == QS_OK;
    /* b: same weights at 2 and 11 (11 with another data_in and bias), int4 at 5, float at 7,
     * same weight spec at 9 but int16 activations (another container: packed anew) */
    ok = ok && set_linear(&b, m, 2, &p8, NULL, NULL, &err) == QS_OK;
    ok = ok && set_linear(&b, m, 5, &p4, NULL, NULL, &err) == QS_OK;
    ok = ok && set_linear(&b, m, 9, &pw, NULL, NULL, &err) == QS_OK;
    ok = ok && set_linear(&b, m, 11, &pb, NULL, NULL, &err) == QS_OK;
    CHECK(ok);
    size_t n = 70;
    float *x = malloc(n * 16 * sizeof *x), *y1 = malloc(n * 5 * sizeof *y1), *y2 = malloc(n * 5 * sizeof *y2),
          *emu = malloc(n * 5 * sizeof *emu);
    random_inputs(x, n * 16, &r);
    qs_engine *ea = NULL, *eb = NULL, *fresh = NULL, *eo = NULL;
    CHECK_INT(qs_engine_new(&ea, m, &a, &err), QS_OK);
    CHECK_INT(qs_engine_new_reuse(&eb, m, &b, ea, &err), QS_OK);
    CHECK(ok && run_both(m, &b, x, n, emu, y1, &fresh));
    if (ea && eb && fresh) {
        CHECK_INT(qs_engine_forward_alloc(eb, x, n, y2, &err), QS_OK);
        CHECK_INT(count_diff(y1, y2, n * 5), 0);
        CHECK_INT(count_diff(emu, y2, n * 5), 0);
        const int want[12] = {[2] = 1, [11] = 1};
        for (size_t i = 0; i < qs_engine_n_layers(eb); i++)
            if (qs_engine_layer(eb, i)->run == QS_ENGINE_RUN_INT)
                CHECK_INT(qs_engine_layer(eb, i)->reused, want[i]);
        CHECK_INT(qs_engine_layer(eb, 9)->wfmt, QS_KFMT_INT16);
        CHECK_INT(qs_engine_layer(eb, 7)->run, QS_ENGINE_RUN_EMULATE);
        CHECK_INT(qs_engine_layer(fresh, 2)->reused, 0);
        /* an engine of another model object (same weights or not) is not used */
        CHECK_INT(qs_engine_new_reuse(&eo, other, &a, ea, &err), QS_OK);
        CHECK(eo && qs_engine_layer(eo, 2)->reused == 0);
    }
    qs_engine_delete(ea), qs_engine_delete(eb), qs_engine_delete(fresh), qs_engine_delete(eo);
    free(x), free(y1), free(y2), free(emu);
    qs_quant_config_free(&a);
    qs_quant_config_free(&b);
    qs_model_delete(m);
    qs_model_delete(other);
}

static void test_errors(void)
{
    qs_model *m = make_model("jsc-tiny", 16, 5, 1), *m2 = make_model("jsc-toy", 16, 5, 1);
    qs_quant_config cfg;
    qs_error err;
    qs_engine *e = (qs_engine *)&err;
    CHECK_INT(qs_quant_config_init(&cfg, m2, &err), QS_OK);
    CHECK_INT(qs_engine_new(&e, m, &cfg, &err), QS_ERR_INPUT);
    CHECK(e == NULL);
    CHECK_CONTAINS(err.msg, "config has 11 layers");
    qs_quant_config_free(&cfg);
    qs_engine_delete(NULL);
    qs_model_delete(m);
    qs_model_delete(m2);
}

int main(void)
{
    RUN(test_random_exact);
    RUN(test_wide_difference);
    RUN(test_paths_and_batches);
    RUN(test_generic_steps);
    RUN(test_float_and_other_formats);
    RUN(test_predictions_agree);
    RUN(test_composed_pass);
    RUN(test_reuse);
    RUN(test_errors);
    return qs_test_summary();
}

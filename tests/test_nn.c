/* nn: matmul kernels against their scalar twins, each layer's forward against
 * hand values, each layer's backward and the whole loss gradient against
 * central finite differences, the zoo, init, eval forward, hooks, clone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "nn/layers.h"
#include "qsearch/model.h"
#include "qsearch/rng.h"
#include "qsearch/train.h"

static void fill_uniform(qs_rng *r, float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(lo + (hi - lo) * qs_rng_uniform(r));
}

static void test_gemm_matches_ref(void)
{
    qs_rng r;
    qs_rng_seed(&r, 1);
    static float a[64 * 70], b[70 * 70], bias[70], c1[70 * 70], c2[70 * 70];
    size_t sizes[] = {1, 3, 4, 5, 15, 16, 17, 26, 33, 64, 70};
    size_t ns = sizeof sizes / sizeof sizes[0];
    double worst = 0;
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < ns; j++)
            for (size_t k = 0; k < ns; k += 2) {
                size_t n = sizes[i] < 64 ? sizes[i] : 64, K = sizes[j], N = sizes[k];
                fill_uniform(&r, a, n * K, -1, 1);
                fill_uniform(&r, b, K * N, -1, 1);
                fill_uniform(&r, bias, N, -1, 1);
                qs_nn_gemm_nn(a, b, bias, c1, n, K, N);
                qs_nn_gemm_nn_ref(a, b, bias, c2, n, K, N);
                for (size_t t = 0; t < n * N; t++)
                    worst = fmax(worst, fabs(c1[t] - c2[t]));
                /* a as [n][K] = dy, b as [n][N] = x: c = a^T b is [K][N] */
                qs_nn_gemm_tn(a, b, c1, n, K, N);
                qs_nn_gemm_tn_ref(a, b, c2, n, K, N);
                for (size_t t = 0; t < K * N; t++)
                    worst = fmax(worst, fabs(c1[t] - c2[t]));
            }
    /* Same products, same summation order per element: only rounding of separate
     * mul/add vs the reference remains, which is none without contraction. */
    CHECK_NEAR(worst, 0.0, 1e-5);
}

static void test_adam_update_matches_ref(void)
{
    qs_rng r;
    qs_rng_seed(&r, 21);
    enum { N = 1000 + 13 };
    static float p1[N], p2[N], g[N], m1[N], m2[N], v1[N], v2[N];
    fill_uniform(&r, p1, N, -1, 1);
    fill_uniform(&r, m1, N, -0.1, 0.1);
    fill_uniform(&r, v1, N, 0, 0.01);
    memcpy(p2, p1, sizeof p1);
    memcpy(m2, m1, sizeof m1);
    memcpy(v2, v1, sizeof v1);
    for (int step = 0; step < 5; step++) {
        fill_uniform(&r, g, N, -1, 1);
        g[step] = 0.0f;
        float wd = step % 2 ? 0.0f : 1e-2f;
        qs_nn_adam_update(p1, g, m1, v1, N, 0.01f, 0.3f, 0.9f, 0.999f, 1e-8f, wd);
        qs_nn_adam_update_ref(p2, g, m2, v2, N, 0.01f, 0.3f, 0.9f, 0.999f, 1e-8f, wd);
    }
    CHECK(memcmp(p1, p2, sizeof p1) == 0);
    CHECK(memcmp(m1, m2, sizeof m1) == 0);
    CHECK(memcmp(v1, v2, sizeof v1) == 0);
}

static void test_linear_forward_hand(void)
{
    /* w [2][3], b [2]; x [2][3] */
    const float w[] = {1, 2, 3, -1, 0, 0.5f}, b[] = {0.5f, -1};
    const float x[] = {1, 1, 1, 2, -1, 4};
    float y[4], wt[6];
    qs_nn_linear_forward(x, 2, 3, 2, w, b, y, wt);
    CHECK_NEAR(y[0], 6.5, 1e-6);
    CHECK_NEAR(y[1], -1.5, 1e-6);
    CHECK_NEAR(y[2], 2 - 2 + 12 + 0.5, 1e-6);
    CHECK_NEAR(y[3], -2 + 2 - 1, 1e-6);
}

static void test_bn_forward_hand(void)
{
    /* 4 samples, 2 features; feature 0: 1,2,3,4 (mean 2.5, biased var 1.25);
     * feature 1 constant 7 (var 0). */
    const float x[] = {1, 7, 2, 7, 3, 7, 4, 7};
    const float gamma[] = {2, 1}, beta[] = {0.5f, -1};
    float xhat[8], invstd[2], y[8], mean[2], var[2];
    qs_nn_bn_train_forward(x, 4, 2, gamma, beta, 1e-5f, xhat, invstd, y, mean, var);
    CHECK_NEAR(mean[0], 2.5, 1e-6);
    CHECK_NEAR(var[0], 1.25, 1e-6);
    CHECK_NEAR(var[1], 0.0, 1e-6);
    CHECK_NEAR(invstd[0], 1 / sqrt(1.25 + 1e-5), 1e-6);
    CHECK_NEAR(y[0], (1 - 2.5) / sqrt(1.25 + 1e-5) * 2 + 0.5, 1e-5);
    CHECK_NEAR(y[6], (4 - 2.5) / sqrt(1.25 + 1e-5) * 2 + 0.5, 1e-5);
    CHECK_NEAR(y[1], -1.0, 1e-6);
    /* eval mode with running statistics mean 1, var 4 */
    const float rm[] = {1, 7}, rv[] = {4, 1};
    float scale[2], shift[2];
    qs_nn_bn_eval(x, 4, 2, gamma, beta, rm, rv, 1e-5f, y, scale, shift);
    CHECK_NEAR(y[2], (2 - 1) / sqrt(4 + 1e-5) * 2 + 0.5, 1e-6);
    CHECK_NEAR(y[3], -1.0, 1e-6);
}

static void test_relu_hand(void)
{
    const float x[] = {-1, 0, 2.5f, -0.0f};
    const float dy[] = {1, 2, 3, 4};
    float y[4], dx[4];
    qs_nn_relu_forward(x, 4, y);
    CHECK(y[0] == 0 && y[1] == 0 && y[2] == 2.5f && y[3] == 0);
    float nan_in = NAN, nan_out = 0;
    qs_nn_relu_forward(&nan_in, 1, &nan_out);
    CHECK(isnan(nan_out)); /* as torch.relu */
    qs_nn_relu_backward(y, dy, 4, dx);
    CHECK(dx[0] == 0 && dx[1] == 0 && dx[2] == 3 && dx[3] == 0);
}

/* Scalar probe loss L = sum(r .* y) of a layer output, in double. */
static double probe(const float *y, const float *r, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)y[i] * r[i];
    return s;
}

static int grad_close(double fd, double an)
{
    return fabs(fd - an) <= 2e-3 * fmax(1.0, fabs(an)) + 1e-3;
}

static void test_linear_backward_fd(void)
{
    enum { N = 5, IN = 7, OUT = 19 };
    qs_rng rg;
    qs_rng_seed(&rg, 3);
    float x[N * IN], w[OUT * IN], b[OUT], r[N * OUT], y[N * OUT], wt[IN * OUT];
    float dx[N * IN], dw[OUT * IN], db[OUT];
    fill_uniform(&rg, x, N * IN, -1, 1);
    fill_uniform(&rg, w, OUT * IN, -1, 1);
    fill_uniform(&rg, b, OUT, -1, 1);
    fill_uniform(&rg, r, N * OUT, -1, 1);
    qs_nn_linear_backward(x, r, N, IN, OUT, w, dx, dw, db);
    const float h = 1e-2f;
    float *vars[] = {x, w, b}, *grads[] = {dx, dw, db};
    size_t counts[] = {N * IN, OUT * IN, OUT};
    int bad = 0;
    for (int v = 0; v < 3; v++)
        for (size_t i = 0; i < counts[v]; i++) {
            float keep = vars[v][i];
            vars[v][i] = keep + h;
            qs_nn_linear_forward(x, N, IN, OUT, w, b, y, wt);
            double lp = probe(y, r, N * OUT);
            vars[v][i] = keep - h;
            qs_nn_linear_forward(x, N, IN, OUT, w, b, y, wt);
            double lm = probe(y, r, N * OUT);
            vars[v][i] = keep;
            bad += !grad_close((lp - lm) / (2 * h), grads[v][i]);
        }
    CHECK_INT(bad, 0);
}

static void test_bn_backward_fd(void)
{
    enum { N = 6, F = 5 };
    qs_rng rg;
    qs_rng_seed(&rg, 4);
    float x[N * F], g[F], be[F], r[N * F], y[N * F], xhat[N * F], inv[F], mu[F], var[F];
    float dx[N * F], dg[F], db[F];
    fill_uniform(&rg, x, N * F, -2, 2);
    fill_uniform(&rg, g, F, 0.5, 1.5);
    fill_uniform(&rg, be, F, -1, 1);
    fill_uniform(&rg, r, N * F, -1, 1);
    qs_nn_bn_train_forward(x, N, F, g, be, 1e-5f, xhat, inv, y, mu, var);
    qs_nn_bn_backward(xhat, inv, g, r, N, F, dx, dg, db);
    const float h = 1e-3f;
    float *vars[] = {x, g, be}, *grads[] = {dx, dg, db};
    size_t counts[] = {N * F, F, F};
    int bad = 0;
    for (int v = 0; v < 3; v++)
        for (size_t i = 0; i < counts[v]; i++) {
            float keep = vars[v][i];
            vars[v][i] = keep + h;
            qs_nn_bn_train_forward(x, N, F, g, be, 1e-5f, xhat, inv, y, mu, var);
            double lp = probe(y, r, N * F);
            vars[v][i] = keep - h;
            qs_nn_bn_train_forward(x, N, F, g, be, 1e-5f, xhat, inv, y, mu, var);
            double lm = probe(y, r, N * F);
            vars[v][i] = keep;
            if (!grad_close((lp - lm) / (2 * h), grads[v][i])) {
                bad++;
                fprintf(stderr, "bn var %d i %zu fd %g an %g\n", v, i, (lp - lm) / (2 * h),
                        grads[v][i]);
            }
        }
    CHECK_INT(bad, 0);
}

static void test_relu_backward_fd(void)
{
    enum { N = 40 };
    qs_rng rg;
    qs_rng_seed(&rg, 5);
    float x[N], y[N], r[N], dx[N];
    fill_uniform(&rg, x, N, -1, 1);
    fill_uniform(&rg, r, N, -1, 1);
    qs_nn_relu_forward(x, N, y);
    qs_nn_relu_backward(y, r, N, dx);
    const float h = 1e-3f;
    int bad = 0;
    for (size_t i = 0; i < N; i++) {
        if (fabsf(x[i]) < 2 * h)
            continue; /* the kink */
        float keep = x[i];
        x[i] = keep + h;
        qs_nn_relu_forward(x, N, y);
        double lp = probe(y, r, N);
        x[i] = keep - h;
        qs_nn_relu_forward(x, N, y);
        double lm = probe(y, r, N);
        x[i] = keep;
        bad += !grad_close((lp - lm) / (2 * h), dx[i]);
    }
    CHECK_INT(bad, 0);
}

/* Records (compare = 0) or compares (1) the signs of every ReLU input of the
 * trainer's last forward; returns 1 when a sign differs. */
static int relu_mask(const qs_trainer *t, const qs_model *m, size_t n, unsigned char *mask,
                     int compare)
{
    int differ = 0;
    for (size_t i = 0, off = 0; i < m->n_layers; i++) {
        if (m->layers[i].kind != QS_LAYER_RELU)
            continue;
        const float *a = qs_trainer_activation(t, i);
        for (size_t k = 0; k < n * m->layers[i].in.c; k++, off++) {
            unsigned char s = a[k] > 0.0f;
            if (compare)
                differ |= mask[off] != s;
            else
                mask[off] = s;
        }
    }
    return differ;
}

/* Whole-model loss gradient against central differences on every parameter
 * (parameters whose difference straddles a ReLU kink are skipped). */
static void check_model_grad(const char *arch, size_t in, size_t classes, size_t n)
{
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, arch, in, classes, 11, &err), QS_OK);
    if (!m)
        return;
    qs_rng rg;
    qs_rng_seed(&rg, 12);
    float *x = malloc(n * in * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    fill_uniform(&rg, x, n * in, -2, 2);
    for (size_t i = 0; i < n; i++)
        y[i] = (int32_t)qs_rng_below(&rg, classes);
    /* perturb BN affine parameters away from 1/0 so their gradients matter */
    for (size_t i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == QS_LAYER_BATCHNORM1D) {
            fill_uniform(&rg, m->layers[i].gamma, m->layers[i].in.c, 0.5, 1.5);
            fill_uniform(&rg, m->layers[i].beta, m->layers[i].in.c, 0.2, 0.8);
        }
    qs_trainer *t = NULL;
    CHECK_INT(qs_trainer_new(&t, m, n, &err), QS_OK);
    qs_trainer_forward(t, m, x, y, n, NULL);
    qs_trainer_backward(t, m);
    float *an = malloc(m->n_trainable * sizeof *an);
    memcpy(an, qs_trainer_grad(t), m->n_trainable * sizeof *an);
    const float h = 2e-3f;
    int bad = 0, skipped = 0;
    unsigned char *mask = malloc(n * m->max_width * m->n_layers);
    for (size_t p = 0; p < m->n_trainable; p++) {
        float keep = m->params[p];
        m->params[p] = keep + h;
        double lp = qs_trainer_forward(t, m, x, y, n, NULL);
        relu_mask(t, m, n, mask, 0);
        m->params[p] = keep - h;
        double lm = qs_trainer_forward(t, m, x, y, n, NULL);
        m->params[p] = keep;
        if (relu_mask(t, m, n, mask, 1)) {
            skipped++; /* a ReLU input changed sign: the difference straddles a kink */
            continue;
        }
        double fd = (lp - lm) / (2 * h);
        if (fabs(fd - an[p]) > 1e-2 * fabs(an[p]) + 2e-4) {
            bad++;
            fprintf(stderr, "%s param %zu: fd %g analytic %g\n", arch, p, fd, an[p]);
        }
    }
    fprintf(stderr, "  %s: %zu parameters, %d skipped at ReLU kinks\n", arch, m->n_trainable,
            skipped);
    CHECK_INT(bad, 0);
    CHECK(skipped < (int)m->n_trainable / 2);
    free(mask);
    free(an);
    qs_trainer_delete(t);
    free(x);
    free(y);
    qs_model_delete(m);
}

static void test_model_grad_fd(void)
{
    check_model_grad("jsc-toy", 5, 4, 12);
    check_model_grad("jsc-tiny", 6, 3, 9);
    check_model_grad("mlp:4-7-5-3", 4, 3, 10);
    check_model_grad("jsc-s", 3, 4, 16);
}

static void test_zoo(void)
{
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-tiny", 16, 5, 0, &err), QS_OK);
    CHECK_INT(m->n_layers, 4);
    CHECK_INT(m->layers[0].kind, QS_LAYER_BATCHNORM1D);
    CHECK_INT(m->layers[2].kind, QS_LAYER_LINEAR);
    CHECK_STR(m->layers[2].name, "seq_blocks_2");
    CHECK_INT(m->layers[2].in.c, 16);
    CHECK_INT(m->layers[2].out.c, 5);
    CHECK_INT(m->layers[2].in.h, 1);
    CHECK_INT(m->n_trainable, 32 + 16 * 5 + 5);
    CHECK_INT(m->n_params, m->n_trainable + 32);
    CHECK_INT(qs_model_find_layer(m, "seq_blocks_3"), 3);
    CHECK_INT(qs_model_find_layer(m, "seq_blocks_4"), -1);
    qs_model_delete(m);

    CHECK_INT(qs_model_build(&m, "jsc-s", 16, 26, 0, &err), QS_OK);
    CHECK_INT(m->n_layers, 14);
    size_t expect = 32 + (16 * 64 + 64) + 128 + (64 * 32 + 32) + 2 * (32 * 32 + 32) +
                    (32 * 26 + 26) + 52;
    CHECK_INT(m->n_trainable, expect);
    CHECK_INT(m->classes, 26);
    CHECK_INT(m->max_width, 64);
    CHECK_STR(qs_layer_kind_name(m->layers[12].kind), "batch_norm1d");
    qs_model_delete(m);

    CHECK_INT(qs_model_build(&m, "jsc-toy", 16, 5, 0, &err), QS_OK);
    CHECK_INT(m->n_layers, 11);
    CHECK_INT(m->layers[9].kind, QS_LAYER_BATCHNORM1D);
    CHECK_INT(m->layers[9].in.c, 5);
    qs_model_delete(m);

    CHECK_INT(qs_model_build(&m, "jsc-three-linear", 16, 5, 0, &err), QS_OK);
    CHECK_INT(m->n_layers, 8);
    CHECK_INT(m->layers[7].kind, QS_LAYER_RELU);
    qs_model_delete(m);

    CHECK_INT(qs_model_build(&m, "mlp:16-64-32-26", 16, 26, 0, &err), QS_OK);
    CHECK_INT(m->n_layers, 5);
    CHECK_INT(m->layers[4].kind, QS_LAYER_LINEAR);
    CHECK_INT(m->layers[1].kind, QS_LAYER_RELU);
    qs_model_delete(m);
}

static void test_zoo_errors(void)
{
    qs_error err;
    qs_model *m = (qs_model *)1;
    CHECK_INT(qs_model_build(&m, "resnet", 16, 26, 0, &err), QS_ERR_INPUT);
    CHECK(m == NULL);
    CHECK_CONTAINS(err.msg, "unknown model 'resnet'");
    CHECK_CONTAINS(err.msg, "jsc-three-linear");
    CHECK_INT(qs_model_build(&m, "mlp:16-64-32-10", 16, 26, 0, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "output width 10 differs from the dataset's 26 classes");
    CHECK_INT(qs_model_build(&m, "mlp:8-26", 16, 26, 0, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "input width 8 differs from the dataset's 16 features");
    CHECK_INT(qs_model_build(&m, "mlp:16-x-26", 16, 26, 0, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "expected a width");
    CHECK_INT(qs_model_build(&m, "mlp:16-0-26", 16, 26, 0, &err), QS_ERR_INPUT);
    CHECK_INT(qs_model_build(&m, "mlp:16", 16, 26, 0, &err), QS_ERR_INPUT);
    CHECK_INT(qs_model_build(&m, "mlp:16-26-", 16, 26, 0, &err), QS_ERR_INPUT);
    CHECK_INT(qs_model_build(&m, "jsc-s", 0, 26, 0, &err), QS_ERR_INPUT);
}

static void test_init(void)
{
    qs_error err;
    qs_model *a = NULL, *b = NULL, *c = NULL;
    CHECK_INT(qs_model_build(&a, "jsc-s", 16, 26, 7, &err), QS_OK);
    CHECK_INT(qs_model_build(&b, "jsc-s", 16, 26, 7, &err), QS_OK);
    CHECK_INT(qs_model_build(&c, "jsc-s", 16, 26, 8, &err), QS_OK);
    CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    CHECK(memcmp(a->params, c->params, a->n_params * sizeof(float)) != 0);
    const qs_layer *l = &a->layers[5]; /* Linear(64, 32) */
    double bound = 1 / sqrt(64.0), mx = 0, sum = 0;
    for (size_t k = 0; k < 64 * 32; k++) {
        mx = fmax(mx, fabs(l->weight[k]));
        sum += l->weight[k];
    }
    CHECK(mx <= bound && mx > 0.95 * bound);
    CHECK_NEAR(sum / (64 * 32), 0.0, 0.01);
    CHECK(a->layers[0].gamma[3] == 1.0f && a->layers[0].running_var[3] == 1.0f);
    qs_model_delete(a);
    qs_model_delete(b);
    qs_model_delete(c);
}

/* Double-precision reference forward in eval mode. */
static void ref_forward(const qs_model *m, const float *x, size_t n, double *out)
{
    size_t W = m->max_width;
    double *a = malloc(W * sizeof *a), *b = malloc(W * sizeof *b);
    for (size_t s = 0; s < n; s++) {
        for (size_t j = 0; j < m->in_features; j++)
            a[j] = x[s * m->in_features + j];
        for (size_t i = 0; i < m->n_layers; i++) {
            const qs_layer *l = &m->layers[i];
            for (size_t o = 0; o < l->out.c; o++) {
                if (l->kind == QS_LAYER_LINEAR) {
                    double v = l->bias[o];
                    for (size_t k = 0; k < l->in.c; k++)
                        v += (double)l->weight[o * l->in.c + k] * a[k];
                    b[o] = v;
                } else if (l->kind == QS_LAYER_BATCHNORM1D) {
                    b[o] = (a[o] - l->running_mean[o]) / sqrt((double)l->running_var[o] + l->eps) *
                               l->gamma[o] + l->beta[o];
                } else {
                    b[o] = a[o] > 0 ? a[o] : 0;
                }
            }
            double *t = a;
            a = b;
            b = t;
        }
        for (size_t c = 0; c < m->classes; c++)
            out[s * m->classes + c] = a[c];
    }
    free(a);
    free(b);
}

typedef struct {
    int calls[32];
    size_t rows;
    int zero_layer;
} hook_state;

static qs_status count_hook(void *ctx, const qs_model *m, size_t layer, float *x, size_t rows,
                            size_t width, qs_error *err)
{
    (void)err;
    hook_state *h = ctx;
    h->calls[layer]++;
    h->rows += layer == 0 ? rows : 0;
    if (width != m->layers[layer].in.c)
        return qs_error_set(err, QS_ERR_INTERNAL, "bad width");
    if ((int)layer == h->zero_layer)
        memset(x, 0, rows * width * sizeof *x);
    return QS_OK;
}

static qs_status failing_hook(void *ctx, const qs_model *m, size_t layer, float *x, size_t rows,
                              size_t width, qs_error *err)
{
    (void)ctx, (void)m, (void)x, (void)rows, (void)width;
    return layer == 2 ? qs_error_set(err, QS_ERR_INPUT, "hook refused layer %zu", layer) : QS_OK;
}

static void test_forward_and_hooks(void)
{
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-toy", 16, 5, 3, &err), QS_OK);
    qs_rng rg;
    qs_rng_seed(&rg, 9);
    for (size_t i = 0; i < m->n_layers; i++)
        if (m->layers[i].kind == QS_LAYER_BATCHNORM1D) {
            size_t f = m->layers[i].in.c;
            fill_uniform(&rg, m->layers[i].gamma, f, 0.5, 1.5);
            fill_uniform(&rg, m->layers[i].beta, f, -0.5, 0.5);
            fill_uniform(&rg, m->layers[i].running_mean, f, -0.5, 0.5);
            fill_uniform(&rg, m->layers[i].running_var, f, 0.5, 2);
        }
    size_t n = 600; /* more than two chunks */
    float *x = malloc(n * 16 * sizeof *x), *lg = malloc(n * 5 * sizeof *lg);
    double *ref = malloc(n * 5 * sizeof *ref);
    fill_uniform(&rg, x, n * 16, -2, 2);
    float *scratch = malloc(qs_model_scratch_floats(m) * sizeof *scratch);
    CHECK_INT(qs_model_forward(m, x, n, lg, scratch, NULL, &err), QS_OK);
    ref_forward(m, x, n, ref);
    double worst = 0;
    for (size_t i = 0; i < n * 5; i++)
        worst = fmax(worst, fabs(lg[i] - ref[i]));
    CHECK_NEAR(worst, 0.0, 1e-4);

    hook_state h = {.zero_layer = -1};
    qs_model_hooks hooks = {count_hook, &h};
    float *lg2 = malloc(n * 5 * sizeof *lg2);
    CHECK_INT(qs_model_forward(m, x, n, lg2, scratch, &hooks, &err), QS_OK);
    CHECK(memcmp(lg, lg2, n * 5 * sizeof *lg) == 0);
    CHECK_INT(h.calls[0], 3);
    CHECK_INT(h.calls[10], 3);
    CHECK_INT(h.rows, n);
    /* zeroing the input of the last ReLU makes every logit 0; x must not change */
    float x0 = x[0];
    memset(&h, 0, sizeof h);
    h.zero_layer = 0;
    CHECK_INT(qs_model_forward(m, x, n, lg2, scratch, &hooks, &err), QS_OK);
    CHECK(x[0] == x0);
    h.zero_layer = 10;
    CHECK_INT(qs_model_forward(m, x, n, lg2, scratch, &hooks, &err), QS_OK);
    int zeros = 1;
    for (size_t i = 0; i < n * 5; i++)
        zeros &= lg2[i] == 0.0f;
    CHECK(zeros);
    qs_model_hooks bad = {failing_hook, NULL};
    CHECK_INT(qs_model_forward(m, x, n, lg2, scratch, &bad, &err), QS_ERR_INPUT);
    CHECK_STR(err.msg, "hook refused layer 2");
    CHECK_INT(qs_model_forward_alloc(m, x, 7, lg2, &err), QS_OK);
    CHECK(memcmp(lg, lg2, 7 * 5 * sizeof *lg) == 0);
    free(scratch);
    free(x);
    free(lg);
    free(lg2);
    free(ref);
    qs_model_delete(m);
}

static void test_clone_copy(void)
{
    qs_error err;
    qs_model *m = NULL, *c = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-s", 16, 26, 1, &err), QS_OK);
    m->layers[0].num_batches_tracked = 5;
    CHECK_INT(qs_model_clone(&c, m, &err), QS_OK);
    CHECK(c->params != m->params);
    CHECK(c->layers[2].weight == c->params + (m->layers[2].weight - m->params));
    CHECK(c->layers[12].running_var == c->params + (m->layers[12].running_var - m->params));
    CHECK(memcmp(c->params, m->params, m->n_params * sizeof(float)) == 0);
    CHECK_INT(c->layers[0].num_batches_tracked, 5);
    float w = m->layers[2].weight[0];
    c->layers[2].weight[0] = 123.0f;
    CHECK(m->layers[2].weight[0] == w);
    qs_model_copy_params(c, m);
    CHECK(c->layers[2].weight[0] == w);
    qs_model_delete(c);
    qs_model_delete(m);
    qs_model_delete(NULL);
}

int main(void)
{
    RUN(test_gemm_matches_ref);
    RUN(test_adam_update_matches_ref);
    RUN(test_linear_forward_hand);
    RUN(test_bn_forward_hand);
    RUN(test_relu_hand);
    RUN(test_linear_backward_fd);
    RUN(test_bn_backward_fd);
    RUN(test_relu_backward_fd);
    RUN(test_model_grad_fd);
    RUN(test_zoo);
    RUN(test_zoo_errors);
    RUN(test_init);
    RUN(test_forward_and_hooks);
    RUN(test_clone_copy);
    return qs_test_summary();
}

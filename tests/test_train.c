/* train: cross-entropy, Adam against hand-computed steps, BN running
 * statistics, cosine schedule, determinism, learning a separable problem,
 * bad options, NaN loss, progress lines and summary JSON. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "qsearch/log.h"
#include "qsearch/model.h"
#include "qsearch/rng.h"
#include "qsearch/train.h"

static void test_cross_entropy(void)
{
    const float logits[] = {0, 0, 1000, 0, 1, 2, 3, 4};
    const int32_t y[] = {0, 1, 3, 0};
    size_t correct = 0;
    double l = qs_cross_entropy(logits, y, 1, 2, &correct);
    CHECK_NEAR(l, log(2.0), 1e-7);
    /* logit 1000 vs 0, true class 1: loss 1000, no overflow */
    l = qs_cross_entropy(logits + 2, y + 1, 1, 2, &correct);
    CHECK_NEAR(l, 1000.0, 1e-3);
    CHECK_INT(correct, 0);
    /* 4 classes 1..4, true class 3 (the max) */
    double lse = log(exp(1.0) + exp(2.0) + exp(3.0) + exp(4.0));
    l = qs_cross_entropy(logits + 4, y + 2, 1, 4, &correct);
    CHECK_NEAR(l, lse - 4.0, 1e-6);
    CHECK_INT(correct, 1);
}

static void test_adam_hand(void)
{
    qs_adam a;
    qs_error err;
    CHECK_INT(qs_adam_init(&a, 2, &err), QS_OK);
    float p[2] = {1.0f, -2.0f};
    const float g1[2] = {0.5f, 0.0f}, g2[2] = {-1.0f, 3.0f};
    double lr = 0.1, wd = 0.01;
    /* step 1 by hand, torch's formulas: g' = g + wd p */
    double gp0 = 0.5 + 0.01 * 1.0, gp1 = 0.0 + 0.01 * -2.0;
    double m0 = 0.1 * gp0, v0 = 0.001 * gp0 * gp0, m1 = 0.1 * gp1, v1 = 0.001 * gp1 * gp1;
    double e0 = 1.0 - lr / 0.1 * m0 / (sqrt(v0) / sqrt(0.001) + 1e-8);
    double e1 = -2.0 - lr / 0.1 * m1 / (sqrt(v1) / sqrt(0.001) + 1e-8);
    qs_adam_step(&a, p, g1, lr, wd);
    CHECK_NEAR(p[0], e0, 1e-6);
    CHECK_NEAR(p[1], e1, 1e-6);
    CHECK_NEAR(p[0], 0.9, 1e-6); /* the first step moves by lr * sign(g) */
    /* step 2 */
    gp0 = -1.0 + 0.01 * e0;
    gp1 = 3.0 + 0.01 * e1;
    m0 = 0.9 * m0 + 0.1 * gp0;
    v0 = 0.999 * v0 + 0.001 * gp0 * gp0;
    m1 = 0.9 * m1 + 0.1 * gp1;
    v1 = 0.999 * v1 + 0.001 * gp1 * gp1;
    double bc1 = 1 - 0.81, bc2 = 1 - 0.999 * 0.999;
    e0 -= lr / bc1 * m0 / (sqrt(v0) / sqrt(bc2) + 1e-8);
    e1 -= lr / bc1 * m1 / (sqrt(v1) / sqrt(bc2) + 1e-8);
    qs_adam_step(&a, p, g2, lr, wd);
    CHECK_NEAR(p[0], e0, 1e-6);
    CHECK_NEAR(p[1], e1, 1e-6);
    CHECK_INT(a.step, 2);
    qs_adam_free(&a);
    qs_adam_free(&a);
}

static void test_bn_running_stats(void)
{
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-tiny", 2, 2, 0, &err), QS_OK);
    qs_trainer *t = NULL;
    CHECK_INT(qs_trainer_new(&t, m, 4, &err), QS_OK);
    /* feature 0: 1,2,3,6 (mean 3, unbiased var 14/3); feature 1: 0,0,0,4 (mean 1, var 4) */
    const float x[] = {1, 0, 2, 0, 3, 0, 6, 4};
    const int32_t y[] = {0, 1, 0, 1};
    qs_trainer_forward(t, m, x, y, 4, NULL);
    const qs_layer *bn = &m->layers[0];
    CHECK_NEAR(bn->running_mean[0], 0.1 * 3, 1e-6);
    CHECK_NEAR(bn->running_mean[1], 0.1 * 1, 1e-6);
    CHECK_NEAR(bn->running_var[0], 0.9 + 0.1 * 14.0 / 3.0, 1e-6);
    CHECK_NEAR(bn->running_var[1], 0.9 + 0.1 * 4.0, 1e-6);
    CHECK_INT(bn->num_batches_tracked, 1);
    /* the BN output (layer 1's input) uses the biased batch variance */
    const float *a1 = qs_trainer_activation(t, 1);
    CHECK_NEAR(a1[0], (1 - 3) / sqrt(3.5 + 1e-5), 1e-5);
    CHECK_NEAR(a1[7], (4 - 1) / sqrt(3.0 + 1e-5), 1e-5);
    qs_trainer_forward(t, m, x, y, 4, NULL);
    CHECK_NEAR(bn->running_mean[0], 0.9 * 0.3 + 0.1 * 3, 1e-6);
    CHECK_INT(bn->num_batches_tracked, 2);
    qs_trainer_delete(t);
    qs_model_delete(m);
}

/* Four Gaussian blobs in 6-D, one per class, well separated. */
static void make_blobs(qs_split *s, size_t n, uint64_t seed)
{
    qs_rng r;
    qs_rng_seed(&r, seed);
    s->n = n;
    s->x = malloc(n * 6 * sizeof *s->x);
    s->y = malloc(n * sizeof *s->y);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % 4);
        s->y[i] = c;
        for (int j = 0; j < 6; j++)
            s->x[i * 6 + j] = (float)(qs_rng_normal(&r) * 0.5 + (j == c ? 2.0 : 0.0) +
                                      (j == 5 && c == 3 ? -2.0 : 0.0));
    }
}

static void free_split(qs_split *s)
{
    free(s->x);
    free(s->y);
}

static void test_learns_and_schedule(void)
{
    qs_split tr, va;
    make_blobs(&tr, 301, 1); /* 301 = 2 x 128 + 45: a partial last batch */
    make_blobs(&va, 100, 2);
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-toy", 6, 4, 0, &err), QS_OK);
    qs_train_options o;
    qs_train_options_default(&o);
    CHECK_INT(o.epochs, 30);
    CHECK_INT(o.batch, 128);
    CHECK_NEAR(o.lr, 1e-2, 0);
    o.epochs = 10;
    o.log_every_epoch = 0;
    qs_train_result r;
    CHECK_INT(qs_train(m, &tr, &va, &o, &r, &err), QS_OK);
    CHECK_INT(r.epochs, 10);
    CHECK(r.history[9].loss < 0.5 * r.history[0].loss);
    CHECK(r.history[9].val_acc > 0.95);
    CHECK(r.history[9].train_acc > 0.9);
    CHECK_NEAR(r.history[0].lr, 1e-2, 1e-12);
    CHECK_NEAR(r.history[5].lr, 1e-2 * (1 + cos(3.14159265358979323846 * 5 / 10)) / 2, 1e-12);
    CHECK_NEAR(r.history[9].lr, 1e-2 * (1 + cos(3.14159265358979323846 * 9 / 10)) / 2, 1e-12);
    CHECK(r.wall_seconds > 0);
    /* three batches per epoch, each updating every BN's running stats */
    CHECK_INT(m->layers[0].num_batches_tracked, 30);
    char *js = qs_train_summary_json(&o, &r);
    CHECK_CONTAINS(js, "\"epochs\":10");
    CHECK_CONTAINS(js, "\"batch\":128");
    CHECK_CONTAINS(js, "\"optimizer\":\"adam\"");
    CHECK_CONTAINS(js, "\"final_val_acc\":");
    CHECK_CONTAINS(js, "\"wall_seconds\":");
    free(js);
    qs_train_result_free(&r);
    qs_train_result_free(NULL);
    qs_model_delete(m);
    free_split(&tr);
    free_split(&va);
}

static void train_once(uint64_t init_seed, uint64_t seed, float **params, size_t *n)
{
    qs_split tr;
    make_blobs(&tr, 200, 3);
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-s", 6, 4, init_seed, &err), QS_OK);
    qs_train_options o;
    qs_train_options_default(&o);
    o.epochs = 3;
    o.batch = 32;
    o.seed = seed;
    o.weight_decay = 1e-4;
    o.log_every_epoch = 0;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_OK);
    *n = m->n_params;
    *params = malloc(*n * sizeof **params);
    memcpy(*params, m->params, *n * sizeof **params);
    qs_model_delete(m);
    free_split(&tr);
}

static void test_determinism(void)
{
    float *a, *b, *c;
    size_t n;
    train_once(5, 1, &a, &n);
    train_once(5, 1, &b, &n);
    train_once(5, 2, &c, &n);
    CHECK(memcmp(a, b, n * sizeof *a) == 0);
    CHECK(memcmp(a, c, n * sizeof *a) != 0);
    free(a);
    free(b);
    free(c);
}

typedef struct {
    int lines;
    char first[256];
} log_capture;

static void capture(void *ctx, const char *msg)
{
    log_capture *c = ctx;
    if (c->lines++ == 0)
        snprintf(c->first, sizeof c->first, "%s", msg);
}

static void test_progress_lines(void)
{
    qs_split tr;
    make_blobs(&tr, 64, 4);
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "mlp:6-8-4", 6, 4, 0, &err), QS_OK);
    qs_train_options o;
    qs_train_options_default(&o);
    o.epochs = 3;
    log_capture c = {0};
    qs_log_set(capture, &c);
    CHECK_INT(qs_train(m, &tr, &tr, &o, NULL, &err), QS_OK);
    qs_log_set(NULL, NULL);
    CHECK_INT(c.lines, 3);
    CHECK_CONTAINS(c.first, "epoch 1/3  loss ");
    CHECK_CONTAINS(c.first, "  train_acc ");
    CHECK_CONTAINS(c.first, "  val_acc ");
    CHECK_CONTAINS(c.first, "  lr 0.01000  ");
    CHECK_CONTAINS(c.first, " s");
    /* without a validation split the column says so */
    memset(&c, 0, sizeof c);
    qs_log_set(capture, &c);
    o.epochs = 1;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_OK);
    qs_log_set(NULL, NULL);
    CHECK_CONTAINS(c.first, "  val_acc -  lr ");
    qs_model_delete(m);
    free_split(&tr);
}

static void test_bad_input(void)
{
    qs_split tr;
    make_blobs(&tr, 50, 5);
    qs_error err;
    qs_model *m = NULL;
    CHECK_INT(qs_model_build(&m, "jsc-tiny", 6, 4, 0, &err), QS_OK);
    qs_train_options o;
    qs_train_options_default(&o);
    o.log_every_epoch = 0;
    o.epochs = 0;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "epochs 0");
    o.epochs = 1;
    o.lr = -1;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "lr");
    o.lr = 1e-2;
    o.batch = 0;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_ERR_INPUT);
    o.batch = 16;
    tr.y[7] = 4;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "train split: sample 7: label 4 outside 0..3");
    tr.y[7] = 3;
    tr.x[3 * 6 + 2] = NAN;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "sample 3: feature 2 is not finite");
    tr.x[3 * 6 + 2] = 0;
    /* a NaN parameter makes the loss NaN: training stops with a clear error */
    m->layers[2].weight[0] = NAN;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_ERR_INPUT);
    CHECK_CONTAINS(err.msg, "epoch 1 batch 1: loss is NaN");
    qs_model_delete(m);
    /* a last batch of one sample is skipped when the model has BatchNorm */
    CHECK_INT(qs_model_build(&m, "jsc-tiny", 6, 4, 0, &err), QS_OK);
    tr.n = 33;
    o.batch = 16;
    CHECK_INT(qs_train(m, &tr, NULL, &o, NULL, &err), QS_OK);
    CHECK_INT(m->layers[0].num_batches_tracked, 2);
    qs_model_delete(m);
    free_split(&tr);
}

int main(void)
{
    RUN(test_cross_entropy);
    RUN(test_adam_hand);
    RUN(test_bn_running_stats);
    RUN(test_learns_and_schedule);
    RUN(test_determinism);
    RUN(test_progress_lines);
    RUN(test_bad_input);
    return qs_test_summary();
}

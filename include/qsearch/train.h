/* Training: mini-batch Adam (PyTorch's torch.optim.Adam, L2 weight decay added
 * to the gradient), cross-entropy on logits, cosine learning-rate schedule
 * (CosineAnnealingLR, T_max = epochs, stepped per epoch, eta_min 0), shuffled
 * batches from a seeded qs_rng, last partial batch kept. Single-threaded, so
 * bit-for-bit deterministic for a given seed on a given machine. */
#ifndef QSEARCH_TRAIN_H
#define QSEARCH_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/data.h"
#include "qsearch/model.h"
#include "qsearch/status.h"

typedef struct {
    int epochs;             /* 30 */
    double lr;              /* 1e-2 */
    size_t batch;           /* 128 */
    uint64_t seed;          /* 0: batch order */
    double weight_decay;    /* 0 (torch.optim.Adam's L2 term) */
    int log_every_epoch;    /* 1: one qs_log line per epoch */
} qs_train_options;

typedef struct {
    int epoch;              /* 1-based */
    double loss;            /* mean training cross-entropy over the epoch's samples */
    double train_acc;       /* accuracy of the train-mode forward passes of the epoch */
    double val_acc;         /* eval-mode accuracy on val (NAN without a val split) */
    double val_loss;        /* eval-mode mean cross-entropy on val (NAN without one) */
    double lr;              /* learning rate used during the epoch */
    double seconds;         /* wall time of the epoch (training and validation) */
} qs_train_epoch;

typedef struct {
    int epochs;             /* entries of history */
    qs_train_epoch *history;/* [epochs] */
    double wall_seconds;    /* whole run */
} qs_train_result;

/* Fills o with the defaults above. */
void qs_train_options_default(qs_train_options *o);

/* Trains m in place on train (val may be NULL or empty). Bad options or a split
 * whose labels fall outside 0..classes-1 -> QS_ERR_INPUT; a NaN/inf loss stops
 * with QS_ERR_INPUT naming the epoch and batch. result may be NULL. */
qs_status qs_train(qs_model *m, const qs_split *train, const qs_split *val,
                   const qs_train_options *o, qs_train_result *result, qs_error *err);

/* Releases result's history; r may be NULL. */
void qs_train_result_free(qs_train_result *r);

/* The training summary as a JSON object text (malloc'd; NULL on no memory):
 * {"epochs","lr","batch","seed","weight_decay","optimizer","schedule",
 *  "final_loss","final_train_acc","final_val_acc","wall_seconds"}. */
char *qs_train_summary_json(const qs_train_options *o, const qs_train_result *r);

/* Mean cross-entropy and number of correct argmax predictions of logits
 * [n][classes] against y [n] (log-softmax, numerically stable). */
double qs_cross_entropy(const float *logits, const int32_t *y, size_t n, size_t classes,
                        size_t *correct);

/* ---- Lower level: one training step, exposed for tests and custom loops ---- */

typedef struct qs_trainer qs_trainer;

/* Workspace for batches of up to max_batch rows of m (caches, gradients). */
qs_status qs_trainer_new(qs_trainer **out, const qs_model *m, size_t max_batch, qs_error *err);
void qs_trainer_delete(qs_trainer *t);

/* Train-mode forward of x [n][in_features] (n <= max_batch; n >= 2 when m has
 * BatchNorm): BN normalises with batch statistics (biased variance) and updates
 * its running buffers (unbiased variance, momentum); caches what backward
 * needs. Returns the mean cross-entropy against y; *correct (may be NULL)
 * receives the number of correct predictions. */
double qs_trainer_forward(qs_trainer *t, qs_model *m, const float *x, const int32_t *y,
                          size_t n, size_t *correct);

/* Gradient of the last forward's mean loss with respect to every trainable
 * parameter (overwrites the gradient buffer). */
void qs_trainer_backward(qs_trainer *t, const qs_model *m);

/* The logits of the last forward: [n][classes]. */
const float *qs_trainer_logits(const qs_trainer *t);

/* The cached input of layer `layer` in the last forward: [n][in width]. */
const float *qs_trainer_activation(const qs_trainer *t, size_t layer);

/* The gradient buffer: [m->n_trainable], same layout as m->params. */
const float *qs_trainer_grad(const qs_trainer *t);

/* Adam state for n parameters. */
typedef struct {
    size_t n;
    float *m, *v;           /* [n] first and second moments */
    long long step;
    double beta1, beta2, eps;   /* 0.9, 0.999, 1e-8 */
} qs_adam;

qs_status qs_adam_init(qs_adam *a, size_t n, qs_error *err);
void qs_adam_free(qs_adam *a);
/* One torch.optim.Adam step: g += wd * p; m, v updated; p -= lr * mhat / (sqrt(vhat) + eps). */
void qs_adam_step(qs_adam *a, float *params, const float *grad, double lr, double weight_decay);

#endif

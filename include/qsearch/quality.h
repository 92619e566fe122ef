/* Quality metrics of a classifier's logits against labels (DESIGN.md section 7):
 * accuracy, macro accuracy (mean per-class recall over the classes present,
 * torchmetrics' MulticlassAccuracy default), the Wilson 95% interval of the
 * accuracy, mean cross-entropy, and the confusion matrix. State is per call. */
#ifndef QSEARCH_QUALITY_H
#define QSEARCH_QUALITY_H

#include <stddef.h>
#include <stdint.h>

#include "qsearch/status.h"

typedef struct {
    size_t samples;
    size_t classes;
    size_t correct;
    double accuracy;         /* correct / samples */
    double accuracy_macro;   /* mean recall over classes with at least one sample */
    double ci95_lo, ci95_hi; /* Wilson score interval of accuracy, z = 1.959964 */
    double loss;             /* mean -log softmax(logits)[label], in nats */
    size_t nonfinite;        /* samples whose logits held NaN or inf (counted wrong) */
    size_t *confusion;       /* [classes][classes]: row = true class, column = predicted */
} qs_quality;

/* Computes every metric for n samples: logits [n][classes], labels [n].
 * A label outside 0..classes-1 is QS_ERR_INPUT naming the sample. */
qs_status qs_quality_compute(qs_quality *q, const float *logits, const int32_t *labels,
                             size_t n, size_t classes, qs_error *err);

/* Index of the largest finite logit of one row (ties: lowest index); -1 if none is finite. */
int qs_quality_argmax(const float *row, size_t classes);

/* Wilson score interval for k successes out of n at z standard errors. */
void qs_quality_wilson(size_t k, size_t n, double z, double *lo, double *hi);

/* Releases the confusion matrix; q may be NULL. */
void qs_quality_free(qs_quality *q);

#endif

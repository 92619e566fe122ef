#include "qsearch/quality.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959963984540054

int qs_quality_argmax(const float *row, size_t classes)
{
    int best = -1;
    for (size_t c = 0; c < classes; c++)
        if (isfinite(row[c]) && (best < 0 || row[c] > row[best]))
            best = (int)c;
    return best;
}

void qs_quality_wilson(size_t k, size_t n, double z, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0.0;
        *hi = 1.0;
        return;
    }
    double p = (double)k / (double)n, nn = (double)n, z2 = z * z;
    double denom = 1.0 + z2 / nn;
    double centre = (p + z2 / (2.0 * nn)) / denom;
    double half = z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
    *lo = fmax(0.0, centre - half);
    *hi = fmin(1.0, centre + half);
}

/* -log softmax(row)[label], computed stably around the largest logit. */
static double cross_entropy(const float *row, size_t classes, size_t label)
{
    double m = row[0];
    for (size_t c = 1; c < classes; c++)
        m = fmax(m, row[c]);
    double sum = 0.0;
    for (size_t c = 0; c < classes; c++)
        sum += exp((double)row[c] - m);
    return log(sum) + m - (double)row[label];
}

static int row_is_finite(const float *row, size_t classes)
{
    for (size_t c = 0; c < classes; c++)
        if (!isfinite(row[c]))
            return 0;
    return 1;
}

/* Mean recall over the classes present; totals come from the labels, so
 * samples with non-finite logits count as misses. */
static double macro_recall(const size_t *confusion, const int32_t *labels, size_t n, size_t classes,
                           size_t *total_per_class)
{
    for (size_t i = 0; i < n; i++)
        total_per_class[labels[i]]++;
    double sum = 0.0;
    size_t present = 0;
    for (size_t t = 0; t < classes; t++) {
        size_t total = total_per_class[t];
        if (total) {
            sum += (double)confusion[t * classes + t] / (double)total;
            present++;
        }
    }
    return present ? sum / (double)present : 0.0;
}

qs_status qs_quality_compute(qs_quality *q, const float *logits, const int32_t *labels,
                             size_t n, size_t classes, qs_error *err)
{
    memset(q, 0, sizeof *q);
    if (classes == 0)
        return qs_error_set(err, QS_ERR_INPUT, "quality: zero classes");
    q->confusion = calloc(classes * classes, sizeof *q->confusion);
    if (!q->confusion)
        return qs_error_set(err, QS_ERR_NOMEM, "quality: cannot allocate confusion matrix");
    q->samples = n;
    q->classes = classes;
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= classes) {
            qs_quality_free(q);
            return qs_error_set(err, QS_ERR_INPUT, "quality: sample %zu: label %d outside 0..%zu",
                                i, (int)labels[i], classes - 1);
        }
        const float *row = logits + i * classes;
        size_t label = (size_t)labels[i];
        int finite = row_is_finite(row, classes);
        q->nonfinite += !finite;
        int pred = finite ? qs_quality_argmax(row, classes) : -1;
        if (pred >= 0) {
            q->confusion[label * classes + (size_t)pred]++;
            q->correct += (size_t)pred == label;
        }
        loss += cross_entropy(row, classes, label);
    }
    q->accuracy = n ? (double)q->correct / (double)n : 0.0;
    size_t *totals = calloc(classes, sizeof *totals);
    if (!totals) {
        qs_quality_free(q);
        return qs_error_set(err, QS_ERR_NOMEM, "quality: cannot allocate class totals");
    }
    q->accuracy_macro = macro_recall(q->confusion, labels, n, classes, totals);
    free(totals);
    q->loss = n ? loss / (double)n : 0.0;
    qs_quality_wilson(q->correct, n, Z95, &q->ci95_lo, &q->ci95_hi);
    return QS_OK;
}

void qs_quality_free(qs_quality *q)
{
    if (!q)
        return;
    free(q->confusion);
    q->confusion = NULL;
}

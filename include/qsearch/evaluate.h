/* Evaluation of a model on a dataset split: compatibility checks, inputs in
 * the model's own standardisation, forward pass, quality metrics. */
#ifndef QSEARCH_EVALUATE_H
#define QSEARCH_EVALUATE_H

#include <stddef.h>

#include "qsearch/data.h"
#include "qsearch/model.h"
#include "qsearch/quality.h"
#include "qsearch/status.h"

/* Inputs of one split as model m expects them. */
typedef struct {
    size_t n, features;
    const float *x;      /* [n][features]: the split's rows, or `owned` */
    const int32_t *y;    /* [n] */
    float *owned;        /* re-standardised copy when the model's statistics differ; else NULL */
} qs_eval_inputs;

/* Checks that m fits ds (feature count, class count) and prepares split id's
 * inputs: the dataset standardises with its own train statistics; when the
 * model file carries different ones (meta->input_mean/std), rows are mapped
 * back to raw features and standardised as the model was trained.
 * Mismatches are QS_ERR_INPUT naming model_name and the dataset. */
qs_status qs_eval_inputs_prepare(qs_eval_inputs *in, const qs_model *m, const qs_model_meta *meta,
                                 const qs_dataset *ds, qs_split_id id, const char *model_name,
                                 qs_error *err);
void qs_eval_inputs_free(qs_eval_inputs *in);

/* Runs m over in (hooks may be NULL) into logits [n][classes] (caller-owned,
 * may be NULL to use an internal buffer) and computes the quality metrics. */
qs_status qs_evaluate(const qs_model *m, const qs_eval_inputs *in, const qs_model_hooks *hooks,
                      float *logits, qs_quality *q, qs_error *err);

#endif

#include "qsearch/evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 1 when the model's standardisation equals the dataset's (or the model has none). */
static int same_standardisation(const qs_model_meta *meta, const qs_dataset *ds)
{
    if (!meta || !meta->input_mean || !meta->input_std || meta->features != ds->features)
        return 1;
    for (size_t f = 0; f < ds->features; f++)
        if (meta->input_mean[f] != ds->mean[f] || meta->input_std[f] != ds->std[f])
            return 0;
    return 1;
}

static qs_status restandardise(qs_eval_inputs *in, const qs_model_meta *meta, const qs_dataset *ds,
                               qs_error *err)
{
    size_t nf = ds->features;
    in->owned = malloc((in->n ? in->n : 1) * nf * sizeof *in->owned);
    if (!in->owned)
        return qs_error_set(err, QS_ERR_NOMEM, "evaluate: cannot allocate %zu inputs", in->n * nf);
    for (size_t i = 0; i < in->n; i++)
        for (size_t f = 0; f < nf; f++) {
            float raw = in->x[i * nf + f] * ds->std[f] + ds->mean[f];
            in->owned[i * nf + f] = (raw - meta->input_mean[f]) / meta->input_std[f];
        }
    in->x = in->owned;
    return QS_OK;
}

qs_status qs_eval_inputs_prepare(qs_eval_inputs *in, const qs_model *m, const qs_model_meta *meta,
                                 const qs_dataset *ds, qs_split_id id, const char *model_name,
                                 qs_error *err)
{
    memset(in, 0, sizeof *in);
    if (m->in_features != ds->features)
        return qs_error_set(err, QS_ERR_INPUT, "%s: the model takes %zu input features, dataset %s has %zu",
                            model_name, m->in_features, ds->name, ds->features);
    if (m->classes != ds->classes)
        return qs_error_set(err, QS_ERR_INPUT, "%s: the model predicts %zu classes, dataset %s has %zu",
                            model_name, m->classes, ds->name, ds->classes);
    const qs_split *s = qs_data_split(ds, id);
    in->n = s->n;
    in->features = ds->features;
    in->x = s->x;
    in->y = s->y;
    if (same_standardisation(meta, ds))
        return QS_OK;
    for (size_t f = 0; f < ds->features; f++)
        if (!(meta->input_std[f] > 0.0f) || !isfinite(meta->input_mean[f]))
            return qs_error_set(err, QS_ERR_INPUT, "%s: input_std[%zu] must be positive and input_mean finite",
                                model_name, f);
    return restandardise(in, meta, ds, err);
}

void qs_eval_inputs_free(qs_eval_inputs *in)
{
    if (!in)
        return;
    free(in->owned);
    in->owned = NULL;
}

qs_status qs_evaluate(const qs_model *m, const qs_eval_inputs *in, const qs_model_hooks *hooks,
                      float *logits, qs_quality *q, qs_error *err)
{
    float *own = NULL;
    if (!logits) {
        own = malloc((in->n ? in->n : 1) * m->classes * sizeof *own);
        if (!own)
            return qs_error_set(err, QS_ERR_NOMEM, "evaluate: cannot allocate logits");
        logits = own;
    }
    float *scratch = malloc(qs_model_scratch_floats(m) * sizeof *scratch);
    qs_status st = scratch ? QS_OK : qs_error_set(err, QS_ERR_NOMEM, "evaluate: cannot allocate scratch");
    if (st == QS_OK)
        st = qs_model_forward(m, in->x, in->n, logits, scratch, hooks, err);
    if (st == QS_OK)
        st = qs_quality_compute(q, logits, in->y, in->n, m->classes, err);
    free(scratch);
    free(own);
    return st;
}

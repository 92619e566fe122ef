/* Model metadata (what a model file carries besides tensors). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qsearch/model.h"

void qs_model_meta_init(qs_model_meta *meta)
{
    memset(meta, 0, sizeof *meta);
}

void qs_model_meta_free(qs_model_meta *meta)
{
    if (!meta)
        return;
    if (meta->class_names)
        for (size_t i = 0; i < meta->classes; i++)
            free(meta->class_names[i]);
    free(meta->class_names);
    free(meta->input_mean);
    free(meta->input_std);
    free(meta->training);
    qs_model_meta_init(meta);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

qs_status qs_model_meta_from_dataset(qs_model_meta *meta, const qs_dataset *ds, const char *spec,
                                     qs_error *err)
{
    qs_model_meta_free(meta);
    snprintf(meta->dataset, sizeof meta->dataset, "%s", spec ? spec : ds->name);
    if (ds->class_names) {
        meta->class_names = calloc(ds->classes ? ds->classes : 1, sizeof *meta->class_names);
        if (!meta->class_names)
            goto nomem;
        meta->classes = ds->classes;
        for (size_t i = 0; i < ds->classes; i++)
            if (!(meta->class_names[i] = dup_str(ds->class_names[i] ? ds->class_names[i] : "")))
                goto nomem;
    }
    if (ds->mean && ds->std) {
        size_t bytes = (ds->features ? ds->features : 1) * sizeof(float);
        meta->input_mean = malloc(bytes);
        meta->input_std = malloc(bytes);
        if (!meta->input_mean || !meta->input_std)
            goto nomem;
        memcpy(meta->input_mean, ds->mean, ds->features * sizeof(float));
        memcpy(meta->input_std, ds->std, ds->features * sizeof(float));
        meta->features = ds->features;
    }
    return QS_OK;
nomem:
    qs_model_meta_free(meta);
    return qs_error_set(err, QS_ERR_NOMEM, "model metadata: out of memory");
}

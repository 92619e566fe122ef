/* Dataset front end: the DATA spec grammar, the named datasets, options,
 * accessors and the raw-table helpers the loaders share. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_internal.h"

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

void qs_data_options_default(qs_data_options *opt)
{
    opt->seed = 42;
    opt->test_fraction = 0.2;
    opt->val_fraction = 0.2;
    opt->drop_duplicates = 1;
    opt->standardise = 1;
    opt->allow_fetch = 1;
    opt->cache_dir = NULL;
}

char *qs_data_strfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return s;
}

void qs_data_raw_free(qs_data_raw *raw)
{
    if (!raw)
        return;
    free(raw->x);
    free(raw->y);
    if (raw->class_names)
        for (size_t c = 0; c < raw->classes; c++)
            free(raw->class_names[c]);
    free(raw->class_names);
    memset(raw, 0, sizeof *raw);
}

qs_status qs_data_raw_reserve(qs_data_raw *raw, size_t more, qs_error *err)
{
    if (raw->n + more <= raw->cap)
        return QS_OK;
    size_t cap = raw->cap ? raw->cap : 256;
    while (cap < raw->n + more)
        cap *= 2;
    size_t f = raw->features ? raw->features : 1;
    if (cap > SIZE_MAX / sizeof(float) / f)
        return qs_error_set(err, QS_ERR_NOMEM, "out of memory (%zu rows x %zu features)", cap, f);
    float *x = realloc(raw->x, cap * f * sizeof(float));
    if (x)
        raw->x = x;
    int32_t *y = realloc(raw->y, cap * sizeof(int32_t));
    if (y)
        raw->y = y;
    if (!x || !y)
        return qs_error_set(err, QS_ERR_NOMEM, "out of memory (%zu rows x %zu features)", cap, f);
    raw->cap = cap;
    return QS_OK;
}

static qs_status set_names(qs_data_raw *raw, const char *const *names, size_t classes, qs_error *err)
{
    raw->class_names = calloc(classes ? classes : 1, sizeof(char *));
    if (!raw->class_names)
        return qs_error_set(err, QS_ERR_NOMEM, "out of memory (class names)");
    raw->classes = classes;
    for (size_t c = 0; c < classes; c++) {
        raw->class_names[c] = names ? qs_data_strfmt("%s", names[c]) : qs_data_strfmt("%zu", c);
        if (!raw->class_names[c])
            return qs_error_set(err, QS_ERR_NOMEM, "out of memory (class names)");
    }
    return QS_OK;
}

qs_status qs_data_raw_numeric_names(qs_data_raw *raw, size_t classes, qs_error *err)
{
    return set_names(raw, NULL, classes, err);
}

/* The local path of a named dataset, fetching it when allowed. */
static qs_status named_path(const char *name, const qs_data_options *opt, char **path, qs_error *err)
{
    qs_status st = qs_data_locate(name, opt, path, err);
    if (st || *path)
        return st;
    if (!opt->allow_fetch) {
        char *want = NULL;
        qs_data_cached_path(name, opt, &want, NULL);
        qs_error_set(err, QS_ERR_INPUT, "%s: not in the cache (%s); run `qsearch data fetch %s` to download it",
                     name, want ? want : "?", name);
        free(want);
        return QS_ERR_INPUT;
    }
    return qs_data_fetch(name, opt, path, err);
}

/* Named datasets have a known shape; a mismatch means a corrupt cache. */
static qs_status expect_shape(const qs_data_raw *raw, const char *name, const char *path, size_t features,
                              size_t classes, qs_error *err)
{
    if (raw->features == features && raw->classes == classes)
        return QS_OK;
    return qs_error_set(err, QS_ERR_INPUT,
                        "%s: %s has %zu features and %zu classes, expected %zu and %zu "
                        "(delete it and run `qsearch data fetch %s`)",
                        name, path, raw->features, raw->classes, features, classes, name);
}

static qs_status load_fashion(qs_data_raw *raw, const char *dir, qs_dataset *ds, qs_error *err)
{
    static const char *const files[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    qs_status st = QS_OK;
    for (int k = 0; k < 4 && !st; k += 2) {
        char *im = qs_data_strfmt("%s/%s", dir, files[k]), *lb = qs_data_strfmt("%s/%s", dir, files[k + 1]);
        size_t before = raw->n;
        st = (im && lb) ? qs_data_idx_read(raw, im, lb, err) : qs_error_set(err, QS_ERR_NOMEM, "out of memory");
        if (!st && k == 2)
            raw->fixed_test = raw->n - before; /* the official test set */
        free(im);
        free(lb);
    }
    if (st)
        return st;
    for (size_t i = 0; i < raw->n; i++)
        if (raw->y[i] > 9)
            return qs_error_set(err, QS_ERR_INPUT, "fashion-mnist: %s: label %d out of range (0..9)", dir,
                                (int)raw->y[i]);
    for (size_t c = 0; c < raw->classes; c++)
        free(raw->class_names[c]);
    free(raw->class_names);
    raw->class_names = NULL;
    snprintf(ds->source, sizeof ds->source, "%s/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz", dir);
    QS_TRY(set_names(raw, fashion_names, 10, err));
    return expect_shape(raw, "fashion-mnist", dir, 784, 10, err);
}

static qs_status load_named(qs_data_raw *raw, const char *name, const qs_data_options *opt, qs_dataset *ds,
                            qs_error *err)
{
    char *path = NULL;
    qs_status st = named_path(name, opt, &path, err);
    if (st)
        return st;
    if (strcmp(name, "letter") == 0) {
        snprintf(ds->source, sizeof ds->source, "%s", path);
        st = qs_data_csv_read(raw, path, "0", err);
        if (!st)
            st = expect_shape(raw, name, path, 16, 26, err);
    } else if (strcmp(name, "digits") == 0) {
        snprintf(ds->source, sizeof ds->source, "%s", path);
        st = qs_data_csv_read(raw, path, NULL, err);
        if (!st)
            st = expect_shape(raw, name, path, 64, 10, err);
    } else {
        st = load_fashion(raw, path, ds, err);
    }
    free(path);
    return st;
}

/* csv:PATH[:label=COL] */
static qs_status load_csv(qs_data_raw *raw, const char *rest, qs_dataset *ds, qs_error *err)
{
    const char *lab = strstr(rest, ":label=");
    const char *next;
    while (lab && (next = strstr(lab + 1, ":label=")))
        lab = next;
    size_t plen = lab ? (size_t)(lab - rest) : strlen(rest);
    if (plen == 0 || plen >= sizeof ds->source)
        return qs_error_set(err, QS_ERR_INPUT, "csv:%s: expected csv:PATH[:label=COL]", rest);
    memcpy(ds->source, rest, plen);
    ds->source[plen] = '\0';
    const char *label = lab ? lab + 7 : NULL;
    if (label && !*label)
        return qs_error_set(err, QS_ERR_INPUT, "csv:%s: empty label column after label=", rest);
    return qs_data_csv_read(raw, ds->source, label, err);
}

/* idx:IMAGES[:LABELS]; a path that exists as a whole is IMAGES alone. */
static qs_status load_idx(qs_data_raw *raw, const char *rest, qs_dataset *ds, qs_error *err)
{
    char images[sizeof ds->source / 2], labels[sizeof ds->source / 2];
    const char *colon = strrchr(rest, ':');
    if (strlen(rest) >= sizeof images)
        return qs_error_set(err, QS_ERR_INPUT, "idx: path too long");
    if (colon && !qs_data_file_exists(rest)) {
        snprintf(images, sizeof images, "%.*s", (int)(colon - rest), rest);
        snprintf(labels, sizeof labels, "%s", colon + 1);
    } else {
        snprintf(images, sizeof images, "%s", rest);
        char *sib = qs_data_idx_sibling(images);
        if (!sib)
            return qs_error_set(err, QS_ERR_INPUT,
                                "%s: no labels file given and no conventional sibling "
                                "(...-labels-idx1-ubyte[.gz]) found; use idx:IMAGES:LABELS",
                                images);
        snprintf(labels, sizeof labels, "%s", sib);
        free(sib);
    }
    snprintf(ds->source, sizeof ds->source, "%s:%s", images, labels);
    return qs_data_idx_read(raw, images, labels, err);
}

static qs_status load_raw(qs_data_raw *raw, const char *spec, const qs_data_options *opt, qs_dataset *ds,
                          qs_error *err)
{
    if (!spec || !*spec)
        spec = "letter";
    if (!strcmp(spec, "letter") || !strcmp(spec, "digits") || !strcmp(spec, "fashion-mnist")) {
        snprintf(ds->name, sizeof ds->name, "%s", spec);
        return load_named(raw, spec, opt, ds, err);
    }
    if (!strncmp(spec, "csv:", 4)) {
        snprintf(ds->name, sizeof ds->name, "csv");
        return load_csv(raw, spec + 4, ds, err);
    }
    if (!strncmp(spec, "idx:", 4)) {
        snprintf(ds->name, sizeof ds->name, "idx");
        return load_idx(raw, spec + 4, ds, err);
    }
    if (!strncmp(spec, "jsc:", 4)) {
        snprintf(ds->name, sizeof ds->name, "jsc");
        snprintf(ds->source, sizeof ds->source, "%s", spec + 4);
        return qs_data_jsc_read(raw, spec + 4, err);
    }
    return qs_error_set(err, QS_ERR_INPUT,
                        "unknown dataset '%s' (expected letter, digits, fashion-mnist, jsc:PATH.h5, "
                        "csv:PATH[:label=COL] or idx:IMAGES[:LABELS])",
                        spec);
}

qs_status qs_data_load(qs_dataset *ds, const char *spec, const qs_data_options *opt, qs_error *err)
{
    memset(ds, 0, sizeof *ds);
    qs_error_clear(err);
    qs_data_options def;
    if (!opt) {
        qs_data_options_default(&def);
        opt = &def;
    }
    qs_data_raw raw = {0};
    qs_status st = load_raw(&raw, spec, opt, ds, err);
    if (!st)
        st = qs_data_prepare(ds, &raw, opt, err);
    qs_data_raw_free(&raw);
    if (st) {
        char name[sizeof ds->name];
        memcpy(name, ds->name, sizeof name);
        qs_data_free(ds);
        memcpy(ds->name, name, sizeof name);
    }
    return st;
}

qs_status qs_data_from_arrays(qs_dataset *ds, const char *name, const float *x, const int32_t *y, size_t n,
                              size_t features, size_t classes, const qs_data_options *opt, qs_error *err)
{
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "%s", name ? name : "memory");
    snprintf(ds->source, sizeof ds->source, "(memory)");
    if (n == 0 || features == 0 || classes == 0)
        return qs_error_set(err, QS_ERR_INPUT, "%s: empty dataset (%zu rows, %zu features, %zu classes)",
                            ds->name, n, features, classes);
    qs_data_options def;
    if (!opt) {
        qs_data_options_default(&def);
        opt = &def;
    }
    qs_data_raw raw = {.features = features};
    qs_status st = qs_data_raw_reserve(&raw, n, err);
    for (size_t i = 0; !st && i < n; i++) {
        if (y[i] < 0 || (size_t)y[i] >= classes)
            st = qs_error_set(err, QS_ERR_INPUT, "%s: record %zu: label %d out of range (0..%zu)", ds->name, i,
                              (int)y[i], classes - 1);
        for (size_t j = 0; !st && j < features; j++) {
            float v = x[i * features + j];
            if (!(v - v == 0.0f))
                st = qs_error_set(err, QS_ERR_INPUT, "%s: record %zu: feature %zu: not a finite number",
                                  ds->name, i, j);
            raw.x[i * features + j] = v + 0.0f; /* -0 -> +0 */
        }
        raw.y[i] = y[i];
    }
    raw.n = n;
    if (!st)
        st = qs_data_raw_numeric_names(&raw, classes, err);
    if (!st)
        st = qs_data_prepare(ds, &raw, opt, err);
    qs_data_raw_free(&raw);
    if (st)
        qs_data_free(ds);
    return st;
}

const qs_split *qs_data_split(const qs_dataset *ds, qs_split_id id)
{
    switch (id) {
    case QS_SPLIT_TRAIN: return &ds->train;
    case QS_SPLIT_VAL: return &ds->val;
    case QS_SPLIT_TEST: return &ds->test;
    }
    return &ds->test;
}

void qs_data_class_counts(const qs_dataset *ds, qs_split_id id, size_t *counts)
{
    const qs_split *s = qs_data_split(ds, id);
    memset(counts, 0, ds->classes * sizeof *counts);
    for (size_t i = 0; i < s->n; i++)
        counts[s->y[i]]++;
}

qs_status qs_split_parse(const char *s, qs_split_id *id, qs_error *err)
{
    if (s && !strcmp(s, "train"))
        *id = QS_SPLIT_TRAIN;
    else if (s && !strcmp(s, "val"))
        *id = QS_SPLIT_VAL;
    else if (s && !strcmp(s, "test"))
        *id = QS_SPLIT_TEST;
    else
        return qs_error_set(err, QS_ERR_USAGE, "unknown split '%s' (expected train, val or test)", s ? s : "");
    return QS_OK;
}

const char *qs_split_name(qs_split_id id)
{
    switch (id) {
    case QS_SPLIT_TRAIN: return "train";
    case QS_SPLIT_VAL: return "val";
    case QS_SPLIT_TEST: return "test";
    }
    return "?";
}

void qs_data_free(qs_dataset *ds)
{
    if (!ds)
        return;
    qs_data_storage_delete(ds->storage);
    memset(ds, 0, sizeof *ds);
}
